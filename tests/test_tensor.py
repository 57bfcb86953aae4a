"""The autograd engine: every primitive against finite differences, and the graph's bookkeeping."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitransformer as mt
from minitransformer import Tensor, gradcheck, no_grad
from helpers import Cube, broadcast_pairs, leaf, random_leaf, seeds, shapes

BINARY_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("name", sorted(BINARY_OPS))
@given(pair=broadcast_pairs, seed=seeds)
def test_binary_ops_broadcast_gradcheck(name, pair, seed):
    shape_a, shape_b = pair.input_shapes
    a = random_leaf(shape_a, seed)
    b = random_leaf(shape_b, seed + 1, low=0.5, high=2.0) if name == "div" else random_leaf(shape_b, seed + 1)
    assert gradcheck(BINARY_OPS[name], [a, b])
    out = BINARY_OPS[name](a, b)
    assert out.shape == pair.result_shape


@given(shape=shapes, seed=seeds)
def test_scalar_operands_in_both_orders(shape, seed):
    a = random_leaf(shape, seed, low=0.5, high=2.0)
    for fn in (lambda x: 2 + x, lambda x: 2 - x, lambda x: 3 * x, lambda x: 2 / x, lambda x: x - 1.5,
               lambda x: x / 4, lambda x: x ** 3, lambda x: 2.0 ** x, lambda x: x ** 0.5, lambda x: -x):
        assert gradcheck(fn, [a])


@given(pair=broadcast_pairs, seed=seeds)
def test_tensor_power_tensor(pair, seed):
    shape_a, shape_b = pair.input_shapes
    a = random_leaf(shape_a, seed, low=0.5, high=2.0)
    b = random_leaf(shape_b, seed + 1)
    assert gradcheck(lambda x, y: x ** y, [a, b])


def test_numpy_array_operands_in_both_orders():
    a = random_leaf((2, 3))
    c = np.arange(3.0)
    assert gradcheck(lambda x: c * x + x - c, [a])
    out = c + a
    assert isinstance(out, Tensor) and out.shape == (2, 3)


matmul_shapes = st.sampled_from([
    ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (4, 3, 2)), ((1, 2, 3), (4, 3, 2)), ((4, 2, 3), (3,)),
])


@given(shapes=matmul_shapes, seed=seeds)
def test_matmul_batched_and_broadcast(shapes, seed):
    a, b = random_leaf(shapes[0], seed), random_leaf(shapes[1], seed + 1)
    assert gradcheck(lambda x, y: x @ y, [a, b])
    np.testing.assert_allclose((a @ b).data, a.data @ b.data)


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_add_shape_mismatch_is_an_error():
    with pytest.raises(ValueError):
        Tensor(np.ones((2, 3))) + Tensor(np.ones((4,)))


UNARY = {
    "exp": (lambda x: x.exp(), None),
    "log": (lambda x: x.log(), (0.3, 3.0)),
    "sqrt": (lambda x: x.sqrt(), (0.3, 3.0)),
    "tanh": (lambda x: x.tanh(), None),
    "sigmoid": (lambda x: x.sigmoid(), None),
    "neg": (lambda x: -x, None),
    "erf": (lambda x: x.erf(), None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes, seed=seeds)
def test_unary_gradcheck(name, shape, seed):
    fn, domain = UNARY[name]
    x = random_leaf(shape, seed, *(domain or (None, None)))
    assert gradcheck(fn, [x])


@given(shape=shapes, seed=seeds)
def test_relu_gradcheck_away_from_kink(shape, seed):
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1, 1], size=shape)
    assert gradcheck(lambda x: x.relu(), [leaf(values)])


def test_erf_values_and_dtype():
    x = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(leaf(x).erf().data, [math.erf(v) for v in x], atol=1.3e-7)
    assert Tensor(x.astype(np.float32)).erf().dtype == np.float32


def test_sigmoid_is_stable_for_huge_inputs():
    out = Tensor(np.array([-1e4, 0.0, 1e4], dtype=np.float32)).sigmoid()
    np.testing.assert_allclose(out.data, [0.0, 0.5, 1.0])


dims = st.sampled_from([None, 0, -1, (0,), (0, -1)])


def reduce(x, method, dim, keepdim):
    """x.<method>(dim, keepdim); max and min take one dim and give (values, indices), as in torch,
    so several dims go to amax/amin."""
    if method in ("max", "min") and dim is not None:
        if isinstance(dim, int):
            return getattr(x, method)(dim=dim, keepdim=keepdim).values
        return getattr(x, "a" + method)(dim=dim, keepdim=keepdim)
    if method in ("max", "min"):
        return getattr(x, method)()
    return getattr(x, method)(dim=dim, keepdim=keepdim)


@pytest.mark.parametrize("method", ["sum", "mean", "max", "min", "var"])
@given(shape=shapes, dim=dims, keepdim=st.booleans(), seed=seeds)
def test_reductions_gradcheck(method, shape, dim, keepdim, seed):
    if dim is not None and len({d % len(shape) for d in ((dim,) if isinstance(dim, int) else dim)}) < len(
            (dim,) if isinstance(dim, int) else dim):
        with pytest.raises(ValueError, match="same axis twice"):
            random_leaf(shape, seed).sum(dim=dim)
        return
    if method in ("max", "min") and dim is None:
        keepdim = False  # x.max() takes no keepdim
    x = random_leaf(shape, seed)
    out = reduce(x, method, dim, keepdim)
    if method == "var":
        size = np.prod(shape) if dim is None else np.prod([shape[d] for d in ((dim,) if isinstance(dim, int) else dim)])
        if size < 2:  # the unbiased variance of one element divides 0 by 0: NaN, as in torch
            assert np.isnan(out.data).all()
            return
    reference = getattr(np, method)(x.data, axis=dim if dim is None or isinstance(dim, int) else tuple(dim),
                                    keepdims=keepdim, **({"ddof": 1} if method == "var" else {}))
    np.testing.assert_allclose(out.data, reference, rtol=1e-12)
    assert gradcheck(lambda t: reduce(t, method, dim, keepdim), [x])


def test_max_splits_gradient_between_ties():
    x = leaf([1.0, 3.0, 3.0])
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 0.5])


@given(shape=st.sampled_from([(2, 3, 4), (6, 4), (24,)]), seed=seeds)
def test_reshape_transpose_permute(shape, seed):
    x = random_leaf(shape, seed)
    assert gradcheck(lambda t: t.reshape(4, -1), [x])
    if x.ndim >= 2:
        assert gradcheck(lambda t: t.transpose(0, -1) * t.transpose(0, -1), [x])
        assert gradcheck(lambda t: t.T, [x])
    if x.ndim == 3:
        assert gradcheck(lambda t: t.permute(2, 0, 1), [x])
        np.testing.assert_array_equal(x.permute(2, 0, 1).data, x.data.transpose(2, 0, 1))


def test_getitem_slices_and_integer_arrays():
    x = random_leaf((5, 4))
    assert gradcheck(lambda t: t[1:4, ::2], [x])
    assert gradcheck(lambda t: t[-1], [x])
    assert gradcheck(lambda t: t[..., None, 2], [x])
    rows = np.array([0, 2, 2, 4, 0])
    assert gradcheck(lambda t: t[rows], [x])
    assert gradcheck(lambda t: t[rows, np.array([1, 1, 3, 0, 1])], [x])
    # a row picked twice receives both gradients
    x.grad = None
    x[np.array([2, 2])].sum().backward()
    np.testing.assert_allclose(x.grad[2], 2.0)
    np.testing.assert_allclose(x.grad[0], 0.0)


def test_masked_fill():
    x = random_leaf((3, 4))
    mask = np.array([True, False, False, True])
    out = x.masked_fill(mask, -5.0)
    assert np.all(out.data[:, 0] == -5.0) and np.all(out.data[:, 1] == x.data[:, 1])
    assert gradcheck(lambda t: t.masked_fill(mask, 0.0) * t, [x])


def test_comparisons_are_not_differentiable():
    x = random_leaf((3,))
    result = x > 0
    assert result.dtype == bool and not result.requires_grad
    assert (x == x).data.all() and not (x != x).data.any()


# ---------------------------------------------------------------------------------------------
# The graph's bookkeeping
# ---------------------------------------------------------------------------------------------


def test_gradients_accumulate_when_a_tensor_is_reused():
    x = leaf([2.0])
    y = x * x + x  # dy/dx = 2x + 1 = 5
    y.backward()
    np.testing.assert_allclose(x.grad, [5.0])
    # leaf gradients accumulate across backward calls until zeroed, as in PyTorch
    (x * 3).backward()
    np.testing.assert_allclose(x.grad, [8.0])


def test_diamond_graph():
    x = leaf([1.5])
    a = x * 2
    b = x.exp()
    y = a * b  # y = 2x e^x, dy/dx = 2 e^x (1 + x)
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(1.5) * 2.5)
    assert gradcheck(lambda t: (t * 2) * t.exp() + (t * 2).tanh(), [leaf([0.3, -0.7])])


def test_no_grad_records_nothing_and_works_as_decorator():
    x = leaf([1.0, 2.0])
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert mt.is_grad_enabled()

    @no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    assert (x * 2).requires_grad


def test_backward_twice_needs_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.clone()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_detach_cuts_the_graph():
    x = leaf([3.0])
    y = x * x.detach()  # only one path carries gradient: dy/dx = x.detach() = 3
    y.backward()
    np.testing.assert_allclose(x.grad, [3.0])


def test_ten_thousand_node_chain():
    x = leaf([1.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad, [1.0001 ** 10_000])


def test_backward_on_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])


def test_backward_without_grad_is_a_clear_error():
    with pytest.raises(RuntimeError, match="requires_grad"):
        Tensor([1.0]).sum().backward()


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.array([1, 2, 3]), requires_grad=True)


# ---------------------------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------------------------


def test_default_dtype_is_float32_and_float64_is_kept():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(2.5).dtype == np.float32
    assert Tensor(np.zeros(3)).dtype == np.float64
    assert Tensor([1, 2]).dtype == np.int64


def test_float32_stays_float32_through_ops_and_gradients():
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    y = ((x * 2.5 + np.ones(3)) ** 2 / 3.0 - 1).exp().log().sqrt().tanh().mean()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_mixing_float32_and_float64_tensors_is_an_error():
    with pytest.raises(TypeError, match=r"\.double\(\)"):
        Tensor([1.0]) + Tensor(np.array([1.0]))


def test_cast_is_differentiable():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = (x.double() * 3).sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float32 and np.allclose(x.grad, 3)


def test_item_and_repr():
    assert Tensor([4.0]).sum().item() == 4.0
    with pytest.raises(ValueError, match="one element"):
        Tensor([1.0, 2.0]).item()
    assert "grad_fn=Mul" in repr(leaf([1.0]) * 2)


# ---------------------------------------------------------------------------------------------
# gradcheck itself, and a custom Function
# ---------------------------------------------------------------------------------------------


class BrokenSquare(mt.Function):
    """y = x^2 with a deliberately wrong backward (3x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x


def test_gradcheck_names_the_input_element_and_both_values():
    x = leaf([[1.0, 2.0]])
    with pytest.raises(mt.GradcheckError) as info:
        gradcheck(lambda t: BrokenSquare.apply(t), [x], names=["x"])
    message = str(info.value)
    assert "x (shape (1, 2))" in message and "element (0, 0)" in message
    assert "backward() gives" in message and "finite differences give" in message


def test_gradcheck_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, [Tensor([1.0], requires_grad=True)])


