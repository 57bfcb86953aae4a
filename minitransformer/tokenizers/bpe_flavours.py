"""The two flavours of BPE: what the base symbols are, and how tokens turn back into text.

The merge core (``bpe_merges.py``) only sees lists of integers. A flavour decides what
those integers stand for, through a token's *content*:

``WordLevel`` (Sennrich et al., the lecture): text is split into words
    (``pretokenize.split_words``); the symbols are the characters seen in training plus
    the end-of-word mark ``</w>``, put after each word that whitespace follows. A
    token's content is ``(text, ends_word)``: ``("est", True)`` is shown ``est</w>``.
    Characters never seen in training become ``[UNK]``.
``ByteLevel`` (GPT-2): text is split with a GPT-style regex (``pretokenize.split_chunks``)
    and UTF-8 encoded; the symbols are the 256 byte values, so nothing is unknown. A
    token's content is a ``bytes`` object, shown GPT-2 style with one visible
    character per byte (a space is ``Ġ``, a newline ``Ċ``).

Special tokens have no content (None): they are never built from symbols.

Both classes have the same methods: ``split`` (text -> the words, which are also the
keys of the encoding cache), ``base_alphabet``, ``initial_symbols`` (a word -> base
ids), ``join`` (the content of a merged token), ``display`` (content -> vocabulary
string), ``base_from_display`` (its inverse, for loading files), ``decode`` and
``segment`` (pieces -> text, and the lecture's ``##`` notation).
"""

from __future__ import annotations

from .pretokenize import check_pattern_name, split_chunks, split_words
from .special_tokens import UNK_TOKEN

END_OF_WORD = "</w>"


class WordLevel:
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


def byte_to_visible_char() -> list[str]:
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


class ByteLevel:
    """The 256 byte values (GPT-2); chunks come from a GPT-style regex."""

    name = "byte"
    visible_char = byte_to_visible_char()
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
