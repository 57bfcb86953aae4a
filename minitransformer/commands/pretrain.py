"""`pretrain`: train a tokenizer and a GPT / BERT / T5 on a corpus, then show what it learned."""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

from .. import seed
from ..corpus import read_corpus
from ..blas_threads import set_blas_threads
from ..distributed import default_workers, physical_cores
from ..files import prepare_output_folder
from ..evaluation import unigram_counts
from ..models import MODEL_TYPES
from ..models.size import check_batch_fits
from ..objectives import task_for
from ..plotting import plot_png
from ..pretrain import (default_steps_by_model, held_out_scores, load_tokenizer, load_trained, new_model, pretrain,
                        report_lines, split_corpus, task_tokenizer, train_config)
from ..safetensors import CheckpointError
from ..train import TrainConfig
from .values import fraction, non_negative_float, non_negative_int, positive_float, positive_int, workers

HELP = "pretrain a tiny GPT, BERT or T5 on a corpus"
DESCRIPTION = ("Train a BPE tokenizer and a model on a corpus (the built-in CPython help text by default), "
               "then show samples of what it learned.")
RUN_FILES = ("checkpoint.safetensors", "log.jsonl", "best.safetensors")  # what a run folder holds
EPILOG = """examples:
  python -m minitransformer pretrain --model gpt --preset tiny --steps 1500 --out runs/gpt
  python -m minitransformer pretrain --corpus my_texts/ --preset nano --steps 500 --out runs/mine"""


# The rule for each TrainConfig field set by a flag (values.py); --resume checks saved values with it too.
TRAIN_FLAG_TYPES = {"steps": positive_int, "batch_size": positive_int, "lr": positive_float,
                    "min_lr": non_negative_float, "warmup": non_negative_int, "weight_decay": non_negative_float,
                    "grad_clip": non_negative_float, "grad_accum": positive_int, "log_every": positive_int,
                    "eval_every": positive_int, "eval_batches": positive_int, "checkpoint_every": positive_int,
                    "seed": non_negative_int}


def add_train_options(p: argparse.ArgumentParser, defaults: TrainConfig) -> None:
    """One flag per TrainConfig field.  Each defaults to None, so that --resume can tell a flag given
    now (which wins) from one left out (the run keeps the value it started with)."""
    def flag(name: str, help: str):
        p.add_argument(f"--{name.replace('_', '-')}", type=TRAIN_FLAG_TYPES[name], default=None, help=help)

    steps = ", ".join(f"{kind} {n}" for kind, n in default_steps_by_model().items())
    flag("steps", f"optimizer steps (default: each model's own, {steps})")
    flag("batch_size", f"sequences per step (default {defaults.batch_size})")
    flag("lr", "peak learning rate (default: 3e-3)")
    flag("min_lr", "final learning rate after cosine decay (default: lr / 10)")
    flag("warmup", f"linear warmup steps (default {defaults.warmup})")
    flag("weight_decay", f"AdamW decay on matrices (default {defaults.weight_decay})")
    flag("grad_clip", f"max global gradient norm (0: off; default {defaults.grad_clip})")
    flag("grad_accum", f"micro-batches per step (default {defaults.grad_accum})")
    flag("log_every", f"steps between log lines (default {defaults.log_every})")
    flag("eval_every", f"steps between evaluations (default {defaults.eval_every})")
    flag("eval_batches", f"held-out batches per evaluation (default {defaults.eval_batches})")
    flag("checkpoint_every", f"steps between checkpoints (default {defaults.checkpoint_every})")
    flag("seed", f"seed of the initial weights and the batches (default {defaults.seed})")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=sorted(MODEL_TYPES), default="gpt",
                   help="gpt: causal LM; bert: masked LM; t5: span corruption (default gpt)")
    p.add_argument("--corpus", help="a UTF-8 text file or a folder of them (default: the built-in corpus)")
    p.add_argument("--preset", default="tiny",
                   help="model size preset (`info --list-presets` lists them; default tiny)")
    p.add_argument("--context", type=positive_int, help="override the preset's context length (default: the preset's)")
    p.add_argument("--dropout", type=fraction, help="override the preset's dropout probability (default: the preset's)")
    p.add_argument("--vocab-size", type=positive_int, default=512, help="BPE vocabulary size (default 512)")
    p.add_argument("--tokenizer", help="use this saved tokenizer JSON instead of training one (default: train one)")
    p.add_argument("--out", help="run folder for checkpoint, log and tokenizer (default runs/<model>)")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    p.add_argument("--overwrite", action="store_true", help="start afresh in a run folder that holds a run")
    p.add_argument("--samples", type=non_negative_int, default=2, help="samples to show at the end (default 2)")
    p.add_argument("--mask-prob", type=float, default=None,
                   help="bert: share of tokens chosen for prediction (default 0.4; the paper's is 0.15)")
    p.add_argument("--noise-density", type=float, default=None,
                   help="t5: share of tokens hidden in spans (default 0.3; the paper's is 0.15)")
    p.add_argument("--finish-density", type=float, default=None,
                   help="t5: the last quarter of the steps draws each batch's density from this to --noise-density, "
                        "so that texts with one or two gaps fill as well as dense ones (default 0.05; equal to "
                        "--noise-density: one density throughout, as the paper)")
    add_train_options(p, TrainConfig())
    add_workers_option(p)


