"""Loops (issue 14): syntax, typing, evaluation, JVP, unzip, transposition and
the surface, each against an independent reference -- the unrolled program,
the tape oracle, hand-computed W and M, Python's own loop."""
import math

import pytest

from linear_a.semantics import evaluate, parse_program, show, typecheck
from linear_a.semantics.evaluate import Costs
from linear_a.semantics.errors import LinearATypeError, TransformError
from linear_a.semantics.surface import TraceError, linear_a, load_surface_file, trace
from linear_a.semantics.syntax import Loop, iter_nodes, program_size
from linear_a.transforms.compose import grad, linearize, vjp_program
from linear_a.transforms.jvp import jvp_program
from linear_a.transforms.loops import unroll_loops
from linear_a.transforms.oracle import oracle_grad
from linear_a.transforms.transpose import transpose_program
from linear_a.transforms.unzip import unzip_program

from helpers import STACKING_LOOP

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# a damped oscillator, explicit Euler; state (x, v), parameters (k, dt) carried
OSC = """
def step(x: real, v: real, k: real, dt: real) -> (real, real, real, real ;) =
  let (a ;) = k * x in
  let (b ;) = dt * a in
  let (v2 ;) = v - b in
  let (s ;) = sin(v2) in
  let (c ;) = dt * s in
  let (x2 ;) = x + c in
  (x2, v2, k, dt ;)

def f(x: real, v: real, k: real, dt: real) -> (real ;) =
  let (x1, v1, k1, dt1 ;) = loop {n} step(x, v, k, dt) in
  let (;) = drop(k1) in
  let (;) = drop(dt1) in
  let (p ;) = x1 * v1 in
  (p ;)
"""
AT = {"x": 0.7, "v": -0.3, "k": 1.9, "dt": 0.15}


def osc(n):
    return parse_program(OSC.format(n=n), f"osc{n}.la")


def python_osc(n, x, v, k, dt):
    for _ in range(n):
        v = v - dt * (k * x)
        x = x + dt * math.sin(v)
    return x * v


def close(a, b, tol=1e-12):
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def loops_in(prog):
    return [n for d in prog.defs for n in iter_nodes(d.body) if type(n) is Loop]


# ----------------------------------------------------------------------------
# syntax


def test_loop_and_array_print_parse_round_trip():
    text = """def g(x: real, e: real ; d: real) -> (real, real ; real) =
  let (y ;) = x * e in
  let (; d2) = e *. d in
  (y, x ; d2)

def f(x: real, es: [real; 4] ; d: real) -> (real, [real; 4] ; real) =
  let (y, ys ; d1) = loop 4 g(x ; d) over (es) in
  let (z, zs ; d2) = loop reverse 4 g(y ; d1) over (ys) in
  let (;) = drop(zs) in
  let (u ;) = loop 0 h(z) in
  (u, es ; d2)
"""
    text = "def h(x: real) -> (real ;) =\n  let (y ;) = sin(x) in\n  (y ;)\n\n" + text
    p = parse_program(text)
    assert show(p) == text
    typecheck(p)
    kinds = [(l.n, l.fn, l.reverse, l.over) for l in loops_in(p)]
    assert kinds == [(4, "g", False, ("es",)), (4, "g", True, ("ys",)), (0, "h", False, ())]


def test_loop_is_a_name_elsewhere():
    p = parse_program("def f(loop: real, over: real) -> (real ;) =\n  let (reverse ;) = loop * over in\n"
                      "  (reverse ;)\n")
    typecheck(p)
    assert evaluate(p, "f", {"loop": 2, "over": 3}).nl == (6.0,)


# ----------------------------------------------------------------------------
# typing


def test_linear_carry_used_once_per_iteration_by_the_steps_own_typing():
    # a step that drops its linear carry is rejected where the step is checked
    text = """def g(x: real ; d: real) -> (real ; real) =
  let (; d1, d2) = dup(d) in
  let (; e) = d1 +. d2 in
  (x ; e)

def f(x: real ; d: real) -> (real ; real) =
  let (y ; e) = loop 3 g(x ; d) in
  (y ; e)
"""
    typecheck(parse_program(text))
    with pytest.raises(LinearATypeError) as e:
        typecheck(parse_program(text.replace("(x ; e)", "let (;) = drop(e) in\n  (x ; d1)")))
    assert "`d1`" in str(e.value)


def test_arrays_are_non_linear_only():
    with pytest.raises(LinearATypeError) as e:
        typecheck(parse_program("def f(; d: [real; 2]) -> (; [real; 2]) =\n  (; d)\n"))
    assert e.value.rule == "Def" and "non-linear only" in e.value.message
    with pytest.raises(LinearATypeError) as e:
        typecheck(parse_program("def f(x: real) -> (real ;) =\n  let (; z) = zero : [real; 2] in\n"
                                "  let (;) = drop(z) in\n  (x ;)\n"))
    assert e.value.rule == "Zero"


