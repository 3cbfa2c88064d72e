"""Every checkpoint policy on every straight-line program (issue 13).

* Random non-linear programs (calls, tuples, unpacks, drops; some given a
  trailing ``drop`` after the last step): under every policy the vjp program
  prints, re-parses and typechecks, and gives save-all's primal and gradient.
* ``binomial:S`` re-runs exactly t(l, S) extra forward steps on chains of
  l ∈ {10, 100, 1000} steps whose state is 1, 2 or 6 reals, cross-checked with
  the ``checkpoint_schedules`` package; its peak memory is within the bound
  it states.
* ``every:K`` and ``binomial:S`` meet the issue's targets on a chain with
  state (x, w); the policy strings reach every command and every ``--help``.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linear_a.cli import main
from linear_a.proofs.generators import nonlinear_programs
from linear_a.semantics import parse_program
from linear_a.semantics.domains import get_domain
from linear_a.semantics.errors import DomainError
from linear_a.semantics.evaluate import bind_args, evaluate
from linear_a.semantics.printer import show
from linear_a.semantics.syntax import REAL, Block, Def, Drop, Let, Param, Program, RealType
from linear_a.semantics.typecheck import typecheck
from linear_a.transforms.compose import grad, names_for, vjp, vjp_program
from linear_a.transforms.programs import chain_xw, rotating
from linear_a.transforms.revolve import (binomial_vjp_program, chain_source, optimal_forward_steps,
                                         peak_bound, step_costs)

POLICIES = ["save-all", "recompute-all", "every:1", "every:2", "every:3", "binomial:1",
            "binomial:2", "binomial:3"]


def _with_trailing_drop(prog: Program) -> Program:
    """The entry with one more parameter, read only by a ``drop`` after its last step."""
    d = prog.defs[-1]
    taken = {p.name for p in d.params} | {n for e in prog.defs for n in _names(e)}
    z = "zz"
    while z in taken:
        z += "z"
    body = d.body if type(d.body) is Block else Block([], d.body)
    nd = Def(d.name, list(d.nl_params) + [Param(z, REAL)], d.lin_params, d.nl_out, d.lin_out,
             Block(list(body.binds) + [Let((), (), Drop(z))], body.tail), d.pos)
    return Program(prog.defs[:-1] + [nd], prog.file)


def _names(d):
    from linear_a.transforms.revolve import _binders
    return _binders(d.body if type(d.body) is Block else Block([], d.body))


def _like(ty, v):
    return v if isinstance(ty, RealType) else [_like(t, v) for t in ty.items]


def _flat(v):
    if isinstance(v, (tuple, list)):
        return [y for x in v for y in _flat(x)]
    return [float(v)]


def _close(a, b):
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
                                    for x, y in zip(a, b))


@settings(max_examples=30, deadline=None)
@given(nonlinear_programs(max_defs=3, max_lets=8), st.booleans(),
       st.lists(st.floats(-1.2, 1.2, allow_nan=False), min_size=6, max_size=6))
def test_every_policy_gives_the_save_all_gradient(prog, trailing, xs):
    if trailing:
        prog = _with_trailing_drop(prog)
    typecheck(prog)
    d = prog.defs[-1]
    args = {p.name: _like(p.ty, xs[i % len(xs)]) for i, p in enumerate(d.nl_params)}
    ct = [_like(t, 1.0) for t in d.nl_out]
    try:
        bind_args(d, args, get_domain("float"))
        ref = vjp(prog, d.name, args, ct)
    except DomainError:
        return
    for policy in POLICIES:
        vp = vjp_program(prog, d.name, policy)
        again = parse_program(show(vp))          # the printed schedule is real Linear A
        typecheck(again)
        r = vjp(prog, d.name, args, ct, program=again)
        assert _close(_flat(r.primal), _flat(ref.primal)), policy
        for k in ref.gradient:
            assert _close(_flat(r.gradient[k]), _flat(ref.gradient[k])), (policy, k)


def _forward_steps(prog, fn, s, ops, at):
    vp, pol = binomial_vjp_program(prog, fn, s)
    d = prog.get(fn)
    nl, tn = names_for(fn)
    costs = step_costs(ops)
    r1 = evaluate(vp, nl, (at, []), costs=costs)
    cts = [1.0] * len(d.nl_out)
    r2 = evaluate(vp, tn, (list(r1.nl[len(d.nl_out):]), cts), costs=costs)
    m = max(evaluate(vp, nl, (at, [])).memory,
            evaluate(vp, tn, (list(r1.nl[len(d.nl_out):]), cts)).memory)
    return r1.work + r2.work, pol.restructured, m


@pytest.mark.parametrize("l", [10, 100, 1000])
@pytest.mark.parametrize("k", [1, 2, 6])
def test_binomial_extra_steps_are_optimal(l, k):
    from checkpoint_schedules import optimal_steps_binomial
    if k == 1:
        prog, ops, at = parse_program(chain_source(l)), ["sin"], [0.5]
    else:
        prog, ops, at = parse_program(rotating(l, k)), ["*"], [1.0] * k
    for s in (2, 5):
        steps, r, m = _forward_steps(prog, "f", s, ops, at)
        assert r.steps == l and r.width == k
        assert steps - l == optimal_forward_steps(l, s) == optimal_steps_binomial(l, s) - l
        assert m <= peak_bound(r)


def test_binomial_on_the_chain_with_state_x_w():
    """2 lets a step: each let is a step of the schedule, the state (x, w)."""
    prog = parse_program(chain_xw(50))
    steps, r, m = _forward_steps(prog, "f", 3, ["sin", "*"], [0.5, 1.1])
    assert r.steps == 100 and r.width == 2
    assert steps - 100 == optimal_forward_steps(100, 3)
    assert m <= peak_bound(r) <= 3 * 2 + 6


def test_targets_on_a_chain_with_state_x_w():
    prog = parse_program(chain_xw(300), "chain")
    at = {"x": 0.5, "w": 1.1}
    base = grad(prog, "f", at)
    every = grad(prog, "f", at, policy="every:32")
    binom = grad(prog, "f", at, policy="binomial:10")
    assert every.memory <= 0.15 * base.memory and every.work <= 2.5 * base.work
    assert binom.memory <= 40 and binom.work <= 6 * base.work
    assert every.gradient == pytest.approx(base.gradient, rel=1e-12)
    assert binom.gradient == pytest.approx(base.gradient, rel=1e-12)


def test_every_k_saves_a_state_every_k_steps():
    from linear_a.transforms.every import EveryK
    prog = parse_program(chain_xw(12))
    pol = EveryK(4)
    vjp_program(prog, "f", pol)
    assert pol.cuts["f_jvp"] == [2] * 5          # 24 steps: cuts after 4, 8, …, 20; state (x, w)
    assert pol.segment_reals["f_jvp"] > 0


@pytest.mark.parametrize("source, k, cuts, reals", [
    # no binding at all: nothing is recomputed
    ("def f(x: real) -> (real ;) =\n  (x ;)\n", 1, [], 0),
    # one step, no cut: its one segment recomputes sin x and the partial cos x
    (chain_source(1), 1, [], 2),
    # x1 … x6 = sin(…), cuts after x2 and x4 (saved): the segments recompute
    # (x1, cos x0, cos x1), (x3, cos x2, cos x3), (x5, cos x4, x6, cos x5): at most 4
    (chain_source(6), 2, [1, 1], 4),
    # aᵢ = sin xᵢ₋₁, xᵢ = aᵢ * w, 24 steps, a cut after every 4th (state x₂ⱼ, w):
    # a middle segment recomputes a, cos, x, a, cos (5), the last one also x12 (6)
    (chain_xw(12), 4, [2] * 5, 6),
], ids=["no-binding", "one-step", "sin6-every2", "xw12-every4"])
def test_every_k_segment_reals_counted_by_hand(source, k, cuts, reals):
    from linear_a.transforms.every import EveryK
    pol = EveryK(k)
    vjp_program(parse_program(source), "f", pol)
    assert pol.cuts["f_jvp"] == cuts
    assert pol.segment_reals["f_jvp"] == reals


@pytest.mark.parametrize("cmd", ["grad", "vjp", "linearize", "unzip", "trace"])
@pytest.mark.parametrize("policy", ["every:2", "binomial:2", "budget:30", "recompute-all"])
def test_policy_strings_reach_every_command(capsys, cmd, policy):
    argv = [cmd, "examples/chain.la", "--fn", "f", "--policy", policy]
    if cmd in ("grad", "vjp"):
        argv += ["--at", "x=0.5,w=1.5"]
    if cmd == "trace":
        argv += ["--stage", "transpose"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.strip()


@pytest.mark.parametrize("cmd", ["grad", "vjp", "linearize", "unzip", "trace", "checkpoint", "check"])
def test_every_help_lists_the_policies(capsys, cmd):
    assert main([cmd, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split()).replace("- ", "-")   # argparse wraps at hyphens
    for form in ("every:K", "binomial:S", "budget:M", "recompute-all"):
        assert form in out, (cmd, form)


def test_checkpoint_command(capsys, tmp_path):
    import json
    assert main(["checkpoint", "examples/chain_xw.la", "--fn", "f", "--at", "x=0.5,w=1.1",
                 "--policies", "save-all,recompute:a1,a2,every:4,binomial:2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["policy"]: r for r in data["rows"]}
    assert set(rows) == {"save-all", "recompute:a1,a2", "every:4", "binomial:2"}
    assert all(r["same_gradient"] for r in rows.values())
    assert rows["binomial:2"]["memory"] < rows["every:4"]["memory"] < rows["save-all"]["memory"]
    assert rows["save-all"]["extra_work"] == 0 and rows["every:4"]["extra_work"] > 0
    assert "binomial:2" in data["frontier"]
    assert main(["checkpoint", "examples/chain_xw.la", "--fn", "f", "--policies", "nope"]) != 0


def test_plot_without_matplotlib_is_a_clear_error(capsys, tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "matplotlib", None)     # import matplotlib → ImportError
    out = tmp_path / "f.png"
    assert main(["checkpoint", "examples/chain.la", "--fn", "f", "--plot", str(out)]) != 0
    assert "matplotlib" in capsys.readouterr().err
    assert not out.exists()


def test_check_takes_policies(capsys):
    from linear_a.proofs import checkpoint_checks
    try:
        assert main(["check", "examples/chain.la", "--theorem", "checkpoint-invariance",
                     "--policy", "every:5", "--policy", "binomial:3", "-v"]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "every:5" in out and "binomial:3" in out
    finally:
        checkpoint_checks.EXTRA_POLICIES.clear()
    assert main(["check", "examples/chain.la", "--policy", "bogus"]) != 0


def test_a_schedule_nesting_calls_too_deep_is_a_located_error_not_a_crash(capsys, tmp_path):
    """binomial:1 over 1000 steps nests its calls ~1000 deep: the transposer walks
    a worklist (any depth); the evaluator, which keeps a callee's frame on the
    Python stack, reports an EvalError (exit 1) saying how deep and what to do,
    never an internal error (exit 3)."""
    path = tmp_path / "long.la"
    path.write_text(chain_xw(1000))
    code = main(["grad", str(path), "--fn", "f", "--at", "x=0.5,w=1.1", "--policy", "binomial:1"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "deeper than this evaluator's stack allows" in err and "more snapshots" in err
    assert main(["vjp", str(path), "--fn", "f", "--policy", "binomial:1"]) == 0   # printing is fine
    capsys.readouterr()
