"""Regenerate tests/data/gpt2_tiny/ and gpt2_tiny_golden.{json,npz}: a tiny GPT-2 made by Hugging Face.

No real GPT-2 can be downloaded here, so this makes a small one with the libraries GPT-2 is run by,
and stores what they compute.  minitransformer is not imported: the golden values are independent.

- The tokenizer: `tokenizers` trains a byte-level BPE (GPT-2's ByteLevel pre-tokenizer, a few
  hundred merges) on CORPUS, then <|endoftext|> is added as the last id, as in GPT-2.  It is saved
  both ways a GPT-2 folder holds it: vocab.json + merges.txt (GPT-2's own format) and tokenizer.json.
  HARD_TEXTS are encoded with it; the same ids are checked against OpenAI's GPT-2 algorithm written
  out below with the `regex` module (GPT-2's pattern, lowest-rank merge first), so the golden ids are
  GPT-2's, not just one library's.
- The model: a randomly initialized transformers.GPT2LMHeadModel (2 layers, 32 wide, 4 heads,
  context 32, GPT-2's tanh GELU) with O(1) weights (N(0, 0.02) would make every logit tiny and any
  difference look small), saved with save_pretrained (config.json + model.safetensors).
- The outputs: its logits on fixed ids and on the ids of a hard text (float32), and greedy
  generation (model.generate, do_sample=False, with its KV cache) from two prompts.

Run it in a scratch environment (torch 2.13.0 CPU is on this machine's disk):

    python -m venv /tmp/ref_venv
    /tmp/ref_venv/bin/pip install torch==2.13.0 transformers tokenizers
    /tmp/ref_venv/bin/python benchmarks/golden/make_gpt2_golden.py
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import shutil
from pathlib import Path

import numpy as np
import regex
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Config, GPT2LMHeadModel

REPO_ROOT = Path(__file__).resolve().parents[2]
FOLDER = REPO_ROOT / "tests" / "data" / "gpt2_tiny"
JSON_PATH = REPO_ROOT / "tests" / "data" / "gpt2_tiny_golden.json"
NPZ_PATH = REPO_ROOT / "tests" / "data" / "gpt2_tiny_golden.npz"
EOT = "<|endoftext|>"
VOCAB_SIZE = 600  # asked of the trainer: 256 bytes + merges + <|endoftext|> (it stops earlier, ~590)
SIZES = dict(n_positions=32, n_embd=32, n_layer=2, n_head=4, activation_function="gelu_new")
WEIGHT_STD = 0.15
GENERATE_TOKENS = 20

CORPUS = [
    "The quick brown fox jumps over the lazy dog. The dog doesn't mind; it's sleeping.",
    "We'll see what they've said: I'm sure you're right, and he'd agree. She's here!",
    "Numbers: 3.14159, 2,718,281, 1999-2024, 42% of 7 and ½ cup; x² + y² = z²; Ⅷ and Ⅻ.",
    "Unicode: naïve café, résumé, Straße, Ångström, 東京は日本の首都です, Привет мир, مرحبا, 😀👍🏽.",
    "Whitespace   runs,\ttabs\t\tand\n\nnewlines \n  keep their    spaces; a\u00a0non-breaking space, \u3000.",
    "Transformers use self-attention: softmax(QK^T / sqrt(d)) V, then a feed-forward layer.",
    "print('hello world')  # code too: for i in range(10): x += i ** 2",
] * 20

HARD_TEXTS = [
    "Hello world! The dog doesn't mind.",
    "I'm you're they've we'll he'd it's DON'T 'S 'll",
    "   leading spaces, trailing spaces   ",
    "tabs\t\tand\n\n\nnewlines\r\n  mixed \t \n end",
    "3.14159 1,000,000 2024-01-01 ١٢٣ ५६ ² ½ Ⅷ Ⅻ ¼ 10⁻³",
    "naïve café e\u0301 東京 Привет مرحبا 😀👍🏽 \u00a0\u3000\u2028\x85",
    "separators \x1c\x1d\x1e\x1f and _under_score__ and \x00 \x07 controls",
    "<|endoftext|>between two documents<|endoftext|>",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "",
]

# OpenAI's GPT-2 split pattern, as its encoder.py writes it (for the `regex` module).
GPT2_SPLIT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def visible_byte_chars() -> list[str]:
    """GPT-2's byte -> visible character table: printable Latin-1 bytes stand for themselves."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    table, shift = [], 0
    for byte in range(256):
        if byte in printable:
            table.append(chr(byte))
        else:
            table.append(chr(256 + shift))
            shift += 1
    return table


def gpt2_algorithm_ids(text: str, vocab: dict, merges: list[tuple[str, str]]) -> list[int]:
    """GPT-2's encoding as OpenAI describes it: split, show bytes, merge the lowest-rank pair first."""
    ranks = {pair: rank for rank, pair in enumerate(merges)}
    chars = visible_byte_chars()
    ids = []
    for piece in regex.split(f"({regex.escape(EOT)})", text):
        if piece == EOT:
            ids.append(vocab[EOT])
            continue
        for chunk in GPT2_SPLIT.findall(piece):
            word = [chars[b] for b in chunk.encode("utf-8")]
            while len(word) > 1:
                pairs = [(word[i], word[i + 1]) for i in range(len(word) - 1)]
                best = min(pairs, key=lambda pair: ranks.get(pair, float("inf")))
                if best not in ranks:
                    break
                merged, i = [], 0
                while i < len(word):
                    if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                        merged.append(word[i] + word[i + 1])
                        i += 2
                    else:
                        merged.append(word[i])
                        i += 1
                word = merged
            ids.extend(vocab[token] for token in word)
    return ids


