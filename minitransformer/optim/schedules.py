"""Learning-rate schedules: functions from the step number to a learning rate.

Transformers are trained with a *warmup* (the learning rate rises linearly from ~0 for the first
steps, while Adam's statistics are still noisy) followed by a *decay* (cosine or linear) so the
last steps settle into a minimum instead of bouncing around it.
"""

from __future__ import annotations

import math


class Constant:
    def __init__(self, lr: float):
        self.lr = lr

    def __call__(self, step: int) -> float:
        return self.lr


def _check_schedule(name: str, max_lr: float, total: int, warmup: int, min_lr: float) -> None:
    """The arguments every warmup-then-decay schedule shares must make sense together."""
    if total <= 0 or warmup < 0 or warmup > total:
        raise ValueError(f"{name} needs 0 <= warmup <= total and total > 0, got warmup={warmup}, total={total}")
    if not 0.0 <= min_lr <= max_lr:
        raise ValueError(f"{name} needs 0 <= min_lr <= max_lr, got min_lr={min_lr}, max_lr={max_lr}")


class _WarmupThenDecay:
    """Linear warmup to max_lr over `warmup` steps, then a decay to min_lr at `total` steps.

    lr(t) = max_lr * (t + 1) / warmup                             for t < warmup
    lr(t) = min_lr + (max_lr - min_lr) * shape(progress)          after; progress goes 0 -> 1
    Subclasses give `shape`, which falls from 1 to 0.
    """

    def __init__(self, max_lr: float, total: int, warmup: int = 0, min_lr: float = 0.0):
        _check_schedule(type(self).__name__, max_lr, total, warmup, min_lr)
        self.max_lr, self.min_lr, self.total, self.warmup = max_lr, min_lr, total, warmup

    def shape(self, progress: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return self.max_lr * (step + 1) / self.warmup
        if step >= self.total:
            return self.min_lr
        progress = (step - self.warmup) / max(1, self.total - self.warmup)
        return self.min_lr + (self.max_lr - self.min_lr) * self.shape(progress)


class WarmupCosine(_WarmupThenDecay):
    """Warmup, then cosine decay: shape(p) = (1 + cos(pi p)) / 2 (GPT-2, nanoGPT)."""

    def shape(self, progress: float) -> float:
        return 0.5 * (1.0 + math.cos(math.pi * progress))


class WarmupLinear(_WarmupThenDecay):
    """Warmup, then linear decay: shape(p) = 1 - p (BERT's schedule)."""

    def shape(self, progress: float) -> float:
        return 1.0 - progress


def set_lr(optimizer, lr: float) -> None:
    """Give every parameter group of `optimizer` the learning rate `lr`."""
    for group in optimizer.param_groups:
        group["lr"] = lr
