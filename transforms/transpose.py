r"""Transposition of linear code (SPEC §9): ``Δ ⇐ Δ̈ ⊢ e ⇝T t``.

On definitions::

    def f(x̄ ; ȳ) -> (; σ̄) = e   ⟼   def f_T(x̄ ; ct̄ : σ̄) -> (; types of ȳ) = t

Contract.
* Input: a well-typed program (typechecked here, cached on the program; with
  ``trusted=True`` -- output of this project's transformations -- classes and
  types are read off the binders instead).  A definition transposes when it
  has no non-linear results; every ``let`` in it is either *non-linear* (no
  linear results, reads no linear variable) or *linear* (no non-linear
  results).  Unzip's output has this shape.  Anything else is a
  :class:`TransformError`.
* Output: ``f_T`` for each requested definition and for every definition it
  calls in linear position, plus the (untransformed) definitions its
  non-linear code calls, callees first.  ``f_T`` computes the adjoint:
  ⟨ct, f(x̄; ẏ)⟩ = ⟨f_T(x̄; ct), ẏ⟩.
* Cost: each linear form is replaced by its dual (``+.`` ↔ ``dup``,
  ``zero`` ↔ ``drop``, ``*.`` ↔ ``*.``, tuple ↔ unpack, call ↔ call of the
  transpose), so W(f_T) under ``Costs.dual()`` equals W(f), and |f_T| is
  linear in |f|.

How it runs (one definition).
1. *Flatten.*  The body is read as one list of bindings in evaluation order,
   a linear ``let`` whose right-hand side is a chain contributing that chain's
   bindings and then ``let (;k̄) = tail`` (binders are distinct within a
   definition, so this is only a change of scope).
2. *Front.*  Non-linear bindings (TLetNonLin, TNUnpack) are collected, in
   order: they only read non-linear variables, which are all bound by earlier
   non-linear bindings or parameters.
3. *Backwards.*  The order bookkeeping is one map ``ct`` from a linear
   variable to the variable holding its cotangent.  The tail's outputs get the
   cotangent parameters; then the linear bindings are visited last to first:
   ``let (;k̄) = e1`` takes (and removes) ``ct[k̄]`` -- present because every
   linear variable is used exactly once, later -- and the rule for e1 emits its
   transpose, producing a fresh cotangent for each linear input of e1 and
   recording it in ``ct``.  Emitting in visiting order is already the right
   execution order for the transposed code.
4. *Return.*  ``(; ct[y1], …, ct[ym])``: the cotangents in Δ's order, i.e. the
   order of f's linear parameters.
5. *Schedule* (TSched).  The collected non-linear bindings are interleaved
   with the transposed code: each value-binding let runs just before the
   first transposed binding that reads it, unpacks and drops as early as
   what they read allows.  So a binding unzip recomputes lives only as long
   as its readers need it, and M of the result follows the unzip choice.
   Under save-all only the residual unpack and drops are collected; they
   stay first and the output is the one the fast path prints.

Derivations: each rule below returns ``Derivation("transpose", rule, subject,
result, premises)`` whose result is the list of output bindings it emitted
(empty for TRet: a return only renames cotangents).  A definition's ``TDef``
node (result: the output ``Def``) has the bindings' derivations, in the
original order, then the tail's.
"""
from __future__ import annotations

from linear_a.semantics.derivation import Derivation
from linear_a.semantics.errors import LinearAError, TransformError
from linear_a.semantics.evaluate import _typing_info
from linear_a.semantics.rules import rule
from linear_a.semantics.syntax import (REAL, Block, Call, Def, Drop, Dup, LAdd, Let, Lit, LTup, LUnpack,
                              NTup, NUnpack, Param, Prim, Program, Ret, Scale, TupleType, Zero,
                              free_vars, iter_nodes, leaf_uses, Loop)

from .fresh import Fresh, def_names, paused_gc
from .loops import TLoop, invariant_carries, loop_result_types

SUFFIX = "_T"


def cotangent_base(x: str) -> str:
    return "ct_" + x


