r"""The generated paper: ``linear-a paper --out DIR`` (SPEC §12).

:func:`write_paper` writes ``DIR/linear-a.tex``, its inputs (one file per
section, ``linear-a.sty``) and, with latexmk, ``DIR/linear-a.pdf``.  Every
figure and number comes from the code that runs:

* the syntax and the typing rules, the JVP, unzip and transposition rules --
  typeset from the rule registry ``linear_a.semantics.rules.RULES`` (the premises and
  conclusion each rule's implementing function carries);
* the primitive table, with each primitive's partial derivatives obtained by
  running its JVP rule with an emitter that writes LaTeX;
* the cost model from ``linear_a.semantics.evaluate.Costs``; the theorems, and their
  constants with their derivations, from ``linear_a.proofs.theorems`` when present;
* the worked examples -- typing derivations, evaluation tables, and each
  transformation's program and rule-by-rule trace -- computed from
  ``examples/``;
* the theorem-check summary, from a JSON file given with ``--check-results``
  (what ``linear-a check --json`` writes) or else by running
  ``linear_a.proofs.runner.run_suite`` on the built-in corpus and the per-rule
  obligations during the build (``--no-checks`` leaves a pointer instead).

Statements of the paper's results are this project's restatements (SPEC
§11); the document says so and never quotes numbering or constants it does
not have.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

from linear_a.semantics.errors import InputError, LinearAError
from linear_a.semantics.evaluate import DEFAULT_COSTS
from linear_a.semantics.parser import parse_program
from linear_a.semantics.primitives import MINUS_ONE, ONE, PRIMITIVES
from linear_a.semantics.rules import RULES
from linear_a.semantics.syntax import Program, call_closure

from . import latex as L
from .build import build, preamble, require_tex, sty_text
from .traces import eval_tables, transform_trace
from .trees import typing_trees

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
JUDGMENT_TITLES = {
    "typing": ("Typing", r"\Phi ; \Gamma ; \Delta \vdash e : (\bar\tau ; \bar\sigma)"),
    "jvp": ("JVP (forward mode)", r"\theta \vdash e \leadsto_J e'"),
    "unzip": ("Unzip (partial evaluation; checkpointing)", r"e \leadsto_U (C ; e_n ; e_l)"),
    "transpose": ("Transposition", r"\Delta \Leftarrow \ddot\Delta \vdash e \leadsto_T t"),
}
TRANSFORM_JUDGMENTS = ("jvp", "unzip", "transpose")


def load_transforms():
    """Import the transformations so their rules are registered."""
    import importlib
    for name in ("linear_a.transforms.jvp", "linear_a.transforms.unzip", "linear_a.transforms.transpose"):
        importlib.import_module(name)


# ----------------------------------------------------------------------------
# Rule figures


def rule_tex(r) -> str:
    prem = r" \\ ".join(r.premises) if r.premises else r"\ "
    return L.notation(r"\inferrule*[right=" + L.esc(r.name) + "]{" + prem + "}{" + r.conclusion + "}")


def _rule_block(r) -> str:
    return (r"\begin{LAruleblock}" + "\n" + r"\LAfit{$" + rule_tex(r) + "$}\\\\\n"
            + r"{\footnotesize\textsf{" + L.esc(r.name) + "}: " + L.esc(r.text) + "}\n"
            + r"\end{LAruleblock}")


def loop_rules_figure() -> str:
    """The loop rules side by side (each also sits in its judgment's
    figure): typing, JVP, unzip, transposition of ``loop N f``."""
    rules = [RULES[k] for k in LOOP_RULES if k in RULES]
    if not rules:
        return ""
    out = [r"\subsection{Loops: one rule per judgment}\label{sec:loops}",
           r"A loop $\LAkw{loop}\ N\ f(\bar x \mathbin{;} \LAlin{\bar y})\ \LAkw{over}\ (\bar a)$ runs an "
           r"earlier step function $f$ $N$ times on its carried state; per-iteration non-linear outputs "
           r"are stacked into arrays $[\tau; N]$ (non-linear only) and read back by a later loop's "
           r"$\LAkw{over}$.  No rule unrolls: JVP makes a loop of the step's JVP; unzip makes a "
           r"non-linear loop that stacks each iteration's residual tuple $R$ into $w : [R; N]$ and a "
           r"linear loop that reads it back; transposition makes the reversed loop "
           r"($\LAkw{loop}\ \LAkw{reverse}$) of the transposed step over the same stack.  So the size "
           r"of the gradient program does not depend on $N$, and $W(\LAkw{loop}) = N \cdot (W(f) + "
           + str(DEFAULT_COSTS.loop) + r")$ with the default cost of an iteration, "
           + str(DEFAULT_COSTS.loop) + r"." "\n"]
    out += [_rule_block(r) for r in rules]
    return "\n".join(out) + "\n"


def rules_figure(judgment: str) -> str:
    """All registered rules of one judgment, each scaled to the line if wide,
    with the rule's one-line plain statement under it."""
    title, form = JUDGMENT_TITLES.get(judgment, (judgment, ""))
    rules = [r for (j, _), r in RULES.items() if j == judgment]
    out = [r"\subsection{" + L.esc(title) + " rules}",
           r"The judgment $" + L.notation(form) + r"$.  " + str(len(rules)) + r" rules, typeset from the rule "
           r"objects attached to the functions that implement them.", ""]
    out += [_rule_block(r) for r in rules]
    return "\n".join(out) + "\n"


