r"""vjp in one pass: ``transpose ∘ unzip ∘ jvp`` on the flat form, fused.

Contract::

    vjp_defs(d, counts) == [f_nl, transpose(f_lin)]  where  f_nl, f_lin = unzip(jvp(d, counts))

as printed text (``linear_a.semantics.flat.show``), for every checked flat definition
d it accepts; it returns None for the others, and the caller runs the staged
fast path (``linear_a.transforms.flat``), which is itself tested against the
reference.  So the fused pass answers only where it can give the staged
stages' exact output, and is tested on every program against them.

**Why it can be one pass.**  Save-all unzip sends every non-linear let of
f_jvp to f_nl and every linear let to f_lin, in order; transposition then
rewrites f_lin's linear lets one for one, last to first.  So the transposed
lets can be written *while* JVP makes the linear ones, in JVP's order, and
the list reversed at the end:

    JVP's linear let                 its transpose
    (*.)  s = c *. t                 ct_t = c *. ct_s
    (dup) a, b = dup(t)              ct_t = ct_a +. ct_b
    (+.)  s = a +. b                 ct_a, ct_b = dup(ct_s)
    zero  s = zero                   drop(ct_s)
    drop(t)                          ct_t = zero

A linear variable is read exactly once, so each is given its cotangent once,
and the cotangent's name is ``ct_`` + the tangent's name (Fresh's first
request, whenever no name taken begins with ``ct_``).  The pass therefore
keeps *one* variable per tangent, named for its cotangent; no tangent name is
ever written.  The variables JVP returns become the ``ct_out`` parameters;
the tangents of the parameters are what f_T returns.  The residuals are the
non-linear variables a ``*.`` reads, in binding order (parameters first).

**When it answers** (else None): every definition of real parameters whose
lets are primitives, literals and drops and whose tail is a return, a
primitive or a literal -- except where a rule binds a non-linear variable
that neither half reads (unzip would drop it; the primitive table's rules
bind none).  Tuples, unpacks, calls and nested right-hand sides are left
to the staged stages (``transforms.flat``).

**Names.**  The quick formulas above (``ct_`` + the tangent's name, base,
base_1, base_2, … per base) are Fresh's names when no name JVP could meet
(those beginning with c, d, m or r) holds ``_``, no name is another plus
``_k`` and no ``d``\ x is already a name (:func:`quick_names_hold`).  Where
that fails (``x`` beside ``x_1`` or ``dx``, a name ``c_1`` …), the pass runs
over ids instead of names -- user variable v is named ``#v``, which no base
can meet, so the formulas hold -- and :func:`name_as_the_reference` then
asks the reference's own ``Fresh`` for every name the pass made, in the
reference's order of requests.  So no user name makes the pass decline.

Its speed is its reason to exist (SPEC §15, ``benchmarks/bench_pipeline.py``):
one forward pass over the input writes f_nl's lets and f_T's lets; there is
no f_jvp or f_lin to build, split and read back.
"""
from __future__ import annotations

from types import SimpleNamespace

from linear_a.semantics.flat import (DUP, LADD, LDROP, LIT, NDROP, NTUP, NUNPACK, PRIM, RET, SCALE, ZERO,
                            FlatDef, NotFlat)
from linear_a.semantics.parser import KEYWORDS
from linear_a.semantics.primitives import MINUS_ONE, ONE, PRIMITIVES
from linear_a.semantics.syntax import REAL, TupleType

from .fresh import Fresh, bases_may_meet, first_fresh, suffix, suffixes
from .jvp import SUFFIX as JVP_SUFFIX
from .transpose import SUFFIX as T_SUFFIX
from .unzip import LIN_SUFFIX, NL_SUFFIX

SZ = -1      # θ(x) of a constant x: the symbolic zero (as in transforms.flat)
_JVP_KEYWORDS = {k for k in KEYWORDS if k[0] in "cdmr"}
_TAILS = (RET, PRIM, LIT)
_MAX_ARITY = max(p.arity for p in PRIMITIVES.values())



