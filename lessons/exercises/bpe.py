"""Checkers for lesson 2's exercises: counting pairs, and encoding a word with learned merges.

Symbols are strings, as in the lesson's `learn_bpe`: a word is a tuple such as ("l", "o", "w", "</w>").
"""

from minitransformer.tokenizers.bpe_merges import apply_merges, count_pairs as library_count_pairs

from exercises import ExerciseWrong, call, compare_values


def _as_symbols(word):
    return tuple(word) + ("</w>",)


def check_count_pairs(count_pairs):
    cases = {
        "the paper's dictionary": {_as_symbols("low"): 5, _as_symbols("lower"): 2, _as_symbols("newest"): 6,
                                   _as_symbols("widest"): 3},
        "{('a', 'a', 'a', 'a'): 2, ('b', 'a', 'a'): 1}": {("a", "a", "a", "a"): 2, ("b", "a", "a"): 1},
    }  # the second: a pair repeated within a word counts every time
    for name, word_counts in cases.items():
        expected = library_count_pairs(list(word_counts), list(word_counts.values()))
        got = call(count_pairs, dict(word_counts))
        if not isinstance(got, dict):
            raise ExerciseWrong(f"count_pairs should return a dict {{pair: count}}, got {type(got).__name__}")
        compare_values(dict(got), expected, f"count_pairs({name})")


def check_encode_word(encode_word):
    merges = [("a", "a"), ("t", "a"), ("ta", "a"), ("aa", "a"), ("s", "t"), ("y", "</w>"), ("st", "y</w>"), ("t", "aa")]
    merged = {pair: pair[0] + pair[1] for pair in merges}
    ranks = {pair: rank for rank, pair in enumerate(merges)}
    for word in ("taaaaasty", "taa", "aaaa", "stay", "tasty"):
        expected = apply_merges(list(_as_symbols(word)), merged, ranks)
        got = call(encode_word, _as_symbols(word), list(merges))
        compare_values(list(got) if isinstance(got, (list, tuple)) else got, expected,
                       f"encode_word({_as_symbols(word)})")


EXERCISES = {"count_pairs": check_count_pairs, "encode_word": check_encode_word}


def _pairs_once_per_word(word_counts):  # each distinct pair counted once per word
    counts = {}
    for symbols, count in word_counts.items():
        for pair in dict.fromkeys(zip(symbols, symbols[1:])):
            counts[pair] = counts.get(pair, 0) + count
    return counts


def _pairs_unweighted(word_counts):  # ignores how often each word occurs
    counts = {}
    for symbols in word_counts:
        for pair in zip(symbols, symbols[1:]):
            counts[pair] = counts.get(pair, 0) + 1
    return counts


def _merge_all(symbols, pair):
    out, i = [], 0
    while i < len(symbols):
        if tuple(symbols[i:i + 2]) == pair:
            out.append(pair[0] + pair[1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def _leftmost_known_pair_first(symbols, merges):  # merges the first pair it meets, whatever its rank
    symbols, known = list(symbols), set(merges)
    while True:
        pair = next((p for p in zip(symbols, symbols[1:]) if p in known), None)
        if pair is None:
            return symbols
        symbols = _merge_all(symbols, pair)


def _each_merge_once(symbols, merges):  # each merge replaces only its first occurrence
    symbols = list(symbols)
    for pair in merges:
        for i in range(len(symbols) - 1):
            if (symbols[i], symbols[i + 1]) == pair:
                symbols[i:i + 2] = [pair[0] + pair[1]]
                break
    return symbols


MISTAKES = {
    "count_pairs": [_pairs_once_per_word, _pairs_unweighted],
    "encode_word": [_leftmost_known_pair_first, _each_merge_once],
}
