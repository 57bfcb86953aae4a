"""How much did pretraining teach?  Held-out loss, and the baselines that give it a meaning.

A loss of 4.3 nats says little on its own.  Two baselines put it in context:

    uniform:  every token of the vocabulary equally likely       NLL = ln V
    unigram:  each token as likely as it is frequent in the training split (add-one smoothed)
              NLL = -mean log p(token)

The unigram model knows which tokens are common but nothing about context, so the gap between it
and the model is what the model learned *from context*: 1 nat below the unigram means the model
gives the right token e = 2.7 times the probability that frequency alone gives it.  Perplexity,
e^NLL, reads as "as unsure as a uniform choice among this many tokens".

Each objective is scored on the tokens it predicts: every next token (GPT), the masked tokens
(BERT; always with the paper's 15% masking, so runs trained with another rate compare), and the
hidden span tokens (T5; its sentinels and </s> are structure the decoder copies, not text, so
they are left out).  The task supplies them (`task.scored_predictions`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .tensor import no_grad


def unigram_counts(train_ids, vocab_size: int) -> np.ndarray:
    """How often each id occurs in the training split: all a unigram model knows."""
    return np.bincount(np.asarray(train_ids, dtype=np.int64), minlength=vocab_size)[:vocab_size]


def unigram_probabilities(counts) -> np.ndarray:
    """p(token) = (count + 1) / (total + V): add-one smoothing, so no token has probability 0."""
    counts = np.asarray(counts, dtype=np.float64)
    return (counts + 1.0) / (counts.sum() + len(counts))


def log_softmax_rows(logits: np.ndarray) -> np.ndarray:
    """log p for each row of logits, in float64 (the subtraction of the max keeps exp finite)."""
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@dataclass
class HeldOutReport:
    """A model's held-out loss beside the unigram and uniform baselines."""

    scored: str  # which tokens were scored, e.g. "masked tokens"
    tokens: int  # how many
    nll: float  # the model's mean negative log-likelihood, nats per token
    unigram_nll: float
    uniform_nll: float  # ln V
    top1: float  # how often the model's most likely token is the right one
    unigram_top1: float  # how often the most frequent training token is the right one
    most_frequent_id: int
    # the same gap for groups of the scored tokens (task.score_parts): (name, tokens, nll, unigram nll)
    parts: tuple = ()

    @property
    def perplexity(self) -> float:
        return math.exp(min(self.nll, 700.0))

    @property
    def gain_over_unigram(self) -> float:
        """Nats per token the model is better than frequency alone: what it learned from context."""
        return self.unigram_nll - self.nll

    def lines(self, tokenizer=None) -> list[str]:
        """The report as the `pretrain` and `evaluate` commands print it."""
        guess = repr(tokenizer.decode([self.most_frequent_id])) if tokenizer is not None else f"id {self.most_frequent_id}"
        return [
            f"held-out {self.scored} ({self.tokens:,} scored):",
            f"  model             {self.nll:6.3f} nats/token   perplexity {self.perplexity:8.1f}   "
            f"top-1 {self.top1:6.1%}",
            f"  unigram baseline  {self.unigram_nll:6.3f} nats/token   perplexity {math.exp(self.unigram_nll):8.1f}   "
            f"top-1 {self.unigram_top1:6.1%} (always {guess})",
            f"  uniform (ln V)    {self.uniform_nll:6.3f} nats/token   perplexity {math.exp(self.uniform_nll):8.1f}",
            f"  -> {self.verdict()}",
            *(f"     {name}: {_gap(unigram - nll)} ({tokens:,} tokens)" for name, tokens, nll, unigram in self.parts),
        ]

    def verdict(self) -> str:
        gain = self.gain_over_unigram
        if gain >= 0.1:
            return (f"{gain:.2f} nats below the unigram: the model uses context "
                    f"(it gives the right token {math.exp(gain):.1f}x the unigram's probability)")
        where = f"only {gain:.2f} nats below" if gain >= 0 else f"{-gain:.2f} nats worse than"
        return (f"{where} the unigram: so far the model knows little more than how frequent each token "
                "is; train longer (--steps) or check the learning rate")


@no_grad()
def held_out_report(model, task, ids, counts, batches: int = 32, batch_size: int = 16,
                    seed: int = 1234) -> HeldOutReport:
    """Score `model` on `batches` fixed batches cut from `ids` (held-out text) and compare with the
    unigram model of `counts` (from the training split) and the uniform one.  The same seed gives
    the same batches, so two checkpoints are compared on the same tokens."""
    probabilities = unigram_probabilities(counts)
    most_frequent = int(np.argmax(probabilities))
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    nll = unigram_nll = 0.0
    hits = unigram_hits = tokens = 0
    part_names = getattr(task, "score_part_names", ())  # a task without a breakdown need not say so
    n_parts = len(part_names)
    part_tokens, part_nll, part_unigram = np.zeros(n_parts), np.zeros(n_parts), np.zeros(n_parts)
    try:
        for _ in range(batches):
            batch = task.evaluation_batch(ids, batch_size, rng)
            logits, labels = task.scored_predictions(model, batch)
            log_p = log_softmax_rows(logits)
            token_nll = -log_p[np.arange(len(labels)), labels]
            token_unigram_nll = -np.log(probabilities[labels])
            nll += token_nll.sum()
            unigram_nll += token_unigram_nll.sum()
            hits += int((log_p.argmax(axis=1) == labels).sum())
            unigram_hits += int((labels == most_frequent).sum())
            tokens += len(labels)
            if n_parts:  # the same sums, per group of tokens
                part = task.score_parts(batch)
                part_tokens += np.bincount(part, minlength=n_parts)
                part_nll += np.bincount(part, token_nll, minlength=n_parts)
                part_unigram += np.bincount(part, token_unigram_nll, minlength=n_parts)
    finally:
        model.train(was_training)
    if tokens == 0:
        raise ValueError("held-out text gave no tokens to score; give a longer text")
    parts = tuple((name, int(n), part_nll[i] / n, part_unigram[i] / n)
                  for i, (name, n) in enumerate(zip(part_names, part_tokens)) if n)
    return HeldOutReport(task.scored_tokens, tokens, nll / tokens, unigram_nll / tokens, math.log(len(counts)),
                         hits / tokens, unigram_hits / tokens, most_frequent, parts)


def _gap(gain: float) -> str:
    """'1.23 nats below the unigram', or 'worse than' when the model is behind it."""
    return f"{gain:.2f} nats below the unigram" if gain >= 0 else f"{-gain:.2f} nats worse than the unigram"
