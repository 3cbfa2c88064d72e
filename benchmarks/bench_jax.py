"""Side by side with JAX (optional extra ``bench``: ``pip install jax``).

    python3 benchmarks/bench_jax.py                    # all of the below, in one run
    python3 benchmarks/bench_jax.py --sizes 1000       # the chain at these sizes only …
    python3 benchmarks/bench_jax.py --only chain,layouts,calls,scaling,quality   # … or some parts

Parts: ``chain`` (the chain at ``--sizes``), ``layouts`` (one chain of
``--layout-size`` lets in each layout of ``bench_pipeline.LAYOUTS``: JAX ÷
fast per layout), ``calls`` (``--calls`` calls of a step function with a
tuple state, ``step_text``: JAX inlines the calls as it traces; the fast path
transforms ``step`` once and each call is one let), ``scaling`` (the fast
path alone on the chain at ``--scaling-sizes``, µs per let and the exponent
log(t₂/t₁)/log(n₂/n₁) between sizes), ``quality``.

Speed: for the chain ``f(x, w)`` (n lets alternating ``sin`` and ``* w``,
``linear_a.proofs.generators.chain_text``) this times, in one process, one after the
other (each ``--repeat`` times, interleaved, keeping each side's best):

* JAX: ``jax.make_jaxpr(jax.grad(f))(x, w)`` with f the same chain written
  with ``jnp.sin`` and ``*`` -- tracing, JVP, partial evaluation and
  transposition, the jaxpr of the gradient (no XLA compilation);
* this project: text → ``parse_program`` → ``typecheck`` → ``jvp`` → ``unzip``
  → ``transpose`` → ``typecheck`` of the vjp program → ``show`` (printed), the
  same work JAX's line does, text in and text out.

and the fast flat path (``linear_a.transforms.flat``, same text out, exact agreement
tested), and prints µs per primal equation / per let and the ratios (JAX ÷
ours).  Times are CPU time of the process (``--clock cpu``, the default: on a
shared host wall time also counts other jobs' turns on the cores; JAX's
make_jaxpr is single-threaded Python tracing, so its CPU time is its work)
or wall time (``--clock wall``).  Like for like, twice: JAX's make_jaxpr returns a program in memory,
so it is set against text → the checked vjp program in memory
(``fast_vjp_defs``: parse, typecheck, the transforms, typecheck of the
output); and JAX's make_jaxpr followed by printing the jaxpr
(``str(jaxpr)``) against text → printed text (``vjp_text``).

Output quality, per program: JAX's equation ratio |grad jaxpr| / |primal
jaxpr| (equations) against this project's W(vjp)/W(f) (work of
``f_jvp_nl`` + ``f_jvp_lin_T`` over the work of f, default costs) and
|vjp|/|f| (AST size, §4) -- lower is better, the issue's target is at or
below JAX's.  On the teaching examples (examples/*.la) only quality is
compared (the programs are a few equations long).

Without jax installed the script says so and exits 0.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.setrecursionlimit(200000)
CLOCK = time.process_time      # --clock: cpu (default) or wall (time.perf_counter)


def ours(text: str, fn: str):
    """Seconds for text → printed vjp program, and the vjp program."""
    from linear_a.semantics import parse_program, show, typecheck
    from linear_a.transforms.compose import vjp_program
    t0 = CLOCK()
    prog = parse_program(text, "bench.la")
    typecheck(prog)
    vp = vjp_program(prog, fn)
    typecheck(vp)
    show(vp)
    return CLOCK() - t0, prog, vp


def ours_fast(text: str, fn: str) -> tuple[float, float]:
    """Seconds on the fast flat path (the same stages, the same output text;
    ``require_fast``: no silent fallback): text → the checked vjp program in
    memory (``fast_vjp_defs``, the like of what make_jaxpr returns), and text
    → printed vjp program (``vjp_text``)."""
    from linear_a.transforms.flat import fast_vjp_defs, vjp_text
    t0 = CLOCK()
    fast_vjp_defs(text, fn)
    t1 = CLOCK()
    vjp_text(text, fn, "bench.la", require_fast=True)
    return t1 - t0, CLOCK() - t1


def quality(prog, vp, fn, args):
    """(W(vjp)/W(f) default costs, the same ratio under equation pricing,
    |vjp|/|f|).  W is static (``linear_a.proofs.measure.work``; tests check it equals
    the evaluator's), so the equation-priced ratio is also the ratio of
    equation counts -- JAX's measure."""
    from linear_a.proofs.measure import program_size, work
    from linear_a.semantics.evaluate import Costs
    from linear_a.transforms.compose import names_for
    nl, tn = names_for(fn)
    ratios = []
    for costs in (None, Costs.equations()):
        ratios.append((work(vp, nl, costs) + work(vp, tn, costs)) / work(prog, fn, costs))
    return ratios[0], ratios[1], program_size(vp) / program_size(prog)


def jax_chain(n):
    import jax.numpy as jnp

    def f(x, w):
        for i in range(1, n + 1):
            x = jnp.sin(x) if i % 2 else x * w
        return x
    return f


def step_text(n: int) -> str:
    """``f(x, w)``: n calls of ``step``, whose state is a pair; ``step`` does
    five primitive operations and the tuple work around them."""
    lines = ["def step(s: (real, real), w: real) -> ((real, real) ;) =",
             "  let (a, b) = s in", "  let (c ;) = sin(a) in", "  let (d ;) = c * w in",
             "  let (e ;) = b + d in", "  let (g ;) = cos(e) in", "  let (h ;) = g * a in",
             "  let (t ;) = (h, e) in", "  (t ;)", "",
             "def f(x: real, w: real) -> (real ;) =", "  let (s0 ;) = (x, x) in"]
    lines += [f"  let (s{i} ;) = step(s{i - 1}, w) in" for i in range(1, n + 1)]
    lines += [f"  let (p, q) = s{n} in", "  p + q"]
    return "\n".join(lines) + "\n"


def jax_step(n):
    import jax.numpy as jnp

    def step(s, w):
        a, b = s
        c = jnp.sin(a)
        d = c * w
        e = b + d
        g = jnp.cos(e)
        h = g * a
        return (h, e)

    def f(x, w):
        s = (x, x)
        for _ in range(n):
            s = step(s, w)
        return s[0] + s[1]
    return f


def race(jf, text: str, repeat: int):
    """Best of ``repeat`` (interleaved) of: JAX make_jaxpr(grad), JAX + str,
    fast in memory, fast as text; and JAX's grad jaxpr."""
    import jax
    tj = tjp = tm = tt = float("inf")
    gj = None
    for _ in range(repeat):
        gc.collect()
        t0 = CLOCK()
        gj = jax.make_jaxpr(jax.grad(jf, argnums=(0, 1)))(0.5, 1.01)
        t1 = CLOCK()
        str(gj)
        t2 = CLOCK()
        tj, tjp = min(tj, t1 - t0), min(tjp, t2 - t0)
        gc.collect()
        t, t2 = ours_fast(text, "f")
        tm, tt = min(tm, t), min(tt, t2)
    return tj, tjp, tm, tt, gj


def jax_eqns(jaxpr) -> int:
    """Equations of a closed jaxpr, nested sub-jaxprs (pjit, custom_jvp) included."""
    total = 0
    stack = [jaxpr.jaxpr]
    while stack:
        j = stack.pop()
        for e in j.eqns:
            subs = [v for v in e.params.values() if hasattr(v, "jaxpr") or hasattr(v, "eqns")]
            if subs:
                for s in subs:
                    stack.append(s.jaxpr if hasattr(s, "jaxpr") else s)
            else:
                total += 1
    return total


EXAMPLES = {
    # name: (example file, function, args, JAX version)
    "seed": ("examples/seed.la", "f", {"x1": 2.0, "x2": 5.0},
             lambda jnp: (lambda x1, x2: jnp.log(x1) + x1 * x2 - jnp.sin(x2))),
    "pottier": ("examples/pottier.la", "f", {"x0": 2.0, "x1": 5.0},
                lambda jnp: (lambda x0, x1: x0 * jnp.cos(x1) + x0)),
    "pythagoras": ("examples/pythagoras.la", "f", {"x": 0.7},
                   lambda jnp: (lambda x: jnp.sin(x) * jnp.sin(x) + jnp.cos(x) * jnp.cos(x))),
    "square": ("examples/square.la", "f", {"x": 3.0}, lambda jnp: (lambda x: x * x)),
    "sin": ("examples/sin.la", "f", {"x": 0.5}, lambda jnp: (lambda x: jnp.sin(x))),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,3000,10000")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per size and side; the best is kept (default: %(default)s)")
    ap.add_argument("--only", default="chain,layouts,calls,scaling,quality",
                    help="the parts to run (default: all, %(default)s)")
    ap.add_argument("--layout-size", type=int, default=10000)
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("--scaling-sizes", default="10000,100000,1000000")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                    help="cpu: the process's CPU time (time.process_time), for both sides -- on a "
                         "shared host wall time also counts other jobs' turns; wall: time.perf_counter "
                         "(default: %(default)s)")
    a = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if a.clock == "cpu" else time.perf_counter
    parts = set(a.only.split(","))
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("jax is not installed: this benchmark is optional (pip install jax, or the `bench` extra).")
        return 0
    jax.config.update("jax_enable_x64", True)
    from linear_a.proofs.generators import chain_text

    if "chain" in parts:
        _chain_part(a, jax, jnp, chain_text)
    if "layouts" in parts:
        _layouts_part(a, jax)
    if "calls" in parts:
        _calls_part(a, jax)
    if "scaling" in parts:
        _scaling_part(a, chain_text)
    if "quality" in parts:
        _quality_part(a, jax, jnp, chain_text)
    return 0


