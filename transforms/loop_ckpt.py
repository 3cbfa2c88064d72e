r"""Checkpointing over loop iterations (issue 14): the policies as Linear A schedules.

A loop ``let (x̄' ;) = loop N f(x̄ ;)`` in the differentiated definition ``fn``
is, under save-all, unzipped by ULoop into a non-linear loop that stacks each
iteration's residual tuple (N of them) and a linear loop that reads the stack;
transposition reverses the linear loop (TLoop).  The policies below change
*which loops exist* before JVP (a source-to-source restructuring, as
``binomial:S`` does for straight-line chains) and then answer unzip's
save/recompute question for the one choice point each new definition has.
None of them unrolls: the restructured program is ordinary Linear A whose size
does not depend on N (binomial: on S and the repetition number r, below).

**Contract.**  ``segment(prog, fn, K)`` and ``revolve(prog, fn, S)`` return a
:class:`LoopPlan` whose ``program`` computes the same function as ``prog``
(same definitions, ``fn``'s loops rewritten, new definitions inserted before
``fn``; it typechecks).  With ``plan.decide`` as unzip's policy and
``plan.finish`` as the vjp program's post-pass (both wired into ``every:K``
and ``binomial:S`` through their ``prepare``/``decide``/``finish``), the vjp
program computes the save-all gradient exactly, and:

* ``every:K`` (rule **CkEvery**).  ``loop N f(x̄)`` ⟶ ::

      let (z̄ ;) = loop Q seg(x̄) in loop R f(z̄)          Q = N div K, R = N mod K
      def seg(x̄) = loop K f(x̄)

  Unzip saves the segment loop (its residual per iteration is the segment's
  input state: a stack of Q states) and the remainder loop (R < K residual
  tuples), and *recomputes* the inner loop of ``seg`` (choice point kind
  ``"loop"`` in ``seg_jvp``).  So the reverse half is ``loop reverse Q
  seg_jvp_lin_T over (states)`` whose step re-runs its segment's K
  iterations stacking their residuals, then ``loop reverse K f_jvp_lin_T``.
  The post-pass makes the forward run of the inner loop in ``seg_jvp_nl``
  untaped (``loop K f`` instead of ``loop K f_jvp_nl`` whose stack is
  dropped).  Forward steps: N + (N − R); memory ≈ (Q + K) states plus the
  remainder's R < K residual tuples.

* ``binomial:S`` (rule **CkRevolve**).  ``loop N f(x̄)`` ⟶ ``rev[N,S](x̄)``, one
  definition per distinct subproblem (n, s) of Revolve's recursion
  (memoized), with m = ``revolve.optimal_split(n, s)``::

      def rev[n,s](x̄) = let (ȳ ;) = adv[m,s](x̄) in rev[n−m,s−1](ȳ)    (n ≥ 2)
      def adv[m,s](x̄) = rev[m,s](x̄)                                    (recomputed)
      rev[1,s] = f

  Unzip recomputes the call inside each ``adv`` (so ``adv``'s residual is its
  input: the snapshot), saves the rest; the post-pass turns the forward run
  of the head in ``adv_jvp_nl`` into the untaped advance ``loop m f(x̄)`` with
  literal m.  This is the schedule of ``transforms/revolve.py`` with the
  advances as loops: forward step evaluations = N + t(N, S) exactly, at most
  ``snaps ≤ S`` snapshots held, M ≤ snaps·k + c reals (k = the carry's size,
  c = :func:`step_working_set`).  Program size: one ``rev`` and one ``adv`` per
  distinct (n, s) of the schedule tree, O(S·r) with r the repetition number
  (β(S, r) ≥ N, so r ~ (S!·N)^{1/S}: N itself for S = 1, ~√(2N) for S = 2,
  a handful for S ≥ 4); measured by ``benchmarks/bench_loops.py``.

* ``recompute-all`` needs no restructuring: the loop's choice point is
  recomputed (ULoop), so nothing is stored between the halves but the loop's
  inputs; the linear half re-runs the non-linear loop, which stacks the N
  residual tuples again before the reversed loop reads them.  Its peak M is
  therefore still N residual tuples (O(N), not O(1)); the O(1)-state
  schedule is ``binomial:1`` (quadratic work).

Only loops of ``fn`` itself are restructured (those in nested right-hand
sides too); a loop inside a callee is saved as is.  A loop that reads or
stacks arrays, or carries linear values, is refused (located).
"""
from __future__ import annotations

