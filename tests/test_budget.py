"""``budget:M``: the cheapest choice vector within a memory budget."""
from __future__ import annotations

import random

import pytest

from linear_a.semantics import parse_program
from linear_a.semantics.errors import TransformError
from linear_a.transforms.budget import Budget, Fixed, budget_vjp_program, choice_points, frontier, measure
from linear_a.transforms.checkpoint import RECOMPUTE, SAVE, policy_from_string
from linear_a.transforms.compose import grad, vjp_program
from linear_a.transforms.oracle import oracle_grad
from linear_a.transforms.programs import chain_xw
from linear_a.transforms.revolve import chain_source

from helpers import SEED



@pytest.fixture(scope="module")
def chain4():
    prog = parse_program(chain_source(3, ("sin", "tanh")), "chain3")
    return prog, frontier(prog, "f")


def test_frontier_is_pareto_and_bounded(chain4):
    prog, (points, table, pareto) = chain4
    assert len(table) == 2 ** len(points)
    save_all = measure(prog, "f", {})
    # save-all does the least work (recomputing never saves work) …
    assert save_all[0] == min(w for w, _, _ in table)
    # … and the frontier dominates every vector
    for w, m, _ in table:
        assert any(pw <= w and pm <= m for pw, pm, _ in pareto)
    ms = [m for _, m, _ in pareto]
    ws = [w for w, _, _ in pareto]
    assert ms == sorted(ms) and ws == sorted(ws, reverse=True)
    # each trade-off once: the table has many vectors of equal (W, M) (chain3: 180 at (11, 5)),
    # the front keeps one, and a vector of equal W and more memory is not on it
    assert all(a < b for a, b in zip(ms, ms[1:])) and all(a > b for a, b in zip(ws, ws[1:]))
    assert pareto[0][1] <= save_all[1] and pareto[-1][0] == save_all[0]


def test_budget_choice_is_optimal_and_correct(chain4):
    prog, (points, table, pareto) = chain4
    least = min(m for _, m, _ in table)
    rng = random.Random(3)
    ref = oracle_grad(prog, "f", {"x0": 0.4})
    for budget in sorted({least, least + 1, pareto[len(pareto) // 2][1], 10 ** 6}):
        vp, pol = budget_vjp_program(prog, "f", budget)
        g = grad(prog, "f", {"x0": 0.4}, program=vp)
        assert abs(g.gradient["x0"] - ref["x0"]) <= 1e-12 * max(1.0, abs(ref["x0"]))
        w, m = pol.cost
        assert m <= budget
        assert (w, m) == measure(prog, "f", pol.choices)
        # no random vector within the budget is cheaper (independent of the search order)
        for _ in range(12):
            c = {(p.fn, p.index): rng.choice((SAVE, RECOMPUTE)) for p in points}
            cw, cm = measure(prog, "f", c)
            if cm <= budget:
                assert cw >= w
    with pytest.raises(TransformError, match="least peak memory"):
        Budget(least - 1).prepare(prog, "f")


def test_seed_example_budget():
    prog = parse_program(SEED, "seed")
    pts = choice_points(prog, "f")
    assert 0 < len(pts) <= 14
    save_w, save_m = measure(prog, "f", {})
    every = {(p.fn, p.index): RECOMPUTE for p in pts}
    rec_w, rec_m = measure(prog, "f", every)
    assert rec_w >= save_w and rec_m <= save_m
    # the seed article's adjoints (SPEC §13), under the all-recompute vector
    g = grad(prog, "f", {"x1": 2, "x2": 5}, policy=Fixed(every))
    assert round(g.gradient["x1"], 3) == 5.5 and round(g.gradient["x2"], 3) == 1.716


def test_policy_string_and_misuse():
    assert isinstance(policy_from_string("budget:12"), Budget)
    for bad in ("budget:x", "budget:-1", "budget:"):
        with pytest.raises(TransformError):
            policy_from_string(bad)
    prog = parse_program(SEED, "seed")
    # vjp/grad prepare the policy themselves: same gradient as save-all
    assert grad(prog, "f", {"x1": 2, "x2": 5}, policy="budget:10").gradient == \
        pytest.approx(grad(prog, "f", {"x1": 2, "x2": 5}).gradient)
    big = parse_program(chain_source(20), "c20")
    # beyond the exhaustive search: the heuristic over the schedules (issue 13)
    pol = Budget(8)
    pol.prepare(big, "f")
    assert pol.method.startswith("heuristic") and pol.cost[1] <= 8
    ref = grad(big, "f", {"x0": 0.3})
    got = grad(big, "f", {"x0": 0.3}, policy=Budget(8))
    assert got.memory <= 8 and got.gradient == pytest.approx(ref.gradient)
    with pytest.raises(TransformError, match="exhaustive only up to"):
        Budget(1).prepare(big, "f")
    assert Fixed({}).decide(pts_first(prog)) == SAVE


def pts_first(prog):
    return choice_points(prog, "f")[0]


def _brute_front(table):
    """The non-dominated (W, M) points of the table, by brute force."""
    pts = {(w, m) for w, m, _ in table}
    return {(w, m) for w, m in pts
            if not any(ow <= w and om <= m and (ow, om) != (w, m) for ow, om in pts)}


@pytest.mark.parametrize("source", [chain_source(5), chain_xw(3, name="g")], ids=["chain5", "chain_xw3"])
def test_frontier_is_the_brute_force_front(source):
    # both have a front of several points (recomputing trades work for memory:
    # chain5 (17, 5) (16, 6) (15, 7)); a program whose front is one point would not
    # tell the front's construction from picking the least-work vector
    prog = parse_program(source, "p")
    fn = prog.defs[0].name
    _, table, pareto = frontier(prog, fn)
    assert len(pareto) >= 3
    front = [(w, m) for w, m, _ in pareto]
    assert len(front) == len(set(front))          # one representative per (W, M)
    assert set(front) == _brute_front(table)
    for w, m, c in pareto:                        # each with a vector of the table that has it
        assert (w, m) == measure(prog, fn, c)


def test_budget_prepared_loop_program_is_not_searched_again():
    """On a loop, budget:M's prepare returns the program rewritten for its chosen
    schedule; handing that program back (as ``binomial_vjp_program`` does) keeps
    the choice: searching the rewritten program again would measure other
    candidates (here: none fits 100) and lose the schedule."""
    from pathlib import Path
    text = (Path(__file__).resolve().parent.parent / "examples" / "euler.la").read_text()
    prog = parse_program(text, "euler.la")
    at = {"x0": 1.0, "y0": 0.5, "a": 1.1, "b": 0.4, "c": 0.4, "d": 0.1}
    pol = Budget(100)
    rp = pol.prepare(prog, "euler")
    chosen = (pol.method, pol.cost)
    assert chosen[0].startswith("heuristic: binomial:") and chosen[1][1] <= 100
    assert pol.prepare(rp, "euler") is rp and (pol.method, pol.cost) == chosen
    vjp_program(rp, "euler", pol)
    got = grad(rp, "euler", at, policy=pol)
    assert (pol.method, pol.cost) == chosen and (got.work, got.memory) == chosen[1]
    ref = grad(prog, "euler", at)
    assert got.gradient == pytest.approx(ref.gradient, rel=1e-9, abs=1e-12)
