"""`info`: how big a preset is, how much arithmetic a token costs, and how long a step should take.

The FLOP count and the matmul probe are explained in flops.py.
"""

from __future__ import annotations

import argparse
from ..flops import describe_matmul_rate, matmul_rate_samples, training_flops_per_token
from ..models import MODEL_TYPES, build_model
from ..models.size import preset_parameters
from .values import positive_int

HELP = "size, FLOPs per token and estimated step time of a preset"
DESCRIPTION = None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=sorted(MODEL_TYPES), default="gpt", help="the model type")
    p.add_argument("--preset", default="tiny", help="the size preset (--list-presets lists them)")
    p.add_argument("--vocab-size", type=positive_int, default=None,
                   help="override the preset's vocabulary size (default: the preset's)")
    p.add_argument("--batch-size", type=positive_int, default=16, help="sequences per step, for the time estimate")
    p.add_argument("--list-presets", action="store_true", help="list every model's presets with their sizes")


def list_presets() -> None:
    print(f"{'model':6} {'preset':11} {'parameters':>12}  layers x width, vocabulary, context")
    for kind, (model_class, _, presets) in MODEL_TYPES.items():
        for name, c in presets.items():
            print(f"{kind:6} {name:11} {preset_parameters(model_class, c):12,}  {c.n_layers} x {c.d_model}, "
                  f"{c.vocab_size:,} tokens, {c.context_length}")
    print("(counted at each preset's own vocabulary; pretrain sizes it to its tokenizer, --vocab-size 512 by default)")


def run(args) -> None:
    if args.list_presets:
        list_presets()
        return
    overrides = {"vocab_size": args.vocab_size} if args.vocab_size is not None else {}
    model = build_model(args.model, args.preset, **overrides)
    c = model.config
    flops = training_flops_per_token(model)
    samples = matmul_rate_samples()
    rate = float(samples.max())
    tokens = args.batch_size * c.context_length
    print(f"{args.model} preset '{args.preset}': {model.num_parameters():,} parameters")
    print("  " + ", ".join(f"{k}={v}" for k, v in c.to_dict().items()))
    print(f"training FLOPs per token: {flops / 1e6:,.1f} MFLOP (6N + 6 L T d)")
    print(f"this machine's float32 matmul rate: {describe_matmul_rate(samples)}")
    print(f"estimated time per step (batch {args.batch_size} x {c.context_length} tokens): "
          f"{flops * tokens / rate * 1e3:,.0f} ms at full matmul speed (real steps are slower: "
          "softmax, norms and Python overhead)")
