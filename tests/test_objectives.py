"""Tests for minitransformer.objectives: causal LM batches, BERT masking, T5 span corruption."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformer.corpus import builtin_corpus
from minitransformer.models import build_model
from minitransformer.nn import Linear
from minitransformer.objectives import (
    CausalLM,
    MaskedLM,
    SpanCorruption,
    causal_lm_batch,
    causal_lm_targets,
    corrupt_spans,
    mask_tokens,
    noise_span_counts,
    pad_batch,
    random_spans_noise_mask,
    reconstruct_from_span_corruption,
    span_corruption,
    span_corruption_batch,
    span_corruption_lengths,
    task_class_for,
    task_for,
)
from minitransformer.pretrain import SPECIAL_TOKENS, make_tokenizer
from minitransformer.tokenizers import BPETokenizer

# ----------------------------------------------------------------------------- causal LM


def test_causal_batch_targets_are_the_next_tokens_of_a_contiguous_window():
    stream = np.arange(1000, 1100)  # token value = position + 1000, so a window is recognisable
    inputs, targets = causal_lm_batch(stream, batch_size=16, context=8, rng=np.random.default_rng(0))
    assert inputs.shape == targets.shape == (16, 8)
    assert inputs.dtype == targets.dtype == np.int64
    np.testing.assert_array_equal(inputs, inputs[:, :1] + np.arange(8))  # contiguous windows
    np.testing.assert_array_equal(targets, inputs + 1)                   # shifted by exactly one


def test_causal_batch_shift_holds_on_random_text():
    stream = np.random.default_rng(1).integers(0, 50, size=300)
    inputs, targets = causal_lm_batch(stream, 32, 10, np.random.default_rng(2))
    np.testing.assert_array_equal(targets[:, :-1], inputs[:, 1:])


def test_causal_batch_uses_every_valid_start_and_never_runs_off_the_end():
    stream = np.arange(12)
    inputs, targets = causal_lm_batch(stream, 2000, 4, np.random.default_rng(3))
    assert set(inputs[:, 0].tolist()) == set(range(8))  # starts 0..7; start 7 uses tokens 7..11
    assert targets.max() == 11


def test_causal_batch_works_with_exactly_context_plus_one_tokens():
    inputs, targets = causal_lm_batch(np.array([5, 6, 7]), 3, 2, np.random.default_rng(0))
    np.testing.assert_array_equal(inputs, [[5, 6]] * 3)
    np.testing.assert_array_equal(targets, [[6, 7]] * 3)


def test_causal_batch_is_deterministic_given_the_seed():
    stream = np.arange(500)
    first = causal_lm_batch(stream, 8, 16, np.random.default_rng(42))
    again = causal_lm_batch(stream, 8, 16, np.random.default_rng(42))
    other = causal_lm_batch(stream, 8, 16, np.random.default_rng(43))
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize(
    "stream, batch_size, context, rng, error, fragment",
    [
        (np.arange(8), 2, 8, np.random.default_rng(0), ValueError, "has 8 tokens, but one window of context=8 needs"),
        (np.arange(8), 0, 4, np.random.default_rng(0), ValueError, "batch_size must be a positive integer"),
        (np.arange(8), 2, 0, np.random.default_rng(0), ValueError, "context must be a positive integer"),
        (np.ones((2, 8), dtype=int), 2, 4, np.random.default_rng(0), ValueError, "must be 1-D"),
        (np.ones(8), 2, 4, np.random.default_rng(0), TypeError, "integer token ids"),
        (np.arange(8), 2, 4, 0, TypeError, "np.random.default_rng"),
    ],
)
def test_causal_batch_rejects_bad_input(stream, batch_size, context, rng, error, fragment):
    with pytest.raises(error, match=fragment):
        causal_lm_batch(stream, batch_size, context, rng)


def test_causal_targets_shift_and_ignore_last_and_padding():
    ids = np.array([[5, 6, 7, 0, 0], [8, 9, 10, 11, 12]])
    targets = causal_lm_targets(ids, pad_id=0)
    np.testing.assert_array_equal(targets, [[6, 7, -100, -100, -100], [9, 10, 11, 12, -100]])
    np.testing.assert_array_equal(causal_lm_targets([3, 4, 5], ignore_index=-1), [4, 5, -1])
    with pytest.raises(ValueError, match="ignore_index=5 occurs in ids"):
        causal_lm_targets([3, 4, 5], ignore_index=5)


# ----------------------------------------------------------------------------- masked LM

PAD, CLS, SEP, MASK = 0, 1, 2, 3
SPECIAL = [PAD, CLS, SEP, MASK]
VOCAB = 1000
NUM_NORMAL_TOKENS = VOCAB - len(SPECIAL)


def bert_batch(rng, rows, width, min_content=1):
    """Rows shaped like BERT input: [CLS] content [SEP] [PAD]..., content lengths varying per row."""
    ids = np.full((rows, width), PAD, dtype=np.int64)
    for row in range(rows):
        n = rng.integers(min_content, width - 1)
        ids[row, 0] = CLS
        ids[row, 1:n + 1] = rng.integers(len(SPECIAL), VOCAB, size=n)
        ids[row, n + 1] = SEP
    return ids


def expected_num_predictions(num_candidates, mask_prob, max_predictions):
    """The documented count rule, written out independently."""
    if num_candidates == 0:
        return 0
    k = max(1, int(round(mask_prob * num_candidates)))
    k = min(k, num_candidates)
    return k if max_predictions is None else min(k, max_predictions)


@settings(deadline=None, max_examples=50)
@given(
    seed=st.integers(0, 2 ** 32 - 1),
    rows=st.integers(1, 4),
    width=st.integers(3, 40),
    mask_prob=st.sampled_from([0.05, 0.15, 0.3, 0.5, 1.0]),
    max_predictions=st.none() | st.integers(1, 10),
)
def test_mlm_invariants(seed, rows, width, mask_prob, max_predictions):
    rng = np.random.default_rng(seed)
    ids = bert_batch(rng, rows, width, min_content=0) if width > 3 else np.array([[CLS, 7, SEP]] * rows)
    corrupted, labels = mask_tokens(ids, VOCAB, MASK, SPECIAL, rng, mask_prob=mask_prob,
                                    max_predictions=max_predictions)
    chosen = labels != -100
    is_special = np.isin(ids, SPECIAL)
    assert not np.any(chosen & is_special)                          # specials are never chosen
    np.testing.assert_array_equal(labels[chosen], ids[chosen])      # labels are the original ids
    np.testing.assert_array_equal(corrupted[~chosen], ids[~chosen])  # nothing else changes
    replaced = corrupted[chosen]
    assert np.all((replaced == MASK) | ~np.isin(replaced, SPECIAL))  # never inserts [CLS]/[PAD]/...
    for row in range(rows):
        num_candidates = int((~is_special[row]).sum())
        assert chosen[row].sum() == expected_num_predictions(num_candidates, mask_prob, max_predictions)


def test_mlm_statistics_match_bert_15_percent_and_80_10_10():
    rng = np.random.default_rng(0)
    ids = bert_batch(rng, rows=3000, width=64, min_content=40)
    corrupted, labels = mask_tokens(ids, VOCAB, MASK, SPECIAL, rng)
    candidates = ~np.isin(ids, SPECIAL)
    chosen = labels != -100
    assert abs(chosen.sum() / candidates.sum() - 0.15) < 0.01

    became_mask = (corrupted == MASK) & chosen
    unchanged = (corrupted == ids) & chosen
    became_random = chosen & ~became_mask & ~unchanged
    n = chosen.sum()  # about 19,000 positions: the standard error of a 10% share is about 0.002
    assert abs(became_mask.sum() / n - 0.8) < 0.01
    # A random draw equals the original token with probability 1/NUM_NORMAL_TOKENS and then looks unchanged.
    assert abs(became_random.sum() / n - 0.1 * (1 - 1 / NUM_NORMAL_TOKENS)) < 0.01
    assert abs(unchanged.sum() / n - 0.1 * (1 + 1 / NUM_NORMAL_TOKENS)) < 0.01

    # Random replacements come uniformly from the non-special ids: mean of uniform {4..999} is 501.5.
    random_tokens = corrupted[became_random]
    assert random_tokens.min() >= len(SPECIAL)
    assert abs(random_tokens.mean() - (len(SPECIAL) + VOCAB - 1) / 2) < 20

    # Positions are chosen uniformly: the first and second half of each row's content are hit equally often.
    positions = np.arange(ids.shape[1])
    content_length = candidates.sum(axis=1, keepdims=True)
    first_half = candidates & (positions <= content_length // 2)
    second_half = candidates & ~first_half
    rate_first = (chosen & first_half).sum() / first_half.sum()
    rate_second = (chosen & second_half).sum() / second_half.sum()
    assert abs(rate_first - rate_second) < 0.01


def test_mlm_decides_80_10_10_independently_per_position():
    """With whole rows chosen (mask_prob=1), a row's share of [MASK] must vary like a Binomial(T, 0.8)."""
    rng = np.random.default_rng(5)
    ids = rng.integers(len(SPECIAL), VOCAB, size=(2000, 20))
    corrupted, _ = mask_tokens(ids, VOCAB, MASK, SPECIAL, rng, mask_prob=1.0)
    masks_per_row = (corrupted == MASK).sum(axis=1)
    assert abs(masks_per_row.mean() - 16.0) < 0.2
    assert abs(masks_per_row.var() - 20 * 0.8 * 0.2) < 0.4  # 3.2; a per-row decision would give far more


