"""The typing judgment  Φ ; Γ ; Δ ⊢ e : (τ̄ ; σ̄)  (SPEC §3).

Algorithmic, in the style of the authors' prototype: Γ and Δ are exactly the
free non-linear and linear variables of e.  Linear variables are used exactly
once; non-linear variables at least once (an unused one needs ``drop``).

How it runs.  Within a definition every binder is distinct, so a variable's
class and type can live in one table for the whole definition.  The checker
walks the body in evaluation order -- a let-chain by a loop, a nested
right-hand side by a (depth-bounded) call -- counting the uses of every
variable.  A second use of a linear variable is reported where it happens;
when a chain ends, each of its binders is checked to have been used (exactly
once if linear).  Each rule is one small method named after the rule, a short
list of named checks, and returns the rule's derivation.

The only inference is for ``zero`` without an annotation: its type is an
unknown resolved by unification with the first known type it meets (the
binder's annotation, the other side of ``+.``, a call's parameter, the
declared result); an unknown left at the end is an error asking for
``zero : σ``.  The checker writes the inferred type into the ``Zero`` node.
"""
from __future__ import annotations

import difflib
import math

from .derivation import Derivation, discard
from .errors import LinearATypeError, Pos, ScopeError
from .primitives import PRIMITIVES, SYNONYMS
from .printer import show_bind_head, show_leaf
from .gcpause import paused_gc
from .rules import rule
from .loops import check_no_linear_arrays, typing_Loop
from .syntax import (_group, REAL, ArrayType, Block, Call, Def, Drop, Dup, LAdd, Let, Lit, LTup, LUnpack, NTup,
                     NUnpack, Prim, Program, RealType, Ret, Scale, Signature, TupleType, Type, Zero, Loop, has_array)


class TVar(Type):
    """The unknown type of an unannotated ``zero``."""
    __slots__ = ("ref", "pos")

    def __init__(self, pos):
        self.ref = None
        self.pos = pos

    def __repr__(self):
        return repr(self.ref) if self.ref is not None else "?"


# Types are walked with explicit stacks (never Python recursion on their depth);
# a tuple type may nest at most MAX_TYPE_DEPTH levels (the parser's limit for
# written types, semantics.parser.MAX_NESTING), which the NTup / LTup rules and
# the end of each definition enforce with a located error.
MAX_TYPE_DEPTH = 100


def _head(t):
    """t with its outer solved unknowns followed."""
    while type(t) is TVar and t.ref is not None:
        t = t.ref
    return t


def resolve(t):
    """t with every solved unknown replaced by its solution (iterative)."""
    t = _head(t)
    if type(t) is not TupleType or all(type(s) is RealType for s in t.items):
        return t
    stack = [(t, [])]                    # (tuple type, its resolved items so far)
    while True:
        node, done = stack[-1]
        if len(done) == len(node.items):
            stack.pop()
            r = TupleType(done)
            if not stack:
                return r
            stack[-1][1].append(r)
            continue
        s = _head(node.items[len(done)])
        if type(s) is TupleType and not all(type(x) is RealType for x in s.items):
            stack.append((s, []))
        else:
            done.append(s)


def _parts(t):
    """Every type in t (t itself included), unknowns followed (iterative)."""
    todo = [t]
    while todo:
        t = _head(todo.pop())
        yield t
        if type(t) is TupleType:
            todo.extend(t.items)


def has_unknown(t) -> bool:
    return any(type(s) is TVar for s in _parts(t))


def type_depth(t) -> int:
    """The nesting depth of t (``real``, an unknown: 0; ``(real,)``: 1), iterative."""
    best, todo = 0, [(t, 0)]
    while todo:
        t, k = todo.pop()
        t = _head(t)
        if type(t) is TupleType:
            k += 1
            best = max(best, k)
            todo.extend((s, k) for s in t.items)
    return best


def unify(a, b) -> bool:
    """Make a and b equal by solving unknowns; False if they cannot be (a
    clash, or an unknown that would have to contain itself: σ = (σ,))."""
    return unify_why(a, b) is None


