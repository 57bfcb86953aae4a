"""Pretraining end to end, as library functions: corpus -> tokenizer -> model -> task -> train.

This is the main job of the README.  Each model type gets the task of its paper (objectives/):
GPT causal LM, BERT masked LM, T5 span corruption; one tokenizer with every special token they
need (and fine-tuning needs) serves all three.  The `pretrain` and `generate` commands
(commands/) call these functions and print what happens; a lesson or a notebook can call them too.
A checkpoint written by `pretrain` holds the model type, its config and the tokenizer, so
`load_trained` rebuilds everything from the file alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import checkpoint
from .corpus import read_corpus, split_train_val
from .evaluation import HeldOutReport, held_out_report, unigram_counts
from .models import MODEL_TYPES, build_model, model_type, model_type_of
from .models.demos import fill_spans_t5, guess_masks_bert, sample_gpt  # re-exported: the demos
from .models.size import config_from_dict
from .objectives import task_class_for
from .tokenizers import BPETokenizer
from .tokenizers.special_tokens import PRETRAINING_SPECIAL_TOKENS, t5_sentinel_tokens
from .train import TrainConfig, train
from .word_fills import WordFillReport, word_fill_report, words_of

# One tokenizer for all three objectives: every special token, and sentinels for contexts up to ~256.
SPECIAL_TOKENS = [*PRETRAINING_SPECIAL_TOKENS, *t5_sentinel_tokens(16)]

__all__ = ["SPECIAL_TOKENS", "make_tokenizer", "task_tokenizer", "load_tokenizer", "load_trained", "new_model", "split_corpus",
           "make_task", "train_config", "pretrain", "evaluate_model", "held_out_scores", "report_lines", "sample_gpt",
           "fill_spans_t5", "guess_masks_bert"]


def make_tokenizer(text: str, vocab_size: int, special_tokens=SPECIAL_TOKENS) -> BPETokenizer:
    """A byte-level BPE trained on `text`.  By default it holds the special tokens of all three
    objectives (one tokenizer for a lesson that trains GPT, BERT and T5 on the same ids);
    `task_tokenizer` gives a model only the ones its task uses."""
    tokenizer = BPETokenizer(kind="byte")
    tokenizer.train([text], vocab_size=vocab_size, special_tokens=list(special_tokens))
    return tokenizer


def task_tokenizer(kind: str, preset: str, text: str, vocab_size: int, context_length: int | None = None,
                   **task_options):
    """A byte-level BPE for pretraining a `kind` model of this preset: only its task's special tokens
    (T5: as many sentinels as its context needs at its noise density, a task option)."""
    _, _, presets = model_type(kind)
    if preset not in presets:
        raise ValueError(f"unknown {kind} preset {preset!r}; choose one of {sorted(presets)}")
    context = context_length or presets[preset].context_length
    task = task_class_for(model_type(kind)[0])
    return make_tokenizer(text, vocab_size, task.tokenizer_special_tokens(context, **task_options))


def load_tokenizer(path) -> BPETokenizer:
    """A tokenizer from its JSON file, or the one stored inside a checkpoint."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return load_trained(path)[1]
    return BPETokenizer.load(path)


def load_trained(path):
    """(model, tokenizer, metadata) from a checkpoint written by `pretrain`.

    What the file says is checked before the model is built: a sensible config that needs no
    more weights than the file holds and fits in memory (models/size.py), finite weights.
    """
    saved = checkpoint.load(path)
    meta = saved.metadata
    if "model_type" not in meta or "tokenizer" not in meta:
        raise checkpoint.CheckpointError(f"{path}: not a minitransformer pretraining checkpoint "
                                         "(no model_type/tokenizer in its metadata)")
    try:
        model_class, config_class, _ = model_type(meta["model_type"])
        config = config_from_dict(config_class, meta.get("model_config"), "model_config",
                                  stored_weights=sum(array.size for array in saved.weights.values()))
        tokenizer = BPETokenizer.from_dict(meta["tokenizer"])
    except MemoryError as error:
        raise MemoryError(f"{path}: {error}") from None
    except ValueError as error:  # TokenizerFileError too
        raise checkpoint.CheckpointError(f"{path}: {error}") from None
    if tokenizer.vocab_size > config.vocab_size:
        raise checkpoint.CheckpointError(f"{path}: its tokenizer has {tokenizer.vocab_size} tokens but the model only "
                                         f"{config.vocab_size} embeddings; the file is damaged")
    _check_unigram_counts(path, meta.get("unigram_counts"), config.vocab_size)
    checkpoint.check_finite_weights(path, saved.weights)
    model = model_class(config)
    checkpoint.load(path, model)
    return model, tokenizer, meta


MAX_COUNT = 2 ** 53  # a count float64 holds exactly; no corpus here comes near it


def _check_unigram_counts(path, counts, vocab_size: int) -> None:
    """The training split's token counts `evaluate` compares with: one whole number from 0 to
    MAX_COUNT per token, or None (a checkpoint from before they were saved)."""
    if counts is None:
        return
    problem = None
    if not isinstance(counts, list) or len(counts) != vocab_size:
        got = f"a list of {len(counts)}" if isinstance(counts, list) else repr(counts)[:40]
        problem = f"got {got}"
    else:
        for i, count in enumerate(counts):
            if type(count) is not int or not 0 <= count <= MAX_COUNT:  # bool is an int: refused too
                problem = f"unigram_counts[{i}] is {repr(count)[:40]}"
                break
    if problem:
        raise checkpoint.CheckpointError(f"{path}: its unigram_counts must be {vocab_size} whole numbers from 0 to "
                                         f"2**53, one per token; {problem}; the file is damaged")


