"""Writing our GPT as a Hugging Face GPT-2 folder (config.json + model.safetensors).

Our GPT is GPT-2's architecture, so only the names and the layout of the arrays change: GPT-2's
"Conv1D" layers store their weights (in, out), the transpose of our Linear's (out, in), and hold
q, k and v in one layer.  transformers' GPT2LMHeadModel.from_pretrained(folder) then computes
the same logits (benchmarks/golden/check_gpt2_export.py checks it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..files import atomic_write_bytes
from ..models.gpt import GPT
from ..nn import LayerNorm
from ..safetensors import save_file


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
    atomic_write_bytes(folder / "config.json", config_text.encode("utf-8"))
    return folder
