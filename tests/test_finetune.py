"""Fine-tuning: GPT-1's objective, BERT's [CLS] head, the data readers and the built-in task."""

import re

import re

import numpy as np
import pytest

import minitransformer as mt
from minitransformer import functional as F
from minitransformer.corpus import builtin_corpus
from minitransformer.finetune import (GPT1_LM_WEIGHT, BERTClassifier, BPEExampleEncoder, ExampleEncoder, GPTClassifier,
                                      LabelledData, acceptability_splits, acceptability_task, finetune,
                                      read_labelled_file)
from minitransformer.finetune_loop import sgd_with_head_rate
from minitransformer.models import BERT, GPT, bert_config, build_model, gpt_config
from minitransformer.objectives import causal_lm_targets
from minitransformer.tokenizers import BPETokenizer, WordPieceTokenizer

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<|endoftext|>"]


@pytest.fixture(scope="module")
def tokenizer():
    tok = BPETokenizer(kind="byte")
    tok.train(["the cat sat on the mat. a dog ran to the park. " * 20], vocab_size=286, special_tokens=SPECIALS)
    return tok


def small(kind, vocab, **extra):
    sizes = dict(vocab_size=vocab, context_length=24, n_layers=1, n_heads=2, d_model=8, d_ff=16, **extra)
    return GPT(gpt_config("micro", **sizes)) if kind == "gpt" else BERT(bert_config("micro", **sizes))


def randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        p.data = (1.0 if "ln" in name and name.endswith("weight") else 0.0) + rng.standard_normal(p.shape) * 0.5
    return model


def test_gpt1_objective_is_task_loss_plus_half_the_lm_loss(tokenizer):
    clf = GPTClassifier(randomize(small("gpt", tokenizer.vocab_size)), num_labels=3)
    encoder = BPEExampleEncoder(tokenizer, "gpt", 24)
    data = LabelledData(["the cat sat", "a dog ran to the park"], None, np.array([2, 0]), ["a", "b", "c"])
    ids, _, lengths = encoder.batch(data, [0, 1])
    assert (ids[np.arange(2), lengths - 1] == tokenizer.token_to_id("<|endoftext|>")).all()
    logits, loss = clf(ids, lengths, data.labels, pad_id=0)
    hidden = clf.gpt.hidden_states(ids)
    task = F.cross_entropy(clf.head(hidden[np.arange(2), lengths - 1]), data.labels).item()
    lm_logits, _ = clf.gpt(ids)
    lm = F.cross_entropy(lm_logits.reshape(-1, tokenizer.vocab_size),
                         causal_lm_targets(ids, pad_id=0).reshape(-1)).item()
    assert GPT1_LM_WEIGHT == 0.5
    assert np.isclose(loss.item(), task + 0.5 * lm, rtol=1e-5)


def test_classifier_losses_gradcheck_every_parameter(tokenizer):
    encoder_gpt = BPEExampleEncoder(tokenizer, "gpt", 24)
    encoder_bert = BPEExampleEncoder(tokenizer, "bert", 24)
    data = LabelledData(["the cat", "a dog ran"], ["sat on", "to the park"], np.array([1, 0]), ["x", "y"])
    gpt = GPTClassifier(randomize(small("gpt", tokenizer.vocab_size)), 2).double()
    ids, _, lengths = encoder_gpt.batch(data, [0, 1])
    report = mt.gradcheck_module(gpt, lambda: gpt(ids, lengths, data.labels)[1], samples_per_parameter=2,
                                 atol=1e-7, rtol=1e-4)
    assert report.passed, report.table()
    bert = BERTClassifier(randomize(small("bert", tokenizer.vocab_size, dropout=0.0)), 2)
    randomize(bert)
    bert.double()
    ids, types, lengths = encoder_bert.batch(data, [0, 1])
    mask = (np.arange(ids.shape[1]) < lengths[:, None]).astype(int)
    assert types[0, lengths[0] - 1] == 1 and types[0, 0] == 0  # the second sentence is segment 1
    report = mt.gradcheck_module(bert, lambda: bert(ids, types, mask, data.labels)[1], samples_per_parameter=2,
                                 atol=1e-7, rtol=1e-4)
    assert report.passed, report.table()


