"""Checkers for lesson 8's exercises: span corruption with a given noise mask, and undoing it."""

import numpy as np

from minitransformer.objectives import corrupt_spans, reconstruct_from_span_corruption

from exercises import ExerciseWrong, call, compare_arrays

SENTINELS, EOS = [100, 101, 102, 103, 104, 105], 99


def _cases():
    """(ids, noise mask): the paper's pattern, spans at both ends, adjacent spans, random masks."""
    ids = np.arange(10, 22)
    masks = [np.isin(np.arange(12), [2, 3, 8]),  # "Thank you [for inviting] me to your party [last] week ."
             np.isin(np.arange(12), [0, 1, 11]),  # a span at the very start and one at the very end
             np.isin(np.arange(12), [4, 5, 6, 7]),  # one long span
             np.isin(np.arange(12), [1, 3, 5])]  # single tokens, one kept token between them
    rng = np.random.default_rng(0)
    masks += [rng.random(12) < 0.3 for _ in range(4)]
    return [(ids, mask) for mask in masks if mask.any()]


def check_corrupt(corrupt):
    """corrupt(ids, noise_mask, sentinel_ids, eos_id) -> (input_ids, target_ids)."""
    for ids, mask in _cases():
        result = call(corrupt, ids.copy(), mask.copy(), list(SENTINELS), EOS)
        if not isinstance(result, tuple) or len(result) != 2:
            raise ExerciseWrong("corrupt should return two arrays, (input_ids, target_ids)")
        expected_input, expected_target = corrupt_spans(ids, mask, SENTINELS, EOS)
        hidden = "".join("x" if m else "." for m in mask)
        compare_arrays(np.asarray(result[0]), expected_input, f"the input for the mask {hidden} (x = hidden)")
        compare_arrays(np.asarray(result[1]), expected_target, f"the target for the mask {hidden} (x = hidden)")


def check_reconstruct(reconstruct):
    """reconstruct(input_ids, target_ids, sentinel_ids, eos_id) -> the original ids."""
    for ids, mask in _cases():
        inputs, targets = corrupt_spans(ids, mask, SENTINELS, EOS)
        got = call(reconstruct, inputs.copy(), targets.copy(), list(SENTINELS), EOS)
        expected = reconstruct_from_span_corruption(inputs, targets, SENTINELS, EOS)
        hidden = "".join("x" if m else "." for m in mask)
        compare_arrays(np.asarray(got), expected, f"the text rebuilt from the mask {hidden} (x = hidden)")


def _one_sentinel_per_token(ids, mask, sentinels, eos):
    inputs, targets, k = [], [], 0
    for token, hide in zip(ids.tolist(), mask):
        if hide:  # a new sentinel for every hidden token, not for every span
            inputs.append(sentinels[k])
            targets += [sentinels[k], token]
            k += 1
        else:
            inputs.append(token)
    return np.array(inputs + [eos]), np.array(targets + [eos])


def _no_eos(ids, mask, sentinels, eos):
    inputs, targets = corrupt_spans(ids, mask, sentinels, eos)
    return inputs[:-1], targets[:-1]


def _final_sentinel(ids, mask, sentinels, eos):
    inputs, targets = corrupt_spans(ids, mask, sentinels, eos)
    used = int(np.isin(targets, sentinels).sum())
    return inputs, np.concatenate([targets[:-1], [sentinels[used], eos]])  # the paper figure's <Z>


def _spans_in_place(inputs, targets, sentinels, eos):
    kept = [t for t in inputs.tolist() if t not in sentinels and t != eos]
    hidden = [t for t in targets.tolist() if t not in sentinels and t != eos]
    return np.array(kept + hidden)  # the hidden tokens appended, not put back where they were


def _drop_sentinels(inputs, targets, sentinels, eos):
    return np.array([t for t in inputs.tolist() if t not in sentinels and t != eos])


EXERCISES = {"corrupt": check_corrupt, "reconstruct": check_reconstruct}

MISTAKES = {
    "corrupt": [_one_sentinel_per_token, _no_eos, _final_sentinel],
    "reconstruct": [_spans_in_place, _drop_sentinels],
}
