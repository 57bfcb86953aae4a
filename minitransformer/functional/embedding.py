"""embedding: y = W[ids], a table lookup that turns token ids into vectors; and one_hot.

A lookup is a product with one-hot rows: W[ids] = one_hot(ids, V) @ W, which is why its gradient
is the one-hot rows' transpose times the incoming gradient (a scatter-add, below).

Its gradient adds each incoming row into the table row it was read from (an id used twice gets
both).  `embedding_reference` is the lookup as plain Tensor indexing, whose backward is exactly
that scatter-add (`np.add.at`); `Embedding` is the fused kernel, with a faster scatter-add.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, unwrap


def embedding_reference(ids, weight) -> Tensor:
    """W[ids]: indexing, whose backward (GetItem) is np.add.at(grad, ids, g)."""
    return weight[np.asarray(unwrap(ids))]


class Embedding(Function):
    """y = W[ids]: a table lookup.  Backward adds each gradient row into the row it came from.

    Equals `embedding_reference`.
    """

    @staticmethod
    def forward(ctx, ids, weight):
        ctx.save_for_backward(ids)
        ctx.weight_shape, ctx.dtype = weight.shape, weight.dtype
        return weight[ids]

    @staticmethod
    def backward(ctx, g):
        """grad[i] = sum of the gradient rows whose id is i.

        `np.add.at(grad, ids, rows)` says exactly that, but NumPy runs it one row at a time.  Sorting
        the ids puts each id's rows side by side, and `np.add.reduceat` sums every run of equal ids
        in one call: 3-4x faster for a batch of 4096 tokens (the tests compare both).
        """
        (ids,) = ctx.saved_tensors
        ids = ids.reshape(-1)
        rows = g.reshape(-1, ctx.weight_shape[1])
        grad = np.zeros(ctx.weight_shape, dtype=ctx.dtype)
        if ids.size:
            order = np.argsort(ids, kind="stable")
            sorted_ids = ids[order]
            run_starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
            grad[sorted_ids[run_starts]] = np.add.reduceat(rows[order], run_starts, axis=0)
        return None, grad


def check_ids(ids: np.ndarray, vocab_size: int, what: str = "token id") -> None:
    """Raise a clear IndexError if any id is outside [0, vocab_size)."""
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{what}s must be integers, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        bad = ids[(ids < 0) | (ids >= vocab_size)][0]
        raise IndexError(f"{what} {int(bad)} is out of range for a vocabulary of {vocab_size} "
                         f"(valid ids: 0..{vocab_size - 1})")


def embedding(ids, weight) -> Tensor:
    ids = np.asarray(unwrap(ids))
    check_ids(ids, weight.shape[0])
    return Embedding.apply(ids, weight)


def one_hot(ids, num_classes: int = -1):
    """(..., num_classes) int64 tensor with a 1 at each id, as F.one_hot (num_classes=-1: max id + 1)."""
    ids = np.asarray(unwrap(ids))
    num_classes = int(ids.max()) + 1 if num_classes == -1 and ids.size else max(num_classes, 0)
    check_ids(ids, num_classes, "class id")
    return Tensor._wrap((ids[..., None] == np.arange(num_classes)).astype(np.int64))
