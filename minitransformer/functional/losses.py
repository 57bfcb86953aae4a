"""cross_entropy: the loss of every pretraining objective here, -log p(correct class).

    loss = mean over kept rows of  -sum_c q_c log softmax(x)_c,
    q = (1 - s) onehot(target) + s / C      (label smoothing s; s = 0 is plain cross-entropy)

Rows whose target is `ignore_index` (-100: padding, unmasked positions) count for nothing.
`cross_entropy_reference` is that formula with Tensor primitives; `CrossEntropy` the fused kernel.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, as_tensor, unwrap
from .softmax import log_softmax_reference, stable_softmax


def cross_entropy_reference(logits, target, ignore_index: int = -100, label_smoothing: float = 0.0,
                            reduction: str = "mean") -> Tensor:
    """The formula as it reads: pick -log p of each target, mix in the smoothing, drop ignored rows."""
    keep = target != ignore_index
    logp = log_softmax_reference(logits, -1)
    nll = -logp[np.arange(len(target)), np.where(keep, target, 0)]
    smooth = -logp.mean(dim=-1)
    per_row = (nll * (1 - label_smoothing) + smooth * label_smoothing) * keep.astype(logits.dtype)
    if reduction == "none":
        return per_row
    return per_row.sum() if reduction == "sum" else per_row.sum() / int(keep.sum())


class CrossEntropy(Function):
    """Mean over non-ignored rows of  -sum_c q_c log softmax(x)_c,
    with q = (1 - s) onehot(target) + s / C  (label smoothing s; s = 0 is plain cross-entropy).

    Backward for a kept row:  dL/dx = (softmax(x) - q) / n_kept;  ignored rows get 0.

    Equals `cross_entropy_reference`.  What the fusing buys: one log-softmax pass (shared with
    F.log_softmax, `stable_softmax`) and one saved (N, C) array, where the reference keeps several
    for its backward chain; and the gradient, softmax minus the target distribution, is computed
    directly instead of through log, exp, sum and indexing.  Forward plus backward measure
    1.5-1.6x the bare NumPy forward (benchmarks/README.md).
    """

    @staticmethod
    def forward(ctx, logits, target, ignore_index, label_smoothing, reduction):
        n, classes = logits.shape
        keep = target != ignore_index
        safe_target = np.where(keep, target, 0)
        logp = stable_softmax(logits, 1, log=True)
        rows = np.arange(n)
        losses = -logp[rows, safe_target] * (1.0 - label_smoothing)
        if label_smoothing:
            losses -= logp.mean(axis=1) * label_smoothing
        losses *= keep
        ctx.save_for_backward(logp, safe_target, keep)
        ctx.label_smoothing, ctx.reduction = label_smoothing, reduction
        ctx.count = int(keep.sum())
        if reduction == "none":
            return losses
        total = losses.sum()
        if reduction == "sum":
            return np.asarray(total)
        return np.asarray(total / ctx.count if ctx.count else np.nan, dtype=logits.dtype)

    @staticmethod
    def backward(ctx, g):
        logp, target, keep = ctx.saved_tensors
        s = ctx.label_smoothing
        grad = np.exp(logp)
        if s:
            grad -= s / grad.shape[1]
        grad[np.arange(len(target)), target] -= 1.0 - s
        if ctx.reduction in ("none", "sum"):
            scale = (g * keep)[:, None]
        else:
            scale = (g * keep / max(ctx.count, 1))[:, None]
        grad *= scale.astype(grad.dtype, copy=False)
        return grad, None


def cross_entropy(logits, target, ignore_index: int = -100, label_smoothing: float = 0.0,
                  reduction: str = "mean") -> Tensor:
    """Cross-entropy between logits (N, C) and integer class targets (N,), as F.cross_entropy.

    For a sequence model, flatten first: cross_entropy(logits.reshape(-1, V), targets.reshape(-1)).
    """
    logits = as_tensor(logits)
    target = np.asarray(unwrap(target))
    if logits.ndim != 2:
        raise ValueError(
            f"cross_entropy expects logits of shape (N, C), got {logits.shape}; "
            "flatten a sequence first: logits.reshape(-1, C) and targets.reshape(-1)"
        )
    if target.shape != (logits.shape[0],):
        raise ValueError(f"cross_entropy: target shape {target.shape} does not match logits {logits.shape}: "
                         f"expected ({logits.shape[0]},)")
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"cross_entropy: targets must be integer class ids, got dtype {target.dtype}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    classes = logits.shape[1]
    bad = (target != ignore_index) & ((target < 0) | (target >= classes))
    if bad.any():
        value = int(target[bad][0])
        raise IndexError(f"cross_entropy: target {value} is out of range for {classes} classes "
                         f"(valid: 0..{classes - 1}, or ignore_index={ignore_index})")
    return CrossEntropy.apply(logits, target, ignore_index=ignore_index,
                              label_smoothing=float(label_smoothing), reduction=reduction)
