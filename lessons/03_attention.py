# %% [markdown]
# # Lesson 3: attention
#
# In a transformer layer, each position of a sequence gathers information from other positions,
# and attention is how it does so.  Think of it as a *soft* dictionary lookup.  Each position
# produces three vectors:
#
# - a **query** q: what this position is looking for;
# - a **key** k: what this position offers, to be matched against queries;
# - a **value** v: what this position hands over when it is picked.
#
# A query is compared with every key by a dot product.  Softmax turns the scores into weights,
# positive and summing to 1, and the output is the weighted average of the values:
#
#     attention(q, K, V) = softmax(K q / sqrt(d)) V        (d = the size of q and k)
#
# An ordinary dictionary returns the value of the one key that matches.  Attention returns a
# blend of all the values, weighted by how well each key matches, and since every step is
# differentiable, the model can *learn* what to look for.
#
# Plan:
# 1. one query against a few keys, in plain NumPy;
# 2. all queries at once as matrix products, checked against `F.scaled_dot_product_attention`;
# 3. masks: reading an attention map, the causal mask (the future cannot change the past), padding;
# 4. several heads, the way `nn.MultiHeadAttention` runs them, in one batched matmul;
# 5. why the scores are divided by sqrt(d).
#
# Every claim is checked with `assert`.  Run as a script (`python lessons/03_attention.py`) or
# cell by cell as a notebook; `MINITRANSFORMER_QUICK=1` uses fewer samples in section 5.

# %%

import numpy as np

import minitransformer as mt
from minitransformer import functional as F

from lesson_setup import QUICK, plt, save_figure  # quick mode, figures (optional matplotlib)


rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. One query, a few keys
#
# Softmax first.  exp(s_j) / sum_i exp(s_i) overflows for large scores, so we subtract the
# largest score before exponentiating.  That changes nothing mathematically, because the common
# factor exp(-max) cancels between numerator and denominator.  A score of -inf becomes weight 0,
# which the masks in section 3 rely on.

# %%
def softmax_rows(scores):
    """softmax over the last axis: exp(s - max) / sum exp(s - max)."""
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attend_one(q, K, V):
    """One query q (d,) against keys K (S, d) and values V (S, dv): one dot product per key."""
    scores = np.array([q @ key for key in K]) / np.sqrt(len(q))
    weights = softmax_rows(scores)
    return weights @ V, weights  # weights @ V = sum_j weights[j] * V[j]


# %% [markdown]
# Five random keys, except that key 2 points the same way as the query.  The query should find
# it: more than half of the weight goes to key 2, so the output is mostly key 2's value, blended
# with a little of each of the others.

# %%
d, S = 8, 5
q = rng.standard_normal(d)
K = rng.standard_normal((S, d))
K[2] = 2.5 * q  # the key that matches
V = rng.standard_normal((S, 3))

out, weights = attend_one(q, K, V)
print("attention weights over the 5 keys:", np.round(weights, 3))
print("output (a blend of the 5 values): ", np.round(out, 3))
print("value of the matching key 2:      ", np.round(V[2], 3))

assert np.isclose(weights.sum(), 1.0) and (weights > 0).all()
assert weights[2] > 0.5, "the query should put most of its weight on the key that matches it"
assert np.allclose(out, sum(weights[j] * V[j] for j in range(S)))

# %% [markdown]
# ## 2. All queries at once: three matrix products
#
# With L queries stacked as the rows of Q (L, d), the score loop becomes one matrix product:
#
#     scores = Q K^T / sqrt(d)       (L, S): row i holds query i's score for each key
#     P      = softmax of each row   (L, S): the attention weights, each row summing to 1
#     out    = P V                   (L, dv): row i is query i's blend of values
#
# Loops become matmuls, which is why attention runs fast on hardware built for matrix products.
# The library's `F.scaled_dot_product_attention` computes exactly this, as one operation with a
# hand-derived backward (section 5 derives its softmax part).

# %%
def attention(Q, K, V, allowed=None):
    """softmax(Q K^T / sqrt(d)) V over the last two axes.  allowed: boolean, True = may attend."""
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)  # exp(-inf) = 0: no weight at all
    weights = softmax_rows(scores)
    return weights @ V, weights


L = 4
Q = rng.standard_normal((L, d))
loop = np.stack([attend_one(Q[i], K, V)[0] for i in range(L)])
matrices, P = attention(Q, K, V)
library = F.scaled_dot_product_attention(Q, K, V).numpy()

