"""Scale (SPEC §1, §15): a chain of 10^6 lets is an ordinary program.

Parsing, typing, evaluation and printing walk let-chains with loops, so a
million-let chain must go through all four without a RecursionError, with
the right answer, and within memory.  (Speed is measured, not asserted:
see ``benchmarks/bench_core.py``.)
"""
from __future__ import annotations

import gc
import resource

import pytest

from linear_a.proofs.generators import chain_text, chain_value
from linear_a.semantics.evaluate import _typing_info, evaluate
from linear_a.semantics.parser import parse_program
from linear_a.semantics.printer import show
from linear_a.semantics.typecheck import typecheck
from linear_a.semantics.syntax import REAL, Signature

N = 10**6
MAX_RSS_GB = 4.0     # measured ≈ 1.3 GB at 10^6 lets


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # ru_maxrss is in KiB


def check_chain(n: int):
    text = chain_text(n)
    prog = parse_program(text, "chain.la")
    body = prog.defs[0].body
    assert len(body.binds) == n

    dv = typecheck(prog)
    assert dv.result == {"f": Signature((REAL, REAL), (), (REAL,), ())}
    assert len(dv.premises[0].premises[0].premises) == n + 1   # n-ary Let: n bindings + tail
    del dv
    phi, _ = _typing_info(prog)    # the spine-only check, cached for evaluate
    assert phi == {"f": Signature((REAL, REAL), (), (REAL,), ())}

    r = evaluate(prog, "f", {"x": 0.5, "w": 0.9})
    assert r.nl == (chain_value(n, 0.5, 0.9),) and r.lin == ()
    assert r.work == n          # SPEC §4: every primitive costs 1, lets cost 0
    # SPEC §4: a value lives from its binding to its last use; w lives throughout,
    # each v_i until the next let reads it, when v_{i+1} is allocated: 3 reals at peak.
    assert r.memory == 3

    assert show(prog) == text   # the printer writes exactly the chain's layout


def test_chain_far_beyond_the_recursion_limit():
    check_chain(10_000)         # 10× Python's default recursion limit, in the fast suite


@pytest.mark.slow
def test_million_let_chain_parses_typechecks_evaluates_prints():
    gc.collect()
    gc.disable()    # the AST is long-lived: keep the cyclic GC from rescanning it (2× faster)
    try:
        check_chain(N)
        assert peak_rss_gb() < MAX_RSS_GB
    finally:
        gc.enable()