def test_mlm_max_predictions_caps_the_count():
    rng = np.random.default_rng(1)
    ids = rng.integers(len(SPECIAL), VOCAB, size=(50, 128))
    _, labels = mask_tokens(ids, VOCAB, MASK, SPECIAL, rng)
    assert np.all((labels != -100).sum(axis=1) == 19)  # round(0.15 * 128) = round(19.2)
    _, labels = mask_tokens(ids, VOCAB, MASK, SPECIAL, rng, max_predictions=5)
    assert np.all((labels != -100).sum(axis=1) == 5)


def test_mlm_rounds_halves_to_even_and_predicts_at_least_one():
    rng = np.random.default_rng(2)
    # 10 candidates * 0.25 = 2.5 -> 2 (half to even); 14 * 0.25 = 3.5 -> 4; 2 * 0.15 = 0.3 -> at least 1.
    for num_candidates, expected in [(10, 2), (14, 4)]:
        ids = rng.integers(len(SPECIAL), VOCAB, size=(5, num_candidates))
        _, labels = mask_tokens(ids, VOCAB, MASK, SPECIAL, rng, mask_prob=0.25)
        assert np.all((labels != -100).sum(axis=1) == expected)
    _, labels = mask_tokens(np.array([[CLS, 10, 11, SEP]]), VOCAB, MASK, SPECIAL, rng)
    assert (labels != -100).sum() == 1


