"""Checkers for lesson 7's exercises: BERT's 80/10/10 rule, and the loss over the chosen positions only."""

import numpy as np

import minitransformer as mt
from minitransformer import functional as F
from minitransformer.objectives import IGNORE_INDEX

from exercises import ExerciseWrong, call, compare_arrays

VOCAB, MASK = 50, 3


def check_mask_chosen(mask_chosen):
    """mask_chosen(ids, chosen, mask_id, vocab_size, rng) -> (inputs, labels)."""
    rng = np.random.default_rng(0)
    ids = rng.integers(5, VOCAB, size=(400, 50))
    chosen = rng.random(ids.shape) < 0.15
    result = call(mask_chosen, ids.copy(), chosen.copy(), MASK, VOCAB, np.random.default_rng(1))
    if not isinstance(result, tuple) or len(result) != 2:
        raise ExerciseWrong("mask_chosen should return two arrays, (inputs, labels)")
    inputs, labels = (np.asarray(a) for a in result)
    for name, array in (("inputs", inputs), ("labels", labels)):
        if array.shape != ids.shape:
            raise ExerciseWrong(f"{name} has shape {array.shape}, expected {ids.shape} (the shape of ids)")
    compare_arrays(labels, np.where(chosen, ids, IGNORE_INDEX), "labels (the original id where chosen, -100 elsewhere)")
    compare_arrays(inputs[~chosen], ids[~chosen], "the inputs at the positions not chosen (they must not change)")
    if ((inputs < 0) | (inputs >= VOCAB)).any():
        raise ExerciseWrong(f"an input id is outside the vocabulary 0..{VOCAB - 1}")
    n = chosen.sum()
    masked = (inputs[chosen] == MASK).sum() / n
    kept = (inputs[chosen] == ids[chosen]).sum() / n
    other = 1 - masked - kept
    for what, share, target in (("replaced by [MASK]", masked, 0.8), ("replaced by a random token", other, 0.1),
                                ("left unchanged", kept, 0.1)):
        if abs(share - target) > 0.03:
            raise ExerciseWrong(f"{share:.1%} of the {n} chosen positions were {what}, expected about {target:.0%}")
    if np.array_equal(call(mask_chosen, ids.copy(), chosen.copy(), MASK, VOCAB, np.random.default_rng(2))[0], inputs):
        raise ExerciseWrong("another rng gave exactly the same inputs: draw the 80/10/10 choice from the rng passed in")


def check_mlm_loss(mlm_loss):
    """mlm_loss(logits (B, T, V), labels (B, T) with -100 where not chosen) -> the mean loss, a float."""
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((4, 9, 11)) * 2
    labels = np.where(rng.random((4, 9)) < 0.3, rng.integers(0, 11, size=(4, 9)), IGNORE_INDEX)
    labels[0, 0] = 5  # at least one chosen position
    expected = F.cross_entropy(mt.Tensor(logits.reshape(-1, 11)), labels.reshape(-1)).item()
    got = call(mlm_loss, logits.copy(), labels.copy())
    compare_arrays(np.asarray(got, dtype=np.float64).reshape(()), np.float64(expected),
                   "the loss (mean of -log p(original token) over the chosen positions)", atol=1e-6)


def _random_80_10_10_wrong_order(ids, chosen, mask_id, vocab_size, rng):
    inputs = ids.copy()
    u = rng.random(ids.shape)
    inputs[chosen & (u < 0.1)] = mask_id  # the shares swapped: 10% [MASK], 80% random
    random_ids = rng.integers(0, vocab_size, size=ids.shape)
    inputs[chosen & (u >= 0.1) & (u < 0.9)] = random_ids[chosen & (u >= 0.1) & (u < 0.9)]
    return inputs, np.where(chosen, ids, IGNORE_INDEX)


def _all_masked(ids, chosen, mask_id, vocab_size, rng):
    return np.where(chosen, mask_id, ids), np.where(chosen, ids, IGNORE_INDEX)


def _labels_everywhere(ids, chosen, mask_id, vocab_size, rng):
    u = rng.random(ids.shape)
    inputs = np.where(chosen & (u < 0.8), mask_id, ids)
    inputs = np.where(chosen & (u >= 0.8) & (u < 0.9), rng.integers(0, vocab_size, size=ids.shape), inputs)
    return inputs, ids.copy()  # the loss would cover every position


def _mean_over_all_positions(logits, labels):
    shifted = logits - logits.max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_p, np.maximum(labels, 0)[..., None], -1)[..., 0]
    return -(picked * (labels != IGNORE_INDEX)).mean()  # divides by every position, not the chosen ones


def _no_log_softmax(logits, labels):
    chosen = labels != IGNORE_INDEX
    return -logits[chosen, labels[chosen]].mean()


EXERCISES = {"mask_chosen": check_mask_chosen, "mlm_loss": check_mlm_loss}

MISTAKES = {
    "mask_chosen": [_random_80_10_10_wrong_order, _all_masked, _labels_everywhere],
    "mlm_loss": [_mean_over_all_positions, _no_log_softmax],
}
