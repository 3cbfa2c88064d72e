"""Per-program theorem checks (SPEC §11, level 2).

:func:`check_program` runs every applicable theorem of ``linear_a.proofs.theorems`` on
one program and returns one :class:`Outcome` per theorem.  Each theorem is
decided by the strongest method that applies, and cross-checked by the others:

* **normal form** (``linear_a.proofs.normalform``): the evaluator run on atoms; equal
  normal forms prove an identity for all inputs (transcendental primitives
  uninterpreted).  Linear maps are compared as coefficient matrices, so the
  adjoint identity ⟨ÿ, L ẋ⟩ = ⟨Lᵀ ÿ, ẋ⟩ is "the matrix of Lᵀ is the
  transpose of the matrix of L", and derivatives come from textbook rules
  written independently of the primitive table;
* **sympy** (small programs): derivatives by ``sympy.diff`` of the symbolic
  primal; linear outputs as polynomials in the linear inputs;
* **z3** (small programs): the linearity identity over the reals with
  uninterpreted transcendental primitives, with a timeout (→ unknown);
* **points**: float evaluation at sample points against the tape-based oracle
  (``linear_a.transforms.oracle``), relative tolerance 1e-9 -- status *checked* when
  nothing stronger decided, and the source of counterexamples;
* **measurement**: W and |e| read off the program (``linear_a.proofs.measure``).  W
  does not depend on the inputs (straight-line code), so a measurement against
  a bound is a proof for this program.

A disagreement anywhere is *refuted*, with the program, the inputs and both
sides.  A method that cannot decide says so in ``detail``; if none decides,
the status is *unknown* -- never a silent pass.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass

from linear_a.semantics.errors import DomainError, LinearAError, ProofTimeout, time_limit
from linear_a.semantics.evaluate import Costs, DEFAULT_COSTS, evaluate
from linear_a.semantics.printer import show
from linear_a.semantics.syntax import Call, Program, RealType
from linear_a.semantics.typecheck import typecheck

from . import measure
from .refute import sample_range, witness
from .normalform import (NormalForm, atom_id, NotLinear, TooBig, as_linform, basis_value, flatten, matrix,
                         mentions_linear, symbolic_value, tangent, transpose_rows)
from .loops import loop_check, unrolled_size as loop_aware_size, unsupported as loop_unsupported
from .checkpoint_checks import check_checkpoint_memory, check_sched_invariance
from .theorems import FOR_LINEAR, FOR_MIXED, FOR_NONLINEAR, constants

SMALL = 120          # programs up to this size also get sympy / z3 cross-checks


def cross_checked(size: int) -> bool:
    """Whether a program of ``size`` nodes also gets the sympy / z3 cross-checks."""
    return size <= SMALL
Z3_TIMEOUT_MS = 2000
SYMPY_SECONDS = 5.0   # one sympy / z3 cross-check (expression building, expand, simplify)
CHECK_SECONDS = 20.0  # one theorem on one program, all its methods
PROGRAM_SECONDS = 40.0  # default budget of one program (every theorem), `check --budget`
REL_TOL = 1e-9


@dataclass
class Outcome:
    theorem: str
    program: str
    status: str                     # proved | checked | refuted | unknown
    method: str = ""
    seconds: float = 0.0
    detail: str = ""
    counterexample: dict | None = None

    def as_json(self) -> dict:
        d = {"theorem": self.theorem, "program": self.program, "status": self.status,
             "seconds": round(self.seconds, 4), "method": self.method}
        if self.detail:
            d["detail"] = self.detail
        if self.counterexample:
            d["counterexample"] = self.counterexample
        return d


class Refuted(Exception):
    def __init__(self, method, detail, cex=None):
        super().__init__(detail)
        self.method, self.detail, self.cex = method, detail, cex


class Verdicts:
    """The sub-results of one theorem's methods, combined into one status."""

    def __init__(self):
        self.items: list[tuple[str, str, str]] = []     # (method, status, note)
        self.cex = None

    def add(self, method, status, note=""):
        self.items.append((method, status, note))

    def refute(self, method, note, cex=None):
        raise Refuted(method, note, cex)

    def status(self) -> str:
        ss = [s for _, s, _ in self.items]
        for s in ("refuted", "proved", "checked"):
            if s in ss:
                return s
        return "unknown"

    def method(self) -> str:
        st = self.status()
        return ", ".join(m for m, s, _ in self.items if s == st)

    def detail(self) -> str:
        return "; ".join(f"{m}: {s}{' (' + n + ')' if n else ''}" for m, s, n in self.items)


# ----------------------------------------------------------------------------
# The subject: a program and its transforms, computed lazily and cached


def program_kind(prog: Program) -> str:
    """``nonlinear`` (no linear variable anywhere: JVP's input), ``linear`` (no
    definition has non-linear results, each has linear inputs: transposition's
    input) or ``mixed``."""
    from linear_a.semantics.evaluate import _typing_info
    _, envs = _typing_info(prog)
    if not any(lin for env in envs.values() for lin, _ in env.values()):
        return "nonlinear"
    if all(not d.nl_out and d.lin_params for d in prog.defs):
        return "linear"
    return "mixed"


class Subject:
    def __init__(self, name: str, prog: Program, costs: Costs | None = None, seed: int = 0,
                 positive: bool = False, kind: str | None = None, path: str = "both"):
        self.name = name
        self.path = path                  # the vjp programs checked: fast | reference | both
        self.prog = prog
        self.costs = costs or DEFAULT_COSTS
        self.rng = random.Random(seed)
        self.positive = positive          # sample points in [0.5, 2] (corpus: log, sqrt …)
        self.entry = prog.defs[-1]
        self._cache = {}
        self.kind = kind or program_kind(prog)

    def cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def size(self) -> int:
        return loop_aware_size(self.prog)     # = measure.program_size without loops

    # transforms
    def jvp(self):
        from linear_a.transforms.jvp import jvp_program
        return self.cached("jvp", lambda: jvp_program(self.prog, [self.entry.name]))

    def linearized(self, policy=None, key="save"):
        from linear_a.transforms.unzip import unzip
        return self.cached(("lin", key), lambda: unzip(self.jvp(), policy))

    def unzipped(self, policy=None, key="save"):
        from linear_a.transforms.unzip import unzip
        return self.cached(("unzip", key), lambda: unzip(self.prog, policy, names=[self.entry.name]))

    def vjp(self):
        from linear_a.transforms.compose import vjp_program
        return self.cached("vjp", lambda: vjp_program(self.prog, self.entry.name))

    def vjp_fast(self):
        """``(text, program)``: what ``linear-a vjp`` prints for the entry, by the fast
        path (``transforms.flat.fast_vjp_text`` on the printed program), parsed
        back; None where the fast path does not apply (``NotFlat``: the CLI then
        prints the reference program).  Any other failure propagates (a crash of
        the fast path on a program of its fragment)."""
        def make():
            from linear_a.semantics.flat import NotFlat
            from linear_a.semantics.parser import parse_program
            from linear_a.transforms.flat import fast_vjp_text
            try:
                text = fast_vjp_text(show(self.prog), self.entry.name)
            except NotFlat:
                return None
            return text, parse_program(text, "<fast path>")
        return self.cached("vjp-fast", make)

    def vjp_programs(self) -> list[tuple[str, Program]]:
        """The vjp programs the per-program theorems check, by path: the
        reference pipeline's and/or the fast path's (the reference's where the
        fast path does not apply, since that is what the CLI prints then)."""
        out = []
        if self.path in ("reference", "both"):
            out.append(("reference", self.vjp()))
        if self.path in ("fast", "both"):
            fast = self.vjp_fast()
            if fast is None:
                if self.path == "fast":
                    out.append(("reference (fast path n/a)", self.vjp()))
            elif self.path == "both" and fast[0] == show(self.vjp()):
                out[0] = ("reference = fast path (same text)", self.vjp())   # one program: check it once
            else:
                out.append(("fast path", fast[1]))
        return out

    def linear_program(self) -> tuple[Program, str]:
        """The linear map whose transposition is checked: the program itself if
        linear, else the linear half of the entry's linearization."""
        if self.kind == "linear":
            return self.prog, self.entry.name
        dv = self.linearized()
        sig = dv.notes["signatures"][self.entry.name + "_jvp"]
        return dv.result, sig.lin_name

    def transposed(self):
        from linear_a.transforms.transpose import transpose_program
        def make():
            p, fn = self.linear_program()
            return transpose_program(p, [fn]), fn + "_T"
        return self.cached("T", make)

    def point(self, d, tries=20):
        lo, hi = sample_range(self.positive)

        def val(t):
            if isinstance(t, RealType):
                return round(self.rng.uniform(lo, hi), 6)
            return tuple(val(s) for s in t.items)
        return {p.name: val(p.ty) for p in d.params}


