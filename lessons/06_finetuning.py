# %% [markdown]
# # Lesson 6: pretrain once, fine-tune many times
#
# Lesson 5 pretrained a GPT on raw text.  Nobody wants a next-token predictor for its own sake;
# what we want is a model for some task (spam or not, which topic, is this sentence
# grammatical) and for that task we usually have only a few thousand labelled examples.  The
# paradigm of the lecture, and of GPT-1 (Radford et al., 2018) and BERT, has two steps:
#
# 1. **pretrain** once, on a large amount of unlabelled text, with a language-modelling loss;
# 2. **fine-tune** the pretrained weights on each labelled task: add a small new output layer
#    (a "head"), and keep training *all* the weights on the task's loss.
#
# Why does this work so well?  Pretraining leaves the weights at a point that already encodes a
# lot about language: spelling, which words go together, word order.  Fine-tuning starts from
# there and only needs a short trip to a good solution for the task, a trip that plain SGD
# with momentum can make.  From a random start, the same number of SGD steps gets much less
# far, because the network has to learn the language *and* the task from the labels alone.
#
# This lesson checks that claim on a task the lesson's tiny model can handle:
#
# 1. pretrain a small GPT and save a checkpoint: "pretrain once";
# 2. build a classification task, *is this text in the right order?*;
# 3. GPT-1's way to fine-tune: the classification head, and the auxiliary LM loss (lambda = 0.5);
#    and why the new head needs a smaller learning rate than the pretrained body;
# 4. fine-tune the checkpoint, and a randomly initialized copy of the same network, with the
#    same SGD budget and several seeds, and compare their accuracy on held-out examples;
# 5. what fine-tuning did to the language model.
#
# Every claim is checked with `assert`.  Run as a script (`python lessons/06_finetuning.py`) or
# cell by cell as a notebook.  `MINITRANSFORMER_QUICK=1` runs a much smaller version in a few
# seconds, too small to learn the task (see section 4).

# %%
import math
from pathlib import Path

import numpy as np

import minitransformer as mt
from minitransformer import functional as F
from minitransformer.corpus import builtin_corpus, split_train_val
from minitransformer.finetune import (GPT1_LM_WEIGHT, BPEExampleEncoder, GPTClassifier, LabelledData,
                                      acceptability_splits, finetune)
from minitransformer.models import GPT, GPTConfig
from minitransformer.objectives import causal_lm_batch, causal_lm_targets
from minitransformer.pretrain import load_trained, make_task, make_tokenizer
from minitransformer.train import TrainConfig, train

from lesson_setup import OUT, QUICK, plt, save_figure  # quick mode, figures (optional matplotlib)


# %% [markdown]
# ## 1. Pretrain once
#
# The same recipe as lesson 5: a byte-level BPE tokenizer with 512 tokens, a two-layer GPT,
# next-token prediction on the first 90% of the built-in corpus.  This time we let the
# library's `train()` run the loop we wrote by hand in lesson 5.  It also writes a checkpoint:
# the weights, plus (in its metadata) the model's configuration and the whole tokenizer, so
# that the file alone is enough to rebuild the pretrained model later, as many times as we
# like.

# %%
text = builtin_corpus()
tokenizer = make_tokenizer(text, vocab_size=512)
ids = np.array(tokenizer.encode(text), dtype=np.int64)
train_ids, val_ids = split_train_val(ids, val_fraction=0.1)

if QUICK:
    config = GPTConfig(vocab_size=tokenizer.vocab_size, context_length=48,
                       n_layers=1, n_heads=4, d_model=64, d_ff=256)
    pretrain_config = TrainConfig(steps=200, batch_size=16, lr=1e-2, min_lr=1e-3, warmup=10)
else:
    config = GPTConfig(vocab_size=tokenizer.vocab_size, context_length=64,
                       n_layers=2, n_heads=4, d_model=64, d_ff=256)
    pretrain_config = TrainConfig(steps=1000, batch_size=16, lr=6e-3, min_lr=6e-4, warmup=50)
pretrain_config.log_every = pretrain_config.eval_every = pretrain_config.checkpoint_every = pretrain_config.steps // 4

mt.manual_seed(0)
model = GPT(config)
run_dir = OUT / "05_pretraining"
metadata = {"model_type": "gpt", "model_config": config.to_dict(), "tokenizer": tokenizer.to_dict()}
summary = train(model, make_task("gpt", model, tokenizer), train_ids, val_ids, pretrain_config, run_dir, metadata)
checkpoint_path = Path(summary["checkpoint"])
print(f"pretrained: validation loss {summary['val_loss']:.3f} (perplexity {math.exp(summary['val_loss']):.1f}); "
      f"checkpoint {checkpoint_path} ({checkpoint_path.stat().st_size / 1e6:.1f} MB)")

