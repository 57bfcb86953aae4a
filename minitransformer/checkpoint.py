"""Checkpoints: a model's weights, its optimizer's state and any metadata, in one safetensors file.

Why safetensors and not pickle?  Loading a pickle runs code from the file; loading this runs none.
The file opens in the `safetensors` package, and so in PyTorch and Hugging Face tools:

- model weights are stored under their own dotted names (`blocks.0.attn.q_proj.weight`);
- optimizer arrays (Adam's moments, momentum buffers) under `optimizer/state/<index>/<name>`;
- everything else is JSON in the header's string metadata: `minitransformer` (format version),
  `metadata` (the caller's keyword arguments: config, step, tokenizer, ...) and `optimizer`
  (its class, hyperparameters and scalar state such as Adam's step count).

The save is atomic (see safetensors.py): a crash mid-save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .files import parse_json
from .safetensors import CheckpointError, load_file, load_metadata, save_file

FORMAT_VERSION = "1"
_OPTIMIZER_PREFIX = "optimizer/state/"


@dataclass
class Checkpoint:
    """What `load` returns: the weights, the caller's metadata and the raw optimizer state."""

    path: Path
    weights: dict
    metadata: dict = field(default_factory=dict)
    optimizer_state: dict | None = None


def save(path, model, optimizer=None, **metadata) -> Path:
    """Write `model`'s weights (and `optimizer`'s state, and JSON-able `metadata`) to `path`."""
    path = Path(path)
    tensors = dict(model.state_dict())
    header = {"minitransformer": FORMAT_VERSION}
    try:
        header["metadata"] = json.dumps(metadata)
    except TypeError as error:
        raise TypeError(f"save: metadata must be JSON-serializable (numbers, strings, lists, dicts): {error}") from None
    if optimizer is not None:
        state = optimizer.state_dict()
        scalars = {}
        for index, entries in state["state"].items():
            for name, value in entries.items():
                if isinstance(value, np.ndarray):
                    tensors[f"{_OPTIMIZER_PREFIX}{index}/{name}"] = value
                else:
                    scalars.setdefault(str(index), {})[name] = value
        header["optimizer"] = json.dumps({"type": type(optimizer).__name__, "param_groups": state["param_groups"],
                                          "scalar_state": scalars})
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, path, metadata=header)
    return path


def non_finite_arrays(model, optimizer=None) -> list[str]:
    """The weights (and optimizer arrays, e.g. Adam's moments) holding NaN or inf.

    A training run checks this before it saves: a diverging update can leave the loss finite
    while the weights are not, and a checkpoint with NaN weights is no "last good" state.
    """
    names = [name for name, p in model.named_parameters() if not np.isfinite(p.data).all()]
    if optimizer is not None:
        names += [f"optimizer state {key!r}" for state in optimizer.state.values() for key, value in state.items()
                  if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.isfinite(value).all()]
    return names


def check_finite_weights(path, weights: dict) -> None:
    """A CheckpointError if a loaded weight holds NaN or inf (a diverged run saved by older code)."""
    bad = [name for name, array in weights.items() if array.dtype.kind == "f" and not np.isfinite(array).all()]
    if bad:
        raise CheckpointError(f"{path}: {len(bad)} weight(s) hold NaN or inf, e.g. {bad[0]!r}: the run that saved "
                              "it had diverged; use an earlier checkpoint or retrain with a lower --lr")


def _message(error: Exception) -> str:
    """An exception's own text (str() of a KeyError would wrap it in quotes)."""
    return str(error.args[0]) if error.args else str(error)


