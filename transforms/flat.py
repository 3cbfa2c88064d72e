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
  reads; names are those ``transforms.fresh.Fresh`` gives over the
  definition's names, in the reference's order of requests (:func:`_supply`:
  the same supply, by concatenation with cached suffixes; the checker's table
  of the input serves as the set of names taken).
* **Unzip**, save-all (``transforms.unzip``): every non-linear let goes to
  ``f_nl``, every linear one to ``f_lin``; the residuals are the non-linear
  variables the linear half reads (parameters first, then in binding order);
  a non-linear variable neither half reads is dropped right after its
  binding.  Binders being distinct and bound before use, the reference's
  backward pass over "still needed" sets equals two whole-definition read
  sets, computed in the forward pass that splits the lets.
* **Transpose** (``transforms.transpose``): linear lets visited last to first,
  ``+.`` ↔ ``dup``, ``zero`` ↔ ``drop``, ``*.`` self-adjoint, the cotangent of
  each linear variable kept in one map; non-linear lets in front.  Every
  name it asks for begins with ``ct_``, so its supply starts from the
  definition's names that do (:func:`_names_from`), not from all of them.

Speed (SPEC §15): the hot loops inline the per-let helpers and the name
supply's common cases; what did not pay was left out (templating the rules'
output per primitive cost more than calling them).

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
from .jvp import SUFFIX as JVP_SUFFIX
from .transpose import SUFFIX as T_SUFFIX
from .unzip import LIN_SUFFIX, NL_SUFFIX


class NotFast(Exception):
    """``vjp_text(..., require_fast=True)`` could not take the fast path."""


def _own_names(d: FlatDef) -> set:
    """The names ``Fresh(d.binders())`` starts from (the keywords included),
    without copying a set built only for it (a 10^6-let definition has
    millions of names)."""
    if d.names is not None:
        return d.names
    names = d.binders()
    names.update(KEYWORDS)
    return names


_SUFFIXES = [""]            # "", "_1", "_2", …: the name supply's suffixes, grown on demand