def unify_why(a, b) -> str | None:
    """:func:`unify`, saying why it failed: None if a and b are now equal,
    ``"cycle"`` if the occurs check refused (σ = (…σ…)), ``"clash"`` for shapes
    that differ."""
    todo = [(a, b)]
    while todo:
        a, b = todo.pop()
        a, b = _head(a), _head(b)
        if a is b or (type(a) is RealType and type(b) is RealType):
            continue
        if type(a) is TVar or type(b) is TVar:
            v, t = (a, b) if type(a) is TVar else (b, a)
            if any(s is v for s in _parts(t)):          # the occurs check
                return "cycle"
            v.ref = t
            continue
        if type(a) is TupleType and type(b) is TupleType and len(a.items) == len(b.items):
            todo.extend(reversed(list(zip(a.items, b.items))))
            continue
        if type(a) is ArrayType and type(b) is ArrayType and a.n == b.n:
            todo.append((a.elem, b.elem))
            continue
        return "clash"
    return None


def _did_you_mean(name: str, known) -> str | None:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"did you mean `{close[0]}`?" if close else None


def _types(ts) -> str:
    return ", ".join(repr(resolve(t)) for t in ts)


def _result(nl, lin) -> str:
    return _group([resolve(t) for t in nl], [resolve(t) for t in lin])


