r"""Binomial (Revolve) checkpointing as a program transformation (SPEC §8, §15).

Reverse mode on a chain ``x_l = F_l(… F_1(x_0))`` must run the steps
backwards.  Saving every intermediate (save-all) costs memory l; the binomial
schedule of Griewank and Walther keeps at most ``s`` states (*snapshots*, the
input ``x_0`` included) and re-runs forward steps instead, the provably fewest:

    t(l, s) = r·l − β(s+1, r−1),   β(s, r) = C(s+r, s),
    r = the least integer with β(s, r) ≥ l,

counting every forward *advance*, the first sweep's l − 1 included; each step
is in addition evaluated once more "taped", just before its adjoint.  It obeys
t(l, s) = min over 1 ≤ m < l of  m + t(l−m, s−1) + t(m, s)  (advance m steps,
snapshot x_m, reverse the tail with one snapshot fewer, then the head), with
t(1, s) = 0 and t(l, 1) = l(l−1)/2.  :func:`optimal_split` gives an optimal m in
O(1) (the interval of optimal splits, verified against that recursion in the
tests).

**The contract.**  ``restructure(prog, fn, s)`` rewrites a straight-line,
purely non-linear definition into nested calls realising that recursion; its
result computes the same function (and is well typed).  Under the
:class:`Binomial` policy, unzip saves everything except the one call inside
each *head wrapper*, which it recomputes.  Then the transposed program
(``fn_jvp_nl`` followed by ``fn_jvp_lin_T``, after the post-pass
:func:`advance_calls`) evaluates exactly ``l + t(l, s)`` forward steps, holds
at most s snapshots at any time, and its peak memory M (§4, both halves) is at
most ``snaps·k + c`` reals (:func:`peak_bound`): snaps = the most snapshots
the schedule holds at once, k the widest state, c = one step's reversal
working set plus the state's cotangent (:func:`memory_bound`; c = 4 for
``x' = sin x``, 6 for ``xᵢ = sin(xᵢ₋₁)·w``), independent of l.

**The shape.**  The definition is cut into *steps* (:func:`chain_steps`): the
*state* after a binding is the tuple of non-linear values live across it
(several reals, tuples, parameters still to be read), and a cut follows a
binding after which the state is no wider than at the previous cut (for a
chain of ``sin``'s every ``let`` is a step).  Each step becomes a definition
from its input state to its output state (identical steps share one).  A
segment of length n ≥ 2 with s snapshots, split at m, becomes (shown for a
one-real state)

    def G(x: real) -> (real ;) =           def W(x: real) -> (real ;) =
      let (y ;) = W(x) in                    let (y ;) = H(x) in      # recompute
      let (z ;) = T(y) in                    (y ;)
      (z ;)

with ``H`` the head (m steps, s snapshots) and ``T`` the tail (n − m steps,
s − 1 snapshots), both built the same way, and both calls of G saved.  Why the
wrapper: it makes the head's recomputation a definition of its own, whose
transpose runs when the head's adjoint starts -- after the tail's, as Revolve
does it -- independently of how the caller's non-linear bindings are
scheduled (TSched would also place a recomputation written directly in G
just before its first reader; the wrapper keeps the schedule explicit in
the printed program and lets :func:`advance_calls` find the advances).  G_nl runs
W_nl (the m-step advance; W's residual is just x, the snapshot) then T_nl;
G_lin_T runs T_lin_T, then W_lin_T = H_nl(x) (the head's forward again) and
H_lin_T.  So with B(n) the forward steps of a lin_T part,
B(G) = B(T) + m + B(H), B(step) = 0: Revolve's recursion, and the whole vjp
costs l (the first sweep, every step once) + t(l, s) forward steps.

**Memory: advances are untaped.**  Unzip keeps the recomputed call in W_nl
too (W must return y), as ``H_jvp_nl(x)`` whose tape W drops.  Taping there
is Revolve's "advance" done wrongly: on a head path (H's head is again
wrapped, and so on, r levels, all starting at x) every nested W_nl keeps its
own copy of x while the next one runs, and each level builds a tape only to
drop it, so M grew like s + r.  The post-pass
:func:`advance_calls` (applied by :meth:`Binomial.finish`, which
``compose.vjp_program`` calls) replaces such a call by the primal ``H(x)``:
x is then held by one wrapper only, and nothing but the current state moves
down the advance.  The re-taping calls in the linear halves are untouched,
so W is unchanged; M ≤ snaps + c (:func:`memory_bound`), checked per row by
``benchmarks/bench_checkpoint.py`` and for small chains by the tests.

**Counting forward steps with W (§4).**  W under :func:`step_costs`, the cost
table that prices the steps' primal primitives (e.g. ``sin``) at 1 and every
other form at 0, is the number of step evaluations.  The JVP's partials (here
``cos``) are priced 0, so a taped evaluation counts once.  Hence
``W_steps(vjp) = l + t(l, s)``, which is what checkpoint_schedules'
``optimal_steps_binomial(l, s)`` reports.

**Registration.**  ``binomial:S`` is registered with
:func:`linear_a.transforms.checkpoint.register_policy`.  Since a policy only answers
save/recompute, the restructuring is a separate step:
:meth:`Binomial.prepare` (used by :func:`binomial_vjp_program` and by any
composition that calls a policy's ``prepare(prog, fn)`` before JVP).  A
Binomial policy used without it refuses, rather than silently saving all.
"""
from __future__ import annotations

