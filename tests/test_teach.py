"""Golden tests for `linear-a teach` (SPEC §13): the seed article's traces.

Expected numbers are computed here, independently, from the formulas (math,
sympy) -- not copied from the implementation's output -- and compared at the
3 decimals the teaching output prints."""
from __future__ import annotations

import math

import sympy

from linear_a.cli import main
from linear_a.semantics import parse_program, show
from linear_a.paper.evaltrace import tape
from linear_a.paper.teach import (adjoint_rows, checkpoint_rows, fmt, load_example, primal_rows, render_text,
                         summary_rows, tangent_rows)

X1, X2 = 2.0, 5.0


def f3(v: float) -> str:
    """The independent formatting: 3 decimals, no trailing zeros, a true minus."""
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s.replace("-", "−")


def seed_tape():
    ex, prog = load_example("seed")
    return tape(prog, ex.fn, ex.args)


def test_formatting_matches_the_article():
    assert [fmt(v) for v in (math.log(2), 10.0, math.sin(5), -0.0, 5.5)] == ["0.693", "10", "−0.959", "0", "5.5"]


def test_primal_trace_values():
    want = [X1, X2, math.log(X1), X1 * X2, math.sin(X2), math.log(X1) + X1 * X2,
            math.log(X1) + X1 * X2 - math.sin(X2)]
    rows = primal_rows(seed_tape())
    assert [r[2] for r in rows] == [f3(v) for v in want]
    # the article's numbers, literally (SPEC §13)
    assert [r[2] for r in rows][2:] == ["0.693", "10", "−0.959", "10.693", "11.652"]
    assert [r[0] for r in rows] == ["v₋₁", "v₀", "v₁", "v₂", "v₃", "v₄", "v₅"]


def test_tangent_trace_for_x1_dot_1():
    # forward mode by hand: d ln x1 = 1/x1, d(x1 x2) = x2, d sin x2 = 0 (ẋ2 = 0)
    want = [1, 0, 1 / X1, X2, 0, 1 / X1 + X2, 1 / X1 + X2]
    assert [r[2] for r in tangent_rows(seed_tape())] == [f3(v) for v in want]


def test_adjoint_trace_with_per_path_contributions():
    rows = {r[0]: r for r in adjoint_rows(seed_tape())}
    g1 = 1 / X1 + X2                    # ∂f/∂x1 = 1/x1 + x2
    g2 = X1 - math.cos(X2)              # ∂f/∂x2 = x1 − cos x2
    assert rows["v̄₋₁"][2] == f3(g1) == "5.5"
    assert rows["v̄₀"][2] == f3(g2) == "1.716"
    assert f"{f3(1 / X1)} + {f3(X2)}" in rows["v̄₋₁"][1] and "0.5 + 5" in rows["v̄₋₁"][1]
    assert f"{f3(X1)} − {f3(math.cos(X2))}" in rows["v̄₀"][1] and "2 − 0.284" in rows["v̄₀"][1]
    assert "via v₁" in rows["v̄₋₁"][1] and "via v₂" in rows["v̄₋₁"][1]
    assert rows["v̄₃"][2] == "−1"           # v5 = v4 − v3


def test_summary_table_is_the_spec_table():
    rows = summary_rows(seed_tape())
    assert rows[0] == ("v₋₁ = x1", "2", "1", "0.5 + 5 = 5.5")
    assert rows[1] == ("v₀ = x2", "5", "0", "2 − 0.284 = 1.716")
    assert rows[-1] == ("v₅ = v₄ − v₃", "11.652", "5.5", "1")


def test_seed_teaching_output():
    text = render_text("seed")
    for s in ("0.693", "10.693", "11.652", "−0.959", "5.5", "1.716", "0.5 + 5", "2 − 0.284"):
        assert s in text, s
    # the same function as Linear A through the three transformations
    for name in ("def f_jvp(", "def f_jvp_nl(", "def f_jvp_lin(", "def f_jvp_lin_T("):
        assert name in text, name
    # Jacobian: columns by forward passes, rows by reverse passes
    assert "n = 2 passes for n inputs" in text
    assert "m = 1 pass for m outputs" in text
    assert "gives column 1: (5.5)" in text and "gives row 1: (5.5, 1.716)" in text


def test_pottier_example_against_sympy():
    x0, x1 = sympy.symbols("x0 x1")
    f = x0 * sympy.cos(x1) + x0
    at = {x0: 3, x1: sympy.Rational(1, 2)}
    grad = [float(sympy.diff(f, v).subs(at)) for v in (x0, x1)]
    text = render_text("pottier")
    assert f3(float(f.subs(at))) in text
    assert f"gives row 1: ({f3(grad[0])}, {f3(grad[1])})" in text


