"""The theorem checks on programs with loops (issue 14).

The per-program checks run the one evaluator, which runs a loop by iterating
its step function, and the static measures count a loop as N runs of its
step (W = N·(W(step) + c_loop); the trace weight adds N·(‖step‖ + a‖step‖)),
so every check holds or fails on a looped program as on a loop-free one, for
its literal N; symbolic inputs of array type (the residual stacks of the
linear half) are tuples of N symbolic elements.

**Long loops.**  The symbolic checks (normal forms, sympy) grow with the
unrolled program.  Where unrolling adds more than :data:`LONG` nodes and a
loop runs more than twice, the theorems of :data:`SYMBOLIC` are decided by
**induction on N** (:func:`by_induction`); on a shorter loop that runs more
than twice, the direct check runs first (for :data:`DIRECT_SECONDS`) and
induction follows if it did not prove the theorem (:func:`loop_check`):

1. the transformed programs are *N-parametric*: T(P) and T(P[2]) (every loop
   count set to 2) print the same text once loop counts and array lengths are
   blanked, so the transformation did not look at N beyond copying it;
2. the theorem holds for each step function (its own symbolic check: the
   induction step, J/U/T of one iteration);
3. the theorem holds for P[1] and P[2] (symbolic check: the base, the code
   around the loops, and one hand-over between iterations: a stack read in
   the wrong order or a carry dropped between iterations shows at N = 2);
4. the loop rule itself (JLoop, ULoop, TLoop) is a per-rule obligation with
   N symbolic (proofs/obligations.py).

Points (float, the real N: jvp-correct, unzip-correct, transpose-adjoint,
vjp-correct against the tape oracle) are checked beside it and give
counterexamples on P itself.  The method is reported as ``induction on N``; a failed premise is
*unknown* with its reason, a refuted premise refutes the theorem with the
premise's counterexample.  A check listed in :data:`NOT_YET` would report
*unknown* with :data:`REASON` on a looped program; since issue 14 every
theorem supports loops and the table is empty (checkpoint-memory's own
limits on loops are in proofs/loop_memory.py).
"""
from __future__ import annotations

import re

from linear_a.semantics.syntax import Loop, Program, iter_nodes

REASON = "loops not yet supported by this check"

NOT_YET: dict[str, str] = {}


# The symbolic checks (normal forms, sympy) of these theorems grow with the
# unrolled program: a 200-step ODE does not fit.  On a loop longer than LONG
# unrolled nodes they are decided by induction on N instead (:func:`by_induction`).
LONG = 400
SYMBOLIC = ("typing-sound", "jvp-correct", "unzip-correct", "transpose-adjoint",
            "transpose-involution", "vjp-correct", "checkpoint-invariance", "sched-invariance")
SMALL_N = (1, 2)        # the instances of the program checked symbolically


def has_loops(prog: Program) -> bool:
    return any(type(n) is Loop for d in prog.defs for n in iter_nodes(d.body))


DIRECT_SECONDS = 5.0    # a short loop's direct symbolic check, before induction on N takes over


def loop_check(prog: Program, theorem: str, direct):
    """The check function ``run_check`` runs for ``theorem`` on ``prog``:
    ``direct`` (the ordinary check) where no loop is involved; induction on N
    alone on a long loop; on a shorter loop that runs more than twice, the
    direct check within DIRECT_SECONDS and, if it did not prove the theorem
    (iterated normal forms can outgrow their budget even at N = 5), induction
    on N after it (both verdicts reported)."""
    if long_loop(prog, theorem):
        return lambda s, v: by_induction(s, theorem, v)
    if theorem not in SYMBOLIC or not _cached_has_loops(prog):
        return direct
    if max(n.n for d in prog.defs for n in iter_nodes(d.body) if type(n) is Loop) <= max(SMALL_N):
        return direct

    def check(s, v):
        from linear_a.semantics.errors import ProofTimeout, time_limit
        try:
            with time_limit(DIRECT_SECONDS, f"`{theorem}` on {s.name} (directly)"):
                direct(s, v)
        except ProofTimeout as e:
            v.add("time limit", "unknown", e.message)
        if v.status() != "proved":
            by_induction(s, theorem, v)
    return check


def _cached_has_loops(prog: Program) -> bool:
    cache = getattr(prog, "_has_loops", None)
    if cache is None:
        cache = has_loops(prog)
        try:
            prog._has_loops = cache
        except AttributeError:
            pass
    return cache


def unsupported(prog: Program, theorem: str) -> str | None:
    """The reason ``theorem`` reports unknown on ``prog``, or None."""
    reason = NOT_YET.get(theorem)
    if reason is None or not _cached_has_loops(prog):
        return None
    return reason


