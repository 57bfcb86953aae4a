"""Data-parallel training (distributed/): N workers give one process's losses, and fail safely."""

import os
import signal
import subprocess
import sys
import time
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np
import pytest

from minitransformer import checkpoint, seed
from minitransformer.cli import main
from minitransformer.corpus import builtin_corpus
from minitransformer.distributed import DataParallel, WorkerFailed, default_workers, physical_cores, shard_bounds
from minitransformer.objectives import CausalLM, task_for
from minitransformer.pretrain import new_model, split_corpus, task_tokenizer, train_config
from minitransformer.train import train

TEXT = builtin_corpus()[:20000]
needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers in /proc (Linux)")
FAST = ["--preset", "micro", "--vocab-size", "300", "--batch-size", "4", "--log-every", "1", "--eval-every", "1000",
        "--eval-batches", "1", "--warmup", "2", "--samples", "0"]


def segments_of(pid: int) -> set:
    """The shared-memory segments process `pid` has mapped (its weights and gradients), by name.

    Tests look for these names only: other programs on the machine make and remove their own."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split("/dev/shm/")[1].split()[0] for line in lines if "/dev/shm/psm_" in line}


def still_there(names) -> list:
    return [name for name in names if Path(f"/dev/shm/{name}").exists()]


def workers_of(pid: int) -> list:
    """Live worker processes (multiprocessing's spawn_main) whose parent is `pid` (Linux /proc).

    The resource tracker, a helper that lives as long as its parent and unlinks what a crashed
    process left in /dev/shm, is not a worker."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z" and b"spawn_main" in command:
                found.append(int(entry.name))
    return sorted(found)


def run(kind, workers, steps=20, out=None, resume=False, dropout=0.1, grad_accum=2, batch_size=5, task=None,
        checkpoint_every=1000):
    """Train a micro model; its per-step training losses."""
    tokenizer = task_tokenizer(kind, "micro", TEXT, 300)
    seed.manual_seed(0)
    model = new_model(kind, "micro", tokenizer, dropout=dropout)
    train_ids, val_ids = split_corpus(TEXT, tokenizer, model.config.context_length)
    task = task or task_for(model, tokenizer)
    config = train_config(kind, steps=steps, batch_size=batch_size, grad_accum=grad_accum, warmup=2, log_every=1000,
                          eval_every=1000, checkpoint_every=checkpoint_every, eval_batches=1)
    curve = []
    summary = train(model, task, train_ids, val_ids, config, out, {}, resume=resume, log=lambda *_: None,
                    on_step=lambda step, loss: curve.append(loss), workers=workers)
    return np.array(curve), summary, model


@pytest.mark.parametrize("kind", ["gpt", "bert", "t5"])
def test_two_and_three_workers_give_one_process_losses_with_dropout_and_accumulation(kind, tmp_path):
    """Batch 5: 2 workers split it 2 + 3, 3 workers 1 + 2 + 2; dropout 0.1, 2 micro-batches a step."""
    one, _, model_one = run(kind, 1, out=tmp_path / "one")
    for workers in (2, 3):
        many, _, model_many = run(kind, workers, out=tmp_path / f"w{workers}")
        np.testing.assert_allclose(many, one, atol=1e-5, rtol=0)
    for p, q in zip(model_one.parameters(), model_many.parameters()):
        np.testing.assert_allclose(p.data, q.data, atol=1e-5, rtol=0)


def test_resume_is_bit_exact_with_the_same_workers(tmp_path):
    whole, _, _ = run("gpt", 2, steps=6, out=tmp_path / "whole")
    run("gpt", 2, steps=3, out=tmp_path / "split")
    resumed, summary, _ = run("gpt", 2, steps=6, out=tmp_path / "split", resume=True)
    assert summary["step"] == 6
    assert resumed.tolist() == whole[3:].tolist()
    a = checkpoint.load(tmp_path / "whole" / "checkpoint.safetensors")
    b = checkpoint.load(tmp_path / "split" / "checkpoint.safetensors")
    assert all(np.array_equal(a.weights[name], b.weights[name]) for name in a.weights)
    assert a.metadata["engine_rng"] == b.metadata["engine_rng"] and a.metadata["data_rng"] == b.metadata["data_rng"]


def test_dropout_masks_do_not_depend_on_the_split():
    seed.manual_seed(3)
    whole = seed.batch_random((7, 3, 2))
    after = seed.get_rng_state()
    for bounds in (shard_bounds(7, 2), shard_bounds(7, 3), [(0, 7)]):
        parts = []
        for start, stop in bounds:
            seed.manual_seed(3)
            with seed.batch_shard(start, stop, 7):
                parts.append(seed.batch_random((stop - start, 3, 2)))
                parts.append(seed.batch_random((2 * (stop - start), 1)))  # rows of samples, e.g. (B * T, C)
            assert seed.get_rng_state() != after  # two draws: past the one-draw state
        seed.manual_seed(3)
        assert np.array_equal(np.concatenate(parts[::2]), whole)


class ExplodingLM(CausalLM):
    """Raises in the worker that holds the second half of the batch, at its third step."""

    calls = 0

    def loss(self, model, batch):
        if seed._shard is not None and seed._shard[0] > 0:
            type(self).calls += 1
            if type(self).calls == 3:
                raise ArithmeticError("boom in the shard")
        return super().loss(model, batch)


@needs_proc
def test_a_worker_that_raises_stops_the_run_naming_it_and_leaks_nothing(tmp_path, monkeypatch):
    made = []

    class Recorded(shared_memory.SharedMemory):  # the segments this process creates
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self.name)

    monkeypatch.setattr(shared_memory, "SharedMemory", Recorded)
    tokenizer = task_tokenizer("gpt", "micro", TEXT, 300)
    seed.manual_seed(0)
    task = ExplodingLM.from_model(new_model("gpt", "micro", tokenizer), tokenizer)
    with pytest.raises(WorkerFailed) as failure:
        run("gpt", 2, steps=10, out=tmp_path / "run", task=task, grad_accum=1, checkpoint_every=1)
    message = str(failure.value)
    assert "worker 1" in message and "ArithmeticError: boom in the shard" in message
    assert "saved at step 2" in message  # the last good checkpoint is kept, and said so
    assert checkpoint.load(tmp_path / "run" / "checkpoint.safetensors").metadata["step"] == 2
    assert len(made) == 1 and still_there(made) == [] and workers_of(os.getpid()) == []


