"""Regenerate tests/data/pytorch_style_gpt_golden.npz (+ .json): PyTorch running the PyTorch-style GPT.

tests/pytorch_style_gpt.py is a small GPT written in nanoGPT's idioms against three handles
(torch, nn, F).  Here it runs with PyTorch itself, in float64 on the CPU; the test
(tests/test_pytorch_style_gpt.py) runs the same file with minitransformer, loads these weights,
and must reproduce these numbers.  minitransformer is not imported here, so the reference is
independent of our code.

What is stored (npz, no pickle):
- `state/<name>`: the model's state_dict as initialized by torch (seed 0), float64, buffers and
  the tied weight under both names, exactly as PyTorch saves them;
- `X`, `Y`: one batch of token ids (int64; the first row's last target is -1, ignored);
- `loss`: the loss at those weights; `grad/<name>`: d loss / d parameter for every named parameter;
- `losses`: nanoGPT's loop for three AdamW steps (param groups by p.dim(), clipping at 1.0):
  the loss before each step and after the last; `final/<name>`: the weights after the three steps;
- `prompt`, `greedy`: generate(prompt, 6, top_k=1), which takes the most likely token every time.
The json holds the config, the hyperparameters, the versions, and the losses as numbers.

Run it in a scratch environment (torch 2.13.0 CPU is on this machine's disk):

    python -m venv /tmp/ref_venv
    /tmp/ref_venv/bin/pip install torch==2.13.0 numpy
    /tmp/ref_venv/bin/python benchmarks/golden/make_pytorch_style_gpt_golden.py
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests"))
import pytorch_style_gpt as gpt  # noqa: E402  (the model file the test runs too)

NPZ_PATH = REPO_ROOT / "tests" / "data" / "pytorch_style_gpt_golden.npz"
JSON_PATH = REPO_ROOT / "tests" / "data" / "pytorch_style_gpt_golden.json"
CONFIG = gpt.GPTConfig()
TRAIN = dict(learning_rate=1e-2, weight_decay=0.1, betas=(0.9, 0.95), grad_clip=1.0)
STEPS = 3


def ids() -> list[int]:
    """The token ids the batch and the prompt are cut from (NumPy's generator, seed 0)."""
    return np.random.default_rng(0).integers(0, CONFIG.vocab_size, 40).tolist()


def main() -> None:
    torch.manual_seed(0)
    lib = gpt.define(torch, nn, F)
    model = lib.GPT(CONFIG).double()
    state = {name: t.detach().numpy().copy() for name, t in model.state_dict().items()}
    X_list, Y_list = gpt.batch(CONFIG, ids())
    X, Y = torch.tensor(X_list), torch.tensor(Y_list)

    logits, loss = model(X, Y)
    loss.backward()
    grads = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)

    manual = lib.GPT(gpt.GPTConfig(flash=False)).double()
    manual.load_state_dict(model.state_dict())
    manual_loss = manual(X, Y)[1].item()
    assert abs(manual_loss - loss.item()) < 1e-12, "the two attention paths should agree"

    prompt = torch.tensor([ids()[:3]])
    greedy = model.generate(prompt, 6, top_k=1)
    losses = lib.train_steps(model, X, Y, STEPS, **TRAIN)
    final = {name: p.detach().numpy().copy() for name, p in model.named_parameters()}

    arrays = {"X": X.numpy(), "Y": Y.numpy(), "loss": np.array(loss.item()), "losses": np.array(losses),
              "prompt": prompt.numpy(), "greedy": greedy.numpy()}
    arrays.update({f"state/{k}": v for k, v in state.items()})
    arrays.update({f"grad/{k}": v for k, v in grads.items()})
    arrays.update({f"final/{k}": v for k, v in final.items()})
    NPZ_PATH.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(NPZ_PATH, **arrays)
    JSON_PATH.write_text(json.dumps({
        "made_by": "benchmarks/golden/make_pytorch_style_gpt_golden.py",
        "model_file": "tests/pytorch_style_gpt.py",
        "config": vars(CONFIG), "train": {**TRAIN, "steps": STEPS}, "dtype": "float64", "seed": 0,
        "loss": loss.item(), "losses": losses, "greedy": greedy.tolist(),
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()},
    }, indent=2) + "\n")
    print(f"loss {loss.item():.12f}; after {STEPS} AdamW steps {losses[-1]:.12f}; wrote {NPZ_PATH.name}")


if __name__ == "__main__":
    main()
