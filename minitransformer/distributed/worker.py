"""One data-parallel worker process: its shard's gradients, its columns of the all-reduce and update."""

from __future__ import annotations

import contextlib
import math
import signal
import traceback
import types

import numpy as np

from .. import seed
from ..allocator import keep_freed_memory
from .shared import FlatBuffers, shard_bounds


def worker_main(rank, world_size, pipe, name, shapes, model, task, optimizer_class):
    """A worker process: ignore Ctrl-C and SIGTERM, then do what the main process asks until it says stop."""
    for number in (signal.SIGINT, signal.SIGTERM):  # the main process decides when the run stops
        signal.signal(number, signal.SIG_IGN)
    keep_freed_memory()  # without it page faults make each worker ~40% slower (allocator.py)
    worker = Worker(rank, world_size, FlatBuffers(shapes, world_size, name), model, task, optimizer_class)
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
            reply = getattr(worker, message[0])(*message[1:])  # backward, all_reduce or step
        except Exception as error:  # noqa: BLE001 - sent to the main process, which stops the run
            reply = ("error", traceback.format_exception_only(type(error), error)[-1].strip())
            with contextlib.suppress(OSError):
                pipe.send(reply)
    worker.close()


class Worker:
    """Rank `rank` of `world_size`: its model's parameters are views of the shared weights."""

    def __init__(self, rank, world_size, buffers: FlatBuffers, model, task, optimizer_class=None):
        self.rank, self.world_size, self.buffers = rank, world_size, buffers
        self.model, self.task = model, task
        self.params = model.parameters()
        self.optimizer = optimizer_class(self.params) if optimizer_class else None  # its update(), for my columns
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
        mine = np.sum(rows[:, self.columns], axis=0, out=total[self.columns])
        return "reduced", float(np.vdot(mine, mine))  # my part of the squared global norm, for clipping

    def step(self, scale, groups, group_of, steps, optimizer_order, has_grad) -> tuple:
        """Clip and update my columns of the flat parameters: the optimizer's own update() on the
        piece of each parameter that falls in them, with that piece of its gradient and moments."""
        b = self.buffers
        lo, hi = self.columns.start, self.columns.stop
        if scale < 1.0:
            b.grad_sum[lo:hi] *= scale
        for position, index in enumerate(optimizer_order):  # position: the optimizer's numbering
            start, stop = max(b.offsets[index], lo), min(b.offsets[index + 1], hi)
            if start >= stop or not has_grad[index]:
                continue
            piece = types.SimpleNamespace(data=b.flat_params[start:stop])
            state = {"step": steps[position], "exp_avg": b.exp_avg[start:stop], "exp_avg_sq": b.exp_avg_sq[start:stop]}
            self.optimizer.update(piece, b.grad_sum[start:stop], groups[group_of[position]], state)
        return ("stepped",)

    def close(self) -> None:
        self.my_grads = self.params = self.model = None
        self.buffers.close(unlink=False)
