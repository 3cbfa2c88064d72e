# f(x) = x·x as surface Python: `x ** 2` with a small integer exponent traces to `x * x`.
from linear_a import linear_a


@linear_a
def f(x):
    return x ** 2
