"""The SpanCorruption task: how T5 pretrains here on span corruption (span_corruption.py).

It cuts windows from the token stream as long as the context allows (window_for), gives the
tokenizer as many sentinels as a window needs, trains at 30% noise and finishes on every density
from 5% to 30% (training_batch), always scores at the paper's 15% (evaluation_batch), splits the
score into the first token of each span and the rest, and fills the demo's gaps.  The class
docstring keeps the table of what was tried before this recipe, and what each change did.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..models import T5
from ..models.demos import fill_spans_t5
from ..tokenizers import t5_sentinel_tokens
from .causal_lm import causal_lm_batch
from .ids import IGNORE_INDEX
from .span_corruption import (NUM_SENTINELS, T5_NOISE_DENSITY, noise_span_counts, span_corruption_batch,
                              span_corruption_lengths)
from .task import PretrainingTask, indent

PRETRAINING_NOISE_DENSITY = 0.3  # what SpanCorruption trains with here: 2x the predictions per step
FINISH_FROM = 0.75  # the last quarter of the steps draws each batch's density from [FINISH_DENSITY, noise_density]
FINISH_DENSITY = 0.05  # about the density of a user's text with one or two gaps


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
          as `pretrain` runs it (2 workers, 161-170 s)  1.45 / 1.09 / 1.44   1.62 / 1.59 / 1.69
        + the last quarter at 5-30% (finish_density)    1.42 / 1.37 / 1.42   1.63 / 1.58 / 1.67
          (the default now; 156-163 s on 2 workers)
          every batch at 5-30% (1 worker)               0.67 / 0.64 / -      0.50 / 0.24 / -
          one batch in four at 5-30%                    - / 0.98 / -         - / 1.20 / -
          the last quarter at 15% (seed 1, 1 worker)    1.36 at 15% noise, but 0.72 at 30%
        whole-word spans (T5's mask at 10% in spans of  0.09 worse than the  1.34 / 0.51 worse
          1 token, widened to whole words: 29% of the   unigram / 0.07       than the unigram
          tokens, 3.4 a span; seeds 0 / 1, 1 worker)

    The local decoder start (what made BERT learn, models/bert.py) writes the later tokens of a span
    better (1.60-1.65 below the unigram against 1.33-1.63) but never reads the encoder: it turns the
    decoder into a language model of span text.  So the decoder's bias starts at zero.  What did
    make every seed read is the value path started 4x larger (models/t5.py, start_reading): with
    it, decoder heads put 0.996 and 0.998 of their weight on the matching sentinel (seed 1), and
    the first token of a span, the encoder's part, is now as far below the unigram as the rest.
    Deeper encoders read worse: the first token stays near 1.0 (a deeper stack mixes more into the
    sentinel, so the like-with-like match is weaker).  What helped last is two one-sided heads in the
    encoder, one on the token to the left and one on the token to the right (models/t5.py): the
    decoder had read only the left side of each gap.  Those rows ran as one process (--workers 1).

    Then a run that learned the wrong thing: seed 1 on 2 workers scored 1.39 below the unigram at
    the 30% it trained at, but 1.09 at 15% and 0.94 at 5% (seeds 0 and 2: 1.43-1.48 at 15-30%,
    1.26-1.30 at 5%).  Its decoder expected as many spans as 30% gives, and a user's text has one
    or two gaps, so its demo filled '"x"' and twenty newlines.  Training at low densities from the
    start never leaves the plateau (every batch at 5-30%: 0.67), so the density stays at 30% until
    three quarters of the steps are done, and then each batch draws its own from 5-30%
    (training_batch): seed 1 gets 1.37 at 15% and 1.18 at 5%, seeds 0 and 2 lose 0.02-0.03, in
    156-163 s.  Its fills of 200 hidden held-out words (word_fills.py; the unigram's ' the' is right
    39 times): the word 51 / 47 / 50 times before, 57 / 49 / 49 after; a word at all 164 / 148 / 165
    before, 168 / 155 / 165 after.  The demo: ' statement' / ' object', ' key' / ' key' (seed 1 wrote
    '"x"' and twenty newlines before), ' statement' / ' object'.  Whole-word spans (SpanBERT's and BERT-wwm's idea: a span never starts or
    ends inside a word) were meant to stop fills like 'h', but the first token of a span stayed on
    the plateau, and a model that never saw a span start inside a word scores badly on T5's.
    """

    context: int
    sentinel_ids: list
    eos_id: int
    pad_id: int
    noise_density: float = PRETRAINING_NOISE_DENSITY
    finish_density: float = FINISH_DENSITY  # the lowest density of the finishing quarter (training_batch)

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
    # 174-194 s, past the 3 minutes this default keeps to.  The tiny preset of now (neighbour heads,
    # the finish on 5-30%): 1.42 / 1.37 / 1.42 in 156-163 s
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
    def from_model(cls, model, tokenizer, noise_density: float = PRETRAINING_NOISE_DENSITY,
                   finish_density: float | None = None) -> "SpanCorruption":
        """The task for this model's context and this tokenizer's ids.  finish_density: None for
        FINISH_DENSITY (or noise_density, if that is lower)."""
        context = model.config.context_length
        if not 0.0 < noise_density < 1.0:
            raise ValueError(f"noise_density must be in (0, 1), got {noise_density!r}; T5 uses 0.15, this recipe 0.3")
        if finish_density is None:
            finish_density = min(FINISH_DENSITY, noise_density)
        if not 0.0 < finish_density <= noise_density:
            raise ValueError(f"finish_density must be in (0, noise_density={noise_density}], got {finish_density!r}; "
                             f"this recipe uses {FINISH_DENSITY}, and finish_density = noise_density trains at "
                             "one density throughout, as the paper does")
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
                   eos_id=ids["</s>"], pad_id=ids["[PAD]"], noise_density=noise_density, finish_density=finish_density)

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

    def training_batch(self, ids, batch_size, rng, progress: float):
        """A batch at `noise_density` for the first three quarters of training, then each batch at a
        density drawn from [finish_density, noise_density].

        30% noise teaches the decoder to read the encoder fastest (the table in the class
        docstring), but a user's text has one or two gaps: about 5%.  A model trained at one
        density can be much worse at another (seed 1 of `pretrain --model t5`: 1.39 nats below the
        unigram at 30% but 1.09 at 15% and 0.94 at 5%), so the last quarter shows it every density
        from a few gaps to many.  Drawn with the data's random generator, so --resume stays exact.
        """
        if progress < FINISH_FROM or self.finish_density >= self.noise_density:
            return self.batch(ids, batch_size, rng)
        density = float(rng.uniform(self.finish_density, self.noise_density))
        return self._corrupted_batch(ids, batch_size, rng, density)

    def recipe_notes(self, model):
        if self.noise_density != T5_NOISE_DENSITY or self.finish_density < self.noise_density:
            sentinels = f"{len(self.sentinel_ids)} sentinel{'s' if len(self.sentinel_ids) > 1 else ''}"
            finish = ""
            if self.finish_density < self.noise_density:
                finish = (f"; the last quarter of the steps draws each batch's density from {self.finish_density:.0%}-"
                          f"{self.noise_density:.0%}, as texts with a few gaps and with many")
            yield (f"span corruption: {self.noise_density:.0%} of each {self.window}-token window hidden in spans of "
                   f"mean length 3, {sentinels}{finish} (the paper's {T5_NOISE_DENSITY:.0%} throughout: "
                   f"--noise-density {T5_NOISE_DENSITY} --finish-density {T5_NOISE_DENSITY}); held-out scores always "
                   f"use {T5_NOISE_DENSITY:.0%}")
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
    fills_gaps = True  # the decoder writes what each sentinel hides: word_fills.py scores that too

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
