# %% [markdown]
# # Lesson 7: pretraining an encoder: BERT and masked language modelling
#
# A decoder (GPT, lesson 5) reads left to right, and that is what lets it generate.  For
# *understanding* a sentence, though, a word's meaning depends on what comes after it as
# well: in "the bank of the river", `river` settles what `bank` means.  An **encoder** drops
# the causal mask, so every position attends to every other.  BERT (Devlin et al., 2019) is
# such an encoder.
#
# Without the causal mask, next-token prediction stops working as a training task: every
# position can see the token it is supposed to predict.  BERT's answer is **masked language
# modelling** (MLM).  Hide some tokens from the input and predict them from both sides:
#
#     input:   The [MASK] statement leaves the current [MASK] call.
#     predict:      return                             function
#
# Plan:
# 1. the paper's masking recipe, "15% of tokens, then 80/10/10", shown on a window and measured,
#    and the higher rate this library pretrains with;
# 2. the paper's architecture against the `tiny` preset's, in a short race: why a tiny BERT
#    departs from the paper to learn in minutes;
# 3. pretraining the tiny BERT for about a minute, measured on held-out text against a model
#    that knows only which tokens are common;
# 4. its guesses for hidden tokens;
# 5. bidirectionality: the model uses both sides of a gap.
#
# Lesson 10 loads a real pretrained BERT: segment embeddings, next-sentence prediction, the
# paper's sizes, every position seeing every other, and why an encoder cannot generate.
#
# Every claim is checked with `assert`.  Run as a script (`python lessons/07_bert_mlm.py`) or
# cell by cell as a notebook; `MINITRANSFORMER_QUICK=1` trains for a few seconds only.

# %%
import time
from dataclasses import fields

import numpy as np

import minitransformer as mt
from minitransformer.corpus import builtin_corpus, split_train_val
from minitransformer.evaluation import held_out_report, log_softmax_rows, unigram_counts, unigram_probabilities
from minitransformer.models import build_model
from minitransformer.models.bert import bert_config
from minitransformer.objectives import IGNORE_INDEX, mask_tokens, task_for
from minitransformer.objectives.masked_lm import BERT_MASK_PROB, PRETRAINING_MASK_PROB
from minitransformer.pretrain import guess_masks_bert, make_tokenizer, train_config
from minitransformer.train import train

from lesson_setup import OUT, QUICK, plt, save_figure  # quick mode, figures (optional matplotlib)

SEED = 0  # the weights' and the batches' seed; the assertions below hold for seeds 0, 1 and 2
lesson_start = time.perf_counter()

# %% [markdown]
# ## The corpus, the tokenizer and the model
#
# The built-in corpus is the English documentation that ships with Python (`help("return")`
# and friends, about 465,000 characters).  We train the byte-level BPE tokenizer of lesson 2
# with a deliberately **small vocabulary of 300 tokens**: the 256 bytes, the special tokens
# ([CLS], [SEP], [MASK], ...) and a few merges, so most tokens are single characters, and a
# model trained for a minute sees each one often.  The model is BERT's `tiny` preset (3
# layers, 4 heads, width 96, no dropout: a one-minute run never overfits) with a short
# context of 24 tokens, about 20 characters around each hidden token: plenty for spelling,
# and cheap steps.

# %%
text = builtin_corpus()
tokenizer = make_tokenizer(text, vocab_size=300)
ids = np.array(tokenizer.encode(text), dtype=np.int64)
train_ids, val_ids = split_train_val(ids)  # the last 10% of the text is held out
print(f"corpus: {len(text):,} characters -> {len(ids):,} tokens "
      f"({len(train_ids):,} for training, {len(val_ids):,} held out)")
print(f"{len(tokenizer.merges)} merges, the first:", ["".join(pair) for pair in tokenizer.merges[:10]])

CONTEXT = 24
mt.manual_seed(SEED)
bert = build_model("bert", "tiny", vocab_size=tokenizer.vocab_size, context_length=CONTEXT)
print(f"BERT: {bert.num_parameters():,} parameters")

MASK, CLS, SEP = (tokenizer.token_to_id(name) for name in ("[MASK]", "[CLS]", "[SEP]"))
task = task_for(bert, tokenizer)  # the MaskedLM task of minitransformer/objectives/masked_lm.py

