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
from .corpus import split_train_val
from .models import build_model, model_from_config, model_type, model_type_of
from .models.demos import fill_spans_t5, guess_masks_bert, sample_gpt  # re-exported: the demos
from .objectives import NUM_SENTINELS, task_class_for
from .tokenizers import BPETokenizer
from .tokenizers.special_tokens import PRETRAINING_SPECIAL_TOKENS, t5_sentinel_tokens
from .train import TrainConfig, train

SPECIAL_TOKENS = [*PRETRAINING_SPECIAL_TOKENS, *t5_sentinel_tokens(NUM_SENTINELS)]

__all__ = ["SPECIAL_TOKENS", "make_tokenizer", "load_tokenizer", "load_trained", "new_model", "split_corpus",
           "make_task", "train_config", "pretrain", "sample_gpt", "fill_spans_t5", "guess_masks_bert"]


def make_tokenizer(text: str, vocab_size: int) -> BPETokenizer:
    """A byte-level BPE trained on `text`, with every special token of SPECIAL_TOKENS."""
    tokenizer = BPETokenizer(kind="byte")
    tokenizer.train([text], vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS)
    return tokenizer


def load_tokenizer(path) -> BPETokenizer:
    """A tokenizer from its JSON file, or the one stored inside a checkpoint."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return load_trained(path)[1]
    return BPETokenizer.load(path)


def load_trained(path):
    """(model, tokenizer, metadata) from a checkpoint written by `pretrain`."""
    saved = checkpoint.load(path)
    meta = saved.metadata
    if "model_type" not in meta or "tokenizer" not in meta:
        raise checkpoint.CheckpointError(f"{path}: not a minitransformer pretraining checkpoint "
                                         "(no model_type/tokenizer in its metadata)")
    model = model_from_config(meta["model_type"], meta["model_config"])
    checkpoint.load(path, model)
    return model, BPETokenizer.from_dict(meta["tokenizer"]), meta


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


def train_config(kind: str, **given) -> TrainConfig:
    """TrainConfig with the learning rate that suits the model type's task, unless `given` sets one."""
    return TrainConfig(**{"lr": task_class_for(model_type(kind)[0]).default_lr, **given})


def pretrain(model, task, tokenizer, train_ids, val_ids, config: TrainConfig, out_dir, preset: str,
             resume: bool = False, log=print) -> dict:
    """Train `model` on `task`; every checkpoint also holds what `load_trained` needs to rebuild it."""
    metadata = {"model_type": model_type_of(model), "model_config": model.config.to_dict(),
                "tokenizer": tokenizer.to_dict(), "preset": preset}
    return train(model, task, train_ids, val_ids, config, out_dir, metadata, resume=resume, log=log)
