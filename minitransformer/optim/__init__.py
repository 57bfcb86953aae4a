"""Optimizers and learning-rate schedules, with torch.optim's names and update rules.

optimizer.py   Optimizer base (groups, state, state_dict), weight_decay_groups, clip_grad_norm_
sgd.py         SGD with momentum / Nesterov
adam.py        Adam, AdamW
schedules.py   Constant, WarmupCosine, WarmupLinear, set_lr
"""

from .adam import Adam, AdamW
from .optimizer import Optimizer, clip_grad_norm_, weight_decay_groups
from .schedules import Constant, WarmupCosine, WarmupLinear, set_lr
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm_", "weight_decay_groups",
           "Constant", "WarmupCosine", "WarmupLinear", "set_lr"]