class TContext:
    """State for one definition: the cotangent map and the output lists."""
    __slots__ = ("d", "env", "fresh", "ct", "front", "out", "need", "file", "defs", "steps")

    def __init__(self, d: Def, env: dict, need, file=None, defs=None, steps=None):
        self.d = d
        self.env = env                      # var -> (linear?, type), from the typing judgment
        self.fresh = Fresh(def_names(d))
        self.ct: dict[str, str] = {}        # linear var -> its cotangent var
        self.front: list = []               # non-linear bindings, in order
        self.out: list = []                 # transposed linear bindings, in execution order
        self.need = need                    # callee name -> name of its transpose
        self.file = file
        self.defs = defs or {}              # the program's definitions (TLoop reads its step)
        self.steps = steps if steps is not None else set()   # steps of loops with invariant carries

    def refuse(self, msg: str, pos) -> None:
        raise TransformError(msg, pos, file=self.file, rule="TDef",
                             hint="transposition needs linear code with no non-linear results "
                                  "(unzip a linearized program first)")

    def give(self, x: str) -> str:
        """A fresh cotangent variable for the linear input x: ct[x] := ct_x."""
        c = self.fresh(cotangent_base(x))
        self.ct[x] = c
        return c

    def take(self, k: str) -> str:
        """The cotangent of k, produced by the (later) code that used k."""
        c = self.ct.pop(k, None)
        if c is None:
            raise TransformError(f"internal: linear variable `{k}` of `{self.d.name}` has no "
                                 f"cotangent (was it used exactly once?)", None, file=self.file,
                                 rule="TLetLin")
        return c

    def is_linear(self, v: str) -> bool:
        return self.env[v][0]


# ----------------------------------------------------------------------------
# Rules for linear leaves ``let (;k̄) = e`` given the cotangents ``cts`` of k̄.


@rule("transpose", "TRet",
      r"\dot{\bar y} \Leftarrow \ddot{\bar y} \vdash (; \dot{\bar y}) \leadsto_T (; \ddot{\bar y})",
      [], "a return hands each output's cotangent to the variable returned there (a permutation)")
def TRet(cx: TContext, e: Ret, cts) -> Derivation:
    if e.nl:
        cx.refuse(f"`{cx.d.name}` returns non-linear values inside linear code", e.pos)
    for y, c in zip(e.lin, cts):
        cx.ct[y] = c
    return Derivation("transpose", "TRet", e, [])


@rule("transpose", "TDup",
      r"\dot l \Leftarrow \ddot y_1, \ddot y_2 \vdash \mathsf{dup}(\dot l) \leadsto_T \ddot y_1 \mathbin{+.} \ddot y_2",
      [], "fan-out transposes to addition")
def TDup(cx: TContext, e: Dup, cts) -> Derivation:
    b = Let((), (cx.give(e.l),), LAdd(cts[0], cts[1]), e.pos)
    cx.out.append(b)
    return Derivation("transpose", "TDup", e, [b])


@rule("transpose", "TLinAdd",
      r"\dot l_1, \dot l_2 \Leftarrow \ddot y \vdash \dot l_1 \mathbin{+.} \dot l_2 \leadsto_T \mathsf{dup}(\ddot y)",
      [], "addition transposes to fan-out")
def TLinAdd(cx: TContext, e: LAdd, cts) -> Derivation:
    b = Let((), (cx.give(e.a), cx.give(e.b)), Dup(cts[0]), e.pos)
    cx.out.append(b)
    return Derivation("transpose", "TLinAdd", e, [b])


@rule("transpose", "TZero",
      r"\emptyset \Leftarrow \ddot y \vdash \mathsf{zero} : \sigma \leadsto_T \mathsf{drop}(\ddot y)",
      [], "zero transposes to discarding the cotangent")
def TZero(cx: TContext, e: Zero, cts) -> Derivation:
    b = Let((), (), Drop(cts[0]), e.pos)
    cx.out.append(b)
    return Derivation("transpose", "TZero", e, [b])


@rule("transpose", "TDropLin",
      r"\dot l \Leftarrow \emptyset \vdash \mathsf{drop}(\dot l : \sigma) \leadsto_T \mathsf{zero} : \sigma",
      [], "discarding a linear value transposes to a zero cotangent")
def TDropLin(cx: TContext, e: Drop, cts) -> Derivation:
    ty = cx.env[e.v][1]
    if ty is None or not _known(ty):
        raise _UnknownType()
    b = Let((), (cx.give(e.v),), Zero(ty), e.pos)
    cx.out.append(b)
    return Derivation("transpose", "TDropLin", e, [b])


