"""Does T5 fill a blank with a word?  A cloze test on held-out text.

The held-out NLL (evaluation.py) says how well T5 predicts hidden tokens on average.  The claim a
user checks by eye is plainer: give it `if it fails, an <extra_id_0> is raised` and it writes a
word, ideally the right one.  So hide one whole word of held-out text behind <extra_id_0>, let the
decoder fill it greedily (models/demos.py, fill_span_ids_t5), and count

    the hidden word   the fill is exactly the word that was hidden
    a word            the fill is one or more words of the text, letters only (' error' for
                      ' exception' counts; ' "x', ' statemen' or ' )' do not)

The baseline is the unigram's guess: always the most frequent word of the training split, right
as often as that word happens to be the one hidden.  Only words that are one token are hidden
(' exception' is one token of the byte-level BPE here, ' Transformerify' is not), since a word's
own pieces would give away the rest of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .models.demos import fill_span_ids_t5, token_texts
from .tensor import no_grad

WORD_TOKEN = re.compile(r" [A-Za-z]{2,}")  # a whole word with its leading space, as byte-level BPE spells it
WORDS = re.compile(r"[A-Za-z]+")
WINDOW = 48  # tokens of text around each hidden word: a few sentences, like the demo's


def words_of(text: str) -> set:
    """Every word (run of letters) the text uses: what counts as 'a word' in a fill."""
    return set(WORDS.findall(text))


def is_word_fill(fill: str, words: set) -> bool:
    """True if the fill is ' word' or ' several words', each a word of the text."""
    return bool(re.fullmatch(r"( [A-Za-z]+)+", fill)) and all(word in words for word in WORDS.findall(fill))


def word_token_ids(tokenizer, vocab_size: int) -> np.ndarray:
    """A bool mask over the vocabulary: True for the tokens that are one whole word, ' exception'."""
    return np.array([bool(WORD_TOKEN.fullmatch(text)) for text in token_texts(tokenizer, vocab_size)])


def letter_start_ids(tokenizer, vocab_size: int) -> np.ndarray:
    """A bool mask over the vocabulary: True for the tokens that start with a letter, which
    continue the word before them ('ment' after ' state')."""
    return np.array([text[:1].isalpha() for text in token_texts(tokenizer, vocab_size)])


def gap_positions(ids: np.ndarray, is_word: np.ndarray, starts_letter: np.ndarray, window: int, gaps: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Up to `gaps` positions of held-out `ids` to hide, each a whole-word token that the next token
    does not continue (' list' before ',' yes; ' state' before 'ment' no), with window // 2 tokens
    of text on its left and the rest of the window on its right."""
    half = window // 2
    inside = np.arange(half, len(ids) - (window - half))
    if len(inside) == 0:
        return inside
    candidates = inside[is_word[ids[inside]] & ~starts_letter[ids[inside + 1]]]
    return np.sort(rng.choice(candidates, size=min(gaps, len(candidates)), replace=False))


@dataclass
class WordFillReport:
    """How often greedy fills of hidden held-out words are the word, and are words at all."""

    gaps: int
    window: int  # tokens of text around each hidden word, the word included
    exact: int  # fills that are the hidden word
    words: int  # fills that are words of the text
    unigram_guess: str  # the most frequent word of the training split
    unigram_exact: int  # gaps where that guess is right
    examples: tuple  # (hidden word, fill) pairs, the first few

    def lines(self) -> list[str]:
        shown = ", ".join(f"{hidden!r} -> {fill!r}" for hidden, fill in self.examples)
        return [
            f"hidden-word fills ({self.gaps} held-out words, each hidden behind <extra_id_0> in {self.window} tokens "
            "of text, filled greedily):",
            f"  the hidden word    {self.exact:4d}/{self.gaps}   (the unigram's guess "
            f"{self.unigram_guess!r}: {self.unigram_exact}/{self.gaps})",
            f"  a word of the text {self.words:4d}/{self.gaps}   (the rest: punctuation, pieces of words, "
            "or words the text never uses)",
            f"  e.g. {shown}",
        ]


@no_grad()
def word_fill_report(model, tokenizer, ids, counts, words: set, gaps: int = 200, seed: int = 1234,
                     batch_size: int = 50, examples: int = 4) -> WordFillReport | None:
    """Hide `gaps` whole words of held-out `ids`, one per window, and score T5's greedy fills.

    counts: the training split's token counts (for the unigram's guess); words: `words_of` the
    text.  None when there is nothing to hide: a tokenizer that spells spaces on their own
    (CharTokenizer) has no one-token words, and a context of 8 tokens or fewer holds no window.
    """
    eos, sentinel = tokenizer.token_to_id("</s>"), tokenizer.token_to_id("<extra_id_0>")
    window = min(WINDOW, model.config.context_length - 1)  # the input is the window and </s>
    vocab = model.config.vocab_size
    is_word = word_token_ids(tokenizer, vocab)
    if window < 8 or not is_word.any():
        return None
    ids = np.asarray(ids, dtype=np.int64)
    half = window // 2
    positions = gap_positions(ids, is_word, letter_start_ids(tokenizer, vocab), window, gaps,
                              np.random.default_rng(seed))
    if len(positions) == 0:
        return None
    guess = int(np.argmax(np.where(is_word, np.asarray(counts)[:vocab], -1)))
    # one row per gap: its window of text, the word replaced by the sentinel, then </s>
    rows = ids[(positions - half)[:, None] + np.arange(window)]
    rows[:, half] = sentinel
    rows = np.concatenate([rows, np.full((len(rows), 1), eos)], axis=1)

    exact = word_fills = 0
    shown = []
    for first in range(0, len(positions), batch_size):
        out = fill_span_ids_t5(model, tokenizer, rows[first:first + batch_size], spaced_gaps=[sentinel],
                               max_new_tokens=12)
        for position, written in zip(positions[first:first + batch_size], out.tolist()):
            end = written.index(eos) if eos in written else len(written)
            fill = tokenizer.decode(written[1:end])  # written[0] is the sentinel
            hidden = tokenizer.decode([int(ids[position])])
            exact += fill == hidden
            word_fills += is_word_fill(fill, words)
            if len(shown) < examples:
                shown.append((hidden, fill))
    unigram_exact = int(np.sum(ids[positions] == guess))
    return WordFillReport(len(positions), window, exact, word_fills, tokenizer.decode([guess]), unigram_exact,
                          tuple(shown))
