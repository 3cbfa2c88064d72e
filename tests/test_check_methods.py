"""The checks' methods, each on its own (issue 19).

A theorem is decided by several methods (normal form, sympy, z3, points),
and a refutation by any of them wins.  So a method that went blind -- proving
a wrong transform, or no longer proving a right one -- is hidden by the
others: ``linear-a check`` still passes on correct transforms, and the
self-test still refutes its known-bad ones.  These tests run each method
alone: it proves the correct transform, it refutes the bad one with a point,
and the pieces the methods share (the sampling range, the numeric witness,
the programs compared, the diff shown) do what they say.
"""
from __future__ import annotations

import dataclasses
import json
import random
import re
import time
from fractions import Fraction
from types import SimpleNamespace

import pytest
import sympy

from linear_a.proofs import checks, measure, selftest
from linear_a.proofs.checks import Refuted, Subject, Verdicts, run_check
from linear_a.proofs.normalform import NormalForm
from linear_a.proofs.refute import sample_range
from linear_a.semantics import parse_program
from linear_a.semantics.syntax import Program

# The self-test's programs, and one written differently: a tuple input, a call,
# other names, two results.
TUPLE_CALL = """def h(u: real, w: real) -> (real ;) =
  let (e ;) = exp(u) in
  e * w

def top(q: (real, real), z: real) -> (real, real ;) =
  let (q0, q1) = q in
  let (m ;) = h(q0, z) in
  let (c ;) = cos(q1) in
  (m, c ;)
"""
PROGRAMS = {"seed": selftest.SEED, "two-out": selftest.TWO_OUT, "tuple-call": TUPLE_CALL}


def subject(name, **kw):
    return Subject(name, parse_program(PROGRAMS[name], f"<{name}>"), seed=3, positive=True, **kw)


def statuses(v: Verdicts, method: str) -> list[str]:
    return [st for m, st, _ in v.items if m == method]


# ---------------------------------------------------------------------------
# sympy and z3 prove the correct transforms on their own


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_sympy_alone_proves_a_correct_jvp(name):
    v = Verdicts()
    checks._sympy_jvp(subject(name), v)
    assert statuses(v, "sympy") == ["proved"], v.detail()


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_sympy_alone_proves_each_correct_vjp_program(name):
    s = subject(name)
    programs = s.vjp_programs()
    assert programs
    for label, vp in programs:
        v = Verdicts()
        checks._sympy_vjp(s, v, label, vp)
        assert statuses(v, "sympy") == ["proved"], (label, v.detail())


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_sympy_and_z3_alone_prove_the_linear_half_linear(name):
    prog, fn = subject(name).linear_program()
    for method, run in (("sympy", checks._sympy_linearity), ("z3", checks._z3_linearity)):
        v = Verdicts()
        run(prog, fn, v)
        assert statuses(v, method) == ["proved"], (method, v.detail())


# ---------------------------------------------------------------------------
# ... and refute a wrong one on their own, with a point


def _with_tripled_sin(run):
    saved = selftest._apply(selftest._partials("sin", selftest._tripled))
    try:
        return run()
    finally:
        selftest._undo(saved)


def test_sympy_alone_refutes_a_wrong_jvp_with_a_point():
    s = Subject("unary", parse_program(selftest.UNARY.format(op="sin"), "<sin>"), seed=3)
    with pytest.raises(Refuted) as e:
        _with_tripled_sin(lambda: checks._sympy_jvp(s, Verdicts()))
    assert e.value.method == "sympy, numeric witness"
    point = e.value.cex["point"]
    assert set(point) >= {"x_x", "x_y"} and "the difference" in e.value.detail


def test_sympy_alone_refutes_a_wrong_vjp_with_a_point():
    s = Subject("unary", parse_program(selftest.UNARY.format(op="sin"), "<sin>"), seed=3, path="reference")

    def run():
        (label, vp), = s.vjp_programs()
        checks._sympy_vjp(s, Verdicts(), label, vp)
    with pytest.raises(Refuted) as e:
        _with_tripled_sin(run)
    assert e.value.method == "sympy, numeric witness" and e.value.cex["point"]


