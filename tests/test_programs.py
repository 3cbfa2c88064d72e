"""The benchmark program generators compute what their docstrings say: ``mlp``
(tanh layers, loss Σ h²) against a direct Python evaluation."""
import math
import random

from linear_a.semantics import evaluate, parse_program, typecheck
from linear_a.transforms.programs import mlp


def test_mlp_computes_tanh_layers_and_the_squared_sum():
    width, depth = 3, 2
    prog = parse_program(mlp(width, depth), "mlp.la")
    typecheck(prog)
    rng = random.Random(19)
    xs = [rng.uniform(-1, 1) for _ in range(width)]
    ws = [[[rng.uniform(-1, 1) for _ in range(width)] for _ in range(width)] for _ in range(depth)]
    args = xs + [ws[l][j][i] for l in range(depth) for j in range(width) for i in range(width)]
    cur = xs
    for l in range(depth):
        cur = [math.tanh(sum(ws[l][j][i] * cur[i] for i in range(width))) for j in range(width)]
    want = sum(h * h for h in cur)
    (got,) = evaluate(prog, "mlp", (args, [])).nl
    assert math.isclose(got, want, rel_tol=1e-12), (got, want)
