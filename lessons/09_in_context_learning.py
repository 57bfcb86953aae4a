# %% [markdown]
# # Lesson 9: in-context learning
#
# GPT-3 (Brown et al., 2020) showed something new.  Write a few solved examples of a task into
# the prompt, then a new question, and a large pretrained model answers it.  No weight is
# updated and no gradient is computed: the model picks up the task from its *context*.  This
# is **in-context learning** (ICL).  The lecture's examples put it next to fine-tuning:
#
#     zero-shot:  "Translate English to French:  cheese =>"
#     one-shot:   "... sea otter => loutre de mer;  cheese =>"
#     few-shot:   "... sea otter => loutre de mer;  peppermint => menthe poivrée;  ...;  cheese =>"
#
# Why would next-token prediction teach that?  Pretraining text is full of passages where some
# hidden regularity holds throughout: a list in one format, a table, a translated glossary.
# To predict the next line of such a passage well, a model has to work out that regularity
# from the lines it has already read.  Chan et al. (2022) and Garg et al. (2022) turned this
# into controlled experiments, and we run a tiny one here:
#
# - **pretraining data**: sequences of `x>f(x);` pairs, one rule f per sequence, a new f for
#   each.  The only way to predict f(x) is to infer f from the earlier pairs of the *same*
#   sequence, or from the short description of the task that some sequences start with;
# - **the test**: prompts with k = 0, 1, 2 or 4 solved examples and then a new x, for words x
#   that never occurred in pretraining, and for two rules that never occurred in it either.
#
# Plan: 1. the rules and the data; 2. the test prompts, with or without a task description;
# 3. pretraining a two-layer GPT, watching the ability appear; 4. accuracy by number of shots
# with the weights frozen, also with examples that each show only part of the rule, where
# more shots help; 5. the same effect inside one training sequence.
#
# Every claim is checked with `assert`.  Run as a script (`python lessons/09_in_context_learning.py`)
# or cell by cell as a notebook; `MINITRANSFORMER_QUICK=1` trains for fewer steps.

# %%
import itertools
import time

import numpy as np

import minitransformer as mt
from minitransformer.evaluation import log_softmax_rows
from minitransformer.models import GPT, gpt_config
from minitransformer.objectives import IGNORE_INDEX
from minitransformer.optim import AdamW, WarmupCosine, clip_grad_norm_, set_lr
from minitransformer.tokenizers import CharTokenizer

from lesson_setup import QUICK, plt, save_figure  # quick mode, figures (optional matplotlib)


lesson_start = time.perf_counter()

# %% [markdown]
# ## 1. A family of rules, and text made from them
#
# The inputs x are three-letter lowercase words with three different letters (`cat`, `pyx`,
# `qmo`, ...).  Each rule f capitalizes some of the three positions.  We write a rule as what
# it does to `abc`, so `aBc` means "capitalize the middle letter":
#
#     abc -> abc   (copy)        abc -> ABC   (all caps)     abc -> Abc   (capitalize the first)
#     abc -> aBc                 abc -> abC                  abc -> ABc   ...
#
# There are 2^3 = 8 rules.  Pretraining sees six; `aBC` and `AbC` are kept for the test, and so
# is a fifth of the words.  A pretraining sequence is a four-character header and six pairs:
#
#     ???:kqe>kQe;vjt>vJt;bwa>bWa;lro>lRo;hcz>hCz;emu>eMu;
#     aBc:kqe>kQe;v4t>v4t;bwa>bWa;lro>lRo;h7z>h7z;emu>eMu;
#
# **The header** names the rule (`aBc:`) in half of the sequences, as web text often says what
# a list is before the list ("Translate English to French:"); in the others it is `???:`.
# **Digits**: each character of a pretraining word is a digit one time in four.  A digit has
# no capital, so `v4t>v4t` says nothing about the middle position: one example can show only
# part of the rule.  Each character is one token (letters, capitals, `>;`, digits, `?:`, in
# that order): the library's `CharTokenizer` (`tokenizers/char.py`), which refuses a
# character outside its vocabulary rather than guessing.

# %%
LOWER, DIGITS = "abcdefghijklmnopqrstuvwxyz", "0123456789"
VOCABULARY = LOWER + LOWER.upper() + ">;" + DIGITS + "?:"
SEED = 0  # the weights' and the batches' seed; the assertions below hold for seeds 0, 1 and 2
tokenizer = CharTokenizer(VOCABULARY)

