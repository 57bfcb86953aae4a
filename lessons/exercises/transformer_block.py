"""Checkers for lesson 4's exercises: layer norm, GPT's input embedding, a pre-norm block."""

import numpy as np

import minitransformer as mt
from minitransformer import functional as F

from exercises import call, compare_arrays

def check_layer_norm(layer_norm):
    _rng = np.random.default_rng(4)
    x = 3.0 + 2.0 * _rng.standard_normal((4, 8))
    x[2] = 1.0 + 0.01 * _rng.standard_normal(8)  # a row with a tiny variance: eps matters
    gamma, beta = 1.0 + 0.5 * _rng.standard_normal(8), 0.5 * _rng.standard_normal(8)
    expected = F.layer_norm(x, (8,), gamma, beta, eps=1e-5)
    compare_arrays(call(layer_norm, x.copy(), gamma.copy(), beta.copy(), 1e-5), expected, "layer_norm(x)",
                   atol=1e-6)


def check_embed(embed):
    _rng = np.random.default_rng(4)
    vocab, context, d = 10, 8, 4
    token_table, position_table = _rng.standard_normal((vocab, d)), _rng.standard_normal((context, d))
    ids = np.array([[1, 7, 7, 0, 3], [2, 2, 9, 5, 1]])
    expected = F.embedding(ids, token_table) + F.embedding(np.arange(ids.shape[1]), position_table)
    compare_arrays(call(embed, ids, token_table, position_table), expected, "embed(ids)")


def check_pre_norm_block(pre_norm_block):
    _rng = np.random.default_rng(4)
    block = mt.nn.TransformerBlock(16, 2, 64).double()
    for p in block.parameters():  # weights of our own (no reseeding); norms off gamma = 1, beta = 0
        p.data[...] = 0.3 * _rng.standard_normal(p.shape)
    x = mt.Tensor(_rng.standard_normal((2, 5, 16)))
    expected = block(x, is_causal=True)
    compare_arrays(call(pre_norm_block, x, block), expected, "the block's output")


EXERCISES = {"layer_norm": check_layer_norm, "embed": check_embed, "pre_norm_block": check_pre_norm_block}

MISTAKES = {
    "layer_norm": [
        lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + b,  # over the batch axis
        lambda x, g, b, eps=1e-5: g * (x - x.mean(-1, keepdims=True)) / (x.std(-1, keepdims=True) + eps) + b,
        lambda x, g, b, eps=1e-5: g * (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, ddof=1, keepdims=True)
                                                                                 + eps) + b,  # unbiased
        lambda x, g, b, eps=1e-5: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps),
    ],
    "embed": [
        lambda ids, tok, pos: tok[ids] + pos[ids],  # positions looked up by token id
        lambda ids, tok, pos: tok[ids],  # no positions
        lambda ids, tok, pos: tok[ids] + pos,  # the whole table: shapes do not fit
    ],
    "pre_norm_block": [
        lambda x, blk: (lambda h: blk.ln_mlp(h + blk.mlp(h)))(blk.ln_attn(x + blk.attn(x, is_causal=True))),
        lambda x, blk: (lambda h: h + blk.mlp(blk.ln_mlp(h)))(x + blk.attn(blk.ln_attn(x))),  # no mask
        lambda x, blk: (lambda h: blk.mlp(blk.ln_mlp(h)))(x + blk.attn(blk.ln_attn(x), is_causal=True)),
    ],
}
