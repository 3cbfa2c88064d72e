"""Programs and helpers shared by several test files (one place; test files
import from here, never from each other)."""
from __future__ import annotations

import random
from pathlib import Path

import sympy

from linear_a.semantics import evaluate, parse_program, show, typecheck
from linear_a.semantics.syntax import (REAL, Block, Def, Let, Param, Prim, Program, RealType, Ret)
from linear_a.transforms.unzip import run_split


# ---- from test_jvp.py

SEED = (Path(__file__).resolve().parent.parent / "examples" / "seed.la").read_text()


POTTIER = """
def f(x0: real, x1: real) -> (real ;) =
  let (c ;) = cos(x1) in
  let (p ;) = x0 * c in
  p + x0
"""


PYTHAGORAS = """
def f(x: real) -> (real ;) =
  let (s ;) = sin(x) in
  let (c ;) = cos(x) in
  let (s2 ;) = s * s in
  let (c2 ;) = c * c in
  s2 + c2
"""


SQUARE = """
def f(x: real) -> (real ;) =
  x * x
"""


MATVEC = """
def matvec2x2(m: ((real, real), (real, real)), v: (real, real)) -> ((real, real) ;) =
  let (r1, r2) = m in
  let (m11, m12) = r1 in
  let (m21, m22) = r2 in
  let (v1, v2) = v in
  let (p11 ;) = m11 * v1 in
  let (p12 ;) = m12 * v2 in
  let (a1 ;) = p11 + p12 in
  let (p21 ;) = m21 * v1 in
  let (p22 ;) = m22 * v2 in
  let (a2 ;) = p21 + p22 in
  (a1, a2)

def specific(v: (real, real)) -> (real ;) =
  let (c2 ;) = 2 in
  let (c7 ;) = 7 in
  let (c1 ;) = 1 in
  let (c8 ;) = 8 in
  let (row1 ;) = (c2, c7) in
  let (row2 ;) = (c1, c8) in
  let (m ;) = (row1, row2) in
  let (a ;) = matvec2x2(m, v) in
  let (a1, a2) = a in
  a1 * a2
"""


# calls, tuples, sharing, nested right-hand sides, drops, every primitive
MIXED = """
def h(a: real, b: real) -> (real, real ;) =
  let (p ;) = a * b in
  let (q ;) = exp(a) in
  (p, q ;)

def g(x: real, t: (real, real)) -> (real, (real, real) ;) =
  let (u, v) = t in
  let (c ;) = 3 in
  let (s ;) =
    let (w ;) = x * u in
    let (z ;) = w / v in
    let (zz ;) = z + x in
    (zz ;)
  in
  let (r1, r2 ;) = h(s, x) in
  let (;) = drop(c) in
  let (k ;) = tanh(r2) in
  let (m ;) = (k, r1) in
  let (y ;) = sigmoid(u) in
  let (e ;) = pow(v, y) in
  let (o1 ;) = e - k in
  let (l ;) = log(v) in
  let (sq ;) = sqrt(l) in
  let (o2 ;) = o1 * sq in
  let (n ;) = neg(o2) in
  let (tn ;) = tan(u) in
  let (o3 ;) = n + tn in
  let (cs ;) = cos(x) in
  let (o4 ;) = o3 * cs in
  let (o5 ;) = o4 * x in
  let (tt ;) = (t ;) in
  let (;) = drop(tt) in
  (o5, m ;)
"""


DUPRET = """
def f(x: real, y: real) -> (real, real, (real, real) ;) =
  let (p ;) = (x, x) in
  let (a, b) = p in
  let (z ;) = a * b in
  let (;) = drop(y) in
  (z, x, p ;)
"""


CORPUS = [(SEED, "f", {"x1": 2, "x2": 5}), (POTTIER, "f", {"x0": 1.5, "x1": 0.3}),
          (PYTHAGORAS, "f", {"x": 0.4}), (SQUARE, "f", {"x": 3}),
          (MATVEC, "specific", {"v": [2, 3]}), (MIXED, "g", {"x": 0.7, "t": [1.3, 2.1]}),
          (DUPRET, "f", {"x": 0.5, "y": 2})]


IDS = ["seed", "pottier", "pythagoras", "square", "matvec", "mixed", "dupret"]