def _layouts_part(a, jax):
    from bench_pipeline import LAYOUTS
    n = a.layout_size
    print(f"\n### the chain of {n:,} lets in every layout (bench_pipeline.LAYOUTS), best of "
          f"{a.repeat}, JAX and the fast path interleaved\n")
    print("| layout | JAX µs / eqn | fast in memory µs / let | fast text µs / let "
          "| **JAX ÷ fast**, in memory | **as text** |")
    print("|---|---|---|---|---|---|")
    f = jax_chain(n)
    for name, make in LAYOUTS.items():
        text = make(n)
        tj, tjp, tm, tt, _ = race(f, text, a.repeat)
        us = lambda t: t / n * 1e6
        print(f"| {name} | {us(tj):.0f} | {us(tm):.2f} | {us(tt):.2f} | **{tj / tm:.0f}×** "
              f"| **{tjp / tt:.0f}×** |", flush=True)


def _calls_part(a, jax):
    n = a.calls
    print(f"\n### {n:,} calls of a step function with a tuple state (step_text), best of {a.repeat}\n")
    print("JAX traces through the calls (each call's equations inlined); the fast path "
          "transforms `step` once and each call is one let of f (JCall, UCall, TCall).\n")
    print("| program | JAX total (s) | JAX grad eqns | fast in memory (s) | fast text (s) "
          "| **JAX ÷ fast**, in memory | **as text** |")
    print("|---|---|---|---|---|---|---|")
    text = step_text(n)
    tj, tjp, tm, tt, gj = race(jax_step(n), text, a.repeat)
    print(f"| {n:,} calls of step | {tj:.2f} | {jax_eqns(gj):,} | {tm:.3f} | {tt:.3f} "
          f"| **{tj / tm:.0f}×** | **{tjp / tt:.0f}×** |", flush=True)


