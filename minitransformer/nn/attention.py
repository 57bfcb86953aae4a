"""Multi-head attention: every position gathers information from the positions it may look at.

Each head projects the input into queries, keys and values of size d/h, attends with
softmax(Q K^T / sqrt(d/h)) V, and the heads' outputs are concatenated and projected back.  All heads
run in one batched matmul: the tensors are shaped (batch, heads, time, head_size), never looped over.

- self-attention: queries, keys and values all come from x (GPT, BERT, T5's encoder);
- cross-attention: queries from x, keys and values from another sequence (T5's decoder reading
  the encoder's output);
- masks: `is_causal` hides the future (decoders), `key_padding_mask` hides padding keys,
  `attn_mask` is any boolean (True = may attend) mask broadcastable to (B, heads, T, S);
- `position_bias`: learned scores added before the softmax, broadcastable to (B, heads, T, S):
  T5's relative position bias (relative_position.py), which gets its gradient through attention;
- `cache`: during generation the keys and values of earlier positions are kept, so each new token
  costs one position of work instead of a rerun of the whole prefix.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import Tensor, unwrap
from .layers import Linear
from .module import Module


def _boolean_mask(mask, name: str) -> np.ndarray:
    """The mask as a bool array.  Other dtypes are refused, not cast: a float mask is additive in
    PyTorch (0 = attend) and a Hugging Face attention_mask is 1 at real tokens, so casting either
    to bool would silently flip its meaning."""
    array = np.asarray(unwrap(mask))
    if array.dtype != bool:
        raise TypeError(f"{name} must be a boolean array, got dtype {array.dtype}; build it with a "
                        f"comparison, e.g. attention_mask == 0 for padding")
    return array


class KVCache:
    """The keys and values one attention layer has already computed, as plain arrays (B, H, S, hs)."""

    def __init__(self):
        self.keys = None
        self.values = None

    @property
    def length(self) -> int:
        return 0 if self.keys is None else self.keys.shape[-2]

    def extend(self, keys: np.ndarray, values: np.ndarray):
        if self.keys is None:
            self.keys, self.values = keys, values
        else:
            self.keys = np.concatenate([self.keys, keys], axis=-2)
            self.values = np.concatenate([self.values, values], axis=-2)
        return self.keys, self.values


class MultiHeadAttention(Module):
    """Self- or cross-attention with n_heads heads; parameters q_proj, k_proj, v_proj, out_proj."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"MultiHeadAttention: d_model={d_model} is not divisible by n_heads={n_heads}")
        self.d_model, self.n_heads, self.head_size = d_model, n_heads, d_model // n_heads
        self.dropout = dropout
        self.q_proj = Linear(d_model, d_model, bias)
        self.k_proj = Linear(d_model, d_model, bias)
        self.v_proj = Linear(d_model, d_model, bias)
        self.out_proj = Linear(d_model, d_model, bias)

    def split_heads(self, x: Tensor) -> Tensor:
        """(B, T, d) -> (B, heads, T, head_size)."""
        B, T, _ = x.shape
        return x.reshape(B, T, self.n_heads, self.head_size).transpose(1, 2)

    def merge_heads(self, x: Tensor) -> Tensor:
        """(B, heads, T, head_size) -> (B, T, d)."""
        B, _, T, _ = x.shape
        return x.transpose(1, 2).reshape(B, T, self.d_model)

    def forward(self, x, memory=None, attn_mask=None, key_padding_mask=None, is_causal=False,
                cache: KVCache | None = None, position_bias: Tensor | None = None):
        """x: (B, T, d).  memory: (B, S, d) for cross-attention (None: self-attention).

        key_padding_mask: (B, S) boolean, True at padding keys to ignore (PyTorch's convention).
        """
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"MultiHeadAttention expects input (batch, time, {self.d_model}), got {x.shape}")
        if memory is not None and memory.shape[0] != x.shape[0]:
            raise ValueError(f"cross-attention: batch sizes differ: queries {x.shape[0]}, memory {memory.shape[0]}")
        q = self.split_heads(self.q_proj(x))
        if memory is not None and cache is not None and cache.keys is not None:
            k, v = Tensor(cache.keys), Tensor(cache.values)  # the encoder output does not change
        else:
            source = x if memory is None else memory
            k, v = self.split_heads(self.k_proj(source)), self.split_heads(self.v_proj(source))
            if cache is not None:
                k, v = (Tensor(a) for a in cache.extend(k.data, v.data))
        T, S = q.shape[-2], k.shape[-2]

        allowed = None
        if attn_mask is not None:
            allowed = _boolean_mask(attn_mask, "attn_mask (True = may attend)")
        if key_padding_mask is not None:
            padding = _boolean_mask(key_padding_mask, "key_padding_mask (True = padding to ignore)")
            if padding.shape != (x.shape[0], S):
                raise ValueError(f"key_padding_mask must be (batch, keys) = {(x.shape[0], S)}, got {padding.shape}")
            keep = ~padding[:, None, None, :]
            allowed = keep if allowed is None else (allowed & keep)
        causal_here = is_causal and S == T  # square: F applies the usual lower-triangular mask
        if is_causal and S != T:  # queries are the last T of S positions (generation with a cache)
            future = np.tril(np.ones((T, S), dtype=bool), k=S - T)
            allowed = future if allowed is None else (allowed & future)
        mask = allowed
        if position_bias is not None:  # one float mask: the learned bias, -inf where not allowed
            if position_bias.shape[-2:] != (T, S):
                raise ValueError(f"position_bias must end in (queries, keys) = {(T, S)}, got {position_bias.shape}")
            mask = position_bias if allowed is None else position_bias + F.mask_to_bias(allowed, position_bias.dtype)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal_here,
                                             dropout_p=self.dropout if self.training else 0.0)
        return self.out_proj(self.merge_heads(out))

    def extra_repr(self):
        return f"d_model={self.d_model}, n_heads={self.n_heads}"
