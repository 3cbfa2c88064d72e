"""Checkpointing over loop iterations (issue 14; transforms/loop_ckpt.py).

Every policy on looped programs against independent references: the unrolled
program's save-all gradient and the tape oracle; the printed gradient programs
re-parse and typecheck; their size does not grow with N; binomial:S's forward
step evaluations (counted by the evaluator under a cost table that prices the
step's one `tanh`/`sin` at 1) equal N + t(N, S) and its M stays within
snaps·k + c; every:K stores ⌈N/K⌉ states; bad policy strings are located errors."""
import math

import pytest

from linear_a.cli import main
from linear_a.semantics import parse_program, show, typecheck
from linear_a.semantics.syntax import Loop, iter_nodes, program_size
from linear_a.transforms.compose import grad, vjp_program
from linear_a.transforms.every import EveryK
from linear_a.transforms.loop_ckpt import binomial_bound, segment
from linear_a.transforms.loops import unroll_loops
from linear_a.transforms.oracle import oracle_grad
from linear_a.transforms.revolve import Binomial, optimal_forward_steps, step_costs
from helpers import LOOP_CALLSTEP, STACKING_LOOP

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Lotka–Volterra, explicit Euler: 2-real state, 4 parameters in the carry
EULER = (EXAMPLES / "euler.la").read_text(encoding="utf-8").replace("loop 200", "loop {n}")
EULER_AT = {"x0": 1.0, "y0": 0.5, "a": 1.1, "b": 0.4, "c": 0.4, "d": 0.1}

# a step that calls another definition; the parameter k rides in the carry
CALLSTEP = LOOP_CALLSTEP
CALLSTEP_AT = {"x": 0.7, "v": -0.3, "k": 1.9}

# three real carries and two parameters; the loop's result is used twice
THREE = """
def cell(h1: real, h2: real, h3: real, w: real, u: real) -> (real, real, real, real, real ;) =
  let (a ;) = w * h1 in
  let (b ;) = u * h3 in
  let (c ;) = a + b in
  let (n1 ;) = tanh(c) in
  let (half ;) = 0.5 in
  let (d ;) = half * h2 in
  let (n2 ;) = h1 + d in
  let (e ;) = sin(h2) in
  let (n3 ;) = u * e in
  (n1, n2, n3, w, u ;)

def f(h1: real, h2: real, h3: real, w: real, u: real) -> (real ;) =
  let (z ;) = h1 * w in
  let (g1, g2, g3, w1, u1 ;) = loop {n} cell(z, h2, h3, w, u) in
  let (;) = drop(u1) in
  let (s ;) = g1 + g2 in
  let (t ;) = s * g3 in
  let (r ;) = t * w1 in
  (r ;)
"""
THREE_AT = {"h1": 0.3, "h2": -0.4, "h3": 0.9, "w": 0.8, "u": 0.6}

# a one-real recurrent cell with one tanh per step: W under step_costs({"tanh"})
# counts step evaluations
CELL = """
def cell(h: real, w: real, u: real) -> (real, real, real ;) =
  let (a ;) = w * h in
  let (b ;) = a + u in
  let (h2 ;) = tanh(b) in
  (h2, w, u ;)

def f(h0: real, w: real, u: real) -> (real ;) =
  let (h, w1, u1 ;) = loop {n} cell(h0, w, u) in
  let (;) = drop(w1) in
  let (;) = drop(u1) in
  (h ;)
"""
CELL_AT = {"h0": 0.3, "w": 0.9, "u": 0.1}

PROGRAMS = {"euler": (EULER, "euler", EULER_AT), "callstep": (CALLSTEP, "f", CALLSTEP_AT),
            "three": (THREE, "f", THREE_AT)}
NS = [0, 1, 2, 7, 13]
POLICIES = ["save-all", "recompute-all", "every:1", "every:3", "every:5", "every:20",
            "binomial:1", "binomial:2", "binomial:4", "budget:100000", "budget:60"]


def prog(name, n):
    text, fn, at = PROGRAMS[name]
    return parse_program(text.format(n=n), f"{name}{n}.la"), fn, at


