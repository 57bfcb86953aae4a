# %% [markdown]
# # Lesson 5: pretraining a decoder (GPT)
#
# A decoder such as GPT is pretrained on one task: **predict the next token**.  Given the
# tokens x_1, ..., x_t, output a probability for every token of the vocabulary to be x_{t+1}.
# The loss is the negative log-probability given to the token that really came next, averaged
# over all positions of all training sequences:
#
#     loss = -(1/T) sum_t log p(x_{t+1} | x_1, ..., x_t)
#
# No labels are needed, only text, and there is a lot of text.  To predict the next word well
# a model has to learn spelling, grammar, facts, and something about what the text is about.
#
# In this lesson we pretrain a small GPT on the built-in corpus (the help text that ships
# with CPython) and watch it go from noise to something that looks like Python documentation:
#
# 1. text -> tokens with the byte-level BPE of lesson 2; a contiguous train/validation split;
# 2. next-token prediction as (input, target) pairs shifted by one; teacher forcing;
# 3. the model, and the causal mask that makes one forward pass train every position at once;
# 4. the loss of an untrained model, and what perplexity means;
# 5. the training loop, written out: forward, backward, optimizer step;
# 6. samples before and after, and what the model now predicts;
# 7. one decoder used two ways: generator (the tied output layer) or classifier (a new head);
# 8. GPT-1's own numbers, against the library's `gpt1` preset.
#
# Every claim is checked with `assert`.  Run as a script (`python lessons/05_gpt_pretraining.py`)
# or cell by cell as a notebook.  `MINITRANSFORMER_QUICK=1` trains a much smaller model for a
# few seconds: its loss falls less far, and its samples stay close to noise.

# %%
import math
import time

import numpy as np

import minitransformer as mt
from minitransformer.corpus import builtin_corpus, split_train_val
from minitransformer.models import GPT, GPTConfig
from minitransformer.objectives import causal_lm_batch
from minitransformer.optim import AdamW, WarmupCosine, clip_grad_norm_, set_lr, weight_decay_groups
from minitransformer.pretrain import make_tokenizer

from lesson_setup import QUICK, plt, save_figure  # quick mode, figures (optional matplotlib)


# %% [markdown]
# ## 1. From text to a stream of token ids
#
# We train a byte-level BPE tokenizer with 512 tokens on the corpus (lesson 2), the same one
# the `minitransformer pretrain` command makes.  Its special tokens (`[PAD]`, `<|endoftext|>`,
# ...) never occur in the text; they are there for fine-tuning and for the other models.
# The whole corpus then becomes one long stream of ids.
#
# The last 10% of the stream is held out for **validation**.  It is cut off as one block rather
# than picked at random, so the model is evaluated on passages it has never seen.  Random
# windows from the same passages would leak the training text into the evaluation.

# %%
text = builtin_corpus()
tokenizer = make_tokenizer(text, vocab_size=512)
ids = np.array(tokenizer.encode(text), dtype=np.int64)
train_ids, val_ids = split_train_val(ids, val_fraction=0.1)
print(f"{len(text):,} characters -> {len(ids):,} tokens ({len(text) / len(ids):.2f} characters per token)")
print(f"train {len(train_ids):,} tokens, validation {len(val_ids):,} tokens, vocabulary {tokenizer.vocab_size}")
first_tokens = [tokenizer.id_to_token(int(i)) for i in ids[:12]]
print("the first 12 tokens:", first_tokens)
assert tokenizer.decode(ids.tolist()) == text, "byte-level BPE loses nothing (lesson 2)"
assert "Ġstatement" in first_tokens and tokenizer.decode([tokenizer.token_to_id("Ċ")]) == "\n"

# %% [markdown]
# The tokens print the GPT-2 way (lesson 2, section 4), not with lesson 2's word-level `##`:
# one visible character per byte, so `Ġ` is a space and `Ċ` a newline, and a space belongs to
# the front of the word after it (`Ġstatement`).

