"""Compact traces and slides (issue 18): `linear-a trace --compact` is a
handout of one row per binding that fits a 7-operation function in at most
6 pages; `--slides` is a beamer deck with one stage per frame; headers are
whole, nothing is scaled down, and a long stage is elided in the middle with
a count."""
import re
import subprocess
from pathlib import Path

import pytest

from linear_a.cli import main
from linear_a.paper.compact import compact_document, slides_document, stage_sections
from linear_a.semantics import parse_program
from linear_a.semantics.surface import load_surface_file

EX = Path(__file__).resolve().parent.parent / "examples"
SEVEN = """from linear_a import linear_a, tanh, exp

@linear_a
def layer(x, w, b, v):
    a = w * x + b
    h = tanh(a)
    y = v * h
    return exp(y) * x
"""
NET_AT = "x1=1,x2=2,w11=0.5,w12=-0.3,w21=0.8,w22=0.1,u1=1.5,u2=-2"


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def page_texts(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    return out.split("\f")


def build(tmp_path, src, fn, at, mode):
    out = tmp_path / f"{mode}-{fn}.tex"
    assert main(["trace", str(src), "--fn", fn, "--at", at, f"--{mode}", "--latex", str(out), "--pdf"]) == 0
    return out


@pytest.mark.tex
@pytest.mark.parametrize("which", ["seed", "seven", "net"])
def test_compact_trace_fits_in_six_pages(tmp_path, which):
    if which == "seven":
        src = tmp_path / "seven.py"
        src.write_text(SEVEN)
        out = build(tmp_path, src, "layer", "x=0.5,w=2,b=0.1,v=0.7", "compact")
    elif which == "seed":
        out = build(tmp_path, EX / "seed.la", "f", "x1=2,x2=5", "compact")
    else:
        out = build(tmp_path, EX / "net.py", "net", NET_AT, "compact")
    pdf = out.with_suffix(".pdf")
    assert pages(pdf) <= 6
    tex = out.read_text().split(r"\begin{document}")[1]          # the body, not the macros
    assert "resizebox" not in tex and r"\LAfit" not in tex and r"\tiny" not in tex   # nothing shrunk
    text = "".join(page_texts(pdf))
    for stage in ("Typing", "JVP", "Unzip", "Transposition", "gradient program", "Evaluation"):
        assert stage in text, stage
    assert "JLet·JPrim" in text or "JLet JPrim" in text                     # merged rows
    assert "elided" not in text                                              # short: all shown
    if which == "net":
        # full headers: net_jvp's header names its last parameter and its last tangent parameter
        head = next(ln for ln in tex.splitlines() if r"\LAfn{net\_jvp}(" in ln)
        assert r"$u_{2} : \LAreal \mathbin{;}$" in head and r"$\LAlin{u}_{2} : \LAreal$" in head
        assert r"\cdots" not in head


@pytest.mark.tex
def test_slides_one_stage_per_frame(tmp_path):
    out = build(tmp_path, EX / "seed.la", "f", "x1=2,x2=5", "slides")
    assert r"\documentclass[aspectratio=169,10pt]{beamer}" in out.read_text()
    texts = page_texts(out.with_suffix(".pdf"))
    titles = ("Typing:", "JVP:", "Unzip:", "Transposition:", "The gradient program", "Evaluation of")
    seen = []
    for t in texts:
        on_page = [s for s in titles if s in t]
        assert len(on_page) <= 1, on_page          # never two stages on one frame
        seen += on_page
    assert [s for s in titles if s in seen] == list(titles)
    assert pages(out.with_suffix(".pdf")) <= 12


def test_long_stages_are_elided_in_the_middle_with_a_count():
    n = 100
    lets = "\n".join(f"  let (a{i} ;) = sin(a{i - 1}) in" for i in range(1, n))
    prog = parse_program(f"def f(a0: real) -> (real ;) =\n{lets}\n  sin(a{n - 1})\n")
    sections, failure = stage_sections(prog, "f", None, "jvp", max_rows=20)
    assert failure is None
    (jvp,) = [s for s in sections if s.title.startswith("JVP")]
    counts = [r for r in jvp.rows if isinstance(r, int)]
    assert counts == [n - 20]
    shown = [r for r in jvp.rows if not isinstance(r, int)]
    assert len(shown) == 20 and "a_{1}" in shown[0].given and "a_{99}" in shown[-1].given
    doc, _ = compact_document(prog, "f", None, "jvp")
    assert f"{n - 60} rows elided here" in doc      # the default limit: 60 rows of 100 shown


def test_compact_typing_rows_keep_the_users_names(tmp_path):
    src = tmp_path / "seven.py"
    src.write_text(SEVEN)
    prog = load_surface_file(str(src))
    doc, _ = slides_document(prog, "layer", {"x": 0.5, "w": 2, "b": 0.1, "v": 0.7})
    for name in (r"\LAkw{let}\ (a \mathbin{;} )", r"\LAkw{let}\ (h \mathbin{;} )", r"\LAkw{let}\ (y \mathbin{;} )"):
        assert name in doc, name
