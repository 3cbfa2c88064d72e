"""Fuzzing the front door (SPEC §16): whatever text, bytes, program or
arguments come in, only the project's own exceptions come out.

Five hypothesis fuzzers, each a property *only LinearAError subclasses escape*:

* ``token soup``   — random sequences of Linear A tokens and stray characters;
* ``truncation``   — corpus programs cut at a random point, or with a random
  slice removed;
* ``bytes``        — byte-level mutations (flip, insert, delete, duplicate) of
  corpus programs, written to a file and run through the CLI: exit 0 or 1,
  one line on stderr, never exit 3;
* ``AST``          — well-typed corpus programs with 1–3 random ill-typing
  mutations of the syntax tree (a use renamed, a binder moved to the other
  class, a type changed, a binding deleted or duplicated, a leaf replaced …);
  whatever the type checker accepts is then evaluated, printed and re-parsed,
  and put through JVP, unzip and transpose;
* ``--args``       — random JSON for ``linear-a eval --args``: exit 0, 1 or 2.

The corpus is ``examples/*.la`` plus the programs below.  Each fuzzer keeps a
tally (inputs tried, error kinds seen) and checks it reached deep enough: a
fuzzer that only ever produced parse errors would prove little.  The suite
runs a modest, derandomized budget; ``benchmarks/fuzz.py`` runs the same
properties for longer and prints the figures.
"""
from __future__ import annotations

import glob
import json
import os
import random
import tempfile
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linear_a.cli import main
from linear_a.common import load_program
from linear_a.semantics.errors import LinearAError
from linear_a.semantics.evaluate import evaluate
from linear_a.semantics.parser import parse_program
from linear_a.semantics.primitives import PRIMITIVES
from linear_a.semantics.printer import show
from linear_a.semantics.syntax import (REAL, Block, Call, Drop, Dup, LAdd, Let, Lit, LTup, LUnpack, NTup,
                              NUnpack, Prim, Ret, Scale, TupleType, Zero, leaf_uses)
from linear_a.semantics.typecheck import typecheck

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------------------------
# The corpus

