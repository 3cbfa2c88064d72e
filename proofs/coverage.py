"""What a run of ``linear-a check`` exercised: the coverage table.

A theorem checked on programs that never reach a rule says nothing about
that rule.  So every run collects, per checked program, the items it
exercises, and the default run requires every item:

* ``primitive op`` -- an application of ``op`` in a purely non-linear program
  whose result *depends on an input and flows to an output* (so the
  derivative checks see ``op``'s partials: a wrong one changes the gradient);
* ``rule judgment:Name`` -- every rule of the typing, JVP, unzip and
  transposition judgments (``linear_a.semantics.rules.RULES``) used in a
  derivation of a checked program or of its transforms, and the schedules over
  loop iterations (``checkpoint:CkEvery``, ``checkpoint:CkRevolve``) that
  checkpoint-memory applied;
* ``tuple > 1 (non-linear)`` / ``tuple > 1 (linear)`` -- a tuple type with more
  than one component in a program of that kind;
* ``call (non-linear)`` / ``call (linear)`` -- a call of a definition in a
  non-linear program (JVP, unzip and transposition of calls) and in a linear
  one (transposition of a linear call);
* ``loop with a tuple carry`` / ``loop whose step calls a function`` -- a
  loop (JLoop, ULoop, TLoop at work) carrying a tuple, and one whose step
  function calls another definition (the random generator's step functions);
  a linear loop written by the user (TLoop on it directly) is counted too, not
  required;
* ``typing mutation: …`` -- each kind of ill-typed mutant the
  ``typing-rejects`` theorem made and saw rejected.

:func:`collect` returns a subject's items (a set of strings); :func:`expected`
is the list every default run must cover; a missing item is an error of the
run (``Report.coverage_missing``), not a silent pass.
"""
from __future__ import annotations

from linear_a.semantics.syntax import (Block, Call, Def, Drop, Dup, LAdd, Let, Lit, LTup, LUnpack, NTup,
                                       NUnpack, Prim, Ret, Scale, TupleType, Zero)

JUDGMENTS = ("typing", "jvp", "unzip", "transpose", "checkpoint")
STRUCTURE = ("tuple > 1 (non-linear)", "tuple > 1 (linear)", "call (non-linear)", "call (linear)",
             "loop with a tuple carry", "loop whose step calls a function")


def expected() -> list[str]:
    from linear_a.semantics.primitives import PRIMITIVES
    from linear_a.semantics.rules import RULES
    import linear_a.semantics.typecheck  # noqa: F401  (the rules register on import)
    import linear_a.transforms.jvp, linear_a.transforms.unzip, linear_a.transforms.transpose  # noqa: F401,E401
    import linear_a.transforms.loop_ckpt  # noqa: F401
    prims = [f"primitive {op}" for op in PRIMITIVES]
    rules = [f"rule {j}:{n}" for (j, n) in RULES if j in JUDGMENTS and n != "Program"]
    from .typing_mutations import KINDS
    return prims + sorted(rules) + list(STRUCTURE) + [f"typing mutation: {k}" for k in KINDS]


def _edges(d: Def):
    """The data flow of d's body: ``(outs, ins, op)`` per binding (``op`` the
    primitive's name or None), nested right-hand sides inlined, and the
    result names -- one pass with an explicit stack."""
    edges = []
    stack = [(d.body, None)]          # (expression, binders its value goes to or None = the result)
    results: list[str] = []
    while stack:
        e, target = stack.pop()
        if type(e) is Block:
            stack.append((e.tail, target))
            for b in reversed(e.binds):
                stack.append((b, "bind"))
            continue
        if type(e) is Let:
            outs = list(e.nl) + list(e.lin)
            rhs = e.rhs
            if type(rhs) is Block or type(rhs) is Ret:
                stack.append((rhs, outs))
            else:
                edges.append((outs, _uses(rhs), rhs.op if type(rhs) is Prim else None))
            continue
        if type(e) in (NUnpack, LUnpack):
            edges.append((list(e.names), [e.src], None))
            continue
        if type(e) is Ret:
            names = list(e.nl) + list(e.lin)
            if target is None:
                results.extend(names)
            elif target != "bind":
                edges.append((list(target), names, None))
            continue
        if target is None:            # a leaf as the body's tail
            edges.append((["<result>"], _uses(e), e.op if type(e) is Prim else None))
            results.append("<result>")
        elif target != "bind":
            edges.append((list(target), _uses(e), e.op if type(e) is Prim else None))
    return edges, results


def _uses(e) -> list[str]:
    t = type(e)
    if t is Prim:
        return list(e.args)
    if t in (NTup, LTup):
        return list(e.args)
    if t is Call:
        return list(e.nl) + list(e.lin)
    if t is LAdd:
        return [e.a, e.b]
    if t is Scale:
        return [e.x, e.l]
    if t is Dup:
        return [e.l]
    if t is Drop:
        return []                 # a drop discards its input: it does not make it live
    if t in (Lit, Zero):
        return []
    return []


