"""`paper`, `trace`, `teach`: the generated document, derivation traces, and
the worked examples in the terminal.

* ``linear-a paper --out DIR [--check-results FILE | --no-checks] [--no-pdf]``
  writes ``DIR/linear-a.tex`` with its inputs and builds ``DIR/linear-a.pdf``;
  the theorem-check table comes from FILE (``linear-a check --json``) or from
  running the checks on the built-in corpus during the build.
* ``linear-a trace FILE --fn NAME [--args JSON | --at x=1] [--stage STAGE]
  [--latex OUT.tex [--pdf] [--compact | --slides]]`` renders one function's derivations: its typing
  derivation, each transformation's rule-by-rule trace, its evaluation
  tables.  Without ``--latex`` the trace is printed as text.  An ill-typed
  program's typing derivation is rendered up to the failing rule; the command
  then exits 1 naming that rule.  ``--compact`` writes a handout (one row per
  binding, rules merged, full headers, long stages elided in the middle with a
  count), ``--slides`` a beamer deck with one stage per frame
  (:mod:`linear_a.paper.compact`).
* ``linear-a teach [EXAMPLE]`` prints the seed article's example (or
  ``pottier``, ``matvec``, ``checkpoint``, ``loop``) as tables: primal, tangent and
  adjoint traces, then the same function through JVP, unzip and transpose.
"""
from __future__ import annotations

import time
from pathlib import Path

from linear_a.semantics.errors import UsageError

from .common import add_program_args, get_args, load_program

STAGES = ("typing", "jvp", "unzip", "transpose", "eval", "all")


def register(sub):
    p = sub.add_parser("paper", help="write and build the generated paper (LaTeX → PDF)")
    p.add_argument("--out", required=True, help="output directory (DIR/linear-a.tex, DIR/linear-a.pdf)")
    p.add_argument("--check-results", help="JSON written by `linear-a check --json`, to include "
                                           "the theorem-check summary table")
    p.add_argument("--no-checks", action="store_true",
                   help="do not run the theorem checks for the summary table (without "
                        "--check-results the checks run on the built-in corpus)")
    p.add_argument("--no-pdf", action="store_true", help="write the LaTeX only, do not run latexmk")
    p.add_argument("--quick", action="store_true", help="only the first worked example")
    p.set_defaults(func=run_paper)

    p = sub.add_parser("trace", help="render a function's derivations (typing, JVP, unzip, "
                                     "transpose, evaluation), as text or LaTeX/PDF")
    add_program_args(p, point=True)
    p.add_argument("--stage", default="all", choices=STAGES, help="which derivation (default: all)")
    from linear_a.transforms.checkpoint import policy_forms
    p.add_argument("--policy", default=None, metavar="POLICY",
                   help="checkpoint policy for the unzip stage: " + " | ".join(policy_forms()))
    p.add_argument("--latex", metavar="OUT.tex", help="write a standalone LaTeX document")
    p.add_argument("--pdf", action="store_true", help="also build OUT.pdf with latexmk")
    p.add_argument("--compact", action="store_true",
                   help="one row per binding (rules merged), full headers, long stages elided in the "
                        "middle with a count: a handout (with --latex)")
    p.add_argument("--slides", action="store_true",
                   help="a beamer deck, one stage per frame (with --latex)")
    p.set_defaults(func=run_trace)

    p = sub.add_parser("teach", help="the seed article's worked example (and others) in the terminal")
    p.add_argument("example", nargs="?", default="seed",
                   help="seed (default), pottier, matvec, checkpoint, loop")
    p.add_argument("--list", action="store_true", help="list the examples")
    p.set_defaults(func=run_teach)


def run_paper(ns):
    from linear_a.paper.document import write_paper
    t0 = time.perf_counter()
    res = write_paper(ns.out, ns.check_results, pdf=not ns.no_pdf, quick=ns.quick,
                      checks=not ns.no_checks)
    print(f"wrote {res['tex']}")
    if res["pdf"]:
        print(f"built {res['pdf']} ({res['pages']} pages) in {time.perf_counter() - t0:.1f} s")
    return 0


def run_trace(ns):
    from linear_a.paper.trace import trace_document, trace_text
    if ns.pdf and not ns.latex:
        raise UsageError("--pdf needs --latex OUT.tex (the PDF is built next to it)")
    if ns.pdf:
        from linear_a.paper.build import require_tex
        require_tex()
    prog = load_program(ns.file, ns.fn)
    args = get_args(ns)
    if ns.stage == "eval" and not args:
        raise UsageError("--stage eval needs a point: --args JSON or --at x1=2,x2=5")
    if (ns.compact or ns.slides) and ns.latex is None:
        raise UsageError("--compact and --slides write LaTeX: give --latex OUT.tex (and --pdf)")
    if ns.compact and ns.slides:
        raise UsageError("choose one of --compact (a handout) and --slides (a beamer deck)")
    if ns.latex is None:
        text, failure = trace_text(prog, ns.fn, args or None, ns.stage, ns.policy)
        print(text)
    else:
        out = Path(ns.latex)
        if out.suffix != ".tex":
            raise UsageError(f"--latex expects a .tex file name, got {ns.latex}")
        from linear_a.paper.build import build
        if ns.compact or ns.slides:
            from linear_a.paper.compact import compact_document, slides_document
            make = slides_document if ns.slides else compact_document
            body, failure = make(prog, ns.fn, args or None, ns.stage, ns.policy)
        else:
            body, failure = trace_document(prog, ns.fn, args or None, ns.stage, ns.policy)
        res = build(out.parent if str(out.parent) else ".", out.stem, {out.name: body}, pdf=ns.pdf)
        print(f"wrote {res['tex']}" + (f" and {res['pdf']} ({res['pages']} pages)" if res["pdf"] else ""))
    if failure is not None:
        raise failure.error
    return 0


def run_teach(ns):
    from linear_a.paper.teach import EXAMPLES, teach
    if ns.list:
        for name, ex in EXAMPLES.items():
            print(f"{name:12s} {ex.title}")
        return 0
    teach(ns.example)
    return 0