from math import comb

from linear_a.semantics.errors import LinearAError, TransformError
from linear_a.semantics.evaluate import Costs, _typing_info
from linear_a.semantics.printer import show_expr
from linear_a.semantics.syntax import (Block, Call, Def, Drop, Dup, LAdd, Let, Lit, Loop, LTup, NTup,
                              Param, Prim, Program, Ret, Scale, TupleType, Zero, bind_uses,
                              leaf_uses, size_of_type)

from .checkpoint import RECOMPUTE, SAVE, ChoicePoint, Policy, int_policy, register_policy

# ----------------------------------------------------------------------------
# The binomial optimum.


def beta(s: int, r: int) -> int:
    """β(s, r) = C(s + r, s): the longest chain s snapshots reverse with r repetitions."""
    if r < 0 or s < 0:
        return 0
    return comb(s + r, s)


def repetitions(l: int, s: int) -> int:
    """r: the least integer with β(s, r) ≥ l."""
    if s < 1:
        raise TransformError(f"binomial checkpointing needs at least one snapshot (s = {s})",
                             rule="Policy")
    r = 0
    while beta(s, r) < l:
        r += 1
    return r


def optimal_forward_steps(l: int, s: int) -> int:
    """t(l, s): the fewest forward advances that reverse l steps with s snapshots
    (the first sweep's l − 1 included; the l taped evaluations excluded)."""
    if l < 1:
        raise TransformError(f"a chain needs at least one step (l = {l})", rule="Policy")
    if l == 1:
        return 0
    r = repetitions(l, s)
    return r * l - beta(s + 1, r - 1)


def optimal_split(l: int, s: int) -> int:
    """An m (1 ≤ m < l) attaining t(l, s) = m + t(l − m, s − 1) + t(m, s).

    The optimal splits form the interval max(β(s, r−2), l − β(s−1, r)) ≤ m ≤
    min(β(s, r−1), l − β(s−1, r−1)); we take its smallest element."""
    if l < 2:
        raise TransformError("a chain of one step is not split", rule="Policy")
    r = repetitions(l, s)
    lo = max(1, beta(s, r - 2), l - beta(s - 1, r))
    hi = min(l - 1, beta(s, r - 1), l - beta(s - 1, r - 1))
    if lo > hi:   # cannot happen (tests check every l ≤ 300, s ≤ 12); fail loudly if it does
        raise TransformError(f"internal: no optimal split for l={l}, s={s}", rule="Policy")
    return lo


# ----------------------------------------------------------------------------
# The schedule tree.


