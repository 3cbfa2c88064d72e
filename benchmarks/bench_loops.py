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

``--policies`` (checkpointing over iterations, ``transforms/loop_ckpt.py``)
prints, per program, N and policy: the transform time (``vjp_program``: the
restructuring, JVP, unzip, transposition, the post-pass; for budget:M it
includes measuring its candidates, by cost-only runs -- ``semantics/cost.py``,
a loop's step run once -- so it does not run the N iterations), |vjp|, W and M of
the gradient (``fn_jvp_nl`` then ``fn_jvp_lin_T``, the §4 evaluator), M in
states of the carry (k reals), the forward step evaluations and the extra
ones (steps − N; fractional where a policy recomputes only part of a step,
as recompute-all does inside the step) -- for binomial:S next to t(N, S) --,
the bound on M the schedule states (``loop_ckpt.memory_bound``: binomial
snaps·k + c + A, every:K Q·k + K·ρ + k + c + A) and the number of
definitions the schedule added.
Steps are counted by W under a cost table pricing only the step's primal
primitives that the JVP does not introduce (``STEP_OPS``), less fn's own, over
the step's own count.  Programs: ``euler`` (examples/euler.la), ``rnn`` (a
two-unit tanh cell with six parameters in the carry, written below) and
``euler-alt`` (the Euler model written differently: other names, parameters
first in the carry, the vector field in a called definition, the loop in a
nested let).

    python3 benchmarks/bench_loops.py --policies                 # N = 200, 2000, 20000
    python3 benchmarks/bench_loops.py --policies --programs rnn --ns 200,2000
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


RNN = """
# a two-unit recurrent cell h' = tanh(W h + b), the six parameters carried
def rnn_cell(h1: real, h2: real, w11: real, w12: real, w21: real, w22: real, b1: real, b2: real)
    -> (real, real, real, real, real, real, real, real ;) =
  let (p ;) = w11 * h1 in
  let (q ;) = w12 * h2 in
  let (s ;) = p + q in
  let (t ;) = s + b1 in
  let (n1 ;) = tanh(t) in
  let (u ;) = w21 * h1 in
  let (v ;) = w22 * h2 in
  let (z ;) = u + v in
  let (y ;) = z + b2 in
  let (n2 ;) = tanh(y) in
  (n1, n2, w11, w12, w21, w22, b1, b2 ;)

def rnn(h1: real, h2: real, w11: real, w12: real, w21: real, w22: real, b1: real, b2: real)
    -> (real ;) =
  let (g1, g2, v11, v12, v21, v22, c1, c2 ;) = loop 200 rnn_cell(h1, h2, w11, w12, w21, w22, b1, b2) in
  let (;) = drop(v11) in
  let (;) = drop(v12) in
  let (;) = drop(v21) in
  let (;) = drop(v22) in
  let (;) = drop(c1) in
  let (;) = drop(c2) in
  let (o ;) = g1 * g2 in
  (o ;)
"""
RNN_AT = {"h1": 0.1, "h2": -0.2, "w11": 0.5, "w12": -0.3, "w21": 0.8, "w22": 0.2,
          "b1": 0.05, "b2": -0.1}

EULER_ALT = """
def field(p: real, q: real, alpha: real, beta: real, gamma: real, delta: real) -> (real, real ;) =
  let (pq ;) = p * q in
  let (g1 ;) = alpha * p in
  let (g2 ;) = beta * pq in
  let (dp ;) = g1 - g2 in
  let (g3 ;) = delta * pq in
  let (g4 ;) = gamma * q in
  let (dq ;) = g3 - g4 in
  (dp, dq ;)

def lv(alpha: real, beta: real, gamma: real, delta: real, p: real, q: real)
    -> (real, real, real, real, real, real ;) =
  let (dp, dq ;) = field(p, q, alpha, beta, gamma, delta) in
  let (dt ;) = 0.01 in
  let (p1 ;) = let (e ;) = dt * dp in p + e in
  let (q1 ;) = let (e2 ;) = dt * dq in q + e2 in
  (alpha, beta, gamma, delta, p1, q1 ;)

def model(u: real, v: real, alpha: real, beta: real, gamma: real, delta: real) -> (real ;) =
  let (total ;) =
    let (k1, k2, k3, k4, pN, qN ;) = loop 200 lv(alpha, beta, gamma, delta, u, v) in
    let (;) = drop(k4) in let (;) = drop(k3) in let (;) = drop(k2) in let (;) = drop(k1) in
    pN + qN in
  (total ;)
"""
ALT_AT = {"u": 1.0, "v": 0.5, "alpha": 1.1, "beta": 0.4, "gamma": 0.4, "delta": 0.1}

