"""The checks, checked: known-bad transformations each theorem must refute.

``linear-a check --self-test`` runs :data:`CORPUS`: for each entry, a
realistic mistake is applied in-process (a primitive's partial, a rule of a
transformation or its output is monkeypatched), the named theorem is checked
on a small program that exercises the mistake, and the check must answer
*refuted* with a counterexample.  The patch is undone afterwards, whatever
happens.  A check that stays *proved* (or *checked*, or *unknown*) under a
bad transformation is a hollow check: the self-test fails and says which.

Entries are grouped by theorem; each names what it breaks and how.  The
program-level mistakes rewrite the output of a transformation
(``jvp_program``, ``unzip``, ``transpose_program``, ``vjp_program``) the way
a wrong rule would: a residual swapped, a binding done twice, a recomputed
binding also kept, a cotangent order swapped …
"""
from __future__ import annotations

import dataclasses
import importlib
import time
from dataclasses import dataclass
from typing import Callable

from linear_a.semantics.syntax import Block, Def, Drop, Let, NUnpack, Prim, Program, Ret


@dataclass
class Bad:
    name: str                 # what is broken, in one line
    theorem: str              # the theorem that must refute it
    program: str              # the program it is checked on
    patch: Callable           # () -> list of (object, attribute or key, new value)
    run: Callable | None = None   # () -> outcomes, instead of the theorem's per-program check
    by: str = ""              # the method that must refute it (a prefix of the outcome's method):
    #                           caught by another one means this method went blind and a later
    #                           (weaker) one covered for it, e.g. normal form proving, points refuting


@dataclass
class SelfTestResult:
    bad: Bad
    status: str
    method: str
    detail: str
    counterexample: dict | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == "refuted" and self.method.startswith(self.bad.by)

    @property
    def verdict(self) -> str:
        """``refuted``, or what went wrong: the status, or the method that refuted
        instead of ``bad.by`` (the expected one let the mistake through)."""
        if self.status == "refuted" and not self.ok:
            return f"refuted by {self.method}, not by {self.bad.by}"
        return self.status

    def as_json(self) -> dict:
        return {"bad_transformation": self.bad.name, "theorem": self.bad.theorem, "status": self.status,
                "caught": self.ok, "verdict": self.verdict, "method": self.method, "expected_method": self.bad.by, "detail": self.detail,
                "counterexample": self.counterexample, "seconds": round(self.seconds, 4)}


NF = "normal form, numeric witness"     # the exact method's refutation (`by`): a point where they differ


def _mod(name):
    return importlib.import_module(name)


# ----------------------------------------------------------------------------
# Programs


SEED = """def f(x1: real, x2: real) -> (real ;) =
  let (v1 ;) = log(x1) in
  let (v2 ;) = x1 * x2 in
  let (v3 ;) = sin(x2) in
  let (v4 ;) = v1 + v2 in
  v4 - v3
"""
UNARY = """def f(x: real, y: real) -> (real ;) =
  let (s ;) = {op}(x) in
  let (p ;) = s * y in
  p + x
"""
TWO_OUT = """def f(x: real, y: real) -> (real, real ;) =
  let (a ;) = sin(x) in
  let (b ;) = y * y in
  (a, b ;)
"""
LINEAR = """def g(x: real ; a: real, b: real) -> (; real) =
  let (; c) = x *. a in
  c +. b
"""


# ----------------------------------------------------------------------------
# Mistakes in the primitive table


def _partials(op: str, f):
    """PRIMITIVES[op] with partials = f(original partials)."""
    prims = _mod("linear_a.semantics.primitives").PRIMITIVES
    p = prims[op]
    return [(prims, op, dataclasses.replace(p, partials=f(p.partials)))]


def _tripled(orig, only_flat=False):
    from linear_a.semantics.primitives import MINUS_ONE, ONE

    def partials(b, a, z):
        out = orig(b, a, z)
        if only_flat and all(isinstance(q, str) for q in out):   # the reference's emitter: names
            return out
        return [b.lit("3") if q == ONE else b.lit("-3") if q == MINUS_ONE else
                b.prim("*", b.lit("3"), q) for q in out]
    return partials


