"""Cost-only evaluation (``semantics/cost.py``): W and M without the values, a
loop's step run once.  Exact, not approximate: every test compares with the
full evaluator's ``work`` and ``memory``."""
from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest

from linear_a.proofs.generators import entry, seeded_programs
from linear_a.semantics import evaluate, parse_program, typecheck
from linear_a.semantics.cost import CostEvaluator, evaluate_cost, shape
from linear_a.semantics.domains import get_domain
from linear_a.semantics.errors import DomainError, EvalError, TransformError
from linear_a.semantics.evaluate import Costs
from linear_a.semantics.syntax import ArrayType, RealType
from linear_a.transforms.budget import Budget, choice_points, measure, measure_policy
from linear_a.transforms.compose import names_for, vjp, vjp_cost, vjp_program
from linear_a.transforms.loop_ckpt import budget_candidates
from linear_a.transforms.revolve import chain_source
from helpers import LOOP_CALLSTEP

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NS = (0, 1, 2, 13)

EULER = (EXAMPLES / "euler.la").read_text(encoding="utf-8").replace("loop 200", "loop {n}")

# a step that calls another definition (its callee's frame inside the step's)
CALLSTEP = LOOP_CALLSTEP

# nested loops (a loop in the step), stacked arrays of arrays read back by a
# reversed loop whose step loops over its element, a loop inside a callee, a
# linear carry, an array argument read by two loops and returned
NESTED = """
def inner(x: real, k: real) -> (real, real, real ;) =
  let (y ;) = k * x in
  let (s ;) = sin(y) in
  (s, k, y ;)

def middle(x: real, k: real, e: real) -> (real, real, [real; 3] ;) =
  let (x1 ;) = x + e in
  let (x2, k2, ys ;) = loop 3 inner(x1, k) in
  (x2, k2, ys ;)

def plus(acc: real, y: real) -> (real ;) =
  let (z ;) = acc + y in
  (z ;)

def addup(acc: real, ys: [real; 3]) -> (real ;) =
  let (a ;) = loop reverse 3 plus(acc) over (ys) in
  (a ;)

def scaled(x: real, e: real ; d: real) -> (real ; real) =
  let (y ;) = x * e in
  let (; d2) = e *. d in
  (y ; d2)

def inloop(x: real, k: real, es: [real; {n}]) -> (real ;) =
  let (x1, k1, yss ;) = loop {n} middle(x, k) over (es) in
  let (;) = drop(k1) in
  let (t ;) = loop reverse {n} addup(x1) over (yss) in
  (t ;)

def f(x: real, k: real, es: [real; {n}] ; d: real) -> (real, [real; {n}] ; real) =
  let (u ;) = inloop(x, k, es) in
  let (v ; d1) = loop {n} scaled(u ; d) over (es) in
  (v, es ; d1)
"""

# nested loops a vjp can take (no arrays in or out): the step loops, a callee loops
NESTED_AD = """
def inner(x: real, k: real) -> (real, real ;) =
  let (y ;) = k * x in
  let (s ;) = sin(y) in
  (s, k ;)

def outer(x: real, k: real) -> (real, real ;) =
  let (x2, k2 ;) = loop 3 inner(x, k) in
  let (c ;) = cos(x2) in
  (c, k2 ;)

def g(x: real, k: real) -> (real, real ;) =
  let (a, b ;) = loop {n} outer(x, k) in
  (a, b ;)

def h(x: real, k: real) -> (real ;) =
  let (a, k1 ;) = g(x, k) in
  let (b, k2 ;) = loop {n} outer(a, k1) in
  let (;) = drop(k2) in
  (b ;)
"""

LOOPED = {"euler": (EULER, "euler"), "callstep": (CALLSTEP, "f"), "nested": (NESTED_AD, "h")}
LOOP_POLICIES = ("save-all", "recompute-all", "every:1", "every:3", "every:5", "every:20",
                 "binomial:1", "binomial:2", "binomial:3", "binomial:4")


def value(ty, x: float = 0.5):
    """A value of type ty, every real x."""
    if isinstance(ty, RealType):
        return x
    if isinstance(ty, ArrayType):
        return [value(ty.elem, x) for _ in range(ty.n)]
    return [value(t, x) for t in ty.items]


