"""Unzip (SPEC §8): both halves typecheck; recombining them gives the original
function (sympy on symbols, floats at points); residuals are exactly what the
linear half reads; staging with unknown non-linear inputs; derivations; a
10^5-let chain without recursion."""
from __future__ import annotations

import sys

import pytest
import sympy

from linear_a.semantics import (REAL, Block, Def, LinearATypeError, Let, Param, Prim, Program, Ret, Scale,
                       TransformError, evaluate, parse_program, show, typecheck)
from linear_a.semantics.rules import RULES
from linear_a.semantics.syntax import Call, Drop, NUnpack, iter_nodes
from linear_a.transforms.checkpoint import PerCall, RecomputeAll, RecomputeNamed, SaveAll
from linear_a.transforms.unzip import conclusion_text, run_split, unzip, unzip_costs, unzip_program

from helpers import SEED, check_recombination, mixed

# ----------------------------------------------------------------------------
# Hand-written programs: mixed (JVP-shaped and not), calls nested two deep,
# tuples and unpacks of both classes, drops of both classes, dups, literals,
# zero, a nested right-hand side, several non-linear results.




POLICIES = [SaveAll(), RecomputeAll(), PerCall({"g": "recompute", "h": "recompute", "sq": "recompute"}),
            RecomputeNamed({"c", "k", "e", "y1", "c2"})]


# ----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.describe())
def test_every_output_typechecks_and_round_trips(policy):
    p = mixed()
    out = unzip_program(p, policy)
    typecheck(out)
    again = parse_program(show(out))
    typecheck(again)
    assert show(again) == show(out)
    assert [d.name for d in out.defs] == [n + s for n in p.names for s in ("_nl", "_lin")]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.describe())
def test_recombination_equals_original(policy):
    p = mixed()
    dv = unzip(p, policy)
    for d in p.defs:
        check_recombination(p, dv, d.name)


def test_half_signatures():
    p = mixed()
    dv = unzip(p)
    out = dv.result
    for d in p.defs:
        sig = dv.notes["signatures"][d.name]
        f_nl, f_lin = out[sig.nl_name], out[sig.lin_name]
        assert [x.name for x in f_nl.nl_params] == [x.name for x in d.nl_params]
        assert not f_nl.lin_params and not f_nl.lin_out
        assert f_nl.nl_out[:-1] == d.nl_out
        R = f_nl.nl_out[-1]
        assert R == sig.residual_type == f_lin.nl_params[0].ty
        assert len(f_lin.nl_params) == 1 and not f_lin.nl_out     # AD case: f_lin is transposable
        assert [x.name for x in f_lin.lin_params] == [x.name for x in d.lin_params]
        assert f_lin.lin_out == d.lin_out


def _scale_reads_in_order(d: Def) -> list[str]:
    """Independent oracle for a call-free definition: the non-linear variables
    read by linear code (`x *. l`), in binding order (parameters first)."""
    order = [p.name for p in d.nl_params]
    reads = set()
    for n in iter_nodes(d.body):
        if type(n) is Let:
            order.extend(n.nl)
        elif type(n) is NUnpack:
            order.extend(n.names)
        elif type(n) is Scale:
            reads.add(n.x)
    return [v for v in order if v in reads]


@pytest.mark.parametrize("fn", ["h", "chain3", "noread", "tail_lin", "usesq"])
def test_save_all_residuals_are_what_the_linear_half_reads(fn):
    p = mixed()
    dv = unzip(p)
    sig = dv.notes["signatures"][fn]
    assert list(sig.residuals) == _scale_reads_in_order(p[fn])


def test_unit_residual_when_linear_half_reads_nothing():
    p = mixed()
    out = unzip_program(p)
    for fn in ("noread", "lin_only", "tail_drop", "sq"):
        f_nl, f_lin = out[fn + "_nl"], out[fn + "_lin"]
        assert repr(f_nl.nl_out[-1]) == "()"
        head = f_lin.body.binds[0]
        assert type(head) is Let and type(head.rhs) is Drop and head.rhs.v == f_lin.nl_params[0].name
    r = evaluate(out, "noread_nl", {"x": 0.5})
    assert r.nl[1] == ()


def test_trivial_callee_residual_is_dropped_at_the_call_site():
    p = mixed()
    out = unzip_program(p)
    body = out["usesq_nl"].body
    calls = [n for n in iter_nodes(body) if type(n) is Call]
    assert [c.fn for c in calls] == ["sq_nl"]
    drops = [n.v for n in iter_nodes(body) if type(n) is Drop]
    assert "w_sq" in drops
    assert not any(type(n) is Call for n in iter_nodes(out["usesq_lin"].body))


def test_nested_rhs_and_non_ret_tails():
    p = mixed()
    dv = unzip(p)
    for fn in ("f", "tail_prim", "tail_lin", "tail_call", "tail_drop", "lin_only"):
        check_recombination(p, dv, fn, points=2)


