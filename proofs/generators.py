"""Hypothesis strategies for random, well-typed Linear A programs (SPEC §11, per program).

Three strategies build whole :class:`~linear_a.semantics.syntax.Program` values:

* :func:`nonlinear_programs` -- purely non-linear definitions (JVP's input);
* :func:`looped_programs` -- the same with a step function and a loop of it;
* :func:`linear_programs` -- definitions with linear inputs and outputs and no
  non-linear outputs (transpose's input);
* :func:`mixed_programs` -- non-linear and linear inputs and results, the shape
  JVP's output has (unzip's input).

A program is a list of definitions ``f0, f1, …``; later ones call earlier
ones, and **the function to run is the last one** (:func:`entry`).
:func:`points_for` draws arguments for a definition, :func:`with_points` pairs
a program with arguments for its entry.  Every definition of a
``nonlinear_programs`` program is purely non-linear; every definition of a
``linear_programs`` program has ≥ 1 linear input, ≥ 1 linear output and no
non-linear output, so transforms can be applied to callees as well.

**Well typed by construction.**  The generator writes the AST directly and
keeps the books the typing judgment checks (SPEC §3): every binder is fresh;
a *pool* holds the linear variables not yet consumed, and every linear
operation takes its inputs out of it (so each is used exactly once; ``dup``
is how a value gets two uses); every non-linear use is counted, and a
variable still unused when its chain ends is discarded with
``let (;) = drop(x) in``; types are tracked, so ``+.``, tuples, unpacks and
calls line up.  Right-hand sides are occasionally chains of their own
(``let (y ;) = let … in (t ;) in …``), whose binders are closed the same way.

**Safe by construction.**  Arguments lie in [-2, 2] (:data:`INPUT_BOUND`).
Each variable carries an upper bound on |value| and, when known, a lower
bound on its value, derived by interval reasoning from the operation that
made it.  ``log``, ``sqrt``, ``pow`` and ``/`` only receive arguments that are
positive by construction and bounded away from 0 (``1 + t*t``, ``exp(s)``,
``sqrt(1 + t*t)`` …); ``exp`` only an argument of |value| ≤ 3; ``tan`` only
|value| ≤ 1.2; a value that would exceed :data:`LIMIT` is first squashed by
``tanh``/``sin``.  Calls keep the same contract: an argument passed to a
function has |value| ≤ INPUT_BOUND (bigger ones are squashed), so the
callee's recorded result bounds hold.  Hence float evaluation at any point
of :func:`points_for` never raises a domain error, never overflows, and (no
value being large) agrees with exact evaluation to ~1e-12.  The same holds
for the derivatives JVP introduces (1/p, 0.5/sqrt p, 1 + tan² … are bounded).

**Shrinking.**  Every choice is one hypothesis draw of a small integer, a
boolean or a list element, and the number of ``let``s per definition and of
definitions are integers, so hypothesis shrinks a failing program towards a
single short definition made of the first-listed (simplest) operations.
"""
from __future__ import annotations

import math
import random

from hypothesis import strategies as st

from linear_a.semantics.syntax import (REAL, Block, Call, Def, Drop, Dup, LAdd, Let, Lit, Loop, LTup, LUnpack,
                              NTup, NUnpack, Param, Prim, Program, Ret, Scale, TupleType, Type, Zero)

INPUT_BOUND = 2.0     # arguments (and call arguments) lie in [-INPUT_BOUND, INPUT_BOUND]
LIMIT = 50.0          # no generated non-linear value exceeds this in magnitude
MIN_POSITIVE = 0.05   # log / sqrt / pow / division only see values ≥ this
MAX_N = 5             # a generated loop runs its step 0..MAX_N times

PAIR = TupleType((REAL, REAL))
PARAM_TYPES = (REAL, PAIR, TupleType((REAL, REAL, REAL)), TupleType((PAIR, REAL)),
               TupleType((REAL,)))
LITERALS = ("2", "0.5", "-1.5", "3", "1", "-0.25")

# The operations a step chooses from (listed simplest first: shrinking goes there;
# repeats weight an operation).
NL_OPS = ("unary", "arith", "call", "lit", "exp", "log", "div", "sqrt", "tan", "pow", "ntup",
          "nunpack", "nested", "unary", "arith", "call")
FLAT_OPS = ("unary", "arith", "lit", "exp", "log", "div", "sqrt", "tan", "pow", "unary", "arith")
LIN_OPS = ("scale", "add", "zero", "dup", "ltup", "lunpack", "call", "scale", "add", "ldrop")
MIXED_OPS = tuple(op for pair in zip(LIN_OPS + ("scale",) * 6, NL_OPS) for op in pair)


def entry(prog: Program) -> Def:
    """The definition a generated program is about: its last one."""
    return prog.defs[-1]


# ----------------------------------------------------------------------------
# Bookkeeping


class _V:
    """A variable the generator may use: name, type, |value| ≤ bound
    (componentwise), and value ≥ lo when lo is not None (reals only)."""
    __slots__ = ("name", "ty", "bound", "lo", "depth")

    def __init__(self, name, ty, bound, lo=None, depth=0):
        self.name, self.ty, self.bound, self.lo, self.depth = name, ty, bound, lo, depth


