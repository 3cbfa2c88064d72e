r"""Parser for the concrete syntax of Linear A (SPEC §2).

The grammar, one function below per non-terminal::

    program  ::= def*
    def      ::= 'def' NAME '(' params ')' '->' sig '=' expr
    params   ::= [param {',' param}] [';' [param {',' param}]]
    param    ::= NAME ':' type
    sig      ::= '(' [type {',' type}] ';' [type {',' type}] ')'
    type     ::= 'real' | '(' ')' | '(' type ',' ')' | '(' type {',' type}+ [','] ')'
               | '[' type ';' INT ']'                 -- a non-linear array of INT values
    expr     ::= {binding} leaf                      -- a let-chain, read by a loop
    binding  ::= 'let' '(' binds ';' binds ')' '=' expr 'in'      -- Let
               | 'let' '(' [NAME {',' NAME}] ')' '=' NAME 'in'      -- NUnpack / LUnpack
    binds    ::= [NAME [':' type] {',' NAME [':' type]}]
    leaf     ::= '(' vars ';' vars ')'                -- Ret (the ';' is what makes it one)
               | '(' ')' | '(' NAME ',' ')' | '(' NAME {',' NAME}+ [','] ')'  -- NTup / LTup
               | NUMBER                               -- Lit (may carry a sign)
               | 'zero' [':' type]                    -- Zero
               | NAME '+.' NAME | NAME '*.' NAME      -- LAdd, Scale
               | NAME ('+'|'-'|'*'|'/') NAME          -- Prim (infix)
               | 'dup' '(' NAME ')' | 'drop' '(' NAME ')'
               | NAME '(' vars [';' vars] ')'         -- Prim if NAME is a primitive (whose
                                                        -- linear part must be empty), else Call
               | 'loop' ['reverse'] INT NAME '(' vars [';' vars] ')' ['over' '(' vars ')']  -- Loop
    vars     ::= [NAME {',' NAME}]

Comments run from ``#`` to the end of the line.  ``loop``, ``reverse`` and
``over`` are keywords only where a loop is written (``loop`` followed by
``reverse`` or an integer), so they stay usable as names elsewhere.

It is a hand-written recursive-descent parser over a single compiled regular
expression, not a parser generator: a let-chain is read by a loop (so 10^6
lets need no recursion), tokens are streamed (no 10^7-element token list) and
every error says where it is and what was expected.  (We measured lark's LALR
parser at ~130 µs per let on this grammar; this one is ~10× faster.)

Whether a tuple or an unpack is linear is decided here, from the class of the
variable's binder (the first component for a tuple); the typing judgment then
checks that every component agrees.
"""
from __future__ import annotations

import re

from .errors import ParseError, Pos
from .gcpause import paused_gc
from .primitives import INFIX, PRIMITIVES, SYNONYMS
from .syntax import (REAL, ArrayType, Block, Call, Def, Drop, Dup, LAdd, Let, Lit, Loop, LTup,
                     LUnpack, NTup, NUnpack, Param, Prim, Program, Ret, Scale, TupleType, Zero)

MAX_NESTING = 100   # nested right-hand sides / tuple types; deeper input is refused (the
                    # judgments recurse on this nesting, never on the length of a chain)


# One token per match, with the whitespace before it: (ws, comment, number, name, operator, bad).
_LINE_TOKEN = re.compile(r"""([ \t\r\f]*)(?:(\#.*)|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"""
                         r"""|([A-Za-z_][A-Za-z_0-9']*)|(->|\+\.|\*\.|[(),;:=+\-*/\[\]])|([^ \t\r\f]))""")

KEYWORDS = {"def", "let", "in", "zero", "dup", "drop", "real"}


