"""Tests for BERT's WordPiece tokenizer (minitransformer/tokenizers/wordpiece.py).

Two vocabularies are used: the 11-token toy vocabulary from BERT's own
tokenization test (plus [PAD] and [MASK], which this tokenizer requires), and
the real 30,522-token vocabulary of all-MiniLM-L6-v2 (= bert-base-uncased),
checked against golden ids from Hugging Face's Rust tokenizer
(tests/data/wordpiece_golden.json, made by benchmarks/golden/make_wordpiece_golden.py).
"""

import hashlib
import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformer.tokenizers.wordpiece import (
    WordPieceTokenizer,
    clean_text,
    is_cjk,
    is_control,
    is_punctuation,
    is_whitespace,
    split_on_punctuation,
    truncate_longest_first,
)

DATA = Path(__file__).parent / "data"
GOLDEN = json.loads((DATA / "wordpiece_golden.json").read_text(encoding="ascii"))
MINILM_VOCAB = DATA / "wordpiece_minilm_vocab.txt"

# BERT's test vocabulary, in its order, plus the two specials it leaves out.
TOY_VOCAB = ["[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing", ",",
             "[PAD]", "[MASK]"]


@pytest.fixture(scope="module")
def toy():
    return WordPieceTokenizer(TOY_VOCAB)


@pytest.fixture(scope="module")
def minilm():
    return WordPieceTokenizer.from_vocab_file(MINILM_VOCAB)


