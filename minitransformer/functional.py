"""Neural-network functions, with the signatures of `torch.nn.functional` (import as F).

Most of a transformer's time and memory goes through five functions: linear, softmax, layer norm,
cross-entropy and attention.  Written as a chain of primitives (exp, sum, divide, ...) each would
save several intermediate arrays and walk memory many times.  Here each is **fused**: one Function
with one forward and one hand-derived backward, whose formula is in its docstring.  The tests check
each fused kernel against the composition of primitives it replaces, and against finite differences.

The kernels are written as short in-place NumPy lines (`out *= x`: no temporary arrays), and those
that work row by row run one cache-sized block of rows at a time (see `cache_blocking.py`): NumPy
runs each line as a separate pass over memory, and passes over a block that fits in the cache
cost a fraction of passes over the whole array.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .cache_blocking import row_blocks
from .seed import get_rng
from .tensor import Function, Tensor

__all__ = [
    "linear", "softmax", "log_softmax", "gelu", "erf", "erfc", "normal_cdf", "relu", "tanh", "sigmoid", "layer_norm",
    "cross_entropy", "scaled_dot_product_attention", "embedding", "dropout", "cat", "stack",
    "where", "split",
]


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _as_rows(x: np.ndarray) -> np.ndarray:
    """x as a 2-D array of rows (its last axis), without copying when x is contiguous."""
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1]) if x.ndim else x.reshape(1, 1)


# --------------------------------------------------------------------------------------------
# linear
# --------------------------------------------------------------------------------------------


class Linear(Function):
    """y = x W^T + b with W shaped (out, in), as nn.Linear stores it.

    Backward, with x and the gradient G flattened to rows:
        dL/dx = G W,   dL/dW = G^T x,   dL/db = sum of G's rows.
    Leading dimensions (batch, time) are flattened into rows first: one (B*T, in) x (in, out)
    product is faster than B separate (T, in) x (in, out) ones, which is what `x @ W.T` on a 3-D x
    would do.
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
    return Linear.apply(_tensor(x), weight, bias)


# --------------------------------------------------------------------------------------------
# softmax and log_softmax
# --------------------------------------------------------------------------------------------