# %% [markdown]
# From now on the pretrained model exists only as this file.  `load_trained` rebuilds the
# network and the tokenizer from it; every fine-tuning run below starts from a fresh load, so
# no run can disturb another.

# %%
def load_pretrained() -> GPT:
    pretrained, saved_tokenizer, _ = load_trained(checkpoint_path)
    assert saved_tokenizer.get_vocab() == tokenizer.get_vocab()
    return pretrained


reloaded = load_pretrained()
for name, weight in model.state_dict().items():
    assert np.array_equal(reloaded.state_dict()[name], weight), name
print("the checkpoint rebuilds the pretrained GPT exactly")

# %% [markdown]
# ## 2. A task: is this text in the right order?
#
# `finetune.acceptability_splits()` cuts the prose of the corpus into runs of ten words:
# training runs from the first 90% (a tenth of them set apart as a *validation* split) and
# held-out runs from the last 10%, the part that pretraining held out too.  Every run appears
# twice, once as written and once with the same ten words in *reverse* order:
#
#     label 1 (real):      "the built-in variable is True under normal circumstances, False ..."
#     label 0 (reversed):  "... False circumstances, normal under True is variable built-in the"
#
# Both classes are made of exactly the same words, so no amount of word counting, and no
# memorizing of which passages are real, can tell them apart: only word order can, and word
# order is what next-token prediction taught the pretrained model.  The randomly initialized
# model has to discover it from the labels alone.
#
# The held-out set decides the comparison, so it must be big enough that its sampling noise
# cannot: with n examples, an accuracy p is measured with a standard error of sqrt(p(1-p)/n).

# %%
train_data, val_data, test_data = acceptability_splits(seed=0, validation=0.1)
if QUICK:
    train_data = train_data.subset(range(400))
print(f"{len(train_data)} training, {len(val_data)} validation and {len(test_data)} held-out examples")
for i in (0, 1):
    print(f"  label {train_data.labels[i]} ({train_data.label_names[train_data.labels[i]]:8}): {train_data.texts_a[i]}")
standard_error = math.sqrt(0.5 * 0.5 / len(test_data))
print(f"standard error of a held-out accuracy near 50%: {standard_error:.3f}")
assert not set(train_data.texts_a) & (set(test_data.texts_a) | set(val_data.texts_a))
assert test_data.labels.mean() == 0.5  # balanced: always guessing one label scores exactly 50%
assert standard_error < 0.03

# %% [markdown]
# ## 3. GPT-1's recipe for classification
#
# GPT-1 fine-tunes with as few new parameters as possible.  The text is followed by one extra
# token, here `<|endoftext|>`, and fed through the pretrained network.  Because of the causal
# mask, the hidden state at that last position is the only one that has attended to the whole
# text, so it is the one a new linear layer (the head, d_model -> 2 labels) reads.  Examples of
# different lengths are padded with `[PAD]` on the right, and the head picks each row's last
# real position.  `BPEExampleEncoder` builds such batches and `GPTClassifier` adds the head.
#
# The loss has two parts:
#
#     loss = cross_entropy(head(h_last), label)  +  lambda * language_model_loss(text),   lambda = 0.5
#
# The second part keeps predicting the next token of the task's own texts while the head
# learns.  The GPT-1 paper reports that this auxiliary objective improves generalization and
# speeds up convergence, and that it helps the larger datasets most.  It is also cheap: the
# forward pass has already computed every hidden state, so the language-model logits are
# one matrix product away.  (Here it is also trained on the reversed texts, so it teaches the
# model some backwards English; section 5 shows what that costs.)  `GPTClassifier.loss_terms`
# returns the two parts apart, so that fine-tuning can log each.
#
# We check the decomposition on one batch of the pretrained model:

# %%
encoder = BPEExampleEncoder(tokenizer, "gpt", config.context_length)
pad_id = tokenizer.token_to_id("[PAD]")
mt.manual_seed(0)
classifier = GPTClassifier(load_pretrained(), num_labels=2)
batch_ids, _, lengths = encoder.batch(train_data, range(32))
batch_labels = train_data.labels[:32]
shortest = int(lengths.argmin())
print(f"batch {batch_ids.shape}; its shortest row, padded:")
print([tokenizer.id_to_token(int(i)) for i in batch_ids[shortest]])
assert (batch_ids[np.arange(32), lengths - 1] == tokenizer.token_to_id("<|endoftext|>")).all()

