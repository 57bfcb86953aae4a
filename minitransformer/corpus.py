"""Where training text comes from: the built-in corpus, or the user's own files.

The built-in corpus is the English reference text that ships inside every CPython: the help
topics behind `help("assert")`, `help("for")`, ... in the module `pydoc_data.topics` (about 465,000
characters of prose and code).  So the main job needs no download.  Users point `--corpus` at a
UTF-8 text file or a folder of them instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .files import check_input_file


class CorpusError(ValueError):
    """The corpus cannot be used; the message names the file and what to do."""


def builtin_corpus() -> str:
    """CPython's help topics, in a fixed order, separated by blank lines."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[name].strip() for name in sorted(topics)) + "\n"


def _hidden(relative: Path) -> bool:
    """Whether a file inside the corpus folder is hidden (.git/..., .DS_Store); only the part of the
    path inside the folder counts, so ../corpus or .data/corpus are folders like any other."""
    return any(part.startswith(".") for part in relative.parts)


def _read_text_file(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data:
        raise CorpusError(f"{path} looks like a binary file (it contains NUL bytes); give a UTF-8 text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(f"{path} is not UTF-8 text (byte {error.start}: {error.reason}); "
                          "convert it to UTF-8 first") from None


def read_corpus(path=None) -> str:
    """The text of `path` (a file, or every file in a folder, sorted), or the built-in corpus if None."""
    if path is None:
        return builtin_corpus()
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"corpus not found: {path}")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path)))
        if not files:
            raise CorpusError(f"corpus folder {path} has no files (hidden ones, named .*, are skipped)")
        text = "\n\n".join(_read_text_file(p) for p in files)
    else:
        text = _read_text_file(check_input_file(path, "corpus", CorpusError))
    if not text.strip():
        raise CorpusError(f"corpus {path} is empty")
    return text


def split_train_val(ids: np.ndarray, val_fraction: float = 0.1) -> tuple:
    """The first (1 - val_fraction) of the token stream for training, the rest for validation.

    A contiguous split (not shuffled tokens) keeps validation text unseen as a whole, so the
    validation loss measures generalization to new passages.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    cut = int(len(ids) * (1.0 - val_fraction))
    return ids[:cut], ids[cut:]
