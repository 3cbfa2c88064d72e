"""Benchmarks of the proof machinery (SPEC §15), not timed tests.

1. Proof scaling: linearity and adjointness of the linearized chain
   (alternating sin and · w) in normal form, against naive sympy
   expand-and-compare and z3 on the whole identity (proofs/scaling.py).
2. The suite: ``linear-a check`` on the corpus + N random programs, wall and
   CPU time (the machine may be shared: CPU time is the fair figure).

    python benchmarks/bench_proofs.py            # both
    python benchmarks/bench_proofs.py --scaling  # only the table
    python benchmarks/bench_proofs.py --suite --random 200
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import time


def scaling(quick: bool = False):
    from linear_a.proofs.scaling import HEADER, _row, table
    print(HEADER, flush=True)
    echo = lambda r: print(_row(r), flush=True)
    if quick:
        return table((10, 100, 300), (10, 50), (10, 25), 3000, echo=echo)
    return table(echo=echo)


def suite(n: int, seed: int):
    from linear_a.proofs.runner import run_suite
    t0, c0 = time.perf_counter(), time.process_time()
    rep = run_suite(random_n=n, seed=seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = rep.summary()
    print(json.dumps({"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                      "load_avg": os.getloadavg(), "totals": s["totals"],
                      "unknown_fraction": s["unknown_fraction"], "programs": s["programs"],
                      "rule_obligations": s["rule_obligations"],
                      "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}, indent=2))
    return rep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scaling", action="store_true")
    ap.add_argument("--suite", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--random", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ns = ap.parse_args()
    both = not ns.scaling and not ns.suite
    if ns.scaling or both:
        scaling(ns.quick)
    if ns.suite or both:
        suite(ns.random, ns.seed)


if __name__ == "__main__":
    main()
