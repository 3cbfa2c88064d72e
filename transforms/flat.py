r"""Reverse mode on the flat form: JVP, unzip (save-all) and transpose, fast.

``linear_a.transforms.compose.vjp_program`` is the reference: JVP, unzip and
transposition as rules building a derivation per node.  This module is a
second path beside it for straight-line non-linear programs
(``linear_a.semantics.flat``: primitives, literals, drops, tuples,
unpacks, calls, returns and nested right-hand sides), under the save-all
policy, the way ``linear_a.transforms.compile`` is a fast float path beside
the interpreter.  Its contract is **exact agreement**::

    vjp_text(text, fn) == show(vjp_program(parse_program(text), fn))

(after typechecking the input and the output, as the reference pipeline
does), and each stage produces exactly what the reference stage produces --
same fresh names, same order of lets, same residual tuple -- so each is
tested against the reference's: :func:`jvp` against ``jvp_program(p, [fn])``,
:func:`unzip` against ``unzip_program(·, trusted=True)`` (save-all),
:func:`transpose` against ``transpose_program(·, [f_jvp_lin])``.  Variables
are integers indexing the definition's ``names`` table (``linear_a.semantics.flat``);
each stage copies the table and appends the names it makes, so its input is
left as it was.

**Reference rule ↔ fast case.**  Each branch of the stages below carries,
as a comment, the name of the reference rule it implements; in one table:

=============  ==============================  ==============================  =====================
input let      JVP (``transforms.jvp``)        unzip, save-all                 transpose of its lets
=============  ==============================  ==============================  =====================
PRIM           JPrim (partials: the table)     ULeaf                           TScale, TDup, TLinAdd
LIT            JLit (*the literal rule*)       ULit                            TLetNonLin (in front)
NDROP          JDrop                           ULeaf                           TDropLin (typed zero)
NTUP           JTup → LTUP                     ULeaf                           TLinTup → LUNPACK
NUNPACK        JUnpack → LUNPACK               UNUnpack                        TLUnpack → LTUP
CALL           JCall (callee's ``_jvp``)        UCall (``w_g``, trivial g)      TCall (``g_lin_T``)
RETLET         JRet with a destination         URet (split in two)             TRet (ct aliases)
BLOCK          JLet, block case (splits)       splice, then URet               —
leaf tail      JLet's ``dest`` (r, r_1, …)     URet                            TDef's ``ct_out``
=============  ==============================  ==============================  =====================

The fused pass (``transforms.fused``) does the first three rows in one
pass.  The literal rule (SPEC §17: constants carry no tangent) is marked
off in each pass (``---- JLit ----``): θ of a literal is the symbolic zero
``SZ``, read by JPrim (a constant's term and the partials only it needed
left out, a literal coefficient written again), JDrop (nothing to drop),
the block case (no split) and ``linear`` (JZero: a ``zero`` only in a
tuple, call or return slot).

How the stages mirror the reference (read those modules for the rules).

* **JVP** (``linear_a.transforms.jvp``): per let, the primal let itself, the
  primitive's partials from the primitive table (``PRIMITIVES[op].partials``,
  called with an emitter that appends flat tuples, so a change to a rule
  changes both paths), then the scaled tangents summed with ``+.``; a variable
  read k times has its tangent split by k − 1 ``dup``s placed just before the
  reads.
* **Unzip**, save-all (``linear_a.transforms.unzip``): every non-linear let goes to
  ``f_nl``, every linear one to ``f_lin``; the residuals are the non-linear
  variables the linear half reads (parameters first, then in binding order);
  a non-linear variable neither half reads is dropped right after its
  binding.  Binders being distinct and bound before use, the reference's
  backward pass over "still needed" sets equals two whole-definition read
  flags, set in the forward pass that splits the lets.
* **Transpose** (``linear_a.transforms.transpose``): linear lets visited last to first,
  ``+.`` ↔ ``dup``, ``zero`` ↔ ``drop``, ``*.`` self-adjoint, the cotangent of
  each linear variable kept in one list; non-linear lets in front.

**Fresh names** are those ``linear_a.transforms.fresh.Fresh`` gives over the
definition's names, in the reference's order of requests: a base's first
request gets the base itself unless taken, later ones base_k, k counting up
per base past the names taken.  ``Fresh`` keeps every name it hands out in
its set of names taken, so each request is a lookup in a set of millions of
names.  Here a stage instead keeps only the names its bases could meet --
JVP's bases (``d``\ x, ``c``, ``m``, ``r``) all begin with c, d, m or r,
transposition's with ``ct_`` -- and checks each request against that small
set, not against the names it handed out before.  That gives Fresh's names
whenever no two streams of requests meet, and they can meet only in one way:
base_j = base_k needs the two bases equal (a suffix ``_k`` holds no ``_``),
so one base must be another plus ``_k``.  JVP checks for such a pair of
primal names before it trusts its names; transposition, whose bases (``ct_``
and a linear variable's name) are each asked for once, checks that every
request was a first one and free.  Otherwise the stage checks its names for
duplicates and, if there are any, runs again with Fresh's own rule (every
name handed out added to the set): the same names as Fresh, always.

Speed (SPEC §15): the hot loops inline the per-let helpers and the name
supply's common cases; what did not pay was left out (templating the rules'
output per primitive cost more than calling them).

The stages, each usable alone: ``linear_a.semantics.flat.parse`` (text → FlatProgram),
``linear_a.semantics.flat.check`` (→ read counts), :func:`jvp`, :func:`unzip`,
:func:`transpose`, :func:`check_output`, ``linear_a.semantics.flat.show``.
:func:`fast_vjp_text` composes them, with JVP, unzip and transposition taken
in one pass by ``linear_a.transforms.fused.vjp_defs`` wherever it answers (it is
tested against these three stages, as they are against the reference).

Calls (:func:`vjp_with_calls`): fn and every definition it calls are each
transformed once, callees first (program order), as ``vjp_program`` does:
JVP (a call becomes ``g_jvp``), unzip (``g_jvp_nl`` / ``g_jvp_lin`` around
a residual tuple ``w_g``; dropped at once when ``g_jvp_lin`` does nothing),
then the transposition of fn's linear half and of each linear half a
transposed one calls; the output is the ``_jvp_nl`` halves, then the
``_jvp_lin_T`` ones, in program order.  Nested right-hand sides: JVP writes
the nested chain flat, already spliced as unzip splices it (so the JVP
stage's own text differs from the reference's there; unzip's and
transposition's do not).

Failure is never an answer: if the input is outside the fragment or any fast
step fails, :func:`vjp_text` runs the reference pipeline, so errors are
always the reference's located errors (``require_fast=True`` raises
:class:`NotFast` instead, for benchmarks and tests).  Policies other than
save-all always take the reference pipeline (``linear-a vjp --explain``
says so).  The cyclic garbage
collector is paused during the pipeline (``linear_a.semantics.gcpause``).
"""
from __future__ import annotations

