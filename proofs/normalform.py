"""A normal form for the values of Linear A programs: the proof engine of the
per-program checks.

Run the one evaluator (``linear_a.semantics.evaluate``) in the :class:`NormalForm`
domain and every value comes out in a canonical form:

* a **non-linear** value is a :class:`Poly`, a polynomial with rational
  coefficients over *atoms*.  An atom is an input variable or an
  *uninterpreted* application ``op(p̄)`` of a transcendental primitive
  (``sin``, ``exp``, ``pow`` …) or of ``inv`` (``x / y`` is ``x · inv(y)``) to
  normal forms.  Atoms are interned, so equal applications are one atom;
* a **linear** value is a :class:`LinForm`, a vector ``{basis index: Poly}``
  -- the coefficients of the value in the basis of the linear inputs.

Two normal forms are equal iff the two terms are equal in the free commutative
ring over uninterpreted functions; such an identity holds for *every*
interpretation of the transcendental functions, in particular the real one.
So equal normal forms are a **proof** (for all inputs); unequal normal forms
are not a refutation (``x · inv(x)`` is not reduced to 1): the checks then fall
back to evaluation at points.

Linearity is structural here: a non-linear operation applied to a ``LinForm``
raises :class:`NotLinear` (a linear input flowed into a non-linear result),
and a linear output that is a non-zero ``Poly`` is affine, not linear.

The same representation gives derivatives independently of the primitive
table's JVP rules (:func:`tangent`, the textbook rules written once here), and
the coefficient matrix of a linear map (:func:`matrix`), the currency of the
adjoint, linearity and checkpoint checks.  Residuals of unzipped programs are
just atoms, so a 1000-step chain stays a product of atoms per path instead of
an expression tree to expand.
"""
from __future__ import annotations

from fractions import Fraction

from linear_a.semantics.domains import Domain
from linear_a.semantics.errors import EvalError

Coeff = Fraction | int


class TooBig(Exception):
    """A normal form outgrew the domain's budget (``NormalForm.max_terms``):
    the caller falls back to evaluation at points."""


class NotLinear(EvalError):
    """A linear value reached a non-linear operation (or was multiplied by one)."""

    kind = "linearity violation"


# ----------------------------------------------------------------------------
# Atoms and polynomials


class Atom:
    __slots__ = ("id", "op", "args", "name")

    def __init__(self, id: int, op: str, args: tuple, name: str | None = None):
        self.id = id
        self.op = op
        self.args = args
        self.name = name

    def __repr__(self):
        if self.op == "var":
            return self.name
        return f"{self.op}({', '.join(map(repr, self.args))})"


class Monomials:
    """Monomials as integers: atom i is the i-th prime, a monomial the product
    of its atoms' primes (with multiplicity).  Unique factorisation makes this
    canonical whatever the order of the multiplications; multiplying is one
    big-integer product and equality one integer comparison, so building the
    n² monomials of an n-step chain's matrix costs n² cheap products instead
    of n² sorted-tuple merges.  1 is the empty product."""

    def __init__(self, max_atoms: int = 1 << 16):
        self.capacity = max_atoms
        self.primes: list[int] = []
        self._index: dict[int, int] = {}
        self._atoms: dict = {1: ()}

    def atom(self, i: int) -> int:
        """The monomial of atom i (primes are generated as atoms appear)."""
        while len(self.primes) <= i:
            c = self.primes[-1] + 1 if self.primes else 2
            while any(c % q == 0 for q in self.primes if q * q <= c):
                c += 1
            self._index[c] = len(self.primes)
            self.primes.append(c)
        return self.primes[i]

    def insert(self, m: int, atom: int, k: int = 1) -> int:
        """m · atom^k (k = -1 divides by one occurrence)."""
        p = self.atom(atom)
        if k >= 0:
            return m * p ** k
        q, r = divmod(m, p ** -k)
        if r:
            raise ValueError("negative exponent")
        return q

    @staticmethod
    def mul(a: int, b: int) -> int:
        return a * b

    def atoms(self, m: int) -> tuple:
        """The atom ids of m in increasing order, with repetition (by trial
        division by the known atoms' primes; cached)."""
        r = self._atoms.get(m)
        if r is None:
            out, rest = [], m
            for i, p in enumerate(self.primes):
                if rest == 1:
                    break
                while rest % p == 0:
                    rest //= p
                    out.append(i)
            r = self._atoms[m] = tuple(out)
        return r


