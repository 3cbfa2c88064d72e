"""`linear-a teach loop`: a loop through JVP, unzip and transposition.

The example is ``examples/rnn.la``, a recurrent cell run by ``loop 100`` over
a step function.  The walkthrough prints, each from the code that runs:

0. the program and its typing derivation line for the loop (rule Loop);
1. the JVP: a loop of the step's JVP, the tangents carried (rule JLoop);
2. the unzip: a non-linear loop that stacks each iteration's residual tuple
   ``R`` into ``ws : [R; N]`` and a linear loop that reads it back (ULoop);
3. the transposition: the reversed loop of the transposed step over the same
   stack, the cotangents carried (TLoop);
4. the gradient at the point next to the gradient of the *unrolled* program
   (``transforms.loops.unroll_loops``: N calls, no loop), W and M, and the
   sizes of both gradient programs: the looped one does not grow with N.

Each stage shows its derivation line for the loop rule (the rule's name, its
plain statement, what it rewrote into what) and the definitions it made,
the step's first.  No number is written here: the programs, derivations and
gradients are computed when the walkthrough runs.
"""
from __future__ import annotations

from linear_a.semantics.derivation import Derivation
from linear_a.semantics.printer import show
from linear_a.semantics.rules import RULES
from linear_a.semantics.syntax import ArrayType, Loop, Program, program_size

LOOP_RULES = {"typing": "Loop", "jvp": "JLoop", "unzip": "ULoop", "transpose": "TLoop"}
# a loop whose step returns some parameters unchanged (invariant carries) takes these instead
INVARIANT_RULES = {"unzip": "ULoopInv", "transpose": "TLoopInv"}


def loop_nodes(dv: Derivation, rule: str) -> list[Derivation]:
    """The nodes of a derivation made by ``rule`` (pre-order)."""
    return [n for n in dv.walk() if n.rule == rule]


def derivation_lines(dv: Derivation, judgment: str) -> list[str]:
    """The loop rule of ``judgment``, as it was applied in ``dv``: its name and
    plain statement, then ``[Rule] subject ⟶ result`` per application."""
    from linear_a.paper.traces import plain_fragment
    from linear_a.semantics.typecheck import conclusion_text
    name = LOOP_RULES[judgment]
    inv = INVARIANT_RULES.get(judgment)
    if inv and loop_nodes(dv, inv) and not loop_nodes(dv, name):
        name = inv
    r = RULES[(judgment, name)]
    lines = [f"rule {name}: {r.text}"]
    for n in loop_nodes(dv, name):
        if judgment == "typing":
            lines.append(f"  [{name}] {conclusion_text(n)}")
        else:
            lines.append(f"  [{name}] {plain_fragment(n.subject)}")
            lines.append(f"      ⟶  {plain_fragment(n.result)}")
    return lines


def stacked_residuals(prog: Program, nl_name: str) -> list[tuple[str, ArrayType]]:
    """(name, type) of each array a loop in ``nl_name`` stacks (the residuals),
    read off the typing derivation of ``prog``."""
    from linear_a.semantics.syntax import Def, Let
    from linear_a.semantics.typecheck import typecheck
    out = []
    for top in typecheck(prog).walk():
        if top.rule != "Def" or type(top.subject) is not Def or top.subject.name != nl_name:
            continue
        for n in top.walk():
            if n.rule == "Let" and type(n.subject) is Let and type(n.subject.rhs) is Loop:
                out += [(x, t) for x, t in zip(n.subject.nl, n.result[0]) if type(t) is ArrayType]
    return out


def _binds(d):
    """Every binding and leaf of a definition (nested right-hand sides too)."""
    from linear_a.semantics.syntax import iter_nodes
    return list(iter_nodes(d.body))


def _defs(prog: Program, names) -> Program:
    return Program([prog[n] for n in names if prog.get(n) is not None], prog.file)


def loop_gradients(prog: Program, fn: str, args):
    """(looped VJPResult, unrolled VJPResult, |vjp| looped, |vjp| unrolled)."""
    from linear_a.transforms.compose import grad, vjp_program
    from linear_a.transforms.loops import unroll_loops
    vp = vjp_program(prog, fn)
    flat = unroll_loops(prog)
    up = vjp_program(flat, fn)
    return (grad(prog, fn, args, program=vp), grad(flat, fn, args, program=up),
            program_size(vp), program_size(up))


def _g(v: float) -> str:
    """9 significant digits, a true minus: the two columns agree to rounding."""
    return f"{v:.9g}".replace("-", "−")


