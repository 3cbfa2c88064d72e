"""The flat fast path (semantics/flat.py, transforms/flat.py) against the reference.

The truth is the reference pipeline -- ``parse_program``, ``typecheck``,
``vjp_program``, ``typecheck``, ``show`` -- and each of its stages: the fast
path must print exactly the same text, stage by stage and end to end, and
must never answer where the reference raises (its errors are the
reference's own, by fallback)."""
from __future__ import annotations

import dataclasses
import gc
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from linear_a.proofs.generators import chain_text, nonlinear_programs
from linear_a.semantics import LinearAError, parse_program, show, typecheck
from linear_a.semantics import flat as sf
from linear_a.semantics.parser import KEYWORDS
from linear_a.semantics.primitives import ONE, PRIMITIVES
from linear_a.semantics.syntax import REAL, Param
from linear_a.transforms import flat as tf
from linear_a.transforms.fresh import SUFFIXES, bases_may_meet
from linear_a.transforms.fused import vjp_defs
from linear_a.transforms.jvp import jvp_program
from linear_a.transforms.transpose import transpose_program
from linear_a.transforms.unzip import unzip_program

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.la"))
FLAT_EXAMPLES = ["chain.la", "chain_xw.la", "net.la", "pottier.la", "pythagoras.la", "seed.la", "sin.la",
                 "square.la"]
OPS = sorted(PRIMITIVES)


def reference(text: str, fn: str):
    """The reference pipeline's text, or the exception it raises."""
    try:
        return tf.reference_vjp_text(text, fn)
    except LinearAError as e:
        return e


def fast_or_error(text: str, fn: str):
    try:
        return tf.vjp_text(text, fn)
    except LinearAError as e:
        return e


def assert_same(text: str, fn: str):
    """vjp_text agrees with the reference: same text, or same error type and message."""
    ref, got = reference(text, fn), fast_or_error(text, fn)
    if isinstance(ref, Exception):
        assert type(got) is type(ref) and str(got) == str(ref), (text, ref, got)
    else:
        assert got == ref, text
    return ref


def assert_stages(text: str, fn: str):
    """Each fast stage prints what the corresponding reference stage prints."""
    prog = parse_program(text)
    typecheck(prog)
    fp = sf.parse(text)
    assert sf.show(fp) == show(prog)
    counts = sf.check(fp)
    d = fp.get(fn)
    jd = tf.jvp(d)
    jp = jvp_program(prog, [fn])
    assert sf.show([jd]) == show(jp)
    assert sf.show([tf.jvp(d, counts[fn])]) == show(jp)           # with the checker's read counts
    f_nl, f_lin = tf.unzip(jd)
    up = unzip_program(jp, trusted=True)
    assert sf.show([f_nl, f_lin]) == show(up)
    f_t = tf.transpose(f_lin)
    tp = transpose_program(up, [fn + "_jvp_lin"], trusted=True)
    assert sf.show([f_t]) == show(tp)
    tf.check_output([f_nl, f_t])
    fused = vjp_defs(d, counts[fn])                # the three stages in one pass, where it answers
    if fused is not None:
        assert sf.show(fused) == sf.show([f_nl, f_t])
        tf.check_output(fused)
    out = tf.vjp_text(text, fn, require_fast=True)
    assert out == tf.reference_vjp_text(text, fn)
    return out


def fused_answers(text: str, fn: str = "f") -> bool:
    fp = sf.parse(text)
    return vjp_defs(fp.get(fn), sf.check(fp)[fn]) is not None


# ----------------------------------------------------------------------------
# Programs in the fragment.


@st.composite
def flat_texts(draw, max_lets: int = 10, plain_names: bool = False):
    """A random program of the flat fragment, as text: real parameters, lets of
    every primitive (args drawn from earlier variables, repeats allowed),
    literals of several spellings, drops of unused variables, and
    a tail that is a return (names may repeat, may be empty), a primitive or a
    literal; comments and odd spacing sprinkled in; some binders named as the
    stages' fresh names are (``v``, ``v_1``, ``dv``, ``c_1``, ``ct_dv``, …),
    unless ``plain_names``."""
    nparams = draw(st.integers(0, 3))
    params = [f"x{i}" for i in range(nparams)]
    pool, uses, lines = list(params), {p: 0 for p in params}, []
    sp = lambda: draw(st.sampled_from(["", " ", "  ", "\t"]))
    names = st.sampled_from([None, None, "v", "v_1", "v_2", "dv", "dv_1", "c", "c_1", "r", "r_1",
                             "m", "ct_dv", "ct_dv_1", "w", "w_1", "out"])
    for i in range(draw(st.integers(0, max_lets))):
        z = None if plain_names else draw(names)   # now and then a name fresh names meet
        z = f"v{i}" if z is None or z in uses else z
        kind = draw(st.sampled_from(["prim"] * 5 + ["lit", "drop"]))
        if kind == "drop" and pool:
            x = draw(st.sampled_from(pool))
            if uses[x] == 0:
                uses[x] = 1
                lines.append(f"  let (;) = drop({x}) in")
            continue
        if kind == "lit" or not pool:
            lit = draw(st.sampled_from(["2", "0.5", "-1.5", "1e-3", ".5", "3.", "-0", "2E+2"]))
            lines.append(f"  let ({z} ;) ={sp()}{lit} in")
        else:
            op = draw(st.sampled_from(OPS))
            p = PRIMITIVES[op]
            args = [draw(st.sampled_from(pool)) for _ in range(p.arity)]
            for a in args:
                uses[a] += 1
            rhs = (f"{args[0]}{sp()}{p.infix}{sp()}{args[1]}" if p.infix
                   else f"{'ln' if op == 'log' and draw(st.booleans()) else op}({', '.join(args)})")
            lines.append(f"{sp()}let{sp()}({z} ;) = {rhs} in{draw(st.sampled_from(['', '  # c']))}")
        pool.append(z)
        uses[z] = 0
    tail_kind = draw(st.sampled_from(["ret", "ret", "prim", "lit"]))
    if tail_kind == "prim" and pool:
        op = draw(st.sampled_from(OPS))
        p = PRIMITIVES[op]
        args = [draw(st.sampled_from(pool)) for _ in range(p.arity)]
        tail = f"{args[0]} {p.infix} {args[1]}" if p.infix else f"{op}({', '.join(args)})"
        nout = 1
    elif tail_kind == "lit" or not pool:
        args, tail, nout = [], "1.5", 1
    else:
        args = [draw(st.sampled_from(pool)) for _ in range(draw(st.integers(0, 3)))]
        tail, nout = f"({', '.join(args)} ;)", len(args)
    for a in args:
        uses[a] += 1
    lines += [f"  let (;) = drop({v}) in" for v in pool if uses[v] == 0]
    head = f"def f({', '.join(p + ': real' for p in params)}) -> ({', '.join(['real'] * nout)} ;) ="
    return "# generated\n" + "\n".join([head] + lines + ["  " + tail]) + "\n"


