# a loop's state keeps its types: x cannot turn from a real into a pair
from linear_a import linear_a, sin


@linear_a
def f(x):
    for _ in range(3):
        x = (sin(x), x)
    return x
