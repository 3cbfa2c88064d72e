"""The theorem registry (SPEC §11): one entry per theorem, with its statement,
its constants and how it is checked.

Every theorem is checked at one or two levels:

* **per rule, for all programs** (``linear_a.proofs.obligations``): the inductive step
  of each transformation rule as a z3 obligation over symbolic costs and sizes
  of the sub-derivations, so that the cost and size bounds hold by structural
  induction; and the local adjoint identity of every linear form;
* **per program** (``linear_a.proofs.checks``): on the built-in corpus and on random
  well-typed programs.

Statuses (never a silent pass):

* ``proved`` -- holds for *all* inputs of this program (or, per rule, for all
  programs): a normal-form identity (``linear_a.proofs.normalform``: a polynomial
  identity over uninterpreted transcendental functions), a sympy or z3 proof,
  a typing derivation, or an exact measurement of a quantity that does not
  depend on the inputs (W and |e| of straight-line code);
* ``checked`` -- holds at the sampled points only (exact or 1e-9-relative
  evaluation), because no proof method decided it;
* ``refuted`` -- a counterexample: the program, the inputs, the two sides;
* ``unknown`` -- a solver timed out or a method could not decide and nothing
  else applied.

Constants are not chosen: :func:`constants` derives them from the cost table
by running the transformations' own rules on one-rule programs
(``linear_a.proofs.obligations.derive_constants``); docs/theorems.md shows the
derivation for the default table.
"""
from __future__ import annotations

from dataclasses import dataclass

from .obligations import constants, value  # noqa: F401  (derived there, re-exported here)

STATUSES = ("proved", "checked", "refuted", "unknown")


@dataclass(frozen=True)
class Theorem:
    id: str
    title: str
    statement: str              # plain text, precise
    latex: str                  # the statement in LaTeX (for the paper)
    per_rule: bool              # has per-rule (for all programs) obligations
    per_program: tuple = ()     # how a program is checked, in order of strength
    constants: tuple = ()       # names of the constants in the statement


THEOREMS: dict[str, Theorem] = {}


def theorem(id, title, statement, latex, per_rule=False, per_program=(), constants=()):
    THEOREMS[id] = Theorem(id, title, statement, latex, per_rule, tuple(per_program), tuple(constants))


theorem("typing-sound", "Typing is sound: one-way dependency and linearity",
        "For a well-typed definition f(x̄ ; ẏ) and fixed non-linear inputs x̄, the non-linear "
        "outputs do not depend on ẏ and the linear outputs are a linear function of ẏ "
        "(f(x̄ ; a·u + b·v) = a·f(x̄ ; u) + b·f(x̄ ; v) on the linear side).",
        r"\Gamma;\Delta \vdash e : (\bar\tau;\bar\sigma) \implies "
        r"\pi_{\mathrm{nl}}\,e(\bar x;\dot y) = \pi_{\mathrm{nl}}\,e(\bar x;0) \ \wedge\ "
        r"\pi_{\mathrm{lin}}\,e(\bar x; a\dot u + b\dot v) = a\,\pi_{\mathrm{lin}}\,e(\bar x;\dot u) + b\,\pi_{\mathrm{lin}}\,e(\bar x;\dot v)",
        per_rule=True,
        per_program=("normal form: non-linear outputs free of linear inputs, linear outputs are linear forms",
                     "sympy: linear outputs are polynomials of degree ≤ 1 without constant term in the linear inputs",
                     "z3: the linearity identity for all reals, transcendental primitives uninterpreted"))
theorem("jvp-typed", "JVP is well typed",
        "For every purely non-linear f of a well-typed program, f_jvp is well typed with signature "
        "(τ̄ ; τ̄) → (τ̄' ; τ̄'): one linear tangent per parameter and per result.",
        r"\cdot;\cdot\vdash f : \bar\tau \to \bar\tau' \implies f_{\mathit{jvp}} : (\bar\tau;\bar\tau)\to(\bar\tau';\bar\tau')",
        per_program=("typing derivation of the output", "signature"))
theorem("jvp-correct", "JVP computes the primal and the Jacobian-vector product",
        "f_jvp(x̄ ; ẋ) = (f(x̄) ; J_f(x̄)·ẋ) for all x̄ in f's domain and all ẋ.",
        r"f_{\mathit{jvp}}(\bar x;\dot x) = (f(\bar x) ; J_f(\bar x)\,\dot x)",
        per_program=("normal form against textbook derivative rules (uninterpreted transcendentals)",
                     "sympy: diff of the primal", "oracle: tape-based reverse mode at a point"))
