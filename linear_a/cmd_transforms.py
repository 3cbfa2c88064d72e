"""`jvp`, `unzip`, `transpose`, `linearize`, `vjp`, `grad`.

The program-valued commands print the transformed definition(s) and their
callees in core syntax (the printer's output parses back).  `grad` and `vjp`
with a point print the primal results, the gradient by parameter name, and the
work and peak memory of the two runs (``--json``: ``{"primal", "gradient",
"work", "memory"}``).

`vjp` without a point prints through the fast flat path (``linear_a.transforms.flat``)
when the program is in its fragment and the policy is save-all: the same text
as the reference pipeline, ~8x sooner on long chains.  ``--reference``
forces the rule-based pipeline; bad input always gets the reference's errors.
``--explain`` says on stderr which path answered and why.
"""
from __future__ import annotations

from linear_a.semantics.printer import show
from linear_a.semantics.syntax import Program, call_closure

from .common import (add_program_args, get_args, load_program, parse_json_arg, print_json, to_exact_json,
                     to_json, to_text)


def register(sub):
    p = sub.add_parser("jvp", help="forward mode: f ↦ f_jvp (SPEC §7)")
    add_program_args(p, fn_required=False)
    p.set_defaults(func=run_jvp)

    p = sub.add_parser("unzip", help="split into f_nl and f_lin (SPEC §8)")
    add_program_args(p, fn_required=False)
    _policy(p)
    p.set_defaults(func=run_unzip)

    p = sub.add_parser("transpose", help="transpose linear functions: f ↦ f_T (SPEC §9)")
    add_program_args(p, fn_required=False)
    p.set_defaults(func=run_transpose)

    p = sub.add_parser("linearize", help="unzip ∘ jvp: f_jvp_nl and f_jvp_lin (SPEC §10)")
    add_program_args(p, fn_required=False)
    _policy(p)
    p.set_defaults(func=run_linearize)

    p = sub.add_parser("vjp", help="reverse mode: print f_jvp_nl and f_jvp_lin_T, or, given a point "
                                   "and a cotangent, compute J^T·ct")
    add_program_args(p, point=True)
    p.add_argument("--cotangent", help="JSON: one value per result of the function "
                                       "(a bare value for a single result)")
    _policy(p)
    _values(p)
    p.add_argument("--reference", action="store_true",
                   help="print through the reference pipeline (rules and derivations) even where "
                        "the fast flat path applies; the text is the same")
    p.add_argument("--explain", action="store_true",
                   help="say on stderr which path (fast or reference) printed the program, and why")
    p.set_defaults(func=run_vjp)

    p = sub.add_parser("grad", help="the gradient of a function with one real result")
    add_program_args(p, point=True)
    _policy(p)
    _values(p)
    p.set_defaults(func=run_grad)


    p = sub.add_parser("checkpoint", help="the memory/work trade-off of checkpoint policies: per "
                                          "policy W, M, residual size, extra work, same gradient")
    add_program_args(p, point=True)
    p.add_argument("--policies", default=None, metavar="P,Q,…",
                   help="the policies to compare (default: save-all, recompute-all, every:4, every:16, "
                        "every:64, binomial:2, binomial:4, binomial:8, binomial:16); forms: "
                        "POLICY_FORMS")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--plot", metavar="OUT.png", default=None,
                   help="draw the memory/work frontier to OUT.png (needs matplotlib)")
    p.set_defaults(func=run_checkpoint)
    from linear_a.transforms.checkpoint import policy_forms
    p._actions[-3].help = p._actions[-3].help.replace("POLICY_FORMS", " | ".join(policy_forms()))


def _policy(p):
    from linear_a.transforms.checkpoint import policy_forms
    p.add_argument("--policy", default=None, metavar="POLICY",
                   help="checkpoint policy (default save-all): " + " | ".join(policy_forms())
                        + "; see docs/unzip-and-checkpointing.md")