def _suffixes(k: int) -> list:
    """``_SUFFIXES``, holding index k (a concatenation is cheaper than a format)."""
    s = _SUFFIXES
    if k >= len(s):
        s.extend(["_" + str(i) for i in range(len(s), max(k + 1, len(s) * 3 // 2))])
    return s


def _adder(used):
    """``add`` for a set of names taken, or for a dict whose keys are the names."""
    return used.add if type(used) is set else used.setdefault


def _supply(used):
    """``transforms.fresh.Fresh`` over ``used`` (the set, or dict, itself: not a copy), as a
    function: the same names in the same order (base, then base_k with a
    counter per base), by concatenation with a cached suffix.  Returns the
    function and its counters (the hot loops below inline it)."""
    counters: dict[str, int] = {}
    get = counters.get
    add = _adder(used)
    suf = _SUFFIXES

    def fresh(base: str) -> str:
        if base not in used:
            add(base)
            return base
        k = get(base, 1)
        while True:
            try:
                name = base + suf[k]
            except IndexError:
                name = base + _suffixes(k)[k]
            if name not in used:
                break
            k += 1
        counters[base] = k + 1
        add(name)
        return name
    return fresh, counters


def _names_from(d: FlatDef, prefix: str) -> set:
    """The names of d's parameters and binders, and the keywords, that begin
    with ``prefix``: for a name supply whose every base begins with it, the
    same names as over all of d's names, from a smaller set."""
    lo, hi = prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)     # lo <= x < hi
    out = {x for x in KEYWORDS if lo <= x < hi}
    out.update(p.name for p in d.nl_params + d.lin_params if lo <= p.name < hi)
    add = out.add
    for t in d.lets:
        k = t[0]
        if k is NDROP or k is LDROP:
            continue
        if k is NUNPACK:
            out.update(x for x in t[1] if lo <= x < hi)
            continue
        if lo <= t[1] < hi:
            add(t[1])
        if k is DUP and lo <= t[2] < hi:
            add(t[2])
    return out


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

    def __init__(self, fresh, out: list):
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
    ``counts``: the table :func:`semantics.flat.check_def` returned for d
    (consumed: it becomes the names taken), else the reads are counted here."""
    if counts is None:
        left, used = read_counts(d), _own_names(d)
    else:       # the checker's table has every name of d: it is the names taken, too
        left = used = counts
        for kw in KEYWORDS:
            used.setdefault(kw)
    fresh, counters = _supply(used)
    theta = {p.name: fresh("d" + p.name) for p in d.nl_params}
    dparams = [Param(theta[p.name], p.ty) for p in d.nl_params]
    out: list = []
    append = out.append

    def tangent(x):
        """The tangent for one read of x: θ(x) at its last read (and x leaves
        θ, which so holds only the variables still to be read), else one half
        of a ``dup`` of it (inlined in :func:`_jvp_lets`)."""
        n = left[x]
        if n <= 1:
            return theta.pop(x)
        t = theta[x]
        a = fresh("d" + x)
        b = fresh("d" + x)
        append((DUP, a, b, t))
        theta[x] = b
        left[x] = n - 1
        return a

    state = (out, theta, left, used, fresh, counters, tangent, _Emitter(fresh, out),
             {n: p.partials for n, p in PRIMITIVES.items()})
    _jvp_lets(d.lets, *state)
    tail = d.tail
    if tail[0] is RET:
        new_tail = (RET, tail[1], tuple([tangent(x) for x in tail[1]]))
    else:
        r = fresh("r")
        _jvp_lets([(tail[0], r) + tail[2:]], *state)
        new_tail = (RET, (r,), (theta[r],))
    return FlatDef(d.name + JVP_SUFFIX, list(d.nl_params), dparams, list(d.nl_out),
                   list(d.nl_out), out, new_tail, used)


def _jvp_lets(lets, out, theta, left, used, fresh, counters, tangent, emitter, partials):
    """JLet over ``lets``: each let, then (JPrim) its partials and the tangent of
    its result, or (JLit) a zero tangent, or (JDrop) the drop of a tangent.
    Name requests are the reference's, in its order.  The hot path inlines
    ``tangent`` and the name supply (for a ``dup``, whose base is always
    taken already, its second case)."""
    append = out.append
    add = _adder(used)
    pop = theta.pop
    suf = _SUFFIXES
    for t in lets:
        k = t[0]
        if k is PRIM:
            append(t)
            _, z, op, args = t
            coeffs = partials[op](emitter, args, z)
            acc = None
            for c, x in zip(coeffs, args):
                n = left[x]
                if n <= 1:                  # x's last read: θ(x) leaves the (small) map
                    tx = pop(x)
                else:                       # split its tangent, a, b
                    tx = theta[x]
                    base = "d" + x          # taken, unless θ(x) is a tangent a rule passed on
                    j = counters.get(base, 1) if base in used else 0
                    a = None
                    while True:
                        try:
                            name = base + suf[j]
                        except IndexError:
                            name = base + _suffixes(j)[j]
                        j += 1
                        if name not in used:
                            add(name)
                            if a is not None:
                                break
                            a = name
                    counters[base] = j
                    append((DUP, a, name, tx))
                    theta[x] = name
                    left[x] = n - 1
                    tx = a
                if c is ONE or c == ONE:
                    s = tx
                else:
                    if c is MINUS_ONE or c == MINUS_ONE:
                        c = fresh("m")
                        append((LIT, c, "-1"))
                    s = "d" + z
                    if s in used:
                        s = fresh(s)
                    else:
                        add(s)
                    append((SCALE, s, c, tx))
                if acc is None:
                    acc = s
                else:
                    s2 = fresh("d" + z)
                    append((LADD, s2, acc, s))
                    acc = s2
            if acc is None:             # a primitive of no arguments: tangent zero
                acc = fresh("d" + z)
                append((ZERO, acc))
            theta[z] = acc
        elif k is LIT:
            append(t)
            base = "d" + t[1]
            if base in used:
                base = fresh(base)
            else:
                add(base)
            theta[t[1]] = base
            append((ZERO, base))
        elif k is NDROP:
            append(t)
            append((LDROP, tangent(t[1])))
        else:
            raise NotFlat(f"JVP of kind {k!r}")


# ----------------------------------------------------------------------------
# Unzip (save-all).


def unzip(d: FlatDef) -> tuple[FlatDef, FlatDef]:
    """``(f_nl, f_lin)`` of a JVP output, exactly as ``transforms.unzip`` under save-all."""
    nl_reads = set(d.tail[1])          # read by the non-linear half
    lin_reads = set()                  # non-linear variables read by the linear half
    nl_lets: list = []
    lin_out: list = [None]             # the head (the residuals' unpack) goes first
    nl_add, lin_add, nl_update = nl_reads.add, lin_reads.add, nl_reads.update
    nl_keep, lin_append = nl_lets.append, lin_out.append
    for t in d.lets:                   # split the lets, and collect the reads
        k = t[0]
        if k is SCALE:
            lin_append(t)
            lin_add(t[2])
        elif k is PRIM:
            nl_keep(t)
            nl_update(t[3])
        elif k is LADD or k is DUP or k is ZERO or k is LDROP:
            lin_append(t)
        elif k is LIT:
            nl_keep(t)
        elif k is NDROP:
            nl_keep(t)
            nl_add(t[1])
        elif k is NTUP:
            nl_keep(t)
            nl_update(t[2])
        else:
            raise NotFlat(f"unzip of kind {k!r}")
    residuals = [p.name for p in d.nl_params if p.name in lin_reads]
    nl_out = [(NDROP, p.name) for p in d.nl_params
              if p.name not in nl_reads and p.name not in lin_reads]
    nl_append, res_append = nl_out.append, residuals.append
    for t in nl_lets:                  # each binding: a residual, read here, or dropped
        nl_append(t)
        if t[0] is not NDROP:
            z = t[1]
            if z in lin_reads:
                res_append(z)
            elif z not in nl_reads:
                nl_append((NDROP, z))
    del nl_lets
    w = _first_fresh(d.binders(), "w")      # the reference's Fresh(f's names)("w")
    R = TupleType([REAL] * len(residuals))
    known = d.tail[1]
    nl_out.append((NTUP, w, tuple(residuals)))
    f_nl = FlatDef(d.name + NL_SUFFIX, list(d.nl_params), [], list(d.nl_out) + [R], [],
                   nl_out, (RET, known + (w,), ()))
    lin_out[0] = (NUNPACK, tuple(residuals), w) if residuals else (NDROP, w)
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
    used = _names_from(d, "ct_")        # all the names a request for ct_… can meet
    fresh = _supply(used)[0]
    ct: dict[str, str] = {}
    pop = ct.pop

    def give(x):
        """A fresh cotangent variable for the linear input x: ct[x] := ct_x
        (inlined for ``*.`` and ``dup``, the most frequent lets)."""
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
    add = used.add
    for t in reversed(d.lets):
        k = t[0]
        if k is SCALE or k is DUP:      # the most frequent lets: give(l) inlined
            _, a, b, l = t              # (*., z, x, l) or (dup, a, b, l)
            cl = "ct_" + l
            if cl in used:
                cl = fresh(cl)
            else:
                add(cl)
            ct[l] = cl
            append((SCALE, cl, b, pop(a)) if k is SCALE else (LADD, cl, pop(a), pop(b)))
        elif k is LADD:
            c = pop(t[1])
            a = give(t[2])
            append((DUP, a, give(t[3]), c))
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