from linear_a.semantics.derivation import Derivation
from linear_a.semantics.errors import TransformError
from linear_a.semantics.rules import rule
from linear_a.semantics.syntax import (Block, Call, Def, Let, Loop, Param, Program, RealType,
                                       Ret, iter_nodes)

from .checkpoint import RECOMPUTE, SAVE, ChoicePoint
from .fresh import Fresh, def_names
from .revolve import (drop_after, insert_before, numbered, optimal_forward_steps, optimal_split, repetitions,
                      with_primals)


def has_loops(prog: Program, fn: str) -> bool:
    """Does ``fn``'s own body contain a loop?"""
    d = prog.get(fn)
    return d is not None and any(type(n) is Loop for n in iter_nodes(d.body))


class LoopPlan:
    """A restructured program and how to unzip it.

    ``recompute``: ``{(definition, kind)}``: the choice point of that kind in
    that definition's JVP is recomputed (every other point is saved);
    ``advances``: ``{definition: (m, step)}``: in ``definition_jvp_nl`` the
    recomputed (call or loop) binding whose tape is dropped becomes the
    untaped ``loop m step(x̄)``; ``new_defs``: the definitions added;
    ``derivations``: the CkEvery / CkRevolve derivations, one per loop (subject:
    the loop's ``let``; result: the bindings that replace it)."""

    def __init__(self, program, recompute, advances, new_defs, derivations, kind, param):
        self.program = program
        self.recompute = frozenset(recompute)
        self.advances = dict(advances)
        self.new_defs = tuple(new_defs)
        self.derivations = list(derivations)
        self.kind = kind
        self.param = param
        self.loops: list[tuple[int, str, int]] = []     # (N, step, carry size) per loop
        self.trees: list = []        # binomial, per loop: (advances, snapshots held) of its schedule

    def decide(self, point: ChoicePoint) -> str:
        src = point.fn[:-4] if point.fn.endswith("_jvp") else point.fn
        return RECOMPUTE if (src, point.kind) in self.recompute else SAVE

    def finish(self, vp: Program, roots) -> Program:
        return untape_advances(vp, self.program, self.advances, roots)


# ----------------------------------------------------------------------------
# Finding and rewriting fn's loops


def _rewrite_fn(d: Def, replace) -> Def:
    """d with each ``let`` whose right-hand side is a loop replaced by
    ``replace(let)`` (a list of bindings); a loop in tail position is first
    bound to fresh names."""
    fresh = Fresh(def_names(d))

    def walk(e):
        if type(e) is Loop:
            names = tuple(fresh("r") for _ in e.nl)
            return Block(replace(Let(names, (), e, e.pos), fresh), Ret(names, (), e.pos), e.pos)
        if type(e) is not Block:
            return e
        binds = []
        for b in e.binds:
            if type(b) is Let and type(b.rhs) is Loop:
                binds.extend(replace(b, fresh))
            elif type(b) is Let and type(b.rhs) is Block:
                binds.append(Let(b.nl, b.lin, walk(b.rhs), b.pos, b.nl_ty, b.lin_ty))
            else:
                binds.append(b)
        tail = walk(e.tail)
        if type(tail) is Block:
            return Block(binds + list(tail.binds), tail.tail, e.pos)
        return Block(binds, tail, e.pos)

    return Def(d.name, d.nl_params, d.lin_params, d.nl_out, d.lin_out, walk(d.body), d.pos)