def _log_softmax_array(x: np.ndarray, dim: int) -> np.ndarray:
    """x - log sum exp(x), computed as (x - max) - log sum exp(x - max): no overflow for huge x."""
    shifted = x - x.max(axis=dim, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return shifted


def _softmax_array(x: np.ndarray, dim: int) -> np.ndarray:
    """exp(x - max) / sum(exp(x - max)): subtracting the max keeps exp from overflowing."""
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    e /= e.sum(axis=dim, keepdims=True)
    return e


class Softmax(Function):
    """y_i = exp(x_i) / sum_j exp(x_j).

    Backward (the Jacobian is diag(y) - y y^T, applied without building it):
        dL/dx = y * (g - sum(g * y)).
    """

    @staticmethod
    def forward(ctx, x, dim):
        y = _softmax_array(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        gy = g * y
        gy -= y * gy.sum(axis=ctx.dim, keepdims=True)
        return gy


def softmax(x, dim: int = -1) -> Tensor:
    return Softmax.apply(_tensor(x), dim=dim)


class LogSoftmax(Function):
    """y_i = x_i - log sum_j exp(x_j)   (computed as x - max - log sum exp(x - max)).

    Backward:  dL/dx = g - softmax(x) * sum(g).
    """

    @staticmethod
    def forward(ctx, x, dim):
        y = _log_softmax_array(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - np.exp(y) * g.sum(axis=ctx.dim, keepdims=True)


def log_softmax(x, dim: int = -1) -> Tensor:
    return LogSoftmax.apply(_tensor(x), dim=dim)


# --------------------------------------------------------------------------------------------
# GELU and erf
# --------------------------------------------------------------------------------------------

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

# erfc(z) for z >= 0 as t exp(-z^2 + P(t)), t = 1 / (1 + z/2), with P a degree-9 polynomial fitted
# by Chebyshev's method (Numerical Recipes, "erfcc"): *relative* error below 1.2e-7 for every z,
# the rounding error of float32 itself, and no loss of accuracy far out in the tail.
_ERFC_COEFFS = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
                0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def _erfc_of_nonnegative(z: np.ndarray) -> np.ndarray:
    """erfc(z) for z >= 0, i.e.  t * exp(-z^2 + P(t)),  t = 1 / (1 + z/2).

    Written with in-place operations (each line one pass over memory, no temporaries): this is
    on the hot path of every exact-GELU layer.  The reference it must equal is the one-liner
    above; tests compare both against math.erfc.
    """
    shape = np.shape(z)
    z = np.atleast_1d(z)
    t = z * 0.5
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * _ERFC_COEFFS[-1]
    for c in reversed(_ERFC_COEFFS[1:-1]):  # Horner's rule
        poly += c
        poly *= t
    poly += _ERFC_COEFFS[0]
    poly -= z * z
    np.exp(poly, out=poly)
    poly *= t
    return poly.reshape(shape)


def erfc(x) -> np.ndarray:
    """The complementary error function 1 - erf(x), vectorized; relative error < 1.2e-7."""
    x = np.asarray(x)
    tail = _erfc_of_nonnegative(np.abs(x))
    return np.where(x >= 0, tail, 2.0 - tail)


def erf(x) -> np.ndarray:
    """The error function (NumPy has none): 1 - erfc(x); absolute error < 1.2e-7."""
    return 1.0 - erfc(x)


def normal_cdf(x) -> np.ndarray:
    """Phi(x) = P(N(0,1) <= x) = erfc(-x / sqrt 2) / 2, accurate in relative terms for x << 0.

    With h = erfc(|x| / sqrt 2) / 2:  Phi(x) = h for x < 0 and 1 - h for x >= 0,
    computed as h + [x >= 0] (1 - 2h) (plain arithmetic is several times faster than np.where).
    """
    shape = np.shape(x)
    x = np.atleast_1d(x)
    cdf = _erfc_of_nonnegative(np.abs(x) * _INV_SQRT_2)
    cdf *= 0.5
    flip = cdf * -2.0
    flip += 1.0
    flip *= x >= 0
    cdf += flip
    return cdf.reshape(shape)


def _tanh_of_gelu_argument(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3), written into out (in-place steps, no temporaries)."""
    np.multiply(x, x, out=out)
    out *= 0.044715
    out += 1.0
    out *= x
    out *= _SQRT_2_OVER_PI
    return np.tanh(out, out=out)


def _gelu_tanh_rows(x: np.ndarray, out: np.ndarray) -> None:
    """out = 0.5 x (1 + tanh u), for one block of rows."""
    _tanh_of_gelu_argument(x, out)
    out += 1.0
    out *= x
    out *= 0.5


def _gelu_tanh_grad_rows(x: np.ndarray, g: np.ndarray, out: np.ndarray) -> None:
    """out = g * [0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)],  t = tanh u."""
    t = _tanh_of_gelu_argument(x, np.empty_like(x))
    slope = x * x  # sqrt(2/pi) (1 + 3 * 0.044715 x^2) * 0.5, the 0.5 folded in
    slope *= 0.5 * _SQRT_2_OVER_PI * 3 * 0.044715
    slope += 0.5 * _SQRT_2_OVER_PI
    np.multiply(t, t, out=out)
    np.subtract(1.0, out, out=out)
    out *= x
    out *= slope
    t *= 0.5
    out += t
    out += 0.5
    out *= g


def _gelu_exact_rows(x: np.ndarray, out: np.ndarray, cdf: np.ndarray) -> None:
    """cdf = Phi(x), out = x Phi(x), for one block of rows."""
    cdf[...] = normal_cdf(x)
    np.multiply(x, cdf, out=out)


def _gelu_exact_grad_rows(x: np.ndarray, cdf: np.ndarray, g: np.ndarray, out: np.ndarray) -> None:
    """out = g * [Phi(x) + x exp(-x^2/2) / sqrt(2 pi)]."""
    np.multiply(x, x, out=out)
    out *= -0.5
    np.exp(out, out=out)
    out *= x
    out *= _INV_SQRT_2PI
    out += cdf
    out *= g


class Gelu(Function):
    """GELU(x) = x * Phi(x), with Phi the standard normal CDF = (1 + erf(x / sqrt 2)) / 2.

    Backward:  dGELU/dx = Phi(x) + x * phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi).
    approximate="tanh" (GPT-2's form):  0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3),
        derivative  0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    The exact form saves Phi(x) so the backward need not evaluate erfc again (it is costly);
    the tanh form saves only x and recomputes tanh u, which is cheap, to keep half the memory.
    Each formula is a dozen in-place lines; they run one cache-sized block of rows at a time
    (`cache_blocking`), so the dozen passes over memory hit the cache.  The tests check the tanh
    form against the composition of Tensor primitives in the formula above, and both forms
    against finite differences and math.erf.
    """

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        rows = _as_rows(x)
        out = np.empty_like(rows)
        if approximate == "tanh":
            ctx.save_for_backward(x, None)  # tanh u is recomputed in backward: half the memory
            for block in row_blocks(*rows.shape):
                _gelu_tanh_rows(rows[block], out[block])
        else:
            cdf = np.empty_like(rows)
            for block in row_blocks(*rows.shape):
                _gelu_exact_rows(rows[block], out[block], cdf[block])
            ctx.save_for_backward(x, cdf)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, cdf = ctx.saved_tensors
        rows, g_rows = _as_rows(x), _as_rows(g)
        out = np.empty_like(rows)
        for block in row_blocks(*rows.shape):
            if ctx.approximate == "tanh":
                _gelu_tanh_grad_rows(rows[block], g_rows[block], out[block])
            else:
                _gelu_exact_grad_rows(rows[block], cdf[block], g_rows[block], out[block])
        return out.reshape(x.shape)


def gelu(x, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(_tensor(x), approximate=approximate)


def relu(x) -> Tensor:
    return _tensor(x).relu()


def tanh(x) -> Tensor:
    return _tensor(x).tanh()


def sigmoid(x) -> Tensor:
    return _tensor(x).sigmoid()


# --------------------------------------------------------------------------------------------
# layer norm
# --------------------------------------------------------------------------------------------


class LayerNorm(Function):
    """y = xhat * w + b,  xhat = (x - mean) / sqrt(var + eps), statistics over the last dims.

    Backward, with N the number of normalized elements and gx = g * w:
        dL/dx = (gx - mean(gx) - xhat * mean(gx * xhat)) / sqrt(var + eps)
        dL/dw = sum over the other dims of g * xhat,   dL/db = sum of g.
    The normalized dims are flattened into rows of N numbers, processed one cache-sized block of
    rows at a time (`cache_blocking`).  Row means are matrix-vector products, which BLAS computes
    faster than NumPy's reductions: mean(x) = x @ (1/N, ..., 1/N), and in the backward
    mean(gx) = (g @ w) / N and mean(gx * xhat) = ((g * xhat) @ w) / N, reusing g * xhat, already
    needed for dL/dw.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps):
        n = math.prod(x.shape[len(x.shape) - len(axes):])
        rows = x.reshape(-1, n)
        average = np.full(n, 1.0 / n, dtype=x.dtype)  # row @ average = the row's mean, by BLAS
        xhat = np.empty_like(rows)
        rstd = np.empty((len(rows), 1), dtype=x.dtype)
        for block in row_blocks(*rows.shape):
            centered = np.subtract(rows[block], (rows[block] @ average)[:, None], out=xhat[block])
            var = (centered * centered) @ average
            rstd[block, 0] = 1.0 / np.sqrt(var + eps)
            centered *= rstd[block]
        ctx.save_for_backward(xhat, rstd, weight)
        ctx.input_shape = x.shape
        ctx.normalized_shape = x.shape[len(x.shape) - len(axes):]
        out = xhat * weight.reshape(n) if weight is not None else xhat.copy()
        if bias is not None:
            out += bias.reshape(n)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        xhat, rstd, weight = ctx.saved_tensors
        n_rows, n = xhat.shape
        g = g.reshape(n_rows, n)
        w = weight.reshape(n) if weight is not None else np.ones(n, dtype=xhat.dtype)
        gw = np.zeros(n, dtype=xhat.dtype)
        gx = np.empty_like(xhat) if ctx.needs_input_grad[0] else None
        for block in row_blocks(n_rows, n):
            g_xhat = g[block] * xhat[block]
            gw += g_xhat.sum(axis=0)
            if gx is not None:
                mean_gx = (g[block] @ w)[:, None] / n
                mean_gx_xhat = (g_xhat @ w)[:, None] / n
                out = np.multiply(g[block], w, out=gx[block])
                out -= mean_gx
                g_xhat = np.multiply(xhat[block], mean_gx_xhat, out=g_xhat)
                out -= g_xhat
                out *= rstd[block]
        gx = gx.reshape(ctx.input_shape) if gx is not None else None
        gw = gw.reshape(ctx.normalized_shape) if ctx.needs_input_grad[1] else None
        gb = g.sum(axis=0).reshape(ctx.normalized_shape) if ctx.needs_input_grad[2] else None
        return gx, gw, gb


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    x = _tensor(x)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(x.shape[-len(shape):]) != shape:
        raise ValueError(f"layer_norm: input shape {x.shape} does not end with normalized_shape {shape}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    return LayerNorm.apply(x, weight, bias, axes=axes, eps=float(eps))


# --------------------------------------------------------------------------------------------
# cross-entropy
# --------------------------------------------------------------------------------------------


class CrossEntropy(Function):
    """Mean over non-ignored rows of  -sum_c q_c log softmax(x)_c,
    with q = (1 - s) onehot(target) + s / C  (label smoothing s; s = 0 is plain cross-entropy).

    Backward for a kept row:  dL/dx = (softmax(x) - q) / n_kept;  ignored rows get 0.
    """

    @staticmethod
    def forward(ctx, logits, target, ignore_index, label_smoothing, reduction):
        n, classes = logits.shape
        keep = target != ignore_index
        safe_target = np.where(keep, target, 0)
        logp = _log_softmax_array(logits, 1)
        rows = np.arange(n)
        losses = -logp[rows, safe_target] * (1.0 - label_smoothing)
        if label_smoothing:
            losses -= logp.mean(axis=1) * label_smoothing
        losses *= keep
        ctx.save_for_backward(logp, safe_target, keep)
        ctx.label_smoothing, ctx.reduction = label_smoothing, reduction
        ctx.count = int(keep.sum())
        if reduction == "none":
            return losses
        total = losses.sum()
        if reduction == "sum":
            return np.asarray(total)
        return np.asarray(total / ctx.count if ctx.count else np.nan, dtype=logits.dtype)

    @staticmethod
    def backward(ctx, g):
        logp, target, keep = ctx.saved_tensors
        s = ctx.label_smoothing
        grad = np.exp(logp)
        if s:
            grad -= s / grad.shape[1]
        grad[np.arange(len(target)), target] -= 1.0 - s
        if ctx.reduction in ("none", "sum"):
            scale = (g * keep)[:, None]
        else:
            scale = (g * keep / max(ctx.count, 1))[:, None]
        grad *= scale.astype(grad.dtype, copy=False)
        return grad, None


def cross_entropy(logits, target, ignore_index: int = -100, label_smoothing: float = 0.0,
                  reduction: str = "mean") -> Tensor:
    """Cross-entropy between logits (N, C) and integer class targets (N,), as F.cross_entropy.

    For a sequence model, flatten first: cross_entropy(logits.reshape(-1, V), targets.reshape(-1)).
    """
    logits = _tensor(logits)
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if logits.ndim != 2:
        raise ValueError(
            f"cross_entropy expects logits of shape (N, C), got {logits.shape}; "
            "flatten a sequence first: logits.reshape(-1, C) and targets.reshape(-1)"
        )
    if target.shape != (logits.shape[0],):
        raise ValueError(f"cross_entropy: target shape {target.shape} does not match logits {logits.shape}: "
                         f"expected ({logits.shape[0]},)")
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"cross_entropy: targets must be integer class ids, got dtype {target.dtype}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    classes = logits.shape[1]
    bad = (target != ignore_index) & ((target < 0) | (target >= classes))
    if bad.any():
        value = int(target[bad][0])
        raise IndexError(f"cross_entropy: target {value} is out of range for {classes} classes "
                         f"(valid: 0..{classes - 1}, or ignore_index={ignore_index})")
    return CrossEntropy.apply(logits, target, ignore_index=ignore_index,
                              label_smoothing=float(label_smoothing), reduction=reduction)


# --------------------------------------------------------------------------------------------
# attention
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def causal_mask(query_len: int, key_len: int) -> np.ndarray:
    """Boolean (L, S) mask, True where query i may look at key j (j <= i): no peeking ahead."""
    mask = np.tril(np.ones((query_len, key_len), dtype=bool))
    mask.flags.writeable = False
    return mask


def mask_to_bias(mask: np.ndarray, dtype) -> np.ndarray:
    """A boolean mask (True = may attend) as a bias to add to the scores: 0 where allowed, -inf not.

    Adding a small broadcastable bias is one pass over the scores; np.where would be several.
    """
    bias = np.zeros(mask.shape, dtype=dtype)
    bias[~mask] = -np.inf
    return bias


class Attention(Function):
    """O = dropout(P) V,  P = softmax(S),  S = Q K^T * scale + mask   (scale = 1/sqrt(d) by default).

    Backward, with dO the incoming gradient and D the dropout keep-mask / (1 - p):
        dV = (P*D)^T dO,   dP = (dO V^T) * D,   dS = P * (dP - sum_j dP * P),
        dQ = dS K * scale, dK = dS^T Q * scale.
    A query row whose keys are all masked attends to nothing: its output and gradients are 0
    (PyTorch returns NaN there).

    Four things make it faster than those lines written out, without changing the arithmetic:
    - the scale multiplies Q (B*H*T*d numbers), not S (B*H*T*T);
    - S, P and dS are kept *transposed*, one row per key and one column per query (S^T = K Q^T),
      so each softmax runs down a column.  NumPy reduces down columns (elementwise operations on
      whole contiguous rows) about 3x faster than along each short row, and the matmuls take the
      transposes for free;
    - the softmax and its backward run one cache-sized block of the batch at a time
      (`cache_blocking`);
    - outputs and gradients keep the memory layout of the inputs (`_matmul_laid_out_like`), so
      splitting and merging heads around attention never copies.
    tests/test_functional.py checks this against the composition softmax(Q K^T / sqrt(d)) V.
    """

    @staticmethod
    def forward(ctx, q, k, v, bias, dropout_p, scale):
        q = q * q.dtype.type(scale)
        probs_t = k @ np.swapaxes(q, -1, -2)  # S^T, turned into P^T in place below
        if bias is not None:
            bias = np.ascontiguousarray(np.swapaxes(bias, -1, -2))  # transposed like S^T, small
            batched_bias = bias.ndim == probs_t.ndim and bias.shape[0] > 1  # else it broadcasts
        for block in _leading_blocks(probs_t):
            scores = probs_t[block]
            if bias is not None:
                scores += bias[block] if batched_bias else bias
            col_max = scores.max(axis=-2, keepdims=True)
            col_max[~np.isfinite(col_max)] = 0.0  # fully masked queries: exp(-inf) = 0 below, no NaN
            scores -= col_max
            np.exp(scores, out=scores)
            denom = scores.sum(axis=-2, keepdims=True)
            denom[denom == 0] = 1.0
            scores /= denom
        keep_t = None
        dropped_t = probs_t
        if dropout_p > 0.0:
            keep_t = (get_rng().random(probs_t.shape) >= dropout_p).astype(probs_t.dtype) / (1.0 - dropout_p)
            dropped_t = probs_t * keep_t
        out = _matmul_laid_out_like(q, np.swapaxes(dropped_t, -1, -2), v)  # P V
        ctx.save_for_backward(q, k, v, probs_t, keep_t)  # q already carries the scale
        ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx, g):
        q_scaled, k, v, probs_t, keep_t = ctx.saved_tensors
        need_q, need_k, need_v = ctx.needs_input_grad[:3]
        dropped_t = probs_t if keep_t is None else probs_t * keep_t
        gv = _matmul_laid_out_like(v, dropped_t, g) if need_v else None  # (P*D)^T dO
        dscores_t = v @ np.swapaxes(g, -1, -2)  # dP^T = V dO^T, turned into dS^T in place below
        for block in _leading_blocks(dscores_t):
            d, p = dscores_t[block], probs_t[block]
            if keep_t is not None:
                d *= keep_t[block]
            d -= (d * p).sum(axis=-2, keepdims=True)
            d *= p
        gq = None
        if need_q:
            gq = _matmul_laid_out_like(q_scaled, np.swapaxes(dscores_t, -1, -2), k)  # dS K
            gq *= gq.dtype.type(ctx.scale)
        gk = _matmul_laid_out_like(k, dscores_t, q_scaled) if need_k else None  # dS^T (Q * scale)
        return gq, gk, gv, None


def _matmul_laid_out_like(like: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b, written into an array with the memory layout of `like` when their shapes agree.

    Multi-head attention hands over its heads as transposed views: memory (B, T, H, d) seen as
    (B, H, T, d).  Results laid out the same way turn back into (B, T, H*d) without a copy, both
    the output (merging heads) and the gradients (splitting them, in backward).
    """
    if a.shape[:-2] == b.shape[:-2] == like.shape[:-2] and like.shape[-2:] == (a.shape[-2], b.shape[-1]):
        return np.matmul(a, b, out=np.empty_like(like))
    return a @ b


def _leading_blocks(a: np.ndarray):
    """Cache-sized blocks of the batch axis of a (batch..., keys, queries) array: each block holds
    whole columns, so the softmax down each column stays inside one block."""
    if a.ndim < 3:
        return [slice(None)]
    return row_blocks(a.shape[0], a.size // max(1, a.shape[0]))


def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(Q K^T / sqrt(d) + mask) V over the last two dims, as F.scaled_dot_product_attention.

    q: (..., L, d), k: (..., S, d), v: (..., S, dv).  attn_mask: boolean (True = may attend) or
    float (added to the scores), broadcastable to (..., L, S).  is_causal: query i sees keys <= i.
    Why scale by 1/sqrt(d)?  Dot products of d random unit-variance components have variance d;
    without the scale, large d pushes softmax into saturation where gradients vanish.
    """
    q, k, v = _tensor(q), _tensor(k), _tensor(v)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"attention: query dim {q.shape[-1]} != key dim {k.shape[-1]} (q {q.shape}, k {k.shape})")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"attention: {k.shape[-2]} keys but {v.shape[-2]} values (k {k.shape}, v {v.shape})")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"attention: dropout_p must be in [0, 1), got {dropout_p}")
    L, S = q.shape[-2], k.shape[-2]
    bias = None
    if attn_mask is not None:
        attn_mask = np.asarray(attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask)
        bias = mask_to_bias(attn_mask, q.dtype) if attn_mask.dtype == bool else attn_mask.astype(q.dtype)
    if is_causal:
        causal = mask_to_bias(causal_mask(L, S), q.dtype)
        bias = causal if bias is None else bias + causal
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    return Attention.apply(q, k, v, bias, dropout_p=float(dropout_p), scale=float(scale))


