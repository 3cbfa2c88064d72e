"""Loops: the gradient program of an N-step loop does not grow with N (issue 14).

How to run (from the repository root)::

    python3 benchmarks/bench_loops.py                      # N = 200, 2000, 20000
    python3 benchmarks/bench_loops.py --ns 200,2000 --repeat 3

The program is ``examples/euler.la`` (explicit Euler for Lotka–Volterra,
2-real state, 4 parameters) with its ``loop 200`` replaced by ``loop N``.  For
each N it prints: the time of the transform pipeline (parse, typecheck,
``vjp_program``; best of ``--repeat``), the size |P| of the source and of the
gradient program, W and M of the source and of the gradient (``fn_jvp_nl``
then ``fn_jvp_lin_T``) under save-all, the ratio W(vjp)/W(f), and, for
comparison, the size of the gradient program of the *unrolled* source
(``transforms.loops.unroll_loops``; only up to N = 2000, it grows with N).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from linear_a.semantics import evaluate, parse_program, typecheck
from linear_a.semantics.syntax import program_size
from linear_a.transforms.compose import grad, vjp_program
from linear_a.transforms.loops import unroll_loops

ROOT = Path(__file__).resolve().parent.parent
AT = {"x0": 1.0, "y0": 0.5, "a": 1.1, "b": 0.4, "c": 0.4, "d": 0.1}


def source(n: int) -> str:
    return (ROOT / "examples" / "euler.la").read_text(encoding="utf-8").replace("loop 200", f"loop {n}")


def row(n: int, repeat: int) -> dict:
    text = source(n)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = parse_program(text)
        typecheck(p)
        vp = vjp_program(p, "euler")
        best = min(best, time.perf_counter() - t0)
    f = evaluate(p, "euler", AT)
    g = grad(p, "euler", AT, program=vp)
    unrolled = None
    if n <= 2000:
        unrolled = program_size(vjp_program(unroll_loops(p), "euler"))
    return {"N": n, "seconds": best, "size_f": program_size(p), "size_vjp": program_size(vp),
            "size_vjp_unrolled": unrolled, "W_f": f.work, "M_f": f.memory, "W_vjp": g.work,
            "M_vjp": g.memory}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", default="200,2000,20000")
    ap.add_argument("--repeat", type=int, default=3)
    ns = [int(x) for x in ap.parse_args().ns.split(",")]
    repeat = ap.parse_args().repeat
    cols = ["N", "transform s", "|f|", "|vjp|", "|vjp| unrolled", "W(f)", "M(f)", "W(vjp)",
            "M(vjp)", "W(vjp)/W(f)"]
    print(" | ".join(cols))
    for n in ns:
        r = row(n, repeat)
        print(" | ".join(str(x) for x in (
            r["N"], f"{r['seconds']:.4f}", r["size_f"], r["size_vjp"],
            "—" if r["size_vjp_unrolled"] is None else r["size_vjp_unrolled"],
            r["W_f"], r["M_f"], r["W_vjp"], r["M_vjp"], f"{r['W_vjp'] / r['W_f']:.3f}")))


if __name__ == "__main__":
    main()
