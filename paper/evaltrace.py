"""Evaluation traces: the primal, tangent and adjoint tables of the teaching
article (SPEC §13), read off the evaluator's derivation.

:func:`tape` evaluates a purely non-linear function with ``derive=True`` and
walks the evaluation derivation once, in order, turning every primitive
application and literal into a *tape entry*: its value and the numeric local
partial derivatives, obtained by running the primitive's own JVP rule
(``partials`` in the primitive table) on numbers instead of emitting code.
Tuples are not entries: a tuple value is a tuple of entries, unpacking picks
components, and a call is walked into with its parameters bound to the
caller's entries (callee variables are shown as ``g#k.v``, k numbering the
call sites of ``g`` in the order the evaluation reaches them, so two calls of
one helper are told apart).

On that tape:

* the **tangent trace** is forward accumulation, ``u̇ = Σ ∂u/∂vᵢ · v̇ᵢ``;
* the **adjoint trace** is reverse accumulation, ``v̄ᵢ = Σ_u ū · ∂u/∂vᵢ``,
  and records each term with the entry it came through -- the per-path
  contributions the article writes as ``v̄₋₁ = v̄₋₁(via v1) + v̄₋₁(via v2)``.

This is an independent, textbook reverse mode (the article's), used to
explain and to cross-check the Linear A pipeline -- not built from it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from linear_a.semantics.derivation import Derivation
from linear_a.semantics.domains import get_domain
from linear_a.semantics.errors import UsageError
from linear_a.semantics.evaluate import evaluate
from linear_a.semantics.primitives import MINUS_ONE, ONE, PRIMITIVES
from linear_a.semantics.printer import show_leaf
from linear_a.semantics.syntax import (Block, Call, Drop, Let, Lit, NTup, NUnpack, Prim, Program, Ret,
                                       nonlinear_entry)

FLOAT = get_domain("float")


@dataclass
class Entry:
    name: str                 # display name (a variable, ``x1``, or ``g#1.v`` inside a call)
    expr: str                 # the operation in concrete syntax over display names
    value: float
    inputs: list = field(default_factory=list)     # indices of earlier entries
    partials: list = field(default_factory=list)   # ∂value/∂input, one per input
    is_input: bool = False
    node: object = None       # the AST node (Prim/Lit) or None for inputs
    label: str = ""           # the article's name (v₋₁, v₀, …) when it applies


@dataclass
class Tape:
    entries: list
    inputs: list              # entry indices of the flattened inputs
    outputs: list             # entry indices of the flattened outputs
    input_names: list         # display names of the flattened inputs
    fn: str
    work: int = 0
    memory: int = 0

    def values(self):
        return [e.value for e in self.entries]

    def tangent(self, seed: dict[int, float]) -> list[float]:
        """Forward accumulation; ``seed`` maps input entry indices to tangents."""
        tan = [0.0] * len(self.entries)
        for i, e in enumerate(self.entries):
            if e.is_input:
                tan[i] = float(seed.get(i, 0.0))
            else:
                tan[i] = sum(p * tan[j] for j, p in zip(e.inputs, e.partials))
        return tan

    def adjoint(self, cot: dict[int, float]):
        """Reverse accumulation from output cotangents ``cot`` (entry → ȳ).
        Returns (adjoints, contributions) where contributions[i] lists
        (consumer entry index, term) in the order the sweep adds them."""
        adj = [0.0] * len(self.entries)
        for i, c in cot.items():
            adj[i] += c
        contrib: list[list] = [[] for _ in self.entries]
        for k in range(len(self.entries) - 1, -1, -1):
            e = self.entries[k]
            for j, p in zip(e.inputs, e.partials):
                term = adj[k] * p
                adj[j] += term
                contrib[j].append((k, term))
        for lst in contrib:
            lst.reverse()     # consumers in program order
        return adj, contrib

    def jacobian_forward(self) -> list[list[float]]:
        """One column per input (n forward passes)."""
        cols = []
        for i in self.inputs:
            t = self.tangent({i: 1.0})
            cols.append([t[o] for o in self.outputs])
        return [[cols[c][r] for c in range(len(cols))] for r in range(len(self.outputs))]

    def jacobian_reverse(self) -> list[list[float]]:
        """One row per output (m reverse passes)."""
        rows = []
        for o in self.outputs:
            adj, _ = self.adjoint({o: 1.0})
            rows.append([adj[i] for i in self.inputs])
        return rows


class _NumEmitter:
    """Runs a primitive's JVP rule on numbers: ``prim``/``lit`` compute values."""

    def __init__(self, values: dict):
        self.values = dict(values)
        self.k = 0

    def _fresh(self, v):
        self.k += 1
        name = f"%{self.k}"
        self.values[name] = v
        return name

    def prim(self, op, *args):
        return self._fresh(PRIMITIVES[op].evaluate(FLOAT, [self.values[a] for a in args]))

    def lit(self, text):
        return self._fresh(float(text))

    def coefficient(self, c):
        if c == ONE:
            return 1.0
        if c == MINUS_ONE:
            return -1.0
        return float(self.values[c])


def local_partials(op: str, args: list[float], out: float) -> list[float]:
    names = [f"a{i}" for i in range(len(args))]
    em = _NumEmitter(dict(zip(names, args)) | {"out": out})
    return [em.coefficient(c) for c in PRIMITIVES[op].partials(em, names, "out")]