from linear_a.semantics.flat import (BLOCK, CALL, RETLET, DUP, LADD, LDROP, LIT, LTUP, LUNPACK, NDROP, NTUP, NUNPACK, PRIM,
                                     RET, SCALE, ZERO, FlatDef, FlatProgram, NotFlat, check, check_def,
                                     check_typed, parse, show)
from linear_a.semantics.gcpause import paused_gc
from linear_a.semantics.parser import KEYWORDS, parse_program
from linear_a.semantics.printer import show as show_ref
from linear_a.semantics.primitives import MINUS_ONE, ONE, PRIMITIVES
from linear_a.semantics.syntax import REAL, TupleType
from linear_a.semantics.typecheck import typecheck

from .compose import vjp_program
from .fresh import SUFFIXES, Fresh, bases_may_meet, first_fresh, suffix
from .fused import vjp_defs
from .jvp import SUFFIX as JVP_SUFFIX
from .transpose import SUFFIX as T_SUFFIX, interleave, sched_slots
from .unzip import LIN_SUFFIX, NL_SUFFIX


class NotFast(Exception):
    """``vjp_text(..., require_fast=True)`` could not take the fast path."""


# ----------------------------------------------------------------------------
# Fresh names.

def _take(base: str, k: int, taken) -> tuple[str, int]:
    """Fresh's rule for one request of ``base`` whose counter is k (0: never
    asked): the base itself if asked first and free, else the first base_k,
    base_k+1, … not taken; returns the name and the counter's next value."""
    if k == 0:
        if base not in taken:
            return base, 1
        k = 1
    while True:
        name = base + suffix(k)
        if name not in taken:
            return name, k + 1
        k += 1


def _supply(taken: set, exact: bool, counters: dict | None = None):
    """A request for a fresh name: ``fresh(base)``, with ``counters`` base ->
    the next k (0 or absent: never asked).  ``exact``: every name handed out
    joins ``taken``, which is then ``Fresh``'s set of names used -- the same
    names as ``Fresh(taken)``.  Otherwise ``taken`` stays as given (the names
    the bases can meet) and the names are Fresh's while no two bases' names
    meet (see the module docstring)."""
    counters = {} if counters is None else counters

    def fresh(base: str) -> str:
        name, counters[base] = _take(base, counters.get(base, 0), taken)
        if exact:
            taken.add(name)
        return name
    return fresh


def _distinct(names) -> bool:
    return len(set(names)) == len(names)


class _Emitter:
    """The primitive table's emitter (``b.prim``, ``b.lit``), appending flat lets
    whose variables are named ``c``, ``c_1``, … as ``linear_a.transforms.fresh.Emitter``
    does."""
    __slots__ = ("prim", "lit")

    def __init__(self, fresh, names: list, out: list):
        append, name = out.append, names.append

        def prim(op: str, *args: int) -> int:
            v = len(names)
            name(fresh("c"))
            append((PRIM, v, op, args))
            return v

        def lit(text: str) -> int:     # a rule's literal (see the literal rule, JLit)
            v = len(names)
            name(fresh("c"))
            append((LIT, v, text))
            return v
        self.prim, self.lit = prim, lit


# ----------------------------------------------------------------------------
# JVP.


SZ = -1      # θ(x) of a constant x: the symbolic zero (``linear_a.transforms.jvp.ZERO``)


def _live(binds: list, keep) -> list:
    """The partials' lets the kept coefficients read, transitively, in order."""
    need = set(keep)
    live = []
    for b in reversed(binds):
        if b[1] in need:
            live.append(b)
            if b[0] is PRIM:
                need.update(b[3])
    live.reverse()
    return live


