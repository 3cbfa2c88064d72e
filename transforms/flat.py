r"""Reverse mode on the flat form: JVP, unzip (save-all) and transpose, fast.

``transforms.compose.vjp_program`` is the reference: JVP, unzip and
transposition as rules building a derivation per node.  This module is a
second path beside it for the flat fragment (``semantics.flat``: definitions
of real parameters and results whose bodies are let-chains of primitives,
literals and drops), the way ``transforms.compile`` is a fast float path
beside the interpreter.  Its contract is **exact agreement**::

    vjp_text(text, fn) == show(vjp_program(parse_program(text), fn))

(after typechecking the input and the output, as the reference pipeline
does), and each stage produces exactly what the reference stage produces --
same fresh names, same order of lets, same residual tuple -- so each is
tested against the reference's: :func:`jvp` against ``jvp_program(p, [fn])``,
:func:`unzip` against ``unzip_program(·, trusted=True)`` (save-all),
:func:`transpose` against ``transpose_program(·, [f_jvp_lin])``.

How the stages mirror the reference (read those modules for the rules).

* **JVP** (``transforms.jvp``): per let, the primal let itself, the
  primitive's partials from the primitive table (``PRIMITIVES[op].partials``,
  called with an emitter that appends flat tuples, so a change to a rule
  changes both paths), then the scaled tangents summed with ``+.``; a variable
  read k times has its tangent split by k − 1 ``dup``s placed just before the
  reads; names come from ``transforms.fresh.Fresh`` over the definition's
  names, in the reference's order of requests.
* **Unzip**, save-all (``transforms.unzip``): every non-linear let goes to
  ``f_nl``, every linear one to ``f_lin``; the residuals are the non-linear
  variables the linear half reads (parameters first, then in binding order);
  a non-linear variable neither half reads is dropped right after its
  binding.  Binders being distinct and bound before use, the reference's
  backward pass over "still needed" sets equals two whole-definition read
  sets, computed in one forward pass.
* **Transpose** (``transforms.transpose``): linear lets visited last to first,
  ``+.`` ↔ ``dup``, ``zero`` ↔ ``drop``, ``*.`` self-adjoint, the cotangent of
  each linear variable kept in one map; non-linear lets in front.

The stages, each usable alone: ``semantics.flat.parse`` (text → FlatProgram),
``semantics.flat.check`` (→ read counts), :func:`jvp`, :func:`unzip`,
:func:`transpose`, :func:`check_output`, ``semantics.flat.show``;
:func:`fast_vjp_text` composes them.

Failure is never an answer: if the input is outside the fragment or any fast
step fails, :func:`vjp_text` runs the reference pipeline, so errors are
always the reference's located errors (``require_fast=True`` raises
:class:`NotFast` instead, for benchmarks and tests).  The cyclic garbage
collector is paused during the pipeline (``semantics.gcpause``).
"""
from __future__ import annotations

from semantics.flat import (DUP, LADD, LDROP, LIT, NDROP, NTUP, NUNPACK, PRIM, RET, SCALE, ZERO,
                            FlatDef, FlatProgram, NotFlat, check, check_def, parse, show)
from semantics.gcpause import paused_gc
from semantics.parser import KEYWORDS, parse_program
from semantics.printer import show as show_ref
from semantics.primitives import MINUS_ONE, ONE, PRIMITIVES
from semantics.syntax import REAL, Param, TupleType
from semantics.typecheck import typecheck

from .compose import vjp_program
from .fresh import Fresh
from .jvp import SUFFIX as JVP_SUFFIX
from .transpose import SUFFIX as T_SUFFIX
from .unzip import LIN_SUFFIX, NL_SUFFIX


class NotFast(Exception):
    """``vjp_text(..., require_fast=True)`` could not take the fast path."""


def _own_fresh(d: FlatDef) -> Fresh:
    """``Fresh(d.binders())`` without copying a set built only for it (a 10^6-let
    definition has millions of names)."""
    if d.names is not None:
        return Fresh(d.names)
    fresh = Fresh()
    names = d.binders()
    names.update(fresh.used)        # the keywords
    fresh.used = names
    return fresh


def _first_fresh(names, base: str) -> str:
    """``Fresh(names)(base)`` without copying ``names``: the first of base,
    base_1, base_2, … that is neither in ``names`` nor a keyword."""
    name, k = base, 0
    while name in names or name in KEYWORDS:
        k += 1
        name = f"{base}_{k}"
    return name


class _Emitter:
    """The primitive table's emitter (``b.prim``, ``b.lit``), appending flat lets
    named ``c``, ``c_1``, … as ``transforms.fresh.Emitter`` does."""
    __slots__ = ("prim", "lit")

    def __init__(self, fresh: Fresh, out: list):
        append = out.append

        def prim(op: str, *args: str) -> str:
            name = fresh("c")
            append((PRIM, name, op, args))
            return name

        def lit(text: str) -> str:
            name = fresh("c")
            append((LIT, name, text))
            return name
        self.prim, self.lit = prim, lit


