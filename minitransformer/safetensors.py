"""Save and load tensors in the safetensors format, using NumPy alone.

Why a special format? A checkpoint is just named arrays, but the usual Python
answer (pickle) runs arbitrary code when a file is loaded, so opening a
downloaded model would be as risky as running a downloaded program. The
safetensors format (used by Hugging Face) stores only data and a JSON
description of it, so loading can never execute anything.

A file is three parts, one after the other::

    [8 bytes]  N = length of the header, unsigned 64-bit little-endian integer
    [N bytes]  UTF-8 JSON header, padded with spaces to a multiple of 8 bytes:
                 {"__metadata__": {"key": "value", ...},          (optional)
                  "name": {"dtype": "F32", "shape": [2, 3],
                           "data_offsets": [begin, end]}, ...}
    [rest]     the data section: each tensor's raw bytes, little-endian,
               row-major (C order); begin/end are byte offsets counted from
               the start of the data section.

Every byte of the data section belongs to exactly one tensor: the tensors,
sorted by offset, are contiguous, start at 0 and end at the end of the file.

Layout written by `save_file`: tensors sorted by item size, largest first.
The header length is a multiple of 8, so the data section starts 8-byte
aligned; with bigger items first, every tensor then starts at an offset that
is a multiple of its own item size (all sizes are powers of two), so each
array could be viewed in place without copying. Ties are broken by dtype in
the order the reference implementation (Hugging Face's `safetensors`) uses,
then by name, so for the same tensors and metadata our files are
byte-identical to the reference's. `load_file` accepts any valid layout.

Data types: F64 F32 F16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL are read and
written. BF16 (bfloat16, common in Hugging Face checkpoints) is read only:
NumPy has no bfloat16, and since bfloat16 is exactly the top 16 bits of a
float32, each value is widened to float32 by shifting its bits left by 16,
which is exact. The FP8 types are not supported.

Saves are atomic (``files.atomic_open``): the file is written to a temporary name
in the same folder, flushed to disk, then renamed over the target, so an
interrupted save leaves any previous checkpoint untouched.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path

import numpy as np

from .files import atomic_open, check_input_file, parse_json

__all__ = ["CheckpointError", "save_file", "load_file", "load_metadata"]

# safetensors dtype name -> little-endian NumPy dtype, for the types we write.
_DTYPE_BY_NAME = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
# Order in which save_file lays out dtypes: item size descending, ties as in the reference implementation.
_WRITE_ORDER = ["U64", "I64", "F64", "F32", "U32", "I32", "F16", "U16", "I16", "I8", "U8", "BOOL"]
# (kind, itemsize) of a NumPy dtype -> safetensors name; byte order is ignored
# because we always write little-endian.
_NAME_BY_KIND_AND_SIZE = {(dt.kind, dt.itemsize): name for name, dt in _DTYPE_BY_NAME.items()}
_BF16_ITEMSIZE = 2
_ITEMSIZE_BY_NAME = {**{name: dt.itemsize for name, dt in _DTYPE_BY_NAME.items()}, "BF16": _BF16_ITEMSIZE}

_LENGTH_PREFIX_BYTES = 8
_HEADER_ALIGNMENT = 8
# The reference implementation refuses headers above 100 MB; so do we, so that
# a corrupt length prefix cannot make us allocate gigabytes.
_MAX_HEADER_BYTES = 100_000_000
# NumPy 1.x's limit on dimensions (2.x allows 64); real checkpoints use at most five.
_MAX_DIMS = 32
_MAX_ELEMENTS = int(np.iinfo(np.intp).max)  # NumPy counts an array's elements in a signed machine word
_METADATA_KEY = "__metadata__"
_TENSOR_INFO_KEYS = {"dtype", "shape", "data_offsets"}


class CheckpointError(ValueError):
    """A file is not a valid safetensors checkpoint; the message says which file and why."""


# ----------------------------------------------------------------------------- saving


def save_file(
    tensors: dict[str, np.ndarray],
    path: str | os.PathLike,
    metadata: dict[str, str] | None = None,
) -> None:
    """Write `tensors` (name -> array) and optional string `metadata` to `path` atomically."""
    path = Path(path)
    arrays = _checked_tensors(tensors)
    _check_metadata(metadata, where="metadata argument", error=TypeError)

    dtype_names = {name: _NAME_BY_KIND_AND_SIZE[(a.dtype.kind, a.dtype.itemsize)] for name, a in arrays.items()}
    names = sorted(arrays, key=lambda name: (_WRITE_ORDER.index(dtype_names[name]), name))
    header: dict[str, object] = {}
    if metadata:
        header[_METADATA_KEY] = dict(metadata)
    offset = 0
    for name in names:
        array = arrays[name]
        header[name] = {
            "dtype": dtype_names[name],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes

    header_bytes = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    padding = -len(header_bytes) % _HEADER_ALIGNMENT
    header_bytes += b" " * padding

    with atomic_open(path) as file:
        file.write(struct.pack("<Q", len(header_bytes)))
        file.write(header_bytes)
        for name in names:
            file.write(_tensor_bytes(arrays[name]))


def _checked_tensors(tensors) -> dict[str, np.ndarray]:
    """Validate names and arrays before anything touches the disk."""
    if not isinstance(tensors, dict):
        raise TypeError(f"tensors must be a dict of name -> np.ndarray, got {type(tensors).__name__}")
    checked = {}
    for name, array in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be strings, got {name!r} ({type(name).__name__}); "
                            f"convert it with str()")
        if name == _METADATA_KEY:
            raise ValueError(f"{_METADATA_KEY!r} is reserved for metadata; rename that tensor or pass metadata=")
        if not isinstance(array, np.ndarray):
            raise TypeError(
                f"tensor {name!r} must be a np.ndarray, got {type(array).__name__}; wrap it with np.asarray()"
            )
        if (array.dtype.kind, array.dtype.itemsize) not in _NAME_BY_KIND_AND_SIZE:
            supported = ", ".join(str(dt) for dt in _DTYPE_BY_NAME.values())
            raise TypeError(f"tensor {name!r} has dtype {array.dtype}, which safetensors cannot store; "
                            f"cast it to one of: {supported}")
        checked[name] = array
    return checked


def _check_metadata(metadata, where: str, error: type[Exception]) -> None:
    """Metadata must be a flat str -> str mapping (the format allows nothing else)."""
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise error(f"{where}: metadata must be a dict of str -> str, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise error(f"{where}: metadata must map str -> str, but {key!r} -> {value!r} does not; "
                        f"convert values with str() or json.dumps()")


def _tensor_bytes(array: np.ndarray) -> bytes:
    """The array's raw bytes, little-endian and row-major, as the format requires."""
    little_endian = array.dtype.newbyteorder("<")
    return array.astype(little_endian, copy=False).tobytes(order="C")


