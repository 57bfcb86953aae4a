"""Reading a Hugging Face BERT folder: config.json -> BertConfig, model.safetensors -> our BERT.

Reusing somebody else's checkpoint means agreeing on three things:

- the architecture and sizes (Hugging Face's config.json -> our BertConfig, `bert_config_from_hf`),
- the names (their `encoder.layer.0.attention.self.query.weight` is our
  `blocks.0.attn.q_proj.weight`: the table HF_BERT_NAMES in models/bert.py),
- the layout of each array (BERT's Linear weights are (out, in) in both libraries, so they load
  as they are).

Loading is strict: a tensor the checkpoint lacks, a tensor we have no place for, or a shape that does
not fit is an error naming the file and the tensor.  The only parts allowed to be missing are heads
a checkpoint may legitimately not have (BertModel has no masked-LM head, BertForMaskedLM no pooler);
they keep their fresh initialization and `model.load_report` lists them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..checks import check_positive_int
from ..models.bert import BERT, BertConfig, to_hf_name
from ..models.size import check_config
from ..safetensors import load_file
from ..tokenizers.wordpiece import WordPieceTokenizer
from .common import PretrainedFormatError, check_model_type, first_few, pickle_hint, read_json_object


BERT_FILES = ("config.json", "model.safetensors", "vocab.txt")

# Hugging Face config field -> our BertConfig field.  The sizes are required, the rest have
# Hugging Face's defaults.
HF_BERT_CONFIG_SIZES = {
    "vocab_size": "vocab_size",
    "max_position_embeddings": "context_length",
    "num_hidden_layers": "n_layers",
    "num_attention_heads": "n_heads",
    "hidden_size": "d_model",
    "intermediate_size": "d_ff",
}
HF_BERT_CONFIG_DEFAULTS = {"type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1}

# Checkpoint tensors that hold no weight of ours, and why they can be skipped.
NOT_WEIGHTS = {
    "embeddings.position_ids": "a constant buffer (0, 1, 2, ...), not a weight",
    "cls.seq_relationship.weight": "the next-sentence-prediction head, which our BERT does not have",
    "cls.seq_relationship.bias": "the next-sentence-prediction head, which our BERT does not have",
}
# Tensors some files store a second time under another name, because the model ties them
# (BERT's masked-LM output layer *is* the word-embedding matrix): second name -> first name.
TIED_COPIES = {
    "cls.predictions.decoder.weight": "embeddings.word_embeddings.weight",
    "cls.predictions.decoder.bias": "cls.predictions.bias",
}
OPTIONAL_PARTS = ("pooler.", "mlm_head.")  # our names that may stay at their init


@dataclass(frozen=True)
class LoadReport:
    """What load_bert_folder did with each tensor (our names, except `ignored`: the file's names)."""

    folder: Path
    loaded: tuple[str, ...]
    left_at_init: tuple[str, ...]
    ignored: tuple[tuple[str, str], ...]  # (the file's name, why it is not needed)

    def __str__(self) -> str:
        lines = [f"loaded {len(self.loaded)} tensors from {self.folder}"]
        if self.left_at_init:
            lines.append(f"not in the checkpoint, left at their random init: {', '.join(self.left_at_init)}")
        for name, why in self.ignored:
            lines.append(f"in the checkpoint but not needed: {name}: {why}")
        return "\n".join(lines)


def load_bert_folder(folder) -> tuple[BERT, WordPieceTokenizer]:
    """Our BERT with the weights of a Hugging Face BERT folder, and its tokenizer.

    The folder needs config.json, model.safetensors and vocab.txt (tokenizer_config.json is read
    if present).  Names may carry the "bert." prefix of BertForMaskedLM / BertForPreTraining files.
    The result is in eval mode; `model.load_report` says what was loaded and what was not.
    """
    folder = Path(folder)
    _check_bert_folder(folder)
    weights_path = folder / "model.safetensors"
    tensors = _short_names(load_file(weights_path), weights_path)
    num_labels = _classifier_labels(tensors, weights_path)
    config = bert_config_from_hf(read_json_object(folder / "config.json"), folder / "config.json")
    config = check_config(replace(config, num_labels=num_labels), str(folder / "config.json"),
                          stored_weights=sum(array.size for _, array in tensors.values()),
                          weights_file=str(weights_path), error=PretrainedFormatError)  # before allocating
    model = BERT(config)
    report = _load_bert_tensors(model, tensors, weights_path)
    model.load_report = report
    model.eval()
    tokenizer = _bert_tokenizer(folder)
    if tokenizer.vocab_size > config.vocab_size:
        raise PretrainedFormatError(
            f"{folder / 'vocab.txt'} has {tokenizer.vocab_size} tokens but config.json's vocab_size is "
            f"{config.vocab_size}: the tokenizer would produce ids the model has no embedding for")
    return model, tokenizer


def _classifier_labels(tensors: dict, path: Path) -> int:
    """How many labels the file's classification head has (0: none)."""
    if "classifier.weight" not in tensors:
        return 0
    name, weight = tensors["classifier.weight"]
    if weight.ndim != 2:
        raise PretrainedFormatError(f"{path}: tensor {name!r} has shape {weight.shape}; a classifier weight "
                                    "must be (num_labels, hidden_size)")
    return weight.shape[0]


def _check_bert_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise FileNotFoundError(f"{str(folder)!r} is not a folder; pass the folder that holds a Hugging Face "
                                f"BERT's {', '.join(BERT_FILES)}")
    missing = [name for name in BERT_FILES if not (folder / name).is_file()]
    if not missing:
        return
    hint = pickle_hint(folder) if "model.safetensors" in missing else ""
    raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}; a Hugging Face BERT folder needs "
                            f"{', '.join(BERT_FILES)}.{hint}")


