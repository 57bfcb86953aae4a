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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

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
    try:
        metadata = json.loads(header.get("metadata", "{}"))
        optimizer_header = json.loads(header["optimizer"]) if "optimizer" in header else None
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: the checkpoint's metadata is not valid JSON ({error})") from None

    optimizer_state = None
    if optimizer_header is not None:
        state = {int(i): dict(s) for i, s in optimizer_header["scalar_state"].items()}
        for key, value in tensors.items():
            if key.startswith(_OPTIMIZER_PREFIX):
                index, name = key[len(_OPTIMIZER_PREFIX):].split("/", 1)
                state.setdefault(int(index), {})[name] = value
        groups = optimizer_header["param_groups"]
        for group in groups:  # JSON turns tuples into lists
            if "betas" in group:
                group["betas"] = tuple(group["betas"])
        optimizer_state = {"type": optimizer_header["type"], "state": state, "param_groups": groups}

    if optimizer is not None:  # check before changing anything, so a mismatch leaves both as they were
        if optimizer_state is None:
            raise CheckpointError(f"{path}: has no optimizer state (it was saved without optimizer=)")
        if optimizer_state["type"] != type(optimizer).__name__:
            raise CheckpointError(f"{path}: holds {optimizer_state['type']} state, not {type(optimizer).__name__}")
    if model is not None:
        try:
            model.load_state_dict(weights, strict=strict)
        except (KeyError, ValueError) as error:
            raise CheckpointError(f"{path}: does not fit this {type(model).__name__}: {_message(error)}") from None
    if optimizer is not None:
        try:
            optimizer.load_state_dict(optimizer_state)
        except ValueError as error:
            raise CheckpointError(f"{path}: does not fit this {type(optimizer).__name__}: {_message(error)}") from None
    return Checkpoint(path, weights, metadata, optimizer_state)
