"""Abstract syntax of Linear A (SPEC §2): types, expressions, definitions.

The core language is in A-normal form: arguments are variables, so an
expression is a *let-chain* ending in a leaf.  We store a chain flat, as a
:class:`Block` of bindings and a tail, the way JAX stores a jaxpr's equations
in a list.  This is the same syntax as nested ``let ... in ...`` -- the printer
writes it that way and every judgment's rules are stated on one ``let`` at a
time -- but walking a chain of 10^6 lets is a ``for`` loop, never a Python
recursion on its depth.

Names are plain strings.  Within one definition every binder is distinct from
every other binder and parameter (the parser and the typing judgment insist),
so transformations never have to worry about capture.

A variable's class (non-linear or linear) is fixed by its binder.  The nodes
that exist in both classes are distinct node types (``NTup``/``LTup``,
``NUnpack``/``LUnpack``) exactly as the typing rules are; ``Drop`` takes either.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Union

from .errors import Pos, UsageError

# ----------------------------------------------------------------------------
# Types:  τ ::= real | (τ1, …, τn)


class Type:
    __slots__ = ()


class RealType(Type):
    __slots__ = ()

    def __repr__(self):
        return "real"

    def __eq__(self, other):
        return isinstance(other, RealType)

    def __hash__(self):
        return 1


REAL = RealType()


class TupleType(Type):
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = tuple(items)

    def __repr__(self):
        if len(self.items) == 1:
            return f"({self.items[0]!r},)"
        return "(" + ", ".join(map(repr, self.items)) + ")"

    def __eq__(self, other):
        return isinstance(other, TupleType) and self.items == other.items

    def __hash__(self):
        return hash(self.items)


UNIT = TupleType(())


class ArrayType(Type):
    """``[τ; N]``: a fixed-length array of N non-linear values of type τ (loops
    stack per-iteration outputs into arrays and read them back; arrays are
    never linear).  ‖[τ; N]‖ = N·‖τ‖."""
    __slots__ = ("elem", "n")

    def __init__(self, elem, n: int):
        self.elem = elem; self.n = int(n)

    def __repr__(self):
        return f"[{self.elem!r}; {self.n}]"

    def __eq__(self, other):
        return isinstance(other, ArrayType) and self.n == other.n and self.elem == other.elem

    def __hash__(self):
        return hash(("array", self.elem, self.n))

    @property
    def items(self):
        """The element types, one per element: a value of an array type is a
        tuple of N elements (the checks build symbolic and random inputs of
        array type, the residual stacks, as they build tuples)."""
        return (self.elem,) * self.n


def has_array(t: Type) -> bool:
    """Whether an array type occurs in t."""
    if isinstance(t, ArrayType):
        return True
    return isinstance(t, TupleType) and any(has_array(s) for s in t.items)


def size_of_type(t: Type) -> int:
    """‖τ‖: the number of reals in a value of type τ."""
    if t is REAL or isinstance(t, RealType):
        return 1
    if isinstance(t, ArrayType):
        return t.n * size_of_type(t.elem)
    return sum(size_of_type(s) for s in t.items)


def type_str(t: Type) -> str:
    return repr(t)


# ----------------------------------------------------------------------------
# Expressions.  Every node has a ``pos`` (a Pos or None for generated code).


class Expr:
    __slots__ = ("pos",)
    rule = "?"  # the typing rule that types this node


class Ret(Expr):
    """``(x1, x2 ; l1)``: return several non-linear and linear results."""
    __slots__ = ("nl", "lin")
    rule = "Ret"

    def __init__(self, nl, lin, pos=None):
        self.nl = tuple(nl); self.lin = tuple(lin); self.pos = pos


class Lit(Expr):
    """A real literal, kept as its source text (exact in every domain)."""
    __slots__ = ("text",)
    rule = "Lit"

    def __init__(self, text: str, pos=None):
        self.text = text; self.pos = pos


class Prim(Expr):
    """A non-linear primitive ``op(x1, …)`` (or infix ``x + y``)."""
    __slots__ = ("op", "args")
    rule = "Prim"

    def __init__(self, op: str, args, pos=None):
        self.op = op; self.args = tuple(args); self.pos = pos


class Zero(Expr):
    """``zero : σ``; ``ty`` is None until the typing judgment infers it."""
    __slots__ = ("ty",)
    rule = "Zero"

    def __init__(self, ty: Type | None = None, pos=None):
        self.ty = ty; self.pos = pos


class LAdd(Expr):
    """``l1 +. l2``"""
    __slots__ = ("a", "b")
    rule = "LAdd"

    def __init__(self, a: str, b: str, pos=None):
        self.a = a; self.b = b; self.pos = pos


class Scale(Expr):
    """``x *. l``: non-linear real times linear value."""
    __slots__ = ("x", "l")
    rule = "Scale"

    def __init__(self, x: str, l: str, pos=None):
        self.x = x; self.l = l; self.pos = pos


class Dup(Expr):
    """``dup(l)``: two linear copies."""
    __slots__ = ("l",)
    rule = "Dup"

    def __init__(self, l: str, pos=None):
        self.l = l; self.pos = pos


class Drop(Expr):
    """``drop(v)``: discard a variable of either class; no outputs."""
    __slots__ = ("v",)
    rule = "Drop"

    def __init__(self, v: str, pos=None):
        self.v = v; self.pos = pos


class NTup(Expr):
    """``(x1, x2)``: a non-linear tuple (one non-linear result)."""
    __slots__ = ("args",)
    rule = "NTup"

    def __init__(self, args, pos=None):
        self.args = tuple(args); self.pos = pos


class LTup(Expr):
    """``(l1, l2)``: a linear tuple (one linear result)."""
    __slots__ = ("args",)
    rule = "LTup"

    def __init__(self, args, pos=None):
        self.args = tuple(args); self.pos = pos


class Call(Expr):
    """``f(x1, x2 ; l1)``"""
    __slots__ = ("fn", "nl", "lin")
    rule = "Call"

    def __init__(self, fn: str, nl, lin, pos=None):
        self.fn = fn; self.nl = tuple(nl); self.lin = tuple(lin); self.pos = pos


class Loop(Expr):
    """``loop N f(x̄ ; l̄) over (ā)`` (``loop reverse N …`` for the reversed order):
    run the earlier definition f N times on the carried state.  f's parameters
    are the non-linear carry (as x̄), one element per array of ``over`` (element
    i at iteration i, or N−1−i under ``reverse``), then the linear carry (as
    l̄); its non-linear results are the carry and then per-iteration outputs,
    stacked into arrays of length N; its linear results the linear carry.
    ``over`` is empty when there is no ``over`` clause."""
    __slots__ = ("n", "fn", "nl", "lin", "over", "reverse")
    rule = "Loop"

    def __init__(self, n: int, fn: str, nl, lin, over=(), reverse: bool = False, pos=None):
        self.n = int(n); self.fn = fn; self.nl = tuple(nl); self.lin = tuple(lin)
        self.over = tuple(over); self.reverse = bool(reverse); self.pos = pos


Leaf = Union[Ret, Lit, Prim, Zero, LAdd, Scale, Dup, Drop, NTup, LTup, Call, Loop]


def callee_of(n) -> str | None:
    """The function a leaf calls: a call's or a loop's step function."""
    t = type(n)
    return n.fn if t is Call or t is Loop else None


# Bindings: the links of a let-chain.

class Bind:
    __slots__ = ("pos",)


class Let(Bind):
    """``let (x̄ : τ̄ ; ȳ : σ̄) = rhs in …``; ``nl_ty``/``lin_ty`` hold the optional
    annotations (a tuple of Type-or-None, or None when nothing is annotated)."""
    __slots__ = ("nl", "lin", "rhs", "nl_ty", "lin_ty")
    rule = "Let"

    def __init__(self, nl, lin, rhs: "Expr", pos=None, nl_ty=None, lin_ty=None):
        self.nl = tuple(nl); self.lin = tuple(lin); self.rhs = rhs; self.pos = pos
        self.nl_ty = nl_ty; self.lin_ty = lin_ty

    @property
    def binders(self):
        return self.nl + self.lin


class NUnpack(Bind):
    """``let (y1, y2) = x in …`` for a non-linear tuple x (x may be used again)."""
    __slots__ = ("names", "src")
    rule = "NUnpack"

    def __init__(self, names, src: str, pos=None):
        self.names = tuple(names); self.src = src; self.pos = pos

    @property
    def binders(self):
        return self.names


class LUnpack(Bind):
    """``let (k1, k2) = l in …`` for a linear tuple l (consumed)."""
    __slots__ = ("names", "src")
    rule = "LUnpack"

    def __init__(self, names, src: str, pos=None):
        self.names = tuple(names); self.src = src; self.pos = pos

    @property
    def binders(self):
        return self.names


class Block(Expr):
    """A let-chain: ``let b1 in let b2 in … tail``.  ``tail`` is a leaf."""
    __slots__ = ("binds", "tail")
    rule = "Let"

    def __init__(self, binds, tail: Expr, pos=None):
        self.binds = list(binds); self.tail = tail; self.pos = pos


def as_block(e: Expr) -> Block:
    return e if isinstance(e, Block) else Block([], e, e.pos)


def chain(binds, tail: Expr) -> Expr:
    """Smart constructor: a Block, flattening a Block tail and dropping empty chains."""
    binds = list(binds)
    if isinstance(tail, Block):
        binds.extend(tail.binds)
        tail = tail.tail
    return Block(binds, tail) if binds else tail


# ----------------------------------------------------------------------------
# Definitions and programs


@dataclass(eq=False)
class Param:
    name: str
    ty: Type
    pos: Pos | None = None


@dataclass(eq=False)
class Def:
    """``def f(x̄ : τ̄ ; ȳ : σ̄) -> (τ̄' ; σ̄') = body``"""
    name: str
    nl_params: list[Param]
    lin_params: list[Param]
    nl_out: list[Type]
    lin_out: list[Type]
    body: Expr
    pos: Pos | None = None

    @property
    def params(self) -> list[Param]:
        return self.nl_params + self.lin_params

    @property
    def signature(self) -> "Signature":
        return Signature(tuple(p.ty for p in self.nl_params), tuple(p.ty for p in self.lin_params),
                         tuple(self.nl_out), tuple(self.lin_out))

    @property
    def is_nonlinear(self) -> bool:
        """Purely non-linear: no linear inputs and no linear outputs (JVP's input)."""
        return not self.lin_params and not self.lin_out


@dataclass(frozen=True)
class Signature:
    """``(τ̄ ; σ̄) → (τ̄' ; σ̄')``"""
    nl_in: tuple
    lin_in: tuple
    nl_out: tuple
    lin_out: tuple

    def __str__(self):
        return f"{_group(self.nl_in, self.lin_in)} -> {_group(self.nl_out, self.lin_out)}"


def _group(nl, lin) -> str:
    a, b = ", ".join(map(repr, nl)), ", ".join(map(repr, lin))
    return f"({a} ; {b})" if a and b else f"({a} ;)" if a else f"(; {b})" if b else "(;)"


@dataclass(eq=False)
class Program:
    defs: list[Def] = field(default_factory=list)
    file: str | None = None

    def __getitem__(self, name: str) -> Def:
        for d in self.defs:
            if d.name == name:
                return d
        raise KeyError(name)

    def get(self, name: str) -> Def | None:
        for d in self.defs:
            if d.name == name:
                return d
        return None

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.defs]


