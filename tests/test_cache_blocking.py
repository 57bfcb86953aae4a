"""Cache blocking must not change results: every blocked kernel, run in tiny blocks (so that its
multi-block path runs on small inputs), equals the same kernel run in one block."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minitransformer as mt
from minitransformer import functional as F
from minitransformer.cache_blocking import block_elements, row_blocks
from helpers import outputs_and_grads, random_leaf, seeds


@given(n_rows=st.integers(0, 50), row_size=st.integers(0, 40), block=st.integers(1, 100))
def test_row_blocks_cover_every_row_once_in_order(n_rows, row_size, block):
    with block_elements(block):
        blocks = list(row_blocks(n_rows, row_size))
    covered = [i for b in blocks for i in range(n_rows)[b]]
    assert covered == list(range(n_rows))
    assert all(b.stop - b.start <= max(1, block // max(1, row_size)) for b in blocks)


def assert_blocking_changes_nothing(fn, inputs):
    with block_elements(1 << 30):  # everything in one block
        whole = outputs_and_grads(fn, inputs, seed=5)
    with block_elements(5):  # a row or a batch element per block
        blocked = outputs_and_grads(fn, inputs, seed=5)
    for a, b in zip(whole, blocked):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@given(shape=st.sampled_from([(7, 3), (2, 5, 4), (9,)]), seed=seeds)
def test_gelu(approximate, shape, seed):
    assert_blocking_changes_nothing(lambda x: F.gelu(x, approximate), [random_leaf(shape, seed)])


@given(shape=st.sampled_from([((6, 4), (4,)), ((3, 5, 4), (4,)), ((3, 2, 3), (2, 3))]), seed=seeds)
def test_layer_norm_and_rms_norm(shape, seed):
    x_shape, normalized = shape
    inputs = [random_leaf(x_shape, seed), random_leaf(normalized, seed + 1), random_leaf(normalized, seed + 2)]
    assert_blocking_changes_nothing(lambda x, w, b: F.layer_norm(x, normalized, w, b), inputs)
    assert_blocking_changes_nothing(lambda x, w: F.rms_norm(x, normalized, w), inputs[:2])


@given(lead=st.sampled_from([(), (3,), (4, 2)]), seed=seeds,
       mask_kind=st.sampled_from(["none", "causal", "padding", "float"]), dropout=st.sampled_from([0.0, 0.3]))
def test_attention(lead, seed, mask_kind, dropout):
    L, S, d = 4, 5, 3
    q, k, v = random_leaf(lead + (L, d), seed), random_leaf(lead + (S, d), seed + 1), random_leaf(lead + (S, d), seed + 2)
    rng = np.random.default_rng(seed)
    kwargs = {"dropout_p": dropout}
    if mask_kind == "causal":
        kwargs["is_causal"] = True
    elif mask_kind == "padding":  # a key-padding mask broadcast over queries, one row of it all False
        mask = rng.random(lead[:1] + (1,) * len(lead[1:]) + (1, S)) < 0.6
        if lead:
            mask[0] = False  # the first batch element may look at nothing: zeros, not NaN
        kwargs["attn_mask"] = mask
    elif mask_kind == "float":
        kwargs["attn_mask"] = rng.standard_normal((L, S))

    def attend(q, k, v):
        mt.manual_seed(seed)  # the same dropout mask in both runs
        return F.scaled_dot_product_attention(q, k, v, **kwargs)

    assert_blocking_changes_nothing(attend, [q, k, v])


def test_adamw_update():
    def trained(block):
        mt.manual_seed(0)
        layer = mt.nn.Linear(7, 5)
        optimizer = mt.optim.AdamW(layer.parameters(), lr=0.1, weight_decay=0.1)
        x = np.random.default_rng(1).standard_normal((4, 7)).astype(np.float32)
        with block_elements(block):
            for _ in range(3):
                (layer(x) ** 2).sum().backward()
                optimizer.step()
                optimizer.zero_grad()
        return [p.data.copy() for p in layer.parameters()]

    for a, b in zip(trained(1 << 30), trained(4)):
        np.testing.assert_array_equal(a, b)
