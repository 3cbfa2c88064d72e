r"""The flat form: a fast front end, checker and printer for straight-line code.

``linear_a.semantics.parser`` / ``typecheck`` / ``printer`` are the reference: an AST
node per construct and a derivation per rule.  This module is a second path
beside them for straight-line programs -- let-chains of primitives,
literals, tuples, unpacks, calls and nested right-hand sides, the shape of
unrolled numerical code and of the benchmark chains -- where the
reference's per-node objects dominate the cost.  It must agree with the
reference exactly: :func:`parse` accepts only text the reference parser
reads the same way, :func:`check` accepts only what the typing judgment
accepts, and :func:`show` prints byte for byte what
``linear_a.semantics.show`` prints for the equivalent Program.  Anything else
is "not in the fragment" (:class:`NotFlat`): the caller then uses the
reference, whose located error is the one users see.

**The fragment (input).**  Every purely non-linear program: definitions
whose parameters and results are non-linear (of any type: ``real`` and
tuples), whose bodies are let-chains of ``let (z̄ [: τ̄] ;) = rhs in``
(rhs a primitive of the table, infix or not, ``ln`` = ``log``; a literal;
a tuple of variables; a return ``(x̄ ;)``; a call ``g(x̄)`` of an earlier
definition; a nested let-chain), unpacks ``let (ȳ) = x in`` and drops,
ending in a return or any of those leaves.  Linear code in the input is
outside (the reference transforms refuse it anyway), and so is a body
nested deeper than the reference parser's limit.  Of ``examples/*.la``
only ``linear`` is outside.

**One front end for every layout.**  ``_TOKEN`` is the reference
tokenizer's token pattern run once over the whole text (newlines are white
space), with two alternatives tried first that read a whole common let
(``let (z [: real] ;) = x op y | f(x[, y]) | number in``, ``let (;) = drop(x)
in``) in one match, with any spacing and line breaks inside; such a match
reads exactly the tokens the reference reads there.  ``_Reader`` is a
recursive-descent parser mirroring ``parser.Parser`` rule for rule over
these tokens.  So comments, blank lines, CRLF, tabs, annotations, ``;)``
parameter lists, trailing commas and expression tails all take the same
path, at about the same speed (``benchmarks/bench_pipeline.py --layouts``).

**Variables are integers.**  A definition's variables are numbered 0, 1, 2,
… in binding order and its ``names`` table maps a number to its name (the
parser resolves each read to the number of the binding it reads, so an
unbound read or a name bound twice is "not in the fragment": the reference
reports it).  Names are strings only in that table: the checker's and the
transformations' tables are lists indexed by variable, which on a
10^5–10^6-let program are several times faster than dictionaries keyed by
names (whose slots are scattered in memory: a cache miss per lookup).  A
table may hold names of variables its definition does not bind (the two
halves of an unzipped definition share one); a definition's names are those
of its parameters and binders.

**The flat form** (also what the transforms produce, linear code included).
A definition is a :class:`FlatDef`: its name, its ``names`` table,
parameters as ``(variable, type)`` pairs, result types, a list ``lets`` with
one tuple per ``let`` and a ``tail``.  The first item of a tuple is its kind:

========================================  ======================================
``(PRIM, z, op, args)``                   ``let (z ;) = op(args) in`` (infix for + - * /)
``(LIT, z, text)``                        ``let (z ;) = text in``
``(NDROP, v)`` / ``(LDROP, v)``           ``let (;) = drop(v) in`` (v non-linear / linear)
``(NTUP, z, vars)`` / ``(LTUP, z, vars)`` ``let (z ;) = (vars) in`` / ``let (; z) = (vars) in``
``(NUNPACK, vars, src)`` / ``LUNPACK``    ``let (vars) = src in``
``(ZERO, z[, type])``                     ``let (; z) = zero : type in`` (real if absent)
``(SCALE, z, x, l)``                      ``let (; z) = x *. l in``
``(LADD, z, a, b)``                       ``let (; z) = a +. b in``
``(DUP, a, b, l)``                        ``let (; a, b) = dup(l) in``
``(CALL, z̄, l̄, g, x̄, ȳ)``                 ``let (z̄ ; l̄) = g(x̄ ; ȳ) in``
``(RETLET, z̄, l̄, x̄, ȳ)``                  ``let (z̄ ; l̄) = (x̄ ; ȳ) in``
``(BLOCK, z̄, lets, tail)``                ``let (z̄ ;) =`` a nested let-chain ``in`` (input only)
========================================  ======================================

and the tail is ``(RET, nl_vars, lin_vars)`` or, in the input, a leaf
``(PRIM, None, op, args)``, ``(LIT, None, text)``, ``(NTUP, None, vars)``,
``(CALL, None, (), g, args, ())`` or ``(NDROP, v)``.  ``FlatDef.ann`` keeps
the input's annotations (printed; checked), ``FlatDef.nested`` whether it
has a BLOCK.  :func:`flat_def` builds a definition from names (for tests and
hand-made examples).  :func:`show` writes the frequent lines as literal
f-strings (``LITERAL_LINES``) and the rest with the reference printer's own
functions (``_group``, ``show_leaf``, ``show_bind_head``, ``show_def_head``);
a test checks the literals against the pieces the reference printer makes
(``_KIND_TEXT``, ``_PRIM_TEXT``), so the two printers cannot drift apart.

:func:`check` is the typing judgment (SPEC §3) on this form: every read of a
variable bound earlier and in scope, of the right class and type, each
variable bound once, the names of a definition's variables distinct,
primitive arities, finite literals, calls matching the callee's signature
(an earlier definition), non-linear variables read at least once and linear
ones exactly once, results and annotations matching the declared types; for
a program, distinct definition names that are not primitives.  It reports
no positions: on any failure the caller runs the reference.  Two checkers:
``_check_def``, one loop with a branch per kind for real code and tuples of
reals, a list of codes indexed by variable (a non-linear real's read count)
and a small set of the linear variables not yet read (the hot path of long
chains and of the transforms' output); and :func:`check_typed`, which keeps
every variable's type and scope, for everything else (it decides wherever
the first declines).
"""
from __future__ import annotations

