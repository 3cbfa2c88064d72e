# A recurrent cell over 100 steps (the same function as rnn.la):
#   h_{i+1} = tanh(w·h_i + u·x_i + b),   x_i = sin(0.1·i),   loss = (v·h_N − 0.5)².
# `for i in range(100)` in a @linear_a function is traced once into a step
# function and a Linear A loop: h and the parameters it reads (w, u, b) are
# the state, and since the body reads `i`, a counter rides in the state too
# (it starts at 0 and the step adds 1).
from linear_a import linear_a, sin, tanh


@linear_a
def rnn(h0, w, u, b, v):
    h = h0
    for i in range(100):
        x = sin(0.1 * i)
        h = tanh(w * h + u * x + b)
    e = v * h - 0.5
    return e * e
