r"""Transformation traces and evaluation tables in LaTeX.

*Transformation traces.*  A JVP, unzip or transpose derivation is walked in
pre-order (iteratively) and every rule application becomes one row: the rule's
name, the input fragment it looked at (the node's subject) and, after
``⟼``, the output fragment it produced (the node's result).  Variables are
classed per definition -- the input fragment with the input definition's
classes, the output with the output definition's -- so tangents are dotted
and, in transposed code, cotangents double-dotted.  Long traces keep their
first :data:`MAX_ROWS` rows and say how many were elided.

*Evaluation tables* (SPEC §13): the primal trace (each binding, its
expression, its value and its work), and for a purely non-linear function the
tangent trace (one forward pass per chosen input) and the adjoint trace with
each adjoint written as the sum of its per-path contributions -- from
:mod:`linear_a.paper.evaltrace`.
"""
from __future__ import annotations

from linear_a.semantics.derivation import Derivation
from linear_a.semantics.evaluate import evaluate
from linear_a.semantics.syntax import Block, Def, Let, LUnpack, NUnpack, Program

from . import latex as L
from .evaltrace import Tape, tape

MAX_ROWS = 150


def _def_classes(prog: Program | None, name: str, cotangents=False):
    if prog is None:
        return L.Classes()
    d = prog.get(name)
    return L.classes_of_def(d, cotangents or None) if d is not None else L.Classes()


def _out_def_names(node: Derivation) -> list:
    r = node.result
    if isinstance(r, Def):
        return [r.name]
    if isinstance(r, (list, tuple)):
        return [x.name for x in r if isinstance(x, Def)]
    return []


def _classes_of(prog: Program | None, names) -> L.Classes:
    cls = None
    for n in names:
        c = _def_classes(prog, n)
        cls = c if cls is None else cls.merge(c)
    return cls or L.Classes()


def transform_rows(dv: Derivation, prog_out: Program | None = None, prog_in: Program | None = None,
                   names=None, max_rows: int = MAX_ROWS):
    """(depth, rule, input LaTeX, output LaTeX) per rule application, and the
    number of rows elided."""
    rows, elided = [], 0
    cls_in = cls_out = L.Classes()
    skip_depth = None
    prog_in = prog_in if prog_in is not None else (dv.subject if isinstance(dv.subject, Program) else None)
    prog_out = prog_out if prog_out is not None else (dv.result if isinstance(dv.result, Program) else None)
    for depth, node in dv.walk_depth():
        if skip_depth is not None:
            if depth > skip_depth:
                continue
            skip_depth = None
        if node.rule == "Program" and isinstance(node.subject, Program):
            continue
        if isinstance(node.subject, Def):
            if names is not None and node.subject.name not in names:
                skip_depth = depth
                continue
            cls_in = _def_classes(prog_in, node.subject.name)
            outs = _out_def_names(node)
            cls_out = _classes_of(prog_out, outs) if outs else cls_in
        if len(rows) >= max_rows:
            elided += 1
            continue
        chain = type(node.subject) is Block or isinstance(node.subject, Def)
        rows.append((depth, node.rule, L.fragment(node.subject, cls_in, 3 if chain else 8),
                     L.fragment(node.result, cls_out, 3 if chain else 8)))
    return rows, elided


def transform_trace(dv: Derivation, title: str, prog_out=None, prog_in=None, names=None,
                    max_rows: int = MAX_ROWS) -> str:
    """A longtable: one row per rule application (rule; input ⟼ output)."""
    rows, elided = transform_rows(dv, prog_out, prog_in, names, max_rows)
    out = [r"\begingroup\small", r"\begin{longtable}{@{}r@{\ }p{2.3cm}@{}p{14cm}@{}}",
           r"\multicolumn{3}{@{}l}{\textbf{" + L.esc(title) + r"}}\\ \toprule",
           r"\# & rule & input fragment $\LAto$ output fragment \\ \midrule \endhead"]
    for i, (depth, rule, a, b) in enumerate(rows, 1):
        indent = r"\hspace*{" + f"{min(depth, 6) * 0.25:.2f}" + "em}"
        out.append(f"{i} & {indent}" + r"\LArule{" + L.esc(rule) + r"} & \LAfit{$" + a
                   + r"$}\newline \LAfit{$\LAto\ " + b + r"$} \\[2pt]")
    if elided:
        out.append(r"\multicolumn{3}{@{}l}{\emph{(" + str(elided) + r" further rule applications elided.)}}\\")
    out.append(r"\bottomrule\end{longtable}\endgroup")
    return "\n".join(out) + "\n"


MAX_CHARS = 240


def plain_fragment(x, limit: int = 3) -> str:
    """The same fragments in concrete syntax, one line (for the terminal),
    at most :data:`MAX_CHARS` characters."""
    s = _plain(x, limit)
    return s if len(s) <= MAX_CHARS else s[:MAX_CHARS - 1] + "…"


