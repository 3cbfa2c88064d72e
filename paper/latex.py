r"""Linear A syntax in LaTeX: variables, types, expressions, programs.

Conventions (macros in ``paper/linear-a.sty``), one notation for the whole
document: a tangent -- any linear variable -- carries a dot (``\LAlin{y}`` =
ẏ), a cotangent a bar (``\LAcot{y}`` = ȳ, as the adjoint tables write
v̄), a sequence an arrow (``\LAseq{x}``).  The rule registry writes its
formulas with ``\dot``, ``\ddot`` and ``\bar`` (sequences); :func:`notation`
maps them onto these macros.  Keywords and function names are sans-serif.  A variable's
class is read off its binder (which side of ``;`` it is bound on, or the class
of the tuple it was unpacked from) by :func:`classes_of_def`, so rendering
needs no typing information and also works on ill-typed programs.

Everything here returns LaTeX *math-mode* strings, except :func:`esc` (text).
Long things are abbreviated with ``\cdots`` rather than allowed to run off the
page: a list of more than :data:`MAX_ITEMS` variables, a chain of more than a
few ``let``s in a trace cell.
"""
from __future__ import annotations

import re
import unicodedata

from linear_a.semantics.primitives import PRIMITIVES
from linear_a.semantics.syntax import (ArrayType, Loop, Block, Call, Def, Drop, Dup, LAdd, Let, Lit, LTup, LUnpack, NTup,
                              NUnpack, Prim, Program, RealType, Ret, Scale, TupleType, Zero,
                              iter_nodes)

MAX_ITEMS = 6          # longer variable lists are shown as a, b, ⋯, z
NL, LIN, COT = "nl", "lin", "cot"

_TEXT_ESC = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "#": r"\#",
             "$": r"\$", "%": r"\%", "&": r"\&", "^": r"\^{}", "~": r"\~{}"}


_UNICODE = {"−": "-", "…": r"\ldots{}", "⋯": r"\ldots{}", "→": r"\ensuremath{\to}", "⟶": r"\ensuremath{\longrightarrow}",
            "⊢": r"\ensuremath{\vdash}", "Γ": r"\ensuremath{\Gamma}", "Δ": r"\ensuremath{\Delta}", "Φ": r"\ensuremath{\Phi}", "τ": r"\ensuremath{\tau}",
            "σ": r"\ensuremath{\sigma}", "θ": r"\ensuremath{\theta}", "‖": r"\ensuremath{\|}", "·": r"\ensuremath{\cdot}", "≤": r"\ensuremath{\le}",
            "≥": r"\ensuremath{\ge}", "≠": r"\ensuremath{\neq}", "∅": r"\ensuremath{\emptyset}", "×": r"\ensuremath{\times}", "‘": "`", "’": "'",
            "“": "``", "”": "''", "–": "--", "—": "---", "ẋ": r"\ensuremath{\LAlin{x}}", "ẏ": r"\ensuremath{\LAlin{y}}",
            "ÿ": r"\ensuremath{\LAcot{y}}", "ȳ": r"\ensuremath{\LAseq{y}}", "ℝ": r"\ensuremath{\mathbb{R}}", "↔": r"\ensuremath{\leftrightarrow}",
            "⟼": r"\ensuremath{\longmapsto}", "↦": r"\ensuremath{\mapsto}", "⇝": r"\ensuremath{\leadsto}", "∂": r"\ensuremath{\partial}",
            "Σ": r"\ensuremath{\Sigma}", "≡": r"\ensuremath{\equiv}", "∘": r"\ensuremath{\circ}", "ᵢ": r"\ensuremath{_i}", "ᵀ": r"\ensuremath{^T}",
            "ₙ": r"\ensuremath{_n}", "ₗ": r"\ensuremath{_l}", "⋅": r"\ensuremath{\cdot}", "□": r"\ensuremath{\square}", "⟨": r"\ensuremath{\langle}",
            "⟩": r"\ensuremath{\rangle}", "∈": r"\ensuremath{\in}", "∀": r"\ensuremath{\forall}", "ε": r"\ensuremath{\varepsilon}",
            "π": r"\ensuremath{\pi}", "λ": r"\ensuremath{\lambda}", "ρ": r"\ensuremath{\rho}", "✗": "x", "✓": "ok", "•": r"\ensuremath{\bullet}"}