class Node:
    """Steps [start, stop) reversed with ``snaps`` snapshots: a leaf (one step) or
    a split into ``head`` (recomputed, same snapshots) and ``tail`` (one fewer)."""
    __slots__ = ("start", "stop", "snaps", "head", "tail")

    def __init__(self, start, stop, snaps, head=None, tail=None):
        self.start, self.stop, self.snaps, self.head, self.tail = start, stop, snaps, head, tail

    @property
    def length(self):
        return self.stop - self.start


def schedule(l: int, s: int) -> Node:
    """The binomial schedule tree of a chain of l steps (built without recursion)."""
    optimal_forward_steps(l, s)            # validates l and s
    root = Node(0, l, s)
    todo = [root]
    while todo:
        n = todo.pop()
        if n.length > 1:
            m = optimal_split(n.length, n.snaps)
            n.head = Node(n.start, n.start + m, n.snaps)
            n.tail = Node(n.start + m, n.stop, n.snaps - 1)
            todo += (n.head, n.tail)
    return root


def schedule_cost(root: Node) -> tuple[int, int]:
    """(forward advances, max snapshots held) of a schedule tree, computed from
    the tree alone: advances B(n) = B(tail) + m + B(head); while reversing the
    tail of n, n's start state is held in addition to the tail's snapshots."""
    post, stack = [], [root]
    while stack:
        n = stack.pop()
        post.append(n)
        if n.head is not None:
            stack += (n.head, n.tail)
    cost: dict[int, tuple[int, int]] = {}
    for n in reversed(post):
        if n.head is None:
            cost[id(n)] = (0, 0)      # a step reads the current state, not a snapshot
        else:
            bh, sh = cost[id(n.head)]
            bt, st = cost[id(n.tail)]
            cost[id(n)] = (bt + n.head.length + bh, max(sh, 1 + st))
    return cost[id(root)]


# ----------------------------------------------------------------------------
# Renaming (for canonical step bodies).


def numbered(prefix: str, n: int) -> tuple:
    """``prefix1``, …, ``prefixn``: the parameters or results of a call in a
    generated definition (local names, one prefix per role, so no clash)."""
    return tuple(f"{prefix}{j + 1}" for j in range(n))


def _rename(e, m: dict):
    """A copy of expression e with variables renamed by m (names not in m kept).
    Iterative on chains; recursion only on nested right-hand sides."""
    r = lambda v: m.get(v, v)
    rs = lambda vs: tuple(m.get(v, v) for v in vs)
    t = type(e)
    if t is Block:
        binds = []
        for b in e.binds:
            tb = type(b)
            if tb is Let:
                binds.append(Let(rs(b.nl), rs(b.lin), _rename(b.rhs, m), None, b.nl_ty, b.lin_ty))
            else:
                binds.append(tb(rs(b.names), r(b.src)))
        return Block(binds, _rename(e.tail, m))
    if t is Ret:
        return Ret(rs(e.nl), rs(e.lin))
    if t is Lit:
        return Lit(e.text)
    if t is Prim:
        return Prim(e.op, rs(e.args))
    if t is Zero:
        return Zero(e.ty)
    if t is LAdd:
        return LAdd(r(e.a), r(e.b))
    if t is Scale:
        return Scale(r(e.x), r(e.l))
    if t is Dup:
        return Dup(r(e.l))
    if t is Drop:
        return Drop(r(e.v))
    if t is NTup:
        return NTup(rs(e.args))
    if t is LTup:
        return LTup(rs(e.args))
    if t is Call:
        return Call(e.fn, rs(e.nl), rs(e.lin))
    if t is Loop:
        return Loop(e.n, e.fn, rs(e.nl), rs(e.lin), rs(e.over), e.reverse)
    raise TransformError(f"internal: cannot rename {t.__name__}")


def _binders(e) -> list[str]:
    out, stack = [], [e]
    while stack:
        x = stack.pop()
        if type(x) is Block:
            for b in x.binds:
                out += b.binders if type(b) is not Let else b.nl + b.lin
            for b in reversed(x.binds):
                if type(b) is Let and type(b.rhs) is Block:
                    stack.append(b.rhs)
    return out


