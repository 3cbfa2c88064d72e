"""The primitive table (SPEC §5): one entry per primitive.

An entry says everything the project knows about a primitive: its name and
arity, how it evaluates in each number domain, when its arguments are outside
its domain, its default work, how it looks in LaTeX, and its **JVP rule** --
the partial derivatives, written as non-linear Linear A code.

The JVP rule is a function ``partials(b, args, out)`` that, given an emitter
``b`` and the names of the primitive's arguments and result, returns one
coefficient per argument: a variable name bound by code it emitted through
``b.prim(op, *vars)`` / ``b.lit(text)``, an argument or the result itself, or
``ONE``/``MINUS_ONE`` (which JVP turns into a plain tangent or a negation
rather than a scaling).  The same function drives JVP (emitting ``let``s),
the tests (evaluating it and comparing with sympy's ``diff``), and the paper
(rendering the rule).  Adding a primitive is adding one entry.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from .errors import DomainError, ScopeError

ONE = "<1>"
MINUS_ONE = "<-1>"


@dataclass(frozen=True)
class Primitive:
    name: str
    arity: int
    impls: dict            # domain name -> callable; "z3" absent => uninterpreted
    partials: Callable     # (emitter, args, out) -> list of coefficients
    latex: str             # format string over {0}, {1}
    infix: str | None = None
    check: Callable | None = None   # (args as floats) -> error message or None
    cost: int = 1
    doc: str = ""

    def evaluate(self, domain, args):
        impl = self.impls.get(domain.name)
        if impl is None:
            if hasattr(domain, "function"):   # symbolic domains (z3, proofs'): uninterpreted
                return domain.function(self.name, self.arity)(*args)
            raise DomainError(f"primitive `{self.name}` has no implementation in the {domain.name} domain")
        return impl(*args)


def _sym(name):
    import sympy
    return getattr(sympy, name)


def _sigmoid_f(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sympy_sigmoid(x):
    import sympy
    return 1 / (1 + sympy.exp(-x))


def _positive(name):
    return lambda a: None if a[0] > 0 else f"`{name}` needs a positive argument"


def _pow_check(a):
    x, y = a
    if x > 0:
        return None
    return "`pow` with a real exponent needs a positive base (write x * x for squares)"


def _div_check(a):
    return None if a[1] != 0 else "division by zero"


def _tan_check(a):
    return None if abs(math.cos(a[0])) > 1e-300 else "`tan` at a pole"


def _sqrt_check(a):
    return None if a[0] > 0 else "`sqrt` needs a positive argument (its derivative is undefined at 0)"


def _exp_check(a):
    return None if a[0] < 709.78 else "`exp` overflows"


_TABLE: dict[str, Primitive] = {}


def primitive(name, arity, impls, partials, latex, **kw):
    p = Primitive(name, arity, impls, partials, latex, **kw)
    _TABLE[name] = p
    return p


# --- arithmetic -----------------------------------------------------------
primitive("+", 2, {"float": lambda x, y: x + y, "sympy": lambda x, y: x + y, "z3": lambda x, y: x + y},
          lambda b, a, z: [ONE, ONE], "{0} + {1}", infix="+", doc="addition")
primitive("-", 2, {"float": lambda x, y: x - y, "sympy": lambda x, y: x - y, "z3": lambda x, y: x - y},
          lambda b, a, z: [ONE, MINUS_ONE], "{0} - {1}", infix="-", doc="subtraction")
primitive("*", 2, {"float": lambda x, y: x * y, "sympy": lambda x, y: x * y, "z3": lambda x, y: x * y},
          lambda b, a, z: [a[1], a[0]], "{0} \\cdot {1}", infix="*", doc="multiplication")
primitive("/", 2, {"float": lambda x, y: x / y, "sympy": lambda x, y: x / y, "z3": lambda x, y: x / y},
          lambda b, a, z: [b.prim("/", b.lit("1"), a[1]), b.prim("neg", b.prim("/", z, a[1]))],
          "\\frac{{{0}}}{{{1}}}", infix="/", check=_div_check, doc="division")
primitive("neg", 1, {"float": lambda x: -x, "sympy": lambda x: -x, "z3": lambda x: -x},
          lambda b, a, z: [MINUS_ONE], "-{0}", doc="negation")

# --- transcendental -------------------------------------------------------
primitive("sin", 1, {"float": math.sin, "sympy": lambda x: _sym("sin")(x)},
          lambda b, a, z: [b.prim("cos", a[0])], "\\sin {0}", doc="sine")
primitive("cos", 1, {"float": math.cos, "sympy": lambda x: _sym("cos")(x)},
          lambda b, a, z: [b.prim("neg", b.prim("sin", a[0]))], "\\cos {0}", doc="cosine")
primitive("tan", 1, {"float": math.tan, "sympy": lambda x: _sym("tan")(x)},
          lambda b, a, z: [b.prim("+", b.lit("1"), b.prim("*", z, z))], "\\tan {0}",
          check=_tan_check, doc="tangent")
primitive("exp", 1, {"float": math.exp, "sympy": lambda x: _sym("exp")(x)},
          lambda b, a, z: [z], "e^{{{0}}}", check=_exp_check, doc="exponential")
primitive("log", 1, {"float": math.log, "sympy": lambda x: _sym("log")(x)},
          lambda b, a, z: [b.prim("/", b.lit("1"), a[0])], "\\ln {0}",
          check=_positive("log"), doc="natural logarithm (also `ln`)")
primitive("sqrt", 1, {"float": math.sqrt, "sympy": lambda x: _sym("sqrt")(x)},
          lambda b, a, z: [b.prim("/", b.lit("0.5"), z)], "\\sqrt{{{0}}}",
          check=_sqrt_check, doc="square root")
primitive("tanh", 1, {"float": math.tanh, "sympy": lambda x: _sym("tanh")(x)},
          lambda b, a, z: [b.prim("-", b.lit("1"), b.prim("*", z, z))], "\\tanh {0}",
          doc="hyperbolic tangent")
primitive("pow", 2, {"float": lambda x, y: x ** y, "sympy": lambda x, y: x ** y},
          lambda b, a, z: [b.prim("*", a[1], b.prim("pow", a[0], b.prim("-", a[1], b.lit("1")))),
                           b.prim("*", b.prim("log", a[0]), z)],
          "{0}^{{{1}}}", check=_pow_check, doc="power x^y with a real exponent (x > 0)")
primitive("sigmoid", 1, {"float": _sigmoid_f, "sympy": _sympy_sigmoid},
          lambda b, a, z: [b.prim("*", z, b.prim("-", b.lit("1"), z))], "\\sigma({0})",
          doc="logistic sigmoid 1 / (1 + e^-x)")

SYNONYMS = {"ln": "log"}
INFIX = {p.infix: p.name for p in _TABLE.values() if p.infix}
PRIMITIVES = _TABLE


def lookup(name: str, pos=None) -> Primitive:
    p = _TABLE.get(SYNONYMS.get(name, name))
    if p is None:
        raise ScopeError(f"unknown primitive `{name}`", pos, rule="Prim",
                         hint="known primitives: " + ", ".join(sorted(_TABLE)))
    return p


def canonical(name: str) -> str:
    return SYNONYMS.get(name, name)


def apply(p: Primitive, domain, args, pos=None):
    """Evaluate p on args in domain, raising a located DomainError outside its domain."""
    if p.check is not None and all(domain.is_concrete(a) for a in args):
        try:
            msg = p.check([domain.as_float(a) for a in args])
        except (OverflowError, ValueError, TypeError):
            msg = None
        if msg:
            shown = ", ".join(_show(a) for a in args)
            raise DomainError(f"{msg}: {p.name}({shown})", pos, rule="Prim")
    try:
        return p.evaluate(domain, args)
    except (ValueError, ZeroDivisionError, OverflowError) as e:
        shown = ", ".join(_show(a) for a in args)
        raise DomainError(f"`{p.name}` failed on ({shown}): {e}", pos, rule="Prim") from None


def _show(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