@pytest.mark.parametrize("name", FLAT_EXAMPLES)
def test_examples_in_the_fragment_take_the_fast_path_and_agree(name):
    text = (ROOT / "examples" / name).read_text()
    fn = parse_program(text).defs[-1].name       # f, or net
    assert_stages(text, fn)
    assert fused_answers(text, fn)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_definition_agrees(path):
    text = path.read_text()
    for d in parse_program(text).defs:
        assert_same(text, d.name)


def test_the_fragment_is_what_the_docstring_says_on_the_examples():
    inside = set()
    for p in EXAMPLES:
        try:
            sf.check(sf.parse(p.read_text()))
            inside.add(p.name)
        except sf.NotFlat:
            pass
    assert inside == set(FLAT_EXAMPLES) | {"matvec.la"}     # not linear.la (linear code)


@pytest.mark.parametrize("n", [2, 3, 4, 7, 50, 501])
def test_chains(n):
    out = assert_stages(chain_text(n), "f")
    assert out.count("\n") > 3 * n
    assert fused_answers(chain_text(n))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flat_texts())
def test_random_flat_programs_agree_stage_by_stage(text):
    """Binders often named as the stages' own names are (v_1, dv, c_1, r, ct_dv …):
    the fused pass still answers (naming over ids, then as the reference)."""
    assert_stages(text, "f")
    assert fused_answers(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nonlinear_programs(max_defs=2, max_lets=6))
def test_random_programs_of_the_generators_agree_in_or_out_of_the_fragment(prog):
    text = show(prog)
    fn = prog.defs[-1].name
    assert isinstance(assert_same(text, fn), str)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flat_texts(plain_names=True))
def test_the_fused_pass_answers_every_program_whose_names_meet_none_of_its_own(text):
    """Binders x0, x1, …, v0, v1, …: no name the fresh names could meet, so the
    fused pass answers (and assert_stages checks its answer against the stages)."""
    assert_stages(text, "f")
    assert fused_answers(text)


FUSED_CORNERS = {   # name: (text, whether the fused pass answers)
    "c and m taken: c_1, m_1": ("def f(c: real, m: real) -> (real ;) =\n  let (a ;) = sin(c) in\n"
                                "  let (b ;) = neg(a) in\n  let (e ;) = b * m in\n  (e ;)\n", True),
    "x and dx: dx's tangent is dx_1": ("def f(x: real, dx: real) -> (real ;) =\n  x * dx\n", True),
    "r taken under a leaf tail": ("def f(r: real) -> (real ;) =\n  sin(r)\n", True),
    "r taken, a return tail": ("def f(r: real) -> (real ;) =\n  let (a ;) = sin(r) in\n  (a ;)\n", True),
    "w and w_1: dw's names may meet dw_1's": ("def f(w: real, w_1: real) -> (real ;) =\n"
                                              "  let (a ;) = w * w_1 in\n  (a ;)\n", True),
    "a linear result read twice": ("def f(x: real) -> (real, real ;) =\n  let (a ;) = exp(x) in\n"
                                   "  (a, a ;)\n", True),
}


@pytest.mark.parametrize("name", sorted(FUSED_CORNERS))
def test_where_the_fused_pass_answers_and_declines(name):
    text, answers = FUSED_CORNERS[name]
    assert_stages(text, "f")
    assert fused_answers(text) is answers


def test_the_fused_pass_declines_what_unzip_would_drop(monkeypatch):
    """A rule that binds a variable nobody reads: unzip drops it after its
    binding, which the fused pass does not do -- it declines, the stages answer."""
    sin = PRIMITIVES["sin"]
    monkeypatch.setitem(PRIMITIVES, "sin", dataclasses.replace(
        sin, partials=lambda b, a, z: [b.prim("cos", a[0]) if b.prim("exp", a[0]) else None]))
    text = chain_text(4)
    assert not fused_answers(text)
    assert "drop(c" in assert_stages(text, "f")


@pytest.mark.parametrize("op", OPS)
def test_every_primitive_in_every_position(op):
    p = PRIMITIVES[op]
    xs = ["x", "y"][:p.arity]
    head = f"def f({', '.join(x + ': real' for x in xs)}) -> (real ;) ="
    call = (lambda a: f"{a[0]} {p.infix} {a[1]}" if p.infix else f"{op}({', '.join(a)})")
    texts = [
        f"{head}\n  let (z ;) = {call(xs)} in\n  (z ;)\n",                     # a let, then return
        f"{head}\n  {call(xs)}\n",                                             # tail position
        f"{head}\n  let (z ;) = {call(['x'] * p.arity)} in\n"                  # repeated reads
        + "".join(f"  let (;) = drop({x}) in\n" for x in xs[1:]) + "  (z ;)\n",
        f"{head}\n  let (c ;) = 2 in\n  let (z ;) = {call(['c'] * p.arity)} in\n"   # on a literal
        + "".join(f"  let (;) = drop({x}) in\n" for x in xs) + "  (z ;)\n",
    ]
    for text in texts:
        assert_stages(text, "f")