_SUBDIGITS = {chr(0x2080 + i): str(i) for i in range(10)} | {"₋": "-"}
_UNICODE.update({"∞": r"\ensuremath{\infty}", "§": r"\S{}", "¶": r"\P{}", "≈": r"\ensuremath{\approx}", "⊸": r"\ensuremath{\multimap}",
                 "⟹": r"\ensuremath{\Longrightarrow}", "⇒": r"\ensuremath{\Rightarrow}", "⇐": r"\ensuremath{\Leftarrow}",
                 "∑": r"\ensuremath{\sum}", "√": r"\ensuremath{\surd}", "ω": r"\ensuremath{\omega}",
                 "µ": r"\ensuremath{\mu}", "μ": r"\ensuremath{\mu}", "…": r"\ldots{}", "−": "-", "∧": r"\ensuremath{\wedge}",
                 "∨": r"\ensuremath{\vee}", "¬": r"\ensuremath{\neg}", "⊆": r"\ensuremath{\subseteq}", "∪": r"\ensuremath{\cup}",
                 "∩": r"\ensuremath{\cap}", "≔": ":=", "·": r"\ensuremath{\cdot}", "°": r"\ensuremath{^\circ}",
                 "²": r"\ensuremath{^2}", "³": r"\ensuremath{^3}", "ⁿ": r"\ensuremath{^n}", "₊": "+",
                 "ᵏ": r"\ensuremath{^k}", "ᴺ": r"\ensuremath{^N}", "ᵀ": r"\ensuremath{^T}"})
# every Greek letter (a statement may use any of them): lower case by its LaTeX
# name, upper case by its macro or, where LaTeX has none, the Latin letter it is
_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi o pi rho "
          "varsigma sigma tau upsilon phi chi psi omega").split()
_CAPITALS = dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX"))
for _i, _name in enumerate(_GREEK):
    _UNICODE.setdefault(chr(0x3B1 + _i), "o" if _name == "o" else r"\ensuremath{\%s}" % _name)
    _upper = chr(0x391 + _i)
    if _name != "varsigma":
        _UNICODE.setdefault(_upper, _CAPITALS.get(_upper) or r"\ensuremath{\%s}" % _name.capitalize())
# combining marks in text: a macron marks a sequence (x̄ : τ̄ in the rules' plain
# statements), a dot a tangent, a diaeresis the old cotangent mark (now a bar)
_COMBINING = {"\u0304": r"\LAseq", "\u0307": r"\LAlin", "\u0308": r"\LAcot"}
_TEXT_ESC.update({"<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"})
_MATH_ITEM = re.compile(r"\\ensuremath\{(.*)\}\Z", re.S)


def notation(tex: str) -> str:
    r"""The rule registry's LaTeX in the document's notation: ``\dot`` (a
    tangent) → ``\LAlin``, ``\ddot`` (a cotangent) → ``\LAcot`` (a bar),
    ``\bar`` (a sequence) → ``\LAseq`` (an arrow)."""
    tex = re.sub(r"\\ddot(?![A-Za-z])", r"\\LAcot", tex)
    tex = re.sub(r"\\bar(?![A-Za-z])", r"\\LAseq", tex)
    return re.sub(r"\\dot(?![A-Za-z])", r"\\LAlin", tex)


def _combine(out: list, mark: str) -> bool:
    """Put a combining mark on the last character written; False if there is none."""
    if not out:
        return False
    last = out[-1]
    if len(last) == 1 and last.isalnum():
        out[-1] = r"\ensuremath{" + mark + "{" + last + "}}"
        return True
    m = _MATH_ITEM.match(last)
    if m and m.group(1).count("{") == m.group(1).count("}"):
        out[-1] = r"\ensuremath{" + mark + "{" + m.group(1) + "}}"
        return True
    return False


def esc(text: str) -> str:
    """Escape plain text for LaTeX text mode (ASCII out: a few mathematical
    characters are mapped, anything else unknown becomes ``?``)."""
    out: list[str] = []
    for c in str(text):
        if c in _TEXT_ESC:
            out.append(_TEXT_ESC[c])
        elif ord(c) < 128:
            out.append(c)
        elif c in _COMBINING:
            if not _combine(out, _COMBINING[c]):
                out.append("?")
        elif c in _SUBDIGITS:
            out.append(r"\ensuremath{_{" + _SUBDIGITS[c] + "}}")
        elif c in _UNICODE:
            out.append(_UNICODE[c])
        else:                         # ẋ, ÿ, é …: a letter and its marks
            parts = unicodedata.normalize("NFD", c)
            if len(parts) > 1 and parts[0].isascii() and all(p in _COMBINING for p in parts[1:]):
                out.append(parts[0])
                for p in parts[1:]:
                    _combine(out, _COMBINING[p])
            else:
                out.append("?")
    return "".join(out)