import math
import re
from itertools import compress

from .parser import KEYWORDS, MAX_NESTING
from .primitives import INFIX, PRIMITIVES, SYNONYMS
from .printer import _group, show_bind_head, show_def_head, show_leaf
from .typecheck import MAX_TYPE_DEPTH, type_depth
from .syntax import (REAL, Call, Drop, Dup, LAdd, Lit, LTup, LUnpack, NTup, NUnpack, Param, Prim, Scale, TupleType,
                     Zero)

# Kinds of let (the first item of a let tuple) and the return tail.
PRIM, LIT, NDROP, LDROP, NTUP, NUNPACK, ZERO, SCALE, LADD, DUP, RET, LTUP, LUNPACK, CALL, RETLET, BLOCK \
    = range(16)


class NotFlat(Exception):
    """The input is outside the flat fragment, or a fast check failed: use the reference."""


class FlatDef:
    """One definition in flat form (see the module docstring): variables are
    indices into ``names``; parameters are ``(variable, type)`` pairs."""
    __slots__ = ("name", "names", "nl_params", "lin_params", "nl_out", "lin_out", "lets", "tail",
                 "ann", "nested")

    def __init__(self, name, names, nl_params, lin_params, nl_out, lin_out, lets, tail, ann=None):
        self.name = name
        self.names = names
        self.nl_params = nl_params
        self.lin_params = lin_params
        self.nl_out = nl_out
        self.lin_out = lin_out
        self.lets = lets
        self.tail = tail
        self.nested = False     # some right-hand side is a let-chain (input programs only)
        self.ann = {} if ann is None else ann    # {binder: type} written in the input (printed; no transform keeps them)

    def bound(self) -> list:
        """The variables the definition binds: parameters, then binders in order."""
        out = [v for v, _ in self.nl_params]
        out += [v for v, _ in self.lin_params]
        for t in self.lets:
            k = t[0]
            if k is NUNPACK or k is LUNPACK:
                out += t[1]
            elif k is CALL or k is RETLET:
                out += t[1] + t[2]
            elif k is DUP:
                out += t[1:3]
            elif k is not NDROP and k is not LDROP:
                out.append(t[1])
        return out

    def bound_names(self) -> set:
        """The names of its parameters and binders."""
        names = self.names
        return {names[v] for v in self.bound()}


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


def flat_def(name, nl_params, lin_params, nl_out, lin_out, lets, tail) -> FlatDef:
    """A FlatDef from names: ``nl_params``/``lin_params`` are Params, the lets
    and the tail name their variables.  Each name becomes one variable (in
    order of first appearance), so a name bound twice is a variable bound
    twice, and a name never bound a variable read unbound."""
    names: list = []
    ids: dict = {}

    def v(x):
        if x is None:
            return None
        if x not in ids:
            ids[x] = len(names)
            names.append(x)
        return ids[x]

    vs = lambda xs: tuple(v(x) for x in xs)
    nl = [(v(p.name), p.ty) for p in nl_params]
    lin = [(v(p.name), p.ty) for p in lin_params]
    out = []
    for t in lets:
        k = t[0]
        if k is PRIM:
            out.append((PRIM, v(t[1]), t[2], vs(t[3])))
        elif k is LIT:
            out.append((LIT, v(t[1]), t[2]))
        elif k is NTUP:
            out.append((NTUP, v(t[1]), vs(t[2])))
        elif k is NUNPACK:
            out.append((NUNPACK, vs(t[1]), v(t[2])))
        else:
            out.append((k,) + vs(t[1:]))
    if tail[0] is RET:
        tail = (RET, vs(tail[1]), vs(tail[2]))
    elif tail[0] is PRIM:
        tail = (PRIM, None, tail[2], vs(tail[3]))
    return FlatDef(name, names, nl, lin, list(nl_out), list(lin_out), out, tail)


# ----------------------------------------------------------------------------
# Parsing: one tokenizer for every layout, and a parser of the grammar's
# straight-line part.
#
# ``_TOKEN`` is the reference tokenizer's token pattern (``parser._LINE_TOKEN``:
# comment, number, name, operator, bad character, tried in that order, the
# same classes of characters) run once over the whole text, newlines counted
# as white space, with two alternatives tried first: a whole ``let`` of the
# common shapes -- ``let (z [: real] ;) = rhs in`` (rhs ``x op y``, ``f(x)``,
# ``f(x, y)`` or a number) and ``let (;) = drop(x) in`` -- with any white
# space between its tokens.  Such a match reads exactly the tokens the
# reference reads there (names and numbers are possessive/atomic, ``in`` must
# end its name), so the parser takes it as the tokens it stands for, in one
# step; anything else about it (a keyword bound, a call of a non-primitive)
# goes the general way.  Every other token (heads, tails, comments, a let
# with a comment inside it, tuples, calls, nested right-hand sides …) comes
# one by one and is read by a recursive-descent parser that mirrors
# ``parser.Parser`` rule for rule.  So the layout -- spacing, line breaks,
# CRLF, comments, annotations -- changes nothing but the count of tokens read
# one by one.  Positions are not kept: on any error the text is not flat, and
# the caller's reference parser reports it where it is.