def new_model(kind: str, preset: str, tokenizer, **overrides):
    """A fresh model of type `kind` sized for `tokenizer`: its vocabulary, and what its task needs.

    The initial weights come from the engine's generator: seed it (seed.manual_seed) first.
    """
    task = task_class_for(model_type(kind)[0])
    return build_model(kind, preset, vocab_size=tokenizer.vocab_size, **task.config_overrides(tokenizer),
                       **overrides)


def split_corpus(text: str, tokenizer, context_length: int) -> tuple:
    """(train ids, validation ids) of the tokenized corpus; an error if validation cannot fill one window."""
    ids = np.array(tokenizer.encode(text), dtype=np.int64)
    train_ids, val_ids = split_train_val(ids)
    if len(val_ids) <= context_length + 1:
        raise ValueError(f"the corpus is too small: {len(ids):,} tokens leave {len(val_ids):,} for validation, "
                         f"fewer than one window of {context_length + 1}; give more text or a smaller --context")
    return train_ids, val_ids


def make_task(kind: str, model, tokenizer):
    """The pretraining task of the model type named `kind`, for this model and tokenizer."""
    return task_class_for(model_type(kind)[0]).from_model(model, tokenizer)


def default_steps_by_model() -> dict:
    """{"gpt": 1500, "bert": 2500, ...}: the steps `pretrain` takes for each model type unless told."""
    return {kind: task_class_for(model_type(kind)[0]).default_steps for kind in sorted(MODEL_TYPES)}


def train_config(kind: str, **given) -> TrainConfig:
    """TrainConfig with the learning rate and step count that suit the model type's task, unless
    `given` sets them."""
    task_class = task_class_for(model_type(kind)[0])
    return TrainConfig(**{"lr": task_class.default_lr, "steps": task_class.default_steps, **given})


def pretrain(model, task, tokenizer, train_ids, val_ids, config: TrainConfig, out_dir, preset: str,
             resume: bool = False, log=print, workers: int = 1) -> dict:
    """Train `model` on `task`; every checkpoint also holds what `load_trained` needs to rebuild it.

    workers > 1 trains data-parallel in that many processes (distributed/; a script that uses it
    needs the `if __name__ == "__main__":` guard, since each worker imports the main module)."""
    metadata = {"model_type": model_type_of(model), "model_config": model.config.to_dict(),
                "tokenizer": tokenizer.to_dict(), "preset": preset,
                # the unigram baseline of the training split, so `evaluate` can compare on any text later
                "unigram_counts": unigram_counts(train_ids, model.config.vocab_size).tolist()}
    return train(model, task, train_ids, val_ids, config, out_dir, metadata, resume=resume, log=log, workers=workers)


def evaluate_model(model, tokenizer, metadata: dict, corpus=None) -> tuple:
    """Held-out loss against the baselines (evaluation.py) for a model from `load_trained`, and
    for T5 its hidden-word fills (word_fills.py): (HeldOutReport, WordFillReport or None).

    No corpus: the validation split of the built-in corpus (the text `pretrain` holds out by
    default).  A corpus path: a file or folder of text, all of it scored.  The unigram baseline is
    the training split's, stored in the checkpoint (a checkpoint without it: fitted on the first
    90% of the text, and only the last 10% is scored).
    """
    text = read_corpus(corpus)
    ids = np.array(tokenizer.encode(text), dtype=np.int64)
    counts = metadata.get("unigram_counts")
    if corpus is None or counts is None:
        train_ids, ids = split_train_val(ids)
        counts = unigram_counts(train_ids, model.config.vocab_size) if counts is None else counts
    if len(ids) <= model.config.context_length + 1:
        raise ValueError(f"the text to evaluate has {len(ids):,} tokens, fewer than one window of "
                         f"{model.config.context_length + 1}; give more text")
    return held_out_scores(model, tokenizer, ids, counts, text)


def held_out_scores(model, tokenizer, held_out_ids, counts, text: str, task=None) -> tuple:
    """What `pretrain` ends with and `evaluate` prints: the held-out loss against the baselines,
    and for a task that fills gaps (T5's) how often it fills a hidden word with a word (None for
    the others; BERT's top-1 on the masked tokens is already in the first).  task: the one trained
    with (default: the model's task with its default options)."""
    from .objectives import task_for

    task = task or task_for(model, tokenizer)
    counts = np.asarray(counts, dtype=np.int64)
    report = held_out_report(model, task, held_out_ids, counts)
    fills = word_fill_report(model, tokenizer, held_out_ids, counts, words_of(text)) if task.fills_gaps else None
    return report, fills


def report_lines(report: HeldOutReport, fills: WordFillReport | None, tokenizer) -> list[str]:
    return [*report.lines(tokenizer), *(["", *fills.lines()] if fills is not None else [])]