class DefChecker:
    """Checks one definition against its signature, given Φ (earlier definitions)."""

    def __init__(self, d: Def, phi: dict[str, Signature], later: set[str], file=None,
                 derive: bool = True):
        self.d = d
        self.derive = derive
        self.phi = phi
        self.later = later
        self.file = file
        self.env: dict[str, tuple[bool, Type]] = {}   # name -> (linear?, type)
        self.binder_pos: dict[str, Pos | None] = {}
        self.binder_rule: dict[str, str] = {}
        self.uses: dict[str, int] = {}
        self.first_use: dict[str, Pos | None] = {}
        self.unpacked: set[str] = set()       # linear tuples consumed by an LUnpack
        self.in_scope: set[str] = set()
        self.zeros: list[Zero] = []
        # The chains being checked, innermost last, each with the premises
        # derived so far: after a failure, the derivation up to the failing rule.
        self.open: list[tuple[Block, list]] = []

    # -- errors -----------------------------------------------------------
    def fail(self, rule, msg, pos, hint=None, cls=LinearATypeError):
        raise cls(msg, pos, file=self.file, rule=rule, hint=hint)

    def check_depth(self, ty, rule, pos, what="this tuple"):
        if type(ty) is TupleType and all(type(s) is RealType for s in ty.items):
            return                                         # the common case: depth 1
        if type_depth(ty) > MAX_TYPE_DEPTH:
            self.fail(rule, f"{what} has a type nested more than {MAX_TYPE_DEPTH} levels deep; "
                            "this implementation refuses deeper types", pos,
                      hint="use a flatter tuple (bind the inner parts separately)")

    # -- variables ----------------------------------------------------------
    def bind(self, name: str, linear: bool, ty: Type, pos, rule: str):
        if name in self.env:
            where = self.binder_pos.get(name)
            at = f" (first bound at line {where[0]})" if where else ""
            self.fail(rule, f"variable `{name}` is bound twice{at}", pos,
                      hint="every binder in a definition must have a fresh name", cls=ScopeError)
        self.env[name] = (linear, ty)
        self.binder_pos[name] = pos
        self.binder_rule[name] = rule
        self.uses[name] = 0
        self.in_scope.add(name)

    def use(self, name: str, linear: bool | None, rule: str, pos, what: str = ""):
        """Record one use of ``name``; ``linear`` is the class the rule needs
        (None: either).  Returns (linear?, type)."""
        entry = self.env.get(name)
        if entry is None or name not in self.in_scope:
            if entry is not None:
                where = self.binder_pos.get(name)     # None for a program built without positions
                at = f" at line {where[0]}" if where else ""
                self.fail(rule, f"variable `{name}` is not in scope here (it was bound inside an "
                                f"inner let{at})", pos, cls=ScopeError)
            self.fail(rule, f"unknown variable `{name}`", pos, cls=ScopeError,
                      hint=_did_you_mean(name, self.in_scope))
        is_lin, ty = entry
        if linear is not None and linear != is_lin:
            if is_lin:
                self.fail(rule, f"`{name}` is a linear variable where a non-linear one is needed "
                                f"({what or rule} takes non-linear values)", pos,
                          hint="linear values only flow into linear operations (+., *., dup, drop, "
                               "linear tuples, the linear side of a call or return)")
            self.fail(rule, f"`{name}` is a non-linear variable where a linear one is needed "
                            f"({what or rule} takes linear values)", pos,
                      hint="non-linear values may only scale linear ones (x *. l)")
        n = self.uses[name] + 1
        self.uses[name] = n
        if is_lin and n > 1:
            first = self.first_use.get(name)
            same_node = first is pos
            at = f" (first used at line {first[0]}, column {first[1]})" if first and not same_node else ""
            if name in self.unpacked:
                self.fail("LUnpack", f"linear tuple `{name}` is used again after it was unpacked{at}",
                          pos, hint="unpacking consumes a linear tuple; use its components, or "
                                    f"`dup({name})` before unpacking")
            self.fail(rule if same_node else "Let",
                      f"linear variable `{name}` is used twice{at}", pos,
                      hint=f"use `let (; {name}1, {name}2) = dup({name}) in …` to get two copies")
        if n == 1:
            self.first_use[name] = pos
            if rule == "LUnpack":
                self.unpacked.add(name)
        return is_lin, ty

    def end_scope(self, names, rule_of=None):
        """Every binder of a finished chain was used (exactly once if linear)."""
        for name in names:
            self.in_scope.discard(name)
            if self.uses[name] == 0:
                is_lin, ty = self.env[name]
                rule = self.binder_rule[name]
                pos = self.binder_pos[name]
                if is_lin:
                    self.fail(rule, f"linear variable `{name}` is never used", pos,
                              hint=f"consume it, or discard it with `let (;) = drop({name}) in …`")
                self.fail(rule, f"non-linear variable `{name}` is never used", pos,
                          hint=f"drop it explicitly with `let (;) = drop({name}) in …`")

    # -- the rules ------------------------------------------------------------
    def check(self, e) -> Derivation:
        t = type(e)
        if t is Block:
            return self.chain(e)
        return _DISPATCH[t](self, e)

    @rule("typing", "Let",
          r"\Gamma_1 \cup \Gamma_2 ; \Delta_1 \uplus \Delta_2 \vdash \mathsf{let}\ (\bar x ; \dot{\bar y}) = e_1\ \mathsf{in}\ e_2 : M",
          [r"\Gamma_1 ; \Delta_1 \vdash e_1 : (\bar\tau ; \bar\sigma)",
           r"\Gamma_2, \bar x : \bar\tau ; \Delta_2, \dot{\bar y} : \bar\sigma \vdash e_2 : M",
           r"\bar x, \dot{\bar y} \text{ occur in } e_2", r"\Delta_1 \cap \Delta_2 = \emptyset"],
          "let: split Δ disjointly, share Γ; every binder is used in the body")
    def chain(self, e: Block) -> Derivation:
        """Let (n-ary): the bindings in order, then the tail; each binder used."""
        premises = []
        self.open.append((e, premises))   # the partial derivation, shown if a premise fails
        keep = premises.append if self.derive else discard
        bound = []
        for b in e.binds:
            keep(self.LetBind(b) if type(b) is Let else self.Unpack(b))
            bound.extend(b.binders)
        tail = self.check(e.tail)
        premises.append(tail)
        self.end_scope(bound)
        self.open.pop()
        return Derivation("typing", "Let", e, tail.result, premises)

    def LetBind(self, b: Let) -> Derivation:
        rhs = self.check(b.rhs)
        nl_t, lin_t = rhs.result
        if len(nl_t) != len(b.nl) or len(lin_t) != len(b.lin):
            self.fail("Let", f"the pattern binds {len(b.nl)} non-linear and {len(b.lin)} linear "
                             f"name{'s' * (len(b.lin) != 1)}, but the right-hand side returns "
                             f"{_result(nl_t, lin_t)}", b.pos,
                      hint="the pattern needs one name per non-linear and per linear result")
        if b.nl_ty is None and b.lin_ty is None:    # the common case: no annotations
            pos, bind = b.pos, self.bind
            for n, ty in zip(b.nl, nl_t):
                bind(n, False, ty, pos, "Let")
            for n, ty in zip(b.lin, lin_t):
                bind(n, True, ty, pos, "Let")
            return Derivation("typing", "Let", b, rhs.result, [rhs])
        for names, tys, anns, lin in ((b.nl, nl_t, b.nl_ty, False), (b.lin, lin_t, b.lin_ty, True)):
            for i, (n, ty) in enumerate(zip(names, tys)):
                if anns is not None and anns[i] is not None and not unify(anns[i], ty):
                    self.fail("Let", f"`{n}` is annotated {anns[i]!r} but the right-hand side gives "
                                     f"{resolve(ty)!r}", b.pos)
                self.bind(n, lin, ty, b.pos, "Let")
        return Derivation("typing", "Let", b, rhs.result, [rhs])

    @rule("typing", "NUnpack",
          r"\Gamma, x : (\bar\tau) ; \Delta \vdash \mathsf{let}\ (\bar y) = x\ \mathsf{in}\ e : M",
          [r"\Gamma, x : (\bar\tau), \bar y : \bar\tau ; \Delta \vdash e : M", r"\bar y \text{ occur in } e"],
          "non-linear unpack: x may be used again")
    @rule("typing", "LUnpack",
          r"\Gamma ; \Delta, \dot l : (\bar\sigma) \vdash \mathsf{let}\ (\dot{\bar k}) = \dot l\ \mathsf{in}\ e : M",
          [r"\Gamma ; \Delta, \dot{\bar k} : \bar\sigma \vdash e : M", r"\dot l \notin e"],
          "linear unpack: the tuple is consumed, each component used once")
    def Unpack(self, b) -> Derivation:
        rule = "LUnpack" if type(b) is LUnpack else "NUnpack"
        linear = rule == "LUnpack"
        _, ty = self.use(b.src, linear, rule, b.pos, "this unpack")
        ty = resolve(ty)
        if type(ty) is TVar:        # a `zero` of a type not known yet: a tuple of unknowns
            unify(ty, TupleType(TVar(b.pos) for _ in b.names))
            ty = resolve(ty)
        if type(ty) is not TupleType or len(ty.items) != len(b.names):
            self.fail(rule, f"cannot unpack `{b.src}` of type {ty!r} into {len(b.names)} names", b.pos)
        for n, s in zip(b.names, ty.items):
            self.bind(n, linear, s, b.pos, rule)
        res = ((), tuple(ty.items)) if linear else (tuple(ty.items), ())
        return Derivation("typing", rule, b, res)

    @rule("typing", "Ret",
          r"\Gamma ; \Delta \vdash (\bar x ; \dot{\bar y}) : (\Gamma(\bar x) ; \Delta(\dot{\bar y}))",
          [r"\{\bar x\} = \mathrm{dom}\,\Gamma", r"\dot{\bar y} \text{ distinct}", r"\{\dot{\bar y}\} = \mathrm{dom}\,\Delta"],
          "return: non-linear names may repeat, linear names may not")
    def Ret(self, e: Ret) -> Derivation:
        nl = tuple(self.use(x, False, "Ret", e.pos, "the non-linear side of a return")[1] for x in e.nl)
        lin = tuple(self.use(y, True, "Ret", e.pos, "the linear side of a return")[1] for y in e.lin)
        return Derivation("typing", "Ret", e, (nl, lin))

    @rule("typing", "Lit", r"\emptyset ; \emptyset \vdash c : (\mathbb{R} ;)", [], "a literal is a real")
    def Lit(self, e: Lit) -> Derivation:
        try:
            finite = math.isfinite(float(e.text))
        except (TypeError, ValueError):
            finite = False
        if not finite:
            self.fail("Lit", f"the literal `{e.text[:40]}` is not a finite real number", e.pos)
        return Derivation("typing", "Lit", e, ((REAL,), ()))

    @rule("typing", "Prim", r"\bar x : \bar{\mathbb{R}} ; \emptyset \vdash \mathit{op}(\bar x) : (\mathbb{R} ;)",
          [r"|\bar x| = \mathrm{arity}(\mathit{op})"], "a primitive takes non-linear reals")
    def Prim(self, e: Prim) -> Derivation:
        p = PRIMITIVES.get(e.op)
        if p is None:
            self.fail("Prim", f"unknown primitive `{e.op}`", e.pos, cls=ScopeError)
        if len(e.args) != p.arity:
            self.fail("Prim", f"`{e.op}` takes {p.arity} argument{'s' * (p.arity != 1)}, "
                              f"got {len(e.args)}", e.pos)
        what = _PRIM_WHAT.get(e.op) or _PRIM_WHAT.setdefault(e.op, f"`{e.op}`")
        for x in e.args:
            _, ty = self.use(x, False, "Prim", e.pos, what)
            if ty is not REAL and not unify(ty, REAL):
                self.fail("Prim", f"`{e.op}` needs real arguments, `{x}` has type {resolve(ty)!r}", e.pos)
        return Derivation("typing", "Prim", e, ((REAL,), ()))

    @rule("typing", "Zero", r"\emptyset ; \emptyset \vdash \mathsf{zero} : (; \sigma)", [], "zero of any type")
    def Zero(self, e: Zero) -> Derivation:
        ty = e.ty
        if ty is not None and has_array(ty):
            self.fail("Zero", f"`zero : {ty!r}` would be a linear array; arrays are non-linear only",
                      e.pos)
        if ty is None:
            ty = TVar(e.pos)
            self.zeros.append(e)
            e.ty = ty
        return Derivation("typing", "Zero", e, ((), (ty,)))

    @rule("typing", "LAdd", r"\emptyset ; \dot l_1 : \sigma, \dot l_2 : \sigma \vdash \dot l_1 \mathbin{+.} \dot l_2 : (; \sigma)",
          [r"\dot l_1 \neq \dot l_2"], "linear addition")
    def LAdd(self, e: LAdd) -> Derivation:
        if e.a == e.b:
            self.fail("LAdd", f"linear variable `{e.a}` is used twice (both sides of `+.`)", e.pos,
                      hint=f"to double it, write `let (; a, b) = dup({e.a}) in a +. b`")
        _, ta = self.use(e.a, True, "LAdd", e.pos, "`+.`")
        _, tb = self.use(e.b, True, "LAdd", e.pos, "`+.`")
        why = unify_why(ta, tb)
        if why is not None:
            self.fail("LAdd", f"`+.` adds values of one type; `{e.a}` : {resolve(ta)!r} but "
                              f"`{e.b}` : {resolve(tb)!r}", e.pos,
                      hint="no type is its own component: annotate the `zero` these come from"
                      if why == "cycle" else None)
        return Derivation("typing", "LAdd", e, ((), (ta,)))

    @rule("typing", "Scale", r"x : \mathbb{R} ; \dot l : \sigma \vdash x \mathbin{*.} \dot l : (; \sigma)", [],
          "scaling by a non-linear real")
    def Scale(self, e: Scale) -> Derivation:
        _, tx = self.use(e.x, False, "Scale", e.pos, "the scalar of `*.`")
        if not unify(tx, REAL):
            self.fail("Scale", f"the scalar `{e.x}` of `*.` must be real, not {resolve(tx)!r}", e.pos)
        _, tl = self.use(e.l, True, "Scale", e.pos, "the right side of `*.`")
        return Derivation("typing", "Scale", e, ((), (tl,)))

    @rule("typing", "Dup", r"\emptyset ; \dot l : \sigma \vdash \mathsf{dup}(\dot l) : (; \sigma, \sigma)", [],
          "fan-out of a linear value")
    def Dup(self, e: Dup) -> Derivation:
        _, t = self.use(e.l, True, "Dup", e.pos, "`dup`")
        return Derivation("typing", "Dup", e, ((), (t, t)))

    @rule("typing", "Drop", r"x : \tau ; \emptyset \vdash \mathsf{drop}(x) : (;) \qquad \emptyset ; \dot l : \sigma \vdash \mathsf{drop}(\dot l) : (;)",
          [], "discard a variable of either class")
    def Drop(self, e: Drop) -> Derivation:
        self.use(e.v, None, "Drop", e.pos)
        return Derivation("typing", "Drop", e, ((), ()))

    @rule("typing", "NTup", r"\Gamma ; \emptyset \vdash (\bar x) : ((\Gamma(\bar x)) ;)", [r"\{\bar x\} = \mathrm{dom}\,\Gamma"],
          "non-linear tuple")
    def NTup(self, e: NTup) -> Derivation:
        ts = tuple(self.use(x, False, "NTup", e.pos, "a non-linear tuple")[1] for x in e.args)
        self.check_depth(TupleType(ts), "NTup", e.pos)
        return Derivation("typing", "NTup", e, ((TupleType(ts),), ()))

    @rule("typing", "LTup", r"\emptyset ; \Delta \vdash (\dot{\bar l}) : (; (\Delta(\dot{\bar l})))",
          [r"\dot{\bar l} \text{ distinct}", r"\{\dot{\bar l}\} = \mathrm{dom}\,\Delta"], "linear tuple")
    def LTup(self, e: LTup) -> Derivation:
        seen = set()
        for x in e.args:
            if x in seen:
                self.fail("LTup", f"linear variable `{x}` is used twice in one tuple", e.pos)
            seen.add(x)
        ts = tuple(self.use(x, True, "LTup", e.pos, "a linear tuple")[1] for x in e.args)
        self.check_depth(TupleType(ts), "LTup", e.pos)
        return Derivation("typing", "LTup", e, ((), (TupleType(ts),)))

    @rule("typing", "Call", r"\Gamma ; \Delta \vdash f(\bar x ; \dot{\bar y}) : M",
          [r"\Phi(f) = (\bar\tau ; \bar\sigma) \to M", r"\Gamma(\bar x) = \bar\tau", r"\Delta(\dot{\bar y}) = \bar\sigma",
           r"\dot{\bar y} \text{ distinct}"], "call of an earlier definition")
    def Call(self, e: Call) -> Derivation:
        sig = self.phi.get(e.fn)
        if sig is None:
            if e.fn == self.d.name:
                self.fail("Call", f"`{e.fn}` calls itself; functions are not recursive", e.pos,
                          cls=ScopeError)
            if e.fn in self.later:
                self.fail("Call", f"`{e.fn}` is defined after `{self.d.name}`; a function may only "
                                  f"call functions defined before it", e.pos, cls=ScopeError)
            if e.fn in PRIMITIVES or e.fn in SYNONYMS:
                self.fail("Call", f"`{e.fn}` is a primitive; it takes non-linear arguments only, "
                                  f"without `;`", e.pos, cls=ScopeError,
                          hint=f"write `{e.fn}({', '.join(e.nl)})`; to scale a tangent by a "
                               f"derivative use `c *. dx`")
            self.fail("Call", f"unknown function `{e.fn}`", e.pos, cls=ScopeError,
                      hint=_did_you_mean(e.fn, list(self.phi) + list(PRIMITIVES)))
        if len(e.nl) != len(sig.nl_in) or len(e.lin) != len(sig.lin_in):
            self.fail("Call", f"`{e.fn}` takes ({len(sig.nl_in)} ; {len(sig.lin_in)}) arguments, "
                              f"got ({len(e.nl)} ; {len(e.lin)})", e.pos)
        if len(set(e.lin)) != len(e.lin):
            dup = next(y for y in e.lin if e.lin.count(y) > 1)
            self.fail("Call", f"linear variable `{dup}` is passed twice to `{e.fn}`", e.pos,
                      hint=f"pass two copies made by `dup({dup})`")
        for args, tys, lin in ((e.nl, sig.nl_in, False), (e.lin, sig.lin_in, True)):
            for x, want in zip(args, tys):
                _, ty = self.use(x, lin, "Call", e.pos, f"this argument of `{e.fn}`")
                if not unify(ty, want):
                    self.fail("Call", f"argument `{x}` of `{e.fn}` has type {resolve(ty)!r}, "
                                      f"expected {want!r}", e.pos)
        return Derivation("typing", "Call", e, (sig.nl_out, sig.lin_out))

    # -- the definition --------------------------------------------------------
    @rule("typing", "Def", r"\Phi \vdash \mathsf{def}\ f(\bar x : \bar\tau ; \dot{\bar y} : \bar\sigma) \to M = e",
          [r"\bar x : \bar\tau ; \dot{\bar y} : \bar\sigma \vdash e : M", r"\Phi \text{ holds only earlier definitions}"],
          "a definition is checked against its signature")
    def run(self) -> Derivation:
        d = self.d
        for p in d.nl_params:
            self.bind(p.name, False, p.ty, p.pos or d.pos, "Def")
        for p in d.lin_params:
            self.bind(p.name, True, p.ty, p.pos or d.pos, "Def")
        check_no_linear_arrays(self, d)
        body = self.check(d.body)
        nl_t, lin_t = body.result
        want = (tuple(d.nl_out), tuple(d.lin_out))
        ok = len(nl_t) == len(want[0]) and len(lin_t) == len(want[1]) and \
            all(unify(a, b) for a, b in zip(nl_t + lin_t, want[0] + want[1]))
        if not ok:
            self.fail("Def", f"`{d.name}` is declared to return {_result(*want)} but its body "
                             f"returns {_result(nl_t, lin_t)}",
                      (d.body.tail.pos if type(d.body) is Block else d.body.pos) or d.pos)
        self.end_scope([p.name for p in d.params])
        for z in self.zeros:
            z.ty = resolve(z.ty)
            if has_unknown(z.ty):
                self.fail("Zero", "cannot infer the type of this `zero`", z.pos,
                          hint="annotate it, e.g. `zero : real`")
        if self.zeros:
            for z in self.zeros:         # an unknown solved late may have deepened a tuple
                self.check_depth(z.ty, "Zero", z.pos, "this `zero`")
            for name, (lin, ty) in self.env.items():
                self.check_depth(ty, self.binder_rule.get(name, "Let"), self.binder_pos.get(name) or d.pos,
                                 f"`{name}`")
            for node in body.walk():
                n, l = node.result
                node.result = (tuple(map(resolve, n)), tuple(map(resolve, l)))
            for name, (lin, ty) in self.env.items():
                self.env[name] = (lin, resolve(ty))
        return Derivation("typing", "Def", d, d.signature, [body], notes={"env": self.env})


