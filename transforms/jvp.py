r"""JVP, forward-mode differentiation as a program transformation (SPEC §7).

The judgment ``θ ⊢ e ⇝J e'``: θ maps each non-linear variable in scope to
the linear variable holding its tangent.  On definitions::

    def f(x̄ : τ̄) -> (τ̄' ;) = e   ⟼   def f_jvp(x̄ : τ̄ ; dx̄ : τ̄) -> (τ̄' ; τ̄') = J_θ(e),  θ = [x̄ ↦ dx̄]

Contract.
* Input: a well-typed program; every definition transformed must be purely
  non-linear (no linear parameters, results or operations) and may only call
  purely non-linear definitions.  Anything else is a :class:`TransformError`
  naming the definition (and the offending node's position).
* Output: ``f_jvp`` for each transformed ``f`` (callees first), well typed by
  construction (the tests typecheck every output).  ``f_jvp`` computes f's
  results unchanged and, linearly in ``dx̄``, their tangents ``J_f(x̄)·dx̄``.

Tangent splitting.  θ(x) is a linear variable, consumed exactly once, while x
may be read many times.  Every read of a non-linear variable in e consumes one
tangent in J(e) (a primitive argument, a tuple component, a returned value, a
call argument, an unpack source, a drop), so we count the reads of every
variable once per definition and, at each read, hand out θ(x) itself if it is
the last read, else ``let (; dx_1, dx_2) = dup(dx)``: the read takes ``dx_1``
and θ(x) becomes ``dx_2``.  A variable read k times costs k − 1 ``dup``s,
placed just before the reads (so ``x * x`` has one ``dup``).  A nested
right-hand side that reads an outer x gets its own copy, split off in front of
the nested ``let``, so no tangent escapes its scope.

Constants carry no tangent (SPEC §17).  The tangent of a literal is the
*symbolic zero*: θ(c) = 0 is a mark, not a variable (rule JLit binds no
``zero``).  The rules that read a tangent drop symbolic zeros: JPrim leaves
out the term ∂ᵢ *. θ(xᵢ) (and the partials only that term needed), so a
primitive whose arguments are all constants has the symbolic zero as its
tangent too; JDrop drops nothing.  Only where a linear variable must exist --
a tuple, call or return slot -- is a symbolic zero made a ``zero`` (JZero).
A literal coefficient (the ``2.5`` of ``2.5 * x``, the −1 of a subtraction)
is written again as its own literal next to the scale that reads it, so that
unzip moves it to the linear half instead of storing it (rule ULit): the
literals of a program are never residuals.

Let-chains are walked by a loop; a let whose right-hand side is a leaf is
translated into a flat run of lets (primal, partials, tangent), not a nested
block, so the output of a 10^6-let chain is again one flat chain.

Derivations.  Each rule is one function below, registered with ``@rule``; it
appends its output bindings to the chain being built and returns
``Derivation("jvp", rule, subject, result, premises)`` where ``result`` is the
list of output bindings it produced (for a binding) or the output expression
(for a chain or a tail ``Ret``).  A chain is one ``JLet`` node whose premises
are its bindings' derivations and then its tail's.
"""
from __future__ import annotations

from linear_a.semantics.derivation import Derivation, discard
from linear_a.semantics.errors import LinearAError, TransformError
from linear_a.semantics.evaluate import _typing_info, use_counts
from linear_a.semantics.primitives import MINUS_ONE, ONE, PRIMITIVES
from linear_a.semantics.printer import show_bind_head, show_leaf
from linear_a.semantics.rules import register, rule
from linear_a.semantics.syntax import (REAL, Block, Call, Def, Drop, Dup, LAdd, Let, Lit, LTup, LUnpack,
                              NTup, NUnpack, Param, Prim, Program, Ret, Scale, Zero, call_closure,
                             Loop, has_array)

from .fresh import Emitter, Fresh, def_names, paused_gc
from .loops import JLoop

SUFFIX = "_jvp"


def tangent_base(x: str) -> str:
    return "d" + x


ZERO = None       # θ(x) for a constant x: the symbolic zero (no linear variable)


