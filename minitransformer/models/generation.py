"""Choosing the next token from a model's scores, shared by every model that can generate.

A language model gives a score (logit) per vocabulary entry; generation turns scores into a token:
- greedy (temperature 0): always the most likely token: repeatable, often repetitive;
- temperature T: sample from softmax(logits / T); T < 1 sharpens, T > 1 flattens;
- top-k: sample only among the k most likely tokens;
- top-p (nucleus): sample among the fewest tokens whose probabilities add up to at least p.
"""

from __future__ import annotations

import numpy as np

from ..seed import get_rng


def check_sampling_args(temperature: float, top_k, top_p) -> None:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0 means greedy), got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")


def choose_next_token(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None,
                      top_p: float | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
    """One token id per row of `logits` (B, V)."""
    check_sampling_args(temperature, top_k, top_p)
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return logits.argmax(axis=-1)
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth_best = np.partition(logits, -top_k, axis=-1)[:, -top_k, None]
        logits = np.where(logits < kth_best, -np.inf, logits)
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-probs, axis=-1, kind="stable")
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        before = np.cumsum(sorted_probs, axis=-1) - sorted_probs  # mass of the better tokens
        drop_sorted = before >= top_p  # the nucleus is complete without this token
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, axis=-1)
        probs = np.where(drop, 0.0, probs)
        probs /= probs.sum(axis=-1, keepdims=True)
    rng = rng if rng is not None else get_rng()
    draws = rng.random((probs.shape[0], 1))
    chosen = (np.cumsum(probs, axis=-1) < draws).sum(axis=-1)
    return np.minimum(chosen, probs.shape[-1] - 1)
