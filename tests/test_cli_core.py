"""`linear-a typecheck` and `linear-a eval` on the examples: output, JSON shape,
exit codes (0 ok, 1 bad input, 2 bad command line), `.py` input."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from linear_a.cli import main

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", sorted(EX.glob("*.la")) + sorted(EX.glob("*.py")), ids=lambda p: p.name)
def test_typecheck_every_example(capsys, path):
    code, out, err = run(capsys, "typecheck", path)
    assert code == 0, err
    assert err == ""
    assert ":" in out and "->" in out       # one `name : signature` line per definition


def test_typecheck_prints_signatures(capsys):
    code, out, _ = run(capsys, "typecheck", EX / "matvec.la")
    assert code == 0
    assert out.splitlines() == ["matvec2x2 : (((real, real), (real, real)), (real, real) ;) -> ((real, real) ;)",
                                "specific : ((real, real) ;) -> (real ;)"]


def test_eval_json_shape_and_value(capsys):
    code, out, _ = run(capsys, "eval", EX / "seed.la", "--fn", "f", "--at", "x1=2,x2=5", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"nonlinear", "linear", "work", "memory", "size"}
    assert data["linear"] == []
    assert math.isclose(data["nonlinear"][0], math.log(2) + 10 - math.sin(5), rel_tol=1e-12)
    assert all(isinstance(data[k], int) and data[k] > 0 for k in ("work", "memory", "size"))


def test_eval_linear_outputs_and_args_json(capsys):
    code, out, _ = run(capsys, "eval", EX / "linear.la", "--fn", "g", "--args",
                       '{"x": 3, "dx": 1, "dy": 2}', "--json")
    assert code == 0
    data = json.loads(out)
    assert data["nonlinear"] == [] and data["linear"] == [9.0, 2.0]


def test_eval_tuple_argument(capsys):
    code, out, _ = run(capsys, "eval", EX / "matvec.la", "--fn", "specific", "--at", "v=[2,3]", "--json")
    assert code == 0
    assert json.loads(out)["nonlinear"] == [650.0]


def test_eval_surface_file_matches_core_file(capsys):
    args = ["--fn", "f", "--at", "x1=2,x2=5", "--json"]
    code_py, out_py, _ = run(capsys, "eval", EX / "seed.py", *args)
    code_la, out_la, _ = run(capsys, "eval", EX / "seed.la", *args)
    assert code_py == code_la == 0
    py, la = json.loads(out_py), json.loads(out_la)
    assert py["nonlinear"] == la["nonlinear"]
    assert py["work"] == la["work"]


def test_eval_plain_text(capsys):
    code, out, _ = run(capsys, "eval", EX / "square.la", "--fn", "f", "--at", "x=3")
    assert code == 0
    assert "9.0" in out and "work" in out


def test_eval_sympy_domain(capsys):
    code, out, _ = run(capsys, "eval", EX / "square.la", "--fn", "f", "--at", "x=0.5",
                       "--domain", "sympy", "--json")
    assert code == 0
    assert json.loads(out)["nonlinear"] == [0.25]


# -- failures: one readable line, the right exit code -------------------------------

def test_type_error_exits_1_with_location(capsys, tmp_path):
    bad = tmp_path / "bad.la"
    bad.write_text("def f(x: real, y: real) -> (real ;) =\n  sin(x)\n")
    code, out, err = run(capsys, "typecheck", bad)
    assert code == 1 and out == ""
    assert f"{bad}:1:" in err and "`y`" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_domain_error_exits_1(capsys):
    code, _, err = run(capsys, "eval", EX / "seed.la", "--fn", "f", "--at", "x1=0,x2=5")
    assert code == 1 and "log" in err and "seed.la:" in err


def test_missing_file_exits_1(capsys):
    code, _, err = run(capsys, "typecheck", EX / "does-not-exist.la")
    assert code == 1 and "no such file" in err


def test_surface_trace_error_exits_1(capsys, tmp_path):
    bad = tmp_path / "branch.py"
    bad.write_text("from linear_a import linear_a\n@linear_a\ndef f(x):\n"
                   "    return x if x > 0 else -x\n")
    code, _, err = run(capsys, "typecheck", bad)
    assert code == 1 and f"{bad}:4:" in err and "straight-line" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["eval", "EX/seed.la", "--fn", "f", "--at", "x1=2"],            # missing argument
    ["eval", "EX/seed.la", "--fn", "f", "--at", "x1"],              # malformed --at
    ["eval", "EX/seed.la", "--fn", "f", "--args", "{not json"],     # malformed --args
    ["eval", "EX/seed.la", "--at", "x1=2,x2=5"],                    # no --fn
    ["eval", "EX/seed.la", "--fn", "nope", "--at", "x1=2,x2=5"],    # unknown function
    ["typecheck", "EX/seed.la", "--bogus"],                          # unknown flag
])
def test_usage_errors_exit_2(capsys, argv):
    code, out, err = run(capsys, *[a.replace("EX", str(EX)) for a in argv])
    assert code == 2 and out == ""
    assert err.startswith("linear-a:") and "Traceback" not in err


def test_installed_command_via_subprocess():
    ok = subprocess.run([sys.executable, "-m", "linear_a", "eval", str(EX / "pottier.py"), "--fn", "f",
                         "--at", "x0=3,x1=0", "--json"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["nonlinear"] == [6.0]
    bad = subprocess.run([sys.executable, "-m", "linear_a", "eval", str(EX / "pottier.la"), "--fn", "f",
                          "--at", "x0=3"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
