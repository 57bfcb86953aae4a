# %% [markdown]
# # Lesson 8: pretraining an encoder-decoder: T5 and span corruption
#
# Lesson 7's BERT reads both sides of a gap but cannot write text; a GPT writes text but reads
# only the left side.  An **encoder-decoder** has both: the encoder reads an input with full
# bidirectional attention, like BERT; the decoder writes an output left to right, like GPT,
# and through **cross-attention** each decoder position looks at everything the encoder read.
# That is the shape of a translation model, and T5 (Raffel et al., 2020) uses it for every
# task, each written as "text in, text out".
#
# T5's pretraining task is **span corruption**: pick about 15% of the tokens, in spans of 3 on
# average, replace each span in the input by one *sentinel* token, and make the target the
# hidden spans, each introduced by its sentinel.  The paper's figure:
#
#     original: Thank you for inviting me to your party last week .
#     input:    Thank you <X> me to your party <Y> week .
#     target:   <X> for inviting <Y> last <Z>
#
# The decoder learns to write what is missing, spans of several tokens rather than BERT's
# single tokens; the target holds only those plus one sentinel per span, so it is short.
#
# T5's paper is also a large comparison at matched cost: encoder-decoders against decoder-only
# and prefix language models, and objectives (language modelling, BERT-style masking,
# deshuffling, span corruption at several rates and span lengths).  The encoder-decoder with a
# denoising objective came out best, and span corruption at 15% with spans of 3 did as well as
# any denoising variant with the shortest targets, the cheapest steps: the recipe T5 kept.
#
# Plan: 1. span corruption by hand on the paper's example, then on real text, undone exactly;
# 2. the statistics of random spans; 3. pretraining a tiny T5, measured on held-out text
# against a model that knows only which tokens are common, and what it learns first;
# 4. (full mode) watching it fill in spans.
#
# Every claim is checked with `assert`.  Run as a script (`python lessons/08_t5_span_corruption.py`)
# or cell by cell as a notebook; `MINITRANSFORMER_QUICK=1` trains for a few seconds only.

# %%
import math
import re
import time

import numpy as np

import minitransformer as mt
from minitransformer.corpus import builtin_corpus, split_train_val
from minitransformer.evaluation import held_out_report, log_softmax_rows, unigram_counts, unigram_probabilities
from minitransformer.models import build_model
from minitransformer.objectives import (
    IGNORE_INDEX,
    SpanCorruption,
    corrupt_spans,
    noise_span_counts,
    random_spans_noise_mask,
    reconstruct_from_span_corruption,
    span_corruption,
    span_corruption_lengths,
    task_for,
)
from minitransformer.objectives.span_corruption import T5_NOISE_DENSITY
from minitransformer.objectives.span_corruption_task import PRETRAINING_NOISE_DENSITY
from minitransformer.pretrain import fill_spans_t5, make_tokenizer, train_config
from minitransformer.tokenizers import t5_sentinel_tokens
from minitransformer.train import train

from lesson_setup import OUT, QUICK, plt, save_figure  # quick mode, figures (optional matplotlib)

SEED = 0  # the weights' and the batches' seed; the assertions below hold for seeds 0, 1 and 2
lesson_start = time.perf_counter()

# %% [markdown]
# ## 1. Span corruption, by hand and at random
#
# `objectives.corrupt_spans(ids, noise_mask, sentinel_ids, eos_id)` does the rewriting for a
# given noise mask (True = hide this token).  For exactly the paper's figure, we give it a
# vocabulary of whole words and mark "for inviting" and "last" by hand.

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
# Two differences from the figure.  Both sequences end with `</s>` (end of sequence), which
# the figure leaves out.  And **our target ends with `</s>` where the figure has `<Z>`**.  In
# the figure, `<Z>` stands for the kept text after the last hidden span ("week ."): T5's code
# writes the target by turning every run of *kept* tokens into a sentinel.  The masks T5 draws
# for pretraining always *end* with a hidden span (section 2 checks it), so there is never
# kept text after the last span and never a `<Z>`; `corrupt_spans` always writes that form,
# `<X> ... <Y> ... </s>`, where `</s>` alone says "no more spans".
#
# Now real text, with lesson 2's byte-level BPE and, as in lesson 7, a **small vocabulary of
# 300 tokens**, mostly single characters; its special tokens include the sentinels
# `<extra_id_0>`, `<extra_id_1>`, ... and `</s>`.  `objectives.span_corruption` draws a random
# noise mask the way T5 does, then calls `corrupt_spans`.