class JVPContext:
    """State for one definition: θ, the reads left per variable, names."""
    __slots__ = ("d", "theta", "left", "fresh", "callees", "file", "derive", "lits", "zeros")

    def __init__(self, d: Def, callees: dict, file=None, derive: bool = True):
        self.d = d
        self.derive = derive            # False: chains keep no premises (``jvp_program``)
        self.theta: dict[str, str | None] = {}     # None: the symbolic zero
        self.lits: dict[str, str] = {}             # variables bound to a literal -> its text
        self.zeros: list = []           # the JZero derivations (premises of JDef)
        self.left: dict[str, int] = use_counts(d.body)
        self.fresh = Fresh(def_names(d))
        self.callees = callees          # name -> (f_jvp name, number of non-linear outputs)
        self.file = file

    def refuse(self, what: str, pos) -> None:
        raise TransformError(f"JVP needs purely non-linear code, but `{self.d.name}` contains {what}",
                             pos, file=self.file, rule="JLet",
                             hint="JVP differentiates non-linear programs; linear code is its output")

    def bind(self, x: str) -> str:
        """A fresh tangent variable for the new binder x: θ(x) := dx."""
        t = self.fresh(tangent_base(x))
        self.theta[x] = t
        return t

    def tangent(self, x: str, out: list) -> str | None:
        """The tangent for one read of x (splitting θ(x) with ``dup`` unless
        last); None when θ(x) is the symbolic zero."""
        t = self.theta[x]
        if t is ZERO:
            return ZERO
        n = self.left[x]
        if n <= 1:
            return t
        base = tangent_base(x)
        a, b = self.fresh(base), self.fresh(base)
        out.append(Let((), (a, b), Dup(t)))
        self.theta[x] = b
        self.left[x] = n - 1
        return a


    def linear(self, x: str, out: list) -> str:
        """The tangent for one read of x where a linear variable must exist:
        a symbolic zero is made a ``zero`` here (rule JZero)."""
        t = self.tangent(x, out)
        return _zero_here(self, x, out) if t is ZERO else t


def _zero_here(cx: JVPContext, x: str, out: list) -> str:
    t = cx.fresh(tangent_base(x))
    b = Let((), (t,), Zero(REAL))
    out.append(b)
    if cx.derive:
        cx.zeros.append(Derivation("jvp", "JZero", x, [b]))
    return t


register("jvp", "JZero",
         r"\theta(x) = 0 \vdash x \leadsto_J \mathsf{let}\ (;\dot x) = \mathsf{zero}\ \mathsf{in}\ \dot x",
         [r"x \text{ read by a tuple, a call or a return}"],
         "a symbolic zero becomes a zero only where a tuple, call or return needs a linear variable")


# ----------------------------------------------------------------------------
# Leaf rules: ``let (z̄ ;) = leaf`` with z̄ given; they bind θ(z̄) themselves.


@rule("jvp", "JLit",
      r"\theta \vdash c \leadsto_J \mathsf{let}\ (y;) = c\ \mathsf{in}\ (y ; 0) \quad \theta(y) = 0 \text{ (symbolic)}",
      [], "a literal's tangent is the symbolic zero: no linear binding, later rules drop it")
def JLit(cx: JVPContext, e: Lit, dest, out: list) -> Derivation:
    start = len(out)
    (z,) = dest
    out.append(Let((z,), (), e))
    cx.theta[z] = ZERO
    cx.lits[z] = e.text
    return Derivation("jvp", "JLit", e, out[start:])


def _live_partials(binds: list, keep) -> list:
    """The partials' bindings that the kept coefficients read (transitively),
    in order: the others computed a coefficient of a zero tangent."""
    need = set(keep)
    live = []
    for b in reversed(binds):
        if b.nl[0] in need:
            live.append(b)
            rhs = b.rhs
            if type(rhs) is Prim:
                need.update(rhs.args)
    live.reverse()
    return live


