"""What JVP says about itself: the one-line conclusions of its derivation (the
text `linear-a trace` prints per rule) and its error for a function that is
not there.  Found untested by the issue-19 mutation run (a list of bindings
printed as one binding; the defined functions left out of the error)."""
import pytest

from linear_a.semantics import TransformError, parse_program
from linear_a.transforms.jvp import conclusion_text, fragment_text, jvp, jvp_program

PROG = parse_program("def f(x: real, y: real) -> (real ;) =\n"
                     "  let (z ;) = sin(x) in\n"
                     "  let (w ;) = z * y in\n"
                     "  (w ;)\n", "t.la")


def test_each_jprim_conclusion_lists_the_bindings_it_writes():
    lines = [conclusion_text(n) for n in jvp(PROG).walk() if n.rule == "JPrim"]
    assert lines == [
        "sin(x) ⇝ let (z ;) = sin(x); let (c ;) = cos(x); let (; dz) = c *. dx",
        "z * y ⇝ let (w ;) = z * y; let (; dw) = y *. dz; let (; dw_1) = z *. dy; let (; dw_2) = dw +. dw_1",
    ]


def test_an_empty_list_of_bindings_is_a_box():
    assert fragment_text([]) == "□"
    assert fragment_text(()) == "□"


def test_jvp_of_a_missing_function_names_the_defined_ones():
    with pytest.raises(TransformError) as info:
        jvp_program(PROG, ["g"])
    assert "no function `g`" in str(info.value)
    assert "(defined: f)" in str(info.value)


def test_jvp_of_a_program_with_no_nonlinear_definition_points_at_the_first():
    prog = parse_program("def g(; a: real) -> (; real) =\n"
                         "  (; a)\n"
                         "def h(x: real ; b: real) -> (real ; real) =\n"
                         "  (x ; b)\n", "u.la")
    with pytest.raises(TransformError) as info:
        jvp_program(prog)
    e = info.value
    assert e.rule == "JDef" and e.pos is not None and e.pos.line == 1, str(e)
    assert "`g`, `h`" in str(e)