def reads(lets, tail):
    """The variables read by ``lets`` and ``tail``, in evaluation order, with
    repetition, nested right-hand sides included (an explicit stack): the
    order of ``linear_a.semantics.syntax.iter_nodes``."""
    stack = [(iter(lets), tail)]
    while stack:
        it, tl = stack[-1]
        for t in it:
            k = t[0]
            if k is PRIM:
                yield from t[3]
            elif k is NDROP:
                yield t[1]
            elif k is NTUP:
                yield from t[2]
            elif k is NUNPACK:
                yield t[2]
            elif k is CALL:
                yield from t[4]
            elif k is RETLET:
                yield from t[3]
            elif k is BLOCK:
                stack.append((iter(t[2]), t[3]))
                break
        else:
            stack.pop()
            k = tl[0]
            yield from (tl[1] if k is RET else tl[3] if k is PRIM else tl[2] if k is NTUP
                        else tl[4] if k is CALL else (tl[1],) if k is NDROP else ())


def read_counts(d: FlatDef) -> list:
    """How many times each variable of a flat input definition is read."""
    left = [0] * len(d.names)
    for x in reads(d.lets, d.tail):
        left[x] += 1
    return left


def block_reads(t) -> dict:
    """``use_counts`` of a nested right-hand side ``(BLOCK, outs, lets, tail)``:
    variable -> reads, in first-read order."""
    n: dict = {}
    for x in reads(t[2], t[3]):
        n[x] = n.get(x, 0) + 1
    return n


_TAIL = -1      # (_TAIL, leaf): a leaf tail, read as a let of fresh r, r_1, … (JVP's ``dest``)


def jvp(d: FlatDef, counts: list | None = None, arity: dict | None = None) -> FlatDef:
    """``f_jvp`` of a checked flat definition, exactly as ``linear_a.transforms.jvp``.
    ``counts``: the list :func:`linear_a.semantics.flat.check_def` returned for d (read,
    not changed), else the reads are counted here.  d's table must be d's
    names (as the parser makes it).  ``arity``: the number of non-linear
    results of each definition d calls (whose JVP is callee + ``_jvp``)."""
    if counts is None:
        counts = read_counts(d)
    arity = arity or {}
    out = _jvp(d, counts, exact=False, arity=arity)
    return out if out is not None else _jvp(d, counts, exact=True, arity=arity)


