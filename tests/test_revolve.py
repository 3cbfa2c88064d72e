"""Binomial (Revolve) checkpointing: the optimum t(l, s), the restructuring, the policy.

Independent truths: the reference values of t(l, s) quoted in the issue, the
dynamic programme of Revolve's recursion (computed here from scratch), the
checkpoint-schedules package's ``optimal_steps_binomial`` (which reports
l + t), the save-all gradient and the oracle's tape-based gradient.  The memory
bound M ≤ s + 4 on a sin chain is derived by hand (below, ``SIN_C``) from §4's
counting, not read off the implementation."""
from __future__ import annotations

import math
import sys

import pytest
from checkpoint_schedules import optimal_steps_binomial

from linear_a.semantics import evaluate, parse_program, typecheck
from linear_a.semantics.errors import TransformError
from linear_a.transforms.checkpoint import policy_from_string
from linear_a.transforms.compose import grad, names_for
from linear_a.transforms.oracle import oracle_grad
from linear_a.transforms.compose import vjp_program
from linear_a.transforms.revolve import (Binomial, advance_calls, binomial_vjp_program, chain_source,
                                memory_bound, optimal_forward_steps, optimal_split, restructure,
                                schedule, schedule_cost, step_costs, step_working_set)
from linear_a.semantics.syntax import Call, Drop, Let, iter_nodes

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
    # any straight-line non-linear definition is a chain now (here: one step) ...
    one = parse_program("def h(x: real, y: real) -> (real ;) =\n  x * y\n", "h")
    assert restructure(one, "h", 2).steps == 1
    # ... but not one with linear parameters
    not_chain = parse_program("def h(x: real ; dx: real) -> (; real) =\n  x *. dx\n", "h")
    with pytest.raises(TransformError):
        restructure(not_chain, "h", 2)
    with pytest.raises(TransformError):
        restructure(prog, "nope", 2)


# ----------------------------------------------------------------------------
# Peak memory (SPEC §4's M, §15's "peak memory ≤ s states").
#
# §4: a value is live from its binding to its last use; M sums ‖type‖ over the
# live values of every frame.  A computing node holds its inputs and results at
# once; a node that only passes values on (return, tuple, unpack, call) moves
# the ones at their last use.  Reversing a chain of x' = sin x with s snapshots
# then needs, besides the snapshots, at most: re-taping one step -- its input x,
# sin x and the partial cos x (3) -- while the wrapper above it holds the
# cotangent (1).  (The step's adjoint holds cos x, the incoming and the outgoing
# cotangent: 3.)  So c = 4, and M ≤ snaps + 4 ≤ s + 4 for every l.
SIN_C = 4


def _run(prog, fn, s, at=0.5):
    vp, pol = binomial_vjp_program(prog, fn, s)
    nl, tn = names_for(fn)
    r1 = evaluate(vp, nl, ([at], []))
    r2 = evaluate(vp, tn, (list(r1.nl[1:]), [1.0]))
    return vp, pol, r1, r2


def test_evaluator_moves_values_passed_on_and_holds_computed_ones():
    """The §4 counting the bound rests on, on three-line programs."""
    p = parse_program("def g(a: real, b: real) -> ((real, real) ;) =\n"
                      "  let (t ;) = (a, b) in\n  let (u, v) = t in\n  let (q ;) = (u, v) in\n"
                      "  (q ;)\n", "g")
    assert evaluate(p, "g", {"a": 1.0, "b": 2.0}).memory == 2     # never a, b and t at once
    h = parse_program("def h(x: real) -> (real ;) =\n  let (y ;) = sin(x) in\n  (y ;)\n", "h")
    assert evaluate(h, "h", {"x": 1.0}).memory == 2               # sin x holds x and its result
    k = parse_program("def k(a: real) -> ((real, real) ;) =\n  let (t ;) = (a, a) in\n"
                      "  (t ;)\n", "k")
    assert evaluate(k, "k", {"a": 1.0}).memory == 2               # a moved once, copied once


def test_sin_step_working_set_is_four():
    prog = parse_program(chain_source(5), "chain")
    vp, pol = binomial_vjp_program(prog, "f", 2)
    assert step_working_set(pol.restructured) == SIN_C
    assert memory_bound(pol.restructured) == (2, SIN_C)


@pytest.mark.parametrize("l", [10, 30, 100])
@pytest.mark.parametrize("s", [1, 2, 3, 5])
def test_peak_memory_is_s_snapshots_plus_a_constant(l, s):
    prog = parse_program(chain_source(l), "chain")
    vp, pol, r1, r2 = _run(prog, "f", s)
    snaps, c = memory_bound(pol.restructured)
    assert c == SIN_C and snaps <= s
    m = max(r1.memory, r2.memory)
    assert m <= snaps + SIN_C <= s + SIN_C, (l, s, r1.memory, r2.memory)
    # tight up to c: the residual tuple alone holds the snaps snapshots (and one tape)
    assert m >= snaps + 1
    if l > s:
        assert snaps == s           # every snapshot is used once the chain is long enough
    # W is still the optimum (under the step-counting cost table)
    costs = step_costs(["sin"])
    w = evaluate(vp, names_for("f")[0], ([0.5], []), costs=costs).work + \
        evaluate(vp, names_for("f")[1], (list(r1.nl[1:]), [1.0]), costs=costs).work
    assert w == l + optimal_forward_steps(l, s)


