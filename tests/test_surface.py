"""The surface front end (semantics/surface.py, SPEC §6): tracing Python into
Linear A gives well-typed programs computing what the Python functions compute."""
import math
from pathlib import Path

import pytest

from linear_a.semantics import (Call, InputError, LinearAError, ParseError, Prim, evaluate, parse_program,
                       show, typecheck)
from linear_a.semantics.surface import (TraceError, cos, exp, linear_a, linear_a_function, ln, load_surface_file,
                               log, pow, sigmoid, sin, sqrt, tan, tanh, trace, trace_many)
from linear_a.semantics.syntax import Lit, NUnpack, iter_nodes

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def ops(prog, fn=None):
    out = []
    for d in prog.defs:
        if fn is None or d.name == fn:
            out += [n for n in iter_nodes(d.body) if type(n) in (Prim, Call)]
    return out


def agrees(prog, fn, pyfn, *args):
    params = [p.name for p in prog[fn].params]
    got = evaluate(prog, fn, dict(zip(params, args))).nl
    want = pyfn(*[float(a) if not isinstance(a, (list, tuple)) else a for a in args])
    assert _close(got, (_tup(want),)), (got, want)    # one non-linear result


def _tup(v):
    return tuple(_tup(x) for x in v) if isinstance(v, (list, tuple)) else v


def _close(a, b):
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


# -- basic tracing ---------------------------------------------------------------

def test_seed_function_traces_to_one_let_per_operation():
    def f(x1, x2):
        return ln(x1) + x1 * x2 - sin(x2)
    prog = trace(f)
    typecheck(prog)
    assert [n.op for n in ops(prog)] == ["log", "*", "+", "sin", "-"]
    agrees(prog, "f", f, 2, 5)
    assert round(evaluate(prog, "f", {"x1": 2, "x2": 5}).nl[0], 3) == 11.652
    assert show(parse_program(show(prog))) == show(prog)


def test_every_primitive_function_traces_and_computes_like_math():
    def f(x):
        return (sin(x) + cos(x) + tan(x) + exp(x) + log(x) + ln(x) + sqrt(x) + tanh(x)
                + sigmoid(x) + pow(x, 1.5) - x / 3)
    prog = trace(f)
    typecheck(prog)
    assert {n.op for n in ops(prog)} == {"sin", "cos", "tan", "exp", "log", "sqrt", "tanh",
                                        "sigmoid", "pow", "+", "-", "/"}
    x = 0.8
    want = (math.sin(x) + math.cos(x) + math.tan(x) + math.exp(x) + 2 * math.log(x) + math.sqrt(x)
            + math.tanh(x) + 1 / (1 + math.exp(-x)) + x ** 1.5 - x / 3)
    assert math.isclose(f(x), want, rel_tol=1e-13)          # plain floats: math
    assert math.isclose(evaluate(prog, "f", {"x": x}).nl[0], want, rel_tol=1e-13)


def test_literals_are_repr_of_python_numbers():
    def f(x):
        return 2 * x + 0.25 - (-3) / x
    prog = trace(f)
    lits = [n.text for n in iter_nodes(prog.defs[0].body) if type(n) is Lit]
    assert lits == ["2", "0.25", "-3"]
    agrees(prog, "f", f, 1.5)


def test_unary_minus_and_reflected_operators():
    def f(x, y):
        return -x + 1 - y, 2 / x, 3 - y, 2 ** y
    prog = trace(f)
    typecheck(prog)
    agrees(prog, "f", f, 1.5, 0.5)


def test_small_integer_powers_become_multiplications():
    def f(x):
        return x ** 2 + x ** 5 + x ** 1
    prog = trace(f)
    assert {n.op for n in ops(prog)} == {"*", "+"}
    assert sum(1 for n in ops(prog) if n.op == "*") == 1 + 3   # x², and x⁵ by square-and-multiply
    agrees(prog, "f", f, -1.5)          # a negative base is fine: no pow


def test_other_powers_use_pow():
    def f(x, y):
        return x ** 0.5 + x ** y + x ** -2 + x ** 40
    prog = trace(f)
    assert sum(1 for n in ops(prog) if n.op == "pow") == 4
    agrees(prog, "f", f, 1.3, 0.7)