def add_workers_option(p: argparse.ArgumentParser, note: str = "") -> None:
    p.add_argument("--workers", type=workers, default="auto",
                   help="data-parallel worker processes, one BLAS thread each; 1: train in this process "
                        f"(default auto: the physical cores this process may use, at most the batch size){note}")


def chosen_workers(requested, batch_size: int) -> int:
    """--workers as a number: 'auto' -> the physical cores (capped at the batch size); checked against it."""
    if requested == "auto":
        return default_workers(batch_size)
    if requested > batch_size:
        raise ValueError(f"--workers {requested} is more than --batch-size {batch_size}: each worker needs at least "
                         f"one sequence of the batch; pass --workers {batch_size} or fewer (or a larger --batch-size)")
    return requested


def busy_machine_threads(n_workers: int) -> None:
    """--workers 1 on a machine where other jobs already keep the cores busy (1-minute load average
    at least cores - 0.5): one BLAS thread, since two threads per matmul would wait for each other
    behind the other jobs (issue 18 measured a step at 920 ms that way, against 46 ms on a quiet machine)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if n_workers == 1 and load >= physical_cores() - 0.5 and set_blas_threads(1):
        print(f"the machine is busy (load {load:.1f}): training on one BLAS thread")


def run(args) -> dict:
    out_dir = run_folder(args)
    given = {name: getattr(args, name) for name in TrainConfig.__dataclass_fields__
             if getattr(args, name, None) is not None}
    if args.resume:
        model, tokenizer, meta = load_trained(out_dir / "checkpoint.safetensors")
        if meta["model_type"] != args.model:
            raise ValueError(f"{out_dir} holds a {meta['model_type']} run, not {args.model}; "
                             f"pass --model {meta['model_type']}")
        config = resumed_config(args.model, meta, given, out_dir)
    else:
        config = train_config(args.model, **given)
    n_workers = chosen_workers(args.workers, config.batch_size)
    text = read_corpus(args.corpus)
    if not args.resume:
        tokenizer = _tokenizer(args, text)
        overrides = {}
        if args.context is not None:
            overrides["context_length"] = args.context
        if args.dropout is not None:
            overrides["dropout"] = args.dropout
        seed.manual_seed(config.seed)  # --seed fixes the initial weights as well as the batches
        model = new_model(args.model, args.preset, tokenizer, **overrides)
    train_ids, val_ids = split_corpus(text, tokenizer, model.config.context_length)
    check_batch_fits(model.config, config.batch_size, f"--batch-size {config.batch_size}")
    print(f"corpus: {len(text):,} characters -> {len(train_ids) + len(val_ids):,} tokens "
          f"({len(train_ids):,} train, {len(val_ids):,} val)")
    print(f"model: {args.model} '{args.preset}', {model.num_parameters():,} parameters; "
          f"{config.steps} steps of {config.batch_size} x {model.config.context_length} tokens"
          f"{f' on {n_workers} data-parallel workers' if n_workers > 1 else ''}")
    task = task_for(model, tokenizer, **_task_options(args))
    for line in task.recipe_notes(model):
        print(line)
    if not args.resume and args.samples:
        for line in task.show_before_training(model, tokenizer):
            print(line)
    busy_machine_threads(n_workers)
    summary = pretrain(model, task, tokenizer, train_ids, val_ids, config, out_dir, args.preset, resume=args.resume,
                       workers=n_workers)
    print(f"\ndone: {done_line(summary)}")
    picture = write_loss_picture(out_dir)
    if summary["stopped"] == "finished":
        report, fills = held_out_scores(model, tokenizer, val_ids, unigram_counts(train_ids, model.config.vocab_size),
                                        text, task)
        summary["held_out"], summary["word_fills"] = report, fills
        print()
        for line in report_lines(report, fills, tokenizer):
            print(line)
        if args.samples:
            show_what_it_learned(task, model, tokenizer, args.samples)
        print_next_steps(args.model, out_dir, summary, picture)
    return summary


def done_line(summary: dict) -> str:
    """step, losses (the validation loss only once measured) and where the checkpoints are."""
    parts = [f"step {summary['step']}", f"train loss {summary['train_loss']:.4f}"]
    if summary["val_loss"] is not None:
        parts.append(f"val loss {summary['val_loss']:.4f}")
    if summary.get("best_val_loss") is not None:
        parts.append(f"best val loss {summary['best_val_loss']:.4f} at step {summary['best_step']} "
                     f"({summary['best_checkpoint']})")
    return f"{', '.join(parts)}; checkpoint {summary['checkpoint']}"


def write_loss_picture(out_dir: Path) -> Path | None:
    """RUN_DIR/loss.png when matplotlib is installed (None without it, or before the first log line)."""
    try:
        return plot_png([out_dir], out_dir / "loss.png")
    except (ImportError, FileNotFoundError, ValueError):  # no matplotlib; no log (yet)
        (out_dir / "loss.png").unlink(missing_ok=True)  # an earlier run's picture would mislead
        return None


def print_next_steps(kind: str, out_dir: Path, summary: dict, picture: Path | None) -> None:
    """The commands to try next, with this run's paths (the best checkpoint if the last one overfitted)."""
    checkpoint = summary["best_checkpoint"] if summary.get("overfitting") else summary["checkpoint"]
    command = "python -m minitransformer"
    print(f"\nnext (loss curves: {picture})" if picture else "\nnext:")
    if kind != "bert":  # a BERT fills masks, it does not generate (the demo above shows it)
        print(f"  {command} generate --checkpoint {shlex.quote(checkpoint)} --top-k 40")
    print(f"  {command} evaluate --checkpoint {shlex.quote(checkpoint)}")
    if kind != "t5":  # finetune takes gpt and bert
        print(f"  {command} finetune --checkpoint {shlex.quote(checkpoint)} --task acceptability")
    print(f"  {command} plot {shlex.quote(str(out_dir))}")


