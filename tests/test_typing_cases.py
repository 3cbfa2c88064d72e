"""The typing cases of the authors' Linear A prototype (test/LinearASpec.hs),
restated in this project's syntax, plus the scope and arity errors SPEC §3 and
§16 ask for.  Every rejection names its error class, the rule and the line."""
import pytest

from linear_a.semantics import LinearATypeError, ScopeError, evaluate, parse_program, typecheck


def check(text):
    return typecheck(parse_program(text, "case.la"))


def rejects(text, cls, rule, line, words=()):
    with pytest.raises(cls) as info:
        check(text)
    e = info.value
    assert type(e) is cls, f"expected {cls.__name__}, got {type(e).__name__}: {e}"
    assert e.rule == rule, str(e)
    assert e.pos is not None and e.pos.line == line, str(e)
    assert e.file == "case.la"
    for w in words:
        assert w in str(e), str(e)
    return e


# -- the prototype's cases ---------------------------------------------------

def test_accepts_implicit_nonlinear_dup():
    prog = parse_program("def f(x: real) -> (real, real ;) =\n"
                         "  (x, x ;)", "case.la")
    typecheck(prog)
    assert evaluate(prog, "f", {"x": 2.5}).nl == (2.5, 2.5)


def test_rejects_implicit_nonlinear_drop_of_a_parameter():
    rejects("def f(x: real, y: real) -> (real ;) =\n"
            "  (x ;)", LinearATypeError, "Def", 1, ["`y`", "never used", "drop"])


def test_rejects_implicit_nonlinear_drop_of_a_let():
    rejects("def f(x: real) -> (real ;) =\n"
            "  let (s ;) = sin(x) in\n"
            "  (x ;)", LinearATypeError, "Let", 2, ["`s`", "never used", "drop"])


def test_accepts_explicit_nonlinear_drop():
    check("def f(x: real, y: real) -> (real ;) =\n"
          "  let (;) = drop(y) in\n"
          "  (x ;)")


def test_rejects_linear_dup_by_reuse():
    rejects("def f(; x: real) -> (; real, real) =\n"
            "  (; x, x)", LinearATypeError, "Ret", 2, ["`x`", "used twice"])


def test_rejects_linear_reuse_across_lets():
    rejects("def f(y: real ; x: real) -> (; real, real) =\n"
            "  let (; a) = y *. x in\n"
            "  let (; b) = y *. x in\n"
            "  (; a, b)", LinearATypeError, "Let", 3, ["`x`", "used twice"])


def test_rejects_linear_add_of_itself():
    rejects("def f(; x: real) -> (; real) =\n"
            "  x +. x", LinearATypeError, "LAdd", 2, ["`x`"])


def test_accepts_add_of_let_bound_zero():
    prog = parse_program("def f(; x: real) -> (; real) =\n"
                         "  let (; z) = zero in\n"
                         "  x +. z", "case.la")
    typecheck(prog)
    assert evaluate(prog, "f", {"x": 4.0}).lin == (4.0,)


def test_accepts_dup_then_add():
    prog = parse_program("def f(; x: real) -> (; real) =\n"
                         "  let (; x1, x2) = dup(x) in\n"
                         "  x1 +. x2", "case.la")
    typecheck(prog)
    assert evaluate(prog, "f", {"x": 4.0}).lin == (8.0,)


def test_accepts_drop_of_a_linear_tuple_then_zero():
    prog = parse_program("def f(; x: real, y: real) -> (; real) =\n"
                         "  let (; p) = (x, y) in\n"
                         "  let (;) = drop(p) in\n"
                         "  zero", "case.la")
    typecheck(prog)
    r = evaluate(prog, "f", {"x": 4.0, "y": 5.0})
    assert r.lin == (0.0,)
    assert r.work == 2 + 1       # drop of a (real, real) costs 2, zero : real costs 1


def test_rejects_linear_argument_passed_twice():
    rejects("def g(; a: real, b: real) -> (; real) =\n"
            "  a +. b\n"
            "def f(; x: real) -> (; real) =\n"
            "  g(; x, x)", LinearATypeError, "Call", 4, ["`x`", "twice"])


def test_accepts_scale():
    prog = parse_program("def f(x: real ; y: real) -> (; real) =\n"
                         "  x *. y", "case.la")
    typecheck(prog)
    assert evaluate(prog, "f", {"x": 3.0, "y": 0.5}).lin == (1.5,)


