"""Loops side by side with JAX: ``jax.lax.scan`` + ``jax.grad`` against the
loop rules (issue 14; optional extra ``bench``: ``pip install jax``).

How to run (from the repository root)::

    python3 benchmarks/bench_loops_jax.py                   # every program below
    python3 benchmarks/bench_loops_jax.py --ns 200,2000 --only euler --repeat 3

Programs (each at several N, the loop's iteration count):

* ``euler``: ``examples/euler.la`` (explicit Euler for Lotka–Volterra, 2-real
  state, 4 parameters, h = 0.01) with ``loop 200`` replaced by ``loop N``;
  N = 200, 2,000, 20,000 by default;
* ``rnn``: ``examples/rnn.la`` (a recurrent cell h ← tanh(w·h + u·sin(0.1·i) + b),
  then (v·h − 0.5)²), ``loop 100`` → ``loop N``;
* ``pendulum``: a program written differently, to check the figures are not
  an artefact of the two above: a damped pendulum by semi-implicit Euler,
  written in Python as a ``@linear_a`` function with ``for k in range(N)``
  (traced, not parsed), 3 carried reals one of which accumulates the loss
  inside the loop, 2 parameters.

For each, the same function is written with ``jax.lax.scan`` (float64:
``jax_enable_x64``) in the same operation order, and the table gives:

* **grad max |Δ|**: the largest difference between JAX's ``jax.grad`` and this
  project's gradient (``transforms.compose.grad`` of the looped program: the
  vjp program ``f_jvp_nl`` then ``f_jvp_lin_T``, run by the evaluator),
  relative to max(1, |g|); the script fails if it exceeds 1e-9;
* **ours: transform s**: parse + typecheck + ``vjp_program`` (JVP, unzip,
  transposition) + typecheck of the result, best of ``--repeat`` (for
  ``pendulum``: tracing the Python function instead of parsing);
* **|vjp| nodes / lets**: the size of our gradient program (AST nodes, §4) and
  its bindings (lets and unpacks), over all its definitions;
* **JAX: make_jaxpr(grad) s**: ``jax.make_jaxpr(jax.grad(f, argnums=all))``
  (tracing, JVP, partial evaluation, transposition; no XLA compilation),
  best of ``--repeat``;
* **jaxpr eqns (grad / f)**: equations of the gradient's and of f's jaxpr,
  every equation counted once at every level: a ``scan`` (or ``pjit``) counts
  1 plus the equations of its body;
* **stored/iteration**: the reals each side keeps per iteration for the
  backward loop -- ours the element size of the stacks ``ws : [R; N]`` that
  ``f_jvp_nl`` returns (save-all), JAX's the length-N outputs of its forward
  scan.  JAX hoists loop-invariant values out of the scan (``num_consts``);
  a Linear A step sees only its parameters, so the parameters ride in the
  carry, returned unchanged: unzip keeps such invariant carries out of the
  stack (rule ULoopInv: the linear loop carries them once), so both sides
  store the same here (before ULoopInv: euler 7 / 3, rnn 6 / 4, pendulum 6 / 4).

Neither side unrolls: both columns of sizes are the same at every N.
Without jax installed the script says so and exits 0.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOL = 1e-9

EULER_AT = {"x0": 1.0, "y0": 0.5, "a": 1.1, "b": 0.4, "c": 0.4, "d": 0.1}
RNN_AT = {"h0": 0.1, "w": 0.9, "u": 0.5, "b": -0.1, "v": 1.3}
PEND_AT = {"theta": 1.0, "omega": 0.0, "g_over_l": 9.81, "damping": 0.3}


# ----------------------------------------------------------------------------
# This project's side


def la_source(example: str, n: int) -> str:
    text = (ROOT / "examples" / f"{example}.la").read_text(encoding="utf-8")
    default = {"euler": "loop 200", "rnn": "loop 100"}[example]
    assert default in text, f"examples/{example}.la no longer has `{default}`"
    return text.replace(default, f"loop {n}")


def pendulum_fn(n: int):
    """The damped pendulum as a surface function of N steps (traced by ``trace``)."""
    from linear_a import linear_a, sin

    @linear_a
    def pendulum(theta, omega, g_over_l, damping):
        th, om, loss = theta, omega, 0.0
        for k in range(n):
            om = om - 0.02 * (g_over_l * sin(th) + damping * om)
            th = th + 0.02 * om
            loss = loss + th * th
        return loss
    return pendulum


def ours(name: str, n: int, repeat: int):
    """(best transform seconds, program, vjp program)."""
    from linear_a import trace
    from linear_a.semantics import parse_program, typecheck
    from linear_a.transforms.compose import vjp_program
    fn = {"euler": "euler", "rnn": "rnn", "pendulum": "pendulum"}[name]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        if name == "pendulum":
            prog = trace(pendulum_fn(n))
        else:
            prog = parse_program(la_source(name, n), f"{name}.la")
        typecheck(prog)
        vp = vjp_program(prog, fn)
        typecheck(vp)
        best = min(best, time.perf_counter() - t0)
    return best, prog, vp, fn


def stacked_per_iteration(vp, fn: str) -> int:
    """Reals our gradient program stores per iteration: the element sizes of
    the arrays in ``fn_jvp_nl``'s residual (the stacks ``ws : [R; N]``)."""
    from linear_a.semantics.syntax import ArrayType, TupleType, size_of_type
    from linear_a.transforms.compose import names_for
    total, stack = 0, list(vp[names_for(fn)[0]].nl_out)
    while stack:
        t = stack.pop()
        if isinstance(t, ArrayType):
            total += size_of_type(t.elem)
        elif isinstance(t, TupleType):
            stack.extend(t.items)
    return total


