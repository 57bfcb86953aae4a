"""Solutions to lesson 7's exercises (lessons/exercises/bert.py checks them)."""

import numpy as np

IGNORE_INDEX = -100


def mask_chosen(ids, chosen, mask_id, vocab_size, rng):
    # one uniform draw per position decides: below 0.8 [MASK], below 0.9 a random token, else keep
    u = rng.random(ids.shape)
    random_ids = rng.integers(0, vocab_size, size=ids.shape)
    inputs = np.where(chosen & (u < 0.8), mask_id, ids)
    inputs = np.where(chosen & (u >= 0.8) & (u < 0.9), random_ids, inputs)
    labels = np.where(chosen, ids, IGNORE_INDEX)  # the loss covers the chosen positions only
    return inputs, labels


def mlm_loss(logits, labels):
    chosen = labels != IGNORE_INDEX
    scores = logits[chosen]  # (number chosen, V): only these positions are scored
    scores = scores - scores.max(axis=-1, keepdims=True)
    log_p = scores - np.log(np.exp(scores).sum(axis=-1, keepdims=True))
    return float(-log_p[np.arange(len(scores)), labels[chosen]].mean())
