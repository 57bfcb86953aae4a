"""Normalization layers, LayerNorm and RMSNorm, and `make_norm`, which picks one by name.

    LayerNorm:  y = (x - mean) / sqrt(var + eps) * g + b     (the Transformer, GPT-2, BERT)
    RMSNorm:    y = x / sqrt(mean(x^2) + eps) * g            (T5, LLaMA: no centering, no bias)

RMSNorm drops the mean subtraction and the shift: cheaper, and in practice as good (Zhang &
Sennrich, 2019).  A model config names its norm ("layernorm" or "rmsnorm") and every block builds
it through `make_norm`, so switching is one field.  Every norm declares its gain in `gains()`,
which is how model initialization (models/init.py) knows to start it at 1.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .module import Module, Parameter


class _Norm(Module):
    """What the norms share: the normalized shape, eps, and a gain per feature starting at 1."""

    def __init__(self, normalized_shape, eps, elementwise_affine: bool):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = Parameter(np.ones(self.normalized_shape, np.float32)) if elementwise_affine else None

    def gains(self) -> list:
        return [] if self.weight is None else [self.weight]

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"


class LayerNorm(_Norm):
    """Normalize each vector to zero mean and unit variance, then scale and shift.  Init: w = 1, b = 0.

    bias=False keeps the scale but drops the shift (as nanoGPT's bias-free models do).
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True):
        super().__init__(normalized_shape, eps, elementwise_affine)
        self.bias = Parameter(np.zeros(self.normalized_shape, np.float32)) if elementwise_affine and bias else None

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


class RMSNorm(_Norm):
    """Divide each vector by its root mean square, then scale.  Init: w = 1.  No bias.

    eps=None uses the machine epsilon of the input's dtype, as torch.nn.RMSNorm does.
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True):
        super().__init__(normalized_shape, eps, elementwise_affine)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)


# name -> how to build it; `bias` is LayerNorm's (RMSNorm has none to drop)
NORMS = {
    "layernorm": lambda size, eps, bias: LayerNorm(size, eps=eps, bias=bias),
    "rmsnorm": lambda size, eps, bias: RMSNorm(size, eps=eps),
}


def make_norm(name: str, size: int, eps: float = 1e-5, bias: bool = True) -> Module:
    """The norm layer a config names: "layernorm" (the default everywhere) or "rmsnorm"."""
    if name not in NORMS:
        raise ValueError(f"unknown norm {name!r}; choose one of {', '.join(repr(n) for n in NORMS)}")
    return NORMS[name](size, eps, bias)