def vjp_defs(d: FlatDef, counts: list) -> list[FlatDef] | None:
    """``[f_jvp_nl, f_jvp_lin_T]`` of a checked flat definition (``counts``:
    what ``linear_a.semantics.flat.check_def`` returned for it), or None where the
    fused pass does not answer (a rule binding a variable no one reads; see
    the module docstring).  Names: :func:`quick_names_hold` says whether the
    quick formulas give Fresh's names over d's own names; if not, the pass
    runs over ids (each user variable named ``#v``, which no base can meet)
    and :func:`name_as_the_reference` names the result at the end."""
    if any(ty is not REAL for _, ty in d.nl_params) or d.tail[0] not in _TAILS:
        return None                     # tuples: the staged path
    if quick_names_hold(d):
        out = _vjp_defs(d, d.names, counts)
        return None if out is None else out[:2]
    out = _vjp_defs(d, [f"#{v}" for v in range(len(d.names))], counts)
    if out is None:
        return None
    name_as_the_reference(d.names, *out)
    for f in out[:2]:
        f.names = out[0].names
    return out[:2]


def quick_names_hold(d: FlatDef) -> bool:
    """Whether the pass's quick name formulas are Fresh's over d's names: no
    name JVP's bases could meet (those beginning with c, d, m or r) holds
    ``_``, no name is another plus ``_k``, no ``d``\\ x is already a name (nor
    a keyword), and ``r`` is free where a leaf tail needs it."""
    names = d.names
    taken = {s for s in names if s[0] in "cdmr"}
    taken |= _JVP_KEYWORDS
    if any("_" in s for s in taken) or bases_may_meet(names):
        return False
    dx = [s[1:] for s in taken if s[0] == "d"]     # some d+x taken: x's first tangent is dx_1
    if dx and (set(dx) & set(names) or "r" in dx):
        return False
    return d.tail[0] is RET or "r" not in taken


def name_as_the_reference(user: list, f_nl: FlatDef, f_t: FlatDef, r, r_pos: int, outs: list,
                          residuals: list) -> None:
    """Name the variables the pass made over ids exactly as the reference
    does, by asking ``Fresh`` (``linear_a.transforms.fresh``) for them in the
    reference's order of requests: JVP's (one ``Fresh`` over d's names; the
    made variables in order, but ``r`` just before the leaf tail's own),
    unzip's ``w`` (``Fresh`` over f_jvp's names), then transposition's (one
    ``Fresh`` over f_jvp_lin's names: the ``ct_out`` parameters, then each
    binder of f_T in order).  Over ids each made name is base + suffix with
    base ``c``, ``m``, ``r``, ``w`` or ``ct_d#v`` / ``ct_dr`` (the tangents of
    user variable v / of r), so the base is read back from the name."""
    names = f_nl.names
    n0 = len(user)
    w = len(names) - 1
    order = list(range(n0, w))
    if r is not None:                   # the reference asks for r after the lets, before the tail's names
        order.remove(r)
        order.insert(r_pos - n0 - 1, r)
    jname = list(user) + [None] * (w + 1 - n0)
    tangent = bytearray(w + 1)
    fresh = Fresh(user)
    stems: dict = {}                    # a made name less its suffix -> (JVP's base, a tangent?)
    for v in order:
        s = names[v]
        b, _, k = s.rpartition("_")
        stem = b if b and k.isdigit() else s
        e = stems.get(stem)
        if e is None:
            if stem.startswith("ct_d"):     # the tangent of user variable #x, or of r
                x = stem[4:]
                e = ("d" + (user[int(x[1:])] if x[0] == "#" else jname[r]), 1)
            else:                           # c, m or r
                e = (stem, 0)
            stems[stem] = e
        base, tangent[v] = e
        jname[v] = fresh(base)
    jname[w] = first_fresh(jname[:w], "w")
    fresh_t = Fresh([jname[v] for v in residuals] + [jname[w]]
                    + [jname[v] for v in range(n0, w) if tangent[v]])
    final = list(jname)
    many = len(outs) > 1
    for i, y in enumerate(outs):
        final[y] = fresh_t(f"ct_out{i + 1}" if many else "ct_out")
    for t in f_t.lets:
        k = t[0]
        if k is SCALE or k is LADD or k is ZERO:
            final[t[1]] = fresh_t("ct_" + jname[t[1]])
        elif k is DUP:
            final[t[1]] = fresh_t("ct_" + jname[t[1]])
            final[t[2]] = fresh_t("ct_" + jname[t[2]])
    f_nl.names = final


