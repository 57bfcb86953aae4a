# %% [markdown]
# # Lesson 2: byte-pair encoding (BPE)
#
# A model reads integers, not text, so the first design decision is what one integer stands for.
#
# - **One id per word** gives short sequences, but the vocabulary is never complete.  A word
#   the tokenizer has not seen (`taaaaasty`, a misspelling, `Transformerify`, a new name)
#   becomes `[UNK]`, and the model cannot even tell which unknown word it was.
# - **One id per character** never meets an unknown word (as long as it has seen every
#   character), but sequences become several times longer, and the model has to learn
#   spelling before it can learn anything else.
#
# **Subwords** sit between the two.  Byte-pair encoding (Sennrich et al., 2016) learns them
# from data: start with single characters, and repeatedly glue together the pair of adjacent
# symbols that occurs most often.  Frequent words end up as one token; rare words are spelled
# with a few frequent pieces.  The lecture writes the pieces with `##` after each piece that
# continues into the next one:
#
#     taaaaasty       ->  taa## aaa## sty
#     Transformerify  ->  Transformer## ify
#
# Those exact pieces are an illustration: section 3 gets them only from a training text built
# by hand to contain them.  A tokenizer trained on real text cuts the same words differently
# (ours: `ta## a## a## a## a## st## y`), into whatever pieces were frequent in *its* data.
#
# Plan:
# 1. BPE by hand, on the toy corpus of the original paper;
# 2. the same algorithm in `minitransformer`, trained on real text, watching the merges appear;
# 3. the lecture's two examples, from a real vocabulary and from a hand-built one;
# 4. word-level versus byte-level BPE: unknown characters, emoji, round trips;
# 5. compression: how the number of tokens falls as the vocabulary grows.
#
# Every claim is checked with `assert`.  Run as a script (`python lessons/02_bpe.py`) or cell
# by cell as a notebook; `MINITRANSFORMER_QUICK=1` trains fewer tokenizers in section 5.

# %%
import warnings
from collections import Counter

from minitransformer.corpus import builtin_corpus
from minitransformer.tokenizers import BPETokenizer
from minitransformer.tokenizers.pretokenize import split_words

from lesson_setup import QUICK, plt, save_figure  # quick mode, figures (optional matplotlib)


# %% [markdown]
# ## 1. BPE by hand
#
# Sennrich et al. explain BPE with a dictionary of four words and their counts:
# {low: 5, lower: 2, newest: 6, widest: 3}.  Each word starts out as a tuple of characters,
# plus an end-of-word symbol `</w>`.  The end mark keeps `est` at the end of `widest` apart
# from an `est` inside a word, and tells the decoder where to put the spaces back.
#
# One round of training:
#
# 1. count every pair of adjacent symbols, weighting each word by how often it occurs;
# 2. take the most frequent pair (a, b) and add the new symbol "ab" to the vocabulary;
# 3. rewrite every word, replacing each adjacent "a b" by "ab".
#
# Repeat until the vocabulary is as large as you want.  When two pairs are equally frequent, we
# take the one met first when reading the words in order (Python's `max` returns the first
# maximum of a dict, which keeps insertion order).  The library breaks ties the same way, so the
# two implementations can be compared merge by merge.

# %%
def merge_word(symbols: tuple, pair: tuple) -> tuple:
    """Replace each adjacent occurrence of `pair` in `symbols` by the joined symbol, left to right."""
    merged, i = [], 0
    while i < len(symbols):
        if symbols[i : i + 2] == pair:
            merged.append(pair[0] + pair[1])
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return tuple(merged)


def learn_bpe(word_counts: dict, num_merges: int) -> list:
    """Sennrich et al.'s algorithm: recount all pairs, merge the most frequent, repeat.

    word_counts maps a word, as a tuple of symbols, to its frequency.  Returns the merges in the
    order learned, as (pair, count) with the count the pair had when it was chosen.
    """
    words = dict(word_counts)
    merges = []
    for _ in range(num_merges):
        pair_counts = {}
        for symbols, count in words.items():
            for pair in zip(symbols, symbols[1:]):
                pair_counts[pair] = pair_counts.get(pair, 0) + count
        if not pair_counts:
            break  # every word is a single symbol: nothing left to merge
        best = max(pair_counts, key=pair_counts.get)  # ties: the pair seen first
        merges.append((best, pair_counts[best]))
        words = {merge_word(symbols, best): count for symbols, count in words.items()}
    return merges


def as_symbols(word: str) -> tuple:
    return tuple(word) + ("</w>",)


