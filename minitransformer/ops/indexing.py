"""Indexing and selection: pick elements (x[index], gather, topk, tril/triu), or choose between two
sources by a mask (where, masked_fill).

Their backwards route each gradient to where its value came from: back to the picked position
(added up where an index picks an element twice), or to the side of the choice that was taken.
Masks, conditions and indices are constants: they get no gradient.

Indexing follows PyTorch where it differs from NumPy.  Both agree on slices, integers and index
arrays alone; they differ when integers and index arrays are separated by a slice, as in
x[1, :, [1, 3]]: NumPy treats the integer as one more index array and moves the broadcast
index dims to the front (shape (2, 4) for x of shape (3, 4, 5)), while PyTorch first selects with
the integers, then indexes what is left (shape (4, 2)).  `torch_index_steps` does it PyTorch's way.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, as_tensor, unwrap
from .reductions import argmax, normalize_dim

# What x.max(dim), x.min(dim) and topk return, as torch.return_types do: a tuple with two names.
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _is_basic_index(index) -> bool:
    """True for slices/ints/None/Ellipsis only: such an index never selects an element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice, type(None), type(Ellipsis))) for p in parts)


def torch_index_steps(index) -> tuple:
    """`index` as the NumPy indices to apply one after the other to get PyTorch's result.

    Usually one step, the index itself.  When integers come with index arrays, two: first the
    integers (and slices, None, ...) as a basic index, which only takes a view; then the index arrays
    on what is left, with a full slice for every dim the first step kept.
    """
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(np.asarray(p) if isinstance(p, list) else unwrap(p) for p in parts)
    is_int = [isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in parts]
    is_array = [isinstance(p, np.ndarray) and p.ndim > 0 for p in parts]
    if not (any(is_int) and any(is_array)):
        return (parts if isinstance(index, tuple) else parts[0],)
    first, rest = [], []
    for p, integer, array in zip(parts, is_int, is_array):
        if integer:
            first.append(p)  # selected now: this dim is gone from the second step
        elif array:
            first.extend([slice(None)] * (p.ndim if p.dtype == bool else 1))  # a boolean mask covers p.ndim dims
            rest.append(p)
        else:  # a slice, None or Ellipsis: applied now, with a full slice (or the Ellipsis) next
            first.append(p)
            rest.append(Ellipsis if p is Ellipsis else slice(None))
    return tuple(first), tuple(rest)


def index_view(array: np.ndarray, steps: tuple) -> tuple:
    """(the array the last step indexes into, the last step): every step but the last is basic, so the
    first part is a view, and writing through it (z[last] = v, np.add.at) writes into `array`."""
    for step in steps[:-1]:
        array = array[step]
    return array, steps[-1]


class GetItem(Function):
    """z = a[index] (PyTorch's rules, see torch_index_steps);  the gradient is scattered back, added
    where an element was picked twice."""

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.dtype, ctx.steps = a.shape, a.dtype, torch_index_steps(index)
        view, last = index_view(a, ctx.steps)
        return np.asarray(view[last])

    @staticmethod
    def backward(ctx, g):
        grad = np.zeros(ctx.shape, dtype=ctx.dtype)
        view, last = index_view(grad, ctx.steps)
        if _is_basic_index(last):
            view[last] = g
        else:
            np.add.at(view, last, g)
        return grad


def set_item(x: Tensor, index, value) -> None:
    """x[index] = value, in place, by PyTorch's indexing rules (Tensor.__setitem__ checks the graph)."""
    view, last = index_view(x.data, torch_index_steps(index))
    view[last] = unwrap(value)


class Gather(Function):
    """z[i, j, k] = a[index[i, j, k], j, k] for dim 0 (likewise along any dim), as torch.gather;
    the gradient is scattered back to the gathered places, added where one was picked twice."""

    @staticmethod
    def forward(ctx, a, dim, index):
        if index.ndim != a.ndim:
            raise ValueError(f"gather: index has {index.ndim} dims but the input has {a.ndim} "
                             f"({index.shape} vs {a.shape})")
        positions = list(np.ogrid[tuple(slice(n) for n in index.shape)])  # every index position, broadcastable
        positions[normalize_dim(dim, a.ndim)] = index
        ctx.shape, ctx.positions = a.shape, tuple(positions)
        return a[ctx.positions]

    @staticmethod
    def backward(ctx, g):
        grad = np.zeros(ctx.shape, dtype=g.dtype)
        np.add.at(grad, ctx.positions, g)
        return grad, None


def gather(x, dim: int, index) -> Tensor:
    index = np.asarray(unwrap(index))
    if not np.issubdtype(index.dtype, np.integer):
        raise TypeError(f"gather: index must hold integers, got dtype {index.dtype}")
    return Gather.apply(as_tensor(x), dim, index)


