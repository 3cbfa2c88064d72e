"""Binomial checkpointing measured with W and M (SPEC §4, §15).

    python3 benchmarks/bench_checkpoint.py                 # l ∈ {100, 1000, 10000}, s ∈ {2, 3, 5, 10}
    python3 benchmarks/bench_checkpoint.py --ls 100,1000 --ss 2,3 --plot docs/checkpoint_frontier.png

The chain is ``transforms.revolve.chain_source(l)``: x_i = sin(x_{i-1}).  For
each (l, s) the chain is restructured (``binomial:s``), its vjp built and run
by the reference evaluator:

* forward steps = W under ``step_costs(["sin"])`` (each ``sin`` costs 1, every
  other form 0: the JVP's ``cos`` partial, the linear forms, literals) over
  ``f_jvp_nl`` + ``f_jvp_lin_T``.  Every step is evaluated once in the first
  sweep (l); the rest are recomputations.  "extra" = forward steps − l, which
  is what Griewank–Walther's t(l, s) counts (the first sweep's l − 1 advances
  plus re-advances; the last step of the sweep is the one Revolve tapes
  straight away).  checkpoint_schedules' ``optimal_steps_binomial(l, s)`` is
  l + t(l, s);
* |w| = reals in the residual tuple ``f_jvp_nl`` returns (s snapshots and the
  tape of the last step), "snaps" = the most snapshots the schedule holds at
  once (from the schedule tree);
* M = peak memory (§4, default costs) of the larger of the two runs.  M counts
  a value once per frame that holds it, so a snapshot held by several nested
  calls is counted several times; compare with save-all's M.

With ``--plot`` (needs matplotlib) the work-versus-memory frontier of one
chain (``--frontier-l``, default 100) is drawn for s = 1 … 12: extra forward
steps against s and against measured M, with the optimum t(l, s).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.setrecursionlimit(200000)


def measure(l: int, s: int | None):
    """(forward steps, M, |w|, snaps, seconds); s None = save-all."""
    from semantics import evaluate, parse_program
    from transforms.compose import names_for, vjp_program
    from transforms.revolve import binomial_vjp_program, chain_source, schedule_cost, step_costs

    prog = parse_program(chain_source(l), "chain.la")
    t0 = time.perf_counter()
    if s is None:
        vp, snaps = vjp_program(prog, "f"), None
    else:
        vp, pol = binomial_vjp_program(prog, "f", s)
        snaps = schedule_cost(pol.restructured.tree)[1]
    nl, tn = names_for("f")
    costs = step_costs(["sin"])
    r1 = evaluate(vp, nl, ([0.5], []), costs=costs)
    r2 = evaluate(vp, tn, (list(r1.nl[1:]), [1.0]), costs=costs)
    size = lambda v: sum(map(size, v)) if isinstance(v, tuple) else 1
    return (r1.work + r2.work, max(r1.memory, r2.memory), size(r1.nl[1:]), snaps,
            time.perf_counter() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ls", default="100,1000,10000")
    ap.add_argument("--ss", default="2,3,5,10")
    ap.add_argument("--plot", help="write the frontier plot here (matplotlib)")
    ap.add_argument("--frontier-l", type=int, default=100)
    a = ap.parse_args(argv)
    from transforms.revolve import optimal_forward_steps
    try:
        from checkpoint_schedules import optimal_steps_binomial
    except ImportError:
        optimal_steps_binomial = None

    print("| l | s | forward steps | extra (measured) | t(l, s) optimum | equal | "
          "optimal_steps_binomial − l | |w| | snaps | peak M | save-all M | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for l in (int(x) for x in a.ls.split(",")):
        base = measure(l, None)
        for s in (int(x) for x in a.ss.split(",")):
            steps, m, w, snaps, sec = measure(l, s)
            t = optimal_forward_steps(l, s)
            cs = (optimal_steps_binomial(l, s) - l) if optimal_steps_binomial and l <= 1000 else "—"
            print(f"| {l} | {s} | {steps} | {steps - l} | {t} | {'yes' if steps - l == t else 'NO'} "
                  f"| {cs} | {w} | {snaps} | {m} | {base[1]} | {sec:.1f} |", flush=True)
        print(f"| {l} | save-all | {base[0]} | {base[0] - l} | — | — | — | {base[2]} | — | {base[1]} "
              f"| {base[1]} | {base[4]:.1f} |", flush=True)
    if a.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("(matplotlib is not installed: no plot; `pip install matplotlib`)")
            return
        l = a.frontier_l
        ss = list(range(1, 13))
        rows = [measure(l, s) for s in ss]
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
        ax1.plot(ss, [r[0] - l for r in rows], "o", label="measured (W of the vjp)")
        ax1.plot(ss, [optimal_forward_steps(l, s) for s in ss], "-", label="optimum t(l, s)")
        ax1.set_xlabel("snapshots s"); ax1.set_ylabel("extra forward steps"); ax1.set_yscale("log")
        ax1.legend(); ax1.set_title(f"binomial:s on a chain of {l} steps")
        ax2.plot([r[1] for r in rows], [r[0] - l for r in rows], "o", label="binomial:s")
        for s, r in zip(ss, rows):
            ax2.annotate(f"s={s}", (r[1], r[0] - l), fontsize=7, xytext=(3, 3),
                         textcoords="offset points")
        base = measure(l, None)
        ax2.plot([base[1]], [base[0] - l], "s", label="save-all")
        ax2.set_xlabel("peak memory M (§4)"); ax2.set_ylabel("extra forward steps")
        ax2.set_xscale("log"); ax2.set_yscale("symlog", linthresh=10); ax2.set_ylim(bottom=0)
        ax2.legend()
        ax2.set_title("work versus memory")
        fig.tight_layout()
        fig.savefig(a.plot, dpi=120)
        print(f"wrote {a.plot}")


if __name__ == "__main__":
    main()
