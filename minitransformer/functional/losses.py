"""cross_entropy: the loss of every pretraining objective here, -log p(correct class); and nll_loss.

    loss = mean over kept rows of  -sum_c q_c log softmax(x)_c,
    q = (1 - s) onehot(target) + s / C      (label smoothing s; s = 0 is plain cross-entropy)

Rows whose target is `ignore_index` (-100: padding, unmasked positions) count for nothing.
`cross_entropy_reference` is that formula with Tensor primitives; `CrossEntropy` the fused kernel.
As in PyTorch, the target may also be a distribution q itself (float, the shape of the logits),
logits may be (N, C, d1, ...) with the classes on dim 1 (and targets (N, d1, ...)), and
nll_loss is the same loss given log-probabilities instead of logits.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, as_tensor, unwrap
from .softmax import log_softmax, log_softmax_reference, stable_softmax


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


def _is_distribution(target, scores) -> bool:
    """A float target shaped like the scores is a distribution over the classes (PyTorch's rule)."""
    return np.issubdtype(target.dtype, np.floating) and tuple(target.shape) == tuple(scores.shape)


def _classes_last(scores: Tensor, target, what: str):
    """(N*d, C) scores and their targets, from PyTorch's layouts: (N, C) or (C,) with the classes
    last, or (N, C, d1, ...) with the classes on dim 1 (targets (N, d1, ...), or the scores' shape
    for class probabilities); plus the shape a reduction="none" result takes."""
    target = target if isinstance(target, Tensor) else np.asarray(target)
    if _is_distribution(target, scores):
        target = as_tensor(target)  # a Tensor target keeps its gradient
        if scores.ndim > 2:
            target = target.permute(0, *range(2, scores.ndim), 1)
        target = target.reshape(-1, scores.shape[-1] if scores.ndim < 3 else scores.shape[1])
    else:
        target = np.asarray(unwrap(target))
    if scores.ndim == 1:
        return scores.reshape(1, -1), target.reshape(-1) if isinstance(target, np.ndarray) else target, ()
    if scores.ndim == 2:
        return scores, target, scores.shape[:1]
    if scores.ndim == 0:
        raise ValueError(f"{what} expects scores of shape (N, C), (C,) or (N, C, d1, ...), got a 0-d tensor")
    per_position = (scores.shape[0], *scores.shape[2:])
    if isinstance(target, np.ndarray):
        if target.shape != per_position:
            raise ValueError(
                f"{what}: scores {scores.shape} are read as (N, C, d1, ...), the classes on dim 1, so the target "
                f"should have shape {per_position}, got {target.shape}. With the classes last (a sequence "
                "model's (B, T, V) logits), reshape first: logits.reshape(-1, V) and targets.reshape(-1)")
        target = target.reshape(-1)
    return scores.permute(0, *range(2, scores.ndim), 1).reshape(-1, scores.shape[1]), target, per_position


def _check_reduction(reduction: str, what: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{what}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_class_ids(target: np.ndarray, classes: int, ignore_index: int, what: str) -> None:
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"{what}: targets must be integer class ids (or class probabilities shaped like the "
                        f"scores), got dtype {target.dtype}")
    bad = (target != ignore_index) & ((target < 0) | (target >= classes))
    if bad.any():
        value = int(target[bad][0])
        raise IndexError(f"{what}: target {value} is out of range for {classes} classes "
                         f"(valid: 0..{classes - 1}, or ignore_index={ignore_index})")


def cross_entropy(logits, target, ignore_index: int = -100, label_smoothing: float = 0.0,
                  reduction: str = "mean") -> Tensor:
    """Cross-entropy between logits and class targets, as F.cross_entropy.

    logits (N, C) with integer targets (N,) (the fused kernel), or class probabilities (N, C); also
    (C,) and (N, C, d1, ...) as in PyTorch.  For a sequence model with the classes last, flatten
    first: cross_entropy(logits.reshape(-1, V), targets.reshape(-1)).
    """
    logits = as_tensor(logits)
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    rows, row_target, shape = _classes_last(logits, target, "cross_entropy")
    if isinstance(row_target, Tensor):
        loss = _soft_target_loss(rows, row_target, float(label_smoothing), reduction)
    else:
        if row_target.shape != (rows.shape[0],):
            raise ValueError(f"cross_entropy: target shape {np.shape(unwrap(target))} does not match logits "
                             f"{logits.shape}: expected ({logits.shape[0]},)")
        _check_class_ids(row_target, rows.shape[1], ignore_index, "cross_entropy")
        loss = CrossEntropy.apply(rows, row_target, ignore_index=ignore_index,
                                  label_smoothing=float(label_smoothing), reduction=reduction)
    return loss.reshape(shape) if reduction == "none" else loss


def _soft_target_loss(rows: Tensor, q, label_smoothing: float, reduction: str) -> Tensor:
    """mean over rows of -sum_c q_c log softmax(x)_c, for a target distribution q (smoothed toward 1/C)."""
    if label_smoothing:
        q = q * (1.0 - label_smoothing) + label_smoothing / rows.shape[1]
    per_row = -(log_softmax(rows, 1) * q).sum(dim=1)
    if reduction == "none":
        return per_row
    return per_row.sum() if reduction == "sum" else per_row.mean()


def nll_loss(log_probs, target, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood -log_probs[target], averaged over rows not ignored, as F.nll_loss.

    cross_entropy(x, t) is nll_loss(log_softmax(x, 1), t); shapes as cross_entropy's.
    """
    log_probs = as_tensor(log_probs)
    _check_reduction(reduction, "nll_loss")
    rows, row_target, shape = _classes_last(log_probs, np.asarray(unwrap(target)), "nll_loss")
    _check_class_ids(row_target, rows.shape[1], ignore_index, "nll_loss")
    keep = row_target != ignore_index
    per_row = -rows[np.arange(len(row_target)), np.where(keep, row_target, 0)] * keep.astype(rows.dtype)
    if reduction == "none":
        return per_row.reshape(shape)
    return per_row.sum() if reduction == "sum" else per_row.sum() / int(keep.sum())