# ----------------------------------------------------------------------------
# Generic traversal helpers (iterative on chains).


def leaf_uses(e: Expr) -> tuple:
    """The variables a leaf reads, in order, with repetition."""
    t = type(e)
    if t is Ret:
        return e.nl + e.lin
    if t is Prim or t is NTup or t is LTup:
        return e.args
    if t is LAdd:
        return (e.a, e.b)
    if t is Scale:
        return (e.x, e.l)
    if t is Dup:
        return (e.l,)
    if t is Drop:
        return (e.v,)
    if t is Call:
        return e.nl + e.lin
    if t is Loop:
        return e.nl + e.over + e.lin
    return ()


def bind_uses(b: Bind) -> tuple:
    """Variables read directly by a binding (not those inside a Let's rhs)."""
    if type(b) is Let:
        return ()
    return (b.src,)


def iter_nodes(e: Expr) -> Iterator[object]:
    """Every leaf and binding of e, in evaluation order, descending into
    nested right-hand sides with an explicit stack (no recursion)."""
    stack = [e]
    while stack:
        x = stack.pop()
        if type(x) is Block:
            stack.append(x.tail)
            for b in reversed(x.binds):
                stack.append(b)
        elif type(x) is Let:
            yield x
            stack.append(x.rhs)
        else:
            yield x


