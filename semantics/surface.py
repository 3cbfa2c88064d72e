"""The surface front end (SPEC §6): trace straight-line Python into core Linear A.

People write ordinary Python and mark the functions to export::

    from linear_a.semantics.surface import linear_a, log, sin

    @linear_a
    def f(x1, x2):
        return log(x1) + x1 * x2 - sin(x2)

``trace(f)`` runs ``f`` once on *tracers* -- stand-ins for its parameters whose
operators record what is done to them, as ``jax.make_jaxpr`` does -- and
returns a :class:`~linear_a.semantics.syntax.Program` holding ``def f(x1: real, x2:
real) -> (real ;)`` in A-normal form: one ``let`` per operation.

What tracing sees, and what it makes of it:

* ``+ - * /``, unary ``-`` and the functions ``sin cos tan exp log ln sqrt
  tanh sigmoid pow`` exported here become primitives.  The same functions
  compute with ``math`` on plain numbers, so a marked function can still be
  called on floats.
* ``x ** n`` for an integer (or integral float) 1 ≤ n ≤ 16 becomes multiplications
  (square-and-multiply; ``pow`` needs a positive base), any other ``**`` and
  every explicit ``pow(x, y)`` becomes the ``pow`` primitive.
* Python numbers become literals (``Lit``, text = ``repr`` of the int/float).
* Python control flow that does not look at traced values runs at trace time:
  loops are unrolled, ordinary helper functions are inlined.
* A call of another *marked* function with traced arguments stays a Linear A
  call; the callee becomes its own definition, placed before its first caller.
* Parameters are reals unless annotated with a tuple type: ``tuple[float,
  float]`` (nested tuples too) or a Linear A type string ``"(real, real)"``.
  The function then receives a Python tuple of tracers (a non-linear unpack).
* A returned tuple or list (nested allowed) becomes a non-linear tuple (NTup).
* Looking at a traced value -- ``if x > 0``, ``bool(x)``, ``float(x)``,
  ``math.sin(x)`` -- raises :class:`TraceError`: only straight-line code can be
  traced (the derivative of a branch is not what these programs are about).

Finally dup/drop insertion (:mod:`linear_a.semantics.elaborate`) drops the parameters
and intermediate values the function never used, so the result satisfies §3.
Every emitted node carries the Python source position that produced it, so
type, domain and trace errors point at the user's line.

``load_surface_file(path)`` executes a user's ``.py`` file and traces the
functions it marks, in definition order; every failure is an
:class:`~linear_a.semantics.errors.InputError`, :class:`~linear_a.semantics.errors.ParseError`
or :class:`TraceError` located in that file, never a traceback.
"""
from __future__ import annotations

import bisect
import builtins
import dis
import functools
import inspect
import math
import numbers
import os
import re
import sys
import typing

from .elaborate import insert_dup_drop_def
from .errors import InputError, LinearAError, ParseError, Pos, TransformError
from .primitives import PRIMITIVES
from .surface_loops import with_loops
from .syntax import (REAL, Block, Call, Def, Let, Lit, NTup, NUnpack, Param, Prim, Program,
                     RealType, Ret, TupleType, Type)
from .typecheck import MAX_TYPE_DEPTH

__all__ = ["linear_a", "linear_a_function", "trace", "trace_many", "load_surface_file",
           "TraceError", "Tracer", "sin", "cos", "tan", "exp", "log", "ln", "sqrt", "tanh",
           "sigmoid", "pow", "SMALL_POWER"]

SMALL_POWER = 16          # x ** n with 1 <= n <= SMALL_POWER becomes multiplications
_THIS_FILE = __file__
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9']*\Z")
_KEYWORDS = {"def", "let", "in", "zero", "dup", "drop", "real"}


class TraceError(TransformError):
    """Python code that cannot be traced into straight-line Linear A."""

    kind = "trace error"


# ----------------------------------------------------------------------------
# Source positions of the user's code


_POSITIONS: dict = {}


def _code_pos(code, lasti: int, lineno: int | None) -> Pos:
    table = _POSITIONS.get(code)
    if table is None:
        table = _POSITIONS[code] = list(code.co_positions())
    i = lasti // 2
    if 0 <= i < len(table):
        line, _, col, _ = table[i]
        if line is not None:
            return Pos(line, (col or 0) + 1)
    return Pos(lineno or 1, 1)


