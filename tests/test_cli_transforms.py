"""`linear-a jvp | unzip | transpose | linearize | vjp | grad` (SPEC §14)."""
from __future__ import annotations

import glob
import json
import os

import pytest

from linear_a.cli import main
from linear_a.semantics import parse_program, typecheck

from helpers import LINEAR, MATVEC, SEED


EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


@pytest.fixture
def files(tmp_path):
    out = {}
    for name, src in [("seed", SEED), ("matvec", MATVEC), ("linear", LINEAR)]:
        p = tmp_path / f"{name}.la"
        p.write_text(src)
        out[name] = str(p)
    return out


def run(capsys, *argv):
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_grad_json_seed(capsys, files):
    code, out, err = run(capsys, "grad", files["seed"], "--fn", "f", "--at", "x1=2,x2=5", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert set(r) == {"primal", "gradient", "work", "memory"}
    assert r["gradient"]["x1"] == pytest.approx(5.5)
    assert round(r["gradient"]["x2"], 3) == 1.716
    assert round(r["primal"][0], 3) == 11.652
    assert isinstance(r["work"], int) and isinstance(r["memory"], int)


def test_grad_json_matvec_with_args_and_policy(capsys, files):
    for policy in ["save-all", "recompute-all"]:
        code, out, err = run(capsys, "grad", files["matvec"], "--fn", "specific",
                             "--args", '{"v": [2, 3]}', "--policy", policy, "--json")
        assert code == 0, err
        assert json.loads(out)["gradient"] == {"v": [77.0, 382.0]}


def test_grad_human_readable(capsys, files):
    code, out, _ = run(capsys, "grad", files["seed"], "--fn", "f", "--at", "x1=2,x2=5")
    assert code == 0
    assert "x1 = 5.5" in out and "work" in out


def test_vjp_with_cotangent(capsys, files):
    code, out, err = run(capsys, "vjp", files["matvec"], "--fn", "matvec2x2",
                         "--args", '{"m": [[2, 7], [1, 8]], "v": [2, 3]}', "--cotangent", "[1, 0]", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["gradient"]["v"] == [2.0, 7.0]
    assert r["primal"] == [[25.0, 26.0]]


@pytest.mark.parametrize("cmd,extra,names", [
    ("jvp", [], ["f_jvp"]),
    ("linearize", [], ["f_jvp_nl", "f_jvp_lin"]),
    ("vjp", [], ["f_jvp_nl", "f_jvp_lin_T"]),
    ("unzip", ["--policy", "recompute-all"], ["f_nl", "f_lin"]),
])
def test_program_commands_print_parsable_typed_core(capsys, files, cmd, extra, names):
    code, out, err = run(capsys, cmd, files["seed"], "--fn", "f", *extra)
    assert code == 0, err
    prog = parse_program(out)
    typecheck(prog)
    for n in names:
        assert prog.get(n) is not None, (n, prog.names)


def test_transpose_command(capsys, files):
    code, out, err = run(capsys, "transpose", files["linear"], "--fn", "g")
    assert code == 0, err
    prog = parse_program(out)
    typecheck(prog)
    assert prog.names == ["g_T"]


def test_jvp_matvec_prints_callees(capsys, files):
    code, out, _ = run(capsys, "jvp", files["matvec"], "--fn", "specific")
    assert code == 0
    assert parse_program(out).names == ["matvec2x2_jvp", "specific_jvp"]


@pytest.mark.parametrize("argv,code", [
    (["transpose", "SEED", "--fn", "f"], 1),                 # non-linear results
    (["jvp", "LINEAR"], 1),                                   # linear code
    (["grad", "MATVEC", "--fn", "matvec2x2", "--args", '{"m": [[2, 7], [1, 8]], "v": [2, 3]}'], 1),
    (["grad", "SEED", "--fn", "nope", "--at", "x1=2,x2=5"], 2),
    (["grad", "SEED", "--fn", "f", "--at", "x1=-2,x2=5"], 1),  # log of a negative number
    (["vjp", "SEED", "--fn", "f", "--at", "x1=2,x2=5", "--cotangent", "[1, 2]"], 2),
    (["unzip", "SEED", "--policy", "bogus"], 1),
    (["grad", "SEED", "--fn", "f", "--args", "{bad json"], 2),
])
def test_bad_input_exits_cleanly(capsys, files, argv, code):
    argv = [files[a.lower()] if a in ("SEED", "LINEAR", "MATVEC") else a for a in argv]
    got, out, err = run(capsys, *argv)
    assert got == code, err
    assert "Traceback" not in err and "internal error" not in err
    assert err.strip()


EXAMPLE_FUNCTIONS = [(path, d.name) for path in sorted(glob.glob(os.path.join(EXAMPLES, "*.la")))
                     for d in parse_program(open(path).read(), path).defs if d.is_nonlinear]


@pytest.mark.parametrize("path,fn", EXAMPLE_FUNCTIONS)
def test_vjp_fast_path_prints_what_the_reference_prints(capsys, path, fn):
    """`vjp` without a point takes the fast flat path where it applies; `--reference`
    forces the rule-based pipeline.  The text must be the same, for every example
    (the ones outside the flat fragment exercise the fallback)."""
    fast = run(capsys, "vjp", path, "--fn", fn)
    ref = run(capsys, "vjp", path, "--fn", fn, "--reference")
    assert fast[0] == ref[0] == 0, (fast[2], ref[2])
    assert fast[1] == ref[1] and fast[1].startswith("def ")


def test_vjp_fast_path_errors_are_the_reference_errors(capsys, tmp_path):
    bad = tmp_path / "bad.la"
    bad.write_text("def f(x: real) -> (real ;) =\n  let (y ;) = sin(z) in\n  (y ;)\n")
    fast = run(capsys, "vjp", str(bad), "--fn", "f")
    ref = run(capsys, "vjp", str(bad), "--fn", "f", "--reference")
    assert fast[0] == ref[0] == 1
    assert fast[2] == ref[2] and "`z`" in fast[2]