def test_custom_function_gradchecks_and_trains():
    assert gradcheck(lambda t: Cube.apply(t), [random_leaf((3, 2))])
    x = leaf([1.5])
    for _ in range(200):  # minimize (x^3 - 1)^2 by gradient descent: x -> 1
        x.grad = None
        loss = (Cube.apply(x) - 1.0) ** 2
        loss.backward()
        x.data -= 0.01 * x.grad
    assert abs(x.data[0] - 1.0) < 1e-2


# ---------------------------------------------------------------------------------------------
# where the engine's names live
# ---------------------------------------------------------------------------------------------


def test_engine_names_keep_their_old_import_paths():
    """autograd.py holds Function and no_grad, ops/ the primitives; tensor.py still answers for all."""
    from minitransformer import autograd, ops, tensor
    from minitransformer.tensor import Context, Function, Mul, MaskedFill, is_grad_enabled, no_grad, sum_to_shape

    assert Function is autograd.Function and Context is autograd.Context and no_grad is autograd.no_grad
    assert Mul is ops.Mul and MaskedFill is ops.MaskedFill and mt.Function is Function
    assert is_grad_enabled is autograd.is_grad_enabled and sum_to_shape is autograd.sum_to_shape
    assert tensor._tape_recorders is autograd._tape_recorders
    with no_grad():
        assert tensor._grad_enabled is False  # read where it lives now, not a stale copy
    assert tensor._grad_enabled is True
    with pytest.raises(AttributeError, match="no attribute 'NoSuchOp'"):
        tensor.NoSuchOp