def _jvp(d: FlatDef, counts: list, exact: bool, arity: dict) -> FlatDef | None:
    """JLet over d's lets: each let, then (JPrim) its partials and the tangent
    of its result, or (JLit) the symbolic zero, or (JDrop) the drop of a tangent.
    None if the names it made may not be Fresh's (then run it ``exact``)."""
    names = list(d.names)               # the output's table: d's names, then the new ones
    n0 = len(names)
    if exact:
        taken = set(names) | KEYWORDS
    else:                               # the names JVP's bases (c…, d…, m…, r…) can meet
        taken = {s for s in names if s[0] in "cdmr"}
        taken.update(k for k in KEYWORDS if k[0] in "cdmr")
    counters: dict = {}
    fresh = _supply(taken, exact, counters)
    add = taken.add
    left = list(counts)                 # reads still to come, per primal variable
    theta: list = [None] * n0           # primal variable -> its tangent
    dk = [0] * n0                       # primal variable x -> base "d"+x's next k (0: never asked)
    suf = SUFFIXES
    # No name taken holds "_": every base_k (k >= 1) is free, so a base's later
    # requests are just its next suffix (the chains' case; keywords hold no "_").
    quick = not exact and not any("_" in s for s in taken)

    def dname(x: int) -> str:
        """``fresh("d" + name of x)``, its counter kept in ``dk``."""
        k = dk[x]
        if quick and k:
            dk[x] = k + 1
            return "d" + names[x] + suffix(k)
        name, dk[x] = _take("d" + names[x], k, taken)
        if exact:
            add(name)
        return name

    out: list = []
    append, name = out.append, names.append

    def tangent(x: int) -> int:
        """The tangent for one read of x: θ(x) at its last read, else one half
        of a ``dup`` of it (inlined in the loop below)."""
        n = left[x]
        t = theta[x]
        if n <= 1:
            return t
        a = len(names)
        name(dname(x))
        name(dname(x))
        append((DUP, a, a + 1, t))
        theta[x] = a + 1
        left[x] = n - 1
        return a

    def linear(x: int) -> int:
        """The tangent for one read of x where a linear variable must exist (a
        tuple, call or return slot): a symbolic zero is made a ``zero`` (JZero)."""
        if theta[x] != SZ:
            return tangent(x)
        v = len(names)
        name(dname(x))
        append((ZERO, v))
        return v

    dparams = []
    for p, ty in d.nl_params:
        theta[p] = len(names)
        name(dname(p))
        dparams.append((theta[p], ty))
    scratch: list = []                  # a primitive's partials, before the dead ones go
    emitter = _Emitter(fresh, names, scratch)
    partials = {n: p.partials for n, p in PRIMITIVES.items()}
    lits: dict = {}                     # variables bound to a literal -> its text (θ: SZ)
    tail = d.tail
    all_rs: list = []                   # the variables r, r_1, … made for leaf tails
    # A stack of iterators over let lists: the body's, then one per nested
    # right-hand side being read (JLet with a block: its lets, then its tail);
    # ``blocks`` holds, per open block, its let, its splits to restore, and
    # the variables its leaf tail is bound to.
    stack = [iter(d.lets if tail[0] is RET else d.lets + [(_TAIL, tail)])]
    blocks: list = []
    rs = None
    while stack:
      for t in stack[-1]:
        k = t[0]
        if k is _TAIL:                  # a leaf tail: its results get variables of their own (r, r_1, …)
            leaf = t[1]
            rs = []
            for _ in range(arity[leaf[3]] if leaf[0] is CALL else 0 if leaf[0] is NDROP else 1):
                rs.append(len(names))
                name(fresh("r"))
            all_rs += rs
            grow = len(names) - len(left)
            left += [1] * grow
            theta += [None] * grow
            dk += [0] * grow
            if blocks:
                blocks[-1][2] = rs
            t = (CALL, tuple(rs), (), leaf[3], leaf[4], ()) if leaf[0] is CALL else \
                leaf if leaf[0] is NDROP else (leaf[0], rs[0]) + leaf[2:]
            k = t[0]
        if k is PRIM:                   # JPrim: primal, partials (the table's rule), scaled tangents summed
            append(t)
            _, z, op, args = t
            acc = None
            live = zip(partials[op](emitter, args, z), args)
            if lits:                    # constants: their terms go (JPrim), and the partials only they need
                live = [(c, x) for c, x in live if theta[x] != SZ]
                if len(live) < len(args) and scratch:   # the reference's _live_partials
                    scratch[:] = _live(scratch, [c for c, _ in live if type(c) is int])
            out.extend(scratch)
            scratch.clear()
            for c, x in live:
                n = left[x]
                tx = theta[x]
                if n > 1:               # split its tangent: a, b = dup(θ(x)); θ(x) := b
                    a = len(names)
                    j = dk[x]
                    if quick and j and j + 1 < len(suf):   # dname(x) twice, inlined
                        base = "d" + names[x]
                        name(base + suf[j])
                        name(base + suf[j + 1])
                        dk[x] = j + 2
                    else:
                        name(dname(x))
                        name(dname(x))
                    append((DUP, a, a + 1, tx))
                    theta[x] = a + 1
                    left[x] = n - 1
                    tx = a
                if lits and type(c) is int and c in lits:     # a literal coefficient, written again
                    v = len(names)
                    name(fresh("c"))
                    append((LIT, v, lits[c]))
                    c = v
                if type(c) is int:      # a coefficient variable: scale by it
                    s = len(names)
                    if exact or dk[z] or (dz := "d" + names[z]) in taken:
                        dz = dname(z)
                    else:               # the first request of "d"+z, and free: itself
                        dk[z] = 1
                    name(dz)
                    append((SCALE, s, c, tx))
                elif c is ONE or c == ONE:
                    s = tx
                elif c is MINUS_ONE or c == MINUS_ONE:     # JPrim's literal -1 (see the literal rule)
                    m = len(names)
                    name(fresh("m"))
                    append((LIT, m, "-1"))
                    s = len(names)
                    name(dname(z))
                    append((SCALE, s, m, tx))
                else:
                    raise NotFlat(f"a partial of `{op}` that is not a variable: {c!r}")
                if acc is None:
                    acc = s
                else:
                    s2 = len(names)
                    j = dk[z]
                    if quick and j and j < len(suf):   # dname(z), inlined
                        name("d" + names[z] + suf[j])
                        dk[z] = j + 1
                    else:
                        name(dname(z))
                    append((LADD, s2, acc, s))
                    acc = s2
            theta[z] = SZ if acc is None else acc      # every argument constant: symbolic zero
        # ---- JLit, the literal rule: θ := SZ here; SZ is read by JPrim above (terms and
        # partials left out, a literal coefficient written again), JDrop, the block case's
        # splits and ``linear`` (JZero) ----
        elif k is LIT:                  # JLit: the literal; its tangent is the symbolic zero
            append(t)
            theta[t[1]] = SZ
            lits[t[1]] = t[2]
        # ---- end of the literal rule ----
        elif k is NDROP:                # JDrop (a constant's symbolic zero needs nothing)
            append(t)
            if theta[t[1]] != SZ:
                append((LDROP, tangent(t[1])))
        elif k is NTUP:                 # JTup: the tangent of a tuple is the linear tuple of tangents
            append(t)
            ts = tuple([linear(x) for x in t[2]])
            s = theta[t[1]] = len(names)
            name(dname(t[1]))
            append((LTUP, s, ts))
        elif k is NUNPACK:              # JUnpack: unpacking a tuple also unpacks its tangent
            append(t)
            src = linear(t[2])
            vs = []
            for y in t[1]:
                theta[y] = len(names)
                name(dname(y))
                vs.append(theta[y])
            append((LUNPACK, tuple(vs), src))
        elif k is CALL:                 # JCall: the callee's JVP, on the arguments' tangents
            _, outs, _, fn, args, _ = t
            ts = tuple([linear(x) for x in args])
            dz = []
            for z in outs:
                theta[z] = len(names)
                name(dname(z))
                dz.append(theta[z])
            append((CALL, outs, tuple(dz), fn + JVP_SUFFIX, args, ts))
        elif k is RETLET:               # JRet as a right-hand side: (z̄ ; dz̄) = (x̄ ; θ(x̄))
            ts = tuple([linear(x) for x in t[3]])
            dz = []
            for z in t[1]:
                theta[z] = len(names)
                name(dname(z))
                dz.append(theta[z])
            append((RETLET, t[1], tuple(dz), t[3], ts))
        elif k is BLOCK:                # JLet with a nested right-hand side: split off the outer
            restore = []                # tangents it reads (in first-read order), then read it
            for x, kk in block_reads(t).items():
                if x < len(theta) and theta[x] is not None and theta[x] != SZ:
                    n = left[x]
                    if n > kk:
                        a = len(names)
                        name(dname(x))
                        name(dname(x))
                        append((DUP, a, a + 1, theta[x]))
                        theta[x] = a
                        left[x] = kk
                        restore.append((x, a + 1, n - kk))
            blocks.append([t, restore, None])
            stack.append(iter(t[2] if t[3][0] is RET else t[2] + [(_TAIL, t[3])]))
            break
        else:
            raise NotFlat(f"JVP of kind {k!r}")
      else:                             # a let list read to its end
        stack.pop()
        if not blocks or len(stack) > len(blocks):
            continue                    # the body's (its tail comes after the loop)
        t, restore, brs = blocks.pop()  # a nested right-hand side's: its return, then the let
        itail = t[3]
        if itail[0] is RET:
            ret = (itail[1], tuple([linear(x) for x in itail[1]]))
        else:
            ret = (tuple(brs), tuple([linear(z) for z in brs]))
        for x, c, n in restore:
            theta[x] = c
            left[x] = n
        dz = []
        for z in t[1]:
            theta[z] = len(names)
            name(dname(z))
            dz.append(theta[z])
        append((RETLET, t[1], tuple(dz)) + ret)
    if rs is None or tail[0] is RET:
        new_tail = (RET, tail[1], tuple([linear(x) for x in tail[1]]))
    else:
        new_tail = (RET, tuple(rs), tuple([linear(z) for z in rs]))
    if not exact and bases_may_meet(names[:n0] + [names[z] for z in all_rs]) \
            and not _distinct(names[n0:]):
        return None
    return FlatDef(d.name + JVP_SUFFIX, names, list(d.nl_params), dparams, list(d.nl_out),
                   list(d.nl_out), out, new_tail)


