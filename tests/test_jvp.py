"""JVP (SPEC §7): output typechecks, tangents equal sympy's Jacobian times v,
tangent splitting, refusals, and a 10^5-let chain without recursion."""
from __future__ import annotations

import sympy
import pytest

from linear_a.semantics import (Dup, LinearATypeError, TransformError, evaluate, parse_program, show,
                       typecheck)
from linear_a.semantics.rules import RULES
from linear_a.semantics.syntax import Let, iter_nodes
from linear_a.transforms.jvp import jvp, jvp_program

from helpers import (CORPUS, DUPRET, IDS, MATVEC, MIXED, POTTIER, PYTHAGORAS, SEED, SQUARE,
                     chain_program, chain_source, flat, sym_jacobian, symbols_like)


# ----------------------------------------------------------------------------
# sympy truth: symbolic execution of the *original* program, then sympy.diff


def is_zero(e) -> bool:
    e = sympy.expand(e)
    return e == 0 or sympy.simplify(e) == 0


@pytest.mark.parametrize("src,fn,point", CORPUS, ids=IDS)
def test_jvp_output_typechecks_and_matches_sympy(src, fn, point):
    prog = parse_program(src)
    out = jvp_program(prog)
    typecheck(out)
    assert show(parse_program(show(out))) == show(out)          # parsable core syntax
    d = prog.get(fn)
    args, xs, ys, J = sym_jacobian(prog, fn)
    tangents = {p.name: symbols_like(p.ty, "v_" + p.name) for p in d.nl_params}
    dv = {f"d{p.name}": tangents[p.name] for p in d.nl_params}
    fj = out.get(fn + "_jvp")
    assert [p.name for p in fj.lin_params] == list(dv)
    r = evaluate(out, fn + "_jvp", {**args, **dv}, domain="sympy")
    vs = sympy.Matrix([s for p in d.nl_params for s in flat(tangents[p.name])])
    expected = J * vs
    got = flat(r.lin)
    assert len(got) == len(ys)
    for g, e in zip(got, expected):
        assert is_zero(g - e), (g, e)
    for g, y in zip(flat(r.nl), ys):                              # primal unchanged
        assert is_zero(g - y)


@pytest.mark.parametrize("src,fn,point", CORPUS, ids=IDS)
def test_jvp_float_matches_finite_differences(src, fn, point):
    prog = parse_program(src)
    out = jvp_program(prog)
    d = prog.get(fn)
    # direction 1 on every scalar input
    ones = {f"d{p.name}": _ones(point[p.name]) for p in d.nl_params}
    r = evaluate(out, fn + "_jvp", {**point, **ones})
    h = 1e-6
    plus = evaluate(prog, fn, {k: _shift(v, h) for k, v in point.items()}).nl
    minus = evaluate(prog, fn, {k: _shift(v, -h) for k, v in point.items()}).nl
    for t, a, b in zip(flat(r.lin), flat(plus), flat(minus)):
        assert abs(t - (a - b) / (2 * h)) < 1e-5 * max(1, abs(t))


def _ones(v):
    return [_ones(x) for x in v] if isinstance(v, list) else 1.0


def _shift(v, h):
    return [_shift(x, h) for x in v] if isinstance(v, list) else v + h


def test_seed_tangent_column():
    """The seed article's forward pass: ẋ1 = 1, ẋ2 = 0 gives ẏ = 5.5 (SPEC §13)."""
    out = jvp_program(parse_program(SEED))
    r = evaluate(out, "f_jvp", {"x1": 2, "x2": 5, "dx1": 1, "dx2": 0})
    assert abs(r.nl[0] - 11.652) < 1e-3
    assert abs(r.lin[0] - 5.5) < 1e-12
    r = evaluate(out, "f_jvp", {"x1": 2, "x2": 5, "dx1": 0, "dx2": 1})
    assert abs(r.lin[0] - (2 - __import__("math").cos(5))) < 1e-12


def test_pottier_tangent():
    out = jvp_program(parse_program(POTTIER))
    x0, x1, v0, v1 = sympy.symbols("x0 x1 v0 v1", real=True)
    r = evaluate(out, "f_jvp", {"x0": x0, "x1": x1, "dx0": v0, "dx1": v1}, domain="sympy")
    assert is_zero(r.lin[0] - ((sympy.cos(x1) + 1) * v0 - x0 * sympy.sin(x1) * v1))