def _uses(b) -> set[str]:
    """Free variables read by one binding (including inside a nested right-hand side)."""
    if type(b) is not Let:
        return set(bind_uses(b))
    rhs = b.rhs
    if type(rhs) is not Block:
        return set(leaf_uses(rhs))
    from linear_a.semantics.syntax import free_vars
    return set(free_vars(rhs))


# ----------------------------------------------------------------------------
# Chain → nested calls.


def chain_steps(d: Def, env: dict) -> list[tuple[tuple, list, tuple]]:
    """Cut ``d``'s body into steps ``(inputs, bindings, outputs)``.

    The *state* after a top-level binding is the tuple of non-linear values
    bound so far (parameters included) that are read later, in binding order.
    A cut follows a binding (not the last) after which the state is no wider,
    in reals, than at the previous cut (at first: the parameters).  So for
    ``xᵢ = sin(xᵢ₋₁) * w`` every let is a step and the state is ``(xᵢ, w)``;
    for an Euler step the state is ``(p, q, a, b, c, h)`` and the step's
    intermediates (wider) never make a cut; as parameters stop being read,
    the state narrows.  Trailing bindings such as a ``drop`` after the last
    step, and a non-return tail, belong to the last step.  ``env`` is the def's typing table (var -> (linear?, type))."""
    if d.lin_params or d.lin_out:
        raise TransformError(f"binomial checkpointing needs a purely non-linear `{d.name}`",
                             d.pos, rule="Policy")
    body = d.body if type(d.body) is Block else Block([], d.body)
    binds = list(body.binds)
    tail = body.tail
    if type(tail) is not Ret:
        taken = set(_binders(body)) | {p.name for p in d.params}
        outs = []
        for t in d.nl_out:
            k, out = 0, "out"
            while out in taken:
                k += 1
                out = f"out_{k}"
            taken.add(out)
            outs.append(out)
            env[out] = (False, t)
        binds.append(Let(tuple(outs), (), tail))
        tail = Ret(tuple(outs), ())
    if tail.lin:
        raise TransformError(f"`{d.name}`: a chain has no linear results", d.pos, rule="Policy")
    if not binds:
        raise TransformError(f"`{d.name}` has no binding to checkpoint", d.pos, rule="Policy")
    order = {p.name: i - len(d.nl_params) for i, p in enumerate(d.nl_params)}
    for i, b in enumerate(binds):
        for v in (b.nl + b.lin if type(b) is Let else b.names):
            order[v] = i
    sizes = {v: (size_of_type(t) if t is not None else 1) for v, (_, t) in env.items()}
    # backwards liveness, one pass; the state after binding i for i < n - 1
    live = set(tail.nl)
    states: list = [None] * len(binds)
    for i in range(len(binds) - 1, -1, -1):
        b = binds[i]
        if i < len(binds) - 1:
            states[i] = tuple(sorted(live, key=order.__getitem__))
        live.difference_update(b.nl + b.lin if type(b) is Let else b.names)
        live.update(_uses(b))
    params = tuple(p.name for p in d.nl_params)
    if not live <= set(params):
        raise TransformError(f"`{d.name}` reads {sorted(live - set(params))} before binding them",
                             d.pos, rule="Policy")
    width = lambda st: sum(sizes.get(v, 1) for v in st)
    steps, cur, start = [], [], params
    last = width(params)
    for i, b in enumerate(binds):
        cur.append(b)
        st = states[i]
        if st is not None and width(st) <= last:
            steps.append((start, cur, st))
            cur, start, last = [], st, width(st)
    steps.append((start, cur, tuple(tail.nl)))
    return steps


class Restructured:
    """The result of :func:`restructure`: the program, the names of the head
    wrappers (whose inner call the Binomial policy recomputes), the schedule
    tree, the number of steps, the step definitions and the widest state (in
    reals)."""

    def __init__(self, program, wrappers, tree, steps, step_defs, width=1):
        self.program = program
        self.wrappers = wrappers
        self.tree = tree
        self.steps = steps
        self.step_defs = step_defs
        self.width = width