def test_loops_are_unrolled():
    def f(x, w):
        for _ in range(10):
            x = sin(x) * w
        return x
    prog = trace(f)
    typecheck(prog)
    assert [n.op for n in ops(prog)] == ["sin", "*"] * 10
    assert len(prog.defs[0].body.binds) == 19
    agrees(prog, "f", f, 0.3, 1.1)


def test_unused_parameters_and_values_are_dropped():
    def f(x, y):
        exp(x)              # computed, never used
        return sin(x)
    prog = trace(f)
    typecheck(prog)
    drops = [n.v for n in iter_nodes(prog.defs[0].body) if type(n).__name__ == "Drop"]
    assert sorted(drops) == ["v1", "y"]
    agrees(prog, "f", f, 0.4, 7)


def test_constant_and_identity_functions():
    prog = trace_many([lambda x: 2.5, lambda x: x])
    typecheck(prog)
    assert len(prog.defs) == 2 and prog.defs[0].name != prog.defs[1].name
    assert evaluate(prog, prog.defs[0].name, {"x": 9}).nl == (2.5,)
    assert evaluate(prog, prog.defs[1].name, {"x": 9}).nl == (9.0,)


def test_tuple_results_become_nonlinear_tuples():
    def f(x, y):
        return [x * y, (sin(x), 1.0)]
    prog = trace(f)
    typecheck(prog)
    assert repr(prog.defs[0].nl_out[0]) == "(real, (real, real))"
    agrees(prog, "f", f, 0.5, 2)


def test_tuple_parameters_from_annotations():
    def f(p: tuple[float, float], q, r):
        a, b = p
        c, (d, e) = q
        return a * b + c * d * e + r
    f.__annotations__["q"] = "(real, (real, real))"     # a Linear A type, as a string
    prog = trace(f)
    typecheck(prog)
    assert [repr(p.ty) for p in prog.defs[0].params] == ["(real, real)", "(real, (real, real))", "real"]
    assert sum(1 for n in iter_nodes(prog.defs[0].body) if type(n) is NUnpack) == 3
    agrees(prog, "f", f, (1, 2), (3, (4, 5)), 6)


def test_bad_annotation_is_a_trace_error():
    def f(x: str):
        return x
    with pytest.raises(TraceError) as e:
        trace(f)
    assert "annotation" in e.value.message and e.value.pos is not None


# -- helpers become calls ------------------------------------------------------------

@linear_a
def _sq_plus(a, b):
    return a * a + b


@linear_a_function
def _uses_helper(x, y):
    return _sq_plus(x, y) * _sq_plus(y, 2.0)


def test_marked_helpers_become_calls_and_their_own_definitions():
    prog = trace(_uses_helper)
    typecheck(prog)
    assert prog.names == ["_sq_plus", "_uses_helper"]           # callee first
    calls = [n for n in ops(prog, "_uses_helper") if type(n) is Call]
    assert [c.fn for c in calls] == ["_sq_plus", "_sq_plus"]
    agrees(prog, "_uses_helper", _uses_helper, 1.5, -0.5)
    # called on floats, the marked function is just the Python function
    assert _uses_helper(1.5, -0.5) == (1.5 * 1.5 - 0.5) * (0.25 + 2.0)


def test_helper_with_constant_arguments_is_computed_in_python():
    def f(x):
        return x * _sq_plus(2.0, 1.0)
    prog = trace(f)
    assert prog.names == ["f"]
    agrees(prog, "f", f, 1.25)


def test_unmarked_helpers_are_inlined():
    def poly(a):
        return a * a - a
    def f(x):
        return poly(poly(x))
    prog = trace(f)
    assert prog.names == ["f"] and all(type(n) is Prim for n in ops(prog))
    agrees(prog, "f", f, 1.7)


def test_matvec_surface_example():
    prog = load_surface_file(str(EXAMPLES / "matvec.py"))
    typecheck(prog)
    assert prog.names == ["matvec2x2", "specific"]
    assert [c.fn for c in ops(prog, "specific") if type(c) is Call] == ["matvec2x2"]
    assert evaluate(prog, "specific", {"v": [2, 3]}).nl == (650.0,)


def test_traced_program_keeps_user_positions():
    def f(x):
        return log(x)
    prog = trace(f)
    with pytest.raises(LinearAError) as e:
        evaluate(prog, "f", {"x": -1})
    assert e.value.file == __file__
    assert e.value.pos.line == f.__code__.co_firstlineno + 1


# -- what straight-line code cannot do ------------------------------------------------