BUILTIN = [
    # every form at once, with tuples on both sides and a call
    """def g(x: real, p: (real, real) ; dx: real, dp: (real, real)) -> (real, real ; real) =
  let (a, b) = p in
  let (s ;) = a * b in
  let (; d1, d2) = dup(dx) in
  let (e1, e2) = dp in
  let (; t) = s *. d1 in
  let (; u) = t +. e1 in
  let (;) = drop(d2) in
  let (;) = drop(e2) in
  let (z ; w) = (x ; u) in
  (z, s ; w)
def h(x: real) -> (real ;) =
  let (p ;) = (x, x) in
  let (; dz) = zero : real in
  let (; dq) = zero : (real, real) in
  let (y, v ; w) = g(x, p ; dz, dq) in
  let (;) = drop(w) in
  let (;) = drop(v) in
  (y ;)
""",
    # nested right-hand sides and a linear tuple
    """def f(x: real, y: real) -> (real, (real, real) ;) =
  let (q ;) =
    let (s ;) = sin(x) in
    let (c ;) = cos(y) in
    s * c
  in
  let (t ;) = (x, y) in
  (q, t ;)
def k(x: real ; dx: real, dy: real) -> (; (real, real)) =
  let (; a) = x *. dx in
  let (; l) = (a, dy) in
  (; l)
""",
    # every primitive
    """def prims(x: real, y: real) -> (real ;) =
  let (a ;) = exp(x) in
  let (b ;) = log(y) in
  let (c ;) = sqrt(y) in
  let (d ;) = tanh(a) in
  let (e ;) = sigmoid(b) in
  let (f ;) = pow(y, c) in
  let (g ;) = tan(d) in
  let (h ;) = neg(e) in
  let (i ;) = f / y in
  let (j ;) = g - h in
  let (k ;) = i + j in
  let (m ;) = ln(y) in
  let (n ;) = k * m in
  let (o ;) = 2.5 in
  let (r ;) = n * o in
  let (;) = drop(x) in
  (r ;)
""",
]


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def corpus_programs() -> list[str]:
    """Well-typed programs: examples/*.la, the built-in ones, and -- for linear
    code written the way the transformations write it -- the JVP and the
    linearized-then-transposed versions of the non-linear ones."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*.la"))):
        text = _read(path)
        try:
            typecheck(parse_program(text, path))
        except LinearAError:
            continue      # an example being edited right now; the others suffice
        out.append(text)
    out += BUILTIN
    derived = []
    for text in out:
        try:
            from linear_a.transforms.compose import linearize
            from linear_a.transforms.jvp import jvp_program
            from linear_a.transforms.transpose import transpose_program
            prog = parse_program(text)
            lin = linearize(prog)
            for p in (jvp_program(prog), transpose_program(lin)):
                shown = show(p)
                typecheck(parse_program(shown))
                derived.append(shown)
        except LinearAError:
            continue      # not a purely non-linear program, or nothing transposes
    return out + derived


def corpus_texts() -> list[str]:
    """The programs plus the (text) bad inputs: material for text mutations."""
    out = corpus_programs()
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "bad_inputs", "*.la"))):
        try:
            out.append(_read(path))
        except (UnicodeDecodeError, IsADirectoryError):
            pass
    return out


CORPUS = corpus_programs()
TEXTS = corpus_texts()
TMP = tempfile.mkdtemp(prefix="linear-a-fuzz-")

# ---------------------------------------------------------------------------------------------
# Running a program through everything, keeping score


class Tally:
    """Inputs tried, error kinds seen (class and rule), and messages seen."""

    def __init__(self):
        self.inputs = 0
        self.kinds = Counter()
        self.messages = set()
        self.crashes = []

    def add(self, kind: str, message: str = ""):
        self.inputs += 1
        self.note(kind, message)

    def note(self, kind: str, message: str = ""):
        """An error seen while processing an input (also after it was accepted)."""
        self.kinds[kind] += 1
        if message:
            self.messages.add(message)

    def summary(self) -> str:
        errs = [k for k in self.kinds if k != "ok"]
        return (f"{self.inputs} inputs, {len(errs)} distinct error kinds, "
                f"{len(self.messages)} distinct messages, {len(self.crashes)} crashes")


def kind_of(e: LinearAError) -> str:
    return type(e).__name__ + (f"({e.rule})" if e.rule else "")


def _check_error(e: LinearAError, text: str | None):
    """A project error must render as one line, and point inside the text."""
    s = str(e)
    assert "\n" not in s and s, repr(s)
    if e.pos is not None and text is not None:
        line, col = e.pos
        assert isinstance(line, int) and isinstance(col, int) and line >= 1 and col >= 1, e.pos
        assert line <= text.count("\n") + 1, (e.pos, s)


def value_of(ty, rnd: random.Random):
    if isinstance(ty, TupleType):
        return [value_of(t, rnd) for t in ty.items]
    return rnd.choice([rnd.uniform(-3, 3), rnd.uniform(0.1, 4), 0, 1, -1, 1e300, 1e-300])


def run_program(prog, text, rnd: random.Random, transforms: bool, tally: Tally) -> str:
    """Typecheck; if accepted evaluate every function, print and re-parse, and
    transform.  Returns "ok"; a typing error propagates, later project errors are
    noted in the tally, anything else is a crash."""
    typecheck(prog)
    for d in prog.defs:
        args = {p.name: value_of(p.ty, rnd) for p in d.params}
        try:
            evaluate(prog, d.name, args)
        except LinearAError as e:
            _check_error(e, text)
            tally.note(kind_of(e) + "@eval", e.message)
    again = parse_program(show(prog), "printed.la")     # the printer's output parses back
    typecheck(again)
    if transforms:
        _transform(prog, text, tally)
    return "ok"


def _transform(prog, text, tally):
    from linear_a.transforms.jvp import jvp_program
    from linear_a.transforms.transpose import transpose_program
    from linear_a.transforms.unzip import unzip_program
    steps = {"unzip": lambda: typecheck(unzip_program(prog)),
             "transpose": lambda: typecheck(transpose_program(prog)),
             "jvp": lambda: typecheck(jvp_program(prog)),
             "linearize": lambda: typecheck(unzip_program(jvp_program(prog), policy="recompute-all"))}
    for name, step in steps.items():
        try:
            step()
        except LinearAError as e:
            _check_error(e, text)
            tally.note(kind_of(e) + "@" + name, e.message)


def run_text(text: str, tally: Tally, rnd: random.Random | None = None, transforms=False) -> str:
    rnd = rnd or random.Random(0)
    try:
        kind = run_program(parse_program(text, "fuzz.la"), text, rnd, transforms, tally)
        tally.add(kind)
    except LinearAError as e:
        _check_error(e, text)
        kind = kind_of(e)
        tally.add(kind, e.message)
    return kind

# ---------------------------------------------------------------------------------------------
# Strategies


VOCAB = ["def", "let", "in", "zero", "dup", "drop", "real", "(", ")", ",", ";", ":", "=", "->",
         "+.", "*.", "+", "-", "*", "/", "#", "\n", "x", "y", "dx", "dy", "f", "g", "p", "0", "1",
         "-1", "2.5", "1e999", ".5", "sin", "cos", "log", "ln", "pow", "exp", "neg", "sigmoid",
         "(real, real)", "(real,)", "()", "let (y ;) =", "let (; dy) =", "(x ;)", "(; dx)",
         "def f(x: real) -> (real ;) =", "def g(x: real ; dx: real) -> (; real) =", "\t", "\r",
         "$", "é", "\u2028", "\x00", "\ufeff", "'", "`", "{", "[", "_", "0x1F", "1e", "--", "##"]

token_soup = st.lists(st.tuples(st.sampled_from(VOCAB) | st.characters(), st.sampled_from([" ", "", "\n"])),
                      max_size=50).map(lambda pairs: "".join(t + s for t, s in pairs))


@st.composite
def truncations(draw):
    text = TEXTS[draw(st.integers(0, 2 ** 32)) % len(TEXTS)]    # uniform over the corpus
    i = draw(st.integers(0, len(text)))
    if draw(st.booleans()):
        return text[:i]
    j = draw(st.integers(i, len(text)))
    return text[:i] + text[j:]


@st.composite
def byte_mutations(draw):
    data = bytearray(TEXTS[draw(st.integers(0, 2 ** 32)) % len(TEXTS)].encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "dup", "replace"]))
        i = draw(st.integers(0, len(data)))
        if op == "flip" and i < len(data):
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 8))]
        elif op == "dup":
            data[i:i] = data[i:i + draw(st.integers(1, 40))]
        elif op == "replace" and i < len(data):
            data[i] = draw(st.sampled_from(b"();,:=.+*-/#\n 0aZ\x00\xff\xc3"))
    return bytes(data)

# ---------------------------------------------------------------------------------------------
# AST mutations: small edits that (usually) break exactly one typing side condition


TYPES = [REAL, TupleType([REAL]), TupleType([REAL, REAL]), TupleType([]),
         TupleType([TupleType([REAL, REAL]), REAL])]
LEAF_FIELDS = {Ret: ("nl", "lin"), Prim: ("args",), NTup: ("args",), LTup: ("args",), LAdd: ("a", "b"),
               Scale: ("x", "l"), Dup: ("l",), Drop: ("v",), Call: ("nl", "lin")}


def _walk(d):
    """(blocks, binds, leaves, slots) of a definition; slots are (owner, attribute)
    places holding an expression."""
    blocks, binds, leaves, slots = [], [], [], [(d, "body")]
    stack = [d.body]
    while stack:
        e = stack.pop()
        if type(e) is Block:
            blocks.append(e)
            slots.append((e, "tail"))
            stack.append(e.tail)
            for b in e.binds:
                binds.append(b)
                if type(b) is Let:
                    slots.append((b, "rhs"))
                    stack.append(b.rhs)
        else:
            leaves.append(e)
    return blocks, binds, leaves, slots


def _names(d, binds):
    out = [p.name for p in d.params]
    for b in binds:
        out.extend(b.binders)
    return out or ["x"]


def _random_leaf(rnd, names, fns):
    n = lambda: rnd.choice(names)
    ns = lambda: tuple(n() for _ in range(rnd.randint(0, 3)))
    make = rnd.choice([
        lambda: Ret(ns(), ns()), lambda: Lit(rnd.choice(["0", "1", "-2.5", "1e999"])),
        lambda: Prim(rnd.choice(sorted(PRIMITIVES)), ns()), lambda: Zero(rnd.choice(TYPES + [None])),
        lambda: LAdd(n(), n()), lambda: Scale(n(), n()), lambda: Dup(n()), lambda: Drop(n()),
        lambda: NTup(ns()), lambda: LTup(ns()), lambda: Call(rnd.choice(fns), ns(), ns())])
    return make()


def mutate(prog, rnd: random.Random) -> str:
    """Apply one random mutation in place; returns its name."""
    if not prog.defs:
        return "none"
    d = rnd.choice(prog.defs)
    blocks, binds, leaves, slots = _walk(d)
    names = _names(d, binds) + ["zz"]
    fns = [x.name for x in prog.defs] + ["nosuch", "sin"]
    op = rnd.choice(["use", "use", "use", "alias", "src", "binder", "move", "arity", "type", "prim",
                     "leaf", "delete", "duplicate", "swap", "lit", "class", "call", "defs"])
    if op == "alias" and leaves:       # the classic mistake: one variable in two places of a leaf
        e = rnd.choice([x for x in leaves if len(leaf_uses(x)) >= 2] or leaves)
        uses = [(f, i) for f in LEAF_FIELDS.get(type(e), ()) for i in
                (range(len(getattr(e, f))) if isinstance(getattr(e, f), tuple) else (None,))]
        if len(uses) >= 2:
            (f1, i1), (f2, i2) = rnd.sample(uses, 2)
            v = getattr(e, f1) if i1 is None else getattr(e, f1)[i1]
            if i2 is None:
                setattr(e, f2, v)
            else:
                t = getattr(e, f2)
                setattr(e, f2, t[:i2] + (v,) + t[i2 + 1:])
    elif op == "use" and leaves:
        e = rnd.choice(leaves)
        fields = LEAF_FIELDS.get(type(e))
        if fields:
            f = rnd.choice(fields)
            v = getattr(e, f)
            if isinstance(v, tuple):
                if v:
                    i = rnd.randrange(len(v))
                    setattr(e, f, v[:i] + (rnd.choice(names),) + v[i + 1:])
            else:
                setattr(e, f, rnd.choice(names))
    elif op == "src":
        unpacks = [b for b in binds if type(b) is not Let]
        if unpacks:
            rnd.choice(unpacks).src = rnd.choice(names)
    elif op == "binder" and binds:
        b = rnd.choice(binds)
        side = "names" if type(b) is not Let else rnd.choice(["nl", "lin"])
        v = getattr(b, side)
        if v:
            i = rnd.randrange(len(v))
            setattr(b, side, v[:i] + (rnd.choice(names),) + v[i + 1:])
    elif op == "move":
        lets = [b for b in binds if type(b) is Let and b.binders]
        if lets:
            b = rnd.choice(lets)
            if b.nl and (not b.lin or rnd.random() < 0.5):
                b.lin, b.nl = b.lin + b.nl[-1:], b.nl[:-1]
            else:
                b.nl, b.lin = b.nl + b.lin[-1:], b.lin[:-1]
            b.nl_ty = b.lin_ty = None
    elif op == "arity" and binds:
        b = rnd.choice(binds)
        side = "names" if type(b) is not Let else rnd.choice(["nl", "lin"])
        v = getattr(b, side)
        setattr(b, side, v[:-1] if v and rnd.random() < 0.5 else v + ("fresh_" + str(rnd.randrange(9)),))
        if type(b) is Let:
            b.nl_ty = b.lin_ty = None
    elif op == "type":
        where = rnd.choice(["param", "out", "zero", "ann"])
        t = rnd.choice(TYPES)
        if where == "param" and d.params:
            rnd.choice(d.params).ty = t
        elif where == "out" and (d.nl_out or d.lin_out):
            outs = d.nl_out if d.nl_out and (not d.lin_out or rnd.random() < 0.5) else d.lin_out
            outs[rnd.randrange(len(outs))] = t
        elif where == "zero":
            zs = [e for e in leaves if type(e) is Zero]
            if zs:
                rnd.choice(zs).ty = rnd.choice(TYPES + [None])
        else:
            lets = [b for b in binds if type(b) is Let and b.nl]
            if lets:
                b = rnd.choice(lets)
                b.nl_ty = tuple(rnd.choice(TYPES) for _ in b.nl)
    elif op == "prim":
        ps = [e for e in leaves if type(e) is Prim]
        if ps:
            rnd.choice(ps).op = rnd.choice(sorted(PRIMITIVES))
    elif op == "leaf":
        owner, attr = rnd.choice(slots)
        setattr(owner, attr, _random_leaf(rnd, names, fns))
    elif op in ("delete", "duplicate", "swap") and blocks:
        blk = rnd.choice(blocks)
        if blk.binds:
            i = rnd.randrange(len(blk.binds))
            if op == "delete":
                del blk.binds[i]
            elif op == "duplicate":
                blk.binds.insert(i, blk.binds[i])
            else:
                j = rnd.randrange(len(blk.binds))
                blk.binds[i], blk.binds[j] = blk.binds[j], blk.binds[i]
    elif op == "lit":
        lits = [e for e in leaves if type(e) is Lit]
        if lits:
            rnd.choice(lits).text = rnd.choice(["1e999", "-0.0", "nan", "inf", "1" * 400, "abc", ""])
    elif op == "class":
        for blk in blocks:
            for i, b in enumerate(blk.binds):
                if type(b) in (NUnpack, LUnpack) and rnd.random() < 0.5:
                    blk.binds[i] = (LUnpack if type(b) is NUnpack else NUnpack)(b.names, b.src, b.pos)
                    return op
        for owner, attr in slots:
            e = getattr(owner, attr)
            if type(e) in (NTup, LTup):
                setattr(owner, attr, (LTup if type(e) is NTup else NTup)(e.args, e.pos))
                return op
    elif op == "call":
        calls = [e for e in leaves if type(e) is Call]
        if calls:
            rnd.choice(calls).fn = rnd.choice(fns)
    elif op == "defs" and len(prog.defs) > 1:
        i, j = rnd.randrange(len(prog.defs)), rnd.randrange(len(prog.defs))
        if rnd.random() < 0.5:
            prog.defs[i], prog.defs[j] = prog.defs[j], prog.defs[i]
        else:
            del prog.defs[i]
    return op


def run_ast_mutation(text: str, rnd: random.Random, tally: Tally, n_mutations: int) -> str:
    prog = parse_program(text, "mutant.la")
    for _ in range(n_mutations):
        mutate(prog, rnd)
    try:
        kind = run_program(prog, text, rnd, True, tally)
        tally.add(kind)
    except LinearAError as e:
        _check_error(e, text)
        kind = kind_of(e)
        tally.add(kind, e.message)
    return kind

# ---------------------------------------------------------------------------------------------
# The CLI on fuzzed files and arguments


def run_cli(argv, allowed=(0, 1)) -> int:
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    e = err.getvalue()
    assert code in allowed, f"exit {code} for {argv}: {e}"
    assert "Traceback" not in e and "internal error" not in e, e
    if code:
        assert len(e.splitlines()) == 1, e
    return code


def run_bytes(data: bytes, tally: Tally, n: int) -> str:
    path = os.path.join(TMP, f"mutant{n % 4}.la")
    with open(path, "wb") as f:
        f.write(data)
    code = run_cli(["typecheck", path])
    try:
        prog = load_program(path)
        typecheck(prog)
        kind = "ok"
        assert code == 0
    except LinearAError as e:
        kind = kind_of(e)
        assert code == 1
        tally.add(kind, e.message)
        return kind
    tally.add(kind)
    return kind


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    | st.sampled_from([10 ** 400, 1e308, -0.0, 2]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8)


@st.composite
def eval_args(draw):
    """(file, fn, --args text): parameter names usually right, values anything."""
    path = draw(st.sampled_from(EVAL_TARGETS))
    prog = load_program(path)
    d = draw(st.sampled_from(prog.defs))
    keys = [p.name for p in d.params]
    chosen = draw(st.lists(st.sampled_from(keys + ["zz", ""]), max_size=len(keys) + 1, unique=True))
    obj = {k: draw(json_values) for k in chosen}
    if draw(st.booleans()):
        rnd = random.Random(draw(st.integers(0, 99)))
        obj = {p.name: value_of(p.ty, rnd) for p in d.params}
    text = json.dumps(obj) if draw(st.integers(0, 9)) else draw(st.text(max_size=20))
    return path, d.name, text


def _loads(path) -> bool:
    try:
        typecheck(load_program(path))
        return True
    except LinearAError:
        return False     # an example being edited right now


EVAL_TARGETS = [p for p in sorted(glob.glob(os.path.join(ROOT, "examples", "*.la"))) if _loads(p)] + \
    [os.path.join(ROOT, "tests", "bad_inputs", "eval_fine.la")]

# ---------------------------------------------------------------------------------------------
# The properties, parametrized by budget (the benchmark runs them longer)

SUPPRESS = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]


def fuzz_tokens(tally: Tally, n: int, derandomize=True):
    @settings(max_examples=n, deadline=None, derandomize=derandomize, database=None,
              suppress_health_check=SUPPRESS)
    @given(token_soup)
    def prop(text):
        run_text(text, tally)
    prop()


def fuzz_truncations(tally: Tally, n: int, derandomize=True):
    @settings(max_examples=n, deadline=None, derandomize=derandomize, database=None,
              suppress_health_check=SUPPRESS)
    @given(truncations())
    def prop(text):
        run_text(text, tally, transforms=True)
    prop()


def fuzz_bytes(tally: Tally, n: int, derandomize=True):
    counter = iter(range(10 ** 9))

    @settings(max_examples=n, deadline=None, derandomize=derandomize, database=None,
              suppress_health_check=SUPPRESS)
    @given(byte_mutations())
    def prop(data):
        run_bytes(data, tally, next(counter))
    prop()


def fuzz_ast(tally: Tally, n: int, derandomize=True):
    @settings(max_examples=n, deadline=None, derandomize=derandomize, database=None,
              suppress_health_check=SUPPRESS)
    # a seeded PRNG picks the program and drives the mutations: hypothesis's own
    # choices favour "simple" values (the first programs, the first names), which
    # would make the mutants alike
    @given(st.integers(0, 2 ** 32), st.integers(1, 3))
    def prop(seed, k):
        rnd = random.Random(seed)
        run_ast_mutation(rnd.choice(CORPUS), rnd, tally, k)
    prop()


def fuzz_eval_args(tally: Tally, n: int, derandomize=True):
    @settings(max_examples=n, deadline=None, derandomize=derandomize, database=None,
              suppress_health_check=SUPPRESS)
    @given(eval_args(), st.booleans())
    def prop(target, use_at):
        path, fn, text = target
        code = run_cli(["eval", path, "--fn", fn, "--args", text], allowed=(0, 1, 2))
        tally.add({0: "ok", 1: "EvalError/DomainError", 2: "UsageError"}[code])
    prop()


FUZZERS = {"tokens": fuzz_tokens, "truncations": fuzz_truncations, "bytes": fuzz_bytes,
           "ast": fuzz_ast, "eval-args": fuzz_eval_args}

# ---------------------------------------------------------------------------------------------
# The tests: modest budgets (whole file well under 40 s)


def test_corpus_is_there():
    assert len(CORPUS) >= len(BUILTIN) + 5, "examples/*.la missing from the fuzz corpus"


def test_token_soup_only_project_errors():
    t = Tally()
    fuzz_tokens(t, 200)
    assert t.inputs >= 200 and not t.crashes
    assert len(t.kinds) >= 2, t.kinds


def test_truncations_only_project_errors():
    t = Tally()
    fuzz_truncations(t, 200)
    assert t.inputs >= 200
    assert t.kinds["ok"] > 0 and len(t.kinds) >= 4, t.kinds


def test_byte_mutations_through_cli_never_crash():
    t = Tally()
    fuzz_bytes(t, 100)
    assert t.inputs >= 100
    assert {"InputError", "ParseError"} <= set(t.kinds), t.kinds


def test_ast_mutations_only_project_errors():
    t = Tally()
    fuzz_ast(t, 300)
    assert t.inputs >= 300
    typing_rules = {k for k in t.kinds if k.startswith(("LinearATypeError", "ScopeError"))}
    # the mutations reach the type checker's rules, not just one message
    assert len(typing_rules) >= 10, t.kinds
    assert t.kinds["ok"] > 0, t.kinds


def test_random_eval_arguments_never_crash():
    t = Tally()
    fuzz_eval_args(t, 80)
    assert t.inputs >= 80
    assert {"ok", "UsageError"} <= set(t.kinds), t.kinds


# ---------------------------------------------------------------------------------------------
# Pathological inputs: refused cleanly (or handled), never a stack overflow


def _cli_on(tmp_path, name, data, allowed=(1,)):
    path = tmp_path / name
    path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
    return run_cli(["typecheck", str(path)], allowed=allowed)


def test_pathological_deep_tuple_type_is_refused(tmp_path, capsys):
    n = 10 ** 5
    text = "def f(x: " + "(" * n + "real" + ",)" * n + ") -> (real ;) = (x ;)\n"
    with pytest.raises(LinearAError, match="tuple types nested more than 100 levels"):
        parse_program(text)
    assert _cli_on(tmp_path, "deep.la", text) == 1


def test_pathological_deep_let_is_refused(tmp_path):
    n = 10 ** 5
    text = ("def f(x: real) -> (real ;) = " + "".join(f"let (y{i} ;) = " for i in range(n)) + "(x ;)"
            + "".join(f" in (y{i} ;)" for i in reversed(range(n))) + "\n")
    with pytest.raises(LinearAError, match="right-hand sides nested more than 100 levels"):
        parse_program(text)
    assert _cli_on(tmp_path, "deep.la", text) == 1


def test_nesting_up_to_the_limit_works_everywhere():
    """100-deep tuple types and right-hand sides: typecheck, evaluate, print, re-parse,
    transform -- under the extra stack depth of pytest and hypothesis."""
    n = 100
    ty = "(" * (n - 1) + "real" + ",)" * (n - 1)
    text = (f"def g(p: {ty}) -> ({ty} ;) = (p ;)\n"
            "def f(x: real) -> (real ;) =\n  " + "".join(f"let (y{i} ;) = " for i in range(n - 1))
            + "sin(x)" + "".join(f" in (y{i} ;)" for i in reversed(range(n - 1))) + "\n")
    prog = parse_program(text)
    typecheck(prog)
    v = 0.5
    for _ in range(n - 1):
        v = [v]
    assert evaluate(prog, "f", {"x": 0.5}).nl[0] == pytest.approx(0.479425538604203)
    evaluate(prog, "g", {"p": v})
    typecheck(parse_program(show(prog)))
    from linear_a.transforms.compose import grad
    assert grad(prog, "f", {"x": 0.5}).gradient["x"] == pytest.approx(0.8775825618903728)


@pytest.mark.slow
def test_a_long_chain_of_lets_through_the_cli(tmp_path):
    n = 10 ** 5
    text = ("def f(x: real) -> (real ;) =\n" + "".join(
        f"  let (y{i} ;) = sin(x) in\n  let (;) = drop(y{i}) in\n" for i in range(n // 2)) + "  (x ;)\n")
    assert _cli_on(tmp_path, "long.la", text, allowed=(0,)) == 0


def test_a_10mb_single_line_is_refused_quickly(tmp_path):
    assert _cli_on(tmp_path, "line.la", "x" * 10_000_000) == 1
    assert _cli_on(tmp_path, "parens.la", "(" * 10_000_000) == 1


NOT_PROGRAMS = {
    "nul.la": b"def f(x: real) -> (real ;) = (x\x00 ;)\n",
    "binary.la": bytes(range(256)) * 40,
    "empty.la": b"",
    "bom.la": b"\xef\xbb\xbf",
    "spaces.la": b" \n\t\n",
    "latin1.la": "def f(x: real) -> (real ;) = (x ;) # é\n".encode("latin-1"),
    "utf16.la": "def f(x: real) -> (real ;) = (x ;)\n".encode("utf-16"),
}


@pytest.mark.parametrize("name", sorted(NOT_PROGRAMS))
def test_files_that_are_not_programs(tmp_path, name):
    assert _cli_on(tmp_path, name, NOT_PROGRAMS[name]) == 1


def test_a_directory_and_a_missing_file(tmp_path):
    (tmp_path / "d.la").mkdir()
    assert run_cli(["typecheck", str(tmp_path / "d.la")], allowed=(1,)) == 1
    assert run_cli(["typecheck", str(tmp_path / "missing.la")], allowed=(1,)) == 1
    os.symlink("/dev/null", tmp_path / "null.la")          # not a regular file
    assert run_cli(["typecheck", str(tmp_path / "null.la")], allowed=(1,)) == 1