# --------------------------------------------------------------------------------------------
# embedding and dropout
# --------------------------------------------------------------------------------------------


class Embedding(Function):
    """y = W[ids]: a table lookup.  Backward adds each gradient row into the row it came from."""

    @staticmethod
    def forward(ctx, ids, weight):
        ctx.save_for_backward(ids)
        ctx.weight_shape, ctx.dtype = weight.shape, weight.dtype
        return weight[ids]

    @staticmethod
    def backward(ctx, g):
        """grad[i] = sum of the gradient rows whose id is i.

        `np.add.at(grad, ids, rows)` says exactly that, but NumPy runs it one row at a time.  Sorting
        the ids puts each id's rows side by side, and `np.add.reduceat` sums every run of equal ids
        in one call: 3-4x faster for a batch of 4096 tokens (the tests compare both).
        """
        (ids,) = ctx.saved_tensors
        ids = ids.reshape(-1)
        rows = g.reshape(-1, ctx.weight_shape[1])
        grad = np.zeros(ctx.weight_shape, dtype=ctx.dtype)
        if ids.size:
            order = np.argsort(ids, kind="stable")
            sorted_ids = ids[order]
            run_starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
            grad[sorted_ids[run_starts]] = np.add.reduceat(rows[order], run_starts, axis=0)
        return None, grad