def _swapped(orig):
    return lambda b, a, z: list(reversed(orig(b, a, z)))


# ----------------------------------------------------------------------------
# Mistakes in a transformation's output


def _fresh(d: Def, base: str) -> str:
    from linear_a.semantics.syntax import iter_nodes
    taken = {p.name for p in d.params}
    for n in iter_nodes(d.body):
        taken.update(getattr(n, "nl", ()) or ())
        taken.update(getattr(n, "lin", ()) or ())
        taken.update(getattr(n, "names", ()) or ())
    k = 0
    while f"{base}{k}" in taken:
        k += 1
    return f"{base}{k}"


def _binds(d: Def):
    return (list(d.body.binds), d.body.tail) if type(d.body) is Block else ([], d.body)


def _with_body(d: Def, binds, tail) -> Def:
    return dataclasses.replace(d, body=Block(binds, tail) if binds else tail)


def _prims_on_params(d: Def):
    names = {p.name for p in d.nl_params}
    binds, _ = _binds(d)
    return [b for b in binds if type(b) is Let and type(b.rhs) is Prim and len(b.nl) == 1
            and all(a in names for a in b.rhs.args)]


def _pad(d: Def, k: int, template: Let | None = None) -> Def:
    """d doing the work of ``template`` (default: its first primitive on its
    parameters) k more times, each result dropped: work done for nothing."""
    t = template or (_prims_on_params(d) or [None])[0]
    if t is None:
        return d
    binds, tail = _binds(d)
    extra = []
    for _ in range(k):
        n = _fresh(Def(d.name, d.nl_params, d.lin_params, d.nl_out, d.lin_out,
                       Block(binds + extra, tail) if binds + extra else tail), "dup_work")
        extra += [Let([n], [], Prim(t.rhs.op, list(t.rhs.args))), Let([], [], Drop(n))]
    return _with_body(d, extra + binds, tail)


def _map_defs(prog: Program, pick, f) -> Program:
    return Program([f(d) if pick(d) else d for d in prog.defs], prog.file)


def _wrap(module: str, attr: str, rewrite):
    """``module.attr`` with its result rewritten by ``rewrite(result, *args, **kw)``."""
    m = _mod(module)
    real = getattr(m, attr)

    def wrapped(*a, **k):
        return rewrite(real(*a, **k), *a, **k)
    return [(m, attr, wrapped)]


def _on_unzip(rewrite_lin=None, rewrite_nl=None, only_policy=False, only_staged=False):
    """unzip's output program with f_lin / f_nl rewritten (``only_policy``: only
    under a checkpoint policy other than save-all; ``only_staged``: only when
    staging, i.e. with values made ``unknown``)."""
    def rewrite(dv, prog, policy=None, *a, **k):
        if (only_policy and policy is None) or (only_staged and not k.get("unknown")):
            return dv
        out = dv.result
        sigs = dv.notes["signatures"]
        lins = {s.lin_name for s in sigs.values()}
        nls = {s.nl_name for s in sigs.values()}
        if rewrite_lin:
            out = _map_defs(out, lambda d: d.name in lins, rewrite_lin)
        if rewrite_nl:
            out = _map_defs(out, lambda d: d.name in nls, lambda d: rewrite_nl(d, dv.result))
        dv.result = out
        return dv
    return _wrap("linear_a.transforms.unzip", "unzip", rewrite)


def _swap_residuals(d: Def) -> Def:
    binds, tail = _binds(d)
    for i, b in enumerate(binds):
        if type(b) is NUnpack and len(b.names) >= 2:
            names = list(b.names)
            names[0], names[1] = names[1], names[0]
            binds[i] = NUnpack(names, b.src)
            break
    return _with_body(d, binds, tail)


def _keep_recomputed(d_nl: Def, prog: Program) -> Def:
    """f_nl also computes (and drops) a binding the policy recomputes in f_lin."""
    lin = prog[d_nl.name[:-len("_nl")] + "_lin"]
    names = {p.name for p in d_nl.nl_params}
    binds, _ = _binds(lin)
    for b in binds:
        if type(b) is Let and type(b.rhs) is Prim and all(a in names for a in b.rhs.args):
            return _pad(d_nl, 1, b)
    return d_nl


