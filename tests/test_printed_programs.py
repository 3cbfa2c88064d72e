"""The printer/transform pair closes (issue 15): every program a command
prints -- ``jvp``, ``unzip``, ``transpose``, ``linearize``, ``vjp`` (reference
pipeline and fast flat path) -- parses back and typechecks, and prints the
same again.

On random well-typed programs of ``linear_a.proofs.generators`` (which make
empty tuples ``()``, 1-tuples and units among their values), and on fixed
seeded ones, so the kinds asserted below are met by construction."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from linear_a.proofs.checks import program_kind
from linear_a.proofs.generators import (entry, linear_programs, mixed_programs, nonlinear_programs,
                                        seeded_programs)
from linear_a.semantics.parser import parse_program
from linear_a.semantics.printer import show
from linear_a.semantics.syntax import Let, LTup, NTup, iter_nodes
from linear_a.semantics.typecheck import typecheck
from linear_a.transforms.compose import linearize, vjp_program
from linear_a.transforms.flat import vjp_text
from linear_a.transforms.jvp import jvp_program
from linear_a.transforms.transpose import transpose_program
from linear_a.transforms.unzip import unzip_program

SETTINGS = dict(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# A hand-written program binding the non-linear unit and an empty tuple, whose
# JVP binds the linear unit (the case that once printed `let (; du) = () in`).
UNITS = """\
def g(x: real, e: ()) -> (real, () ;) =
  let (u ;) = () in
  let () = u in
  let (y ;) = sin(x) in
  (y, e ;)

def f(x: real) -> (real ;) =
  let (e ;) = () in
  let (y, e2 ;) = g(x, e) in
  let (;) = drop(e2) in
  (y ;)
"""


def closes(text: str, what: str) -> str:
    """text parses, typechecks and prints as itself."""
    q = parse_program(text)
    typecheck(q)
    assert show(q) == text, f"{what}: printing the re-parsed program changes it"
    return text


def printed_outputs(p):
    """(command, printed text) for every command that applies to p's entry."""
    fn = entry(p).name
    out = []
    kind = program_kind(p)        # by the variables, not the signatures: a purely non-linear
    if kind == "nonlinear":       # signature may still bind linear variables inside
        out.append(("jvp", show(jvp_program(p, [fn]))))
        out.append(("linearize", show(linearize(p, None, [fn]))))
        out.append(("vjp", show(vjp_program(p, fn))))
        out.append(("vjp (flat path)", vjp_text(show(p), fn)))
    out.append(("unzip", show(unzip_program(p, names=[fn]))))
    if kind == "linear":
        out.append(("transpose", show(transpose_program(p, [fn]))))
    return out


def units(p) -> Counter:
    """Empty tuples among p's right-hand sides, by class."""
    c = Counter()
    for d in p.defs:
        for n in iter_nodes(d.body):
            if type(n) is Let and type(n.rhs) in (NTup, LTup) and not n.rhs.args:
                c[type(n.rhs).__name__] += 1
    return c


@pytest.mark.parametrize("kind, strategy", [("nonlinear", nonlinear_programs()),
                                            ("linear", linear_programs()),
                                            ("mixed", mixed_programs())])
def test_printed_transforms_reparse_and_typecheck(kind, strategy):
    seen = Counter()

    def prop(p):
        for what, text in printed_outputs(p):
            closes(text, what)
            seen[what] += 1
            seen.update(units(parse_program(text)))

    @settings(**SETTINGS)
    @given(strategy)
    def check(p):
        prop(p)

    check()
    for p in seeded_programs(kind, range(15)):
        prop(p)
    want = {"nonlinear": {"jvp", "linearize", "vjp", "vjp (flat path)", "unzip", "NTup"},
            "linear": {"unzip", "transpose"}, "mixed": {"unzip"}}[kind]
    assert want <= set(seen), f"never exercised: {sorted(want - set(seen))}"


def test_units_print_as_parsable_linear_a():
    p = parse_program(UNITS)
    outs = dict(printed_outputs(p))
    assert set(outs) == {"jvp", "linearize", "vjp", "vjp (flat path)", "unzip"}
    for what, text in outs.items():
        closes(text, what)
    assert "zero : ()" in outs["jvp"]           # the linear unit, not `()`
    assert "= () in" in outs["jvp"]             # the non-linear unit is kept as is
