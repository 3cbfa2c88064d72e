r"""Compact traces and slides: ``linear-a trace --compact`` and ``--slides``.

The full trace (:mod:`linear_a.paper.trace`) draws every node of every
derivation; this one is meant to be read in a lecture.  The same derivations,
grouped so that each row is one binding of the input:

* **typing**: one row per binding: the rule (``Let·Prim``) and its judgment
  ``Γ ; Δ ⊢ e : (τ̄ ; σ̄)`` with Γ and Δ the variables e reads;
* **JVP**: one row per binding: ``JLet`` and its leaf rule merged
  (``JLet·JPrim``), the binding, then every binding the rule produced, one
  per line -- the ``dup``\ s that split a shared tangent included;
* **unzip**: one line per binding: where its parts went (``nl``: the
  non-linear half, ``lin``: the linear half);
* **transposition**: one row per linear binding, ``TLetLin`` and its leaf
  rule merged;
* **evaluation**: the primal/tangent/adjoint table at the point.

Every header is written in full (no parameter list is cut short), nothing is
scaled down, and a stage longer than :data:`MAX_ROWS` rows keeps its first
and last rows with the count of those elided between them -- never silently.
The output program of the last stage (the gradient program) is printed whole
(up to the same middle elision) in two columns.

The row model (:func:`stage_rows`) is shared by the ``article`` renderer
(:func:`compact_document`) and the ``beamer`` one (:func:`slides_document`:
one stage per frame, continued on further frames when it is long).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from linear_a.semantics.syntax import Block, Def, Let, LUnpack, NUnpack, Program, Ret, leaf_uses

from . import latex as L

MAX_ROWS = 60            # rows of one stage before the middle is elided
SLIDE_LINES = 13         # table lines on one slide (a 16:9 frame at 10pt)


@dataclass
class Row:
    rule: str                       # "JLet·JPrim"
    given: str                      # LaTeX (math) of the input binding
    made: list = field(default_factory=list)    # LaTeX (math) lines of what the rule produced
    inline: bool = False            # the one line of ``made`` follows the binding on its line

    @property
    def lines(self) -> int:
        return 1 if self.inline else 1 + len(self.made)


@dataclass
class Section:
    title: str                      # "JVP: f ⇝ f_jvp"
    heads: list                     # LaTeX (math) lines: full headers of the output definitions
    rows: list                      # Row, or an int (a count of elided rows)
    program: list = field(default_factory=list)   # LaTeX (math) lines of a program shown whole
    table: str = ""                 # a ready table (the evaluation stage)


# ----------------------------------------------------------------------------
# Pieces


def full_head(d: Def, cls=None) -> list[str]:
    """``def f(x₁ : ℝ, …)`` with every parameter, as breakable math pieces."""
    cls = cls or L.classes_of_def(d)
    ps = [L.var(p.name, cls(p.name)) + " : " + L.ty(p.ty) for p in d.nl_params]
    ls = [L.var(p.name, cls(p.name)) + " : " + L.ty(p.ty) for p in d.lin_params]
    pieces = []
    for i, p in enumerate(ps):
        pieces.append(p + ("," if i < len(ps) - 1 else r" \mathbin{;}"))
    if not ps:
        pieces.append(r"\mathbin{;}")
    for i, p in enumerate(ls):
        pieces.append(p + ("," if i < len(ls) - 1 else ""))
    pieces[0] = r"\LAkw{def}\ " + L.fn(d.name) + "(" + pieces[0]
    pieces.append(r") \to " + L.result_type(d.nl_out, d.lin_out))
    return pieces


def _pieces(pieces) -> str:
    """Math pieces joined so that TeX may break the line between them."""
    return " ".join("$" + p + "$" for p in pieces)


def _elide(rows: list, limit: int) -> list:
    """The first and last rows, with the count of the middle ones between."""
    if len(rows) <= limit:
        return rows
    k = limit // 2
    return rows[:k] + [len(rows) - 2 * k] + rows[-k:]


def _binds(x, cls) -> list[str]:
    if isinstance(x, (list, tuple)):
        return [L.bind(b, cls) if type(b) in (Let, NUnpack, LUnpack) else L.leaf(b, cls) for b in x]
    if type(x) is Block:
        return [L.bind(b, cls) for b in x.binds] + [L.leaf(x.tail, cls)]
    if x is None:
        return []
    return [L.leaf(x, cls)]


def _given(x, cls) -> str:
    return L.bind(x, cls) if type(x) in (Let, NUnpack, LUnpack) else L.leaf(x, cls)


def program_lines(d: Def, limit: int = 2 * MAX_ROWS) -> list[str]:
    """A definition whole (the middle elided past ``limit`` lets, with a count)."""
    cls = L.classes_of_def(d)
    body = d.body
    binds = list(body.binds) if type(body) is Block else []
    tail = body.tail if type(body) is Block else body
    lines = [L.bind(b, cls) + r"\ \LAkw{in}" for b in binds]
    lines = [x if isinstance(x, str) else r"\quad\cdots\ \text{(" + str(x) + r" lets elided)}"
             for x in _elide(lines, limit)]
    return lines + [L.leaf(tail, cls)]


# ----------------------------------------------------------------------------
# The stages as rows


def _defs(stg, names) -> list:
    """The definition nodes of a stage's derivation for the functions shown."""
    out = []
    for node in stg.derivation.premises:
        if isinstance(node.subject, Def) and node.subject.name in names:
            out.append(node)
    return out


