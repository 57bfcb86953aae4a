"""The Optimizer base class: parameter groups, per-parameter state, and saving both to resume.

An optimizer turns gradients into parameter updates.  Parameters are held in *groups*, each with its
own hyperparameters (e.g. weight decay for weight matrices but not for biases and layer norms, as
GPT-2, minGPT and nanoGPT do).  Each parameter may carry state (momentum, Adam's moments, a step
count); `state_dict()` gives all of it as plain arrays and numbers, so a run can stop and resume
with bit-identical results.
"""

from __future__ import annotations

import numpy as np

from ..nn.utils import clip_grad_norm_  # noqa: F401  (torch keeps it in nn.utils; it used to live here)
from ..tensor import no_grad


class Optimizer:
    def __init__(self, params, defaults: dict):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = dict(defaults)
        self.param_groups = []
        seen = set()
        for group in groups:
            unknown = set(group) - set(defaults) - {"params"}
            if unknown:
                raise ValueError(f"{type(self).__name__}: unknown hyperparameter(s) {sorted(unknown)} in a group; "
                                 f"known: {sorted(defaults)}")
            full = {**defaults, **group, "params": list(group["params"])}
            for p in full["params"]:
                if not getattr(p, "requires_grad", False):
                    raise ValueError(f"{type(self).__name__}: a parameter of shape {p.shape} does not require grad")
                if id(p) in seen:
                    raise ValueError("a parameter appears in more than one group")
                seen.add(id(p))
            self._check_hyperparameters(full)
            self.param_groups.append(full)
        self.state = {}  # id(parameter) -> dict of state arrays and numbers

    def _check_hyperparameters(self, group: dict) -> None:
        if group["lr"] < 0:
            raise ValueError(f"learning rate must be >= 0, got {group['lr']}")

    def _all_params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (None, the default, as PyTorch), or with set_to_none=False zero them in place."""
        for p in self._all_params():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @no_grad()
    def step(self) -> None:
        """Apply one update to every parameter that has a gradient (its array: p.grad.data)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, p.grad.data, group, self.state.setdefault(id(p), {}))

    def update(self, p, grad: np.ndarray, group: dict, state: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    # ---- saving and resuming ----
    def state_dict(self) -> dict:
        """{'state': {index: {name: value}}, 'param_groups': [{hyperparameters, 'params': [index]}]}.

        Parameters are numbered in group order, as PyTorch does, so the dict holds no objects.
        """
        index_of = {id(p): i for i, p in enumerate(self._all_params())}
        state = {index_of[key]: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                 for key, s in self.state.items() if key in index_of}
        groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": [index_of[id(p)] for p in g["params"]]}
                  for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)):
            raise ValueError("optimizer state_dict does not match this optimizer's parameter groups "
                             f"(saved sizes {[len(g['params']) for g in groups]}, "
                             f"here {[len(g['params']) for g in self.param_groups]})")
        for saved, group in zip(groups, self.param_groups):
            saved_names, own_names = set(saved) - {"params"}, set(group) - {"params"}
            if saved_names != own_names:
                raise ValueError(f"optimizer state_dict has hyperparameters {sorted(saved_names)}, but this "
                                 f"{type(self).__name__} has {sorted(own_names)}: was it saved from another optimizer?")
        params = self._all_params()
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {}
        for index, s in state_dict["state"].items():
            p = params[int(index)]
            restored = {}
            for k, v in s.items():
                if isinstance(v, np.ndarray):
                    if v.shape != p.shape:
                        raise ValueError(f"optimizer state '{k}' of parameter {index} has shape {v.shape}, "
                                         f"but the parameter has shape {p.shape}")
                    v = v.astype(p.dtype, copy=True)
                restored[k] = v
            self.state[id(p)] = restored


def weight_decay_groups(model, weight_decay: float) -> list:
    """Two groups, as GPT-2/nanoGPT: decay on matrices (ndim >= 2), none on biases and norm gains.

    Decaying a bias or a LayerNorm gain toward zero has no regularizing meaning; decaying the large
    weight matrices does.
    """
    params = model.parameters()
    return [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
