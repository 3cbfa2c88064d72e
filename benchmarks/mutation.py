"""Mutation run: does `linear-a check` (and then the tests) catch one-token mistakes?

    python benchmarks/mutation.py                       # default modules, 8 mutants each
    python benchmarks/mutation.py --per-module 20 semantics/primitives.py transforms/jvp.py

For each module, mutants are drawn (deterministically, ``--seed``) from every
site of a few one-token operators on the module's AST: an arithmetic operator
swapped (``+``↔``-``, ``*``↔``/``), a comparison flipped (``<``↔``<=``,
``==``↔``!=``, ``is``↔``is not``, ``in``↔``not in``), ``and``↔``or``, an
integer constant changed by one, an ``if`` condition negated, a slice or index
``[0]``↔``[-1]``.  Each mutant is written into a copy of the tree (never the
checkout), importable as ``linear_a`` through a PYTHONPATH shim, then

1. ``linear-a check --random R --seed 0`` (corpus + R random programs +
   per-rule obligations) under a timeout: *killed by check* if it exits
   non-zero or times out (a mutant that makes check hang is caught, not
   passed);
2. if it survives, the module's test files (``--tests``; default by module)
   with ``pytest -x``: *killed by tests*.

A mutant that fails to import at all is *stillborn* and not counted.  The
table gives, per module: mutants run, killed by check alone, killed by check +
tests, and the survivors with their diff line, to be classified by reading
(equivalent mutant, or a gap).  Sampling: the number of mutants per module is
``--per-module`` out of all sites (printed), so the figures are estimates.
"""
from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("semantics", "transforms", "proofs", "paper", "examples")
DEFAULT_MODULES = ["semantics/primitives.py", "semantics/evaluate.py", "semantics/typecheck.py",
                   "transforms/jvp.py", "transforms/unzip.py", "transforms/transpose.py",
                   "transforms/fused.py", "transforms/flat.py", "transforms/checkpoint.py",
                   "transforms/revolve.py", "transforms/budget.py", "transforms/compose.py",
                   "transforms/fresh.py", "proofs/checks.py"]
TESTS = {
    "semantics/primitives.py": ["tests/test_jvp.py", "tests/test_oracle.py"],
    "semantics/evaluate.py": ["tests/test_cost_oracle.py", "tests/test_compose.py", "tests/test_cli_core.py"],
    "semantics/typecheck.py": ["tests/test_typing_cases.py", "tests/test_typing_rules_mutations.py"],
    "transforms/jvp.py": ["tests/test_jvp.py"],
    "transforms/unzip.py": ["tests/test_unzip.py", "tests/test_checkpoint.py"],
    "transforms/transpose.py": ["tests/test_transpose.py"],
    "transforms/fused.py": ["tests/test_flat.py"],
    "transforms/flat.py": ["tests/test_flat.py"],
    "transforms/checkpoint.py": ["tests/test_checkpoint.py"],
    "transforms/revolve.py": ["tests/test_revolve.py"],
    "transforms/budget.py": ["tests/test_budget.py"],
    "transforms/compose.py": ["tests/test_compose.py"],
    "transforms/fresh.py": ["tests/test_flat.py", "tests/test_jvp.py"],
    "proofs/checks.py": ["tests/test_theorems.py", "tests/test_selftest.py"],
}

SWAP_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
            ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv}
SWAP_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}


def sites(tree: ast.AST) -> list[tuple]:
    """(kind, node id in ast.walk order, detail) for every mutable token."""
    out = []
    for i, n in enumerate(ast.walk(tree)):
        if isinstance(n, ast.BinOp) and type(n.op) in SWAP_BIN:
            out.append(("binop", i))
        elif isinstance(n, ast.AugAssign) and type(n.op) in SWAP_BIN:
            out.append(("binop", i))
        elif isinstance(n, ast.Compare) and type(n.ops[0]) in SWAP_CMP:
            out.append(("cmp", i))
        elif isinstance(n, ast.BoolOp):
            out.append(("boolop", i))
        elif isinstance(n, ast.Constant) and type(n.value) is int and not isinstance(n.value, bool):
            out.append(("int", i))
        elif isinstance(n, ast.If):
            out.append(("if", i))
        elif isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and n.slice.value in (0, -1):
            out.append(("index", i))
    return out


