"""Shape ops: the same numbers, arranged differently (reshape, permute, cast) or joined and cut
(cat, stack, split).

None of them does arithmetic, so each backward only rearranges the gradient the inverse way:
reshape it back, permute it by the inverse order, cut it into the pieces' sizes.  cat, stack and
split are tensor ops in PyTorch too (torch.cat ...); `F.cat` etc. are the same functions.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, as_tensor


class Reshape(Function):
    """Same elements, new shape;  the gradient is reshaped back."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {a.shape} ({a.size} elements) into {shape}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Permute(Function):
    """Reorder axes;  the gradient is permuted by the inverse order."""

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(np.argsort(ctx.axes))


class Cast(Function):
    """Change float precision;  the gradient is cast back."""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype)


class Cat(Function):
    """Join along `dim`;  the gradient is cut back into the pieces' sizes."""

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        bounds = np.cumsum(ctx.sizes)[:-1]
        return tuple(np.split(g, bounds, axis=ctx.dim))


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat needs at least one tensor")
    first = tensors[0].shape
    dim = dim % len(first)
    for t in tensors[1:]:
        other_dims_agree = t.ndim == len(first) and all(
            a == b for i, (a, b) in enumerate(zip(t.shape, first)) if i != dim)
        if not other_dims_agree:
            raise ValueError(f"cat: shapes {first} and {t.shape} differ outside dim {dim}")
    return Cat.apply(*tensors, dim=dim)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join along a new axis `dim` (a cat of tensors each given a size-1 axis there)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shape = tensors[0].shape
    for t in tensors[1:]:
        if t.shape != shape:
            raise ValueError(f"stack: all tensors need the same shape, got {shape} and {t.shape}")
    dim = dim % (len(shape) + 1)
    new_shape = shape[:dim] + (1,) + shape[dim:]
    return cat([t.reshape(new_shape) for t in tensors], dim=dim)


def split(x, split_size_or_sections, dim: int = 0) -> tuple:
    """Cut `x` along `dim` into pieces of a given size (last may be smaller) or given sizes.

    Each piece is a slice of x (GetItem), so the gradients of the pieces land back in place.
    """
    x = as_tensor(x)
    length = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split size must be positive, got {step}")
        sizes = [min(step, length - start) for start in range(0, length, step)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise ValueError(f"split sizes {sizes} add up to {sum(sizes)}, but dim {dim} has length {length}")
    pieces, start = [], 0
    dim = dim % x.ndim
    for size in sizes:
        index = (slice(None),) * dim + (slice(start, start + size),)
        pieces.append(x[index])
        start += size
    return tuple(pieces)