with mt.no_grad():
    logits, total_loss = classifier(batch_ids, lengths, batch_labels, pad_id=pad_id)
    task_loss = F.cross_entropy(logits, batch_labels).item()
    lm_logits, _ = classifier.gpt(batch_ids)
    lm_targets = causal_lm_targets(batch_ids, pad_id=pad_id)  # [PAD] targets are ignored
    lm_loss = F.cross_entropy(lm_logits.reshape(-1, config.vocab_size), lm_targets.reshape(-1)).item()
print(f"task loss {task_loss:.3f} + {GPT1_LM_WEIGHT} x LM loss {lm_loss:.3f} "
      f"= {task_loss + GPT1_LM_WEIGHT * lm_loss:.3f}  (the classifier's loss: {total_loss.item():.3f})")
assert GPT1_LM_WEIGHT == 0.5
assert np.isclose(total_loss.item(), task_loss + 0.5 * lm_loss, rtol=1e-5)
assert abs(task_loss - math.log(2)) < 0.05, "the new head starts out guessing: loss log 2"

# %% [markdown]
# ### The new head needs a smaller learning rate
#
# Fine-tuning updates every weight with the same SGD rule, but the head is not like the rest.
# The pretrained weights are already in place; the head is new, and it reads a layer-normed
# vector h.  One SGD step on an example with predicted probabilities p and one-hot label y moves
# the head's logits by
#
#     dz = -lr * (p - y) * |h|^2,
#
# and momentum 0.9 adds up about ten such steps.  How big is |h|^2?

# %%
finetune_lr, momentum = 0.05, 0.9
with mt.no_grad():
    h_last = classifier.gpt.hidden_states(batch_ids).numpy()[np.arange(32), lengths - 1]
squared_norm = float((h_last ** 2).sum(-1).mean())
varying_part = float(((h_last - h_last.mean(0)) ** 2).sum(-1).mean())
print(f"|h|^2 = {squared_norm:.0f} on average (d_model = {config.d_model}); "
      f"the part that varies from example to example: {varying_part:.0f}")
for name, rate in (("the body's rate", finetune_lr), ("lr / d_model", finetune_lr / config.d_model)):
    step = rate / (1 - momentum) * squared_norm
    print(f"with {name} ({rate:.4f}) and momentum, a step moves the logits by ~{step:.1f} per unit of error")
assert varying_part < squared_norm / 3, "most of |h|^2 is shared by every example"
if not QUICK:
    assert squared_norm > config.d_model

# %% [markdown]
# |h|^2 is larger than d_model, and most of it is a direction that every example shares (the
# state of `<|endoftext|>`, the same last token for all).  A step along that shared direction
# moves the logits of *all* examples together, like a bias.  At the body's learning rate that
# step is many logits wide, so the head would swing from "everything is real" to "everything
# is reversed" and back instead of learning.  So `finetune` gives the head its own rate,
# lr / d_model by default, and trains the pretrained body at lr.  (A learning rate per group of
# weights is also ULMFiT's "discriminative fine-tuning".)  A short run of 30 steps (480
# training examples) shows the difference in the task loss.  With the head at the body's rate the
# task loss averages well above log 2: worse than guessing, the head overshooting at every
# step.  With lr / d_model it stays about log 2 while the body starts to learn; section 4 shows
# it falling from there.

# %%
short_steps = 10 if QUICK else 30
short_runs = {}
for name, head_lr in (("head at lr", finetune_lr), ("head at lr / d_model", None)):
    mt.manual_seed(0)
    short = finetune(GPTClassifier(load_pretrained(), num_labels=2), encoder,
                     train_data.subset(range(16 * short_steps)), val_data, epochs=1, batch_size=16,
                     lr=finetune_lr, head_lr=head_lr, momentum=momentum, seed=0, log=lambda *_: None)
    short_runs[name] = short["history"][0]
    print(f"{name:22}: mean task loss over {short_steps} steps {short_runs[name]['task_loss']:.3f} "
          f"(log 2 = {math.log(2):.3f}), validation accuracy {short_runs[name]['test_accuracy']:.3f}")
