"""Solutions to lesson 6's exercises (lessons/exercises/finetuning.py checks them)."""

import numpy as np


def sgd_momentum(weights, gradients, lr, momentum):
    velocity, after_each_step = None, []
    for gradient in gradients:
        # PyTorch's rule: the first velocity is the gradient itself, then v = momentum * v + g
        velocity = gradient.copy() if velocity is None else momentum * velocity + gradient
        weights = weights - lr * velocity
        after_each_step.append(weights)
    return after_each_step


def _mean_cross_entropy(logits, targets):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_probs, targets[..., None], axis=-1).mean()


def gpt1_loss(task_logits, labels, lm_logits, ids, lm_weight):
    task = _mean_cross_entropy(task_logits, labels)
    lm = _mean_cross_entropy(lm_logits[:, :-1], ids[:, 1:])  # position t predicts token t + 1
    return task + lm_weight * lm


def chosen_epoch(history):
    best = history[0]
    for record in history[1:]:
        if record["val_accuracy"] > best["val_accuracy"]:  # strictly better: the first of equals stays
            best = record
    return best["epoch"], best["test_accuracy"]
