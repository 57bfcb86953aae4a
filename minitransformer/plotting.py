"""A picture of a run's loss: a PNG with matplotlib when it is installed, a text chart otherwise.

`log.jsonl` (train.py) holds one JSON record per log line: {"step", "train_loss", "lr", ...} every
--log-every steps and {"step", "val_loss"} every --eval-every.  The curves to look at: train loss
falling; validation loss following it (the model generalizes) or turning up while train loss keeps
falling (it memorizes the training text: overfitting); the learning rate's warmup and cosine decay.
matplotlib is imported only when a PNG is asked for, so numpy stays the only dependency.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .files import atomic_open

INSTALL_HINT = 'pip install matplotlib (or pip install -e ".[viz]")'


def read_log(run_dir) -> dict:
    """{"train": [(step, loss)], "val": [(step, loss)], "lr": [(step, lr)]} from RUN_DIR/log.jsonl.

    Torn or foreign lines (a run killed mid-write) are skipped, as train.py's trim_log does.
    """
    path = Path(run_dir) / "log.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} holds no log.jsonl; give a run folder written by `pretrain`")
    curves = {"train": [], "val": [], "lr": []}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(record, dict) or not isinstance(record.get("step"), int):
            continue
        for curve, key in (("train", "train_loss"), ("val", "val_loss"), ("lr", "lr")):
            value = record.get(key)
            if isinstance(value, (int, float)) and math.isfinite(value):
                curves[curve].append((record["step"], float(value)))
    if not curves["train"] and not curves["val"]:
        raise ValueError(f"{path} holds no losses yet; plot it after the first --log-every steps")
    return curves


def import_pyplot():
    """matplotlib.pyplot without a display (Agg), or an ImportError saying what to install."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(f"a PNG needs matplotlib: {INSTALL_HINT}") from None
    return plt


def plot_png(run_dirs, out_path) -> Path:
    """Train (solid) and validation (dashed) loss of each run, and the learning rate below; returns out_path."""
    plt = import_pyplot()
    figure, (losses, rates) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, height_ratios=[3, 1])
    for run_dir in run_dirs:
        curves = read_log(run_dir)
        name = Path(run_dir).name
        for curve, style in (("train", "-"), ("val", "--")):
            if curves[curve]:
                steps, values = zip(*curves[curve])
                losses.plot(steps, values, style, label=f"{name} {curve}")
        if curves["lr"]:
            rates.plot(*zip(*curves["lr"]), label=name)
    losses.set_ylabel("loss (nats per token)")
    losses.legend()
    losses.grid(alpha=0.3)
    rates.set_ylabel("learning rate")
    rates.set_xlabel("step")
    rates.grid(alpha=0.3)
    figure.tight_layout()
    out_path = Path(out_path)
    with atomic_open(out_path) as file:  # a reader never sees half a PNG
        figure.savefig(file, format="png", dpi=100)
    plt.close(figure)
    return out_path


def text_chart(run_dirs, width: int = 64, height: int = 16) -> str:
    """The same losses drawn with characters: one letter pair per run (train lower case, val upper)."""
    series = []
    for index, run_dir in enumerate(run_dirs):
        curves, mark = read_log(run_dir), "abcdefghijklmnopqrstuvwxyz"[index % 26]
        series += [(f"{Path(run_dir).name} train", mark, curves["train"]),
                   (f"{Path(run_dir).name} val", mark.upper(), curves["val"])]
    points = [point for _, _, curve in series for point in curve]
    (x_low, x_high), (y_low, y_high) = [(min(v), max(v)) for v in zip(*points)]
    grid = [[" "] * width for _ in range(height)]
    for _, mark, curve in series:
        for step, value in curve:
            column = round((step - x_low) / ((x_high - x_low) or 1) * (width - 1))
            row = round((y_high - value) / ((y_high - y_low) or 1) * (height - 1))
            grid[row][column] = mark
    lines = [f"{y_high - (y_high - y_low) * row / (height - 1):7.3f} |{''.join(cells)}"
             for row, cells in enumerate(grid)]
    lines.append(" " * 8 + "+" + "-" * width)
    lines.append(" " * 9 + f"step {x_low}".ljust(width - len(f"step {x_high}")) + f"step {x_high}")
    lines.append("loss: " + ", ".join(f"{mark} = {name}" for name, mark, curve in series if curve))
    return "\n".join(lines)
