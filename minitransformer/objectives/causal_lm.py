"""Causal language modelling (GPT): predict every token from the tokens before it.

Targets are the inputs shifted left by one, ``target[t] = input[t + 1]``, and a causal attention
mask stops position t from looking ahead, so one sequence of T tokens gives T predictions at once.
The same model then generates text left to right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import check_positive_int
from ..models import GPT
from ..models.demos import sample_gpt
from ..tokenizers.special_tokens import EOT_TOKEN, PAD_TOKEN, SEP_TOKEN
from .ids import IGNORE_INDEX, as_ids, check_rng
from .task import PretrainingTask, indent


def causal_lm_batch(ids, batch_size: int, context: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sample `batch_size` random windows of `context` tokens from one long token stream.

    Returns (inputs, targets), int64 arrays of shape (batch_size, context) with
    ``targets[b, t] == inputs[b, t + 1]`` in the stream: position t learns the
    token that follows it. A window needs context + 1 tokens (the inputs plus
    one more target). Starts are uniform over all valid offsets, so over many
    batches every token appears at every position.
    """
    stream = as_ids(ids, "ids", allowed_ndims=(1,))
    check_positive_int(batch_size, "batch_size")
    check_positive_int(context, "context")
    check_rng(rng)
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
    ids = as_ids(ids, "ids", allowed_ndims=(1, 2))
    if np.any(ids == ignore_index):
        raise ValueError(f"ignore_index={ignore_index} occurs in ids, so ignored and real targets could not be "
                         f"told apart; choose an ignore_index outside the vocabulary (e.g. -100)")
    targets = np.full_like(ids, ignore_index)
    targets[..., :-1] = ids[..., 1:]
    if pad_id is not None:
        targets[targets == pad_id] = ignore_index
    return targets


@dataclass
class CausalLM(PretrainingTask):
    """GPT: every position predicts the next token (inputs and targets shifted by one)."""

    context: int

    model_class = GPT
    demo_text = "The "

    @classmethod
    def tokenizer_special_tokens(cls, context_length: int, **task_options) -> list:
        """<|endoftext|> between documents; [PAD] and [SEP] for fine-tuning (finetune.py frames a
        pair as `a [SEP] b <|endoftext|>`, as GPT-1 did, and pads batches with [PAD])."""
        return [PAD_TOKEN, SEP_TOKEN, EOT_TOKEN]

    @classmethod
    def from_model(cls, model, tokenizer) -> "CausalLM":
        return cls(context=model.config.context_length)

    def batch(self, ids, batch_size, rng):
        return causal_lm_batch(ids, batch_size, self.context, rng)

    def loss(self, model, batch):
        inputs, targets = batch
        return model(inputs, targets)[1]

    scored_tokens = "next tokens"

    def scored_predictions(self, model, batch):
        inputs, targets = batch
        logits = model(inputs)[0].data
        return logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)

    def show_before_training(self, model, tokenizer):
        """An untrained GPT writes noise: the baseline the samples after training improve on."""
        yield "\nbefore training, the model writes noise:"
        yield indent(sample_gpt(model, tokenizer, self.demo_text, 60, seed=0))
        yield ""

    def show(self, model, tokenizer, samples):
        yield f"\nafter training, samples from the prompt {self.demo_text!r}:"
        for i in range(samples):
            yield f"--- sample {i + 1} ---"
            yield indent(sample_gpt(model, tokenizer, self.demo_text, 200, seed=i))

    def generate_text(self, model, tokenizer, prompt, max_new_tokens, temperature, top_k, top_p, seed):
        return sample_gpt(model, tokenizer, prompt, max_new_tokens, temperature, top_k, top_p, seed)