# ----------------------------------------------------------------------------
# Unzip (save-all).


def unzip(d: FlatDef, sigs: dict | None = None) -> tuple[FlatDef, FlatDef]:
    """``(f_nl, f_lin)`` of a JVP output, exactly as ``linear_a.transforms.unzip`` under
    save-all.  The two halves share one table: d's, and the residual tuple's
    name.  d's table must be d's names (as :func:`jvp` makes it).  ``sigs``:
    for each callee g (already unzipped), ``(R, trivial)``: its residual
    type and whether g_lin does nothing (:func:`unzip_sig`)."""
    names = list(d.names)
    fresh = Fresh(d.names) if sigs else None    # UCall's w_g, then w: Fresh over f's names
    rtype: dict = {}                   # a callee's residual tuple variable -> its type
    trivial_w: set = set()
    nl_reads = bytearray(len(names))   # read by the non-linear half
    lin_reads = bytearray(len(names))  # non-linear variables read by the linear half
    for x in d.tail[1]:
        nl_reads[x] = 1
    nl_lets: list = []
    lin_out: list = [None]             # the head (the residuals' unpack) goes first
    nl_keep, lin_append = nl_lets.append, lin_out.append
    for t in d.lets:                   # split the lets, and collect the reads
        k = t[0]
        if k is SCALE:                 # ULinLeaf (x *. l reads the non-linear x there)
            lin_append(t)
            lin_reads[t[2]] = 1
        elif k is PRIM:                # ULeaf
            nl_keep(t)
            for x in t[3]:
                nl_reads[x] = 1
        elif k is LADD or k is DUP or k is ZERO or k is LDROP or k is LTUP or k is LUNPACK:
            lin_append(t)              # ULinLeaf, ULUnpack
        elif k is LIT:                 # ULit: to the half (or halves) reading it (the literal rule)
            nl_keep(t)
            lin_append(t)
        elif k is NDROP:               # ULeaf
            nl_keep(t)
            nl_reads[t[1]] = 1
        elif k is NTUP:                # ULeaf
            nl_keep(t)
            for x in t[2]:
                nl_reads[x] = 1
        elif k is NUNPACK:             # UNUnpack
            nl_keep(t)
            nl_reads[t[2]] = 1
        elif k is CALL:                # UCall: g_nl in the known half, g_lin on its residuals w_g
            _, outs, douts, g, args, ts = t
            R, trivial = sigs[g]
            wv = len(names)
            names.append(fresh("w_" + g))
            nl_reads.append(0)
            lin_reads.append(0)
            rtype[wv] = R
            nl_keep((CALL, outs + (wv,), (), g + NL_SUFFIX, args, ()))
            for x in args:
                nl_reads[x] = 1
            if trivial:                # g_lin does nothing: w_g is dropped at once
                trivial_w.add(wv)
            else:
                lin_append((CALL, (), douts, g + LIN_SUFFIX, (wv,), ts))
                lin_reads[wv] = 1
        elif k is RETLET:              # URet: a return splits into its known and its linear half
            _, outs, douts, src, lsrc = t
            if not lsrc:
                nl_keep(t)
            elif not src:
                lin_append(t)
            else:
                nl_keep((RETLET, outs, (), src, ()))
                lin_append((RETLET, (), douts, (), lsrc))
            for x in src:
                nl_reads[x] = 1
        else:
            raise NotFlat(f"unzip of kind {k!r}")
    residuals = [p for p, _ in d.nl_params if lin_reads[p]]
    nl_out = [(NDROP, p) for p, _ in d.nl_params if not nl_reads[p] and not lin_reads[p]]
    nl_append, res_append = nl_out.append, residuals.append
    if any(t[0] is LIT for t in lin_out[1:]):    # ULit: a literal read by one half moves there
        lin_out[1:] = [t for t in lin_out[1:] if t[0] is not LIT or lin_reads[t[1]] and not nl_reads[t[1]]]
    for t in nl_lets:                  # each binding: a residual, read here, or dropped
        if t[0] is LIT and not nl_reads[t[1]]:
            continue                   # (in f_lin, or read by neither half)
        nl_append(t)
        if t[0] is NUNPACK or t[0] is CALL or t[0] is RETLET:  # the unread dropped, then the residuals
            outs = t[1]
            if t[0] is CALL and outs and outs[-1] in trivial_w:
                nl_append((NDROP, outs[-1]))
                outs = outs[:-1]
            nl_out += [(NDROP, z) for z in outs if not nl_reads[z] and not lin_reads[z]]
            residuals += [z for z in outs if lin_reads[z]]
        elif t[0] is not NDROP:
            z = t[1]
            if lin_reads[z]:
                res_append(z)
            elif not nl_reads[z]:
                nl_append((NDROP, z))
    del nl_lets
    w = len(names)
    names.append(fresh("w") if fresh else first_fresh(d.names, "w"))  # the reference's Fresh(f's names)("w")
    R = TupleType([rtype.get(v, REAL) for v in residuals])
    known = d.tail[1]
    nl_out.append((NTUP, w, tuple(residuals)))
    f_nl = FlatDef(d.name + NL_SUFFIX, names, list(d.nl_params), [], list(d.nl_out) + [R], [],
                   nl_out, (RET, known + (w,), ()))
    lin_out[0] = (NUNPACK, tuple(residuals), w) if residuals else (NDROP, w)
    f_lin = FlatDef(d.name + LIN_SUFFIX, names, [(w, R)], list(d.lin_params), [],
                    list(d.lin_out), lin_out, (RET, (), d.tail[2]))
    return f_nl, f_lin