@rule("transpose", "TScale",
      r"\dot l \Leftarrow \ddot y \vdash x \mathbin{*.} \dot l \leadsto_T x \mathbin{*.} \ddot y",
      [], "scaling is self-adjoint")
def TScale(cx: TContext, e: Scale, cts) -> Derivation:
    b = Let((), (cx.give(e.l),), Scale(e.x, cts[0]), e.pos)
    cx.out.append(b)
    return Derivation("transpose", "TScale", e, [b])


@rule("transpose", "TLinTup",
      r"\dot{\bar l} \Leftarrow \ddot y \vdash (\dot{\bar l}) \leadsto_T \mathsf{let}\ (\ddot{\bar l}) = \ddot y\ \mathsf{in}\ (; \ddot{\bar l})",
      [], "building a linear tuple transposes to unpacking its cotangent")
def TLinTup(cx: TContext, e: LTup, cts) -> Derivation:
    b = LUnpack([cx.give(x) for x in e.args], cts[0], e.pos)
    cx.out.append(b)
    return Derivation("transpose", "TLinTup", e, [b])


@rule("transpose", "TCall",
      r"\dot{\bar y} \Leftarrow \ddot{\bar z} \vdash f(\bar x ; \dot{\bar y}) \leadsto_T f_T(\bar x ; \ddot{\bar z})",
      [r"f \leadsto_T f_T"], "a call calls the callee's transpose")
def TCall(cx: TContext, e: Call, cts) -> Derivation:
    target = cx.need(e.fn)
    b = Let((), [cx.give(y) for y in e.lin], Call(target, e.nl, cts, e.pos), e.pos)
    cx.out.append(b)
    return Derivation("transpose", "TCall", e, [b])


class _UnknownType(Exception):
    """A dropped linear value whose type a trusted pass could not read off."""


def _known(ty) -> bool:
    if type(ty) is TupleType:
        return all(t is not None and _known(t) for t in ty.items)
    return ty is not None and type(ty).__name__ != "TVar"


def TDrop(cx: TContext, e: Drop, cts) -> Derivation:
    if not cx.is_linear(e.v):
        cx.refuse("internal: a non-linear drop reached the linear part", e.pos)
    return TDropLin(cx, e, cts)


LEAF_RULES = {Ret: TRet, Dup: TDup, LAdd: TLinAdd, Zero: TZero, Drop: TDrop, Scale: TScale,
              LTup: TLinTup, Call: TCall, Loop: TLoop}


def _leaf(cx: TContext, e, cts) -> Derivation:
    r = LEAF_RULES.get(type(e))
    if r is None:
        cx.refuse(f"`{cx.d.name}` computes a non-linear `{type(e).__name__}` inside linear code", e.pos)
    return r(cx, e, cts)


# ----------------------------------------------------------------------------
# Bindings.


@rule("transpose", "TLetLin",
      r"\Delta_1, \Delta_2 \Leftarrow \ddot{\Delta} \vdash \mathsf{let}\ (;\dot{\bar k}) = e_1\ \mathsf{in}\ e_2 \leadsto_T \mathsf{let}\ (; \ddot{\Delta}_2, \ddot{\bar k}) = t_2\ \mathsf{in}\ t_1",
      [r"\Delta_2, \dot{\bar k} \Leftarrow \ddot{\Delta} \vdash e_2 \leadsto_T t_2",
       r"\Delta_1 \Leftarrow \ddot{\bar k} \vdash e_1 \leadsto_T t_1"],
      "linear let: transpose the body first, then the right-hand side with k̄'s cotangents as its outputs")
def TLetLin(cx: TContext, b: Let) -> Derivation:
    cts = [cx.take(k) for k in b.lin]
    start = len(cx.out)
    prem = _leaf(cx, b.rhs, cts)
    return Derivation("transpose", "TLetLin", b, cx.out[start:], [prem])


@rule("transpose", "TLetNonLin",
      r"\Delta \Leftarrow \ddot\Delta \vdash \mathsf{let}\ (\bar x;) = e_1\ \mathsf{in}\ e_2 \leadsto_T \mathsf{let}\ (\bar x;) = e_1\ \mathsf{in}\ t_2",
      [r"\Delta \Leftarrow \ddot\Delta \vdash e_2 \leadsto_T t_2"],
      "a non-linear let is kept unchanged; TSched places it before its first reader")
def TLetNonLin(cx: TContext, b: Let) -> Derivation:
    cx.front.append(b)
    return Derivation("transpose", "TLetNonLin", b, [b])


