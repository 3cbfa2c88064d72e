"""The project's exception hierarchy (SPEC §16).

Every failure a user can provoke is one of these, carries a source position
when there is one, and renders as one readable line::

    examples/bad.la:4:11: type error (Let): linear variable `dx` is used twice ...

The CLI turns a :class:`LinearAError` into that line and exit code 1; anything
else escaping the implementation is a bug and is reported as such (exit 3).
"""
from __future__ import annotations


class Pos(tuple):
    """A source position ``(line, col)``, both 1-based."""

    __slots__ = ()

    def __new__(cls, line: int, col: int):
        return tuple.__new__(cls, (line, col))

    line = property(lambda self: self[0])
    col = property(lambda self: self[1])

    def __repr__(self):
        return f"Pos({self[0]}, {self[1]})"


class LinearAError(Exception):
    """Base class of every error this project reports to users."""

    kind = "error"

    def __init__(self, message: str, pos: Pos | None = None, *, file: str | None = None,
                 rule: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.file = file
        self.rule = rule
        self.hint = hint

    def located(self, file: str | None) -> "LinearAError":
        """Attach a file name (if none yet) and return self, for re-raising."""
        if self.file is None:
            self.file = file
        return self

    def location(self) -> str:
        where = self.file or "<input>"
        if self.pos is not None:
            where += f":{self.pos[0]}:{self.pos[1]}"
        return where

    def __str__(self) -> str:
        rule = f" ({self.rule})" if self.rule else ""
        hint = f"; {self.hint}" if self.hint else ""
        return f"{self.location()}: {self.kind}{rule}: {self.message}{hint}"


class ParseError(LinearAError):
    """Malformed program text: what was found, what was expected."""

    kind = "parse error"


class LinearATypeError(LinearAError):
    """A typing judgment failed; ``rule`` names the rule whose premise failed."""

    kind = "type error"


class ScopeError(LinearATypeError):
    """Unknown variable or function, forward or recursive call, shadowing."""

    kind = "scope error"


class TransformError(LinearAError):
    """A transformation was applied to a program it does not accept."""

    kind = "transform error"


class EvalError(LinearAError):
    """Evaluation failed: wrong arguments, or a primitive outside its domain."""

    kind = "evaluation error"


class DomainError(EvalError):
    """A primitive applied outside its domain (log of 0, division by zero ...)."""

    kind = "domain error"


class ProofTimeout(LinearAError):
    """A solver ran out of time; the check's status is *unknown*."""

    kind = "timeout"


class UsageError(LinearAError):
    """The command line or API was called wrongly (bad flag, bad --args)."""

    kind = "usage error"


class InputError(LinearAError):
    """A file cannot be read (missing, not UTF-8, wrong extension)."""

    kind = "input error"
