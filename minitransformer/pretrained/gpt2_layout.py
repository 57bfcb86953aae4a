"""Where each of our GPT's weights sits in a Hugging Face GPT-2 checkpoint: one table, both directions.

Our GPT is GPT-2's architecture, so only names and array layouts differ.  GPT-2's layers are
"Conv1D": y = x W + b with W stored (in, out), the transpose of our Linear's (out, in).  Its
attention holds q, k and v in one layer, c_attn, whose output is [q | k | v]: so

    W_c_attn = [W_q^T  W_k^T  W_v^T]   (side by side, along the last axis),   b_c_attn = [b_q b_k b_v].

Each row of GPT2_TENSORS says: this GPT-2 tensor is our parameters `parts`, each transposed or not,
joined along the last axis.  `export_gpt2` joins (gpt2_export.py), `load_gpt2_folder` splits
(gpt2_folder.py).  The output layer is tied to wte, so there is no lm_head tensor.
"""

from __future__ import annotations

import numpy as np

# GPT-2 config.json field -> our GPTConfig field (the sizes).
HF_GPT2_CONFIG_SIZES = {"vocab_size": "vocab_size", "n_positions": "context_length", "n_layer": "n_layers",
                        "n_head": "n_heads", "n_embd": "d_model", "n_inner": "d_ff"}
# Our FeedForward activation -> Hugging Face's name for it ("gelu_new" is GPT-2's tanh approximation).
GPT2_ACTIVATIONS = {"gelu": "gelu", "gelu_tanh": "gelu_new", "relu": "relu"}

# GPT-2 name -> (our parameter names, transposed?).  "h.{i}." is block i, our "blocks.{i}.".
GPT2_TENSORS = {
    "wte.weight": (("token_embedding.weight",), False),
    "wpe.weight": (("position_embedding.weight",), False),
    "h.{i}.ln_1.weight": (("blocks.{i}.ln_attn.weight",), False),
    "h.{i}.ln_1.bias": (("blocks.{i}.ln_attn.bias",), False),
    "h.{i}.attn.c_attn.weight": (("blocks.{i}.attn.q_proj.weight", "blocks.{i}.attn.k_proj.weight",
                                  "blocks.{i}.attn.v_proj.weight"), True),
    "h.{i}.attn.c_attn.bias": (("blocks.{i}.attn.q_proj.bias", "blocks.{i}.attn.k_proj.bias",
                                "blocks.{i}.attn.v_proj.bias"), False),
    "h.{i}.attn.c_proj.weight": (("blocks.{i}.attn.out_proj.weight",), True),
    "h.{i}.attn.c_proj.bias": (("blocks.{i}.attn.out_proj.bias",), False),
    "h.{i}.ln_2.weight": (("blocks.{i}.ln_mlp.weight",), False),
    "h.{i}.ln_2.bias": (("blocks.{i}.ln_mlp.bias",), False),
    "h.{i}.mlp.c_fc.weight": (("blocks.{i}.mlp.fc1.weight",), True),
    "h.{i}.mlp.c_fc.bias": (("blocks.{i}.mlp.fc1.bias",), False),
    "h.{i}.mlp.c_proj.weight": (("blocks.{i}.mlp.fc2.weight",), True),
    "h.{i}.mlp.c_proj.bias": (("blocks.{i}.mlp.fc2.bias",), False),
    "ln_f.weight": (("ln_final.weight",), False),
    "ln_f.bias": (("ln_final.bias",), False),
}


def gpt2_layout(n_layers: int) -> dict[str, tuple[tuple[str, ...], bool]]:
    """GPT2_TENSORS for a model of n_layers blocks: every GPT-2 name with its parts."""
    layout = {}
    for name, (parts, transposed) in GPT2_TENSORS.items():
        for i in range(n_layers) if "{i}" in name else [None]:
            layout[name.format(i=i)] = (tuple(part.format(i=i) for part in parts), transposed)
    return layout


def join_parts(arrays: list[np.ndarray], transposed: bool) -> np.ndarray:
    """Our arrays -> one GPT-2 tensor: transpose each if GPT-2 stores it (in, out), then join."""
    return np.concatenate([a.T if transposed else a for a in arrays], axis=-1)


def split_parts(array: np.ndarray, count: int, transposed: bool) -> list[np.ndarray]:
    """One GPT-2 tensor -> our `count` arrays (the inverse of join_parts), each contiguous float32."""
    return [np.ascontiguousarray(part.T if transposed else part, dtype=np.float32)
            for part in np.split(array, count, axis=-1)]


def gpt2_shape(our_shapes: list[tuple[int, ...]], transposed: bool) -> tuple[int, ...]:
    """The shape join_parts gives for parts of these shapes."""
    shapes = [shape[::-1] if transposed else shape for shape in our_shapes]
    return (*shapes[0][:-1], sum(shape[-1] for shape in shapes))
