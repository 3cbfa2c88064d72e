r"""Unzipping: the judgment  e ⇝U (C ; eₙ ; eₗ)  and checkpointing (SPEC §8).

Unzipping is partial evaluation with non-linear = *known* and linear =
*unknown*.  It splits an expression into a non-linear binding context C (the
known computation, with a hole), the known results eₙ, and an expression eₗ
with no non-linear results that does the rest.  Correctness:
``C[let (x̄;) = eₙ in let (;ȳ) = eₗ in (x̄;ȳ)] ≡ e``.

Contract.
* Input: a well-typed program (any: JVP output, hand-written mixed code,
  purely non-linear or purely linear definitions).  Unless ``trusted=True``
  the program is typechecked first (the result is cached on the program).
* Output (``unzip(prog).result``): for every definition ``f`` (or those in
  ``names`` and their callees), callees first::

      def f(x̄ : τ̄ ; ȳ : σ̄) -> (τ̄' ; σ̄') = e
        ⟼  def f_nl(x̄ : τ̄ ;) -> (τ̄', R ;)              = C[… (x̄', w ;)]
            def f_lin(w : R ; ȳ : σ̄) -> (; σ̄')          = let (r̄) = w in eₗ

  ``w : R`` is the **residual tuple**: every non-linear variable of f that the
  linear part reads and that the checkpoint policy saves, in binding order
  (parameters first).  ``R = ()`` when the linear part reads none; then
  ``f_lin`` drops ``w`` instead of unpacking it.  Both halves are well typed
  (every non-linear variable used at least once: a result or value one half
  does not need is dropped there), and running ``f_nl`` then ``f_lin`` gives
  f's results exactly.
* Rules (each a function below, registered with ``@rule``): URet, ULet (a
  chain, n-ary), ULeaf, ULinLeaf, UNUnpack, ULUnpack, UCall, and for the
  policy's other choice URecompute / UCallRecompute; UUnknown for staging.
  ``unzip`` returns ``Derivation("unzip", "Program", prog, out_program,
  [UDef …])``; a UDef's premise is the ULet chain node, whose premises are one
  node per binding and then the tail's.  A node's result is the triple
  ``(C, eₙ, eₗ)``: for a binding, C is the tuple of bindings it put in
  ``f_nl`` and eₗ the tuple it put in ``f_lin`` (eₙ is None); for the tail
  and the chain, eₙ is the known ``Ret`` and eₗ the linear expression.

How it runs (linear time, no recursion on a chain's length).  Nested
right-hand sides are first flattened into the chain (binders are distinct,
so ``let p = (let b̄ in t) in e`` ≡ ``let b̄ in let p = t in e``).  One forward
pass classifies each binding with its rule (recording non-linear types and,
for staging, which variables depend on unknown inputs); the policy then
decides each *choice point* (non-linear binding, see ``checkpoint.py``).  One
**backward pass** computes, with two growing sets, which non-linear variables
each half still reads (``need_nl``, ``need_lin``): a saved binding whose
results the linear half reads contributes those results to the residuals; a
recomputed one is re-emitted in the linear half and its inputs become needed
there instead.  A final forward pass emits both halves.

Checkpointing.  *save* (ULet/UCall): the binding runs once, in ``f_nl``.
*recompute* (URecompute/UCallRecompute): it is emitted in ``f_lin`` in front
of the linear code that reads it (a non-linear let inside linear code: after
transposition it runs just before its first reader, TSched); it stays in ``f_nl`` only if the
non-linear half needs its results too.  For a call, ``f_lin`` calls ``g_nl``
again right before ``g_lin`` to rebuild g's residuals.

Work accounting (tested).  Under save-all every binding is emitted exactly
once and the administrative additions (residual tuple, unpack, drops of
non-linear values) cost 0, so W(f_nl) + W(f_lin) = W(f).  Under any policy
the extra work is exactly the work of the bindings emitted in *both* halves
(``notes["recomputed"]`` of each UDef); a recomputed binding needed only by
the linear half simply moves there.  :func:`unzip_costs` measures W and M.

Staging (general partial evaluation).  ``unknown={"f": {"x2"}}`` makes the
non-linear parameter ``x2`` of ``f`` unknown: it becomes a parameter of
``f_lin`` (after ``w``), every non-linear binding that depends on an unknown
value moves wholesale to ``f_lin`` (rule UUnknown), and f's non-linear results
that depend on it are returned by ``f_lin`` instead of ``f_nl``::

    f_nl(known x̄ ;) -> (known results, R ;)
    f_lin(w : R, unknown x̄ ; ȳ) -> (unknown results ; σ̄')

Dependence is followed through calls: a call ``g(x̄;ȳ)`` whose known-position
arguments depend on unknowns runs entirely in ``f_lin`` (as ``g_nl`` then
``g_lin``); a callee with its own unknown parameters takes them in ``g_lin``.
Checkpoint policies apply to the known bindings as usual.  With no unknown
inputs (the AD case) ``f_lin`` has no non-linear results and can be
transposed.  ``UnzipSig`` (in each UDef's notes and in
``notes["signatures"]``) records how f's inputs and results were split;
:func:`run_split` runs the two stages and reassembles f's results.
"""
from __future__ import annotations

