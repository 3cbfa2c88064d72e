"""The reference oracle: classic tape-based reverse mode (SPEC §10).

This is the textbook algorithm of the teaching article, written without the
transformations so that it can judge them: run the (non-linear) program once
on floats, recording every primitive application on a *tape* (through calls,
tuples and unpacks, which only move values around), then sweep the tape
backwards accumulating adjoints, ``adj[arg] += adj[node] · ∂op/∂arg``.

It shares only the primitives' float implementations with the rest of the
project.  Partial derivatives do *not* come from the primitive table's JVP
rules: each is sympy's ``diff`` of the primitive's sympy implementation,
compiled once with ``lambdify`` and cached.

    oracle_grad(prog, fn, args, cotangent=None) -> {param: adjoint}

``cotangent`` gives one value per result of ``fn`` (a bare number when there is
one result); by default ``fn`` must have a single real result, seeded with 1.
Adjoints of tuple parameters are nested tuples.
"""
from __future__ import annotations

from functools import lru_cache

from linear_a.semantics.errors import LinearAError, TransformError, UsageError
from linear_a.semantics.evaluate import _typing_info, bind_args
from linear_a.semantics.domains import FLOAT
from linear_a.semantics.primitives import PRIMITIVES, apply
from linear_a.semantics.syntax import (Block, Call, Drop, Let, Lit, NTup, NUnpack, Prim, Program, Ret,
                              RealType, ArrayType, Loop)


@lru_cache(maxsize=None)
def partial(op: str, i: int):
    """∂op/∂(argument i) as a float function of the arguments, from sympy."""
    import sympy
    p = PRIMITIVES[op]
    xs = sympy.symbols(f"a0:{p.arity}", real=True)
    expr = sympy.diff(p.impls["sympy"](*xs), xs[i])
    return sympy.lambdify(xs, expr, "math")


class Tape:
    """Values are node ids (ints) or tuples of them; ``vals[n]`` is node n's
    float, ``ops[n]`` its primitive application ``(op, arg ids)`` or None."""
    __slots__ = ("vals", "ops", "prog")

    def __init__(self, prog: Program):
        self.vals: list[float] = []
        self.ops: list = []
        self.prog = prog

    def leaf(self, v: float) -> int:
        self.vals.append(v)
        self.ops.append(None)
        return len(self.vals) - 1

    def inputs(self, v, ty):
        if isinstance(ty, RealType):
            return self.leaf(float(v))
        if isinstance(ty, ArrayType):
            return tuple(self.inputs(x, ty.elem) for x in v)
        return tuple(self.inputs(x, t) for x, t in zip(v, ty.items))

    def loop(self, e: Loop, env: dict) -> tuple:
        """A loop, by iterating: the step runs N times on the taped carry."""
        d = self.prog.get(e.fn)
        nc = len(e.nl)
        carry = [env[x] for x in e.nl]
        arrays = [env[a] for a in e.over]
        stacks = [[None] * e.n for _ in d.nl_out[nc:]]     # one per stacked output
        for k in (range(e.n - 1, -1, -1) if e.reverse else range(e.n)):
            outs = self.run(e.fn, carry + [a[k] for a in arrays])
            carry = list(outs[:nc])
            for s, v in zip(stacks, outs[nc:]):
                s[k] = v
        return tuple(carry) + tuple(tuple(s) for s in stacks)

    def run(self, fn: str, args: list):
        """Evaluate ``fn`` on node-valued arguments; returns its node-valued results."""
        d = self.prog.get(fn)
        if d.lin_params or d.lin_out:
            raise TransformError(f"the oracle differentiates non-linear functions; `{fn}` has a linear part",
                                 d.pos, rule="oracle")
        env = {p.name: a for p, a in zip(d.nl_params, args)}
        return self.expr(d.body, env)

    def expr(self, e, env: dict):
        binds = e.binds if type(e) is Block else ()
        for b in binds:
            if type(b) is NUnpack:
                for n, v in zip(b.names, env[b.src]):
                    env[n] = v
            elif type(b) is Let and not b.lin:
                for n, v in zip(b.nl, self.expr(b.rhs, env)):
                    env[n] = v
            else:
                raise TransformError("the oracle differentiates non-linear code only", b.pos, rule="oracle")
        return self.leaf_expr(e.tail if type(e) is Block else e, env)

    def leaf_expr(self, e, env: dict) -> tuple:
        t = type(e)
        if t is Prim:
            ids = [env[x] for x in e.args]
            v = apply(PRIMITIVES[e.op], FLOAT, [self.vals[i] for i in ids], e.pos)
            self.vals.append(v)
            self.ops.append((e.op, ids))
            return (len(self.vals) - 1,)
        if t is Lit:
            return (self.leaf(float(e.text)),)
        if t is Ret and not e.lin:
            return tuple(env[x] for x in e.nl)
        if t is NTup:
            return (tuple(env[x] for x in e.args),)
        if t is Drop:
            return ()
        if t is Call and not e.lin:
            return self.run(e.fn, [env[x] for x in e.nl])
        if t is Loop and not e.lin:
            return self.loop(e, env)
        if t is Block:
            return self.expr(e, env)
        raise TransformError(f"the oracle differentiates non-linear code only (found {t.__name__})",
                             e.pos, rule="oracle")

    def sweep(self, seeds) -> list[float]:
        """The adjoint of every node, given (node-valued result, cotangent) pairs."""
        adj = [0.0] * len(self.vals)
        for node, ct in seeds:
            _seed(adj, node, ct)
        vals, ops = self.vals, self.ops
        for n in range(len(vals) - 1, -1, -1):
            a = adj[n]
            op = ops[n]
            if op is None or a == 0.0:
                continue
            name, ids = op
            xs = [vals[i] for i in ids]
            for k, i in enumerate(ids):
                adj[i] += a * partial(name, k)(*xs)
        return adj