def unzip_sig(f_nl: FlatDef, f_lin: FlatDef) -> tuple:
    """``(R, trivial)`` of an unzipped definition, what a caller's UCall reads:
    its residual type, and whether f_lin does nothing (no linear lets,
    parameters or results, no residuals: the reference's ``lin_trivial``)."""
    R = f_nl.nl_out[-1]
    trivial = (not f_lin.lin_params and not f_lin.lin_out and not R.items
               and len(f_lin.lets) == 1)
    return R, trivial


# ----------------------------------------------------------------------------
# Transpose.


def transpose(d: FlatDef, sigs: dict | None = None) -> FlatDef:
    """``f_T`` of a flat definition with no non-linear results, exactly as
    ``linear_a.transforms.transpose``.  d's variables must have distinct names.
    ``sigs``: the signatures of the definitions d calls (for the types of
    dropped linear values, see ``check_typed``)."""
    if d.nl_out or d.tail[1]:
        raise NotFlat("transpose of a definition with non-linear results")
    out = _transpose(d, exact=False, sigs=sigs)
    return out if out is not None else _transpose(d, exact=True, sigs=sigs)


def _transpose(d: FlatDef, exact: bool, sigs: dict | None = None) -> FlatDef | None:
    """The rules, last let first; None if the names it made may not be Fresh's."""
    names = list(d.names)
    n0 = len(names)
    if exact or "\nct_" in "\n" + "\n".join(names):   # d's names that a ct_ request can meet
        taken = {s for s in d.bound_names() if s.startswith("ct_")}
    else:
        taken = set()
    counters: dict = {}
    fresh = _supply(taken, exact, counters)
    ct: list = [None] * n0              # linear variable -> its cotangent
    many = len(d.lin_out) > 1
    cparams = []
    for i, ty in enumerate(d.lin_out):
        cparams.append((len(names), ty))
        names.append(fresh("ct_" + (f"out{i + 1}" if many else "out")))
    taken.update(names[n0:])            # a linear variable named `out` steps aside
    for y, (c, _) in zip(d.tail[2], cparams):
        ct[y] = c
    plain = not exact                   # every request so far a first one, and free

    def give(x: int) -> int:
        """A fresh cotangent variable for the linear variable x: ct[x] := ct_x."""
        nonlocal plain
        c = len(names)
        base = "ct_" + names[x]
        if plain and ct[x] is None and base not in taken:
            names.append(base)
        else:
            plain = False
            names.append(fresh(base))
        ct[x] = c
        return c

    out: list = []
    append = out.append
    front: list = []
    name = names.append
    types = None                        # the linear variables' types, where a dropped one needs its zero's
    for t in reversed(d.lets):
        k = t[0]
        if k is SCALE or k is DUP:      # TScale, TDup (the most frequent lets: give(l) inlined)
            _, a, b, l = t              # (*., z, x, l) or (dup, a, b, l)
            c = len(names)
            cl = "ct_" + names[l]
            if plain and ct[l] is None and cl not in taken:
                name(cl)
                ct[l] = c
            else:
                give(l)
            append((SCALE, c, b, ct[a]) if k is SCALE else (LADD, c, ct[a], ct[b]))
        elif k is LADD:                 # TLinAdd
            c = ct[t[1]]
            a = give(t[2])
            append((DUP, a, give(t[3]), c))
        elif k is ZERO:                 # TZero
            append((LDROP, ct[t[1]]))
        elif k is LDROP:                # TDropLin: a zero of the dropped value's type
            if types is None:
                simple = all(ty is REAL for _, ty in d.lin_params) and not any(
                    u[0] is LTUP or u[0] is LUNPACK or u[0] is CALL for u in d.lets)
                types = False if simple else check_typed(d, sigs)[1]
            ty = types[t[1]] if types else REAL
            append((ZERO, give(t[1])) if ty is REAL else (ZERO, give(t[1]), ty))
        elif k is LTUP:                 # TLinTup: building a tuple transposes to unpacking its cotangent
            c = ct[t[1]]
            append((LUNPACK, tuple([give(x) for x in t[2]]), c))
        elif k is LUNPACK:              # TLUnpack: unpacking transposes to building the tuple of cotangents
            cs = tuple([ct[x] for x in t[1]])
            append((LTUP, give(t[2]), cs))
        elif k is RETLET:               # TRet: each returned variable takes its binder's cotangent
            for y, z in zip(t[4], t[2]):
                ct[y] = ct[z]
        elif k is CALL:                 # TCall: a call of g_lin transposes to a call of g_lin_T
            _, _, louts, g, wargs, largs = t
            cs = tuple([ct[x] for x in louts])
            append((CALL, (), tuple([give(y) for y in largs]), g + T_SUFFIX, wargs, cs))
        elif k is PRIM or k is LIT or k is NTUP or k is NUNPACK or k is NDROP:
            front.append(t)             # TLetNonLin, TNUnpack
        else:
            raise NotFlat(f"transpose of kind {k!r}")
    front.reverse()
    ret = tuple([ct[v] for v, _ in d.lin_params])
    if not exact and not plain and not _distinct(names[n0:]):
        return None
    return FlatDef(d.name + T_SUFFIX, names, list(d.nl_params), cparams, [],
                   [ty for _, ty in d.lin_params], schedule(front, out), (RET, (), ret))


