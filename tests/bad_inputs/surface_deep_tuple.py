# returns x wrapped in 600 1-tuples (the limit is 100 levels); the wrapping is
# done by an unmarked helper, which tracing runs (a loop in the marked function
# itself would be traced into a Linear A loop, whose state keeps its type)
from linear_a import linear_a


def wrap(t, n):
    for _ in range(n):
        t = (t,)
    return t


@linear_a
def g(x):
    return wrap(x, 600)
