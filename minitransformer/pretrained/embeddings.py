"""Sentence embeddings from a BERT: mean pooling over the real tokens, then L2 normalization.

This is how sentence-transformers turns all-MiniLM-L6-v2's hidden states into one vector per
sentence, so that similar sentences get a large dot product (their cosine similarity).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..checks import check_positive_int, is_integer
from ..models.bert import BERT
from ..tensor import no_grad
from ..tokenizers.wordpiece import WordPieceTokenizer


EMBED_MAX_LENGTH = 256  # all-MiniLM-L6-v2's max_seq_length (sentence_bert_config.json)


def mean_pool(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Each sequence's average hidden state over its real tokens:  sum_t m_t h_t / sum_t m_t."""
    mask = np.asarray(attention_mask, dtype=hidden.dtype)[:, :, None]
    return (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """x / ||x||_2 along the last axis, so a dot product of two rows is their cosine similarity."""
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), eps)


def embed(model: BERT, tokenizer: WordPieceTokenizer, sentences: Sequence[str], batch_size: int = 32,
          max_length: int | None = None) -> np.ndarray:
    """Sentence embeddings (N, d) float32, as sentence-transformers makes them for all-MiniLM-L6-v2.

    Each sentence is cut to max_length tokens (default: 256, that model's setting, or the model's
    context if shorter), run through BERT, its hidden states averaged over the real tokens (mean
    pooling), and the average scaled to unit length.  Similar sentences then get a large dot
    product.  Dropout is off while embedding.
    Batches are formed longest sentence first (as sentence-transformers does), so short sentences
    are not padded to the length of a long one; the result keeps the input order.
    """
    if isinstance(sentences, str) or not isinstance(sentences, Sequence):
        raise TypeError(f"sentences must be a list of strings, got {type(sentences).__name__}; "
                        f"for one sentence pass [sentence]")
    for sentence in sentences:
        if not isinstance(sentence, str):
            raise TypeError(f"every sentence must be a str, got {type(sentence).__name__}: {sentence!r:.80}")
    check_positive_int(batch_size, "batch_size")
    context = model.config.context_length
    if max_length is None:
        max_length = min(EMBED_MAX_LENGTH, context)
    if not is_integer(max_length) or not 2 <= max_length <= context:
        raise ValueError(f"max_length must be an integer from 2 ([CLS] + [SEP]) to the model's context of "
                         f"{context} tokens, got {max_length!r}")
    # Longest first, so each batch holds sentences of similar length and little padding is computed.
    order = sorted(range(len(sentences)), key=lambda i: -len(sentences[i]))
    embeddings = np.zeros((len(sentences), model.config.d_model), np.float32)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                batch = tokenizer.encode_batch([sentences[i] for i in rows], max_length=max_length, truncation=True)
                hidden = model(batch.input_ids, batch.token_type_ids, batch.attention_mask).data
                embeddings[rows] = l2_normalize(mean_pool(hidden, batch.attention_mask))
    finally:
        model.train(was_training)
    return embeddings