# Where each judgment's rules sit in the original paper, by figure name only
# (SPEC: syntax Fig. 2, typing Fig. 4, JVP Fig. 8, transposition Fig. 11; the
# sources fix no figure number for unzipping).  Rules marked as this project's
# have no counterpart there.
ORIGINAL = {
    "typing": "typing rules, Fig. 4",
    "jvp": "JVP rules, Fig. 8",
    "unzip": "the unzipping section (the sources give no figure number)",
    "transpose": "transposition rules, Fig. 11",
}
PROJECT_RULES = {
    ("jvp", "JZero"): "SPEC §17 (constants carry no tangent)",
    ("jvp", "JLit"): "Fig. 8, with SPEC §17: the tangent is a symbolic zero",
    ("unzip", "ULit"): "SPEC §17 (literals are never residuals)",
    ("unzip", "URecompute"): "checkpointing, a free choice when unzipping lets",
    ("unzip", "UCallRecompute"): "checkpointing, a free choice when unzipping lets",
    ("unzip", "UUnknown"): "this project's staging (general partial evaluation)",
    ("jvp", "Program"): "this project's (a program is its definitions)",
    ("unzip", "Program"): "this project's (a program is its definitions)",
    ("transpose", "Program"): "this project's (a program is its definitions)",
    ("typing", "Loop"): "this project's (loops, SPEC §17; the original Linear A has none)",
    ("jvp", "JLoop"): "this project's (loops, SPEC §17)",
    ("unzip", "ULoop"): "this project's (loops, SPEC §17)",
    ("transpose", "TLoop"): "this project's (loops, SPEC §17)",
    ("unzip", "ULoopInv"): "this project's (loops: invariant carries stored once, like JAX's scan consts)",
    ("transpose", "TLoopInv"): "this project's (loops: invariant carries carried unchanged)",
}
LOOP_RULES = (("typing", "Loop"), ("jvp", "JLoop"), ("unzip", "ULoop"), ("transpose", "TLoop"),
              ("unzip", "ULoopInv"), ("transpose", "TLoopInv"))


def rule_map_table() -> str:
    """Each registered rule and where the original paper has it (by name)."""
    rows = [(r"syntax (Section~\ref{sec:language})", "the forms of the language", "syntax, Fig. 2")]
    for j in ("typing",) + TRANSFORM_JUDGMENTS:
        names = [n for (jj, n) in RULES if jj == j]
        plain = [n for n in names if (j, n) not in PROJECT_RULES]
        rows.append((L.esc(JUDGMENT_TITLES[j][0]), ", ".join(r"\textsf{" + L.esc(n) + "}" for n in plain),
                     L.esc(ORIGINAL[j])))
        for n in names:
            if (j, n) in PROJECT_RULES:
                rows.append(("", r"\textsf{" + L.esc(n) + "}", L.esc(PROJECT_RULES[(j, n)])))
    body = "\n".join(f"{a} & {b} & {c} \\\\" for a, b, c in rows)
    return (r"\begin{longtable}{@{}p{3.2cm}p{7.4cm}p{5.6cm}@{}}"
            r"\caption{The rules here and their place in the original paper (by figure; no wording "
            r"is quoted).}\label{tab:rulemap}\\ \toprule judgment & rules here & original \\ "
            r"\midrule\endhead" "\n" + body + "\n" r"\bottomrule\end{longtable}" "\n")