ODD = {
    "constant tail, unused parameter": "def f(x: real) -> (real ;) =\n  let (;) = drop(x) in\n  2\n",
    "no parameters": "def f() -> (real ;) =\n  1.5\n",
    "no results": "def f(x: real) -> (;) =\n  let (;) = drop(x) in\n  (;)\n",
    "repeated results": "def f(x: real) -> (real, real, real ;) =\n  (x, x, x ;)\n",
    "x * x and neg (ONE, MINUS_ONE)": ("def f(x: real, y: real) -> (real ;) =\n"
                                       "  let (a ;) = x * x in\n  let (b ;) = a - y in\n"
                                       "  let (c ;) = neg(b) in\n  let (d ;) = c + y in\n  (d ;)\n"),
    "names that fresh names would take": ("def f(x: real, dx: real, c: real) -> (real, real ;) =\n"
                                          "  let (dx_1 ;) = sin(x) in\n  let (w ;) = dx_1 * dx in\n"
                                          "  let (ct_dx ;) = cos(c) in\n  let (r ;) = w + ct_dx in\n"
                                          "  let (m ;) = r - c in\n  let (dm ;) = x * m in\n"
                                          "  (dm, x ;)\n"),
    "primes in names, CRLF, tabs, comments": ("# lead\r\ndef f(x': real) -> (real ;) = # head\r\n"
                                              "\tlet (y' ;) = ln(x') in\r\n\r\n  # mid\r\n"
                                              "  sqrt(y')\r\n"),
    "several definitions": ("def g(a: real) -> (real ;) =\n  sin(a)\n\n"
                            "def f(x: real, y: real) -> (real ;) =\n  let (p ;) = x * y in\n"
                            "  tanh(p)\n\ndef h(z: real) -> (real ;) =\n  exp(z)\n"),
}


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_corners_of_the_fragment(name):
    for d in parse_program(ODD[name]).defs:
        assert_stages(ODD[name], d.name)


def test_a_change_to_a_primitive_rule_changes_both_paths(monkeypatch):
    text = chain_text(4)
    before = tf.vjp_text(text, "f", require_fast=True)
    sin = PRIMITIVES["sin"]
    monkeypatch.setitem(PRIMITIVES, "sin", dataclasses.replace(
        sin, partials=lambda b, a, z: [b.prim("neg", b.prim("neg", b.prim("cos", a[0])))]))
    after = assert_stages(text, "f")
    assert after != before and "neg(" in after


# ----------------------------------------------------------------------------
# Outside the fragment, and bad input: the reference decides.

OUTSIDE = {
    "linear code": (ROOT / "examples" / "linear.la").read_text(),
}


LAID_OUT = {   # any layout of the fragment's grammar takes the fast path
    "two lets on a line": "def f(x: real) -> (real ;) =\n  let (a ;) = sin(x) in let (b ;) = cos(a) in\n  (b ;)\n",
    "head over two lines": "def f(x: real)\n  -> (real ;) =\n  sin(x)\n",
    "trailing comma": "def f(x: real,) -> (real ;) =\n  sin(x)\n",
    "type annotation": "def f(x: real) -> (real ;) =\n  let (a: real ;) = sin(x) in\n  (a ;)\n",
    "a `;` closing the parameters": "def f(x: real, w: real ;) -> (real ;) =\n  let (a ;) = x * w in\n  (a ;)\n",
    "annotations, spaces and breaks inside a let": ("def f(x : real ;)->(real;)=\n  let(a:real;)=\n    sin( x )\n"
                                                    "  in let ( b : real ; ) = a*a in\n  ( b ; )"),
    "comments inside a let": "def f(x: real) -> (real ;) =\n  let (a # the name\n ;) = sin(x) # rhs\n in\n  a * a\n",
    "drop over lines": "def f(x: real, y: real) -> (real ;) =\n  let\n(;)\n=\ndrop(y)in sin(x)\n",
    "trailing commas": "def f(x: real, ;) -> (real, ;) =\n  let (a, ;) = pow(x, x,) in\n  (a, ;)\n",
}


TUPLES = {
    "tuple parameters, unpacks, a tuple result": (
        "def f(p: (real, real), q: ((real, real), real)) -> (real, (real, real) ;) =\n"
        "  let (a, b) = p in\n  let (qq, c) = q in\n  let (;) = drop(qq) in\n"
        "  let (s ;) = a * b in\n  let (t ;) = (s, c) in\n  let (u ;) = sin(s) in\n  (u, t ;)\n"),
    "a tuple read twice, dropped parts": (
        "def f(x: real) -> ((real, real), real ;) =\n  let (p ;) = (x, x) in\n"
        "  let (a, b) = p in\n  let (;) = drop(a) in\n  let (c ;) = exp(b) in\n  (p, c ;)\n"),
    "a tuple in tail position, 1-tuples and the empty tuple": (
        "def f(x: (real,)) -> ((real, (), (real,)) ;) =\n  let (a,) = x in\n  let (e ;) = () in\n"
        "  let (y ;) = cos(a) in\n  let (z ;) = (y,) in\n  (a, e, z)\n"),
    "an unused tuple parameter: a zero of its type": (
        "def f(p: (real, (real, real)), x: real) -> (real ;) =\n  let (;) = drop(p) in\n  sin(x)\n"),
}


