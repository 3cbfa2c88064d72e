"""The fast float path (transforms/compile.py) agrees exactly with the reference
interpreter: same values bit for bit, same errors."""
from __future__ import annotations

import glob
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings

import linear_a.transforms.compile as C
from linear_a.proofs.generators import (chain_text, entry, linear_programs, mixed_programs, nonlinear_programs,
                               with_points)
from linear_a.semantics import evaluate, parse_program
from linear_a.semantics.errors import DomainError, UsageError
from linear_a.transforms.compile import compile_program
from linear_a.transforms.compose import names_for, vjp_program


def same(a, b) -> bool:
    """Bit-identical values (nan equal to nan, 0.0 distinct from -0.0)."""
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is float and type(b) is float and (
        (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b)))


def agree(prog, fn, args):
    ref = evaluate(prog, fn, args)
    got = compile_program(prog).run(fn, args)
    assert same(got[0], ref.nl) and same(got[1], ref.lin), (got, ref.nl, ref.lin)


def random_args(d, rng):
    def value(ty):
        items = getattr(ty, "items", None)
        return rng.uniform(0.2, 1.7) if items is None else [value(t) for t in items]
    return {p.name: value(p.ty) for p in d.params}


@pytest.mark.parametrize("path", sorted(glob.glob("examples/*.la")))
def test_examples_and_their_vjps(path):
    prog = parse_program(open(path).read(), path)
    rng = random.Random(7)
    for d in prog.defs:
        args = random_args(d, rng)
        agree(prog, d.name, args)
        if d.is_nonlinear and len(d.nl_out) == 1 and repr(d.nl_out[0]) == "real":
            vp = vjp_program(prog, d.name)
            nl_name, t_name = names_for(d.name)
            dn = prog.get(d.name)
            nl_args = [args[p.name] for p in dn.nl_params]
            r = evaluate(vp, nl_name, (nl_args, []))
            agree(vp, nl_name, (nl_args, []))
            agree(vp, t_name, (list(r.nl[1:]), [0.75]))


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(with_points(nonlinear_programs(max_defs=3, max_lets=10)))
def test_random_nonlinear(case):
    prog, args = case
    agree(prog, entry(prog).name, args)


@SETTINGS
@given(with_points(linear_programs(max_defs=3, max_lets=10)))
def test_random_linear(case):
    prog, args = case
    agree(prog, entry(prog).name, args)


@SETTINGS
@given(with_points(mixed_programs(max_defs=3, max_lets=10)))
def test_random_mixed(case):
    prog, args = case
    agree(prog, entry(prog).name, args)


def chain(n):
    return parse_program(chain_text(n), "chain")


def test_long_bodies_are_chunked(monkeypatch):
    monkeypatch.setattr(C, "CHUNK", 7)
    prog = chain(100)
    cp = compile_program(prog)
    assert cp.pieces > 10                         # really chunked
    agree(prog, "f", {"x": 0.3, "w": 1.1})
    vp = vjp_program(prog, "f")
    r = evaluate(vp, "f_jvp_nl", ([0.3, 1.1], []))
    agree(vp, "f_jvp_nl", ([0.3, 1.1], []))
    agree(vp, "f_jvp_lin_T", (list(r.nl[1:]), [1.0]))


def test_errors_are_the_interpreters():
    prog = parse_program("def f(x: real) -> (real ;) =\n  let (y ;) = sqrt(x) in\n  log(y)\n", "e")
    cp = compile_program(prog)
    for bad in (0.0, -1.0):                 # sqrt(0) is 0 in Python but refused by the table
        with pytest.raises(DomainError) as got:
            cp.run("f", {"x": bad})
        with pytest.raises(DomainError) as ref:
            evaluate(prog, "f", {"x": bad})
        assert str(got.value) == str(ref.value)
    with pytest.raises(UsageError):
        cp.run("nope", {"x": 1.0})
    div = parse_program("def f(x: real, y: real) -> (real ;) =\n  x / y\n", "d")
    with pytest.raises(DomainError):
        compile_program(div).run("f", {"x": 1.0, "y": 0.0})


def test_linear_add_of_reals_and_of_tuples():
    """`+.` compiles to Python's + on reals and to the componentwise vadd on
    tuples (where Python's + would concatenate): both agree with the evaluator."""
    prog = parse_program(
        "def r(; a: real, b: real) -> (; real) =\n"
        "  a +. b\n"
        "def t(; p: (real, (real, real)), q: (real, (real, real))) -> (; (real, (real, real))) =\n"
        "  p +. q\n", "ladd")
    agree(prog, "r", {"a": 0.25, "b": 1.5})
    agree(prog, "t", {"p": [1.0, [2.0, 3.0]], "q": [0.5, [0.25, 4.0]]})
    got = compile_program(prog).run("t", {"p": [1.0, [2.0, 3.0]], "q": [0.5, [0.25, 4.0]]})
    assert same(got[1], ((1.5, (2.25, 7.0)),)), got
