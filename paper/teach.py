"""`linear-a teach`: the seed article's worked example, in the terminal.

For ``f(x1, x2) = ln(x1) + x1·x2 − sin(x2)`` at (2, 5) (SPEC §13) it prints

1. the **primal trace** (v₋₁ = x1 … v5 = v4 − v3 with their values),
2. the **tangent trace** for ẋ1 = 1, ẋ2 = 0 (forward mode, one pass),
3. the **adjoint trace** for ȳ = 1 (reverse mode, one pass), each input's
   adjoint as the sum of its per-path contributions
   (v̄₋₁ = v̄₋₁(via v1) + v̄₋₁(via v2) = 0.5 + 5 = 5.5),
4. the same function through JVP → unzip → transpose as Linear A, and the
   gradient the composed program computes, next to the adjoint trace's,
5. the Jacobian: forward mode yields a column per pass (n passes for n
   inputs), reverse mode a row per pass (m passes for m outputs).

Every number is computed from the program -- the traces by
:mod:`linear_a.paper.evaltrace` (the article's own method: local partials from the
primitive table, then forward and reverse accumulation), the Linear A column
by the transformations -- never written down here.  Other examples: Pottier's
``x0·cos(x1) + x0``, the authors' ``matvec2x2`` (gradient (77, 382)) and a
checkpointing example (W and M of the gradient program under save-all and
recompute-all), and ``loop``: a recurrent cell's loop through JVP, unzip
(its stacked residuals) and transposition (the reversed loop), in
:mod:`linear_a.paper.teach_loop`.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from linear_a.semantics.errors import InputError, UsageError
from linear_a.semantics.parser import parse_program
from linear_a.semantics.printer import show
from linear_a.semantics.syntax import Program

from .evaltrace import Tape, tape
from .latex import fmt_num

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


@dataclass
class Example:
    name: str
    file: str              # in examples/
    fn: str
    args: dict
    title: str
    checkpoint: bool = False
    notes: list = field(default_factory=list)
    loop: bool = False     # a loop walkthrough (paper/teach_loop.py), not the tape tables


EXAMPLES = {
    "seed": Example("seed", "seed.la", "f", {"x1": 2, "x2": 5},
                    "The seed article: f(x1, x2) = ln(x1) + x1·x2 − sin(x2) at (2, 5)"),
    "pottier": Example("pottier", "pottier.la", "f", {"x0": 3, "x1": 0.5},
                       "Pottier: f(x0, x1) = x0·cos(x1) + x0 at (3, 0.5) — x0 is used twice"),
    "matvec": Example("matvec", "matvec.la", "specific", {"v": [2, 3]},
                      "The authors' matvec2x2: specific(v) = a1·a2, (a1, a2) = M·v, at v = (2, 3)"),
    "checkpoint": Example("checkpoint", "chain_xw.la", "f", {"x": 0.5, "w": 1.1},
                          "Checkpointing: a chain of 20 steps xᵢ = w·sin(xᵢ₋₁) at (0.5, 1.1)",
                          checkpoint=True),
    "loop": Example("loop", "rnn.la", "rnn", {"h0": 0, "w": 0.9, "u": 0.5, "b": -0.1, "v": 1.3},
                    "Loops: a recurrent cell, h ← tanh(w·h + u·sin(0.1·i) + b) 100 times, "
                    "then (v·h − 0.5)²", loop=True),
}
ALIASES = {"matvec2x2": "matvec", "chain": "checkpoint", "x0*cos(x1)+x0": "pottier",
           "rnn": "loop", "loops": "loop"}

_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def sub_label(label: str) -> str:
    """``v-1`` → ``v₋₁`` (the article's names), other names unchanged."""
    if label.startswith("v") and label[1:].lstrip("-").isdigit():
        return "v" + label[1:].translate(_SUB)
    return label


def _accent(label: str, mark: str, word: str) -> str:
    """``v₋₁`` with a combining accent on its letter (v̄₋₁, v̇₋₁) when the name is
    one letter plus a subscript; otherwise ``bar name`` / ``dot name``."""
    s = sub_label(label)
    if len(s) == 1 or (s[0].isalpha() and all(c in "₀₁₂₃₄₅₆₇₈₉₋0123456789" for c in s[1:])):
        return s[0] + mark + s[1:]
    return f"{word} {s}"


def bar(label: str) -> str:
    return _accent(label, "\u0304", "bar")


def dot(label: str) -> str:
    return _accent(label, "\u0307", "dot")


def fmt(v: float) -> str:
    """3 decimals, trailing zeros dropped, true minus sign: 0.693, 10, −0.959."""
    return fmt_num(v, 3)


def load_example(name: str) -> tuple[Example, Program]:
    key = ALIASES.get(name, name)
    ex = EXAMPLES.get(key)
    if ex is None:
        raise UsageError(f"no teaching example `{name}` (examples: {', '.join(EXAMPLES)})")
    path = EXAMPLES_DIR / ex.file
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise InputError(f"the teaching example's program {path} is missing") from None
    return ex, parse_program(text, str(path))


# ----------------------------------------------------------------------------
# The traces as rows of text (used by the terminal tables and by the tests)


def _expr(t: Tape, i: int) -> str:
    """The operation of entry i over the article's names: ``ln v₋₁``, ``v₋₁·v₀``."""
    e = t.entries[i]
    if e.is_input:
        return e.name if e.label != e.name else "input"
    names = [sub_label(t.entries[j].label) for j in e.inputs]
    op = getattr(e.node, "op", None)
    if op is None:
        return e.expr
    if op in ("+", "-", "/") and len(names) == 2:
        return f"{names[0]} {'−' if op == '-' else op} {names[1]}"
    if op == "*":
        return f"{names[0]}·{names[1]}"
    if op == "log":
        return f"ln {names[0]}"
    if op == "neg":
        return f"−{names[0]}"
    if len(names) == 1:
        return f"{op} {names[0]}"
    return f"{op}({', '.join(names)})"


def primal_rows(t: Tape) -> list[tuple[str, str, str]]:
    return [(sub_label(e.label), _expr(t, i), fmt(e.value)) for i, e in enumerate(t.entries)]


def tangent_rows(t: Tape, seed_input: int = 0) -> list[tuple[str, str, str]]:
    """(v̇ᵢ, Σ ∂·v̇ⱼ with numbers, value) for the forward pass ẋ_seed = 1."""
    seed = t.inputs[seed_input]
    tan = t.tangent({seed: 1.0})
    rows = []
    for i, e in enumerate(t.entries):
        name = dot(e.label)
        if e.is_input:
            how = "seed" if i == seed else "—"
        elif not e.inputs:
            how = "constant"
        else:
            how = ""
            for j, p in zip(e.inputs, e.partials):
                term = f"{fmt(abs(p))}·{dot(t.entries[j].label)}"
                sign = ("−" if p < 0 else "") if not how else (" − " if p < 0 else " + ")
                how += sign + term
        rows.append((name, how, fmt(tan[i])))
    return rows


def _sum_text(terms) -> str:
    s = fmt(terms[0])
    for v in terms[1:]:
        s += f" − {fmt(-v)}" if v < 0 else f" + {fmt(v)}"
    return s


def adjoint_rows(t: Tape, output: int = 0) -> list[tuple[str, str, str]]:
    """Reverse order, as the sweep runs: (v̄ᵢ, per-path sum, value)."""
    adj, contrib = t.adjoint({t.outputs[output]: 1.0})
    rows = []
    for i in range(len(t.entries) - 1, -1, -1):
        e = t.entries[i]
        b = bar(e.label)
        terms = contrib[i]
        if not terms:
            how = f"seed {b} = 1" if i == t.outputs[output] else "unused"
        elif len(terms) == 1:
            k, v = terms[0]
            how = f"{b}(via {sub_label(t.entries[k].label)}) = {fmt(v)}"
        else:
            via = " + ".join(f"{b}(via {sub_label(t.entries[k].label)})" for k, _ in terms)
            how = f"{via} = {_sum_text([v for _, v in terms])}"
        rows.append((b, how, fmt(adj[i])))
    return rows


def summary_rows(t: Tape) -> list[tuple[str, str, str, str]]:
    """The article's table: primal | value | tangent (ẋ1 = 1) | adjoint (ȳ = 1)."""
    tan = t.tangent({t.inputs[0]: 1.0})
    adj, contrib = t.adjoint({t.outputs[0]: 1.0})
    rows = []
    for i, e in enumerate(t.entries):
        lab = sub_label(e.label)
        terms = [v for _, v in contrib[i]]
        a = f"{_sum_text(terms)} = {fmt(adj[i])}" if len(terms) > 1 else fmt(adj[i])
        rows.append((f"{lab} = {_expr(t, i)}" if not e.is_input else f"{lab} = {e.name}" if lab != e.name
                     else lab, fmt(e.value), fmt(tan[i]), a))
    return rows


# ----------------------------------------------------------------------------
# Rendering with rich


def _table(title, headers, rows, justify=None):
    from rich import box
    from rich.table import Table
    from rich.console import Group
    from rich.text import Text
    tb = Table(box=box.SIMPLE_HEAD)
    for k, h in enumerate(headers):
        tb.add_column(h, justify=(justify or {}).get(k, "left"), overflow="fold")
    for r in rows:
        tb.add_row(*r)
    return Group(Text("\n" + title, style="bold"), tb) if title else tb


def teach(name: str = "seed", console=None) -> None:
    """Print one teaching example to ``console`` (a rich Console)."""
    from rich.console import Console
    from rich.rule import Rule
    console = console or Console()
    ex, prog = load_example(name)
    if ex.loop:
        from .teach_loop import teach_loop
        console.print(Rule(ex.title))
        teach_loop(console, ex, prog)
        return
    t = tape(prog, ex.fn, ex.args)
    console.print(Rule(ex.title))
    console.print("The program (Linear A, one let per operation):\n")
    console.print(show(prog), markup=False, highlight=False, soft_wrap=True)
    n, m = len(t.inputs), len(t.outputs)

    console.print(_table("1. Primal trace (forward evaluation)", ["primal", "operation", "value"],
                         primal_rows(t), {2: "right"}))
    console.print(_table(f"2. Tangent trace: forward mode with {dot(t.entries[t.inputs[0]].label)} = 1, other inputs 0 "
                         f"(v̇ = Σ ∂v/∂u · u̇)", ["tangent", "from the local partials", "value"],
                         tangent_rows(t), {2: "right"}))
    seed_bar = bar(t.entries[t.outputs[0]].label)
    console.print(_table(f"3. Adjoint trace: reverse mode with {seed_bar} = 1, last operation first "
                         "(ū = Σ over the uses of u)", ["adjoint", "per-path contributions", "value"],
                         adjoint_rows(t), {2: "right"}))
    console.print(_table("The three traces side by side", ["primal", "value", f"tangent ({dot(t.entries[t.inputs[0]].label)} = 1)",
                                                           f"adjoint ({seed_bar} = 1)"],
                         summary_rows(t), {1: "right", 2: "right", 3: "right"}))
    _linear_a(console, ex, prog, t)
    _jacobian(console, t, n, m)
    if ex.checkpoint:
        _checkpointing(console, ex, prog)


def _linear_a(console, ex: Example, prog: Program, t: Tape):
    """The same function as Linear A through JVP → unzip → transpose."""
    try:
        from linear_a.transforms.compose import grad
        from .pipeline import run_stages
    except ImportError:
        console.print("[italic](the transformations are not available in this installation)[/italic]")
        return
    st = run_stages(prog, ex.fn)
    fn = ex.fn
    console.print("\n4. The same function in Linear A: reverse mode = JVP, then unzip, then transpose.\n")
    for key, title in (("jvp", f"JVP: {fn} ⇝ {fn}_jvp — primal and tangent together (tangents dx are linear)"),
                       ("unzip", f"Unzip: {fn}_jvp ⇝ {fn}_jvp_nl (non-linear, returns residuals w) "
                                 f"and {fn}_jvp_lin (linear in the tangents)"),
                       ("transpose", f"Transpose: {fn}_jvp_lin ⇝ {fn}_jvp_lin_T (cotangents ct_… flow backwards)")):
        s = st[key]
        shown = Program([d for d in s.prog_out.defs if d.name in s.targets], prog.file)
        console.print(f"[bold]{title}[/bold]")
        console.print(show(shown), markup=False, highlight=False, soft_wrap=True)
    r = grad(prog, fn, ex.args)
    d = prog[fn]
    flat = []
    for p in d.nl_params:
        v = r.gradient[p.name]
        flat.extend(v if isinstance(v, tuple) else [v])
    adj, _ = t.adjoint({t.outputs[0]: 1.0})
    rows = [(t.input_names[k], fmt(flat[k]), fmt(adj[i])) for k, i in enumerate(t.inputs)]
    console.print(_table(f"{fn}_jvp_nl then {fn}_jvp_lin_T at the point "
                         f"({bar(t.entries[t.outputs[0]].label)} = 1): the gradient, "
                         f"W = {r.work}, M = {r.memory}",
                         ["input", "Linear A (vjp)", "adjoint trace"], rows, {1: "right", 2: "right"}))


def _jacobian(console, t: Tape, n: int, m: int):
    J_f = t.jacobian_forward()
    J_r = t.jacobian_reverse()
    ins = ", ".join(t.input_names)
    console.print(f"\n5. The Jacobian J (m = {m} output{'s' * (m != 1)} × n = {n} inputs: {ins}).")
    for k in range(n):
        col = ", ".join(fmt(J_f[r][k]) for r in range(m))
        console.print(f"   forward pass {k + 1} ({dot(t.input_names[k])} = 1) gives column {k + 1}: ({col})")
    for r in range(m):
        row = ", ".join(fmt(v) for v in J_r[r])
        console.print(f"   reverse pass {r + 1} ({bar(t.entries[t.outputs[r]].label)} = 1) gives row {r + 1}: ({row})")
    console.print(f"   Forward mode yields one Jacobian column per pass: n = {n} passes for n inputs.\n"
                  f"   Reverse mode yields one row per pass: m = {m} pass{'es' * (m != 1)} for m outputs.\n"
                  f"   Choose reverse mode when m < n (a gradient: m = 1), forward mode when n < m.")


CHECKPOINT_POLICIES = ("save-all", "recompute-all", "every:4", "binomial:2")


def checkpoint_rows(prog: Program, fn: str, args,
                    policies=CHECKPOINT_POLICIES) -> list[tuple[str, int, int, str, str]]:
    """(policy, W, M, gradient, |w|) of the composed gradient program per policy;
    |w| is the number of reals stored between the two halves (the residuals)."""
    from linear_a.semantics.evaluate import evaluate
    from linear_a.semantics.syntax import size_of_type
    from linear_a.transforms.compose import grad, names_for, vjp_program
    base = evaluate(prog, fn, args)
    rows = [("f itself (no derivative)", base.work, base.memory, "—", "—")]
    for pol in policies:
        vp = vjp_program(prog, fn, pol)
        r = grad(prog, fn, args, policy=pol, program=vp)
        g = ", ".join(f"{k} = {fmt(v)}" for k, v in r.gradient.items())
        stored = size_of_type(vp.get(names_for(fn)[0]).nl_out[-1])
        rows.append((pol, r.work, r.memory, g, str(stored)))
    return rows


def _checkpointing(console, ex: Example, prog: Program):
    rows = checkpoint_rows(prog, ex.fn, ex.args)
    console.print(_table("6. Checkpointing: work W and peak memory M of the gradient program "
                         "(f_jvp_nl, then f_jvp_lin_T), and |w|, the reals stored between them",
                         ["unzip policy", "W", "M", "|w|", "gradient"],
                         [(a, str(b), str(c), w, d) for a, b, c, d, w in rows],
                         {1: "right", 2: "right", 3: "right"}))
    console.print(
        "   save-all stores every intermediate the linear half needs (largest |w|).\n"
        "   recompute-all stores only the inputs and recomputes the rest in the\n"
        "   linear half, each binding just before the first transposed binding\n"
        "   that reads it (the rule TSched).  Yet on a chain its M does not fall:\n"
        "   the adjoint needs the chain's values in reverse order, the first one\n"
        "   needed (the last step's) is reached only by recomputing the whole\n"
        "   chain, and every value on the way is read again later by its own\n"
        "   step's adjoint -- so all of them are live together, as many as\n"
        "   save-all stores.  every:K saves the state (x, w) every K steps and\n"
        "   recomputes each segment just before its own adjoint: one segment is\n"
        "   live besides the saved states.  binomial:S (Revolve) recomputes\n"
        "   segments more than once from at most S snapshots: the least memory,\n"
        "   paid for in work.  The gradient is the same under every policy;\n"
        "   `linear-a checkpoint FILE --fn F` prints such a table for any program.")


def render_text(name: str = "seed", width: int = 140) -> str:
    """The teaching output as plain text (no colours): for tests and docs."""
    from rich.console import Console
    buf = io.StringIO()
    teach(name, Console(file=buf, width=width, color_system=None, force_terminal=False,
                        highlight=False, emoji=False))
    return buf.getvalue()
