"""`pretrain`: train a tokenizer and a GPT / BERT / T5 on a corpus, then show what it learned."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import seed
from ..corpus import read_corpus
from ..models import MODEL_TYPES
from ..objectives import task_for
from ..pretrain import load_tokenizer, load_trained, make_tokenizer, new_model, pretrain, split_corpus, train_config
from ..train import TrainConfig

HELP = "pretrain a tiny GPT, BERT or T5 on a corpus"
DESCRIPTION = ("Train a BPE tokenizer and a model on a corpus (the built-in CPython help text by default), "
               "then show samples of what it learned.")


def add_train_options(p: argparse.ArgumentParser, defaults: TrainConfig) -> None:
    """One flag per TrainConfig field, with its default."""
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


def add_arguments(p: argparse.ArgumentParser) -> None:
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
    add_train_options(p, TrainConfig())


def run(args) -> dict:
    out_dir = Path(args.out or f"runs/{args.model}")
    given = {name: getattr(args, name) for name in TrainConfig.__dataclass_fields__
             if getattr(args, name, None) is not None}
    config = train_config(args.model, **given)
    text = read_corpus(args.corpus)
    if args.resume:
        model, tokenizer, meta = load_trained(out_dir / "checkpoint.safetensors")
        if meta["model_type"] != args.model:
            raise ValueError(f"{out_dir} holds a {meta['model_type']} run, not {args.model}; "
                             f"pass --model {meta['model_type']}")
    else:
        tokenizer = _tokenizer(args, text)
        overrides = {}
        if args.context:
            overrides["context_length"] = args.context
        if args.dropout is not None:
            overrides["dropout"] = args.dropout
        seed.manual_seed(config.seed)  # --seed fixes the initial weights as well as the batches
        model = new_model(args.model, args.preset, tokenizer, **overrides)
    train_ids, val_ids = split_corpus(text, tokenizer, model.config.context_length)
    print(f"corpus: {len(text):,} characters -> {len(train_ids) + len(val_ids):,} tokens "
          f"({len(train_ids):,} train, {len(val_ids):,} val)")
    print(f"model: {args.model} '{args.preset}', {model.num_parameters():,} parameters; "
          f"{config.steps} steps of {config.batch_size} x {model.config.context_length} tokens")
    task = task_for(model, tokenizer)
    if not args.resume and args.samples:
        for line in task.show_before_training(model, tokenizer):
            print(line)
    summary = pretrain(model, task, tokenizer, train_ids, val_ids, config, out_dir, args.preset, resume=args.resume)
    val_loss = summary["val_loss"]
    print(f"\ndone: step {summary['step']}, train loss {summary['train_loss']:.4f}, "
          f"val loss {val_loss if val_loss is None else round(val_loss, 4)}; checkpoint {summary['checkpoint']}")
    if args.samples and summary["stopped"] == "finished":
        show_what_it_learned(task, model, tokenizer, args.samples)
    return summary


def _tokenizer(args, text: str):
    """The --tokenizer file, or a BPE trained on the corpus; says which."""
    if args.tokenizer:
        tokenizer = load_tokenizer(args.tokenizer)
        print(f"tokenizer: {args.tokenizer} ({tokenizer.vocab_size} tokens)")
    else:
        tokenizer = make_tokenizer(text, args.vocab_size)
        print(f"tokenizer: byte-level BPE, {tokenizer.vocab_size} tokens, trained on {len(text):,} characters")
    return tokenizer


def show_what_it_learned(task, model, tokenizer, samples: int) -> None:
    """GPT: samples; BERT: its guesses for masked words; T5: the spans it fills."""
    try:
        for line in task.show(model, tokenizer, samples):
            print(line)
    except ValueError as error:  # a demo text longer than a very small model's context
        print(f"(no demo: {error})")