def _plain(x, limit: int = 3) -> str:
    from linear_a.semantics.printer import show_bind_head, show_def_head, show_leaf
    if x is None:
        return "·"
    if isinstance(x, Program):
        return "program: " + ", ".join(d.name for d in x.defs)
    if isinstance(x, Def):
        return show_def_head(x)
    if type(x) in (Let, NUnpack, LUnpack):
        if type(x) is Let:
            rhs = x.rhs
            r = show_leaf(rhs) if type(rhs) is not Block else "let … in " + show_leaf(rhs.tail)
            return f"{show_bind_head(x)} {r}"
        return show_bind_head(x)
    if type(x) is Block:
        parts = [plain_fragment(b) + " in" for b in x.binds[:limit]]
        if len(x.binds) > limit:
            parts.append(f"… ({len(x.binds) - limit} more lets)")
        return " ".join(parts + [show_leaf(x.tail)])
    if isinstance(x, (list, tuple)):
        if x and all(type(b) in (Let, NUnpack, LUnpack) for b in x):
            parts = [plain_fragment(b) + " in" for b in x[:limit]]
            if len(x) > limit:
                parts.append(f"… ({len(x) - limit} more)")
            return " ".join(parts)
        if not x:
            return "□"
        return "(" + " ; ".join(plain_fragment(y, limit) for y in x) + ")"
    try:
        return show_leaf(x)
    except TypeError:
        return str(x)[:80]


def transform_text(dv: Derivation, names=None, max_rows: int = MAX_ROWS) -> str:
    """A transformation trace for the terminal: one rule application a line."""
    lines, n = [], 0
    skip = None
    for depth, node in dv.walk_depth():
        if skip is not None:
            if depth > skip:
                continue
            skip = None
        if node.rule == "Program" and isinstance(node.subject, Program):
            continue
        if isinstance(node.subject, Def) and names is not None and node.subject.name not in names:
            skip = depth
            continue
        n += 1
        if n <= max_rows:
            lines.append(f"{'  ' * depth}[{node.rule}] {plain_fragment(node.subject)}  ⟶  "
                         f"{plain_fragment(node.result)}")
    if n > max_rows:
        lines.append(f"… ({n - max_rows} further rule applications elided)")
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# Evaluation tables


def _vals(vs) -> str:
    return ", ".join(_val(v) for v in vs)


def _val(v) -> str:
    if isinstance(v, tuple):
        return "(" + _vals(v) + ")"
    return L.num(v)


def _work(node: Derivation) -> int:
    """W of an evaluation sub-derivation (a call's work is on the call node)."""
    w, stack = 0, [node]
    while stack:
        n = stack.pop()
        w += (n.notes or {}).get("work", 0)
        if n.rule != "Call":
            stack.extend(n.premises)
    return w


def primal_rows(prog: Program, fn: str, args, max_rows: int = MAX_ROWS):
    """(binding LaTeX, value LaTeX, work) for each binding of ``fn``'s body,
    from the evaluation derivation; the tail last."""
    res = evaluate(prog, fn, args, derive=True)
    d = prog[fn]
    cls = L.classes_of_def(d)
    body = res.derivation.premises[0]
    rows, elided = [], 0
    nodes = body.premises if type(body.subject) is Block else [body]
    for node in nodes:
        if len(rows) >= max_rows:
            elided += 1
            continue
        s = node.subject
        if type(s) in (Let, NUnpack, LUnpack):
            work = _work(node)
            nl, lin = node.result
            rows.append((L.bind(s, cls), _vals(tuple(nl) + tuple(lin)), work))
        else:
            nl, lin = node.result
            rows.append((L.leaf(s, cls), _vals(tuple(nl) + tuple(lin)), (node.notes or {}).get("work", 0)))
    return rows, elided, res


def primal_table(prog: Program, fn: str, args) -> str:
    rows, elided, res = primal_rows(prog, fn, args)
    out = [r"\begingroup\small\begin{longtable}{@{}p{11cm}rr@{}}",
           r"\multicolumn{3}{@{}l}{\textbf{Primal trace of \textsf{" + L.esc(fn) + r"}}}\\ \toprule",
           r"binding & value & $W$ \\ \midrule \endhead"]
    for b, v, w in rows:
        out.append(f"${b}$ & ${v}$ & {w} \\\\")
    if elided:
        out.append(r"\multicolumn{3}{@{}l}{\emph{(" + str(elided) + r" further bindings elided.)}}\\")
    out.append(r"\midrule \multicolumn{3}{@{}l}{total work $W = " + str(res.work) + r"$, peak memory $M = "
               + str(res.memory) + r"$, size $|e| = " + str(res.size) + r"$}\\")
    out.append(r"\bottomrule\end{longtable}\endgroup")
    return "\n".join(out) + "\n"


