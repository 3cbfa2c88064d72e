r"""Loops in the language: the typing rule ``Loop`` and the evaluation of a loop.

A loop is a leaf, like a call (SPEC §17, this project's concrete choice)::

    loop N f(x̄ ; l̄) over (a1, …, ak)          iteration i reads element i of each a_j
    loop reverse N f(x̄ ; l̄) over (a1, …)      iteration i reads element N−1−i

``f`` is an earlier definition, the *step function*.  Its parameters are the
non-linear carry (one per x̄), one element per array of ``over``, then the
linear carry (one per l̄); its non-linear results are the carry (the types of
x̄) followed by per-iteration outputs ῡ, its linear results the linear carry
(the types of l̄).  The loop's results are ``(τ̄, [ῡ; N] ; σ̄)``: the final
carry, the per-iteration outputs stacked into arrays (under ``reverse``, the
output of the iteration that read element k is stored at k), the final linear
carry.  ``N = 0`` returns the carry unchanged and empty arrays.

Arrays ``[τ; N]`` are non-linear only: no linear parameter, result or ``zero``
has an array type.  They are read only by loops (``over``), passed on
(returns, tuples, calls) and dropped.

Typing (rule Loop).  The step's own typing is the premise that matters: it
already says the step consumes its linear carry exactly once and produces no
non-linear result from a linear input; the Loop rule adds that the carry
types agree (so the state can go round), that each array of ``over`` has
length N and elements of the step's parameter type, and consumes x̄, ā (as
non-linear reads) and l̄ (each once, distinct) exactly as a call does.

Evaluation.  Iterative over N (no recursion): W(loop) = N·W(step) +
N·``Costs.loop`` (default 0: like a call, a loop iteration is bookkeeping the
cost table does not price; configurable).  Memory: the loop's arguments at
their last use move into the loop; while it runs, the arrays of ``over``, the
stacked outputs filled so far and the step's frame (which holds the carry as
its parameters) are live; M is the peak over the iterations.

Cost only (``semantics/cost.py``, ``ev.summarize``).  W and M do not depend on
the values, and every iteration runs the same step on values of the same
types, so the step is run once: W = N·(W(step) + ``Costs.loop``) and M = the
peak of the last iteration, base + (N − 1)·s + M(step), s the reals one
iteration stacks; the stacks are :class:`Repeated`.
"""
from __future__ import annotations

from .derivation import Derivation
from .errors import EvalError
from .rules import register
from .syntax import ArrayType, Loop, has_array

register("typing", "Loop",
         r"\Gamma ; \Delta \vdash \mathsf{loop}\ N\ f(\bar x ; \dot{\bar y})\ \mathsf{over}\ (\bar a) : (\bar\tau, [\bar\upsilon; N] ; \bar\sigma)",
         [r"\Phi(f) = (\bar\tau, \bar\alpha ; \bar\sigma) \to (\bar\tau, \bar\upsilon ; \bar\sigma)",
          r"\Gamma(\bar x) = \bar\tau", r"\Gamma(\bar a) = [\bar\alpha; N]",
          r"\Delta(\dot{\bar y}) = \bar\sigma", r"\dot{\bar y} \text{ distinct}"],
         "a loop runs an earlier step function N times; its carry types are its result types")
register("eval", "Loop",
         r"\rho \vdash \mathsf{loop}\ N\ f(\bar x ; \dot{\bar y})\ \mathsf{over}\ (\bar a) \Downarrow (\bar v_N, [\bar o_0 \ldots \bar o_{N-1}] ; \bar u_N)",
         [r"\bar v_0 = \rho(\bar x),\ \bar u_0 = \rho(\dot{\bar y})",
          r"f(\bar v_i, \rho(\bar a)[i] ; \bar u_i) \Downarrow (\bar v_{i+1}, \bar o_i ; \bar u_{i+1}) \quad (0 \le i < N)"],
         "run the step N times; W = N·W(step) + N·c_loop")


def loop_kind(e: Loop) -> str:
    return "loop reverse" if e.reverse else "loop"


