"""The values a flag may take, as argparse `type=` functions: one rule per kind of number.

argparse calls them on the flag's text, and an ArgumentTypeError becomes one line that names
the flag ("argument --log-every: must be a positive integer (1, 2, ...), got '0'").  So `--grad-clip
-1` (which would flip the gradients), `--temperature nan` or `--batch-size 0` stop before any
work; `pretrain --resume` checks the training settings a checkpoint saved with the same rules.
"""

from __future__ import annotations

import argparse
import math


def _number(text, parse, ok, wanted: str):
    try:
        value = parse(text)
    except (TypeError, ValueError, OverflowError):
        value = None
    if value is None or not ok(value):
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
    return value


def positive_int(text) -> int:
    return _number(text, int, lambda v: v >= 1, "a positive integer (1, 2, ...)")


def non_negative_int(text) -> int:
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def positive_float(text) -> float:
    return _number(text, float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0")


def non_negative_float(text) -> float:
    return _number(text, float, lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0")


def fraction(text) -> float:
    """A probability that must stay below 1 (dropout, momentum)."""
    return _number(text, float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def workers(text) -> int | str:
    """--workers: a positive integer, or 'auto' (the physical cores, capped at the batch size)."""
    if str(text).strip().lower() == "auto":
        return "auto"
    return _number(text, int, lambda v: v >= 1, "a positive integer (1, 2, ...) or 'auto'")


def nucleus(text) -> float:
    """top-p: the share of probability mass to sample from."""
    return _number(text, float, lambda v: 0 < v <= 1, "a number in (0, 1]")
