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
* Fresh's rule, as the fast paths (``linear_a.transforms.flat``, ``linear_a.transforms.fused``)
  use it without a set of every name handed out: :data:`SUFFIXES` (``""``,
  ``"_1"``, … made once), :func:`bases_may_meet` (when two bases' names can
  collide) and :func:`first_fresh` (one request, against a list).
* :func:`paused_gc` — the transformations allocate a few objects per ``let``
  and no reference cycles; pausing Python's cyclic collector while they run
  keeps it from rescanning a 10^6-node program again and again (≈35% of the
  time otherwise).
"""
from __future__ import annotations

import re

from linear_a.semantics.gcpause import paused_gc  # noqa: F401  (re-exported for the transforms)
from linear_a.semantics.parser import KEYWORDS
from linear_a.semantics.syntax import Block, Def, Let, Lit, Prim


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


# ----------------------------------------------------------------------------
# Fresh's rule without the set of names handed out (the fast paths).

SUFFIXES = [""]             # "", "_1", "_2", …: a base's names past its first, grown on demand


def suffixes(k: int) -> list:
    """:data:`SUFFIXES`, grown to hold index k (a concatenation with a suffix
    made once is cheaper than a format per name)."""
    s = SUFFIXES
    if k >= len(s):
        s.extend(["_" + i for i in map(str, range(len(s), max(k + 1, len(s) * 3 // 2)))])
    return s


def suffix(k: int) -> str:
    """``_k`` (``""`` for k = 0), from :data:`SUFFIXES`, grown if need be."""
    return SUFFIXES[k] if k < len(SUFFIXES) else suffixes(k)[k]


_SUFFIXED = re.compile(r"^(.+)_[1-9][0-9]*$", re.M)


def bases_may_meet(names) -> bool:
    """Whether some name is another plus ``_k`` (k ≥ 1).  Only then can the
    names Fresh hands out for two bases made from these names be equal:
    base_j = base'_k needs base = base' (a suffix holds no ``_``), unless one
    base is the other plus ``_k``."""
    stems = _SUFFIXED.findall("\n".join(names))
    if not stems:
        return False
    have = set(names)
    return any(s in have for s in stems)


def first_fresh(names, base: str) -> str:
    """``Fresh(names)(base)``: the first of base, base_1, base_2, … that is
    neither in ``names`` (a list is scanned in C: no set built) nor a keyword."""
    name, k = base, 0
    while name in names or name in KEYWORDS:
        k += 1
        name = f"{base}_{k}"
    return name
