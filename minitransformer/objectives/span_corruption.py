"""Span corruption (T5): hide contiguous spans behind sentinels; the decoder writes what was hidden.

Each span of the input is replaced by one sentinel token (<extra_id_0>, <extra_id_1>, ...), and
the decoder writes out only the hidden spans, each introduced by its sentinel.  The target holds
just the ~15% corrupted tokens plus one sentinel per span, not the whole sentence, so it is much
shorter than the input, and the decoder, which runs once per target token, is cheap to train.

This file is the paper's transformation, data in and data out; span_corruption_task.py is the
task that pretrains a T5 with it (windows, sentinels, this recipe's noise densities, the scores).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..checks import is_integer
from .ids import as_ids, check_rng, pad_batch

NUM_SENTINELS = 100  # T5's vocabulary has 100 sentinels; a tokenizer here gets as many as its context needs
T5_NOISE_DENSITY = 0.15  # the paper's share of hidden tokens (mean span length 3)


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
    if not is_integer(length):
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
    check_rng(rng)
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
    sentinels = as_ids(sentinel_ids, "sentinel_ids", allowed_ndims=(1,))
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
    ids = as_ids(ids, "ids", allowed_ndims=(1,))
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
    ids = as_ids(ids, "ids", allowed_ndims=(1,))
    noise_mask = random_spans_noise_mask(len(ids), rng, noise_density, mean_noise_span_length)
    return corrupt_spans(ids, noise_mask, sentinel_ids, eos_id)


def reconstruct_from_span_corruption(input_ids, target_ids, sentinel_ids, eos_id: int) -> np.ndarray:
    """Undo span corruption: put each hidden span back where its sentinel stands in the input.

    This is exactly what a perfect T5 decoder output allows; it also checks that
    input and target together still hold all of the original text.
    """
    inputs = as_ids(input_ids, "input_ids", allowed_ndims=(1,))
    targets = as_ids(target_ids, "target_ids", allowed_ndims=(1,))
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
