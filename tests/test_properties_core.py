"""Property tests of the language core on generated programs (SPEC §2–§4, §11).

On random well-typed programs from ``linear_a.proofs.generators`` (non-linear, linear
and mixed):

(a) they typecheck, and have the shape their strategy promises;
(b) printing round-trips: ``show(parse_program(show(p))) == show(p)``;
(c) targeted mutations that break linearity -- a linear variable used twice,
    a ``dup`` deleted, a ``drop`` removed, a variable's class swapped, a
    non-linear variable where a linear one is needed -- are rejected with a
    located type/scope error naming a registered typing rule;
(d) float evaluation agrees with exact sympy evaluation (then ``evalf``) at the
    generated points;
(e) the typechecker agrees with a deliberately naive reference checker written
    here (types by direct recursion, linearity by counting each variable's uses
    in its scope) on well-typed programs and on random mutants.

Each property also counts what it exercised and fails if a kind of case was
never generated, so a generator regression cannot make it pass vacuously.
"""
from __future__ import annotations

import copy
import math
from collections import Counter

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linear_a.proofs.generators import (entry, linear_programs, mixed_programs, nonlinear_programs,
                               points_for, seeded_programs, with_points)
from linear_a.semantics.errors import LinearATypeError
from linear_a.semantics.evaluate import evaluate
from linear_a.semantics.parser import parse_program
from linear_a.semantics.primitives import PRIMITIVES
from linear_a.semantics.printer import show
from linear_a.semantics.rules import RULES
from linear_a.semantics.syntax import (REAL, Block, Call, Def, Drop, Dup, LAdd, Let, Lit, LTup, LUnpack,
                              NTup, NUnpack, Prim, Program, Ret, Scale, TupleType, Zero, iter_nodes)
from linear_a.semantics.typecheck import typecheck

STRATEGIES = {
    "nonlinear": nonlinear_programs(),
    "linear": linear_programs(),
    "mixed": mixed_programs(),
}
KINDS = list(STRATEGIES)
# Programs made from fixed seeds (the same on every run, under any hypothesis
# profile): each coverage assertion below also runs its property on these, so
# "every kind of case was exercised" holds by construction, not by the luck of
# one randomized run.
SEEDS = range(40)
SEEDED = {kind: seeded_programs(kind, SEEDS) for kind in KINDS}
TYPING_RULES = {name for (judgment, name) in RULES if judgment == "typing"}
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])


def _point(ty, x=0.75):
    """A fixed argument of type ty inside the generators' safe domain."""
    return x if ty == REAL else tuple(_point(s, x) for s in ty.items)


def fresh_copy(p: Program) -> Program:
    q = copy.deepcopy(p)
    q.__dict__.pop("_typing", None)
    return q


def accepted(p: Program) -> bool:
    """The typechecker's verdict; anything but a LinearATypeError is a bug."""
    try:
        typecheck(p)
        return True
    except LinearATypeError as e:
        assert e.rule in TYPING_RULES, f"error names an unregistered rule: {e}"
        return False


# ----------------------------------------------------------------------------
# (a) generated programs are well typed, have the promised shape, and evaluate


@pytest.mark.parametrize("kind", KINDS)
def test_generated_programs_typecheck(kind):
    seen = Counter()

    def prop(p, args):
        dv = typecheck(p)
        r = evaluate(p, entry(p).name, args)     # safe by construction: no DomainError
        assert all(math.isfinite(v) for v in flatten(r.outputs))
        assert list(dv.result) == [d.name for d in p.defs]
        for d in p.defs:
            if kind == "nonlinear":
                assert d.is_nonlinear
            if kind == "linear":
                assert d.lin_params and d.lin_out and not d.nl_out
        for d in p.defs:
            for x in iter_nodes(d.body):
                seen[type(x).__name__] += 1
                if type(x) is Let and type(x.rhs) is Block:
                    seen["nested"] += 1
                if type(x) is Prim:
                    seen[x.op] += 1

    @settings(max_examples=60, **SETTINGS)
    @given(with_points(STRATEGIES[kind]))
    def check(pa):
        prop(*pa)

    check()
    for p in SEEDED[kind]:
        prop(fresh_copy(p), {q.name: _point(q.ty) for q in entry(p).params})
    must = {"Call", "Drop", "NTup", "NUnpack", "Lit", "nested", "Ret"}
    must |= set(PRIMITIVES) if kind == "nonlinear" else set()
    if kind != "nonlinear":
        must |= {"Scale", "LAdd", "Dup", "Zero", "LTup", "LUnpack"}
    if kind == "linear":
        must.discard("NTup")     # possible but rare: non-linear tuples only feed calls here
    missing = {m for m in must if not seen[m]}
    assert not missing, f"the {kind} generator never produced {sorted(missing)}"