def make_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE - 1, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(CORPUS, trainer)
    tokenizer.add_special_tokens([EOT])  # the last id, as in GPT-2
    return tokenizer


def save_gpt2_format(tokenizer: Tokenizer, folder: Path) -> tuple[dict, list]:
    """vocab.json (with <|endoftext|>, as GPT-2's) and merges.txt, as GPT-2's tokenizer ships them."""
    tokenizer.model.save(str(folder))  # writes vocab.json (without added tokens) and merges.txt
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    vocab = dict(sorted(vocab.items(), key=lambda item: item[1]))
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    lines = (folder / "merges.txt").read_text(encoding="utf-8").splitlines()
    merges = [tuple(line.split(" ")) for line in lines[1:] if line]
    return vocab, merges


def make_model(vocab_size: int, eot_id: int) -> GPT2LMHeadModel:
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=vocab_size, bos_token_id=eot_id, eos_token_id=eot_id, resid_pdrop=0.0,
                        embd_pdrop=0.0, attn_pdrop=0.0, **SIZES)
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            base = 1.0 if (".ln_" in name and name.endswith("weight")) else 0.0
            p.copy_(base + torch.randn_like(p) * WEIGHT_STD)
    return model


def logits_of(model, ids: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(ids)).logits.numpy()


def main() -> None:
    torch.set_num_threads(1)
    if FOLDER.exists():
        shutil.rmtree(FOLDER)
    FOLDER.mkdir(parents=True)
    tokenizer = make_tokenizer()
    tokenizer.save(str(FOLDER / "tokenizer.json"))
    vocab, merges = save_gpt2_format(tokenizer, FOLDER)
    eot_id = vocab[EOT]
    assert eot_id == len(vocab) - 1 and len(merges) == len(vocab) - 257, (eot_id, len(vocab), len(merges))
    hard_ids = [tokenizer.encode(text).ids for text in HARD_TEXTS]
    for text, ids in zip(HARD_TEXTS, hard_ids):
        assert ids == gpt2_algorithm_ids(text, vocab, merges), f"tokenizers and GPT-2's algorithm differ on {text!r}"
        assert tokenizer.decode(ids, skip_special_tokens=False) == text

    model = make_model(len(vocab), eot_id)
    model.save_pretrained(FOLDER)
    for extra in ("generation_config.json",):  # not part of what a GPT-2 folder needs
        (FOLDER / extra).unlink(missing_ok=True)
    rng = np.random.default_rng(0)
    fixed_ids = rng.integers(0, len(vocab), (2, SIZES["n_positions"])).astype(np.int64)
    text_ids = np.array([(hard_ids[0] + hard_ids[1])[:SIZES["n_positions"]]], dtype=np.int64)
    logits = logits_of(model, fixed_ids)
    text_logits = logits_of(model, text_ids)
    logits64 = logits_of(model.double(), fixed_ids)
    model.float()

    prompts = [hard_ids[0][:5], hard_ids[4][:3]]
    generated, margins = [], []
    for prompt in prompts:
        with torch.no_grad():
            out = model.generate(torch.tensor([prompt]), max_new_tokens=GENERATE_TOKENS, do_sample=False,
                                 pad_token_id=eot_id, use_cache=True)
            steps = logits_of(model, out.numpy())[0, len(prompt) - 1:-1]
        top2 = np.sort(steps, axis=-1)[:, -2:]
        margins.append(float((top2[:, 1] - top2[:, 0]).min()))
        generated.append(out[0].tolist())

    versions = {name: importlib.metadata.version(name) for name in ("torch", "transformers", "tokenizers", "regex", "numpy")}
    versions["python"] = platform.python_version()
    record = {
        "how_made": "python benchmarks/golden/make_gpt2_golden.py (see its docstring) with the versions below",
        "reference_versions": versions,
        "weight_std": WEIGHT_STD,
        "reference_float32_error": {"logits_max_abs_vs_float64": float(np.abs(logits - logits64).max())},
        "hard_texts": HARD_TEXTS,
        "hard_ids": hard_ids,
        "text_ids": text_ids.tolist(),
        "prompts": prompts,
        "greedy": generated,
        "greedy_smallest_top2_margin": min(margins),
    }
    np.savez_compressed(NPZ_PATH, fixed_ids=fixed_ids, logits=logits.astype(np.float32),
                        text_logits=text_logits.astype(np.float32))
    JSON_PATH.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {FOLDER}, {JSON_PATH.name}, {NPZ_PATH.name}: {sorted(p.name for p in FOLDER.iterdir())}")
    print(json.dumps(record["reference_float32_error"]), "smallest greedy margin", min(margins))


if __name__ == "__main__":
    main()
