# %% [markdown]
# # Lesson 4: the transformer block, and why attention needs positions
#
# Lesson 3 built attention: each position takes a weighted average of the others.  A
# transformer is a stack of *blocks*, and attention is only one part of a block.  The rest:
#
# - a **feed-forward layer**, a small MLP applied to each position on its own;
# - **layer norm**, which rescales every position's vector to mean 0 and variance 1;
# - **residual connections**: each part *adds* its output to its input, x + f(x), instead of
#   replacing it.
#
# And before the first block, **position embeddings**, because attention on its own cannot tell
# "dog bites man" from "man bites dog".
#
# GPT's block (GPT-2 and later; section 6 has GPT-1's variant), for a sequence x of shape (T, d):
#
#     x = x + attention(LN(x))        positions exchange information (causal mask in GPT)
#     x = x + FFN(LN(x))              each position is transformed on its own
#
# Plan:
# 1. the block, taken apart: `nn.TransformerBlock` equals these two lines written by hand;
# 2. layer norm: mean 0, variance 1, per position;
# 3. the feed-forward layer: 4x wider, position by position (GPT-1: 768 -> 3072);
# 4. residual connections: the identity at initialization, and gradients that reach layer 1;
# 5. positions: self-attention is permutation equivariant, and position embeddings break that;
# 6. pre-norm and post-norm.
#
# We use the library's own modules (`minitransformer/nn/`) and check every claim with `assert`.
# Run as a script (`python lessons/04_transformer_block.py`) or cell by cell as a notebook; it
# takes seconds, so quick mode (`MINITRANSFORMER_QUICK=1`) runs it unchanged.

# %%
import numpy as np

import minitransformer as mt
from minitransformer.models.gpt import GPT, gpt_config
from minitransformer.models.init import init_weights

from lesson_setup import plt, save_figure  # figures (optional matplotlib)

mt.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The block, taken apart
#
# `nn.TransformerBlock(d_model, n_heads, d_ff)` holds four parts: `attn` (lesson 3's
# multi-head attention), `ln_attn` (the layer norm before it), `mlp` (the feed-forward layer)
# and `ln_mlp`.  Here is a small one in float64, so that the hand computation can be compared
# exactly, run on a batch of 2 sequences of 6 positions.  We recompute its output from its
# parts, one line per sublayer.

# %%
d, heads, T = 32, 4, 6
block = mt.nn.TransformerBlock(d, heads, 4 * d).double()
print(block)

x = rng.standard_normal((2, T, d))
after_attention = x + block.attn(block.ln_attn(x), is_causal=True).numpy()
by_hand = after_attention + block.mlp(block.ln_mlp(after_attention)).numpy()

assert np.allclose(block(x, is_causal=True).numpy(), by_hand)
assert by_hand.shape == x.shape, "a block maps (B, T, d) to (B, T, d), so blocks stack"
print("block(x) == x + attn(LN(x)), then + FFN(LN(.)), by hand")

# %% [markdown]
# A block's output has its input's shape, so the output of one block is the input of the
# next: GPT-1 stacks 12.
#
# ## 2. Layer norm
#
# Layer norm takes each position's vector (one row of d numbers) and subtracts its mean and
# divides by its standard deviation, so that every row has mean 0 and variance 1, whatever
# scale the previous layer produced.  Then it multiplies by a learned gain gamma and adds a
# learned bias beta (one of each per feature), which start at 1 and 0:
#
#     LN(x) = gamma * (x - mean(x)) / sqrt(var(x) + eps) + beta       (over the d features)
#
# The statistics are per position: rows do not affect each other (unlike batch norm, which
# averages over the batch).  The tiny eps keeps a constant row from dividing by zero.

# %%
rows = 5.0 + 3.0 * rng.standard_normal((T, d))  # rows with mean about 5 and spread about 3
normed = block.ln_attn(rows).numpy()
mean, var = rows.mean(axis=-1, keepdims=True), rows.var(axis=-1, keepdims=True)
print(f"before: row means {np.round(rows.mean(-1)[:3], 2)}..., row variances {np.round(rows.var(-1)[:3], 2)}...")
print(f"after:  row means {np.round(normed.mean(-1)[:3], 12) + 0}..., "
      f"row variances {np.round(normed.var(-1)[:3], 4)}...")

assert np.allclose(normed, (rows - mean) / np.sqrt(var + block.ln_attn.eps))  # gamma = 1, beta = 0 at init
assert np.allclose(normed.mean(axis=-1), 0) and np.allclose(normed.var(axis=-1), 1, atol=1e-4)
changed = rows.copy()
changed[0] *= 100
assert np.allclose(block.ln_attn(changed).numpy()[1:], normed[1:]), "each row is normalized on its own"
print("mean 0 and variance 1 for every row; scaling row 0 by 100 leaves rows 1..5 unchanged")

