"""Every example parses, typechecks, round-trips through the printer, and
evaluates to its value computed independently with Python's math."""
import math
from pathlib import Path

import pytest

from linear_a.semantics import evaluate, parse_program, show, typecheck
from linear_a.semantics.surface import load_surface_file

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"



def _chain_xw(x, w, n):
    for _ in range(n):
        x = math.sin(x) * w
    return x


# file stem -> [(function, arguments, expected (nl ; lin) from Python math)]
CASES = {
    "seed": [("f", {"x1": 2, "x2": 5}, ((math.log(2) + 2 * 5 - math.sin(5),), ())),
             ("f", {"x1": 0.5, "x2": -1.5}, ((math.log(0.5) + 0.5 * -1.5 - math.sin(-1.5),), ()))],
    "pottier": [("f", {"x0": 3, "x1": 0}, ((6.0,), ())),
                ("f", {"x0": 1.5, "x1": 2.0}, ((1.5 * math.cos(2.0) + 1.5,), ()))],
    "sin": [("f", {"x": 1.0}, ((math.sin(1.0),), ()))],
    "square": [("f", {"x": 3}, ((9.0,), ())), ("f", {"x": -1.25}, ((1.5625,), ()))],
    "pythagoras": [("f", {"x": 0.7}, ((math.sin(0.7) ** 2 + math.cos(0.7) ** 2,), ()))],
    "matvec": [("specific", {"v": [2, 3]}, (((2 * 2 + 7 * 3) * (1 * 2 + 8 * 3),), ())),
               ("matvec2x2", {"m": [[1, 2], [3, 4]], "v": [5, 6]}, (((17.0, 39.0),), ()))],
    "linear": [("g", {"x": 3, "dx": 1, "dy": 2}, ((), (3 * (1 + 2), 2.0))),
               ("g", {"x": -0.5, "dx": 4, "dy": 0.25}, ((), (-0.5 * 4.25, 0.25)))],
    "net": [("net", {"x1": 1, "x2": 2, "w11": 0.5, "w12": -0.3, "w21": 0.8, "w22": 0.1, "u1": 1.5, "u2": -2},
             ((1.5 * math.tanh(0.5 * 1 - 0.3 * 2) - 2 * math.tanh(0.8 * 1 + 0.1 * 2),), ()))],
    "chain": [("f", {"x": 0.5, "w": 1.5},
               ((1.5 * math.sin(1.5 * math.sin(1.5 * math.sin(0.5))),), ()))],
    "euler": [("euler", {"x0": 1.0, "y0": 0.5, "a": 1.1, "b": 0.4, "c": 0.4, "d": 0.1},
               ((None,), ()))],      # filled in below: Python's own Euler loop
    "chain_xw": [("f", {"x": 0.5, "w": 1.5}, ((_chain_xw(0.5, 1.5, 20),), ()))],
    "rnn": [("rnn", {"h0": 0.0, "w": 0.9, "u": 0.5, "b": -0.1, "v": 1.3}, ((None,), ())),
            ("rnn", {"h0": 0.3, "w": -1.2, "u": 2.0, "b": 0.25, "v": -0.7}, ((None,), ()))],
}


def _euler(x0, y0, a, b, c, d):
    x, y = x0, y0
    for _ in range(200):
        x, y = x + 0.01 * (a * x - b * x * y), y + 0.01 * (d * x * y - c * y)
    return x + y


CASES["euler"] = [(fn, args, ((_euler(**args),), ())) for fn, args, _ in CASES["euler"]]


def _rnn(h0, w, u, b, v):
    h = h0
    for i in range(100):
        h = math.tanh(w * h + u * math.sin(0.1 * i) + b)
    return (v * h - 0.5) ** 2


CASES["rnn"] = [(fn, args, ((_rnn(**args),), ())) for fn, args, _ in CASES["rnn"]]


def close(a, b):
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def load_la(stem):
    path = EXAMPLES / f"{stem}.la"
    return parse_program(path.read_text(encoding="utf-8"), str(path))


def test_every_example_file_is_covered():
    stems = {p.stem for p in EXAMPLES.glob("*.la")} | {p.stem for p in EXAMPLES.glob("*.py")}
    assert stems == set(CASES)
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for p in list(EXAMPLES.glob("*.la")) + list(EXAMPLES.glob("*.py")):
        assert f"`{p.name}`" in readme, f"{p.name} is not listed in examples/README.md"
        assert p.read_text(encoding="utf-8").startswith("#"), f"{p.name} has no header comment"


@pytest.mark.parametrize("stem", sorted(CASES))
def test_core_example(stem):
    prog = load_la(stem)
    typecheck(prog)
    for fn, args, (nl, lin) in CASES[stem]:
        r = evaluate(prog, fn, args)
        assert close(r.nl, nl) and close(r.lin, lin), (fn, args, r.nl, r.lin)


@pytest.mark.parametrize("stem", sorted(CASES))
def test_print_parse_round_trip(stem):
    prog = load_la(stem)
    text = show(prog)
    again = parse_program(text, "printed.la")
    assert show(again) == text
    typecheck(again)
    for fn, args, _ in CASES[stem]:
        assert evaluate(again, fn, args).outputs == evaluate(prog, fn, args).outputs


@pytest.mark.parametrize("stem", sorted(s for s in CASES if (EXAMPLES / f"{s}.py").exists()))
def test_surface_example_matches(stem):
    prog = load_surface_file(str(EXAMPLES / f"{stem}.py"))
    typecheck(prog)
    core = load_la(stem)
    assert prog.names == core.names
    for d, c in zip(prog.defs, core.defs):
        assert d.signature == c.signature
    for fn, args, (nl, lin) in CASES[stem]:
        r = evaluate(prog, fn, args)
        assert close(r.nl, nl) and close(r.lin, lin)


def test_seed_table_values():
    """SPEC §13: the primal column of the seed article, to 3 decimals."""
    prog = load_la("seed")
    r = evaluate(prog, "f", {"x1": 2, "x2": 5}, derive=True)
    values = [p.result[0][0] for p in r.derivation.premises[0].premises[:-1]]
    assert [round(v, 3) for v in values] == [0.693, 10.0, -0.959, 10.693]
    assert round(r.nl[0], 3) == 11.652


def test_matvec_gradient_by_central_differences():
    """SPEC §13: the gradient of specific at (2, 3) is (77, 382) -- checked
    here on the example itself (no transform involved) by central differences."""
    prog = load_la("matvec")
    h = 1e-4
    f = lambda a, b: evaluate(prog, "specific", {"v": [a, b]}).nl[0]
    g = ((f(2 + h, 3) - f(2 - h, 3)) / (2 * h), (f(2, 3 + h) - f(2, 3 - h)) / (2 * h))
    assert math.isclose(g[0], 77, rel_tol=1e-8) and math.isclose(g[1], 382, rel_tol=1e-8)


def test_linear_example_is_linear():
    """linear.la's outputs are linear in (dx, dy): g(a·u + b·v) = a·g(u) + b·g(v)."""
    prog = load_la("linear")
    g = lambda dx, dy: evaluate(prog, "g", {"x": 1.7, "dx": dx, "dy": dy}).lin
    u, v, a, b = (1.0, -2.0), (0.5, 3.0), 2.0, -0.75
    lhs = g(a * u[0] + b * v[0], a * u[1] + b * v[1])
    rhs = tuple(a * p + b * q for p, q in zip(g(*u), g(*v)))
    assert close(lhs, rhs)