from dataclasses import dataclass

from linear_a.semantics.derivation import Derivation
from linear_a.semantics.gcpause import paused_gc
from linear_a.semantics.errors import LinearAError, TransformError
from linear_a.semantics.evaluate import _typing_info, bind_args, evaluate, vsize
from linear_a.semantics.domains import get_domain
from linear_a.semantics.printer import show_bind_head, show_leaf
from linear_a.semantics.rules import register, rule
from linear_a.semantics.syntax import (REAL, Block, Call, Def, Drop, Dup, LAdd, Let, Lit, LTup,
                              LUnpack, NTup, NUnpack, Param, Prim, Program, Ret, Scale, TupleType,
                              Type, Zero, iter_nodes, Loop)

from .checkpoint import RECOMPUTE, SAVE, ChoicePoint, Policy, as_policy
from .fresh import Fresh
from .loops import LoopSplits, ULoop

NL_SUFFIX = "_nl"
LIN_SUFFIX = "_lin"
UNKNOWN = "unknown"      # the mode of a binding that depends on an unknown input


@dataclass(frozen=True)
class UnzipSig:
    """How ``source`` was split into ``nl_name`` and ``lin_name``."""
    source: str
    nl_name: str
    lin_name: str
    known_in: tuple          # indices of source's non-linear params taken by f_nl
    unknown_in: tuple        # … taken by f_lin, after w
    known_out: tuple         # indices of source's non-linear results returned by f_nl (before w)
    unknown_out: tuple       # … returned by f_lin
    residuals: tuple         # the names packed into w, in order
    residual_type: Type      # R
    lin_trivial: bool        # f_lin does nothing (no linear inputs/outputs/work, R = ())


def _drop(v: str) -> Let:
    return Let((), (), Drop(v))


# ----------------------------------------------------------------------------
# One binding of the flattened chain, as the forward pass classifies it.


class _Item:
    """A binding's two possible parts: ``nl`` (bindings computing the
    non-linear ``outs`` from ``ins``; the choice point) and ``lin`` (bindings
    that always go to the linear half, reading the non-linear ``lin_reads`` and
    binding the unknown non-linear ``lin_defs``)."""
    __slots__ = ("src", "rule", "nl", "ins", "outs", "lin", "lin_reads", "lin_defs", "point",
                 "mode", "in_nl", "in_lin", "nl_drops", "lin_drops", "res")

    def __init__(self, src, rule, nl=(), ins=(), outs=(), lin=(), lin_reads=(), lin_defs=()):
        self.src = src
        self.rule = rule
        self.nl = nl
        self.ins = ins
        self.outs = outs
        self.lin = lin
        self.lin_reads = lin_reads
        self.lin_defs = lin_defs
        self.point = None
        self.mode = SAVE
        self.in_nl = self.in_lin = False
        self.nl_drops = self.lin_drops = self.res = ()


# ----------------------------------------------------------------------------
# The rules.  Each classifies one binding (or the tail) into an _Item; the
# backward pass and the emitter implement the rules' conclusions uniformly.


@rule("unzip", "ULeaf", r"e \leadsto_U (\square ; e ; (;))",
      [r"e \text{ a non-linear leaf: literal, primitive, tuple, } \mathsf{drop}(x)"],
      "a non-linear leaf is known: it goes to the non-linear half")
def ULeaf(u: "_DefUnzipper", b: Let) -> _Item:
    rhs = b.rhs
    t = type(rhs)
    if t is Lit:
        ins = ()
    elif t is Drop:
        ins = (rhs.v,)
    else:
        ins = rhs.args
    if t is NTup:
        u.nlty[b.nl[0]] = TupleType(u.nlty[a] for a in ins)
    elif b.nl:
        u.nlty[b.nl[0]] = REAL
    return _Item(b, "ULeaf", nl=(b,), ins=ins, outs=b.nl)


register("unzip", "ULit",
         r"\mathsf{let}\ (x ;) = c\ \mathsf{in}\ e_2 \leadsto_U (C_2' ; n_2 ; l_2') \quad C_2' = \mathsf{let}\ (x;) = c\ \mathsf{in}\ C_2 \text{ if } C_2, n_2 \text{ read } x, \quad l_2' = \mathsf{let}\ (x;) = c\ \mathsf{in}\ l_2 \text{ if } l_2 \text{ reads } x",
         [r"e_2 \leadsto_U (C_2 ; n_2 ; l_2)"],
         "a literal is not a residual: it is written in the half that reads it, whatever the "
         "policy says; only one read by both halves (hand-written mixed code; JVP's outputs never "
         "have one) is the policy's choice, so that save-all still conserves work exactly")