def symbols_like(ty, name):
    if isinstance(ty, RealType):
        return sympy.Symbol(name, real=True)
    return tuple(symbols_like(t, f"{name}_{i}") for i, t in enumerate(ty.items))


def flat(v):
    if isinstance(v, tuple):
        return [y for x in v for y in flat(x)]
    return [v]


def sym_jacobian(prog, fn):
    """(input symbols, output expressions, Jacobian) of fn by sympy."""
    d = prog.get(fn)
    args = {p.name: symbols_like(p.ty, p.name) for p in d.nl_params}
    r = evaluate(prog, fn, args, domain="sympy")
    xs = [s for p in d.nl_params for s in flat(args[p.name])]
    ys = flat(r.nl)
    return args, xs, ys, sympy.Matrix([[sympy.diff(y, x) for x in xs] for y in ys])


def chain_source(n: int) -> str:
    lines = ["def f(x: real, w: real) -> (real ;) =", "  let (a0 ;) = sin(x) in"]
    for i in range(1, n):
        if i % 2:
            lines.append(f"  let (a{i} ;) = a{i - 1} * w in")
        else:
            lines.append(f"  let (a{i} ;) = sin(a{i - 1}) in")
    lines.append(f"  sin(a{n - 1})")
    return "\n".join(lines) + "\n"


def chain_program(n: int) -> Program:
    """a0 = sin x; a(2k+1) = a(2k)·w; a(2k+2) = sin a(2k+1); result a(n-1) (built directly)."""
    binds = [Let(("a0",), (), Prim("sin", ("x",)))]
    for i in range(1, n):
        rhs = Prim("*", (f"a{i - 1}", "w")) if i % 2 else Prim("sin", (f"a{i - 1}",))
        binds.append(Let((f"a{i}",), (), rhs))
    body = Block(binds, Ret((f"a{n - 1}",), ()))
    return Program([Def("f", [Param("x", REAL), Param("w", REAL)], [], [REAL], [], body)])



# ---- from test_unzip.py

MIXED_UNZIP = """
def h(a: real, b: real ; da: real, db: real) -> (real, real ; real, real) =
  let (p ;) = a * b in
  let (s ;) = sin(a) in
  let (c ;) = cos(a) in
  let (; da1, da2) = dup(da) in
  let (; db1, db2) = dup(db) in
  let (; t1) = b *. da1 in
  let (; t2) = a *. db1 in
  let (; dp) = t1 +. t2 in
  let (; ds) = c *. da2 in
  let (;) = drop(db2) in
  (p, s ; dp, ds)

def g(x: real, pr: (real, real) ; dx: real, dpr: (real, real)) -> (real, (real, real) ; (real, real)) =
  let (u, v) = pr in
  let (du, dv) = dpr in
  let (k ;) = 2 in
  let (q ;) = k * x in
  let (; dq) = k *. dx in
  let (m, n ; dm, dn) = h(q, u ; dq, du) in
  let (e ;) = exp(v) in
  let (; de) = e *. dv in
  let (z ;) = (m, e) in
  let (y ;) = n + e in
  let (; dz0) = zero : real in
  let (; dy) = dn +. dz0 in
  let (; dmy) = (dm, dy) in
  let (;) = drop(de) in
  (y, z ; dmy)

def f(x1: real, x2: real ; dx1: real, dx2: real) -> (real, real ; real) =
  let (; dxa, dxb) = dup(dx1) in
  let (pr ;) = (x1, x2) in
  let (; dpr) = (dxb, dx2) in
  let (y, z ; dmy) = g(x1, pr ; dxa, dpr) in
  let (z1, z2) = z in
  let (dm, dy) = dmy in
  let (t ; dt) =
    let (t0 ;) = y * z1 in
    let (one ;) = 1.5 in
    let (; dt0) = one *. dm in
    (t0 ; dt0)
  in
  let (r ;) = t - z2 in
  let (;) = drop(pr) in
  let (; out) = dt +. dy in
  (r, y ; out)

def sq(x: real) -> (real ;) =
  x * x

def usesq(x: real ; dx: real) -> (real ; real) =
  let (s ;) = sq(x) in
  let (two ;) = 2 in
  let (c ;) = two * x in
  let (; d1, d2) = dup(dx) in
  let (; e1) = c *. d1 in
  let (; e2) = s *. d2 in
  let (; e) = e1 +. e2 in
  (s ; e)

def noread(x: real ; dx: real) -> (real ; real) =
  let (y ;) = sin(x) in
  let (; a, b) = dup(dx) in
  let (; c) = a +. b in
  (y ; c)

def lin_only(; a: real, b: real) -> (; real) =
  let (; c) = a +. b in
  let (; d) = zero : real in
  c +. d

def tail_prim(x: real, y: real) -> (real ;) =
  let (a ;) = sin(x) in
  a * y

def tail_lin(x: real ; dx: real) -> (; real) =
  let (c ;) = cos(x) in
  c *. dx

def tail_call(x: real ; dx: real) -> (real, real ; real, real) =
  let (y ;) = exp(x) in
  let (; d1, d2) = dup(dx) in
  let (; dy) = y *. d1 in
  h(x, y ; d2, dy)

def tail_drop(x: real ; dx: real) -> (;) =
  let (;) = drop(x) in
  drop(dx)

def chain3(x: real ; dx: real) -> (real ; real) =
  let (y1 ;) = sin(x) in
  let (c1 ;) = cos(x) in
  let (; d1) = c1 *. dx in
  let (y2 ;) = sin(y1) in
  let (c2 ;) = cos(y1) in
  let (; d2) = c2 *. d1 in
  let (y3 ;) = sin(y2) in
  let (c3 ;) = cos(y2) in
  let (; d3) = c3 *. d2 in
  (y3 ; d3)
"""