def _checked_loop(prog: Program, fn: str, b: Let, policy: str) -> Def:
    """The step definition of the loop bound by ``b``, if the schedules accept the
    loop (a purely non-linear carry, no arrays read or stacked); else a located
    Policy error."""
    e = b.rhs
    if e.over or e.lin or len(b.nl) != len(e.nl):
        raise TransformError(f"policy `{policy}` checkpoints loops whose state is purely "
                             f"non-linear and that read or stack no arrays; the loop of `{e.fn}` "
                             f"in `{fn}` does not", e.pos, file=prog.file, rule="Policy",
                             hint="use save-all or recompute-all for this loop")
    return prog.get(e.fn)


def _namer(prog: Program, fn: str):
    taken = set(prog.names)

    def new_name(base):
        """The first of ``fn_base``, ``fn_base_1``, ``fn_base_2``, … that is free
        and whose JVP name (``…_jvp``) is free too; it is taken from then on."""
        k = 0
        name = f"{fn}_{base}"
        while name in taken or name + "_jvp" in taken:
            k += 1
            name = f"{fn}_{base}_{k}"
        taken.add(name)
        return name
    return new_name




def _carry_params(step: Def):
    nc = len(step.nl_out)
    return [Param(f"x{j + 1}", p.ty) for j, p in enumerate(step.nl_params[:nc])], list(step.nl_out)


def _call_def(name, params, outs, rhs) -> Def:
    ys = numbered("y", len(outs))
    return Def(name, params, [], list(outs), [], Block([Let(ys, (), rhs)], Ret(ys, ())))


class _Rewriting:
    """The state of one rewriting of fn's loops: the new definitions (named
    ``fn_…``, memoized), which of their choice points unzip recomputes, the
    advances of the post-pass, and per loop (N, step, carry length) and, for
    binomial, its schedule tree."""

    def __init__(self, prog: Program, fn: str, policy: str):
        self.prog, self.fn, self.policy = prog, fn, policy
        self.new_name = _namer(prog, fn)
        self.new_defs: list[Def] = []
        self.recompute: set = set()
        self.advances: dict = {}
        self.memo: dict = {}
        self.loops: list = []
        self.trees: list = []
        self.derivations: list[Derivation] = []

    def run(self, rule_fn, kind: str, param: int) -> LoopPlan:
        def replace(b: Let, fresh):
            dv = rule_fn(self, b, fresh, param)
            self.derivations.append(dv)
            return list(dv.result)
        new_fn = _rewrite_fn(self.prog.get(self.fn), replace)
        plan = LoopPlan(insert_before(self.prog, self.fn, self.new_defs, new_fn), self.recompute,
                        self.advances, self.new_defs, self.derivations, kind, param)
        plan.loops, plan.trees = self.loops, self.trees
        return plan


# ----------------------------------------------------------------------------
# every:K over iterations


@rule("checkpoint", "CkEvery",
      r"\mathsf{loop}\ N\ f(\bar x) \leadsto_K \mathsf{let}\ (\bar z) = \mathsf{loop}\ \lfloor N/K \rfloor\ \mathit{seg}(\bar x)\ \mathsf{in}\ \mathsf{loop}\ (N \bmod K)\ f(\bar z)",
      [r"\mathit{seg}(\bar x) = \mathsf{loop}\ K\ f(\bar x)", r"\text{unzip recomputes } \mathit{seg}\text{'s loop}"],
      "every:K over iterations: the carried state is stored once per segment of K iterations; "
      "each segment is recomputed just before its reversed linear loop")
