from linear_a import linear_a, sin


@linear_a
def f(x):
    return sin(x) +* x
