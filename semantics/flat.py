r"""The flat form: a fast front end, checker and printer for straight-line real code.

``semantics.parser`` / ``typecheck`` / ``printer`` are the reference: an AST
node per construct and a derivation per rule.  This module is a second path
beside them for the programs that are nothing but a let-chain of scalar
primitives -- the shape of unrolled numerical code, and of the benchmark
chains -- where the reference's per-node objects dominate the cost.  It must
agree with the reference exactly: :func:`parse` accepts only text the
reference parser reads the same way, :func:`check` accepts only what the
typing judgment accepts, and :func:`show` prints byte for byte what
``semantics.show`` prints for the equivalent Program.  Anything else is
"not in the fragment" (:class:`NotFlat`): the caller then uses the reference.

**The flat fragment (input).**  A program every definition of which

* has real non-linear parameters only (``x: real, …``, no ``;``) and real
  non-linear results only (``-> (real, … ;)``), its head on one line;
* has a body that is a let-chain, one ``let`` per line, of
  ``let (z ;) = rhs in`` (no type annotation on z) where rhs is
  a primitive of the table on variables (``sin(x)``, ``pow(x, y)``, infix
  ``x * y``; ``ln`` = ``log``) or a literal, and of ``let (;) = drop(x) in``;
* ends with a tail line that is a return of variables ``(x, y ;)`` or a
  primitive or literal.

Blank lines and ``#`` comments may stand anywhere.  Calls, tuples, unpacks,
nested right-hand sides, linear code, type annotations on lets and any other
layout are outside (the reference handles them).  Of ``examples/*.la``,
``chain``, ``pottier``, ``pythagoras``, ``seed``, ``sin`` and ``square`` are
inside; ``linear`` (linear code) and ``matvec`` (tuples, calls) are outside.
Lines are recognised by one compiled regular expression, anchored on both
ends, with possessive names and numbers and keywords excluded from names, so
a match is exactly the reference tokenizer's reading; every line of the text
must match, or the text is not in the fragment.  (One pass of a simpler
expression first reads the lets laid out as the printer lays them out, the
bulk of a long chain, with the same names and groups; it hands every other
line to the full one.)

**The flat form** (also what the transforms produce, linear code included).
A definition is a :class:`FlatDef`: its name, parameters (``Param`` lists,
as ``semantics.syntax.Def``), result types, a list ``lets`` with one tuple
per ``let`` and a ``tail``.  The first item of a tuple is its kind:

====================================  ======================================
``(PRIM, z, op, args)``               ``let (z ;) = op(args) in`` (infix for + - * /)
``(LIT, z, text)``                    ``let (z ;) = text in``
``(NDROP, v)`` / ``(LDROP, v)``       ``let (;) = drop(v) in`` (v non-linear / linear)
``(NTUP, z, names)``                  ``let (z ;) = (names) in``
``(NUNPACK, names, src)``             ``let (names) = src in``
``(ZERO, z)``                         ``let (; z) = zero : real in``
``(SCALE, z, x, l)``                  ``let (; z) = x *. l in``
``(LADD, z, a, b)``                   ``let (; z) = a +. b in``
``(DUP, a, b, l)``                    ``let (; a, b) = dup(l) in``
====================================  ======================================

and the tail is ``(RET, nl_names, lin_names)`` or, in the input fragment, a
leaf ``(PRIM, None, op, args)`` / ``(LIT, None, text)``.  Every variable is a
real except the residual tuple (NTUP's binder, NUNPACK's source), a
non-linear tuple of reals.  :func:`show` makes each kind of line from the
reference printer's own functions (``_group``, ``show_leaf``,
``show_def_head``), so the two printers cannot drift apart.

:func:`check` is the typing judgment (SPEC §3) on this form: binders fresh
(distinct from each other and the parameters), every read of a bound, earlier
variable of the right class and type, primitive arities, finite literals,
non-linear variables read at least once and linear ones exactly once, results
matching the declared types; for a program, distinct definition names that
are not primitives.  It reports no positions: on any failure the caller runs
the reference, whose error is the one users see.  It is one loop over the
lets with a branch per kind, its table of non-linear read counts and a small
set of the linear variables not yet read (a linear variable lives for a few
lets, so linear code mostly touches that set).
"""
from __future__ import annotations

import math
import re