def close(a, b, tol=1e-9):
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("n", NS)
def test_every_policy_gives_the_unrolled_and_oracle_gradient(name, n):
    p, fn, at = prog(name, n)
    u = unroll_loops(p)
    assert not any(type(x) is Loop for d in u.defs for x in iter_nodes(d.body))
    want = grad(u, fn, at).gradient
    oracle = oracle_grad(p, fn, at)
    for k in at:
        assert close(want[k], oracle[k]), (k, want[k], oracle[k])
    for policy in POLICIES:
        if policy == "budget:60" and name == "euler" and n > 7:
            continue          # nothing fits in 60 reals there (tested below as an error)
        got = grad(p, fn, at, policy=policy)
        for k in at:
            assert close(got.gradient[k], want[k]), (policy, k, got.gradient[k], want[k])


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("policy", ["save-all", "recompute-all", "every:3", "binomial:2",
                                    "binomial:4", "budget:200"])
def test_printed_gradient_programs_reparse_and_typecheck(name, policy):
    p, fn, at = prog(name, 13)
    vp = vjp_program(p, fn, policy)
    text = show(vp)
    q = parse_program(text, "reparsed.la")
    typecheck(q)
    assert show(q) == text
    # the re-parsed program runs to the same gradient
    r1, r2 = grad(p, fn, at, program=vp), grad(p, fn, at, program=q)
    assert r1.gradient == r2.gradient and (r1.work, r1.memory) == (r2.work, r2.memory)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("policy", ["save-all", "recompute-all", "every:3", "every:7"])
def test_gradient_program_size_does_not_grow_with_n(name, policy):
    # 20 and 200 leave the same remainder mod 3 and mod 7 (2 and 4 / 6 and 4: differ for 7)
    sizes = {}
    for n in (20, 200, 2000) if policy != "every:7" else (27, 202, 2007):
        p, fn, _ = prog(name, n)
        sizes[n] = program_size(vjp_program(p, fn, policy))
    assert len(set(sizes.values())) == 1, sizes


def test_every_k_remainder_changes_size_by_one_loop_only():
    p20, _, _ = prog("euler", 20)
    p21, _, _ = prog("euler", 21)
    s20 = program_size(vjp_program(p20, "euler", "every:4"))      # 20 = 5·4
    s21 = program_size(vjp_program(p21, "euler", "every:4"))      # 21 = 5·4 + 1
    # the remainder loop in each half; each carries euler's 4 invariant parameters
    # (ULoopInv / TLoopInv: passed and dropped once, not stacked)
    assert s20 < s21 < s20 + 90


@pytest.mark.parametrize("n,k", [(13, 3), (12, 3), (200, 14), (7, 20), (1, 1)])
def test_every_k_stores_one_state_per_segment(n, k):
    """The forward half's residual: ⌈…⌉ segment-start states (6 reals each) and
    the remainder's N mod K residual tuples; nothing else."""
    p, fn, at = prog("euler", n)
    pol = EveryK(k)
    vp = vjp_program(p, fn, pol)
    plan = pol.loops
    q, r = divmod(n, k)
    (dv,) = plan.derivations
    assert (dv.judgment, dv.rule, dv.notes["Q"], dv.notes["R"]) == ("checkpoint", "CkEvery", q, r)
    seg_loops = [x for d in plan.program.defs if d.name == fn for x in iter_nodes(d.body)
                 if type(x) is Loop]
    assert [(x.n, x.fn == "euler_step") for x in seg_loops] == \
        ([(q, False)] if q else []) + ([(r, True)] if r else [])
    from linear_a.semantics.evaluate import evaluate
    from linear_a.transforms.compose import names_for
    res = evaluate(vp, names_for(fn)[0], at).nl[1]
    stacks = [s for s in res if type(s) is tuple]    # beside them, the remainder loop's invariant
    sizes = [len(s) for s in stacks]                      # parameters, stored once (reals)
    assert sizes == ([q] if q else []) + ([r] if r else [])
    if q:
        assert all(len(state) == 6 for state in stacks[0])


