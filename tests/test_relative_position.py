"""T5's relative position bias: the buckets against Hugging Face's, the learned bias's gradient through
attention, and the T5 model with either kind of positions (its loss gradcheck: tests/test_models.py)."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitransformer as mt
from minitransformer import Tensor, gradcheck
from minitransformer import functional as F
from minitransformer.models import BERT, T5, bert_config, t5_config
from minitransformer.nn import MultiHeadAttention, RelativePositionBias, neighbour_start, relative_position_bucket
from helpers import assert_same_outputs_and_grads, random_leaf, seeds

GOLDEN = Path(__file__).parent / "data" / "t5_bucket_golden.npz"


def test_buckets_match_hugging_face_t5_exactly():
    """benchmarks/golden/make_t5_bucket_golden.py: transformers' T5Attention._relative_position_bucket."""
    golden = np.load(GOLDEN, allow_pickle=False)
    settings_found = [name for name in golden.files if name != "distances"]
    assert len(settings_found) == 6
    for name in settings_found:
        bidirectional, num_buckets, max_distance = map(int, name.split("_"))
        ours = relative_position_bucket(golden["distances"], bool(bidirectional), num_buckets, max_distance)
        np.testing.assert_array_equal(ours, golden[name], err_msg=name)


@settings(deadline=None, max_examples=40)
@given(bidirectional=st.booleans(), num_buckets=st.sampled_from([4, 8, 16, 32, 64]),
       max_distance=st.integers(5, 300), data=st.data())
def test_buckets_are_exact_near_then_coarser_and_never_out_of_range(bidirectional, num_buckets, max_distance, data):
    half = num_buckets // 2 if bidirectional else num_buckets
    max_distance = max(max_distance, half // 2 + 1)
    distances = np.arange(-400, 401)
    buckets = relative_position_bucket(distances, bidirectional, num_buckets, max_distance)
    assert buckets.min() >= 0 and buckets.max() < num_buckets
    left = buckets[distances <= 0][::-1]  # distance 0, -1, -2, ...
    assert np.all(np.diff(left) >= 0)  # farther never lands in a nearer bucket
    exact = half // 2
    np.testing.assert_array_equal(left[:exact], np.arange(exact))  # one bucket per small distance
    assert left[-1] == half - 1  # far away: the last bucket
    if bidirectional:  # the right uses its own upper half
        right = buckets[distances > 0]
        assert right.min() >= half and np.all(np.diff(right) >= 0)
    else:  # a causal decoder never looks right; those distances share bucket 0 with distance 0
        assert np.all(buckets[distances > 0] == 0)


@pytest.mark.parametrize("bidirectional, num_buckets, max_distance, match", [
    (True, 2, 128, "num_buckets=2"), (False, 1, 128, "num_buckets=1"), (True, 32, 8, "max_distance=8"),
    (False, 32, 16, "max_distance=16"),
])
def test_bad_bucket_settings_are_refused_in_one_line(bidirectional, num_buckets, max_distance, match):
    with pytest.raises(ValueError, match=match):
        RelativePositionBias(2, bidirectional, num_buckets, max_distance)


def test_a_cached_query_gets_the_bias_row_of_its_position():
    mt.manual_seed(0)
    bias = RelativePositionBias(3, bidirectional=False, num_buckets=8, max_distance=16)
    full = bias(6, 6).data
    assert full.shape == (1, 3, 6, 6)
    np.testing.assert_array_equal(bias(1, 6, query_offset=5).data, full[:, :, 5:6, :])


# ---- the learned bias through attention: dL/dbias = dL/dscores, summed over broadcast axes ----

bias_shapes = st.sampled_from([(3, 4), (1, 3, 4), (2, 3, 4), (1, 2, 3, 4), (2, 1, 3, 4), (1, 1, 3, 4)])


@settings(deadline=None, max_examples=25)
@given(bias_shape=bias_shapes, seed=seeds, is_causal=st.booleans())
def test_a_float_mask_that_requires_grad_gets_the_gradient_of_the_scores(bias_shape, seed, is_causal):
    q, k, v = random_leaf((2, 2, 3, 5), seed), random_leaf((2, 2, 4, 5), seed + 1), random_leaf((2, 2, 4, 3), seed + 2)
    if is_causal:
        k, v = random_leaf((2, 2, 3, 5), seed + 1), random_leaf((2, 2, 3, 3), seed + 2)
        bias_shape = bias_shape[:-1] + (3,)
    bias = random_leaf(bias_shape, seed + 3)
    fused = lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, attn_mask=b, is_causal=is_causal)
    reference = lambda q, k, v, b: F.attention_reference(q, k, v, b, is_causal=is_causal)
    assert_same_outputs_and_grads(fused, reference, [q, k, v, bias])
    assert gradcheck(fused, [q, k, v, bias])


