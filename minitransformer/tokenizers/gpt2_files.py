"""GPT-2's tokenizer files: a byte-level BPE whose ids are the file's.

GPT-2 ships its tokenizer as two files (Hugging Face's ``tokenizer.json`` holds the same two
tables, see ``hf_tokenizer_json.py``)::

    vocab.json   {"!": 0, "\\"": 1, ..., "Ġthe": 262, ..., "<|endoftext|>": 50256}     token -> id
    merges.txt   "#version: 0.2", then one merge per line ("Ġ t"), in the order learned

That is our byte-level BPE (``bpe.py``): the same 256 byte tokens shown with the same visible
characters (``bpe_flavours.byte_to_visible_char``: a space is ``Ġ``), and a word is encoded by
merging its adjacent pair of lowest rank until none is left (``bpe_merges.apply_merges``).  Two
things differ, and ``GPT2Tokenizer`` adds them to ``BPETokenizer``:

- The ids are the file's.  Ours number the special tokens first, then the bytes in byte order,
  then the merges, so a merged token's id is its rank.  GPT-2 numbers the bytes in the order of
  their visible characters and puts ``<|endoftext|>`` last (50256), so the tokenizer keeps each
  merge's rank (its line in merges.txt) apart from its id: ``_merge_ranks``.
- The split: GPT-2's merges were learned on GPT-2's chunks, so text is split with GPT-2's own
  pattern, ``"gpt2-exact"`` (``gpt2_regex.py``), and the ids come out as GPT-2's.

A vocabulary entry that is neither a byte nor made by a merge is a special token; GPT-2 has one,
``<|endoftext|>``.  As with every tokenizer here, ``encode`` emits it only when allowed:
``encode(text, allowed_special="all")``.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..files import atomic_write_bytes
from .base import TokenizerFileError
from .bpe import BPETokenizer
from .bpe_flavours import ByteLevel
from .bpe_merges import apply_merges
from .special_tokens import check_special_tokens

VOCAB_FILE, MERGES_FILE = "vocab.json", "merges.txt"
MERGES_HEADER = "#version: 0.2"  # the first line of GPT-2's merges.txt


class GPT2Tokenizer(BPETokenizer):
    """Byte-level BPE with the vocabulary, merges and ids of a GPT-2 tokenizer file.

    >>> tok = GPT2Tokenizer.from_files("gpt2/vocab.json", "gpt2/merges.txt")   # doctest: +SKIP
    >>> tok.encode("Hello world")                                               # doctest: +SKIP
    [15496, 995]
    """

    FILE_FORMAT = "minitransformer-gpt2-bpe"
    FILE_VERSION = 1

    def __init__(self, pattern: str = "gpt2-exact"):
        super().__init__(kind="byte", pattern=pattern)

    # -- building from the two tables --------------------------------------

    @classmethod
    def from_vocab_and_merges(cls, vocab: dict, merges: list, pattern: str = "gpt2-exact",
                              vocab_where: str = "vocab", merge_where=None) -> "GPT2Tokenizer":
        """The tokenizer of `vocab` (token -> id) and `merges` ((left, right) pairs, by rank).

        Errors are ValueErrors that start with `vocab_where`, or `merge_where(rank)` for a merge.
        """
        merge_where = merge_where or (lambda rank: f"merge #{rank}")
        if not isinstance(vocab, dict) or not all(isinstance(token, str) for token in vocab):
            raise ValueError(f"{vocab_where}: the vocabulary must be a JSON object of token -> id")
        ids = list(vocab.values())
        if not all(type(i) is int for i in ids) or sorted(ids) != list(range(len(ids))):
            raise ValueError(f"{vocab_where}: the ids must be the integers 0 .. {len(vocab) - 1}, each once; "
                             f"is the file complete?")
        byte_contents = [bytes([byte]) for byte in range(256)]
        made = {}  # token -> its place among the non-special tokens: bytes 0..255, then one per merge
        for byte, token in enumerate(ByteLevel.visible_char):
            if token not in vocab:
                raise ValueError(f"{vocab_where}: the byte token {token!r} (byte {byte}) is missing; a byte-level "
                                 f"BPE vocabulary holds all 256 bytes")
            made[token] = byte
        pairs = []
        for rank, (left, right) in enumerate(merges):
            for part in (left, right):
                if part not in made:
                    raise ValueError(f"{merge_where(rank)}: {part!r} is neither a byte token nor made by an "
                                     f"earlier merge; are the merges in the order they were learned?")
            token = left + right
            if token in made:
                raise ValueError(f"{merge_where(rank)}: {left} {right} makes {token!r}, which an earlier merge or "
                                 f"byte already is; each merge must make a new token")
            if token not in vocab:
                raise ValueError(f"{merge_where(rank)}: the merged token {token!r} is not in {vocab_where}; do the "
                                 f"vocabulary and the merges belong together?")
            pairs.append((made[left], made[right]))
            made[token] = 256 + rank
        specials = check_special_tokens(sorted((t for t in vocab if t not in made), key=vocab.__getitem__))
        tokenizer = cls(pattern)
        n = len(specials)
        tokenizer._set_vocabulary(specials, byte_contents, [(a + n, b + n) for a, b in pairs])
        tokenizer._renumber(vocab)
        tokenizer._trained = True
        return tokenizer

    def _set_vocabulary(self, special_tokens, base_alphabet, merges):
        super()._set_vocabulary(special_tokens, base_alphabet, merges)
        self._merge_ranks = {pair: rank for rank, pair in enumerate(self._merges)}

    def _renumber(self, vocab: dict) -> None:
        """Give every token the id `vocab` gives it; every table keyed or valued by ids follows."""
        new = [vocab[token] for token in self._id_to_token]  # our id -> the file's
        order = sorted(range(len(new)), key=new.__getitem__)  # the file's id -> ours
        self._contents = [self._contents[i] for i in order]
        self._id_to_token = [self._id_to_token[i] for i in order]
        self._token_to_id = {token: i for i, token in enumerate(self._id_to_token)}
        self._merge_ids = {(new[a], new[b]): new[merged] for (a, b), merged in self._merge_ids.items()}
        self._merges = [(new[a], new[b]) for a, b in self._merges]
        self._merge_ranks = {pair: rank for rank, pair in enumerate(self._merges)}
        self._base_ids = {content: new[i] for content, i in self._base_ids.items()}
        self._encode_word.cache_clear()

    def _encode_word_uncached(self, key) -> tuple[int, ...]:
        symbols = self._flavour.initial_symbols(key, self._base_ids, None)
        return tuple(apply_merges(symbols, self._merge_ids, self._merge_ranks))

    # -- GPT-2's files ------------------------------------------------------

    @classmethod
    def from_files(cls, vocab_path, merges_path) -> "GPT2Tokenizer":
        """Read GPT-2's vocab.json and merges.txt; TokenizerFileError naming the file at fault."""
        vocab_path, merges_path = Path(vocab_path), Path(merges_path)
        vocab = read_json_file(vocab_path)
        merges, lines = read_merges_txt(merges_path)
        try:
            return cls.from_vocab_and_merges(vocab, merges, vocab_where=str(vocab_path),
                                             merge_where=lambda rank: f"{merges_path}: line {lines[rank]}")
        except (ValueError, TypeError) as error:
            raise TokenizerFileError(str(error)) from None

    def save_files(self, folder) -> tuple[Path, Path]:
        """Write vocab.json and merges.txt into `folder` (GPT-2's format), atomically."""
        self._check_trained()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        vocab_text = json.dumps(self._token_to_id, ensure_ascii=False) + "\n"
        merges_text = "\n".join([MERGES_HEADER, *(f"{left} {right}" for left, right in self.merges)]) + "\n"
        atomic_write_bytes(folder / VOCAB_FILE, vocab_text.encode("utf-8"))
        atomic_write_bytes(folder / MERGES_FILE, merges_text.encode("utf-8"))
        return folder / VOCAB_FILE, folder / MERGES_FILE

    # -- our own file (save / load / checkpoints) ---------------------------

    def to_dict(self) -> dict:
        self._check_trained()
        return {"format": self.FILE_FORMAT, "version": self.FILE_VERSION, "pattern": self._flavour.pattern,
                "vocab": dict(self._token_to_id), "merges": [f"{left} {right}" for left, right in self.merges]}

    @classmethod
    def _from_dict(cls, document: dict) -> "GPT2Tokenizer":
        for name, expected in {"pattern": str, "vocab": dict, "merges": list}.items():
            if not isinstance(document.get(name), expected):
                raise ValueError(f"field {name!r} is missing or not a JSON {expected.__name__}")
        merges = [split_merge(merge, f"merge #{rank}") for rank, merge in enumerate(document["merges"])]
        return cls.from_vocab_and_merges(document["vocab"], merges, document["pattern"])

    def __repr__(self):
        return f"GPT2Tokenizer(vocab_size={self.vocab_size}, merges={len(self._merges)}, pattern={self._flavour.pattern!r})"