# ----------------------------------------------------------------------------
# Normal-form runs


def nf_run(prog: Program, fn: str, dom: NormalForm, nl_vals=None, lin_start=0, lin_vals=None):
    """Run fn with non-linear inputs as atoms (or given) and linear inputs as
    basis vectors; returns (Result, n_basis)."""
    d = prog[fn]
    if nl_vals is None:
        nl_vals = [symbolic_value(dom, p.ty, p.name) for p in d.nl_params]
    k = lin_start
    if lin_vals is None:
        lin_vals = []
        for p in d.lin_params:
            v, k = basis_value(dom, p.ty, k)
            lin_vals.append(v)
    r = evaluate(prog, fn, (list(nl_vals), list(lin_vals)), dom)
    return r, k


def rational_inputs(s: "Subject", dom: NormalForm, d, record: dict | None = None):
    """Non-linear inputs of d as exact rationals at a random point (for the
    exact-evaluation fallback: transcendental values stay exact atoms), in
    eighths over :func:`sample_range`, never 0; the point is written into
    ``record`` (name: value, as text) for a counterexample."""
    from fractions import Fraction
    lo, hi = (round(8 * b) for b in sample_range(s.positive))

    def val(t):
        if isinstance(t, RealType):
            return Fraction(s.rng.randint(lo, hi), 8) or Fraction(1, 8)
        return tuple(val(u) for u in t.items)

    point = {p.name: val(p.ty) for p in d.nl_params}
    if record is not None:
        record.update((k, str(x)) for k, x in point.items())

    def exact(x):
        return tuple(exact(y) for y in x) if type(x) is tuple else dom.num(x)
    return [exact(x) for x in point.values()]


def _flat_nl(v):
    return flatten(tuple(v))


def _float_flat(v):
    return [float(x) for x in flatten(tuple(v) if isinstance(v, (list, tuple)) else (v,))]


def _close(a, b) -> bool:
    return all(abs(x - y) <= REL_TOL * (1 + abs(x) + abs(y)) for x, y in zip(a, b)) and len(a) == len(b)


def _dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def _random_like(rng, ty):
    if isinstance(ty, RealType):
        return round(rng.uniform(-1, 1), 6)
    return tuple(_random_like(rng, s) for s in ty.items)


def _nf_differ(s: "Subject", v: "Verdicts", dom, left, right, what: str):
    """Two normal forms differ: *refuted* if they differ numerically at a point
    (``linear_a.proofs.refute.witness``), else *unknown* (an identity the normal
    form does not see)."""
    w = witness(dom, left, right, s.rng, s.positive)
    if w is not None:
        w["compared"] = what
        v.refute("normal form, numeric witness",
                 f"{what}: the normal forms differ, and at {w['point']} component {w['component']} "
                 f"is {w['left']!r} on one side and {w['right']!r} on the other", w)
    v.add("normal form", "unknown", f"{what}: normal forms differ, equal at the sampled points")


def _sympy_differ(s: "Subject", v: "Verdicts", diff, syms, what: str):
    """A sympy difference not expanded to 0: *refuted* if it is non-zero at a
    random real point, else *unknown*."""
    import math as _m
    lo, hi = sample_range(s.positive)
    for _ in range(6):
        point = {x: round(s.rng.uniform(lo, hi), 4) for x in syms}
        try:
            val = complex(diff.subs(point).evalf())
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if not (_m.isfinite(val.real) and _m.isfinite(val.imag)) or abs(val.imag) > 1e-12:
            continue
        if abs(val.real) > 1e-7:
            shown = str(diff) if len(str(diff)) <= 200 else str(diff)[:200] + " …"
            v.refute("sympy, numeric witness", f"{what}: the difference {shown} is {val.real!r} at "
                     f"{ {str(k): x for k, x in point.items()} }",
                     {"point": {str(k): x for k, x in point.items()}, "difference": str(diff)})
    v.add("sympy", "unknown", f"{what}: difference not expanded to 0, zero at the sampled points")


# ----------------------------------------------------------------------------
# The checks, one per theorem


def check_typing_sound(s: Subject, v: Verdicts):
    """Non-linear outputs independent of the linear inputs; linear outputs linear."""
    targets = []
    if s.kind == "nonlinear":
        targets.append((s.jvp(), s.entry.name + "_jvp"))
        lp, lfn = s.linear_program()
        targets.append((lp, lfn))
    else:
        targets.append((s.prog, s.entry.name))
    for prog, fn in targets:
        dom = NormalForm()
        try:
            r, n = nf_run(prog, fn, dom)
        except NotLinear as e:
            v.refute("normal form", f"{fn}: {e.message}", {"function": fn, "program": show(prog)})
        except TooBig as e:
            v.add("normal form", "unknown", f"{fn}: {e}")
            continue
        if mentions_linear(tuple(r.nl)):
            v.refute("normal form", f"{fn}: a non-linear output depends on a linear input",
                     {"function": fn, "outputs": repr(r.nl)})
        try:
            matrix(dom, r.lin)
        except NotLinear as e:
            v.refute("normal form", f"{fn}: {e.message}", {"function": fn})
        v.add("normal form", "proved", fn)
        if cross_checked(measure.program_size(prog)):
            _limited("sympy", _sympy_linearity, prog, fn, v)
            _limited("z3", _z3_linearity, prog, fn, v)


def _limited(method: str, check, *args):
    """Run a symbolic cross-check (``check(*args, v)``) under SYMPY_SECONDS of
    wall clock; past it, the method's verdict is *unknown*, with the reason.
    ``time_limit`` interrupts pure-Python work such as ``sympy.simplify``."""
    v = args[-1]
    try:
        with time_limit(SYMPY_SECONDS, f"{method} cross-check"):
            check(*args)
    except ProofTimeout as e:
        v.add(method, "unknown", e.message)


