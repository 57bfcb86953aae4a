"""dropout: during training, zero each element with probability p and scale the rest by 1/(1-p).

The scaling keeps the expected value of every element unchanged, so the same network needs no
correction at evaluation time, when dropout does nothing.
"""

from __future__ import annotations

from ..autograd import Function
from ..seed import batch_random
from ..tensor import Tensor, as_tensor


class Dropout(Function):
    """y = x * keep / (1 - p), keep ~ Bernoulli(1 - p): the expected value of y is x."""

    @staticmethod
    def forward(ctx, x, p):
        keep = (batch_random(x.shape) >= p).astype(x.dtype)
        keep /= 1.0 - p
        ctx.save_for_backward(keep)
        return x * keep

    @staticmethod
    def backward(ctx, g):
        (keep,) = ctx.saved_tensors
        return g * keep


def dropout(x, p: float = 0.5, training: bool = True) -> Tensor:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return Dropout.apply(x, p=float(p))