def _wrong_recompute(d: Def) -> Def:
    """a recomputed sin/cos in f_lin replaced by the other one"""
    binds, tail = _binds(d)
    for i, b in enumerate(binds):
        if type(b) is Let and type(b.rhs) is Prim and b.rhs.op in ("sin", "cos"):
            binds[i] = Let(b.nl, b.lin, Prim("cos" if b.rhs.op == "sin" else "sin", list(b.rhs.args)))
            break
    return _with_body(d, binds, tail)


def _swap_tail(d: Def, linear: bool) -> Def:
    binds, tail = _binds(d)
    if type(tail) is Ret:
        if linear and len(tail.lin) == 2:
            tail = Ret(tail.nl, tail.lin[::-1])
        elif not linear and len(tail.lin) >= 2:
            lin = list(tail.lin)
            lin[0], lin[1] = lin[1], lin[0]
            tail = Ret(tail.nl, lin)
    return _with_body(d, binds, tail)


def _transposed(rewrite):
    return _wrap("linear_a.transforms.transpose", "transpose_program",
                 lambda out, *a, **k: _map_defs(out, lambda d: d.name.endswith("_T"), rewrite))


def _scale_twice(d: Def) -> Def:
    """an extra ``x *. zero`` then dropped: transposition doing work f does not"""
    from linear_a.semantics.syntax import Scale, Zero
    from linear_a.semantics.syntax import REAL
    if not d.nl_params:
        return d
    z, y = _fresh(d, "zz"), _fresh(d, "zy")
    binds, tail = _binds(d)
    extra = [Let([], [z], Zero(REAL)), Let([], [y], Scale(d.nl_params[0].name, z)), Let([], [], Drop(y))]
    return _with_body(d, extra + binds, tail)


COSTS = """def g(x: real, p: (real, real)) -> (real ;) =
  let (q ;) = (x, x) in
  let (a, b) = p in
  let (c ;) = a * b in
  let (;) = drop(q) in
  c + x

def f(x: real, y: real) -> (real ;) =
  let (p ;) = (y, x) in
  let (r ;) = g(x, p) in
  let (t ;) = g(y, p) in
  let (s ;) = sin(r) in
  s * t
"""


def _evaluator_leaf(adjust):
    """Evaluator.leaf followed by ``adjust(evaluator, leaf, frame)``."""
    ev = _mod("linear_a.semantics.evaluate").Evaluator
    real = ev.leaf

    def leaf(self, e, f):
        out = real(self, e, f)
        adjust(self, e, f)
        return out
    return [(ev, "leaf", leaf)]


def _nl_drop_charged(self, e, f):
    from linear_a.semantics.syntax import Drop
    if type(e) is Drop and not self.lin_env[e.v][0]:
        f.work += self.costs.drop


def _dup_once(self, e, f):
    from linear_a.semantics.evaluate import vsize
    from linear_a.semantics.syntax import Dup
    if type(e) is Dup:
        f.work -= self.costs.dup * (vsize(f.env[e.l]) - 1)


def _callee_peak_dropped():
    ev = _mod("linear_a.semantics.evaluate").Evaluator
    real = ev.do_call

    def do_call(self, e, f):
        saved = self.call
        self.call = lambda *a, **k: (lambda r: (r[0], r[1], r[2], 0, r[4]))(saved(*a, **k))
        try:
            return real(self, e, f)
        finally:
            del self.call
    return [(ev, "do_call", do_call)]


def _frees_before_alloc():
    m = _mod("linear_a.semantics.evaluate")
    from linear_a.semantics.syntax import Prim
    return [(m, "_MOVES", tuple(m._MOVES) + (Prim,))]


def _size_of_type_one():
    return [(_mod("linear_a.proofs.measure"), "size_of_type", lambda t: 1)]