def test_mlm_row_of_only_special_tokens_is_left_alone():
    ids = np.array([[CLS, SEP, PAD, PAD], [CLS, 50, SEP, PAD]])
    corrupted, labels = mask_tokens(ids, VOCAB, MASK, SPECIAL, np.random.default_rng(0))
    np.testing.assert_array_equal(corrupted[0], ids[0])
    assert np.all(labels[0] == -100)
    assert labels[1, 1] == 50


def test_mlm_accepts_a_single_row_and_treats_mask_id_as_special():
    ids = np.array([MASK, 10, 11, 12])
    corrupted, labels = mask_tokens(ids, VOCAB, MASK, [], np.random.default_rng(0), mask_prob=1.0)
    assert corrupted.shape == labels.shape == (4,)
    assert labels[0] == -100 and np.all(labels[1:] == ids[1:])


def test_mlm_is_deterministic_given_the_seed():
    ids = bert_batch(np.random.default_rng(0), 8, 32)
    first = mask_tokens(ids, VOCAB, MASK, SPECIAL, np.random.default_rng(7))
    again = mask_tokens(ids, VOCAB, MASK, SPECIAL, np.random.default_rng(7))
    other = mask_tokens(ids, VOCAB, MASK, SPECIAL, np.random.default_rng(8))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


def words_batch(rng, rows, num_words):
    """Rows of [CLS] w1 w2 ... [SEP] where each word has 1-4 pieces; returns ids, word starts, word ids."""
    all_ids, all_starts, all_word_ids = [], [], []
    for _ in range(rows):
        ids, starts, word_ids = [CLS], [True], [-1]
        for word in range(num_words):
            pieces = int(rng.integers(1, 5))
            ids += rng.integers(len(SPECIAL), VOCAB, size=pieces).tolist()
            starts += [True] + [False] * (pieces - 1)
            word_ids += [word] * pieces
        ids.append(SEP), starts.append(True), word_ids.append(-1)
        all_ids.append(ids), all_starts.append(starts), all_word_ids.append(word_ids)
    width = max(len(row) for row in all_ids)
    pad = lambda rows_, value: np.array([row + [value] * (width - len(row)) for row in rows_])  # noqa: E731
    return pad(all_ids, PAD), pad(all_starts, True).astype(bool), pad(all_word_ids, -1)


def test_whole_word_masking_masks_all_pieces_of_a_word_or_none():
    rng = np.random.default_rng(3)
    ids, starts, word_ids = words_batch(rng, rows=400, num_words=30)
    corrupted, labels = mask_tokens(ids, VOCAB, MASK, SPECIAL, rng, whole_word_starts=starts)
    chosen = labels != -100
    total_chosen, total_target = 0, 0
    for row in range(len(ids)):
        for word in range(30):
            pieces = chosen[row][word_ids[row] == word]
            assert pieces.all() or not pieces.any()
        num_candidates = int((word_ids[row] >= 0).sum())
        k = expected_num_predictions(num_candidates, 0.15, None)
        assert chosen[row].sum() <= k  # whole words are never split to hit k exactly
        total_chosen += chosen[row].sum()
        total_target += k
    assert total_chosen / total_target > 0.9  # skipping words that don't fit rarely loses much
    np.testing.assert_array_equal(labels[chosen], ids[chosen])
    assert np.mean(corrupted[chosen] == MASK) == pytest.approx(0.8, abs=0.03)


