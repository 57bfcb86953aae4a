"""How the models start: the initialization of GPT-2 and BERT, shared by all three models.

Weights ~ N(0, 0.02), biases 0, norm gains 1 (Radford et al. 2019; Devlin et al. 2019).  Gains are
found by their role, not by their layer's class: every module lists its gains in `gains()` (a
norm's weight), so a LayerNorm, an RMSNorm or any future norm starts at 1.

GPT-2 also scales the two projections that add into the residual stream (attention's out_proj
and the MLP's fc2) by 1/sqrt(2 n_layers): a deep stack adds 2 n_layers such terms, so their sum
keeps a variance that does not grow with depth.
"""

from __future__ import annotations

import math

from ..nn.layers import normal

STD = 0.02


def init_weights(model, residual_layers: int | None = None, std: float = STD) -> None:
    """Initialize every parameter of `model` in place; residual_layers=None skips the depth scaling."""
    gains = {id(p) for module in model.modules() for p in module.gains()}
    residual_std = std / math.sqrt(2 * residual_layers) if residual_layers else std
    for name, p in model.named_parameters():
        if id(p) in gains:
            p.data[...] = 1.0
        elif name.endswith("bias"):
            p.data[...] = 0.0
        elif name.endswith(("out_proj.weight", "fc2.weight")):
            p.data[...] = normal(p.shape, residual_std)
        else:
            p.data[...] = normal(p.shape, std)


def config_from_preset(presets: dict, preset: str, model_name: str, overrides: dict):
    """A copy of presets[preset] with some fields changed; a clear error for an unknown name."""
    from dataclasses import fields, replace

    if preset not in presets:
        raise ValueError(f"unknown {model_name} preset {preset!r}; choose one of {sorted(presets)}")
    known = {f.name for f in fields(presets[preset])}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"{model_name} config has no field(s) {unknown}; known fields: {sorted(known)}")
    return replace(presets[preset], **overrides)
