"""The LaTeX renderers, `linear-a trace`, and the generated paper (SPEC §12).

The PDF tests need TeX (CI installs it from Debian packages, see .ci/run);
text is extracted with pdftotext and checked for the rule names and the
numbers of the worked examples."""
from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from linear_a.cli import main
from linear_a.paper import latex as L
from linear_a.paper.build import TeXError, build, overfull_boxes, standalone
from linear_a.paper.document import load_check_results, load_transforms, rules_figure, sec_checks
from linear_a.paper.evaltrace import tape
from linear_a.paper.trace import trace_document
from linear_a.paper.traces import transform_rows
from linear_a.paper.trees import typing_trees
from linear_a.semantics import parse_program
from linear_a.semantics.errors import InputError
from linear_a.semantics.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"

# The rule names of SPEC §3, §7, §8, §9: each must be registered with its typeset form.
EXPECTED = {
    "typing": "Ret Let Lit Prim Zero LAdd Scale Dup Drop NTup NUnpack LTup LUnpack Call",
    "jvp": "JRet JLet JLit JZero JPrim JTup JUnpack JCall JDrop",
    "unzip": "URet ULet ULeaf ULit ULinLeaf UNUnpack ULUnpack UCall",
    "transpose": "TRet TLetLin TLetNonLin TNUnpack TLUnpack TLinTup TDup TLinAdd TZero TDropLin TScale TCall",
}
BAD = """def g(x: real ; dx: real) -> (real ; real) =
  let (a ;) = sin(x) in
  let (; b) = a *. dx in
  let (; c) = dx +. b in
  (a ; c)
"""


def load(name):
    return parse_program((EX / name).read_text(), f"examples/{name}")


def chain_program(n: int) -> str:
    lines = ["def f(x: real) -> (real ;) =", "  let (a0 ;) = sin(x) in"]
    lines += [f"  let (a{i} ;) = sin(a{i - 1}) in" for i in range(1, n)]
    lines.append(f"  (a{n - 1} ;)")
    return "\n".join(lines) + "\n"


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def assert_every_character_renders(text: str):
    """No replacement character, no `?` (what latex.esc writes for a character
    it cannot map), no `¿`/`¡`/`—` standing for `>`, `<`, `|` in a text font."""
    for bad in ("\ufffd", "?", "¿", "¡"):
        lines = [ln.strip() for ln in text.splitlines() if bad in ln]
        assert not lines, f"{bad!r} in the PDF text: {lines[:5]}"
    assert "-¿" not in text and "—J(" not in text


# ----------------------------------------------------------------------------
# Rule figures come from the rules the code runs


def test_every_rule_is_typeset():
    load_transforms()
    for judgment, names in EXPECTED.items():
        for name in names.split():
            r = RULES.get((judgment, name))
            assert r is not None, f"rule {judgment}/{name} is not registered"
            assert r.conclusion.strip(), f"rule {judgment}/{name} has no typeset conclusion"
            assert all(p.strip() for p in r.premises), f"rule {judgment}/{name} has an empty premise"
    for (judgment, name), r in RULES.items():
        assert r.conclusion.strip(), f"rule {judgment}/{name} has no typeset conclusion"
        fig = rules_figure(judgment)
        # in the document's one notation (latex.notation: dots, bars, arrows)
        assert f"right={name}]" in fig and L.notation(r.conclusion) in fig
        assert all(L.notation(p) in fig for p in r.premises)


def test_every_rule_a_derivation_uses_is_registered():
    from linear_a.paper.pipeline import run_stages
    from linear_a.semantics.typecheck import typecheck
    load_transforms()
    used = set()
    for f, fn in [("seed.la", "f"), ("matvec.la", "specific"), ("linear.la", "g"), ("square.la", None),
                  ("pythagoras.la", None), ("chain.la", "f"), ("pottier.la", "f")]:
        prog = load(f)
        fn = fn or prog.defs[-1].name
        used |= {("typing", d.rule) for d in typecheck(prog).walk() if d.judgment == "typing"}
        for s in run_stages(prog, fn).values():
            used |= {(d.judgment, d.rule) for d in s.derivation.walk() if d.rule != "Program"}
    missing = sorted(k for k in used if k not in RULES)
    assert not missing, f"derivations use rules with no typeset form: {missing}"


# ----------------------------------------------------------------------------
# Renderers