def test_whole_word_masking_with_every_token_a_word_equals_token_masking():
    ids = bert_batch(np.random.default_rng(0), 20, 40)
    by_token = mask_tokens(ids, VOCAB, MASK, SPECIAL, np.random.default_rng(9))
    by_word = mask_tokens(ids, VOCAB, MASK, SPECIAL, np.random.default_rng(9),
                          whole_word_starts=np.ones(ids.shape, dtype=bool))
    for a, b in zip(by_token, by_word):
        np.testing.assert_array_equal(a, b)


def test_whole_word_continuation_after_a_special_token_starts_its_own_word():
    # Position 3 is a continuation piece right after [SEP]; it must not be glued to the word at position 1
    # (BERT's script would glue it). With 3 candidates and k = round(0.34 * 3) = 1, the one-token words
    # 1, 3 and 4 can each be chosen; were 1 and 3 one word, only position 4 could ever be chosen.
    ids = np.array([[CLS, 10, SEP, 11, 12, SEP]])
    starts = np.array([[True, True, True, False, True, True]])
    seen = set()
    for seed in range(60):
        _, labels = mask_tokens(ids, VOCAB, MASK, SPECIAL, np.random.default_rng(seed), mask_prob=0.34,
                                whole_word_starts=starts)
        seen.add(tuple(np.flatnonzero(labels[0] != -100).tolist()))
    assert seen == {(1,), (3,), (4,)}


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"mask_prob": 0.0}, ValueError, r"mask_prob must be in \(0, 1\], got 0.0"),
        ({"mask_prob": 1.5}, ValueError, "mask_prob must be in"),
        ({"mask_prob": -0.1}, ValueError, "mask_prob must be in"),
        ({"mask_prob": float("nan")}, ValueError, "mask_prob must be in"),
        ({"max_predictions": 0}, ValueError, "max_predictions must be a positive integer"),
        ({"ignore_index": 5}, ValueError, "ignore_index=5 is a real token id"),
        ({"mask_id": VOCAB}, ValueError, "mask_id=1000 is outside the vocabulary"),
        ({"special_ids": [0, 5000]}, ValueError, "special_ids contains 5000"),
        ({"ids": np.array([[CLS, 5000, SEP]])}, ValueError, "ids contains 5000, outside the vocabulary"),
        ({"ids": np.ones((1, 2, 3), dtype=int)}, ValueError, "must be 1-D or 2-D"),
        ({"ids": np.array([[1.0, 2.0]])}, TypeError, "integer token ids"),
        ({"whole_word_starts": np.ones((1, 2), dtype=bool)}, ValueError, "whole_word_starts must be a bool array"),
        ({"whole_word_starts": np.ones((1, 3), dtype=int)}, ValueError, "whole_word_starts must be a bool array"),
        ({"vocab_size": 4, "ids": np.array([[1, 2]])}, ValueError, "every id in the vocabulary is special"),
        ({"rng": np.random.RandomState(0)}, TypeError, "np.random.Generator"),
    ],
)
def test_mlm_rejects_bad_input(kwargs, error, fragment):
    arguments = dict(ids=np.array([[CLS, 10, SEP]]), vocab_size=VOCAB, mask_id=MASK, special_ids=SPECIAL,
                     rng=np.random.default_rng(0))
    arguments.update(kwargs)
    with pytest.raises(error, match=fragment):
        mask_tokens(**arguments)


# ----------------------------------------------------------------------------- span corruption

EOS = 1
SENTINELS = np.arange(32099, 31999, -1)  # T5 numbers <extra_id_0> = 32099, <extra_id_1> = 32098, ...


def count_spans(mask):
    return int(np.sum(mask & ~np.concatenate([[False], mask[:-1]])))


# Worked by hand from T5's formula (noise = round(L * 0.15) clamped to [1, L-1], spans = max(1, round(noise / 3))),
# with round-half-to-even: 30 * 0.15 = 4.5 -> 4.
@pytest.mark.parametrize("length, noise, spans", [(2, 1, 1), (10, 2, 1), (30, 4, 1), (100, 15, 5), (512, 77, 26)])
def test_noise_span_counts_follow_t5(length, noise, spans):
    assert noise_span_counts(length) == (noise, spans)
    assert span_corruption_lengths(length) == (length - noise + spans + 1, noise + spans + 1)


def test_noise_span_counts_cap_spans_by_the_kept_tokens():
    # 10 * 0.8 = 8 noise tokens in round(8 / 1) = 8 spans would need 8 kept tokens; only 2 exist.
    assert noise_span_counts(10, noise_density=0.8, mean_noise_span_length=1.0) == (8, 2)