if not QUICK:
    assert short_runs["head at lr"]["task_loss"] > math.log(2) + 0.2, "worse than guessing"
    assert short_runs["head at lr / d_model"]["task_loss"] < math.log(2) + 0.05, "about guessing, while it starts"

# %% [markdown]
# Two more choices make the result reliable rather than lucky.  The learning rate decays
# linearly to 0 over the run, as GPT-1 and BERT fine-tune, so the last epoch settles instead of
# jumping around; and each epoch also measures the validation split, so that if we pick an
# epoch, we pick it on validation accuracy and report its held-out accuracy.

# %% [markdown]
# ## 4. Fine-tuning from pretrained weights versus from scratch
#
# Now the experiment.  Two classifiers with the same architecture:
#
# - **pretrained**: the GPT loaded from the checkpoint, plus a new head;
# - **random**: the same GPT freshly initialized (as the pretrained one was before step 1 of
#   pretraining), plus a new head.
#
# Both get exactly the same budget: the same training examples in the same order, the same
# number of epochs, plain SGD with momentum 0.9 and the same learning rates:
#
#     velocity = 0.9 * velocity + gradient;    weights = weights - lr_t * velocity
#
# `finetune` runs that loop and measures, after each epoch, the task loss and the LM loss
# apart, and the accuracy on the validation and held-out examples.  One run could be lucky, so
# each start is fine-tuned with five seeds (a different head initialization and example order
# each; for the random start also different random weights), for two epochs each (the
# `finetune` command's default is three; two keep this lesson short).

# %%
epochs = 2
seeds = {"pretrained": [0] if QUICK else [0, 1, 2, 3, 4], "random": [0] if QUICK else [0, 1, 2, 3, 4]}
runs = {"pretrained": [], "random": []}
for init in runs:
    for seed in seeds[init]:
        mt.manual_seed(seed)  # the head's initialization (and the random GPT's)
        network = load_pretrained() if init == "pretrained" else GPT(config)
        classifier = GPTClassifier(network, num_labels=2)
        print(f"--- fine-tuning from {init} weights, seed {seed} ---")
        result = finetune(classifier, encoder, train_data, test_data, val_data=val_data, epochs=epochs,
                          batch_size=16, lr=finetune_lr, momentum=momentum, seed=seed)
        runs[init].append({**result, "classifier": classifier})

print(f"\nheld-out accuracy ({len(test_data)} examples) after {epochs} epochs, "
      "and at the epoch of best validation accuracy:")
summary = {}
for init, results in runs.items():
    final = np.array([r["accuracy"] for r in results])
    chosen = np.array([r["best_accuracy"] for r in results])
    summary[init] = final
    print(f"  {init:10}: last epoch {', '.join(f'{a:.3f}' for a in final)}  "
          f"(mean {final.mean():.3f} +- {final.std():.3f}); chosen on validation {', '.join(f'{a:.3f}' for a in chosen)}")

# %% [markdown]
# The pretrained network learns the task with every seed.  The randomly initialized one does
# not get off the ground: its held-out accuracy stays at 50%, a coin toss on this balanced test
# set, whichever labels it hands out (the counts below).  Ten words and one bit of feedback per example
# are not enough to learn English word order from scratch in two epochs of SGD.  The
# pretrained network already knows which way English runs, and fine-tuning only has to
# connect that knowledge to the head.  The worst pretrained seed beats the best random one by
# more than six standard errors of the held-out set, so no luck in the choice of held-out
# examples could reverse the comparison.
#
# Validation accuracy runs higher than held-out accuracy for the pretrained runs: the validation
# passages come from the 90% of the corpus that pretraining read, the held-out ones from the 10%
# it never saw.  That is why the validation split only *chooses* (an epoch, here) and the
# held-out split alone is *reported*.
#
# The curves tell the same story through the two parts of the loss.  The task loss of the
# pretrained runs falls from log 2 in the first epoch; the random runs' stays at log 2, the
# loss of a coin toss.  Their LM losses differ from the start, by what pretraining taught.
#
# In quick mode both models are too small and too briefly trained to learn the task, so the
# quick run checks only what holds at any size: the pretrained model's LM loss starts, and
# stays, far below the random one's.

# %%
@mt.no_grad()
def predicted_labels(classifier: GPTClassifier, data: LabelledData) -> np.ndarray:
    classifier.eval()
    batch_ids, _, lengths = encoder.batch(data, range(len(data)))
    logits, _ = classifier(batch_ids, lengths)
    classifier.train()
    return logits.numpy().argmax(axis=-1)


