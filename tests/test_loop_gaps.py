"""Boundaries and stated bounds of the loop transformations that no other test
pins (issue 19: the survivors of the mutation run in transforms/loop_ckpt.py,
transforms/loops.py and transforms/oracle.py, and their neighbours).

* the memory bounds of every:K and binomial:S (``loop_ckpt.memory_bound``): the
  measured M is within them on loops written differently (a tuple carry, a
  step calling a function, other names), each bound is the formula it prints
  term by term (c and A measured again here from their definitions), and M
  and the every:K bound grow with K by their per-iteration terms; a bound
  refuses two loops (check: unknown);
* ``budget_candidates``: the cheap/fallback split at r(N, S) = ``MAX_REPS``, the
  S = 1 cut at N = 150, and N read from a loop in any position;
* the names loop checkpointing and ULoopInv invent, when the program already
  uses them; the schedules' and ULoop's refusals (located, with hints);
* ULoopInv's residual tree at its depth limit (16 nested calls);
* the tape oracle: its loop returns one value per result (stacks included), a
  reverse loop runs backwards over its array, linear code is refused, and the
  forms a cotangent may take; the unrolled reference's refusals;
* the untaped-advance post-pass (``untape_advances``): the tape and its drop
  go, also when the call is the first binding and the drop the last, and a
  tape read elsewhere is kept; ``invariant_carries`` on a program never type
  checked (a parameter rebound by a let or an unpack is not invariant);
  ``unroll_loops`` inside a nested let's right-hand side (the bindings without
  a loop kept as the same objects)."""
import math
import re
from pathlib import Path

import pytest

from linear_a.semantics import parse_program, show, typecheck
from linear_a.semantics.syntax import ArrayType, Loop, iter_nodes, size_of_type
from linear_a.transforms.compose import grad, linearize, vjp_program
from linear_a.transforms.every import EveryK
from linear_a.transforms.loop_ckpt import (MAX_REPS, _namer, base_memory, binomial_bound,
                                           budget_candidates, memory_bound, revolve, segment,
                                           step_working_set, vjp_memory)
from linear_a.transforms.loops import unroll_loops
from linear_a.transforms.oracle import Tape, oracle_grad
from linear_a.transforms.revolve import repetitions

from helpers import LINEAR_LOOP, LOOP_CALLSTEP, STACKING_LOOP

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EULER = (EXAMPLES / "euler.la").read_text(encoding="utf-8").replace("loop 200", "loop {n}")

# the carry is a tuple (unpacked and rebuilt each step) beside a parameter
TUPLE_CARRY = """
def rot(p: (real, real), w: real) -> ((real, real), real ;) =
  let (a, b) = p in
  let (s ;) = sin(a) in
  let (c ;) = w * b in
  let (a2 ;) = a + c in
  let (b2 ;) = b - s in
  let (q ;) = (a2, b2) in
  (q, w ;)

def run(u: real, v: real, w: real) -> (real ;) =
  let (p ;) = (u, v) in
  let (pn, w1 ;) = loop {n} rot(p, w) in
  let (;) = drop(w1) in
  let (a, b) = pn in
  a * b
"""

# other names and layout: the loop's result feeds more work, the step has two
# varying carries and no parameter
PLAIN = """
def osc(pos: real, vel: real) -> (real, real ;) =
  let (acc ;) = cos(pos) in
  let (dt ;) = 0.05 in
  let (dv ;) = dt * acc in
  let (vel2 ;) = vel - dv in
  let (dp ;) = dt * vel2 in
  let (pos2 ;) = pos + dp in
  (pos2, vel2 ;)

def energy(p0: real, v0: real) -> (real ;) =
  let (pN, vN ;) = loop {n} osc(p0, v0) in
  let (kin ;) = vN * vN in
  let (pot ;) = sin(pN) in
  kin + pot
"""

BOUND_PROGRAMS = {
    "euler": (EULER, "euler", {"x0": 1.0, "y0": 0.5, "a": 1.1, "b": 0.4, "c": 0.4, "d": 0.1}),
    "callstep": (LOOP_CALLSTEP, "f", {"x": 0.7, "v": -0.3, "k": 1.9}),
    "tuple": (TUPLE_CARRY, "run", {"u": 0.3, "v": -0.2, "w": 0.8}),
    "plain": (PLAIN, "energy", {"p0": 0.4, "v0": 0.1}),
}


def close(a, b, tol=1e-9):
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def _stack_elem(prog, fn="f"):
    """The element type of the stack of fn's one loop, in fn's unzipped JVP."""
    lin = linearize(prog, names=[fn])
    (elem,) = [t.elem for t in lin[fn + "_jvp_nl"].nl_out[-1].items if type(t) is ArrayType]
    return elem


