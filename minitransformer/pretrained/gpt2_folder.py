"""Reading a Hugging Face GPT-2 folder: config.json -> GPTConfig, model.safetensors -> our GPT.

The folder is what `GPT2LMHeadModel.save_pretrained` writes (or what the Hub's "gpt2" holds):

    config.json          n_embd, n_layer, n_head, n_positions, vocab_size, activation_function, ...
    model.safetensors    wte, wpe, h.{i}.ln_1 / attn.c_attn / attn.c_proj / ln_2 / mlp.c_fc / mlp.c_proj, ln_f
    tokenizer.json       or GPT-2's own vocab.json + merges.txt (tokenizers/gpt2_files.py)

Names may carry GPT2LMHeadModel's "transformer." prefix.  Our GPT is GPT-2's architecture, so each
tensor lands in our parameters through the table of gpt2_layout.py (transposed and split where
GPT-2's Conv1D layers and its fused q/k/v layer need it).  Some files also store buffers that are
no weights (each block's causal mask, attn.bias) and the tied output layer a second time
(lm_head.weight); the first are skipped, the second must equal wte.

Loading is strict.  Every size in config.json is checked against the tensors present before
anything is allocated, so a config that claims 10**9 layers or a vocabulary of 10**12 fails in a
line instead of filling the memory; a tensor missing, extra or of the wrong shape is an error
naming the file and the tensor.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from ..checks import check_positive_int
from ..models.gpt import GPT, GPTConfig
from ..nn import LayerNorm
from ..safetensors import load_file
from ..tokenizers.gpt2_files import MERGES_FILE, VOCAB_FILE, GPT2Tokenizer
from ..tokenizers.hf_tokenizer_json import load_tokenizer_json
from .bert_folder import LoadReport
from .common import PretrainedFormatError, check_model_type, first_few, pickle_hint, read_json_object
from .gpt2_layout import GPT2_ACTIVATIONS, HF_GPT2_CONFIG_SIZES, gpt2_layout, gpt2_shape, split_parts

GPT2_FILES = ("config.json", "model.safetensors")
TOKENIZER_FILES = (("tokenizer.json",), (VOCAB_FILE, MERGES_FILE))  # either is enough; the first is preferred
# Hugging Face's activation names -> ours; gelu_pytorch_tanh is the same tanh approximation as gelu_new.
OUR_ACTIVATIONS = {**{hf: ours for ours, hf in GPT2_ACTIVATIONS.items()}, "gelu_pytorch_tanh": "gelu_tanh"}
# Settings our GPT cannot follow: (default when absent, the value we need, why).
UNSUPPORTED = {
    "scale_attn_weights": (True, True, "our attention always divides the scores by sqrt(head size)"),
    "scale_attn_by_inverse_layer_idx": (False, False, "our attention does not scale scores by the layer index"),
    "add_cross_attention": (False, False, "our GPT is a decoder without cross-attention"),
    "tie_word_embeddings": (True, True, "our GPT's output layer is the token embedding (tied)"),
}
NOT_WEIGHTS = (re.compile(r"h\.\d+\.attn\.(masked_)?bias"), "a constant buffer (the causal mask), not a weight")
TIED_COPY = "lm_head.weight"  # the output layer, tied to wte


def load_gpt2_folder(folder) -> tuple[GPT, GPT2Tokenizer]:
    """Our GPT with the weights of a Hugging Face GPT-2 folder, and its tokenizer (GPT-2's ids).

    The folder needs config.json, model.safetensors, and tokenizer.json or vocab.json + merges.txt.
    The model is in eval mode; `model.load_report` says what was loaded and what was skipped.
    """
    folder = Path(folder)
    tokenizer_files = _check_gpt2_folder(folder)
    config_path, weights_path = folder / "config.json", folder / "model.safetensors"
    config, epsilon = gpt_config_from_hf(read_json_object(config_path), config_path)
    tensors, ignored = _gpt2_names(load_file(weights_path), weights_path)
    _check_sizes(config, tensors, config_path, weights_path)  # before the model allocates anything
    model = GPT(config)
    loaded = _load_gpt2_tensors(model, tensors, weights_path)
    for module in model.modules():
        if isinstance(module, LayerNorm):
            module.eps = epsilon
    model.load_report = LoadReport(folder, tuple(loaded), (), tuple(ignored))
    model.eval()
    tokenizer = _gpt2_tokenizer(folder, tokenizer_files)
    if tokenizer.vocab_size > config.vocab_size:
        raise PretrainedFormatError(
            f"{folder / tokenizer_files[0]} has {tokenizer.vocab_size} tokens but config.json's vocab_size is "
            f"{config.vocab_size}: the tokenizer would produce ids the model has no embedding for; use the "
            f"tokenizer saved with this model")
    return model, tokenizer


def _check_gpt2_folder(folder: Path) -> tuple[str, ...]:
    """Check the files are there; returns the tokenizer's file names."""
    needed = f"{', '.join(GPT2_FILES)} and tokenizer.json (or {VOCAB_FILE} + {MERGES_FILE})"
    if not folder.is_dir():
        raise FileNotFoundError(f"{str(folder)!r} is not a folder; pass the folder that holds a Hugging Face "
                                f"GPT-2's {needed}")
    for name in (*GPT2_FILES, *(name for names in TOKENIZER_FILES for name in names)):
        if (folder / name).is_dir():
            raise PretrainedFormatError(f"{folder / name} is a folder, not a file; put the file {name} there")
    missing = [name for name in GPT2_FILES if not (folder / name).is_file()]
    tokenizer_files = next((names for names in TOKENIZER_FILES if all((folder / n).is_file() for n in names)), None)
    if tokenizer_files is None:
        missing.append(f"a tokenizer (tokenizer.json, or {VOCAB_FILE} + {MERGES_FILE})")
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}; a Hugging Face GPT-2 folder needs "
                                f"{needed}.{pickle_hint(folder)}")
    return tokenizer_files