def _chain(node):
    """The per-binding premises of a definition node's body."""
    body = node.premises[0] if node.premises else None
    if body is None:
        return []
    if node.rule == "TDef":             # transposition: the definition's premises are the bindings
        return list(node.premises)
    return list(body.premises) if type(body.subject) is Block else [body]


def jvp_rows(node, prog_in: Program, prog_out: Program) -> list[Row]:
    d_in = node.subject
    cls_in = L.classes_of_def(d_in)
    cls_out = L.classes_of_def(node.result)
    rows = []
    for p in _chain(node):
        rule = p.rule
        if type(p.subject) is Let and p.premises and type(p.subject.rhs) is not Block:
            rule = f"{p.rule}·{p.premises[0].rule}"
        rows.append(Row(rule, _given(p.subject, cls_in), _binds(p.result, cls_out)))
    return rows


def unzip_rows(node) -> list[Row]:
    d = node.subject
    cls = L.classes_of_def(d)
    rows = []
    for p in _chain(node):
        C, n, lin = p.result
        parts = []
        if C:
            parts.append(r"\mathit{nl}\colon\ " + r";\ ".join(_binds(C, cls)))
        if n is not None:
            parts.append(r"\mathit{nl\ returns}\colon\ " + L.leaf(n, cls))
        lin_lines = _binds(lin, cls) if isinstance(lin, (list, tuple)) else (
            [] if lin is None else _binds(lin, cls) if type(lin) is not Block else [L.leaf(lin.tail, cls)])
        if lin_lines:
            parts.append(r"\mathit{lin}\colon\ " + r";\ ".join(lin_lines))
        choice = (p.notes or {}).get("choice")
        if choice:
            parts.append(r"\text{[" + L.esc(choice) + "]}")
        rows.append(Row(p.rule, _given(p.subject, cls), [r"\quad ".join(parts) or r"\LAhole"], True))
    return rows


def transpose_rows(node) -> list[Row]:
    cls_in = L.classes_of_def(node.subject)
    cls_out = L.classes_of_def(node.result)
    rows = []
    for p in _chain(node):
        rule = p.rule
        if p.premises and p.rule == "TLetLin":
            rule = f"{p.rule}·{p.premises[0].rule}"
        rows.append(Row(rule, _given(p.subject, cls_in), _binds(p.result, cls_out)))
    return rows


def _ty(entry):
    """A typing environment's entry: (linear?, type) or the type."""
    return entry[1] if isinstance(entry, tuple) else entry


