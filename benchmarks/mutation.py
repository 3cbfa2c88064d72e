"""Mutation run: does `linear-a check` (and then the tests) catch one-token mistakes?

    nice -n 10 python benchmarks/mutation.py --per-module 20 --out benchmarks/results/mutation.md
    python benchmarks/mutation.py --per-module 20 semantics/primitives.py transforms/jvp.py

For each module, mutants are drawn (deterministically, ``--seed``) from every
site of a few one-token operators on the module's AST: an arithmetic operator
swapped (``+``↔``-``, ``*``↔``/``), a comparison flipped (``<``↔``<=``,
``==``↔``!=``, ``is``↔``is not``, ``in``↔``not in``), ``and``↔``or``, an
integer constant changed by one, an ``if`` condition negated, a slice or index
``[0]``↔``[-1]``.  Each mutant is written into a copy of the tree (never the
checkout), importable as ``linear_a`` through a PYTHONPATH shim, then

1. **check**: ``linear-a check`` exactly as a user runs it (the default
   command: built-in corpus, 200 random programs, per-rule obligations, 2
   workers), under a timeout: *killed by check* if it exits non-zero or times
   out (a mutant that makes check hang is caught, not passed).  The run stops
   at its first refuted result (``--no-fail-fast`` to run it whole): a
   refutation makes the exit code non-zero whatever follows, so the verdict is
   the same, only sooner;
2. if it survives, **tests**: ``pytest -x -m "not slow"`` on the test
   functions that execute the mutated line (from a coverage run of the whole
   suite, see below; a line executed only at import time: the module's own
   test files, :data:`TESTS`), the module's own test files first: *killed by
   tests*.  The scale tests (marked slow: 10^5–10^6-let programs) are left
   out.

**Coverage, to skip runs whose verdict is known.**  Before the mutants, the
unmutated copy is run once under ``coverage`` (``linear-a check -j 1``, and
the whole test suite with one coverage context per test function).  A mutant
whose line the check run never executes cannot change what check does (the
run is deterministic: seeded programs, derandomized Hypothesis), so it
*survives check* without running it (column ``unreached``); the test stage
runs only the tests that execute the line (none: it survives).  Without the
``coverage`` package, or with ``--no-coverage``, every mutant runs check and
the module's default tests (:data:`TESTS`).

Every run is in the copy, with the copy's ``pkg/`` as working directory and
``PYTHONPATH`` (from the tree itself, its ``linear_a/`` would be imported
without its subpackages and an installed checkout's would fill them in).
``--cov-dir DIR`` keeps the coverage data for a later run (``check.cov`` is
collected again when deleted, e.g. after changing the check; extra test data
``tests-*.cov`` is merged in).  ``--sites I,J`` re-runs chosen mutants of one
module (the ``site`` of the JSON lines) after a fix.

A mutant that fails to import at all is *stillborn* and not counted.  The
table is rewritten after every mutant into ``--out`` (Markdown), with a JSON
line per mutant beside it (``--out`` + ``.jsonl``), so partial results
survive: per module, mutants run, unreached by check, killed by check alone,
killed by check + tests, and the survivors with their diff line, to be
classified by reading (equivalent mutant, or a gap).  Sampling: the number of
mutants per module is ``--per-module`` out of all sites (printed), so the
figures are estimates.
"""
from __future__ import annotations

import argparse
import ast
import json
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
# issue 19's list: every module of transforms/ (the loop transformations of issue 14 included)
DEFAULT_MODULES = ["semantics/primitives.py", "semantics/evaluate.py", "semantics/typecheck.py",
                   "transforms/jvp.py", "transforms/unzip.py", "transforms/transpose.py",
                   "transforms/fused.py", "transforms/flat.py", "transforms/fresh.py",
                   "transforms/checkpoint.py", "transforms/every.py", "transforms/revolve.py",
                   "transforms/budget.py", "transforms/tradeoff.py", "transforms/compose.py",
                   "transforms/compile.py", "transforms/oracle.py", "transforms/programs.py",
                   "transforms/loops.py", "transforms/loop_ckpt.py", "proofs/checks.py"]