from .parser import KEYWORDS
from .primitives import INFIX, PRIMITIVES, SYNONYMS
from .printer import _group, show_bind_head, show_def_head, show_leaf
from .syntax import (REAL, Drop, Dup, LAdd, Lit, NTup, NUnpack, Param, Prim, Scale, TupleType,
                     Zero)

# Kinds of let (the first item of a let tuple) and the return tail.
PRIM, LIT, NDROP, LDROP, NTUP, NUNPACK, ZERO, SCALE, LADD, DUP, RET = range(11)


class NotFlat(Exception):
    """The input is outside the flat fragment, or a fast check failed: use the reference."""


class FlatDef:
    """One definition in flat form (see the module docstring).  ``names``, when
    not None, is the set of every parameter and binder name (or a dict with
    those keys), perhaps with the keywords and non-names such as " tail" too:
    a producer that has it (JVP's name supply) passes it on for the next
    stage's fresh names, which then need not rescan the lets."""
    __slots__ = ("name", "nl_params", "lin_params", "nl_out", "lin_out", "lets", "tail", "names")

    def __init__(self, name, nl_params, lin_params, nl_out, lin_out, lets, tail, names=None):
        self.name = name
        self.nl_params = nl_params
        self.lin_params = lin_params
        self.nl_out = nl_out
        self.lin_out = lin_out
        self.lets = lets
        self.tail = tail
        self.names = names

    def binders(self) -> set:
        """Every parameter and binder name (``names`` if known)."""
        if self.names is not None:
            return self.names
        out = {p.name for p in self.nl_params}
        out.update(p.name for p in self.lin_params)
        add = out.add
        for t in self.lets:
            k = t[0]
            if k is NUNPACK:
                out.update(t[1])
            elif k is DUP:
                add(t[1]); add(t[2])
            elif k is not NDROP and k is not LDROP:
                add(t[1])
        return out


class FlatProgram:
    __slots__ = ("defs", "file")

    def __init__(self, defs, file=None):
        self.defs = defs
        self.file = file

    def get(self, name):
        for d in self.defs:
            if d.name == name:
                return d
        return None


# ----------------------------------------------------------------------------
# Parsing.

_WS = r"[ \t\r\f]*"
_KW = "|".join(sorted(KEYWORDS))
_NAME = rf"(?!(?:{_KW})(?![A-Za-z_0-9']))[A-Za-z_][A-Za-z_0-9']*+"
_NUM = r"(?>-?(?:[0-9]++\.?[0-9]*+|\.[0-9]++)(?:[eE][+-]?[0-9]++)?)"
_RHS = (rf"(?:({_NAME}){_WS}([-+*/]){_WS}({_NAME})"                          # 2-4 infix
        rf"|({_NAME}){_WS}\({_WS}({_NAME})(?:{_WS},{_WS}({_NAME}))?{_WS}\)"    # 5-7 op(x[, y])
        rf"|({_NUM}))")                                                       # 8 literal
_LINE = re.compile(
    rf"^{_WS}(?:"
    rf"(?:let{_WS}\({_WS}({_NAME}){_WS};{_WS}\){_WS}={_WS})?"      # 1 binder
    rf"{_RHS}(?(1){_WS}in)"
    rf"|let{_WS}\({_WS};{_WS}\){_WS}={_WS}drop{_WS}\({_WS}({_NAME}){_WS}\){_WS}in"  # 9 drop
    rf"|def[ \t\r\f]+({_NAME}){_WS}\({_WS}"                                          # 10 name
    rf"((?:{_NAME}{_WS}:{_WS}real(?:{_WS},{_WS}{_NAME}{_WS}:{_WS}real)*)?)"      # 11 params
    rf"{_WS}\){_WS}->{_WS}\({_WS}((?:real(?:{_WS},{_WS}real)*)?){_WS};{_WS}\){_WS}="  # 12 outs
    rf"|(\({_WS}(?:{_NAME}(?:{_WS},{_WS}{_NAME})*)?){_WS};{_WS}\)"                # 13 return
    rf")?{_WS}(?:#.*)?$", re.M)
# A let laid out as the printer lays it out (groups 1-8 as in _LINE), or any line.
_FAST_LINE = re.compile(
    rf"^(?:  let \(({_NAME}) ;\) = (?:({_NAME}) ([-+*/]) ({_NAME})"
    rf"|({_NAME})\(({_NAME})(?:, ({_NAME}))?\)|({_NUM})) in|(.*))$", re.M)
