"""The bad-input table (SPEC §16): every file under tests/bad_inputs/ is a
mistake people make, and each row states the error it must produce — its
class, its position (line:col, 1-based, found by reading the file, not by
running the tool), its rule where one applies, and a key phrase of the message.

Each row is checked twice:

* through the API (load → typecheck → evaluate / transform): exactly that
  exception class, position and rule;
* through the CLI, ``linear_a.cli.main([...])``: exit code 1 (2 for usage
  errors), exactly ONE line on stderr naming ``file:line:col`` and the phrase,
  nothing on stdout, and never a Python traceback.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest

from linear_a.cli import main
from linear_a.common import load_program
from linear_a.semantics.errors import (DomainError, InputError, LinearAError, LinearATypeError, ParseError,
                              ScopeError, TransformError, UsageError)
from linear_a.semantics.evaluate import evaluate
from linear_a.semantics.typecheck import typecheck

HERE = os.path.dirname(__file__)
BAD = os.path.join(HERE, "bad_inputs")


def TraceError():   # the surface front end's own subclass of TransformError
    from linear_a.semantics.surface import TraceError as T
    return T


@dataclass
class Row:
    file: str                    # under tests/bad_inputs/
    error: type | str            # the exact exception class (a name: resolved lazily)
    pos: tuple | None            # (line, col) or None
    phrase: str                  # a key phrase of the message
    rule: str | None = None      # the typing / transformation rule named
    command: tuple = ("typecheck",)
    args: dict | None = None     # --args for `eval`
    exit: int = 1

    @property
    def id(self):
        extra = "" if self.command == ("typecheck",) else "-" + "-".join(self.command)
        return self.file + extra + ("" if self.args is None else "-" + "-".join(map(str, self.args.values())))


def ev(args, fn="f"):
    return dict(command=("eval", "--fn", fn), args=args)


def gr(args, fn="f"):
    return dict(command=("grad", "--fn", fn), args=args)


ROWS = [
    # --- files that cannot be read -----------------------------------------------------
    Row("does_not_exist.la", InputError, None, "no such file"),
    Row("input_directory.la", InputError, None, "is a directory"),
    Row("input_wrong_extension.txt", InputError, None, "expected a Linear A file (.la)"),
    Row("input_not_utf8.la", InputError, (2, 8), "not UTF-8 text: byte 0xe9"),
    Row("input_nul_byte.la", InputError, (2, 5), "NUL byte"),
    Row("input_binary.la", InputError, (1, 1), "is this a binary file?"),
    # --- parse errors: where, what was found, what was expected --------------------------
    Row("parse_empty.la", ParseError, (1, 1), "defines no functions"),
    Row("parse_comments_only.la", ParseError, (3, 1), "defines no functions"),
    Row("parse_missing_in.la", ParseError, (4, 3), "expected `in` after the let's right-hand side"),
    Row("parse_bare_variable.la", ParseError, (3, 3), "write `(y ;)` to return it"),
    Row("parse_unexpected_char.la", ParseError, (2, 17), "unexpected character `$`"),
    Row("parse_truncated.la", ParseError, (3, 3), "found end of input"),
    Row("parse_signature_without_semicolon.la", ParseError, (1, 24), "`;` in the result types"),
    Row("parse_literal_argument.la", ParseError, (2, 19), "bind literals with `let` first"),
    Row("parse_param_without_type.la", ParseError, (1, 8), "a type for parameter `x`"),
    Row("parse_unpack_annotation.la", ParseError, (2, 3), "unpack's names take no type annotations"),
    Row("parse_one_tuple_without_comma.la", ParseError, (2, 17), "`(x,)` for a 1-tuple"),
    Row("parse_deep_tuple_type.la", ParseError, (2, 110), "tuple types nested more than 100 levels"),
    Row("parse_deep_let.la", ParseError, (3, 1393), "right-hand sides nested more than 100 levels"),
    Row("parse_trailing_garbage.la", ParseError, (3, 1), "expected `def` (a definition), found `end`"),
    Row("parse_missing_arrow.la", ParseError, (1, 16), "expected `->`"),
    Row("parse_unknown_type.la", ParseError, (1, 10), "expected a type (`real` or a tuple"),
    Row("parse_keyword_as_name.la", ParseError, (2, 8), "a variable name in the let's pattern, found `in`"),
    Row("parse_unpack_of_expression.la", ParseError, (2, 16), "write `let (a, b ;) = …`"),
    # --- linearity: which variable, where it is used again / that it is never used, the fix
    Row("type_linear_used_twice.la", LinearATypeError, (5, 15),
        "linear variable `dx` is used twice (first used at line 4, column 15)", "Let"),
    Row("type_linear_added_to_itself.la", LinearATypeError, (2, 15), "`dx` is used twice", "LAdd"),
    Row("type_linear_returned_twice.la", LinearATypeError, (2, 3), "dup(dx)", "Ret"),
    Row("type_linear_unpack_source_reused.la", LinearATypeError, (4, 3),
        "linear tuple `dp` is used again after it was unpacked (first used at line 2", "LUnpack"),
    Row("type_linear_never_used.la", LinearATypeError, (1, 17),
        "linear variable `dx` is never used; consume it, or discard it with `let (;) = drop(dx)", "Def"),
    Row("type_nonlinear_never_used.la", LinearATypeError, (2, 3),
        "non-linear variable `c` is never used; drop it explicitly", "Let"),
    Row("type_call_linear_passed_twice.la", LinearATypeError, (5, 15), "passed twice", "Call"),
    Row("type_linear_tuple_repeats.la", LinearATypeError, (2, 15), "used twice in one tuple", "LTup"),
    # --- classes: a linear variable where a non-linear one is needed, and vice versa
    Row("type_linear_in_primitive.la", LinearATypeError, (3, 15),
        "`dx` is a linear variable where a non-linear one is needed", "Prim"),
    Row("type_linear_returned_as_nonlinear.la", LinearATypeError, (2, 3),
        "`dx` is a linear variable where a non-linear one is needed", "Ret"),
    Row("type_nonlinear_tuple_with_linear.la", LinearATypeError, (2, 15),
        "is a linear variable where a non-linear one is needed", "NTup"),
    Row("type_nonlinear_in_linear_add.la", LinearATypeError, (2, 15),
        "`x` is a non-linear variable where a linear one is needed", "LAdd"),
    Row("type_dup_of_nonlinear.la", LinearATypeError, (2, 18),
        "`x` is a non-linear variable where a linear one is needed", "Dup"),
    # --- shapes and types
    Row("type_return_mismatch.la", LinearATypeError, (3, 3), "is declared to return (real, real ;)", "Def"),
    Row("type_pattern_arity.la", LinearATypeError, (2, 3), "the pattern binds 2 non-linear", "Let"),
    Row("type_annotation_mismatch.la", LinearATypeError, (2, 3), "is annotated (real, real)", "Let"),
    Row("type_unpack_non_tuple.la", LinearATypeError, (2, 3), "cannot unpack `x` of type real", "NUnpack"),
    Row("type_linear_unpack_arity.la", LinearATypeError, (2, 3), "into 3 names", "LUnpack"),
    Row("type_scale_by_tuple.la", LinearATypeError, (2, 15), "scalar `p` of `*.` must be real", "Scale"),
    Row("type_linear_add_type_mismatch.la", LinearATypeError, (2, 15), "adds values of one type", "LAdd"),
    Row("type_zero_not_inferred.la", LinearATypeError, (2, 15), "cannot infer the type of this `zero`", "Zero"),
    Row("type_call_arity.la", LinearATypeError, (5, 15), "`g` takes (2 ; 0) arguments, got (1 ; 0)", "Call"),
    Row("type_call_argument_type.la", LinearATypeError, (6, 15), "expected (real, real)", "Call"),
    Row("type_primitive_arity.la", LinearATypeError, (2, 15), "`pow` takes 2 arguments, got 1", "Prim"),
    Row("type_primitive_tuple_argument.la", LinearATypeError, (2, 15), "needs real arguments", "Prim"),
    Row("type_literal_out_of_range.la", LinearATypeError, (3, 15), "not a finite real number", "Lit"),
    # --- names: unknown, forward, recursive, shadowed
    Row("scope_unknown_variable.la", ScopeError, (3, 3), "unknown variable `totl`; did you mean `total`?", "Ret"),
    Row("scope_unknown_function.la", ScopeError, (2, 15), "unknown function `sinus`; did you mean `sin`?", "Call"),
    Row("scope_forward_call.la", ScopeError, (2, 15), "`g` is defined after `f`", "Call"),
    Row("scope_recursive_call.la", ScopeError, (2, 15), "functions are not recursive", "Call"),
    Row("scope_shadowing.la", ScopeError, (3, 3), "variable `y` is bound twice (first bound at line 2)", "Let"),
    Row("scope_duplicate_definition.la", ScopeError, (3, 1), "function `f` is defined twice", "Def"),
    Row("scope_definition_named_primitive.la", ScopeError, (1, 1), "`sin` is a primitive", "Def"),
    Row("scope_primitive_with_linear_arguments.la", ScopeError, (3, 15),
        "takes non-linear arguments only, without `;`", "Call"),
    Row("scope_inner_binder_escapes.la", ScopeError, (7, 3), "bound inside an inner let at line 3", "Ret"),
    Row("scope_drop_unknown.la", ScopeError, (2, 13), "unknown variable `z`", "Drop"),
    # --- evaluation outside a primitive's domain: the primitive, its arguments, the place
    Row("eval_log_nonpositive.la", DomainError, (2, 15), "`log` needs a positive argument: log(0)", "Prim",
        **ev({"x": 0})),
    Row("eval_log_nonpositive.la", DomainError, (2, 15), "log(-2)", "Prim", **ev({"x": -2})),
    Row("eval_division_by_zero.la", DomainError, (2, 15), "division by zero", "Prim", **ev({"x": 1, "y": 0})),
    Row("eval_exp_overflow.la", DomainError, (2, 15), "`exp` overflows", "Prim", **ev({"x": 1000})),
    Row("eval_product_overflow.la", DomainError, (4, 15), "`*` overflows: 1e+240 * 1e+240", "Prim", **ev({"x": 1e60})),
    Row("eval_sqrt_negative.la", DomainError, (2, 15), "`sqrt` needs a positive argument", "Prim",
        **ev({"x": -1})),
    # --- wrong arguments on the command line: usage errors, exit 2
    Row("eval_fine.la", UsageError, None, "missing argument for parameter `p`", exit=2, **ev({"x": 1})),
    Row("eval_fine.la", UsageError, None, "has no parameter `q`", exit=2,
        **ev({"x": 1, "p": [1, 2], "q": 3})),
    Row("eval_fine.la", UsageError, None, "argument `p` should be a list of 2", exit=2,
        **ev({"x": 1, "p": 5})),
    Row("eval_fine.la", UsageError, None, "argument `p[1]` should be a number, got 'a'", exit=2,
        **ev({"x": 1, "p": [1, "a"]})),
    Row("eval_fine.la", UsageError, None, "argument `x` should be a finite number", exit=2,
        **ev({"x": 10 ** 400, "p": [1, 2]})),
    Row("eval_fine.la", UsageError, None, "no function `g` in the program", exit=2,
        **ev({"x": 1, "p": [1, 2]}, fn="g")),
    # --- transformations applied to programs they do not accept (SPEC §16)
    Row("transform_jvp_of_linear_code.la", TransformError, (2, 1), "JVP needs a purely non-linear function",
        "JDef", command=("jvp", "--fn", "scale")),
    Row("transform_transpose_nonlinear_outputs.la", TransformError, (2, 1), "it has non-linear results",
        "TDef", command=("transpose", "--fn", "f")),
    Row("transform_grad_of_vector_function.la", TransformError, None, "exactly one real result", "grad",
        **gr({"x": 1})),
    Row("eval_fine.la", TransformError, None, "unknown checkpoint policy `bogus`", "Policy",
        command=("unzip", "--policy", "bogus")),
    Row("eval_fine.la", TransformError, None, "no non-linear binding is named `zz`", "Policy",
        command=("unzip", "--policy", "recompute:zz")),
    # --- types that cannot be: cyclic (the occurs check), deeper than the stated limit
    Row("type_zero_cyclic.la", LinearATypeError, (6, 15), "`+.` adds values of one type", "LAdd"),
    Row("type_deep_linear_tuple.la", LinearATypeError, (103, 18),
        "has a type nested more than 100 levels deep", "LTup"),
    Row("eval_deep_tuple.la", LinearATypeError, (103, 18),
        "has a type nested more than 100 levels deep", "NTup", **ev({"x": 1})),
    Row("grad_deep_tuple.la", LinearATypeError, (103, 18),
        "has a type nested more than 100 levels deep", "NTup", **gr({"x": 1})),
    Row("type_deep_linear_tuple.la", LinearATypeError, (103, 18),
        "has a type nested more than 100 levels deep", "LTup", command=("check", "--jobs", "1")),
    # --- the theorem-check suite refuses a bad program the same way
    Row("scope_forward_call.la", ScopeError, (2, 15), "`g` is defined after `f`", "Call",
        command=("check", "--no-rules", "--jobs", "1")),
    Row("input_nul_byte.la", InputError, (2, 5), "NUL byte", command=("check", "--no-rules", "--jobs", "1")),
    # --- surface (.py) files
    Row("surface_syntax_error.py", ParseError, (6, 20), "Python syntax error"),
    Row("surface_branch_on_value.py", "TraceError", (6, 8), "only straight-line code can be traced"),
    Row("surface_math_on_tracer.py", "TraceError", (8, 12), "cannot become a Python number"),
    Row("surface_no_marked_function.py", InputError, None, "marks no function"),
    Row("surface_raises_at_import.py", InputError, (3, 9), "raised ZeroDivisionError"),
    # --- loops (issue 14): the rule Loop, the loop syntax, JVP of arrays, the surface
    Row("type_loop_carry_mismatch.la", LinearATypeError, (7, 15),
        "carry type mismatch: the step function `step` takes carry 1 of type real but returns (real, real)",
        "Loop"),
    Row("type_loop_array_length.la", LinearATypeError, (7, 15),
        "wrong array length: `es` has 3 elements but the loop runs 4 iterations", "Loop"),
    Row("type_loop_linear_carry_twice.la", LinearATypeError, (6, 18),
        "linear variable `da` is passed twice to the loop of `step`", "Loop"),
    Row("scope_loop_forward_step.la", ScopeError, (3, 15), "the step function `step` is defined after `f`",
        "Loop"),
    Row("scope_loop_unknown_step.la", ScopeError, (3, 15), "unknown step function `stepp`", "Loop"),
    Row("parse_loop_count_not_integer.la", ParseError, (7, 20),
        "a non-negative integer literal as the loop's number of iterations, found `2.5`"),
    Row("transform_jvp_of_array_input.la", TransformError, (6, 16),
        "parameter `es` has an array type [real; 3], and arrays carry no tangent", "JDef",
        command=("jvp", "--fn", "f")),
    Row("surface_range_of_traced_value.py", "TraceError", (7, 5),
        "`for … in range(x)` with a traced x: the number of iterations must be a Python int"),
    Row("surface_deep_tuple.py", "TraceError", (13, 1), "a tuple nested more than 100 levels deep"),
    # --- loops: every other error of the rule Loop, arrays, transposition, the surface
    Row("type_loop_self.la", ScopeError, (3, 15), "`f` loops over itself", "Loop"),
    Row("scope_loop_primitive_step.la", ScopeError, (3, 15),
        "`sin` is a primitive; a loop runs a defined step function", "Loop"),
    Row("type_loop_argument_count.la", LinearATypeError, (7, 18),
        "the step function `step` takes (2 ; 0) arguments, but the loop passes 1 non-linear carry, "
        "0 array elements and 0 linear carries", "Loop"),
    Row("type_loop_fewer_results.la", LinearATypeError, (7, 15),
        "the step function `step` returns 1 non-linear result, fewer than its 2 carried values", "Loop"),
    Row("type_loop_linear_carry_type.la", LinearATypeError, (7, 22),
        "linear carry type mismatch: the step function `step` takes (real) and returns (real, real)",
        "Loop"),
    Row("type_loop_carry_argument.la", LinearATypeError, (8, 15),
        "carry `p` has type (real, real), but `step` takes real", "Loop"),
    Row("type_loop_over_not_array.la", LinearATypeError, (7, 15),
        "`e` of type real is not an array; `over` takes arrays [real; 3]", "Loop"),
    Row("type_loop_array_element.la", LinearATypeError, (7, 15),
        "the elements of `es` have type (real, real), but `step` takes real there", "Loop"),
    Row("type_loop_linear_carry_argument.la", LinearATypeError, (8, 17),
        "linear carry `dp` has type (real, real), but `step` takes real", "Loop"),
    Row("type_linear_array_parameter.la", LinearATypeError, (2, 17),
        "linear parameter `ds` has an array type [real; 3]; arrays are non-linear only", "Def"),
    Row("transform_transpose_loop_nonlinear_carry.la", TransformError, (9, 17),
        "carries non-linear values (x) inside linear code that its step does not return unchanged", "TDef",
        command=("transpose", "--fn", "g")),
    Row("surface_loop_changes_state_shape.py", "TraceError", (7, 5),
        "the loop body changes the shape of `x` (from real to (real, real)); a loop's state keeps its types"),
]


def _cls(row):
    return TraceError() if row.error == "TraceError" else row.error


def _api(row):
    """The row's failure through the Python API."""
    prog = load_program(os.path.join(BAD, row.file))
    typecheck(prog)
    cmd, opts = row.command[0], dict(zip(row.command[1::2], row.command[2::2]))
    if cmd == "eval":
        evaluate(prog, opts["--fn"], row.args)
    elif cmd == "jvp":
        from linear_a.transforms.jvp import jvp_program
        jvp_program(prog, [opts["--fn"]])
    elif cmd == "transpose":
        from linear_a.transforms.transpose import transpose_program
        transpose_program(prog, [opts["--fn"]])
    elif cmd == "unzip":
        from linear_a.transforms.checkpoint import policy_from_string
        from linear_a.transforms.unzip import unzip_program
        unzip_program(prog, policy=policy_from_string(opts["--policy"]))
    elif cmd == "grad":
        from linear_a.transforms.compose import grad
        grad(prog, opts["--fn"], row.args)
    pytest.fail(f"{row.file}: `{cmd}` accepted it")


