"""The special tokens: tokens with a job to do rather than text to spell, named in one place.

A special token is one vocabulary entry that the tokenizer never produces from ordinary
text (unless asked to) and that training never merges into anything. Each one tells the
model something about the sequence:

==================  ========================================================================
``[PAD]``           fills a row of a batch up to the common length; attention ignores it
``[UNK]``           stands for what the vocabulary cannot spell (word-level BPE, WordPiece)
``[CLS]``           BERT's first token; its output vector sums up the input (classification)
``[SEP]``           BERT's end of a segment: ``[CLS] A [SEP] B [SEP]``
``[MASK]``          BERT's masked-LM: a hidden token the model has to predict
``<|endoftext|>``   GPT-2's boundary between two documents
``</s>``            T5's end of a target sequence
``<extra_id_i>``    T5's sentinels: ``<extra_id_0>`` replaces the first dropped span, ...
==================  ========================================================================
"""

from __future__ import annotations

PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"
CLS_TOKEN = "[CLS]"
SEP_TOKEN = "[SEP]"
MASK_TOKEN = "[MASK]"
EOT_TOKEN = "<|endoftext|>"
EOS_TOKEN = "</s>"

# BERT's five, in the order BERT's vocabularies list them ([PAD] is id 0 in bert-base-uncased).
BERT_SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN)

# What BPETokenizer.train uses when given no special tokens, per kind of BPE.
DEFAULT_SPECIAL_TOKENS = {"word": BERT_SPECIAL_TOKENS, "byte": (EOT_TOKEN,)}

# One tokenizer for GPT, BERT and T5 pretraining needs all of these (add t5_sentinel_tokens(n)).
PRETRAINING_SPECIAL_TOKENS = (*BERT_SPECIAL_TOKENS, EOT_TOKEN, EOS_TOKEN)


def t5_sentinel_tokens(count: int) -> list[str]:
    """T5's span-corruption sentinels ``<extra_id_0>``, ``<extra_id_1>``, ..."""
    return [f"<extra_id_{i}>" for i in range(count)]


def check_special_tokens(names) -> list[str]:
    """``names`` as a list, after checking they are distinct non-empty strings."""
    if isinstance(names, str):
        raise TypeError(f"special_tokens must be a list of names, e.g. [{names!r}], not a string")
    names = list(names)
    for name in names:
        if not isinstance(name, str) or not name:
            raise TypeError(f"special token names must be non-empty strings, got {name!r}")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"special tokens {duplicates} are listed more than once")
    return names