CALLS = {
    "matvec (tuples and calls)": ((ROOT / "examples" / "matvec.la").read_text(), "specific"),
    "calls of two callees, one twice, results dropped and scaled": ('def g(a: real, b: real) -> (real, real ;) =\n  let (p ;) = a * b in\n  let (q ;) = sin(a) in\n  (p, q ;)\n\ndef h(u: real) -> (real ;) =\n  cos(u)\n\ndef f(x: real, y: real) -> (real ;) =\n  let (s, t ;) = g(x, y) in\n  let (k ;) = h(s) in\n  let (m, m2 ;) = g(t, k) in\n  let (;) = drop(m) in\n  let (n2 ;) = m2 * m2 in\n  let (;) = drop(n2) in\n  let (n ;) = h(x) in\n  n * s\n', "f"),
    "a call in tail position, several results, annotated binders": (
        "def g(a: real) -> (real, (real, real) ;) =\n  let (b ;) = sin(a) in\n  let (t ;) = (a, b) in\n"
        "  (b, t ;)\n\ndef f(x: real) -> (real, (real, real) ;) =\n  let (y: real ;) = exp(x) in\n"
        "  g(y)\n", "f"),
    "a callee that does nothing linear (g_lin trivial), a chain of callees": (
        "def z() -> (;) =\n  (;)\n\ndef g(a: real) -> (real ;) =\n  let (;) = z() in\n  a * a\n\n"
        "def h(a: real) -> (real ;) =\n  let (b ;) = g(a) in\n  g(b)\n\n"
        "def f(x: real, y: real) -> (real ;) =\n  let (u: real, ;) = h(x) in\n  let (;) = z() in\n"
        "  let (v ;) = u * y in\n  (v ;)\n", "f"),
}


NESTED = {
    "nested right-hand side": ("def f(x: real) -> (real ;) =\n  let (a ;) =\n    let (b ;) = sin(x) in\n"
                               "    (b ;)\n  in\n  (a ;)\n"),
    "a return as right-hand side": "def f(x: real) -> (real ;) =\n  let (a ;) = (x ;) in\n  (a ;)\n",
    "nested twice, annotated, an outer variable split off for the block": 'def f(x: real, y: real) -> (real ;) =\n  let (a ;) = sin(x) in\n  let (b: real, c ;) =\n    let (p ;) = a * y in\n    let (q ;) =\n      let (r ;) = p * x in\n      cos(r)\n    in\n    (q, p ;)\n  in\n  let (e ;) = (b ;) in\n  let (g ;) = c * e in\n  let (h ;) = g * a in\n  (h ;)\n',
    "a block ending in a call, one ending in a drop": (
        "def g(a: real) -> (real, real ;) =\n  let (b ;) = exp(a) in\n  (a, b ;)\n\n"
        "def f(x: real) -> (real ;) =\n  let (u, v ;) =\n    let (s ;) = x * x in\n    g(s)\n  in\n"
        "  let (;) =\n    let (t ;) = u * x in\n    drop(t)\n  in\n  v * x\n"),
}

CONSTANTS = {  # SPEC §17 in every case of the fast path: constants carry no tangent
    'a tuple of constants and its unpack':
        'def f(x: real) -> (real ;) =\n  let (c ;) = 2 in\n  let (t ;) = (c, x, c) in\n  let (a, b, e) = t in\n  let (y ;) = a * b in\n  let (z ;) = y + e in\n  (z ;)\n',
    'a callee called on a constant, and on constants only':
        'def g(a: real, b: real) -> (real ;) =\n  let (y ;) = a * b in\n  (y ;)\ndef f(x: real) -> (real ;) =\n  let (c ;) = 2.5 in\n  let (u ;) = g(c, x) in\n  let (v ;) = g(c, c) in\n  let (w ;) = u + v in\n  (w ;)\n',
    'a callee returning a constant':
        'def g(a: real) -> (real ;) =\n  let (;) = drop(a) in\n  let (k ;) = 3 in\n  (k ;)\ndef f(x: real) -> (real ;) =\n  let (u ;) = g(x) in\n  let (w ;) = u * x in\n  (w ;)\n',
    'a constant returned twice beside a scaled result':
        'def f(x: real) -> (real, real, real ;) =\n  let (c ;) = 3 in\n  let (y ;) = x * c in\n  (c, y, c ;)\n',
    'a literal tail':
        'def f(x: real) -> (real ;) =\n  let (y ;) = x * x in\n  let (;) = drop(y) in\n  4\n',
    'a constant primitive tail (no dead partials)':
        'def f(x: real) -> (real ;) =\n  let (c ;) = 2 in\n  let (;) = drop(x) in\n  log(c)\n',
    'a nested right-hand side with its own literal, returning an outer constant':
        'def f(x: real) -> (real ;) =\n  let (c ;) = 2 in\n  let (y, y2 ;) =\n    let (k ;) = 3 in\n    let (z ;) = k * x in\n    let (q ;) = z * c in\n    (q, c ;)\n  in\n  let (;) = drop(y2) in\n  let (s ;) = y * x in\n  (s ;)\n',
    'a block returning an outer constant, read twice outside (no dup of its zero)':
        'def f(x: real) -> (real ;) =\n  let (c ;) = 2 in\n  let (y, e ;) =\n    let (z ;) = c * x in\n    (z, c ;)\n  in\n  let (s ;) = y * c in\n  let (s2 ;) = s + e in\n  (s2 ;)\n',
    'a block whose leaf tail is a constant primitive':
        'def f(x: real) -> (real ;) =\n  let (c ;) = 2 in\n  let (y ;) =\n    let (z ;) = c * x in\n    let (;) = drop(z) in\n    sin(c)\n  in\n  let (s ;) = y * x in\n  (s ;)\n',
    'a literal read five times: coefficient, argument, exponent, dropped (no dup)':
        'def f(x: real) -> (real ;) =\n  let (c ;) = 2 in\n  let (a ;) = c * x in\n  let (b ;) = c * a in\n  let (e ;) = c - b in\n  let (g ;) = pow(a, c) in\n  let (h ;) = g + e in\n  let (;) = drop(c) in\n  (h ;)\n',
    'names the fresh names meet (x_1, dx, c_1, c, m, r) with literals':
        'def f(x: real, x_1: real, dx: real) -> (real ;) =\n  let (c_1 ;) = 2 in\n  let (c ;) = c_1 * x in\n  let (m ;) = c - x_1 in\n  let (r ;) = m * dx in\n  let (d ;) = 1.5 in\n  r * d\n',
    'r and dx taken, a returned constant':
        'def f(x: real, dx: real) -> (real, real ;) =\n  let (;) = drop(dx) in\n  let (c ;) = 2 in\n  let (r ;) = c - x in\n  (r, c ;)\n',
    'a literal only dropped':
        'def f(x: real) -> (real ;) =\n  let (c ;) = 2 in\n  let (k ;) = 7 in\n  let (;) = drop(k) in\n  let (y ;) = x * c in\n  (y ;)\n',
}