print("scores and weights are", P.shape, "(queries x keys); output is", matrices.shape)
assert np.allclose(loop, matrices) and np.allclose(matrices, library)
print("loop == matrix form == F.scaled_dot_product_attention")

# %% [markdown]
# ## 3. Masks
#
# ### Reading an attention map
#
# P is easiest to understand as a picture: one row per query, one column per key.  Here is a
# head built by hand to do a job that trained GPT models really do learn: *look at the previous
# token*.  The keys are the positions (one-hot vectors), and the query at position i is a large
# multiple of the one-hot vector for i - 1.  The values are the words (one-hot over a
# vocabulary), so the output at position i is "the word one step back".
#
# A language model predicts the next word from the words so far.  In training it reads the
# whole sequence at once, so position i must not look at positions after i: that would be
# reading the answer.  The **causal mask** allows key j for query i only when j <= i, by
# setting the other scores to -inf before the softmax.

# %%
words = ["the", "cat", "sat", "on", "the", "mat"]
vocabulary = sorted(set(words))
T = len(words)

position_keys = np.eye(T)
previous_position_queries = 6.0 * np.eye(T, k=-1)  # row i = 6 * one-hot(i - 1); row 0 is all zeros
word_values = np.eye(len(vocabulary))[[vocabulary.index(w) for w in words]]

causal = np.tril(np.ones((T, T), dtype=bool))  # causal[i, j] = (j <= i)
out, P = attention(previous_position_queries, position_keys, word_values, allowed=causal)


def print_attention_map(P, queries, keys):
    """One row per query, one column per key; '.' is a weight of exactly 0 (masked)."""
    print(" " * 8 + "".join(f"{k:>6}" for k in keys))
    for label, row in zip(queries, P):
        cells = "".join("     ." if w == 0 else f"{w:6.2f}" for w in row)
        print(f"{label:>8}{cells}")


print("previous-token head, causal mask (rows: queries, columns: keys)")
print_attention_map(P, words, words)

assert (P[~causal] == 0).all(), "masked (future) keys must get exactly zero weight"
assert P[0, 0] == 1.0, "the first position can only attend to itself"
assert all(P[i].argmax() == i - 1 for i in range(1, T)), "each position should look one step back"
for i in range(1, T):
    read = vocabulary[out[i].argmax()]
    print(f"position {i} ({words[i]!r}) reads {read!r}")
    assert read == words[i - 1]

# %% [markdown]
# Why does the previous-token weight fade down the rows (0.92 in row 1, 0.70 in row 5)?  The
# head is the same in every row; what grows is the number of keys the mask lets in.  Query i
# scores c = 6 / sqrt(6) against key i - 1 (d = 6) and 0 against the i other keys it may see:
# P[i, i-1] = e^c / (e^c + i), one more e^0 = 1 in the denominator per row.

# %%
c = 6.0 / np.sqrt(T)
assert np.allclose([P[i, i - 1] for i in range(1, T)], [np.exp(c) / (np.exp(c) + i) for i in range(1, T)])
print("previous-token weight by row:", np.round([P[i, i - 1] for i in range(1, T)], 2), "= e^c / (e^c + i)")

library = F.scaled_dot_product_attention(previous_position_queries, position_keys, word_values, is_causal=True)
assert np.allclose(out, library.numpy())
print("by hand == F.scaled_dot_product_attention(..., is_causal=True)")

# %%
if plt is None:
    print('(install matplotlib for figures: pip install -e ".[viz]")')
else:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    image = ax.imshow(P, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(T), words)
    ax.set_yticks(range(T), words)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query (attending)")
    ax.set_title("A previous-token head, causal mask")
    fig.colorbar(image, ax=ax, shrink=0.8)
    save_figure(fig, "03_attention_map.png")

# %% [markdown]
# ### The future cannot change the past
#
# The mask's guarantee can be tested directly.  Take self-attention (queries, keys and values
# all computed from the same sequence X by three weight matrices), change every position after
# t, and compare: with the causal mask, the outputs at positions 0..t do not move.  Without the
# mask they do, because every position sees every other.

# %%
T, d = 8, 16
W_q, W_k, W_v = (rng.standard_normal((d, d)) / np.sqrt(d) for _ in range(3))


def self_attention(X, is_causal):
    return F.scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v, is_causal=is_causal).numpy()


X = rng.standard_normal((T, d))
t = 4
X_new_future = X.copy()
X_new_future[t + 1:] = rng.standard_normal((T - t - 1, d))

