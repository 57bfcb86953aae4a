"""Text in, text out: what each pretrained model can do once a tokenizer turns text into ids.

- GPT continues a prompt (`sample_gpt`): it models p(next token | the tokens before).
- BERT guesses the words behind [MASK] (`guess_masks_bert`): it sees both sides of a gap but
  cannot generate.
- T5 writes the spans hidden behind <extra_id_N> sentinels (`fill_spans_t5`): its encoder reads
  the text, its decoder writes `<extra_id_0> span <extra_id_1> span ... </s>`.

Special-token names in the text ([MASK], <extra_id_0>, ...) are read as the special tokens.
A text longer than the model's context is an error, not a silent truncation.
"""

from __future__ import annotations

import re

import numpy as np

from ..tensor import no_grad
from .bert import BERT
from .gpt import GPT
from .t5 import T5


def _check_fits(ids: list, model, what: str) -> None:
    if len(ids) > model.config.context_length:
        raise ValueError(f"{what} is {len(ids)} tokens, longer than the model's context of "
                         f"{model.config.context_length}; shorten it")


_GAP = re.compile(r" (\[MASK\]|<extra_id_\d+>)")


def spaces_join_words(tokenizer) -> bool:
    """True when the tokenizer spells a word with its leading space (' a' is one token), as
    byte-level BPE does; False when spaces are tokens of their own (CharTokenizer)."""
    return len(tokenizer.encode(" a")) == 1


def token_texts(tokenizer, vocab_size: int) -> list:
    """The text of each id of a model's vocabulary ('' for ids past the tokenizer's, which a
    model may have as padding), for masks over the vocabulary such as 'starts with a space'."""
    return [tokenizer.decode([i]) if i < tokenizer.vocab_size else "" for i in range(vocab_size)]


def encode_with_gaps(tokenizer, text: str) -> list:
    """The ids of `text`, whose [MASK] / <extra_id_N> gaps are read as the special tokens.

    A space just before a gap belongs to what the gap hides.  Byte-level BPE spells a word with
    its leading space (' return' is the one token 'Ġreturn'), so when pretraining masks ' return'
    the model sees `The [MASK] statement` as 'The' [MASK] 'Ġstatement'.  Encoding the space on its
    own would give 'The' 'Ġ' [MASK], an input pretraining never showed, and the guesses become
    noise.  A tokenizer whose spaces are tokens of their own (CharTokenizer) keeps the space.
    """
    if spaces_join_words(tokenizer):
        text = _GAP.sub(r"\1", text)
    return tokenizer.encode(text, allowed_special="all")


def sample_gpt(model: GPT, tokenizer, prompt: str, max_new_tokens: int, temperature=0.8, top_k=40, top_p=None,
               seed=None) -> str:
    """The prompt and up to max_new_tokens tokens GPT writes after it, as text."""
    prompt_ids = tokenizer.encode(prompt, allowed_special="all")
    if not prompt_ids:
        raise ValueError("the prompt is empty; give at least one character")
    _check_fits(prompt_ids, model, "the prompt")
    out = model.generate(np.array([prompt_ids]), max_new_tokens, temperature=temperature, top_k=top_k,
                         top_p=top_p, seed=seed)
    return tokenizer.decode(out[0].tolist())


def span_structure(input_sentinels: list, every_sentinel: list, eos: int, first_tokens: dict | None = None):
    """A `constrain` for T5.generate: the target must read `<s0> span <s1> span ... </s>`.

    The decoder must write the input's sentinels, each once and in order, every span at least one
    token long, and </s> only after the last span.  Pretraining teaches this structure, but a tiny
    T5 trained on long windows (about 16 spans each) learns "another sentinel follows" better than
    "this input had only two".  So the probability the model gives to ending the span, whichever
    sentinel or </s> it names, goes to the one that may come next; the words stay the model's.

    first_tokens: {sentinel id: bool array over the vocabulary}, the tokens its span may start with
    (`fill_spans_t5` passes the ones that start with a space for a gap written after a space).
    """
    span_ends = np.append(np.asarray(every_sentinel), eos)
    first_tokens = first_tokens or {}

    def constrain(ids, logits):
        logits = logits.astype(np.float64, copy=True)
        for row, written in enumerate(ids[:, 1:]):  # ids[:, 0] is the start token
            sentinels_written = int(np.isin(written, every_sentinel).sum())
            allowed_next = input_sentinels[sentinels_written] if sentinels_written < len(input_sentinels) else eos
            scores = logits[row]
            end = scores[span_ends]
            p_end = end.max() + np.log(np.exp(end - end.max()).sum())  # log of the summed probability
            scores[span_ends] = -np.inf
            if len(written) == 0:  # the target opens with the first sentinel
                scores[:] = -np.inf
                scores[allowed_next] = 0.0
            elif written[-1] not in every_sentinel:  # a span of at least one token, then its end
                scores[allowed_next] = p_end
            elif written[-1] in first_tokens:  # the span's first token
                scores[~first_tokens[written[-1]]] = -np.inf
        return logits

    return constrain


