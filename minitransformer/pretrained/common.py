"""What every pretrained-model reader and writer shares: its two errors and a few small helpers.

A pretrained model arrives as files somebody else wrote, so every problem is reported as an error
that names the file and the entry at fault, and says what to do.
"""

from __future__ import annotations

import json
from pathlib import Path


class PretrainedFormatError(ValueError):
    """A pretrained folder's config or weights do not fit our model; the message names file and entry."""


class PretrainedNotInstalledError(FileNotFoundError):
    """A named pretrained model's files are not on this machine; the message gives the pip command."""


def read_json_object(path: Path) -> dict:
    """The JSON object in `path` (a config.json), or a PretrainedFormatError naming the file."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PretrainedFormatError(f"{path} is not valid UTF-8 JSON ({error})") from None
    if not isinstance(value, dict):
        raise PretrainedFormatError(f"{path} must hold a JSON object, got {type(value).__name__}")
    return value


def first_few(names: list[str], limit: int = 10) -> str:
    """At most `limit` names for an error message, and how many more there are."""
    return ", ".join(names[:limit]) + (f" ... ({len(names) - limit} more)" if len(names) > limit else "")
