"""Dup/drop insertion: make the linearity bookkeeping of a program explicit (SPEC §3, §6).

Contract.  ``insert_dup_drop(p)`` takes a Def or a Program whose only problem
under the typing judgment is variable *counting* and returns a new one (the
input is not modified) in which

* every non-linear variable that is never used is discarded right after its
  binder -- ``let (;) = drop(x) in …`` after its ``let``/unpack, or at the start
  of the body for a parameter (non-linear variables used several times are
  fine as they are: Γ is shared);
* every linear variable that is never used is dropped the same way;
* every linear variable used k > 1 times is fanned out right after its binder
  by k − 1 ``dup``s, ``let (; x_1, x_r_1) = dup(x) in let (; x_2, x_3) = dup(x_r_1) in …``,
  and its i-th use (in evaluation order) reads the i-th copy ``x_i``.

Everything else is unchanged; fresh names never clash with any name of the
definition, so binders stay distinct.  Classes come from binders only (the
side of ``;`` a name is bound on, or the class of the unpacked tuple), so no
typing information is needed and the pass runs before type checking -- it is
what the surface front end runs on traced code, and it is offered for linear
code written by hand (``def f(; dx: real) -> (; real) = dx +. dx`` becomes
``let (; dx_1, dx_2) = dup(dx) in dx_1 +. dx_2``).

Cost: one pass to count uses, one pass to rebuild; let-chains are walked by
loops, nested right-hand sides by (depth-bounded) recursion.
"""
from __future__ import annotations

from .errors import ScopeError
from .syntax import (Block, Call, Def, Drop, Dup, LAdd, Let, LTup, LUnpack, NTup, NUnpack, Prim,
                     Program, Ret, Scale, iter_nodes, leaf_uses)

__all__ = ["insert_dup_drop", "insert_dup_drop_def"]


def insert_dup_drop(p):
    """A Program (each definition elaborated) or a Def, with the dups and drops
    that SPEC §3 requires made explicit.  See the module docstring."""
    if isinstance(p, Program):
        return Program([insert_dup_drop_def(d, p.file) for d in p.defs], p.file)
    if isinstance(p, Def):
        return insert_dup_drop_def(p)
    raise TypeError(f"insert_dup_drop expects a Program or a Def, not {type(p).__name__}")


def insert_dup_drop_def(d: Def, file: str | None = None) -> Def:
    return _Elaborator(d, file).run()


class _Elaborator:
    def __init__(self, d: Def, file):
        self.d = d
        self.file = file
        self.linear: dict[str, bool] = {}    # binder -> is it linear?
        self.uses: dict[str, int] = {}       # variable -> number of reads
        self.copies: dict[str, list[str]] = {}   # linear var used k > 1 times -> its k copies
        self.next_copy: dict[str, int] = {}
        self.made: set[str] = set()          # names this pass invented

    # -- pass 1: classes and use counts ---------------------------------------
    def twice(self, name, pos):
        raise ScopeError(f"variable `{name}` is bound twice", pos, file=self.file, rule="Let",
                         hint="every binder in a definition must have a fresh name")

    def count(self):
        d = self.d
        linear, uses = self.linear, self.uses
        for p in d.params:
            if p.name in linear:
                self.twice(p.name, p.pos or d.pos)
            linear[p.name] = p in d.lin_params
        for node in iter_nodes(d.body):
            t = type(node)
            if t is Let:
                for names, lin in ((node.nl, False), (node.lin, True)):
                    for n in names:
                        if n in linear:
                            self.twice(n, node.pos)
                        linear[n] = lin
                continue
            if t is NUnpack or t is LUnpack:
                v = node.src
                uses[v] = uses.get(v, 0) + 1
                lin = linear.get(v, t is LUnpack)   # components have the tuple's class
                for n in node.names:
                    if n in linear:
                        self.twice(n, node.pos)
                    linear[n] = lin
                continue
            for v in leaf_uses(node):
                uses[v] = uses.get(v, 0) + 1

    # -- fresh names ------------------------------------------------------------
    def fresh(self, base: str) -> str:
        i = 1
        while f"{base}_{i}" in self.linear or f"{base}_{i}" in self.uses or f"{base}_{i}" in self.made:
            i += 1
        name = f"{base}_{i}"
        self.made.add(name)
        return name

    # -- pass 2: rebuild ----------------------------------------------------------
    def after_binding(self, names, pos, out: list):
        """The drops and dups that follow the binding of ``names``."""
        for x in names:
            k = self.uses.get(x, 0)
            if k == 0:
                out.append(Let((), (), Drop(x, pos), pos))
            elif k > 1 and self.linear[x]:
                copies = [self.fresh(x) for _ in range(k)]
                src = x
                for i in range(k - 1):
                    rest = copies[-1] if i == k - 2 else self.fresh(x + "_r")
                    out.append(Let((), (copies[i], rest), Dup(src, pos), pos))
                    src = rest
                self.copies[x] = copies
                self.next_copy[x] = 0

    def rename(self, v: str) -> str:
        cs = self.copies.get(v)
        if cs is None:
            return v
        i = self.next_copy[v]
        self.next_copy[v] = i + 1
        return cs[i]

    def leaf(self, e):
        t = type(e)
        if t is Block:
            return self.block(e)
        copies = self.copies
        if not copies or not any(v in copies for v in leaf_uses(e)):
            return e
        r = self.rename
        if t is Ret:
            return Ret([r(x) for x in e.nl], [r(y) for y in e.lin], e.pos)
        if t is Prim:
            return Prim(e.op, [r(x) for x in e.args], e.pos)
        if t is NTup:
            return NTup([r(x) for x in e.args], e.pos)
        if t is LTup:
            return LTup([r(x) for x in e.args], e.pos)
        if t is LAdd:
            return LAdd(r(e.a), r(e.b), e.pos)
        if t is Scale:
            return Scale(r(e.x), r(e.l), e.pos)
        if t is Dup:
            return Dup(r(e.l), e.pos)
        if t is Drop:
            return Drop(r(e.v), e.pos)
        if t is Call:
            return Call(e.fn, [r(x) for x in e.nl], [r(y) for y in e.lin], e.pos)
        return e   # Lit, Zero: no variables

    def block(self, e: Block) -> Block:
        out = []
        uses, linear = self.uses, self.linear
        for b in e.binds:
            t = type(b)
            if t is Let:     # unchanged nodes are shared with the input, changed ones rebuilt
                rhs = self.leaf(b.rhs)
                out.append(b if rhs is b.rhs else Let(b.nl, b.lin, rhs, b.pos, b.nl_ty, b.lin_ty))
                names = b.nl + b.lin
            else:
                src = self.rename(b.src)
                out.append(b if src == b.src else t(b.names, src, b.pos))
                names = b.names
            for x in names:      # the common case, each binder used (once if linear): nothing to add
                k = uses.get(x, 0)
                if k == 0 or (k > 1 and linear[x]):
                    self.after_binding(names, b.pos, out)
                    break
        return Block(out, self.leaf(e.tail), e.pos)

    def run(self) -> Def:
        d = self.d
        self.count()
        head: list = []
        self.after_binding([p.name for p in d.params], d.pos, head)
        body = self.leaf(d.body)
        if head:
            if type(body) is Block:
                body = Block(head + body.binds, body.tail, body.pos)
            else:
                body = Block(head, body, body.pos)
        return Def(d.name, list(d.nl_params), list(d.lin_params), list(d.nl_out), list(d.lin_out),
                   body, d.pos)
