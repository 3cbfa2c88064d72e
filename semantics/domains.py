"""Number domains for the one evaluator (SPEC §4).

A domain says how to make a literal, and how each primitive computes (the
primitive table asks the domain for its own implementation by domain name).
Linear operations (+., *., zero) only use ``+``, ``*`` and ``const('0')``,
which floats, sympy expressions and z3 terms all provide.

* ``float`` – Python floats and ``math``.
* ``sympy`` – exact rationals and symbols: symbolic execution.
* ``z3``    – z3 real terms; transcendental primitives are uninterpreted
  functions, so identities proved there hold for *every* interpretation.
* ``cost``  – one number, ``•``, that every operation returns: a value is its
  shape and nothing else.  W and M depend on the program alone (no control
  flow), so running on ``•`` measures them; ``semantics/cost.py`` uses it to
  measure without running a loop's N iterations.
"""
from __future__ import annotations

from fractions import Fraction

from .errors import UsageError


class Domain:
    name = "?"

    def const(self, text: str):
        raise NotImplementedError

    def is_concrete(self, v) -> bool:
        """Is v a number (so domain checks such as log(x ≤ 0) apply)?"""
        return False

    def as_float(self, v) -> float:
        return float(v)


class FloatDomain(Domain):
    name = "float"

    def const(self, text):
        return float(text)

    def is_concrete(self, v):
        return True


class SympyDomain(Domain):
    name = "sympy"

    def __init__(self):
        import sympy
        self.sympy = sympy

    def const(self, text):
        return self.sympy.Rational(text)

    def is_concrete(self, v):
        return getattr(v, "is_number", False) and v.is_real is not False and not v.free_symbols

    def symbol(self, name):
        return self.sympy.Symbol(name, real=True)


class Z3Domain(Domain):
    name = "z3"

    def __init__(self):
        import z3
        self.z3 = z3
        self._fns = {}

    def const(self, text):
        f = Fraction(text)
        return self.z3.RealVal(f"{f.numerator}/{f.denominator}") if f.denominator != 1 \
            else self.z3.RealVal(f.numerator)

    def function(self, name: str, arity: int):
        """The uninterpreted function standing for a transcendental primitive."""
        key = (name, arity)
        if key not in self._fns:
            z3 = self.z3
            self._fns[key] = z3.Function(name, *([z3.RealSort()] * (arity + 1)))
        return self._fns[key]

    def symbol(self, name):
        return self.z3.Real(name)

    def is_concrete(self, v):
        return False

    def as_float(self, v):
        v = self.z3.simplify(v)
        if self.z3.is_rational_value(v):
            return float(Fraction(v.numerator_as_long(), v.denominator_as_long()))
        if self.z3.is_algebraic_value(v):
            return float(v.approx(20).as_fraction())
        raise UsageError(f"z3 term is not a number: {v}")


class CostScalar:
    """The one number of the cost domain: every arithmetic operation on it gives it back."""
    __slots__ = ()

    def _same(self, *_):
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __neg__ = __pos__ = _same

    def __repr__(self):
        return "•"


SCALAR = CostScalar()


class CostDomain(Domain):
    """Values are shapes: every real is ``•`` (no domain errors, no overflow)."""
    name = "cost"

    def const(self, text):
        return SCALAR

    def function(self, name: str, arity: int):
        """Every primitive (``Primitive.evaluate`` asks for it: no ``cost`` entry in the table)."""
        return CostScalar._same.__get__(SCALAR)

    def as_float(self, v):
        raise UsageError("the cost domain has no numbers, only shapes")


FLOAT = FloatDomain()
COST = CostDomain()
_DOMAINS = {"float": lambda: FLOAT, "sympy": SympyDomain, "z3": Z3Domain, "cost": lambda: COST}


def get_domain(d) -> Domain:
    """A Domain from a Domain or a name ('float', 'sympy', 'z3')."""
    if isinstance(d, Domain):
        return d
    try:
        return _DOMAINS[d]()
    except KeyError:
        raise UsageError(f"unknown number domain {d!r}; choose one of {', '.join(_DOMAINS)}") from None
