"""`check`: the theorem-check suite (SPEC §11, proofs/runner.py).

    linear-a check                       # built-in corpus + 200 random programs + per-rule obligations
    linear-a check f.la g.py             # every definition of these programs (add --random N too)
    linear-a check f.la --fn f --fn g    # only these definitions (and what they call)
    linear-a check f.la --budget 20      # at most 20 s for the file (then: unknown)
    linear-a check --random 50 --seed 7 --json
    linear-a check --path fast           # only the vjp program `linear-a vjp` prints (default: both)
    linear-a check --self-test           # each known-bad transformation must be refuted

Prints a progress bar (stderr) and a summary table (theorem × status counts,
time) and the coverage table, or with ``--json`` {"results": [...],
"summary": {...}} (stdout holds only the JSON).  Exit code 1 if any check is
refuted or, in the default run, a coverage item is missing.
"""
from __future__ import annotations

from linear_a.semantics.errors import UsageError

from .common import load_program, print_json


def register(sub):
    p = sub.add_parser("check", help="run the theorem-check suite (proved / checked / refuted / unknown)")
    p.add_argument("files", nargs="*", metavar="FILES",
                   help="programs to check (.la or .py); default: the built-in corpus")
    p.add_argument("--random", type=int, default=None, metavar="N",
                   help="also check N random well-typed programs (default 200 without FILES, 0 with)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the random programs")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--no-rules", action="store_true",
                   help="skip the per-rule (all programs) obligations")
    p.add_argument("--rules", action="store_true", help="run the per-rule obligations with FILES too")
    p.add_argument("--theorem", action="append", metavar="ID",
                   help="only this theorem (repeatable)")
    p.add_argument("--fn", action="append", metavar="F",
                   help="with FILES: check only definition F (repeatable; default: every definition)")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="seconds per program, shared by its definitions and theorems; what is "
                        "not finished within it is unknown (default: %g)" % _default_budget())
    p.add_argument("--verbose", "-v", action="store_true", help="list every result, not only failures")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="worker processes (default: CPUs, at most 2)")
    from linear_a.transforms.checkpoint import policy_forms
    p.add_argument("--policy", action="append", metavar="POLICY",
                   help="also check checkpoint-invariance under this policy (repeatable): "
                        + " | ".join(policy_forms()))
    p.add_argument("--path", choices=("fast", "reference", "both"), default="both",
                   help="the vjp programs checked: the one `linear-a vjp` prints (fast path where it "
                        "applies), the reference pipeline's, or both (default)")
    p.add_argument("--self-test", action="store_true",
                   help="check the checks: apply each known-bad transformation of the self-test corpus "
                        "in-process and require its theorem to be refuted (proofs/selftest.py)")
    p.set_defaults(func=run_check)


def _default_budget() -> float:
    from linear_a.proofs.checks import PROGRAM_SECONDS
    return PROGRAM_SECONDS


def run_check(ns):
    if ns.self_test:
        return _run_self_test(ns)
    from linear_a.proofs.runner import run_suite
    from linear_a.proofs.theorems import IDS
    n = ns.random if ns.random is not None else (0 if ns.files else 200)
    if n < 0:
        raise UsageError("--random must be ≥ 0")
    if ns.jobs is not None and ns.jobs < 1:
        raise UsageError("--jobs must be ≥ 1")
    if ns.theorem:
        unknown = [t for t in ns.theorem if t not in IDS]
        if unknown:
            raise UsageError(f"unknown theorem `{unknown[0]}` (known: {', '.join(IDS)})")
    budget = _default_budget() if ns.budget is None else ns.budget
    if not budget > 0 or budget == float("inf"):
        raise UsageError("--budget must be a positive number of seconds")
    if ns.fn and not ns.files:
        raise UsageError("--fn needs FILES (it names definitions of those files)")
    if ns.policy:            # extra policies for checkpoint-invariance (issue 13)
        from linear_a.proofs.checkpoint_checks import set_extra_policies
        set_extra_policies(ns.policy)
    rules = (not ns.files or ns.rules) and not ns.no_rules
    files = list(ns.files)
    defined = set()
    for f in files:          # fail early, with a located error, before any work
        defined.update(load_program(f, ns.fn).names)
    for fn in ns.fn or ():
        if fn not in defined:
            raise UsageError(f"--fn {fn}: no definition `{fn}` in {', '.join(files)} "
                             f"(defined: {', '.join(sorted(defined))})")

    progress_cb, finish = _progress(quiet=False)
    try:
        with _stdout_to_stderr(ns.json):     # --json: stdout holds the JSON document only
            report = run_suite(files or None, n, ns.seed, rules=rules, progress=progress_cb,
                               theorems=set(ns.theorem) if ns.theorem else None,
                               load=lambda f: load_program(f, ns.fn),
                               jobs=ns.jobs, fns=set(ns.fn) if ns.fn else None, budget=budget,
                               path=ns.path)
    finally:
        finish()
    if ns.json:
        print_json(report.as_json())
    else:
        _print_summary(report, ns.verbose)
    return 1 if report.failed else 0