ALL_RULES = ["".join(p) for p in itertools.product(*[(c, c.upper()) for c in "abc"])]
HELD_OUT_RULES = ["aBC", "AbC"]
PRETRAINING_RULES = [r for r in ALL_RULES if r not in HELD_OUT_RULES]


def apply_rule(rule: str, word: str) -> str:
    """Capitalize the letters of `word` at the positions where `rule` has a capital."""
    return "".join(c.upper() if r.isupper() else c for c, r in zip(word, rule))


EXAMPLE_LENGTH = len("abc>abc;")  # 8 characters per solved example
EXAMPLES_PER_SEQUENCE = 6
NO_DESCRIPTION = "???:"
HEADER_LENGTH = len(NO_DESCRIPTION)


def header(rule: str, described: bool) -> str:
    """The rule's description ("aBc:"), or "???:" for none."""
    return rule + ":" if described else NO_DESCRIPTION


def solved_examples(rule: str, words) -> str:
    return "".join(f"{w}>{apply_rule(rule, w)};" for w in words)


def with_digits(word: str, rng, rate: float) -> str:
    """Each character of `word` replaced by a random digit with probability `rate`."""
    return "".join(DIGITS[rng.integers(10)] if rng.random() < rate else c for c in word)


rng = np.random.default_rng(0)
all_words = ["".join(p) for p in itertools.permutations(LOWER, 3)]
rng.shuffle(all_words)
test_words = all_words[: len(all_words) // 5]
train_words = all_words[len(all_words) // 5:]
assert not set(test_words) & set(train_words)

print(f"{len(ALL_RULES)} rules: {ALL_RULES}")
print(f"pretraining rules: {PRETRAINING_RULES};  held out: {HELD_OUT_RULES}")
print(f"{len(train_words)} pretraining words, {len(test_words)} held-out words")
for rule in ("aBc", "ABC", "abc"):
    words = [with_digits(w, rng, 0.25) for w in rng.choice(train_words, EXAMPLES_PER_SEQUENCE)]
    print(f"  rule {rule}:  {header(rule, rule != 'abc')}{solved_examples(rule, words)}")
assert apply_rule("aBc", "cat") == "cAt" and apply_rule("ABC", "cat") == "CAT" and apply_rule("ABC", "c4t") == "C4T"

# %% [markdown]
# ### The training targets
#
# A GPT learns by predicting every next token (lesson 5).  Here the words x are random letters
# that no model can predict: their loss would stay near ln 26 = 3.3 nats and only add noise to
# the gradient.  So we
# score only the characters of each answer f(x); every other position, the header too, gets
# the target `IGNORE_INDEX`, which the loss skips, as the ICL papers above do.

# %%
ANSWER_OFFSETS = range(4, 7)  # inside "abc>aBc;", the answer letters are characters 4, 5 and 6


def pretraining_batch(batch_size: int, rng, described: float = 0.5, digits: float = 0.25) -> tuple:
    """Sequences of a header and six solved examples, each sequence with its own rule; the header
    describes the rule with probability `described`.  Returns (inputs, targets)."""
    rows = []
    for _ in range(batch_size):
        rule = PRETRAINING_RULES[rng.integers(len(PRETRAINING_RULES))]
        words = [with_digits(train_words[i], rng, digits)
                 for i in rng.integers(len(train_words), size=EXAMPLES_PER_SEQUENCE)]
        rows.append(tokenizer.encode(header(rule, rng.random() < described) + solved_examples(rule, words)))
    sequences = np.array(rows)
    inputs, targets = sequences[:, :-1], sequences[:, 1:].copy()
    position_of_target = np.arange(1, sequences.shape[1]) - HEADER_LENGTH
    is_answer = (position_of_target >= 0) & np.isin(position_of_target % EXAMPLE_LENGTH, ANSWER_OFFSETS)
    targets[:, ~is_answer] = IGNORE_INDEX
    return inputs, targets


inputs, targets = pretraining_batch(1, np.random.default_rng(1))
print("input :", tokenizer.decode(inputs[0]))
print("scored:", "".join(tokenizer.decode([t]) if t != IGNORE_INDEX else "." for t in targets[0]))
assert (targets != IGNORE_INDEX).sum() == 3 * EXAMPLES_PER_SEQUENCE

# %% [markdown]
# ## 2. The test: zero-, one- and few-shot prompts
#
# A test prompt holds a header, k solved examples and then a new word followed by `>`:
#
#     k = 0:                    "???:mfq>"
#     k = 0, with the task:     "aBc:mfq>"
#     k = 1:                    "???:zuh>zUh;mfq>"
#     k = 2:                    "???:zuh>zUh;ora>oRa;mfq>"
#
# The model writes three characters greedily, right only if all three match the rule.  Every
# word is a held-out word; the new word is all letters.  With no example and no description,
# the best any model can do is guess the rule: right 1 time in 6 for the pretraining rules,
# never for a rule it has not seen.  **Partial** prompts put a digit in one random position of
# every example ("z4h>z4h;"), so each example leaves a position of the rule open.

# %%
def icl_prompt(rule: str, shots: int, rng, described: bool = False, partial: bool = False) -> tuple:
    """A prompt with a header, `shots` solved held-out examples, then a new held-out word; and the
    answer.  partial: every example has a digit in one of its three positions."""
    words = [test_words[i] for i in rng.choice(len(test_words), size=shots + 1, replace=False)]
    if partial:
        words[:-1] = [w[:i] + DIGITS[rng.integers(10)] + w[i + 1:] for w, i in zip(words, rng.integers(3, size=shots))]
    prompt = header(rule, described) + solved_examples(rule, words[:-1]) + words[-1] + ">"
    return prompt, apply_rule(rule, words[-1])


def accuracy(model, rules, shots: int, n: int, seed: int, **kind) -> tuple:
    """Fraction of n prompts answered exactly right, and the (prompt, answer, output) triples."""
    rng = np.random.default_rng(seed)
    cases = [icl_prompt(rules[rng.integers(len(rules))], shots, rng, **kind) for _ in range(n)]
    prompt_ids = np.array([tokenizer.encode(prompt) for prompt, _ in cases])  # equal lengths: one batch
    outputs = model.generate(prompt_ids, max_new_tokens=3, temperature=0.0)[:, -3:]
    written = [tokenizer.decode(row) for row in outputs]
    right = np.mean([out == answer for (_, answer), out in zip(cases, written)])
    return right, [(p, a, w) for (p, a), w in zip(cases, written)]


# %% [markdown]
# ## 3. Pretraining a tiny GPT, and watching the ability appear
#
# Two layers, four heads, 64 dimensions: about 100k parameters; the context is one training
# sequence, 51 characters.  The loop is `minitransformer/train.py`'s core written out (warmup
# then cosine decay, AdamW, gradient clipping).  Every few steps a small one-shot test (100
# prompts, pretraining rules, held-out words) shows *when* in-context learning appears.

# %%
mt.manual_seed(SEED)
config = gpt_config("tiny", vocab_size=tokenizer.vocab_size, n_layers=2, d_model=64, d_ff=256,
                    context_length=HEADER_LENGTH + EXAMPLE_LENGTH * EXAMPLES_PER_SEQUENCE - 1)
model = GPT(config)
print(f"GPT: {model.num_parameters():,} parameters, {config.n_layers} layers, {config.n_heads} heads, "
      f"d_model {config.d_model}, context {config.context_length}")

steps = 200 if QUICK else 600
batch_size, peak_lr = 16, 3e-3
optimizer = AdamW(model.parameters(), lr=peak_lr, weight_decay=0.0)
schedule = WarmupCosine(peak_lr, total=steps, warmup=60, min_lr=peak_lr / 10)
data_rng = np.random.default_rng(SEED + 1)

losses, emergence = [], []  # emergence: (step, zero-shot accuracy, one-shot accuracy)
test_every = 25 if QUICK else 15
train_start = time.perf_counter()
for step in range(steps):
    set_lr(optimizer, schedule(step))
    _, loss = model(*pretraining_batch(batch_size, data_rng))
    optimizer.zero_grad()
    loss.backward()
    clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())
    if step % test_every == 0 or step == steps - 1:
        zero_shot, _ = accuracy(model, PRETRAINING_RULES, 0, 100, seed=1)
        one_shot, _ = accuracy(model, PRETRAINING_RULES, 1, 100, seed=2)
        emergence.append((step + 1, zero_shot, one_shot))
        print(f"step {step + 1:4d}   loss on answer letters {loss.item():.3f}   "
              f"zero-shot {zero_shot:4.0%}   one-shot {one_shot:4.0%}")
train_seconds = time.perf_counter() - train_start
print(f"{steps} steps in {train_seconds:.1f} s")

first, last = np.mean(losses[:10]), np.mean(losses[-10:])
assert last < first / 4, f"pretraining should cut the loss at least fourfold ({first:.2f} -> {last:.2f})"
assert emergence[0][2] < 0.1, "before pretraining, the model cannot follow an example"

last_low = max(step for step, _, one_shot in emergence if one_shot < 0.1)
first_high = min((step for step, _, one_shot in emergence if one_shot >= 0.8), default=steps)
print(f"one-shot accuracy: below 10% until step {last_low}, at 80% or more from step {first_high}: "
      f"{first_high - last_low} steps, {(first_high - last_low) / steps:.0%} of the run")
if not QUICK:
    assert first_high - last_low <= 0.1 * steps, "the jump should take a small fraction of training"

# %% [markdown]
# The one-shot column does not climb evenly.  For the first few dozen steps it stays near zero
# while the model learns which letters to write.  Then it jumps, within a tenth of the run
# (printed above), to nearly 100%: the model has learned to read the capitalization off the
# example.  Olsson et al. (2022) saw such sudden jumps in real language models as their
# "induction heads" formed: heads that look back at an earlier occurrence of a pattern and copy
# what came after it.  The data decides whether and how soon this happens: Chan et al. (2022)
# found that whether ICL appears at all depends on the distribution of the training data
# (exercise for the curious: pretrain on all eight rules, or on 4-letter words, and watch when
# the jump comes).

# %% [markdown]
# ## 4. Accuracy by number of shots, with frozen weights
#
# Now the full test, on more prompts, for the pretraining rules, the two held-out rules and
# partial examples.  Nothing about the model changes during the test: we copy every weight
# first and compare afterwards.

# %%
weights_before = {name: p.data.copy() for name, p in model.named_parameters()}

SHOTS = [0, 1, 2, 4]
n_prompts = 200 if QUICK else 500


def best_possible(cases) -> float:
    """The accuracy of a reader who knows the six pretraining rules and picks, at random, one that
    fits every example of the prompt: the mean of 1 / (the number of rules that fit)."""
    chances = []
    for prompt, _, _ in cases:
        pairs = [example.split(">") for example in prompt[HEADER_LENGTH:].split(";")[:-1]]
        fitting = [rule for rule in PRETRAINING_RULES if all(apply_rule(rule, x) == y for x, y in pairs)]
        chances.append(1 / len(fitting))
    return float(np.mean(chances))


seen, unseen, partial, ideal, transcripts = {}, {}, {}, {}, {}
for k in SHOTS:
    seen[k], _ = accuracy(model, PRETRAINING_RULES, k, n_prompts, seed=100 + k)
    unseen[k], transcripts[k] = accuracy(model, HELD_OUT_RULES, k, n_prompts, seed=200 + k)
    partial[k], partial_cases = accuracy(model, PRETRAINING_RULES, k, n_prompts, seed=300 + k, partial=True)
    ideal[k] = best_possible(partial_cases)
described, _ = accuracy(model, PRETRAINING_RULES, 0, n_prompts, seed=400, described=True)
described_unseen, _ = accuracy(model, HELD_OUT_RULES, 0, n_prompts, seed=500, described=True)

print(f"exact-match accuracy over {n_prompts} prompts each (held-out words)")
print(" shots   pretraining rules   held-out rules   partial examples (best possible)")
for k in SHOTS:
    print(f"{k:6d} {seen[k]:19.1%} {unseen[k]:16.1%} {partial[k]:18.1%} ({ideal[k]:.1%})")
print(f"zero-shot with the task described: {described:.1%} (pretraining rules), "
      f"{described_unseen:.1%} (held-out rules)")

unchanged = all(np.array_equal(weights_before[name], p.data) for name, p in model.named_parameters())
print("weights unchanged by the test:", unchanged)
assert unchanged, "in-context learning must not change a single weight"

# %% [markdown]
# Some answers for the held-out rules: zero-shot the model falls back on a rule it knows; with
# one example it follows the prompt's rule, never seen in pretraining.  Then the claims (quick
# mode, 200 steps, asks less, but the effect must already be large).

# %%
for k in (0, 1, 2):
    for prompt, answer, written in transcripts[k][:3]:
        verdict = "right" if written == answer else f"wrong, the rule gives {answer}"
        print(f"  {k} shot{'s' if k != 1 else ' '}  {prompt:>32}{written}   ({verdict})")
if QUICK:
    assert seen[4] >= seen[0] + 0.5, f"examples in the prompt should help: {seen[0]:.0%} -> {seen[4]:.0%}"
    assert unseen[4] >= unseen[0] + 0.5, f"also for unseen rules: {unseen[0]:.0%} -> {unseen[4]:.0%}"
else:
    assert seen[0] < 0.5, f"zero-shot, the rule is unknown: accuracy should be near 1/6, got {seen[0]:.0%}"
    assert seen[1] >= seen[0] + 0.5, f"one example should identify the rule: {seen[0]:.0%} -> {seen[1]:.0%}"
    assert seen[4] >= 0.9, f"four examples should make the task easy, got {seen[4]:.0%}"
    assert unseen[0] < 0.1, f"zero-shot, a rule never seen cannot be guessed, got {unseen[0]:.0%}"
    assert unseen[4] >= 0.8, f"a rule never seen in pretraining should be learned from 4 examples, got {unseen[4]:.0%}"
    assert emergence[-1][2] >= 0.9, "by the end of pretraining, one example should be enough"
    assert described >= 0.9 > 0.5 > seen[0], "zero-shot, a description of the task should be enough"
    assert partial[1] < 0.75 and partial[2] > partial[1] + 0.15 and partial[4] > max(0.9, partial[2] + 0.05), \
        f"with partial examples, more shots should help: {partial[1]:.0%}, {partial[2]:.0%}, {partial[4]:.0%}"
    assert all(ideal[k] - 0.15 < partial[k] < ideal[k] + 0.05 for k in SHOTS), "near the best possible, not above"
    assert described_unseen >= 0.8, "a description of a rule never seen should work too"
print("few-shot beats zero-shot, with frozen weights; with partial examples, each shot helps")

# %% [markdown]
# The held-out rules are the striking column.  The model has not memorized six rules for the
# prompt to choose among (*task recognition*); it learned a procedure, "copy the capitalization
# of the examples", which works for patterns it never saw (*task learning*; Pan et al., 2023,
# separate the two).  Large language models do both; telling them apart is open research.
#
# **More shots help when one example is not enough.**  With full examples one shot pins the
# rule down: 1, 2 and 4 shots all score near 100%.  With partial examples the last column
# climbs shot by shot: one example leaves a position open, two only if they hide the same one,
# four almost never.  In brackets, a reader that knows the six pretraining rules and picks one
# that fits every example (above one half at one shot: some pairs of visible positions fit
# only one rule); the model is a little below it at one shot, close from two on.
#
# **Zero-shot with a task description.**  The lecture's zero-shot prompt says what to do,
# "Translate English to French:"; here the header does.  With `aBc:` in front, zero examples
# are enough, against the 1-in-6 guess of `???:`.  Descriptions of the two held-out rules,
# which no pretraining sequence had, work too: the model learned to copy the case of the
# description's letters, not to look up six names.
#
# ## 5. The same effect inside one sequence
#
# Olsson et al. (2022) saw ICL in real language models as the loss on the n-th answer of a
# sequence (here with no description and no digits).  For the first answer the model can only
# spread its bets over the six rules: ln 6 = 1.79 nats per answer, 0.60 per letter.  From the
# second on, the earlier pairs reveal the rule and the loss should drop to near zero.  The
# untrained model is at about ln 66 = 4.2 nats (66 characters) for every answer letter.

# %%
def loss_by_example(model, sequences) -> np.ndarray:
    """Mean cross-entropy (nats) on the answer letters of the 1st, 2nd, ... example of each sequence."""
    inputs, targets = sequences
    with mt.no_grad():
        logits, _ = model(inputs)
    logits = logits.numpy().astype(np.float64)
    log_probs = log_softmax_rows(logits.reshape(-1, logits.shape[-1])).reshape(logits.shape)
    scored = targets != IGNORE_INDEX
    token_loss = -np.take_along_axis(log_probs, np.where(scored, targets, 0)[..., None], -1)[..., 0]
    example_index = (np.arange(1, targets.shape[1] + 1) - HEADER_LENGTH) // EXAMPLE_LENGTH  # 0: the first
    return np.array([token_loss[:, (example_index == n) & scored[0]].mean()
                     for n in range(EXAMPLES_PER_SEQUENCE)])


# new draws, not training batches: no description, no digits
fresh_sequences = pretraining_batch(256, np.random.default_rng(7), described=0.0, digits=0.0)
mt.manual_seed(0)
untrained = GPT(config)
before = loss_by_example(untrained, fresh_sequences)
after = loss_by_example(model, fresh_sequences)
print(" example n   untrained loss   trained loss   (nats per answer letter)")
for n in range(EXAMPLES_PER_SEQUENCE):
    print(f"{n + 1:10d} {before[n]:16.3f} {after[n]:14.3f}")

assert after[0] > 0.3, "the first answer cannot be known: its loss should stay well above zero"
assert after[-1] < after[0] / (1.5 if QUICK else 3), "later answers should be easier: the rule is in the context"
assert np.ptp(before) < 0.2, "the untrained model should find every answer equally hard"

# %%
if plt is None:
    print('(install matplotlib for figures: pip install -e ".[viz]")')
else:
    fig, (during, left, right) = plt.subplots(1, 3, figsize=(16, 3.8))
    steps_tested, zero_shot_curve, one_shot_curve = zip(*emergence)
    during.plot(steps_tested, one_shot_curve, "o-", label="one-shot")
    during.plot(steps_tested, zero_shot_curve, "o-", label="zero-shot")
    during.set_xlabel("pretraining step")
    left.plot(SHOTS, [seen[k] for k in SHOTS], "o-", label="pretraining rules")
    left.plot(SHOTS, [unseen[k] for k in SHOTS], "s-", label="held-out rules")
    left.plot(SHOTS, [partial[k] for k in SHOTS], "^-", label="partial examples")
    left.axhline(1 / len(PRETRAINING_RULES), color="gray", ls=":", label="guessing among 6 rules")
    left.set_xticks(SHOTS)
    left.set_xlabel("solved examples in the prompt (shots)")
    for ax in (during, left):
        ax.set_ylabel("exact-match accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="center right")
    examples = np.arange(1, EXAMPLES_PER_SEQUENCE + 1)
    right.plot(examples, before, "o-", label="untrained")
    right.plot(examples, after, "o-", label="pretrained")
    right.axhline(np.log(6) / 3, color="gray", ls=":", label="ln(6) / 3: one of six rules")
    right.set_xlabel("n-th example in the sequence")
    right.set_ylabel("loss on its answer (nats per letter)")
    right.legend()
    fig.suptitle("In-context learning: the rule is read from the prompt, the weights stay frozen")
    fig.tight_layout()
    save_figure(fig, "09_in_context_learning.png")

# %% [markdown]
# ## Exercises
#
# 1. `few_shot_prompt(task, shots, query)`: the prompt for a real GPT-2 in
#    `minitransformer/pretrained/in_context.py`: the task's instruction, then `shots` solved
#    examples one per line ("France: Paris"), then the query and a colon ("Italy:").  Checked
#    against the library's on its three tasks.
# 2. `rules_that_fit(pairs, rules)`: the rules (in the order given) that turn every x into its
#    y, for pairs like `("c4t", "C4t")`: section 4's "best possible" reader.  A digit stays a
#    digit under every rule.  Solutions: `lessons/solutions/in_context.py`.

# %%
import exercises  # noqa: E402
from exercises import in_context as in_context_checks  # noqa: E402


def few_shot_prompt(task, shots, query):
    raise NotImplementedError  # your code


def rules_that_fit(pairs, rules):
    raise NotImplementedError  # your code


exercises.report("few_shot_prompt", few_shot_prompt, in_context_checks.check_few_shot_prompt)
exercises.report("rules_that_fit", rules_that_fit, in_context_checks.check_rules_that_fit)
print(f"\nlesson ran in {time.perf_counter() - lesson_start:.0f} s")

# %% [markdown]
# ## What to read next
#
# - `minitransformer/models/gpt.py`: `GPT.generate`, which wrote the answers above, with its
#   key/value cache (each new character costs one position of work, not the whole prompt);
#   `models/generation.py`: greedy decoding and sampling (temperature, top-k, top-p).
# - `minitransformer/train.py`: the full training loop, of which section 3 is the core.
# - `minitransformer/nn/attention.py`: the heads that carry each example's pattern forward to
#   the new word (lesson 3); `pretrained/in_context.py`: prompting a real GPT-2.
#
# Further reading: Brown et al. (2020) for few-shot prompting; Chan et al. (2022) on which
# properties of the data make in-context learning appear; Olsson et al. (2022) on induction
# heads; Min et al. (2022) and Pan et al. (2023) on what the examples in a prompt really teach.
