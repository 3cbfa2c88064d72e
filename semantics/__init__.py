"""Linear A, the language: syntax, parser, printer, typing, evaluation, primitives.

The public API of the language layer (SPEC §14)::

    from linear_a.semantics import parse_program, show, typecheck, evaluate
    prog = parse_program(open("examples/seed.la").read(), "examples/seed.la")
    typecheck(prog)                       # a Derivation, or a located LinearATypeError
    evaluate(prog, "f", {"x1": 2, "x2": 5}).nl   # (11.652...,)

    from linear_a.semantics.surface import log, sin
    @linear_a                             # the surface front end: trace Python
    def g(x1, x2):
        return log(x1) + x1 * x2 - sin(x2)
    trace(g)                              # a core Program (dup/drop inserted)
"""
from .derivation import Derivation
from .domains import FLOAT, Domain, get_domain
from .errors import (DomainError, EvalError, InputError, LinearAError, LinearATypeError, ParseError,
                     Pos, ProofTimeout, ScopeError, TeXError, TransformError, UsageError)
from .evaluate import Costs, DEFAULT_COSTS, Result, evaluate
from .parser import parse_def, parse_expr, parse_program
from .primitives import PRIMITIVES
from .printer import show
from .syntax import (REAL, UNIT, Block, Call, Def, Drop, Dup, LAdd, Let, Lit, LTup, LUnpack, NTup,
                     NUnpack, Param, Prim, Program, Ret, Scale, Signature, TupleType, Type, Zero,
                     expr_size, free_vars, size_of_type)
from .typecheck import typecheck, typecheck_def
from .elaborate import insert_dup_drop
from .surface import linear_a, load_surface_file, trace, trace_many

__all__ = [n for n in dir() if not n.startswith("_")]
