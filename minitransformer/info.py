"""`info`: how big a preset is, how much arithmetic a token costs, and how long a step should take.

Training a transformer costs about 6 N FLOPs per token for N parameters (2 for the forward
multiply-adds, 4 for the backward), plus the attention scores, 6 n_layers T d per token, which do
not involve parameters (Kaplan et al., 2020; the PaLM paper's appendix).  Dividing by the rate this
machine multiplies float32 matrices at gives a lower bound on the time per step; the trainer's
measured tokens/s against this probe is a CPU analogue of model FLOPs utilization (MFU).
"""

from __future__ import annotations

import time

import numpy as np

from .models import build_model


def matmul_flops_per_second(size: int = 512, repeats: int = 5) -> float:
    """Measured float32 matmul rate of this machine (best of a few runs)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size)).astype(np.float32)
    b = rng.standard_normal((size, size)).astype(np.float32)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best


def training_flops_per_token(model) -> float:
    """6 N (weights, forward and backward) + 6 n_layers T d (attention scores and mixing)."""
    c = model.config
    layers = c.n_layers * (2 if type(model).__name__ == "T5" else 1)
    embeddings = sum(p.size for name, p in model.named_parameters() if "position" in name)
    weights = model.num_parameters() - embeddings
    return 6 * weights + 6 * layers * c.context_length * c.d_model


def training_efficiency(model, tokens: int, seconds: float, matmul_rate: float | None = None) -> dict:
    """What a training run achieved, against what this machine's matmul can do (an MFU-like figure).

        achieved FLOP/s = training_flops_per_token(model) * tokens / seconds
        utilization     = achieved FLOP/s / matmul FLOP/s

    Only matmuls run near the probe's rate; softmax, norms and Python overhead pull it down.
    """
    if seconds <= 0 or tokens <= 0:
        raise ValueError(f"training_efficiency needs tokens > 0 and seconds > 0, got {tokens} tokens in {seconds} s")
    rate = matmul_flops_per_second() if matmul_rate is None else matmul_rate
    achieved = training_flops_per_token(model) * tokens / seconds
    return {"flops_per_second": achieved, "matmul_flops_per_second": rate, "mfu": achieved / rate}


def run_info(args) -> None:
    overrides = {"vocab_size": args.vocab_size} if args.vocab_size else {}
    model = build_model(args.model, args.preset, **overrides)
    c = model.config
    flops = training_flops_per_token(model)
    rate = matmul_flops_per_second()
    tokens = args.batch_size * c.context_length
    print(f"{args.model} preset '{args.preset}': {model.num_parameters():,} parameters")
    print("  " + ", ".join(f"{k}={v}" for k, v in c.to_dict().items()))
    print(f"training FLOPs per token: {flops / 1e6:,.1f} MFLOP (6N + 6 L T d)")
    print(f"this machine's float32 matmul rate: {rate / 1e9:,.1f} GFLOP/s")
    print(f"estimated time per step (batch {args.batch_size} x {c.context_length} tokens): "
          f"{flops * tokens / rate * 1e3:,.0f} ms at full matmul speed (real steps are slower: "
          "softmax, norms and Python overhead)")