def CkEvery(cx: _Rewriting, b: Let, fresh, k: int) -> Derivation:
    """One loop ``let (x̄') = loop N f(x̄)`` ⟶ the segment loop and the remainder
    loop (a loop shorter than K is left as it is)."""
    e = b.rhs
    step = _checked_loop(cx.prog, cx.fn, b, cx.policy)
    q, r = divmod(e.n, k)
    cx.loops.append((e.n, e.fn, len(e.nl)))
    if q == 0:
        return Derivation("checkpoint", "CkEvery", b, (b,), notes={"K": k, "Q": 0, "R": r})
    seg = cx.memo.get(("seg", e.fn))
    if seg is None:
        seg = cx.memo[("seg", e.fn)] = cx.new_name(f"seg{k}_{e.fn}")
        params, outs = _carry_params(step)
        cx.new_defs.append(_call_def(seg, params, outs,
                                     Loop(k, e.fn, tuple(p.name for p in params), ())))
        cx.recompute.add((seg, "loop"))
        cx.advances[seg] = (k, e.fn)
    if r == 0:
        out = (Let(b.nl, (), Loop(q, seg, e.nl, (), (), False, e.pos), b.pos, b.nl_ty),)
    else:
        zs = tuple(fresh(x) for x in b.nl)
        out = (Let(zs, (), Loop(q, seg, e.nl, (), (), False, e.pos), b.pos),
               Let(b.nl, (), Loop(r, e.fn, zs, (), (), False, e.pos), b.pos, b.nl_ty))
    return Derivation("checkpoint", "CkEvery", b, out, notes={"K": k, "Q": q, "R": r, "seg": seg})


def segment(prog: Program, fn: str, k: int) -> LoopPlan:
    """Rewrite every loop of ``fn`` into a loop over segments of ``k`` iterations
    and a remainder loop (rule CkEvery, one derivation per loop)."""
    if k < 1:
        raise TransformError(f"every:K needs a positive number of steps, got {k!r}", rule="Policy")
    return _Rewriting(prog, fn, f"every:{k}").run(CkEvery, "every", k)


# ----------------------------------------------------------------------------
# binomial:S over iterations


@rule("checkpoint", "CkRevolve",
      r"\mathsf{loop}\ N\ f(\bar x) \leadsto_S \mathit{rev}_{N,S}(\bar x)",
      [r"\mathit{rev}_{n,s}(\bar x) = \mathsf{let}\ (\bar y) = \mathit{adv}_{m,s}(\bar x)\ \mathsf{in}\ \mathit{rev}_{n-m,s-1}(\bar y),\ \mathit{rev}_{1,s} = f",
       r"\mathit{adv}_{m,s} = \mathit{rev}_{m,s} \text{ recomputed; forward: } \mathsf{loop}\ m\ f",
       r"m = \text{optimal split of } (n, s)"],
      "binomial:S over iterations: Revolve's recursion, one definition per distinct subproblem, "
      "the advances as loops of the step")
def CkRevolve(cx: _Rewriting, b: Let, fresh, s: int) -> Derivation:
    """One loop ``let (x̄') = loop N f(x̄)`` ⟶ ``let (x̄') = rev[N,s](x̄)`` (a loop of
    fewer than two iterations is left as it is)."""
    e = b.rhs
    step = _checked_loop(cx.prog, cx.fn, b, cx.policy)
    cx.loops.append((e.n, e.fn, len(e.nl)))
    if e.n < 2:
        return Derivation("checkpoint", "CkRevolve", b, (b,), notes={"S": s, "N": e.n})
    root = _revolve_defs(cx, step, e.n, s)
    out = (Let(b.nl, (), Call(root, e.nl, (), e.pos), b.pos, b.nl_ty),)
    return Derivation("checkpoint", "CkRevolve", b, out, notes={"S": s, "N": e.n, "root": root})


def _subproblems(n: int, snaps: int):
    """The distinct subproblems ``(length, snaps)`` of Revolve's recursion on (n, snaps),
    children before parents, with the split m of each (None for a step), and
    ``(advances, snapshots held)`` of the whole schedule.  Over a loop the
    schedule of a subproblem does not depend on where it starts, so this is
    ``revolve.schedule`` + ``schedule_cost`` with each subtree once: O(S·r)
    subproblems, not the tree's O(N) nodes (no recursion)."""
    optimal_forward_steps(n, snaps)          # validates n and snaps
    order, split, seen, stack = [], {}, set(), [(n, snaps, False)]
    while stack:
        l, k, done = stack.pop()
        if done:
            order.append((l, k))
            continue
        if (l, k) in seen:                   # (a subproblem seen is finished: lengths decrease)
            continue
        seen.add((l, k))
        stack.append((l, k, True))
        if l > 1:
            m = split[(l, k)] = optimal_split(l, k)
            stack += ((l - m, k - 1, False), (m, k, False))
    cost = {}
    for l, k in order:                       # as schedule_cost: B = B(tail) + m + B(head)
        m = split.get((l, k))
        if m is None:
            cost[(l, k)] = (0, 0)
        else:
            bh, sh = cost[(m, k)]
            bt, st = cost[(l - m, k - 1)]
            cost[(l, k)] = (bt + m + bh, max(sh, 1 + st))
    return order, split, cost[(n, snaps)]


