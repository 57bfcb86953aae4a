"""Tokenizers: turn text into integer ids and back.

Start with ``base.py``: the contract every tokenizer keeps (``encode``, ``decode``,
``vocab_size``, ``token_to_id``, special tokens, ``save``/``load``). Then:

=========================  ==============================================================
``special_tokens.py``      the names [PAD] [UNK] [CLS] [SEP] [MASK] <|endoftext|> </s> ...
``char.py``                ``CharTokenizer``: one token per character
``pretokenize.py``         the regexes that cut text into words before BPE
``bpe.py``                 ``BPETokenizer``, word-level (Sennrich et al.) and byte-level (GPT-2)
``bpe_merges.py``          merging a pair, and the plain training algorithm (the reference)
``bpe_trainer.py``         the fast trainer, which learns the same merges incrementally
``bpe_flavours.py``        what word-level and byte-level BPE build tokens from
``bpe_file.py``            the BPE file format
``gpt2_regex.py``          GPT-2's exact split pattern, with Unicode's classes spelled out
``gpt2_files.py``          ``GPT2Tokenizer``: byte-level BPE with GPT-2's files and ids
``hf_tokenizer_json.py``   Hugging Face's tokenizer.json, read and written
``bert_normalize.py``      BERT's text clean-up: control characters, accents, CJK, punctuation
``wordpiece.py``           ``WordPieceTokenizer``: BERT's greedy longest-match-first tokenizer
``wordpiece_encoding.py``  [CLS] A [SEP] B [SEP], segment ids, truncation and padding
=========================  ==============================================================
"""

from .base import Tokenizer, TokenizerFileError, UnknownTokenError
from .bpe import END_OF_WORD, BPETokenizer
from .char import CharTokenizer
from .gpt2_files import GPT2Tokenizer
from .special_tokens import (
    BERT_SPECIAL_TOKENS,
    CLS_TOKEN,
    DEFAULT_SPECIAL_TOKENS,
    EOS_TOKEN,
    EOT_TOKEN,
    MASK_TOKEN,
    PAD_TOKEN,
    PRETRAINING_SPECIAL_TOKENS,
    SEP_TOKEN,
    UNK_TOKEN,
    t5_sentinel_tokens,
)
from .wordpiece import WordPieceTokenizer
from .wordpiece_encoding import BatchEncoding, Encoding

__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "BPETokenizer",
    "GPT2Tokenizer",
    "WordPieceTokenizer",
    "Encoding",
    "BatchEncoding",
    "TokenizerFileError",
    "UnknownTokenError",
    "END_OF_WORD",
    "DEFAULT_SPECIAL_TOKENS",
    "BERT_SPECIAL_TOKENS",
    "PRETRAINING_SPECIAL_TOKENS",
    "PAD_TOKEN",
    "UNK_TOKEN",
    "CLS_TOKEN",
    "SEP_TOKEN",
    "MASK_TOKEN",
    "EOT_TOKEN",
    "EOS_TOKEN",
    "t5_sentinel_tokens",
]
