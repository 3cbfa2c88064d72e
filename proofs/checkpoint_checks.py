"""Per-program checks of the scheduling and checkpointing theorems.

* ``sched-invariance``: TSched (``transforms/transpose.py``) changes no value and
  no work.  For the subject's linearization under save-all, recompute-all and
  every:2, each transposed definition is compared with its unscheduled form
  (non-linear bindings in front, then the transposed code): the same outputs
  for all inputs (normal form) and the same W (measured; W of straight-line
  code does not depend on the inputs).
* ``checkpoint-memory``: the measured peak memory M of the vjp program under a
  schedule is within the bound the schedule states.  ``binomial:S`` (S = 1, 2,
  3): ``snaps·k + c`` (``revolve.peak_bound``).  ``every:K`` (K = 2, 3): the
  larger of the save-all forward half's peak and ``R + S + Λ`` -- R the
  residual reals, S the most reals one segment recomputes, Λ the most live
  linear reals of the transposed code (static liveness); stated for a
  transposed entry without calls (a callee's frame is outside Λ), else
  ``unknown``.

Both are registered in ``proofs/theorems.py`` and ``proofs/checks.py``.
"""
from __future__ import annotations

from linear_a.semantics.evaluate import evaluate
from linear_a.semantics.syntax import Block, Call, Def, Let, Program, iter_nodes, leaf_uses

from .normalform import NormalForm, TooBig, basis_value, symbolic_value


def _linearized(s, policy):
    from linear_a.transforms.unzip import unzip
    return s.cached(("lin-sched", policy), lambda: unzip(s.jvp(), policy))


def check_sched_invariance(s, v) -> None:
    from linear_a.transforms.transpose import transpose
    from . import measure
    compared = []
    for policy in ("save-all", "recompute-all", "every:2"):
        dv = _linearized(s, policy)
        sig = dv.notes["signatures"][s.entry.name + "_jvp"]
        lp, fn = dv.result, sig.lin_name
        tdv = transpose(lp, [fn], trusted=True)
        tp = tdv.result
        for tdef in tdv.premises:
            sched = tdef.notes["sched"]
            front, out = sched.subject
            d = tdef.result
            plain = Def(d.name, d.nl_params, d.lin_params, d.nl_out, d.lin_out,
                        Block(list(front) + list(out), d.body.tail, d.body.pos), d.pos)
            up = Program([plain if e.name == d.name else e for e in tp.defs], tp.file)
            w0, w1 = measure.work(up, d.name, s.costs), measure.work(tp, d.name, s.costs)
            if w0 != w1:
                v.refute("measurement", f"{policy}: W({d.name}) = {w1} scheduled, {w0} unscheduled",
                         {"policy": policy, "W": w1, "W_unscheduled": w0})
            try:
                dom = NormalForm()      # one domain for both runs: atoms shared
                xs = [symbolic_value(dom, p.ty, p.name) for p in d.nl_params]
                ys, k = [], 0
                for p in d.lin_params:
                    val, k = basis_value(dom, p.ty, k)
                    ys.append(val)
                r0 = evaluate(up, d.name, (xs, ys), dom)
                r1 = evaluate(tp, d.name, (xs, ys), dom)
            except TooBig as e:
                v.add("normal form", "unknown", f"{policy}: {e}")
                continue
            if (r0.nl, r0.lin) != (r1.nl, r1.lin):
                v.refute("normal form", f"{policy}: {d.name} scheduled ≠ unscheduled",
                         {"policy": policy})
            compared.append(f"{policy}: {d.name} ({sched.notes['moved']} moved)")
    v.add("normal form", "proved", "same outputs for all inputs; " + "; ".join(compared))
    v.add("measurement", "proved", "same W scheduled and unscheduled")


def _run(vp, fn, d, dom):
    from linear_a.transforms.compose import names_for
    from linear_a.transforms.budget import _symbolic
    nl, tn = names_for(fn)
    args = [_symbolic(p.ty, dom, p.name) for p in d.nl_params]
    r1 = evaluate(vp, nl, (args, []), dom)
    k = len(d.nl_out)

    def one(t):
        items = getattr(t, "items", None)
        return dom.const("1") if items is None else tuple(one(u) for u in items)
    r2 = evaluate(vp, tn, (list(r1.nl[k:]), [one(t) for t in d.nl_out]), dom)
    return r1, r2


def linear_peak(d: Def, env: dict) -> int | None:
    """The most reals held by live *linear* variables of d's body at once, by the
    evaluator's liveness rules (a computing node holds inputs and results); None
    if the body calls a function (a callee's frame is not counted here)."""
    from linear_a.semantics.evaluate import use_counts
    from linear_a.semantics.syntax import NUnpack, LUnpack, Ret, NTup, LTup, size_of_type
    body = d.body
    if any(type(n) is Call for n in iter_nodes(body)):
        return None
    left = dict(use_counts(body))
    size = lambda x: size_of_type(env[x][1]) if env[x][1] is not None else 1
    live = sum(size(p.name) for p in d.lin_params)
    peak = live
    lin = lambda x: env[x][0]

    def release(names):
        nonlocal live
        for x in names:
            left[x] -= 1
            if left[x] == 0 and lin(x):
                live -= size(x)
    for b in body.binds:
        if type(b) is Let:
            uses = leaf_uses(b.rhs)
            res = sum(size(x) for x in b.lin)
            if type(b.rhs) in (Ret, NTup, LTup):
                release(uses)
                live += res
            else:
                live += res
                peak = max(peak, live)
                release(uses)
        else:
            release((b.src,))
            if type(b) is LUnpack:
                live += sum(size(x) for x in b.names)
        peak = max(peak, live)
    return peak