def test_position_bias_of_the_wrong_size_is_named():
    attention = MultiHeadAttention(8, 2)
    x = Tensor(np.zeros((1, 3, 8), np.float32))
    with pytest.raises(ValueError, match=r"position_bias must end in \(queries, keys\) = \(3, 3\), got \(1, 2, 4, 4\)"):
        attention(x, position_bias=Tensor(np.zeros((1, 2, 4, 4), np.float32)))


def test_position_bias_and_padding_combine():
    """The bias shifts the scores; a padded key still gets no weight and no gradient."""
    mt.manual_seed(1)
    attention = MultiHeadAttention(8, 2).double()
    x = random_leaf((2, 4, 8), 3)
    padding = np.array([[False, False, False, True], [False, False, False, False]])
    bias = random_leaf((1, 2, 4, 4), 4)
    out = attention(x, key_padding_mask=padding, position_bias=bias)
    out.sum().backward()
    assert np.all(np.isfinite(bias.grad)) and np.abs(bias.grad).sum() > 0
    # changing the padded key's bias changes nothing
    moved = Tensor(bias.data.copy())
    moved.data[..., 3] += 5.0
    np.testing.assert_allclose(attention(x, key_padding_mask=padding, position_bias=moved).data[0], out.data[0])


# ---- the T5 model, with T5's positions and with absolute ones ----

def test_t5_relative_positions_see_distance_not_place():
    """Shifting the whole input right (padding in front is masked) leaves a relative encoder's output
    for the real tokens unchanged; absolute position embeddings change it."""
    for positions, same in (("relative", True), ("absolute", False)):
        mt.manual_seed(4)
        model = T5(t5_config("micro", positions=positions, relative_buckets=8, relative_max_distance=16)).double()
        ids = np.array([[5, 6, 7, 8]])
        shifted = np.array([[0, 0, 5, 6, 7, 8]])  # 0 is the padding id
        a = model.encode(ids)[0].data[0]
        b = model.encode(shifted)[0].data[0, 2:]
        assert np.allclose(a, b) == same, positions


def test_bert_relative_positions_see_distance_not_place():
    """The same for BERT (the tiny preset's positions): padding in front, masked by attention_mask,
    leaves the real tokens' hidden states unchanged only with relative positions."""
    for positions, same in (("relative", True), ("absolute", False)):
        mt.manual_seed(4)
        model = BERT(bert_config("micro", positions=positions, relative_buckets=8, relative_max_distance=16,
                                 local_start=positions == "relative")).double()
        a = model(np.array([[5, 6, 7, 8]])).data[0]
        b = model(np.array([[0, 0, 5, 6, 7, 8]]), attention_mask=np.array([[0, 0, 1, 1, 1, 1]])).data[0, 2:]
        assert np.allclose(a, b) == same, positions


def test_a_local_bert_start_is_the_tiny_preset_and_favours_neighbours():
    model = BERT(bert_config("tiny"))
    bias = model.position_bias(5, 5).data[0]  # (heads, queries, keys)
    assert (bias[:, 2, 2] == 0).all() and (bias[:, 2, 1] < 0).all() and (bias[:, 2, 0] < bias[:, 2, 1]).all()
    np.testing.assert_allclose(-bias[:, 2, 3], [2.0, 1.0, 0.5, 0.25])  # one slope per head: 2, 1, 1/2, 1/4


def test_the_tiny_bert_finds_its_neighbours_where_absolute_positions_are_still_lost():
    """benchmarks/neighbours_task.py for 200 steps: every token is fixed by its neighbours; the tiny
    preset (relative bias started local) is near 0 while the paper's absolute positions are not."""
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "neighbours_task.py"
    spec = importlib.util.spec_from_file_location("neighbours_task", path)
    task = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(task)
    local = task.losses("bert", 3e-3, until=200)
    absolute = task.losses("bert", 3e-3, until=200, positions="absolute", local_start=False)
    assert local[200] < 0.6 < 1.5 < absolute[200], (local, absolute)


def test_t5_refuses_unknown_positions():
    with pytest.raises(ValueError, match="T5 positions must be one of"):
        T5(t5_config("micro", positions="rotary"))


