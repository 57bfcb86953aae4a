"""Layers and models' building blocks, with the names and conventions of torch.nn.

module.py         Module, Parameter, ModuleList, Sequential
layers.py         Linear, Embedding, Dropout, GELU, FeedForward (and its ACTIVATIONS by name)
normalization.py  LayerNorm, RMSNorm, make_norm (a norm by name)
attention.py      MultiHeadAttention, KVCache
transformer.py    TransformerBlock (pre-norm or post-norm, optional cross-attention)
"""

from .attention import KVCache, MultiHeadAttention
from .layers import ACTIVATIONS, GELU, Dropout, Embedding, FeedForward, Linear, activation_function
from .module import Module, ModuleList, Parameter, Sequential
from .normalization import NORMS, LayerNorm, RMSNorm, make_norm
from .transformer import TransformerBlock

__all__ = [
    "Module", "Parameter", "ModuleList", "Sequential", "Linear", "Embedding", "LayerNorm", "RMSNorm", "make_norm",
    "NORMS", "Dropout", "GELU", "FeedForward", "ACTIVATIONS", "activation_function", "MultiHeadAttention",
    "KVCache", "TransformerBlock",
]