def test_the_oracle_points_alone_refute_a_wrong_jvp():
    s = Subject("unary", parse_program(selftest.UNARY.format(op="sin"), "<sin>"), seed=3)
    with pytest.raises(Refuted) as e:
        _with_tripled_sin(lambda: checks._points_jvp(s, Verdicts()))
    assert e.value.method == "oracle" and e.value.cex["args"]


# ---------------------------------------------------------------------------
# the numeric witness: a real, finite, non-zero difference, nothing else


def _fake_subject(positive=False):
    return SimpleNamespace(positive=positive, rng=random.Random(7))


def test_a_real_difference_is_a_witness():
    x, y = sympy.symbols("x y", real=True)
    with pytest.raises(Refuted) as e:
        checks._sympy_differ(_fake_subject(), Verdicts(), x * x + 1 + 0 * y, [x, y], "a vs b")
    point = e.value.cex["point"]
    lo, hi = sample_range(False)
    assert set(point) == {"x", "y"} and all(lo <= p <= hi for p in point.values())


@pytest.mark.parametrize("diff", ["complex", "infinite"])
def test_a_difference_off_the_real_line_is_not_a_witness(diff):
    """A difference that is complex (a square root of a negative number, off the
    program's real domain) or overflows at every sampled point proves nothing
    either way: *unknown*, never *refuted*."""
    x = sympy.Symbol("x", real=True)
    expr = {"complex": 1 + sympy.I * (x * x + 1),          # real part 1, never a real value
            "infinite": sympy.exp(10 ** 6 * (x * x + 1))}[diff]   # inf in floating point
    v = Verdicts()
    checks._sympy_differ(_fake_subject(), v, expr, [x], "a vs b")
    assert statuses(v, "sympy") == ["unknown"], v.detail()


# ---------------------------------------------------------------------------
# one sampling range for every check


@pytest.mark.parametrize("positive", [True, False])
def test_exact_points_are_drawn_where_the_float_points_are(positive):
    lo, hi = sample_range(positive)
    prog = parse_program(TUPLE_CALL, "<t>")
    s = Subject("t", prog, seed=5, positive=positive)
    d = prog["top"]
    dom = NormalForm()
    seen = set()
    for _ in range(200):
        q, z = checks.rational_inputs(s, dom, d)
        for val in (*q, z):
            assert val.is_const()
            r = Fraction(val.const())
            assert lo <= r <= hi and r != 0 and (r * 8).denominator == 1, r
            seen.add(r)
        for val in checks._flat_nl(tuple(s.point(d).values())):
            assert lo <= val <= hi
    assert min(seen) <= lo + Fraction(1, 4) and max(seen) >= hi - Fraction(1, 4)   # the whole range


# ---------------------------------------------------------------------------
# which vjp programs a per-program theorem checks


def test_path_fast_checks_the_reference_program_where_the_fast_path_declines():
    """The fast path declines loops; ``--path fast`` then checks what the CLI
    prints instead (the reference program), never nothing."""
    prog = parse_program(selftest.LOOPED, "<looped>")
    assert Subject("looped", prog).vjp_fast() is None
    ref = Subject("looped", prog, path="reference").vjp_programs()
    fast = Subject("looped", prog, path="fast").vjp_programs()
    both = Subject("looped", prog, path="both").vjp_programs()
    assert [label for label, _ in ref] == ["reference"]
    assert [label for label, _ in fast] == ["reference (fast path n/a)"]
    assert [label for label, _ in both] == ["reference"]        # once, not twice


def test_path_both_checks_two_programs_when_their_text_differs(monkeypatch):
    s = subject("seed")
    text, prog = s.vjp_fast()
    monkeypatch.setitem(s._cache, "vjp-fast", (text + "\n", prog))
    assert [label for label, _ in s.vjp_programs()] == ["reference", "fast path"]


# ---------------------------------------------------------------------------
# what a text comparison shows


def test_a_text_refutation_shows_the_change_with_one_line_of_context():
    a = "\n".join(f"line {i}" for i in range(9))
    b = a.replace("line 4", "line four")
    diff = checks.text_diff(a, b, "reference", "fast path").splitlines()
    assert diff[:2] == ["--- reference", "+++ fast path"]
    assert diff[3:] == [" line 3", "-line 4", "+line four", " line 5"]


