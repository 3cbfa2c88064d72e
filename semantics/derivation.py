"""The one derivation type shared by every judgment (SPEC §1).

A :class:`Derivation` records that a rule was applied: the rule's name (``Let``,
``JPrim``, ``TDup`` …), which judgment it belongs to, the subject the rule
looked at, what the judgment concluded about it (a type, values, an output
expression …) and the premise derivations.  Typing, evaluation, JVP, unzip and
transposition all build these; the LaTeX renderer, the trace printer and the
proof checks consume them generically.

A let-chain ``let b1 in … let bn in t`` is stored as *one* node whose premises
are the n bindings' derivations followed by the tail's -- the n-ary reading of
n nested binary ``Let`` rules.  That keeps derivations of 10^6-let programs
flat, so nothing that walks them needs Python recursion on a chain's depth.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Iterator

JUDGMENTS = ("typing", "eval", "jvp", "unzip", "transpose", "program")


class Derivation:
    __slots__ = ("judgment", "rule", "subject", "result", "premises", "notes")

    def __init__(self, judgment: str, rule: str, subject: Any, result: Any = None,
                 premises: list["Derivation"] | tuple = (), notes: dict | None = None):
        self.judgment = judgment
        self.rule = rule
        self.subject = subject
        self.result = result
        self.premises = premises
        self.notes = notes

    def __repr__(self):
        return f"Derivation({self.judgment}:{self.rule}, {len(self.premises)} premises)"

    def walk(self) -> Iterator["Derivation"]:
        """Every node, pre-order, without recursion."""
        stack = [self]
        while stack:
            d = stack.pop()
            yield d
            stack.extend(reversed(d.premises))

    def walk_depth(self) -> Iterator[tuple[int, "Derivation"]]:
        stack = [(0, self)]
        while stack:
            k, d = stack.pop()
            yield k, d
            stack.extend((k + 1, p) for p in reversed(d.premises))

    def rules_used(self) -> Counter:
        return Counter(d.rule for d in self.walk())

    def count(self) -> int:
        return sum(1 for _ in self.walk())

    def render(self, conclusion: Callable[["Derivation"], str], limit: int | None = None) -> str:
        """An indented text tree, premises below their conclusion.  ``conclusion``
        turns a node into its one-line conclusion."""
        lines = []
        for k, d in self.walk_depth():
            if limit is not None and len(lines) >= limit:
                lines.append("  …")
                break
            lines.append(f"{'  ' * k}[{d.rule}] {conclusion(d)}")
        return "\n".join(lines)


def discard(_premise) -> None:
    """Stands for ``premises.append`` when a judgment runs with ``derive=False``:
    the rule still runs and returns its node, which is dropped at once."""
