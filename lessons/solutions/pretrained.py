"""Solutions to lesson 10's exercises (lessons/exercises/pretrained.py checks them)."""

import numpy as np


def cosine_similarity(a, b):
    # scale every row to length 1; then each dot product of two rows is their cosine
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return a @ b.T


def mean_pool(hidden, attention_mask):
    # zero the padding, sum over time, divide by each row's number of real tokens
    mask = np.asarray(attention_mask, dtype=hidden.dtype)[:, :, None]
    return (hidden * mask).sum(axis=1) / mask.sum(axis=1)