def test_stacked_output_types_and_arity_errors():
    p = parse_program("""def g(x: real) -> (real, (real, real) ;) =
  let (p ;) = (x, x) in
  (x, p ;)

def f(x: real) -> (real, [(real, real); 5] ;) =
  let (y, ps ;) = loop 5 g(x) in
  (y, ps ;)
""")
    typecheck(p)
    r = evaluate(p, "f", {"x": 2.0})
    assert r.nl == (2.0, ((2.0, 2.0),) * 5)
    bad = show(p).replace("loop 5 g(x)", "loop 5 g(x, x)")
    with pytest.raises(LinearATypeError) as e:
        typecheck(parse_program(bad))
    assert e.value.rule == "Loop" and "takes (1 ; 0) arguments" in e.value.message


# ----------------------------------------------------------------------------
# evaluation: W and M by hand


def test_work_and_memory_by_hand():
    # step: 5 primitives (*, *, -, sin, *) and one +  → W(step) = 6; loop overhead 0 per iteration
    for n in (0, 1, 2, 5):
        r = evaluate(osc(n), "f", AT)
        assert close(r.nl[0], python_osc(n, **AT))
        assert r.work == 6 * n + 1                      # + the final product
    # a loop overhead of 1 per iteration is charged N times
    assert evaluate(osc(5), "f", AT, costs=Costs(loop=1)).work == 6 * 5 + 5 + 1
    # memory: f holds its 4 parameters (4); the loop moves them into the step, whose frame
    # peaks at 4 parameters + a + b (the first two lets) = 6 (a is freed after b, b after v2)
    assert evaluate(osc(3), "f", AT).memory == 6
    assert evaluate(osc(0), "f", AT).memory == 4


def test_memory_counts_the_arrays_a_loop_reads_and_stacks():
    p = parse_program("""def g(x: real, e: real) -> (real, real ;) =
  let (y ;) = x * e in
  (y, x ;)

def f(x: real, es: [real; 3]) -> (real ;) =
  let (y, xs ;) = loop 3 g(x) over (es) in
  let (;) = drop(xs) in
  (y ;)
""")
    r = evaluate(p, "f", {"x": 2.0, "es": [1.0, 3.0, 5.0]})
    assert r.nl == (30.0,)
    # the last iteration: es (3) held by the loop, 2 stacked outputs, the step's frame at
    # its peak (x, e, y = 3)  →  8
    assert r.memory == 8 and r.work == 3


def test_reverse_loop_reads_and_stores_from_the_end():
    p = parse_program("""def g(x: real, e: real) -> (real, real ;) =
  let (y ;) = x * e in
  let (z ;) = x + e in
  (y, z ;)

def f(x: real, es: [real; 3]) -> (real, [real; 3] ;) =
  let (y, zs ;) = loop reverse 3 g(x) over (es) in
  (y, zs ;)
""")
    r = evaluate(p, "f", {"x": 1.0, "es": [2.0, 3.0, 5.0]})
    # iterations read 5, 3, 2; the output of the iteration reading es[k] is stored at k
    assert r.nl == (30.0, (17.0, 8.0, 6.0))


def test_a_long_loop_runs_without_recursion():
    r = evaluate(osc(100_000), "f", {"x": 0.1, "v": 0.0, "k": 0.5, "dt": 1e-4})
    assert r.work == 6 * 100_000 + 1
    assert close(r.nl[0], python_osc(100_000, 0.1, 0.0, 0.5, 1e-4), 1e-9)


# ----------------------------------------------------------------------------
# JVP → unzip → transpose


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_gradient_equals_unrolled_and_oracle(n):
    p = osc(n)
    u = unroll_loops(p)
    typecheck(u)
    assert not loops_in(u) and (n == 0 or loops_in(p))
    got = grad(p, "f", AT)
    want_unrolled = grad(u, "f", AT)
    want_oracle = oracle_grad(p, "f", AT)
    want_oracle_unrolled = oracle_grad(u, "f", AT)
    assert close(got.primal[0], python_osc(n, **AT))
    for name in AT:
        for other in (want_unrolled.gradient[name], want_oracle[name], want_oracle_unrolled[name]):
            assert close(got.gradient[name], other, 1e-10), (n, name)
    # JVP by finite differences, independently of every transformation
    h = 1e-6
    fd = (python_osc(n, **{**AT, "k": AT["k"] + h}) - python_osc(n, **{**AT, "k": AT["k"] - h})) / (2 * h)
    assert close(got.gradient["k"], fd, 1e-6)


