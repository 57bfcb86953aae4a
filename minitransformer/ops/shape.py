"""Shape ops: the same numbers, arranged differently (reshape, permute, cast, expand, repeat, pad)
or joined and cut (cat, stack, split, chunk).

None of them does arithmetic, so each backward only rearranges the gradient the inverse way:
reshape it back, permute it by the inverse order, cut it into the pieces' sizes, add up the
copies.  squeeze, unsqueeze, flatten and unflatten are reshapes, worked out here.  cat, stack and
split are tensor ops in PyTorch too (torch.cat ...); `F.cat` etc. are the same functions.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, as_tensor
from .reductions import normalize_dim


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
    """Join tensors along an existing dim `dim`; all other dims must agree (torch.cat)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat needs at least one tensor")
    for position, t in enumerate(tensors):
        if t.ndim == 0:
            raise ValueError(f"cat: a zero-dimensional tensor (at position {position}) cannot be concatenated; "
                             "give it a dim first (t.reshape(1)) or use stack")
    first = tensors[0].shape
    dim = normalize_dim(dim, len(first))
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
    dim = normalize_dim(dim, len(shape) + 1)
    new_shape = shape[:dim] + (1,) + shape[dim:]
    return cat([t.reshape(new_shape) for t in tensors], dim=dim)


def split(x, split_size_or_sections, dim: int = 0) -> tuple:
    """Cut `x` along `dim` into pieces of a given size (last may be smaller) or given sizes.

    Each piece is a slice of x (GetItem), so the gradients of the pieces land back in place.
    """
    x = as_tensor(x)
    dim = normalize_dim(dim, x.ndim)
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
    for size in sizes:
        index = (slice(None),) * dim + (slice(start, start + size),)
        pieces.append(x[index])
        start += size
    return tuple(pieces)


def chunk(x, chunks: int, dim: int = 0) -> tuple:
    """Cut into `chunks` pieces of ceil(n / chunks) along dim (the last smaller; fewer if n is small)."""
    x = as_tensor(x)
    if chunks < 1:
        raise ValueError(f"chunk: chunks must be at least 1, got {chunks}")
    length = x.shape[normalize_dim(dim, x.ndim)]
    return split(x, max(1, -(-length // chunks)), dim)


class Expand(Function):
    """Repeat size-1 dims (and add leading ones) without copying;  the gradient is summed back over them
    (the engine's sum_to_shape does it, so backward passes the gradient as it is)."""

    @staticmethod
    def forward(ctx, a, shape):
        try:
            return np.broadcast_to(a, shape)
        except ValueError:
            raise ValueError(f"expand: a tensor of shape {a.shape} cannot be expanded to {shape}: only "
                             "dims of size 1 can grow (use repeat to copy others)") from None

    @staticmethod
    def backward(ctx, g):
        return g


def expand_shape(shape: tuple, sizes: tuple) -> tuple:
    """The target shape of x.expand(*sizes): -1 keeps a dim's size; new dims go in front."""
    if len(sizes) < len(shape):
        raise ValueError(f"expand: {len(sizes)} sizes given for a tensor with {len(shape)} dims ({shape})")
    lead = len(sizes) - len(shape)
    return tuple(shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))


class Repeat(Function):
    """Tile: copy the whole tensor `repeats[i]` times along dim i (torch's repeat, NumPy's tile).

    Backward: the gradient, cut into (copy, original) pairs of axes, summed over the copies.
    """

    @staticmethod
    def forward(ctx, a, repeats):
        if len(repeats) < a.ndim:
            raise ValueError(f"repeat: {len(repeats)} repeats for a tensor with {a.ndim} dims: give at least {a.ndim}")
        ctx.repeats, ctx.shape = tuple(repeats), (1,) * (len(repeats) - a.ndim) + a.shape
        return np.tile(a, repeats)

    @staticmethod
    def backward(ctx, g):
        pairs = [n for copies, size in zip(ctx.repeats, ctx.shape) for n in (copies, size)]
        return g.reshape(pairs).sum(axis=tuple(range(0, len(pairs), 2)))  # copy i of element j sits at i*size + j


class Pad(Function):
    """Put a border of `value` around the last dims (negative widths crop);  the gradient is the middle.

    `pad` is PyTorch's: (left, right) for the last dim, then (left, right) for the one before, ...
    """

    @staticmethod
    def forward(ctx, a, pad, value):
        if len(pad) % 2 or len(pad) // 2 > a.ndim:
            raise ValueError(f"pad: {pad} must hold a (left, right) pair per dim, for at most {a.ndim} dims")
        widths = [(0, 0)] * (a.ndim - len(pad) // 2) + [tuple(pad[i:i + 2]) for i in range(0, len(pad), 2)][::-1]
        shape = tuple(n + left + right for n, (left, right) in zip(a.shape, widths))
        if any(n < 0 for n in shape):
            raise ValueError(f"pad: {pad} crops a tensor of shape {a.shape} to the negative size {shape}")
        # where the input's kept part sits in the output, and which part of the input is kept
        ctx.inner = tuple(slice(max(left, 0), n - max(right, 0)) for n, (left, right) in zip(shape, widths))
        ctx.kept = tuple(slice(max(-left, 0), n - max(-right, 0)) for n, (left, right) in zip(a.shape, widths))
        ctx.shape = a.shape
        out = np.full(shape, value, dtype=a.dtype)
        out[ctx.inner] = a[ctx.kept]
        return out

    @staticmethod
    def backward(ctx, g):
        grad = np.zeros(ctx.shape, dtype=g.dtype)
        grad[ctx.kept] = g[ctx.inner]
        return grad


def pad(x, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """F.pad with mode="constant": `value` around the last len(pad) // 2 dims (see Pad)."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is implemented, got {mode!r}")
    return Pad.apply(as_tensor(x), pad=tuple(int(p) for p in pad), value=value)


# ---- reshapes with a name: the shape is worked out here, the op is Reshape ----


def squeeze_shape(shape: tuple, dim=None) -> tuple:
    """The shape without its size-1 dims (all, or those of `dim`; a dim that is not 1 is kept, as torch)."""
    if dim is None:
        return tuple(n for n in shape if n != 1)
    dims = {normalize_dim(d, len(shape)) for d in ((dim,) if isinstance(dim, int) else dim)}
    return tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))


def unsqueeze_shape(shape: tuple, dim: int) -> tuple:
    """The shape with a size-1 dim inserted at `dim` (in [-ndim - 1, ndim])."""
    dim = normalize_dim(dim, len(shape) + 1)
    return shape[:dim] + (1,) + shape[dim:]


def flatten_shape(shape: tuple, start_dim: int = 0, end_dim: int = -1) -> tuple:
    """The shape with dims start_dim..end_dim merged into one."""
    if not shape:
        return (1,)
    start, end = normalize_dim(start_dim, len(shape)), normalize_dim(end_dim, len(shape))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {shape}")
    return shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]


def unflatten_shape(shape: tuple, dim: int, sizes) -> tuple:
    """The shape with dim `dim` split into `sizes` (one of them may be -1)."""
    dim = normalize_dim(dim, len(shape))
    sizes = tuple(sizes)
    known = math.prod(n for n in sizes if n != -1)
    if -1 in sizes:
        sizes = tuple(shape[dim] // known if n == -1 else n for n in sizes)
    if math.prod(sizes) != shape[dim]:
        raise ValueError(f"unflatten: sizes {sizes} do not multiply to the size {shape[dim]} of dim {dim}")
    return shape[:dim] + sizes + shape[dim + 1:]


class Clone(Function):
    """A copy in new memory (x.clone());  the gradient passes unchanged."""

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g
