"""Loops where users read them: `trace` renders a loop's stages without
unrolling it (text, LaTeX, the compact handout and the slides), and the
generated paper's rule figures carry the loop rules (issue 14).

A trace of the N-step loop is compared with the trace of the same program at
another N: once the iteration count is taken out, the two are the same text,
so nothing in the trace grows with N."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from linear_a.cli import main
from linear_a.paper.compact import compact_document, slides_document
from linear_a.paper.trace import trace_document, trace_text
from linear_a.semantics import parse_program

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"
EULER_AT = {"x0": 1.0, "y0": 0.5, "a": 1.1, "b": 0.4, "c": 0.4, "d": 0.1}
# euler's parameters are invariant carries: its loops are unzipped and transposed
# by ULoopInv and TLoopInv (the linear loop carries a, b, d, c instead of stacking them)
LOOP_RULES = ("Loop", "JLoop", "ULoopInv", "TLoopInv")


def euler(n: int):
    text = (EX / "euler.la").read_text(encoding="utf-8").replace("loop 200", f"loop {n}")
    return parse_program(text, "euler.la")


def without_n(text: str, n: int) -> str:
    """The text with the iteration count taken out, and what evaluation says
    depends on it: the values, and the work W = N·W(step) + …"""
    text = re.sub(rf"\b{n}\b", "N", text)
    text = re.sub(r"(work |W = |& )\d+", r"\1#", text)
    return re.sub(r"-?\d+\.\d+(e-?\d+)?", "#", text)


def same_but_n(a: str, b: str, na: int, nb: int) -> bool:
    """Line by line the same once N is taken out; a line cut to a fixed width
    (ending in "…") may be cut a few characters earlier or later."""
    la, lb = without_n(a, na).splitlines(), without_n(b, nb).splitlines()
    if len(la) != len(lb):
        return False
    for x, y in zip(la, lb):
        if x == y:
            continue
        x, y = x.rstrip("…"), y.rstrip("…")
        k = min(len(x), len(y)) - 8
        if k < 100 or x[:k] != y[:k]:
            return False
    return True


def test_text_trace_of_a_loop_does_not_grow_with_n():
    t200, failure = trace_text(euler(200), "euler", EULER_AT)
    assert failure is None
    t20000, _ = trace_text(euler(20000), "euler", EULER_AT)
    assert len(t200.splitlines()) == len(t20000.splitlines()) < 400
    assert same_but_n(t200, t20000, 200, 20000)
    for rule in LOOP_RULES:
        assert f"[{rule}] " in t200, rule
    assert "loop 200 euler_step_jvp(" in t200
    assert re.search(r"ws_euler_step_jvp : \[\(real(, real)*\); 200\]", t200) or \
        re.search(r"\[\(real(, real)*\); 200\]", t200)
    assert "loop reverse 200 euler_step_jvp_lin_inv_T(" in t200
    # the step is transformed once (one JDef), and no stage calls it: nothing is unrolled
    assert t200.count("[JDef] def euler_step(") == 1
    for step in ("euler_step", "euler_step_jvp", "euler_step_jvp_nl"):
        assert f"= {step}(" not in t200, step
    # g_lin (and g_lin_T) are called only by the wrapper g_lin_inv (g_lin_inv_T), in
    # its body, once per iteration of the loop that runs the wrapper
    assert t200.count("= euler_step_jvp_lin(") == t200.count("def euler_step_jvp_lin_inv(") == 1
    assert "= euler_step_jvp_lin_T(" in t200.split("TDef] def euler_step_jvp_lin_inv(")[1]


@pytest.mark.parametrize("make", [trace_document, compact_document, slides_document],
                         ids=["full", "compact", "slides"])
def test_latex_traces_of_a_loop_do_not_grow_with_n(make):
    d200, failure = make(euler(200), "euler", EULER_AT)
    assert failure is None
    d20000, _ = make(euler(20000), "euler", EULER_AT)
    assert abs(len(d200) - len(d20000)) < 200          # only the printed numbers differ
    assert same_but_n(d200, d20000, 200, 20000)
    for rule in LOOP_RULES:
        assert re.search(rf"\b{rule}\b", d200), rule
    assert r"\LAkw{loop}\ \LAkw{reverse}\ 200" in d200


def test_cli_compact_trace_of_a_loop(tmp_path, capsys):
    """Was a usage error: the compact handout ran the tape (which would unroll
    the loop) for its evaluation table."""
    out = tmp_path / "rnn.tex"
    rc = main(["trace", str(EX / "rnn.la"), "--fn", "rnn", "--at", "h0=0,w=0.9,u=0.5,b=-0.1,v=1.3",
               "--latex", str(out), "--compact"])
    assert rc == 0, capsys.readouterr().err
    tex = out.read_text()
    assert "ULoop" in tex and "TLoop" in tex and "JLoop" in tex


# ----------------------------------------------------------------------------
# The generated paper


def _section(tex: str, title: str) -> str:
    start = tex.index(title)
    end = tex.find(r"\subsection", start + len(title))
    return tex[start:end if end > 0 else len(tex)]


def test_paper_has_the_loop_rules_in_their_figures_and_a_loop_figure(tmp_path):
    assert main(["paper", "--out", str(tmp_path), "--no-pdf", "--quick", "--no-checks"]) == 0
    transforms = (tmp_path / "sec-transforms.tex").read_text(encoding="utf-8")
    language = (tmp_path / "sec-language.tex").read_text(encoding="utf-8")
    # each loop rule in its judgment's figure …
    assert "right=Loop]" in _section(language, r"\subsection{Typing rules}")
    for title, name in ((r"\subsection{JVP (forward mode) rules}", "JLoop"),
                        (r"\subsection{Unzip (partial evaluation; checkpointing) rules}", "ULoop"),
                        (r"\subsection{Transposition rules}", "TLoop")):
        assert f"right={name}]" in _section(transforms, title), name
    # … and all four together in the loop figure, with the stack type and the reversed loop
    loops = _section(transforms, r"\subsection{Loops: one rule per judgment}")
    for name in ("Loop", "JLoop", "ULoop", "TLoop"):
        assert f"right={name}]" in loops, name
    assert r"\mathsf{loop\ reverse}" in loops and "[R; N]" in loops
    # the rule map says they are this project's, not the original paper's figures
    rulemap = language[language.index(r"\label{tab:rulemap}"):language.index(r"\end{longtable}")]
    for name in ("Loop", "JLoop", "ULoop", "TLoop"):
        row = next(ln for ln in rulemap.splitlines() if rf"\textsf{{{name}}}" in ln and "&" in ln
                   and ln.count(r"\textsf") == 1)
        assert "this project" in row and "loops" in row, row
    # the language table has the loop form, the cost table its price
    assert r"\LArule{Loop}" in language and "[\\tau; N]" in language
    assert r"\LAkw{loop}\ N\ f" in (tmp_path / "sec-cost.tex").read_text(encoding="utf-8")


@pytest.mark.tex
@pytest.mark.slow
def test_paper_pdf_shows_the_loop_figure_and_the_recurrent_cell(tmp_path):
    import subprocess
    assert main(["paper", "--out", str(tmp_path), "--no-checks"]) == 0
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "linear-a.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "Loops: one rule per judgment" in flat
    fig = flat[flat.rindex("Loops: one rule per judgment"):]
    for name in ("Loop", "JLoop", "ULoop", "TLoop"):
        assert re.search(rf"\b{name}:", fig), name
    assert "loop reverse N" in fig
    assert "A recurrent cell" in flat and "[(R, R, R, R); 100]" in flat
    assert "?" not in text and "\ufffd" not in text


# ----------------------------------------------------------------------------
# benchmarks/bench_loops_jax.py needs the optional jax; no test requires it


def _bench_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_loops_jax", ROOT / "benchmarks" / "bench_loops_jax.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_jax_loop_benchmark_without_jax_says_so_and_exits_0(monkeypatch, capsys):
    import sys
    monkeypatch.setitem(sys.modules, "jax", None)        # `import jax` raises ImportError
    assert _bench_module().main(["--ns", "10"]) == 0
    out = capsys.readouterr().out
    assert "jax is not installed" in out and "|" not in out


def test_jax_loop_benchmark_our_side_does_not_grow_with_n():
    """The Linear A column of the benchmark: the pendulum traced from Python
    and the Euler loop, at two N, same gradient program; what is stored per
    iteration is read off the stacked residual type."""
    b = _bench_module()
    for name in ("pendulum", "euler"):
        _, _, vp10, fn = b.ours(name, 10, 1)
        _, _, vp500, _ = b.ours(name, 500, 1)
        from linear_a.semantics import show
        assert re.sub(r"\b10\b", "N", show(vp10)) == re.sub(r"\b500\b", "N", show(vp500))
        assert b.lets(vp10) == b.lets(vp500) > 20
    assert b.stacked_per_iteration(vp10, fn) == 3       # x, y, x·y (the 4 parameters: carried, not stacked)
