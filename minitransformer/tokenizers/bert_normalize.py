"""BERT's basic tokenization: clean and normalise raw text, then cut it into words.

Before WordPiece (``wordpiece.py``) sees anything, BERT turns text into words:

1. clean the text: drop NUL, U+FFFD and invisible control characters, turn every
   kind of whitespace into a plain space (``clean_text``);
2. put spaces around CJK ideographs, so each one becomes a word of its own: Chinese
   writes no spaces between words (``space_out_cjk``);
3. for uncased models, strip accents and lowercase (``strip_accents``, ``lowercase``):
   ``"Café"`` -> ``"cafe"``;
4. split on spaces, then cut every punctuation character out as a word of its own
   (``split_on_punctuation``): ``"hi!!"`` -> ``hi ! !``.

``words_of`` runs the four steps. We follow Hugging Face's Rust ``tokenizers`` (the
"fast" ``BertTokenizer``) where BERT implementations disagree:

* Lowercasing is done one character at a time, so a final Greek capital sigma
  becomes ``σ`` (Python's ``str.lower`` would give ``ς``).
* Removed "control" characters are all Unicode ``C*`` categories except unassigned
  code points (``Cn``), which stay and usually become ``[UNK]``.
* One CJK range starts at U+2B920 (Google's code starts it at U+2B820).

Character classes come from Python's ``unicodedata``, whose Unicode version follows
the Python version; the Rust tokenizer carries its own tables (older categories,
newer case mappings). Placing each of the 1,112,064 code points between two letters,
the two agree on all but 559 of them under Python 3.11 (Unicode 14), all rare
characters added or changed in recent Unicode versions.
"""

from __future__ import annotations

import unicodedata

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


def words_of(text: str, do_lower_case: bool) -> list[str]:
    """Steps 1-4 of the module docstring: raw text -> BERT's words."""
    text = space_out_cjk(clean_text(text))
    if do_lower_case:
        text = lowercase(strip_accents(text))
    words: list[str] = []
    for chunk in text.split(" "):  # runs of spaces give empty chunks, which add no words
        words.extend(split_on_punctuation(chunk))
    return words
