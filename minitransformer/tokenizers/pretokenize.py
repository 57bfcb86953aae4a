r"""Pre-tokenization: cut text into words *before* BPE sees it.

BPE never merges across the boundaries drawn here, so a pre-split decides what a
token can possibly be. Three splitters live in this module:

1. ``split_on_special_tokens`` cuts out registered special tokens such as
   ``<|endoftext|>`` so that they are emitted whole and never fed to merges.

2. ``split_words`` is the word-level split of Sennrich et al. (2016) and the CS224n
   lecture: a word is a run of letters/digits/underscore (``\w+``) and every other
   non-space character (punctuation) is a word of its own. Each word also records
   whether whitespace (or the end of the text) follows it; the BPE tokenizer puts
   its end-of-word mark ``</w>`` only on those words, which is what lets
   ``"hello, world"`` decode back with the comma glued to ``hello``.

3. ``split_chunks`` is the GPT-2 style split used by byte-level BPE: contractions,
   optional-space + letters, optional-space + digits, optional-space + other
   symbols, and whitespace runs become separate chunks, so merges stay inside
   words (``" dog"`` can become one token, ``"dog."`` cannot).

Python's ``re`` has no Unicode property classes such as ``\p{L}`` (letter) or
``\p{N}`` (number), which the original GPT-2/GPT-4 patterns use. We build them from
the classes ``re`` does have (``\w`` = ``str.isalnum()`` or ``_``, ``\d`` = decimal
digit, ``\s`` = ``str.isspace()``):

=======================  =====================  ===================================
original                 stdlib equivalent      meaning
=======================  =====================  ===================================
``\p{L}``                ``[^\W\d_]``           word char, not digit, not ``_``
``\p{N}``                ``\d``                 decimal digit
``[^\s\p{L}\p{N}]``      ``(?:[^\s\w]|_)``      anything else that is not space
=======================  =====================  ===================================

Checked character by character against the third-party ``regex`` module, there
are two differences: the ~1100 numeric characters that are not decimal digits
(``'²'``, ``'½'``, ``'Ⅷ'``; Unicode categories No/Nl) count as letters here instead
of numbers, and the four ASCII separators ``\x1c``-``\x1f`` count as whitespace
(as ``str.isspace`` says). Every other character is classified the same, and on
plain English text both patterns give identical chunks. We train our own merges,
so these small differences do not break anything; they only matter if you want
to reuse OpenAI's merge tables byte for byte: for that, ``"gpt2-exact"`` is GPT-2's
pattern exactly (``gpt2_regex.py``).

The GPT-4 pattern's possessive quantifiers (``?+``, ``++``) are dropped: they
cannot change a match of these particular patterns, and Python 3.10's ``re``
does not support them.
"""

from __future__ import annotations

import functools
import re

from .gpt2_regex import gpt2_exact_pattern

# ---------------------------------------------------------------------------
# Word-level split (Sennrich et al.): words and single punctuation characters.

# Group 1 is the word; group 2 swallows the whitespace after it (may be empty).
_WORD_RE = re.compile(r"(\w+|[^\w\s])(\s*)")


def split_words(text: str) -> list[tuple[str, bool]]:
    """Split ``text`` into ``(word, ends_word)`` pairs.

    ``ends_word`` is True when the word is followed by whitespace or by the end of
    the text: that is where the end-of-word mark goes. ``"hello, world"`` gives
    ``[("hello", False), (",", True), ("world", True)]``.
    """
    matches = _WORD_RE.findall(text)
    last = len(matches) - 1
    # The last match is always followed by whitespace or the end: any other
    # character would itself have started another match.
    return [(word, bool(space) or i == last) for i, (word, space) in enumerate(matches)]


# ---------------------------------------------------------------------------
# Byte-level split (GPT-2 / GPT-4 style), written with the stdlib ``re`` only.

_LETTERS = r"[^\W\d_]"  # \p{L}, see module docstring
_DIGITS = r"\d"  # \p{N}
_OTHER = r"(?:[^\s\w]|_)"  # [^\s\p{L}\p{N}]
_OTHER_NOT_NEWLINE = r"(?:[^\r\n\w]|_)"  # [^\r\n\p{L}\p{N}]

GPT2_PATTERN = (
    r"'(?:[sdmt]|ll|ve|re)"  # English contractions: 's 't 're 've 'm 'll 'd
    rf"| ?{_LETTERS}+"  # a word with its leading space: " hello"
    rf"| ?{_DIGITS}+"  # a number with its leading space
    rf"| ?{_OTHER}+"  # punctuation run with its leading space
    r"|\s+(?!\S)"  # whitespace, leaving the last space for the next word
    r"|\s+"  # trailing whitespace
)

GPT4_PATTERN = (
    r"'(?i:[sdmt]|ll|ve|re)"  # contractions, any case
    rf"|{_OTHER_NOT_NEWLINE}?{_LETTERS}+"  # a word with one leading non-letter
    rf"|{_DIGITS}{{1,3}}"  # numbers in groups of at most three digits
    rf"| ?{_OTHER}+[\r\n]*"  # punctuation run (+ newlines)
    r"|\s*[\r\n]"  # newlines with the spaces before them
    r"|\s+(?!\S)"
    r"|\s+"
)

PATTERNS = {"gpt2": GPT2_PATTERN, "gpt4": GPT4_PATTERN}
_COMPILED = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}
# OpenAI's GPT-2 split without the differences above, to reuse GPT-2's own merges (gpt2_regex.py);
# compiled on first use, since its classes come from a scan of the Unicode database.
EXACT_PATTERNS = {"gpt2-exact": gpt2_exact_pattern}


def check_pattern_name(name: str) -> str:
    """Return ``name`` if it names a known split pattern, else raise ValueError."""
    if name not in PATTERNS and name not in EXACT_PATTERNS:
        raise ValueError(f"unknown split pattern {name!r}; choose one of {sorted([*PATTERNS, *EXACT_PATTERNS])}")
    return name


def split_chunks(text: str, pattern: str = "gpt2") -> list[str]:
    """Split ``text`` into GPT-style chunks; ``"".join(chunks) == text`` always holds."""
    check_pattern_name(pattern)
    if pattern not in _COMPILED:
        _COMPILED[pattern] = EXACT_PATTERNS[pattern]()
    return _COMPILED[pattern].findall(text)


# ---------------------------------------------------------------------------
# Special tokens are cut out first, longest name first, so that "<|endoftext|>"
# wins over a hypothetical "<|end" and text around them is pre-split normally.


@functools.lru_cache(maxsize=64)
def _special_token_regex(names: frozenset) -> re.Pattern:
    longest_first = sorted(names, key=lambda name: (-len(name), name))
    # One capturing group, so re.split alternates: text, special, text, ...
    return re.compile("(" + "|".join(re.escape(name) for name in longest_first) + ")")


def split_on_special_tokens(text: str, special_tokens) -> list[tuple[str, bool]]:
    """Split ``text`` into ``(piece, is_special)`` pairs around exact special-token names.

    Empty pieces are dropped. ``special_tokens`` is any collection of names.
    """
    if not special_tokens:
        return [(text, False)] if text else []
    pieces = _special_token_regex(frozenset(special_tokens)).split(text)
    return [(piece, i % 2 == 1) for i, piece in enumerate(pieces) if piece]