def test_seed_through_jvp():
    from linear_a.transforms.jvp import jvp_program
    p = parse_program(SEED, "seed.la")
    j = jvp_program(p)
    for policy in POLICIES[:2]:
        dv = unzip(j, policy)
        typecheck(dv.result)
        check_recombination(j, dv, "f_jvp")
        run = run_split(dv, "f_jvp", {"x1": 2, "x2": 5, "dx1": 1, "dx2": 0})
        # SPEC §13: f(2,5) = 11.652, ∂f/∂x1 = 1/x1 + x2 = 5.5
        assert abs(run.nl[0] - 11.652071455223084) < 1e-9 and abs(run.lin[0] - 5.5) < 1e-12
        run = run_split(dv, "f_jvp", {"x1": 2, "x2": 5, "dx1": 0, "dx2": 1})
        assert abs(run.lin[0] - (2 - sympy.cos(5))) < 1e-12     # ∂f/∂x2 = x1 − cos x2


def test_jvp_of_program_with_calls_unzips():
    from linear_a.transforms.jvp import jvp_program
    p = parse_program("""
def k(a: real, b: real) -> (real ;) =
  let (t ;) = a * b in
  sin(t)
def m(a: real) -> (real, real ;) =
  let (u ;) = k(a, a) in
  let (v ;) = exp(u) in
  (u, v ;)
def top(x: real, y: real) -> (real ;) =
  let (p, q ;) = m(x) in
  let (r ;) = k(p, y) in
  let (s ;) = r + q in
  s * x
""")
    j = jvp_program(p)
    for policy in POLICIES[:2] + [PerCall({"k": "recompute"}), PerCall({"m": "recompute"})]:
        dv = unzip(j, policy)
        typecheck(dv.result)
        check_recombination(j, dv, "top_jvp", points=2, symbolic=policy is POLICIES[0])


# ----------------------------------------------------------------------------
# Derivations.


def test_derivation_shape_and_registered_rules():
    p = mixed()
    for policy in POLICIES:
        dv = unzip(p, policy)
        assert dv.judgment == "unzip" and dv.rule == "Program"
        for node in dv.walk():
            assert node.judgment == "unzip"
            assert ("unzip", node.rule) in RULES, node.rule
            assert conclusion_text(node)
        for udef in dv.premises:
            (chain,) = udef.premises
            assert chain.rule == "ULet"
            assert chain.premises[-1].rule == "URet"
    used = {n.rule for policy in POLICIES for n in unzip(p, policy).walk()}
    assert {"ULeaf", "ULinLeaf", "URet", "UNUnpack", "ULUnpack", "UCall", "ULet", "UDef",
            "URecompute", "UCallRecompute"} <= used


def test_one_premise_per_binding():
    p = mixed()
    dv = unzip(p)
    udef = next(u for u in dv.premises if u.subject.name == "h")
    assert len(udef.premises[0].premises) == len(p["h"].body.binds) + 1
    # each binding's conclusion puts it in exactly one half under save-all
    for node in udef.premises[0].premises[:-1]:
        C, n, l = node.result
        assert n is None and (len(C) + len(l) >= 1)


# ----------------------------------------------------------------------------
# Staging: unknown non-linear inputs (unzip as partial evaluation).

STAGED = """
def k(p: real, q: real) -> (real ;) =
  let (t ;) = p * q in
  sin(t)

def s(x1: real, x2: real) -> (real, real ;) =
  let (a ;) = sin(x1) in
  let (b ;) = a * a in
  let (c ;) = b * x2 in
  let (d ;) = exp(x1) in
  let (e ;) = k(d, x1) in
  let (f ;) = k(e, x2) in
  let (g ;) = f + c in
  (g, e ;)

def mixed_stage(x: real, y: real ; dx: real) -> (real ; real) =
  let (a ;) = cos(x) in
  let (b ;) = a * y in
  let (; d) = b *. dx in
  (b ; d)
"""


def test_staging_known_work_moves_to_stage_one():
    p = parse_program(STAGED)
    typecheck(p)
    dv = unzip(p, unknown={"s": {"x2"}, "mixed_stage": {"y"}})
    out = dv.result
    typecheck(out)
    sig = dv.notes["signatures"]["s"]
    assert sig.known_out == (1,) and sig.unknown_out == (0,)
    assert [q.name for q in out["s_nl"].nl_params] == ["x1"]
    assert [q.name for q in out["s_lin"].nl_params][1:] == ["x2"]
    # Stage one runs exactly the bindings that do not depend on x2: a, b, d, e = k(d, x1)
    # (sin, *, exp, and k's * and sin) = 5 primitives; stage two: c, f = k(e, x2) (2), g = 4.
    run = run_split(dv, "s", {"x1": 0.7, "x2": 1.3})
    assert (run.work_nl, run.work_lin) == (5, 4)
    for fn in ("s", "mixed_stage", "k"):
        check_recombination(p, dv, fn)
    ms = dv.notes["signatures"]["mixed_stage"]
    assert ms.unknown_out == (0,)