def test_pythagoras_tangent_is_exactly_zero():
    out = jvp_program(parse_program(PYTHAGORAS))
    x, v = sympy.symbols("x v", real=True)
    r = evaluate(out, "f_jvp", {"x": x, "dx": v}, domain="sympy")
    assert sympy.simplify(r.lin[0]) == 0
    # the primal is 1 and the tangent (for any dx) vanishes numerically too
    r = evaluate(out, "f_jvp", {"x": 0.7, "dx": 1.0})
    assert abs(r.nl[0] - 1) < 1e-15 and abs(r.lin[0]) < 1e-15


def test_square_jvp_has_a_dup():
    out = jvp_program(parse_program(SQUARE))
    dups = [n for n in iter_nodes(out.get("f_jvp").body) if type(n) is Dup]
    assert len(dups) == 1
    r = evaluate(out, "f_jvp", {"x": 3, "dx": 1})
    assert r.lin == (6.0,)


def test_dup_count_is_reads_minus_one():
    # x read 4 times (tuple twice, return once, mul via a/b are other vars): 3 reads -> 2 dups
    out = jvp_program(parse_program(DUPRET))
    body = out.get("f_jvp").body
    dup_srcs = [n.rhs.l for n in iter_nodes(body) if type(n).__name__ == "Let" and type(n.rhs) is Dup]
    from collections import Counter
    c = Counter(s.rstrip("_0123456789") for s in dup_srcs)
    assert c["dx"] == 2            # x is read 3 times
    assert c["dp"] == 1            # p is read twice (unpack, return)
    assert c["dy"] == 0            # y is read once (drop)


def test_jvp_derivation_rules_registered_and_used():
    dv = jvp(parse_program(MIXED))
    used = dv.rules_used()
    for r in ["JRet", "JLet", "JLit", "JPrim", "JTup", "JUnpack", "JCall", "JDrop"]:
        assert used[r] > 0, r
        assert ("jvp", r) in RULES
    for node in dv.walk():
        assert ("jvp", node.rule) in RULES
        assert node.judgment == "jvp"


def test_jvp_refuses_linear_code():
    prog = parse_program("""
def g(x: real ; dx: real) -> (; real) =
  x *. dx
""")
    with pytest.raises(TransformError, match="`g`"):
        jvp(prog)
    with pytest.raises(TransformError, match="`g`"):
        jvp(prog, ["g"])


def test_jvp_refuses_linear_operations_inside():
    prog = parse_program("""
def g(x: real) -> (real ;) =
  let (; z) = zero : real in
  let (;) = drop(z) in
  sin(x)
""")
    with pytest.raises(TransformError, match="g"):
        jvp(prog)


def test_jvp_refuses_calls_of_linear_functions():
    prog = parse_program("""
def l(x: real ; dx: real) -> (real ; real) =
  (x ; dx)
def g(x: real) -> (real ;) =
  let (; z) = zero : real in
  let (y ; w) = l(x ; z) in
  let (;) = drop(w) in
  (y ;)
""")
    with pytest.raises(TransformError):
        jvp(prog, ["g"])


def test_jvp_of_ill_typed_program_is_a_type_error():
    prog = parse_program("def f(x: real, y: real) -> (real ;) =\n  sin(x)\n")
    with pytest.raises(LinearATypeError):
        jvp(prog)


def test_jvp_names_and_callees():
    out = jvp_program(parse_program(MATVEC), ["specific"])
    assert out.names == ["matvec2x2_jvp", "specific_jvp"]
    with pytest.raises(TransformError, match="nope"):
        jvp(parse_program(MATVEC), ["nope"])


def test_jvp_chain_splits_shared_tangent_linearly():
    n = 10_000
    out = jvp_program(chain_program(n))
    typecheck(out)
    # w is read n/2 times: its tangent is split n/2 - 1 times, no more
    dups = sum(1 for b in out.get("f_jvp").body.binds if type(b) is Let and type(b.rhs) is Dup)
    assert dups == n // 2 - 1
    small = parse_program(chain_source(6))
    r = evaluate(jvp_program(small), "f_jvp", {"x": 0.3, "w": 0.9, "dx": 1, "dw": 0})
    h = 1e-6
    fd = (evaluate(small, "f", {"x": 0.3 + h, "w": 0.9}).nl[0] -
          evaluate(small, "f", {"x": 0.3 - h, "w": 0.9}).nl[0]) / (2 * h)
    assert abs(r.lin[0] - fd) < 1e-6


@pytest.mark.slow
def test_jvp_long_chain_no_recursion():
    n = 100_000
    out = jvp_program(chain_program(n))
    typecheck(out)
    # n/2 sines (primal, cos, scale) and n/2 products (primal, two scales, +.),
    # plus one dup per read of w but the last
    assert len(out.get("f_jvp").body.binds) == 3 * n // 2 + 4 * n // 2 + (n // 2 - 1)