@rule("transpose", "TNUnpack",
      r"\Delta \Leftarrow \ddot\Delta \vdash \mathsf{let}\ (\bar y) = x\ \mathsf{in}\ e \leadsto_T \mathsf{let}\ (\bar y) = x\ \mathsf{in}\ t",
      [r"\Delta \Leftarrow \ddot\Delta \vdash e \leadsto_T t"],
      "a non-linear unpack is kept; TSched places it right after its source")
def TNUnpack(cx: TContext, b: NUnpack) -> Derivation:
    cx.front.append(b)
    return Derivation("transpose", "TNUnpack", b, [b])


@rule("transpose", "TLUnpack",
      r"\Delta, \dot l \Leftarrow \ddot\Delta \vdash \mathsf{let}\ (\dot{\bar k}) = \dot l\ \mathsf{in}\ e \leadsto_T \mathsf{let}\ (;\ddot\Delta, \ddot{\bar k}) = t\ \mathsf{in}\ (; \ddot\Delta, (\ddot{\bar k}))",
      [r"\Delta, \dot{\bar k} \Leftarrow \ddot\Delta \vdash e \leadsto_T t"],
      "unpacking a linear tuple transposes to building the tuple of cotangents")
def TLUnpack(cx: TContext, b: LUnpack) -> Derivation:
    cts = [cx.take(k) for k in b.names]
    nb = Let((), (cx.give(b.src),), LTup(cts, b.pos), b.pos)
    cx.out.append(nb)
    return Derivation("transpose", "TLUnpack", b, [nb])


def _reads_linear(cx: TContext, e) -> bool:
    if type(e) is not Block:
        return any(cx.env[v][0] for v in leaf_uses(e))
    for n in iter_nodes(e):
        uses = (n.src,) if type(n) in (NUnpack, LUnpack) else () if type(n) is Let else leaf_uses(n)
        if any(cx.env[v][0] for v in uses):
            return True
    return False


def _flatten(cx: TContext, body):
    """The body's bindings in evaluation order, each tagged with its rule, and a
    tail ``Ret``.  The chain of a right-hand side that touches linear code is
    spliced in (``let (x̄;k̄) = (b̄ in t)`` reads as ``b̄; let (x̄;k̄) = t`` -- binders
    are distinct within a definition, so nothing is captured), a let that
    binds both classes from a return is split in two (``let (x̄;) = (ū;)`` stays
    in front, ``let (;k̄) = (;v̄)`` transposes), and a tail other than a return
    becomes ``let (;k̄) = tail in (;k̄)``."""
    out = []
    stack = [(iter(body.binds if type(body) is Block else ()), None)]
    while stack:
        it, after = stack[-1]
        b = next(it, None)
        if b is None:
            stack.pop()
            if after is not None:
                _add_let(cx, out, after)
            continue
        tb = type(b)
        if tb is NUnpack:
            out.append((TNUnpack, b))
        elif tb is LUnpack:
            out.append((TLUnpack, b))
        elif type(b.rhs) is Block and (b.lin or _reads_linear(cx, b.rhs)):
            stack.append((iter(b.rhs.binds), Let(b.nl, b.lin, b.rhs.tail, b.pos)))
        else:
            _add_let(cx, out, b)
    tail = body.tail if type(body) is Block else body
    if type(tail) is not Ret:
        ks = [cx.fresh("k") for _ in cx.d.lin_out]
        b = Let((), ks, tail, tail.pos)
        out.append((_classify(cx, b), b))
        tail = Ret((), ks, tail.pos)
    if tail.nl:
        if cx.d.name not in cx.steps or len(invariant_carries(cx.d, len(tail.nl))) != len(tail.nl):
            cx.refuse(f"`{cx.d.name}` returns non-linear values", tail.pos)
        tail = Ret((), tail.lin, tail.pos)   # a loop step's invariant carries: returned as they came
    return out, tail


def _add_let(cx: TContext, out: list, b: Let):
    """Tag a let with its rule; a return binding both classes is split in two."""
    if b.nl and b.lin and type(b.rhs) is Ret:
        nl = Let(b.nl, (), Ret(b.rhs.nl, (), b.rhs.pos), b.pos)
        out.append((_classify(cx, nl), nl))
        b = Let((), b.lin, Ret((), b.rhs.lin, b.rhs.pos), b.pos)
    out.append((_classify(cx, b), b))


