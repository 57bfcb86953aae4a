# %% [markdown]
# # Lesson 6: pretraining an encoder: BERT and masked language modelling
#
# A decoder (GPT, lesson 4) reads left to right, and that is what lets it generate.  For
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
# 1. the masking recipe, "15% of tokens, then 80/10/10", shown on a batch and measured;
# 2. pretraining a tiny BERT on the built-in corpus for about a minute;
# 3. what it learned: held-out loss, its guesses for hidden tokens, and how much of that comes
#    from context rather than from knowing which tokens are common;
# 4. bidirectionality: a later token changes an earlier position's output (unlike GPT);
# 5. why an encoder cannot generate text.
#
# Every claim is checked with `assert`.  Run as a script (`python lessons/06_bert_mlm.py`) or
# cell by cell as a notebook; `MINITRANSFORMER_QUICK=1` trains for a few seconds only.

# %%
import time

import numpy as np

import minitransformer as mt
from minitransformer.corpus import builtin_corpus, split_train_val
from minitransformer.models import GPT, build_model, gpt_config
from minitransformer.objectives import IGNORE_INDEX, mask_tokens
from minitransformer.train import TrainConfig, train
from minitransformer.pretrain import guess_masks_bert, make_task, make_tokenizer

from lesson_setup import OUT, QUICK, plt, save_figure  # quick mode, figures (optional matplotlib)


lesson_start = time.perf_counter()

# %% [markdown]
# ## The corpus, the tokenizer and the model
#
# The built-in corpus is the English documentation that ships with Python (`help("return")`
# and friends, about 465,000 characters).  We train the byte-level BPE tokenizer of lesson 2
# with a deliberately **small vocabulary of 300 tokens**: the 256 bytes, the special tokens
# ([CLS], [SEP], [MASK], ...) and about 20 merges, so most tokens are single characters.  A
# tiny model trained for one minute sees each of 300 tokens often enough to learn something
# about it.  With a word-sized vocabulary, most of the minute would go to learning which words
# are common.
#
# The model is BERT's "tiny" preset (3 layers, 4 heads, width 96) with a short context of 24
# tokens: about 20 characters around each hidden token, plenty for spelling, and short windows
# make each training step cheap.  Dropout is set to 0.  It protects against overfitting, which
# a one-minute run never reaches, and it would slow the learning down.

# %%
text = builtin_corpus()
tokenizer = make_tokenizer(text, vocab_size=300)
ids = np.array(tokenizer.encode(text), dtype=np.int64)
train_ids, val_ids = split_train_val(ids)  # the last 10% of the text is held out
print(f"corpus: {len(text):,} characters -> {len(ids):,} tokens "
      f"({len(train_ids):,} for training, {len(val_ids):,} held out)")
print("the first merges:", ["".join(pair) for pair in tokenizer.merges[:10]])

mt.manual_seed(0)
CONTEXT = 24
bert = build_model("bert", "tiny", vocab_size=tokenizer.vocab_size, context_length=CONTEXT, dropout=0.0)
print(f"BERT: {bert.num_parameters():,} parameters")

MASK, CLS, SEP = (tokenizer.token_to_id(name) for name in ("[MASK]", "[CLS]", "[SEP]"))
task = make_task("bert", bert, tokenizer)  # the MaskedLM task of minitransformer/train.py

# %% [markdown]
# ## 1. The masking recipe: 15%, then 80/10/10
#
# `task.batch` cuts random windows of 22 tokens from the text and frames each one as
# `[CLS] window [SEP]`.  It then calls `objectives.mask_tokens`, which chooses **15%** of the
# ordinary tokens (never [CLS] or [SEP]) as prediction targets.  The chosen tokens are not all
# treated alike:
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
# everywhere else, so the loss covers exactly the chosen 15%.

# %%
def visible(text: str) -> str:
    """Spaces and newlines made visible."""
    return text.replace(" ", "␣").replace("\n", "⏎")


def piece(token_id) -> str:
    """How one token reads in text.  A lone byte that is not a whole character shows as �."""
    return visible(tokenizer.decode([int(token_id)]))


inputs, labels = task.batch(val_ids, 1, np.random.default_rng(1))
row_in, row_labels = inputs[0], labels[0]
original = np.where(row_labels != IGNORE_INDEX, row_labels, row_in)
print("original:", tokenizer.decode(original.tolist()).replace("\n", "⏎"))
print("input   :", tokenizer.decode(row_in.tolist()).replace("\n", "⏎"))
print("\nposition  original  input      what happened")
for position in np.flatnonzero(row_labels != IGNORE_INDEX):
    was, shown = row_labels[position], row_in[position]
    what = "[MASK]" if shown == MASK else ("kept" if shown == was else "random token")
    print(f"{position:8d}  {piece(was):8}  {piece(shown):9}  {what}")