def test_sgd_finetuning_learns_an_easy_task(tokenizer):
    mt.manual_seed(0)
    texts = ["the cat sat on the mat", "a dog ran to the park"] * 12
    data = LabelledData(texts, None, np.array([0, 1] * 12), ["cat", "dog"])
    clf = GPTClassifier(small("gpt", tokenizer.vocab_size), 2)
    result = finetune("gpt", clf, BPEExampleEncoder(tokenizer, "gpt", 24), data, data, epochs=8, batch_size=8,
                      lr=0.1, log=lambda *_: None)
    assert result["accuracy"] == 1.0
    assert result["history"][-1]["train_loss"] < result["history"][0]["train_loss"]


def test_acceptability_task_is_balanced_deterministic_and_held_out():
    train, test = acceptability_task(seed=0)
    again, _ = acceptability_task(seed=0)
    assert train.texts_a == again.texts_a
    assert len(train) > 2000 and len(test) > 200
    assert 0.45 < train.labels.mean() < 0.55
    assert not set(train.texts_a) & set(test.texts_a)
    real = [t for t, y in zip(train.texts_a, train.labels) if y == 1]
    assert all(len(t.split()) == 10 for t in real)


def test_read_labelled_file(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("text_a\ttext_b\tlabel\nA\tB\tyes\nC\tD\tno\n", encoding="utf-8")
    data = read_labelled_file(path)
    assert data.texts_b == ["B", "D"] and data.label_names == ["no", "yes"] and list(data.labels) == [1, 0]
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,y\nA,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'text'.*'label'"):
        read_labelled_file(bad)
    one = tmp_path / "one.csv"
    one.write_text("text,label\nA,1\nB,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="two different labels"):
        read_labelled_file(one)
    with pytest.raises(FileNotFoundError):
        read_labelled_file(tmp_path / "missing.csv")


def test_too_long_example_is_an_error_not_a_truncation(tokenizer):
    encoder = BPEExampleEncoder(tokenizer, "bert", 8)
    data = LabelledData(["the cat sat on the mat and the dog ran to the park"], None, np.array([0]), ["a", "b"])
    with pytest.raises(ValueError, match="example 0 is .* tokens, longer than the model's context of 8"):
        encoder.batch(data, [0])


def test_finetune_command_on_the_real_pretrained_bert(tmp_path, capsys):
    from minitransformer.cli import main

    rows = ["text,label"] + [f"the film was {w},pos" for w in ("good", "great", "fine", "lovely", "superb")] + \
           [f"the film was {w},neg" for w in ("bad", "awful", "dull", "poor", "boring")]
    data = tmp_path / "sentiment.csv"
    data.write_text("\n".join(rows), encoding="utf-8")
    assert main(["finetune", "--pretrained", "all-MiniLM-L6-v2", "--task", str(data), "--epochs", "1",
                 "--batch-size", "4", "--lr", "0.005"]) == 0
    out = capsys.readouterr().out
    assert "fine-tuning bert (pretrained init)" in out and "held-out accuracy" in out


def test_one_encoder_frames_bert_examples_as_bert_s_own_tokenizer_does():
    """The same ExampleEncoder serves a BPE and a real BERT's WordPiece: the frame is the model's."""
    wordpiece = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "##s", "on",
                                    "mat", "."])
    encoder = ExampleEncoder.for_model(small("bert", wordpiece.vocab_size), wordpiece)
    data = LabelledData(["The cats sat.", "the mat"], ["on the mat", "cat"], np.array([0, 1]), ["a", "b"])
    ids, types, lengths = encoder.batch(data, [0, 1])
    for row, (a, b) in enumerate(zip(data.texts_a, data.texts_b)):
        expected = wordpiece.encode(a, b)
        assert ids[row, :lengths[row]].tolist() == expected.input_ids
        assert types[row, :lengths[row]].tolist() == expected.token_type_ids
    assert (ids[1, lengths[1]:] == wordpiece.token_to_id("[PAD]")).all()
    with pytest.raises(ValueError, match="finetune supports gpt and bert checkpoints, not 't5'"):
        ExampleEncoder.for_model(build_model("t5", "micro"), wordpiece)


