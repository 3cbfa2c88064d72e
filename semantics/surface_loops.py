"""``for _ in range(N)`` in a ``@linear_a`` function becomes a Linear A loop.

Tracing runs Python, so a Python loop is normally unrolled.  For a function
marked with ``@linear_a`` we first rewrite its source (with ``ast``): each
statement ::

    for i in range(N):          # N: any expression giving a Python int
        body

whose body has no ``break``/``continue``/``return``/``yield`` and no ``else``
becomes ::

    def __la_body_K(c1, …, ck, i):
        body
        return (c1, …, ck)
    (c1, …, ck) = __la_for(N, __la_body_K, (c1, …, ck), uses_i)

The *state* c̄ is every local variable the body reads or assigns that is
bound before the loop (parameters and earlier assignments): the variables it
reassigns are carried around, the ones it only reads are carried unchanged
(a step function sees only its parameters).  Variables first bound inside the
body are the step's own.  Nested loops are rewritten the same way.

At trace time ``__la_for`` traces the body *once*, on fresh tracers, into a
step function ``f_step`` (its own definition, placed before its caller) and
emits ``let (c̄' ;) = loop N f_step(c̄)`` in the caller.  When the body reads
``i``, a counter is carried in the state (starting at the literal 0, the step
adds 1), so ``i`` is a non-linear real inside the step.  On plain numbers
(the function called from Python, or a loop whose state holds no traced
value) ``__la_for`` simply runs the Python loop; a state holding anything
but reals and tuples of reals is unrolled as before.

What is refused, with one TraceError each: ``range(x)`` on a traced value
(the iteration count must be a Python int), a body that changes the shape
of the state (a real becoming a tuple), and — as for straight-line code —
``if``/``while`` on a traced value (see surface._STRAIGHT).
"""
from __future__ import annotations

import ast
import inspect
import numbers
import sys
import textwrap

from .errors import Pos
from .syntax import Block, Def, Let, Lit, Loop, Param, Prim, Ret, TupleType, REAL

LOOP_HINT = ("supported: `for i in range(N)` with N a Python int (traced once into a Linear A "
             "loop) and straight-line code; a loop count, `if` or `while` cannot depend on a "
             "traced value")


# ----------------------------------------------------------------------------
# The source rewrite


