"""The training loop: one loop for all three ways to pretrain.

What differs between GPT, BERT and T5 is only how a batch is made from the token stream and which
loss is computed on it: a *task* (CausalLM, MaskedLM, SpanCorruption below) provides both.  The loop
itself, `train()`, reads top to bottom:

    for each step:
        set the learning rate from the schedule (warmup, then cosine decay)
        for each micro-batch (gradient accumulation): loss = task.loss(batch); loss.backward()
        clip the gradient norm; optimizer step; zero the gradients
        log; now and then evaluate on held-out text and save a checkpoint

A checkpoint holds everything needed to continue *exactly*: weights, optimizer state, step,
and the states of both random generators (batches and dropout), so `--resume` reproduces the
losses of an uninterrupted run.  Ctrl-C finishes the current step, saves, and stops; a loss that
becomes NaN or inf stops the run and keeps the last good checkpoint.
"""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import checkpoint, seed
from .allocator import keep_freed_memory
from .info import training_efficiency
from .objectives import IGNORE_INDEX, causal_lm_batch, mask_tokens, span_corruption_batch, span_corruption_lengths
from .optim import AdamW, WarmupCosine, clip_grad_norm_, set_lr, weight_decay_groups
from .tensor import no_grad


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class TrainConfig:
    steps: int = 1500
    batch_size: int = 16
    lr: float = 3e-3
    min_lr: float | None = None  # None: lr / 10
    warmup: int = 50
    weight_decay: float = 0.1
    betas: tuple = (0.9, 0.99)
    grad_clip: float = 1.0
    grad_accum: int = 1
    log_every: int = 50
    eval_every: int = 250
    eval_batches: int = 8
    checkpoint_every: int = 250
    seed: int = 0


# --------------------------------------------------------------------------------------------
# Tasks: how each objective turns a token stream into a batch and a loss
# --------------------------------------------------------------------------------------------


@dataclass
class CausalLM:
    """GPT: every position predicts the next token (inputs and targets shifted by one)."""

    context: int

    def batch(self, ids, batch_size, rng):
        return causal_lm_batch(ids, batch_size, self.context, rng)

    def loss(self, model, batch):
        inputs, targets = batch
        return model(inputs, targets)[1]


@dataclass
class MaskedLM:
    """BERT: [CLS] window [SEP], 15% of tokens chosen (80% [MASK], 10% random, 10% kept), predict them."""

    context: int
    vocab_size: int
    cls_id: int
    sep_id: int
    mask_id: int
    special_ids: list = field(default_factory=list)

    def batch(self, ids, batch_size, rng):
        windows, _ = causal_lm_batch(ids, batch_size, self.context - 2, rng)
        column = np.full((batch_size, 1), 0, dtype=windows.dtype)
        framed = np.concatenate([column + self.cls_id, windows, column + self.sep_id], axis=1)
        return mask_tokens(framed, self.vocab_size, self.mask_id, self.special_ids, rng)

    def loss(self, model, batch):
        inputs, labels = batch
        return model.mlm(inputs, labels)[1]


@dataclass
class SpanCorruption:
    """T5: hide ~15% of a window in spans of mean length 3; the decoder writes the hidden spans."""

    context: int
    sentinel_ids: list
    eos_id: int
    pad_id: int

    @property
    def window(self) -> int:
        """The longest window whose corrupted input still fits the context."""
        length = self.context
        while span_corruption_lengths(length)[0] > self.context:
            length -= 1
        return length

    def batch(self, ids, batch_size, rng):
        windows, _ = causal_lm_batch(ids, batch_size, self.window, rng)
        return span_corruption_batch(list(windows), self.sentinel_ids, self.eos_id, self.pad_id, rng)

    def loss(self, model, batch):
        targets = np.where(batch.target_mask, batch.target_ids, IGNORE_INDEX)
        return model(batch.input_ids, targets)[1]


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------


@no_grad()
def evaluate(model, task, ids, config: TrainConfig) -> float:
    """Mean loss over a fixed set of held-out batches (the same batches at every evaluation)."""
    was_training = model.training
    model.eval()
    rng = np.random.default_rng(config.seed + 1)
    losses = [task.loss(model, task.batch(ids, config.batch_size, rng)).item() for _ in range(config.eval_batches)]
    model.train(was_training)
    return float(np.mean(losses))


