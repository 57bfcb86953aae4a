"""Checkpoints: the file read back by an independent reader, bit-identical resumption of training,
and clear errors for corrupt, truncated, mismatched and half-written files."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest

import minitransformer as mt
from minitransformer import nn, optim
from minitransformer import functional as F
from minitransformer import safetensors as sf
from minitransformer.seed import get_rng_state, set_rng_state

VOCAB, D_MODEL, N_HEADS, D_FF, T = 7, 8, 2, 16, 5


class TinyLM(nn.Module):
    """Embedding -> one causal transformer block (with dropout) -> layer norm -> vocabulary logits."""

    def __init__(self, d_model=D_MODEL, dropout=0.1):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d_model)
        self.blocks = nn.ModuleList([nn.TransformerBlock(d_model, N_HEADS, D_FF, dropout=dropout)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, VOCAB)

    def forward(self, ids):
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, is_causal=True)
        return self.head(self.ln_f(x))


def batch(step):
    """Deterministic data: a different (2, T+1) token batch for every step."""
    ids = np.random.default_rng(1000 + step).integers(0, VOCAB, size=(2, T + 1))
    return ids[:, :-1], ids[:, 1:]


def train(model, optimizer, steps, schedule):
    for step in steps:
        optim.set_lr(optimizer, schedule(step))
        inputs, targets = batch(step)
        loss = F.cross_entropy(model(inputs).reshape(-1, VOCAB), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()


OPTIMIZERS = {
    "adamw": lambda model: optim.AdamW(optim.weight_decay_groups(model, 0.1), lr=1e-2, betas=(0.9, 0.95)),
    "sgd_momentum": lambda model: optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
}


def model_and_optimizer(kind, seed):
    mt.manual_seed(seed)
    model = TinyLM()
    return model, OPTIMIZERS[kind](model)


# ---------------------------------------------------------------------------------------------
# Resuming is bit-identical
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_resuming_from_a_checkpoint_is_bit_identical(kind, tmp_path):
    n, m = 3, 3
    schedule = optim.WarmupCosine(max_lr=1e-2 if kind == "adamw" else 0.1, total=n + m, warmup=2)

    model, optimizer = model_and_optimizer(kind, seed=0)
    train(model, optimizer, range(n + m), schedule)
    uninterrupted = model.state_dict()

    model, optimizer = model_and_optimizer(kind, seed=0)
    train(model, optimizer, range(n), schedule)
    # dropout draws from the engine's generator, so its state travels in the metadata
    path = mt.save(tmp_path / "run" / "step3.safetensors", model, optimizer, step=n, rng_state=get_rng_state())
    del model, optimizer

    mt.manual_seed(99)  # the generator and the fresh model's weights are now unrelated to the run
    model, optimizer = model_and_optimizer(kind, seed=123)
    assert not np.array_equal(model.head.weight.data, uninterrupted["head.weight"])
    checkpoint = mt.load(path, model, optimizer)
    set_rng_state(checkpoint.metadata["rng_state"])
    train(model, optimizer, range(checkpoint.metadata["step"], n + m), schedule)

    resumed = model.state_dict()
    assert resumed.keys() == uninterrupted.keys()
    for name in uninterrupted:
        assert resumed[name].dtype == np.float32
        np.testing.assert_array_equal(resumed[name], uninterrupted[name], err_msg=name)


def test_resuming_without_the_optimizer_state_would_differ(tmp_path):
    """The check above can fail: restarting the optimizer from scratch gives other weights."""
    schedule = optim.Constant(1e-2)
    model, optimizer = model_and_optimizer("adamw", seed=0)
    model.eval()
    train(model, optimizer, range(4), schedule)
    uninterrupted = model.state_dict()
    model, optimizer = model_and_optimizer("adamw", seed=0)
    model.eval()
    train(model, optimizer, range(2), schedule)
    path = mt.save(tmp_path / "weights_only.safetensors", model)
    model, optimizer = model_and_optimizer("adamw", seed=5)
    model.eval()
    mt.load(path, model)
    train(model, optimizer, range(2, 4), schedule)
    assert not np.array_equal(model.head.weight.data, uninterrupted["head.weight"])


def test_load_returns_weights_metadata_and_optimizer_state(tmp_path):
    model, optimizer = model_and_optimizer("adamw", seed=0)
    train(model, optimizer, range(1), optim.Constant(1e-2))
    path = mt.save(tmp_path / "c.safetensors", model, optimizer, step=1, config={"d_model": D_MODEL, "name": "tiny"})
    checkpoint = mt.load(path)
    assert isinstance(checkpoint, mt.Checkpoint) and checkpoint.path == path
    assert checkpoint.metadata == {"step": 1, "config": {"d_model": D_MODEL, "name": "tiny"}}
    assert sorted(checkpoint.weights) == sorted(model.state_dict())
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(checkpoint.weights[name], value)
    state = checkpoint.optimizer_state
    assert state["type"] == "AdamW"
    assert state["param_groups"][0]["betas"] == (0.9, 0.95)
    assert_same_optimizer_state(state, optimizer.state_dict())


def assert_same_optimizer_state(loaded, expected):
    assert [g["params"] for g in loaded["param_groups"]] == [g["params"] for g in expected["param_groups"]]
    assert loaded["state"].keys() == expected["state"].keys()
    for index, entries in expected["state"].items():
        assert loaded["state"][index].keys() == entries.keys()
        for name, value in entries.items():
            assert np.array_equal(loaded["state"][index][name], value), (index, name)


def test_metadata_must_be_json_and_nothing_is_written_otherwise(tmp_path):
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="JSON-serializable"):
        mt.save(tmp_path / "bad.safetensors", model, when=object())
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# The file, read by an independent reader
# ---------------------------------------------------------------------------------------------


def read_safetensors(path):
    """Parse a safetensors file from the format's description alone: struct + json + np.frombuffer."""
    blob = Path(path).read_bytes()
    (header_length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_length].decode("utf-8"))
    data = blob[8 + header_length:]
    dtypes = {"F32": "<f4", "F64": "<f8", "I64": "<i8"}
    metadata = header.pop("__metadata__")
    arrays = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        arrays[name] = np.frombuffer(data[begin:end], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return header_length, header, metadata, data, arrays


def test_checkpoint_file_parsed_by_an_independent_reader(tmp_path):
    model, optimizer = model_and_optimizer("adamw", seed=0)
    train(model, optimizer, range(2), optim.Constant(1e-2))
    path = mt.save(tmp_path / "c.safetensors", model, optimizer, step=2)
    header_length, header, metadata, data, arrays = read_safetensors(path)

    assert header_length % 8 == 0
    # every byte of the data section belongs to exactly one tensor, in offset order
    spans = sorted(info["data_offsets"] for info in header.values())
    assert spans[0][0] == 0 and spans[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))

    weights = model.state_dict()
    for name, value in weights.items():  # model weights under their own dotted names
        assert header[name]["dtype"] == "F32" and header[name]["shape"] == list(value.shape)
        np.testing.assert_array_equal(arrays[name], value)
    assert "blocks.0.attn.q_proj.weight" in arrays and "blocks.0.mlp.fc2.bias" in arrays

    saved = optimizer.state_dict()
    index_of_head = [id(p) for group in optimizer.param_groups for p in group["params"]].index(id(model.head.weight))
    for name in ("exp_avg", "exp_avg_sq"):
        stored = arrays[f"optimizer/state/{index_of_head}/{name}"]
        np.testing.assert_array_equal(stored, saved["state"][index_of_head][name])
    optimizer_keys = {k for k in arrays if k.startswith("optimizer/")}
    assert len(optimizer_keys) == 2 * len(model.parameters())
    assert set(arrays) == set(weights) | optimizer_keys

    assert metadata["minitransformer"] == "1"
    assert json.loads(metadata["metadata"]) == {"step": 2}
    optimizer_header = json.loads(metadata["optimizer"])
    assert optimizer_header["type"] == "AdamW"
    assert optimizer_header["param_groups"][0]["weight_decay"] == 0.1
    assert optimizer_header["param_groups"][1]["weight_decay"] == 0.0
    assert optimizer_header["scalar_state"][str(index_of_head)] == {"step": 2}


