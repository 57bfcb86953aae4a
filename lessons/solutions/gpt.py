"""Solutions to lesson 5's exercises (lessons/exercises/gpt.py checks them)."""

import numpy as np


def next_token_loss(logits, ids):
    # the logits at position t predict token t + 1: drop the last position's logits, the first token
    logits, targets = logits[:, :-1], ids[:, 1:]
    shifted = logits - logits.max(axis=-1, keepdims=True)  # a stable log-softmax over the vocabulary
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    return -picked.mean()


def top_p_filter(probs, p):
    order = np.argsort(-probs, axis=-1, kind="stable")  # most likely first (ties: lower id first)
    sorted_probs = np.take_along_axis(probs, order, axis=-1)
    mass_before = np.cumsum(sorted_probs, axis=-1) - sorted_probs  # mass of the tokens better than this one
    keep = np.zeros(probs.shape, dtype=bool)
    np.put_along_axis(keep, order, mass_before < p, axis=-1)  # keep until the kept mass reaches p
    kept = np.where(keep, probs, 0.0)
    return kept / kept.sum(axis=-1, keepdims=True)
