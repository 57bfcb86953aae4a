"""The lecture's three ways to pretrain, as three models built from the same blocks.

gpt.py         GPT: decoder-only, causal LM (next-token prediction); can generate
bert.py        BERT: encoder-only, masked LM; bidirectional, cannot generate
t5.py          T5-style encoder-decoder, span corruption; generates conditioned on an input
generation.py  greedy / temperature / top-k / top-p token choice and the decoding loop, shared by GPT and T5
demos.py       text in, text out: GPT continues a prompt, BERT guesses masked words, T5 fills spans
size.py        a config checked, and the model's size bounded, before anything is allocated

MODEL_TYPES below is the one table from the command line's names ("gpt", "bert", "t5") to the
classes; everything else asks a model object (or its class) what to do, not its name.
"""

from dataclasses import replace

from .bert import BERT, BERT_PRESETS, BertConfig, bert_config
from .generation import choose_next_token
from .gpt import GPT, GPT_PRESETS, GPTConfig, gpt_config
from .size import check_config, config_from_dict
from .t5 import T5, T5_PRESETS, T5Config, t5_config

MODEL_TYPES = {
    "gpt": (GPT, GPTConfig, GPT_PRESETS),
    "bert": (BERT, BertConfig, BERT_PRESETS),
    "t5": (T5, T5Config, T5_PRESETS),
}


def model_type(kind: str) -> tuple:
    """(model class, config class, presets) of a model type, or a clear error for an unknown name."""
    if not isinstance(kind, str) or kind not in MODEL_TYPES:
        raise ValueError(f"unknown model type {kind!r}; choose one of {sorted(MODEL_TYPES)}")
    return MODEL_TYPES[kind]


def model_type_of(model_or_class) -> str:
    """The name ('gpt', 'bert' or 't5') of a model's type (or a model class's), as checkpoints store it."""
    cls = model_or_class if isinstance(model_or_class, type) else type(model_or_class)
    for kind, (model_class, _, _) in MODEL_TYPES.items():
        if issubclass(cls, model_class):
            return kind
    raise ValueError(f"{cls.__name__} is none of the model types {sorted(MODEL_TYPES)}")


def build_model(kind: str, preset: str = "tiny", **overrides):
    """A fresh model of type 'gpt', 'bert' or 't5' from a named preset, with fields overridden."""
    model_class, _, presets = model_type(kind)
    if preset not in presets:
        raise ValueError(f"unknown {kind} preset {preset!r}; choose one of {sorted(presets)}")
    return model_class(check_config(replace(presets[preset], **overrides), f"{kind} preset {preset!r}"))


def model_from_config(kind: str, config: dict):
    """Rebuild a model from the config dict saved in a checkpoint."""
    model_class, config_class, _ = model_type(kind)
    return model_class(config_from_dict(config_class, config, f"{kind} config"))


__all__ = ["GPT", "GPTConfig", "gpt_config", "GPT_PRESETS", "BERT", "BertConfig", "bert_config", "BERT_PRESETS",
           "T5", "T5Config", "t5_config", "T5_PRESETS", "choose_next_token", "build_model", "model_from_config",
           "model_type", "model_type_of", "MODEL_TYPES"]
