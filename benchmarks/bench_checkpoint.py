"""Checkpoint policies measured with W and M (SPEC §4, §15).

    python3 benchmarks/bench_checkpoint.py                 # the policy table (below)
    python3 benchmarks/bench_checkpoint.py --table binomial  # l ∈ {100, 1000, 10000}, s ∈ {2, 3, 5, 10}
    python3 benchmarks/bench_checkpoint.py --table binomial --ls 100,1000 --ss 2,3 --plot docs/checkpoint_frontier.png

**The policy table** (default): three programs from ``linear_a.transforms.programs``
-- a 1000-step chain ``xᵢ = sin(xᵢ₋₁)·w`` with state (x, w), a 200-step
unrolled Euler integrator of a predator–prey system (state (p, q), parameters
a, b, c, h), and an MLP (6 tanh layers of width 4, scalar weights) -- and per
policy: W and M of the gradient program (``f_jvp_nl`` then ``f_jvp_lin_T``,
default costs), W/W(save-all), M/M(save-all), residual reals, and whether the
gradient equals save-all's.  The script checks the issue's targets on the
chain (every:32: M ≤ 0.15·M(save-all) and W ≤ 2.5·W(save-all); binomial:10:
M ≤ 40 reals and W ≤ 6·W(save-all)) and exits 1 if one is missed.

**The budget table** (``--table budget``): the gap between ``budget:M``'s
heuristic (the best of save-all, recompute-all, every:K, binomial:S within M)
and the exact optimum over every choice vector, on programs small enough for
the exact search.

**The binomial table** (``--table binomial``):

The chain is ``linear_a.transforms.revolve.chain_source(l)``: x_i = sin(x_{i-1}).  For
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
  once (from the schedule tree, ``schedule_cost``);
* M = peak memory (§4, default costs) of ``f_jvp_nl`` / ``f_jvp_lin_T``, and
  "peak M" the larger.  §4: a value is live from its binding to its last use,
  M sums ‖type‖ over the live values of every frame; computing forms (sin,
  cos, *., …) hold their inputs and results at once, the forms that only
  pass values on (return, tuple, unpack, call arguments) move the ones at
  their last use;
* the bound: M ≤ s + c, with c = ``step_working_set`` = max(M(step_jvp_nl) + 1,
  M(step_jvp_lin_T)) measured on one step alone -- for ``x' = sin x``,
  c = 4: re-taping a step holds its input, sin and cos (3) while the
  cotangent (1) waits.  Everything else live is a snapshot (at most snaps ≤ s
  of them); "M ≤ s + c" says whether the row meets it (and the script exits
  with status 1 if a row misses the bound or the optimum).

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
    """(forward steps, M_nl, M_lin_T, |w|, snaps, c, seconds); s None = save-all."""
    from linear_a.semantics import evaluate, parse_program
    from linear_a.transforms.compose import names_for, vjp_program
    from linear_a.transforms.revolve import binomial_vjp_program, chain_source, memory_bound, step_costs

    prog = parse_program(chain_source(l), "chain.la")
    t0 = time.perf_counter()
    if s is None:
        vp, snaps, c = vjp_program(prog, "f"), None, None
    else:
        vp, pol = binomial_vjp_program(prog, "f", s)
        snaps, c = memory_bound(pol.restructured)
    nl, tn = names_for("f")
    costs = step_costs(["sin"])
    r1 = evaluate(vp, nl, ([0.5], []), costs=costs)
    r2 = evaluate(vp, tn, (list(r1.nl[1:]), [1.0]), costs=costs)
    size = lambda v: sum(map(size, v)) if isinstance(v, tuple) else 1
    return (r1.work + r2.work, r1.memory, r2.memory, size(r1.nl[1:]), snaps, c,
            time.perf_counter() - t0)


POLICIES = ("save-all", "recompute-all", "every:8", "every:32", "binomial:4", "binomial:10")


def policy_table(policies=POLICIES, chain_l=1000, ode_n=200) -> bool:
    from linear_a.semantics import parse_program
    from linear_a.transforms.programs import chain_xw, mlp, ode
    from linear_a.transforms.tradeoff import tradeoff
    progs = [(f"chain of {chain_l} steps, state (x, w)", chain_xw(chain_l), "f",
              {"x": 0.5, "w": 1.1}),
             (f"Euler integrator, {ode_n} steps, state (p, q), 4 parameters", ode(ode_n), "ode",
              {"p0": 1.0, "q0": 0.5, "a": 1.1, "b": 0.4, "c": 0.3, "h": 0.01}),
             ("MLP, 6 tanh layers × 4 units (96 weights)", mlp(4, 6), "mlp", None)]
    ok = True
    print("| program | policy | W | M | W/W(save-all) | M/M(save-all) | residual | gradient = save-all | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for title, text, fn, at in progs:
        prog = parse_program(text, fn + ".la")
        if at is None:
            d = prog.get(fn)
            at = {p.name: round(0.1 + 0.01 * i, 3) for i, p in enumerate(d.nl_params)}
        t0 = time.perf_counter()
        rows = tradeoff(prog, fn, at, policies)
        sec = (time.perf_counter() - t0) / max(len(rows), 1)
        base = rows[0]
        for r in rows:
            if r.error:
                print(f"| {title} | {r.policy} | — | — | — | — | — | {r.error} | — |")
                continue
            wr, mr = r.work / base.work, r.memory / base.memory
            print(f"| {title} | {r.policy} | {r.work} | {r.memory} | {wr:.2f} | {mr:.3f} | "
                  f"{r.residual} | {'yes' if r.same_gradient else 'NO'} | {sec:.1f} |", flush=True)
            ok = ok and r.same_gradient
            if fn == "f" and r.policy == "every:32" and not (mr <= 0.15 and wr <= 2.5):
                print(f"target missed: every:32 on the chain (M/Msave {mr:.3f}, W/Wsave {wr:.2f})")
                ok = False
            if fn == "f" and r.policy == "binomial:10" and not (r.memory <= 40 and wr <= 6):
                print(f"target missed: binomial:10 on the chain (M {r.memory}, W/Wsave {wr:.2f})")
                ok = False
    return ok


def budget_gap() -> bool:
    """``budget:M``'s heuristic (the schedule family) against the exact optimum
    (every choice vector), on programs small enough for both: per budget on the
    exact frontier, the least W each finds with M ≤ budget."""
    from linear_a.semantics import parse_program
    from linear_a.transforms.budget import Budget, choice_points, frontier
    from linear_a.transforms.programs import chain_xw, ode
    from linear_a.transforms.revolve import chain_source
    progs = [("chain.la (3 steps, state (x, w))", open(os.path.join(ROOT, "examples", "chain.la")).read(), "f"),
             ("chain_xw(3)", chain_xw(3), "f"), ("sin chain, 5 steps", chain_source(5), "f"),
             ("Euler, 1 step", ode(1), "ode")]
    print("| program | choice points | budget M | exact W | heuristic W (schedule) | gap |")
    print("|---|---|---|---|---|---|")
    for title, text, fn in progs:
        prog = parse_program(text, fn + ".la")
        n = len(choice_points(prog, fn))
        if n > 14:
            print(f"| {title} | {n} | — | — | — | too many points for the exact search |")
            continue
        _, _, pareto = frontier(prog, fn)
        for w, m, _ in pareto:
            pol = Budget(m)
            try:
                pol._heuristic(prog, fn, n)
                hw, hm = pol.cost
                gap = f"{(hw - w) / w:+.1%}"
                how = pol.method.split(": ")[1]
            except Exception as e:          # no schedule of the family fits
                hw, how, gap = "—", type(e).__name__, "no fit"
            print(f"| {title} | {n} | {m} | {w} | {hw} ({how}) | {gap} |", flush=True)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", choices=["policies", "binomial", "budget"], default="policies")
    ap.add_argument("--chain-l", type=int, default=1000, help="policy table: steps of the chain")
    ap.add_argument("--ls", default="100,1000,10000")
    ap.add_argument("--ss", default="2,3,5,10")
    ap.add_argument("--plot", help="write the frontier plot here (matplotlib)")
    ap.add_argument("--frontier-l", type=int, default=100)
    a = ap.parse_args(argv)
    if a.table == "policies":
        return 0 if policy_table(chain_l=a.chain_l) else 1
    if a.table == "budget":
        return 0 if budget_gap() else 1
    from linear_a.transforms.revolve import optimal_forward_steps
    try:
        from checkpoint_schedules import optimal_steps_binomial
    except ImportError:
        optimal_steps_binomial = None

    ok = True
    print("| l | s | forward steps | extra (measured) | t(l, s) optimum | equal | "
          "optimal_steps_binomial − l | \\|w\\| | snaps | M nl / lin_T | peak M | s + c | "
          "M ≤ s + c | save-all M | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for l in (int(x) for x in a.ls.split(",")):
        base = measure(l, None)
        base_m = max(base[1], base[2])
        for s in (int(x) for x in a.ss.split(",")):
            steps, m_nl, m_lin, w, snaps, c, sec = measure(l, s)
            m = max(m_nl, m_lin)
            t = optimal_forward_steps(l, s)
            cs = (optimal_steps_binomial(l, s) - l) if optimal_steps_binomial and l <= 1000 else "—"
            equal, within = steps - l == t, m <= s + c
            ok = ok and equal and within
            print(f"| {l} | {s} | {steps} | {steps - l} | {t} | {'yes' if equal else 'NO'} "
                  f"| {cs} | {w} | {snaps} | {m_nl} / {m_lin} | {m} | {s} + {c} = {s + c} "
                  f"| {'yes' if within else 'NO'} | {base_m} | {sec:.1f} |", flush=True)
        print(f"| {l} | save-all | {base[0]} | {base[0] - l} | — | — | — | {base[3]} | — "
              f"| {base[1]} / {base[2]} | {base_m} | — | — | {base_m} | {base[6]:.1f} |", flush=True)
    if a.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("(matplotlib is not installed: no plot; `pip install matplotlib`)")
            return 0 if ok else 1
        l = a.frontier_l
        ss = list(range(1, 13))
        rows = [measure(l, s) for s in ss]
        peak = lambda r: max(r[1], r[2])
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
        ax1.plot(ss, [r[0] - l for r in rows], "o", label="measured (W of the vjp)")
        ax1.plot(ss, [optimal_forward_steps(l, s) for s in ss], "-", label="optimum t(l, s)")
        ax1.set_xlabel("snapshots s"); ax1.set_ylabel("extra forward steps"); ax1.set_yscale("log")
        ax1.legend(); ax1.set_title(f"binomial:s on a chain of {l} steps")
        ax2.plot([peak(r) for r in rows], [r[0] - l for r in rows], "o", label="binomial:s")
        for s, r in zip(ss, rows):
            ax2.annotate(f"s={s}", (peak(r), r[0] - l), fontsize=7, xytext=(3, 3),
                         textcoords="offset points")
        base = measure(l, None)
        ax2.plot([peak(base)], [base[0] - l], "s", label="save-all")
        ax2.set_xlabel("peak memory M (§4)"); ax2.set_ylabel("extra forward steps")
        ax2.set_xscale("log"); ax2.set_yscale("symlog", linthresh=10); ax2.set_ylim(bottom=0)
        ax2.legend()
        ax2.set_title("work versus memory")
        fig.tight_layout()
        fig.savefig(a.plot, dpi=120)
        print(f"wrote {a.plot}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
