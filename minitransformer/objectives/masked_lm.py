"""Masked language modelling (BERT): hide about 15% of the tokens and predict them from both sides.

An encoder is bidirectional: every position sees every other one, so "predict the next token"
would be trivial, because the answer is in the input.  Instead about 15% of the tokens are taken
out of the input (mostly replaced by [MASK]) and the model predicts them from the context on
both sides.  `mask_tokens` below explains the choice, including the 80/10/10 rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checks import check_positive_int
from ..models import BERT
from ..models.bert import PAPER_DEPARTURES, departures_from_paper
from ..models.demos import guess_masks_bert
from ..tokenizers.special_tokens import BERT_SPECIAL_TOKENS
from .causal_lm import causal_lm_batch
from .ids import IGNORE_INDEX, as_ids, check_rng
from .task import PretrainingTask

# BERT's treatment of each position chosen for prediction:
BERT_MASK_PROB = 0.15   # the paper's share of tokens chosen for prediction
PRETRAINING_MASK_PROB = 0.4  # what MaskedLM trains with here: 2.7x the predictions per step (see MaskedLM)
MASK_FRACTION = 0.8     # replaced by [MASK]
RANDOM_FRACTION = 0.1   # replaced by a random token; the remaining 10% stay unchanged


def mask_tokens(
    ids,
    vocab_size: int,
    mask_id: int,
    special_ids,
    rng: np.random.Generator,
    mask_prob: float = BERT_MASK_PROB,
    max_predictions: int | None = None,
    ignore_index: int = IGNORE_INDEX,
    whole_word_starts=None,
) -> tuple[np.ndarray, np.ndarray]:
    """BERT's masked-LM corruption, applied to each row of a (B, T) batch. Returns (corrupted_ids, labels).

    Why hide tokens: a bidirectional encoder sees its whole input, so whatever it
    must predict has to be taken out of that input first.

    How many: the candidates of a row are its tokens that are not special
    (`special_ids`, e.g. [CLS], [SEP], [PAD]; `mask_id` always counts as special).
    With n candidates, ``k = min(max_predictions, max(1, round(mask_prob * n)))``
    positions are chosen uniformly without replacement (k = 0 if n = 0).
    Python's round() rounds halves to even (round(2.5) == 2), the same as
    BERT's int(round(...)) under Python 3. Unlike BERT, n counts only the
    candidates, not [CLS]/[SEP], so padding a row does not change its k.

    What happens to a chosen position, decided independently per position:
    80% become `mask_id`, 10% a random token, 10% stay unchanged. Why not
    always [MASK]? [MASK] never occurs when the model is fine-tuned, and if
    only [MASK] positions were ever predicted, the model would learn nothing
    useful about the representation of ordinary tokens. Since any visible token
    might be a replaced one, it must model every token. Random tokens are drawn
    uniformly from the non-special ids (BERT draws from the whole vocabulary,
    which can put a [CLS] or [PAD] mid-sentence).

    labels hold the original id at every chosen position (the unchanged 10%
    too, which the model must still predict) and `ignore_index` elsewhere.

    Whole-word masking: pass `whole_word_starts`, a bool array of the same shape
    that is True where a token starts a word and False for continuation pieces
    (WordPiece's "##ing"). Words are then chosen instead of tokens and all their
    pieces are masked, since "##ing" after "runn" is too easy to guess. As in
    BERT, words are visited in random order and a word is skipped if it would
    take the count past k, so at most k tokens are chosen and no word is split.
    The 80/10/10 choice is still made per token. A continuation piece that does
    not directly follow a candidate token (e.g. one right after [CLS]) starts
    a word of its own.

    A 1-D `ids` is treated as a single row, and 1-D arrays are returned.
    """
    batch = as_ids(ids, "ids", allowed_ndims=(1, 2))
    is_single_row = batch.ndim == 1
    batch = np.atleast_2d(batch)
    check_rng(rng)
    check_positive_int(vocab_size, "vocab_size")
    if not 0 <= mask_id < vocab_size:
        raise ValueError(f"mask_id={mask_id} is outside the vocabulary [0, {vocab_size})")
    special = np.union1d(as_ids(list(special_ids), "special_ids", allowed_ndims=(1,)), [mask_id])
    for name, values in (("ids", batch), ("special_ids", special)):
        out_of_range = values[(values < 0) | (values >= vocab_size)]
        if out_of_range.size:
            raise ValueError(f"{name} contains {out_of_range[0]}, outside the vocabulary [0, {vocab_size})")
    if not 0.0 < mask_prob <= 1.0:
        raise ValueError(f"mask_prob must be in (0, 1], got {mask_prob!r}; BERT uses 0.15")
    if max_predictions is not None:
        check_positive_int(max_predictions, "max_predictions")
    if 0 <= ignore_index < vocab_size:
        raise ValueError(f"ignore_index={ignore_index} is a real token id in [0, {vocab_size}); use a value "
                         f"outside the vocabulary such as -100")
    replacement_ids = np.setdiff1d(np.arange(vocab_size), special)
    if replacement_ids.size == 0:
        raise ValueError("every id in the vocabulary is special, so there is no token to draw random replacements from")
    word_starts = None
    if whole_word_starts is not None:
        word_starts = np.atleast_2d(np.asarray(whole_word_starts))
        if word_starts.dtype != np.bool_ or word_starts.shape != batch.shape:
            raise ValueError(f"whole_word_starts must be a bool array shaped like ids {batch.shape}, "
                             f"got {word_starts.dtype} {word_starts.shape}")

    corrupted = batch.copy()
    labels = np.full_like(batch, ignore_index)
    for row, row_ids in enumerate(batch):
        is_candidate = ~np.isin(row_ids, special)
        words = _candidate_words(is_candidate, None if word_starts is None else word_starts[row])
        num_candidates = int(is_candidate.sum())
        num_to_predict = min(max(1, round(mask_prob * num_candidates)), num_candidates)
        if max_predictions is not None:
            num_to_predict = min(num_to_predict, max_predictions)
        chosen = _choose_whole_words(words, num_to_predict, rng)
        labels[row, chosen] = row_ids[chosen]
        corrupted[row, chosen] = _replace_chosen_tokens(row_ids[chosen], mask_id, replacement_ids, rng)
    if is_single_row:
        return corrupted[0], labels[0]
    return corrupted, labels


def _candidate_words(is_candidate: np.ndarray, word_starts: np.ndarray | None) -> list[list[int]]:
    """Group candidate positions into words; without word boundaries every token is a one-piece word."""
    words: list[list[int]] = []
    for position in np.flatnonzero(is_candidate).tolist():
        continues_previous_word = (
            word_starts is not None and not word_starts[position] and words and words[-1][-1] == position - 1
        )
        if continues_previous_word:
            words[-1].append(position)
        else:
            words.append([position])
    return words


def _choose_whole_words(words: list[list[int]], num_to_predict: int, rng: np.random.Generator) -> np.ndarray:
    """Visit words in random order, taking each one that still fits in `num_to_predict` tokens."""
    chosen: list[int] = []
    for word_index in rng.permutation(len(words)):
        if len(chosen) == num_to_predict:
            break
        word = words[word_index]
        if len(chosen) + len(word) <= num_to_predict:
            chosen.extend(word)
    return np.array(sorted(chosen), dtype=np.int64)


def _replace_chosen_tokens(original: np.ndarray, mask_id: int, replacement_ids: np.ndarray,
                           rng: np.random.Generator) -> np.ndarray:
    """The 80/10/10 rule: one uniform draw u per position; u < 0.8 -> [MASK], u < 0.9 -> random, else keep."""
    u = rng.random(len(original))
    random_tokens = rng.choice(replacement_ids, size=len(original))
    return np.where(u < MASK_FRACTION, mask_id,
                    np.where(u < MASK_FRACTION + RANDOM_FRACTION, random_tokens, original))


@dataclass
class MaskedLM(PretrainingTask):
    """BERT: [CLS] window [SEP], tokens chosen (80% [MASK], 10% random, 10% kept), predict them.

    The paper chooses 15% of the tokens; training here chooses 40% by default (`mask_prob`), as
    Wettig et al. (2022) found better: 2.7x the predictions per step, which a laptop budget needs
    (the measurements are in models/bert.py).  Held-out scores always use 15% (evaluation_batch).
    """

    context: int
    vocab_size: int
    cls_id: int
    sep_id: int
    mask_id: int
    special_ids: list = field(default_factory=list)
    mask_prob: float = PRETRAINING_MASK_PROB

    model_class = BERT
    special_tokens = ("[CLS]", "[SEP]", "[MASK]")

    @classmethod
    def tokenizer_special_tokens(cls, context_length: int, **task_options) -> list:
        return list(BERT_SPECIAL_TOKENS)  # [PAD] [UNK] [CLS] [SEP] [MASK]
    default_lr = 3e-3  # measured better than 1e-3 for the paper's post-norm BERT too (see models/bert.py)
    # a masked LM learns only from the tokens it hides (40% here, against every token for GPT), and
    # held-out masked NLL kept falling steeply after GPT's 1500 steps: with absolute positions 0.93
    # nats below the unigram at 1500, 1.55 at 2500 (the default run on the built-in corpus); with the
    # tiny preset's relative positions, 3.15 / 3.16 / 3.11 at 2500 on seeds 0 / 1 / 2, in 1.5 minutes
    default_steps = 2500
    # Each [MASK] hides one token, and with 512 tokens most words are several, so the demo hides two
    # that are whole words here, in the corpus's own phrasing; after the default run the first
    # guesses are ' statement' and ' exception' on seeds 0, 1 and 2 (probabilities 0.40-0.89).
    demo_text = 'The "for" [MASK] is used to iterate over a list; if it fails, an [MASK] is raised.'

    @classmethod
    def from_model(cls, model, tokenizer, mask_prob: float = PRETRAINING_MASK_PROB) -> "MaskedLM":
        if not 0.0 < mask_prob <= 1.0:
            raise ValueError(f"mask_prob must be in (0, 1], got {mask_prob!r}; BERT uses 0.15, this recipe 0.4")
        ids = cls.special_token_ids(tokenizer)
        every_special = sorted(tokenizer.token_to_id(name) for name in tokenizer.special_tokens)
        return cls(context=model.config.context_length, vocab_size=model.config.vocab_size, cls_id=ids["[CLS]"],
                   sep_id=ids["[SEP]"], mask_id=ids["[MASK]"], special_ids=every_special, mask_prob=mask_prob)

    def batch(self, ids, batch_size, rng):
        return self._masked_batch(ids, batch_size, rng, self.mask_prob)

    def _masked_batch(self, ids, batch_size, rng, mask_prob):
        """[CLS] window [SEP] rows, then `mask_tokens` at the given rate."""
        windows, _ = causal_lm_batch(ids, batch_size, self.context - 2, rng)
        column = np.full((batch_size, 1), 0, dtype=windows.dtype)
        framed = np.concatenate([column + self.cls_id, windows, column + self.sep_id], axis=1)
        return mask_tokens(framed, self.vocab_size, self.mask_id, self.special_ids, rng, mask_prob=mask_prob)

    def loss(self, model, batch):
        inputs, labels = batch
        return model.mlm(inputs, labels)[1]

    scored_tokens = "masked tokens"

    def recipe_notes(self, model):
        departures = [PAPER_DEPARTURES[name] for name in departures_from_paper(model.config)]
        if departures:
            yield (f"BERT recipe: {', '.join(departures)} (the paper's architecture: --preset tiny-paper; "
                   "why: models/bert.py)")
        if self.mask_prob != BERT_MASK_PROB:
            yield (f"masking: {self.mask_prob:.0%} of tokens chosen per window, then 80/10/10 (the paper's "
                   f"{BERT_MASK_PROB:.0%}: --mask-prob {BERT_MASK_PROB}); held-out scores always use {BERT_MASK_PROB:.0%}")

    def evaluation_batch(self, ids, batch_size, rng):
        """Scored with the paper's 15% masking, whatever rate training uses, so runs compare."""
        return self._masked_batch(ids, batch_size, rng, BERT_MASK_PROB)

    def scored_predictions(self, model, batch):
        inputs, labels = batch
        logits = model.mlm(inputs)[0].data
        chosen = labels != IGNORE_INDEX
        return logits[chosen], labels[chosen]

    def show(self, model, tokenizer, samples):
        yield f"\nBERT's guesses for each [MASK] in: {self.demo_text}"
        for n, guesses in enumerate(guess_masks_bert(model, tokenizer, self.demo_text), 1):
            yield f"  mask {n}: " + ", ".join(f"{token!r} {p:.2f}" for token, p in guesses)
