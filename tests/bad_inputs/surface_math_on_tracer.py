import math

from linear_a import linear_a


@linear_a
def f(x):
    return math.sin(x) * x