# %%
text = builtin_corpus()
tokenizer = make_tokenizer(text, vocab_size=300)
SENTINEL_IDS = [tokenizer.token_to_id(t) for t in t5_sentinel_tokens(16)]
EOS, PAD = tokenizer.token_to_id("</s>"), tokenizer.token_to_id("[PAD]")

sentence = "The return statement leaves the current function call with the expression list as the return value."
ids = np.array(tokenizer.encode(sentence))
corrupted, target = span_corruption(ids, SENTINEL_IDS, EOS, np.random.default_rng(3))

print(f"{len(ids)} tokens:", "|".join(tokenizer.decode([i]) for i in ids))
print("input: ", tokenizer.decode(corrupted.tolist()))
print("target:", tokenizer.decode(target.tolist()))
print(f"lengths: original {len(ids)}, input {len(corrupted)}, target {len(target)}")

# %% [markdown]
# Input and target together still hold the whole text: each sentinel in the input marks where
# the span after the same sentinel in the target belongs, and `reconstruct_from_span_corruption`
# puts the spans back.  A model that wrote the target perfectly would have recovered the text.

# %%
restored = reconstruct_from_span_corruption(corrupted, target, SENTINEL_IDS, EOS)
print("restored:", tokenizer.decode(restored.tolist()))
assert np.array_equal(restored, ids)

rng = np.random.default_rng(0)
for window in (np.array(tokenizer.encode(text[s:s + 300])) for s in rng.integers(0, 10_000, size=200)):
    assert np.array_equal(reconstruct_from_span_corruption(*span_corruption(window, SENTINEL_IDS, EOS, rng),
                                                           SENTINEL_IDS, EOS), window)
print("span corruption undone exactly on 200 random windows of the corpus")

# %% [markdown]
# ## 2. How the spans are drawn
#
# T5's recipe (`noise_span_counts` and `random_spans_noise_mask`), for a sequence of L tokens:
#
#     noise tokens  n = round(0.15 L)                 (the noise density: 15%)
#     noise spans   s = round(n / 3)                  (mean span length: 3)
#
# The n noise tokens are cut at random into s non-empty spans, the L - n kept tokens likewise
# into s runs, and the two alternate, starting with a kept run.  So only the lengths and places
# of the spans are random.  With L = 100: 15 noise tokens in 5 spans.
#
# A random cut of n items into s non-empty parts gives a part of length k with probability
# P(k) = C(n - k - 1, s - 2) / C(n - 1, s - 1) (the other s - 1 parts share the remaining n - k
# items).  We draw 4,000 masks and compare the observed span lengths with this formula.

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
# For L = 100 that is 91 and 21.  The decoder runs on 21 positions, not 100, and the output
# layer over the whole vocabulary runs there only.  (For BERT it depends on the code: Google's
# gathers the 15 masked positions before its output layer; Hugging Face's `BertForMaskedLM`
# and minitransformer's `BERT.mlm` compute it at all 100 and let the loss skip 85; lesson 7.)

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
# The `SpanCorruption` task (`objectives/span_corruption_task.py`) cuts windows from the corpus,
# corrupts each with its own mask and pads the batch; the window is the longest whose corrupted
# input fits the context (`task.window`).  The loss is the decoder's cross-entropy on the
# target, fed the target shifted right by one from the pad token ("teacher forcing"), so all
# target positions train in one pass, as in GPT.
#
# **Pretraining here hides 30%, not 15%.**  As with BERT's 40% in lesson 7: hiding twice as
# many gives twice the predictions per step, for a little more compute (the target grows).  The
# task trains at `PRETRAINING_NOISE_DENSITY` and always *scores* at the paper's 15%
# (`task.evaluation_batch`), so its numbers compare with `noise_density=0.15` training.  The
# model is T5's `tiny` preset (2 encoder and 2 decoder layers, width 96, 4 heads, T5's relative
# positions), with a short context of 32 tokens (lesson 7's BERT had 24), so that steps are cheap.
# One thing of the preset is left out: its larger start for the value matrices
# (`value_scale=4`, explained below), which pays off over the 2000 steps of
# `pretrain --model t5` but starts slower: over this lesson's 650 steps it left the model 0.48-0.55
# nats below the unigram on seeds 0-2, against 0.57-0.70 without it.  And this lesson trains at
# 30% from the first step to the last (`finish_density=0.3`), where `pretrain` spends its last
# quarter on densities from 5% to 30%: the table below shows why that finish is there.