def _argv(row):
    argv = [row.command[0], os.path.join(BAD, row.file), *row.command[1:]]
    if row.args is not None:
        argv += ["--args", json.dumps(row.args)]
    return argv


def test_table_is_big_and_distinct():
    assert len(ROWS) >= 40
    files = {r.file for r in ROWS}
    assert len(files) >= 40
    on_disk = {f for f in os.listdir(BAD)}
    assert files - {"does_not_exist.la"} <= on_disk
    assert not (on_disk - files), f"bad inputs without a row: {sorted(on_disk - files)}"


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_api_raises_the_row_error(row):
    with pytest.raises(LinearAError) as info:
        _api(row)
    e = info.value
    assert type(e) is _cls(row), f"{type(e).__name__}: {e}"
    assert e.pos == row.pos, f"position {e.pos} != {row.pos}: {e}"
    assert row.phrase in str(e)
    if row.rule is not None:
        assert e.rule == row.rule, str(e)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_cli_prints_one_located_line(row, capsys):
    code = main(_argv(row))
    out, err = capsys.readouterr()
    assert code == row.exit, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert "Traceback" not in err and "internal error" not in err
    assert row.phrase in line
    if row.exit == 1:
        where = os.path.join(BAD, row.file)    # errors without a position still name the file
        if row.pos is not None:
            where += f":{row.pos[0]}:{row.pos[1]}"
        assert line.startswith(where + ": "), line
        if row.rule is not None:
            assert f"({row.rule}):" in line
    else:
        assert line.startswith("linear-a: usage error: ")


