"""Benchmark BPE training and encoding speed (not a test).

    python benchmarks/bench_tokenizer.py                      # the two default corpora
    python benchmarks/bench_tokenizer.py my.txt --vocab-size 1000 --kind byte
    python benchmarks/bench_tokenizer.py --check-naive        # + the slow textbook trainer

Default corpora (skipped if missing): ../shared/data/taylorswift.txt with vocab 512
and ../shared/data/tinyshakespeare.txt with vocab 4096, relative to the repo root.
For each corpus and flavour it prints the training time, the encoding speed in
MB/s (UTF-8 bytes per second, first encode with an empty word cache and a second
one with a warm cache), the compression (bytes per token), and checks the round
trip. ``--check-naive`` also runs the recount-every-pair-before-every-merge
algorithm (Sennrich et al.'s Algorithm 1, minbpe's ``train``) on the first corpus
and checks that it learns exactly the same merges, only much more slowly.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from minitransformer.tokenizers import BPETokenizer
from minitransformer.tokenizers.bpe import merge_pair
from minitransformer.tokenizers.pretokenize import split_chunks

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPORA = [
    (REPO.parent / "shared" / "data" / "taylorswift.txt", 512),
    (REPO.parent / "shared" / "data" / "tinyshakespeare.txt", 4096),
]
RARE_WORDS = "taaaaasty Transformerify unfriendliness misremembering"


def naive_byte_merges(text: str, vocab_size: int, pattern: str) -> list[tuple[int, int]]:
    """Recount all pairs of the whole corpus before every merge (the slow baseline)."""
    chunks = [list(chunk.encode("utf-8")) for chunk in split_chunks(text, pattern)]
    merges = []
    for new_id in range(256, vocab_size):
        counts: dict[tuple[int, int], int] = {}
        for symbols in chunks:
            for pair in zip(symbols, symbols[1:]):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        best = max(counts, key=counts.get)  # ties: the pair seen first
        merges.append(best)
        chunks = [merge_pair(symbols, best, new_id) for symbols in chunks]
    return merges


def bench(text: str, kind: str, vocab_size: int, pattern: str) -> BPETokenizer:
    tokenizer = BPETokenizer(kind=kind, pattern=pattern if kind == "byte" else None)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tokenizer.train(text, vocab_size)
    train_seconds = time.perf_counter() - start
    megabytes = len(text.encode("utf-8")) / 1e6
    speeds = []
    for _ in range(2):  # cold cache, then warm cache
        start = time.perf_counter()
        ids = tokenizer.encode(text)
        speeds.append(megabytes / (time.perf_counter() - start))
    expected = text if kind == "byte" else " ".join(text.split())
    round_trip = tokenizer.decode(ids) == expected
    print(
        f"  {kind:4s} vocab {tokenizer.vocab_size:5d}: train {train_seconds:6.2f} s | "
        f"encode {speeds[0]:5.2f} MB/s cold, {speeds[1]:5.2f} MB/s warm | "
        f"{megabytes * 1e6 / len(ids):.2f} bytes/token | round trip {'ok' if round_trip else 'FAILED'}"
    )
    for warning in caught:
        print(f"    warning: {warning.message}")
    print(f"    {RARE_WORDS!r} -> {tokenizer.segment(RARE_WORDS)}")
    return tokenizer


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="text files (default: the two shared corpora)")
    parser.add_argument("--vocab-size", type=int, help="vocab size for every file (default: 512 / 4096)")
    parser.add_argument("--kind", choices=["byte", "word", "both"], default="both")
    parser.add_argument("--pattern", choices=["gpt2", "gpt4"], default="gpt2", help="byte-level split")
    parser.add_argument("--check-naive", action="store_true", help="also time the recount-per-merge trainer")
    args = parser.parse_args()

    corpora = [(path, args.vocab_size or 4096) for path in args.files] or DEFAULT_CORPORA
    kinds = ["byte", "word"] if args.kind == "both" else [args.kind]
    checked = False
    for path, default_size in corpora:
        if not path.exists():
            print(f"{path}: not found, skipped")
            continue
        vocab_size = args.vocab_size or default_size
        text = path.read_text(encoding="utf-8")
        print(f"{path.name}: {len(text.encode('utf-8')) / 1e6:.3f} MB")
        for kind in kinds:
            bench(text, kind, vocab_size, args.pattern)
        if args.check_naive and not checked:
            checked = True
            check_against_naive(text, vocab_size, args.pattern)


def check_against_naive(text: str, vocab_size: int, pattern: str):
    """Same merges as the slow textbook trainer? (no special tokens, so the ids line up)"""
    tokenizer = BPETokenizer(kind="byte", pattern=pattern)
    start = time.perf_counter()
    tokenizer.train(text, vocab_size, min_frequency=1, special_tokens=[])
    fast_seconds = time.perf_counter() - start
    start = time.perf_counter()
    naive = naive_byte_merges(text, vocab_size, pattern)
    naive_seconds = time.perf_counter() - start
    ours = [(tokenizer.token_to_id(left), tokenizer.token_to_id(right)) for left, right in tokenizer.merges]
    print(
        f"  naive recount-per-merge trainer: {naive_seconds:.2f} s vs ours {fast_seconds:.2f} s; "
        f"identical merges: {ours == naive}"
    )


if __name__ == "__main__":
    main()
