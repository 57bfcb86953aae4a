"""Reductions: sum, mean, amax/amin, var, logsumexp over some axes (all of them by default), the
running sum cumsum, and argmax/argmin.

A reduction's backward hands the incoming gradient back to every element that was reduced:
`_expand_reduced` puts the reduced axes back (when keepdim=False dropped them) and broadcasts.
`dim` is normalized once, in forward, so backward always sees a sorted tuple of axes (or None).
As in PyTorch, a 0-d tensor has the dims -1 and 0, and reducing over them changes nothing.
`x.max(dim)` (values and indices) is argmax plus a gather, in tensor_methods.py.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function


def dim_out_of_range(d, ndim) -> IndexError:
    """PyTorch's error for a dim outside [-ndim, ndim - 1] (a 0-d tensor counts as having one dim)."""
    top = max(ndim, 1)
    return IndexError(f"Dimension out of range (expected to be in range of [{-top}, {top - 1}], but got {d})")


def normalize_dim(d: int, ndim: int) -> int:
    """One dim as a non-negative axis (0 for a 0-d tensor), or PyTorch's IndexError."""
    if not -max(ndim, 1) <= d < max(ndim, 1):
        raise dim_out_of_range(d, ndim)
    return d % ndim if ndim else 0


def _normalize_dims(dim, ndim):
    """None, or the axes of `dim` as a sorted tuple of non-negative ints (with clear errors)."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    normalized = tuple(sorted(normalize_dim(d, ndim) for d in dims))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"dim {dim} names the same axis twice for a tensor with {ndim} dimensions")
    return normalized if ndim else ()  # a 0-d tensor has no axis to reduce


def _count(a: np.ndarray, dim) -> int:
    """How many elements each output of a reduction over `dim` combines."""
    return a.size if dim is None else math.prod(a.shape[d] for d in dim)


def _drop_reduced(out: np.ndarray, dim) -> np.ndarray:
    """A result computed with keepdims=True, without the reduced axes (keepdim=False)."""
    return np.asarray(out.squeeze(axis=dim) if dim is not None else out.reshape(()))


def _save_input_and_result(ctx, a, out, dim, keepdim) -> np.ndarray:
    """Keep a and the (keepdims) result for a backward that needs both; return the result as asked."""
    ctx.save_for_backward(a, out)
    ctx.dim, ctx.keepdim = dim, keepdim
    return out if keepdim else _drop_reduced(out, dim)


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


class Amax(Function):
    """z = max of a over dim;  the gradient is shared evenly between the elements equal to z (ties).

    A NaN wins (the max of anything with a NaN is NaN), so the gradient goes to the NaNs, as PyTorch's
    amax and full max() do.  Amin below is the same with min.
    """

    pick = staticmethod(np.max)

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        dim = _normalize_dims(dim, a.ndim)
        if _count(a, dim) == 0:
            raise ValueError(f"{ctx.function.__name__.lower()} of an empty tensor (shape {a.shape}, dim {dim}) "
                             "has no value; reduce a non-empty one")
        out = np.asarray(ctx.function.pick(a, axis=dim, keepdims=True))
        winners = np.where(np.isnan(out), np.isnan(a), a == out)
        ctx.save_for_backward(winners / winners.sum(axis=dim, keepdims=True).astype(a.dtype))
        ctx.dim, ctx.keepdim = dim, keepdim
        return out if keepdim else _drop_reduced(out, dim)

    @staticmethod
    def backward(ctx, g):
        (share,) = ctx.saved_tensors
        return _expand_reduced(g, share.shape, ctx.dim, ctx.keepdim) * share


class Amin(Amax):
    """z = min of a over dim;  the gradient is shared evenly between the elements equal to z (ties)."""

    pick = staticmethod(np.min)


def argmax(a: np.ndarray, dim=None, keepdim: bool = False, largest: bool = True) -> np.ndarray:
    """The index of the largest (largest=False: smallest) element along dim, the first on a tie or NaN.

    dim=None: the index into the flattened array, as torch.argmax.
    """
    find = np.argmax if largest else np.argmin
    if dim is None:
        index = np.asarray(find(a))
        return index.reshape((1,) * a.ndim) if keepdim else index
    axis = normalize_dim(dim, a.ndim)
    if a.ndim == 0:
        return np.zeros((), dtype=np.int64)
    if a.shape[axis] == 0:
        raise ValueError(f"argmax/argmin over dim {dim} of size 0 (shape {a.shape}) has no answer")
    return np.asarray(find(a, axis=axis, keepdims=keepdim)).astype(np.int64, copy=False)


class Var(Function):
    """z = sum((a - mean)^2) / max(0, N - correction);  dz/da = 2 (a - mean) / max(0, N - correction).

    When correction >= N (e.g. the default correction=1 over a size-1 dim) the denominator is 0,
    and so, as in PyTorch, the variance is inf (NaN when every centered value is 0).
    """

    @staticmethod
    def forward(ctx, a, dim, keepdim, correction):
        dim = _normalize_dims(dim, a.ndim)
        centered = a - a.mean(axis=dim, keepdims=True)
        ctx.save_for_backward(centered)
        ctx.dim, ctx.keepdim = dim, keepdim
        ctx.denominator = max(0, _count(a, dim) - correction)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray((centered * centered).sum(axis=dim, keepdims=keepdim) / a.dtype.type(ctx.denominator))

    @staticmethod
    def backward(ctx, g):
        (centered,) = ctx.saved_tensors
        g = _expand_reduced(g, centered.shape, ctx.dim, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * centered * (centered.dtype.type(2.0) / centered.dtype.type(ctx.denominator))


class LogSumExp(Function):
    """z = log sum exp(a) = m + log sum exp(a - m)  (m = max a, so exp cannot overflow);
    dz/da = exp(a - z) = softmax(a).  Over an empty dim, or all -inf, z = -inf, as PyTorch.
    """

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        dim = _normalize_dims(dim, a.ndim)
        shift = np.max(a, axis=dim, keepdims=True, initial=-np.inf)
        shift[~np.isfinite(shift)] = 0.0  # all -inf (or empty): log 0 = -inf below, without NaN
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(a - shift).sum(axis=dim, keepdims=True)) + shift
        return _save_input_and_result(ctx, a, out, dim, keepdim)

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return _expand_reduced(g, a.shape, ctx.dim, ctx.keepdim) * np.exp(a - out)


class Cumsum(Function):
    """z_i = a_1 + ... + a_i along dim;  dL/da_j = sum over i >= j of dL/dz_i: a cumsum run backwards."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = normalize_dim(dim, a.ndim)
        return np.cumsum(a, axis=ctx.dim) if a.ndim else a.copy()

    @staticmethod
    def backward(ctx, g):
        if g.ndim == 0:
            return g
        return np.flip(np.cumsum(np.flip(g, ctx.dim), axis=ctx.dim), ctx.dim)


class Norm(Function):
    """z = sqrt(sum a^2) over dim (the L2 norm);  dz/da = a / z, and 0 where z = 0 (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        dim = _normalize_dims(dim, a.ndim)
        out = np.sqrt((a * a).sum(axis=dim, keepdims=True))
        return _save_input_and_result(ctx, a, out, dim, keepdim)

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            direction = np.where(out == 0, 0.0, a / out).astype(a.dtype, copy=False)
        return _expand_reduced(g, a.shape, ctx.dim, ctx.keepdim) * direction


Max = Amax  # its name from before amax and amin were two ops