def mixed():
    p = parse_program(MIXED_UNZIP, "mixed.la")
    typecheck(p)
    return p


def _sym_args(d: Def):
    """A symbol per real of every parameter (tuples as tuples of symbols)."""
    def val(name, ty):
        if ty == REAL:
            return sympy.Symbol(name)
        return tuple(val(f"{name}_{i}", t) for i, t in enumerate(ty.items))
    return {p.name: val(p.name, p.ty) for p in d.params}


def _float_args(d: Def, rng):
    def val(ty):
        if ty == REAL:
            return rng.uniform(0.3, 2.0)
        return tuple(val(t) for t in ty.items)
    return {p.name: val(p.ty) for p in d.params}


def _flat(v):
    if isinstance(v, tuple):
        for x in v:
            yield from _flat(x)
    else:
        yield v


def _sym_equal(a, b) -> bool:
    fa, fb = list(_flat(a)), list(_flat(b))
    return len(fa) == len(fb) and all(sympy.simplify(x - y) == 0 for x, y in zip(fa, fb))


def _close(a, b, tol=1e-9) -> bool:
    fa, fb = list(_flat(a)), list(_flat(b))
    return len(fa) == len(fb) and all(abs(x - y) <= tol * (1 + abs(y)) for x, y in zip(fa, fb))


def recombination(dv, fn: str) -> Program:
    """The unzipped program plus ``fn_re``, the SPEC's recombination
    ``let (x̄, w ;) = f_nl(…) in let (ū ; ȳ) = f_lin(w, … ; …) in (x̄ ; ȳ)``
    written in Linear A, re-parsed from the printed output."""
    sig = dv.notes["signatures"][fn]
    d = dv.subject[fn]
    known = [d.nl_params[i].name for i in sig.known_in]
    unknown = [d.nl_params[i].name for i in sig.unknown_in]
    lin = [p.name for p in d.lin_params]
    ks = [f"re_k{i}" for i in sig.known_out]
    us = [f"re_u{i}" for i in sig.unknown_out]
    ls = [f"re_l{i}" for i in range(len(d.lin_out))]
    outs = {i: n for i, n in zip(sig.known_out, ks)} | {i: n for i, n in zip(sig.unknown_out, us)}
    ps = lambda params: ", ".join(f"{p.name}: {p.ty!r}" for p in params)
    ty = lambda ts: ", ".join(map(repr, ts))
    text = (f"def {fn}_re({ps(d.nl_params)} ; {ps(d.lin_params)}) -> ({ty(d.nl_out)} ; {ty(d.lin_out)}) =\n"
            f"  let ({', '.join(ks + ['re_w'])} ;) = {sig.nl_name}({', '.join(known)}) in\n"
            f"  let ({', '.join(us)} ; {', '.join(ls)}) = {sig.lin_name}({', '.join(['re_w'] + unknown)} ; {', '.join(lin)}) in\n"
            f"  ({', '.join(outs[i] for i in range(len(d.nl_out)))} ; {', '.join(ls)})\n")
    prog = parse_program(show(dv.result) + "\n" + text, "recombined.la")
    typecheck(prog)
    return prog