# ----------------------------------------------------------------------------
# every:K's memory bound


@pytest.mark.parametrize("name", sorted(BOUND_PROGRAMS))
def test_every_k_measured_memory_is_within_its_bound(name):
    """M of the every:K vjp, measured by the evaluator (float run, every iteration),
    never exceeds ``memory_bound`` -- N a multiple of K or not, K above N, K = 1 --
    and the gradient is the unrolled program's."""
    text, fn, at = BOUND_PROGRAMS[name]
    for n in (1, 6, 13):
        p = parse_program(text.format(n=n), f"{name}{n}.la")
        want = grad(unroll_loops(p), fn, at).gradient
        cache: dict = {}
        for k in (1, 2, 3, 5, 20):
            pol = EveryK(k)
            vp = vjp_program(p, fn, pol)
            m = vjp_memory(p, fn, at, "float", program=vp)
            bound, formula = memory_bound(pol.loops, p, fn, at, "float", cache)
            assert m <= bound, (name, n, k, m, formula)
            got = grad(p, fn, at, program=vp).gradient
            assert all(close(got[x], want[x]) for x in at), (name, n, k, got, want)


def _ones(ty, v=1.0):
    from linear_a.semantics.syntax import TupleType
    return tuple(_ones(t, v) for t in ty.items) if type(ty) is TupleType else v


@pytest.mark.parametrize("name", sorted(BOUND_PROGRAMS))
def test_step_working_set_is_the_larger_of_the_two_halves(name):
    """c (``step_working_set``), measured again here on floats: the step's
    forward half re-taping one iteration, plus the carry's cotangent held by
    the caller meanwhile; or the step's transposed half -- whichever is more."""
    from linear_a.semantics import evaluate
    from linear_a.transforms.compose import names_for
    text, fn, _ = BOUND_PROGRAMS[name]
    p = parse_program(text.format(n=3), f"{name}.la")
    (loop,) = [x for x in iter_nodes(p.get(fn).body) if type(x) is Loop]
    step = p.get(loop.fn)
    vp = vjp_program(p, step.name)
    nl, tn = names_for(step.name)
    fwd = evaluate(vp, nl, ([_ones(q.ty, 0.5) for q in step.nl_params], []))
    k = len(step.nl_out)
    back = evaluate(vp, tn, (list(fwd.nl[k:]), [_ones(t) for t in step.nl_out]))
    carry = sum(size_of_type(t) for t in step.nl_out)
    assert step_working_set(p, step.name) == max(fwd.memory + carry, back.memory)


@pytest.mark.parametrize("name,n,k", [("euler", 13, 3), ("callstep", 12, 4), ("tuple", 7, 2),
                                      ("plain", 5, 7)])
def test_every_k_bound_is_the_formula_it_prints(name, n, k):
    """The bound is Q·k + K·ρ + k + c + A with each term as documented:
    Q, R = divmod(N, K); k the carry's reals (from the step's signature); ρ the
    step's residual tuple (its ``_jvp_nl``'s last result); c = the step's
    working set + k; A = fn's save-all vjp with its loop run once.  The printed
    formula names these numbers, and the bound is their sum -- a term dropped or
    with its sign flipped shows here even where the measured M is far below."""
    text, fn, at = BOUND_PROGRAMS[name]
    p = parse_program(text.format(n=n), f"{name}.la")
    plan = segment(p, fn, k)
    bound, formula = memory_bound(plan, p, fn, at, "float")
    (loop,) = [x for x in iter_nodes(p.get(fn).body) if type(x) is Loop]
    step = p.get(loop.fn)
    carry = sum(size_of_type(t) for t in step.nl_out)
    rho = size_of_type(vjp_program(p, step.name).get(step.name + "_jvp_nl").nl_out[-1])
    c = step_working_set(p, step.name) + carry
    a = base_memory(p, fn, at, "float")
    q, r = divmod(n, k)
    # A, measured here on the program with its loop written `loop 1`
    assert a == vjp_memory(parse_program(text.format(n=1), "once.la"), fn, at, "float")
    terms = [q, carry, k, rho, carry, c, a]
    assert formula == "Q·k + K·ρ + k + c + A = {}·{} + {}·{} + {} + {} + {}".format(*terms)
    assert bound == q * carry + k * rho + carry + c + a
    # and the printed arithmetic is the bound (what `check` shows when it refutes)
    lhs = formula.split(" = ", 1)[1]
    assert eval(lhs.replace("·", "*"), {}) == bound       # only digits, + and *
    assert re.fullmatch(r"[\d·+ ]+", lhs)


@pytest.mark.parametrize("name,n,s", [("euler", 13, 2), ("callstep", 20, 3), ("tuple", 6, 1),
                                      ("plain", 9, 4)])
