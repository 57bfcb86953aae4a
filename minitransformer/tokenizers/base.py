"""The contract every tokenizer keeps. Read this file first.

A model never sees text. A tokenizer cuts text into *tokens* taken from a fixed
vocabulary and gives each token an integer *id* in ``0 .. vocab_size - 1``; the
model's embedding table has one row per id, and its output layer one score per id.
Three tokenizers implement this class:

=======================  ==============================================  ================
``CharTokenizer``        one token per character                         ``char.py``
``BPETokenizer``         byte-pair encoding, word- or byte-level         ``bpe.py``
``WordPieceTokenizer``   BERT's tokenizer, to read pretrained BERTs      ``wordpiece.py``
=======================  ==============================================  ================

so code that only needs the contract works with any of them::

    ids = tokenizer.encode("hello world")        # list[int]
    text = tokenizer.decode(ids)                 # str
    tokenizer.vocab_size                          # every id is in 0 .. vocab_size - 1
    tokenizer.token_to_id("[PAD]")                # int; UnknownTokenError if not in the vocabulary
    tokenizer.id_to_token(0)                      # str; ValueError if out of range
    tokenizer.special_tokens                      # ["[PAD]", "[UNK]", ...], in id order
    tokenizer.special_token_ids                   # {"[PAD]": 0, "[UNK]": 1, ...}
    tokenizer.save("tok.json"); Kind.load("tok.json")          # a JSON file, written atomically
    Kind.from_dict(tokenizer.to_dict())                         # the same as plain data

(``Kind`` is the tokenizer's class.) ``to_dict`` is what checkpoints embed, so a trained
model carries the tokenizer it was trained with.

What ``decode(encode(text))`` gives back differs, and each tokenizer documents it:
``text`` itself for ``CharTokenizer`` (characters it knows) and byte-level BPE (any
string); the words of ``text`` joined by single spaces for word-level BPE; for
WordPiece the words BERT sees (lowercased, accents stripped, punctuation split off)
minus those it cannot spell.

Special tokens (``[PAD]``, ``[CLS]``, ``<|endoftext|>`` ...; see ``special_tokens.py``)
are ordinary vocabulary entries with a job: ``token_to_id`` and ``id_to_token`` work
for them as for any token.
"""

from __future__ import annotations

import abc
import json
import operator
import os

from ..files import atomic_open, check_input_file, parse_json
from .pretokenize import split_on_special_tokens


class TokenizerFileError(ValueError):
    """A tokenizer file (or ``to_dict`` data) is missing, corrupt, or of an unknown format/version."""


class UnknownTokenError(KeyError):
    """A token (or special-token name) that is not in the vocabulary."""

    def __str__(self):  # KeyError would show the message with quotes around it
        return str(self.args[0])