@rule("unzip", "ULinLeaf", r"e \leadsto_U (\square ; (;) ; e)",
      [r"e \text{ a linear leaf: } \mathsf{zero}, \dot l_1 \mathbin{+.} \dot l_2, x \mathbin{*.} \dot l, "
       r"\mathsf{dup}(\dot l), (\dot{\bar l}), \mathsf{drop}(\dot l)"],
      "a linear leaf goes to the linear half (x *. l reads the non-linear x there)")
def ULinLeaf(u: "_DefUnzipper", b: Let) -> _Item:
    reads = (b.rhs.x,) if type(b.rhs) is Scale else ()
    return _Item(b, "ULinLeaf", lin=(b,), lin_reads=reads)


@rule("unzip", "URet", r"(\bar x ; \dot{\bar y}) \leadsto_U (\square ; (\bar x ;) ; (; \dot{\bar y}))", [],
      "a return splits into its known and its linear half")
def URet(u: "_DefUnzipper", b: Let) -> _Item:
    rhs = b.rhs
    for x, v in zip(b.nl, rhs.nl):
        u.nlty[x] = u.nlty[v]
    if not rhs.lin:
        return _Item(b, "URet", nl=(b,), ins=rhs.nl, outs=b.nl)
    if not rhs.nl:
        return _Item(b, "URet", lin=(b,))
    return _Item(b, "URet", nl=(Let(b.nl, (), Ret(rhs.nl, (), rhs.pos), b.pos),), ins=rhs.nl,
                 outs=b.nl, lin=(Let((), b.lin, Ret((), rhs.lin, rhs.pos), b.pos),))


@rule("unzip", "UNUnpack",
      r"\mathsf{let}\ (\bar y) = x\ \mathsf{in}\ e \leadsto_U (\mathsf{let}\ (\bar y) = x\ \mathsf{in}\ C ; n ; l)",
      [r"e \leadsto_U (C ; n ; l)"], "a non-linear unpack goes to the context C")
def UNUnpack(u: "_DefUnzipper", b: NUnpack) -> _Item:
    for n, t in zip(b.names, u.nlty[b.src].items):
        u.nlty[n] = t
    return _Item(b, "UNUnpack", nl=(b,), ins=(b.src,), outs=b.names)


@rule("unzip", "ULUnpack",
      r"\mathsf{let}\ (\dot{\bar k}) = \dot l\ \mathsf{in}\ e \leadsto_U (C ; n ; \mathsf{let}\ (\dot{\bar k}) = \dot l\ \mathsf{in}\ l)",
      [r"e \leadsto_U (C ; n ; l)"], "a linear unpack stays in the linear half")
def ULUnpack(u: "_DefUnzipper", b: LUnpack) -> _Item:
    return _Item(b, "ULUnpack", lin=(b,))


@rule("unzip", "UCall",
      r"f(\bar x ; \dot{\bar y}) \leadsto_U (\mathsf{let}\ (\bar r, w ;) = f_{nl}(\bar x ;)\ \mathsf{in}\ \square ; (\bar r ;) ; f_{lin}(w ; \dot{\bar y}))",
      [r"f \leadsto_U f_{nl}, f_{lin} \text{ (callees first)}", r"w \text{ fresh}"],
      "a call runs f_nl in the non-linear half and f_lin on its residuals in the linear half")
def UCall(u: "_DefUnzipper", b: Let) -> _Item:
    e = b.rhs
    sig = u.sigs.get(e.fn)
    if sig is None:
        raise TransformError(f"`{u.d.name}` calls `{e.fn}`, which is not unzipped before it", e.pos,
                             file=u.file, rule="UCall")
    out_tys = u.callee_out[e.fn]
    for x, t in zip(b.nl, out_tys):
        u.nlty[x] = t
    w = u.fresh("w_" + e.fn)
    u.nlty[w] = sig.residual_type
    r_known = tuple(b.nl[i] for i in sig.known_out)
    x_known = tuple(e.nl[i] for i in sig.known_in)
    head = Let(r_known + (w,), (), Call(sig.nl_name, x_known, (), e.pos), b.pos)
    if sig.lin_trivial:
        # g_lin does nothing: drop g's (empty) residual tuple right away.
        return _Item(b, "UCall", nl=(head, _drop(w)), ins=x_known, outs=r_known)
    r_unknown = tuple(b.nl[i] for i in sig.unknown_out)
    x_unknown = tuple(e.nl[i] for i in sig.unknown_in)
    tail = Let(r_unknown, b.lin, Call(sig.lin_name, (w,) + x_unknown, e.lin, e.pos), b.pos)
    return _Item(b, "UCall", nl=(head,), ins=x_known, outs=r_known + (w,), lin=(tail,),
                 lin_reads=(w,) + x_unknown, lin_defs=r_unknown)


