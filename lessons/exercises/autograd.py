"""Checkers for lesson 1's exercises: write an operation's backward, checked by gradcheck.

tanh_backward(y, grad_output) -> grad_x, where y = tanh(x) is what forward saved.
matmul_backward(a, b, grad_output) -> (grad_a, grad_b), for y = a @ b.
"""

import numpy as np

from exercises import ExerciseWrong, check_backward  # noqa: F401 (ExerciseWrong: for readers)

_rng = np.random.default_rng(1)
_X = _rng.standard_normal((3, 4))
_A = _rng.standard_normal((3, 4))
_B = _rng.standard_normal((4, 2))
_B_SQUARE = _rng.standard_normal((4, 4))


def check_tanh_backward(tanh_backward):
    def forward(x):
        y = np.tanh(x)
        return y, y  # tanh's backward needs only its output

    check_backward(forward, lambda y, g: (tanh_backward(y, g),), [_X], ["x"], library=lambda x: x.tanh())


def check_matmul_backward(matmul_backward):
    def forward(a, b):
        return a @ b, (a, b)

    def backward(saved, g):
        grads = matmul_backward(*saved, g)
        if not isinstance(grads, tuple):
            raise ExerciseWrong("return a tuple (grad_a, grad_b)")
        return grads

    check_backward(forward, backward, [_A, _B], ["a", "b"], library=lambda a, b: a @ b)
    # a square b catches a missing transpose that the shapes above would only turn into an error
    check_backward(forward, backward, [_A, _B_SQUARE], ["a", "b"], library=lambda a, b: a @ b)


EXERCISES = {"tanh_backward": check_tanh_backward, "matmul_backward": check_matmul_backward}

MISTAKES = {
    "tanh_backward": [
        lambda y, grad_output: 1 - y ** 2,  # the local derivative, without the upstream gradient
        lambda y, grad_output: grad_output * (1 - y),  # 1 - tanh, not 1 - tanh^2
        lambda y, grad_output: grad_output * (1 - np.arctanh(y) ** 2),  # 1 - x^2: the input, not the output
    ],
    "matmul_backward": [
        lambda a, b, g: (g @ b, a.T @ g),  # b not transposed (wrong shape, or with a square b wrong values)
        lambda a, b, g: (g @ b.T, g.T @ a),  # grad_b transposed: shape (n, k), not b's (k, n)
        lambda a, b, g: (g @ b.T, a.T @ np.ones_like(g)),  # the upstream gradient dropped from grad_b
    ],
}
