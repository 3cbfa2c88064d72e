"""Transposition (SPEC §9): output typechecks, the adjoint identity holds
symbolically, transposing twice gives back the function, work is conserved
under dual pricing, size stays linear, refusals."""
from __future__ import annotations

import sympy
import pytest

from linear_a.semantics import (Costs, TransformError, evaluate, parse_program, show, typecheck)
from linear_a.semantics.rules import RULES
from linear_a.semantics.syntax import (Block, Drop, Let, Program, Ret, Scale, Def, Param, REAL, RealType,
                              expr_size)
from linear_a.transforms.compose import linearize
from linear_a.transforms.transpose import transpose, transpose_program

from helpers import LINEAR, SEED, flat, symbols_like


# calls, non-linear code inside linear code (kept in front), a nested linear
# right-hand side, a permuted return, a dropped input, an unused output
CALLS = LINEAR + """
def h(x: real, q: (real, real) ; a: real, b: real, c: (real, real)) -> (; real, (real, real), real) =
  let (q1, q2) = q in
  let (; u, v) = g(x ; a, b) in
  let (y ;) = sin(x) in
  let (; w) =
    let (z ;) = cos(y) in
    let (; k) = z *. u in
    let (; m) = q1 *. k in
    m +. v
  in
  let (;) = drop(c) in
  let (; o) = zero : real in
  let (; e) = q2 *. w in
  let (; c2) = zero : (real, real) in
  (; o, c2, e)
"""

TAIL_CALL = LINEAR + """
def k(x: real ; a: real, b: real) -> (; real, real) =
  let (;) = drop(x) in
  g(x ; b, a)
"""


def sym_args(d: Def, prefix=""):
    nl = [symbols_like(p.ty, prefix + p.name) for p in d.nl_params]
    lin = [symbols_like(p.ty, prefix + "l_" + p.name) for p in d.lin_params]
    return nl, lin


def adjoint_gap(prog: Program, tprog: Program, fn: str):
    """⟨ct, L ẋ⟩ − ⟨Lᵀ ct, ẋ⟩ with every input a symbol."""
    d = prog.get(fn)
    nl, lin = sym_args(d)
    cts = [symbols_like(t, f"ct{i}") for i, t in enumerate(d.lin_out)]
    fwd = evaluate(prog, fn, (nl, lin), domain="sympy").lin
    bwd = evaluate(tprog, fn + "_T", (nl, cts), domain="sympy").lin
    lhs = sum(a * b for a, b in zip(flat(tuple(cts)), flat(fwd)))
    rhs = sum(a * b for a, b in zip(flat(bwd), flat(tuple(lin))))
    return sympy.expand(lhs - rhs)


@pytest.mark.parametrize("src,fn", [(LINEAR, "g"), (CALLS, "h"), (TAIL_CALL, "k")], ids=["g", "h", "k"])
def test_transpose_typechecks_and_is_the_adjoint(src, fn):
    prog = parse_program(src)
    t = transpose_program(prog, [fn])
    typecheck(t)
    assert show(parse_program(show(t))) == show(t)
    assert adjoint_gap(prog, t, fn) == 0


def test_linear_example_values():
    """g(x; dx, dy) = (x·(dx + dy), dy), so gᵀ(x; a, b) = (x·a, x·a + b)."""
    t = transpose_program(parse_program(LINEAR))
    r = evaluate(t, "g_T", {"x": 3, "ct_out1": 1, "ct_out2": 10})
    assert r.lin == (3.0, 13.0)


def test_cotangents_come_back_in_parameter_order():
    prog = parse_program("""
def p(; a: real, b: (real, real), c: real) -> (; real, (real, real), real) =
  (; c, b, a)
""")
    t = transpose_program(prog)
    d = t.get("p_T")
    assert [p.ty for p in d.lin_params] == [REAL, d.lin_out[1], REAL]
    r = evaluate(t, "p_T", ([], [1, (2, 3), 4]))
    assert r.lin == (4.0, (2.0, 3.0), 1.0)


