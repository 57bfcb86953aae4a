"""nn.utils: clip_grad_norm_, as torch.nn.utils has it (optim re-exports it, where it used to live)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients together so their global L2 norm is at most max_norm; returns the norm before.

    One oversized batch can otherwise throw the weights far from where training was going.
    The gradients are scaled in place by max_norm / (norm + 1e-6) when that is below 1, as PyTorch.
    Unlike torch, the norm comes back as a Python float (torch: a 0-d tensor), ready to log.
    """
    if norm_type != 2.0:
        raise ValueError(f"clip_grad_norm_: only norm_type=2 is implemented, got {norm_type}")
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad.data for p in parameters if p.grad is not None]
    total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for g in grads:
            g *= scale
    return total
