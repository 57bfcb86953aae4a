"""A pretraining task: one objective as the trainer and the command line use it.

The trainer (train.py) asks a task for four things only, so it never needs to know the model:

    task.batch(ids, batch_size, rng) -> a batch cut from the token stream (the validation loss's)
    task.training_batch(ids, batch_size, rng, progress)
                                     -> the batch to train on once `progress` (0 to 1) of the steps
                                        are done: task.batch, unless the task changes its batches
                                        as training goes on (T5 finishes on mixed noise densities)
    task.loss(model, batch)          -> the scalar loss Tensor to minimize
    task.context                     -> tokens per row (for the tokens/s figure)

Data-parallel training (distributed/) asks two more, which the base class answers for batches
that are tuples of arrays with the samples along the first axis:

    task.shard(batch, start, stop)   -> samples [start, stop) of a batch, for one worker
    task.loss_tokens(batch)          -> how many positions the loss averages over (its weight)

Held-out evaluation against the baselines (evaluation.py) asks two more:

    task.evaluation_batch(ids, batch_size, rng)  -> a batch for scoring (by default: task.batch)
    task.scored_predictions(model, batch)        -> (logits (N, V), labels (N,)) of the tokens the
                                                    objective predicts; task.scored_tokens names them
    Task.fills_gaps                              -> True if its model writes what a sentinel hides
                                                    (T5): its fills of hidden words are scored too

The command line (`pretrain`, `generate`) asks the rest, again without naming a model:

    Task.model_class         the model this objective pretrains (GPT, BERT or T5)
    Task.special_tokens      the special tokens the tokenizer must have
    Task.default_lr          the peak learning rate that trains it well here
    Task.default_steps       how many optimizer steps `pretrain` takes unless told
    Task.demo_text           the text the demos feed the model
    Task.from_model(model, tokenizer)   the task for this model's sizes and this tokenizer's ids
    Task.config_overrides(tokenizer)    model config fields that depend on the tokenizer
    task.show_before_training, task.show, task.generate_text    what the model does with text

Each objective (causal_lm.py, masked_lm.py, span_corruption_task.py) defines one subclass.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .ids import IGNORE_INDEX


def indent(text: str) -> str:
    """Every line of `text` indented by four spaces, to set samples apart from the log."""
    return "\n".join("    " + line for line in text.splitlines())


class PretrainingTask:
    """The parts every task shares; subclasses are dataclasses holding the task's sizes and ids."""

    model_class: type
    special_tokens: tuple = ()
    default_lr: float = 3e-3
    default_steps: int = 1500
    demo_text: str = ""

    @classmethod
    def from_model(cls, model, tokenizer) -> "PretrainingTask":  # pragma: no cover - every task defines it
        raise NotImplementedError

    @classmethod
    def tokenizer_special_tokens(cls, context_length: int, **task_options) -> list:
        """The special tokens a tokenizer trained for this task holds: what the task needs, nothing
        more (a GPT's vocabulary has no use for BERT's [MASK] or T5's sentinels).  task_options are
        those of `from_model` (T5's noise density sets how many sentinels it needs)."""
        return list(cls.special_tokens)

    @classmethod
    def config_overrides(cls, tokenizer) -> dict:
        """Model config fields to set from the tokenizer when building a fresh model (none by default)."""
        return {}

    @classmethod
    def special_token_ids(cls, tokenizer) -> dict:
        """name -> id of each special token the task needs, or a clear error naming the missing ones."""
        missing = [name for name in cls.special_tokens if name not in tokenizer.special_tokens]
        if missing:
            raise ValueError(f"the tokenizer lacks the special tokens {missing}, which {cls.__name__} needs; "
                             "train one with make_tokenizer (or without --tokenizer), which adds them all")
        return {name: tokenizer.token_to_id(name) for name in cls.special_tokens}

    def training_batch(self, ids, batch_size, rng, progress: float):
        """The batch to train on when `progress` (step / steps, 0 to 1) of training is done: the same
        kind of batch throughout, unless a task overrides this."""
        return self.batch(ids, batch_size, rng)

    def shard(self, batch, start: int, stop: int):
        """Samples [start, stop) of `batch`: every array of the tuple (or NamedTuple) sliced alike."""
        rows = [part[start:stop] for part in batch]
        return type(batch)(*rows) if hasattr(batch, "_fields") else type(batch)(rows)

    def loss_tokens(self, batch) -> int:
        """The number of positions the loss is the mean over: the targets (batch[1]) not ignored.

        A worker's shard loss is weighted by its share of these, so that the summed gradient is the
        gradient of the mean over the whole batch, even when the shards hold unequal counts.
        """
        return int(np.count_nonzero(np.asarray(batch[1]) != IGNORE_INDEX))

    scored_tokens: str = "tokens"
    fills_gaps: bool = False  # True: `pretrain` and `evaluate` also score fills of hidden words (word_fills.py)

    def evaluation_batch(self, ids, batch_size, rng):
        """The batch held-out evaluation scores: the training batch, unless the task says otherwise."""
        return self.batch(ids, batch_size, rng)

    def scored_predictions(self, model, batch):  # pragma: no cover - every task defines it
        """(logits as an (N, V) array, labels (N,)) at the N positions the objective predicts."""
        raise NotImplementedError

    # names of the groups `score_parts` sorts the scored tokens into (none: the report shows no breakdown)
    score_part_names: tuple = ()

    def score_parts(self, batch):
        """For each token `scored_predictions` scores, in its order, the index of its group in
        score_part_names (an (N,) int array); None when the task has no breakdown."""
        return None

    def recipe_notes(self, model) -> Iterator[str]:
        """Lines saying where this run departs from the paper's recipe, and how to get the paper's."""
        return iter(())

    def show_before_training(self, model, tokenizer) -> Iterator[str]:
        """Lines showing the untrained model at work (nothing, unless a task has a telling demo)."""
        return iter(())

    def show(self, model, tokenizer, samples: int) -> Iterator[str]:  # pragma: no cover - every task defines it
        """Lines showing what the model learned, for `samples` samples where that applies."""
        raise NotImplementedError

    def generate_text(self, model, tokenizer, prompt: str, max_new_tokens: int, temperature: float,
                      top_k: int | None, top_p: float | None, seed: int | None) -> str:
        """The text the model writes for `prompt`; the base class lets the model explain why it cannot."""
        return model.generate()