def lets(prog) -> int:
    from linear_a.semantics.syntax import Bind, iter_nodes
    return sum(1 for d in prog.defs for x in iter_nodes(d.body) if isinstance(x, Bind))


# ----------------------------------------------------------------------------
# JAX's side, the same functions in the same operation order


def jax_functions(jnp, lax):
    def euler(n):
        def f(x0, y0, a, b, c, d):
            def step(s, _):
                x, y = s
                xy = x * y
                fx = a * x - b * xy
                fy = d * xy - c * y
                return (x + 0.01 * fx, y + 0.01 * fy), None
            (x, y), _ = lax.scan(step, (x0, y0), None, length=n)
            return x + y
        return f

    def rnn(n):
        def f(h0, w, u, b, v):
            def step(s, _):
                h, i = s
                x = jnp.sin(0.1 * i)
                return (jnp.tanh(w * h + u * x + b), i + 1.0), None
            (h, _), _ = lax.scan(step, (h0, jnp.float64(0.0)), None, length=n)
            e = v * h - 0.5
            return e * e
        return f

    def pendulum(n):
        def f(theta, omega, g_over_l, damping):
            def step(s, _):
                th, om, loss = s
                om = om - 0.02 * (g_over_l * jnp.sin(th) + damping * om)
                th = th + 0.02 * om
                return (th, om, loss + th * th), None
            (_, _, loss), _ = lax.scan(step, (theta, omega, jnp.float64(0.0)), None, length=n)
            return loss
        return f

    return {"euler": euler, "rnn": rnn, "pendulum": pendulum}


def jaxpr_eqns(closed) -> int:
    """Every equation of a (closed) jaxpr, those of nested bodies (scan, pjit,
    custom_jvp …) included; a container equation counts 1 besides its body."""
    total = 0
    stack = [closed.jaxpr]
    while stack:
        j = stack.pop()
        for e in j.eqns:
            total += 1
            for v in e.params.values():
                for s in (v if isinstance(v, (tuple, list)) else (v,)):
                    if hasattr(s, "eqns"):
                        stack.append(s)
                    elif hasattr(s, "jaxpr") and hasattr(s.jaxpr, "eqns"):
                        stack.append(s.jaxpr)
    return total