# ----------------------------------------------------------------------------
# The primitive table, partials rendered by running each JVP rule


class _TexEmitter:
    """Runs a primitive's ``partials`` with LaTeX strings as values."""

    def __init__(self, env):
        self.env = dict(env)
        self.k = 0

    def _fresh(self, tex):
        self.k += 1
        n = f"%{self.k}"
        self.env[n] = tex
        return n

    def prim(self, op, *args):
        fmt = PRIMITIVES[op].latex
        return self._fresh("{" + fmt.format(*[_paren(self.env[a]) for a in args]) + "}")

    def lit(self, text):
        return self._fresh(text)

    def coeff(self, c):
        if c == ONE:
            return "1"
        if c == MINUS_ONE:
            return "-1"
        return self.env[c]


def _paren(tex: str) -> str:
    bare = tex.strip("{}")
    return tex if re.fullmatch(r"[A-Za-z0-9.]+", bare) else r"\left(" + tex + r"\right)"


def primitive_table() -> str:
    rows = []
    for name, p in PRIMITIVES.items():
        args = ["x", "y", "u"][:p.arity]
        em = _TexEmitter({a: a for a in args} | {"z": "z"})
        try:
            coeffs = [em.coeff(c) for c in p.partials(em, args, "z")]
            parts = ", ".join(r"\partial_{" + a + "} = " + c for a, c in zip(args, coeffs))
        except (KeyError, IndexError, ValueError) as e:
            parts = r"\text{(" + L.esc(type(e).__name__) + ")}"
        rows.append(r"\texttt{" + L.esc(name) + "} & $z = " + p.latex.format(*args) + "$ & $" + parts
                    + "$ & " + str(p.cost) + r" \\")
    return ("\\begin{longtable}{@{}lllr@{}}\\toprule\nprimitive & value & partials (from its JVP rule; "
            "$z$ is the result) & $W$ \\\\ \\midrule\\endhead\n" + "\n".join(rows)
            + "\n\\bottomrule\\end{longtable}\n")


# ----------------------------------------------------------------------------
# Sections


