"""Fresh names and a tiny binding emitter, shared by the transformations.

Within one definition every binder is distinct (SPEC §2), so a transformation
that introduces bindings needs names no binder of that definition already has.

* :class:`Fresh` — a name supply for one definition: ``fresh("dx")`` returns
  ``dx`` if it is unused, else ``dx_1``, ``dx_2``, … (never a keyword, never a
  name handed out before).  A counter per base keeps this O(1) amortised, so a
  10^6-let definition costs no rescans.
* :func:`def_names` — every parameter and binder name of a definition (one pass).
* :class:`Emitter` — appends ``let`` bindings to a list and returns the name
  bound.  The primitive table's JVP rules (``partials(b, args, out)``) talk to
  it through ``b.prim(op, *vars)`` and ``b.lit(text)``.
* :func:`paused_gc` — the transformations allocate a few objects per ``let``
  and no reference cycles; pausing Python's cyclic collector while they run
  keeps it from rescanning a 10^6-node program again and again (≈35% of the
  time otherwise).
"""
from __future__ import annotations


from semantics.gcpause import paused_gc  # noqa: F401  (re-exported for the transforms)
from semantics.parser import KEYWORDS
from semantics.syntax import Block, Def, Let, Lit, Prim


class Fresh:
    """A supply of names distinct from ``used`` and from each other."""
    __slots__ = ("used", "_next")

    def __init__(self, used=()):
        self.used = set(used)
        self.used.update(KEYWORDS)
        self._next: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        used = self.used
        if base not in used:
            used.add(base)
            return base
        k = self._next.get(base, 1)
        name = f"{base}_{k}"
        while name in used:
            k += 1
            name = f"{base}_{k}"
        self._next[base] = k + 1
        used.add(name)
        return name


def def_names(d: Def) -> set[str]:
    """All parameter and binder names of ``d`` (a loop per chain, a stack for
    nested right-hand sides)."""
    names = {p.name for p in d.nl_params}
    names.update(p.name for p in d.lin_params)
    update = names.update
    stack = [d.body]
    while stack:
        e = stack.pop()
        if type(e) is not Block:
            continue
        for b in e.binds:
            if type(b) is Let:
                update(b.nl)
                update(b.lin)
                if type(b.rhs) is Block:
                    stack.append(b.rhs)
            else:
                update(b.names)
    return names


class Emitter:
    """Accumulates bindings into ``binds`` (a list), naming results with ``fresh``."""
    __slots__ = ("fresh", "binds", "base")

    def __init__(self, fresh: Fresh, binds: list, base: str = "c"):
        self.fresh = fresh
        self.binds = binds
        self.base = base

    def let(self, nl=(), lin=(), rhs=None) -> None:
        self.binds.append(Let(nl, lin, rhs))

    def prim(self, op: str, *args: str) -> str:
        """``let (c;) = op(args)``; returns c."""
        name = self.fresh(self.base)
        self.binds.append(Let((name,), (), Prim(op, args)))
        return name

    def lit(self, text: str) -> str:
        """``let (c;) = text``; returns c."""
        name = self.fresh(self.base)
        self.binds.append(Let((name,), (), Lit(text)))
        return name


