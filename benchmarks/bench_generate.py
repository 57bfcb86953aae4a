"""Generation speed with and without the key/value cache: new tokens per second at batch 1.

    python benchmarks/bench_generate.py [--tokens 500]

The small config (nanoGPT's CPU recipe: vocab 65, context 64, 4 layers, 4 heads, 128 wide).
With the cache each new token runs one position through the model; without it, the whole window
again.  Past the context the window jumps by half a context (GPT.window_start), so the cache is
rebuilt once every 32 tokens.  Compare within the context (--tokens below 64) and across it (the
default 500).  Target: at least 500 new tokens/s with the cache.
"""

import argparse
import time

import numpy as np

import minitransformer as mt
from minitransformer.models import GPT, gpt_config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=500)
    args = parser.parse_args()
    mt.manual_seed(0)
    model = GPT(gpt_config("nano", vocab_size=65))
    prompt = np.array([[1, 2, 3]])
    for use_cache in (True, False):
        model.generate(prompt, 5, use_cache=use_cache, seed=0)  # warm up
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            model.generate(prompt, args.tokens, temperature=1.0, seed=0, use_cache=use_cache)
            best = min(best, time.perf_counter() - start)
        print(f"{'with' if use_cache else 'without'} KV cache: {args.tokens / best:8.0f} new tokens/s "
              f"({args.tokens} tokens from a 3-token prompt, batch 1, best of 3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