class Tokenizer(abc.ABC):
    """Text <-> token ids, a vocabulary with special tokens, and a JSON file format.

    A subclass implements ``encode``, ``decode``, ``to_dict`` and ``_from_dict``, sets
    ``FILE_FORMAT`` (the name written into its files), and keeps its vocabulary in
    three attributes that the methods here read:

    ``_id_to_token``    list, id -> token string
    ``_token_to_id``    dict, token string -> id (the inverse)
    ``_special_tokens`` list of the special-token names, in id order
    """

    FILE_FORMAT: str  # the "format" field of a saved file, e.g. "minitransformer-bpe"
    FILE_VERSION = 1  # bumped when the fields change; load refuses versions it does not know

    _id_to_token: list[str]
    _token_to_id: dict[str, int]
    _special_tokens: list[str]

    # -- text <-> ids ----------------------------------------------------------

    @abc.abstractmethod
    def encode(self, text: str) -> list[int]:
        """Text -> token ids. Tokenizers add options with defaults (``allowed_special``,
        BERT's ``text_pair``, ...), so ``encode(text)`` always works."""

    @abc.abstractmethod
    def decode(self, ids) -> str:
        """Token ids (any iterable of integers, a NumPy array too) -> text."""

    # -- the vocabulary ----------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        """The number of tokens; ids are ``0 .. vocab_size - 1``."""
        return len(self._id_to_token)

    def token_to_id(self, token: str) -> int:
        """The id of ``token``; raises ``UnknownTokenError`` (a KeyError) if it has none."""
        if token not in self._token_to_id:
            raise UnknownTokenError(f"token {token!r} is not in the vocabulary ({self.vocab_size} tokens)")
        return self._token_to_id[token]

    def id_to_token(self, token_id: int) -> str:
        """The token with id ``token_id``; ValueError out of range, TypeError for a non-integer."""
        return self._id_to_token[self._check_id(token_id)]

    def get_vocab(self) -> dict[str, int]:
        """A copy of the token -> id mapping, in id order."""
        return dict(self._token_to_id)

    @property
    def special_tokens(self) -> list[str]:
        """The names of the special tokens, in id order."""
        return list(self._special_tokens)

    @property
    def special_token_ids(self) -> dict[str, int]:
        """Special-token name -> id, in id order: ``{"[PAD]": 0, "[UNK]": 1, ...}``."""
        return {name: self._token_to_id[name] for name in self._special_tokens}

    def _encode_around_specials(self, text: str, allowed_special, encode_ordinary) -> list[int]:
        """Allowed special-token names in ``text`` become their ids; ``encode_ordinary``
        encodes the text between them. Other names stay plain text, as in tiktoken."""
        if not isinstance(text, str):
            raise TypeError(f"encode expects a string, got {type(text).__name__}")
        ids = []
        for piece, is_special in split_on_special_tokens(text, self._allowed_special_set(allowed_special)):
            if is_special:
                ids.append(self._token_to_id[piece])
            else:
                ids.extend(encode_ordinary(piece))
        return ids

    def _allowed_special_set(self, allowed_special) -> set[str]:
        """The special tokens ``encode`` may emit: ``"all"``, or a collection of their names."""
        if allowed_special == "all":
            return set(self.special_tokens)
        if isinstance(allowed_special, str):
            raise TypeError(
                f"allowed_special must be 'all' or a collection of names, e.g. {{{allowed_special!r}}}, "
                f"not the string {allowed_special!r}"
            )
        allowed = set(allowed_special or ())
        unknown = sorted(allowed - set(self.special_tokens))
        if unknown:
            raise UnknownTokenError(
                f"allowed_special names {unknown} are not special tokens of this tokenizer; "
                f"registered: {self.special_tokens}"
            )
        return allowed

    def _check_id(self, token_id) -> int:
        """``token_id`` as a Python int, or the error a learner can act on."""
        try:
            index = operator.index(token_id)  # int, np.int64, ... but not 1.0 or "1"
        except TypeError:
            index = None
        if index is None or isinstance(token_id, bool):  # True is an int to Python, not an id
            raise TypeError(
                f"token id {token_id!r} is not an integer ({type(token_id).__name__}); "
                f"token ids must be integers in [0, {self.vocab_size})"
            )
        if not 0 <= index < self.vocab_size:
            raise ValueError(
                f"token id {index} is outside the vocabulary [0, {self.vocab_size}) "
                "(out of range); were these ids made with another tokenizer?"
            )
        return index

    # -- files -------------------------------------------------------------------

    @abc.abstractmethod
    def to_dict(self) -> dict:
        """The tokenizer as JSON-able data, starting with ``format`` and ``version``."""

    @classmethod
    @abc.abstractmethod
    def _from_dict(cls, document: dict) -> "Tokenizer":
        """Rebuild from ``to_dict`` data whose format and version are already checked.

        Raise ValueError, TypeError or KeyError saying what is wrong; the caller adds
        where the data came from.
        """

    @classmethod
    def from_dict(cls, document: dict) -> "Tokenizer":
        """Rebuild a tokenizer from ``to_dict()`` data; TokenizerFileError if it is malformed."""
        return cls._rebuild(document, source="tokenizer data")

    def save(self, path) -> None:
        """Write ``to_dict()`` as indented UTF-8 JSON, atomically (see ``files.py``)."""
        document = self.to_dict()
        with atomic_open(path, text=True) as file:
            json.dump(document, file, ensure_ascii=False, indent=1)
            file.write("\n")

    @classmethod
    def load(cls, path) -> "Tokenizer":
        """Read a file written by ``save``; TokenizerFileError naming the file if it is bad."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise TokenizerFileError(f"{path}: no such tokenizer file")
        with open(check_input_file(path, "tokenizer file", TokenizerFileError), "rb") as file:
            data = file.read()
        document = parse_json(data, TokenizerFileError, f"{path}: not valid JSON, the file is corrupt")
        return cls._rebuild(document, source=path)

    @classmethod
    def _rebuild(cls, document, source: str) -> "Tokenizer":
        """Check the format and version, rebuild, and name ``source`` in any error."""
        try:
            found = document.get("format") if isinstance(document, dict) else None
            if found != cls.FILE_FORMAT:
                raise ValueError(f"not a {cls.FILE_FORMAT!r} file (its 'format' field is {found!r})")
            if document.get("version") != cls.FILE_VERSION:
                raise ValueError(
                    f"unknown {cls.FILE_FORMAT} version {document.get('version')!r}; "
                    f"this code reads version {cls.FILE_VERSION}"
                )
            return cls._from_dict(document)
        except (TypeError, ValueError, KeyError, RecursionError) as error:
            raise TokenizerFileError(f"{source}: {error}") from None