def symbolic(ty, dom, name):
    if isinstance(ty, RealType):
        return dom.symbol(name)
    return [symbolic(t, dom, f"{name}_{i}") for i, t in enumerate(ty.items)]


def full(prog, fn, costs=None):
    """(W, M) by the full evaluator: on floats at 1/2, or on z3 symbols where 1/2 is
    outside a primitive's domain."""
    d = prog.get(fn)
    try:
        r = evaluate(prog, fn, ([value(p.ty) for p in d.nl_params],
                                [value(p.ty) for p in d.lin_params]), costs=costs)
    except DomainError:
        dom = get_domain("z3")
        r = evaluate(prog, fn, ([symbolic(p.ty, dom, p.name) for p in d.nl_params],
                                [symbolic(p.ty, dom, "l" + p.name) for p in d.lin_params]),
                     dom, costs)
    return r.work, r.memory


def full_vjp(prog, fn, policy=None, program=None):
    d = prog.get(fn)
    ones = [value(t, 1.0) for t in d.nl_out]
    r = vjp(prog, fn, {p.name: value(p.ty) for p in d.nl_params}, ones, policy, program=program)
    return r.work, r.memory


def parsed(text, n, name="t"):
    p = parse_program(text.replace("{n}", str(n)), f"{name}{n}.la")
    typecheck(p)
    return p


# ----------------------------------------------------------------------------


def test_every_example_every_definition():
    """Every definition of every example, and its vjp (save-all) where it has one."""
    checked = looped = 0
    for path in sorted(EXAMPLES.glob("*.la")):
        text = path.read_text(encoding="utf-8")
        variants = [text]
        for n in (200, 100):                 # the looped examples at other lengths too
            if f"loop {n} " in text:
                variants += [text.replace(f"loop {n} ", f"loop {m} ") for m in NS]
                looped += 1
        for t in variants:
            p = parse_program(t, path.name)
            typecheck(p)
            for d in p.defs:
                assert tuple(evaluate_cost(p, d.name)) == full(p, d.name), (path.name, d.name)
                if d.is_nonlinear:
                    assert vjp_cost(p, d.name) == full_vjp(p, d.name), (path.name, d.name)
                checked += 1
    assert checked >= 30 and looped >= 2


def test_random_looped_programs_and_their_vjps():
    progs = seeded_programs("looped", range(48))
    vjps = 0
    for i, p in enumerate(progs):
        typecheck(p)
        for d in p.defs:
            assert tuple(evaluate_cost(p, d.name)) == full(p, d.name), (i, d.name)
        fn = entry(p)
        if fn.is_nonlinear:
            assert vjp_cost(p, fn.name) == full_vjp(p, fn.name), i
            vjps += 1
    assert vjps >= 20


def test_nested_loops_arrays_of_arrays_loops_in_callees():
    for n in NS + (40,):
        p = parsed(NESTED, n, "nested")
        for fn in ("inloop", "f", "middle", "addup"):
            assert tuple(evaluate_cost(p, fn)) == full(p, fn), (n, fn)
        # the one evaluator in the cost domain without the summary agrees too
        d = p.get("f")
        r = evaluate(p, "f", ([value(q.ty) for q in d.nl_params],
                              [value(q.ty) for q in d.lin_params]), "cost")
        assert (r.work, r.memory) == tuple(evaluate_cost(p, "f"))


def test_other_cost_tables():
    tables = (Costs(loop=3), Costs(lit=0, dup=0, drop=0), Costs(prim={"sin": 7, "*": 2}, zero=2,
                                                                    add=3, scale=5, loop=1))
    for costs in tables:
        for n in NS:
            p = parsed(NESTED, n, "nested")
            assert tuple(evaluate_cost(p, "f", costs)) == full(p, "f", costs)
            vp = vjp_program(parsed(EULER, n), "euler", "binomial:2")
            for g in names_for("euler"):
                assert tuple(evaluate_cost(vp, g, costs)) == full(vp, g, costs)


@pytest.mark.parametrize("name", sorted(LOOPED))
def test_vjp_of_every_loop_policy(name):
    text, fn = LOOPED[name]
    for n, pol in product(NS + (57,), LOOP_POLICIES):
        p = parsed(text, n, name)
        vp = vjp_program(p, fn, pol)
        for g in names_for(fn):
            assert tuple(evaluate_cost(vp, g)) == full(vp, g), (n, pol, g)
        assert vjp_cost(p, fn, program=vp) == full_vjp(p, fn, program=vp), (n, pol)