@settings(deadline=None, max_examples=50)
@given(
    length=st.integers(2, 300),
    noise_density=st.sampled_from([0.05, 0.15, 0.3, 0.5, 0.8]),
    mean_noise_span_length=st.sampled_from([1.0, 2.0, 3.0, 10.0]),
    seed=st.integers(0, 2 ** 32 - 1),
)
def test_noise_mask_has_the_specified_counts_and_t5_layout(length, noise_density, mean_noise_span_length, seed):
    mask = random_spans_noise_mask(length, np.random.default_rng(seed), noise_density, mean_noise_span_length)
    noise, spans = noise_span_counts(length, noise_density, mean_noise_span_length)
    assert mask.dtype == np.bool_ and mask.shape == (length,)
    assert mask.sum() == noise
    assert count_spans(mask) == spans
    assert not mask[0]  # T5 starts with a kept segment
    assert mask[-1]     # ... and so, with as many kept runs as noise spans, ends with noise


def test_noise_mask_segments_are_uniformly_random():
    # length 8, density 0.5, mean 2: 4 noise tokens in 2 spans, 4 kept tokens in 2 runs; each is split
    # 1+3, 2+2 or 3+1, so there are 9 possible masks, which should be equally likely.
    rng = np.random.default_rng(0)
    counts = {}
    draws = 9000
    for _ in range(draws):
        mask = random_spans_noise_mask(8, rng, noise_density=0.5, mean_noise_span_length=2.0)
        counts[tuple(mask)] = counts.get(tuple(mask), 0) + 1
    assert len(counts) == 9
    for count in counts.values():
        assert abs(count / draws - 1 / 9) < 0.02


def test_noise_mask_mean_span_length_and_density_over_many_draws():
    rng = np.random.default_rng(1)
    masks = [random_spans_noise_mask(500, rng) for _ in range(200)]
    assert np.mean([m.mean() for m in masks]) == pytest.approx(0.15, abs=0.001)  # 75 / 500
    assert np.mean([m.sum() / count_spans(m) for m in masks]) == pytest.approx(3.0, abs=0.01)  # 75 / 25
    hit_rate = np.mean(masks, axis=0)
    assert hit_rate[0] == 0 and hit_rate[-1] == 1
    # Away from the ends (the last span always ends on the last token), every position is corrupted at
    # roughly the noise density: about 0.15 +- 0.025 per position over 200 draws.
    assert np.all((hit_rate[10:-10] > 0.05) & (hit_rate[10:-10] < 0.3))


def test_corrupt_spans_reproduces_the_t5_paper_example():
    words = "Thank you for inviting me to your party last week .".split()
    vocab = {word: i + 10 for i, word in enumerate(words)}
    ids = np.array([vocab[w] for w in words])
    noise = np.array([w in ("for", "inviting", "last") for w in words])
    sentinels = [100, 101, 102]
    inputs, targets = corrupt_spans(ids, noise, sentinels, EOS)
    expected_inputs = [vocab["Thank"], vocab["you"], 100, vocab["me"], vocab["to"], vocab["your"], vocab["party"],
                       101, vocab["week"], vocab["."], EOS]
    np.testing.assert_array_equal(inputs, expected_inputs)
    np.testing.assert_array_equal(targets, [100, vocab["for"], vocab["inviting"], 101, vocab["last"], EOS])


def test_corrupt_spans_handles_noise_at_the_start():
    inputs, targets = corrupt_spans([10, 11, 12, 13], np.array([True, True, False, True]), [100, 101], EOS)
    np.testing.assert_array_equal(inputs, [100, 12, 101, EOS])
    np.testing.assert_array_equal(targets, [100, 10, 11, 101, 13, EOS])


@settings(deadline=None, max_examples=50)
@given(
    length=st.integers(2, 400),
    noise_density=st.sampled_from([0.05, 0.15, 0.3, 0.5]),
    mean_noise_span_length=st.sampled_from([1.0, 3.0, 8.0]),
    seed=st.integers(0, 2 ** 32 - 1),
)
def test_span_corruption_input_and_target_reconstruct_the_original(length, noise_density,
                                                                   mean_noise_span_length, seed):
    ids = np.random.default_rng(seed).integers(2, 31800, size=length)
    sentinels = np.arange(32099, 31799, -1)  # 300 sentinels: enough for any case drawn here
    inputs, targets = span_corruption(ids, sentinels, EOS, np.random.default_rng(seed),
                                      noise_density, mean_noise_span_length)
    np.testing.assert_array_equal(reconstruct_from_span_corruption(inputs, targets, sentinels, EOS), ids)

    assert (len(inputs), len(targets)) == span_corruption_lengths(length, noise_density, mean_noise_span_length)
    assert inputs[-1] == targets[-1] == EOS
    _, spans = noise_span_counts(length, noise_density, mean_noise_span_length)
    np.testing.assert_array_equal(inputs[np.isin(inputs, sentinels)], sentinels[:spans])   # in order, once each
    np.testing.assert_array_equal(targets[np.isin(targets, sentinels)], sentinels[:spans])
    assert targets[0] == sentinels[0]

    # span_corruption is exactly "draw the T5 mask, then corrupt_spans": the target holds ids[mask] in order.
    mask = random_spans_noise_mask(length, np.random.default_rng(seed), noise_density, mean_noise_span_length)
    np.testing.assert_array_equal(targets[~np.isin(targets, sentinels)][:-1], ids[mask])
    np.testing.assert_array_equal(inputs[~np.isin(inputs, sentinels)][:-1], ids[~mask])


