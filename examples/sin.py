# The smallest example, as surface Python: f(x) = sin x.
from semantics.surface import linear_a, sin


@linear_a
def f(x):
    return sin(x)
