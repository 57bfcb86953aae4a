"""One full GPT training step (forward, backward, gradient clipping, AdamW), side by side with
the pure-matmul floor and, when they happen to be installed, the same model in PyTorch and in
mygrad (a NumPy autograd library: the same arrays and BLAS as ours, graph-of-primitives autograd).
"data-parallel" is ours on --workers processes (distributed/: one BLAS thread each, every
worker half the batch on 2 cores), the way `pretrain` trains by default.

    python benchmarks/train_step.py --config small|medium [--steps 20] [--no-torch] [--no-mygrad]
    python benchmarks/train_step.py --config small --only "data-parallel"   # one contender alone
    python benchmarks/train_step.py --config small --only "data-parallel" --with-load   # beside a heavy job

small  = nanoGPT's CPU recipe: vocab 65, context 64, batch 12, 4 layers, 4 heads, 128 wide
medium = vocab 512, context 128, batch 32, 6 layers, 6 heads, 192 wide
Both use GPT-2's tanh GELU and dropout 0.  PyTorch gets as many threads as OPENBLAS_NUM_THREADS
gives NumPy's BLAS (all cores when unset); on a busy machine OPENBLAS_NUM_THREADS=1 compares one
core against one core without the threads fighting the other jobs.  Contenders run interleaved (one step each, in turn),
so a noisy machine slows all of them alike; the ratios are what to read.  Peak memory is the
growth of the process's peak resident size during the steps, each contender in its own process.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import threading
import time

import numpy as np

CONFIGS = {
    "small": dict(vocab=65, context=64, batch=12, layers=4, heads=4, width=128),
    "medium": dict(vocab=512, context=128, batch=32, layers=6, heads=6, width=192),
}


def batch(c, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, c["vocab"], (c["batch"], c["context"] + 1))
    return ids[:, :-1], ids[:, 1:]


# ---------------------------------------------------------------------------- contenders


def ours(c):
    import minitransformer as mt
    from minitransformer.models import GPT, gpt_config

    mt.manual_seed(0)
    model = GPT(gpt_config("nano", vocab_size=c["vocab"], context_length=c["context"], n_layers=c["layers"],
                           n_heads=c["heads"], d_model=c["width"], d_ff=4 * c["width"], activation="gelu_tanh"))
    optimizer = mt.optim.AdamW(mt.optim.weight_decay_groups(model, 0.1), lr=1e-3)
    x, y = batch(c)

    def step():
        _, loss = model(x, y)
        loss.backward()
        mt.optim.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()

    return step


OPEN_GROUPS = []  # data-parallel workers to stop at exit


def data_parallel(c, workers: int):
    """`ours`, with the gradient computed by `workers` processes on shards of the batch."""
    import minitransformer as mt
    from minitransformer.distributed import DataParallel
    from minitransformer.models import GPT, gpt_config
    from minitransformer.objectives import CausalLM

    mt.manual_seed(0)
    model = GPT(gpt_config("nano", vocab_size=c["vocab"], context_length=c["context"], n_layers=c["layers"],
                           n_heads=c["heads"], d_model=c["width"], d_ff=4 * c["width"], activation="gelu_tanh"))
    optimizer = mt.optim.AdamW(mt.optim.weight_decay_groups(model, 0.1), lr=1e-3)
    group = DataParallel(model, CausalLM(context=c["context"]), workers, optimizer)
    group.start()
    OPEN_GROUPS.append(group)
    xy = batch(c)

    def step():
        group.backward([xy])
        group.clip_and_step(1.0)  # each worker clips and updates its slice of the parameters
        optimizer.zero_grad()

    return step


def matmul_floor(c):
    """Exactly the matrix products of a step (forward and backward), nothing else, in float32."""
    rng = np.random.default_rng(0)
    B, T, C, H, V = c["batch"], c["context"], c["width"], c["heads"], c["vocab"]
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)
    x, g = f32(B * T, C), f32(B * T, C)
    h4, g4 = f32(B * T, 4 * C), f32(B * T, 4 * C)
    w, w_up, w_down, emb = f32(C, C), f32(4 * C, C), f32(C, 4 * C), f32(V, C)
    q = f32(B, H, T, C // H)
    p = f32(B, H, T, T)
    logits_g = f32(B * T, V)

    def linear(inp, weight, grad):  # forward, grad wrt input, grad wrt weight
        inp @ weight.T
        grad @ weight
        grad.T @ inp

    def step():
        for _ in range(c["layers"]):
            for _ in range(4):  # q, k, v, out projections
                linear(x, w, g)
            linear(x, w_up, g4)
            linear(h4, w_down, g)
            q @ q.swapaxes(-1, -2)  # scores
            p @ q  # mix values
            p @ q, p.swapaxes(-1, -2) @ q, p @ q, p.swapaxes(-1, -2) @ q  # backward of both
        linear(x, emb, logits_g)  # tied output layer

    return step


def torch_gpt(c, fused: bool, activation: str = "tanh", bias: bool = True):
    """The same GPT in PyTorch: pre-norm blocks, separate q/k/v projections, tied output layer,
    GPT-2's initialization (N(0, 0.02), residual projections scaled by 1/sqrt(2 layers))."""
    import torch
    import torch.nn as nn

    C, H, V, L = c["width"], c["heads"], c["vocab"], c["layers"]

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(C, bias=bias), nn.LayerNorm(C, bias=bias)
            self.q, self.k, self.v, self.o = (nn.Linear(C, C, bias=bias) for _ in range(4))
            self.fc1, self.fc2 = nn.Linear(C, 4 * C, bias=bias), nn.Linear(4 * C, C, bias=bias)
            self.act = nn.GELU(approximate=activation)

        def attend(self, h):
            B, T, _ = h.shape
            split = lambda t: t.view(B, T, H, C // H).transpose(1, 2)
            q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
            if fused:
                out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                scores = q @ k.transpose(-2, -1) / math.sqrt(C // H)
                mask = torch.ones(T, T, dtype=torch.bool).tril()
                out = scores.masked_fill(~mask, float("-inf")).softmax(-1) @ v
            return self.o(out.transpose(1, 2).reshape(B, T, C))

        def forward(self, x):
            x = x + self.attend(self.ln1(x))
            return x + self.fc2(self.act(self.fc1(self.ln2(x))))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(c["context"], C)
            self.blocks = nn.ModuleList(Block() for _ in range(L))
            self.ln = nn.LayerNorm(C, bias=bias)
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    nn.init.zeros_(p)
                elif "ln" in name:
                    nn.init.ones_(p)
                else:
                    std = 0.02 / math.sqrt(2 * L) if name.endswith(("o.weight", "fc2.weight")) else 0.02
                    nn.init.normal_(p, 0.0, std)

        def forward(self, idx, targets):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            logits = self.ln(x) @ self.wte.weight.T
            return nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))

    return Model()


