"""Tests for minitransformer.safetensors: round trips, the on-disk layout, atomic saves, and rejection of bad files."""

import json
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minitransformer import safetensors as sf
from minitransformer.safetensors import CheckpointError, load_file, load_metadata, save_file

# NumPy dtypes save_file accepts, including big-endian ones (they must come back little/native-endian).
SAVABLE_DTYPES = ["<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "i1", "<u8", "<u4", "<u2", "u1", "?", ">f4", ">i8", ">u2"]
# What an independent reader expects to find in the header for each NumPy kind+size.
EXPECTED_DTYPE_NAME = {
    ("f", 8): "F64", ("f", 4): "F32", ("f", 2): "F16",
    ("i", 8): "I64", ("i", 4): "I32", ("i", 2): "I16", ("i", 1): "I8",
    ("u", 8): "U64", ("u", 4): "U32", ("u", 2): "U16", ("u", 1): "U8",
    ("b", 1): "BOOL",
}


def same_tensor(loaded: np.ndarray, original: np.ndarray) -> bool:
    """Equal shape, equal kind/size, and bit-identical values (so NaN payloads and -0.0 count too)."""
    little = original.astype(original.dtype.newbyteorder("<"))
    return (
        loaded.shape == original.shape
        and (loaded.dtype.kind, loaded.dtype.itemsize) == (original.dtype.kind, original.dtype.itemsize)
        and loaded.astype(loaded.dtype.newbyteorder("<")).tobytes() == little.tobytes()
    )


# ----------------------------------------------------------------------------- an independent reader


def independent_read(path):
    """A minimal reader written from the format description alone (struct + json + np.frombuffer)."""
    blob = Path(path).read_bytes()
    (header_length,) = struct.unpack("<Q", blob[:8])
    header_text = blob[8:8 + header_length].decode("utf-8")
    header = json.loads(header_text)
    data = blob[8 + header_length:]
    numpy_dtype = {name: np.dtype(f"<{kind}{size}") if kind != "b" else np.dtype("?")
                   for (kind, size), name in EXPECTED_DTYPE_NAME.items()}
    metadata = header.pop("__metadata__", {})
    arrays = {name: np.frombuffer(data[info["data_offsets"][0]:info["data_offsets"][1]],
                                  dtype=numpy_dtype[info["dtype"]]).reshape(info["shape"])
              for name, info in header.items()}
    return header_length, header_text, header, metadata, data, arrays


def test_independent_reader_agrees_with_header_layout_and_values(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {
        "emb.weight": rng.standard_normal((5, 3)).astype(np.float32),
        "count": np.array(7, dtype=np.int64),
        "mask": rng.random((2, 3)) < 0.5,
        "half": rng.standard_normal(3).astype(np.float16),
        "bytes": np.arange(5, dtype=np.uint8),
        "empty": np.zeros((0, 2), dtype=np.float64),
        "a_f32": np.ones(1, dtype=np.float32),
    }
    path = tmp_path / "model.safetensors"
    save_file(tensors, path, metadata={"step": "3"})
    header_length, header_text, header, metadata, data, arrays = independent_read(path)

    assert header_length % 8 == 0
    json_part = header_text.rstrip(" ")
    assert json_part.endswith("}") and len(header_text) - len(json_part) < 8  # padded with < 8 spaces
    assert metadata == {"step": "3"}
    assert set(header) == set(tensors)
    for name, info in header.items():
        assert info["dtype"] == EXPECTED_DTYPE_NAME[(tensors[name].dtype.kind, tensors[name].dtype.itemsize)]
        assert info["shape"] == list(tensors[name].shape)
        assert same_tensor(arrays[name], tensors[name])

    # Documented layout: item size descending then name; contiguous from 0 to the end of the file.
    names_in_file_order = sorted(header, key=lambda n: header[n]["data_offsets"])
    sizes = [tensors[n].dtype.itemsize for n in names_in_file_order]
    assert sizes == sorted(sizes, reverse=True)
    assert [n for n in names_in_file_order if tensors[n].dtype == np.float32] == ["a_f32", "emb.weight"]
    position = 0
    for name in names_in_file_order:
        begin, end = header[name]["data_offsets"]
        assert begin == position
        assert (8 + header_length + begin) % tensors[name].dtype.itemsize == 0  # each tensor is aligned
        position = end
    assert position == len(data)


# ----------------------------------------------------------------------------- round trips

tensor_dicts = st.dictionaries(
    keys=st.text(max_size=12).filter(lambda name: name != "__metadata__"),
    values=st.sampled_from(SAVABLE_DTYPES).flatmap(
        lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))),
    max_size=5,
)
metadata_dicts = st.none() | st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3)


