"""Normalization: rescale each vector to a fixed size, then apply a learned gain (and shift).

    layer_norm:  y = (x - mean(x)) / sqrt(var(x) + eps) * w + b     (GPT-2, BERT)
    rms_norm:    y = x / sqrt(mean(x^2) + eps) * w                   (T5, LLaMA: no centering, no bias)

Both work on the last dims of x (`normalized_shape`), flattened into rows of N numbers.  RMSNorm
is LayerNorm without the mean: so both kernels share one blocked forward and one blocked backward,
with `center` saying whether the mean is subtracted.  The `*_reference` functions are the
equations above written with Tensor primitives; the tests compare the kernels against them.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ..cache_blocking import row_blocks
from ..tensor import Tensor, as_tensor


def layer_norm_reference(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * w + b over the last dims, as it reads (var: the biased one)."""
    dims = _last_dims(x, normalized_shape, "layer_norm")
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    y = (x - mean) / (var + eps).sqrt()
    y = y if weight is None else y * weight
    return y if bias is None else y + bias


def rms_norm_reference(x, normalized_shape, weight=None, eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * w over the last dims, as it reads."""
    eps = _default_eps(x, eps)
    y = x / ((x * x).mean(dim=_last_dims(x, normalized_shape, "rms_norm"), keepdim=True) + eps).sqrt()
    return y if weight is None else y * weight


def _last_dims(x, normalized_shape, what: str) -> tuple:
    """The axes normalized_shape names (the last ones of x), after checking that x ends with it."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(x.shape[-len(shape):]) != shape:
        raise ValueError(f"{what}: input shape {x.shape} does not end with normalized_shape {shape}")
    return tuple(range(x.ndim - len(shape), x.ndim))


def _default_eps(x, eps):
    """PyTorch's rms_norm default: eps=None means the machine epsilon of x's dtype."""
    return float(np.finfo(x.dtype).eps) if eps is None else float(eps)


# --------------------------------------------------------------------------------------------
# the shared blocked kernel
# --------------------------------------------------------------------------------------------


def _normalize_rows(x: np.ndarray, n: int, eps: float, center: bool):
    """(xhat, rstd) for the rows of n numbers of x, one cache-sized block of rows at a time.

    xhat = c * rstd,  rstd = 1 / sqrt(mean(c^2) + eps),  c = x - mean(x) if center else x.
    Row means are matrix-vector products, which BLAS computes faster than NumPy's reductions:
    mean(row) = row @ (1/N, ..., 1/N).
    """
    rows = x.reshape(-1, n)
    average = np.full(n, 1.0 / n, dtype=x.dtype)
    xhat = np.empty_like(rows)
    rstd = np.empty((len(rows), 1), dtype=x.dtype)
    for block in row_blocks(*rows.shape):
        c = rows[block]
        if center:
            c = np.subtract(c, (c @ average)[:, None], out=xhat[block])
        rstd[block, 0] = 1.0 / np.sqrt((c * c) @ average + eps)
        np.multiply(c, rstd[block], out=xhat[block])
    return xhat, rstd


def _normalize_rows_backward(g: np.ndarray, xhat: np.ndarray, rstd: np.ndarray, weight, center: bool,
                             need_x: bool):
    """(dL/dx or None, dL/dw) for y = xhat * w, one cache-sized block of rows at a time.

    With gx = g * w and N numbers per row:
        dL/dx = (gx - [mean(gx) if center] - xhat * mean(gx * xhat)) * rstd,
        dL/dw = sum over the rows of g * xhat.
    The row means are BLAS products too: mean(gx) = (g @ w) / N and mean(gx * xhat) =
    ((g * xhat) @ w) / N, which reuses g * xhat, already needed for dL/dw.
    """
    n_rows, n = xhat.shape
    g = g.reshape(n_rows, n)
    w = weight.reshape(n) if weight is not None else np.ones(n, dtype=xhat.dtype)
    gw = np.zeros(n, dtype=xhat.dtype)
    gx = np.empty_like(xhat) if need_x else None
    for block in row_blocks(n_rows, n):
        g_xhat = g[block] * xhat[block]
        gw += g_xhat.sum(axis=0)
        if gx is not None:
            mean_gx_xhat = (g_xhat @ w)[:, None] / n
            out = np.multiply(g[block], w, out=gx[block])
            if center:
                out -= (g[block] @ w)[:, None] / n
            g_xhat = np.multiply(xhat[block], mean_gx_xhat, out=g_xhat)
            out -= g_xhat
            out *= rstd[block]
    return gx, gw


def _forward(ctx, x, weight, bias, axes, eps, center: bool) -> np.ndarray:
    """Both kernels' forward: normalize the rows, save what backward needs, then scale (and shift)."""
    ctx.input_shape, ctx.normalized_shape = x.shape, x.shape[x.ndim - len(axes):]
    n = math.prod(ctx.normalized_shape)
    xhat, rstd = _normalize_rows(x, n, eps, center)
    ctx.save_for_backward(xhat, rstd, weight)
    out = xhat * weight.reshape(n) if weight is not None else xhat.copy()
    if bias is not None:
        out += bias.reshape(n)
    return out.reshape(x.shape)


def _backward(ctx, g: np.ndarray, center: bool):
    """Both kernels' (dL/dx, dL/dw) in the input's and the gain's shapes (None where not needed)."""
    xhat, rstd, weight = ctx.saved_tensors
    gx, gw = _normalize_rows_backward(g, xhat, rstd, weight, center, need_x=ctx.needs_input_grad[0])
    gx = gx.reshape(ctx.input_shape) if gx is not None else None
    gw = gw.reshape(ctx.normalized_shape) if ctx.needs_input_grad[1] else None
    return gx, gw


# --------------------------------------------------------------------------------------------
# layer norm and RMS norm
# --------------------------------------------------------------------------------------------


class LayerNorm(Function):
    """y = xhat * w + b,  xhat = (x - mean) / sqrt(var + eps), statistics over the last dims.

    Backward, with N the number of normalized elements and gx = g * w:
        dL/dx = (gx - mean(gx) - xhat * mean(gx * xhat)) / sqrt(var + eps)
        dL/dw = sum over the other dims of g * xhat,   dL/db = sum of g.

    Equals `layer_norm_reference`.  What the fusing buys: the reference runs about ten ops, each
    saving an array; this saves xhat and one number per row.  Rows are processed one cache-sized
    block at a time (`cache_blocking`), and row means are BLAS matrix-vector products (see
    `_normalize_rows`).  Forward plus backward measure 1.5-1.9x the bare NumPy forward
    (benchmarks/README.md); blocking, BLAS row means and the transposed attention softmax
    together took the medium training step from 842 to 671 ms (git log, "Cache blocking").
    """

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps):
        return _forward(ctx, x, weight, bias, axes, eps, center=True)

    @staticmethod
    def backward(ctx, g):
        gx, gw = _backward(ctx, g, center=True)
        gb = None
        if ctx.needs_input_grad[2]:
            gb = g.reshape(-1, math.prod(ctx.normalized_shape)).sum(axis=0).reshape(ctx.normalized_shape)
        return gx, gw, gb


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    x = as_tensor(x)
    return LayerNorm.apply(x, weight, bias, axes=_last_dims(x, normalized_shape, "layer_norm"), eps=float(eps))


class RMSNorm(Function):
    """y = xhat * w,  xhat = x / sqrt(mean(x^2) + eps), statistics over the last dims.

    Backward, with N the number of normalized elements and gx = g * w:
        dL/dx = (gx - xhat * mean(gx * xhat)) / sqrt(mean(x^2) + eps)
        dL/dw = sum over the other dims of g * xhat.
    It is layer norm's backward without the mean(gx) term, as the forward has no mean.

    Equals `rms_norm_reference`; the same blocked kernel as `LayerNorm` (with center=False), so
    the same tricks, and fewer passes over each row (no mean to subtract, nor its gradient).
    """

    @staticmethod
    def forward(ctx, x, weight, axes, eps):
        return _forward(ctx, x, weight, None, axes, eps, center=False)

    @staticmethod
    def backward(ctx, g):
        return _backward(ctx, g, center=False)


def rms_norm(x, normalized_shape, weight=None, eps: float | None = None) -> Tensor:
    """RMSNorm, as torch.nn.functional.rms_norm (eps=None: the machine epsilon of x's dtype)."""
    x = as_tensor(x)
    return RMSNorm.apply(x, weight, axes=_last_dims(x, normalized_shape, "rms_norm"), eps=_default_eps(x, eps))