def sec_language() -> str:
    forms = [
        ("multi-value return", r"(\bar x \mathbin{;} \LAlin{\bar y})", "Ret"),
        ("multi-value let", r"\LAkw{let}\ (\bar x \mathbin{;} \LAlin{\bar y}) = e_1\ \LAkw{in}\ e_2", "Let"),
        ("literal", "c", "Lit"), ("primitive", r"\mathit{op}(\bar x)", "Prim"),
        ("linear zero", r"\LAkw{zero} : \sigma", "Zero"),
        ("linear addition", r"\LAlin{l}_1 \LAadd \LAlin{l}_2", "LAdd"),
        ("scaling", r"x \LAscale \LAlin{l}", "Scale"), ("fan-out", r"\LAkw{dup}(\LAlin{l})", "Dup"),
        ("discard", r"\LAkw{drop}(v)", "Drop"), ("non-linear tuple", r"(\bar x)", "NTup"),
        ("non-linear unpack", r"\LAkw{let}\ (\bar y) = x\ \LAkw{in}\ e", "NUnpack"),
        ("linear tuple", r"(\LAlin{\bar l})", "LTup"),
        ("linear unpack", r"\LAkw{let}\ (\LAlin{\bar k}) = \LAlin{l}\ \LAkw{in}\ e", "LUnpack"),
        ("call", r"f(\bar x \mathbin{;} \LAlin{\bar y})", "Call"),
        ("loop", r"\LAkw{loop}\ [\LAkw{reverse}]\ N\ f(\bar x \mathbin{;} \LAlin{\bar y})\ "
                 r"[\LAkw{over}\ (\bar a)]", "Loop"),
    ]
    rows = "\n".join(f"{a} & ${L.notation(b)}$ & \\LArule{{{c}}} \\\\" for a, b, c in forms)
    return (r"\section{The language Linear A}\label{sec:language}" "\n"
            + rule_map_table() +
            r"Types are $\tau, \sigma ::= \LAreal \mid (\tau_1, \ldots, \tau_n) \mid [\tau; N]$ (arrays, "
            r"non-linear only: a loop stacks into them and reads them), with size "
            r"$\|\LAreal\| = 1$, $\|(\LAseq\tau)\| = \sum_i \|\tau_i\|$, $\|[\tau; N]\| = N\|\tau\|$.  Variables are non-linear "
            r"($x$) or linear ($\LAlin{x}$, dotted: a tangent; a cotangent, a linear variable of a "
            r"transposed function, is barred, $\LAcot{x}$); the class is fixed by the binder.  Programs are in A-normal form: arguments are variables." "\n\n"
            r"\begin{longtable}{@{}lll@{}}\toprule form & syntax & rule \\ \midrule\endhead" "\n"
            + rows + "\n" r"\bottomrule\end{longtable}" "\n"
            r"Linear variables are used exactly once and non-linear ones at least once (an unused "
            r"one needs \textsf{drop}); environments are exactly the free variables (the judgment is "
            r"algorithmic).  No rule produces a non-linear output from a linear input." "\n\n"
            + rules_figure("typing")
            + r"\subsection{Primitives}" "\n"
            r"One table entry per primitive.  The partial derivatives below are not written by hand "
            r"for this document: they are what each primitive's JVP rule emits, rendered." "\n\n"
            + primitive_table())


def sec_cost() -> str:
    c = DEFAULT_COSTS
    rows = [("Ret, Let, tuples, unpacks, drop of a non-linear variable", "0"),
            ("literal", str(c.lit)), (r"primitive $\mathit{op}$", r"$\mathrm{cost}(\mathit{op})$ (default 1)"),
            (r"$\LAkw{zero} : \sigma$ / $\LAkw{drop}(\LAlin{l} : \sigma)$",
             f"${c.zero}\\cdot\\|\\sigma\\|$ / ${c.drop}\\cdot\\|\\sigma\\|$"),
            (r"$\LAlin{l}_1 \LAadd \LAlin{l}_2$ / $\LAkw{dup}(\LAlin{l})$",
             f"${c.add}\\cdot\\|\\sigma\\|$ / ${c.dup}\\cdot\\|\\sigma\\|$"),
            (r"$x \LAscale \LAlin{l}$", f"${c.scale}\\cdot\\|\\sigma\\|$"), ("call", "$W$(body)"),
            (r"$\LAkw{loop}\ N\ f$", f"$N\\cdot(W(f) + {c.loop})$")]
    table = "\n".join(f"{a} & {b} \\\\" for a, b in rows)
    return (r"\section{Cost model}" "\n"
            r"Evaluation is big-step, call-by-value, over one evaluator and several number domains "
            r"(floats, sympy, z3).  Work $W$ is charged per form (every entry configurable); the "
            r"linear forms and their transposes cost the same ($+.\leftrightarrow$ dup, "
            r"zero $\leftrightarrow$ drop), so transposition can conserve work exactly.  Memory $M$ is "
            r"the peak summed size of live values; size $|e|$ counts AST nodes and variable occurrences." "\n\n"
            r"\begin{longtable}{@{}p{9cm}l@{}}\toprule form & work $W$ (default table) \\ \midrule\endhead" "\n"
            + table + "\n" r"\bottomrule\end{longtable}" "\n")


def sec_transforms() -> str:
    out = [r"\section{The three transformations}",
           r"Reverse mode is obtained as JVP, then unzip, then transposition.  The figures below are "
           r"the rules the implementation runs, typeset from the same rule objects; the worked "
           r"examples (Section~\ref{sec:examples}) show each rule applied."]
    for j in TRANSFORM_JUDGMENTS:
        out.append(rules_figure(j))
    out.append(loop_rules_figure())
    return "\n".join(out) + "\n"


