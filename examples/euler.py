# Explicit Euler for the Lotka–Volterra equations, 200 steps of h = 0.01
# (the same function as euler.la).  In a @linear_a function a
# `for _ in range(N)` loop is traced once into a step function and a
# Linear A loop: the variables the body reads or reassigns are its state.
from linear_a import linear_a


@linear_a
def euler(x0, y0, a, b, c, d):
    x, y = x0, y0
    for _ in range(200):
        xy = x * y
        fx = a * x - b * xy
        fy = d * xy - c * y
        x = x + 0.01 * fx
        y = y + 0.01 * fy
    return x + y