def _typecheck_ignoring(rule: str):
    """typecheck with one rule's side conditions gone: its errors are swallowed."""
    m = _mod("linear_a.semantics.typecheck")
    real = m.typecheck

    def typecheck(prog, *a, **k):
        try:
            return real(prog, *a, **k)
        except Exception as e:
            if getattr(e, "rule", None) == rule:
                return None
            raise
    return [(m, "typecheck", typecheck)]


def _binomial_sweep():
    from .schedules import binomial_outcomes
    return binomial_outcomes()


def _split_at(f):
    m = _mod("linear_a.transforms.revolve")
    return [(m, "optimal_split", f)]


def _drop_last_tangent(d: Def) -> Def:
    """f_jvp without its last tangent result (dropped instead): the tangent signature broken."""
    binds, tail = _binds(d)
    if type(tail) is not Ret or not tail.lin:
        return d
    y = tail.lin[-1]
    return dataclasses.replace(_with_body(d, binds + [Let([], [], Drop(y))], Ret(tail.nl, tail.lin[:-1])),
                               lin_out=list(d.lin_out)[:-1])


def _extra_linear_param(d: Def) -> Def:
    """d with one more linear parameter (dropped at once)."""
    from linear_a.semantics.syntax import REAL, Param
    z = _fresh(d, "zl")
    binds, tail = _binds(d)
    return dataclasses.replace(_with_body(d, [Let([], [], Drop(z))] + binds, tail),
                               lin_params=list(d.lin_params) + [Param(z, REAL)])


def _repeat(f, k):
    def g(d):
        for _ in range(k):
            d = f(d)
        return d
    return g


# ----------------------------------------------------------------------------
# Mistakes in the loop rules (issue 14)


LOOPED = """def step(x: real, y: real) -> (real, real ;) =
  let (s ;) = sin(x) in
  let (p ;) = s * y in
  let (t ;) = x + y in
  let (q ;) = tanh(t) in
  (p, q ;)

def f(x: real, y: real) -> (real ;) =
  let (a, b ;) = loop 3 step(x, y) in
  a * b
"""
LONG_LOOPED = LOOPED.replace("loop 3", "loop 60")   # long: decided by induction on N


def _flip(b: Let) -> Let:
    from linear_a.semantics.syntax import Loop
    e = b.rhs
    return Let(b.nl, b.lin, Loop(e.n, e.fn, e.nl, e.lin, e.over, not e.reverse, e.pos), b.pos,
               b.nl_ty, b.lin_ty)


def _tloop_forwards():
    """TLoop emitting the transposed loop in the original order (not reversed)."""
    from linear_a.semantics.syntax import Loop
    m = _mod("linear_a.transforms.transpose")
    real = m.LEAF_RULES[Loop]

    def tloop(cx, e, cts):
        dv = real(cx, e, cts)
        cx.out[-1] = _flip(cx.out[-1])
        return dv
    return [(m.LEAF_RULES, Loop, tloop)]


def _uloop_wrong_order():
    """ULoop's linear loop reading the residual stack from the end."""
    m = _mod("linear_a.transforms.unzip")
    real = m.ULoop

    def uloop(u, b):
        item = real(u, b)
        item.lin = tuple(_flip(x) for x in item.lin)
        return item
    return [(m, "ULoop", uloop)]


def _jloop_drops_tangent(out, *a, **k) -> Program:
    """f_jvp's loop started with a zero for its last carried tangent (dropped)."""
    from linear_a.semantics.syntax import Loop, Zero

    def rewrite(d: Def) -> Def:
        binds, tail = _binds(d)
        for i, b in enumerate(binds):
            if type(b) is Let and type(b.rhs) is Loop and b.rhs.lin:
                e = b.rhs
                z = _fresh(d, "zt")
                ty = out[e.fn].lin_params[-1].ty
                lp = Loop(e.n, e.fn, e.nl, e.lin[:-1] + (z,), e.over, e.reverse, e.pos)
                binds[i:i + 1] = [Let([], [], Drop(e.lin[-1])), Let([], [z], Zero(ty)),
                                  Let(b.nl, b.lin, lp, b.pos, b.nl_ty, b.lin_ty)]
                return _with_body(d, binds, tail)
        return d
    return _map_defs(out, lambda d: True, rewrite)


