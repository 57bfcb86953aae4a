"""One random generator for the whole engine, so that a run is reproducible from one seed.

Dropout, weight initialization and sampling all draw from `get_rng()`. `manual_seed(s)` replaces it
with a fresh `np.random.default_rng(s)`, as `torch.manual_seed` does for PyTorch.
"""

import numpy as np

_rng = np.random.default_rng(0)


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