# %% [markdown]
# ## 1. The masking recipe: 15%, then 80/10/10
#
# `task.batch` cuts random windows of 22 tokens from the text and frames each one as
# `[CLS] window [SEP]`.  It then calls `objectives.mask_tokens`, which chooses a share of the
# ordinary tokens (never [CLS] or [SEP]) as prediction targets.  The paper chooses **15%**,
# and that is `mask_tokens`'s default.  The chosen tokens are not all treated alike:
#
# - **80%** are replaced by `[MASK]`;
# - **10%** are replaced by a random token;
# - **10%** are left unchanged.
#
# Why not always `[MASK]`?  Because `[MASK]` never appears in real text, at fine-tuning or at
# use.  If the model only ever had to predict at `[MASK]` positions, it could learn to compute
# nothing useful at ordinary positions.  The random and unchanged 10%s mean that any token
# might be a target, so the model has to build a good representation of every position,
# including, for the unchanged ones, a check that the token it sees fits its context.
#
# The labels hold the original token at the chosen positions and `IGNORE_INDEX` (-100)
# everywhere else, so the loss covers exactly the chosen tokens.  Here is one held-out
# window, masked the paper's way:

# %%
def visible(text: str) -> str:
    """Spaces and newlines made visible."""
    return text.replace(" ", "␣").replace("\n", "⏎")


def piece(token_id) -> str:
    """How one token reads in text.  A lone byte that is not a whole character shows as �."""
    return visible(tokenizer.decode([int(token_id)]))


start = 1000
row = np.concatenate([[CLS], val_ids[start:start + CONTEXT - 2], [SEP]])
row_in, row_labels = mask_tokens(row, tokenizer.vocab_size, MASK, task.special_ids, np.random.default_rng(1))
print("original:", visible(tokenizer.decode(row.tolist())))
print("input   :", visible(tokenizer.decode(row_in.tolist())))
print("\nposition  original  input      what happened")
for position in np.flatnonzero(row_labels != IGNORE_INDEX):
    was, shown = row_labels[position], row_in[position]
    what = "[MASK]" if shown == MASK else ("kept" if shown == was else "random token")
    print(f"{position:8d}  {piece(was):8}  {piece(shown):9}  {what}")

# %% [markdown]
# (A random replacement can be one of the 128 bytes that are not a character on their own,
# which prints as �.)
#
# We measure the rates with `mask_tokens` on 2,000 windows of 100 tokens.  The 15% is exact
# in every window (15 of 100; of the 22 tokens above, round(3.3) = 3).  The 80/10/10 split is
# drawn at random for each target, so it holds on average.

# %%
windows, length = 2000, 100
starts = np.random.default_rng(4).integers(0, len(val_ids) - length, size=windows)
original = np.stack([val_ids[s:s + length] for s in starts])
inputs, labels = mask_tokens(original, tokenizer.vocab_size, MASK, task.special_ids, np.random.default_rng(5))
chosen = labels != IGNORE_INDEX
masked = chosen & (inputs == MASK)
kept = chosen & (inputs == original)
randomized = chosen & ~masked & ~kept

rate = {"chosen": chosen.mean(), "[MASK]": masked.sum() / chosen.sum(),
        "random": randomized.sum() / chosen.sum(), "kept": kept.sum() / chosen.sum()}
print(f"{windows} windows of {length} tokens: {chosen.sum():,} chosen for prediction")
print(f"chosen: {rate['chosen']:.2%} of the tokens (BERT: 15%)")
for kind in ("[MASK]", "random", "kept"):
    print(f"  {kind:>7}: {rate[kind]:.2%} of the chosen")

assert BERT_MASK_PROB == 0.15 and (chosen.sum(axis=1) == 15).all(), "exactly 15% of every window"
assert (labels[chosen] == original[chosen]).all() and (inputs[~chosen] == original[~chosen]).all()
assert abs(rate["[MASK]"] - 0.80) < 0.015
assert abs(rate["random"] - 0.10) < 0.01  # a random token equal to the original counts as kept: rare
assert abs(rate["kept"] - 0.10) < 0.01

