"""Compositions of the three transformations (SPEC §10): reverse mode is
JVP, then unzip, then transpose.

* ``linearize(prog) = unzip(jvp(prog))``: for each f, ``f_jvp_nl(x̄ ;) ->
  (f(x̄), w ;)`` computes the primal results and the residuals ``w``, and
  ``f_jvp_lin(w ; dx̄) -> (; J_f(x̄)·dx̄)`` is the linear map.
* ``vjp_program(prog, fn)``: ``fn_jvp_nl`` and ``fn_jvp_lin_T``, the transpose
  of the linear map, ``fn_jvp_lin_T(w ; ȳ) -> (; J_f(x̄)ᵀ·ȳ)``, with their callees.
* ``vjp(prog, fn, args, cotangent)``: run ``fn_jvp_nl`` at ``args`` for the
  primal results and the residuals, then ``fn_jvp_lin_T`` on ``(w ; ȳ)`` for the
  cotangents of the parameters.  Work is the sum of the two runs, memory the
  larger peak.
* ``grad(prog, fn, args)``: ``vjp`` with ȳ = 1 for a function with one real
  result (a :class:`TransformError` otherwise).
* ``vjp_cost(prog, fn, policy)``: ``vjp``'s W and M only, by cost-only runs
  (``semantics/cost.py``), in time independent of the loops' lengths.

Gradients are keyed by parameter name; tuple parameters get nested tuples.
The checkpoint ``policy`` (see ``linear_a.transforms.checkpoint``) is passed to unzip;
every policy gives the same derivative, only work and memory change.
"""
from __future__ import annotations

from dataclasses import dataclass

from linear_a.semantics.domains import get_domain
from linear_a.semantics.errors import LinearAError, TransformError, UsageError
from linear_a.semantics.evaluate import Costs, bind_args, evaluate
from linear_a.semantics.syntax import Program, call_closure

from .jvp import SUFFIX as JVP_SUFFIX, jvp_program
from .oracle import cotangent_values
from .transpose import SUFFIX as T_SUFFIX, transpose_program
from .checkpoint import as_policy
from .unzip import unzip_program

NL_SUFFIX = "_nl"      # unzip's names (contract in transforms/unzip.py)
LIN_SUFFIX = "_lin"



def definition(prog: Program, fn: str):
    """``prog``'s definition of ``fn``, or a UsageError naming the defined ones."""
    d = prog.get(fn)
    if d is None:
        raise UsageError(f"no function `{fn}` in the program (defined: {', '.join(prog.names) or 'none'})")
    return d

def _unzip_program(prog: Program, policy=None) -> Program:
    # JVP output is well typed by construction; unzip need not re-check it.
    return unzip_program(prog, policy=policy, trusted=True)


def names_for(fn: str) -> tuple[str, str]:
    """The names of fn's primal-and-residual function and of its gradient map."""
    return fn + JVP_SUFFIX + NL_SUFFIX, fn + JVP_SUFFIX + LIN_SUFFIX + T_SUFFIX


def linearize(prog: Program, policy=None, names=None) -> Program:
    """``unzip ∘ jvp``: ``f_jvp_nl`` and ``f_jvp_lin`` for each (requested) f.  A
    schedule (a policy with ``prepare``: ``binomial:S``, ``budget:M``, ``every:K``)
    is prepared for the one requested function."""
    prog, policy = prepared(prog, names, policy)
    return _unzip_program(jvp_program(prog, names), policy)


def prepared(prog: Program, names, policy):
    """``(program, policy)`` with a schedule policy prepared for the single
    function in ``names``; a schedule with no single function is a UsageError."""
    policy = as_policy(policy)
    if getattr(policy, "prepare", None) is None:
        return prog, policy
    if not names or len(names) != 1:
        if getattr(policy, "whole_program", False):     # every:K cuts every definition
            return prog, policy
        raise UsageError(f"policy `{policy.describe()}` schedules one function: name it with --fn")
    definition(prog, names[0])
    return _prepared(prog, names[0], policy)


def _prepared(prog: Program, fn: str, policy):
    """A schedule policy (``binomial:S``, ``budget:M``) may restructure the source
    program before JVP (``policy.prepare(prog, fn)``); others leave it alone."""
    policy = as_policy(policy)
    prepare = getattr(policy, "prepare", None)
    return (prepare(prog, fn) if prepare else prog), policy