# ----------------------------------------------------------------------------
# (b) print / parse round trip


@pytest.mark.parametrize("kind", KINDS)
def test_print_parse_round_trip(kind):
    @settings(max_examples=40, **SETTINGS)
    @given(STRATEGIES[kind])
    def check(p):
        text = show(p)
        q = parse_program(text)
        assert show(q) == text
        typecheck(q)       # the parser's class decisions (tuples, unpacks) keep it well typed

    check()


# ----------------------------------------------------------------------------
# Mutation machinery: sites addressed by indices, so a mutation computed on the
# original is applied to a fresh copy.

_VAR_FIELDS = {Ret: ("nl", "lin"), Prim: ("args",), NTup: ("args",), LTup: ("args",),
               LAdd: ("a", "b"), Scale: ("x", "l"), Dup: ("l",), Drop: ("v",),
               Call: ("nl", "lin"), NUnpack: ("src",), LUnpack: ("src",)}


def use_sites(e) -> list[tuple]:
    """Every variable occurrence (not binders) of e: (node, field, index|None, name)."""
    out = []
    for n in iter_nodes(e):
        for f in _VAR_FIELDS.get(type(n), ()):
            val = getattr(n, f)
            if isinstance(val, tuple):
                out.extend((n, f, i, v) for i, v in enumerate(val))
            else:
                out.append((n, f, None, val))
    return out


def set_site(site, name):
    n, f, i, _ = site
    if i is None:
        setattr(n, f, name)
    else:
        val = list(getattr(n, f))
        val[i] = name
        setattr(n, f, tuple(val))


def blocks(e) -> list[Block]:
    """Every Block of e (the body and nested right-hand sides), in order."""
    out, stack = [], [e]
    while stack:
        x = stack.pop()
        if type(x) is Block:
            out.append(x)
            stack.extend(b.rhs for b in reversed(x.binds) if type(b) is Let)
    return out


def binders(d: Def) -> list[str]:
    names = [p.name for p in d.params]
    for n in iter_nodes(d.body):
        if type(n) is Let:
            names.extend(n.nl + n.lin)
        elif type(n) in (NUnpack, LUnpack):
            names.extend(n.names)
    return names


def _rename(d: Def, old: str, new: str):
    for s in use_sites(d.body):
        if s[3] == old:
            set_site(s, new)


def linearity_mutations(p: Program) -> list[tuple[str, object]]:
    """Mutations of a well-typed program that are ill-typed by construction:
    (kind, function(copy) -> None)."""
    dv = typecheck(fresh_copy(p))
    out = []
    for k, d in enumerate(p.defs):
        env = dv.premises[k].notes["env"]
        sites = use_sites(d.body)
        lin_sites = [j for j, s in enumerate(sites) if env[s[3]][0]]
        uses = Counter(s[3] for s in sites)

        # a linear variable used where another linear one already was
        for jj, j in enumerate(lin_sites):
            for i in lin_sites[:jj]:
                if sites[i][3] != sites[j][3]:
                    out.append(("duplicate-linear-use", _m_site(k, j, sites[i][3])))
                    break
        # a non-linear variable where a linear one is needed
        if d.nl_params:
            for j in lin_sites:
                out.append(("nonlinear-where-linear", _m_site(k, j, d.nl_params[0].name)))
        for bi, blk in enumerate(blocks(d.body)):
            for i, b in enumerate(blk.binds):
                if type(b) is Let and type(b.rhs) is Dup:
                    out.append(("delete-dup", _m_delete_dup(k, bi, i)))
                if type(b) is Let and type(b.rhs) is Drop and uses[b.rhs.v] == 1:
                    out.append(("remove-drop", _m_delete_bind(k, bi, i)))
        only_drop = {s[3] for s in sites if type(s[0]) is Drop and uses[s[3]] == 1}
        for i, q in enumerate(d.lin_params):
            if q.name not in only_drop:
                out.append(("linear-param-made-nonlinear", _m_swap_param(k, i, True)))
        for i, q in enumerate(d.nl_params):
            if q.name not in only_drop:
                out.append(("nonlinear-param-made-linear", _m_swap_param(k, i, False)))
    return out


