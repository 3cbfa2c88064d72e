r"""The loop rules of JVP, unzip and transposition (SPEC §17; semantics/loops.py
defines the loop itself).

* **JLoop** (JVP).  ``loop N f(x̄ ;)`` ⟶ ``loop N f_jvp(x̄ ; θ(x̄))``: a loop of the
  step's JVP, the tangents carried beside the values (split with ``dup`` as
  JCall splits shared tangents).  Arrays carry no tangent, so JVP refuses a
  loop that reads arrays (``over``) or stacks outputs: in this project arrays
  arise from unzip's residual stacking; a user's loop carries its state.

* **ULoop** (unzip, save-all and the policies' whole-loop recompute).  The
  step g (mixed, e.g. ``f_jvp``) is unzipped first, as callees are, into
  ``g_nl(x̄, ē ;) -> (x̄', ῡ, R ;)`` and ``g_lin(w : R ; l̄) -> (; l̄')``; then::

      let (x̄', ῡs ; l̄') = loop N g(x̄ ; l̄) over (ā)
        ⟶  C  = let (x̄', ῡs, ws ;) = loop N g_nl(x̄) over (ā)      ws : [R; N]
            eₗ = let (; l̄') = loop N g_lin(; l̄) over (ws)

  Each iteration's residual tuple is stacked (``ws``) by the non-linear loop
  and read back, in the same order, by the linear loop.  A *recompute*
  decision for the loop's choice point (kind ``"loop"``) emits the
  non-linear loop again in the linear half, so ``ws`` is rebuilt there
  instead of being stored (checkpointing *inside* the iterations is not
  done here).  Staging (``unknown=``) of a step's own parameters is refused;
  a loop whose inputs are unknown in the caller moves wholesale to the
  second stage (UUnknown), as a call does.

* **TLoop** (transposition).  A linear loop ``loop N g(; l̄) over (ā)`` ⟶
  ``loop reverse N g_T(; l̈) over (ā)``: the transposed step, run in the
  reverse order, carrying the cotangents (the reverse of a reverse loop runs
  forwards).  A purely non-linear loop stays in front (TLetNonLin).

* **Invariant carries** (ULoopInv, TLoopInv).  A step sees only its
  parameters, so a loop's parameters ride in its carry and the step returns
  them unchanged (:func:`invariant_carries`).  ULoopInv keeps the residuals
  that are such carries -- also inside a called function's residual tuple --
  out of the stack ``ws``: the loops run two small wrappers of ``g_nl`` and
  ``g_lin`` (:class:`LoopSplits`), and the linear loop takes the invariant
  values once, from the loop's inputs, as a non-linear carry it returns
  unchanged.  TLoopInv transposes a linear loop whose non-linear carries are
  all invariant into the reversed loop carrying them unchanged beside the
  cotangents; any other non-linear carry in linear code is refused.
"""
from __future__ import annotations

from linear_a.semantics.derivation import Derivation
from linear_a.semantics.errors import TransformError
from linear_a.semantics.rules import rule
from linear_a.semantics.syntax import ArrayType, Drop, Let, Loop, Signature


def loop_result_types(e: Loop, sig: Signature):
    """(non-linear, linear) result types of a loop whose step has signature ``sig``."""
    nc = len(e.nl)
    return (tuple(sig.nl_out[:nc]) + tuple(ArrayType(t, e.n) for t in sig.nl_out[nc:]),
            tuple(sig.lin_out))


# ----------------------------------------------------------------------------
# JVP


@rule("jvp", "JLoop",
      r"\theta \vdash \mathsf{loop}\ N\ f(\bar x ;) \leadsto_J \mathsf{loop}\ N\ f_{\mathit{jvp}}(\bar x ; \theta(\bar x))",
      [r"f \leadsto_J f_{\mathit{jvp}}", r"\theta(x_i) \text{ split by } \mathsf{dup} \text{ or made by JZero}"],
      "a loop runs the step's JVP, carrying the tangents beside the values (a constant carry gets a zero)")