class _Fn:
    """A generated definition and the bounds of its results (for |args| ≤ INPUT_BOUND);
    ``step``: a step function (its results have its parameters' types and
    |value| ≤ INPUT_BOUND, so it can run any number of times in a loop)."""
    __slots__ = ("d", "nl_bounds", "lin_bounds", "step")

    def __init__(self, d, nl_bounds, lin_bounds, step=False):
        self.d, self.nl_bounds, self.lin_bounds, self.step = d, nl_bounds, lin_bounds, step


def _type_depth(t: Type) -> int:
    return 0 if t == REAL else 1 + max((_type_depth(s) for s in t.items), default=0)


def _has_real(t: Type) -> bool:
    return t == REAL or any(_has_real(s) for s in t.items)


def _sigmoid_lower(bound: float) -> float:
    """min of sigmoid(t) over |t| ≤ bound."""
    return 1.0 / (1.0 + math.exp(bound)) if bound < 700 else 0.0


class _Builder:
    """Builds one definition's body, one ``let`` at a time, keeping the books."""

    def __init__(self, draw, callees, linear: bool, max_depth: int = 2, flat: bool = False):
        self.draw = draw
        self.flat = flat              # the fast path's fragment: reals, primitives, literals, drops
        self.callees = callees
        self.linear = linear          # may linear operations be emitted?
        self.max_depth = max_depth
        self.counter = 0
        self.uses: dict[str, int] = {}
        self.nl: list[_V] = []        # visible non-linear variables
        self.pool: list[_V] = []      # linear variables not yet consumed
        self.binds: list = []         # the chain under construction
        self.depth = 0

    # -- drawing --------------------------------------------------------------
    def int(self, lo, hi) -> int:
        return lo if hi <= lo else self.draw(st.integers(lo, hi))

    def choice(self, seq):
        return seq[self.int(0, len(seq) - 1)]

    def chance(self, one_in: int) -> bool:
        """True with probability about 1/one_in (False when shrunk)."""
        return self.int(0, one_in - 1) == one_in - 1

    def pick(self, vs: list[_V]) -> _V:
        """A variable, preferring one not used yet (fewer drops, more dependence)."""
        unused = [v for v in vs if self.uses.get(v.name, 1) == 0]
        if unused and not self.chance(4):
            return self.choice(unused)
        return self.choice(vs)

    # -- binding ----------------------------------------------------------------
    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def var(self, ty, bound, lo=None, linear=False) -> _V:
        v = _V(self.fresh("l" if linear else "v"), ty, bound, lo, self.depth)
        if linear:
            self.pool.append(v)
        else:
            self.uses[v.name] = 0
            self.nl.append(v)
        return v

    def use(self, v: _V) -> str:
        self.uses[v.name] += 1
        return v.name

    def take(self, v: _V) -> str:
        self.pool.remove(v)
        return v.name

    def let(self, rhs, nl=(), lin=()) -> list[_V]:
        """Bind ``rhs``'s results to fresh variables; nl/lin: (type, bound, lo) triples."""
        nv = [self.var(t, b, lo) for t, b, lo in nl]
        lv = [self.var(t, b, None, linear=True) for t, b, _ in lin]
        nl_ty = lin_ty = None
        if (nv or lv) and not self.flat and self.chance(8):   # an occasional type annotation
            nl_ty = tuple(v.ty for v in nv) or None
            lin_ty = tuple(v.ty for v in lv) or None
        self.binds.append(Let([v.name for v in nv], [v.name for v in lv], rhs,
                              nl_ty=nl_ty, lin_ty=lin_ty))
        return nv + lv

    def drop(self, name: str):
        self.binds.append(Let((), (), Drop(name)))

    # -- non-linear values with bounds ---------------------------------------------
    def lit(self, text=None) -> _V:
        text = text or self.choice(LITERALS)
        c = float(text)
        return self.let(Lit(text), nl=[(REAL, abs(c), c if c > 0 else None)])[0]

    def prim(self, op: str, *args: _V) -> _V:
        """Emit ``op(args)``; the result's bounds by interval reasoning.  The
        asserts are the safety preconditions the callers establish."""
        b = [a.bound for a in args]
        lo = [a.lo for a in args]
        out_lo = None
        if op == "+":
            bound = b[0] + b[1]
            if lo[0] is not None and lo[1] is not None:
                out_lo = lo[0] + lo[1]
        elif op == "-":
            bound = b[0] + b[1]
        elif op == "*":
            bound = b[0] * b[1]
            if args[0] is args[1]:
                out_lo = 0.0
            elif lo[0] is not None and lo[1] is not None:
                out_lo = lo[0] * lo[1]
        elif op == "/":
            assert lo[1] is not None and lo[1] >= MIN_POSITIVE
            bound = b[0] / lo[1]
            if lo[0] is not None:
                out_lo = lo[0] / b[1]
        elif op == "neg":
            bound = b[0]
        elif op in ("sin", "tanh"):
            bound = min(1.0, b[0])
        elif op == "cos":
            bound = 1.0
        elif op == "sigmoid":
            bound, out_lo = 1.0, _sigmoid_lower(b[0])
        elif op == "tan":
            assert b[0] <= 1.2
            bound = math.tan(b[0])
        elif op == "exp":
            assert b[0] <= 3.0
            bound, out_lo = math.exp(b[0]), math.exp(-b[0])
        elif op == "log":
            assert lo[0] is not None and lo[0] >= MIN_POSITIVE
            bound = max(abs(math.log(lo[0])), abs(math.log(b[0])))
            out_lo = 0.0 if lo[0] >= 1 else None
        elif op == "sqrt":
            assert lo[0] is not None and lo[0] >= MIN_POSITIVE
            bound, out_lo = math.sqrt(b[0]), math.sqrt(lo[0])
        elif op == "pow":
            assert lo[0] is not None and lo[0] >= MIN_POSITIVE and b[1] <= 1.0
            bound = max(b[0], 1.0 / lo[0]) ** b[1]
            out_lo = 1.0 / bound
        else:
            raise AssertionError(op)
        assert bound <= LIMIT * 1.0001, (op, bound)
        return self.let(Prim(op, [self.use(a) for a in args]), nl=[(REAL, bound, out_lo)])[0]

    def squash(self, v: _V) -> _V:
        return self.prim(self.choice(("tanh", "sin")), v)

    def real_arg(self, max_bound: float = LIMIT) -> _V:
        """A real variable with |value| ≤ max_bound (≥ 1), made if need be."""
        reals = [v for v in self.nl if v.ty == REAL]
        if not reals:
            tups = [v for v in self.nl if v.ty != REAL and _has_real(v.ty)]
            if not tups:
                v = self.lit()
                return self.squash(v) if v.bound > max_bound else v
            t = self.pick(tups)
            while t.ty != REAL:                      # unpack down to a real component
                parts = self.unpack(t)
                t = next(p for p in parts if _has_real(p.ty))
            reals = [t]
        v = self.pick(reals)
        return self.squash(v) if v.bound > max_bound else v

    def positive_arg(self) -> _V:
        """A real ≥ MIN_POSITIVE and ≤ LIMIT: an existing one, or ``1 + t*t``."""
        cands = [v for v in self.nl if v.ty == REAL and v.lo is not None and v.lo >= MIN_POSITIVE]
        if cands and self.chance(2):
            return self.pick(cands)
        t = self.real_arg(max_bound=7.0)
        sq = self.prim("*", t, t)
        return self.prim("+", self.lit("1"), sq)

    def unpack(self, t: _V) -> list[_V]:
        parts = [self.var(s, t.bound) for s in t.ty.items]
        self.binds.append(NUnpack([p.name for p in parts], self.use(t)))
        return parts

    # -- non-linear operations -------------------------------------------------------
    def op_lit(self):
        self.lit()

    def op_unary(self):
        self.prim(self.choice(("sin", "cos", "neg", "tanh", "sigmoid")), self.real_arg())

    def op_arith(self):
        op = self.choice(("*", "+", "-"))
        a, b = self.real_arg(), self.real_arg()
        size = a.bound * b.bound if op == "*" else a.bound + b.bound
        if size > LIMIT:
            same = a is b
            a = self.squash(a) if a.bound > 1 else a
            b = a if same else self.squash(b) if b.bound > 1 else b
        self.prim(op, a, b)

    def op_exp(self):
        self.prim("exp", self.real_arg(max_bound=3.0))

    def op_log(self):
        self.prim("log", self.positive_arg())

    def op_sqrt(self):
        self.prim("sqrt", self.positive_arg())

    def op_pow(self):
        p = self.positive_arg()
        self.prim("pow", p, self.real_arg(max_bound=1.0))

    def op_div(self):
        p = self.positive_arg()
        a = self.real_arg()
        if a.bound / p.lo > LIMIT:
            a = self.squash(a)
        self.prim("/", a, p)

    def op_tan(self):
        self.prim("tan", self.real_arg(max_bound=1.2))

    def op_ntup(self):
        flat = [v for v in self.nl if _type_depth(v.ty) <= 1]
        if not flat:
            return self.op_lit()
        k = self.choice((2, 3, 1, 0))
        items = [self.pick(flat) for _ in range(k)]
        ty = TupleType(v.ty for v in items)
        bound = max((v.bound for v in items), default=0.0)
        self.let(NTup([self.use(v) for v in items]), nl=[(ty, bound, None)])

    def op_nunpack(self):
        tups = [v for v in self.nl if v.ty != REAL]
        if not tups:
            return self.op_ntup()
        self.unpack(self.pick(tups))

    def arg_of_type(self, ty: Type) -> _V:
        """A non-linear argument of type ty with |value| ≤ INPUT_BOUND."""
        if ty == REAL:
            return self.real_arg(max_bound=INPUT_BOUND)
        cands = [v for v in self.nl if v.ty == ty and v.bound <= INPUT_BOUND]
        if cands and not self.chance(3):
            return self.pick(cands)
        items = [self.arg_of_type(s) for s in ty.items]
        bound = max((v.bound for v in items), default=0.0)
        return self.let(NTup([self.use(v) for v in items]), nl=[(ty, bound, None)])[0]

    def lin_arg_of_type(self, ty: Type) -> _V:
        """A linear argument of type ty, taken out of the pool (or built, or zero)."""
        cands = [v for v in self.pool if v.ty == ty]
        if cands and not self.chance(4):
            v = self.choice(cands)
        elif ty != REAL and ty.items and not self.chance(3):
            items = [self.lin_arg_of_type(s) for s in ty.items]
            v = self.let(LTup([x.name for x in items]), lin=[(ty, max(x.bound for x in items), None)])[0]
        else:
            v = self.zero(ty)
        self.take(v)
        return v

    def op_call(self):
        if not self.callees:
            return self.op_unary()
        fn = self.choice(self.callees)
        sig = fn.d.signature
        nl_args = [self.arg_of_type(t) for t in sig.nl_in]
        lin_args = [self.lin_arg_of_type(t) for t in sig.lin_in]
        scale = max([1.0] + [v.bound / INPUT_BOUND for v in lin_args])
        self.let(Call(fn.d.name, [self.use(v) for v in nl_args], [v.name for v in lin_args]),
                 nl=[(t, b, None) for t, b in zip(sig.nl_out, fn.nl_bounds)],
                 lin=[(t, b * scale, None) for t, b in zip(sig.lin_out, fn.lin_bounds)])

    def op_loop(self):
        """``let (x̄' ;) = loop N f(x̄) in …``: a step function run N = 0..5 times
        (MAX_N), its carry arguments bounded by INPUT_BOUND, as its results are;
        in linear code ``let (; l̄') = loop N f(; l̄) in …``, a linear carry."""
        steps = [f for f in self.callees if f.step]
        if not steps:
            return self.op_unary()
        fn = self.choice(steps)
        sig = fn.d.signature
        if sig.lin_in:
            lin = [self.lin_arg_of_type(t) for t in sig.lin_in]
            n = self.int(0, MAX_N)
            grow = max([1.0] + [b / INPUT_BOUND for b in fn.lin_bounds]) ** n
            self.let(Loop(n, fn.d.name, (), [v.name for v in lin]),
                     lin=[(t, max(v.bound for v in lin) * grow, None) for t in sig.lin_out])
            return
        carry = [self.arg_of_type(t) for t in sig.nl_in]
        n = self.int(0, MAX_N)
        self.let(Loop(n, fn.d.name, [self.use(v) for v in carry], ()),
                 nl=[(t, max(b, v.bound), None) for t, b, v in zip(sig.nl_out, fn.nl_bounds, carry)])

    def op_nested(self):
        """``let (ȳ ; k̄) = <a chain of its own> in …``"""
        if self.depth >= self.max_depth:
            return self.op_unary()
        outer_binds, mark = self.binds, len(self.nl)
        self.binds, self.depth = [], self.depth + 1
        for _ in range(self.int(1, 3)):
            self.step()
        own = self.nl[mark:]
        reals = [v for v in own if v.ty == REAL] or [v for v in self.nl if v.ty == REAL]
        nl_out = [self.pick(reals)] if reals and not (self.linear and self.chance(4)) else []
        lin_out = [v for v in self.pool if v.depth == self.depth]
        if not nl_out and not lin_out:
            nl_out = [self.real_arg()]
        names = [self.use(v) for v in nl_out]
        for v in self.nl[mark:]:
            if self.uses[v.name] == 0:
                self.drop(self.use(v))
        tail = Ret(names, [self.take(v) for v in lin_out])
        rhs = Block(self.binds, tail) if self.binds else tail
        del self.nl[mark:]
        self.binds, self.depth = outer_binds, self.depth - 1
        self.let(rhs, nl=[(v.ty, v.bound, v.lo) for v in nl_out],
                 lin=[(v.ty, v.bound, None) for v in lin_out])

    # -- linear operations -----------------------------------------------------------
    def zero(self, ty: Type) -> _V:
        if self.chance(4):   # untyped `zero`, its type given by the binder's annotation
            v = self.var(ty, 0.0, linear=True)
            self.binds.append(Let((), (v.name,), Zero(None), lin_ty=(ty,)))
            return v
        return self.let(Zero(ty), lin=[(ty, 0.0, None)])[0]

    def op_zero(self):
        types = [REAL] + [v.ty for v in self.pool]
        self.zero(self.choice(types))

    def op_scale(self):
        if not self.pool:
            return self.op_zero()
        l = self.choice(self.pool)
        x = self.real_arg()
        if x.bound * l.bound > LIMIT and x.bound > 1:
            x = self.squash(x)
        self.let(Scale(self.use(x), self.take(l)), lin=[(l.ty, x.bound * l.bound, None)])

    def op_add(self):
        pairs = [(a, b) for i, a in enumerate(self.pool) for b in self.pool[i + 1:] if a.ty == b.ty]
        if not pairs:
            return self.op_dup()
        a, b = self.choice(pairs)
        self.let(LAdd(self.take(a), self.take(b)), lin=[(a.ty, a.bound + b.bound, None)])

    def op_dup(self):
        if not self.pool:
            return self.op_zero()
        l = self.choice(self.pool)
        self.let(Dup(self.take(l)), lin=[(l.ty, l.bound, None)] * 2)

    def op_ltup(self):
        if not self.pool:
            return self.op_zero()
        flat = [v for v in self.pool if _type_depth(v.ty) <= 1]
        if not flat:
            return self.op_lunpack()
        items = [self.choice(flat)]
        rest = [v for v in flat if v is not items[0]]
        if rest and not self.chance(4):
            items.append(self.choice(rest))
        ty = TupleType(v.ty for v in items)
        self.let(LTup([self.take(v) for v in items]), lin=[(ty, max(v.bound for v in items), None)])

    def op_lunpack(self):
        tups = [v for v in self.pool if v.ty != REAL and v.ty.items]
        if not tups:
            return self.op_ltup() if len(self.pool) > 1 else self.op_scale()
        self.op_lunpack_of(self.choice(tups))

    def op_lunpack_of(self, t: _V):
        self.take(t)
        parts = [self.var(s, t.bound, linear=True) for s in t.ty.items]
        self.binds.append(LUnpack([p.name for p in parts], t.name))

    def op_ldrop(self):
        if len(self.pool) < 2:
            return self.op_scale()
        self.drop(self.take(self.choice(self.pool)))

    # -- one step ----------------------------------------------------------------------
    def step(self):
        ops = FLAT_OPS if self.flat else MIXED_OPS if self.linear else NL_OPS
        getattr(self, "op_" + self.choice(ops))()

    # -- the end of a body ---------------------------------------------------------------
    def nl_result(self) -> _V:
        """A non-linear result: a real, an existing tuple, or a fresh pair."""
        kind = "real" if self.flat else self.choice(("real", "tuple", "pair"))
        tups = [v for v in self.nl if v.ty != REAL]
        if kind == "tuple" and tups:
            return self.pick(tups)
        if kind == "pair":
            a, b = self.real_arg(), self.real_arg()
            return self.let(NTup([self.use(a), self.use(b)]), nl=[(PAIR, max(a.bound, b.bound), None)])[0]
        return self.real_arg()

    def finish(self, n_nl: int, n_lin: int):
        """Choose the results, fold what is left into them (or drop it);
        returns (tail, non-linear results, linear results)."""
        nl_out = [self.nl_result() for _ in range(n_nl)]
        lin_out = []
        for _ in range(n_lin):
            if not self.pool:
                self.zero(REAL)
            v = self.choice(self.pool)
            self.pool.remove(v)
            lin_out.append(v)
        # Unused non-linear reals: combine into a real result, or scale a linear one.
        for u in [v for v in self.nl if v.ty == REAL and self.uses[v.name] == 0]:
            if u in nl_out or self.chance(4):
                continue
            reals = [i for i, o in enumerate(nl_out) if o.ty == REAL]
            if reals:
                i = self.choice(reals)
                op = self.choice(("+", "*", "-"))
                o = nl_out[i]
                if (o.bound * u.bound if op == "*" else o.bound + u.bound) > LIMIT:
                    o = self.squash(o) if o.bound > 1 else o
                    u = self.squash(u) if u.bound > 1 else u
                nl_out[i] = self.prim(op, o, u)
            elif lin_out:
                i = self.choice(range(len(lin_out)))
                o = lin_out[i]
                if u.bound * o.bound > LIMIT and u.bound > 1:
                    u = self.squash(u)
                lin_out[i] = _V(self.fresh("l"), o.ty, u.bound * o.bound)
                self.binds.append(Let((), (lin_out[i].name,), Scale(self.use(u), o.name)))
        # Leftover linear values: add into a result of the same type, unpack, or drop.
        while self.pool:
            r = self.pool.pop()
            same = [i for i, o in enumerate(lin_out) if o.ty == r.ty]
            if same and not self.chance(4):
                i = self.choice(same)
                o = lin_out[i]
                lin_out[i] = _V(self.fresh("l"), o.ty, o.bound + r.bound)
                self.binds.append(Let((), (lin_out[i].name,), LAdd(o.name, r.name)))
            elif r.ty != REAL and r.ty.items and not self.chance(4):
                self.pool.append(r)
                self.op_lunpack_of(r)
            else:
                self.drop(r.name)
        names = [self.use(v) for v in nl_out]
        for v in self.nl:
            if self.uses[v.name] == 0:
                self.drop(self.use(v))
        return Ret(names, [v.name for v in lin_out]), nl_out, lin_out


