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


class WarmupCosine:
    """Linear warmup to max_lr over `warmup` steps, then cosine decay to min_lr at `total` steps.

    lr(t) = max_lr * (t + 1) / warmup                                     for t < warmup
    lr(t) = min_lr + (max_lr - min_lr) * (1 + cos(pi * progress)) / 2     after (progress 0 -> 1)
    """

    def __init__(self, max_lr: float, total: int, warmup: int = 0, min_lr: float = 0.0):
        _check_schedule("WarmupCosine", max_lr, total, warmup, min_lr)
        self.max_lr, self.min_lr, self.total, self.warmup = max_lr, min_lr, total, warmup

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return self.max_lr * (step + 1) / self.warmup
        if step >= self.total:
            return self.min_lr
        progress = (step - self.warmup) / max(1, self.total - self.warmup)
        return self.min_lr + (self.max_lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


class WarmupLinear:
    """Linear warmup to max_lr, then linear decay to min_lr at `total` steps (BERT's schedule)."""

    def __init__(self, max_lr: float, total: int, warmup: int = 0, min_lr: float = 0.0):
        _check_schedule("WarmupLinear", max_lr, total, warmup, min_lr)
        self.max_lr, self.min_lr, self.total, self.warmup = max_lr, min_lr, total, warmup

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return self.max_lr * (step + 1) / self.warmup
        if step >= self.total:
            return self.min_lr
        remaining = (self.total - step) / max(1, self.total - self.warmup)
        return self.min_lr + (self.max_lr - self.min_lr) * remaining


def set_lr(optimizer, lr: float) -> None:
    """Give every parameter group of `optimizer` the learning rate `lr`."""
    for group in optimizer.param_groups:
        group["lr"] = lr
