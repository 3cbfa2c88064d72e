"""Checkpoint policies (SPEC §8, §11 unzip-cost and checkpoint-invariance):
the policy API and its string forms, every choice vector computing the same
function, save-all conserving work exactly, each recompute adding exactly the
recomputed work, and recompute-all trading residual memory for work on a chain."""
from __future__ import annotations

import itertools
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from linear_a.semantics import (REAL, Block, Costs, Def, Let, Param, Prim, Program, Ret, Scale,  # noqa: E402
                       TransformError, evaluate, parse_program, typecheck)
from linear_a.semantics.syntax import Call, Drop, Lit, NTup, iter_nodes  # noqa: E402
from linear_a.transforms.checkpoint import (PerCall, Policy, RecomputeAll,  # noqa: E402
                                   RecomputeNamed, SaveAll, policy_from_string)
from linear_a.transforms.unzip import run_split, unzip, unzip_costs  # noqa: E402

from helpers import check_recombination, mixed

# ----------------------------------------------------------------------------
# The string forms.


def test_policy_from_string_forms():
    assert isinstance(policy_from_string("save-all"), SaveAll)
    assert isinstance(policy_from_string("recompute-all"), RecomputeAll)
    p = policy_from_string("recompute:v3, v7")
    assert isinstance(p, RecomputeNamed) and p.names == {"v3", "v7"}
    p = policy_from_string("call:g=recompute,h=save")
    assert isinstance(p, PerCall) and p.choices == {"g": "recompute", "h": "save"}
    for s in ("save-all", "recompute-all", "recompute:a,b", "call:g=recompute,h=save"):
        assert policy_from_string(s).describe() == s


@pytest.mark.parametrize("bad", ["revolve:3", "save", "", "recompute-some", "Save-All"])
def test_unknown_policy_lists_the_valid_ones(bad):
    with pytest.raises(TransformError) as e:
        policy_from_string(bad)
    msg = str(e.value)
    for form in ("save-all", "recompute-all", "recompute:", "call:"):
        assert form in msg


@pytest.mark.parametrize("bad", ["recompute:", "call:", "call:g", "call:g=maybe", "save-all:x",
                                 "call:=save"])
def test_malformed_policy_arguments(bad):
    with pytest.raises(TransformError):
        policy_from_string(bad)


def test_policy_names_must_exist():
    p = mixed()
    with pytest.raises(TransformError, match="no non-linear binding is named `nope`"):
        unzip(p, "recompute:nope")
    with pytest.raises(TransformError, match="`dp`"):        # a linear binder is no choice point
        unzip(p, RecomputeNamed({"dp"}))
    with pytest.raises(TransformError, match="no call of `zz`"):
        unzip(p, "call:zz=recompute")


def test_a_missing_name_hint_lists_the_first_twelve_choice_points():
    from linear_a.semantics import parse_program
    from linear_a.transforms.revolve import chain_source
    p = parse_program(chain_source(14, ("sin", "tanh")), "chain14")    # binders x1 … x14
    with pytest.raises(TransformError, match="no non-linear binding is named `nope`") as info:
        unzip(p, "recompute:nope")
    shown = info.value.hint.removeprefix("choice points bind: ").split(", ")
    assert shown == sorted(f"x{i}" for i in range(1, 15))[:12] + ["…"], info.value.hint
    with pytest.raises(TransformError, match="not a checkpoint policy"):
        unzip(p, 42)


def test_a_policy_answering_nonsense_is_refused():
    class Bad(Policy):
        def decide(self, point):
            return "maybe"
    with pytest.raises(TransformError, match="expected 'save' or 'recompute'"):
        unzip(mixed(), Bad())


# ----------------------------------------------------------------------------
# The API: choice points, plan(), custom policies.


class Recorder(Policy):
    """Recomputes every other choice point; records what it was shown."""

    def __init__(self):
        self.plans = []

    def plan(self, fn, points):
        self.plans.append((fn, list(points)))

    def decide(self, point):
        return "recompute" if point.index % 2 else "save"


