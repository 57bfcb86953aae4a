"""The lecture's three ways to pretrain, as three models built from the same blocks.

gpt.py         GPT: decoder-only, causal LM (next-token prediction); can generate
bert.py        BERT: encoder-only, masked LM; bidirectional, cannot generate
t5.py          T5-style encoder-decoder, span corruption; generates conditioned on an input
generation.py  greedy / temperature / top-k / top-p token choice, shared by GPT and T5
"""

from .bert import BERT, BERT_PRESETS, BertConfig, bert_config
from .generation import choose_next_token
from .gpt import GPT, GPT_PRESETS, GPTConfig, gpt_config
from .t5 import T5, T5_PRESETS, T5Config, t5_config

MODEL_TYPES = {
    "gpt": (GPT, GPTConfig, GPT_PRESETS),
    "bert": (BERT, BertConfig, BERT_PRESETS),
    "t5": (T5, T5Config, T5_PRESETS),
}


def build_model(kind: str, preset: str = "tiny", **overrides):
    """A fresh model of type 'gpt', 'bert' or 't5' from a named preset, with fields overridden."""
    if kind not in MODEL_TYPES:
        raise ValueError(f"unknown model type {kind!r}; choose one of {sorted(MODEL_TYPES)}")
    model_class, _, presets = MODEL_TYPES[kind]
    if preset not in presets:
        raise ValueError(f"unknown {kind} preset {preset!r}; choose one of {sorted(presets)}")
    from dataclasses import replace
    return model_class(replace(presets[preset], **overrides))


def model_from_config(kind: str, config: dict):
    """Rebuild a model from the config dict saved in a checkpoint."""
    if kind not in MODEL_TYPES:
        raise ValueError(f"unknown model type {kind!r}; choose one of {sorted(MODEL_TYPES)}")
    model_class, config_class, _ = MODEL_TYPES[kind]
    return model_class(config_class(**config))


__all__ = ["GPT", "GPTConfig", "gpt_config", "GPT_PRESETS", "BERT", "BertConfig", "bert_config", "BERT_PRESETS",
           "T5", "T5Config", "t5_config", "T5_PRESETS", "choose_next_token", "build_model", "model_from_config",
           "MODEL_TYPES"]
