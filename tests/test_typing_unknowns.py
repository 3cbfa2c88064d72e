"""The typing judgment's unknowns: an unannotated ``zero`` gets a type
variable, solved by unification with the first known type it meets (SPEC §3).

Every accepted case checks the types the derivation ends with — each
``zero``'s type, every node's result and every binder's type fully resolved
(no unknown left, the expected tuple shape) — and evaluates; every rejected
case names the rule and the line.  These are the paths no checked program
reaches (the random programs annotate their untyped zeros), found by the
issue-19 mutation run."""
import pytest

from linear_a.semantics import LinearATypeError, evaluate, parse_program, typecheck
from linear_a.semantics.syntax import REAL, TupleType, Zero, iter_nodes
from linear_a.semantics.typecheck import TVar

PAIR = TupleType((REAL, REAL))


def _unknowns(t) -> bool:
    todo = [t]
    while todo:
        t = todo.pop()
        if type(t) is TVar:
            return True
        if type(t) is TupleType:
            todo.extend(t.items)
    return False


def accepts(text, zero_types):
    """Typecheck; the zeros' types in order must be ``zero_types``, and nothing
    the derivation reports may hold an unknown."""
    prog = parse_program(text, "case.la")
    dv = typecheck(prog)
    zeros = [n for d in prog.defs for n in iter_nodes(d.body) if type(n) is Zero]
    assert [z.ty for z in zeros] == zero_types
    for node in dv.walk():
        if node.rule in ("Program", "Def"):
            continue
        nl, lin = node.result
        assert not any(_unknowns(t) for t in nl + lin), (node.rule, node.result)
    for d in dv.premises:
        for name, (_, ty) in d.notes["env"].items():
            assert not _unknowns(ty), (name, ty)
    return prog


def rejects(text, rule, line, words=()):
    with pytest.raises(LinearATypeError) as info:
        typecheck(parse_program(text, "case.la"))
    e = info.value
    assert e.rule == rule, str(e)
    assert e.pos is not None and e.pos.line == line, str(e)
    for w in words:
        assert w in str(e), str(e)


def test_a_zero_added_to_a_pair_is_a_pair():
    prog = accepts("def f(; x: (real, real)) -> (; (real, real)) =\n"
                   "  let (; z) = zero in\n"
                   "  x +. z", [PAIR])
    assert evaluate(prog, "f", {"x": (1.0, 2.0)}).lin == ((1.0, 2.0),)


def test_a_zero_unpacked_gets_a_tuple_of_unknowns_each_solved_later():
    # z : (?a, ?b), ?a := real by `a +. x`, ?b := (real, real) by `b +. y`
    prog = accepts("def f(; x: real, y: (real, real)) -> (; real, (real, real)) =\n"
                   "  let (; z) = zero in\n"
                   "  let (a, b) = z in\n"
                   "  let (; u) = a +. x in\n"
                   "  let (; v) = b +. y in\n"
                   "  (; u, v)", [TupleType((REAL, PAIR))])
    r = evaluate(prog, "f", {"x": 3.0, "y": (1.0, 2.0)})
    assert r.lin == (3.0, (1.0, 2.0))


def test_components_solved_to_reals_resolve_to_a_tuple_of_reals():
    prog = accepts("def f(; x: real, y: real) -> (; (real, real)) =\n"
                   "  let (; z) = zero in\n"
                   "  let (a, b) = z in\n"
                   "  let (; u) = x +. a in\n"
                   "  let (; v) = y +. b in\n"
                   "  (u, v)", [PAIR])
    assert evaluate(prog, "f", {"x": 3.0, "y": 4.0}).lin == ((3.0, 4.0),)


def test_a_zero_solved_by_the_declared_result():
    prog = accepts("def f(c: real ; x: real) -> (real ; ((real, real), real)) =\n"
                   "  let (; z) = zero in\n"
                   "  let (; s) = c *. z in\n"
                   "  let (;) = drop(x) in\n"
                   "  (c ; s)", [TupleType((PAIR, REAL))])
    assert evaluate(prog, "f", {"c": 2.0, "x": 1.0}).lin == (((0.0, 0.0), 0.0),)


def test_a_zero_solved_by_a_call_argument():
    accepts("def g(; p: (real, (real, real))) -> (; (real, (real, real))) =\n"
            "  (; p)\n"
            "def f(; x: real) -> (; real, (real, (real, real))) =\n"
            "  let (; z) = zero in\n"
            "  let (; w) = g(; z) in\n"
            "  (; x, w)", [TupleType((REAL, PAIR))])


