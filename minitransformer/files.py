"""Atomic writes: whoever reads the file sees the old version or the complete new one, never half.

``open(path, "w").write(...)`` first empties the file, so a crash, a Ctrl-C or a full disk
in the middle leaves a truncated file where a good checkpoint or tokenizer used to be.
Instead we write a temporary file next to ``path``, push it to the disk, and only then
rename it over ``path``. ``os.replace`` is atomic when both names are on the same file
system, which is why the temporary file lives in the same folder. On any error the
temporary file is deleted and ``path`` is left as it was.

Checkpoints (``safetensors.py``) and tokenizer files (``tokenizers/base.py``) are saved this way.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

__all__ = ["atomic_open", "atomic_write_bytes"]


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, text: bool = False):
    """Open a temporary file for writing that replaces ``path`` when the ``with`` block succeeds.

        with atomic_open("tokenizer.json", text=True) as file:
            json.dump(document, file)

    ``text=True`` gives a UTF-8 text file, otherwise a binary one.
    """
    path = Path(path)
    temp_path = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        # Mode "x" creates the file and refuses to overwrite one (the random name never clashes).
        with open(temp_path, "x" if text else "xb", encoding="utf-8" if text else None) as file:
            yield file
            file.flush()  # Python's buffer -> the operating system
            os.fsync(file.fileno())  # the operating system's cache -> the disk
        os.replace(temp_path, path)
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        temp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    with atomic_open(path) as file:
        file.write(data)