def test_linear_dotted_cotangents_double_dotted():
    assert L.var("x1") == "x_{1}"
    assert L.var("dx1", L.LIN) == r"\LAlin{x}_{1}"
    assert L.var("ct_dx", L.COT) == r"\LAcot{x}"
    from linear_a.paper.pipeline import run_stages
    st = run_stages(load("seed.la"), "f")
    jvp_rows, _ = transform_rows(st["jvp"].derivation)
    assert any(r"\LAlin{" in out for _, _, _, out in jvp_rows)
    t_rows, _ = transform_rows(st["transpose"].derivation)
    assert any(r"\LAcot{" in out for _, _, _, out in t_rows)
    assert not any(r"\LAcot{" in inp for _, _, inp, _ in t_rows)   # the input is tangent code


def test_trace_rows_name_each_rule_with_input_and_output():
    from linear_a.paper.pipeline import run_stages
    st = run_stages(load("seed.la"), "f")
    rows, elided = transform_rows(st["jvp"].derivation)
    assert elided == 0
    rules = [r for _, r, _, _ in rows]
    assert rules.count("JPrim") == 5 and "JLet" in rules and "JDef" in rules
    prim = next(row for row in rows if row[1] == "JPrim")
    assert r"\ln" in prim[2] and r"\LAlin{" in prim[3]     # ln x1 ⟼ … ẋ …


def test_typing_tree_split_per_let():
    body, failure = typing_trees(load("seed.la"))
    assert failure is None
    assert body.count(r"\LAitem{$\mathcal{D}_{") == 5          # 4 lets and the tail
    assert r"\inferrule*[right=Let]{\mathcal{D}_{1}" in body
    assert "right=Def" in body


def test_large_chain_is_elided_not_rendered():
    prog = parse_program(chain_program(3000), "chain.la")
    body, failure = typing_trees(prog)
    assert failure is None
    assert "further bindings elided" in body and len(body) < 60_000
    doc, failure = trace_document(prog, "f", None, "jvp")
    assert "further rule applications elided" in doc and len(doc) < 200_000


def test_ill_typed_trace_stops_at_the_failing_rule():
    prog = parse_program(BAD, "bad.la")
    body, failure = typing_trees(prog)
    assert failure is not None and failure.rule == "Let"
    assert "dx" in failure.error.message and "twice" in failure.error.message
    assert r"Rule \textsf{Let} failed" in body
    assert body.count(r"\LAitem{") == 2                     # the two bindings checked before it
    assert r"\LAfailed" in body and r"\LAadd" in body       # the failing binding, dx +. b


def test_eval_tape_numbers_are_the_derivatives():
    t = tape(load("seed.la"), "f", {"x1": 2, "x2": 5})
    adj, contrib = t.adjoint({t.outputs[0]: 1.0})
    assert adj[t.inputs[0]] == pytest.approx(1 / 2 + 5)
    assert adj[t.inputs[1]] == pytest.approx(2 - math.cos(5))
    assert sorted(v for _, v in contrib[t.inputs[1]]) == pytest.approx(sorted([2, -math.cos(5)]))
    t = tape(load("matvec.la"), "specific", {"v": [2, 3]})
    assert t.jacobian_reverse() == [[77.0, 382.0]] == t.jacobian_forward()


def test_check_results_hook(tmp_path):
    res = tmp_path / "checks.json"
    res.write_text(json.dumps({"results": [
        {"theorem": "vjp-correct", "program": "a.la", "status": "proved", "detail": "sympy"},
        {"theorem": "vjp-correct", "program": "b.la", "status": "proved", "detail": "sympy"},
        {"theorem": "jvp-cost", "program": "c.la", "status": "unknown", "detail": "z3 timeout"}]}))
    sec = sec_checks(load_check_results(res))
    # the summary counts per theorem: 2 proved for vjp-correct, 1 unknown for jvp-cost
    assert re.search(r"vjp-correct\} & 2 & 0 & 0 & 0", sec)
    assert re.search(r"jvp-cost\} & 0 & 0 & 0 & 1", sec)
    assert "z3 timeout" in sec                      # unknown results are listed with their detail
    assert "linear-a check" in sec_checks(None)     # the hook when no results are given
    assert "failed to run" in sec_checks({"error": "RuntimeError: boom"})   # shown, not hidden
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError):
        load_check_results(bad)
    bad.write_text('{"results": [1, 2]}')
    with pytest.raises(InputError):
        load_check_results(bad)