def _front_binds(t) -> tuple:
    k = t[0]
    return t[1] if k is NUNPACK else () if k is NDROP else (t[1],)


def _front_reads(t) -> tuple:
    k = t[0]
    return (t[3] if k is PRIM else t[2] if k is NTUP else (t[2],) if k is NUNPACK
            else (t[1],) if k is NDROP else ())


def _out_reads(t) -> tuple:
    """The non-linear variables a transposed linear let reads (``x *. l``'s x, a
    call's non-linear arguments); its linear reads are never bound in front."""
    k = t[0]
    return (t[2],) if k is SCALE else t[4] if k is CALL else ()


def schedule(front: list, out: list) -> list:
    """Rule TSched (``linear_a.transforms.transpose.TSched``) on flat lets, by
    the reference's own slot computation: each value-binding let of ``front``
    runs just before the first let of ``out`` that reads it, ties in front's
    order; unpacks and drops as early as what they read allows.  The same
    slots as the reference, so the same text."""
    if len(front) <= 1:
        return front + out
    slot = sched_slots(front, out, _front_binds, _front_reads, _out_reads,
                       lambda t: t[0] is NDROP, lambda t: t[0] is NUNPACK)
    return interleave(front, out, slot) if any(slot) else front + out


# ----------------------------------------------------------------------------
# The pipeline.


class BadOutput(Exception):
    """The fast path made a vjp program the typing judgment rejects: a bug of
    the fast path (not an input outside its fragment).  The CLI still falls
    back to the reference; ``linear-a check`` refutes vjp-fast-path."""


def check_output(defs: list[FlatDef]) -> None:
    """The typing judgment on the vjp program (as the reference pipeline checks
    it); :class:`BadOutput` if it fails."""
    try:
        check(FlatProgram(defs), counts=False)
    except NotFlat as e:
        raise BadOutput(f"the fast path's vjp program is ill-typed: {e}") from e


def fast_vjp_defs(text: str, fn: str, how: list | None = None) -> list[FlatDef]:
    """The fast path up to printing: text → the checked vjp program
    ``[f_jvp_nl, f_jvp_lin_T]`` in flat form (what ``jax.make_jaxpr`` returns
    is the like of this: a program in memory).  :class:`NotFlat` (or another
    exception) when it cannot answer.  ``how``: a list, to which the pass
    that answered is appended (``"fused"`` or ``"staged"``)."""
    with paused_gc():
        prog = parse(text)
        counts = check(prog)
        d = prog.get(fn)
        if d is None or prog.get(fn + JVP_SUFFIX) is not None:
            raise NotFlat(f"no function `{fn}`, or `{fn}{JVP_SUFFIX}` is taken")
        if _callees(d):
            if how is not None:
                how.append("calls")
            defs = vjp_with_calls(prog, fn, counts)
            check_output(defs)
            return defs
        del prog                        # each stage's input is freed as soon as it is used
        defs = vjp_defs(d, counts[fn])  # the three stages in one pass (transforms.fused) …
        if how is not None:
            how.append("fused" if defs is not None else "staged")
        if defs is None:                # … or, where it declines, one by one
            jd = jvp(d, counts[fn])
            del d, counts
            f_nl, f_lin = unzip(jd)
            del jd
            defs = [f_nl, transpose(f_lin)]
            del f_lin
        else:
            del d, counts
        check_output(defs)
        return defs