toy = {as_symbols("low"): 5, as_symbols("lower"): 2, as_symbols("newest"): 6, as_symbols("widest"): 3}
toy_merges = learn_bpe(toy, num_merges=10)
for rank, ((a, b), count) in enumerate(toy_merges, start=1):
    print(f"merge {rank:2d}: {a!r:7} + {b!r:7} -> {a + b!r:11} ({count} times)")

# %% [markdown]
# Read the first three merges.  `e s` occurs 9 times (6 in newest, 3 in widest), so `es`
# becomes a symbol; then `es t` occurs 9 times, then `est </w>`.  The suffix *-est* has been
# found without anyone telling the algorithm about English.  Sennrich et al. print their
# algorithm as a short Python program run on this dictionary with 10 merges (their figure shows
# four merges from a different dictionary); running that program gives these ten, in this order:

# %%
paper_merges = [("e", "s"), ("es", "t"), ("est", "</w>"), ("l", "o"), ("lo", "w"),
                ("n", "e"), ("ne", "w"), ("new", "est</w>"), ("low", "</w>"), ("w", "i")]
assert [pair for pair, _ in toy_merges] == paper_merges

# %% [markdown]
# The library's `BPETokenizer(kind="word")` runs the same algorithm, with the bookkeeping
# that makes it fast on real text: it counts pairs once and, after a merge, updates only the
# words that contained the merged pair.  `vocab_size` counts everything: the special tokens
# (`[PAD]`, `[UNK]`, ...), the base symbols (here the 10 letters and `</w>`), and one token per
# merge.  `min_frequency=1` lets it merge pairs seen only once, which this tiny corpus needs.
#
# BPE's payoff is a word that never occurred in training.  `lowest` is not in the corpus, yet
# the tokenizer builds it from two pieces it learned, `low` and `est</w>`.  `tokenize` shows the
# pieces as stored; `segment` writes them in the lecture's notation: pieces separated by
# spaces, `##` after a piece that continues into the next one (here `low`), and no `</w>`.

# %%
toy_text = "low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3
toy_tokenizer = BPETokenizer(kind="word")
special_and_base = 5 + len(set(toy_text) - {" "}) + 1  # 5 special tokens, 10 letters, </w>
toy_tokenizer.train(toy_text, vocab_size=special_and_base + 10, min_frequency=1)
print(toy_tokenizer)
print("library merges == hand merges:", toy_tokenizer.merges == paper_merges)
print("lowest ->", toy_tokenizer.tokenize("lowest"), "->", toy_tokenizer.segment("lowest"))

assert toy_tokenizer.merges == paper_merges
assert toy_tokenizer.tokenize("lowest") == ["low", "est</w>"]
assert toy_tokenizer.segment("lowest") == "low## est"

# %% [markdown]
# ## 2. Watching the merges appear on real text
#
# Our real corpus is the one used for pretraining in the later lessons: the help text that
# ships with every CPython (`help("for")`, `help("assert")`, ...): several hundred thousand
# characters of English and code.  We keep its last 10% aside to measure compression in section 5.
#
# Before counting pairs, the text is cut into words (*pre-tokenization*).  Word-level BPE
# splits at whitespace and makes every punctuation mark a word of its own, so no merge can
# ever cross a word boundary.  A word followed by whitespace gets the end mark `</w>`; a word
# followed directly by punctuation does not (that is how `hello, world` decodes back without a
# space before the comma).

# %%
text = builtin_corpus()
cut = int(0.9 * len(text))
train_text, held_out_text = text[:cut], text[cut:]

words = split_words(train_text)  # [(word, followed_by_whitespace), ...]
print(f"{len(train_text):,} characters -> {len(words):,} words, {len(set(words)):,} distinct")
print("the first words:", words[:8])

word_counts = Counter(words)  # keeps the order of first appearance: the tie-break order
symbol_counts = {tuple(word) + (("</w>",) if ends_word else ()): count
                 for (word, ends_word), count in word_counts.items()}

# %% [markdown]
# Now the hand-written `learn_bpe` on this real text.  Each line shows the pair merged and how
# many times it occurred at that moment.  Watch what gets found first: the endings `e</w>` and
# `s</w>`, then `th`, `in`, `on`, then the whole word `the</w>`, then `tion`.

# %%
num_hand_merges = 40 if QUICK else 150
hand_merges = learn_bpe(symbol_counts, num_hand_merges)
for rank, ((a, b), count) in enumerate(hand_merges[:25], start=1):
    print(f"merge {rank:2d}: {a + ' + ' + b:16} -> {a + b:12} {count:6,d} times")

