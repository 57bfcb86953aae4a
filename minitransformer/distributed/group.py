"""DataParallel: the main process's side of data-parallel training (see the package docstring)."""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import threading
from multiprocessing import connection

import numpy as np

from .. import seed
from ..blas_threads import get_blas_threads, set_blas_threads
from ..optim import Adam
from ..tensor import Tensor
from .shared import FlatBuffers, shard_bounds
from .worker import worker_main

START_METHOD = "spawn"
ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


class WorkerFailed(RuntimeError):
    """A data-parallel worker raised an error or died; the message names the worker."""


class DataParallel:
    """The main process's side: start `world_size` workers for `model` and `task`; then each step
    `backward(batches, scale)` leaves the summed gradient in the parameters' .grad and
    `clip_and_step(max_norm)` clips it and applies `optimizer` (the Trainer's loop, train.py):

        with DataParallel(model, task, world_size=2, optimizer=optimizer) as ddp:
            losses = ddp.backward(micro_batches, scale=1 / grad_accum)
            grad_norm = ddp.clip_and_step(max_norm=1.0)
            optimizer.zero_grad()

    While it is open the model's parameters (and Adam's moments) live in shared memory; `close()`
    copies them back into ordinary arrays.
    """

    def __init__(self, model, task, world_size: int, optimizer=None):
        if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
            raise ValueError(f"data-parallel workers must be an integer >= 1, got {world_size!r}")
        self.model, self.task, self.world_size = model, task, world_size
        self.params = model.parameters()
        # Adam's update is elementwise: each worker can apply it to its columns (ZeRO, see clip_and_step)
        self.optimizer = optimizer
        self.sharded = isinstance(optimizer, Adam)
        if any(p.dtype != np.float32 for p in self.params):
            raise TypeError("data-parallel training needs float32 parameters")
        self.buffers = None
        self.workers, self.pipes = [], []
        self.blas_threads = None  # this process's BLAS threads before start(), restored by close()
        self.has_grad = None  # per parameter: did any worker's shard give it a gradient (backward)
        self.squared_norms = None  # each worker's part of the squared gradient norm (all_reduce)
        self.optimizer_order = self.moment_views = None  # the sharded optimizer's bookkeeping (start)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self) -> "DataParallel":
        """Put the weights in shared memory and start the workers; an OSError if either cannot be had
        (no room in /dev/shm, a file-size limit), with nothing left behind."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        self.buffers = FlatBuffers([p.shape for p in self.params], self.world_size)
        for p, view in zip(self.params, self.buffers.views(self.buffers.flat_params)):
            view[...] = p.data
            p.data = view  # the optimizer now updates the shared weights in place
        if self.sharded:
            self._share_optimizer_state()
        # One BLAS thread here too: after a multi-threaded BLAS call (the clip's dot products) OpenBLAS's
        # threads spin for a while, on the cores the workers need.
        self.blas_threads = get_blas_threads()
        set_blas_threads(1)
        context = mp.get_context(START_METHOD)
        saved_env = {name: os.environ.get(name) for name in ONE_THREAD}
        os.environ.update(ONE_THREAD)  # read by each worker's NumPy (spawn: a fresh interpreter)
        # Ctrl-C ignored from birth: an ignored signal stays ignored across exec, and Python keeps it so
        previous_sigint = _ignore_sigint()
        try:
            for rank in range(self.world_size):
                ours, theirs = context.Pipe()
                worker = context.Process(target=worker_main, name=f"minitransformer-worker-{rank}", daemon=True,
                                         args=(rank, self.world_size, theirs, self.buffers.name,
                                               [p.shape for p in self.params], self.model, self.task,
                                               type(self.optimizer) if self.sharded else None))
                worker.start()
                theirs.close()  # only the worker holds its end: if it dies, our recv() sees EOF
                self.workers.append(worker)
                self.pipes.append(ours)
        finally:
            if previous_sigint is not None:
                signal.signal(signal.SIGINT, previous_sigint)
            for name, value in saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        self._gather("ready")

    def backward(self, batches: list, scale: float = 1.0) -> list:
        """Each micro-batch's mean loss over the whole batch; the summed gradient is left in p.grad.

        The gradient is that of sum(losses) * scale, as if one process had run
        `(task.loss(model, b) * scale).backward()` for each b in batches.
        """
        jobs = [[] for _ in range(self.world_size)]
        totals = []
        for batch in batches:
            if len(batch[0]) < self.world_size:
                raise ValueError(f"a batch of {len(batch[0])} cannot be split across {self.world_size} workers; "
                                 "use fewer workers or a larger batch")
            bounds = shard_bounds(len(batch[0]), self.world_size)
            shards = [self.task.shard(batch, start, stop) for start, stop in bounds]
            counts = [self.task.loss_tokens(shard) for shard in shards]
            total = sum(counts)
            totals.append(total)
            for rank, (shard, count, (start, stop)) in enumerate(zip(shards, counts, bounds)):
                weight = scale * count / total if total else 0.0
                jobs[rank].append((shard, weight, start, stop, len(batch[0])))
        state = seed.get_rng_state()
        self._send([("backward", state, job) for job in jobs])
        replies = self._gather("losses")
        self.all_reduce()
        losses = [sum(reply[0][i] for reply in replies) / total if total else float("nan")
                  for i, total in enumerate(totals)]
        seed.set_rng_state(replies[0][1])  # every rank ends where one process would (seed.batch_random)
        self.has_grad = np.logical_or.reduce([reply[2] for reply in replies])
        for p, grad, has_grad in zip(self.params, self.buffers.views(self.buffers.grad_sum), self.has_grad):
            p.grad = Tensor._wrap(grad) if has_grad else None
        return losses

    def all_reduce(self) -> None:
        """Sum the workers' gradient rows into the shared gradient (each worker adds up its columns)."""
        self._send([("all_reduce",)] * self.world_size)
        self.squared_norms = [reply[0] for reply in self._gather("reduced")]

    def clip_and_step(self, max_norm: float) -> float | None:
        """Clip the summed gradient's global norm to max_norm (0: no clipping) and apply the optimizer;
        returns the norm before clipping, as clip_grad_norm_ does (None without clipping).

        With Adam or AdamW each worker clips and updates its own 1/world_size of the flat parameters,
        Adam's moments included (ZeRO stage 1: the optimizer state is split, never copied), so the
        update runs on every core instead of one.  The moments live in shared memory as views the
        main process's optimizer holds, so its state_dict (and the checkpoint) stays whole.
        Other optimizers step here, in the main process.
        """
        norm = math.sqrt(sum(self.squared_norms)) if max_norm else None
        scale = max_norm / (norm + 1e-6) if max_norm else 1.0
        if not self.sharded:
            if scale < 1.0:
                self.buffers.grad_sum *= scale
            self.optimizer.step()
            return norm
        groups, group_of, steps = [], [], []
        for index, group in enumerate(self.optimizer.param_groups):
            groups.append({name: value for name, value in group.items() if name != "params"})
            group_of.extend([index] * len(group["params"]))
        for p, used in zip(self.optimizer._all_params(), self._has_grad_in_optimizer_order()):
            if used and "step" not in self.optimizer.state.get(id(p), {}):  # its first update: fresh moments
                self.optimizer.state[id(p)] = {"step": 0, "exp_avg": self.moment_views[0][id(p)],
                                               "exp_avg_sq": self.moment_views[1][id(p)]}
            steps.append(self.optimizer.state.get(id(p), {}).get("step", 0))
        self._send([("step", scale, groups, group_of, steps, self.optimizer_order, self.has_grad)] * self.world_size)
        self._gather("stepped")
        for p, used in zip(self.optimizer._all_params(), self._has_grad_in_optimizer_order()):
            if used:
                self.optimizer.state[id(p)]["step"] += 1
        return norm

    def _has_grad_in_optimizer_order(self) -> list:
        return [self.has_grad[i] for i in self.optimizer_order]

    def _share_optimizer_state(self) -> None:
        """Adam's moments into shared memory: the optimizer's state arrays become views of it."""
        index_of = {id(p): i for i, p in enumerate(self.params)}
        self.optimizer_order = [index_of[id(p)] for p in self.optimizer._all_params()]  # model index of each
        self.moment_views = [{id(p): view for p, view in zip(self.params, self.buffers.views(flat))}
                             for flat in (self.buffers.exp_avg, self.buffers.exp_avg_sq)]
        for p in self.params:
            state = self.optimizer.state.get(id(p), {})
            for name, views in zip(("exp_avg", "exp_avg_sq"), self.moment_views):
                if name in state:  # resumed from a checkpoint
                    views[id(p)][...] = state[name]
                    state[name] = views[id(p)]

    def _send(self, messages: list) -> None:
        for rank, message in enumerate(messages):
            try:
                self.pipes[rank].send(message)
            except OSError:  # the worker is gone
                self._died(rank)

    def _gather(self, kind: str) -> list:
        """One reply of `kind` from every worker, in rank order; WorkerFailed if one raised or died."""
        replies = [None] * self.world_size
        waiting = {self.pipes[rank]: rank for rank in range(self.world_size)}
        sentinels = {self.workers[rank].sentinel: rank for rank in range(self.world_size)}
        while waiting:
            for ready in connection.wait([*waiting, *sentinels]):
                if ready in sentinels and ready not in waiting:
                    rank = sentinels[ready]
                    if self.pipes[rank] in waiting and not self.pipes[rank].poll():
                        self._died(rank)
                    continue
                rank = waiting.pop(ready)
                try:
                    message = ready.recv()
                except (EOFError, OSError):
                    self._died(rank)
                if message[0] == "error":
                    self._fail(rank, f"raised {message[1]}")
                assert message[0] == kind, (message[0], kind)
                replies[rank] = message[1:]
        return replies

    def _died(self, rank: int):
        worker = self.workers[rank]
        worker.join(5.0)  # its pipe closes a moment before its exit status can be read
        self._fail(rank, f"died ({_exit_reason(worker.exitcode)})")

    def _fail(self, rank: int, what: str):
        raise WorkerFailed(f"data-parallel worker {rank} (pid {self.workers[rank].pid}) {what}")

    def close(self) -> None:
        """Stop the workers (politely, then by force), copy the weights out of shared memory, unlink it."""
        for pipe in self.pipes:
            try:
                pipe.send(None)
            except (OSError, ValueError):
                pass
        for worker in self.workers:
            worker.join(5.0)
            if worker.is_alive():
                worker.kill()
                worker.join()
        for pipe in self.pipes:
            pipe.close()
        self.workers, self.pipes = [], []
        if self.buffers is not None:
            for p in self.params:
                p.data = p.data.copy()
                p.grad = None
            for state in (self.optimizer.state.values() if self.sharded else ()):
                for name in ("exp_avg", "exp_avg_sq"):
                    if name in state:
                        state[name] = state[name].copy()
            self.moment_views = None
            self.buffers.close(unlink=True)
            self.buffers = None
        if self.blas_threads is not None:
            set_blas_threads(self.blas_threads)
            self.blas_threads = None


def _ignore_sigint():
    """Ignore Ctrl-C while the workers are started (main thread only); returns the handler to restore."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _exit_reason(code) -> str:
    if code is None:
        return "no exit code"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