_PRIM_WHAT: dict[str, str] = {}
_DISPATCH = {t: getattr(DefChecker, t.__name__)
             for t in (Ret, Lit, Prim, Zero, LAdd, Scale, Dup, Drop, NTup, LTup, Call)}
_DISPATCH[Loop] = typing_Loop        # semantics/loops.py


def typecheck_def(d: Def, phi: dict[str, Signature] | None = None, later=(), file=None,
                  derive: bool = True) -> Derivation:
    if d.name in PRIMITIVES:
        raise ScopeError(f"`{d.name}` is a primitive; choose another name for the function", d.pos,
                         file=file, rule="Def")
    return DefChecker(d, dict(phi or {}), set(later), file, derive).run()


def typecheck(prog: Program, derive: bool = True) -> Derivation:
    """Check every definition in order, Φ holding only the earlier ones.
    Returns the Program derivation (result: Φ, the signatures).

    ``derive=False`` checks the same rules but keeps only the derivation's
    spine (Program, Def nodes with their ``env``, each body's root): the
    bindings' premises are dropped as soon as they are checked, which halves
    the memory a long program's check needs."""
    with paused_gc():
        return _typecheck(prog, derive)


def _typecheck(prog: Program, derive: bool = True) -> Derivation:
    phi: dict[str, Signature] = {}
    premises = []
    names = [d.name for d in prog.defs]
    for i, d in enumerate(prog.defs):
        if d.name in phi:
            raise ScopeError(f"function `{d.name}` is defined twice", d.pos, file=prog.file, rule="Def")
        premises.append(typecheck_def(d, phi, names[i + 1:], prog.file, derive))
        phi[d.name] = d.signature
    return Derivation("program", "Program", prog, phi, premises)


def conclusion_text(dv: Derivation) -> str:
    """``e : (τ̄ ; σ̄)`` for a typing derivation node, on one line."""
    s = dv.subject
    if dv.rule == "Def":
        return f"{s.name} : {s.signature}"
    if dv.rule == "Program":
        return f"{len(s.defs)} definitions"
    if type(s) is Block:
        return f"let … ({len(s.binds)} bindings) in {show_leaf(s.tail)} : {_result(*dv.result)}"
    if type(s) is Let:
        rhs = show_leaf(s.rhs) if type(s.rhs) is not Block else "let … in …"
        return f"{show_bind_head(s)} {rhs} : {_result(*dv.result)}"
    if type(s) in (NUnpack, LUnpack):
        return f"{show_bind_head(s)} : {_result(*dv.result)}"
    return f"{show_leaf(s)} : {_result(*dv.result)}"