for is_causal in (True, False):
    before, after = self_attention(X, is_causal), self_attention(X_new_future, is_causal)
    past_change = np.abs(after[: t + 1] - before[: t + 1]).max()
    future_change = np.abs(after[t + 1:] - before[t + 1:]).max()
    print(f"is_causal={is_causal!s:5}: largest change at positions 0..{t} = {past_change:.2e}, "
          f"after {t} = {future_change:.2e}")
    assert future_change > 1e-3
    if is_causal:
        assert past_change < 1e-12, "with a causal mask, the future must not change the past"
    else:
        assert past_change > 1e-3, "without a mask, every position sees the future"

# %% [markdown]
# ### Padding
#
# Sequences in a batch have different lengths, so the short ones are padded to the length of
# the longest.  The padding positions hold junk, and no real position may attend to them: a
# **padding mask** removes those keys.  (Outputs computed *at* padding positions are junk too.
# The loss skips them by giving them the target `ignore_index`.)
#
# The test: sequence B has 5 real tokens padded to 8.  Its real positions must come out exactly
# as if B had been run alone, without padding, whatever the padding holds.

# %%
lengths = [8, 5]
X_batch = rng.standard_normal((2, T, d))
X_batch[1, lengths[1]:] = 100 * rng.standard_normal((T - lengths[1], d))  # loud junk in the padding
key_is_real = np.arange(T)[None, :] < np.array(lengths)[:, None]  # (batch, keys)
allowed = key_is_real[:, None, :]  # (batch, 1 query axis to broadcast over, keys)

Qb, Kb, Vb = X_batch @ W_q, X_batch @ W_k, X_batch @ W_v
batched = F.scaled_dot_product_attention(Qb, Kb, Vb, attn_mask=allowed).numpy()
_, weights = attention(Qb, Kb, Vb, allowed=allowed)

n = lengths[1]
alone, _ = attention(Qb[1, :n], Kb[1, :n], Vb[1, :n])
print("key padding mask for the batch (1 = real key):")
print(key_is_real.astype(int))
print(f"weight on padding keys: {weights[1][:, n:].max()}")
assert (weights[1][:, n:] == 0).all()
assert np.allclose(batched[1, :n], alone), "padding must not change the real positions"
print("sequence B padded in a batch == sequence B alone")

# %% [markdown]
# ## 4. Several heads at once
#
# One softmax picks one blend of values per query.  A position often needs several kinds of
# information at the same time: the previous word, the subject of the verb, the matching
# bracket.  **Multi-head attention** runs h smaller attentions side by side.  The model width d
# is split into h heads of size d/h, each head has its own slice of the query, key and value
# projections, and the h outputs are concatenated and mixed by one more linear layer, the
# output projection.  Each head scales its scores by sqrt(d/h), its own size.  The total work
# is about that of one head of full width.
#
# `nn.MultiHeadAttention` does not loop over heads.  It projects once, reshapes (B, T, d) into
# (B, T, h, d/h), and swaps two axes to get (B, h, T, d/h).  The head axis then rides along
# as one more batch axis in a single batched matmul.  To check that this really is "h separate
# attentions", we compute each head separately by hand, using that head's slice of each
# weight matrix.  (Linear layers store the weight as (out_features, in_features), so head j's
# query projection is rows j * d/h up to (j + 1) * d/h.)

# %%
mt.manual_seed(0)
B, T, d, heads = 2, 8, 16, 4
mha = mt.nn.MultiHeadAttention(d_model=d, n_heads=heads).double()  # float64 for an exact comparison
x = rng.standard_normal((B, T, d))

library = mha(x, is_causal=True).numpy()

q_all = mha.split_heads(mha.q_proj(x))
print(f"x {x.shape} -> queries split into heads {q_all.shape}  (batch, heads, time, head size)")


def project(layer, x, rows):
    """The part of Linear `layer` that produces output features `rows`."""
    return x @ layer.weight.data[rows].T + layer.bias.data[rows]


size = d // heads
per_head = []
for j in range(heads):
    rows = slice(j * size, (j + 1) * size)
    Qh, Kh, Vh = (project(layer, x, rows) for layer in (mha.q_proj, mha.k_proj, mha.v_proj))
    head_out, _ = attention(Qh, Kh, Vh, allowed=np.tril(np.ones((T, T), dtype=bool)))
    per_head.append(head_out)  # (B, T, d/h)
by_hand = project(mha.out_proj, np.concatenate(per_head, axis=-1), slice(None))

assert np.allclose(by_hand, library)
print(f"{heads} heads by hand, concatenated and projected == nn.MultiHeadAttention")