# %% [markdown]
# **Pretraining here masks 40%, not 15%.**  The loss only covers the chosen tokens, so at 15%
# a step learns from 15% of the tokens it reads; at 40% it learns from 2.7 times as many, for
# the same cost.  The model then sees less context around each blank.  Wettig et al. (2022),
# "Should You Mask 15% in Masked Language Modeling?", found the trade worth it: masking 40% can
# do better than 15%, even for BERT-large.  The MaskedLM task trains at `PRETRAINING_MASK_PROB`
# and always *scores* at the paper's 15% (`task.evaluation_batch`), so its numbers compare
# with a model trained the paper's way (`task_for(bert, tokenizer, mask_prob=0.15)`).

# %%
train_inputs, train_labels = task.batch(train_ids, 256, np.random.default_rng(2))
eval_inputs, eval_labels = task.evaluation_batch(val_ids, 256, np.random.default_rng(3))
per_train_row, per_eval_row = ((labels != IGNORE_INDEX).sum(axis=1) for labels in (train_labels, eval_labels))
print(f"task.mask_prob = {task.mask_prob}: {per_train_row[0]} of the {CONTEXT - 2} tokens of every training row "
      f"are chosen; {per_eval_row[0]} of every scored row")
assert task.mask_prob == PRETRAINING_MASK_PROB == 0.4
assert (per_train_row == round(0.4 * (CONTEXT - 2))).all() and (per_eval_row == round(0.15 * (CONTEXT - 2))).all()

# %% [markdown]
# ## 2. The paper's BERT and the `tiny` preset
#
# The loss is the cross-entropy of the model's prediction at the chosen positions only:
#
#     loss = mean over chosen positions i of  -log p(original token_i | corrupted input)
#
# **How we measure it.**  A held-out loss needs a reference point.  The **unigram** model
# ignores context and always predicts the training split's token frequencies; it is the best
# guess of a model that has learned which tokens are common and nothing else.  Its loss on the
# hidden tokens is the plateau every MLM model reaches first.  What a model learned *from
# context* is how far below it goes.  `evaluation.held_out_report` scores a model on held-out
# windows masked at 15% and puts the loss beside the unigram's and the uniform guess's (ln V),
# with the top-1 accuracy beside the unigram's (always guessing the most frequent token).  Its
# core, computed here once by hand on one batch.  (Google's BERT code, `run_pretraining.py`,
# gathers the chosen positions first, `gather_indexes`, and runs the MLM head there only.
# Hugging Face's `BertForMaskedLM` and minitransformer's `bert.mlm` compute logits at every
# position and let the loss skip the -100 labels; `task.scored_predictions` picks the chosen.)

# %%
counts = unigram_counts(train_ids, tokenizer.vocab_size)


def report(model, batches=32):
    """The model on `batches` x 32 held-out windows (the same windows every call)."""
    return held_out_report(model, task, val_ids, counts, batches=batches, batch_size=32, seed=SEED + 1234)


by_library = held_out_report(bert, task, val_ids, counts, batches=1, batch_size=32, seed=7)
scored_batch = task.evaluation_batch(val_ids, 32, np.random.default_rng(7))
logits, targets = task.scored_predictions(bert, scored_batch)
assert bert.mlm(scored_batch[0])[0].shape == (32, CONTEXT, tokenizer.vocab_size)  # every position
model_nll = -log_softmax_rows(logits)[np.arange(len(targets)), targets].mean()
unigram_nll = -np.log(unigram_probabilities(counts)[targets]).mean()  # add-one smoothed frequencies
print(f"by hand: the untrained model {model_nll:.3f} nats, the unigram {unigram_nll:.3f}, "
      f"ln V = {np.log(tokenizer.vocab_size):.3f}, on {len(targets)} hidden tokens")
assert np.isclose(model_nll, by_library.nll) and np.isclose(unigram_nll, by_library.unigram_nll)