# The policy's other choice, and staging: these name what the emitter does
# with a choice point's bindings; they need no classifier of their own.
register("unzip", "URecompute",
         r"\mathsf{let}\ (\bar x ;) = e_1\ \mathsf{in}\ e_2 \leadsto_U (C_1[\mathsf{let}\ (\bar x ;) = n_1\ \mathsf{in}\ C_2] ; n_2 ; C_1[\mathsf{let}\ (\bar x ;) = n_1\ \mathsf{in}\ l_2])",
         [r"e_1 \leadsto_U (C_1 ; n_1 ; (;))", r"e_2 \leadsto_U (C_2 ; n_2 ; l_2)", r"\text{policy: recompute}"],
         "recompute: the non-linear let is (also) emitted in front of the linear code; x̄ are not "
         "stored, e1's inputs are (the copy in the context is omitted when C2 and n2 do not read x̄)")
register("unzip", "UCallRecompute",
         r"\mathsf{let}\ (\bar r ; \dot{\bar s}) = f(\bar x ; \dot{\bar y})\ \mathsf{in}\ e_2 \leadsto_U (\mathsf{let}\ (\bar r, w ;) = f_{nl}(\bar x ;)\ \mathsf{in}\ \mathsf{drop}(w); C_2 ; n_2 ; \mathsf{let}\ (\bar r, w ;) = f_{nl}(\bar x ;)\ \mathsf{in}\ \mathsf{let}\ (; \dot{\bar s}) = f_{lin}(w ; \dot{\bar y})\ \mathsf{in}\ l_2)",
         [r"e_2 \leadsto_U (C_2 ; n_2 ; l_2)", r"\text{policy: recompute}"],
         "recompute a call: the caller's linear half calls f_nl again right before f_lin, so f's "
         "residuals are not stored (the first call is omitted when C2 and n2 do not read r̄)")
register("unzip", "UUnknown",
         r"\mathsf{let}\ (\bar x ;) = e_1\ \mathsf{in}\ e_2 \leadsto_U (C_2 ; n_2 ; \mathsf{let}\ (\bar x ;) = e_1\ \mathsf{in}\ l_2)",
         [r"e_1 \text{ reads an unknown variable}", r"e_2 \leadsto_U (C_2 ; n_2 ; l_2)"],
         "staging: a non-linear binding that depends on an unknown input moves to the second stage")


@rule("unzip", "ULet",
      r"\mathsf{let}\ (\bar x ; \dot{\bar y}) = e_1\ \mathsf{in}\ e_2 \leadsto_U (C_1[\mathsf{let}\ (\bar x ;) = n_1\ \mathsf{in}\ C_2] ; n_2 ; \mathsf{let}\ (; \dot{\bar y}) = l_1\ \mathsf{in}\ l_2)",
      [r"e_1 \leadsto_U (C_1 ; n_1 ; l_1)", r"e_2 \leadsto_U (C_2 ; n_2 ; l_2)"],
      "let (n-ary over a chain): contexts compose, linear halves chain; the policy's default is save")
def ULet(premises, nl_binds, known_ret, lin_expr, subject) -> Derivation:
    return Derivation("unzip", "ULet", subject, (tuple(nl_binds), known_ret, lin_expr), premises)


# ----------------------------------------------------------------------------
# One definition.