def long_loop(prog: Program, theorem: str) -> int | None:
    """The number of nodes unrolling adds to ``prog`` if ``theorem``'s symbolic
    check is decided by induction on N there (unrolling adds more than LONG
    nodes, and some loop runs more than max(SMALL_N) times), else None."""
    if theorem not in SYMBOLIC or not _cached_has_loops(prog):
        return None
    counts = [n.n for d in prog.defs for n in iter_nodes(d.body) if type(n) is Loop]
    if max(counts) <= max(SMALL_N):
        return None
    added = unrolled_size(prog) - unrolled_size(prog, counted=False)
    return added if added > LONG else None


def unrolled_size(prog: Program, counted: bool = True) -> int:
    """|P| as if every loop were unrolled (a loop counts N·|step|): the size
    that decides whether the sympy/z3 cross-checks are affordable
    (``counted=False``: as if every loop ran 0 times)."""
    from . import measure
    if not has_loops(prog) or not counted:
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


# ----------------------------------------------------------------------------
# Induction on N


def with_loop_count(prog: Program, n: int) -> Program | None:
    """P[n]: a copy of ``prog`` with every loop's count set to n (None if the
    program mentions an array type, whose length would have to follow)."""
    from linear_a.semantics.syntax import Def, has_array
    for d in prog.defs:
        if any(has_array(p.ty) for p in d.params) or any(has_array(t) for t in (*d.nl_out, *d.lin_out)):
            return None
        for b in iter_nodes(d.body):
            if type(b) is Loop and b.over:
                return None
    out = []
    for d in prog.defs:
        body = _set_n(d.body, n)
        out.append(d if body is d.body else
                   Def(d.name, d.nl_params, d.lin_params, d.nl_out, d.lin_out, body, d.pos))
    return Program(out, prog.file)


def _set_n(e, n):
    """e with its loops' counts set to n (iterative on chains; recursion on the
    nesting of right-hand sides only)."""
    from linear_a.semantics.syntax import Block, Let
    if type(e) is Loop:
        return Loop(n, e.fn, e.nl, e.lin, e.over, e.reverse, e.pos)
    if type(e) is not Block:
        return e
    binds, changed = [], False
    for b in e.binds:
        if type(b) is Let:
            rhs = _set_n(b.rhs, n)
            if rhs is not b.rhs:
                changed = True
                b = Let(b.nl, b.lin, rhs, b.pos, b.nl_ty, b.lin_ty)
        binds.append(b)
    tail = _set_n(e.tail, n)
    if not changed and tail is e.tail:
        return e
    return Block(binds, tail, e.pos)


_COUNTS = (re.compile(r"\bloop (reverse )?[0-9]+\b"), re.compile(r";\s*[0-9]+\]"))


def blank_counts(text: str) -> str:
    """A printed program with its loop counts and array lengths blanked."""
    text = _COUNTS[0].sub(lambda m: "loop " + (m.group(1) or "") + "N", text)
    return _COUNTS[1].sub("; N]", text)


def _artifacts(s) -> list:
    """(label, program) of the transforms the theorems read, by the subject's kind."""
    from linear_a.transforms.checkpoint import RecomputeAll
    out = []
    if s.kind == "nonlinear":
        out += [("JVP", lambda: s.jvp()), ("vjp", lambda: s.vjp())]
    out += [("unzip", lambda: (s.linearized() if s.kind == "nonlinear" else s.unzipped()).result),
            ("unzip recompute-all", lambda: (s.linearized(RecomputeAll(), "recompute-all")
                                            if s.kind == "nonlinear" else
                                            s.unzipped(RecomputeAll(), "recompute-all")).result)]
    if s.kind != "mixed":
        out.append(("transpose", lambda: s.transposed()[0]))
    return out


def parametric(s, s2) -> str | None:
    """None if every transform of s equals s2's with loop counts blanked, else
    the first that differs."""
    from linear_a.semantics.printer import show
    for (label, a), (_, b) in zip(_artifacts(s), _artifacts(s2)):
        if blank_counts(show(a())) != blank_counts(show(b())):
            return label
    return None


