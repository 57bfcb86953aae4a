"""`info`: how big a preset is, how much arithmetic a token costs, and how long a step should take.

The FLOP count and the matmul probe are explained in flops.py.
"""

from __future__ import annotations

import argparse

from ..flops import matmul_flops_per_second, training_flops_per_token
from ..models import MODEL_TYPES, build_model
from .values import positive_int

HELP = "size, FLOPs per token and estimated step time of a preset"
DESCRIPTION = None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=sorted(MODEL_TYPES), default="gpt")
    p.add_argument("--preset", default="tiny")
    p.add_argument("--vocab-size", type=positive_int, default=None, help="override the preset's vocabulary size")
    p.add_argument("--batch-size", type=positive_int, default=16)


def run(args) -> None:
    overrides = {"vocab_size": args.vocab_size} if args.vocab_size is not None else {}
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
