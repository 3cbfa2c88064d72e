"""Which theorem checks apply to programs with loops (issue 14, first half).

The per-program checks run the one evaluator, which runs a loop by iterating
its step function, so the semantic checks (jvp-correct, unzip-correct,
vjp-correct, transpose-typed, checkpoint-invariance, the exact work identities
unzip-cost and transpose-cost, and the static size bounds) hold or fail on a
looped program exactly as on a loop-free one, for its literal N.  The checks
listed in :data:`NOT_YET` do not support loops yet; on a program with a loop
they report *unknown* with :data:`REASON` (never proved, never a silent pass).
"""
from __future__ import annotations

from linear_a.semantics.syntax import Loop, Program, iter_nodes

REASON = "loops not yet supported by this check"

NOT_YET = {
    # symbolic inputs of array type (the residual stacks) are not built yet
    "typing-sound": REASON,
    "transpose-adjoint": REASON,
    "transpose-involution": REASON,
    # the bounds' size term: a loop's work grows with N·|step|, its size does not
    "jvp-cost": REASON + " (a loop's cost bound needs the term N·|step|)",
    "vjp-cost": REASON + " (a loop's cost bound needs the term N·|step|)",
    # theorems that joined with issues 13 and 19, written before loops existed
    "cost-oracle": REASON + " (the independent counter reads no loop form yet)",
    "sched-invariance": REASON + " (its symbolic inputs of array type are not built)",
}


# The symbolic checks (normal forms, sympy) of these theorems grow with the
# unrolled program; on a loop longer than LONG unrolled nodes they report
# unknown instead of running for minutes (their point checks would agree,
# but a check is one status, not a partial one).
LONG = 400
SYMBOLIC = ("jvp-correct", "unzip-correct", "vjp-correct", "checkpoint-invariance")


def has_loops(prog: Program) -> bool:
    return any(type(n) is Loop for d in prog.defs for n in iter_nodes(d.body))


def unsupported(prog: Program, theorem: str) -> str | None:
    """The reason ``theorem`` reports unknown on ``prog``, or None."""
    reason = NOT_YET.get(theorem)
    if reason is None and theorem not in SYMBOLIC:
        return None
    cache = getattr(prog, "_has_loops", None)
    if cache is None:
        cache = has_loops(prog)
        try:
            prog._has_loops = cache
        except AttributeError:
            pass
    if not cache:
        return None
    if reason is None:
        n = unrolled_size(prog)
        if n <= LONG:
            return None
        return (f"{REASON} at this length: unrolled, the program has {n} nodes (the symbolic "
                f"checks of loops run up to {LONG})")
    return reason


def unrolled_size(prog: Program) -> int:
    """|P| as if every loop were unrolled (a loop counts N·|step|): the size
    that decides whether the sympy/z3 cross-checks are affordable."""
    from . import measure
    if not has_loops(prog):
        return measure.program_size(prog)
    memo: dict = {}

    def size(name):
        if name in memo:
            return memo[name]
        total = 0
        for n in iter_nodes(prog[name].body):
            total += measure._node_size(n)
            if type(n) is Loop:
                total += n.n * size(n.fn)
        memo[name] = total
        return total
    return sum(size(d.name) for d in prog.defs)