# %%
ids = np.array(tokenizer.encode(text), dtype=np.int64)
train_ids, val_ids = split_train_val(ids)
CONTEXT = 32
mt.manual_seed(SEED)
t5 = build_model("t5", "tiny", vocab_size=tokenizer.vocab_size, context_length=CONTEXT, pad_id=PAD, value_scale=1.0)
task = task_for(t5, tokenizer, finish_density=PRETRAINING_NOISE_DENSITY)  # SpanCorruption, 30% throughout
scoring_window = SpanCorruption.window_for(CONTEXT, T5_NOISE_DENSITY)
print(f"T5: {t5.num_parameters():,} parameters; {len(train_ids):,} training tokens, {len(val_ids):,} held out")
for what, window, density in (("training", task.window, task.noise_density),
                              ("scoring", scoring_window, T5_NOISE_DENSITY)):
    hidden, spans = noise_span_counts(window, density)
    print(f"{what:8}: windows of {window} tokens at noise density {density}: {hidden} hidden tokens in {spans} spans, "
          f"input {span_corruption_lengths(window, density)[0]} tokens")
assert task.noise_density == PRETRAINING_NOISE_DENSITY == 0.3
assert span_corruption_lengths(task.window, 0.3)[0] == CONTEXT, "the corrupted window fills the context"
assert noise_span_counts(task.window, 0.3)[1] == 4 and noise_span_counts(scoring_window, 0.15)[1] == 2

# %% [markdown]
# We measure the model on held-out text before and after with lesson 7's `held_out_report`: the
# loss on the hidden text tokens (sentinels and `</s>` left out) beside the **unigram** model
# (the training split's token frequencies) and ln V.  Context is what takes it below the unigram.

# %%
counts = unigram_counts(train_ids, tokenizer.vocab_size)


def report(model):
    """The model on 32 x 32 held-out windows (the same windows every call)."""
    return held_out_report(model, task, val_ids, counts, batches=32, batch_size=32, seed=SEED + 1234)


