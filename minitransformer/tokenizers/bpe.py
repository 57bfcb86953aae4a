"""Byte-pair encoding (BPE): build a subword vocabulary by merging frequent pairs.

A word-level vocabulary has no entry for a rare word like ``taaaaasty``; a
character vocabulary makes sequences very long. BPE sits in between (Sennrich et
al., 2016; CS224n lecture on pretraining). Start from single symbols and repeat::

    (a, b) = argmax over adjacent pairs of count(a, b)     # most frequent pair
    add the new token "ab"; replace every "a b" in the corpus by "ab"

until the vocabulary has ``vocab_size`` tokens. Frequent words end up as a single
token, rare words are split into known pieces: ``taaaaasty`` -> ``taa## aaa## sty``
(``##`` marks a piece that continues into the next one; see ``segment``).

Where the pieces live
---------------------
=====================  ===========================================================
``bpe.py``             ``BPETokenizer``: vocabulary, ``train``, ``encode``, ``decode``
``bpe_merges.py``      merging a pair; the plain training algorithm (the reference)
``bpe_trainer.py``     the fast trainer, which learns the same merges incrementally
``bpe_flavours.py``    word-level and byte-level: base symbols, decoding
``bpe_file.py``        the JSON file format (``to_dict``, ``load``)
``pretokenize.py``     the regexes that cut text into words first
=====================  ===========================================================

Two flavours (``BPETokenizer(kind=...)``)
-----------------------------------------
``kind="word"``  Sennrich et al. / the lecture: characters plus the end-of-word mark
    ``</w>``; characters never seen in training become ``[UNK]``, so ``"[UNK]"``
    must be one of the special tokens.
``kind="byte"``  GPT-2: the 256 byte values after a GPT-style split (``pattern="gpt2"``
    or ``"gpt4"``), so every string encodes and nothing is unknown. Tokens are shown
    GPT-2 style, so ``tokenize(" hi")`` gives ``["Ġhi"]``.

Token ids
---------
Special tokens get the first ids, in the order given to ``train``; then the
base alphabet (word: ``</w>`` then the characters sorted by code point; byte:
bytes 0..255 in order); then one id per merge, in the order merges were learned.
So the id of a merged token is also its merge rank (lower = learned earlier).

Special tokens (``[PAD]``, ``<|endoftext|>``, ``<extra_id_0>``, ...) are whole
tokens: training ignores their occurrences in the corpus, merges never produce
them, and ``encode`` emits one only when the caller allows it, like tiktoken::

    tok.encode("a<|endoftext|>b")                          # the name is plain text
    tok.encode("a<|endoftext|>b", allowed_special="all")  # one special id

Determinism
-----------
Among equally frequent pairs we merge the one that occurs first when reading
the distinct words in order of first appearance in the corpus, each left to
right. This is exactly what Sennrich et al.'s reference code and minbpe do (they
take Python's ``max`` over a dict filled in reading order), so we learn their
merges in their order. Nothing depends on hashing or the machine.

Speed
-----
Training counts each distinct word once, with its frequency, and uses the fast
trainer (``bpe_trainer.py``). Encoding splits text into words and encodes each
distinct word once: the pieces of the last ``ENCODE_CACHE_SIZE`` distinct words
are kept in an LRU cache. A word is encoded like GPT-2 does: repeatedly merge the
adjacent pair with the lowest merge rank (``bpe_merges.apply_merges``).

Decoding
--------
Byte: the bytes of all tokens are joined and decoded as UTF-8 (invalid byte
sequences, possible only for hand-made id lists, become U+FFFD), so
``decode(encode(s, allowed_special="all")) == s`` for every string.
Word: tokens are joined and each ``</w>`` becomes a space, so the output is
whitespace-normalised: ``decode(encode(s)) == " ".join(s.split())`` when ``s``
uses only trained characters. Punctuation keeps its spacing because ``</w>`` is
only put on words followed by whitespace (``"hello, world"`` round-trips).
``[UNK]`` stands for one character inside a word and is decoded in place; other
special tokens are decoded as words of their own, with spaces around them.
"""

from __future__ import annotations

import functools
import warnings
from collections import Counter

from .base import TokenizerFileError, UnknownTokenError
from .bpe_file import FILE_FORMAT, FILE_VERSION, BPEFileFormat
from .bpe_flavours import END_OF_WORD, ByteLevel, WordLevel
from .bpe_merges import PlainMergeTrainer, apply_merges, merge_pair
from .bpe_trainer import FastMergeTrainer
from .pretokenize import split_on_special_tokens
from .special_tokens import DEFAULT_SPECIAL_TOKENS, UNK_TOKEN, check_special_tokens, t5_sentinel_tokens

