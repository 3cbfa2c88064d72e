"""Per-stage cost of the whole pipeline on long chains (SPEC §15), reference and fast path.

    python3 benchmarks/bench_pipeline.py            # reference at 10^4, 10^5; fast path at 10^4 … 10^6
    python3 benchmarks/bench_pipeline.py --big      # … and the reference at 10^6 (needs ~10 GB)
    python3 benchmarks/bench_pipeline.py --sizes 20000 --fast-sizes 20000,200000 --json out.json
    python3 benchmarks/bench_pipeline.py --no-reference --gc off       # the fast path only
    python3 benchmarks/bench_pipeline.py --layouts [--layout-size 100000] [--rounds 5]   # 8 layouts

The program is ``linear_a.proofs.generators.chain_text(n)``: ``f(x, w)``, n lets
alternating ``sin`` and ``* w``.  Each (path, size, gc setting) runs in a
fresh subprocess, so its peak RSS is its own.

**Reference path** (the executable paper, a derivation per node).  Stages, in
order, each timed once with ``time.perf_counter``:

  parse          parse_program(text)
  typecheck      typecheck(prog)
  jvp            jvp_program(prog, ["f"])
  unzip          unzip_program(jvp, trusted=True)         (save-all)
  transpose      transpose_program(lin, ["f_jvp_lin"], trusted=True)
  check output   typecheck(vjp program)                    (f_jvp_nl, f_jvp_lin_T)
  print          show(vjp program)
  eval f         evaluate(prog, "f")                       (reference interpreter)
  eval vjp       evaluate f_jvp_nl, then f_jvp_lin_T       (reference interpreter)
  compile vjp    transforms.compile.compile_program(vjp program)
  run vjp        the compiled f_jvp_nl and f_jvp_lin_T

"pipeline" is parse … print (the transform pipeline, text in, text out);
"+ eval" adds the reference evaluation of the vjp.  Also printed: lets/second
of the reference interpreter and of the compiled path against CPython running
the equivalent straight-line Python (the same chain as Python statements,
chunked like the compiled code), and the output-quality ratios W(vjp)/W(f)
and |vjp|/|f|.

**Fast path** (``linear_a.transforms.flat``: the flat fragment, no derivations, the
same text out).  Stages ``linear_a.semantics.flat.parse``, ``check``,
``linear_a.transforms.fused.vjp_defs`` (JVP, unzip and transposition in one pass),
``check_output``, ``show`` (for n ≤ 10^5 the best of three runs, else one),
their sum, and ``vjp_text`` end to end (which pauses the collector itself);
below them, for comparison, the staged ``jvp``, ``unzip`` and ``transpose``
that the fused pass replaces (their text is checked equal to its).  At the ``--ratio-sizes`` the child also runs the
reference pipeline end to end (parse, typecheck, vjp_program, typecheck,
show) in the same process, checks that both texts are equal, and reports
reference ÷ fast (best of two fast runs, one reference run); its peak RSS is
taken before that.

Tables print µs per let and, between consecutive sizes, the scaling exponent
log(t₂/t₁)/log(n₂/n₁) (1 = linear).  "gc off" runs with ``gc.disable()`` from
the start (the reference transforms pause the collector themselves, the
fast stages do not, ``vjp_text`` does).  ``--unpaused`` turns the passes'
own pauses off (``LINEAR_A_GC_PAUSE=0``), so "gc on" then shows what the
collector costs when left running.  The reference's two checks run
``typecheck(·, derive=False)``: the same rules, no derivation kept, as the
transforms' own typing cache does.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGES = ["parse", "typecheck", "jvp", "unzip", "transpose", "check output", "print",
          "eval f", "eval vjp", "compile vjp", "run vjp"]
PIPELINE = STAGES[:7]
FAST_STAGES = ["parse", "check", "vjp (fused)", "check output", "print"]
STAGED = ["jvp", "unzip", "transpose"]     # what the fused pass does in one, for comparison


def straight_line_python(n: int, chunk: int = 2000):
    """The chain as plain CPython: straight-line statements, ``chunk`` per function."""
    lines, k = [], 0
    for c0 in range(0, n, chunk):
        lines.append(f"def f{k}(x, w):")
        prev = "x"
        for i in range(c0, min(n, c0 + chunk)):
            lines.append(f"    v{i} = sin({prev})" if i % 2 == 0 else f"    v{i} = {prev} * w")
            prev = f"v{i}"
        lines.append(f"    return {prev}")
        k += 1
    ns = {"sin": math.sin}
    t0 = time.perf_counter()
    exec(compile("\n".join(lines), "<straight>", "exec"), ns)
    t_compile = time.perf_counter() - t0
    fs = [ns[f"f{j}"] for j in range(k)]

    def run(x, w):
        for f in fs:
            x = f(x, w)
        return x
    return run, t_compile


# ----------------------------------------------------------------------------
# One chain in several layouts (``--layouts``): the same program, so the same
# vjp text; the fast path must take every one at about the same speed.


def _chain_lines(n: int, let, head: str, tail) -> str:
    lines = [head]
    prev = "x"
    for i in range(1, n + 1):
        lines.append(let(i, prev, i % 2 == 1))
        prev = f"v{i}"
    lines.append(tail(prev))
    return "\n".join(lines) + "\n"


_STD_HEAD = "def f(x: real, w: real) -> (real ;) ="


def _met_names(n: int) -> str:
    """The chain with binders x_1, dx_2, c_3, m_4, r_5, x_6, …: beside x, names
    the fresh names of JVP (dx, c, m, r, each plus _k) can meet, so the fused
    pass names over ids and then asks Fresh (``name_as_the_reference``)."""
    lines, prev = [_STD_HEAD], "x"
    for i in range(1, n + 1):
        z = ["x_", "dx_", "c_", "m_", "r_"][i % 5] + str(i)
        lines.append(f"  let ({z} ;) = {f'sin({prev})' if i % 2 else f'{prev} * w'} in")
        prev = z
    lines.append(f"  ({prev} ;)")
    return "\n".join(lines) + "\n"
def _rhs(prev: str, odd: bool) -> str:
    """One step of the sin/·w chain, as every layout below writes it."""
    return f"sin({prev})" if odd else f"{prev} * w"


LAYOUTS = {
    "printer (chain_text)": lambda n: _chain_lines(
        n, lambda i, p, s: f"  let (v{i} ;) = {_rhs(p, s)} in", _STD_HEAD,
        lambda p: f"  ({p} ;)"),
    "`;)` parameter list": lambda n: _chain_lines(
        n, lambda i, p, s: f"  let (v{i} ;) = {_rhs(p, s)} in",
        "def f(x: real, w: real ;) -> (real ;) =", lambda p: f"  ({p} ;)"),
    "annotated binders `(v1: real ;)`": lambda n: _chain_lines(
        n, lambda i, p, s: f"  let (v{i}: real ;) = {_rhs(p, s)} in",
        "def f(x: real, w: real ;) -> (real ;) =", lambda p: f"  ({p} ;)"),
    "a comment per let, blank lines": lambda n: _chain_lines(
        n, lambda i, p, s: f"  let (v{i} ;) = {_rhs(p, s)} in  # step {i}"
        + ("\n" if i % 10 == 0 else ""), "# a chain\n" + _STD_HEAD, lambda p: f"  ({p} ;)  # done"),
    "CRLF, tabs, no spaces": lambda n: _chain_lines(
        n, lambda i, p, s: f"\tlet\t(v{i};)\t=\t{f'sin({p})' if s else f'{p}*w'}\tin\r",
        "def f(x:real,w:real)->(real;)=\r", lambda p: f"\t({p};)\r"),
    "compact, `in` glued": lambda n: _chain_lines(
        n, lambda i, p, s: f"let(v{i};)={f'sin({p})in' if s else f'{p}*w in'}",
        "def f(x:real,w:real)->(real;)=", lambda p: f"({p};)"),
    "spread over lines": lambda n: _chain_lines(
        n, lambda i, p, s: "  let\n    (v%d ;)\n    = %s\n  in" % (i, f"sin( {p} )" if s else p + "\n      * w"),
        "def f(\n    x: real,\n    w: real\n) -> (\n    real ;\n) =", lambda p: f"  ({p} ;)"),
    "names the fresh names meet (x_1, dx_2, c_3 …)": lambda n: _met_names(n),
    "expression tail": lambda n: _chain_lines(
        n - 1, lambda i, p, s: f"  let (v{i} ;) = {_rhs(p, s)} in", _STD_HEAD,
        lambda p: f"  sin({p})" if n % 2 else f"  {p} * w"),
}


SAME_PROGRAM = [k for k in LAYOUTS if k != "expression tail" and not k.startswith("names")]


def all_layouts(n: int, rounds: int) -> list[dict]:
    """The fast path end to end on the chain in every layout, in one process,
    the layouts interleaved round by round (so a busy host slows them all
    alike), keeping each layout's best round.  Times are the process's CPU
    time (``time.process_time``: on a shared host, wall time also counts the
    other jobs' turns on the cores)."""
    sys.path.insert(0, ROOT)
    import hashlib
    from linear_a.semantics import flat as sf
    from linear_a.transforms import flat as tf
    texts = {name: make(n) for name, make in LAYOUTS.items()}
    best = {name: {"parse": 1e9, "e2e": 1e9} for name in LAYOUTS}
    sha = {}
    for _ in range(rounds):
        for name, text in texts.items():
            gc.collect()
            t0 = time.process_time()
            out = tf.vjp_text(text, "f", require_fast=True)
            t1 = time.process_time()
            sf.parse(text)
            t2 = time.process_time()
            b = best[name]
            b["e2e"], b["parse"] = min(b["e2e"], t1 - t0), min(b["parse"], t2 - t1)
            sha[name] = hashlib.sha1(out.encode()).hexdigest()
            del out
    return [dict(n=n, layout=name, bytes=len(texts[name]), sha=sha[name], **best[name])
            for name in LAYOUTS]


def layout_table(rows: list[dict]) -> str:
    laid = [r for r in rows if not r["layout"].startswith("names")]     # layouts proper
    fastest = min(r["e2e"] for r in laid)
    out = [f"| layout (n = {rows[0]['n']:,} lets) | bytes/let | parse µs/let (CPU) | vjp_text µs/let (CPU) | ÷ fastest |",
           "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['layout']} | {r['bytes'] / r['n']:.1f} | {r['parse'] / r['n'] * 1e6:.2f} | "
                   f"{r['e2e'] / r['n'] * 1e6:.2f} | {r['e2e'] / fastest:.2f} |")
    same = {r["sha"] for r in rows if r["layout"] in SAME_PROGRAM}
    met = [r for r in rows if r["layout"].startswith("names")]
    out.append(f"\nslowest ÷ fastest layout: **{max(r['e2e'] for r in laid) / fastest:.2f}**"
               + "".join(f" (the met names, another program: {r['e2e'] / fastest:.2f})" for r in met)
               + "; "
               + ("the same vjp text in every layout of the same program (the expression tail "
                  "and the met names are other programs)" if len(same) == 1 else "TEXTS DIFFER"))
    return "\n".join(out)


def one(n: int, gc_on: bool) -> dict:
    sys.setrecursionlimit(100000)
    if not gc_on:
        gc.disable()
    sys.path.insert(0, ROOT)
    from linear_a.proofs.generators import chain_text, chain_value
    from linear_a.semantics import evaluate, parse_program, show, typecheck
    from linear_a.semantics.syntax import Program, program_size
    from linear_a.transforms.compile import compile_program
    from linear_a.transforms.jvp import jvp_program
    from linear_a.transforms.transpose import transpose_program
    from linear_a.transforms.unzip import unzip_program

    text = chain_text(n)
    t, res = {}, {}

    def stage(name, thunk):
        t0 = time.perf_counter()
        out = thunk()
        t[name] = time.perf_counter() - t0
        return out

    prog = stage("parse", lambda: parse_program(text, "chain.la"))
    stage("typecheck", lambda: typecheck(prog, derive=False))
    jp = stage("jvp", lambda: jvp_program(prog, ["f"]))
    up = stage("unzip", lambda: unzip_program(jp, trusted=True))
    tp = stage("transpose", lambda: transpose_program(up, ["f_jvp_lin"], trusted=True))
    keep = {"f_jvp_nl", "f_jvp_lin_T"}
    vp = Program([d for d in up.defs if d.name in keep] + [d for d in tp.defs if d.name in keep],
                 "vjp.la")
    stage("check output", lambda: typecheck(vp, derive=False))
    stage("print", lambda: show(vp))
    rss_pipeline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    x, w = 0.5, 1.01
    rf = stage("eval f", lambda: evaluate(prog, "f", {"x": x, "w": w}))

    def eval_vjp():
        r1 = evaluate(vp, "f_jvp_nl", ([x, w], []))
        r2 = evaluate(vp, "f_jvp_lin_T", (list(r1.nl[1:]), [1.0]))
        return r1, r2
    r1, r2 = stage("eval vjp", eval_vjp)
    cp = stage("compile vjp", lambda: compile_program(vp))

    def run_vjp():
        a = cp.run("f_jvp_nl", ([x, w], []))
        return a, cp.run("f_jvp_lin_T", (list(a[0][1:]), [1.0]))
    c1, c2 = stage("run vjp", run_vjp)
    assert c1[0] == r1.nl and c2[1] == r2.lin, "compiled path disagrees with the interpreter"
    assert rf.nl[0] == chain_value(n, x, w)
    # lets/second: interpreter, compiled (primal f), CPython straight-line
    cf = compile_program(prog)
    t0 = time.perf_counter(); cf.run("f", {"x": x, "w": w}); t_cf = time.perf_counter() - t0
    py, _ = straight_line_python(n)
    t0 = time.perf_counter(); py(x, w); t_py = time.perf_counter() - t0
    res.update(
        n=n, gc=gc_on, times=t,
        rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        rss_pipeline_mb=rss_pipeline,
        work_ratio=(r1.work + r2.work) / rf.work,
        size_ratio=program_size(vp) / program_size(prog),
        lets_per_s={"interpreter": n / t["eval f"], "compiled": n / t_cf, "cpython": n / t_py},
    )
    return res


def one_fast(n: int, gc_on: bool, ratio: bool) -> dict:
    """The fast path's stages at n lets (and, if ``ratio``, the reference end to end)."""
    sys.setrecursionlimit(100000)
    if not gc_on:
        gc.disable()
    sys.path.insert(0, ROOT)
    from linear_a.proofs.generators import chain_text
    from linear_a.semantics import flat as sf
    from linear_a.transforms import flat as tf
    from linear_a.transforms.fused import vjp_defs

    text = chain_text(n)
    reps = 3 if n <= 10 ** 5 else 1
    t = {}

    def stage(name, thunk):
        best, out = None, None
        for _ in range(reps):
            out = None
            t0 = time.perf_counter()
            out = thunk()
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        t[name] = best
        return out

    fp = stage("parse", lambda: sf.parse(text, "chain.la"))
    counts = stage("check", lambda: sf.check(fp))
    d = fp.get("f")
    jd = stage("jvp", lambda: tf.jvp(d, counts["f"]))        # the three stages one by one …
    f_nl, f_lin = stage("unzip", lambda: tf.unzip(jd))
    jd = None
    staged = sf.show([f_nl, stage("transpose", lambda: tf.transpose(f_lin))])
    f_nl = f_lin = None
    vp = stage("vjp (fused)", lambda: vjp_defs(d, counts["f"]))   # … and in one pass
    assert vp is not None and sf.show(vp) == staged, "the fused pass disagrees with the stages"
    fp = d = counts = staged = None          # each stage's input is freed once used
    stage("check output", lambda: tf.check_output(vp))
    out = stage("print", lambda: sf.show(vp))
    vp = None
    t0 = time.perf_counter()
    e2e = tf.vjp_text(text, "f", require_fast=True)
    t_e2e = time.perf_counter() - t0
    assert e2e == out, "vjp_text disagrees with its stages"
    del out
    res = dict(n=n, gc=gc_on, times=t, e2e=t_e2e,
               rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if ratio:
        t0 = time.perf_counter()
        ref = tf.reference_vjp_text(text, "f", "chain.la")
        t_ref = time.perf_counter() - t0
        assert ref == e2e, "the fast path's text differs from the reference's"
        del ref
        t0 = time.perf_counter()
        tf.vjp_text(text, "f", require_fast=True)
        res.update(ref_e2e=t_ref, ratio=t_ref / min(t_e2e, time.perf_counter() - t0))
    return res


def run_child(n: int, gc_on: bool, fast: bool = False, ratio: bool = False) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--one", str(n), "--gc", "on" if gc_on else "off"]
    if fast:
        cmd += ["--fast"] + (["--ratio"] if ratio else [])
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed (n={n}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def stage_rows(rs: list[dict], names: list[str], tot) -> list[str]:
    """A row per name: µs per let at each size (``tot(row, name)`` seconds) with
    the exponent against the previous size; then the peak RSS row."""
    out = []
    for name in names:
        cells = []
        for i, r in enumerate(rs):
            cell = f"{tot(r, name) / r['n'] * 1e6:.2f}"
            if i:
                p = rs[i - 1]
                a, b = tot(p, name), tot(r, name)
                if a > 0 and b > 0:
                    cell += f" ({math.log(b / a) / math.log(r['n'] / p['n']):.2f})"
            cells.append(cell)
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out.append("| peak RSS (MB) | " + " | ".join(f"{r['rss_mb']:.0f}" for r in rs) + " |")
    return out


def _gc_label(gc_on: bool) -> str:
    if not gc_on:
        return "off"
    return "on, left running (LINEAR_A_GC_PAUSE=0)" if os.environ.get("LINEAR_A_GC_PAUSE") == "0" \
        else "on (the passes pause it)"


def table(rows: list[dict]) -> str:
    out = []
    for gc_on in (True, False):
        rs = sorted((r for r in rows if r["gc"] == gc_on), key=lambda r: r["n"])
        if not rs:
            continue
        out.append(f"\n### gc {_gc_label(gc_on)}: µs per let (exponent vs previous size)\n")
        head = "| stage | " + " | ".join(f"n = {r['n']:,}" for r in rs) + " |"
        out += [head, "|---" * (len(rs) + 1) + "|"]
        names = STAGES + ["pipeline (parse…print)", "pipeline + eval vjp"]

        def tot(r, name):
            if name == "pipeline (parse…print)":
                return sum(r["times"][s] for s in PIPELINE)
            if name == "pipeline + eval vjp":
                return sum(r["times"][s] for s in PIPELINE) + r["times"]["eval vjp"]
            return r["times"][name]
        out += stage_rows(rs, names, tot)
        out[-1] = out[-1].replace("peak RSS (MB)", "peak RSS, whole run (MB)")
        out.append("| peak RSS, parse…print (MB) | " + " | ".join(
            f"{r['rss_pipeline_mb']:.0f}" for r in rs) + " |")
        out.append("| W(vjp)/W(f) | " + " | ".join(f"{r['work_ratio']:.3f}" for r in rs) + " |")
        out.append("| \\|vjp\\|/\\|f\\| | " + " | ".join(f"{r['size_ratio']:.3f}" for r in rs) + " |")
        for k in ("interpreter", "compiled", "cpython"):
            out.append(f"| lets/s, {k} (f) | " + " | ".join(f"{r['lets_per_s'][k]:.3g}" for r in rs) + " |")
    on = {r["n"]: r for r in rows if r["gc"]}
    off = {r["n"]: r for r in rows if not r["gc"]}
    common = sorted(set(on) & set(off))
    if common:
        out.append("\n### cost of the cyclic garbage collector (pipeline + eval vjp, gc on / gc off)\n")
        out.append("| n | gc on (s) | gc off (s) | ratio |")
        out.append("|---|---|---|---|")
        for n in common:
            a = sum(on[n]["times"][s] for s in PIPELINE) + on[n]["times"]["eval vjp"]
            b = sum(off[n]["times"][s] for s in PIPELINE) + off[n]["times"]["eval vjp"]
            out.append(f"| {n:,} | {a:.2f} | {b:.2f} | {a / b:.2f} |")
    return "\n".join(out)


def fast_table(rows: list[dict]) -> str:
    """µs per let of the fast path's stages, exponents, RSS, gc on ÷ off, reference ÷ fast."""
    out = []
    for gc_on in (True, False):
        rs = sorted((r for r in rows if r["gc"] == gc_on), key=lambda r: r["n"])
        if not rs:
            continue
        out.append(f"\n### fast path (transforms.flat), gc {_gc_label(gc_on)}: µs per let "
                   f"(exponent vs previous size)\n")
        out += ["| stage | " + " | ".join(f"n = {r['n']:,}" for r in rs) + " |",
                "|---" * (len(rs) + 1) + "|"]

        def tot(r, name):
            if name == "**total (parse…print)**":
                return sum(r["times"][s] for s in FAST_STAGES)
            if name == "vjp_text end to end":
                return r["e2e"]
            return r["times"][name]
        out += stage_rows(rs, FAST_STAGES + ["**total (parse…print)**", "vjp_text end to end"], tot)
        out += stage_rows(rs, [f"(staged {s})" for s in STAGED] + ["(staged, sum of the three)"],
                          lambda r, name: (sum(r["times"][s] for s in STAGED) if "sum" in name
                                           else r["times"][name[8:-1]]))[:-1]
        if any("ratio" in r for r in rs):
            out.append("| reference end to end (µs/let) | " + " | ".join(
                f"{r['ref_e2e'] / r['n'] * 1e6:.1f}" if "ratio" in r else "—" for r in rs) + " |")
            out.append("| **reference ÷ fast** (same process) | " + " | ".join(
                f"**{r['ratio']:.1f}×**" if "ratio" in r else "—" for r in rs) + " |")
    on = {r["n"]: r for r in rows if r["gc"]}
    off = {r["n"]: r for r in rows if not r["gc"]}
    common = sorted(set(on) & set(off))
    if common:
        out.append("\n### fast path: cost of the cyclic garbage collector (sum of the stages, gc on / gc off)\n")
        out += ["| n | gc on (s) | gc off (s) | ratio |", "|---|---|---|---|"]
        for n in common:
            a = sum(on[n]["times"][s] for s in FAST_STAGES)
            b = sum(off[n]["times"][s] for s in FAST_STAGES)
            out.append(f"| {n:,} | {a:.2f} | {b:.2f} | {a / b:.2f} |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000",
                    help="chain lengths for the reference path (default: %(default)s)")
    ap.add_argument("--big", action="store_true",
                    help="add 10^6 lets to the reference sizes (~4 GB of memory, ~5 min)")
    ap.add_argument("--fast-sizes", default="10000,100000,1000000",
                    help="chain lengths for the fast path (default: %(default)s)")
    ap.add_argument("--ratio-sizes", default="10000,100000",
                    help="fast-path sizes at which the gc-off child also times the reference "
                         "end to end, for reference ÷ fast (default: %(default)s)")
    ap.add_argument("--gc", choices=["on", "off", "both"], default="both",
                    help="run with the cyclic garbage collector on, off, or both (default: both)")
    ap.add_argument("--unpaused", action="store_true",
                    help="gc on means the collector left running through the passes "
                         "(LINEAR_A_GC_PAUSE=0: the passes' own pauses off), to measure its cost")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference path's rows")
    ap.add_argument("--no-fast", action="store_true", help="skip the fast path's rows")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--fast", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ratio", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write the raw measurements here")
    ap.add_argument("--layouts", action="store_true",
                    help="only the fast path on one chain in each of the LAYOUTS (a child each)")
    ap.add_argument("--layout-size", type=int, default=100000, help="lets of that chain (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of --layouts (default: %(default)s)")
    a = ap.parse_args(argv)
    if a.layouts:
        rows = all_layouts(a.layout_size, a.rounds)
        print(layout_table(rows))
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"layouts": rows}, f, indent=1)
        return
    if a.one:
        res = one_fast(a.one, a.gc != "off", a.ratio) if a.fast else one(a.one, a.gc != "off")
        print(json.dumps(res))
        return
    if a.unpaused:
        os.environ["LINEAR_A_GC_PAUSE"] = "0"       # inherited by the children
    ints = lambda text: [int(s) for s in text.split(",") if s]
    sizes = [] if a.no_reference else ints(a.sizes) + ([10 ** 6] if a.big else [])
    fast_sizes = [] if a.no_fast else ints(a.fast_sizes)
    ratio_sizes = set(ints(a.ratio_sizes))
    gcs = {"on": [True], "off": [False], "both": [True, False]}[a.gc]
    rows, fast_rows = [], []
    for n in sizes:
        for g in gcs:
            print(f"reference: n = {n:,}, gc {'on' if g else 'off'} …", file=sys.stderr, flush=True)
            rows.append(run_child(n, g))
    for n in fast_sizes:
        for g in gcs:
            ratio = n in ratio_sizes and (not g or a.gc == "on")
            print(f"fast path: n = {n:,}, gc {'on' if g else 'off'}{' + reference' * ratio} …",
                  file=sys.stderr, flush=True)
            fast_rows.append(run_child(n, g, fast=True, ratio=ratio))
    if rows:
        print("## reference path (semantics + transforms, derivations)")
        print(table(rows))
    if fast_rows:
        print("\n## fast path (semantics.flat + transforms.flat, the same text)")
        print(fast_table(fast_rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"reference": rows, "fast": fast_rows}, f, indent=1)


if __name__ == "__main__":
    main()
