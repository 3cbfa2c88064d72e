"""Benchmark of the language core on long let-chains (SPEC §15).

How to run (from the repository root)::

    python3 benchmarks/bench_core.py                         # 10^4, 10^5, 10^6 lets
    python3 benchmarks/bench_core.py --sizes 10000,100000 --repeat 3

For each size n the program is ``linear_a.proofs.generators.chain_text(n)``: one
definition, n lets alternating ``sin`` and ``* w``.  Four phases are timed:
``parse`` (text → AST), ``typecheck`` (the typing judgment, building its
derivation), ``eval`` (float evaluation with work and memory accounting; the
typing information it needs is computed beforehand, untimed) and ``print``
(AST → text).  Each phase reports seconds (best of ``--repeat``), µs per let
and lets per second, and the scaling exponent between consecutive sizes,
log(t₂/t₁) / log(n₂/n₁) (1.0 = linear).

Every (size, GC mode) runs in a fresh subprocess, so the reported peak RSS is
that run's own.  Two GC modes: ``gc on`` (Python's default) and ``gc frozen``
(``gc.freeze()`` then ``gc.disable()`` around each timed phase): at 10^6 lets the
cyclic collector's repeated full scans of the growing AST can dominate.

A calibration line times a plain Python loop, so numbers from a loaded or slow
machine can be compared with others.  Tables use ``rich`` when it is installed.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import subprocess
import sys
import time

PHASES = ("parse", "typecheck", "eval", "print")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def calibrate() -> float:
    """Seconds for 10^6 iterations of a trivial Python loop (≈ 0.03–0.06 s on an idle machine)."""
    t = time.perf_counter()
    s = 0
    for i in range(10**6):
        s += i
    return time.perf_counter() - t


def worker(n: int, frozen: bool, repeat: int) -> dict:
    """Time the four phases on an n-let chain in this process."""
    from linear_a.proofs.generators import chain_text, chain_value
    from linear_a.semantics.evaluate import _typing_info, evaluate
    from linear_a.semantics.parser import parse_program
    from linear_a.semantics.printer import show
    from linear_a.semantics.typecheck import typecheck

    text = chain_text(n)
    best = {ph: math.inf for ph in PHASES}

    def timed(phase, fn):
        gc.collect()
        if frozen:
            gc.freeze()
            gc.disable()
        try:
            t = time.perf_counter()
            out = fn()
            best[phase] = min(best[phase], time.perf_counter() - t)
        finally:
            if frozen:
                gc.enable()
                gc.unfreeze()
        return out

    for _ in range(repeat):
        prog = timed("parse", lambda: parse_program(text))
        timed("typecheck", lambda: typecheck(prog))      # the derivation is dropped at once
        _typing_info(prog)                      # evaluation's own typing pass, untimed
        r = timed("eval", lambda: evaluate(prog, "f", {"x": 0.5, "w": 0.9}))
        assert r.nl == (chain_value(n, 0.5, 0.9),), "wrong value"
        out = timed("print", lambda: show(prog))
        assert out == text, "printing did not reproduce the text"
        prog = r = out = None     # free before the next round
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB → MiB
    return {"n": n, "frozen": frozen, "times": best, "rss_mb": rss}


def run_worker(n: int, frozen: bool, repeat: int) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(n),
           "--repeat", str(repeat)] + (["--frozen"] if frozen else [])
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"worker n={n} frozen={frozen} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def exponents(results: list[dict]) -> dict:
    """(n, frozen, phase) -> scaling exponent from the previous size (same GC mode)."""
    out = {}
    for frozen in (False, True):
        rs = sorted((r for r in results if r["frozen"] == frozen), key=lambda r: r["n"])
        for a, b in zip(rs, rs[1:]):
            for ph in PHASES:
                ta, tb = a["times"][ph], b["times"][ph]
                if ta > 0 and tb > 0:
                    out[(b["n"], frozen, ph)] = math.log(tb / ta) / math.log(b["n"] / a["n"])
    return out


def rows(results: list[dict]) -> list[list[str]]:
    exps = exponents(results)
    table = []
    for r in sorted(results, key=lambda r: (r["frozen"], r["n"])):
        for ph in PHASES:
            t = r["times"][ph]
            e = exps.get((r["n"], r["frozen"], ph))
            table.append([f"{r['n']:,}", "frozen" if r["frozen"] else "on", ph, f"{t:.3f}",
                          f"{t / r['n'] * 1e6:.2f}", f"{r['n'] / t:,.0f}",
                          "" if e is None else f"{e:.2f}", f"{r['rss_mb']:,.0f}"])
    return table


HEADERS = ["lets", "gc", "phase", "seconds", "µs/let", "lets/s", "exponent", "peak RSS MiB"]


def render(table, calib: float):
    title = f"Linear A core on a sin / * w chain  (calibration: 10^6-iteration loop = {calib * 1e3:.0f} ms)"
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(HEADERS)]
        print("  ".join(h.rjust(w) for h, w in zip(HEADERS, widths)))
        for row in table:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        return
    t = Table(title=title)
    for h in HEADERS:
        t.add_column(h, justify="right")
    for row in table:
        t.add_row(*row)
    Console(width=120).print(t)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000",
                    help="comma-separated chain lengths (default 10000,100000,1000000)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per phase; the best is kept")
    ap.add_argument("--gc", choices=["both", "on", "frozen"], default="both",
                    help="GC modes to measure (default both)")
    ap.add_argument("--json", action="store_true", help="also print the raw results as JSON")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--frozen", action="store_true", help=argparse.SUPPRESS)
    ns = ap.parse_args(argv)
    if ns.worker is not None:
        print(json.dumps(worker(ns.worker, ns.frozen, ns.repeat)))
        return 0
    try:
        sizes = [int(s.replace("_", "")) for s in ns.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes takes comma-separated integers, got {ns.sizes!r}")
    if any(n < 2 for n in sizes) or ns.repeat < 1:
        ap.error("sizes must be >= 2 and --repeat >= 1")
    modes = {"both": (False, True), "on": (False,), "frozen": (True,)}[ns.gc]
    calib = calibrate()
    results = [run_worker(n, frozen, ns.repeat) for frozen in modes for n in sizes]
    render(rows(results), calib)
    if ns.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
