"""Constants carry no tangent (SPEC §17, rules JLit, JZero, JPrim, ULit): the
JVP of a literal is a symbolic zero that later rules drop, and a literal is
never a residual of the gradient program."""
import pytest

from linear_a.semantics import evaluate, parse_program, show, typecheck
from linear_a.semantics.surface import trace
from linear_a.semantics.syntax import Let, Lit, NUnpack, Scale, Zero, iter_nodes
from linear_a.transforms.compose import grad, names_for, vjp_program
from linear_a.transforms.jvp import jvp_program


def cubic(x):
    return 2.5 * x ** 3 - 4 * x + 7


def lits_of(d):
    return {n.nl[0] for n in iter_nodes(d.body) if type(n) is Let and type(n.rhs) is Lit}


def test_cubic_w_vjp_over_w_f():
    """W(f) = 9: two multiplications for x**3, three literals, ·, ·, −, +.
    Before the rule: W(vjp) = 31 with residuals (x, v1, v2, 2.5, 4, −1) -- a
    `zero` per literal, scaled and summed, and the coefficients stored.
    After: no `zero`, no term for a literal's tangent, the three coefficients
    written again in the linear half: W(vjp) = 25, residuals (x, v1)."""
    p = trace(cubic)
    base = evaluate(p, "cubic", {"x": 2.0})
    r = grad(p, "cubic", {"x": 2.0})
    assert r.gradient["x"] == pytest.approx(7.5 * 4 - 4)
    assert (base.work, r.work) == (9, 25)
    vp = vjp_program(p, "cubic")
    nl, lin_t = (vp[n] for n in names_for("cubic"))
    residuals = next(n for n in iter_nodes(lin_t.body) if type(n) is NUnpack).names
    assert list(residuals) == ["x", "v1"]
    assert not set(residuals) & lits_of(nl)
    # the coefficients live in the linear half only
    assert sorted(n.rhs.text for n in iter_nodes(lin_t.body)
                  if type(n) is Let and type(n.rhs) is Lit) == ["-1", "2.5", "4"]


def test_jvp_of_a_literal_is_a_symbolic_zero():
    p = trace(cubic)
    j = jvp_program(p)
    typecheck(j)
    body = list(iter_nodes(j["cubic_jvp"].body))
    assert not [n for n in body if type(n) is Let and type(n.rhs) is Zero]
    lits = lits_of(j["cubic_jvp"])
    # no tangent is ever scaled by... a literal's tangent: every scale reads a tangent of x's chain
    scaled = [n.rhs.l for n in body if type(n) is Let and type(n.rhs) is Scale]
    assert not any(s.startswith("dv3") or s.startswith("dv5") or s.startswith("dv8") for s in scaled)
    assert "v3" in lits and "v5" in lits


def test_a_constant_primitive_has_a_symbolic_zero_and_no_dead_partials():
    # log(2) is a constant: no partial of it is computed, its tangent is zero
    p = parse_program("def f(x: real) -> (real ;) =\n  let (c ;) = 2 in\n  let (l ;) = log(c) in\n"
                      "  pow(x, l)\n")
    j = jvp_program(p)
    typecheck(j)
    text = show(j)
    assert "zero" not in text and "/" not in text       # no ∂log(c) = 1/c
    assert text.count("log(") == 1     # log(c) only: pow's ∂/∂l = log(x)·r is dead, not computed
    r = grad(p, "f", {"x": 1.5})
    assert r.gradient["x"] == pytest.approx(0.6931471805599453 * 1.5 ** (0.6931471805599453 - 1))


def test_a_returned_constant_gets_a_zero_where_a_linear_variable_is_needed():
    p = parse_program("def f(x: real) -> (real, real ;) =\n  let (c ;) = 3 in\n  let (y ;) = x * c in\n"
                      "  (y, c ;)\n")
    j = jvp_program(p)
    typecheck(j)
    assert show(j).count("zero") == 1                    # JZero, for the returned c
    r = evaluate(j, "f_jvp", {"x": 2.0, "dx": 1.0})
    assert r.lin == (3.0, 0.0)