@pytest.mark.parametrize("name", sorted(CONSTANTS))
def test_constants_carry_no_tangent_in_every_case_of_the_fast_path(name, monkeypatch):
    """The literal rule (JLit's symbolic zero, JPrim's left-out terms, JZero
    only in a tuple, call or return slot, no dup of a constant's tangent,
    ULit) in tuples, calls, returns, nested right-hand sides and leaf tails:
    the fast path answers with the reference's text, fused and staged."""
    text = CONSTANTS[name]
    ref = tf.reference_vjp_text(text, "f")
    assert tf.vjp_text(text, "f", require_fast=True) == ref
    monkeypatch.setattr(tf, "vjp_defs", lambda d, counts: None)     # the staged stages alone
    assert tf.vjp_text(text, "f", require_fast=True) == ref



@pytest.mark.parametrize("name", sorted(NESTED))
def test_nested_right_hand_sides_take_the_fast_path(name):
    """JLet's block case (outer tangents split off in front, in first-read
    order), then unzip's splice: the same text as the reference end to end."""
    text = NESTED[name]
    assert sf.show(sf.parse(text)) == show(parse_program(text))
    out = tf.vjp_text(text, "f", require_fast=True)
    assert out == tf.reference_vjp_text(text, "f")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_calls_take_the_fast_path_callees_first(name):
    text, fn = CALLS[name]
    out = tf.vjp_text(text, fn, require_fast=True)
    assert out == tf.reference_vjp_text(text, fn)
    assert fn + "_jvp_lin_T" in out


@pytest.mark.parametrize("name", sorted(TUPLES))
def test_tuples_and_unpacks_take_the_staged_fast_path(name):
    assert_stages(TUPLES[name], "f")
    assert not fused_answers(TUPLES[name])      # the fused pass leaves tuples to the stages


@pytest.mark.parametrize("name", sorted(LAID_OUT))
def test_every_layout_of_the_fragment_takes_the_fast_path(name):
    assert_stages(LAID_OUT[name], "f")


@pytest.mark.parametrize("name", sorted(OUTSIDE))
def test_outside_the_fragment_falls_back_to_the_reference(name):
    text = OUTSIDE[name]
    fn = parse_program(text).defs[-1].name
    with pytest.raises(tf.NotFast):
        tf.vjp_text(text, fn, require_fast=True)
    ref = assert_same(text, fn)
    assert isinstance(ref, LinearAError if name == "linear code" else str)


BAD = {
    "syntax error": "def f(x: real) -> (real ;) =\n  let (a ;) = sin(x)\n  (a ;)\n",
    "keyword as a name": "def f(x: real) -> (real ;) =\n  let (in ;) = sin(x) in\n  (in ;)\n",
    "keyword as an argument": "def f(x: real) -> (real ;) =\n  let (a ;) = sin(in) in\n  (a ;)\n",
    "name glued to `in`": "def f(x: real) -> (real ;) =\n  let (a ;) = x * xin\n  (a ;)\n",
    "name glued to `def`": "deff(x: real) -> (real ;) =\n  sin(x)\n",
    "unbound variable": "def f(x: real) -> (real ;) =\n  let (a ;) = sin(y) in\n  (a ;)\n",
    "used before bound": "def f(x: real) -> (real ;) =\n  let (a ;) = sin(b) in\n  let (b ;) = cos(x) in\n  (a ;)\n",
    "unused variable": "def f(x: real) -> (real ;) =\n  let (a ;) = sin(x) in\n  (x ;)\n",
    "unused parameter": "def f(x: real, y: real) -> (real ;) =\n  sin(x)\n",
    "bound twice": "def f(x: real) -> (real ;) =\n  let (x ;) = sin(x) in\n  (x ;)\n",
    "parameter twice": "def f(x: real, x: real) -> (real ;) =\n  sin(x)\n",
    "arity": "def f(x: real) -> (real ;) =\n  sin(x, x)\n",
    "unknown function": "def f(x: real) -> (real ;) =\n  sine(x)\n",
    "infinite literal": "def f(x: real) -> (real ;) =\n  let (;) = drop(x) in\n  1e999\n",
    "wrong result count": "def f(x: real) -> (real, real ;) =\n  (x ;)\n",
    "linear variable used twice": "def f(x: real ; dx: real) -> (; real) =\n  let (;) = drop(x) in\n  dx +. dx\n",
    "definition named like a primitive": "def sin(x: real) -> (real ;) =\n  cos(x)\n",
    "definition twice": "def f(x: real) -> (real ;) =\n  sin(x)\n\ndef f(x: real) -> (real ;) =\n  cos(x)\n",
    "f_jvp taken": "def f(x: real) -> (real ;) =\n  sin(x)\n\ndef f_jvp(x: real) -> (real ;) =\n  cos(x)\n",
    "empty": "",
    "comments only": "# nothing\n",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_the_references_error(name):
    ref = assert_same(BAD[name], "f")
    assert isinstance(ref, LinearAError), name


def test_a_function_that_does_not_exist():
    ref = assert_same(chain_text(4), "g")
    assert isinstance(ref, LinearAError) and "no function `g`" in str(ref)


BAD_FILES = [p for p in sorted((ROOT / "tests" / "bad_inputs").glob("*.la"))
             if not p.name.startswith("input_")]


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.name)
def test_the_bad_input_corpus_gives_the_same_errors(path):
    text = path.read_text()
    assert_same(text, "f")


