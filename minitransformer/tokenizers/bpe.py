"""Byte-pair encoding (BPE): build a subword vocabulary by merging frequent pairs.

A word-level vocabulary has no entry for a rare word like ``taaaaasty``; a
character vocabulary makes sequences very long. BPE sits in between (Sennrich et
al., 2016; CS224n lecture on pretraining). Start from single symbols and repeat::

    (a, b) = argmax over adjacent pairs of count(a, b)     # most frequent pair
    add the new token "ab"; replace every "a b" in the corpus by "ab"

until the vocabulary has ``vocab_size`` tokens. Frequent words end up as a single
token, rare words are split into known pieces: ``taaaaasty`` -> ``taa## aaa## sty``
(``##`` marks a piece that continues into the next one; see ``segment``).

One core, two flavours (``BPETokenizer(kind=...)``)
---------------------------------------------------
``kind="word"``  Sennrich et al. / the lecture. Text is split into words on
    whitespace and punctuation (``pretokenize.split_words``); symbols are the
    characters seen in training plus the end-of-word mark ``</w>``. Characters
    never seen in training become ``[UNK]``, so ``"[UNK]"`` must be one of the
    special tokens.
``kind="byte"``  GPT-2. Text is split with a GPT-style regex (``pattern="gpt2"``
    or ``"gpt4"``, see ``pretokenize``) and each chunk is UTF-8 encoded; symbols
    are the 256 byte values, so every string encodes and nothing is unknown.
    Tokens are shown GPT-2 style, one visible character per byte (a space is
    ``Ġ``, a newline ``Ċ``), so ``tokenize(" hi")`` gives ``["Ġhi"]``.

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
Training counts each distinct word once (with its frequency), counts all pairs
once, and after a merge updates only the words containing the merged pair
(``_MergeTrainer``), instead of recounting the whole corpus for every merge.
Encoding splits text into words and encodes each distinct word once: the pieces
of the last ``ENCODE_CACHE_SIZE`` distinct words are kept in an LRU cache. A word
is encoded like GPT-2 does: repeatedly merge the adjacent pair with the lowest
merge rank.

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

Saved files are versioned JSON, see ``save``.
"""

from __future__ import annotations

import functools
import heapq
import json
import operator
import os
import tempfile
import warnings
from collections import Counter

from .pretokenize import check_pattern_name, split_chunks, split_on_special_tokens, split_words

END_OF_WORD = "</w>"
UNK_TOKEN = "[UNK]"
DEFAULT_SPECIAL_TOKENS = {
    "word": ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
    "byte": ("<|endoftext|>",),
}
FILE_FORMAT = "minitransformer-bpe"
FILE_VERSION = 1
ENCODE_CACHE_SIZE = 1 << 16  # distinct words whose pieces are remembered


class TokenizerFileError(ValueError):
    """A tokenizer file is missing, corrupt, or of an unknown format/version."""


class UnknownTokenError(KeyError):
    """A token (or special-token name) that is not in the vocabulary."""

    def __str__(self):  # KeyError would show the message with quotes around it
        return str(self.args[0])


def t5_sentinel_tokens(count: int) -> list[str]:
    """T5's span-corruption sentinels ``<extra_id_0>``, ``<extra_id_1>``, ..."""
    return [f"<extra_id_{i}>" for i in range(count)]


# ---------------------------------------------------------------------------
# The core: merging pairs of symbol ids. Shared by training and encoding.


