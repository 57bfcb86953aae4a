"""How a BPE tokenizer is saved: versioned JSON, rebuilt from its merges and checked on load.

``save`` and ``load`` (``base.Tokenizer``) write and read the document below; checkpoints
embed the same document (``to_dict``), so files written by older versions of this
code must keep loading. The fields:

=====================  ===================================================================
``format``/``version``  ``"minitransformer-bpe"`` and ``1``, checked by ``load``
``kind``                ``"word"`` or ``"byte"``
``settings``            the split ``pattern`` (byte) or ``end_of_word``/``unk_token`` (word),
                        and the training settings ``requested_vocab_size``, ``min_frequency``
``special_tokens``      the names, in id order (they have the first ids)
``vocab``               token -> id, in id order
``merges``              ``"left right"`` strings in the order learned (tokens never contain a
                        space: a byte-level space is ``Ġ``)
=====================  ===================================================================

The merges alone determine the vocabulary: ``load`` rebuilds it from them and refuses a
file whose ``vocab`` disagrees, so a hand-edited or damaged file is caught, not half-used.
"""

from __future__ import annotations

from .base import Tokenizer
from .bpe_flavours import END_OF_WORD
from .special_tokens import UNK_TOKEN

FILE_FORMAT = "minitransformer-bpe"
FILE_VERSION = 1


class BPEFileFormat(Tokenizer):
    """The file half of ``BPETokenizer`` (``bpe.py``): ``to_dict`` and its inverse."""

    FILE_FORMAT = FILE_FORMAT
    FILE_VERSION = FILE_VERSION

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

    @classmethod
    def _from_dict(cls, document: dict):
        """Rebuild a tokenizer from a document; ValueError/TypeError say what is wrong."""
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

        # Ids: special tokens, then the base alphabet, then one per merge (see bpe.py).
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
