"""An independent cost oracle: W, M and |e| counted from the printed program.

The evaluator (``semantics/evaluate.py``) reports W and M as it runs; the
static measure (``proofs/measure.py``) reads W and |e| off the AST.  Both
walk the same syntax tree with the same helpers (``leaf_uses``,
``size_of_type``, ``iter_nodes``), so a mistake in those is shared.  This
module is a third counter, deliberately simple and sharing nothing with them
but the price table (``Costs``) and the primitive *names*: it reads the
program **text** (what ``show`` prints, one binding per line), tracks each
variable's shape (1 for a real, a list of shapes for a tuple) and class
(non-linear / linear) from its binder, and counts:

* **W** -- per line: a literal ``lit``; a primitive its price; ``zero``,
  ``+.``, ``*.``, ``dup`` and a linear ``drop`` their price times the number
  of reals in the value; a call the W of the callee; everything else 0;
* **|e|** -- per line: a ``let`` 1 + its binders (an unpack 2 + its names),
  the leaf 1 + the variables it reads;
* **M** -- its own liveness: the index of each variable's last reading line
  is computed first; the frame holds the parameters; a computing line
  allocates its results, then frees the variables read for the last time; a
  passing line (a return group, a tuple, an unpack) frees first and then
  allocates; a call frees its last-use arguments, peaks at the frame plus the
  callee's own peak, then allocates its results; a loop ``loop N f(…) over
  (ā)`` frees its carry at its last use, holds the arrays while it runs
  (those read for the last time move into it), peaks at the frame plus the
  N − 1 iterations' stacked outputs plus the step's own peak, then allocates
  the final carry and the stacked arrays (W: N·(W(f) + ``loop``)).  M is the
  peak.  A type ``[τ; N]`` is a tuple of N shapes τ.

W, M and |e| of straight-line code do not depend on the inputs, so one
number per definition is compared with the evaluator's (at any point in the
domain) and with the measure's (``linear_a.proofs.checks.check_cost_oracle``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_']*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$")
INFIX = ("+", "-", "*", "/")
_ARRAY = re.compile(r"\[(.*);\s*([0-9]+)\]$")
_LOOP = re.compile(r"loop\s+(reverse\s+)?([0-9]+)\s+([A-Za-z_][A-Za-z0-9_']*)\((.*?)\)(\s+over\s+\((.*)\))?$")


class OracleError(Exception):
    pass


# ----------------------------------------------------------------------------
# Types as shapes


def parse_shape(text: str):
    """``real`` -> 1; ``(t1, t2)`` -> [s1, s2]; ``(t,)`` -> [s]; ``()`` -> []."""
    text = text.strip()
    if text == "real":
        return 1
    m = _ARRAY.match(text)
    if m:                           # [t; N]: N elements, shaped as a tuple of them
        return [parse_shape(m.group(1)) for _ in range(int(m.group(2)))]
    if not (text.startswith("(") and text.endswith(")")):
        raise OracleError(f"not a type: {text!r}")
    return [parse_shape(p) for p in _split(text[1:-1], ",") if p.strip()]


def reals(shape) -> int:
    if shape == 1:
        return 1
    n = 0
    stack = list(shape)
    while stack:
        s = stack.pop()
        if s == 1:
            n += 1
        else:
            stack.extend(s)
    return n


def _split(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside parentheses."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _group(text: str):
    """``(a, b: T ; c)`` -> ([(a, None), (b, T)], [(c, None)]); no ``;`` -> (names, None)."""
    inner = text.strip()[1:-1]
    parts = _split(inner, ";")
    def items(s):
        out = []
        for it in _split(s, ","):
            it = it.strip()
            if not it:
                continue
            name, _, ty = it.partition(":")
            out.append((name.strip(), ty.strip() or None))
        return out
    if len(parts) == 1:
        return items(parts[0]), None
    return items(parts[0]), items(parts[1])


# ----------------------------------------------------------------------------
# Definitions as lines


@dataclass
class Line:
    kind: str                  # let | unpack | leaf | open (a nested chain starts) | close
    nl: list = field(default_factory=list)    # binders (name, type text or None)
    lin: list = field(default_factory=list)
    rhs: str = ""


@dataclass
class TextDef:
    name: str
    nl_params: list            # (name, shape)
    lin_params: list
    lines: list


_HEAD = re.compile(r"def\s+([A-Za-z_][A-Za-z0-9_']*)\s*\((.*)\)\s*->\s*(\(.*\))\s*=\s*$")


def parse_text(text: str) -> dict[str, TextDef]:
    defs: dict[str, TextDef] = {}
    cur = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _HEAD.match(line)
        if m:
            params = _split(m.group(2), ";")
            def plist(s):
                out = []
                for it in _split(s, ","):
                    if it.strip():
                        n, _, t = it.partition(":")
                        out.append((n.strip(), parse_shape(t)))
                return out
            cur = TextDef(m.group(1), plist(params[0]), plist(params[1]) if len(params) > 1 else [], [])
            defs[cur.name] = cur
            continue
        if cur is None:
            raise OracleError(f"a line outside a definition: {line!r}")
        if line == "in":
            cur.lines.append(Line("close"))
        elif line.startswith("let "):
            head, eq, rest = line[4:].partition("=")
            # the pattern ends at its closing parenthesis
            depth, k = 0, 0
            body = line[4:]
            for k, ch in enumerate(body):
                depth += ch == "("
                depth -= ch == ")"
                if depth == 0:
                    break
            pat, rest = body[:k + 1], body[k + 1:].strip()
            if not rest.startswith("="):
                raise OracleError(f"cannot read {line!r}")
            rest = rest[1:].strip()
            nl, lin = _group(pat)
            if rest == "":
                cur.lines.append(Line("open", nl, lin or []))
            else:
                if not rest.endswith(" in"):
                    raise OracleError(f"cannot read {line!r}")
                rhs = rest[:-3].strip()
                if lin is None:
                    cur.lines.append(Line("unpack", nl, [], rhs))
                else:
                    cur.lines.append(Line("let", nl, lin, rhs))
        else:
            cur.lines.append(Line("leaf", rhs=line))
    return defs


# ----------------------------------------------------------------------------
# Reading a leaf


def _names(s: str) -> list[str]:
    return [x.strip() for x in _split(s, ",") if x.strip()]


def read_leaf(rhs: str, defs) -> tuple[str, list[str], str]:
    """(form, variables read in order, extra): form is lit | prim | call | zero |
    add | scale | dup | drop | group | tuple; extra the op, callee or type."""
    r = rhs.strip()
    if _NUMBER.match(r):
        return "lit", [], ""
    if r == "zero" or r.startswith("zero :"):
        return "zero", [], r.partition(":")[2].strip()
    if r.startswith("("):
        nl, lin = _group(r)
        if lin is None:
            return "tuple", [n for n, _ in nl], ""
        return "group", [n for n, _ in nl] + [n for n, _ in lin], ""
    m = _LOOP.match(r)
    if m:                       # loop [reverse] N f(carry ; linear carry) over (arrays)
        parts = _split(m.group(4), ";")
        nl = _names(parts[0])
        lin = _names(parts[1]) if len(parts) > 1 else []
        over = _names(m.group(6) or "")
        return "loop", nl + over + lin, (m.group(3), int(m.group(2)), len(nl), len(over), len(lin))
    for op, form in ((" +. ", "add"), (" *. ", "scale")):
        if op in r:
            a, b = r.split(op)
            return form, [a.strip(), b.strip()], ""
    m = re.match(r"([A-Za-z_][A-Za-z0-9_']*)\((.*)\)$", r)
    if m:
        fn, args = m.group(1), m.group(2)
        if fn == "dup":
            return "dup", [args.strip()], ""
        if fn == "drop":
            return "drop", [args.strip()], ""
        parts = _split(args, ";")
        names = _names(parts[0]) + (_names(parts[1]) if len(parts) > 1 else [])
        if fn in defs:
            return "call", names, fn
        return "prim", names, fn
    toks = r.split()
    if len(toks) == 3 and toks[1] in INFIX:
        return "prim", [toks[0], toks[2]], toks[1]
    raise OracleError(f"cannot read the expression {rhs!r}")


# ----------------------------------------------------------------------------
# Counting


@dataclass
class Count:
    work: int
    memory: int
    size: int


class Oracle:
    """W, M and |e| of every definition of a printed program."""

    def __init__(self, text: str, costs=None):
        from linear_a.semantics.evaluate import DEFAULT_COSTS
        self.defs = parse_text(text)
        self.costs = costs or DEFAULT_COSTS
        self._memo: dict[str, Count] = {}

    def count(self, fn: str) -> Count:
        c = self._memo.get(fn)
        if c is None:
            c = self._memo[fn] = self._count(self.defs[fn])
        return c

    def _count(self, d: TextDef) -> Count:
        costs = self.costs
        shape = {n: s for n, s in d.nl_params + d.lin_params}
        linear = {n for n, _ in d.lin_params}
        # pass 1: read every line once, in order; the binders a nested chain's tail feeds
        steps = []                  # (form, reads, extra, binders (nl, lin) or None)
        opened = []                 # binders of the open nested chains
        size = 0
        for ln in d.lines:
            if ln.kind == "open":
                opened.append((ln.nl, ln.lin))
                size += 1 + len(ln.nl) + len(ln.lin)
            elif ln.kind == "close":
                continue
            elif ln.kind == "unpack":
                steps.append(("unpack", [ln.rhs], "", ([n for n, _ in ln.nl], [])))
                size += 2 + len(ln.nl)
            elif ln.kind == "let":
                form, reads, extra = read_leaf(ln.rhs, self.defs)
                steps.append((form, reads, extra, (ln.nl, ln.lin)))
                size += 1 + len(ln.nl) + len(ln.lin) + 1 + len(reads)
            else:                   # a chain's tail: the result, or a nested chain's value
                form, reads, extra = read_leaf(ln.rhs, self.defs)
                target = opened.pop() if opened else None
                steps.append((form, reads, extra, target))
                size += 1 + len(reads)
        # pass 2: the last line reading each variable
        last = {}
        for i, (_, reads, _, _) in enumerate(steps):
            for x in reads:
                last[x] = i
        # pass 3: work and memory
        work = 0
        live = sum(reals(s) for s in shape.values())
        peak = live

        def free(i, reads):
            nonlocal live
            for x in set(reads):
                if last.get(x) == i:
                    live -= reals(shape[x])

        def alloc(shapes):
            nonlocal live, peak
            for s in shapes:
                live += reals(s)
            peak = max(peak, live)

        def bind(nl_b, lin_b, outs):
            """The binders take the results' shapes; the linear ones are marked."""
            for n, s in zip(nl_b + lin_b, outs):
                shape[n] = s
            linear.update(lin_b)

        for i, (form, reads, extra, target) in enumerate(steps):
            nl_b = [n for n, _ in target[0]] if target and target[0] and isinstance(target[0][0], tuple) \
                else (target[0] if target else [])
            lin_b = [n for n, _ in target[1]] if target and target[1] and isinstance(target[1][0], tuple) \
                else (target[1] if target else [])
            if form == "unpack":
                src = reads[0]
                parts = shape[src]
                if parts == 1 or len(parts) != len(nl_b):
                    raise OracleError(f"unpack of {src} into {nl_b}")
                for n, s in zip(nl_b, parts):
                    shape[n] = s
                    if src in linear:
                        linear.add(n)
                free(i, reads)
                alloc(parts)
                continue
            if form == "call":
                callee = self.count(extra)
                work += callee.work
                free(i, reads)
                peak = max(peak, live + callee.memory)
                outs = self._call_shapes(extra)
                bind(nl_b, lin_b, outs)
                alloc(outs)
                continue
            if form == "loop":
                fn, n, nc, na, nlin = extra
                step = self.count(fn)
                work += n * (step.work + costs.loop)
                carry, arrays = reads[:nc], reads[nc:nc + na]
                free(i, carry + reads[nc + na:])        # the carry moves into the loop
                before = live
                free(i, arrays)                          # the arrays at their last use too …
                held = before - live                     # … and are held while it runs
                outs = self._result_shapes(self.defs[fn])
                k = len(outs) - nlin             # the step's results: carry, per-iteration, linear
                per_iter = sum(reals(s) for s in outs[nc:k])
                if n:
                    peak = max(peak, live + held + (n - 1) * per_iter + step.memory)
                shapes = outs[:nc] + [[s] * n for s in outs[nc:k]] + outs[k:]
                bind(nl_b, lin_b, shapes)
                alloc(shapes)
                continue
            if form == "group":
                outs = [shape[x] for x in reads]
            elif form == "tuple":
                outs = [[shape[x] for x in reads]]
            elif form == "lit":
                outs = [1]
                work += costs.lit
            elif form == "prim":
                outs = [1]
                work += costs.prim_cost({"+": "+", "-": "-", "*": "*", "/": "/"}.get(extra, extra))
            elif form == "zero":
                ty = extra or (target[1][0][1] if target and target[1] and target[1][0][1] else None)
                if ty is None:
                    raise OracleError("`zero` without a type")
                outs = [parse_shape(ty)]
                work += costs.zero * reals(outs[0])
            elif form == "add":
                outs = [shape[reads[0]]]
                work += costs.add * reals(outs[0])
            elif form == "scale":
                outs = [shape[reads[1]]]
                work += costs.scale * reals(outs[0])
            elif form == "dup":
                outs = [shape[reads[0]]] * 2
                work += costs.dup * reals(outs[0])
            elif form == "drop":
                outs = []
                if reads[0] in linear:
                    work += costs.drop * reals(shape[reads[0]])
            else:
                raise OracleError(form)
            if target is not None:
                bind(nl_b, lin_b, outs)
                if form == "group":     # a nested chain's tail: classes follow the binders
                    for n in nl_b:
                        linear.discard(n)
            if form in ("group", "tuple"):      # passing values on: free, then allocate
                free(i, reads)
                alloc(outs)
            else:                               # computing: allocate, then free
                alloc(outs)
                free(i, reads)
        return Count(work, peak, size)

    def _call_shapes(self, fn: str) -> list:
        """The result shapes of fn, read off its text (its tail group's variables)."""
        d = self.defs[fn]
        # run the shape tracking of fn without costs: the count of fn records them
        return self._result_shapes(d)

    def _result_shapes(self, d: TextDef) -> list:
        shape = {n: s for n, s in d.nl_params + d.lin_params}
        opened = []
        result = None
        for ln in d.lines:
            if ln.kind == "open":
                opened.append((ln.nl, ln.lin))
            elif ln.kind == "unpack":
                for (n, _), s in zip(ln.nl, shape[ln.rhs]):
                    shape[n] = s
            elif ln.kind in ("let", "leaf"):
                form, reads, extra = read_leaf(ln.rhs, self.defs)
                if form == "group":
                    outs = [shape[x] for x in reads]
                elif form == "tuple":
                    outs = [[shape[x] for x in reads]]
                elif form in ("lit", "prim"):
                    outs = [1]
                elif form == "zero":
                    ty = extra or (ln.lin[0][1] if ln.lin and ln.lin[0][1] else None)
                    outs = [parse_shape(ty)]
                elif form in ("add", "dup"):
                    outs = [shape[reads[0]]] * (2 if form == "dup" else 1)
                elif form == "scale":
                    outs = [shape[reads[1]]]
                elif form == "call":
                    outs = self._result_shapes(self.defs[extra])
                elif form == "loop":
                    fn, n, nc, _, nlin = extra
                    st = self._result_shapes(self.defs[fn])
                    k = len(st) - nlin
                    outs = st[:nc] + [[x] * n for x in st[nc:k]] + st[k:]
                else:
                    outs = []
                if ln.kind == "let":
                    binders = [n for n, _ in ln.nl] + [n for n, _ in ln.lin]
                elif opened:
                    nl, lin = opened.pop()
                    binders = [n for n, _ in nl] + [n for n, _ in lin]
                else:
                    result = outs
                    continue
                for n, s in zip(binders, outs):
                    shape[n] = s
        return result or []