def check_ids(ids: np.ndarray, vocab_size: int, what: str = "token id") -> None:
    """Raise a clear IndexError if any id is outside [0, vocab_size)."""
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{what}s must be integers, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        bad = ids[(ids < 0) | (ids >= vocab_size)][0]
        raise IndexError(f"{what} {int(bad)} is out of range for a vocabulary of {vocab_size} "
                         f"(valid ids: 0..{vocab_size - 1})")


def embedding(ids, weight) -> Tensor:
    ids = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    check_ids(ids, weight.shape[0])
    return Embedding.apply(ids, weight)


class Dropout(Function):
    """y = x * keep / (1 - p), keep ~ Bernoulli(1 - p): the expected value of y is x."""

    @staticmethod
    def forward(ctx, x, p):
        keep = (get_rng().random(x.shape) >= p).astype(x.dtype)
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
    x = _tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return Dropout.apply(x, p=float(p))


# --------------------------------------------------------------------------------------------
# joining, choosing and splitting
# --------------------------------------------------------------------------------------------


class Cat(Function):
    """Join along `dim`;  the gradient is cut back into the pieces' sizes."""

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        bounds = np.cumsum(ctx.sizes)[:-1]
        return tuple(np.split(g, bounds, axis=ctx.dim))


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat needs at least one tensor")
    first = tensors[0].shape
    dim = dim % len(first)
    for t in tensors[1:]:
        other_dims_agree = t.ndim == len(first) and all(
            a == b for i, (a, b) in enumerate(zip(t.shape, first)) if i != dim)
        if not other_dims_agree:
            raise ValueError(f"cat: shapes {first} and {t.shape} differ outside dim {dim}")
    return Cat.apply(*tensors, dim=dim)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join along a new axis `dim` (a cat of tensors each given a size-1 axis there)."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shape = tensors[0].shape
    for t in tensors[1:]:
        if t.shape != shape:
            raise ValueError(f"stack: all tensors need the same shape, got {shape} and {t.shape}")
    dim = dim % (len(shape) + 1)
    new_shape = shape[:dim] + (1,) + shape[dim:]
    return cat([t.reshape(new_shape) for t in tensors], dim=dim)