def typing_Loop(cx, e: Loop) -> Derivation:
    """The typing rule Loop (``cx``: the definition's checker, typecheck.DefChecker)."""
    from .primitives import PRIMITIVES
    from .typecheck import resolve, unify
    from .errors import ScopeError
    sig = cx.phi.get(e.fn)
    if sig is None:
        if e.fn == cx.d.name:
            cx.fail("Loop", f"`{e.fn}` loops over itself; a loop's step function must be defined "
                            f"before the loop", e.pos, cls=ScopeError)
        if e.fn in cx.later:
            cx.fail("Loop", f"the step function `{e.fn}` is defined after `{cx.d.name}`; a loop may "
                            f"only run functions defined before it", e.pos, cls=ScopeError)
        if e.fn in PRIMITIVES:
            cx.fail("Loop", f"`{e.fn}` is a primitive; a loop runs a defined step function", e.pos,
                    cls=ScopeError)
        cx.fail("Loop", f"unknown step function `{e.fn}`", e.pos, cls=ScopeError)
    nc, na = len(e.nl), len(e.over)
    if len(sig.nl_in) != nc + na or len(sig.lin_in) != len(e.lin):
        cx.fail("Loop", f"the step function `{e.fn}` takes ({len(sig.nl_in)} ; {len(sig.lin_in)}) "
                        f"arguments, but the loop passes {nc} non-linear carr{'y' if nc == 1 else 'ies'}, "
                        f"{na} array element{'s' * (na != 1)} and {len(e.lin)} linear "
                        f"carr{'y' if len(e.lin) == 1 else 'ies'}", e.pos,
                hint="the step's parameters are the non-linear carry, one element per `over` "
                     "array, then the linear carry")
    if len(sig.nl_out) < nc:
        cx.fail("Loop", f"the step function `{e.fn}` returns {len(sig.nl_out)} non-linear "
                        f"result{'s' * (len(sig.nl_out) != 1)}, fewer than its {nc} carried values",
                e.pos)
    for i in range(nc):
        if not unify(sig.nl_in[i], sig.nl_out[i]):
            cx.fail("Loop", f"carry type mismatch: the step function `{e.fn}` takes carry {i + 1} of "
                            f"type {sig.nl_in[i]!r} but returns {sig.nl_out[i]!r}", e.pos,
                    hint="a step function returns its carried state with the same types")
    if tuple(sig.lin_in) != tuple(sig.lin_out):
        cx.fail("Loop", f"linear carry type mismatch: the step function `{e.fn}` takes "
                        f"({', '.join(map(repr, sig.lin_in))}) and returns "
                        f"({', '.join(map(repr, sig.lin_out))})", e.pos)
    if len(set(e.lin)) != len(e.lin):
        dup = next(y for y in e.lin if e.lin.count(y) > 1)
        cx.fail("Loop", f"linear variable `{dup}` is passed twice to the loop of `{e.fn}`", e.pos,
                hint=f"pass two copies made by `dup({dup})`")
    for i, x in enumerate(e.nl):
        _, ty = cx.use(x, False, "Loop", e.pos, f"the non-linear carry of the loop of `{e.fn}`")
        if not unify(ty, sig.nl_in[i]):
            cx.fail("Loop", f"carry `{x}` has type {resolve(ty)!r}, but `{e.fn}` takes "
                            f"{sig.nl_in[i]!r}", e.pos)
    for j, a in enumerate(e.over):
        _, ty = cx.use(a, False, "Loop", e.pos, "the arrays a loop reads")
        ty = resolve(ty)
        want = sig.nl_in[nc + j]
        if type(ty) is not ArrayType:
            cx.fail("Loop", f"`{a}` of type {ty!r} is not an array; `over` takes arrays [{want!r}; "
                            f"{e.n}]", e.pos)
        if ty.n != e.n:
            cx.fail("Loop", f"wrong array length: `{a}` has {ty.n} elements but the loop runs {e.n} "
                            f"iterations", e.pos)
        if not unify(ty.elem, want):
            cx.fail("Loop", f"the elements of `{a}` have type {ty.elem!r}, but `{e.fn}` takes "
                            f"{want!r} there", e.pos)
    for y, want in zip(e.lin, sig.lin_in):
        _, ty = cx.use(y, True, "Loop", e.pos, f"the linear carry of the loop of `{e.fn}`")
        if not unify(ty, want):
            cx.fail("Loop", f"linear carry `{y}` has type {resolve(ty)!r}, but `{e.fn}` takes "
                            f"{want!r}", e.pos)
    nl = tuple(sig.nl_out[:nc]) + tuple(ArrayType(t, e.n) for t in sig.nl_out[nc:])
    return Derivation("typing", "Loop", e, (nl, tuple(sig.lin_out)),
                      notes={"step": sig, "n": e.n})


