"""Choosing the next token from a model's scores, shared by every model that can generate.

A language model gives a score (logit) per vocabulary entry; generation turns scores into a token:
- greedy (temperature 0): always the most likely token: repeatable, often repetitive;
- temperature T: sample from softmax(logits / T); T < 1 sharpens, T > 1 flattens;
- top-k: sample only among the k most likely tokens;
- top-p (nucleus): sample among the fewest tokens whose probabilities add up to at least p.

`generate_tokens` is the decoding loop itself (choose, append, stop), shared by GPT and T5: each
model only says how to get the next-token logits for the tokens so far.
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


def generate_tokens(ids: np.ndarray, next_logits, max_new_tokens: int, temperature: float = 1.0,
                    top_k: int | None = None, top_p: float | None = None, stop_token: int | None = None,
                    rng: np.random.Generator | None = None, constrain=None) -> np.ndarray:
    """Append up to max_new_tokens tokens to each row of `ids` (B, T); returns (B, T + new).

    next_logits(ids) gives the scores (B, V) of the token after the last one of each row.
    constrain(ids, logits), if given, returns the logits with -inf at the tokens not allowed next
    (e.g. T5's sentinels out of order: models/demos.py).
    A row that has produced `stop_token` keeps producing it (so all rows stay the same length),
    and the loop ends early once every row has.
    """
    finished = np.zeros(len(ids), dtype=bool)
    for _ in range(max_new_tokens):
        logits = next_logits(ids)
        if constrain is not None:
            logits = constrain(ids, logits)
        next_ids = choose_next_token(logits, temperature, top_k, top_p, rng)
        if stop_token is not None:
            next_ids = np.where(finished, stop_token, next_ids)
            finished |= next_ids == stop_token
        ids = np.concatenate([ids, next_ids[:, None]], axis=1)
        if stop_token is not None and finished.all():
            break
    return ids