# %% [markdown]
# (A random replacement can be one of the 128 bytes that are not a character on their own,
# which prints as �.)
#
# One short window shows only a few choices, so we measure the rates on many longer ones,
# calling `mask_tokens` directly on 2,000 windows of 100 tokens.  The 15% is exact in every
# window (15 of 100; with 22 tokens it is round(3.3) = 3).  The 80/10/10 split is drawn at
# random for each target, so it holds on average.  Each kind is counted by comparing input,
# label and the `[MASK]` id.

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

assert (chosen.sum(axis=1) == 15).all(), "exactly 15% of every window"
assert (labels[chosen] == original[chosen]).all() and (inputs[~chosen] == original[~chosen]).all()
assert abs(rate["[MASK]"] - 0.80) < 0.015
assert abs(rate["random"] - 0.10) < 0.01  # a random token equal to the original counts as kept: rare
assert abs(rate["kept"] - 0.10) < 0.01

# %% [markdown]
# ## 2. Pretraining a tiny BERT
#
# The loss is the cross-entropy of the model's prediction at the chosen positions only:
#
#     loss = mean over chosen positions i of  -log p(original token_i | corrupted input)
#
# The loop is the core of `minitransformer/train.py`: AdamW, warmup then cosine decay, and
# gradient clipping.  The peak learning rate is 1e-3.  Post-norm BERT is more sensitive to it
# than GPT: in our runs, 3e-3 left this model stuck at predicting common tokens, whatever
# their context.
#
# We measure the model on fixed held-out batches before and after, with four numbers:
# - **MLM loss**: the loss above, on held-out text;
# - **loss at [MASK]**: the same, only at positions showing `[MASK]`, where the token is truly
#   hidden.  (At the 10% kept positions the answer is in plain sight, which makes the MLM loss
#   look better than the model's real skill.);
# - **unigram loss at [MASK]**: the loss of the best model that ignores context and always
#   predicts the training-set token frequencies.  Beating it means using context;
# - **top-5 accuracy at [MASK]**, against the same context-free baseline: always guessing the
#   5 most common tokens.

# %%
held_out_batches = [task.batch(val_ids, 64, np.random.default_rng(100 + i)) for i in range(8)]
counts = np.bincount(train_ids, minlength=tokenizer.vocab_size)
unigram_log_probs = np.log((counts + 1) / (counts + 1).sum())  # add-one smoothing: no log(0)
most_common_5 = np.argsort(-counts)[:5]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def measure(model) -> dict:
    """MLM loss, loss and top-5 accuracy at [MASK] positions, and their context-free baselines."""
    model.eval()
    mlm_losses, mask_losses, unigram_losses, top5_hits, baseline_hits = [], [], [], [], []
    with mt.no_grad():
        for inputs, labels in held_out_batches:
            logits, loss = model.mlm(inputs, labels)
            mlm_losses.append(loss.item())
            at_mask = (inputs == MASK) & (labels != IGNORE_INDEX)
            log_probs, truth = log_softmax(logits.numpy()[at_mask]), labels[at_mask]
            mask_losses.extend(-log_probs[np.arange(len(truth)), truth])
            unigram_losses.extend(-unigram_log_probs[truth])
            top5 = np.argsort(-log_probs, axis=1)[:, :5]
            top5_hits.extend((top5 == truth[:, None]).any(axis=1))
            baseline_hits.extend(np.isin(truth, most_common_5))
    model.train()
    return {"MLM loss": np.mean(mlm_losses), "loss at [MASK]": np.mean(mask_losses),
            "unigram loss at [MASK]": np.mean(unigram_losses), "top-5 accuracy at [MASK]": np.mean(top5_hits),
            "5 most common tokens": np.mean(baseline_hits)}


before = measure(bert)

