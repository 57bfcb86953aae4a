"""Tensor's methods that compute: each one line handing the work to an op in `ops/`, as torch names it.

Tensor (tensor.py) is built on this class, so `x.sum(1)`, `x.view(B, T, C)` or `x.softmax(-1)`
read as in PyTorch, and each method says in one line which op does the work: the op's forward
and backward sit together in its family's file (ops/reductions.py for sum, ...).  Semantics are
PyTorch's, including the named tuple (values, indices) of x.max(dim) and x.topk(k).
"""

from __future__ import annotations

import numpy as np

# Set by tensor.py once they exist: the ops import Tensor, which is built from this class, so this
# file cannot import either itself.  The methods look `ops` and `Tensor` up only when they run.
ops = Tensor = None


class TensorMethods:
    """The methods of Tensor that call an op (see tensor.py for the rest)."""

    # ---- arithmetic, by name: ops/arithmetic.py (the operators are in tensor.py) ----
    def add(self, other, alpha=1):
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        return self ** exponent

    def matmul(self, other):
        return self @ other

    def maximum(self, other):
        """Elementwise max(self, other); on a tie each side gets half the gradient (as torch.maximum)."""
        return ops.Maximum.apply(self, other)

    def minimum(self, other):
        return ops.Minimum.apply(self, other)

    # ---- reductions: ops/reductions.py ----
    def sum(self, dim=None, keepdim=False):
        return ops.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        return ops.Mean.apply(self, dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """x.max(): the largest element (its gradient shared between ties).  x.max(dim): the named
        tuple (values, indices) along dim, as torch.max.  x.max(other_tensor): torch.maximum."""
        if dim is None:
            return ops.Amax.apply(self, dim=None, keepdim=False)
        if hasattr(dim, "shape"):
            return self.maximum(dim)
        return ops.extreme_along(self, dim, keepdim, largest=True)

    def min(self, dim=None, keepdim=False):
        """As max(), for the smallest: x.min(), x.min(dim) -> (values, indices), x.min(other)."""
        if dim is None:
            return ops.Amin.apply(self, dim=None, keepdim=False)
        if hasattr(dim, "shape"):
            return self.minimum(dim)
        return ops.extreme_along(self, dim, keepdim, largest=False)

    def amax(self, dim=(), keepdim=False):
        """Max over one or several dims (all for dim=()); the gradient is shared between ties."""
        return ops.Amax.apply(self, dim=None if dim == () else dim, keepdim=keepdim)

    def amin(self, dim=(), keepdim=False):
        return ops.Amin.apply(self, dim=None if dim == () else dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False):
        """Index of the largest element (along dim; of the flattened tensor for dim=None).  No gradient."""
        return Tensor._wrap(ops.argmax(self.data, dim, keepdim))

    def argmin(self, dim=None, keepdim=False):
        return Tensor._wrap(ops.argmax(self.data, dim, keepdim, largest=False))

    def var(self, dim=None, keepdim=False, correction=1):
        """Variance with Bessel's correction by default (divide by N - 1), as torch.var."""
        return ops.Var.apply(self, dim=dim, keepdim=keepdim, correction=correction)

    def std(self, dim=None, keepdim=False, correction=1):
        """sqrt(var): the standard deviation, as torch.std."""
        return self.var(dim, keepdim, correction).sqrt()

    def logsumexp(self, dim, keepdim=False):
        return ops.LogSumExp.apply(self, dim=dim, keepdim=keepdim)

    def norm(self, p=2, dim=None, keepdim=False):
        """The L2 norm sqrt(sum x^2), of all elements or over dim (p.grad.norm())."""
        if p not in (2, "fro"):
            raise ValueError(f"norm: only p=2 is implemented, got p={p!r}; for p=1 use x.abs().sum()")
        return ops.Norm.apply(self, dim=dim, keepdim=keepdim)

    def cumsum(self, dim):
        return ops.Cumsum.apply(self, dim=dim)

    def all(self, dim=None, keepdim=False):
        """True where every element (along dim) is nonzero.  No gradient."""
        return Tensor._wrap(np.asarray(np.all(self.data, axis=dim, keepdims=keepdim)))

    def any(self, dim=None, keepdim=False):
        return Tensor._wrap(np.asarray(np.any(self.data, axis=dim, keepdims=keepdim)))

    # ---- shape: ops/shape.py ----
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.Reshape.apply(self, shape=shape)

    def view(self, *shape):
        """reshape (NumPy copies when the memory layout needs it; PyTorch's view would refuse)."""
        return self.reshape(*shape)

    def transpose(self, dim0, dim1):
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return ops.Permute.apply(self, axes=tuple(axes))

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return ops.Permute.apply(self, axes=tuple(d % self.ndim for d in dims))

    @property
    def T(self):
        return ops.Permute.apply(self, axes=tuple(reversed(range(self.ndim))))

    def flatten(self, start_dim=0, end_dim=-1):
        return self.reshape(ops.flatten_shape(self.shape, start_dim, end_dim))

    def unflatten(self, dim, sizes):
        return self.reshape(ops.unflatten_shape(self.shape, dim, sizes))

    def squeeze(self, dim=None):
        """Drop size-1 dims (all, or those of dim; a dim whose size is not 1 stays, as in torch)."""
        return self.reshape(ops.squeeze_shape(self.shape, dim))

    def unsqueeze(self, dim):
        return self.reshape(ops.unsqueeze_shape(self.shape, dim))

    def expand(self, *sizes):
        """A view with size-1 dims repeated (-1 keeps a size); nothing is copied."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        return ops.Expand.apply(self, shape=ops.expand_shape(self.shape, sizes))

    def expand_as(self, other):
        return self.expand(other.shape)

    def repeat(self, *repeats):
        """Tile the whole tensor repeats[i] times along dim i (np.tile)."""
        if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)):
            repeats = tuple(repeats[0])
        return ops.Repeat.apply(self, repeats=tuple(repeats))

    def repeat_interleave(self, repeats, dim=None):
        """Repeat each element repeats times along dim: [a, b] -> [a, a, b, b]."""
        return ops.repeat_interleave(self, repeats, dim)

    def split(self, split_size_or_sections, dim=0):
        return ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return ops.chunk(self, chunks, dim)

    def contiguous(self):
        """self: NumPy keeps any layout usable (reshape copies when it must)."""
        return self

    def clone(self):
        """A copy in new memory, still in the graph (the gradient passes through)."""
        return ops.Clone.apply(self)

    # ---- selecting: ops/indexing.py ----
    def masked_fill(self, mask, value):
        """Put `value` where `mask` is True (mask broadcasts); no gradient flows to filled places."""
        return ops.masked_fill(self, mask, value)

    def gather(self, dim, index):
        return ops.gather(self, dim, index)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """(values, indices) of the k largest (largest=False: smallest) entries along dim."""
        return ops.topk(self, k, dim, largest, sorted)

    def tril(self, diagonal=0):
        return ops.Tril.apply(self, diagonal=diagonal)

    def triu(self, diagonal=0):
        return ops.Triu.apply(self, diagonal=diagonal)

    # ---- elementwise functions: ops/pointwise.py, ops/special.py ----
    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def sqrt(self):
        return ops.Sqrt.apply(self)

    def rsqrt(self):
        return ops.Rsqrt.apply(self)

    def sin(self):
        return ops.Sin.apply(self)

    def cos(self):
        return ops.Cos.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self)

    def sigmoid(self):
        return ops.Sigmoid.apply(self)

    def relu(self):
        return ops.Relu.apply(self)

    def erf(self):
        return ops.Erf.apply(self)

    def abs(self):
        return ops.Abs.apply(self)

    def clamp(self, min=None, max=None):
        """Limit to [min, max] (either may be None); a tensor bound is torch.maximum/minimum, with its gradient."""
        if min is None and max is None:
            raise ValueError("clamp needs min or max (or both)")
        if hasattr(min, "shape") or hasattr(max, "shape"):
            low = self if min is None else self.maximum(min)
            return low if max is None else low.minimum(max)
        return ops.Clamp.apply(self, low=min, high=max)

    clip = clamp

    # ---- along one dim, from the ops above ----
    def log_softmax(self, dim):
        """x - logsumexp(x): the equation on the engine's ops (F.log_softmax is the fused kernel)."""
        return self - self.logsumexp(dim, keepdim=True)

    def softmax(self, dim):
        """exp(log_softmax(x)), from the engine's ops (F.softmax is the fused kernel; same values)."""
        return self.log_softmax(dim).exp()