# ----------------------------------------------------------------------------
# Never a wrong parse, never a wrong check: mutate valid texts at random.

def _mutations(text: str, rng: random.Random, k: int):
    alphabet = " \t\n#();:,=+-*/.ab01eE'_"
    for _ in range(k):
        i = rng.randrange(len(text) + 1)
        how = rng.randrange(3)
        if how == 0:
            yield text[:i] + rng.choice(alphabet) + text[i:]
        elif how == 1 and i < len(text):
            yield text[:i] + text[i + 1:]
        else:
            yield text[:i] + rng.choice(["let", "in", "real", "drop", "x", "zero"]) + text[i:]


@pytest.mark.parametrize("seed", range(4))
def test_mutated_texts_are_parsed_and_checked_only_when_the_reference_agrees(seed):
    rng = random.Random(seed)
    base = (ROOT / "examples" / FLAT_EXAMPLES[seed % len(FLAT_EXAMPLES)]).read_text()
    accepted = 0
    for text in _mutations(base, rng, 400):
        try:
            fp = sf.parse(text)
        except sf.NotFlat:
            continue
        accepted += 1
        prog = parse_program(text)                 # the reference reads it too ...
        assert sf.show(fp) == show(prog)           # ... as the same program
        try:
            sf.check(fp)
        except sf.NotFlat:
            continue
        typecheck(prog)                            # what the fast checker accepts is well typed
    assert accepted > 50


# ----------------------------------------------------------------------------
# The checker on linear code, and the pipeline's hygiene.


def test_output_check_rejects_broken_linear_code():
    fp = sf.parse(chain_text(6))
    f_nl, f_lin = tf.unzip(tf.jvp(fp.defs[0]))
    f_t = tf.transpose(f_lin)
    tf.check_output([f_nl, f_t])
    lets = f_t.lets
    broken = [
        lets[:3] + lets[4:],                                            # a let lost
        lets + [lets[-1]],                                              # a let repeated
        [t if t[0] != sf.SCALE else (sf.SCALE, t[1], t[3], t[2]) for t in lets],   # classes swapped
    ]
    for b in broken:
        d = sf.FlatDef(f_t.name, f_t.names, f_t.nl_params, f_t.lin_params, f_t.nl_out, f_t.lin_out,
                       b, f_t.tail)
        with pytest.raises(sf.NotFlat):
            sf.check_def(d)
    d = sf.FlatDef(f_nl.name, f_nl.names, f_nl.nl_params, [], f_nl.nl_out[:-1], [], f_nl.lets,
                   f_nl.tail)
    with pytest.raises(sf.NotFlat):
        sf.check_def(d)                                                 # results mismatch


def test_the_pipeline_restores_the_garbage_collector():
    assert gc.isenabled()
    tf.vjp_text(chain_text(10), "f", require_fast=True)
    assert gc.isenabled()


@pytest.mark.slow
def test_a_chain_of_100000_lets_through_the_fast_path_typechecks():
    n = 10 ** 5
    out = tf.vjp_text(chain_text(n), "f", require_fast=True)
    vp = parse_program(out, "vjp.la")
    typecheck(vp)
    assert [d.name for d in vp.defs] == ["f_jvp_nl", "f_jvp_lin_T"]
    assert show(vp) == out                                 # and prints back to the same text


# ----------------------------------------------------------------------------
# The speed-ups keep the reference's behaviour: name supply, templates of
# tangents, the two-level parser, the checker's linear set.


NAME_POOL = ["a", "a_1", "a_3", "b", "b_2", "a_1_1", "in", "c_1", "ct_a", "ct_a_1"]


@settings(max_examples=300, deadline=None)
@given(st.sets(st.sampled_from(NAME_POOL)), st.lists(st.sampled_from(NAME_POOL[:4] + ["c", "ct_a"]), max_size=30))
def test_the_name_supply_is_fresh_names_request_for_request(taken, requests):
    """Exact: Fresh's names.  Otherwise (taken not growing): Fresh's names
    whenever they are distinct, and they can fail to be only where a base is
    another plus _k (the lemma the stages' checks rest on)."""
    from linear_a.transforms.fresh import Fresh
    ref = Fresh(taken)
    want = [ref(b) for b in requests]
    exact = tf._supply(set(taken) | set(KEYWORDS), exact=True)
    assert [exact(b) for b in requests] == want
    quick = tf._supply(set(taken) | set(KEYWORDS), exact=False)
    got = [quick(b) for b in requests]
    if len(set(got)) == len(got):
        assert got == want
    else:
        assert bases_may_meet(set(requests))


def test_the_name_supply_past_its_cached_suffixes():
    from linear_a.transforms.fresh import Fresh
    n = len(SUFFIXES) + 5
    for exact in (True, False):
        fresh, ref = tf._supply(set(KEYWORDS), exact), Fresh()
        assert [fresh("x") for _ in range(n)] == [ref("x") for _ in range(n)]