for init in runs:
    counts = np.bincount(predicted_labels(runs[init][0]["classifier"], test_data), minlength=2)
    print(f"{init:10} (seed {seeds[init][0]}): predicts 'reversed' for {counts[0]:3d} and 'real' for {counts[1]:3d} "
          "held-out examples")

for pretrained_run, random_run in zip(runs["pretrained"], runs["random"]):
    for p, r in zip(pretrained_run["history"], random_run["history"]):
        assert p["lm_loss"] < r["lm_loss"] - 0.5, "pretraining should show in the LM loss"
if not QUICK:
    assert summary["pretrained"].min() > 0.70, "the pretrained model should learn the task, with every seed"
    assert summary["random"].max() < 0.55, "from scratch, the same budget should not learn it"
    assert summary["pretrained"].min() > summary["random"].max() + 6 * standard_error, "by a wide margin"
    for run in runs["pretrained"]:
        assert run["history"][-1]["val_accuracy"] > run["history"][-1]["test_accuracy"], "pretraining read these"
        assert run["history"][-1]["task_loss"] < 0.5 < run["history"][0]["task_loss"] < math.log(2) + 0.02
        assert run["best_accuracy"] > 0.70
    for run in runs["random"]:
        assert all(abs(epoch["task_loss"] - math.log(2)) < 0.02 for epoch in run["history"]), "a coin toss"

if plt is None:
    print('(install matplotlib for a figure of the runs: pip install -e ".[viz]")')
else:
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for init, color in (("pretrained", "C0"), ("random", "C3")):
        for i, run in enumerate(runs[init]):
            history = run["history"]
            epoch_numbers = [epoch["epoch"] for epoch in history]
            label = f"from {init} weights" if i == 0 else None
            axes[0].plot(epoch_numbers, [epoch["test_accuracy"] for epoch in history], "o-", color=color, label=label)
            axes[0].plot(epoch_numbers, [epoch["val_accuracy"] for epoch in history], ":", color=color)
            axes[1].plot(epoch_numbers, [epoch["task_loss"] for epoch in history], "o-", color=color, label=label)
            axes[2].plot(epoch_numbers, [epoch["lm_loss"] for epoch in history], "o-", color=color, label=label)
    axes[0].axhline(0.5, color="gray", linestyle="--", label="chance")
    axes[0].set_ylim(0.4, 1.0)
    axes[0].set_ylabel("held-out accuracy (dotted: validation)")
    axes[1].axhline(math.log(2), color="gray", linestyle="--", label="log 2 (guessing)")
    axes[1].set_ylabel("task loss (training)")
    axes[2].set_ylabel("auxiliary LM loss (training)")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.set_xticks(range(1, epochs + 1))
        ax.legend()
    fig.suptitle("Fine-tuning with SGD, the same budget from pretrained or random weights "
                 f"({len(seeds['pretrained'])} and {len(seeds['random'])} seed(s))")
    save_figure(fig, "05_pretrained_vs_random.png")

# %% [markdown]
# ## 5. What fine-tuning did to the language model
#
# Fine-tuning updates every weight, and nothing in its loss asks the network to stay good at
# predicting the help text.  We measure the language-modelling loss of three networks: the
# pretrained one before fine-tuning, the same one after, and the one fine-tuned from scratch.
# Each is measured on held-out text of three kinds: windows of the corpus's last 10%, and the
# held-out task examples as written and reversed.

# %%
@mt.no_grad()
def lm_loss(network: GPT, data=None) -> float:
    """Next-token loss on the texts of `data`, or on fixed windows of the held-out corpus if None."""
    network.eval()
    if data is None:
        fixed = np.random.default_rng(1234)
        batches = [causal_lm_batch(val_ids, 32, config.context_length, fixed) for _ in range(4)]
    else:
        batch_ids, _, _ = encoder.batch(data, range(len(data)))
        batches = [(batch_ids, causal_lm_targets(batch_ids, pad_id=pad_id))]  # [PAD] targets ignored
    losses = [network(inputs, targets)[1].item() for inputs, targets in batches]
    network.train()
    return float(np.mean(losses))


networks = {"pretrained, before fine-tuning": load_pretrained(),
            "pretrained, after fine-tuning": runs["pretrained"][0]["classifier"].gpt,
            "random, after fine-tuning": runs["random"][0]["classifier"].gpt}
texts = {"corpus": None,
         "task, real": test_data.subset(np.flatnonzero(test_data.labels == 1)),
         "task, reversed": test_data.subset(np.flatnonzero(test_data.labels == 0))}
