"""The transformations of Linear A: reverse mode = JVP, then unzip, then transpose.

Public API (SPEC §14)::

    from linear_a.transforms import jvp_program, linearize, transpose_program, vjp, grad, oracle_grad
    grad(prog, "f", {"x1": 2, "x2": 5}).gradient      # {'x1': 5.5, 'x2': 1.716...}

* ``jvp(prog, names=None)`` / ``jvp_program`` — forward mode (SPEC §7), ``f ↦ f_jvp``.
* ``unzip(prog, policy=None, unknown=None)`` / ``unzip_program`` — split into
  ``f_nl`` and ``f_lin`` (SPEC §8); checkpoint policies in ``linear_a.transforms.checkpoint``.
* ``transpose(prog, names=None)`` / ``transpose_program`` — ``f ↦ f_T`` (SPEC §9).
* ``linearize``, ``vjp_program``, ``vjp``, ``grad`` — the compositions (SPEC §10).
* ``oracle_grad`` — the independent tape-based reverse mode the compositions
  are checked against.

The judgment-level functions return :class:`semantics.Derivation` objects whose
``result`` is the output program; the ``*_program`` forms return the program.
"""
from . import budget, every, revolve  # noqa: F401  (register `budget:M`, `every:K`, `binomial:S`)
from .compose import VJPResult, grad, linearize, vjp, vjp_program
from .jvp import jvp, jvp_program
from .oracle import oracle_grad
from .transpose import transpose, transpose_program
from .unzip import unzip, unzip_program

__all__ = ["jvp", "jvp_program", "unzip", "unzip_program", "transpose", "transpose_program",
           "linearize", "vjp_program", "vjp", "grad", "VJPResult", "oracle_grad"]