# %% [markdown]
# **The recipe.**  The paper's BERT is a post-norm encoder, `x = LN(x + f(x))`, with a
# LayerNorm after the embeddings, a *segment* embedding (which of two sentences a token
# belongs to, for `[CLS] A [SEP] B [SEP]`), and an MLM head that transforms the hidden state
# (dense, GELU, LayerNorm) before the output layer, which reuses the word embeddings.  It
# masks 15% and trains at learning rate 1e-4 with 256 sequences of 512 tokens for a million
# steps.  `BertConfig`'s defaults are that architecture, so real checkpoints load; the
# `tiny-paper` preset is it at the tiny size.
#
# The `tiny` preset departs from it in five ways:
# - **T5's relative positions** (the largest change): instead of a learned vector per absolute
#   position added to each token, a learned number per head and distance added to the attention
#   scores (`nn/relative_position.py`), started *local* (minus a slope times the distance, so
#   every head first reads its neighbours).  A hidden token needs its neighbours first, and with
#   absolute positions "the token just left of me" is a different direction at every position,
#   to be learned 24 times over; relative, it is one number, the same everywhere;
# - **pre-norm** blocks `x = x + f(LN(x))` with one LayerNorm at the end, as GPT-2, and GPT-2's
#   initialization of the projections that write into the residual stream (scaled down with
#   depth);
# - **no LayerNorm after the embeddings**: each pre-norm block normalizes its own input;
# - **no segment embedding**: pretraining here always has one segment, so the segment
#   embedding is one vector added at every position.  Its gradient sums over all positions,
#   Adam moves it by about the learning rate every step, and without the LayerNorm after the
#   embeddings it soon drowns the word and position signal: every position looks alike;
# - **no transform in the MLM head**: a freshly initialized dense layer and LayerNorm between
#   the encoder and the tied output layer held a model this narrow near the unigram plateau.
#
# (Its LayerNorms also use PyTorch's epsilon, 1e-5, instead of BERT's 1e-12.)  Both train with
# the library's learning rate for BERT (`task.default_lr`, printed below; the paper's 1e-4
# suits 256 x 512-token batches and a million steps) and 40% masking; `models/bert.py`
# tabulates each change on longer runs.  A short race, same steps, batches and seed:

# %%
paper_config, tiny_config = bert_config("tiny-paper"), bert_config("tiny")
print(f"learning rate {task.default_lr}; tiny-paper -> tiny:")
for field in fields(paper_config):
    was, now = getattr(paper_config, field.name), getattr(tiny_config, field.name)
    if was != now:
        print(f"  {field.name:20} {was!s:>6} -> {now}")


def pretrain_bert(model, steps: int, name: str) -> list:
    """`pretrain --model bert`'s training loop (train.py) with its defaults, except the batch (48
    windows) and the step count; returns every step's training loss."""
    config = train_config("bert", steps=steps, batch_size=48, warmup=min(50, steps // 4), log_every=max(1, steps // 4),
                          eval_every=steps, eval_batches=2, checkpoint_every=steps, seed=SEED)
    losses = []
    train(model, task_for(model, tokenizer), train_ids, val_ids, config, OUT / name, metadata={},
          on_step=lambda step, loss: losses.append(loss))
    return losses


race_steps = 20 if QUICK else 150
race = {}
for preset in ("tiny-paper", "tiny"):
    mt.manual_seed(SEED)
    racer = build_model("bert", preset, vocab_size=tokenizer.vocab_size, context_length=CONTEXT)
    print(f"\n{preset}: {race_steps} steps")
    pretrain_bert(racer, race_steps, f"bert_race_{preset}")
    race[preset] = report(racer, batches=8)
print(f"\nafter {race_steps} steps, held-out: {'nats':>6} {'below unigram':>14} {'top-1':>7}")
for preset, result in race.items():
    print(f"  {preset:26} {result.nll:6.3f} {result.gain_over_unigram:14.3f} {result.top1:7.1%}")
print(f"  {'unigram':26} {result.unigram_nll:6.3f} {'':>14} {result.unigram_top1:7.1%}")
if not QUICK:
    assert race["tiny"].gain_over_unigram > race["tiny-paper"].gain_over_unigram + 0.15, \
        "the tiny preset should leave the unigram plateau faster than the paper's architecture"

# %% [markdown]
# The `tiny` preset is further below the unigram plateau; over longer runs (the table in
# `models/bert.py`) the paper's architecture stalls well above it.  None of this says the
# paper was wrong: a 768-wide BERT trained for a million steps is a different regime.  A small
# budget needs attention that can find the neighbours from the start (relative positions,
# started local), layers that pass gradients straight through (pre-norm), no parameters that
# slow the start (the head's transform), and nothing that swamps the signal (the segment vector).
#
# ## 3. Pretraining the tiny BERT
#
# Now the `tiny` model for longer.  The loop is the core of `minitransformer/train.py`:
# AdamW, warmup then cosine decay, and gradient clipping.

# %%
before = report(bert)
steps = 60 if QUICK else 600
losses = pretrain_bert(bert, steps, "bert_run")
after = report(bert)

print()
print("\n".join(after.lines(tokenizer)))
print(f"untrained: {before.nll:.3f} nats, top-1 {before.top1:.1%}")
assert abs(before.nll - np.log(tokenizer.vocab_size)) < 0.2, "untrained, the model is close to a uniform guess"
assert after.nll < before.nll - 1.0, "training should clearly lower the held-out loss"
if not QUICK:
    assert after.gain_over_unigram > 1.2, "the trained model should be far below the unigram: it uses context"
    assert after.top1 > 3 * after.unigram_top1, "and guess the hidden token more than three times as often"
    assert np.mean(losses[-50:]) > after.nll, "training at 40% masking is harder than scoring at 15%"

# %% [markdown]
# How to read the report.  The untrained model spreads its bets almost evenly: about ln 300
# nats.  The first part of the drop is the cheap part: learning which tokens are common, which
# takes a model down to the unigram line.  Everything below that line comes from context, and
# here it is more than a nat: the model gives the hidden token several times the probability
# that frequency alone gives it (the factor is printed above), and its first guess is right
# more than three times as often as always guessing the most common token.
#
# (The training loss in the figure is measured at 40% masking, where each blank has less
# context around it, so it sits above the held-out loss scored at 15%.)

# %%
if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(1, steps + 1), losses, lw=0.8, label="training batches (40% masked)")
    ax.axhline(after.unigram_nll, color="gray", ls=":", label="unigram, held out (15% masked)")
    ax.axhline(after.nll, color="C1", ls="--", label="trained model, held out (15% masked)")
    ax.set_xlabel("step")
    ax.set_ylabel("MLM loss (nats)")
    ax.legend()
    ax.set_title("Tiny BERT, masked language modelling")
    save_figure(fig, "07_bert_mlm_loss.png")