# ----------------------------------------------------------------------------
# JVP.


def read_counts(d: FlatDef) -> dict:
    """How many times each variable of a flat input definition is read."""
    left: dict[str, int] = {}
    get = left.get
    for t in d.lets:
        k = t[0]
        if k is PRIM:
            for x in t[3]:
                left[x] = get(x, 0) + 1
        elif k is NDROP:
            left[t[1]] = get(t[1], 0) + 1
    tail = d.tail
    for x in (tail[1] if tail[0] is RET else tail[3] if tail[0] is PRIM else ()):
        left[x] = get(x, 0) + 1
    return left


def jvp(d: FlatDef, counts: dict | None = None) -> FlatDef:
    """``f_jvp`` of a checked flat definition, exactly as ``transforms.jvp``.
    ``counts``: the read counts :func:`semantics.flat.check_def` returned for
    d (consumed), else they are counted here."""
    fresh = _own_fresh(d)
    used = fresh.used
    left = read_counts(d) if counts is None else counts
    theta: dict[str, str] = {}
    out: list = []
    append = out.append
    emitter = _Emitter(fresh, out)
    partials = {n: p.partials for n, p in PRIMITIVES.items()}

    def bind(x):
        theta[x] = t = fresh("d" + x)
        return t

    def tangent(x):
        """The tangent for one read of x (a ``dup`` unless it is the last read)."""
        t = theta[x]
        n = left[x]
        if n <= 1:
            return t
        a = fresh("d" + x)
        b = fresh("d" + x)
        append((DUP, a, b, t))
        theta[x] = b
        left[x] = n - 1
        return a

    def prim(t):
        """JPrim for the let ``t`` (already appended): partials, then the tangent of z."""
        z, op, args = t[1], t[2], t[3]
        coeffs = partials[op](emitter, args, z)
        base = "d" + z
        acc = None
        for c, x in zip(coeffs, args):
            tx = tangent(x)
            if c is ONE or c == ONE:
                s = tx
            else:
                if c is MINUS_ONE or c == MINUS_ONE:
                    c = fresh("m")
                    append((LIT, c, "-1"))
                if base in used:           # fresh(base), its common case inlined
                    s = fresh(base)
                else:
                    used.add(base)
                    s = base
                append((SCALE, s, c, tx))
            if acc is None:
                acc = s
            else:
                s2 = fresh(base)
                append((LADD, s2, acc, s))
                acc = s2
        if acc is None:             # a primitive of no arguments: tangent zero
            acc = fresh(base)
            append((ZERO, acc))
        theta[z] = acc

    dparams = [Param(bind(p.name), p.ty) for p in d.nl_params]
    for t in d.lets:
        k = t[0]
        append(t)
        if k is PRIM:
            prim(t)
        elif k is LIT:
            append((ZERO, bind(t[1])))
        elif k is NDROP:
            append((LDROP, tangent(t[1])))
        else:
            raise NotFlat(f"JVP of kind {k!r}")
    tail = d.tail
    if tail[0] is RET:
        new_tail = (RET, tail[1], tuple([tangent(x) for x in tail[1]]))
    else:
        r = fresh("r")
        if tail[0] is PRIM:
            t = (PRIM, r, tail[2], tail[3])
            append(t)
            prim(t)
        else:
            append((LIT, r, tail[2]))
            append((ZERO, bind(r)))
        new_tail = (RET, (r,), (theta[r],))
    return FlatDef(d.name + JVP_SUFFIX, list(d.nl_params), dparams, list(d.nl_out),
                   list(d.nl_out), out, new_tail, used)


# ----------------------------------------------------------------------------
# Unzip (save-all).


