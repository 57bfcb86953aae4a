"""The contract of minitransformer/tokenizers/base.py, checked on every tokenizer at once."""

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformer.tokenizers import (
    BERT_SPECIAL_TOKENS,
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    TokenizerFileError,
    UnknownTokenError,
    WordPieceTokenizer,
    t5_sentinel_tokens,
)

ORDINARY = [
    "The quick brown fox jumps over the lazy dog.",
    "Tokenizers split text into subwords: low, lower, lowest, newer, newest!",
    "a",
]
HARD = [
    "",
    "   leading and trailing   ",
    "runs  of \t\t whitespace\n\n\nand newlines\r\n",
    "naïve café, Straße, Ærøskøbing",
    "東京 and 北京",
    "emoji 😀🎉 and a flag 🇫🇷",
    "e\u0301 (a combining accent) and \u00a0 (no-break space)",
    "numbers 12345 or 3.14, and symbols $^`~|",
    "[MASK] looks special <|endoftext|> but is text here",
]
TEXTS = ORDINARY + HARD
# Each character once more on its own: training skips special-token names such as "[MASK]",
# and word-level BPE must still have seen their characters.
CORPUS = "\n".join(TEXTS * 3) + " ".join(sorted(set("".join(TEXTS))))
MINILM_VOCAB = Path(__file__).parent / "data" / "wordpiece_minilm_vocab.txt"


def make_char():
    return CharTokenizer.from_text(CORPUS, special_tokens=["[PAD]", "<|endoftext|>"])


def make_bpe(kind, pattern=None, special_tokens=None):
    tokenizer = BPETokenizer(kind=kind, pattern=pattern)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small corpus may run out of pairs: fine here
        tokenizer.train(CORPUS, vocab_size=400, special_tokens=special_tokens)
    return tokenizer


FACTORIES = {
    "char": make_char,
    "bpe-word": lambda: make_bpe("word"),
    "bpe-byte-gpt2": lambda: make_bpe("byte", special_tokens=["<|endoftext|>", *t5_sentinel_tokens(2)]),
    "bpe-byte-gpt4": lambda: make_bpe("byte", pattern="gpt4"),
    "wordpiece": lambda: WordPieceTokenizer.from_vocab_file(MINILM_VOCAB),
}


@pytest.fixture(scope="module", params=list(FACTORIES))
def tokenizer(request):
    return FACTORIES[request.param]()


def expected_round_trip(tokenizer, text):
    """What decode(encode(text)) must give back; each tokenizer documents its rule."""
    if isinstance(tokenizer, WordPieceTokenizer):  # BERT's words, minus specials and words it cannot spell
        words = tokenizer.basic_tokenize(text)
        return " ".join(w for w in words if w not in BERT_SPECIAL_TOKENS and tokenizer.wordpiece(w) != ["[UNK]"])
    if isinstance(tokenizer, BPETokenizer) and tokenizer.kind == "word":
        return " ".join(text.split())  # every character is trained, whitespace is normalised
    return text


def test_is_a_tokenizer(tokenizer):
    assert isinstance(tokenizer, Tokenizer)


@pytest.mark.parametrize("text", TEXTS)
def test_round_trip(tokenizer, text):
    ids = tokenizer.encode(text)
    assert isinstance(ids, list) and all(type(i) is int for i in ids)
    assert all(0 <= i < tokenizer.vocab_size for i in ids)
    assert tokenizer.decode(ids) == expected_round_trip(tokenizer, text)
    assert tokenizer.decode(np.array(ids, dtype=np.int64)) == tokenizer.decode(ids)


@settings(deadline=None, max_examples=25)
@given(st.lists(st.sampled_from(TEXTS), max_size=4), st.sampled_from(["", " ", "\n", "  \t"]))
def test_round_trip_of_joined_texts(tokenizer, texts, separator):
    text = separator.join(texts)
    assert tokenizer.decode(tokenizer.encode(text)) == expected_round_trip(tokenizer, text)


def test_vocab_size_and_the_two_lookups_agree(tokenizer):
    vocab = tokenizer.get_vocab()
    assert len(vocab) == tokenizer.vocab_size
    assert list(vocab.values()) == list(range(tokenizer.vocab_size))
    for token_id in range(tokenizer.vocab_size):
        token = tokenizer.id_to_token(token_id)
        assert vocab[token] == token_id and tokenizer.token_to_id(token) == token_id


def test_out_of_range_and_non_integer_ids_are_refused(tokenizer):
    for bad in (tokenizer.vocab_size, -1):
        with pytest.raises(ValueError, match="outside the vocabulary"):
            tokenizer.id_to_token(bad)
        with pytest.raises(ValueError, match="out of range"):
            tokenizer.decode([0, bad])
    for bad in (1.0, "1", True):
        with pytest.raises(TypeError, match="not an integer"):
            tokenizer.id_to_token(bad)
    assert tokenizer.id_to_token(np.int64(0)) == tokenizer.id_to_token(0)