def test_each_bucket_knows_its_nearest_distance():
    bias = RelativePositionBias(2, bidirectional=True, num_buckets=32, max_distance=128)
    nearest = bias.bucket_distances()
    np.testing.assert_array_equal(nearest[:8], np.arange(8))  # exact to the left (and distance 0)
    np.testing.assert_array_equal(nearest[16:24], [128, 1, 2, 3, 4, 5, 6, 7])  # bucket 16 is never used: +0 is left
    assert np.all(np.diff(nearest[8:16]) > 0) and nearest[15] <= 128
    buckets = relative_position_bucket(-nearest[1:16], True, 32, 128)  # each distance lands in its bucket
    np.testing.assert_array_equal(buckets, np.arange(1, 16))


def test_a_local_start_penalizes_distance_by_each_heads_slope():
    bias = RelativePositionBias(3, bidirectional=True, num_buckets=16, max_distance=32)
    bias.start_local([2.0, 1.0, 0.5])
    b = bias(5, 5).data[0]  # (heads, queries, keys)
    distance = np.abs(np.arange(5)[None, :] - np.arange(5)[:, None])
    np.testing.assert_allclose(b, -np.array([2.0, 1.0, 0.5])[:, None, None] * distance)  # all exact buckets here
    with pytest.raises(ValueError, match=r"one slope and one side per head \(3\)"):
        bias.start_local([1.0, 2.0])


def _attention_from(bias, length: int, query: int) -> np.ndarray:
    """Each head's attention weights (heads, keys) of `query` when the scores are the bias alone."""
    scores = bias(length, length).data[0, :, query]
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return weights / weights.sum(-1, keepdims=True)


def test_neighbour_heads_start_on_the_token_to_the_left_and_the_token_to_the_right():
    bias = RelativePositionBias(4, bidirectional=True, num_buckets=32, max_distance=128)
    bias.start_local(*neighbour_start(4))
    w = _attention_from(bias, 40, query=20)
    assert w[0, 19] > 0.85 and w[0, 20:].sum() < 0.01  # head 0: the left neighbour, nothing of itself or the right
    assert w[1, 21] > 0.85 and w[1, :21].sum() < 0.01  # head 1: the right neighbour
    for head in (2, 3):  # the rest read both sides alike, nearest first
        np.testing.assert_allclose(w[head, 20 - np.arange(1, 15)], w[head, 20 + np.arange(1, 15)])
        assert w[head, 20] == w[head].max()
    np.testing.assert_allclose(w[0, 19::-1][:10], w[1, 21:31], rtol=1e-3)  # the sides mirror (up to the shut tails)


@pytest.mark.parametrize("call, message", [
    (lambda bias: bias.start_local([2.0, 2.0, 1.0, 0.5], [-1, 1, 0]), "one slope and one side per head"),
    (lambda bias: bias.start_local([2.0, 2.0, 1.0, 0.5], [-1, 2, 0, 0]), "each side must be -1"),
    (lambda bias: bias.start_local([2.0, 2.0, 1.0, 0.5], [-1, 0.5, 0, 0]), "each side must be -1"),
    (lambda bias: neighbour_start(1), "needs at least 2 heads"),
])
def test_a_bad_local_start_is_one_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(RelativePositionBias(4, bidirectional=True))


def _cross_attention_weights(model, input_ids, decoder_ids):
    """The first decoder layer's cross-attention weights (B, heads, T, S) for these inputs."""
    import minitransformer.nn.attention as attention_module

    seen = []
    real = attention_module.F.scaled_dot_product_attention

    def spy(q, k, v, **kwargs):
        if q.shape[-2] != k.shape[-2]:  # cross-attention: decoder queries, encoder keys
            seen.append((q.data, k.data))
        return real(q, k, v, **kwargs)
    attention_module.F.scaled_dot_product_attention = spy
    try:
        memory, padding = model.encode(input_ids)
        model.decode(decoder_ids, memory, padding)
    finally:
        attention_module.F.scaled_dot_product_attention = real
    q, k = seen[0]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return weights / weights.sum(-1, keepdims=True)