def fill_spans_t5(model: T5, tokenizer, text: str, max_new_tokens: int = 30, temperature=0.0, seed=None) -> str:
    """What T5's decoder writes for `text` (greedy by default), up to its </s>: each sentinel of the
    input answered once, in order (span_structure).

    A gap written after a space (`an <extra_id_1> is`) hides text that starts with that space:
    encode_with_gaps gives the space to the gap, as pretraining does when it hides ' exception'.
    The space is then no longer in the input, so the model cannot see it; its span must start with
    a token that starts with a space, which keeps a word's ending ('an' + 'y') out of the fill."""
    eos = tokenizer.token_to_id("</s>")
    ids = encode_with_gaps(tokenizer, text) + [eos]
    _check_fits(ids, model, "the input")
    spaced_gaps = []
    if spaces_join_words(tokenizer):  # the space went into the gap (encode_with_gaps)
        spaced_gaps = [tokenizer.special_token_ids[name] for name in _GAP.findall(text)
                       if name in tokenizer.special_token_ids]
    out = fill_span_ids_t5(model, tokenizer, np.array([ids]), spaced_gaps, max_new_tokens, temperature, seed)
    return tokenizer.decode(out[0].tolist())


def fill_span_ids_t5(model: T5, tokenizer, input_ids: np.ndarray, spaced_gaps=(), max_new_tokens: int = 30,
                     temperature=0.0, seed=None) -> np.ndarray:
    """The decoder's ids for a batch of encoder inputs (B, T) that all hold the same sentinels, in
    the same order (as `fill_spans_t5` writes them for one text).  spaced_gaps: the sentinels whose
    span must start with a token that starts with a space."""
    eos = tokenizer.token_to_id("</s>")
    every_sentinel = [i for name, i in tokenizer.special_token_ids.items() if name.startswith("<extra_id_")]
    input_sentinels = [int(i) for i in input_ids[0] if i in every_sentinel]
    if not input_sentinels:
        raise ValueError("the text has no sentinel to fill; mark the gaps with <extra_id_0>, <extra_id_1>, ...")
    first_tokens = {}
    if len(spaced_gaps):
        spaced = np.array([text.startswith(" ") for text in token_texts(tokenizer, model.config.vocab_size)])
        first_tokens = {int(sentinel): spaced for sentinel in spaced_gaps}
    return model.generate(input_ids, min(max_new_tokens, model.config.context_length - 1),
                          temperature=temperature, stop_token=eos, seed=seed,
                          constrain=span_structure(input_sentinels, every_sentinel, eos, first_tokens))


@no_grad()
def guess_masks_bert(model: BERT, tokenizer, text: str, top: int = 5) -> list:
    """For each [MASK] in text: the model's `top` guesses as (token, probability), best first."""
    ids = [tokenizer.token_to_id("[CLS]")] + encode_with_gaps(tokenizer, text) + [tokenizer.token_to_id("[SEP]")]
    if len(ids) > model.config.context_length:
        raise ValueError(f"the text is {len(ids)} tokens, longer than the model's context of {model.config.context_length}")
    model.eval()
    logits, _ = model.mlm(np.array([ids]))
    guesses = []
    for position in np.flatnonzero(np.array(ids) == tokenizer.token_to_id("[MASK]")):
        row = logits.data[0, position].astype(np.float64)
        probs = np.exp(row - row.max())  # softmax, shifted by the maximum so exp cannot overflow
        probs /= probs.sum()
        best = np.argsort(-probs)[:top]
        guesses.append([(tokenizer.decode([int(i)]), float(probs[i])) for i in best])
    return guesses