def JLoop(cx, e: Loop, dest, out: list) -> Derivation:
    start = len(out)
    target = cx.callees.get(e.fn)
    if target is None or e.lin:
        cx.refuse(f"a loop of `{e.fn}`, which is not purely non-linear", e.pos)
    if e.over or target[1] != len(e.nl):
        raise TransformError(f"JVP of the loop of `{e.fn}` in `{cx.d.name}`: the loop reads or stacks "
                             f"arrays, and arrays carry no tangent", e.pos, file=cx.file,
                             rule="JLoop",
                             hint="carry the values the step needs in the loop's state instead")
    ts = [cx.linear(x, out) for x in e.nl]     # JZero where the carry is a constant
    out.append(Let(dest, [cx.bind(z) for z in dest],
                   Loop(e.n, target[0], e.nl, ts, (), e.reverse, e.pos)))
    return Derivation("jvp", "JLoop", e, out[start:])


# ----------------------------------------------------------------------------
# Unzip


def _stacking_loop(u, b: Let, nl_name: str, residual_type):
    """The non-linear half of an unzipped loop: ``loop N nl_name`` binding b's
    non-linear results (per-iteration outputs as arrays) and a fresh stack
    ``ws : [residual_type; N]``; returns (ws, the let)."""
    e = b.rhs
    nc = len(e.nl)
    out_tys = u.callee_out[e.fn]
    for i, x in enumerate(b.nl):
        u.nlty[x] = out_tys[i] if i < nc else ArrayType(out_tys[i], e.n)
    w = u.fresh("ws_" + e.fn)
    u.nlty[w] = ArrayType(residual_type, e.n)
    return w, Let(b.nl + (w,), (), Loop(e.n, nl_name, e.nl, (), e.over, e.reverse, e.pos), b.pos)


@rule("unzip", "ULoop",
      r"\mathsf{loop}\ N\ g(\bar x ; \dot{\bar y})\ \mathsf{over}\ (\bar a) \leadsto_U (\mathsf{let}\ (\bar r, \bar o, w ;) = \mathsf{loop}\ N\ g_{nl}(\bar x ;)\ \mathsf{over}\ (\bar a)\ \mathsf{in}\ \square ; (\bar r, \bar o ;) ; \mathsf{loop}\ N\ g_{lin}(; \dot{\bar y})\ \mathsf{over}\ (w))",
      [r"g \leadsto_U g_{nl}, g_{lin} \text{ (callees first)}", r"w : [R; N] \text{ fresh}"],
      "a loop: the non-linear loop stacks each iteration's residuals, the linear loop reads them back")
def ULoop(u, b: Let):
    from .unzip import _Item, _drop
    e = b.rhs
    split = u.loops.split(e.fn, len(e.nl), u.sigs.get(e.fn), u.sigs) if getattr(u, "loops", None) else None
    if split is not None:
        return ULoopInvariant(u, b, split)
    sig = u.sigs.get(e.fn)
    if sig is None:
        raise TransformError(f"`{u.d.name}` loops over `{e.fn}`, which is not unzipped before it",
                             e.pos, file=u.file, rule="ULoop")
    if sig.unknown_in or sig.unknown_out:
        raise TransformError(f"unzip: the step function `{e.fn}` of a loop has unknown (staged) "
                             f"inputs; staging a loop's step is not supported", e.pos, file=u.file,
                             rule="ULoop",
                             hint="stage the caller's inputs instead: a loop reading them moves "
                                  "wholesale to the second stage")
    w, head = _stacking_loop(u, b, sig.nl_name, sig.residual_type)
    ins = e.nl + e.over
    if sig.lin_trivial:
        return _Item(b, "ULoop", nl=(head, _drop(w)), ins=ins, outs=b.nl)
    tail = Let((), b.lin, Loop(e.n, sig.lin_name, (), e.lin, (w,), e.reverse, e.pos), b.pos)
    return _Item(b, "ULoop", nl=(head,), ins=ins, outs=b.nl + (w,), lin=(tail,), lin_reads=(w,))


# ----------------------------------------------------------------------------
# Invariant carries: stored once, not per iteration