class _DefUnzipper:
    def __init__(self, d: Def, sigs: dict, callee_out: dict, policy: Policy, unknown: set,
                 file=None, derive: bool = True, loops=None):
        self.d = d
        self.loops = loops          # loops.LoopSplits (program-wide), or None: stack everything
        self.derive = derive        # False: the chain node keeps no per-binding premises
        self.sigs = sigs
        self.callee_out = callee_out
        self.policy = policy
        self.file = file
        self.fresh = None
        self.nlty: dict[str, Type] = {p.name: p.ty for p in d.nl_params}
        self.unknown = unknown
        self.tainted: set[str] = set(unknown)

    # -- flatten and classify -------------------------------------------------
    def flatten(self, e):
        """The chain's bindings with nested right-hand sides spliced in, and its
        tail normalized to a Ret; also sets up the fresh-name supply."""
        binds: list = []
        names = {p.name for p in self.d.params}
        if type(e) is Block:
            self._splice(e.binds, binds, names)
            tail = e.tail
        else:
            tail = e
        self.fresh = Fresh(names)
        if type(tail) is not Ret:
            d = self.d
            nl = tuple(self.fresh("r") for _ in d.nl_out)
            lin = tuple(self.fresh("s") for _ in d.lin_out)
            binds.append(Let(nl, lin, tail, tail.pos))
            tail = Ret(nl, lin, tail.pos)
        return binds, tail

    def _splice(self, src, out, names):
        add = names.update
        for b in src:
            if type(b) is Let:
                add(b.nl)
                add(b.lin)
                if type(b.rhs) is Block:
                    self._splice(b.rhs.binds, out, names)      # recursion on nesting depth only
                    b = Let(b.nl, b.lin, b.rhs.tail, b.pos, b.nl_ty, b.lin_ty)
            else:
                add(b.names)
            out.append(b)

    def classify(self, b) -> _Item:
        t = type(b)
        if t is Let:
            rt = type(b.rhs)
            if rt is Prim or rt is Lit or rt is NTup:
                return ULeaf(self, b)
            if rt is Scale or rt is LAdd or rt is Dup or rt is Zero or rt is LTup:
                return ULinLeaf(self, b)
            if rt is Drop:
                return ULeaf(self, b) if b.rhs.v in self.nlty else ULinLeaf(self, b)
            if rt is Ret:
                return URet(self, b)
            if rt is Call:
                return UCall(self, b)
            if rt is Loop:
                return ULoop(self, b)
            raise TransformError(f"unzip cannot handle a `{rt.__name__}` here", b.pos, file=self.file,
                                 rule="ULet")
        if t is NUnpack:
            return UNUnpack(self, b)
        if t is LUnpack:
            return ULUnpack(self, b)
        raise TransformError(f"unzip cannot handle a `{t.__name__}` binding", getattr(b, "pos", None),
                             file=self.file, rule="ULet")

    def choice_points(self, items) -> list:
        """Mark bindings that depend on unknown inputs; make the others' choice points."""
        points = []
        tainted = self.tainted
        name = self.d.name
        for it in items:
            if it.nl:
                if tainted and any(v in tainted for v in it.ins):
                    it.mode = UNKNOWN
                    tainted.update(it.outs)
                elif it.outs:
                    if it.rule == "ULeaf" and type(it.src.rhs) is Lit:
                        it.rule = "ULit"          # never a residual, whatever the policy says
                    b, r = it.src, it.rule
                    if r == "UCall":
                        cp = ChoicePoint(name, "call", b.nl, b.rhs.fn, len(points), b.pos)
                    elif r == "ULoop" or r == "ULoopInv":
                        cp = ChoicePoint(name, "loop", b.nl, b.rhs.fn, len(points), b.pos)
                    elif r == "UNUnpack":
                        cp = ChoicePoint(name, "unpack", b.names, None, len(points), b.pos)
                    else:
                        cp = ChoicePoint(name, "let", b.nl, None, len(points), b.pos)
                    it.point = cp
                    points.append(cp)
            if it.lin_defs:
                tainted.update(it.lin_defs)
        return points

    def decide(self, items, points, tail=None):
        pol = self.policy
        pol.plan(self.d.name, points)
        flow = getattr(pol, "plan_flow", None)     # a schedule that reads the dataflow (every:K)
        if flow is not None:
            flow(self.d, [(it.point, it.ins, it.outs, it.lin_reads) for it in items],
                 tail.nl if tail is not None else (), self.nlty)
        decide = pol.decide
        for it in items:
            if it.point is not None:
                m = decide(it.point)
                if m == SAVE:
                    continue
                if m != RECOMPUTE:
                    raise TransformError(f"policy {pol.describe()} answered {m!r} for {it.point}; "
                                         f"expected 'save' or 'recompute'", it.point.pos,
                                         file=self.file, rule="Policy")
                it.mode = RECOMPUTE

    @staticmethod
    def backward(items, need_nl: set, need_lin: set):
        """Which non-linear variables each half reads, walking the chain backwards.
        Fills each item's placement (in_nl, in_lin), residuals and drops."""
        for it in reversed(items):
            if it.lin:
                if it.lin_defs:
                    it.lin_drops = tuple(v for v in it.lin_defs if v not in need_lin)
                    need_lin.difference_update(it.lin_defs)
                need_lin.update(it.lin_reads)
                if not it.nl:
                    continue
            outs = it.outs
            if it.rule == "ULit" and not (outs[0] in need_lin and outs[0] in need_nl):
                it.mode = RECOMPUTE       # read by one half: it moves there, never stored
            if it.mode == SAVE:
                # ULet / UCall: runs in f_nl; results the linear half reads are residuals.
                it.in_nl = True
                if len(outs) == 1:
                    o = outs[0]
                    if o in need_lin:
                        it.res = outs
                        need_lin.discard(o)
                    elif o not in need_nl:
                        it.nl_drops = outs
                elif outs:
                    it.nl_drops = tuple(o for o in outs if o not in need_nl and o not in need_lin)
                    res = tuple(o for o in outs if o in need_lin)
                    if res:
                        it.res = res
                        need_lin.difference_update(res)
                need_nl.update(it.ins)
                continue
            # URecompute / UCallRecompute (or UUnknown: never in f_nl).
            in_lin = not outs or any(o in need_lin for o in outs)
            if it.mode == RECOMPUTE and any(o in need_nl for o in outs):
                it.in_nl = True
                it.nl_drops = tuple(o for o in outs if o not in need_nl)
                need_nl.update(it.ins)
            if in_lin:
                it.in_lin = True
                it.lin_drops = tuple(o for o in outs if o not in need_lin) + it.lin_drops
                need_lin.difference_update(outs)
                need_lin.update(it.ins)

    # -- the whole definition ---------------------------------------------------
    def run(self) -> Derivation:
        d = self.d
        binds, tail = self.flatten(d.body)
        items = [self.classify(b) for b in binds]
        points = self.points = self.choice_points(items)
        self.decide(items, points, tail)
        tainted = self.tainted
        known_ret = tuple(x for x in tail.nl if x not in tainted)
        unknown_ret = tuple(x for x in tail.nl if x in tainted)
        need_nl, need_lin = set(known_ret), set(unknown_ret)
        self.backward(items, need_nl, need_lin)

        # -- parameters --------------------------------------------------------
        known_params = [p for p in d.nl_params if p.name not in self.unknown]
        unknown_params = [p for p in d.nl_params if p.name in self.unknown]
        leftover = need_lin.difference(p.name for p in d.nl_params)
        if leftover:   # only possible for ill-typed input
            raise TransformError(f"unzip: `{d.name}` reads {', '.join(sorted(leftover))} before "
                                 f"binding them", d.pos, file=self.file, rule="ULet")
        residuals = [p.name for p in known_params if p.name in need_lin]
        nl_out = [_drop(p.name) for p in known_params
                  if p.name not in need_nl and p.name not in need_lin]
        lin_out = [_drop(p.name) for p in unknown_params if p.name not in need_lin]

        # -- forward pass: emit both halves, one derivation per binding ---------
        premises = []
        recomputed = []
        derive = self.derive
        for it in items:
            c0, l0 = len(nl_out), len(lin_out)
            if it.in_nl:
                nl_out.extend(it.nl)
                if it.nl_drops:
                    nl_out.extend([_drop(v) for v in it.nl_drops])
                if it.res:
                    residuals.extend(it.res)
            if it.in_lin:
                lin_out.extend(it.nl)
                if it.in_nl:
                    recomputed.extend(it.nl)
                if it.lin_drops:
                    lin_out.extend([_drop(v) for v in it.lin_drops if v not in it.lin_defs])
            if it.lin:
                lin_out.extend(it.lin)
                if it.lin_drops and it.lin_defs:
                    lin_out.extend([_drop(v) for v in it.lin_drops if v in it.lin_defs])
            if not derive:
                continue
            rule_name, notes = it.rule, None
            if it.rule == "ULit":
                pass
            elif it.point is not None:
                notes = {"choice": it.mode}
                if it.in_lin:
                    rule_name = "UCallRecompute" if rule_name == "UCall" else "URecompute"
            elif it.mode == UNKNOWN:
                rule_name = "UUnknown"
            premises.append(Derivation("unzip", rule_name, it.src,
                                       (tuple(nl_out[c0:]), None, tuple(lin_out[l0:])), (), notes))

        # -- the two definitions -----------------------------------------------
        w = self.fresh("w")
        R = TupleType(self.nlty[r] for r in residuals)
        known_ret_node = Ret(known_ret, ())
        lin_ret = Ret(unknown_ret, tail.lin, tail.pos)
        premises.append(Derivation("unzip", "URet", tail, ((), known_ret_node, lin_ret)))
        chain_dv = ULet(premises, nl_out, known_ret_node, Block(lin_out, lin_ret), d.body)
        nl_body = Block(nl_out + [Let((w,), (), NTup(residuals))], Ret(known_ret + (w,), ()), d.pos)
        head = NUnpack(residuals, w) if residuals else _drop(w)
        lin_body = Block([head] + lin_out, lin_ret, d.pos)

        nl_idx = {p.name: i for i, p in enumerate(d.nl_params)}
        unknown_in = tuple(nl_idx[p.name] for p in unknown_params)
        known_out = tuple(i for i, x in enumerate(tail.nl) if x not in tainted)
        unknown_out = tuple(i for i, x in enumerate(tail.nl) if x in tainted)
        sig = UnzipSig(d.name, d.name + NL_SUFFIX, d.name + LIN_SUFFIX,
                       tuple(nl_idx[p.name] for p in known_params), unknown_in,
                       known_out, unknown_out, tuple(residuals), R,
                       not lin_out and not d.lin_params and not d.lin_out and not unknown_in
                       and not unknown_out and not residuals)
        copy = lambda ps: [Param(p.name, p.ty, p.pos) for p in ps]
        f_nl = Def(sig.nl_name, copy(known_params), [], [d.nl_out[i] for i in known_out] + [R], [],
                   nl_body, d.pos)
        f_lin = Def(sig.lin_name, [Param(w, R, d.pos)] + copy(unknown_params), copy(d.lin_params),
                    [d.nl_out[i] for i in unknown_out], list(d.lin_out), lin_body, d.pos)
        return Derivation("unzip", "UDef", d, (f_nl, f_lin), [chain_dv],
                          notes={"sig": sig, "residuals": tuple(residuals), "residual_type": R,
                                 "recomputed": recomputed, "points": points})