def test_choice_points_and_plan():
    p = mixed()
    rec = Recorder()
    dv = unzip(p, rec)
    assert [fn for fn, _ in rec.plans] == p.names            # once per definition, in order
    g_points = dict(rec.plans)["g"]
    assert [pt.index for pt in g_points] == list(range(len(g_points)))
    kinds = [(pt.kind, pt.binders, pt.callee) for pt in g_points]
    assert kinds == [("unpack", ("u", "v"), None), ("let", ("k",), None), ("let", ("q",), None),
                     ("call", ("m", "n"), "h"), ("let", ("e",), None), ("let", ("z",), None),
                     ("let", ("y",), None)]
    assert all(pt.fn == "g" and pt.pos is not None for pt in g_points)
    assert dv.notes["points"] == [pt for _, pts in rec.plans for pt in pts]
    for d in p.defs:
        check_recombination(p, dv, d.name, points=1, symbolic=False)


def test_per_call_matches_jvp_names():
    from linear_a.transforms.jvp import jvp_program
    p = parse_program("""
def g(a: real) -> (real ;) =
  let (s ;) = sin(a) in
  s * a
def f(x: real) -> (real ;) =
  let (y ;) = g(x) in
  exp(y)
""")
    j = jvp_program(p)
    dv = unzip(j, "call:g=recompute")
    f_lin = dv.result["f_jvp_lin"]
    called = [n.fn for n in iter_nodes(f_lin.body) if type(n) is Call]
    assert called == ["g_jvp_nl", "g_jvp_lin"]       # g's residuals rebuilt right before g_lin
    saved = unzip(j).result["f_jvp_lin"]
    assert [n.fn for n in iter_nodes(saved.body) if type(n) is Call] == ["g_jvp_lin"]
    check_recombination(j, dv, "f_jvp")


def test_recomputed_call_does_not_store_callee_residuals():
    p = mixed()
    saved = unzip(p).notes["signatures"]["f"]
    recomputed = unzip(p, PerCall({"g": "recompute"})).notes["signatures"]["f"]
    g_res = unzip(p).notes["signatures"]["g"].residual_type
    assert g_res in saved.residual_type.items
    assert g_res not in recomputed.residual_type.items


# ----------------------------------------------------------------------------
# Invariance: every choice vector gives the same function.


class Vector(Policy):
    """An explicit choice vector for one definition (others saved)."""

    def __init__(self, fn, bits):
        self.fn, self.bits = fn, bits

    def decide(self, point):
        if point.fn != self.fn:
            return "save"
        return "recompute" if self.bits[point.index] else "save"


def _static_cost(bind, out: Program, costs: Costs) -> int:
    """Independent price of one duplicated binding (SPEC §4 table)."""
    rhs = bind.rhs if type(bind) is Let else None
    if rhs is None or type(rhs) in (NTup, Ret, Drop):     # (only non-linear drops are recomputed)
        return 0
    if type(rhs) is Prim:
        return costs.prim_cost(rhs.op)
    if type(rhs) is Lit:
        return costs.lit
    if type(rhs) is Call:          # W(g_nl) does not depend on the values: run it anywhere
        d = out[rhs.fn]
        def val(t):
            return 0.9 if t == REAL else tuple(val(s) for s in t.items)
        return evaluate(out, rhs.fn, {q.name: val(q.ty) for q in d.params}, costs=costs).work
    raise AssertionError(f"unexpected recomputed binding {rhs!r}")


def _extra(dv, fn, costs) -> int:
    """The recomputed work of one run of f: the bindings f's unzipping emitted in
    both halves, plus, for every call site, the callee's own recomputed work."""
    udef = next(u for u in dv.premises if u.subject.name == fn)
    extra = sum(_static_cost(b, dv.result, costs) for b in udef.notes["recomputed"])
    for n in iter_nodes(dv.subject[fn].body):
        if type(n) is Call:
            extra += _extra(dv, n.fn, costs)
    return extra