def _build_def(draw, name: str, callees: list[_Fn], kind: str, max_lets: int,
               loop_first: bool = False) -> _Fn:
    flat = kind == "flat"
    kind = "nonlinear" if flat else kind
    linear = kind != "nonlinear"
    b = _Builder(draw, callees, linear, flat=flat)
    n_nl = {"nonlinear": (1, 3), "linear": (0, 2), "mixed": (1, 3)}[kind]
    n_lin = {"nonlinear": (0, 0), "linear": (1, 3), "mixed": (0, 2)}[kind]
    nl_params = [Param(f"x{i}", REAL if flat else b.choice(PARAM_TYPES)) for i in range(b.int(*n_nl))]
    lin_params = [Param(f"dx{i}", b.choice(PARAM_TYPES)) for i in range(b.int(*n_lin))]
    for p in nl_params:
        b.uses[p.name] = 0
        b.nl.append(_V(p.name, p.ty, INPUT_BOUND))
    for p in lin_params:
        b.pool.append(_V(p.name, p.ty, INPUT_BOUND))
    if loop_first:
        b.op_loop()
    for _ in range(b.int(1, max_lets)):
        b.step()
    if callees and kind == "linear" and not any(type(x) is Let and type(x.rhs) is Call for x in b.binds):
        b.op_call()                     # a linear definition with callees calls one (transposing calls)
    if kind == "nonlinear":
        outs = (b.int(1, 2), 0)
    elif kind == "linear":
        outs = (0, b.int(1, 2))
    else:
        outs = (b.int(0, 2), b.int(0, 2))
        if outs == (0, 0):
            outs = (1, 1)
    tail, nl_out, lin_out = b.finish(*outs)
    body = Block(b.binds, tail) if b.binds else tail
    d = Def(name, nl_params, lin_params, [v.ty for v in nl_out], [v.ty for v in lin_out], body)
    return _Fn(d, [v.bound for v in nl_out], [v.bound for v in lin_out])