def test_matvec_gradient_77_382():
    text = render_text("matvec")
    # independent: specific(v) = (2 v1 + 7 v2)(v1 + 8 v2) at (2, 3)
    v1, v2 = sympy.symbols("v1 v2")
    s = (2 * v1 + 7 * v2) * (v1 + 8 * v2)
    g = [int(sympy.diff(s, v).subs({v1: 2, v2: 3})) for v in (v1, v2)]
    assert g == [77, 382]
    assert f"gives row 1: ({g[0]}, {g[1]})" in text
    assert "650" in text


def test_checkpoint_example_save_all_vs_recompute_all():
    ex, prog = load_example("checkpoint")
    rows = {r[0]: r for r in checkpoint_rows(prog, ex.fn, ex.args)}
    save, rec = rows["save-all"], rows["recompute-all"]
    assert save[3] == rec[3]                      # the same gradient
    assert rec[1] > save[1]                       # recomputation costs work …
    assert rec[2] <= save[2]                      # … never costs memory …
    # … and stores less between the halves: the residuals f_jvp_nl returns and its
    # peak (the linear half recomputes everything up front, so its peak is unchanged)
    from linear_a.semantics.evaluate import evaluate
    from linear_a.transforms.compose import names_for, vjp_program
    runs = {}
    for pol in ("save-all", "recompute-all"):
        r = evaluate(vjp_program(prog, ex.fn, pol), names_for(ex.fn)[0], ex.args)
        size = lambda v: sum(map(size, v)) if isinstance(v, tuple) else 1
        runs[pol] = (size(r.nl[1:]), r.memory)
    assert runs["recompute-all"][0] < runs["save-all"][0]
    assert runs["recompute-all"][1] < runs["save-all"][1]
    # a chain (x, w) where recompute-all cannot lower the peak, but every:K and binomial:S do
    assert rec[2] == save[2]
    assert rows["every:4"][2] < save[2] and rows["binomial:2"][2] < rows["every:4"][2]
    assert rows["every:4"][3] == save[3] and rows["binomial:2"][3] == save[3]
    x, w = sympy.symbols("x w")
    f = x
    for _ in range(20):
        f = sympy.sin(f) * w
    at = {x: sympy.Float(0.5), w: sympy.Float(1.1)}     # floats: exact nesting would swell
    gx, gw = (float(sympy.diff(f, v).subs(at)) for v in (x, w))
    assert save[3] == f"x = {f3(gx)}, w = {f3(gw)}"
    text = render_text("checkpoint")
    assert "save-all" in text and "recompute-all" in text and "every:4" in text
    assert "reverse order" in text


def test_cli_teach(capsys):
    assert main(["teach"]) == 0
    out = capsys.readouterr().out
    assert "1.716" in out and "5.5" in out
    assert main(["teach", "--list"]) == 0
    assert "matvec" in capsys.readouterr().out
    assert main(["teach", "no-such-example"]) == 2
    assert "no teaching example" in capsys.readouterr().err


def test_piped_teach_prints_programs_that_parse_back(capsys):
    """Not on a terminal, programs are not wrapped at 80 columns: the printed
    program can be pasted back and parses to the same program."""
    assert main(["teach", "matvec"]) == 0
    out = capsys.readouterr().out
    start = out.index("def matvec2x2(")
    end = out.index("\n\n", out.index("def specific("))
    text = out[start:end] + "\n"
    assert max(len(line) for line in text.splitlines()) > 80     # a long header, unbroken
    again = parse_program(text, "pasted.la")
    assert show(again) == show(load_example("matvec")[1])


# ----------------------------------------------------------------------------
# The loop walkthrough (`linear-a teach loop`, examples/rnn.la)


def _rnn_grad(h0, w, u, b, v, n=100):
    """The recurrent cell's gradient by hand: a forward loop storing h_i, then
    the backward loop of the chain rule (no Linear A involved)."""
    hs, h = [], h0
    for i in range(n):
        hs.append(h)
        h = math.tanh(w * h + u * math.sin(0.1 * i) + b)
    e = v * h - 0.5
    gv, gh = 2 * e * h, 2 * e * v
    gw = gu = gb = 0.0
    for i in reversed(range(n)):
        hn = math.tanh(w * hs[i] + u * math.sin(0.1 * i) + b)
        gz = gh * (1 - hn * hn)
        gw += gz * hs[i]
        gu += gz * math.sin(0.1 * i)
        gb += gz
        gh = gz * w
    return {"h0": gh, "w": gw, "u": gu, "b": gb, "v": gv}


