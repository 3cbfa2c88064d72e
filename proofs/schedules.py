"""Schedules run by ``linear-a check``: binomial checkpointing over a sweep of
(l, s), and every policy form on the checked programs.

The binomial schedule (``transforms/revolve.py``) claims, for a chain of l
steps and s snapshots: the vjp computes save-all's gradient, evaluates exactly
``l + t(l, s)`` forward steps (t the optimal count of Griewank--Walther,
``optimal_forward_steps``), holds at most s snapshots and peaks at M ≤
snaps + c (``memory_bound``).  :func:`binomial_outcomes` checks each claim for
every (l, s) of :data:`SWEEP`, through the public policy API only
(``binomial_vjp_program``, ``grad``, ``evaluate``), as part of the
``checkpoint-invariance`` theorem (the gradient is save-all's) with the
schedule's cost claims alongside.  The forward-step count is independent of
the implementation's own recursion: it is the W of the vjp under the cost
table that prices each step's primitive at 1 and everything else at 0,
against the closed form ``r·l − β(s+1, r−1)``.
"""
from __future__ import annotations

import time
from math import comb

SWEEP = [(l, s) for l in (1, 2, 3, 5, 8, 13, 21, 34) for s in (1, 2, 3, 5) if s <= max(l, 1)]
OPS = (("sin",), ("sin", "tanh"))


def t_closed_form(l: int, s: int) -> int:
    """t(l, s) = r·l − C(s + r, s + 1) with r the least integer such that C(s + r, s) ≥ l
    (written here from the formula, not imported)."""
    if l <= 1:
        return 0
    r = 0
    while comb(s + r, s) < l:
        r += 1
    return r * l - comb(s + r, s + 1)


def binomial_outcomes(costs=None) -> list:
    from linear_a.semantics.evaluate import evaluate
    from linear_a.semantics.parser import parse_program
    from linear_a.transforms.compose import grad, names_for
    from linear_a.transforms.revolve import binomial_vjp_program, chain_source, memory_bound, step_costs
    from .checks import Outcome, REL_TOL
    out = []
    for ops in OPS:
        for l, s in SWEEP:
            t0 = time.perf_counter()
            name = f"(schedule) binomial:{s} on a chain of {l} ({'/'.join(ops)})"
            try:
                prog = parse_program(chain_source(l, ops), "<chain>")
                vp, pol = binomial_vjp_program(prog, "f", s)
                rp = pol.restructured.program
                sc = step_costs(ops)
                at = {"x0": 0.7}
                g = grad(rp, "f", at, costs=sc, program=vp)
                ref = grad(prog, "f", at, policy="save-all", costs=sc)
                want = l + t_closed_form(l, s)
                nl, tn = names_for("f")
                r1 = evaluate(vp, nl, ([0.7], []))
                r2 = evaluate(vp, tn, (list(r1.nl[1:]), [1.0]))
                M = max(r1.memory, r2.memory)
                snaps, c = memory_bound(pol.restructured)
                a, b = g.gradient["x0"], ref.gradient["x0"]
                problems = []
                if abs(a - b) > REL_TOL * (1 + abs(a) + abs(b)):
                    problems.append(f"gradient {a!r} ≠ save-all's {b!r}")
                if ref.work != l:
                    problems.append(f"save-all evaluates {ref.work} forward steps, not l = {l}")
                if g.work != want:
                    problems.append(f"{g.work} forward steps, not l + t(l, s) = {want}")
                if snaps > s:
                    problems.append(f"holds {snaps} snapshots > s = {s}")
                if M > snaps + c:
                    problems.append(f"M = {M} > snaps + c = {snaps} + {c}")
                detail = (f"gradient = save-all's; forward steps {g.work} = l + t(l, s) = {want}; "
                          f"M = {M} ≤ snaps + c = {snaps} + {c}, snaps ≤ s")
                if problems:
                    out.append(Outcome("checkpoint-invariance", name, "refuted", "schedule run",
                                       time.perf_counter() - t0, "; ".join(problems),
                                       {"program": chain_source(l, ops), "policy": f"binomial:{s}",
                                        "forward steps": g.work, "l + t(l, s)": want, "M": M,
                                        "snaps, c": [snaps, c]}))
                else:
                    out.append(Outcome("checkpoint-invariance", name, "proved", "schedule run",
                                       time.perf_counter() - t0, detail))
            except Exception as e:          # a broken schedule refutes, the suite runs on
                out.append(Outcome("checkpoint-invariance", name, "refuted", "crash",
                                   time.perf_counter() - t0, f"{type(e).__name__}: {e}",
                                   {"program": chain_source(l, ops), "policy": f"binomial:{s}"}))
    return out
