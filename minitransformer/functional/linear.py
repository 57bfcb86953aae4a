"""linear: y = x W^T + b, the affine map behind every projection of a transformer.

`linear_reference` is the equation written with Tensor primitives; `Linear` is the fused kernel
the layers use, with its backward derived by hand.  The tests check that both agree.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, as_tensor


def linear_reference(x, weight, bias=None) -> Tensor:
    """y = x W^T + b, as the equation reads (two primitives, differentiated by the engine)."""
    y = x @ weight.T
    return y if bias is None else y + bias


class Linear(Function):
    """y = x W^T + b with W shaped (out, in), as nn.Linear stores it.  Equals `linear_reference`.

    Backward, with x and the gradient G flattened to rows:
        dL/dx = G W,   dL/dW = G^T x,   dL/db = sum of G's rows.

    What the fusing buys: leading dimensions (batch, time) are flattened into rows first, so one
    (B*T, in) x (in, out) product replaces the B separate (T, in) x (in, out) products that
    `x @ W.T` on a 3-D x runs; the bias gradient is a matrix-vector product with a vector of ones,
    which BLAS computes faster than a NumPy sum over rows.  Forward plus backward measure 2.4-2.8x
    the bare NumPy forward product (benchmarks/README.md, bench_kernels.py): close to the three
    matrix products they must do.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        if x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight expects "
                f"{weight.shape[1]} (weight shape {weight.shape}, i.e. (out_features, in_features))"
            )
        rows = x.reshape(-1, x.shape[-1])
        ctx.save_for_backward(rows, weight)
        ctx.input_shape = x.shape
        out = rows @ weight.T
        if bias is not None:
            out += bias
        return out.reshape(*x.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, g):
        rows, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1])
        gx = (g2 @ weight).reshape(ctx.input_shape) if need_x else None
        gw = (g2.T @ rows) if need_w else None
        gb = np.ones(len(g2), dtype=g2.dtype) @ g2 if need_b else None  # the column sums, by BLAS
        return gx, gw, gb


def linear(x, weight, bias=None) -> Tensor:
    return Linear.apply(as_tensor(x), weight, bias)
