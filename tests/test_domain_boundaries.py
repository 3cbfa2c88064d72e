"""Each primitive's domain check at its boundary (SPEC §4): the value on the
boundary is refused with a located DomainError naming the primitive, and a
value just inside is evaluated.  The random programs never reach a boundary
(their arguments are bounded away from it by construction), so an
off-by-one comparison in a check (``>`` for ``>=``) is caught only here
(issue-19 mutation run)."""
import math

import pytest

from linear_a.semantics import DomainError, evaluate, parse_program

CASES = [   # (expression over x, y), the refused point, a point just inside, the message's words
    ("sqrt(x)", (0.0, 1.0), (1e-300, 1.0), "`sqrt` needs a positive argument"),
    ("log(x)", (0.0, 1.0), (1e-300, 1.0), "`log` needs a positive argument"),
    ("pow(x, y)", (0.0, 2.0), (1e-3, 2.0), "`pow` with a real exponent needs a positive base"),
    ("x / y", (1.0, 0.0), (1.0, 1e-300), "division by zero"),
    ("exp(x)", (709.78, 0.0), (709.0, 0.0), "`exp` overflows"),
]


def run(expr, point):
    drop = "" if "y" in expr else "  let (;) = drop(y) in\n"
    prog = parse_program(f"def f(x: real, y: real) -> (real ;) =\n{drop}"
                         f"  let (z ;) = {expr} in\n"
                         "  (z ;)", "b.la")
    return evaluate(prog, "f", {"x": point[0], "y": point[1]})


@pytest.mark.parametrize("expr, bad, good, words", CASES, ids=[c[0] for c in CASES])
def test_the_boundary_is_refused_and_the_inside_evaluated(expr, bad, good, words):
    with pytest.raises(DomainError) as info:
        run(expr, bad)
    assert words in str(info.value), str(info.value)
    assert info.value.rule == "Prim" and info.value.pos is not None
    assert math.isfinite(run(expr, good).nl[0])