def num(x, digits: int = 3) -> str:
    """A number to 3 decimals, trailing zeros removed (math mode)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return r"\mathit{" + esc(x) + "}"
    s = fmt_num(v, digits)
    return s.replace("−", "-")


def fmt_num(v: float, digits: int = 3) -> str:
    """``0.6931`` → ``0.693``; ``10.0`` → ``10``; negatives with a true minus sign."""
    s = f"{v:.{digits}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    return s.replace("-", "−")


_NAME = re.compile(r"^([A-Za-z]+)_?(\d+)$")


def _parts(name: str) -> tuple[str, str]:
    """(base, subscript) in LaTeX: ``x1`` → (x, 1); ``dv2_1`` → (dv, 2,1)."""
    m = _NAME.match(name)
    if m:
        base, sub = m.group(1), m.group(2)
        return (base if len(base) == 1 else r"\mathit{" + base + "}"), sub
    if len(name) == 1 and name.isalpha():
        return name, ""
    if "_" in name:
        head, _, rest = name.partition("_")
        if head and rest and head.isalnum():
            b, sub = _parts(head)
            tail = rest if rest.isdigit() else r"\mathit{" + esc(rest) + "}"
            return b, (sub + "," + tail) if sub else tail
    return r"\mathit{" + esc(name) + "}", ""


def _core(name: str, accent: str = "") -> str:
    base, sub = _parts(name)
    if accent:
        base = accent + "{" + base + "}"
    return base + ("_{" + sub + "}" if sub else "")


def _strip_tangent(name: str) -> str:
    """``dx`` → ``x`` (the dot says "tangent of"); ``ct_dx`` → ``x``."""
    if name.startswith("ct_") and len(name) > 3:
        name = name[3:]
    if len(name) > 1 and name[0] == "d" and name[1].isalpha():
        name = name[1:]
    return name


def var(name: str, cls: str = NL) -> str:
    """A variable: ``x1`` → ``x_{1}``; multi-letter names in italic; a dot
    (linear) or two (cotangent) on top.  The generated prefixes ``d`` (tangent)
    and ``ct_`` (cotangent) are shown by the dots instead: ``dx`` is ẋ."""
    if cls == LIN:
        return _core(_strip_tangent(name), r"\LAlin")
    if cls == COT:
        return _core(_strip_tangent(name), r"\LAcot")
    return _core(name)


def fn(name: str) -> str:
    return r"\LAfn{" + esc(name) + "}"


def ty(t) -> str:
    if t is None:
        return "?"
    if isinstance(t, RealType):
        return r"\LAreal"
    if isinstance(t, TupleType):
        n = len(t.items)
        if n > MAX_ITEMS:       # a residual tuple of 10^5 reals is not spelled out
            return ("(" + ", ".join(ty(s) for s in t.items[:3]) + r", \cdots, " + ty(t.items[-1])
                    + r")_{" + str(n) + "}")
        items = [ty(s) for s in t.items]
        if len(items) == 1:
            return "(" + items[0] + ",)"
        return "(" + ", ".join(items) + ")"
    if isinstance(t, ArrayType):
        return "[" + ty(t.elem) + r";\, " + str(t.n) + "]"
    return r"\mathit{" + esc(repr(t)) + "}"


def types(ts) -> str:
    return ", ".join(ty(t) for t in ts)


def result_type(nl, lin) -> str:
    return "(" + types(nl) + r" \mathbin{;} " + types(lin) + ")"


class Classes:
    """name → class (``nl``/``lin``/``cot``) for the variables of one definition.

    ``cotangents=True`` renders the linear variables of a transposed
    definition as cotangents."""

    def __init__(self, linear=(), cotangents: bool = False):
        self.linear = set(linear)
        self.cotangents = cotangents

    def __call__(self, name: str) -> str:
        if name in self.linear:
            return COT if self.cotangents else LIN
        return NL

    def merge(self, other: "Classes") -> "Classes":
        return Classes(self.linear | other.linear, self.cotangents or other.cotangents)


def linear_names(e) -> set:
    """The linear binders in e (Let's linear side, linear unpacks) -- a loop."""
    out = set()
    for n in iter_nodes(e):
        if type(n) is Let:
            out.update(n.lin)
        elif type(n) is LUnpack:
            out.update(n.names)
    return out


def classes_of_def(d: Def, cotangents: bool | None = None) -> Classes:
    if cotangents is None:
        cotangents = d.name.endswith("_T")
    lin = {p.name for p in d.lin_params} | linear_names(d.body)
    return Classes(lin, cotangents)


def classes_of_program(p: Program) -> dict:
    return {d.name: classes_of_def(d) for d in p.defs}


class full_lists:
    """``with full_lists():`` variable lists and tuple types are written out
    up to ``n`` items (handouts, whose headers are never cut short)."""

    def __init__(self, n: int = 64):
        self.n = n

    def __enter__(self):
        global MAX_ITEMS
        self.saved, MAX_ITEMS = MAX_ITEMS, self.n
        return self

    def __exit__(self, *exc):
        global MAX_ITEMS
        MAX_ITEMS = self.saved
        return False


def _vars(names, cls, limit=None) -> str:
    limit = MAX_ITEMS if limit is None else limit
    names = list(names)
    if len(names) > limit:
        shown = [var(n, cls(n)) for n in names[:limit - 2]] + [r"\cdots", var(names[-1], cls(names[-1]))]
    else:
        shown = [var(n, cls(n)) for n in names]
    return ", ".join(shown)


def group(nl, lin, cls) -> str:
    """``(x̄ ; ẏ)``"""
    return "(" + _vars(nl, cls) + r" \mathbin{;} " + _vars(lin, cls) + ")"


def leaf(e, cls=Classes()) -> str:
    """One leaf expression in math mode."""
    t = type(e)
    if t is Ret:
        return group(e.nl, e.lin, cls)
    if t is Prim:
        p = PRIMITIVES.get(e.op)
        args = [var(a, cls(a)) for a in e.args]
        if p is None:
            return fn(e.op) + "(" + ", ".join(args) + ")"
        try:
            return p.latex.format(*args)
        except (IndexError, KeyError):
            return fn(e.op) + "(" + ", ".join(args) + ")"
    if t is Lit:
        return esc(e.text)
    if t is Zero:
        return r"\LAkw{zero}" if e.ty is None else r"\LAkw{zero} : " + ty(e.ty)
    if t is LAdd:
        return var(e.a, cls(e.a)) + r" \LAadd " + var(e.b, cls(e.b))
    if t is Scale:
        return var(e.x, cls(e.x)) + r" \LAscale " + var(e.l, cls(e.l))
    if t is Dup:
        return r"\LAkw{dup}(" + var(e.l, cls(e.l)) + ")"
    if t is Drop:
        return r"\LAkw{drop}(" + var(e.v, cls(e.v)) + ")"
    if t is NTup or t is LTup:
        if len(e.args) == 1:
            return "(" + var(e.args[0], cls(e.args[0])) + ",)"
        return "(" + _vars(e.args, cls) + ")"
    if t is Call:
        return fn(e.fn) + group(e.nl, e.lin, cls)
    if t is Loop:               # a loop is shown as written, never unrolled
        head = r"\LAkw{loop}\ " + (r"\LAkw{reverse}\ " if e.reverse else "") + str(e.n) + r"\ "
        over = (r"\ \LAkw{over}\ (" + _vars(e.over, cls) + ")") if e.over else ""
        return head + fn(e.fn) + group(e.nl, e.lin, cls) + over
    if t is Block:
        return chain_inline(e, cls)
    return r"\text{" + esc(type(e).__name__) + "}"


def bind(b, cls=Classes(), rhs_limit: int = 1) -> str:
    """``let (x̄ ; ẏ) = rhs`` (without ``in``)."""
    if type(b) is Let:
        rhs = b.rhs
        r = leaf(rhs, cls) if type(rhs) is not Block else chain_inline(rhs, cls, rhs_limit)
        return r"\LAkw{let}\ " + group(b.nl, b.lin, cls) + " = " + r
    names = b.names
    inner = "(" + var(names[0], cls(names[0])) + ",)" if len(names) == 1 else "(" + _vars(names, cls) + ")"
    return r"\LAkw{let}\ " + inner + " = " + var(b.src, cls(b.src))


def chain_inline(e, cls=Classes(), limit: int = 1) -> str:
    """A let-chain on one line, at most ``limit`` lets shown."""
    if type(e) is not Block:
        return leaf(e, cls)
    parts = [bind(b, cls, 0) + r"\ \LAkw{in}" for b in e.binds[:limit]]
    if len(e.binds) > limit:
        parts.append(r"\cdots")
    parts.append(leaf(e.tail, cls))
    return r"\ ".join(parts)


def chain_lines(e, cls=Classes(), limit: int = 8) -> list[str]:
    """A let-chain as lines (one ``let`` each); chains longer than ``limit``
    keep their first lets and the tail, with a count of the elided ones."""
    if type(e) is not Block:
        return [leaf(e, cls)]
    binds = e.binds
    lines = [bind(b, cls) + r"\ \LAkw{in}" for b in binds[:limit]]
    if len(binds) > limit:
        lines.append(r"\quad\cdots\ \text{(" + str(len(binds) - limit) + r" more \textsf{let}s)}")
    lines.append(leaf(e.tail, cls))
    return lines


def def_head(d: Def, cls=None) -> str:
    cls = cls or classes_of_def(d)
    ps = lambda params: ", ".join(var(p.name, cls(p.name)) + " : " + ty(p.ty) for p in params[:MAX_ITEMS]) + \
        (r", \cdots" if len(params) > MAX_ITEMS else "")
    return (r"\LAkw{def}\ " + fn(d.name) + "(" + ps(d.nl_params) + r" \mathbin{;} " + ps(d.lin_params)
            + r") \to " + result_type(d.nl_out, d.lin_out))


def def_lines(d: Def, limit: int = 40) -> list[str]:
    cls = classes_of_def(d)
    return [def_head(d, cls) + " ="] + [r"\quad " + s for s in chain_lines(d.body, cls, limit)]


def code_block(lines: list[str]) -> str:
    """Lines of math as a left-aligned display that may break across pages."""
    body = "\\\\\n".join("$" + s + "$" for s in lines)
    return "\\begin{LAcode}\n" + body + "\n\\end{LAcode}\n"


def program_block(p: Program, names=None, limit: int = 40) -> str:
    out = []
    for d in p.defs:
        if names is not None and d.name not in names:
            continue
        out.append(code_block(def_lines(d, limit)))
    return "\n".join(out)


def fragment(x, cls=Classes(), limit: int = 4) -> str:
    """Anything a derivation holds as subject or result, as compact math:
    expressions, bindings, definitions, programs, tuples of those."""
    if x is None:
        return r"\cdot"
    if isinstance(x, Program):
        return r"\text{program: }" + ", ".join(fn(d.name) for d in x.defs[:MAX_ITEMS]) + \
            (r", \cdots" if len(x.defs) > MAX_ITEMS else "")
    if isinstance(x, Def):
        return def_head(x)
    if type(x) in (Let, NUnpack, LUnpack):
        return bind(x, cls)
    if type(x) is Block:
        return r"\begin{array}[t]{@{}l@{}}" + r"\\ ".join(chain_lines(x, cls, limit)) + r"\end{array}"
    if isinstance(x, (list, tuple)):
        if x and all(type(b) in (Let, NUnpack, LUnpack) for b in x):
            shown = [bind(b, cls) + r"\ \LAkw{in}" for b in x[:limit]]
            if len(x) > limit:
                shown.append(r"\cdots\ \text{(" + str(len(x) - limit) + " more)}")
            return r"\begin{array}[t]{@{}l@{}}" + r"\\ ".join(shown) + r"\end{array}"
        if len(x) == 3 and x[0] is not None and isinstance(x[0], (list, tuple)):
            # unzip's (C ; eₙ ; eₗ): one component per line
            names = ("C", "e_n", "e_l")
            return (r"\begin{array}[t]{@{}r@{\ }l@{}}" + r"\\ ".join(
                n + " =" + " & " + (fragment(y, cls, limit) if not (isinstance(y, (list, tuple)) and not y)
                                     else r"\LAhole" if n == "C" else r"\cdot") for n, y in zip(names, x))
                    + r"\end{array}")
        return r"\langle " + r" \mathbin{;} ".join(fragment(y, cls, limit) for y in x) + r"\rangle"
    if hasattr(x, "pos") and hasattr(type(x), "rule"):
        return leaf(x, cls)
    if isinstance(x, str):
        return r"\mathit{" + esc(x) + "}" if x else r"\cdot"
    text = str(x)
    if len(text) > 60:
        text = text[:57] + "..."
    return r"\text{" + esc(text) + "}"
