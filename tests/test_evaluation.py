"""Held-out evaluation against the baselines (evaluation.py) and the `evaluate` command."""

import math
import re

import numpy as np
import pytest

from minitransformer.commands import main
from minitransformer.corpus import builtin_corpus
from minitransformer.evaluation import HeldOutReport, held_out_report, unigram_counts, unigram_probabilities
from minitransformer.models import build_model
from minitransformer.objectives import task_for
from minitransformer import word_fills
from minitransformer.pretrain import make_tokenizer
from minitransformer.tokenizers import CharTokenizer
from minitransformer.word_fills import (gap_positions, is_word_fill, letter_start_ids, word_fill_report,
                                        word_token_ids, words_of)

TEXT = builtin_corpus()[:30000]


@pytest.fixture(scope="module")
def tokenizer():
    return make_tokenizer(TEXT, vocab_size=300)


@pytest.fixture(scope="module")
def ids(tokenizer):
    return np.array(tokenizer.encode(TEXT), dtype=np.int64)


def test_the_unigram_baseline_is_add_one_smoothed_frequency():
    counts = unigram_counts(np.array([0, 0, 1, 3]), vocab_size=5)
    np.testing.assert_array_equal(counts, [2, 1, 0, 1, 0])
    np.testing.assert_allclose(unigram_probabilities(counts), np.array([3, 2, 1, 2, 1]) / 9)


class UniformModelTask:
    """A task whose model knows nothing: equal logits everywhere, so its NLL is exactly ln V."""

    scored_tokens = "tokens"

    def __init__(self, vocab_size, labels):
        self.vocab_size, self.labels = vocab_size, labels

    def evaluation_batch(self, ids, batch_size, rng):
        return rng.choice(self.labels, size=batch_size)

    def scored_predictions(self, model, batch):
        return np.zeros((len(batch), self.vocab_size), dtype=np.float32), batch


class Switch:
    training = True

    def eval(self):
        self.training = False

    def train(self, mode=True):
        self.training = mode


def test_a_model_that_knows_nothing_scores_ln_v_and_the_unigram_its_own_cross_entropy():
    labels = np.array([0, 0, 0, 1])
    counts = np.array([30, 10, 0, 0])
    model = Switch()
    report = held_out_report(model, UniformModelTask(4, labels), None, counts, batches=50, batch_size=40)
    assert report.nll == pytest.approx(math.log(4))
    assert report.uniform_nll == pytest.approx(math.log(4))
    p = unigram_probabilities(counts)
    scored = report.tokens
    assert scored == 2000 and report.most_frequent_id == 0
    # the unigram NLL is the mean of -log p over the scored labels, whatever mix of 0s and 1s was drawn
    assert -np.log(p[1]) > report.unigram_nll > -np.log(p[0])
    assert report.gain_over_unigram < 0 and "worse than the unigram" in report.verdict()
    assert model.training, "the model is put back in training mode"


@pytest.mark.parametrize("kind", ["gpt", "bert", "t5"])
def test_each_objective_scores_the_tokens_it_predicts(kind, tokenizer, ids):
    model = build_model(kind, "micro", vocab_size=tokenizer.vocab_size,
                        **({"pad_id": tokenizer.token_to_id("[PAD]")} if kind == "t5" else {}))
    task = task_for(model, tokenizer)
    logits, labels = task.scored_predictions(model, task.evaluation_batch(ids, 4, np.random.default_rng(0)))
    assert logits.shape == (len(labels), tokenizer.vocab_size) and len(labels) > 0
    special = [tokenizer.token_to_id(name) for name in tokenizer.special_tokens]
    if kind != "gpt":  # BERT's masked tokens and T5's hidden text are never special tokens
        assert not np.isin(labels, special).any()
    report = held_out_report(model, task, ids, unigram_counts(ids, tokenizer.vocab_size), batches=2, batch_size=4)
    assert isinstance(report, HeldOutReport) and report.tokens > 0
    assert abs(report.nll - math.log(tokenizer.vocab_size)) < 0.5  # untrained: close to uniform
    assert len(report.lines(tokenizer)) == 5 + len(report.parts)
    assert len(report.parts) == (2 if kind == "t5" else 0)