steps = 60 if QUICK else 800
batch_size, peak_lr = 48, 1e-3
# the library's training loop (minitransformer/train.py), the one `pretrain` runs: AdamW with
# weight decay on matrices, warmup then cosine decay, gradient clipping
config = TrainConfig(steps=steps, batch_size=batch_size, lr=peak_lr, min_lr=peak_lr / 10,
                     warmup=min(50, steps // 4), weight_decay=0.01, betas=(0.9, 0.999), grad_clip=1.0,
                     log_every=max(1, steps // 6), eval_every=steps, eval_batches=4, checkpoint_every=steps, seed=0)
losses = []  # every step's training loss, for the figure below
train(bert, task, train_ids, val_ids, config, OUT / "bert_run", metadata={},
      on_step=lambda step, loss: losses.append(loss))

after = measure(bert)
print(f"\n{'on held-out text':28} {'untrained':>10} {'trained':>10}")
for name in before:
    if name != "5 most common tokens":
        print(f"{name:28} {before[name]:10.3f} {after[name]:10.3f}")
print(f"{'unigram loss at [MASK]':28} {'':>10} {after['unigram loss at [MASK]']:10.3f}  (context-free baseline)")
print(f"{'top-5 of 5 most common':28} {'':>10} {after['5 most common tokens']:10.3f}  (context-free baseline)")

assert after["MLM loss"] < before["MLM loss"] - 1.0, "training should clearly lower the held-out MLM loss"
if not QUICK:
    assert after["MLM loss"] < before["MLM loss"] - 1.5
    assert after["loss at [MASK]"] < after["unigram loss at [MASK]"] - 0.1, \
        "the trained model should beat every context-free predictor at [MASK]: it must be using context"
    assert after["top-5 accuracy at [MASK]"] > after["5 most common tokens"] + 0.02

# %% [markdown]
# ## 3. What the model learned
#
# How to read the table.  The untrained model spreads its bets evenly: ln 300 = 5.7 nats.
# Most of the drop after that is the cheap part: learning which tokens are common (the
# unigram loss), plus spotting that a token left unchanged is often the answer.  The part
# that needs context is the gap between "loss at [MASK]" and the unigram loss, and it is small
# after one minute: a few tenths of a nat.  The full-size BERT trained for days on billions of
# words, and filling in words from context is exactly what it got good at.  Our tiny model has
# only started.

# %%
if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(1, steps + 1), losses, lw=0.8, label="training batches")
    ax.axhline(after["unigram loss at [MASK]"], color="gray", ls=":", label="unigram loss at [MASK] (held out)")
    ax.axhline(after["loss at [MASK]"], color="C1", ls="--", label="trained, loss at [MASK] (held out)")
    ax.set_xlabel("step")
    ax.set_ylabel("MLM loss (nats)")
    ax.legend()
    ax.set_title("Tiny BERT, masked language modelling")
    save_figure(fig, "06_bert_mlm_loss.png")
else:
    print('(install matplotlib for a figure of the training loss: pip install -e ".[viz]")')

# %% [markdown]
# ### The model's guesses
#
# `pretrain.guess_masks_bert` frames a text as `[CLS] text [SEP]`, runs `bert.mlm` and lists
# the most likely tokens at each `[MASK]`.  With our small vocabulary a token is mostly one
# character, so these are spelling questions: which letter fits here, given both sides?
#
# Expect modest answers.  The guesses are still close to the list of common characters
# (space, e, a, s, t), shifted by context only a little.  Where the context is
# clearest, between two whole words, a space does rise to the top.

# %%
questions = [("The ret[MASK]rn value", "u"), ("a function cal[MASK]", "l"), ("a list o[MASK] values", "f"),
             ("if x is No[MASK]e:", "n"), ("the default[MASK]value", " ")]
for question, answer in questions:
    (guesses,) = guess_masks_bert(bert, tokenizer, question, top=5)
    shown = ", ".join(f"{visible(token)!r} {p:.2f}" for token, p in guesses)
    print(f"{question:24} hidden {visible(answer)!r:5} guesses: {shown}")


def probability_of(question: str, token: str) -> float:
    (guesses,) = guess_masks_bert(bert, tokenizer, question, top=tokenizer.vocab_size)
    return dict(guesses)[token]


between_words, inside_word = probability_of("the default[MASK]value", " "), probability_of("The ret[MASK]rn value", " ")
print(f"p(space) between two words {between_words:.2f}, inside a word {inside_word:.2f}")
if not QUICK:
    assert between_words > inside_word, "context should make a space likelier between two words"

# %% [markdown]
# ## 4. Bidirectionality
#
# In an encoder, position i attends to every position, so changing a *later* token changes
# the output at position i.  In GPT the causal mask blocks the future, and position i cannot
# see it.  We test it directly: change token 16 of a window and compare the outputs at
# positions 0..15, for the trained BERT and for a GPT of the same size.  (The GPT needs no
# training: the mask alone decides what a position can see.)

# %%
LATER = 16
window = held_out_batches[0][0][:1].copy()  # one [CLS] ... [SEP] row
changed = window.copy()
z, q = tokenizer.encode("z")[0], tokenizer.encode("q")[0]
changed[0, LATER] = z if window[0, LATER] != z else q

bert.eval()
with mt.no_grad():
    bert_shift = np.abs(bert(changed).numpy() - bert(window).numpy())[0].max(axis=-1)  # per position

mt.manual_seed(0)
gpt = GPT(gpt_config("tiny", vocab_size=tokenizer.vocab_size, context_length=CONTEXT, n_layers=3, d_model=96))
with mt.no_grad():
    gpt_shift = np.abs(gpt.hidden_states(changed).numpy() - gpt.hidden_states(window).numpy())[0].max(axis=-1)

print(f"largest change in the output of each position when token {LATER} changes")
print(f"  BERT: positions 0..{LATER - 1}: {bert_shift[:LATER].min():.2e} to {bert_shift[:LATER].max():.2e};  "
      f"position {LATER}: {bert_shift[LATER]:.2e}")
print(f"  GPT : positions 0..{LATER - 1}: {gpt_shift[:LATER].max():.2e};  position {LATER}: {gpt_shift[LATER]:.2e}")
assert (bert_shift[:LATER] > 1e-4).all(), "in BERT every earlier position should see the later change"
assert (gpt_shift[:LATER] < 1e-6).all(), "in GPT no earlier position can see a later token"
assert gpt_shift[LATER] > 1e-4

# %% [markdown]
# Does the trained BERT actually *use* the right-hand side?  At many held-out `[MASK]`
# positions we compare the loss with the full window, with everything to the right of the
# `[MASK]` hidden (replaced by `[MASK]` as well), and with everything to the left hidden.

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
    log_probs = log_softmax(logits.numpy()[:, middle])
    return float(-log_probs[np.arange(n_rows), truth].mean())


side_losses = {hide: loss_at_one_mask(hide) for hide in ("nothing", "right", "left")}
for hide, value in side_losses.items():
    print(f"loss at the [MASK] with {hide + ' hidden':15}: {value:.3f}")
if not QUICK:
    assert side_losses["nothing"] < side_losses["right"] - 0.03, "hiding the right side should hurt: BERT uses it"
    assert side_losses["nothing"] < side_losses["left"] - 0.03, "hiding the left side should hurt too"

# %% [markdown]
# Hiding either side makes the guess worse, so the model uses both.  The effect is small
# because, as section 3 showed, it does not yet use its context much at all.
#
# ## 5. Why an encoder cannot generate
#
# To write text, a model needs p(next token | the tokens so far), to sample from one token
# at a time.  GPT is trained to provide exactly that.  BERT is not.  Its training always shows
# it both sides of a gap, and at an ordinary position it sees the very token it would have to
# predict.  It has learned p(hidden token | everything else), which gives no left-to-right
# order in which to sample.  (People have tried to sample from BERT anyway, e.g. by
# repeatedly masking and refilling, without matching a decoder.)  So minitransformer's
# `BERT.generate` refuses, and its error says what to use instead:

# %%
try:
    bert.generate(np.array([[tokenizer.token_to_id("[CLS]")]]), max_new_tokens=10)
except TypeError as error:
    message = str(error)
    print("TypeError:", message)
else:
    raise AssertionError("BERT.generate should refuse")
assert "cannot generate" in message and "GPT" in message and "T5" in message

print(f"\nlesson ran in {time.perf_counter() - lesson_start:.0f} s")

# %% [markdown]
# ## What to read next
#
# - `minitransformer/objectives/masked_lm.py`: `mask_tokens`, the 15% and 80/10/10 recipe, and whole-word
#   masking (all the pieces of a word hidden together) for WordPiece vocabularies.
# - `minitransformer/models/bert.py`: the post-norm encoder, the MLM head that reuses the word
#   embeddings as its output layer, the [CLS] pooler and the classifier used for fine-tuning
#   (lesson 5), and the names that map onto Hugging Face checkpoints.
# - `minitransformer/train.py`: the `MaskedLM` task used above, and the full training loop.
# - `minitransformer/pretrain.py`: `guess_masks_bert`.
#
# Next: lesson 7 puts an encoder and a decoder together (T5) and pretrains them by span
# corruption.