def _revolve_defs(cx: _Rewriting, step: Def, n: int, snaps: int) -> str:
    """The name of rev[n, snaps] for ``step``, writing the rev and adv definitions
    of its schedule's subproblems that are not written yet (callees first)."""
    params, outs = _carry_params(step)
    xs = tuple(p.name for p in params)
    ys, zs = numbered("y", len(outs)), numbered("z", len(outs))
    memo = cx.memo
    order, split, cost = _subproblems(n, snaps)
    for length, k in order:
        key = ("rev", step.name, length, k)
        if key in memo:
            continue
        m = split.get((length, k))
        if m is None:
            memo[key] = step.name
            continue
        h = memo[("rev", step.name, m, k)]
        t = memo[("rev", step.name, length - m, k - 1)]
        adv = memo.get(("adv", step.name, m, k))
        if adv is None:
            adv = memo[("adv", step.name, m, k)] = cx.new_name(f"adv{m}s{k}_{step.name}")
            cx.new_defs.append(_call_def(adv, params, outs, Call(h, xs, ())))
            cx.recompute.add((adv, "call"))
            cx.advances[adv] = (m, step.name)
        name = memo[key] = cx.new_name(f"rev{length}s{k}_{step.name}")
        cx.new_defs.append(Def(name, params, [], list(outs), [],
                               Block([Let(ys, (), Call(adv, xs, ())), Let(zs, (), Call(t, ys, ()))],
                                     Ret(zs, ()))))
    cx.trees.append(cost)
    return memo[("rev", step.name, n, snaps)]


def revolve(prog: Program, fn: str, s: int) -> LoopPlan:
    """Rewrite every loop of ``fn`` into Revolve's schedule with ``s`` snapshots
    (rule CkRevolve, one derivation per loop)."""
    if s < 1:
        raise TransformError(f"binomial:S needs a positive number of snapshots, got {s!r}",
                             rule="Policy")
    return _Rewriting(prog, fn, f"binomial:{s}").run(CkRevolve, "binomial", s)


# ----------------------------------------------------------------------------
# The post-pass: untaped advances


def untape_advances(vp: Program, source: Program, advances: dict, roots) -> Program:
    """Revolve's *advance* (and every:K's forward run of a segment): in
    ``g_jvp_nl`` for each ``g`` of ``advances``, the recomputed binding -- a call
    ``H_jvp_nl(x̄)`` or a loop ``loop m f_jvp_nl(x̄)`` whose last non-linear
    result (the tape: H's residual tuple, or the loop's stack) is read only by a
    ``drop`` -- becomes ``loop m f(x̄)`` (the primal step, untaped) and the drop
    goes.  The same steps run (W under ``revolve.step_costs`` is unchanged);
    no tape is built to be dropped.  The primal definitions the advances call
    (``source``'s, callees first) are added.  ``roots``: the definitions kept."""
    from linear_a.semantics.evaluate import use_counts
    if not advances:
        return vp
    wanted = {g + "_jvp_nl": adv for g, adv in advances.items()}
    used_steps = set()
    defs = []
    for d in vp.defs:
        adv = wanted.get(d.name)
        if adv is None or type(d.body) is not Block:
            defs.append(d)
            continue
        m, step = adv
        counts = use_counts(d.body)
        binds = list(d.body.binds)
        dead = set()
        for i, b in enumerate(binds):
            if type(b) is not Let or type(b.rhs) not in (Call, Loop) or b.lin or not b.nl:
                continue
            tape = b.nl[-1]
            if counts.get(tape) != 1:
                continue
            j = drop_after(binds, i, tape)
            if j is None:
                continue
            binds[i] = Let(b.nl[:-1], (), Loop(m, step, b.rhs.nl, (), (), False, b.rhs.pos), b.pos)
            dead.add(j)
            used_steps.add(step)
            break
        if dead:
            d = Def(d.name, d.nl_params, d.lin_params, d.nl_out, d.lin_out,
                    Block([b for j, b in enumerate(binds) if j not in dead], d.body.tail,
                          d.body.pos), d.pos)
        defs.append(d)
    if not used_steps:
        return vp
    return with_primals(vp, source, defs, used_steps, roots)


