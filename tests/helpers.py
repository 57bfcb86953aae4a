"""Small helpers shared by the tests."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minitransformer as mt
from minitransformer import Tensor


def leaf(array, requires_grad=True):
    """A float64 leaf tensor (gradchecks need float64)."""
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def random_leaf(shape, seed=0, low=None, high=None):
    rng = np.random.default_rng(seed)
    if low is not None:
        return leaf(rng.uniform(low, high, size=shape))
    return leaf(rng.standard_normal(shape))


def outputs_and_grads(fn, inputs, seed=7):
    """fn's output and its inputs' gradients, run on fresh copies of `inputs`, for a fixed random
    weighting of the output (so one backward checks every output element)."""
    copies = [leaf(t.data.copy()) for t in inputs]
    out = fn(*copies)
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    (out * weights).sum().backward()
    return [out.data] + [c.grad for c in copies]


def assert_same_outputs_and_grads(fn_a, fn_b, inputs, rtol=1e-9, atol=1e-10):
    """fn_a and fn_b give the same output and the same input gradients on `inputs`."""
    for a, b in zip(outputs_and_grads(fn_a, inputs), outputs_and_grads(fn_b, inputs), strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
seeds = st.integers(0, 2**16)
broadcast_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)


class Cube(mt.Function):
    """y = x^3;  dy/dx = 3 x^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


def load_golden(path_without_suffix):
    """A golden record: the JSON file and the arrays of the .npz file of the same name, as one dict."""
    import json
    from pathlib import Path

    path = Path(path_without_suffix)
    arrays = np.load(path.with_suffix(".npz"), allow_pickle=False)
    record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    return {**record, **{name: arrays[name] for name in arrays.files}}