_S = r"[ \t\r\f\n]*+"
_N = r"[A-Za-z_][A-Za-z_0-9']*+"
_END = r"(?![A-Za-z_0-9'])"          # a keyword ends where a name could not go on
_NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"     # parser._LINE_TOKEN's number
_TOKEN = re.compile(
    rf"{_S}(?:"
    rf"let{_S}\({_S}({_N}){_S}(?::{_S}(real){_END}{_S})?;{_S}\){_S}={_S}"          # 1 z, 2 : real
    rf"(?:({_N}){_S}([-+*/]){_S}({_N})"                                           # 3-5 x op y
    rf"|({_N}){_S}\({_S}({_N}){_S}(?:,{_S}({_N}){_S})?\)"                         # 6-8 f(x[, y])
    rf"|((?>{_NUMBER}))){_S}in{_END}"                                             # 9 number
    rf"|let{_S}\({_S};{_S}\){_S}={_S}drop{_S}\({_S}({_N}){_S}\){_S}in{_END}"       # 10 drop(x)
    rf"|(\#.*)"                                                                   # 11 comment
    rf"|({_NUMBER})"                                                              # 12 number
    rf"|([A-Za-z_][A-Za-z_0-9']*)"                                                # 13 name
    rf"|(->|\+\.|\*\.|[(),;:=+\-*/])"                                             # 14 operator
    rf"|([^ \t\r\f\n]))")                                                         # 15 bad

_PRIM_OF = {n: n for n in PRIMITIVES}
_PRIM_OF.update((s, p) for s, p in SYNONYMS.items() if p in PRIMITIVES)
_EOF = ("eof", "")


def parse(text: str, file: str | None = None) -> FlatProgram:
    """The flat form of ``text``, which the reference parser reads as the same
    program; :class:`NotFlat` if the text is outside the flat fragment or
    does not parse (the reference then says where).  Each definition's names
    are numbered as they are bound; a read is the number of the name's
    binding."""
    try:
        return _Reader(text).program(file)
    except KeyError as e:
        raise NotFlat(f"`{e.args[0]}` is read before it is bound") from None


def _token(g):
    """The token of one ``_TOKEN`` match (see ``_Reader``); None for a comment."""
    if g[0]:
        return ("let1", g)
    if g[9]:
        return ("drop1", g)
    if g[12]:
        n = g[12]
        return (n if n in KEYWORDS else "name", n)
    if g[13]:
        return (g[13], g[13])
    if g[11]:
        return ("num", g[11])
    if g[14]:
        return ("bad", g[14])
    return None


