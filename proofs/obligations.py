"""Per-rule obligations: the cost, size and adjoint theorems for *all* programs,
by structural induction, each inductive step discharged by z3.

The idea.  A transformation rule builds its output from the outputs of its
sub-derivations plus some glue of its own.  W and |e| are sums over nodes, so
if every rule's glue fits the bound, given that the sub-derivations' outputs
do (the induction hypothesis), the bound holds for every program.  We do not
transcribe the rules into formulas: we **run the transformations' own code**
on a *schematic instance* of each rule -- a one-rule program whose
sub-expressions are *holes*, calls of opaque functions ``h``.  The output calls
the hole's transform (``h_jvp``, ``h_nl``/``h_lin``, ``h_T``); we measure the
output statically (``linear_a.proofs.measure``) with each hole call replaced by a z3
variable (W'_h, S'_h …) and the input with the hole replaced by W_h, S_h ….
The obligation is then

    IH(holes)  ⟹  bound(whole instance)        e.g.
    ∧_h W'_h ≤ c·W_h + d·V_h   ⟹   W(J(e)) + aW' ≤ c·W(e) + d·(‖e‖ + a‖e‖)

for all values of the hole variables, which z3 proves (status *proved*), refutes
(*refuted*, with the model) or times out on (*unknown*).

Interfaces.  A hole stands for a sub-expression *together with its interface*
(the ``let`` binding its results, the call node, and -- for JVP -- the
``dup``s that split tangents only to feed it; ``measure._hole_parts``), and
its input measures are at least those of the interface (it reads each of its
free variables).  For the conclusion to serve as a hypothesis one level up,
the instance is charged the same way: its own call interface a(e) in the
input, a'(e) in the output (worst case: every tangent argument split).  This
is why the size and cost bounds of whole definitions carry a(f)
(docs/theorems.md); without it, ``pow(a, a)`` alone in a body breaks any s_J
derived from the rules.

Arity and type sizes.  A rule family has integer parameters (the arity ``n``
of a tuple, call or return, the size ``K`` of a type).  W and |e| are affine
in each (every linear form costs price·‖σ‖; every argument adds one node), so
we measure the instance at the base point and one step up in each parameter,
extrapolate the affine form, **validate** it at a third point (mismatch:
*unknown*), and let z3 quantify over all n ≥ 0 / K ≥ 0.

Constants.  :func:`derive_constants` computes c_J, d_J, s_J, s_T, c_V, d_V
from the cost table by running the same instances: c_J is the largest
W(JVP of op)/cost(op) over the primitive table (and (lit+zero)/lit for
literals), d_J the largest per-real price of the glue JVP adds at a variable
occurrence (dup for sharing, drop for discarding, zero where a tuple, call or
return reads a constant's symbolic-zero tangent), s_J and s_T the largest
output/input size ratio of any rule family (including its asymptotic slope
in n and K).  The obligations then check these constants; nothing is tuned.

Also here: the **local adjoint identity** of every linear form and its
transpose (z3, over the reals, non-linear inputs symbolic) and the local
linearity of every linear form (the per-rule half of typing-sound).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

from linear_a.semantics.evaluate import Costs, DEFAULT_COSTS
from linear_a.semantics.parser import parse_program
from linear_a.semantics.primitives import PRIMITIVES
from linear_a.semantics.syntax import Call, Let, Loop, Program, iter_nodes, size_of_type

from . import measure

TIMEOUT_MS = 5000
DUP_SIZE = 5      # |let (; a, b) = dup(t)|: let 1 + 2 binders + dup 1 + 1 argument


def T(k: int) -> str:
    """A type of size k: real for 1, a tuple of k reals otherwise."""
    return "real" if k == 1 else "(" + ", ".join(["real"] * k) + ")"


def _tuple_of(k: int) -> str:
    return "(" + ", ".join(["real"] * k) + ("," if k == 1 else "") + ")"


def hole(name: str, nl=(), lin=(), nl_out=(), lin_out=()) -> str:
    """A hole: a well-typed opaque function of the given signature (its body
    drops everything and returns literals and zeros; it is never measured)."""
    ps = [f"p{i}: {t}" for i, t in enumerate(nl)]
    ls = [f"l{i}: {t}" for i, t in enumerate(lin)]
    lines = [f"def {name}({', '.join(ps)} ; {', '.join(ls)}) -> ({', '.join(nl_out)} ; {', '.join(lin_out)}) ="]
    for i in range(len(nl)):
        lines.append(f"  let (;) = drop(p{i}) in")
    for i in range(len(lin)):
        lines.append(f"  let (;) = drop(l{i}) in")
    outs, louts = [], []
    for i, t in enumerate(nl_out):
        lines.extend(_nl_value(f"o{i}", t))
        outs.append(f"o{i}")
    for i, t in enumerate(lin_out):
        lines.append(f"  let (; z{i}: {t}) = zero in")
        louts.append(f"z{i}")
    lines.append(f"  ({', '.join(outs)} ; {', '.join(louts)})")
    return "\n".join(lines) + "\n"


def _nl_value(name, t):
    if t == "real":
        return [f"  let ({name} ;) = 1 in"]
    k = t.count("real")
    out = [f"  let ({name}_{j} ;) = 1 in" for j in range(k)]
    out.append(f"  let ({name} ;) = ({', '.join(f'{name}_{j}' for j in range(k))}{',' if k == 1 else ''}) in")
    return out


def call_text(op: str, args) -> str:
    """A primitive application in concrete syntax (infix operators infix)."""
    if PRIMITIVES[op].infix:
        return f" {op} ".join(args)
    return f"{op}({', '.join(args)})"


def names(base: str, n: int) -> list[str]:
    return [f"{base}{i}" for i in range(1, n + 1)]


# ----------------------------------------------------------------------------
# Rule families


@dataclass
class Family:
    transform: str                      # "jvp" | "unzip" | "transpose"
    rule: str                           # the rule the instance exercises (as the transform names it)
    source: Callable[..., str]          # params -> program text (entry "f", holes "h*")
    params: tuple = ()                  # integer parameters, each ≥ its base
    base: dict = field(default_factory=dict)
    lower: dict = field(default_factory=dict)   # what z3 quantifies over (default: 0)
    holes: tuple = ("h",)

    @property
    def label(self) -> str:
        p = f"[{','.join(self.params)}]" if self.params else ""
        return f"{self.rule}{p}"


def _jvp_families() -> list[Family]:
    F = []
    for op, p in PRIMITIVES.items():
        n = p.arity
        args = names("a", n)
        sig = ", ".join(f"{a}: real" for a in args)
        # the primitive in a let, its result and (shared) arguments read by the rest
        F.append(Family("jvp", f"JPrim:{op}", lambda op=op, args=args, sig=sig: (
            hole("h", nl=["real"] * (1 + len(args)), nl_out=["real"]) +
            f"def f({sig}) -> (real ;) =\n  let (z ;) = {call_text(op, args)} in\n"
            f"  h(z, {', '.join(args)})\n")))
        if n == 2:
            F.append(Family("jvp", f"JPrim:{op}(x,x)", lambda op=op: (
                f"def f(a: real) -> (real ;) =\n  {call_text(op, ['a', 'a'])}\n"), holes=()))
    F.append(Family("jvp", "JLit", lambda: (
        hole("h", nl=["real", "real"], nl_out=["real"]) +
        "def f(a: real) -> (real ;) =\n  let (c ;) = 2 in\n  h(c, a)\n")))
    F.append(Family("jvp", "JTup", lambda n: (
        hole("h", nl=[_tuple_of(n)] + ["real"] * n, nl_out=["real"]) +
        f"def f({', '.join(f'{a}: real' for a in names('a', n))}) -> (real ;) =\n"
        f"  let (t ;) = ({', '.join(names('a', n))}{',' if n == 1 else ''}) in\n"
        f"  h(t, {', '.join(names('a', n))})\n"), ("n",), {"n": 1}))
    F.append(Family("jvp", "JTup", lambda K: (
        hole("h", nl=[f"({T(K)}, {T(K)})", T(K)], nl_out=["real"]) +
        f"def f(a: {T(K)}, b: {T(K)}) -> (real ;) =\n  let (t ;) = (a, b) in\n  h(t, a)\n"),
        ("K",), {"K": 1}))
    F.append(Family("jvp", "JUnpack", lambda n: (
        hole("h", nl=[_tuple_of(n)] + ["real"] * n, nl_out=["real"]) +
        f"def f(p: {_tuple_of(n)}) -> (real ;) =\n"
        f"  let ({', '.join(names('a', n))}{',' if n == 1 else ''}) = p in\n"
        f"  h(p, {', '.join(names('a', n))})\n"), ("n",), {"n": 1}))
    F.append(Family("jvp", "JUnpack", lambda K: (
        hole("h", nl=[f"({T(K)}, {T(K)})", T(K), T(K)], nl_out=["real"]) +
        f"def f(p: ({T(K)}, {T(K)})) -> (real ;) =\n  let (a, b) = p in\n  h(p, a, b)\n"),
        ("K",), {"K": 1}))
    F.append(Family("jvp", "JDrop", lambda K: (
        hole("h", nl=["real"], nl_out=["real"]) +
        f"def f(a: {T(K)}, b: real) -> (real ;) =\n  let (;) = drop(a) in\n  h(b)\n"),
        ("K",), {"K": 1}))
    F.append(Family("jvp", "JCall", lambda n: (
        hole("g", nl=["real"] * n, nl_out=["real"]) +
        hole("h", nl=["real"] * (n + 1), nl_out=["real"]) +
        f"def f({', '.join(f'{a}: real' for a in names('a', n))}) -> (real ;) =\n"
        f"  let (z ;) = g({', '.join(names('a', n))}) in\n  h(z, {', '.join(names('a', n))})\n"),
        ("n",), {"n": 1}, holes=("g", "h")))
    F.append(Family("jvp", "JRet", lambda n: (
        f"def f({', '.join(f'{a}: real' for a in names('a', n))}) -> ({', '.join(['real'] * 2 * n)} ;) =\n"
        f"  ({', '.join(names('a', n) * 2)} ;)\n"), ("n",), {"n": 1}, holes=()))
    F.append(Family("jvp", "JRet", lambda K: (
        f"def f(a: {T(K)}) -> ({T(K)}, {T(K)} ;) =\n  (a, a ;)\n"), ("K",), {"K": 1}, holes=()))
    F.append(Family("jvp", "JLet", lambda n: (
        hole("h1", nl=["real"] * n, nl_out=["real"]) +
        hole("h2", nl=["real"] * (n + 1), nl_out=["real"]) +
        f"def f({', '.join(f'{a}: real' for a in names('a', n))}) -> (real ;) =\n"
        f"  let (y ;) = h1({', '.join(names('a', n))}) in\n  h2(y, {', '.join(names('a', n))})\n"),
        ("n",), {"n": 1}, holes=("h1", "h2")))
    F.append(Family("jvp", "JLet", lambda K: (
        hole("h1", nl=[T(K)], nl_out=[T(K)]) + hole("h3", nl=[T(K), T(K)], nl_out=["real"]) +
        hole("h2", nl=["real", T(K)], nl_out=["real"]) +
        f"def f(a: {T(K)}) -> (real ;) =\n"
        f"  let (y ;) = let (u ;) = h1(a) in h3(u, a) in\n  h2(y, a)\n"),
        ("K",), {"K": 1}, holes=("h1", "h2", "h3")))
    return F


def _unzip_families() -> list[Family]:
    F = []
    lin_forms = {
        "Scale": ("x *. a", "T", "x", ["a"]),
        "LAdd": ("a +. b", "T", None, ["a", "b"]),
        "Dup": ("dup(a)", "T,T", None, ["a"]),
        "Zero": ("zero", "T", None, []),
        "LTup": ("(a, b)", "(T,T)", None, ["a", "b"]),
        "LDrop": ("drop(a)", "", None, ["a"]),
    }
    for form, (rhs, outs, nl, ins) in lin_forms.items():
        def src(K, rhs=rhs, outs=outs, nl=nl, ins=ins):
            t = T(K)
            out_tys = [o.replace("T", t) for o in outs.split(",")] if outs else []
            if outs == "(T,T)":
                out_tys = [f"({t}, {t})"]
            binders = [f"k{i}: {ty}" for i, ty in enumerate(out_tys)]
            nl_params = ["x: real"] if nl else []
            lin_params = [f"{a}: {t}" for a in ins]
            h = hole("h", nl=["real"] if nl else [], lin=out_tys, nl_out=[], lin_out=["real"])
            return (h + f"def f({', '.join(nl_params)} ; {', '.join(lin_params)}) -> (; real) =\n"
                    f"  let (; {', '.join(binders)}) = {rhs} in\n"
                    f"  h({'x' if nl else ''} ; {', '.join(f'k{i}' for i in range(len(out_tys)))})\n")
        F.append(Family("unzip", f"ULinLeaf:{form}", src, ("K",), {"K": 1}))
    for op in ("sin", "*", "/"):
        ar = PRIMITIVES[op].arity
        args = names("a", ar)
        F.append(Family("unzip", f"ULeaf:{op}", lambda op=op, args=args: (
            hole("h", nl=["real"] * (1 + len(args)), lin=["real"], nl_out=["real"], lin_out=["real"]) +
            f"def f({', '.join(a + ': real' for a in args)} ; d: real) -> (real ; real) =\n"
            f"  let (z ;) = {call_text(op, args)} in\n  h(z, {', '.join(args)} ; d)\n")))
    F.append(Family("unzip", "ULeaf:Lit", lambda: (
        hole("h", nl=["real"], lin=["real"], nl_out=["real"], lin_out=["real"]) +
        "def f( ; d: real) -> (real ; real) =\n  let (c ;) = 2 in\n  h(c ; d)\n")))
    F.append(Family("unzip", "ULeaf:NTup", lambda K: (
        hole("h", nl=[f"({T(K)}, {T(K)})"], lin=["real"], nl_out=["real"], lin_out=["real"]) +
        f"def f(a: {T(K)}, b: {T(K)} ; d: real) -> (real ; real) =\n  let (t ;) = (a, b) in\n  h(t ; d)\n"),
        ("K",), {"K": 1}))
    F.append(Family("unzip", "UNUnpack", lambda K: (
        hole("h", nl=[T(K), T(K)], lin=["real"], nl_out=["real"], lin_out=["real"]) +
        f"def f(p: ({T(K)}, {T(K)}) ; d: real) -> (real ; real) =\n  let (a, b) = p in\n  h(a, b ; d)\n"),
        ("K",), {"K": 1}))
    F.append(Family("unzip", "ULUnpack", lambda K: (
        hole("h", nl=["real"], lin=[T(K), T(K)], nl_out=["real"], lin_out=["real"]) +
        f"def f(x: real ; p: ({T(K)}, {T(K)})) -> (real ; real) =\n  let (a, b) = p in\n  h(x ; a, b)\n"),
        ("K",), {"K": 1}))
    F.append(Family("unzip", "UCall", lambda K: (
        hole("g", nl=[T(K)], lin=[T(K)], nl_out=[T(K)], lin_out=[T(K)]) +
        hole("h", nl=[T(K)], lin=[T(K)], nl_out=["real"], lin_out=["real"]) +
        f"def f(a: {T(K)} ; d: {T(K)}) -> (real ; real) =\n  let (y ; dy) = g(a ; d) in\n  h(y ; dy)\n"),
        ("K",), {"K": 1}, holes=("g", "h")))
    F.append(Family("unzip", "URet", lambda K: (
        f"def f(a: {T(K)} ; d: {T(K)}) -> ({T(K)} ; {T(K)}) =\n  (a ; d)\n"), ("K",), {"K": 1}, holes=()))
    F.append(Family("unzip", "ULet", lambda K: (
        hole("h1", nl=[T(K)], lin=[T(K)], nl_out=[T(K)], lin_out=[T(K)]) +
        hole("h2", nl=[T(K), T(K)], lin=[T(K)], nl_out=["real"], lin_out=["real"]) +
        f"def f(a: {T(K)} ; d: {T(K)}) -> (real ; real) =\n  let (y ; dy) = h1(a ; d) in\n  h2(y, a ; dy)\n"),
        ("K",), {"K": 1}, holes=("h1", "h2")))
    return F


def _transpose_families() -> list[Family]:
    F = []

    def lin_family(rule, header, rhs, binders, hole_lin, nl=False):
        def src(K):
            t = T(K)
            h = hole("h", nl=["real"] if nl else [], lin=[b.replace("T", t) for b in hole_lin],
                     lin_out=["real"])
            hdr = header.replace("T", t)
            bs = ", ".join(f"k{i}: {b.replace('T', t)}" for i, b in enumerate(binders))
            call_lin = [f"k{i}" for i in range(len(binders))] + [f"r{i}" for i in range(len(hole_lin) - len(binders))]
            return (h + f"def f({hdr}) -> (; real) =\n  let (; {bs}) = {rhs} in\n"
                    f"  h({'x' if nl else ''} ; {', '.join(call_lin)})\n")
        F.append(Family("transpose", rule, src, ("K",), {"K": 1}))

    lin_family("TScale", "x: real ; a: T", "x *. a", ["T"], ["T"], nl=True)
    lin_family("TLinAdd", " ; a: T, b: T", "a +. b", ["T"], ["T"])
    lin_family("TDup", " ; a: T", "dup(a)", ["T", "T"], ["T", "T"])
    lin_family("TZero", " ; r0: T", "zero", ["T"], ["T", "T"])
    lin_family("TLinTup", " ; a: T, b: T", "(a, b)", ["(T, T)"], ["(T, T)"])
    F.append(Family("transpose", "TDropLin", lambda K: (
        hole("h", lin=["real"], lin_out=["real"]) +
        f"def f( ; a: {T(K)}, b: real) -> (; real) =\n  let (;) = drop(a) in\n  h( ; b)\n"),
        ("K",), {"K": 1}))
    F.append(Family("transpose", "TLUnpack", lambda n: (
        hole("h", lin=["real"] * n, lin_out=["real"]) +
        f"def f( ; p: {_tuple_of(n)}) -> (; real) =\n"
        f"  let ({', '.join(names('a', n))}{',' if n == 1 else ''}) = p in\n  h( ; {', '.join(names('a', n))})\n"),
        ("n",), {"n": 1}))
    F.append(Family("transpose", "TLinTup", lambda n: (
        hole("h", lin=[_tuple_of(n)], lin_out=["real"]) +
        f"def f( ; {', '.join(a + ': real' for a in names('a', n))}) -> (; real) =\n"
        f"  let (; t) = ({', '.join(names('a', n))}{',' if n == 1 else ''}) in\n  h( ; t)\n"),
        ("n",), {"n": 1}))
    F.append(Family("transpose", "TLetNonLin", lambda: (
        hole("h", nl=["real", "real"], lin=["real"], lin_out=["real"]) +
        "def f(x: real ; a: real) -> (; real) =\n  let (y ;) = sin(x) in\n  h(y, x ; a)\n")))
    F.append(Family("transpose", "TNUnpack", lambda K: (
        hole("h", nl=[T(K), T(K)], lin=["real"], lin_out=["real"]) +
        f"def f(p: ({T(K)}, {T(K)}) ; a: real) -> (; real) =\n  let (u, v) = p in\n  h(u, v ; a)\n"),
        ("K",), {"K": 1}))
    F.append(Family("transpose", "TCall", lambda n: (
        hole("g", nl=["real"], lin=["real"] * n, lin_out=["real"]) +
        hole("h", nl=["real"], lin=["real"], lin_out=["real"]) +
        f"def f(x: real ; {', '.join(a + ': real' for a in names('a', n))}) -> (; real) =\n"
        f"  let (; b) = g(x ; {', '.join(names('a', n))}) in\n  h(x ; b)\n"),
        ("n",), {"n": 1}, holes=("g", "h")))
    F.append(Family("transpose", "TRet", lambda n: (
        f"def f( ; {', '.join(a + ': real' for a in names('a', n))}) -> (; {', '.join(['real'] * n)}) =\n"
        f"  (; {', '.join(names('a', n))})\n"), ("n",), {"n": 1}, holes=()))
    F.append(Family("transpose", "TRet", lambda K: (
        f"def f( ; a: {T(K)}, b: {T(K)}) -> (; {T(K)}, {T(K)}) =\n  (; b, a)\n"),
        ("K",), {"K": 1}, holes=()))
    return F


def _loop_families() -> list[Family]:
    """JLoop, ULoop, TLoop with N symbolic: the step function is a hole h, run N
    times (``loop N h(…)``); the measure counts N·(the hole's value + c_loop),
    so the forms are affine in N with the hole variables as coefficients and z3
    proves the bound for every N ≥ 0 (nonlinear real arithmetic: N·W'_h ≤
    c·N·W_h + … from the step's own bound W'_h ≤ c·W_h + d·V_h)."""
    return [
        # a 2-real carry (N) and a carry of size K; the carry's tangents are split
        # by dup where the rest reads the value too (g reads a)
        Family("jvp", "JLoop", lambda N, K: (
            hole("h", nl=[T(K), "real"], nl_out=[T(K), "real"]) +
            hole("g", nl=[T(K), "real", "real"], nl_out=["real"]) +
            f"def f(a: {T(K)}, b: real) -> (real ;) =\n"
            f"  let (x, y ;) = loop {N} h(a, b) in\n  g(x, y, b)\n"),
            ("N", "K"), {"N": 1, "K": 1}, holes=("h", "g")),
        # unzip: f_nl's loop stacks h_nl's residuals, f_lin's loop reads them
        Family("unzip", "ULoop", lambda N, K: (
            hole("h", nl=[T(K)], lin=[T(K)], nl_out=[T(K)], lin_out=[T(K)]) +
            f"def f(a: {T(K)} ; d: {T(K)}) -> ({T(K)} ; {T(K)}) =\n"
            f"  let (y ; e) = loop {N} h(a ; d) in\n  (y ; e)\n"),
            ("N", "K"), {"N": 1, "K": 1}),
        # transposition: a linear loop, and one reading an array (the residual stack)
        Family("transpose", "TLoop", lambda N, K: (
            hole("h", lin=[T(K)], lin_out=[T(K)]) +
            f"def f( ; d: {T(K)}) -> (; {T(K)}) =\n  let (; e) = loop {N} h(; d) in\n  (; e)\n"),
            ("N", "K"), {"N": 1, "K": 1}),
        Family("transpose", "TLoop:over", lambda N, K: (
            hole("h", nl=["real"], lin=[T(K)], lin_out=[T(K)]) +
            f"def f(ws: [real; {N}] ; d: {T(K)}) -> (; {T(K)}) =\n"
            f"  let (; e) = loop {N} h(; d) over (ws) in\n  (; e)\n"),
            ("N", "K"), {"N": 1, "K": 1}),
        # invariant carries: the step s returns k unchanged and reads it in linear
        # code, so k is a residual that ULoopInv keeps out of the stack (the linear
        # loop carries it) and TLoopInv carries through the reversed loop.  s is a
        # concrete step (N·|s| would be bilinear in N and K), so K is fixed at 2
        Family("unzip", "ULoopInv", lambda N, K=2: (
            hole("h", nl=["real", T(K)], lin=[T(K)], nl_out=[T(K)], lin_out=[T(K)]) +
            f"def s(k: real, a: {T(K)} ; d: {T(K)}, z: real) -> (real, {T(K)} ; {T(K)}, real) =\n"
            f"  let (a2 ; e) = h(k, a ; d) in\n  let (; z2) = k *. z in\n  (k, a2 ; e, z2)\n"
            f"def f(k: real, a: {T(K)} ; d: {T(K)}, z: real) -> ({T(K)} ; {T(K)}, real) =\n"
            f"  let (k1, y ; e, z1) = loop {N} s(k, a ; d, z) in\n  let (;) = drop(k1) in\n"
            f"  (y ; e, z1)\n"),
            ("N",), {"N": 1}),
        Family("transpose", "TLoopInv", lambda N, K=2: (
            hole("h", nl=["real"], lin=[T(K)], lin_out=[T(K)]) +
            f"def s(k: real ; d: {T(K)}) -> (real ; {T(K)}) =\n"
            f"  let (; e) = h(k ; d) in\n  (k ; e)\n"
            f"def f(k: real ; d: {T(K)}) -> (; {T(K)}) =\n"
            f"  let (k1 ; e) = loop {N} s(k ; d) in\n  let (;) = drop(k1) in\n  (; e)\n"),
            ("N",), {"N": 1}),
    ]


def families() -> list[Family]:
    return _jvp_families() + _unzip_families() + _transpose_families() + _loop_families()


# ----------------------------------------------------------------------------
# Measuring an instance


def _z3():
    import z3
    return z3


def instance(fam: Family, point: dict) -> Program:
    return parse_program(fam.source(**point), f"<{fam.label}>")


def measure_instance(fam: Family, point: dict, costs: Costs, sym_costs=None) -> dict:
    """The quantities of one concrete instance, as z3 terms over the hole variables.

    Keys: ``W, S, V`` (input work, size, weight) and ``W1, S1`` (output work and
    size; for transpose ``W1`` is under the dual pricing, for unzip it is
    W(f_nl) + W(f_lin)).  Hole h contributes variables ``W_h, S_h, V_h`` to the
    input and ``W1_h, S1_h`` to the output."""
    z3 = _z3()
    prog = instance(fam, point)
    R = lambda n: z3.Real(n)
    hw = {h: R(f"W_{h}") for h in fam.holes}
    hs = {h: R(f"S_{h}") for h in fam.holes}
    hv = {h: R(f"V_{h}") for h in fam.holes}
    c = sym_costs or costs
    q = {"W": measure.work(prog, "f", c, hw), "S": measure.size(prog, "f", hs),
         "V": measure.weight(prog, "f", hv)}
    # A hole stands for an expression *with its interface* (the let binding its
    # results and the call node): its measures are at least those of the
    # interface (it reads each of its free variables at least once, SPEC §3).
    env = measure._envs(prog)["f"]
    K = lambda v: size_of_type(env[v][1])
    for h in fam.holes:
        smin, vmin = 0, 0
        for n in iter_nodes(prog["f"].body):
            if type(n) is Let and type(n.rhs) is Call and n.rhs.fn == h:
                smin += 1 + len(n.nl) + len(n.lin)
                vmin += 1 + sum(K(v) for v in n.nl + n.lin)
            if type(n) is Call and n.fn == h:
                smin += 1 + len(n.nl) + len(n.lin)
                vmin += 1 + sum(K(v) for v in n.nl + n.lin)
            if type(n) is Loop and n.fn == h:      # each iteration: the step's interface
                vmin = max(vmin, measure.interface_weight(prog[h]))
        q[f"Smin_{h}"], q[f"Vmin_{h}"] = smin, vmin
    # ... and so does the instance itself, seen as a sub-expression of a bigger
    # program: Ain = its call-site interface in the input, Aout in the output
    # (worst case: every tangent argument split off by a dup).
    d = prog["f"]
    outs = list(d.nl_out) + list(d.lin_out)
    q["Ain_S"] = 2 + len(outs) + len(d.params)
    q["Ain_V"] = 2 + sum(size_of_type(t) for t in outs) + sum(size_of_type(p.ty) for p in d.params)
    if fam.transform == "jvp":
        from linear_a.transforms.jvp import jvp_program
        out = jvp_program(prog, ["f"])
        q["W1"] = measure.work(out, "f_jvp", c, {h + "_jvp": R(f"W1_{h}") for h in fam.holes},
                               absorb_dups=True)
        q["S1"] = measure.size(out, "f_jvp", {h + "_jvp": R(f"S1_{h}") for h in fam.holes},
                               absorb_dups=True)
        dj = out["f_jvp"]
        q["Aout_S"] = 2 + len(dj.nl_out) + len(dj.lin_out) + len(dj.params) + DUP_SIZE * len(dj.lin_params)
        q["Aout_W"] = c.dup * sum(size_of_type(p.ty) for p in dj.lin_params)
    elif fam.transform == "unzip":
        from linear_a.transforms.unzip import unzip_program
        out = unzip_program(prog, names=["f"])
        hn = {h + "_nl": R(f"Wn_{h}") for h in fam.holes}
        hl = {h + "_lin": R(f"Wl_{h}") for h in fam.holes}
        both = {**hn, **hl}
        q["W1"] = measure.work(out, "f_nl", c, both) + measure.work(out, "f_lin", c, both)
        sn = {h + "_nl": R(f"Sn_{h}") for h in fam.holes}
        sl = {h + "_lin": R(f"Sl_{h}") for h in fam.holes}
        q["S1"] = measure.size(out, "f_nl", {**sn, **sl}) + measure.size(out, "f_lin", {**sn, **sl})
        q["Aout_S"] = q["Aout_W"] = 0
    else:
        from linear_a.transforms.transpose import transpose_program
        out = transpose_program(prog, ["f"])
        dual = c.dual()
        q["W1"] = measure.work(out, "f_T", dual, {h + "_T": R(f"W1_{h}") for h in fam.holes})
        q["S1"] = measure.size(out, "f_T", {h + "_T": R(f"S1_{h}") for h in fam.holes})
        dt = out["f_T"]
        q["Aout_S"] = 2 + len(dt.nl_out) + len(dt.lin_out) + len(dt.params)
        q["Aout_W"] = 0
    return {k: (v if z3.is_expr(v) else z3.RealVal(v)) for k, v in q.items()}


def affine_forms(fam: Family, costs: Costs, sym_costs=None):
    """Each quantity as an affine z3 term in the family's parameters (z3 Reals
    named after them), validated at a third point.  Returns (forms, params) or
    raises _NotAffine."""
    z3 = _z3()
    base = {p: fam.base.get(p, 1) for p in fam.params}
    q0 = measure_instance(fam, base, costs, sym_costs)
    forms = dict(q0)
    pvars = {p: z3.Real(p) for p in fam.params}
    for p in fam.params:
        up = dict(base)
        up[p] += 1
        q1 = measure_instance(fam, up, costs, sym_costs)
        for k in forms:
            forms[k] = forms[k] + (q1[k] - q0[k]) * (pvars[p] - base[p])
    if fam.params:
        far = {p: base[p] + 2 for p in fam.params}
        q2 = measure_instance(fam, far, costs, sym_costs)
        for k in forms:
            pred = z3.substitute(forms[k], *[(pvars[p], z3.RealVal(far[p])) for p in fam.params])
            if not _valid(pred == q2[k]):
                raise _NotAffine(f"{k} is not affine in {', '.join(fam.params)}")
    return {k: z3.simplify(v) for k, v in forms.items()}, pvars


class _NotAffine(Exception):
    pass


def _valid(claim, timeout_ms=2000) -> bool:
    z3 = _z3()
    s = z3.Solver()
    s.set("timeout", timeout_ms)
    s.add(z3.Not(claim))
    return s.check() == z3.unsat


# ----------------------------------------------------------------------------
# Obligations


@dataclass
class Obligation:
    theorem: str
    rule: str
    status: str
    seconds: float
    detail: str = ""
    counterexample: dict | None = None


def prove(claim, assumptions, timeout_ms=TIMEOUT_MS):
    """z3: proved / refuted (with a model) / unknown."""
    z3 = _z3()
    s = z3.Solver()
    s.set("timeout", timeout_ms)
    s.add(*assumptions)
    s.add(z3.Not(claim))
    r = s.check()
    if r == z3.unsat:
        return "proved", None
    if r == z3.sat:
        m = s.model()
        return "refuted", {str(d): str(m[d]) for d in m.decls()}
    return "unknown", {"reason": s.reason_unknown()}


def _symbolic_costs():
    z3 = _z3()
    ks = {k: z3.Real(f"price_{k}") for k in ("lit", "zero", "drop", "add", "dup", "scale")}
    return Costs(ks["lit"], {}, zero=ks["zero"], drop=ks["drop"], add=ks["add"], dup=ks["dup"],
                 scale=ks["scale"]), list(ks.values())


def obligations_for(fam: Family, consts: dict, costs: Costs, timeout_ms=TIMEOUT_MS) -> list[Obligation]:
    z3 = _z3()
    out = []
    t0 = time.perf_counter()
    R = z3.Real
    if fam.transform == "transpose":
        sym, prices = _symbolic_costs()
    else:
        sym, prices = None, []
    try:
        forms, pvars = affine_forms(fam, costs, sym)
    except _NotAffine as e:
        secs = time.perf_counter() - t0
        th = {"jvp": ["jvp-cost", "jvp-size"], "unzip": ["unzip-cost"],
              "transpose": ["transpose-cost", "transpose-size"]}[fam.transform]
        return [Obligation(t, fam.label, "unknown", secs, f"not affine: {e}") for t in th]
    except Exception as e:     # the transformation failed on a well-typed instance
        secs = time.perf_counter() - t0
        th = {"jvp": ["jvp-cost", "jvp-size"], "unzip": ["unzip-cost"],
              "transpose": ["transpose-cost", "transpose-size"]}[fam.transform]
        return [Obligation(t, fam.label, "refuted", secs, f"transform failed: {type(e).__name__}: {e}",
                           {"program": fam.source(**{p: fam.base.get(p, 1) for p in fam.params})})
                for t in th]
    W, S, V, W1, S1 = (forms[k] for k in ("W", "S", "V", "W1", "S1"))
    nonneg = [v >= fam.lower.get(p, 0) for p, v in pvars.items()] + [p >= 0 for p in prices]
    Q = lambda x: z3.RealVal(f"{Fraction(x).numerator}/{Fraction(x).denominator}")

    def obl(theorem, claim, ih):
        t = time.perf_counter()
        st, cex = prove(claim, nonneg + ih, timeout_ms)
        out.append(Obligation(theorem, fam.label, st, time.perf_counter() - t + setup,
                              f"IH ⟹ {claim}", cex))

    setup = time.perf_counter() - t0
    hs = fam.holes
    base_ih = [R(f"{x}_{h}") >= 0 for h in hs for x in ("W", "W1", "S1")]
    base_ih += [R(f"S_{h}") >= forms[f"Smin_{h}"] for h in hs] + \
               [R(f"V_{h}") >= forms[f"Vmin_{h}"] for h in hs]
    if fam.transform == "jvp":
        c, d, s = Q(consts["c_J"][0]), Q(consts["d_J"][0]), Q(consts["s_J"][0])
        obl("jvp-cost", W1 + forms["Aout_W"] <= c * W + d * (V + forms["Ain_V"]),
            base_ih + [R(f"W1_{h}") <= c * R(f"W_{h}") + d * R(f"V_{h}") for h in hs])
        obl("jvp-size", S1 + forms["Aout_S"] <= s * (S + forms["Ain_S"]), base_ih + [R(f"S1_{h}") <= s * R(f"S_{h}") for h in hs])
    elif fam.transform == "unzip":
        obl("unzip-cost", W1 == W,
            [R(f"Wn_{h}") + R(f"Wl_{h}") == R(f"W_{h}") for h in hs] +
            [R(f"{x}_{h}") >= 0 for h in hs for x in ("Wn", "Wl", "W")])
    else:
        s = Q(consts["s_T"][0])
        obl("transpose-cost", W1 == W, base_ih + [R(f"W1_{h}") == R(f"W_{h}") for h in hs])
        obl("transpose-size", S1 + forms["Aout_S"] <= s * (S + forms["Ain_S"]), base_ih + [R(f"S1_{h}") <= s * R(f"S_{h}") for h in hs])
    return out


def vjp_cost_obligation(consts: dict, timeout_ms=TIMEOUT_MS) -> Obligation:
    """vjp-cost from the three per-rule theorems (composition step): with
    W_nl + W_lin = W_J (unzip-cost, save-all), W(lin_T) = W*(lin) ≤ W_max(lin)
    (transpose-cost; W_max prices each linear form at max(price, dual price)),
    and W_max(J f) ≤ c_V W(f) + d_V ‖f‖ (jvp-cost under the max table)."""
    z3 = _z3()
    R = z3.Real
    t = time.perf_counter()
    Wf, Vf, Wn, Wl, Wlmax, WlT, WJmax = (R(n) for n in ("W_f", "V_f", "W_nl", "W_lin", "Wmax_lin",
                                                         "W_linT", "Wmax_J"))
    c, d = (z3.RealVal(str(Fraction(consts[k][0]))) for k in ("c_V", "d_V"))
    hyps = [x >= 0 for x in (Wf, Vf, Wn, Wl, Wlmax, WlT, WJmax)] + [
        WlT <= Wlmax,                  # transpose-cost: W(T(lin)) = W*(lin) ≤ W_max(lin)
        Wn + Wlmax == WJmax,           # unzip-cost (save-all) under the max table
        WJmax <= c * Wf + d * Vf]      # jvp-cost under the max table
    st, cex = prove(Wn + WlT <= c * Wf + d * Vf, hyps, timeout_ms)
    return Obligation("vjp-cost", "composition", st, time.perf_counter() - t,
                      "unzip-cost ∧ transpose-cost ∧ jvp-cost(max table) ⟹ vjp-cost", cex)


# ----------------------------------------------------------------------------
# Local adjoint identity and linearity of every linear form


LINEAR_FORMS = {
    # rule -> a one-form program over the type σ (replaced by a type of size K)
    "TScale": "def f(x: real ; a: σ) -> (; σ) =\n  x *. a\n",
    "TLinAdd": "def f( ; a: σ, b: σ) -> (; σ) =\n  a +. b\n",
    "TDup": "def f( ; a: σ) -> (; σ, σ) =\n  dup(a)\n",
    "TZero": "def f( ; ) -> (; σ) =\n  zero\n",
    "TDropLin": "def f( ; a: σ, b: σ) -> (; σ) =\n  let (;) = drop(a) in\n  (; b)\n",
    "TLinTup": "def f( ; a: σ, b: σ) -> (; (σ, σ)) =\n  (a, b)\n",
    "TLUnpack": "def f( ; p: (σ, σ)) -> (; σ, σ) =\n  let (a, b) = p in\n  (; b, a)\n",
    "TRet": "def f( ; a: σ, b: σ) -> (; σ, σ) =\n  (; b, a)\n",
    "TLetNonLin": "def f(x: real ; a: σ) -> (; σ) =\n  let (y ;) = sin(x) in\n  y *. a\n",
    "TCall": "def g(x: real ; a: σ, b: σ) -> (; σ) =\n  let (; c) = a +. b in\n  x *. c\n"
             "def f(x: real ; a: σ, b: σ) -> (; σ) =\n  g(x ; b, a)\n",
}


def _z3_inputs(dom, params, prefix):
    from linear_a.semantics.syntax import RealType
    z3 = _z3()
    vals, flat = [], []

    def mk(t, name):
        if isinstance(t, RealType):
            v = z3.Real(name)
            flat.append(v)
            return v
        return tuple(mk(s, f"{name}_{i}") for i, s in enumerate(t.items))
    for p in params:
        vals.append(mk(p.ty, f"{prefix}{p.name}"))
    return vals, flat


def _flat(v):
    if type(v) is tuple:
        out = []
        for x in v:
            out.extend(_flat(x))
        return out
    return [v]


def local_adjoint(rule: str, K: int = 1, timeout_ms=TIMEOUT_MS) -> list[Obligation]:
    """⟨ÿ, L ẋ⟩ = ⟨Lᵀ ÿ, ẋ⟩ (transpose-adjoint) and L(a·u + b·v) = a·L(u) + b·L(v)
    (typing-sound) for the one-form program of ``rule``, over the reals (z3)."""
    from linear_a.semantics.evaluate import evaluate
    from linear_a.semantics.domains import get_domain
    from linear_a.transforms.transpose import transpose_program
    z3 = _z3()
    t0 = time.perf_counter()
    text = LINEAR_FORMS[rule].replace("σ", T(K))
    prog = parse_program(text, f"<{rule}>")
    out = []
    try:
        tp = transpose_program(prog, ["f"])
    except Exception as e:
        return [Obligation("transpose-adjoint", f"{rule}[K={K}]", "refuted", time.perf_counter() - t0,
                           f"transpose failed: {e}", {"program": text})]
    dom = get_domain("z3")
    d, dT = prog["f"], tp["f_T"]
    xs, _ = _z3_inputs(dom, d.nl_params, "x_")
    us, uflat = _z3_inputs(dom, d.lin_params, "u_")
    ys, yflat = _z3_inputs(dom, dT.lin_params, "y_")
    r = evaluate(prog, "f", (xs, us), dom)
    rT = evaluate(tp, "f_T", (xs, ys), dom)
    lhs = z3.Sum([a * b for a, b in zip(yflat, _flat(r.lin))]) if yflat else z3.RealVal(0)
    rhs = z3.Sum([a * b for a, b in zip(_flat(rT.lin), uflat)]) if uflat else z3.RealVal(0)
    st, cex = prove(lhs == rhs, [], timeout_ms)
    out.append(Obligation("transpose-adjoint", f"{rule}[K={K}]", st, time.perf_counter() - t0,
                          "⟨ÿ, L ẋ⟩ = ⟨Lᵀ ÿ, ẋ⟩", cex))
    # linearity of the form itself
    t1 = time.perf_counter()
    vs, vflat = _z3_inputs(dom, d.lin_params, "v_")
    a = z3.Real("alpha")
    mix = [_combine(a, u, v) for u, v in zip(us, vs)]
    ru = evaluate(prog, "f", (xs, us), dom).lin
    rv = evaluate(prog, "f", (xs, vs), dom).lin
    rm = evaluate(prog, "f", (xs, mix), dom).lin
    claim = z3.And([m == a * p + q for m, p, q in zip(_flat(rm), _flat(ru), _flat(rv))] or [z3.BoolVal(True)])
    st, cex = prove(claim, [], timeout_ms)
    out.append(Obligation("typing-sound", f"{rule}[K={K}]", st, time.perf_counter() - t1,
                          "L(x ; a·u + v) = a·L(x ; u) + L(x ; v)", cex))
    return out


LOOP_STEPS = {
    # a linear step reading one element of the stack per iteration: K = 1 a scaling,
    # K = 2 a 2×2 matrix (its four entries the element), so iterations do not commute
    1: ("real", "def g(w: real ; l: real) -> (; real) =\n  w *. l\n"),
    2: ("(real, real, real, real)",
        "def g(w: (real, real, real, real) ; l: (real, real)) -> (; (real, real)) =\n"
        "  let (a, b, c, e) = w in\n  let (l1, l2) = l in\n"
        "  let (; l1a, l1b) = dup(l1) in\n  let (; l2a, l2b) = dup(l2) in\n"
        "  let (; p) = a *. l1a in\n  let (; q) = b *. l2a in\n"
        "  let (; r) = c *. l1b in\n  let (; s) = e *. l2b in\n"
        "  let (; u) = p +. q in\n  let (; v) = r +. s in\n  (u, v)\n"),
}
LOOP_NS = (0, 1, 2, 3)


def loop_adjoint(K: int = 1, timeout_ms=TIMEOUT_MS, invariant: bool = False) -> list[Obligation]:
    """TLoop's adjoint identity ⟨ÿ, L ẋ⟩ = ⟨Lᵀ ÿ, ẋ⟩ and the loop's linearity,
    by induction on N.  L = ``loop N g(; ẋ) over (ws)``, g a linear step whose
    coefficients are the element of ws (symbolic, z3 reals), Lᵀ what TLoop
    makes of it.  Base and steps: z3 proves the identity for N = 0, 1, 2, 3 on
    the real transformation's output run by the evaluator (N = 2, 3 fix the
    order: the K = 2 steps are matrices that do not commute, so a transposed
    loop running forwards fails there); Lᵀ is N-parametric (its text at every N
    equal with the count blanked), so for N + 1 it runs the transposed step of
    iteration N first, then Lᵀ of the first N: ⟨ÿ, B A ẋ⟩ = ⟨Bᵀ ÿ, A ẋ⟩ =
    ⟨Aᵀ Bᵀ ÿ, ẋ⟩, the induction step.

    ``invariant=True`` (rule TLoopInv): the step also takes a non-linear carry
    k (a symbolic real) that it returns unchanged and scales the first linear
    component by, as ULoopInv's linear loops do with a loop's parameters; Lᵀ
    carries k through the reversed loop."""
    from linear_a.semantics.evaluate import evaluate
    from linear_a.semantics.domains import get_domain
    from linear_a.semantics.printer import show
    from linear_a.transforms.transpose import transpose_program
    from .loops import blank_counts
    z3 = _z3()
    t0 = time.perf_counter()
    elem, step = LOOP_STEPS[K]
    lin = T(K) if K == 1 else "(real, real)"
    label = f"TLoopInv[K={K}]" if invariant else f"TLoop[K={K}]"
    if invariant:
        first = ("  let (; m) = k *. e in\n  (k ; m)\n" if K == 1 else
                 "  let (e1, e2) = e in\n  let (; m) = k *. e1 in\n  let (; o) = (m, e2) in\n  (k ; o)\n")
        step += (f"def gk(k: real, w: {elem} ; l: {lin}) -> (real ; {lin}) =\n"
                 f"  let (; e) = g(w ; l) in\n" + first)
    dom = get_domain("z3")
    fails, lin_fails, texts = [], [], set()
    for N in LOOP_NS:
        if invariant:
            text = step + (f"def f(kk: real, ws: [{elem}; {N}] ; d: {lin}) -> (; {lin}) =\n"
                           f"  let (k1 ; e) = loop {N} gk(kk ; d) over (ws) in\n"
                           f"  let (;) = drop(k1) in\n  (; e)\n")
        else:
            text = step + (f"def f(ws: [{elem}; {N}] ; d: {lin}) -> (; {lin}) =\n"
                           f"  let (; e) = loop {N} g(; d) over (ws) in\n  (; e)\n")
        prog = parse_program(text, f"<{label} N={N}>")
        try:
            tp = transpose_program(prog, ["f"])
        except Exception as e:
            return [Obligation("transpose-adjoint", label, "refuted", time.perf_counter() - t0,
                               f"transpose failed at N = {N}: {e}", {"program": text})]
        texts.add(blank_counts(show(Program([tp["f_T"]]))))
        d, dT = prog["f"], tp["f_T"]
        xs, _ = _z3_inputs(dom, d.nl_params, "x_")
        us, uflat = _z3_inputs(dom, d.lin_params, "u_")
        vs, _ = _z3_inputs(dom, d.lin_params, "v_")
        ys, yflat = _z3_inputs(dom, dT.lin_params, "y_")
        r = evaluate(prog, "f", (xs, us), dom)
        rT = evaluate(tp, "f_T", (xs, ys), dom)
        lhs = z3.Sum([a * b for a, b in zip(yflat, _flat(r.lin))])
        rhs = z3.Sum([a * b for a, b in zip(_flat(rT.lin), uflat)])
        st, cex = prove(lhs == rhs, [], timeout_ms)
        if st != "proved":
            fails.append((N, st, cex, text))
        a = z3.Real("alpha")
        rv = evaluate(prog, "f", (xs, vs), dom).lin
        rm = evaluate(prog, "f", (xs, [_combine(a, u, v) for u, v in zip(us, vs)]), dom).lin
        claim = z3.And([m == a * p + q for m, p, q in zip(_flat(rm), _flat(r.lin), _flat(rv))])
        st, cex = prove(claim, [], timeout_ms)
        if st != "proved":
            lin_fails.append((N, st, cex, text))
    secs = time.perf_counter() - t0
    out = []
    for theorem, bad, what in (("transpose-adjoint", fails, "⟨ÿ, L ẋ⟩ = ⟨Lᵀ ÿ, ẋ⟩"),
                               ("typing-sound", lin_fails, "L(a·u + v) = a·L(u) + L(v)")):
        if bad:
            N, st, cex, text = bad[0]
            out.append(Obligation(theorem, label, st, secs,
                                  f"{what} fails for the loop at N = {N}",
                                  {"program": text, "model": cex}))
        elif theorem == "transpose-adjoint" and len(texts) != 1:
            out.append(Obligation(theorem, label, "unknown", secs,
                                  "Lᵀ is not N-parametric (its text differs beyond the loop count): "
                                  "no induction step"))
        else:
            out.append(Obligation(theorem, label, "proved", secs,
                                  f"{what} for N = {', '.join(map(str, LOOP_NS))} (z3), and for every N "
                                  f"by induction (Lᵀ N-parametric, the last iteration transposed first)"))
    return out


def _combine(a, u, v):
    if type(u) is tuple:
        return tuple(_combine(a, x, y) for x, y in zip(u, v))
    return a * u + v


# ----------------------------------------------------------------------------
# Constants


def max_costs(costs: Costs) -> Costs:
    """Each linear form priced at the larger of its price and its dual's."""
    return Costs(costs.lit, dict(costs.prim), zero=max(costs.zero, costs.drop),
                 drop=max(costs.zero, costs.drop), add=max(costs.add, costs.dup),
                 dup=max(costs.add, costs.dup), scale=costs.scale)