# %% [markdown]
# Two properties to check.  First, the library learns exactly these merges, in this order.
# Second, the count of the chosen pair can never go up from one merge to the next.  Merging
# (a, b) only *removes* occurrences of the other pairs, and every pair it creates contains the
# new symbol "ab", so it occurs at most as often as (a, b) did.  The first merges cover
# thousands of occurrences; later ones cover fewer and fewer, which is why a bigger vocabulary
# buys less and less compression (section 5).

# %%
word_tokenizer = BPETokenizer(kind="word")
word_tokenizer.train(train_text, vocab_size=1000)
print(word_tokenizer)
assert word_tokenizer.merges[:num_hand_merges] == [pair for pair, _ in hand_merges]
counts = [count for _, count in hand_merges]
assert all(earlier >= later for earlier, later in zip(counts, counts[1:]))
print(f"library == hand-written BPE for the first {num_hand_merges} merges; "
      f"counts fall from {counts[0]:,} to {counts[-1]:,}")

# %% [markdown]
# BPE is greedy: each merge depends only on the merges before it.  So the merges of a smaller
# vocabulary are exactly the first merges of a larger one, and we can watch one sentence being
# tokenized with more and more merges by training a few vocabulary sizes.  The vocabulary
# starts with 5 special tokens, `</w>` and the hundred or so characters of the text, so 120
# tokens leave only a dozen merges: the sentence is spelled out almost letter by letter.  By
# 1000 tokens the
# common words are single tokens and only the rarer ones (`interpreter`, `assertion`) are
# still built from pieces.

# %%
sentence = "The interpreter raises an exception when the assertion fails."
for size in (120, 200, 500, 1000):
    smaller = BPETokenizer(kind="word")
    smaller.train(train_text, vocab_size=size)
    assert smaller.merges == word_tokenizer.merges[: len(smaller.merges)]
    pieces = smaller.tokenize(sentence)
    print(f"vocab {size:4d} ({len(smaller.merges):3d} merges): {len(pieces):2d} tokens  {smaller.segment(sentence)}")

# %%
if plt is None:
    print('(install matplotlib for a figure of the merge counts: pip install -e ".[viz]")')
else:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(range(1, len(counts) + 1), counts, ".-")
    for rank in (1, 3, 9, 20):
        (a, b), count = hand_merges[rank - 1]
        ax.annotate(a + b, (rank, count), textcoords="offset points", xytext=(8, -2))
    ax.set_xlabel("merge number")
    ax.set_ylabel("occurrences of the merged pair")
    ax.set_title("Each BPE merge covers fewer occurrences than the one before")
    save_figure(fig, "02_merge_counts.png")

# %% [markdown]
# ## 3. The lecture's examples: `taa## aaa## sty` and `Transformer## ify`
#
# Neither `taaaaasty` nor `Transformerify` occurs in the help text, and a word vocabulary would
# map both to `[UNK]`.  The 1000-token tokenizer we just trained spells them from the pieces it
# has, and those are not the slide's pieces:

# %%
for word in ("taaaaasty", "Transformerify"):
    print(f"{word:15} -> {word_tokenizer.segment(word)}")
    assert "[UNK]" not in word_tokenizer.tokenize(word)
assert word_tokenizer.segment("taaaaasty") == "ta## a## a## a## a## st## y"

# %% [markdown]
# The slide's pieces come from a vocabulary that contains them, so to reproduce them we build
# one by hand: it must hold `taa`, `aaa` and `Transformer` as pieces that *continue* a word,
# and `sty` and `ify` as pieces that *end* one.  We write a tiny training text in which exactly
# those are frequent.  Recall from section 2
# that a word followed directly by punctuation carries no `</w>`: every `taa,` teaches the
# continuing piece `taa`, while `sty ` (followed by a space) teaches `sty</w>`.
#
# The text runs out of pairs long before 200 tokens.  The tokenizer then stops early and warns
# (rather than inventing merges that never occurred); we show the warning instead of hiding it.

# %%
lecture_text = "taa, " * 30 + "aaa, " * 20 + "sty " * 10 + "Transformer, " * 10 + "ify " * 10
lecture_tokenizer = BPETokenizer(kind="word")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    lecture_tokenizer.train(lecture_text, vocab_size=200)
print("warning:", caught[0].message)
print("learned pieces:", [a + b for a, b in lecture_tokenizer.merges])