def unzip(d: FlatDef) -> tuple[FlatDef, FlatDef]:
    """``(f_nl, f_lin)`` of a JVP output, exactly as ``transforms.unzip`` under save-all."""
    nl_reads = set(d.tail[1])          # read by the non-linear half
    lin_reads = set()                  # non-linear variables read by the linear half
    nl_add, lin_add = nl_reads.add, lin_reads.add
    for t in d.lets:
        k = t[0]
        if k is SCALE:
            lin_add(t[2])
        elif k is PRIM:
            nl_reads.update(t[3])
        elif k is NDROP:
            nl_add(t[1])
        elif k is NTUP:
            nl_reads.update(t[2])
        elif k is NUNPACK:
            nl_add(t[2])
    nl_out: list = []
    lin_out: list = []
    residuals = [p.name for p in d.nl_params if p.name in lin_reads]
    nl_out.extend((NDROP, p.name) for p in d.nl_params
                  if p.name not in nl_reads and p.name not in lin_reads)
    nl_append, lin_append, res_append = nl_out.append, lin_out.append, residuals.append
    for t in d.lets:
        k = t[0]
        if k is SCALE or k is LADD or k is DUP or k is ZERO or k is LDROP:
            lin_append(t)
        elif k is PRIM or k is LIT or k is NTUP:
            nl_append(t)
            z = t[1]
            if z in lin_reads:
                res_append(z)
            elif z not in nl_reads:
                nl_append((NDROP, z))
        elif k is NDROP:
            nl_append(t)
        else:
            raise NotFlat(f"unzip of kind {k!r}")
    w = _first_fresh(d.binders(), "w")      # the reference's Fresh(f's names)("w")
    R = TupleType([REAL] * len(residuals))
    known = d.tail[1]
    nl_out.append((NTUP, w, tuple(residuals)))
    f_nl = FlatDef(d.name + NL_SUFFIX, list(d.nl_params), [], list(d.nl_out) + [R], [],
                   nl_out, (RET, known + (w,), ()))
    head = (NUNPACK, tuple(residuals), w) if residuals else (NDROP, w)
    lin_out.insert(0, head)
    f_lin = FlatDef(d.name + LIN_SUFFIX, [Param(w, R)], list(d.lin_params), [], list(d.lin_out),
                    lin_out, (RET, (), d.tail[2]))
    return f_nl, f_lin


# ----------------------------------------------------------------------------
# Transpose.


def transpose(d: FlatDef) -> FlatDef:
    """``f_T`` of a flat definition with no non-linear results, exactly as
    ``transforms.transpose``."""
    if d.nl_out or d.tail[1]:
        raise NotFlat("transpose of a definition with non-linear results")
    fresh = _own_fresh(d)
    used = fresh.used
    ct: dict[str, str] = {}
    pop = ct.pop

    def give(x):
        """A fresh cotangent variable for the linear input x: ct[x] := ct_x."""
        c = "ct_" + x
        if c in used:                   # fresh(c), its common case inlined
            c = fresh(c)
        else:
            used.add(c)
        ct[x] = c
        return c

    many = len(d.lin_out) > 1
    cparams = [Param(fresh("ct_" + (f"out{i + 1}" if many else "out")), ty)
               for i, ty in enumerate(d.lin_out)]
    for y, p in zip(d.tail[2], cparams):
        ct[y] = p.name
    out: list = []
    append = out.append
    front: list = []
    lets = d.lets
    for i in range(len(lets) - 1, -1, -1):
        t = lets[i]
        k = t[0]
        if k is SCALE:
            c = pop(t[1])
            append((SCALE, give(t[3]), t[2], c))
        elif k is LADD:
            c = pop(t[1])
            a = give(t[2])
            append((DUP, a, give(t[3]), c))
        elif k is DUP:
            ca = pop(t[1])
            cb = pop(t[2])
            append((LADD, give(t[3]), ca, cb))
        elif k is ZERO:
            append((LDROP, pop(t[1])))
        elif k is LDROP:
            append((ZERO, give(t[1])))
        elif k is PRIM or k is LIT or k is NTUP or k is NUNPACK or k is NDROP:
            front.append(t)
        else:
            raise NotFlat(f"transpose of kind {k!r}")
    front.reverse()
    ret = tuple([pop(p.name) for p in d.lin_params])
    if ct:
        raise NotFlat("cotangents left over")
    return FlatDef(d.name + T_SUFFIX, list(d.nl_params), cparams, [],
                   [p.ty for p in d.lin_params], front + out, (RET, (), ret))


# ----------------------------------------------------------------------------
# The pipeline.


def check_output(defs: list[FlatDef]) -> None:
    """The typing judgment on the vjp program (as the reference pipeline checks it)."""
    check(FlatProgram(defs))


def fast_vjp_text(text: str, fn: str) -> str:
    """The fast path alone: :class:`NotFlat` (or another exception) when it cannot answer."""
    with paused_gc():
        prog = parse(text)
        counts = check(prog)
        d = prog.get(fn)
        if d is None or prog.get(fn + JVP_SUFFIX) is not None:
            raise NotFlat(f"no function `{fn}`, or `{fn}{JVP_SUFFIX}` is taken")
        del prog                        # each stage's input is freed as soon as it is used
        jd = jvp(d, counts[fn])
        del d, counts
        f_nl, f_lin = unzip(jd)
        del jd
        defs = [f_nl, transpose(f_lin)]
        del f_lin
        check_output(defs)
        return show(defs)


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


__all__ = ["NotFast", "NotFlat", "jvp", "unzip", "transpose", "check_output",
           "fast_vjp_text", "reference_vjp_text", "vjp_text", "parse", "check", "check_def", "show"]
