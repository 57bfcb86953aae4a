"""WordPiece: the subword tokenizer BERT reads text with, greedy longest match first.

A transformer only sees integer ids, so text has to be cut into pieces that
come from a fixed vocabulary. BERT does it in two stages:

1. **Basic tokenization** turns raw text into *words*: clean it, split off CJK
   ideographs and punctuation, lowercase and strip accents for uncased models
   (``bert_normalize.py``).

2. **WordPiece** cuts each word into vocabulary pieces, greedily taking the
   longest piece that matches from the left (``WordPieceTokenizer.wordpiece``).
   Pieces that continue a word carry the prefix ``##``, so ``"unwanted"`` becomes
   ``un ##want ##ed``. A word that cannot be cut this way (or is longer than 100
   characters) becomes the single token ``[UNK]``.

Unlike BPE there are no merges to replay: the vocabulary alone decides, and the
greedy search does not look for the segmentation with the fewest pieces, only the
longest first piece, then the longest next piece, and so on.

For the model the tokens are then wrapped as ``[CLS] A [SEP]`` or
``[CLS] A [SEP] B [SEP]``, with segment ids, truncation and padding
(``wordpiece_encoding.py``).

We mirror Hugging Face's Rust ``tokenizers`` (the "fast" ``BertTokenizer`` that
ships as ``tokenizer.json`` with BERT checkpoints on the HF Hub) and check it
against golden ids in ``tests/data/wordpiece_golden.json``. Where Google's original
``tokenization.py`` or HF's "slow" Python tokenizer differ, we follow the fast one
(the list is in ``bert_normalize.py``). One difference lives here: special tokens
written verbatim in the text (``"[CLS]"``, ``"[MASK]"`` ...) are kept whole, even
in the middle of a word (``"a[MASK]b"`` -> ``a [MASK] b``); pass ``never_split=()``
to treat them as plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .base import Tokenizer
from .bert_normalize import (
    clean_text,
    is_cjk,
    is_control,
    is_punctuation,
    is_whitespace,
    lowercase,
    space_out_cjk,
    split_on_punctuation,
    strip_accents,
    words_of,
)
from .pretokenize import split_on_special_tokens
from .special_tokens import BERT_SPECIAL_TOKENS, CLS_TOKEN, MASK_TOKEN, PAD_TOKEN, SEP_TOKEN, UNK_TOKEN
from .wordpiece_encoding import BatchEncoding, BertEncodingMixin, Encoding, truncate_longest_first

__all__ = [  # what other modules import from here; the text functions used to live here too
    "WordPieceTokenizer", "Encoding", "BatchEncoding", "truncate_longest_first", "SPECIAL_TOKENS",
    "CONTINUATION_PREFIX", "MAX_INPUT_CHARS_PER_WORD", "UNK_TOKEN", "CLS_TOKEN", "SEP_TOKEN", "PAD_TOKEN",
    "MASK_TOKEN", "clean_text", "is_cjk", "is_control", "is_punctuation", "is_whitespace", "lowercase",
    "space_out_cjk", "split_on_punctuation", "strip_accents",
]

SPECIAL_TOKENS = BERT_SPECIAL_TOKENS  # the old name of BERT's five special tokens
CONTINUATION_PREFIX = "##"
MAX_INPUT_CHARS_PER_WORD = 100


class WordPieceTokenizer(BertEncodingMixin, Tokenizer):
    """BERT's tokenizer: basic tokenization, then greedy longest-match WordPiece.

    ``vocab`` lists the tokens in id order (line i of ``vocab.txt`` is id i); after
    construction ``self.vocab`` is the dict token -> id, as in Hugging Face. The
    special tokens are BERT's five; the vocabulary must contain all of them.
    ``never_split`` are strings kept whole wherever they appear in the text;
    by default the five special tokens. ``encode`` and ``encode_batch`` (with
    Hugging Face's arguments) come from ``wordpiece_encoding.BertEncodingMixin``.
    """

    FILE_FORMAT = "minitransformer-wordpiece"

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
        self._id_to_token: list[str] = list(vocab)
        self._token_to_id: dict[str, int] = _index_vocab(self._id_to_token)
        self._special_tokens = sorted(BERT_SPECIAL_TOKENS, key=self._token_to_id.__getitem__)
        self.do_lower_case = do_lower_case
        self.max_input_chars_per_word = max_input_chars_per_word
        self.never_split = tuple(BERT_SPECIAL_TOKENS if never_split is None else never_split)
        for token in self.never_split:
            if token not in self._token_to_id:
                raise ValueError(
                    f"never_split token {token!r} is not in the vocabulary; "
                    "add it to the vocab or drop it from never_split"
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
    def vocab(self) -> dict[str, int]:
        """token -> id, Hugging Face's name for it (the tokenizer's own dict: do not modify it)."""
        return self._token_to_id

    @property
    def unk_token_id(self) -> int:
        return self._token_to_id[UNK_TOKEN]

    @property
    def cls_token_id(self) -> int:
        return self._token_to_id[CLS_TOKEN]

    @property
    def sep_token_id(self) -> int:
        return self._token_to_id[SEP_TOKEN]

    @property
    def pad_token_id(self) -> int:
        return self._token_to_id[PAD_TOKEN]

    @property
    def mask_token_id(self) -> int:
        return self._token_to_id[MASK_TOKEN]

    @property
    def all_special_ids(self) -> list[int]:
        """Ids of the five special tokens (e.g. so masked-LM never masks them)."""
        return sorted(self.special_token_ids.values())

    def convert_tokens_to_ids(self, tokens: Iterable[str]) -> list[int]:
        """Look tokens up; tokens not in the vocabulary map to ``[UNK]``."""
        if isinstance(tokens, str):
            raise TypeError(
                f"convert_tokens_to_ids expects a list of tokens, got the string {tokens!r}; "
                "wrap it in a list or call tokenize() first"
            )
        return [self._token_to_id.get(token, self.unk_token_id) for token in tokens]

    def convert_ids_to_tokens(self, ids: Iterable[int]) -> list[str]:
        return [self.id_to_token(token_id) for token_id in ids]

    # ----------------------------------------------------------- tokenizing

    def basic_tokenize(self, text: str) -> list[str]:
        """Text -> words (stage 1), keeping ``never_split`` tokens whole."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}: {text!r}")
        words: list[str] = []
        for segment, kept_whole in split_on_special_tokens(text, self.never_split):
            words.extend([segment] if kept_whole else words_of(segment, self.do_lower_case))
        return words

    def wordpiece(self, word: str) -> list[str]:
        """One word -> vocabulary pieces (stage 2), greedy longest match from the left.

        ``"unwanted"``: the longest vocabulary entry that starts the word is ``un``;
        the longest ``##`` entry that continues after it is ``##want``, then ``##ed``.
        """
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

    def _longest_piece_at(self, word: str, start: int) -> str | None:
        prefix = CONTINUATION_PREFIX if start > 0 else ""
        for end in range(len(word), start, -1):  # longest candidate first
            candidate = prefix + word[start:end]
            if candidate in self._token_to_id:
                return candidate
        return None

    def tokenize(self, text: str) -> list[str]:
        """Text -> WordPiece tokens (no ``[CLS]``/``[SEP]``)."""
        tokens: list[str] = []
        for word in self.basic_tokenize(text):
            tokens.extend([word] if word in self.never_split else self.wordpiece(word))
        return tokens

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
            tokens = [t for t in tokens if t not in BERT_SPECIAL_TOKENS]
        text = ""
        for position, token in enumerate(tokens):
            if position == 0:
                text = token
            elif token.startswith(CONTINUATION_PREFIX):
                text += token[len(CONTINUATION_PREFIX):]
            else:
                text += " " + token
        return text

    # ---------------------------------------------------------------- files

    def to_dict(self) -> dict:
        return {
            "format": self.FILE_FORMAT,
            "version": self.FILE_VERSION,
            "do_lower_case": self.do_lower_case,
            "never_split": list(self.never_split),
            "max_input_chars_per_word": self.max_input_chars_per_word,
            "vocab": list(self._id_to_token),
        }

    @classmethod
    def _from_dict(cls, document: dict) -> "WordPieceTokenizer":
        fields = {"do_lower_case": bool, "never_split": list, "max_input_chars_per_word": int, "vocab": list}
        for name, expected in fields.items():
            if not isinstance(document.get(name), expected):
                raise ValueError(f"field {name!r} is missing or not a JSON {expected.__name__}")
        return cls(document["vocab"], document["do_lower_case"], document["never_split"],
                   document["max_input_chars_per_word"])

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
    missing = [token for token in BERT_SPECIAL_TOKENS if token not in token_to_id]
    if missing:
        raise ValueError(
            f"the vocabulary lacks the special token(s) {missing}; BERT needs all of "
            f"{list(BERT_SPECIAL_TOKENS)} - add the missing ones as lines of the vocab"
        )
    return token_to_id