def test_peak_memory_does_not_grow_with_the_chain():
    for s in (1, 2, 5):
        ms = set()
        for l in (40, 400):
            _, _, r1, r2 = _run(parse_program(chain_source(l), "chain"), "f", s)
            ms.add(max(r1.memory, r2.memory))
        assert max(ms) <= s + SIN_C


class _Taped(Binomial):
    """binomial:S without the post-pass: the wrappers' advances stay taped."""

    def finish(self, vp, roots):
        return vp


def test_untaped_advances_are_what_bounds_memory():
    """Without :func:`advance_calls` every wrapper nested on a head path keeps
    its own copy of the snapshot: M grows with the number of repetitions."""
    prog = parse_program(chain_source(100), "chain")
    pol = _Taped(1)
    vp = vjp_program(pol.prepare(prog, "f"), "f", pol)
    nl, tn = names_for("f")
    r1 = evaluate(vp, nl, ([0.5], []))
    assert r1.memory > 1 + SIN_C + 50          # s = 1: the head path is 99 wrappers deep
    _, _, q1, q2 = _run(prog, "f", 1)
    assert max(q1.memory, q2.memory) <= 1 + SIN_C
    assert q1.nl == r1.nl                      # the same primal and residuals


def test_advance_calls_leave_no_dropped_tape():
    prog = parse_program(chain_source(60), "chain")
    vp, pol = binomial_vjp_program(prog, "f", 3)
    typecheck(vp)
    dropped = set()
    for d in vp.defs:
        for n in iter_nodes(d.body):
            if type(n) is Let and type(n.rhs) is Drop:
                dropped.add((d.name, n.rhs.v))
    for d in vp.defs:
        for n in iter_nodes(d.body):
            if type(n) is Let and type(n.rhs) is Call and n.rhs.fn.endswith("_jvp_nl"):
                assert (d.name, n.nl[-1]) not in dropped, (d.name, n.rhs.fn)
    # the advances call primal wrappers/nodes/steps of the restructured chain
    primal = {d.name for d in pol.restructured.program.defs}
    assert any(d.name in primal for d in vp.defs)
    # idempotent, and a no-op on a program with nothing to advance
    assert advance_calls(vp, pol.restructured.program, names_for("f")) is vp


def test_heterogeneous_steps_memory_bound():
    src = ["def g(a: real) -> (real ;) ="]
    prev = "a"
    for i in range(30):
        if i % 3 == 1:
            src += [f"  let (p{i} ;) = tanh({prev}) in"]
        elif i % 3 == 0:
            src += [f"  let (q{i} ;) = sin({prev}) in", f"  let (p{i} ;) = q{i} * {prev} in"]
        else:
            src += [f"  let (q{i} ;) = exp({prev}) in", f"  let (u{i} ;) = cos(q{i}) in",
                    f"  let (p{i} ;) = u{i} * q{i} in"]
        prev = f"p{i}"
    src += [f"  {prev} + {prev}"]
    prog = parse_program("\n".join(src) + "\n", "het")
    ref = grad(prog, "g", {"a": 0.3})
    for s in (1, 2, 4):
        vp, pol, r1, r2 = _run(prog, "g", s, at=0.3)
        snaps, c = memory_bound(pol.restructured)
        assert max(r1.memory, r2.memory) <= snaps + c
        assert r2.lin[0] == ref.gradient["a"]


# steps through a call, a tuple and its unpack, then a drop (state (x, w) of two reals)
CALL_TUPLE_CHAIN = """
def step(x: real, w: real) -> (real, real ;) =
  let (a ;) = sin(x) in
  let (b ;) = a * w in
  (b, w ;)

def f(x0: real, w0: real) -> (real ;) =
  let (x1, w1 ;) = step(x0, w0) in
  let (x2, w2 ;) = step(x1, w1) in
  let (t ;) = (x2, w2) in
  let (x3, w3) = t in
  let (x4, w4 ;) = step(x3, w3) in
  let (;) = drop(w4) in
  (x4 ;)
"""


@pytest.mark.parametrize("source, fn, at", [
    (chain_source(7), "f", {"x0": 0.9}),
    (chain_source(5, ("sin", "tanh"), name="h"), "h", {"x0": 0.3}),
    (CALL_TUPLE_CHAIN, "f", {"x0": 0.8, "w0": 1.3}),
], ids=["sin7", "sin-tanh5", "call-tuple"])
def test_binomial_programs_print_reparse_and_keep_the_gradient(source, fn, at):
    """The definitions binomial:S writes (steps, wrappers, nodes: parameters x1…,
    results y1…, z1…) and their vjp print as Linear A that parses back,
    typechecks and gives the save-all gradient."""
    from linear_a.semantics import show
    prog = parse_program(source, "chain")
    ref = grad(prog, fn, at)
    for s in (1, 2, 3):
        vp, pol = binomial_vjp_program(prog, fn, s)
        rp = parse_program(show(pol.restructured.program), "restructured.la")
        typecheck(rp)
        assert grad(rp, fn, at).gradient == pytest.approx(ref.gradient, rel=1e-12)
        vp2 = parse_program(show(vp), "vjp.la")
        typecheck(vp2)
        assert show(vp2) == show(vp)
        g = grad(rp, fn, at, program=vp2)
        assert g.gradient == pytest.approx(ref.gradient, rel=1e-12) and g.primal == ref.primal