def test_unknown_token_raises_unknown_token_error(tokenizer):
    with pytest.raises(UnknownTokenError, match="not in the vocabulary"):
        tokenizer.token_to_id("<|a token no vocabulary has|>")
    with pytest.raises(KeyError):  # UnknownTokenError is a KeyError, as for a dict
        tokenizer.token_to_id("<|a token no vocabulary has|>")


def test_special_tokens_and_their_ids(tokenizer):
    names, ids = tokenizer.special_tokens, tokenizer.special_token_ids
    assert names and list(ids) == names  # in id order
    assert list(ids.values()) == sorted(ids.values()) and len(set(ids.values())) == len(names)
    for name, token_id in ids.items():
        assert tokenizer.token_to_id(name) == token_id and tokenizer.id_to_token(token_id) == name


def test_to_dict_and_from_dict_round_trip_through_json(tokenizer):
    document = tokenizer.to_dict()
    assert document["format"] == type(tokenizer).FILE_FORMAT and document["version"] == 1
    rebuilt = type(tokenizer).from_dict(json.loads(json.dumps(document)))  # what checkpoints do
    assert type(rebuilt) is type(tokenizer)
    assert rebuilt.to_dict() == document
    assert rebuilt.get_vocab() == tokenizer.get_vocab()
    assert rebuilt.special_token_ids == tokenizer.special_token_ids
    for text in TEXTS:
        assert rebuilt.encode(text) == tokenizer.encode(text)


def test_save_and_load_round_trip(tokenizer, tmp_path):
    path = tmp_path / "tokenizer.json"
    tokenizer.save(path)
    assert os.listdir(tmp_path) == ["tokenizer.json"]  # no temporary file left behind
    loaded = type(tokenizer).load(path)
    assert loaded.to_dict() == tokenizer.to_dict()
    for text in TEXTS:
        assert loaded.encode(text) == tokenizer.encode(text)
    tokenizer.save(path)  # saving over an existing file replaces it
    assert type(tokenizer).load(path).get_vocab() == tokenizer.get_vocab()


def test_loading_another_tokenizers_file_names_the_format(tokenizer, tmp_path):
    path = tmp_path / "other.json"
    other = CharTokenizer("ab") if not isinstance(tokenizer, CharTokenizer) else make_bpe("byte")
    other.save(path)
    with pytest.raises(TokenizerFileError, match="format") as info:
        type(tokenizer).load(path)
    assert str(path) in str(info.value)
    with pytest.raises(TokenizerFileError, match="tokenizer data"):
        type(tokenizer).from_dict({**tokenizer.to_dict(), "version": 99})


def test_the_contract_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        Tokenizer()


# ---------------------------------------------------------------------------
# CharTokenizer on its own


def test_char_ids_follow_the_given_order_after_the_special_tokens():
    tok = CharTokenizer("abc>;", special_tokens=["[PAD]"])
    assert tok.vocab_size == 6 and tok.characters == "abc>;"
    assert tok.encode("ab>c;") == [1, 2, 4, 3, 5]
    assert tok.encode("a[PAD]", allowed_special="all") == [1, 0] and tok.decode([1, 0]) == "a[PAD]"
    assert CharTokenizer("ba").encode("ab") == [1, 0]
    assert CharTokenizer.from_text("hello").characters == "ehlo"


def test_char_tokenizer_refuses_what_it_does_not_know():
    tok = CharTokenizer("abc", special_tokens=["<s>"])
    with pytest.raises(UnknownTokenError, match=r"\['d', 'z'\]"):
        tok.encode("abzd")
    with pytest.raises(UnknownTokenError, match=r"\['<', '>', 's'\]"):
        tok.encode("<s>a")  # a special name is plain text unless allowed, and '<' is unknown
    assert tok.encode("<s>a", allowed_special={"<s>"}) == [0, 1]
    with pytest.raises(UnknownTokenError, match="allowed_special"):
        tok.encode("a", allowed_special={"<t>"})
    with pytest.raises(ValueError, match="twice"):
        CharTokenizer("abca")
    with pytest.raises(ValueError, match="single characters"):
        CharTokenizer(["ab"])
    with pytest.raises(ValueError, match="more than once"):
        CharTokenizer("ab", special_tokens=["<s>", "<s>"])


def test_wordpiece_special_tokens_are_berts_five_in_id_order():
    tok = WordPieceTokenizer.from_vocab_file(MINILM_VOCAB)
    assert tok.special_tokens == list(BERT_SPECIAL_TOKENS)  # [PAD]=0, [UNK]=100, [CLS]=101, ...
    assert tok.all_special_ids == [0, 100, 101, 102, 103]
    assert tok.encode("hello") == [101, 7592, 102]  # an Encoding is the list of its ids