@rule("jvp", "JPrim",
      r"\theta \vdash \mathit{op}(\bar x) \leadsto_J \mathsf{let}\ (y;) = \mathit{op}(\bar x)\ \mathsf{in}\ \mathsf{let}\ (\bar c;) = \partial\mathit{op}(\bar x, y)\ \mathsf{in}\ \mathsf{let}\ (; \dot x_i', \dot x_i'') = \mathsf{dup}(\theta(x_i))\ \mathsf{in}\ \mathsf{let}\ (;\dot y_i) = c_i \mathbin{*.} \dot x_i'\ \mathsf{in}\ (y ; \dot y_1 \mathbin{+.} \cdots \mathbin{+.} \dot y_n)",
      [r"\partial\mathit{op} \text{ from the primitive table (only the } c_i \text{ with } \theta(x_i) \neq 0\text{)}",
       r"\mathsf{dup} \text{ only if } x_i \text{ is read again; then } \theta(x_i) := \dot x_i''\text{, else } \dot x_i' = \theta(x_i)",
       r"c_i = 1: \dot y_i = \dot x_i' \quad c_i = -1 \text{ or a literal } k: \mathsf{let}\ (m;) = k \text{ first}",
       r"\text{all } \theta(x_i) = 0: \theta(y) = 0"],
      "primal op, then its partials as non-linear lets, then the scaled tangents summed with +.; "
      "a constant argument's term is left out (θ(y) = 0 when all are), a literal coefficient is "
      "written again next to its scale")
def JPrim(cx: JVPContext, e: Prim, dest, out: list) -> Derivation:
    start = len(out)
    (z,) = dest
    out.append(Let((z,), (), e))
    fresh = cx.fresh
    partials: list = []
    coeffs = PRIMITIVES[e.op].partials(Emitter(fresh, partials), e.args, z)
    live = [(c, x) for c, x in zip(coeffs, e.args) if cx.theta[x] is not ZERO]
    if len(live) < len(coeffs):
        partials = _live_partials(partials, [c for c, _ in live if type(c) is str])
    out.extend(partials)
    terms = []
    base = tangent_base(z)
    lits = cx.lits
    for c, x in live:
        t = cx.tangent(x, out)
        if c is ONE or c == ONE:
            terms.append(t)
            continue
        if c is MINUS_ONE or c == MINUS_ONE:
            c = fresh("m")
            out.append(Let((c,), (), Lit("-1")))
        elif c in lits:                             # a constant coefficient: not a residual
            text = lits[c]
            c = fresh("c")
            out.append(Let((c,), (), Lit(text)))
        s = fresh(base)
        out.append(Let((), (s,), Scale(c, t)))
        terms.append(s)
    if not terms:                                   # every argument constant
        cx.theta[z] = ZERO
        return Derivation("jvp", "JPrim", e, out[start:])
    acc = terms[0]
    for t in terms[1:]:
        s = fresh(base)
        out.append(Let((), (s,), LAdd(acc, t)))
        acc = s
    cx.theta[z] = acc
    return Derivation("jvp", "JPrim", e, out[start:])


@rule("jvp", "JTup",
      r"\theta \vdash (\bar x) \leadsto_J \mathsf{let}\ (y;) = (\bar x)\ \mathsf{in}\ \mathsf{let}\ (;\dot y) = (\theta(\bar x))\ \mathsf{in}\ (y ; \dot y)",
      [r"\theta(x_i) \text{ split by } \mathsf{dup} \text{ (as in JPrim) or made by JZero}"],
      "the tangent of a tuple is the linear tuple of the tangents")
def JTup(cx: JVPContext, e: NTup, dest, out: list) -> Derivation:
    start = len(out)
    (z,) = dest
    out.append(Let((z,), (), e))
    ts = [cx.linear(x, out) for x in e.args]
    out.append(Let((), (cx.bind(z),), LTup(ts)))
    return Derivation("jvp", "JTup", e, out[start:])


@rule("jvp", "JCall",
      r"\theta \vdash f(\bar x ;) \leadsto_J f_{\mathit{jvp}}(\bar x ; \theta(\bar x))",
      [r"\theta(x_i) \text{ split by } \mathsf{dup} \text{ (as in JPrim) or made by JZero}"],
      "a call calls the callee's JVP with the arguments' tangents")
def JCall(cx: JVPContext, e: Call, dest, out: list) -> Derivation:
    start = len(out)
    target = cx.callees.get(e.fn)
    if target is None or e.lin:
        cx.refuse(f"a call of `{e.fn}`, which is not purely non-linear", e.pos)
    ts = [cx.linear(x, out) for x in e.nl]
    out.append(Let(dest, [cx.bind(z) for z in dest], Call(target[0], e.nl, ts, e.pos)))
    return Derivation("jvp", "JCall", e, out[start:])


