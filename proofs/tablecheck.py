"""The primitive table's implementations agree across number domains.

Each primitive has one implementation per domain (``impls``: float, sympy,
and z3 for the arithmetic ones).  The checks compare programs *within* one
domain -- both sides of the z3 linearity identity use z3's ``-``, both sides
of a float comparison use the float ``-`` -- so an implementation that is
wrong in one domain only is invisible to them.  Here each primitive's
sympy and z3 implementations are evaluated at rational points and compared
with the float one (sympy and z3 results as exact rationals or evaluated to
floats).  Run once per ``check`` (with the per-rule obligations); a
disagreement refutes the theorem whose methods use that domain (sympy:
jvp-correct and vjp-correct's symbolic derivatives; z3: typing-sound's
linearity identity).
"""
from __future__ import annotations

import time
from fractions import Fraction

POINTS = ((Fraction(3, 4), Fraction(5, 4)), (Fraction(3, 2), Fraction(1, 3)), (Fraction(7, 5), Fraction(-2, 3)))
THEOREMS = {"sympy": ("jvp-correct", "vjp-correct"), "z3": ("typing-sound",)}


def _as_float(domain: str, v) -> float:
    if domain == "z3":
        import z3
        v = z3.simplify(v)
        return float(Fraction(v.numerator_as_long(), v.denominator_as_long()))
    return float(v.evalf()) if hasattr(v, "evalf") else float(v)


def table_outcomes() -> list:
    from linear_a.semantics.domains import get_domain
    from linear_a.semantics.primitives import PRIMITIVES
    from .checks import Outcome
    out = []
    for domain, theorems in THEOREMS.items():
        t0 = time.perf_counter()
        dom = get_domain(domain)
        bad, n = [], 0
        for op, p in PRIMITIVES.items():
            impl = p.impls.get(domain)
            if impl is None:          # uninterpreted in this domain: nothing to disagree
                continue
            for pt in POINTS:
                args = pt[:p.arity]
                if op in ("log", "sqrt", "pow") and args[0] <= 0:
                    continue
                want = p.impls["float"](*map(float, args))
                got = _as_float(domain, impl(*(dom.const(f"{a.numerator}/{a.denominator}") for a in args)))
                n += 1
                if abs(want - got) > 1e-9 * (1 + abs(want)):
                    bad.append(f"{op}{tuple(str(a) for a in args)}: float {want!r}, {domain} {got!r}")
        for t in theorems:
            name = f"(all programs) primitive table: {domain} = float"
            if bad:
                out.append(Outcome(t, name, "refuted", "evaluation at rational points",
                                   time.perf_counter() - t0, "; ".join(bad[:5]),
                                   {"disagreements": bad}))
            else:
                out.append(Outcome(t, name, "checked", "evaluation at rational points",
                                   time.perf_counter() - t0,
                                   f"{n} evaluations: each {domain} implementation = the float one"))
    return out