def test_dropped_input_gets_zero_and_unused_cotangent_is_dropped():
    t = transpose_program(parse_program(CALLS), ["h"])
    body = t.get("h_T").body
    zeros = [b for b in body.binds if type(b) is Let and type(b.rhs).__name__ == "Zero"]
    drops = [b for b in body.binds if type(b) is Let and type(b.rhs) is Drop]
    assert any(repr(b.rhs.ty) == "(real, real)" for b in zeros)    # drop(c) -> zero : (real, real)
    assert len(drops) == 2                                          # zero : real, zero : (real, real)
    r = evaluate(t, "h_T", {"x": 0.5, "q": [2, 3], "ct_out1": 7, "ct_out2": [1, 1], "ct_out3": 0})
    assert r.lin[2] == (0.0, 0.0)


def test_nonlinear_code_stays_in_front_in_order():
    t = transpose_program(parse_program(CALLS), ["h"])
    binds = t.get("h_T").body.binds
    names = [b.nl for b in binds if type(b) is Let and b.nl]
    assert names == [("y",), ("z",)]
    first_linear = next(i for i, b in enumerate(binds) if type(b) is Let and b.lin)
    assert all(not (type(b) is Let and b.lin) for b in binds[:first_linear])
    assert binds[0].names == ("q1", "q2")            # the unpack leads


def eval_equal(p1, f1, p2, f2):
    d = p1.get(f1)
    nl, lin = sym_args(d)
    a = evaluate(p1, f1, (nl, lin), domain="sympy").lin
    b = evaluate(p2, f2, (nl, lin), domain="sympy").lin
    return all(sympy.expand(x - y) == 0 for x, y in zip(flat(a), flat(b))) and len(flat(a)) == len(flat(b))


@pytest.mark.parametrize("src,fn", [(LINEAR, "g"), (CALLS, "h"), (TAIL_CALL, "k")], ids=["g", "h", "k"])
def test_transpose_twice_is_the_function(src, fn):
    prog = parse_program(src)
    t = transpose_program(prog, [fn])
    tt = transpose_program(t, [fn + "_T"])
    typecheck(tt)
    assert eval_equal(prog, fn, tt, fn + "_T_T")


WORK_POINTS = {"g": {"x": 3, "dx": 1, "dy": 2},
               "h": {"x": 0.5, "q": [2, 3], "a": 1, "b": 2, "c": [3, 4]},
               "k": {"x": 1, "a": 1, "b": 2}}


@pytest.mark.parametrize("src,fn", [(LINEAR, "g"), (CALLS, "h"), (TAIL_CALL, "k")], ids=["g", "h", "k"])
def test_transpose_conserves_work_under_dual_pricing(src, fn):
    prog = parse_program(src)
    t = transpose_program(prog, [fn])
    d = prog.get(fn)
    w = evaluate(prog, fn, WORK_POINTS[fn]).work
    td = t.get(fn + "_T")
    nl = [WORK_POINTS[fn][p.name] for p in d.nl_params]
    cts = [_ones(ty) for ty in d.lin_out]
    # asymmetric prices make a swapped pair visible
    costs = Costs(lit=1, zero=3, drop=5, add=7, dup=11, scale=13)
    assert evaluate(t, fn + "_T", (nl, cts), costs=costs.dual()).work == \
        evaluate(prog, fn, WORK_POINTS[fn], costs=costs).work
    assert evaluate(t, fn + "_T", (nl, cts), costs=Costs().dual()).work == w
    assert expr_size(td.body) <= 2 * expr_size(d.body) + 4 * len(d.lin_params) + 4


def _ones(ty):
    return 1.0 if isinstance(ty, RealType) else tuple(_ones(t) for t in ty.items)




