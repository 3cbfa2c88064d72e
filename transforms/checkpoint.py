"""Checkpoint policies: which non-linear bindings unzip saves, which it recomputes (SPEC §8).

Unzipping splits ``f`` into ``f_nl`` (the non-linear work, run first) and
``f_lin`` (the linear work, run later -- in reverse, once transposed).  Every
non-linear value the linear part reads must reach it.  For each *choice
point* -- a non-linear binding of the source program -- there are two ways:

* ``save``: the binding runs once, in ``f_nl``; those of its results the
  linear part reads are stored in the residual tuple ``w``.
* ``recompute``: the binding is (also) emitted in ``f_lin``, in front of the
  linear code that reads its results; its results are not stored, its inputs
  are (or are recomputed in turn).  For a call ``g(x̄ ; ȳ)`` this means
  ``f_lin`` calls ``g_nl(x̄)`` again right before ``g_lin``, so ``g``'s residual
  tuple is rebuilt instead of being stored in ``f``'s.

Every choice vector computes the same function; only work W and memory M
move (tested: ``tests/test_checkpoint.py``).

The API.  A :class:`ChoicePoint` names one binding: the definition, the kind
(``"let"`` for a literal/primitive/tuple/renaming let, ``"unpack"`` for a
non-linear unpack, ``"call"`` for a call), its non-linear binder names, the
callee, its position in the chain of choice points, and its source position.
A :class:`Policy` answers ``decide(point) -> "save" | "recompute"``.  Before
the decisions of one definition, unzip calls ``plan(fn, points)`` with all of
its choice points in program order, so a *schedule* (Revolve's binomial
checkpointing ``binomial:S``, a memory budget ``budget:M``) is a new Policy
subclass that plans globally and answers per point.  After the whole program,
``check(points)`` lets a policy reject names that match nothing.

Policies here: :class:`SaveAll` (the default), :class:`RecomputeAll`,
:class:`RecomputeNamed` (by binder name), :class:`PerCall` (by callee), and
:func:`policy_from_string` for the command line::

    save-all | recompute-all | recompute:v3,v7 | call:g=recompute,h=save

New string forms register with :func:`register_policy`.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

from linear_a.semantics.errors import Pos, TransformError

SAVE = "save"
RECOMPUTE = "recompute"
DECISIONS = (SAVE, RECOMPUTE)


class ChoicePoint(NamedTuple):
    """One non-linear binding unzip may save or recompute."""
    fn: str                    # the definition being unzipped
    kind: str                  # "let" | "unpack" | "call"
    binders: tuple             # its non-linear binder names (source names)
    callee: str | None = None  # for kind == "call"
    index: int = 0             # 0-based, among the choice points of ``fn``, program order
    pos: Pos | None = None

    def __str__(self):
        what = f"call of {self.callee}" if self.kind == "call" else self.kind
        return f"{self.fn}: {what} binding ({', '.join(self.binders)})"


class Policy:
    """Base class.  Subclasses override :meth:`decide` (and may override
    :meth:`plan` to see a definition's choice points first, and :meth:`check`)."""

    def plan(self, fn: str, points: list[ChoicePoint]) -> None:
        """Called once per definition, before its decisions, with its choice
        points in program order."""

    def decide(self, point: ChoicePoint) -> str:
        raise NotImplementedError

    def check(self, points: list[ChoicePoint]) -> None:
        """Called after the whole program with every choice point seen; raise
        :class:`TransformError` if the policy names things that do not exist."""

    def describe(self) -> str:
        return type(self).__name__


class SaveAll(Policy):
    """Save every non-linear value the linear part reads (no recomputation)."""

    def decide(self, point):
        return SAVE

    def describe(self):
        return "save-all"


class RecomputeAll(Policy):
    """Recompute every non-linear binding the linear part needs; the residual
    tuple then holds only the definition's inputs (the minimum memory, the
    maximum work)."""

    def decide(self, point):
        return RECOMPUTE

    def describe(self):
        return "recompute-all"


class RecomputeNamed(Policy):
    """Recompute the bindings that bind any of ``names`` (source binder names;
    for a call, the names of its non-linear results); save the rest."""

    def __init__(self, names):
        self.names = frozenset(names)
        if not self.names:
            raise TransformError("recompute: give at least one binder name, e.g. `recompute:v3,v7`",
                                 rule="Policy")

    def decide(self, point):
        return RECOMPUTE if any(b in self.names for b in point.binders) else SAVE

    def check(self, points):
        seen = {b for p in points for b in p.binders}
        missing = sorted(self.names - seen)
        if missing:
            avail = sorted(seen)
            shown = ", ".join(avail[:12]) + (", …" if len(avail) > 12 else "")
            raise TransformError(f"policy `{self.describe()}`: no non-linear binding is named "
                                 f"{', '.join(f'`{m}`' for m in missing)}", rule="Policy",
                                 hint=f"choice points bind: {shown or 'nothing'}")

    def describe(self):
        return "recompute:" + ",".join(sorted(self.names))


class PerCall(Policy):
    """A decision per callee, ``{"g": "recompute", "h": "save"}``; every other
    binding is saved.  A callee name matches the call's target or, for
    JVP output, the target without its ``_jvp`` suffix (so ``call:g=recompute``
    works on the linearization of a program that calls ``g``)."""

    def __init__(self, choices: dict):
        bad = {k: v for k, v in choices.items() if v not in DECISIONS}
        if bad:
            k, v = next(iter(bad.items()))
            raise TransformError(f"policy call:{k}={v}: the decision must be `save` or `recompute`",
                                 rule="Policy")
        self.choices = dict(choices)

    def _lookup(self, callee):
        if callee in self.choices:
            return self.choices[callee]
        if callee.endswith("_jvp"):
            return self.choices.get(callee[:-4])
        return None

    def decide(self, point):
        if point.kind != "call":
            return SAVE
        return self._lookup(point.callee) or SAVE

    def check(self, points):
        callees = {p.callee for p in points if p.kind == "call"}
        names = callees | {c[:-4] for c in callees if c.endswith("_jvp")}
        missing = sorted(set(self.choices) - names)
        if missing:
            raise TransformError(f"policy `{self.describe()}`: no call of "
                                 f"{', '.join(f'`{m}`' for m in missing)} is a choice point",
                                 rule="Policy",
                                 hint=f"calls in the program: {', '.join(sorted(callees)) or 'none'}")

    def describe(self):
        return "call:" + ",".join(f"{k}={v}" for k, v in sorted(self.choices.items()))


# ----------------------------------------------------------------------------
# The command-line syntax.

_FORMS: dict[str, tuple[Callable[[str], Policy], str]] = {}


def register_policy(head: str, parse: Callable[[str], Policy], syntax: str) -> None:
    """Add a string form ``head`` or ``head:ARG``; ``parse(ARG)`` builds the policy
    (ARG is "" for the bare form)."""
    _FORMS[head] = (parse, syntax)


def int_policy(make: Callable[[int], Policy], syntax: str, what: str) -> Callable[[str], Policy]:
    """The parser of a policy form ``head:N`` with an integer argument (every:K,
    binomial:S, budget:M): ``make(N)``, or a TransformError naming the form."""
    def parse(arg: str) -> Policy:
        try:
            n = int(arg)
        except ValueError:
            raise TransformError(f"{syntax} needs an integer {what}, got `{arg}`",
                                 rule="Policy") from None
        return make(n)
    return parse


def _no_arg(cls, head):
    def parse(arg):
        if arg:
            raise TransformError(f"policy `{head}` takes no argument (got `{head}:{arg}`)",
                                 rule="Policy")
        return cls()
    return parse


def _parse_named(arg: str) -> Policy:
    names = [n.strip() for n in arg.split(",") if n.strip()]
    return RecomputeNamed(names)


def _parse_calls(arg: str) -> Policy:
    choices = {}
    for part in filter(None, (p.strip() for p in arg.split(","))):
        callee, eq, decision = part.partition("=")
        if not eq or not callee.strip():
            raise TransformError(f"policy call:{arg}: expected `callee=save` or "
                                 f"`callee=recompute`, got `{part}`", rule="Policy")
        choices[callee.strip()] = decision.strip()
    if not choices:
        raise TransformError("policy `call:` needs at least one `callee=save|recompute`",
                             rule="Policy")
    return PerCall(choices)


register_policy("save-all", _no_arg(SaveAll, "save-all"), "save-all")
register_policy("recompute-all", _no_arg(RecomputeAll, "recompute-all"), "recompute-all")
register_policy("recompute", _parse_named, "recompute:NAME,NAME,…")
register_policy("call", _parse_calls, "call:CALLEE=save|recompute,…")


def policy_forms() -> list[str]:
    return [syntax for _, syntax in _FORMS.values()]


def policy_from_string(s: str) -> Policy:
    """``save-all``, ``recompute-all``, ``recompute:a,b``, ``call:g=recompute,h=save``."""
    text = (s or "").strip()
    head, _, arg = text.partition(":")
    form = _FORMS.get(head.strip())
    if form is None:
        raise TransformError(f"unknown checkpoint policy `{s}`", rule="Policy",
                             hint="valid policies: " + " | ".join(policy_forms()))
    return form[0](arg.strip())


def as_policy(p) -> Policy:
    """None → SaveAll(); a string → :func:`policy_from_string`; a Policy as is."""
    if p is None:
        return SaveAll()
    if isinstance(p, str):
        return policy_from_string(p)
    if isinstance(p, Policy):
        return p
    raise TransformError(f"not a checkpoint policy: {p!r}", rule="Policy",
                         hint="valid policies: " + " | ".join(policy_forms()))