@rule("jvp", "JDrop",
      r"\theta \vdash \mathsf{drop}(x) \leadsto_J \mathsf{let}\ (;) = \mathsf{drop}(x)\ \mathsf{in}\ \mathsf{drop}(\theta(x))",
      [r"\theta(x) \text{ split by } \mathsf{dup} \text{ (as in JPrim); nothing when } \theta(x) = 0"],
      "discarding x also discards its tangent (a constant's symbolic zero needs nothing)")
def JDrop(cx: JVPContext, e: Drop, dest, out: list) -> Derivation:
    start = len(out)
    out.append(Let((), (), e))
    t = cx.tangent(e.v, out)
    if t is not ZERO:
        out.append(Let((), (), Drop(t)))
    return Derivation("jvp", "JDrop", e, out[start:])


@rule("jvp", "JRet",
      r"\theta \vdash (\bar x ;) \leadsto_J (\bar x ; \theta(\bar x))",
      [r"\theta(x_i) \text{ split by } \mathsf{dup} \text{ (as in JPrim) or made by JZero}"],
      "a return also returns the tangents (split where a name repeats)")
def JRet(cx: JVPContext, e: Ret, dest, out: list) -> Derivation:
    """In tail position (``dest is None``) the result is the output ``Ret``; as
    the right-hand side of ``let (z̄;)`` it emits ``let (z̄ ; dz̄) = (x̄ ; θ(x̄))``."""
    if e.lin:
        cx.refuse(f"a return of linear variables ({', '.join(e.lin)})", e.pos)
    start = len(out)
    ts = [cx.linear(x, out) for x in e.nl]
    if dest is None:
        return Derivation("jvp", "JRet", e, Ret(e.nl, ts, e.pos))
    out.append(Let(dest, [cx.bind(z) for z in dest], Ret(e.nl, ts, e.pos)))
    return Derivation("jvp", "JRet", e, out[start:])


LEAF_RULES = {Lit: JLit, Prim: JPrim, NTup: JTup, Call: JCall, Drop: JDrop, Ret: JRet, Loop: JLoop}


def _leaf(cx: JVPContext, e, dest, out: list) -> Derivation:
    r = LEAF_RULES.get(type(e))
    if r is None:
        cx.refuse(f"the linear form `{type(e).__name__}`", e.pos)
    return r(cx, e, dest, out)


# ----------------------------------------------------------------------------
# Bindings and chains.


@rule("jvp", "JLet",
      r"\theta \vdash \mathsf{let}\ (\bar x;) = e_1\ \mathsf{in}\ e_2 \leadsto_J \mathsf{let}\ (\bar x ; \dot{\bar x}) = e_1'\ \mathsf{in}\ e_2'",
      [r"\theta \vdash e_1 \leadsto_J e_1'", r"\theta, \bar x \mapsto \dot{\bar x} \vdash e_2 \leadsto_J e_2'"],
      "let: differentiate the right-hand side, extend θ with the new tangents, continue")
def JLet(cx: JVPContext, b: Let, out: list) -> Derivation:
    if b.lin:
        cx.refuse(f"a let binding linear variables ({', '.join(b.lin)})", b.pos)
    rhs = b.rhs
    if type(rhs) is not Block:
        start = len(out)
        prem = _leaf(cx, rhs, b.nl, out)
        return Derivation("jvp", "JLet", b, out[start:], [prem])
    # A nested right-hand side: give it its own copies of the outer tangents it
    # reads, split off here, so that no tangent it binds escapes its scope.
    start = len(out)
    theta, left = cx.theta, cx.left
    restore = []
    for x, k in use_counts(rhs).items():
        if x in theta and theta[x] is not ZERO:
            n = left[x]
            if n > k:
                base = tangent_base(x)
                a, c = cx.fresh(base), cx.fresh(base)
                out.append(Let((), (a, c), Dup(theta[x])))
                theta[x] = a
                left[x] = k
                restore.append((x, c, n - k))
    inner = expr(cx, rhs)
    for x, c, n in restore:
        theta[x] = c
        left[x] = n
    out.append(Let(b.nl, [cx.bind(z) for z in b.nl], inner.result, b.pos, b.nl_ty))
    return Derivation("jvp", "JLet", b, out[start:], [inner])