class Poly:
    """Σ coeff · Π atoms; ``terms`` maps a monomial (an int, see
    :class:`Monomials`; 1 is the empty product) to a coefficient."""
    __slots__ = ("terms", "dom", "_key")
    is_number = True            # accepted by the evaluator as an argument value

    def __init__(self, terms: dict, dom: "NormalForm"):
        self.terms = terms
        self.dom = dom
        self._key = None

    # -- identity -------------------------------------------------------------
    def key(self):
        k = self._key
        if k is None:
            k = self._key = frozenset(self.terms.items())
        return k

    def __eq__(self, other):
        if isinstance(other, Poly):
            return self.terms == other.terms
        if isinstance(other, (int, Fraction)):
            return self.terms == ({1: other} if other else {})
        return NotImplemented

    def __hash__(self):
        return hash(self.key())

    def is_const(self) -> bool:
        t = self.terms
        return not t or (len(t) == 1 and 1 in t)

    def const(self) -> Coeff:
        return self.terms.get(1, 0)

    def is_zero(self) -> bool:
        return not self.terms

    # -- ring operations ------------------------------------------------------
    def __add__(self, other):
        if isinstance(other, LinForm):
            return other.__radd__(self)
        other = self.dom.lift(other)
        if other is None:
            return NotImplemented
        if not other.terms:
            return self
        if not self.terms:
            return other
        t = dict(self.terms)
        for m, c in other.terms.items():
            s = t.get(m, 0) + c
            if s:
                t[m] = s
            else:
                t.pop(m, None)
        return Poly(t, self.dom)

    __radd__ = __add__

    def __neg__(self):
        return Poly({m: -c for m, c in self.terms.items()}, self.dom)

    def __sub__(self, other):
        if isinstance(other, LinForm):
            raise NotLinear("a linear value is subtracted from a non-linear one")
        other = self.dom.lift(other)
        return self + (-other)

    def __rsub__(self, other):
        return self.dom.lift(other) + (-self)

    def __mul__(self, other):
        if isinstance(other, LinForm):
            return other.__rmul__(self)
        other = self.dom.lift(other)
        if other is None:
            return NotImplemented
        a, b = self.terms, other.terms
        if not a or not b:
            return Poly({}, self.dom)
        if len(a) < len(b):
            a, b = b, a
        t: dict = {}
        for m2, c2 in b.items():
            for m1, c1 in a.items():
                m = m1 * m2
                s = t.get(m, 0) + c1 * c2
                if s:
                    t[m] = s
                else:
                    t.pop(m, None)
        if len(t) > self.dom.max_terms:
            raise TooBig(f"a normal form has more than {self.dom.max_terms} terms")
        return Poly(t, self.dom)

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self * self.dom.inv(self.dom.lift(other))

    def __rtruediv__(self, other):
        return self.dom.lift(other) * self.dom.inv(self)

    def __repr__(self):
        if not self.terms:
            return "0"
        atoms = self.dom.atoms
        parts = []
        flat = self.dom.monos.atoms
        for m, c in sorted(self.terms.items(), key=lambda kv: (len(flat(kv[0])), flat(kv[0]))):
            factors = [repr(atoms[i]) for i in flat(m)]
            if c != 1 or not factors:
                factors.insert(0, str(c))
            parts.append("·".join(factors))
        return " + ".join(parts)


class LinForm:
    """A linear value: ``{basis index: Poly}``, its coordinates in the basis of
    the linear inputs (basis indices are flattened input components)."""
    __slots__ = ("vec", "dom")
    is_number = True

    def __init__(self, vec: dict, dom: "NormalForm"):
        self.vec = vec
        self.dom = dom

    def __add__(self, other):
        if isinstance(other, Poly):
            if other.is_zero():
                return self
            raise NotLinear("a non-zero non-linear value is added to a linear one")
        if not isinstance(other, LinForm):
            if other == 0:
                return self
            raise NotLinear("a constant is added to a linear value")
        v = dict(self.vec)
        for i, p in other.vec.items():
            q = v.get(i)
            s = p if q is None else q + p
            if s.is_zero():
                v.pop(i, None)
            else:
                v[i] = s
        return LinForm(v, self.dom)

    __radd__ = __add__

    def __rmul__(self, c):
        if isinstance(c, LinForm):
            raise NotLinear("two linear values are multiplied")
        c = self.dom.lift(c)
        if c is None:
            raise NotLinear("a linear value is scaled by a non-number")
        if c.is_zero():
            return LinForm({}, self.dom)
        v = {}
        for i, p in self.vec.items():
            s = c * p
            if not s.is_zero():
                v[i] = s
        return LinForm(v, self.dom)

    __mul__ = __rmul__

    def _bad(self, *a):
        raise NotLinear("a linear value flows into a non-linear operation")

    __sub__ = __rsub__ = __truediv__ = __rtruediv__ = __neg__ = _bad

    def __eq__(self, other):
        if isinstance(other, LinForm):
            return self.vec == other.vec
        if isinstance(other, Poly) and other.is_zero():
            return not self.vec
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return "LinForm(" + ", ".join(f"e{i}: {p!r}" for i, p in sorted(self.vec.items())) + ")"