class _Reader:
    """``parser.Parser``'s grammar over ``_TOKEN``'s matches, building flat
    definitions.  ``tok`` is the current token ``(kind, text)`` as the
    reference names kinds (a keyword's kind is itself; ``name``, ``num``,
    an operator, ``bad``, ``eof``), or ``("let1", match)`` / ``("drop1",
    match)`` for a whole let read by ``_TOKEN``'s first alternatives."""

    def __init__(self, text: str):
        self._items = iter(_TOKEN.findall(text))
        self.tok = _EOF
        self.advance()

    def advance(self):
        prev = self.tok
        for g in self._items:
            tok = _token(g)
            if tok is not None:         # (None: a comment)
                self.tok = tok
                return prev
        self.tok = _EOF
        return prev

    def expect(self, kind: str):
        if self.tok[0] != kind:
            raise NotFlat(f"expected `{kind}`")
        return self.advance()[1]

    def accept(self, kind: str) -> bool:
        if self.tok[0] == kind:
            self.advance()
            return True
        return False

    def name(self) -> str:
        if self.tok[0] != "name":
            raise NotFlat("expected a name")
        return self.advance()[1]

    # -- program (Parser.program, .definition, .params, .signature, .type_) --
    def program(self, file) -> FlatProgram:
        defs = []
        while self.tok is not _EOF:
            defs.append(self.definition())
        if not defs:
            raise NotFlat("no definition")
        return FlatProgram(defs, file)

    def definition(self) -> FlatDef:
        self.expect("def")
        fname = self.name()
        self.expect("(")
        groups = [[], []]               # Parser.params, as it is
        side = 0
        while True:
            if self.tok[0] == "name":
                n = self.advance()[1]
                self.expect(":")
                groups[side].append((n, self.type_()))
                if self.accept(","):
                    continue
            if self.tok[0] == ";" and side == 0:
                self.advance()
                side = 1
                continue
            break
        self.expect(")")
        self.expect("->")
        nl_out, lin_out = self.signature()
        self.expect("=")
        nl, lin = groups
        if lin or lin_out:
            raise NotFlat("a definition with linear parameters or results")
        names = [n for n, _ in nl]
        ids = {n: v for v, n in enumerate(names)}
        if len(ids) != len(names):
            raise NotFlat("a parameter is named twice")
        params = [(v, ty) for v, (_, ty) in enumerate(nl)]
        self.ann = {}
        self.nested = False
        lets, tail = self.body(names, ids)
        d = FlatDef(fname, names, params, [], nl_out, [], lets, tail, self.ann)
        d.nested = self.nested
        return d

    def signature(self):
        self.expect("(")
        groups = [[], []]
        side = 0
        while self.tok[0] != ")":
            if self.tok[0] == ";":
                if side:
                    raise NotFlat("expected `)`")
                self.advance()
                side = 1
                continue
            groups[side].append(self.type_())
            if self.tok[0] == ",":
                self.advance()
            elif self.tok[0] not in (";", ")"):
                raise NotFlat("expected `,`, `;` or `)` in the result types")
        if not side:
            raise NotFlat("expected `;` in the result types")
        self.advance()
        return groups

    def type_(self, depth: int = 0):
        """A type (Parser.type_): ``real`` or a tuple of types, nested at most
        MAX_NESTING deep (the recursion is on that nesting only)."""
        if self.accept("real"):
            return REAL
        if self.tok[0] != "(" or depth >= MAX_NESTING:
            raise NotFlat("expected a type")
        self.advance()
        items = []
        while self.tok[0] != ")":
            items.append(self.type_(depth + 1))
            if not self.accept(","):
                break
        self.expect(")")
        return TupleType(items)

    # -- a body: the let-chain, then its tail ---------------------------------
    def body(self, names: list, ids: dict, depth: int = 0):
        """The lets of a body and its tail (Parser.expr, .binding, .leaf, on
        the straight-line forms the flat fragment holds).  The loop's first
        branch is a whole let read by ``_TOKEN``; every other let is read
        token by token (a nested right-hand side by this method, one level
        of recursion per level of nesting, at most MAX_NESTING)."""
        if depth >= MAX_NESTING:        # its lets would be nested deeper than the reference reads
            raise NotFlat("right-hand sides nested too deep")
        lets: list = []
        append, name = lets.append, names.append
        prims, infix, kw = _PRIM_OF, INFIX, KEYWORDS
        items = self._items
        while True:
            kind, g = self.tok
            while kind == "let1":       # a run of whole lets, read straight off the matches
                z, real, a, sym, b, fn, x, y, num = g[:9]
                if z in kw:
                    raise NotFlat(f"the keyword `{z}` bound")
                if real:
                    self.ann[len(names)] = REAL
                if sym:
                    t = (PRIM, len(names), infix[sym], (ids[a], ids[b]))
                elif fn:
                    op = prims.get(fn)
                    args = (ids[x], ids[y]) if y else (ids[x],)
                    if op is None:      # a call of a definition (a keyword is no definition's name)
                        if fn in kw:
                            raise NotFlat(f"the keyword `{fn}` called")
                        t = (CALL, (len(names),), (), fn, args, ())
                    else:
                        t = (PRIM, len(names), op, args)
                else:
                    t = (LIT, len(names), num)
                ids[z] = len(names)     # a name bound twice leaves ids shorter than names
                name(z)
                append(t)
                kind = None
                for g in items:         # the next token (inlined advance)
                    if g[0]:
                        kind = "let1"
                        break
                    tok = _token(g)
                    if tok is not None:
                        self.tok = tok
                        break
                else:
                    self.tok = _EOF
            kind, g = self.tok
            if kind == "drop1":
                append((NDROP, ids[g[9]]))
                self.advance()
            elif kind == "let":
                self.binding(names, ids, lets, depth)
            else:
                tail = self.leaf(ids)
                if len(ids) != len(names):
                    raise NotFlat("a name is bound twice")
                return lets, tail

    def binding(self, names: list, ids: dict, lets: list, depth: int):
        """``let ( pattern ) = rhs in`` read token by token (Parser.binding)."""
        self.advance()                  # let
        self.expect("(")
        groups, anns, side = [[], []], [[], []], 0
        while self.tok[0] != ")":
            if self.tok[0] == ";":
                if side:
                    raise NotFlat("expected `)` closing the pattern")
                self.advance()
                side = 1
                continue
            groups[side].append(self.name())
            anns[side].append(self.type_(depth) if self.accept(":") else None)
            if self.tok[0] == ",":
                self.advance()
            elif self.tok[0] not in (";", ")"):
                raise NotFlat("expected `,`, `;` or `)` in the let's pattern")
        self.advance()
        self.expect("=")
        if side == 0:                   # an unpack: `let (y1, y2) = x in` (JUnpack, UNUnpack, TNUnpack)
            if any(a is not None for a in anns[0]) or self.tok[0] != "name":
                raise NotFlat("a malformed unpack")
            src = ids[self.advance()[1]]
            self.expect("in")
            vs = []
            for n in groups[0]:
                ids[n] = len(names)
                vs.append(len(names))
                names.append(n)
            lets.append((NUNPACK, tuple(vs), src))
            return
        nl, lin = groups
        if lin:
            raise NotFlat("a let binding linear variables")
        if self.tok[0] in ("let", "let1", "drop1"):     # a nested right-hand side (JLet's block case)
            inner = self.body(names, ids, depth + 1)
            self.expect("in")
            lets.append((BLOCK, self.bind_all(names, ids, nl, anns[0])) + inner)
            self.nested = True
            return
        rhs = self.leaf(ids)
        self.expect("in")
        if rhs[0] is NDROP:
            if nl:
                raise NotFlat("a drop binds nothing")
            lets.append(rhs)
            return
        if rhs[0] is CALL:              # `let (z̄ ;) = g(x̄) in`: one binder per result (check counts them)
            lets.append((CALL, self.bind_all(names, ids, nl, anns[0]), ()) + rhs[3:])
            return
        if rhs[0] is RET:               # `let (z̄ ;) = (x̄ ;) in`
            lets.append((RETLET, self.bind_all(names, ids, nl, anns[0]), (), rhs[1], ()))
            return
        if len(nl) != 1:
            raise NotFlat("a let outside the flat fragment")
        z = nl[0]
        if anns[0][0] is not None:
            self.ann[len(names)] = anns[0][0]     # checked against the binder's type by check
        ids[z] = len(names)
        names.append(z)
        lets.append((rhs[0], len(names) - 1) + rhs[2:])

    def bind_all(self, names: list, ids: dict, nl: list, anns: list) -> tuple:
        """New variables for the binders ``nl`` (annotations kept): their tuple."""
        vs = []
        for z, a in zip(nl, anns):
            if a is not None:
                self.ann[len(names)] = a
            ids[z] = len(names)
            vs.append(len(names))
            names.append(z)
        return tuple(vs)

    def leaf(self, ids: dict):
        """A leaf (Parser.leaf): a primitive ``(PRIM, None, op, args)``, a
        literal ``(LIT, None, text)``, a drop ``(NDROP, x)`` or a return of
        non-linear variables ``(RET, vars, ())``; other leaves are not flat."""
        k = self.tok[0]
        if k == "(":
            self.advance()
            first, comma = self.var_list(), self.last_comma
            if not self.accept(";"):    # a tuple (of non-linear variables: the input has no linear ones)
                if len(first) == 1 and not comma:
                    raise NotFlat("`(x)` is neither a tuple nor a return")
                self.expect(")")
                return (NTUP, None, tuple([ids[x] for x in first]))
            second = self.var_list()
            self.expect(")")
            if second:
                raise NotFlat("a return of linear variables")
            return (RET, tuple([ids[x] for x in first]), ())
        if k == "num":
            return (LIT, None, self.advance()[1])
        if k == "drop":
            self.advance()
            self.expect("(")
            v = self.name()
            self.expect(")")
            return (NDROP, ids[v])
        if k == "name":
            a = self.advance()[1]
            k2 = self.tok[0]
            if k2 in INFIX:
                self.advance()
                return (PRIM, None, INFIX[k2], (ids[a], ids[self.name()]))
            if k2 == "(":
                self.advance()
                args = self.var_list()
                if self.tok[0] == ";":
                    raise NotFlat("a call")
                self.expect(")")
                op = _PRIM_OF.get(a)
                if op is None:
                    return (CALL, None, (), a, tuple([ids[x] for x in args]), ())
                return (PRIM, None, op, tuple([ids[x] for x in args]))
        raise NotFlat("a leaf outside the flat fragment")

    def var_list(self) -> list:
        """``[NAME {',' NAME}] [',']``; ``last_comma``: whether a comma ended it."""
        out = []
        self.last_comma = False
        while self.tok[0] == "name":
            out.append(self.advance()[1])
            self.last_comma = self.accept(",")
            if not self.last_comma:
                break
        return out