def _label_tex(label: str) -> str:
    if label.startswith("v") and label[1:].lstrip("-").isdigit():
        return "v_{" + label[1:] + "}"
    if "." in label:       # inside a call: g#k.v, the k-th call site of g
        site, _, v = label.rpartition(".")
        parts = []
        for call in site.split("."):
            fn, _, k = call.partition("#")
            parts.append(r"\mathsf{" + L.esc(fn) + "}_{" + k + "}")
        return "{.}".join(parts) + "{.}" + L.var(v)
    return L.var(label)


def _bar_tex(label: str) -> str:
    """The adjoint of an entry: the bar on the variable, not on a call-site prefix."""
    if "." in label:
        site, _, v = label.rpartition(".")
        pre = _label_tex(label)[:-len(L.var(v))]
        return pre + r"\bar{" + L.var(v) + "}"
    return r"\bar{" + _label_tex(label) + "}"


def adjoint_text(t: Tape, adj, contrib, i: int, tex: bool = True) -> str:
    """``v̄ = v̄(via a) + v̄(via b) = 0.5 + 5 = 5.5`` for entry i."""
    e = t.entries[i]
    terms = contrib[i]
    if tex:
        bar = _bar_tex(e.label)
        if len(terms) <= 1:
            return "$" + bar + " = " + L.num(adj[i]) + "$"
        via = " + ".join(bar + r"_{\text{via } " + _label_tex(t.entries[k].label) + "}" for k, _ in terms)
        nums = L.num(terms[0][1]) + "".join((" - " + L.num(-v)) if v < 0 else (" + " + L.num(v))
                                            for _, v in terms[1:])
        # separate math pieces, so a long sum may break at its "=" signs
        return "$" + bar + " = " + via + "$ $= " + nums + "$ $= " + L.num(adj[i]) + "$"
    raise NotImplementedError


def tape_tables(t: Tape, seed_input: int = 0) -> str:
    """Primal, tangent (ẋ of input ``seed_input`` = 1) and adjoint (ȳ = 1 on the
    first output) traces side by side, as in the article's table."""
    if not t.inputs or not t.outputs:
        return ""
    seed = t.inputs[seed_input]
    tan = t.tangent({seed: 1.0})
    adj, contrib = t.adjoint({t.outputs[0]: 1.0})
    n = len(t.entries)
    shown = list(range(min(n, MAX_ROWS)))
    seed_name = _label_tex(t.entries[seed].label)
    out = [r"\begingroup\small\begin{longtable}{@{}llrr>{\raggedright\arraybackslash}p{6.2cm}@{}}",
           r"\multicolumn{5}{@{}l}{\textbf{Primal, tangent ($\dot{" + seed_name + r"} = 1$) and adjoint "
           r"($" + _bar_tex(t.entries[t.outputs[0]].label) + r" = 1$) traces of \textsf{" + L.esc(t.fn) + r"}}}\\ \toprule",
           r"primal & & value & tangent & adjoint \\ \midrule \endhead"]
    for i in shown:
        e = t.entries[i]
        lab = _label_tex(e.label)
        expr = _entry_expr(t, e)
        out.append(f"${lab}$ & ${expr}$ & ${L.num(e.value)}$ & ${L.num(tan[i])}$ & "
                   + adjoint_text(t, adj, contrib, i) + r" \\")
    if n > len(shown):
        out.append(r"\multicolumn{5}{@{}l}{\emph{(" + str(n - len(shown)) + r" further entries elided.)}}\\")
    out.append(r"\bottomrule\end{longtable}\endgroup")
    return "\n".join(out) + "\n"


_TEX_OPS = {"+": "{0} + {1}", "-": "{0} - {1}", "*": r"{0} \cdot {1}", "/": r"{0} / {1}"}


def _entry_expr(t: Tape, e) -> str:
    if e.is_input:
        return "= " + L.var(e.name.replace("[", "_").replace("]", "")) if e.label != e.name else ""
    args = [_label_tex(t.entries[j].label) for j in e.inputs]
    node = e.node
    if node is not None and hasattr(node, "op"):
        from linear_a.semantics.primitives import PRIMITIVES
        fmt = _TEX_OPS.get(node.op) or PRIMITIVES[node.op].latex
        try:
            return "= " + fmt.format(*args)
        except (IndexError, KeyError):
            return "= " + L.fn(node.op) + "(" + ", ".join(args) + ")"
    return "= " + L.esc(e.expr)


def eval_tables(prog: Program, fn: str, args) -> str:
    """The primal trace, and for a purely non-linear function with real
    results the primal/tangent/adjoint table."""
    out = [primal_table(prog, fn, args)]
    d = prog[fn]
    from linear_a.proofs.loops import has_loops
    if d.is_nonlinear and not has_loops(prog):      # a loop's tables would unroll it
        t = tape(prog, fn, args)
        out.append(tape_tables(t))
    return "\n".join(out)