def test_a_reading_start_sends_a_sentinel_to_the_same_sentinel_in_the_input():
    """init="reading" with value_scale=1: from the first step, the decoder's query at a sentinel it
    has just written puts several times the even share (1/40 here) on that sentinel in the encoder
    input (measured 0.17); GPT-2's init spreads it evenly.  The tiny preset's value_scale=4
    blurs the match at step 0 (measured 0.040-0.053, near the even share), though it is what makes
    every seed lock on in training (models/t5.py, "How T5 starts")."""
    rng = np.random.default_rng(0)
    source = rng.integers(20, 64, (4, 40))
    source[:, 10], source[:, 25] = 2, 3  # two sentinels in every row
    decoder_ids = np.tile([0, 2, 30, 31, 3, 40], (4, 1))  # start, sentinel 2, its text, sentinel 3, ...
    weight_on_match = {}
    for name, init, value_scale in (("gpt2", "gpt2", 1.0), ("reading", "reading", 1.0), ("tiny", "reading", 4.0)):
        mt.manual_seed(5)
        model = T5(t5_config("tiny", vocab_size=64, context_length=48, init=init, value_scale=value_scale,
                             neighbour_heads=init == "reading"))
        with mt.no_grad():
            w = _cross_attention_weights(model, source, decoder_ids)
        weight_on_match[name] = (w[:, :, 1, 10].mean(), w[:, :, 4, 25].mean())
    assert max(weight_on_match["gpt2"]) < 2.0 / 40
    assert min(weight_on_match["reading"]) > 4.0 / 40, weight_on_match
    assert max(weight_on_match["tiny"]) < 2.5 / 40 < min(weight_on_match["reading"]) / 2, weight_on_match


def test_a_reading_start_needs_relative_positions_and_a_known_init():
    with pytest.raises(ValueError, match='needs positions="relative"'):
        T5(t5_config("micro", init="reading"))
    with pytest.raises(ValueError, match="T5 init must be one of"):
        T5(t5_config("micro", init="xavier"))


HOSTILE_RELATIVE_CONFIGS = [  # (what a checkpoint's model_config says, the one line it must fail with)
    ({"relative_buckets": 10**12}, "has at least"),  # the bias tables count toward the weights the file must hold
    ({"relative_buckets": 0}, "relative_buckets must be a positive integer"),
    ({"relative_buckets": -4}, "relative_buckets must be a positive integer"),
    ({"relative_buckets": 2}, "leave no room for exact and log-spaced buckets"),
    ({"relative_max_distance": 10**12}, "max_distance=1000000000000 is above 65,536"),
    ({"relative_max_distance": 0}, "relative_max_distance must be a positive integer"),
    ({"relative_max_distance": "far"}, "relative_max_distance must be a positive integer"),
    ({"positions": "rotary"}, r"positions must be one of \['absolute', 'relative'\], got 'rotary'"),
    ({"positions": None}, r"positions must be one of \['absolute', 'relative'\], got None"),
]
HOSTILE_CONFIGS = [  # T5 and BERT read the same relative-position fields; then each its own start
    *((T5, change, message) for change, message in HOSTILE_RELATIVE_CONFIGS),
    (T5, {"init": "xavier"}, "T5 init must be one of"),
    (T5, {"init": "reading", "positions": "absolute"}, 'needs positions="relative"'),
    (T5, {"bias": "yes"}, "bias must be true or false"),
    (T5, {"value_scale": -4.0}, "value_scale must be a finite number >= 0"),
    (T5, {"value_scale": float("nan")}, "value_scale must be a finite number >= 0"),
    (T5, {"value_scale": "4x"}, "value_scale must be a finite number >= 0"),
    (T5, {"neighbour_heads": "yes"}, "neighbour_heads must be true or false"),
    (T5, {"neighbour_heads": True}, 'is part of init="reading"'),
    (T5, {"neighbour_heads": True, "init": "reading", "n_heads": 1}, "needs at least 2 heads"),
    *((BERT, change, message) for change, message in HOSTILE_RELATIVE_CONFIGS),
    (BERT, {"local_start": True, "positions": "absolute"}, "needs positions='relative'"),
    (BERT, {"local_start": "yes"}, "local_start must be true or false"),
]


@pytest.mark.parametrize("model_class, change, message", HOSTILE_CONFIGS)
def test_a_hostile_relative_config_is_one_clear_error_before_anything_big_is_built(model_class, change, message):
    from dataclasses import asdict

    from minitransformer.models.size import config_from_dict

    make_config = t5_config if model_class is T5 else bert_config
    small = make_config("micro", positions="relative", relative_buckets=8, relative_max_distance=16)
    config = {**asdict(small), **change}
    stored = model_class(small).num_parameters()
    with pytest.raises(ValueError, match=message):
        model_class(config_from_dict(type(small), config, "model config", stored_weights=stored))