def _seed(adj, node, ct):
    if type(node) is tuple:
        if not isinstance(ct, (list, tuple)) or len(ct) != len(node):
            raise UsageError(f"cotangent {ct!r} does not match a result of {len(node)} components")
        for n, c in zip(node, ct):
            _seed(adj, n, c)
    else:
        if isinstance(ct, (list, tuple)):
            raise UsageError(f"cotangent {ct!r} should be a number")
        adj[node] += float(ct)


def _gather(adj, node):
    if type(node) is tuple:
        return tuple(_gather(adj, n) for n in node)
    return adj[node]


def _shape_ok(v, ty) -> bool:
    if isinstance(ty, RealType):
        return not isinstance(v, (list, tuple))
    return isinstance(v, (list, tuple)) and len(v) == len(ty.items) and \
        all(_shape_ok(x, t) for x, t in zip(v, ty.items))


def cotangent_values(fn: str, types, cotangent) -> list:
    """One cotangent per result: ``None`` means 1 for a single real result; a
    single result's cotangent may be given bare or as a one-element list."""
    types = list(types)
    if cotangent is None:
        if len(types) != 1 or not isinstance(types[0], RealType):
            raise TransformError(f"a gradient needs exactly one real result, but `{fn}` returns "
                                 f"({', '.join(map(repr, types))}); give a cotangent (use vjp)",
                                 rule="grad")
        return [1.0]
    if len(types) == 1:
        if _shape_ok(cotangent, types[0]):
            return [cotangent]
        if isinstance(cotangent, (list, tuple)) and len(cotangent) == 1 and _shape_ok(cotangent[0], types[0]):
            return [cotangent[0]]
    elif isinstance(cotangent, (list, tuple)) and len(cotangent) == len(types) and \
            all(_shape_ok(c, t) for c, t in zip(cotangent, types)):
        return list(cotangent)
    raise UsageError(f"the cotangent {cotangent!r} does not match the results of `{fn}` "
                     f"({', '.join(map(repr, types))}): give one value per result, tuples as lists")


def oracle_grad(prog: Program, fn: str, args, cotangent=None) -> dict:
    """Reverse mode by taping: {parameter name: adjoint} of ``fn`` at ``args``."""
    try:
        _typing_info(prog)
        d = prog.get(fn)
        if d is None:
            raise UsageError(f"no function `{fn}` in the program (defined: {', '.join(prog.names) or 'none'})")
        nl_vals, _ = bind_args(d, args, FLOAT)
        tape = Tape(prog)
        inputs = [tape.inputs(v, p.ty) for v, p in zip(nl_vals, d.nl_params)]
        outs = tape.run(fn, inputs)
        cotangent = cotangent_values(fn, d.nl_out, cotangent)
        adj = tape.sweep(zip(outs, cotangent))
        return {p.name: _gather(adj, i) for p, i in zip(d.nl_params, inputs)}
    except LinearAError as e:
        raise e.located(prog.file)