# %% [markdown]
# ## 3. The feed-forward layer
#
# Attention mixes positions, but each output is a weighted *average* of value vectors: apart
# from the softmax it is linear in the values.  The feed-forward layer (FFN) adds a nonlinearity,
# and does it position by position: two Linear layers with a GELU between them,
#
#     FFN(x) = W2 GELU(W1 x + b1) + b2,      d -> d_ff -> d,  with d_ff = 4 d,
#
# the same weights at every position.  The 4x goes back to the original Transformer
# (`TRANSFORMER_BASE` below); GPT-1 used 768 -> 3072.  We check, on the library's `gpt1`
# preset, that d_ff is 4 d, and count the FFN's share of one GPT-1 block's parameters.

# %%
TRANSFORMER_BASE = {"d_model": 512, "d_ff": 2048}  # Vaswani et al. (2017), the base model
gpt1 = gpt_config("gpt1")
assert TRANSFORMER_BASE["d_ff"] == 4 * TRANSFORMER_BASE["d_model"]
assert (gpt1.n_layers, gpt1.d_model, gpt1.d_ff) == (12, 768, 3072) and gpt1.d_ff == 4 * gpt1.d_model

big_block = mt.nn.TransformerBlock(gpt1.d_model, gpt1.n_heads, gpt1.d_ff)
count = {name: part.num_parameters() for name, part in
         [("attention", big_block.attn), ("feed-forward", big_block.mlp),
          ("layer norms", big_block.ln_attn), ("", big_block.ln_mlp)]}
count["layer norms"] += count.pop("")
total = big_block.num_parameters()
for name, n in count.items():
    print(f"{name:>13}: {n:>9,} parameters ({n / total:5.1%} of a GPT-1 block)")
assert count["feed-forward"] == 768 * 3072 + 3072 + 3072 * 768 + 768 == 4_722_432
assert count["attention"] == 4 * (768 * 768 + 768)  # q, k, v and output projections
assert sum(count.values()) == total and 0.66 < count["feed-forward"] / total < 0.67
del big_block

# %% [markdown]
# Two thirds of a block's weights sit in the FFN.  "Position by position" is a claim we can
# test: change the input at one position, and only that position's output changes.

# %%
ffn_out = block.mlp(x).numpy()
x_changed = x.copy()
x_changed[:, 3] = rng.standard_normal((2, d))
moved = np.abs(block.mlp(x_changed).numpy() - ffn_out).max(axis=-1)  # (batch, position)
print("largest change of the FFN output at each position (batch 0):", np.round(moved[0], 3))
assert (moved[:, 3] > 0.01).all() and (moved[:, [0, 1, 2, 4, 5]] == 0).all()

# %% [markdown]
# ## 4. Residual connections
#
# Each sublayer *adds* to its input: x + f(x).  Two consequences, both visible at
# initialization.  GPT-2's initialization (`models/init.py`, which the library's GPT uses)
# draws weights with standard deviation 0.02, and the two projections that add into the
# residual stream get 0.02 / sqrt(2 L) for a stack of L blocks, so every f(x) starts small:
#
# 1. **A block starts as (almost) the identity**: x + f(x) is close to x, so a deep stack
#    begins as a shallow one and learns to use its depth.
# 2. **Gradients reach the first layer.**  The derivative of x + f(x) is I + f'(x).  Through L
#    blocks, the identity part carries the gradient from the loss straight down to layer 1.
#    Without the residuals, the gradient is multiplied by every sublayer's Jacobian in turn, and
#    small weights make each of them shrink it.
#
# We build a stack of 24 blocks and send a random upstream gradient g into its output, with and
# without the residual additions (the same sublayers, applied as f(LN(x)) instead of
# x + f(LN(x))).  The table shows |dL/dx at the input| / |g|, and how far the output moved from
# the input.  (A network designed without residuals would be initialized with larger weights.
# The point is that with them, the gradient's size does not hinge on getting every sublayer's
# scale right.)

# %%
depth = 24  # fast enough for quick mode too
stack = [mt.nn.TransformerBlock(d, heads, 4 * d).double() for _ in range(depth)]
for layer in stack:
    init_weights(layer, residual_layers=depth)
g = rng.standard_normal(x.shape)
assert np.isclose(stack[0].mlp.fc1.weight.numpy().std(), 0.02, rtol=0.1)
assert np.isclose(stack[0].attn.out_proj.weight.numpy().std(), 0.02 / np.sqrt(2 * depth), rtol=0.1)