def _classify(cx: TContext, b: Let):
    """TLetLin for a let with linear results or linear reads, else TLetNonLin."""
    if b.lin or _reads_linear(cx, b.rhs):
        if b.nl and type(b.rhs) is not Loop:        # a loop's invariant carries: TLoop checks them
            cx.refuse(f"a let in `{cx.d.name}` binds non-linear results ({', '.join(b.nl)}) from "
                      f"linear code", b.pos)
        return TLetLin
    return TLetNonLin


# ----------------------------------------------------------------------------
# Scheduling: lifetimes follow the unzip choice.


def _reads(b) -> tuple:
    """The variables one binding reads (inside a nested right-hand side too)."""
    if type(b) is not Let:
        return (b.src,)
    rhs = b.rhs
    if type(rhs) is Block:
        return tuple(free_vars(rhs))
    return leaf_uses(rhs)


def _binds(b) -> tuple:
    return b.nl + b.lin if type(b) is Let else tuple(b.names)


def sched_slots(front: list, out: list, binds, reads, out_reads, is_drop, is_unpack) -> list:
    """TSched's slot of each binding of ``front`` (j: just before ``out[j]``;
    ``len(out)``: before the return), for any representation of bindings:
    ``binds(b)``/``reads(b)`` give what a front binding binds and reads,
    ``out_reads(b)`` what a transposed binding reads.  Shared by the reference
    rule and the fast path (``linear_a.transforms.flat.schedule``)."""
    n = len(front)
    bound_by: dict = {}
    for i, b in enumerate(front):
        for v in binds(b):
            bound_by[v] = i
    demand: list = [None] * n               # the earliest slot that reads the binding
    for j, b in enumerate(out):
        for v in out_reads(b):
            i = bound_by.get(v)
            if i is not None and demand[i] is None:
                demand[i] = j
    drop = [is_drop(b) for b in front]
    for i in range(n - 1, -1, -1):          # readers after the binding: already final
        d = demand[i]
        if d is None or drop[i]:
            continue
        for v in reads(front[i]):
            k = bound_by.get(v)
            if k is not None and (demand[k] is None or d < demand[k]):
                demand[k] = d
    slot = [0] * n
    for i, b in enumerate(front):           # forward: unpacks, drops, unread lets
        if demand[i] is not None and not drop[i] and not is_unpack(b):
            slot[i] = demand[i]
            continue
        s = 0
        for v in reads(b):
            k = bound_by.get(v)
            if k is not None and slot[k] > s:
                s = slot[k]
        slot[i] = s
    return slot


def interleave(front: list, out: list, slot: list) -> list:
    """``front``'s bindings placed in their slots among ``out``'s (ties in front's order)."""
    groups: list[list] = [[] for _ in range(len(out) + 1)]
    for i, b in enumerate(front):
        groups[slot[i]].append(b)
    binds = []
    for j, b in enumerate(out):
        binds.extend(groups[j])
        binds.append(b)
    binds.extend(groups[len(out)])
    return binds


@rule("transpose", "TSched",
      r"\mathsf{sched}(F ; L_1 \cdots L_m) = F_1\, L_1\, F_2\, L_2 \cdots F_m\, L_m\, F_{m+1}",
      [r"F_j = \{\, b \in F \mid b \text{ binds values},\ \min\{\, i \mid L_i \text{ or a } b' \in F_i \text{ reads } b \,\} = j \,\}"
       r" \cup \{\, b \in F \mid b \text{ an unpack or a drop, placed with what it reads} \,\}",
       r"\text{each } F_j \text{ in the order of } F"],
      "a non-linear binding of the transposed code runs just before the first binding that reads "
      "it; unpacks and non-linear drops run as early as what they read allows")