def _m_site(k, j, name):
    def apply(q):
        set_site(use_sites(q.defs[k].body)[j], name)
    return apply


def _m_delete_bind(k, bi, i):
    def apply(q):
        del blocks(q.defs[k].body)[bi].binds[i]
    return apply


def _m_delete_dup(k, bi, i):
    def apply(q):
        d = q.defs[k]
        blk = blocks(d.body)[bi]
        b = blk.binds.pop(i)
        for name in b.lin:
            _rename(d, name, b.rhs.l)
    return apply


def _m_swap_param(k, i, from_linear):
    def apply(q):
        d = q.defs[k]
        if from_linear:
            d.nl_params.append(d.lin_params.pop(i))
        else:
            d.lin_params.append(d.nl_params.pop(i))
    return apply


def _m_swap_args(k, j):
    def apply(q):
        n = [x for x in iter_nodes(q.defs[k].body) if type(x) in (LAdd, Prim)][j]
        if type(n) is LAdd:
            n.a, n.b = n.b, n.a
        else:
            n.args = n.args[::-1]
    return apply


def draw_random_mutation(data, p: Program):
    """A mutation that may or may not keep the program well typed (for the
    agreement test): rename a use to any binder of the definition, rename a
    shared non-linear use to a parameter of its type, delete a binding, swap a
    parameter's class, swap the arguments of ``+.`` or a binary primitive, or
    one of the linearity-breaking mutations."""
    k = data.draw(st.integers(0, len(p.defs) - 1), label="def")
    d = p.defs[k]
    env = typecheck(fresh_copy(p)).premises[k].notes["env"]
    sites = use_sites(d.body)
    uses = Counter(s[3] for s in sites)
    shared = [j for j, s in enumerate(sites) if not env[s[3]][0] and uses[s[3]] >= 2
              and any(q.ty == env[s[3]][1] and q.name != s[3] for q in d.nl_params)]
    swappable = [x for x in iter_nodes(d.body) if type(x) is LAdd or (type(x) is Prim and len(x.args) == 2)]
    kinds = ["rename-use"] * bool(sites) + ["rename-shared"] * bool(shared) + \
        ["delete-binding"] * bool(blocks(d.body)) + ["swap-param"] * bool(d.params) + \
        ["swap-args"] * bool(swappable) + ["linearity"]
    kind = data.draw(st.sampled_from(kinds), label="kind")
    if kind == "rename-use":
        j = data.draw(st.integers(0, len(sites) - 1), label="site")
        return kind, _m_site(k, j, data.draw(st.sampled_from(sorted(set(binders(d))))))
    if kind == "rename-shared":
        j = data.draw(st.sampled_from(shared), label="site")
        ty = env[sites[j][3]][1]
        params = [q.name for q in d.nl_params if q.ty == ty and q.name != sites[j][3]]
        return kind, _m_site(k, j, data.draw(st.sampled_from(params)))
    if kind == "delete-binding":
        bs = blocks(d.body)
        bi = data.draw(st.integers(0, len(bs) - 1), label="block")
        return kind, _m_delete_bind(k, bi, data.draw(st.integers(0, len(bs[bi].binds) - 1)))
    if kind == "swap-param":
        i = data.draw(st.integers(0, len(d.params) - 1), label="param")
        linear = i >= len(d.nl_params)
        return kind, _m_swap_param(k, i - len(d.nl_params) if linear else i, linear)
    if kind == "swap-args":
        return kind, _m_swap_args(k, data.draw(st.integers(0, len(swappable) - 1)))
    muts = linearity_mutations(p)
    return draw_mutation(data, muts) if muts else ("none", lambda q: None)


