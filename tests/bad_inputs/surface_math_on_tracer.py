import math

from semantics.surface import linear_a


@linear_a
def f(x):
    return math.sin(x) * x
