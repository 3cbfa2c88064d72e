"""A fast float path: Linear A definitions compiled once to Python functions.

The reference interpreter (``linear_a.semantics.evaluate``) walks the syntax tree and
tracks work and memory for every node; this module turns each definition into
straight-line Python source once, ``exec``s it, and then runs it at CPython's
own speed.  It computes values only (W, M and |e| are properties of the
program, measured by the interpreter).

Contract.
* ``compile_program(prog)`` typechecks ``prog`` (cached) and returns a
  :class:`CompiledProgram`; ``cp.run(fn, args)`` takes the same arguments as
  ``evaluate`` (``{param: value}`` or ``(nl, lin)``) and returns ``(nl, lin)``.
* **Exact agreement** with ``evaluate(prog, fn, args, "float")``: the same
  float operations in the same order -- ``+ - * /`` and ``neg`` inline
  (Python's float operators are what the primitive table's float
  implementations apply), every other primitive the table's own float
  function, ``*.``/``+.``/``zero`` on tuples the interpreter's
  ``vscale``/``vadd``/``vzero`` -- so results are bit-identical (tested).
* Errors too: a primitive with a domain check is called through a guard; if
  a guard fails or Python raises (``log 0``, ``x / 0``), the call is re-run
  on the reference interpreter, which raises the located
  :class:`~linear_a.semantics.errors.DomainError` it always raises.
* Linear time: one pass per definition, no recursion on chain length.
  CPython compiles one very long function slowly, so a long body is cut
  into chunks of ``CHUNK`` statements, each a function; a variable used
  outside the chunk that binds it lives in a shared list ``E`` instead of a
  local (so no boundary passes more than that list).

Cost (measured in ``benchmarks/bench_pipeline.py``): generating and
compiling costs tens of µs per ``let`` (CPython's ``compile`` dominates), a
run then costs well under a µs per ``let`` -- the path pays off when a program
is run more than a handful of times.
"""
from __future__ import annotations

from linear_a.semantics.domains import FLOAT
from linear_a.semantics.errors import LinearAError, UsageError
from linear_a.semantics.evaluate import _typing_info, bind_args, evaluate, vadd, vscale, vzero
from linear_a.semantics.primitives import PRIMITIVES
from linear_a.semantics.syntax import (Loop, Block, Call, Drop, Dup, LAdd, Let, Lit, LTup, LUnpack, NTup,
                              NUnpack, Prim, Program, RealType, Ret, Scale, Zero, leaf_uses)

CHUNK = 2000          # statements per generated Python function
_INLINE = {"+": "{0} + {1}", "-": "{0} - {1}", "*": "{0} * {1}", "/": "{0} / {1}", "neg": "-{0}"}
_FAILURES = (ValueError, ZeroDivisionError, OverflowError, TypeError, ArithmeticError)


class _Fallback(Exception):
    """A guarded primitive is outside its domain: re-run on the interpreter."""


def _guard(p):
    impl, check = p.impls["float"], p.check

    def guarded(*args):
        if check(args):
            raise _Fallback
        return impl(*args)
    return guarded


def _flatten(body) -> tuple[list, object]:
    """The body as one list of bindings with leaf right-hand sides, and its tail
    (binders are distinct in a definition, so nested chains only change scope)."""
    out = []
    stack = [(body, None)]            # (expression, the Let it is the rhs of)
    tail = None
    while stack:
        e, owner = stack.pop()
        if type(e) is Block:
            # process binds in order, then the tail bound to owner
            stack.append((e.tail, owner))
            for b in reversed(e.binds):
                if type(b) is Let and type(b.rhs) is Block:
                    stack.append((b.rhs, b))
                else:
                    stack.append((b, "bind"))
        elif owner == "bind":
            out.append(e)
        elif owner is None:
            tail = e
        else:
            out.append(Let(owner.nl, owner.lin, e))
    return out, tail


def _run_loop(step, n, carry, arrays, lin, reverse):
    """A loop at run time: the compiled step, N times (semantics/loops.py)."""
    nc, nlin = len(carry), len(lin)
    carry, lin = list(carry), list(lin)
    stacks = None
    for k in (range(n - 1, -1, -1) if reverse else range(n)):
        out = step(*carry, *(a[k] for a in arrays), *lin)
        nl = out[:len(out) - nlin]
        carry, lin = list(nl[:nc]), list(out[len(out) - nlin:])
        if stacks is None:
            stacks = [[None] * n for _ in nl[nc:]]
        for s, x in zip(stacks, nl[nc:]):
            s[k] = x
    if stacks is None:
        stacks = [[] for _ in range(step.n_out - nc)]
    return (*carry, *(tuple(s) for s in stacks), *lin)