def sec_theorems() -> str:
    try:
        from linear_a.proofs.theorems import THEOREMS
    except ImportError:
        THEOREMS = None
    out = [r"\section{Theorems}",
           r"The project states and checks the following properties (its own restatements of the "
           r"paper's claims; the paper's numbering and constants are not reproduced).  Each bound's "
           r"constants are derived from the cost table, not chosen."]
    if THEOREMS is None:
        out.append(r"\emph{(The theorem registry \texttt{proofs.theorems} is not installed.)}")
        return "\n".join(out) + "\n"
    out.append(r"\begin{longtable}{@{}p{3cm}p{13.4cm}@{}}\toprule theorem & statement \\ \midrule\endhead")
    for t in THEOREMS.values():
        out.append(r"\textsf{" + L.esc(t.id) + "} & " + L.esc(t.title) + r".\newline \LAfit{$" + L.notation(t.latex)
                   + r"$}\newline{\footnotesize " + L.esc(t.statement) + r"} \\[3pt]")
    out.append(r"\bottomrule\end{longtable}")
    out.append(_constants_table())
    return "\n".join(out) + "\n"


def _constants_table() -> str:
    try:
        from linear_a.proofs.theorems import constants
        cs = constants()
    except Exception as e:   # noqa: BLE001 -- the proofs layer may be absent or incomplete
        return (r"\paragraph{Constants.} \emph{Not available in this build (" + L.esc(type(e).__name__)
                + r"); run \texttt{linear-a check} for the derived constants.}" "\n")
    rows = []
    for name, v in cs.items():
        val, how = (v if isinstance(v, tuple) and len(v) == 2 else (v, ""))
        rows.append(r"$" + _const_tex(name) + "$ & " + L.esc(val) + " & {\\footnotesize " + L.esc(how) + r"} \\")
    return (r"\paragraph{Constants, derived from the default cost table.}" "\n"
            r"\begin{longtable}{@{}lrp{13cm}@{}}\toprule constant & value & derivation \\ \midrule\endhead" "\n"
            + "\n".join(rows) + "\n" r"\bottomrule\end{longtable}" "\n")


def _const_tex(name: str) -> str:
    if "_" in name:
        a, b = name.split("_", 1)
        return a + "_{" + b + "}"
    return name


# ----------------------------------------------------------------------------
# Worked examples

WORKED = [
    # (file, function, arguments, title, full: show every stage's trace)
    ("seed.la", "f", {"x1": 2, "x2": 5}, r"The seed article's example: $\ln x_1 + x_1 x_2 - \sin x_2$ at $(2, 5)$", True),
    ("pottier.la", "f", {"x0": 3, "x1": 0.5}, r"Pottier's $x_0 \cos x_1 + x_0$ at $(3, 0.5)$", True),
    ("square.la", None, None, r"$x \cdot x$: JVP must \textsf{dup} the tangent", False),
    ("pythagoras.la", None, None, r"$(\sin x)^2 + (\cos x)^2$: the tangent is exactly zero", False),
    ("matvec.la", "specific", {"v": [2, 3]}, r"The authors' \textsf{matvec2x2}: $a_1 a_2$ with $(a_1, a_2) = M v$ at $v = (2, 3)$", True),
    ("linear.la", "g", {"x": 3, "dx": 1, "dy": 2}, "Hand-written linear code: every linear form", True),
    ("chain.la", "f", {"x": 0.5, "w": 1.5}, r"A chain $w \sin(w \sin(w \sin x))$: checkpointing", False),
    ("rnn.la", "rnn", {"h0": 0, "w": 0.9, "u": 0.5, "b": -0.1, "v": 1.3},
     r"A recurrent cell: $h \leftarrow \tanh(w h + u \sin(0.1 i) + b)$, a loop of 100 steps, never unrolled",
     True),
]


def _example_args(prog: Program, fn, args):
    if fn is not None:
        return fn, args
    d = prog.defs[-1]
    return d.name, {p.name: 0.7 for p in d.nl_params}


