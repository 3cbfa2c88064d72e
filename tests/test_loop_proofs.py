"""Every theorem of `linear-a check` on programs with loops (issue 14, proofs/loops.py).

Looped programs are proved theorem by theorem (short loops by the ordinary
methods, long loops by induction on N); the loop rules' per-rule obligations
hold with N symbolic; a known-bad loop transformation is refuted by the
matching theorem; the random generator provably produces loops; the three
cost counters agree on loops, with hand-computed W and M."""
from __future__ import annotations

import pytest

from linear_a.proofs import loops, obligations, selftest
from linear_a.proofs.checks import Subject, applicable, check_program, run_check
from linear_a.proofs.costoracle import Oracle
from linear_a.proofs.coverage import STRUCTURE, _loop_items
from linear_a.proofs.generators import seeded_programs
from linear_a.proofs.runner import random_programs
from linear_a.semantics import parse_program
from linear_a.semantics.evaluate import DEFAULT_COSTS, evaluate
from linear_a.semantics.printer import show
from linear_a.semantics.syntax import Loop, iter_nodes
from linear_a.semantics.typecheck import typecheck
from pathlib import Path

EULER = (Path(__file__).resolve().parent.parent / "examples" / "euler.la").read_text()

# several reals and a tuple carried; the step calls a function
TUPLE_CALL = """def g(a: real, b: real) -> (real ;) =
  let (s ;) = sin(a) in
  s * b

def step(p: (real, real), z: real) -> ((real, real), real ;) =
  let (u, v) = p in
  let (w ;) = g(u, z) in
  let (c ;) = cos(v) in
  let (z1 ;) = w + c in
  let (q ;) = (c, w) in
  (q, z1 ;)

def f(x: real, y: real) -> (real ;) =
  let (p ;) = (x, y) in
  let (p1, z1 ;) = loop {n} step(p, x) in
  let (a, b) = p1 in
  let (t ;) = a * b in
  t + z1
"""

# a loop whose step runs a loop: induction on N applied to the step again
NESTED = """def inner(x: real, c: real) -> (real, real ;) =
  let (s ;) = sin(x) in
  let (t ;) = s * c in
  let (u ;) = tanh(t) in
  (u, c ;)

def outer(x: real, c: real) -> (real, real ;) =
  let (y, c1 ;) = loop 30 inner(x, c) in
  let (z ;) = y + c1 in
  let (w ;) = cos(z) in
  (w, c1 ;)

def f(x: real, c: real) -> (real ;) =
  let (y, c1 ;) = loop 20 outer(x, c) in
  y * c1
"""

PROGRAMS = {
    "short": selftest.LOOPED,
    "tuple-call": TUPLE_CALL.format(n=4),
    "zero-iterations": TUPLE_CALL.format(n=0),
    "long (induction)": selftest.LONG_LOOPED,
    "euler (200 steps)": EULER,
    "nested long loops": NESTED,
}


def _subject(text, name="f"):
    return Subject(name, parse_program(text, f"<{name}>"), positive=True, seed=1)


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_every_theorem_is_proved_on_a_looped_program(name):
    s = _subject(PROGRAMS[name])
    outs = check_program(s)
    assert {o.theorem for o in outs} == set(applicable(s))
    for o in outs:
        if o.theorem in loops.NOT_YET:          # checkpoint-memory: another branch's (iterckpt)
            assert o.status == "proved" or (o.status == "unknown" and o.method == "loops"), o
            continue
        assert o.status == "proved", (o.theorem, o.status, o.method, o.detail)
    by = {o.theorem: o for o in outs}
    long = loops.long_loop(s.prog, "jvp-correct")
    for t in loops.SYMBOLIC:
        assert ("induction on N" in by[t].method) == bool(long), (t, by[t].method)
    if long:        # each premise is named in the detail
        d = by["jvp-correct"].detail
        assert "N = 1: proved" in d and "N = 2: proved" in d and "step `" in d and "N-parametric" in d
    if name == "nested long loops":     # the step `outer` has a long loop of its own
        assert "step `outer`: proved by induction on N" in by["vjp-correct"].detail


def test_the_cost_bounds_carry_the_loop_term():
    """jvp-cost's weight counts N·(‖step‖ + a‖step‖): with W(loop) = N·W(step) the
    bound holds for a long loop, and both grow with N."""
    details = []
    for n in (3, 60):
        s = _subject(selftest.LOOPED.replace("loop 3", f"loop {n}"))
        o = run_check(s, "jvp-cost")
        assert o.status == "proved", o.detail
        details.append(o.detail)
    from linear_a.proofs import measure
    p3 = parse_program(selftest.LOOPED, "<3>")
    p60 = parse_program(selftest.LONG_LOOPED, "<60>")
    step_w = measure.work(p3, "step")
    assert measure.work(p60, "f") - measure.work(p3, "f") == 57 * step_w
    step_v = measure.weight(p3, "step") + measure.interface_weight(p3["step"])
    assert measure.weight(p60, "f") - measure.weight(p3, "f") == 57 * step_v
    assert details[0] != details[1]


