"""One import name of our own (SPEC §17): the sdist and the wheel install
`linear_a` and nothing else at the top level, and the installed tool runs its
main job from a directory outside the repository."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("semantics", "transforms", "proofs", "paper")


def _run(cmd, cwd, **kw):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the sdist, the wheel from the sdist (`python -m build`), install the
    wheel into a fresh venv.  The venv sees the test environment's packages for
    the dependencies (no download), but its own site-packages comes first."""
    if importlib.util.find_spec("build") is None:
        pytest.fail("the `build` package is needed (it is in the `test` extra)")
    tmp = tmp_path_factory.mktemp("pkg")
    dist = tmp / "dist"
    # build from a copy: setuptools writes egg-info and a staging folder into the
    # source tree, which would race with another run and leave files in the checkout
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "*.egg-info", "build", "dist", "out", "__pycache__", ".hypothesis", ".pytest_cache"))
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(src)], cwd=tmp)
    wheels = list(dist.glob("*.whl"))
    assert len(wheels) == 1 and list(dist.glob("*.tar.gz")), sorted(p.name for p in dist.iterdir())
    env_dir = tmp / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheels[0])], cwd=tmp)
    outside = tmp / "elsewhere"
    outside.mkdir()
    return wheels[0], py, env_dir, outside


def test_the_wheel_holds_one_top_level_name(installed):
    wheel, *_ = installed
    with zipfile.ZipFile(wheel) as z:
        tops = {n.split("/", 1)[0] for n in z.namelist()}
        names = set(z.namelist())
    assert tops == {"linear_a", "linear_a-0.1.0.dist-info"}, tops
    for layer in LAYERS:
        assert f"linear_a/{layer}/__init__.py" in names, layer
    assert "linear_a/paper/linear-a.sty" in names
    assert "linear_a/examples/seed.la" in names        # the built-in corpus travels with it


def test_only_linear_a_is_importable_after_installing(installed):
    _, py, env_dir, outside = installed
    probe = ("import importlib.util, linear_a, linear_a.semantics, linear_a.cli\n"
             f"print(linear_a.__file__)\n"
             f"print(sorted(n for n in {LAYERS!r} if importlib.util.find_spec(n)))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = _run([str(py), "-c", probe], cwd=outside, env=env).stdout.splitlines()
    assert out[0].startswith(str(env_dir)), out       # the installed copy, not the checkout
    assert out[1] == "[]", f"generic top-level names importable: {out[1]}"


def test_the_installed_tool_runs_its_main_job_outside_the_repository(installed):
    _, py, env_dir, outside = installed
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = _run([str(env_dir / "bin" / "linear-a"), "check", "--random", "5", "--json"],
             cwd=outside, env=env)
    import json
    report = json.loads(r.stdout)
    totals = report["summary"]["totals"]
    assert totals["refuted"] == 0 and totals["proved"] > 0, totals
    programs = {r["program"] for r in report["results"]}
    assert any(p.startswith("examples/") for p in programs), sorted(programs)[:20]
    r = _run([str(py), "-m", "linear_a", "--help"], cwd=outside, env=env)
    assert "linear-a" in r.stdout


def test_the_public_api_is_one_import():
    import linear_a
    for name in linear_a.__all__:
        assert hasattr(linear_a, name), name
    prog = linear_a.parse_program((ROOT / "examples" / "seed.la").read_text(), "seed.la")
    linear_a.typecheck(prog)
    g = linear_a.grad(prog, "f", {"x1": 2, "x2": 5}).gradient
    assert g["x1"] == pytest.approx(5.5)
    assert "f_jvp_lin_T" in linear_a.show(linear_a.vjp_program(prog, "f"))