def _sympy_inputs(d, prefix_nl="x", prefix_lin="u"):
    import sympy
    syms = []

    def mk(t, name):
        if isinstance(t, RealType):
            s = sympy.Symbol(name, real=True)
            syms.append(s)
            return s
        return tuple(mk(u, f"{name}_{i}") for i, u in enumerate(t.items))
    nl = [mk(p.ty, f"{prefix_nl}_{p.name}") for p in d.nl_params]
    k = len(syms)
    lin = [mk(p.ty, f"{prefix_lin}_{p.name}") for p in d.lin_params]
    return nl, lin, syms[:k], syms[k:]


def _sympy_linearity(prog, fn, v: Verdicts):
    import sympy
    d = prog[fn]
    nl, lin, _, lsyms = _sympy_inputs(d)
    try:
        r = evaluate(prog, fn, (nl, lin), "sympy")
    except LinearAError as e:
        v.add("sympy", "unknown", f"{fn}: {e.message}")
        return
    for out in _flat_nl(r.nl):
        if sympy.sympify(out).free_symbols & set(lsyms):
            v.refute("sympy", f"{fn}: non-linear output {out} mentions a linear input")
    for out in flatten(tuple(r.lin)):
        e = sympy.expand(sympy.sympify(out))
        if e == 0:
            continue
        try:
            poly = sympy.Poly(e, *lsyms) if lsyms else None
        except sympy.PolynomialError:
            v.refute("sympy", f"{fn}: linear output {e} is not a polynomial in the linear inputs")
        if poly is None or poly.total_degree() > 1 or poly.coeff_monomial(1) != 0:
            v.refute("sympy", f"{fn}: linear output {e} is not linear in the linear inputs")
    v.add("sympy", "proved", fn)


def _z3_linearity(prog, fn, v: Verdicts):
    import z3
    from linear_a.semantics.domains import get_domain
    d = prog[fn]
    dom = get_domain("z3")

    def mk(t, name):
        if isinstance(t, RealType):
            return z3.Real(name)
        return tuple(mk(u, f"{name}_{i}") for i, u in enumerate(t.items))

    def comb(a, x, y):
        if type(x) is tuple:
            return tuple(comb(a, p, q) for p, q in zip(x, y))
        return a * x + y
    xs = [mk(p.ty, "x_" + p.name) for p in d.nl_params]
    us = [mk(p.ty, "u_" + p.name) for p in d.lin_params]
    ws = [mk(p.ty, "v_" + p.name) for p in d.lin_params]
    a = z3.Real("alpha")
    try:
        ru = evaluate(prog, fn, (xs, us), dom)
        rw = evaluate(prog, fn, (xs, ws), dom)
        rm = evaluate(prog, fn, (xs, [comb(a, p, q) for p, q in zip(us, ws)]), dom)
    except LinearAError as e:
        v.add("z3", "unknown", f"{fn}: {e.message}")
        return
    eqs = [m == a * p + q for m, p, q in zip(flatten(tuple(rm.lin)), flatten(tuple(ru.lin)),
                                             flatten(tuple(rw.lin)))]
    eqs += [m == p for m, p in zip(flatten(tuple(rm.nl)), flatten(tuple(ru.nl)))]
    if not eqs:
        v.add("z3", "proved", f"{fn}: no outputs")
        return
    sol = z3.Solver()
    sol.set("timeout", Z3_TIMEOUT_MS)
    sol.add(z3.Not(z3.And(eqs)))
    res = sol.check()
    if res == z3.unsat:
        v.add("z3", "proved", fn)
    elif res == z3.sat:
        v.refute("z3", f"{fn}: linearity fails", {"model": str(sol.model())})
    else:
        v.add("z3", "unknown", f"{fn}: timeout")


def check_jvp_typed(s: Subject, v: Verdicts):
    j = s.jvp()
    typecheck(j)
    for d in j.defs:
        if list(d.lin_out) != list(d.nl_out) or [p.ty for p in d.lin_params] != [p.ty for p in d.nl_params]:
            v.refute("signature", f"{d.name} : {d.signature} does not pair each value with a tangent")
    v.add("typing derivation", "proved", f"{len(j.defs)} definitions")


def _jvp_nf(s: Subject, v: Verdicts):
    f = s.entry
    fj = f.name + "_jvp"
    dom = NormalForm()
    xs = [symbolic_value(dom, p.ty, p.name) for p in f.nl_params]
    r0, _ = nf_run(s.prog, f.name, dom, xs)
    r1, n = nf_run(s.jvp(), fj, dom, xs)
    if _flat_nl(r0.nl) != _flat_nl(r1.nl):
        v.refute("normal form", "f_jvp's primal results differ from f's",
                 {"f": repr(r0.nl), "f_jvp": repr(r1.nl)})
    seeds = {}
    k = 0
    for x in flatten(tuple(xs)):
        aid = atom_id(dom, x)
        seeds[aid] = dom.basis(k)
        k += 1
    want = [as_linform(dom, t) for t in flatten(tangent(dom, tuple(r0.nl), seeds))]
    got = [as_linform(dom, t) for t in flatten(tuple(r1.lin))]
    return want == got, (dom, want, got)


def check_jvp_correct(s: Subject, v: Verdicts):
    try:
        ok, (dom, want, got) = _jvp_nf(s, v)
        if ok:
            v.add("normal form", "proved", "tangent of f_jvp = textbook derivative of f, for all inputs")
        else:
            _nf_differ(s, v, dom, want, got, "textbook tangent vs f_jvp's tangent")
    except TooBig as e:
        v.add("normal form", "unknown", str(e))
    if cross_checked(s.size):
        _limited("sympy", _sympy_jvp, s, v)
    _points_jvp(s, v)


def _sympy_jvp(s: Subject, v: Verdicts):
    import sympy
    f = s.entry
    nl, _, xsyms, _ = _sympy_inputs(f)
    ts = sympy.symbols(f"t0:{len(xsyms)}", real=True)
    tang, k = [], 0

    def tan_like(x):
        nonlocal k
        if type(x) is tuple:
            return tuple(tan_like(y) for y in x)
        k += 1
        return ts[k - 1]
    tang = [tan_like(x) for x in nl]
    try:
        r0 = evaluate(s.prog, f.name, (nl, []), "sympy")
        r1 = evaluate(s.jvp(), f.name + "_jvp", (nl, tang), "sympy")
    except LinearAError as e:
        v.add("sympy", "unknown", e.message)
        return
    for out, t in zip(flatten(tuple(r0.nl)), flatten(tuple(r1.lin))):
        want = sum(sympy.diff(out, x) * dt for x, dt in zip(xsyms, ts))
        if sympy.expand(want - t) != 0:       # (simplify can take minutes: a numeric witness instead)
            _sympy_differ(s, v, want - t, list(xsyms) + list(ts), "sympy's Σ ∂f/∂xᵢ ẋᵢ vs f_jvp's tangent")
            return
    v.add("sympy", "proved", "f_jvp's tangent = sympy's Σ ∂f/∂xᵢ ẋᵢ")


def _points(s: Subject, n=2):
    out = []
    for _ in range(n * 5):
        args = s.point(s.entry)
        try:
            evaluate(s.prog, s.entry.name, args)
        except DomainError:
            continue
        out.append(args)
        if len(out) == n:
            break
    return out


def _cotangent(rng, f):
    return [_random_like(rng, t) for t in f.nl_out]