def bert_config_from_hf(hf: dict, where="config.json") -> BertConfig:
    """A Hugging Face BERT config.json (as a dict) -> our BertConfig, refusing what our BERT cannot do."""
    check_model_type(hf, where, "bert", "Bert", "BERT", "load_bert_folder")
    unsupported = {
        "hidden_act": (hf.get("hidden_act", "gelu"), "gelu", "our BERT uses the exact GELU"),
        "position_embedding_type": (hf.get("position_embedding_type", "absolute"), "absolute",
                                    "our BERT learns one embedding per absolute position"),
        "is_decoder": (hf.get("is_decoder", False), False, "our BERT is an encoder (no causal mask)"),
    }
    for key, (value, wanted, why) in unsupported.items():
        if value != wanted:
            raise PretrainedFormatError(f"{where}: {key} is {value!r}, but {why} ({key}={wanted!r})")
    fields = {}
    for hf_key, ours in HF_BERT_CONFIG_SIZES.items():
        if hf_key not in hf:
            raise PretrainedFormatError(f"{where}: the field {hf_key!r} is missing; it sets our {ours}")
        fields[ours] = check_positive_int(hf[hf_key], f"{where}: {hf_key}", PretrainedFormatError)
    settings = {**HF_BERT_CONFIG_DEFAULTS, **{k: hf[k] for k in HF_BERT_CONFIG_DEFAULTS if k in hf}}
    fields["type_vocab_size"] = check_positive_int(settings["type_vocab_size"], f"{where}: type_vocab_size",
                                                   PretrainedFormatError)
    fields["ln_eps"] = _real(settings, "layer_norm_eps", where, lambda v: v > 0, "a number > 0")
    fields["dropout"] = _real(settings, "hidden_dropout_prob", where, lambda v: 0 <= v < 1, "a number in [0, 1)")
    if fields["d_model"] % fields["n_heads"]:
        raise PretrainedFormatError(f"{where}: hidden_size {fields['d_model']} is not divisible by "
                                    f"num_attention_heads {fields['n_heads']}")
    return BertConfig(**fields)


