# %% [markdown]
# # Lesson 7: pretraining an encoder-decoder: T5 and span corruption
#
# Lesson 6's BERT reads both sides of a gap but cannot write text.  A GPT writes text but reads
# only the left side.  An **encoder-decoder** has both parts.  The encoder reads an input with
# full bidirectional attention, like BERT.  The decoder writes an output left to right, like
# GPT, and through **cross-attention** each decoder position looks at everything the encoder
# read.  That is the shape of a translation model, and T5 (Raffel et al., 2020) uses it for
# every task, each written as "text in, text out".
#
# T5's pretraining task is **span corruption**.  Pick about 15% of the tokens, in contiguous
# spans of 3 tokens on average.  Replace each span in the input by one *sentinel* token, and
# make the target the list of hidden spans, each introduced by its sentinel:
#
#     original: Thank you for inviting me to your party last week .
#     input:    Thank you <X> me to your party <Y> week .
#     target:   <X> for inviting <Y> last </s>
#
# The encoder sees the corrupted text, and the decoder learns to write what is missing, spans
# of several tokens rather than BERT's single tokens.  The target holds only the hidden tokens
# plus one sentinel per span, so it is much shorter than the input, and training is cheap.
#
# Plan:
# 1. span corruption by hand on the paper's example, then on real text, undone exactly;
# 2. the statistics of random spans: noise density, span lengths, input and target lengths;
# 3. pretraining a tiny T5 on the built-in corpus, and what it learns first;
# 4. (full mode) watching it fill in spans.
#
# Every claim is checked with `assert`.  Run as a script (`python lessons/07_t5_span_corruption.py`)
# or cell by cell as a notebook; `MINITRANSFORMER_QUICK=1` trains for a few seconds only.

# %%
import math
import time

import numpy as np

import minitransformer as mt
from minitransformer.corpus import builtin_corpus, split_train_val
from minitransformer.models import build_model
from minitransformer.objectives import (
    IGNORE_INDEX,
    corrupt_spans,
    noise_span_counts,
    random_spans_noise_mask,
    reconstruct_from_span_corruption,
    span_corruption,
    span_corruption_lengths,
)
from minitransformer.pretrain import fill_spans_t5, make_task, make_tokenizer
from minitransformer.tokenizers import t5_sentinel_tokens
from minitransformer.train import TrainConfig, train

from lesson_setup import OUT, QUICK, plt, save_figure  # quick mode, figures (optional matplotlib)


lesson_start = time.perf_counter()

# %% [markdown]
# ## 1. Span corruption, by hand and at random
#
# `objectives.corrupt_spans(ids, noise_mask, sentinel_ids, eos_id)` does the rewriting for a
# given noise mask (True = hide this token).  To see exactly the paper's figure, we give it a
# vocabulary of whole words, so that one token is one word, and mark "for inviting" and "last"
# by hand.

# %%
words = "Thank you for inviting me to your party last week .".split()
SENTINELS = ["<X>", "<Y>", "<Z>"]
word_vocabulary = sorted(set(words)) + SENTINELS + ["</s>"]
word_id = {w: i for i, w in enumerate(word_vocabulary)}
sentence = np.array([word_id[w] for w in words])
hide = np.isin(words, ["for", "inviting", "last"])

paper_input, paper_target = corrupt_spans(sentence, hide, [word_id[s] for s in SENTINELS], word_id["</s>"])


def as_words(ids) -> str:
    return " ".join(word_vocabulary[i] for i in ids)


print("original:", " ".join(words))
print("input:   ", as_words(paper_input))
print("target:  ", as_words(paper_target))
assert as_words(paper_input) == "Thank you <X> me to your party <Y> week . </s>"
assert as_words(paper_target) == "<X> for inviting <Y> last </s>"

# %% [markdown]
# (T5 also ends the input with `</s>`, the end-of-sequence token.  The paper's figure leaves it
# out.)
#
# Now real text, with the subword tokenizer of lesson 2 (byte-level BPE, 512 tokens, trained on
# the built-in corpus).  Its special tokens include the sentinels `<extra_id_0>`,
# `<extra_id_1>`, ... and `</s>`.  `objectives.span_corruption` draws a random noise mask the
# way T5 does and then calls `corrupt_spans`.

