from linear_a import linear_a

scale = 1 / 0


@linear_a
def f(x):
    return scale * x