def merge_pair(symbols: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace each occurrence of ``pair`` in ``symbols`` by ``new_id``, left to right.

    Occurrences do not overlap: ``a a a`` with pair ``(a, a)`` becomes ``aa a``.
    """
    first, second = pair
    merged = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == first and symbols[i + 1] == second:
            merged.append(new_id)
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return merged


def apply_merges(symbols: list[int], merge_ids: dict[tuple[int, int], int]) -> list[int]:
    """Encode one word: keep merging the adjacent pair that was learned first (GPT-2).

    ``merge_ids`` maps a pair to the id of its merged token. Ids of merged tokens
    increase with merge order, so the smallest id is the earliest (lowest-rank)
    merge. This reproduces exactly the segmentation training produced.
    """
    while len(symbols) > 1:
        known_pairs = [pair for pair in zip(symbols, symbols[1:]) if pair in merge_ids]
        if not known_pairs:
            break
        earliest = min(known_pairs, key=merge_ids.__getitem__)
        symbols = merge_pair(symbols, earliest, merge_ids[earliest])
    return symbols


class _MergeTrainer:
    """Pair counts of a deduplicated corpus, kept up to date merge after merge.

    ``words[w]`` is the current symbol list of the w-th distinct word (in order of
    first appearance) and ``freqs[w]`` how often it occurs. Pairs are counted once
    up front; a merge then rewrites only the words that contain the merged pair
    (found through ``words_with``), so a merge costs time proportional to the
    words it touches, not to the corpus.

    The best pair comes from a heap ordered by ``(-count, first occurrence)``.
    Entries are never removed: when a pair's count changes a new entry is pushed,
    and entries whose count is out of date are skipped when popped ("lazy
    deletion"). A pair's first occurrence ``(word index, offset)`` can only move
    later when occurrences are merged away (merges never create new occurrences
    of old pairs: every new neighbour pair contains the new token), so a stored one is a lower bound that we check, and fix, when
    the pair reaches the top of the heap. The offset is counted in base symbols
    from the start of the word, which merges do not change.
    """

    def __init__(self, words: list[list[int]], freqs: list[int]):
        self.words = words
        self.freqs = freqs
        self.length: dict[int, int] = {}  # merged id -> number of base symbols; base = 1
        self.count: Counter = Counter()
        self.words_with: dict[tuple[int, int], set[int]] = {}
        self.first_seen: dict[tuple[int, int], tuple[int, int]] = {}
        self.forbidden: set[tuple[int, int]] = set()
        for w, symbols in enumerate(words):
            for offset, pair in self._pairs_with_offsets(symbols):
                self.count[pair] += freqs[w]
                self.words_with.setdefault(pair, set()).add(w)
                self.first_seen.setdefault(pair, (w, offset))
        self.heap = [(-n, *self.first_seen[pair], pair) for pair, n in self.count.items()]
        heapq.heapify(self.heap)

    def _pairs_with_offsets(self, symbols):
        offset = 0
        for pair in zip(symbols, symbols[1:]):
            yield offset, pair
            offset += self.length.get(pair[0], 1)

    def _first_occurrence(self, pair) -> tuple[int, int]:
        w = min(self.words_with[pair])
        return w, next(off for off, p in self._pairs_with_offsets(self.words[w]) if p == pair)

    def forbid(self, pair):
        """Never return ``pair`` again (its merged token would clash with a special token)."""
        self.forbidden.add(pair)

    def most_frequent_pair(self):
        """Return ``(pair, count)`` of the best pair, or None when no pair is left."""
        while self.heap:
            neg_count, w, offset, pair = heapq.heappop(self.heap)
            if pair in self.forbidden or self.count.get(pair) != -neg_count:
                continue  # stale entry: a newer one holds the current count
            first = self._first_occurrence(pair)
            if first != (w, offset):  # the stored first occurrence was merged away
                self.first_seen[pair] = first
                heapq.heappush(self.heap, (neg_count, *first, pair))
                continue
            return pair, -neg_count
        return None

    def merge(self, pair, new_id: int):
        """Replace ``pair`` by ``new_id`` in every word containing it; update the counts."""
        self.length[new_id] = self.length.get(pair[0], 1) + self.length.get(pair[1], 1)
        changed = set()
        for w in sorted(self.words_with[pair]):
            old = self.words[w]
            new = merge_pair(old, pair, new_id)
            self.words[w] = new
            old_pairs, new_pairs = Counter(zip(old, old[1:])), Counter(zip(new, new[1:]))
            for p in old_pairs.keys() | new_pairs.keys():
                delta = new_pairs[p] - old_pairs[p]
                if delta == 0:
                    continue
                changed.add(p)
                self.count[p] += delta * self.freqs[w]
                if new_pairs[p]:
                    self.words_with.setdefault(p, set()).add(w)
                else:
                    self.words_with[p].discard(w)
            for offset, p in self._pairs_with_offsets(new):
                if new_id in p:  # brand-new pair: words are visited in order
                    self.first_seen.setdefault(p, (w, offset))
        for p in changed:
            if self.count[p] > 0:
                heapq.heappush(self.heap, (-self.count[p], *self.first_seen[p], p))
            else:
                del self.count[p], self.words_with[p], self.first_seen[p]


# ---------------------------------------------------------------------------
# The two flavours: how text becomes base symbols, and how tokens become text.
# A token's "content" is a (text, ends_word) pair for word-level BPE and a bytes
# object for byte-level BPE; special tokens have no content (None).


class _WordLevel:
    """Characters plus an end-of-word mark (Sennrich et al.)."""

    name = "word"
    end_of_word_content = ("", True)

    def split(self, text):
        return split_words(text)  # (word, ends_word) pairs: the cache keys

    def check_special_tokens(self, special_tokens):
        if UNK_TOKEN not in special_tokens:
            raise ValueError(
                f"word-level BPE needs {UNK_TOKEN!r} among special_tokens to stand for "
                f"characters never seen in training; got {list(special_tokens)}; add {UNK_TOKEN!r}"
            )

    def base_alphabet(self, word_keys):
        characters = sorted({char for word, _ in word_keys for char in word})
        return [self.end_of_word_content] + [(char, False) for char in characters]

    def base_from_display(self, token: str):
        if token == END_OF_WORD:
            return self.end_of_word_content
        if len(token) != 1:
            raise ValueError(f"base token {token!r} is neither {END_OF_WORD!r} nor one character")
        return (token, False)

    def initial_symbols(self, key, base_ids, unk_id):
        word, ends_word = key
        symbols = [base_ids.get((char, False), unk_id) for char in word]
        if ends_word:
            symbols.append(base_ids[self.end_of_word_content])
        return symbols

    def join(self, left, right):
        # Only the last symbol of a word can carry the end-of-word mark.
        return (left[0] + right[0], right[1])

    def display(self, content):
        text, ends_word = content
        return text + END_OF_WORD if ends_word else text

    def decode(self, pieces):
        """Join pieces; ``</w>`` becomes a space, special tokens (not [UNK]) are words."""
        words, run = [], []

        def finish_run():
            text = "".join(run).strip(" ")
            if text:
                words.append(text)
            run.clear()

        for piece in pieces:
            if piece == UNK_TOKEN:
                run.append(UNK_TOKEN)
            elif isinstance(piece, str):
                finish_run()
                words.append(piece)
            else:
                text, ends_word = piece
                run.append(text + " " if ends_word else text)
        finish_run()
        return " ".join(words)

    def segment(self, pieces):
        """(text, continues) per piece: a piece continues unless it ends a word."""
        shown = []
        for piece in pieces:
            if piece == UNK_TOKEN:
                shown.append((UNK_TOKEN, True))
            elif isinstance(piece, str):
                if shown:
                    shown[-1] = (shown[-1][0], False)
                shown.append((piece, False))
            else:
                text, ends_word = piece
                if text:
                    shown.append((text, not ends_word))
                elif shown:  # a lone </w> ends the previous piece's word
                    shown[-1] = (shown[-1][0], False)
        if shown:
            shown[-1] = (shown[-1][0], False)
        return shown


def _byte_to_visible_char() -> list[str]:
    """GPT-2's trick: give each byte one visible character, so tokens print and save as text.

    Bytes that are visible Latin-1 characters stand for themselves; the others
    (control characters, space, ...) take the code points 256, 257, ... in order.
    """
    visible = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), 256)]
    table, shifted = [], 0
    for byte in range(256):
        if byte in visible:
            table.append(chr(byte))
        else:
            table.append(chr(256 + shifted))
            shifted += 1
    return table


class _ByteLevel:
    """The 256 byte values (GPT-2); chunks come from a GPT-style regex."""

    name = "byte"
    visible_char = _byte_to_visible_char()
    byte_of_char = {char: byte for byte, char in enumerate(visible_char)}

    def __init__(self, pattern: str):
        self.pattern = check_pattern_name(pattern)

    def split(self, text):
        return split_chunks(text, self.pattern)

    def check_special_tokens(self, special_tokens):
        pass  # nothing is unknown at the byte level

    def base_alphabet(self, word_keys):
        return [bytes([byte]) for byte in range(256)]

    def base_from_display(self, token: str):
        if len(token) != 1 or token not in self.byte_of_char:
            raise ValueError(f"base token {token!r} is not one of the 256 byte characters")
        return bytes([self.byte_of_char[token]])

    def initial_symbols(self, key, base_ids, unk_id):
        return [base_ids[bytes([byte])] for byte in key.encode("utf-8")]

    def join(self, left, right):
        return left + right

    def display(self, content):
        return "".join(self.visible_char[byte] for byte in content)

    def decode(self, pieces):
        """Join the bytes of all pieces and decode them as UTF-8."""
        data = b"".join(piece.encode("utf-8") if isinstance(piece, str) else piece for piece in pieces)
        return data.decode("utf-8", errors="replace")

    def segment(self, pieces):
        """(text, continues) per piece: a piece continues unless whitespace follows it."""
        is_special = [isinstance(p, str) for p in pieces]
        texts = [p if special else p.decode("utf-8", errors="replace") for p, special in zip(pieces, is_special)]
        shown = []
        for i, text in enumerate(texts):
            if not text.strip():
                continue  # a whitespace-only piece is shown as the gap between pieces
            glued_to_next = (
                i + 1 < len(texts)
                and not is_special[i]
                and not is_special[i + 1]
                and not text[-1].isspace()
                and not texts[i + 1][0].isspace()
            )
            shown.append((text.strip(), glued_to_next))
        return shown


# ---------------------------------------------------------------------------
# The tokenizer.


class BPETokenizer:
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
            self._flavour = _WordLevel()
        elif kind == "byte":
            self._flavour = _ByteLevel("gpt2" if pattern is None else pattern)
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
    def vocab_size(self) -> int:
        return len(self._id_to_token)

    @property
    def special_tokens(self) -> list[str]:
        return list(self._special_tokens)

    @property
    def merges(self) -> list[tuple[str, str]]:
        """The learned merges in order, as pairs of token strings."""
        return [(self._id_to_token[a], self._id_to_token[b]) for a, b in self._merges]

    def get_vocab(self) -> dict[str, int]:
        """A copy of the token -> id mapping, in id order."""
        return dict(self._token_to_id)

    def token_to_id(self, token: str) -> int:
        if token not in self._token_to_id:
            raise UnknownTokenError(f"token {token!r} is not in the vocabulary ({self.vocab_size} tokens)")
        return self._token_to_id[token]

    def id_to_token(self, token_id: int) -> str:
        return self._id_to_token[self._check_id(token_id)]

    def _check_id(self, token_id) -> int:
        try:
            token_id = operator.index(token_id)
        except TypeError:
            kind = type(token_id).__name__
            raise TypeError(f"token ids must be integers, got {token_id!r} of type {kind}") from None
        if not 0 <= token_id < self.vocab_size:
            raise ValueError(
                f"token id {token_id} is out of range: valid ids are 0..{self.vocab_size - 1} "
                f"(vocab_size={self.vocab_size})"
            )
        return token_id

    def _check_trained(self):
        if not self._trained:
            raise ValueError("this tokenizer has no vocabulary yet; call train(...) or BPETokenizer.load(path) first")

    def __repr__(self):
        return f"BPETokenizer(kind={self.kind!r}, vocab_size={self.vocab_size}, merges={len(self._merges)})"

    # -- training ----------------------------------------------------------

    def train(self, texts, vocab_size: int, min_frequency: int = 2, special_tokens=None):
        """Learn merges from ``texts`` (a string, or an iterable of strings) until ``vocab_size``.

        ``vocab_size`` counts everything: special tokens + base alphabet + merges.
        A pair is merged only if it occurs at least ``min_frequency`` times; if no
        pair does, training stops early with a warning and a smaller vocabulary.
        ``special_tokens`` defaults to ``DEFAULT_SPECIAL_TOKENS[kind]``.
        """
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
        trainer = _MergeTrainer(words, list(word_freqs.values()))
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
        if isinstance(special_tokens, str):
            raise TypeError(f"special_tokens must be a list of names, e.g. [{special_tokens!r}], not a string")
        special_tokens = list(special_tokens)
        for name in special_tokens:
            if not isinstance(name, str) or not name:
                raise TypeError(f"special token names must be non-empty strings, got {name!r}")
        duplicates = sorted({name for name in special_tokens if special_tokens.count(name) > 1})
        if duplicates:
            raise ValueError(f"special tokens {duplicates} are listed more than once")
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

    def _allowed_special_set(self, allowed_special) -> set[str]:
        if allowed_special == "all":
            return set(self._special_tokens)
        if isinstance(allowed_special, str):
            raise TypeError(
                f"allowed_special must be 'all' or a collection of names, e.g. {{{allowed_special!r}}}, "
                f"not the string {allowed_special!r}"
            )
        allowed = set(allowed_special or ())
        unknown = sorted(allowed - set(self._special_tokens))
        if unknown:
            raise UnknownTokenError(
                f"allowed_special names {unknown} are not special tokens of this tokenizer; "
                f"registered: {self._special_tokens}"
            )
        return allowed

    def encode(self, text: str, allowed_special=()) -> list[int]:
        """Text -> token ids. Special-token names in ``text`` become special ids only
        if listed in ``allowed_special`` (a set of names, or ``"all"``)."""
        self._check_trained()
        if not isinstance(text, str):
            raise TypeError(f"encode expects a string, got {type(text).__name__}")
        ids = []
        for piece, is_special in split_on_special_tokens(text, self._allowed_special_set(allowed_special)):
            if is_special:
                ids.append(self._token_to_id[piece])
            else:
                for key in self._flavour.split(piece):
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
        pieces = [self._special_tokens[i] if self._contents[i] is None else self._contents[i] for i in ids]
        return " ".join(text + "##" if continues else text for text, continues in self._flavour.segment(pieces))

    # -- decoding ----------------------------------------------------------

    def decode(self, ids) -> str:
        """Token ids -> text (see the module docstring for the word-level spacing rule)."""
        self._check_trained()
        pieces = []
        for token_id in ids:
            token_id = self._check_id(token_id)
            content = self._contents[token_id]
            pieces.append(self._special_tokens[token_id] if content is None else content)
        return self._flavour.decode(pieces)

    # -- saving and loading --------------------------------------------------

    def to_dict(self) -> dict:
        """The tokenizer as plain JSON-able data (what ``save`` writes; embedded in checkpoints)."""
        self._check_trained()
        settings = dict(self._settings)
        if self.kind == "byte":
            settings["pattern"] = self._flavour.pattern
        else:
            settings.update(end_of_word=END_OF_WORD, unk_token=UNK_TOKEN)
        return {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "kind": self.kind,
            "settings": settings,
            "special_tokens": self._special_tokens,
            "vocab": self._token_to_id,
            "merges": [f"{left} {right}" for left, right in self.merges],
        }

    def save(self, path) -> None:
        """Write the tokenizer as human-readable JSON, atomically (temp file + os.replace).

        Fields: ``format``/``version`` (checked by ``load``), ``kind``, ``settings``
        (split pattern, training settings), ``special_tokens`` (in id order),
        ``vocab`` (token -> id, in id order) and ``merges`` (``"left right"`` strings,
        in the order learned; tokens never contain a space, a byte-level space is ``Ġ``). The merges alone determine the vocabulary; ``load``
        rebuilds it from them and checks it against ``vocab``.
        """
        document = self.to_dict()
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp_path = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(document, f, ensure_ascii=False, indent=1)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp_path, path)
        except BaseException:
            if os.path.exists(tmp_path):
                os.remove(tmp_path)
            raise

    @classmethod
    def load(cls, path) -> "BPETokenizer":
        """Read a file written by ``save``; raise TokenizerFileError naming the file if it is bad."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                document = json.load(f)
        except FileNotFoundError:
            raise TokenizerFileError(f"{path}: no such tokenizer file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise TokenizerFileError(f"{path}: not valid JSON ({error}); the file is corrupt") from None
        try:
            return cls._from_document(document)
        except (TypeError, ValueError, KeyError) as error:
            raise TokenizerFileError(f"{path}: {error}") from None

    @classmethod
    def from_dict(cls, document) -> "BPETokenizer":
        """Rebuild a tokenizer from ``to_dict()`` data; TokenizerFileError if it is malformed."""
        try:
            return cls._from_document(document)
        except (TypeError, ValueError, KeyError) as error:
            raise TokenizerFileError(f"tokenizer data: {error}") from None

    @classmethod
    def _from_document(cls, document) -> "BPETokenizer":
        """Rebuild a tokenizer from a parsed file; ValueError/TypeError describe what is wrong."""
        if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
            raise ValueError(f"not a {FILE_FORMAT!r} file (its 'format' field is missing or different)")
        if document.get("version") != FILE_VERSION:
            raise ValueError(
                f"unknown {FILE_FORMAT} version {document.get('version')!r}; this code reads version {FILE_VERSION}"
            )
        fields = {"kind": str, "settings": dict, "special_tokens": list, "vocab": dict, "merges": list}
        for name, expected in fields.items():
            if not isinstance(document.get(name), expected):
                raise ValueError(f"field {name!r} is missing or not a JSON {expected.__name__}")
        settings, vocab, merge_strings = document["settings"], document["vocab"], document["merges"]

        tokenizer = cls(kind=document["kind"], pattern=settings.get("pattern"))
        special_tokens = tokenizer._check_special_tokens(document["special_tokens"])
        ids = list(vocab.values())
        if not all(type(i) is int for i in ids) or sorted(ids) != list(range(len(ids))):
            raise ValueError("vocab ids must be exactly the integers 0..len(vocab)-1")
        id_to_token = sorted(vocab, key=vocab.__getitem__)
        base_end = len(vocab) - len(merge_strings)  # first merged id
        if base_end < len(special_tokens) or id_to_token[: len(special_tokens)] != special_tokens:
            raise ValueError("vocab must start with the special tokens, in the order of 'special_tokens'")
        base_alphabet = []
        for token_id in range(len(special_tokens), base_end):
            try:
                base_alphabet.append(tokenizer._flavour.base_from_display(id_to_token[token_id]))
            except ValueError as error:
                raise ValueError(f"vocab id {token_id} should be a base token, but {error}") from None
        merges = []
        for rank, merge in enumerate(merge_strings):
            pair = merge.split(" ") if isinstance(merge, str) else None
            if not (pair and len(pair) == 2 and all(token in vocab for token in pair)):
                raise ValueError(f"merge #{rank} {merge!r} is not two vocab tokens separated by one space")
            left, right = vocab[pair[0]], vocab[pair[1]]
            if max(left, right) >= base_end + rank:
                raise ValueError(f"merge #{rank} {merge!r} uses a token that only a later merge makes")
            merges.append((left, right))
        tokenizer._set_vocabulary(special_tokens, base_alphabet, merges)
        if tokenizer._token_to_id != vocab:
            raise ValueError("'vocab' does not match the tokens that 'merges' build")
        tokenizer._settings = {key: settings.get(key) for key in ("requested_vocab_size", "min_frequency")}
        tokenizer._trained = True
        return tokenizer