def scan_stacked(closed, n: int) -> int:
    """Reals JAX's gradient stores per iteration: the outputs of length N of
    its forward scans (the residuals its transposed scan reads)."""
    total = 0
    for e in closed.jaxpr.eqns:
        if e.primitive.name == "scan" and not e.params.get("reverse"):
            total += sum(1 for v in e.outvars if tuple(getattr(v.aval, "shape", ())) == (n,))
    return total


def jax_side(jax, f, at: dict, repeat: int, n: int):
    argnums = tuple(range(len(at)))
    xs = [float(v) for v in at.values()]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        gj = jax.make_jaxpr(jax.grad(f, argnums=argnums))(*xs)
        best = min(best, time.perf_counter() - t0)
    grads = jax.grad(f, argnums=argnums)(*xs)
    return (best, jaxpr_eqns(gj), jaxpr_eqns(jax.make_jaxpr(f)(*xs)), [float(g) for g in grads],
            scan_stacked(gj, n))


# ----------------------------------------------------------------------------


def row(jax, jfs, name: str, n: int, repeat: int) -> dict:
    from linear_a.semantics.syntax import program_size
    from linear_a.transforms.compose import grad
    at = {"euler": EULER_AT, "rnn": RNN_AT, "pendulum": PEND_AT}[name]
    t_ours, prog, vp, fn = ours(name, n, repeat)
    g = grad(prog, fn, at, program=vp).gradient
    mine = [float(g[p.name]) for p in prog[fn].nl_params]
    t_jax, eq_grad, eq_f, theirs, jstack = jax_side(jax, jfs[name](n), at, repeat, n)
    diff = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(mine, theirs))
    return {"program": name, "N": n, "diff": diff, "t_ours": t_ours, "size": program_size(vp),
            "lets": lets(vp), "t_jax": t_jax, "eq_grad": eq_grad, "eq_f": eq_f,
            "stack": stacked_per_iteration(vp, fn), "jstack": jstack,
            "grad": dict(zip([p.name for p in prog[fn].nl_params], mine))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", default="200,2000,20000", help="iteration counts (default: %(default)s)")
    ap.add_argument("--only", default="euler,rnn,pendulum", help="programs (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=3, help="best of (default: %(default)s)")
    ap.add_argument("--show-gradients", action="store_true", help="print our gradients too")
    a = ap.parse_args(argv)
    try:
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError:
        print("jax is not installed: this benchmark is optional "
              "(pip install jax, or the `bench` extra: pip install -e '.[bench]').")
        return 0
    jax.config.update("jax_enable_x64", True)
    jfs = jax_functions(jnp, lax)
    ns = [int(x) for x in a.ns.split(",")]
    print(f"jax {jax.__version__}, float64; gradients must agree to {TOL:g} (relative to max(1, |g|))\n")
    cols = ["program", "N", "grad max |Δ|", "ours: transform s", "|vjp| nodes", "|vjp| lets",
            "JAX: make_jaxpr(grad) s", "jaxpr eqns grad", "jaxpr eqns f",
            "stored/iteration ours / JAX"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" for _ in cols) + "|")
    bad = []
    for name in a.only.split(","):
        for n in ns:
            r = row(jax, jfs, name, n, a.repeat)
            print(f"| {name} | {n:,} | {r['diff']:.1e} | {r['t_ours']:.3f} | {r['size']} | {r['lets']} "
                  f"| {r['t_jax']:.3f} | {r['eq_grad']} | {r['eq_f']} | {r['stack']} / {r['jstack']} |",
                  flush=True)
            if a.show_gradients:
                print("    ours: " + ", ".join(f"{k} = {v:.12g}" for k, v in r["grad"].items()))
            if not r["diff"] <= TOL:
                bad.append((name, n, r["diff"]))
    if bad:
        print(f"\ngradients differ by more than {TOL:g}: {bad}", file=sys.stderr)
        return 1
    print(f"\nevery gradient agrees with JAX's to {TOL:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