SUFFIXED = {
    "a primal and its _1, both read twice": ("def f(x: real, x_1: real) -> (real ;) =\n"
                                             "  let (a ;) = x * x in\n  let (b ;) = a * x_1 in\n"
                                             "  let (c ;) = b * x_1 in\n  let (d ;) = c * x in\n  (d ;)\n"),
    "tangent names of dups met by a binder": ("def f(v: real) -> (real ;) =\n  let (v_1 ;) = v * v in\n"
                                              "  let (v_2 ;) = v_1 * v_1 in\n  let (r ;) = v_2 * v in\n"
                                              "  let (dv_1 ;) = r * v_2 in\n  (dv_1 ;)\n"),
    "the leaf tail's r and r's _1": ("def f(r: real, r_1: real) -> (real ;) =\n"
                                     "  let (a ;) = r * r_1 in\n  let (b ;) = a * r in\n  b * r_1\n"),
    "ct_ names in the linear half": ("def f(out: real, ct_dout: real) -> (real ;) =\n"
                                     "  let (a ;) = out * ct_dout in\n  let (b ;) = a * out in\n"
                                     "  let (ct_da ;) = b * ct_dout in\n  (ct_da ;)\n"),
}


@pytest.mark.parametrize("name", sorted(SUFFIXED))
def test_names_whose_streams_meet_rerun_with_freshs_rule(name, monkeypatch):
    """Programs where the stages' own names could collide: the stage notices and
    reruns exactly (counted), and every stage still prints the reference's text."""
    calls = {"jvp": 0, "transpose": 0}
    real_jvp, real_t = tf._jvp, tf._transpose

    def jvp(d, counts, exact, **kw):
        calls["jvp"] += exact
        return real_jvp(d, counts, exact, **kw)

    def transpose(d, exact, **kw):
        calls["transpose"] += exact
        return real_t(d, exact, **kw)
    monkeypatch.setattr(tf, "_jvp", jvp)
    monkeypatch.setattr(tf, "_transpose", transpose)
    assert_stages(SUFFIXED[name], "f")
    assert calls["transpose" if name.startswith("ct_") else "jvp"] > 0
    assert fused_answers(SUFFIXED[name])         # the fused pass names these at the end, exactly


def test_a_rule_passing_a_tangent_on_then_read_twice(monkeypatch):
    """A rule whose coefficient is ONE for a unary primitive: θ(z) is then x's
    tangent, so "dz" is not taken when z's tangent is first split."""
    neg = PRIMITIVES["neg"]
    monkeypatch.setitem(PRIMITIVES, "neg", dataclasses.replace(neg, partials=lambda b, a, z: [ONE]))
    text = ("def f(x: real, y: real) -> (real ;) =\n  let (z ;) = neg(x) in\n"
            "  let (dz_1 ;) = y * z in\n  let (u ;) = z * z in\n  let (v ;) = u + dz_1 in\n"
            "  let (w ;) = v * z in\n  (w ;)\n")
    assert_stages(text, "f")


def test_cotangent_names_meet_primal_names_in_the_linear_half():
    # ct_dv and ct_dx are residuals (read by *.) and the names transposition wants for dv, dx
    text = ("def f(x: real, ct_dx: real) -> (real ;) =\n  let (v ;) = sin(x) in\n"
            "  let (ct_dv ;) = cos(ct_dx) in\n  let (a ;) = v * ct_dv in\n"
            "  let (b ;) = a * ct_dx in\n  let (ct_dv_1 ;) = b * v in\n  (ct_dv_1 ;)\n")
    out = assert_stages(text, "f")
    assert "ct_dx_1" in out             # dx's cotangent steps aside for the residual ct_dx


@pytest.mark.parametrize("text", [
    "  let (a ;) = sin(x) in\ndef f(x: real) -> (real ;) =\n  sin(x)\n",        # a let outside a def
    "def f(x: real) -> (real ;) =\n  let (a ;) = sin(x) in\n  let (b ;) = cos(a) in  # c\n  (b ;)\n",
    "def f(x: real) -> (real ;) =\n  let (a ;) = sin(x) in \n  (a ;)\n",         # trailing space
    "def f(x: real) -> (real ;) =\n  let (a ;) = sin(x)in\n  (a ;)\n",
    "def f(x: real) -> (real ;) =\n   let (a ;) = x * x in\n  (a ;)\n",        # three spaces
    "def f(x: real) -> (real ;) =\n  let (a ;) = -2.5e3 in\n  let (;) = drop(x) in\n  (a ;)\n",
    "def f(x: real) -> (real ;) =\n  let (let ;) = sin(x) in\n  (let ;)\n",
    "def f(x: real) -> (real ;) =\n  let (a ;) = sin(x) in\n  let (b ;) = a * real in\n  (b ;)\n",
])
def test_printer_laid_lines_and_others_read_as_the_reference_reads_them(text):
    assert_same(text, "f")
    try:
        fp = sf.parse(text)
    except sf.NotFlat:
        return
    assert sf.show(fp) == show(parse_program(text))


def test_the_checker_rejects_misused_linear_variables():
    L, N = [Param("l", REAL)], [Param("x", REAL)]
    cases = [
        ([(sf.LADD, "z", "l", "l")], ("z",)),                            # read twice
        ([(sf.ZERO, "z")], ("l",)),                                      # z never read
        ([(sf.SCALE, "z", "l", "l")], ("z",)),                           # linear read as non-linear
        ([(sf.NDROP, "l")], ()),                                         # linear dropped as non-linear
        ([(sf.DUP, "a", "b", "l"), (sf.LADD, "z", "a", "a")], ("z",)),   # b unused, a twice
        ([(sf.ZERO, "l")], ("l",)),                                      # l bound twice
        ([(sf.LDROP, "l"), (sf.ZERO, "z"), (sf.LDROP, "l")], ("z",)),    # read after its read
    ]
    for lets, ret in cases:
        d = sf.flat_def("g", N, L, [], [REAL] * len(ret), [(sf.NDROP, "x")] + lets, (sf.RET, (), ret))
        with pytest.raises(sf.NotFlat):
            sf.check_def(d)
    ok = sf.flat_def("g", N, L, [], [REAL], [(sf.SCALE, "z", "x", "l")], (sf.RET, (), ("z",)))
    assert sf.check_def(ok)[ok.names.index("x")] == 1