# ---------------------------------------------------------------------------------------------
# PyTorch's answers at the edges (issue 17; every expected value below is what torch 2.13 gives)
# ---------------------------------------------------------------------------------------------


def test_var_with_correction_at_least_n_divides_by_zero_as_torch():
    one = leaf([1.5])
    out = one.var()  # torch: nan, and a nan gradient (0 / 0), not a ZeroDivisionError
    out.backward()
    assert np.isnan(out.item()) and np.isnan(one.grad.item())
    column = leaf([[1.0], [2.0], [3.0]])
    column.var(1).sum().backward()  # the common x.var(dim) over a size-1 dim
    assert np.isnan(column.var(1).data).all() and np.isnan(column.grad.data).all()
    assert leaf([1.0, 2.0]).var(correction=3).item() == np.inf  # max(0, N - correction) = 0; was -0.5
    assert leaf([1.0, 2.0, 4.0]).var(0, correction=5).item() == np.inf


def test_pow_gradients_at_base_zero_are_torchs_limits():
    a, b = leaf([0.0, 0.0, 2.0]), leaf([0.0, 2.0, 0.0])
    (a ** b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0, 0.0])  # d(x^0)/dx = 0 at x = 0 (was NaN)
    np.testing.assert_allclose(b.grad, [0.0, 0.0, math.log(2.0)])  # d(0^y)/dy = 0 for y >= 0 (was NaN)
    x = leaf([0.0, 1.5])
    (x ** 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    y = leaf([0.5, 0.0, -1.0])
    (0.0 ** y).sum().backward()
    np.testing.assert_array_equal(y.grad, [0.0, 0.0, -np.inf])


def test_reductions_over_the_dims_of_a_0d_tensor():
    s = leaf(3.0)
    for out in (s.sum(0), s.sum(-1), s.mean(0), s.max(0).values, s.amax(-1), s.sum(0, keepdim=True)):
        assert out.shape == () and out.item() == 3.0
    assert s.max(0).indices.item() == 0 and np.isnan(s.var(0).item())
    s.sum(-1).backward()
    assert s.grad.item() == 1.0
    with pytest.raises(IndexError, match=r"range of \[-1, 0\], but got 1"):
        s.sum(1)


def test_cat_and_stack_refuse_out_of_range_dims_and_0d_tensors():
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 77"):
        mt.stack([leaf([1.0, 2.0])], dim=77)
    with pytest.raises(IndexError, match=r"range of \[-1, 0\], but got 1"):
        mt.cat([leaf([1.0]), leaf([2.0])], dim=1)
    with pytest.raises(ValueError, match=r"zero-dimensional tensor \(at position 0\) cannot be concatenated"):
        mt.cat([leaf(1.0), leaf(2.0)])
    assert mt.stack([leaf(1.0), leaf(2.0)]).tolist() == [1.0, 2.0]


def test_softmax_over_an_empty_dim_is_empty():
    from minitransformer import functional as F

    for x, dim in ((leaf(np.zeros((2, 0))), -1), (leaf(np.zeros((0, 3))), 0)):
        for out in (F.softmax(x, dim), F.log_softmax(x, dim), x.softmax(dim)):
            assert out.shape == x.shape


def test_max_with_nan_sends_the_gradient_to_the_nans():
    x = leaf([1.0, np.nan, 3.0, np.nan])
    out = x.max()
    out.backward()
    assert np.isnan(out.item())
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.0, 0.5])  # was NaN everywhere
    y = leaf([[1.0, np.nan, 3.0], [2.0, 5.0, 5.0]])
    values, indices = y.max(1)
    values.sum().backward()
    assert indices.tolist() == [1, 1]
    np.testing.assert_array_equal(y.grad, [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])  # all to the index, as torch