# name -> (source with `loop 200`, function, arguments, the step's primitives that
# the JVP does not introduce (W under them counts step evaluations))
PROGRAMS = {
    "euler": (lambda: (ROOT / "examples" / "euler.la").read_text(encoding="utf-8"), "euler", AT,
              ("*", "-", "+")),
    "rnn": (lambda: RNN, "rnn", RNN_AT, ("tanh",)),
    "euler-alt": (lambda: EULER_ALT, "model", ALT_AT, ("*", "-", "+")),
}


def policies_for(n: int) -> list[str]:
    k = max(1, round(n ** 0.5))
    return ["save-all", "recompute-all", f"every:{k}", "binomial:4", "binomial:10",
            "budget:100"]


def policy_rows(name: str, n: int):
    from linear_a.semantics.errors import LinearAError
    from linear_a.semantics.evaluate import Costs
    from linear_a.semantics.primitives import PRIMITIVES
    from linear_a.transforms.checkpoint import policy_from_string
    from linear_a.transforms.loop_ckpt import memory_bound
    from linear_a.transforms.revolve import optimal_forward_steps
    from linear_a.semantics.syntax import size_of_type
    text, fn, at, ops = PROGRAMS[name]
    src = text()
    p = parse_program(src.replace("loop 200", f"loop {n}"), f"{name}.la")
    p0 = parse_program(src.replace("loop 200", "loop 0"), f"{name}.la")
    typecheck(p)
    counting = Costs(lit=0, prim={o: (1 if o in ops else 0) for o in PRIMITIVES}, zero=0, drop=0,
                     add=0, dup=0, scale=0)
    step = next(d for d in p.defs if d.name != fn and any(
        x.fn == d.name for x in _loops(p.get(fn))))
    per_step = _step_count(p, step.name, counting)
    own = grad(p0, fn, at, costs=counting).work
    k = sum(size_of_type(t) for t in step.nl_out)
    consts: dict = {}
    for pol_text in policies_for(n):
        pol = policy_from_string(pol_text)
        t0 = time.perf_counter()
        try:
            vp = vjp_program(p, fn, pol)
        except LinearAError as e:          # e.g. a budget nothing fits
            yield {"program": name, "N": n, "policy": f"{pol_text}: {e.message}", "seconds": 0,
                   "size": "—", "W": "—", "M": "—", "M_states": float("nan"), "steps": "—",
                   "extra": "—", "t": "—", "bound": "—", "new_defs": "—"}
            continue
        secs = time.perf_counter() - t0
        g = grad(p, fn, at, program=vp)
        counted = grad(p, fn, at, program=vp, costs=counting).work - own
        steps = counted // per_step if counted % per_step == 0 else round(counted / per_step, 1)
        plan = getattr(pol, "loops", None)
        if pol_text.startswith("budget"):
            plan = getattr(pol.delegate, "loops", None)
        t = bound = "—"
        if pol_text.startswith("binomial"):
            t = optimal_forward_steps(n, pol.snaps) if n else 0
        if pol_text.startswith(("binomial", "every")):
            bound = memory_bound(plan, p, fn, at, "float", consts)[0]
        yield {"program": name, "N": n, "policy": pol_text + (
                   f" → {pol.method.split(': ')[-1]}" if pol_text.startswith("budget") else ""),
               "seconds": secs, "size": program_size(vp), "W": g.work, "M": g.memory,
               "M_states": g.memory / k, "steps": steps, "extra": round(steps - n, 1), "t": t,
               "bound": bound, "new_defs": len(plan.new_defs) if plan is not None else 0}


def _loops(d):
    from linear_a.semantics.syntax import Loop, iter_nodes
    return [x for x in iter_nodes(d.body) if type(x) is Loop]


def _step_count(p, step: str, costs) -> int:
    d = p.get(step)
    args = {q.name: 0.5 for q in d.nl_params}
    return evaluate(p, step, args, costs=costs).work


def policy_table(names, ns):
    cols = ["program", "N", "policy", "transform s", "|vjp|", "new defs", "W", "M", "M/k",
            "steps", "extra", "t(N,S)", "bound"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for name in names:
        for n in ns:
            for r in policy_rows(name, n):
                print("| " + " | ".join(str(x) for x in (
                    r["program"], r["N"], r["policy"], f"{r['seconds']:.3f}", r["size"],
                    r["new_defs"], r["W"], r["M"], f"{r['M_states']:.1f}", r["steps"],
                    r["extra"], r["t"], r["bound"])) + " |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", default="200,2000,20000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--policies", action="store_true",
                    help="the per-policy table (checkpointing over iterations)")
    ap.add_argument("--programs", default="euler,rnn,euler-alt")
    args = ap.parse_args()
    ns = [int(x) for x in args.ns.split(",")]
    repeat = args.repeat
    if args.policies:
        policy_table([x for x in args.programs.split(",") if x], ns)
        return
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