def typing_rows(prog: Program, names) -> list[tuple[Def, list[Row]]]:
    from .trees import check_program
    done, _ = check_program(prog)
    out = []
    for dv in done:
        d = dv.subject
        if d.name not in names:
            continue
        cls = L.classes_of_def(d)
        types = dict((dv.notes or {}).get("env", {}) or {})
        body = dv.premises[0] if dv.premises else None
        chain = list(body.premises) if body is not None and type(body.subject) is Block else [body]
        rows = []
        for p in chain:
            if p is None:
                continue
            s = p.subject
            leaf = p.premises[0] if type(s) is Let and p.premises else p
            e = leaf.subject
            rule = f"{p.rule}·{leaf.rule}" if leaf is not p else p.rule
            if type(e) in (NUnpack, LUnpack):          # Γ ; Δ ⊢ the unpack's source, its items bound
                reads = [e.src]
            else:
                reads = list(dict.fromkeys(leaf_uses(e))) if type(e) is not Block else []
            nl = [r for r in reads if cls(r) == L.NL]
            lin = [r for r in reads if cls(r) != L.NL]

            def env(vs):
                return ", ".join(L.var(v, cls(v)) + (" : " + L.ty(_ty(types[v])) if v in types else "")
                                 for v in vs) or r"\cdot"
            res = leaf.result
            shown = L.var(e.src, cls(e.src)) if type(e) in (NUnpack, LUnpack) else L.leaf(e, cls)
            judg = (env(nl) + r" \mathbin{;} " + env(lin) + r" \vdash " + shown + " : "
                    + (L.result_type(*res) if isinstance(res, tuple) and len(res) == 2 else r"\cdots"))
            rows.append(Row(rule, _given(s, cls), [judg], True))
        out.append((d, rows))
    return out


def stage_sections(prog: Program, fn: str, args=None, stage: str = "all", policy=None,
                   max_rows: int = MAX_ROWS) -> tuple[list[Section], object]:
    """The compact trace of ``fn`` as sections, and the typing failure (or None);
    variable lists and tuple types written out in full (up to 64 items)."""
    with L.full_lists():
        return _stage_sections(prog, fn, args, stage, policy, max_rows)


def _stage_sections(prog, fn, args, stage, policy, max_rows):
    from .trace import _stages, _transform_stages, callees
    from .trees import check_program
    names = callees(prog, fn)
    wanted = _stages(stage)
    sections = []
    _, failure = check_program(prog)
    if failure is not None:
        return sections, failure
    if "typing" in wanted:
        for d, rows in typing_rows(prog, set(names)):
            sections.append(Section(f"Typing: {d.name}", [full_head(d)], _elide(rows, max_rows)))
    last = None
    for s, stg, shown, shown_names in _transform_stages(prog, fn, wanted, None if policy is None else policy):
        for node in _defs(stg, shown_names):
            src = node.subject.name
            if s == "jvp":
                rows = jvp_rows(node, stg.prog_in, stg.prog_out)
                outs = [node.result]
                title = f"JVP: {src} ⇝ {node.result.name}"
            elif s == "unzip":
                rows = unzip_rows(node)
                outs = list(node.result)
                title = f"Unzip: {src} ⇝ {', '.join(o.name for o in outs)}"
            else:
                rows = transpose_rows(node)
                outs = [node.result]
                title = f"Transposition: {src} ⇝ {node.result.name}"
            sections.append(Section(title, [full_head(o) for o in outs], _elide(rows, max_rows)))
        last = (s, stg, shown)
    if last is not None and last[0] == "transpose":
        _, stg, shown = last
        final = [d for d in stg.prog_in.defs if d.name.endswith("_nl")] + list(shown.defs)
        lines = []
        for d in final:
            lines.append(_pieces(full_head(d)) + " $=$")
            lines.extend("$" + x + "$" for x in program_lines(d))
        sections.append(Section("The gradient program: " + ", ".join(d.name for d in final), [], [],
                                program=lines))
    if "eval" in wanted and args is not None:
        from .evaltrace import tape
        from .traces import eval_tables, tape_tables
        from linear_a.proofs.loops import has_loops
        d = prog[fn]
        table = (tape_tables(tape(prog, fn, args)) if d.is_nonlinear and not has_loops(prog)
                 else eval_tables(prog, fn, args))      # a loop's tape would unroll it
        sections.append(Section(f"Evaluation of {fn} at the point", [], [], table=table))
    return sections, None