# ----------------------------------------------------------------------------- loading


def load_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read every tensor of a safetensors file into fresh, writable, native-endian arrays."""
    path = _existing_file(path)
    with open(path, "rb") as file:
        tensor_infos, _, data_start = _read_header(file, path)
        tensors = {}
        for name, info in tensor_infos.items():
            begin, end = info["data_offsets"]
            file.seek(data_start + begin)
            raw = file.read(end - begin)
            if len(raw) != end - begin:  # the file shrank while we were reading it
                raise CheckpointError(f"{path}: tensor {name!r} could not be read completely")
            tensors[name] = _decode_tensor(raw, info, name, path)
    return tensors


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """Return the `__metadata__` dict of a safetensors file ({} if it has none); the header is fully validated."""
    path = _existing_file(path)
    with open(path, "rb") as file:
        _, metadata, _ = _read_header(file, path)
    return metadata


def _existing_file(path) -> Path:
    """`path` as a Path; a folder or a device is refused (a missing file is left to open())."""
    path = Path(path)
    if path.exists():
        check_input_file(path, "safetensors file", CheckpointError)
    return path


def _decode_tensor(raw: bytes, info: dict, name: str, path: Path) -> np.ndarray:
    """Turn one tensor's bytes into an array that owns its (writable) memory."""
    dtype_name, shape = info["dtype"], info["shape"]
    if dtype_name == "BF16":
        # bfloat16 is the upper half of a float32: put the 16 bits back on top.
        upper_bits = np.frombuffer(raw, dtype="<u2").reshape(shape).astype(np.uint32)
        return (upper_bits << 16).view(np.float32)
    if dtype_name == "BOOL":
        bytes_ = np.frombuffer(raw, dtype=np.uint8).reshape(shape)
        if np.any(bytes_ > 1):
            raise CheckpointError(f"{path}: BOOL tensor {name!r} contains bytes other than 0 and 1")
        return bytes_.astype(np.bool_)
    stored = _DTYPE_BY_NAME[dtype_name]
    # astype to native byte order always copies here, so the result is writable.
    return np.frombuffer(raw, dtype=stored).reshape(shape).astype(stored.newbyteorder("="), copy=True)