# ----------------------------------------------------------------------------
# Checking (the typing judgment on the flat form).


def check(prog: FlatProgram, counts: bool = True) -> dict:
    """Check every definition; returns {name: codes}, the list ``check_def``
    returns (a non-linear variable's read count, where ``counts``; else the
    codes of the fast checker may stand for tuples' reads).  Raises
    :class:`NotFlat` wherever the typing judgment would fail (or where this
    checker cannot tell)."""
    sigs: dict = {}                 # the definitions before this one: a call reads its signature
    out = {}
    for d in prog.defs:
        if d.name in sigs or d.name in PRIMITIVES:
            raise NotFlat(f"definition `{d.name}` is a duplicate or a primitive's name")
        out[d.name] = check_def(d, sigs, counts)
        sigs[d.name] = ([ty for _, ty in d.nl_params], [ty for _, ty in d.lin_params],
                        list(d.nl_out), list(d.lin_out))
    return out


def check_def(d: FlatDef, sigs: dict | None = None, counts: bool = True) -> list:
    """The typing judgment for one flat definition; returns a code per
    variable of its table (see ``_check_def``; for a definition with tuples
    other than tuples of reals, the read counts of :func:`check_typed`).
    Raises :class:`NotFlat` (with no position) on failure."""
    try:
        return _check_def(d, counts)
    except NotFlat:
        pass
    except (KeyError, TypeError, ValueError, IndexError):
        pass
    return check_typed(d, sigs)[0]  # the general judgment decides (nested tuples, linear tuples, calls)


def check_typed(d: FlatDef, sigs: dict | None = None) -> tuple[list, list]:
    """The typing judgment on any flat definition, keeping every variable's
    type: ``(reads, types)``, lists indexed by variable (a non-linear
    variable's read count; its type, None where the definition binds none).
    One loop over the lets, a branch per kind, as the typing rules of
    ``linear_a.semantics.typecheck`` (Prim, Lit, Drop, NTup, NUnpack, Zero,
    Scale, LAdd, Dup, LTup, LUnpack, Call, Ret); ``sigs``: the signatures
    ``(nl params, lin params, nl results, lin results)`` of the definitions
    it may call."""
    try:
        return _check_typed(d, sigs or {})
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise NotFlat(f"`{d.name}` does not check ({type(e).__name__}: {e})") from None


