"""``checkpoint-memory`` on a definition with a loop (issue 14): the schedules
over iterations (``transforms/loop_ckpt.py``) against the bounds they state
(``loop_ckpt.memory_bound``).

For the subject ``f`` with exactly one loop: ``binomial:S`` for S = 2, 3, 4
(S = 1 too when N ≤ 60: it nests N calls) and ``every:K`` for K = 2, 3 and
K ≈ √N.  M is measured by the evaluator on z3 symbols (M does not depend on
the values); a measured M above the bound refutes.  A definition with several
loops, or a loop the schedules refuse (arrays, linear carry), is *unknown*
with the reason."""
from __future__ import annotations

from math import isqrt

from linear_a.semantics.errors import LinearAError


def check_loop_memory(s, v) -> bool:
    """Check ``checkpoint-memory`` when the subject has loops; False if it has none."""
    from linear_a.semantics.domains import get_domain
    from linear_a.transforms.budget import _symbolic
    from linear_a.transforms.compose import vjp_program
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
        for pol in pols:
            vp = vjp_program(s.prog, d.name, pol)
            s._cache.setdefault("loop-ckpt-rules", set()).update(   # for the coverage table
                dv.rule for dv in pol.loops.derivations)
            M = vjp_memory(s.prog, d.name, at, dom, program=vp)
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
