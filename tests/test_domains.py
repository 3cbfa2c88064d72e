"""One evaluator, three number domains (SPEC §4): the same program evaluated on
floats, on sympy numbers and symbols, and on z3 terms gives the same function.

The z3 domain leaves transcendental primitives uninterpreted; to compare its
result with floats we evaluate the returned term ourselves, giving each
uninterpreted function its real meaning from Python's math."""
import math
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
import z3

from linear_a.semantics import evaluate, parse_program
from linear_a.semantics.domains import get_domain

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

POINTS = [
    ("seed", "f", {"x1": 2, "x2": 5}),
    ("seed", "f", {"x1": 0.5, "x2": -1.25}),
    ("pottier", "f", {"x0": 1.5, "x1": 2}),
    ("sin", "f", {"x": 0.3}),
    ("square", "f", {"x": -1.75}),
    ("pythagoras", "f", {"x": 0.7}),
    ("matvec", "specific", {"v": [2, 3]}),
    ("matvec", "matvec2x2", {"m": [[1, 2], [3, 4]], "v": [0.5, -2]}),
    ("linear", "g", {"x": 3, "dx": 1, "dy": 2}),
    ("chain", "f", {"x": 0.5, "w": 1.5}),
]

RATIONAL = """
def r(x: real, y: real) -> (real, real ;) =
  let (a ;) = x * y in
  let (b ;) = a - x in
  let (one ;) = 1 in
  let (c ;) = y + one in
  let (q ;) = b / c in
  let (n ;) = neg(q) in
  (q, n ;)
"""


def load(stem):
    path = EXAMPLES / f"{stem}.la"
    return parse_program(path.read_text(encoding="utf-8"), str(path))


def flat(v):
    if isinstance(v, tuple):
        out = []
        for x in v:
            out.extend(flat(x))
        return out
    return [v]


MATH = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log,
        "sqrt": math.sqrt, "tanh": math.tanh, "pow": math.pow,
        "sigmoid": lambda x: 1 / (1 + math.exp(-x))}


def z3_float(t):
    """A z3 real term to a float, interpreting the uninterpreted primitives with math."""
    if z3.is_rational_value(t):
        return t.numerator_as_long() / t.denominator_as_long()
    if z3.is_algebraic_value(t):
        return float(t.approx(30).as_fraction())
    k = t.decl().kind()
    args = [z3_float(c) for c in t.children()]
    if k == z3.Z3_OP_ADD:
        return math.fsum(args)
    if k == z3.Z3_OP_MUL:
        return math.prod(args)
    if k == z3.Z3_OP_SUB:
        return args[0] - math.fsum(args[1:])
    if k == z3.Z3_OP_DIV:
        return args[0] / args[1]
    if k == z3.Z3_OP_UMINUS:
        return -args[0]
    if k == z3.Z3_OP_TO_REAL:
        return args[0]
    if k == z3.Z3_OP_UNINTERPRETED:
        return MATH[t.decl().name()](*args)
    raise AssertionError(f"unexpected z3 term {t}")


@pytest.mark.parametrize("stem, fn, args", POINTS)
def test_float_equals_sympy_numerically(stem, fn, args):
    prog = load(stem)
    f = evaluate(prog, fn, args)
    s = evaluate(prog, fn, args, domain="sympy")
    assert f.work == s.work and f.memory == s.memory
    fv, sv = flat(f.outputs), flat(s.outputs)
    assert len(fv) == len(sv)
    for a, b in zip(fv, sv):
        assert isinstance(b, sympy.Basic)
        assert math.isclose(a, float(sympy.N(b, 30)), rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("stem, fn, args", POINTS)
def test_float_equals_z3_under_the_real_interpretation(stem, fn, args):
    prog = load(stem)
    f = evaluate(prog, fn, args)
    z = evaluate(prog, fn, args, domain="z3")
    assert f.work == z.work
    for a, b in zip(flat(f.outputs), flat(z.outputs)):
        assert z3.is_expr(b)
        assert math.isclose(a, z3_float(b), rel_tol=1e-12, abs_tol=1e-12)


def test_seed_symbolically_equals_its_formula():
    prog = load("seed")
    dom = get_domain("sympy")
    x1, x2 = dom.symbol("x1"), dom.symbol("x2")
    (v,) = evaluate(prog, "f", {"x1": x1, "x2": x2}, domain=dom).nl
    assert sympy.simplify(v - (sympy.log(x1) + x1 * x2 - sympy.sin(x2))) == 0


def test_pythagoras_is_one_symbolically():
    prog = load("pythagoras")
    dom = get_domain("sympy")
    x = dom.symbol("x")
    (v,) = evaluate(prog, "f", {"x": x}, domain=dom).nl
    assert sympy.simplify(v) == 1


@pytest.mark.parametrize("x, y", [(2, 3), (Fraction(1, 3), Fraction(-5, 7)), (-4, Fraction(1, 2))])
def test_rational_program_is_exact_in_all_three_domains(x, y):
    prog = parse_program(RATIONAL, "rational.la")
    x, y = Fraction(x), Fraction(y)
    want = (x * y - x) / (y + 1)
    s = evaluate(prog, "r", {"x": sympy.Rational(str(x)), "y": sympy.Rational(str(y))}, domain="sympy")
    assert s.nl == (sympy.Rational(want.numerator, want.denominator),
                    -sympy.Rational(want.numerator, want.denominator))
    dom = get_domain("z3")
    z = evaluate(prog, "r", {"x": dom.const(str(x)), "y": dom.const(str(y))}, domain=dom)
    for term, expect in zip(z.nl, (want, -want)):
        val = z3.simplify(term)
        assert z3.is_rational_value(val)
        assert Fraction(val.numerator_as_long(), val.denominator_as_long()) == expect
    f = evaluate(prog, "r", {"x": float(x), "y": float(y)})
    assert math.isclose(f.nl[0], float(want), rel_tol=1e-12)


def test_rational_program_symbolically_in_z3():
    prog = parse_program(RATIONAL, "rational.la")
    dom = get_domain("z3")
    x, y = dom.symbol("x"), dom.symbol("y")
    q, n = evaluate(prog, "r", {"x": x, "y": y}, domain=dom).nl
    s = z3.Solver()
    s.set("timeout", 10_000)
    s.add(y != -1, z3.Or(q != (x * y - x) / (y + 1), n != -q))
    result = s.check()
    assert result != z3.unknown, "z3 could not decide (unknown): not a pass"
    assert result == z3.unsat