def _check_accounting(p, dv, fn, args, costs):
    run = run_split(dv, fn, args, costs=costs)
    base = evaluate(p, fn, args, costs=costs)
    extra = _extra(dv, fn, costs)
    assert run.work_nl + run.work_lin == base.work + extra, (fn, run, base.work, extra)
    return run, base


def test_every_choice_vector_same_function_and_exact_accounting():
    p = mixed()
    args = {"x": 0.4, "dx": 1.7}
    want = evaluate(p, "chain3", args)
    n_points = len(unzip(p, names=["chain3"]).notes["points"])
    assert n_points == 6
    seen_residuals = set()
    for bits in itertools.product((0, 1), repeat=n_points):
        dv = unzip(p, Vector("chain3", bits), names=["chain3"])
        typecheck(dv.result)
        run, _ = _check_accounting(p, dv, "chain3", args, Costs())
        assert abs(run.nl[0] - want.nl[0]) < 1e-12 and abs(run.lin[0] - want.lin[0]) < 1e-12
        seen_residuals.add(dv.notes["signatures"]["chain3"].residuals)
    assert len(seen_residuals) > 8          # the vectors really differ


@pytest.mark.parametrize("costs", [Costs(), Costs(lit=3, prim={"sin": 5, "exp": 7, "*": 2}, zero=2,
                                                  drop=4, add=3, dup=6, scale=2)],
                         ids=["default", "custom"])
@pytest.mark.parametrize("policy", [SaveAll(), RecomputeAll(), PerCall({"g": "recompute", "h": "recompute"}),
                                    RecomputeNamed({"c", "k", "e", "q"})], ids=lambda p: p.describe())
def test_work_accounting_on_every_definition(policy, costs):
    p = mixed()
    dv = unzip(p, policy)
    point = {"a": 0.3, "b": 1.1, "x": 0.8, "y": 1.4, "x1": 0.6, "x2": 1.9, "pr": (0.5, 1.2),
             "da": 1.0, "db": -2.0, "dx": 0.7, "dx1": 1.3, "dx2": -0.4, "dpr": (2.0, 0.1)}
    for d in p.defs:
        args = {q.name: point[q.name] for q in d.params}
        run, base = _check_accounting(p, dv, d.name, args, costs)
        if isinstance(policy, SaveAll):
            assert run.work_nl + run.work_lin == base.work          # conserved exactly


def test_unzip_costs_save_all_conserves_work():
    p = mixed()
    c = unzip_costs(p, "f", {"x1": 0.6, "x2": 1.9, "dx1": 1.3, "dx2": -0.4})
    assert c.work_nl + c.work_lin == c.work and c.extra_work == 0


# ----------------------------------------------------------------------------
# The memory/work trade on a chain.


def sin_chain(n: int) -> Program:
    """y_i = sin y_{i-1}, c_i = cos y_{i-1}, dy_i = c_i *. dy_{i-1} (JVP of an n-fold sin)."""
    binds, x, dx = [], "x", "dx"
    for i in range(1, n + 1):
        y, c, dy = f"y{i}", f"c{i}", f"dy{i}"
        binds += [Let((y,), (), Prim("sin", (x,))), Let((c,), (), Prim("cos", (x,))),
                  Let((), (dy,), Scale(c, dx))]
        x, dx = y, dy
    return Program([Def("f", [Param("x", REAL)], [Param("dx", REAL)], [REAL], [REAL],
                        Block(binds, Ret((x,), (dx,))))])