def _jvp_cost_constants(costs: Costs) -> tuple:
    from linear_a.transforms.jvp import jvp_program
    ratios = {}
    for op, p in PRIMITIVES.items():
        args = names("a", p.arity)
        prog = parse_program(f"def f({', '.join(a + ': real' for a in args)}) -> (real ;) =\n"
                             f"  {call_text(op, args)}\n", f"<{op}>")
        out = jvp_program(prog)
        ratios[op] = Fraction(measure.work(out, "f_jvp", costs)) / costs.prim_cost(op)
    # a literal's tangent is the symbolic zero (JLit); a `zero` is made only where a
    # tuple, call or return reads it (JZero): at most lit + zero for a literal read once
    ratios["literal"] = Fraction(costs.lit + costs.zero) / costs.lit
    worst = max(ratios, key=ratios.get)
    c = ratios[worst]
    d = max(costs.dup, costs.drop, costs.zero)
    return c, d, worst, ratios


def _ratio_bound(fams, costs) -> tuple:
    """The least s with S1 ≤ s·S for the glue of every family (holes at 0):
    max over families of the ratio at the base point and of the slopes."""
    z3 = _z3()
    best, where = Fraction(0), ""
    for fam in fams:
        forms, pvars = affine_forms(fam, costs)
        zero_holes = [(z3.Real(f"{x}_{h}"), z3.RealVal(0)) for h in fam.holes
                      for x in ("S", "S1", "Sn", "Sl")]
        S, S1 = forms["S"] + forms["Ain_S"], forms["S1"] + forms["Aout_S"]
        S = z3.simplify(z3.substitute(S, *zero_holes)) if zero_holes else z3.simplify(S)
        S1 = z3.simplify(z3.substitute(S1, *zero_holes)) if zero_holes else z3.simplify(S1)
        at = [(v, z3.RealVal(fam.base.get(p, 1))) for p, v in pvars.items()]
        cands = []
        s0 = _num(z3.substitute(S, *at) if at else S)
        s10 = _num(z3.substitute(S1, *at) if at else S1)
        if s0 > 0:
            cands.append((s10 / s0, f"{fam.label} at {dict((p, fam.base.get(p, 1)) for p in pvars) or 'its only instance'}"))
        for p, v in pvars.items():
            slope = lambda E: _num(z3.substitute(E, *[(w, z3.RealVal(fam.base.get(q, 1) + (1 if q == p else 0))) for q, w in pvars.items()])) - \
                _num(z3.substitute(E, *at))
            a, b = slope(S1), slope(S)
            if b > 0:
                cands.append((a / b, f"{fam.label} as {p} → ∞"))
        for r, w in cands:
            if r > best:
                best, where = r, w
    return best, where


