"""Pretraining objectives: how unlabelled token ids become (input, target) pairs.

A language model learns from raw text by hiding part of it and predicting what
was hidden. *What* is hidden, and what the model may look at while predicting
it, is the objective. The three ways to pretrain seen in the lecture:

1. Causal language modelling (GPT, decoders). Predict every token from the
   tokens before it: targets are the inputs shifted left by one,
   ``target[t] = input[t + 1]``, and a causal attention mask stops position t
   from looking ahead. One sequence of T tokens gives T predictions at once.

2. Masked language modelling (BERT, encoders). An encoder is bidirectional:
   every position sees every other one, so "predict the next token" would be
   trivial, because the answer is in the input. Instead about 15% of the
   tokens are removed from the input (mostly replaced by [MASK]) and the model
   predicts them from both sides of context.

3. Span corruption (T5, encoder-decoders). Contiguous spans of tokens are
   each replaced by one sentinel token (<extra_id_0>, <extra_id_1>, ...), and
   the decoder writes out only the hidden spans, each introduced by its
   sentinel. The target holds just the ~15% corrupted tokens plus one
   sentinel per span, not the whole sentence, so it is much shorter than the
   input, and the decoder, which runs once per target token, is cheap to train.

Everything here is plain NumPy on integer id arrays, with no autograd. All
randomness comes from the ``rng`` argument (a ``np.random.Generator``), so the
same seed always gives the same batch. Positions that carry no prediction get
``ignore_index`` (default -100, as in PyTorch's cross-entropy) in the labels.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "causal_lm_batch",
    "causal_lm_targets",
    "mask_tokens",
    "noise_span_counts",
    "span_corruption_lengths",
    "random_spans_noise_mask",
    "corrupt_spans",
    "span_corruption",
    "SpanCorruptionBatch",
    "span_corruption_batch",
    "reconstruct_from_span_corruption",
    "pad_batch",
]

IGNORE_INDEX = -100
# BERT's treatment of each position chosen for prediction:
MASK_FRACTION = 0.8     # replaced by [MASK]
RANDOM_FRACTION = 0.1   # replaced by a random token; the remaining 10% stay unchanged


# ----------------------------------------------------------------------------- argument checks


def _check_rng(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator, got {type(rng).__name__}; "
                        f"create one with np.random.default_rng(seed)")


def _check_positive_int(value, name: str) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _as_ids(ids, name: str, allowed_ndims: tuple[int, ...]) -> np.ndarray:
    """Return `ids` as an int64 array after checking it holds integers of an allowed rank."""
    array = np.asarray(ids)
    if array.size == 0 and array.dtype == np.float64:  # np.asarray([]) is float64; an empty list is fine
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer token ids, got dtype {array.dtype}; "
                        f"cast with .astype(np.int64) if the values are whole numbers")
    if array.ndim not in allowed_ndims:
        ranks = " or ".join(f"{n}-D" for n in allowed_ndims)
        raise ValueError(f"{name} must be {ranks}, got shape {array.shape}")
    return array.astype(np.int64, copy=False)


# ----------------------------------------------------------------------------- 1. causal LM (GPT)


def causal_lm_batch(ids, batch_size: int, context: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sample `batch_size` random windows of `context` tokens from one long token stream.

    Returns (inputs, targets), int64 arrays of shape (batch_size, context) with
    ``targets[b, t] == inputs[b, t + 1]`` in the stream: position t learns the
    token that follows it. A window needs context + 1 tokens (the inputs plus
    one more target). Starts are uniform over all valid offsets, so over many
    batches every token appears at every position.
    """
    stream = _as_ids(ids, "ids", allowed_ndims=(1,))
    _check_positive_int(batch_size, "batch_size")
    _check_positive_int(context, "context")
    _check_rng(rng)
    if len(stream) < context + 1:
        raise ValueError(f"the token stream has {len(stream)} tokens, but one window of context={context} needs "
                         f"context + 1 = {context + 1}; use a smaller context or more text")
    starts = rng.integers(0, len(stream) - context, size=batch_size)  # the last valid start is len - context - 1
    windows = stream[starts[:, None] + np.arange(context + 1)]
    return windows[:, :-1].copy(), windows[:, 1:].copy()


