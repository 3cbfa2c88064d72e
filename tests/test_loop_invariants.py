"""Invariant carries (issue 14): a loop's parameters ride in its carry, returned
unchanged by the step; unzip does not stack them (ULoopInv: the linear loop
carries them, non-linear and unchanged) and transposition carries them through
the reversed loop (TLoopInv).  Checked against the unrolled program, the tape
oracle, the residual stack's type and M measured by the evaluator."""
import math
from pathlib import Path

import pytest

from linear_a.semantics import evaluate, parse_program, show, typecheck
from linear_a.semantics.errors import TransformError
from linear_a.semantics.syntax import ArrayType, Loop, iter_nodes
from linear_a.transforms.compose import grad, linearize, vjp_program
from linear_a.transforms.loops import invariant_carries, unroll_loops
from linear_a.transforms.oracle import oracle_grad
from linear_a.transforms.transpose import transpose_program

from helpers import LINEAR_LOOP

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EULER_AT = {"x0": 1.0, "y0": 0.5, "a": 1.1, "b": 0.4, "c": 0.4, "d": 0.1}
RNN_AT = {"h0": 0.1, "w": 0.9, "u": 0.5, "b": -0.1, "v": 1.3}

# k is invariant; s is not (it is swapped with t each step: the values come
# back, but at the other position); q is returned unchanged but is not read by
# the linear half (so it is no residual either way)
MIXED = """
def step(x: real, k: real, s: real, t: real, q: real) -> (real, real, real, real, real ;) =
  let (kx ;) = k * x in
  let (st ;) = s * t in
  let (y ;) = sin(kx) in
  let (x1 ;) = y + st in
  (x1, k, t, s, q ;)

def f(x: real, k: real, s: real, t: real, q: real) -> (real ;) =
  let (x1, k1, s1, t1, q1 ;) = loop {n} step(x, k, s, t, q) in
  let (;) = drop(k1) in
  let (;) = drop(q1) in
  let (a ;) = x1 * s1 in
  let (r ;) = a + t1 in
  (r ;)
"""
MIXED_AT = {"x": 0.3, "k": 1.7, "s": 0.6, "t": -0.8, "q": 2.0}

# no invariant carry at all
NONE = """
def step(x: real, v: real) -> (real, real ;) =
  let (a ;) = sin(v) in
  let (x1 ;) = x * a in
  let (v1 ;) = v + x in
  (x1, v1 ;)

def f(x: real, v: real) -> (real ;) =
  let (x1, v1 ;) = loop {n} step(x, v) in
  x1 * v1
"""
NONE_AT = {"x": 0.9, "v": 0.2}


# Euler written differently: parameters first in the carry, the vector field in
# a called definition -- the parameters reach the stack only inside the callee's
# residual tuple, which ULoopInv follows (the residual tree)
ALT = """
def field(p: real, q: real, al: real, be: real, ga: real, de: real) -> (real, real ;) =
  let (pq ;) = p * q in
  let (g1 ;) = al * p in
  let (g2 ;) = be * pq in
  let (dp ;) = g1 - g2 in
  let (g3 ;) = de * pq in
  let (g4 ;) = ga * q in
  let (dq ;) = g3 - g4 in
  (dp, dq ;)

def lv(al: real, be: real, ga: real, de: real, p: real, q: real) -> (real, real, real, real, real, real ;) =
  let (dp, dq ;) = field(p, q, al, be, ga, de) in
  let (dt ;) = 0.01 in
  let (p1 ;) = let (e ;) = dt * dp in p + e in
  let (q1 ;) = let (e2 ;) = dt * dq in q + e2 in
  (al, be, ga, de, p1, q1 ;)

def model(u: real, v: real, al: real, be: real, ga: real, de: real) -> (real ;) =
  let (k1, k2, k3, k4, pN, qN ;) = loop {n} lv(al, be, ga, de, u, v) in
  let (;) = drop(k4) in let (;) = drop(k3) in let (;) = drop(k2) in let (;) = drop(k1) in
  pN + qN
"""
ALT_AT = {"u": 1.0, "v": 0.5, "al": 1.1, "be": 0.4, "ga": 0.4, "de": 0.1}