def _points_jvp(s: Subject, v: Verdicts):
    from linear_a.transforms.oracle import oracle_grad
    f = s.entry
    pts = _points(s)
    if not pts:
        v.add("oracle", "unknown", "no sample point in the domain")
        return
    for args in pts:
        dx = {p.name: _random_like(s.rng, p.ty) for p in f.nl_params}
        ct = _cotangent(s.rng, f)
        r = evaluate(s.jvp(), f.name + "_jvp", ([args[p.name] for p in f.nl_params],
                                                   [dx[p.name] for p in f.nl_params]))
        g = oracle_grad(s.prog, f.name, args, ct if len(ct) != 1 else ct[0])
        lhs = _dot(_float_flat(ct), _float_flat(r.lin))
        rhs = _dot(_float_flat([g[p.name] for p in f.nl_params]), _float_flat([dx[p.name] for p in f.nl_params]))
        if not _close([lhs], [rhs]):
            v.refute("oracle", f"⟨ȳ, f_jvp ẋ⟩ = {lhs!r} but ⟨oracle ȳ, ẋ⟩ = {rhs!r}",
                     {"args": args, "tangent": dx, "cotangent": ct})
    v.add("oracle", "checked", f"{len(pts)} points")


def check_jvp_cost(s: Subject, v: Verdicts):
    c = constants(s.costs)
    cJ, dJ = c["c_J"][0], c["d_J"][0]
    f = s.entry.name
    W = measure.work(s.prog, f, s.costs)
    V = measure.weight(s.prog, f) + measure.interface_weight(s.entry)
    WJ = measure.work(s.jvp(), f + "_jvp", s.costs)
    bound = cJ * W + dJ * V
    note = f"W(f_jvp) = {WJ} ≤ {cJ}·{W} + {dJ}·{V} = {bound}"
    if WJ > bound:
        v.refute("measurement", note, {"W": W, "weight": V, "W_jvp": WJ})
    v.add("measurement", "proved", note)


def check_jvp_size(s: Subject, v: Verdicts):
    sJ = constants(s.costs)["s_J"][0]
    j = s.jvp()
    srcs = [s.prog[d.name[:-len("_jvp")]] for d in j.defs]
    S = sum(measure.size(s.prog, d.name) + measure.interface_size(d) for d in srcs)
    SJ = measure.program_size(j)
    note = f"|J(P)| = {SJ} ≤ {sJ}·(|P| + a(P)) = {sJ}·{S} = {float(sJ * S):.1f}"
    if SJ > sJ * S:
        v.refute("measurement", note, {"size": S, "size_jvp": SJ})
    v.add("measurement", "proved", note)


def _unzip_dv(s: Subject, policy=None, key="save"):
    """The unzip derivation checked: of the JVP (non-linear programs) or of the program."""
    if s.kind == "nonlinear":
        return s.linearized(policy, key), s.jvp(), s.entry.name + "_jvp"
    return s.unzipped(policy, key), s.prog, s.entry.name


def check_unzip_typed(s: Subject, v: Verdicts):
    dv, _, fn = _unzip_dv(s)
    typecheck(dv.result)
    sig = dv.notes["signatures"][fn]
    d_nl, d_lin = dv.result[sig.nl_name], dv.result[sig.lin_name]
    if d_nl.lin_params or d_nl.lin_out or (d_lin.nl_out and not sig.unknown_out):
        v.refute("signature", f"{sig.nl_name} : {d_nl.signature}, {sig.lin_name} : {d_lin.signature}")
    v.add("typing derivation", "proved", f"{sig.nl_name} : {d_nl.signature}; {sig.lin_name} : {d_lin.signature}")


def _compare_split(s: Subject, v: Verdicts, policy=None, key="save", method="normal form",
                   exact_point: dict | None = None):
    """f against f_nl then f_lin in normal form, for all inputs; or, given
    ``exact_point`` (a dict, filled with the point), at a random rational point."""
    dv, src, fn = _unzip_dv(s, policy, key)
    exact = exact_point is not None
    dom = NormalForm(max_terms=10 ** 6) if exact else NormalForm()
    d = src[fn]
    xs = rational_inputs(s, dom, d, exact_point) if exact else \
        [symbolic_value(dom, p.ty, p.name) for p in d.nl_params]
    r0, n = nf_run(src, fn, dom, xs)
    k, lin_vals = 0, []
    for p in d.lin_params:
        val, k = basis_value(dom, p.ty, k)
        lin_vals.append(val)
    from linear_a.transforms.unzip import run_split
    r1 = run_split(dv, fn, (xs, lin_vals), dom)
    same_nl = _flat_nl(r0.nl) == _flat_nl(r1.nl)
    same_lin = matrix(dom, r0.lin) == matrix(dom, r1.lin)
    return same_nl and same_lin, (dom, r0, r1)


def _check_staging(s: Subject, v: Verdicts):
    """Staging (``unzip(…, unknown=…)``): the entry's last non-linear parameter
    made unknown; f_nl then f_lin (which takes it) ≡ f, in normal form."""
    from linear_a.transforms.unzip import run_split, unzip
    _, src, fn = _unzip_dv(s)
    d = src[fn]
    if not d.nl_params:
        return
    x = d.nl_params[-1].name
    dv = s.cached("staged", lambda: unzip(src, None, unknown={fn: {x}}, names=[fn], trusted=True))
    typecheck(dv.result)                  # the staged halves are well typed (a crash refutes)
    dom = NormalForm()
    xs = [symbolic_value(dom, p.ty, p.name) for p in d.nl_params]
    r0, _ = nf_run(src, fn, dom, xs)
    lin_vals, k = [], 0
    for p in d.lin_params:
        val, k = basis_value(dom, p.ty, k)
        lin_vals.append(val)
    r1 = run_split(dv, fn, (xs, lin_vals), dom)
    a = [*_flat_nl(r0.nl), *matrix(dom, r0.lin)]
    b = [*_flat_nl(r1.nl), *matrix(dom, r1.lin)]
    if a != b:
        _nf_differ(s, v, dom, a, b, f"f vs its staged split (unknown = {x})")
    else:
        v.add("normal form", "proved", f"staged (unknown = {x}): f_nl then f_lin ≡ f for all inputs")


def check_unzip_correct(s: Subject, v: Verdicts):
    try:
        ok, (dom, r0, r1) = _compare_split(s, v)
        if ok:
            v.add("normal form", "proved", "f_nl then f_lin ≡ f for all inputs")
        else:
            _nf_differ(s, v, dom, [*_flat_nl(r0.nl), *matrix(dom, r0.lin)],
                       [*_flat_nl(r1.nl), *matrix(dom, r1.lin)], "f vs f_nl then f_lin")
    except TooBig as e:
        v.add("normal form", "unknown", str(e))
        _exact_points(v, lambda point: _compare_split(s, v, exact_point=point)[0])
    _points_split(s, v)
    try:
        _check_staging(s, v)
    except TooBig as e:
        v.add("normal form", "unknown", f"staging: {e}")


def _exact_points(v: Verdicts, holds, n: int = 2):
    """The identity evaluated exactly (normal form at rational points, so
    transcendental values are exact atoms): *checked*, or *refuted* with the
    point (``holds(point)`` draws one, writes it into the dict ``point`` and
    says whether the identity holds there)."""
    try:
        for _ in range(n):
            point = {}
            if not holds(point):
                v.refute("exact evaluation at points", f"the two sides differ at the rational point {point}",
                         {"point": point})
        v.add("exact evaluation at points", "checked", f"{n} rational points (program too large "
                                                       "for a symbolic proof)")
    except TooBig as e:
        v.add("exact evaluation at points", "unknown", str(e))
    except DomainError as e:
        v.add("exact evaluation at points", "unknown", e.message)


