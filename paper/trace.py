"""Traces on demand (``linear-a trace``): one function's derivations, stage by
stage, as a standalone LaTeX document or as text.

Stages: ``typing`` (the typing derivation of the function and its callees),
``jvp``, ``unzip``, ``transpose`` (each transformation's program and its
rule-by-rule trace, see :mod:`linear_a.paper.pipeline`), ``eval`` (the evaluation
tables at a point), ``all``.  If the program is ill-typed, the typing stage is
rendered up to the failing rule and the other stages are skipped; the caller
gets the :class:`~linear_a.paper.trees.TypingFailure` (with the error naming the rule).
"""
from __future__ import annotations

from linear_a.semantics.errors import UsageError
from linear_a.semantics.printer import show
from linear_a.semantics.syntax import Program, call_closure

from . import latex as L
from .build import standalone
from .traces import eval_tables, transform_text, transform_trace
from .trees import check_program, typing_trees

TRANSFORM_STAGES = ("jvp", "unzip", "transpose")


def callees(prog: Program, fn: str) -> list[str]:
    """fn and every definition it calls, transitively, in program order."""
    seen = call_closure({d.name: d for d in prog.defs}, [fn])
    return [d.name for d in prog.defs if d.name in seen]


def _stages(stage: str) -> list[str]:
    return ["typing", "jvp", "unzip", "transpose", "eval"] if stage == "all" else [stage]


def _check_fn(prog: Program, fn: str):
    if prog.get(fn) is None:
        raise UsageError(f"no function `{fn}` in the program (defined: {', '.join(prog.names) or 'none'})")


def _applicable(prog: Program, fn: str, stage: str) -> bool:
    d = prog[fn]
    if stage == "jvp":
        return d.is_nonlinear
    return True


def _transform_stages(prog: Program, fn: str, wanted, policy):
    """The wanted transformation stages that apply to fn, run once up to the last
    of them: ``(stage, its record, the definitions it produced, the source
    definitions whose derivations to show)`` per stage."""
    from .pipeline import run_stages
    todo = [s for s in wanted if s in TRANSFORM_STAGES and _applicable(prog, fn, s)]
    if not todo:
        return
    st = run_stages(prog, fn, policy, upto=max(todo, key=TRANSFORM_STAGES.index))
    for s in todo:
        stg = st.get(s)
        if stg is not None:
            shown = Program([d for d in stg.prog_out.defs if d.name in stg.targets], prog.file)
            yield s, stg, shown, set(callees(stg.prog_in, stg.source))


def trace_document(prog: Program, fn: str, args=None, stage: str = "all", policy=None):
    """(LaTeX document, typing failure or None)."""
    _check_fn(prog, fn)
    names = callees(prog, fn)
    wanted = _stages(stage)
    parts = [r"\section*{Derivations of \textsf{" + L.esc(fn) + r"} in \texttt{" + L.esc(prog.file or "<input>")
             + "}}", L.program_block(Program([prog[n] for n in names], prog.file))]
    failure = None
    if "typing" in wanted or stage != "eval":
        trees, failure = typing_trees(prog, names=names)
        if "typing" in wanted or failure is not None:
            parts.append(r"\subsection*{Typing}" + "\n" + trees)
    if failure is not None:
        parts.append(r"\paragraph{}\emph{The program is ill-typed: rule \textsf{" + L.esc(failure.rule)
                     + r"} failed, so the later stages are not run.}")
        return standalone("\n".join(parts)), failure
    if "eval" in wanted:
        if args is None:
            parts.append(r"\paragraph{}\emph{No evaluation tables: give a point with --args or --at.}")
        else:
            parts.append(r"\subsection*{Evaluation}" + "\n" + eval_tables(prog, fn, args))
    for s, stg, shown, names in _transform_stages(prog, fn, wanted, policy):
        parts.append(r"\subsection*{" + s.upper() if s == "jvp" else r"\subsection*{" + s.capitalize())
        parts[-1] += r": \textsf{" + L.esc(stg.source) + r"} $\leadsto$ " + ", ".join(
            r"\textsf{" + L.esc(t) + "}" for t in stg.targets) + "}"
        parts.append(L.program_block(shown))
        parts.append(transform_trace(stg.derivation, f"{s} trace of {stg.source}", names=names))
    skipped = [s for s in wanted if s in TRANSFORM_STAGES and not _applicable(prog, fn, s)]
    for s in skipped:
        parts.append(r"\paragraph{}\emph{No " + s + r" stage: \textsf{" + L.esc(fn)
                     + r"} has linear parameters or results (JVP applies to purely non-linear functions).}")
    return standalone("\n".join(parts)), None


MAX_LINES = 60


def _head(text: str, n: int = MAX_LINES) -> str:
    """The first n lines of a long text, with a count of the rest."""
    lines = [l if len(l) <= 240 else l[:239] + "…" for l in text.splitlines()]
    if len(lines) > n:
        lines = lines[:n] + [f"… ({len(lines) - n} more lines elided)"]
    return "\n".join(lines)


def _few(items, n: int = 30) -> str:
    items = list(items)
    more = f"; … ({len(items) - n} more)" if len(items) > n else ""
    return "; ".join(items[:n]) + more


def trace_text(prog: Program, fn: str, args=None, stage: str = "all", policy=None):
    """(text, typing failure or None) for the terminal."""
    from linear_a.semantics.typecheck import conclusion_text
    from .evaltrace import tape
    from .teach import adjoint_rows, primal_rows, tangent_rows
    _check_fn(prog, fn)
    names = callees(prog, fn)
    wanted = _stages(stage)
    out = []
    done, failure = check_program(prog)
    if "typing" in wanted or failure is not None:
        out.append("== typing ==")
        for dv in done:
            if dv.subject.name in names:
                out.append(_head(dv.render(conclusion_text, limit=200), 201))
        if failure is not None:
            for _, premises in failure.checker.open:
                for p in premises[:50]:
                    out.append(p.render(conclusion_text, limit=50))
            out.append(f"✗ rule {failure.rule} failed: {failure.error}")
            return "\n".join(out), failure
    for s, stg, shown, names in _transform_stages(prog, fn, wanted, policy):
        out.append(f"== {s}: {stg.source} ⇝ {', '.join(stg.targets)} ==")
        out.append(_head(transform_text(stg.derivation, names=names), 200))
        out.append(_head(show(shown)))
    for s in wanted:
        if s in TRANSFORM_STAGES and not _applicable(prog, fn, s):
            out.append(f"(no {s} stage: `{fn}` has linear parameters or results; JVP applies to "
                       f"purely non-linear functions)")
    if "eval" in wanted and args is not None:
        out.append("== eval ==")
        from linear_a.proofs.loops import has_loops
        if prog[fn].is_nonlinear and not has_loops(prog):
            t = tape(prog, fn, args)
            out.append("primal:   " + _few(f"{a} = {b} = {c}" for a, b, c in primal_rows(t)))
            out.append("tangent:  " + _few(f"{a} = {c}" for a, b, c in tangent_rows(t)))
            out.append("adjoint:  " + _few(f"{a}: {b} → {c}" for a, b, c in adjoint_rows(t)))
        else:
            from linear_a.semantics.evaluate import evaluate
            r = evaluate(prog, fn, args)
            out.append(f"results ({r.nl} ; {r.lin}), work {r.work}, memory {r.memory}")
            if prog[fn].is_nonlinear:
                out.append("(the program has loops: its tangent and adjoint tables are not "
                           "unrolled)")
    return "\n".join(out), None