def euler(n):
    text = (EXAMPLES / "euler.la").read_text().replace("loop 200", f"loop {n}")
    return parse_program(text, f"euler{n}.la")


def rnn(n):
    text = (EXAMPLES / "rnn.la").read_text().replace("loop 100", f"loop {n}")
    return parse_program(text, f"rnn{n}.la")


CASES = {
    "euler": (euler, "euler", EULER_AT),
    "rnn": (rnn, "rnn", RNN_AT),
    "mixed": (lambda n: parse_program(MIXED.format(n=n), "mixed.la"), "f", MIXED_AT),
    "none": (lambda n: parse_program(NONE.format(n=n), "none.la"), "f", NONE_AT),
    "alt": (lambda n: parse_program(ALT.format(n=n), "alt.la"), "model", ALT_AT),
}


def loops_in(prog):
    return [x for d in prog.defs for x in iter_nodes(d.body) if type(x) is Loop]


def close(a, b, tol=1e-10):
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@pytest.mark.parametrize("n", [0, 1, 2, 7])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_equals_unrolled_and_oracle(case, n):
    make, fn, at = CASES[case]
    p = make(n)
    u = unroll_loops(p)
    got = grad(p, fn, at)
    unrolled = grad(u, fn, at)
    oracle = oracle_grad(p, fn, at)
    assert close(got.primal[0], unrolled.primal[0])
    for name in at:
        assert close(got.gradient[name], unrolled.gradient[name]), (case, n, name)
        assert close(got.gradient[name], oracle[name]), (case, n, name)


def test_which_carries_are_invariant():
    assert invariant_carries(euler(3).get("euler_step"), 6) == (2, 3, 4, 5)
    assert invariant_carries(rnn(3).get("rnn_step"), 5) == (1, 2, 3)
    m = parse_program(MIXED.format(n=3), "m.la")
    assert invariant_carries(m.get("step"), 5) == (1, 4)          # s, t swap: not invariant
    assert invariant_carries(parse_program(NONE.format(n=3), "n.la").get("step"), 2) == ()


def _stack_elems(prog, fn):
    lin = linearize(prog, names=[fn])
    (R,) = lin[fn + "_jvp_nl"].nl_out[-1:]
    return [t.elem for t in R.items if type(t) is ArrayType]


def test_the_stack_element_holds_only_the_varying_residuals():
    (euler_elem,) = _stack_elems(euler(5), "euler")
    assert repr(euler_elem) == "(real, real, real)"              # x, y, x·y (was 7: a, b, d, c too)
    (rnn_elem,) = _stack_elems(rnn(5), "rnn")
    assert len(rnn_elem.items) == 4                              # w, u, b no longer stacked
    (mixed_elem,) = _stack_elems(parse_program(MIXED.format(n=5), "m.la"), "f")
    assert len(mixed_elem.items) == 4                            # x, s, t, kx; k carried instead
    (alt_elem,) = _stack_elems(parse_program(ALT.format(n=5), "a.la"), "model")
    assert repr(alt_elem) == "(real, real, real)"                # p, q, p·q of field's residuals
    (none_elem,) = _stack_elems(parse_program(NONE.format(n=5), "n.la"), "f")
    assert len(none_elem.items) == 3                             # x, v, a: nothing to keep out


def test_the_linear_loop_carries_the_invariants_unchanged():
    lin = linearize(euler(5), names=["euler"])
    (back,) = [x for x in loops_in(lin) if x.over]
    assert back.nl == ("a", "b", "d", "c") and back.fn == "euler_step_jvp_lin_inv"
    vp = vjp_program(euler(5), "euler")
    (rev,) = [x for x in loops_in(vp) if x.reverse]
    assert rev.nl == ("a", "b", "d", "c") and rev.fn == "euler_step_jvp_lin_inv_T"