# ----------------------------------------------------------------------------
# Bounds (what checkpoint-memory checks and the benchmark prints)


def step_working_set(prog: Program, step: str) -> int:
    """c for one step function: the most of ``M(step_jvp_nl) + |carry|`` (re-taping
    one iteration while the caller holds the carried cotangent) and
    ``M(step_jvp_lin_T)`` (one iteration's adjoint), measured by the evaluator on
    the step alone at symbolic (z3) arguments."""
    from linear_a.semantics.domains import get_domain
    from linear_a.semantics.evaluate import evaluate
    from linear_a.semantics.syntax import TupleType, size_of_type
    from .budget import _symbolic
    from .compose import names_for, vjp_program
    dom = get_domain("z3")
    one = lambda t: dom.const("1") if type(t) is not TupleType else tuple(one(u) for u in t.items)
    d = prog.get(step)
    vp = vjp_program(prog, step)
    nl, tn = names_for(step)
    args = [_symbolic(p.ty, dom, p.name) for p in d.nl_params]
    r1 = evaluate(vp, nl, (args, []), dom)
    k = len(d.nl_out)
    r2 = evaluate(vp, tn, (list(r1.nl[k:]), [one(t) for t in d.nl_out]), dom)
    out_size = sum(size_of_type(t) for t in d.nl_out)
    return max(r1.memory + out_size, r2.memory)


def binomial_bound(plan: LoopPlan, source: Program) -> tuple[int, int, int]:
    """``(snaps, k, c)`` for a binomial plan with one loop: at most ``snaps``
    snapshots of the carry (k reals each) are held, plus c
    (:func:`step_working_set`, plus the k-real carried cotangent): M ≤ snaps·k + c."""
    from linear_a.semantics.syntax import size_of_type
    if len(plan.loops) != 1:
        raise TransformError("the binomial bound is stated for a definition with one loop",
                             rule="Policy")
    n, step, _ = plan.loops[0]
    d = source.get(step)
    k = sum(size_of_type(t) for t in d.nl_out)
    snaps = plan.trees[0][1] if plan.trees else 0
    return snaps, k, step_working_set(source, step) + k


