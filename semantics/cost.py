"""Work and peak memory without the values: ``evaluate_cost(prog, fn) -> Cost(W, M)``.

Linear A has no control flow, so W and M of a run (SPEC §4) depend on the
program and the *types* of the arguments, never on their values.  A cost-only
run is the one evaluator (``semantics/evaluate.py``) in the ``cost`` number
domain (``semantics/domains.py``: every real is ``•``, every operation returns
it, so a value is nothing but its shape), with two shortcuts that the
independence from values makes exact:

* **a loop runs its step once** (``semantics/loops.py``, ``Evaluator.summarize``):
  every iteration runs the same step on values of the same types, so it has the
  same work w and the same step-frame peak p and stacks the same s reals;
  W = N·(w + ``Costs.loop``) and M is the peak of the last iteration,
  base + (N − 1)·s + p.  The stacked arrays are :class:`~.loops.Repeated`
  (n copies of one shape, not materialized; ``vsize`` reads their size);
* **each definition is run once**: a call's W, its frame's peak and the shapes
  of its results depend only on the definition (its arguments' shapes are its
  parameter types), so later calls of it reuse the first one's.

Everything else -- which values are live, when they are freed, what a node
allocates, how a call's frame adds to its caller's -- is the evaluator's own
code, unchanged.  The cost of a cost-only run is O(|program|): independent of
the loops' lengths, and of how often a definition is called (a binomial
schedule's recursion, a nested loop).

The outputs of such a run are shapes, not values: this module returns (W, M)
only.  ``tests/test_loop_cost.py`` checks that they equal the full evaluator's,
on examples, random looped programs and the vjp programs of every loop policy.
"""
from __future__ import annotations

from typing import NamedTuple

from .domains import COST, SCALAR
from .errors import EvalError, LinearAError, UsageError
from .evaluate import Costs, Evaluator
from .gcpause import paused_gc
from .loops import Repeated
from .syntax import ArrayType, Def, Program, RealType, Type


class Cost(NamedTuple):
    work: int
    memory: int


class CostEvaluator(Evaluator):
    """The evaluator in the cost domain, loops summarized, each definition run once."""
    summarize = True

    def __init__(self, prog: Program, costs: Costs | None = None):
        super().__init__(prog, COST, costs)
        self.runs: dict[str, tuple] = {}

    def call(self, d: Def, nl_args, lin_args, outer_live: int = 0):
        run = self.runs.get(d.name)
        if run is None:
            run = self.runs[d.name] = super().call(d, nl_args, lin_args)
        return run


def shape(ty: Type):
    """The value of type ``ty`` in a cost-only run: ``•`` per real."""
    if isinstance(ty, RealType):
        return SCALAR
    if isinstance(ty, ArrayType):
        return Repeated(shape(ty.elem), ty.n)
    return tuple(shape(t) for t in ty.items)


def evaluate_cost(prog: Program, fn: str, costs: Costs | None = None) -> Cost:
    """W and M of running ``fn`` of a (well-typed) program on any arguments of its
    parameter types -- equal to :func:`~.evaluate.evaluate`'s ``work`` and
    ``memory`` at every point (where that run raises no domain error), computed
    in time independent of the loops' lengths."""
    d = prog.get(fn)
    if d is None:
        raise UsageError(f"no function `{fn}` in the program (defined: {', '.join(prog.names) or 'none'})")
    ev = None
    try:
        with paused_gc():
            ev = CostEvaluator(prog, costs)
            _, _, w, peak, _ = ev.call(d, [shape(p.ty) for p in d.nl_params],
                                       [shape(p.ty) for p in d.lin_params])
    except LinearAError as e:
        raise e.located(prog.file)
    except RecursionError:
        if ev is None or ev.deepest is None:
            raise
        call, depth = ev.deepest
        raise EvalError(f"calls nest {depth} deep here (the call of `{call.fn}`), deeper than this "
                        f"evaluator's stack allows", call.pos, file=prog.file, rule="Call") from None
    return Cost(w, peak)