# ---------------------------------------------------------------------------------------------
# Bad files fail with clear messages
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def saved_linear(tmp_path):
    mt.manual_seed(0)
    model = nn.Linear(3, 4)
    optimizer = optim.AdamW(model.parameters(), lr=0.1)
    model(mt.Tensor(np.ones((2, 3), np.float32))).sum().backward()
    optimizer.step()
    return mt.save(tmp_path / "linear.safetensors", model, optimizer), model


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.safetensors"):
        mt.load(tmp_path / "nothere.safetensors", nn.Linear(3, 4))


@pytest.mark.parametrize("damage", ["garbage", "tiny", "truncated", "header_json", "header_length"])
def test_corrupt_and_truncated_files_name_the_file(saved_linear, damage):
    path, _ = saved_linear
    blob = bytearray(path.read_bytes())
    if damage == "garbage":
        blob = bytearray(np.random.default_rng(0).integers(0, 256, size=len(blob), dtype=np.uint8).tobytes())
    elif damage == "tiny":
        blob = blob[:5]
    elif damage == "truncated":
        blob = blob[:-7]
    elif damage == "header_json":
        blob[8] = ord("[")
    elif damage == "header_length":
        blob[:8] = struct.pack("<Q", struct.unpack("<Q", blob[:8])[0] - 8)
    path.write_bytes(bytes(blob))
    with pytest.raises(mt.CheckpointError, match="linear.safetensors"):
        mt.load(path, nn.Linear(3, 4))


