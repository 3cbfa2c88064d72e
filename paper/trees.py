r"""Typing derivation trees in LaTeX (mathpartir), split per ``let`` when wide.

A typing derivation (``linear_a.semantics.typecheck``) is rendered node by node as the
judgment ``Γ ; Δ ⊢ e : (τ̄ ; σ̄)``, with Γ and Δ the free non-linear and linear
variables of e (the judgment is algorithmic: these are exactly its
environments) and their types from the definition's variable table.

A let-chain is one n-ary ``Let`` node.  When the whole tree is narrow it is
drawn as one nested ``\inferrule``; otherwise each binding's derivation is
drawn on its own as 𝒟ᵢ and the ``Let`` node cites them by name -- the
"split per let" layout.  Chains longer than :data:`MAX_LETS` show their first
bindings and the tail, and say how many were elided (derivations of 10^5
lets are never rendered in full).

:func:`typing_trees` renders a whole program.  When the program is ill-typed
it renders every definition that checked, then the failing definition's
derivation up to the point of failure (the bindings that were checked), and
names the rule that failed -- read off the typing judgment's own record of
the chains it had open (``DefChecker.open``) when the rule failed.
"""
from __future__ import annotations

import re

from linear_a.semantics.derivation import Derivation
from linear_a.semantics.errors import LinearATypeError
from linear_a.semantics.primitives import PRIMITIVES
from linear_a.semantics.syntax import Block, Def, Let, LUnpack, NUnpack, Program, free_vars, leaf_uses
from linear_a.semantics.typecheck import DefChecker, resolve
from linear_a.semantics.errors import ScopeError

from . import latex as L

MAX_LETS = 30        # bindings of one chain drawn before eliding
WIDE = 72            # estimated characters that fit one line of a tree


def _plain_len(s: str) -> int:
    """Rough printed width of a LaTeX math string, in characters."""
    s = re.sub(r"\\(LAlin|LAcot|LAseq|LAkw|LAfn|mathit|mathsf|text|mathbin|dot|ddot)\b", "", s)
    s = re.sub(r"\\[A-Za-z]+", "x", s)
    return len(re.sub(r"[{}_ ]|\\,|\\ ", "", s))


