"""Data-parallel training: `world_size` worker processes, each computing the gradient of its shard.

What PyTorch's DistributedDataParallel does across GPUs, here across the cores of one machine:

    worker `rank` of `world_size` holds samples [start, stop) of every batch (its shard)
    each worker:  loss_r = task.loss(model, shard_r);  backward of loss_r * n_r / n
    all_reduce:   grad = sum over ranks of grad_r
    one AdamW step on grad; every worker computes the next step with the new weights

n_r is the number of positions the shard's loss averages over (task.loss_tokens) and n the
batch's, so sum_r (n_r / n) grad(loss_r) is exactly the gradient of the mean loss over the whole
batch, even when the batch does not split evenly: N workers give one process's losses, to
float32 rounding.  Dropout masks do not depend on the split either (seed.batch_random).

Shared memory instead of messages.  The parameters live in one flat float32 buffer in shared
memory (multiprocessing.shared_memory) and every worker's parameters are views of it, so the
"broadcast" of new weights costs nothing: the main process updates the buffer in place.  The
gradients go to a (world_size, n_params) table, one row per rank.  all_reduce is then a
reduce-scatter: once every row is written, rank r adds up its 1/world_size slice of the columns,
straight into the shared sum every process reads (the all-gather half of an all-reduce is free).
The main process says when: each step is two rounds of messages over one pipe per worker,

    main -> every worker: ("backward", dropout state, shards)   worker -> main: losses
    main -> every worker: ("all_reduce",)                        worker -> main: done

rather than a barrier between the workers, because a worker killed inside a barrier would hold
its lock forever; the main process instead sees a dead worker's pipe close at any moment.

The main process is the launcher (what torchrun's agent is to DDP workers) and holds everything
a checkpoint holds: the batch generator, the optimizer, the step.  It cuts each batch into
shards, sends them with the dropout generator's state, and applies the summed gradient once:
the same update every DDP rank would apply to its own copy.

Start method: "spawn", on every system.  A spawned worker is a fresh interpreter: it imports
NumPy after OPENBLAS_NUM_THREADS=1 is set, so it gets one BLAS thread (a forked child would
inherit the parent's BLAS thread pool, and fork is unsafe with threads: macOS deprecates it and
Windows has none).  The price is about half a second per worker to start, once per run.

Safety: workers ignore Ctrl-C and SIGTERM (the main process decides when to stop and stops them);
a worker that raises or dies stops the run with WorkerFailed naming it; `close()` stops every
worker and unlinks the shared memory, and a worker whose main process vanished exits on its own
(its pipe closes).
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import os
import signal
import traceback
from multiprocessing import connection, shared_memory

import numpy as np

from . import seed
from .allocator import keep_freed_memory
from .blas_threads import get_blas_threads, set_blas_threads
from .tensor import Tensor

START_METHOD = "spawn"
ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


class WorkerFailed(RuntimeError):
    """A data-parallel worker raised an error or died; the message names the worker."""


def physical_cores() -> int:
    """The CPU cores this process may run on, counting each physical core once.

    The CPUs allowed by os.sched_getaffinity (Linux; os.cpu_count elsewhere) are grouped by
    their core (/sys/.../topology/core_id and package id), so two hyper-threads of one core
    count once: they share the core's floating-point units, and a second worker there mostly
    competes with the first.  Where the topology cannot be read every allowed CPU counts.
    """
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    cores = set()
    for cpu in cpus:
        topology = f"/sys/devices/system/cpu/cpu{cpu}/topology"
        try:
            with open(f"{topology}/physical_package_id") as package, open(f"{topology}/core_id") as core:
                cores.add((package.read().strip(), core.read().strip()))
        except OSError:
            cores.add(("cpu", str(cpu)))
    return max(1, len(cores))


def default_workers(batch_size: int) -> int:
    """The physical cores this process may use, at most one worker per sample of the batch."""
    return max(1, min(physical_cores(), batch_size))


def shard_bounds(batch_size: int, world_size: int) -> list:
    """[(start, stop)] of each rank: sizes differ by at most one sample."""
    return [(rank * batch_size // world_size, (rank + 1) * batch_size // world_size) for rank in range(world_size)]


class FlatBuffers:
    """The shared memory of a group, one segment: the flat parameters, one gradient row per rank,
    and their sum (float32 each).  Created by the main process (name=None), attached by name in
    the workers; `views(flat)` cuts a flat array into arrays shaped like the parameters.
    """

    def __init__(self, shapes: list, world_size: int, name=None):
        self.shapes = shapes
        self.offsets = np.cumsum([0, *(math.prod(shape) for shape in shapes)]).tolist()
        n = self.offsets[-1]
        self.segment = shared_memory.SharedMemory(name=name, create=name is None, size=4 * n * (world_size + 2))
        self.name = self.segment.name
        table = np.ndarray((world_size + 2, n), np.float32, self.segment.buf)
        self.flat_params, self.grad_sum, self.grad_rows = table[0], table[1], table[2:]

    def views(self, flat: np.ndarray) -> list:
        return [flat[a:b].reshape(shape) for a, b, shape in zip(self.offsets, self.offsets[1:], self.shapes)]

    def close(self, unlink: bool) -> None:
        """Drop our views and unmap; the creator also unlinks (removes the /dev/shm name)."""
        self.flat_params = self.grad_rows = self.grad_sum = None
        try:
            self.segment.close()
        except BufferError:  # a view is still alive somewhere: the mapping goes when the process does
            pass
        if unlink:
            with contextlib.suppress(FileNotFoundError):
                self.segment.unlink()


class DataParallel:
    """The main process's side: start `world_size` workers for `model` and `task`, then, each step,
    `backward(batches, scale)` leaves the summed gradient in the parameters' .grad.

        with DataParallel(model, task, world_size=2) as ddp:
            losses = ddp.backward(micro_batches, scale=1 / grad_accum)
            clip_grad_norm_(...); optimizer.step(); optimizer.zero_grad()

    While it is open the model's parameters live in shared memory; `close()` copies them back.
    """

    def __init__(self, model, task, world_size: int):
        if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
            raise ValueError(f"data-parallel workers must be an integer >= 1, got {world_size!r}")
        self.model, self.task, self.world_size = model, task, world_size
        self.params = model.parameters()
        if any(p.dtype != np.float32 for p in self.params):
            raise TypeError("data-parallel training needs float32 parameters")
        self.buffers = None
        self.workers, self.pipes = [], []
        self.blas_threads = None  # this process's BLAS threads before start(), restored by close()

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
        # One BLAS thread here too: after a multi-threaded BLAS call (the clip's dot products) OpenBLAS's
        # threads spin for a while, on the cores the workers need.
        self.blas_threads = get_blas_threads()
        set_blas_threads(1)
        context = mp.get_context(START_METHOD)
        saved_env = {name: os.environ.get(name) for name in ONE_THREAD}
        os.environ.update(ONE_THREAD)  # read by each worker's NumPy (spawn: a fresh interpreter)
        try:
            for rank in range(self.world_size):
                ours, theirs = context.Pipe()
                worker = context.Process(target=_worker_main, name=f"minitransformer-worker-{rank}", daemon=True,
                                         args=(rank, self.world_size, theirs, self.buffers.name,
                                               [p.shape for p in self.params], self.model, self.task))
                worker.start()
                theirs.close()  # only the worker holds its end: if it dies, our recv() sees EOF
                self.workers.append(worker)
                self.pipes.append(ours)
        finally:
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
        used = np.logical_or.reduce([reply[2] for reply in replies])
        for p, grad, has_grad in zip(self.params, self.buffers.views(self.buffers.grad_sum), used):
            p.grad = Tensor._wrap(grad) if has_grad else None
        return losses

    def all_reduce(self) -> None:
        """Sum the workers' gradient rows into the shared gradient (each worker adds up its columns)."""
        self._send([("all_reduce",)] * self.world_size)
        self._gather("reduced")

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
            self.buffers.close(unlink=True)
            self.buffers = None
        if self.blas_threads is not None:
            set_blas_threads(self.blas_threads)
            self.blas_threads = None


