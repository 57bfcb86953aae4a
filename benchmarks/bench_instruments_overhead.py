"""What the instruments cost when they are off: a nano GPT training step with and without the hooks.

    python benchmarks/bench_instruments_overhead.py [--rounds 20] [--steps 1]

The instruments need three small things in the engine, all present even when no instrument runs:
  1. Function.apply checks `if _tape_recorders:` for every node it creates;
  2. Module.__call__ checks `if _forward_observers:` for every module call;
  3. backward() runs the walk as a generator (`backward_steps`), one yield per node, so the tracer
     and backward() share one implementation.
This script times a full training step of the "nano" preset (nanoGPT's CPU recipe: batch 12,
context 64; forward, backward, clip, AdamW) three ways, interleaved round by round so that noise
from other processes hits all of them alike (garbage collection off while timing, as timeit does),
and reports the best and median of each, in wall time and in CPU time of this process.  NumPy runs
on one thread here (set before it is imported): on a shared machine CPU time then measures the work
rather than the waiting.
  - engine:        the code as it is (hooks present, off);
  - no hooks:      the three methods replaced by hook-free versions written below (what the engine
                   was before the instruments), to measure the difference directly;
  - tape_memory:   the forward pass inside `with tape_memory()`, to show the cost when on.
Then it times the pieces alone (one `if` on an empty list, one generator yield) and multiplies by
how many of each a step performs: a noise-free estimate of the overhead.
"""

import argparse
import gc
import os
import statistics
import time
import timeit

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import minitransformer as mt
from minitransformer import tensor as tensor_module
from minitransformer.instruments import tape_memory
from minitransformer.models import GPT, gpt_config
from minitransformer.nn import module as nn_module
from minitransformer.optim import AdamW, clip_grad_norm_
from minitransformer.tensor import Context, Tensor, sum_to_shape

# ---- hook-free versions of the three methods (measurement baseline only) ----


def apply_without_hook(cls, *args, **kwargs):
    ctx = Context(cls, args)
    arrays = [a.data if isinstance(a, Tensor) else a for a in args]
    out = cls.forward(ctx, *arrays, **kwargs)
    track = tensor_module._grad_enabled and any(ctx.needs_input_grad)
    result = Tensor._wrap(out, requires_grad=track)
    if track:
        result._ctx = ctx
    return result


def call_without_hook(self, *args, **kwargs):
    return self.forward(*args, **kwargs)