def test_binomial_bound_is_the_formula_it_prints_and_holds(name, n, s):
    """binomial:S: M ≤ snaps·k + c + A, snaps the schedule's most snapshots held
    (≤ S), the other terms as for every:K; the measured M is within it."""
    text, fn, at = BOUND_PROGRAMS[name]
    p = parse_program(text.format(n=n), f"{name}.la")
    plan = revolve(p, fn, s)
    bound, formula = memory_bound(plan, p, fn, at, "float")
    (loop,) = [x for x in iter_nodes(p.get(fn).body) if type(x) is Loop]
    carry = sum(size_of_type(t) for t in p.get(loop.fn).nl_out)
    c = step_working_set(p, loop.fn) + carry
    a = vjp_memory(parse_program(text.format(n=1), "once.la"), fn, at, "float")
    snaps = plan.trees[0][1]
    assert 1 <= snaps <= s
    assert formula == f"snaps·k + c + A = {snaps}·{carry} + {c} + {a}"
    assert bound == snaps * carry + c + a
    assert binomial_bound(plan, p) == (snaps, carry, c)
    vp = vjp_program(p, fn, f"binomial:{s}")
    assert vjp_memory(p, fn, at, "float", program=vp) <= bound


TWO_LOOPS = """
def spin(x: real, w: real) -> (real, real ;) =
  let (s ;) = sin(x) in
  let (y ;) = w * s in
  (y, w ;)

def f(x: real, w: real) -> (real ;) =
  let (a, w1 ;) = loop 3 spin(x, w) in
  let (b, w2 ;) = loop 2 spin(a, w1) in
  let (;) = drop(w2) in
  (b ;)
"""


def test_the_bounds_are_stated_for_one_loop_and_check_says_unknown(tmp_path, capsys):
    """With two loops the bounds refuse (Policy, saying how many loops), and
    `check --theorem checkpoint-memory` reports *unknown* with that reason, not
    proved and not a crash."""
    import json
    from linear_a.cli import main
    from linear_a.semantics.errors import TransformError
    p = parse_program(TWO_LOOPS, "two.la")
    at = {"x": 0.3, "w": 1.1}
    for plan in (segment(p, "f", 2), revolve(p, "f", 2)):
        assert len(plan.loops) == 2
        with pytest.raises(TransformError, match=r"stated for a definition with one loop "
                                                 r"\(this one has 2\)") as e:
            memory_bound(plan, p, "f", at, "float")
        assert e.value.rule == "Policy"
    with pytest.raises(TransformError, match="binomial bound is stated for a definition with one"):
        binomial_bound(revolve(p, "f", 2), p)
    f = tmp_path / "two.la"
    f.write_text(TWO_LOOPS)
    code = main(["check", str(f), "--theorem", "checkpoint-memory", "--fn", "f", "--json"])
    rows = [r for r in json.loads(capsys.readouterr().out)["results"]
            if r["theorem"] == "checkpoint-memory"]
    assert code == 0 and [r["status"] for r in rows] == ["unknown"]
    assert "this one has 2" in rows[0]["detail"]


@pytest.mark.parametrize("text", [LINEAR_LOOP, STACKING_LOOP.format(n=4)], ids=["linear-carry", "stacking"])
@pytest.mark.parametrize("schedule", ["every", "binomial"])
def test_schedules_refuse_a_loop_they_cannot_restructure(text, schedule):
    """A loop with a linear carry, or one that stacks an output, is refused by
    both schedules: a Policy error located at the loop, with the way out."""
    from linear_a.semantics.errors import TransformError
    p = parse_program(text, "refused.la")
    with pytest.raises(TransformError, match="purely non-linear and that read or stack no arrays"
                       ) as e:
        (segment if schedule == "every" else revolve)(p, "f", 2)
    assert e.value.rule == "Policy" and e.value.pos is not None and e.value.pos.line == 7
    assert e.value.hint == "use save-all or recompute-all for this loop"