def TSched(front: list, out: list, subject=None) -> Derivation:
    """Interleave the non-linear bindings ``front`` (in order, as TLetNonLin and
    TNUnpack collected them) with the transposed linear bindings ``out`` (in
    execution order) so that each value-binding ``let`` runs as late as
    possible: in *slot* j, just before ``out[j]``, the first linear binding
    that reads one of its results directly or through non-linear bindings that
    are themselves placed (slot ``len(out)``: before the return).  Unpacks and
    drops of non-linear values are placed as *early* as possible -- an unpack
    right after the binding of its source, a drop right after the binding of
    what it drops -- since both only pass values on or free them (W = 0), so
    moving them earlier never lengthens a lifetime.  A ``let`` none of whose
    results is read except by drops is placed like a drop.

    Why it changes no value and no W: it is a permutation of the bindings that
    keeps every binding after the bindings it reads (slots are monotone along
    data dependence, ties kept in the order of ``front``, which is already a
    topological order), and binders are distinct, so each binding sees the
    same values; the multiset of evaluated forms is the same, so W is the
    same.  Checked by ``tests/test_sched.py`` and the theorem
    ``sched-invariance``.  Under save-all ``front`` holds the residual unpack
    and drops, which stay first, and the literals JVP writes again next to a
    scale (constants carry no tangent), each moved to just before its scale.

    Two linear passes over ``front`` and one over ``out``; no recursion."""
    slot = sched_slots(front, out, _binds, _reads, _reads,
                       lambda b: type(b) is Let and type(b.rhs) is Drop, lambda b: type(b) is NUnpack)
    binds = interleave(front, out, slot)
    moved = sum(1 for k in slot if k != 0)
    subject = (front, out) if subject is None else subject
    return Derivation("transpose", "TSched", subject, binds, notes={"slots": slot, "moved": moved})


# ----------------------------------------------------------------------------
# Definitions and programs.


@rule("transpose", "TDef",
      r"\mathsf{def}\ f(\bar x ; \dot{\bar y}) \to (; \bar\sigma) = e \leadsto_T \mathsf{def}\ f_T(\bar x ; \ddot{\bar z} : \bar\sigma) \to (; \Delta(\dot{\bar y})) = t",
      [r"\dot{\bar y} \Leftarrow \ddot{\bar z} \vdash e \leadsto_T t"],
      "a definition with no non-linear results transposes; cotangents come back in parameter order")
def transpose_def(d: Def, env: dict, need, new_name: str, file=None,
                  derive: bool = True, defs=None, steps=None) -> Derivation:
    """Transpose one definition.  ``env``: its typing environment (class and type
    of every variable); ``need(g)``: the name of g's transpose (for calls).
    ``derive=False``: the TDef node keeps no per-binding premises."""
    keep = ()
    if d.nl_out and d.name in (steps or ()) and len(invariant_carries(d, len(d.nl_out))) == len(d.nl_out):
        keep = tuple(p.name for p in d.nl_params[:len(d.nl_out)])   # a step returning its
    elif d.nl_out:                                                  # invariant carries unchanged
        raise TransformError(f"cannot transpose `{d.name}`: it has non-linear results "
                             f"({', '.join(map(repr, d.nl_out))})", d.pos, file=file, rule="TDef",
                             hint="only functions with purely linear results transpose; unzip first")
    cx = TContext(d, env, need, file, defs, steps)
    binds, tail = _flatten(cx, d.body)
    many = len(d.lin_out) > 1
    cparams = [Param(cx.fresh(cotangent_base(f"out{i + 1}" if many else "out")), ty)
               for i, ty in enumerate(d.lin_out)]
    tail_dv = TRet(cx, tail, [p.name for p in cparams])
    premises = [None] * len(binds) if derive else None   # in source order
    rebound, folded = [], []
    for i in range(len(binds) - 1, -1, -1):          # linear bindings, last to first
        r, b = binds[i]
        if r is not TLetNonLin and r is not TNUnpack:
            dv = r(cx, b)
            if derive:
                premises[i] = dv
    for i, (r, b) in enumerate(binds):                # non-linear ones, in order, in front
        if r is TLetNonLin or r is TNUnpack:
            dv = r(cx, b)
            if derive:
                premises[i] = dv
        elif type(b) is Let and b.nl:     # TLoop's invariant carries: final values = initial ones
            cx.front.append(Let(b.nl, (), Ret(b.rhs.nl, (), b.pos), b.pos))
            rebound.extend(b.nl)
    if rebound:
        folded = _only_dropped(cx, rebound)
    premises = premises + [tail_dv] if derive else [tail_dv]
    ret = Ret(keep, [cx.take(p.name) for p in d.lin_params], d.body.pos)
    if cx.ct:
        raise TransformError(f"internal: cotangents left over in `{d.name}`: {', '.join(cx.ct)}",
                             d.pos, file=file, rule="TDef")
    sched = TSched(cx.front, cx.out)
    body = Block(sched.result, ret, d.body.pos)
    out = Def(new_name, list(d.nl_params), cparams, list(d.nl_out), [p.ty for p in d.lin_params],
              body, d.pos)
    if derive:
        premises.append(sched)
    return Derivation("transpose", "TDef", d, out, premises,
                      notes={"front": cx.front, "sched": sched, "invariant_drops": folded})


