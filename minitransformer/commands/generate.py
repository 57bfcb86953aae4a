"""`generate`: sample text from a trained GPT (or fill spans with a trained T5)."""

from __future__ import annotations

import argparse

from ..objectives import task_for
from ..pretrain import load_trained
from ..pretrained import load_folder
from .values import non_negative_float, non_negative_int, nucleus, positive_int

HELP = "sample from a trained GPT (or fill spans with a T5)"
DESCRIPTION = None


def add_arguments(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a checkpoint.safetensors written by pretrain")
    source.add_argument("--pretrained", metavar="PATH", help="a Hugging Face GPT-2 folder (config.json, "
                        "model.safetensors, tokenizer.json or vocab.json + merges.txt)")
    p.add_argument("--prompt", default=None, help="text to continue (T5: text with <extra_id_N> sentinels; "
                                                  "default: the model's demo text)")
    p.add_argument("--max-new-tokens", type=positive_int, default=200, help="tokens to add to the prompt")
    p.add_argument("--temperature", type=non_negative_float, default=0.8, help="0 = greedy (default %(default)s)")
    p.add_argument("--top-k", type=positive_int, default=None,
                   help="sample only from the k most likely tokens (default: all tokens)")
    p.add_argument("--top-p", type=nucleus, default=None,
                   help="sample only from the most likely tokens that hold this share of the probability "
                        "(nucleus sampling; default: all tokens)")
    p.add_argument("--num-samples", type=positive_int, default=1, help="how many samples to print")
    p.add_argument("--seed", type=non_negative_int, default=None,
                   help="seed of the sampling, so a sample can be repeated (default: a fresh one each time)")


def run(args) -> None:
    """Each sample with its own seed (--seed, --seed + 1, ...); a BERT explains why it cannot."""
    model, tokenizer = load_folder(args.pretrained) if args.pretrained else load_trained(args.checkpoint)[:2]
    task = task_for(model, tokenizer)
    prompt = args.prompt if args.prompt is not None else task.demo_text
    for i in range(args.num_samples):
        sample_seed = None if args.seed is None else args.seed + i
        text = task.generate_text(model, tokenizer, prompt, args.max_new_tokens, args.temperature, args.top_k,
                                  args.top_p, sample_seed)
        if args.num_samples > 1:
            print(f"--- sample {i + 1} ---")
        print(text)