def _values(p):
    p.add_argument("--domain", default="float", choices=["float", "sympy"],
                   help="number domain (sympy: exact values, e.g. 2 - cos(5); arguments may be rationals p/q)")
    p.add_argument("--json", action="store_true", help="print JSON")


def _get_policy(ns):
    if ns.policy is None:
        return None
    from linear_a.transforms.checkpoint import policy_from_string
    return policy_from_string(ns.policy)


def _select(prog: Program, roots) -> Program:
    """The definitions ``roots`` and everything they call, in program order."""
    needed = call_closure({d.name: d for d in prog.defs}, roots)
    return Program([d for d in prog.defs if d.name in needed], prog.file)


def _names(ns):
    return None if ns.fn is None else [ns.fn]


def run_jvp(ns):
    from linear_a.transforms.jvp import jvp_program
    print(show(jvp_program(load_program(ns.file, ns.fn), _names(ns))), end="")
    return 0


def run_unzip(ns):
    from linear_a.transforms.unzip import unzip_program
    from linear_a.transforms.compose import prepared
    prog, policy = prepared(load_program(ns.file, ns.fn), _names(ns), _get_policy(ns))
    out = unzip_program(prog, policy=policy, names=_names(ns))
    if ns.fn is not None:
        out = _select(out, [ns.fn + "_nl", ns.fn + "_lin"])
    print(show(out), end="")
    return 0


def run_transpose(ns):
    from linear_a.transforms.transpose import transpose_program
    print(show(transpose_program(load_program(ns.file, ns.fn), _names(ns))), end="")
    return 0


def run_linearize(ns):
    from linear_a.transforms.compose import linearize
    print(show(linearize(load_program(ns.file, ns.fn), _get_policy(ns), _names(ns))), end="")
    return 0


def _report(ns, r):
    if ns.json:
        out = {"primal": to_json(r.primal),
               "gradient": {k: to_json(v) for k, v in r.gradient.items()},
               "work": r.work, "memory": r.memory}
        if getattr(ns, "domain", "float") == "sympy":
            out["exact"] = {"primal": to_exact_json(r.primal),
                            "gradient": {k: to_exact_json(v) for k, v in r.gradient.items()}}
        print_json(out)
        return
    print("primal:   " + ", ".join(to_text(v) for v in r.primal))
    print("gradient:")
    for k, v in r.gradient.items():
        print(f"  {k} = {to_text(v)}")
    print(f"work {r.work}  memory {r.memory}")


def _has_point(ns) -> bool:
    return ns.args is not None or ns.at is not None


def _not_fast(ns) -> str | None:
    """Why the fast path is not tried (None: it is)."""
    if ns.reference:
        return "--reference"
    if not ns.file.endswith(".la"):
        return "a surface (.py) file is traced into a program, not read as text"
    if ns.policy not in (None, "save-all"):
        return f"policy `{ns.policy}`: only save-all has a fast path"
    return None


def _explain(ns, what: str) -> None:
    if getattr(ns, "explain", False):
        import sys
        print(f"vjp: {what}", file=sys.stderr)


def _fast_vjp_text(ns):
    """The printed vjp program from the fast flat path (``linear_a.transforms.flat``), or
    None where it does not apply: a policy other than save-all, a surface
    file, a program outside the flat fragment, bad input (whose error the
    reference path then reports)."""
    why = _not_fast(ns)
    if why is not None:
        _explain(ns, f"printed by the reference pipeline: {why}")
        return None
    from linear_a.transforms.flat import PASSES, NotFast, fast_vjp_text
    from .common import read_text
    text = read_text(ns.file)
    how: list = []
    try:
        out = fast_vjp_text(text, ns.fn, how)
    except MemoryError:
        raise
    except Exception as e:      # outside the fragment, or bad input: the reference decides
        _explain(ns, f"printed by the reference pipeline: the fast path declined ({e or type(e).__name__})")
        return None
    _explain(ns, f"printed by {PASSES[how[-1]]}: the program is in the flat fragment")
    return out