def test_a_dup_of_a_zero_shares_its_unknown():
    accepts("def f(; x: (real, real)) -> (; (real, real), (real, real)) =\n"
            "  let (; z) = zero in\n"
            "  let (; a, b) = dup(z) in\n"
            "  let (; s) = a +. x in\n"
            "  (; s, b)", [PAIR])


def test_a_zero_in_a_linear_tuple_is_solved_through_it():
    accepts("def f(; x: real, k: real, y: (real, real)) -> (; (real, (real, real))) =\n"
            "  let (; z) = zero in\n"
            "  let (; t) = (x, z) in\n"
            "  let (; q) = (k, y) in\n"
            "  t +. q", [PAIR])


def test_an_annotated_binder_solves_the_zero():
    accepts("def f(x: real) -> (real ;) =\n"
            "  let (; z: (real, (real, real))) = zero in\n"
            "  let (;) = drop(z) in\n"
            "  (x ;)", [TupleType((REAL, PAIR))])


def test_a_zero_whose_component_stays_unknown_is_rejected():
    rejects("def f(; x: real) -> (; real) =\n"
            "  let (; z) = zero in\n"
            "  let (a, b) = z in\n"
            "  let (;) = drop(b) in\n"
            "  a +. x", "Zero", 2, ["cannot infer"])


def test_a_solved_zero_meeting_another_type_is_rejected_by_that_rule():
    rejects("def f(; x: real, y: (real, real)) -> (; real, (real, real)) =\n"
            "  let (; z) = zero in\n"
            "  let (; a, b) = dup(z) in\n"
            "  let (; u) = a +. x in\n"
            "  let (; v) = b +. y in\n"
            "  (; u, v)", "LAdd", 5, ["`+.` adds values of one type"])


def test_a_zero_as_a_primitive_argument_is_rejected():
    rejects("def f(x: real) -> (real ;) =\n"
            "  let (; z) = zero in\n"
            "  let (y ;) = sin(z) in\n"
            "  (y ;)", "Prim", 3)


def test_a_zero_scale_by_a_zero_is_rejected():
    rejects("def f(; x: real) -> (; real) =\n"
            "  let (; z) = zero in\n"
            "  let (; s) = z *. x in\n"
            "  (; s)", "Scale", 3)


CYCLE_HINT = "no type is its own component"


def _error(text):
    with pytest.raises(LinearATypeError) as info:
        typecheck(parse_program(text, "case.la"))
    return info.value


def test_a_zero_added_to_a_tuple_holding_itself_gets_the_cycle_hint():
    # b and a are one unknown σ; b +. (x, a) asks σ = (real, σ)
    e = _error("def f(; x: real) -> (; real) =\n"
               "  let (; z) = zero in\n"
               "  let (; a, b) = dup(z) in\n"
               "  let (; t) = (x, a) in\n"
               "  let (; s) = b +. t in\n"
               "  (; s)")
    assert (e.rule, e.pos.line) == ("LAdd", 5), str(e)
    assert e.hint is not None and CYCLE_HINT in e.hint, str(e)


def test_a_shape_clash_with_an_unknown_on_one_side_gets_no_cycle_hint():
    # (real, σ) against real: a clash of shapes, not a cycle (σ is unknown, the other side is not)
    e = _error("def f(; x: real, k: real) -> (; real) =\n"
               "  let (; z) = zero in\n"
               "  let (; t) = (k, z) in\n"
               "  t +. x")
    assert (e.rule, e.pos.line) == ("LAdd", 4), str(e)
    assert CYCLE_HINT not in str(e), str(e)


def test_a_binder_deepened_by_a_zero_solved_later_is_reported_at_the_binder():
    from linear_a.semantics.typecheck import MAX_TYPE_DEPTH
    deep = "real"
    for _ in range(MAX_TYPE_DEPTH):
        deep = f"(real, {deep})"
    # z (hence a) is solved to `deep` by the `+.` on line 5, after t = (x, a) was bound on line 4:
    # t is one level too deep, z is not
    e = _error(f"def f(; x: real, y: {deep}) -> (; {deep}) =\n"
               "  let (; z) = zero in\n"
               "  let (; a, b) = dup(z) in\n"
               "  let (; t) = (x, a) in\n"
               "  let (; s) = b +. y in\n"
               "  let (u, v) = t in\n"
               "  let (;) = drop(u) in\n"
               "  let (;) = drop(v) in\n"
               "  (; s)")
    assert (e.rule, e.pos.line, e.pos.col) == ("Let", 4, 3), str(e)
    assert "`t` has a type nested more than" in str(e), str(e)