def test_missing_tex_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(TeXError, match="no TeX installation"):
        build(tmp_path / "o", "x", {"x.tex": standalone("hi")})
    assert not (tmp_path / "o" / "x.tex").exists()           # nothing half-written
    assert main(["paper", "--out", str(tmp_path / "p"), "--quick"]) == 1
    assert "no TeX installation" in capsys.readouterr().err
    assert not (tmp_path / "p" / "linear-a.tex").exists()


def test_paper_latex_only(tmp_path):
    assert main(["paper", "--out", str(tmp_path), "--no-pdf", "--quick", "--no-checks"]) == 0
    tex = (tmp_path / "linear-a.tex").read_text()
    assert r"\input{sec-examples}" in tex
    assert (tmp_path / "linear-a.sty").exists() and not (tmp_path / "linear-a.pdf").exists()


# ----------------------------------------------------------------------------
# PDFs (TeX Live)


def _check_log(log: str):
    # nothing wider than the page: an overfull box is at most a few points
    assert max(overfull_boxes(log), default=0) < 10, "overfull boxes in the generated LaTeX"


@pytest.mark.tex
@pytest.mark.slow
def test_full_paper_pdf(tmp_path):
    assert main(["paper", "--out", str(tmp_path)]) == 0
    pdf = tmp_path / "linear-a.pdf"
    assert pdf.exists()
    _check_log((tmp_path / "linear-a.log").read_text())
    text = pdf_text(pdf)
    assert_every_character_renders(text)
    load_transforms()
    for judgment, names in EXPECTED.items():
        for name in names.split():
            assert re.search(rf"\b{name}\b", text), f"rule {name} missing from the paper"
    for number in ("5.5", "1.716", "77", "382", "11.652", "0.693"):
        assert number in text, number
    assert "Theorem checks" in text and "checkpoint-invariance" in text
    assert "0.5 + 5" in text and "2 − 0.284" in text.replace("-", "−")


@pytest.mark.tex
def test_quick_paper_renders_every_character_and_maps_rules_to_figures(tmp_path):
    assert main(["paper", "--out", str(tmp_path), "--quick", "--no-checks"]) == 0
    text = pdf_text(tmp_path / "linear-a.pdf")
    assert_every_character_renders(text)
    theorems = (tmp_path / "sec-theorems.tex").read_text()
    assert "?" not in theorems.replace(r"\?", "")
    assert "as n \u2192 \u221e" in text or "as n → ∞" in text     # was "as n → ?"
    flat = " ".join(text.split())
    for fig in ("syntax, Fig. 2", "typing rules, Fig. 4", "JVP rules, Fig. 8", "transposition rules, Fig. 11"):
        assert fig in flat, fig
    assert "Notation." in flat and "a bar a cotangent" in flat


@pytest.mark.tex
@pytest.mark.parametrize("stage,expect", [("typing", ["Prim", "Def"]), ("jvp", ["JPrim", "JLet"]),
                                          ("unzip", ["ULet", "URet"]), ("transpose", ["TScale", "TDup"]),
                                          ("eval", ["11.652", "5.5", "1.716"])])
def test_trace_pdf_per_stage(tmp_path, stage, expect):
    out = tmp_path / f"trace-{stage}.tex"
    rc = main(["trace", str(EX / "seed.la"), "--fn", "f", "--args", '{"x1": 2, "x2": 5}',
               "--stage", stage, "--latex", str(out), "--pdf"])
    assert rc == 0
    _check_log((tmp_path / f"trace-{stage}.log").read_text())
    text = pdf_text(out.with_suffix(".pdf"))
    for s in expect:
        assert s in text, (stage, s)


@pytest.mark.tex
def test_trace_of_ill_typed_program_pdf(tmp_path, capsys):
    src = tmp_path / "bad.la"
    src.write_text(BAD)
    out = tmp_path / "bad.tex"
    assert main(["trace", str(src), "--fn", "g", "--latex", str(out), "--pdf"]) == 1
    assert "(Let)" in capsys.readouterr().err
    text = pdf_text(tmp_path / "bad.pdf")
    assert "Rule Let failed" in text and "used twice" in text
    assert "Scale" in text              # the derivation up to the failure
