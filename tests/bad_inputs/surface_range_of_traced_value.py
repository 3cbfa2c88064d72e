# a loop over a traced count cannot be traced: N must be a Python int
from linear_a import linear_a


@linear_a
def f(x, n):
    for _ in range(n):
        x = x * x
    return x