def test_finetune_needs_no_model_name_and_still_takes_the_older_call(tokenizer):
    data = LabelledData(["the cat sat on the mat", "a dog ran to the park"] * 4, None, np.array([0, 1] * 4),
                        ["cat", "dog"])
    results = []
    for older_call in (False, True):
        mt.manual_seed(0)
        clf = GPTClassifier(small("gpt", tokenizer.vocab_size), 2)
        encoder = ExampleEncoder.for_model(clf.gpt, tokenizer)
        args = ("gpt", clf, encoder, data, data) if older_call else (clf, encoder, data, data)
        results.append(finetune(*args, epochs=2, batch_size=4, lr=0.1, log=lambda *_: None))
    assert results[0] == results[1]


def test_history_logs_task_and_lm_loss_apart_and_selects_on_validation(tokenizer):
    """train_loss = task_loss + 0.5 * lm_loss per batch, so also per epoch; the chosen epoch is the
    one of best *validation* accuracy, reported with its held-out accuracy."""
    mt.manual_seed(0)
    texts = ["the cat sat on the mat", "a dog ran to the park", "the mat sat on the cat", "a park ran to the dog"]
    data = LabelledData(texts * 6, None, np.array([0, 1, 1, 0] * 6), ["x", "y"])
    clf = GPTClassifier(small("gpt", tokenizer.vocab_size), 2)
    lines = []
    result = finetune(clf, BPEExampleEncoder(tokenizer, "gpt", 24), data, data.subset(range(8)),
                      val_data=data.subset(range(8, 16)), epochs=4, batch_size=8, lr=0.1, log=lines.append)
    history = result["history"]
    for epoch in history:
        assert np.isclose(epoch["train_loss"], epoch["task_loss"] + 0.5 * epoch["lm_loss"], rtol=1e-5)
        assert {"val_accuracy", "test_accuracy"} <= set(epoch)
    best = max(history, key=lambda e: e["val_accuracy"])
    assert result["best_epoch"] == best["epoch"] and result["best_accuracy"] == best["test_accuracy"]
    assert result["accuracy"] == history[-1]["test_accuracy"]
    assert "task loss" in lines[0] and "LM loss" in lines[0] and "validation accuracy" in lines[0]
    assert lines[-1].startswith(f"best validation accuracy at epoch {best['epoch']}")
    without = finetune(GPTClassifier(small("gpt", tokenizer.vocab_size), 2), BPEExampleEncoder(tokenizer, "gpt", 24),
                       data, data, epochs=1, batch_size=8, log=lambda *_: None)
    assert without["best_epoch"] is None and "val_accuracy" not in without["history"][0]