def _build_step(draw, name: str, callees: list[_Fn], max_lets: int) -> _Fn:
    """A step function: a non-linear carry of 1–3 values (reals and tuples:
    PARAM_TYPES), a body like any definition's (calls of earlier definitions
    included, one always), and results of the carry's types
    with |value| ≤ INPUT_BOUND, so that every iteration keeps the contract."""
    b = _Builder(draw, callees, False)
    params = [Param(f"x{i}", b.choice(PARAM_TYPES)) for i in range(b.int(1, 3))]
    for p in params:
        b.uses[p.name] = 0
        b.nl.append(_V(p.name, p.ty, INPUT_BOUND))
    for _ in range(b.int(1, max_lets)):
        b.step()
    if callees:
        b.op_call()
    outs = [b.arg_of_type(p.ty) for p in params]
    names = [b.use(v) for v in outs]
    for v in b.nl:
        if b.uses[v.name] == 0:
            b.drop(b.use(v))
    tail = Ret(names, [])
    body = Block(b.binds, tail) if b.binds else tail
    d = Def(name, params, [], [p.ty for p in params], [], body)
    return _Fn(d, [v.bound for v in outs], [], step=True)


def _build_linear_step(draw, name: str, callees: list[_Fn], max_lets: int) -> _Fn:
    """A linear step function ``(; l̄) -> (; l̄)``: a linear carry of 1–2 values
    (reals and tuples), a body of linear operations whose coefficients are
    non-linear values it computes (literals, primitives of them), calls of
    earlier (linear) definitions; TLoop transposes a loop of it."""
    b = _Builder(draw, callees, True)
    params = [Param(f"dx{i}", b.choice(PARAM_TYPES)) for i in range(b.int(1, 2))]
    for p in params:
        b.pool.append(_V(p.name, p.ty, INPUT_BOUND))
    for _ in range(b.int(1, max_lets)):
        b.step()
    for _ in range(b.int(1, 2)):      # the carry is scaled (an iteration is not the identity)
        b.op_scale()
    outs = []
    for p in params:                  # the newest value of the carry's type (the scaled one)
        cands = [v for v in b.pool if v.ty == p.ty]
        if cands:
            b.take(cands[-1])
            outs.append(cands[-1])
        else:
            outs.append(b.lin_arg_of_type(p.ty))
    for v in list(b.pool):
        b.drop(b.take(v))
    for v in b.nl:
        if b.uses[v.name] == 0:
            b.drop(b.use(v))
    tail = Ret([], [v.name for v in outs])
    body = Block(b.binds, tail) if b.binds else tail
    d = Def(name, [], params, [], [p.ty for p in params], body)
    return _Fn(d, [], [v.bound for v in outs], step=True)