@rule("unzip", "UDef",
      r"\mathsf{def}\ f(\bar x ; \dot{\bar y}) = e \leadsto_U f_{nl}(\bar x ;) = C[\mathsf{let}\ (\bar x' ;) = n\ \mathsf{in}\ (\bar x', (\bar r) ;)],\ f_{lin}(w ; \dot{\bar y}) = \mathsf{let}\ (\bar r) = w\ \mathsf{in}\ l",
      [r"e \leadsto_U (C ; n ; l)", r"\bar r = \text{the non-linear variables } l \text{ reads that } C \text{ binds or } \bar x"],
      "a definition: f_nl returns its results and, last, the residual tuple w; f_lin unpacks w")
def unzip_def(d: Def, sigs: dict, callee_out: dict, policy: Policy, unknown=(), file=None,
              derive: bool = True, loops=None) -> Derivation:
    return _DefUnzipper(d, sigs, callee_out, policy, set(unknown), file, derive, loops).run()


# ----------------------------------------------------------------------------
# Programs.


def _callees(d: Def) -> list[str]:
    return list(dict.fromkeys(n.fn for n in iter_nodes(d.body) if type(n) is Call or type(n) is Loop))


def _closure(prog: Program, names) -> set[str]:
    defs = {d.name: d for d in prog.defs}
    todo, seen = list(names), set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        if n not in defs:
            raise TransformError(f"no function `{n}` in the program (defined: "
                                 f"{', '.join(defs) or 'none'})", file=prog.file, rule="UDef")
        seen.add(n)
        todo.extend(_callees(defs[n]))
    return seen


