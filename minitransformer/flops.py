"""How much arithmetic a training token costs, and how close a run comes to this machine's best.

Training a transformer costs about 6 N FLOPs per token for N parameters (2 for the forward
multiply-adds, 4 for the backward), plus the attention scores, 6 L T d per token for L attention
layers, T tokens of context and width d, which involve no parameters (Kaplan et al., 2020; the
PaLM paper's appendix).  Position embeddings are looked up, not multiplied, so they are left out
of N.  Dividing by the rate this machine multiplies float32 matrices at gives a lower bound on the
time per step; a run's achieved FLOP/s against that rate is a CPU analogue of model FLOPs
utilization (MFU).

Model-agnostic: a model takes part by having `config.context_length`, `config.d_model` and an
`n_transformer_layers` property (GPT and BERT: their blocks; T5: encoder plus decoder blocks).
"""

from __future__ import annotations

import time

import numpy as np


def matmul_rate_samples(size: int = 512, seconds: float = 0.25) -> np.ndarray:
    """FLOP/s of repeated (size x size) float32 products, for about `seconds` (at least 5 products).

    One product takes about a millisecond, so a single timing is at the mercy of whatever else
    the machine does in that millisecond: on a busy 2-core machine two probes minutes apart gave
    7.5 and 204.8 GFLOP/s.  Many timings over a quarter of a second show both the rate the
    hardware can reach (the best) and what this moment's load leaves of it (the median).
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size)).astype(np.float32)
    b = rng.standard_normal((size, size)).astype(np.float32)
    a @ b  # warm up: the first call pays for thread start-up and page faults
    times = []
    deadline = time.perf_counter() + seconds
    while len(times) < 5 or time.perf_counter() < deadline:
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * size ** 3 / np.array(times)  # an (n x n) @ (n x n) product is n^3 multiply-adds


def matmul_flops_per_second(size: int = 512, seconds: float = 0.25) -> float:
    """This machine's float32 matmul rate: the best of matmul_rate_samples."""
    return float(matmul_rate_samples(size, seconds).max())


def describe_matmul_rate(samples: np.ndarray) -> str:
    """'204.8 GFLOP/s (best of 180 products; median 150.2: ...)', saying how noisy the probe was."""
    best, median = samples.max() / 1e9, float(np.median(samples)) / 1e9
    text = f"{best:,.1f} GFLOP/s (best of {len(samples)} products; median {median:,.1f})"
    if median < 0.5 * best:
        text += ": the machine is busy, rates and times vary"
    return text


def counts_flops(model) -> bool:
    """Whether `model` says enough about itself for `training_flops_per_token`."""
    return hasattr(model, "n_transformer_layers") and hasattr(model, "config")


def training_flops_per_token(model) -> float:
    """6 N (weights, forward and backward) + 6 L T d (attention scores and mixing)."""
    c = model.config
    embeddings = sum(p.numel() for name, p in model.named_parameters() if "position" in name)
    weights = model.num_parameters() - embeddings
    return 6 * weights + 6 * model.n_transformer_layers * c.context_length * c.d_model


def training_efficiency(model, tokens: int, seconds: float, matmul_rate: float | None = None) -> dict:
    """What a training run achieved, against what this machine's matmul can do (an MFU-like figure).

        achieved FLOP/s = training_flops_per_token(model) * tokens / seconds
        utilization     = achieved FLOP/s / matmul FLOP/s

    Only matmuls run near the probe's rate; softmax, norms and Python overhead pull it down.
    """
    if seconds <= 0 or tokens <= 0:
        raise ValueError(f"training_efficiency needs tokens > 0 and seconds > 0, got {tokens} tokens in {seconds} s")
    if matmul_rate is None:
        samples = matmul_rate_samples()
        rate, probe = float(samples.max()), describe_matmul_rate(samples)
    else:
        rate, probe = matmul_rate, f"{matmul_rate / 1e9:,.1f} GFLOP/s (given)"
    achieved = training_flops_per_token(model) * tokens / seconds
    return {"flops_per_second": achieved, "matmul_flops_per_second": rate, "mfu": achieved / rate,
            "matmul_probe": probe}
