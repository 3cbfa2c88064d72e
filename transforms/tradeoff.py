"""The memory/work trade-off of checkpoint policies, measured (``linear-a checkpoint``).

For each policy: the vjp program of ``fn`` is built (``compose.vjp_program``,
which prepares a schedule policy and applies its post-pass), run at the point
(cotangent 1 per real result), and measured with the §4 evaluator: W (both
halves), M (the larger peak), the residual size (reals in the tuple
``f_jvp_nl`` hands to ``f_jvp_lin_T``), the extra work against save-all, and
whether the gradient equals save-all's (exactly, or within 1e-12 relative:
a schedule may add a parameter's cotangent contributions in another order).
A policy that does not apply to the program gives a row with its error.

:func:`pareto` picks the rows no other row beats in both W and M;
:func:`plot` draws them (matplotlib, an optional extra).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from linear_a.semantics.errors import LinearAError, UsageError
from linear_a.semantics.syntax import nonlinear_entry
from linear_a.semantics.evaluate import vsize

DEFAULT_POLICIES = ("save-all", "recompute-all", "every:4", "every:16", "every:64",
                    "binomial:2", "binomial:4", "binomial:8", "binomial:16")


@dataclass
class Row:
    policy: str
    work: int | None = None
    memory: int | None = None
    residual: int | None = None
    extra_work: int | None = None
    same_gradient: bool | None = None
    error: str | None = None
    gradient: dict | None = None

    def as_json(self) -> dict:
        d = {"policy": self.policy}
        if self.error is not None:
            d["error"] = self.error
            return d
        d.update(work=self.work, memory=self.memory, residual=self.residual,
                 extra_work=self.extra_work, same_gradient=self.same_gradient)
        return d


def _close(a, b) -> bool:
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if a == b:
        return True
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-300)
    except (TypeError, ValueError):
        return False


def _ones(t):
    items = getattr(t, "items", None)
    return 1.0 if items is None else tuple(_ones(u) for u in items)


def measure_policy(prog, fn: str, args, policy: str, domain="float") -> Row:
    from .compose import names_for, vjp_program
    from linear_a.semantics.evaluate import bind_args, evaluate
    from linear_a.semantics.domains import get_domain
    row = Row(policy)
    try:
        d = prog.get(fn)
        dom = get_domain(domain)
        nl_args, _ = bind_args(d, args, dom)
        cts = [_ones(t) for t in d.nl_out]             # cotangent 1 on every real result
        vp = vjp_program(prog, fn, policy)
        nl_name, t_name = names_for(fn)
        r1 = evaluate(vp, nl_name, (nl_args, []), dom)
        k = len(d.nl_out)
        r2 = evaluate(vp, t_name, (list(r1.nl[k:]), cts), dom)
    except LinearAError as e:
        row.error = e.message if hasattr(e, "message") else str(e)
        return row
    except RecursionError:
        row.error = "the schedule nests calls too deeply for this interpreter (use more snapshots)"
        return row
    row.work = r1.work + r2.work
    row.memory = max(r1.memory, r2.memory)
    row.residual = sum(vsize(v) for v in r1.nl[k:])
    row.gradient = {p.name: v for p, v in zip(d.nl_params, r2.lin)}
    return row


def default_point(d) -> dict:
    """Every real of every parameter at 0.5 (W and M do not depend on the point)."""
    def val(t):
        items = getattr(t, "items", None)
        return 0.5 if items is None else [val(u) for u in items]
    return {p.name: val(p.ty) for p in d.nl_params}


def tradeoff(prog, fn: str, args, policies=DEFAULT_POLICIES, domain="float") -> list[Row]:
    """One :class:`Row` per policy; save-all is measured first (the reference)."""
    nonlinear_entry(prog, fn, "checkpointing (of the gradient of a function)")
    base = measure_policy(prog, fn, args, "save-all", domain)
    if base.error:
        raise UsageError(f"save-all: {base.error}")
    rows = []
    for p in policies:
        r = base if p == "save-all" else measure_policy(prog, fn, args, p, domain)
        if r.error is None:
            r.extra_work = r.work - base.work
            r.same_gradient = all(_close(r.gradient[k], base.gradient[k]) for k in base.gradient)
        rows.append(r)
    return rows


def pareto(rows) -> list[Row]:
    """The rows on the memory/work frontier, by increasing M."""
    ok = sorted((r for r in rows if r.error is None), key=lambda r: (r.memory, r.work))
    out, best = [], None
    for r in ok:
        if best is None or r.work < best:
            out.append(r)
            best = r.work
    return out


def plot(rows, path: str, title: str) -> None:
    """Draw W against M for every row, the frontier as a line; written to a
    temporary file first, then renamed (no half-written output)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib, an optional extra: "
                         "pip install 'linear-a[plot]' (matplotlib)") from None
    import os
    import tempfile
    ok = [r for r in rows if r.error is None]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.scatter([r.memory for r in ok], [r.work for r in ok], color="tab:blue", zorder=3)
    for r in ok:
        ax.annotate(r.policy, (r.memory, r.work), textcoords="offset points", xytext=(5, 4),
                    fontsize=8)
    fr = pareto(rows)
    ax.plot([r.memory for r in fr], [r.work for r in fr], color="tab:orange", zorder=2,
            label="frontier (no policy is better in both)")
    ax.set_xlabel("M, peak memory of the gradient program (reals)")
    ax.set_ylabel("W, work of the gradient program")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=d)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=120)
        os.replace(tmp, path)
    except OSError as e:
        os.unlink(tmp)
        raise UsageError(f"cannot write {path}: {e.strerror}") from None
    finally:
        plt.close(fig)