def test_rejects_unused_linear_variable():
    rejects("def f(x: real ; dx: real) -> (real ;) =\n"
            "  (x ;)", LinearATypeError, "Def", 1, ["`dx`", "never used"])


# -- class errors --------------------------------------------------------------

def test_rejects_linear_argument_to_a_primitive():
    rejects("def f(x: real ; dx: real) -> (real ;) =\n"
            "  let (;) = drop(x) in\n"
            "  sin(dx)", LinearATypeError, "Prim", 3, ["`dx`", "linear"])


def test_rejects_linear_scalar_of_scale():
    rejects("def f(x: real ; dx: real, dy: real) -> (; real) =\n"
            "  let (;) = drop(x) in\n"
            "  dx *. dy", LinearATypeError, "Scale", 3, ["`dx`", "linear"])


def test_rejects_nonlinear_operand_of_linear_add():
    rejects("def f(x: real ; dx: real) -> (; real) =\n"
            "  x +. dx", LinearATypeError, "LAdd", 2, ["`x`", "non-linear"])


def test_rejects_linear_result_on_the_nonlinear_side():
    rejects("def f(; dx: real) -> (real ;) =\n"
            "  (dx ;)", LinearATypeError, "Ret", 2, ["`dx`"])


# -- scope errors ----------------------------------------------------------------

def test_rejects_unknown_variable():
    rejects("def f(x: real) -> (real ;) =\n"
            "  let (;) = drop(x) in\n"
            "  sin(z)", ScopeError, "Prim", 3, ["unknown variable `z`"])


def test_rejects_forward_call():
    rejects("def f(x: real) -> (real ;) =\n"
            "  g(x)\n"
            "def g(x: real) -> (real ;) =\n"
            "  (x ;)", ScopeError, "Call", 2, ["`g`", "defined after"])


def test_rejects_recursive_call():
    rejects("def f(x: real) -> (real ;) =\n"
            "  f(x)", ScopeError, "Call", 2, ["`f`", "itself"])


def test_rejects_unknown_function():
    rejects("def f(x: real) -> (real ;) =\n"
            "  h(x)", ScopeError, "Call", 2, ["unknown function `h`"])


def test_rejects_shadowing():
    rejects("def f(x: real) -> (real ;) =\n"
            "  let (y ;) = sin(x) in\n"
            "  let (y ;) = cos(y) in\n"
            "  (y ;)", ScopeError, "Let", 3, ["`y`", "bound twice"])


# -- arity -------------------------------------------------------------------------

def test_rejects_call_with_wrong_arity():
    rejects("def g(a: real, b: real) -> (real ;) =\n"
            "  a + b\n"
            "def f(x: real) -> (real ;) =\n"
            "  g(x)", LinearATypeError, "Call", 4, ["`g`", "(2 ; 0)", "(1 ; 0)"])


def test_rejects_primitive_with_wrong_arity():
    rejects("def f(x: real) -> (real ;) =\n"
            "  sin(x, x)", LinearATypeError, "Prim", 2, ["`sin`", "1 argument"])


def test_rejects_pattern_of_wrong_arity():
    rejects("def f(; x: real) -> (; real) =\n"
            "  let (; y) = dup(x) in\n"
            "  (; y)", LinearATypeError, "Let", 2, ["pattern"])


def test_rejects_wrong_declared_result():
    rejects("def f(x: real) -> (real, real ;) =\n"
            "  (x ;)", LinearATypeError, "Def", 2, ["declared"])


def test_out_of_scope_read_in_a_program_built_without_positions():
    """A program built in memory (no source positions, as the transforms and
    the generators make them): the scope error still names the variable,
    where the message would have pointed at its binder's line."""
    from linear_a.semantics.syntax import REAL, Block, Def, Drop, Let, Param, Prim, Program, Ret
    inner = Block([Let(("b",), (), Prim("sin", ["x"]))], Ret(["b"], []))
    body = Block([Let(("a",), (), inner), Let((), (), Drop("a"))], Ret(["b"], []))
    prog = Program([Def("f", [Param("x", REAL)], [], [REAL], [], body)])
    with pytest.raises(ScopeError) as err:
        typecheck(prog)
    assert "`b` is not in scope here (it was bound inside an inner let)" in str(err.value)