else:
    print('(install matplotlib for a figure of the training loss: pip install -e ".[viz]")')

# %% [markdown]
# ## 4. The model's guesses
#
# `pretrain.guess_masks_bert` frames a text as `[CLS] text [SEP]`, runs `bert.mlm` and lists
# the most likely tokens at each `[MASK]`.  With our small vocabulary a token is mostly one
# character, so these are spelling questions: which letter fits here, given both sides?  In
# "inst[MASK]nce" the left side alone allows "instead" and "instruction", and the right side
# settles it.  (Each question hides a token that the tokenizer really produces for the full
# text: "functi[MASK]n" would not, since the merges spell "function" with the piece "on".)

# %%
questions = [("the file obje[MASK]t is", "c"), ("raise an exc[MASK]ption if", "e"), ("is an inst[MASK]nce of the", "a"),
             ("the return val[MASK]e of the", "u"), ("the st[MASK]tement", "a"), ("the default[MASK]value", " ")]
right = 0
for question, answer in questions:
    left, after = question.split("[MASK]")
    pieces = tokenizer.encode(left) + tokenizer.encode(answer) + tokenizer.encode(after)
    assert tokenizer.encode(left + answer + after) == pieces, f"{question!r} hides no whole token"
    (guesses,) = guess_masks_bert(bert, tokenizer, question, top=5)
    shown = ", ".join(f"{visible(token)!r} {p:.2f}" for token, p in guesses)
    right += guesses[0][0] == answer
    print(f"{question:28} hidden {visible(answer)!r:5} guesses: {shown}")
print(f"first guess right for {right} of {len(questions)}")


def probability_of(question: str, token: str) -> float:
    (guesses,) = guess_masks_bert(bert, tokenizer, question, top=tokenizer.vocab_size)
    return dict(guesses)[token]


between_words, inside_word = probability_of("the default[MASK]value", " "), probability_of("the st[MASK]tement", " ")
print(f"p(space) between two words {between_words:.2f}, inside a word {inside_word:.2f}")
if not QUICK:
    assert right >= 5, "the trained model should spell most of these"
    assert between_words > 0.3 > 0.05 > inside_word, "context should decide whether a space fits"