def _loop_work_once():
    """The evaluator charging a loop's work once, not once per iteration."""
    m = _mod("linear_a.semantics.evaluate")
    real = m.eval_Loop

    def eval_loop(ev, e, f):
        w0 = f.work
        out = real(ev, e, f)
        if e.n:
            f.work = w0 + (f.work - w0) // e.n
        return out
    return [(m, "eval_Loop", eval_loop)]


def _loop_rule_outcomes():
    """TLoop's per-rule adjoint obligation (N symbolic), as outcomes."""
    from .checks import Outcome
    from .obligations import LOOP_STEPS, loop_adjoint
    out = []
    for K in LOOP_STEPS:
        for o in loop_adjoint(K):
            out.append(Outcome(o.theorem, o.rule, o.status, "z3 (per-rule obligation)", o.seconds,
                               o.detail, o.counterexample))
    return out


LOOP_CORPUS: list[Bad] = [
    Bad("TLoop: the transposed loop runs forwards, not reversed", "transpose-adjoint", LOOPED,
        _tloop_forwards, by=NF),
    Bad("TLoop: the transposed loop runs forwards (long loop: induction on N)", "transpose-adjoint",
        LONG_LOOPED, _tloop_forwards, by="induction on N"),
    Bad("TLoop: the transposed loop runs forwards (per-rule obligation, N symbolic)", "transpose-adjoint",
        LOOPED, _tloop_forwards, _loop_rule_outcomes, by="z3 (per-rule obligation)"),
    Bad("ULoop: the linear loop reads the residual stack in the wrong order", "unzip-correct", LOOPED,
        _uloop_wrong_order, by=NF),
    Bad("ULoop: the residual stack read in the wrong order (long loop: induction on N)", "vjp-correct",
        LONG_LOOPED, _uloop_wrong_order, by="oracle"),
    Bad("JLoop: a carried tangent dropped (the loop starts it at zero)", "jvp-correct", LOOPED,
        lambda: _wrap("linear_a.transforms.jvp", "jvp_program", _jloop_drops_tangent), by=NF),
    Bad("evaluator: a loop's work charged once, not N times", "cost-oracle", LOOPED, _loop_work_once,
        by="three counters"),
]


