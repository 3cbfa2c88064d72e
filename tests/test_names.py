"""The tracer keeps the user's Python names (issue 18): assignment targets
become binders, unnamed intermediates get fresh ``v`` names that avoid the
user's, a name assigned twice is suffixed only on the collision; evaluation
traces keep parameters' names and label each call site of a helper apart."""
from linear_a.paper.evaltrace import tape
from linear_a.paper.teach import adjoint_rows
from linear_a.semantics import show, typecheck
from linear_a.semantics.surface import linear_a, load_surface_file, sin, tanh, trace
from linear_a.semantics.syntax import Let, NUnpack, iter_nodes


def binders(prog, fn):
    out = []
    for n in iter_nodes(prog[fn].body):
        if type(n) is Let:
            out.extend(n.nl)
        elif type(n) is NUnpack:
            out.extend(n.names)
    return out


def net(x, w1, w2, v1, v2):
    h1 = tanh(w1 * x)
    h2 = tanh(w2 * x)
    h1 = h1 * h1
    z = v1 * h1 + v2 * h2
    c = z ** 3
    return c + z


def test_assignment_targets_become_binders():
    prog = trace(net)
    typecheck(prog)
    names = binders(prog, "net")
    for n in ("h1", "h2", "h1_2", "z", "c"):
        assert n in names, (n, names)
    # unnamed intermediates get fresh names that avoid the parameters v1, v2
    fresh = [n for n in names if n.startswith("v")]
    assert fresh and "v1" not in fresh and "v2" not in fresh
    assert [p.name for p in prog["net"].params] == ["x", "w1", "w2", "v1", "v2"]
    # x ** 3 is two multiplications; only the last one is called c
    text = show(prog)
    assert "let (c ;) = " in text and text.count(" ;) = z * z") == 1


def test_tuple_assignment_names_a_marked_call_components(tmp_path):
    src = tmp_path / "pair.py"
    src.write_text(
        "from linear_a import linear_a, sin\n\n"
        "@linear_a\ndef g(u, v):\n    s = u * v\n    return s, sin(u)\n\n"
        "@linear_a\ndef f(x, y):\n    p, q = g(x, y)\n    r = g(q, p)\n    return p * q\n")
    prog = load_surface_file(str(src))
    typecheck(prog)
    assert binders(prog, "g")[0] == "s"
    names = binders(prog, "f")
    assert "p" in names and "q" in names and "r" in names


def test_parameters_named_v_keep_their_names_in_the_traces():
    @linear_a
    def f(v1, v2):
        return v1 * v2 + sin(v1)
    t = tape(trace(f), "f", {"v1": 2.0, "v2": 3.0})
    labels = [e.label for e in t.entries]
    assert labels[:2] == ["v1", "v2"]
    assert len(set(labels)) == len(labels)


def test_each_call_site_is_labelled_by_its_position():
    @linear_a
    def helper(a):
        return a * a

    @linear_a
    def f(x):
        return helper(x) + helper(sin(x))
    t = tape(trace(f), "f", {"x": 0.5})
    names = [e.name for e in t.entries]
    assert any(n.startswith("helper#1.") for n in names)
    assert any(n.startswith("helper#2.") for n in names)


def test_the_seed_is_named_after_the_output_not_y():
    @linear_a
    def f(x, y):
        return x * y
    t = tape(trace(f), "f", {"x": 2.0, "y": 3.0})
    rows = adjoint_rows(t)
    seed = [r for r in rows if r[1].startswith("seed")]
    assert len(seed) == 1 and "y\u0304" not in seed[0][1] and "ȳ" not in seed[0][1]
    assert [r for r in rows if r[0] == "y\u0304"]      # y's own adjoint row keeps its name


def test_numpy_ufuncs_are_refused_with_a_trace_error():
    """numpy hands a ufunc call on a traced value to __array_ufunc__ (the
    protocol is exercised here directly: numpy is not a dependency)."""
    from linear_a.semantics.surface import TraceError

    class FakeUfunc:
        __name__ = "sin"

    @linear_a
    def f(x):
        return x.__array_ufunc__(FakeUfunc(), "__call__", x)
    import pytest
    with pytest.raises(TraceError, match="numpy's `sin` cannot take a traced value"):
        trace(f)


def horner(cs, x):          # unmarked: runs at trace time, recursion on a list
    if len(cs) == 1:
        return cs[0]
    return cs[0] + x * horner(cs[1:], x)


def affine(w, x, b):
    return w * x + b


def test_a_value_an_unmarked_helper_returns_takes_the_callers_name():
    def p(x, w):
        y = horner([7, -4, 0, 2.5], x)
        k = affine(w, y, 1.0)
        return sin(k) * y
    prog = trace(p)
    typecheck(prog)
    names = binders(prog, "p")
    assert "y" in names and "k" in names
    # the helper's own intermediates stay unnamed (the recursion's inner results are operands)
    assert sum(1 for n in names if n == "y" or n.startswith("y_")) == 1