def test_loop_walkthrough_shows_jvp_stacked_residuals_and_reversed_loop():
    import re
    text = render_text("loop")
    # each loop rule, by name, with its derivation line
    # w, u, b are invariant carries of rnn_step: ULoopInv and TLoopInv
    for rule in ("[Loop] loop 100 rnn_step(", "[JLoop] loop 100 rnn_step(", "[ULoopInv] let (",
                 "[TLoopInv] loop 100 rnn_step_jvp_lin_inv("):
        assert rule in text, rule
    # JVP: a loop of the step's JVP carrying the tangents
    assert re.search(r"= loop 100 rnn_step_jvp\(h0, w, u, b, i0 ; dh0, dw, du, db, di0\)", text)
    # unzip: the residuals of the 100 iterations stacked in an array of length 100, read back
    m = re.search(r"(ws_\w+) : \[\((real(?:, real)*)\); 100\]", text)
    assert m, "no stacked residuals [R; 100] in the unzip"
    ws, k = m.group(1), m.group(2).count("real")
    assert f"{k} reals per iteration × 100 iterations = {100 * k} reals" in text
    assert re.search(rf"= loop 100 rnn_step_jvp_nl_inv\(h0, w, u, b, i0\) in", text)
    assert f"= loop 100 rnn_step_jvp_lin_inv(w, u ; dh0, dw, du, db, di0) over ({ws})" in text
    # transpose: the reversed loop of the transposed step over the same stack
    assert re.search(rf"= loop reverse 100 rnn_step_jvp_lin_inv_T\(w, u ; [^)]*\) over \({ws}\)", text)
    assert "def rnn_step_jvp_lin_T(" in text
    # the gradient, looped and unrolled, against the hand-written backward loop
    ex, _ = load_example("loop")
    want = _rnn_grad(**{k: float(v) for k, v in ex.args.items()})
    for name, g in want.items():
        row = re.search(rf"^\s*{name}\s+(\S+)\s+(\S+)\s*$", text, re.M)
        assert row, name
        for cell in row.groups():
            got = float(cell.replace("−", "-"))
            assert math.isclose(got, g, rel_tol=1e-7, abs_tol=1e-30), (name, got, g)


def test_loop_walkthrough_gradient_program_does_not_grow_with_n():
    """The |P| the walkthrough prints is the looped gradient program's, the same
    at N = 100 and N = 1000; the unrolled one's grows."""
    import re
    ex, prog = load_example("loop")
    text = render_text("loop")
    looped = int(re.search(r"looped: +W = \d+, M = \d+, gradient program \|P\| = (\d+)", text).group(1))
    unrolled = int(re.search(r"unrolled: +W = \d+, M = \d+, gradient program \|P\| = (\d+)", text)
                   .group(1))
    big = parse_program(show(prog).replace("loop 100", "loop 1000"), "rnn1000.la")
    from linear_a.semantics.syntax import program_size
    from linear_a.transforms.compose import vjp_program
    assert program_size(vjp_program(big, ex.fn)) == looped
    assert unrolled > 7 * looped     # looped: with the _inv wrappers of the step (ULoopInv)


def test_cli_teach_loop(capsys):
    assert main(["teach", "loop"]) == 0
    out = capsys.readouterr().out
    assert "loop reverse 100" in out and "[ULoopInv]" in out
    assert main(["teach", "--list"]) == 0
    assert "loop" in capsys.readouterr().out


def test_loop_walkthrough_programs_parse_back(capsys):
    """Each program the loop walkthrough prints (piped: unwrapped) parses,
    typechecks and prints the same: the stacked-residual array types and the
    reverse loops included."""
    from linear_a.semantics import typecheck
    assert main(["teach", "loop"]) == 0
    out = capsys.readouterr().out
    blocks, cur = [], []
    for line in out.splitlines():
        if line.startswith("def "):
            cur.append(line)
        elif cur and line.startswith("  "):
            cur.append(line)
        elif cur:
            blocks.append("\n".join(cur) + "\n")
            cur = []
    # the source (2), JVP (2), unzip (6: the step's halves, their _inv wrappers, the
    # caller's), transposition (3): each the step, then the caller
    assert len(blocks) == 13
    # each stage's definitions (the step's first) are one program on their own
    for group in (blocks[0:2], blocks[2:4], blocks[4:10], blocks[10:13]):
        text = "\n".join(group)
        again = parse_program(text, "pasted.la")
        typecheck(again)
        assert show(again) == text
    unz = parse_program("\n".join(blocks[4:10]), "unzip.la")
    assert "[(real, real, real, real); 100]" in show(unz)      # w, u not stacked
