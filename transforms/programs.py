"""Linear A text of the straight-line programs the checkpointing benchmark and
tests use (``benchmarks/bench_checkpoint.py``, ``tests/test_sched.py``).

* :func:`chain_xw` -- ``xᵢ = sin(xᵢ₋₁) * w``, l steps, state ``(x, w)``
  (two lets per step); ``examples/chain_xw.la`` is the 40-step instance.
* :func:`ode` -- an explicit Euler integrator of a predator–prey system,
  unrolled n steps: state ``(p, q)``, parameters ``a, b, c, h``.
* :func:`mlp` -- ``depth`` dense ``tanh`` layers of ``width`` units with scalar
  weight parameters, and the sum of squares of the outputs.
* :func:`rotating` -- ``vᵢ₊ₖ = vᵢ * vᵢ₊ₖ₋₁`` for a state of k reals (one ``*`` per
  step, so W under ``revolve.step_costs(["*"])`` counts steps).
"""
from __future__ import annotations


def chain_xw(l: int, name: str = "f") -> str:
    lines = [f"def {name}(x: real, w: real) -> (real ;) ="]
    prev = "x"
    for i in range(1, l + 1):
        lines.append(f"  let (a{i} ;) = sin({prev}) in")
        lines.append(f"  let (x{i} ;) = a{i} * w in")
        prev = f"x{i}"
    lines.append(f"  ({prev} ;)")
    return "\n".join(lines) + "\n"


def ode(n: int, name: str = "ode") -> str:
    """p' = p + h·(a·p − b·p·q),  q' = q + h·(c·p·q − q);  returns p + q."""
    lines = [f"def {name}(p0: real, q0: real, a: real, b: real, c: real, h: real) -> (real ;) ="]
    for i in range(1, n + 1):
        p, q = f"p{i - 1}", f"q{i - 1}"
        lines += [f"  let (pq{i} ;) = {p} * {q} in",
                  f"  let (ap{i} ;) = a * {p} in",
                  f"  let (bpq{i} ;) = b * pq{i} in",
                  f"  let (dp{i} ;) = ap{i} - bpq{i} in",
                  f"  let (hdp{i} ;) = h * dp{i} in",
                  f"  let (p{i} ;) = {p} + hdp{i} in",
                  f"  let (cpq{i} ;) = c * pq{i} in",
                  f"  let (dq{i} ;) = cpq{i} - {q} in",
                  f"  let (hdq{i} ;) = h * dq{i} in",
                  f"  let (q{i} ;) = {q} + hdq{i} in"]
    lines.append(f"  p{n} + q{n}")
    return "\n".join(lines) + "\n"


def mlp(width: int = 4, depth: int = 6, name: str = "mlp") -> str:
    ins = [f"x{j}" for j in range(width)]
    ws = [f"w{l}_{j}_{i}" for l in range(depth) for j in range(width) for i in range(width)]
    lines = [f"def {name}({', '.join(f'{v}: real' for v in ins + ws)}) -> (real ;) ="]
    cur = ins
    for l in range(depth):
        nxt = []
        for j in range(width):
            terms = []
            for i in range(width):
                t = f"m{l}_{j}_{i}"
                lines.append(f"  let ({t} ;) = w{l}_{j}_{i} * {cur[i]} in")
                terms.append(t)
            acc = terms[0]
            for k, t in enumerate(terms[1:], 1):
                s = f"s{l}_{j}_{k}"
                lines.append(f"  let ({s} ;) = {acc} + {t} in")
                acc = s
            h = f"h{l}_{j}"
            lines.append(f"  let ({h} ;) = tanh({acc}) in")
            nxt.append(h)
        cur = nxt
    sq = []
    for j, v in enumerate(cur):
        lines.append(f"  let (sq{j} ;) = {v} * {v} in")
        sq.append(f"sq{j}")
    acc = sq[0]
    for k, t in enumerate(sq[1:], 1):
        lines.append(f"  let (loss{k} ;) = {acc} + {t} in")
        acc = f"loss{k}"
    lines.append(f"  ({acc} ;)")
    return "\n".join(lines) + "\n"


def rotating(l: int, k: int, name: str = "f") -> str:
    """k inputs v1…vk; step i binds v(k+i) = v(i) * v(k+i−1): the state is always
    the last k values (k reals), every step one ``*``; returns the last state."""
    lines = [f"def {name}({', '.join(f'v{j}: real' for j in range(1, k + 1))}) -> "
             f"({', '.join(['real'] * k)} ;) ="]
    for i in range(1, l + 1):
        lines.append(f"  let (v{k + i} ;) = v{i} * v{k + i - 1} in")
    lines.append(f"  ({', '.join(f'v{j}' for j in range(l + 1, l + k + 1))} ;)")
    return "\n".join(lines) + "\n"