class TreeWriter:
    """Renders the typing derivations of one definition."""

    def __init__(self, d: Def, env: dict, max_lets: int = MAX_LETS):
        self.d = d
        self.env = env            # name -> (linear?, type)
        self.cls = L.classes_of_def(d)
        self.max_lets = max_lets

    # -- judgments ------------------------------------------------------------
    def ctx(self, names) -> str:
        nl = [n for n in names if not self._lin(n)]
        lin = [n for n in names if self._lin(n)]

        def part(ns):
            if not ns:
                return r"\cdot"
            shown = ns if len(ns) <= L.MAX_ITEMS else ns[:L.MAX_ITEMS - 2] + ["…", ns[-1]]
            return ", ".join(r"\cdots" if n == "…" else L.var(n, self.cls(n)) + ":" + self._ty(n)
                             for n in shown)
        return part(nl) + r" \mathbin{;} " + part(lin)

    def _lin(self, n):
        e = self.env.get(n)
        return e[0] if e else self.cls(n) != L.NL

    def _ty(self, n):
        e = self.env.get(n)
        return L.ty(resolve(e[1])) if e else "?"

    def free(self, subject) -> list:
        t = type(subject)
        if t is Let:
            return free_vars(subject.rhs)
        if t in (NUnpack, LUnpack):
            return [subject.src]
        if t is Block:
            return free_vars(subject)
        seen, out = set(), []
        for v in leaf_uses(subject):
            if v not in seen:
                seen.add(v); out.append(v)
        return out

    def result(self, dv: Derivation) -> str:
        r = dv.result
        if isinstance(r, tuple) and len(r) == 2:
            return L.result_type(tuple(map(resolve, r[0])), tuple(map(resolve, r[1])))
        return r"\text{" + L.esc(str(r)) + "}"

    def judgment(self, dv: Derivation) -> str:
        s = dv.subject
        if type(s) is Let:
            e = L.leaf(s.rhs, self.cls) if type(s.rhs) is not Block else L.chain_inline(s.rhs, self.cls)
        elif type(s) in (NUnpack, LUnpack):
            e = L.bind(s, self.cls)
        elif type(s) is Block:
            e = L.chain_inline(s, self.cls)
        else:
            e = L.leaf(s, self.cls)
        return self.ctx(self.free(s)) + r" \vdash " + e + " : " + self.result(dv)

    # -- trees -------------------------------------------------------------------
    def rule_of(self, dv: Derivation) -> str:
        """The rule shown on a binding's tree: the rule of its right-hand side."""
        if type(dv.subject) is Let and dv.premises:
            return dv.premises[0].rule
        return dv.rule

    def width(self, dv: Derivation) -> int:
        own = _plain_len(self.judgment(dv))
        kids = self._kids(dv)
        if len(kids) > 8:
            return 10 ** 6
        return max(own, sum(self.width(k) + 4 for k in kids))

    def _kids(self, dv):
        # a binding node's premise is its right-hand side; show that directly
        if type(dv.subject) is Let and dv.premises:
            return self._kids(dv.premises[0])
        return list(dv.premises)

    def inline(self, dv: Derivation) -> str:
        kids = self._kids(dv)
        prem = r" \\ ".join(self.inline(k) for k in kids)
        return (r"\inferrule*[right=" + self.rule_of(dv) + "]{" + (prem or r"\ ") + "}{"
                + self.judgment(dv) + "}")

    def binding_label(self, dv: Derivation, label: str) -> str:
        s = dv.subject
        if type(s) is Let:
            names = [L.var(n, self.cls(n)) for n in s.nl + s.lin]
            return r"$\mathcal{D}_{" + label + r"}$ (binds $" + (", ".join(names) or r"\cdot") + "$)"
        if type(s) in (NUnpack, LUnpack):
            return r"$\mathcal{D}_{" + label + r"}$ (unpacks $" + L.var(s.src, self.cls(s.src)) + "$)"
        return r"$\mathcal{D}_{" + label + r"}$ (tail)"

    def chain(self, dv: Derivation, prefix: str, out: list[str]) -> str:
        """Emit the displays for a chain node (split per let); return the
        final Let tree."""
        binds, tail = dv.premises[:-1], dv.premises[-1:]
        shown = binds if len(binds) <= self.max_lets else binds[:self.max_lets]
        labels = []
        for i, b in enumerate(list(shown) + list(tail)):
            lab = (prefix + "." if prefix else "") + (str(i + 1) if i < len(shown) else "t")
            labels.append(lab)
            out.append(_item(self.binding_label(b, lab), self.display(b, lab, out)))
        if len(binds) > len(shown):
            out.append(r"\emph{(" + str(len(binds) - len(shown)) + r" further bindings elided: a chain of "
                       + str(len(binds)) + r" \textsf{let}s is not drawn in full.)}")
        refs = [r"\mathcal{D}_{" + lab + "}" for lab in labels]
        if len(binds) > len(shown):
            refs.insert(-1, r"\cdots")
        return (r"\inferrule*[right=Let]{" + r" \\ ".join(refs) + "}{" + self.judgment(dv) + "}")

    def display(self, dv: Derivation, label: str, out: list[str]) -> str:
        """A tree for dv: inline if narrow, otherwise split (sub-displays go to out first)."""
        node = dv.premises[0] if type(dv.subject) is Let and dv.premises else dv
        if type(node.subject) is Block and self.width(node) > WIDE:
            sub: list[str] = []
            tree = self.chain(node, label, sub)
            out.extend(sub)
            return tree
        return self.inline(dv)

    def def_tree(self, dv: Derivation) -> list[str]:
        """Displays for one Def derivation: split bindings, then the Def rule."""
        out: list[str] = []
        body = dv.premises[0]
        if type(body.subject) is Block and self.width(body) > WIDE:
            top = self.chain(body, "", out)
        else:
            top = self.inline(body)
        head = r"\Phi \vdash " + L.def_head(self.d, self.cls)
        if _plain_len(top) + _plain_len(head) < 2 * WIDE and len(top) < 400:
            out.append(_tree(r"\inferrule*[right=Def]{" + top + "}{" + head + "}"))
        else:
            out.append(_tree(top))
            out.append(_tree(r"\inferrule*[right=Def]{\text{the derivation above}}{" + head + "}"))
        return out


