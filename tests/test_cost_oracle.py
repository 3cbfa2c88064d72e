"""The independent cost oracle (proofs/costoracle.py): W, M and |e| by hand for
each linear form at a tuple type (‖σ‖ = 2), unpacks, drops and calls, against
the text counter, the evaluator and the static measure; and the three agree on
every program the theorem checks visit."""
from __future__ import annotations

import pytest

from linear_a.proofs import measure
from linear_a.proofs.checks import Subject, run_check
from linear_a.proofs.costoracle import Oracle
from linear_a.proofs.runner import random_programs
from linear_a.semantics import parse_program
from linear_a.semantics.evaluate import Costs, evaluate

LINEAR_FORMS = """def h(x: real ; a: (real, real), b: (real, real)) -> (; (real, real), (real, real)) =
  let (; s) = a +. b in
  let (; t) = x *. s in
  let (; u, v) = dup(t) in
  let (; z) = zero : (real, real) in
  let (; w) = u +. z in
  (; w, v)
"""
UNPACK_DROP = """def k(; a: (real, real)) -> (; real) =
  let (a1, a2) = a in
  let (;) = drop(a1) in
  (; a2)
"""
CALL = """def g(x: real) -> (real ;) =
  let (s ;) = sin(x) in
  (s ;)

def f(x: real, y: real) -> (real ;) =
  let (r ;) = g(x) in
  r * y
"""
NL_DROP = """def d(x: real, p: (real, real)) -> (real ;) =
  let (;) = drop(p) in
  let (c ;) = 2 in
  c * x
"""

# (program, function, args, W, M, |e|), each figure worked out by hand in the comments:
CASES = [
    # W: +. 2, *. 2, dup 2, zero 2, +. 2.  M: params 5; s → 7, free a b → 3; t → 5, free x s → 2;
    # dup → 6, free t → 4; zero → 6; w → 8 (peak), free u z → 4; return moves.  |e| 5+5+5+3+5+3
    (LINEAR_FORMS, "h", ([1.5], [(1.0, 2.0), (3.0, 4.0)]), 10, 8, 26),
    # W: linear drop of one real 1.  M: a 2; unpack moves (2); drop frees 1; return moves.  |e| 4+3+2
    (UNPACK_DROP, "k", ([], [(1.0, 2.0)]), 1, 2, 9),
    # W: sin 1 + * 1.  M: x, y 2; the call frees x (1) and peaks at 1 + M(g) = 1 + 2; r → 2; r*y → 3.
    # |e| of f: let 2 + call 2, r * y 3
    (CALL, "f", ([0.5, 2.0], []), 2, 3, 7),
    # W: a non-linear drop 0, literal 1, * 1.  M: 3 at entry, drop frees p → 1, c → 2, c*x → 3.
    # |e|: drop 1 + 2, literal 2 + 1, c * x 3
    (NL_DROP, "d", ([1.0, (2.0, 3.0)], []), 2, 3, 9),
]


@pytest.mark.parametrize("text,fn,args,W,M,size", CASES, ids=["linear-forms", "unpack-drop", "call", "nl-drop"])
def test_hand_computed_costs(text, fn, args, W, M, size):
    prog = parse_program(text, "<case>")
    c = Oracle(text).count(fn)
    r = evaluate(prog, fn, args)
    assert (c.work, c.memory, c.size) == (W, M, size)
    assert (r.work, r.memory) == (W, M)
    assert measure.work(prog, fn) == W and measure.size(prog, fn) == size


def test_prices_come_from_the_table():
    costs = Costs(lit=3, zero=5, drop=7, add=11, dup=13, scale=17)
    prog = parse_program(LINEAR_FORMS, "<h>")
    W = 11 * 2 + 17 * 2 + 13 * 2 + 5 * 2 + 11 * 2
    assert Oracle(LINEAR_FORMS, costs).count("h").work == W == measure.work(prog, "h", costs)
    assert evaluate(prog, "h", ([1.0], [(1.0, 1.0), (1.0, 1.0)]), costs=costs).work == W


def test_the_theorem_holds_on_random_programs():
    for name, kind, prog in random_programs(20, seed=7):
        o = run_check(Subject(name, prog, seed=3), "cost-oracle")
        assert o.status == "proved", (name, o.detail)


def test_a_wrong_memory_count_is_refuted(monkeypatch):
    import importlib
    ev = importlib.import_module("linear_a.semantics.evaluate")
    real = ev.Evaluator.alloc

    def alloc(self, f, values):          # results counted one real short
        real(self, f, values)
        if values:
            f.live -= 1
    monkeypatch.setattr(ev.Evaluator, "alloc", alloc)
    o = run_check(Subject("h", parse_program(LINEAR_FORMS, "<h>")), "cost-oracle")
    assert o.status == "refuted" and "evaluator" in o.detail


def test_equations_costs_literals_nothing_and_each_operation_one():
    """Costs.equations() (the jaxpr-like table): a literal is inline (0), dup and
    drop are fan-out (0), every other operation 1 -- so W counts the operations."""
    prog = parse_program(
        "def f(x: real) -> (real ;) =\n"
        "  let (a ;) = 2.0 in\n"
        "  let (b ;) = 3.0 in\n"
        "  let (c ;) = 0.5 in\n"
        "  let (y ;) = x * a in\n"        # op 1
        "  let (z ;) = y + b in\n"        # op 2
        "  let (s ;) = sin(z) in\n"       # op 3
        "  let (;) = drop(c) in\n"
        "  (s ;)\n")
    t = Costs.equations()
    assert (t.lit, t.dup, t.drop) == (0, 0, 0)
    r = evaluate(prog, "f", {"x": 1.0}, costs=t)
    assert r.work == 3, r.work                           # three operations, three literals free
    assert evaluate(prog, "f", {"x": 1.0}).work == 6         # the default table: a literal costs 1


def test_eval_derivation_puts_unpacked_components_on_their_side():
    """The evaluation derivation's premise for an unpack: the components of a
    non-linear tuple (NUnpack) are non-linear results, those of a linear tuple
    (LUnpack) linear ones."""
    prog = parse_program(
        "def f(x: real, y: real) -> (real ;) =\n"
        "  let (p ;) = (x, y) in\n"
        "  let (a, b) = p in\n"
        "  let (s ;) = a * b in\n"
        "  (s ;)\n"
        "def g(x: real ; dx: real, dy: real) -> (; real, real) =\n"
        "  let (;) = drop(x) in\n"
        "  let (; p) = (dx, dy) in\n"
        "  let (a, b) = p in\n"
        "  (; a, b)\n")
    unpacks = {}
    for fn, args in (("f", {"x": 2.0, "y": 3.0}), ("g", {"x": 1.0, "dx": 4.0, "dy": 5.0})):
        r = evaluate(prog, fn, args, derive=True)
        found = [d for d in r.derivation.walk() if d.rule in ("NUnpack", "LUnpack")]
        assert len(found) == 1, (fn, found)
        unpacks[fn] = found[0]
    assert unpacks["f"].rule == "NUnpack" and unpacks["f"].result == ((2.0, 3.0), ())
    assert unpacks["g"].rule == "LUnpack" and unpacks["g"].result == ((), (4.0, 5.0))