def with_loops(fn):
    """``fn`` with its ``for … in range(…)`` loops rewritten (see the module
    docstring), or ``fn`` itself when it has none or its source is unavailable."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return fn
    try:
        src = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(src)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return fn
    if not tree.body or not isinstance(tree.body[0], (ast.FunctionDef,)):
        return fn
    fdef = tree.body[0]
    if not any(_is_range_for(n) for n in ast.walk(fdef)):
        return fn
    fdef.decorator_list = []
    rw = _Rewriter()
    params = [a.arg for a in fdef.args.posonlyargs + fdef.args.args]
    fdef.body = rw.block(fdef.body, params, fdef.body)
    if not rw.count:
        return fn
    ast.increment_lineno(tree, code.co_firstlineno - 1)
    ast.fix_missing_locations(tree)
    g = dict(fn.__globals__)
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            g[name] = cell.cell_contents
        except ValueError:
            return fn
    g["__la_for"] = la_for
    try:
        exec(compile(tree, code.co_filename, "exec"), g)
    except SyntaxError:
        return fn
    new = g[fdef.name]
    new.__defaults__ = fn.__defaults__
    return new


def _is_range_for(n) -> bool:
    return (isinstance(n, ast.For) and isinstance(n.target, ast.Name) and not n.orelse
            and isinstance(n.iter, ast.Call) and isinstance(n.iter.func, ast.Name)
            and n.iter.func.id == "range" and len(n.iter.args) == 1 and not n.iter.keywords)


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _walk_scope(nodes):
    """The nodes of ``nodes`` without descending into nested scopes."""
    stack = list(nodes)
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, _SCOPES):
            continue
        stack.extend(ast.iter_child_nodes(n))


def _escapes(body) -> bool:
    """A statement that leaves the loop body other than by finishing it."""
    for n in _walk_scope(body):
        if isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom, ast.Global, ast.Nonlocal)):
            return True
        if isinstance(n, (ast.Break, ast.Continue)) and not _inside_inner_loop(n, body):
            return True
    return False


def _inside_inner_loop(node, body) -> bool:
    for n in _walk_scope(body):
        if isinstance(n, (ast.For, ast.While)) and any(m is node for m in _walk_scope(n.body)):
            return True
    return False


class _Rewriter:
    def __init__(self):
        self.count = 0

    def block(self, stmts, scope_params, scope_stmts):
        out = []
        for s in stmts:
            if _is_range_for(s) and not _escapes(s.body):
                out.extend(self.loop(s, scope_params, scope_stmts))
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(s, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt) \
                        and not isinstance(s, _SCOPES):
                    setattr(s, field, self.block(inner, scope_params, scope_stmts))
            out.append(s)
        return out

    def loop(self, s: ast.For, scope_params, scope_stmts):
        before = set(scope_params)
        for n in _walk_scope(scope_stmts):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and \
                    getattr(n, "lineno", 10 ** 9) < s.lineno:
                before.add(n.id)
        target = s.target.id
        seen, carry, uses_i = set(), [], False
        for n in _walk_scope(s.body):
            if isinstance(n, ast.Name):
                if n.id == target:
                    uses_i = uses_i or isinstance(n.ctx, ast.Load)
                elif n.id in before and n.id not in seen:
                    seen.add(n.id)
                    carry.append(n.id)
        carry.sort(key=lambda v: _first_line(s.body, v))
        k = self.count
        self.count += 1
        body_name = f"__la_body_{k}"
        body = self.block(s.body, carry + [target], s.body)
        ret = ast.Return(ast.Tuple([ast.Name(c, ast.Load()) for c in carry], ast.Load()))
        fdef = ast.FunctionDef(
            name=body_name,
            args=ast.arguments(posonlyargs=[], args=[ast.arg(c) for c in carry + [target]],
                               vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
            body=body + [ret], decorator_list=[], returns=None, type_comment=None,
            **({"type_params": []} if sys.version_info >= (3, 12) else {}))
        call = ast.Call(ast.Name("__la_for", ast.Load()),
                        [s.iter.args[0], ast.Name(body_name, ast.Load()),
                         ast.Tuple([ast.Name(c, ast.Load()) for c in carry], ast.Load()),
                         ast.Constant(uses_i)], [])
        if carry:
            stmt = ast.Assign([ast.Tuple([ast.Name(c, ast.Store()) for c in carry], ast.Store())],
                              call)
        else:
            stmt = ast.Expr(call)
        for n in (fdef, ret, stmt):
            ast.copy_location(n, s)
        for n in ast.walk(call):
            if not hasattr(n, "lineno"):
                ast.copy_location(n, s)
        return [fdef, stmt]


def _first_line(body, name):
    best = (10 ** 9, 10 ** 9)
    for n in _walk_scope(body):
        if isinstance(n, ast.Name) and n.id == name:
            best = min(best, (n.lineno, n.col_offset))
    return best


# ----------------------------------------------------------------------------
# Tracing a loop


def _site():
    """(file, Pos) of the rewritten user function calling ``la_for``."""
    from .surface import _code_pos
    f = sys._getframe(2)
    return f.f_code.co_filename, _code_pos(f.f_code, f.f_lasti, f.f_lineno)


def _shape(v):
    """REAL / TupleType of a state value, or None if it is not reals and tuples."""
    from .surface import Tracer
    if isinstance(v, Tracer) or (isinstance(v, numbers.Real) and not isinstance(v, bool)):
        return REAL
    if isinstance(v, (tuple, list)):
        items = [_shape(x) for x in v]
        return None if any(t is None for t in items) else TupleType(items)
    return None


def la_for(n, body, state, uses_i):
    """Run ``body`` N times on ``state``: as a Linear A loop when tracing, else in Python."""
    from . import surface as S
    if isinstance(n, S.Tracer):
        file, pos = _site()
        raise S.TraceError("`for … in range(x)` with a traced x: the number of iterations must be a "
                           "Python int", pos, file=file, hint=LOOP_HINT)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        return _python_loop(range(n), body, state)   # Python raises its own error for range(n)
    n = int(n)
    flat = S._flatten(list(state))
    b = S._builder_of(flat)
    types = [_shape(v) for v in state]
    if b is None or any(t is None for t in types) or n < 0:
        return _python_loop(range(n), body, state)
    file, pos = _site()
    return _traced_loop(S, b, n, body, state, types, uses_i, file, pos)


def _python_loop(it, body, state):
    state = tuple(state)
    for i in it:
        state = body(*state, i)
    return state


def _traced_loop(S, b, n, body, state, types, uses_i, file, pos):
    from .elaborate import insert_dup_drop_def
    from .primitives import PRIMITIVES
    session = b.session
    code = body.__code__
    pnames = list(code.co_varnames[:code.co_argcount])     # the carried names, then i
    fname = S._la_name(f"{b.fn_name}_step", session.def_names, avoid=PRIMITIVES)
    taken: set = set()
    lnames = [S._la_name(p, taken) for p in pnames]
    sb = S._Builder(session, fname, taken)
    args = [sb.unpack(nm, ty, pos) for nm, ty in zip(lnames, types)]
    counter = lnames[-1]
    S._ACTIVE.append(sb)
    try:
        result = body(*args, S.Tracer(sb, counter) if uses_i else None)
        outs = []
        for v, want, name in zip(result, types, pnames):
            got = _shape(v)
            if got != want:
                raise S.TraceError(f"the loop body changes the shape of `{name}` (from {want!r} "
                                   f"to {got!r}); a loop's state keeps its types", pos, file=file,
                                   hint=LOOP_HINT)
            outs.append(sb.value(v, pos)[0])
        params = [Param(nm, ty, pos) for nm, ty in zip(lnames, types)]
        out_types = list(types)
        if uses_i:
            one = sb.emit(Lit("1"), pos)
            outs.append(sb.emit(Prim("+", (counter, one)), pos, name=pnames[-1]))
            params.append(Param(counter, REAL, pos))
            out_types.append(REAL)
    finally:
        S._ACTIVE.pop()
        sb.done = True
    step = Def(fname, params, [], out_types, [], Block(sb.binds, Ret(outs, (), pos), pos)
               if sb.binds else Ret(outs, (), pos), pos)
    step = insert_dup_drop_def(step, file)
    session.defs[body] = (step, out_types, None)
    carry = [b.value(v, pos)[0] for v in state]
    if uses_i:
        carry.append(b.emit(Lit("0"), pos, name=pnames[-1]))
    # the loop's results take the Python names of the state (and the counter's)
    results = [b.user_name(p) for p in pnames[:len(state)] + pnames[len(state):][:int(uses_i)]]
    b.binds.append(Let(results, (), Loop(n, fname, carry, (), pos=pos), pos))
    return tuple(b.unpack(r, ty, pos) for r, ty in zip(results, types))
