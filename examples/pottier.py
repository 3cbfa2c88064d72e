# Pottier's MPRI 2.4 example, as surface Python: f(x0, x1) = x0·cos(x1) + x0.
from linear_a import cos, linear_a


@linear_a
def f(x0, x1):
    return x0 * cos(x1) + x0
