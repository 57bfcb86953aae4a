"""Reductions: sum, mean, max and var over some axes (all of them by default).

A reduction's backward hands the incoming gradient back to every element that was reduced:
`_expand_reduced` puts the reduced axes back (when keepdim=False dropped them) and broadcasts.
`dim` is normalized once, in forward, so backward always sees a sorted tuple of axes (or None).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function


def _normalize_dims(dim, ndim):
    """None, or the axes of `dim` as a sorted tuple of non-negative ints (with clear errors)."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    for d in dims:
        if not -ndim <= d < max(ndim, 1):
            raise IndexError(f"dim {d} is out of range for a tensor with {ndim} dimensions")
    normalized = tuple(sorted(d % max(ndim, 1) for d in dims))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"dim {dim} names the same axis twice for a tensor with {ndim} dimensions")
    return normalized


def _count(a: np.ndarray, dim) -> int:
    """How many elements each output of a reduction over `dim` combines."""
    return a.size if dim is None else math.prod(a.shape[d] for d in dim)


def _expand_reduced(grad, shape, dim, keepdim):
    """Broadcast the gradient of a reduction back over the reduced axes."""
    if dim is not None and not keepdim:
        grad = np.expand_dims(grad, dim)
    return np.broadcast_to(grad, shape)


class Sum(Function):
    """z = sum(a);  each element's gradient is dL/dz."""

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        dim = _normalize_dims(dim, a.ndim)
        ctx.shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        return np.asarray(a.sum(axis=dim, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        return _expand_reduced(g, ctx.shape, ctx.dim, ctx.keepdim)


class Mean(Function):
    """z = sum(a) / N;  each element's gradient is dL/dz / N."""

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        dim = _normalize_dims(dim, a.ndim)
        ctx.shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        ctx.count = _count(a, dim)
        return np.asarray(a.mean(axis=dim, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        return _expand_reduced(g / ctx.count, ctx.shape, ctx.dim, ctx.keepdim)


class Max(Function):
    """z = max(a);  the gradient goes to the maximal elements, split evenly between ties."""

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        dim = _normalize_dims(dim, a.ndim)
        out = np.asarray(a.max(axis=dim, keepdims=True))
        winners = a == out
        ctx.save_for_backward(winners / winners.sum(axis=dim, keepdims=True).astype(a.dtype))
        ctx.dim, ctx.keepdim = dim, keepdim
        return out if keepdim else np.asarray(out.squeeze(axis=dim) if dim is not None else out.reshape(()))

    @staticmethod
    def backward(ctx, g):
        (share,) = ctx.saved_tensors
        return _expand_reduced(g, share.shape, ctx.dim, ctx.keepdim) * share


class Var(Function):
    """z = sum((a - mean)^2) / (N - correction);  dz/da = 2 (a - mean) / (N - correction)."""

    @staticmethod
    def forward(ctx, a, dim, keepdim, correction):
        dim = _normalize_dims(dim, a.ndim)
        centered = a - a.mean(axis=dim, keepdims=True)
        ctx.save_for_backward(centered)
        ctx.dim, ctx.keepdim, ctx.denominator = dim, keepdim, _count(a, dim) - correction
        return np.asarray((centered * centered).sum(axis=dim, keepdims=keepdim) / ctx.denominator)

    @staticmethod
    def backward(ctx, g):
        (centered,) = ctx.saved_tensors
        g = _expand_reduced(g, centered.shape, ctx.dim, ctx.keepdim)
        return g * centered * (2.0 / ctx.denominator)