def _check_typed(d: FlatDef, sigs: dict) -> tuple[list, list]:
    names = d.names
    n = len(names)
    ty: list = [None] * n
    lin = bytearray(n)
    used = [0] * n
    order: list = []                # the variables bound, in order
    dead = bytearray(n)             # bound in a nested right-hand side now closed

    def bind(v, t, linear):
        if ty[v] is not None:
            raise NotFlat(f"`{names[v]}` is bound twice")
        ty[v] = t
        lin[v] = linear
        order.append(v)

    def nl(v):
        if ty[v] is None or lin[v] or dead[v]:
            raise NotFlat(f"`{names[v]}` is not a non-linear variable in scope")
        used[v] += 1
        return ty[v]

    def ln(v):
        if ty[v] is None or not lin[v] or used[v] or dead[v]:
            raise NotFlat(f"`{names[v]}` is not a linear variable in scope, or is read twice")
        used[v] = 1
        return ty[v]

    def real(t, what):
        if t is not REAL:
            raise NotFlat(f"{what} must be real")

    def tup(items):
        """A tuple type, within the typing judgment's depth limit (deeper: the
        reference reports the located NTup/LTup error)."""
        t = TupleType(items)
        if type_depth(t) > MAX_TYPE_DEPTH:
            raise NotFlat("a tuple type nested deeper than the typing judgment allows")
        return t

    for v, t in d.nl_params:
        bind(v, t, 0)
    for v, t in d.lin_params:
        bind(v, t, 1)
    def walk(lets, tail, depth):
        """The lets and the tail of a body or of a nested right-hand side (whose
        variables go out of scope at its end, each used): its result types."""
        if depth > MAX_NESTING:
            raise NotFlat("nested too deep")
        start = len(order)
        for t in lets:
            k = t[0]
            if k is PRIM:
                if len(t[3]) != _ARITY[t[2]]:
                    raise NotFlat(f"arity of `{t[2]}`")
                for x in t[3]:
                    real(nl(x), "a primitive's argument")
                bind(t[1], REAL, 0)
            elif k is LIT:
                if not math.isfinite(float(t[2])):
                    raise NotFlat("a literal that is not a finite real")
                bind(t[1], REAL, 0)
            elif k is NDROP:
                nl(t[1])
            elif k is LDROP:
                ln(t[1])
            elif k is NTUP or k is LTUP:    # NTup / LTup: the class of the components
                read = ln if k is LTUP else nl
                bind(t[1], tup([read(x) for x in t[2]]), int(k is LTUP))
            elif k is NUNPACK or k is LUNPACK:   # NUnpack / LUnpack
                read = ln if k is LUNPACK else nl
                s = read(t[2])
                if type(s) is not TupleType or len(s.items) != len(t[1]):
                    raise NotFlat("an unpack of the wrong arity")
                for v, it in zip(t[1], s.items):
                    bind(v, it, int(k is LUNPACK))
            elif k is ZERO:
                bind(t[1], t[2] if len(t) > 2 else REAL, 1)
            elif k is SCALE:
                real(nl(t[2]), "the scalar of `*.`")
                bind(t[1], ln(t[3]), 1)
            elif k is LADD:
                a, b = ln(t[2]), ln(t[3])
                if a != b:
                    raise NotFlat("`+.` of two types")
                bind(t[1], a, 1)
            elif k is DUP:
                s = ln(t[3])
                bind(t[1], s, 1)
                bind(t[2], s, 1)
            elif k is CALL:                 # (CALL, outs, lin outs, fn, args, lin args)
                nl_in, lin_in, nl_o, lin_o = sigs[t[3]]
                if [nl(x) for x in t[4]] != nl_in or [ln(x) for x in t[5]] != lin_in or \
                        len(t[1]) != len(nl_o) or len(t[2]) != len(lin_o):
                    raise NotFlat(f"a call of `{t[3]}` that does not match its signature")
                for v, s in zip(t[1], nl_o):
                    bind(v, s, 0)
                for v, s in zip(t[2], lin_o):
                    bind(v, s, 1)
            elif k is RETLET:           # (RETLET, outs, lin outs, srcs, lin srcs)
                nl_s, lin_s = [nl(x) for x in t[3]], [ln(x) for x in t[4]]
                if len(nl_s) != len(t[1]) or len(lin_s) != len(t[2]):
                    raise NotFlat("a return bound to the wrong number of names")
                for v, s in zip(t[1], nl_s):
                    bind(v, s, 0)
                for v, s in zip(t[2], lin_s):
                    bind(v, s, 1)
            elif k is BLOCK:            # (BLOCK, outs, lets, tail): a nested right-hand side
                nl_s, lin_s = walk(t[2], t[3], depth + 1)
                if lin_s or len(nl_s) != len(t[1]):
                    raise NotFlat("a nested right-hand side bound to the wrong number of names")
                for v, s in zip(t[1], nl_s):
                    bind(v, s, 0)
            else:
                raise NotFlat(f"unknown kind {k!r}")
        if tail[0] is RET:
            nl_t = [nl(x) for x in tail[1]]
            lin_t = [ln(y) for y in tail[2]]
        elif tail[0] is PRIM:
            if len(tail[3]) != _ARITY[tail[2]]:
                raise NotFlat(f"arity of `{tail[2]}`")
            for x in tail[3]:
                real(nl(x), "a primitive's argument")
            nl_t, lin_t = [REAL], []
        elif tail[0] is LIT:
            if not math.isfinite(float(tail[2])):
                raise NotFlat("a literal that is not a finite real")
            nl_t, lin_t = [REAL], []
        elif tail[0] is NTUP:
            nl_t, lin_t = [tup([nl(x) for x in tail[2]])], []
        elif tail[0] is NDROP:
            nl(tail[1])
            nl_t, lin_t = [], []
        elif tail[0] is CALL:
            nl_in, lin_in, nl_t, lin_t = sigs[tail[3]]
            if [nl(x) for x in tail[4]] != nl_in or tail[5]:
                raise NotFlat(f"a call of `{tail[3]}` that does not match its signature")
        else:
            raise NotFlat(f"unknown tail {tail[0]!r}")
        if depth:
            for v in order[start:]:
                if not used[v] or (lin[v] and used[v] != 1):
                    raise NotFlat(f"`{names[v]}` is never used")
                dead[v] = 1
        return nl_t, lin_t

    nl_t, lin_t = walk(d.lets, d.tail, 0)
    if nl_t != list(d.nl_out) or lin_t != list(d.lin_out):
        raise NotFlat("the results do not match the declared types")
    for v in order:
        if not used[v]:
            raise NotFlat(f"`{names[v]}` is never used")
    if len({names[v] for v in order}) != len(order):
        raise NotFlat("two variables share a name")
    for v, t in d.ann.items():
        if ty[v] != t:
            raise NotFlat(f"`{names[v]}` is annotated with a type it does not have")
    return used, ty


# A variable's code in the checker's list, a small int: a non-linear real's
# read count (>= 0); _LIN for a linear variable; _TUP - its read count for a
# non-linear tuple; None while unbound (and for variables of the table the
# definition does not bind).
_LIN = -1
_TUP = -3