def test_staging_through_a_callee_with_unknown_parameter():
    p = parse_program(STAGED)
    typecheck(p)
    dv = unzip(p, unknown={"k": {"q"}})
    typecheck(dv.result)
    assert [q.name for q in dv.result["k_lin"].nl_params][1:] == ["q"]
    for fn in ("k", "s"):
        check_recombination(p, dv, fn)


def test_staging_errors():
    p = parse_program(STAGED)
    with pytest.raises(TransformError, match="no non-linear parameter"):
        unzip(p, unknown={"s": {"zz"}})
    with pytest.raises(TransformError, match="linear parameter"):
        unzip(p, unknown={"mixed_stage": {"dx"}})
    with pytest.raises(TransformError, match="not in the program"):
        unzip(p, unknown={"nope": {"x"}})


# ----------------------------------------------------------------------------
# Bad input and the API's corners.


def test_ill_typed_input_is_a_type_error():
    p = parse_program("def f(x: real ; dx: real) -> (real ; real) =\n  let (y ;) = sin(x) in\n  (x ; dx)\n")
    with pytest.raises(LinearATypeError):
        unzip(p)


def test_trusted_ill_scoped_input_is_a_transform_error():
    body = Block([Let((), ("d",), Scale("nowhere", "dx"))], Ret(("x",), ("d",)))
    p = Program([Def("f", [Param("x", REAL)], [Param("dx", REAL)], [REAL], [REAL], body)])
    with pytest.raises(TransformError):
        unzip(p, trusted=True)


def test_names_selects_callees_too():
    p = mixed()
    out = unzip_program(p, names=["f"])
    assert out.names == ["h_nl", "h_lin", "g_nl", "g_lin", "f_nl", "f_lin"]
    with pytest.raises(TransformError, match="no function"):
        unzip(p, names=["nope"])


def test_unzip_costs_tuple_and_fields():
    p = mixed()
    c = unzip_costs(p, "h", {"a": 0.5, "b": 1.5, "da": 1.0, "db": 2.0})
    w_nl, w_lin, m_nl, m_lin = c
    assert (w_nl, w_lin) == (c.work_nl, c.work_lin) and c.extra_work == 0
    assert c.residual_size == 3       # a, b, c (the scalars of the three *.)


# ----------------------------------------------------------------------------
# Scale: a 10^5-let chain, built directly (alternating `sin` and `* w`).


def jvp_shaped_chain(steps: int) -> Program:
    """x ↦ sin, ·w, sin, ·w … with tangents, as JVP would write it."""
    binds, x, dx = [], "x", "dx"
    for i in range(steps):
        y, dy = f"y{i}", f"dy{i}"
        if i % 2 == 0:
            c = f"c{i}"
            binds += [Let((y,), (), Prim("sin", (x,))), Let((c,), (), Prim("cos", (x,))),
                      Let((), (dy,), Scale(c, dx))]
        else:
            binds += [Let((y,), (), Prim("*", (x, "w"))), Let((), (dy,), Scale("w", dx))]
        x, dx = y, dy
    body = Block(binds, Ret((x,), (dx,)))
    return Program([Def("f", [Param("x", REAL), Param("w", REAL)], [Param("dx", REAL)], [REAL], [REAL],
                        body)])


def test_small_generated_chain_matches():
    p = jvp_shaped_chain(40)
    typecheck(p)
    for policy in (SaveAll(), RecomputeAll()):
        dv = unzip(p, policy)
        typecheck(dv.result)
        check_recombination(p, dv, "f", points=2, symbolic=False)


def test_100k_let_chain_without_recursion():
    steps = 40_000          # 100 000 lets (2.5 per step)
    p = jvp_shaped_chain(steps)
    assert len(p.defs[0].body.binds) == 100_000
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        for policy in (SaveAll(), RecomputeAll()):
            dv = unzip(p, policy, trusted=True)
            f_nl, f_lin = dv.result["f_nl"], dv.result["f_lin"]
            scales = sum(1 for b in f_lin.body.binds if type(b) is Let and type(b.rhs) is Scale)
            assert scales == steps
            if policy.describe() == "save-all":
                # residuals: w and the cos of every sin step, nothing else
                assert len(dv.notes["signatures"]["f"].residuals) == 1 + steps // 2
                assert len(f_nl.body.binds) == steps + steps // 2 + 1
            else:
                assert dv.notes["signatures"]["f"].residuals == ("x", "w")
    finally:
        sys.setrecursionlimit(old)
