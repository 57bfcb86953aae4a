"""A model's size, known before it is built: check its config, and refuse what cannot fit.

Building a model allocates every weight at once, so a config that comes from a file or a flag
is checked first: vocab_size 10**12 would ask for terabytes, n_layers 10**7 would build blocks
for hours, n_heads 0 would divide by zero.  `check_config` refuses such a config with one clear
error before anything is allocated; `build_model` and `model_from_config` (models/__init__.py)
call it.  The size is bounded from below by the matrices every model here has (GPT, BERT, T5):

    parameters >= d (V + C + S + K) + L (4 d^2 + 2 d f) + N H R

embeddings for V tokens and C positions (S segment types and a K-label classifier where the
config has them), in each of the L layers the four d x d attention projections and the two
d x f feed-forward matrices.  With relative positions there is no embedding per position (C = 0)
but a table of R buckets for each of H heads in each of the N stacks (T5: 2, BERT: 1).  Biases,
norms and T5's decoder only add to it, so a model that the bound says cannot fit certainly
cannot, and the bound never refuses a model that fits.  The same
bound refuses a checkpoint whose config claims more weights than its file holds.

Training a batch of B rows of T tokens holds at least the logits and one hidden state per layer
for the backward pass, B T (V + L d) numbers: `check_batch_fits` refuses a batch size that cannot.
"""

from __future__ import annotations

import math
import os
from dataclasses import fields, replace

from ..checks import is_integer
from ..nn import ACTIVATIONS, NORMS, POSITIONS

try:
    import resource  # the process's limits (ulimit); POSIX only
except ImportError:
    resource = None

BYTES_PER_WEIGHT = 4  # float32
SIZE_FIELDS = ("vocab_size", "context_length", "n_layers", "n_heads", "d_model", "d_ff")
MAY_BE_ZERO = {"n_layers", "num_labels", "pad_id"}  # a 0-layer GPT is a bigram model; no classifier head
# string fields that name one of a few things
CHOICES = {"activation": ACTIVATIONS, "norm": NORMS, "positions": POSITIONS}


def parameter_lower_bound(config) -> int:
    """At least this many weights (the bound in the module docstring); exact Python integers."""
    c = config
    relative = getattr(c, "positions", "absolute") == "relative"
    positions = 0 if relative else c.context_length  # relative positions have no embedding per position
    tables = c.vocab_size + positions + getattr(c, "type_vocab_size", 0) + getattr(c, "num_labels", 0)
    bias_tables = getattr(c, "relative_stacks", 1) * c.n_heads * c.relative_buckets if relative else 0
    return c.d_model * tables + c.n_layers * (4 * c.d_model ** 2 + 2 * c.d_model * c.d_ff) + bias_tables


def memory_limit() -> tuple[int, str] | None:
    """(bytes, what they are): the machine's memory, or the process's limit (ulimit -v) if lower."""
    limits = []
    try:
        limits.append((os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "this machine's memory"))
    except (AttributeError, ValueError, OSError):  # not every platform reports it
        pass
    for name in ("RLIMIT_AS", "RLIMIT_DATA") if resource else ():
        soft, _ = resource.getrlimit(getattr(resource, name))
        if soft != resource.RLIM_INFINITY:
            limits.append((soft, f"this process's memory limit ({name}, ulimit -v)"))
    return min(limits) if limits else None