def load(path, model=None, optimizer=None, strict: bool = True) -> Checkpoint:
    """Read a checkpoint; if given, load the weights into `model` and the state into `optimizer`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    header = load_metadata(path)
    version = header.get("minitransformer")
    if version is not None and version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version!r} is not supported "
                              f"(this minitransformer reads version {FORMAT_VERSION})")
    tensors = load_file(path)
    weights = {k: v for k, v in tensors.items() if not k.startswith(_OPTIMIZER_PREFIX)}
    metadata = _json_object(header, "metadata", path)
    optimizer_state = _optimizer_state(_json_object(header, "optimizer", path), tensors, path)

    if optimizer is not None:  # check before changing anything, so a mismatch leaves both as they were
        if optimizer_state is None:
            raise CheckpointError(f"{path}: has no optimizer state (it was saved without optimizer=)")
        if optimizer_state["type"] != type(optimizer).__name__:
            raise CheckpointError(f"{path}: holds {optimizer_state['type']} state, not {type(optimizer).__name__}")
        _check_hyperparameters(optimizer_state["param_groups"], optimizer, path)
    if model is not None:
        try:
            model.load_state_dict(weights, strict=strict)
        except (KeyError, ValueError) as error:
            raise CheckpointError(f"{path}: does not fit this {type(model).__name__}: {_message(error)}") from None
    if optimizer is not None:
        try:
            optimizer.load_state_dict(optimizer_state)
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{path}: does not fit this {type(optimizer).__name__}: {_message(error)}") from None
    return Checkpoint(path, weights, metadata, optimizer_state)


def _json_object(header: dict, key: str, path: Path) -> dict | None:
    """The JSON object stored as text under `key` of the header ({} / None if the key is absent)."""
    if key not in header:
        return {} if key == "metadata" else None
    value = parse_json(header[key], CheckpointError, f"{path}: the checkpoint's {key} is not valid JSON")
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: the checkpoint's {key} must be a JSON object, got {type(value).__name__}")
    return value


def _optimizer_state(optimizer_header: dict | None, tensors: dict, path: Path) -> dict | None:
    """The optimizer's state_dict from the header's JSON and the `optimizer/state/<index>/<name>` arrays."""
    if optimizer_header is None:
        return None
    where = f"{path}: the checkpoint's optimizer state"
    kinds = {"type": str, "param_groups": list, "scalar_state": dict}
    for name, kind in kinds.items():
        if not isinstance(optimizer_header.get(name), kind):
            raise CheckpointError(f"{where} needs a JSON {kind.__name__} {name!r}; the file is damaged")
    groups = optimizer_header["param_groups"]
    if not all(isinstance(group, dict) and isinstance(group.get("params"), list) for group in groups):
        raise CheckpointError(f"{where}: every param group must be an object with a 'params' list")
    for group in groups:
        _check_numbers({k: v for k, v in group.items() if k != "params"}, f"{where}: a param group's")
    state = {}
    for index, values in optimizer_header["scalar_state"].items():
        if not isinstance(values, dict):
            raise CheckpointError(f"{where}: scalar_state[{index!r}] must be an object")
        _check_numbers(values, f"{where}: scalar_state[{index!r}]", counts=True)
        state.setdefault(_parameter_index(index, where), {}).update(values)
    for key, value in tensors.items():
        if key.startswith(_OPTIMIZER_PREFIX):
            index, _, name = key[len(_OPTIMIZER_PREFIX):].partition("/")
            if not name:
                raise CheckpointError(f"{where}: tensor {key!r} is not named {_OPTIMIZER_PREFIX}<index>/<name>")
            state.setdefault(_parameter_index(index, where), {})[name] = value
    for group in groups:  # JSON turns tuples into lists
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
    return {"type": optimizer_header["type"], "state": state, "param_groups": groups}


def _is_number(value, at_least=None) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and (at_least is None or value >= at_least))


def _check_numbers(values: dict, where: str, counts: bool = False) -> None:
    """Hyperparameters are finite numbers (or flags, or lists of numbers such as Adam's betas);
    scalar state (`counts`, e.g. Adam's step) numbers >= 0: a damaged value would otherwise fail
    deep inside an optimizer step."""
    for key, value in values.items():
        if counts:
            ok = _is_number(value, at_least=0)
        else:
            items = value if isinstance(value, list) else [value]
            ok = bool(items) and all(isinstance(v, bool) or _is_number(v) for v in items)
        if not ok:
            wanted = "a number >= 0" if counts else "a finite number"
            raise CheckpointError(f"{where} {key!r} must be {wanted}, got {value!r}")


def _check_hyperparameters(saved: list, optimizer, path: Path) -> None:
    """Each saved hyperparameter has the form of the optimizer's own (a number, a flag, a pair...)
    and passes the optimizer's own checks (Adam's betas in [0, 1), ...)."""
    def form(value):
        return ("list", len(value)) if isinstance(value, (list, tuple)) else type(value) is bool

    for saved_group, own_group in zip(saved, optimizer.param_groups):
        for key, value in saved_group.items():
            if key != "params" and key in own_group and form(value) != form(own_group[key]):
                raise CheckpointError(f"{path}: the optimizer's {key} is {value!r}, which does not fit this "
                                      f"optimizer's {own_group[key]!r}; the file is damaged")
        try:
            optimizer._check_hyperparameters({**own_group, **{k: v for k, v in saved_group.items() if k != "params"}})
        except (TypeError, ValueError) as error:
            raise CheckpointError(f"{path}: the optimizer state is damaged: {_message(error)}") from None


def _parameter_index(text: str, where: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise CheckpointError(f"{where}: parameter index {text!r} is not a number")
    return int(text)