@pytest.mark.parametrize("name", sorted(BOUND_PROGRAMS))
def test_every_k_memory_and_bound_grow_with_k_by_their_per_iteration_terms(name):
    """N = 12, K ∈ {1, 2, 3, 4, 6} (no remainder): less the Q·k of the stored
    states, the measured M grows with K by exactly the stacked residual's reals
    per iteration (what ULoopInv stacks: the invariant carries are not in it),
    and the bound by exactly ρ, the whole residual tuple.  So the bound's slack
    grows by ρ − stacked per iteration of a segment (euler: 7 − 3); at K = 1 it
    is 12–38 reals on these programs, more than 2k, which is why no measurement
    sees a k-term of the bound off by its sign (the formula test above does;
    the slack is measured, not required)."""
    text, fn, at = BOUND_PROGRAMS[name]
    p = parse_program(text.format(n=12), f"{name}12.la")
    (loop,) = [x for x in iter_nodes(p.get(fn).body) if type(x) is Loop]
    carry = sum(size_of_type(t) for t in p.get(loop.fn).nl_out)
    stacked = size_of_type(_stack_elem(p, fn))
    rho = size_of_type(vjp_program(p, loop.fn).get(loop.fn + "_jvp_nl").nl_out[-1])
    cache: dict = {}
    m, b = {}, {}
    for k in (1, 2, 3, 4, 6):
        pol = EveryK(k)
        vp = vjp_program(p, fn, pol)
        m[k] = vjp_memory(p, fn, at, "float", program=vp) - (12 // k) * carry
        b[k] = memory_bound(pol.loops, p, fn, at, "float", cache)[0] - (12 // k) * carry
    assert {k: m[k] - m[1] for k in m} == {k: (k - 1) * stacked for k in m}, (m, stacked)
    assert {k: b[k] - b[1] for k in b} == {k: (k - 1) * rho for k in b}, (b, rho)
    assert stacked <= rho and m[1] <= b[1]


# ----------------------------------------------------------------------------
# budget's candidate schedules


def _callstep(n):
    return parse_program(LOOP_CALLSTEP.format(n=n), f"callstep{n}.la")


@pytest.mark.parametrize("s", [1, 2, 3])
def test_budget_candidates_at_the_repetition_limit(s):
    """binomial:S is measured first while its repetition number r(N, S) is at most
    MAX_REPS (here at r = MAX_REPS exactly: N = β(S, MAX_REPS)); one iteration
    more (r = MAX_REPS + 1) it moves to the fallback list."""
    from math import comb
    assert MAX_REPS == 12
    n = comb(s + MAX_REPS, s)                     # β(S, 12): 13, 91, 455
    assert repetitions(n, s) == MAX_REPS and repetitions(n + 1, s) == MAX_REPS + 1
    first, fallback = budget_candidates(_callstep(n), "f")
    assert f"binomial:{s}" in first and f"binomial:{s}" not in fallback
    first, fallback = budget_candidates(_callstep(n + 1), "f")
    assert f"binomial:{s}" not in first and f"binomial:{s}" in fallback


def test_budget_candidates_lists_and_the_binomial_1_cut():
    """The lists in full for N = 100: every:K at K = √N/2, √N, 2√N; the cheap
    binomial:S by increasing S; the fallback by decreasing S.  binomial:1 nests N
    calls, so it is a fallback up to N = 150 and not tried above."""
    first, fallback = budget_candidates(_callstep(100), "f")
    assert first == ["save-all", "every:5", "every:10", "every:20", "binomial:3", "binomial:4",
                     "binomial:6", "binomial:10", "binomial:20", "recompute-all"]
    assert fallback == ["binomial:2", "binomial:1"]
    assert budget_candidates(_callstep(150), "f")[1] == ["binomial:2", "binomial:1"]
    assert budget_candidates(_callstep(151), "f")[1] == ["binomial:2"]


TAIL = """
def decay(h: real) -> (real ;) =
  let (s ;) = sin(h) in
  let (r ;) = 0.9 in
  r * s

def g(x: real) -> (real ;) =
  let (a ;) = cos(x) in
  loop {n} decay(a)

def g_let(x: real) -> (real ;) =
  let (a ;) = cos(x) in
  let (y ;) = loop {n} decay(a) in
  (y ;)

def g_body(x: real) -> (real ;) =
  loop {n} decay(x)
"""


def test_budget_candidates_see_a_loop_in_tail_position():
    """N is the loop's length wherever the loop stands: bound by a let, the whole
    body, or the tail of a block (there it was read as 0: every:1, every:2 and
    binomial:1 of a 400-iteration loop, which nests 400 calls)."""
    p = parse_program(TAIL.format(n=400), "tail.la")
    want = budget_candidates(p, "g_let")
    assert "every:20" in want[0] and "binomial:1" not in want[0] + want[1]
    assert budget_candidates(p, "g") == want == budget_candidates(p, "g_body")
    at = {"x": 0.3}
    ref = grad(p, "g_let", at)
    got = grad(p, "g", at, policy="budget:60")
    assert got.memory <= 60 and close(got.gradient["x"], ref.gradient["x"])


# ----------------------------------------------------------------------------
# the names loop checkpointing invents


def test_new_name_counts_up_from_one_past_taken_names():
    """``fn_base``, else ``fn_base_1``, ``fn_base_2``, … : the first name that is
    free and whose ``_jvp`` is free (JVP will name the new definition's JVP so)."""
    p = parse_program(CLASH, "clash.la")
    new_name = _namer(p, "f")
    assert new_name("other") == "f_other"
    assert new_name("rev7s2_step") == "f_rev7s2_step_1"          # f_rev7s2_step is taken
    assert new_name("seg3_step") == "f_seg3_step_2"              # and f_seg3_step_1's _jvp
    assert new_name("seg3_step") == "f_seg3_step_3"              # f_seg3_step_2 is now taken


CLASH = """
def step(x: real, k: real) -> (real, real ;) =
  let (s ;) = sin(x) in
  let (y ;) = k * s in
  (y, k ;)

def f_seg3_step(u: real) -> (real ;) =
  let (c ;) = cos(u) in
  u * c

def f_seg3_step_1_jvp(u: real) -> (real ;) =
  u * u

def f_rev7s2_step(u: real) -> (real ;) =
  sin(u)

def f(x: real, k: real) -> (real ;) =
  let (y, k1 ;) = loop 7 step(x, k) in
  let (;) = drop(k1) in
  let (a ;) = f_seg3_step(y) in
  let (b ;) = f_seg3_step_1_jvp(a) in
  let (c ;) = f_rev7s2_step(b) in
  (c ;)
"""


@pytest.mark.parametrize("policy", ["every:3", "binomial:2"])
def test_a_program_using_the_checkpoint_names_is_left_intact(policy):
    """The program defines the names every:3 and binomial:2 would give their new
    definitions (``f_seg3_step``, ``f_rev7s2_step``, and the JVP name of
    ``f_seg3_step_1``): the schedules pick other names, the user's definitions
    keep theirs, the gradient is the unrolled program's and the oracle's, and
    the printed vjp program re-parses and typechecks."""
    p = parse_program(CLASH, "clash.la")
    typecheck(p)
    plan = segment(p, "f", 3) if policy == "every:3" else revolve(p, "f", 2)
    new = {d.name for d in plan.new_defs}
    assert not new & set(p.names)
    assert all(plan.program.get(d.name).body == d.body for d in p.defs if d.name != "f")
    at = {"x": 0.4, "k": 1.2}
    want = grad(unroll_loops(p), "f", at).gradient
    oracle = oracle_grad(p, "f", at)
    vp = vjp_program(p, "f", policy)
    again = parse_program(show(vp), "clash_vjp.la")
    typecheck(again)
    for prog in (vp, again):
        got = grad(p, "f", at, program=prog).gradient
        assert all(close(got[x], want[x]) and close(got[x], oracle[x]) for x in at), (got, want)


# ----------------------------------------------------------------------------
# ULoopInv's residual tree: 16 nested calls deep


def nested_field(depth: int, n: int = 3):
    """A step whose invariant carry ``a`` is read only ``depth`` calls down:
    step → g1 → … → g_depth, where g_depth computes a·sin(x)."""
    defs = [f"def g{depth}(x: real, a: real) -> (real ;) =\n  let (s ;) = sin(x) in\n  a * s\n"]
    for i in range(depth - 1, 0, -1):
        defs.append(f"def g{i}(x: real, a: real) -> (real ;) =\n  g{i + 1}(x, a)\n")
    defs.append(f"""def step(x: real, a: real) -> (real, real ;) =
  let (y ;) = g1(x, a) in
  (y, a ;)

def f(x: real, a: real) -> (real ;) =
  let (y, a1 ;) = loop {n} step(x, a) in
  let (;) = drop(a1) in
  (y ;)
""")
    return parse_program("\n".join(defs), f"nested{depth}.la")




@pytest.mark.parametrize("depth", [1, 15, 16, 17])
def test_invariant_residual_tree_follows_calls_sixteen_deep(depth):
    """Up to 16 nested calls, ULoopInv finds the invariant carry in the innermost
    callee's residual tuple and keeps it out of the stack (2 reals stacked per
    iteration: sin x's and cos x's); one call deeper the callee's residual tuple is
    stacked whole, the carry with it (3 reals, nested 17 tuples deep).  Both give
    the oracle's gradient."""
    p = nested_field(depth)
    elem = _stack_elem(p)
    if depth <= 16:
        assert repr(elem) == "(real, real)", (depth, elem)
    else:
        assert size_of_type(elem) == 3 and repr(elem).startswith("(" * depth + "(real"), elem
    at = {"x": 0.4, "a": 1.3}
    got, want = grad(p, "f", at).gradient, oracle_grad(p, "f", at)
    assert all(close(got[x], want[x]) for x in at)


# ----------------------------------------------------------------------------
# the tape oracle's loop


def test_oracle_tape_loop_returns_one_value_per_result():
    """``Tape.run`` on a definition whose body is a loop that stacks an output
    returns exactly the definition's results: the carry and one stack of N
    values (with the carry count subtracted, not added)."""
    p = parse_program("""def g(x: real, w: real) -> (real, real, real ;) =
  let (s ;) = sin(x) in
  let (y ;) = w * s in
  (y, w, s ;)

def f(x: real, w: real) -> (real, real, [real; 4] ;) =
  loop 4 g(x, w)
""", "stacks.la")
    typecheck(p)
    tape = Tape(p)
    xs = [tape.leaf(0.5), tape.leaf(1.5)]
    outs = tape.run("f", xs)
    assert len(outs) == len(p.get("f").nl_out) == 3
    assert outs[1] == xs[1] and len(outs[2]) == 4
    assert all(type(i) is int for i in outs[2])


# ----------------------------------------------------------------------------
# ULoopInv's wrapper names, when the program already uses them

MIXED_CLASH = """
def step_jvp(x: real, k: real ; dx: real, dk: real) -> (real, real ; real, real) =
  let (s ;) = sin(x) in
  let (c ;) = cos(x) in
  let (; ds) = c *. dx in
  let (y ;) = k * s in
  let (; dk_1, dk_2) = dup(dk) in
  let (; dy) = s *. dk_1 in
  let (; dy_1) = k *. ds in
  let (; dy_2) = dy +. dy_1 in
  (y, k ; dy_2, dk_2)

def step_jvp_nl_inv(u: real) -> (real ;) =
  cos(u)

def step_jvp_lin_inv(u: real) -> (real ;) =
  u * u

def f_jvp(x: real, k: real ; dx: real, dk: real) -> (real ; real) =
  let (y, k1 ; dy, dk1) = loop 5 step_jvp(x, k ; dx, dk) in
  let (;) = drop(k1) in
  let (;) = drop(dk1) in
  let (a ;) = step_jvp_nl_inv(y) in
  let (b ;) = step_jvp_lin_inv(a) in
  (b ; dy)
"""


def test_invariant_wrappers_take_the_next_free_name():
    """Unzipping a loop whose step keeps k invariant writes two wrappers,
    ``step_jvp_nl_inv`` and ``step_jvp_lin_inv`` -- names this program already
    gives its own definitions, so the wrappers are ``…_inv2`` (the counter of
    ``LoopSplits._name`` starts at 2); the user's definitions are unzipped as
    themselves and the unzipped program computes the mixed program's values."""
    from linear_a.semantics import evaluate
    from linear_a.transforms.unzip import unzip_program
    p = parse_program(MIXED_CLASH, "mixed_clash.la")
    typecheck(p)
    u = unzip_program(p, names=["f_jvp"])
    typecheck(parse_program(show(u), "unzipped.la"))
    assert [x.fn for d in u.defs for x in iter_nodes(d.body) if type(x) is Loop] == \
        ["step_jvp_nl_inv2", "step_jvp_lin_inv2"]
    assert {"step_jvp_nl_inv_nl", "step_jvp_lin_inv_nl"} <= set(u.names)
    x, k, dx, dk = 0.4, 1.2, 1.0, 0.5
    whole = evaluate(p, "f_jvp", ([x, k], [dx, dk]))
    nl = evaluate(u, "f_jvp_nl", ([x, k], []))
    lin = evaluate(u, "f_jvp_lin", ([nl.nl[-1]], [dx, dk]))
    assert close(nl.nl[0], whole.nl[0]) and close(lin.lin[0], whole.lin[0])


# ----------------------------------------------------------------------------
# the oracle and the unrolling reference: reverse loops, refusals

REVERSE_OVER = """
def g(c: real, x: real) -> (real ;) =
  let (s ;) = sin(c) in
  s * x

def f(c: real, xs: [real; 3]) -> (real ;) =
  loop reverse 3 g(c) over (xs)
"""


def test_oracle_runs_a_reverse_loop_backwards_over_its_array():
    """``loop reverse 3 g(c) over (xs)`` is sin(sin(sin(c)·x3)·x2)·x1: the
    oracle's adjoints are that function's partial derivatives (by hand)."""
    p = parse_program(REVERSE_OVER, "rev.la")
    typecheck(p)
    c, xs = 0.3, [0.5, 1.5, -0.7]
    s1 = math.sin(c)
    u2 = s1 * xs[2]
    s2 = math.sin(u2)
    u1 = s2 * xs[1]
    s3 = math.sin(u1)
    g = oracle_grad(p, "f", {"c": c, "xs": xs})
    d_u1 = xs[0] * math.cos(u1)
    d_u2 = d_u1 * xs[1] * math.cos(u2)
    assert close(g["c"], d_u2 * xs[2] * math.cos(c))
    assert all(close(a, b) for a, b in zip(g["xs"], (s3, d_u1 * s2, d_u2 * s1))), g["xs"]


@pytest.mark.parametrize("text,at", [
    (LINEAR_LOOP, {"k": 1.0, "y": 2.0}),                                             # both
    ("def f(x: real ; y: real) -> (real ;) =\n  let (;) = drop(y) in\n  (x ;)\n",
     {"x": 1.0, "y": 2.0}),                                                          # inputs
    ("def f(x: real) -> (real ; real) =\n  let (; z) = zero in\n  (x ; z)\n", {"x": 1.0}),  # result
], ids=["loop", "linear-input", "linear-result"])
def test_oracle_refuses_a_function_with_a_linear_part(text, at):
    """A linear parameter or a linear result alone is enough: refused at the
    definition, before any of its code runs."""
    from linear_a.semantics.errors import TransformError
    p = parse_program(text, "lin.la")
    with pytest.raises(TransformError, match="`f` has a linear part") as e:
        oracle_grad(p, "f", at)
    assert e.value.rule == "oracle" and e.value.pos.line == p.get("f").pos.line


def test_unroll_refuses_arrays_and_reverse_loops():
    """The unrolled reference exists only for loops that carry their whole state
    forwards: a loop that stacks outputs, or a reverse loop, is refused at the loop."""
    from linear_a.semantics.errors import TransformError
    with pytest.raises(TransformError, match="only loops without arrays") as e:
        unroll_loops(parse_program(STACKING_LOOP.format(n=4), "stack.la"))
    assert e.value.rule == "Loop" and e.value.pos.line == 7 and e.value.file == "stack.la"
    backwards = TWO_LOOPS.replace("loop 3 spin", "loop reverse 3 spin")
    with pytest.raises(TransformError, match="a reverse loop without arrays is a forward loop") as e:
        unroll_loops(parse_program(backwards, "rev.la"))
    assert e.value.pos.line == 8 and e.value.location() == "rev.la:8:19"


@pytest.mark.parametrize("staged", ["x", "k"])
def test_staging_a_loops_step_is_refused_at_the_loop(staged):
    """Unknown (staged) inputs of a loop's step function are refused by ULoop,
    located at the loop, with the alternative (stage the caller's inputs)."""
    from linear_a.semantics.errors import TransformError
    from linear_a.transforms.unzip import unzip
    p = parse_program(LOOP_CALLSTEP.format(n=3), "callstep.la")
    with pytest.raises(TransformError, match="staging a loop's step is not supported") as e:
        unzip(p, unknown={"step": {staged}}, names=["f"])
    assert e.value.rule == "ULoop" and e.value.pos.line == 17
    assert "stage the caller's inputs instead" in e.value.hint


def test_cotangent_values_one_per_result_in_each_accepted_form():
    """The oracle's (and vjp's) reading of a cotangent: a single result's value
    bare or as a one-element list; several results one value each, tuples as
    lists; anything else a UsageError naming the results; no cotangent at all
    only for one real result."""
    from linear_a.semantics.errors import TransformError, UsageError
    from linear_a.semantics.syntax import RealType, TupleType
    from linear_a.transforms.oracle import cotangent_values
    r, pair = RealType(), TupleType([RealType(), RealType()])
    assert cotangent_values("f", [r], None) == [1.0]
    assert cotangent_values("f", [r], 2.5) == [2.5] == cotangent_values("f", [r], [2.5])
    assert cotangent_values("f", [pair], [1, 2]) == [[1, 2]] == cotangent_values("f", [pair], [[1, 2]])
    assert cotangent_values("f", [r, pair], [3, [1, 2]]) == [3, [1, 2]]
    for types, ct in (([r], [1, 2]), ([pair], [1]), ([pair], 1), ([r, pair], [3, 1]),
                      ([r, pair], [3, [1, 2], 4]), ([r, pair], 3), ([r, r], [[1], 2])):
        with pytest.raises(UsageError, match="does not match the results of `f`"):
            cotangent_values("f", types, ct)
    for types in ([pair], [r, r], []):
        with pytest.raises(TransformError, match="a gradient needs exactly one real result"):
            cotangent_values("f", types, None)


# ----------------------------------------------------------------------------
# the untaped-advance post-pass, invariant carries on untyped input, and
# unrolling inside a nested let

ADVANCE_VP = """
def h_jvp_nl(x: real) -> (real, real ;) =
  let (y ;) = sin(x) in
  (y, x ;)

def g_jvp_nl(x: real) -> (real ;) =
{pre}  let (y, t ;) = h_jvp_nl(x) in
  let (;) = drop(t) in
  (y ;)
"""


@pytest.mark.parametrize("pre", ["", "  let (u ;) = x * x in\n  let (;) = drop(u) in\n"],
                         ids=["call-first", "call-third"])
def test_untape_advances_drops_the_tape_and_its_drop(pre):
    """An advance ``g_jvp_nl`` whose call's tape ``t`` is read only by a later
    ``drop(t)`` becomes ``loop m step(x)`` without the tape, and the drop goes
    -- also when the call is the first binding and the drop the last (the
    search for the drop starts after the call).  A tape read by anything else
    is left alone (the program comes back as it was)."""
    from linear_a.semantics import evaluate
    from linear_a.transforms.loop_ckpt import untape_advances
    vp = parse_program(ADVANCE_VP.format(pre=pre), "vp.la")
    typecheck(vp)
    src = parse_program("def step(x: real) -> (real ;) =\n  sin(x)\n", "src.la")
    out = untape_advances(vp, src, {"g": (1, "step")}, ("g_jvp_nl",))
    assert out.names == ["step", "g_jvp_nl"]
    body = show(out.get("g_jvp_nl"))
    assert "drop(t)" not in body and "h_jvp_nl" not in body
    assert "let (y ;) = loop 1 step(x) in" in body
    typecheck(parse_program(show(out), "untaped.la"))
    x = 0.8
    assert evaluate(out, "g_jvp_nl", ([x], [])).nl == evaluate(vp, "g_jvp_nl", ([x], [])).nl
    kept = parse_program(ADVANCE_VP.format(pre=pre).replace("  (y ;)", "  y + t"), "vp.la")
    typecheck(kept)
    assert untape_advances(kept, src, {"g": (1, "step")}, ("g_jvp_nl",)) is kept


def test_invariant_carries_exclude_a_rebound_parameter():
    """A carry is invariant when the step's tail returns the parameter *and* no
    binding rebinds its name.  The type checker rejects a rebinding, but
    ``invariant_carries`` also reads programs that were never type checked
    (transpose_program(trusted=True), unzip of a JVP): a parameter rebound by a
    let (x) or by an unpack (k) is not invariant, though the tail names it."""
    from linear_a.semantics.errors import ScopeError
    from linear_a.transforms.loops import invariant_carries
    text = """
def step(x: real, k: real, p: (real, real)) -> (real, real, (real, real) ;) =
  let (x ;) = x + x in
  let (k, b) = p in
  let (;) = drop(b) in
  (x, k, p ;)
"""
    p = parse_program(text, "rebind.la")
    assert invariant_carries(p.get("step"), 3) == (2,)
    with pytest.raises(ScopeError, match="bound twice"):
        typecheck(p)
    fresh = parse_program(text.replace("let (x ;) = x + x", "let (x2 ;) = x + x")
                          .replace("let (k, b)", "let (k2, b)"), "fresh.la")
    assert invariant_carries(fresh.get("step"), 3) == (0, 1, 2)


NESTED_LOOP = """
def spin(x: real) -> (real ;) =
  let (s ;) = sin(x) in
  let (y ;) = s + x in
  (y ;)

def f(a: real) -> (real ;) =
  let (pr ;) = (a, a) in
  let (a1, a2) = pr in
  let (b ;) =
    let (c ;) = a1 * a2 in
    let (d ;) = loop 3 spin(c) in
    (d ;)
  in
  let (e ;) =
    let (g ;) = a + a in
    (g ;)
  in
  b * e
"""


def test_unroll_reaches_a_loop_inside_a_nested_let():
    """A loop in the right-hand side of a let (a block) is unrolled there; the
    other nested let, without a loop, is kept as the same binding (an unpack
    too), and a definition without loops as the same definition; the values
    agree."""
    from linear_a.semantics import evaluate
    p = parse_program(NESTED_LOOP, "nested.la")
    typecheck(p)
    u = unroll_loops(p)
    typecheck(parse_program(show(u), "unrolled.la"))
    assert not [x for d in u.defs for x in iter_nodes(d.body) if type(x) is Loop]
    assert show(u.get("f")).count("spin(") == 3
    assert u.get("spin") is p.get("spin")
    assert [x is y for x, y in zip(u.get("f").body.binds, p.get("f").body.binds)] == \
        [True, True, False, True]                                   # pr, (a1, a2), b, e
    for a in (0.7, -1.3):
        assert evaluate(u, "f", ([a], [])).nl == evaluate(p, "f", ([a], [])).nl
    no_loop = parse_program(NESTED_LOOP.replace("loop 3 spin(c)", "spin(c)"), "plain.la")
    assert unroll_loops(no_loop).get("f") is no_loop.get("f")