@rule("jvp", "JUnpack",
      r"\theta \vdash \mathsf{let}\ (\bar y) = x\ \mathsf{in}\ e \leadsto_J \mathsf{let}\ (\bar y) = x\ \mathsf{in}\ \mathsf{let}\ (\dot{\bar y}) = \theta(x)\ \mathsf{in}\ e'",
      [r"\theta(x) \text{ split by } \mathsf{dup} \text{ (as in JPrim)}",
       r"\theta, \bar y \mapsto \dot{\bar y} \vdash e \leadsto_J e'"],
      "unpacking a tuple also unpacks its tangent")
def JUnpack(cx: JVPContext, b: NUnpack, out: list) -> Derivation:
    start = len(out)
    out.append(b)
    t = cx.linear(b.src, out)
    out.append(LUnpack([cx.bind(y) for y in b.names], t, b.pos))
    return Derivation("jvp", "JUnpack", b, out[start:])


def _nl_arity(cx: JVPContext, e) -> int:
    t = type(e)
    if t is Drop:
        return 0
    if t is Call or t is Loop:
        target = cx.callees.get(e.fn)
        if target is None:
            cx.refuse(f"a call of `{e.fn}`, which is not purely non-linear", e.pos)
        return target[1]
    return 1


def expr(cx: JVPContext, e) -> Derivation:
    """J(e) for a chain or a leaf in tail position; result: the output expression."""
    out: list = []
    premises = []
    keep = premises.append if cx.derive else discard
    binds = e.binds if type(e) is Block else ()
    for b in binds:
        tb = type(b)
        if tb is Let:
            keep(JLet(cx, b, out))
        elif tb is NUnpack:
            keep(JUnpack(cx, b, out))
        else:
            cx.refuse("a linear unpack", b.pos)
    tail = e.tail if type(e) is Block else e
    if type(tail) is Ret:
        d = JRet(cx, tail, None, out)
        ret = d.result
    else:
        dest = tuple(cx.fresh("r") for _ in range(_nl_arity(cx, tail)))
        d = _leaf(cx, tail, dest, out)
        ret = Ret(dest, [_zero_here(cx, z, out) if cx.theta[z] is ZERO else cx.theta[z] for z in dest])
    if not binds and type(tail) is Ret:
        return d if not out else Derivation("jvp", "JLet", e, Block(out, ret, e.pos), [d])
    premises.append(d)
    return Derivation("jvp", "JLet", e, Block(out, ret, e.pos) if out else ret, premises)


# ----------------------------------------------------------------------------
# Definitions and programs.


@rule("jvp", "JDef",
      r"\mathsf{def}\ f(\bar x : \bar\tau) \to (\bar\tau' ;) = e \leadsto_J \mathsf{def}\ f_{\mathit{jvp}}(\bar x : \bar\tau ; \dot{\bar x} : \bar\tau) \to (\bar\tau' ; \bar\tau') = e'",
      [r"\bar x \mapsto \dot{\bar x} \vdash e \leadsto_J e'"],
      "a definition gets one tangent parameter per parameter and one tangent result per result")
def jvp_def(d: Def, callees: dict, file=None, derive: bool = True) -> Derivation:
    if not d.is_nonlinear:
        raise TransformError(f"JVP needs a purely non-linear function, but `{d.name}` has linear "
                             f"parameters or results", d.pos, file=file, rule="JDef")
    for p in d.nl_params:
        if has_array(p.ty):
            raise TransformError(f"JVP of `{d.name}`: parameter `{p.name}` has an array type "
                                 f"{p.ty!r}, and arrays carry no tangent", p.pos or d.pos, file=file,
                                 rule="JDef", hint="arrays arise from unzip's residual stacking; "
                                 "a loop's state is carried, not read from an array")
    if any(has_array(t) for t in d.nl_out):
        raise TransformError(f"JVP of `{d.name}`: it returns an array, and arrays carry no tangent",
                             d.pos, file=file, rule="JDef")
    cx = JVPContext(d, callees, file, derive)
    dparams = [Param(cx.bind(p.name), p.ty, p.pos) for p in d.nl_params]
    body = expr(cx, d.body)
    out = Def(callees[d.name][0], list(d.nl_params), dparams, list(d.nl_out), list(d.nl_out),
              body.result, d.pos)
    return Derivation("jvp", "JDef", d, out, [body] + cx.zeros)