def _points_split(s: Subject, v: Verdicts, policy=None, key="save"):
    from linear_a.transforms.unzip import run_split
    dv, src, fn = _unzip_dv(s, policy, key)
    d = src[fn]
    n_ok = 0
    for _ in range(6):
        args = s.point(d)
        try:
            r0 = evaluate(src, fn, args)
        except DomainError:
            continue
        r1 = run_split(dv, fn, args)
        a = _float_flat(tuple(r0.nl) + tuple(r0.lin))
        b = _float_flat(tuple(r1.nl) + tuple(r1.lin))
        if not _close(a, b):
            v.refute("points", f"{fn}: split run {b} ≠ {a}", {"args": args, "policy": key})
        n_ok += 1
        if n_ok == 2:
            break
    v.add("points", "checked" if n_ok else "unknown", f"{n_ok} points")


def check_unzip_cost(s: Subject, v: Verdicts):
    from linear_a.transforms.checkpoint import RecomputeAll
    notes = []
    for policy, key in ((None, "save"), (RecomputeAll(), "recompute-all")):
        dv, src, fn = _unzip_dv(s, policy, key)
        sig = dv.notes["signatures"][fn]
        out = dv.result
        W = measure.work(src, fn, s.costs)
        Wn = measure.work(out, sig.nl_name, s.costs)
        Wl = measure.work(out, sig.lin_name, s.costs)
        nl_f = measure.work(src, fn, s.costs, nonlinear_only=True)
        nl_n = measure.work(out, sig.nl_name, s.costs, nonlinear_only=True)
        nl_l = measure.work(out, sig.lin_name, s.costs, nonlinear_only=True)
        recomputed = nl_n + nl_l - nl_f          # non-linear work executed in both halves
        extra = Wn + Wl - W
        note = (f"{key}: W(nl) + W(lin) − W(f) = {Wn} + {Wl} − {W} = {extra}, "
                f"recomputed work {recomputed}")
        bad = extra != recomputed or not (0 <= recomputed <= nl_l) or (key == "save" and extra != 0)
        if bad:
            v.refute("measurement", note, {"policy": key, "W": W, "W_nl": Wn, "W_lin": Wl,
                                           "nonlinear work in f, f_nl, f_lin": [nl_f, nl_n, nl_l]})
        # no work thrown away: f_nl applies no more primitives whose results are only
        # dropped than f does (a binding recomputed in f_lin but also kept, and dropped,
        # in f_nl is work done twice that the equation above accepts)
        from .coverage import dropped_primitives
        dead_f, dead_nl = (sum(s.costs.prim_cost(op) for op in dropped_primitives(p[n]))  # f: the user's
                           for p, n in ((s.prog, s.entry.name), (out, sig.nl_name)))
        if dead_nl > dead_f:
            v.refute("measurement", f"{key}: work whose results are only dropped: {dead_nl} in f_nl, "
                     f"more than f's {dead_f} (a binding computed and dropped)",
                     {"policy": key, "dead work in f, f_nl": [dead_f, dead_nl],
                      "f_nl": show(Program([out[sig.nl_name]])), "f_lin": show(Program([out[sig.lin_name]]))})
        notes.append(note + f", work only dropped in f_nl {dead_nl} ≤ in f {dead_f}")
    # memory is reported (at one point), not bounded
    try:
        pts = _points(s, 1) if s.kind == "nonlinear" else []
        if pts:
            from linear_a.transforms.compose import vjp as run_vjp
            r = run_vjp(s.prog, s.entry.name, pts[0], _cotangent(s.rng, s.entry) if len(s.entry.nl_out) != 1
                        else _cotangent(s.rng, s.entry)[0])
            notes.append(f"M(vjp) = {r.memory}")
    except LinearAError:
        pass
    v.add("measurement", "proved", "; ".join(notes))


def check_transpose_typed(s: Subject, v: Verdicts):
    tp, tname = s.transposed()
    typecheck(tp)
    p, fn = s.linear_program()
    d, dT = p[fn], tp[tname]
    if [pp.ty for pp in dT.lin_params] != list(d.lin_out) or list(dT.lin_out) != [pp.ty for pp in d.lin_params]:
        v.refute("signature", f"{tname} : {dT.signature} is not the transpose of {fn} : {d.signature}")
    v.add("typing derivation", "proved", f"{tname} : {dT.signature}")


def _adjoint_nf(s: Subject, prog_a, fa, prog_b, fb, exact_point: dict | None = None):
    """Matrices of two linear maps over the same atoms for the non-linear inputs
    (or, given ``exact_point``, at a random rational point, written into it)."""
    exact = exact_point is not None
    dom = NormalForm(max_terms=10 ** 6) if exact else NormalForm()
    da = prog_a[fa]
    xs = rational_inputs(s, dom, da, exact_point) if exact else \
        [symbolic_value(dom, p.ty, p.name) for p in da.nl_params]
    ra, na = nf_run(prog_a, fa, dom, xs)
    rb, nb = nf_run(prog_b, fb, dom, xs)
    return dom, matrix(dom, ra.lin), na, matrix(dom, rb.lin), nb


def check_transpose_adjoint(s: Subject, v: Verdicts):
    p, fn = s.linear_program()
    tp, tname = s.transposed()
    try:
        dom, A, n_in, B, n_out = _adjoint_nf(s, p, fn, tp, tname)
        ok = transpose_rows(A, n_in) == B
        if ok:
            v.add("normal form", "proved", f"matrix of {tname} = transpose of {fn}'s ({len(A)}×{n_in})")
        else:
            _nf_differ(s, v, dom, transpose_rows(A, n_in), B, f"transpose of {fn}'s matrix vs {tname}'s")
    except TooBig as e:
        v.add("normal form", "unknown", str(e))

        def at_point(point):
            _, A, n_in, B, _ = _adjoint_nf(s, p, fn, tp, tname, exact_point=point)
            return transpose_rows(A, n_in) == B
        _exact_points(v, at_point)
    _points_adjoint(s, p, fn, tp, tname, v)


def _points_adjoint(s, p, fn, tp, tname, v: Verdicts):
    d, dT = p[fn], tp[tname]
    n_ok = 0
    for _ in range(6):
        xs = [_random_like(s.rng, q.ty) for q in d.nl_params]
        u = [_random_like(s.rng, q.ty) for q in d.lin_params]
        y = [_random_like(s.rng, q.ty) for q in dT.lin_params]
        try:
            r = evaluate(p, fn, (xs, u))
            rT = evaluate(tp, tname, (xs, y))
        except DomainError:
            continue
        lhs = _dot(_float_flat(y), _float_flat(r.lin))
        rhs = _dot(_float_flat(rT.lin), _float_flat(u))
        if not _close([lhs], [rhs]):
            v.refute("points", f"⟨ÿ, L ẋ⟩ = {lhs!r} ≠ ⟨Lᵀ ÿ, ẋ⟩ = {rhs!r}",
                     {"nonlinear": xs, "x_dot": u, "y_ddot": y})
        n_ok += 1
        if n_ok == 2:
            break
    v.add("points", "checked" if n_ok else "unknown", f"{n_ok} points")


def check_transpose_cost(s: Subject, v: Verdicts):
    p, fn = s.linear_program()
    tp, tname = s.transposed()
    W = measure.work(p, fn, s.costs)
    WT = measure.work(tp, tname, s.costs.dual())
    note = f"W*(f_T) = {WT}, W(f) = {W}"
    if W != WT:
        v.refute("measurement", note, {"W": W, "W_T_dual": WT})
    v.add("measurement", "proved", note)


