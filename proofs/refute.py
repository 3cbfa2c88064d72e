"""Turning a disagreement of normal forms into a refutation, or not.

Unequal normal forms are not a refutation by themselves: the normal form does
not reduce ``x · inv(x)`` to 1 or ``sin² + cos²`` to 1.  But two normal forms
are two *terms*, and a term can be evaluated at a point.  :func:`witness`
evaluates both sides of a disagreement at random real points -- the atoms
(``sin(p)``, ``inv(p)``, ``pow(p, q)`` …) with Python's ``math``, not with the
primitive table, so the point is independent of the code under test -- and
returns the first point where they differ by more than a relative 1e-7.  That
point is a counterexample whatever method found the disagreement: the checks
then report *refuted* with it.  No such point among the draws leaves the
disagreement *unknown* (an identity the normal form cannot see).
"""
from __future__ import annotations

import math
import random

from .normalform import LinForm, NormalForm, Poly, flatten

REL = 1e-7


def sample_range(positive: bool) -> tuple[float, float]:
    """Where every check draws its random real inputs: [0.5, 2] for a program
    declared positive (the corpus files using ``log``, ``sqrt`` …), else
    [-2, 2].  One range for the float points, the witnesses and the exact
    rational points, so a counterexample is always drawn where the checks look."""
    return (0.5, 2.0) if positive else (-2.0, 2.0)


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


_MATH = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log,
         "sqrt": math.sqrt, "tanh": math.tanh, "sigmoid": _sigmoid, "pow": lambda x, y: x ** y,
         "inv": lambda x: 1.0 / x}


def _poly_at(dom: NormalForm, p: Poly, vals: list) -> float:
    acc = 0.0
    monos = dom.monos
    for m, c in p.terms.items():
        t = float(c)
        for i in monos.atoms(m):
            t *= vals[i]
        acc += t
    return acc


def atom_values(dom: NormalForm, point: dict) -> list | None:
    """The value of every atom at ``point`` (variable atom name -> float), in
    creation order (arguments are made before applications); None outside
    the domain (log of a negative number …)."""
    vals: list = []
    try:
        for a in dom.atoms:
            if a.op == "var":
                vals.append(point[a.name])
            else:
                args = [_poly_at(dom, p, vals) for p in a.args]
                vals.append(float(_MATH[a.op](*args)))
        if not all(math.isfinite(v) for v in vals):
            return None
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None
    return vals


def _components(dom, x) -> list:
    """A value as a list of (key, Poly): a Poly itself, a LinForm's coefficients,
    a matrix row (dict) likewise; tuples flattened."""
    out = []
    for j, v in enumerate(flatten(x if type(x) is tuple else (x,))):
        if isinstance(v, LinForm):
            out.extend(((j, i), p) for i, p in v.vec.items())
        elif isinstance(v, dict):
            out.extend(((j, i), p) for i, p in v.items())
        elif isinstance(v, Poly):
            out.append(((j, None), v))
    return out


def witness(dom: NormalForm, left, right, rng: random.Random | None = None, positive=False,
            tries: int = 8) -> dict | None:
    """A point where the normal-form values ``left`` and ``right`` (Polys,
    LinForms, coefficient rows, or lists/tuples of them, same shape) differ
    numerically: ``{"point": {input: value}, "component": …, "left": a,
    "right": b}``; None if every drawn point agrees (or is outside the
    domain)."""
    rng = rng or random.Random(0)
    lv = dict(_components(dom, tuple(left)))
    rv = dict(_components(dom, tuple(right)))
    zero = dom.zero
    keys = sorted(set(lv) | set(rv), key=repr)
    names = [a.name for a in dom.atoms if a.op == "var"]
    lo, hi = sample_range(positive)
    for _ in range(tries):
        point = {n: round(rng.uniform(lo, hi), 4) for n in names}
        vals = atom_values(dom, point)
        if vals is None:
            continue
        for k in keys:
            a = _poly_at(dom, lv.get(k, zero), vals)
            b = _poly_at(dom, rv.get(k, zero), vals)
            if not (math.isfinite(a) and math.isfinite(b)):
                break
            if abs(a - b) > REL * (1 + abs(a) + abs(b)):
                return {"point": point, "component": repr(k), "left": a, "right": b}
    return None