def worked_example(file: str, fn, args, title: str, full: bool) -> str:
    from linear_a.transforms.compose import grad
    from linear_a.transforms.oracle import oracle_grad
    from .pipeline import run_stages
    path = EXAMPLES_DIR / file
    prog = parse_program(path.read_text(encoding="utf-8"), f"examples/{file}")
    fn, args = _example_args(prog, fn, args)
    d = prog[fn]
    out = [r"\subsection{" + title + "}", r"\texttt{examples/" + L.esc(file) + "}, function \\textsf{"
           + L.esc(fn) + "} at $" + ", ".join(L.var(k) + " = " + L.esc(json.dumps(v)) for k, v in args.items())
           + "$.", L.program_block(prog)]
    trees, _ = typing_trees(prog, names=None if full else [fn])
    out.append(r"\subsubsection*{Typing derivation}" + "\n" + trees)
    out.append(r"\subsubsection*{Evaluation}" + "\n" + eval_tables(prog, fn, args))
    stages = run_stages(prog, fn)
    for key, label in (("jvp", "JVP"), ("unzip", "Unzip"), ("transpose", "Transposition")):
        s = stages.get(key)
        if s is None:
            continue
        shown = Program([x for x in s.prog_out.defs if x.name in s.targets], prog.file)
        out.append(r"\subsubsection*{" + label + r": \textsf{" + L.esc(s.source) + r"} $\leadsto$ "
                   + ", ".join(r"\textsf{" + L.esc(t) + "}" for t in s.targets) + "}")
        out.append(L.program_block(shown))
        if full:
            out.append(transform_trace(s.derivation, f"{label} trace of {s.source}",
                                       names=_trace_names(s)))
    if d.is_nonlinear and len(d.nl_out) == 1:
        r = grad(prog, fn, args)
        o = oracle_grad(prog, fn, args)
        rows = "\n".join("$" + L.var(p.name) + "$ & $" + _tex_val(r.gradient[p.name]) + "$ & $"
                         + _tex_val(o[p.name]) + r"$ \\" for p in d.nl_params)
        out.append(r"\paragraph{The gradient.}  Running \textsf{" + L.esc(fn) + r"\_jvp\_nl} and then "
                   r"\textsf{" + L.esc(fn) + r"\_jvp\_lin\_T} with $\bar y = 1$ (work $W = " + str(r.work)
                   + r"$, peak memory $M = " + str(r.memory) + r"$), against the independent tape-based "
                   r"oracle:" "\n\n" r"\begin{tabular}{@{}lrr@{}}\toprule input & vjp & oracle \\ \midrule"
                   + "\n" + rows + "\n" r"\bottomrule\end{tabular}" "\n")
    if file == "chain.la":
        out.append(_checkpoint_table(prog, fn, args))
    return "\n".join(out) + "\n"


def _trace_names(stage) -> set:
    return {stage.source} | call_closure({d.name: d for d in stage.prog_in.defs}, [stage.source])


def _tex_val(v) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(_tex_val(x) for x in v) + ")"
    return L.num(v)


def _checkpoint_table(prog, fn, args) -> str:
    from .teach import checkpoint_rows
    rows = checkpoint_rows(prog, fn, args)
    body = "\n".join(L.esc(a) + f" & {b} & {c} & " + L.esc(w) + " & " + L.esc(g) + r" \\"
                     for a, b, c, g, w in rows)
    return (r"\paragraph{Checkpointing.}  Work, peak memory and $|w|$ (the reals stored between "
            r"the two halves) of the gradient program under two unzip policies: saving every "
            r"residual, or recomputing the non-linear code inside the linear half.  The derivative "
            r"is the same; only $W$, $M$ and $|w|$ move." "\n\n"
            r"\begin{tabular}{@{}lrrrl@{}}\toprule policy & $W$ & $M$ & $|w|$ & gradient \\ \midrule"
            "\n" + body
            + "\n" r"\bottomrule\end{tabular}" "\n")


