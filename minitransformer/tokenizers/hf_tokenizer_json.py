r"""Hugging Face's tokenizer.json, for byte-level BPE: read one as a GPT2Tokenizer, write ours as one.

A tokenizer.json describes a pipeline, one JSON object per stage::

    normalizer -> pre_tokenizer -> model (BPE: vocab + merges) -> post_processor;  decoder

We read and write the byte-level BPE kind only, GPT-2's and ours: no normalizer; a pre-tokenizer
that cuts text like one of our split patterns and shows each byte as a visible character
("ByteLevel"); a BPE model whose vocab and merges are the two tables of GPT-2's vocab.json and
merges.txt (``gpt2_files.py``); the special tokens as "added_tokens".  Our split patterns, as
Hugging Face spells them:

================  =========================================================================
``gpt2-exact``    ``ByteLevel`` with ``use_regex: true``: GPT-2's own pattern (real GPT-2 files)
``gpt2``/``gpt4``  a ``Split`` with ONIG_PATTERNS below, then ``ByteLevel`` without its regex
================  =========================================================================

ONIG_PATTERNS are pretokenize.py's patterns written for Oniguruma, the regex engine of
``tokenizers``, which knows Unicode's classes: they say in its syntax what our stdlib classes mean
(pretokenize.py's table): a "letter" is \p{L} or a non-decimal number (Nl, No), a digit is
\p{Nd}, whitespace is \s plus the separators \x1c-\x1f.  So Hugging Face cuts every text as we do.

What a post-processor adds (BERT's [CLS] ... [SEP]) is not part of our ``encode``: Hugging Face's
``encode(text, add_special_tokens=False)`` gives our ``encode(text, allowed_special="all")``.
(Hugging Face always matches special-token names in the text, so compare with "all".)
"""

from __future__ import annotations

import json
from pathlib import Path

from ..files import atomic_write_bytes
from .base import TokenizerFileError
from .bpe import BPETokenizer
from .gpt2_files import GPT2Tokenizer, read_json_file, split_merge

_L, _D = r"[\p{L}\p{Nl}\p{No}]", r"\p{Nd}"  # pretokenize's _LETTERS ([^\W\d_]) and _DIGITS (\d)
_S, _NOT_S = r"[\s\x1c-\x1f]", r"[^\s\x1c-\x1f]"  # Python's \s and \S
_OTHER = r"[^\s\x1c-\x1f\p{L}\p{N}]"  # (?:[^\s\w]|_)
ONIG_PATTERNS = {
    "gpt2": rf"'(?:[sdmt]|ll|ve|re)| ?{_L}+| ?{_D}+| ?{_OTHER}+|{_S}+(?!{_NOT_S})|{_S}+",
    "gpt4": (rf"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{{L}}\p{{N}}]?{_L}+|{_D}{{1,3}}| ?{_OTHER}+[\r\n]*"
             rf"|{_S}*[\r\n]|{_S}+(?!{_NOT_S})|{_S}+"),
}
_BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True}


def pre_tokenizer_for(pattern: str) -> dict:
    """The tokenizer.json pre_tokenizer that cuts text as our split `pattern` does."""
    if pattern == "gpt2-exact":
        return {**_BYTE_LEVEL, "use_regex": True}
    split = {"type": "Split", "pattern": {"Regex": ONIG_PATTERNS[pattern]}, "behavior": "Isolated", "invert": False}
    return {"type": "Sequence", "pretokenizers": [split, {**_BYTE_LEVEL, "use_regex": False}]}