class _Gen:
    """Python source for one definition."""

    def __init__(self, d, env, consts, fname):
        self.d, self.env, self.consts, self.fname = d, env, consts, fname
        self.names: dict[str, str] = {}

    def v(self, x: str) -> str:
        n = self.names.get(x)
        if n is None:
            n = self.names[x] = f"v{len(self.names)}"
        return n

    def const(self, value) -> str:
        key = ("c", repr(value))
        n = self.consts.get(key)
        if n is None:
            n = self.consts[key] = (f"_k{len(self.consts)}", value)
        return n[0]

    def is_real(self, x: str) -> bool:
        return isinstance(self.env[x][1], RealType)

    def leaf(self, e) -> str:
        """A Python expression whose value is the tuple/value of e's outputs."""
        t, v = type(e), self.v
        if t is Prim:
            p = PRIMITIVES[e.op]
            args = [v(a) for a in e.args]
            if e.op in _INLINE:
                return _INLINE[e.op].format(*args)
            fn = self.const(("guard" if p.check else "prim", e.op))
            return f"{fn}({', '.join(args)})"
        if t is Lit:
            f = float(e.text)
            return repr(f) if f == f and abs(f) != float("inf") else self.const(("lit", e.text))
        if t is Scale:
            if self.is_real(e.l):
                return f"{v(e.x)} * {v(e.l)}"
            return f"_vscale({v(e.x)}, {v(e.l)})"
        if t is LAdd:
            if self.is_real(e.a):
                return f"{v(e.a)} + {v(e.b)}"
            return f"_vadd({v(e.a)}, {v(e.b)})"
        if t is Zero:
            return self.const(("zero", e.ty))
        if t is Dup:
            return f"({v(e.l)}, {v(e.l)})"
        if t is NTup or t is LTup:
            return "(" + "".join(v(a) + ", " for a in e.args) + ")"
        if t is Ret:
            return "(" + "".join(v(a) + ", " for a in e.nl + e.lin) + ")"
        if t is Call:
            return f"{self.fn_of(e.fn)}({', '.join(v(a) for a in e.nl + e.lin)})"
        if t is Loop:
            tup = lambda xs: "(" + "".join(v(a) + ", " for a in xs) + ")"
            return (f"_loop({self.fn_of(e.fn)}, {e.n}, {tup(e.nl)}, {tup(e.over)}, {tup(e.lin)}, "
                    f"{e.reverse})")
        raise LinearAError(f"cannot compile {t.__name__}", e.pos)

    fn_of = None      # set by the program compiler: callee name -> Python function name

    def stmt(self, b) -> str | None:
        t = type(b)
        if t is NUnpack or t is LUnpack:
            if not b.names:
                return None
            return "".join(self.v(n) + ", " for n in b.names) + "= " + self.v(b.src)
        rhs, outs = b.rhs, b.nl + b.lin
        if type(rhs) is Drop:
            return None
        multi = type(rhs) in (Dup, Ret, Call, Loop)
        if not outs:
            return None if not multi else f"{self.leaf(rhs)}"
        if multi:
            return "".join(self.v(n) + ", " for n in outs) + "= " + self.leaf(rhs)
        return f"{self.v(outs[0])} = {self.leaf(rhs)}"

    def ret_expr(self, tail) -> str:
        if type(tail) is Ret:
            return "(" + "".join(self.v(a) + ", " for a in tail.nl + tail.lin) + ")"
        if type(tail) in (Dup, Call, Loop):
            return self.leaf(tail)
        if type(tail) is Drop:
            return "()"
        return f"({self.leaf(tail)},)"

    def source(self) -> list[str]:
        """The Python source, as pieces compiled one at a time (CPython's compiler
        needs kilobytes per line; compiling per chunk keeps that bounded)."""
        d = self.d
        binds, tail = _flatten(d.body)
        params = [self.v(p.name) for p in d.params]
        if len(binds) <= CHUNK:
            ret = self.ret_expr(tail)
            lines = [f"def {self.fname}({', '.join(params)}):"]
            lines += ["    " + s for s in map(self.stmt, binds) if s]
            lines.append(f"    return {ret}")
            return ["\n".join(lines) + "\n"]
        # chunks: a variable used outside the chunk that binds it lives in the
        # shared list E (slot k, written ``E[k]``); all others are locals.
        chunk_of = {p.name: -1 for p in d.params}
        slots: dict[str, int] = {}

        def crossing(x, k):
            if chunk_of.get(x, k) != k and x not in slots:
                slots[x] = len(slots)
        for i, b in enumerate(binds):
            k = i // CHUNK
            if type(b) is Let:
                uses, outs = leaf_uses(b.rhs), b.nl + b.lin
            else:
                uses, outs = (b.src,), b.names
            for x in uses:
                crossing(x, k)
            for x in outs:
                chunk_of[x] = k
        last = (len(binds) - 1) // CHUNK
        for x in leaf_uses(tail):
            crossing(x, last)
        for x, k in slots.items():
            self.names[x] = f"E[{k}]"
        ret = self.ret_expr(tail)          # again, now that slots are known
        out = []
        for k in range(last + 1):
            lines = [f"def {self.fname}_{k}(E):"]
            lines += ["    " + s for s in map(self.stmt, binds[k * CHUNK:(k + 1) * CHUNK]) if s]
            lines.append(f"    return {ret}" if k == last else "    return None")
            out.append("\n".join(lines) + "\n")
        main = [f"def {self.fname}({', '.join(params)}):", f"    E = [None] * {len(slots)}"]
        main += [f"    E[{slots[p.name]}] = {params[i]}" for i, p in enumerate(d.params)
                 if p.name in slots]
        main += [f"    {self.fname}_{k}(E)" for k in range(last)]
        main.append(f"    return {self.fname}_{last}(E)")
        return out + ["\n".join(main) + "\n"]