def vjp_program(prog: Program, fn: str, policy=None) -> Program:
    """``fn_jvp_nl`` and ``fn_jvp_lin_T`` and the definitions they call, callees first."""
    definition(prog, fn)
    prog, policy = _prepared(prog, fn, policy)
    lin = _unzip_program(jvp_program(prog, [fn]), policy)
    nl_name, t_name = names_for(fn)
    lin_name = fn + JVP_SUFFIX + LIN_SUFFIX
    for n in (nl_name, lin_name):
        if lin.get(n) is None:
            raise TransformError(f"internal: unzip produced no `{n}`", file=prog.file)
    tp = transpose_program(lin, [lin_name], trusted=True)
    defs = {d.name: d for d in lin.defs}
    order = [d.name for d in lin.defs]
    for d in tp.defs:
        if d.name not in defs:
            order.append(d.name)
        defs[d.name] = d
    needed = call_closure(defs, [nl_name, t_name])
    out = Program([defs[n] for n in order if n in needed], prog.file)
    finish = getattr(policy, "finish", None)    # a schedule's post-pass (binomial: untaped advances)
    return finish(out, (nl_name, t_name)) if finish else out


@dataclass
class VJPResult:
    primal: tuple          # f's results at the point
    gradient: dict         # parameter name -> cotangent (nested tuples for tuples)
    work: int              # W(fn_jvp_nl) + W(fn_jvp_lin_T)
    memory: int            # the larger of the two runs' peak memory


def vjp(prog: Program, fn: str, args, cotangent, policy=None, domain="float",
        costs: Costs | None = None, program: Program | None = None) -> VJPResult:
    """The vector–Jacobian product ``J_fn(args)ᵀ · cotangent`` by the composed
    transformations.  ``program``: a ``vjp_program`` already built for fn."""
    d = definition(prog, fn)
    if not d.is_nonlinear:
        raise TransformError(f"vjp needs a purely non-linear function, but `{fn}` has linear "
                             f"parameters or results", d.pos, file=prog.file, rule="JDef")
    try:
        dom = get_domain(domain)
        nl_args, _ = bind_args(d, args, dom)
        cts = cotangent_values(fn, d.nl_out, cotangent)
    except LinearAError as e:
        raise e.located(prog.file)
    vp = program if program is not None else vjp_program(prog, fn, policy)
    nl_name, t_name = names_for(fn)
    r1 = evaluate(vp, nl_name, (nl_args, []), dom, costs)
    k = len(d.nl_out)
    primal, residuals = r1.nl[:k], r1.nl[k:]
    r2 = evaluate(vp, t_name, (list(residuals), cts), dom, costs)
    gradient = {p.name: v for p, v in zip(d.nl_params, r2.lin)}
    return VJPResult(tuple(primal), gradient, r1.work + r2.work, max(r1.memory, r2.memory))


def vjp_cost(prog: Program, fn: str, policy=None, costs: Costs | None = None,
             program: Program | None = None) -> tuple[int, int]:
    """``(W, M)`` of fn's vjp as :func:`vjp` measures them (W of the two runs summed,
    the larger peak), by cost-only runs (``semantics/cost.py``): no values, and a
    time independent of the loops' lengths.  W and M of a vjp do not depend on
    the point or the cotangent, so none is given."""
    from linear_a.semantics.cost import evaluate_cost
    d = definition(prog, fn)
    if not d.is_nonlinear:
        raise TransformError(f"vjp needs a purely non-linear function, but `{fn}` has linear "
                             f"parameters or results", d.pos, file=prog.file, rule="JDef")
    vp = program if program is not None else vjp_program(prog, fn, policy)
    nl_name, t_name = names_for(fn)
    a, b = evaluate_cost(vp, nl_name, costs), evaluate_cost(vp, t_name, costs)
    return a.work + b.work, max(a.memory, b.memory)


def grad(prog: Program, fn: str, args, policy=None, domain="float", costs: Costs | None = None,
         program: Program | None = None) -> VJPResult:
    """``vjp`` with cotangent 1; ``fn`` must have exactly one real result."""
    d = definition(prog, fn)
    cotangent_values(fn, d.nl_out, None)     # refuses anything but one real result
    return vjp(prog, fn, args, None, policy, domain, costs, program)