for word, expected in (("taaaaasty", "taa## aaa## sty"), ("Transformerify", "Transformer## ify")):
    print(f"{word:15} -> {lecture_tokenizer.tokenize(word)} -> {lecture_tokenizer.segment(word)}")
    assert lecture_tokenizer.segment(word) == expected

# %% [markdown]
# Encoding a word applies the learned merges in the order they were learned (always the
# earliest-learned pair first, as GPT-2 does).  That is why `taaaaasty` becomes `taa aaa sty`
# and not, say, `taa a a a sty`: `aa` was learned first, then `taa`, then `aaa`.
#
# ## 4. Word-level versus byte-level BPE
#
# Word-level BPE starts from the characters seen in training.  A character it has never seen
# (an emoji, a kanji) cannot be spelled, so it becomes `[UNK]`, and decoding cannot bring it
# back.
#
# GPT-2's **byte-level** BPE starts from the 256 possible bytes instead, and encodes text as
# UTF-8 first.  Every string is a sequence of bytes, so nothing is ever unknown: an unfamiliar
# character is spelled with its bytes (one to four of them).  Byte tokens are displayed the
# GPT-2 way, one visible character per byte: a space is `Ġ`, and the four bytes of 😀 show as
# four odd-looking characters.  Pre-tokenization uses GPT-2's regex, which attaches a space to
# the word after it (`Ġraises`), so there is no `</w>`.

# %%
byte_tokenizer = BPETokenizer(kind="byte")
byte_tokenizer.train(train_text, vocab_size=1000)
print(byte_tokenizer)

mixed = "The assert statement 😀 works in 東京 too."
unk = word_tokenizer.token_to_id("[UNK]")
word_ids = word_tokenizer.encode(mixed)
byte_ids = byte_tokenizer.encode(mixed)
print("word-level:", word_tokenizer.segment(mixed))
print("           decoded:", repr(word_tokenizer.decode(word_ids)))
print("byte-level:", byte_tokenizer.tokenize(mixed))
print("           decoded:", repr(byte_tokenizer.decode(byte_ids)))

emoji_tokens = byte_tokenizer.tokenize("😀")
print(f"😀 is the UTF-8 bytes {'😀'.encode().hex(' ')}: {len(emoji_tokens)} byte tokens {emoji_tokens}")

assert word_ids.count(unk) == 3, "the emoji and both kanji are unknown characters for word-level BPE"
assert word_tokenizer.decode(word_ids) != mixed
assert byte_tokenizer.decode(byte_ids) == mixed, "byte-level BPE round-trips every string"
assert len(emoji_tokens) == len("😀".encode("utf-8")) == 4

# %% [markdown]
# ### Round trips
#
# Byte-level decoding joins the bytes of the tokens, so `decode(encode(s)) == s` for every
# string.  Word-level decoding turns each `</w>` back into one space, so it gives the text back
# with its whitespace normalised (runs of spaces and newlines become one space), provided every
# character was seen in training.  Punctuation keeps its spacing, thanks to the rule about
# `</w>` from section 2.

# %%
samples = [
    "The for statement is used to iterate over the elements of a sequence.",
    "x = [1, 2, 3]  # a list,\n\tthen   a tuple: (4, 5)",
    held_out_text[:300],
]
for sample in samples:
    assert byte_tokenizer.decode(byte_tokenizer.encode(sample)) == sample
    assert unk not in word_tokenizer.encode(sample)
    assert word_tokenizer.decode(word_tokenizer.encode(sample)) == " ".join(sample.split())
print("byte-level: exact round trips;  word-level: round trips up to whitespace")
print(repr(word_tokenizer.decode(word_tokenizer.encode(samples[1]))))

# %% [markdown]
# ## 5. Compression versus vocabulary size
#
# A larger vocabulary means fewer tokens for the same text: shorter sequences, so a model sees
# more text within its context and spends less compute per character.  The price is a bigger
# embedding matrix, and rarer tokens, each seen less often in training.  GPT-1 used 40,000
# merges, GPT-2 about 50,000 tokens.
#
# We train both kinds at several sizes on the first 90% of the corpus and count tokens per
# character on the held-out 10%.  With no merges at all, byte-level BPE is one token per byte,
# about one per character for mostly-ASCII text.  The table shows the diminishing returns
# that section 2's falling merge counts predicted.