def test_t5_reports_the_first_token_of_each_span_apart_and_the_parts_add_up(tokenizer, ids):
    t5 = build_model("t5", "micro", vocab_size=tokenizer.vocab_size, pad_id=tokenizer.token_to_id("[PAD]"))
    task = task_for(t5, tokenizer)
    batch = task.evaluation_batch(ids, 4, np.random.default_rng(1))
    _, labels = task.scored_predictions(t5, batch)
    part = task.score_parts(batch)
    spans = np.isin(batch.target_ids, task.sentinel_ids).sum()
    assert part.shape == labels.shape and (part == 0).sum() == spans  # one first token per span
    report = held_out_report(t5, task, ids, unigram_counts(ids, tokenizer.vocab_size), batches=3, batch_size=4)
    (first, n_first, nll_first, uni_first), (later, n_later, nll_later, uni_later) = report.parts
    assert first.startswith("first token") and later.startswith("later")
    assert n_first + n_later == report.tokens
    assert math.isclose((n_first * nll_first + n_later * nll_later) / report.tokens, report.nll, rel_tol=1e-9)
    assert math.isclose((n_first * uni_first + n_later * uni_later) / report.tokens, report.unigram_nll, rel_tol=1e-9)
    gap = uni_later - nll_later  # an untrained model: behind the unigram, and said so in words
    said = f"{gap:.2f} nats below the unigram" if gap >= 0 else f"{-gap:.2f} nats worse than the unigram"
    assert said in report.lines(tokenizer)[-1] and "-" not in report.lines(tokenizer)[-1].split(":")[1]


def test_bert_and_t5_are_scored_at_the_papers_rate_whatever_they_train_with(tokenizer, ids):
    bert = build_model("bert", "micro", vocab_size=tokenizer.vocab_size)
    task = task_for(bert, tokenizer, mask_prob=0.9)
    rng = np.random.default_rng(0)
    _, train_labels = task.batch(ids, 8, rng)
    _, eval_labels = task.evaluation_batch(ids, 8, rng)
    chosen = lambda labels: (labels != -100).sum(axis=1)  # noqa: E731
    assert (chosen(train_labels) >= 12).all() and (chosen(eval_labels) <= 3).all()  # 14 candidates per row
    t5 = build_model("t5", "micro", vocab_size=tokenizer.vocab_size, pad_id=tokenizer.token_to_id("[PAD]"))
    spans = task_for(t5, tokenizer, noise_density=0.3)
    assert spans.window > spans.window_for(spans.context, 0.15)


