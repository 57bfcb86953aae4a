"""The ops added for PyTorch fidelity (issue 17), each against finite differences on shapes
hypothesis picks, plus the values and errors that define them.  Their parity with PyTorch itself is
test_torch_parity.py."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minitransformer as mt
from minitransformer import Tensor, gradcheck
from minitransformer import functional as F
from helpers import leaf, random_leaf, seeds, shapes

matrices = hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4)


def away_from(values, points, gap=0.1):
    """values moved at least `gap` away from each of `points` (kinks, where differences are not derivatives)."""
    for p in points:
        close = np.abs(values - p) < gap
        values = np.where(close, p + np.sign(values - p + 1e-12) * gap, values)
    return values


POINTWISE = {
    "abs": (lambda t: t.abs(), [0.0]),
    "clamp": (lambda t: t.clamp(-0.5, 0.7), [-0.5, 0.7]),
    "clamp_min": (lambda t: t.clamp(min=0.2), [0.2]),
    "sin": (lambda t: t.sin(), []),
    "cos": (lambda t: t.cos(), []),
    "silu": (lambda t: F.silu(t), []),
    "sigmoid": (lambda t: t.sigmoid(), []),
}


@pytest.mark.parametrize("name", sorted(POINTWISE))
@given(shape=shapes, seed=seeds)
def test_pointwise_gradcheck(name, shape, seed):
    fn, kinks = POINTWISE[name]
    x = leaf(away_from(np.random.default_rng(seed).standard_normal(shape) * 2, kinks))
    assert gradcheck(fn, [x])


@given(shape=shapes, seed=seeds)
def test_rsqrt_gradcheck_and_values(shape, seed):
    x = random_leaf(shape, seed, low=0.3, high=3.0)
    assert gradcheck(lambda t: t.rsqrt(), [x])
    np.testing.assert_allclose(x.rsqrt().data, 1 / np.sqrt(x.data), rtol=1e-15)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
@given(pair=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3),
       seed=seeds)
def test_maximum_minimum_broadcast_gradcheck(op, pair, seed):
    a, b = random_leaf(pair.input_shapes[0], seed), random_leaf(pair.input_shapes[1], seed + 1)
    assert gradcheck(lambda x, y: getattr(mt, op)(x, y), [a, b])
    np.testing.assert_array_equal(getattr(a, op)(b).data, getattr(np, op)(a.data, b.data))


def test_maximum_splits_ties_and_clamp_passes_gradient_at_its_bounds():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([2.0, 2.0, 1.0])
    mt.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 0.5, 0.0])
    x = leaf([-1.0, 0.0, 0.5, 1.0, 2.0])
    x.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])  # PyTorch: bounds included
    with pytest.raises(ValueError, match="min or max"):
        x.clamp()


dims = st.sampled_from([0, -1])


@given(shape=shapes, dim=dims, keepdim=st.booleans(), seed=seeds)
def test_along_one_dim_reductions_gradcheck(shape, dim, keepdim, seed):
    x = random_leaf(shape, seed)
    for fn in (lambda t: t.logsumexp(dim, keepdim), lambda t: t.cumsum(dim), lambda t: t.amin(dim, keepdim),
               lambda t: t.min(dim, keepdim).values, lambda t: t.norm(dim=dim, keepdim=keepdim),
               lambda t: t.softmax(dim), lambda t: t.log_softmax(dim)):
        assert gradcheck(fn, [x])
    np.testing.assert_allclose(x.logsumexp(dim).data, np.log(np.exp(x.data).sum(axis=dim)), rtol=1e-13)
    np.testing.assert_allclose(x.cumsum(dim).data, np.cumsum(x.data, axis=dim), rtol=1e-13)
    np.testing.assert_allclose(x.softmax(dim).data, F.softmax(x, dim).data, rtol=1e-13)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4), seed=seeds)
def test_std_and_norm_gradcheck(shape, seed):
    x = random_leaf(shape, seed)
    assert gradcheck(lambda t: t.std(0), [x])
    assert gradcheck(lambda t: t.norm(), [x])
    np.testing.assert_allclose(x.std().data, np.std(x.data, ddof=1), rtol=1e-13)


def test_norm_of_zero_has_zero_gradient_and_argmax_is_pytorchs():
    x = leaf([[0.0, 0.0], [3.0, 4.0]])
    x.norm(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0], [0.6, 0.8]])
    y = Tensor(np.array([[1.0, 3.0, 3.0], [4.0, 0.0, 4.0]]))
    assert y.argmax().item() == 3 and y.argmax(dim=1).tolist() == [1, 0] and y.argmin(1, keepdim=True).shape == (2, 1)
    assert not y.argmax().requires_grad


@given(shape=shapes, seed=seeds, data=st.data())
def test_topk_and_gather_gradcheck(shape, seed, data):
    x = random_leaf(shape, seed)
    k = data.draw(st.integers(1, shape[-1]))
    values, indices = x.topk(k)
    np.testing.assert_array_equal(values.data, -np.sort(-x.data, axis=-1)[..., :k])
    np.testing.assert_array_equal(np.take_along_axis(x.data, indices.data, -1), values.data)
    assert gradcheck(lambda t: t.topk(k, largest=False).values, [x])
    index = np.random.default_rng(seed).integers(0, shape[0], (shape[0] + 1,) + shape[1:])  # repeats: scatter-adds
    assert gradcheck(lambda t: t.gather(0, index), [x])


def test_topk_and_gather_errors_name_the_problem():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="k=4 is out of range for dim -1 of size 3"):
        x.topk(4)
    with pytest.raises(ValueError, match="index has 1 dims but the input has 2"):
        x.gather(0, np.array([0]))
    with pytest.raises(TypeError, match="amax"):
        x.max(dim=(0, 1))


@given(shape=matrices, seed=seeds, diagonal=st.integers(-2, 2))
def test_tril_triu_gradcheck(shape, seed, diagonal):
    x = random_leaf(shape, seed)
    assert gradcheck(lambda t: mt.tril(t, diagonal) * 2 + t.triu(diagonal), [x])
    np.testing.assert_array_equal(x.tril(diagonal).data, np.tril(x.data, diagonal))
    with pytest.raises(ValueError, match="at least 2 dims"):
        mt.tril(leaf([1.0]))


@given(shape=shapes, seed=seeds, data=st.data())
def test_shape_ops_gradcheck(shape, seed, data):
    x = random_leaf(shape, seed)
    repeats = tuple(data.draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape) + 1)))
    assert gradcheck(lambda t: t.repeat(*repeats), [x])
    np.testing.assert_array_equal(x.repeat(*repeats).data, np.tile(x.data, repeats))
    assert gradcheck(lambda t: t.repeat_interleave(2, dim=-1), [x])
    counts = np.random.default_rng(seed).integers(0, 3, shape[0])
    assert gradcheck(lambda t: t.repeat_interleave(counts, dim=0), [x])
    assert gradcheck(lambda t: t.unsqueeze(0).expand(3, *shape), [x])
    assert gradcheck(lambda t: t.flatten().unflatten(0, shape).squeeze().clone(), [x])
    chunks = data.draw(st.integers(1, 4))
    assert gradcheck(lambda t: mt.cat([c * (i + 1) for i, c in enumerate(t.chunk(chunks, -1))], -1), [x])


def test_shape_ops_follow_pytorch():
    x = Tensor(np.zeros((2, 1, 3, 1)))
    assert x.squeeze().shape == (2, 3) and x.squeeze(0).shape == x.shape and x.squeeze((1, 3)).shape == (2, 3)
    assert x.unsqueeze(-1).shape == (2, 1, 3, 1, 1) and x.flatten(1).shape == (2, 3)
    assert [c.shape[0] for c in Tensor(np.zeros(6)).chunk(4)] == [2, 2, 2]  # ceil(6/4) = 2: three pieces
    assert Tensor(np.zeros((3, 1))).expand(-1, 4).shape == (3, 4)
    with pytest.raises(ValueError, match="only dims of size 1 can grow"):
        Tensor(np.zeros((3, 2))).expand(3, 4)
    with pytest.raises(ValueError, match="repeat: 1 repeats for a tensor with 2 dims"):
        Tensor(np.zeros((3, 2))).repeat(2)


@given(shape=shapes, seed=seeds, data=st.data())
def test_pad_gradcheck_including_crops(shape, seed, data):
    x = random_leaf(shape, seed)
    pairs = data.draw(st.lists(st.tuples(st.integers(-1, 2), st.integers(-1, 2)), min_size=1, max_size=len(shape)))
    widths = [w for pair in pairs for w in pair]
    if any(n + a + b < 0 for n, (a, b) in zip(reversed(shape), pairs)):
        with pytest.raises(ValueError, match="negative size"):
            F.pad(x, widths)
        return
    assert gradcheck(lambda t: F.pad(t, widths, value=0.5), [x])


def test_pad_values():
    out = F.pad(Tensor(np.ones((2, 2))), (1, 0, 0, 1), value=-1.0).data
    np.testing.assert_array_equal(out, [[-1, 1, 1], [-1, 1, 1], [-1, -1, -1]])
    with pytest.raises(ValueError, match="mode='constant'"):
        F.pad(Tensor(np.ones(2)), (1, 1), mode="reflect")


@given(n=st.integers(1, 4), classes=st.integers(2, 4), d=st.integers(1, 3), seed=seeds)
def test_nll_loss_and_cross_entropy_layouts_gradcheck(n, classes, d, seed):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, classes, (n, d))
    target[0, 0] = -100 if n * d > 1 else target[0, 0]  # one ignored (but not all: that mean is 0/0)
    x = random_leaf((n, classes, d), seed)
    q = rng.dirichlet(np.ones(classes), n)
    assert gradcheck(lambda t: F.cross_entropy(t, target), [x])
    assert gradcheck(lambda t: F.nll_loss(F.log_softmax(t, 1), target, reduction="sum"), [x])
    assert gradcheck(lambda t: F.cross_entropy(t[..., 0], q, label_smoothing=0.1), [x])
    flat = F.cross_entropy(x.permute(0, 2, 1).reshape(-1, classes), target.reshape(-1), reduction="none")
    np.testing.assert_allclose(F.cross_entropy(x, target, reduction="none").data, flat.data.reshape(n, d))
    onehot = F.one_hot(np.where(target < 0, 0, target)[:, 0], classes).double()
    np.testing.assert_allclose(F.cross_entropy(x[..., 0], onehot).item(),
                               F.cross_entropy(x[..., 0], np.where(target < 0, 0, target)[:, 0]).item(), rtol=1e-12)


def test_cross_entropy_layout_errors_say_what_to_reshape():
    with pytest.raises(ValueError, match=r"target should have shape \(2, 4\).*reshape"):
        F.cross_entropy(leaf(np.zeros((2, 3, 4))), np.zeros((2, 3), dtype=int))
    with pytest.raises(IndexError, match="nll_loss: target 5 is out of range for 3 classes"):
        F.nll_loss(leaf(np.zeros((1, 3))), np.array([5]))
    assert F.one_hot(np.array([2, 0])).tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(IndexError, match="class id 3 is out of range"):
        F.one_hot(np.array([3]), 3)


@settings(max_examples=10)
@given(seed=seeds, heads=st.sampled_from([(4, 2), (4, 1), (2, 2)]), causal=st.booleans())
def test_grouped_query_attention_equals_repeated_heads(seed, heads, causal):
    hq, hkv = heads
    q = random_leaf((1, hq, 3, 2), seed)
    k, v = random_leaf((1, hkv, 3, 2), seed + 1), random_leaf((1, hkv, 3, 2), seed + 2)
    gqa = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)  # noqa: E731
    assert gradcheck(gqa, [q, k, v])
    repeated = F.scaled_dot_product_attention(q, k.repeat_interleave(hq // hkv, 1), v.repeat_interleave(hq // hkv, 1),
                                              is_causal=causal)
    np.testing.assert_allclose(gqa(q, k, v).data, repeated.data, rtol=1e-13)
    with pytest.raises(ValueError, match="multiple of"):
        F.scaled_dot_product_attention(random_leaf((1, 3, 2, 2)), *(random_leaf((1, 2, 2, 2)),) * 2, enable_gqa=True)


@given(seed=seeds)
def test_silu_values(seed):
    x = random_leaf((5,), seed)
    np.testing.assert_allclose(F.silu(x).data, x.data / (1 + np.exp(-x.data)), rtol=1e-14)
    far = F.silu(Tensor(np.float32([-100.0, 100.0]))).data
    assert far.dtype == np.float32 and -1e-40 < far[0] <= 0 and far[1] == 100.0  # no overflow, no NaN


# ---- making tensors, as torch.* ----


def test_constructors_follow_torchs_dtype_rules():
    assert mt.tensor([1.0, 2.0]).dtype == mt.float32 and mt.tensor([1, 2]).dtype == mt.long
    assert mt.tensor([True]).dtype == mt.bool and mt.tensor(np.zeros(2)).dtype == mt.float64
    source = np.zeros(2)
    assert mt.tensor(source).data is not source  # torch.tensor copies
    assert mt.zeros(2, 3).shape == mt.ones((2, 3)).shape == (2, 3) and mt.zeros(2).dtype == mt.float32
    assert mt.full((2,), 3).dtype == mt.int64 and mt.full((2,), 3.0).dtype == mt.float32
    assert mt.arange(5).tolist() == [0, 1, 2, 3, 4] and mt.arange(5).dtype == mt.long
    assert mt.arange(1, 2, 0.5).dtype == mt.float32 and mt.arange(0, 6, 2, dtype=mt.float64).tolist() == [0, 2, 4]
    x = mt.randn(3, 4, dtype=mt.float64, requires_grad=True)
    assert x.dtype == mt.float64 and x.requires_grad
    for like in (mt.zeros_like(x), mt.ones_like(x), mt.full_like(x, 2.0), mt.randn_like(x), mt.rand_like(x)):
        assert like.shape == x.shape and like.dtype == x.dtype and not like.requires_grad
    mt.manual_seed(3)
    first = mt.rand(5).tolist() + mt.randint(10, (4,)).tolist() + mt.randint(3, 6, (4,)).tolist()
    mt.manual_seed(3)
    assert first == mt.rand(5).tolist() + mt.randint(10, (4,)).tolist() + mt.randint(3, 6, (4,)).tolist()
    assert all(0 <= v < 1 for v in first[:5]) and all(3 <= v < 6 for v in first[-4:])
    assert mt.ones(2, device="cpu").shape == (2,)
    with pytest.raises(ValueError, match="device 'cuda'"):
        mt.zeros(2, device="cuda")


def test_top_level_functions_are_the_methods():
    x = random_leaf((2, 3))
    assert mt.exp(x).tolist() == x.exp().tolist() and mt.sum(x, 1).tolist() == x.sum(1).tolist()
    assert mt.max(x, 1).indices.tolist() == x.argmax(1).tolist() and mt.softmax(x, -1).shape == (2, 3)
    assert mt.cat((x, x), dim=1).shape == (2, 6) and mt.stack([x, x]).shape == (2, 2, 3)
    assert mt.exp.__doc__.startswith("mt.exp(x, ...) is x.exp(...)")


def test_multinomial_draws_by_weight_with_and_without_replacement():
    mt.manual_seed(0)
    weights = mt.tensor([[1.0, 0.0, 3.0], [0.0, 5.0, 5.0]])
    draws = mt.multinomial(weights, 4000, replacement=True).numpy()
    assert draws.shape == (2, 4000) and draws.dtype == np.int64
    assert not (draws[0] == 1).any() and not (draws[1] == 0).any()  # weight 0: never
    assert abs((draws[0] == 2).mean() - 0.75) < 0.03 and abs((draws[1] == 1).mean() - 0.5) < 0.03
    without = mt.multinomial(mt.tensor([1.0, 1.0, 1.0, 0.0]), 3).tolist()
    assert sorted(without) == [0, 1, 2]  # three distinct, and the weight-0 one only after them
    first = [mt.multinomial(mt.tensor([1.0, 3.0]), 2).tolist()[0] for _ in range(2000)]
    assert abs(np.mean(np.array(first) == 1) - 0.75) < 0.03  # the first draw is by weight
    assert mt.multinomial(mt.tensor([0.2, 0.8]), 1).shape == (1,)
    with pytest.raises(ValueError, match="without replacement"):
        mt.multinomial(mt.tensor([1.0, 1.0]), 3)
    with pytest.raises(ValueError, match="sums to 0"):
        mt.multinomial(mt.tensor([[0.0, 0.0]]), 1)
    with pytest.raises(ValueError, match="finite and >= 0"):
        mt.multinomial(mt.tensor([1.0, -1.0]), 1)
