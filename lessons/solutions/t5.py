"""Solutions to lesson 8's exercises (lessons/exercises/t5.py checks them)."""

import numpy as np


def corrupt(ids, noise_mask, sentinel_ids, eos_id):
    inputs, targets, spans = [], [], 0
    for position, token in enumerate(ids.tolist()):
        if not noise_mask[position]:
            inputs.append(token)
            continue
        if position == 0 or not noise_mask[position - 1]:  # the first token of a span: a new sentinel
            inputs.append(sentinel_ids[spans])
            targets.append(sentinel_ids[spans])
            spans += 1
        targets.append(token)  # the hidden token goes to the target, after its span's sentinel
    return np.array(inputs + [eos_id]), np.array(targets + [eos_id])


def reconstruct(input_ids, target_ids, sentinel_ids, eos_id):
    # the target is sentinel, span, sentinel, span, ..., </s>: collect each sentinel's span
    spans, current = {}, None
    for token in target_ids.tolist():
        if token == eos_id:
            break
        if token in sentinel_ids:
            current = token
            spans[current] = []
        else:
            spans[current].append(token)
    text = []
    for token in input_ids.tolist():  # then put each span back where its sentinel stands
        if token == eos_id:
            break
        text.extend(spans[token] if token in sentinel_ids else [token])
    return np.array(text)
