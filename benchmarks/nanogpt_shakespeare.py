"""nanoGPT's CPU recipe on tiny Shakespeare, character level, with minitransformer's trainer.

    python benchmarks/nanogpt_shakespeare.py [--data PATH] [--iters 2000]

The recipe (nanoGPT README, "I only have a macbook"): 4 layers, 4 heads, 128 wide, context 64,
no biases (nanoGPT's train.py default), batch 12, 2000 iterations, AdamW (lr 1e-3, betas
0.9/0.99, weight decay 0.1) with 100 warmup steps and cosine decay to 1e-4, dropout 0, gradient
clipping at 1.0, a 90/10 train/val split, and validation over 20 batches.  nanoGPT reports a validation loss of 1.88 for it; we must reach 1.88
or lower.  Prints the final validation loss and ms per iteration.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from minitransformer import manual_seed, no_grad
from minitransformer.corpus import split_train_val
from minitransformer.models import GPT, gpt_config
from minitransformer.train import CausalLM, TrainConfig, train

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "tinyshakespeare.txt"


@no_grad()
def full_split_loss(model, ids, context=64, batch=64) -> float:
    """Mean next-token loss over all non-overlapping windows of the split: no sampling noise."""
    model.eval()
    starts = np.arange(0, len(ids) - context - 1, context)
    total = count = 0.0
    for i in range(0, len(starts), batch):
        rows = starts[i:i + batch, None] + np.arange(context + 1)
        windows = ids[rows]
        _, loss = model(windows[:, :-1], windows[:, 1:])
        total += loss.item() * len(rows)
        count += len(rows)
    return total / count


def torch_name(ours: str) -> str:
    """Our parameter name -> the same parameter's name in train_step.torch_gpt."""
    for a, b in (("token_embedding", "wte"), ("position_embedding", "wpe"), ("ln_final", "ln"),
                 ("attn.q_proj", "q"), ("attn.k_proj", "k"), ("attn.v_proj", "v"), ("attn.out_proj", "o"),
                 ("ln_attn", "ln1"), ("ln_mlp", "ln2"), ("mlp.fc1", "fc1"), ("mlp.fc2", "fc2")):
        ours = ours.replace(a, b)
    return ours


def torch_reference(vocab, train_ids, val_ids, config, activation, bias, initial_weights=None) -> None:
    """The same recipe in PyTorch (model from train_step.py), fed the same batches in the same order,
    starting from our initial weights when given (then only rounding separates the two runs)."""
    import torch

    from minitransformer.objectives import causal_lm_batch
    from minitransformer.optim import WarmupCosine
    from train_step import torch_gpt

    torch.manual_seed(config.seed)
    c = dict(vocab=vocab, context=64, batch=12, layers=4, heads=4, width=128)
    model = torch_gpt(c, fused=False, activation="none" if activation == "gelu" else "tanh", bias=bias)
    if initial_weights is not None:
        model.load_state_dict({torch_name(k): torch.from_numpy(v) for k, v in initial_weights.items()}, strict=True)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=config.lr, betas=config.betas)
    schedule = WarmupCosine(config.lr, config.steps, config.warmup, config.min_lr)
    rng = np.random.default_rng(config.seed)  # the trainer's data generator: the same batches
    start = time.perf_counter()
    for step in range(config.steps):
        for group in optimizer.param_groups:
            group["lr"] = schedule(step)
        x, y = (torch.from_numpy(a) for a in causal_lm_batch(train_ids, 12, 64, rng))
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        eval_rng = np.random.default_rng(config.seed + 1)  # the trainer's evaluation batches
        batches = [causal_lm_batch(val_ids, 12, 64, eval_rng) for _ in range(config.eval_batches)]
        sampled = np.mean([model(*(torch.from_numpy(a) for a in b)).item() for b in batches])
        starts = np.arange(0, len(val_ids) - 65, 64)  # the windows full_split_loss uses
        total = 0.0
        for i in range(0, len(starts), 64):
            windows = torch.from_numpy(val_ids[starts[i:i + 64, None] + np.arange(65)])
            total += model(windows[:, :-1], windows[:, 1:]).item() * len(windows)
        full = total / len(starts)
    start = "same initial weights, " if initial_weights is not None else ""
    print(f"PyTorch, {start}same recipe and batches: val loss {sampled:.4f} over the same 20 batches, "
          f"{full:.4f} over the whole split | {seconds / config.steps * 1e3:.1f} ms/iteration")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="tiny Shakespeare (default ../shared/data)")
    parser.add_argument("--iters", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("runs/nanogpt_shakespeare"))
    parser.add_argument("--seed", type=int, default=1337, help="nanoGPT's default seed")
    parser.add_argument("--activation", default="gelu", choices=["gelu", "gelu_tanh"],
                        help="nanoGPT uses the exact GELU (default)")
    parser.add_argument("--bias", action="store_true",
                        help="biases in Linear and LayerNorm layers (nanoGPT's recipe has none: the default)")
    parser.add_argument("--torch", action="store_true",
                        help="also train the same model and recipe in PyTorch, on the very same batches, as a reference")
    parser.add_argument("--torch-own-init", action="store_true",
                        help="with --torch: PyTorch draws its own initial weights (default: it starts from ours)")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"{args.data} not found; pass --data path/to/tinyshakespeare.txt", file=sys.stderr)
        return 2
    text = args.data.read_text(encoding="utf-8")
    chars = sorted(set(text))  # character-level: one token per character, as nanoGPT's shakespeare_char
    index = {ch: i for i, ch in enumerate(chars)}
    ids = np.array([index[ch] for ch in text], dtype=np.int64)
    train_ids, val_ids = split_train_val(ids, 0.1)

    manual_seed(args.seed)  # the initial weights too, as nanoGPT's torch.manual_seed(1337) does
    model = GPT(gpt_config("nano", vocab_size=len(chars), context_length=64, dropout=0.0, activation=args.activation,
                           bias=args.bias))
    config = TrainConfig(steps=args.iters, batch_size=12, lr=1e-3, min_lr=1e-4, warmup=100, weight_decay=0.1,
                         betas=(0.9, 0.99), grad_clip=1.0, log_every=100, eval_every=500, eval_batches=20,
                         checkpoint_every=args.iters, seed=args.seed)
    print(f"{len(text):,} characters, vocabulary {len(chars)}, model {model.num_parameters():,} parameters")
    initial_weights = {k: v.copy() for k, v in model.state_dict().items()}
    start = time.perf_counter()
    summary = train(model, CausalLM(context=64), train_ids, val_ids, config, args.out,
                    {"model_type": "gpt", "model_config": model.config.to_dict(), "chars": "".join(chars)})
    seconds = time.perf_counter() - start
    print(f"\nfinal val loss {summary['val_loss']:.4f} over 20 random batches, as the recipe (nanoGPT: 1.88) | "
          f"{seconds / args.iters * 1e3:.1f} ms/iteration including evaluation | {seconds:.0f} s total")
    print(f"val loss over the whole validation split, every window once: {full_split_loss(model, val_ids):.4f}")
    if args.torch:
        torch_reference(len(chars), train_ids, val_ids, config, args.activation, args.bias,
                        None if args.torch_own_init else initial_weights)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
