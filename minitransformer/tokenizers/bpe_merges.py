"""The core of BPE: merging a pair of symbols, and the training algorithm as the lecture states it.

Words are lists of symbol ids. Training (Sennrich et al., 2016, Algorithm 1) repeats::

    count every pair of adjacent symbols, each word weighted by its frequency
    (a, b) = the most frequent pair;  new id n for the token "ab"
    replace every adjacent "a b" by n in every word

``PlainMergeTrainer`` does exactly that, recounting the whole corpus before every merge.
It is the reference: ``bpe_trainer.FastMergeTrainer`` learns the same merges, in the
same order, with bookkeeping that makes it much faster (``tests/test_bpe.py`` checks
they agree). ``BPETokenizer.train(..., algorithm="plain")`` trains with this one.

Encoding a new word uses the same ``merge_pair``: apply the learned merges, earliest
first (``apply_merges``).
"""

from __future__ import annotations


def merge_pair(symbols: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace each occurrence of ``pair`` in ``symbols`` by ``new_id``, left to right.

    Occurrences do not overlap: ``a a a`` with pair ``(a, a)`` becomes ``aa a``.
    """
    first, second = pair
    merged = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == first and symbols[i + 1] == second:
            merged.append(new_id)
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return merged


def apply_merges(symbols: list[int], merge_ids: dict[tuple[int, int], int], ranks=None) -> list[int]:
    """Encode one word: keep merging the adjacent pair that was learned first (GPT-2).

    ``merge_ids`` maps a pair to the id of its merged token. Ids of merged tokens
    increase with merge order, so the smallest id is the earliest (lowest-rank)
    merge. This reproduces exactly the segmentation training produced.
    ``ranks`` (pair -> merge rank) is for vocabularies numbered otherwise, such as
    GPT-2's files (``gpt2_files.py``).
    """
    rank = (merge_ids if ranks is None else ranks).__getitem__
    while len(symbols) > 1:
        known_pairs = [pair for pair in zip(symbols, symbols[1:]) if pair in merge_ids]
        if not known_pairs:
            break
        earliest = min(known_pairs, key=rank)
        symbols = merge_pair(symbols, earliest, merge_ids[earliest])
    return symbols


def count_pairs(words: list[list[int]], freqs: list[int]) -> dict[tuple[int, int], int]:
    """How often each adjacent pair occurs; the dict lists pairs in reading order.

    Reading order matters for ties: Python's ``max`` over this dict returns the
    *first* most frequent pair, which is the pair read first when going through
    the words in order, each left to right (what Sennrich et al.'s code and minbpe do).
    """
    counts: dict[tuple[int, int], int] = {}
    for symbols, freq in zip(words, freqs):
        for pair in zip(symbols, symbols[1:]):
            counts[pair] = counts.get(pair, 0) + freq
    return counts


class PlainMergeTrainer:
    """The lecture's BPE training, as written: recount all pairs before every merge.

    ``words[w]`` is the symbol list of the w-th distinct word of the corpus (in order
    of first appearance) and ``freqs[w]`` how often it occurs. ``BPETokenizer.train``
    asks for ``most_frequent_pair()``, then calls ``merge`` (or ``forbid``, when the
    merged token would spell a special token), and repeats. Each merge costs a pass
    over the whole corpus; ``bpe_trainer.FastMergeTrainer`` avoids that.
    """

    def __init__(self, words: list[list[int]], freqs: list[int]):
        self.words = [list(symbols) for symbols in words]
        self.freqs = freqs
        self.forbidden: set[tuple[int, int]] = set()

    def forbid(self, pair):
        """Never return ``pair`` again."""
        self.forbidden.add(pair)

    def most_frequent_pair(self):
        """Return ``(pair, count)`` of the most frequent pair, or None when no pair is left."""
        counts = count_pairs(self.words, self.freqs)
        for pair in self.forbidden:
            counts.pop(pair, None)
        if not counts:
            return None
        best = max(counts, key=counts.get)  # ties: the pair read first
        return best, counts[best]

    def merge(self, pair, new_id: int):
        """Replace ``pair`` by ``new_id`` in every word."""
        self.words = [merge_pair(symbols, pair, new_id) for symbols in self.words]