def _program(draw, kind: str, max_defs: int, max_lets: int) -> Program:
    """Definitions f0, f1, …; kind ``looped``: a non-linear program (or, one in
    three, a linear one) whose second-to-last definition is a step function and
    whose entry starts with a loop of it."""
    fns: list[_Fn] = []
    count = draw(st.integers(1, max_defs))
    base = kind
    if kind == "looped":             # the step has a function before it to call
        count = max(count, 2)
    if kind == "looped":             # one looped program in three carries a linear state
        base = "linear" if draw(st.integers(0, 2)) == 2 else "nonlinear"
    for i in range(count):
        if kind == "looped" and i == count - 1:
            make = _build_linear_step if base == "linear" else _build_step
            fns.append(make(draw, f"f{i}", list(fns), max_lets))
            fns.append(_build_def(draw, f"f{i + 1}", list(fns), base, max_lets, loop_first=True))
        else:
            fns.append(_build_def(draw, f"f{i}", list(fns), base, max_lets))
    return Program([f.d for f in fns])


def _programs(kind: str, max_defs: int, max_lets: int):
    @st.composite
    def programs(draw):
        return _program(draw, kind, max_defs, max_lets)
    return programs()


class _SeededDraw:
    """A stand-in for hypothesis's ``draw`` answering the generator's only kind
    of draw, ``st.integers(lo, hi)``, from a seeded ``random.Random``."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def __call__(self, strategy):
        lo, hi = _integer_bounds(strategy)
        return self.rng.randint(lo, hi)


def _integer_bounds(strategy) -> tuple[int, int]:
    s = getattr(strategy, "wrapped_strategy", strategy)      # LazyStrategy -> the real one
    for lo, hi in ((getattr(s, "start", None), getattr(s, "end", None)),
                   (getattr(s, "lower_bound", None), getattr(s, "upper_bound", None))):
        if lo is not None and hi is not None:
            return lo, hi
    raise TypeError(f"the seeded generator draws only bounded integers, not {strategy!r}")


def seeded_programs(kind: str, seeds, max_defs: int = 3, max_lets: int = 8) -> list[Program]:
    """Programs of the ``kind`` strategy (``"nonlinear"``, ``"linear"``,
    ``"mixed"``) made without hypothesis, one per seed, each choice drawn from
    ``random.Random(seed)``: the same programs on every run.  Tests that assert
    a kind of case is covered add these to their hypothesis examples, so the
    assertion holds by construction rather than by the luck of one run."""
    return [_program(_SeededDraw(s), kind, max_defs, max_lets) for s in seeds]


def nonlinear_programs(max_defs: int = 3, max_lets: int = 8) -> st.SearchStrategy[Program]:
    """Purely non-linear programs (JVP's input): real and tuple parameters and
    results, all primitives, tuples and unpacks, sharing, literals, drops,
    nested right-hand sides, calls of earlier definitions."""
    return _programs("nonlinear", max_defs, max_lets)


def looped_programs(max_defs: int = 3, max_lets: int = 8) -> st.SearchStrategy[Program]:
    """Programs with a loop: a step function run N = 0..5 times at the start of
    the entry (which may call it too).  Two in three are non-linear (the step
    carries 1–3 values, reals and tuples, and calls earlier definitions: JVP,
    unzip and transposition of the loop); one in three linear (the step
    carries 1–2 linear values: TLoop on the user's loop)."""
    return _programs("looped", max_defs, max_lets)


def flat_programs(max_lets: int = 10) -> st.SearchStrategy[Program]:
    """One purely non-linear definition in the fast path's fragment
    (``linear_a.semantics.flat``): real parameters and results, a let-chain of
    primitives, literals and drops."""
    return _programs("flat", 1, max_lets)


def linear_programs(max_defs: int = 3, max_lets: int = 8) -> st.SearchStrategy[Program]:
    """Programs whose every definition has linear inputs, linear outputs and no
    non-linear output (transpose's input): zero, +., *. by non-linear values
    computed by primitives, dup, drop, linear tuples and unpacks, calls."""
    return _programs("linear", max_defs, max_lets)


def mixed_programs(max_defs: int = 3, max_lets: int = 8) -> st.SearchStrategy[Program]:
    """Programs with non-linear and linear inputs and results (JVP's output
    shape; unzip's input)."""
    return _programs("mixed", max_defs, max_lets)


# ----------------------------------------------------------------------------
# Names the transformations also make

# The bases the transformations draw fresh names from (JVP's partials `c`,
# residuals `r`, multiplications `m`, tangents `d`+x, cotangents `ct_`+x,
# unzip's `r`/`s`/`w`/`w_`+f, transposition's `k`), some with the suffix
# Fresh adds (`c_1`), and tangent names of these names (`dc`, `dr`, `ddc`):
# a program using them makes every transformation take its collision path
# (`c` taken: `c_1`; `c_1` taken too: `c_2`; `dc` taken: `dc_1` …).  The
# generator's own names (`v3`, `l4`, `x0`, `dx1`) never meet these.
CLASHING_NAMES = ("c", "dc", "c_1", "r", "m", "dm", "d", "dd", "c_2", "ddc", "r_1", "dr", "w", "s",
                  "k", "ct_c", "m_1", "dx", "x", "x_1", "w_f0", "w_f1", "ws_f0", "ct_x", "dw", "cr",
                  "r_2", "dc_1", "mc", "dd_1")


def clashing_names(prog: Program, rng: random.Random) -> Program:
    """``prog`` with its variables renamed (consistently, injectively, in
    random order) to :data:`CLASHING_NAMES` (in the list's order, or
    shuffled) — alpha-equivalent, so every
    theorem holds of it iff it holds of ``prog``; what changes is that each
    transformation's fresh names now meet names already bound, the case the
    random programs' ``v1, l2, …`` never produce (the fast path's name supply
    must then still agree with the reference's, character for character)."""
    import re

    from linear_a.semantics.parser import parse_program
    from linear_a.semantics.printer import show
    text = show(prog)
    names = sorted(set(re.findall(r"\b(?:v|l|x|dx)[0-9]+\b", text)),
                   key=lambda n: (len(n), n))
    rng.shuffle(names)
    pool = list(CLASHING_NAMES)
    if rng.random() < 0.5:      # half the time the dense clashes of the list's order, else a random few
        rng.shuffle(pool)
    mapping = dict(zip(names, pool))
    if not mapping:
        return prog
    text = re.sub(r"\b(?:v|l|x|dx)[0-9]+\b", lambda m: mapping.get(m.group(0), m.group(0)), text)
    return parse_program(text, prog.file)


def return_lets(prog: Program) -> Program:
    """``prog`` with the first non-linear and the first linear result of each
    top-level chain passed through a ``let`` whose right-hand side is a return
    (``let (v3 ;) = sin(v1) in`` → ``let (t1 ;) = sin(v1) in let (v3 ;) = (t1 ;) in``):
    the same program, with the one leaf the generator never puts on the right
    of a ``let`` (the binder-environment reading of transposition, unzip and
    the fast path's checker take a separate branch for it)."""
    import dataclasses

    from linear_a.semantics.parser import parse_program
    from linear_a.semantics.printer import show
    defs = []
    for d in prog.defs:
        if type(d.body) is not Block:
            defs.append(d)
            continue
        binds, done, k = [], set(), 0
        for b in d.body.binds:
            side = None
            if type(b) is Let and type(b.rhs) is not Block and len(b.nl) + len(b.lin) == 1:
                side = "nl" if b.nl else "lin"
            if side is None or side in done:
                binds.append(b)
                continue
            done.add(side)
            k += 1
            t, name = f"t{k}", (b.nl + b.lin)[0]
            if side == "nl":
                binds += [Let((t,), (), b.rhs, b.pos, b.nl_ty, None), Let((name,), (), Ret([t], []))]
            else:
                binds += [Let((), (t,), b.rhs, b.pos, None, b.lin_ty), Let((), (name,), Ret([], [t]))]
        defs.append(dataclasses.replace(d, body=Block(binds, d.body.tail)))
    return parse_program(show(Program(defs, prog.file)), prog.file)


def call_wrapper(prog: Program) -> Program:
    """``prog`` with one more definition, its new entry: the old entry's
    signature, and a body that is nothing but the call of the old entry
    (``def f2(x0 ; dx0) -> … = f1(x0 ; dx0)``).  A body that is a single leaf,
    and a call in tail position with all its results (the transformations
    name a tail's results themselves, one per result)."""
    from linear_a.semantics.parser import parse_program
    from linear_a.semantics.printer import show
    e = prog.defs[-1]
    w = Def(f"f{len(prog.defs)}", e.nl_params, e.lin_params, e.nl_out, e.lin_out,
            Call(e.name, [p.name for p in e.nl_params], [p.name for p in e.lin_params]))
    return parse_program(show(Program(list(prog.defs) + [w], prog.file)), prog.file)


def leaf_tails(prog: Program) -> Program:
    """``prog`` with every chain that ends ``let (ȳ ; k̄) = e in (ȳ ; k̄)`` ending
    in ``e`` itself (a *leaf tail*: ``sin(v3)``, ``f0(v1 ; l2)``, ``v *. l``),
    in the definitions' bodies and in nested right-hand sides — the same
    program (the let only names the results), in the shape a user writes and
    the generator's ``Ret`` tails never have, where JVP, unzip, transposition
    and the fast path name the results themselves (their ``r``)."""
    import dataclasses

    from linear_a.semantics.parser import parse_program
    from linear_a.semantics.printer import show

    def tail_of(e):
        if type(e) is not Block:
            return e
        binds = [Let(b.nl, b.lin, tail_of(b.rhs), b.pos, b.nl_ty, b.lin_ty)
                 if type(b) is Let and type(b.rhs) is Block else b for b in e.binds]
        k = len(binds) - 1            # the drops after the last let move before it (their value is unused)
        while k >= 0 and type(binds[k]) is Let and type(binds[k].rhs) is Drop:
            k -= 1
        if 0 <= k < len(binds) - 1 and type(binds[k]) is Let and type(binds[k].rhs) is not Block:
            dropped = {b.rhs.v for b in binds[k + 1:]}
            from linear_a.semantics.syntax import leaf_uses
            if not dropped & (set(leaf_uses(binds[k].rhs)) | set(binds[k].binders)):
                binds = binds[:k] + binds[k + 1:] + [binds[k]]
        last, t = binds[-1], e.tail
        if (type(last) is Let and type(t) is Ret and list(last.nl) == list(t.nl)
                and list(last.lin) == list(t.lin) and last.nl_ty is None and last.lin_ty is None
                and type(last.rhs) not in (Block, Zero) and len(set(t.nl)) == len(t.nl)):
            return Block(binds[:-1], last.rhs) if len(binds) > 1 else last.rhs
        return Block(binds, t)

    out = Program([dataclasses.replace(d, body=tail_of(d.body)) for d in prog.defs], prog.file)
    return parse_program(show(out), prog.file)       # as printed and read back (positions, checks)


# ----------------------------------------------------------------------------
# Sample points


def values_of(ty: Type, bound: float = INPUT_BOUND) -> st.SearchStrategy:
    """Values of type ty: floats in [-bound, bound], nested tuples for tuple types."""
    if ty == REAL:
        return st.floats(-bound, bound, allow_nan=False, allow_infinity=False,
                         allow_subnormal=False)
    return st.tuples(*(values_of(s, bound) for s in ty.items))


def points_for(defn: Def, bound: float = INPUT_BOUND) -> st.SearchStrategy[dict]:
    """Arguments ``{param: value}`` for every parameter (non-linear and linear)
    of ``defn``, inside the domain the generators are safe on."""
    return st.fixed_dictionaries({p.name: values_of(p.ty, bound) for p in defn.params})


def with_points(programs: st.SearchStrategy[Program]) -> st.SearchStrategy[tuple[Program, dict]]:
    """Pairs ``(program, args)`` with args for the program's entry definition."""
    return programs.flatmap(lambda p: points_for(entry(p)).map(lambda a: (p, a)))


# ----------------------------------------------------------------------------
# A long chain, for scale tests and benchmarks


def chain_text(n: int) -> str:
    """The text of ``f(x, w)``: a chain of n ≥ 2 lets alternating ``sin`` and
    ``* w``, in exactly the printer's layout (so ``show(parse(t)) == t``)."""
    if n < 2:
        raise ValueError("the chain needs n >= 2 lets (w must be used)")
    lines = ["def f(x: real, w: real) -> (real ;) ="]
    prev = "x"
    for i in range(1, n + 1):
        rhs = f"sin({prev})" if i % 2 else f"{prev} * w"
        lines.append(f"  let (v{i} ;) = {rhs} in")
        prev = f"v{i}"
    lines.append(f"  ({prev} ;)")
    return "\n".join(lines) + "\n"


def chain_value(n: int, x: float, w: float) -> float:
    """What :func:`chain_text`'s ``f`` computes, by a plain Python loop."""
    for i in range(1, n + 1):
        x = math.sin(x) if i % 2 else x * w
    return x
