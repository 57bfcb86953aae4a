"""GPT-2 small (124M) at batch 1: new tokens per second with the KV cache, and peak memory, against the floor.

    OPENBLAS_NUM_THREADS=2 python benchmarks/bench_gpt2_generate.py [--tokens 64] [--profile]

The model is a randomly initialized GPT of GPT-2 small's real shape (12 layers, 768 wide, 12 heads,
3072 feed-forward, 50,257 tokens, 1024 positions: 124.4M float32 weights); the values of the weights
do not change the speed.  It continues a 16-token prompt greedily with the KV cache.

The floor, measured in the same run: at batch 1 each new token reads every weight once (~498 MB),
so memory bandwidth bounds the speed.  The floor is bare NumPy matrix-vector products W @ x with
the weights of the 12 layers (each layer's q, k, v, output, fc1 and fc2 matrices: GPT-2's c_attn,
c_proj, c_fc and mlp.c_proj) plus the output layer (the 50,257 x 768 token embedding): the
arithmetic one token needs and nothing else.  Target (issue 19): at least half the floor's
tokens/s and at least 30 tokens/s, with peak memory under 1 GB.

Peak memory is the process's peak resident set (VmHWM, Linux): after building the model (the
random init peaks with float64 temporaries), and during generation alone (VmHWM reset first).
--profile adds cProfile's top functions of one generation, by their own time.
"""

import argparse
import cProfile
import io
import os
import pstats
import resource
import time

import numpy as np

import minitransformer as mt
from minitransformer.models import GPT, gpt_config

PROMPT_TOKENS = 16
WARMUP_TOKENS = 4


def peak_rss_mb() -> float:
    """The process's peak resident set so far, in MB (VmHWM; ru_maxrss where /proc is absent)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Start VmHWM again from the current resident set (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def floor_ms_per_token(model: GPT, repeats: int = 5) -> float:
    """The best time of one pass of bare matrix-vector products over every weight a token reads."""
    d = model.config.d_model
    weights = [layer.weight.data for block in model.blocks
               for layer in (block.attn.q_proj, block.attn.k_proj, block.attn.v_proj, block.attn.out_proj,
                             block.mlp.fc1, block.mlp.fc2)] + [model.token_embedding.weight.data]
    inputs = {size: np.random.default_rng(0).standard_normal(size).astype(np.float32) for size in {d, model.config.d_ff}}
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for w in weights:
            w @ inputs[w.shape[1]]
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per timed generation (default 64)")
    parser.add_argument("--profile", action="store_true", help="also profile one generation with cProfile")
    args = parser.parse_args()
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    mt.manual_seed(0)
    start = time.perf_counter()
    model = GPT(gpt_config("gpt2", dropout=0.0)).eval()
    weights = sum(p.data.size for p in model.parameters())
    print(f"built a random GPT-2 small: {weights / 1e6:.1f}M weights ({weights * 4 / 1e6:.0f} MB) in "
          f"{time.perf_counter() - start:.1f} s; peak RSS so far {peak_rss_mb():.0f} MB")

    floor = floor_ms_per_token(model)
    print(f"floor (bare W @ x over the 12 layers + output layer): {floor:.1f} ms/token = {1e3 / floor:.1f} tokens/s")

    prompt = np.random.default_rng(0).integers(0, model.config.vocab_size, (1, PROMPT_TOKENS))
    model.generate(prompt, WARMUP_TOKENS, temperature=0)
    measured = reset_peak_rss()
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        model.generate(prompt, args.tokens, temperature=0)
        best = min(best, time.perf_counter() - start)
    ours = best * 1e3 / args.tokens
    print(f"generate with the KV cache: {ours:.1f} ms/token = {1e3 / ours:.1f} tokens/s "
          f"({args.tokens} new tokens after a {PROMPT_TOKENS}-token prompt, batch 1, best of 2); "
          f"{floor / ours:.0%} of the floor's speed")
    print(f"peak RSS during generation: {peak_rss_mb():.0f} MB" if measured else
          f"peak RSS of the whole run: {peak_rss_mb():.0f} MB (this system cannot reset the peak)")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(model.generate, prompt, args.tokens, temperature=0)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
        print(text.getvalue())
    target = 1e3 / ours >= max(30.0, 0.5 * 1e3 / floor)
    print(f"target (>= 30 tokens/s and >= half the floor): {'met' if target else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
