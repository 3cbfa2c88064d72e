"""Big-step evaluation  ρ ⊢ e ⇓ (v̄ ; ū)  with work W and peak memory M (SPEC §4).

One evaluator, several number domains (``linear_a.semantics.domains``): the same code
runs on floats, on sympy numbers and symbols (symbolic execution) and on z3
terms.  Values are domain numbers and Python tuples of values.

Cost model (every entry configurable through :class:`Costs`):

======================================  ============================
form                                    work W
======================================  ============================
Ret, Let, tuples, unpacks, drop of a     0
non-linear variable
literal                                 ``lit`` (1)
primitive op                            ``prim[op]`` (1 each)
``zero : σ``, ``drop(l : σ)``           ``zero`` · ‖σ‖, ``drop`` · ‖σ‖
``l1 +. l2``, ``dup(l)``, ``x *. l``    ``add`` · ‖σ‖, ``dup`` · ‖σ‖, ``scale`` · ‖σ‖
call                                    W(body)
``loop N f(…)``                         N·W(body of f) + N·``loop`` (0)
======================================  ============================

Memory: a variable is live from its binding to its last use; M is the peak of
the summed ‖value‖ of live variables, over all frames.  A node that computes
(literal, primitive, the linear operations ``zero``, ``+.``, ``*.``, ``dup``,
``drop``) allocates its results before the inputs it used for the last time
are freed (so ``sin x`` briefly holds x and its result).  The forms that only
pass values on -- a return ``(x̄ ; ȳ)``, a tuple, an unpack, a call's
arguments, the forms §4 prices at W = 0 -- *move* the inputs that are at their
last use into their results: a value passed on for the last time is counted
once, not once as the input and once as the result.  An input still used
later is copied (counted in both places); in particular an argument the
caller still needs is counted in the caller's and the callee's frame.
Evaluation of a let-chain is a loop.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field

from .derivation import Derivation
from .gcpause import paused_gc
from .domains import Domain, get_domain
from .errors import DomainError, EvalError, LinearAError, UsageError
from .primitives import PRIMITIVES, apply
from .loops import Repeated, eval_Loop
from .syntax import (ArrayType, Block, Call, Def, Drop, Dup, LAdd, Let, Lit, Loop, LTup, LUnpack, NTup, NUnpack,
                     Prim, Program, RealType, Ret, Scale, Type, Zero, expr_size,
                     iter_nodes, leaf_uses)


@dataclass
class Costs:
    """The work of each form; linear forms are charged per real (‖σ‖)."""
    lit: int = 1
    prim: dict = field(default_factory=dict)   # op -> cost; missing ops use the table's
    zero: int = 1
    drop: int = 1       # drop of a linear value
    add: int = 1
    dup: int = 1
    scale: int = 1
    loop: int = 0       # per loop iteration, on top of the step's own work (semantics/loops.py)

    def prim_cost(self, op: str) -> int:
        c = self.prim.get(op)
        return PRIMITIVES[op].cost if c is None else c

    @classmethod
    def equations(cls) -> "Costs":
        """The pricing under which W counts what a jaxpr counts as equations, for
        comparing output sizes with JAX like for like: a literal is inline (0),
        ``dup`` is fan-out and ``drop`` discarding (0) -- a jaxpr variable may be
        read any number of times, or none -- and every operation costs 1."""
        return cls(lit=0, dup=0, drop=0)

    def dual(self) -> "Costs":
        """The pricing under which transposition conserves work exactly:
        +. ↔ dup and zero ↔ drop swap prices; scale is self-dual."""
        return Costs(self.lit, dict(self.prim), zero=self.drop, drop=self.zero, add=self.dup,
                     dup=self.add, scale=self.scale, loop=self.loop)


DEFAULT_COSTS = Costs()


@dataclass
class Result:
    nl: tuple
    lin: tuple
    work: int
    memory: int
    size: int
    derivation: Derivation | None = None

    @property
    def outputs(self):
        return self.nl + self.lin


def vsize(v) -> int:
    """The number of scalars in v (iterative: values may nest deeply; a
    :class:`~.loops.Repeated` array, met only in cost-only runs, knows its size)."""
    if type(v) is not tuple:
        return 1 if type(v) is not Repeated else v.size
    n, todo = 0, [v]
    while todo:
        v = todo.pop()
        if type(v) is tuple:
            todo.extend(v)
        elif type(v) is Repeated:
            n += v.size
        else:
            n += 1
    return n


def vzero(t: Type, zero):
    if isinstance(t, RealType):
        return zero
    return tuple(vzero(s, zero) for s in t.items)


def vadd(a, b):
    if type(a) is tuple:
        return tuple(vadd(x, y) for x, y in zip(a, b))
    return a + b


def vscale(c, v):
    if type(v) is tuple:
        return tuple(vscale(c, x) for x in v)
    return c * v


def use_counts(body) -> dict[str, int]:
    """How many times each variable is read in ``body`` (unpack sources included)."""
    n: dict[str, int] = {}
    for x in iter_nodes(body):
        uses = (x.src,) if type(x) in (NUnpack, LUnpack) else (() if type(x) is Let else leaf_uses(x))
        for v in uses:
            n[v] = n.get(v, 0) + 1
    return n


_STATIC: "weakref.WeakKeyDictionary[Def, tuple]" = weakref.WeakKeyDictionary()


def static_info(d: Def) -> tuple[dict[str, int], int]:
    """(read counts of every variable, |body|) of a definition, computed once.
    Programs are not mutated after construction, so this is a pure cache."""
    info = _STATIC.get(d)
    if info is None:
        info = _STATIC[d] = (use_counts(d.body), expr_size(d.body))
    return info


def _typing_info(prog: Program):
    """Φ and each definition's class table, from the typing judgment (cached;
    the derivation itself is not kept, it would double a long program's memory)."""
    info = getattr(prog, "_typing", None)
    if info is None:
        from .typecheck import typecheck
        dv = typecheck(prog, derive=False)
        envs = {p.subject.name: p.notes["env"] for p in dv.premises}
        info = (dv.result, envs)
        prog._typing = info
    return info


