"""Solutions to lesson 3's exercises (lessons/exercises/attention.py checks them)."""

import numpy as np


def causal_mask(T):
    # row i (a query) may see columns j <= i: 0 there; -inf strictly above the diagonal
    return np.triu(np.full((T, T), -np.inf), k=1)


def split_heads(x, n_heads):
    B, T, d = x.shape
    # feature f belongs to head f // (d / n_heads): split the last axis, then put heads before time
    return x.reshape(B, T, n_heads, d // n_heads).transpose(0, 2, 1, 3)