def invariant_carries(d, nc: int) -> tuple:
    """The positions i < nc where the step ``d`` returns its non-linear
    parameter i unchanged (its tail returns the parameter's own name there and
    no binding of the body rebinds that name): the *invariant carries*.  A
    step sees only its parameters, so a loop's parameters (an ODE's
    coefficients, a cell's weights) ride in the carry this way.  Syntactic,
    so it survives JVP (JRet returns the value x and its tangent ẋ in place)
    and unzip (``g_nl`` returns x in place; the residual tuple names it)."""
    from linear_a.semantics.syntax import Block, NUnpack, Ret, iter_nodes
    tail = d.body
    while type(tail) is Block:
        tail = tail.tail
    if type(tail) is not Ret or len(tail.nl) < nc or len(d.nl_params) < nc:
        return ()
    cand = {d.nl_params[i].name: i for i in range(nc) if tail.nl[i] == d.nl_params[i].name}
    if cand:
        for n in iter_nodes(d.body):
            bound = n.nl + n.lin if type(n) is Let else n.names if type(n) is NUnpack else ()
            for x in bound:
                cand.pop(x, None)
    return tuple(sorted(cand.values()))


class InvariantSplit:
    """How the loops over one unzipped step ``g`` keep its invariant residuals
    out of the stack.  ``tree``: per component of g's residual tuple R, ``None``
    (varying: stacked), an int i (the invariant carry i itself) or, for the
    residual tuple of a call inside g whose arguments include invariant
    carries, the same tree for the callee's residual tuple (so the parameters
    a step passes to a called vector field are found too).  ``carry``: the
    invariant carry positions the tree uses, in order; ``varying_type``: R',
    the varying leaves, flattened.  Two wrapper definitions (their size is
    O(|R|), independent of g's)::

        def g_nl_inv(x̄) -> (x̄', R') =                         stacks only R'
          let (x̄', w) = g_nl(x̄) in unpack w (nested) and drop the invariant
          leaves; (x̄', (varying leaves))
        def g_lin_inv(k̄, w' : R' ; ẏ) -> (k̄ ; ẏ') =             k̄: carried unchanged
          let (r̄') = w' in rebuild w : R from r̄' and k̄ in
          let (; ẏ') = g_lin(w ; ẏ) in (k̄ ; ẏ')

    ``g_nl`` and ``g_lin`` themselves are UDef's, untouched (every theorem
    about them still applies); the wrappers only re-pack the residual tuple."""

    def __init__(self, nl_name, lin_name, tree, carry, R1, defs):
        self.nl_name = nl_name
        self.lin_name = lin_name
        self.tree = tree
        self.carry = carry
        self.varying_type = R1
        self.defs = defs


def _has_invariant(tree) -> bool:
    stack = [tree]
    while stack:
        t = stack.pop()
        if type(t) is int:
            return True
        if type(t) is list:
            stack.extend(t)
    return False