def _num(e) -> Fraction:
    z3 = _z3()
    e = z3.simplify(e)
    return Fraction(e.numerator_as_long(), e.denominator_as_long())


def derive_constants(costs: Costs | None = None) -> dict:
    """{name: (value, how it was derived)} for the theorems' constants."""
    costs = costs or DEFAULT_COSTS
    c, d, worst, ratios = _jvp_cost_constants(costs)
    shown = ", ".join(f"{k}: {v}" for k, v in sorted(ratios.items(), key=lambda kv: -kv[1]))
    out = {
        "c_J": (c, f"max over primitives of W(JVP of op)/cost(op) (and (lit+zero)/lit); "
                   f"attained by {worst}.  Ratios: {shown}"),
        "d_J": (d, f"max(dup, drop, zero) = max({costs.dup}, {costs.drop}, {costs.zero}): the per-real "
                   f"price of the glue JVP adds at a variable occurrence (dup for each shared read, "
                   f"drop of a tangent, zero for a constant read by a tuple, call or return: JZero)"),
    }
    s, where = _ratio_bound([f for f in families() if f.transform == "jvp"], costs)
    out["s_J"] = (s, f"max output/input size ratio of a JVP rule instance; attained by {where}")
    s, where = _ratio_bound([f for f in families() if f.transform == "transpose"], costs)
    out["s_T"] = (s, f"max output/input size ratio of a transpose rule instance; attained by {where}")
    mc = max_costs(costs)
    cv, dv, worst_v, _ = _jvp_cost_constants(mc)
    out["c_V"] = (cv, f"c_J under the table pricing each linear form at max(price, dual price) "
                      f"(transposition swaps +.↔dup, zero↔drop); attained by {worst_v}")
    out["d_V"] = (dv, "d_J under the same max table")
    return out