def _check_unknown(prog: Program, unknown) -> dict:
    if not unknown:
        return {}
    if not isinstance(unknown, dict):
        raise TransformError("`unknown` must map function names to sets of non-linear parameter "
                             "names, e.g. {'f': {'x2'}}", rule="UDef")
    out = {}
    for fn, params in unknown.items():
        d = prog.get(fn)
        if d is None:
            raise TransformError(f"unknown inputs given for `{fn}`, which is not in the program",
                                 file=prog.file, rule="UDef")
        params = {params} if isinstance(params, str) else set(params)
        nl = {p.name for p in d.nl_params}
        lin = {p.name for p in d.lin_params}
        for p in sorted(params):
            if p in lin:
                raise TransformError(f"`{p}` is a linear parameter of `{fn}`; linear inputs are "
                                     f"always unknown", d.pos, file=prog.file, rule="UDef")
            if p not in nl:
                raise TransformError(f"`{fn}` has no non-linear parameter `{p}` (parameters: "
                                     f"{', '.join(sorted(nl)) or 'none'})", d.pos, file=prog.file,
                                     rule="UDef")
        out[fn] = params
    return out


@rule("unzip", "Program", r"P \leadsto_U P'",
      [r"\mathsf{def}\ f \leadsto_U f_{nl}, f_{lin} \text{ for every } f, \text{ callees first}"],
      "every (requested) definition is unzipped, callees before callers")
def unzip(prog: Program, policy=None, unknown=None, names=None, trusted: bool = False,
          derive: bool = True) -> Derivation:
    """Unzip ``prog`` (every definition, or ``names`` and their callees) under a
    checkpoint ``policy`` (a Policy, a policy string, or None = save-all).
    ``unknown`` = {fn: {non-linear param, …}} stages those inputs (see the module
    docstring).  ``trusted=True`` skips typechecking a program not yet checked
    (for output of this project's own transformations).

    Returns ``Derivation("unzip", "Program", prog, out_program, [UDef …],
    notes={"signatures": {f: UnzipSig}, "policy": str, "points": [ChoicePoint]})``;
    ``derive=False`` (``unzip_program``) leaves out the per-binding nodes."""
    pol = as_policy(policy)
    try:
        with paused_gc():   # builds no cycles; the collector's rescans of a 10^6-node program cost ~2x
            if not trusted or getattr(prog, "_typing", None) is not None:
                _typing_info(prog)
            unk = _check_unknown(prog, unknown)
            chosen = None if names is None else _closure(prog, [names] if isinstance(names, str) else names)
            sigs: dict[str, UnzipSig] = {}
            callee_out: dict[str, tuple] = {}
            premises, out_defs, points = [], [], []
            loops = LoopSplits(prog)
            for d in prog.defs:
                if chosen is not None and d.name not in chosen:
                    continue
                dv = unzip_def(d, sigs, callee_out, pol, unk.get(d.name, ()), prog.file, derive, loops)
                sigs[d.name] = dv.notes["sig"]
                callee_out[d.name] = tuple(d.nl_out)
                premises.append(dv)
                out_defs.extend(loops.take())      # ULoopInv's wrappers, before their first user
                loops.record(dv.result)
                out_defs.extend(dv.result)
                points.extend(dv.notes["points"])
            pol.check(points)
    except LinearAError as e:
        raise e.located(prog.file)
    except (KeyError, AttributeError, IndexError) as e:
        if not trusted:
            raise       # a well-typed program never gets here: an internal bug
        raise TransformError(f"unzip: the program is not well typed ({type(e).__name__}: {e}); "
                             f"typecheck it first", file=prog.file, rule="UDef")
    out = Program(out_defs, prog.file)
    return Derivation("unzip", "Program", prog, out, premises,
                      notes={"signatures": sigs, "policy": pol.describe(), "points": points})