def topk(x, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The k largest (or smallest) entries along dim and where they are: (values, indices), as torch.topk.

    Values come out largest first (smallest first for largest=False; `sorted` is accepted, and the
    result is always sorted); between equal values, the one at the lower index comes first.  The values are a gather, so their gradient goes back in place.
    """
    x = as_tensor(x)
    axis = normalize_dim(dim, x.ndim)
    length = x.shape[axis] if x.ndim else 1
    if not 0 <= k <= length:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {length} (shape {x.shape})")
    source = x if x.ndim else x.reshape(1)  # a 0-d tensor is its own top 1
    order = np.argsort(-source.data if largest else source.data, axis=axis, kind="stable")
    indices = np.take(order, np.arange(k), axis=axis)
    values = gather(source, axis, indices)
    if not x.ndim:
        values, indices = values.reshape(()), indices.reshape(())
    return ValuesIndices(values, Tensor._wrap(indices))


def extreme_along(x, dim: int, keepdim: bool = False, largest: bool = True) -> ValuesIndices:
    """x.max(dim) / x.min(dim): (values, indices) along one dim, as torch.max(x, dim).

    The values are a gather at the indices (argmax: the first on a tie, a NaN if there is one), so
    the whole gradient goes to that one element, as in PyTorch; x.max() and amax share it between ties.
    """
    x = as_tensor(x)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"max/min(dim) take one dim, got {dim!r}; for several dims use amax/amin(dim={dim!r})")
    source = x if x.ndim else x.reshape(1)  # a 0-d tensor is its own max, at index 0
    indices = argmax(source.data, dim, keepdim=True, largest=largest)
    values = gather(source, dim, indices)
    if not x.ndim:
        return ValuesIndices(values.reshape(()), Tensor._wrap(indices.reshape(())))
    if not keepdim:
        axis = normalize_dim(dim, x.ndim)
        values, indices = values.reshape(values.shape[:axis] + values.shape[axis + 1:]), indices.squeeze(axis)
    return ValuesIndices(values, Tensor._wrap(indices))


class Tril(Function):
    """Keep the lower triangle of the last two dims (j <= i + diagonal), zero the rest;  the gradient
    is kept in the same places.  Triu: the upper triangle (j >= i + diagonal)."""

    keep = staticmethod(np.tril)

    @staticmethod
    def forward(ctx, a, diagonal):
        if a.ndim < 2:
            raise ValueError(f"{ctx.function.__name__.lower()} needs at least 2 dims, got shape {a.shape}")
        ctx.diagonal = diagonal
        return ctx.function.keep(a, diagonal)

    @staticmethod
    def backward(ctx, g):
        return ctx.function.keep(g, ctx.diagonal)


class Triu(Tril):
    """Keep the upper triangle of the last two dims (j >= i + diagonal), zero the rest."""

    keep = staticmethod(np.triu)


def repeat_interleave(x, repeats, dim=None) -> Tensor:
    """Repeat each element `repeats` times along dim (dim=None: of the flattened x), as torch.repeat_interleave.

    It is indexing with the index 0,0,..,1,1,.. (each position `repeats` times), so the gradient of
    the copies adds up in the original (GetItem's backward).
    """
    x = as_tensor(x)
    if dim is None:
        x, dim = x.reshape(-1), 0
    axis = normalize_dim(dim, x.ndim)
    repeats = np.asarray(unwrap(repeats))
    if np.any(repeats < 0):
        raise ValueError(f"repeat_interleave: repeats must be >= 0, got {repeats}")
    source = np.repeat(np.arange(x.shape[axis]), repeats)
    return x[(slice(None),) * axis + (source,)]


class MaskedFill(Function):
    """z = value where mask else a;  the gradient passes only where the mask is False."""

    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.save_for_backward(mask)
        return np.where(mask, np.asarray(value, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return np.where(mask, 0, g).astype(g.dtype, copy=False), None


def masked_fill(x: Tensor, mask, value) -> Tensor:
    """`value` where `mask` (broadcast against x) is True, x elsewhere: x.masked_fill(mask, value)."""
    return MaskedFill.apply(x, np.asarray(unwrap(mask), dtype=bool), value=value)


class Where(Function):
    """z = x where cond else y;  each side's gradient passes where it was chosen."""

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        gx = np.where(cond, g, 0).astype(g.dtype, copy=False) if ctx.needs_input_grad[1] else None
        gy = np.where(cond, 0, g).astype(g.dtype, copy=False) if ctx.needs_input_grad[2] else None
        return None, gx, gy


def where(condition, x, y) -> Tensor:
    """x where condition is True, else y; a constant side takes the dtype of the Tensor side."""
    cond = np.asarray(unwrap(condition), dtype=bool)
    if isinstance(x, Tensor) and not isinstance(y, Tensor):
        y = np.asarray(y, dtype=x.dtype)
    elif isinstance(y, Tensor) and not isinstance(x, Tensor):
        x = np.asarray(x, dtype=y.dtype)
    return Where.apply(cond, x, y)