theorem("jvp-cost", "JVP costs a constant factor",
        "W(f_jvp) ≤ c_J·W(f) + d_J·(‖f‖ + a‖f‖), where ‖f‖ is the trace weight (nodes plus "
        "variable occurrences weighted by the size of their type, callees once per call) and a‖f‖ "
        "the weight of f's call interface `let (outs) = f(params)`.",
        r"W(J(e)) \le c_J\,W(e) + d_J\,(\|e\| + a\|e\|)",
        per_rule=True, per_program=("measured W (input-independent) against the bound",),
        constants=("c_J", "d_J"))
theorem("jvp-size", "JVP grows programs by a constant factor",
        "|J(P)| ≤ s_J·Σ_f (|f| + a(f)) over the definitions transformed, where a(f) = 2 + #params "
        "+ #results is the size of f's call interface (sizes of definition bodies).",
        r"|J(e)| \le s_J\,(|e| + a(e))", per_rule=True,
        per_program=("measured |e| against the bound",), constants=("s_J",))
theorem("unzip-typed", "Unzip is well typed",
        "Both halves f_nl(x̄ ;) -> (τ̄', R ;) and f_lin(w : R ; ẏ) -> (; σ̄') of every definition are well typed.",
        r"f \leadsto_U (f_{\mathit{nl}}, f_{\mathit{lin}}) \implies \vdash f_{\mathit{nl}} \wedge \vdash f_{\mathit{lin}}",
        per_program=("typing derivation of the output",))
theorem("unzip-correct", "Unzip is correct",
        "Running f_nl then f_lin on its residuals gives f's results: "
        "C[let (x̄;) = eₙ in let (;ȳ) = eₗ in (x̄;ȳ)] ≡ e.",
        r"C[\mathsf{let}\,(\bar x;)=e_n\,\mathsf{in}\,\mathsf{let}\,(;\bar y)=e_l\,\mathsf{in}\,(\bar x;\bar y)] \equiv e",
        per_program=("normal form of both runs (for all inputs)", "float evaluation at points"))
theorem("unzip-cost", "Unzip conserves work; recomputation costs exactly what it recomputes",
        "Under save-all, W(f_nl) + W(f_lin) = W(f).  Under any policy, W(f_nl) + W(f_lin) − W(f) "
        "equals the recomputed work: the non-linear work executed in both halves, "
        "W_nl(f_nl) + W_nl(f_lin) − W_nl(f), which lies between 0 and W_nl(f_lin) (so linear work "
        "is conserved exactly).  Peak memory M of the vjp is reported.",
        r"W(e_n) + W(e_l) = W(e) + W_{\mathit{recomputed}}",
        per_rule=True, per_program=("measured W (input-independent), save-all and recompute-all",))
theorem("transpose-typed", "Transposition is well typed",
        "For linear f(x̄ ; ȳ) -> (; σ̄), f_T(x̄ ; ÿ : σ̄) -> (; types of ȳ) is well typed.",
        r"\Gamma;\Delta\vdash e : (;\bar\sigma) \implies \Gamma;\ddot y:\bar\sigma \vdash T(e) : (;\Delta)",
        per_program=("typing derivation of the output",))
theorem("transpose-adjoint", "Transposition computes the adjoint",
        "⟨ÿ, L(x̄ ; ẋ)⟩ = ⟨L_T(x̄ ; ÿ), ẋ⟩ for all x̄, ẋ, ÿ.",
        r"\langle \ddot y, L\,\dot x\rangle = \langle L^{T}\ddot y, \dot x\rangle",
        per_rule=True,
        per_program=("normal form: the coefficient matrix of L_T is the transpose of L's",
                     "z3: the bilinear identity for all reals (small programs)"))
theorem("transpose-cost", "Transposition conserves work",
        "W(f_T) under the dual pricing (+. ↔ dup, zero ↔ drop) equals W(f); under a self-dual "
        "table (the default) W(f_T) = W(f).",
        r"W^{*}(T(e)) = W(e)", per_rule=True,
        per_program=("measured W (input-independent)",))
theorem("transpose-size", "Transposition grows programs by a constant factor",
        "|f_T| ≤ s_T·(|f| + a(f)), a(f) the size of f's call interface.",
        r"|T(e)| \le s_T\,(|e| + a(e))", per_rule=True,
        per_program=("measured |e| against the bound",), constants=("s_T",))
theorem("transpose-involution", "Transposing twice gives the original map back",
        "T(T(f)) ≡ f up to renaming and dup/+, zero/drop administration: the same linear map "
        "(for all inputs) and the same work.",
        r"T(T(e)) \equiv e",
        per_program=("normal form: equal coefficient matrices", "measured W"))