# ---------------------------------------------------------------------------
# the self-test names the method that must catch each mistake


def test_a_mistake_caught_by_another_method_than_named_is_a_miss():
    """Caught by the oracle's points while the normal form was named: the
    normal form let it through, and the self-test says so."""
    bad = next(b for b in selftest.CORPUS if b.name.startswith("unzip: two residuals swapped"))
    assert selftest.run_one(bad).ok
    moved = selftest.run_one(dataclasses.replace(bad, by="points"))
    assert moved.status == "refuted" and not moved.ok
    assert moved.verdict == f"refuted by {moved.method}, not by points"


def test_every_self_test_entry_names_its_method():
    assert all(b.by for b in selftest.CORPUS)
    assert len({b.name for b in selftest.CORPUS}) == len(selftest.CORPUS)


# ---------------------------------------------------------------------------
# too big for a symbolic proof: exact evaluation at rational points


@pytest.fixture
def tiny_normal_form(monkeypatch):
    """The symbolic normal form capped at 0 terms (every program is too big for
    it); the exact runs at a point keep their own, large, cap."""
    real = checks.NormalForm
    monkeypatch.setattr(checks, "NormalForm", lambda max_terms=0: real(max_terms=max_terms))


@pytest.mark.parametrize("theorem,run", [("unzip-correct", checks.check_unzip_correct),
                                         ("transpose-adjoint", checks.check_transpose_adjoint)])
def test_a_program_too_big_for_a_proof_is_checked_exactly_at_points(tiny_normal_form, theorem, run):
    v = Verdicts()
    run(subject("seed"), v)
    got = {(m, st) for m, st, _ in v.items}
    assert ("normal form", "unknown") in got and ("exact evaluation at points", "checked") in got, v.detail()


@pytest.mark.parametrize("bad_name", ["unzip: two residuals swapped", "transpose: cotangents returned in swapped"])
def test_exact_points_refute_with_the_rational_point(tiny_normal_form, bad_name):
    bad = next(b for b in selftest.CORPUS if b.name.startswith(bad_name))
    s = Subject("bad", parse_program(bad.program, "<bad>"), seed=1, positive=True)
    saved = selftest._apply(bad.patch())
    try:
        with pytest.raises(Refuted) as e:
            checks.CHECKS[bad.theorem](s, Verdicts())
    finally:
        selftest._undo(saved)
    assert e.value.method == "exact evaluation at points"
    point = e.value.cex["point"]
    d = s.linear_program()[0][s.linear_program()[1]] if bad.theorem == "transpose-adjoint" else s.entry
    assert set(point) == {p.name for p in d.nl_params}
    lo, hi = sample_range(True)
    assert all(lo <= Fraction(x) <= hi for x in point.values()), point


# ---------------------------------------------------------------------------
# the symbolic cross-checks run on programs of at most SMALL nodes


def _program_of_size(size: int, linear: bool) -> Program:
    """A chain (scalings ``g(x ; a)``, or sines and products ``f(x, y)``),
    padded with dropped sines, of exactly ``size`` nodes (``measure.program_size``)."""
    head, prev, step, tail = (("def g(x: real ; a: real) -> (; real) =", "a", "  let (; c{i}) = x *. {p} in",
                               "  (; {p})") if linear else
                              ("def f(x: real, y: real) -> (real ;) =", "x", "  let (c{i} ;) = sin({p}) in",
                               "  {p} * y"))
    for pads in range(8):
        for n in range(size):
            lines, p = [head], prev
            for i in range(n):
                lines.append(step.format(i=i, p=p))
                p = f"c{i}"
            for i in range(pads):
                lines += [f"  let (y{i} ;) = sin(x) in", f"  let (;) = drop(y{i}) in"]
            prog = parse_program("\n".join(lines + [tail.format(p=p)]) + "\n", "<sized>")
            if measure.program_size(prog) == size:
                return prog
            if measure.program_size(prog) > size:
                break
    raise AssertionError(f"no program of size {size}")


