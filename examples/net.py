# A two-layer network with one hidden layer of two tanh units, as surface Python.
#   h1 = tanh(w11·x1 + w12·x2),  h2 = tanh(w21·x1 + w22·x2),  y = u1·h1 + u2·h2
# The names you write are the names in every program and trace:
#   linear-a typecheck examples/net.py --print
#   linear-a trace examples/net.py --fn net --at x1=1,x2=2,w11=0.5,w12=-0.3,w21=0.8,w22=0.1,u1=1.5,u2=-2 --compact --latex net.tex --pdf
from linear_a import linear_a, tanh


@linear_a
def net(x1, x2, w11, w12, w21, w22, u1, u2):
    h1 = tanh(w11 * x1 + w12 * x2)
    h2 = tanh(w21 * x1 + w22 * x2)
    return u1 * h1 + u2 * h2
