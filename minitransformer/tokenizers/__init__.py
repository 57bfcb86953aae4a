"""Tokenizers: turn text into integer ids and back.

``BPETokenizer`` implements byte-pair encoding in two flavours, word-level
(Sennrich et al., 2016) and byte-level (GPT-2); see ``bpe.py``.
``pretokenize.py`` holds the regexes that cut text into words first.
``WordPieceTokenizer`` is BERT's tokenizer, for loading real pretrained BERTs; see ``wordpiece.py``.
"""

from .bpe import (
    DEFAULT_SPECIAL_TOKENS,
    END_OF_WORD,
    UNK_TOKEN,
    BPETokenizer,
    TokenizerFileError,
    UnknownTokenError,
    t5_sentinel_tokens,
)
from .wordpiece import BatchEncoding, Encoding, WordPieceTokenizer

__all__ = [
    "WordPieceTokenizer",
    "Encoding",
    "BatchEncoding",
    "BPETokenizer",
    "DEFAULT_SPECIAL_TOKENS",
    "END_OF_WORD",
    "TokenizerFileError",
    "UNK_TOKEN",
    "UnknownTokenError",
    "t5_sentinel_tokens",
]