def unzip_program(prog: Program, policy=None, unknown=None, names=None, trusted=False) -> Program:
    return unzip(prog, policy, unknown, names, trusted, derive=False).result


# ----------------------------------------------------------------------------
# Running the halves; work and memory.


@dataclass
class SplitRun:
    """f's results computed by running f_nl then f_lin, with W and M of each."""
    nl: tuple
    lin: tuple
    work_nl: int
    work_lin: int
    memory_nl: int
    memory_lin: int
    residual: object
    residual_size: int


def run_split(unzipped: Derivation, fn: str, args, domain="float", costs=None) -> SplitRun:
    """Run ``fn_nl`` then ``fn_lin`` of an unzip derivation on f's arguments
    ({param: value} or (nl, lin)) and reassemble f's results in f's order."""
    sigs = unzipped.notes["signatures"]
    sig = sigs.get(fn)
    if sig is None:
        raise TransformError(f"`{fn}` was not unzipped (unzipped: {', '.join(sigs) or 'none'})",
                             rule="UDef")
    src, out = unzipped.subject, unzipped.result
    dom = get_domain(domain)
    nl_vals, lin_vals = bind_args(src[fn], args, dom)
    r1 = evaluate(out, sig.nl_name, ([nl_vals[i] for i in sig.known_in], []), dom, costs)
    w = r1.nl[-1]
    r2 = evaluate(out, sig.lin_name, ([w] + [nl_vals[i] for i in sig.unknown_in], lin_vals), dom, costs)
    nl = [None] * (len(sig.known_out) + len(sig.unknown_out))
    for i, v in zip(sig.known_out, r1.nl[:-1]):
        nl[i] = v
    for i, v in zip(sig.unknown_out, r2.nl):
        nl[i] = v
    return SplitRun(tuple(nl), r2.lin, r1.work, r2.work, r1.memory, r2.memory, w, vsize(w))


@dataclass
class UnzipCosts:
    """W and M of f_nl and f_lin against f's own (same arguments, same Costs)."""
    work_nl: int
    work_lin: int
    memory_nl: int
    memory_lin: int
    residual_size: int       # ‖R‖ at these arguments
    work: int                # W(f)
    memory: int              # M(f)

    @property
    def extra_work(self) -> int:
        """W(f_nl) + W(f_lin) − W(f): 0 under save-all, the recomputed work otherwise."""
        return self.work_nl + self.work_lin - self.work

    def __iter__(self):          # (W_nl, W_lin, M_nl, M_lin)
        return iter((self.work_nl, self.work_lin, self.memory_nl, self.memory_lin))


def unzip_costs(prog: Program, fn: str, args, policy=None, costs=None, unknown=None,
                domain="float") -> UnzipCosts:
    """Unzip ``prog`` under ``policy`` and measure both halves of ``fn`` on ``args``."""
    dv = unzip(prog, policy, unknown, names=[fn])
    run = run_split(dv, fn, args, domain, costs)
    base = evaluate(prog, fn, args, domain, costs)
    return UnzipCosts(run.work_nl, run.work_lin, run.memory_nl, run.memory_lin,
                      run.residual_size, base.work, base.memory)


# ----------------------------------------------------------------------------
# Text for traces.


def _binds_text(binds) -> str:
    """Bindings on one line, ``let p1 = e1; let p2 = e2`` (□ for none)."""
    if not binds:
        return "□"
    return "; ".join(show_bind_head(b) + (" " + show_leaf(b.rhs) if type(b) is Let else "")
                     for b in binds)


def conclusion_text(dv: Derivation) -> str:
    """One line for an unzip derivation node: ``subject ⇝ (C ; eₙ ; eₗ)``."""
    s = dv.subject
    if dv.rule == "Program":
        return f"{len(s.defs)} definitions ⇝ {len(dv.result.defs)}"
    if dv.rule == "UDef":
        f_nl, f_lin = dv.result
        return f"{s.name} ⇝ {f_nl.name} : {f_nl.signature}, {f_lin.name} : {f_lin.signature}"
    C, n, l = dv.result
    if dv.rule == "ULet":
        return f"let … ⇝ ({len(C)} non-linear bindings ; {show_leaf(n)} ; …)"
    if type(s) is Ret:
        return f"{show_leaf(s)} ⇝ (□ ; {show_leaf(n)} ; {show_leaf(l)})"
    src = _binds_text([s])
    choice = f"  [{dv.notes['choice']}]" if dv.notes else ""
    return f"{src} ⇝ ({_binds_text(C)} ; · ; {_binds_text(l) if l else '(;)'}){choice}"