def gpt_config_from_hf(hf: dict, where="config.json") -> tuple[GPTConfig, float]:
    """A Hugging Face GPT-2 config.json (as a dict) -> (our GPTConfig, layer_norm_epsilon)."""
    check_model_type(hf, where, "gpt2", "GPT2", "GPT-2", "load_gpt2_folder")
    for key, (default, wanted, why) in UNSUPPORTED.items():
        if hf.get(key, default) != wanted:
            raise PretrainedFormatError(f"{where}: {key} is {hf[key]!r}, but {why} ({key}={wanted!r})")
    activation = hf.get("activation_function", "gelu_new")
    if activation not in OUR_ACTIVATIONS:
        raise PretrainedFormatError(f"{where}: activation_function {activation!r} is not one we have; "
                                    f"ours are {sorted(OUR_ACTIVATIONS)}")
    fields = {}
    for hf_key, ours in HF_GPT2_CONFIG_SIZES.items():
        value = hf.get(hf_key)
        if hf_key == "n_inner" and value is None:  # GPT-2's default: 4 x n_embd
            continue
        if value is None:
            raise PretrainedFormatError(f"{where}: the field {hf_key!r} is missing; it sets our {ours}")
        fields[ours] = check_positive_int(value, f"{where}: {hf_key}", PretrainedFormatError)
    fields.setdefault("d_ff", 4 * fields["d_model"])
    if fields["d_model"] % fields["n_heads"]:
        raise PretrainedFormatError(f"{where}: n_embd {fields['d_model']} is not divisible by n_head "
                                    f"{fields['n_heads']}; every head needs n_embd / n_head dimensions")
    epsilon = _number(hf, "layer_norm_epsilon", 1e-5, where, lambda v: v > 0, "a number > 0")
    dropout = _number(hf, "resid_pdrop", 0.1, where, lambda v: 0 <= v < 1, "a number in [0, 1)")
    config = GPTConfig(**fields, dropout=dropout, activation=OUR_ACTIVATIONS[activation], bias=True)
    return config, epsilon


def _number(hf: dict, key: str, default: float, where, ok, wanted: str) -> float:
    """hf[key] (or the default) as a float, if it is a finite JSON number that passes `ok`."""
    value = hf.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not ok(value):
        raise PretrainedFormatError(f"{where}: {key} must be {wanted}, got {value!r}")
    return float(value)


