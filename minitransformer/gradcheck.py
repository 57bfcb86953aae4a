"""Check a backward pass against finite differences, the ground truth of every gradient here.

For each input element x_i, the central difference

    (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

approximates df/dx_i with error O(eps^2).  If the analytic gradient from backward() disagrees by
more than atol + rtol * |numeric|, the backward is wrong, and the error names where.  A non-scalar
output f is reduced to sum(f * r) with a fixed random r, so one backward checks every output.
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the finite-difference estimate."""


def _project(output: Tensor, weights: np.ndarray) -> float:
    return float(np.sum(output.data * weights))


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, names=None) -> bool:
    """Compare backward() of `fn(*inputs)` with central differences; True, or a GradcheckError.

    inputs: float64 Tensors (those with requires_grad=True are checked; others are constants).
    names: optional names for the inputs, used in the error message.
    """
    inputs = list(inputs)
    names = list(names) if names is not None else [f"input {i}" for i in range(len(inputs))]
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: {names[i]} has dtype {inputs[i].dtype}; finite differences need float64 "
                "(float32 rounding swamps eps). Pass x.double() or Tensor(array.astype(np.float64)).")
        inputs[i].grad = None

    output = fn(*inputs)
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(output).__name__}")
    weights = np.random.default_rng(0).standard_normal(output.shape)
    (output * weights).sum().backward()

    for i in checked:
        tensor = inputs[i]
        analytic = tensor.grad if tensor.grad is not None else np.zeros_like(tensor.data)
        flat = tensor.data.reshape(-1)  # a view: perturbing it perturbs the input
        if not np.shares_memory(flat, tensor.data):
            raise ValueError(f"gradcheck: {names[i]} is not contiguous; pass a contiguous copy")
        for j in range(flat.size):
            original = flat[j]
            with no_grad():
                flat[j] = original + eps
                plus = _project(fn(*inputs), weights)
                flat[j] = original - eps
                minus = _project(fn(*inputs), weights)
            flat[j] = original
            numeric = (plus - minus) / (2 * eps)
            value = analytic.reshape(-1)[j]
            if not abs(value - numeric) <= atol + rtol * abs(numeric):
                where = np.unravel_index(j, tensor.shape)
                raise GradcheckError(
                    f"gradcheck failed for {names[i]} (shape {tensor.shape}) at element "
                    f"{tuple(int(w) for w in where)}: backward() gives {value:.8g} but finite differences "
                    f"give {numeric:.8g} (difference {value - numeric:.3g}, tolerance "
                    f"{atol + rtol * abs(numeric):.3g}). The backward of an op this input flows through "
                    "is wrong.")
    return True
