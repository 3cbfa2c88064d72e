"""linear-a: reverse-mode AD as JVP, then unzip, then transpose, in Linear A.

The one import name of the project (SPEC §17).  The layers live in their own
folders and import as ``linear_a.semantics`` ← ``linear_a.transforms`` ←
``linear_a.proofs`` ← ``linear_a.paper``; the command line is
``linear_a.cli`` (``python -m linear_a``).  This module re-exports the public
API, so a notebook needs one import::

    from linear_a import parse_program, typecheck, evaluate, show, vjp_program, grad

    prog = parse_program(open("examples/seed.la").read(), "examples/seed.la")
    typecheck(prog)                          # a Derivation (or a located type error)
    print(show(vjp_program(prog, "f")))      # f_jvp_nl and f_jvp_lin_T
    grad(prog, "f", {"x1": 2, "x2": 5}).gradient   # {'x1': 5.5, 'x2': 1.7163...}

and surface Python files (SPEC §6) use the short form::

    from linear_a import linear_a, ln, sin

    @linear_a
    def f(x1, x2):
        return ln(x1) + x1 * x2 - sin(x2)

    prog = trace(f)                          # the core Program, dup/drop inserted
"""
from linear_a.semantics import (Derivation, LinearAError, evaluate, parse_program, show,
                                typecheck)
from linear_a.semantics.surface import (cos, exp, linear_a, ln, log, pow, sigmoid, sin, sqrt,
                                        tan, tanh, trace, trace_many)
from linear_a.transforms import (grad, jvp_program, linearize, oracle_grad, transpose_program,
                                 unzip_program, vjp, vjp_program)

__all__ = [
    # the language
    "parse_program", "show", "typecheck", "evaluate", "Derivation", "LinearAError",
    # the transformations and their compositions
    "jvp_program", "unzip_program", "transpose_program", "linearize", "vjp_program", "vjp",
    "grad", "oracle_grad",
    # the surface front end (`pow` is importable by name but kept out of `import *`,
    # which would shadow the builtin)
    "linear_a", "trace", "trace_many", "sin", "cos", "tan", "exp", "log", "ln", "sqrt",
    "tanh", "sigmoid",
]