# ----------------------------------------------------------------------------
# Rendering: an article


def _row_tex(i: int, r) -> str:
    if isinstance(r, int):
        return (r"\multicolumn{3}{@{}l}{\quad$\vdots$\ \emph{(" + str(r)
                + r" rows elided here, in the middle of this stage)}}\\")
    made = r"\newline ".join("$" + m + "$" for m in r.made) if r.made else r"$\LAhole$"
    sep = r" $\LAto$ " if r.inline else r" \newline $\LAto$ "
    return f"{i} & " + r"\LArule{" + L.esc(r.rule) + "} & $" + r.given + "$" + sep + made + r" \\[1pt]"


def _section_tex(sec: Section) -> str:
    out = [r"\subsection*{" + L.esc(sec.title) + "}"]
    for h in sec.heads:
        out.append(r"\noindent " + _pieces(h) + r"\par")
    if sec.rows:
        out.append(r"\begin{longtable}{@{}r@{\ \ }p{3.1cm}@{}p{13.9cm}@{}}\toprule"
                   r" \# & rule & binding $\LAto$ what the rule made \\ \midrule \endhead")
        i = 0
        for r in sec.rows:
            if not isinstance(r, int):
                i += 1
            else:
                i += r
            out.append(_row_tex(i, r))
        out.append(r"\bottomrule\end{longtable}")
    if sec.program:
        out.append(r"\begin{multicols}{2}\raggedright\noindent " + r"\\ ".join(sec.program)
                   + r"\end{multicols}")
    if sec.table:
        out.append(sec.table)
    return "\n".join(out)


def compact_document(prog: Program, fn: str, args=None, stage: str = "all", policy=None):
    """(LaTeX article, typing failure or None)."""
    from .build import standalone
    sections, failure = stage_sections(prog, fn, args, stage, policy)
    parts = [r"\section*{\textsf{" + L.esc(fn) + r"} in \texttt{" + L.esc(prog.file or "<input>")
             + r"}: a compact trace}",
             r"One row per binding; a dot marks a tangent, a bar a cotangent.  "
             r"$\mathit{nl}$ and $\mathit{lin}$ are the non-linear and linear halves of unzipping."]
    if failure is not None:
        parts.append(r"\emph{The program is ill-typed: rule \textsf{" + L.esc(failure.rule)
                     + r"} failed (run without --compact for the derivation up to the failure).}")
    parts += [_section_tex(s) for s in sections]
    doc = standalone("\n\n".join(parts))
    doc = doc.replace("\\usepackage[margin=2cm]{geometry}\n",
                      "\\usepackage[margin=1.6cm]{geometry}\n\\usepackage{multicol}\n", 1)
    return doc, failure


# ----------------------------------------------------------------------------
# Rendering: beamer slides, one stage per frame