# %% [markdown]
# `nn.MultiHeadAttention` takes padding as `key_padding_mask`, following PyTorch's
# convention, which is the *opposite* of the one above: True marks a padding key to ignore.
# Its `attn_mask`, though, is True where attention is allowed, like F's (and unlike
# `torch.nn.MultiheadAttention`'s).  Masks are easy to get backwards, so read the docstring
# of every mask argument.  Non-boolean masks are refused rather than guessed at.  Same test
# as before: padded in a batch == alone.

# %%
x_padded = np.stack([x[0], np.concatenate([x[1, :n], 100 * rng.standard_normal((T - n, d))])])
padded = mha(x_padded, key_padding_mask=~key_is_real).numpy()
alone = mha(x_padded[1:, :n]).numpy()
assert np.allclose(padded[1, :n], alone[0])
print("key_padding_mask=True at padding: sequence B padded == alone")

try:
    mha(x_padded, key_padding_mask=key_is_real.astype(int))  # 1 = real token, as Hugging Face's masks are
except TypeError as error:
    print("expected TypeError:", error)
else:
    raise AssertionError("an integer mask should be refused: True/1 means opposite things in different APIs")

# %% [markdown]
# ## 5. Why divide by sqrt(d)?
#
# Suppose the components of q and k are independent with mean 0 and variance 1, as they roughly
# are when training starts.  Then q . k = sum of d products, each with mean 0 and variance 1,
# so **the variance of q . k is d**, and its typical size is sqrt(d).  Dividing by sqrt(d)
# brings the variance back to 1 at every width.  We measure it:

# %%
samples = 2_000 if QUICK else 8_000
dims = [4, 16, 64, 256, 1024]
variances = []
print("    d    var(q.k)   var / d   var(q.k / sqrt d)")
for d in dims:
    q, k = rng.standard_normal((2, samples, d))
    dots = np.einsum("nd,nd->n", q, k)
    variances.append(dots.var())
    print(f"{d:5d} {dots.var():11.1f} {dots.var() / d:9.3f} {(dots / np.sqrt(d)).var():13.3f}")
    assert 0.85 < dots.var() / d < 1.15, "the variance of q.k should grow like d"

# %% [markdown]
# Why large scores are a problem: softmax turns differences between scores into *ratios* of
# weights, exp(s_1 - s_2).  With scores spread over tens of units, the largest score takes
# nearly all of the weight, and the softmax is **saturated**, almost one-hot.  The softmax
# Jacobian is dp/ds = diag(p) - p p^T, which is zero at a one-hot p: then no gradient flows
# back to the queries and keys, and the model cannot learn where to look.
#
# ### Softmax's backward, step by step
#
# Where that Jacobian comes from, and the backward every attention layer runs.  Write
# p_i = e^(s_i) / Z with Z = sum_k e^(s_k), and let g = dL/dp arrive from above.
#
# 1. Quotient rule (dZ/ds_j = e^(s_j)):  dp_i/ds_j = p_i [i = j] - p_i p_j,  so dp/ds = diag(p) - p p^T.
# 2. Chain rule, summing over every p_i that s_j moves:  dL/ds_j = sum_i g_i dp_i/ds_j = g_j p_j - p_j (g . p).
# 3. So  **dL/ds = p * (g - g . p)**,  with g . p one number per row: no T x T Jacobian is built.
#
# That is the `dS = P * (dP - rowsum(dP * P))` of the fused `Attention` (functional/attention.py).
# We check it, and the Jacobian form, against the library's softmax backward:

# %%
s = mt.Tensor(rng.standard_normal((3, 5)), requires_grad=True)
upstream = rng.standard_normal((3, 5))
(F.softmax(s, dim=-1) * mt.Tensor(upstream)).sum().backward()
p = softmax_rows(s.numpy())
derived = p * (upstream - (upstream * p).sum(axis=-1, keepdims=True))
jacobian_row0 = np.diag(p[0]) - np.outer(p[0], p[0])  # dp_i/ds_j for row 0
assert np.allclose(derived, s.grad.numpy()) and np.allclose(upstream[0] @ jacobian_row0, derived[0])
print("p * (g - g.p) == the library's softmax backward == g (diag(p) - p p^T)")
one_hot = np.eye(5)[2]
assert np.allclose(one_hot * (upstream[0] - upstream[0] @ one_hot), 0)  # saturated: no gradient at all

# %% [markdown]
# At a one-hot p, p * (g - g . p) is 0 in every entry, whatever g is: the saturation problem.
# We measure both effects with the engine: S = 16 keys per query, many random queries, an
# arbitrary upstream gradient, and the gradient that reaches the scores.  The table shows the
# average largest weight and the typical (median) gradient size, with and without the scale.

