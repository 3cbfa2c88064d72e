# The smallest example, as surface Python: f(x) = sin x.
from linear_a import linear_a, sin


@linear_a
def f(x):
    return sin(x)