def test_every_k_memory_falls_with_segments():
    p, fn, at = prog("euler", 200)
    m_save = grad(p, fn, at).memory
    m_every = grad(p, fn, at, policy="every:14").memory
    w_save = grad(p, fn, at).work
    w_every = grad(p, fn, at, policy="every:14").work
    # save-all stacks 3 reals per step since invariant carries are stored once (was 7)
    assert m_every * 4 < m_save and w_every < 1.5 * w_save


SWEEP = [(n, s) for n in (2, 3, 7, 13, 50, 120) for s in (1, 2, 3, 4, 10)
         if not (s == 1 and n > 60)]


@pytest.mark.parametrize("n,s", SWEEP)
def test_binomial_extra_steps_are_t_and_memory_within_bound(n, s):
    p = parse_program(CELL.format(n=n), "cell.la")
    pol = Binomial(s)
    vp = vjp_program(p, "f", pol)
    r = grad(p, "f", CELL_AT, program=vp, costs=step_costs({"tanh"}))
    assert r.work == n + optimal_forward_steps(n, s)
    snaps, k, c = binomial_bound(pol.loops, p)
    assert snaps <= s and k == 3
    assert [(dv.rule, dv.notes["N"]) for dv in pol.loops.derivations] == [("CkRevolve", n)]
    assert r.memory <= snaps * k + c, (r.memory, snaps, k, c)
    # and the gradient is the save-all one
    g = grad(p, "f", CELL_AT)
    assert all(close(grad(p, "f", CELL_AT, program=vp).gradient[x], g.gradient[x]) for x in CELL_AT)


def test_binomial_advances_are_loops_and_size_follows_s_and_r_not_n():
    """The forward advances are `loop m cell(…)` with literal m; the schedule
    writes one rev and one adv definition per distinct subproblem (n, s):
    at most 3·S·r of them (r: the repetition number, β(S, r) ≥ N), not N."""
    from linear_a.transforms.revolve import repetitions
    for n, s in ((200, 4), (2000, 4), (20000, 4), (20000, 10), (2000, 2)):
        p = parse_program(CELL.format(n=n), "cell.la")
        pol = Binomial(s)
        vp = vjp_program(p, "f", pol)
        adv = [x for d in vp.defs if d.name.endswith("_jvp_nl") and "_adv" in d.name
               for x in iter_nodes(d.body) if type(x) is Loop]
        assert adv and all(x.fn == "cell" and x.n >= 1 for x in adv)
        r = repetitions(n, s)
        assert len(pol.loops.new_defs) <= 3 * s * r < n, (n, s, len(pol.loops.new_defs))


def test_binomial_lowers_memory_against_save_all_on_euler():
    p, fn, at = prog("euler", 200)
    save = grad(p, fn, at)
    b = grad(p, fn, at, policy="binomial:4")
    assert b.memory * 12 < save.memory     # save-all: 3 reals per step (invariant carries once)


def test_recompute_all_stores_only_the_loop_inputs():
    """recompute-all keeps no stack between the halves (the residual is the
    loop's inputs); its peak is still the re-stacked N residual tuples."""
    from linear_a.semantics.evaluate import evaluate, vsize
    from linear_a.transforms.compose import names_for
    for n in (20, 200):
        p, fn, at = prog("euler", n)
        vp = vjp_program(p, fn, "recompute-all")
        res = evaluate(vp, names_for(fn)[0], at).nl[1]
        assert vsize(res) == 6


def test_budget_picks_the_cheapest_fitting_schedule():
    p, fn, at = prog("euler", 200)
    cands = {pol: grad(p, fn, at, policy=pol) for pol in
             ("save-all", "every:7", "every:14", "every:28", "binomial:2", "binomial:4",
              "binomial:10", "binomial:20", "recompute-all")}
    for m in (10 ** 6, 300, 100, 45):
        fit = [r for r in cands.values() if r.memory <= m]
        got = grad(p, fn, at, policy=f"budget:{m}")
        assert got.memory <= m
        assert got.work == min(r.work for r in fit)