def test_loop_counts_varied_and_blanked():
    p = parse_program(EULER, "<euler>")
    p2 = loops.with_loop_count(p, 2)
    assert [n.n for n in iter_nodes(p2["euler"].body) if type(n) is Loop] == [2]
    assert [n.n for n in iter_nodes(p["euler"].body) if type(n) is Loop] == [200]   # the original kept
    typecheck(p2)
    assert loops.blank_counts(show(p)) == loops.blank_counts(show(p2)) != show(p)
    assert loops.blank_counts("let (w ;) = loop reverse 7 g(; a) over (ws) in x: [real; 7]") == \
        "let (w ;) = loop reverse N g(; a) over (ws) in x: [real; N]"


def test_induction_needs_a_parametric_transform(monkeypatch):
    """A transformation whose output depends on N beyond copying it cannot be
    the subject of induction: unknown, with the reason (never proved)."""
    import importlib
    J = importlib.import_module("linear_a.transforms.jvp")
    real = J.jvp_program

    def by_n(prog, *a, **k):         # a different JVP text when the loop is long
        out = real(prog, *a, **k)
        if any(type(n) is Loop and n.n > 2 for d in prog.defs for n in iter_nodes(d.body)):
            out = parse_program(show(out).replace("let (s ;) = sin(x) in", "let (s ;) = sin(x) in\n"
                                                  "  let (k ;) = 1 in\n  let (;) = drop(k) in", 1), "<j>")
        return out
    monkeypatch.setattr(J, "jvp_program", by_n)
    o = run_check(_subject(selftest.LONG_LOOPED), "typing-sound")
    assert o.status == "unknown" and "not N-parametric" in o.detail, o


def test_loop_rules_per_rule_obligations_with_N_symbolic():
    consts = obligations.constants()
    fams = obligations._loop_families()
    assert {f.rule for f in fams} >= {"JLoop", "ULoop", "TLoop"}
    assert all("N" in f.params for f in fams)
    obls = [o for f in fams for o in obligations.obligations_for(f, consts, DEFAULT_COSTS)]
    assert {o.theorem for o in obls} == {"jvp-cost", "jvp-size", "unzip-cost", "transpose-cost",
                                         "transpose-size"}
    assert all(o.status == "proved" for o in obls), [(o.rule, o.theorem, o.status) for o in obls]
    jc = next(o for o in obls if o.theorem == "jvp-cost")
    assert "N" in jc.detail and "W1_h" in jc.detail        # N·W'_h, the step's own bound as hypothesis
    adj = [o for K in obligations.LOOP_STEPS for o in obligations.loop_adjoint(K)]
    assert {o.theorem for o in adj} == {"transpose-adjoint", "typing-sound"}
    assert all(o.status == "proved" for o in adj)
    # the loop rules are in the per-rule table `check` runs
    rules = {f.rule for f in obligations.families()}
    assert {"JLoop", "ULoop", "TLoop", "TLoop:over"} <= rules


def test_a_loop_obligation_fails_for_a_wrong_constant():
    """The loop obligations are not vacuous: with c_J below W(J(step))/W(step) the
    induction step fails (z3 gives the model)."""
    from fractions import Fraction
    consts = dict(obligations.constants())
    consts["c_J"] = (Fraction(1, 2), "too small")
    consts["d_J"] = (Fraction(0), "too small")
    fam = next(f for f in obligations._loop_families() if f.rule == "JLoop")
    o = next(o for o in obligations.obligations_for(fam, consts, DEFAULT_COSTS) if o.theorem == "jvp-cost")
    assert o.status == "refuted" and o.counterexample


@pytest.mark.parametrize("bad", selftest.LOOP_CORPUS, ids=[b.name for b in selftest.LOOP_CORPUS])
def test_bad_loop_transformations_are_refuted(bad):
    r = selftest.run_one(bad)
    assert r.status == "refuted", (bad.name, r.status, r.method, r.detail)
    assert r.detail


def test_loop_mutations_are_in_the_self_test():
    names = {b.name for b in selftest.CORPUS}
    assert {b.name for b in selftest.LOOP_CORPUS} <= names
    assert {b.theorem for b in selftest.LOOP_CORPUS} >= {"transpose-adjoint", "unzip-correct",
                                                         "jvp-correct", "cost-oracle"}


