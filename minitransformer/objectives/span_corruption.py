"""Span corruption (T5): hide contiguous spans behind sentinels; the decoder writes what was hidden.

Each span of the input is replaced by one sentinel token (<extra_id_0>, <extra_id_1>, ...), and
the decoder writes out only the hidden spans, each introduced by its sentinel.  The target holds
just the ~15% corrupted tokens plus one sentinel per span, not the whole sentence, so it is much
shorter than the input, and the decoder, which runs once per target token, is cheap to train.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..checks import is_integer
from ..models import T5
from ..models.demos import fill_spans_t5
from ..tokenizers import t5_sentinel_tokens
from .causal_lm import causal_lm_batch
from .ids import IGNORE_INDEX, as_ids, check_rng, pad_batch
from .task import PretrainingTask, indent

NUM_SENTINELS = 100  # T5's vocabulary has 100 sentinels; a tokenizer here gets as many as its context needs
T5_NOISE_DENSITY = 0.15  # the paper's share of hidden tokens (mean span length 3)
PRETRAINING_NOISE_DENSITY = 0.3  # what SpanCorruption trains with here: 2x the predictions per step


def noise_span_counts(length: int, noise_density: float = 0.15,
                      mean_noise_span_length: float = 3.0) -> tuple[int, int]:
    """How many tokens T5 corrupts in a sequence of `length`, and in how many spans.

    ``num_noise_tokens = round(length * noise_density)`` clamped to [1, length - 1]
    (something is always hidden and something always stays), and
    ``num_noise_spans = max(1, round(num_noise_tokens / mean_noise_span_length))``.
    Both use round-half-to-even, like T5's tf.round. One deviation: the spans
    are also capped at the number of non-noise tokens, because every noise span
    needs a non-noise token before it; T5 would build an invalid mask there
    (this only matters for noise_density above about 0.5).
    """
    if not is_integer(length):
        raise TypeError(f"length must be an integer, got {length!r}")
    if length < 2:
        raise ValueError(f"span corruption needs at least 2 tokens (one hidden, one kept), got length={length}")
    if not 0.0 < noise_density < 1.0:
        raise ValueError(f"noise_density must be in (0, 1), got {noise_density!r}; T5 uses 0.15")
    if not mean_noise_span_length >= 1.0:
        raise ValueError(f"mean_noise_span_length must be at least 1, got {mean_noise_span_length!r}; T5 uses 3.0")
    num_noise_tokens = min(max(round(length * noise_density), 1), length - 1)
    num_noise_spans = max(round(num_noise_tokens / mean_noise_span_length), 1)
    num_noise_spans = min(num_noise_spans, length - num_noise_tokens)
    return num_noise_tokens, num_noise_spans


def span_corruption_lengths(length: int, noise_density: float = 0.15,
                            mean_noise_span_length: float = 3.0) -> tuple[int, int]:
    """(input length, target length) after span corruption of `length` tokens, EOS included.

    input  = kept tokens + one sentinel per span + EOS = length - noise + spans + 1
    target = one sentinel per span + hidden tokens + EOS = noise + spans + 1
    With the defaults the target is about a quarter of the input's length.
    """
    num_noise_tokens, num_noise_spans = noise_span_counts(length, noise_density, mean_noise_span_length)
    return length - num_noise_tokens + num_noise_spans + 1, num_noise_tokens + num_noise_spans + 1


def random_spans_noise_mask(length: int, rng: np.random.Generator, noise_density: float = 0.15,
                            mean_noise_span_length: float = 3.0) -> np.ndarray:
    """A bool mask of `length` marking the tokens to corrupt, laid out as T5's random_spans_noise_mask.

    The counts come from `noise_span_counts`. The noise tokens are split at
    random into `num_noise_spans` non-empty spans, the kept tokens likewise
    into as many runs, and the two are interleaved starting with a kept run:
    kept, noise, kept, noise, ... So the first token is never corrupted and the
    last one always is (as in T5, where EOS is appended only afterwards); when
    there is a single span, it is always the last `num_noise_tokens` tokens.
    """
    check_rng(rng)
    num_noise_tokens, num_noise_spans = noise_span_counts(length, noise_density, mean_noise_span_length)
    noise_run_lengths = _random_segmentation(num_noise_tokens, num_noise_spans, rng)
    kept_run_lengths = _random_segmentation(length - num_noise_tokens, num_noise_spans, rng)
    run_lengths = np.stack([kept_run_lengths, noise_run_lengths], axis=1).reshape(-1)
    run_is_noise = np.tile([False, True], num_noise_spans)
    return np.repeat(run_is_noise, run_lengths)


def _random_segmentation(num_items: int, num_segments: int, rng: np.random.Generator) -> np.ndarray:
    """Lengths of a random split of `num_items` in a row into `num_segments` non-empty parts.

    Cutting at `num_segments - 1` distinct places among the `num_items - 1`
    gaps between items gives every possible split exactly once, so all splits
    are equally likely.
    """
    cuts = np.sort(rng.choice(num_items - 1, size=num_segments - 1, replace=False)) + 1
    return np.diff(np.concatenate([[0], cuts, [num_items]]))


def _check_sentinels_and_eos(sentinel_ids, eos_id: int) -> np.ndarray:
    sentinels = as_ids(sentinel_ids, "sentinel_ids", allowed_ndims=(1,))
    if len(np.unique(sentinels)) != len(sentinels):
        raise ValueError(f"sentinel_ids must be distinct, got {sentinels.tolist()}")
    if eos_id in sentinels:
        raise ValueError(f"eos_id={eos_id} is also a sentinel id; they must differ")
    return sentinels


def corrupt_spans(ids, noise_mask, sentinel_ids, eos_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Apply a given noise mask the T5 way. Returns (input_ids, target_ids).

    Each maximal run of noise tokens is replaced in the input by one sentinel,
    the i-th run by ``sentinel_ids[i]``. The target lists every sentinel
    followed by the tokens it hid. Both end with `eos_id`. Example (paper, Fig. 2)::

        ids:    Thank you [for inviting] me to your party [last] week .
        input:  Thank you <X> me to your party <Y> week . </s>
        target: <X> for inviting <Y> last </s>

    (The paper's figure also ends the target with a third sentinel, which T5's
    code only adds when the text ends with kept tokens; `random_spans_noise_mask`
    always ends with noise, so we never add it.) The text must not contain
    sentinels or EOS, otherwise the result could not be decoded unambiguously.
    """
    ids = as_ids(ids, "ids", allowed_ndims=(1,))
    noise_mask = np.asarray(noise_mask)
    if noise_mask.dtype != np.bool_ or noise_mask.shape != ids.shape:
        raise ValueError(f"noise_mask must be a bool array shaped like ids {ids.shape}, "
                         f"got {noise_mask.dtype} {noise_mask.shape}")
    sentinels = _check_sentinels_and_eos(sentinel_ids, eos_id)
    reserved = np.isin(ids, np.append(sentinels, eos_id))
    if reserved.any():
        position = int(np.flatnonzero(reserved)[0])
        raise ValueError(f"ids[{position}] = {ids[position]} is a sentinel or EOS id; the text must not contain them")
    starts_span = noise_mask & ~np.concatenate([[False], noise_mask[:-1]])
    num_spans = int(starts_span.sum())
    if num_spans > len(sentinels):
        raise ValueError(f"{num_spans} noise spans but only {len(sentinels)} sentinel ids; pass more sentinels "
                         f"(T5 has 100) or use shorter sequences, a lower noise_density or longer spans")

    input_ids, target_ids = [], []
    next_sentinel = 0
    for position, token in enumerate(ids.tolist()):
        if not noise_mask[position]:
            input_ids.append(token)
            continue
        if starts_span[position]:
            sentinel = int(sentinels[next_sentinel])
            next_sentinel += 1
            input_ids.append(sentinel)
            target_ids.append(sentinel)
        target_ids.append(token)
    input_ids.append(eos_id)
    target_ids.append(eos_id)
    return np.array(input_ids, dtype=np.int64), np.array(target_ids, dtype=np.int64)


