"""Inside Adam: how far each parameter actually moves per step, compared with its size.

Adam's step for one parameter is

    update = lr * m_hat / (sqrt(v_hat) + eps),   m_hat = m / (1 - b1^t),   v_hat = v / (1 - b2^t),

so each element moves by about lr while its gradient points the same way step after step, and by
less where the gradient's sign flips (m averages out) -- whatever the gradient's scale.  Whether
that is a lot depends on the weight: the ratio ||update|| / ||w|| says what fraction of a weight
matrix one step rewrites.  A rule of thumb from practice (Karpathy's "update:data ratio") is about
1e-3 once training has settled: far above means the learning rate is too high and training is
noisy or diverging, far below means the parameter is barely learning.  In the first steps the
ratio is large for small-initialized weights; that alone is normal.

`adam_stats(optimizer, model)` recomputes the last step from the optimizer's state (exp_avg,
exp_avg_sq, step) for every parameter.  AdamW's decoupled weight decay is left out: it shrinks w
by the known fraction lr * weight_decay per step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

HIGH, LOW = 1e-2, 1e-4  # update / weight ratios worth a second look


@dataclass
class ParameterStepStats:
    name: str
    shape: tuple
    step: int  # t, Adam's step count for this parameter
    mean_step: float  # mean over elements of |update| = lr |m_hat| / (sqrt(v_hat) + eps)
    update_ratio: float  # ||update|| / ||w||, w the current weights (inf if w = 0)

    @property
    def note(self) -> str:
        if self.update_ratio > HIGH:
            return "high"
        return "low" if self.update_ratio < LOW else ""


class AdamStats(list):
    """One ParameterStepStats per parameter that Adam has stepped; `table()` to read them."""

    def table(self) -> str:
        width = max([9] + [len(row.name) for row in self]) + 2
        lines = [f"{'parameter':<{width}}{'shape':<16}{'step':>6}{'mean |update|':>15}{'update/weight':>15}  note"]
        for row in self:
            lines.append(f"{row.name:<{width}}{str(row.shape):<16}{row.step:>6}{row.mean_step:>15.2e}"
                         f"{row.update_ratio:>15.2e}  {row.note}")
        lines.append(f"note: ratio > {HIGH:g} high, < {LOW:g} low (about 1e-3 is healthy once training settles)")
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def adam_update(p, state: dict, group: dict) -> np.ndarray:
    """The adaptive part of the last Adam step of p, recomputed from its state."""
    (b1, b2), t = group["betas"], state["step"]
    m_hat = state["exp_avg"] / (1.0 - b1 ** t)
    v_hat = state["exp_avg_sq"] / (1.0 - b2 ** t)
    return group["lr"] * m_hat / (np.sqrt(v_hat) + group["eps"])


def adam_stats(optimizer, model) -> AdamStats:
    """Per parameter of `model` that `optimizer` (Adam or AdamW) has stepped: step size and ratio."""
    group_of = {id(p): group for group in optimizer.param_groups for p in group["params"]}
    stats = AdamStats()
    for name, p in model.named_parameters():
        state = optimizer.state.get(id(p))
        if id(p) not in group_of or not state:
            continue  # not optimized by this optimizer, or no step yet (it never had a gradient)
        if not {"exp_avg", "exp_avg_sq", "step"} <= set(state):
            raise TypeError(f"adam_stats needs Adam's state (exp_avg, exp_avg_sq, step); "
                            f"{type(optimizer).__name__} keeps {sorted(state)} for {name}. Use it with Adam or AdamW.")
        update = adam_update(p, state, group_of[id(p)])
        weight_norm = float(np.linalg.norm(p.data))
        update_norm = float(np.linalg.norm(update))
        ratio = update_norm / weight_norm if weight_norm else math.inf
        stats.append(ParameterStepStats(name, p.shape, int(state["step"]), float(np.abs(update).mean()), ratio))
    if not stats:
        raise ValueError("adam_stats: no parameter of the model has optimizer state yet; call it after "
                         "optimizer.step(), with the optimizer built from this model's parameters")
    return stats