def _scaling_part(a, chain_text):
    import math
    print("\n### the fast path alone on the chain: µs per let, exponent against the previous size\n")
    print("| n | fast in memory µs / let | exponent | fast text µs / let | exponent |")
    print("|---|---|---|---|---|")
    prev = None
    for n in (int(s) for s in a.scaling_sizes.split(",")):
        text = chain_text(n)
        tm = tt = float("inf")
        for _ in range(a.repeat if n <= 10 ** 5 else 1):
            gc.collect()
            t, t2 = ours_fast(text, "f")
            tm, tt = min(tm, t), min(tt, t2)
        ex = lambda t, p: f"{math.log(t / p) / math.log(n / prev[0]):.2f}" if prev else "—"
        print(f"| {n:,} | {tm / n * 1e6:.2f} | {ex(tm, prev[1]) if prev else '—'} | {tt / n * 1e6:.2f} "
              f"| {ex(tt, prev[2]) if prev else '—'} |", flush=True)
        prev = (n, tm, tt)
        del text


def _chain_part(a, jax, jnp, chain_text):
    print(f"### speed: chain of n lets (sin, * w), best of {a.repeat} runs each, same process\n")
    print("In memory: JAX's make_jaxpr(grad) against text → checked vjp program (fast_vjp_defs). "
          "As text: JAX's make_jaxpr(grad) then str(jaxpr), against text → printed vjp program "
          "(vjp_text). Reference: the executable paper, text → text.\n")
    print("| n | JAX µs / primal eqn | JAX + print µs / eqn | fast in memory µs / let "
          "| fast text µs / let | reference µs / let | **JAX ÷ fast**, in memory | **as text** "
          "| JAX ÷ reference |")
    print("|---|---|---|---|---|---|---|---|---|")
    qual = []
    for n in (int(s) for s in a.sizes.split(",")):
        f = jax_chain(n)
        text = chain_text(n)
        tj = tjp = to = tm = tt = float("inf")
        for _ in range(a.repeat):       # best of a.repeat, each side, interleaved
            gc.collect()
            t0 = CLOCK()
            gj = jax.make_jaxpr(jax.grad(f, argnums=(0, 1)))(0.5, 1.01)   # both, as our vjp
            t1 = CLOCK()
            str(gj)
            t2 = CLOCK()
            tj, tjp = min(tj, t1 - t0), min(tjp, t2 - t0)
            gc.collect()
            t, prog, vp = ours(text, "f")
            to = min(to, t)
            gc.collect()
            t, t2 = ours_fast(text, "f")
            tm, tt = min(tm, t), min(tt, t2)
        pj = jax.make_jaxpr(f)(0.5, 1.01)
        us = lambda t: t / n * 1e6
        print(f"| {n:,} | {us(tj):.0f} | {us(tjp):.0f} | {us(tm):.2f} | {us(tt):.2f} | {us(to):.1f} "
              f"| **{tj / tm:.0f}×** | **{tjp / tt:.0f}×** | {tj / to:.1f}× |", flush=True)