def live_primitives(prog) -> set[str]:
    """Primitives applied in some definition to values that depend on its inputs
    and whose results reach its outputs."""
    out = set()
    for d in prog.defs:
        edges, results = _edges(d)
        dep = {p.name for p in d.params}
        flags = []
        for outs, ins, _ in edges:
            on = any(x in dep for x in ins)
            if on:
                dep.update(outs)
            flags.append(on)
        live = set(results)
        for (outs, ins, op), on in zip(reversed(edges), reversed(flags)):
            if any(o in live for o in outs):
                live.update(ins)
                if op is not None and on:
                    out.add(op)
    return out


def dropped_primitives(d: Def) -> list[str]:
    """The primitives d applies whose results are read by nothing but ``drop``:
    work done to be thrown away."""
    from linear_a.semantics.syntax import iter_nodes
    reads: dict[str, int] = {}
    drops: dict[str, int] = {}
    prims = []
    for n in iter_nodes(d.body):
        if type(n) is Let:
            if type(n.rhs) is Prim:
                prims.append(n)
            continue
        if type(n) in (NUnpack, LUnpack):
            reads[n.src] = reads.get(n.src, 0) + 1
        elif type(n) is Drop:
            drops[n.v] = drops.get(n.v, 0) + 1
        elif type(n) is Ret:
            for x in list(n.nl) + list(n.lin):
                reads[x] = reads.get(x, 0) + 1
        else:
            for x in _uses(n):
                reads[x] = reads.get(x, 0) + 1
    return [b.rhs.op for b in prims if all(not reads.get(x) and drops.get(x) for x in b.nl)]


def _has_big_tuple(prog) -> bool:
    from linear_a.semantics.syntax import iter_nodes

    def big(t):
        stack = [t]
        while stack:
            u = stack.pop()
            if isinstance(u, TupleType):
                if len(u.items) > 1:
                    return True
                stack.extend(u.items)
        return False
    for d in prog.defs:
        if any(big(p.ty) for p in d.params) or any(big(t) for t in list(d.nl_out) + list(d.lin_out)):
            return True
        for n in iter_nodes(d.body):
            if type(n) in (NTup, LTup) and len(n.args) > 1:
                return True
    return False


def _has_call(prog) -> bool:
    from linear_a.semantics.syntax import iter_nodes
    return any(type(n) is Let and type(n.rhs) is Call for d in prog.defs for n in iter_nodes(d.body))


def _loop_items(prog) -> set[str]:
    from linear_a.semantics.syntax import Loop, iter_nodes
    out = set()
    for d in prog.defs:
        for n in iter_nodes(d.body):
            if type(n) is Loop:
                step = prog[n.fn]
                if any(isinstance(p.ty, TupleType) for p in step.params):
                    out.add("loop with a tuple carry")
                if any(type(m) is Call or type(m) is Loop for m in iter_nodes(step.body)):
                    out.add("loop whose step calls a function")
                if n.lin and not n.nl and not n.over:
                    out.add("loop with a linear carry (a user's linear loop)")
    return out


def collect(s) -> set[str]:
    """The items one subject (``linear_a.proofs.checks.Subject``) exercises."""
    from linear_a.semantics.typecheck import typecheck
    items: set[str] = set()

    def rules(j, dv):
        for r in dv.rules_used():
            items.add(f"rule {j}:{r}")
    rules("typing", typecheck(s.prog))
    kind = "non-linear" if s.kind == "nonlinear" else "linear"
    if _has_big_tuple(s.prog):
        items.add(f"tuple > 1 ({kind})")
    if _has_call(s.prog) and s.kind != "mixed":
        items.add(f"call ({kind})")
    items.update(_loop_items(s.prog))
    if s.kind == "nonlinear":
        from linear_a.transforms.jvp import jvp
        items.update(f"primitive {op}" for op in live_primitives(s.prog))
        rules("jvp", jvp(s.prog, [s.entry.name]))
        rules("unzip", s.linearized())
    else:
        rules("unzip", s.unzipped())
    from linear_a.transforms.checkpoint import RecomputeAll    # the policy checked by unzip-cost
    from .checks import _unzip_dv
    rules("unzip", _unzip_dv(s, RecomputeAll(), "recompute-all")[0])
    items.update(f"typing mutation: {k}" for k in s._cache.get("typing-mutations", ()))
    items.update(f"rule checkpoint:{r}" for r in s._cache.get("loop-ckpt-rules", ()))
    staged = s._cache.get("staged")                            # staging, when unzip-correct ran it
    if staged is not None:
        rules("unzip", staged)
    if s.kind != "mixed":
        from linear_a.transforms.transpose import transpose
        p, fn = s.linear_program()
        rules("transpose", transpose(p, [fn], trusted=True))
    return items