@pytest.mark.parametrize("policy", ["save-all", "recompute-all"])
def test_policies_agree_on_a_loop(policy):
    p = osc(4)
    r = grad(p, "f", AT, policy=policy)
    o = oracle_grad(p, "f", AT)
    assert all(close(r.gradient[k], o[k], 1e-10) for k in AT)


def test_transformed_programs_print_reparse_and_typecheck():
    p = osc(5)
    for out in (jvp_program(p, ["f"]), linearize(p, names=["f"]), vjp_program(p, "f"),
                unzip_program(jvp_program(p, ["f"]))):
        text = show(out)
        again = parse_program(text, "printed.la")
        assert show(again) == text
        typecheck(again)
        assert loops_in(again)


def test_the_rules_produce_the_loops_they_state():
    p = osc(5)
    j = jvp_program(p, ["f"])
    (lj,) = loops_in(j)
    assert (lj.fn, lj.n, len(lj.lin)) == ("step_jvp", 5, 4)
    lin = linearize(p, names=["f"])
    # k and dt are invariant carries: the loops run ULoopInv's wrappers of the
    # unzipped step, and the linear loop carries (k, dt) instead of stacking them
    fwd = [l for l in loops_in(lin) if l.fn == "step_jvp_nl_inv"]
    back = [l for l in loops_in(lin) if l.fn == "step_jvp_lin_inv"]
    assert len(fwd) == 1 and len(back) == 1 and back[0].over and back[0].nl == ("k", "dt")
    vp = vjp_program(p, "f")
    (rev,) = [l for l in loops_in(vp) if l.fn == "step_jvp_lin_inv_T"]
    assert rev.reverse and rev.over == back[0].over and rev.nl == ("k", "dt")
    # transposing the transposed loop runs forwards again
    tt = transpose_program(vp, ["f_jvp_lin_T"])
    assert not [l for l in loops_in(tt) if l.fn == "step_jvp_lin_inv_T_T"][0].reverse


def test_residuals_are_stacked_once_per_iteration():
    p = osc(6)
    lin = linearize(p, names=["f"])
    ty = lin["f_jvp_nl"].nl_out[-1]
    # f's residual tuple holds the stack [R; 6] of the step's residual tuple R
    assert "; 6]" in repr(ty)
    r = evaluate(lin, "f_jvp_nl", AT)
    (k,) = [i for i, t in enumerate(ty.items) if repr(t).startswith("[")]
    stack = r.nl[-1][k]
    assert len(stack) == 6 and len(set(stack)) == 6      # one residual tuple per iteration


def test_gradient_program_size_does_not_grow_with_n():
    sizes = {n: program_size(vjp_program(osc(n), "f")) for n in (20, 200)}
    assert sizes[20] == sizes[200]
    assert program_size(unroll_loops(osc(200))) > 5 * program_size(osc(200))


def test_transpose_conserves_work_on_a_loop():
    p = osc(4)
    lin = linearize(p, names=["f"])
    t = transpose_program(lin, ["f_jvp_lin"])
    w = evaluate(lin, "f_jvp_nl", AT).nl[-1]
    fwd = evaluate(lin, "f_jvp_lin", ([w], [1.0, 0.0, 0.0, 0.0]))
    back = evaluate(t, "f_jvp_lin_T", ([w], [1.0]), costs=Costs().dual())
    assert fwd.work == back.work


def test_jvp_refuses_a_loop_over_arrays():
    p = parse_program(STACKING_LOOP.format(n=3))
    with pytest.raises(TransformError) as e:
        jvp_program(p, ["f"])
    assert e.value.rule == "JLoop" and "arrays carry no tangent" in e.value.message


def test_staging_a_loop_with_unknown_caller_inputs():
    # the loop reads the unknown x: it moves wholesale to the second stage
    from linear_a.transforms.unzip import run_split, unzip
    p = osc(3)
    dv = unzip(p, unknown={"f": {"x"}}, names=["f"])
    typecheck(dv.result)
    r = run_split(dv, "f", AT)
    assert close(r.nl[0], python_osc(3, **AT))


# ----------------------------------------------------------------------------
# the fast path declines; the examples


def test_fast_path_declines_loops():
    from linear_a.semantics import flat
    from linear_a.transforms.flat import reference_vjp_text, vjp_text
    text = OSC.format(n=3)
    with pytest.raises(flat.NotFlat):
        flat.parse(text)
    assert vjp_text(text, "f") == reference_vjp_text(text, "f")


