"""What the main process and the workers share: the flat buffers, and how a batch is split."""

from __future__ import annotations

import contextlib
import math
import os
from multiprocessing import shared_memory

import numpy as np


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
    """The shared memory of a group, one segment: the flat parameters, their summed gradient,
    Adam's two moments, and one gradient row per rank (float32 each).  Created by the main process (name=None), attached by name in
    the workers; `views(flat)` cuts a flat array into arrays shaped like the parameters.
    """

    def __init__(self, shapes: list, world_size: int, name=None):
        self.shapes = shapes
        self.offsets = np.cumsum([0, *(math.prod(shape) for shape in shapes)]).tolist()
        n = self.offsets[-1]
        self.segment = shared_memory.SharedMemory(name=name, create=name is None, size=4 * n * (world_size + 4))
        self.name = self.segment.name
        table = np.ndarray((world_size + 4, n), np.float32, self.segment.buf)
        self.flat_params, self.grad_sum, self.exp_avg, self.exp_avg_sq = table[:4]
        self.grad_rows = table[4:]

    def views(self, flat: np.ndarray) -> list:
        return [flat[a:b].reshape(shape) for a, b, shape in zip(self.offsets, self.offsets[1:], self.shapes)]

    def close(self, unlink: bool) -> None:
        """Drop our views and unmap; the creator also unlinks (removes the /dev/shm name)."""
        self.flat_params = self.grad_rows = self.grad_sum = self.exp_avg = self.exp_avg_sq = None
        try:
            self.segment.close()
        except BufferError:  # a view is still alive somewhere: the mapping goes when the process does
            pass
        if unlink:
            with contextlib.suppress(FileNotFoundError):
                self.segment.unlink()
