r"""The loop rules of JVP, unzip and transposition (SPEC §17; semantics/loops.py
defines the loop itself).

* **JLoop** (JVP).  ``loop N f(x̄ ;)`` ⟶ ``loop N f_jvp(x̄ ; θ(x̄))``: a loop of the
  step's JVP, the tangents carried beside the values (split with ``dup`` as
  JCall splits shared tangents).  Arrays carry no tangent, so JVP refuses a
  loop that reads arrays (``over``) or stacks outputs: in this project arrays
  arise from unzip's residual stacking; a user's loop carries its state.

* **ULoop** (unzip, save-all and the policies' whole-loop recompute).  The
  step g (mixed, e.g. ``f_jvp``) is unzipped first, as callees are, into
  ``g_nl(x̄, ē ;) -> (x̄', ῡ, R ;)`` and ``g_lin(w : R ; l̄) -> (; l̄')``; then::

      let (x̄', ῡs ; l̄') = loop N g(x̄ ; l̄) over (ā)
        ⟶  C  = let (x̄', ῡs, ws ;) = loop N g_nl(x̄) over (ā)      ws : [R; N]
            eₗ = let (; l̄') = loop N g_lin(; l̄) over (ws)

  Each iteration's residual tuple is stacked (``ws``) by the non-linear loop
  and read back, in the same order, by the linear loop.  A *recompute*
  decision for the loop's choice point (kind ``"loop"``) emits the
  non-linear loop again in the linear half, so ``ws`` is rebuilt there
  instead of being stored (checkpointing *inside* the iterations is not
  done here).  Staging (``unknown=``) of a step's own parameters is refused;
  a loop whose inputs are unknown in the caller moves wholesale to the
  second stage (UUnknown), as a call does.

* **TLoop** (transposition).  A linear loop ``loop N g(; l̄) over (ā)`` ⟶
  ``loop reverse N g_T(; l̈) over (ā)``: the transposed step, run in the
  reverse order, carrying the cotangents (the reverse of a reverse loop runs
  forwards).  A loop with a non-linear carry in linear code does not
  transpose; a purely non-linear loop stays in front (TLetNonLin).
"""
from __future__ import annotations

from linear_a.semantics.derivation import Derivation
from linear_a.semantics.errors import TransformError
from linear_a.semantics.rules import rule
from linear_a.semantics.syntax import ArrayType, Let, Loop, Signature


def loop_result_types(e: Loop, sig: Signature):
    """(non-linear, linear) result types of a loop whose step has signature ``sig``."""
    nc = len(e.nl)
    return (tuple(sig.nl_out[:nc]) + tuple(ArrayType(t, e.n) for t in sig.nl_out[nc:]),
            tuple(sig.lin_out))


# ----------------------------------------------------------------------------
# JVP


@rule("jvp", "JLoop",
      r"\theta \vdash \mathsf{loop}\ N\ f(\bar x ;) \leadsto_J \mathsf{loop}\ N\ f_{\mathit{jvp}}(\bar x ; \theta(\bar x))",
      [r"f \leadsto_J f_{\mathit{jvp}}", r"\theta(x_i) \text{ split by } \mathsf{dup} \text{ or made by JZero}"],
      "a loop runs the step's JVP, carrying the tangents beside the values (a constant carry gets a zero)")
def JLoop(cx, e: Loop, dest, out: list) -> Derivation:
    start = len(out)
    target = cx.callees.get(e.fn)
    if target is None or e.lin:
        cx.refuse(f"a loop of `{e.fn}`, which is not purely non-linear", e.pos)
    if e.over or target[1] != len(e.nl):
        raise TransformError(f"JVP of the loop of `{e.fn}` in `{cx.d.name}`: the loop reads or stacks "
                             f"arrays, and arrays carry no tangent", e.pos, file=cx.file,
                             rule="JLoop",
                             hint="carry the values the step needs in the loop's state instead")
    ts = [cx.linear(x, out) for x in e.nl]     # JZero where the carry is a constant
    out.append(Let(dest, [cx.bind(z) for z in dest],
                   Loop(e.n, target[0], e.nl, ts, (), e.reverse, e.pos)))
    return Derivation("jvp", "JLoop", e, out[start:])


# ----------------------------------------------------------------------------
# Unzip


@rule("unzip", "ULoop",
      r"\mathsf{loop}\ N\ g(\bar x ; \dot{\bar y})\ \mathsf{over}\ (\bar a) \leadsto_U (\mathsf{let}\ (\bar r, \bar o, w ;) = \mathsf{loop}\ N\ g_{nl}(\bar x ;)\ \mathsf{over}\ (\bar a)\ \mathsf{in}\ \square ; (\bar r, \bar o ;) ; \mathsf{loop}\ N\ g_{lin}(; \dot{\bar y})\ \mathsf{over}\ (w))",
      [r"g \leadsto_U g_{nl}, g_{lin} \text{ (callees first)}", r"w : [R; N] \text{ fresh}"],
      "a loop: the non-linear loop stacks each iteration's residuals, the linear loop reads them back")