before = report(t5)
steps = 60 if QUICK else 650
# `pretrain --model t5`'s training loop (train.py) with its defaults, except the batch and the steps
config = train_config("t5", steps=steps, batch_size=32, warmup=min(50, steps // 4), log_every=max(1, steps // 5),
                      eval_every=steps, eval_batches=2, checkpoint_every=steps, seed=SEED)
losses = []  # every step's training loss, for the figure below
train(t5, task, train_ids, val_ids, config, OUT / "t5_run", metadata={}, on_step=lambda step, loss: losses.append(loss))
after = report(t5)

print()
print("\n".join(after.lines(tokenizer)))
print(f"untrained: {before.nll:.3f} nats")
assert after.nll < before.nll - (1.0 if QUICK else 2.0), "training should clearly lower the held-out loss"
if not QUICK:
    assert 0.5 < after.gain_over_unigram < 0.9, "the trained model should be below the unigram: it uses context"

# %% [markdown]
# The trained model is several tenths of a nat below the unigram (the report prints the gap):
# it gives the hidden tokens about twice the probability their frequency alone gives them.
#
# ### What it learns first
#
# The decoder writes more than the hidden text: sentinels and `</s>` too.  And the hidden text
# comes in two kinds.  The **first** token of a span needs the encoder: the decoder has just
# written the span's sentinel and must find that sentinel in the input and read the text
# around it.  The **later** tokens of a span also continue what the decoder has
# already written of it.  We score each kind separately on held-out targets, once as they are
# and once with each row's encoder input swapped for another row's: what the model loses then
# is what it reads from the encoder.

# %%
def target_losses(model, batch) -> np.ndarray:
    """The loss (nats) at every target position, (B, T_out)."""
    targets = np.where(batch.target_mask, batch.target_ids, IGNORE_INDEX)
    with mt.no_grad():
        logits, _ = model(batch.input_ids, targets)
    log_p = log_softmax_rows(logits.numpy().reshape(-1, tokenizer.vocab_size)).reshape(logits.shape)
    return -np.take_along_axis(log_p, np.maximum(targets, 0)[..., None], axis=-1)[..., 0]


t5.eval()
batch = task.evaluation_batch(val_ids, 512, np.random.default_rng(5))
swapped = batch._replace(input_ids=np.roll(batch.input_ids, 1, axis=0), input_mask=np.roll(batch.input_mask, 1, axis=0))
loss, loss_swapped = target_losses(t5, batch), target_losses(t5, swapped)
unigram_loss = -np.log(unigram_probabilities(counts))[batch.target_ids]

is_sentinel = np.isin(batch.target_ids, task.sentinel_ids) & batch.target_mask
is_end = (batch.target_ids == task.eos_id) & batch.target_mask
is_text = batch.target_mask & ~is_sentinel & ~is_end
after_sentinel = np.pad(is_sentinel[:, :-1], ((0, 0), (1, 0)))  # the token just after a sentinel
first_position = np.broadcast_to(np.arange(is_text.shape[1]) == 0, is_text.shape)
kinds = {"first sentinel": first_position, "later sentinels": is_sentinel & ~first_position, "</s>": is_end,
         "first token of a span": is_text & after_sentinel, "later tokens of a span": is_text & ~after_sentinel}
loss_of = {kind: (loss[where].mean(), loss_swapped[where].mean(), unigram_loss[where].mean())
           for kind, where in kinds.items()}
print("held-out target tokens        count   model   another row's input   unigram")
for kind, where in kinds.items():
    model_loss, swapped_loss, unigram = loss_of[kind]
    shown = f"{unigram:9.3f}" if kind.endswith("span") else ""
    print(f"{kind:27} {where.sum():6d} {model_loss:7.3f} {swapped_loss:21.3f} {shown}")

if not QUICK:
    first, later = loss_of["first token of a span"], loss_of["later tokens of a span"]
    assert loss_of["first sentinel"][0] < 0.1, "every target starts with <extra_id_0>: the model should know"
    assert loss_of["</s>"][0] > 3.0, "trained on 4 spans a window, the model expects more than these 2"
    assert later[2] - later[0] > first[2] - first[0] + 0.3, "continuing a span is learned before starting one"
    assert first[0] < first[2] - 0.1, "the first token of a span: below the unigram..."
    assert first[1] > max(first[0] + 0.3, first[2]), "...because of the encoder: with another row's input it is worse"
    assert later[1] - later[0] < first[1] - first[0], "later tokens lean less on the encoder than first ones"

# %% [markdown]
# How to read the table.  The **format**: every target starts with `<extra_id_0>`, predicted
# with near certainty.  Later sentinels are harder: the input does not say how long a hidden
# span was.  `</s>` costs many nats, because the model has learned to *count*: T5's recipe
# gives every window of one length the same number of spans (section 2); every training window
# here has 4, these scored windows have 2, and the model is sure a third follows.  (The report
# above scores only the hidden text.)  A model that counts spans reads a text with fewer gaps
# than it was trained on worse, and a user's text has one or two: this is why `pretrain --model
# t5` draws the density of each batch of its last quarter from 5% to 30% (`finish_density`,
# `SpanCorruption.training_batch`).  The **later tokens of a span** are far below the
# unigram, and little worse with another row's input: the decoder continues the word it is
# writing.  The **first token of a span** gains least, all of it from the encoder: with another
# row's input it is worse than the unigram.  That is what span corruption is really about, and
# the slowest to learn: cross-attention must pick out the one sentinel being answered, and the
# encoder gather the text around it.  Each waits for the other, so from GPT-2's start the tiny T5
# of `pretrain --model t5` still had uniform cross-attention after 1500 steps; its `tiny` preset
# therefore starts with cross-attention matching like with like and a local encoder
# (`init="reading"`, "How T5 starts" in `models/t5.py`), two of its encoder heads on the token to
# the left and the token to the right, so that a sentinel holds both sides of its gap apart
# (`neighbour_heads`), and the value matrices that carry the text from the encoder to the decoder
# 4x larger (`value_scale=4`): with that, a decoder head locked on the matching sentinel in every
# seed tried, and the first token of a span came out further below the unigram than the later
# ones.  The real T5 read about 34 billion tokens:

# %%
tokens_read = steps * config.batch_size * task.window
print(f"this run read {tokens_read:,} tokens of text; T5 read about 34 billion, "
      f"{34e9 / tokens_read:,.0f} times as many")
assert QUICK or 1e4 < 34e9 / tokens_read < 1e5

if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(1, steps + 1), losses, lw=0.8)
    ax.axhline(np.log(tokenizer.vocab_size), color="gray", ls=":", label="ln V: a uniform guess")
    ax.set(xlabel="step", ylabel="training loss (nats per target token)", title="Tiny T5, span corruption")
    ax.legend()
    save_figure(fig, "08_t5_loss.png")
