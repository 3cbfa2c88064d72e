# The authors' matvec2x2 example as surface Python: tuple parameters are
# annotated, the marked helper stays a Linear A call.  specific((2, 3)) = 650.
from linear_a import linear_a


@linear_a
def matvec2x2(m: tuple[tuple[float, float], tuple[float, float]], v: tuple[float, float]):
    (m11, m12), (m21, m22) = m
    v1, v2 = v
    return (m11 * v1 + m12 * v2, m21 * v1 + m22 * v2)


@linear_a
def specific(v: tuple[float, float]):
    a1, a2 = matvec2x2(((2, 7), (1, 8)), v)
    return a1 * a2
