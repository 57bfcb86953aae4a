"""Layers and models' building blocks, with the names and conventions of torch.nn.

module.py         Module (parameters, buffers, state_dict, apply), Parameter
containers.py     ModuleList, Sequential, ModuleDict, ParameterList
layers.py         Linear, Embedding, Dropout, GELU, ReLU, SiLU, FeedForward (and its ACTIVATIONS by name)
normalization.py  LayerNorm, RMSNorm, make_norm (a norm by name)
attention.py      MultiHeadAttention, KVCache
transformer.py    TransformerBlock (pre-norm or post-norm, optional cross-attention)
relative_position.py  RelativePositionBias, relative_position_bucket (T5's positions)
init.py           nn.init: normal_, uniform_, zeros_, ones_, constant_, xavier_uniform_
utils.py          nn.utils: clip_grad_norm_
functional.py     minitransformer.functional under torch's path: import minitransformer.nn.functional as F
"""

from . import functional, init, utils
from .attention import KVCache, MultiHeadAttention
from .containers import ModuleDict, ModuleList, ParameterList, Sequential
from .layers import ACTIVATIONS, GELU, Dropout, Embedding, FeedForward, Linear, ReLU, SiLU, activation_function
from .module import Module, Parameter
from .normalization import NORMS, LayerNorm, RMSNorm, make_norm
from .relative_position import POSITIONS, RelativePositionBias, local_slopes, neighbour_start, relative_position_bucket
from .transformer import TransformerBlock

__all__ = [
    "Module", "Parameter", "ModuleList", "Sequential", "ModuleDict", "ParameterList", "Linear", "Embedding",
    "LayerNorm", "RMSNorm", "make_norm", "NORMS", "Dropout", "GELU", "ReLU", "SiLU", "FeedForward", "ACTIVATIONS",
    "activation_function", "MultiHeadAttention", "KVCache", "TransformerBlock", "RelativePositionBias",
    "relative_position_bucket", "local_slopes", "neighbour_start", "POSITIONS", "init", "utils", "functional",
]
