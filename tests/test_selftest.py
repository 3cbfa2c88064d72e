"""The checks, checked (issue 19): every known-bad transformation of the
self-test corpus is refuted by its theorem, with a counterexample; crashes of
a transformation refute instead of aborting; --json stays parseable."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from linear_a.cli import main
from linear_a.proofs import selftest
from linear_a.proofs.checks import Subject, run_check
from linear_a.proofs.runner import corpus, run_suite
from linear_a.semantics import parse_program
from linear_a.semantics.primitives import PRIMITIVES


@pytest.mark.parametrize("bad", selftest.CORPUS, ids=[b.name for b in selftest.CORPUS])
def test_each_bad_transformation_is_refuted(bad):
    r = selftest.run_one(bad)
    assert r.status == "refuted", (bad.name, r.status, r.detail)
    assert r.counterexample and r.detail


def test_the_patches_are_undone():
    before = dict(PRIMITIVES)
    unzip_mod = importlib.import_module("linear_a.transforms.unzip")
    real_unzip = unzip_mod.unzip
    for bad in selftest.CORPUS:
        selftest.run_one(bad)
    assert PRIMITIVES == before and unzip_mod.unzip is real_unzip
    prog = parse_program(selftest.SEED, "<seed>")
    for t in ("jvp-correct", "unzip-cost", "vjp-fast-path"):
        assert run_check(Subject("seed", prog, positive=True), t).status == "proved"


def test_a_patch_does_not_outlive_the_self_test_in_a_module_imported_meanwhile():
    """In a fresh process (imports are process-wide): the binomial-split patch
    must not be captured by a module first imported during the patched run
    (loop_ckpt binds ``optimal_split`` by name): it made every later loop
    schedule split at 1, and tests after test_selftest.py fail in that order."""
    code = ("from linear_a.proofs import selftest\n"
            "bad = next(b for b in selftest.CORPUS if b.name.startswith('binomial schedule: always splits'))\n"
            "selftest.run_one(bad)\n"
            "from linear_a.transforms import loop_ckpt, revolve\n"
            "assert loop_ckpt.optimal_split is revolve.optimal_split, loop_ckpt.optimal_split\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_a_self_test_that_misses_is_reported(monkeypatch):
    """A hollow check (normal form, sympy and points all blind) fails the self-test."""
    from linear_a.proofs import checks
    monkeypatch.setitem(checks.CHECKS, "jvp-correct", lambda s, v: v.add("nothing", "proved"))
    bad = next(b for b in selftest.CORPUS if b.theorem == "jvp-correct")
    assert selftest.run_one(bad).status == "proved"


def test_cli_self_test_json(capsys):
    code = main(["check", "--self-test", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["summary"]["missed"] == []
    assert data["summary"]["refuted"] == len(selftest.CORPUS)
    assert all(r["caught"] and r["counterexample"] for r in data["self_test"])


def _crash_on_sin(monkeypatch):
    from linear_a.semantics.syntax import Prim
    jvp = importlib.import_module("linear_a.transforms.jvp")
    real = jvp.LEAF_RULES[Prim]

    def broken(cx, e, dest, out):
        if e.op == "sin":
            raise KeyError("broken rule")
        return real(cx, e, dest, out)
    monkeypatch.setitem(jvp.LEAF_RULES, Prim, broken)
    from linear_a.proofs import obligations
    monkeypatch.setattr(obligations, "_CONSTANTS", {})


def test_a_crashing_transformation_refutes_and_the_suite_runs_on(monkeypatch):
    _crash_on_sin(monkeypatch)
    report = run_suite(random_n=3, seed=0, rules=False, jobs=1)
    crashed = [r for r in report.refuted if r.program == "(all programs) constants"]
    assert {r.theorem for r in crashed} == {"jvp-cost", "jvp-size", "transpose-size", "vjp-cost"}
    assert "sin(a1)" in crashed[0].counterexample["instance"]
    assert any(r.status == "proved" for r in report.results)       # the rest ran


def test_crash_with_theorem_filter_and_json_is_valid(monkeypatch, capsys):
    _crash_on_sin(monkeypatch)
    code = main(["check", "--random", "2", "--theorem", "jvp-correct", "--no-rules", "--json", "-j", "1"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["summary"]["totals"]["refuted"] >= 1


def test_binomial_sweep_in_check():
    from linear_a.proofs.schedules import SWEEP, binomial_outcomes, t_closed_form
    from linear_a.transforms.revolve import optimal_forward_steps
    assert all(t_closed_form(l, s) == optimal_forward_steps(l, s) for l in range(1, 60) for s in range(1, 8))
    outs = binomial_outcomes()
    assert len(outs) == 2 * len(SWEEP)
    assert all(o.status == "proved" and "forward steps" in o.detail for o in outs), \
        [(o.program, o.detail) for o in outs if o.status != "proved"]


@pytest.mark.parametrize("path,label", [("reference", "reference: gradient"), ("fast", "fast path: gradient"),
                                        ("both", "reference = fast path (same text): gradient")])
def test_path_option_chooses_the_vjp_programs_checked(capsys, path, label):
    root = importlib.import_module("linear_a.proofs.runner").EXAMPLES
    code = main(["check", str(root / "sin.la"), "--path", path, "--theorem", "vjp-correct", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    (r,) = data["results"]
    assert label in r["detail"], r["detail"]


def test_both_paths_checked_when_they_differ(monkeypatch):
    """A mistake in the fast path only: vjp-correct checks both programs and refutes the fast one."""
    bad = next(b for b in selftest.CORPUS if b.theorem == "vjp-correct" and "fast path" in b.name)
    r = selftest.run_one(bad)
    assert r.status == "refuted" and r.detail.startswith("fast path:")


def test_coverage_table_of_the_default_corpus_is_complete():
    report = run_suite(random_n=200, seed=0, rules=False)
    assert report.coverage_missing == [] and report.programs == len(corpus()) + 200
    assert report.coverage["primitive sigmoid"] > 0 and report.coverage["primitive neg"] > 0


@pytest.mark.parametrize("op", ["sigmoid", "neg"])
def test_default_random_corpus_refutes_a_tripled_partial(op):
    """Issue 19: a ×3 error in ∂sigmoid or ∂neg was refuted by no program of the default run."""
    from linear_a.proofs.theorems import constants
    constants()                          # derived (and cached) from the unpatched table
    saved = selftest._apply(selftest._partials(op, selftest._tripled))
    try:
        report = run_suite(random_n=200, seed=0, rules=False, theorems={"jvp-correct"}, jobs=1)
    finally:
        selftest._undo(saved)
    assert len([r for r in report.refuted if r.program.startswith("random-")]) > 0