def teach_loop(console, ex, prog: Program) -> None:
    """Print the loop walkthrough of example ``ex`` (see the module docstring)."""
    from linear_a.semantics.typecheck import typecheck
    from .pipeline import run_stages
    from .teach import _table, fmt
    fn = ex.fn
    loops = [x for d in prog.defs for x in _binds(d) if type(x) is Loop]
    n = loops[0].n
    step = loops[0].fn
    console.print("The program (Linear A): the step function runs N = "
                  f"{n} times; its carried state is its parameters, its results the next state.\n")
    console.print(show(prog), markup=False, highlight=False, soft_wrap=True)
    console.print("\n0. Typing.  The step's own typing says it consumes its linear carry once; "
                  "the loop checks that the state can go round.")
    for line in derivation_lines(typecheck(prog), "typing"):
        console.print(line, markup=False, highlight=False, soft_wrap=True)

    st = run_stages(prog, fn)
    jvp, unz, tr = st["jvp"], st["unzip"], st["transpose"]
    console.print(f"\n1. JVP: {fn} ⇝ {fn}_jvp.  The loop runs the step's JVP {step}_jvp; each "
                  "carried value gets its tangent in the linear carry (a constant carry, "
                  "here the counter's start, gets a zero).")
    for line in derivation_lines(jvp.derivation, "jvp"):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print(show(_defs(jvp.prog_out, [step + "_jvp", fn + "_jvp"])),
                  markup=False, highlight=False, soft_wrap=True)

    nl, lin = fn + "_jvp_nl", fn + "_jvp_lin"
    console.print(f"\n2. Unzip: {fn}_jvp ⇝ {nl}, {lin}.  The step is unzipped first "
                  f"({step}_jvp ⇝ {step}_jvp_nl, {step}_jvp_lin); the non-linear loop stacks "
                  "each iteration's residual tuple R, the linear loop reads the stack back in "
                  "the same order.  The parameters the step returns unchanged (invariant "
                  "carries) are not stacked: the wrappers _inv stack only the varying residuals, "
                  "and the linear loop carries the invariant ones, non-linear and unchanged.")
    for line in derivation_lines(unz.derivation, "unzip"):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    for name, ty in stacked_residuals(unz.prog_out, nl):
        k = len(ty.elem.items) if hasattr(ty.elem, "items") else 1
        console.print(f"  the stacked residuals: {name} : {ty!r}  "
                      f"({k} real{'s' * (k != 1)} per iteration × {ty.n} iterations = {k * ty.n} reals)",
                      markup=False, highlight=False, soft_wrap=True)
    console.print(show(_defs(unz.prog_out, [step + "_jvp_nl", step + "_jvp_lin", step + "_jvp_nl_inv",
                                            step + "_jvp_lin_inv", nl, lin])),
                  markup=False, highlight=False, soft_wrap=True)

    console.print(f"\n3. Transpose: {lin} ⇝ {lin}_T.  A linear loop becomes the reversed loop of "
                  f"the transposed step {step}_jvp_lin_T over the same stack: iteration N−1 "
                  "first, the cotangents carried.")
    for line in derivation_lines(tr.derivation, "transpose"):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print(show(_defs(tr.prog_out, [step + "_jvp_lin_T", step + "_jvp_lin_inv_T", lin + "_T"])),
                  markup=False, highlight=False, soft_wrap=True)

    g, gu, size, size_u = loop_gradients(prog, fn, ex.args)
    rows = [(p.name, _g(g.gradient[p.name]), _g(gu.gradient[p.name])) for p in prog[fn].nl_params]
    at = ", ".join(f"{k} = {fmt(v)}" for k, v in ex.args.items())
    console.print(_table(f"4. The gradient at {at}: {nl} then {lin}_T (the loop kept), and the "
                         f"same transformations on the unrolled program ({n} calls of {step})",
                         ["input", "looped", "unrolled"], rows, {1: "right", 2: "right"}))
    console.print(f"   looped:   W = {g.work}, M = {g.memory}, gradient program |P| = {size} "
                  f"(the same for any N)\n"
                  f"   unrolled: W = {gu.work}, M = {gu.memory}, gradient program |P| = {size_u} "
                  f"(grows with N)\n"
                  f"   The cotangent of {prog[fn].nl_params[0].name} passes through every step's "
                  "transposed tanh and product: it shrinks at each step when |w·(1 − h²)| < 1 "
                  "(the vanishing gradient of recurrent cells).\n"
                  "   Both store every iteration's residuals (save-all); `linear-a checkpoint` and "
                  "the policies trade that memory for recomputation.")