def test_euler_example_core_and_surface():
    core = parse_program((EXAMPLES / "euler.la").read_text(encoding="utf-8"), "euler.la")
    surf = load_surface_file(str(EXAMPLES / "euler.py"))
    typecheck(core)
    typecheck(surf)
    assert core.names == surf.names == ["euler_step", "euler"]
    at = {"x0": 1.0, "y0": 0.5, "a": 1.1, "b": 0.4, "c": 0.4, "d": 0.1}
    x, y = at["x0"], at["y0"]
    for _ in range(200):
        x, y = x + 0.01 * (at["a"] * x - at["b"] * x * y), y + 0.01 * (at["d"] * x * y - at["c"] * y)
    for prog in (core, surf):
        assert close(evaluate(prog, "euler", at).nl[0], x + y, 1e-12)
    g1, g2, o = grad(core, "euler", at), grad(surf, "euler", at), oracle_grad(core, "euler", at)
    for k in at:
        assert close(g1.gradient[k], o[k], 1e-10) and close(g2.gradient[k], o[k], 1e-10)
    assert len(loops_in(surf)) == 1 and loops_in(surf)[0].n == 200


# ----------------------------------------------------------------------------
# the surface


def test_marked_function_traces_its_loop_body_once():
    @linear_a
    def f(x, w):
        for _ in range(50):
            x = x * w - x
        return x
    prog = trace(f)
    typecheck(prog)
    (lp,) = loops_in(prog)
    assert lp.n == 50 and prog.names == ["f_step", "f"]
    assert len(prog["f_step"].body.binds) == 2
    x, w = 0.9, 1.05
    for _ in range(50):
        x = x * w - x
    assert close(evaluate(prog, "f", {"x": 0.9, "w": 1.05}).nl[0], x)
    assert f(0.9, 1.05) == x                    # still a Python function on floats


def test_loop_index_is_a_carried_counter():
    from linear_a import sin

    @linear_a
    def f(x, w):
        s = 0.0
        for i in range(5):
            s = s + sin(x * i) * w
        return s
    prog = trace(f)
    typecheck(prog)
    assert [p.name for p in prog["f_step"].nl_params][-1] == "i"
    want = sum(math.sin(0.3 * i) * 2 for i in range(5))
    assert close(evaluate(prog, "f", {"x": 0.3, "w": 2.0}).nl[0], want)
    g = grad(prog, "f", {"x": 0.3, "w": 2.0}).gradient
    assert close(g["w"], sum(math.sin(0.3 * i) for i in range(5)), 1e-12)
    assert close(g["x"], sum(2 * i * math.cos(0.3 * i) for i in range(5)), 1e-12)


def test_nested_loops_and_tuple_state():
    @linear_a
    def f(p: tuple[float, float], w):
        for _ in range(3):
            a, b = p
            for _ in range(2):
                a = a * w
            p = (a, b + a)
        a, b = p
        return a + b
    prog = trace(f)
    typecheck(prog)
    assert len(loops_in(prog)) == 2
    a, b, w = 1.5, 0.25, 0.8
    for _ in range(3):
        a = a * w * w
        b = b + a
    assert close(evaluate(prog, "f", {"p": [1.5, 0.25], "w": 0.8}).nl[0], a + b)
    o = oracle_grad(prog, "f", {"p": [1.5, 0.25], "w": 0.8})
    g = grad(prog, "f", {"p": [1.5, 0.25], "w": 0.8}).gradient
    assert close(g["w"], o["w"], 1e-12) and all(close(x, y, 1e-12) for x, y in zip(g["p"], o["p"]))


def test_unmarked_functions_still_unroll():
    def f(x, w):
        for _ in range(4):
            x = x * w
        return x
    prog = trace(f)
    assert not loops_in(prog) and len(prog.defs) == 1


def test_while_on_a_traced_value_says_what_is_supported():
    @linear_a
    def f(x):
        while x > 1:
            x = x / 2
        return x
    with pytest.raises(TraceError) as e:
        trace(f)
    assert "for i in range(N)" in str(e.value)


def test_shape_change_in_a_loop_body_is_a_trace_error():
    @linear_a
    def f(x):
        y = x
        for _ in range(2):
            y = (y, x)
        return x
    with pytest.raises(TraceError) as e:
        trace(f)
    assert "changes the shape of `y`" in str(e.value)


def test_compiled_float_path_runs_loops_like_the_interpreter():
    from linear_a.transforms.compile import compile_program
    p = parse_program("""def g(x: real, e: real ; d: real) -> (real, real ; real) =
  let (y ;) = x * e in
  let (z ;) = x + e in
  let (; d2) = e *. d in
  (y, z ; d2)

def f(x: real, es: [real; 3] ; d: real) -> (real, [real; 3] ; real) =
  let (y, zs ; d1) = loop reverse 3 g(x ; d) over (es) in
  (y, zs ; d1)
""")
    args = {"x": 1.0, "es": [2.0, 3.0, 5.0], "d": 0.5}
    r = evaluate(p, "f", args)
    assert compile_program(p).run("f", args) == (r.nl, r.lin) == ((30.0, (17.0, 8.0, 6.0)), (15.0,))
    q = osc(0)
    assert compile_program(q).run("f", AT) == (evaluate(q, "f", AT).nl, ())
