"""The theorem registry and the per-program checks (proofs/theorems.py, proofs/checks.py).

The checks must be able to fail: each mutation below breaks one
transformation (or the primitive table) and the matching theorem must come
out *refuted*, with a counterexample; a normal form that outgrows its budget
must fall back to points (*checked*), never pass silently."""
from __future__ import annotations

import dataclasses
import importlib

import pytest

from linear_a.proofs import checks, theorems
from linear_a.proofs.checks import Subject, check_program, run_check
from linear_a.proofs.runner import corpus, random_programs, run_suite
from linear_a.semantics import parse_program
from linear_a.semantics.primitives import PRIMITIVES

SPEC_IDS = ["typing-sound", "jvp-typed", "jvp-correct", "jvp-cost", "jvp-size", "unzip-typed",
            "unzip-correct", "unzip-cost", "transpose-typed", "transpose-adjoint", "transpose-cost",
            "transpose-size", "transpose-involution", "vjp-correct", "vjp-cost", "vjp-fast-path",
            "typing-rejects", "cost-oracle", "checkpoint-invariance",
            # issue 13: the scheduling rule and the schedules' memory bounds
            "sched-invariance", "checkpoint-memory"]


def test_registry_has_exactly_the_spec_theorems():
    assert list(theorems.IDS) == SPEC_IDS
    for t in theorems.THEOREMS.values():
        assert t.statement and t.latex and t.title and t.per_program
    for name in ("c_J", "d_J", "s_J", "s_T", "c_V", "d_V"):
        value, how = theorems.constants()[name]
        assert value > 0 and how


@pytest.mark.parametrize("name,prog", corpus(), ids=[n for n, _ in corpus()])
def test_corpus_proves_every_applicable_theorem(name, prog):
    s = Subject(name, prog, positive=True)
    outs = check_program(s)
    assert {o.theorem for o in outs} == set(checks.applicable(s))
    # a program with loops: the checks that do not support loops yet say so (issue 14)
    from linear_a.proofs.loops import NOT_YET, REASON, has_loops
    pending = [o for o in outs if o.status == "unknown" and o.method == "loops"]
    assert all(o.detail.startswith(REASON) for o in pending)
    assert bool(pending) == (has_loops(prog) and bool(NOT_YET))   # NOT_YET is empty since 81e2b12
    bad = [(o.theorem, o.status, o.detail) for o in outs if o.status != "proved" and o not in pending]
    assert not bad


def test_random_programs_are_checked_without_refutation():
    progs = random_programs(12, seed=4)
    kinds = {k for _, k, _ in progs}
    assert kinds <= {"nonlinear", "looped", "flat", "linear", "mixed"} and len(kinds) >= 4
    for name, kind, prog in progs:
        for o in check_program(Subject(name, prog, seed=1)):
            assert o.status in ("proved", "checked"), (name, o.theorem, o.detail, o.counterexample)


PROG = """def f(x: real, y: real) -> (real ;) =
  let (s ;) = sin(x) in
  let (p ;) = s * y in
  p + x
"""


def _subject():
    return Subject("f", parse_program(PROG, "<f>"), positive=True)


def test_wrong_derivative_in_the_primitive_table_is_refuted(monkeypatch):
    sin = PRIMITIVES["sin"]
    wrong = dataclasses.replace(sin, partials=lambda b, a, z: [b.prim("sin", a[0])])
    monkeypatch.setitem(PRIMITIVES, "sin", wrong)
    for t in ("jvp-correct", "vjp-correct"):
        o = run_check(_subject(), t)
        assert o.status == "refuted", (t, o)
        assert "program" in o.counterexample
        point = o.counterexample["point"]            # a numeric witness of the normal forms' difference
        assert set(point) == {"x", "y"} and o.counterexample["left"] != o.counterexample["right"]