class LoopSplits:
    """Program-wide state of ULoop: the source definitions (to find a step's
    invariant carries), the unzipped definitions so far (to follow a residual
    into a callee's residual tuple), the splits made so far (one per step,
    shared by its loops) and the wrapper definitions not yet placed."""

    def __init__(self, prog):
        self.defs = {d.name: d for d in prog.defs}
        self.names = set(self.defs)
        self.out: dict = {}
        self.made: dict = {}
        self.pending: list = []

    def record(self, defs) -> None:
        for d in defs:
            self.out[d.name] = d
            self.names.add(d.name)

    def take(self) -> list:
        out, self.pending = self.pending, []
        self.record(out)
        return out

    def _name(self, base: str) -> str:
        name, k = base, 1
        while name in self.names:
            k += 1
            name = f"{base}{k}"
        self.names.add(name)
        return name

    def split(self, step: str, nc: int, sig, sigs=None):
        """The InvariantSplit of ``step`` (None: no residual is an invariant carry)."""
        key = (step, nc)
        if key in self.made:
            return self.made[key]
        self.made[key] = None
        d = self.defs.get(step)
        if d is None or sig is None or sig.lin_trivial or sig.unknown_in or sig.unknown_out:
            return None
        env = {d.nl_params[i].name: i for i in invariant_carries(d, nc)}
        if not env:
            return None
        by_nl = {s.nl_name: s for s in (sigs or {}).values()}
        tree = self._tree(sig, env, by_nl)
        if not _has_invariant(tree):
            return None
        self.made[key] = sp = self._wrappers(d, sig, tree)
        self.pending.extend(sp.defs)
        return sp

    def _tree(self, sig, env, by_nl, depth=0):
        """The residual tree of ``sig``'s residual tuple, ``env``: the names of
        its definition that are invariant carries (name -> carry position).
        ``depth``: the calls between the step and this definition; calls are
        followed up to 16 deep, a residual tuple deeper is stacked whole."""
        nl_def = self.out.get(sig.nl_name)
        calls = {}
        if nl_def is not None and depth < 16:
            from linear_a.semantics.syntax import Call, iter_nodes
            for b in iter_nodes(nl_def.body):
                if type(b) is Let and type(b.rhs) is Call and b.nl and b.rhs.fn in by_nl:
                    calls[b.nl[-1]] = b.rhs
        tree = []
        for r in sig.residuals:
            if r in env:
                tree.append(env[r])
            elif r in calls:
                call = calls[r]
                csig = by_nl[call.fn]
                cdef = self.out.get(call.fn)
                cenv = {} if cdef is None else \
                    {p.name: env[a] for p, a in zip(cdef.nl_params, call.nl) if a in env}
                sub = self._tree(csig, cenv, by_nl, depth + 1) if cenv else None
                tree.append(sub if _has_invariant(sub) else None)
            else:
                tree.append(None)
        return tree

    def _wrappers(self, d, sig, tree):
        from linear_a.semantics.syntax import Block, Call, Def, Drop, NTup, NUnpack, Param, Ret, TupleType
        from .fresh import Fresh
        pos = d.pos
        carry = []                       # the invariant carry positions used, in order
        stack = [tree]
        while stack:
            t = stack.pop()
            if type(t) is int:
                if t not in carry:
                    carry.append(t)
            elif type(t) is list:
                stack.extend(reversed(t))
        vtys = []                        # the varying leaves' types, in tree order

        def leaves(t, ty):
            for sub, sty in zip(t, ty.items):
                if sub is None:
                    vtys.append(sty)
                elif type(sub) is list:
                    leaves(sub, sty)
        leaves(tree, sig.residual_type)
        R1 = TupleType(vtys)
        nl_name = self._name(sig.nl_name + "_inv")
        lin_name = self._name(sig.lin_name + "_inv")

        # g_nl_inv: unpack the residual tree, drop its invariant leaves, tuple the rest
        fr = Fresh()
        ps = [Param(fr(p.name), p.ty, pos) for p in d.nl_params]
        outs = [fr("o") for _ in range(len(d.nl_out))]
        w, w1 = fr("w"), fr("wv")
        binds = [Let(outs + [w], (), Call(sig.nl_name, [p.name for p in ps], (), pos), pos)]
        vary = []

        def unpack(t, src):
            rs = [fr("r") for _ in t]
            binds.append(NUnpack(rs, src, pos))
            for sub, r in zip(t, rs):
                if sub is None:
                    vary.append(r)
                elif type(sub) is list:
                    unpack(sub, r)         # (an unpack is the tuple's last use: freed there)
                else:
                    binds.append(Let((), (), Drop(r), pos))
        unpack(tree, w)
        binds.append(Let((w1,), (), NTup(vary), pos))
        nl_def = Def(nl_name, ps, [], list(d.nl_out) + [R1], [],
                     Block(binds, Ret(outs + [w1], (), pos), pos), pos)

        # g_lin_inv: rebuild the residual tree from the varying leaves and k̄
        fr = Fresh()
        ks = {i: fr(d.nl_params[i].name) for i in carry}
        w1 = fr("wv")
        ls = [Param(fr(p.name), p.ty, pos) for p in d.lin_params]
        rs = [fr("r") for _ in vtys]
        it = iter(rs)
        binds = [NUnpack(rs, w1, pos) if rs else Let((), (), Drop(w1), pos)]

        def build(t):
            parts = []
            for sub in t:
                if sub is None:
                    parts.append(next(it))
                elif type(sub) is list:
                    parts.append(build(sub))
                else:
                    parts.append(ks[sub])
            v = fr("w")
            binds.append(Let((v,), (), NTup(parts), pos))
            return v
        w = build(tree)
        zs = [fr("z") for _ in d.lin_out]
        binds.append(Let((), zs, Call(sig.lin_name, [w], [p.name for p in ls], pos), pos))
        kt = [d.nl_params[i].ty for i in carry]
        lin_def = Def(lin_name, [Param(ks[i], t, pos) for i, t in zip(carry, kt)] + [Param(w1, R1, pos)],
                      ls, kt, list(d.lin_out), Block(binds, Ret([ks[i] for i in carry], zs, pos), pos), pos)
        return InvariantSplit(nl_name, lin_name, tree, tuple(carry), R1, (nl_def, lin_def))