def draw_mutation(data, muts):
    """A mutation: its kind first (uniformly), then a site of that kind."""
    kinds = sorted({what for what, _ in muts})
    kind = data.draw(st.sampled_from(kinds), label="mutation kind")
    return data.draw(st.sampled_from([m for m in muts if m[0] == kind]), label="site")


def mutated(p: Program, mutate) -> Program:
    q = fresh_copy(p)
    mutate(q)
    return q


# ----------------------------------------------------------------------------
# (c) linearity-breaking mutations are rejected, naming a real rule


@pytest.mark.parametrize("kind", ["linear", "mixed", "nonlinear"])
def test_linearity_mutations_rejected(kind):
    seen = Counter()

    def prop(p, what, mutate):
        q = mutated(p, mutate)
        with pytest.raises(LinearATypeError) as err:
            typecheck(q)
        assert err.value.rule in TYPING_RULES, f"{what}: {err.value}"
        assert str(err.value)      # renders as one line without failing
        seen[what] += 1

    @settings(max_examples=60, **SETTINGS)
    @given(STRATEGIES[kind], st.data())
    def check(p, data):
        muts = linearity_mutations(p)
        if muts:
            prop(p, *draw_mutation(data, muts))

    check()
    for p in SEEDED[kind]:                  # the first site of every kind of mutation
        firsts = {}
        for what, mutate in linearity_mutations(p):
            firsts.setdefault(what, mutate)
        for what, mutate in firsts.items():
            prop(p, what, mutate)
    expected = {"remove-drop", "nonlinear-param-made-linear"}
    if kind != "nonlinear":
        expected |= {"duplicate-linear-use", "nonlinear-where-linear", "delete-dup",
                     "linear-param-made-nonlinear"}
    missing = expected - set(seen)
    assert not missing, f"never exercised: {sorted(missing)} (saw {dict(seen)})"


# ----------------------------------------------------------------------------
# (d) float evaluation agrees with exact (sympy) evaluation


def flatten(vs):
    for v in vs:
        if isinstance(v, tuple):
            yield from flatten(v)
        else:
            yield v


def _rounded(v, digits=2):
    return round(v, digits) if not isinstance(v, tuple) else tuple(_rounded(x, digits) for x in v)


@pytest.mark.parametrize("kind", KINDS)
def test_float_evaluation_matches_sympy(kind):
    compared = Counter()

    @settings(max_examples=40, **SETTINGS)
    @given(with_points(STRATEGIES[kind]))
    def check(pa):
        p, args = pa
        # Two-decimal points: exact rationals with small denominators.  (sympy's exact
        # `pow(a, b)` of a rational b with a 10^16 denominator, which a float's repr
        # gives, can search for perfect roots for minutes.)
        args = {k: _rounded(v) for k, v in args.items()}
        fn = entry(p).name
        r_float = evaluate(p, fn, args)
        r_sym = evaluate(p, fn, args, domain="sympy")
        assert (r_float.work, r_float.memory) == (r_sym.work, r_sym.memory)
        xs, ys = list(flatten(r_float.outputs)), list(flatten(r_sym.outputs))
        assert len(xs) == len(ys)
        for x, y in zip(xs, ys):
            exact = sympy.N(y, 30)
            assert exact.is_Number, f"not a number: {y}"
            exact = float(exact)
            # relative for |value| >= 1, absolute below (values are O(1) by construction)
            assert math.isfinite(x) and abs(x - exact) <= 1e-9 * max(1.0, abs(exact)), (x, exact)
            compared["values"] += 1

    check()
    assert compared["values"] >= 40