# The leaves that only pass values on (SPEC §4 prices them at W = 0): they move
# their last-use inputs into their results instead of copying them.
_MOVES = (Ret, NTup, LTup)


class Frame:
    __slots__ = ("env", "left", "live", "peak", "work")

    def __init__(self):
        self.env = {}
        self.left = {}
        self.live = 0
        self.peak = 0
        self.work = 0


class Evaluator:
    summarize = False   # cost-only runs (semantics/cost.py): a loop runs its step once, not N times

    def __init__(self, prog: Program, domain: Domain | str = "float", costs: Costs | None = None,
                 derive: bool = False):
        self.prog = prog
        self.depth = 0          # calls in progress (the evaluator recurses on call nesting,
                                # never on the length of a let-chain)
        self.deepest = None     # the call at which the Python stack ran out
        self.domain = get_domain(domain)
        self.costs = costs or DEFAULT_COSTS
        self.derive = derive
        self.zero = self.domain.const("0")
        self.floats = self.domain.name == "float"
        _, self.envs = _typing_info(prog)
        self.defs = {d.name: d for d in prog.defs}
        self.lin_env = None

    # -- frames -------------------------------------------------------------
    def call(self, d: Def, nl_args, lin_args, outer_live: int = 0):
        """Evaluate d's body on its arguments; returns (nl, lin, work, peak, derivation)."""
        counts = static_info(d)[0]
        f = Frame()
        f.left = dict(counts)
        for p, v in zip(d.params, tuple(nl_args) + tuple(lin_args)):
            f.env[p.name] = v
            f.live += vsize(v)
        f.peak = f.live
        saved = self.lin_env
        self.lin_env = self.envs[d.name]
        nl, lin, dv = self.expr(d.body, f)
        self.lin_env = saved
        return nl, lin, f.work, f.peak, dv

    def release(self, f: Frame, names):
        left, env = f.left, f.env
        for v in names:
            n = left[v] - 1
            left[v] = n
            if n == 0:
                f.live -= vsize(env[v])

    def alloc(self, f: Frame, values):
        for v in values:
            f.live += vsize(v)
        if f.live > f.peak:
            f.peak = f.live

    # -- expressions ----------------------------------------------------------
    def expr(self, e, f: Frame):
        if type(e) is not Block:
            return self.leaf(e, f)
        env = f.env
        premises = [] if self.derive else None
        for b in e.binds:
            tb = type(b)
            if tb is Let:
                nl, lin, dv = self.expr(b.rhs, f)
                for n, v in zip(b.nl, nl):
                    env[n] = v
                for n, v in zip(b.lin, lin):
                    env[n] = v
                if premises is not None:
                    premises.append(Derivation("eval", "Let", b, (nl, lin), [dv]))
            else:
                val = env[b.src]
                for n, v in zip(b.names, val):
                    env[n] = v
                self.release(f, (b.src,))      # an unpack moves its source's components
                self.alloc(f, val)
                if premises is not None:
                    res = (tuple(val), ()) if tb is NUnpack else ((), tuple(val))
                    premises.append(Derivation("eval", tb.__name__, b, res))
        nl, lin, dv = self.leaf(e.tail, f)
        if premises is not None:
            premises.append(dv)
            dv = Derivation("eval", "Let", e, (nl, lin), premises)
        return nl, lin, dv

    def leaf(self, e, f: Frame):
        t = type(e)
        env = f.env
        c = self.costs
        w = 0
        if t is Block:
            return self.expr(e, f)
        if t is Prim:
            p = PRIMITIVES[e.op]
            v = apply(p, self.domain, [env[x] for x in e.args], e.pos)
            if self.floats and v - v != 0.0:       # inf or nan: overflow, not a real
                shown = [f"{env[x]:.6g}" for x in e.args]
                call = f" {p.infix} ".join(shown) if p.infix else f"{e.op}({', '.join(shown)})"
                raise DomainError(f"`{e.op}` overflows: {call} is not a finite float", e.pos,
                                  rule="Prim")
            out = ((v,), ())
            w = c.prim_cost(e.op)
        elif t is Ret:
            out = (tuple(env[x] for x in e.nl), tuple(env[y] for y in e.lin))
        elif t is Lit:
            out = ((self.domain.const(e.text),), ())
            w = c.lit
        elif t is Scale:
            v = vscale(env[e.x], env[e.l])
            out = ((), (v,))
            w = c.scale * vsize(v)
        elif t is LAdd:
            v = vadd(env[e.a], env[e.b])
            out = ((), (v,))
            w = c.add * vsize(v)
        elif t is Dup:
            v = env[e.l]
            out = ((), (v, v))
            w = c.dup * vsize(v)
        elif t is Zero:
            if e.ty is None:
                raise EvalError("`zero` has no known type; typecheck the program first", e.pos)
            v = vzero(e.ty, self.zero)
            out = ((), (v,))
            w = c.zero * vsize(v)
        elif t is Drop:
            out = ((), ())
            if self.lin_env[e.v][0]:
                w = c.drop * vsize(env[e.v])
        elif t is NTup:
            out = ((tuple(env[x] for x in e.args),), ())
        elif t is LTup:
            out = ((), (tuple(env[x] for x in e.args),))
        elif t is Call:
            return self.do_call(e, f)
        elif t is Loop:
            return eval_Loop(self, e, f)
        else:
            raise EvalError(f"cannot evaluate {t.__name__}", e.pos)
        f.work += w
        if t in _MOVES:                         # pass values on: last-use inputs move
            self.release(f, leaf_uses(e))
            self.alloc(f, out[0])
            self.alloc(f, out[1])
        else:                                   # compute: inputs and results coexist
            self.alloc(f, out[0])
            self.alloc(f, out[1])
            self.release(f, leaf_uses(e))
        dv = Derivation("eval", t.rule, e, out, notes={"work": w}) if self.derive else None
        return out[0], out[1], dv

    def do_call(self, e: Call, f: Frame):
        d = self.defs[e.fn]
        env = f.env
        nl_args = [env[x] for x in e.nl]
        lin_args = [env[y] for y in e.lin]
        self.release(f, e.nl + e.lin)       # arguments at their last use move to the callee
        self.depth += 1
        try:
            nl, lin, w, peak, body_dv = self.call(d, nl_args, lin_args)
        except RecursionError:
            if self.deepest is None:
                self.deepest = (e, self.depth)
            raise
        finally:
            self.depth -= 1
        f.work += w
        if f.live + peak > f.peak:
            f.peak = f.live + peak
        self.alloc(f, nl)
        self.alloc(f, lin)
        dv = None
        if self.derive:
            dv = Derivation("eval", "Call", e, (nl, lin), [body_dv], notes={"work": w})
        return nl, lin, dv