def run_vjp(ns):
    from linear_a.transforms.compose import vjp, vjp_program
    if not _has_point(ns) and ns.cotangent is None:
        text = _fast_vjp_text(ns)
        if text is not None:
            print(text, end="")
            return 0
    elif getattr(ns, "explain", False):
        _explain(ns, "values at a point, by the reference pipeline (the fast path only prints "
                     "programs)")
    prog = load_program(ns.file, ns.fn)
    policy = _get_policy(ns)
    if not _has_point(ns):
        if ns.cotangent is not None:
            from linear_a.semantics.errors import UsageError
            raise UsageError("--cotangent needs a point (--args or --at)")
        print(show(vjp_program(prog, ns.fn, policy)), end="")
        return 0
    ct = None if ns.cotangent is None else parse_json_arg(ns.cotangent, "--cotangent")
    _report(ns, vjp(prog, ns.fn, get_args(ns), ct, policy, ns.domain))
    return 0


def run_grad(ns):
    from linear_a.transforms.compose import grad
    prog = load_program(ns.file, ns.fn)
    _report(ns, grad(prog, ns.fn, get_args(ns), _get_policy(ns), ns.domain))
    return 0


def run_checkpoint(ns):
    from linear_a.transforms.checkpoint import policy_from_string
    from linear_a.transforms.tradeoff import DEFAULT_POLICIES, pareto, plot, tradeoff
    prog = load_program(ns.file)
    d = prog.get(ns.fn)
    args = get_args(ns)
    if d is not None and not args:     # no point given: every real parameter at 0.5
        from linear_a.transforms.tradeoff import default_point
        args = default_point(d)
    policies = DEFAULT_POLICIES if ns.policies is None else \
        [q.strip() for q in _split_policies(ns.policies)]
    for q in policies:                 # a malformed policy string is the user's error: fail early
        policy_from_string(q)
    rows = tradeoff(prog, ns.fn, args, policies)
    if ns.plot:
        plot(rows, ns.plot, f"{ns.fn}: checkpoint policies")
    if ns.json:
        print_json({"function": ns.fn, "point": {k: to_json(v) for k, v in args.items()},
                    "rows": [r.as_json() for r in rows],
                    "frontier": [r.policy for r in pareto(rows)]})
        return 0
    base = rows[0] if rows and rows[0].policy == "save-all" else None
    print(f"{'policy':<16} {'W':>9} {'M':>7} {'residual':>9} {'extra W':>9} {'W/Wsave':>8} "
          f"{'M/Msave':>8}  gradient")
    from linear_a.transforms.tradeoff import measure_policy
    ref = base or measure_policy(prog, ns.fn, args, "save-all")
    front = {r.policy for r in pareto(rows)}
    for r in rows:
        if r.error is not None:
            print(f"{r.policy:<16} not applicable: {r.error}")
            continue
        same = "= save-all" if r.same_gradient else "DIFFERS from save-all"
        mark = " *" if r.policy in front else ""
        print(f"{r.policy:<16} {r.work:>9} {r.memory:>7} {r.residual:>9} {r.extra_work:>9} "
              f"{r.work / ref.work:>8.2f} {r.memory / ref.memory:>8.2f}  {same}{mark}")
    print("* on the memory/work frontier (no other policy has both less W and less M)")
    if ns.plot:
        print(f"plot written to {ns.plot}")
    return 0


def _split_policies(text: str) -> list:
    """Split ``P,Q,…`` at commas that start a new policy (``recompute:a,b`` and
    ``call:g=save,h=recompute`` keep their own commas)."""
    from linear_a.transforms.checkpoint import policy_forms
    heads = {f.split(":")[0] for f in policy_forms()}
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if out and part.split(":")[0] not in heads:
            out[-1] += "," + part
        else:
            out.append(part)
    return out
