"""softmax and log_softmax: turn scores into probabilities (or log-probabilities) along one axis.

    softmax(x)_i = exp(x_i) / sum_j exp(x_j),      log_softmax(x)_i = x_i - log sum_j exp(x_j)

Both are computed from x - max(x), which changes nothing (the shift cancels between numerator and
denominator) but keeps exp from overflowing for large scores.  `stable_softmax` is that one
forward, shared by both kernels and by cross-entropy; the `*_reference` functions are the
equations written with Tensor primitives, which the tests compare the kernels against.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, as_tensor


def softmax_reference(x, dim: int = -1) -> Tensor:
    """exp(x - max) / sum exp(x - max), as it reads.  The max is a constant shift (detached)."""
    e = (x - x.amax(dim=dim, keepdim=True).detach()).exp()
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax_reference(x, dim: int = -1) -> Tensor:
    """(x - max) - log sum exp(x - max), as it reads."""
    shifted = x - x.amax(dim=dim, keepdim=True).detach()
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


def stable_softmax(x: np.ndarray, dim: int, log: bool = False) -> np.ndarray:
    """softmax (or, with log=True, log_softmax) of a NumPy array along `dim`, from x - max(x).

    One new array, the result: every step after the shift works in place.  An empty x gives an
    empty result (there is no max to shift by), as PyTorch.
    """
    if x.size == 0:
        return x.copy()
    shifted = x - x.max(axis=dim, keepdims=True)
    if log:
        shifted -= np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        return shifted
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=dim, keepdims=True)
    return shifted


def _forward(ctx, x, dim, log: bool) -> np.ndarray:
    """Both kernels' forward: y = (log_)softmax(x), saved, as each backward needs y alone."""
    y = stable_softmax(x, dim, log)
    ctx.save_for_backward(y)
    ctx.dim = dim
    return y


class Softmax(Function):
    """y_i = exp(x_i) / sum_j exp(x_j).  Equals `softmax_reference`.

    Backward (the Jacobian is diag(y) - y y^T, applied without building it):
        dL/dx = y * (g - sum(g * y)).
    The composition saves e and its sum and runs four backwards (divide, sum, exp, subtract); this
    saves y alone and its backward is the two lines below.  Forward plus backward measure 2.2-2.3x
    the bare NumPy forward (benchmarks/README.md, bench_kernels.py).
    """

    @staticmethod
    def forward(ctx, x, dim):
        return _forward(ctx, x, dim, log=False)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        gy = g * y
        gy -= y * gy.sum(axis=ctx.dim, keepdims=True)
        return gy


def softmax(x, dim: int = -1) -> Tensor:
    return Softmax.apply(as_tensor(x), dim=dim)


class LogSoftmax(Function):
    """y_i = x_i - log sum_j exp(x_j)   (computed as x - max - log sum exp(x - max)).

    Equals `log_softmax_reference`.  Backward:  dL/dx = g - softmax(x) * sum(g),
    with softmax(x) = exp(y) recomputed from the one saved array y.
    """

    @staticmethod
    def forward(ctx, x, dim):
        return _forward(ctx, x, dim, log=True)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - np.exp(y) * g.sum(axis=ctx.dim, keepdims=True)


def log_softmax(x, dim: int = -1) -> Tensor:
    return LogSoftmax.apply(as_tensor(x), dim=dim)