def test_sigmoid_keeps_its_float32_tail():
    x = Tensor(np.array([-19.75, -88.7, 0.0, 30.0], dtype=np.float32))
    out = x.sigmoid().data
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:2], [2.6465770e-09, 3.0066e-39], rtol=1e-4)  # was 10x off, and 0
    np.testing.assert_array_equal(out[2:], [0.5, 1.0])
    assert np.isfinite(x.sigmoid().log().data).all()


# ---------------------------------------------------------------------------------------------
# PyTorch's semantics
# ---------------------------------------------------------------------------------------------


def test_max_and_min_along_a_dim_are_named_tuples():
    x = leaf([[1.0, 7.0, 3.0], [4.0, 2.0, 2.0]])
    values, idx = x.max(dim=1)
    assert values.tolist() == [7.0, 4.0] and idx.tolist() == [1, 0] and idx.dtype == np.int64
    result = x.min(0, keepdim=True)
    assert result.values.tolist() == [[1.0, 2.0, 2.0]] and result.indices.tolist() == [[0, 1, 1]]
    assert type(result).__name__ == "ValuesIndices" and x.max().item() == 7.0
    np.testing.assert_array_equal(x.max(leaf([5.0, 5.0, 5.0])).data, [[5.0, 7.0, 5.0], [5.0, 5.0, 5.0]])