def start_cli(args, tmp_path):
    code = f"import sys; from minitransformer.cli import main; sys.exit(main({args!r}))"
    return subprocess.Popen([sys.executable, "-u", "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}, start_new_session=True)


def wait_for_step(child, step: int) -> None:
    for line in child.stdout:
        if line.startswith(f"step {step:5d}/"):
            return
    raise AssertionError(f"the run ended before step {step}: {child.stderr.read()}")


def corpus_file(tmp_path) -> str:
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return str(path)


@needs_proc
def test_a_killed_worker_stops_the_run_in_one_line_keeping_the_checkpoint_and_no_orphans(tmp_path):
    folder = tmp_path / "run"
    child = start_cli(["pretrain", "--corpus", corpus_file(tmp_path), "--out", str(folder), "--steps", "100000",
                       "--checkpoint-every", "2", "--workers", "2", *FAST], tmp_path)
    wait_for_step(child, 3)
    ranks = workers_of(child.pid)
    assert len(ranks) == 2, ranks
    segments = segments_of(ranks[0])
    assert len(segments) == 1, segments
    os.kill(ranks[1], signal.SIGKILL)
    out, err = child.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert child.returncode == 2 and len(lines) == 1, err
    assert "data-parallel worker" in lines[0] and "killed by SIGKILL" in lines[0] and "is kept" in lines[0], err
    assert checkpoint.load(folder / "checkpoint.safetensors").metadata["step"] >= 2
    time.sleep(0.5)  # the resource tracker exits just after its process
    assert not [pid for pid in ranks if Path(f"/proc/{pid}").exists()]  # no orphan: the survivor exited too
    assert still_there(segments) == []


@needs_proc
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_ctrl_c_save_and_stop_with_workers(tmp_path, signum):
    """SIGTERM to the main process; Ctrl-C to the whole process group, as a terminal sends it."""
    folder = tmp_path / "run"
    child = start_cli(["pretrain", "--corpus", corpus_file(tmp_path), "--out", str(folder), "--steps", "100000",
                       "--checkpoint-every", "100000", "--workers", "2", *FAST], tmp_path)
    wait_for_step(child, 3)
    segments = set().union(*(segments_of(pid) for pid in workers_of(child.pid)))
    assert len(segments) == 1, segments
    if signum == signal.SIGINT:
        os.killpg(child.pid, signal.SIGINT)
    else:
        child.send_signal(signum)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0 and err == "", err
    assert "interrupted: saved" in out
    assert checkpoint.load(folder / "checkpoint.safetensors").metadata["step"] >= 3
    assert still_there(segments) == []


def test_a_diverging_run_with_workers_keeps_a_finite_checkpoint(tmp_path, capsys):
    folder = tmp_path / "diverged"
    code = main(["pretrain", "--corpus", corpus_file(tmp_path), "--out", str(folder), "--steps", "30", "--lr", "1e6",
                 "--grad-clip", "0", "--checkpoint-every", "1", "--workers", "2", *FAST])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Try a lower --lr" in err, err
    weights = checkpoint.load(folder / "checkpoint.safetensors").weights
    assert all(np.isfinite(a).all() for a in weights.values())


@pytest.mark.parametrize("value, fragments", [
    ("0", ("--workers", "positive integer", "'0'")),
    ("-2", ("--workers", "positive integer", "'-2'")),
    ("two", ("--workers", "'two'", "auto")),
    ("1.5", ("--workers", "'1.5'")),
    ("5", ("--workers 5 is more than --batch-size 4", "pass --workers 4 or fewer")),
])
def test_a_bad_workers_value_is_one_clear_line(tmp_path, capsys, value, fragments):
    try:
        code = main(["pretrain", "--corpus", corpus_file(tmp_path), "--out", str(tmp_path / "run"), *FAST,
                     "--workers", value])
    except SystemExit as exit:
        code = exit.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert all(fragment in lines[0] for fragment in fragments), err
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()


def test_default_workers_are_the_cores_capped_at_the_batch():
    assert 1 <= physical_cores() <= (os.cpu_count() or 1)
    assert default_workers(1) == 1
    assert default_workers(10**6) == physical_cores()


def test_shards_cover_the_batch_and_differ_by_at_most_one():
    for batch, world in [(5, 2), (12, 5), (7, 7), (3, 1)]:
        bounds = shard_bounds(batch, world)
        assert bounds[0][0] == 0 and bounds[-1][1] == batch
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
        assert max(b - a for a, b in bounds) - min(b - a for a, b in bounds) <= 1


def test_closing_returns_the_weights_to_ordinary_memory():
    tokenizer = task_tokenizer("gpt", "micro", TEXT, 300)
    model = new_model("gpt", "micro", tokenizer)
    before = [p.data.copy() for p in model.parameters()]
    with DataParallel(model, task_for(model, tokenizer), 2):
        pass
    assert all(np.array_equal(a, p.data) and p.data.base is None for a, p in zip(before, model.parameters()))


@needs_proc
def test_workers_of_a_killed_main_process_exit_and_its_shared_memory_goes(tmp_path):
    child = start_cli(["pretrain", "--corpus", corpus_file(tmp_path), "--out", str(tmp_path / "run"), "--steps",
                       "100000", "--workers", "2", *FAST], tmp_path)
    wait_for_step(child, 3)
    ranks = workers_of(child.pid)
    assert len(ranks) == 2, ranks
    segments = segments_of(ranks[0])
    child.kill()
    child.communicate(timeout=60)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and ([pid for pid in ranks if Path(f"/proc/{pid}").exists()]
                                           or still_there(segments)):
        time.sleep(0.2)
    assert not [pid for pid in ranks if Path(f"/proc/{pid}").exists()]  # no orphan keeps running
    assert len(segments) == 1 and still_there(segments) == []  # the resource tracker unlinks what the dead left


def test_without_shared_memory_the_run_trains_in_this_process(tmp_path, monkeypatch):
    """No room in /dev/shm (a container's default is 64 MB) or a file-size limit: one line, then on."""
    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shared_memory, "SharedMemory", no_room)
    one, _, _ = run("gpt", 1, steps=3, out=tmp_path / "one")
    lines = []
    tokenizer = task_tokenizer("gpt", "micro", TEXT, 300)
    seed.manual_seed(0)
    model = new_model("gpt", "micro", tokenizer, dropout=0.1)
    train_ids, val_ids = split_corpus(TEXT, tokenizer, model.config.context_length)
    config = train_config("gpt", steps=3, batch_size=5, grad_accum=2, warmup=2, log_every=1000, eval_every=1000,
                          checkpoint_every=1000, eval_batches=1)
    curve = []
    train(model, task_for(model, tokenizer), train_ids, val_ids, config, tmp_path / "two", {}, log=lines.append,
          on_step=lambda step, loss: curve.append(loss), workers=2)
    assert any("data-parallel workers unavailable" in line and "No space left" in line for line in lines), lines
    assert curve == one.tolist()