# ----------------------------------------------------------------------------


def _coerce(value, ty: Type, name: str, domain: Domain):
    """JSON-ish argument (number or nested list) to a value of type ty."""
    if isinstance(ty, RealType):
        if isinstance(value, (list, tuple)):
            raise UsageError(f"argument `{name}` should be a number, got a list")
        if isinstance(value, bool) or not _is_number(value):
            raise UsageError(f"argument `{name}` should be a number, got {_clip(value)}")
        if isinstance(value, (int, float)) and not _finite(value):
            raise UsageError(f"argument `{name}` should be a finite number, got {_clip(value)}")
        if domain.name == "float":
            return float(value)
        if isinstance(value, (int, float, str)):
            return domain.const(repr(value) if isinstance(value, float) else str(value))
        return value
    if isinstance(ty, ArrayType):
        if not isinstance(value, (list, tuple)) or len(value) != ty.n:
            raise UsageError(f"argument `{name}` should be a list of {ty.n} (type {ty!r}), "
                             f"got {_clip(value)}")
        return tuple(_coerce(v, ty.elem, f"{name}[{i}]", domain) for i, v in enumerate(value))
    if not isinstance(value, (list, tuple)) or len(value) != len(ty.items):
        raise UsageError(f"argument `{name}` should be a list of {len(ty.items)} (type {ty!r}), "
                         f"got {_clip(value)}")
    return tuple(_coerce(v, s, f"{name}[{i}]", domain) for i, (v, s) in enumerate(zip(value, ty.items)))