_CONSTANTS: dict = {}


def constants(costs: Costs | None = None) -> dict:
    """The theorems' constants for a cost table, each with its derivation:
    ``{name: (value, explanation)}``, derived once per table by :func:`derive_constants`."""
    costs = costs or DEFAULT_COSTS
    key = repr(costs)
    if key not in _CONSTANTS:
        _CONSTANTS[key] = derive_constants(costs)
    return _CONSTANTS[key]


def value(name: str, costs: Costs | None = None):
    return constants(costs)[name][0]


def run_all(costs: Costs | None = None, timeout_ms=TIMEOUT_MS, progress=None) -> list[Obligation]:
    """Every per-rule obligation: cost/size inductive steps of every family,
    the vjp composition step, local adjoint identities and linearity."""
    costs = costs or DEFAULT_COSTS
    consts = constants(costs)
    res = []
    for fam in families():
        res.extend(obligations_for(fam, consts, costs, timeout_ms))
        if progress:
            progress()
    res.append(vjp_cost_obligation(consts, timeout_ms))
    for rule in LINEAR_FORMS:
        for K in (1, 2):
            res.extend(local_adjoint(rule, K, timeout_ms))
        if progress:
            progress()
    for K in LOOP_STEPS:
        res.extend(loop_adjoint(K, timeout_ms))
        res.extend(loop_adjoint(K, timeout_ms, invariant=True))
    if progress:
        progress()
    return res


def count_units() -> int:
    return len(families()) + len(LINEAR_FORMS) + 1
