"""How many random programs take the fast path (``transforms.flat``), and why the others do not.

    python3 benchmarks/fast_coverage.py [--examples 400] [--max-defs 3] [--max-lets 8]

Draws programs from ``linear_a.proofs.generators.nonlinear_programs`` (the
project's generator of straight-line non-linear programs: primitives,
literals, drops, tuples, unpacks, nested right-hand sides, calls), derandomized,
prints each in the printer's layout and in a random re-layout (the strategy
``relaid`` of ``tests/test_flat.py``: spacing, comments, annotations, line
breaks, CRLF), asks ``vjp_text(…, require_fast=True)`` for the vjp of the
last definition, and prints the fraction answered by the fast path and a
count of the first reason each other program was declined.  Every answer is
checked against the reference pipeline's text.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=400)
    ap.add_argument("--max-defs", type=int, default=3)
    ap.add_argument("--max-lets", type=int, default=8)
    a = ap.parse_args(argv)
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from hypothesis import HealthCheck, given, settings, strategies as st
    from linear_a.proofs.generators import nonlinear_programs
    from linear_a.semantics import show
    from linear_a.transforms import flat as tf
    from test_flat import relaid

    counts = collections.Counter()
    why = collections.Counter()

    @settings(max_examples=a.examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data(), nonlinear_programs(max_defs=a.max_defs, max_lets=a.max_lets))
    def run(data, prog):
        text = show(prog)
        fn = prog.defs[-1].name
        ref = tf.reference_vjp_text(text, fn)
        for layout, t in (("printed", text), ("re-laid", data.draw(relaid(text)))):
            counts[layout, "all"] += 1
            try:
                out = tf.vjp_text(t, fn, require_fast=True)
            except tf.NotFast as e:
                if layout == "printed":
                    why[str(e.__cause__).split("`")[0].strip()] += 1
                continue
            assert out == tf.reference_vjp_text(t, fn), t
            counts[layout, "fast"] += 1
        assert ref is not None
    run()
    print(f"| layout | programs | fast path | fraction |\n|---|---|---|---|")
    for layout in ("printed", "re-laid"):
        n, k = counts[layout, "all"], counts[layout, "fast"]
        print(f"| {layout} | {n} | {k} | {k / n:.1%} |")
    print("\n| first reason the fast path declined (printed layout) | programs |\n|---|---|")
    for r, k in why.most_common():
        print(f"| {r} | {k} |")


if __name__ == "__main__":
    main()