def test_size_numel_and_dim_are_methods():
    x = Tensor(np.zeros((2, 3, 4)))
    B, T, C = x.size()
    assert (B, T, C) == (2, 3, 4) and x.size(-1) == 4 and x.size(0) == 2
    assert x.numel() == 24 and x.dim() == 3 and x.device == "cpu"
    with pytest.raises(IndexError, match="range"):
        x.size(3)


def test_grad_is_a_tensor_that_wraps_the_array():
    x = leaf([3.0, 4.0])
    (x * x).sum().backward()
    assert isinstance(x.grad, Tensor) and not x.grad.requires_grad
    assert x.grad.norm().item() == 10.0 and float(x.grad[0]) == 6.0
    np.testing.assert_array_equal(np.asarray(x.grad), [6.0, 8.0])
    array = x.grad.data
    x.grad.zero_()
    assert array.tolist() == [0.0, 0.0]  # zero_ works in place, on the very array
    x.grad = np.array([1.0, 1.0])  # an array is wrapped
    assert isinstance(x.grad, Tensor)
    with pytest.raises(ValueError, match=r"grad has shape \(3,\).*shape \(2,\)"):
        x.grad = np.zeros(3)


def test_numpy_arrays_updated_in_place_by_tensors_stay_arrays():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    data = x.data
    x.data -= 0.5 * x.grad  # the micrograd-style update: the array is updated, not replaced by a Tensor
    assert x.data is data and isinstance(x.data, np.ndarray) and x.data.tolist() == [0.0, 0.0]
    assert isinstance(np.ones(2) + x, Tensor) and (np.ones(2) + x).grad_fn == "Add"
    assert (np.float64(2.0) * Tensor(np.float32([1.0]))).dtype == np.float32  # no silent upcast


def test_mixed_advanced_indexing_follows_torch():
    x = random_leaf((3, 4, 5))
    assert x[1, :, [1, 3]].shape == (4, 2)  # NumPy: (2, 4)
    np.testing.assert_array_equal(x[1, :, [1, 3]].data, x.data[1][:, [1, 3]])
    assert x[None, 1, :, [1, 3]].shape == (1, 4, 2) and x[[0, 2], :, 1].shape == (2, 4)
    assert x[..., 1, [0, 2]].shape == (3, 2) and x[:, [-1], :].shape == (3, 1, 5)
    assert gradcheck(lambda t: t[1, :, [1, 3, 3]] * t[2, :, [0, 0, 4]], [x])


def test_in_place_assignment_under_no_grad_and_refused_in_the_graph():
    logits = leaf([[1.0, 5.0, 3.0], [2.0, 0.0, 4.0]])
    with no_grad():
        v, _ = logits.topk(2)
        logits[logits < v[:, [-1]]] = -float("inf")
    assert logits.tolist() == [[-np.inf, 5.0, 3.0], [2.0, -np.inf, 4.0]]
    with pytest.raises(RuntimeError, match="no_grad"):
        logits[0, 0] = 1.0
    with pytest.raises(RuntimeError, match="no_grad"):
        logits.zero_()
    t = Tensor(np.zeros(3))
    t[1:] = Tensor(np.ones(2))
    assert t.tolist() == [0.0, 1.0, 1.0] and t.fill_(2.0).tolist() == [2.0] * 3


def test_conversions_and_method_forms_as_in_torch():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    assert float(x.sum()) == 10.0 and int(x[0, 1]) == 2 and bool(x[0, 0]) and f"{x.mean():.2f}" == "2.50"
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    np.testing.assert_array_equal(x.matmul(x).add(x, alpha=2).mul(0.5).pow(2).data,
                                  ((x.data @ x.data + 2 * x.data) / 2) ** 2)
    assert x.detach().numpy() is x.data and x.clone().data is not x.data
    assert x.long().dtype == np.int64 and not x.long().requires_grad and x.to("cpu") is x
    with pytest.raises(ValueError, match="cpu"):
        x.to("cuda")