def check_transpose_size(s: Subject, v: Verdicts):
    sT = constants(s.costs)["s_T"][0]
    p, fn = s.linear_program()
    tp, tname = s.transposed()
    S, ST = measure.size(p, fn) + measure.interface_size(p[fn]), measure.size(tp, tname)
    note = f"|f_T| = {ST} ≤ {sT}·(|f| + a(f)) = {sT}·{S} = {float(sT * S):.1f}"
    if ST > sT * S:
        v.refute("measurement", note, {"size": S, "size_T": ST})
    v.add("measurement", "proved", note)


def check_transpose_involution(s: Subject, v: Verdicts):
    from linear_a.transforms.transpose import transpose_program
    p, fn = s.linear_program()
    tp, tname = s.transposed()
    ttp = transpose_program(tp, [tname])
    ttname = tname + "_T"
    typecheck(ttp)
    try:
        dom, A, n_in, B, _ = _adjoint_nf(s, p, fn, ttp, ttname)
        ok = A == B
        if ok:
            v.add("normal form", "proved", "T(T(f)) has f's matrix")
        else:
            _nf_differ(s, v, dom, A, B, "f's matrix vs T(T(f))'s")
    except TooBig as e:
        v.add("normal form", "unknown", str(e))
    W, WTT = measure.work(p, fn, s.costs), measure.work(ttp, ttname, s.costs)
    if W != WTT:
        v.refute("measurement", f"W(T(T(f))) = {WTT} ≠ W(f) = {W}")
    v.add("measurement", "proved", f"W(T(T(f))) = W(f) = {W}")


def check_vjp_correct(s: Subject, v: Verdicts):
    """On the program of each path checked (``s.vjp_programs()``: the reference
    pipeline's and the fast path's, the one ``linear-a vjp`` prints)."""
    for label, vp in s.vjp_programs():
        _vjp_correct_on(s, v, label, vp)


def _vjp_correct_on(s: Subject, v: Verdicts, label: str, vp: Program):
    from linear_a.transforms.compose import names_for, vjp as run_vjp
    from linear_a.transforms.oracle import oracle_grad
    f = s.entry
    nl_name, t_name = names_for(f.name)
    try:
        dom = NormalForm()
        xs = [symbolic_value(dom, p.ty, p.name) for p in f.nl_params]
        r0, _ = nf_run(s.prog, f.name, dom, xs)
        r1 = evaluate(vp, nl_name, (xs, []), dom)
        k = len(f.nl_out)
        if _flat_nl(r1.nl[:k]) != _flat_nl(r0.nl):
            _nf_differ(s, v, dom, _flat_nl(r0.nl), _flat_nl(r1.nl[:k]), f"{label}: f's results vs vjp's primal")
        cts, j = [], 0
        for t in f.nl_out:
            val, j = basis_value(dom, t, j)
            cts.append(val)
        r2 = evaluate(vp, t_name, (list(r1.nl[k:]), cts), dom)
        got = matrix(dom, r2.lin)                      # rows: input components; cols: output comps
        seeds, i = {}, 0
        for x in flatten(tuple(xs)):
            aid = atom_id(dom, x)
            seeds[aid] = dom.basis(i)
            i += 1
        J = [as_linform(dom, t).vec for t in flatten(tangent(dom, tuple(r0.nl), seeds))]
        ok = transpose_rows(J, i) == got
        if ok:
            v.add("normal form", "proved", f"{label}: gradient = textbook Jᵀ ȳ for all inputs")
        else:
            _nf_differ(s, v, dom, transpose_rows(J, i), got, f"{label}: textbook Jᵀ ȳ vs the gradient")
    except TooBig as e:
        v.add("normal form", "unknown", str(e))
    if cross_checked(s.size):
        _limited("sympy", lambda s, v: _sympy_vjp(s, v, label, vp), s, v)
    pts = _points(s)
    for args in pts:
        ct = _cotangent(s.rng, f)
        ctv = ct if len(ct) != 1 else ct[0]
        r = run_vjp(s.prog, f.name, args, ctv, program=vp)
        g = oracle_grad(s.prog, f.name, args, ctv)
        a = _float_flat([r.gradient[p.name] for p in f.nl_params])
        b = _float_flat([g[p.name] for p in f.nl_params])
        if not _close(a, b):
            v.refute("oracle", f"{label}: vjp {a} ≠ oracle {b}", {"args": args, "cotangent": ct,
                                                                   "vjp_program": show(vp)})
    v.add("oracle", "checked" if pts else "unknown", f"{label}: gradient vs tape oracle, {len(pts)} points")


def _sympy_vjp(s: Subject, v: Verdicts, label: str, vp: Program):
    import sympy
    from linear_a.transforms.compose import names_for
    f = s.entry
    nl, _, xsyms, _ = _sympy_inputs(f)
    k = len(f.nl_out)
    ys = []

    def mk(t, name):
        if isinstance(t, RealType):
            y = sympy.Symbol(name, real=True)
            ys.append(y)
            return y
        return tuple(mk(u, f"{name}_{i}") for i, u in enumerate(t.items))
    cts = [mk(t, f"y{i}") for i, t in enumerate(f.nl_out)]
    nl_name, t_name = names_for(f.name)
    try:
        r0 = evaluate(s.prog, f.name, (nl, []), "sympy")
        r1 = evaluate(vp, nl_name, (nl, []), "sympy")
        r2 = evaluate(vp, t_name, (list(r1.nl[k:]), cts), "sympy")
    except LinearAError as e:
        v.add("sympy", "unknown", e.message)
        return
    outs = list(flatten(tuple(r0.nl)))      # read once per input: a list, not a generator
    grads = flatten(tuple(r2.lin))
    for x, g in zip(xsyms, grads):
        want = sum(sympy.diff(o, x) * y for o, y in zip(outs, ys))
        if sympy.expand(want - g) != 0:       # (simplify can take minutes: a numeric witness instead)
            _sympy_differ(s, v, want - g, list(xsyms) + ys, f"{label}: sympy's Jᵀ ȳ vs the vjp program's gradient")
            return
    v.add("sympy", "proved", f"{label}: gradient = sympy's Jᵀ ȳ")


def check_vjp_cost(s: Subject, v: Verdicts):
    """On the program of each path checked (``s.vjp_programs()``)."""
    from linear_a.transforms.compose import names_for
    c = constants(s.costs)
    cV, dV = c["c_V"][0], c["d_V"][0]
    f = s.entry.name
    nl_name, t_name = names_for(f)
    W = measure.work(s.prog, f, s.costs)
    V = measure.weight(s.prog, f) + measure.interface_weight(s.entry)
    S = measure.program_size(s.prog)
    for label, vp in s.vjp_programs():
        Wv = measure.work(vp, nl_name, s.costs) + measure.work(vp, t_name, s.costs)
        bound = cV * W + dV * V
        Sv = measure.program_size(vp)
        note = (f"{label}: W(vjp) = {Wv} ≤ {cV}·{W} + {dV}·{V} = {bound}; W(vjp)/W(f) = "
                f"{Wv / max(W, 1):.2f}, |vjp|/|f| = {Sv / max(S, 1):.2f}")
        if Wv > bound:
            v.refute("measurement", note, {"W": W, "weight": V, "W_vjp": Wv, "path": label})
        v.add("measurement", "proved", note)