@pytest.mark.parametrize("argv,msg", [
    (("--policy", "every:0"), "every:K needs a positive number of steps"),
    (("--policy", "binomial:0"), "binomial:S needs a positive number of snapshots"),
    (("--policy", "every:x"), "every:K needs an integer"),
    (("--policy", "budget:5"), "no schedule tried fits in memory 5"),
])
def test_bad_loop_policies_are_located_errors(tmp_path, capsys, argv, msg):
    f = tmp_path / "e.la"
    f.write_text(EULER.format(n=20))
    code = main(["grad", str(f), "--fn", "euler", "--at", "x0=1,y0=0.5,a=1.1,b=0.4,c=0.4,d=0.1",
                 *argv])
    err = capsys.readouterr().err
    assert code != 0 and msg in err and "Traceback" not in err


def test_loop_reading_arrays_is_refused_by_every_k():
    """A loop that stacks outputs cannot be segmented: a located Policy error."""
    from linear_a.semantics.errors import TransformError
    text = STACKING_LOOP.format(n=4)
    p = parse_program(text, "arr.la")
    with pytest.raises(TransformError, match="read or stack no arrays") as e:
        segment(p, "f", 2)
    assert e.value.pos is not None


def test_checkpoint_memory_theorem_holds_on_loops(tmp_path, capsys):
    """`linear-a check --theorem checkpoint-memory` on the looped examples: proved
    (the bounds of loop_ckpt.memory_bound), no longer unknown."""
    f = tmp_path / "three.la"
    f.write_text(THREE.format(n=13))
    code = main(["check", str(f), str(EXAMPLES / "euler.la"), "--theorem", "checkpoint-memory",
                 "--fn", "f", "--fn", "euler", "--json"])
    import json
    out = json.loads(capsys.readouterr().out)
    rows = [r for r in out["results"] if r["theorem"] == "checkpoint-memory"]
    assert code == 0 and len(rows) == 2
    assert all(r["status"] == "proved" for r in rows), rows
    assert all("over iterations" in json.dumps(r) for r in rows)


TWO_LOOPS = """
def spin(x: real, w: real) -> (real, real ;) =
  let (s ;) = sin(x) in
  let (y ;) = w * s in
  (y, w ;)

def decay(x: real, y: real) -> (real, real ;) =
  let (z ;) = x * y in
  let (h ;) = 0.9 in
  let (x2 ;) = h * z in
  (x2, y ;)

def f(x: real, w: real) -> (real ;) =
  let (u ;) =
    let (a, w1 ;) = loop 11 spin(x, w) in
    let (b, c ;) = loop 6 decay(a, w1) in
    let (;) = drop(c) in
    (b ;) in
  let (v ;) = u * w in
  (v ;)
"""


@pytest.mark.parametrize("policy", ["every:2", "every:4", "binomial:1", "binomial:3", "budget:40",
                                    "recompute-all"])
def test_two_loops_in_a_nested_let(policy):
    """Both loops of f are rewritten (one inside a nested right-hand side);
    the gradient is the unrolled program's."""
    p = parse_program(TWO_LOOPS, "two.la")
    at = {"x": 0.4, "w": 1.3}
    want = grad(unroll_loops(p), "f", at).gradient
    vp = vjp_program(p, "f", policy)
    typecheck(parse_program(show(vp), "two_vjp.la"))
    got = grad(p, "f", at, program=vp).gradient
    assert all(close(got[k], want[k]) for k in at), (got, want)


def test_checkpoint_command_on_the_looped_example(capsys):
    """`linear-a checkpoint` on examples/euler.la: every schedule gives save-all's
    gradient; every:14 and binomial:4 lower M (and both are on the frontier)."""
    import json
    code = main(["checkpoint", str(EXAMPLES / "euler.la"), "--fn", "euler", "--policies",
                 "save-all,recompute-all,every:14,binomial:4", "--json"])
    out = json.loads(capsys.readouterr().out)
    rows = {r["policy"]: r for r in out["rows"]}
    assert code == 0 and all(r["same_gradient"] for r in rows.values())
    assert rows["binomial:4"]["memory"] < rows["every:14"]["memory"] < rows["save-all"]["memory"] / 4
    assert {"every:14", "binomial:4", "save-all"} <= set(out["frontier"])