def through(layers, residual):
    """Run x through the stack; return (|input grad| / |g|, |output - x| / |x|)."""
    x_in = mt.Tensor(x.copy(), requires_grad=True)
    h = x_in
    for layer in layers:
        if residual:
            h = layer(h, is_causal=True)
        else:
            h = layer.mlp(layer.ln_mlp(layer.attn(layer.ln_attn(h), is_causal=True)))
    (h * mt.Tensor(g)).sum().backward()
    return np.linalg.norm(x_in.grad.data) / np.linalg.norm(g), np.linalg.norm(h.data - x) / np.linalg.norm(x)


table = []
print(" depth   gradient kept: residual   no residual    output moved: residual")
for n in sorted({1, 2, 4, 8, depth}):
    (kept, moved_res), (kept_plain, _) = through(stack[:n], True), through(stack[:n], False)
    table.append((n, kept, kept_plain))
    print(f"{n:6d} {kept:26.3f} {kept_plain:13.2e} {moved_res:22.3f}")
assert 0.9 < kept < 1.1 and moved_res < 0.1, "with residuals: gradient kept, block close to the identity"
assert kept_plain < 0.01, "without residuals, the gradient fades through the stack"

# %%
if plt is not None:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    table_array = np.array(table)
    ax.semilogy(table_array[:, 0], table_array[:, 1], "o-", label="x + f(LN(x))  (residual)")
    ax.semilogy(table_array[:, 0], table_array[:, 2], "o-", label="f(LN(x))  (no residual)")
    ax.set_xlabel("number of blocks")
    ax.set_ylabel("|dL/d input| / |dL/d output|")
    ax.legend()
    ax.set_title("Residual connections carry the gradient down")
    save_figure(fig, "04_residual_gradient.png")

# %% [markdown]
# ## 5. Why attention needs positions
#
# Look at self-attention again: position i's output is sum_j softmax_j(q_i . k_j) v_j, and
# nothing in that sum says *where* j is.  Without a mask, shuffling the input rows shuffles the
# output rows the same way and changes nothing else: self-attention is **permutation
# equivariant**.  The FFN and layer norm work row by row, so a whole block is too.  To such a
# model a sentence is a bag of words.  We permute the rows and check:

# %%
permutation = rng.permutation(T)
out = block(x).numpy()  # no causal mask
out_of_permuted = block(x[:, permutation]).numpy()
print("permutation:", permutation)
assert np.allclose(out_of_permuted, out[:, permutation]), "block(x permuted) == block(x), permuted"
print("block(x[permutation]) == block(x)[permutation]: the block cannot see order")

# %% [markdown]
# So, with token embeddings only, "dog bites man" and "man bites dog" give the word *dog* the
# same output vector, though it bites in one sentence and is bitten in the other.  (GPT's
# causal mask does break the symmetry: position t sees only positions 0..t, so permuting the
# rows no longer just permutes the outputs, as the cell below checks.  Haviv et al. (2022) found
# that language models trained with the mask and no positions learn some order from it; GPT
# adds positions anyway.)
#
# GPT's fix is a second embedding table, indexed by position instead of by token: a learned
# vector for position 0, another for position 1, up to the context length.  The block's input
# is their sum, token_embedding[id_t] + position_embedding[t] (`GPT.hidden_states`).  The same
# word at another position now starts from another vector:

# %%
words = ["dog", "bites", "man"]
token_table = mt.nn.Embedding(len(words), d).double()
position_table = mt.nn.Embedding(T, d).double()
positions = np.arange(3)


def outputs(sentence, with_positions):
    ids = np.array([[words.index(w) for w in sentence.split()]])
    h = token_table(ids) + (position_table(positions) if with_positions else 0)
    return dict(zip(sentence.split(), block(h).numpy()[0]))


causal_out = block(x, is_causal=True).numpy()
assert not np.allclose(block(x[:, permutation], is_causal=True).numpy(), causal_out[:, permutation])

for with_positions in (False, True):
    a, b = outputs("dog bites man", with_positions), outputs("man bites dog", with_positions)
    gap = np.abs(a["dog"] - b["dog"]).max()
    print(f"position embeddings {'on ' if with_positions else 'off'}: 'dog' differs by {gap:.3g} between the sentences")
    assert (gap < 1e-12) if not with_positions else (gap > 0.1), gap

# %% [markdown]
# The library's GPT does exactly this sum, and its position table has `context_length` rows,
# so a longer input has no position vectors and is refused.  (The original Transformer used
# fixed sinusoids instead of a learned table; GPT-1 and GPT-2 learned theirs.)