def restructure(prog: Program, fn: str, s: int) -> Restructured:
    """Rewrite the straight-line definition ``fn`` into the binomial schedule's
    nested calls.

    ``fn`` is cut into steps (:func:`chain_steps`); each step becomes a
    definition from its input state to its output state (identical steps
    share one), and each node of the schedule tree a definition over states.
    Other definitions are kept; the new ones are inserted before ``fn``, whose
    body becomes a call of the schedule's root."""
    d = prog.get(fn)
    if d is None:
        raise TransformError(f"no function `{fn}` to restructure", rule="Policy")
    try:
        _, envs = _typing_info(prog)
    except LinearAError as e:
        raise e.located(prog.file)
    env = dict(envs[fn])
    steps = chain_steps(d, env)
    tree = schedule(len(steps), s)
    ty = lambda v: env[v][1]
    sizes = lambda st: sum(size_of_type(ty(v)) for v in st)

    taken = set(prog.names)
    counter = [0]

    def new_name(kind):
        while True:
            counter[0] += 1
            name = f"{fn}_{kind}{counter[0]}"
            if name not in taken and name + "_jvp" not in taken:
                taken.add(name)
                return name

    new_defs: list[Def] = []
    memo: dict = {}
    sig: dict[str, tuple] = {}           # new def -> (input types, output types)

    def make(key, kind, ins, outs, body_fn):
        name = memo.get(key)
        if name is None:
            name = memo[key] = new_name(kind)
            new_defs.append(Def(name, [Param(f"x{j + 1}", t) for j, t in enumerate(ins)], [],
                                list(outs), [], body_fn()))
            sig[name] = (tuple(ins), tuple(outs))
        return name

    # one definition per distinct step (canonical renaming: inputs x1…, binders v1 …)
    step_names = []
    for (inp, binds, out) in steps:
        blk = Block(binds, Ret(tuple(out), ()))
        names = _binders(blk)
        m = {v: f"x{j + 1}" for j, v in enumerate(inp)}
        m.update({n: f"v{i + 1}" for i, n in enumerate(names)})
        canon = _rename(blk, m)
        ins, outs = [ty(v) for v in inp], [ty(v) for v in out]
        key = ("step", tuple(map(str, ins)), show_expr(canon))
        step_names.append(make(key, "step", ins, outs, lambda c=canon: c))

    def call_let(ys, callee, xs):
        return Let(tuple(ys), (), Call(callee, tuple(xs), ()))

    name_of: dict[int, str] = {}
    wrappers = set()
    post, stack = [], [tree]
    while stack:
        n = stack.pop()
        post.append(n)
        if n.head is not None:
            stack += (n.head, n.tail)
    for n in reversed(post):
        if n.head is None:
            name_of[id(n)] = step_names[n.start]
            continue
        h, t = name_of[id(n.head)], name_of[id(n.tail)]
        ins, mid = sig[h]
        outs = sig[t][1]
        xs, ys, zs = numbered("x", len(ins)), numbered("y", len(mid)), numbered("z", len(outs))
        w = make(("wrap", h), "wrap", ins, mid,
                 lambda h=h, xs=xs, ys=ys: Block([call_let(ys, h, xs)], Ret(tuple(ys), ())))
        wrappers.add(w)
        name_of[id(n)] = make(("node", w, t), "node", ins, outs, lambda w=w, t=t, xs=xs, ys=ys, zs=zs:
                              Block([call_let(ys, w, xs), call_let(zs, t, ys)], Ret(tuple(zs), ())))
    root = name_of[id(tree)]
    params = [p.name for p in d.nl_params]
    rs = [f"r{j + 1}" for j in range(len(d.nl_out))]
    taken_local = set(params)
    rs = [r if r not in taken_local else f"{r}_out" for r in rs]
    new_fn = Def(fn, d.nl_params, [], list(d.nl_out), [],
                 Block([call_let(rs, root, params)], Ret(tuple(rs), ())), d.pos)
    defs = insert_before(prog, fn, new_defs, new_fn).defs
    width = max(sizes(st) for st in [steps[0][0]] + [o for _, _, o in steps[:-1]]) if steps else 1
    return Restructured(Program(defs, prog.file), frozenset(wrappers), tree, len(steps),
                        frozenset(step_names), max(width, 1))