def _decide(sub, theorem: str, seconds: float, induction: bool):
    """(status, method, detail, counterexample) of ``theorem`` on the subject ``sub``
    (by induction again if ``induction`` and it has long loops)."""
    from linear_a.semantics.errors import ProofTimeout, time_limit
    from .checks import CHECKS, Refuted, Verdicts
    v = Verdicts()
    check = loop_check(sub.prog, theorem, CHECKS[theorem]) if induction else CHECKS[theorem]
    try:
        try:
            with time_limit(seconds, f"`{theorem}` on {sub.name}"):
                check(sub, v)
        except ProofTimeout as e:
            v.add("time limit", "unknown", e.message)
        return v.status(), v.method(), v.detail(), None
    except Refuted as r:
        return "refuted", r.method, r.detail, r.cex
    except Exception as e:        # a transformation crashed on the instance: a refutation
        return "refuted", "crash", f"{type(e).__name__}: {e}", None


def _points_vjp(C, s, v):
    """The reference vjp program's gradient against the tape oracle at float
    points, at the real N."""
    from linear_a.transforms.compose import vjp as run_vjp
    from linear_a.transforms.oracle import oracle_grad
    f = s.entry
    pts = C._points(s)
    for args in pts:
        ct = C._cotangent(s.rng, f)
        ctv = ct if len(ct) != 1 else ct[0]
        r = run_vjp(s.prog, f.name, args, ctv, program=s.vjp())
        g = oracle_grad(s.prog, f.name, args, ctv)
        a = C._float_flat([r.gradient[p.name] for p in f.nl_params])
        b = C._float_flat([g[p.name] for p in f.nl_params])
        if not C._close(a, b):
            v.refute("oracle", f"vjp {a} ≠ oracle {b} (N as written)", {"args": args, "cotangent": ct})
    v.add("oracle", "checked" if pts else "unknown", f"gradient vs tape oracle, {len(pts)} points")


POINTS = {   # the float checks at the real N, beside the induction (counterexamples on P)
    "jvp-correct": lambda c, s, v: c._points_jvp(s, v),
    "vjp-correct": _points_vjp,
    "unzip-correct": lambda c, s, v: c._points_split(s, v),
    "transpose-adjoint": lambda c, s, v: c._points_adjoint(s, *s.linear_program(), *s.transposed(), v),
}


def by_induction(s, theorem: str, v, seconds: float = 8.0) -> None:
    """Decide ``theorem`` on the subject ``s`` (a program with long loops) by
    induction on N (module docstring); adds its verdicts to ``v``."""
    from linear_a.semantics.printer import show
    from . import checks as C
    from .theorems import FOR_LINEAR, FOR_MIXED, FOR_NONLINEAR
    applies = {"nonlinear": FOR_NONLINEAR, "linear": FOR_LINEAR, "mixed": FOR_MIXED}
    pts = POINTS.get(theorem)
    if pts and not any(m in ("points", "oracle") for m, _, _ in v.items):   # (not again after a direct try)
        pts(C, s, v)
    small = [(n, with_loop_count(s.prog, n)) for n in SMALL_N]
    if small[0][1] is None:
        v.add("induction on N", "unknown", "the program mentions array types: its loop counts "
                                            "cannot be varied alone")
        return
    subs = [(f"N = {n}", C.Subject(f"{s.name}[N={n}]", p, s.costs, seed=n, positive=s.positive,
                                   kind=s.kind, path=s.path)) for n, p in small]
    which = parametric(s, subs[1][1])
    if which is not None:
        v.add("induction on N", "unknown", f"the {which} transform of the program is not N-parametric "
                                            f"(its text at N = 2 differs beyond loop counts)")
        return
    steps = []
    for d in s.prog.defs:
        for b in iter_nodes(d.body):
            if type(b) is Loop and b.fn not in steps:
                steps.append(b.fn)
    names = [d.name for d in s.prog.defs]
    for fn in steps:
        p = Program(s.prog.defs[:names.index(fn) + 1], s.prog.file)
        sub = C.Subject(f"{s.name}[step {fn}]", p, s.costs, seed=7, positive=s.positive, path=s.path)
        if theorem in applies[sub.kind]:
            subs.append((f"step `{fn}`", sub))
    notes = []
    for label, sub in subs:
        st, method, detail, cex = _decide(sub, theorem, seconds, label.startswith("step"))
        if st == "refuted":
            cex = dict(cex or {})
            cex.setdefault("program", show(sub.prog))
            cex["premise"] = label
            v.refute(f"induction on N ({label}: {method})", f"{label}: {detail}", cex)
        if st != "proved":
            v.add("induction on N", "unknown", f"{label}: {st} ({detail})")
            return
        notes.append(f"{label}: proved by {method}")
    v.add("induction on N", "proved",
          "; ".join(notes) + "; every transform N-parametric (text at N = 2 = at N with counts "
          "blanked); the loop rules: per-rule obligations with N symbolic")
