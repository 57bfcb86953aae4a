"""Solutions to lesson 2's exercises (lessons/exercises/bpe.py checks them)."""


def count_pairs(word_counts):
    counts = {}
    for symbols, count in word_counts.items():
        for pair in zip(symbols, symbols[1:]):  # every adjacent pair, repeats included
            counts[pair] = counts.get(pair, 0) + count  # weighted by how often the word occurs
    return counts


def encode_word(symbols, merges):
    # apply the merges in the order they were learned, each to the whole word, left to right
    symbols = list(symbols)
    for pair in merges:
        merged, i = [], 0
        while i < len(symbols):
            if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                merged.append(pair[0] + pair[1])
                i += 2
            else:
                merged.append(symbols[i])
                i += 1
        symbols = merged
    return symbols