TESTS = {   # the test stage without coverage data
    "semantics/primitives.py": ["tests/test_jvp.py", "tests/test_oracle.py"],
    "semantics/evaluate.py": ["tests/test_cost_oracle.py", "tests/test_compose.py", "tests/test_cli_core.py"],
    "semantics/typecheck.py": ["tests/test_typing_cases.py", "tests/test_typing_rules_mutations.py",
                               "tests/test_typing_unknowns.py"],
    "transforms/jvp.py": ["tests/test_jvp.py"],
    "transforms/unzip.py": ["tests/test_unzip.py", "tests/test_checkpoint.py"],
    "transforms/transpose.py": ["tests/test_transpose.py"],
    "transforms/fused.py": ["tests/test_flat.py"],
    "transforms/flat.py": ["tests/test_flat.py"],
    "transforms/fresh.py": ["tests/test_flat.py", "tests/test_jvp.py"],
    "transforms/checkpoint.py": ["tests/test_checkpoint.py"],
    "transforms/every.py": ["tests/test_policies.py"],
    "transforms/revolve.py": ["tests/test_revolve.py"],
    "transforms/budget.py": ["tests/test_budget.py"],
    "transforms/tradeoff.py": ["tests/test_checkpoint.py"],
    "transforms/compose.py": ["tests/test_compose.py"],
    "transforms/compile.py": ["tests/test_compile.py"],
    "transforms/oracle.py": ["tests/test_oracle.py", "tests/test_loop_gaps.py"],
    "transforms/loops.py": ["tests/test_loops.py", "tests/test_loop_invariants.py", "tests/test_loop_gaps.py"],
    "transforms/loop_ckpt.py": ["tests/test_loop_checkpoint.py", "tests/test_loop_gaps.py"],
    "transforms/programs.py": ["tests/test_programs.py", "tests/test_policies.py", "tests/test_sched.py"],
    "proofs/checks.py": ["tests/test_check_methods.py", "tests/test_theorems.py", "tests/test_selftest.py"],
}

SWAP_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
            ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv}
SWAP_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}

# `linear-a check`, stopped at its first refuted result.  A refutation is raised
# out of the worker that found it; the CLI turns it into a non-zero exit.
CHECK_FAIL_FAST = r"""
import sys
import linear_a.proofs.runner as R
class Refuted(Exception):
    pass
def stop_at_refuted(f):
    def g(*a, **k):
        outs = f(*a, **k)
        bad = [o for o in outs if o.status == "refuted"]
        if bad:
            raise Refuted(f"{bad[0].theorem} refuted on {bad[0].program}")
        return outs
    return g
R.check_program = stop_at_refuted(R.check_program)
R.rule_outcomes = stop_at_refuted(R.rule_outcomes)
from linear_a.cli import main
sys.exit(main(["check", *sys.argv[1:]]))
"""


def sites(tree: ast.AST) -> list[tuple]:
    """(kind, node id in ast.walk order) for every mutable token."""
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


def site_lines(tree: ast.AST, site: tuple) -> range:
    """The source lines of the mutated token (an ``if``'s: its condition's)."""
    kind, idx = site
    node = list(ast.walk(tree))[idx]
    if kind == "if":
        node = node.test
    return range(node.lineno, (node.end_lineno or node.lineno) + 1)


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
                                                              ".hypothesis", ".pytest_cache", "results"))
    shutil.copytree(tree / "linear_a", pkg / "linear_a")
    for d in PACKAGES:
        if (tree / d).exists():
            os.symlink(tree / d, pkg / "linear_a" / d)
    for entry in tree.iterdir():        # pkg/ is the tree's root otherwise (tests read examples/… from it)
        if entry.name != "linear_a":
            os.symlink(entry, pkg / entry.name)
    return tree, pkg


def run(cmd, cwd, pkg, timeout) -> tuple[int, float]:
    env = dict(os.environ, PYTHONPATH=str(pkg), PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    env.pop("CI", None)
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=timeout)
        return r.returncode, time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        return -9, time.perf_counter() - t0


def module_of(filename: str) -> str | None:
    """``semantics/x.py`` from a measured file's path (through the copy or the shim)."""
    parts = Path(filename).parts
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] in PACKAGES:
            return "/".join(parts[i:])
    return None


def context_nodeid(ctx: str, test_files: set) -> str | None:
    """``tests/test_x.py::Class::test_f`` from coverage's ``test_function``
    context ``test_x.Class.test_f`` (or ``tests.test_x.…``)."""
    parts = ctx.split(".")
    for i in range(len(parts)):
        f = "tests/" + parts[i] + ".py"
        if f in test_files:
            return "::".join([f] + parts[i + 1:])
    return None