@pytest.mark.parametrize("size,cross_checked", [(checks.SMALL, True), (checks.SMALL + 1, False)])
def test_sympy_and_z3_cross_check_programs_up_to_small(size, cross_checked):
    s = Subject("sized", _program_of_size(size, linear=True))
    assert s.kind == "linear"
    v = Verdicts()
    checks.check_typing_sound(s, v)
    methods = [m for m, _, _ in v.items]
    assert ("sympy" in methods and "z3" in methods) == cross_checked, methods
    assert "normal form" in methods


@pytest.mark.parametrize("size,cross_checked", [(checks.SMALL, True), (checks.SMALL + 1, False)])
@pytest.mark.parametrize("theorem", ["jvp-correct", "vjp-correct"])
def test_sympy_cross_checks_derivatives_of_programs_up_to_small(size, cross_checked, theorem):
    s = Subject("sized", _program_of_size(size, linear=False), path="reference")
    assert s.kind == "nonlinear" and s.size == size
    v = Verdicts()
    checks.CHECKS[theorem](s, v)
    methods = [m for m, _, _ in v.items]
    assert ("sympy" in methods) == cross_checked and "normal form" in methods, methods


@pytest.mark.parametrize("src", [
    "def f(x: real, y: real) -> (real ;) =\n  let (a ;) = sin(x) in\n  a * y\n",
    "def g(p: real, q: real) -> (real ;) =\n  let (t ;) = exp(q) in\n  p * t\n"])
def test_budget_is_checked_at_the_least_memory_any_schedule_reaches(src):
    """check's budget:M runs at the least M of the frontier: no more than what
    save-all or recompute-all peak at (measured by the evaluator), and the
    program budget picks peaks at exactly M."""
    from linear_a.transforms.compose import vjp
    prog = parse_program(src, "<budget>")
    f = prog.defs[-1]
    v = Verdicts()
    checks._check_budget(Subject("b", prog, positive=True), v)
    (note,) = [n for m, st, n in v.items if m == "points" and st == "checked"]
    m, measured = (int(x) for x in re.match(r"budget:(\d+) \(the least M\): save-all's gradient, M = (\d+) ≤",
                                            note).groups())
    args = {p.name: 0.7 + i for i, p in enumerate(f.nl_params)}
    peaks = [vjp(prog, f.name, args, 1.0, policy=pol).memory for pol in ("save-all", "recompute-all")]
    assert measured == m <= min(peaks), (note, peaks)


# ---------------------------------------------------------------------------
# what an outcome reports


def test_an_outcome_times_its_own_run_whatever_the_status(monkeypatch):
    prog = parse_program(selftest.SEED, "<seed>")
    runs = {"proved": lambda: run_check(Subject("seed", prog, positive=True), "jvp-correct")}
    bad = next(b for b in selftest.CORPUS if b.name.startswith("unzip: two residuals swapped"))

    def refuted():
        saved = selftest._apply(bad.patch())
        try:
            return run_check(Subject("seed", prog, positive=True), bad.theorem)
        finally:
            selftest._undo(saved)
    runs["refuted"] = refuted

    def crashed():
        monkeypatch.setitem(checks.CHECKS, "jvp-size", lambda s, v: {}["boom"])
        return run_check(Subject("seed", prog, positive=True), "jvp-size")
    runs["crash"] = crashed
    for kind, run in runs.items():
        t0 = time.perf_counter()
        o = run()
        wall = time.perf_counter() - t0
        assert (o.status, o.method == "crash") == ("proved" if kind == "proved" else "refuted", kind == "crash")
        assert 0 <= o.seconds <= wall, (kind, o.seconds, wall)


def test_a_counterexample_is_made_json_keeping_numbers_numbers():
    cex = {"point": {"x": 0.5, "n": 3}, 7: (1, None, True, "s"), "q": Fraction(1, 8), "nested": [{"k": (2,)}]}
    got = checks._jsonable(cex)
    assert got == {"point": {"x": 0.5, "n": 3}, "7": [1, None, True, "s"], "q": "1/8", "nested": [{"k": [2]}]}
    assert json.loads(json.dumps(got)) == got