def test_pretrain_ends_with_the_report_and_evaluate_repeats_it(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    run = tmp_path / "run"
    assert main(["pretrain", "--model", "bert", "--context", "32", "--corpus", str(corpus), "--vocab-size", "300",
                 "--steps", "3", "--out", str(run), "--samples", "0"]) == 0
    printed = capsys.readouterr().out
    assert "BERT recipe: T5's relative positions, started local, pre-norm blocks" in printed and "masking: 40%" in printed
    assert "held-out masked tokens" in printed and "unigram baseline" in printed and "uniform (ln V)" in printed
    report_lines = printed[printed.index("held-out masked tokens"):].splitlines()[:5]
    assert main(["evaluate", "--checkpoint", str(run / "checkpoint.safetensors"), "--corpus", str(corpus)]) == 0
    evaluated = capsys.readouterr().out.splitlines()
    assert evaluated[0].startswith("held-out masked tokens") and "unigram baseline" in evaluated[2]
    assert report_lines[0].startswith("held-out masked tokens")


@pytest.mark.parametrize("argv, message", [
    (["evaluate"], "required: --checkpoint"),
    (["evaluate", "--checkpoint", "{tmp}/missing.safetensors"], "not found"),
    (["evaluate", "--checkpoint", "{tmp}"], "{tmp}"),
    (["evaluate", "--checkpoint", "{tmp}/run/checkpoint.safetensors", "--corpus", "{tmp}/tiny.txt"], "fewer than one window"),
    (["evaluate", "--checkpoint", "{tmp}/run/checkpoint.safetensors", "--corpus", "{tmp}/nothing"], "not found"),
    (["pretrain", "--model", "gpt", "--mask-prob", "0.2"], "--mask-prob is an option of --model bert"),
    (["pretrain", "--model", "bert", "--noise-density", "0.2"], "--noise-density is an option of --model t5"),
    (["pretrain", "--model", "t5", "--noise-density", "0"], "noise_density must be in (0, 1), got 0.0"),
    (["pretrain", "--model", "t5", "--noise-density", "1.5"], "noise_density must be in (0, 1), got 1.5"),
    (["pretrain", "--model", "t5", "--noise-density", "nan"], "noise_density must be in (0, 1), got nan"),
    (["pretrain", "--model", "t5", "--noise-density", "-0.3"], "noise_density must be in (0, 1), got -0.3"),
    (["pretrain", "--model", "t5", "--noise-density", "lots"], "--noise-density"),
    (["pretrain", "--model", "gpt", "--finish-density", "0.1"], "--finish-density is an option of --model t5"),
    (["pretrain", "--model", "t5", "--finish-density", "0.5"], "finish_density must be in (0, noise_density=0.3], got 0.5"),
    (["pretrain", "--model", "t5", "--finish-density", "0"], "finish_density must be in (0, noise_density=0.3], got 0.0"),
    (["pretrain", "--model", "t5", "--noise-density", "0.1", "--finish-density", "0.2"], "noise_density=0.1], got 0.2"),
    (["pretrain", "--model", "t5", "--finish-density", "inf"], "got inf"),
    (["pretrain", "--model", "t5", "--finish-density", "few"], "--finish-density"),
])
def test_evaluate_and_the_objective_options_fail_with_one_clear_line(argv, message, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    (tmp_path / "tiny.txt").write_text("a few words", encoding="utf-8")
    if any("run/checkpoint" in arg for arg in argv):
        assert main(["pretrain", "--model", "gpt", "--preset", "micro", "--corpus", str(corpus), "--vocab-size",
                     "300", "--steps", "2", "--out", str(tmp_path / "run"), "--samples", "0"]) == 0
        capsys.readouterr()
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    if argv[0] == "pretrain":
        argv += ["--preset", "micro", "--corpus", str(corpus), "--vocab-size", "300", "--steps", "2",
                 "--out", str(tmp_path / "other")]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err and message.format(tmp=tmp_path) in err[-1] and "Traceback" not in "\n".join(err)


@pytest.mark.parametrize("density", ["0.45", "0.9"])
def test_t5_pretrains_at_any_noise_density_it_is_given(density, tmp_path, capsys):
    """The tokenizer `pretrain` trains gets the sentinels this density needs (it once got those of
    30%, so --noise-density 0.45 stopped with "the tokenizer has 16 of the 23 sentinels"), and the
    window is cut so that the target, long at high density, fits the decoder too."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    code = main(["pretrain", "--model", "t5", "--preset", "micro", "--corpus", str(corpus), "--vocab-size", "300",
                 "--steps", "2", "--out", str(tmp_path / "run"), "--samples", "0", "--noise-density", density])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert f"{float(density):.0%} of each" in printed.out and "held-out hidden span tokens" in printed.out


# --- T5's hidden-word fills (word_fills.py) ---

@pytest.mark.parametrize("fill, is_word", [
    (" error", True), (" of the", True), (" statement", True),
    (' "x', False), (" )", False), (" 3.0", False), ("", False), (" ", False), ("error", False),  # no space
    (" statemen", False),  # a piece of a word the text never uses
    (" error\n", False), ("\n\n object", False), (" of  the", False),
])
def test_a_word_fill_is_whole_words_of_the_text(fill, is_word):
    assert is_word_fill(fill, words_of("an error of the statement")) is is_word


@pytest.fixture(scope="module")
def wordy():
    """A tokenizer with enough merges for many words to be one token (at 300, ' the' is the only
    one), and the ids of TEXT."""
    tokenizer = make_tokenizer(TEXT, vocab_size=700)
    return tokenizer, np.array(tokenizer.encode(TEXT), dtype=np.int64)


def _fill_setup(tokenizer, ids):
    t5 = build_model("t5", "micro", vocab_size=tokenizer.vocab_size, pad_id=tokenizer.token_to_id("[PAD]"),
                     context_length=64)  # a window of 48 tokens and its </s> fit
    is_word = word_token_ids(tokenizer, tokenizer.vocab_size)
    starts_letter = letter_start_ids(tokenizer, tokenizer.vocab_size)
    return t5, is_word, starts_letter


def test_the_hidden_words_are_whole_one_token_words_with_text_on_both_sides(wordy):
    tokenizer, ids = wordy
    _, is_word, starts_letter = _fill_setup(tokenizer, ids)
    positions = gap_positions(ids, is_word, starts_letter, 48, 60, np.random.default_rng(0))
    assert len(positions) == 60 and len(set(positions.tolist())) == 60
    assert (positions >= 24).all() and (positions + 24 < len(ids)).all()
    for position in positions:
        assert re.fullmatch(r" [A-Za-z]{2,}", tokenizer.decode([int(ids[position])]))
        assert not tokenizer.decode([int(ids[position + 1])])[:1].isalpha()  # the word ends there
    again = gap_positions(ids, is_word, starts_letter, 48, 60, np.random.default_rng(0))
    np.testing.assert_array_equal(positions, again)
    assert len(gap_positions(ids[:40], is_word, starts_letter, 48, 60, np.random.default_rng(0))) == 0


@pytest.mark.parametrize("writes, exact, words", [("hidden", 30, 30), (" zzqx", 0, 0), (" the", None, 30)])
def test_the_fill_report_counts_what_the_decoder_writes(writes, exact, words, wordy, monkeypatch):
    """A stand-in decoder that writes the hidden word scores 30/30, one that writes a non-word 0/30;
    ' the' is a word, and right exactly where the unigram's guess (also ' the') is."""
    tokenizer, ids = wordy
    t5, is_word, starts_letter = _fill_setup(tokenizer, ids)
    positions = iter(gap_positions(ids, is_word, starts_letter, 48, 30, np.random.default_rng(7)).tolist())
    sentinel, eos = tokenizer.token_to_id("<extra_id_0>"), tokenizer.token_to_id("</s>")

    def stand_in(model, tokenizer_, rows, spaced_gaps, max_new_tokens):
        assert spaced_gaps == [sentinel] and (rows[:, 24] == sentinel).all() and (rows[:, -1] == eos).all()
        fills = [[int(ids[next(positions)])] if writes == "hidden" else tokenizer.encode(writes) for _ in rows]
        return np.array([[sentinel, *fill, eos] for fill in fills])

    monkeypatch.setattr(word_fills, "fill_span_ids_t5", stand_in)
    counts = unigram_counts(ids, tokenizer.vocab_size)
    report = word_fills.word_fill_report(t5, tokenizer, ids, counts, word_fills.words_of(TEXT), gaps=30, seed=7,
                                         batch_size=8)
    assert report.gaps == 30 and report.words == words and report.unigram_guess == " the"
    assert report.exact == (report.unigram_exact if exact is None else exact)
    assert 0 < report.unigram_exact < 30
    assert f"{report.exact}/30" in report.lines()[1] and f"{report.words}/30" in report.lines()[2]


def test_an_untrained_t5_fills_every_hidden_word_with_text_that_starts_with_a_space(wordy):
    tokenizer, ids = wordy
    t5, _, _ = _fill_setup(tokenizer, ids)
    report = word_fill_report(t5, tokenizer, ids, unigram_counts(ids, tokenizer.vocab_size), words_of(TEXT),
                              gaps=12, examples=12)
    assert report.gaps == 12 and 0 <= report.exact <= report.words <= 12
    assert all(fill.startswith(" ") for _, fill in report.examples)  # the space rule of fill_spans_t5


def test_no_fill_report_without_one_token_words():
    chars = CharTokenizer.from_text(TEXT[:3000], special_tokens=["[PAD]", "</s>", "<extra_id_0>"])
    t5 = build_model("t5", "micro", vocab_size=chars.vocab_size, pad_id=chars.token_to_id("[PAD]"))
    ids = np.array(chars.encode(TEXT[:3000]))
    assert word_fill_report(t5, chars, ids, unigram_counts(ids, chars.vocab_size), {"the"}) is None


def test_t5_pretrain_and_evaluate_end_with_the_hidden_word_fills(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    run = tmp_path / "run"
    assert main(["pretrain", "--model", "t5", "--preset", "micro", "--corpus", str(corpus), "--vocab-size", "300",
                 "--context", "64", "--steps", "2", "--out", str(run), "--samples", "0"]) == 0
    printed = capsys.readouterr().out
    assert "hidden-word fills (" in printed and "in 48 tokens of text" in printed
    assert "the unigram's guess ' the'" in printed
    assert main(["evaluate", "--checkpoint", str(run / "checkpoint.safetensors")]) == 0
    evaluated = capsys.readouterr().out
    assert "held-out hidden span tokens" in evaluated and "hidden-word fills" in evaluated