def test_the_new_head_gets_its_own_learning_rate_and_both_decay_to_zero(tokenizer):
    clf = GPTClassifier(small("gpt", tokenizer.vocab_size), 2)  # d_model 8
    optimizer = sgd_with_head_rate(clf, lr=0.2, head_lr=None, momentum=0.9)
    body, head = optimizer.param_groups
    assert body["lr"] == 0.2 and head["lr"] == 0.2 / 8
    assert {id(p) for p in head["params"]} == {id(p) for p in clf.head.parameters()}
    assert len(body["params"]) + len(head["params"]) == len(list(clf.parameters()))
    assert sgd_with_head_rate(clf, 0.2, 0.01, 0.9).param_groups[1]["lr"] == 0.01
    bert = BERTClassifier(small("bert", tokenizer.vocab_size), 3)
    assert bert.head is bert.bert.classifier
    # BERT's head reads the pooled tanh vector, not a layer-normed one: it learns at the body's rate
    assert sgd_with_head_rate(bert, lr=0.2, head_lr=None, momentum=0.9).param_groups[1]["lr"] == 0.2
    # a learning rate that decays to 0 moves the weights less than a constant one (same steps)
    data = LabelledData(["the cat sat", "a dog ran"] * 4, None, np.array([0, 1] * 4), ["a", "b"])
    moved = {}
    for schedule in ("linear", "constant"):
        mt.manual_seed(0)
        clf = GPTClassifier(small("gpt", tokenizer.vocab_size), 2)
        start = clf.gpt.token_embedding.weight.data.copy()
        finetune(clf, BPEExampleEncoder(tokenizer, "gpt", 24), data, data, epochs=2, batch_size=4, lr=0.1,
                 schedule=schedule, log=lambda *_: None)
        moved[schedule] = np.abs(clf.gpt.token_embedding.weight.data - start).sum()
    assert 0 < moved["linear"] < moved["constant"]
    with pytest.raises(ValueError, match="schedule must be one of .*'cosine'"):
        finetune(clf, BPEExampleEncoder(tokenizer, "gpt", 24), data, data, schedule="cosine")


def test_acceptability_splits_pair_every_run_with_its_reversal():
    train, val, test = acceptability_splits(seed=0, validation=0.1)
    assert len(val) > 200 and len(test) > 400
    for data in (train, val, test):
        assert data.labels.mean() == 0.5
        real = {t for t, y in zip(data.texts_a, data.labels) if y == 1}
        reversed_ = {t for t, y in zip(data.texts_a, data.labels) if y == 0}
        assert {" ".join(t.split()[::-1]) for t in real} == reversed_
    def words(data):
        return {tuple(sorted(t.split())) for t in data.texts_a}

    assert not words(train) & words(val) and not words(train) & words(test)
    whole, _ = acceptability_task(seed=0)
    assert len(whole) > len(train) and set(train.texts_a) < set(whole.texts_a)
    with pytest.raises(ValueError, match="validation must be a fraction in \\[0, 1\\), got 1.5"):
        acceptability_splits(validation=1.5)


def test_load_task_sets_a_validation_split_apart_from_a_file(tmp_path):
    from minitransformer.finetune import load_task

    rows = ["text,label"] + [f"example number {i},{'ab'[i % 2]}" for i in range(200)]
    path = tmp_path / "task.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    train, val, test = load_task(str(path), None, seed=0)
    assert (len(train), len(val), len(test)) == (144, 16, 40)
    assert not set(train.texts_a) & set(val.texts_a) and not set(train.texts_a) & set(test.texts_a)
    assert not set(val.texts_a) & set(test.texts_a)
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("\n".join(rows[:21]), encoding="utf-8")
    assert load_task(str(tiny), None, seed=0)[1] is None  # 16 training rows: too few to set 10% apart


def test_finetune_command_reports_the_last_epoch_and_the_epoch_chosen_on_validation(tmp_path, capsys):
    from minitransformer.cli import main

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(builtin_corpus()[:20000], encoding="utf-8")
    assert main(["pretrain", "--corpus", str(corpus), "--steps", "2", "--out", str(tmp_path / "run"), "--preset",
                 "micro", "--vocab-size", "300", "--batch-size", "4", "--eval-batches", "1"]) == 0
    rows = ["text,label"] + [f"{w} {i},{'ab'[i % 2]}" for i, w in enumerate(["cat", "dog"] * 100)]
    task = tmp_path / "task.csv"
    task.write_text("\n".join(rows), encoding="utf-8")
    capsys.readouterr()
    assert main(["finetune", "--checkpoint", str(tmp_path / "run" / "checkpoint.safetensors"), "--task", str(task),
                 "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "task: 144 training, 16 validation and 40 held-out examples" in out
    assert re.search(r"held-out accuracy: \d\.\d{3} after the last epoch \(pretrained init\); \d\.\d{3} at epoch [12], "
                     r"the epoch of best validation accuracy", out), out