@pytest.mark.parametrize("body", [
    lambda x: x if x > 0 else -x,
    lambda x: 1.0 if x else 0.0,
    lambda x: bool(x),
    lambda x: float(x),
    lambda x: math.sin(x),
    lambda x: x == 1,
    lambda x: abs(x),
    lambda x: x[0],
    lambda x: x % 2,
])
def test_looking_at_a_traced_value_is_a_trace_error(body):
    with pytest.raises(TraceError) as e:
        trace(body)
    assert isinstance(e.value, LinearAError)
    assert e.value.pos is not None and e.value.file == __file__
    assert "straight-line" in str(e.value) or "primitive" in str(e.value) or "tuple" in str(e.value)


def test_control_flow_message_says_straight_line_only():
    def f(x):
        if x > 0:
            return x
        return -x
    with pytest.raises(TraceError) as e:
        trace(f)
    assert "straight-line" in str(e.value)
    assert e.value.pos.line == f.__code__.co_firstlineno + 1


def test_recursion_through_marked_functions_is_refused():
    @linear_a
    def r(x):
        return r(x)
    with pytest.raises(TraceError) as e:
        trace(r)
    assert "itself" in e.value.message


def test_captured_tracer_is_refused():
    def f(x):
        @linear_a
        def g(y):
            return x * y
        return g(x)
    with pytest.raises(TraceError) as e:
        trace(f)
    assert "argument" in str(e.value)


def test_escaped_tracer_is_refused():
    kept = []
    def f(x):
        kept.append(x)
        return x
    trace(f)
    with pytest.raises(TraceError):
        kept[0] + 1.0


# -- load_surface_file ---------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_load_every_surface_example(path):
    prog = load_surface_file(str(path))
    typecheck(prog)
    assert prog.file == str(path)
    assert show(parse_program(show(prog))) == show(prog)


def test_load_collects_marked_functions_in_definition_order(tmp_path):
    src = ("from linear_a import linear_a, sin\n"
           "@linear_a\n"
           "def b(x):\n"
           "    return sin(x)\n"
           "def unmarked(x):\n"
           "    return x\n"
           "@linear_a\n"
           "def a(x):\n"
           "    return b(x) * x\n")
    p = tmp_path / "two.py"
    p.write_text(src)
    prog = load_surface_file(str(p))
    assert prog.names == ["b", "a"]
    assert evaluate(prog, "a", {"x": 0.5}).nl == (math.sin(0.5) * 0.5,)


@pytest.mark.parametrize("src, cls, line, words", [
    ("def f(x)\n    return x\n", ParseError, 1, ["syntax"]),
    ("x = 1 / 0\n", InputError, 1, ["ZeroDivisionError"]),
    ("def f(x):\n    return x\n", InputError, None, ["marks no function"]),
    ("from linear_a import linear_a\n@linear_a\ndef f(x):\n    if x > 0:\n"
     "        return x\n    return -x\n", TraceError, 4, ["straight-line"]),
    ("from linear_a import linear_a\n@linear_a\ndef f(x):\n    return nope + x\n",
     InputError, 4, ["NameError"]),
])
def test_load_errors_are_located(tmp_path, src, cls, line, words):
    p = tmp_path / "bad.py"
    p.write_text(src)
    with pytest.raises(cls) as e:
        load_surface_file(str(p))
    assert e.value.file == str(p)
    if line is not None:
        assert e.value.pos is not None and e.value.pos.line == line
    for w in words:
        assert w in str(e.value)


def test_load_missing_file():
    with pytest.raises(InputError):
        load_surface_file("/nonexistent/file.py")


def test_long_traced_loop():
    def f(x, w):
        for _ in range(5000):
            x = sin(x) * w
        return x
    prog = trace(f)
    typecheck(prog)
    assert len(prog.defs[0].body.binds) == 9999
    agrees(prog, "f", f, 0.3, 0.9)


def test_decorator_with_a_name_and_keyword_calls():
    @linear_a(name="weighted")
    def w(a, b):
        return a * 2 + b

    def f(x, y):
        return w(b=y, a=x)
    prog = trace(f)
    typecheck(prog)
    assert prog.names == ["weighted", "f"]
    call = next(n for n in ops(prog, "f") if type(n) is Call)
    assert call.fn == "weighted" and call.nl == ("x", "y")
    agrees(prog, "f", f, 1.5, 4)
