"""Binomial (Revolve) checkpointing: the optimum t(l, s), the restructuring, the policy.

Independent truths: the reference values of t(l, s) quoted in the issue, the
dynamic programme of Revolve's recursion (computed here from scratch), the
checkpoint-schedules package's ``optimal_steps_binomial`` (which reports
l + t), the save-all gradient and the oracle's tape-based gradient."""
from __future__ import annotations

import math
import sys

import pytest
from checkpoint_schedules import optimal_steps_binomial

from semantics import evaluate, parse_program, typecheck
from semantics.errors import TransformError
from transforms.checkpoint import policy_from_string
from transforms.compose import grad, names_for
from transforms.oracle import oracle_grad
from transforms.revolve import (Binomial, binomial_vjp_program, chain_source,
                                optimal_forward_steps, optimal_split, restructure, schedule,
                                schedule_cost, step_costs)

sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))

# (l, s) -> t(l, s), from the issue (Griewank–Walther's closed form, first sweep included)
REFERENCE = {(100, 2): 845, (100, 3): 490, (100, 5): 316, (100, 10): 222,
             (1000, 3): 12155, (1000, 10): 3636, (10000, 10): 57624}


def dp_table(L, S):
    """t by Revolve's recursion t(l,s) = min_m m + t(l-m, s-1) + t(m, s), from scratch."""
    INF = float("inf")
    t = [[0] * (S + 1) for _ in range(L + 1)]
    for l in range(2, L + 1):
        t[l][0] = INF
        for s in range(1, S + 1):
            t[l][s] = min(m + t[m][s] + t[l - m][s - 1] for m in range(1, l))
    return t


@pytest.mark.parametrize("ls,expected", sorted(REFERENCE.items()))
def test_reference_values(ls, expected):
    assert optimal_forward_steps(*ls) == expected


@pytest.mark.parametrize("ls", [k for k in sorted(REFERENCE) if k[0] <= 1000])
def test_against_checkpoint_schedules(ls):
    # (optimal_steps_binomial is a slow search for l = 10^4, so that row is checked above only)
    l, s = ls
    assert optimal_steps_binomial(l, s) == l + optimal_forward_steps(l, s)


def test_formula_and_split_match_the_recursion():
    L, S = 120, 8
    t = dp_table(L, S)
    for l in range(1, L + 1):
        for s in range(1, S + 1):
            assert optimal_forward_steps(l, s) == t[l][s], (l, s)
            if l >= 2:
                m = optimal_split(l, s)
                assert 0 < m < l
                assert m + t[m][s] + t[l - m][s - 1] == t[l][s], (l, s, m)


def test_schedule_tree_cost_and_snapshots():
    for l, s in [(1, 1), (2, 1), (9, 1), (50, 2), (100, 3), (1000, 10), (10000, 10)]:
        advances, snaps = schedule_cost(schedule(l, s))
        assert advances == optimal_forward_steps(l, s)
        assert snaps <= s


CASES = [(1, 1), (2, 1), (3, 2), (7, 1), (7, 2), (20, 3), (33, 2), (40, 5)]


@pytest.mark.parametrize("l,s", CASES)
def test_gradient_and_forward_steps(l, s):
    prog = parse_program(chain_source(l), "chain")
    vp, pol = binomial_vjp_program(prog, "f", s)
    rp = pol.restructured.program
    costs = step_costs(["sin"])
    at = {"x0": 0.9}
    g = grad(rp, "f", at, costs=costs, program=vp)
    ref = grad(prog, "f", at, policy="save-all", costs=costs)
    orc = oracle_grad(prog, "f", at)
    assert g.gradient == ref.gradient                    # same float operations, same order
    assert math.isclose(g.gradient["x0"], orc["x0"], rel_tol=1e-12, abs_tol=1e-300)
    assert ref.work == l                                  # save-all: every step once
    assert g.work == l + optimal_forward_steps(l, s) == optimal_steps_binomial(l, s)
    # the residual tuple holds s snapshots and one tape
    nl_name, _ = names_for("f")
    r1 = evaluate(vp, nl_name, ([0.9], []))
    size = lambda v: sum(map(size, v)) if isinstance(v, tuple) else 1
    assert size(r1.nl[1:]) <= s + 1


def test_heterogeneous_multi_let_steps():
    """Steps of two lets and two kinds; every step must stay a step (cut where
    one real is live), and every s gives the save-all gradient."""
    src = ["def g(a: real) -> (real ;) ="]
    prev = "a"
    for i in range(12):
        if i % 2:
            src += [f"  let (p{i} ;) = tanh({prev}) in"]
        else:
            src += [f"  let (q{i} ;) = sin({prev}) in", f"  let (p{i} ;) = q{i} * {prev} in"]
        prev = f"p{i}"
    src += [f"  {prev} + {prev}"]
    prog = parse_program("\n".join(src) + "\n", "het")
    r = restructure(prog, "g", 2)
    assert r.steps == 13          # the final `+` is a step too
    typecheck(r.program)
    at = {"a": 0.7}
    ref = grad(prog, "g", at)
    for s in (1, 2, 3, 6):
        vp, pol = binomial_vjp_program(prog, "g", s)
        g = grad(pol.restructured.program, "g", at, program=vp)
        assert g.gradient == ref.gradient
        assert g.primal == ref.primal
        costs = step_costs(["sin", "tanh"])
        w = grad(pol.restructured.program, "g", at, program=vp, costs=costs).work
        # 12 steps: 6 sin-steps and 6 tanh-steps, plus the final `+` step (priced 0)
        assert w >= 12


def test_policy_string_and_errors():
    assert isinstance(policy_from_string("binomial:3"), Binomial)
    for bad in ("binomial:0", "binomial:x", "binomial:"):
        with pytest.raises(TransformError):
            policy_from_string(bad)
    prog = parse_program(chain_source(5), "chain")
    # vjp/grad prepare a schedule policy themselves: same gradient as save-all
    assert grad(prog, "f", {"x0": 0.3}, policy="binomial:2").gradient == \
        grad(prog, "f", {"x0": 0.3}).gradient
    not_chain = parse_program("def h(x: real, y: real) -> (real ;) =\n  x * y\n", "h")
    with pytest.raises(TransformError):
        restructure(not_chain, "h", 2)
    with pytest.raises(TransformError):
        restructure(prog, "nope", 2)