def _check_def(d: FlatDef, counts: bool = True) -> list:
    """One list ``codes`` indexed by variable (a read of an unbound variable
    meets None: TypeError or KeyError), and the set ``live`` of the linear
    variables bound and not yet read: a linear read is ``live.remove``
    (KeyError: not bound, read already, or not linear), so linear code only
    touches a small set once bound.  Binders are counted as they come and
    compared at the end with the number of distinct names bound (a variable
    bound twice, or two variables of one name, leave fewer).  One loop, its
    branches in order of frequency, no calls per let beyond the sets' and
    lists' own."""
    names = d.names
    codes: list = [None] * len(names)
    live: set = set()
    tuples: dict = {}        # non-linear tuple variable -> its type
    real, LIN, TUP = REAL, _LIN, _TUP
    for v, ty in d.nl_params:
        if ty is real:
            codes[v] = 0
        elif type(ty) is TupleType and ty.items.count(real) == len(ty.items):
            codes[v] = TUP
            tuples[v] = ty
        else:
            raise NotFlat("a parameter of nested tuple type")
    for v, ty in d.lin_params:
        if ty is not real:
            raise NotFlat("a linear parameter that is not real")
        codes[v] = LIN
        live.add(v)
    bind, read = live.add, live.remove
    arity = _ARITY
    lets = d.lets
    tail = d.tail
    nbound = len(d.nl_params) + len(d.lin_params) + len(lets)
    for t in lets:
        k = t[0]
        if k is PRIM:
            _, z, op, args = t
            if len(args) != arity[op]:
                raise NotFlat(f"arity of `{op}`")
            for x in args:
                c = codes[x]
                if c < 0:
                    raise NotFlat(f"`{names[x]}` is not a non-linear real")
                codes[x] = c + 1
            codes[z] = 0
        elif k is SCALE:
            _, z, x, l = t
            c = codes[x]
            if c < 0:
                raise NotFlat(f"`{names[x]}` is not a non-linear real")
            codes[x] = c + 1
            read(l)
            codes[z] = LIN
            bind(z)
        elif k is DUP:
            _, a, b, l = t
            read(l)
            codes[a] = codes[b] = LIN
            bind(a)
            bind(b)
            nbound += 1
        elif k is LADD:
            _, z, a, b = t
            read(a)
            read(b)
            codes[z] = LIN
            bind(z)
        elif k is LIT:
            if not math.isfinite(float(t[2])):
                raise NotFlat("a literal that is not a finite real")
            codes[t[1]] = 0
        elif k is ZERO:
            if len(t) > 2 and t[2] is not real:
                raise NotFlat("a zero of a tuple type")       # check_typed decides
            codes[t[1]] = LIN
            bind(t[1])
        elif k is NDROP:
            c = codes[t[1]]
            if c == LIN or c is None:
                raise NotFlat(f"`{names[t[1]]}` is linear or unbound")
            codes[t[1]] = c + 1 if c >= 0 else c - 1
            nbound -= 1
        elif k is LDROP:
            read(t[1])
            nbound -= 1
        elif k is NTUP:
            for x in t[2]:
                c = codes[x]
                if c < 0:               # tuples of reals only (the residual tuple)
                    raise NotFlat(f"`{names[x]}` is not a non-linear real")
                codes[x] = c + 1
            codes[t[1]] = TUP
            tuples[t[1]] = TupleType([real] * len(t[2]))
        elif k is NUNPACK:
            vs, src = t[1], t[2]
            c = codes[src]
            if c > TUP or len(tuples[src].items) != len(vs):
                raise NotFlat(f"cannot unpack `{names[src]}`")
            codes[src] = c - 1
            for v in vs:
                codes[v] = 0
            nbound += len(vs) - 1
        else:
            raise NotFlat(f"unknown kind {k!r}")
    if tail[0] is RET:
        _, nl, lin = tail
        nl_t = []
        for x in nl:
            c = codes[x]
            if c == LIN or c is None:
                raise NotFlat(f"`{names[x]}` is linear or unbound")
            codes[x] = c + 1 if c >= 0 else c - 1
            nl_t.append(real if c >= 0 else tuples[x])
        for y in lin:
            read(y)
        lin_t = [real] * len(lin)
    else:                           # a leaf: a primitive or a literal
        if tail[0] is PRIM:
            if len(tail[3]) != arity[tail[2]]:
                raise NotFlat(f"arity of `{tail[2]}`")
            for x in tail[3]:
                c = codes[x]
                if c < 0:
                    raise NotFlat(f"`{names[x]}` is not a non-linear real")
                codes[x] = c + 1
        elif tail[0] is LIT:
            if not math.isfinite(float(tail[2])):
                raise NotFlat("a literal that is not a finite real")
        else:
            raise NotFlat(f"unknown tail {tail[0]!r}")
        nl_t, lin_t = [real], []
    if nl_t != list(d.nl_out) or lin_t != list(d.lin_out):
        raise NotFlat("the results do not match the declared types")
    if live:
        raise NotFlat("a linear variable is never used")
    if 0 in codes or TUP in codes:
        raise NotFlat("a variable is never used")
    if tuples and counts:           # a tuple's code is not its read count: check_typed counts
        raise NotFlat("tuples")
    if d.ann and any(t is not REAL or codes[v] is None or codes[v] < 0 for v, t in d.ann.items()):
        raise NotFlat("an annotation other than `real` on a real")
    # every code of a bound variable is now non-zero (true): compress yields their names
    if len(set(compress(names, codes))) != nbound:
        raise NotFlat("a variable is bound twice, or two variables share a name")
    return codes


_ARITY = {n: p.arity for n, p in PRIMITIVES.items()}


# ----------------------------------------------------------------------------
# Printing (byte for byte ``linear_a.semantics.show`` of the equivalent Program).


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


class _Head:
    """What ``show_def_head`` reads of a Def, with names for variables."""
    __slots__ = ("name", "nl_params", "lin_params", "nl_out", "lin_out")

    def __init__(self, d: FlatDef):
        names = d.names
        self.name, self.nl_out, self.lin_out = d.name, d.nl_out, d.lin_out
        self.nl_params = [Param(names[v], ty) for v, ty in d.nl_params]
        self.lin_params = [Param(names[v], ty) for v, ty in d.lin_params]


def _leaf_text(t, names) -> str:
    """A tail leaf ``op(args)`` / literal / tuple, as the printer writes it."""
    if t[0] is NTUP:
        return show_leaf(NTup([names[x] for x in t[2]]))
    if t[0] is CALL:
        return show_leaf(Call(t[3], [names[x] for x in t[4]], ()))
    if t[0] is NDROP:
        return show_leaf(Drop(names[t[1]]))
    return show_leaf(Lit(t[2]) if t[0] is LIT else Prim(t[2], [names[x] for x in t[3]]))


# The lines of the hot loop below, as literal f-strings (a piece held in a
# variable costs a formatting step per piece): the reference printer's
# pieces, which ``tests/test_flat.py`` checks against ``_KIND_TEXT``/``_PRIM_TEXT``.
LITERAL_LINES = {SCALE: ("  let (; ", ") = ", " *. ", " in"),
                 LADD: ("  let (; ", ") = ", " +. ", " in"),
                 DUP: ("  let (; ", ", ", ") = dup(", ") in"),
                 LIT: ("  let (", " ;) = ", " in"),
                 ZERO: ("  let (; ", ") = zero : real in"),
                 NDROP: ("  let (;) = drop(", ") in")}
