"""Checkers for lesson 5's exercises: the next-token loss, and the top-p (nucleus) filter."""

import numpy as np

from minitransformer import functional as F

from exercises import call, compare_arrays

def nucleus(probs, p):
    """The rule `models/generation.py` samples with: keep a token if the tokens more likely than it
    hold less than p of the mass (ties: the lower id first); renormalize.  probs: (B, V)."""
    order = np.argsort(-probs, axis=-1, kind="stable")
    sorted_probs = np.take_along_axis(probs, order, axis=-1)
    keep_sorted = np.cumsum(sorted_probs, axis=-1) - sorted_probs < p
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    kept = np.where(keep, probs, 0.0)
    return kept / kept.sum(axis=-1, keepdims=True)


def check_top_p_filter(top_p_filter):
    logits = 2.0 * np.random.default_rng(5).standard_normal((4, 10))
    probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    probs[3] = [0.5, 0.3, 0.1, 0.05, 0.05, 0, 0, 0, 0, 0]  # p = 0.8 is reached exactly by two tokens
    for p in (0.5, 0.8, 0.95, 1.0):
        compare_arrays(call(top_p_filter, probs.copy(), p), nucleus(probs, p), f"top_p_filter(probs, p={p})")


def check_next_token_loss(next_token_loss):
    B, T, V = 2, 6, 7
    rng = np.random.default_rng(5)
    logits, ids = 3.0 * rng.standard_normal((B, T, V)), rng.integers(0, V, (B, T))
    expected = F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))  # logits at t predict t + 1
    compare_arrays(call(next_token_loss, logits.copy(), ids.copy()), expected, "the loss", atol=1e-8)


EXERCISES = {"next_token_loss": check_next_token_loss, "top_p_filter": check_top_p_filter}


def _log_softmax(x, axis=-1):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def _pick(logp, targets):
    return np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]


def _stops_before_p(probs, p):  # keeps only tokens whose running total stays <= p: the kept mass falls short
    order = np.argsort(-probs, axis=-1, kind="stable")
    keep_sorted = np.cumsum(np.take_along_axis(probs, order, axis=-1), axis=-1) <= p
    keep_sorted[:, 0] = True
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    kept = np.where(keep, probs, 0.0)
    return kept / kept.sum(axis=-1, keepdims=True)


def _threshold_on_probability(probs, p):  # a cut on each token's own probability, not on the running mass
    kept = np.where(probs >= 1 - p, probs, 0.0)
    return kept / np.maximum(kept.sum(axis=-1, keepdims=True), 1e-12)


def _not_renormalized(probs, p):  # the right tokens, but the kept mass no longer sums to 1
    return np.where(nucleus(probs, p) > 0, probs, 0.0)


MISTAKES = {
    "next_token_loss": [
        lambda logits, ids: -_pick(_log_softmax(logits), ids).mean(),  # no shift: predicting the input itself
        lambda logits, ids: -_pick(_log_softmax(logits[:, 1:]), ids[:, :-1]).mean(),  # shifted the wrong way
        lambda logits, ids: -_pick(_log_softmax(logits[:, :-1]), ids[:, 1:]).sum(),  # summed, not averaged
        lambda logits, ids: -_pick(_log_softmax(logits[:, :-1], axis=1), ids[:, 1:]).mean(),  # softmax over time
    ],
    "top_p_filter": [_stops_before_p, _threshold_on_probability, _not_renormalized],
}
