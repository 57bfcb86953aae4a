"""Hugging Face-style encoding for BERT: special tokens, segment ids, truncation, padding.

WordPiece gives a list of tokens per text. A BERT model wants more:

* the tokens framed as ``[CLS] A [SEP]``, or ``[CLS] A [SEP] B [SEP]`` for a pair
  (next-sentence prediction, entailment, question + passage);
* ``token_type_ids`` (segment ids): 0 for ``[CLS] A [SEP]``, 1 for ``B [SEP]``;
* at most ``max_length`` tokens: longer inputs are refused, or cut with
  ``truncation=True`` (a pair "longest first", see ``truncate_longest_first``);
* for a batch, rows of one length: shorter rows are padded with ``[PAD]``, and
  ``attention_mask`` is 1 for real tokens and 0 for padding.

``BertEncodingMixin`` adds ``encode`` and ``encode_batch`` with Hugging Face's
arguments to ``WordPieceTokenizer`` (``wordpiece.py``). Truncating a pair follows
HF's Rust tokenizer, where its Python tokenizer differs by a token on odd budgets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .special_tokens import CLS_TOKEN, PAD_TOKEN, SEP_TOKEN


class Encoding(list):
    """One encoded text or text pair: the list of token ids, carrying three lists beside it.

    ``Tokenizer.encode`` returns a list of ids for every tokenizer, and an Encoding is
    that list (``decode(encoding)`` works, ``encoding == [101, ...]`` compares the ids).
    BERT also needs, one entry per id, as in Hugging Face's ``Encoding``:

    ``tokens``          the token strings: ``[CLS]``, ``un``, ``##want``, ...
    ``token_type_ids``  segment ids: 0 for ``[CLS] A [SEP]``, 1 for ``B [SEP]``
    ``attention_mask``  1 for real tokens, 0 for padding
    """

    def __init__(self, tokens: list[str], input_ids: list[int], token_type_ids: list[int],
                 attention_mask: list[int]):
        super().__init__(input_ids)
        self.tokens = list(tokens)
        self.token_type_ids = list(token_type_ids)
        self.attention_mask = list(attention_mask)

    @property
    def input_ids(self) -> list[int]:
        """The ids as a plain list (a copy), under Hugging Face's name."""
        return list(self)

    def __repr__(self) -> str:
        return (f"Encoding(tokens={self.tokens!r}, input_ids={list(self)!r}, "
                f"token_type_ids={self.token_type_ids!r}, attention_mask={self.attention_mask!r})")


@dataclass(frozen=True)
class BatchEncoding:
    """A padded batch: three int64 arrays of shape (batch, sequence_length)."""

    input_ids: np.ndarray
    token_type_ids: np.ndarray
    attention_mask: np.ndarray


_PADDING_CHOICES = {False: None, "do_not_pad": None, True: "longest",
                    "longest": "longest", "max_length": "max_length"}


def padding_mode(padding) -> str | None:
    """Map HF-style padding arguments to None, "longest" or "max_length"."""
    if isinstance(padding, (bool, str)) and padding in _PADDING_CHOICES:
        return _PADDING_CHOICES[padding]
    raise ValueError(
        f"padding={padding!r} is not understood; use False, True/'longest' or 'max_length'"
    )


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


class BertEncodingMixin:
    """``encode`` and ``encode_batch`` for a WordPiece tokenizer, with Hugging Face's arguments.

    The tokenizer provides ``tokenize(text)``, ``convert_tokens_to_ids(tokens)`` and
    ``pad_token_id``.
    """

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
        if padding_mode(padding) == "max_length":
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
        mode = padding_mode(padding)
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