# %%
text = builtin_corpus()
tokenizer = make_tokenizer(text, vocab_size=512)
SENTINEL_IDS = [tokenizer.token_to_id(t) for t in t5_sentinel_tokens(16)]
EOS, PAD = tokenizer.token_to_id("</s>"), tokenizer.token_to_id("[PAD]")

sentence = ("The return statement leaves the current function call with the expression list as the return "
            "value. When it passes control out of a try statement with a finally clause, that finally clause "
            "is executed before really leaving the function.")
ids = np.array(tokenizer.encode(sentence))
corrupted, target = span_corruption(ids, SENTINEL_IDS, EOS, np.random.default_rng(3))

print(f"{len(ids)} tokens:", "|".join(tokenizer.decode([i]) for i in ids))
print("input: ", tokenizer.decode(corrupted.tolist()))
print("target:", tokenizer.decode(target.tolist()))
print(f"lengths: original {len(ids)}, input {len(corrupted)}, target {len(target)}")

# %% [markdown]
# Input and target together still hold the whole text: each sentinel in the input marks the
# place where the span that follows the same sentinel in the target belongs.
# `reconstruct_from_span_corruption` puts the spans back.  A model that wrote the target
# perfectly would therefore have recovered the text exactly.

# %%
restored = reconstruct_from_span_corruption(corrupted, target, SENTINEL_IDS, EOS)
print("restored:", tokenizer.decode(restored.tolist()))
assert np.array_equal(restored, ids)

rng = np.random.default_rng(0)
for _ in range(200):  # and for many random windows of the corpus, not just this sentence
    start = rng.integers(0, 10_000)
    window = np.array(tokenizer.encode(text[start:start + 300]))
    window_input, window_target = span_corruption(window, SENTINEL_IDS, EOS, rng)
    assert np.array_equal(reconstruct_from_span_corruption(window_input, window_target, SENTINEL_IDS, EOS), window)
print("span corruption undone exactly on 200 random windows")

# %% [markdown]
# ## 2. How the spans are drawn
#
# T5's recipe (`noise_span_counts` and `random_spans_noise_mask`), for a sequence of L tokens:
#
#     noise tokens  n = round(0.15 L)                 (the noise density: 15%)
#     noise spans   s = round(n / 3)                  (mean span length: 3)
#
# The n noise tokens are cut at random into s non-empty spans, the L - n kept tokens likewise
# into s runs, and the two alternate, starting with a kept run.  So the *number* of hidden
# tokens and spans is fixed, and only the lengths and places of the spans are random.  With L =
# 100: 15 noise tokens in 5 spans.
#
# A random cut of n items into s non-empty parts gives a part of length k with probability
#
#     P(k) = C(n - k - 1, s - 2) / C(n - 1, s - 1)
#
# (the other s - 1 parts share the remaining n - k items).  We draw 4,000 masks and compare the
# observed span lengths with this formula.

# %%
L = 100
n_noise, n_spans = noise_span_counts(L)
print(f"L = {L}: {n_noise} noise tokens in {n_spans} spans")
assert (n_noise, n_spans) == (15, 5)

rng = np.random.default_rng(1)
span_lengths, densities = [], []
for _ in range(4000):
    mask = random_spans_noise_mask(L, rng)
    densities.append(mask.mean())
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    span_lengths.extend(ends - starts)
    assert len(starts) == n_spans and not mask[0] and mask[-1]  # kept first, noise last, as in T5
span_lengths = np.array(span_lengths)

lengths = np.arange(1, n_noise - n_spans + 2)
theory = np.array([math.comb(n_noise - k - 1, n_spans - 2) for k in lengths]) / math.comb(n_noise - 1, n_spans - 1)
observed = np.array([(span_lengths == k).mean() for k in lengths])
print(f"noise density: {np.mean(densities):.3f} in every mask;  mean span length {span_lengths.mean():.2f}")
print(" length   observed   formula")
for k, o, t in zip(lengths, observed, theory):
    if t > 0.005:
        print(f"{k:7d} {o:10.3f} {t:9.3f}")
assert np.all(np.array(densities) == 0.15)
assert span_lengths.mean() == 3.0  # 15 tokens in 5 spans, every time
assert np.abs(observed - theory).max() < 0.015
print("span lengths follow the formula; single-token spans are the most common, long ones are rare")