def test_transpose_of_linearized_code_conserves_work():
    lin = linearize(parse_program(SEED))
    typecheck(lin)
    t = transpose_program(lin, ["f_jvp_lin"])
    typecheck(t)
    r = evaluate(lin, "f_jvp_nl", {"x1": 2, "x2": 5})
    w = r.nl[1]
    a = evaluate(lin, "f_jvp_lin", ([w], [1.0, 0.0])).work
    b = evaluate(t, "f_jvp_lin_T", ([w], [1.0]), costs=Costs().dual()).work
    assert a == b
    assert adjoint_gap(lin, t, "f_jvp_lin") == 0

def test_transpose_derivation():
    dv = transpose(parse_program(CALLS), ["h"])
    used = dv.rules_used()
    for r in ["TRet", "TLetLin", "TLetNonLin", "TNUnpack", "TLUnpack", "TLinTup", "TDup", "TLinAdd",
              "TZero", "TDropLin", "TScale", "TCall"]:
        assert used[r] > 0, r
    for node in dv.walk():
        assert node.judgment == "transpose"
        assert ("transpose", node.rule) in RULES


def test_refuses_nonlinear_outputs():
    prog = parse_program(SEED)
    with pytest.raises(TransformError, match="`f`.*non-linear results"):
        transpose(prog, ["f"])
    with pytest.raises(TransformError):
        transpose(prog)
    mixed = parse_program("""
def m(x: real ; a: real) -> (real ; real) =
  (x ; a)
""")
    with pytest.raises(TransformError, match="`m`"):
        transpose(mixed, ["m"])


def test_refuses_linear_call_of_function_with_nonlinear_results():
    prog = parse_program("""
def m(x: real ; a: real) -> (real ; real) =
  (x ; a)
def n(x: real ; a: real) -> (; real) =
  let (y ; b) = m(x ; a) in
  let (;) = drop(y) in
  (; b)
""")
    with pytest.raises(TransformError):
        transpose(prog, ["n"])


def test_unknown_function_name():
    with pytest.raises(TransformError, match="nope"):
        transpose(parse_program(LINEAR), ["nope"])


def linear_chain(n: int) -> Program:
    """ẏ = w ·. (w ·. (… ẋ)) with a non-linear sin chain beside it; built directly."""
    from linear_a.semantics.syntax import Prim
    binds = []
    prev_nl, prev_l = "x", "dx"
    for i in range(n):
        if i % 2:
            binds.append(Let((f"a{i}",), (), Prim("sin", (prev_nl,))))
            prev_nl = f"a{i}"
        else:
            binds.append(Let((), (f"l{i}",), Scale("w", prev_l)))
            prev_l = f"l{i}"
    binds.append(Let((), (), Drop(prev_nl)))
    body = Block(binds, Ret((), (prev_l,)))
    return Program([Def("f", [Param("x", REAL), Param("w", REAL)], [Param("dx", REAL)], [], [REAL], body)])


@pytest.mark.slow
def test_long_linear_chain_transposes_without_recursion():
    n = 100_000
    prog = linear_chain(n)
    t = transpose_program(prog)
    typecheck(t)
    r = evaluate(t, "f_T", {"x": 0.1, "w": 1.0, "ct_out": 2.0})
    assert r.lin == (2.0,)
    w = evaluate(prog, "f", {"x": 0.1, "w": 1.0, "dx": 1.0}).work
    assert evaluate(t, "f_T", {"x": 0.1, "w": 1.0, "ct_out": 2.0}, costs=Costs().dual()).work == w


MIXED_LET = """
def f(v1: real ; dx1: real, dx2: real) -> (; real) =
  let (v5 ; l6) =
    let (; l4) = v1 *. dx1 in
    (v1 ; l4)
  in
  let (; l7) = v5 *. l6 in
  l7 +. dx2
"""


def test_a_let_binding_both_classes_in_linear_code_transposes():
    # Found by `linear-a check` on random linear programs: a nested right-hand
    # side returning a non-linear and a linear value is well typed and must transpose.
    p = parse_program(MIXED_LET)
    typecheck(p)
    t = transpose_program(p, ["f"])
    typecheck(t)
    assert adjoint_gap(p, t, "f") == 0