else:
    print('(install matplotlib for a figure of the training loss: pip install -e ".[viz]")')

# %% [markdown]
# ## 4. Filling in spans
#
# To use the model, write the sentinels into a text and let the decoder generate.  The decoder
# starts from the pad token, keeps the keys and values of earlier steps in a cache, and reads
# the encoder's output through cross-attention at every step.  First `T5.generate` on its own,
# greedy (always the most likely token), on held-out windows corrupted exactly as in training,
# where we know the answer: does the model answer each sentinel of the input once, in order,
# and then write `</s>`?  And on windows corrupted at the paper's 15%, with 2 sentinels?

# %%
def generate_fills(batch) -> list:
    """(the decoder's output up to </s>, how many sentinels it wrote minus how many the input has,
    whether they were exactly the input's, in order, with </s> after them) for each row."""
    written = t5.generate(batch.input_ids, max_new_tokens=CONTEXT - 1, stop_token=EOS)
    rows = []
    for input_ids, output in zip(batch.input_ids, written):
        output = output[:list(output).index(EOS) + 1] if EOS in output else output
        asked = [i for i in input_ids if i in task.sentinel_ids]
        answered = [i for i in output if i in task.sentinel_ids]
        rows.append((output, len(answered) - len(asked), answered == asked and output[-1] == EOS))
    return rows


like_training = task.batch(val_ids, 64, np.random.default_rng(11))
fills = generate_fills(like_training)
in_format = sum(ok for _, _, ok in fills)
print(f"{in_format} of {len(fills)} held-out windows with 4 sentinels: each answered once, in order, then </s>")
for row in range(3):
    truth = like_training.target_ids[row][like_training.target_mask[row]]
    print(f"input : {tokenizer.decode(like_training.input_ids[row].tolist())!r}\n"
          f"truth : {tokenizer.decode(truth.tolist())!r}\nmodel : {tokenizer.decode(fills[row][0].tolist())!r}\n")