def _real(settings: dict, key: str, where, ok, wanted: str) -> float:
    """settings[key] as a float, if it is a finite JSON number that passes `ok`."""
    value = settings[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not ok(value):
        raise PretrainedFormatError(f"{where}: {key} must be {wanted}, got {value!r}")
    return float(value)


def _short_names(tensors: dict, path: Path) -> dict[str, tuple[str, np.ndarray]]:
    """Checkpoint name -> the name HF_BERT_NAMES uses, keeping the original for messages.

    Drops the optional "bert." prefix and renames the TensorFlow-era LayerNorm.gamma / .beta
    (still found in e.g. bert-base-uncased) to .weight / .bias, as Hugging Face does when loading.
    """
    short = {}
    for name, array in tensors.items():
        key = name.removeprefix("bert.")
        key = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", key)
        key = re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", key)
        if key in short:
            raise PretrainedFormatError(f"{path}: tensors {short[key][0]!r} and {name!r} are two copies of "
                                        f"{key!r}; keep one of them")
        short[key] = (name, array)
    for copy, first in TIED_COPIES.items():
        if copy in short and first not in short:  # the file kept only the second name
            short[first] = short.pop(copy)
    return short


def _load_bert_tensors(model: BERT, tensors: dict, path: Path) -> LoadReport:
    """Copy every checkpoint tensor into its parameter, after checking that the two sets match."""
    parameters = dict(model.named_parameters())
    ours_by_hf = {to_hf_name(ours): ours for ours in parameters}
    state, ignored, unexpected = {}, [], []
    for key, (name, array) in tensors.items():
        if key in NOT_WEIGHTS:
            ignored.append((name, NOT_WEIGHTS[key]))
        elif key in TIED_COPIES:
            _check_tied_copy(array, tensors[TIED_COPIES[key]], name, path)
            ignored.append((name, f"a copy of {tensors[TIED_COPIES[key]][0]}, which our BERT ties it to"))
        elif key in ours_by_hf:
            state[ours_by_hf[key]] = _checked_array(array, parameters[ours_by_hf[key]], ours_by_hf[key], name, path)
        else:
            unexpected.append(name)
    if unexpected:
        raise PretrainedFormatError(
            f"{path}: {len(unexpected)} tensor(s) have no place in our BERT: {first_few(unexpected)}. "
            f"Is this a BERT checkpoint with a head we do not have?")
    missing = [ours for ours in ours_by_hf.values() if ours not in state]
    required = [ours for ours in missing if not ours.startswith(OPTIONAL_PARTS)]
    if required:
        names = [f"{to_hf_name(ours)} (our {ours})" for ours in required]
        raise PretrainedFormatError(f"{path}: {len(required)} tensor(s) are missing: {first_few(names)}")
    model.load_state_dict(state, strict=False)
    return LoadReport(path.parent, tuple(state), tuple(missing), tuple(ignored))


def _checked_array(array: np.ndarray, parameter, ours: str, name: str, path: Path) -> np.ndarray:
    if array.shape != parameter.shape:
        raise PretrainedFormatError(
            f"{path}: tensor {name!r} has shape {array.shape}, but our {ours} built from config.json "
            f"has shape {parameter.shape}; do config.json and model.safetensors belong together?")
    if array.dtype.kind != "f":
        raise PretrainedFormatError(f"{path}: tensor {name!r} has dtype {array.dtype}; weights must be floats")
    return array


def _check_tied_copy(array: np.ndarray, first: tuple[str, np.ndarray], name: str, path: Path) -> None:
    """Our BERT holds one tensor where the file has two names; both must then hold the same values."""
    first_name, first_array = first
    if array.shape != first_array.shape or not np.array_equal(array, first_array):
        raise PretrainedFormatError(
            f"{path}: {name!r} differs from {first_name!r}, but our BERT ties the two (the masked-LM "
            f"output layer is the word-embedding matrix), so it cannot hold two different tensors")


def _bert_tokenizer(folder: Path) -> WordPieceTokenizer:
    """The WordPiece tokenizer of vocab.txt, lowercasing as tokenizer_config.json says (default: yes)."""
    settings = {}
    config_path = folder / "tokenizer_config.json"
    if config_path.is_file():
        settings = read_json_object(config_path)
    do_lower_case = settings.get("do_lower_case", True)
    if not isinstance(do_lower_case, bool):
        raise PretrainedFormatError(f"{config_path}: do_lower_case must be true or false, got {do_lower_case!r}")
    if settings.get("strip_accents") not in (None, do_lower_case):
        raise PretrainedFormatError(f"{config_path}: strip_accents={settings['strip_accents']!r} with "
                                    f"do_lower_case={do_lower_case!r}; our tokenizer strips accents exactly "
                                    f"when it lowercases")
    if settings.get("tokenize_chinese_chars", True) is not True:
        raise PretrainedFormatError(f"{config_path}: tokenize_chinese_chars must be true; our tokenizer "
                                    f"always splits CJK ideographs")
    return WordPieceTokenizer.from_vocab_file(folder / "vocab.txt", do_lower_case=do_lower_case)