@rule("unzip", "ULoopInv",
      r"\mathsf{loop}\ N\ g(\bar x ; \dot{\bar y})\ \mathsf{over}\ (\bar a) \leadsto_U (\mathsf{let}\ (\bar r, \bar o, w ;) = \mathsf{loop}\ N\ g_{nl}'(\bar x ;)\ \mathsf{over}\ (\bar a)\ \mathsf{in}\ \square ; (\bar r, \bar o ;) ; \mathsf{let}\ (\bar k' ; \dot{\bar r}) = \mathsf{loop}\ N\ g_{lin}'(\bar x_K ; \dot{\bar y})\ \mathsf{over}\ (w)\ \mathsf{in}\ (; \dot{\bar r}))",
      [r"g \leadsto_U g_{nl}, g_{lin}", r"K = \{\, i \mid g \text{ returns its parameter } x_i \text{ unchanged at } i,\ x_i \in R \,\} \neq \emptyset",
       r"w : [R \setminus K; N],\ g_{lin}'(\bar k, w' ; \dot{\bar y}) = (\bar k ; g_{lin}(w' \cup \bar k ; \dot{\bar y}))"],
      "invariant carries are not stacked: the linear loop carries them, non-linear and unchanged, "
      "from the loop's inputs")
def ULoopInvariant(u, b: Let, split: InvariantSplit):
    from .unzip import _Item, _drop
    e = b.rhs
    w, head = _stacking_loop(u, b, split.nl_name, split.varying_type)
    ks = tuple(e.nl[i] for i in split.carry)
    kf = tuple(u.fresh(k + "_inv") for k in ks)
    for k, k1 in zip(ks, kf):
        u.nlty[k1] = u.nlty.get(k)
    tail = Let(kf, b.lin, Loop(e.n, split.lin_name, ks, e.lin, (w,), e.reverse, e.pos), b.pos)
    lin = (tail,) + tuple(_drop(k) for k in kf)
    return _Item(b, "ULoopInv", nl=(head,), ins=e.nl + e.over, outs=b.nl + (w,), lin=lin,
                 lin_reads=(w,) + ks)


# ----------------------------------------------------------------------------
# Transposition


@rule("transpose", "TLoop",
      r"\dot{\bar y} \Leftarrow \ddot{\bar z} \vdash \mathsf{loop}\ N\ g(; \dot{\bar y})\ \mathsf{over}\ (\bar a) \leadsto_T \mathsf{loop\ reverse}\ N\ g_T(; \ddot{\bar z})\ \mathsf{over}\ (\bar a)",
      [r"g \leadsto_T g_T"],
      "a linear loop transposes to the reversed loop of the transposed step, carrying cotangents")
def TLoop(cx, e: Loop, cts) -> Derivation:
    if e.nl:
        return TLoopInv(cx, e, cts)
    target = cx.need(e.fn)
    b = Let((), [cx.give(y) for y in e.lin],
            Loop(e.n, target, (), cts, e.over, not e.reverse, e.pos), e.pos)
    cx.out.append(b)
    return Derivation("transpose", "TLoop", e, [b])


@rule("transpose", "TLoopInv",
      r"\dot{\bar y} \Leftarrow \ddot{\bar z} \vdash \mathsf{loop}\ N\ g(\bar k ; \dot{\bar y})\ \mathsf{over}\ (\bar a) \leadsto_T \mathsf{loop\ reverse}\ N\ g_T(\bar k ; \ddot{\bar z})\ \mathsf{over}\ (\bar a)",
      [r"g \leadsto_T g_T", r"g(\bar k, \ldots) \text{ returns } \bar k \text{ unchanged (invariant carries; } g_T \text{ too)}"],
      "a linear loop whose non-linear carries are invariant transposes to the reversed loop carrying "
      "them unchanged beside the cotangents (their final values are their initial ones)")