like_scoring = task.evaluation_batch(val_ids, 64, np.random.default_rng(11))
too_many = sum(extra > 0 for _, extra, _ in generate_fills(like_scoring))
print(f"{too_many} of {len(fills)} held-out windows with 2 sentinels: the model wrote more sentinels "
      "than the input has")
if not QUICK:
    assert in_format >= 0.8 * len(fills), "given an input like the training inputs, the model keeps the format"
    assert too_many >= 0.8 * len(fills), "given fewer sentinels than it was trained on, it counts on"

# %% [markdown]
# Given the 4 sentinels it was trained on, the model keeps the format; given 2, it counts on,
# as the `</s>` row of section 3 predicted.  So `pretrain.fill_spans_t5` (behind `generate
# --model t5`) constrains the decoding (`models/demos.py`, `span_structure`): whenever the model
# would end a span, that probability goes to the one ending that may come next, the input's
# next sentinel or, after the last, `</s>`.  The tokens inside the spans stay the model's own.
# Each prompt hides letters of a word ("ret<extra_id_0>" before "statement" is "urn").

# %%
prompts = ["The ret<extra_id_0> statement is used in a func<extra_id_1>.",
           "raise an exc<extra_id_0> if the val<extra_id_1> is wrong",
           "the file obje<extra_id_0> is closed"]
if QUICK:
    print("(quick mode: skipping the fills of an almost untrained model)")
else:
    for prompt in prompts:
        fill = fill_spans_t5(t5, tokenizer, prompt, max_new_tokens=20)
        print(f"input : {prompt}\noutput: {fill!r}\n")
        assert re.findall(r"<extra_id_\d+>", fill) == re.findall(r"<extra_id_\d+>", prompt) and fill.endswith("</s>")

# %% [markdown]
# The format is right, by construction.  The fills are not yet the missing words: at the
# start of a span, where section 3 found the model knows least, greedy decoding often writes
# the most common token, a space, and then ends the span.  The first tokens of spans are where
# a longer run, or a bigger model, would improve next.
#
# ## Exercises
#
# 1. `corrupt(ids, noise_mask, sentinel_ids, eos_id)` -> `(input_ids, target_ids)`: each run of
#    hidden tokens becomes the next sentinel in the input; the target is each sentinel and the
#    tokens it hid; both end with `eos_id` (checked against `corrupt_spans` on many masks).
# 2. `reconstruct(input_ids, target_ids, sentinel_ids, eos_id)`: the inverse, the original ids
#    (checked against `reconstruct_from_span_corruption`).  Solutions: `lessons/solutions/t5.py`.

# %%
import exercises  # noqa: E402
from exercises import t5 as t5_checks  # noqa: E402


def corrupt(ids, noise_mask, sentinel_ids, eos_id):
    raise NotImplementedError  # your code: (input_ids, target_ids)


def reconstruct(input_ids, target_ids, sentinel_ids, eos_id):
    raise NotImplementedError  # your code


exercises.report("corrupt", corrupt, t5_checks.check_corrupt)
exercises.report("reconstruct", reconstruct, t5_checks.check_reconstruct)
print(f"\nlesson ran in {time.perf_counter() - lesson_start:.0f} s")

# %% [markdown]
# ## What to read next
#
# - `minitransformer/objectives/span_corruption.py`: the functions above and the padded
#   `span_corruption_batch`; `span_corruption_task.py`: the `SpanCorruption` task (window,
#   sentinels, its 30% and its finish on 5-30%, and the table of what was tried).
# - `minitransformer/models/t5.py`: encoder, decoder with cross-attention, `shift_right` (teacher
#   forcing), `generate` with two caches per layer, and how this T5 differs from the original.
# - `minitransformer/nn/attention.py`: cross-attention, queries from the decoder, keys and values
#   from the encoder; `minitransformer/evaluation.py`: `held_out_report` and the unigram.
#
# Next: lesson 9 shows what a decoder can do with its context alone: in-context learning.
