"""Checkers for lesson 3's exercises: the causal mask as a bias, and splitting into heads."""

import numpy as np

import minitransformer as mt
from minitransformer.functional.attention import causal_mask as library_causal_mask, mask_to_bias

from exercises import call, compare_arrays


def check_causal_mask(causal_mask):
    for T in (1, 4, 7):
        expected = mask_to_bias(library_causal_mask(T, T), np.float64)  # 0 where j <= i, -inf after
        compare_arrays(call(causal_mask, T), expected, "the mask")


def check_split_heads(split_heads):
    mha = mt.nn.MultiHeadAttention(d_model=12, n_heads=3)
    x = np.random.default_rng(3).standard_normal((2, 5, 12))
    expected = mha.split_heads(mt.Tensor(x)).numpy()  # (B, heads, T, head_size)
    compare_arrays(call(split_heads, x.copy(), 3), expected, "split_heads(x)")


EXERCISES = {"causal_mask": check_causal_mask, "split_heads": check_split_heads}

MISTAKES = {
    "causal_mask": [
        lambda T: np.triu(np.full((T, T), -np.inf), 0) if T > 1 else np.zeros((1, 1)),  # the diagonal masked too
        lambda T: np.tril(np.full((T, T), -np.inf), -1),  # transposed: the past masked, the future open
        lambda T: np.tril(np.ones((T, T))),  # 1 and 0 (a boolean-style mask) added to the scores
    ],
    "split_heads": [
        lambda x, h: x.reshape(x.shape[0], h, x.shape[1], x.shape[2] // h),  # the right shape, the wrong numbers
        lambda x, h: x.reshape(x.shape[0], x.shape[1], h, x.shape[2] // h),  # heads not moved before time
        lambda x, h: x.reshape(x.shape[0], x.shape[1], x.shape[2] // h, h).transpose(0, 3, 1, 2),  # interleaved
    ],
}
