# f(x) = (sin x)² + (cos x)² as surface Python; the squares trace to multiplications.
from linear_a import cos, linear_a, sin


@linear_a
def f(x):
    return sin(x) ** 2 + cos(x) ** 2
