"""Tests for minitransformer.tokenizers.bpe (word-level and byte-level BPE)."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformer.tokenizers import (
    BPETokenizer,
    TokenizerFileError,
    UnknownTokenError,
    t5_sentinel_tokens,
)
from minitransformer.tokenizers.pretokenize import split_chunks, split_on_special_tokens, split_words
from minitransformer.tokenizers.bpe_merges import PlainMergeTrainer
from minitransformer.tokenizers.bpe_trainer import FastMergeTrainer

CORPUS = (
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox doesn't!\n"
    "Tokenizers split text into subwords: low, lower, lowest, newer, newest, wider, widest.\n"
    "Unicode too: naïve café, Straße, 東京, emoji 😀 and numbers 12345 or 3.14.\n"
) * 3


def train(kind, texts=CORPUS, vocab_size=None, **kwargs):
    tokenizer = BPETokenizer(kind=kind)
    if vocab_size is None:
        vocab_size = 350 if kind == "byte" else 150
    tokenizer.train(texts, vocab_size=vocab_size, **kwargs)
    return tokenizer


@pytest.fixture(scope="module")
def word_tok():
    return train("word")


@pytest.fixture(scope="module")
def gpt4_tok():
    tokenizer = BPETokenizer(kind="byte", pattern="gpt4")
    tokenizer.train(CORPUS, vocab_size=300)
    return tokenizer


@pytest.fixture(scope="module")
def byte_tok():
    return train("byte", special_tokens=["<|endoftext|>", *t5_sentinel_tokens(2)])


# ---------------------------------------------------------------------------
# Reference examples


def test_paper_toy_corpus_learns_the_papers_merges_in_order():
    # Golden values: output of Algorithm 1 in Sennrich et al. (2016), "Neural Machine
    # Translation of Rare Words with Subword Units", on its dictionary
    # {low: 5, lower: 2, newest: 6, widest: 3} with num_merges = 10 (Python >= 3.7).
    paper_merges = [
        ("e", "s"), ("es", "t"), ("est", "</w>"), ("l", "o"), ("lo", "w"),
        ("n", "e"), ("ne", "w"), ("new", "est</w>"), ("low", "</w>"), ("w", "i"),
    ]  # fmt: skip
    corpus = "low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3
    tok = BPETokenizer(kind="word")
    alphabet = len(set(corpus) - {" "}) + 1  # characters + </w>
    tok.train(corpus, vocab_size=5 + alphabet + 10, min_frequency=1)
    assert tok.merges == paper_merges
    # The paper's point: the unseen word "lowest" is built from known subwords.
    assert tok.tokenize("lowest") == ["low", "est</w>"]
    assert tok.segment("lowest") == "low## est"


@pytest.mark.parametrize("kind", ["byte", "word"])
def test_wikipedia_aaabdaaabac(kind):
    # Wikipedia ("Byte pair encoding"): aa -> Z, ab -> Y, ZY -> X turns aaabdaaabac
    # into XdXac. After aa -> Z the pairs "Za" and "ab" tie (2 each); Wikipedia takes
    # "ab", our documented rule takes the one seen first, "Za" (= "aaa"), as minbpe
    # does. Either way X = "aaab" after three merges and the text becomes X d X a c.
    tok = BPETokenizer(kind=kind)
    specials = [] if kind == "byte" else ["[UNK]"]
    base = 256 if kind == "byte" else 1 + len(set("aaabdaaabac")) + len(specials)
    tok.train("aaabdaaabac", vocab_size=base + 3, min_frequency=2, special_tokens=specials)
    assert tok.segment("aaabdaaabac") == "aaab## d## aaab## a## c"  # X d X a c
    assert tok.merges == [("a", "a"), ("aa", "a"), ("aaa", "b")]
    if kind == "byte":  # same ids as minbpe's test of this example: X = 258
        assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]


def test_lecture_notation_for_rare_words():
    # CS224n: "taaaaasty" -> "taa## aaa## sty", "Transformerify" -> "Transformer## ify".
    corpus = "taa, " * 30 + "aaa, " * 20 + "sty " * 10 + "Transformer, " * 10 + "ify " * 10
    tok = BPETokenizer(kind="word")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny corpus runs out of pairs: expected
        tok.train(corpus, vocab_size=200)
    assert tok.segment("taaaaasty") == "taa## aaa## sty"
    assert tok.segment("Transformerify") == "Transformer## ify"
    assert tok.segment("taa aaa, sty") == "taa aaa## , sty"


# ---------------------------------------------------------------------------
# The fast trainer learns exactly what the slow textbook algorithm learns


def naive_bpe(words, num_merges, min_frequency):
    """Algorithm 1 of Sennrich et al.: recount every pair before each merge.

    ``words`` are symbol tuples in corpus order; ties go to the pair seen first
    (Python's max over an insertion-ordered dict). Returns (merges, final words).
    """
    vocab = {}
    for word in words:
        vocab[word] = vocab.get(word, 0) + 1
    merges = []
    for _ in range(num_merges):
        stats = {}
        for symbols, count in vocab.items():
            for pair in zip(symbols, symbols[1:]):
                stats[pair] = stats.get(pair, 0) + count
        if not stats or max(stats.values()) < min_frequency:
            break
        best = max(stats, key=stats.get)
        merges.append(best)
        new_vocab = {}
        for symbols, count in vocab.items():
            merged, i = [], 0
            while i < len(symbols):
                if symbols[i : i + 2] == best:
                    merged.append(best[0] + best[1])
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            new_vocab[tuple(merged)] = count
        vocab = new_vocab
    return merges, vocab


small_corpora = st.lists(st.text(alphabet="abc", min_size=1, max_size=7), min_size=1, max_size=30)


@settings(deadline=None, max_examples=50)
@given(words=small_corpora, num_merges=st.integers(0, 25), min_frequency=st.integers(1, 3))
def test_word_training_matches_naive_recount(words, num_merges, min_frequency):
    expected, final_words = naive_bpe([tuple(w) + ("</w>",) for w in words], num_merges, min_frequency)
    tok = BPETokenizer(kind="word")
    alphabet = len(set("".join(words))) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok.train(" ".join(words), 1 + alphabet + num_merges, min_frequency, special_tokens=["[UNK]"])
    assert tok.merges == expected
    # Encoding by merge rank (GPT-2 style) reproduces the training segmentation.
    for symbols in final_words:
        word = "".join(symbols).replace("</w>", "")
        assert tok.tokenize(word) == list(symbols)


@settings(deadline=None, max_examples=50)
@given(words=st.lists(st.text(alphabet="ab é", max_size=7), min_size=1, max_size=30), num_merges=st.integers(0, 25))
def test_byte_training_matches_naive_recount(words, num_merges):
    text = " ".join(words)
    if not text:
        return
    chunks = [tuple(chunk.encode("utf-8")) for chunk in split_chunks(text)]
    # The naive version works on byte strings; merged ids are 256, 257, ... in order.
    expected, _ = naive_bpe([tuple(bytes([b]) for b in chunk) for chunk in chunks], num_merges, 1)
    tok = BPETokenizer(kind="byte")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok.train(text, 256 + num_merges, min_frequency=1, special_tokens=[])
    id_of = {bytes([b]): b for b in range(256)}
    for new_id, (left, right) in enumerate(expected, start=256):
        id_of[left + right] = new_id
    expected_ids = [(id_of[left], id_of[right]) for left, right in expected]
    assert [(tok.token_to_id(a), tok.token_to_id(b)) for a, b in tok.merges] == expected_ids


def final_words_of(symbols, merges):
    """Apply ``merges`` in training order to one word (the textbook way to encode)."""
    symbols = list(symbols)
    for left, right in merges:
        i = 0
        while i < len(symbols) - 1:
            if symbols[i] == left and symbols[i + 1] == right:
                symbols[i : i + 2] = [left + right]
            i += 1
    return symbols


def test_word_training_matches_naive_recount_on_real_text():
    # Words followed by punctuation carry no </w>, so this also covers that path.
    words = [tuple(word) + (("</w>",) if ends_word else ()) for word, ends_word in split_words(CORPUS)]
    expected, _ = naive_bpe(words, num_merges=120, min_frequency=2)
    tok = BPETokenizer(kind="word")
    alphabet = len(set(CORPUS) - set(" \n")) + 1
    tok.train(CORPUS, vocab_size=5 + alphabet + 120, min_frequency=2)
    assert len(expected) == 120 and tok.merges == expected
    assert tok.tokenize(CORPUS) == [symbol for word in words for symbol in final_words_of(word, expected)]


# ---------------------------------------------------------------------------
# The fast trainer learns exactly what the package's plain reference learns


def run_trainer(trainer, first_id, num_merges, min_frequency, forbidden):
    """The loop BPETokenizer.train runs, on bare symbol ids."""
    merges = []
    while len(merges) < num_merges:
        best = trainer.most_frequent_pair()
        if best is None or best[1] < min_frequency:
            break
        if best[0] in forbidden:
            trainer.forbid(best[0])
            continue
        trainer.merge(best[0], first_id + len(merges))
        merges.append(best)
    return merges


symbol_words = st.lists(st.integers(0, 3), max_size=8)  # symbols 0..3; merged ids start at 4
symbol_corpora = st.lists(st.tuples(symbol_words, st.integers(1, 4)), min_size=1, max_size=20)  # (word, frequency)
base_pairs = st.sets(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=3)


@settings(deadline=None, max_examples=60)
@given(corpus=symbol_corpora, num_merges=st.integers(0, 20), min_frequency=st.integers(1, 3), forbidden=base_pairs)
def test_fast_trainer_equals_the_plain_reference_on_symbol_lists(corpus, num_merges, min_frequency, forbidden):
    words, freqs = [list(w) for w, _ in corpus], [f for _, f in corpus]
    plain = PlainMergeTrainer(words, freqs)
    fast = FastMergeTrainer([list(w) for w in words], freqs)
    expected = run_trainer(plain, 4, num_merges, min_frequency, forbidden)
    assert run_trainer(fast, 4, num_merges, min_frequency, forbidden) == expected  # pairs and counts
    assert fast.words == plain.words


@settings(deadline=None, max_examples=30)
@given(
    text=st.text(alphabet="ab cé\n", min_size=1, max_size=80),
    kind=st.sampled_from(["word", "byte"]),
    extra_merges=st.integers(0, 30),
    min_frequency=st.integers(1, 3),
)
def test_fast_and_plain_training_give_the_same_tokenizer(text, kind, extra_merges, min_frequency):
    # "ab</w>" / "Ġab" are special tokens, so training has to forbid the merges that would spell them.
    specials = ["[UNK]", "ab</w>"] if kind == "word" else ["<|endoftext|>", "Ġab"]
    alphabet = len(set(text) - set(" \n")) + 1 if kind == "word" else 256
    if kind == "word" and not text.split():
        return  # no words: training rightly refuses an empty corpus
    trained = {}
    for algorithm in ("plain", "fast"):
        tok = BPETokenizer(kind=kind)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tok.train(text, len(specials) + alphabet + extra_merges, min_frequency, specials, algorithm=algorithm)
        trained[algorithm] = tok
    assert trained["fast"].merges == trained["plain"].merges
    assert trained["fast"].to_dict() == trained["plain"].to_dict()


@pytest.mark.parametrize("kind", ["word", "byte"])
def test_fast_and_plain_training_agree_on_real_text(kind):
    fast, plain = train(kind), train(kind, algorithm="plain")
    assert len(fast.merges) > 50 and fast.merges == plain.merges
    with pytest.raises(ValueError, match="algorithm"):
        BPETokenizer(kind=kind).train(CORPUS, 300, algorithm="quick")


# ---------------------------------------------------------------------------
# Round trips


@settings(deadline=None, max_examples=50)
@given(text=st.text(max_size=200))
def test_byte_round_trip_any_unicode(byte_tok, text):
    ids = byte_tok.encode(text)
    assert all(0 <= i < byte_tok.vocab_size for i in ids)
    assert byte_tok.decode(ids) == text


@settings(deadline=None, max_examples=50)
@given(parts=st.lists(st.one_of(st.text(max_size=20), st.sampled_from(["<|endoftext|>", "<extra_id_1>"]))))
def test_byte_round_trip_with_special_tokens(byte_tok, parts):
    text = "".join(parts)
    assert byte_tok.decode(byte_tok.encode(text, allowed_special="all")) == text
    assert byte_tok.decode(byte_tok.encode(text)) == text


@settings(deadline=None, max_examples=30)
@given(text=st.text(max_size=100))
def test_byte_round_trip_with_gpt4_split(gpt4_tok, text):
    assert gpt4_tok.decode(gpt4_tok.encode(text)) == text


TRAINED_CHARS = sorted(set(CORPUS) - set(" \n"))


@settings(deadline=None, max_examples=50)
@given(text=st.text(alphabet=st.sampled_from(TRAINED_CHARS + [" ", "\n", "\t"]), max_size=120))
def test_word_round_trip_is_whitespace_normalised(word_tok, text):
    ids = word_tok.encode(text)
    assert word_tok.token_to_id("[UNK]") not in ids
    assert word_tok.decode(ids) == " ".join(text.split())


def test_word_round_trip_keeps_punctuation_spacing(word_tok):
    text = "The dog, the fox: lazy.. doesn't 3.14!"
    assert word_tok.decode(word_tok.encode(text)) == text
    assert word_tok.decode(word_tok.encode("  The\n\tdog ,fox  ")) == "The dog ,fox"


def test_word_unseen_characters_become_unk(word_tok):
    unk = word_tok.token_to_id("[UNK]")
    ids = word_tok.encode("dog\u00a7s ¿")  # '§' and '¿' never appear in CORPUS
    assert ids.count(unk) == 2
    assert word_tok.decode(ids) == "dog[UNK]s [UNK]"
    assert "[UNK]" in word_tok.tokenize("ζ")


def test_word_special_tokens_decode_as_separate_words(word_tok):
    text = "[CLS] the dog [SEP] the fox [SEP]"
    ids = word_tok.encode(text, allowed_special={"[CLS]", "[SEP]"})
    assert ids[0] == word_tok.token_to_id("[CLS]") and ids.count(word_tok.token_to_id("[SEP]")) == 2
    assert word_tok.decode(ids) == text


def test_decode_accepts_numpy_ids_and_encode_batch_matches_encode(byte_tok):
    texts = ["the fox", "", "東京 😀"]
    batch = byte_tok.encode_batch(texts)
    assert batch == [byte_tok.encode(t) for t in texts]
    assert byte_tok.decode(np.array(batch[0], dtype=np.int64)) == "the fox"


def test_byte_tokens_are_shown_gpt2_style(byte_tok):
    pieces = byte_tok.tokenize(" the\n")
    assert "".join(pieces) == "Ġthe" + "Ċ"
    assert [byte_tok.token_to_id(p) for p in pieces] == byte_tok.encode(" the\n")
    assert byte_tok.id_to_token(byte_tok.token_to_id("Ġ")) == "Ġ"


# ---------------------------------------------------------------------------
# Special tokens


def test_special_tokens_get_the_first_ids_in_order(byte_tok, word_tok):
    assert [byte_tok.token_to_id(name) for name in ["<|endoftext|>", "<extra_id_0>", "<extra_id_1>"]] == [0, 1, 2]
    assert [word_tok.id_to_token(i) for i in range(5)] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert t5_sentinel_tokens(3) == ["<extra_id_0>", "<extra_id_1>", "<extra_id_2>"]


def test_special_tokens_are_never_split_and_only_used_when_allowed(byte_tok):
    eot = byte_tok.token_to_id("<|endoftext|>")
    text = "the dog<|endoftext|>the fox<extra_id_0>"
    assert byte_tok.encode(text, allowed_special="all").count(eot) == 1
    assert "<|endoftext|>" in byte_tok.tokenize(text, allowed_special={"<|endoftext|>"})
    only_eot = byte_tok.encode(text, allowed_special={"<|endoftext|>"})
    assert byte_tok.token_to_id("<extra_id_0>") not in only_eot
    plain = byte_tok.encode(text)  # looks like special tokens, but is just text
    assert not set(plain) & {0, 1, 2}


def test_training_ignores_special_tokens_in_the_corpus():
    corpus = "<|endoftext|>".join(["ab ab"] * 50)
    tok = BPETokenizer(kind="byte")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok.train(corpus, vocab_size=300, special_tokens=["<|endoftext|>"])
    merged = "".join(left + right for left, right in tok.merges)
    assert set(merged) <= set("abĠ") and tok.merges


@pytest.mark.parametrize(
    "kind, corpus, special",
    [("word", "low low low lower", "low</w>"), ("byte", "the the the the", "Ġthe")],
)
def test_merges_never_produce_a_special_token(kind, corpus, special):
    specials = ["[UNK]", special] if kind == "word" else [special]
    tok = BPETokenizer(kind=kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok.train(corpus, vocab_size=300, min_frequency=1, special_tokens=specials)
    assert tok.token_to_id(special) == len(specials) - 1
    assert all(left + right != special for left, right in tok.merges)
    assert tok.token_to_id(special) not in tok.encode(corpus, allowed_special=())


# ---------------------------------------------------------------------------
# Determinism, save and load


def test_training_twice_gives_the_same_vocabulary():
    first, second = train("byte"), train("byte")
    assert first.get_vocab() == second.get_vocab() and first.merges == second.merges


def test_training_is_the_same_in_processes_with_different_hash_seeds():
    script = (
        "from minitransformer.tokenizers import BPETokenizer\n"
        "import sys; text = sys.stdin.read()\n"
        "for kind in ('word', 'byte'):\n"
        "    t = BPETokenizer(kind=kind); t.train(text, 300)\n"
        "    print(t.merges)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outputs = []
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=root, PYTHONIOENCODING="utf-8")
        result = subprocess.run(
            [sys.executable, "-c", script], input=CORPUS, env=env, capture_output=True, text=True,
            encoding="utf-8", check=True,
        )  # fmt: skip
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] and outputs[0].count("\n") == 2


@pytest.mark.parametrize("kind", ["word", "byte"])
def test_save_load_identity(tmp_path, kind, word_tok, byte_tok):
    tok = word_tok if kind == "word" else byte_tok
    path = tmp_path / "tok.json"
    tok.save(path)
    loaded = BPETokenizer.load(path)
    assert loaded.kind == tok.kind and loaded.vocab_size == tok.vocab_size
    assert loaded.get_vocab() == tok.get_vocab() and loaded.merges == tok.merges
    assert loaded.special_tokens == tok.special_tokens
    for text in [CORPUS, "unseen ζ words, newest!", "a<|endoftext|>b [SEP] x"]:
        assert loaded.encode(text, allowed_special="all") == tok.encode(text, allowed_special="all")
    assert os.listdir(tmp_path) == ["tok.json"]  # no temporary file left behind
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "minitransformer-bpe" and document["version"] == 1
    assert document["kind"] == kind and len(document["merges"]) == len(tok.merges)


def test_failed_save_leaves_the_old_file_untouched(tmp_path, byte_tok, monkeypatch):
    path = tmp_path / "tok.json"
    byte_tok.save(path)
    before = path.read_bytes()

    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        byte_tok.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["tok.json"]


def _edit_saved(tmp_path, tok, edit):
    path = tmp_path / "tok.json"
    tok.save(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(version=99), "version 99"),
        (lambda d: d.update(format="something-else"), "format"),
        (lambda d: d.pop("merges"), "merges"),
        (lambda d: d["merges"].__setitem__(0, "e zz-not-a-token"), "merge #0"),
        (lambda d: d["merges"].reverse(), "merge"),
        (lambda d: d["vocab"].update({"extra": len(d["vocab"])}), "vocab"),
        (lambda d: d.update(kind="char"), "kind"),
    ],
)
def test_load_rejects_bad_files_naming_the_file(tmp_path, word_tok, edit, message):
    path = _edit_saved(tmp_path, word_tok, edit)
    with pytest.raises(TokenizerFileError, match=message) as info:
        BPETokenizer.load(path)
    assert str(path) in str(info.value)


def test_load_rejects_corrupt_and_missing_files(tmp_path, byte_tok):
    path = tmp_path / "tok.json"
    byte_tok.save(path)
    path.write_text(path.read_text(encoding="utf-8")[:100], encoding="utf-8")  # truncated
    with pytest.raises(TokenizerFileError, match="corrupt") as info:
        BPETokenizer.load(path)
    assert str(path) in str(info.value)
    with pytest.raises(TokenizerFileError, match="no such"):
        BPETokenizer.load(tmp_path / "missing.json")


# ---------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("kind", ["word", "byte"])
@pytest.mark.parametrize("corpus", ["", [], ["", ""], "<|endoftext|>"])
def test_empty_corpus_is_rejected(kind, corpus):
    specials = ["[UNK]", "<|endoftext|>"]
    with pytest.raises(ValueError, match="empty"):
        BPETokenizer(kind=kind).train(corpus, vocab_size=1000, special_tokens=specials)


def test_vocab_size_smaller_than_alphabet_is_rejected():
    with pytest.raises(ValueError, match="vocab_size >= 261"):
        BPETokenizer(kind="byte").train("hello", vocab_size=100, special_tokens=t5_sentinel_tokens(5))
    # word: 5 default specials + </w> + 4 letters (h, e, l, o)
    with pytest.raises(ValueError, match="vocab_size >= 10"):
        BPETokenizer(kind="word").train("hello", vocab_size=9)
    BPETokenizer(kind="word").train("hello", vocab_size=10)  # exactly the minimum is fine


def test_bad_training_arguments():
    with pytest.raises(ValueError, match="min_frequency"):
        BPETokenizer(kind="byte").train("hello", 300, min_frequency=0)
    with pytest.raises(TypeError, match="strings"):
        BPETokenizer(kind="byte").train(["ok", 3], 300)
    with pytest.raises(ValueError, match=r"\[UNK\]"):
        BPETokenizer(kind="word").train("hello", 300, special_tokens=["[PAD]"])
    with pytest.raises(ValueError, match="more than once"):
        BPETokenizer(kind="byte").train("hello", 300, special_tokens=["<s>", "<s>"])
    with pytest.raises(ValueError, match="two ids"):  # clashes with the byte token 'a'
        BPETokenizer(kind="byte").train("hello", 300, special_tokens=["a"])
    with pytest.raises(ValueError, match="kind"):
        BPETokenizer(kind="char")
    with pytest.raises(ValueError, match="pattern"):
        BPETokenizer(kind="byte", pattern="gpt5")


def test_running_out_of_pairs_warns_instead_of_silently_shrinking():
    tok = BPETokenizer(kind="byte")
    with pytest.warns(UserWarning, match="stopped after 1 merges"):
        tok.train("ab ab", vocab_size=300, special_tokens=[])
    assert tok.vocab_size == 257


def test_decode_rejects_out_of_range_and_non_integer_ids(byte_tok):
    with pytest.raises(ValueError, match="out of range"):
        byte_tok.decode([1, byte_tok.vocab_size])
    with pytest.raises(ValueError, match="out of range"):
        byte_tok.decode([-1])
    with pytest.raises(TypeError, match="integers"):
        byte_tok.decode([1.5])
    with pytest.raises(ValueError, match="out of range"):
        byte_tok.id_to_token(10**6)


def test_unknown_special_token_names(byte_tok):
    with pytest.raises(UnknownTokenError, match="<|nope|>"):
        byte_tok.encode("hi", allowed_special={"<|nope|>"})
    with pytest.raises(KeyError):
        byte_tok.token_to_id("<|nope|>")
    with pytest.raises(TypeError, match="collection"):
        byte_tok.encode("hi", allowed_special="<|endoftext|>")


def test_untrained_tokenizer_says_what_to_do():
    with pytest.raises(ValueError, match="train"):
        BPETokenizer(kind="word").encode("hello")


# ---------------------------------------------------------------------------
# Pre-tokenization


def test_word_split_records_following_whitespace():
    assert split_words("hello, world") == [("hello", False), (",", True), ("world", True)]
    assert split_words(" a.b ") == [("a", False), (".", False), ("b", True)]


def test_gpt_split_examples():
    assert split_chunks("Hello world's 12345!!", "gpt2") == ["Hello", " world", "'s", " 12345", "!!"]
    assert split_chunks("Hello world's 12345!!", "gpt4") == ["Hello", " world", "'s", " ", "123", "45", "!!"]
    assert split_on_special_tokens("a<|x|>b", ["<|x|>"]) == [("a", False), ("<|x|>", True), ("b", False)]


@settings(deadline=None, max_examples=50)
@given(text=st.text(max_size=100), pattern=st.sampled_from(["gpt2", "gpt4"]))
def test_gpt_split_loses_nothing(text, pattern):
    assert "".join(split_chunks(text, pattern)) == text