losses = {(net, kind): lm_loss(network, data) for net, network in networks.items() for kind, data in texts.items()}
print(f"{'held-out LM loss':32}" + "".join(f"{kind:>16}" for kind in texts))
for net in networks:
    print(f"{net:32}" + "".join(f"{losses[net, kind]:16.3f}" for kind in texts))

# %% [markdown]
# Fine-tuning has specialized the pretrained network.  The auxiliary LM loss trained it on
# exactly the task's texts: one-line runs of ten words, half of them backwards.  So its loss
# fell on held-out task texts, most of all on the reversed ones (it has learned some backwards
# English), and rose on the corpus, with its code examples, tables and line breaks.  (With
# natural task texts, as in GPT-1, the auxiliary loss keeps the network practising much the
# same skill it was pretrained for.)  Even so, it remains a far better language model than
# the network fine-tuned from scratch.
#
# This drift is one more reason to keep the pretrained checkpoint and to start every new task
# from it, rather than from the weights fine-tuned for the previous task.

# %%
before, after, scratch = (losses[net, "corpus"] for net in networks)
if not QUICK:
    (real_before, reversed_before), (real_after, reversed_after) = (
        (losses[net, "task, real"], losses[net, "task, reversed"]) for net in list(networks)[:2])
    assert real_after < real_before, "the auxiliary loss trains on the task's texts"
    assert reversed_after < reversed_before - 0.3, "... including the reversed ones"
    assert after > before + 0.2, "fine-tuning should move the network away from its pretraining optimum"
assert after < scratch - 0.5, "it should remain a far better language model than one never pretrained"

# %% [markdown]
# ## Pretrain once, fine-tune many times
#
# The expensive step, pretraining, happened once and left a file.  Every new task now costs
# only a fine-tuning run that starts from that file.  From the command line:
#
#     python -m minitransformer pretrain --out runs/gpt
#     python -m minitransformer finetune --checkpoint runs/gpt/checkpoint.safetensors
#     python -m minitransformer finetune --checkpoint runs/gpt/checkpoint.safetensors --init random
#     python -m minitransformer finetune --checkpoint runs/gpt/checkpoint.safetensors --task my_data.csv
#
# ## Exercises
#
# Write each function and run its cell (solutions: `lessons/solutions/finetuning.py`).
# 1. `sgd_momentum(weights, gradients, lr, momentum)`: apply the update of section 4 once per
#    gradient in the list (the first velocity is the first gradient, as in PyTorch) and return
#    the weights after each step.
# 2. `gpt1_loss(task_logits, labels, lm_logits, ids, lm_weight)`: section 3's loss, the task's
#    cross-entropy plus lm_weight times the next-token cross-entropy of the same text.
# 3. `chosen_epoch(history)`: from `finetune`'s per-epoch history, the epoch with the best
#    validation accuracy (the first of equals) and the held-out accuracy to report for it.

# %%
from exercises import report  # noqa: E402
from exercises import finetuning as finetuning_checks  # noqa: E402


def sgd_momentum(weights, gradients, lr, momentum):
    raise NotImplementedError  # your code


def gpt1_loss(task_logits, labels, lm_logits, ids, lm_weight):
    raise NotImplementedError  # your code


def chosen_epoch(history):
    raise NotImplementedError  # your code


report("sgd_momentum", sgd_momentum, finetuning_checks.check_sgd_momentum)
report("gpt1_loss", gpt1_loss, finetuning_checks.check_gpt1_loss)
report("chosen_epoch", chosen_epoch, finetuning_checks.check_chosen_epoch)

# %% [markdown]
# ## What to read next
#
# - `minitransformer/finetune.py`: `GPTClassifier` (the head on the last token, and the loss
#   with `GPT1_LM_WEIGHT`), `BERTClassifier` (BERT's head on the `[CLS]` position),
#   `BPEExampleEncoder` (how examples become padded batches) and `acceptability_splits`.
# - `minitransformer/finetune_loop.py`: `finetune`, the SGD loop: the head's own learning rate,
#   the linear decay, and the per-epoch log of both losses and both accuracies.
# - `minitransformer/optim/sgd.py`: SGD with momentum, in PyTorch's form.
# - `minitransformer/train.py` and `minitransformer/checkpoint.py`: the pretraining loop and
#   the checkpoint file it writes.
#
# Next: lesson 7 pretrains BERT, an encoder, with masked language modelling.