@pytest.mark.parametrize("case,per_iteration", [("euler", 3), ("rnn", 4), ("alt", 3)])
def test_save_all_memory_grows_by_the_varying_residuals_only(case, per_iteration):
    """M of the save-all gradient, measured by the evaluator: its slope in N is the
    stack element's size (euler 3 reals per iteration, 7 when the parameters were
    stacked too; rnn 4, was 6)."""
    make, fn, at = CASES[case]
    m = {n: grad(make(n), fn, at).memory for n in (100, 200)}
    assert m[200] - m[100] == per_iteration * 100


@pytest.mark.parametrize("case", sorted(CASES))
def test_printed_programs_reparse_and_typecheck(case):
    make, fn, _ = CASES[case]
    for out in (linearize(make(4), names=[fn]), vjp_program(make(4), fn)):
        text = show(out)
        again = parse_program(text, "printed.la")
        assert show(again) == text
        typecheck(again)




def test_a_users_linear_loop_with_an_invariant_carry_transposes():
    p = parse_program(LINEAR_LOOP, "lin.la")
    t = transpose_program(p, ["f"])
    typecheck(t)
    (rev,) = loops_in(t)
    assert rev.reverse and rev.nl == ("k",)
    r = evaluate(t, "f_T", ([1.5], [2.0]))
    assert close(r.lin[0], 1.5 ** 3 * 2.0)
    assert r.nl == ()


def test_a_varying_non_linear_carry_in_linear_code_is_refused():
    bad = LINEAR_LOOP.replace("(k ; y2)", "let (k2 ;) = k * k in\n  (k2 ; y2)")
    p = parse_program(bad, "bad.la")
    typecheck(p)
    with pytest.raises(TransformError, match="does not return unchanged"):
        transpose_program(p, ["f"])


# ----------------------------------------------------------------------------
# per-rule obligations (N symbolic) and the adjoint by induction on N


def test_invariant_loop_rules_per_rule_obligations():
    from linear_a.proofs import obligations
    from linear_a.semantics.evaluate import Costs
    consts = obligations.constants()
    fams = {f.rule: f for f in obligations.families()}
    assert {"ULoopInv", "TLoopInv"} <= set(fams)
    # the instances exercise the rules they are named after
    u = obligations.instance(fams["ULoopInv"], {"N": 3})
    from linear_a.transforms.unzip import unzip_program
    assert [x.fn for x in loops_in(unzip_program(u, names=["f"]))] == ["s_nl_inv", "s_lin_inv"]
    obls = [o for r in ("ULoopInv", "TLoopInv")
            for o in obligations.obligations_for(fams[r], consts, Costs())]
    assert {o.theorem for o in obls} == {"unzip-cost", "transpose-cost", "transpose-size"}
    assert all(o.status == "proved" for o in obls), [(o.rule, o.theorem, o.status) for o in obls]
    adj = [o for K in obligations.LOOP_STEPS for o in obligations.loop_adjoint(K, invariant=True)]
    assert {o.rule for o in adj} == {"TLoopInv[K=1]", "TLoopInv[K=2]"}
    assert all(o.status == "proved" for o in adj)


def test_the_invariant_adjoint_obligation_refutes_a_forward_transposed_loop(monkeypatch):
    """Not vacuous: TLoopInv emitting its loop in the original order is refuted
    (K = 2: the steps are matrices that do not commute)."""
    from linear_a.proofs import obligations
    from linear_a.transforms import loops as L
    real = L.TLoopInv

    def forwards(cx, e, cts):
        return real(cx, Loop(e.n, e.fn, e.nl, e.lin, e.over, not e.reverse, e.pos), cts)
    monkeypatch.setattr(L, "TLoopInv", forwards)
    (adj, _) = obligations.loop_adjoint(2, invariant=True)
    assert adj.theorem == "transpose-adjoint" and adj.status == "refuted", adj