def test_cost_only_runs_do_not_grow_with_n():
    """The number of calls a cost-only run makes (step runs and reuses) is the same
    at N = 13 and N = 20000: no iteration is run but the first."""
    class Counting(CostEvaluator):
        calls = 0

        def call(self, d, nl_args, lin_args, outer_live=0):
            Counting.calls += 1
            return super().call(d, nl_args, lin_args)

    def calls(prog, fn):
        Counting.calls = 0
        d = prog.get(fn)
        Counting(prog).call(d, [shape(q.ty) for q in d.nl_params], [shape(q.ty) for q in d.lin_params])
        return Counting.calls

    for text, fn in ((EULER, "euler"), (CALLSTEP, "f"), (NESTED, "f"), (NESTED_AD, "h")):
        small, big = parsed(text, 13), parsed(text, 20000)
        assert calls(small, fn) == calls(big, fn) <= 12
        for pol in ("save-all", "recompute-all"):
            if text is NESTED:                   # (arrays: no vjp)
                continue
            vs, vb = vjp_program(small, fn, pol), vjp_program(big, fn, pol)
            for g in names_for(fn):
                assert calls(vs, g) == calls(vb, g)
    # and the sizes it reports are N's
    assert evaluate_cost(parsed(EULER, 20000), "euler").work == 12 * 20000 + 1


def test_budget_measures_exactly_and_chooses_as_before():
    """budget:M's candidates measured by cost-only runs have the full evaluator's
    (W, M), so the choice is the one the full evaluator's measurements give."""
    for (name, (text, fn)), n in product(sorted(LOOPED.items()), (13, 60)):
        p = parsed(text, n, name)
        first, fallback = budget_candidates(p, fn)
        table = {}
        for c in first + fallback:
            try:
                table[c] = measure_policy(p, fn, c, "float")
            except EvalError:         # binomial:1 nests N calls: budget skips it, both ways
                with pytest.raises(EvalError, match="calls nest"):
                    measure_policy(p, fn, c)
                continue
            assert measure_policy(p, fn, c) == table[c], (name, n, c)
        for m in (10 ** 6, 300, 100, 45, 30):
            fit = [(*table[c], c) for c in first if c in table and table[c][1] <= m]
            fit = fit or [(*table[c], c) for c in fallback if c in table and table[c][1] <= m][:1]
            pol = Budget(m)
            if not fit:
                with pytest.raises(TransformError, match="no schedule tried fits"):
                    pol.prepare(p, fn)
                continue
            want = min(fit)
            pol.prepare(p, fn)
            assert (pol.cost, pol.method) == (want[:2], f"heuristic: {want[2]}"), (name, n, m)


def test_exhaustive_budget_measures_exactly():
    prog = parse_program(chain_source(3, ("sin", "tanh")), "chain3")
    points = choice_points(prog, "f")
    for bits in product(("save", "recompute"), repeat=len(points)):
        choices = {(q.fn, q.index): b for q, b in zip(points, bits)}
        assert measure(prog, "f", choices) == measure(prog, "f", choices, "z3")


def test_loop_schedule_subproblems_match_the_tree():
    """binomial:S over a loop writes one definition per distinct (length, snaps), found
    without building Revolve's O(N) tree; its (advances, snapshots) are the tree's."""
    from linear_a.transforms.loop_ckpt import _subproblems
    from linear_a.transforms.revolve import schedule, schedule_cost
    for n, s in product((2, 3, 7, 13, 57, 200, 1000), (1, 2, 3, 4, 10)):
        if s == 1 and n > 200:
            continue
        order, split, cost = _subproblems(n, s)
        assert cost == schedule_cost(schedule(n, s)), (n, s)
        tree, stack = set(), [schedule(n, s)]
        while stack:
            node = stack.pop()
            tree.add((node.length, node.snaps))
            if node.head is not None:
                assert split[(node.length, node.snaps)] == node.head.length
                stack += (node.head, node.tail)
        assert set(order) == tree and len(order) == len(tree)
