"""Mutation check of the typing rules (SPEC §3).

For every typing rule registered in ``linear_a.semantics.rules.RULES`` and for each of
its side conditions, a pair of programs: a well-typed one, and a minimal edit of
it that violates exactly that side condition.  The first must be accepted; the
second rejected with a located ``LinearATypeError`` whose ``rule`` names that
rule.  A rule registered without a case here fails the coverage test, so a new
rule cannot be added without showing that its side conditions are enforced.
"""
from __future__ import annotations

import pytest

from linear_a.semantics.errors import LinearATypeError
from linear_a.semantics.parser import parse_program
from linear_a.semantics.rules import RULES
from linear_a.semantics.typecheck import typecheck

# (rule, side condition, well-typed program, the same program violating the condition)
CASES = [
    # ---- Let: Γ1∪Γ2 ; Δ1⊎Δ2, every binder occurs in the body, pattern = results, annotations
    ("Let", "non-linear binders occur in the body",
     "def f(x: real) -> (real ;) = let (c ;) = cos(x) in let (;) = drop(c) in (x ;)",
     "def f(x: real) -> (real ;) = let (c ;) = cos(x) in (x ;)"),
    ("Let", "linear binders occur in the body",
     "def f(x: real ; dx: real) -> (real ; real) = let (; a) = x *. dx in (x ; a)",
     "def f(x: real ; dx: real) -> (real ; real) = let (; a) = x *. dx in let (; b) = zero : real in (x ; b)"),
    ("Let", "Δ1 ∩ Δ2 = ∅ (a linear variable goes to one side only)",
     "def f(x: real ; dx: real) -> (real ; real) = let (; d1, d2) = dup(dx) in "
     "let (; a) = x *. d1 in let (; s) = a +. d2 in (x ; s)",
     "def f(x: real ; dx: real) -> (real ; real) = "
     "let (; a) = x *. dx in let (; s) = a +. dx in (x ; s)"),
    ("Let", "the pattern has one name per result",
     "def f(x: real) -> (real ;) = let (a ;) = sin(x) in (a ;)",
     "def f(x: real) -> (real ;) = let (a, b ;) = sin(x) in (a ;)"),
    ("Let", "the pattern's classes match the results' classes",
     "def f(x: real) -> (real ;) = let (a ;) = sin(x) in (a ;)",
     "def f(x: real) -> (real ;) = let (; a) = sin(x) in (x ;)"),
    ("Let", "annotations match",
     "def f(x: real) -> (real ;) = let (a : real ;) = sin(x) in (a ;)",
     "def f(x: real) -> (real ;) = let (a : (real,) ;) = sin(x) in (a ;)"),
    # ---- NUnpack: Γ(x) = (τ̄), every ȳ occurs in e
    ("NUnpack", "the source is a tuple of that many components",
     "def f(p: (real, real)) -> (real ;) = let (a, b) = p in let (c ;) = a * b in (c ;)",
     "def f(p: (real, real)) -> (real ;) = let (a, b, z) = p in let (c ;) = a * b in (c ;)"),
    ("NUnpack", "the source is a tuple (not a real)",
     "def f(p: (real,)) -> (real ;) = let (a) = p in (a ;)",
     "def f(p: real) -> (real ;) = let (a) = p in (a ;)"),
    ("NUnpack", "every component occurs in the body",
     "def f(p: (real, real)) -> (real ;) = let (a, b) = p in let (c ;) = a * b in (c ;)",
     "def f(p: (real, real)) -> (real ;) = let (a, b) = p in let (c ;) = a * a in (c ;)"),
    # ---- LUnpack: Δ(l) = (σ̄), l not in e, every k̄ used once
    ("LUnpack", "the source is a linear tuple of that many components",
     "def f(; dp: (real, real)) -> (; real) = let (da, db) = dp in let (; s) = da +. db in (; s)",
     "def f(; dp: (real, real)) -> (; real) = let (da, db, dc) = dp in let (; s) = da +. db in (; s)"),
    ("LUnpack", "the source does not occur in the body",
     "def f(; dp: (real, real)) -> (; real, real) = let (da, db) = dp in (; da, db)",
     "def f(; dp: (real, real)) -> (; real, (real, real)) = let (da, db) = dp in "
     "let (; s) = da +. db in (; s, dp)"),
    ("LUnpack", "every component is used",
     "def f(; dp: (real, real)) -> (; real, real) = let (da, db) = dp in (; da, db)",
     "def f(; dp: (real, real)) -> (; real) = let (da, db) = dp in (; da)"),
    # ---- Ret: {x̄} = dom Γ (non-linear side), ȳ distinct, {ȳ} = dom Δ (linear side)
    ("Ret", "linear names are distinct",
     "def f(; dx: real) -> (; real, real) = let (; a, b) = dup(dx) in (; a, b)",
     "def f(; dx: real) -> (; real, real) = (; dx, dx)"),
    ("Ret", "the non-linear side holds non-linear variables",
     "def f(x: real ; dx: real) -> (real ; real) = (x ; dx)",
     "def f(x: real ; dx: real) -> (real, real ;) = (x, dx ;)"),
    ("Ret", "the linear side holds linear variables",
     "def f(x: real ; dx: real) -> (real ; real) = (x ; dx)",
     "def f(x: real ; dx: real) -> (; real, real) = (; dx, x)"),
    ("Ret", "returned variables are bound",
     "def f(x: real) -> (real ;) = (x ;)",
     "def f(x: real) -> (real, real ;) = (x, y ;)"),
    # ---- Lit: ∅;∅ ⊢ c : (real;) — c is a (finite) real
    ("Lit", "the literal is a finite real",
     "def f(x: real) -> (real ;) = let (;) = drop(x) in 1e300",
     "def f(x: real) -> (real ;) = let (;) = drop(x) in 1e999"),
    # ---- Prim: {x̄} = dom Γ, all real, arity matches
    ("Prim", "arity matches",
     "def f(x: real) -> (real ;) = pow(x, x)",
     "def f(x: real) -> (real ;) = pow(x)"),
    ("Prim", "arguments are real",
     "def f(p: (real, real)) -> (real ;) = let (a, b) = p in let (;) = drop(b) in sin(a)",
     "def f(p: (real, real)) -> (real ;) = sin(p)"),
    ("Prim", "arguments are non-linear",
     "def f(x: real ; dx: real) -> (real ; real) = let (y ;) = sin(x) in (y ; dx)",
     "def f(x: real ; dx: real) -> (real ; real) = let (y ;) = sin(dx) in (y ; x)"),
    # ---- Zero: ∅;∅ ⊢ zero : (;σ) — σ must be known
    ("Zero", "its type is determined",
     "def f(x: real) -> (real ;) = let (; z) = zero : real in let (;) = drop(z) in (x ;)",
     "def f(x: real) -> (real ;) = let (; z) = zero in let (;) = drop(z) in (x ;)"),
    # ---- LAdd: ∅ ; l1:σ, l2:σ, l1 ≠ l2
    ("LAdd", "l1 ≠ l2",
     "def f(; dx: real, dy: real) -> (; real) = dx +. dy",
     "def f(; dx: real, dy: real) -> (; real) = let (;) = drop(dy) in dx +. dx"),
    ("LAdd", "both sides have one type",
     "def f(; dx: real, dy: real) -> (; real) = dx +. dy",
     "def f(; dx: real, dy: (real,)) -> (; real) = dx +. dy"),
    ("LAdd", "both sides are linear",
     "def f(x: real ; dx: real) -> (; real) = let (; y) = x *. dx in (; y)",
     "def f(x: real ; dx: real) -> (; real) = let (; y) = x +. dx in (; y)"),
    # ---- Scale: x : real (non-linear) ; l : σ (linear)
    ("Scale", "the scalar is real",
     "def f(p: (real, real) ; dx: real) -> (; real) = let (a, b) = p in let (c ;) = a * b in c *. dx",
     "def f(p: (real, real) ; dx: real) -> (; real) = p *. dx"),
    ("Scale", "the scalar is non-linear",
     "def f(x: real ; dx: real, dy: real) -> (; real) = let (;) = drop(dy) in x *. dx",
     "def f(x: real ; dx: real, dy: real) -> (; real) = let (;) = drop(x) in dy *. dx"),
    ("Scale", "the scaled value is linear",
     "def f(x: real ; dx: real) -> (; real) = x *. dx",
     "def f(x: real ; dx: real) -> (; real) = let (;) = drop(dx) in x *. x"),
    # ---- Dup: ∅ ; l:σ — l linear
    ("Dup", "the argument is linear",
     "def f(; dx: real) -> (; real, real) = dup(dx)",
     "def f(x: real ; dx: real) -> (; real, real) = let (;) = drop(dx) in dup(x)"),
    # ---- Drop: x:τ or l:σ — a bound variable of either class
    ("Drop", "the dropped variable is bound",
     "def f(x: real, y: real) -> (real ;) = let (;) = drop(y) in (x ;)",
     "def f(x: real, y: real) -> (real ;) = let (;) = drop(z) in (x ;)"),
    # ---- NTup: {x̄} = dom Γ — components non-linear
    ("NTup", "components are non-linear",
     "def f(x: real, y: real) -> ((real, real) ;) = (x, y)",
     "def f(x: real ; y: real) -> ((real, real) ;) = (x, y)"),
    # ---- LTup: l̄ distinct, {l̄} = dom Δ — components linear
    ("LTup", "components are distinct",
     "def f(; dx: real, dy: real) -> (; (real, real)) = (dx, dy)",
     "def f(; dx: real, dy: real) -> (; (real, real)) = let (;) = drop(dy) in (dx, dx)"),
    ("LTup", "components are linear",
     "def f(x: real ; dx: real) -> (; (real, real)) = let (;) = drop(x) in let (; a, b) = dup(dx) in (a, b)",
     "def f(x: real ; dx: real) -> (; (real, real)) = (dx, x)"),
    # ---- Call: Φ(f) = (τ̄;σ̄) → M, argument types match, linear arguments distinct
    ("Call", "the callee is defined earlier",
     "def g(x: real) -> (real ;) = sin(x)\ndef f(x: real) -> (real ;) = g(x)",
     "def f(x: real) -> (real ;) = g(x)\ndef g(x: real) -> (real ;) = sin(x)"),
    ("Call", "the callee is not the caller (no recursion)",
     "def g(x: real) -> (real ;) = sin(x)\ndef f(x: real) -> (real ;) = g(x)",
     "def g(x: real) -> (real ;) = sin(x)\ndef f(x: real) -> (real ;) = f(x)"),
    ("Call", "the argument counts match",
     "def g(x: real ; dx: real) -> (; real) = x *. dx\ndef f(x: real ; dx: real) -> (; real) = g(x ; dx)",
     "def g(x: real ; dx: real) -> (; real) = x *. dx\n"
     "def f(x: real ; dx: real) -> (; real) = let (;) = drop(dx) in g(x ;)"),
    ("Call", "the argument types match",
     "def g(p: (real,)) -> (real ;) = let (a) = p in (a ;)\ndef f(p: (real,)) -> (real ;) = g(p)",
     "def g(p: (real,)) -> (real ;) = let (a) = p in (a ;)\ndef f(p: real) -> (real ;) = g(p)"),
    ("Call", "linear arguments are distinct",
     "def g(; a: real, b: real) -> (; real) = a +. b\n"
     "def f(; dx: real) -> (; real) = let (; d1, d2) = dup(dx) in g(; d1, d2)",
     "def g(; a: real, b: real) -> (; real) = a +. b\ndef f(; dx: real) -> (; real) = g(; dx, dx)"),
    ("Call", "argument classes match the parameters'",
     "def g(x: real ; dx: real) -> (; real) = x *. dx\ndef f(x: real ; dx: real) -> (; real) = g(x ; dx)",
     "def g(x: real ; dx: real) -> (; real) = x *. dx\ndef f(x: real ; dx: real) -> (; real) = g(dx ; x)"),
    # ---- Def: the body has the declared type; every parameter is used; names are unique
    ("Def", "the body returns the declared results",
     "def f(x: real) -> (real ;) = sin(x)",
     "def f(x: real) -> (; real) = sin(x)"),
    ("Def", "non-linear parameters are used",
     "def f(x: real, y: real) -> (real ;) = x * y",
     "def f(x: real, y: real) -> (real ;) = sin(x)"),
    ("Def", "linear parameters are used",
     "def f(x: real ; dx: real) -> (; real) = x *. dx",
     "def f(x: real ; dx: real) -> (real ;) = (x ;)"),
    ("Def", "parameter names are distinct",
     "def f(x: real, y: real) -> (real ;) = x * y",
     "def f(x: real, x: real) -> (real ;) = x * x"),
    # ---- Loop: the step's signature, carry types, array lengths, linear carry distinct
    ("Loop", "carry types are the step's result types",
     "def g(x: real) -> (real ;) = sin(x)\ndef f(x: real) -> (real ;) = loop 3 g(x)",
     "def g(x: real) -> ((real, real) ;) = let (p ;) = (x, x) in (p ;)\n"
     "def f(x: real) -> ((real, real) ;) = loop 3 g(x)"),
    ("Loop", "each array of `over` has length N",
     "def g(x: real, e: real ; d: real) -> (real, real ; real) = let (y ;) = x * e in let (; d2) = e *. d in (y, x ; d2)\ndef f(x: real, es: [real; 3] ; d: real) -> (real, [real; 3] ; real) = "
     "loop 3 g(x ; d) over (es)",
     "def g(x: real, e: real ; d: real) -> (real, real ; real) = let (y ;) = x * e in let (; d2) = e *. d in (y, x ; d2)\ndef f(x: real, es: [real; 3] ; d: real) -> (real, [real; 4] ; real) = "
     "loop 4 g(x ; d) over (es)"),
    ("Loop", "the loop passes the step's number of arguments",
     "def g(x: real, e: real ; d: real) -> (real, real ; real) = let (y ;) = x * e in let (; d2) = e *. d in (y, x ; d2)\ndef f(x: real, es: [real; 3] ; d: real) -> (real, [real; 3] ; real) = "
     "loop 3 g(x ; d) over (es)",
     "def g(x: real, e: real ; d: real) -> (real, real ; real) = let (y ;) = x * e in let (; d2) = e *. d in (y, x ; d2)\ndef f(x: real, es: [real; 3] ; d: real) -> (real, [real; 3] ; real) = "
     "loop 3 g(x ; d)"),
    ("Loop", "linear carries are distinct",
     "def g(; a: real, b: real) -> (; real, real) = (; b, a)\n"
     "def f(; d: real, e: real) -> (; real, real) = loop 2 g(; d, e)",
     "def g(; a: real, b: real) -> (; real, real) = (; b, a)\n"
     "def f(; d: real) -> (; real, real) = loop 2 g(; d, d)"),
    ("Loop", "the step function is defined before the loop",
     "def g(x: real) -> (real ;) = sin(x)\ndef f(x: real) -> (real ;) = loop 3 g(x)",
     "def f(x: real) -> (real ;) = loop 3 g(x)\ndef g(x: real) -> (real ;) = sin(x)"),
    ("Def", "a function is defined once",
     "def f(x: real) -> (real ;) = sin(x)\ndef g(x: real) -> (real ;) = cos(x)",
     "def f(x: real) -> (real ;) = sin(x)\ndef f(x: real) -> (real ;) = cos(x)"),
]

TYPING_RULES = sorted(name for (judgment, name) in RULES if judgment == "typing")


def test_every_typing_rule_has_a_mutation():
    assert TYPING_RULES, "no typing rules registered"
    missing = set(TYPING_RULES) - {c[0] for c in CASES}
    assert not missing, f"typing rules without a violating program: {sorted(missing)}"
    unknown = {c[0] for c in CASES} - set(TYPING_RULES)
    assert not unknown, f"cases for unregistered rules: {sorted(unknown)}"


@pytest.mark.parametrize("rule, condition, good, bad", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_violating_a_side_condition_is_rejected_by_that_rule(rule, condition, good, bad):
    typecheck(parse_program(good, "good.la"))          # the unmutated program is well typed
    with pytest.raises(LinearATypeError) as info:
        typecheck(parse_program(bad, "bad.la"))
    e = info.value
    assert e.rule == rule, f"{condition}: rejected by {e.rule}, not {rule}: {e}"
    assert e.pos is not None and e.file == "bad.la", str(e)
    assert f"({rule}):" in str(e)
