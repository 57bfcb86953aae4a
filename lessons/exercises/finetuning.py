"""Checkers for lesson 6's exercises: SGD with momentum, GPT-1's fine-tuning loss, and choosing
an epoch on validation accuracy."""

import numpy as np

import minitransformer as mt
from minitransformer import functional as F
from minitransformer.optim import SGD

from exercises import ExerciseWrong, call, compare_arrays, compare_values


def check_sgd_momentum(sgd_momentum):
    """Against the library's SGD, fed the same gradients one step at a time."""
    rng = np.random.default_rng(6)
    start, gradients = rng.standard_normal(4), [rng.standard_normal(4) for _ in range(5)]
    lr, momentum = 0.1, 0.9
    weight = mt.nn.Parameter(start.copy())
    optimizer = SGD([weight], lr=lr, momentum=momentum)
    expected = []
    for g in gradients:
        weight.grad = g.copy()
        optimizer.step()
        expected.append(weight.data.copy())
    got = call(sgd_momentum, start.copy(), [g.copy() for g in gradients], lr, momentum)
    if got is None or len(got) != len(gradients):
        raise ExerciseWrong(f"it should return the weights after each of the {len(gradients)} steps, "
                            f"got {None if got is None else len(got)} arrays")
    for step, (w, e) in enumerate(zip(got, expected), 1):
        compare_arrays(w, e, f"the weights after step {step}", atol=1e-12)


def _cross_entropy(logits, targets) -> float:
    """The library's mean cross-entropy over every position of (..., V) logits."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)).item()


def check_gpt1_loss(gpt1_loss):
    """task cross-entropy + lm_weight * next-token cross-entropy, computed by the library."""
    rng = np.random.default_rng(6)
    B, T, V, K = 3, 5, 7, 2
    task_logits, labels = rng.standard_normal((B, K)), rng.integers(0, K, B)
    lm_logits, ids = 2.0 * rng.standard_normal((B, T, V)), rng.integers(0, V, (B, T))
    for lm_weight in (0.5, 0.0, 2.0):
        expected = _cross_entropy(task_logits, labels) + lm_weight * _cross_entropy(lm_logits[:, :-1], ids[:, 1:])
        got = call(gpt1_loss, task_logits.copy(), labels.copy(), lm_logits.copy(), ids.copy(), lm_weight)
        compare_arrays(got, expected, f"the loss with lm_weight={lm_weight}", atol=1e-9)


def check_chosen_epoch(chosen_epoch):
    """(epoch, held-out accuracy) of the epoch with the best validation accuracy; the first on a tie."""
    histories = [
        [{"epoch": 1, "val_accuracy": 0.7, "test_accuracy": 0.66}, {"epoch": 2, "val_accuracy": 0.8, "test_accuracy": 0.71},
         {"epoch": 3, "val_accuracy": 0.75, "test_accuracy": 0.74}],
        [{"epoch": 1, "val_accuracy": 0.9, "test_accuracy": 0.6}, {"epoch": 2, "val_accuracy": 0.9, "test_accuracy": 0.8}],
        [{"epoch": 1, "val_accuracy": 0.5, "test_accuracy": 0.5}],
    ]
    for history in histories:
        best = max(history, key=lambda record: record["val_accuracy"])  # max keeps the first of equals
        got = call(chosen_epoch, [dict(record) for record in history])
        compare_values(tuple(got) if isinstance(got, (list, tuple)) else got, (best["epoch"], best["test_accuracy"]),
                       f"chosen_epoch of {[(r['val_accuracy'], r['test_accuracy']) for r in history]} "
                       "(validation, held-out accuracy per epoch)")


EXERCISES = {"sgd_momentum": check_sgd_momentum, "gpt1_loss": check_gpt1_loss, "chosen_epoch": check_chosen_epoch}


def _plain_sgd(w, gradients, lr, momentum):  # momentum forgotten
    out = []
    for g in gradients:
        w = w - lr * g
        out.append(w)
    return out


def _moving_average(w, gradients, lr, momentum):  # velocity = m v + (1 - m) g: Adam's first moment, not SGD's
    v, out = np.zeros_like(w), []
    for g in gradients:
        v = momentum * v + (1 - momentum) * g
        w = w - lr * v
        out.append(w)
    return out


MISTAKES = {
    "sgd_momentum": [_plain_sgd, _moving_average],
    "gpt1_loss": [
        lambda t, y, lm, ids, lw: lw * _cross_entropy(t, y) + _cross_entropy(lm[:, :-1], ids[:, 1:]),  # weight on the wrong term
        lambda t, y, lm, ids, lw: _cross_entropy(t, y) + lw * _cross_entropy(lm, ids),  # the LM loss not shifted
    ],
    "chosen_epoch": [
        lambda h: (max(h, key=lambda r: r["test_accuracy"])["epoch"], max(r["test_accuracy"] for r in h)),  # chosen on held-out
        lambda h: (h[-1]["epoch"], h[-1]["test_accuracy"]),  # always the last epoch
        lambda h: (max(h, key=lambda r: r["val_accuracy"])["epoch"], max(r["val_accuracy"] for r in h)),  # reports validation
    ],
}