class Where(Function):
    """z = x where cond else y;  each side's gradient passes where it was chosen."""

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        gx = np.where(cond, g, 0).astype(g.dtype, copy=False) if ctx.needs_input_grad[1] else None
        gy = np.where(cond, 0, g).astype(g.dtype, copy=False) if ctx.needs_input_grad[2] else None
        return None, gx, gy


def where(condition, x, y) -> Tensor:
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    if isinstance(x, Tensor) and not isinstance(y, Tensor):
        y = np.asarray(y, dtype=x.dtype)
    elif isinstance(y, Tensor) and not isinstance(x, Tensor):
        x = np.asarray(x, dtype=y.dtype)
    return Where.apply(cond, x, y)


def split(x, split_size_or_sections, dim: int = 0) -> tuple:
    """Cut `x` along `dim` into pieces of a given size (last may be smaller) or given sizes."""
    x = _tensor(x)
    length = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split size must be positive, got {step}")
        sizes = [min(step, length - start) for start in range(0, length, step)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise ValueError(f"split sizes {sizes} add up to {sum(sizes)}, but dim {dim} has length {length}")
    pieces, start = [], 0
    dim = dim % x.ndim
    for size in sizes:
        index = (slice(None),) * dim + (slice(start, start + size),)
        pieces.append(x[index])
        start += size
    return tuple(pieces)