def sec_examples(quick: bool = False) -> str:
    out = [r"\section{Worked examples}\label{sec:examples}",
           r"Each example goes through every stage: its typing derivation (split per \textsf{let}), "
           r"its evaluation (primal, tangent and adjoint traces, as in the seed article), and the "
           r"three transformations with the program each produces and, for the main examples, the "
           r"rule applied at every step."]
    for file, fn, args, title, full in (WORKED[:1] if quick else WORKED):
        try:
            out.append(worked_example(file, fn, args, title, full))
        except (OSError, LinearAError) as e:
            out.append(r"\subsection{" + title + r"}\emph{Not available: " + L.esc(str(e)) + "}\n")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------
# Theorem-check results

STATUSES = ("proved", "checked", "refuted", "unknown")


def normalize_checks(data, source: str) -> dict:
    """The check results in one shape: {"by_theorem": {id: {status: n}},
    "records": [...], "meta": {...}, "source": str}, from the runner's JSON
    (``{"results": [...], "summary": {...}}``) or a bare list of records."""
    records = []
    summary = {}
    if isinstance(data, dict):
        records = data.get("results") or data.get("checks") or []
        summary = data.get("summary") if isinstance(data.get("summary"), dict) else {}
    elif isinstance(data, list):
        records = data
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputError(f"{source}: expected check records (a list of objects, or the JSON of "
                         f"`linear-a check --json`)")
    by = summary.get("by_theorem") if isinstance(summary.get("by_theorem"), dict) else None
    if by is None:
        by = {}
        for r in records:
            t = str(r.get("theorem", r.get("id", "?")))
            st = str(r.get("status", "unknown"))
            by.setdefault(t, {k: 0 for k in STATUSES})
            by[t][st] = by[t].get(st, 0) + 1
    meta = {k: summary[k] for k in ("checks", "programs", "rule_obligations", "seconds", "seed")
            if k in summary}
    return {"by_theorem": by, "records": records, "meta": meta, "source": source}