def _tree(s: str) -> str:
    return "\\begin{LAtree}\n\\LAfit{$" + s + "$}\n\\end{LAtree}\n"


def _item(label: str, tree: str) -> str:
    return "\\LAitem{" + label + "}{" + tree + "}\n"


# ----------------------------------------------------------------------------
# Partial derivations of ill-typed programs


class TypingFailure:
    """Where the typing judgment stopped: the definition, the error (with the
    rule that failed) and the partial derivation of the open chains."""

    def __init__(self, d: Def, error: LinearATypeError, checker: DefChecker):
        self.d = d
        self.error = error
        self.checker = checker

    @property
    def rule(self) -> str:
        return self.error.rule or "?"


def check_program(prog: Program):
    """Type each definition in order; return (def derivations, failure or None)."""
    phi, done = {}, []
    names = [d.name for d in prog.defs]
    for i, d in enumerate(prog.defs):
        ck = DefChecker(d, dict(phi), set(names[i + 1:]), prog.file)
        try:
            if d.name in PRIMITIVES or d.name in phi:
                raise ScopeError(f"`{d.name}` is a primitive or already defined", d.pos, rule="Def")
            done.append(ck.run())
        except LinearATypeError as e:
            return done, TypingFailure(d, e.located(prog.file), ck)
        phi[d.name] = d.signature
    return done, None


def failure_displays(f: TypingFailure) -> list[str]:
    """The failing definition's derivation up to the failing rule."""
    w = TreeWriter(f.d, f.checker.env)
    out: list[str] = [r"\noindent Checking $" + L.def_head(f.d, w.cls) + r"$:" + "\n"]
    for depth, (block, premises) in enumerate(f.checker.open):
        if depth:
            out.append(r"\noindent\emph{inside the right-hand side of the next binding:}" + "\n")
        for i, p in enumerate(premises[:MAX_LETS]):
            lab = f"{depth + 1}.{i + 1}" if depth else str(i + 1)
            out.append(_item(w.binding_label(p, lab), w.display(p, lab, out)))
        if len(premises) > MAX_LETS:
            out.append(r"\emph{(" + str(len(premises) - MAX_LETS) + " further checked bindings elided.)}\n")
    e = f.error
    where = f"line {e.pos[0]}, column {e.pos[1]}" if e.pos else "this definition"
    frag = _failing_fragment(f)
    out.append("\\begin{LAtree}\n\\LAfit{\\LAfailed{$\\inferrule*[right=" + f.rule + "]{\\text{\\LAfailed{premise fails}}}{"
               + frag + r"}$}}\end{LAtree}" + "\n")
    out.append(r"\noindent\LAfailed{\textbf{Rule \textsf{" + L.esc(f.rule) + "} failed} at " + L.esc(where)
               + ": " + L.esc(e.message) + (("; " + L.esc(e.hint)) if e.hint else "") + "}\n")
    return out


def _failing_fragment(f: TypingFailure) -> str:
    """The binding or leaf at the error's position (else the next unchecked one)."""
    cls = L.classes_of_def(f.d)
    pos = f.error.pos
    if f.checker.open:
        block, premises = f.checker.open[-1]
        k = len(premises)
        cand = list(block.binds) + [block.tail]
        for x in cand:
            if pos is not None and getattr(x, "pos", None) == pos:
                return L.fragment(x, cls)
        if k < len(cand):
            return L.fragment(cand[k], cls)
        return L.chain_inline(block, cls)
    return L.def_head(f.d, cls)


def typing_trees(prog: Program, names=None) -> tuple[str, TypingFailure | None]:
    """LaTeX for the typing derivations of ``prog`` (only the definitions in
    ``names`` if given), and the typing failure if the program is ill-typed."""
    done, failure = check_program(prog)
    parts = []
    for dv in done:
        d = dv.subject
        if names is not None and d.name not in names:
            continue
        parts.append(r"\par\medskip\noindent\textbf{Typing of \textsf{" + L.esc(d.name) + r"}}\par" + "\n")
        parts.extend(TreeWriter(d, dv.notes["env"]).def_tree(dv))
    if failure is not None:
        parts.append(r"\par\medskip\noindent\textbf{Typing of \textsf{" + L.esc(failure.d.name)
                     + r"} (fails)}\par" + "\n")
        parts.extend(failure_displays(failure))
    return "\n".join(parts), failure