def test_span_corruption_target_is_much_shorter_than_the_input():
    ids = np.random.default_rng(0).integers(2, 32000, size=512)
    inputs, targets = span_corruption(ids, SENTINELS, EOS, np.random.default_rng(0))
    assert (len(inputs), len(targets)) == (462, 104)  # 512 - 77 + 26 + 1 and 77 + 26 + 1
    assert len(targets) < len(ids) / 4


def test_span_corruption_is_deterministic_given_the_seed():
    ids = np.arange(10, 210)
    first = span_corruption(ids, SENTINELS, EOS, np.random.default_rng(11))
    again = span_corruption(ids, SENTINELS, EOS, np.random.default_rng(11))
    other = span_corruption(ids, SENTINELS, EOS, np.random.default_rng(12))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda: span_corruption(np.arange(10, 110), [500, 501], EOS, np.random.default_rng(0)),
         ValueError, "5 noise spans but only 2 sentinel ids"),
        (lambda: span_corruption(np.array([10, 500, 12]), [500, 501], EOS, np.random.default_rng(0)),
         ValueError, r"ids\[1\] = 500 is a sentinel or EOS id"),
        (lambda: span_corruption(np.array([10, EOS, 12]), [500, 501], EOS, np.random.default_rng(0)),
         ValueError, "sentinel or EOS id"),
        (lambda: span_corruption(np.arange(10, 20), [500, 500], EOS, np.random.default_rng(0)),
         ValueError, "sentinel_ids must be distinct"),
        (lambda: span_corruption(np.arange(10, 20), [500, EOS], EOS, np.random.default_rng(0)),
         ValueError, "is also a sentinel id"),
        (lambda: span_corruption(np.array([10]), [500], EOS, np.random.default_rng(0)),
         ValueError, "at least 2 tokens"),
        (lambda: random_spans_noise_mask(10, np.random.default_rng(0), noise_density=0.0),
         ValueError, r"noise_density must be in \(0, 1\)"),
        (lambda: random_spans_noise_mask(10, np.random.default_rng(0), noise_density=1.0),
         ValueError, "noise_density must be in"),
        (lambda: random_spans_noise_mask(10, np.random.default_rng(0), mean_noise_span_length=0.5),
         ValueError, "mean_noise_span_length must be at least 1"),
        (lambda: random_spans_noise_mask(10, 0), TypeError, "np.random.Generator"),
        (lambda: corrupt_spans([10, 11], np.array([True]), [500], EOS), ValueError, "noise_mask must be a bool"),
        (lambda: corrupt_spans([10, 11], np.array([1, 0]), [500], EOS), ValueError, "noise_mask must be a bool"),
    ],
)
def test_span_corruption_rejects_bad_input(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()


@pytest.mark.parametrize(
    "inputs, targets, fragment",
    [
        ([10, 500], [500, 11, EOS], "input_ids must end with eos_id=1"),
        ([10, 500, EOS], [500, 11], "target_ids must end with eos_id=1"),
        ([10, 500, EOS], [11, 500, EOS], "must start with a sentinel, but starts with 11"),
        ([10, 500, EOS], [501, 11, EOS], "sentinel 500 in input_ids has no span"),
        ([10, 500, EOS], [500, 11, 501, 12, EOS], r"spans for sentinels \[501\] that input_ids never uses"),
        ([10, 500, 12, 500, EOS], [500, 11, EOS], "used twice"),
        ([10, 500, EOS], [500, 11, 500, EOS], "appears twice in target_ids"),
    ],
)
def test_reconstruct_rejects_inconsistent_pairs(inputs, targets, fragment):
    with pytest.raises(ValueError, match=fragment):
        reconstruct_from_span_corruption(inputs, targets, [500, 501], EOS)


def test_span_corruption_batch_pads_and_masks_each_example():
    PAD_ID = 0
    sequences = [np.arange(10, 10 + n) for n in (5, 40, 17)]
    batch = span_corruption_batch(sequences, SENTINELS, EOS, PAD_ID, np.random.default_rng(4))
    expected = [span_corruption_lengths(len(s)) for s in sequences]
    assert batch.input_ids.shape == (3, max(e[0] for e in expected))
    assert batch.target_ids.shape == (3, max(e[1] for e in expected))
    np.testing.assert_array_equal(batch.input_mask.sum(axis=1), [e[0] for e in expected])
    np.testing.assert_array_equal(batch.target_mask.sum(axis=1), [e[1] for e in expected])
    assert np.all(batch.input_ids[~batch.input_mask] == PAD_ID)
    assert np.all(batch.target_ids[~batch.target_mask] == PAD_ID)
    for row, sequence in enumerate(sequences):
        inputs = batch.input_ids[row][batch.input_mask[row]]
        targets = batch.target_ids[row][batch.target_mask[row]]
        np.testing.assert_array_equal(reconstruct_from_span_corruption(inputs, targets, SENTINELS, EOS), sequence)
    with pytest.raises(ValueError, match="pad_id=32099 is also a sentinel id"):
        span_corruption_batch(sequences, SENTINELS, EOS, 32099, np.random.default_rng(4))


def test_pad_batch():
    padded, mask = pad_batch([[1, 2, 3], [4], []], pad_id=9)
    np.testing.assert_array_equal(padded, [[1, 2, 3], [4, 9, 9], [9, 9, 9]])
    np.testing.assert_array_equal(mask.sum(axis=1), [3, 1, 0])
    with pytest.raises(ValueError, match="sequences is empty"):
        pad_batch([], pad_id=0)


# ----------------------------------------------------------------------------- the tasks


def test_each_model_gets_the_task_of_its_paper_built_from_the_model_and_the_tokenizer():

    tokenizer = make_tokenizer(builtin_corpus()[:20000], vocab_size=300)
    ids = {name: tokenizer.token_to_id(name) for name in SPECIAL_TOKENS}
    gpt, bert, t5 = (build_model(kind, "micro", vocab_size=300) for kind in ("gpt", "bert", "t5"))
    assert [task_class_for(model) for model in (gpt, bert, t5)] == [CausalLM, MaskedLM, SpanCorruption]
    assert task_for(gpt, tokenizer) == CausalLM(context=16)
    masked = task_for(bert, tokenizer)
    assert (masked.cls_id, masked.sep_id, masked.mask_id) == (ids["[CLS]"], ids["[SEP]"], ids["[MASK]"])
    assert masked.special_ids == sorted(ids.values()) and masked.vocab_size == 300
    spans = task_for(t5, tokenizer)
    assert SpanCorruption.sentinels_needed(16) == 2  # a 19-token window at 30% noise has two spans
    assert spans.sentinel_ids == [ids["<extra_id_0>"], ids["<extra_id_1>"]]
    assert (spans.eos_id, spans.pad_id) == (ids["</s>"], ids["[PAD]"])
    assert SpanCorruption.config_overrides(tokenizer) == {"pad_id": ids["[PAD]"]}
    assert MaskedLM.default_lr == CausalLM.default_lr == SpanCorruption.default_lr == 3e-3
    with pytest.raises(ValueError, match="no pretraining task for Linear"):
        task_class_for(Linear(2, 2))


@pytest.mark.parametrize("density", [0.15, 0.3, 0.5, 0.8, 0.95])
@pytest.mark.parametrize("context", [16, 64, 128, 512, 1024])
def test_the_t5_window_fills_the_context_and_gets_enough_sentinels(context, density):
    window = SpanCorruption.window_for(context, density)
    assert max(span_corruption_lengths(window, density)) <= context < max(span_corruption_lengths(window + 1, density))
    if density < 0.5:  # corruption shortens the input, so the window of text is longer
        assert span_corruption_lengths(window + 1, density)[0] > context and window > context
    else:  # the target (the hidden text) is what fills the decoder's context first
        assert span_corruption_lengths(window + 1, density)[1] > context
    needed = SpanCorruption.sentinels_needed(context, density)
    assert min(noise_span_counts(window, density)[1], 100) <= needed <= 100  # T5 has 100 sentinels
    names = SpanCorruption.tokenizer_special_tokens(context, noise_density=density)
    assert names[:2] == ["[PAD]", "</s>"] and names[2:] == [f"<extra_id_{i}>" for i in range(needed)]


def test_each_task_gives_its_tokenizer_only_the_special_tokens_it_uses():
    assert CausalLM.tokenizer_special_tokens(64) == ["[PAD]", "[SEP]", "<|endoftext|>"]
    assert MaskedLM.tokenizer_special_tokens(64) == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert SpanCorruption.tokenizer_special_tokens(512)[-1] == "<extra_id_63>"  # t5-small: 64 spans at 30%


def test_t5_small_pretrains_with_its_sentinels():
    """T5's 512-token context needs 64 sentinels at 30% noise; a tokenizer with only 16 is a clear error."""
    t5 = build_model("t5", "t5-small", vocab_size=400, n_layers=1, d_model=16, d_ff=16, n_heads=2)
    text = builtin_corpus()[:20000]
    with pytest.raises(ValueError, match="has 16 of the 64 T5 sentinels"):
        task_for(t5, make_tokenizer(text, vocab_size=400))
    tokenizer = make_tokenizer(text, vocab_size=400, special_tokens=SpanCorruption.tokenizer_special_tokens(512))
    task = task_for(t5, tokenizer)
    ids = np.array(tokenizer.encode(text * 3), dtype=np.int64)
    batch = task.batch(ids, 2, np.random.default_rng(0))
    assert batch.input_ids.shape[1] <= 512 and len(task.sentinel_ids) == 64
    assert np.isfinite(task.loss(t5, batch).item())


def test_a_tokenizer_without_the_tasks_special_tokens_is_a_clear_error():

    plain = BPETokenizer(kind="byte")
    plain.train([builtin_corpus()[:20000]], vocab_size=300)  # its only special token: <|endoftext|>
    with pytest.raises(ValueError, match=r"lacks the special tokens \['\[CLS\]', '\[SEP\]', '\[MASK\]'\].*MaskedLM"):
        task_for(build_model("bert", "micro", vocab_size=300), plain)
    task_for(build_model("gpt", "micro", vocab_size=300), plain)  # GPT's task needs none


def _t5_task(**options):
    text = builtin_corpus()[:20000]
    tokenizer = make_tokenizer(text, vocab_size=400)
    t5 = build_model("t5", "micro", vocab_size=400, context_length=64, pad_id=tokenizer.token_to_id("[PAD]"))
    return task_for(t5, tokenizer, **options), np.array(tokenizer.encode(text), dtype=np.int64)


def _hidden_share(task, batch) -> float:
    """The share of a batch's text that its targets hide (its noise density)."""
    hidden = (batch.target_mask & ~np.isin(batch.target_ids, [*task.sentinel_ids, task.eos_id])).sum()
    kept = (batch.input_mask & ~np.isin(batch.input_ids, [*task.sentinel_ids, task.eos_id])).sum()
    return hidden / (hidden + kept)


def test_t5_trains_at_its_density_then_finishes_on_every_density_down_to_a_few_gaps():
    task, ids = _t5_task()
    assert (task.noise_density, task.finish_density) == (0.3, 0.05)
    rng = np.random.default_rng(0)
    early = [_hidden_share(task, task.training_batch(ids, 4, rng, progress)) for progress in (0.0, 0.5, 0.74)]
    assert all(abs(share - 0.3) < 0.02 for share in early)  # rounding of the counts per window
    late = [_hidden_share(task, task.training_batch(ids, 4, rng, 0.75 + i / 400)) for i in range(100)]
    assert 0.04 < min(late) < 0.08 and 0.27 < max(late) < 0.31 and 0.15 < np.mean(late) < 0.2
    for progress in (0.0, 0.9):  # every batch fits the context, whatever its density
        batch = task.training_batch(ids, 4, rng, progress)
        assert batch.input_ids.shape[1] <= 64 and batch.target_ids.shape[1] <= 64
    again = _t5_task()[0]
    np.testing.assert_array_equal(task.training_batch(ids, 4, np.random.default_rng(5), 0.9).input_ids,
                                  again.training_batch(ids, 4, np.random.default_rng(5), 0.9).input_ids)


def test_t5_at_one_density_throughout_as_the_paper():
    task, ids = _t5_task(noise_density=0.15, finish_density=0.15)
    rng = np.random.default_rng(0)
    shares = [_hidden_share(task, task.training_batch(ids, 4, rng, 0.95)) for _ in range(20)]
    assert all(abs(share - 0.15) < 0.02 for share in shares)
    low, _ = _t5_task(noise_density=0.03)  # a density below the finishing one: it finishes at its own
    assert low.finish_density == 0.03


@pytest.mark.parametrize("options, fragment", [
    ({"finish_density": 0.0}, "finish_density must be in (0, noise_density=0.3], got 0.0"),
    ({"finish_density": -0.1}, "got -0.1"),
    ({"finish_density": 0.5}, "finish_density must be in (0, noise_density=0.3], got 0.5"),
    ({"finish_density": float("nan")}, "got nan"),
    ({"noise_density": 0.1, "finish_density": 0.2}, "noise_density=0.1], got 0.2"),
])
def test_bad_finish_densities_are_one_clear_error(options, fragment):
    with pytest.raises(ValueError) as error:
        _t5_task(**options)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_the_trainer_tells_the_task_how_far_training_is(tmp_path):
    """train.py asks task.training_batch with step / steps, from 0 to (steps - 1) / steps."""
    from minitransformer.train import TrainConfig, train

    task, ids = _t5_task()
    seen = []
    batch = task.training_batch

    def recording(ids_, batch_size, rng, progress):
        seen.append(progress)
        return batch(ids_, batch_size, rng, progress)

    task.training_batch = recording
    config = TrainConfig(steps=4, batch_size=2, eval_every=100, eval_batches=1, log_every=100)
    model = build_model("t5", "micro", vocab_size=400, context_length=64, pad_id=task.pad_id)
    train(model, task, ids[:5000], ids[5000:], config, tmp_path / "run", metadata={}, log=lambda line: None)
    assert seen == [0.0, 0.25, 0.5, 0.75]
