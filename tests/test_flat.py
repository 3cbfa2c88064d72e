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
FLAT_EXAMPLES = ["chain.la", "chain_xw.la", "pottier.la", "pythagoras.la", "seed.la", "sin.la", "square.la"]
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
    assert_stages(text, "f")
    assert fused_answers(text)


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
    assert inside == set(FLAT_EXAMPLES)        # linear.la (linear code), matvec.la (tuples, calls)


@pytest.mark.parametrize("n", [2, 3, 4, 7, 50, 501])
def test_chains(n):
    out = assert_stages(chain_text(n), "f")
    assert out.count("\n") > 3 * n
    assert fused_answers(chain_text(n))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flat_texts())
def test_random_flat_programs_agree_stage_by_stage(text):
    assert_stages(text, "f")


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
    "x and dx: dx's tangent is dx_1": ("def f(x: real, dx: real) -> (real ;) =\n  x * dx\n", False),
    "r taken under a leaf tail": ("def f(r: real) -> (real ;) =\n  sin(r)\n", False),
    "r taken, a return tail": ("def f(r: real) -> (real ;) =\n  let (a ;) = sin(r) in\n  (a ;)\n", True),
    "w and w_1: dw's names may meet dw_1's": ("def f(w: real, w_1: real) -> (real ;) =\n"
                                              "  let (a ;) = w * w_1 in\n  (a ;)\n", False),
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
        sin, partials=lambda b, a, z: [b.prim("cos", a[0]) if b.lit("7") else None]))
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
    "tuples and calls": (ROOT / "examples" / "matvec.la").read_text(),
    "two lets on a line": "def f(x: real) -> (real ;) =\n  let (a ;) = sin(x) in let (b ;) = cos(a) in\n  (b ;)\n",
    "head over two lines": "def f(x: real)\n  -> (real ;) =\n  sin(x)\n",
    "nested right-hand side": ("def f(x: real) -> (real ;) =\n  let (a ;) =\n    let (b ;) = sin(x) in\n"
                               "    (b ;)\n  in\n  (a ;)\n"),
    "a return as right-hand side": "def f(x: real) -> (real ;) =\n  let (a ;) = (x ;) in\n  (a ;)\n",
    "trailing comma": "def f(x: real,) -> (real ;) =\n  sin(x)\n",
    "type annotation": "def f(x: real) -> (real ;) =\n  let (a: real ;) = sin(x) in\n  (a ;)\n",
}


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

    def jvp(d, counts, exact):
        calls["jvp"] += exact
        return real_jvp(d, counts, exact)

    def transpose(d, exact):
        calls["transpose"] += exact
        return real_t(d, exact)
    monkeypatch.setattr(tf, "_jvp", jvp)
    monkeypatch.setattr(tf, "_transpose", transpose)
    assert_stages(SUFFIXED[name], "f")
    assert calls["transpose" if name.startswith("ct_") else "jvp"] > 0
    assert not fused_answers(SUFFIXED[name])     # the fused pass leaves these to the stages


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
