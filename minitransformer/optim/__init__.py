"""Optimizers and learning-rate schedules, with torch.optim's names and update rules.

optimizer.py   Optimizer base (groups, state, state_dict), weight_decay_groups; clip_grad_norm_ (from nn.utils)
sgd.py         SGD with momentum / Nesterov
adam.py        Adam, AdamW (and adam_reference_step, the update as the papers write it)
schedules.py   Constant, WarmupCosine, WarmupLinear, set_lr
"""

from .adam import Adam, AdamW, adam_reference_step
from .optimizer import Optimizer, clip_grad_norm_, weight_decay_groups
from .schedules import Constant, WarmupCosine, WarmupLinear, set_lr
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "adam_reference_step", "clip_grad_norm_", "weight_decay_groups",
           "Constant", "WarmupCosine", "WarmupLinear", "set_lr"]