@rule("jvp", "Program", r"P \leadsto_J P'", [r"\mathsf{def}\ f \leadsto_J \mathsf{def}\ f_{\mathit{jvp}}"],
      "every (requested) definition, callees first")
def jvp(prog: Program, names=None, trusted: bool = False, derive: bool = True) -> Derivation:
    """JVP of a program: ``f_jvp`` for each requested definition and its callees
    (``names=None``: every purely non-linear definition).  The program is
    typechecked first (cached on it) unless ``trusted`` (already checked).
    ``derive=False`` applies the same rules but keeps only the derivation's
    spine (Program, JDef and each body's root), not every binding's node."""
    if not trusted:
        try:
            _typing_info(prog)
        except LinearAError as e:
            raise e.located(prog.file)
    defs = {d.name: d for d in prog.defs}
    if names is None:
        chosen = {d.name for d in prog.defs if d.is_nonlinear}
        if not chosen:
            raise TransformError("JVP needs purely non-linear functions; this program has none ("
                                 + ", ".join(f"`{d.name}`" for d in prog.defs)
                                 + " have linear parameters or results)",
                                 prog.defs[0].pos if prog.defs else None, file=prog.file, rule="JDef")
    else:
        chosen = _with_callees(prog, names)
    with paused_gc():
        try:
            return _jvp_defs(prog, chosen, defs, derive)
        except LinearAError as e:
            raise e.located(prog.file)
        except (KeyError, AttributeError, IndexError, ValueError) as e:   # ill-typed, trusted input
            raise TransformError(f"JVP: the program is not well typed ({type(e).__name__}: {e}); "
                                 f"typecheck it first", file=prog.file, rule="JDef") from None


def _jvp_defs(prog: Program, chosen: set, defs: dict, derive: bool = True) -> Derivation:
    callees = {}
    premises = []
    out_defs = []
    for d in prog.defs:
        if d.name not in chosen:
            continue
        new = d.name + SUFFIX
        if new in defs:
            raise TransformError(f"cannot name the JVP of `{d.name}` `{new}`: that name is taken",
                                 defs[new].pos, file=prog.file, rule="JDef")
        callees[d.name] = (new, len(d.nl_out))
        if not d.is_nonlinear:
            raise TransformError(f"JVP needs a purely non-linear function, but `{d.name}` has linear "
                                 f"parameters or results", d.pos, file=prog.file, rule="JDef")
        dv = jvp_def(d, callees, prog.file, derive)
        premises.append(dv)
        out_defs.append(dv.result)
    return Derivation("jvp", "Program", prog, Program(out_defs, prog.file), premises)


def jvp_program(prog: Program, names=None, trusted: bool = False) -> Program:
    return jvp(prog, names, trusted, derive=False).result


def _with_callees(prog: Program, names) -> set[str]:
    """``names`` and every function they call, transitively."""
    defs = {d.name: d for d in prog.defs}
    for n in names:
        if n not in defs:
            raise TransformError(f"no function `{n}` in the program (defined: "
                                 f"{', '.join(defs) or 'none'})", file=prog.file)
    return call_closure(defs, names)


def fragment_text(x) -> str:
    """One line for a rule's subject or result: a leaf, a binding, a list of
    bindings (``let p1 = e1; let p2 = e2``), a chain or a definition."""
    if isinstance(x, (list, tuple)):
        return "; ".join(fragment_text(b) for b in x) if x else "□"
    t = type(x)
    if t is Let:
        rhs = x.rhs
        return f"{show_bind_head(x)} {'…' if type(rhs) is Block else show_leaf(rhs)}"
    if t is NUnpack or t is LUnpack:
        return show_bind_head(x)
    if t is Block:
        return f"let … ({len(x.binds)} bindings) in {show_leaf(x.tail)}"
    if t is Def:
        return f"{x.name} : {x.signature}"
    if t is Program:
        return ", ".join(x.names)
    return show_leaf(x)


def conclusion_text(dv: Derivation) -> str:
    """``subject ⇝ result`` on one line, for traces (JVP and transposition)."""
    return f"{fragment_text(dv.subject)} ⇝ {fragment_text(dv.result)}"
