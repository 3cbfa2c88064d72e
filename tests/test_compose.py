"""The compositions (SPEC §10): linearize, vjp_program, vjp, grad — against
the seed article's numbers, the golden examples, sympy and the oracle, under
several checkpoint policies."""
from __future__ import annotations

import math

import pytest
import sympy

from linear_a.semantics import TransformError, UsageError, evaluate, parse_program, show, typecheck
from linear_a.semantics.evaluate import _typing_info
from linear_a.semantics.syntax import expr_size
from linear_a.transforms import grad, linearize, oracle_grad, vjp, vjp_program
from linear_a.transforms.checkpoint import RecomputeAll, SaveAll

from helpers import (CORPUS, IDS, MATVEC, POTTIER, PYTHAGORAS, SEED, _cotangent_for, chain_program,
                     flat, sym_vjp)


POLICIES = [None, SaveAll(), RecomputeAll()]


def test_seed_gradient():
    r = grad(parse_program(SEED), "f", {"x1": 2, "x2": 5})
    assert round(r.primal[0], 3) == 11.652
    assert r.gradient["x1"] == pytest.approx(5.5, abs=1e-12)
    assert round(r.gradient["x2"], 3) == 1.716
    assert r.work > 0 and r.memory > 0


def test_seed_gradient_exact_in_sympy():
    r = grad(parse_program(SEED), "f", {"x1": 2, "x2": 5}, domain="sympy")
    assert r.gradient["x1"] == sympy.Rational(11, 2)
    assert sympy.simplify(r.gradient["x2"] - (2 - sympy.cos(5))) == 0


@pytest.mark.parametrize("policy", POLICIES, ids=["default", "save-all", "recompute-all"])
def test_matvec_gradient(policy):
    r = grad(parse_program(MATVEC), "specific", {"v": [2, 3]}, policy=policy)
    assert r.primal == (650.0,)
    assert r.gradient == {"v": (77.0, 382.0)}


def test_pottier_gradient_symbolic():
    x0, x1 = sympy.symbols("x0 x1", real=True)
    r = grad(parse_program(POTTIER), "f", {"x0": x0, "x1": x1}, domain="sympy")
    assert sympy.simplify(r.gradient["x0"] - (sympy.cos(x1) + 1)) == 0
    assert sympy.simplify(r.gradient["x1"] + x0 * sympy.sin(x1)) == 0


def test_pythagoras_gradient_is_zero():
    x = sympy.Symbol("x", real=True)
    r = grad(parse_program(PYTHAGORAS), "f", {"x": x}, domain="sympy")
    assert sympy.simplify(r.gradient["x"]) == 0


@pytest.mark.parametrize("policy", POLICIES, ids=["default", "save-all", "recompute-all"])
@pytest.mark.parametrize("src,fn,point", CORPUS, ids=IDS)
def test_vjp_equals_oracle_and_sympy(src, fn, point, policy):
    prog = parse_program(src)
    cts = _cotangent_for(prog, fn)
    r = vjp(prog, fn, point, cts, policy=policy)
    got = [x for p in prog.get(fn).nl_params for x in flat(r.gradient[p.name])]
    o = oracle_grad(prog, fn, point, cts)
    want_o = [x for p in prog.get(fn).nl_params for x in flat(o[p.name])]
    assert got == pytest.approx(want_o, rel=1e-10, abs=1e-12)
    assert got == pytest.approx(sym_vjp(prog, fn, point, cts), rel=1e-10, abs=1e-12)
    assert flat(r.primal) == pytest.approx(flat(evaluate(prog, fn, point).nl))


@pytest.mark.parametrize("policy", POLICIES, ids=["default", "save-all", "recompute-all"])
@pytest.mark.parametrize("src,fn,point", CORPUS, ids=IDS)
def test_every_output_typechecks(src, fn, point, policy):
    prog = parse_program(src)
    lin = linearize(prog, policy)
    typecheck(lin)
    vp = vjp_program(prog, fn, policy)
    typecheck(vp)
    assert show(parse_program(show(vp))) == show(vp)
    assert vp.get(fn + "_jvp_nl") is not None and vp.get(fn + "_jvp_lin_T") is not None
    for d in vp.defs:                                  # callees first
        for n in _calls(d):
            assert vp.names.index(n) < vp.names.index(d.name)


def _calls(d):
    from linear_a.semantics.syntax import Call, iter_nodes
    return {n.fn for n in iter_nodes(d.body) if type(n) is Call}


def test_recompute_changes_only_cost():
    prog = parse_program(MATVEC)
    a = grad(prog, "specific", {"v": [2, 3]}, policy=SaveAll())
    b = grad(prog, "specific", {"v": [2, 3]}, policy=RecomputeAll())
    assert a.gradient == b.gradient
    assert b.work >= a.work


