# The seed article's worked example (SPEC §13), as surface Python:
#   f(x1, x2) = ln(x1) + x1·x2 − sin(x2),  at x1 = 2, x2 = 5:  f = 11.652
# `linear-a eval examples/seed.py --fn f --at x1=2,x2=5` traces it into seed.la's program.
from linear_a import linear_a, ln, sin


@linear_a
def f(x1, x2):
    return ln(x1) + x1 * x2 - sin(x2)