# %% [markdown]
# What this buys.  The input keeps 85% of the tokens plus one sentinel per span plus `</s>`; the
# target holds the 15% plus the sentinels plus `</s>`:
#
#     input length  = L - n + s + 1         target length = n + s + 1
#
# For L = 100 that is 91 and 21.  The decoder runs on 21 positions, and only those 21 need the
# output layer over the whole vocabulary.  BERT computes that layer at all 100 positions,
# although it scores only 15 of them.

# %%
for L in (20, 64, 100, 512):
    input_length, target_length = span_corruption_lengths(L)
    made_up_ids = np.arange(1000, 1000 + L)  # only the lengths matter here; ids 0..99 serve as sentinels
    example_input, example_target = span_corruption(made_up_ids, list(range(100)), 999, np.random.default_rng(L))
    assert (len(example_input), len(example_target)) == (input_length, target_length)
    print(f"L = {L:3d}:  input {input_length:3d} tokens, target {target_length:3d} "
          f"({target_length / input_length:.0%} of the input)")

# %% [markdown]
# ## 3. Pretraining a tiny T5
#
# The `SpanCorruption` task of `minitransformer/train.py` cuts 64-token windows from the
# corpus, corrupts each with its own random mask, and pads the batch.  The loss is the
# decoder's cross-entropy on the target (padding ignored).  During training the decoder is
# fed the target shifted right by one, starting from the pad token ("teacher forcing"), so all
# target positions train in one pass, as in GPT.
#
# The model is T5's "tiny" preset: 2 encoder and 2 decoder layers, width 96, 4 heads.  The
# loop is the core of `train.py`: AdamW, warmup then cosine decay, gradient clipping.

# %%
ids = np.array(tokenizer.encode(text), dtype=np.int64)
train_ids, val_ids = split_train_val(ids)
mt.manual_seed(0)
t5 = build_model("t5", "tiny", vocab_size=tokenizer.vocab_size, context_length=64, pad_id=PAD)
task = make_task("t5", t5, tokenizer)
print(f"T5: {t5.num_parameters():,} parameters; windows of {task.window} tokens; "
      f"{len(train_ids):,} training tokens, {len(val_ids):,} held out")

held_out_batches = [task.batch(val_ids, 32, np.random.default_rng(100 + i)) for i in range(6)]
counts = np.bincount(train_ids, minlength=tokenizer.vocab_size)
unigram_log_probs = np.log((counts + 1) / (counts + 1).sum())  # token frequencies, add-one smoothed


def held_out_losses(model) -> dict:
    """Mean loss on the held-out targets: overall, and split by what kind of token is predicted."""
    model.eval()
    per_kind = {"first sentinel": [], "later sentinels and </s>": [], "hidden text": [],
                "hidden text, unigram baseline": []}
    with mt.no_grad():
        for batch in held_out_batches:
            targets = np.where(batch.target_mask, batch.target_ids, IGNORE_INDEX)
            logits, _ = model(batch.input_ids, targets)
            logits = logits.numpy().astype(np.float64)
            log_z = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
            token_loss = log_z - np.take_along_axis(logits, np.maximum(targets, 0)[..., None], -1)[..., 0]
            is_marker = np.isin(targets, SENTINEL_IDS + [EOS])
            first = np.zeros_like(is_marker)
            first[:, 0] = True
            per_kind["first sentinel"].extend(token_loss[first & batch.target_mask])
            per_kind["later sentinels and </s>"].extend(token_loss[is_marker & ~first & batch.target_mask])
            per_kind["hidden text"].extend(token_loss[~is_marker & batch.target_mask])
            is_text = ~is_marker & batch.target_mask
            per_kind["hidden text, unigram baseline"].extend(-unigram_log_probs[targets[is_text]])
    model.train()
    every = np.concatenate([np.array(per_kind[kind]) for kind in list(per_kind)[:3]])
    return {"all target tokens": every.mean(), **{kind: np.mean(v) for kind, v in per_kind.items()}}


before = held_out_losses(t5)

