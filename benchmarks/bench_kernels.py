"""Forward+backward of each fused kernel, as a ratio to the bare NumPy cost of its forward.

    python benchmarks/bench_kernels.py

Target: every ratio within 3x.  A backward costs about twice a forward for matmul-like work, so
~3x means the engine adds little beyond the arithmetic itself.  Times are the best of several runs,
measured side by side in one process; only the ratios mean anything across machines.
"""

import math
import time

import numpy as np

import minitransformer as mt
from minitransformer import functional as F


def best_time(fn, repeat=7, number=3):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def numpy_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def run(B, T, d, heads, vocab=512):
    rng = np.random.default_rng(0)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    x = f32(B, T, d)
    w, b = f32(4 * d, d) * 0.02, f32(4 * d)
    hd = d // heads
    q, k, v = f32(B, heads, T, hd), f32(B, heads, T, hd), f32(B, heads, T, hd)
    logits, targets = f32(B * T, vocab), rng.integers(0, vocab, B * T)
    gamma, beta = f32(d), f32(d)
    mask = np.tril(np.ones((T, T), dtype=bool))

    def leaf(a):
        return mt.Tensor(a, requires_grad=True)

    cases = {
        "linear": (lambda: x @ w.T + b,
                   lambda: F.linear(leaf(x), leaf(w), leaf(b)).sum().backward()),
        "softmax": (lambda: numpy_softmax(x),
                    lambda: (F.softmax(leaf(x), -1) * x).sum().backward()),
        "layer_norm": (lambda: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * gamma + beta,
                       lambda: F.layer_norm(leaf(x), (d,), leaf(gamma), leaf(beta)).sum().backward()),
        "cross_entropy": (lambda: -np.log(numpy_softmax(logits)[np.arange(B * T), targets]).mean(),
                          lambda: F.cross_entropy(leaf(logits), targets).backward()),
        "attention": (lambda: numpy_softmax(np.where(mask, q @ k.swapaxes(-1, -2) / math.sqrt(hd), -np.inf)) @ v,
                      lambda: (F.scaled_dot_product_attention(leaf(q), leaf(k), leaf(v), is_causal=True) * q).sum().backward()),
        "gelu_tanh": (lambda: 0.5 * x * (1 + np.tanh(0.79788456 * (x + 0.044715 * x * x * x))),
                      lambda: (F.gelu(leaf(x), approximate="tanh") * x).sum().backward()),
        # NumPy has no erf: the exact GELU is measured against the same tanh-form reference
        "gelu_exact": (lambda: 0.5 * x * (1 + np.tanh(0.79788456 * (x + 0.044715 * x * x * x))),
                       lambda: (F.gelu(leaf(x)) * x).sum().backward()),
    }
    print(f"\nB={B} T={T} d={d} heads={heads}")
    print(f"{'kernel':<14}{'numpy fwd ms':>13}{'ours fwd+bwd ms':>17}{'ratio':>8}")
    for name, (bare, ours) in cases.items():
        t_bare, t_ours = best_time(bare), best_time(ours)
        print(f"{name:<14}{t_bare * 1e3:>13.3f}{t_ours * 1e3:>17.3f}{t_ours / t_bare:>8.2f}")


if __name__ == "__main__":
    run(B=12, T=64, d=128, heads=4)
    run(B=32, T=128, d=192, heads=6)