def _only_dropped(cx: TContext, names) -> list:
    """The invariant carries a linear loop returns are usually only dropped: then
    their rebinding ``let (k̄' ;) = (k̄ ;)`` and those drops go (TLoopInv drops
    the transposed loop's own copies).  Returns the names so folded (recorded in
    the TDef node's notes: their TLetNonLin premises show drops that are gone)."""
    names = set(names)
    read = set()
    for b in cx.front + cx.out:
        if not (type(b) is Let and type(b.rhs) is Drop) and not (type(b) is Let and b.nl
                                                                and set(b.nl) <= names):
            read.update(v for v in _reads(b) if v in names)
    gone = names - read
    if not gone:
        return []
    front = []
    for b in cx.front:
        if type(b) is Let and type(b.rhs) is Drop and b.rhs.v in gone:
            continue
        if type(b) is Let and type(b.rhs) is Ret and b.nl and set(b.nl) <= names:
            keep = [i for i, v in enumerate(b.nl) if v not in gone]
            if not keep:
                continue
            b = Let([b.nl[i] for i in keep], (), Ret([b.rhs.nl[i] for i in keep], (), b.rhs.pos), b.pos)
        front.append(b)
    cx.front[:] = front
    return sorted(gone)


@rule("transpose", "Program", r"P \leadsto_T P'", [r"\mathsf{def}\ f \leadsto_T \mathsf{def}\ f_T"],
      "the requested definitions and their linear callees, callees first")
def transpose(prog: Program, names=None, trusted: bool = False, derive: bool = True) -> Derivation:
    """Transpose ``names`` (default: every definition without non-linear results)
    and what they call in linear code.  The result program also holds the
    untransformed definitions their non-linear code calls.

    The program is typechecked first (cached on it), which also gives each
    variable's class and type.  ``trusted=True`` (for output of this project's
    own transformations) skips that and reads classes and types off the
    binders and leaves instead (:func:`binder_env`).  ``derive=False``
    (``transpose_program``) keeps only the derivation's spine."""
    if trusted and getattr(prog, "_typing", None) is None:
        envs = _LazyEnvs(prog)
    else:
        try:
            _, envs = _typing_info(prog)
        except LinearAError as e:
            raise e.located(prog.file)
    defs = {d.name: d for d in prog.defs}
    if names is None:
        names = [d.name for d in prog.defs if not d.nl_out]
        if not names:
            raise TransformError("no function in this program transposes (each has non-linear results)",
                                 prog.defs[0].pos if prog.defs else None, file=prog.file, rule="TDef")
    for n in names:
        if n not in defs:
            raise TransformError(f"no function `{n}` in the program (defined: {', '.join(defs) or 'none'})",
                                 file=prog.file)
    done: dict[str, Derivation] = {}
    kept: set[str] = set()
    steps: set[str] = set()             # TLoopInv's steps: they return their invariant carries

    todo: list[str] = []                # definitions called from linear code, to transpose

    def need(name: str) -> str:
        """The name of ``name``'s transpose (a call from linear code), queuing
        ``name`` to be transposed.  A worklist, not a recursion: schedules such
        as binomial:S nest calls as deep as the chain is long."""
        new = name + SUFFIX
        if new in defs:
            raise TransformError(f"cannot name the transpose of `{name}` `{new}`: that name is taken",
                                 defs[new].pos, file=prog.file, rule="TDef")
        if name not in done:
            todo.append(name)
        return new

    def transpose_one(name: str) -> None:
        d = defs[name]
        new = need(name)
        try:
            dv = transpose_def(d, envs[name], need, new, prog.file, derive, defs, steps)
        except _UnknownType:
            dv = transpose_def(d, _typed_env(d, {e.name: e.signature for e in prog.defs}, prog.file),
                               need, new, prog.file, derive, defs, steps)
        except (KeyError, AttributeError, IndexError) as e:     # ill-typed input under trusted=True
            raise TransformError(f"transpose: `{name}` is not well typed ({type(e).__name__}: {e}); "
                                 f"typecheck it first", d.pos, file=prog.file, rule="TDef") from None
        done[name] = dv
        for b in dv.notes["front"]:
            if type(b) is Let:
                for n in iter_nodes(b.rhs):
                    if type(n) is Call or type(n) is Loop:
                        _keep(n.fn, defs, kept)

    with paused_gc():
        todo.extend(reversed(names))
        while todo:
            name = todo.pop()
            if name not in done:
                transpose_one(name)
    out_defs, premises = [], []
    for d in prog.defs:
        if d.name in kept:
            out_defs.append(d)
        if d.name in done:
            premises.append(done[d.name])
            out_defs.append(done[d.name].result)
    return Derivation("transpose", "Program", prog, Program(out_defs, prog.file), premises)


