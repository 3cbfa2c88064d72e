"""The rule registry: every rule of every judgment, typeset.

A rule's implementation is decorated with :func:`rule`, which records its
premises and conclusion in LaTeX (and a one-line plain statement) and attaches
them to the function itself.  The paper's rule figures are generated from this
registry, so the document cannot disagree with the code that runs; a test
checks that every rule name a derivation can carry is registered here.

LaTeX conventions (macros defined in ``paper/linear-a.sty``): linear variables
carry a dot (``\\dot y``), cotangents two (``\\ddot y``), ``\\Gamma`` and
``\\Delta`` are the non-linear and linear environments.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    judgment: str             # "typing" | "eval" | "jvp" | "unzip" | "transpose"
    name: str                 # "Let", "JPrim", "TDup" …
    conclusion: str           # LaTeX
    premises: tuple = ()      # LaTeX, one string per premise
    text: str = ""            # the rule in one plain-text line


RULES: dict[tuple[str, str], Rule] = {}


def register(judgment: str, name: str, conclusion: str, premises=(), text: str = "") -> Rule:
    r = Rule(judgment, name, conclusion, tuple(premises), text)
    RULES[(judgment, name)] = r
    return r


def rule(judgment: str, name: str, conclusion: str, premises=(), text: str = ""):
    """Decorator: register the rule and attach it to its implementation as ``fn.rule``."""
    r = register(judgment, name, conclusion, premises, text)

    def deco(fn):
        fn.rule = r
        return fn
    return deco


def rules_of(judgment: str) -> list[Rule]:
    return [r for (j, _), r in RULES.items() if j == judgment]