# ----------------------------------------------------------------------------
# (e) an independent, naive reference typechecker


class Reject(Exception):
    pass


def need(cond, why="ill typed"):
    if not cond:
        raise Reject(why)


def count_uses(e, name: str) -> int:
    """Occurrences of ``name`` in e, recursively (binders are distinct, so no shadowing)."""
    if type(e) is Block:
        n = count_uses(e.tail, name)
        for b in e.binds:
            n += count_uses(b.rhs, name) if type(b) is Let else int(b.src == name)
        return n
    return sum(1 for f in _VAR_FIELDS.get(type(e), ())
               for v in (getattr(e, f) if isinstance(getattr(e, f), tuple) else (getattr(e, f),))
               if v == name)


def check_scope_use(name, linear, scope, env):
    """The binder ``name`` is used exactly once (linear) / at least once in scope."""
    n = count_uses(scope, name)
    need(n == 1 if linear else n >= 1, f"{name} used {n} times")


def var(env, name, linear):
    need(name in env, f"{name} not in scope")
    need(env[name][0] == linear, f"{name} has the wrong class")
    return env[name][1]


def naive_type(e, env, sigs):
    """(nl types, lin types) of e, recursing on chains binding by binding."""
    if type(e) is Block:
        if not e.binds:
            return naive_type(e.tail, env, sigs)
        b, rest = e.binds[0], Block(e.binds[1:], e.tail)
        env = dict(env)
        if type(b) is Let:
            if type(b.rhs) is Zero and b.rhs.ty is None:
                need(b.lin_ty is not None and len(b.lin) == 1 and not b.nl and b.lin_ty[0] is not None)
                nts, lts = (), (b.lin_ty[0],)
            else:
                nts, lts = naive_type(b.rhs, env, sigs)
            need(len(nts) == len(b.nl) and len(lts) == len(b.lin))
            for names, tys, anns, linear in ((b.nl, nts, b.nl_ty, False), (b.lin, lts, b.lin_ty, True)):
                for i, (n, t) in enumerate(zip(names, tys)):
                    need(anns is None or anns[i] is None or anns[i] == t)
                    need(n not in env)
                    env[n] = (linear, t)
                    check_scope_use(n, linear, rest, env)
        else:
            linear = type(b) is LUnpack
            t = var(env, b.src, linear)
            need(type(t) is TupleType and len(t.items) == len(b.names))
            for n, s in zip(b.names, t.items):
                need(n not in env)
                env[n] = (linear, s)
                check_scope_use(n, linear, rest, env)
        return naive_type(rest, env, sigs)
    t = type(e)
    if t is Ret:
        return (tuple(var(env, x, False) for x in e.nl), tuple(var(env, y, True) for y in e.lin))
    if t is Lit:
        float(e.text)
        return (REAL,), ()
    if t is Prim:
        need(e.op in PRIMITIVES and len(e.args) == PRIMITIVES[e.op].arity)
        need(all(var(env, x, False) == REAL for x in e.args))
        return (REAL,), ()
    if t is Zero:
        need(e.ty is not None)
        return (), (e.ty,)
    if t is LAdd:
        ta, tb = var(env, e.a, True), var(env, e.b, True)
        need(ta == tb)
        return (), (ta,)
    if t is Scale:
        need(var(env, e.x, False) == REAL)
        return (), (var(env, e.l, True),)
    if t is Dup:
        ty = var(env, e.l, True)
        return (), (ty, ty)
    if t is Drop:
        need(e.v in env)
        return (), ()
    if t is NTup:
        return (TupleType(var(env, x, False) for x in e.args),), ()
    if t is LTup:
        return (), (TupleType(var(env, x, True) for x in e.args),)
    if t is Call:
        need(e.fn in sigs)
        nl_in, lin_in, nl_out, lin_out = sigs[e.fn]
        need(len(e.nl) == len(nl_in) and len(e.lin) == len(lin_in))
        need(all(var(env, x, False) == ty for x, ty in zip(e.nl, nl_in)))
        need(all(var(env, y, True) == ty for y, ty in zip(e.lin, lin_in)))
        return tuple(nl_out), tuple(lin_out)
    raise Reject(f"unknown node {t.__name__}")


