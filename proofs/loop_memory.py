"""``checkpoint-memory`` on a definition with a loop (issue 14): the schedules
over iterations (``transforms/loop_ckpt.py``) against the bounds they state
(``loop_ckpt.memory_bound``).

For the subject ``f`` with exactly one loop: ``binomial:S`` for S = 2, 3, 4
(S = 1 too when N ≤ 60: it nests N calls) and ``every:K`` for K = 2, 3 and
K ≈ √N.  M is measured by cost-only runs of the evaluator
(``semantics/cost.py``: M does not depend on the values, a loop's step runs
once), and for the schedule of least W also by the full evaluator on z3
symbols, running every iteration: the two must agree (else refuted), so each program's
check rests on at least one real run; ``tests/test_loop_cost.py`` checks the
agreement on every schedule.  A measured M above the bound refutes.  A definition with several
loops, or a loop the schedules refuse (arrays, linear carry), is *unknown*
with the reason."""
from __future__ import annotations

from math import isqrt

from linear_a.semantics.errors import LinearAError


def check_loop_memory(s, v) -> bool:
    """Check ``checkpoint-memory`` when the subject has loops; False if it has none."""
    from linear_a.semantics.domains import get_domain
    from linear_a.transforms.budget import _symbolic
    from linear_a.transforms.compose import vjp_cost, vjp_program
    from linear_a.transforms.every import EveryK
    from linear_a.transforms.loop_ckpt import has_loops, memory_bound, vjp_memory
    from linear_a.transforms.revolve import Binomial
    d = s.entry
    if not has_loops(s.prog, d.name):
        return False
    dom = get_domain("z3")
    at = {p.name: _symbolic(p.ty, dom, p.name) for p in d.nl_params}
    notes, consts = [], {}
    try:
        n = max(x.n for x in _loops(d))
        pols = [Binomial(k) for k in ((1, 2, 3, 4) if n <= 60 else (2, 3, 4))]
        pols += [EveryK(k) for k in sorted({2, 3, max(1, isqrt(n))})]
        runs = []
        for pol in pols:
            vp = vjp_program(s.prog, d.name, pol)
            s._cache.setdefault("loop-ckpt-rules", set()).update(   # for the coverage table
                dv.rule for dv in pol.loops.derivations)
            runs.append((vjp_cost(s.prog, d.name, program=vp), pol, vp))
        (_, M), pol, vp = min(runs, key=lambda r: r[0][0])
        real = vjp_memory(s.prog, d.name, at, dom, program=vp)    # one real run: the least W
        if real != M:
            v.refute("measurement", f"{pol.describe()}: the evaluator measures M = {real}, "
                                    f"its cost-only run M = {M}",
                     {"policy": pol.describe(), "M": real, "cost_only_M": M})
            return True
        for (_, M), pol, vp in runs:
            bound, formula = memory_bound(pol.loops, s.prog, d.name, at, dom, consts)
            if M > bound:
                v.refute("measurement", f"{pol.describe()}: M = {M} > {formula} = {bound}",
                         {"policy": pol.describe(), "M": M, "bound": bound})
                return True
            notes.append(f"{pol.describe()} M = {M} ≤ {bound}")
    except LinearAError as e:
        v.add("measurement", "unknown", f"the loop schedules do not apply: {e.message}")
        return True
    v.add("measurement", "proved", "over iterations: " + "; ".join(notes))
    return True


def _loops(d):
    from linear_a.semantics.syntax import Loop, iter_nodes
    return [x for x in iter_nodes(d.body) if type(x) is Loop]
