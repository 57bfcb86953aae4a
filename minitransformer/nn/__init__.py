"""Layers and models' building blocks, with the names and conventions of torch.nn.

module.py       Module, Parameter, ModuleList, Sequential
layers.py       Linear, Embedding, LayerNorm, Dropout, GELU, FeedForward
attention.py    MultiHeadAttention, KVCache
transformer.py  TransformerBlock (pre-norm or post-norm, optional cross-attention)
"""

from .attention import KVCache, MultiHeadAttention
from .layers import GELU, Dropout, Embedding, FeedForward, LayerNorm, Linear
from .module import Module, ModuleList, Parameter, Sequential
from .transformer import TransformerBlock

__all__ = [
    "Module", "Parameter", "ModuleList", "Sequential", "Linear", "Embedding", "LayerNorm", "Dropout",
    "GELU", "FeedForward", "MultiHeadAttention", "KVCache", "TransformerBlock",
]
