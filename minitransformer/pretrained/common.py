"""What every pretrained-model reader and writer shares: its two errors and a few small helpers.

A pretrained model arrives as files somebody else wrote, so every problem is reported as an error
that names the file and the entry at fault, and says what to do.
"""

from __future__ import annotations

from pathlib import Path

from ..files import parse_json


class PretrainedFormatError(ValueError):
    """A pretrained folder's config or weights do not fit our model; the message names file and entry."""


class PretrainedNotInstalledError(FileNotFoundError):
    """A named pretrained model's files are not on this machine; the message gives the pip command."""


def read_json_object(path: Path) -> dict:
    """The JSON object in `path` (a config.json), or a PretrainedFormatError naming the file."""
    value = parse_json(path.read_bytes(), PretrainedFormatError, f"{path} is not valid UTF-8 JSON")
    if not isinstance(value, dict):
        raise PretrainedFormatError(f"{path} must hold a JSON object, got {type(value).__name__}")
    return value


def first_few(names: list[str], limit: int = 10) -> str:
    """At most `limit` names for an error message, and how many more there are."""
    return ", ".join(names[:limit]) + (f" ... ({len(names) - limit} more)" if len(names) > limit else "")


def pickle_hint(folder: Path) -> str:
    """What to say when a folder has the pickled pytorch_model.bin instead of model.safetensors."""
    if not (folder / "pytorch_model.bin").is_file():
        return ""
    return (" It has pytorch_model.bin, a pickle file, which we never load (unpickling can run code);"
            " convert it to model.safetensors with the `safetensors` package first.")


def check_model_type(hf: dict, where, model_type: str, architecture: str, label: str, reader: str) -> None:
    """config.json must say `model_type` (or, without one, list an architecture whose name starts so)."""
    found = hf.get("model_type")
    architectures = hf.get("architectures") or []
    if found is not None and found != model_type:
        raise PretrainedFormatError(f"{where}: model_type is {found!r}, not {model_type!r}; {reader} reads {label} "
                                    f"checkpoints only")
    if found is None and not any(str(name).startswith(architecture) for name in architectures):
        raise PretrainedFormatError(f"{where}: neither model_type {model_type!r} nor a {architecture}* architecture "
                                    f"(architectures={architectures!r}); is this a {label} checkpoint?")