def check_recombination(src: Program, dv, fn: str, points=3, symbolic=True):
    prog = recombination(dv, fn)
    d = src[fn]
    rng = random.Random(7)
    for _ in range(points):
        args = _float_args(d, rng)
        want = evaluate(src, fn, args)
        got = evaluate(prog, fn + "_re", args)
        assert _close(got.nl + got.lin, want.nl + want.lin), (fn, args, got, want)
        split = run_split(dv, fn, args)
        assert _close(split.nl + split.lin, want.nl + want.lin)
    if symbolic:
        args = _sym_args(d)
        want = evaluate(src, fn, args, "sympy")
        got = evaluate(prog, fn + "_re", args, "sympy")
        assert _sym_equal(got.nl + got.lin, want.nl + want.lin), (fn, got, want)



# ---- from test_transpose.py

# every linear form, a dropped linear value, a zero, tuples both ways
LINEAR = """
def g(x: real ; dx: real, dy: real) -> (; real, real) =
  let (; dy1, dy2) = dup(dy) in
  let (; s) = dx +. dy1 in
  let (; t) = x *. s in
  let (; z) = zero in
  let (; u) = t +. z in
  let (; p) = (u, dy2) in
  let (; p1, p2) = dup(p) in
  let (;) = drop(p1) in
  let (a, b) = p2 in
  (; a, b)
"""



# ---- from test_oracle.py

def sym_vjp(prog, fn, point, cts):
    """Jᵀ·ct by sympy at a float point."""
    args, xs, ys, J = sym_jacobian(prog, fn)
    subs = {}
    for k, v in point.items():
        for s, x in zip(flat(args[k]), flat(_tup(v))):
            subs[s] = x
    ct = sympy.Matrix(flat(_tup(cts)))
    return [float(e.subs(subs)) for e in (J.T * ct)]


def _tup(v):
    return tuple(_tup(x) for x in v) if isinstance(v, (list, tuple)) else v


def _cotangent_for(prog, fn, k=1):
    d = prog.get(fn)
    out = []
    for i, ty in enumerate(d.nl_out):
        out.append(_fill(ty, [k]))
    return out


def _fill(ty, counter):
    from linear_a.semantics.syntax import RealType
    if isinstance(ty, RealType):
        counter[0] += 1
        return 0.5 * counter[0] - 1.25
    return [_fill(t, counter) for t in ty.items]


# a looped program whose step calls another definition; the parameter k rides
# in the carry ({n}: the loop count).  Used by the loop checkpointing and cost tests.
LOOP_CALLSTEP = """
def force(x: real, k: real) -> (real ;) =
  let (s ;) = sin(x) in
  let (y ;) = k * s in
  (y ;)

def step(x: real, v: real, k: real) -> (real, real, real ;) =
  let (a ;) = force(x, k) in
  let (h ;) = 0.1 in
  let (b ;) = h * a in
  let (v2 ;) = v - b in
  let (c ;) = h * v2 in
  let (x2 ;) = x + c in
  (x2, v2, k ;)

def f(x: real, v: real, k: real) -> (real ;) =
  let (x1, v1, k1 ;) = loop {n} step(x, v, k) in
  let (;) = drop(k1) in
  let (p ;) = x1 * v1 in
  (p ;)
"""

# a loop with a linear carry (the checkpoint schedules over iterations refuse it)
LINEAR_LOOP = """
def g(k: real ; y: real) -> (real ; real) =
  let (; y2) = k *. y in
  (k ; y2)

def f(k: real ; y: real) -> (; real) =
  let (k1 ; y1) = loop 3 g(k ; y) in
  let (;) = drop(k1) in
  (; y1)
"""

# a loop that stacks an output into an array ({n}: the loop count; every:K refuses it)
STACKING_LOOP = """
def g(x: real) -> (real, real ;) =
  let (y ;) = sin(x) in
  (y, x ;)

def f(x: real) -> (real ;) =
  let (y, ys ;) = loop {n} g(x) in
  let (;) = drop(ys) in
  (y ;)
"""
