"""``budget:M``: the cheapest checkpoint choice vector under a memory budget (SPEC §8, §15).

For a small program, every choice vector of the vjp's unzip is tried: each
choice point (``linear_a.transforms.checkpoint.ChoicePoint``, all definitions the vjp
unzips) is saved or recomputed, the vjp program is built and run, and its
work W (sum of the two runs) and peak memory M (the larger peak) are
measured with the §4 evaluator.  W and M depend only on the program, never on
the argument values (there is no control flow), so the runs are cost-only
(``semantics/cost.py``: the evaluator in the ``cost`` domain, whose values are
shapes; a loop's step runs once, each definition once): no point can hit a
domain error, and the time does not grow with the loops' lengths.

Contract.
* ``choice_points(prog, fn)`` — the choice points of fn's vjp, in unzip's order.
* ``measure(prog, fn, choices)`` — (W, M) of the vjp under a choice vector
  (a dict ``(def, index) -> "save" | "recompute"``; missing points are saved).
* ``frontier(prog, fn)`` — every vector's (W, M), and the Pareto frontier.
* ``Budget(M)`` — a :class:`~linear_a.transforms.checkpoint.Policy`; ``prepare(prog, fn)``
  searches exhaustively (at most ``MAX_POINTS`` choice points, i.e. 2^14
  vectors) and picks the least W with M ≤ budget (ties: least M, then
  fewest recomputations); then ``decide`` answers per point.  No feasible
  vector is a :class:`TransformError` naming the least achievable M.
  ``budget:M`` is registered with ``policy_from_string``.

Exhaustive search is exact and, for the small programs it accepts, fast
enough; a chain's optimum under a budget of s snapshots is the binomial
schedule (``transforms/revolve.py``), which scales to 10^4 steps.
"""
from __future__ import annotations

from itertools import product

from linear_a.semantics.domains import get_domain
from linear_a.semantics.errors import LinearAError, TransformError
from linear_a.semantics.syntax import RealType

from .checkpoint import RECOMPUTE, SAVE, ChoicePoint, Policy, int_policy, register_policy

MAX_POINTS = 14


class Fixed(Policy):
    """A given choice vector: ``{(def name, index): decision}``; others saved."""

    def __init__(self, choices: dict):
        self.choices = dict(choices)

    def decide(self, point: ChoicePoint) -> str:
        return self.choices.get((point.fn, point.index), SAVE)

    def describe(self):
        rec = sorted(f"{f}#{i}" for (f, i), c in self.choices.items() if c == RECOMPUTE)
        return "fixed:" + (",".join(rec) or "save-all")


class _Recorder(Policy):
    def __init__(self):
        self.points: list[ChoicePoint] = []

    def decide(self, point):
        self.points.append(point)
        return SAVE


def choice_points(prog, fn: str) -> list[ChoicePoint]:
    """The choice points unzip meets when building fn's vjp."""
    from .compose import vjp_program
    rec = _Recorder()
    vjp_program(prog, fn, rec)
    return rec.points


def _symbolic(ty, dom, name):
    if isinstance(ty, RealType):
        return dom.symbol(name)
    return [_symbolic(t, dom, f"{name}_{i}") for i, t in enumerate(ty.items)]


def measure(prog, fn: str, choices: dict, domain: str = "cost") -> tuple[int, int]:
    """(W, M) of fn's vjp (cotangent 1) under the choice vector ``choices``
    (by cost-only runs; ``domain="z3"``: on z3 symbols, see :func:`measure_policy`)."""
    if prog.get(fn) is None:
        raise TransformError(f"no function `{fn}`", rule="Policy")
    return measure_policy(prog, fn, Fixed(choices), domain)


def frontier(prog, fn: str):
    """``(points, table, pareto)``: the choice points; every vector as
    ``(W, M, choices)``; the Pareto-optimal ones sorted by M."""
    points = choice_points(prog, fn)
    if len(points) > MAX_POINTS:
        raise TransformError(f"budget search is exhaustive: `{fn}`'s vjp has {len(points)} "
                             f"choice points, at most {MAX_POINTS} are searched", rule="Policy",
                             hint="for a long chain use `binomial:S`")
    table = []
    for bits in product((SAVE, RECOMPUTE), repeat=len(points)):
        choices = {(p.fn, p.index): b for p, b in zip(points, bits)}
        w, m = measure(prog, fn, choices)
        table.append((w, m, choices))
    pareto, best_w = [], None
    for w, m, c in sorted(table, key=lambda t: (t[1], t[0])):
        if best_w is None or w < best_w:
            pareto.append((w, m, c))
            best_w = w
    return points, table, pareto