def check_checkpoint_memory(s, v) -> None:
    from linear_a.semantics.domains import get_domain
    from linear_a.transforms.compose import names_for, vjp_program
    from linear_a.transforms.every import EveryK
    from linear_a.transforms.revolve import Binomial, peak_bound
    from linear_a.transforms.transpose import binder_env
    from linear_a.semantics.evaluate import vsize
    from .loop_memory import check_loop_memory
    if check_loop_memory(s, v):       # a loop: the schedules over iterations (issue 14)
        return
    d = s.entry
    dom = get_domain("z3")
    notes = []
    for snaps in (1, 2, 3):
        pol = Binomial(snaps)
        vp = vjp_program(s.prog, d.name, pol)
        r1, r2 = _run(vp, d.name, d, dom)
        M = max(r1.memory, r2.memory)
        bound = peak_bound(pol.restructured)
        if M > bound:
            v.refute("measurement", f"binomial:{snaps}: M = {M} > snaps·k + c = {bound}",
                     {"policy": f"binomial:{snaps}", "M": M, "bound": bound})
        notes.append(f"binomial:{snaps} M = {M} ≤ {bound}")
    base = vjp_program(s.prog, d.name, "save-all")
    b1, _ = _run(base, d.name, d, dom)
    for k in (2, 3):
        pol = EveryK(k)
        vp = vjp_program(s.prog, d.name, pol)
        nl_name, t_name = names_for(d.name)
        tdef = vp.get(t_name)
        env = binder_env(tdef, {e.name: e.signature for e in vp.defs})
        lam = linear_peak(tdef, env)
        r1, r2 = _run(vp, d.name, d, dom)
        M = max(r1.memory, r2.memory)
        if lam is None:
            notes.append(f"every:{k} M = {M} (bound not stated: the transposed entry calls)")
            continue
        R = sum(vsize(x) for x in r1.nl[len(d.nl_out):])
        S = pol.segment_reals.get(d.name + "_jvp", 0)
        bound = max(b1.memory, R + S + lam)
        if M > bound:
            v.refute("measurement", f"every:{k}: M = {M} > max(M_nl(save-all), R + S + Λ) = "
                     f"max({b1.memory}, {R} + {S} + {lam})",
                     {"policy": f"every:{k}", "M": M, "bound": bound})
        notes.append(f"every:{k} M = {M} ≤ max({b1.memory}, {R}+{S}+{lam}) = {bound}")
    v.add("measurement", "proved", "; ".join(notes))


EXTRA_POLICIES: list = []      # `linear-a check --policy P`: also checked by checkpoint-invariance


def set_extra_policies(policies) -> None:
    """Validate the policy strings (a TransformError names a bad one) and add them."""
    from linear_a.transforms.checkpoint import policy_from_string
    for p in policies:
        policy_from_string(p)
    EXTRA_POLICIES[:] = list(policies)


def schedule_invariance(s, v) -> str | None:
    """``checkpoint-invariance`` for the schedules that restructure the source
    (``binomial:S``, S = 1, 2) and the policies given to ``check --policy``: the
    vjp program's primal results and gradient, for all inputs and every
    cotangent (normal form), equal save-all's.  Returns the note to add, or
    None after an undecided verdict."""
    from linear_a.transforms.compose import names_for, vjp_program
    d = s.entry
    nl, tn = names_for(d.name)

    dom = NormalForm()          # one domain: atoms shared, so equal forms compare equal

    def nf(policy):
        vp = vjp_program(s.prog, d.name, policy)
        xs = [symbolic_value(dom, p.ty, p.name) for p in d.nl_params]
        r1 = evaluate(vp, nl, (xs, []), dom)
        k, cts = 0, []
        for t in d.nl_out:
            val, k = basis_value(dom, t, k)
            cts.append(val)
        r2 = evaluate(vp, tn, (list(r1.nl[len(d.nl_out):]), cts), dom)
        return tuple(r1.nl[:len(d.nl_out)]), tuple(r2.lin)
    try:
        base = nf("save-all")
        for policy in ["binomial:1", "binomial:2"] + EXTRA_POLICIES:
            if nf(policy) != base:
                v.add("normal form", "unknown", f"{policy}: normal form differs from save-all's")
                return None
    except TooBig as e:
        v.add("normal form", "unknown", str(e))
        return None
    return ", ".join(["binomial:1", "binomial:2"] + EXTRA_POLICIES) + " (vjp)"