def text_diff(a: str, b: str, name_a: str, name_b: str) -> str:
    """A unified diff of two printed programs, one line of context around each
    change (the counterexample of a text comparison)."""
    import difflib
    return "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), name_a, name_b,
                                          lineterm="", n=1))


def _staged_fast_text(text: str, fn: str) -> str:
    """The fast path with the fused pass left out: ``transforms.flat``'s JVP,
    unzip and transpose stages one by one (what ``fast_vjp_defs`` runs where
    ``transforms.fused`` declines)."""
    import importlib
    F = importlib.import_module("linear_a.transforms.flat")
    prog = F.parse(text)
    counts = F.check(prog)
    d = prog.get(fn)
    if F._callees(d):                  # with calls the fast path is staged already
        defs = F.vjp_with_calls(prog, fn, counts)
    else:
        f_nl, f_lin = F.unzip(F.jvp(d, counts[fn]))
        defs = [f_nl, F.transpose(f_lin)]
    F.check_output(defs)
    return F.show(defs)


def check_vjp_fast_path(s: Subject, v: Verdicts):
    """The program ``linear-a vjp`` prints (fast path) is the reference pipeline's:
    equal texts, and equal gradients (normal form for all inputs, floats at points)."""
    from linear_a.transforms.compose import vjp as run_vjp
    fast = s.vjp_fast()
    if fast is None:
        v.add("fragment test", "proved", "outside the fast path's fragment: the CLI prints the "
                                         "reference program")
        return
    text, fp = fast
    ref = show(s.vjp())
    if text != ref:
        v.refute("text", "the fast path's program differs from the reference pipeline's",
                 {"diff": text_diff(ref, text, "reference", "fast path")})
    v.add("text", "proved", "fast path's printed vjp program = reference pipeline's, character for character")
    staged = _staged_fast_text(show(s.prog), s.entry.name)
    if staged != ref:
        v.refute("text", "the fast path's staged JVP, unzip and transpose (taken where the fused pass "
                         "declines) print a program different from the reference pipeline's",
                 {"diff": text_diff(ref, staged, "reference", "fast stages")})
    v.add("text", "proved", "the fast path's staged JVP → unzip → transpose print the reference program too")
    f = s.entry
    n_ok = 0
    for args in _points(s):
        ct = _cotangent(s.rng, f)
        ctv = ct if len(ct) != 1 else ct[0]
        a = run_vjp(s.prog, f.name, args, ctv, program=s.vjp())
        b = run_vjp(s.prog, f.name, args, ctv, program=fp)
        ga = _float_flat([a.gradient[p.name] for p in f.nl_params])
        gb = _float_flat([b.gradient[p.name] for p in f.nl_params])
        if not _close(ga, gb) or (a.work, a.memory) != (b.work, b.memory):
            v.refute("points", f"reference gradient {ga} (W {a.work}, M {a.memory}) ≠ fast path's "
                               f"{gb} (W {b.work}, M {b.memory})", {"args": args, "cotangent": ct})
        n_ok += 1
    v.add("points", "checked" if n_ok else "unknown", f"gradient, W and M of both programs, {n_ok} points")


def check_checkpoint_invariance(s: Subject, v: Verdicts):
    from linear_a.transforms.checkpoint import RecomputeAll, RecomputeNamed
    from linear_a.semantics.syntax import Let, iter_nodes
    d = s.entry
    names = [b.nl[0] for b in iter_nodes(d.body) if type(b) is Let and b.nl and not b.lin]
    rng = s.rng
    subset = sorted(n for n in names if rng.random() < 0.5)
    policies = [(RecomputeAll(), "recompute-all")]
    if subset:
        policies.append((RecomputeNamed(set(subset)), "recompute:" + ",".join(subset)))
    from linear_a.transforms.every import EveryK
    policies += [(EveryK(2), "every:2"), (EveryK(3), "every:3")]
    callees = sorted({b.rhs.fn for b in iter_nodes(d.body) if type(b) is Let and type(b.rhs) is Call})
    if callees:                           # the call: form, by its public string syntax
        from linear_a.transforms.checkpoint import policy_from_string
        text = "call:" + ",".join(f"{c}=recompute" for c in callees)
        policies.append((policy_from_string(text), text))
    if s.kind == "nonlinear":
        _check_budget(s, v)
    from linear_a.transforms.unzip import run_split
    try:
        base = None
        dom = NormalForm()
        xs = lin_vals = None
        for policy, key in [(None, "save")] + policies:
            dv, src, fn = _unzip_dv(s, policy, key)
            dd = src[fn]
            if xs is None:
                xs = [symbolic_value(dom, p.ty, p.name) for p in dd.nl_params]
                lin_vals, k = [], 0
                for p in dd.lin_params:
                    val, k = basis_value(dom, p.ty, k)
                    lin_vals.append(val)
            r = run_split(dv, fn, (xs, lin_vals), dom)
            got = (_flat_nl(r.nl), matrix(dom, r.lin))
            if base is None:
                base = got
            elif got != base:
                _points_split(s, v, policy, key)
                _nf_differ(s, v, dom, [*base[0], *base[1]], [*got[0], *got[1]],
                           f"save-all's split run vs {key}'s")
                return
        names = ", ".join(k for _, k in policies)
        if s.kind == "nonlinear":           # the schedules that restructure the source
            from .checkpoint_checks import schedule_invariance
            more = schedule_invariance(s, v)
            if more is None:
                return
            names += ", " + more
        v.add("normal form", "proved", f"save-all = {names}, for all inputs")
    except TooBig as e:
        v.add("normal form", "unknown", str(e))


BUDGET_MAX_POINTS = 3         # budget:M searches 2^points vectors: small programs only


def _check_budget(s: Subject, v: Verdicts):
    """``budget:M`` at the least feasible M: the vjp program it picks computes
    save-all's gradient and peaks at ≤ M (evaluator, both halves)."""
    from linear_a.transforms.budget import budget_vjp_program, choice_points, frontier
    from linear_a.transforms.compose import vjp as run_vjp
    f = s.entry
    if list(f.nl_out) != [RealType()] or len(choice_points(s.prog, f.name)) > BUDGET_MAX_POINTS:
        return                            # (budget's search takes gradients: one real result)
    _, table, _ = frontier(s.prog, f.name)
    m = min(t[1] for t in table)
    vp, pol = budget_vjp_program(s.prog, f.name, m)
    for args in _points(s, 1):
        ct = _cotangent(s.rng, f)
        ctv = ct if len(ct) != 1 else ct[0]
        a = run_vjp(s.prog, f.name, args, ctv, program=vp)
        b = run_vjp(s.prog, f.name, args, ctv, program=s.vjp())
        ga = _float_flat([a.gradient[p.name] for p in f.nl_params])
        gb = _float_flat([b.gradient[p.name] for p in f.nl_params])
        if not _close(ga, gb) or a.memory > m:
            v.refute("points", f"budget:{m}: gradient {ga} (M {a.memory}) vs save-all's {gb} (M ≤ {m} "
                               "required)", {"args": args, "cotangent": ct, "vjp_program": show(vp)})
        v.add("points", "checked", f"budget:{m} (the least M): save-all's gradient, M = {a.memory} ≤ {m}")