class Budget(Policy):
    """``budget:M``: least work with peak memory at most M.

    Exact (exhaustive over the choice vectors) when fn's vjp has at most
    ``MAX_POINTS`` choice points.  Otherwise a documented heuristic: the
    schedules save-all, recompute-all, every:K (K = 1, 2, 4, … up to the
    program's length) and binomial:S (S = 1 … 32, those that apply) are
    measured and the least W with M ≤ budget is taken (ties: least M).  Its gap
    to the exact optimum, measured where both run, is in
    ``benchmarks/bench_checkpoint.py --table budget``."""

    def __init__(self, memory: int):
        if not isinstance(memory, int) or memory < 0:
            raise TransformError(f"budget:M needs a non-negative integer, got {memory!r}",
                                 rule="Policy")
        self.memory = memory
        self.choices: dict | None = None
        self.cost: tuple[int, int] | None = None
        self.delegate: Policy | None = None      # the heuristic's chosen schedule
        self.method: str | None = None           # "exact" | "heuristic: <policy>"

    def prepare(self, prog, fn: str):
        from .loop_ckpt import budget_candidates, has_loops
        if self.delegate is not None and prog is getattr(self, "_prepared", None):
            return prog
        if has_loops(prog, fn):        # over iterations: the loop schedules (loop_ckpt)
            first, fallback = budget_candidates(prog, fn)
            self._prepared = self._heuristic(prog, fn, None, first, fallback=fallback)
            return self._prepared
        points = choice_points(prog, fn)
        if len(points) <= MAX_POINTS:
            _, table, _ = frontier(prog, fn)
            ok = [t for t in table if t[1] <= self.memory]
            if not ok:
                least = min(m for _, m, _ in table)
                raise TransformError(f"no checkpoint choice fits in memory {self.memory}: the least "
                                     f"peak memory of `{fn}`'s vjp is {least}", rule="Policy")
            w, m, c = min(ok, key=lambda t: (t[0], t[1], sum(v == RECOMPUTE for v in t[2].values())))
            self.choices, self.cost, self.method = c, (w, m), "exact"
            return prog
        return self._heuristic(prog, fn, len(points))

    def _heuristic(self, prog, fn: str, n: int | None, cands=None, domain="cost", fallback=()):
        from .checkpoint import policy_from_string
        if cands is None:
            cands = ["save-all", "recompute-all"]
            k = 1
            while k <= n:
                cands.append(f"every:{k}")
                k *= 2
            cands += [f"binomial:{s}" for s in range(1, 33)]
        best, least = None, None
        for c in cands:
            try:
                w, m = measure_policy(prog, fn, c, domain)
            except (LinearAError, RecursionError):
                continue
            least = m if least is None else min(least, m)
            if m <= self.memory and (best is None or (w, m) < best[:2]):
                best = (w, m, c)
        for c in fallback if best is None else ():     # in order; the first that fits
            try:
                w, m = measure_policy(prog, fn, c, domain)
            except (LinearAError, RecursionError):
                continue
            cands = list(cands) + [c]
            least = m if least is None else min(least, m)
            if m <= self.memory:
                best = (w, m, c)
                break
        if best is None:
            raise TransformError(f"no schedule tried fits in memory {self.memory}: the least peak "
                                 f"memory found for `{fn}`'s vjp is {least}", rule="Policy",
                                 hint=(f"tried over the loop's iterations: {', '.join(cands)}"
                                       if n is None else "the search is exhaustive only up to "
                                       f"{MAX_POINTS} choice points; this program has {n}"))
        self.cost, self.method = best[:2], f"heuristic: {best[2]}"
        self.delegate = policy_from_string(best[2])
        self.choices = {}
        prep = getattr(self.delegate, "prepare", None)
        return prep(prog, fn) if prep else prog

    def plan(self, fn, points):
        if self.delegate is not None:
            self.delegate.plan(fn, points)

    def plan_flow(self, d, flow, returned, types=None):
        f = getattr(self.delegate, "plan_flow", None)
        if f is not None:
            f(d, flow, returned, types)

    def decide(self, point):
        if self.delegate is not None:
            return self.delegate.decide(point)
        if self.choices is None:
            return SAVE
        return self.choices.get((point.fn, point.index), SAVE)

    def finish(self, vp, roots):
        f = getattr(self.delegate, "finish", None)
        return f(vp, roots) if f is not None else vp

    def check(self, points):
        if self.choices is None:
            raise TransformError(f"policy `{self.describe()}` searches a program's choice "
                                 "vectors; it was used without being prepared", rule="Policy",
                                 hint="use transforms.budget.budget_vjp_program(prog, fn, M), or "
                                      "call policy.prepare(prog, fn) first")

    def describe(self):
        return f"budget:{self.memory}"


def measure_policy(prog, fn: str, policy, domain: str = "cost") -> tuple[int, int]:
    """(W, M) of fn's vjp (cotangent 1) under a policy string.  W and M depend on
    the program only, so by default they are measured by cost-only runs
    (``compose.vjp_cost``, ``semantics/cost.py``): a loop's step is run once,
    each definition once, so the time does not grow with the loops' lengths.
    ``domain="z3"`` / ``"float"``: by the full evaluator on z3 symbols / at 1/2
    for every real (the same W and M; ``tests/test_loop_cost.py`` compares)."""
    from .compose import grad, vjp_cost
    from .oracle import cotangent_values
    d = prog.get(fn)
    if domain == "cost":
        if d is None:
            raise TransformError(f"no function `{fn}`", rule="Policy")
        cotangent_values(fn, d.nl_out, None)      # as grad: one real result
        return vjp_cost(prog, fn, policy)
    dom = get_domain(domain)
    if domain == "z3":
        args = {p.name: _symbolic(p.ty, dom, p.name) for p in d.nl_params}
    else:
        half = lambda t: dom.const("0.5") if type(t) is RealType else tuple(half(u) for u in t.items)
        args = {p.name: half(p.ty) for p in d.nl_params}
    r = grad(prog, fn, args, policy=policy, domain=dom)
    return r.work, r.memory


register_policy("budget", int_policy(Budget, "budget:M", "memory budget"), "budget:M")


def budget_vjp_program(prog, fn: str, memory: int):
    """fn's vjp program under the cheapest choice vector within ``memory``."""
    from .compose import vjp_program
    pol = Budget(memory)
    pol.prepare(prog, fn)
    return vjp_program(prog, fn, pol), pol