def backward_without_generator(self, grad=None, retain_graph=False):
    """The walk of Tensor._walk_backward as a plain loop, without the yield (scalar losses only)."""
    grad = np.ones_like(self.data) if grad is None else grad
    grads = {id(self): grad}
    for node in reversed(self._topological_order()):
        g = grads.pop(id(node), None)
        if node._ctx is None:
            if node.requires_grad and g is not None:
                g = sum_to_shape(g, node.shape).astype(node.dtype, copy=False)
                node.grad = g.copy() if node.grad is None else node.grad + g
            continue
        ctx = node._ctx
        if g is None:
            continue
        input_grads = ctx.function.backward(ctx, g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for inp, needs, ig in zip(ctx.inputs, ctx.needs_input_grad, input_grads):
            if not needs or ig is None:
                continue
            ig = sum_to_shape(np.asarray(ig), inp.shape)
            if ig.dtype != inp.dtype:
                ig = ig.astype(inp.dtype)
            previous = grads.get(id(inp))
            grads[id(inp)] = ig if previous is None else previous + ig
        if not retain_graph:
            ctx.release()


class hooks_removed:
    """Swap in the hook-free methods for the duration of a `with` block."""

    def __enter__(self):
        self.saved = (mt.Function.__dict__["apply"], nn_module.Module.__call__, Tensor.backward)
        mt.Function.apply = classmethod(apply_without_hook)
        nn_module.Module.__call__ = call_without_hook
        Tensor.backward = backward_without_generator

    def __exit__(self, *exc):
        mt.Function.apply, nn_module.Module.__call__, Tensor.backward = self.saved
        return False


class nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ---- one training step ----


def make_step(model, optimizer, x, y, forward_context=nothing):
    def step():
        with forward_context():
            loss = model(x, y)[1]
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
    return step


def per_step_counts(model, x, y):
    """How many nodes, module calls and backward yields one step makes."""
    nodes, calls = [0], [0]

    class CountCalls:
        def enter(self, module, args, kwargs):
            calls[0] += 1

        def exit(self, module, output, raised):
            pass

    recorder = lambda ctx, out: nodes.__setitem__(0, nodes[0] + 1)  # noqa: E731
    tensor_module._tape_recorders.append(recorder)
    nn_module._forward_observers.append(CountCalls())
    try:
        loss = model(x, y)[1]
    finally:
        tensor_module._tape_recorders.clear()
        nn_module._forward_observers.clear()
    yields = sum(1 for _ in loss.backward_steps())
    model.zero_grad()
    return nodes[0], calls[0], yields


def seconds_per_call(statement, setup, number=1_000_000):
    return min(timeit.repeat(statement, setup, number=number, repeat=5)) / number


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=1, help="steps per timing (best-of over rounds)")
    args = parser.parse_args()

    mt.manual_seed(0)
    model = GPT(gpt_config("nano"))
    optimizer = AdamW(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 65, (12, 64)), rng.integers(0, 65, (12, 64))

    variants = {
        "engine (hooks off)": (nothing, make_step(model, optimizer, x, y)),
        "no hooks (baseline)": (hooks_removed, make_step(model, optimizer, x, y)),
        "tape_memory on": (nothing, make_step(model, optimizer, x, y, tape_memory)),
    }
    for around, step in variants.values():  # warm up
        with around():
            step()
    wall = {name: [] for name in variants}
    cpu = {name: [] for name in variants}
    for round_ in range(args.rounds):
        names = list(variants)
        order = names[round_ % len(names):] + names[:round_ % len(names)]  # each variant takes each place in turn
        for name in order:
            around, step = variants[name]
            gc.collect()  # as timeit does: no garbage collection left over from one variant lands in another
            gc.disable()
            with around():
                start, start_cpu = time.perf_counter(), time.process_time()
                for _ in range(args.steps):
                    step()
                wall[name].append((time.perf_counter() - start) / args.steps * 1e3)
                cpu[name].append((time.process_time() - start_cpu) / args.steps * 1e3)
            gc.enable()

    print(f"nano GPT ({model.num_parameters():,} parameters), batch 12 x 64 tokens, one training step; "
          f"{args.rounds} interleaved rounds of {args.steps} steps")
    print(f"{'':<22}{'wall time (ms/step)':>22}{'CPU time (ms/step)':>22}")
    print(f"{'variant':<22}{'best':>11}{'median':>11}{'best':>11}{'median':>11}")
    for name in variants:
        print(f"{name:<22}{min(wall[name]):>11.1f}{statistics.median(wall[name]):>11.1f}"
              f"{min(cpu[name]):>11.1f}{statistics.median(cpu[name]):>11.1f}")
    for label, times in (("wall", wall), ("CPU", cpu)):
        base, off = min(times["no hooks (baseline)"]), min(times["engine (hooks off)"])
        paired = statistics.median(a - b for a, b in zip(times["engine (hooks off)"], times["no hooks (baseline)"]))
        print(f"hooks off minus baseline, {label} time: best {off - base:+.2f} ms/step ({off / base - 1:+.2%}), "
              f"median of the per-round differences {paired:+.2f} ms/step")
    base = min(cpu["no hooks (baseline)"])

    nodes, calls, yields = per_step_counts(model, x, y)
    check = seconds_per_call("if hooks: pass", "hooks = []")
    empty = seconds_per_call("pass", "")
    loop = "def walk():\n    for i in range(100):\n        item = (i, i, i)\n"  # the same loop, +/- a yield
    per_yield = (seconds_per_call("for _ in walk(): pass", loop + "        yield item", 100_000)
                 - seconds_per_call("walk()", loop, 100_000)) / 100
    if_cost = max(check - empty, 0.0)
    estimate = (nodes + calls) * if_cost + yields * max(per_yield, 0.0)
    print(f"\nper step: {nodes} nodes created, {calls} module calls, {yields} backward nodes")
    print(f"one `if` on an empty list: {if_cost * 1e9:.1f} ns; one generator yield: {per_yield * 1e9:.1f} ns")
    print(f"estimated overhead: {estimate * 1e6:.1f} us/step = {estimate * 1e3 / base:.4%} of a "
          f"{base:.0f} ms step")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