_PARAM_NAME = re.compile(r"([A-Za-z_][A-Za-z_0-9']*)[ \t\r\f]*:")
_RET_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9']*")

_PRIM_OF = {n: n for n in PRIMITIVES}
_PRIM_OF.update((s, p) for s, p in SYNONYMS.items() if p in PRIMITIVES)


def parse(text: str, file: str | None = None) -> FlatProgram:
    """The flat form of ``text``, which the reference parser reads as the same
    program; :class:`NotFlat` if the text is outside the flat fragment.  One
    ``findall`` reads every line laid out as the printer lays out a let; any
    other line is read by ``_LINE``."""
    lines = _FAST_LINE.findall(text)
    if len(lines) != text.count("\n") + 1:
        raise NotFlat("a line outside the flat fragment")
    defs = []
    lets = None          # the current definition's lets; None between definitions
    head = None
    prims, infix = _PRIM_OF, INFIX
    for z, a, sym, b, fn, x, y, num, other in lines:
        if z:                   # a let laid out as printed
            dname = None
        else:
            m = _LINE.fullmatch(other)
            if m is None:
                raise NotFlat("a line outside the flat fragment")
            z, a, sym, b, fn, x, y, num, dv, dname, params, outs, ret = m.groups()
        if lets is None:
            if dname:
                head = (dname, params, outs)
                lets = []
                append = lets.append
                continue
            if z or a or fn or num or dv or ret:
                raise NotFlat("code outside a definition")
            continue
        if z:
            if sym:
                append((PRIM, z, infix[sym], (a, b)))
            elif fn:
                op = prims.get(fn)
                if op is None:
                    raise NotFlat(f"`{fn}` is not a primitive")
                append((PRIM, z, op, (x, y) if y else (x,)))
            else:
                append((LIT, z, num))
        elif dv:
            append((NDROP, dv))
        elif dname:
            raise NotFlat("a definition without a body")
        elif ret or a or fn or num:
            if ret:
                tail = (RET, tuple(_RET_NAME.findall(ret)), ())
            elif sym:
                tail = (PRIM, None, infix[sym], (a, b))
            elif fn:
                op = prims.get(fn)
                if op is None:
                    raise NotFlat(f"`{fn}` is not a primitive")
                tail = (PRIM, None, op, (x, y) if y else (x,))
            else:
                tail = (LIT, None, num)
            name, ps, os = head
            defs.append(FlatDef(name, [Param(p, REAL) for p in _PARAM_NAME.findall(ps)], [],
                                [REAL] * os.count("real"), [], lets, tail))
            lets = None
    if lets is not None or not defs:
        raise NotFlat("no complete definition")
    return FlatProgram(defs, file)


# ----------------------------------------------------------------------------
# Checking (the typing judgment on the flat form).


def check(prog: FlatProgram) -> dict:
    """Check every definition; returns {name: {variable: code}}, the code of a
    non-linear real being its read count (see ``_check_def``).
    Raises :class:`NotFlat` wherever the typing judgment would fail (or where
    this checker cannot tell)."""
    seen = set()
    counts = {}
    for d in prog.defs:
        if d.name in seen or d.name in PRIMITIVES:
            raise NotFlat(f"definition `{d.name}` is a duplicate or a primitive's name")
        seen.add(d.name)
        counts[d.name] = check_def(d)
    return counts


def check_def(d: FlatDef) -> dict:
    """The typing judgment for one flat definition; returns the read count of
    every non-linear real variable (a negative code for the others).  Raises
    :class:`NotFlat` (with no position) on failure."""
    try:
        return _check_def(d)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise NotFlat(f"`{d.name}` does not check ({type(e).__name__}: {e})") from None


# A variable's entry in the checker's table, a small int: a non-linear real's
# read count (>= 0); _LIN for a linear variable; _TUP - its read count for a
# non-linear tuple.
_LIN = -1
_TUP = -3
_TAIL = " tail"         # not a name