# %%
S, trials = 16, (200 if QUICK else 1_000)


def softmax_statistics(scores):
    """Average largest weight, and median norm of dL/dscores for a random upstream gradient."""
    s = mt.Tensor(scores, requires_grad=True)
    p = F.softmax(s, dim=-1)
    (p * rng.standard_normal(p.shape)).sum().backward()
    return p.numpy().max(axis=-1).mean(), np.median(np.linalg.norm(s.grad, axis=-1))


rows = []
print("    d   max weight: scaled  unscaled    gradient: scaled  unscaled")
for d in dims:
    q = rng.standard_normal((trials, 1, d))
    K = rng.standard_normal((trials, S, d))
    dots = (q @ K.transpose(0, 2, 1))[:, 0, :]  # (trials, S) raw dot products
    scaled, unscaled = softmax_statistics(dots / np.sqrt(d)), softmax_statistics(dots)
    rows.append((d, *scaled, *unscaled))
    print(f"{d:5d} {scaled[0]:17.3f} {unscaled[0]:9.3f} {scaled[1]:17.2e} {unscaled[1]:9.2e}")

_, max_scaled, grad_scaled, max_unscaled, grad_unscaled = rows[-1]
assert max_unscaled > 0.9, "unscaled, large-d softmax should be nearly one-hot"
assert max_scaled < 0.5, "scaled softmax should stay spread out"
assert grad_unscaled < 1e-2 * grad_scaled, "saturation should shrink the gradient a hundredfold or more"
spread = [row[1] for row in rows]
assert max(spread) - min(spread) < 0.05, "with the scale, the softmax looks the same at every d"
print(f"at d = {dims[-1]}: without the scale the typical gradient is {grad_unscaled / grad_scaled:.1e} "
      "times the scaled one")

# %%
if plt is not None:
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4))
    left.loglog(dims, variances, "o-", label="measured var(q . k)")
    left.loglog(dims, dims, "k--", label="d")
    table = np.array(rows)
    for ax, plot, column, ylabel in [(middle, middle.semilogx, 1, f"average largest weight ({S} keys)"),
                                     (right, right.loglog, 2, "median |dL/dscores|")]:
        plot(table[:, 0], table[:, column], "o-", label="scaled by 1/sqrt(d)")
        plot(table[:, 0], table[:, column + 2], "o-", label="unscaled")
        ax.set_ylabel(ylabel)
    left.set_ylabel("variance of the raw score")
    middle.set_ylim(0, 1)
    for ax in (left, middle, right):
        ax.set_xlabel("d")
        ax.legend()
    fig.suptitle("Without the 1/sqrt(d) scale, softmax saturates and its gradient vanishes")
    fig.tight_layout()
    save_figure(fig, "03_scaling.png")

# %% [markdown]
# ## Exercises
#
# Write each function and run the cell; the check compares it with the library's (solutions:
# `lessons/solutions/attention.py`).
# 1. `causal_mask(T)`: the (T, T) float mask *added* to the scores: 0 where query i may see
#    key j (j <= i), -inf elsewhere.
# 2. `split_heads(x, n_heads)`: (B, T, d) to (B, h, T, d/h), head j holding features j d/h up
#    to (j + 1) d/h, as section 4's `mha.split_heads` (an element is named [batch, head, time, feature]).

# %%
from exercises import report  # noqa: E402
from exercises import attention as attention_checks  # noqa: E402


def causal_mask(T):
    raise NotImplementedError  # your code


def split_heads(x, n_heads):
    raise NotImplementedError  # your code


report("causal_mask", causal_mask, attention_checks.check_causal_mask)
report("split_heads", split_heads, attention_checks.check_split_heads)

# %% [markdown]
# ## What to read next
#
# - `minitransformer/functional/attention.py`: first `attention_reference`, softmax(Q K^T /
#   sqrt(d) + mask) V in Tensor primitives; then `scaled_dot_product_attention` (mask handling)
#   and the fused `Attention` function, whose docstring states the backward:
#   dV = P^T dO, dP = dO V^T, dS = P * (dP - rowsum(dP * P)) (section 5's derivation), then dQ and dK.
# - `minitransformer/nn/attention.py`: `MultiHeadAttention` (`split_heads`, `merge_heads`, the
#   masks, cross-attention for T5, and the key/value cache used when generating).
#
# Lesson 1 explains the `backward()` used in section 5.  Next: lesson 4 builds the transformer
# block around attention (`nn/transformer.py`: residuals, layer norm, the feed-forward layer)
# and adds positions.