def _read_header(file, path: Path) -> tuple[dict[str, dict], dict[str, str], int]:
    """Read and validate the header. Returns (tensor infos, metadata, byte offset of the data section)."""
    file_size = os.fstat(file.fileno()).st_size
    if file_size < _LENGTH_PREFIX_BYTES:
        raise CheckpointError(f"{path}: file is {file_size} bytes, shorter than the 8-byte header length; "
                              f"it is truncated or not a safetensors file")
    (header_length,) = struct.unpack("<Q", file.read(_LENGTH_PREFIX_BYTES))
    bytes_left = file_size - _LENGTH_PREFIX_BYTES
    if header_length > bytes_left:
        raise CheckpointError(f"{path}: header length {header_length} is larger than the {bytes_left} bytes "
                              f"that follow it; the file is truncated or not a safetensors file")
    if header_length > _MAX_HEADER_BYTES:
        raise CheckpointError(f"{path}: header length {header_length} exceeds the {_MAX_HEADER_BYTES}-byte limit")

    header = parse_json(file.read(header_length), CheckpointError, f"{path}: header is not valid UTF-8 JSON",
                        object_pairs_hook=_reject_duplicate_keys)
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: header must be a JSON object, got {type(header).__name__}")

    metadata = header.pop(_METADATA_KEY, None)
    _check_metadata(metadata, where=f"{path}: {_METADATA_KEY}", error=CheckpointError)
    for name, info in header.items():
        _check_tensor_info(name, info, path)
    data_size = bytes_left - header_length
    _check_layout(header, data_size, path)
    return header, metadata or {}, _LENGTH_PREFIX_BYTES + header_length


class _DuplicateKeyError(ValueError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    """json.loads would silently keep the last of two equal keys; a checkpoint must not be ambiguous."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(f"key {key!r} appears twice")
        result[key] = value
    return result


def _is_count(value) -> bool:
    """A non-negative JSON integer (JSON true/false would pass isinstance int, so exclude bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_tensor_info(name: str, info, path: Path) -> None:
    """One header entry must be {"dtype": known, "shape": [counts], "data_offsets": [begin, end]}, consistent."""
    where = f"{path}: tensor {name!r}"
    if not isinstance(info, dict):
        raise CheckpointError(f"{where}: entry must be a JSON object, got {type(info).__name__}")
    if set(info) != _TENSOR_INFO_KEYS:
        raise CheckpointError(f"{where}: entry has keys {sorted(info)}, expected {sorted(_TENSOR_INFO_KEYS)}")
    dtype_name, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(dtype_name, str) or dtype_name not in _ITEMSIZE_BY_NAME:
        raise CheckpointError(f"{where}: unknown or unsupported dtype {dtype_name!r}; "
                              f"supported: {', '.join(_ITEMSIZE_BY_NAME)}")
    if not isinstance(shape, list) or not all(_is_count(size) for size in shape):
        raise CheckpointError(f"{where}: shape must be a list of non-negative integers, got {shape!r}")
    if len(shape) > _MAX_DIMS:
        raise CheckpointError(f"{where}: shape has {len(shape)} dimensions, more than the {_MAX_DIMS} an array "
                              f"can have; the header is corrupt")
    if math.prod(size for size in shape if size) > _MAX_ELEMENTS:  # NumPy refuses such a shape even when empty
        raise CheckpointError(f"{where}: shape {shape} has more elements than an array can index; "
                              f"the header is corrupt")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
        raise CheckpointError(f"{where}: data_offsets must be [begin, end] non-negative integers, got {offsets!r}")
    begin, end = offsets
    if end < begin:
        raise CheckpointError(f"{where}: data_offsets {offsets} end before they begin")
    expected_bytes = math.prod(shape) * _ITEMSIZE_BY_NAME[dtype_name]
    if end - begin != expected_bytes:
        raise CheckpointError(f"{where}: data_offsets {offsets} span {end - begin} bytes, but dtype {dtype_name} "
                              f"with shape {shape} needs {expected_bytes}")


def _check_layout(tensor_infos: dict[str, dict], data_size: int, path: Path) -> None:
    """Tensors must tile the data section exactly: in range, no overlap, no gap, nothing left over."""
    for name, info in tensor_infos.items():
        begin, end = info["data_offsets"]
        if end > data_size:
            raise CheckpointError(f"{path}: tensor {name!r} data_offsets [{begin}, {end}] are out of range: "
                                  f"the data section has only {data_size} bytes (is the file truncated?)")
    by_position = sorted(tensor_infos, key=lambda name: tuple(tensor_infos[name]["data_offsets"]))
    expected_begin, previous = 0, None
    for name in by_position:
        begin, end = tensor_infos[name]["data_offsets"]
        if begin < expected_begin:
            raise CheckpointError(f"{path}: tensor {name!r} (bytes {begin}..{end}) overlaps tensor {previous!r} "
                                  f"which ends at byte {expected_begin}")
        if begin > expected_begin:
            raise CheckpointError(f"{path}: gap of {begin - expected_begin} unused bytes before tensor {name!r} "
                                  f"at byte {expected_begin}; tensors must be stored back to back")
        expected_begin, previous = end, name
    if data_size > expected_begin:
        raise CheckpointError(f"{path}: {data_size - expected_begin} bytes of trailing garbage after the last "
                              f"tensor (data section is {data_size} bytes, tensors cover {expected_begin})")