__all__ = [  # the names other modules import from here, wherever they are defined
    "BPETokenizer", "DEFAULT_SPECIAL_TOKENS", "END_OF_WORD", "ENCODE_CACHE_SIZE", "FILE_FORMAT", "FILE_VERSION",
    "MERGE_TRAINERS", "TokenizerFileError", "UNK_TOKEN", "UnknownTokenError", "apply_merges", "merge_pair",
    "t5_sentinel_tokens",
]

ENCODE_CACHE_SIZE = 1 << 16  # distinct words whose pieces are remembered
MERGE_TRAINERS = {"plain": PlainMergeTrainer, "fast": FastMergeTrainer}


class BPETokenizer(BPEFileFormat):
    """Byte-pair-encoding tokenizer, word-level or byte-level (see the module docstring).

    >>> tok = BPETokenizer(kind="word")
    >>> tok.train(["low lower newest widest"], vocab_size=30, min_frequency=1)
    >>> tok.decode(tok.encode("lowest newer"))
    'lowest newer'
    """

    def __init__(self, kind: str = "byte", pattern: str | None = None):
        if kind == "word":
            if pattern is not None:
                raise ValueError(f"pattern={pattern!r} only applies to kind='byte'; drop it for kind='word'")
            self._flavour = WordLevel()
        elif kind == "byte":
            self._flavour = ByteLevel("gpt2" if pattern is None else pattern)
        else:
            raise ValueError(f"unknown kind {kind!r}; use kind='word' or kind='byte'")
        self._trained = False
        self._settings: dict = {}
        self._set_vocabulary([], [], [])

    @property
    def kind(self) -> str:
        return self._flavour.name

    # -- vocabulary --------------------------------------------------------

    def _set_vocabulary(self, special_tokens, base_alphabet, merges):
        """Build every lookup table from (special tokens, base alphabet, ordered merges)."""
        contents = [None] * len(special_tokens) + list(base_alphabet)
        first_merge_id = len(contents)
        for left, right in merges:
            contents.append(self._flavour.join(contents[left], contents[right]))
        id_to_token = list(special_tokens) + [self._flavour.display(c) for c in contents[len(special_tokens) :]]
        token_to_id = {}
        for i, token in enumerate(id_to_token):
            if token in token_to_id:
                raise ValueError(
                    f"token {token!r} would get two ids ({token_to_id[token]} and {i}); "
                    "a special token may not equal a character or byte token, rename it"
                )
            token_to_id[token] = i
        self._special_tokens = list(special_tokens)
        self._contents = contents
        self._id_to_token = id_to_token
        self._token_to_id = token_to_id
        self._merges = [tuple(pair) for pair in merges]
        self._merge_ids = {pair: first_merge_id + rank for rank, pair in enumerate(self._merges)}
        self._base_ids = {c: i for i, c in enumerate(contents[:first_merge_id]) if c is not None}
        self._unk_id = token_to_id.get(UNK_TOKEN)
        self._encode_word = functools.lru_cache(maxsize=ENCODE_CACHE_SIZE)(self._encode_word_uncached)

    @property
    def merges(self) -> list[tuple[str, str]]:
        """The learned merges in order, as pairs of token strings."""
        return [(self._id_to_token[a], self._id_to_token[b]) for a, b in self._merges]

    def _check_trained(self):
        if not self._trained:
            raise ValueError("this tokenizer has no vocabulary yet; call train(...) or BPETokenizer.load(path) first")

    def __repr__(self):
        return f"BPETokenizer(kind={self.kind!r}, vocab_size={self.vocab_size}, merges={len(self._merges)})"

    # -- training ----------------------------------------------------------

    def train(self, texts, vocab_size: int, min_frequency: int = 2, special_tokens=None, algorithm: str = "fast"):
        """Learn merges from ``texts`` (a string, or an iterable of strings) until ``vocab_size``.

        ``vocab_size`` counts everything: special tokens + base alphabet + merges.
        A pair is merged only if it occurs at least ``min_frequency`` times; if no
        pair does, training stops early with a warning and a smaller vocabulary.
        ``special_tokens`` defaults to ``DEFAULT_SPECIAL_TOKENS[kind]``.
        ``algorithm="plain"`` recounts all pairs before every merge (the lecture's
        loop, ``bpe_merges.py``); the default ``"fast"`` learns the same merges
        incrementally (``bpe_trainer.py``).
        """
        if algorithm not in MERGE_TRAINERS:
            raise ValueError(f"unknown algorithm {algorithm!r}; use one of {sorted(MERGE_TRAINERS)}")
        special_tokens = self._check_special_tokens(special_tokens)
        for name, value, low in (("vocab_size", vocab_size, 1), ("min_frequency", min_frequency, 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")

        word_freqs = self._count_words(texts, special_tokens)
        base_alphabet = self._flavour.base_alphabet(word_freqs)
        fixed = len(special_tokens) + len(base_alphabet)
        if vocab_size < fixed:
            raise ValueError(
                f"vocab_size={vocab_size} is smaller than the {len(special_tokens)} special tokens "
                f"+ {len(base_alphabet)} base symbols; use vocab_size >= {fixed}"
            )
        self._trained = False
        self._set_vocabulary(special_tokens, base_alphabet, [])  # raises on special/base clashes

        words = [self._flavour.initial_symbols(key, self._base_ids, None) for key in word_freqs]
        trainer = MERGE_TRAINERS[algorithm](words, list(word_freqs.values()))
        contents = list(self._contents)
        reserved = set(special_tokens)
        merges = []
        while len(contents) < vocab_size:
            best = trainer.most_frequent_pair()
            if best is None or best[1] < min_frequency:
                warnings.warn(
                    f"BPE training stopped after {len(merges)} merges: no pair occurs at least "
                    f"min_frequency={min_frequency} times; the vocabulary has {len(contents)} tokens, "
                    f"not the requested {vocab_size}",
                    stacklevel=2,
                )
                break
            pair = best[0]
            content = self._flavour.join(contents[pair[0]], contents[pair[1]])
            if self._flavour.display(content) in reserved:
                trainer.forbid(pair)  # merges never produce a special token
                continue
            trainer.merge(pair, len(contents))
            contents.append(content)
            merges.append(pair)

        self._set_vocabulary(special_tokens, base_alphabet, merges)
        self._settings = {"requested_vocab_size": vocab_size, "min_frequency": min_frequency}
        self._trained = True

    def _check_special_tokens(self, special_tokens) -> list[str]:
        if special_tokens is None:
            special_tokens = DEFAULT_SPECIAL_TOKENS[self.kind]
        special_tokens = check_special_tokens(special_tokens)
        self._flavour.check_special_tokens(special_tokens)
        return special_tokens

    def _count_words(self, texts, special_tokens) -> Counter:
        """Distinct words -> frequency, in order of first appearance (the tie-break order)."""
        if isinstance(texts, str):
            texts = [texts]
        word_freqs = Counter()
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"training texts must be strings, got {type(text).__name__}: {text!r:.60}")
            for piece, is_special in split_on_special_tokens(text, special_tokens):
                if not is_special:
                    word_freqs.update(self._flavour.split(piece))
        if not word_freqs:
            raise ValueError("the training corpus is empty (no words outside special tokens); pass some text")
        return word_freqs

    # -- encoding ----------------------------------------------------------

    def _encode_word_uncached(self, key) -> tuple[int, ...]:
        symbols = self._flavour.initial_symbols(key, self._base_ids, self._unk_id)
        return tuple(apply_merges(symbols, self._merge_ids))

    def encode(self, text: str, allowed_special=()) -> list[int]:
        """Text -> token ids. Special-token names in ``text`` become special ids only
        if listed in ``allowed_special`` (a set of names, or ``"all"``)."""
        self._check_trained()
        return self._encode_around_specials(text, allowed_special, self._encode_ordinary)

    def _encode_ordinary(self, text: str) -> list[int]:
        """Text without special tokens -> ids, one (cached) word at a time."""
        ids = []
        for key in self._flavour.split(text):
            ids.extend(self._encode_word(key))
        return ids

    def encode_batch(self, texts, allowed_special=()) -> list[list[int]]:
        return [self.encode(text, allowed_special) for text in texts]

    def tokenize(self, text: str, allowed_special=()) -> list[str]:
        """The subword pieces of ``text`` as vocabulary strings, e.g. ``['low', 'est</w>']``."""
        return [self._id_to_token[i] for i in self.encode(text, allowed_special)]

    def segment(self, text: str, allowed_special=()) -> str:
        """Show the segmentation in the lecture's notation: ``taaaaasty`` -> ``taa## aaa## sty``.

        ``##`` marks a piece that continues into the next piece (no space between).
        """
        return self._show(self.encode(text, allowed_special))

    def _show(self, ids) -> str:
        pieces = [self._id_to_token[i] if self._contents[i] is None else self._contents[i] for i in ids]
        return " ".join(text + "##" if continues else text for text, continues in self._flavour.segment(pieces))

    # -- decoding ----------------------------------------------------------

    def decode(self, ids) -> str:
        """Token ids -> text (see the module docstring for the word-level spacing rule)."""
        self._check_trained()
        pieces = []
        for token_id in ids:
            token_id = self._check_id(token_id)
            content = self._contents[token_id]
            pieces.append(self._id_to_token[token_id] if content is None else content)  # a special token
        return self._flavour.decode(pieces)