class _StopOnCtrlC:
    """While active, the first Ctrl-C only asks the loop to stop after the current step.

    Python delivers signals to the main thread only; elsewhere (train() run in a worker thread)
    Ctrl-C keeps its usual meaning.
    """

    def __enter__(self):
        self.requested = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def train(model, task, train_ids, val_ids, config: TrainConfig, out_dir, metadata: dict,
          resume: bool = False, log=print, on_step=None) -> dict:
    """Train `model` on `task` for config.steps steps; checkpoints and log.jsonl go to out_dir.

    metadata (model type, config, tokenizer, ...) is stored in every checkpoint.
    on_step(step, train_loss), if given, is called after every step (e.g. to collect a loss curve).
    Returns a summary: final step, last train loss, last val loss, stop reason, and how fast the
    training steps ran: FLOP/s achieved and as a fraction of this machine's matmul rate ('mfu').
    """
    keep_freed_memory()  # reuse freed blocks instead of page-faulting fresh ones (allocator.py)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = out_dir / "checkpoint.safetensors"
    log_path = out_dir / "log.jsonl"

    optimizer = AdamW(weight_decay_groups(model, config.weight_decay), lr=config.lr, betas=config.betas)
    min_lr = config.lr / 10 if config.min_lr is None else config.min_lr
    schedule = WarmupCosine(config.lr, total=config.steps, warmup=min(config.warmup, config.steps), min_lr=min_lr)
    data_rng = np.random.default_rng(config.seed)
    seed.manual_seed(config.seed)
    step = 0
    if not resume and log_path.exists():
        log_path.unlink()  # a fresh run starts a fresh log
    if resume:
        if not ckpt_path.exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {ckpt_path}; start without --resume")
        saved = checkpoint.load(ckpt_path, model, optimizer)
        step = saved.metadata["step"]
        data_rng.bit_generator.state = saved.metadata["data_rng"]
        seed.set_rng_state(saved.metadata["engine_rng"])
        log(f"resumed from {ckpt_path} at step {step}")

    def save_checkpoint():
        checkpoint.save(ckpt_path, model, optimizer, **metadata, step=step, train_config=asdict(config),
                        data_rng=data_rng.bit_generator.state, engine_rng=seed.get_rng_state())

    def write_log(record):
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    model.train()
    tokens_per_step = config.batch_size * config.grad_accum * task.context
    summary = {"stopped": "finished", "train_loss": None, "val_loss": None}
    start_time, start_step = time.perf_counter(), step
    train_seconds = 0.0  # inside training steps only: no evaluation or checkpoints
    with _StopOnCtrlC() as ctrl_c:
        while step < config.steps:
            step_start = time.perf_counter()
            lr = schedule(step)
            set_lr(optimizer, lr)
            loss_sum = 0.0
            for _ in range(config.grad_accum):
                loss = task.loss(model, task.batch(train_ids, config.batch_size, data_rng))
                if not math.isfinite(loss.item()):
                    raise TrainingDiverged(
                        f"the loss became {loss.item()} at step {step}; stopped. The last good checkpoint "
                        f"({ckpt_path if ckpt_path.exists() else 'none saved yet'}) is kept. "
                        "Try a lower --lr or stronger --grad-clip.")
                (loss * (1.0 / config.grad_accum)).backward()
                loss_sum += loss.item()
            grad_norm = clip_grad_norm_(model.parameters(), config.grad_clip) if config.grad_clip else None
            optimizer.step()
            optimizer.zero_grad()
            train_seconds += time.perf_counter() - step_start
            step += 1
            train_loss = loss_sum / config.grad_accum
            summary["train_loss"] = train_loss
            if on_step is not None:
                on_step(step, train_loss)

            if step % config.log_every == 0 or step == config.steps:
                elapsed = time.perf_counter() - start_time
                per_step = elapsed / max(1, step - start_step)
                log(f"step {step:5d}/{config.steps} | loss {train_loss:.4f} | lr {lr:.2e} | "
                    f"{tokens_per_step / per_step:8,.0f} tok/s | ETA {format_duration(per_step * (config.steps - step))}")
                write_log({"step": step, "train_loss": train_loss, "lr": lr, "grad_norm": grad_norm,
                           "ms_per_step": per_step * 1e3})
            if step % config.eval_every == 0 or step == config.steps:
                val_loss = evaluate(model, task, val_ids, config)
                summary["val_loss"] = val_loss
                log(f"step {step:5d} | val loss {val_loss:.4f}")
                write_log({"step": step, "val_loss": val_loss})
            if step % config.checkpoint_every == 0 or step == config.steps:
                save_checkpoint()
            if ctrl_c.requested:
                save_checkpoint()
                log(f"interrupted: saved {ckpt_path} at step {step}; continue with --resume")
                summary["stopped"] = "interrupted"
                break
    summary["step"] = step
    summary["checkpoint"] = str(ckpt_path)
    summary["seconds"] = time.perf_counter() - start_time
    summary["train_seconds"] = train_seconds
    if step > start_step and hasattr(model, "config"):
        summary.update(training_efficiency(model, tokens_per_step * (step - start_step), train_seconds))
        log(f"achieved {summary['flops_per_second'] / 1e9:.2f} GFLOP/s in training steps = {summary['mfu']:.1%} of "
            f"this machine's float32 matmul rate ({summary['matmul_flops_per_second'] / 1e9:.1f} GFLOP/s; "
            "FLOPs counted as 6N + 6 L T d per token)")
    return summary
