"""best.safetensors beside the last checkpoint, the overfitting warning, perplexity in the progress
lines, and what `pretrain` prints at its end (the next commands; no "val loss None")."""

from __future__ import annotations

import json
import math
import re
import signal

import numpy as np
import pytest

import minitransformer.train as train_module
from minitransformer import checkpoint
from minitransformer.cli import main
from minitransformer.corpus import builtin_corpus
from minitransformer.pretrain import load_trained

FAST = ["--preset", "micro", "--vocab-size", "300", "--batch-size", "4", "--log-every", "1", "--eval-every", "1",
        "--eval-batches", "1", "--warmup", "1", "--samples", "0", "--checkpoint-every", "100"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "text.txt"
    path.write_text(builtin_corpus()[:20000], encoding="utf-8")
    return path


def scripted_val_losses(monkeypatch, losses, snapshots=None):
    """evaluate() returns these losses in turn; snapshots[step] = the weights it was asked to score."""
    calls = iter(losses)

    def fake_evaluate(model, task, ids, config):
        if snapshots is not None:
            snapshots[len(snapshots) + 1] = {k: v.copy() for k, v in model.state_dict().items()}
        return next(calls)

    monkeypatch.setattr(train_module, "evaluate", fake_evaluate)


def test_best_checkpoint_is_kept_and_overfitting_is_named(tmp_path, corpus, capsys, monkeypatch):
    snapshots = {}
    scripted_val_losses(monkeypatch, [5.0, 4.0, 4.5, 4.6, 4.7, 4.8], snapshots)
    out = tmp_path / "run"
    assert main(["pretrain", "--corpus", str(corpus), "--steps", "6", "--out", str(out), *FAST]) == 0
    printed = capsys.readouterr().out
    best = out / "best.safetensors"
    warning = (f"overfitting: val loss 4.7000 vs best 4.0000 at step 2; the best checkpoint is kept at {best}. "
               "The model is memorizing its training text: for a small corpus try a smaller --preset or fewer --steps")
    assert printed.count("overfitting:") == 1 and warning in printed  # said once, at the third rise
    assert printed.index(warning) > printed.index("step     5 | val loss 4.7000")
    model, _, meta = load_trained(best)
    assert meta["step"] == 2 and meta["best_val"] == [4.0, 2, 0]
    weights = model.state_dict()
    assert all(np.array_equal(np.asarray(weights[k]), np.asarray(v)) for k, v in snapshots[2].items())
    assert checkpoint.load(out / "checkpoint.safetensors").metadata["step"] == 6
    assert "best val loss 4.0000 at step 2" in printed
    assert f"generate --checkpoint {best}" in printed  # the next commands offer the best weights


def test_a_run_that_keeps_improving_is_not_called_overfitting(tmp_path, corpus, capsys, monkeypatch):
    scripted_val_losses(monkeypatch, [5.0, 4.0, 4.1, 4.2, 3.9])  # two rises, then a new best
    out = tmp_path / "run"
    assert main(["pretrain", "--corpus", str(corpus), "--steps", "5", "--out", str(out), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "overfitting" not in printed
    assert checkpoint.load(out / "best.safetensors").metadata["step"] == 5
    assert f"generate --checkpoint {out / 'checkpoint.safetensors'}" in printed


def test_resume_remembers_the_best_and_the_rises_since(tmp_path, corpus, capsys, monkeypatch):
    out = tmp_path / "run"
    scripted_val_losses(monkeypatch, [5.0, 4.0, 4.5, 4.6])
    assert main(["pretrain", "--corpus", str(corpus), "--steps", "4", "--out", str(out), *FAST]) == 0
    assert "overfitting" not in capsys.readouterr().out
    scripted_val_losses(monkeypatch, [4.7, 3.0])
    assert main(["pretrain", "--corpus", str(corpus), "--steps", "6", "--out", str(out), "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "overfitting: val loss 4.7000 vs best 4.0000 at step 2" in printed  # the third rise, counted across
    assert checkpoint.load(out / "best.safetensors").metadata["step"] == 6


def test_progress_lines_show_perplexity(tmp_path, corpus, capsys):
    assert main(["pretrain", "--corpus", str(corpus), "--steps", "2", "--out", str(tmp_path / "run"), *FAST]) == 0
    printed = capsys.readouterr().out
    found = re.findall(r"(?:loss|val loss) (\d+\.\d+) \(ppl (\d+\.\d)\)", printed)
    assert len(found) == 4  # two train lines, two validation lines
    for loss, ppl in found:
        assert float(ppl) == pytest.approx(math.exp(float(loss)), abs=0.06)


def test_pretrain_ends_with_the_next_commands_and_they_parse(tmp_path, corpus, capsys):
    from minitransformer.commands import build_parser

    out = tmp_path / "run"
    assert main(["pretrain", "--corpus", str(corpus), "--steps", "2", "--out", str(out), *FAST]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("next"))
    commands = [line.split()[3:] for line in lines[start + 1:]]
    assert [c[0] for c in commands] == ["generate", "evaluate", "finetune", "plot"]
    assert commands[-1] == ["plot", str(out)] and str(out / "checkpoint.safetensors") in commands[0]
    for argv in commands:
        build_parser().parse_args(argv)


def test_done_line_after_ctrl_c_before_any_evaluation_says_no_val_loss_none(tmp_path, corpus, capsys, monkeypatch):
    def log_and_interrupt(message):
        print(message)
        if message.startswith("step     1/"):
            signal.raise_signal(signal.SIGINT)  # Ctrl-C during step 1

    real_train = train_module.train
    import minitransformer.pretrain as pretrain_module

    monkeypatch.setattr(pretrain_module, "train", lambda *a, **k: real_train(*a, **{**k, "log": log_and_interrupt}))
    args = ["pretrain", "--corpus", str(corpus), "--steps", "5", "--out", str(tmp_path / "run"), *FAST]
    args[args.index("--eval-every") + 1] = "4"
    assert main(args) == 0
    printed = capsys.readouterr().out
    done = next(line for line in printed.splitlines() if line.startswith("done:"))
    assert "None" not in done and done.startswith("done: step 1, train loss ")


def test_a_run_stopped_before_its_first_log_line_still_leaves_log_jsonl(tmp_path, corpus, monkeypatch):
    """Ctrl-C at step 2 of a run that logs every 100 steps: log.jsonl records the step it stopped at."""
    def interrupt_at_step_2(step, loss):
        if step == 2:
            signal.raise_signal(signal.SIGINT)

    real_train = train_module.train
    import minitransformer.pretrain as pretrain_module

    monkeypatch.setattr(pretrain_module, "train", lambda *a, **k: real_train(*a, **{**k, "on_step": interrupt_at_step_2}))
    args = ["pretrain", "--corpus", str(corpus), "--steps", "50", "--out", str(tmp_path / "run"), *FAST]
    for flag in ("--log-every", "--eval-every"):
        args[args.index(flag) + 1] = "100"
    assert main(args) == 0
    records = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2] and math.isfinite(records[0]["train_loss"])
    assert (tmp_path / "run" / "checkpoint.safetensors").exists()