# %%
micro = GPT(gpt_config("micro"))
ids = np.array([[3, 1, 4, 1, 5]])
start = micro.token_embedding(ids) + micro.position_embedding(np.arange(5))
first_block_by_hand = micro.ln_final(micro.blocks[0](start, is_causal=True)).numpy()
assert np.allclose(micro.hidden_states(ids).numpy(), first_block_by_hand)  # micro has one block
print(f"GPT input = token_embedding(ids) + position_embedding(0..T-1); "
      f"position table: {micro.position_embedding.weight.shape}")
try:
    micro.hidden_states(np.zeros((1, micro.config.context_length + 1), dtype=int))
except ValueError as error:
    print("expected ValueError:", str(error).split(";")[0])
else:
    raise AssertionError("a sequence longer than the position table should be refused")

# %% [markdown]
# ## 6. Pre-norm and post-norm
#
# Where the layer norm goes is the block's one real design choice.  The original Transformer
# and GPT-1 (and BERT) normalized *after* the residual addition, **post-norm**:
# x = LN(x + f(x)).  GPT-2 moved it inside, **pre-norm**: x = x + f(LN(x)), which is what
# sections 1 to 4 used, and what the library's GPT uses (its `gpt1` preset too).  Pre-norm
# leaves the residual path free of any normalization, which is the identity path of section 4.
# `pre_norm=False` gives the post-norm block; we check it against the formula and run the
# section 4 measurement on it.

# %%
post = mt.nn.TransformerBlock(d, heads, 4 * d, pre_norm=False).double()
h = post.ln_attn(x + post.attn(x, is_causal=True).numpy()).numpy()
h = post.ln_mlp(h + post.mlp(h).numpy()).numpy()
assert np.allclose(post(x, is_causal=True).numpy(), h)
print("post-norm block == LN(x + attn(x)), then LN(. + FFN(.))")

post_stack = [mt.nn.TransformerBlock(d, heads, 4 * d, pre_norm=False).double() for _ in range(depth)]
for layer in post_stack:
    init_weights(layer, residual_layers=depth)
kept_post, _ = through(post_stack, True)
print(f"gradient kept through {depth} blocks at initialization: pre-norm {kept:.3f}, post-norm {kept_post:.3f}")
assert 0.9 < kept_post < 1.1

# %% [markdown]
# At initialization the two barely differ.  Post-norm's gradient also passes through every
# layer norm on the way down, and each one divides it by the standard deviation of its input,
# x + f(x); here that is about 1, because x has variance 1 and f(x) starts small.  In pre-norm
# nothing on the residual path depends on such a scale, and that is the argument for it; how
# the two then differ *during* training is beyond this lesson (our measurement is at step 0).
#
# ## Exercises
#
# Write each function in its cell and run the cell; the check compares it with the library.
# Worked solutions are in `lessons/solutions/transformer_block.py`.
#
# 1. `layer_norm(x, gamma, beta, eps)`: normalize each row of x (the last axis) to mean 0 and
#    variance 1 (the biased variance, as section 2), then scale by gamma and shift by beta.
# 2. `embed(ids, token_table, position_table)`: GPT's input for ids of shape (B, T), given the
#    two embedding matrices as arrays: (B, T, d).
# 3. `pre_norm_block(x, block)`: the output of `block` (a `TransformerBlock`, causal) computed
#    from its parts `block.ln_attn`, `block.attn`, `block.ln_mlp`, `block.mlp`.

# %%
from exercises import report  # noqa: E402
from exercises import transformer_block as block_checks  # noqa: E402


def layer_norm(x, gamma, beta, eps=1e-5):
    raise NotImplementedError  # your code


def embed(ids, token_table, position_table):
    raise NotImplementedError  # your code


def pre_norm_block(x, block):
    raise NotImplementedError  # your code


report("layer_norm", layer_norm, block_checks.check_layer_norm)
report("embed", embed, block_checks.check_embed)
report("pre_norm_block", pre_norm_block, block_checks.check_pre_norm_block)

# %% [markdown]
# ## What to read next
#
# - `minitransformer/nn/transformer.py`: `TransformerBlock`, with `pre_norm` and its docstring.
# - `minitransformer/nn/layers.py`: `FeedForward` and `Embedding`;
#   `minitransformer/nn/normalization.py` and `functional/normalization.py`: `LayerNorm`,
#   `layer_norm_reference` (section 2's formula) and `RMSNorm` (LLaMA's, without the mean).
# - `minitransformer/models/gpt.py`: `GPT.hidden_states`, token plus position embeddings and
#   the stack of blocks; `models/init.py`: the initialization of section 4.
#
# Next: lesson 5 stacks these blocks into a GPT and pretrains it on next-token prediction.