_INFIX_OF = {name: p.infix for name, p in PRIMITIVES.items() if p.infix}


def literal_prim_line(op: str, arity: int) -> tuple:
    """A PRIM line's pieces as the hot loop writes them (for the test above)."""
    v = "\x00"
    if arity == 2 and op in _INFIX_OF:
        return tuple(f"  let ({v} ;) = {v} {_INFIX_OF[op]} {v} in".split(v))
    return tuple(f"  let ({v} ;) = {op}({', '.join([v] * arity)}) in".split(v))


def def_lines(d: FlatDef, lines: list) -> None:
    """Append the printed lines of ``d`` (head, body at indent 2) to ``lines``."""
    lines.append(show_def_head(_Head(d)))
    if d.ann or d.nested:               # (input programs only: no transform makes these)
        _written_lines(d.lets, d.tail, d.names, d.ann, lines, "")
        return
    let_lines(d.lets, d.names, lines.append)
    lines.append("  " + _tail_text(d.tail, d.names))


def _tail_text(tail, nm) -> str:
    return (_group([nm[x] for x in tail[1]], [nm[x] for x in tail[2]]) if tail[0] is RET
            else _leaf_text(tail, nm))


def _written_lines(lets, tail, nm, ann, lines, pad) -> None:
    """The lines of a body with its binders' annotations and its nested
    right-hand sides (indented by 2 per level, ``let … =`` / ``in`` around),
    as the reference printer's ``_emit``; each let otherwise as ``let_lines``."""
    named = lambda vs: [f"{nm[v]}: {ann[v]!r}" if v in ann else nm[v] for v in vs]
    for t in lets:
        k = t[0]
        if k is BLOCK:
            lines.append(f"{pad}  let {_group(named(t[1]), [])} =")
            _written_lines(t[2], t[3], nm, ann, lines, pad + "  ")
            lines.append(f"{pad}  in")
            continue
        one: list = []
        let_lines([t], nm, one.append)
        line = one[0]
        if k is CALL or k is RETLET:
            line = f"  let {_group(named(t[1]), [nm[v] for v in t[2]])} =" + line.split(") =", 1)[1]
        elif k is not NDROP and k is not NUNPACK and t[1] in ann:
            line = line.replace(f"({nm[t[1]]} ;)", f"({nm[t[1]]}: {ann[t[1]]!r} ;)", 1)
        lines.append(pad + line)
    lines.append(f"{pad}  {_tail_text(tail, nm)}")


def let_lines(lets, nm, append) -> None:
    """Append the printed lines of ``lets`` at indent 2 (one literal f-string
    per line: the hot loop of printing)."""
    name = nm.__getitem__
    infix = _INFIX_OF
    for t in lets:                      # a tuple is unpacked once: cheaper than indexing it
        k = t[0]
        if k is SCALE:
            _, z, x, l = t
            append(f"  let (; {nm[z]}) = {nm[x]} *. {nm[l]} in")
        elif k is PRIM:                 # infix with two arguments, else op(args), as show_leaf
            _, z, op, args = t
            if len(args) == 1:
                append(f"  let ({nm[z]} ;) = {op}({nm[args[0]]}) in")
            elif len(args) == 2 and op in infix:
                x, y = args
                append(f"  let ({nm[z]} ;) = {nm[x]} {infix[op]} {nm[y]} in")
            elif len(args) == 2:
                x, y = args
                append(f"  let ({nm[z]} ;) = {op}({nm[x]}, {nm[y]}) in")
            else:
                append(f"  let ({nm[z]} ;) = {_leaf_text(t, nm)} in")
        elif k is DUP:
            _, a, b, l = t
            append(f"  let (; {nm[a]}, {nm[b]}) = dup({nm[l]}) in")
        elif k is LADD:
            _, z, a, b = t
            append(f"  let (; {nm[z]}) = {nm[a]} +. {nm[b]} in")
        elif k is LIT:
            append(f"  let ({nm[t[1]]} ;) = {t[2]} in")
        elif k is ZERO:
            append(f"  let (; {nm[t[1]]}) = zero : {t[2]!r} in" if len(t) > 2
                   else f"  let (; {nm[t[1]]}) = zero : real in")
        elif k is NDROP or k is LDROP:
            append(f"  let (;) = drop({nm[t[1]]}) in")
        elif k is NTUP:
            append(f"  let ({nm[t[1]]} ;) = {show_leaf(NTup(list(map(name, t[2]))))} in")
        elif k is NUNPACK:
            append(f"  {show_bind_head(NUnpack(list(map(name, t[1])), nm[t[2]]))} in")
        elif k is LTUP:
            append(f"  let (; {nm[t[1]]}) = {show_leaf(LTup(list(map(name, t[2]))))} in")
        elif k is CALL:
            append(f"  let {_group(list(map(name, t[1])), list(map(name, t[2])))} = "
                   f"{show_leaf(Call(t[3], list(map(name, t[4])), list(map(name, t[5]))))} in")
        elif k is RETLET:
            append(f"  let {_group(list(map(name, t[1])), list(map(name, t[2])))} = "
                   f"{_group(list(map(name, t[3])), list(map(name, t[4])))} in")
        elif k is LUNPACK:
            append(f"  {show_bind_head(LUnpack(list(map(name, t[1])), nm[t[2]]))} in")
        else:
            raise NotFlat(f"unknown kind {k!r}")


def show(prog) -> str:
    """The text ``linear_a.semantics.show`` prints for the equivalent Program (a
    FlatProgram or a list of FlatDefs)."""
    defs = prog.defs if isinstance(prog, FlatProgram) else prog
    chunks = []
    for d in defs:
        lines: list = []
        def_lines(d, lines)
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + "\n"