def test_the_printers_literal_lines_are_the_reference_printers():
    """The flat printer writes its hot lines as literal f-strings; they must be
    the pieces the reference printer's own functions make."""
    for kind, pieces in sf.LITERAL_LINES.items():
        assert sf._KIND_TEXT[kind] == pieces, kind
    assert sf._KIND_TEXT[sf.LDROP] == sf._KIND_TEXT[sf.NDROP]
    for op, p in PRIMITIVES.items():
        assert sf.literal_prim_line(op, p.arity) == sf._PRIM_TEXT[op], op


# ----------------------------------------------------------------------------
# Any layout: a program of the generators, re-laid out at random, takes the
# fast path where its printed form does, and agrees with the reference.

_REF_TOKEN = __import__("re").compile(
    r"(\#.*)|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z_0-9']*)"
    r"|(->|\+\.|\*\.|[(),;:=+\-*/])")       # parser._LINE_TOKEN's classes (no bad characters here)
_GLUE = set("(),;:=")                       # beside these, tokens may touch


def _tokens(text: str) -> list:
    return [m.group() for m in _REF_TOKEN.finditer(text) if not m.group(1)]


@st.composite
def relaid(draw, text: str):
    """``text`` with every gap between tokens redrawn -- nothing (where tokens
    cannot merge), spaces, tabs, newlines, CRLF, a comment -- and ``: real``
    added to some binders of primitives and literals, ``;`` to some parameter
    lists without one; the reference reads it as the same program."""
    toks = _tokens(text)
    out = []
    i = 0
    semi_params = draw(st.booleans())
    depth = 0
    in_params = False
    while i < len(toks):
        t = toks[i]
        out.append(t)
        if t == "def":
            in_params, depth = True, 0
        elif in_params and t == "(":
            depth += 1
        elif in_params and t == ")":
            depth -= 1
            if depth == 0:
                in_params = False
                if semi_params and ";" not in toks_slice(toks, i) and out[-2] != "(":
                    out.insert(len(out) - 1, ";")
        # `let ( z ;` with a primitive or literal after `=`: maybe annotate z
        if (t == "let" and toks[i + 1] == "(" and toks[i + 3] == ";" and toks[i + 4] == ")"
                and _is_prim_or_lit(toks, i + 6) and draw(st.booleans())):
            out += ["(", toks[i + 2], ":", "real"]
            i += 3
            continue
        i += 1
    pieces = []
    for a, b in zip(out, out[1:] + [""]):
        pieces.append(a)
        if not b:
            break
        gap = draw(st.sampled_from(["", " ", " ", "  ", "\t", "\n", "\r\n", "\n\n  ", " # note\n",
                                    "\r\n# c\r\n"]))
        if gap == "" and a not in _GLUE and b not in _GLUE:
            gap = " "
        pieces.append(gap)
    return "".join(pieces) + draw(st.sampled_from(["", "\n", "\r\n", "  # end"]))


def toks_slice(toks, close):
    """The tokens of the parameter list that ends at ``close``."""
    j = close
    while toks[j] != "def":
        j -= 1
    return toks[j:close]


def _is_prim_or_lit(toks, j):
    """Whether the right-hand side starting at token j is a primitive or a literal."""
    from linear_a.semantics.primitives import INFIX, SYNONYMS
    t = toks[j]
    if t[0].isdigit() or t[0] in "-.":
        return True
    nxt = toks[j + 1] if j + 1 < len(toks) else ""
    if nxt in INFIX:
        return True
    if nxt == "(" and SYNONYMS.get(t, t) in PRIMITIVES:
        k = j + 2
        while toks[k] not in (")", ";"):
            k += 1
        return toks[k] == ")"
    return False


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), flat_texts())
def test_flat_programs_in_any_layout_take_the_fast_path(data, text):
    """A program of the fragment in a random layout: the fast path answers, and
    with the reference's text for that layout."""
    laid = data.draw(relaid(text))
    out = tf.vjp_text(laid, "f", require_fast=True)
    assert out == tf.reference_vjp_text(laid, "f")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), nonlinear_programs(max_defs=2, max_lets=6))
def test_generated_programs_in_any_layout_agree_with_the_reference(data, prog):
    """A program of the generators, re-laid out: the fast path answers, in
    both layouts, with the reference's text."""
    text = show(prog)
    laid = data.draw(relaid(text))
    fn = prog.defs[-1].name
    assert isinstance(assert_same(laid, fn), str)

    def fast(t):
        try:
            tf.vjp_text(t, fn, require_fast=True)
            return True
        except tf.NotFast:
            return False
    assert fast(text) and fast(laid)       # the whole straight-line language takes the fast path


# ----------------------------------------------------------------------------
# `linear-a vjp --explain`: which path printed the program, and why.


@pytest.mark.parametrize("argv, says", [
    (["examples/chain.la", "--fn", "f"], "transforms.fused): the program is in the flat fragment"),
    (["examples/matvec.la", "--fn", "specific"], "each definition it calls, callees first)"),
    (["examples/pottier.la", "--fn", "f", "--policy", "save-all"], "transforms.fused)"),
    (["examples/chain.la", "--fn", "f", "--policy", "recompute-all"],
     "the reference pipeline: policy `recompute-all`: only save-all has a fast path"),
    (["examples/chain.la", "--fn", "f", "--reference"], "the reference pipeline: --reference"),
])
def test_vjp_explain_says_which_path_printed_and_why(capsys, argv, says):
    from linear_a.cli import main
    argv = [str(ROOT / argv[0])] + argv[1:]
    assert main(["vjp"] + argv) == 0
    plain = capsys.readouterr().out
    assert main(["vjp", "--explain"] + argv) == 0
    cap = capsys.readouterr()
    assert cap.out == plain                     # the program printed is the same
    assert cap.err.startswith("vjp: printed by ") and says in cap.err, cap.err
