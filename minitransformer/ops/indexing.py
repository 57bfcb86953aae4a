"""Indexing and selection: pick elements (x[index]), or choose between two sources by a mask
(where, masked_fill).

Their backwards route each gradient to where its value came from: back to the picked position
(added up where an index picks an element twice), or to the side of the choice that was taken.
Masks and conditions are constants: they get no gradient.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, unwrap


def _is_basic_index(index) -> bool:
    """True for slices/ints/None/Ellipsis only: such an index never selects an element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice, type(None), type(Ellipsis))) for p in parts)


class GetItem(Function):
    """z = a[index];  the gradient is scattered back, added where an element was picked twice."""

    @staticmethod
    def forward(ctx, a, index):
        index = tuple(unwrap(i) for i in index) if isinstance(index, tuple) else unwrap(index)
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        return np.asarray(a[index])

    @staticmethod
    def backward(ctx, g):
        grad = np.zeros(ctx.shape, dtype=ctx.dtype)
        if _is_basic_index(ctx.index):
            grad[ctx.index] = g
        else:
            np.add.at(grad, ctx.index, g)
        return grad


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
