"""Making tensors as PyTorch does: mt.tensor, zeros, ones, full, arange, randn, rand, randint, the
*_like forms, and multinomial sampling; plus the dtype names (mt.float32, mt.long, ...).

The dtype rules are torch's: Python floats give float32 (the default dtype), Python ints int64,
bools bool; a NumPy array keeps its dtype.  Random tensors come from the package's generator,
so `mt.manual_seed(0)` makes them repeatable.  Sizes may be given as zeros(2, 3) or zeros((2, 3)).
"""

from __future__ import annotations

import types

import numpy as np

from . import tensor as tensor_module
from .seed import get_rng
from .tensor import Tensor, check_device, unwrap

# torch's dtype names for NumPy's dtypes (float is float32 and double float64, as in torch)
float16, float32, float64, double, half = np.float16, np.float32, np.float64, np.float64, np.float16
int32, int64, long, bool_ = np.int32, np.int64, np.int64, np.bool_
DEFAULT_DTYPE = np.float32


def _shape(size) -> tuple:
    """(2, 3) from zeros(2, 3), zeros((2, 3)) or zeros([2, 3])."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(n) for n in size)


def _make(array, dtype, device, requires_grad) -> Tensor:
    check_device(device)
    return Tensor(array, requires_grad=requires_grad, dtype=dtype)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of data (a number, nested lists, an array or a tensor)."""
    data = unwrap(data)
    return _make(np.array(data) if isinstance(data, np.ndarray) else data, dtype, device, requires_grad)


class _CallableModule(types.ModuleType):
    """`mt.tensor` is two things, as the names fall: the module tensor.py (where Tensor lives) and,
    called, torch.tensor's constructor.  So `mt.tensor([1.0, 2.0])` makes a tensor and
    `from minitransformer import tensor` still gives the module."""

    def __call__(self, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


tensor_module.__class__ = _CallableModule


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_shape(size), dtype or DEFAULT_DTYPE), None, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_shape(size), dtype or DEFAULT_DTYPE), None, device, requires_grad)


empty = zeros  # NumPy could leave memory uninitialized; zeros keeps results repeatable


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """size filled with fill_value; the dtype follows the value (bool, int64, or float32) unless given."""
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else DEFAULT_DTYPE
    return _make(np.full(_shape((size,)), fill_value, dtype), None, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """start, start + step, ... below end (arange(n): 0..n-1); int64 for ints, float32 if any is a float."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = np.int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else DEFAULT_DTYPE
    return _make(np.arange(start, end, step, dtype=dtype), None, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples of N(0, 1)."""
    return _make(get_rng().standard_normal(_shape(size)).astype(dtype or DEFAULT_DTYPE), None, device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples of U[0, 1)."""
    return _make(get_rng().random(_shape(size)).astype(dtype or DEFAULT_DTYPE), None, device, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None) -> Tensor:
    """Integers in [low, high): randint(high, size) or randint(low, high, size), as torch.randint."""
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint needs a size, e.g. randint(10, (3,)) or randint(0, 10, (3,))")
    return _make(get_rng().integers(low, high, _shape((size,))).astype(dtype or np.int64), None, device, False)


def zeros_like(t, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad)


def multinomial(input, num_samples: int, replacement: bool = False) -> Tensor:
    """Draw num_samples category indices per row of input (weights, need not sum to 1), as torch.multinomial.

    With replacement each draw inverts the cumulative distribution at a uniform number.  Without it,
    each category gets the key E / w (E an exponential sample): the smallest keys come out in the
    order a one-by-one draw without replacement would give, with the same probabilities
    (Efraimidis & Spirakis, 2006), and a category of weight 0 (key inf) never comes before the others.
    """
    weights = np.asarray(unwrap(input), dtype=np.float64)
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-D or 2-D (rows of weights), got shape {weights.shape}")
    rows = np.atleast_2d(weights)
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise ValueError("multinomial: weights must be finite and >= 0 (got inf, NaN or a negative value)")
    if np.any(rows.sum(axis=1) == 0):
        raise ValueError("multinomial: a row of weights sums to 0, so there is nothing to draw")
    rng = get_rng()
    if replacement:
        cdf = np.cumsum(rows, axis=1)
        draws = rng.random((len(rows), num_samples)) * cdf[:, -1:]
        samples = (cdf[:, None, :] <= draws[:, :, None]).sum(axis=2)
    else:
        if num_samples > rows.shape[1]:
            raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from "
                             f"{rows.shape[1]} categories; pass replacement=True")
        with np.errstate(divide="ignore"):
            keys = rng.exponential(size=rows.shape) / rows
        samples = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    samples = np.minimum(samples, rows.shape[1] - 1).astype(np.int64)
    return Tensor._wrap(samples if weights.ndim == 2 else samples[0])
