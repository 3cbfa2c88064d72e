"""`typecheck` and `eval`."""
from __future__ import annotations

from linear_a.semantics.errors import UsageError
from linear_a.semantics.evaluate import evaluate
from linear_a.semantics.printer import show
from linear_a.semantics.typecheck import conclusion_text, typecheck

from .common import add_program_args, get_args, load_program, print_json, to_exact_json, to_json, to_text


def register(sub):
    p = sub.add_parser("typecheck", help="check a program against the typing rules (SPEC §3)")
    p.add_argument("file", help="a Linear A program (.la) or a Python surface file (.py)")
    p.add_argument("--derivation", action="store_true", help="print the typing derivation")
    p.add_argument("--print", action="store_true", dest="print_", help="print the (elaborated) program")
    p.set_defaults(func=run_typecheck)

    p = sub.add_parser("eval", help="evaluate a function: outputs, work, peak memory, size")
    add_program_args(p, point=True)
    p.add_argument("--domain", default="float", choices=["float", "sympy"],
                   help="number domain (sympy: exact values, e.g. 2 - cos(5); arguments may be rationals p/q)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_eval)


def run_typecheck(ns):
    prog = load_program(ns.file)
    dv = typecheck(prog)
    if ns.print_:
        print(show(prog), end="")
    if ns.derivation:
        for d in dv.premises:
            print(d.render(conclusion_text))
    for name, sig in dv.result.items():
        print(f"{name} : {sig}")
    return 0


def run_eval(ns):
    prog = load_program(ns.file, ns.fn)
    r = evaluate(prog, ns.fn, get_args(ns), domain=ns.domain)
    if ns.json:
        out = {"nonlinear": to_json(r.nl), "linear": to_json(r.lin), "work": r.work,
               "memory": r.memory, "size": r.size}
        if ns.domain == "sympy":
            out["exact"] = {"nonlinear": to_exact_json(r.nl), "linear": to_exact_json(r.lin)}
        print_json(out)
    else:
        fmt = lambda vs: ", ".join(to_text(v) for v in vs)
        print(f"({fmt(r.nl)} ; {fmt(r.lin)})")
        print(f"work {r.work}  memory {r.memory}  size {r.size}")
    return 0
