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
       "transpose-size", "transpose-involution", "vjp-correct", "vjp-cost", "vjp-fast-path", "typing-rejects", "cost-oracle",
       "checkpoint-invariance"}


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
