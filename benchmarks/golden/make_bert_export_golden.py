"""Check export_bert against Hugging Face, and store what transformers computes from the exported folders.

Two of our BERTs, with O(1) random weights (N(0, 0.02) would make every output tiny and any
difference look small), are exported with minitransformer.pretrained.export_bert:

- tests/data/bert_export/: a WordPiece BERT with a 3-label classifier (config.json,
  model.safetensors, vocab.txt, tokenizer_config.json).  transformers opens it as BertForMaskedLM,
  BertModel and BertForSequenceClassification; their outputs on a padded batch with two segments
  are stored, and so are the ids AutoTokenizer gives (BertTokenizerFast reading our vocab.txt).
- tests/data/bert_export_bpe/: a BERT with a byte-level BPE trained by our BPETokenizer (the kind
  `pretrain` makes), exported with its tokenizer.json; our tokenizer's own file is stored beside it.
  tokenizers.Tokenizer.from_file and AutoTokenizer read it; the ids they give for hard texts are stored.

The script fails if a model does not load without missing weights, or if any output differs from
ours by more than TOLERANCE.  tests/test_bert_export.py then compares our outputs with the stored
ones, without torch.  Run it where torch and transformers are installed:

    python -m venv /tmp/ref_venv
    /tmp/ref_venv/bin/pip install torch==2.13.0 transformers tokenizers
    /tmp/ref_venv/bin/python benchmarks/golden/make_bert_export_golden.py
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoTokenizer, BertForMaskedLM, BertForSequenceClassification, BertModel

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))  # the repository, without installing it
from minitransformer.models import BERT, bert_config  # noqa: E402
from minitransformer.pretrained import export_bert  # noqa: E402
from minitransformer.tokenizers import BPETokenizer, WordPieceTokenizer  # noqa: E402

DATA = REPO_ROOT / "tests" / "data"
WORDPIECE_FOLDER, BPE_FOLDER = DATA / "bert_export", DATA / "bert_export_bpe"
JSON_PATH, NPZ_PATH = DATA / "bert_export_golden.json", DATA / "bert_export_golden.npz"
TOLERANCE = 1e-5
SIZES = dict(context_length=16, n_layers=2, n_heads=2, d_model=16, d_ff=24, dropout=0.0)
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s", "a", "dog", "ran",
         ".", ",", "!", "big", "small", "un", "##want", "##ed", "run", "##ning", "café", "東", "京", "is", "was", "it"]
SENTENCES = ["The cats sat on the mat.", "A big dog ran!", "unwanted running, café 東京", "It was the DOG."]
BPE_CORPUS = ("The quick brown fox jumps over the lazy dog. Pretraining teaches a network language; fine-tuning "
              "adapts it. Numbers 3.14159 and 1,000; naïve café, 東京, emoji 😀. ") * 20
BPE_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<|endoftext|>"]
HARD_TEXTS = ["Hello world's 12345!! x² ½ Ⅷ", "  leading\t\ttabs\n\n\nnewlines  \r\n end   ",
              "I'm you're they've we'll he'd DON'T", "3.14159 1,000,000 ١٢٣ ५६ Ⅻ ¼",
              "naïve café e\u0301 東京 😀👍🏽 \x85\xa0\u2028\x1d\x1f_x__y", "a [MASK] b [SEP]", ""]


def randomized_bert(vocab_size: int, num_labels: int, seed: int) -> BERT:
    model = BERT(bert_config("micro", vocab_size=vocab_size, num_labels=num_labels, **SIZES))
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        base = 1.0 if (".ln." in f".{name}" and name.endswith("weight")) else 0.0
        p.data = (base + rng.standard_normal(p.shape) * 0.3).astype(np.float32)
    return model.eval()


def loaded(model_class, folder: Path):
    model, info = model_class.from_pretrained(folder, output_loading_info=True)
    assert not info["missing_keys"] and not info["mismatched_keys"], (model_class.__name__, info)
    return model.eval()


def check(name: str, ours: np.ndarray, theirs: np.ndarray) -> float:
    difference = float(np.abs(ours - theirs).max())
    print(f"{name:42s} max |ours - transformers| = {difference:.2e}")
    assert difference <= TOLERANCE, name
    return difference


def wordpiece_case() -> tuple[dict, dict]:
    tokenizer = WordPieceTokenizer(VOCAB)
    model = randomized_bert(len(VOCAB), num_labels=3, seed=0)
    shutil.rmtree(WORDPIECE_FOLDER, ignore_errors=True)
    export_bert(model, WORDPIECE_FOLDER, tokenizer)
    batch = tokenizer.encode_batch(SENTENCES[:2], SENTENCES[2:], max_length=SIZES["context_length"], truncation=True)
    ids, types, mask = (np.asarray(a, dtype=np.int64) for a in (batch.input_ids, batch.token_type_ids, batch.attention_mask))
    hf_tokenizer = AutoTokenizer.from_pretrained(WORDPIECE_FOLDER)
    hf_ids = [hf_tokenizer(sentence)["input_ids"] for sentence in SENTENCES]
    assert hf_ids == [tokenizer.encode(sentence).input_ids for sentence in SENTENCES], hf_ids
    inputs = dict(input_ids=torch.from_numpy(ids), token_type_ids=torch.from_numpy(types),
                  attention_mask=torch.from_numpy(mask))
    with torch.no_grad():
        mlm = loaded(BertForMaskedLM, WORDPIECE_FOLDER)(**inputs).logits.numpy()
        base = loaded(BertModel, WORDPIECE_FOLDER)(**inputs)
        hidden, pooled = base.last_hidden_state.numpy(), base.pooler_output.numpy()
        classes = loaded(BertForSequenceClassification, WORDPIECE_FOLDER)(**inputs).logits.numpy()
    keep = mask.astype(bool)  # padding positions are not compared: nothing reads them
    errors = {
        "mlm_logits": check("BertForMaskedLM logits", model.mlm(ids, None, types, mask)[0].data[keep], mlm[keep]),
        "hidden": check("BertModel last_hidden_state", model(ids, types, mask).data[keep], hidden[keep]),
        "pooled": check("BertModel pooler_output", model.pooled(model(ids, types, mask)).data, pooled),
        "classifier_logits": check("BertForSequenceClassification logits",
                                   model.classify(ids, None, types, mask)[0].data, classes),
    }
    arrays = dict(ids=ids, token_type_ids=types, attention_mask=mask, mlm_logits=mlm, hidden=hidden, pooled=pooled,
                  classifier_logits=classes)
    return {"sentences": SENTENCES, "wordpiece_ids": hf_ids, "differences_when_made": errors}, arrays


def bpe_case() -> dict:
    tokenizer = BPETokenizer(kind="byte")
    tokenizer.train(BPE_CORPUS, vocab_size=300, special_tokens=BPE_SPECIALS)
    model = randomized_bert(tokenizer.vocab_size, num_labels=0, seed=1)
    shutil.rmtree(BPE_FOLDER, ignore_errors=True)
    export_bert(model, BPE_FOLDER, tokenizer)
    tokenizer.save(BPE_FOLDER / "minitransformer_tokenizer.json")
    hf = Tokenizer.from_file(str(BPE_FOLDER / "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(BPE_FOLDER)
    plain, framed = [], []
    for text in HARD_TEXTS:
        ours = tokenizer.encode(text, allowed_special="all")
        plain.append(hf.encode(text, add_special_tokens=False).ids)
        framed.append(hf.encode(text).ids)
        assert plain[-1] == ours, (text, plain[-1], ours)
        assert framed[-1] == auto(text)["input_ids"], text
        assert hf.decode(plain[-1], skip_special_tokens=False) == text, text
    ids = np.array([framed[0][:SIZES["context_length"]]])
    with torch.no_grad():
        mlm = loaded(BertForMaskedLM, BPE_FOLDER)(input_ids=torch.from_numpy(ids)).logits.numpy()
    difference = check("BPE BERT: BertForMaskedLM logits", model.mlm(ids)[0].data, mlm)
    print("BPE tokenizer: tokenizers and AutoTokenizer give our ids on every hard text")
    return {"hard_texts": HARD_TEXTS, "bpe_ids": plain, "bpe_ids_with_cls_sep": framed,
            "bpe_mlm_difference_when_made": difference}


def main() -> None:
    torch.set_num_threads(1)
    record, arrays = wordpiece_case()
    record.update(bpe_case())
    versions = {name: importlib.metadata.version(name) for name in ("torch", "transformers", "tokenizers", "numpy")}
    versions["python"] = platform.python_version()
    record = {"how_made": "python benchmarks/golden/make_bert_export_golden.py (see its docstring)",
              "reference_versions": versions, **record}
    np.savez_compressed(NPZ_PATH, **arrays)
    JSON_PATH.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {WORDPIECE_FOLDER.name}/, {BPE_FOLDER.name}/, {JSON_PATH.name}, {NPZ_PATH.name}")


if __name__ == "__main__":
    main()