def split_merge(merge, where: str) -> tuple[str, str]:
    """'Ġ t' -> ('Ġ', 't'); tokens never hold a space (a space byte is shown as Ġ)."""
    parts = merge.split(" ") if isinstance(merge, str) else None
    if not parts or len(parts) != 2 or not all(parts):
        raise ValueError(f"{where}: {merge!r} is not two tokens separated by one space")
    return parts[0], parts[1]


def read_text_file(path: Path, what: str) -> str:
    """The UTF-8 text of `path`, or a TokenizerFileError saying what is wrong with it."""
    if path.is_dir():
        raise TokenizerFileError(f"{path} is a folder, not the {what}; give the file itself")
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise TokenizerFileError(f"{path}: no such file; the tokenizer needs its {what}") from None
    except UnicodeDecodeError as error:
        raise TokenizerFileError(f"{path} is not UTF-8 text ({error}); re-download or re-save it") from None


def read_json_file(path: Path) -> dict:
    """A JSON object read from `path` (vocab.json, tokenizer.json), or a TokenizerFileError."""
    try:
        value = json.loads(read_text_file(path, "JSON file"))
    except (ValueError, RecursionError) as error:
        raise TokenizerFileError(f"{path} is not valid JSON ({error}); re-download or re-save it") from None
    if not isinstance(value, dict):
        raise TokenizerFileError(f"{path} must hold a JSON object, got {type(value).__name__}")
    return value


def read_merges_txt(path: Path) -> tuple[list[tuple[str, str]], list[int]]:
    """The merges of GPT-2's merges.txt in rank order, and the line number of each."""
    lines = read_text_file(path, "merges.txt").split("\n")
    while lines and lines[-1].strip("\r") == "":
        lines.pop()  # the final newline
    merges, numbers = [], []
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r")
        if number == 1 and line.startswith("#version"):
            continue
        try:
            merges.append(split_merge(line, f"{path}: line {number}"))
        except ValueError as error:
            raise TokenizerFileError(f"{error}; each line of merges.txt is one merge, e.g. 'Ġ t'") from None
        numbers.append(number)
    return merges, numbers