def causal_lm_targets(ids, ignore_index: int = IGNORE_INDEX, pad_id: int | None = None) -> np.ndarray:
    """Next-token targets for sequences that are already cut (e.g. a padded fine-tuning batch).

    ``targets[..., t] = ids[..., t + 1]``. The last position has no next token,
    so its target is `ignore_index`; so is every target that would be `pad_id`,
    because predicting padding teaches nothing.
    """
    ids = _as_ids(ids, "ids", allowed_ndims=(1, 2))
    if np.any(ids == ignore_index):
        raise ValueError(f"ignore_index={ignore_index} occurs in ids, so ignored and real targets could not be "
                         f"told apart; choose an ignore_index outside the vocabulary (e.g. -100)")
    targets = np.full_like(ids, ignore_index)
    targets[..., :-1] = ids[..., 1:]
    if pad_id is not None:
        targets[targets == pad_id] = ignore_index
    return targets


# ----------------------------------------------------------------------------- 2. masked LM (BERT)


def mask_tokens(
    ids,
    vocab_size: int,
    mask_id: int,
    special_ids,
    rng: np.random.Generator,
    mask_prob: float = 0.15,
    max_predictions: int | None = None,
    ignore_index: int = IGNORE_INDEX,
    whole_word_starts=None,
) -> tuple[np.ndarray, np.ndarray]:
    """BERT's masked-LM corruption, applied to each row of a (B, T) batch. Returns (corrupted_ids, labels).

    Why hide tokens: a bidirectional encoder sees its whole input, so whatever it
    must predict has to be taken out of that input first.

    How many: the candidates of a row are its tokens that are not special
    (`special_ids`, e.g. [CLS], [SEP], [PAD]; `mask_id` always counts as special).
    With n candidates, ``k = min(max_predictions, max(1, round(mask_prob * n)))``
    positions are chosen uniformly without replacement (k = 0 if n = 0).
    Python's round() rounds halves to even (round(2.5) == 2), the same as
    BERT's int(round(...)) under Python 3. Unlike BERT, n counts only the
    candidates, not [CLS]/[SEP], so padding a row does not change its k.

    What happens to a chosen position, decided independently per position:
    80% become `mask_id`, 10% a random token, 10% stay unchanged. Why not
    always [MASK]? [MASK] never occurs when the model is fine-tuned, and if
    only [MASK] positions were ever predicted, the model would learn nothing
    useful about the representation of ordinary tokens. Since any visible token
    might be a replaced one, it must model every token. Random tokens are drawn
    uniformly from the non-special ids (BERT draws from the whole vocabulary,
    which can put a [CLS] or [PAD] mid-sentence).

    labels hold the original id at every chosen position (the unchanged 10%
    too, which the model must still predict) and `ignore_index` elsewhere.

    Whole-word masking: pass `whole_word_starts`, a bool array of the same shape
    that is True where a token starts a word and False for continuation pieces
    (WordPiece's "##ing"). Words are then chosen instead of tokens and all their
    pieces are masked, since "##ing" after "runn" is too easy to guess. As in
    BERT, words are visited in random order and a word is skipped if it would
    take the count past k, so at most k tokens are chosen and no word is split.
    The 80/10/10 choice is still made per token. A continuation piece that does
    not directly follow a candidate token (e.g. one right after [CLS]) starts
    a word of its own.

    A 1-D `ids` is treated as a single row, and 1-D arrays are returned.
    """
    batch = _as_ids(ids, "ids", allowed_ndims=(1, 2))
    is_single_row = batch.ndim == 1
    batch = np.atleast_2d(batch)
    _check_rng(rng)
    _check_positive_int(vocab_size, "vocab_size")
    if not 0 <= mask_id < vocab_size:
        raise ValueError(f"mask_id={mask_id} is outside the vocabulary [0, {vocab_size})")
    special = np.union1d(_as_ids(list(special_ids), "special_ids", allowed_ndims=(1,)), [mask_id])
    for name, values in (("ids", batch), ("special_ids", special)):
        out_of_range = values[(values < 0) | (values >= vocab_size)]
        if out_of_range.size:
            raise ValueError(f"{name} contains {out_of_range[0]}, outside the vocabulary [0, {vocab_size})")
    if not 0.0 < mask_prob <= 1.0:
        raise ValueError(f"mask_prob must be in (0, 1], got {mask_prob!r}; BERT uses 0.15")
    if max_predictions is not None:
        _check_positive_int(max_predictions, "max_predictions")
    if 0 <= ignore_index < vocab_size:
        raise ValueError(f"ignore_index={ignore_index} is a real token id in [0, {vocab_size}); use a value "
                         f"outside the vocabulary such as -100")
    replacement_ids = np.setdiff1d(np.arange(vocab_size), special)
    if replacement_ids.size == 0:
        raise ValueError("every id in the vocabulary is special, so there is no token to draw random replacements from")
    word_starts = None
    if whole_word_starts is not None:
        word_starts = np.atleast_2d(np.asarray(whole_word_starts))
        if word_starts.dtype != np.bool_ or word_starts.shape != batch.shape:
            raise ValueError(f"whole_word_starts must be a bool array shaped like ids {batch.shape}, "
                             f"got {word_starts.dtype} {word_starts.shape}")

    corrupted = batch.copy()
    labels = np.full_like(batch, ignore_index)
    for row, row_ids in enumerate(batch):
        is_candidate = ~np.isin(row_ids, special)
        words = _candidate_words(is_candidate, None if word_starts is None else word_starts[row])
        num_candidates = int(is_candidate.sum())
        num_to_predict = min(max(1, round(mask_prob * num_candidates)), num_candidates)
        if max_predictions is not None:
            num_to_predict = min(num_to_predict, max_predictions)
        chosen = _choose_whole_words(words, num_to_predict, rng)
        labels[row, chosen] = row_ids[chosen]
        corrupted[row, chosen] = _replace_chosen_tokens(row_ids[chosen], mask_id, replacement_ids, rng)
    if is_single_row:
        return corrupted[0], labels[0]
    return corrupted, labels