def to_tokenizer_json(tokenizer: BPETokenizer, post_processor: dict | None = None) -> dict:
    """A byte-level BPETokenizer (or GPT2Tokenizer) as a tokenizer.json document, ids unchanged."""
    if not isinstance(tokenizer, BPETokenizer) or tokenizer.kind != "byte":
        raise TypeError(f"tokenizer.json export needs a byte-level BPETokenizer, got {tokenizer!r}; "
                        f"word-level BPE has no Hugging Face equivalent here")
    tokenizer._check_trained()
    added = [{"id": i, "content": name, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for name, i in tokenizer.special_token_ids.items()]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": pre_tokenizer_for(tokenizer._flavour.pattern),
        "post_processor": post_processor,
        "decoder": {**_BYTE_LEVEL, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": tokenizer.get_vocab(), "merges": [f"{left} {right}" for left, right in tokenizer.merges]},
    }


def save_tokenizer_json(tokenizer: BPETokenizer, path, post_processor: dict | None = None) -> Path:
    """Write `to_tokenizer_json(tokenizer)` to `path` atomically; `tokenizers.Tokenizer.from_file` reads it."""
    path = Path(path)
    text = json.dumps(to_tokenizer_json(tokenizer, post_processor), ensure_ascii=False, indent=1) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def load_tokenizer_json(path) -> GPT2Tokenizer:
    """A GPT2Tokenizer from a byte-level BPE tokenizer.json (GPT-2's, or one we wrote).

    Anything we could not reproduce exactly (a normalizer, another pre-tokenizer, BPE dropout,
    ...) is a TokenizerFileError naming the field, rather than a tokenizer giving other ids.
    """
    path = Path(path)
    document = read_json_file(path)
    model = document.get("model")
    if not isinstance(model, dict) or model.get("type") != "BPE":
        found = model.get("type") if isinstance(model, dict) else model
        raise TokenizerFileError(f"{path}: model.type is {found!r}, not 'BPE'; only byte-level BPE tokenizers "
                                 f"(GPT-2's kind) can be read")
    pattern = _pattern_of(document.get("pre_tokenizer"), path)
    for key, allowed in {"normalizer": (None,), "dropout": (None,), "unk_token": (None,), "byte_fallback": (False, None),
                         "continuing_subword_prefix": (None, ""), "end_of_word_suffix": (None, ""),
                         "ignore_merges": (False, None)}.items():
        value = document.get(key) if key == "normalizer" else model.get(key)
        if value not in allowed:
            raise TokenizerFileError(f"{path}: {key} is {value!r}; a byte-level BPE as GPT-2's has "
                                     f"{key}={allowed[0]!r}, and we cannot reproduce another setting")
    vocab = model.get("vocab")
    if not isinstance(vocab, dict):
        raise TokenizerFileError(f"{path}: model.vocab must be a JSON object of token -> id")
    vocab = {**vocab, **_added_tokens(document.get("added_tokens", []), vocab, path)}
    raw_merges = model.get("merges")
    if not isinstance(raw_merges, list):
        raise TokenizerFileError(f"{path}: model.merges must be a list of merges")
    try:
        merges = [_merge_pair(merge, f"{path}: model.merges[{rank}]") for rank, merge in enumerate(raw_merges)]
        return GPT2Tokenizer.from_vocab_and_merges(vocab, merges, pattern, vocab_where=f"{path}: model.vocab",
                                                   merge_where=lambda rank: f"{path}: model.merges[{rank}]")
    except (ValueError, TypeError) as error:
        raise TokenizerFileError(str(error)) from None


def _merge_pair(merge, where: str) -> tuple[str, str]:
    """A merge as tokenizers writes it: "Ġ t" (up to version 0.19) or ["Ġ", "t"] (since 0.20)."""
    if isinstance(merge, list) and len(merge) == 2 and all(isinstance(part, str) and part for part in merge):
        return merge[0], merge[1]
    return split_merge(merge, where)


def _pattern_of(pre_tokenizer, path: Path) -> str:
    """Our split pattern that does what `pre_tokenizer` does, or an error."""
    def byte_level(step, use_regex):
        return (isinstance(step, dict) and step.get("type") == "ByteLevel" and step.get("add_prefix_space") is False
                and step.get("use_regex", True) is use_regex)

    if byte_level(pre_tokenizer, True):
        return "gpt2-exact"
    steps = pre_tokenizer.get("pretokenizers") if isinstance(pre_tokenizer, dict) else None
    if isinstance(steps, list) and len(steps) == 2 and byte_level(steps[1], False) and isinstance(steps[0], dict):
        split = steps[0]
        regex = split.get("pattern", {}).get("Regex") if isinstance(split.get("pattern"), dict) else None
        names = [name for name, onig in ONIG_PATTERNS.items() if onig == regex]
        if split.get("type") == "Split" and split.get("behavior") == "Isolated" and not split.get("invert") and names:
            return names[0]
    raise TokenizerFileError(f"{path}: the pre_tokenizer {json.dumps(pre_tokenizer)[:120]} is not GPT-2's ByteLevel "
                             f"split (add_prefix_space false) nor one we wrote; we cannot split text as it does")


def _added_tokens(added, vocab: dict, path: Path) -> dict:
    """The added (special) tokens as token -> id, checked against the model's vocab."""
    if not isinstance(added, list):
        raise TokenizerFileError(f"{path}: added_tokens must be a list")
    tokens = {}
    for entry in added:
        content, token_id = (entry.get("content"), entry.get("id")) if isinstance(entry, dict) else (None, None)
        if not isinstance(content, str) or type(token_id) is not int:
            raise TokenizerFileError(f"{path}: added_tokens entry {entry!r} needs a string 'content' and an integer 'id'")
        if not entry.get("special", False):
            raise TokenizerFileError(f"{path}: added token {content!r} is not special; Hugging Face matches such "
                                     f"tokens inside words, which our tokenizers never do")
        if vocab.get(content, token_id) != token_id:
            raise TokenizerFileError(f"{path}: added token {content!r} has id {token_id}, but model.vocab gives it "
                                     f"{vocab[content]}; the file contradicts itself")
        tokens[content] = token_id
    return tokens