# %% [markdown]
# ## 2. Next-token prediction, as inputs and targets
#
# A training example is a window of T + 1 consecutive tokens from the stream.  The first T are
# the input; the last T, the same window shifted one place to the left, are the targets.  So
# the target at position t is the input at position t + 1: *every* position is a prediction
# problem, and one window of T tokens gives T training examples at once.
#
# Here is one sentence, cut into inputs and targets, one position per line.  The prediction
# at position t is made from input tokens 0..t: at position 3 the model has read
# "The for statement is" and must predict " use" (the tokenizer spells "used" as " use" + "d").

# %%
sentence = np.array(tokenizer.encode("The for statement is used to iterate over the elements of a sequence."))
sentence_inputs, sentence_targets = sentence[:-1], sentence[1:]
print("position t | input token t | target = token t + 1")
for t in range(len(sentence_inputs)):
    shown_input, shown_target = (tokenizer.decode([int(i)]) for i in (sentence_inputs[t], sentence_targets[t]))
    print(f"{t:10d} | {shown_input!r:13} | {shown_target!r}")
assert tokenizer.decode(sentence_inputs[:4].tolist()) == "The for statement is"
assert tokenizer.decode([int(sentence_targets[3])]) == " use"

# %% [markdown]
# For training, `causal_lm_batch` cuts B windows of T + 1 tokens at random offsets of the
# stream and returns the inputs and the targets as two (B, T) arrays.

# %%
context = 32 if QUICK else 64
rng = np.random.default_rng(0)
inputs, targets = causal_lm_batch(train_ids, batch_size=4, context=context, rng=rng)
print(f"inputs {inputs.shape}, targets {targets.shape}")
assert (targets[:, :-1] == inputs[:, 1:]).all(), "the target at t is the input at t + 1"

# %% [markdown]
# The inputs are always the *true* text, never the model's own guesses: the prediction at
# position 5 is made from the real tokens 0..5, even if the model got position 4 wrong.  This
# is **teacher forcing**.  It makes training fast (no sampling, all positions in parallel) and
# stable (one early mistake cannot derail the rest of the window).  The model only meets its
# own outputs when it generates text, one token at a time, in section 6.
#
# ## 3. The model and the causal mask
#
# `GPT` embeds each token and its position, runs a stack of transformer blocks (lesson 4:
# attention, then a feed-forward layer, each with layer norm and a residual connection), and maps the last
# hidden state at every position to one score (logit) per vocabulary token.  The output layer
# reuses the token embedding matrix ("tied" weights).
#
# All T positions are computed in one forward pass.  That is only honest if position t cannot
# see the tokens after it, or predicting them would be copying.  Every attention layer of the
# decoder therefore applies the **causal mask** of lesson 3: position t attends to positions
# 0..t only.  We check the consequence on the whole model: change the second half of a
# window, and the logits of the first half do not move.

# %%
if QUICK:
    config = GPTConfig(vocab_size=tokenizer.vocab_size, context_length=context,
                       n_layers=1, n_heads=4, d_model=64, d_ff=256)
    steps, batch_size, lr = 200, 16, 1e-2
else:
    config = GPTConfig(vocab_size=tokenizer.vocab_size, context_length=context,
                       n_layers=2, n_heads=4, d_model=64, d_ff=256)
    steps, batch_size, lr = 1000, 16, 6e-3
mt.manual_seed(0)  # the weight initialization draws from the engine's generator
model = GPT(config)
print(config)
print(f"{model.num_parameters():,} parameters, "
      f"of which the token embedding has {model.token_embedding.weight.numel():,}")