def _quality_part(a, jax, jnp, chain_text):
    qual = []
    for n in (int(s) for s in a.sizes.split(",")):
        f = jax_chain(n)
        gj = jax.make_jaxpr(jax.grad(f, argnums=(0, 1)))(0.5, 1.01)
        pj = jax.make_jaxpr(f)(0.5, 1.01)
        _, prog, vp = ours(chain_text(n), "f")
        qual.append((f"chain n={n:,}", jax_eqns(gj) / jax_eqns(pj),
                     *quality(prog, vp, "f", {"x": 0.5, "w": 1.01})))
    for name, (path, fn, args, mk) in EXAMPLES.items():
        f = mk(jnp)
        pos = list(args.values())
        gj = jax.make_jaxpr(jax.grad(f, argnums=tuple(range(len(pos)))))(*pos)
        pj = jax.make_jaxpr(f)(*pos)
        _, prog, vp = ours(open(os.path.join(ROOT, path)).read(), fn)
        qual.append((name, jax_eqns(gj) / jax_eqns(pj), *quality(prog, vp, fn, args)))
    print("\n### output quality (lower is better)\n")
    print("W= is W under `Costs.equations()`: literals inline, dup (fan-out) and drop free, "
          "every operation 1 -- what a jaxpr counts as equations.\n")
    print("| program | JAX grad eqns / primal eqns | ours W(vjp)/W(f) | ours W=(vjp)/W=(f) "
          "| ours |vjp|/|f| | W= at or below JAX |")
    print("|---|---|---|---|---|---|")
    for name, jr, wr, er, sr in qual:
        print(f"| {name} | {jr:.2f} | {wr:.2f} | {er:.2f} | {sr:.2f} | {'yes' if er <= jr + 1e-9 else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