def test_recompute_all_trades_memory_for_work_on_a_chain(capsys):
    n = 50
    p = sin_chain(n)
    typecheck(p)
    args = {"x": 0.3, "dx": 1.0}
    save = unzip_costs(p, "f", args, SaveAll())
    rec = unzip_costs(p, "f", args, RecomputeAll())
    cos_only = unzip_costs(p, "f", args, RecomputeNamed({f"c{i}" for i in range(1, n + 1)}))
    with capsys.disabled():
        print(f"\n  sin chain, n = {n}: W(f) = {save.work}, M(f) = {save.memory}")
        for name, c in (("save-all", save), ("recompute-all", rec), ("recompute:c1..cn", cos_only)):
            print(f"  {name:17} W_nl={c.work_nl:4} W_lin={c.work_lin:4} extra={c.extra_work:3} "
                  f"|R|={c.residual_size:3} M_nl={c.memory_nl:3} M_lin={c.memory_lin:3}")
    # From first principles: f does n sin, n cos, n scalings.
    assert save.work == 3 * n
    # save-all: f_nl does the sin and cos, stores the n cosines; f_lin does the n scalings.
    assert (save.work_nl, save.work_lin, save.residual_size) == (2 * n, n, n)
    # recompute-all: only x is stored; f_lin recomputes y1..y(n-1) and all cosines.
    assert (rec.work_nl, rec.work_lin, rec.residual_size) == (n, 3 * n - 1, 1)
    assert rec.extra_work == n - 1
    # recomputing only the cosines moves them to f_lin: no extra work, the n sines' inputs stored.
    assert (cos_only.extra_work, cos_only.residual_size) == (0, n)
    # the trade is strict: less residual memory and less peak memory for f_lin, more work.
    assert rec.residual_size < save.residual_size and rec.memory_lin < save.memory_lin
    assert save.memory_lin >= n and rec.memory_lin <= 8
    assert rec.work_nl + rec.work_lin > save.work_nl + save.work_lin
    for policy in (SaveAll(), RecomputeAll()):
        check_recombination(p, unzip(p, policy), "f", points=1, symbolic=False)


# ----------------------------------------------------------------------------
# The trade-off table (transforms/tradeoff.py).

SIN_CHAIN = ("def f(x: real, w: real) -> (real ;) =\n"
             "  let (a1 ;) = sin(x) in\n  let (b1 ;) = a1 * w in\n"
             "  let (a2 ;) = sin(b1) in\n  let (b2 ;) = a2 * w in\n"
             "  let (a3 ;) = sin(b2) in\n  a3 * w\n")


def _non_dominated(points):
    return {p for p in points if not any(q != p and q[0] <= p[0] and q[1] <= p[1] for q in points)}


def test_pareto_front_is_the_non_dominated_points_once_each():
    """pareto keeps one row per non-dominated (W, M) point: a row tying a front
    row in W (with no less M) is dropped."""
    from linear_a.transforms.tradeoff import DEFAULT_POLICIES, Row, pareto, tradeoff
    prog = parse_program(SIN_CHAIN, "sin_chain")
    args = {"x": 0.5, "w": 1.5}
    tied = tradeoff(prog, "f", args, policies=("recompute-all", "every:16", "binomial:8"))
    assert len({r.work for r in tied}) == 1 and len(tied) == 3      # three policies, one W
    for rows in (tied, tradeoff(prog, "f", args, policies=DEFAULT_POLICIES),
                 [Row("a", 5, 1), Row("b", 3, 2), Row("c", 3, 4), Row("d", 3, 2), Row("e", 1, 9),
                  Row("f", 2, 9), Row("g", error="does not apply")]):
        ok = [r for r in rows if r.error is None]
        front = pareto(rows)
        points = {(r.work, r.memory) for r in front}
        assert len({r.work for r in front}) == len(front), [(r.policy, r.work, r.memory) for r in front]
        assert points == _non_dominated({(r.work, r.memory) for r in ok})
        assert [r.memory for r in front] == sorted(r.memory for r in front)
    assert [r.policy for r in pareto(tied)] == ["recompute-all"]


def test_tradeoff_close_compares_nested_tuples_by_shape_and_value():
    from linear_a.transforms.tradeoff import _close
    assert _close((1.0, (2.0, 3.0)), (1.0, (2.0, 3.0)))
    assert _close((0.1 + 0.2, ()), (0.3, ()))                 # within 1e-12 relative
    assert not _close((1.0, 2.0), (1.0, 2.0, 3.0))            # a shorter tuple is not a prefix match
    assert not _close((1.0, (2.0,)), (1.0, (2.0, 5.0)))
    assert not _close((1.0, (2.0, 3.0)), (1.0, (2.0, 3.5)))
    assert not _close(1.0, "x")
