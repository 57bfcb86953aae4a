"""Argument checks shared across the package, so every "must be a positive integer" reads the same.

Python counts True and False as integers (True + True == 2), so a plain isinstance(value, int)
would accept a flag where a count was meant; NumPy integers (np.int64 from an array) are fine.
"""

from __future__ import annotations

import numpy as np


def is_integer(value) -> bool:
    """True for Python and NumPy integers, False for everything else, bool included."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_positive_int(value, name: str, error: type[Exception] = ValueError):
    """Return `value` if it is an integer >= 1; otherwise raise `error` naming `name`.

    `error` lets a caller raise its own exception type (e.g. a file-format error whose `name`
    says which file and field the value came from).
    """
    if not is_integer(value) or value < 1:
        raise error(f"{name} must be a positive integer, got {value!r}")
    return value