def free_vars(e: Expr) -> list[str]:
    """Free variables of e in first-use order (each once)."""
    bound, seen, out = set(), set(), []
    for n in iter_nodes(e):
        uses = bind_uses(n) if isinstance(n, Bind) else leaf_uses(n)
        for v in uses:
            if v not in bound and v not in seen:
                seen.add(v); out.append(v)
        if isinstance(n, Bind):
            bound.update(n.binders)
    return out


def callees_of(d: Def) -> list[str]:
    """Functions called anywhere in d's body (each once, first-call order)."""
    seen = []
    for n in iter_nodes(d.body):
        if (type(n) is Call or type(n) is Loop) and n.fn not in seen:
            seen.append(n.fn)
    return seen


def nonlinear_entry(prog: "Program", fn: str, purpose: str) -> "Def":
    """The definition ``fn`` of ``prog``, which ``purpose`` (e.g. "checkpointing")
    needs purely non-linear; a UsageError naming what is wrong otherwise."""
    d = prog.get(fn)
    if d is None:
        raise UsageError(f"no function `{fn}` in the program (defined: {', '.join(prog.names) or 'none'})")
    if not d.is_nonlinear:
        raise UsageError(f"{purpose} needs a purely non-linear function; `{fn}` has linear "
                         f"parameters or results")
    return d


def call_closure(defs: dict, roots) -> set[str]:
    """``roots`` and every function they call, transitively (names missing
    from ``defs`` are skipped: the caller decides whether that is an error)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n in seen or n not in defs:
            continue
        seen.add(n)
        todo.extend(callees_of(defs[n]))
    return seen


def expr_size(e: Expr) -> int:
    """|e|: AST nodes plus variable occurrences (binders included).

    Each leaf counts 1 plus the variables it reads; each ``let`` counts 1 plus
    its binders; an unpack counts 1 plus its binders plus its source variable;
    a literal or ``zero`` counts 1."""
    n = 0
    for x in iter_nodes(e):
        if type(x) is Let:
            n += 1 + len(x.nl) + len(x.lin)
        elif isinstance(x, Bind):
            n += 2 + len(x.names)
        else:
            n += 1 + len(leaf_uses(x))
    return n


def def_size(d: Def) -> int:
    return expr_size(d.body)


def program_size(p: Program) -> int:
    return sum(def_size(d) for d in p.defs)
