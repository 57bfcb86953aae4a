"""BERT out: export_bert writes folders that Hugging Face opens with our outputs, and that load back.

Golden files: tests/data/bert_export/ and bert_export_bpe/ were written by export_bert, opened by
transformers (BertForMaskedLM, BertModel, BertForSequenceClassification, AutoTokenizer) and by
tokenizers, and what those computed is in bert_export_golden.{json,npz}; all made by
benchmarks/golden/make_bert_export_golden.py.  No torch here.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import load_golden

from minitransformer.models import BERT, GPT, bert_config, gpt_config
from minitransformer.pretrained import export_bert, load_bert_folder
from minitransformer.tokenizers import BPETokenizer, CharTokenizer, WordPieceTokenizer
from minitransformer.tokenizers.hf_tokenizer_json import load_tokenizer_json, to_tokenizer_json

DATA = Path(__file__).parent / "data"
WORDPIECE_FOLDER, BPE_FOLDER = DATA / "bert_export", DATA / "bert_export_bpe"
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def golden():
    return load_golden(DATA / "bert_export_golden")


@pytest.fixture(scope="module")
def exported():
    return load_bert_folder(WORDPIECE_FOLDER)


def test_transformers_computed_our_outputs(exported, golden):
    model, _ = exported
    ids, types, mask = golden["ids"], golden["token_type_ids"], golden["attention_mask"]
    keep = mask.astype(bool)  # padding positions: nothing reads them
    assert (~keep).any() and types.any()  # the batch has padding and a second segment
    close = dict(rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(model.mlm(ids, None, types, mask)[0].data[keep], golden["mlm_logits"][keep], **close)
    hidden = model(ids, types, mask)
    np.testing.assert_allclose(hidden.data[keep], golden["hidden"][keep], **close)
    np.testing.assert_allclose(model.pooled(hidden).data, golden["pooled"], **close)
    np.testing.assert_allclose(model.classify(ids, None, types, mask)[0].data, golden["classifier_logits"], **close)


def test_the_exported_vocab_gives_hugging_faces_ids(exported, golden):
    _, tokenizer = exported
    for sentence, expected in zip(golden["sentences"], golden["wordpiece_ids"]):
        assert tokenizer.encode(sentence).input_ids == expected


def test_exporting_again_writes_the_same_files(tmp_path, exported):
    model, tokenizer = exported
    folder = export_bert(model, tmp_path / "again", tokenizer)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"]
    for name in names:
        assert (folder / name).read_bytes() == (WORDPIECE_FOLDER / name).read_bytes(), name
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["BertForSequenceClassification"] and len(config["id2label"]) == 3


def test_a_byte_level_bpe_exports_as_tokenizer_json_with_our_ids(golden):
    tokenizer = BPETokenizer.load(BPE_FOLDER / "minitransformer_tokenizer.json")
    stored = json.loads((BPE_FOLDER / "tokenizer.json").read_text(encoding="utf-8"))
    assert stored == json.loads(json.dumps(to_tokenizer_json(tokenizer, stored["post_processor"])))
    assert stored["post_processor"]["type"] == "TemplateProcessing"  # [CLS] text [SEP], as BERT's
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    read_back = load_tokenizer_json(BPE_FOLDER / "tokenizer.json")
    for text, plain, framed in zip(golden["hard_texts"], golden["bpe_ids"], golden["bpe_ids_with_cls_sep"]):
        assert tokenizer.encode(text, allowed_special="all") == plain, repr(text)
        assert framed == [cls, *plain, sep]
        assert read_back.encode(text, allowed_special="all") == plain


def test_export_bert_writes_the_bpe_folder_we_stored(tmp_path):
    tokenizer = BPETokenizer.load(BPE_FOLDER / "minitransformer_tokenizer.json")
    model = BERT(bert_config("micro", vocab_size=tokenizer.vocab_size, context_length=16))
    folder = export_bert(model, tmp_path / "bpe", tokenizer)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        assert (folder / name).read_bytes() == (BPE_FOLDER / name).read_bytes(), name
    assert json.loads((folder / "config.json").read_text())["architectures"] == ["BertForMaskedLM"]


def micro_bert(num_labels=0, **overrides):
    model = BERT(bert_config("micro", vocab_size=30, num_labels=num_labels, **overrides))
    rng = np.random.default_rng(0)
    for p in model.parameters():
        p.data = rng.standard_normal(p.shape).astype(np.float32)
    return model.eval()


@pytest.mark.parametrize("num_labels", [0, 2])
def test_export_then_load_gives_the_same_model(tmp_path, num_labels):
    model = micro_bert(num_labels)
    vocab = [*(f"[{name}]" for name in ("PAD", "UNK", "CLS", "SEP", "MASK")), *(f"w{i}" for i in range(25))]
    loaded, tokenizer = load_bert_folder(export_bert(model, tmp_path / "m", WordPieceTokenizer(vocab)))
    ids = np.array([[2, 7, 8, 9, 3, 0], [2, 11, 3, 12, 3, 0]])
    mask = (ids != 0).astype(np.int64)
    np.testing.assert_array_equal(loaded.mlm(ids, attention_mask=mask)[0].data, model.mlm(ids, attention_mask=mask)[0].data)
    np.testing.assert_array_equal(loaded.pooled(loaded(ids)).data, model.pooled(model(ids)).data)
    assert loaded.config.num_labels == num_labels and loaded.load_report.left_at_init == ()
    if num_labels:
        np.testing.assert_array_equal(loaded.classify(ids)[0].data, model.classify(ids)[0].data)
    assert tokenizer.get_vocab() == {token: i for i, token in enumerate(vocab)}


@pytest.mark.parametrize("model, tokenizer, error, message", [
    (GPT(gpt_config("micro")), None, TypeError, "export_bert needs a BERT model, got GPT"),
    (BERT(bert_config("micro", norm="rmsnorm")), None, ValueError, "norm='rmsnorm'; it cannot be exported"),
    (BERT(bert_config("micro", activation="relu")), None, ValueError, "only activation='gelu' exports exactly"),
    (BERT(bert_config("micro", positions="relative")), None, ValueError, r"\(positions='relative'\).*tiny-paper"),
    (BERT(bert_config("micro", pre_norm=True)), None, ValueError, r"paper's architecture \(pre_norm=True\)"),
    (BERT(bert_config("tiny")), None, ValueError, "positions='relative', local_start=True, pre_norm=True, embedding_norm=False, "
     "segment_embeddings=False, mlm_head_transform=False"),
    (BERT(bert_config("micro")), CharTokenizer(list("abc")), TypeError, "WordPiece .* or byte-level BPE"),
    (BERT(bert_config("micro", vocab_size=3)), WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]),
     ValueError, "the tokenizer has 5 tokens but the model's vocab_size is 3"),
])
def test_what_cannot_be_exported_is_refused_before_writing(tmp_path, model, tokenizer, error, message):
    with pytest.raises(error, match=message):
        export_bert(model, tmp_path / "out", tokenizer)
    assert not (tmp_path / "out").exists()