def test_wrong_transpose_is_refuted(monkeypatch):
    tr = importlib.import_module("linear_a.transforms.transpose")
    real = tr.transpose_program

    def swapped(prog, names=None):      # returns the cotangents in the wrong order
        from linear_a.semantics.syntax import Block, Ret
        out = real(prog, names)
        for d in out.defs:
            body = d.body
            if isinstance(body, Block) and isinstance(body.tail, Ret) and len(body.tail.lin) == 2:
                body.tail = Ret(body.tail.nl, body.tail.lin[::-1])
        return out
    monkeypatch.setattr(tr, "transpose_program", swapped)
    prog = parse_program("def g(x: real ; a: real, b: real) -> (; real) =\n"
                         "  let (; c) = x *. a in\n  c +. b\n", "<g>")
    o = run_check(Subject("g", prog), "transpose-adjoint")
    assert o.status == "refuted" and o.counterexample


def test_unzip_that_loses_work_is_refuted(monkeypatch):
    from linear_a.proofs import measure
    real = measure.work

    def cheaper(prog, fn, *a, **k):     # pretend f_nl is one unit cheaper
        w = real(prog, fn, *a, **k)
        return w - 1 if fn.endswith("_nl") and not k.get("nonlinear_only") else w
    monkeypatch.setattr(measure, "work", cheaper)
    o = run_check(_subject(), "unzip-cost")
    assert o.status == "refuted"


def test_too_big_normal_forms_fall_back_to_points(monkeypatch):
    real_nf = checks.NormalForm
    monkeypatch.setattr(checks, "NormalForm", lambda: real_nf(max_terms=0))
    monkeypatch.setattr(checks, "SMALL", 0)          # no sympy either
    o = run_check(_subject(), "jvp-correct")
    assert o.status == "checked", o
    assert "normal form: unknown" in o.detail


def test_a_crashing_transform_is_a_refutation_not_a_pass(monkeypatch):
    jv = importlib.import_module("linear_a.transforms.jvp")

    def boom(prog, names=None):
        raise RuntimeError("bug")
    monkeypatch.setattr(jv, "jvp_program", boom)
    o = run_check(_subject(), "jvp-typed")
    assert o.status == "refuted" and "bug" in o.detail


def test_suite_reports_every_theorem_and_times():
    rep = run_suite(random_n=0, rules=False)
    summary = rep.summary()
    assert set(summary["by_theorem"]) == set(SPEC_IDS)
    assert not summary["theorems_without_results"]
    assert summary["totals"]["refuted"] == 0
    assert all(r.seconds >= 0 for r in rep.results)
    js = rep.as_json()
    assert {"theorem", "program", "status", "seconds"} <= set(js["results"][0])


def test_exact_points_when_the_normal_form_is_too_big(monkeypatch):
    real_nf = checks.NormalForm

    def budget(max_terms=20000, **k):          # symbolic runs overflow, point runs do not
        return real_nf(max_terms=0 if max_terms == 20000 else max_terms, **k)
    monkeypatch.setattr(checks, "NormalForm", budget)
    for t in ("unzip-correct", "transpose-adjoint"):
        o = run_check(_subject(), t)
        assert o.status == "checked", o
        assert "exact evaluation at points: checked" in o.detail


def test_chain_identities_proved_in_normal_form():
    from linear_a.proofs.scaling import prove_nf
    r = prove_nf(300)
    assert r["linearity"] == "proved" and r["adjoint"] == "proved"
    assert r["monomials"] == 151          # the ẋ entry (1) + the ẇ entry (150 paths)


def test_chain_adjoint_detects_a_wrong_transpose(monkeypatch):
    from linear_a.proofs import scaling
    real = scaling.linear_pair

    def broken(n):                        # L_T returns (ct_w, ct_x) instead of (ct_x, ct_w)
        from linear_a.semantics.syntax import Block, Ret
        lin, fl, tp, ft = real(n)
        body = tp[ft].body
        assert isinstance(body, Block) and isinstance(body.tail, Ret)
        body.tail = Ret(body.tail.nl, body.tail.lin[::-1])
        return lin, fl, tp, ft
    monkeypatch.setattr(scaling, "linear_pair", broken)
    assert scaling.prove_nf(40)["adjoint"] == "refuted"