# ----------------------------------------------------------------------------
# The domain


class NormalForm(Domain):
    """The evaluator's number domain whose values are normal forms."""
    name = "normal-form"

    def __init__(self, max_terms: int = 20000, max_atoms: int = 1 << 16):
        self.max_terms = max_terms
        self.atoms: list[Atom] = []
        self._interned: dict = {}
        self._fns: dict = {}
        self.zero = Poly({}, self)
        self.monos = Monomials(max_atoms)
        self.one = Poly({1: 1}, self)

    # -- constants, variables, atoms -------------------------------------------
    def num(self, c: Coeff) -> Poly:
        return Poly({1: c} if c else {}, self)

    def const(self, text: str) -> Poly:
        f = Fraction(text)
        return self.num(f.numerator if f.denominator == 1 else f)

    def lift(self, v):
        if isinstance(v, Poly):
            return v
        if isinstance(v, bool):
            return None
        if isinstance(v, (int, Fraction)):
            return self.num(v)
        if isinstance(v, float):
            return self.num(Fraction(v))
        return None

    def atom(self, op: str, args: tuple, name=None) -> Poly:
        key = (op, tuple(a.key() for a in args)) if name is None else ("var", name)
        a = self._interned.get(key)
        if a is None:
            if len(self.atoms) >= self.monos.capacity:
                raise TooBig(f"more than {self.monos.capacity} atoms")
            a = Atom(len(self.atoms), op, args, name)
            self.atoms.append(a)
            self._interned[key] = a
        return Poly({self.monos.atom(a.id): 1}, self)

    def var(self, name: str) -> Poly:
        """A non-linear input: a fresh atom standing for any real."""
        return self.atom("var", (), name)

    def inv(self, p: Poly) -> Poly:
        if p.is_const():
            c = p.const()
            if c == 0:
                from linear_a.semantics.errors import DomainError
                raise DomainError("division by zero")
            return self.num(Fraction(1) / c if not isinstance(c, Fraction) else 1 / c)
        return self.atom("inv", (p,))

    def function(self, name: str, arity: int):
        """How the evaluator applies a primitive: arithmetic is interpreted,
        everything else is an uninterpreted atom."""
        f = self._fns.get(name)
        if f is None:
            f = self._fns[name] = self._make(name, arity)
        return f

    def _make(self, name, arity):
        def check(args):
            for a in args:
                if isinstance(a, LinForm):
                    raise NotLinear(f"a linear value flows into the primitive `{name}`")
            return args

        if name == "+":
            return lambda x, y: check((x, y))[0] + y
        if name == "-":
            return lambda x, y: check((x, y))[0] - y
        if name == "*":
            return lambda x, y: check((x, y))[0] * y
        if name == "/":
            return lambda x, y: check((x, y))[0] * self.inv(y)
        if name == "neg":
            return lambda x: -check((x,))[0]

        def apply(*args):
            check(args)
            return self.atom(name, tuple(self.lift(a) for a in args))
        return apply

    # -- the evaluator's questions ---------------------------------------------
    def is_concrete(self, v) -> bool:
        return isinstance(v, Poly) and v.is_const()

    def as_float(self, v) -> float:
        return float(v.const())

    # -- linear inputs -----------------------------------------------------------
    def basis(self, index: int) -> LinForm:
        return LinForm({index: self.one}, self)


# ----------------------------------------------------------------------------
# Values of any type: inputs and flattening


def symbolic_value(dom: NormalForm, ty, name: str):
    """A non-linear value of type ty made of fresh variable atoms ``name.i``."""
    from linear_a.semantics.syntax import RealType
    if isinstance(ty, RealType):
        return dom.var(name)
    return tuple(symbolic_value(dom, t, f"{name}.{i}") for i, t in enumerate(ty.items))


