"""What the fast path cannot go below on this machine: the floor under SPEC §15's 10 µs/let.

How to run (from the repository root)::

    python3 benchmarks/bench_floor.py                 # n = 10^4 and 10^5
    python3 benchmarks/bench_floor.py --sizes 1000000

The fast path (``linear_a.transforms.flat``) turns the chain's text into the vjp
program's text: per source let it reads one line and writes four (1.5 in
``f_jvp_nl``, 2.5 in ``f_jvp_lin_T``); between the two, the fused pass
(``linear_a.transforms.fused``) visits the source let and makes the four, and the
output check visits them again.  This script times, in one process
and on the same chain (``linear_a.proofs.generators.chain_text``), the parts of that
work no implementation of the contract can skip, each done the cheapest way
Python offers, with nothing else around it:

  read lines       the one ``findall`` of the fast parser (C), no Python per line
  write lines      the output's lines as f-strings from ready-made name strings,
                   appended and joined: nothing but the text itself
  touch lets       one empty Python loop over every let the stages visit
                   (the fused pass 1, the output check 4 per source let; the
                   printer's visits are in "write lines"): the cost of
                   visiting them, before doing anything
  bare reverse     a minimal flat-list reverse pass: the chain's JVP tape and
                   its transposition on integer variables -- no names, no
                   checks, no text (what a prototype without the contract does)

and, for comparison, the fast path itself (``vjp_text``), stage by stage.
"read + write + touch" is a floor under any pipeline that reads the text,
transforms in one pass, checks the output in a separate judgment and writes
the text; "bare reverse" is the
transformation work a prototype does, which this floor does not include.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from linear_a.proofs.generators import chain_text  # noqa: E402
from linear_a.semantics import flat as sf  # noqa: E402
from linear_a.transforms import flat as tf  # noqa: E402
from linear_a.transforms.fused import vjp_defs  # noqa: E402


def best(thunk, reps: int) -> float:
    t = None
    for _ in range(reps):
        t0 = time.perf_counter()
        thunk()
        dt = time.perf_counter() - t0
        t = dt if t is None else min(t, dt)
    return t


def write_lines(rows) -> str:
    """The output's lines from ready-made strings (kind, three names)."""
    out = []
    append = out.append
    for a, b, c in rows:
        append(f"  let (; {a}) = {b} *. {c} in")
    return "\n".join(out)


def touch(lets) -> None:
    for _ in lets:
        pass


SIN, MUL = 0, 1


def bare_reverse(prog: list, n_vars: int) -> list:
    """The chain's reverse pass on flat lists: forward, the non-linear lets and
    a tape of (kind, result, coefficient, input[, coefficient, input]); backward,
    the cotangent lets.  Variables are integers; nothing is named or checked."""
    nl, tape = [], []
    nxt = n_vars
    for op, z, a, b in prog:
        if op == SIN:
            nl.append((op, z, a, b))
            nl.append(("cos", nxt, a, None))
            tape.append((z, nxt, a, None, None))
            nxt += 1
        else:
            nl.append((op, z, a, b))
            tape.append((z, b, a, a, b))
    ct = [None] * n_vars
    ct[prog[-1][1]] = nxt
    nxt += 1
    out = []
    append = out.append
    for z, c1, x1, c2, x2 in reversed(tape):
        g = ct[z]
        if c2 is None:
            append(("*.", nxt, c1, g))
            ct[x1] = nxt
            nxt += 1
        else:
            append(("dup", nxt, nxt + 1, g))
            append(("*.", nxt + 2, c1, nxt))
            append(("*.", nxt + 3, c2, nxt + 1))
            ct[x1] = nxt + 2
            prev = ct[x2]
            if prev is None:
                ct[x2] = nxt + 3
            else:
                append(("+.", nxt + 4, prev, nxt + 3))
                ct[x2] = nxt + 4
            nxt += 5
    return nl + out


def measure(n: int) -> dict:
    text = chain_text(n)
    reps = 3 if n <= 10 ** 5 else 1
    gc.disable()
    r = {}
    r["read lines"] = best(lambda: sf._FAST_LINE.findall(text), reps)
    out = tf.fast_vjp_text(text, "f")
    n_out = out.count("\n")
    rows = [(f"ct_dv{i}", f"c_{i}", f"ct_dv{i}_1") for i in range(n_out)]
    r["write lines"] = best(lambda: write_lines(rows), reps)
    rows = None
    per_let = 1 + 4                           # lets visited by the fused pass, the output check
    lets = [(0, 1, 2, 3)] * int(per_let * n)
    r["touch lets"] = best(lambda: touch(lets), reps)
    lets = None
    # the chain as flat lists: x = 0, w = 1, v_i = i + 1; alternating sin and * w
    prog = [(SIN, i + 2, i + 1 if i else 0, None) if i % 2 == 0 else (MUL, i + 2, i + 1, 1)
            for i in range(n)]
    r["bare reverse"] = best(lambda: bare_reverse(prog, n + 2), reps)
    prog = None
    # the fast path, stage by stage
    st = {}
    t0 = time.perf_counter(); fp = sf.parse(text); st["parse"] = time.perf_counter() - t0
    t0 = time.perf_counter(); counts = sf.check(fp); st["check"] = time.perf_counter() - t0
    d = fp.get("f")
    t0 = time.perf_counter(); vp = vjp_defs(d, counts["f"]); st["vjp (fused)"] = time.perf_counter() - t0
    t0 = time.perf_counter(); tf.check_output(vp); st["check output"] = time.perf_counter() - t0
    t0 = time.perf_counter(); text_out = sf.show(vp); st["print"] = time.perf_counter() - t0
    assert text_out == out
    gc.enable()
    return {"n": n, "floor": r, "stages": st, "lines_out": n_out / n}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated chain lengths")
    args = ap.parse_args(argv)
    results = [measure(int(s)) for s in args.sizes.split(",")]
    us = lambda sec, n: f"{sec / n * 1e6:.2f}"
    print("## the floor under the fast path (µs per source let)\n")
    print("| part | " + " | ".join(f"n = {r['n']:,}" for r in results) + " |")
    print("|---|" + "---|" * len(results))
    for k in ("read lines", "write lines", "touch lets"):
        print(f"| {k} | " + " | ".join(us(r["floor"][k], r["n"]) for r in results) + " |")
    print("| **read + write + touch** | " + " | ".join(
        f"**{us(sum(r['floor'][k] for k in ('read lines', 'write lines', 'touch lets')), r['n'])}**"
        for r in results) + " |")
    print("| bare reverse (a prototype's transform) | " + " | ".join(
        us(r["floor"]["bare reverse"], r["n"]) for r in results) + " |")
    print("\n## the fast path, same process (µs per source let)\n")
    print("| stage | " + " | ".join(f"n = {r['n']:,}" for r in results) + " |")
    print("|---|" + "---|" * len(results))
    for k in results[0]["stages"]:
        print(f"| {k} | " + " | ".join(us(r["stages"][k], r["n"]) for r in results) + " |")
    print("| **total** | " + " | ".join(f"**{us(sum(r['stages'].values()), r['n'])}**"
                                       for r in results) + " |")
    print(f"\n(output lines per source let: {results[0]['lines_out']:.2f})")


if __name__ == "__main__":
    main()