def test_the_generator_produces_loops():
    progs = seeded_programs("looped", range(12))
    for p in progs:
        typecheck(p)
        assert loops.has_loops(p)
    counts = [n.n for p in progs for d in p.defs for n in iter_nodes(d.body) if type(n) is Loop]
    assert set(counts) <= set(range(6)) and len(set(counts)) >= 3
    items = set().union(*(_loop_items(p) for p in progs))
    assert items == {"loop with a tuple carry", "loop whose step calls a function",
                     "loop with a linear carry (a user's linear loop)"}
    assert {"loop with a tuple carry", "loop whose step calls a function"} <= set(STRUCTURE)
    from linear_a.proofs.checks import program_kind
    kinds = [program_kind(p) for p in progs]
    assert "linear" in kinds and "nonlinear" in kinds       # both kinds of loop are generated


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_default_random_corpus_has_loops(seed):
    """What `check` (100+ random programs) requires of its coverage, for the
    seeds the tests use: deterministic, so it cannot flake."""
    progs = random_programs(100, seed)
    looped = [p for _, k, p in progs if k == "looped"]
    assert len(looped) >= 5 and all(loops.has_loops(p) for p in looped)
    items = set().union(*(_loop_items(p) for _, _, p in progs))
    assert {"loop with a tuple carry", "loop whose step calls a function"} <= items


def test_random_looped_programs_are_proved():
    for p in seeded_programs("looped", range(4)):
        s = Subject("looped", p, seed=2)
        for o in check_program(s):
            if o.theorem in loops.NOT_YET:
                continue
            assert o.status in ("proved", "checked"), (o.theorem, o.status, o.detail, show(p))


STEP_SIN = """def step(x: real) -> (real ;) =
  sin(x)

def f(x: real) -> (real ;) =
  let (y ;) = loop 3 step(x) in
  (y ;)
"""

# an array read by a loop and still live afterwards: held once, not twice
ARRAY_KEPT = """def g(w: real ; l: real) -> (; real) =
  w *. l

def f(ws: [real; 3] ; d: real) -> ([real; 3] ; real) =
  let (; e) = loop 3 g(; d) over (ws) in
  (ws ; e)
"""


@pytest.mark.parametrize("text,fn,args,want", [
    # W = 3·W(sin); M: the step's frame (x, then sin(x)) = 2 while the loop runs
    (STEP_SIN, "f", ([0.3], []), (3 * DEFAULT_COSTS.prim_cost("sin"), 2)),
    # W = 3 scalings; M: ws (3) live in the frame + the step's frame (w, l, then w *. l: 3) = 6
    (ARRAY_KEPT, "f", ([(0.5, 2.0, -1.0)], [1.5]), (3 * DEFAULT_COSTS.scale, 6)),
])
def test_three_counters_agree_on_loops_with_hand_computed_W_and_M(text, fn, args, want):
    prog = parse_program(text, "<loop costs>")
    from linear_a.proofs import measure
    r = evaluate(prog, fn, args)
    c = Oracle(show(prog)).count(fn)
    assert (r.work, r.memory) == want
    assert (c.work, c.memory) == want
    assert measure.work(prog, fn) == want[0]
    assert c.size == measure.size(prog, fn)


def test_the_loop_overhead_is_charged_N_times_by_every_counter():
    """With Costs.loop = 5, each of the three counters adds N·5 (and the
    cost-oracle theorem, comparing them, holds)."""
    import dataclasses
    from linear_a.proofs import measure
    costs = dataclasses.replace(DEFAULT_COSTS, loop=5)
    prog = parse_program(STEP_SIN, "<loop overhead>")
    base = 3 * DEFAULT_COSTS.prim_cost("sin")
    assert evaluate(prog, "f", ([0.3], []), "float", costs).work == base + 15
    assert Oracle(show(prog), costs).count("f").work == base + 15
    assert measure.work(prog, "f", costs) == base + 15
    s = Subject("f", prog, costs=costs, positive=True)
    assert run_check(s, "cost-oracle").status == "proved"


def test_a_short_loop_whose_normal_form_outgrows_its_budget_falls_back_to_induction(monkeypatch):
    """At N = 5 the iterated normal form can outgrow its budget (here made
    small): the direct check says unknown, and induction on N (whose N = 1, 2
    and step instances fit) proves the theorem; both verdicts are reported."""
    import functools
    from linear_a.proofs import checks
    from linear_a.proofs.normalform import NormalForm
    monkeypatch.setattr(checks, "NormalForm", functools.partial(NormalForm, max_terms=100))
    prog = parse_program(selftest.LOOPED.replace("loop 3", "loop 5"), "<five>")
    assert not loops.long_loop(prog, "jvp-correct")
    o = run_check(Subject("f", prog, seed=1), "jvp-correct")
    assert o.status == "proved" and o.method == "induction on N", o
    assert "normal form: unknown (a normal form has more than 100 terms)" in o.detail
    monkeypatch.setattr(checks, "NormalForm", functools.partial(NormalForm, max_terms=10 ** 6))
    o = run_check(Subject("f", prog, seed=1), "jvp-correct")
    assert o.status == "proved" and "induction" not in o.method    # the direct proof, where it fits
