"""Writing our BERT as a Hugging Face BERT folder, for the PyTorch ecosystem to take over.

The inverse of bert_folder.py, through the same name table (HF_BERT_NAMES in models/bert.py; BERT's
Linear weights are (out, in) in both libraries, so nothing is transposed).  The folder:

    config.json             architectures, sizes, hidden_act, layer_norm_eps, num_labels
    model.safetensors       "bert."-prefixed encoder and pooler, cls.predictions.* (the masked-LM
                            head; its decoder is the word embeddings, tied), classifier.* if any
    vocab.txt               a WordPiece tokenizer, one token per line (+ tokenizer_config.json)
    tokenizer.json          a byte-level BPE tokenizer (tokenizers/hf_tokenizer_json.py), with
                            [CLS] text [SEP] as its post-processor (+ tokenizer_config.json)

transformers' BertForMaskedLM.from_pretrained(folder) then computes our masked-LM logits, BertModel
our hidden states, and BertForSequenceClassification our classifier's logits
(benchmarks/golden/make_bert_export_golden.py checks all three); load_bert_folder reads it back.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..files import atomic_write_bytes
from ..models.bert import BERT, departures_from_paper, to_hf_name
from ..safetensors import save_file
from ..tokenizers.bpe import BPETokenizer
from ..tokenizers.hf_tokenizer_json import save_tokenizer_json
from ..tokenizers.special_tokens import CLS_TOKEN, MASK_TOKEN, PAD_TOKEN, SEP_TOKEN, UNK_TOKEN
from ..tokenizers.wordpiece import WordPieceTokenizer
from .gpt2_export import check_tokenizer_fits
from .gpt2_layout import GPT2_ACTIVATIONS as HF_ACTIVATIONS  # our activation -> Hugging Face's name


def bert_hf_config(model: BERT, tokenizer=None) -> dict:
    """The config.json of a Hugging Face BERT with our BERT's sizes and settings."""
    _check_exportable(model)
    c = model.config
    pad_id = tokenizer.token_to_id(PAD_TOKEN) if tokenizer is not None and PAD_TOKEN in tokenizer.special_tokens else 0
    config = {
        "architectures": ["BertForSequenceClassification" if c.num_labels else "BertForMaskedLM"],
        "model_type": "bert",
        "vocab_size": c.vocab_size,
        "hidden_size": c.d_model,
        "num_hidden_layers": c.n_layers,
        "num_attention_heads": c.n_heads,
        "intermediate_size": c.d_ff,
        "hidden_act": HF_ACTIVATIONS[c.activation],
        "max_position_embeddings": c.context_length,
        "type_vocab_size": c.type_vocab_size,
        "layer_norm_eps": c.ln_eps,
        "hidden_dropout_prob": c.dropout,
        "attention_probs_dropout_prob": c.dropout,
        "initializer_range": c.initializer_range,
        "position_embedding_type": "absolute",
        "pad_token_id": pad_id,
        "tie_word_embeddings": True,
    }
    if c.num_labels:
        config["id2label"] = {str(i): f"LABEL_{i}" for i in range(c.num_labels)}
        config["label2id"] = {f"LABEL_{i}": i for i in range(c.num_labels)}
    return config


def _check_exportable(model) -> None:
    if not isinstance(model, BERT):
        raise TypeError(f"export_bert needs a BERT model, got {type(model).__name__}")
    c = model.config
    if c.norm != "layernorm":
        raise ValueError(f"Hugging Face's BERT uses LayerNorm, but this BERT has norm={c.norm!r}; it cannot be exported")
    departures = [f"{name}={getattr(c, name)!r}" for name in departures_from_paper(c)]
    if departures:  # Hugging Face's BertModel has the paper's architecture and nothing else
        raise ValueError(f"this BERT departs from the paper's architecture ({', '.join(departures)}), which "
                         "Hugging Face's BERT cannot express; only a BERT with the paper's architecture "
                         "(e.g. --preset tiny-paper) exports")
    if c.activation != "gelu":
        raise ValueError(f"this BERT's feed-forward uses {c.activation!r}, but Hugging Face's BERT applies "
                         f"hidden_act in the masked-LM head too, where ours always uses the exact GELU; only "
                         f"activation='gelu' exports exactly")


