"""Token-id arrays as every objective takes them: the checks each one makes, and padding.

All objectives work on plain NumPy integer arrays, with no autograd.  All randomness comes from
an explicit ``rng`` argument (a ``np.random.Generator``), so the same seed always gives the same
batch.  Positions that carry no prediction get ``IGNORE_INDEX`` (-100, as in PyTorch's
cross-entropy) in the labels.
"""

from __future__ import annotations

import numpy as np

IGNORE_INDEX = -100


def check_rng(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator, got {type(rng).__name__}; "
                        f"create one with np.random.default_rng(seed)")


def as_ids(ids, name: str, allowed_ndims: tuple[int, ...]) -> np.ndarray:
    """Return `ids` as an int64 array after checking it holds integers of an allowed rank."""
    array = np.asarray(ids)
    if array.size == 0 and array.dtype == np.float64:  # np.asarray([]) is float64; an empty list is fine
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer token ids, got dtype {array.dtype}; "
                        f"cast with .astype(np.int64) if the values are whole numbers")
    if array.ndim not in allowed_ndims:
        ranks = " or ".join(f"{n}-D" for n in allowed_ndims)
        raise ValueError(f"{name} must be {ranks}, got shape {array.shape}")
    return array.astype(np.int64, copy=False)


def pad_batch(sequences, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack 1-D id sequences of different lengths into (B, T_max), right-padded with `pad_id`.

    Also returns a bool mask, True at real tokens, so attention and the loss can
    skip the padding; each row's length is ``mask.sum(axis=1)``.
    """
    rows = [as_ids(sequence, f"sequences[{i}]", allowed_ndims=(1,)) for i, sequence in enumerate(sequences)]
    if not rows:
        raise ValueError("sequences is empty; a batch needs at least one sequence")
    max_length = max(len(row) for row in rows)
    padded = np.full((len(rows), max_length), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), max_length), dtype=bool)
    for i, row in enumerate(rows):
        padded[i, :len(row)] = row
        mask[i, :len(row)] = True
    return padded, mask
