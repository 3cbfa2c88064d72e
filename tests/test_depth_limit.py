"""Tuple types nest at most 100 levels (semantics.typecheck.MAX_TYPE_DEPTH,
the parser's limit for written types): at the limit every command works --
no walk of a type or a value recurses on its depth into Python's stack --
and one level past it is a located type error (tests/test_bad_inputs.py)."""
from __future__ import annotations

import pytest

from linear_a.cli import main
from linear_a.semantics.typecheck import MAX_TYPE_DEPTH


def nonlinear(n: int) -> str:
    """``f(x)``: x wrapped in n 1-tuples by a chain, unwrapped again, then sin(·)·x."""
    lines = ["def f(x: real) -> (real ;) ="]
    prev = "x"
    for i in range(1, n + 1):
        lines.append(f"  let (t{i} ;) = ({prev},) in")
        prev = f"t{i}"
    for i in range(n, 0, -1):
        lines.append(f"  let (u{i},) = {prev} in")
        prev = f"u{i}"
    lines += ["  let (y ;) = sin(u1) in", "  let (z ;) = y * x in", "  (z ;)"]
    return "\n".join(lines) + "\n"


def linear(n: int) -> str:
    """``f(; a, b)``: two n-deep linear 1-tuples added with ``+.``, unwrapped."""
    lines = ["def f(; a: real, b: real) -> (; real) ="]
    for v in "ab":
        prev = v
        for i in range(1, n + 1):
            lines.append(f"  let (; {v}{i}) = ({prev},) in")
            prev = f"{v}{i}"
    lines.append(f"  let (; s{n}) = a{n} +. b{n} in")
    for i in range(n, 0, -1):
        lines.append(f"  let (s{i - 1},) = s{i} in")
    lines.append("  (; s0)")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("argv", [["typecheck"], ["eval", "--fn", "f", "--at", "x=0.5"],
                                  ["grad", "--fn", "f", "--at", "x=0.5"], ["jvp"], ["linearize"],
                                  ["vjp", "--fn", "f"], ["vjp", "--fn", "f", "--reference"],
                                  ["trace", "--fn", "f"], ["check", "--jobs", "1"]])
def test_nonlinear_tuples_at_the_limit(argv, tmp_path, capsys):
    path = tmp_path / "deep.la"
    path.write_text(nonlinear(MAX_TYPE_DEPTH))
    assert main([argv[0], str(path), *argv[1:]]) == 0, capsys.readouterr().err
    assert "internal error" not in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["typecheck"], ["eval", "--fn", "f", "--at", "a=1,b=2"],
                                  ["transpose"], ["unzip"], ["trace", "--fn", "f"],
                                  ["check", "--jobs", "1"]])
def test_linear_tuples_at_the_limit(argv, tmp_path, capsys):
    path = tmp_path / "deep.la"
    path.write_text(linear(MAX_TYPE_DEPTH))
    assert main([argv[0], str(path), *argv[1:]]) == 0, capsys.readouterr().err


def test_one_level_more_is_a_located_error(tmp_path, capsys):
    path = tmp_path / "deep.la"
    path.write_text(nonlinear(MAX_TYPE_DEPTH + 1))
    assert main(["typecheck", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:{MAX_TYPE_DEPTH + 2}:18: type error (NTup)"), err