class CompiledProgram:
    """Every definition of a program as a Python function (flat results: the
    non-linear ones, then the linear ones)."""

    def __init__(self, prog: Program):
        try:
            _, envs = _typing_info(prog)
        except LinearAError as e:
            raise e.located(prog.file)
        self.prog = prog
        consts: dict = {}
        fnames = {d.name: f"_f{i}" for i, d in enumerate(prog.defs)}
        parts = []
        for d in prog.defs:
            g = _Gen(d, envs[d.name], consts, fnames[d.name])
            g.fn_of = fnames.__getitem__
            parts += g.source()
        ns = {"_vadd": vadd, "_vscale": vscale, "_loop": _run_loop}
        for key, (name, value) in consts.items():
            kind, what = value
            if kind == "prim":
                ns[name] = PRIMITIVES[what].impls["float"]
            elif kind == "guard":
                ns[name] = _guard(PRIMITIVES[what])
            elif kind == "zero":
                ns[name] = vzero(what, 0.0)
            else:
                ns[name] = float(what)
        where = f"<linear-a {prog.file or 'program'}>"
        for piece in parts:
            exec(compile(piece, where, "exec"), ns)
        self.pieces = len(parts)
        self.functions = {n: ns[f] for n, f in fnames.items()}
        for d in prog.defs:
            self.functions[d.name].n_out = len(d.nl_out)     # a loop of 0 steps needs it
        self.defs = {d.name: d for d in prog.defs}

    def run(self, fn: str, args) -> tuple[tuple, tuple]:
        """``(nl, lin)`` of ``fn`` at ``args``, exactly as ``evaluate`` computes them."""
        d = self.defs.get(fn)
        if d is None:
            raise UsageError(f"no function `{fn}` in the program "
                             f"(defined: {', '.join(self.defs) or 'none'})")
        nl_args, lin_args = bind_args(d, args, FLOAT)
        try:
            out = self.functions[fn](*nl_args, *lin_args)
        except (_Fallback,) + _FAILURES:
            r = evaluate(self.prog, fn, args)        # raises the located domain error
            return r.nl, r.lin
        k = len(d.nl_out)
        return tuple(out[:k]), tuple(out[k:])


def compile_program(prog: Program) -> CompiledProgram:
    """Compile every definition of ``prog`` (well typed) to Python, once."""
    return CompiledProgram(prog)