# %%
sizes = [300, 1000, 2000] if QUICK else [300, 500, 1000, 2000, 4000]
raw_bytes_per_char = len(held_out_text.encode("utf-8")) / len(held_out_text)
print(f"held-out text: {len(held_out_text):,} characters, {raw_bytes_per_char:.3f} bytes per character")
print(" vocab | word-level: merges  tokens/char | byte-level: merges  tokens/char")
tokens_per_char = {"word": [], "byte": []}
for size in sizes:
    row = f"{size:6d}"
    for kind in ("word", "byte"):
        tokenizer = BPETokenizer(kind=kind)
        tokenizer.train(train_text, vocab_size=size)
        tokens_per_char[kind].append(len(tokenizer.encode(held_out_text)) / len(held_out_text))
        row += f" | {len(tokenizer.merges):18d} {tokens_per_char[kind][-1]:12.3f}"
    print(row)

for kind, ratios in tokens_per_char.items():
    assert all(a > b for a, b in zip(ratios, ratios[1:])), f"{kind}: more merges should mean fewer tokens"
assert tokens_per_char["byte"][0] < 0.8 * raw_bytes_per_char, "the first few dozen merges already beat raw bytes"
assert tokens_per_char["byte"][-1] < tokens_per_char["word"][-1], "with enough merges, byte-level needs fewer tokens"
print(f"with {sizes[-1]} byte-level tokens: {1 / tokens_per_char['byte'][-1]:.1f} characters per token on average")

# %% [markdown]
# Two details explain the gap between the columns.  At the same vocabulary size, byte-level
# BPE has fewer merges, because 256 of its tokens are the bytes (most of them never used by
# English text), while word-level BPE's alphabet is only the characters that occur.  And
# word-level BPE never spends a token on whitespace: `</w>` absorbs the space after a word and
# decoding puts back one space, so the indentation of the code examples is lost.  Byte-level
# BPE keeps every space and newline (it has to, to round-trip exactly), yet with enough merges
# it still needs fewer tokens.

# %%
if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(sizes, tokens_per_char["word"], "o-", label="word-level BPE")
    ax.plot(sizes, tokens_per_char["byte"], "o-", label="byte-level BPE")
    ax.axhline(raw_bytes_per_char, color="gray", linestyle="--", label="raw UTF-8 bytes")
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(size) for size in sizes])
    ax.minorticks_off()
    ax.set_xlabel("vocabulary size")
    ax.set_ylabel("tokens per character (held-out text)")
    ax.set_ylim(0, 1.1)
    ax.legend()
    ax.set_title("A bigger vocabulary compresses better, with diminishing returns")
    save_figure(fig, "02_compression.png")

# %% [markdown]
# ## Exercises
#
# Words are tuples of string symbols, as in section 1 (solutions: `lessons/solutions/bpe.py`).
#
# 1. `count_pairs(word_counts)`: step 1 of a training round, the dict {pair: count} over a
#    dictionary {word as a tuple of symbols: frequency}; a pair that occurs twice in a word
#    counts twice.  The check compares with the library's `bpe_merges.count_pairs`.
# 2. `encode_word(symbols, merges)`: encode one word with merges learned earlier (a list of
#    pairs, in the order learned), as section 3 says: the earliest-learned merge first.  The
#    check compares with the library's `apply_merges`.

# %%
from exercises import report  # noqa: E402
from exercises import bpe as bpe_checks  # noqa: E402


def count_pairs(word_counts):
    raise NotImplementedError  # your code


def encode_word(symbols, merges):
    raise NotImplementedError  # your code


report("count_pairs", count_pairs, bpe_checks.check_count_pairs)
report("encode_word", encode_word, bpe_checks.check_encode_word)

# %% [markdown]
# ## What to read next
#
# - `minitransformer/tokenizers/bpe.py`: `BPETokenizer`, and a map of the files beside it:
#   `bpe_merges.py` has `merge_pair` and `apply_merges` (the core, shared by training and
#   encoding) and `PlainMergeTrainer`, which is `learn_bpe` above; `bpe_trainer.py` has
#   `FastMergeTrainer`, which gets the same merges without recounting the corpus after every
#   merge; `bpe_flavours.py` has `WordLevel` and `ByteLevel`, the two flavours; `bpe_file.py`
#   the JSON file format.
# - `minitransformer/tokenizers/pretokenize.py`: `split_words` (word-level) and the GPT-2 and
#   GPT-4 regexes (byte-level), which decide what a token can possibly be.
# - `minitransformer/tokenizers/wordpiece.py`: BERT's WordPiece, which loads a pretrained
#   BERT vocabulary and cuts each word greedily into the longest pieces it knows, marking
#   continuing pieces `##` the other way round (`un ##want ##ed`).
#
# Next: lesson 3 shows attention; lesson 5 trains a GPT on these byte-level tokens.