def ULoop(u, b: Let):
    from .unzip import _Item, _drop
    e = b.rhs
    sig = u.sigs.get(e.fn)
    if sig is None:
        raise TransformError(f"`{u.d.name}` loops over `{e.fn}`, which is not unzipped before it",
                             e.pos, file=u.file, rule="ULoop")
    if sig.unknown_in or sig.unknown_out:
        raise TransformError(f"unzip: the step function `{e.fn}` of a loop has unknown (staged) "
                             f"inputs; staging a loop's step is not supported", e.pos, file=u.file,
                             rule="ULoop",
                             hint="stage the caller's inputs instead: a loop reading them moves "
                                  "wholesale to the second stage")
    nc = len(e.nl)
    out_tys = u.callee_out[e.fn]
    for i, x in enumerate(b.nl):
        u.nlty[x] = out_tys[i] if i < nc else ArrayType(out_tys[i], e.n)
    w = u.fresh("ws_" + e.fn)
    u.nlty[w] = ArrayType(sig.residual_type, e.n)
    head = Let(b.nl + (w,), (), Loop(e.n, sig.nl_name, e.nl, (), e.over, e.reverse, e.pos), b.pos)
    ins = e.nl + e.over
    if sig.lin_trivial:
        return _Item(b, "ULoop", nl=(head, _drop(w)), ins=ins, outs=b.nl)
    tail = Let((), b.lin, Loop(e.n, sig.lin_name, (), e.lin, (w,), e.reverse, e.pos), b.pos)
    return _Item(b, "ULoop", nl=(head,), ins=ins, outs=b.nl + (w,), lin=(tail,), lin_reads=(w,))


# ----------------------------------------------------------------------------
# Transposition


@rule("transpose", "TLoop",
      r"\dot{\bar y} \Leftarrow \ddot{\bar z} \vdash \mathsf{loop}\ N\ g(; \dot{\bar y})\ \mathsf{over}\ (\bar a) \leadsto_T \mathsf{loop\ reverse}\ N\ g_T(; \ddot{\bar z})\ \mathsf{over}\ (\bar a)",
      [r"g \leadsto_T g_T"],
      "a linear loop transposes to the reversed loop of the transposed step, carrying cotangents")
def TLoop(cx, e: Loop, cts) -> Derivation:
    if e.nl:
        cx.refuse(f"the loop of `{e.fn}` in `{cx.d.name}` carries non-linear values ("
                  f"{', '.join(e.nl)}) inside linear code", e.pos)
    target = cx.need(e.fn)
    b = Let((), [cx.give(y) for y in e.lin],
            Loop(e.n, target, (), cts, e.over, not e.reverse, e.pos), e.pos)
    cx.out.append(b)
    return Derivation("transpose", "TLoop", e, [b])


# ----------------------------------------------------------------------------
# Unrolling (the reference the loop rules are tested against)


def unroll_loops(prog):
    """A copy of the program with every loop replaced by N calls of its step
    function, one after another (loops that read or stack arrays are
    refused).  The loop-free program the loop rules are tested against; its
    size grows with N."""
    from linear_a.semantics.syntax import Def, Program
    from .fresh import Fresh, def_names
    out = []
    for d in prog.defs:
        fresh = Fresh(def_names(d))
        body = _unroll_expr(d.body, fresh)
        out.append(d if body is d.body else
                   Def(d.name, d.nl_params, d.lin_params, d.nl_out, d.lin_out, body, d.pos))
    return Program(out, prog.file)


def _unroll_expr(e, fresh):
    """e with its loops unrolled (a loop over each chain; recursion on the
    nesting of right-hand sides only)."""
    from linear_a.semantics.syntax import Block, Ret
    if type(e) is Loop:
        names = [fresh("r") for _ in range(len(e.nl))]
        lins = [fresh("s") for _ in range(len(e.lin))]
        return Block(_unrolled(Let(names, lins, e, e.pos), fresh), Ret(names, lins, e.pos), e.pos)
    if type(e) is not Block:
        return e
    binds, changed = [], False
    for b in e.binds:
        if type(b) is Let and type(b.rhs) is Loop:
            binds.extend(_unrolled(b, fresh))
            changed = True
        elif type(b) is Let and type(b.rhs) is Block:
            rhs = _unroll_expr(b.rhs, fresh)
            changed |= rhs is not b.rhs
            binds.append(b if rhs is b.rhs else Let(b.nl, b.lin, rhs, b.pos, b.nl_ty, b.lin_ty))
        else:
            binds.append(b)
    tail = _unroll_expr(e.tail, fresh)
    if not changed and tail is e.tail:
        return e
    return Block(binds + (tail.binds if type(tail) is Block else []),
                 tail.tail if type(tail) is Block else tail, e.pos)


def _unrolled(b: Let, fresh):
    from linear_a.semantics.syntax import Call, Ret
    e = b.rhs
    if e.over or len(b.nl) != len(e.nl):
        raise TransformError("unroll: only loops without arrays (no `over`, no stacked outputs) "
                             "unroll", e.pos, rule="Loop")
    if e.reverse:
        raise TransformError("unroll: a reverse loop without arrays is a forward loop; write it so",
                             e.pos, rule="Loop")
    nl, lin = list(e.nl), list(e.lin)
    binds = []
    for _ in range(e.n):
        nl2 = [fresh(x) for x in b.nl]
        lin2 = [fresh(y) for y in b.lin]
        binds.append(Let(nl2, lin2, Call(e.fn, nl, lin, e.pos), b.pos))
        nl, lin = nl2, lin2
    binds.append(Let(b.nl, b.lin, Ret(nl, lin, e.pos), b.pos, b.nl_ty, b.lin_ty))
    return binds
