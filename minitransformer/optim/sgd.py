"""Stochastic gradient descent, with optional momentum and Nesterov momentum (PyTorch's form).

    d = g + weight_decay * p
    with momentum m:  b = m * b + d  (b = d at the first step);  d = d + m * b (Nesterov) or d = b
    p = p - lr * d

Fine-tuning from a pretrained minimum is where plain SGD "just works" (CS224n): the weights start
close to a good solution, so small, simple steps suffice.
"""

from __future__ import annotations

from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        if group["nesterov"] and group["momentum"] <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")

    def update(self, p, grad, group, state):
        d = grad + group["weight_decay"] * p.data if group["weight_decay"] else grad
        momentum = group["momentum"]
        if momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = d.copy()
            else:
                buffer = state["momentum_buffer"]
                buffer *= momentum
                buffer += d
            buffer = state["momentum_buffer"]
            d = d + momentum * buffer if group["nesterov"] else buffer
        p.data -= group["lr"] * d