def _frames(sec: Section) -> list[str]:
    title = L.esc(sec.title)
    head = "".join(r"\noindent " + _pieces(h) + r"\par " for h in sec.heads)
    frames = []
    if sec.rows:
        rows = []
        for r in sec.rows:            # a row taller than a frame goes on over the next frames
            if isinstance(r, int) or r.lines <= SLIDE_LINES:
                rows.append(r)
                continue
            step = SLIDE_LINES - 1
            for k in range(0, len(r.made), step):
                rows.append(Row(r.rule if k == 0 else r.rule + " (cont.)", r.given, r.made[k:k + step]))
        chunks, cur, n = [], [], 0
        for r in rows:
            k = 1 if isinstance(r, int) else r.lines
            if cur and n + k > SLIDE_LINES:
                chunks.append(cur)
                cur, n = [], 0
            cur.append(r)
            n += k
        if cur:
            chunks.append(cur)
        i = 0
        for c, chunk in enumerate(chunks):
            body = []
            for r in chunk:
                if isinstance(r, int):
                    i += r
                    body.append(r"\multicolumn{3}{l}{$\vdots$\ \emph{(" + str(r) + r" rows elided)}}\\")
                    continue
                i += 1
                made = r"\newline ".join("$" + m + "$" for m in r.made) if r.made else r"$\LAhole$"
                sep = r" $\LAto$ " if r.inline else r" $\LAto$\newline "
                body.append(f"{i} & " + r"\LArule{" + L.esc(r.rule) + r"} & \raggedright $"
                            + r.given + "$" + sep + made + r"\tabularnewline")
            cont = f" ({c + 1}/{len(chunks)})" if len(chunks) > 1 else ""
            frames.append(r"\begin{frame}[t]{" + title + cont + "}\n" + (head if c == 0 else "")
                          + r"\begin{tabular}{@{}r@{\ }l@{\ }p{10.4cm}@{}}" + "\n" + "\n".join(body)
                          + "\n" + r"\end{tabular}" + "\n" + r"\end{frame}")
    elif sec.program:
        lines = sec.program
        per = 2 * SLIDE_LINES
        chunks = [lines[i:i + per] for i in range(0, len(lines), per)] or [[]]
        for c, chunk in enumerate(chunks):
            cont = f" ({c + 1}/{len(chunks)})" if len(chunks) > 1 else ""
            frames.append(r"\begin{frame}[t]{" + title + cont + "}\n" + r"\begin{multicols}{2}\raggedright "
                          + r"\\ ".join(chunk) + r"\end{multicols}" + "\n" + r"\end{frame}")
    elif sec.table:
        # the evaluation table, its rows split over frames, its head on each
        lines = sec.table.replace("longtable", "tabular").replace(r"p{6.2cm}", r"p{5.4cm}").splitlines()
        k = next((i for i, x in enumerate(lines) if r"\endhead" in x), 0)
        end = next((i for i, x in enumerate(lines) if x.startswith(r"\bottomrule")), len(lines))
        head, rows, foot = lines[:k + 1], lines[k + 1:end], lines[end:]
        head = [x.replace(r"\endhead", "") for x in head]
        chunks = [rows[i:i + SLIDE_LINES] for i in range(0, len(rows), SLIDE_LINES)] or [[]]
        for c, chunk in enumerate(chunks):
            cont = f" ({c + 1}/{len(chunks)})" if len(chunks) > 1 else ""
            frames.append(r"\begin{frame}[t]{" + title + cont + "}\n" + "\n".join(head + chunk + foot)
                          + "\n" + r"\end{frame}")
    return frames


def slides_document(prog: Program, fn: str, args=None, stage: str = "all", policy=None):
    """(beamer LaTeX, typing failure or None): one stage per frame."""
    from .build import sty_text
    sections, failure = stage_sections(prog, fn, args, stage, policy)
    sty = sty_text().replace("\\NeedsTeXFormat{LaTeX2e}", "").replace(
        "\\ProvidesPackage{linear-a}[2026/11/23 Linear A typesetting]", "").replace("\\endinput", "")
    sty = sty.replace("\\RequirePackage", "\\usepackage").replace("\\usepackage{longtable,booktabs,array}",
                                                                  "\\usepackage{booktabs,array}")
    head = ("\\documentclass[aspectratio=169,10pt]{beamer}\n\\usepackage{multicol}\n"
            "\\setbeamertemplate{navigation symbols}{}\n\\makeatletter\n" + sty + "\\makeatother\n"
            "\\title{" + L.esc(fn) + r": JVP, unzip, transpose}" "\n"
            "\\subtitle{\\texttt{" + L.esc(prog.file or "<input>") + "}}\n\\date{}\n")
    frames = [r"\begin{frame}\titlepage" "\n" r"\small A dot marks a tangent, a bar a cotangent; one row "
              r"per binding: the rule, the binding, what the rule made.\end{frame}"]
    if failure is not None:
        frames.append(r"\begin{frame}{Ill-typed}The rule \textsf{" + L.esc(failure.rule)
                      + r"} failed.\end{frame}")
    for s in sections:
        frames.extend(_frames(s))
    return head + "\\begin{document}\n" + "\n\n".join(frames) + "\n\\end{document}\n", failure