class Coverage:
    """Lines executed by the check run, and per line the tests that execute it."""

    def __init__(self, check: dict, tests: dict):
        self.check, self.tests = check, tests        # module -> {line}, module -> {line: {nodeid}}

    def reached_by_check(self, mod, lines) -> bool:
        got = self.check.get(mod, set())
        return any(n in got for n in lines)

    def tests_for(self, mod, lines) -> list[str]:
        """The tests executing these lines, the module's own test files first
        (``-x`` stops at the first failure: a kill is usually found there)."""
        per = self.tests.get(mod, {})
        out = set()
        for n in lines:
            out.update(per.get(n, ()))
        if not out and any(n in per for n in lines):
            # executed only outside any test function (at import: tables, defaults): every test
            # may depend on it, so the module's own test files
            out.update(TESTS.get(mod, ()))
        own = tuple(f + "::" for f in TESTS.get(mod, ()))
        return sorted(out, key=lambda t: (not t.startswith(own), t))

    @staticmethod
    def collect(tree: Path, pkg: Path, cov_dir: Path, modules: list[str], check_args: list[str]):
        import coverage  # noqa: F401  (fail here, before any work, if it is missing)
        cov_dir.mkdir(parents=True, exist_ok=True)
        include = "\n    ".join(str(base / m) for m in modules for base in (tree, pkg / "linear_a"))
        py = sys.executable
        for name, args, ctx in (("check", ["-m", "linear_a", "check", *check_args, "-j", "1"], ""),
                                ("tests", ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", str(tree / "tests")],
                                 "dynamic_context = test_function\n")):
            rc_file = cov_dir / f"rc_{name}"
            if (cov_dir / f"{name}.cov").exists():      # kept from an earlier run (--cov-dir) ...
                kept = rc_file.read_text(encoding="utf-8") if rc_file.exists() else ""
                missing = [m for m in modules if f"/{m}" not in kept]
                if missing:                             # ... but measuring other modules: no data
                    sys.exit(f"{cov_dir}: the kept coverage data does not measure {', '.join(missing)} "
                             "(every mutant of it would look unreached); use a fresh --cov-dir")
                continue
            rc_file.write_text(f"[run]\ndata_file = {cov_dir / (name + '.cov')}\n{ctx}"
                               f"include =\n    {include}\n", encoding="utf-8")
            t0 = time.perf_counter()
            # cwd = pkg: the copy's `linear_a` is the one imported (from the tree, `linear_a/` would be
            # found without its subpackages, and an installed checkout's would fill them in)
            rc, _ = run([py, "-m", "coverage", "run", f"--rcfile={rc_file}", *args], pkg, pkg, 3600)
            print(f"coverage of the {name} run: exit {rc}, {time.perf_counter() - t0:.0f} s", flush=True)

    @classmethod
    def load(cls, cov_dir: Path, tree: Path) -> "Coverage":
        from coverage import CoverageData
        test_files = {f"tests/{p.name}" for p in (tree / "tests").glob("test_*.py")}
        check, tests = {}, {}
        d = CoverageData(str(cov_dir / "check.cov"))
        d.read()
        for f in d.measured_files():
            m = module_of(f)
            if m:
                check.setdefault(m, set()).update(d.lines(f) or ())
        for data in sorted(cov_dir.glob("tests*.cov")):     # tests.cov, and any added since (tests-*.cov)
            d = CoverageData(str(data))
            d.read()
            for f in d.measured_files():
                m = module_of(f)
                if not m:
                    continue
                per = tests.setdefault(m, {})
                for line, ctxs in d.contexts_by_lineno(f).items():
                    ids = {context_nodeid(c, test_files) for c in ctxs if c}
                    per.setdefault(line, set()).update(i for i in ids if i)   # {} : at import only
        return cls(check, tests)