def _check_def(d: FlatDef) -> dict:
    """One table ``uses``: variable -> code (KeyError: not bound yet), and the
    set ``live`` of the linear variables bound and not yet read: a linear read
    is ``live.remove`` (KeyError: not bound, read already, or not linear), so
    linear code only touches a small set once bound.  Binders are counted as
    they come and compared with the table's size at the end (a name bound
    twice leaves the table smaller).  One loop, its branches in order of
    frequency, no calls per let beyond the sets' and tables' own."""
    uses: dict[str, int] = {}
    live: set[str] = set()
    tuples: dict[str, object] = {}        # non-linear tuple variable -> its type
    real, LIN, TUP = REAL, _LIN, _TUP
    for p in d.nl_params:
        if p.ty is real:
            uses[p.name] = 0
        elif type(p.ty) is TupleType and all(t is real for t in p.ty.items):
            uses[p.name] = TUP
            tuples[p.name] = p.ty
        else:
            raise NotFlat("a parameter of nested tuple type")
    for p in d.lin_params:
        if p.ty is not real:
            raise NotFlat("a linear parameter that is not real")
        uses[p.name] = LIN
        live.add(p.name)
    bind, read = live.add, live.remove
    arity = _ARITY
    lets = d.lets
    tail = d.tail
    nbound = len(d.nl_params) + len(d.lin_params) + len(lets)
    if tail[0] is not RET:          # a leaf tail: checked as a let binding a dummy name
        lets = lets + [tail[:1] + (_TAIL,) + tail[2:]]
        nbound += 1
    for t in lets:
        k = t[0]
        if k is PRIM:
            _, z, op, args = t
            if len(args) != arity[op]:
                raise NotFlat(f"arity of `{op}`")
            for x in args:
                c = uses[x]
                if c < 0:
                    raise NotFlat(f"`{x}` is not a non-linear real")
                uses[x] = c + 1
            uses[z] = 0
        elif k is SCALE:
            _, z, x, l = t
            c = uses[x]
            if c < 0:
                raise NotFlat(f"`{x}` is not a non-linear real")
            uses[x] = c + 1
            read(l)
            uses[z] = LIN
            bind(z)
        elif k is DUP:
            _, a, b, l = t
            read(l)
            uses[a] = uses[b] = LIN
            bind(a)
            bind(b)
            nbound += 1
        elif k is LADD:
            _, z, a, b = t
            read(a)
            read(b)
            uses[z] = LIN
            bind(z)
        elif k is LIT:
            if not math.isfinite(float(t[2])):
                raise NotFlat("a literal that is not a finite real")
            uses[t[1]] = 0
        elif k is ZERO:
            uses[t[1]] = LIN
            bind(t[1])
        elif k is NDROP:
            c = uses[t[1]]
            if c == LIN:
                raise NotFlat(f"`{t[1]}` is linear")
            uses[t[1]] = c + 1 if c >= 0 else c - 1
            nbound -= 1
        elif k is LDROP:
            read(t[1])
            nbound -= 1
        elif k is NTUP:
            tys = []
            for x in t[2]:
                c = uses[x]
                if c < 0:               # tuples of reals only (the residual tuple)
                    raise NotFlat(f"`{x}` is not a non-linear real")
                uses[x] = c + 1
                tys.append(real)
            uses[t[1]] = TUP
            tuples[t[1]] = TupleType(tys)
        elif k is NUNPACK:
            names, src = t[1], t[2]
            c = uses[src]
            if c > TUP or len(tuples[src].items) != len(names):
                raise NotFlat(f"cannot unpack `{src}`")
            uses[src] = c - 1
            for n in names:
                uses[n] = 0
            nbound += len(names) - 1
        else:
            raise NotFlat(f"unknown kind {k!r}")
    if tail[0] is RET:
        _, nl, lin = tail
        nl_t = []
        for x in nl:
            c = uses[x]
            if c == LIN:
                raise NotFlat(f"`{x}` is linear")
            uses[x] = c + 1 if c >= 0 else c - 1
            nl_t.append(real if c >= 0 else tuples[x])
        for y in lin:
            read(y)
        lin_t = [real] * len(lin)
    else:
        nl_t, lin_t = [real], []
        uses[_TAIL] = 1
    if nl_t != list(d.nl_out) or lin_t != list(d.lin_out):
        raise NotFlat("the results do not match the declared types")
    if len(uses) != nbound:
        raise NotFlat("a name is bound twice")
    if live:
        raise NotFlat("a linear variable is never used")
    if not {0, TUP}.isdisjoint(uses.values()):
        raise NotFlat("a variable is never used")
    return uses


