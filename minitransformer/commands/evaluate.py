"""`evaluate`: a checkpoint's held-out loss beside the unigram and uniform baselines."""

from __future__ import annotations

import argparse

from ..pretrain import evaluate_model, load_trained, report_lines

HELP = "held-out loss of a checkpoint against the unigram and uniform baselines"
DESCRIPTION = ("Score a pretrained checkpoint on held-out text: the validation split of the built-in corpus, "
               "or the text you give. Prints the loss, the perplexity, the unigram baseline of the training "
               "split and the uniform ln V, and the top-1 accuracy; for T5 also how often it fills a hidden "
               "held-out word with that word, and with a word at all.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a checkpoint.safetensors written by pretrain")
    p.add_argument("--corpus", help="a UTF-8 text file or folder to score, all of it (default: the validation "
                                    "split of the built-in corpus)")


def run(args) -> None:
    model, tokenizer, metadata = load_trained(args.checkpoint)
    for line in report_lines(*evaluate_model(model, tokenizer, metadata, args.corpus), tokenizer):
        print(line)