def _user_site():
    """(file, Pos) of the innermost frame outside this module: the user's line."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename == _THIS_FILE:
        f = f.f_back
    if f is None:
        return None, None
    return f.f_code.co_filename, _code_pos(f.f_code, f.f_lasti, f.f_lineno)


def _user_frame():
    """The innermost frame outside this module (the user's code), or None."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename == _THIS_FILE:
        f = f.f_back
    return f


_STORES = {"STORE_FAST", "STORE_NAME", "STORE_GLOBAL", "STORE_DEREF"}
_INSTRUCTIONS: dict = {}


def _returns(frame) -> bool:
    """Whether ``frame``'s current instruction's value is returned right away."""
    table = _INSTRUCTIONS.get(frame.f_code)
    if table is None:
        _stored_names(frame)
        table = _INSTRUCTIONS[frame.f_code]
    ins, offsets = table
    k = bisect.bisect_right(offsets, frame.f_lasti) - 1
    return 0 <= k < len(ins) - 1 and ins[k + 1].opname == "RETURN_VALUE"


def _stored_names(frame) -> tuple[str, ...] | None:
    """The Python names the value being computed at ``frame``'s current
    instruction is assigned to: ``("h1",)`` for ``h1 = tanh(…)`` or
    ``h1 += …``, ``("a", "b")`` for ``a, b = g(…)``; None when the value is not
    assigned to plain names (an operand, a return value, an attribute …).
    Read off the caller's bytecode: the instruction after the current one."""
    if frame is None:
        return None
    code = frame.f_code
    table = _INSTRUCTIONS.get(code)
    if table is None:
        ins = list(dis.get_instructions(code))
        table = _INSTRUCTIONS[code] = (ins, [x.offset for x in ins])
    ins, offsets = table
    # f_lasti may point into the current instruction's inline caches
    k = bisect.bisect_right(offsets, frame.f_lasti) - 1
    if k < 0 or k + 1 >= len(ins):
        return None
    nxt = ins[k + 1]
    if nxt.opname in _STORES:
        return (nxt.argval,)
    if nxt.opname == "UNPACK_SEQUENCE":
        n = nxt.arg
        stores = ins[k + 2:k + 2 + n]
        if len(stores) == n and all(x.opname in _STORES for x in stores):
            return tuple(x.argval for x in stores)
    return None


def _fail(msg: str, hint: str | None = None, cls=TraceError):
    file, pos = _user_site()
    raise cls(msg, pos, file=file, hint=hint)


def _traceback_site(tb, path: str):
    """The last position in ``path`` on a traceback."""
    where = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            where = _code_pos(tb.tb_frame.f_code, tb.tb_lasti, tb.tb_lineno)
        tb = tb.tb_next
    return where


# ----------------------------------------------------------------------------
# Tracers


_STRAIGHT = ("only straight-line code can be traced: Python `if`/`while`/`and`/`or`/comparisons "
             "cannot look at a traced value; `for i in range(N)` with a Python int N becomes a "
             "Linear A loop in a @linear_a function")


class Tracer:
    """A traced real: the name of the Linear A variable holding it."""

    __slots__ = ("builder", "name")

    def __init__(self, builder: "_Builder", name: str):
        self.builder = builder
        self.name = name

    def __repr__(self):
        return f"Tracer({self.name})"

    __hash__ = object.__hash__

    # arithmetic
    def __add__(self, o): return _binary("+", self, o)
    def __radd__(self, o): return _binary("+", o, self)
    def __sub__(self, o): return _binary("-", self, o)
    def __rsub__(self, o): return _binary("-", o, self)
    def __mul__(self, o): return _binary("*", self, o)
    def __rmul__(self, o): return _binary("*", o, self)
    def __truediv__(self, o): return _binary("/", self, o)
    def __rtruediv__(self, o): return _binary("/", o, self)
    def __neg__(self): return _apply("neg", (self,))
    def __pos__(self): return self
    def __pow__(self, o, mod=None): return _power(self, o)
    def __rpow__(self, o): return _apply("pow", (o, self))

    # what straight-line code cannot do
    def _compare(self, op):
        _fail(f"comparison `{op}` on a traced value", hint=_STRAIGHT)

    def __lt__(self, o): self._compare("<")
    def __le__(self, o): self._compare("<=")
    def __gt__(self, o): self._compare(">")
    def __ge__(self, o): self._compare(">=")
    def __eq__(self, o): self._compare("==")
    def __ne__(self, o): self._compare("!=")

    def __bool__(self):
        _fail("a traced value was used as a truth value (`if x`, `while x`, `and`/`or`, bool(x))",
              hint=_STRAIGHT)

    def _to_number(self, *a):
        _fail("a traced value cannot become a Python number (float(x), int(x), round(x), "
              "math.sin(x), …)",
              hint="use sin, cos, exp, … from linear_a; " + _STRAIGHT)

    __float__ = __int__ = __index__ = __complex__ = __round__ = __trunc__ = _to_number
    __floor__ = __ceil__ = _to_number

    def __abs__(self):
        _fail("abs is not a Linear A primitive", hint="write straight-line code with the "
              "primitives + - * / neg sin cos tan exp log sqrt tanh sigmoid pow")

    def _unsupported(self, *a):
        _fail("this operation (%, //, @, bitwise …) is not a Linear A primitive",
              hint="the primitives are + - * / neg sin cos tan exp log sqrt tanh sigmoid pow")

    __mod__ = __rmod__ = __floordiv__ = __rfloordiv__ = __matmul__ = __rmatmul__ = _unsupported
    __divmod__ = __rdivmod__ = __and__ = __or__ = __xor__ = __invert__ = _unsupported
    __lshift__ = __rshift__ = _unsupported

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _fail(f"numpy's `{getattr(ufunc, '__name__', ufunc)}` cannot take a traced value",
              hint="numpy ufuncs and arrays are not supported; use sin, cos, exp, … from linear_a "
                   "on scalars (a list of traced values is fine)")

    def _not_tuple(self, *a):
        _fail("a traced real is not a tuple (it cannot be indexed, iterated or measured)",
              hint="annotate the parameter as a tuple, e.g. `v: tuple[float, float]`")

    __getitem__ = __iter__ = __len__ = _not_tuple


class _Builder:
    """The definition being traced: its bindings so far and its name supply."""

    def __init__(self, session: "_Session", fn_name: str, reserved, python_names=()):
        self.session = session
        self.fn_name = fn_name
        self.binds: list = []
        self.taken = set(reserved)
        self.python_names = set(python_names)   # the user's local names: v-names avoid them
        self.counter = 0
        self.done = False
        self.quiet = 0                        # > 0: inside a rewrite (x ** n), no user names
        self.code = None                      # the traced function's code object
        self.tuples: dict[int, tuple] = {}   # id(Python tuple) -> (tuple, its variable)

    def fresh(self, base: str | None = None) -> str:
        if base is not None:
            i = 0
            while f"{base}_{i}" in self.taken:
                i += 1
            name = f"{base}_{i}"
        else:
            while True:
                self.counter += 1
                name = f"v{self.counter}"
                if name not in self.taken and name not in self.python_names:
                    break
        self.taken.add(name)
        return name

    def user_name(self, python_name: str) -> str:
        """The binder for a value assigned to ``python_name``: that name (made a
        Linear A name), suffixed ``_2``, ``_3`` … only when it is taken."""
        return _la_name(python_name, self.taken)

    def target(self) -> tuple[str, ...] | None:
        """The Python names the operation being traced is assigned to, if any:
        in its own frame, or -- when an unmarked helper returns it -- where the
        helper's caller assigns the call's value (``k = helper(p, q)``)."""
        if self.quiet:
            return None
        frame = _user_frame()
        for _ in range(64):
            if frame is None:
                return None
            names = _stored_names(frame)
            if names is not None or frame.f_code is self.code or not _returns(frame):
                return names
            frame = frame.f_back          # the helper's caller, at its call
            if frame is None or frame.f_code.co_filename == _THIS_FILE:
                return None
        return None

    def emit(self, rhs, pos, name: str | None = None) -> str:
        rhs.pos = pos
        name = self.user_name(name) if name is not None else self.fresh()
        self.binds.append(Let((name,), (), rhs, pos))
        return name

    def rename_last(self, t: "Tracer", python_name: str) -> None:
        """Give the last binding (which made ``t``) the user's name."""
        last = self.binds[-1] if self.binds else None
        if type(last) is not Let or last.nl != (t.name,):
            return
        self.taken.discard(t.name)
        if t.name == f"v{self.counter}":
            self.counter -= 1                 # the v-name is given back
        new = self.user_name(python_name)
        self.binds[-1] = Let((new,), (), last.rhs, last.pos)
        t.name = new

    def operand(self, v, pos) -> str:
        """A variable holding v: a tracer's own, or a fresh ``let`` of a literal."""
        if isinstance(v, Tracer):
            if v.builder is not self:
                _escaped(v)
            return v.name
        return self.emit(Lit(_literal_text(v)), pos)

    def value(self, v, pos, depth: int = 0) -> tuple[str, Type]:
        """A returned / passed value: a real, or a (nested) tuple of them -> (var, type)."""
        if isinstance(v, (tuple, list)):
            known = self.tuples.get(id(v))
            if known is not None and known[0] is v:
                return known[1], known[2]
            if depth >= MAX_TYPE_DEPTH:
                raise TraceError(f"a tuple nested more than {MAX_TYPE_DEPTH} levels deep; this "
                                 "implementation refuses deeper types", pos, file=self.session.file,
                                 hint="use a flatter tuple")
            parts = [self.value(x, pos, depth + 1) for x in v]
            name = self.emit(NTup([n for n, _ in parts]), pos)
            return name, TupleType([t for _, t in parts])
        return self.operand(v, pos), REAL

    def unpack(self, name: str, ty: Type, pos, given=None):
        """A Python (nested) tuple of tracers for the tuple variable ``name``;
        ``given``: the Python names its components are assigned to."""
        if isinstance(ty, RealType):
            return Tracer(self, name)
        names = [self.fresh(name) for _ in ty.items]
        if given is not None and len(given) == len(names):
            for n in names:
                self.taken.discard(n)
            names = [self.user_name(g) for g in given]
        self.binds.append(NUnpack(names, name, pos))
        value = tuple(self.unpack(n, t, pos) for n, t in zip(names, ty.items))
        self.tuples[id(value)] = (value, name, ty)   # passing it on reuses `name`
        return value


def _literal_text(v) -> str:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        what = "a tuple" if isinstance(v, (tuple, list)) else f"a value of type {type(v).__name__}"
        _fail(f"{what} cannot be used as a real here",
              hint="traced code computes with reals: traced values and Python int/float literals")
    if isinstance(v, numbers.Integral):
        return repr(int(v))
    x = float(v)
    if not math.isfinite(x):
        _fail(f"the literal {x!r} is not a finite real")
    return repr(x)


def _escaped(t: Tracer):
    if t.builder.done:
        _fail(f"a traced value (`{t.name}` of `{t.builder.fn_name}`) was used after its function "
              "finished tracing")
    _fail(f"a traced value (`{t.name}` of `{t.builder.fn_name}`) was used inside another traced "
          "function", hint="pass it as an argument instead of capturing it")


def _builder_of(args) -> "_Builder | None":
    b = None
    for a in args:
        if isinstance(a, Tracer):
            if a.builder.done or not _ACTIVE or a.builder is not _ACTIVE[-1]:
                _escaped(a)
            b = a.builder
    return b


_ACTIVE: list[_Builder] = []


def _apply(op: str, args):
    """Apply primitive ``op``: emit a let on tracers, compute with math on numbers."""
    b = _builder_of(args)
    if b is None:
        for a in args:
            _literal_text(a)   # a number, or a clear error
        if op == "pow":
            return math.pow(*args)
        return PRIMITIVES[op].impls["float"](*map(float, args))
    _, pos = _user_site()
    target = b.target()
    names = [b.operand(a, pos) for a in args]
    return Tracer(b, b.emit(Prim(op, names), pos, target[0] if target and len(target) == 1 else None))


def _binary(op, a, b):
    if not isinstance(a, (Tracer, numbers.Real)) or not isinstance(b, (Tracer, numbers.Real)):
        return NotImplemented
    return _apply(op, (a, b))


def _power(x: Tracer, n):
    """``x ** n``: multiplications for a small positive integer literal n, else pow."""
    small = (isinstance(n, numbers.Integral) and not isinstance(n, bool)) or \
        (isinstance(n, float) and n.is_integer())
    if not (small and 1 <= n <= SMALL_POWER):
        return _apply("pow", (x, n))
    n = int(n)
    b = x.builder
    target = b.target()
    result, base = None, x
    b.quiet += 1
    try:
        while n:           # square-and-multiply
            if n & 1:
                result = base if result is None else result * base
            n >>= 1
            if n:
                base = base * base
    finally:
        b.quiet -= 1
    if target and len(target) == 1 and result is not x:
        b.rename_last(result, target[0])
    return result


def _primitive_function(op: str, public: str):
    arity = PRIMITIVES[op].arity

    def f(*args):
        if len(args) != arity:
            raise TypeError(f"{public}() takes {arity} argument{'s' * (arity != 1)}, got {len(args)}")
        return _apply(op, args)
    f.__name__ = f.__qualname__ = public
    f.__doc__ = (f"{public}: the Linear A primitive `{op}` ({PRIMITIVES[op].doc}) on traced values; "
                 f"math on plain numbers.")
    return f


sin = _primitive_function("sin", "sin")
cos = _primitive_function("cos", "cos")
tan = _primitive_function("tan", "tan")
exp = _primitive_function("exp", "exp")
log = _primitive_function("log", "log")
ln = _primitive_function("log", "ln")
sqrt = _primitive_function("sqrt", "sqrt")
tanh = _primitive_function("tanh", "tanh")
sigmoid = _primitive_function("sigmoid", "sigmoid")
pow = _primitive_function("pow", "pow")


# ----------------------------------------------------------------------------
# Marking functions, and tracing them into definitions


_COLLECTORS: list[list] = []    # active load_surface_file calls collect marked functions here


class Traced:
    """A function marked for export.  Called on numbers it is the Python
    function; called on tracers (from another traced function) it is a Linear
    A call.  ``.fn`` is the original function, ``.name`` the definition's name;
    ``.loops``: trace ``for … in range(N)`` into Linear A loops (set by
    ``@linear_a``; see surface_loops.py), else Python loops are unrolled."""

    loops = False

    def __init__(self, fn, name: str | None = None):
        if not callable(fn):
            raise TypeError(f"@linear_a marks functions, not {type(fn).__name__}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "f")
        functools.update_wrapper(self, fn)

    def __repr__(self):
        return f"<linear_a function {self.name}>"

    def __call__(self, *args, **kwargs):
        b = _builder_of(_flatten(list(args) + list(kwargs.values())))
        if b is None:
            return self.fn(*args, **kwargs)
        return b.session.call(self, args, kwargs, b)


def linear_a(fn=None, *, name: str | None = None):
    """Decorator marking a function for export to Linear A: ``@linear_a`` or
    ``@linear_a(name="g")``.  (``linear_a_function`` is the same decorator.)"""
    def mark(f):
        t = f if isinstance(f, Traced) else Traced(f, name)
        t.loops = True
        for c in _COLLECTORS:
            c.append(t)
        return t
    return mark if fn is None else mark(fn)


linear_a_function = linear_a


def _flatten(xs):
    out = []
    stack = list(reversed(xs))
    while stack:
        x = stack.pop()
        if isinstance(x, (tuple, list)):
            stack.extend(reversed(x))
        else:
            out.append(x)
    return out


def _annotation_type(ann, fn, pname: str) -> Type:
    """A parameter annotation as a Linear A type."""
    if ann is inspect.Parameter.empty or ann in (float, int) or ann == "float" or ann == "real" \
            or ann == "int":
        return REAL
    if isinstance(ann, Type):
        return ann
    if isinstance(ann, str):
        try:
            value = eval(ann, dict(getattr(fn, "__globals__", {})))   # the user's own annotation
        except Exception:
            value = None
        if value is not None:
            return _annotation_type(value, fn, pname)
        from .parser import Parser
        try:
            p = Parser(ann)
            ty = p.type_()
            if p.tok[0] == "eof":
                return ty
        except ParseError:
            pass
    elif typing.get_origin(ann) is tuple:
        items = typing.get_args(ann)
        if Ellipsis in items:
            _bad_annotation(fn, pname, ann, "give the tuple's length, e.g. tuple[float, float]")
        return TupleType([_annotation_type(a, fn, pname) for a in items])
    _bad_annotation(fn, pname, ann, "use float (or no annotation) for a real, tuple[float, float] "
                                    "or \"(real, real)\" for a tuple")


def _bad_annotation(fn, pname, ann, hint):
    code = getattr(fn, "__code__", None)
    pos = Pos(code.co_firstlineno, 1) if code else None
    raise TraceError(f"parameter `{pname}` of `{getattr(fn, '__name__', fn)}` has an annotation "
                     f"Linear A cannot use: {ann!r}", pos,
                     file=code.co_filename if code else None, hint=hint)


def _la_name(name: str, taken: set, avoid=()) -> str:
    """A Linear A name for a Python name (ASCII, not a keyword), unique in ``taken``."""
    base = re.sub(r"[^A-Za-z_0-9']", "_", name) or "x"
    if not _NAME.match(base):
        base = "_" + base
    if base in _KEYWORDS or base in avoid:
        base += "_"
    out, i = base, 1
    while out in taken:
        i += 1
        out = f"{base}_{i}"
    taken.add(out)
    return out


class _Session:
    """One call of trace/trace_many: the definitions made so far, callees first."""

    def __init__(self, file):
        self.file = file
        self.defs: dict = {}          # python function -> (Def, param types, out type)
        self.in_progress: set = set()
        self.def_names: set = set()
        self.failed: dict = {}        # python function -> the exception its tracing raised

    def ensure(self, t: Traced):
        entry = self.defs.get(t.fn)
        if entry is None:
            if t.fn in self.failed:   # traced once already (as a callee): the same error
                raise self.failed[t.fn]
            if t.fn in self.in_progress:
                _fail(f"`{t.name}` calls itself (directly or through other traced functions)",
                      hint="Linear A functions are not recursive; unroll the recursion in Python "
                           "by calling an unmarked helper")
            self.in_progress.add(t.fn)
            try:
                entry = self.defs[t.fn] = self.trace_def(t)
            except Exception as e:
                self.failed.setdefault(t.fn, e)
                raise
            finally:
                self.in_progress.discard(t.fn)
        return entry

    def trace_def(self, t: Traced):
        fn = with_loops(t.fn) if t.loops else t.fn
        code = getattr(fn, "__code__", None)
        def_pos = Pos(code.co_firstlineno, 1) if code else None
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            raise TraceError(f"cannot read the parameters of {fn!r}", def_pos, file=self.file) from None
        pnames, ptypes = [], []
        for p in sig.parameters.values():
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                raise TraceError(f"parameter `{p.name}` of `{t.name}` is {p.kind.description}; traced "
                                 "functions take plain positional parameters", def_pos,
                                 file=code.co_filename if code else self.file)
            pnames.append(p.name)
            ptypes.append(_annotation_type(p.annotation, fn, p.name))
        fname = _la_name(t.name, self.def_names, avoid=PRIMITIVES)
        taken: set = set()
        lnames = [_la_name(n, taken) for n in pnames]
        b = _Builder(self, fname, taken, getattr(code, "co_varnames", ()) + getattr(code, "co_cellvars", ()))
        b.code = code
        args = [b.unpack(n, ty, def_pos) for n, ty in zip(lnames, ptypes)]
        _ACTIVE.append(b)
        try:
            result = fn(*args)
            if result is None:
                raise TraceError(f"`{t.name}` returned None; a traced function returns a number, a "
                                 "traced value, or a (nested) tuple of them", def_pos,
                                 file=code.co_filename if code else self.file)
            out, out_ty = b.value(result, def_pos)
        finally:
            _ACTIVE.pop()
            b.done = True
        binds, tail = b.binds, Ret((out,), (), def_pos)
        last = binds[-1] if binds else None
        if type(last) is Let and last.nl == (out,) and type(last.rhs) is not Block:
            binds, tail = binds[:-1], last.rhs      # `let (v ;) = e in (v ;)`  is  `e`
        body = Block(binds, tail, def_pos) if binds else tail
        d = Def(fname, [Param(n, ty, def_pos) for n, ty in zip(lnames, ptypes)], [], [out_ty], [],
                body, def_pos)
        return insert_dup_drop_def(d, self.file), ptypes, out_ty

    def call(self, t: Traced, args, kwargs, b: _Builder):
        """A call of marked ``t`` from the function ``b`` is tracing: ``let (r ;) = t(…)``."""
        d, ptypes, out_ty = self.ensure(t)
        try:
            bound = inspect.signature(t.fn).bind(*args, **kwargs)
        except TypeError as e:
            _fail(f"bad call of `{t.name}`: {e}")
        _, pos = _user_site()
        target = b.target()
        names = []
        for (pname, v), ty in zip(bound.arguments.items(), ptypes):
            _check_shape(v, ty, t.name, pname)
            names.append(b.value(v, pos)[0])
        single = target is not None and len(target) == 1
        r = b.emit(Call(d.name, names, ()), pos, target[0] if single else None)
        return b.unpack(r, out_ty, pos, None if single else target)

    def program(self) -> Program:
        return Program([d for d, _, _ in self.defs.values()], self.file)


def _check_shape(v, ty: Type, fn: str, pname: str):
    if isinstance(ty, RealType):
        if isinstance(v, (tuple, list)):
            _fail(f"argument `{pname}` of `{fn}` should be a real, got a tuple")
        return
    if not isinstance(v, (tuple, list)) or len(v) != len(ty.items):
        _fail(f"argument `{pname}` of `{fn}` should be a tuple of type {ty!r}")
    for x, s in zip(v, ty.items):
        _check_shape(x, s, fn, pname)


# ----------------------------------------------------------------------------
# Public entry points


def _as_traced(fn) -> Traced:
    return fn if isinstance(fn, Traced) else Traced(fn)


def trace(fn, file: str | None = None) -> Program:
    """The Program of ``fn`` (marked or not) and of the marked functions it
    calls, callees first, after dup/drop insertion."""
    return trace_many([fn], file)


def trace_many(fns, file: str | None = None) -> Program:
    """One Program holding every function of ``fns`` and their marked callees,
    each traced once, callees before callers, otherwise in the given order."""
    fns = [_as_traced(f) for f in fns]
    if file is None and fns:
        code = getattr(fns[0].fn, "__code__", None)
        file = code.co_filename if code else None
    s = _Session(file)
    for t in fns:
        s.ensure(t)
    return s.program()


def load_surface_file(path: str, only=None) -> Program:
    """Execute the user's ``.py`` file and trace the functions it marks with
    ``@linear_a``, in definition order (callees before callers).

    Each function is traced on its own, so one that cannot be traced blocks
    only itself and its callers: ``only`` (Python names) asks for some of the
    functions -- the program then holds every function that traced, and the
    located error of the first asked-for one that did not is raised.  With
    ``only=None`` (the whole file is asked for) the first error is raised."""
    path = str(path)
    if not os.path.exists(path):
        raise InputError(f"no such file: {path}")
    if os.path.isdir(path):
        raise InputError(f"{path} is a directory, not a program file")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not UTF-8 text (byte {e.start}: {e.reason})") from None
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None
    try:
        code = compile(text, path, "exec")
    except SyntaxError as e:
        raise ParseError(f"Python syntax error: {e.msg}", Pos(e.lineno or 1, e.offset or 1),
                         file=path) from None
    except ValueError as e:   # e.g. NUL bytes
        raise ParseError(f"not a Python source file: {e}", None, file=path) from None
    namespace = {"__name__": "__linear_a_surface__", "__file__": path, "__builtins__": builtins}
    collected: list = []
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    _COLLECTORS.append(collected)
    try:
        exec(code, namespace)
    except LinearAError as e:
        raise e.located(path)
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        raise InputError(f"running the file raised {type(e).__name__}: {e}",
                         _traceback_site(e.__traceback__, path), file=path) from None
    finally:
        _COLLECTORS.remove(collected)
        try:
            sys.path.remove(folder)
        except ValueError:
            pass
    mine = [t for t in collected if getattr(getattr(t.fn, "__code__", None), "co_filename", None) == path]
    if not mine:
        raise InputError("the file marks no function for export; decorate the functions to trace "
                         "with @linear_a (from linear_a import linear_a)", file=path)
    s = _Session(path)
    failed: dict = {}                  # python name -> its located error
    for t in mine:
        try:
            s.ensure(t)
        except LinearAError as e:
            failed[t.name] = e.located(path)
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            failed[t.name] = InputError(f"tracing raised {type(e).__name__}: {e}",
                                        _traceback_site(e.__traceback__, path), file=path)
    if only is not None and isinstance(only, str):
        only = [only]
    asked = list(failed) if only is None else [n for n in only if n in failed]
    if asked:
        raise failed[asked[0]]
    return s.program()