# ---------------------------------------------------------------------------------------------
# Command-line mistakes (exit 2) and internal errors (exit 3)

GOOD = os.path.join(BAD, "eval_fine.la")


@pytest.mark.parametrize("argv, phrase", [
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["typecheck"], "the following arguments are required: file"),
    (["eval", GOOD], "the following arguments are required: --fn"),
    (["eval", GOOD, "--fn", "f", "--args", "{x: 1}"], "--args is not valid JSON"),
    (["eval", GOOD, "--fn", "f", "--args", "[1, 2]"], "--args must be a JSON object"),
    (["eval", GOOD, "--fn", "f", "--args", '{"x": NaN, "p": [1, 2]}'], "`NaN` is not a finite number"),
    (["eval", GOOD, "--fn", "f", "--args", "[" * 100000], "nests too deeply"),
    (["eval", GOOD, "--fn", "f", "--at", "x=1,p"], "--at expects name=value pairs"),
    (["eval", GOOD, "--fn", "f", "--at", "x=1", "--args", "{}"], "either --args or --at"),
    (["eval", GOOD, "--fn", "f", "--at", "x=1,p=[1,2]", "--domain", "quaternion"], "invalid choice"),
    (["check", GOOD, "--fn", "nope"], "--fn nope: no definition `nope`"),
    (["check", GOOD, "--budget", "-1"], "--budget must be a positive number of seconds"),
    (["check", "--fn", "f"], "--fn needs FILES"),
])
def test_usage_errors_exit_2(argv, phrase, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and phrase in err and "Traceback" not in err, err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: linear-a" in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "exit codes" in capsys.readouterr().out


def test_internal_error_says_bug_and_exits_3(monkeypatch, capsys):
    import linear_a.cmd_core as core

    def broken(*a, **k):
        return {}["a bug"]
    monkeypatch.setattr(core, "typecheck", broken)
    assert main(["typecheck", GOOD]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "bug in linear-a" in err and "report it" in err
    assert "Traceback" not in err and "--debug" in err
    with pytest.raises(KeyError):        # --debug (anywhere on the line) shows the real thing
        main(["typecheck", GOOD, "--debug"])


def test_error_messages_are_one_line_even_with_line_breaks_inside():
    e = ParseError("a\nb\u2028c", (1, 2), file="x.la", hint="d\re")
    assert "\n" not in str(e) and "\u2028" not in str(e) and "\r" not in str(e)


def test_errors_survive_pickling():
    import pickle
    e = ScopeError("unknown variable `z`", (2, 13), file="f.la", rule="Drop", hint="h")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is ScopeError and str(e2) == str(e) and e2.pos == (2, 13) and e2.rule == "Drop"


# ---------------------------------------------------------------------------------------------
# Time limits: a check that runs out of time is *unknown*, never proved


def test_time_limit_turns_a_slow_sympy_computation_into_proof_timeout():
    import time

    import sympy

    from linear_a.semantics.errors import ProofTimeout, time_limit
    x = sympy.Symbol("x")
    e = sum(sympy.sin(x) ** k * sympy.cos(x) ** (30 - k) for k in range(31))
    t0 = time.monotonic()
    with pytest.raises(ProofTimeout) as info:
        with time_limit(0.3, "simplifying the adjoint identity"):
            sympy.simplify(sympy.expand(e ** 3))
    assert time.monotonic() - t0 < 5
    assert "did not finish within 0.3 s" in str(info.value) and "unknown" in str(info.value)


def test_z3_obligation_past_its_timeout_is_unknown():
    import z3

    from linear_a.proofs.obligations import prove
    # x³ + y³ + z³ = 33 has an integer solution (with 16-digit numbers) that no
    # solver finds in time, and none can refute the claim below: whatever the
    # machine's speed, the answer is the timeout's *unknown*.  (A real-arithmetic
    # claim was refuted within 1 ms now and then.)
    x, y, z = z3.Ints("x y z")
    status, detail = prove(x * x * x + y * y * y + z * z * z != 33, [], timeout_ms=50)
    assert status == "unknown", (status, detail)


# ---------------------------------------------------------------------------------------------
# Output safety: a failure never leaves a half-written file


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    from linear_a.common import atomic_output, write_atomic
    target = tmp_path / "out.tex"
    write_atomic(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("half a docu")
            raise RuntimeError("the renderer failed half-way")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tex"]     # no temporary left over
    write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n" and oct(target.stat().st_mode & 0o777) != "0o600"


def test_trace_latex_of_an_ill_typed_program_is_a_complete_document(tmp_path, capsys):
    """The typing derivation up to the failing rule is written, whole; exit 1."""
    out = tmp_path / "trace.tex"
    code = main(["trace", os.path.join(BAD, "type_linear_used_twice.la"), "--fn", "f",
                 "--latex", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "(Let)" in err
    assert out.read_text().rstrip().endswith("\\end{document}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trace.tex"]


def test_a_latex_build_that_fails_leaves_the_old_files_alone(tmp_path, capsys, monkeypatch):
    """pdflatex fails on the document: exit 1, and neither the .tex nor a .pdf is
    replaced or left half-written (the build runs in a temporary directory)."""
    import shutil

    import linear_a.paper.trace as paper_trace
    if not shutil.which("latexmk"):
        pytest.fail("latexmk is needed for this check (apt-get install latexmk)")
    broken = "\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}\n"
    monkeypatch.setattr(paper_trace, "trace_document", lambda *a, **k: (broken, None))
    out = tmp_path / "trace.tex"
    out.write_text("the previous trace\n")
    code = main(["trace", os.path.join(BAD, "eval_fine.la"), "--fn", "f", "--latex", str(out), "--pdf"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert out.read_text() == "the previous trace\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trace.tex"]


# ---------------------------------------------------------------------------------------------
# Inputs that were once refused or crashed although they are fine (issue 15): each row is a
# program, a command and what its output must contain; exit 0, nothing on stderr.  With
# `then_typecheck`, the printed program must itself typecheck (the printer/transform pair closes).

@dataclass
class Fixed:
    id: str
    name: str                    # the file written under tmp_path
    text: str
    argv: tuple                  # FILE stands for the written file
    phrase: str                  # in stdout
    then_typecheck: bool = False


SEED = os.path.join(HERE, "..", "examples", "seed.la")
UNIT_TEXT = ("def f(x: real) -> (real ;) =\n  let (u ;) = () in\n  let (;) = drop(u) in\n"
             "  let (y ;) = sin(x) in\n  (y ;)\n")
FIXED = [
    Fixed("zero-typed-after-unpack", "z.la",
          "def f(; dx: real) -> (; real, (real, real)) =\n  let (; z) = zero in\n  let (a, b) = z in\n"
          "  let (; p) = (b, dx) in\n  (; a, p)\n", ("typecheck", "FILE"),
          "f : (; real) -> (; real, (real, real))"),
    Fixed("primitive-with-empty-linear-part", "s.la",
          "def f(x: real) -> (real ;) =\n  let (y ;) = sin(x ;) in\n  (y ;)\n",
          ("eval", "FILE", "--fn", "f", "--at", "x=0"), "(0.0 ; )"),
    Fixed("sympy-prints-exact-values", "seed.la", open(SEED).read(),
          ("grad", "FILE", "--fn", "f", "--at", "x1=2,x2=5", "--domain", "sympy"), "x2 = 2 - cos(5)"),
    Fixed("rational-at", "seed.la", open(SEED).read(),
          ("eval", "FILE", "--fn", "f", "--at", "x1=1/3,x2=5", "--domain", "sympy"),
          "-log(3) - sin(5) + 5/3"),
    Fixed("rational-args", "seed.la", open(SEED).read(),
          ("eval", "FILE", "--fn", "f", "--args", '{"x1": "1/3", "x2": 5}'), "1.52697865266"),
    Fixed("jvp-of-a-unit", "u.la", UNIT_TEXT, ("jvp", "FILE"), "let (; du) = zero : () in",
          then_typecheck=True),
    Fixed("linearize-of-a-unit", "u.la", UNIT_TEXT, ("linearize", "FILE"), "zero : ()",
          then_typecheck=True),
    Fixed("vjp-of-a-unit", "u.la", UNIT_TEXT, ("vjp", "FILE", "--fn", "f"), "zero : ()",
          then_typecheck=True),
    Fixed("vjp-of-a-unit-reference", "u.la", UNIT_TEXT, ("vjp", "FILE", "--fn", "f", "--reference"),
          "zero : ()", then_typecheck=True),
    Fixed("check-every-definition", "three.la",
          "def f(x: real) -> (real ;) =\n  sin(x)\n\ndef g(x: real) -> (real ;) =\n"
          "  let (y ;) = f(x) in\n  x * y\n\ndef h(x: real) -> (real ;) =\n  cos(x)\n",
          ("check", "FILE", "--jobs", "1"), "checked in FILE: f, g, h"),
    Fixed("check-within-its-budget", "slow.la",
          "def f(x: real, y: real) -> (real ;) =\n" + "".join(
              f"  let (v{i} ;) = {op} in\n" for i, op in enumerate(
                  ["sin(x)", "tan(v0)", "exp(v1)", "sigmoid(v2)", "exp(v3)", "sqrt(v4)", "log(v5)",
                   "exp(v6)", "pow(v7, x)", "tanh(v8)", "cos(v9)", "v10 / y", "neg(v11)",
                   "v12 * x", "v13 - y", "v14 + x", "sin(v15)", "tan(v16)", "exp(v17)"]))
          + "  (v18 ;)\n", ("check", "FILE", "--jobs", "1", "--budget", "3"), "checked in FILE: f"),
    Fixed("surface-file-with-one-untraceable-function", "m.py",
          "from linear_a import linear_a, sin\n\n\n@linear_a\ndef relu(x):\n    if x > 0:\n"
          "        return x\n    return 0 * x\n\n\n@linear_a\ndef f(x):\n    return sin(x) * x\n",
          ("grad", "FILE", "--fn", "f", "--at", "x=0"), "x = 0.0"),
]


@pytest.mark.parametrize("row", FIXED, ids=[r.id for r in FIXED])
def test_once_refused_now_accepted(row, tmp_path, capsys):
    path = tmp_path / row.name
    path.write_text(row.text)
    argv = [str(path) if a == "FILE" else a for a in row.argv]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0 and err == "", err
    assert row.phrase.replace("FILE", str(path)) in out, out
    if row.then_typecheck:
        printed = tmp_path / "printed.la"
        printed.write_text(out)
        assert main(["typecheck", str(printed)]) == 0, capsys.readouterr().err


def test_untraceable_function_keeps_its_located_error(capsys, tmp_path):
    """The bad function of a .py file still fails where it is asked for, and
    in a command on the whole file."""
    row = FIXED[-1]
    path = tmp_path / row.name
    path.write_text(row.text)
    for argv in (["eval", str(path), "--fn", "relu", "--at", "x=1"], ["typecheck", str(path)]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"{path}:6:8: trace error") and len(err.splitlines()) == 1, err