@settings(deadline=None, max_examples=50)
@given(tensors=tensor_dicts, metadata=metadata_dicts)
def test_round_trip_preserves_every_dtype_shape_and_bit(tensors, metadata):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "round_trip.safetensors"
        save_file(tensors, path, metadata=metadata)
        loaded = load_file(path)
        assert load_metadata(path) == (metadata or {})
        assert set(loaded) == set(tensors)
        for name, original in tensors.items():
            assert same_tensor(loaded[name], original), name
        # An independent reader sees the same values.
        *_, independent_arrays = independent_read(path)
        for name, original in tensors.items():
            assert same_tensor(independent_arrays[name], original), name
        assert os.listdir(folder) == ["round_trip.safetensors"]  # no temp file left behind


def test_loaded_arrays_are_writable_native_and_independent_of_the_file(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file({"w": np.arange(6, dtype=">f4").reshape(2, 3), "s": np.array(2.5)}, path)
    first = load_file(path)
    for array in first.values():
        assert array.flags.writeable
        assert array.dtype.isnative
    assert first["s"].shape == ()
    first["w"][0, 0] = 100.0
    assert load_file(path)["w"][0, 0] == 0.0


def test_empty_checkpoint_round_trips(tmp_path):
    path = tmp_path / "empty.safetensors"
    save_file({}, path)
    assert load_file(path) == {}
    assert load_metadata(path) == {}


def test_non_contiguous_input_is_saved_in_row_major_order(tmp_path):
    path = tmp_path / "t.safetensors"
    transposed = np.arange(12, dtype=np.int32).reshape(3, 4).T
    save_file({"t": transposed}, path)
    np.testing.assert_array_equal(load_file(path)["t"], transposed)


def test_bf16_is_loaded_as_exact_float32(tmp_path):
    # Values whose float32 form has zero low 16 bits are exactly representable in bfloat16; the bf16
    # encoding of such a value is the upper two bytes of its little-endian float32 bytes.
    values = [1.0, -2.5, 3.140625, 0.0, -0.0, float("inf"), 65536.0, 2.0 ** -130]
    bf16_bytes = b"".join(struct.pack("<f", v)[2:4] for v in values)
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(raw_file({"w": {"dtype": "BF16", "shape": [2, 4], "data_offsets": [0, 16]}}, bf16_bytes))
    loaded = load_file(path)["w"]
    assert loaded.dtype == np.float32
    expected = np.array(values, dtype=np.float32).reshape(2, 4)
    assert loaded.tobytes() == expected.tobytes()


# ----------------------------------------------------------------------------- atomic saves


def fail_on_second_call(exception):
    calls = []
    original = sf._tensor_bytes

    def flaky(array):
        calls.append(1)
        if len(calls) == 2:
            raise exception
        return original(array)

    return flaky


@pytest.mark.parametrize("exception", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_save_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch, exception):
    path = tmp_path / "ckpt.safetensors"
    old = {"a": np.arange(3, dtype=np.float32)}
    save_file(old, path, metadata={"version": "1"})
    old_bytes = path.read_bytes()

    monkeypatch.setattr(sf, "_tensor_bytes", fail_on_second_call(exception))
    new = {"a": np.zeros(3, dtype=np.float32), "b": np.ones(2), "c": np.ones(2, dtype=np.int8)}
    with pytest.raises(type(exception)):
        save_file(new, path, metadata={"version": "2"})

    assert path.read_bytes() == old_bytes
    assert load_metadata(path) == {"version": "1"}
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_failure_at_fsync_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save_file({"a": np.arange(3)}, path)
    old_bytes = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("fsync failed")

    monkeypatch.setattr(sf.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="fsync failed"):
        save_file({"a": np.zeros(3)}, path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_failed_first_save_creates_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(sf, "_tensor_bytes", fail_on_second_call(OSError("boom")))
    with pytest.raises(OSError):
        save_file({"a": np.ones(1), "b": np.ones(1)}, tmp_path / "new.safetensors")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- bad arguments to save_file


@pytest.mark.parametrize(
    "tensors, metadata, error, fragment",
    [
        ({1: np.ones(1)}, None, TypeError, "names must be strings"),
        ({"__metadata__": np.ones(1)}, None, ValueError, "reserved"),
        ({"w": [1.0, 2.0]}, None, TypeError, "np.asarray"),
        ({"w": np.array(["a"])}, None, TypeError, "cannot store"),
        ({"w": np.ones(2, dtype=np.complex64)}, None, TypeError, "cannot store"),
        ({"w": np.ones(2)}, {"step": 3}, TypeError, "str -> str"),
        ({"w": np.ones(2)}, [("a", "b")], TypeError, "must be a dict"),
        ([np.ones(2)], None, TypeError, "must be a dict"),
    ],
)
def test_save_rejects_bad_input_before_touching_disk(tmp_path, tensors, metadata, error, fragment):
    with pytest.raises(error, match=fragment):
        save_file(tensors, tmp_path / "x.safetensors", metadata=metadata)
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- corrupt files


def raw_file(header, data: bytes = b"", pad: bool = True) -> bytes:
    """Build file bytes by hand from a header (dict/list, or raw bytes) and a data section."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode("utf-8")
    if pad:
        header_bytes += b" " * (-len(header_bytes) % 8)
    return struct.pack("<Q", len(header_bytes)) + header_bytes + data


def f32(offsets, shape=(1,)):
    return {"dtype": "F32", "shape": list(shape), "data_offsets": list(offsets)}


CORRUPT_FILES = [
    ("empty file", b"", "shorter than the 8-byte header length"),
    ("five bytes", b"\x01\x02\x03\x04\x05", "shorter than the 8-byte header length"),
    ("header longer than file", struct.pack("<Q", 1000) + b"{}", "header length 1000 is larger than the 2 bytes"),
    ("huge header length", struct.pack("<Q", 2 ** 63) + b"{}      ", "is larger than"),
    ("not json", raw_file(b"{not json"), "not valid UTF-8 JSON"),
    ("not utf-8", raw_file(b'{"\xff":1}'), "not valid UTF-8 JSON"),
    ("header is a list", raw_file([1, 2]), "must be a JSON object, got list"),
    ("duplicate name", raw_file(b'{"w":' + json.dumps(f32([0, 4])).encode() + b',"w":'
                                + json.dumps(f32([4, 8])).encode() + b"}", b"\0" * 8), "'w' appears twice"),
    ("unknown dtype", raw_file({"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8),
     "unsupported dtype 'C64'"),
    ("fp8 dtype", raw_file({"w": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}, b"\0"),
     "unsupported dtype 'F8_E4M3'"),
    ("entry not an object", raw_file({"w": [0, 4]}, b"\0" * 4), "entry must be a JSON object"),
    ("missing key", raw_file({"w": {"dtype": "F32", "shape": [1]}}, b"\0" * 4), "expected ['data_offsets'"),
    ("extra key", raw_file({"w": {**f32([0, 4]), "stride": [1]}}, b"\0" * 4), "'stride'"),
    ("negative shape", raw_file({"w": f32([0, 4], shape=(-1,))}, b"\0" * 4), "shape must be a list of non-negative"),
    ("boolean shape", raw_file({"w": f32([0, 4], shape=(True,))}, b"\0" * 4), "shape must be a list of non-negative"),
    ("float offsets", raw_file({"w": f32([0, 4.0])}, b"\0" * 4), "data_offsets must be [begin, end]"),
    ("three offsets", raw_file({"w": f32([0, 4, 8])}, b"\0" * 8), "data_offsets must be [begin, end]"),
    ("end before begin", raw_file({"w": f32([4, 0], shape=(0,))}, b"\0" * 4), "end before they begin"),
    ("size mismatch", raw_file({"w": f32([0, 4], shape=(2,))}, b"\0" * 4),
     "span 4 bytes, but dtype F32 with shape [2] needs 8"),
    ("offsets past the end", raw_file({"w": f32([0, 8], shape=(2,))}, b"\0" * 4), "out of range"),
    ("overlap", raw_file({"a": f32([0, 4]), "b": f32([0, 4])}, b"\0" * 4), "overlaps tensor"),
    ("gap", raw_file({"a": f32([4, 8])}, b"\0" * 8), "gap of 4 unused bytes"),
    ("trailing garbage", raw_file({"a": f32([0, 4])}, b"\0" * 4 + b"junk"), "4 bytes of trailing garbage"),
    ("metadata not str", raw_file({"__metadata__": {"step": 3}}), "metadata must map str -> str"),
    ("metadata not dict", raw_file({"__metadata__": "x"}), "metadata must be a dict"),
    ("bool byte 2", raw_file({"m": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x02"),
     "other than 0 and 1"),
]


@pytest.mark.parametrize("description, blob, fragment", CORRUPT_FILES, ids=[c[0] for c in CORRUPT_FILES])
def test_corrupt_file_raises_checkpoint_error_naming_file_and_problem(tmp_path, description, blob, fragment):
    path = tmp_path / "broken_model.safetensors"
    path.write_bytes(blob)
    with pytest.raises(CheckpointError) as caught:
        load_file(path)
    message = str(caught.value)
    assert "broken_model.safetensors" in message
    assert fragment in message
    assert isinstance(caught.value, ValueError)


def test_load_metadata_validates_the_whole_header(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(raw_file({"__metadata__": {"a": "b"}, "w": f32([0, 4])}, b"\0" * 8))
    with pytest.raises(CheckpointError, match="trailing garbage"):
        load_metadata(path)


def test_every_truncation_of_a_valid_file_is_rejected(tmp_path):
    good = tmp_path / "good.safetensors"
    save_file({"w": np.arange(10, dtype=np.float32), "b": np.arange(3, dtype=np.int8)}, good)
    blob = good.read_bytes()
    cut = tmp_path / "cut.safetensors"
    for length in range(len(blob)):
        cut.write_bytes(blob[:length])
        with pytest.raises(CheckpointError, match="cut.safetensors"):
            load_file(cut)


@settings(deadline=None, max_examples=50)
@given(data=st.data())
def test_flipping_a_header_byte_gives_a_checkpoint_error_or_a_valid_load(data):
    """Tampering may happen to produce another valid file, but must never crash with an unrelated exception."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.safetensors"
        save_file({"w": np.arange(4, dtype=np.float32), "m": np.array([True, False])}, path, {"k": "v"})
        blob = bytearray(path.read_bytes())
        (header_length,) = struct.unpack("<Q", bytes(blob[:8]))
        position = data.draw(st.integers(0, 8 + header_length - 1))
        blob[position] = data.draw(st.integers(0, 255).filter(lambda b: b != blob[position]))
        path.write_bytes(bytes(blob))
        try:
            loaded = load_file(path)
        except CheckpointError as error:
            assert "t.safetensors" in str(error)
        else:
            assert all(isinstance(array, np.ndarray) for array in loaded.values())
