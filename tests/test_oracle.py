"""The tape-based reverse-mode oracle (SPEC §10) against sympy and the seed
article's numbers, and its independence from the primitive table's JVP rules."""
from __future__ import annotations

import math

import pytest

from linear_a.semantics import TransformError, UsageError, evaluate, parse_program
from linear_a.semantics.primitives import PRIMITIVES
from linear_a.transforms.oracle import oracle_grad, partial

from helpers import CORPUS, IDS, MATVEC, POTTIER, SEED, _cotangent_for, chain_source, flat, sym_vjp



def test_seed_adjoints():
    g = oracle_grad(parse_program(SEED), "f", {"x1": 2, "x2": 5})
    assert g["x1"] == pytest.approx(5.5, abs=1e-12)
    assert round(g["x2"], 3) == 1.716
    assert g["x2"] == pytest.approx(2 - math.cos(5), abs=1e-12)


def test_matvec_gradient():
    assert oracle_grad(parse_program(MATVEC), "specific", {"v": [2, 3]}) == {"v": (77.0, 382.0)}


def test_pottier_gradient():
    x0, x1 = 1.5, 0.3
    g = oracle_grad(parse_program(POTTIER), "f", {"x0": x0, "x1": x1})
    assert g["x0"] == pytest.approx(math.cos(x1) + 1, abs=1e-12)
    assert g["x1"] == pytest.approx(-x0 * math.sin(x1), abs=1e-12)


@pytest.mark.parametrize("src,fn,point", CORPUS, ids=IDS)
def test_oracle_equals_sympy_jacobian_transpose(src, fn, point):
    prog = parse_program(src)
    cts = _cotangent_for(prog, fn)
    g = oracle_grad(prog, fn, point, cts)
    got = [x for p in prog.get(fn).nl_params for x in flat(g[p.name])]
    want = sym_vjp(prog, fn, point, cts)
    assert got == pytest.approx(want, rel=1e-10, abs=1e-12)


def test_partials_come_from_sympy_not_the_table(monkeypatch):
    """Break every JVP rule in the primitive table: the oracle must not notice."""
    prog = parse_program(SEED)
    before = oracle_grad(prog, "f", {"x1": 2, "x2": 5})
    for name, p in list(PRIMITIVES.items()):
        monkeypatch.setitem(PRIMITIVES, name, p.__class__(**{**p.__dict__, "partials": None}))
    assert oracle_grad(prog, "f", {"x1": 2, "x2": 5}) == before
    assert partial("sin", 0)(0.0) == 1.0
    assert partial("pow", 1)(2.0, 3.0) == pytest.approx(8 * math.log(2))


def test_cotangent_shapes():
    prog = parse_program(MATVEC)
    assert oracle_grad(prog, "matvec2x2", {"m": [[2, 7], [1, 8]], "v": [2, 3]}, [[1, 0]])["v"] == (2.0, 7.0)
    assert oracle_grad(prog, "matvec2x2", {"m": [[2, 7], [1, 8]], "v": [2, 3]}, [0, 1])["v"] == (1.0, 8.0)
    with pytest.raises(UsageError):
        oracle_grad(prog, "matvec2x2", {"m": [[2, 7], [1, 8]], "v": [2, 3]}, [1, 2, 3])
    with pytest.raises(TransformError):          # two reals out: a cotangent is needed
        oracle_grad(prog, "matvec2x2", {"m": [[2, 7], [1, 8]], "v": [2, 3]})


def test_oracle_refuses_linear_functions():
    prog = parse_program("def g(x: real ; dx: real) -> (; real) =\n  x *. dx\n")
    with pytest.raises(TransformError):
        oracle_grad(prog, "g", {"x": 1, "dx": 1}, [1])


def test_oracle_domain_error_is_located():
    from linear_a.semantics import DomainError
    with pytest.raises(DomainError):
        oracle_grad(parse_program(SEED), "f", {"x1": -2, "x2": 5})


def test_oracle_long_chain():
    n = 10_000
    small = prog = parse_program(chain_source(n))
    g = oracle_grad(prog, "f", {"x": 0.3, "w": 0.9})
    h = 1e-6
    fd = (evaluate(small, "f", {"x": 0.3 + h, "w": 0.9}).nl[0] -
          evaluate(small, "f", {"x": 0.3 - h, "w": 0.9}).nl[0]) / (2 * h)
    assert g["x"] == pytest.approx(fd, abs=1e-6)
