"""`linear-a check` (linear_a/cmd_check.py): output, JSON shape, exit codes."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from linear_a.cli import main
from linear_a.semantics.primitives import PRIMITIVES

ROOT = Path(__file__).resolve().parent.parent
IDS = {"typing-sound", "jvp-typed", "jvp-correct", "jvp-cost", "jvp-size", "unzip-typed",
       "unzip-correct", "unzip-cost", "transpose-typed", "transpose-adjoint", "transpose-cost",
       "transpose-size", "transpose-involution", "vjp-correct", "vjp-cost", "vjp-fast-path",
       "typing-rejects", "cost-oracle", "checkpoint-invariance", "sched-invariance",
       "checkpoint-memory"}


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_on_files(capsys):
    code, out, _ = run(capsys, "check", str(ROOT / "examples/seed.la"), str(ROOT / "examples/linear.la"),
                       "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"results", "summary"}
    r = data["results"][0]
    assert {"theorem", "program", "status", "seconds"} <= set(r)
    seen = {x["theorem"] for x in data["results"]}
    assert seen == IDS                  # seed.la is non-linear: every theorem applies
    assert data["summary"]["totals"]["refuted"] == 0
    assert data["summary"]["programs"] == 2


def test_random_programs_and_summary_table(capsys):
    code, out, _ = run(capsys, "check", str(ROOT / "examples/sin.la"), "--random", "4", "--seed", "2",
                       "--no-rules")
    assert "theorem checks: 5 programs" in out
    for t in IDS:
        assert t in out
    assert "proved" in out and "unknown:" in out
    assert code in (0, 1)                # random programs may legitimately refute
    if code == 1:
        assert "refuted" in out


def test_refutation_exits_one_with_counterexample(capsys, monkeypatch):
    sin = PRIMITIVES["sin"]
    monkeypatch.setitem(PRIMITIVES, "sin", dataclasses.replace(
        sin, partials=lambda b, a, z: [b.prim("sin", a[0])]))
    code, out, _ = run(capsys, "check", str(ROOT / "examples/sin.la"), "--theorem", "jvp-correct")
    assert code == 1
    assert "refuted jvp-correct" in out and "program:" in out


def test_per_rule_obligations_in_json(capsys):
    code, out, _ = run(capsys, "check", str(ROOT / "examples/square.la"), "--rules", "--json",
                       "--theorem", "transpose-cost")
    data = json.loads(out)
    rules = [r for r in data["results"] if r["program"].startswith("(all programs)")]
    assert rules and all(r["status"] == "proved" for r in rules)
    assert code == 0


@pytest.mark.parametrize("argv,code", [
    (["check", "--random", "-1"], 2),
    (["check", "--theorem", "no-such-theorem", "x.la"], 2),
    (["check", "does/not/exist.la"], 1),
])
def test_bad_usage(capsys, argv, code):
    c, out, err = run(capsys, *argv)
    assert c == code
    assert err.strip() and "Traceback" not in err


def test_bad_program_is_located(capsys, tmp_path):
    bad = tmp_path / "bad.la"
    bad.write_text("def f(x: real) -> (real ;) =\n  let (y ;) = sin(x) in\n  x\n")
    c, out, err = run(capsys, "check", str(bad))
    assert c == 1 and "bad.la" in err


FIVE = """\
def f(x: real) -> (real ;) =
  let (y ;) = sin(x) in
  (y ;)

def g(x: real) -> (real ;) =
  let (y ;) = f(x) in
  let (z ;) = x * y in
  (z ;)

def h(; dx: real) -> (; real) =
  let (c ;) = 2 in
  c *. dx
"""


def test_every_definition_is_checked_and_named(capsys, tmp_path):
    path = tmp_path / "five.la"
    path.write_text(FIVE)
    code, out, _ = run(capsys, "check", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["summary"]["definitions"] == {str(path): ["f", "g", "h"]}
    programs = {r["program"] for r in data["results"]}
    assert programs == {f"{path}:f", f"{path}:g", f"{path}:h"}
    # h is linear: its theorems are the linear ones (transposition), not JVP's
    h = {r["theorem"] for r in data["results"] if r["program"].endswith(":h")}
    assert "transpose-adjoint" in h and "jvp-correct" not in h
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0 and f"checked in {path}: f, g, h" in out


def test_fn_narrows_the_check(capsys, tmp_path):
    path = tmp_path / "five.la"
    path.write_text(FIVE)
    code, out, _ = run(capsys, "check", str(path), "--fn", "g", "--fn", "f", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["summary"]["definitions"] == {str(path): ["f", "g"]}
    assert {r["program"] for r in data["results"]} == {f"{path}:f", f"{path}:g"}
    code, _, err = run(capsys, "check", str(path), "--fn", "nope")
    assert code == 2 and "no definition `nope`" in err
    code, _, err = run(capsys, "check", str(path), "--budget", "0")
    assert code == 2 and "--budget" in err


def test_a_check_past_its_time_limit_is_unknown(monkeypatch):
    """The limit really stops pure-Python work, even work that swallows the
    first interruption (as a solver catching every exception would)."""
    from linear_a.proofs import checks
    from linear_a.semantics.parser import parse_program

    def stubborn(s, v):
        v.add("normal form", "proved", "before the slow part")
        try:
            while True:
                pass
        except Exception:     # the first interruption, swallowed
            pass
        while True:
            pass

    monkeypatch.setitem(checks.CHECKS, "jvp-correct", stubborn)
    s = checks.Subject("slow", parse_program(FIVE.split("\n\n")[0] + "\n"))
    o = checks.run_check(s, "jvp-correct", seconds=0.3)
    assert o.status == "proved" and "did not finish within 0.3 s" in o.detail
    monkeypatch.setitem(checks.CHECKS, "jvp-correct", lambda s, v: stubborn(s, checks.Verdicts()))
    o = checks.run_check(s, "jvp-correct", seconds=0.3)
    assert o.status == "unknown" and "time limit" in o.detail
    # a spent budget: the remaining theorems are unknown, not run
    monkeypatch.setitem(checks.CHECKS, "jvp-typed", checks.CHECKS["jvp-correct"])
    outs = checks.check_program(s, {"jvp-typed", "jvp-correct"}, budget=0.3)
    assert [(o.theorem, o.status) for o in outs] == [("jvp-typed", "unknown"), ("jvp-correct", "unknown")]
    assert "did not finish" in outs[0].detail and "budget of 0.3 s was spent" in outs[1].detail


def test_sympy_cross_check_is_cut_to_unknown(monkeypatch):
    import sympy
    from linear_a.proofs import checks
    from linear_a.semantics.parser import parse_program
    monkeypatch.setattr(checks, "SYMPY_SECONDS", 0.3)

    def endless(e, *a, **k):          # a sympy step that never finishes (as simplify could)
        while True:
            pass
    monkeypatch.setattr(sympy, "expand", endless)
    s = checks.Subject("p", parse_program(FIVE.split("\n\n")[0] + "\n"))
    o = checks.run_check(s, "jvp-correct", seconds=10)
    assert o.status == "proved", o.detail          # the normal form still proves it
    assert "sympy: unknown (sympy cross-check did not finish within 0.3 s)" in o.detail
