"""Scaled dot-product attention: each query takes a weighted average of the values, weighted by
how well it matches each key.

    O = softmax(Q K^T / sqrt(d) + mask) V

`attention_reference` is that line written with Tensor primitives (as nanoGPT keeps its "manual
implementation" beside the flash path); `Attention` is the fused kernel the models use, with a
hand-derived backward and the layout tricks its docstring lists.  The tests check one against
the other.  Masks are boolean (True = may attend) or float (added to the scores).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..autograd import Function
from ..cache_blocking import row_blocks
from ..seed import batch_random
from ..tensor import Tensor, as_tensor, unwrap
from .softmax import softmax_reference


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


def attention_reference(q, k, v, attn_mask=None, is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(Q K^T * scale + mask) V, as it reads (no dropout; every query must see some key)."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * scale
    if attn_mask is not None:
        if isinstance(attn_mask, Tensor) and attn_mask.dtype != bool:
            scores = scores + attn_mask  # a float Tensor mask (T5's position bias) gets its gradient
        else:
            attn_mask = np.asarray(unwrap(attn_mask))
            scores = scores.masked_fill(~attn_mask, -np.inf) if attn_mask.dtype == bool else scores + attn_mask
    if is_causal:
        scores = scores.masked_fill(~causal_mask(q.shape[-2], k.shape[-2]), -np.inf)
    return softmax_reference(scores, -1) @ v


class Attention(Function):
    """O = dropout(P) V,  P = softmax(S),  S = Q K^T * scale + mask   (scale = 1/sqrt(d) by default).

    Backward, with dO the incoming gradient and D the dropout keep-mask / (1 - p):
        dV = (P*D)^T dO,   dP = (dO V^T) * D,   dS = P * (dP - sum_j dP * P),
        dQ = dS K * scale, dK = dS^T Q * scale,  dmask = dS (a float mask is added to S as it is).
    A query row whose keys are all masked attends to nothing: its output and gradients are 0
    (PyTorch returns NaN there).

    Equals `attention_reference` (without dropout).  Four things make it faster than those lines
    written out, without changing the arithmetic:
    - the scale multiplies Q (B*H*T*d numbers), not S (B*H*T*T);
    - S, P and dS are kept *transposed*, one row per key and one column per query (S^T = K Q^T),
      so each softmax runs down a column.  NumPy reduces down columns (elementwise operations on
      whole contiguous rows) about 3x faster than along each short row, and the matmuls take the
      transposes for free;
    - the softmax and its backward run one cache-sized block of the batch at a time
      (`cache_blocking`); with the transposed softmax and the blocked GELU and layer norm, the
      medium training step went from 842 to 671 ms (git log, "Cache blocking");
    - outputs and gradients keep the memory layout of the inputs (`_matmul_laid_out_like`), so
      splitting and merging heads around attention never copies.
    Forward plus backward measure 1.5-1.9x the bare NumPy forward (benchmarks/README.md).
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
            keep_t = (batch_random(probs_t.shape) >= dropout_p).astype(probs_t.dtype) / (1.0 - dropout_p)
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
        # a learned bias: dS itself, back in (query, key) order; the engine sums it to the bias's shape
        gbias = np.swapaxes(dscores_t, -1, -2) if ctx.needs_input_grad[3] else None
        return gq, gk, gv, gbias


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
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T / sqrt(d) + mask) V over the last two dims, as F.scaled_dot_product_attention.

    q: (..., L, d), k: (..., S, d), v: (..., S, dv).  attn_mask: boolean (True = may attend) or
    float (added to the scores), broadcastable to (..., L, S); a float Tensor that requires grad gets
    dL/dmask = dL/dS, summed over the axes it was broadcast along (as in PyTorch).  is_causal: query
    i sees keys <= i.
    Why scale by 1/sqrt(d)?  Dot products of d random unit-variance components have variance d;
    without the scale, large d pushes softmax into saturation where gradients vanish.
    enable_gqa (grouped-query attention, as LLaMA 2/3): k and v have fewer heads (dim -3) than q,
    a divisor of them; each key/value head serves q's heads in a group of consecutive ones.
    """
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    if enable_gqa and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        if q.shape[-3] % k.shape[-3] or k.shape[-3] != v.shape[-3]:
            raise ValueError(f"attention: with enable_gqa, the {q.shape[-3]} query heads must be a multiple of "
                             f"the key and value heads (k {k.shape}, v {v.shape})")
        group = q.shape[-3] // k.shape[-3]
        k, v = k.repeat_interleave(group, dim=-3), v.repeat_interleave(group, dim=-3)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"attention: query dim {q.shape[-1]} != key dim {k.shape[-1]} (q {q.shape}, k {k.shape})")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"attention: {k.shape[-2]} keys but {v.shape[-2]} values (k {k.shape}, v {v.shape})")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"attention: dropout_p must be in [0, 1), got {dropout_p}")
    L, S = q.shape[-2], k.shape[-2]
    bias = None
    if isinstance(attn_mask, Tensor) and attn_mask.requires_grad:  # float: a bool Tensor cannot require grad
        bias = attn_mask  # learned scores to add (T5's relative position bias): it gets a gradient
    elif attn_mask is not None:
        attn_mask = np.asarray(unwrap(attn_mask))
        bias = mask_to_bias(attn_mask, q.dtype) if attn_mask.dtype == bool else attn_mask.astype(q.dtype)
    if is_causal:
        causal = mask_to_bias(causal_mask(L, S), q.dtype)
        bias = causal if bias is None else bias + causal
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    return Attention.apply(q, k, v, bias, dropout_p=float(dropout_p), scale=float(scale))
