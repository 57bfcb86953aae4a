"""Writing our GPT as a Hugging Face GPT-2 folder (config.json + model.safetensors [+ tokenizer]).

Our GPT is GPT-2's architecture, so only the names and the layout of the arrays change: GPT-2's
"Conv1D" layers store their weights (in, out), the transpose of our Linear's (out, in), and hold
q, k and v in one layer (the table in gpt2_layout.py).  transformers'
GPT2LMHeadModel.from_pretrained(folder) then computes the same logits
(benchmarks/golden/check_gpt2_export.py checks it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..files import atomic_write_bytes
from ..models.gpt import GPT
from ..nn import LayerNorm
from ..safetensors import save_file
from ..tokenizers.gpt2_files import GPT2Tokenizer
from ..tokenizers.hf_tokenizer_json import save_tokenizer_json
from ..tokenizers.special_tokens import EOT_TOKEN
from .gpt2_layout import GPT2_ACTIVATIONS, HF_GPT2_CONFIG_SIZES, gpt2_layout, join_parts


def gpt2_config(model: GPT) -> dict:
    """The config.json of a Hugging Face GPT2LMHeadModel with our GPT's sizes."""
    c = model.config
    epsilons = {module.eps for module in model.modules() if isinstance(module, LayerNorm)}
    if len(epsilons) != 1:
        raise ValueError(f"GPT-2 has one layer_norm_epsilon, but this model's LayerNorms use {sorted(epsilons)}")
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        **{hf: getattr(c, ours) for hf, ours in HF_GPT2_CONFIG_SIZES.items()},
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
    """Our GPT's weights under GPT-2's names and layout (the table in gpt2_layout.py).

    GPT-2 always has biases: a bias-free layer is exactly one whose biases are zero.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"export to GPT-2 needs a GPT model, got {type(model).__name__}")
    if model.config.norm != "layernorm":
        raise ValueError(f"GPT-2 uses LayerNorm, but this GPT has norm={model.config.norm!r}; it cannot be exported")
    parameters = dict(model.named_parameters())

    def our_array(name):  # a missing bias is zero, as long as the matching weight's output size
        if name in parameters:
            return parameters[name].data
        return np.zeros(parameters[name.removesuffix("bias") + "weight"].shape[0], np.float32)

    return {"transformer." + name: np.ascontiguousarray(join_parts([our_array(p) for p in parts], transposed),
                                                        dtype=np.float32)
            for name, (parts, transposed) in gpt2_layout(model.config.n_layers).items()}


def export_gpt2(model: GPT, folder, tokenizer=None) -> Path:
    """Write `model` as a Hugging Face GPT-2 folder (config.json + model.safetensors); returns the folder.

    transformers' GPT2LMHeadModel.from_pretrained(folder) then computes the same logits, and
    load_gpt2_folder(folder) gives the model back.  With a byte-level BPE `tokenizer` the folder
    also gets its tokenizer.json (and, for a GPT2Tokenizer, GPT-2's vocab.json + merges.txt), with
    the same ids; <|endoftext|>, if it has one, becomes bos/eos.  Each file is written atomically.
    """
    tensors = gpt2_tensors(model)
    config = gpt2_config(model)
    if tokenizer is not None:
        check_tokenizer_fits(tokenizer, model.config.vocab_size)
        if EOT_TOKEN in tokenizer.special_tokens:
            config["bos_token_id"] = config["eos_token_id"] = tokenizer.token_to_id(EOT_TOKEN)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    atomic_write_bytes(folder / "config.json", (json.dumps(config, indent=2) + "\n").encode("utf-8"))
    if tokenizer is not None:
        save_tokenizer_json(tokenizer, folder / "tokenizer.json")
        if isinstance(tokenizer, GPT2Tokenizer):
            tokenizer.save_files(folder)
    return folder


def check_tokenizer_fits(tokenizer, vocab_size: int) -> None:
    """A tokenizer whose ids the model has embeddings for, or a ValueError saying why not."""
    if tokenizer.vocab_size > vocab_size:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens but the model's vocab_size is "
                         f"{vocab_size}; export the tokenizer the model was trained with")