def write_table(out: Path | None, rows: list[dict], header: str):
    lines = [header, "",
             "| module | sites | mutants run | unreached by check | killed by check | killed by check + tests "
             "| % check | % check + tests | survivors |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        n = r["run"]
        both = r["check"] + r["tests"]
        pc = f"{100 * r['check'] / n:.0f}" if n else "–"
        pb = f"{100 * both / n:.0f}" if n else "–"
        lines.append(f"| {r['module']} | {r['sites']} | {n} | {r['unreached']} | {r['check']} | {both} "
                     f"| {pc} | {pb} | {len(r['survivors'])} |")
    lines += ["", "Survivors (classify each: equivalent, or a gap):", ""]
    for r in rows:
        for s in r["survivors"]:
            lines.append(f"* `{r['module']}` {s}")
    text = "\n".join(lines) + "\n"
    if out:
        out.write_text(text, encoding="utf-8")
    return text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", default=DEFAULT_MODULES,
                    help="modules to mutate (MODULE:N: N mutants of it instead of --per-module)")
    ap.add_argument("--per-module", type=int, default=8, help="mutants per module (all sites if fewer)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-args", default="", help="extra arguments of the check run (default: none, "
                    "i.e. `linear-a check` as a user runs it)")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--no-tests", action="store_true", help="check alone (no test stage)")
    ap.add_argument("--no-fail-fast", action="store_true", help="run each check to its end")
    ap.add_argument("--no-coverage", action="store_true", help="run every mutant (no coverage filter)")
    ap.add_argument("--cov-dir", type=Path, default=None,
                    help="keep (and reuse) the coverage data here instead of collecting it in the copy")
    ap.add_argument("--out", type=Path, default=None, help="the Markdown table, rewritten after each mutant")
    ap.add_argument("--sites", default=None, help="only these site indices (comma-separated) of one module: "
                    "to re-run chosen mutants after a fix")
    ns = ap.parse_args(argv)
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))   # a kill cleans up the copy and the child
    py = sys.executable
    check_args = ns.check_args.split()
    rng = random.Random(ns.seed)
    where = Path(tempfile.mkdtemp(prefix="linear-a-mutation-"))
    tree, pkg = make_copy(where)
    log = open(str(ns.out) + ".jsonl", "a", encoding="utf-8") if ns.out else None
    rows = []
    header = (f"Mutation run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
              f"`{' '.join(['python', 'benchmarks/mutation.py'] + (argv if argv is not None else sys.argv[1:]))}`")
    t_start = time.perf_counter()
    try:
        cov = None
        if not ns.no_coverage:
            try:
                import coverage  # noqa: F401
            except ImportError:
                print("no `coverage` package: every mutant runs check and the module's tests", flush=True)
            else:
                cov_dir = ns.cov_dir or (where / "cov")
                Coverage.collect(tree, pkg, cov_dir, sorted(set(DEFAULT_MODULES)
                                                            | {m.partition(":")[0] for m in ns.modules}),
                                     check_args)
                cov = Coverage.load(cov_dir, tree)
        for arg in ns.modules:
            mod, _, count = arg.partition(":")          # MODULE:N: N mutants of this module
            count = int(count) if count else ns.per_module
            path = tree / mod
            original = path.read_text(encoding="utf-8")
            parsed = ast.parse(original)
            all_sites = sites(parsed)
            if ns.sites:
                chosen = [all_sites[int(i)] for i in ns.sites.split(",")]
            else:
                chosen = rng.sample(all_sites, min(count, len(all_sites)))
            stats = {"module": mod, "sites": len(all_sites), "run": 0, "unreached": 0, "check": 0,
                     "tests": 0, "stillborn": 0, "survivors": []}
            rows.append(stats)
            for site in chosen:
                src, desc = mutate(original, site)
                lines = site_lines(parsed, site)
                rec = {"module": mod, "site": all_sites.index(site), "desc": desc}
                path.write_text(src, encoding="utf-8")
                try:
                    reached = cov is None or cov.reached_by_check(mod, lines)
                    if reached:
                        # cwd = pkg: the mutated copy is the only `linear_a` importable (not the checkout)
                        rc, _ = run([py, "-c", "import linear_a.cli, linear_a.proofs.runner, sys; "
                                     f"assert linear_a.proofs.runner.__file__.startswith({str(pkg)!r})"],
                                    pkg, pkg, 60)
                        if rc != 0:
                            stats["stillborn"] += 1
                            rec["verdict"] = "stillborn"
                            continue
                    stats["run"] += 1
                    if reached:
                        cmd = ([py, "-c", CHECK_FAIL_FAST] if not ns.no_fail_fast
                               else [py, "-m", "linear_a", "check"]) + check_args
                        rc, secs = run(cmd, pkg, pkg, ns.timeout)
                        rec["check_seconds"] = round(secs, 1)
                        if rc != 0:
                            stats["check"] += 1
                            rec["verdict"] = "check" + (" (timeout)" if rc == -9 else "")
                            print(f"  {mod} killed by check ({secs:.0f} s): {desc}", flush=True)
                            continue
                    else:
                        stats["unreached"] += 1
                        rec["unreached_by_check"] = True
                    if ns.no_tests:
                        tests = []
                    elif cov is not None:
                        tests = cov.tests_for(mod, lines)
                    else:
                        tests = TESTS.get(mod, [])
                    rec["tests_run"] = len(tests)
                    if tests:
                        rc, secs = run([py, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                        "-m", "not slow", *(str(tree / t) for t in tests)],
                                       pkg, pkg, ns.timeout * 3)
                        rec["tests_seconds"] = round(secs, 1)
                        if rc != 0:
                            stats["tests"] += 1
                            rec["verdict"] = "tests" + (" (timeout)" if rc == -9 else "")
                            print(f"  {mod} killed by tests ({secs:.0f} s): {desc}", flush=True)
                            continue
                    rec["verdict"] = "survived"
                    note = "" if reached else " [line not executed by check]"
                    note += "" if tests or ns.no_tests else " [no test executes it]"
                    stats["survivors"].append(f"(site {rec['site']}) {desc}{note}")
                    print(f"  {mod} SURVIVED: {desc}{note}", flush=True)
                finally:
                    path.write_text(original, encoding="utf-8")
                    if log:
                        log.write(json.dumps(rec, ensure_ascii=False) + "\n")
                        log.flush()
                    write_table(ns.out, rows, header)
    finally:
        shutil.rmtree(where, ignore_errors=True)
        if log:
            log.close()
    print()
    print(write_table(ns.out, rows, header + f" ({time.perf_counter() - t_start:.0f} s wall)"))


if __name__ == "__main__":
    main()
