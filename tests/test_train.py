"""The trainer and the command line, end to end on a small corpus with micro models."""

import json
import signal

import numpy as np
import pytest

from minitransformer import checkpoint
from minitransformer.cli import main
from minitransformer.corpus import builtin_corpus, read_corpus
from minitransformer.pretrain import load_trained

FAST = ["--preset", "micro", "--vocab-size", "300", "--batch-size", "4", "--log-every", "2", "--eval-every", "4",
        "--eval-batches", "2", "--warmup", "2", "--samples", "1"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "text.txt"
    path.write_text(builtin_corpus()[:30000], encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory, corpus):
    """One short pretraining run per model type, shared by the tests below."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for kind in ("gpt", "bert", "t5"):
        folder = root / kind
        assert main(["pretrain", "--model", kind, "--corpus", str(corpus), "--steps", "6", "--out", str(folder),
                     *FAST]) == 0
        out[kind] = folder
    return out


def losses(folder):
    records = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    return [r["train_loss"] for r in records if "train_loss" in r]


def test_pretrain_writes_checkpoint_and_log_for_each_model(runs):
    for kind, folder in runs.items():
        model, tokenizer, meta = load_trained(folder / "checkpoint.safetensors")
        assert meta["model_type"] == kind and meta["step"] == 6
        assert type(model).__name__ == {"gpt": "GPT", "bert": "BERT", "t5": "T5"}[kind]
        assert model.config.vocab_size == tokenizer.vocab_size == 300
        assert len(losses(folder)) == 3 and all(np.isfinite(losses(folder)))


def test_generate_from_gpt_and_t5_and_bert_refuses(runs, capsys):
    assert main(["generate", "--checkpoint", str(runs["gpt"] / "checkpoint.safetensors"), "--prompt", "The ",
                 "--max-new-tokens", "5", "--seed", "1"]) == 0
    assert capsys.readouterr().out.startswith("The ")
    assert main(["generate", "--checkpoint", str(runs["t5"] / "checkpoint.safetensors"),
                 "--prompt", "A <extra_id_0> statement.", "--max-new-tokens", "5", "--temperature", "0"]) == 0
    assert main(["generate", "--checkpoint", str(runs["bert"] / "checkpoint.safetensors")]) == 2
    err = capsys.readouterr().err
    assert "BERT cannot generate" in err and len(err.strip().splitlines()) == 1


def test_seed_fixes_the_initial_weights(tmp_path, corpus, runs):
    """--seed decides the initial weights as well as the batches: the same seed, the same run."""
    def pretrain(seed, name):
        folder = tmp_path / name
        assert main(["pretrain", "--model", "gpt", "--corpus", str(corpus), "--steps", "6", "--out", str(folder),
                     "--seed", str(seed), *FAST]) == 0
        return load_trained(folder / "checkpoint.safetensors")[0].state_dict(), losses(folder)

    (weights, log), (again, log_again) = pretrain(0, "a"), pretrain(0, "b")
    other, _ = pretrain(1, "c")
    assert log == log_again and log == losses(runs["gpt"])  # seed 0 is the default
    assert all(np.array_equal(weights[k], again[k]) for k in weights)
    assert not np.array_equal(weights["token_embedding.weight"], other["token_embedding.weight"])


def test_generated_text_is_seeded(runs, capsys):
    args = ["generate", "--checkpoint", str(runs["gpt"] / "checkpoint.safetensors"), "--max-new-tokens", "8",
            "--seed", "3"]
    main(args)
    first = capsys.readouterr().out
    main(args)
    assert capsys.readouterr().out == first


@pytest.mark.parametrize("kind", ["gpt", "bert"])
def test_finetune_on_a_csv(runs, tmp_path, capsys, kind):
    rows = ["text,label"] + [f"is {w},pos" for w in ("good", "fine", "great")] * 6 + \
           [f"{w} is,neg" for w in ("good", "fine", "great")] * 6
    data = tmp_path / "task.csv"
    data.write_text("\n".join(rows), encoding="utf-8")
    out = tmp_path / "clf.safetensors"
    assert main(["finetune", "--checkpoint", str(runs[kind] / "checkpoint.safetensors"), "--task", str(data),
                 "--epochs", "2", "--batch-size", "8", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "held-out accuracy" in text and out.exists()


@pytest.mark.parametrize("kind", ["gpt", "t5"])
def test_resume_after_ctrl_c_gives_the_same_run(kind, tmp_path, corpus, capsys):
    """Also for T5, whose batches change at 3/4 of the steps (step 6 of 8: after the resume)."""
    whole, split = tmp_path / "whole", tmp_path / "split"
    args = ["pretrain", "--model", kind, "--corpus", str(corpus), "--steps", "8", "--checkpoint-every", "100", *FAST]
    assert main([*args, "--out", str(whole)]) == 0

    import minitransformer.train as train_module
    original_log = print

    def log_and_interrupt(message):
        original_log(message)
        if message.startswith("step     4/"):
            signal.raise_signal(signal.SIGINT)  # as if the user pressed Ctrl-C during step 4

    train_module_train = train_module.train

    def train_with_interrupt(*a, **k):
        k["log"] = log_and_interrupt
        return train_module_train(*a, **k)

    import minitransformer.pretrain as pretrain_module
    pretrain_module.train = train_with_interrupt
    try:
        assert main([*args, "--out", str(split)]) == 0
    finally:
        pretrain_module.train = train_module_train
    assert "interrupted: saved" in capsys.readouterr().out
    assert checkpoint.load(split / "checkpoint.safetensors").metadata["step"] == 4

    assert main([*args, "--out", str(split), "--resume"]) == 0
    assert losses(split) == losses(whole)
    a = checkpoint.load(whole / "checkpoint.safetensors").weights
    b = checkpoint.load(split / "checkpoint.safetensors").weights
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, corpus, capsys, monkeypatch):
    from minitransformer import train as train_module

    folder = tmp_path / "nan"
    real_loss = train_module.CausalLM.loss
    calls = {"n": 0}

    def loss_that_explodes(self, model, batch):
        calls["n"] += 1
        loss = real_loss(self, model, batch)
        return loss * float("nan") if calls["n"] == 5 else loss

    monkeypatch.setattr(train_module.CausalLM, "loss", loss_that_explodes)
    code = main(["pretrain", "--corpus", str(corpus), "--steps", "8", "--checkpoint-every", "2", "--out", str(folder),
                 *FAST[:-2], "--eval-every", "100", "--workers", "1"])  # the patch lives in this process only
    assert code == 2
    err = capsys.readouterr().err
    assert "the loss became nan at step 5" in err and "saved at step 4" in err and "is kept" in err  # log numbering
    assert checkpoint.load(folder / "checkpoint.safetensors").metadata["step"] == 4


def test_bad_inputs_are_one_line_errors(tmp_path, runs, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the first cases write to the default runs/gpt: not the one a user's README run left
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"\x00\x01\x02abc")
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    long_prompt = "word " * 200
    cases = [
        (["pretrain", "--corpus", str(tmp_path / "missing.txt")], "corpus not found"),
        (["pretrain", "--corpus", str(empty)], "is empty"),
        (["pretrain", "--corpus", str(binary)], "binary"),
        (["pretrain", "--preset", "enormous", "--corpus", str(runs["gpt"] / "log.jsonl"), "--vocab-size", "300"],
         "unknown gpt preset 'enormous'"),
        (["finetune", "--checkpoint", str(runs["t5"] / "checkpoint.safetensors")], "supports gpt and bert"),
        (["generate", "--checkpoint", str(runs["gpt"] / "checkpoint.safetensors"), "--prompt", long_prompt],
         "longer than the model's context"),
        (["pretrain", "--model", "bert", "--resume", "--out", str(runs["gpt"]), "--corpus", str(runs["gpt"] / "log.jsonl")],
         "holds a gpt run"),
        (["generate", "--checkpoint", str(tmp_path / "nope.safetensors")], "checkpoint not found"),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert expected in err and len(err.splitlines()) == 1 and err.startswith("error: "), (argv, err)


def test_corrupt_checkpoint_is_a_clear_error(tmp_path, runs, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes((runs["gpt"] / "checkpoint.safetensors").read_bytes()[:1000])
    assert main(["generate", "--checkpoint", str(bad)]) == 2
    assert "bad.safetensors" in capsys.readouterr().err


def test_read_corpus_folder(tmp_path):
    (tmp_path / "a.txt").write_text("first file")
    (tmp_path / "b.txt").write_text("second file")
    assert read_corpus(tmp_path) == "first file\n\nsecond file"
    assert len(read_corpus()) > 400_000  # the built-in corpus


def test_info_and_tokenizer_commands(tmp_path, corpus, capsys):
    assert main(["info", "--preset", "gpt1", "--vocab-size", "40478"]) == 0
    out = capsys.readouterr().out
    assert "116," in out or "117," in out  # GPT-1: ~117M parameters
    tok = tmp_path / "tok.json"
    assert main(["tokenizer", "train", "--corpus", str(corpus), "--vocab-size", "300", "--out", str(tok)]) == 0
    assert main(["tokenizer", "encode", "--tokenizer", str(tok), "The statement"]) == 0
    assert "pieces:" in capsys.readouterr().out


def test_training_in_a_worker_thread(tmp_path, corpus):
    """Signals reach the main thread only: train() must still run (without its Ctrl-C handler)."""
    import threading

    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(code=main(
        ["pretrain", "--corpus", str(corpus), "--steps", "2", "--out", str(tmp_path / "thread"), *FAST])))
    thread.start()
    thread.join()
    assert outcome["code"] == 0


def test_each_model_type_has_its_own_default_steps_and_a_given_value_wins():
    from minitransformer.pretrain import default_steps_by_model, train_config

    steps = default_steps_by_model()
    assert steps["gpt"] == 1500 and steps["bert"] > steps["gpt"]  # a masked LM scores only what it hides
    for kind, n in steps.items():
        assert train_config(kind).steps == n and train_config(kind, steps=7).steps == 7