def _callees(d: FlatDef) -> list:
    """The definitions d calls, nested right-hand sides included."""
    out, stack = [], [(d.lets, d.tail)]
    while stack:
        lets, tail = stack.pop()
        out += [t[3] for t in lets if t[0] is CALL]
        stack += [(t[2], t[3]) for t in lets if t[0] is BLOCK]
        if tail[0] is CALL:
            out.append(tail[3])
    return out


def vjp_with_calls(prog: FlatProgram, fn: str, counts: dict) -> list[FlatDef]:
    """``vjp_program`` of a checked flat program whose ``fn`` calls other
    definitions: as the reference, JVP then save-all unzip of fn and every
    definition it calls (each once, callees first: program order, callees
    being defined before their callers), then the transposition of fn's
    linear half and of every g_jvp_lin a transposed half calls.  The result
    is the g_jvp_nl in program order, then the g_jvp_lin_T in program order."""
    defs = {d.name: d for d in prog.defs}
    chosen, todo = set(), [fn]
    while todo:                         # fn and its callees, transitively
        g = todo.pop()
        if g not in chosen:
            chosen.add(g)
            todo += _callees(defs[g])
    order = [d for d in prog.defs if d.name in chosen]
    made = {d.name + s for d in order for s in (JVP_SUFFIX, JVP_SUFFIX + NL_SUFFIX,
                                               JVP_SUFFIX + LIN_SUFFIX, JVP_SUFFIX + LIN_SUFFIX + T_SUFFIX)}
    if made & set(defs):
        raise NotFlat("a name the transformations make is taken")
    arity = {d.name: len(d.nl_out) for d in order}
    usigs: dict = {}                    # g_jvp -> (R, trivial)
    lin_sigs: dict = {}                 # g_jvp_lin -> its signature (for check_typed)
    nl_defs, lin_defs = [], {}
    for d in order:
        jd = jvp(d, counts[d.name], arity)
        f_nl, f_lin = unzip(jd, usigs)
        usigs[jd.name] = unzip_sig(f_nl, f_lin)
        lin_sigs[f_lin.name] = ([ty for _, ty in f_lin.nl_params], [ty for _, ty in f_lin.lin_params],
                                [], list(f_lin.lin_out))
        nl_defs.append(f_nl)
        lin_defs[f_lin.name] = f_lin
    done: dict = {}
    todo = [fn + JVP_SUFFIX + LIN_SUFFIX]
    while todo:                         # TCall's need(g): each linear half called, transposed once
        g = todo.pop()
        if g in done:
            continue
        done[g] = f_t = transpose(lin_defs[g], lin_sigs)
        todo += [t[3][:-len(T_SUFFIX)] for t in f_t.lets if t[0] is CALL]
    return nl_defs + [done[n] for n in lin_defs if n in done]


def fast_vjp_text(text: str, fn: str, how: list | None = None) -> str:
    """The fast path alone, text to text: :class:`NotFlat` (or another
    exception) when it cannot answer."""
    with paused_gc():
        return show(fast_vjp_defs(text, fn, how))


PASSES = {"fused": "the fast path (semantics.flat, then JVP, unzip and transposition in one pass: "
                   "transforms.fused)",
          "staged": "the fast path (semantics.flat, then transforms.flat's JVP, unzip and transpose "
                    "one by one: the fused pass declined)",
          "calls": "the fast path (semantics.flat, then transforms.flat's JVP, unzip and transpose "
                   "of the function and each definition it calls, callees first)"}


def explain_vjp_text(text: str, fn: str, file: str = "<text>") -> tuple[str, str]:
    """``vjp_text`` and one sentence saying which path printed it and why."""
    how: list = []
    try:
        return fast_vjp_text(text, fn, how), f"{PASSES[how[-1]]}: the program is in the flat fragment"
    except MemoryError:
        raise
    except Exception as e:
        why = str(e) or type(e).__name__
    return reference_vjp_text(text, fn, file), f"the reference pipeline: the fast path declined ({why})"


def reference_vjp_text(text: str, fn: str, file: str = "<text>") -> str:
    """The reference pipeline: parse, typecheck, ``vjp_program``, typecheck, show."""
    prog = parse_program(text, file)
    typecheck(prog)
    vp = vjp_program(prog, fn)
    typecheck(vp)
    return show_ref(vp)


def vjp_text(text: str, fn: str, file: str = "<text>", require_fast: bool = False) -> str:
    """``show(vjp_program(parse_program(text, file), fn))`` (input and output
    typechecked): the fast path on the flat fragment, else the reference
    pipeline, whose located errors are the ones raised.  ``require_fast``:
    raise :class:`NotFast` instead of falling back."""
    try:
        return fast_vjp_text(text, fn)
    except MemoryError:
        raise
    except Exception as e:          # outside the fragment, or any failure: the reference decides
        if require_fast:
            raise NotFast(f"the fast path cannot handle this input: {e}") from e
    return reference_vjp_text(text, fn, file)


__all__ = ["NotFast", "NotFlat", "BadOutput", "jvp", "unzip", "transpose", "check_output",
           "fast_vjp_defs", "fast_vjp_text", "reference_vjp_text", "vjp_text", "explain_vjp_text", "parse", "check", "check_def", "show"]
