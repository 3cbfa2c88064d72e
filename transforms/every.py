r"""``every:K``: save the non-linear state every K steps, recompute each segment once.

A plain choice vector of unzip (SPEC §8) -- no restructuring -- made
possible by the scheduling rule TSched of transposition: a recomputed
binding runs just before the first transposed binding that reads it, so a
segment's recomputation lands just before that segment's backward part.

**Steps and cuts.**  Unzip hands the policy the definition's flattened
bindings (``plan_flow``).  A *step* of the non-linear dataflow is a choice
point one of whose results is read by a later non-linear binding or returned
(a binding read only by linear code -- a JVP partial such as ``cos x`` -- is
not a step: it hangs off the dataflow).  A *cut* follows every K-th step,
just before the next step (the tangent code reading the step is left of it;
no cut after the last step).
The *state* at a cut is the set of non-linear values bound before it and read
(by either half) after it; for a chain ``xᵢ = sin(xᵢ₋₁) * w`` it is
``(xᵢ, w)``.

**The choice.**  Save every binding that binds a value of some cut's state;
recompute every other binding.  A recomputed binding then reads only saved
values and recomputed values of its own segment (a value read across a cut
belongs to that cut's state), so ``f_lin`` recomputes each segment exactly
once, and TSched places it just before the segment's adjoint.

**Cost on a chain of l steps of width k** (k reals live across a cut):
W ≤ W(save-all) + (the segments' interior work) ≤ 2·W(save-all); the
residual tuple holds l/K states, and while a segment is reversed only its K
recomputed steps are live besides: M = O(l/K·k + K·k).  Measured in
``benchmarks/bench_checkpoint.py``; the bound :meth:`EveryK.memory_bound` is
checked by the theorem ``checkpoint-memory``.

In a definition other than the one being differentiated (set by
:meth:`EveryK.prepare`; without it, every definition is cut) every binding is
saved: a callee's work runs inside one step of its caller.
"""
from __future__ import annotations

from linear_a.semantics.errors import TransformError
from linear_a.semantics.syntax import size_of_type

from .checkpoint import RECOMPUTE, SAVE, ChoicePoint, Policy, int_policy, register_policy


class EveryK(Policy):
    """``every:K`` (K ≥ 1): a snapshot of the live non-linear state every K steps."""

    whole_program = True      # usable without a single function (linearize, unzip of a file)

    def __init__(self, k: int):
        if not isinstance(k, int) or k < 1:
            raise TransformError(f"every:K needs a positive number of steps, got {k!r}",
                                 rule="Policy")
        self.k = k
        self.root: str | None = None        # the jvp'd definition the cuts apply to
        self.saved: dict[str, set] = {}     # def name -> indices of saved choice points
        self.cuts: dict[str, list] = {}     # def name -> state width (values) at each cut
        self.segment_reals: dict[str, int] = {}   # def name -> most reals one segment recomputes
        self.loops = None     # a LoopPlan when fn has loops (transforms/loop_ckpt.py, CkEvery)

    def prepare(self, prog, fn: str):
        """Cut only ``fn`` (and its JVP ``fn_jvp``); other definitions are saved.
        If ``fn`` has loops, they are segmented over iterations instead
        (``loop_ckpt.segment``) and fn's other bindings are saved."""
        from .loop_ckpt import has_loops, segment
        self.root = fn
        if self.loops is not None and prog is self.loops.program:
            return prog
        if has_loops(prog, fn):
            self.loops = segment(prog, fn, self.k)
            return self.loops.program
        return prog

    def finish(self, vp, roots):
        """Loops: the segments' forward runs become untaped (``loop_ckpt.untape_advances``)."""
        return self.loops.finish(vp, roots) if self.loops is not None else vp

    def _applies(self, name: str) -> bool:
        return self.root is None or name in (self.root, self.root + "_jvp")

    def plan_flow(self, d, flow, returned, types=None) -> None:
        """``flow``: per flattened binding, ``(point, ins, outs, lin_reads)`` in
        order (``point`` None for a binding that is not a choice point);
        ``returned``: the non-linear variables the definition returns;
        ``types``: the non-linear variables' types (for sizes in reals)."""
        name = d.name
        if not self._applies(name) or self.loops is not None:
            return
        n = len(flow)
        # steps: choice points whose results a later non-linear binding reads (or are returned)
        read_nl = set(returned)
        is_step = [False] * n
        for i in range(n - 1, -1, -1):
            point, ins, outs, _ = flow[i]
            if point is not None and any(o in read_nl for o in outs):
                is_step[i] = True
            read_nl.update(ins)
        # a cut after every K-th step, placed just before the next step (so the
        # linear code that reads the step's values is on the cut's left)
        steps = [i for i in range(n) if is_step[i]]
        cut_after = [steps[j + 1] - 1 for j in range(self.k - 1, len(steps) - 1, self.k)]
        # the state at each cut: bound at or before it, read (by either half) after it
        bound_at: dict[str, int] = {p.name: -1 for p in d.nl_params}
        for i, (_, _, outs, _) in enumerate(flow):
            for o in outs:
                bound_at[o] = i
        keep: set[str] = set()
        widths = []
        live: set[str] = set(returned)
        cuts = set(cut_after)
        for i in range(n - 1, -1, -1):
            if i in cuts:
                state = {v for v in live if bound_at.get(v, n) <= i}
                keep |= state
                widths.append(len(state))
            _, ins, outs, lin_reads = flow[i]
            live.difference_update(outs)
            live.update(ins)
            live.update(lin_reads)
        saved = set()
        size = lambda o: size_of_type(types[o]) if types and types.get(o) is not None else 1
        seg, most = 0, 0
        for i, (point, _, outs, _) in enumerate(flow):
            if point is not None:
                if any(o in keep for o in outs):
                    saved.add(point.index)
                else:
                    seg += sum(size(o) for o in outs)
                    most = max(most, seg)
            if i in cuts:
                seg = 0
        self.saved[name] = saved
        self.segment_reals[name] = most
        self.cuts[name] = list(reversed(widths))

    def decide(self, point: ChoicePoint) -> str:
        if self.loops is not None:
            return self.loops.decide(point)
        if not self._applies(point.fn):
            return SAVE
        saved = self.saved.get(point.fn)
        if saved is None:
            return SAVE
        return SAVE if point.index in saved else RECOMPUTE

    def describe(self):
        return f"every:{self.k}"


register_policy("every", int_policy(EveryK, "every:K", "number of steps"), "every:K")
