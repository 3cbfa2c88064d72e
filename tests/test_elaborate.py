"""Dup/drop insertion (semantics/elaborate.py): the output satisfies the typing
rules of SPEC §3 and computes what the input meant."""
import time

import pytest

from linear_a.semantics import (REAL, Block, Def, Let, LinearATypeError, Param, Prim, Program, Ret,
                       ScopeError, evaluate, parse_program, show, typecheck)
from linear_a.semantics.elaborate import insert_dup_drop
from linear_a.semantics.syntax import Drop, Dup, iter_nodes


def prog(text):
    return parse_program(text, "t.la")


def nodes(p, cls):
    return [n for d in p.defs for n in iter_nodes(d.body) if type(n) is cls]


def test_linear_reuse_becomes_dup_and_computes_twice():
    p = prog("def f(; dx: real) -> (; real) = dx +. dx")
    with pytest.raises(LinearATypeError):
        typecheck(p)
    q = insert_dup_drop(p)
    typecheck(q)
    for dx in (3.0, -1.25, 0.0):
        assert evaluate(q, "f", {"dx": dx}).lin == (2 * dx,)
    assert len(nodes(q, Dup)) == 1
    # the input is not modified
    with pytest.raises(LinearATypeError):
        typecheck(prog(show(p)))


def test_linear_used_three_times_gets_two_dups():
    p = prog("def f(x: real ; dx: real) -> (; real, real, real) =\n"
             "  let (; a) = x *. dx in\n"
             "  let (; b) = x *. dx in\n"
             "  (; a, b, dx)")
    q = insert_dup_drop(p)
    typecheck(q)
    assert len(nodes(q, Dup)) == 2
    x, dx = 1.5, 2.0
    assert evaluate(q, "f", {"x": x, "dx": dx}).lin == (x * dx, x * dx, dx)


def test_unused_variables_of_both_classes_are_dropped():
    p = prog("def f(x: real, y: real ; dx: real, dy: real) -> (real ; real) =\n"
             "  let (s ;) = sin(x) in\n"
             "  let (t ;) = cos(x) in\n"
             "  let (pr ;) = (s, t) in\n"
             "  let (a, b) = pr in\n"
             "  let (; u) = x *. dx in\n"
             "  (a ; u)")
    with pytest.raises(LinearATypeError) as e:
        typecheck(p)
    assert "never used" in e.value.message
    q = insert_dup_drop(p)
    typecheck(q)
    dropped = sorted(n.v for n in nodes(q, Drop))
    assert dropped == ["b", "dy", "y"]
    import math
    r = evaluate(q, "f", {"x": 0.3, "y": 9, "dx": 2, "dy": 5})
    assert r.nl == (math.sin(0.3),) and r.lin == (0.3 * 2,)


def test_drop_is_placed_right_after_the_binder():
    p = prog("def f(x: real) -> (real ;) =\n"
             "  let (s ;) = sin(x) in\n"
             "  let (t ;) = cos(x) in\n"
             "  (t ;)")
    q = insert_dup_drop(p)
    binds = q.defs[0].body.binds
    assert [type(b.rhs).__name__ for b in binds] == ["Prim", "Drop", "Prim"]
    assert binds[1].rhs.v == "s"


def test_nested_right_hand_sides_are_elaborated_in_their_own_scope():
    p = prog("def f(x: real ; dx: real) -> (real ; real) =\n"
             "  let (y ; dy) =\n"
             "    let (u ;) = sin(x) in\n"
             "    let (v ;) = cos(x) in\n"
             "    let (; e) = dx +. dx in\n"
             "    (v ; e)\n"
             "  in\n"
             "  (y ; dy)")
    q = insert_dup_drop(p)
    typecheck(q)
    import math
    r = evaluate(q, "f", {"x": 0.5, "dx": 1.5})
    assert r.nl == (math.cos(0.5),) and r.lin == (3.0,)
    inner = next(b.rhs for b in q.defs[0].body.binds if type(b) is Let and b.nl == ("y",))
    assert isinstance(inner, Block)
    assert any(type(b.rhs) is Drop and b.rhs.v == "u" for b in inner.binds)


def test_well_typed_program_is_unchanged():
    text = ("def f(x: real ; dx: real) -> (real ; real) =\n"
            "  let (s ;) = sin(x) in\n"
            "  let (c ;) = cos(x) in\n"
            "  let (; t) = c *. dx in\n"
            "  (s ; t)\n")
    p = prog(text)
    assert show(insert_dup_drop(p)) == show(p)


def test_idempotent_and_fresh_names_do_not_clash():
    p = prog("def f(; dx: real, dx_1: real) -> (; real, real) =\n"
             "  let (; s) = dx +. dx in\n"
             "  (; s, dx_1)")
    q = insert_dup_drop(p)
    typecheck(q)
    assert evaluate(q, "f", {"dx": 2, "dx_1": 7}).lin == (4.0, 7.0)
    assert show(insert_dup_drop(q)) == show(q)
    assert show(prog(show(q))) == show(q)   # still round-trips


def test_linear_tuple_and_call_arguments():
    p = prog("def g(; a: real, b: real) -> (; real) =\n"
             "  a +. b\n"
             "def f(; x: real) -> (; real, (real, real)) =\n"
             "  let (; s) = g(; x, x) in\n"
             "  let (; p) = (x, s) in\n"
             "  (; x, p)")
    q = insert_dup_drop(p)
    typecheck(q)
    assert evaluate(q, "f", {"x": 1.5}).lin == (1.5, (1.5, 3.0))


def test_unused_unpacked_linear_component():
    p = prog("def f(; p: (real, real)) -> (; real) =\n"
             "  let (a, b) = p in\n"
             "  (; a)")
    q = insert_dup_drop(p)
    typecheck(q)
    r = evaluate(q, "f", {"p": [2, 3]})
    assert r.lin == (2.0,)
    assert r.work == 1    # dropping a linear real costs ‖real‖ = 1 (SPEC §4)


def test_shadowing_is_reported_not_guessed():
    p = prog("def f(x: real) -> (real ;) =\n"
             "  let (y ;) = sin(x) in\n"
             "  let (y ;) = cos(x) in\n"
             "  (y ;)")
    with pytest.raises(ScopeError) as e:
        insert_dup_drop(p)
    assert e.value.pos.line == 3 and "bound twice" in e.value.message


def test_def_and_program_inputs():
    p = prog("def f(x: real, y: real) -> (real ;) = sin(x)")
    d = insert_dup_drop(p.defs[0])
    assert isinstance(d, Def)
    typecheck(Program([d]))
    with pytest.raises(TypeError):
        insert_dup_drop("not a program")


def test_long_chain_is_iterative():
    n = 100_000
    binds, prev = [], "x"
    for i in range(n):
        binds.append(Let((f"a{i}",), (), Prim("sin", (prev,))))
        prev = f"a{i}"
    d = Def("f", [Param("x", REAL), Param("w", REAL)], [Param("dx", REAL)], [REAL], [REAL],
            Block(binds, Ret((prev,), ("dx", "dx"))))
    t = time.perf_counter()
    q = insert_dup_drop(d)           # a recursive walk would overflow the stack here
    elapsed = time.perf_counter() - t
    assert len(q.body.binds) == n + 2          # + drop(w) + one dup of dx
    assert elapsed < 20