def human_bytes(count: int) -> str:
    """1536 -> '1.5 KiB'; up to EiB, then plain EiB."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    power = min(len(units) - 1, max(0, (count.bit_length() - 1) // 10)) if count else 0
    return f"{count / 1024 ** power:,.1f} {units[power]}" if power else f"{count} B"


def _sizes(config) -> str:
    return ", ".join(f"{name}={getattr(config, name)}" for name in SIZE_FIELDS)


def _check_field(config, field, where: str, error: type[Exception]) -> None:
    """One config field against the type of its default: int, float (finite), bool or str."""
    name, value, default = field.name, getattr(config, field.name), field.default
    if isinstance(default, bool):
        ok, wanted = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        low = 0 if name in MAY_BE_ZERO else 1
        ok, wanted = is_integer(value) and value >= low, "a positive integer" if low else "an integer >= 0"
    elif isinstance(default, float):
        real = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if name == "dropout":
            ok, wanted = real and 0 <= value < 1, "a probability in [0, 1)"
        else:
            ok, wanted = real and (value > 0 if name == "ln_eps" else value >= 0), "a finite number >= 0"
    elif name in CHOICES:
        ok, wanted = isinstance(value, str) and value in CHOICES[name], f"one of {sorted(CHOICES[name])}"
    elif isinstance(default, str):
        ok, wanted = isinstance(value, str), "a string"
    else:
        return
    if not ok:
        raise error(f"{where}: {name} must be {wanted}, got {value!r}")


def check_config(config, where: str = "model config", stored_weights: int | None = None,
                 weights_file: str = "the file", error: type[Exception] = ValueError):
    """`config` if every field is sensible and the model fits; otherwise one clear error.

    stored_weights: how many weights `weights_file` (where the config came from) holds; a config
    that needs more (the bound above) does not belong to it, and is refused before anything is built.
    A model that cannot fit in memory is a MemoryError that names both sizes; any other problem
    is `error` (a file reader passes its own format error).
    """
    for field in fields(config):
        _check_field(config, field, where, error)
    if config.d_model % config.n_heads:
        raise error(f"{where}: d_model {config.d_model} is not divisible by n_heads {config.n_heads}; "
                         "each head gets d_model / n_heads dimensions")
    if getattr(config, "pad_id", 0) >= config.vocab_size:
        raise error(f"{where}: pad_id {config.pad_id} is not a token id (vocab_size {config.vocab_size})")
    needed = parameter_lower_bound(config)
    if stored_weights is not None and needed > stored_weights:
        raise error(f"{where}: a model with {_sizes(config)} has at least {needed:,} weights, but "
                         f"{weights_file} holds {stored_weights:,}; the config does not belong to these weights")
    limit = memory_limit()
    if limit is not None and needed * BYTES_PER_WEIGHT > limit[0]:
        raise MemoryError(f"{where}: a model with {_sizes(config)} has at least {needed:,} weights, "
                          f"{human_bytes(needed * BYTES_PER_WEIGHT)} as float32, more than {limit[1]} "
                          f"({human_bytes(limit[0])}); choose smaller sizes")
    return config


def check_batch_fits(config, batch_size: int, where: str = "training") -> None:
    """A MemoryError before training if one batch's activations (the bound above) cannot fit."""
    c = config
    needed = BYTES_PER_WEIGHT * batch_size * c.context_length * (c.vocab_size + c.n_layers * c.d_model)
    limit = memory_limit()
    if limit is not None and needed > limit[0]:
        raise MemoryError(f"{where}: a batch of {batch_size} x {config.context_length} tokens needs at least "
                          f"{human_bytes(needed)} for its activations (logits and hidden states), more than "
                          f"{limit[1]} ({human_bytes(limit[0])}); use a smaller --batch-size (with --grad-accum "
                          "for the same tokens per step)")


def config_from_dict(config_class, data, where: str = "model config", stored_weights: int | None = None):
    """A checked `config_class` from plain data (a checkpoint's JSON); unknown or missing fields are named."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: the model config must be a JSON object, got {type(data).__name__}")
    known = {field.name for field in fields(config_class)}
    unknown = sorted(map(str, set(data) - known))
    if unknown:
        raise ValueError(f"{where}: the model config has unknown field(s) {unknown}; known: {sorted(known)}")
    return check_config(config_class(**data), where, stored_weights)


def preset_parameters(model_class, config) -> int:
    """The exact parameter count of `config`, without building the (maybe 500 MB) model: the count is
    affine in the vocabulary size, the context length and the number of layers, so three small
    models with one of them changed each give its slope."""
    base = replace(config, vocab_size=64, context_length=16, n_layers=0)
    count = lambda **change: model_class(replace(base, **change)).num_parameters()
    p0 = count()
    return (p0 + (count(vocab_size=65) - p0) * (config.vocab_size - 64)
            + (count(context_length=17) - p0) * (config.context_length - 16) + (count(n_layers=1) - p0) * config.n_layers)
