"""Files: atomic writes, and the checks that make a bad path one clear error before work starts.

Atomic writes: whoever reads the file sees the old version or the complete new one, never half.
``open(path, "w").write(...)`` first empties the file, so a crash, a Ctrl-C or a full disk in
the middle leaves a truncated file where a good checkpoint or tokenizer used to be.  Instead we
write a temporary file next to ``path``, push it to the disk (fsync), rename it over ``path``,
and fsync the folder: the rename is an entry *in the folder*, which a power loss can still
undo until the folder itself reaches the disk.  ``os.replace`` is atomic when both names are on
the same file system, which is why the temporary file lives in the same folder.  On any error
the temporary file is deleted, ``path`` is left as it was, and the error (``SaveError``) says so.

A process killed mid-save (SIGKILL, power loss) cannot delete its temporary file.  The name
holds the writer's process id and a token of that process, so the next save of the same file
can tell the leftovers of dead writers from a live writer's, and deletes them.

Checkpoints (``safetensors.py``) and tokenizer files (``tokenizers/base.py``) are saved this way.
Before long work the commands call ``prepare_output_folder`` / ``prepare_output_file``, so an
unwritable ``--out`` fails at once, not after an hour of training; readers call
``check_input_file`` (a folder, a device or a pipe is refused) and ``parse_json``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import tempfile
import uuid
from pathlib import Path

__all__ = ["SaveError", "atomic_open", "atomic_write_bytes", "remove_stale_temp_files", "parse_json",
           "check_input_file", "prepare_output_folder", "prepare_output_file"]

_PROCESS_TOKEN = uuid.uuid4().hex[:16]  # tells this process from an earlier one that had the same id


class SaveError(OSError):
    """A file could not be written (disk full, file too large, no permission); the message says why."""


_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EFBIG: "the file would exceed the file-size limit (ulimit -f)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENOENT: "its folder does not exist",
}
if hasattr(errno, "EDQUOT"):  # not on every platform
    _REASONS[errno.EDQUOT] = "the disk quota is used up"


def os_error_reason(error: OSError) -> str:
    """A few plain words for an OSError ("the disk is full"), without the [Errno 28] prefix."""
    return _REASONS.get(error.errno) or error.strerror or str(error)


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{_PROCESS_TOKEN}.{uuid.uuid4().hex[:12]}.tmp")


def _writer_is_gone(pid: int, token: str | None) -> bool:
    if pid == os.getpid():
        return token != _PROCESS_TOKEN  # an earlier process with our id: it is gone, we are here
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists, but belongs to another user
        return False
    return False


def remove_stale_temp_files(path) -> list[Path]:
    """Delete the temporary files of ``path`` left by writers that were killed; returns them.

    Names without a process id come from older versions of this code (before the id was added)
    and are removed too.
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:(\d+)\.([0-9a-f]{{16}})\.[0-9a-f]{{12}}|[0-9a-f]{{32}})\.tmp")
    removed = []
    with contextlib.suppress(OSError):  # best effort: a folder we cannot list holds nothing we made
        for entry in os.scandir(path.parent if str(path.parent) else "."):
            match = pattern.fullmatch(entry.name)
            if match and (match[1] is None or _writer_is_gone(int(match[1]), match[2])):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _fsync_folder(folder: Path) -> None:
    """Push the folder's entries (our rename) to the disk; where a folder cannot be opened, skip."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):  # some file systems refuse to fsync a folder; the file is saved
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, text: bool = False):
    """Open a temporary file for writing that replaces ``path`` when the ``with`` block succeeds.

        with atomic_open("tokenizer.json", text=True) as file:
            json.dump(document, file)

    ``text=True`` gives a UTF-8 text file, otherwise a binary one.  The file gets the usual
    permissions (0666 minus the umask), as ``open`` would give it.
    """
    path = Path(path)
    existed = path.exists()
    remove_stale_temp_files(path)
    temp_path = _temp_name(path)
    try:
        # Mode "x" creates the file and refuses to overwrite one (the random name never clashes).
        with open(temp_path, "x" if text else "xb", encoding="utf-8" if text else None) as file:
            yield file
            file.flush()  # Python's buffer -> the operating system
            os.fsync(file.fileno())  # the operating system's cache -> the disk
        os.replace(temp_path, path)
    except BaseException as error:  # KeyboardInterrupt too: never leave the temporary file behind
        with contextlib.suppress(OSError):
            temp_path.unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, SaveError):
            kept = "the previous file is unchanged" if existed else "nothing was written"
            raise SaveError(f"could not save {path}: {os_error_reason(error)}; {kept}") from error
        raise
    _fsync_folder(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    with atomic_open(path) as file:
        file.write(data)


def parse_json(data: str | bytes, error: type[Exception], message: str, **options):
    """``json.loads(data)`` (bytes must be UTF-8), or ``error(f"{message} ({why})")``.

    Besides broken syntax, a file can hold JSON that Python refuses to read: nesting so deep that
    the parser runs out of stack (RecursionError) or an integer of thousands of digits
    (ValueError); both become the same one-line error.
    """
    try:
        return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data, **options)
    except RecursionError:
        raise error(f"{message} (it is nested too deeply to read)") from None
    except ValueError as problem:  # JSONDecodeError, UnicodeDecodeError, a too-long integer, a hook's error
        raise error(f"{message} ({problem})") from None


def check_input_file(path, what: str, error: type[Exception] = ValueError) -> Path:
    """``path`` if it is a regular file; else ``error`` naming what it is instead.

    A folder fails with a confusing message, and a device or a pipe may never end (/dev/zero).
    """
    path = Path(path)
    if not path.exists():
        raise error(f"{what} not found: {path}")
    if path.is_dir():
        raise error(f"{what} {path} is a folder, not a file; give the file itself")
    if not path.is_file():
        raise error(f"{what} {path} is not a regular file (a device or a pipe?); give a file")
    return path


def prepare_output_folder(folder, what: str) -> Path:
    """Create ``folder`` if needed and check that a file can be written in it, before any work."""
    folder = Path(folder)
    for part in (folder, *folder.parents):
        if part.exists():
            if not part.is_dir():
                raise SaveError(f"{what} {folder}: {part} is a file, not a folder; choose another {what}")
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as problem:
        raise SaveError(f"{what} {folder}: cannot write there ({os_error_reason(problem)}); "
                        f"choose another {what}") from None
    return folder


def prepare_output_file(path, what: str) -> Path:
    """Check that ``path`` can be written (not a folder, in a writable folder) before any work."""
    path = Path(path)
    if path.is_dir():
        raise SaveError(f"{what} {path} is a folder; give a file name, e.g. {path / 'name'}")
    prepare_output_folder(path.parent, what)
    return path