steps = 60 if QUICK else 500
batch_size, peak_lr = 16, 3e-3
# the library's training loop (minitransformer/train.py), the one `pretrain --model t5` runs
config = TrainConfig(steps=steps, batch_size=batch_size, lr=peak_lr, min_lr=peak_lr / 10,
                     warmup=min(50, steps // 4), weight_decay=0.01, betas=(0.9, 0.999), grad_clip=1.0,
                     log_every=max(1, steps // 5), eval_every=steps, eval_batches=4, checkpoint_every=steps, seed=0)
losses = []  # every step's training loss, for the figure below
train(t5, task, train_ids, val_ids, config, OUT / "t5_run", metadata={},
      on_step=lambda step, loss: losses.append(loss))

after = held_out_losses(t5)
print(f"\n{'held-out loss (nats)':30} {'untrained':>10} {'trained':>10}")
for kind in before:
    if kind != "hidden text, unigram baseline":
        print(f"{kind:30} {before[kind]:10.3f} {after[kind]:10.3f}")
print(f"{'hidden text, unigram baseline':30} {'':10} {after['hidden text, unigram baseline']:10.3f}  "
      "(always predicting the token frequencies)")

assert after["all target tokens"] < before["all target tokens"] - (0.5 if QUICK else 1.5), \
    "span-corruption training should clearly lower the held-out loss"
if not QUICK:
    assert after["first sentinel"] < 0.1, "every target starts with <extra_id_0>: the model should know"
    assert after["hidden text"] > after["later sentinels and </s>"] > after["first sentinel"]

# %% [markdown]
# The split shows what a short run learns first: the **format**.  Every target starts with
# `<extra_id_0>`, and the model soon predicts it with near certainty.  The later sentinels and
# `</s>` are harder, because the model has to guess where a span ends, and the input does not
# say how long the hidden span was.  The hidden words themselves are the real task and the
# hardest part: after one minute the model is still about as good at them as always
# predicting the token frequencies (the unigram baseline), having started from ln 512 = 6.2
# nats, knowing nothing.  The real T5 was pretrained on about 34 billion tokens, some 70,000
# times the half-million tokens this run reads.

# %%
if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(1, steps + 1), losses, lw=0.8)
    ax.axhline(np.log(tokenizer.vocab_size), color="gray", ls=":", label="ln V: a uniform guess")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (nats per target token)")
    ax.set_title("Tiny T5, span corruption")
    ax.legend()
    save_figure(fig, "07_t5_loss.png")
else:
    print('(install matplotlib for a figure of the training loss: pip install -e ".[viz]")')

# %% [markdown]
# ## 4. Filling in spans
#
# To use the model, write the sentinels into a text yourself and let the decoder generate.
# `pretrain.fill_spans_t5` appends `</s>` to the input, encodes it once, and decodes greedily
# until the decoder writes `</s>`.  The decoder keeps the keys and values of earlier steps in
# a cache, and reads the encoder's output through cross-attention at every step.
#
# After one minute, expect the format (sentinels in order, then `</s>`) and fillers that are
# frequent pieces, often whitespace.  Fluent fillers would take far longer training.  One
# more thing the model has picked up: every 64-token training window has exactly 3 spans
# (`noise_span_counts(64)` is (10, 3)), so it tends to write 3 sentinels whatever the input.
# The prompts below have 3 sentinels each.

# %%
prompts = ["The <extra_id_0> statement leaves the current <extra_id_1> call with the <extra_id_2> list.",
           "A function <extra_id_0> a block of code <extra_id_1> called <extra_id_2> arguments.",
           "If the <extra_id_0> is not found, <extra_id_1> is raised <extra_id_2> the loop."]
if QUICK:
    print("(quick mode: skipping the fills of an almost untrained model)")
else:
    for prompt in prompts:
        print(f"input : {prompt}\noutput: {fill_spans_t5(t5, tokenizer, prompt, max_new_tokens=20)!r}\n")

print(f"lesson ran in {time.perf_counter() - lesson_start:.0f} s")

# %% [markdown]
# ## What to read next
#
# - `minitransformer/objectives/span_corruption.py`: `noise_span_counts`, `random_spans_noise_mask`,
#   `corrupt_spans`, `reconstruct_from_span_corruption` and the padded `span_corruption_batch`.
# - `minitransformer/models/t5.py`: the encoder, the decoder with cross-attention, `shift_right`
#   (teacher forcing), `generate` with its two caches per layer, and the list of ways this T5
#   differs from the original (positions, normalization, activation).
# - `minitransformer/nn/attention.py`: cross-attention, where queries come from the decoder and
#   keys and values from the encoder.
# - `minitransformer/train.py`: the `SpanCorruption` task used above.
#
# Next: lesson 8 shows what a decoder can do with its context alone: in-context learning.
