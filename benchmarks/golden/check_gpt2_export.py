"""Check export_gpt2 against Hugging Face: our GPT, exported, must give the same logits in transformers.

For each activation our GPT offers (exact GELU, GPT-2's tanh GELU, ReLU) this builds a small GPT
with O(1) random weights (the N(0, 0.02) init would make every logit tiny and any difference look
small), exports it with minitransformer.pretrained.export_gpt2, loads the folder with
transformers.GPT2LMHeadModel.from_pretrained and compares the logits of a random batch.
It prints the largest absolute difference and fails above TOLERANCE.

Run it where torch and transformers are installed (see make_minilm_golden.py for the venv):

    /tmp/ref_venv/bin/python benchmarks/golden/check_gpt2_export.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from transformers import GPT2LMHeadModel

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, without installing it
from minitransformer.models import GPT, gpt_config  # noqa: E402
from minitransformer.pretrained import export_gpt2  # noqa: E402

TOLERANCE = 1e-4
SIZES = dict(vocab_size=97, context_length=24, n_layers=3, n_heads=4, d_model=32, d_ff=80, dropout=0.0)


def randomized_gpt(activation: str, seed: int) -> GPT:
    model = GPT(gpt_config("micro", activation=activation, **SIZES))
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        base = 1.0 if ("ln" in name and name.endswith("weight")) else 0.0
        p.data = (base + rng.standard_normal(p.shape) * 0.3).astype(np.float32)
    return model.eval()


def max_logit_difference(activation: str, seed: int) -> float:
    model = randomized_gpt(activation, seed)
    ids = np.random.default_rng(seed + 1).integers(0, SIZES["vocab_size"], (3, SIZES["context_length"]))
    ours, _ = model(ids)
    with tempfile.TemporaryDirectory() as folder:
        export_gpt2(model, folder)
        reference = GPT2LMHeadModel.from_pretrained(folder).eval()
        with torch.no_grad():
            theirs = reference(torch.from_numpy(ids)).logits.numpy()
    return float(np.abs(ours.data - theirs).max())


def main() -> int:
    torch.set_num_threads(1)
    worst = 0.0
    for seed, activation in enumerate(["gelu", "gelu_tanh", "relu"]):
        difference = max_logit_difference(activation, seed)
        worst = max(worst, difference)
        print(f"activation={activation:9s}  max |our logits - GPT2LMHeadModel logits| = {difference:.2e}")
    print(f"torch {torch.__version__}; worst {worst:.2e} (tolerance {TOLERANCE})")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
