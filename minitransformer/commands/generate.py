"""`generate`: sample text from a trained GPT (or fill spans with a trained T5)."""

from __future__ import annotations

import argparse

from ..objectives import task_for
from ..pretrain import load_trained

HELP = "sample from a trained GPT (or fill spans with a T5)"
DESCRIPTION = None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a checkpoint.safetensors written by pretrain")
    p.add_argument("--prompt", default=None, help="text to continue (T5: text with <extra_id_N> sentinels)")
    p.add_argument("--max-new-tokens", type=int, default=200)
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy (default %(default)s)")
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--top-p", type=float, default=None)
    p.add_argument("--num-samples", type=int, default=1)
    p.add_argument("--seed", type=int, default=None)


def run(args) -> None:
    """Each sample with its own seed (--seed, --seed + 1, ...); a BERT explains why it cannot."""
    model, tokenizer, _ = load_trained(args.checkpoint)
    task = task_for(model, tokenizer)
    prompt = args.prompt if args.prompt is not None else task.demo_text
    for i in range(args.num_samples):
        sample_seed = None if args.seed is None else args.seed + i
        text = task.generate_text(model, tokenizer, prompt, args.max_new_tokens, args.temperature, args.top_k,
                                  args.top_p, sample_seed)
        if args.num_samples > 1:
            print(f"--- sample {i + 1} ---")
        print(text)