# %% [markdown]
# ## 5. Bidirectionality
#
# In an encoder, position i attends to every position, so changing a *later* token changes
# the output at position i; in GPT the causal mask blocks the future.  Lesson 10 shows it on a
# real BERT beside a GPT.  Here we ask whether the trained tiny BERT actually *uses* the
# right-hand side.

# At many held-out `[MASK]` positions we compare the loss with the full window, with
# everything to the right of the `[MASK]` hidden (replaced by `[MASK]` as well), and with
# everything to the left hidden.

# %%
def loss_at_one_mask(hide: str, n_rows: int = 512) -> float:
    """Mean loss at one [MASK] in the middle of each window, with the left or right side hidden or not."""
    starts = np.random.default_rng(6).integers(0, len(val_ids) - (CONTEXT - 2), size=n_rows)
    rows = np.stack([val_ids[s:s + CONTEXT - 2] for s in starts])
    inputs = np.concatenate([np.full((n_rows, 1), CLS), rows, np.full((n_rows, 1), SEP)], axis=1)
    middle = CONTEXT // 2
    truth = inputs[:, middle].copy()
    inputs[:, middle] = MASK
    if hide == "right":
        inputs[:, middle + 1:-1] = MASK
    elif hide == "left":
        inputs[:, 1:middle] = MASK
    with mt.no_grad():
        logits, _ = bert.mlm(inputs)
    return float(-log_softmax_rows(logits.numpy()[:, middle])[np.arange(n_rows), truth].mean())


side_losses = {hide: loss_at_one_mask(hide) for hide in ("nothing", "right", "left")}
for hide, value in side_losses.items():
    print(f"loss at the [MASK] with {hide + ' hidden':15}: {value:.3f}")
if not QUICK:
    assert side_losses["nothing"] < side_losses["right"] - 0.3, "hiding the right side should hurt: BERT uses it"
    assert side_losses["nothing"] < side_losses["left"] - 0.3, "hiding the left side should hurt too"

# %% [markdown]
# Hiding either side costs the model the better part of a nat, so it reads both.
#
# ## Exercises
#
# 1. `mask_chosen(ids, chosen, mask_id, vocab_size, rng)`: ids (B, T) and a boolean array of
#    the positions chosen for prediction; return `(inputs, labels)`.  A chosen input becomes
#    `mask_id` (probability 0.8), a random id below vocab_size (0.1), or stays (0.1), drawn
#    with `rng`; labels: the original id where chosen, -100 elsewhere.  The checker measures
#    the three shares and that no other position changed.
# 2. `mlm_loss(logits, labels)`: logits (B, T, V); the mean of -log softmax(logits)[label] over
#    the chosen positions only, as a float (checked against `F.cross_entropy`).
#
# Solutions: `lessons/solutions/bert.py`.

# %%
import exercises  # noqa: E402
from exercises import bert as bert_checks  # noqa: E402


def mask_chosen(ids, chosen, mask_id, vocab_size, rng):
    raise NotImplementedError  # your code: (inputs, labels)


def mlm_loss(logits, labels):
    raise NotImplementedError  # your code: the mean loss over the chosen positions


exercises.report("mask_chosen", mask_chosen, bert_checks.check_mask_chosen)
exercises.report("mlm_loss", mlm_loss, bert_checks.check_mlm_loss)
print(f"\nlesson ran in {time.perf_counter() - lesson_start:.0f} s")

# %% [markdown]
# ## What to read next
#
# - `minitransformer/objectives/masked_lm.py`: `mask_tokens`, the 15% and 80/10/10 recipe, and
#   whole-word masking (all the pieces of a word hidden together) for WordPiece vocabularies;
#   the `MaskedLM` task used above, which trains at 40% and scores at 15%.
# - `minitransformer/models/bert.py`: post-norm and pre-norm blocks, the table of what each
#   departure from the paper measured, the MLM head tied to the word embeddings, the [CLS]
#   pooler and classifier (lesson 6), and the names that map onto Hugging Face checkpoints.
# - `minitransformer/evaluation.py`: `held_out_report` and the unigram baseline.
# - `minitransformer/train.py`: the full training loop; `minitransformer/models/demos.py`:
#   `guess_masks_bert`.
#
# Next: lesson 8 puts an encoder and a decoder together (T5) and pretrains them by span
# corruption; lesson 10 loads a real pretrained BERT.