def _finite(v) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:         # an int beyond the float range
        return False


def _clip(v, n: int = 60) -> str:
    try:
        r = repr(v)
    except ValueError:            # an int too long to print
        r = f"a {type(v).__name__} too large to show"
    return r if len(r) <= n else r[:n] + "…"


def _is_number(v) -> bool:
    if isinstance(v, (int, float)):
        return True
    return hasattr(v, "is_number") or type(v).__module__.startswith("z3")


def bind_args(d: Def, args, domain: Domain):
    """Arguments as a dict by parameter name, or a pair (nl values, lin values)."""
    if isinstance(args, dict):
        names = [p.name for p in d.params]
        unknown = [k for k in args if k not in names]
        if unknown:
            raise UsageError(f"`{d.name}` has no parameter `{unknown[0]}` (parameters: {', '.join(names)})")
        missing = [n for n in names if n not in args]
        if missing:
            raise UsageError(f"missing argument for parameter `{missing[0]}` of `{d.name}`")
        nl = [_coerce(args[p.name], p.ty, p.name, domain) for p in d.nl_params]
        lin = [_coerce(args[p.name], p.ty, p.name, domain) for p in d.lin_params]
        return nl, lin
    try:
        nl, lin = args
        nl, lin = list(nl), list(lin)
    except (TypeError, ValueError):
        raise UsageError(f"arguments of `{d.name}` must be a dict {{parameter: value}} or a pair "
                         f"(non-linear values, linear values), got {_clip(args)}") from None
    if len(nl) != len(d.nl_params) or len(lin) != len(d.lin_params):
        raise UsageError(f"`{d.name}` takes ({len(d.nl_params)} ; {len(d.lin_params)}) arguments")
    return ([_coerce(v, p.ty, p.name, domain) for v, p in zip(nl, d.nl_params)],
            [_coerce(v, p.ty, p.name, domain) for v, p in zip(lin, d.lin_params)])


def evaluate(prog: Program, fn: str, args, domain: Domain | str = "float",
             costs: Costs | None = None, derive: bool = False) -> Result:
    """Run ``fn`` of a (well-typed) program.  ``args``: {param: value} or (nl, lin).
    Returns outputs, work, peak memory, the body's size, and (if ``derive``) the
    evaluation derivation."""
    d = prog.get(fn)
    if d is None:
        raise UsageError(f"no function `{fn}` in the program (defined: {', '.join(prog.names) or 'none'})")
    try:
        with paused_gc():
            ev = Evaluator(prog, domain, costs, derive)
            nl_args, lin_args = bind_args(d, args, ev.domain)
            nl, lin, w, peak, dv = ev.call(d, nl_args, lin_args)
    except LinearAError as e:
        raise e.located(prog.file)
    except RecursionError:
        if ev.deepest is None:
            raise
        call, depth = ev.deepest
        raise EvalError(f"calls nest {depth} deep here (the call of `{call.fn}`), deeper than this "
                        f"evaluator's stack allows", call.pos, file=prog.file, rule="Call",
                        hint="a binomial:S schedule nests calls about as deep as the chain is long "
                             "divided by S: give it more snapshots, or use every:K") from None
    if derive:
        dv = Derivation("eval", "Def", d, (nl, lin), [dv], notes={"args": (nl_args, lin_args)})
    return Result(nl, lin, w, peak, static_info(d)[1], dv)