def _vjp_defs(d: FlatDef, table: list, counts: list):
    """The pass, over d with the names ``table`` (d's names, or ids): None
    where it does not answer, else ``(f_nl, f_t, r, r_pos, outs, residuals)``."""
    from .flat import _live as live_partials, schedule
    names = list(table)             # one table for both results: d's names, then the new ones
    n0 = len(names)
    taken = {s for s in names if s[0] in "cdmr"}
    taken |= _JVP_KEYWORDS
    lets, tail = d.lets, d.tail
    # the most requests of one base: two per read past the first, two per argument, one m
    suf = suffixes(2 * max(counts, default=0) + 2 * _MAX_ARITY + 4)
    ct = ["ct_d" + s for s in names]    # a primal variable's cotangent names: ct[x] + suf[k]
    dk = [0] * n0                       # primal variable -> its tangent names so far
    left = list(counts)                 # reads still to come, per primal variable
    theta: list = [None] * n0           # primal variable -> the variable of its tangent
    read = set()                        # the non-linear variables a `*.` reads
    nl: list = []                       # f_nl's lets
    tl: list = []                       # f_T's lets, in JVP's order (reversed at the end)
    nl_append, t_append, name, read_add = nl.append, tl.append, names.append, read.add
    counter = {b: (1 if b in taken else 0) for b in "mr"}

    def fresh(base: str) -> str:
        """Fresh's name for a request of ``base`` (c, m or r)."""
        k = counter[base]
        counter[base] = k + 1
        return base + suffix(k) if k else base

    def new_tangent(x: int) -> int:
        """A new tangent of x (the name is its cotangent's)."""
        k = dk[x]
        dk[x] = k + 1
        v = len(names)
        name(ct[x] + suf[k] if k else ct[x])
        return v

    def tangent(x: int) -> int:
        """The tangent for one read of x: θ(x) at its last read, else one half
        of a dup of it (inlined in the loop below)."""
        n = left[x]
        t = theta[x]
        if n <= 1:
            return t
        a = new_tangent(x)
        b = theta[x] = new_tangent(x)
        left[x] = n - 1
        t_append((LADD, t, a, b))
        return a

    c_next = 1 if "c" in taken else 0    # the emitter's own count of c's (fresh("c"), inlined)

    def prim(op: str, *args: int) -> int:
        """The rules' emitter: a non-linear let of a fresh ``c``."""
        nonlocal c_next
        v = len(names)
        name("c" + suffix(c_next) if c_next else "c")
        c_next += 1
        nl_append((PRIM, v, op, args))
        return v

    def lit(text: str) -> int:         # a rule's literal (see the literal rule, JLit)
        nonlocal c_next
        v = len(names)
        name("c" + suffix(c_next) if c_next else "c")
        c_next += 1
        nl_append((LIT, v, text))
        return v

    emitter = SimpleNamespace(prim=prim, lit=lit)     # what a rule calls: b.prim(…), b.lit(…)
    lits: dict = {}                     # variables bound to a literal -> its text (θ: SZ)
    front: list = []                    # literals f_T writes again (coefficients, −1), in order

    dparams = []
    for p, _ in d.nl_params:
        theta[p] = new_tangent(p)
        dparams.append(theta[p])
    partials = {n: p.partials for n, p in PRIMITIVES.items()}   # the table's rules, as they are now
    r = last = None
    if tail[0] is not RET:              # a leaf tail: bound to a fresh r, returned
        r = len(names)
        name(fresh("r"))
        pad = [None] * (r - n0)         # the tangents made so far are not primal variables
        ct += pad + ["ct_d" + names[r]]
        dk += pad + [0]
        left += pad + [1]
        theta += pad + [None]
        last = (tail[0], r) + tail[2:]
        lets = lets + [last]
    r_pos = None
    for t in lets:
        k = t[0]
        if t is last:
            r_pos = len(names)          # where the leaf tail's names begin
        if k is PRIM:                   # JPrim; ULeaf; TScale / TDup / TLinAdd of what it makes
            nl_append(t)
            _, z, op, args = t
            cz, jz = ct[z], 0           # z's tangent names: cz, then cz + _1, _2, …
            acc = None
            mark = len(nl)
            coeffs = partials[op](emitter, args, z)
            if lits and len(nl) > mark and any(theta[x] == SZ for x in args):   # JPrim's dead partials
                nl[mark:] = live_partials(nl[mark:], [c for c, x in zip(coeffs, args)
                                                      if theta[x] != SZ and type(c) is int])
            for c, x in zip(coeffs, args):
                tx = theta[x]
                if tx < 0:              # SZ: a constant's term is left out (JPrim)
                    continue
                n = left[x]
                if n > 1:               # split its tangent: a, b = dup(θ(x)); θ(x) := b
                    j = dk[x]
                    a = len(names)
                    cx = ct[x]
                    name(cx + suf[j] if j else cx)
                    name(cx + suf[j + 1])
                    dk[x] = j + 2
                    t_append((LADD, tx, a, a + 1))
                    theta[x] = a + 1
                    left[x] = n - 1
                    tx = a
                if lits and type(c) is int and c in lits:     # a literal coefficient: f_T's own
                    v = len(names)
                    name("c" + suffix(c_next) if c_next else "c")
                    c_next += 1
                    front.append((LIT, v, lits[c]))
                    t_append((SCALE, tx, v, len(names)))
                    s = len(names)
                    name(cz + suf[jz] if jz else cz)
                    jz += 1
                elif type(c) is int:    # s = c *. t
                    s = len(names)
                    name(cz + suf[jz] if jz else cz)
                    jz += 1
                    t_append((SCALE, tx, c, s))
                    read_add(c)
                elif c is ONE or c == ONE:
                    s = tx
                elif c is MINUS_ONE or c == MINUS_ONE:     # JPrim's literal -1 (see the literal rule)
                    m = len(names)
                    name(fresh("m"))
                    front.append((LIT, m, "-1"))
                    s = len(names)
                    name(cz + suf[jz] if jz else cz)
                    jz += 1
                    t_append((SCALE, tx, m, s))
                else:
                    raise NotFlat(f"a partial of `{op}` that is not a variable: {c!r}")
                if acc is None:
                    acc = s
                else:                   # acc' = acc +. s
                    s2 = len(names)
                    name(cz + suf[jz] if jz else cz)
                    jz += 1
                    t_append((DUP, acc, s, s2))
                    acc = s2
            theta[z] = SZ if acc is None else acc    # every argument constant: symbolic zero
            dk[z] = jz
        # ---- JLit, the literal rule: θ := SZ here; SZ is read by JPrim above (terms and
        # partials left out, a literal coefficient written again in f_T's front), JDrop
        # and ``linear`` (JZero) below ----
        elif k is LIT:                  # JLit; ULit (in f_nl if read there); no tangent
            nl_append(t)
            theta[t[1]] = SZ
            lits[t[1]] = t[2]
        # ---- end of the literal rule ----
        elif k is NDROP:                # JDrop; ULeaf; TDropLin of its tangent's drop (none for SZ)
            nl_append(t)
            if theta[t[1]] != SZ:
                t_append((ZERO, tangent(t[1])))
        else:
            return None                 # tuples and unpacks: the staged path
    known = tail[1] if r is None else (r,)

    def linear(x: int) -> int:
        """tangent(x); a symbolic zero made a ``zero`` (JZero), whose transpose drops."""
        if theta[x] != SZ:
            return tangent(x)
        v = new_tangent(x)
        t_append((LDROP, v))
        return v
    outs = [linear(x) for x in known]
    made = {t[1] for t in nl if t[1] >= n0} - read     # the rules' variables no *. reads …
    made.discard(r)
    if made:                            # … and that no rule reads either: unzip drops them
        for t in nl:
            if t[0] is PRIM:
                made.difference_update(t[3])
        if made:
            return None                 # left to the staged path
    residuals = [p for p, _ in d.nl_params if p in read]
    residuals += [t[1] for t in nl if t[1] in read and t[0] is not NDROP]
    w = len(names)
    name(first_fresh(table, "w"))
    R = TupleType([REAL] * len(residuals))
    nl_append((NTUP, w, tuple(residuals)))
    f_nl = FlatDef(d.name + JVP_SUFFIX + NL_SUFFIX, names, list(d.nl_params), [],
                   list(d.nl_out) + [R], [], nl, (RET, known + (w,), ()))
    many = len(outs) > 1
    if table is d.names:
        for i, y in enumerate(outs):    # what JVP returns is f_T's parameter: ct_out, or ct_out1, …
            names[y] = f"ct_out{i + 1}" if many else "ct_out"
    tl.reverse()                        # f_T's linear lets, in execution order
    head = (NUNPACK, tuple(residuals), w) if residuals else (NDROP, w)
    tl = schedule([head] + front, tl)   # TSched: each literal written again just before its reader
    f_t = FlatDef(d.name + JVP_SUFFIX + LIN_SUFFIX + T_SUFFIX, names, [(w, R)],
                  [(y, ty) for y, ty in zip(outs, d.nl_out)], [],
                  [ty for _, ty in d.nl_params], tl, (RET, (), tuple(dparams)))
    return f_nl, f_t, r, r_pos, outs, residuals


__all__ = ["vjp_defs"]