_ARITY = {n: p.arity for n, p in PRIMITIVES.items()}


# ----------------------------------------------------------------------------
# Printing (byte for byte ``semantics.show`` of the equivalent Program).


def _pieces():
    """Each kind of line as the reference printer writes it, split around its
    variables: made by printing nodes whose variables are a marker, so the two
    printers cannot drift apart.  Per primitive for PRIM (the binder, then the
    arguments in order), per kind for the others (the tuple's items after the
    kind, in order)."""
    v = "\x00"
    line = lambda nl, lin, leaf: tuple(f"  let {_group(nl, lin)} = {show_leaf(leaf)} in".split(v))
    prim = {name: line([v], [], Prim(name, [v] * p.arity)) for name, p in PRIMITIVES.items()}
    kinds = {LIT: line([v], [], Lit(v)), NDROP: line([], [], Drop(v)),
             LDROP: line([], [], Drop(v)), ZERO: line([], [v], Zero(REAL)),
             SCALE: line([], [v], Scale(v, v)), LADD: line([], [v], LAdd(v, v)),
             DUP: line([], [v, v], Dup(v))}
    return prim, kinds


_PRIM_TEXT, _KIND_TEXT = _pieces()


def _leaf_text(t) -> str:
    """A tail leaf ``op(args)`` / literal, as the printer writes it."""
    return show_leaf(Lit(t[2]) if t[0] is LIT else Prim(t[2], t[3]))


def def_lines(d: FlatDef, lines: list) -> None:
    """Append the printed lines of ``d`` (head, body at indent 2) to ``lines``
    (one f-string per line: the hot loop of printing)."""
    lines.append(show_def_head(d))
    append = lines.append
    prim_text = _PRIM_TEXT
    s0, s1, s2, s3 = _KIND_TEXT[SCALE]
    a0, a1, a2, a3 = _KIND_TEXT[LADD]
    d0, d1, d2, d3 = _KIND_TEXT[DUP]
    l0, l1, l2 = _KIND_TEXT[LIT]
    z0, z1 = _KIND_TEXT[ZERO]
    r0, r1 = _KIND_TEXT[NDROP]
    for t in d.lets:
        k = t[0]
        if k is PRIM:
            args = t[3]
            p = prim_text[t[2]]
            if len(args) == 1 and len(p) == 3:
                append(f"{p[0]}{t[1]}{p[1]}{args[0]}{p[2]}")
            elif len(args) == 2 and len(p) == 4:
                append(f"{p[0]}{t[1]}{p[1]}{args[0]}{p[2]}{args[1]}{p[3]}")
            else:   # an arity the checker refuses; printed as the reference would
                append(f"  let ({t[1]} ;) = {_leaf_text(t)} in")
        elif k is SCALE:
            append(f"{s0}{t[1]}{s1}{t[2]}{s2}{t[3]}{s3}")
        elif k is LADD:
            append(f"{a0}{t[1]}{a1}{t[2]}{a2}{t[3]}{a3}")
        elif k is DUP:
            append(f"{d0}{t[1]}{d1}{t[2]}{d2}{t[3]}{d3}")
        elif k is LIT:
            append(f"{l0}{t[1]}{l1}{t[2]}{l2}")
        elif k is ZERO:
            append(f"{z0}{t[1]}{z1}")
        elif k is NDROP or k is LDROP:
            append(f"{r0}{t[1]}{r1}")
        elif k is NTUP:
            append(f"  let ({t[1]} ;) = {show_leaf(NTup(t[2]))} in")
        elif k is NUNPACK:
            append(f"  {show_bind_head(NUnpack(t[1], t[2]))} in")
        else:
            raise NotFlat(f"unknown kind {k!r}")
    tail = d.tail
    append("  " + (_group(tail[1], tail[2]) if tail[0] is RET else _leaf_text(tail)))


def show(prog) -> str:
    """The text ``semantics.show`` prints for the equivalent Program (a
    FlatProgram or a list of FlatDefs)."""
    defs = prog.defs if isinstance(prog, FlatProgram) else prog
    chunks = []
    for d in defs:
        lines: list = []
        def_lines(d, lines)
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + "\n"