def bert_hf_tensors(model: BERT) -> dict[str, np.ndarray]:
    """Our BERT's weights under the names BertForMaskedLM / BertForSequenceClassification load.

    The encoder and pooler get the "bert." prefix; the heads (cls.*, classifier.*) do not.  The
    masked-LM decoder is the word-embedding matrix (tied), so it is not stored twice.
    """
    _check_exportable(model)
    tensors = {}
    for name, p in model.named_parameters():
        hf_name = to_hf_name(name)
        tensors[hf_name if hf_name.startswith(("cls.", "classifier.")) else "bert." + hf_name] = \
            np.ascontiguousarray(p.data, dtype=np.float32)
    return tensors


def export_bert(model: BERT, folder, tokenizer=None) -> Path:
    """Write `model` (and its tokenizer, if given) as a Hugging Face BERT folder; returns the folder.

    A WordPieceTokenizer is written as vocab.txt, a byte-level BPETokenizer as tokenizer.json; a
    tokenizer_config.json tells transformers' AutoTokenizer which.  Each file is written atomically.
    """
    tensors = bert_hf_tensors(model)
    config = bert_hf_config(model, tokenizer)
    tokenizer_files = _tokenizer_files(tokenizer, model) if tokenizer is not None else {}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    atomic_write_bytes(folder / "config.json", (json.dumps(config, indent=2) + "\n").encode("utf-8"))
    for name, write in tokenizer_files.items():
        write(folder / name)
    return folder


def _tokenizer_files(tokenizer, model: BERT) -> dict:
    """File name -> a function writing it, for the tokenizer (checked before anything is written)."""
    check_tokenizer_fits(tokenizer, model.config.vocab_size)
    specials = {key: name for key, name in (("cls_token", CLS_TOKEN), ("sep_token", SEP_TOKEN), ("pad_token", PAD_TOKEN),
                                            ("mask_token", MASK_TOKEN), ("unk_token", UNK_TOKEN))
                if name in tokenizer.special_tokens}
    settings = {**specials, "model_max_length": model.config.context_length}
    if isinstance(tokenizer, WordPieceTokenizer):
        vocab = "".join(token + "\n" for token in tokenizer.get_vocab())
        settings = {"tokenizer_class": "BertTokenizer", "do_lower_case": tokenizer.do_lower_case,
                    "tokenize_chinese_chars": True, "strip_accents": None, **settings}
        files = {"vocab.txt": lambda path: atomic_write_bytes(path, vocab.encode("utf-8"))}
    elif isinstance(tokenizer, BPETokenizer) and tokenizer.kind == "byte":
        processor = bert_post_processor(tokenizer)
        settings = {"tokenizer_class": "PreTrainedTokenizerFast", **settings}
        files = {"tokenizer.json": lambda path: save_tokenizer_json(tokenizer, path, processor)}
    else:
        raise TypeError(f"export_bert writes WordPiece (vocab.txt) or byte-level BPE (tokenizer.json) tokenizers, "
                        f"not {tokenizer!r}")
    config_text = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    return {**files, "tokenizer_config.json": lambda path: atomic_write_bytes(path, config_text.encode("utf-8"))}


def bert_post_processor(tokenizer) -> dict | None:
    """Hugging Face's TemplateProcessing for [CLS] A [SEP] (B [SEP]), segment ids 0 / 1; None without both."""
    if CLS_TOKEN not in tokenizer.special_tokens or SEP_TOKEN not in tokenizer.special_tokens:
        return None

    def special(name, type_id):
        return {"SpecialToken": {"id": name, "type_id": type_id}}

    def text(part, type_id):
        return {"Sequence": {"id": part, "type_id": type_id}}

    return {
        "type": "TemplateProcessing",
        "single": [special(CLS_TOKEN, 0), text("A", 0), special(SEP_TOKEN, 0)],
        "pair": [special(CLS_TOKEN, 0), text("A", 0), special(SEP_TOKEN, 0), text("B", 1), special(SEP_TOKEN, 1)],
        "special_tokens": {name: {"id": name, "ids": [tokenizer.token_to_id(name)], "tokens": [name]}
                           for name in (CLS_TOKEN, SEP_TOKEN)},
    }