# ----------------------------------------------------------------------------
# The policy.


def _source_name(name: str) -> str:
    return name[:-4] if name.endswith("_jvp") else name


class Binomial(Policy):
    """``binomial:S``: Revolve's optimal schedule with at most S snapshots.

    Use :meth:`prepare` (the restructuring) before JVP; then unzip saves every
    binding except the call inside each head wrapper, which it recomputes, and
    :meth:`finish` makes the wrappers' forward sweeps untaped advances."""

    def __init__(self, snaps: int):
        if not isinstance(snaps, int) or snaps < 1:
            raise TransformError(f"binomial:S needs a positive number of snapshots, got {snaps!r}",
                                 rule="Policy")
        self.snaps = snaps
        self.restructured: Restructured | None = None
        self.loops = None     # a LoopPlan when fn has loops (transforms/loop_ckpt.py, CkRevolve)

    def prepare(self, prog: Program, fn: str) -> Program:
        """Restructure ``fn`` (a chain) into the nested calls of the schedule
        (idempotent: a program this policy already restructured is returned as is)."""
        from .loop_ckpt import has_loops, revolve
        if self.restructured is not None and prog is self.restructured.program:
            return prog
        if self.loops is not None and prog is self.loops.program:
            return prog
        if has_loops(prog, fn):           # Revolve over the iterations (CkRevolve)
            self.loops = revolve(prog, fn, self.snaps)
            return self.loops.program
        self.restructured = restructure(prog, fn, self.snaps)
        return self.restructured.program

    def decide(self, point: ChoicePoint) -> str:
        if self.loops is not None:
            return self.loops.decide(point)
        r = self.restructured
        if r is not None and point.kind == "call" and _source_name(point.fn) in r.wrappers:
            return RECOMPUTE
        return SAVE

    def check(self, points) -> None:
        if self.loops is not None:
            return
        if self.restructured is None:
            raise TransformError(
                f"policy `{self.describe()}` schedules a chain restructured into nested calls; "
                "it was used on a program that was not prepared", rule="Policy",
                hint="use transforms.revolve.binomial_vjp_program(prog, fn, S), or call "
                     "policy.prepare(prog, fn) before the JVP")
        fns = {_source_name(p.fn) for p in points}
        if not (self.restructured.wrappers & fns) and self.restructured.tree.length > 1:
            raise TransformError(f"policy `{self.describe()}` was prepared for another program",
                                 rule="Policy")

    def finish(self, vp: Program, roots) -> Program:
        """The vjp program's post-pass (called by ``compose.vjp_program``): the
        head wrappers' forward sweeps become untaped advances (:func:`advance_calls`)."""
        if self.loops is not None:
            return self.loops.finish(vp, roots)
        if self.restructured is None:
            return vp
        return advance_calls(vp, self.restructured.program, roots)

    def describe(self):
        return f"binomial:{self.snaps}"


register_policy("binomial", int_policy(Binomial, "binomial:S", "number of snapshots"), "binomial:S")