class Parser:
    def __init__(self, text: str, file: str | None = None):
        self.text = text
        self.file = file
        self._it = self._tokens()
        self.tok = None  # (kind, text, line, col)
        self.advance()
        self.linear: dict[str, bool] = {}
        self.depth = 0

    # -- tokens -----------------------------------------------------------
    def _tokens(self):
        """Stream ``(kind, text, line, col)``; one ``findall`` per line (cheaper
        than a match object per token), columns summed from token lengths."""
        kw = KEYWORDS
        line, text = 0, ""
        for text in self.text.split("\n"):
            line += 1
            col = 0
            for ws, comment, num, name, op, bad in _LINE_TOKEN.findall(text):
                col += len(ws)
                if name:
                    yield (name if name in kw else "name", name, line, col + 1)
                    col += len(name)
                elif op:
                    yield (op, op, line, col + 1)
                    col += len(op)
                elif num:
                    yield ("num", num, line, col + 1)
                    col += len(num)
                elif bad:
                    yield ("bad", bad, line, col + 1)
                    col += 1
                else:
                    break   # a comment runs to the end of the line
        yield ("eof", "end of input", line, len(text) + 1)

    def advance(self):
        prev = self.tok
        self.tok = next(self._it)
        return prev

    @property
    def pos(self) -> Pos:
        return Pos(self.tok[2], self.tok[3])

    def error(self, expected: str, tok=None):
        tok = tok or self.tok
        kind, text = tok[0], tok[1]
        found = "end of input" if kind == "eof" else f"`{_clip(text)}`"
        if kind == "bad":
            found = (f"unexpected character `{text}`" if text.isprintable()
                     else f"unexpected character U+{ord(text):04X}")
        raise ParseError(f"expected {expected}, found {found}", Pos(tok[2], tok[3]), file=self.file)

    def expect(self, kind: str, what: str | None = None):
        if self.tok[0] != kind:
            self.error(what or f"`{kind}`")
        return self.advance()

    def accept(self, kind: str):
        if self.tok[0] == kind:
            return self.advance()
        return None

    def name(self, what="a name") -> str:
        if self.tok[0] != "name":
            self.error(what)
        return self.advance()[1]

    def nest(self, pos, what):
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ParseError(f"{what} nested more than {MAX_NESTING} levels deep; this "
                             "implementation refuses deeper nesting", pos, file=self.file,
                             hint="flatten it: bind the inner parts with a let-chain" if what ==
                             "right-hand sides" else "use a flatter tuple type")

    # -- program ----------------------------------------------------------
    def program(self) -> Program:
        defs = []
        while self.tok[0] != "eof":
            defs.append(self.definition())
        return Program(defs, self.file)

    def definition(self) -> Def:
        pos = self.pos
        self.expect("def", "`def` (a definition)")
        fname = self.name("the function's name after `def`")
        self.linear = {}
        self.expect("(", "`(` before the parameters")
        nl, lin = self.params()
        self.expect(")", "`)` after the parameters")
        self.expect("->", "`->` and the result types")
        nl_out, lin_out = self.signature()
        self.expect("=", "`=` before the body")
        body = self.expr()
        return Def(fname, nl, lin, nl_out, lin_out, body, pos)

    def params(self):
        groups = [[], []]
        side = 0
        while True:
            if self.tok[0] == "name":
                pos = self.pos
                n = self.advance()[1]
                self.expect(":", f"`:` and a type for parameter `{n}`")
                groups[side].append(Param(n, self.type_(), pos))
                self.linear[n] = bool(side)
                if self.accept(","):
                    continue
            if self.tok[0] == ";" and side == 0:
                self.advance()
                side = 1
                continue
            return groups

    def signature(self):
        self.expect("(", "`(` starting the result types, as in `(real ; real)`")
        groups = [[], []]
        side = 0
        while self.tok[0] != ")":
            if self.tok[0] == ";":
                if side:
                    self.error("`)`")
                self.advance(); side = 1
                continue
            groups[side].append(self.type_())
            if self.tok[0] == ",":
                self.advance()
            elif self.tok[0] not in (";", ")"):
                self.error("`,`, `;` or `)` in the result types")
        if not side:
            self.error("`;` in the result types (write `(real ;)` for one non-linear result)")
        self.advance()
        return groups

    def type_(self):
        pos = self.pos
        if self.accept("real"):
            return REAL
        if self.tok[0] == "[":
            return self.array_type(pos)
        if self.tok[0] != "(":
            self.error("a type (`real` or a tuple of types, or an array `[τ; N]`)")
        self.nest(pos, "tuple types")
        self.advance()
        items = []
        while self.tok[0] != ")":
            items.append(self.type_())
            if not self.accept(","):
                break
        self.expect(")", "`,` or `)` in a tuple type")
        self.depth -= 1
        return TupleType(items)

    def array_type(self, pos):
        """``[τ; N]``, N a non-negative integer literal."""
        self.nest(pos, "tuple types")
        self.advance()
        elem = self.type_()
        self.expect(";", "`;` and the length in an array type `[τ; N]`")
        n = self.length("an array type's length")
        self.expect("]", "`]` closing the array type")
        self.depth -= 1
        return ArrayType(elem, n)

    def length(self, what: str) -> int:
        if self.tok[0] != "num" or not self.tok[1].isdigit():
            self.error(f"a non-negative integer literal as {what}")
        return int(self.advance()[1])

    def loop(self, pos):
        """``loop [reverse] N f(x̄ ; l̄) [over (ā)]`` (``loop`` already read)."""
        reverse = False
        if self.tok[0] == "name" and self.tok[1] == "reverse":
            self.advance()
            reverse = True
        n = self.length("the loop's number of iterations")
        fn = self.name("the step function's name after `loop N`")
        self.expect("(", f"`(` and the loop's carried state after `{fn}`")
        nl = self.var_list()
        lin = self.var_list() if self.accept(";") else []
        self.expect(")", "`,`, `;` or `)` in the loop's carried state")
        over = []
        if self.tok[0] == "name" and self.tok[1] == "over":
            self.advance()
            self.expect("(", "`(` and the arrays after `over`")
            over = self.var_list()
            self.expect(")", "`,` or `)` in the arrays after `over`")
        return Loop(n, fn, nl, lin, over, reverse, pos)

    # -- expressions --------------------------------------------------------
    def expr(self):
        """A let-chain: bindings read by a loop, then the leaf."""
        start = self.pos
        binds = []
        while self.tok[0] == "let":
            binds.append(self.binding())
        tail = self.leaf()
        return Block(binds, tail, start) if binds else tail

    def binding(self):
        pos = self.pos
        self.advance()  # let
        self.expect("(", "`(` starting the let's pattern")
        groups, anns, side = [[], []], [[], []], 0
        while self.tok[0] != ")":
            if self.tok[0] == ";":
                if side:
                    self.error("`)` closing the pattern")
                self.advance(); side = 1
                continue
            n = self.name("a variable name in the let's pattern")
            groups[side].append(n)
            anns[side].append(self.type_() if self.accept(":") else None)
            if self.tok[0] == ",":
                self.advance()
            elif self.tok[0] not in (";", ")"):
                self.error("`,`, `;` or `)` in the let's pattern")
        self.advance()  # )
        self.expect("=", "`=` after the let's pattern")
        if side == 0:   # an unpack: `let (y1, y2) = x in`
            if any(a is not None for a in anns[0]):
                raise ParseError("an unpack's names take no type annotations", pos, file=self.file)
            src_pos = self.pos
            src = self.name("the tuple variable to unpack (a `let` pattern without `;` unpacks a "
                            "tuple; write `let (x ;) = …` to bind a result)")
            if self.tok[0] == "(" or self.tok[0] in INFIX or self.tok[0] in ("+.", "*."):
                raise ParseError(f"a `let` pattern without `;` unpacks a tuple variable, but `{src}` "
                                 f"starts an expression", src_pos, file=self.file,
                                 hint="to bind an expression's results write `let (a, b ;) = …`, "
                                      "with a `;`")
            self.expect("in", "`in` after the unpacked variable")
            linear = self.linear.get(src, False)
            for n in groups[0]:
                self.linear[n] = linear
            return (LUnpack if linear else NUnpack)(groups[0], src, pos)
        self.nest(pos, "right-hand sides")
        rhs = self.expr()
        self.depth -= 1
        self.expect("in", "`in` after the let's right-hand side")
        for n in groups[0]:
            self.linear[n] = False
        for n in groups[1]:
            self.linear[n] = True
        nl_ty = tuple(anns[0]) if any(a is not None for a in anns[0]) else None
        lin_ty = tuple(anns[1]) if any(a is not None for a in anns[1]) else None
        return Let(groups[0], groups[1], rhs, pos, nl_ty, lin_ty)

    def leaf(self):
        pos = self.pos
        k = self.tok[0]
        if k == "(":
            self.advance()
            first = self.var_list()
            if self.accept(";"):
                second = self.var_list()
                self.expect(")", "`)` closing the returned results")
                return Ret(first, second, pos)
            if len(first) == 1 and not self._last_comma:
                self.error("`,` or `;` -- write `(x ;)` to return x, `(x,)` for a 1-tuple")
            self.expect(")", "`,`, `;` or `)`")
            linear = bool(first) and self.linear.get(first[0], False)
            return (LTup if linear else NTup)(first, pos)
        if k == "num":
            return Lit(self.advance()[1], pos)
        if k == "zero":
            self.advance()
            return Zero(self.type_() if self.accept(":") else None, pos)
        if k in ("dup", "drop"):
            self.advance()
            self.expect("(", f"`(` after `{k}`")
            v = self.name(f"the variable to {k}")
            self.expect(")", f"`)` closing `{k}(…)`")
            return Dup(v, pos) if k == "dup" else Drop(v, pos)
        if k == "name":
            a = self.advance()[1]
            k2 = self.tok[0]
            if a == "loop" and (k2 == "num" or (k2 == "name" and self.tok[1] == "reverse")):
                return self.loop(pos)
            if k2 == "+.":
                self.advance()
                return LAdd(a, self.name("a linear variable after `+.`"), pos)
            if k2 == "*.":
                self.advance()
                return Scale(a, self.name("a linear variable after `*.`"), pos)
            if k2 in INFIX:
                self.advance()
                return Prim(INFIX[k2], (a, self.name(f"a variable after `{k2}` (arguments are variables: "
                                                        "bind literals with `let` first)")), pos)
            if k2 == "(":
                self.advance()
                args = self.var_list()
                lin = None
                if self.accept(";"):
                    lin = self.var_list()
                self.expect(")", "`,`, `;` or `)` in the argument list")
                prim = SYNONYMS.get(a, a)
                if prim in PRIMITIVES and not lin:     # `sin(x)` or `sin(x ;)`: no linear part
                    return Prim(prim, args, pos)
                return Call(a, args, lin or (), pos)
            if k2 == "bad":
                self.error(f"an operator or `(` after `{a}`")
            raise ParseError(f"expected an expression, found the bare variable `{a}`: a variable "
                             f"alone is not an expression", pos, file=self.file,
                             hint=f"write `({a} ;)` to return it")
        self.error("an expression (`let`, a tuple or return `( … ; … )`, a number, `zero`, "
                   "`dup`, `drop`, a primitive or a call)")

    def var_list(self):
        """``[NAME {',' NAME}] [',']``; remembers whether a trailing comma ended it."""
        out = []
        self._last_comma = False
        while self.tok[0] == "name":
            out.append(self.advance()[1])
            self._last_comma = bool(self.accept(","))
            if not self._last_comma:
                break
        return out


def _clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def parse_program(text: str, file: str | None = None) -> Program:
    """Parse a whole ``.la`` file."""
    with paused_gc():
        return Parser(text, file).program()


def parse_def(text: str) -> Def:
    p = parse_program(text)
    if len(p.defs) != 1:
        raise ParseError(f"expected exactly one definition, found {len(p.defs)}", None)
    return p.defs[0]


def parse_expr(text: str, linear: dict[str, bool] | None = None):
    """Parse one expression; ``linear`` gives the class of its free variables."""
    p = Parser(text)
    p.linear = dict(linear or {})
    e = p.expr()
    if p.tok[0] != "eof":
        p.error("end of input")
    return e
