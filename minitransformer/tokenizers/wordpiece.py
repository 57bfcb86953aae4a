"""WordPiece: the subword tokenizer BERT reads text with.

A transformer only sees integer ids, so text has to be cut into pieces that
come from a fixed vocabulary. BERT does it in two stages:

1. **Basic tokenization** turns raw text into *words*:
   clean the text (drop NUL, U+FFFD and invisible control characters, turn
   every kind of whitespace into a plain space), put spaces around CJK
   ideographs (each one becomes its own word), split on whitespace, lowercase
   and strip accents (uncased models only), then cut every punctuation
   character out as a word of its own.

2. **WordPiece** cuts each word into vocabulary pieces, greedily taking the
   longest piece that matches from the left. Pieces that continue a word carry
   the prefix ``##``, so ``"unwanted"`` becomes ``un ##want ##ed``. A word
   that cannot be cut this way (or is longer than 100 characters) becomes the
   single token ``[UNK]``.

For the model the tokens are then wrapped as ``[CLS] A [SEP]`` or
``[CLS] A [SEP] B [SEP]``, with segment ids (``token_type_ids``) 0 for the
first part and 1 for the second, and padded with ``[PAD]`` (attention mask 0).

Reference and the places where BERT implementations disagree
------------------------------------------------------------
We mirror Hugging Face's Rust ``tokenizers`` (the "fast" ``BertTokenizer``
that ships as ``tokenizer.json`` with BERT checkpoints on the HF Hub) and check it
against golden ids in ``tests/data/wordpiece_golden.json``. Google's original
``tokenization.py`` and the "slow" Python ``BertTokenizer`` differ from it in
a few corners, and we follow the fast tokenizer each time:

* Lowercasing is done one character at a time, so a final Greek capital
  sigma becomes ``σ`` (Python's ``str.lower`` would give ``ς``).
* Special tokens written verbatim in the text (``"[CLS]"``, ``"[MASK]"`` ...)
  are kept whole, even in the middle of a word (``"a[MASK]b"`` ->
  ``a [MASK] b``). Pass ``never_split=()`` to treat them as plain text.
* Removed "control" characters are all Unicode ``C*`` categories except
  unassigned code points (``Cn``), which stay and usually become ``[UNK]``.
* One CJK range starts at U+2B920 (Google's code starts it at U+2B820).
* Truncation of a pair ("longest first") shares the budget like the fast
  tokenizer; see :func:`truncate_longest_first`.

Character classes come from Python's ``unicodedata``, whose Unicode version
follows the Python version; the Rust tokenizer carries its own tables (older
categories, newer case mappings). Placing each of the 1,112,064 code points
between two letters, the two agree on all but 559 of them under Python 3.11
(Unicode 14), all rare characters added or changed in recent Unicode versions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

UNK_TOKEN = "[UNK]"
CLS_TOKEN = "[CLS]"
SEP_TOKEN = "[SEP]"
PAD_TOKEN = "[PAD]"
MASK_TOKEN = "[MASK]"
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN)

CONTINUATION_PREFIX = "##"
MAX_INPUT_CHARS_PER_WORD = 100

# Code point ranges BERT treats as CJK ideographs (each becomes its own word).
# Korean Hangul and Japanese kana are *not* in here, as in BERT.
CJK_RANGES = (
    (0x4E00, 0x9FFF),    # CJK Unified Ideographs
    (0x3400, 0x4DBF),    # Extension A
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2B73F),  # Extension C
    (0x2B740, 0x2B81F),  # Extension D
    (0x2B920, 0x2CEAF),  # Extension E (from 0x2B920 as in HF tokenizers)
    (0xF900, 0xFAFF),    # Compatibility Ideographs
    (0x2F800, 0x2FA1F),  # Compatibility Ideographs Supplement
)

# ASCII symbols like "$", "^", "`" are not Unicode punctuation (they are
# symbols, category S*), but BERT splits them off all the same.
ASCII_PUNCTUATION_RANGES = ((33, 47), (58, 64), (91, 96), (123, 126))


# --------------------------------------------------------------------------
# Character classes
# --------------------------------------------------------------------------

def is_whitespace(char: str) -> bool:
    """Space, tab, newline, carriage return, and Unicode space/separators."""
    return char in " \t\n\r" or unicodedata.category(char) in ("Zs", "Zl", "Zp")


def is_control(char: str) -> bool:
    """Invisible characters that carry no text and are dropped.

    Tab, newline and carriage return are technically controls but count as
    whitespace. Unassigned code points (``Cn``) are kept, as HF does.
    """
    if char in "\t\n\r":
        return False
    category = unicodedata.category(char)
    return category.startswith("C") and category != "Cn"


def is_punctuation(char: str) -> bool:
    """Unicode punctuation (categories P*) plus all ASCII symbols."""
    code = ord(char)
    if any(low <= code <= high for low, high in ASCII_PUNCTUATION_RANGES):
        return True
    return unicodedata.category(char).startswith("P")


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in CJK_RANGES)


# --------------------------------------------------------------------------
# Basic tokenization steps (text -> words)
# --------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """Drop NUL, U+FFFD (a decoding error marker) and controls; map whitespace to ' '."""
    kept = []
    for char in text:
        if char in ("\x00", "\ufffd") or is_control(char):
            continue
        kept.append(" " if is_whitespace(char) else char)
    return "".join(kept)


def space_out_cjk(text: str) -> str:
    """Surround every CJK ideograph with spaces: Chinese has no spaces between words."""
    return "".join(f" {char} " if is_cjk(char) else char for char in text)


def strip_accents(text: str) -> str:
    """Split letters from their accents (NFD), then drop the accents (category Mn).

    "é" -> "e" + U+0301 -> "e". Uncased BERT vocabularies contain no accents.
    """
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


def lowercase(text: str) -> str:
    """Lowercase one character at a time (no context rules such as Greek final sigma)."""
    return "".join(char.lower() for char in text)


def split_on_punctuation(word: str) -> list[str]:
    """Cut each punctuation character out as its own word: "hi!!" -> ["hi", "!", "!"]."""
    pieces: list[str] = []
    current = ""
    for char in word:
        if is_punctuation(char):
            if current:
                pieces.append(current)
                current = ""
            pieces.append(char)
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


# --------------------------------------------------------------------------
# Putting encodings together
# --------------------------------------------------------------------------

def truncate_longest_first(
    first: list[str], second: list[str], budget: int
) -> tuple[list[str], list[str]]:
    """Cut a pair down to ``budget`` tokens, trimming the end of the longer part first.

    If trimming the longer part alone is not enough, the budget is split in
    two: the part that was shorter (the first part on a tie) keeps
    ``budget // 2`` tokens and the other keeps the rest. This is what HF's
    Rust tokenizer does; HF's Python tokenizer can give the odd token of an
    odd budget to the other part.
    """
    if len(first) + len(second) <= budget:
        return first, second
    if len(first) <= len(second):
        keep_first = min(len(first), budget // 2)
        keep_second = budget - keep_first
    else:
        keep_second = min(len(second), budget // 2)
        keep_first = budget - keep_second
    return first[:keep_first], second[:keep_second]


@dataclass(frozen=True)
class Encoding:
    """One encoded text or text pair, as plain Python lists of equal length.

    ``token_type_ids`` (segment ids) are 0 for ``[CLS] A [SEP]`` and 1 for
    ``B [SEP]``; ``attention_mask`` is 1 for real tokens and 0 for padding.
    """

    tokens: list[str]
    input_ids: list[int]
    token_type_ids: list[int]
    attention_mask: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)


@dataclass(frozen=True)
class BatchEncoding:
    """A padded batch: three int64 arrays of shape (batch, sequence_length)."""

    input_ids: np.ndarray
    token_type_ids: np.ndarray
    attention_mask: np.ndarray


_PADDING_CHOICES = {False: None, "do_not_pad": None, True: "longest",
                    "longest": "longest", "max_length": "max_length"}


def _padding_mode(padding) -> str | None:
    """Map HF-style padding arguments to None, "longest" or "max_length"."""
    if isinstance(padding, (bool, str)) and padding in _PADDING_CHOICES:
        return _PADDING_CHOICES[padding]
    raise ValueError(
        f"padding={padding!r} is not understood; use False, True/'longest' or 'max_length'"
    )


# --------------------------------------------------------------------------
# The tokenizer
# --------------------------------------------------------------------------

class WordPieceTokenizer:
    """BERT's tokenizer: basic tokenization, then greedy longest-match WordPiece.

    ``vocab`` lists the tokens in id order (line i of ``vocab.txt`` is id i).
    ``never_split`` are strings kept whole wherever they appear in the text;
    by default the five special tokens.
    """

    def __init__(
        self,
        vocab: Sequence[str],
        do_lower_case: bool = True,
        never_split: Iterable[str] | None = None,
        max_input_chars_per_word: int = MAX_INPUT_CHARS_PER_WORD,
    ):
        if isinstance(vocab, str) or not isinstance(vocab, Sequence):
            raise TypeError(
                f"vocab must be a list of token strings in id order, got {type(vocab).__name__}; "
                "to read a vocab.txt use WordPieceTokenizer.from_vocab_file(path)"
            )
        self.id_to_token: list[str] = list(vocab)
        self.token_to_id: dict[str, int] = _index_vocab(self.id_to_token)
        self.do_lower_case = do_lower_case
        self.max_input_chars_per_word = max_input_chars_per_word

        self.never_split = tuple(SPECIAL_TOKENS if never_split is None else never_split)
        for token in self.never_split:
            if token not in self.token_to_id:
                raise ValueError(
                    f"never_split token {token!r} is not in the vocabulary; "
                    "add it to the vocab or drop it from never_split"
                )
        # Longest first, so "[MASK]" wins over a shorter token that is its prefix.
        by_length = sorted(self.never_split, key=len, reverse=True)
        self._never_split_pattern = (
            re.compile("(" + "|".join(re.escape(t) for t in by_length) + ")") if by_length else None
        )

    @classmethod
    def from_vocab_file(cls, path, do_lower_case: bool = True, **kwargs) -> "WordPieceTokenizer":
        """Read a BERT ``vocab.txt``: one token per line, UTF-8, line number - 1 = id."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"vocab file {str(path)!r} does not exist; pass the path of a BERT vocab.txt "
                "(one token per line)"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(
                f"vocab file {str(path)!r} is not valid UTF-8 ({error}); re-save it as UTF-8"
            ) from error
        tokens = text.split("\n")
        if tokens and tokens[-1] == "":  # the newline that ends the last line
            tokens.pop()
        tokens = [token.rstrip("\r") for token in tokens]  # tolerate Windows line ends
        try:
            return cls(tokens, do_lower_case=do_lower_case, **kwargs)
        except ValueError as error:
            raise ValueError(f"vocab file {str(path)!r} (line = id + 1): {error}") from error

    # ---------------------------------------------------------------- vocab

    @property
    def vocab_size(self) -> int:
        return len(self.id_to_token)

    @property
    def unk_token_id(self) -> int:
        return self.token_to_id[UNK_TOKEN]

    @property
    def cls_token_id(self) -> int:
        return self.token_to_id[CLS_TOKEN]

    @property
    def sep_token_id(self) -> int:
        return self.token_to_id[SEP_TOKEN]

    @property
    def pad_token_id(self) -> int:
        return self.token_to_id[PAD_TOKEN]

    @property
    def mask_token_id(self) -> int:
        return self.token_to_id[MASK_TOKEN]

    @property
    def all_special_ids(self) -> list[int]:
        """Ids of the five special tokens (e.g. so masked-LM never masks them)."""
        return sorted(self.token_to_id[token] for token in SPECIAL_TOKENS)

    def convert_tokens_to_ids(self, tokens: Iterable[str]) -> list[int]:
        """Look tokens up; tokens not in the vocabulary map to ``[UNK]``."""
        if isinstance(tokens, str):
            raise TypeError(
                f"convert_tokens_to_ids expects a list of tokens, got the string {tokens!r}; "
                "wrap it in a list or call tokenize() first"
            )
        return [self.token_to_id.get(token, self.unk_token_id) for token in tokens]

    def convert_ids_to_tokens(self, ids: Iterable[int]) -> list[str]:
        tokens = []
        for token_id in ids:
            if isinstance(token_id, (bool, np.bool_)) or not isinstance(token_id, (int, np.integer)):
                raise TypeError(
                    f"token id {token_id!r} is not an integer; pass ints in [0, {self.vocab_size})"
                )
            if not 0 <= token_id < self.vocab_size:
                raise ValueError(
                    f"token id {int(token_id)} is outside the vocabulary [0, {self.vocab_size}); "
                    "were these ids made with a different vocab?"
                )
            tokens.append(self.id_to_token[token_id])
        return tokens

    # ----------------------------------------------------------- tokenizing

    def basic_tokenize(self, text: str) -> list[str]:
        """Text -> words (stage 1), keeping ``never_split`` tokens whole."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}: {text!r}")
        words: list[str] = []
        for segment in self._split_off_never_split(text):
            if segment in self.never_split:
                words.append(segment)
            else:
                words.extend(self._words_of_plain_text(segment))
        return words

    def wordpiece(self, word: str) -> list[str]:
        """One word -> vocabulary pieces (stage 2), greedy longest match from the left."""
        if len(word) > self.max_input_chars_per_word:
            return [UNK_TOKEN]
        pieces: list[str] = []
        start = 0
        while start < len(word):
            piece = self._longest_piece_at(word, start)
            if piece is None:
                return [UNK_TOKEN]  # one unmatchable character spoils the whole word
            pieces.append(piece)
            start += len(piece) - (len(CONTINUATION_PREFIX) if start > 0 else 0)
        return pieces

    def tokenize(self, text: str) -> list[str]:
        """Text -> WordPiece tokens (no ``[CLS]``/``[SEP]``)."""
        tokens: list[str] = []
        for word in self.basic_tokenize(text):
            tokens.extend([word] if word in self.never_split else self.wordpiece(word))
        return tokens

    def _split_off_never_split(self, text: str) -> list[str]:
        if self._never_split_pattern is None:
            return [text]
        return [segment for segment in self._never_split_pattern.split(text) if segment]

    def _words_of_plain_text(self, text: str) -> list[str]:
        text = space_out_cjk(clean_text(text))
        if self.do_lower_case:
            text = lowercase(strip_accents(text))
        words: list[str] = []
        for chunk in text.split(" "):
            words.extend(split_on_punctuation(chunk))
        return words

    def _longest_piece_at(self, word: str, start: int) -> str | None:
        prefix = CONTINUATION_PREFIX if start > 0 else ""
        for end in range(len(word), start, -1):
            candidate = prefix + word[start:end]
            if candidate in self.token_to_id:
                return candidate
        return None

    # ------------------------------------------------------------- encoding

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        """[CLS] A [SEP] adds 2 tokens; [CLS] A [SEP] B [SEP] adds 3."""
        return 3 if pair else 2

    def encode(
        self,
        text: str,
        text_pair: str | None = None,
        add_special_tokens: bool = True,
        max_length: int | None = None,
        truncation: bool = False,
        padding=False,
    ) -> Encoding:
        """Encode one text (or a pair) into ids, segment ids and attention mask.

        If the result would be longer than ``max_length`` this raises unless
        ``truncation=True`` (then pairs are cut "longest first"). ``padding``
        is False, True/"longest" (a no-op for one sequence) or "max_length".
        """
        first = self.tokenize(text)
        second = None if text_pair is None else self.tokenize(text_pair)
        if max_length is not None or truncation:
            first, second = self._fit(first, second, add_special_tokens, max_length, truncation)
        encoding = self._assemble(first, second, add_special_tokens)
        if _padding_mode(padding) == "max_length":
            if max_length is None:
                raise ValueError("padding='max_length' needs max_length=<int>")
            encoding = self._pad(encoding, max_length)
        return encoding

    def encode_batch(
        self,
        texts: Sequence[str],
        text_pairs: Sequence[str] | None = None,
        add_special_tokens: bool = True,
        max_length: int | None = None,
        truncation: bool = False,
        padding="longest",
    ) -> BatchEncoding:
        """Encode many texts and pad them into int64 arrays of shape (batch, length).

        ``padding="longest"`` pads to the longest encoding in the batch,
        ``"max_length"`` to ``max_length``.
        """
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(
                f"texts must be a list of strings, got {type(texts).__name__}; "
                "for a single text use encode() or wrap it in a list"
            )
        if len(texts) == 0:
            raise ValueError("texts is empty; pass at least one text")
        if text_pairs is not None and (isinstance(text_pairs, str) or len(text_pairs) != len(texts)):
            raise ValueError(
                f"text_pairs must be a list with one entry per text ({len(texts)}), "
                f"got {text_pairs!r:.80}"
            )
        mode = _padding_mode(padding)
        if mode is None:
            raise ValueError(
                "encode_batch returns rectangular arrays, so it must pad: use padding='longest' "
                "or 'max_length', or call encode() on each text for ragged lists"
            )
        if mode == "max_length" and max_length is None:
            raise ValueError("padding='max_length' needs max_length=<int>")

        pairs = [None] * len(texts) if text_pairs is None else list(text_pairs)
        encodings = [
            self.encode(text, pair, add_special_tokens, max_length, truncation)
            for text, pair in zip(texts, pairs)
        ]
        width = max_length if mode == "max_length" else max(len(e) for e in encodings)
        padded = [self._pad(encoding, width) for encoding in encodings]
        return BatchEncoding(
            input_ids=np.array([e.input_ids for e in padded], dtype=np.int64),
            token_type_ids=np.array([e.token_type_ids for e in padded], dtype=np.int64),
            attention_mask=np.array([e.attention_mask for e in padded], dtype=np.int64),
        )

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Ids -> text: words joined by spaces, ``##`` pieces glued onto the previous one.

        With ``skip_special_tokens`` all five special tokens are dropped,
        ``[UNK]`` included (as HF does). The text is the *normalized* text:
        lowercased, accents stripped, a space around every punctuation mark.
        """
        if isinstance(ids, np.ndarray) and ids.ndim != 1:
            raise ValueError(
                f"decode expects a 1-D sequence of ids, got shape {ids.shape}; decode row by row"
            )
        tokens = self.convert_ids_to_tokens(ids)
        if skip_special_tokens:
            tokens = [t for t in tokens if t not in SPECIAL_TOKENS]
        text = ""
        for position, token in enumerate(tokens):
            if position == 0:
                text = token
            elif token.startswith(CONTINUATION_PREFIX):
                text += token[len(CONTINUATION_PREFIX):]
            else:
                text += " " + token
        return text

    def _fit(self, first, second, add_special_tokens, max_length, truncation):
        """Make the pieces fit ``max_length`` (with room for specials) or explain why they can't."""
        if max_length is None:
            raise ValueError("truncation=True needs max_length=<int> to know where to cut")
        if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)):
            raise TypeError(f"max_length must be an int, got {max_length!r}")
        n_special = self.num_special_tokens_to_add(second is not None) if add_special_tokens else 0
        budget = max_length - n_special
        if budget < 0:
            raise ValueError(
                f"max_length={max_length} leaves no room for the {n_special} special tokens; "
                f"use max_length >= {n_special}"
            )
        total = len(first) + (len(second) if second is not None else 0)
        if total <= budget:
            return first, second
        if not truncation:
            raise ValueError(
                f"the text encodes to {total + n_special} tokens (including {n_special} special "
                f"tokens) but max_length={max_length}; pass truncation=True to cut it, "
                "or raise max_length"
            )
        if second is None:
            return first[:budget], None
        return truncate_longest_first(first, second, budget)

    def _assemble(self, first, second, add_special_tokens) -> Encoding:
        """[CLS] A [SEP] (segment 0) then B [SEP] (segment 1)."""
        if add_special_tokens:
            tokens = [CLS_TOKEN, *first, SEP_TOKEN]
        else:
            tokens = list(first)
        token_type_ids = [0] * len(tokens)
        if second is not None:
            part_b = [*second, SEP_TOKEN] if add_special_tokens else list(second)
            tokens += part_b
            token_type_ids += [1] * len(part_b)
        return Encoding(
            tokens=tokens,
            input_ids=self.convert_tokens_to_ids(tokens),
            token_type_ids=token_type_ids,
            attention_mask=[1] * len(tokens),
        )

    def _pad(self, encoding: Encoding, length: int) -> Encoding:
        """Right-pad with [PAD] (segment 0, attention 0) up to ``length``."""
        missing = length - len(encoding)
        if missing <= 0:
            return encoding
        return Encoding(
            tokens=encoding.tokens + [PAD_TOKEN] * missing,
            input_ids=encoding.input_ids + [self.pad_token_id] * missing,
            token_type_ids=encoding.token_type_ids + [0] * missing,
            attention_mask=encoding.attention_mask + [0] * missing,
        )

    def __repr__(self) -> str:
        return (
            f"WordPieceTokenizer(vocab_size={self.vocab_size}, "
            f"do_lower_case={self.do_lower_case})"
        )


def _index_vocab(tokens: list[str]) -> dict[str, int]:
    """token -> id, refusing empty or duplicate tokens and a missing special token."""
    token_to_id: dict[str, int] = {}
    for token_id, token in enumerate(tokens):
        if not isinstance(token, str) or token == "":
            raise ValueError(
                f"token at id {token_id} is {token!r}; every vocabulary entry must be a non-empty "
                "string (remove blank lines from the vocab)"
            )
        if token in token_to_id:
            raise ValueError(
                f"token {token!r} appears twice, at ids {token_to_id[token]} and {token_id}; "
                "a vocabulary must list each token once"
            )
        token_to_id[token] = token_id
    missing = [token for token in SPECIAL_TOKENS if token not in token_to_id]
    if missing:
        raise ValueError(
            f"the vocabulary lacks the special token(s) {missing}; BERT needs all of "
            f"{list(SPECIAL_TOKENS)} - add the missing ones as lines of the vocab"
        )
    return token_to_id