theorem("vjp-correct", "VJP = JVP, unzip, transpose computes Jᵀȳ",
        "vjp f (x̄ ; ȳ) = J_f(x̄)ᵀ·ȳ, equal to the tape-based oracle and to sympy's gradient.",
        r"\mathit{vjp}\,f\,(\bar x;\bar y) = J_f(\bar x)^{T}\bar y",
        per_program=("normal form against textbook derivative rules",
                     "sympy: gradient", "oracle: tape-based reverse mode at a point"))
theorem("vjp-cost", "The cheap-gradient principle",
        "W(f_jvp_nl) + W(f_jvp_lin_T) ≤ c_V·W(f) + d_V·(‖f‖ + a‖f‖) (save-all).",
        r"W(\mathit{vjp}\,f) \le c_V\,W(f) + d_V\,(\|f\| + a\|f\|)",
        per_rule=True, per_program=("measured W (input-independent) against the bound",),
        constants=("c_V", "d_V"))
theorem("vjp-fast-path", "The fast path prints the reference program",
        "Where the fast path applies (linear_a.transforms.flat: the flat fragment), the vjp program "
        "`linear-a vjp` prints is the reference pipeline's show(vjp_program(P, f)), character for "
        "character, and has the same gradient, W and M at sample points; elsewhere the CLI prints "
        "the reference program.",
        r"\mathit{vjp}_{\mathit{fast}}(f) = \mathit{vjp}(f)",
        per_program=("text equality", "gradient, W and M at points"))
theorem("typing-rejects", "The typing rules reject what they forbid",
        "Each checked program and its transforms, mutated at one site in each way the typing rules "
        "forbid (a linear name returned twice or used twice, a non-linear or a linear drop removed, a "
        "linear variable as a primitive's argument, scale operands swapped, a call's linear argument "
        "missing), is rejected by the typing judgment with an error naming the rule that forbids it "
        "(linear_a.proofs.typing_mutations).",
        r"e' = \mathit{mutate}_r(e) \implies \not\vdash e' \text{ by rule } r",
        per_program=("typing judgment on each mutant",))
theorem("cost-oracle", "W, M and |e| agree with an independent counter",
        "For every definition of every checked program and of its transforms (f_jvp, both unzip "
        "halves under save-all and recompute-all, f_T, the vjp program of each path), the work W and "
        "peak memory M the evaluator reports and the W and |e| the static measure reads agree with a "
        "second counter over the printed text that shares only the price table "
        "(linear_a.proofs.costoracle).",
        r"W_{\mathit{eval}} = W_{\mathit{measure}} = W_{\mathit{text}} \wedge M_{\mathit{eval}} = M_{\mathit{text}}",
        per_program=("three counters compared (W and M input-independent)",))
theorem("checkpoint-invariance", "Checkpointing does not change the derivative",
        "For every checkpoint choice vector, linearize(f) computes the same primal results and the "
        "same linear map (checked: save-all, recompute-all, recompute of a random subset).",
        r"\forall \pi.\ \mathit{linearize}_\pi(f) \equiv \mathit{linearize}_{\mathrm{save}}(f)",
        per_program=("normal form of every policy's split run",))

theorem("sched-invariance", "Scheduling the transposed code changes no value and no work",
        "TSched (a non-linear binding of f_T runs just before the first binding that reads it) "
        "gives the same outputs for all inputs and the same W as the unscheduled f_T "
        "(checked: save-all, recompute-all, every:2).",
        r"\mathsf{sched}(F; L) \equiv F\,L \ \wedge\ W(\mathsf{sched}(F;L)) = W(F\,L)",
        per_program=("normal form of both", "measured W"))
theorem("checkpoint-memory", "A schedule's peak memory is within the bound it states",
        "M(vjp) under binomial:S is at most snaps·k + c (snapshots held, state width, one step's "
        "reversal working set); under every:K at most max(M_nl(save-all), R + S + Λ); over a "
        "loop's iterations, the bounds of transforms/loop_ckpt.memory_bound.",
        r"M(\mathit{vjp}_\pi f) \le B_\pi(f)",
        per_program=("measured M (input-independent) against the bound",))

IDS = tuple(THEOREMS)

# Which theorems apply to which kind of program (SPEC §11).
FOR_NONLINEAR = IDS
FOR_LINEAR = ("typing-sound", "unzip-typed", "unzip-correct", "unzip-cost", "transpose-typed",
              "transpose-adjoint", "transpose-cost", "transpose-size", "transpose-involution", "cost-oracle",
              "typing-rejects")
FOR_MIXED = ("typing-sound", "typing-rejects", "unzip-typed", "unzip-correct", "unzip-cost", "cost-oracle",
             "checkpoint-invariance")