def _exit_reason(code) -> str:
    if code is None:
        return "no exit code"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _worker_main(rank, world_size, pipe, name, shapes, model, task):
    """A worker process: ignore Ctrl-C and SIGTERM, then do what the main process asks until it says stop."""
    for number in (signal.SIGINT, signal.SIGTERM):  # the main process decides when the run stops
        signal.signal(number, signal.SIG_IGN)
    keep_freed_memory()  # without it page faults make each worker ~40% slower (allocator.py)
    worker = Worker(rank, world_size, FlatBuffers(shapes, world_size, name), model, task)
    reply = ("ready",)
    while reply[0] != "error":
        try:
            pipe.send(reply)
            message = pipe.recv()
        except (EOFError, OSError):  # the main process is gone: exit rather than linger as an orphan
            break
        if message is None:
            break
        try:
            reply = worker.backward(*message[1:]) if message[0] == "backward" else worker.all_reduce()
        except Exception as error:  # noqa: BLE001 - sent to the main process, which stops the run
            reply = ("error", traceback.format_exception_only(type(error), error)[-1].strip())
            with contextlib.suppress(OSError):
                pipe.send(reply)
    worker.close()


class Worker:
    """Rank `rank` of `world_size`: its model's parameters are views of the shared weights."""

    def __init__(self, rank, world_size, buffers: FlatBuffers, model, task):
        self.rank, self.world_size, self.buffers = rank, world_size, buffers
        self.model, self.task = model, task
        self.params = model.parameters()
        for p, view in zip(self.params, buffers.views(buffers.flat_params)):
            p.data = view  # the main process's updates show up here: nothing to copy
        self.my_grads = buffers.views(buffers.grad_rows[rank])
        self.columns = slice(*shard_bounds(buffers.offsets[-1], world_size)[rank])  # my part of the all-reduce
        model.train()

    def backward(self, rng_state, micro_batches) -> tuple:
        """Forward and backward on my shard of each micro-batch; my gradient goes to my row.

        Replies with each micro-batch's shard loss times its token count (the main process divides
        the sum by the batch's count), the dropout generator's state, and which parameters got a gradient.
        """
        seed.set_rng_state(rng_state)
        for p in self.params:
            p.grad = None
        weighted_losses = []
        for shard, weight, start, stop, total in micro_batches:
            with seed.batch_shard(start, stop, total):
                loss = self.task.loss(self.model, shard)  # run even if nothing counts: dropout draws
            value, count = loss.item(), self.task.loss_tokens(shard)
            weighted_losses.append(value * count if count else 0.0)
            if weight and math.isfinite(value):  # a non-finite loss: the main process stops the run
                (loss * weight).backward()
        has_grad = np.array([p.grad is not None for p in self.params])
        for p, row in zip(self.params, self.my_grads):
            row[...] = 0.0 if p.grad is None else p.grad.data
        return "losses", weighted_losses, seed.get_rng_state(), has_grad

    def all_reduce(self) -> tuple:
        """My columns of grad_sum = the sum over ranks of their gradient rows (every row is written:
        the main process asks only once all ranks have replied to `backward`)."""
        rows, total = self.buffers.grad_rows, self.buffers.grad_sum
        np.sum(rows[:, self.columns], axis=0, out=total[self.columns])
        return ("reduced",)

    def close(self) -> None:
        self.my_grads = self.params = self.model = None
        self.buffers.close(unlink=False)