def _candidate_words(is_candidate: np.ndarray, word_starts: np.ndarray | None) -> list[list[int]]:
    """Group candidate positions into words; without word boundaries every token is a one-piece word."""
    words: list[list[int]] = []
    for position in np.flatnonzero(is_candidate).tolist():
        continues_previous_word = (
            word_starts is not None and not word_starts[position] and words and words[-1][-1] == position - 1
        )
        if continues_previous_word:
            words[-1].append(position)
        else:
            words.append([position])
    return words


def _choose_whole_words(words: list[list[int]], num_to_predict: int, rng: np.random.Generator) -> np.ndarray:
    """Visit words in random order, taking each one that still fits in `num_to_predict` tokens."""
    chosen: list[int] = []
    for word_index in rng.permutation(len(words)):
        if len(chosen) == num_to_predict:
            break
        word = words[word_index]
        if len(chosen) + len(word) <= num_to_predict:
            chosen.extend(word)
    return np.array(sorted(chosen), dtype=np.int64)


def _replace_chosen_tokens(original: np.ndarray, mask_id: int, replacement_ids: np.ndarray,
                           rng: np.random.Generator) -> np.ndarray:
    """The 80/10/10 rule: one uniform draw u per position; u < 0.8 -> [MASK], u < 0.9 -> random, else keep."""
    u = rng.random(len(original))
    random_tokens = rng.choice(replacement_ids, size=len(original))
    return np.where(u < MASK_FRACTION, mask_id,
                    np.where(u < MASK_FRACTION + RANDOM_FRACTION, random_tokens, original))


