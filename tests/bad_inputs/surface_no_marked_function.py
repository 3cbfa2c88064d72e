from semantics.surface import sin


def f(x):
    return sin(x)