def _run_self_test(ns):
    """Each bad transformation must be refuted by its theorem, with a counterexample."""
    from linear_a.proofs.selftest import run_self_test
    with _stdout_to_stderr(ns.json):
        results = run_self_test()
    missed = [r for r in results if not r.ok]
    if ns.json:
        print_json({"self_test": [r.as_json() for r in results],
                    "summary": {"bad_transformations": len(results), "refuted": len(results) - len(missed),
                                "missed": [r.bad.name for r in missed]}})
        return 1 if missed else 0
    from rich.console import Console
    from rich.table import Table
    console = Console()
    table = Table(title=f"check --self-test: {len(results) - len(missed)}/{len(results)} known-bad "
                        "transformations refuted, each by its expected method")
    for col in ("bad transformation", "theorem", "verdict", "method"):
        table.add_column(col)
    for r in results:
        table.add_row(r.bad.name, r.bad.theorem, "[green]refuted[/]" if r.ok else f"[bold red]{r.verdict}[/]",
                      r.method)
    console.print(table)
    for r in results:                    # what was compared, and the counterexample
        console.print(f"{'refuted' if r.ok else 'MISSED (' + r.verdict + ')'} {r.bad.theorem} — "
                      f"{r.bad.name}: {r.detail}", highlight=False, markup=False)
        for k, v in (r.counterexample or {}).items():
            if k != "program" or ns.verbose:
                text = str(v) if ns.verbose else str(v).replace("\n", " ⏎ ")[:200]
                console.print(f"    {k}: {text}", highlight=False, markup=False)
    return 1 if missed else 0


class _stdout_to_stderr:
    """While active, whatever is written to stdout (Hypothesis's notes while
    shrinking, a solver's chatter, at the file-descriptor level too) goes to
    stderr."""

    def __init__(self, active: bool):
        self.active = active

    def __enter__(self):
        if self.active:
            import os
            import sys
            sys.stdout.flush()
            self.saved_fd = os.dup(1)
            os.dup2(2, 1)
            self.saved = sys.stdout
            sys.stdout = sys.stderr
        return self

    def __exit__(self, *exc):
        if self.active:
            import os
            import sys
            sys.stdout.flush()
            sys.stdout = self.saved
            os.dup2(self.saved_fd, 1)
            os.close(self.saved_fd)
        return False


def _progress(quiet: bool):
    """A rich progress bar on stderr; returns (callback, finish)."""
    if quiet:
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    console = Console(stderr=True)
    prog = Progress(TextColumn("[bold]check"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.description}"), console=console, transient=True,
                    disable=not console.is_terminal)
    prog.start()
    task = prog.add_task("", total=None)

    def cb(advance, total, label):
        prog.update(task, advance=advance, total=total, description=label[:40])
    return cb, prog.stop


def _print_coverage(console, summary):
    """Each primitive, rule, tuple type of size > 1 and call, with the number of
    checked programs exercising it (proofs/coverage.py)."""
    cov = summary["coverage"]
    cells = [f"{k} {n}" for k, n in cov.items()]
    width = max(len(c) for c in cells) + 2 if cells else 0
    per_line = max(1, (console.width - 2) // max(width, 1))
    console.print(f"coverage ({len(cov) - len(summary['coverage_missing'])}/{len(cov)} items; "
                  "programs exercising each):", highlight=False)
    for i in range(0, len(cells), per_line):
        console.print("  " + "".join(c.ljust(width) for c in cells[i:i + per_line]), highlight=False,
                      markup=False)
    if summary["coverage_missing"]:
        style = "bold red" if summary["coverage_required"] else "yellow"
        word = "error" if summary["coverage_required"] else "not exercised"
        console.print(f"[{style}]coverage {word}:[/] " + ", ".join(summary["coverage_missing"]),
                      highlight=False)


def _print_summary(report, verbose: bool):
    from rich.console import Console
    from rich.table import Table
    from linear_a.proofs.theorems import STATUSES
    console = Console()
    secs = {}
    for r in report.results:
        secs[r.theorem] = secs.get(r.theorem, 0.0) + r.seconds
    table = Table(title=f"theorem checks: {report.programs} programs, {report.rules} per-rule "
                        f"obligations, {report.seconds:.1f} s")
    table.add_column("theorem")
    styles = {"proved": "green", "checked": "cyan", "refuted": "bold red", "unknown": "yellow"}
    for s in STATUSES:
        table.add_column(s, justify="right", style=styles[s])
    table.add_column("seconds", justify="right")
    summary = report.summary()
    for t, counts in summary["by_theorem"].items():
        table.add_row(t, *(str(counts[s]) for s in STATUSES), f"{secs.get(t, 0.0):.2f}")
    tot = summary["totals"]
    table.add_row("[bold]total", *(f"[bold]{tot[s]}" for s in STATUSES), f"{report.seconds:.2f}")
    console.print(table)
    console.print(f"unknown: {100 * summary['unknown_fraction']:.2f} % of {summary['checks']} checks")
    for f, names in report.definitions.items():
        console.print(f"checked in {f}: {', '.join(names) or 'no definition'}", highlight=False,
                      soft_wrap=True)
    _print_coverage(console, summary)
    shown = report.results if verbose else [r for r in report.results if r.status in ("refuted", "unknown")]
    for r in shown:
        style = styles.get(r.status, "")
        console.print(f"[{style}]{r.status}[/] {r.theorem} — {r.program}: {r.method}"
                      + (f" — {r.detail}" if r.detail else ""), markup=True, highlight=False)
        if r.status == "refuted" and r.counterexample:
            for k, v in r.counterexample.items():
                text = v if isinstance(v, str) else repr(v)
                console.print(f"    {k}:", highlight=False)
                for line in str(text).splitlines():
                    console.print(f"      {line}", highlight=False, markup=False)
