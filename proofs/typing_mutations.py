"""Typing mutations: the checked programs, broken the ways the typing rules forbid.

A type checker that accepts everything passes every soundness check run on
well-typed programs.  So the ``typing-rejects`` theorem takes each checked
program (and its transforms, which have the linear variables), applies each
mutation below at one site of its top-level let-chains, and requires the
typing judgment to reject the result with a located ``LinearATypeError``
naming the rule that forbids it:

===========================================  ===================================
mutation                                     rejected by
===========================================  ===================================
a linear name returned twice                 Ret (linear names distinct)
the second operand of ``+.`` replaced by      Let (Δ₁ ∩ Δ₂ = ∅: used twice) or
the first (a linear name used twice)         LAdd
a non-linear ``drop`` removed (unused,        Let / Def (every binder occurs)
no drop)
a linear ``drop`` removed                    Let / Def (linear used exactly once)
a linear variable as a primitive's argument  Prim
the scale's factor and vector swapped        Scale
a call's last linear argument missing         Call
===========================================  ===================================

``mutants(prog)`` yields ``(what, rules, program)``; a mutation with no site
in a program is skipped (the coverage of the suite shows which kinds ran).
"""
from __future__ import annotations

import dataclasses

from linear_a.semantics.syntax import Block, Call, Drop, LAdd, Let, Prim, Program, Ret, Scale

KINDS = ("linear name returned twice", "linear name used twice", "non-linear drop removed",
         "linear drop removed", "linear argument to a primitive", "scale operands swapped",
         "missing linear argument")
RULES = {
    "linear name returned twice": {"Ret"},
    "linear name used twice": {"Let", "LAdd"},
    "non-linear drop removed": {"Let", "Def", "NUnpack"},
    "linear drop removed": {"Let", "Def", "LUnpack"},
    "linear argument to a primitive": {"Prim"},
    "scale operands swapped": {"Scale"},
    "missing linear argument": {"Call"},
}


def _chain(d):
    return (list(d.body.binds), d.body.tail) if type(d.body) is Block else ([], d.body)


def _replace(prog: Program, d, binds, tail, **changes) -> Program:
    nd = dataclasses.replace(d, body=Block(binds, tail) if binds else tail, **changes)
    return Program([nd if x is d else x for x in prog.defs], prog.file)


def _linear_names(prog, d) -> set:
    from linear_a.semantics.evaluate import _typing_info
    _, envs = _typing_info(prog)
    return {n for n, (lin, _) in envs[d.name].items() if lin}


def mutants(prog: Program):
    """Every kind of mutation at its first site (definitions last to first)."""
    done = set()
    for d in reversed(prog.defs):
        binds, tail = _chain(d)
        linear = _linear_names(prog, d)
        from linear_a.semantics.evaluate import use_counts
        reads = use_counts(d.body)
        if "linear name returned twice" not in done and type(tail) is Ret and tail.lin:
            y = tail.lin[0]
            ty = d.lin_out[0]
            done.add("linear name returned twice")
            yield ("linear name returned twice", RULES["linear name returned twice"],
                   _replace(prog, d, binds, Ret(tail.nl, list(tail.lin) + [y]), lin_out=list(d.lin_out) + [ty]))
        for i, b in enumerate(binds):
            if type(b) is not Let:
                continue
            r = b.rhs
            kind = None
            if type(r) is LAdd and r.a != r.b:
                kind, new = "linear name used twice", Let(b.nl, b.lin, LAdd(r.a, r.a), nl_ty=b.nl_ty, lin_ty=b.lin_ty)
            elif type(r) is Drop and not b.nl and not b.lin and reads.get(r.v) == 1:   # its only use
                kind = "linear drop removed" if r.v in linear else "non-linear drop removed"
                new = None
            elif type(r) is Scale:
                kind, new = "scale operands swapped", Let(b.nl, b.lin, Scale(r.l, r.x))
            elif type(r) is Prim and r.args and linear:
                lin_before = [x for x in linear if any(x in (getattr(c, "lin", ()) or ()) for c in binds[:i])
                              or x in {p.name for p in d.lin_params}]
                if lin_before:
                    kind = "linear argument to a primitive"
                    new = Let(b.nl, b.lin, Prim(r.op, [sorted(lin_before)[0]] + list(r.args[1:])))
            elif type(r) is Call and r.lin:
                kind, new = "missing linear argument", Let(b.nl, b.lin, Call(r.fn, r.nl, list(r.lin[:-1])))
            if kind is None or kind in done:
                continue
            done.add(kind)
            nb = binds[:i] + ([new] if new is not None else []) + binds[i + 1:]
            yield kind, RULES[kind], _replace(prog, d, nb, tail)


def check_rejections(prog: Program) -> list[tuple[str, set, str | None, str]]:
    """(mutation, rules expected, rule that rejected it or None if accepted, message)."""
    from linear_a.semantics.errors import LinearAError
    from linear_a.semantics.typecheck import typecheck
    out = []
    for what, rules, mp in mutants(prog):
        try:
            typecheck(mp, derive=False)
            out.append((what, rules, None, "accepted"))
        except LinearAError as e:
            out.append((what, rules, getattr(e, "rule", None), e.message))
    return out


def transform_rejections(prog: Program) -> list[tuple[str, str | None]]:
    """The transformations refuse ill-typed input with the typing judgment's
    located error, rather than an output or a crash: each mutant of
    :func:`mutants` handed (untrusted, as the CLI does) to JVP, unzip and
    transposition is rejected with the error and rule the typing judgment
    gives it (they typecheck their input first).

    And JVP, asked for the whole of a program with no purely non-linear
    definition, refuses it with a ``TransformError`` of rule JDef.

    Returns ``(what, problem)`` pairs; problem None when the refusal is right."""
    from linear_a.semantics.errors import LinearAError, LinearATypeError
    from linear_a.semantics.typecheck import typecheck
    from linear_a.transforms.jvp import jvp_program
    from linear_a.transforms.transpose import transpose_program
    from linear_a.transforms.unzip import unzip_program
    out = []
    for what, rules, mp in mutants(prog):
        try:
            typecheck(mp, derive=False)
            continue                          # accepted: typing-rejects refutes it already
        except LinearAError as e:
            want = getattr(e, "rule", None)
        for name, transform in (("JVP", jvp_program), ("unzip", unzip_program),
                                ("transposition", transpose_program)):
            label = f"{name} of a program with '{what}'"
            try:
                transform(mp)
                out.append((label, "accepted (an output was made)"))
            except LinearATypeError as e:
                out.append((label, None if e.rule == want else f"rejected by rule {e.rule}, not {want}"))
            except LinearAError as e:
                out.append((label, f"refused by {type(e).__name__} ({e.rule}), not the typing judgment"))
            except Exception as e:            # a crash is a refutation with the instance
                out.append((label, f"crashed: {type(e).__name__}: {e}"))
    if not any(d.is_nonlinear for d in prog.defs):
        from linear_a.semantics.errors import TransformError
        label = "JVP of a program with no purely non-linear definition"
        try:
            jvp_program(prog)
            out.append((label, "accepted (an output was made)"))
        except TransformError as e:
            out.append((label, None if e.rule == "JDef" else f"refused by rule {e.rule}, not JDef: {e}"))
        except Exception as e:
            out.append((label, f"crashed: {type(e).__name__}: {e}"))
    return out
