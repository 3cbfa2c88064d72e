"""LaTeX for Linear A: derivation trees, transformation traces, evaluation
tables, the generated paper and the teaching examples (SPEC §12, §13).

* :mod:`paper.latex`     -- syntax to LaTeX (linear variables dotted, cotangents double-dotted);
* :mod:`paper.trees`     -- typing derivation trees (mathpartir), split per ``let``; partial
  derivations of ill-typed programs up to the failing rule;
* :mod:`paper.traces`    -- transformation traces (rule; input ⟼ output) and evaluation tables;
* :mod:`paper.evaltrace` -- the primal/tangent/adjoint traces of the seed article, on a tape
  read off the evaluation derivation;
* :mod:`paper.pipeline`  -- one function through JVP, unzip, transpose, with each derivation;
* :mod:`paper.trace`     -- ``linear-a trace``; :mod:`paper.teach` -- ``linear-a teach``;
* :mod:`paper.document`  -- ``linear-a paper``; :mod:`paper.build` -- latexmk, atomically.

The macros are in ``paper/linear-a.sty``.
"""