def load_check_results(path) -> dict:
    """Check results from a JSON file written by ``linear-a check --json``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"cannot read check results {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path} is not JSON ({e.msg}, line {e.lineno})") from None
    return normalize_checks(data, f"the file {Path(path).name}")


def run_checks() -> dict | None:
    """Run the theorem-check runner on the built-in corpus and the per-rule
    obligations (no random programs, to keep the build short)."""
    try:
        from linear_a.proofs.runner import run_suite
    except ImportError:
        return None
    try:
        report = run_suite(random_n=0)
    except Exception as e:  # noqa: BLE001 -- shown in the document, never hidden
        return {"error": f"{type(e).__name__}: {e}"}
    return normalize_checks(report.as_json(), "the built-in corpus and the per-rule obligations, "
                                              "checked while building this document")


def sec_checks(checks) -> str:
    out = [r"\section{Theorem checks}",
           r"The theorems are checked by \texttt{linear-a check} at two levels: per rule for all "
           r"programs (an SMT obligation for the inductive step of each rule), and per program on the "
           r"built-in corpus and on random well-typed programs.  A check reports \emph{proved}, "
           r"\emph{checked} (at sampled points only), \emph{refuted} (with a counterexample) or "
           r"\emph{unknown} -- never a silent pass."]
    if not checks:
        out.append(r"\emph{No check results are included in this build.  Run} \texttt{linear-a check "
                   r"--json > checks.json} \emph{and rebuild with} \texttt{linear-a paper --out DIR "
                   r"--check-results checks.json}.")
        return "\n".join(out) + "\n"
    if "error" in checks:
        out.append(r"\textbf{The theorem checks failed to run while building this document:} "
                   + L.esc(_short(checks["error"])) + r".  Run \texttt{linear-a check} for details.")
        return "\n".join(out) + "\n"
    by, meta = checks["by_theorem"], checks["meta"]
    desc = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in meta.items() if k in ("checks", "programs",
                                                                                   "rule_obligations"))
    out.append(r"Results from " + L.esc(checks["source"]) + (f" ({L.esc(desc)}" if desc else "")
               + (f", {meta['seconds']} s" if "seconds" in meta else "") + (")" if desc else "") + ".")
    out.append(r"\begin{longtable}{@{}lrrrr@{}}\toprule theorem & proved & checked & refuted & unknown \\"
               r" \midrule\endhead")
    totals = {k: 0 for k in STATUSES}
    for t, counts in by.items():
        out.append(r"\textsf{" + L.esc(t) + "} & " + " & ".join(str(counts.get(k, 0)) for k in STATUSES)
                   + r" \\")
        for k in STATUSES:
            totals[k] += int(counts.get(k, 0))
    out.append(r"\midrule total & " + " & ".join(str(totals[k]) for k in STATUSES) + r" \\")
    out.append(r"\bottomrule\end{longtable}")
    bad = [r for r in checks["records"] if r.get("status") in ("refuted", "unknown")]
    if bad:
        out.append(r"\paragraph{Refuted and unknown results.}")
        out.append(r"\begin{longtable}{@{}p{3cm}p{3.2cm}p{1.6cm}p{8.2cm}@{}}\toprule theorem & program & "
                   r"status & detail \\ \midrule\endhead")
        for r in bad[:60]:
            out.append(" & ".join(L.esc(_short(r.get(k, ""))) for k in ("theorem", "program", "status", "detail"))
                       + r" \\")
        out.append(r"\bottomrule\end{longtable}")
    return "\n".join(out) + "\n"


def _short(v) -> str:
    s = str(v)
    return s if len(s) <= 120 else s[:117] + "..."


# ----------------------------------------------------------------------------


def document(check_records=None, quick: bool = False) -> dict[str, str]:
    """The files of the paper: {relative name: text}."""
    load_transforms()
    sections = {
        "sec-language.tex": sec_language(),
        "sec-cost.tex": sec_cost(),
        "sec-transforms.tex": sec_transforms(),
        "sec-theorems.tex": sec_theorems(),
        "sec-examples.tex": sec_examples(quick),
        "sec-checks.tex": sec_checks(check_records),
    }
    main = (preamble(r"Linear A: reverse mode as JVP, unzip and transpose\\[2pt]\large an executable "
                     r"account of \emph{You Only Linearize Once}")
            + "\\begin{document}\n\\maketitle\n"
            r"\begin{abstract}" "\n"
            r"This document is generated by \texttt{linear-a paper} from the reference implementation "
            r"of \emph{You Only Linearize Once: Tangents Transpose to Gradients} (Radul, Paszke, "
            r"Frostig, Johnson, Maclaurin, POPL 2023).  Reverse-mode automatic differentiation is "
            r"obtained as forward mode (JVP), then unzipping, then transposition, in the small linearly "
            r"typed language Linear A.  Every rule figure is typeset from the rule objects the code "
            r"runs, every derivation and trace is produced by the implementation, and every number is "
            r"computed.  Statements are the project's own restatements, not quotations of the paper."
            "\n" r"\end{abstract}" "\n"
            r"\paragraph{Notation.}  One notation throughout, in the rule figures, the programs and "
            r"the tables: a dot marks a tangent ($\LAlin{x}$, any linear variable; programs spell it "
            r"\texttt{dx}), a bar a cotangent ($\LAcot{x}$, the adjoint $\bar v$ of the tables; "
            r"programs spell it \texttt{ct\_x}, and \texttt{ct\_out} is $\LAcot{\mathit{out}}$, the "
            r"cotangent of the result), an arrow a sequence ($\LAseq{x} : \LAseq{\tau}$).  The "
            r"rules and their original figures: Table~\ref{tab:rulemap}." "\n"
            "\\tableofcontents\n"
            + "".join(f"\\input{{{n[:-4]}}}\n" for n in sections)
            + "\\end{document}\n")
    files = {"linear-a.tex": main, "linear-a.sty": sty_text()}
    files.update(sections)
    return files


def write_paper(out_dir, check_results=None, pdf: bool = True, quick: bool = False,
                checks: bool = True) -> dict:
    """Write the paper into ``out_dir`` and (if ``pdf``) build it.  The
    theorem-check table comes from ``check_results`` (a JSON file), else from
    running the checks (unless ``checks`` is False).  Returns the build result
    with the build time."""
    if pdf:
        require_tex()               # fail before the work, not after
    records = load_check_results(check_results) if check_results else run_checks() if checks else None
    t0 = time.perf_counter()
    files = document(records, quick)
    res = build(out_dir, "linear-a", files, pdf=pdf)
    res["seconds"] = time.perf_counter() - t0
    return res