# ----------------------------------------------------------------------------- 3. span corruption (T5)


def noise_span_counts(length: int, noise_density: float = 0.15,
                      mean_noise_span_length: float = 3.0) -> tuple[int, int]:
    """How many tokens T5 corrupts in a sequence of `length`, and in how many spans.

    ``num_noise_tokens = round(length * noise_density)`` clamped to [1, length - 1]
    (something is always hidden and something always stays), and
    ``num_noise_spans = max(1, round(num_noise_tokens / mean_noise_span_length))``.
    Both use round-half-to-even, like T5's tf.round. One deviation: the spans
    are also capped at the number of non-noise tokens, because every noise span
    needs a non-noise token before it; T5 would build an invalid mask there
    (this only matters for noise_density above about 0.5).
    """
    if not isinstance(length, (int, np.integer)) or isinstance(length, bool):
        raise TypeError(f"length must be an integer, got {length!r}")
    if length < 2:
        raise ValueError(f"span corruption needs at least 2 tokens (one hidden, one kept), got length={length}")
    if not 0.0 < noise_density < 1.0:
        raise ValueError(f"noise_density must be in (0, 1), got {noise_density!r}; T5 uses 0.15")
    if not mean_noise_span_length >= 1.0:
        raise ValueError(f"mean_noise_span_length must be at least 1, got {mean_noise_span_length!r}; T5 uses 3.0")
    num_noise_tokens = min(max(round(length * noise_density), 1), length - 1)
    num_noise_spans = max(round(num_noise_tokens / mean_noise_span_length), 1)
    num_noise_spans = min(num_noise_spans, length - num_noise_tokens)
    return num_noise_tokens, num_noise_spans


def span_corruption_lengths(length: int, noise_density: float = 0.15,
                            mean_noise_span_length: float = 3.0) -> tuple[int, int]:
    """(input length, target length) after span corruption of `length` tokens, EOS included.

    input  = kept tokens + one sentinel per span + EOS = length - noise + spans + 1
    target = one sentinel per span + hidden tokens + EOS = noise + spans + 1
    With the defaults the target is about a quarter of the input's length.
    """
    num_noise_tokens, num_noise_spans = noise_span_counts(length, noise_density, mean_noise_span_length)
    return length - num_noise_tokens + num_noise_spans + 1, num_noise_tokens + num_noise_spans + 1


def random_spans_noise_mask(length: int, rng: np.random.Generator, noise_density: float = 0.15,
                            mean_noise_span_length: float = 3.0) -> np.ndarray:
    """A bool mask of `length` marking the tokens to corrupt, laid out as T5's random_spans_noise_mask.

    The counts come from `noise_span_counts`. The noise tokens are split at
    random into `num_noise_spans` non-empty spans, the kept tokens likewise
    into as many runs, and the two are interleaved starting with a kept run:
    kept, noise, kept, noise, ... So the first token is never corrupted and the
    last one always is (as in T5, where EOS is appended only afterwards); when
    there is a single span, it is always the last `num_noise_tokens` tokens.
    """
    _check_rng(rng)
    num_noise_tokens, num_noise_spans = noise_span_counts(length, noise_density, mean_noise_span_length)
    noise_run_lengths = _random_segmentation(num_noise_tokens, num_noise_spans, rng)
    kept_run_lengths = _random_segmentation(length - num_noise_tokens, num_noise_spans, rng)
    run_lengths = np.stack([kept_run_lengths, noise_run_lengths], axis=1).reshape(-1)
    run_is_noise = np.tile([False, True], num_noise_spans)
    return np.repeat(run_is_noise, run_lengths)