def run_folder(args) -> Path:
    """The run folder, checked before any work: a fresh run never replaces another run's checkpoint
    and log unless --overwrite says so, a resumed one takes no model flags, and the folder must be
    writable (rather than found out after training)."""
    out_dir = Path(args.out or f"runs/{args.model}")
    if args.resume and args.overwrite:
        raise ValueError("--resume continues the run in the folder and --overwrite replaces it; pass one of them")
    fixed = [flag for flag, value in (("--context", args.context), ("--dropout", args.dropout),
                                      ("--tokenizer", args.tokenizer)) if value is not None]
    if args.resume and fixed:
        raise ValueError(f"{' and '.join(fixed)} cannot change a run being resumed (its checkpoint fixes the model "
                         "and the tokenizer); drop them, or start a new run")
    found = [name for name in RUN_FILES if (out_dir / name).exists()]
    if args.resume and RUN_FILES[0] not in found:
        raise FileNotFoundError(f"--resume: {out_dir} holds no {RUN_FILES[0]}; start without --resume")
    if found and not (args.resume or args.overwrite):
        raise ValueError(f"{out_dir} already holds a run ({', '.join(found)}); pass --resume to continue it, "
                         "--overwrite to start again, or another --out")
    return prepare_output_folder(out_dir, "--out")