def write_vocab(tmp_path, lines, name="vocab.txt"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------
# Character classes and basic tokenization
# --------------------------------------------------------------------------

def test_character_classes():
    assert all(is_whitespace(char) for char in " \t\n\r\u00a0\u2003\u2028")
    assert not is_whitespace("A") and not is_whitespace("-")
    assert is_control("\x05") and is_control("\u200b") and is_control("\ue000")
    assert not is_control("\t") and not is_control("\r") and not is_control("A")
    assert not is_control("\u0378")  # unassigned code point: kept, as HF does
    assert is_punctuation("-") and is_punctuation(".") and is_punctuation("\u3002")
    assert not is_punctuation("A") and not is_punctuation(" ")
    # ASCII symbols are not Unicode punctuation but BERT splits them anyway.
    for symbol in "$^`~+<=>|":
        assert not unicodedata.category(symbol).startswith("P")
        assert is_punctuation(symbol)
    assert is_cjk("\u535a") and is_cjk("\U00020000") and not is_cjk("a") and not is_cjk("\ud55c")
    # HF's Rust tokenizer starts CJK Extension E at U+2B920; Google's code at U+2B820.
    assert is_cjk("\U0002b920") and not is_cjk("\U0002b820")


def test_clean_text_drops_controls_and_maps_whitespace_to_space():
    assert clean_text("a\x00b\x07c\ufffdd\u200be\tf\u2028g\r\nh") == "abcde f g  h"


def test_basic_tokenize_lowercases_strips_accents_and_splits(toy):
    assert toy.basic_tokenize("H\u00e9llo") == ["hello"]
    assert toy.basic_tokenize(" \tHeLLo!how  \n Are yoU?  ") == ["hello", "!", "how", "are", "you", "?"]


def test_cased_tokenizer_keeps_case_and_accents():
    cased = WordPieceTokenizer(TOY_VOCAB, do_lower_case=False)
    words = cased.basic_tokenize(" \tHeLLo!how  \n Are yoU?  ")
    assert words == ["HeLLo", "!", "how", "Are", "yoU", "?"]
    assert cased.basic_tokenize("H\u00e9llo") == ["H\u00e9llo"]
    assert cased.tokenize("UNwant\u00e9d,running") == ["[UNK]", ",", "runn", "##ing"]


def test_cjk_characters_become_words_but_hangul_does_not(toy):
    assert toy.basic_tokenize("ah\u535a\u63a8zz") == ["ah", "\u535a", "\u63a8", "zz"]
    cased = WordPieceTokenizer(TOY_VOCAB, do_lower_case=False)
    assert cased.basic_tokenize("ab\ud55c\uad6d\uc5b4cd") == ["ab\ud55c\uad6d\uc5b4cd"]


def test_punctuation_is_split_off():
    assert split_on_punctuation("hi!!how's-it?") == ["hi", "!", "!", "how", "'", "s", "-", "it", "?"]
    assert split_on_punctuation("") == []
    assert split_on_punctuation("$5") == ["$", "5"]


def test_uppercase_final_sigma_lowercases_per_character(toy):
    # Python's str.lower would give a final sigma here; the HF tokenizer does not.
    assert toy.basic_tokenize("\u039f\u0394\u039f\u03a3") == ["\u03bf\u03b4\u03bf\u03c3"]
    assert "\u039f\u0394\u039f\u03a3".lower().endswith("\u03c2")


# --------------------------------------------------------------------------
# WordPiece
# --------------------------------------------------------------------------

def test_bert_toy_example(toy):
    tokens = toy.tokenize("UNwant\u00e9d,running")
    assert tokens == ["un", "##want", "##ed", ",", "runn", "##ing"]
    assert toy.convert_tokens_to_ids(tokens) == [7, 4, 5, 10, 8, 9]


def test_word_that_cannot_be_pieced_becomes_a_single_unk(toy):
    assert toy.tokenize("unwantedX running") == ["[UNK]", "runn", "##ing"]
    assert toy.tokenize("") == [] and toy.tokenize("  \t ") == []


def test_word_longer_than_100_characters_becomes_unk(toy):
    fits = "want" * 25  # 100 characters
    assert toy.tokenize(fits) == ["want"] + ["##want"] * 24
    assert toy.tokenize(fits + "want") == ["[UNK]"]
    short_limit = WordPieceTokenizer(TOY_VOCAB, max_input_chars_per_word=4)
    assert short_limit.tokenize("want wanted") == ["want", "[UNK]"]


def test_special_tokens_in_text_are_kept_whole(toy, minilm):
    assert toy.tokenize("un[MASK]want [SEP]") == ["un", "[MASK]", "want", "[SEP]"]
    assert minilm.tokenize("a [mask]") == ["a", "[", "mask", "]"]  # only the exact spelling
    plain = WordPieceTokenizer.from_vocab_file(MINILM_VOCAB, never_split=())
    assert plain.tokenize("a[MASK]") == ["a", "[", "mask", "]"]


def test_special_token_ids(toy):
    assert (toy.unk_token_id, toy.cls_token_id, toy.sep_token_id) == (0, 1, 2)
    assert (toy.pad_token_id, toy.mask_token_id) == (11, 12)
    assert toy.vocab_size == len(TOY_VOCAB)
    assert toy.all_special_ids == [0, 1, 2, 11, 12]


def test_convert_tokens_to_ids_maps_unknown_tokens_to_unk(toy):
    assert toy.convert_tokens_to_ids(["want", "nope"]) == [3, 0]
    with pytest.raises(TypeError, match="tokenize"):
        toy.convert_tokens_to_ids("want")


# --------------------------------------------------------------------------
# Encoding, padding, truncation
# --------------------------------------------------------------------------

def test_encode_single_text(toy):
    encoding = toy.encode("unwanted running")
    assert encoding.tokens == ["[CLS]", "un", "##want", "##ed", "runn", "##ing", "[SEP]"]
    assert encoding.input_ids == [1, 7, 4, 5, 8, 9, 2]
    assert encoding.token_type_ids == [0] * 7 and encoding.attention_mask == [1] * 7
    assert toy.encode("unwanted", add_special_tokens=False).input_ids == [7, 4, 5]


def test_encode_pair_has_segment_ids(toy):
    encoding = toy.encode("want", "running")
    assert encoding.tokens == ["[CLS]", "want", "[SEP]", "runn", "##ing", "[SEP]"]
    assert encoding.token_type_ids == [0, 0, 0, 1, 1, 1]
    no_specials = toy.encode("want", "running", add_special_tokens=False)
    assert no_specials.tokens == ["want", "runn", "##ing"] and no_specials.token_type_ids == [0, 1, 1]


def test_padding_to_max_length(toy):
    encoding = toy.encode("want", "un", max_length=8, padding="max_length")
    assert encoding.input_ids == [1, 3, 2, 7, 2, 11, 11, 11]
    assert encoding.attention_mask == [1, 1, 1, 1, 1, 0, 0, 0]
    assert encoding.token_type_ids == [0, 0, 0, 1, 1, 0, 0, 0]
    assert len(toy.encode("want", max_length=8, padding=True)) == 3  # "longest": nothing to pad to
    with pytest.raises(ValueError, match="max_length"):
        toy.encode("want", padding="max_length")
    with pytest.raises(ValueError, match="padding='sideways'"):
        toy.encode("want", padding="sideways")


def test_too_long_without_truncation_raises_naming_length_and_fix(toy):
    with pytest.raises(ValueError, match=r"7 tokens .*max_length=5.*truncation=True"):
        toy.encode("unwanted running", max_length=5)


def test_truncation_of_a_single_text(toy):
    assert toy.encode("unwanted running", max_length=5, truncation=True).tokens == [
        "[CLS]", "un", "##want", "##ed", "[SEP]"]
    with pytest.raises(ValueError, match="needs max_length"):
        toy.encode("want", truncation=True)
    with pytest.raises(ValueError, match="max_length >= 3"):
        toy.encode("want", "want", max_length=2, truncation=True)


def test_truncation_of_a_pair_is_longest_first(toy):
    encoding = toy.encode("unwanted running", "want", max_length=7, truncation=True)
    assert encoding.tokens == ["[CLS]", "un", "##want", "##ed", "[SEP]", "want", "[SEP]"]
    assert encoding.token_type_ids == [0, 0, 0, 0, 0, 1, 1]


@pytest.mark.parametrize("lengths, budget, kept", [
    ((3, 3), 3, (1, 2)),   # tie: the second part keeps the extra token
    ((3, 3), 1, (0, 1)),
    ((5, 3), 5, (3, 2)),
    ((4, 5), 7, (3, 4)),
    ((6, 2), 5, (3, 2)),   # only the longer part shrinks
    ((2, 6), 7, (2, 5)),
    ((2, 2), 9, (2, 2)),   # fits: untouched
])
def test_truncate_longest_first_table(lengths, budget, kept):
    first, second = list("abcdef"[: lengths[0]]), list("uvwxyz"[: lengths[1]])
    new_first, new_second = truncate_longest_first(first, second, budget)
    assert (len(new_first), len(new_second)) == kept
    assert new_first == first[: kept[0]] and new_second == second[: kept[1]]


@settings(deadline=None, max_examples=50)
@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 40))
def test_truncate_longest_first_properties(n_first, n_second, budget):
    first, second = list(range(n_first)), list(range(100, 100 + n_second))
    new_first, new_second = truncate_longest_first(first, second, budget)
    assert new_first == first[: len(new_first)] and new_second == second[: len(new_second)]
    assert len(new_first) + len(new_second) == min(budget, n_first + n_second)
    shorter, longer = (n_first, n_second) if n_first <= n_second else (n_second, n_first)
    kept_shorter, kept_longer = (
        (len(new_first), len(new_second)) if n_first <= n_second else (len(new_second), len(new_first)))
    if shorter <= budget - shorter:  # the longer part alone can absorb the cut
        assert kept_shorter == shorter
    else:  # both cut to half the budget, the originally longer part keeps the odd token
        assert (kept_shorter, kept_longer) == (budget // 2, budget - budget // 2)


def test_encode_batch_pads_to_longest(toy):
    batch = toy.encode_batch(["unwanted running", "want"], ["wa", None])
    for array in (batch.input_ids, batch.token_type_ids, batch.attention_mask):
        assert array.dtype == np.int64 and array.shape == (2, 9)
    assert batch.input_ids[1].tolist() == [1, 3, 2] + [11] * 6
    assert batch.attention_mask.sum(axis=1).tolist() == [9, 3]
    assert batch.token_type_ids[0].tolist() == [0] * 7 + [1, 1]


def test_encode_batch_pads_to_max_length_and_truncates(toy):
    batch = toy.encode_batch(["want", "unwanted running"], max_length=5, truncation=True,
                             padding="max_length")
    assert batch.input_ids.tolist() == [[1, 3, 2, 11, 11], [1, 7, 4, 5, 2]]
    with pytest.raises(ValueError, match="truncation=True"):
        toy.encode_batch(["want", "unwanted running"], max_length=5)


def test_encode_batch_rejects_bad_input(toy):
    with pytest.raises(TypeError, match="list of strings"):
        toy.encode_batch("want")
    with pytest.raises(ValueError, match="empty"):
        toy.encode_batch([])
    with pytest.raises(ValueError, match="one entry per text"):
        toy.encode_batch(["want", "un"], ["wa"])
    with pytest.raises(ValueError, match="must pad"):
        toy.encode_batch(["want"], padding=False)
    with pytest.raises(TypeError, match="must be a str"):
        toy.encode_batch([3])


# --------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------

def test_decode_joins_pieces_and_skips_special_tokens(toy):
    ids = toy.encode("unwanted, running", "want", max_length=12, padding="max_length").input_ids
    assert toy.decode(ids) == "unwanted , running want"
    assert toy.decode(ids, skip_special_tokens=False) == (
        "[CLS] unwanted , running [SEP] want [SEP] [PAD] [PAD]")
    assert toy.decode(np.array(ids, dtype=np.int64)) == "unwanted , running want"
    assert toy.decode([0, 3]) == "want"  # [UNK] is a special token too


def test_decode_rejects_bad_ids(toy):
    with pytest.raises(ValueError, match=r"13 is outside the vocabulary \[0, 13\)"):
        toy.decode([3, 13])
    with pytest.raises(ValueError, match="1-D"):
        toy.decode(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(TypeError, match="not an integer"):
        toy.decode([3.0])


# --------------------------------------------------------------------------
# Vocabulary loading errors
# --------------------------------------------------------------------------

def test_missing_vocab_file_names_the_path(tmp_path):
    missing = tmp_path / "nope" / "vocab.txt"
    with pytest.raises(FileNotFoundError, match="nope"):
        WordPieceTokenizer.from_vocab_file(missing)


def test_vocab_without_unk_names_file_and_token(tmp_path):
    path = write_vocab(tmp_path, [t for t in TOY_VOCAB if t != "[UNK]"], name="no_unk.txt")
    with pytest.raises(ValueError, match=r"no_unk\.txt.*\[UNK\]"):
        WordPieceTokenizer.from_vocab_file(path)


def test_vocab_with_duplicate_or_blank_lines_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'want' appears twice, at ids 3 and 13"):
        WordPieceTokenizer.from_vocab_file(write_vocab(tmp_path, TOY_VOCAB + ["want"]))
    with pytest.raises(ValueError, match="id 3.*blank lines"):
        WordPieceTokenizer.from_vocab_file(write_vocab(tmp_path, TOY_VOCAB[:3] + [""] + TOY_VOCAB[3:]))


def test_vocab_file_must_be_utf8_and_may_use_windows_line_ends(tmp_path):
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("\n".join(TOY_VOCAB + ["caf\u00e9"]).encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.txt.*UTF-8"):
        WordPieceTokenizer.from_vocab_file(latin1)
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes("\r\n".join(TOY_VOCAB).encode("utf-8") + b"\r\n")
    assert WordPieceTokenizer.from_vocab_file(crlf).tokenize("running") == ["runn", "##ing"]


def test_constructor_rejects_a_path_string_and_unknown_never_split():
    with pytest.raises(TypeError, match="from_vocab_file"):
        WordPieceTokenizer("vocab.txt")
    with pytest.raises(ValueError, match=r"'\[BOS\]' is not in the vocabulary"):
        WordPieceTokenizer(TOY_VOCAB, never_split=["[BOS]"])


# --------------------------------------------------------------------------
# Golden parity with Hugging Face's tokenizer on the real MiniLM vocabulary
# --------------------------------------------------------------------------

def test_committed_vocab_is_the_one_the_golden_file_was_made_with(minilm):
    assert hashlib.sha256(MINILM_VOCAB.read_bytes()).hexdigest() == GOLDEN["vocab_sha256"]
    assert minilm.vocab_size == 30522
    first_case = GOLDEN["cases"][0]
    assert first_case["ids"][0] == minilm.cls_token_id and first_case["ids"][-1] == minilm.sep_token_id


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda case: repr(case["text"])[:30])
def test_matches_hugging_face_golden(minilm, case):
    encoding = minilm.encode(case["text"], case["text_pair"], max_length=case["max_length"],
                             truncation=case["max_length"] is not None)
    assert encoding.tokens == case["tokens"]
    assert encoding.input_ids == case["ids"]
    assert encoding.token_type_ids == case["token_type_ids"]
    assert minilm.decode(encoding.input_ids) == case["decoded"]


def test_encode_batch_matches_golden(minilm):
    cases = [case for case in GOLDEN["cases"] if case["max_length"] is None]
    batch = minilm.encode_batch([c["text"] for c in cases], [c["text_pair"] for c in cases])
    for row, case in enumerate(cases):
        length = len(case["ids"])
        assert batch.input_ids[row, :length].tolist() == case["ids"]
        assert batch.token_type_ids[row, :length].tolist() == case["token_type_ids"]
        padding = batch.input_ids.shape[1] - length
        assert batch.attention_mask[row].tolist() == [1] * length + [0] * padding
        assert (batch.input_ids[row, length:] == minilm.pad_token_id).all()


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

WHOLE_WORDS = ["want", "wa", "un", "runn"]
CONTINUATIONS = ["##want", "##ed", "##ing"]
toy_words = st.builds(
    lambda head, tail, upper: "".join([head] + [p[2:] for p in tail]).upper() if upper
    else "".join([head] + [p[2:] for p in tail]),
    st.sampled_from(WHOLE_WORDS), st.lists(st.sampled_from(CONTINUATIONS), max_size=3), st.booleans(),
)
separators = st.sampled_from([" ", "  ", "\t", "\n", ",", " , ", "\u00a0"])


@settings(deadline=None, max_examples=50)
@given(st.lists(st.tuples(toy_words, separators), min_size=1, max_size=8))
def test_round_trip_over_vocabulary_pieces(toy, words_and_separators):
    text = "".join(word + separator for word, separator in words_and_separators)
    encoding = toy.encode(text)
    assert toy.unk_token_id not in encoding.input_ids
    assert toy.decode(encoding.input_ids) == " ".join(toy.basic_tokenize(text))
    expected = " ".join(text.lower().replace(",", " , ").split())
    assert toy.decode(encoding.input_ids) == expected


@settings(deadline=None, max_examples=50)
@given(st.text(max_size=60))
def test_decode_of_any_text_gives_its_words_minus_unknown_ones(minilm, text):
    words = minilm.basic_tokenize(text)
    kept = []
    for word in words:
        pieces = minilm.wordpiece(word)
        assert all(piece in minilm.vocab for piece in pieces)
        if pieces != ["[UNK]"]:
            assert not pieces[0].startswith("##")
            assert pieces[0] + "".join(piece[2:] for piece in pieces[1:]) == word
            kept.append(word)
    assert minilm.decode(minilm.encode(text).input_ids) == " ".join(kept)


@settings(deadline=None, max_examples=50)
@given(st.text(max_size=60))
def test_basic_tokenize_is_idempotent(minilm, text):
    words = minilm.basic_tokenize(text)
    assert minilm.basic_tokenize(" ".join(words)) == words


@settings(deadline=None, max_examples=30)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5), st.integers(3, 20))
def test_batch_rows_are_the_single_encodings_padded(minilm, texts, max_length):
    batch = minilm.encode_batch(texts, max_length=max_length, truncation=True)
    width = batch.input_ids.shape[1]
    for row, text in enumerate(texts):
        single = minilm.encode(text, max_length=max_length, truncation=True)
        assert len(single) <= max_length
        untruncated = minilm.encode(text).input_ids
        assert single.input_ids[:-1] == untruncated[: len(single) - 1]
        padding = [minilm.pad_token_id] * (width - len(single))
        assert batch.input_ids[row].tolist() == single.input_ids + padding
        assert batch.attention_mask[row].sum() == len(single)
