"""Wall-clock time of `linear-a check FILE` on adversarial programs of at most
50 lets (issue 15: "check on any program of ≤ 50 lets finishes in ≤ 60 s").

    python benchmarks/bench_check_time.py            # every family, default budget
    python benchmarks/bench_check_time.py --budget 20 --jobs 1

Families (each written to a temporary .la file and checked by a fresh
`linear-a check` process, as a user would run it):

* ``chain-N``     one definition, a chain of N lets composing every primitive
                  (sin, tan, exp, sigmoid, sqrt, log, pow, tanh, cos, /, neg, *, -, +),
                  each let reading the previous one: derivatives that sympy's
                  ``simplify`` chokes on;
* ``nasty-5``     five lets of nested pow / sigmoid / tanh (the issue's "5-let
                  program that takes 56 s");
* ``doubling-N``  N definitions, f_k(x) = f_{k-1}(f_{k-1}(x)): every
                  definition is checked, and inlining doubles per level;
* ``tuples-N``    nested tuples and unpacks around the primitives;
* ``random-S``    a random mixed program of the project's generator (≤ 50 lets).

Prints one row per program: lets, definitions, statuses, seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

OPS = ["sin({p})", "tan({p})", "exp({p})", "sigmoid({p})", "sqrt({p})", "log({p})", "pow({p}, x)",
       "tanh({p})", "cos({p})", "{p} / y", "neg({p})", "{p} * x", "{p} - y", "{p} + x"]
POSITIVE = ("sqrt", "log", "pow")       # arguments made positive by an exp first


def chain(n: int) -> str:
    lines, p, k, i = ["def f(x: real, y: real) -> (real ;) ="], "x", 0, 0
    while k < n:
        op = OPS[i % len(OPS)]
        i += 1
        if op.startswith(POSITIVE) and k + 2 <= n:
            lines.append(f"  let (q{i} ;) = exp({p}) in")
            p, k = f"q{i}", k + 1
        elif op.startswith(POSITIVE):
            continue
        lines.append(f"  let (v{i} ;) = {op.format(p=p)} in")
        p, k = f"v{i}", k + 1
    lines.append(f"  {p} * y")          # y is used even in a short chain
    return "\n".join(lines) + "\n"


NASTY = """def f(x: real, y: real) -> (real ;) =
  let (a ;) = tan(x) in
  let (b ;) = pow(y, a) in
  let (c ;) = sigmoid(b) in
  let (d ;) = tanh(c) in
  let (e ;) = pow(d, c) in
  e / a
"""


def doubling(n: int) -> str:
    defs = ["def f0(x: real) -> (real ;) =\n  let (y ;) = sin(x) in\n  let (z ;) = y * x in\n  (z ;)\n"]
    defs += [f"def f{k}(x: real) -> (real ;) =\n  let (a ;) = f{k - 1}(x) in\n  f{k - 1}(a)\n"
             for k in range(1, n - 1)]
    return "\n".join(defs)


def tuples(n: int) -> str:
    lines, p = ["def f(x: real, y: real) -> (real, (real, real) ;) ="], "x"
    k = 0
    while k + 5 <= n - 1:              # the last let is the result pair
        lines += [f"  let (s{k} ;) = sin({p}) in", f"  let (t{k} ;) = (s{k}, y) in",
                  f"  let (a{k}, b{k}) = t{k} in", f"  let (e{k} ;) = exp(a{k}) in",
                  f"  let (m{k} ;) = e{k} * b{k} in"]
        p, k = f"m{k}", k + 5
    lines += [f"  let (r ;) = ({p}, x) in", f"  ({p}, r ;)"]
    return "\n".join(lines) + "\n"


def random_program(seed: int) -> str:
    from linear_a.proofs.generators import seeded_programs
    from linear_a.semantics.printer import show
    from linear_a.semantics.syntax import Let, iter_nodes
    for s in range(seed, seed + 1000):
        (p,) = seeded_programs("nonlinear", [s], max_defs=3, max_lets=16)
        lets = sum(1 for d in p.defs for x in iter_nodes(d.body) if type(x) is Let)
        if 30 <= lets <= 50:
            return show(p)
    raise SystemExit("no random program of 30-50 lets found")


def run(text: str, budget, jobs) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "p.la")
        with open(path, "w") as fh:
            fh.write(text)
        exe = os.path.join(os.path.dirname(sys.executable), "linear-a")
        argv = [exe, "check", path, "--json"] + (["--budget", str(budget)] if budget else []) + \
            (["--jobs", str(jobs)] if jobs else [])
        t0 = time.perf_counter()
        out = subprocess.run(argv, capture_output=True, text=True)
        secs = time.perf_counter() - t0
        if out.returncode not in (0, 1) or not out.stdout.startswith("{"):
            raise SystemExit(f"check failed: {out.stderr}")
        return secs, json.loads(out.stdout)["summary"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=None, help="--budget for check (default: check's)")
    ap.add_argument("--jobs", type=int, default=None, help="--jobs for check (default: check's)")
    ns = ap.parse_args()
    programs = [("chain-10", chain(10)), ("chain-20", chain(20)), ("chain-25", chain(25)),
                ("chain-35", chain(35)), ("chain-50", chain(50)), ("nasty-5", NASTY),
                ("doubling-50", doubling(50)), ("tuples-50", tuples(50)), ("random-0", random_program(0))]
    print(f"{'program':<14} {'lets':>4} {'defs':>4} {'proved':>6} {'checked':>7} {'refuted':>7} "
          f"{'unknown':>7} {'seconds':>8}")
    for name, text in programs:
        lets = sum(1 for line in text.splitlines() if line.lstrip().startswith("let "))
        defs = text.count("def ")
        assert lets <= 50, (name, lets)
        secs, s = run(text, ns.budget, ns.jobs)
        t = s["totals"]
        print(f"{name:<14} {lets:>4} {defs:>4} {t['proved']:>6} {t['checked']:>7} {t['refuted']:>7} "
              f"{t['unknown']:>7} {secs:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