def advance_calls(vp: Program, source: Program, roots) -> Program:
    """Revolve's *advance*: a head is run forward untaped when its tape is not kept.

    In a head wrapper's non-linear half unzip emits the recomputed call as
    ``let (y, w_H) = H_jvp_nl(x) in let (;) = drop(w_H) in …``: the head is
    taped (its residual tuple built, and every wrapper nested on its head path
    keeping its own copy of the snapshot x while it runs) only for the tape to
    be dropped.  A call of ``g_jvp_nl`` whose residual -- its last non-linear
    result (unzip's contract) -- is read only by such a ``drop`` computes the
    primal ``g`` with the same operations, so it is replaced by a call of the
    source definition ``g`` and the drop removed; the primal definitions it
    needs (``source``'s, callees first) are added.  Steps are evaluated as often
    as before (W under :func:`step_costs` is unchanged); the partials, tuples and
    snapshot copies of the advance are gone.  The calls that rebuild a tape
    (in the linear halves) are untouched.  ``roots``: the definitions to keep
    (with their callees)."""
    from linear_a.transforms.jvp import SUFFIX as JVP
    from .compose import NL_SUFFIX
    from linear_a.semantics.evaluate import use_counts
    suffix = JVP + NL_SUFFIX
    src = {d.name: d for d in source.defs}
    primal_roots = set()

    def primal_of(b):
        """The primal definition a tape-dropping call may call instead, or None."""
        c = b.rhs
        if type(c) is not Call or c.lin or b.lin or not c.fn.endswith(suffix):
            return None
        g = src.get(c.fn[:-len(suffix)])
        if g is None or not g.is_nonlinear or len(b.nl) != len(g.nl_out) + 1:
            return None
        return g

    def rewrite(blk: Block, counts) -> Block:
        binds = list(blk.binds)
        dead, changed = set(), False
        for i, b in enumerate(binds):
            if type(b) is not Let:
                continue
            if type(b.rhs) is Block:
                nested = rewrite(b.rhs, counts)
                if nested is not b.rhs:
                    binds[i] = Let(b.nl, b.lin, nested, b.pos, b.nl_ty, b.lin_ty)
                    changed = True
                continue
            g = primal_of(b)
            if g is None or counts.get(b.nl[-1]) != 1:
                continue
            drop = drop_after(binds, i, b.nl[-1])
            if drop is None:
                continue
            binds[i] = Let(b.nl[:-1], (), Call(g.name, b.rhs.nl, (), b.rhs.pos), b.pos,
                           b.nl_ty[:-1] if b.nl_ty else None, None)
            dead.add(drop)
            primal_roots.add(g.name)
        if not dead and not changed:
            return blk
        return Block([b for j, b in enumerate(binds) if j not in dead], blk.tail, blk.pos)

    defs = []
    for d in vp.defs:
        body = d.body
        if type(body) is Block:
            nb = rewrite(body, use_counts(body))
            if nb is not body:
                d = Def(d.name, d.nl_params, d.lin_params, d.nl_out, d.lin_out, nb, d.pos)
        defs.append(d)
    if not primal_roots:
        return vp
    return with_primals(vp, source, defs, primal_roots, roots)


def drop_after(binds: list, i: int, name: str) -> int | None:
    """The index of the binding ``let (;) = drop(name)`` after ``binds[i]``, or
    None: where a tape read only by a drop is dropped (the untaping rewrites)."""
    return next((j for j in range(i + 1, len(binds)) if type(binds[j]) is Let
                 and type(binds[j].rhs) is Drop and binds[j].rhs.v == name), None)


def insert_before(prog: Program, fn: str, new_defs, new_fn: Def) -> Program:
    """prog with ``fn`` replaced by ``new_fn``, preceded by ``new_defs``."""
    defs = []
    for old in prog.defs:
        if old.name == fn:
            defs += new_defs
            defs.append(new_fn)
        else:
            defs.append(old)
    return Program(defs, prog.file)


def with_primals(vp: Program, source: Program, defs: list, primal_roots, roots) -> Program:
    """``defs`` (vp's definitions with untaped advances) preceded by the source
    definitions the advances call (``primal_roots`` and their callees), keeping
    what ``roots`` reach; ``vp`` unchanged if a primal's name is already taken
    by another definition of vp (the taped advances stay)."""
    from linear_a.semantics.syntax import call_closure
    src = {d.name: d for d in source.defs}
    mine = {d.name: d for d in vp.defs}
    primals = call_closure(src, primal_roots)
    if any(n in mine and mine[n] is not src[n] for n in primals):
        return vp
    defs = [d for d in source.defs if d.name in primals] + defs
    keep = call_closure({d.name: d for d in defs}, roots)
    return Program([d for d in defs if d.name in keep], vp.file)


