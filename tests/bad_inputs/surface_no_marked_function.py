from linear_a import sin


def f(x):
    return sin(x)