def test_grad_refuses_functions_without_one_real_result():
    prog = parse_program(MATVEC)
    with pytest.raises(TransformError, match="one real result"):
        grad(prog, "matvec2x2", {"m": [[2, 7], [1, 8]], "v": [2, 3]})
    r = vjp(prog, "matvec2x2", {"m": [[2, 7], [1, 8]], "v": [2, 3]}, [[0, 1]])
    assert r.gradient == {"m": ((0.0, 0.0), (2.0, 3.0)), "v": (1.0, 8.0)}


def test_vjp_bad_input():
    prog = parse_program(SEED)
    with pytest.raises(UsageError):
        grad(prog, "nope", {"x1": 2, "x2": 5})
    with pytest.raises(UsageError):
        grad(prog, "f", {"x1": 2})
    with pytest.raises(UsageError):
        vjp(prog, "f", {"x1": 2, "x2": 5}, [1, 2])
    lin = parse_program("def g(x: real ; dx: real) -> (; real) =\n  x *. dx\n")
    with pytest.raises(TransformError, match="`g`"):
        vjp(lin, "g", {"x": 1, "dx": 1}, [1])


def test_cheap_gradient_on_seed():
    """W(vjp) is within a small constant of W(f) plus the size (SPEC §11 vjp-cost)."""
    prog = parse_program(SEED)
    w = evaluate(prog, "f", {"x1": 2, "x2": 5}).work
    r = grad(prog, "f", {"x1": 2, "x2": 5})
    assert r.work <= 4 * w + expr_size(prog.get("f").body)


def test_chain_gradient_matches_oracle():
    prog = chain_program(2_000)
    r = grad(prog, "f", {"x": 0.3, "w": 1.1})
    o = oracle_grad(prog, "f", {"x": 0.3, "w": 1.1})
    assert r.gradient["x"] == pytest.approx(o["x"], rel=1e-9, abs=1e-15)
    assert r.gradient["w"] == pytest.approx(o["w"], rel=1e-9, abs=1e-15)


def chain_gradient(n: int, x: float, w: float):
    """d f/dx and d f/dw of chain_program(n), by a hand-written forward loop."""
    a, da_dx, da_dw = math.sin(x), math.cos(x), 0.0
    for i in range(1, n):
        if i % 2:
            a, da_dx, da_dw = a * w, da_dx * w, da_dw * w + a
        else:
            a, da_dx, da_dw = math.sin(a), math.cos(a) * da_dx, math.cos(a) * da_dw
    return da_dx, da_dw


def test_chain_gradient_by_hand():
    prog = chain_program(200)
    r = grad(prog, "f", {"x": 0.3, "w": 1.1})
    gx, gw = chain_gradient(200, 0.3, 1.1)
    assert r.gradient["x"] == pytest.approx(gx, rel=1e-9, abs=1e-15)
    assert r.gradient["w"] == pytest.approx(gw, rel=1e-9, abs=1e-15)


@pytest.mark.slow
def test_long_chain_vjp_without_recursion():
    n = 100_000
    prog = chain_program(n)
    vp = vjp_program(prog, "f")
    _typing_info(vp)        # typecheck(vp), cached on vp so the evaluator need not redo it
    r = grad(prog, "f", {"x": 0.3, "w": 1.1}, program=vp)
    gx, gw = chain_gradient(n, 0.3, 1.1)
    assert r.gradient["x"] == pytest.approx(gx, rel=1e-9, abs=1e-15)
    assert r.gradient["w"] == pytest.approx(gw, rel=1e-9, abs=1e-15)


def test_missing_function_error_names_the_defined_ones():
    """Each composition refuses a function the program lacks, listing the ones it
    defines -- or `none` for an empty program."""
    from linear_a.semantics.syntax import Program
    from linear_a.transforms.compose import vjp_cost
    calls = {
        "vjp_program": lambda p: vjp_program(p, "nope"),
        "vjp": lambda p: vjp(p, "nope", {"x": 1.0}, 1.0),
        "vjp_cost": lambda p: vjp_cost(p, "nope"),
        "grad": lambda p: grad(p, "nope", {"x": 1.0}),
        "prepared": lambda p: linearize(p, "binomial:2", names=["nope"]),
    }
    two = parse_program("def f(x: real) -> (real ;) =\n  sin(x)\n"
                        "def g(x: real) -> (real ;) =\n  cos(x)\n", "two")
    for name, call in calls.items():
        with pytest.raises(UsageError) as e:
            call(two)
        assert "no function `nope`" in str(e.value) and "(defined: f, g)" in str(e.value), (name, e.value)
        with pytest.raises(UsageError) as e:
            call(Program([]))
        assert "(defined: none)" in str(e.value), (name, e.value)
