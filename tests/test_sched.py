"""TSched, the scheduling rule of transposition (transforms/transpose.py): a
non-linear binding of f_T runs just before the first binding that reads it.

It must change no value and no work, leave save-all's output alone, make M a
function of the unzip choice, and walk long chains without recursion."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from linear_a.proofs.generators import nonlinear_programs
from linear_a.semantics import parse_program
from linear_a.semantics.errors import DomainError
from linear_a.semantics.evaluate import evaluate
from linear_a.semantics.printer import show
from linear_a.semantics.rules import RULES
from linear_a.semantics.syntax import Block, Def, Let, NUnpack, Program, RealType, leaf_uses
from linear_a.semantics.typecheck import typecheck
from linear_a.transforms.compose import grad, names_for, vjp_program
from linear_a.transforms.programs import chain_xw, ode
from linear_a.transforms.transpose import TSched, transpose
from linear_a.transforms.unzip import unzip


def _lin(prog: Program, fn: str, policy):
    from linear_a.transforms.jvp import jvp_program
    dv = unzip(jvp_program(prog, [fn]), policy)
    return dv.result, dv.notes["signatures"][fn + "_jvp"].lin_name


def _scheduled_and_plain(prog: Program, fn: str, policy):
    """(scheduled program, unscheduled program, name of f_T, TSched derivation)."""
    lp, lname = _lin(prog, fn, policy)
    tdv = transpose(lp, [lname], trusted=True)
    tdef = next(p for p in tdv.premises if p.result.name == lname + "_T")
    front, out = tdef.notes["sched"].subject
    d = tdef.result
    plain = Def(d.name, d.nl_params, d.lin_params, d.nl_out, d.lin_out,
                Block(list(front) + list(out), d.body.tail), d.pos)
    tp = tdv.result
    up = Program([plain if e.name == d.name else e for e in tp.defs], tp.file)
    _LAST_LIN[0] = lp
    return tp, up, d.name, tdef.notes["sched"]


_LAST_LIN = [None]      # the linearization the last call transposed (its f_jvp_nl makes residuals)


def _reads(b):
    if type(b) is Let:
        if type(b.rhs) is Block:
            from linear_a.semantics.syntax import free_vars
            return set(free_vars(b.rhs))
        return set(leaf_uses(b.rhs))
    return {b.src}


def test_rule_is_registered_with_its_typeset_form():
    r = RULES[("transpose", "TSched")]
    assert r.conclusion.startswith(r"\mathsf{sched}") and r.premises and r.text


def test_recomputed_bindings_run_just_before_their_first_reader():
    prog = parse_program(chain_xw(6))
    tp, _, name, dv = _scheduled_and_plain(prog, "f", "recompute-all")
    assert dv.rule == "TSched" and dv.notes["moved"] > 0
    binds = tp.get(name).body.binds
    front = {id(b) for b in dv.subject[0]}
    for i, b in enumerate(binds):
        if id(b) not in front or type(b) is not Let or not b.nl:
            continue
        # the bindings after b up to its first reader are non-linear ones placed with it
        j = i + 1
        while not (set(b.nl) & _reads(binds[j])):
            assert id(binds[j]) in front, f"{show_bind(b)} could run later"
            j += 1


def show_bind(b):
    return f"let ({', '.join(b.nl)} ;) = …"


def test_save_all_moves_only_the_literals_written_again():
    """Under save-all the linear half's non-linear bindings are the residual
    unpack (and drops), which stay first, and the literals the constants rule
    writes again next to their scale (never residuals): each of those moves to
    just before the transposed scale that reads it."""
    for src, fn, literals in ((chain_xw(5), "f", 0), (ode(3), "ode", 6)):
        _, _, _, dv = _scheduled_and_plain(parse_program(src), fn, "save-all")
        front = dv.subject[0]
        assert dv.notes["moved"] == literals
        assert all(type(b) is NUnpack or type(b.rhs).__name__ in ("Drop", "Lit") for b in front)
        assert sum(1 for b in front if type(b) is Let and type(b.rhs).__name__ == "Lit") == literals
        binds = dv.result
        for i, b in enumerate(binds):
            if type(b) is Let and type(b.rhs).__name__ == "Lit":
                reader = binds[i + 1]
                assert type(reader.rhs).__name__ == "Scale" and reader.rhs.x == b.nl[0], show_bind(b)


def test_same_values_and_work_on_a_chain():
    prog = parse_program(chain_xw(8))
    for policy in ("save-all", "recompute-all", "every:2", "every:3"):
        tp, up, name, _ = _scheduled_and_plain(prog, "f", policy)
        typecheck(tp)
        nl_args = _residual_args(prog, policy)
        r1 = evaluate(tp, name, (nl_args, [1.0]))
        r0 = evaluate(up, name, (nl_args, [1.0]))
        assert (r1.nl, r1.lin, r1.work) == (r0.nl, r0.lin, r0.work)
        assert r1.memory <= r0.memory       # sinking never lengthens a lifetime here


def _residual_args(prog, policy):
    r = evaluate(_LAST_LIN[0], names_for("f")[0], ([0.4, 1.2], []))
    return list(r.nl[1:])


@settings(max_examples=40, deadline=None)
@given(nonlinear_programs(max_defs=3, max_lets=10), st.sampled_from(["recompute-all", "every:2"]),
       st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=8, max_size=8))
def test_scheduling_changes_no_value_and_no_work(prog, policy, xs):
    fn = prog.defs[-1].name
    tp, up, name, _ = _scheduled_and_plain(prog, fn, policy)
    typecheck(tp)
    typecheck(up)
    typecheck(parse_program(show(tp)))      # the printed program re-parses and typechecks
    vp = _LAST_LIN[0]               # f_jvp_nl of the same linearization
    d = prog.get(fn)
    args = {}
    for i, p in enumerate(d.nl_params):
        args[p.name] = _like(p.ty, xs[i % len(xs)])
    try:
        from linear_a.semantics.evaluate import bind_args
        from linear_a.semantics.domains import get_domain
        nl_args, _ = bind_args(d, args, get_domain("float"))
        r = evaluate(vp, names_for(fn)[0], (nl_args, []))
    except DomainError:
        return
    k = len(d.nl_out)
    cts = [_like(t, 1.0) for t in d.nl_out]
    try:
        r1 = evaluate(tp, name, (list(r.nl[k:]), cts))
        r0 = evaluate(up, name, (list(r.nl[k:]), cts))
    except DomainError:
        return
    assert (r1.nl, r1.lin, r1.work) == (r0.nl, r0.lin, r0.work)


def _like(ty, v):
    return v if isinstance(ty, RealType) else tuple(_like(t, v) for t in ty.items)


def test_memory_follows_the_choice():
    """After TSched, M of the vjp depends on the unzip choice: every:K and
    binomial:S store less and peak lower than save-all."""
    prog = parse_program(chain_xw(20))
    at = {"x": 0.5, "w": 1.5}
    m = {p: grad(prog, "f", at, policy=p).memory for p in ("save-all", "recompute-all", "every:4")}
    assert m["every:4"] < m["save-all"]
    # on a chain recompute-all cannot lower the peak (teach checkpoint explains why)
    assert m["recompute-all"] == m["save-all"]
    # the Euler integrator is a chain too: only saved states between recomputations lower it
    prog = parse_program(ode(20))
    at = {"p0": 1.0, "q0": 0.5, "a": 1.1, "b": 0.4, "c": 0.3, "h": 0.01}
    m = {p: grad(prog, "ode", at, policy=p).memory for p in ("save-all", "every:4", "binomial:4")}
    assert m["binomial:4"] < m["every:4"] < m["save-all"]


def test_long_chain_is_scheduled_without_recursion():
    """10^5 front bindings and 10^5 transposed ones: two loops, no recursion."""
    n = 100_000
    from linear_a.semantics.syntax import Lit, Prim, Scale
    front = [Let(("a0",), (), Lit("1.0"))]
    front += [Let((f"a{i}",), (), Prim("sin", (f"a{i - 1}",))) for i in range(1, n)]
    out = [Let((), (f"c{i}",), Scale(f"a{n - 1 - i}", f"c{i - 1}")) for i in range(1, n)]
    dv = TSched(front, out)
    binds = dv.result
    assert len(binds) == len(front) + len(out)
    # every a_i is read by a_{i+1}, so all sit before the first transposed binding
    assert binds[n - 1] is front[-1] and binds[n] is out[0]


def test_drops_and_unpacks_run_early():
    from linear_a.semantics.syntax import Drop, Lit, Prim, Scale
    a = Let(("a",), (), Lit("2.0"))
    b = Let(("b",), (), Prim("sin", ("a",)))
    t = Let(("t",), (), Prim("cos", ("a",)))
    drop_t = Let((), (), Drop("t"))
    out = [Let((), ("k1",), Scale("x", "k0")), Let((), ("k2",), Scale("b", "k1"))]
    dv = TSched([a, b, t, drop_t], out)
    order = dv.result
    # b runs in the slot of its reader out[1], and a (read by b) with it; t is only
    # dropped: it runs as early as its input a allows, and its drop right after it
    assert order == [out[0], a, b, t, drop_t, out[1]]