with mt.no_grad():
    window = inputs[:1]
    changed = window.copy()
    changed[0, context // 2:] = rng.integers(0, config.vocab_size, size=context - context // 2)
    logits_before = model(window)[0].numpy()
    logits_after = model(changed)[0].numpy()
first, second = slice(0, context // 2), slice(context // 2, context)
print(f"largest change in the logits of positions 0..{context // 2 - 1}: "
      f"{np.abs(logits_after[0, first] - logits_before[0, first]).max():.1e}; "
      f"of the later positions: {np.abs(logits_after[0, second] - logits_before[0, second]).max():.1e}")
assert np.allclose(logits_after[0, first], logits_before[0, first], atol=1e-6)
assert not np.allclose(logits_after[0, second], logits_before[0, second], atol=1e-6)

# %% [markdown]
# ### What flows through the model, and what it keeps for backward
#
# `shape_trace` prints every module's input and output shapes as a tree, with nanoGPT's
# dimension names (the lecture does not use these letters): B (batch), T (time), C (model
# width), H (heads), D (head size), V (vocabulary).  Read it top to bottom and you have read
# the forward pass.
#
# `tape_memory` adds up what each op saves for its backward pass.  That tape, not the weights,
# is what fills memory during training: it grows with the batch, and attention's probabilities,
# (B, H, T, T) of them, grow with the *square* of the context.  Under `no_grad` (generation,
# evaluation) nothing is recorded at all.

# %%
from minitransformer.instruments import shape_trace, tape_memory

with shape_trace() as trace:
    model(inputs[:2, : context // 2])
print(trace.render())


def tape_of(length: int):
    with tape_memory() as tape:
        model(inputs[:4, :length], targets[:4, :length])
    return tape


short, long = tape_of(context // 2), tape_of(context)
print(long.table())
growth = long.by_op()["Attention"][1] / short.by_op()["Attention"][1]
print(f"doubling T multiplies what attention keeps by {growth:.2f} (q, k, v grow like T, the probabilities like T^2)")
assert 2 < growth < 4
with mt.no_grad(), tape_memory() as inference:
    model(inputs[:4])
assert inference.total_bytes == 0  # no graph, no tape: why generation needs far less memory

# %% [markdown]
# ## 4. The loss before training, and perplexity
#
# The weights start small (normal with standard deviation 0.02), so all logits start near 0
# and the softmax gives every token about the same probability, 1/V.  The loss of a model that
# spreads its bets evenly over V tokens is -log(1/V) = log V.  For V = 512 that is 6.24: the
# number to expect at step 0, and a good first check of any language-model code.
#
# **Perplexity** is exp(loss).  It turns the loss back into a count: a perplexity of k means
# the model is as uncertain, on average, as if it were choosing uniformly among k tokens.  The
# untrained model's perplexity is V itself.
#
# A better reference point is a model that ignores the context altogether and predicts every
# token with its frequency in the training text (a *unigram* model).  Our GPT only learns
# something about *context* once its loss goes below that one.

# %%
@mt.no_grad()
def validation_loss(model, batches=4 if QUICK else 8, batch_size=32) -> float:
    """Mean loss on the same fixed set of validation windows every time it is called."""
    model.eval()
    fixed = np.random.default_rng(1234)
    losses = [model(*causal_lm_batch(val_ids, batch_size, context, fixed))[1].item() for _ in range(batches)]
    model.train()
    return float(np.mean(losses))


initial_loss = validation_loss(model)
log_v = math.log(config.vocab_size)
counts = np.bincount(train_ids, minlength=config.vocab_size) + 1.0  # +1: no token gets probability 0
unigram_loss = float(-np.log(counts / counts.sum())[val_ids].mean())
print(f"untrained loss {initial_loss:.3f}   log V = {log_v:.3f}   "
      f"perplexity {math.exp(initial_loss):.0f} (V = {config.vocab_size})")
print(f"unigram model: loss {unigram_loss:.3f}, perplexity {math.exp(unigram_loss):.0f}")
assert abs(initial_loss - log_v) < 0.05, "an untrained model should be close to uniform"

# %% [markdown]
# ## 5. The training loop
#
# Here is pretraining, written out.  Each step:
#
# 1. set the learning rate: a linear **warmup** over the first steps (Adam's running averages
#    are still noisy at the start, so large steps would be risky), then a **cosine decay**
#    to a tenth of the peak, so the last steps settle down instead of bouncing around;
# 2. cut a batch of random windows (section 2);
# 3. **forward**: logits and the mean cross-entropy loss over all B x T positions;
# 4. **backward**: `loss.backward()` fills the `.grad` of every parameter (lesson 1), after
#    `zero_grad()` cleared the previous step's;
# 5. **clip** the gradient: if its overall norm exceeds 1, scale it down to 1, so one odd batch
#    cannot throw the weights far away;
# 6. **optimizer step**: AdamW, Adam with weight decay applied to the weight matrices only.
#
# Every so often we measure the validation loss, with `no_grad` (no graph is needed to
# evaluate) and with the model in `eval()` mode.  `minitransformer.train.train` runs this same
# loop, plus gradient accumulation, logging and checkpoints; the `pretrain` command calls it.

# %%
optimizer = AdamW(weight_decay_groups(model, weight_decay=0.1), lr=lr, betas=(0.9, 0.99))
schedule = WarmupCosine(lr, total=steps, warmup=steps // 20, min_lr=lr / 10)
batch_rng = np.random.default_rng(0)
eval_every = steps // 10
history = {"step": [0], "train": [initial_loss], "val": [initial_loss]}
recent = []
start = time.perf_counter()
for step in range(1, steps + 1):
    set_lr(optimizer, schedule(step - 1))
    inputs, targets = causal_lm_batch(train_ids, batch_size, context, batch_rng)
    logits, loss = model(inputs, targets)
    optimizer.zero_grad()
    loss.backward()
    clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()

    recent.append(loss.item())
    if step % eval_every == 0:
        history["step"].append(step)
        history["train"].append(float(np.mean(recent)))
        history["val"].append(validation_loss(model))
        recent = []
        print(f"step {step:5d} | train loss {history['train'][-1]:.3f} | val loss {history['val'][-1]:.3f} "
              f"| val perplexity {math.exp(history['val'][-1]):6.1f} | {time.perf_counter() - start:5.1f} s")

final_loss = history["val"][-1]
print(f"validation loss {initial_loss:.3f} -> {final_loss:.3f}; "
      f"perplexity {math.exp(initial_loss):.0f} -> {math.exp(final_loss):.1f}")

# %% [markdown]
# The loss falls fastest at the start, when the model learns which tokens are common (the
# full run passes the unigram model within its first hundred steps), and then more slowly as
# it learns to use the context.  The validation loss ends a little above the training loss:
# the model does somewhat better on text it has trained on, but most of what it learned
# carries over to passages it has never read.  Perplexity went from V (a blind guess among
# all 512 tokens) to a few dozen or fewer.

# %%
required_drop = 1.2 if QUICK else 2.8
assert final_loss < initial_loss - required_drop, f"the validation loss should fall by more than {required_drop}"
required_gain = 0.3 if QUICK else 1.8
assert final_loss < unigram_loss - required_gain, "the model should use the context, not just token frequencies"

if plt is None:
    print('(install matplotlib for a figure of the loss curves: pip install -e ".[viz]")')
else:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(history["step"], history["train"], "o-", label="train (mean since last point)")
    ax.plot(history["step"], history["val"], "o-", label="validation")
    ax.axhline(log_v, color="gray", linestyle=":", label="log V (uniform guess)")
    ax.axhline(unigram_loss, color="gray", linestyle="--", label="unigram model")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats per token)")
    ax.legend()
    ax.set_title("Pretraining a small GPT on the CPython help text")
    save_figure(fig, "05_loss_curves.png")

# %% [markdown]
# ## 6. Generating text: before and after
#
# To generate, the model does what teacher forcing spared it during training: it predicts a
# distribution for the next token, we **sample** one token from it, append it, and feed the
# longer sequence back in, one token at a time.  `temperature` < 1 sharpens the distribution
# and `top_k` keeps only the k most likely tokens, two common ways to avoid the long tail of
# unlikely tokens.  (`generate` also keeps each layer's keys and values in a cache, so each new
# token costs one position's worth of work rather than a whole forward pass.)
#
# The untrained model (re-created with the same seed as before training) writes a uniform
# mix of tokens: pieces of words, special tokens such as `<extra_id_3>`, and single bytes of
# multi-byte characters, which decode as `�`.  The trained one writes words, spacing and
# punctuation in the style of the help text.  Its grammar is shaky and its statements are
# mostly wrong: with about a hundred thousand parameters and a minute of training, that is
# what to expect.

# %%
def sample(model, prompt: str, new_tokens: int, seed: int) -> str:
    prompt_ids = np.array([tokenizer.encode(prompt)])
    out = model.generate(prompt_ids, new_tokens, temperature=0.8, top_k=40, seed=seed)
    return tokenizer.decode(out[0].tolist())


mt.manual_seed(0)
untrained = GPT(config)  # the same initial weights the trained model started from
prompt = "The for statement"
before = sample(untrained, prompt, 40, seed=0)
after = [sample(model, prompt, 60 if QUICK else 120, seed=s) for s in range(2)]
print("--- untrained model ---")
print(before)
for s, sample_text in enumerate(after):
    print(f"--- trained model, sample {s + 1} ---")
    print(sample_text)
assert all(isinstance(t, str) and t.startswith(prompt) and len(t) > len(prompt) for t in [before, *after])

# %% [markdown]
# Greedy decoding (temperature 0) is the other extreme: always take the most likely token.  It
# is repeatable, and for a small model it tends to get stuck in loops.  Looking at the
# distribution itself shows what the model learned: after "The for statement is used to",
# the fully trained model's most likely next tokens are whole words such as " the" and " a",
# each with a leading space, not pieces of words.

# %%
prompt_ids = np.array([tokenizer.encode("The for statement is used to")])
with mt.no_grad():
    model.eval()
    logits = model(prompt_ids)[0].numpy()[0, -1].astype(np.float64)
probabilities = np.exp(logits - logits.max())
probabilities /= probabilities.sum()
print("most likely next tokens after 'The for statement is used to':")
for token_id in np.argsort(-probabilities)[:8]:
    print(f"  {tokenizer.decode([int(token_id)])!r:12} {probabilities[token_id]:.3f}")
print("greedy:", repr(tokenizer.decode(model.generate(prompt_ids, 20, temperature=0.0)[0].tolist())))
assert np.isclose(probabilities.sum(), 1.0)
if not QUICK:
    top = tokenizer.decode([int(probabilities.argmax())])
    assert top.startswith(" ") and top.strip().isalpha(), f"expected a whole word, got {top!r}"

# %% [markdown]
# ## 7. One decoder, two ways to use it
#
# So far the decoder was a **generator**: each position's last hidden state goes through the
# output layer, the token embedding matrix itself (tied), to V logits; every weight comes from
# pretraining.  As a **classifier** (GPT-1's fine-tuning, lesson 6), `GPTClassifier` puts a
# *new* linear layer on the last token's hidden state: K logits, one per label, from weights
# pretraining never saw.  Side by side, on our trained model:

# %%
from minitransformer.finetune import GPTClassifier

classifier = GPTClassifier(model, num_labels=3)
text_ids = np.array([tokenizer.encode("The for statement is used to")])
with mt.no_grad():
    hidden = model.hidden_states(text_ids).numpy()  # (1, T, d): the pretrained decoder's output
    generator_logits = model(text_ids)[0].numpy()
    classifier_logits = classifier(text_ids, lengths=[text_ids.shape[1]])[0].numpy()
head = classifier.head
print(f"generator:  hidden {hidden.shape} @ token_embedding^T {model.token_embedding.weight.T.shape} "
      f"-> {generator_logits.shape}, every position, weights pretrained (tied)")
print(f"classifier: last hidden {hidden[:, -1].shape} @ head^T {head.weight.T.shape} + bias "
      f"-> {classifier_logits.shape}, {head.num_parameters():,} new weights, not pretrained")
assert np.allclose(generator_logits, hidden @ model.token_embedding.weight.numpy().T, atol=1e-5)
assert np.allclose(classifier_logits, hidden[:, -1] @ head.weight.numpy().T + head.bias.numpy(), atol=1e-5)
pretrained = {id(p) for p in model.parameters()}
assert classifier.num_parameters() == model.num_parameters() + head.num_parameters()
assert not {id(p) for p in head.parameters()} & pretrained, "the head's weights are new"
assert all(id(p) in pretrained for p in classifier.gpt.parameters()), "the body is the pretrained model itself"

# %% [markdown]
# ## 8. GPT-1, in numbers
#
# GPT-1 (Radford et al., 2018) was this recipe at scale; `GPT1_PAPER` below holds the numbers
# (its vocabulary: 40,000 BPE merges plus 478 base symbols; its data: BooksCorpus, about 7,000
# unpublished books; "117M" parameters is the lecture's figure).  The library's `gpt1` preset
# has the paper's sizes.  `preset_parameters` (what `python -m minitransformer info --preset
# gpt1` prints) counts its parameters without allocating the half-gigabyte model, and the count
# matches the formula: embeddings, plus 12 d^2 + 13 d per block (four d x d attention
# projections, the d x 4d and 4d x d FFN, their biases, two layer norms), plus the final norm.
#
# One difference: GPT-1 was **post-norm**, LN(x + f(x)); the library's GPT, `gpt1` preset
# included, is **pre-norm** like GPT-2 (lesson 4, section 6): GPT-1's sizes, GPT-2's block.

# %%
from minitransformer.models.size import preset_parameters
from minitransformer.models.gpt import gpt_config

GPT1_PAPER = dict(n_layers=12, d_model=768, n_heads=12, d_ff=3072, context_length=512, vocab_size=40_000 + 478,
                  books=7_000, parameters_millions=117)
gpt1 = gpt_config("gpt1")
V, C, L, d = gpt1.vocab_size, gpt1.context_length, gpt1.n_layers, gpt1.d_model
n_gpt1 = preset_parameters(GPT, gpt1)
print("GPT-1, the paper:", GPT1_PAPER)
print(f"gpt1 preset: {L} layers, d = {d}, d_ff = {gpt1.d_ff}, {gpt1.n_heads} heads, context {C}, "
      f"vocabulary {V:,}: {n_gpt1:,} parameters")
assert all(getattr(gpt1, key) == value for key, value in GPT1_PAPER.items() if hasattr(gpt1, key))
assert n_gpt1 == (V + C) * d + L * (12 * d * d + 13 * d) + 2 * d == 116_536_320
assert round(n_gpt1 / 1e6) == GPT1_PAPER["parameters_millions"]
assert all(block.pre_norm for block in model.blocks)  # the library's GPT: pre-norm, unlike GPT-1

# %% [markdown]
# ## Exercises
#
# Write each function and run its cell (solutions: `lessons/solutions/gpt.py`).
# 1. `next_token_loss(logits, ids)`: the mean next-token cross-entropy of section 2, for logits
#    (B, T, V) computed from ids (B, T): the logits at position t are scored on token t + 1.
# 2. `top_p_filter(probs, p)`: nucleus sampling's filter for probs (B, V): keep the most likely
#    tokens, in order, until their total reaches p (the token that crosses p is kept), zero the
#    rest, and renormalize each row to sum to 1.  `generate(..., top_p=)` samples this way.

# %%
from exercises import report  # noqa: E402
from exercises import gpt as gpt_checks  # noqa: E402


def next_token_loss(logits, ids):
    raise NotImplementedError  # your code


def top_p_filter(probs, p):
    raise NotImplementedError  # your code


report("next_token_loss", next_token_loss, gpt_checks.check_next_token_loss)
report("top_p_filter", top_p_filter, gpt_checks.check_top_p_filter)

# %% [markdown]
# ## What to read next
#
# - `minitransformer/instruments/`: the shape trace and tape memory used above, and
#   `trace_backward` for stepping through a backward pass.
# - `minitransformer/models/gpt.py`: `GPT.forward` (embeddings, blocks, tied output layer),
#   `reset_parameters` (GPT-2's initialization), `generate` (sampling with the key/value cache).
# - `minitransformer/objectives/causal_lm.py`: `causal_lm_batch`, and the objectives of BERT and T5 next
#   to it for comparison.
# - `minitransformer/train.py`: the same loop as above, with gradient accumulation, logging,
#   checkpoints that resume exactly, and a clean stop on Ctrl-C.
# - `minitransformer/optim/`: `AdamW`, `WarmupCosine`, `clip_grad_norm_`.
# - `minitransformer/finetune.py`: `GPTClassifier`, section 7's classifier head.
#
# To pretrain from the command line: `python -m minitransformer pretrain`.  Next: lesson 6
# fine-tunes a pretrained GPT on a classification task.