def TLoopInv(cx, e: Loop, cts) -> Derivation:
    nc = len(e.nl)
    d = cx.defs.get(e.fn)
    if d is None or len(d.nl_out) != nc or len(invariant_carries(d, nc)) != nc:
        bad = [] if d is None else [e.nl[i] for i in range(nc) if i not in invariant_carries(d, nc)]
        cx.refuse(f"the loop of `{e.fn}` in `{cx.d.name}` carries non-linear values ("
                  f"{', '.join(bad or e.nl)}) inside linear code that its step does not return "
                  f"unchanged", e.pos)
    cx.steps.add(e.fn)                # its transpose returns those carries unchanged too
    target = cx.need(e.fn)
    ks = [cx.fresh(k + "_T") for k in e.nl]
    b = Let(ks, [cx.give(y) for y in e.lin],
            Loop(e.n, target, e.nl, cts, e.over, not e.reverse, e.pos), e.pos)
    out = [b] + [Let((), (), Drop(k), e.pos) for k in ks]
    cx.out.extend(out)
    return Derivation("transpose", "TLoopInv", e, out)


# ----------------------------------------------------------------------------
# Unrolling (the reference the loop rules are tested against)


def unroll_loops(prog):
    """A copy of the program with every loop replaced by N calls of its step
    function, one after another (loops that read or stack arrays are
    refused).  The loop-free program the loop rules are tested against; its
    size grows with N."""
    from linear_a.semantics.errors import LinearAError
    from linear_a.semantics.syntax import Def, Program
    from .fresh import Fresh, def_names
    out = []
    for d in prog.defs:
        fresh = Fresh(def_names(d))
        try:
            body = _unroll_expr(d.body, fresh)
        except LinearAError as e:
            raise e.located(prog.file)
        out.append(d if body is d.body else
                   Def(d.name, d.nl_params, d.lin_params, d.nl_out, d.lin_out, body, d.pos))
    return Program(out, prog.file)


def _unroll_expr(e, fresh):
    """e with its loops unrolled (a loop over each chain; recursion on the
    nesting of right-hand sides only)."""
    from linear_a.semantics.syntax import Block, Ret
    if type(e) is Loop:
        names = [fresh("r") for _ in range(len(e.nl))]
        lins = [fresh("s") for _ in range(len(e.lin))]
        return Block(_unrolled(Let(names, lins, e, e.pos), fresh), Ret(names, lins, e.pos), e.pos)
    if type(e) is not Block:
        return e
    binds, changed = [], False
    for b in e.binds:
        if type(b) is Let and type(b.rhs) is Loop:
            binds.extend(_unrolled(b, fresh))
            changed = True
        elif type(b) is Let and type(b.rhs) is Block:
            rhs = _unroll_expr(b.rhs, fresh)
            changed |= rhs is not b.rhs
            binds.append(b if rhs is b.rhs else Let(b.nl, b.lin, rhs, b.pos, b.nl_ty, b.lin_ty))
        else:
            binds.append(b)
    tail = _unroll_expr(e.tail, fresh)
    if not changed and tail is e.tail:
        return e
    return Block(binds + (tail.binds if type(tail) is Block else []),
                 tail.tail if type(tail) is Block else tail, e.pos)


def _unrolled(b: Let, fresh):
    from linear_a.semantics.syntax import Call, Ret
    e = b.rhs
    if e.over or len(b.nl) != len(e.nl):
        raise TransformError("unroll: only loops without arrays (no `over`, no stacked outputs) "
                             "unroll", e.pos, rule="Loop")
    if e.reverse:
        raise TransformError("unroll: a reverse loop without arrays is a forward loop; write it so",
                             e.pos, rule="Loop")
    nl, lin = list(e.nl), list(e.lin)
    binds = []
    for _ in range(e.n):
        nl2 = [fresh(x) for x in b.nl]
        lin2 = [fresh(y) for y in b.lin]
        binds.append(Let(nl2, lin2, Call(e.fn, nl, lin, e.pos), b.pos))
        nl, lin = nl2, lin2
    binds.append(Let(b.nl, b.lin, Ret(nl, lin, e.pos), b.pos, b.nl_ty, b.lin_ty))
    return binds
