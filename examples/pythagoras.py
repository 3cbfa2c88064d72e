# f(x) = (sin x)² + (cos x)² as surface Python; the squares trace to multiplications.
from semantics.surface import cos, linear_a, sin


@linear_a
def f(x):
    return sin(x) ** 2 + cos(x) ** 2
