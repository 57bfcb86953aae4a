"""Pretraining objectives: how unlabelled token ids become (input, target) pairs, and the loss.

A language model learns from raw text by hiding part of it and predicting what was hidden.
*What* is hidden, and what the model may look at while predicting it, is the objective.  The
three ways to pretrain seen in the lecture, one file each (the data transformation, then the
task class that turns a token stream into batches and a loss; T5's task, with its longer recipe,
has a file of its own):

    causal_lm.py             GPT: predict every token from the ones before it       -> CausalLM
    masked_lm.py             BERT: hide ~15% of the tokens, predict them from both sides -> MaskedLM
    span_corruption.py       T5: replace spans by sentinels, the decoder writes them
    span_corruption_task.py  the task that pretrains T5 with span corruption        -> SpanCorruption

    ids.py                   the id-array checks they share, IGNORE_INDEX and pad_batch
    task.py                  PretrainingTask: what the trainer and the command line ask of a task

TASKS lists the tasks; `task_for(model, tokenizer)` picks the one that pretrains a model, so no
code outside MODEL_TYPES (models/__init__.py) needs the names "gpt", "bert" or "t5".
"""

from .causal_lm import CausalLM, causal_lm_batch, causal_lm_targets
from .ids import IGNORE_INDEX, pad_batch
from .masked_lm import MASK_FRACTION, RANDOM_FRACTION, MaskedLM, mask_tokens
from .span_corruption import (
    NUM_SENTINELS,
    SpanCorruptionBatch,
    corrupt_spans,
    noise_span_counts,
    random_spans_noise_mask,
    reconstruct_from_span_corruption,
    span_corruption,
    span_corruption_batch,
    span_corruption_lengths,
)
from .span_corruption_task import SpanCorruption
from .task import PretrainingTask

TASKS = (CausalLM, MaskedLM, SpanCorruption)


def task_class_for(model_or_class) -> type:
    """The task that pretrains this model (or model class): CausalLM for GPT, and so on."""
    model_class = model_or_class if isinstance(model_or_class, type) else type(model_or_class)
    for task in TASKS:
        if issubclass(model_class, task.model_class):
            return task
    raise ValueError(f"no pretraining task for {model_class.__name__}; the tasks pretrain "
                     f"{', '.join(task.model_class.__name__ for task in TASKS)}")


def task_for(model, tokenizer, **options) -> PretrainingTask:
    """The task that pretrains `model`, with the sizes of the model and the ids of the tokenizer;
    `options` are the task's own (MaskedLM: mask_prob; SpanCorruption: noise_density)."""
    return task_class_for(model).from_model(model, tokenizer, **options)


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
    "IGNORE_INDEX",
    "MASK_FRACTION",
    "RANDOM_FRACTION",
    "NUM_SENTINELS",
    "PretrainingTask",
    "CausalLM",
    "MaskedLM",
    "SpanCorruption",
    "TASKS",
    "task_class_for",
    "task_for",
]
