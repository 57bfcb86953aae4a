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


@pytest.mark.parametrize("method", ["sum", "mean", "max", "var"])
@given(shape=shapes, dim=dims, keepdim=st.booleans(), seed=seeds)
def test_reductions_gradcheck(method, shape, dim, keepdim, seed):
    if dim is not None and len({d % len(shape) for d in ((dim,) if isinstance(dim, int) else dim)}) < len(
            (dim,) if isinstance(dim, int) else dim):
        with pytest.raises(ValueError, match="same axis twice"):
            random_leaf(shape, seed).sum(dim=dim)
        return
    if method == "var":
        size = np.prod(shape) if dim is None else np.prod([shape[d] for d in ((dim,) if isinstance(dim, int) else dim)])
        if size < 2:
            return  # the unbiased variance of one element divides by zero
    x = random_leaf(shape, seed)
    out = getattr(x, method)(dim=dim, keepdim=keepdim)
    reference = getattr(np, method)(x.data, axis=dim if dim is None or isinstance(dim, int) else tuple(dim),
                                    keepdims=keepdim, **({"ddof": 1} if method == "var" else {}))
    np.testing.assert_allclose(out.data, reference, rtol=1e-12)
    assert gradcheck(lambda t: getattr(t, method)(dim=dim, keepdim=keepdim), [x])


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
    first = x.grad.copy()
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
