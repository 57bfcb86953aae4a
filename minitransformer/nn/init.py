"""nn.init: fill a weight in place with the values an initialization scheme prescribes, as torch.nn.init.

    normal_(w, mean, std)      w ~ N(mean, std^2)              (GPT-2, BERT: std = 0.02)
    uniform_(w, a, b)          w ~ U(a, b)
    xavier_uniform_(w, gain)   w ~ U(-b, b),  b = gain * sqrt(6 / (fan_in + fan_out))
    zeros_, ones_, constant_   w = 0, 1, value

Why Xavier's bound: a layer y = W x with fan_in inputs of unit variance has output variance
fan_in * var(W); keeping it (and the gradient's, which goes through fan_out) near 1 layer after
layer asks for var(W) = 2 / (fan_in + fan_out), and U(-b, b) has variance b^2 / 3.

Each writes into the tensor's array (no graph is recorded, as under torch.no_grad()) with the
package's random generator (`mt.manual_seed`), and returns the tensor, so it chains as in torch.
"""

from __future__ import annotations

import math

from ..seed import get_rng
from ..tensor import Tensor, no_grad


def _fill(tensor: Tensor, values) -> Tensor:
    with no_grad():
        return tensor.copy_(values)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    return _fill(tensor, get_rng().normal(mean, std, size=tensor.shape))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    return _fill(tensor, get_rng().uniform(a, b, size=tensor.shape))


def constant_(tensor: Tensor, value: float) -> Tensor:
    return _fill(tensor, value)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def fans(tensor: Tensor) -> tuple:
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel), as PyTorch counts them."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dims, got shape {tensor.shape}")
    kernel = math.prod(tensor.shape[2:])
    return tensor.shape[1] * kernel, tensor.shape[0] * kernel


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    fan_in, fan_out = fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)