def span_corruption(ids, sentinel_ids, eos_id: int, rng: np.random.Generator, noise_density: float = 0.15,
                    mean_noise_span_length: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """T5's pretraining example from one sequence: a random noise mask, then `corrupt_spans`.

    Returns (input_ids, target_ids); their lengths are `span_corruption_lengths(len(ids), ...)`.
    """
    ids = as_ids(ids, "ids", allowed_ndims=(1,))
    noise_mask = random_spans_noise_mask(len(ids), rng, noise_density, mean_noise_span_length)
    return corrupt_spans(ids, noise_mask, sentinel_ids, eos_id)


def reconstruct_from_span_corruption(input_ids, target_ids, sentinel_ids, eos_id: int) -> np.ndarray:
    """Undo span corruption: put each hidden span back where its sentinel stands in the input.

    This is exactly what a perfect T5 decoder output allows; it also checks that
    input and target together still hold all of the original text.
    """
    inputs = as_ids(input_ids, "input_ids", allowed_ndims=(1,))
    targets = as_ids(target_ids, "target_ids", allowed_ndims=(1,))
    sentinel_set = set(_check_sentinels_and_eos(sentinel_ids, eos_id).tolist())
    for name, sequence in (("input_ids", inputs), ("target_ids", targets)):
        if len(sequence) == 0 or sequence[-1] != eos_id or np.any(sequence[:-1] == eos_id):
            raise ValueError(f"{name} must end with eos_id={eos_id} and contain it nowhere else, "
                             f"got {sequence.tolist()}")

    hidden_spans: dict[int, list[int]] = {}
    current_sentinel = None
    for token in targets[:-1].tolist():
        if token in sentinel_set:
            if token in hidden_spans:
                raise ValueError(f"sentinel {token} appears twice in target_ids")
            hidden_spans[token], current_sentinel = [], token
        elif current_sentinel is None:
            raise ValueError(f"target_ids must start with a sentinel, but starts with {token}")
        else:
            hidden_spans[current_sentinel].append(token)

    original: list[int] = []
    for token in inputs[:-1].tolist():
        if token not in sentinel_set:
            original.append(token)
        elif token in hidden_spans:
            original.extend(hidden_spans.pop(token))
        else:
            raise ValueError(f"sentinel {token} in input_ids has no span in target_ids (or is used twice)")
    if hidden_spans:
        raise ValueError(f"target_ids has spans for sentinels {sorted(hidden_spans)} that input_ids never uses")
    return np.array(original, dtype=np.int64)


class SpanCorruptionBatch(NamedTuple):
    """Padded T5 batch: ids of shape (B, T_in) / (B, T_out) and bool masks, True at real tokens."""

    input_ids: np.ndarray
    input_mask: np.ndarray
    target_ids: np.ndarray
    target_mask: np.ndarray


def span_corruption_batch(sequences, sentinel_ids, eos_id: int, pad_id: int, rng: np.random.Generator,
                          noise_density: float = 0.15, mean_noise_span_length: float = 3.0) -> SpanCorruptionBatch:
    """Span-corrupt each sequence independently (its own noise mask) and pad inputs and targets."""
    if pad_id in np.asarray(sentinel_ids):
        raise ValueError(f"pad_id={pad_id} is also a sentinel id; they must differ")
    examples = [span_corruption(sequence, sentinel_ids, eos_id, rng, noise_density, mean_noise_span_length)
                for sequence in sequences]
    if not examples:
        raise ValueError("sequences is empty; a batch needs at least one sequence")
    input_ids, input_mask = pad_batch([inputs for inputs, _ in examples], pad_id)
    target_ids, target_mask = pad_batch([targets for _, targets in examples], pad_id)
    return SpanCorruptionBatch(input_ids, input_mask, target_ids, target_mask)


@dataclass
class SpanCorruption(PretrainingTask):
    """T5: hide part of a window in spans of mean length 3; the decoder writes the hidden spans.

    The paper hides 15%.  Training here hides 30% by default (`noise_density`): twice the decoder
    predictions per step.  Measured on the tiny T5 (2+2 layers, 96 wide, context 128), hidden-span-
    token NLL against the unigram, always scored at 15% noise: 300 steps, 0.16 nats worse than the
    unigram at 15% noise, 0.38 better at 30%; the `pretrain` defaults (1500 steps): 1.00 better.

    What held T5 back, and what helped (models/t5.py, "How T5 starts").  Held-out hidden-span NLL
    below the unigram after the `pretrain --model t5` defaults with 1500 steps, by seed, and the part
    of it on the first token of each span (read from the encoder alone; `evaluate` prints both):

        tiny T5 variant                                 below unigram        first token of a span
        absolute positions, GPT-2 init (until now)      1.01 / 0.95          0.24 / 0.24
        absolute, --lr 1e-3                             0.97 / 0.90          0.25 / 0.25
        absolute, --context 64 (2x the steps/second)    0.70 (seed 0)        0.24
        absolute, cross-attention W_q = W_k = I         0.98 (seed 0)        0.22
        relative positions (T5's), GPT-2 init           0.82 / 1.03          0.23 / 0.24
        relative, W_q = W_k = I                         0.80 (seed 0)        0.23
        relative, encoder bias started local (ALiBi)    0.95 (seed 0)        0.24
        relative, local bias and W_q = W_k = I          1.07 / 1.00 / 0.98   0.87 / 0.28 / 0.31
          (init="reading")
        the same with W_q = W_k = 2 I                   1.02 / 0.82          0.66 / 0.27

    Seeds 0 / 1 / 2.  Only "reading" ever got past the first-token plateau, in one seed of three
    within 1500 steps: a decoder head of seed 0 puts 0.98 of its weight on the matching sentinel;
    seed 1's best head had got to 0.25, and GPT-2's start leaves every head under 0.01 (uniform:
    1/128).  With 2500 steps (the default for a while) "reading" gave 1.43 / 1.59 / 1.15, the first
    token of a span 1.48 / 1.33 / 0.40: past the plateau in seeds 0 and 1, on the way in seed 2.
    Then (the last row is the tiny preset and the default now):

        "reading", 2000 steps                           1.20 / 1.40 / 1.03   1.08 / 0.94 / 0.44
        the same with the decoder's bias started local  1.16 / 1.19 / 1.16   0.26 / 0.26 / 0.27
        "reading", --lr 5e-3, 1500 steps                0.86 (seed 1)        0.24
        "reading" + value path 4x (value_scale), 1500   1.16 / 1.15 / 1.11   1.27 / 1.21 / 1.05
          the same without W_q = W_k = I                0.82 (seed 1)        0.32
          the same with the value path 8x, 2000 steps   1.04 (seed 0)        1.30
        "reading" + value path 4x, 2000 steps           1.31 / 1.26 / 1.30   1.50 / 1.36 / 1.31
          the same, --steps 2500 (174-194 s)            1.56 / 1.46 / 1.47   1.80 / 1.51 / 1.54
          the same, --context 64 and 4000 steps         1.47 (seed 0)        1.50
          3 encoder + 3 decoder layers, 1500 steps      0.89 (seed 0)        0.39
          3 + 3 layers, --context 64, 3000 steps        1.27 (seed 0)        0.97
          3 encoder + 1 decoder layer, ctx 64, 4000     1.35 (seed 0)        0.97
          4 encoder + 1 decoder layer, ctx 64, 4000     1.34 (seed 0)        1.00
        + neighbour heads (neighbour_heads), 2000       1.46 / 1.39 / 1.30   1.67 / 1.60 / 1.51
          the same, --context 64 and 4000 steps         1.57 (seed 0)        1.54
          the same, --noise-density 0.4 (300 s)         1.31 / - / 1.48      1.21 / - / 1.67

    The local decoder start (what made BERT learn, models/bert.py) writes the later tokens of a span
    better (1.60-1.65 below the unigram against 1.33-1.63) but never reads the encoder: it turns the
    decoder into a language model of span text.  So the decoder's bias starts at zero.  What did
    make every seed read is the value path started 4x larger (models/t5.py, start_reading): with
    it, decoder heads put 0.996 and 0.998 of their weight on the matching sentinel (seed 1), and
    the first token of a span, the encoder's part, is now as far below the unigram as the rest.
    Deeper encoders read worse: the first token stays near 1.0 (a deeper stack mixes more into the
    sentinel, so the like-with-like match is weaker).  What helped last is two one-sided heads in the
    encoder, one on the token to the left and one on the token to the right (models/t5.py): the
    decoder had read only the left side of each gap.  Those rows ran as one process (--workers 1);
    the tiny preset with all four changes, as `pretrain --model t5` runs it on 2 workers (seed 0):
    1.45 below the unigram, the first token of a span 1.62, in 161 s.
    """

    context: int
    sentinel_ids: list
    eos_id: int
    pad_id: int
    noise_density: float = PRETRAINING_NOISE_DENSITY

    model_class = T5
    special_tokens = ("[PAD]", "</s>")  # and the sentinels the context needs (sentinels_needed)
    demo_text = 'The "for" <extra_id_0> is used to iterate over a list; if it fails, an <extra_id_1> is raised.'
    # (BERT's demo sentence, its two [MASK]s as sentinels, so the two models answer the same gaps)
    # like a masked LM, span corruption learns only from what it hides (30% of the tokens here), and
    # its decoder must first find where to read (the plateau in the table above): with the "reading"
    # start, 1500 steps gave 1.07 / 1.00 / 0.98 nats below the unigram on seeds 0 / 1 / 2, 2500 gave
    # 1.43 / 1.59 / 1.15 in 211 s.  With the value path started 4x larger as well, 2000 steps give
    # 1.31 / 1.26 / 1.30 (the first token of a span 1.50 / 1.36 / 1.31) in 142-152 s on 2 cores
    # (`pretrain --model t5 --seed S`, 2 workers); 2500 steps give 1.56 / 1.46 / 1.47 but take
    # 174-194 s, past the 3 minutes this default keeps to
    default_steps = 2000

    @staticmethod
    def window_for(context: int, noise_density: float = PRETRAINING_NOISE_DENSITY) -> int:
        """The longest window of text whose corrupted input and target both fit `context` tokens.

        Corruption shortens the input (each span of ~3 tokens becomes one sentinel), so the window
        is longer than the context (1.1x at 15% noise, 1.25x at 30%); above about 70% noise the
        target, which holds the hidden text, is the longer one and sets the window instead.  Search
        up from the context, then back down to the last fit.
        """
        def fits(length):
            return max(span_corruption_lengths(length, noise_density)) <= context

        length = context
        while fits(length + 1):
            length += 1
        while length > 2 and not fits(length):
            length -= 1
        return length

    @classmethod
    def spans_per_window(cls, context: int, noise_density: float = PRETRAINING_NOISE_DENSITY) -> int:
        return noise_span_counts(cls.window_for(context, noise_density), noise_density)[1]

    @classmethod
    def spans_needed(cls, context: int, noise_density: float = PRETRAINING_NOISE_DENSITY) -> int:
        """The most noise spans a window has, at the paper's density (scoring) or the training one."""
        return max(cls.spans_per_window(context, density) for density in (T5_NOISE_DENSITY, noise_density))

    @classmethod
    def sentinels_needed(cls, context: int, noise_density: float = PRETRAINING_NOISE_DENSITY) -> int:
        """One sentinel per noise span of a window (spans_needed): 16 for a context of 128 at this
        recipe's 30%, 64 for T5's 512 (at most T5's 100; `from_model` refuses a density that needs more)."""
        return min(NUM_SENTINELS, cls.spans_needed(context, noise_density))

    @classmethod
    def tokenizer_special_tokens(cls, context_length: int, noise_density: float = PRETRAINING_NOISE_DENSITY,
                                 **task_options) -> list:
        return [*cls.special_tokens, *t5_sentinel_tokens(cls.sentinels_needed(context_length, noise_density))]

    @classmethod
    def from_model(cls, model, tokenizer, noise_density: float = PRETRAINING_NOISE_DENSITY) -> "SpanCorruption":
        context = model.config.context_length
        if not 0.0 < noise_density < 1.0:
            raise ValueError(f"noise_density must be in (0, 1), got {noise_density!r}; T5 uses 0.15, this recipe 0.3")
        needed = cls.spans_needed(context, noise_density)
        if needed > NUM_SENTINELS:
            raise ValueError(f"a context of {context} tokens at noise density {noise_density} has {needed} spans, "
                             f"more than T5's {NUM_SENTINELS} sentinels; use a shorter context or a lower density")
        ids = cls.special_token_ids(tokenizer)
        sentinels = [name for name in t5_sentinel_tokens(needed) if name in tokenizer.special_tokens]
        if len(sentinels) < needed:
            raise ValueError(f"the tokenizer has {len(sentinels)} of the {needed} T5 sentinels "
                             f"<extra_id_0>...<extra_id_{needed - 1}> a context of {context} needs; train one "
                             "with make_tokenizer (or without --tokenizer), which adds them")
        return cls(context=context, sentinel_ids=[tokenizer.token_to_id(name) for name in sentinels],
                   eos_id=ids["</s>"], pad_id=ids["[PAD]"], noise_density=noise_density)

    @classmethod
    def config_overrides(cls, tokenizer) -> dict:
        """T5 pads with [PAD], and its decoder starts from the padding token."""
        return {"pad_id": tokenizer.token_to_id("[PAD]")}

    @property
    def window(self) -> int:
        """The longest window whose corrupted input still fits the context (window_for)."""
        return self.window_for(self.context, self.noise_density)

    def batch(self, ids, batch_size, rng):
        return self._corrupted_batch(ids, batch_size, rng, self.noise_density)

    def recipe_notes(self, model):
        if self.noise_density != T5_NOISE_DENSITY:
            yield (f"span corruption: {self.noise_density:.0%} of each {self.window}-token window hidden in spans of "
                   f"mean length 3, {len(self.sentinel_ids)} sentinel{'s' if len(self.sentinel_ids) > 1 else ''} (the paper's {T5_NOISE_DENSITY:.0%}: "
                   f"--noise-density {T5_NOISE_DENSITY}); held-out scores always use {T5_NOISE_DENSITY:.0%}")
        c = model.config
        if (c.positions, c.norm, c.activation, c.init) != ("relative", "rmsnorm", "relu", "gpt2"):
            start = f"init {c.init!r}"
            if c.init == "reading":
                start += f" with the value path {c.value_scale:g}x" + (" and neighbour heads" if c.neighbour_heads else "")
            yield (f"T5 architecture: {c.positions} positions, {c.norm}, {c.activation}, {start} "
                   "(T5's relative positions, RMSNorm and ReLU with a plain start: --preset tiny-paper; "
                   "see models/t5.py)")

    def evaluation_batch(self, ids, batch_size, rng):
        """Scored at the paper's 15% noise, whatever density training uses, so runs compare."""
        return self._corrupted_batch(ids, batch_size, rng, T5_NOISE_DENSITY)

    def _corrupted_batch(self, ids, batch_size, rng, noise_density):
        windows, _ = causal_lm_batch(ids, batch_size, self.window_for(self.context, noise_density), rng)
        return span_corruption_batch(list(windows), self.sentinel_ids, self.eos_id, self.pad_id, rng,
                                     noise_density=noise_density)

    def loss(self, model, batch):
        targets = np.where(batch.target_mask, batch.target_ids, IGNORE_INDEX)
        return model(batch.input_ids, targets)[1]

    def loss_tokens(self, batch) -> int:
        return int(np.count_nonzero(batch.target_mask))

    scored_tokens = "hidden span tokens"

    def scored_predictions(self, model, batch):
        """The decoder's predictions of the hidden text: sentinels, </s> and padding left out."""
        targets = np.where(batch.target_mask, batch.target_ids, IGNORE_INDEX)
        logits = model(batch.input_ids, targets)[0].data
        is_text = self._hidden_text(batch)
        return logits[is_text], batch.target_ids[is_text]

    # The first token of a span can only be read from the encoder (its neighbours in the input);
    # for the later ones the decoder has also written the span so far, as a GPT would.
    score_part_names = ("first token of each span (from the encoder alone)",
                        "later span tokens (the decoder has read the span so far)")

    def score_parts(self, batch):
        """0 for the first hidden token of each span (the target right after its sentinel), 1 for the rest."""
        after_sentinel = np.zeros_like(batch.target_mask)
        after_sentinel[:, 1:] = np.isin(batch.target_ids[:, :-1], self.sentinel_ids)
        return np.where(after_sentinel[self._hidden_text(batch)], 0, 1)

    def _hidden_text(self, batch):
        return batch.target_mask & ~np.isin(batch.target_ids, [*self.sentinel_ids, self.eos_id])

    def show(self, model, tokenizer, samples):
        yield f"\nT5 fills the spans of: {self.demo_text}"
        yield indent(fill_spans_t5(model, tokenizer, self.demo_text))

    def generate_text(self, model, tokenizer, prompt, max_new_tokens, temperature, top_k, top_p, seed):
        """T5 decodes with temperature only: top-k and top-p are not used for filling spans."""
        return fill_spans_t5(model, tokenizer, prompt, max_new_tokens, temperature, seed)