def mutate(source: str, site: tuple) -> tuple[str, str]:
    """The mutated source and a one-line description."""
    tree = ast.parse(source)
    kind, idx = site
    node = list(ast.walk(tree))[idx]
    line = getattr(node, "lineno", 0)
    before = ast.unparse(node).splitlines()[0][:70] if kind != "if" else ast.unparse(node.test)[:70]
    if kind == "binop":
        node.op = SWAP_BIN[type(node.op)]()
    elif kind == "cmp":
        node.ops[0] = SWAP_CMP[type(node.ops[0])]()
    elif kind == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "int":
        node.value = node.value + 1 if node.value != 1 else 0
    elif kind == "if":
        node.test = ast.UnaryOp(ast.Not(), node.test)
    elif kind == "index":
        node.slice = ast.Constant(-1 if node.slice.value == 0 else 0)
    after = ast.unparse(node).splitlines()[0][:70] if kind != "if" else ast.unparse(node.test)[:70]
    return ast.unparse(tree), f"line {line}: {before}  →  {after}"


def make_copy(where: Path) -> tuple[Path, Path]:
    tree, pkg = where / "tree", where / "pkg"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info",
                                                              ".hypothesis", ".pytest_cache"))
    shutil.copytree(tree / "linear_a", pkg / "linear_a")
    for d in PACKAGES:
        if (tree / d).exists():
            os.symlink(tree / d, pkg / "linear_a" / d)
    return tree, pkg


def run(cmd, cwd, pkg, timeout) -> tuple[int, float]:
    env = dict(os.environ, PYTHONPATH=str(pkg), PYTHONDONTWRITEBYTECODE="1")
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=timeout)
        return r.returncode, time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        return -9, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", default=DEFAULT_MODULES)
    ap.add_argument("--per-module", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-random", type=int, default=200, help="random programs in the check run")
    ap.add_argument("--timeout", type=float, default=240.0)
    ap.add_argument("--no-tests", action="store_true", help="check alone (no test stage)")
    ns = ap.parse_args(argv)
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))   # a kill cleans up the copy and the child
    py = sys.executable
    rng = random.Random(ns.seed)
    where = Path(tempfile.mkdtemp(prefix="linear-a-mutation-"))
    tree, pkg = make_copy(where)
    rows = []
    try:
        for mod in ns.modules:
            path = tree / mod
            original = path.read_text(encoding="utf-8")
            all_sites = sites(ast.parse(original))
            chosen = rng.sample(all_sites, min(ns.per_module, len(all_sites)))
            stats = {"module": mod, "sites": len(all_sites), "run": 0, "check": 0, "tests": 0,
                     "stillborn": 0, "survivors": []}
            for site in chosen:
                src, desc = mutate(original, site)
                path.write_text(src, encoding="utf-8")
                try:
                    # cwd = pkg: the mutated copy is the only `linear_a` importable (not the checkout)
                    rc, _ = run([py, "-c", "import linear_a.cli, linear_a.proofs.runner, sys; "
                                 f"assert linear_a.proofs.runner.__file__.startswith({str(pkg)!r})"],
                                pkg, pkg, 60)
                    if rc != 0:
                        stats["stillborn"] += 1
                        continue
                    stats["run"] += 1
                    rc, secs = run([py, "-m", "linear_a", "check", "--random", str(ns.check_random),
                                    "--seed", "0", "-j", "2"], pkg, pkg, ns.timeout)
                    if rc != 0:
                        stats["check"] += 1
                        print(f"  {mod} killed by check ({secs:.0f} s): {desc}", flush=True)
                        continue
                    tests = TESTS.get(mod, [])
                    if not ns.no_tests and tests:
                        rc, _ = run([py, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                     *(str(tree / t) for t in tests)], pkg, pkg, ns.timeout * 3)
                        if rc != 0:
                            stats["tests"] += 1
                            print(f"  {mod} killed by tests: {desc}", flush=True)
                            continue
                    stats["survivors"].append(desc)
                    print(f"  {mod} SURVIVED: {desc}", flush=True)
                finally:
                    path.write_text(original, encoding="utf-8")
            rows.append(stats)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    print()
    print(f"{'module':28} {'sites':>5} {'run':>4} {'check':>6} {'check+tests':>11} {'%check':>7} {'%both':>6}")
    for r in rows:
        n = r["run"]
        both = r["check"] + r["tests"]
        pc = f"{100 * r['check'] / n:.0f}" if n else "-"
        pb = f"{100 * both / n:.0f}" if n else "-"
        print(f"{r['module']:28} {r['sites']:>5} {n:>4} {r['check']:>6} {both:>11} {pc:>7} {pb:>6}")
    for r in rows:
        for s in r["survivors"]:
            print(f"survivor {r['module']}: {s}")


if __name__ == "__main__":
    main()
