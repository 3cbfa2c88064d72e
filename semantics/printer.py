"""The printer: the only way programs are shown to people (SPEC §2.4).

Its output parses back to the same program (``parse(show(p))`` prints as
``show(p)``).  Let-chains are printed by a loop, one ``let`` per line; a
right-hand side that is itself a chain is indented under its ``let``.
"""
from __future__ import annotations

from .primitives import PRIMITIVES
from .syntax import (Block, Call, Def, Drop, Dup, LAdd, Let, Lit, Loop, LTup, LUnpack, NTup,
                     NUnpack, Prim, Program, Ret, Scale, Type, Zero)


def show_type(t: Type) -> str:
    return repr(t)


def _group(nl, lin) -> str:
    a, b = ", ".join(nl), ", ".join(lin)
    if a and b:
        return f"({a} ; {b})"
    if a:
        return f"({a} ;)"
    if b:
        return f"(; {b})"
    return "(;)"


def _tuple(args) -> str:
    if len(args) == 1:
        return f"({args[0]},)"
    return "(" + ", ".join(args) + ")"


def show_leaf(e) -> str:
    t = type(e)
    if t is Ret:
        return _group(e.nl, e.lin)
    if t is Prim:
        p = PRIMITIVES[e.op]
        if p.infix and len(e.args) == 2:
            return f"{e.args[0]} {p.infix} {e.args[1]}"
        return f"{e.op}({', '.join(e.args)})"
    if t is Lit:
        return e.text
    if t is Zero:
        return "zero" if e.ty is None else f"zero : {e.ty!r}"
    if t is LAdd:
        return f"{e.a} +. {e.b}"
    if t is Scale:
        return f"{e.x} *. {e.l}"
    if t is Dup:
        return f"dup({e.l})"
    if t is Drop:
        return f"drop({e.v})"
    if t is LTup and not e.args:
        return "zero : ()"       # the linear unit (`()` parses as the non-linear one)
    if t is NTup or t is LTup:
        return _tuple(e.args)
    if t is Call:
        if e.lin:
            return f"{e.fn}({', '.join(e.nl)} ; {', '.join(e.lin)})"
        return f"{e.fn}({', '.join(e.nl)})"
    if t is Loop:
        head = f"loop reverse {e.n}" if e.reverse else f"loop {e.n}"
        state = _group(e.nl, e.lin)[1:-1] if e.lin else ", ".join(e.nl)
        over = f" over ({', '.join(e.over)})" if e.over else ""
        return f"{head} {e.fn}({state}){over}"
    raise TypeError(f"not a leaf: {e!r}")


def _pattern(b: Let) -> str:
    def names(ns, tys):
        if tys is None:
            return list(ns)
        return [n if t is None else f"{n}: {t!r}" for n, t in zip(ns, tys)]
    return _group(names(b.nl, b.nl_ty), names(b.lin, b.lin_ty))


def show_bind_head(b) -> str:
    """``let (x ; y) =`` (or a whole unpack line without ``in``)."""
    if type(b) is Let:
        return f"let {_pattern(b)} ="
    return f"let {_tuple(b.names) if b.names else '()'} = {b.src}"


def show_expr(e, indent: int = 0) -> str:
    lines: list[str] = []
    _emit(e, indent, lines)
    return "\n".join(lines)


def _emit(e, indent: int, lines: list[str]):
    pad = " " * indent
    if type(e) is not Block:
        lines.append(pad + show_leaf(e))
        return
    for b in e.binds:
        if type(b) is Let:
            rhs = b.rhs
            if type(rhs) is Block:
                lines.append(f"{pad}let {_pattern(b)} =")
                _emit(rhs, indent + 2, lines)
                lines.append(pad + "in")
            else:
                lines.append(f"{pad}let {_pattern(b)} = {show_leaf(rhs)} in")
        else:
            lines.append(f"{pad}{show_bind_head(b)} in")
    lines.append(pad + show_leaf(e.tail))


def show_def_head(d: Def) -> str:
    ps = lambda params: ", ".join(f"{p.name}: {p.ty!r}" for p in params)
    nl, lin = ps(d.nl_params), ps(d.lin_params)
    params = (f"{nl} ; {lin}" if nl else f"; {lin}") if lin else nl
    outs = _group([repr(t) for t in d.nl_out], [repr(t) for t in d.lin_out])
    return f"def {d.name}({params}) -> {outs} ="


def show_def(d: Def) -> str:
    return show_def_head(d) + "\n" + show_expr(d.body, 2)


def show_program(p: Program) -> str:
    return "\n\n".join(show_def(d) for d in p.defs) + "\n"


def show(x) -> str:
    """Print a Program, Def, expression or type."""
    if isinstance(x, Program):
        return show_program(x)
    if isinstance(x, Def):
        return show_def(x)
    if isinstance(x, Type):
        return show_type(x)
    return show_expr(x)
