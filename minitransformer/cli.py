"""The command line: `python -m minitransformer <command>` (or the `minitransformer` script).

    pretrain   train a tokenizer and a GPT / BERT / T5 on a corpus, then show what it learned
    generate   sample text from a trained GPT (or fill spans with a trained T5)
    finetune   SGD fine-tuning of a pretrained checkpoint on a labelled task
    tokenizer  train a BPE tokenizer, or show how one splits a text
    info       parameter count, FLOPs per token and a time-per-step estimate for a preset

Errors are reported as one clear line (exit status 2), not a traceback.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .corpus import CorpusError, read_corpus
from .models import MODEL_TYPES
from .safetensors import CheckpointError
from .tokenizers import BPETokenizer, TokenizerFileError, UnknownTokenError
from .train import TrainConfig, TrainingDiverged

def _add_train_options(p: argparse.ArgumentParser, defaults: TrainConfig) -> None:
    p.add_argument("--steps", type=int, default=defaults.steps, help="optimizer steps (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size, help="sequences per step (default %(default)s)")
    p.add_argument("--lr", type=float, default=None,
                   help="peak learning rate (default: 3e-3 for gpt and t5, 1e-3 for post-norm bert)")
    p.add_argument("--min-lr", type=float, default=defaults.min_lr, help="final learning rate after cosine decay (default: lr / 10)")
    p.add_argument("--warmup", type=int, default=defaults.warmup, help="linear warmup steps (default %(default)s)")
    p.add_argument("--weight-decay", type=float, default=defaults.weight_decay, help="AdamW decay on matrices")
    p.add_argument("--grad-clip", type=float, default=defaults.grad_clip, help="max global gradient norm (0: off)")
    p.add_argument("--grad-accum", type=int, default=defaults.grad_accum, help="micro-batches per step")
    p.add_argument("--log-every", type=int, default=defaults.log_every)
    p.add_argument("--eval-every", type=int, default=defaults.eval_every)
    p.add_argument("--eval-batches", type=int, default=defaults.eval_batches)
    p.add_argument("--checkpoint-every", type=int, default=defaults.checkpoint_every)
    p.add_argument("--seed", type=int, default=defaults.seed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minitransformer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"minitransformer {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command")

    p = commands.add_parser("pretrain", help="pretrain a tiny GPT, BERT or T5 on a corpus",
                            description="Train a BPE tokenizer and a model on a corpus (the built-in CPython "
                                        "help text by default), then show samples of what it learned.")
    p.add_argument("--model", choices=sorted(MODEL_TYPES), default="gpt",
                   help="gpt: causal LM; bert: masked LM; t5: span corruption (default gpt)")
    p.add_argument("--corpus", help="a UTF-8 text file or a folder of them (default: the built-in corpus)")
    p.add_argument("--preset", default="tiny", help="model size preset (see `info`; default tiny)")
    p.add_argument("--context", type=int, help="override the preset's context length")
    p.add_argument("--dropout", type=float, help="override the preset's dropout probability")
    p.add_argument("--vocab-size", type=int, default=512, help="BPE vocabulary size (default 512)")
    p.add_argument("--tokenizer", help="use this saved tokenizer JSON instead of training one")
    p.add_argument("--out", help="run folder for checkpoint, log and tokenizer (default runs/<model>)")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    p.add_argument("--samples", type=int, default=2, help="samples to show at the end (default 2)")
    _add_train_options(p, TrainConfig())

    p = commands.add_parser("generate", help="sample from a trained GPT (or fill spans with a T5)")
    p.add_argument("--checkpoint", required=True, help="a checkpoint.safetensors written by pretrain")
    p.add_argument("--prompt", default=None, help="text to continue (T5: text with <extra_id_N> sentinels)")
    p.add_argument("--max-new-tokens", type=int, default=200)
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy (default %(default)s)")
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--top-p", type=float, default=None)
    p.add_argument("--num-samples", type=int, default=1)
    p.add_argument("--seed", type=int, default=None)

    p = commands.add_parser("finetune", help="fine-tune a pretrained checkpoint with SGD on a labelled task")
    from .finetune import add_finetune_arguments
    add_finetune_arguments(p)

    p = commands.add_parser("tokenizer", help="train a BPE tokenizer, or encode text with one")
    actions = p.add_subparsers(dest="action", metavar="action")
    t = actions.add_parser("train", help="train a tokenizer on a corpus and save it as JSON")
    t.add_argument("--corpus", help="UTF-8 text file or folder (default: the built-in corpus)")
    t.add_argument("--vocab-size", type=int, default=512)
    t.add_argument("--kind", choices=["byte", "word"], default="byte", help="byte-level (GPT-2) or word-level (lecture)")
    t.add_argument("--out", required=True, help="where to write the tokenizer JSON")
    e = actions.add_parser("encode", help="show ids and the subword pieces of a text")
    e.add_argument("--tokenizer", required=True, help="a tokenizer JSON (or a checkpoint)")
    e.add_argument("text")

    p = commands.add_parser("info", help="size, FLOPs per token and estimated step time of a preset")
    p.add_argument("--model", choices=sorted(MODEL_TYPES), default="gpt")
    p.add_argument("--preset", default="tiny")
    p.add_argument("--vocab-size", type=int, default=None, help="override the preset's vocabulary size")
    p.add_argument("--batch-size", type=int, default=16)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "pretrain":
            from .pretrain import run_pretrain
            run_pretrain(args)
        elif args.command == "generate":
            from .pretrain import run_generate
            run_generate(args)
        elif args.command == "finetune":
            from .finetune import run_finetune
            run_finetune(args)
        elif args.command == "tokenizer":
            run_tokenizer(args, parser)
        elif args.command == "info":
            from .info import run_info
            run_info(args)
    except (CorpusError, CheckpointError, TokenizerFileError, UnknownTokenError, TrainingDiverged,
            FileNotFoundError, ValueError, IndexError, TypeError) as error:
        message = str(error).strip("'\"")
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0


def run_tokenizer(args, parser) -> None:
    if args.action == "train":
        text = read_corpus(args.corpus)
        tokenizer = BPETokenizer(kind=args.kind)
        tokenizer.train([text], vocab_size=args.vocab_size)
        tokenizer.save(args.out)
        print(f"trained a {args.kind}-level BPE with {tokenizer.vocab_size} tokens; saved {args.out}")
    elif args.action == "encode":
        from .pretrain import load_tokenizer
        tokenizer = load_tokenizer(args.tokenizer)
        ids = tokenizer.encode(args.text, allowed_special="all")
        print("ids:   ", ids)
        print("pieces:", tokenizer.segment(args.text, allowed_special="all"))
        print(f"{len(args.text)} characters -> {len(ids)} tokens")
    else:
        parser.parse_args(["tokenizer", "--help"])