def naive_accepts(p: Program) -> bool:
    sigs = {}
    try:
        for d in p.defs:
            need(d.name not in sigs and d.name not in PRIMITIVES)
            names = binders(d)
            need(len(names) == len(set(names)), "a binder is repeated")
            env = {q.name: (False, q.ty) for q in d.nl_params}
            env.update({q.name: (True, q.ty) for q in d.lin_params})
            for q in d.params:
                check_scope_use(q.name, env[q.name][0], d.body, env)
            nts, lts = naive_type(d.body, env, sigs)
            need(list(nts) == list(d.nl_out) and list(lts) == list(d.lin_out), "wrong result types")
            sigs[d.name] = ([q.ty for q in d.nl_params], [q.ty for q in d.lin_params],
                            d.nl_out, d.lin_out)
        return True
    except Reject:
        return False


@pytest.mark.parametrize("kind", KINDS)
def test_typechecker_agrees_with_naive_checker(kind):
    verdicts = Counter()

    def prop(p, what, mutate):
        naive = naive_accepts(mutated(p, mutate))
        real = accepted(mutated(p, mutate))
        assert naive == real, f"{what}: naive {naive}, typechecker {real}\n{show(mutated(p, mutate))}"
        verdicts[real] += 1

    @settings(max_examples=80, **SETTINGS)
    @given(STRATEGIES[kind], st.data())
    def check(p, data):
        assert naive_accepts(fresh_copy(p)) and accepted(fresh_copy(p))
        prop(p, *draw_random_mutation(data, p))

    check()
    # Fixed programs: swapped arguments (well typed: both sides have one type)
    # and the first site of each linearity-breaking mutation (ill typed).
    for p in SEEDED[kind]:
        d = p.defs[-1]
        n_swap = sum(1 for x in iter_nodes(d.body)
                     if type(x) is LAdd or (type(x) is Prim and len(x.args) == 2))
        muts = [("swap-args", _m_swap_args(len(p.defs) - 1, j)) for j in range(min(n_swap, 1))]
        firsts = {}
        for what, mutate in linearity_mutations(p):
            firsts.setdefault(what, mutate)
        for what, mutate in muts + list(firsts.items()):
            prop(p, what, mutate)
    assert verdicts[True] >= 2 and verdicts[False] >= 20, verdicts


def test_naive_checker_is_not_vacuous():
    """The reference checker itself rejects the classic mistakes."""
    ok = parse_program("def f(x: real ; dx: real) -> (real ; real) =\n"
                       "  let (y ;) = sin(x) in\n  let (; dy) = x *. dx in\n  (y ; dy)\n")
    assert naive_accepts(ok)
    for bad in [
        "def f(x: real ; dx: real) -> (; real) =\n  let (; a) = x *. dx in\n  a +. a\n",
        "def f(x: real ; dx: real) -> (; real) =\n  (; dx)\n",                    # x unused
        "def f(x: real ; dx: real) -> (; real) =\n  let (;) = drop(dx) in\n  x *. x\n",
        "def f(x: real ; dx: real) -> (real ;) =\n  let (;) = drop(dx) in\n  sin(dx)\n",
    ]:
        assert not naive_accepts(parse_program(bad)), bad
        assert not accepted(parse_program(bad)), bad


def test_points_respect_parameter_types():
    p = parse_program("def f(x: real, p: ((real, real), real) ; dy: (real,)) -> (; (real,)) =\n"
                      "  let (;) = drop(p) in\n  x *. dy\n")

    @settings(max_examples=20, **SETTINGS)
    @given(points_for(p.defs[0]))
    def check(args):
        assert set(args) == {"x", "p", "dy"}
        (a, b), c = args["p"]
        assert all(-2 <= v <= 2 for v in (args["x"], a, b, c, args["dy"][0]))
        evaluate(p, "f", args)

    check()