def budget_candidates(prog: Program, fn: str) -> tuple[list[str], list[str]]:
    """The schedules ``budget:M`` measures on a definition with loops, as
    ``(first, fallback)``.  First: save-all, every:K for K ≈ √N/2, √N, 2√N (N
    the longest loop), binomial:S for S ∈ {1, 2, 3, 4, 6, 10, 20} whose
    repetition number r(N, S) is at most ``MAX_REPS`` (beyond it a schedule
    costs more than r·N forward steps, and so does measuring it), and
    recompute-all; the least W whose measured M fits is taken.  Fallback, only
    if none of those fits: the remaining binomial:S by decreasing S (W grows
    as S falls), the first that fits (S = 1 only up to 150 iterations: it
    nests N calls)."""
    from math import isqrt
    d = prog.get(fn)
    n = max((x.n for x in iter_nodes(d.body) if type(x) is Loop), default=0)  # let-bound or tail
    r = max(1, isqrt(max(n, 1)))
    ks = sorted({max(1, r // 2), r, 2 * r})
    snaps = (20, 10, 6, 4, 3, 2, 1)
    cheap = [s for s in snaps if repetitions(max(n, 1), s) <= MAX_REPS]
    rest = [s for s in snaps if s not in cheap and (s > 1 or n <= 150)]
    first = (["save-all"] + [f"every:{k}" for k in ks] + [f"binomial:{s}" for s in reversed(cheap)]
             + ["recompute-all"])
    return first, [f"binomial:{s}" for s in rest]


MAX_REPS = 12


def _one_loop(plan: LoopPlan):
    if len(plan.loops) != 1:
        raise TransformError(f"the memory bound of a loop schedule is stated for a definition "
                             f"with one loop (this one has {len(plan.loops)})", rule="Policy")
    return plan.loops[0]


def base_memory(source: Program, fn: str, at, domain="z3") -> int:
    """A: M of fn's save-all vjp with its loop run once (``loop 1``) -- fn's own
    frame, one iteration's residual tuple and its reversal -- measured at
    ``at`` (argument values in ``domain``, e.g. z3 symbols; M does not depend on them)."""
    d = source.get(fn)
    once = _rewrite_fn(d, lambda b, fresh: [Let(b.nl, b.lin, Loop(1, b.rhs.fn, b.rhs.nl, b.rhs.lin,
                                                                  b.rhs.over, False, b.rhs.pos),
                                                b.pos, b.nl_ty, b.lin_ty)])
    p1 = Program([once if x.name == fn else x for x in source.defs], source.file)
    return vjp_memory(p1, fn, at, domain)


def vjp_memory(prog: Program, fn: str, at, domain="z3", program: Program | None = None) -> int:
    """M of fn's vjp at ``at`` with a cotangent of ones for each result (M does
    not depend on the values, so any cotangent of the right shape will do; unlike
    ``grad`` this also measures functions with several or tuple results)."""
    from .compose import vjp

    def ones(t):
        return 1.0 if isinstance(t, RealType) else [ones(x) for x in t.items]
    return vjp(prog, fn, at, [ones(t) for t in prog.get(fn).nl_out], domain=domain,
               program=program).memory


def memory_bound(plan: LoopPlan, source: Program, fn: str, at, domain="z3",
                 cache: dict | None = None) -> tuple[int, str]:
    """The peak memory a loop schedule states for ``fn``'s vjp, in reals, and
    the formula with its terms.  At any time the live values are: what fn's own
    halves hold around the loop (at most A = :func:`base_memory`), what the
    schedule stores, and one iteration being re-taped or reversed with the
    carried cotangent (at most c = :func:`step_working_set` + k, k the carry's
    reals).  What the schedule stores:

    * ``binomial:S``: snaps ≤ S snapshots of the carry: M ≤ snaps·k + c + A.
    * ``every:K``: the Q segment-start states and one segment's re-stacked
      residual tuples (ρ reals each; the remainder's R < K fit in their place)
      and the segment's copy of its start state: M ≤ Q·k + K·ρ + k + c + A.

    ``cache``: a dict kept across calls for the same program and loop (c, A and
    ρ do not depend on the policy)."""
    from linear_a.semantics.syntax import size_of_type
    from .compose import vjp_program
    n, step, _ = _one_loop(plan)
    d = source.get(step)
    k = sum(size_of_type(t) for t in d.nl_out)
    cache = {} if cache is None else cache
    if "A" not in cache:
        cache["A"] = base_memory(source, fn, at, domain)
        cache["c"] = step_working_set(source, step) + k
    a, c = cache["A"], cache["c"]
    if plan.kind == "binomial":
        snaps = plan.trees[0][1] if plan.trees else 0
        return snaps * k + c + a, f"snaps·k + c + A = {snaps}·{k} + {c} + {a}"
    q, seg = n // plan.param, plan.param
    if "rho" not in cache:
        cache["rho"] = size_of_type(vjp_program(source, step).get(step + "_jvp_nl").nl_out[-1])
    rho = cache["rho"]
    return (q * k + seg * rho + k + c + a,
            f"Q·k + K·ρ + k + c + A = {q}·{k} + {seg}·{rho} + {k} + {c} + {a}")
