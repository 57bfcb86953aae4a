"""Regenerate tests/data/t5_bucket_golden.npz: Hugging Face T5's relative position buckets.

For each (bidirectional, num_buckets, max_distance) below, the npz holds the bucket that
transformers' T5Attention._relative_position_bucket gives every key-minus-query distance in
-600..600.  tests/test_relative_position.py compares minitransformer's relative_position_bucket
with it exactly; minitransformer is not imported here.

Run it in an environment with PyTorch and transformers (torch 2.13.0 and transformers 5.24.0
made the stored file):  python benchmarks/golden/make_t5_bucket_golden.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import transformers
from transformers.models.t5.modeling_t5 import T5Attention

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "t5_bucket_golden.npz"
SETTINGS = [(True, 32, 128), (False, 32, 128), (True, 8, 20), (False, 16, 64), (True, 64, 256), (False, 4, 5)]


def main() -> None:
    distances = torch.arange(-600, 601)
    arrays = {"distances": distances.numpy()}
    for bidirectional, num_buckets, max_distance in SETTINGS:
        buckets = T5Attention._relative_position_bucket(distances, bidirectional=bidirectional,
                                                        num_buckets=num_buckets, max_distance=max_distance)
        arrays[f"{int(bidirectional)}_{num_buckets}_{max_distance}"] = buckets.numpy()
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({len(SETTINGS)} settings) with torch {torch.__version__}, "
          f"transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
