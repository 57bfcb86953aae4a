r"""OpenAI's GPT-2 pre-tokenization, exactly, with the standard library's ``re``.

GPT-2 cuts text into chunks with this pattern (written for the third-party ``regex`` module)::

    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+

``pretokenize.py``'s ``"gpt2"`` pattern builds ``\p{L}`` and ``\p{N}`` from what ``re`` has
(``[^\W\d_]`` and ``\d``), which is right for every character except ~1100 numbers that are not
decimal digits (``'²'``, ``'½'``, ``'Ⅷ'``) and four ASCII separators.  That is fine for merges we
learn ourselves, but reading GPT-2's own merges needs GPT-2's own chunks, or a text with ``'²'``
gets other ids than GPT-2 gives it.  So here the three classes are spelled out as lists of
code-point ranges, read from Python's Unicode database:

==================  =================================================================
``\p{L}``           the letter categories Lu Ll Lt Lm Lo
``\p{N}``           the number categories Nd Nl No
``\s``              Unicode's White_Space: tab..carriage return, U+0085, and Zs Zl Zp
==================  =================================================================

Scanning the 1.1 million code points takes a fifth of a second, so the pattern is built on first
use (``pretokenize.split_chunks(text, "gpt2-exact")``), not on import.  Python's Unicode database
(14.0 for Python 3.11) may be older than the one Hugging Face's tokenizers uses; only characters
assigned in between could be classified differently.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

LETTER_CATEGORIES = ("Lu", "Ll", "Lt", "Lm", "Lo")
NUMBER_CATEGORIES = ("Nd", "Nl", "No")
# White_Space, beyond the space separators: tab, line feed, vertical tab, form feed, carriage
# return, next line (U+0085); and the categories Zs (space separators), Zl, Zp (line/paragraph).
WHITE_SPACE_CONTROLS = "\t\n\x0b\x0c\r\x85"
WHITE_SPACE_CATEGORIES = ("Zs", "Zl", "Zp")


def _ranges(code_points: list[int]) -> str:
    """Sorted code points -> the inside of a regex character class, as escaped ranges."""
    parts, start = [], None
    for i, point in enumerate(code_points):
        if start is None:
            start = point
        if i + 1 == len(code_points) or code_points[i + 1] != point + 1:
            parts.append(f"\\U{start:08x}" if start == point else f"\\U{start:08x}-\\U{point:08x}")
            start = None
    return "".join(parts)


@functools.lru_cache(maxsize=1)
def unicode_classes() -> dict[str, str]:
    """The insides of the classes \\p{L}, \\p{N} and \\s, as code-point ranges (computed once)."""
    letters, numbers, spaces = [], [], []
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        category = unicodedata.category(char)
        if category in LETTER_CATEGORIES:
            letters.append(point)
        elif category in NUMBER_CATEGORIES:
            numbers.append(point)
        elif category in WHITE_SPACE_CATEGORIES or char in WHITE_SPACE_CONTROLS:
            spaces.append(point)
    return {"L": _ranges(letters), "N": _ranges(numbers), "s": _ranges(spaces)}


def gpt2_exact_pattern() -> re.Pattern:
    """GPT-2's split pattern, compiled, with the classes of `unicode_classes`."""
    c = unicode_classes()
    letters, numbers, space = f"[{c['L']}]", f"[{c['N']}]", f"[{c['s']}]"
    other = f"[^{c['s']}{c['L']}{c['N']}]"  # [^\s\p{L}\p{N}]
    not_space = f"[^{c['s']}]"  # \S
    return re.compile(
        r"'(?:[sdmt]|ll|ve|re)"  # the contractions, lowercase only (as GPT-2)
        rf"| ?{letters}+| ?{numbers}+| ?{other}+"
        rf"|{space}+(?!{not_space})|{space}+"
    )