def basis_value(dom: NormalForm, ty, start: int):
    """A linear value of type ty whose components are basis vectors start, start+1, …;
    returns (value, next index)."""
    from linear_a.semantics.syntax import RealType
    if isinstance(ty, RealType):
        return dom.basis(start), start + 1
    out = []
    for t in ty.items:
        v, start = basis_value(dom, t, start)
        out.append(v)
    return tuple(out), start


def atom_id(dom: NormalForm, p: Poly) -> int:
    """The atom of a polynomial that is a single atom (a variable)."""
    (m,) = p.terms
    (i,) = dom.monos.atoms(m)
    return i


def flatten(v) -> list:
    if type(v) is tuple:
        out = []
        for x in v:
            out.extend(flatten(x))
        return out
    return [v]


def as_linform(dom: NormalForm, v) -> LinForm:
    """A linear output component as a LinForm (a zero Poly is the zero form;
    any other Poly is an affine, non-linear output)."""
    if isinstance(v, LinForm):
        return v
    if isinstance(v, Poly) and v.is_zero():
        return LinForm({}, dom)
    raise NotLinear(f"a linear output is a non-zero constant or non-linear value: {v!r}")


def matrix(dom: NormalForm, lin_outputs) -> list[dict]:
    """Rows of the linear map: one ``{input index: Poly}`` per flattened output component."""
    return [as_linform(dom, v).vec for v in flatten(tuple(lin_outputs))]


def transpose_rows(rows: list[dict], n_in: int) -> list[dict]:
    cols: list[dict] = [dict() for _ in range(n_in)]
    for j, row in enumerate(rows):
        for i, p in row.items():
            cols[i][j] = p
    return cols


def mentions_linear(v) -> bool:
    return any(isinstance(x, LinForm) and x.vec for x in flatten(v if type(v) is tuple else (v,)))


# ----------------------------------------------------------------------------
# Derivatives, independently of the primitive table's JVP rules


def tangent(dom: NormalForm, outputs, seeds: dict[int, LinForm]):
    """The tangents of non-linear values ``outputs`` (Polys, nested tuples),
    given the tangent of each input variable atom (``seeds``: atom id ->
    LinForm).  Textbook derivative rules, applied atom by atom in creation order
    (arguments are created before applications, so no recursion on depth)."""
    needed = _atoms_below(dom, outputs)
    D: dict[int, LinForm] = {}
    zero = LinForm({}, dom)
    for i in sorted(needed):
        a = dom.atoms[i]
        if a.op == "var":
            D[i] = seeds.get(i, zero)
        else:
            D[i] = _atom_derivative(dom, a, [_poly_tangent(dom, p, D) for p in a.args])

    def conv(v):
        if type(v) is tuple:
            return tuple(conv(x) for x in v)
        return _poly_tangent(dom, v, D)
    return conv(outputs)


def _atoms_below(dom, outputs) -> set:
    seen, stack = set(), []
    for v in flatten(outputs if type(outputs) is tuple else (outputs,)):
        for m in v.terms:
            stack.extend(dom.monos.atoms(m))
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        for p in dom.atoms[i].args:
            for m in p.terms:
                stack.extend(dom.monos.atoms(m))
    return seen


def _poly_tangent(dom, p: Poly, D) -> LinForm:
    acc = LinForm({}, dom)
    monos = dom.monos
    for m, c in p.terms.items():
        for i in monos.atoms(m):
            rest = Poly({monos.insert(m, i, -1): c}, dom)
            acc = acc + rest * D[i]
    return acc


def _atom_derivative(dom: NormalForm, a: Atom, dargs: list) -> LinForm:
    op, args = a.op, a.args
    me = Poly({dom.monos.atom(a.id): 1}, dom)
    f = dom.function
    one = dom.one
    if op == "inv":
        return (-(me * me)) * dargs[0]
    x = args[0]
    if op == "sin":
        c = f("cos", 1)(x)
    elif op == "cos":
        c = -f("sin", 1)(x)
    elif op == "tan":
        c = one + me * me
    elif op == "exp":
        c = me
    elif op == "log":
        c = dom.inv(x)
    elif op == "sqrt":
        c = dom.num(Fraction(1, 2)) * dom.inv(me)
    elif op == "tanh":
        c = one - me * me
    elif op == "sigmoid":
        c = me * (one - me)
    elif op == "pow":
        y = args[1]
        return (y * f("pow", 2)(x, y - one)) * dargs[0] + (f("log", 1)(x) * me) * dargs[1]
    else:
        raise EvalError(f"no derivative rule for the uninterpreted primitive `{op}`")
    return c * dargs[0]