def _cost_programs(s: Subject) -> list[tuple[str, Program]]:
    from linear_a.transforms.checkpoint import RecomputeAll
    out = [("f", s.prog)]
    if s.kind == "nonlinear":
        out.append(("f_jvp", s.jvp()))
        out += [(f"vjp ({label})", vp) for label, vp in s.vjp_programs()]
    dv, _, _ = _unzip_dv(s)
    out.append(("unzip (save-all)", dv.result))
    dv, _, _ = _unzip_dv(s, RecomputeAll(), "recompute-all")
    out.append(("unzip (recompute-all)", dv.result))
    if s.kind != "mixed":
        out.append(("f_T", s.transposed()[0]))
    return out


def check_typing_rejects(s: Subject, v: Verdicts):
    """Mutants of the program and its transforms that break a typing rule are
    rejected by that rule (``linear_a.proofs.typing_mutations``)."""
    from .typing_mutations import check_rejections
    progs = [("f", s.prog)]
    if s.kind == "nonlinear":
        progs += [("f_jvp", s.jvp()), ("unzip", s.linearized().result)]
    elif s.kind == "mixed":
        progs.append(("unzip", s.unzipped().result))
    if s.kind != "mixed":
        progs.append(("f_T", s.transposed()[0]))
    kinds, n = set(), 0
    for label, prog in progs:
        for what, rules, rule, msg in check_rejections(prog):
            n += 1
            kinds.add(what)
            if rule not in rules:
                v.refute("typing judgment", f"{label}: mutation '{what}' was "
                         + ("accepted" if rule is None else f"rejected by rule {rule}, not {'/'.join(sorted(rules))}"),
                         {"mutation": what, "expected rules": sorted(rules), "rule": rule, "message": msg})
    s.cached("typing-mutations", lambda: kinds)
    v.add("typing judgment", "proved" if n else "unknown",
          f"{n} mutants rejected by the rule that forbids them ({', '.join(sorted(kinds))})")
    from .typing_mutations import transform_rejections
    refusals = transform_rejections(s.prog)
    for what, problem in refusals:
        if problem is not None:
            v.refute("transformations' inputs", f"{what}: {problem}", {"case": what, "problem": problem})
    v.add("transformations' inputs", "proved", f"{len(refusals)} ill-typed inputs refused by JVP, unzip "
          "and transposition with the typing judgment's located error and rule")


def check_cost_oracle(s: Subject, v: Verdicts):
    """The evaluator's W and M, the measure's W and |e|, and the text counter's
    (``linear_a.proofs.costoracle``), on every definition of every program."""
    from .costoracle import Oracle
    n_defs = n_run = 0
    for label, prog in _cost_programs(s):
        text = show(prog)
        oracle = Oracle(text, s.costs)
        for d in prog.defs:
            c = oracle.count(d.name)
            W, S = measure.work(prog, d.name, s.costs), measure.size(prog, d.name)
            run = None
            for _ in range(3):
                args = ([_random_like(s.rng, p.ty) if not s.positive else s.point(d)[p.name]
                         for p in d.nl_params], [_random_like(s.rng, p.ty) for p in d.lin_params])
                try:
                    run = evaluate(prog, d.name, args, "float", s.costs)
                    break
                except DomainError:
                    continue
            sides = {"text counter": (c.work, c.memory, c.size), "measure": (W, None, S),
                     "evaluator": (run.work, run.memory, None) if run else None}
            bad = c.work != W or c.size != S or (run is not None and (run.work, run.memory) != (c.work, c.memory))
            if bad:
                v.refute("three counters", f"{label}, {d.name}: (W, M, |e|) text counter {sides['text counter']}, "
                         f"measure {sides['measure']}, evaluator {sides['evaluator']}",
                         {"program": text, "function": d.name, "W, M, |e|": {k: str(x) for k, x in sides.items()}})
            n_defs += 1
            n_run += run is not None
    v.add("three counters", "proved", f"W, M, |e| of {n_defs} definitions: text counter = measure "
                                      f"= evaluator ({n_run} run at a point)")


CHECKS = {
    "typing-sound": check_typing_sound,
    "jvp-typed": check_jvp_typed,
    "jvp-correct": check_jvp_correct,
    "jvp-cost": check_jvp_cost,
    "jvp-size": check_jvp_size,
    "unzip-typed": check_unzip_typed,
    "unzip-correct": check_unzip_correct,
    "unzip-cost": check_unzip_cost,
    "transpose-typed": check_transpose_typed,
    "transpose-adjoint": check_transpose_adjoint,
    "transpose-cost": check_transpose_cost,
    "transpose-size": check_transpose_size,
    "transpose-involution": check_transpose_involution,
    "vjp-correct": check_vjp_correct,
    "vjp-cost": check_vjp_cost,
    "vjp-fast-path": check_vjp_fast_path,
    "typing-rejects": check_typing_rejects,
    "cost-oracle": check_cost_oracle,
    "checkpoint-invariance": check_checkpoint_invariance,
    "sched-invariance": check_sched_invariance,
    "checkpoint-memory": check_checkpoint_memory,
}


def applicable(s: Subject) -> tuple:
    return {"nonlinear": FOR_NONLINEAR, "linear": FOR_LINEAR, "mixed": FOR_MIXED}[s.kind]


def run_check(s: Subject, theorem: str, seconds: float | None = CHECK_SECONDS) -> Outcome:
    """One theorem on one program, within ``seconds`` of wall clock: past
    them the methods not yet run are cut, and the status is what the finished
    ones decided (*unknown* if none did), the reason in ``detail``."""
    t0 = time.perf_counter()
    why = loop_unsupported(s.prog, theorem)       # proofs/loops.py
    if why:
        return Outcome(theorem, s.name, "unknown", "loops", 0.0, why)
    v = Verdicts()
    check = loop_check(s.prog, theorem, CHECKS[theorem])   # loops: induction on N (proofs/loops.py)
    try:
        try:
            with time_limit(seconds, f"`{theorem}` on {s.name}"):
                check(s, v)
        except ProofTimeout as e:
            v.add("time limit", "unknown", e.message)
        st = v.status()
        return Outcome(theorem, s.name, st, v.method(), time.perf_counter() - t0, v.detail())
    except Refuted as r:
        cex = dict(r.cex or {})
        cex.setdefault("program", show(s.prog))
        return Outcome(theorem, s.name, "refuted", r.method, time.perf_counter() - t0,
                       r.detail, _jsonable(cex))
    except Exception as e:        # a transformation or the checker failed: a bug either way
        return Outcome(theorem, s.name, "refuted", "crash", time.perf_counter() - t0,
                       f"{type(e).__name__}: {e}", {"program": show(s.prog)})


def check_program(s: Subject, theorems=None, budget: float | None = None) -> list[Outcome]:
    """Every applicable theorem on s; ``budget``: seconds for all of them
    (a theorem gets what is left, at most CHECK_SECONDS; once it is spent
    the remaining theorems are *unknown*)."""
    ids = [t for t in applicable(s) if theorems is None or t in theorems]
    deadline = None if budget is None else time.perf_counter() + budget
    out = []
    for t in ids:
        left = CHECK_SECONDS if deadline is None else min(CHECK_SECONDS, deadline - time.perf_counter())
        if left <= 0:
            out.append(Outcome(t, s.name, "unknown", "", 0.0,
                               f"time limit: not run, the program's budget of {budget:g} s was spent"))
        else:
            out.append(run_check(s, t, left))
    return out


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (int, float, str, bool)) or x is None:
        return x
    return str(x)
