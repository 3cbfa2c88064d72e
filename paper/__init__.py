"""LaTeX for Linear A: derivation trees, transformation traces, evaluation
tables, the generated paper and the teaching examples (SPEC §12, §13).

* :mod:`linear_a.paper.latex`     -- syntax to LaTeX (linear variables dotted, cotangents double-dotted);
* :mod:`linear_a.paper.trees`     -- typing derivation trees (mathpartir), split per ``let``; partial
  derivations of ill-typed programs up to the failing rule;
* :mod:`linear_a.paper.traces`    -- transformation traces (rule; input ⟼ output) and evaluation tables;
* :mod:`linear_a.paper.evaltrace` -- the primal/tangent/adjoint traces of the seed article, on a tape
  read off the evaluation derivation;
* :mod:`linear_a.paper.pipeline`  -- one function through JVP, unzip, transpose, with each derivation;
* :mod:`linear_a.paper.trace`     -- ``linear-a trace``; :mod:`linear_a.paper.teach` -- ``linear-a teach``;
* :mod:`linear_a.paper.document`  -- ``linear-a paper``; :mod:`linear_a.paper.build` -- latexmk, atomically.

The macros are in ``paper/linear-a.sty``.
"""