def _gpt2_names(tensors: dict, path: Path) -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
    """The file's tensors under GPT-2's short names ("transformer." dropped), minus what is no weight."""
    short, ignored = {}, []
    for name, array in tensors.items():
        key = name.removeprefix("transformer.")
        if NOT_WEIGHTS[0].fullmatch(key):
            ignored.append((name, NOT_WEIGHTS[1]))
            continue
        if key in short:
            raise PretrainedFormatError(f"{path}: tensors {name!r} and {'transformer.' + key!r} are two copies of "
                                        f"{key!r}; keep one of them")
        short[key] = array
    if TIED_COPY in short:
        copy = short.pop(TIED_COPY)
        wte = short.get("wte.weight")
        if wte is not None and (copy.shape != wte.shape or not np.array_equal(copy, wte)):
            raise PretrainedFormatError(f"{path}: {TIED_COPY!r} differs from 'wte.weight', but our GPT ties the two "
                                        f"(the output layer is the token embedding); set tie_word_embeddings")
        ignored.append((TIED_COPY, "a copy of wte.weight, which our GPT ties it to"))
    return short, ignored


def _check_sizes(config: GPTConfig, tensors: dict, config_path: Path, weights_path: Path) -> None:
    """Every size of config.json against the tensors present, so allocation is bounded by the file."""
    blocks = sorted({int(m[1]) for name in tensors if (m := re.match(r"h\.(\d+)\.", name))})
    if len(blocks) != config.n_layers or blocks != list(range(len(blocks))):  # never range(n_layer) itself
        raise PretrainedFormatError(
            f"{config_path}: n_layer is {config.n_layers}, but {weights_path.name} holds blocks "
            f"{first_few([str(b) for b in blocks]) or 'none'}; do config.json and model.safetensors belong together?")
    c = config
    defining = {"wte.weight": ((c.vocab_size, c.d_model), "vocab_size x n_embd"),
                "wpe.weight": ((c.context_length, c.d_model), "n_positions x n_embd")}
    if c.n_layers:
        defining["h.0.mlp.c_fc.weight"] = ((c.d_model, c.d_ff), "n_embd x n_inner")
    for name, (shape, what) in defining.items():
        if name not in tensors:
            raise PretrainedFormatError(f"{weights_path}: tensor {name!r} is missing; a GPT-2 checkpoint has it")
        if tensors[name].shape != shape:
            raise PretrainedFormatError(
                f"{config_path}: {what} is {shape}, but {name} in {weights_path.name} has shape "
                f"{tensors[name].shape}; do config.json and model.safetensors belong together?")


def _load_gpt2_tensors(model: GPT, tensors: dict, path: Path) -> list[str]:
    """Split every GPT-2 tensor into our parameters, after checking the two sets match."""
    layout = gpt2_layout(model.config.n_layers)
    unexpected = [name for name in tensors if name not in layout]
    if unexpected:
        raise PretrainedFormatError(f"{path}: {len(unexpected)} tensor(s) have no place in our GPT: "
                                    f"{first_few(unexpected)}. Is this a GPT-2 checkpoint with a head we do not have?")
    missing = [name for name in layout if name not in tensors]
    if missing:
        raise PretrainedFormatError(f"{path}: {len(missing)} tensor(s) are missing: {first_few(missing)}; is the file "
                                    f"complete (download it again)?")
    parameters = dict(model.named_parameters())
    for name, (parts, transposed) in layout.items():
        array = tensors[name]
        expected = gpt2_shape([parameters[p].shape for p in parts], transposed)
        if array.shape != expected:
            raise PretrainedFormatError(f"{path}: tensor {name!r} has shape {array.shape}, but our GPT built from "
                                        f"config.json needs {expected}; do config.json and model.safetensors "
                                        f"belong together?")
        if array.dtype.kind != "f":
            raise PretrainedFormatError(f"{path}: tensor {name!r} has dtype {array.dtype}; weights must be floats "
                                        f"(save them as float32)")
        for part, value in zip(parts, split_parts(array, len(parts), transposed)):
            parameters[part].data = value
    return list(layout)


def _gpt2_tokenizer(folder: Path, files: tuple[str, ...]) -> GPT2Tokenizer:
    if files == ("tokenizer.json",):
        return load_tokenizer_json(folder / "tokenizer.json")
    return GPT2Tokenizer.from_files(folder / VOCAB_FILE, folder / MERGES_FILE)
