"""One random generator for the whole engine, so that a run is reproducible from one seed.

Dropout, weight initialization and sampling all draw from `get_rng()`. `manual_seed(s)` replaces it
with a fresh `np.random.default_rng(s)`, as `torch.manual_seed` does for PyTorch.

Dropout draws through `batch_random`, so that each sample's mask is the same however the batch is
split across data-parallel workers (distributed/): a worker holding samples [start, stop) of a
batch of `total` skips the draws of the samples before its own and after them, so its generator
ends each draw where one process holding the whole batch would.
"""

import contextlib

import numpy as np

_rng = np.random.default_rng(0)
_shard = None  # (start, stop, total): the samples of the batch this process holds, while data-parallel


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the engine's generator; returns it for convenience."""
    global _rng
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an int, got {seed!r} ({type(seed).__name__})")
    _rng = np.random.default_rng(int(seed))
    return _rng


def get_rng() -> np.random.Generator:
    """The generator every random operation of the engine draws from."""
    return _rng


def get_rng_state() -> dict:
    """The generator's state as plain JSON-able data (for resumable checkpoints)."""
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by `get_rng_state`."""
    _rng.bit_generator.state = state


@contextlib.contextmanager
def batch_shard(start: int, stop: int, total: int):
    """While active, `batch_random` draws for samples [start, stop) of a batch of `total` samples."""
    global _shard
    previous, _shard = _shard, (start, stop, total)
    try:
        yield
    finally:
        _shard = previous


def batch_random(shape) -> np.ndarray:
    """Uniform floats in [0, 1) for an array whose first axis runs over the batch (dropout masks).

    One process holding the whole batch draws `rng.random(shape)`.  Inside `batch_shard` the draw is
    that same array's rows for samples [start, stop): the generator is advanced past the earlier
    samples' numbers (PCG64 `advance`, one 64-bit draw per float), draws its own and skips the later
    ones, so masks and the generator's final state do not depend on how the batch is split.
    """
    if _shard is None:
        return _rng.random(shape)
    start, stop, total = _shard
    rows = shape[0]
    if rows % (stop - start):
        raise ValueError(f"batch_random: the first axis ({rows}) is not a multiple of the shard's "
                         f"{stop - start} samples")
    per_sample = rows // (stop - start) * int(np.prod(shape[1:], dtype=np.int64))
    _rng.bit_generator.advance(start * per_sample)
    values = _rng.random(shape)
    _rng.bit_generator.advance((total - stop) * per_sample)
    return values