def binomial_vjp_program(prog: Program, fn: str, s: int) -> tuple[Program, Binomial]:
    """The vjp program of the chain ``fn`` under ``binomial:s`` (restructure, then
    ``vjp_program`` with the policy, which applies :meth:`Binomial.finish`);
    returns it and the prepared policy."""
    from .compose import vjp_program
    pol = Binomial(s)
    rp = pol.prepare(prog, fn)
    return vjp_program(rp, fn, pol), pol


def step_working_set(r: Restructured) -> int:
    """c, the memory the reversal needs beyond its snapshots: the most, over the
    chain's distinct steps, of ``M(step_jvp_nl) + 1`` (re-taping a step: its
    input, results and partials, while the wrapper above holds the cotangent)
    and ``M(step_jvp_lin_T)`` (the step's adjoint: its tape, the incoming and
    the outgoing cotangent), each measured by the §4 evaluator on the step alone.
    For ``x' = sin x`` that is max(3 + 1, 3) = 4.  A step over a state of k
    reals adds its k cotangents instead of 1.  (M does not depend on the
    values, so z3 symbols stand in for them: no step can hit a domain error.)"""
    from linear_a.semantics.domains import get_domain
    from linear_a.semantics.evaluate import evaluate
    from .budget import _symbolic
    from .compose import names_for, vjp_program
    dom = get_domain("z3")
    one = lambda t: dom.const("1") if type(t) is not TupleType else tuple(one(u) for u in t.items)
    c = 0
    defs = {d.name: d for d in r.program.defs}
    for step in sorted(r.step_defs):
        d = defs[step]
        vp = vjp_program(r.program, step)
        nl, tn = names_for(step)
        args = [_symbolic(p.ty, dom, p.name) for p in d.nl_params]
        r1 = evaluate(vp, nl, (args, []), dom)
        k = len(d.nl_out)
        cts = [one(t) for t in d.nl_out]
        r2 = evaluate(vp, tn, (list(r1.nl[k:]), cts), dom)
        out_size = sum(size_of_type(t) for t in d.nl_out)
        c = max(c, r1.memory + out_size, r2.memory)
    return c


def memory_bound(r: Restructured) -> tuple[int, int]:
    """``(snaps, c)``: the vjp of the restructured chain (both halves, §4's M)
    peaks at no more than snaps + c ≤ s + c, where snaps is the most snapshots
    the schedule holds at once (:func:`schedule_cost`) and c is
    :func:`step_working_set`.  Why: at any time the live values are the held
    snapshots (one per enclosing node still reversing its tail, or one per
    wrapper advancing from it), at most one cotangent (linear, always moved),
    and one step's working set; nothing else survives across a call, because
    a wrapper's advance is untaped (:func:`advance_calls`) and every other
    value is passed on at its last use."""
    return schedule_cost(r.tree)[1], step_working_set(r)


def peak_bound(r: Restructured) -> int:
    """The bound on M (in reals) the schedule states: ``snaps·k + c`` with k the
    widest state (reals) and c = :func:`step_working_set`; i.e. at most
    ``(S + ⌈c/k⌉)`` states.  For a one-real chain this is ``snaps + c``."""
    snaps, c = memory_bound(r)
    return snaps * r.width + c


def step_costs(ops) -> Costs:
    """The cost table under which W counts forward step evaluations: each op in
    ``ops`` (the steps' primal primitives) costs 1, every other form 0."""
    from linear_a.semantics.primitives import PRIMITIVES
    ops = set(ops)
    return Costs(lit=0, prim={p: (1 if p in ops else 0) for p in PRIMITIVES}, zero=0, drop=0,
                 add=0, dup=0, scale=0)


def chain_source(l: int, ops=("sin",), name: str = "f") -> str:
    """Linear A text of a chain of l steps cycling through the unary ``ops``."""
    lines = [f"def {name}(x0: real) -> (real ;) ="]
    for i in range(1, l + 1):
        lines.append(f"  let (x{i} ;) = {ops[(i - 1) % len(ops)]}(x{i - 1}) in")
    lines.append(f"  (x{l} ;)")
    return "\n".join(lines) + "\n"
