from linear_a import linear_a


@linear_a
def relu(x):
    if x > 0:
        return x
    return 0 * x