CORPUS: list[Bad] = [
    Bad("primitive table: ∂sin = sin (should be cos)", "jvp-correct", SEED,
        lambda: _partials("sin", lambda o: (lambda b, a, z: [b.prim("sin", a[0])])), by=NF),
    Bad("primitive table: ∂sigmoid ×3", "jvp-correct", UNARY.format(op="sigmoid"),
        lambda: _partials("sigmoid", _tripled), by=NF),
    Bad("primitive table: ∂neg ×3", "jvp-correct", UNARY.format(op="neg"),
        lambda: _partials("neg", _tripled), by=NF),
    Bad("primitive table: ∂cos ×3", "vjp-correct", UNARY.format(op="cos"),
        lambda: _partials("cos", _tripled), by=NF),
    Bad("primitive table: partials of `-` in swapped order", "jvp-correct", SEED,
        lambda: _partials("-", _swapped), by=NF),
    Bad("primitive table: partials of `pow` in swapped order", "vjp-correct",
        "def f(x: real, y: real) -> (real ;) =\n  let (a ;) = x * x in\n  let (one ;) = 1 in\n  let (p ;) = one + a in\n"
        "  let (q ;) = pow(p, y) in\n  q * x\n", lambda: _partials("pow", _swapped), by=NF),
    Bad("primitive table: z3's `-` adds (used only inside the z3 identity, both sides)", "typing-sound", SEED,
        lambda: [(_mod("linear_a.semantics.primitives").PRIMITIVES["-"].impls, "z3", lambda x, y: x + y)],
        lambda: _mod("linear_a.proofs.tablecheck").table_outcomes(), by="evaluation at rational points"),
    Bad("JVP: the tangents of f_jvp's results in swapped order", "jvp-correct", TWO_OUT,
        lambda: _wrap("linear_a.transforms.jvp", "jvp_program",
                      lambda out, *a, **k: _map_defs(out, lambda d: True, lambda d: _swap_tail(d, False))),
                      by=NF),
    Bad("JVP: f_jvp does a primitive 100 more times", "jvp-cost", SEED,
        lambda: _wrap("linear_a.transforms.jvp", "jvp_program",
                      lambda out, *a, **k: _map_defs(out, lambda d: True, lambda d: _pad(d, 100))),
                      by="measurement"),
    Bad("JVP: f_jvp drops its last tangent result instead of returning it", "jvp-typed", TWO_OUT,
        lambda: _wrap("linear_a.transforms.jvp", "jvp_program",
                      lambda out, *a, **k: _map_defs(out, lambda d: True, _drop_last_tangent)), by="signature"),
    Bad("JVP: f_jvp carries 100 useless bindings", "jvp-size", SEED,
        lambda: _wrap("linear_a.transforms.jvp", "jvp_program",
                      lambda out, *a, **k: _map_defs(out, lambda d: True, lambda d: _pad(d, 100))),
                      by="measurement"),
    Bad("unzip: f_nl takes a linear parameter", "unzip-typed", SEED,
        lambda: _on_unzip(rewrite_nl=lambda d, p: _extra_linear_param(d)), by="signature"),
    Bad("transpose: f_T takes one linear parameter too many", "transpose-typed", LINEAR,
        lambda: _transposed(_extra_linear_param), by="signature"),
    Bad("transpose: f_T carries 40 useless zero/scale/drop triples", "transpose-size", LINEAR,
        lambda: _transposed(_repeat(_scale_twice, 40)), by="measurement"),
    Bad("unzip: two residuals swapped in f_lin's unpack", "unzip-correct", SEED,
        lambda: _on_unzip(rewrite_lin=_swap_residuals), by=NF),
    Bad("unzip: staged (a value made unknown), two residuals swapped in f_lin's unpack", "unzip-correct",
        SEED, lambda: _on_unzip(rewrite_lin=_swap_residuals, only_staged=True), by=NF),
    Bad("unzip: f_nl does a primitive twice (save-all)", "unzip-cost", SEED,
        lambda: _on_unzip(rewrite_nl=lambda d, p: _pad(d, 1)), by="measurement"),
    Bad("unzip: a recomputed binding also kept in f_nl (work done twice)", "unzip-cost", SEED,
        lambda: _on_unzip(rewrite_nl=_keep_recomputed, only_policy=True), by="measurement"),
    Bad("checkpoint: recompute-all recomputes sin as cos", "checkpoint-invariance", SEED,
        lambda: _on_unzip(rewrite_lin=_wrong_recompute, only_policy=True), by="points"),
    Bad("transpose: cotangents returned in swapped order", "transpose-adjoint", LINEAR,
        lambda: _transposed(lambda d: _swap_tail(d, True)), by=NF),
    Bad("transpose: f_T scales and drops a zero (work f does not do)", "transpose-cost", LINEAR,
        lambda: _transposed(_scale_twice), by="measurement"),
    Bad("transpose: T(T(f)) returns cotangents swapped", "transpose-involution",
        "def g(x: real ; a: real, b: real) -> (; real, real) =\n  let (; c) = x *. a in\n  (; c, b)\n",
        lambda: _transposed(lambda d: _swap_tail(d, True)), by=NF),
    Bad("vjp: the vjp program does a primitive 100 more times", "vjp-cost", SEED,
        lambda: _wrap("linear_a.transforms.compose", "vjp_program",
                      lambda out, *a, **k: _map_defs(out, lambda d: d.name.endswith("_nl"),
                                                     lambda d: _pad(d, 100))), by="measurement"),
    Bad("evaluator: a non-linear drop charged", "cost-oracle", COSTS,
        lambda: _evaluator_leaf(_nl_drop_charged), by="three counters"),
    Bad("evaluator: dup of a pair charged once, not per real", "cost-oracle", COSTS,
        lambda: _evaluator_leaf(_dup_once), by="three counters"),
    Bad("evaluator: a callee's peak memory not added to the caller's", "cost-oracle", COSTS,
        _callee_peak_dropped, by="three counters"),
    Bad("evaluator: a primitive frees its inputs before allocating its result", "cost-oracle", COSTS,
        _frees_before_alloc, by="three counters"),
    Bad("measure: linear forms charged once, not per real", "cost-oracle", COSTS, _size_of_type_one,
        by="three counters"),
    Bad("typing: Ret no longer requires distinct linear names", "typing-rejects", LINEAR,
        lambda: _typecheck_ignoring("Ret"), by="typing judgment"),
    Bad("typing: Prim accepts linear arguments", "typing-rejects", SEED,
        lambda: _typecheck_ignoring("Prim"), by="typing judgment"),
    Bad("typing: Scale accepts its operands swapped", "typing-rejects", LINEAR,
        lambda: _typecheck_ignoring("Scale"), by="typing judgment"),
    Bad("binomial schedule: always splits after the first step (valid, not optimal)",
        "checkpoint-invariance", SEED, lambda: _split_at(lambda l, s: 1), _binomial_sweep, by="schedule run"),
    Bad("binomial schedule: splits one step later than optimal", "checkpoint-invariance", SEED,
        lambda: _split_at((lambda real: lambda l, s: min(real(l, s) + 1, l - 1))(
            _mod("linear_a.transforms.revolve").optimal_split)), _binomial_sweep, by="schedule run"),
    Bad("fast path: the staged transpose (where the fused pass declines) crashes", "vjp-fast-path", SEED,
        lambda: [(_mod("linear_a.transforms.flat"), "transpose", lambda d: {}["no such name"])], by="crash"),
    Bad("fast path: ∂sin ×3 in the flat emitter only (the program `linear-a vjp` prints)",
        "vjp-fast-path", UNARY.format(op="sin"), lambda: _partials("sin", lambda o: _tripled(o, True)),
        by="text"),
    Bad("fast path: ∂tanh ×3 in the flat emitter only, checked as the user's program", "vjp-correct",
        UNARY.format(op="tanh"), lambda: _partials("tanh", lambda o: _tripled(o, True)), by=NF),
] + LOOP_CORPUS


