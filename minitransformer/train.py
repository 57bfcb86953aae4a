"""The training loop: one loop for all three ways to pretrain, and for any model.

What differs between GPT, BERT and T5 is only how a batch is made from the token stream and which
loss is computed on it: a *task* (CausalLM, MaskedLM, SpanCorruption in objectives/) provides
both, so the trainer never needs to know which model it trains.  `Trainer.run()` reads top to
bottom, one named method per line of the pseudo-code:

    restore the run from its checkpoint (--resume), or start a fresh log; start the workers (if > 1)
    for each step:
        set the learning rate from the schedule (warmup, then cosine decay)
        for each micro-batch (gradient accumulation): batch = task.training_batch(..., step / steps)
            loss = task.loss(batch); loss.backward()
            (with workers > 1: each worker does this on its shard and the gradients are summed)
        clip the gradient norm; optimizer step (with workers: each its slice); zero the gradients
        log; now and then evaluate on held-out text and save a checkpoint

A checkpoint holds everything needed to continue *exactly*: weights, optimizer state, step,
and the states of both random generators (batches and dropout), so `--resume` reproduces the
losses of an uninterrupted run.  Ctrl-C finishes the current step, saves, and stops; a loss that
becomes NaN or inf stops the run and keeps the last good checkpoint.  At the end the run reports
its FLOP/s against this machine's matmul rate (flops.py), for models that can count their FLOPs.
With `workers` > 1 the gradients come from that many data-parallel worker processes
(distributed/), with the same losses to float32 rounding; a worker that fails stops the run.
SIGTERM (a polite kill) counts as Ctrl-C; a second one stops at once, keeping the last checkpoint.
A checkpoint is saved only while the weights and the optimizer state are finite: a diverging
update can leave the loss finite but the weights not, and that is no "good" state to resume.
Beside the last checkpoint, best.safetensors keeps the weights of the lowest validation loss; when
validation loss stays above that best for OVERFIT_PATIENCE evaluations in a row the run says so once
(the model is memorizing its training text, typical of a big model on a small corpus).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import checkpoint, seed
from .allocator import keep_freed_memory
from .checks import is_integer
from .distributed import DataParallel, WorkerFailed
from .files import atomic_write_bytes, remove_stale_temp_files
from .flops import counts_flops, training_efficiency
from .objectives import CausalLM, MaskedLM, SpanCorruption  # re-exported: the tasks train() is given
from .optim import AdamW, WarmupCosine, clip_grad_norm_, set_lr, weight_decay_groups
from .stop_signals import StopOnCtrlC, TrainingInterrupted  # noqa: F401  (TrainingInterrupted: re-exported)
from .tensor import no_grad


OVERFIT_PATIENCE = 3  # evaluations in a row above the best validation loss before the run calls it overfitting


class TrainingDiverged(RuntimeError):
    """The loss, the weights or the optimizer state became NaN or infinite."""


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


@no_grad()
def evaluate(model, task, ids, config: TrainConfig) -> float:
    """Mean loss over a fixed set of held-out batches (the same batches at every evaluation)."""
    was_training = model.training
    model.eval()
    rng = np.random.default_rng(config.seed + 1)
    losses = [task.loss(model, task.batch(ids, config.batch_size, rng)).item() for _ in range(config.eval_batches)]
    model.train(was_training)
    return float(np.mean(losses))


def perplexity(loss: float) -> float:
    """e^loss: the number of equally likely tokens the model is, on average, choosing between."""
    return math.exp(min(loss, 700.0))  # past e^700 a float overflows


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Trainer:
    """One training run of `model` on `task`: its optimizer, schedule, random state and files.

    As minGPT's Trainer: the model and the task are arguments, the loop is `run()`.  All state a
    checkpoint must restore lives here: the weights (in the model), the optimizer, `step` and the
    batch generator `data_rng` (the dropout generator is the engine's, seed.py).
    """

    def __init__(self, model, task, train_ids, val_ids, config: TrainConfig, out_dir, metadata: dict,
                 log=print, on_step=None, workers: int = 1):
        keep_freed_memory()  # reuse freed blocks instead of page-faulting fresh ones (allocator.py)
        self.model, self.task, self.config = model, task, config
        self.train_ids, self.val_ids = train_ids, val_ids
        self.metadata, self.log, self.on_step = metadata, log, on_step
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoint_path = self.out_dir / "checkpoint.safetensors"
        self.best_path = self.out_dir / "best.safetensors"
        self.log_path = self.out_dir / "log.jsonl"
        self.best = None  # (val loss, step) of the lowest validation loss so far: what best.safetensors holds
        self.evals_since_best = 0
        self.best_unsaved = False  # a new best, written by save_best() at the end of this step
        self.optimizer = AdamW(weight_decay_groups(model, config.weight_decay), lr=config.lr, betas=config.betas)
        min_lr = config.lr / 10 if config.min_lr is None else config.min_lr
        self.schedule = WarmupCosine(config.lr, total=config.steps, warmup=min(config.warmup, config.steps),
                                     min_lr=min_lr)
        self.data_rng = np.random.default_rng(config.seed)  # batches
        seed.manual_seed(config.seed)  # dropout; restore() replaces both states when resuming
        self.step = 0
        self.saved_step = None  # the step of the last checkpoint this run saved (or resumed from)
        self.tokens_per_step = config.batch_size * config.grad_accum * task.context
        self.workers, self.data_parallel = workers, None  # DataParallel checks workers against the batch

    def run(self, resume: bool = False) -> dict:
        """Train until config.steps (or Ctrl-C); returns the summary described in `train`."""
        if resume:
            self.restore()
        else:
            self.start_fresh_log()
        self.model.train()
        summary = {"stopped": "finished", "train_loss": None, "val_loss": None}
        self.start_time, self.start_step = time.perf_counter(), self.step
        self.train_seconds = 0.0  # inside training steps only: no evaluation or checkpoints
        with StopOnCtrlC(lambda: f"interrupted twice: stopped at once, without saving; {self.kept()}") as ctrl_c, \
                self.start_workers():
            while self.step < self.config.steps:
                step_start = time.perf_counter()
                lr = self.set_learning_rate()
                train_loss = self.accumulate_gradients()
                grad_norm = self.clip_and_step()
                self.train_seconds += time.perf_counter() - step_start
                self.step += 1
                summary["train_loss"] = train_loss
                if self.on_step is not None:
                    self.on_step(self.step, train_loss)

                if self.due(self.config.log_every):
                    self.log_progress(train_loss, lr, grad_norm)
                if self.due(self.config.eval_every):
                    summary["val_loss"] = self.evaluate_and_log()
                if self.due(self.config.checkpoint_every):
                    self.save_checkpoint()
                self.save_best()  # after the checkpoint: if the disk fills, the run's own file is named
                if ctrl_c.requested:
                    if not self.due(self.config.log_every):  # log.jsonl ends with the step the run stopped at
                        self.log_progress(train_loss, lr, grad_norm)
                    self.save_checkpoint()
                    self.log(f"interrupted: saved {self.checkpoint_path} at step {self.step}; continue with --resume")
                    summary["stopped"] = "interrupted"
                    break
        return self.finish(summary)

    # -- the steps of run(), in order ----------------------------------------------------------

    def restore(self) -> None:
        """Continue where the checkpoint left off: weights, optimizer, step and both generators."""
        if not self.checkpoint_path.exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {self.checkpoint_path}; start without --resume")
        saved = checkpoint.load(self.checkpoint_path, self.model, self.optimizer)
        self.restore_counters(saved.metadata)
        self.saved_step = self.step
        remove_stale_temp_files(self.checkpoint_path)  # left by a run killed mid-save
        remove_stale_temp_files(self.best_path)
        self.trim_log()
        self.log(f"resumed from {self.checkpoint_path} at step {self.step}")

    def restore_counters(self, metadata: dict) -> None:
        """The step and both generators' states, or a CheckpointError if the metadata is damaged."""
        where = f"{self.checkpoint_path}: cannot resume"
        try:
            step = metadata["step"]
            if not is_integer(step) or step < 0:
                raise ValueError(f"step must be an integer >= 0, got {step!r}")
            self.data_rng.bit_generator.state = metadata["data_rng"]
            seed.set_rng_state(metadata["engine_rng"])
        except KeyError as error:
            raise checkpoint.CheckpointError(f"{where}: its metadata lacks {error}; the file is damaged") from None
        except (TypeError, ValueError, OverflowError) as error:
            raise checkpoint.CheckpointError(f"{where}: {error}; the file is damaged") from None
        self.step = step
        best = metadata.get("best_val")  # [val loss, step, evaluations since]; absent in older checkpoints
        if isinstance(best, list) and len(best) == 3 and all(isinstance(v, (int, float)) for v in best):
            self.best, self.evals_since_best = (float(best[0]), int(best[1])), int(best[2])

    def trim_log(self) -> None:
        """Drop log records of steps after the checkpoint, which a killed run wrote and the resumed
        run repeats (and lines torn by the kill), so that log.jsonl reads as one run."""
        if not self.log_path.exists():
            return
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        kept = []
        for line in lines:
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(record, dict) and is_integer(record.get("step")) and record["step"] <= self.step:
                kept.append(line + "\n")
        if len(kept) < len(lines):
            atomic_write_bytes(self.log_path, "".join(kept).encode("utf-8"))

    def start_fresh_log(self) -> None:
        for path in (self.log_path, self.best_path):  # a fresh run starts a fresh log, and its own best
            if path.exists():
                path.unlink()

    @contextlib.contextmanager
    def start_workers(self):
        """With workers > 1, the data-parallel workers for the length of the run (stopped however it ends)."""
        try:
            if self.workers > 1:
                self.data_parallel = DataParallel(self.model, self.task, self.workers, self.optimizer).start()
        except OSError as error:  # e.g. no room in /dev/shm, or a file-size limit: train here instead
            self.log(f"data-parallel workers unavailable ({error}); training in this process")
        try:
            yield
        except WorkerFailed as error:
            raise WorkerFailed(f"{error}; stopped; {self.kept()}") from None
        finally:
            if self.data_parallel is not None:
                self.data_parallel.close()
            self.data_parallel = None

    def set_learning_rate(self) -> float:
        lr = self.schedule(self.step)
        set_lr(self.optimizer, lr)
        return lr

    def accumulate_gradients(self) -> float:
        """Sum the gradients of grad_accum micro-batches; returns their mean loss.

        Each micro-batch loss is scaled by 1 / grad_accum, so the summed gradient is the gradient
        of the mean loss: the same as one batch grad_accum times as large.
        """
        config = self.config
        progress = self.step / config.steps  # the share of training done: some tasks change their batches with it
        batches = [self.task.training_batch(self.train_ids, config.batch_size, self.data_rng, progress)
                   for _ in range(config.grad_accum)]
        if self.data_parallel is not None:  # each worker its shard of every batch; gradients summed
            losses = self.data_parallel.backward(batches, scale=1.0 / config.grad_accum)
        else:
            losses = []
            for batch in batches:
                loss = self.task.loss(self.model, batch)
                losses.append(loss.item())
                if math.isfinite(losses[-1]):
                    (loss * (1.0 / config.grad_accum)).backward()
        for loss in losses:
            if not math.isfinite(loss):  # steps count from 1, as in the log
                raise TrainingDiverged(f"the loss became {loss} at step {self.step + 1}; stopped; "
                                       f"{self.kept()}. Try a lower --lr or stronger --grad-clip.")
        return sum(losses) / config.grad_accum

    def clip_and_step(self) -> float | None:
        """Clip the global gradient norm (returns it before clipping), step, and zero the gradients."""
        grad_clip = self.config.grad_clip
        if self.data_parallel is not None:  # each worker clips and updates its slice of the weights (ZeRO)
            grad_norm = self.data_parallel.clip_and_step(grad_clip)
        else:
            grad_norm = clip_grad_norm_(self.model.parameters(), grad_clip) if grad_clip else None
            self.optimizer.step()
        self.optimizer.zero_grad()
        return grad_norm

    def due(self, every: int) -> bool:
        """Whether a periodic action (log, evaluation, checkpoint) falls on this step; the last always does."""
        return self.step % every == 0 or self.step == self.config.steps

    def log_progress(self, train_loss: float, lr: float, grad_norm: float | None) -> None:
        config = self.config
        per_step = (time.perf_counter() - self.start_time) / max(1, self.step - self.start_step)
        self.log(f"step {self.step:5d}/{config.steps} | loss {train_loss:.4f} (ppl {perplexity(train_loss):.1f}) | "
                 f"lr {lr:.2e} | "
                 f"{self.tokens_per_step / per_step:8,.0f} tok/s | "
                 f"ETA {format_duration(per_step * (config.steps - self.step))}")
        self.write_log({"step": self.step, "train_loss": train_loss, "lr": lr, "grad_norm": grad_norm,
                        "ms_per_step": per_step * 1e3})

    def evaluate_and_log(self) -> float:
        val_loss = evaluate(self.model, self.task, self.val_ids, self.config)
        self.log(f"step {self.step:5d} | val loss {val_loss:.4f} (ppl {perplexity(val_loss):.1f})")
        self.write_log({"step": self.step, "val_loss": val_loss})
        self.keep_best(val_loss)
        return val_loss

    def keep_best(self, val_loss: float) -> None:
        """Note a new lowest validation loss (save_best writes it); say once when it keeps rising above it."""
        if self.best is None or val_loss < self.best[0]:
            self.best, self.evals_since_best, self.best_unsaved = (val_loss, self.step), 0, True
            return
        self.evals_since_best += 1
        if self.evals_since_best == OVERFIT_PATIENCE:
            best_loss, best_step = self.best
            self.log(f"overfitting: val loss {val_loss:.4f} vs best {best_loss:.4f} at step {best_step}; the best "
                     f"checkpoint is kept at {self.best_path}. The model is memorizing its training text: for a "
                     "small corpus try a smaller --preset or fewer --steps")

    def kept(self) -> str:
        """What a stopped run leaves behind, for its message."""
        if self.saved_step is None:
            return "no checkpoint was saved yet"
        return f"the last good checkpoint, saved at step {self.saved_step} ({self.checkpoint_path}), is kept"

    def save_checkpoint(self) -> None:
        """Save the run, unless a weight or an optimizer array holds NaN or inf: then stop instead."""
        self.write_checkpoint(self.checkpoint_path)
        self.saved_step = self.step

    def save_best(self) -> None:
        """best.safetensors, if this step's evaluation was a new best."""
        if self.best_unsaved:
            self.write_checkpoint(self.best_path)
            self.best_unsaved = False

    def write_checkpoint(self, path: Path) -> None:
        """The run's state at this step to `path` (atomically), or TrainingDiverged if it is not finite."""
        bad = checkpoint.non_finite_arrays(self.model, self.optimizer)
        if bad:
            raise TrainingDiverged(f"after step {self.step} {len(bad)} weight or optimizer array(s) hold NaN or inf "
                                   f"(e.g. {bad[0]}); stopped without saving; {self.kept()}. "
                                   "Try a lower --lr or stronger --grad-clip.")
        best_val = None if self.best is None else [*self.best, self.evals_since_best]
        checkpoint.save(path, self.model, self.optimizer, **self.metadata, step=self.step,
                        train_config=asdict(self.config), data_rng=self.data_rng.bit_generator.state,
                        engine_rng=seed.get_rng_state(), best_val=best_val)

    def write_log(self, record: dict) -> None:
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def finish(self, summary: dict) -> dict:
        """The summary, with how fast the training steps ran if the model can count its FLOPs."""
        summary["step"] = self.step
        summary["checkpoint"] = str(self.checkpoint_path)
        if self.best is not None:
            summary.update(best_val_loss=self.best[0], best_step=self.best[1], best_checkpoint=str(self.best_path),
                           overfitting=self.evals_since_best >= OVERFIT_PATIENCE)
        summary["seconds"] = time.perf_counter() - self.start_time
        summary["train_seconds"] = self.train_seconds
        if self.step > self.start_step and counts_flops(self.model):
            tokens = self.tokens_per_step * (self.step - self.start_step)
            summary.update(training_efficiency(self.model, tokens, self.train_seconds))
            self.log(f"achieved {summary['flops_per_second'] / 1e9:.2f} GFLOP/s in training steps = "
                     f"{summary['mfu']:.1%} of this machine's float32 matmul rate "
                     f"({summary['matmul_probe']}; "
                     "FLOPs counted as 6N + 6 L T d per token)")
        return summary


def train(model, task, train_ids, val_ids, config: TrainConfig, out_dir, metadata: dict,
          resume: bool = False, log=print, on_step=None, workers: int = 1) -> dict:
    """Train `model` on `task` for config.steps steps; checkpoints and log.jsonl go to out_dir.

    metadata (model type, config, tokenizer, ...) is stored in every checkpoint.
    on_step(step, train_loss), if given, is called after every step (e.g. to collect a loss curve).
    Returns a summary: final step, last train loss, last val loss, stop reason, and how fast the
    training steps ran: FLOP/s achieved and as a fraction of this machine's matmul rate ('mfu').
    workers > 1 trains data-parallel in that many processes (distributed/).
    """
    return Trainer(model, task, train_ids, val_ids, config, out_dir, metadata, log, on_step, workers).run(resume)
