"""The character tokenizer: one token per character, the simplest tokenizer there is.

Every character of the vocabulary is a token, so ``encode`` is a dictionary lookup per
character and ``decode(encode(text)) == text`` exactly. The price is length: a text is
as many tokens as it has characters, several times more than with BPE, and the model
must learn spelling before words. That is fine for small experiments (nanoGPT's
Shakespeare, lesson 9's rules), where the vocabulary is a few dozen characters.

Ids: the special tokens first, in the order given, then the characters in the order
given. A character outside the vocabulary is refused (``UnknownTokenError``), not
guessed. Special-token names in the text are characters like any others unless
``encode`` is told to allow them, as in ``BPETokenizer``.
"""

from __future__ import annotations

from collections.abc import Iterable

from .base import Tokenizer, UnknownTokenError
from .special_tokens import check_special_tokens


class CharTokenizer(Tokenizer):
    """One id per character (plus optional special tokens, which get the first ids).

    >>> tok = CharTokenizer("abc>;")
    >>> tok.encode("ab>b;")
    [0, 1, 3, 1, 4]
    >>> tok.decode([2, 3, 2])
    'c>c'
    """

    FILE_FORMAT = "minitransformer-char"

    def __init__(self, characters: Iterable[str], special_tokens: Iterable[str] = ()):
        characters, special_tokens = list(characters), check_special_tokens(special_tokens)
        for char in characters:
            if not isinstance(char, str) or len(char) != 1:
                raise ValueError(f"characters must be single characters, got {char!r}")
        self._special_tokens = special_tokens
        self._id_to_token = special_tokens + characters
        self._token_to_id: dict[str, int] = {}
        for i, token in enumerate(self._id_to_token):
            if token in self._token_to_id:
                raise ValueError(f"{token!r} is listed twice (ids {self._token_to_id[token]} and {i})")
            self._token_to_id[token] = i

    @classmethod
    def from_text(cls, text: str, special_tokens: Iterable[str] = ()) -> "CharTokenizer":
        """The characters of ``text``, sorted by code point: the whole of "training"."""
        return cls(sorted(set(text)), special_tokens)

    # -- the vocabulary -----------------------------------------------------------

    @property
    def characters(self) -> str:
        """The characters of the vocabulary, in id order (after the special tokens)."""
        return "".join(self._id_to_token[len(self._special_tokens):])

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, special_tokens={self._special_tokens})"

    # -- text <-> ids ---------------------------------------------------------------

    def encode(self, text: str, allowed_special=()) -> list[int]:
        """Text -> one id per character. Special-token names in ``text`` become one id
        each only if listed in ``allowed_special`` (a collection of names, or ``"all"``)."""
        return self._encode_around_specials(text, allowed_special, self._encode_characters)

    def _encode_characters(self, text: str) -> list[int]:
        unknown = sorted(set(text) - self._token_to_id.keys())
        if unknown:
            raise UnknownTokenError(f"characters {unknown} are not in the vocabulary {self.characters!r}")
        return [self._token_to_id[char] for char in text]

    def decode(self, ids) -> str:
        """Ids -> text: the characters (and special-token names) joined with nothing between."""
        return "".join(self._id_to_token[self._check_id(token_id)] for token_id in ids)

    # -- files ------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "format": self.FILE_FORMAT,
            "version": self.FILE_VERSION,
            "special_tokens": self.special_tokens,
            "characters": self.characters,
        }

    @classmethod
    def _from_dict(cls, document: dict) -> "CharTokenizer":
        for name, expected in (("special_tokens", list), ("characters", str)):
            if not isinstance(document.get(name), expected):
                raise ValueError(f"field {name!r} is missing or not a JSON {expected.__name__}")
        return cls(document["characters"], document["special_tokens"])