def _apply(patches):
    saved = []
    for obj, key, new in patches:
        if isinstance(obj, dict):
            saved.append((obj, key, obj[key]))
            obj[key] = new
        else:
            saved.append((obj, key, getattr(obj, key)))
            setattr(obj, key, new)
    return saved


def _undo(saved):
    for obj, key, old in reversed(saved):
        if isinstance(obj, dict):
            obj[key] = old
        else:
            setattr(obj, key, old)


def _import_everything():
    """Import every module of the package before a patch: a module first
    imported *while* ``revolve.optimal_split`` is patched would bind the patched
    function by name (``from .revolve import optimal_split``) and keep it after
    the undo -- the loop schedules then split at 1 for the rest of the process."""
    import pkgutil
    for sub in ("semantics", "transforms", "proofs"):
        pkg = importlib.import_module(f"linear_a.{sub}")
        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"linear_a.{sub}.{info.name}")


def run_one(bad: Bad) -> SelfTestResult:
    from linear_a.semantics.parser import parse_program
    from .checks import Subject, run_check
    from .theorems import constants
    _import_everything()
    constants()                  # derived from the unpatched transformations (cached)
    prog = parse_program(bad.program, f"<self-test: {bad.name}>")
    t0 = time.perf_counter()
    saved = _apply(bad.patch())
    try:
        if bad.run is not None:
            outs = bad.run()
            o = next((x for x in outs if x.status == "refuted"), outs[0])
        else:
            o = run_check(Subject(bad.name, prog, positive=True, seed=1), bad.theorem)
    finally:
        _undo(saved)
    return SelfTestResult(bad, o.status, o.method, o.detail, o.counterexample, time.perf_counter() - t0)


def run_self_test(corpus=None) -> list[SelfTestResult]:
    """Every bad transformation of the corpus against its theorem (the constants
    are derived first, unpatched)."""
    return [run_one(b) for b in (corpus or CORPUS)]