def resumed_config(kind: str, meta: dict, given: dict, out_dir: Path) -> TrainConfig:
    """The run's own training settings with the flags given now on top (--steps 3000 trains on);
    refuses to "resume" a run that has already done all its steps."""
    where = out_dir / RUN_FILES[0]
    saved = meta.get("train_config")
    if not isinstance(saved, dict):
        raise CheckpointError(f"{where}: its metadata has no train_config object; the file is damaged")
    settings = {name: _saved_setting(name, value, where) for name, value in saved.items()
                if name not in given and name in TrainConfig.__dataclass_fields__}
    config = train_config(kind, **settings, **given)
    step = meta.get("step")
    if isinstance(step, int) and step >= config.steps:
        raise ValueError(f"{out_dir}: the run is finished, at step {step} of {config.steps}; to train on, "
                         f"pass --resume with --steps larger than {step}")
    return config


def _saved_setting(name: str, value, where: Path):
    """One training setting read from a checkpoint, checked by the rule of its flag."""
    if name == "betas":  # no flag: Adam's two averaging rates
        if not (isinstance(value, list) and len(value) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1 for v in value)):
            raise CheckpointError(f"{where}: its train_config betas must be two numbers in [0, 1), got {value!r}")
        return tuple(value)
    if name not in TRAIN_FLAG_TYPES or (value is None and TrainConfig.__dataclass_fields__[name].default is None):
        return value  # min_lr None: lr / 10
    try:
        return TRAIN_FLAG_TYPES[name](str(value))
    except argparse.ArgumentTypeError as error:
        raise CheckpointError(f"{where}: its train_config {name} {error}; the file is damaged") from None


def _task_options(args) -> dict:
    """--mask-prob for BERT, --noise-density and --finish-density for T5; given to another model, an error."""
    options = {"mask_prob": (args.mask_prob, "bert"), "noise_density": (args.noise_density, "t5"),
               "finish_density": (args.finish_density, "t5")}
    chosen = {}
    for name, (value, kind) in options.items():
        if value is None:
            continue
        if args.model != kind:
            raise ValueError(f"--{name.replace('_', '-')} is an option of --model {kind}, not {args.model}")
        chosen[name] = value
    return chosen


def _tokenizer(args, text: str):
    """The --tokenizer file, or a BPE trained on the corpus; says which."""
    if args.tokenizer:
        tokenizer = load_tokenizer(args.tokenizer)
        print(f"tokenizer: {args.tokenizer} ({tokenizer.vocab_size} tokens)")
    else:
        tokenizer = task_tokenizer(args.model, args.preset, text, args.vocab_size, args.context,
                                   **_task_options(args))
        print(f"tokenizer: byte-level BPE, {tokenizer.vocab_size} tokens, trained on {len(text):,} characters "
              f"(special tokens: {' '.join(_shortened(tokenizer.special_tokens))})")
    return tokenizer


def _shortened(names: list) -> list:
    """T5's sentinels as one range: <extra_id_0>...<extra_id_6>."""
    sentinels = [name for name in names if name.startswith("<extra_id_")]
    others = [name for name in names if name not in sentinels]
    if len(sentinels) > 2:
        sentinels = [f"{sentinels[0]}...{sentinels[-1]}"]
    return others + sentinels


def show_what_it_learned(task, model, tokenizer, samples: int) -> None:
    """GPT: samples; BERT: its guesses for masked words; T5: the spans it fills."""
    try:
        for line in task.show(model, tokenizer, samples):
            print(line)
    except ValueError as error:  # a demo text longer than a very small model's context
        print(f"(no demo: {error})")