def check_no_linear_arrays(cx, d) -> None:
    """Arrays are non-linear: no linear parameter or result has an array type."""
    for p in d.lin_params:
        if has_array(p.ty):
            cx.fail("Def", f"linear parameter `{p.name}` has an array type {p.ty!r}; arrays are "
                           f"non-linear only", p.pos or d.pos)
    for t in d.lin_out:
        if has_array(t):
            cx.fail("Def", f"`{d.name}` declares a linear result of array type {t!r}; arrays are "
                           f"non-linear only", d.pos)


def eval_Loop(ev, e: Loop, f):
    """Evaluate a loop in the evaluator ``ev`` (evaluate.Evaluator), frame ``f``."""
    d = ev.defs.get(e.fn)
    if d is None:
        raise EvalError(f"unknown step function `{e.fn}`", e.pos)
    env = f.env
    carry = [env[x] for x in e.nl]
    lin = [env[y] for y in e.lin]
    arrays = [env[a] for a in e.over]
    nc, n = len(e.nl), e.n
    ev.release(f, e.nl + e.lin)        # the carry at its last use moves into the loop
    before = f.live
    ev.release(f, e.over)              # the arrays at their last use are held by the loop until
    held = before - f.live             # it ends (the others stay live in the frame: counted once) …
    base = f.live + held
    stacks = None
    stacked = 0
    work = 0
    peak = base
    premises = [] if ev.derive else None
    order = range(n - 1, -1, -1) if e.reverse else range(n)
    if ev.summarize:                   # cost-only: the first iteration stands for all (below)
        order = order[:1]
    for k in order:
        nl, lin, w, p, dv = ev.call(d, carry + [a[k] for a in arrays], lin)
        work += w
        if base + stacked + p > peak:
            peak = base + stacked + p
        carry = list(nl[:nc])
        lin = list(lin)
        outs = nl[nc:]
        if stacks is None:             # (a cost-only run keeps its one iteration's in a dict)
            stacks = [[None] * n if len(order) == n else {} for _ in outs]
        for s, v in zip(stacks, outs):
            s[k] = v
            stacked += _vsize(v)
        if premises is not None:
            premises.append(dv)
    if len(order) < n:
        # Cost-only run (semantics/cost.py: values are shapes).  Iteration i runs the
        # same step on values of the same types as iteration 0 did: the same work w and
        # step-frame peak p, the same s = ``stacked`` reals stacked.  It peaks at
        # base + i·s + p, so the loop peaks at its last iteration, i = N − 1.
        work += (n - 1) * w
        peak = max(peak, base + (n - 1) * stacked + p)
        arrays_out = tuple(Repeated(s[k], n) for s in stacks)
    else:
        if stacks is None:             # N = 0: empty arrays, one per stacked output
            stacks = [[] for _ in range(len(d.nl_out) - nc)]
        arrays_out = tuple(tuple(s) for s in stacks)
    work += n * ev.costs.loop
    f.work += work
    if peak > f.peak:
        f.peak = peak
    nl_out = tuple(carry) + arrays_out
    ev.alloc(f, nl_out)                # … and freed when it ends (moved into the results)
    ev.alloc(f, lin)
    dv = None
    if ev.derive:
        dv = Derivation("eval", "Loop", e, (nl_out, tuple(lin)), premises,
                        notes={"work": work, "iterations": n})
    return nl_out, tuple(lin), dv


class Repeated:
    """An array of ``n`` values of one shape, not materialized: what a loop stacks in a
    cost-only run, where every value of a type has the same shape (``•`` for each
    real).  ``a[k]`` is that value; ``size`` = n·‖value‖ (``evaluate.vsize`` reads it)."""
    __slots__ = ("elem", "n", "size")

    def __init__(self, elem, n: int):
        self.elem, self.n, self.size = elem, n, n * _vsize(elem)

    def __getitem__(self, k):
        return self.elem

    def __len__(self):
        return self.n

    def __repr__(self):
        return f"[{self.elem!r}; {self.n}]"


def _vsize(v) -> int:
    from .evaluate import vsize
    return vsize(v)
