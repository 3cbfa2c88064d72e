"""The project's exception hierarchy (SPEC §16).

Every failure a user can provoke is one of these, carries a source position
when there is one (and the typing rule whose side condition failed, where one
did), and renders as one readable line::

    examples/bad.la:4:11: type error (Let): linear variable `dx` is used twice ...

::

    LinearAError                  anything the user can cause         exit 1
    ├── ParseError                malformed text (what was expected)
    ├── LinearATypeError          a typing rule failed (``rule`` names it)
    │   └── ScopeError            unknown / unbound / shadowed names, calls
    ├── TransformError            a transformation's precondition failed
    ├── EvalError                 evaluation failed
    │   └── DomainError           a primitive outside its domain
    ├── ProofTimeout              a solver ran out of time: status *unknown*
    ├── InputError                a file cannot be read
    └── UsageError                wrong command line / API call         exit 2

The CLI (``linear_a.cli``) turns a :class:`LinearAError` into that line and
exit code 1 (2 for :class:`UsageError`); anything else escaping the
implementation is a bug and is reported as such (exit 3).
"""
from __future__ import annotations

import contextlib
import signal
import threading
import time


class Pos(tuple):
    """A source position ``(line, col)``, both 1-based."""

    __slots__ = ()

    def __new__(cls, line: int, col: int):
        return tuple.__new__(cls, (line, col))

    def __getnewargs__(self):
        return (self[0], self[1])

    line = property(lambda self: self[0])
    col = property(lambda self: self[1])

    def __repr__(self):
        return f"Pos({self[0]}, {self[1]})"


_LINE_BREAKS = str.maketrans({c: " " for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


def one_line(text: str) -> str:
    """``text`` with every line break turned into a space (messages are one line)."""
    return str(text).translate(_LINE_BREAKS)


class LinearAError(Exception):
    """Base class of every error this project reports to users.

    ``message`` says what is wrong, ``pos`` where (``Pos(line, col)`` or None),
    ``file`` in which file, ``rule`` which rule of a judgment failed (typing,
    JVP, unzip, transpose rule names), ``hint`` what to write instead."""

    kind = "error"

    def __init__(self, message: str, pos: Pos | None = None, *, file: str | None = None,
                 rule: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.file = file
        self.rule = rule
        self.hint = hint

    def __reduce__(self):
        # keep position, file, rule and hint across pickling (process pools, timeouts)
        return (_rebuild, (type(self), self.message, self.pos, self.file, self.rule, self.hint))

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
        return one_line(f"{self.location()}: {self.kind}{rule}: {self.message}{hint}")


def _rebuild(cls, message, pos, file, rule, hint):
    e = cls.__new__(cls)
    LinearAError.__init__(e, message, pos, file=file, rule=rule, hint=hint)
    return e


class ParseError(LinearAError):
    """Malformed program text: what was found, what was expected (also input
    that nests deeper than the implementation accepts)."""

    kind = "parse error"


class LinearATypeError(LinearAError):
    """A typing judgment failed; ``rule`` names the rule whose premise failed."""

    kind = "type error"


class ScopeError(LinearATypeError):
    """Unknown variable or function, forward or recursive call, shadowing."""

    kind = "scope error"


class TransformError(LinearAError):
    """A transformation was applied to a program it does not accept (JVP of
    code with linear inputs, transposition of code with non-linear outputs,
    an unknown checkpoint policy ...); ``rule`` names the transformation rule."""

    kind = "transform error"


class EvalError(LinearAError):
    """Evaluation failed: wrong arguments, or a primitive outside its domain."""

    kind = "evaluation error"


class DomainError(EvalError):
    """A primitive applied outside its domain (log of 0, division by zero,
    overflow ...): names the primitive, its argument values and the position."""

    kind = "domain error"


class ProofTimeout(LinearAError):
    """A solver (z3, sympy) ran out of time; the check's status is *unknown*."""

    kind = "timeout"


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str = "the check"):
    """Run the block under a wall-clock limit; past it, raise :class:`ProofTimeout`
    (whose status is *unknown*).  For pure-Python solvers such as sympy
    (``simplify`` can run for minutes); z3 has its own ``timeout`` parameter.

    Uses SIGALRM, so it limits only in the main thread on POSIX; elsewhere the
    block runs unlimited.  Nested limits keep the tighter one."""
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return
    outer, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer and outer <= seconds:          # an enclosing limit is tighter: it applies
        yield
        return

    def on_alarm(signum, frame):
        # Fire again soon: a solver that catches the exception and carries on
        # is interrupted again, so the block really ends.
        signal.setitimer(signal.ITIMER_REAL, 0.25)
        raise ProofTimeout(f"{what} did not finish within {seconds:g} s",
                           hint="its status is unknown, not proved")

    start = time.monotonic()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer:                           # re-arm the enclosing limit with what is left
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


class UsageError(LinearAError):
    """The command line or API was called wrongly (bad flag, bad --args)."""

    kind = "usage error"


class InputError(LinearAError):
    """A file cannot be read (missing, a directory, not UTF-8, binary, too big,
    wrong extension, empty)."""

    kind = "input error"


class TeXError(LinearAError):
    """TeX is missing, or a generated document failed to compile (``linear-a
    trace --pdf``, ``linear-a paper``)."""

    kind = "TeX error"
