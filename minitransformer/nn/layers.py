"""The basic layers: Linear, Embedding, Dropout, GELU, ReLU, SiLU and the feed-forward block
(norms: normalization.py).

Initializations follow PyTorch's defaults (noted at each layer), so a model built here starts where
the same model would in PyTorch.  Models may re-initialize (GPT-2 and BERT use N(0, 0.02)).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import functional as F
from ..seed import get_rng
from .module import Module, Parameter
from .normalization import LayerNorm  # noqa: F401  (its old home: nn.layers.LayerNorm still works)


def uniform(shape, bound):
    return get_rng().uniform(-bound, bound, size=shape).astype(np.float32)


def normal(shape, std):
    return (get_rng().standard_normal(shape) * std).astype(np.float32)


class Linear(Module):
    """y = x W^T + b, W shaped (out_features, in_features) like nn.Linear, so real checkpoints load as is.

    Init (PyTorch's): W and b ~ U(-1/sqrt(in), 1/sqrt(in)), which keeps the output's variance
    about a third of the input's for unit-variance inputs, whatever the width.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(uniform((out_features, in_features), bound))
        self.bias = Parameter(uniform((out_features,), bound)) if bias else None

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A table of vectors, one row per token id.  Init (PyTorch's): N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(normal((num_embeddings, embedding_dim), 1.0))

    def forward(self, ids):
        return F.embedding(ids, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Dropout(Module):
    """Zero each element with probability p during training (scaling the rest by 1/(1-p))."""

    def __init__(self, p: float = 0.1):
        super().__init__()
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class GELU(Module):
    """x * Phi(x): a smooth ReLU, used by GPT and BERT.  approximate='tanh' is GPT-2's variant."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class ReLU(Module):
    """max(x, 0): the original Transformer's nonlinearity."""

    def forward(self, x):
        return F.relu(x)


class SiLU(Module):
    """x * sigmoid(x) ("swish"), the nonlinearity of LLaMA's feed-forward."""

    def forward(self, x):
        return F.silu(x)


# The feed-forward block's nonlinearity, by the name a config gives it.
ACTIVATIONS = {
    "gelu": F.gelu,  # exact: x Phi(x) (BERT, nanoGPT)
    "gelu_tanh": functools.partial(F.gelu, approximate="tanh"),  # GPT-2's approximation
    "relu": F.relu,  # the original Transformer, T5 v1.0
}


def activation_function(name: str):
    """The function a config's activation name stands for (see ACTIVATIONS)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(repr(n) for n in ACTIVATIONS)}")
    return ACTIVATIONS[name]


class FeedForward(Module):
    """The position-wise MLP of a transformer block: dropout(fc2(act(fc1(x)))), d -> d_ff -> d.

    Attention mixes information *between* positions; this block then transforms each position on
    its own, with most of the block's parameters (d_ff is usually 4 d: GPT-1 used 768 -> 3072).
    `activation` names the nonlinearity act (ACTIVATIONS): "gelu", "gelu_tanh" or "relu".
    """

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, activation: str = "gelu", bias: bool = True):
        super().__init__()
        self.activation = activation
        self._act = activation_function(activation)  # a function, not a layer: nothing to register
        self.fc1 = Linear(d_model, d_ff, bias)
        self.fc2 = Linear(d_ff, d_model, bias)
        self.dropout = Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.fc2(self._act(self.fc1(x))))
