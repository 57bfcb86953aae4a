"""Data-parallel training: `world_size` worker processes, each computing the gradient of its shard.

What PyTorch's DistributedDataParallel does across GPUs, here across the cores of one machine:

    worker `rank` of `world_size` holds samples [start, stop) of every batch (its shard)
    each worker:  loss_r = task.loss(model, shard_r);  backward of loss_r * n_r / n
    all_reduce:   grad = sum over ranks of grad_r
    clip grad to the global norm; AdamW step; every worker computes the next step with the new weights

n_r is the number of positions the shard's loss averages over (task.loss_tokens) and n the
batch's, so sum_r (n_r / n) grad(loss_r) is exactly the gradient of the mean loss over the whole
batch, even when the batch does not split evenly: N workers give one process's losses, to
float32 rounding.  Dropout masks do not depend on the split either (seed.batch_random).

Shared memory instead of messages.  One segment (multiprocessing.shared_memory) holds the flat
float32 parameters, their summed gradient, Adam's two moments and a (world_size, n_params) table
of gradients, one row per rank.  Every worker's parameters are views of the shared ones, so the
"broadcast" of new weights costs nothing.  all_reduce is a reduce-scatter: rank r adds up its
1/world_size slice of the columns, straight into the shared sum every process reads (the
all-gather half is free).  The optimizer step is split the same way, as ZeRO does: rank r clips
and updates its columns of the parameters and of Adam's moments, with AdamW's own update().

The main process is the launcher (what torchrun's agent is to DDP workers) and holds everything
a checkpoint holds: the batch generator, the optimizer (its moments are views of the shared
ones), the step.  It cuts each batch into shards and says when each phase starts: a step is
three rounds of messages, one pipe per worker,

    main -> every worker: ("backward", dropout state, shards)   worker -> main: its losses
    main -> every worker: ("all_reduce",)                        worker -> main: its squared norm
    main -> every worker: ("step", clip scale, hyperparameters)  worker -> main: done

rather than barriers between the workers, because a worker killed inside a barrier would hold
its lock forever; the main process instead sees a dead worker's pipe close at any moment.

Start method: "spawn", on every system.  A spawned worker is a fresh interpreter: it imports
NumPy after OPENBLAS_NUM_THREADS=1 is set, so it gets one BLAS thread (a forked child would
inherit the parent's BLAS thread pool, and fork is unsafe with threads: macOS deprecates it and
Windows has none).  The prices: about a second to start the workers, once per run, and a script
that trains data-parallel needs the `if __name__ == "__main__":` guard (each worker imports the
main module), as with torch.multiprocessing.

Safety: workers ignore Ctrl-C and SIGTERM (the main process decides when to stop and stops them);
a worker that raises or dies stops the run with WorkerFailed naming it; `close()` stops every
worker and unlinks the shared memory; a worker whose main process vanished exits on its own (its
pipe closes), and multiprocessing's resource tracker unlinks the segment the dead process left.

    shared.py   the shared memory (FlatBuffers), how a batch is split, how many workers by default
    group.py    DataParallel: the main process's side (start, backward, all_reduce, clip_and_step, close)
    worker.py   Worker: one worker process's side
"""

from .group import START_METHOD, DataParallel, WorkerFailed
from .shared import FlatBuffers, default_workers, physical_cores, shard_bounds

__all__ = ["START_METHOD", "DataParallel", "WorkerFailed", "FlatBuffers", "default_workers", "physical_cores",
           "shard_bounds"]
