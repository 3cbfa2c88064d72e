"""One function through the three transformations, stage by stage, with the
derivation of each stage (what the traces and the worked examples render).

For a purely non-linear ``f`` (the AD case)::

    jvp        f                 ⇝J  f_jvp
    unzip      f_jvp             ⇝U  f_jvp_nl, f_jvp_lin
    transpose  f_jvp_lin         ⇝T  f_jvp_lin_T

For a definition that already has linear parts, JVP does not apply; unzip
and transpose run on it directly (transpose only when it has no non-linear
results, after unzipping otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass

from linear_a.semantics.derivation import Derivation
from linear_a.semantics.errors import TransformError, UsageError
from linear_a.semantics.syntax import Program

STAGES = ("typing", "jvp", "unzip", "transpose", "eval")


@dataclass
class Stage:
    name: str
    derivation: Derivation
    prog_in: Program
    prog_out: Program
    source: str            # the definition transformed
    targets: list          # the definitions it produced


def run_stages(prog: Program, fn: str, policy=None, upto: str = "transpose") -> dict[str, Stage]:
    """The JVP, unzip and transpose stages for ``fn`` (as far as ``upto``)."""
    from linear_a.transforms.jvp import jvp
    from linear_a.transforms.transpose import transpose
    from linear_a.transforms.unzip import unzip

    d = prog.get(fn)
    if d is None:
        raise UsageError(f"no function `{fn}` in the program (defined: {', '.join(prog.names) or 'none'})")
    if policy is not None and d.is_nonlinear:    # a schedule (binomial:S …) prepares the source
        from linear_a.transforms.compose import prepared
        prog, policy = prepared(prog, [fn], policy)
        d = prog.get(fn)
    order = ["jvp", "unzip", "transpose"]
    want = order[:order.index(upto) + 1] if upto in order else order
    out: dict[str, Stage] = {}
    cur_prog, cur = prog, fn
    if d.is_nonlinear:
        dv = jvp(prog, [fn])
        out["jvp"] = Stage("jvp", dv, prog, dv.result, fn, [fn + "_jvp"])
        cur_prog, cur = dv.result, fn + "_jvp"
    elif "jvp" in want and upto == "jvp":
        raise TransformError(f"JVP needs a purely non-linear function; `{fn}` has linear parameters "
                             f"or results (trace its unzip or transpose stage instead)",
                             d.pos, file=prog.file, rule="JDef")
    if "unzip" not in want:
        return out
    cd = cur_prog[cur]
    if cd.nl_out or not cd.lin_params or cur == fn + "_jvp":
        dv = unzip(cur_prog, None if policy is None else policy, names=[cur], trusted=cur_prog is not prog)
        out["unzip"] = Stage("unzip", dv, cur_prog, dv.result, cur, [cur + "_nl", cur + "_lin"])
        cur_prog, cur = dv.result, cur + "_lin"
    if "transpose" not in want:
        return out
    dv = transpose(cur_prog, [cur])
    out["transpose"] = Stage("transpose", dv, cur_prog, dv.result, cur, [cur + "_T"])
    return out
