"""The transformer block: attention (and, in a decoder that reads an encoder, cross-attention),
then a feed-forward network, each wrapped in a residual connection and a norm (LayerNorm by
default, or RMSNorm: `norm=`, see normalization.py).

Where the layer norm goes is the one real design choice:
- post-norm (the original Transformer, BERT):   x = LN(x + sublayer(x))
- pre-norm  (GPT-2 and later, T5):              x = x + sublayer(LN(x))
Pre-norm leaves an unnormalized residual path from input to output, so gradients reach early layers
undamped and deep stacks train without careful warmup; post-norm is kept for loading BERT weights.
"""

from __future__ import annotations

from .attention import MultiHeadAttention
from .layers import Dropout, FeedForward
from .module import Module
from .normalization import make_norm


class TransformerBlock(Module):
    """One layer: self-attention [+ cross-attention] + feed-forward, with residuals and layer norms.

    Parameter names: attn, ln_attn, [cross_attn, ln_cross], mlp, ln_mlp.  bias=False: no bias in
    any Linear or LayerNorm (nanoGPT's default: "a bit better and faster").  norm: "layernorm" or
    "rmsnorm" (make_norm); activation: the feed-forward's "gelu", "gelu_tanh" or "relu".
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0, pre_norm: bool = True,
                 cross_attention: bool = False, activation: str = "gelu", ln_eps: float = 1e-5, bias: bool = True,
                 norm: str = "layernorm"):
        super().__init__()
        self.pre_norm = pre_norm
        self.attn = MultiHeadAttention(d_model, n_heads, dropout, bias)
        self.ln_attn = make_norm(norm, d_model, eps=ln_eps, bias=bias)
        if cross_attention:
            self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout, bias)
            self.ln_cross = make_norm(norm, d_model, eps=ln_eps, bias=bias)
        else:
            self.cross_attn = None
        self.mlp = FeedForward(d_model, d_ff, dropout, activation, bias)
        self.ln_mlp = make_norm(norm, d_model, eps=ln_eps, bias=bias)
        self.dropout = Dropout(dropout)

    def _residual(self, x, norm, sublayer):
        if self.pre_norm:
            return x + sublayer(norm(x))
        return norm(x + sublayer(x))

    def forward(self, x, memory=None, is_causal=False, key_padding_mask=None, memory_padding_mask=None,
                cache=None, cross_cache=None, position_bias=None):
        """x: (B, T, d).  memory: the encoder output (B, S, d) when the block has cross-attention.
        position_bias: added to the self-attention scores (T5's relative positions; not cross-attention's)."""
        x = self._residual(x, self.ln_attn, lambda h: self.dropout(
            self.attn(h, is_causal=is_causal, key_padding_mask=key_padding_mask, cache=cache,
                      position_bias=position_bias)))
        if self.cross_attn is not None:
            if memory is None:
                raise ValueError("this block has cross-attention: pass memory= (the encoder's output)")
            x = self._residual(x, self.ln_cross, lambda h: self.dropout(
                self.cross_attn(h, memory, key_padding_mask=memory_padding_mask, cache=cross_cache)))
        return self._residual(x, self.ln_mlp, self.mlp)