def _flatten(v) -> list:
    if isinstance(v, tuple):
        return [x for item in v for x in _flatten(item)]
    return [v]


def tape(prog: Program, fn: str, args) -> Tape:
    """Evaluate ``fn`` at ``args`` and build its tape (see the module docstring)."""
    d = nonlinear_entry(prog, fn, "a tangent and adjoint trace")
    res = evaluate(prog, fn, args, derive=True)
    entries: list[Entry] = []
    nl_args, _ = res.derivation.notes["args"]

    def new_input(name, value):
        entries.append(Entry(name, name, float(value), is_input=True))
        return len(entries) - 1

    def bind_param(name, value):
        if isinstance(value, tuple):
            return tuple(bind_param(f"{name}[{i}]", v) for i, v in enumerate(value))
        return new_input(name, value)

    env = {p.name: bind_param(p.name, v) for p, v in zip(d.nl_params, nl_args)}
    inputs = _flatten(tuple(env[p.name] for p in d.nl_params))
    body_dv = res.derivation.premises[0]
    used_names = {e.name for e in entries}
    out = _walk(body_dv, env, "", entries, prog, used_names, {})
    outputs = _flatten(tuple(out))
    t = Tape(entries, inputs, outputs, [entries[i].name for i in inputs], fn, res.work, res.memory)
    _article_labels(t)
    return t


def _walk(dv: Derivation, env: dict, prefix: str, entries: list, prog: Program, used: set,
          sites: dict):
    """Walk an evaluation derivation of an expression; returns the tuple of
    entries of its non-linear results.  A chain is a loop; recursion only on
    nested right-hand sides and calls.  ``sites`` counts the call sites of
    each callee (under this prefix) reached so far."""

    def display(v):
        return prefix + v

    def leaf(dv, bind_name=None):
        e = dv.subject
        t = type(e)
        if t is Prim:
            ins = [env[a] for a in e.args]
            vals = [entries[i].value for i in ins]
            out = float(dv.result[0][0])
            name = bind_name or _fresh_name(entries, used, prefix)
            shown = show_leaf(Prim(e.op, [entries[i].name for i in ins]))
            entries.append(Entry(name, shown, out, ins, local_partials(e.op, vals, out), node=e))
            used.add(name)
            return (len(entries) - 1,)
        if t is Lit:
            name = bind_name or _fresh_name(entries, used, prefix)
            entries.append(Entry(name, e.text, float(dv.result[0][0]), node=e))
            used.add(name)
            return (len(entries) - 1,)
        if t is Ret:
            return tuple(env[x] for x in e.nl)
        if t is NTup:
            return (tuple(env[x] for x in e.args),)
        if t is Drop:
            return ()
        if t is Call:
            callee = prog[e.fn]
            inner = {p.name: env[x] for p, x in zip(callee.nl_params, e.nl)}
            body = dv.premises[0]
            site = prefix + e.fn
            sites[site] = k = sites.get(site, 0) + 1
            return _walk(body, inner, f"{site}#{k}.", entries, prog, used, sites)
        if t is Block:
            return _walk(dv, env, prefix, entries, prog, used, sites)
        raise UsageError(f"the adjoint trace does not support `{t.__name__}` (linear code)")

    if type(dv.subject) is not Block:
        return leaf(dv)
    env = dict(env)
    for p in dv.premises[:-1]:
        b = p.subject
        if type(b) is Let:
            rhs = p.premises[0]
            single = len(b.nl) == 1 and type(rhs.subject) in (Prim, Lit)
            vals = leaf(rhs, display(b.nl[0]) if single else None)
            for n, v in zip(b.nl, vals):
                env[n] = v
        elif type(b) is NUnpack:
            src = env[b.src]
            for n, v in zip(b.names, src):
                env[n] = v
        else:
            raise UsageError("the adjoint trace does not support linear code")
    return leaf(dv.premises[-1])


def _fresh_name(entries, used, prefix) -> str:
    """A name for an unnamed result: the next vₖ if the program numbers its
    variables v1, v2, …, else out, out2, out3 … (not y: a parameter may be y)"""
    nums = [int(m.group(1)) for n in used if (m := re.fullmatch(re.escape(prefix) + r"v(\d+)", n))]
    if nums:
        cand = f"{prefix}v{max(nums) + 1}"
    else:
        cand = prefix + "out"
        k = 1
        while cand in used:
            k += 1
            cand = f"{prefix}out{k}"
    return cand


def _article_labels(t: Tape):
    """Label inputs v₋ₙ₊₁ … v₀ when the program numbers its variables v1, v2, …
    and its parameters are not themselves called v… (the article's
    convention); otherwise labels are the names, parameters' included."""
    numbered = all(re.fullmatch(r"v\d+", e.name) for e in t.entries if not e.is_input and "." not in e.name)
    numbered = numbered and not any(re.fullmatch(r"v-?\d+", t.entries[i].name) for i in t.inputs)
    n = len(t.inputs)
    for e in t.entries:
        e.label = e.name
    if numbered and any(not e.is_input for e in t.entries):
        for k, i in enumerate(t.inputs):
            t.entries[i].label = f"v{k + 1 - n}"