def test_corrupt_metadata_json_and_unknown_version(tmp_path):
    arrays = {"weight": np.zeros((4, 3), np.float32), "bias": np.zeros(4, np.float32)}
    bad_json = tmp_path / "bad_json.safetensors"
    sf.save_file(arrays, bad_json, metadata={"minitransformer": "1", "metadata": "{not json"})
    with pytest.raises(mt.CheckpointError, match=r"bad_json.safetensors.*not valid JSON"):
        mt.load(bad_json)
    future = tmp_path / "future.safetensors"
    sf.save_file(arrays, future, metadata={"minitransformer": "99"})
    with pytest.raises(mt.CheckpointError, match=r"future.safetensors.*version '99'"):
        mt.load(future)
    # a plain safetensors file (e.g. from Hugging Face) has no minitransformer header: weights still load
    plain = tmp_path / "plain.safetensors"
    sf.save_file(arrays, plain)
    model = nn.Linear(3, 4)
    checkpoint = mt.load(plain, model)
    assert checkpoint.metadata == {} and checkpoint.optimizer_state is None
    np.testing.assert_array_equal(model.weight.data, 0.0)


def test_wrong_shape_names_the_file_the_key_and_both_shapes(saved_linear):
    path, _ = saved_linear
    model = nn.Linear(3, 5)
    before = model.state_dict()
    with pytest.raises(mt.CheckpointError, match=r"linear.safetensors.*'weight'.*\(4, 3\).*\(5, 3\)"):
        mt.load(path, model)
    for name, value in model.state_dict().items():  # nothing was half-loaded
        np.testing.assert_array_equal(value, before[name])


def test_missing_and_unexpected_keys(saved_linear):
    path, saved_model = saved_linear
    with pytest.raises(mt.CheckpointError, match=r"linear.safetensors.*unexpected keys \['bias'\].*strict=False"):
        mt.load(path, nn.Linear(3, 4, bias=False))
    model = nn.Linear(3, 4, bias=False)
    mt.load(path, model, strict=False)
    np.testing.assert_array_equal(model.weight.data, saved_model.weight.data)
    no_bias = mt.save(path.with_name("no_bias.safetensors"), model)
    with pytest.raises(mt.CheckpointError, match=r"no_bias.safetensors.*missing keys \['bias'\]"):
        mt.load(no_bias, nn.Linear(3, 4))


def test_optimizer_state_absent_or_of_another_type_is_a_clear_error(tmp_path, saved_linear):
    path, _ = saved_linear
    model = nn.Linear(3, 4)
    untouched = model.weight.data.copy()
    with pytest.raises(mt.CheckpointError, match=r"linear.safetensors.*holds AdamW state, not SGD"):
        mt.load(path, model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    np.testing.assert_array_equal(model.weight.data, untouched)  # a refused load changes nothing
    with pytest.raises(mt.CheckpointError, match=r"holds AdamW state, not Adam"):
        mt.load(path, model, optim.Adam(model.parameters()))
    weights_only = mt.save(tmp_path / "weights_only.safetensors", model)
    with pytest.raises(mt.CheckpointError, match=r"weights_only.safetensors.*no optimizer state.*optimizer="):
        mt.load(weights_only, model, optim.AdamW(model.parameters()))


def test_optimizer_with_other_groups_is_a_clear_error(saved_linear):
    path, _ = saved_linear
    model = nn.Linear(3, 4)
    two_groups = optim.AdamW([{"params": [model.weight]}, {"params": [model.bias]}])
    with pytest.raises(mt.CheckpointError, match=r"linear.safetensors.*parameter groups"):
        mt.load(path, model, two_groups)


def test_interrupted_save_leaves_the_previous_checkpoint_loadable(saved_linear, monkeypatch):
    path, saved_model = saved_linear
    original_bytes = path.read_bytes()
    model = nn.Linear(3, 4)
    model.weight.data[...] = 42.0
    calls = []
    real_tensor_bytes = sf._tensor_bytes

    def crash_on_second_tensor(array):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("power cut mid-write")
        return real_tensor_bytes(array)

    monkeypatch.setattr(sf, "_tensor_bytes", crash_on_second_tensor)
    with pytest.raises(KeyboardInterrupt):
        mt.save(path, model, optim.AdamW(model.parameters()))
    assert len(calls) == 2  # the crash really happened mid-write, after one tensor was written
    monkeypatch.undo()

    assert path.read_bytes() == original_bytes
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    restored = nn.Linear(3, 4)
    mt.load(path, restored, optim.AdamW(restored.parameters()))
    np.testing.assert_array_equal(restored.weight.data, saved_model.weight.data)