def transpose_program(prog: Program, names=None, trusted: bool = False) -> Program:
    return transpose(prog, names, trusted, derive=False).result


class _LazyEnvs(dict):
    """{definition name: binder_env} computed on demand."""

    def __init__(self, prog: Program):
        super().__init__()
        self.prog = prog
        self.sigs = {d.name: d.signature for d in prog.defs}

    def __missing__(self, name):
        env = binder_env(self.prog.get(name), self.sigs, self.prog.file)
        self[name] = env
        return env


def binder_env(d: Def, sigs: dict, file=None) -> dict:
    """Class and type of every variable of a *well-typed* definition, read off
    its binders (the class is the binder's side) and its leaves (the type a
    leaf produces), in one forward pass -- the typing judgment without its
    checks.  A ``zero`` with no annotation yields an unknown (None) type,
    which only matters if that value is dropped; then this falls back to the
    typing judgment."""
    env = {p.name: (False, p.ty) for p in d.nl_params}
    env.update((p.name, (True, p.ty)) for p in d.lin_params)
    stack = [d.body]
    while stack:
        e = stack.pop()
        if type(e) is not Block:
            continue
        for b in e.binds:
            tb = type(b)
            if tb is Let:
                rhs = b.rhs
                if type(rhs) is Block:
                    stack.append(rhs)
                    nl_t = b.nl_ty or (None,) * len(b.nl)
                    lin_t = b.lin_ty or (None,) * len(b.lin)
                    if None in nl_t or None in lin_t:
                        return _typed_env(d, sigs, file)
                else:
                    nl_t, lin_t = _leaf_types(rhs, env, sigs)
                for n, t in zip(b.nl, nl_t):
                    env[n] = (False, t)
                for n, t in zip(b.lin, lin_t):
                    env[n] = (True, t)
            else:
                lin, ty = env[b.src]
                for n, t in zip(b.names, ty.items):
                    env[n] = (lin, t)
    return env


def _leaf_types(e, env, sigs):
    t = type(e)
    if t is Prim or t is Lit:
        return (REAL,), ()
    if t is Scale:
        return (), (env[e.l][1],)
    if t is LAdd:
        return (), (env[e.a][1],)
    if t is Dup:
        ty = env[e.l][1]
        return (), (ty, ty)
    if t is Zero:
        return (), (e.ty,)
    if t is Drop:
        return (), ()
    if t is NTup:
        return (TupleType(env[x][1] for x in e.args),), ()
    if t is LTup:
        return (), (TupleType(env[x][1] for x in e.args),)
    if t is Ret:
        return tuple(env[x][1] for x in e.nl), tuple(env[x][1] for x in e.lin)
    if t is Call:
        s = sigs[e.fn]
        return s.nl_out, s.lin_out
    if t is Loop:
        return loop_result_types(e, sigs[e.fn])
    raise TransformError(f"cannot transpose a `{t.__name__}`", getattr(e, "pos", None))


def _typed_env(d: Def, sigs: dict, file=None) -> dict:
    from linear_a.semantics.typecheck import typecheck_def
    return typecheck_def(d, sigs, file=file).notes["env"]


def _calls(d: Def) -> list[str]:
    seen = []
    for n in iter_nodes(d.body):
        if (type(n) is Call or type(n) is Loop) and n.fn not in seen:
            seen.append(n.fn)
    return seen


def _keep(name: str, defs: dict, kept: set):
    todo = [name]
    while todo:
        n = todo.pop()
        if n in kept:
            continue
        kept.add(n)
        todo.extend(c for c in _calls(defs[n]) if c in defs)
