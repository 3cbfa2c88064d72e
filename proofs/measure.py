"""Static measures of programs: work W, size |e| and trace weight, read off the
syntax (SPEC §4), optionally with *holes*.

Linear A programs are straight-line: no branch depends on a value, so the work
W of a run is a function of the program and the types alone.  :func:`work`
computes it without running anything (tests check it equals the evaluator's
W); this is why a single measurement is a proof of a cost identity for all
inputs.

A *hole* is a function name whose calls stand for an arbitrary sub-expression
(the per-rule obligations of ``linear_a.proofs.obligations``): ``holes`` maps it to the
value (a z3 term) its call contributes instead of its body's work or size.
The value covers the hole's whole *interface*: the ``let`` binding its
results, the call node, and the ``dup``s that split tangents only to feed it
(JVP's tangent splitting, ``absorb_dups``; :func:`_hole_parts`), so that the hole value is the measure of the
sub-expression it stands for, in any context.

Trace weight ‖e‖ (the size the cost theorems are stated with, see
docs/theorems.md): every node counts 1 and every variable occurrence
(binders included) counts the size ‖τ‖ of its type; a call counts its node
plus its callee's body, once per call; a loop adds N times its step's
weight and call interface a‖step‖ (the loop rules' cost bounds, N·|step|).
For programs over ``real`` without calls it is the size |e|.
"""
from __future__ import annotations

from linear_a.semantics.evaluate import Costs, DEFAULT_COSTS, _typing_info
from linear_a.semantics.syntax import (Loop, Call, Drop, Dup, LAdd, Let, Lit, LUnpack, NUnpack, Prim, Program,
                              Scale, Zero, iter_nodes, leaf_uses, size_of_type)


def _envs(prog: Program) -> dict:
    _, envs = _typing_info(prog)
    return envs


def _hole_parts(body, holes, absorb_dups=False) -> set:
    """ids of the nodes a hole's value stands for: the ``let`` binding a hole
    call and the ``dup`` lets whose outputs only feed hole calls."""
    if not holes:
        return set()
    fed = set()
    parts = set()
    for n in iter_nodes(body):
        if type(n) is Call and n.fn in holes:
            fed.update(n.lin)
        elif type(n) is Let and type(n.rhs) is Call and n.rhs.fn in holes:
            parts.add(id(n))
    for n in iter_nodes(body) if absorb_dups else ():
        if type(n) is Let and type(n.rhs) is Dup and any(v in fed for v in n.lin):
            parts.add(id(n))
            parts.add(id(n.rhs))
    return parts


def work(prog: Program, fn: str, costs: Costs | None = None, holes: dict | None = None,
         nonlinear_only: bool = False, _memo=None, absorb_dups: bool = False):
    """W(fn) by reading the program.  ``nonlinear_only``: only the non-linear
    forms (literals, primitives), calls of functions counted by the same rule
    except calls of purely non-linear functions, counted in full."""
    costs = costs or DEFAULT_COSTS
    holes = holes or {}
    envs = _envs(prog)
    memo = {} if _memo is None else _memo
    key = (fn, nonlinear_only)
    if key in memo:
        return memo[key]
    d = prog[fn]
    env = envs[fn]
    skip = _hole_parts(d.body, holes, absorb_dups)
    total = 0
    for n in iter_nodes(d.body):
        t = type(n)
        if id(n) in skip:
            continue
        if t is Lit:
            total += costs.lit
        elif t is Prim:
            total += costs.prim_cost(n.op)
        elif t is Call:
            if n.fn in holes:
                total += holes[n.fn]
            else:
                callee = prog[n.fn]
                full = nonlinear_only and not callee.lin_params and not callee.lin_out
                total += work(prog, n.fn, costs, holes, nonlinear_only and not full, memo)
        elif t is Loop and n.fn in holes:   # a loop of a hole (per-rule obligations)
            total += n.n * (holes[n.fn] + costs.loop)
        elif t is Loop:         # N·W(step) + N·c_loop (semantics/loops.py)
            callee = prog[n.fn]
            full = nonlinear_only and not callee.lin_params and not callee.lin_out
            total += n.n * (work(prog, n.fn, costs, holes, nonlinear_only and not full, memo)
                            + costs.loop)
        elif nonlinear_only:
            continue
        elif t is Zero:
            total += costs.zero * size_of_type(n.ty)
        elif t is LAdd:
            total += costs.add * size_of_type(env[n.a][1])
        elif t is Dup:
            total += costs.dup * size_of_type(env[n.l][1])
        elif t is Scale:
            total += costs.scale * size_of_type(env[n.l][1])
        elif t is Drop:
            lin, ty = env[n.v]
            if lin:
                total += costs.drop * size_of_type(ty)
    memo[key] = total
    return total


def size(prog: Program, fn: str, holes: dict | None = None, absorb_dups: bool = False):
    """|body of fn| (SPEC §4), a hole's call node replaced by its value."""
    holes = holes or {}
    total = 0
    skip = _hole_parts(prog[fn].body, holes, absorb_dups)
    for n in iter_nodes(prog[fn].body):
        if id(n) in skip:
            continue
        if type(n) is Call and n.fn in holes:
            total += holes[n.fn]
            continue
        total += _node_size(n)
    return total


def _node_size(n) -> int:
    t = type(n)
    if t is Let:
        return 1 + len(n.nl) + len(n.lin)
    if t is NUnpack or t is LUnpack:
        return 2 + len(n.names)
    return 1 + len(leaf_uses(n))


def program_size(prog: Program, names=None) -> int:
    return sum(size(prog, d.name) for d in prog.defs if names is None or d.name in names)


def weight(prog: Program, fn: str, holes: dict | None = None, _memo=None):
    """The trace weight ‖fn‖: nodes count 1, variable occurrences count ‖τ‖,
    calls add their callee's weight; a hole's call node is replaced by its value."""
    holes = holes or {}
    memo = {} if _memo is None else _memo
    if fn in memo:
        return memo[fn]
    env = _envs(prog)[fn]
    w = lambda v: size_of_type(env[v][1])
    total = 0
    skip = _hole_parts(prog[fn].body, holes)
    for n in iter_nodes(prog[fn].body):
        t = type(n)
        if id(n) in skip:
            continue
        if t is Call and n.fn in holes:
            total += holes[n.fn]
            continue
        if t is Let:
            total += 1 + sum(w(v) for v in n.nl + n.lin)
        elif t is NUnpack or t is LUnpack:
            total += 1 + w(n.src) + sum(w(v) for v in n.names)
        else:
            total += 1 + sum(w(v) for v in leaf_uses(n))
            if t is Call:
                total += weight(prog, n.fn, holes, memo)
            elif t is Loop:     # N runs of the step, each with its call interface
                total += n.n * (holes[n.fn] if n.fn in holes else
                                weight(prog, n.fn, holes, memo) + interface_weight(prog[n.fn]))
    memo[fn] = total
    return total


def interface_size(d) -> int:
    """a(f): the size of a call of f in context, ``let (outs) = f(params)``:
    1 + binders + 1 + arguments.  The size theorems' bounds carry it, because
    the per-rule induction (proofs/obligations.py) treats every sub-expression
    together with its interface."""
    return 2 + len(d.params) + len(d.nl_out) + len(d.lin_out)


def interface_weight(d) -> int:
    """The same, each variable weighted by the size of its type."""
    return (2 + sum(size_of_type(p.ty) for p in d.params)
            + sum(size_of_type(t) for t in list(d.nl_out) + list(d.lin_out)))
