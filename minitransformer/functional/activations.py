"""Activations: GELU (exact and tanh forms), SiLU, and relu, tanh, sigmoid as functions.

    GELU(x) = x * Phi(x),   Phi(x) = (1 + erf(x / sqrt 2)) / 2     (the standard normal CDF)
    tanh form (GPT-2):  0.5 x (1 + tanh(u)),   u = sqrt(2/pi) (x + 0.044715 x^3)
    SiLU(x) = x * sigmoid(x)                                       (LLaMA's feed-forward, "swish")

`gelu_reference` writes both with Tensor primitives; `Gelu` is the fused kernel, whose forward and
backward are each a dozen in-place NumPy lines run on one cache-sized block of rows at a time.
The block helpers below each compute one line of the reference's formula for one block.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ..cache_blocking import row_blocks
from ..ops.pointwise import stable_sigmoid
from ..ops.special import normal_cdf
from ..tensor import Tensor, as_tensor

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def gelu_reference(x, approximate: str = "none") -> Tensor:
    """x Phi(x) with Phi = (1 + erf(x / sqrt 2)) / 2, or the tanh form: the formulas as they read."""
    if approximate == "tanh":
        return 0.5 * x * (1 + (_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)).tanh())
    return x * 0.5 * (1 + (x * _INV_SQRT_2).erf())


def _as_rows(x: np.ndarray) -> np.ndarray:
    """x as a 2-D array of rows (its last axis), without copying when x is contiguous."""
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1]) if x.ndim else x.reshape(1, 1)


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

    Equals `gelu_reference` (either form).  What each trick buys:
    - one Function instead of the reference's chain of ~8 ops, each saving its own array;
    - the exact form saves Phi(x), so the backward need not evaluate erfc again (it is costly);
      the tanh form saves only x and recomputes tanh u, which is cheap: half the memory (with
      it a training step's peak memory went below PyTorch's, git log "tanh GELU saves only its
      input"; now 50.1 against 67.6 MB for the small config, benchmarks/README.md);
    - every formula is a dozen in-place lines run one cache-sized block of rows at a time
      (`cache_blocking`), so the dozen passes over memory hit the cache: the backward on a
      4096 x 768 activation went from 14.7 to 8.1 ms (benchmarks/README.md).
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
    return Gelu.apply(as_tensor(x), approximate=approximate)


def relu(x) -> Tensor:
    return as_tensor(x).relu()


def tanh(x) -> Tensor:
    return as_tensor(x).tanh()


def sigmoid(x) -> Tensor:
    return as_tensor(x).sigmoid()


class Silu(Function):
    """SiLU(x) = x s(x), s the sigmoid;  dSiLU/dx = s(x) (1 + x (1 - s(x))).  Saves x and s(x)."""

    @staticmethod
    def forward(ctx, x):
        s = stable_sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * s * (1 + x * (1 - s))


def silu(x) -> Tensor:
    return Silu.apply(as_tensor(x))
