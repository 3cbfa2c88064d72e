# returns x wrapped in 600 1-tuples (the limit is 100 levels)
from linear_a import linear_a


@linear_a
def g(x):
    t = x
    for _ in range(600):
        t = (t,)
    return t