def torch_step(c, fused: bool):
    import torch

    torch.manual_seed(0)
    # the same number of threads as NumPy's BLAS was given (OPENBLAS_NUM_THREADS), for a fair race
    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", torch.get_num_threads())))
    model = torch_gpt(c, fused)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    x, y = (torch.from_numpy(a) for a in batch(c))

    def step():
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def mygrad_gpt(c, seed: int = 0):
    """The same GPT as `torch_gpt`, written with mygrad tensors (NumPy arrays underneath).

    Returns (parameters, loss): a dict of named float32 parameter tensors and loss(idx, targets),
    the mean cross-entropy as a mygrad tensor.  Linear weights are stored (in, out), so a layer is
    `h @ w + b`.  Scalars are np.float32: mygrad turns Python floats into float64 arrays, which
    would upcast the whole graph.
    """
    import mygrad as mg
    from mygrad.nnet.activations import softmax
    from mygrad.nnet.losses import softmax_crossentropy

    C, H, V, L, T = c["width"], c["heads"], c["vocab"], c["layers"], c["context"]
    f32 = np.float32
    rng = np.random.default_rng(seed)
    normal = lambda std, *shape: mg.tensor(rng.normal(0.0, std, shape).astype(f32))
    zeros = lambda n: mg.tensor(np.zeros(n, f32))
    ones = lambda n: mg.tensor(np.ones(n, f32))
    residual_std = 0.02 / math.sqrt(2 * L)  # for the projections that write into the residual stream

    params = {"wte": normal(0.02, V, C), "wpe": normal(0.02, T, C), "ln.weight": ones(C), "ln.bias": zeros(C)}
    for i in range(L):
        for name in ("ln1", "ln2"):
            params[f"{i}.{name}.weight"], params[f"{i}.{name}.bias"] = ones(C), zeros(C)
        for name, n_in, n_out, std in (("q", C, C, 0.02), ("k", C, C, 0.02), ("v", C, C, 0.02),
                                       ("o", C, C, residual_std), ("fc1", C, 4 * C, 0.02),
                                       ("fc2", 4 * C, C, residual_std)):
            params[f"{i}.{name}.weight"], params[f"{i}.{name}.bias"] = normal(std, n_in, n_out), zeros(n_out)

    causal = np.triu(np.full((T, T), -np.inf, f32), k=1)  # added to the scores: -inf above the diagonal
    scale = f32(1 / math.sqrt(C // H))
    gelu_a, gelu_b = f32(math.sqrt(2 / math.pi)), f32(0.044715)
    half, one, eps = f32(0.5), f32(1), f32(1e-5)

    def linear(h, name):
        return h @ params[name + ".weight"] + params[name + ".bias"]

    def layer_norm(h, name):
        centered = h - h.mean(axis=-1, keepdims=True)
        variance = (centered * centered).mean(axis=-1, keepdims=True)
        return centered / mg.sqrt(variance + eps) * params[name + ".weight"] + params[name + ".bias"]

    def gelu(h):  # GPT-2's tanh approximation
        return half * h * (one + mg.tanh(gelu_a * (h + gelu_b * h * h * h)))

    def attend(h, i):
        B, T, _ = h.shape
        split = lambda t: t.reshape(B, T, H, C // H).transpose(0, 2, 1, 3)  # (B, H, T, head)
        q, k, v = (split(linear(h, f"{i}.{n}")) for n in "qkv")
        scores = q @ k.transpose(0, 1, 3, 2) * scale + causal[:T, :T]
        out = softmax(scores, axis=-1) @ v
        return linear(out.transpose(0, 2, 1, 3).reshape(B, T, C), f"{i}.o")

    def loss(idx, targets):
        x = params["wte"][idx] + params["wpe"][: idx.shape[1]]
        for i in range(L):
            x = x + attend(layer_norm(x, f"{i}.ln1"), i)
            x = x + linear(gelu(linear(layer_norm(x, f"{i}.ln2"), f"{i}.fc1")), f"{i}.fc2")
        logits = layer_norm(x, "ln") @ params["wte"].T  # tied output layer
        return softmax_crossentropy(logits.reshape(-1, V), targets.reshape(-1))

    return params, loss


def mygrad_step(c):
    """mygrad's step, with torch_step's clipping (global norm 1.0) and AdamW (lr 1e-3, betas
    (0.9, 0.999), eps 1e-8, decoupled weight decay 0.1 on every parameter), in place on the arrays."""
    params, loss_of = mygrad_gpt(c)
    tensors = list(params.values())
    lr, beta1, beta2, eps, decay = 1e-3, 0.9, 0.999, 1e-8, 0.1
    m = [np.zeros_like(p.data) for p in tensors]
    v = [np.zeros_like(p.data) for p in tensors]
    t = 0
    x, y = batch(c)

    def step():
        nonlocal t
        loss = loss_of(x, y)
        loss.backward()
        grads = [p.grad for p in tensors]
        norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
        clip = min(1.0, 1.0 / (norm + 1e-6))
        t += 1
        step_size, root_c2 = lr / (1 - beta1**t), math.sqrt(1 - beta2**t)
        for p, g, m_, v_ in zip(tensors, grads, m, v):
            g *= clip
            p.data *= 1 - lr * decay
            m_ *= beta1
            m_ += (1 - beta1) * g
            v_ *= beta2
            v_ += (1 - beta2) * g * g
            p.data -= step_size * m_ / (np.sqrt(v_) / root_c2 + eps)
            p.null_grad()
        return loss

    return step


def contenders(c, with_torch: bool, with_mygrad: bool = True, workers: int = 2):
    """The step makers to race: ours (one process and data-parallel) and the floor always, the
    optional ones when importable."""
    found = {"minitransformer": lambda: ours(c), "data-parallel": lambda: data_parallel(c, workers),
             "matmul floor": lambda: matmul_floor(c)}
    if with_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("(torch is not installed: PyTorch columns skipped; `pip install torch` to compare)")
        else:
            found["pytorch explicit attn"] = lambda: torch_step(c, fused=False)
            found["pytorch fused attn"] = lambda: torch_step(c, fused=True)
    if with_mygrad:
        try:
            import mygrad  # noqa: F401
        except ImportError:
            print("(mygrad is not installed: mygrad column skipped; `pip install mygrad` to compare)")
        else:
            found["mygrad"] = lambda: mygrad_step(c)
    return found


# ---------------------------------------------------------------------------- measuring


def resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_peak_memory(config_name: str, contender: str, steps: int = 3, workers: int = 2) -> None:
    """In this (fresh) process: peak resident memory during a few steps above the level before them.

    The model, optimizer and batch exist before the first step, so what is measured is what a step
    adds: activations saved for backward, gradients, optimizer moments and temporaries.  A thread
    samples the resident size every millisecond (ru_maxrss would include import-time peaks).
    """
    c = CONFIGS[config_name]
    step = contenders(c, with_torch=contender.startswith("pytorch"), with_mygrad=contender == "mygrad",
                      workers=workers)[contender]()
    if contender == "data-parallel":  # the workers' memory, not this coordinating process's
        print(worker_peak_growth_mb(step, steps))
        return
    before = resident_mb()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], resident_mb())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    for _ in range(steps):
        step()
    done.set()
    sampler.join()
    print(peak[0] - before)


def worker_peak_growth_mb(step, steps: int) -> float:
    """The largest growth of a data-parallel worker's peak resident size (VmHWM) during the steps."""
    def peaks():
        return [_vm_hwm_mb(worker.pid) for worker in OPEN_GROUPS[-1].workers]

    before = peaks()
    for _ in range(steps):
        step()
    return max(after - start for after, start in zip(peaks(), before))


def _vm_hwm_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


HEAVY_JOB = """
import numpy as np
a = np.random.default_rng(0).standard_normal((512, 512)).astype(np.float32)
while True:
    a @ a
"""


def start_heavy_job() -> subprocess.Popen:
    """A second heavy process for --with-load: float32 matmuls on all of NumPy's BLAS threads, the
    way another training run or a test suite loads the machine."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    return subprocess.Popen([sys.executable, "-c", HEAVY_JOB], env=env)


def peak_memory_mb(config_name: str, contender: str, workers: int) -> float:
    out = subprocess.run([sys.executable, __file__, "--config", config_name, "--memory-of", contender,
                          "--workers", str(workers), "--batch", str(CONFIGS[config_name]["batch"])],
                         capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="small")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-mygrad", action="store_true")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--default-malloc", action="store_true",
                        help="leave glibc's malloc untuned (see minitransformer/allocator.py)")
    parser.add_argument("--only", help="run one contender alone (its BLAS/OpenMP threads then compete with nobody)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes of the data-parallel contender (default: the physical cores)")
    parser.add_argument("--batch", type=int, help="override the config's batch size (e.g. one worker's shard)")
    parser.add_argument("--with-load", action="store_true",
                        help="run a second heavy process (matmuls on all cores) during the steps")
    parser.add_argument("--memory-of", help=argparse.SUPPRESS)  # internal: measure one contender's memory
    args = parser.parse_args()
    c = CONFIGS[args.config] = {**CONFIGS[args.config], **({"batch": args.batch} if args.batch else {})}
    if args.workers is None:
        from minitransformer.distributed import default_workers
        args.workers = default_workers(c["batch"])
    heavy = start_heavy_job() if args.with_load else None
    try:
        return race(args, c)
    finally:
        for group in OPEN_GROUPS:
            group.close()
        if heavy is not None:
            heavy.kill()
            heavy.wait()


def race(args, c) -> int:
    if args.memory_of:
        measure_peak_memory(args.config, args.memory_of, workers=args.workers)
        return 0
    if not args.default_malloc:
        from minitransformer.allocator import keep_freed_memory
        print(f"malloc keeps freed memory for reuse (all contenders): {keep_freed_memory()}")
    found = contenders(c, not args.no_torch, not args.no_mygrad, args.workers)
    if args.only is not None and args.only not in found:
        print(f"error: --only {args.only!r} is not a contender here; choose one of {sorted(found)} "
              "(the PyTorch and mygrad ones only when installed and not turned off)", file=sys.stderr)
        return 2
    steps = {name: make() for name, make in found.items() if args.only is None or name == args.only}
    for step in steps.values():  # warm up
        step()
        step()
    times = {name: [] for name in steps}
    for _ in range(args.steps):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    print(f"config {args.config}: {c}; data-parallel workers: {args.workers}"
          f"{'; beside a heavy job (--with-load)' if args.with_load else ''}")
    ref = next((r for r in ("pytorch explicit attn", "matmul floor") if r in times), next(iter(times)))
    print(f"{'contender':<24}{'best ms':>9}{'median ms':>11}{'ratio to ' + ref:>34}{'peak MB':>9}")
    for name, ts in times.items():
        best, median = min(ts) * 1e3, float(np.median(ts)) * 1e3
        ratio = median / (float(np.median(times[ref])) * 1e3)
        memory = float("nan") if args.no_memory else peak_memory_mb(args.config, name, args.workers)
        print(f"{name:<24}{best:>9.1f}{median:>11.1f}{ratio:>34.2f}{memory:>9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
