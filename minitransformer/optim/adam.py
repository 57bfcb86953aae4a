"""Adam and AdamW: per-parameter step sizes from running averages of the gradient and its square.

    m = b1 m + (1 - b1) g              (momentum: the average gradient)
    v = b2 v + (1 - b2) g^2            (the average squared gradient: its scale)
    p = p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

The (1 - b^t) factors undo the bias of starting m and v at zero (Kingma & Ba, 2015).  Adam adds
weight decay to the gradient (L2 regularization), so it gets rescaled like any gradient; AdamW
(Loshchilov & Hutter, 2019) decays the weights directly, p = p - lr * wd * p, decoupled from the
adaptive step, which is what GPT and BERT training use.
"""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        b1, b2 = group["betas"]
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"Adam betas must be in [0, 1), got {group['betas']}")

    def update(self, p, grad, group, state):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if wd and self.decoupled_weight_decay:
            p.data *= 1.0 - lr * wd
        elif wd:
            grad = grad + wd * p.data
        if "step" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        m *= b1
        m += (1.0 - b1) * grad
        v *= b2
        v += (1.0 - b2) * (grad * grad)
        step_size = lr / (1.0 - b1 ** t)
        denom = np.sqrt(v)
        denom /= math.sqrt(1.0 - b2 ** t)
        denom += eps
        p.data -= step_size * (m / denom)


class AdamW(Adam):
    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