def _random_segmentation(num_items: int, num_segments: int, rng: np.random.Generator) -> np.ndarray:
    """Lengths of a random split of `num_items` in a row into `num_segments` non-empty parts.

    Cutting at `num_segments - 1` distinct places among the `num_items - 1`
    gaps between items gives every possible split exactly once, so all splits
    are equally likely.
    """
    cuts = np.sort(rng.choice(num_items - 1, size=num_segments - 1, replace=False)) + 1
    return np.diff(np.concatenate([[0], cuts, [num_items]]))


def _check_sentinels_and_eos(sentinel_ids, eos_id: int) -> np.ndarray:
    sentinels = _as_ids(sentinel_ids, "sentinel_ids", allowed_ndims=(1,))
    if len(np.unique(sentinels)) != len(sentinels):
        raise ValueError(f"sentinel_ids must be distinct, got {sentinels.tolist()}")
    if eos_id in sentinels:
        raise ValueError(f"eos_id={eos_id} is also a sentinel id; they must differ")
    return sentinels


def corrupt_spans(ids, noise_mask, sentinel_ids, eos_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Apply a given noise mask the T5 way. Returns (input_ids, target_ids).

    Each maximal run of noise tokens is replaced in the input by one sentinel,
    the i-th run by ``sentinel_ids[i]``. The target lists every sentinel
    followed by the tokens it hid. Both end with `eos_id`. Example (paper, Fig. 2)::

        ids:    Thank you [for inviting] me to your party [last] week .
        input:  Thank you <X> me to your party <Y> week . </s>
        target: <X> for inviting <Y> last </s>

    (The paper's figure also ends the target with a third sentinel, which T5's
    code only adds when the text ends with kept tokens; `random_spans_noise_mask`
    always ends with noise, so we never add it.) The text must not contain
    sentinels or EOS, otherwise the result could not be decoded unambiguously.
    """
    ids = _as_ids(ids, "ids", allowed_ndims=(1,))
    noise_mask = np.asarray(noise_mask)
    if noise_mask.dtype != np.bool_ or noise_mask.shape != ids.shape:
        raise ValueError(f"noise_mask must be a bool array shaped like ids {ids.shape}, "
                         f"got {noise_mask.dtype} {noise_mask.shape}")
    sentinels = _check_sentinels_and_eos(sentinel_ids, eos_id)
    reserved = np.isin(ids, np.append(sentinels, eos_id))
    if reserved.any():
        position = int(np.flatnonzero(reserved)[0])
        raise ValueError(f"ids[{position}] = {ids[position]} is a sentinel or EOS id; the text must not contain them")
    starts_span = noise_mask & ~np.concatenate([[False], noise_mask[:-1]])
    num_spans = int(starts_span.sum())
    if num_spans > len(sentinels):
        raise ValueError(f"{num_spans} noise spans but only {len(sentinels)} sentinel ids; pass more sentinels "
                         f"(T5 has 100) or use shorter sequences, a lower noise_density or longer spans")

    input_ids, target_ids = [], []
    next_sentinel = 0
    for position, token in enumerate(ids.tolist()):
        if not noise_mask[position]:
            input_ids.append(token)
            continue
        if starts_span[position]:
            sentinel = int(sentinels[next_sentinel])
            next_sentinel += 1
            input_ids.append(sentinel)
            target_ids.append(sentinel)
        target_ids.append(token)
    input_ids.append(eos_id)
    target_ids.append(eos_id)
    return np.array(input_ids, dtype=np.int64), np.array(target_ids, dtype=np.int64)


def span_corruption(ids, sentinel_ids, eos_id: int, rng: np.random.Generator, noise_density: float = 0.15,
                    mean_noise_span_length: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """T5's pretraining example from one sequence: a random noise mask, then `corrupt_spans`.

    Returns (input_ids, target_ids); their lengths are `span_corruption_lengths(len(ids), ...)`.
    """
    ids = _as_ids(ids, "ids", allowed_ndims=(1,))
    noise_mask = random_spans_noise_mask(len(ids), rng, noise_density, mean_noise_span_length)
    return corrupt_spans(ids, noise_mask, sentinel_ids, eos_id)


def reconstruct_from_span_corruption(input_ids, target_ids, sentinel_ids, eos_id: int) -> np.ndarray:
    """Undo span corruption: put each hidden span back where its sentinel stands in the input.

    This is exactly what a perfect T5 decoder output allows; it also checks that
    input and target together still hold all of the original text.
    """
    inputs = _as_ids(input_ids, "input_ids", allowed_ndims=(1,))
    targets = _as_ids(target_ids, "target_ids", allowed_ndims=(1,))
    sentinel_set = set(_check_sentinels_and_eos(sentinel_ids, eos_id).tolist())
    for name, sequence in (("input_ids", inputs), ("target_ids", targets)):
        if len(sequence) == 0 or sequence[-1] != eos_id or np.any(sequence[:-1] == eos_id):
            raise ValueError(f"{name} must end with eos_id={eos_id} and contain it nowhere else, "
                             f"got {sequence.tolist()}")

    hidden_spans: dict[int, list[int]] = {}
    current_sentinel = None
    for token in targets[:-1].tolist():
        if token in sentinel_set:
            if token in hidden_spans:
                raise ValueError(f"sentinel {token} appears twice in target_ids")
            hidden_spans[token], current_sentinel = [], token
        elif current_sentinel is None:
            raise ValueError(f"target_ids must start with a sentinel, but starts with {token}")
        else:
            hidden_spans[current_sentinel].append(token)

    original: list[int] = []
    for token in inputs[:-1].tolist():
        if token not in sentinel_set:
            original.append(token)
        elif token in hidden_spans:
            original.extend(hidden_spans.pop(token))
        else:
            raise ValueError(f"sentinel {token} in input_ids has no span in target_ids (or is used twice)")
    if hidden_spans:
        raise ValueError(f"target_ids has spans for sentinels {sorted(hidden_spans)} that input_ids never uses")
    return np.array(original, dtype=np.int64)


# ----------------------------------------------------------------------------- batching


def pad_batch(sequences, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack 1-D id sequences of different lengths into (B, T_max), right-padded with `pad_id`.

    Also returns a bool mask, True at real tokens, so attention and the loss can
    skip the padding; each row's length is ``mask.sum(axis=1)``.
    """
    rows = [_as_ids(sequence, f"sequences[{i}]", allowed_ndims=(1,)) for i, sequence in enumerate(sequences)]
    if not rows:
        raise ValueError("sequences is empty; a batch needs at least one sequence")
    max_length = max(len(row) for row in rows)
    padded = np.full((len(rows), max_length), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), max_length), dtype=bool)
    for i, row in enumerate(rows):
        padded[i, :len(row)] = row
        mask[i, :len(row)] = True
    return padded, mask


class SpanCorruptionBatch(NamedTuple):
    """Padded T5 batch: ids of shape (B, T_in) / (B, T_out) and bool masks, True at real tokens."""

    input_ids: np.ndarray
    input_mask: np.ndarray
    target_ids: np.ndarray
    target_mask: np.ndarray


def span_corruption_batch(sequences, sentinel_ids, eos_id: int, pad_id: int, rng: np.random.Generator,
                          noise_density: float = 0.15, mean_noise_span_length: float = 3.0) -> SpanCorruptionBatch:
    """Span-corrupt each sequence independently (its own noise mask) and pad inputs and targets."""
    if pad_id in np.asarray(sentinel_ids):
        raise ValueError(f"pad_id={pad_id} is also a sentinel id; they must differ")
    examples = [span_corruption(sequence, sentinel_ids, eos_id, rng, noise_density, mean_noise_span_length)
                for sequence in sequences]
    if not examples:
        raise ValueError("sequences is empty; a batch needs at least one sequence")
    input_ids, input_mask = pad_batch([inputs for inputs, _ in examples], pad_id)
    target_ids, target_mask = pad_batch([targets for _, targets in examples], pad_id)
    return SpanCorruptionBatch(input_ids, input_mask, target_ids, target_mask)
