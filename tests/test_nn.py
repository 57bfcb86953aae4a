"""Layers against finite differences, attention's masks and KV cache, and Module's bookkeeping."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitransformer as mt
from minitransformer import Tensor, gradcheck, nn
from helpers import leaf, random_leaf, seeds

D_MODEL, N_HEADS, D_FF = 4, 2, 6


def randomize(module, seed=0, scale=0.5):
    """Overwrite every parameter with N(0, scale^2) noise, so no check passes because of w=1, b=0."""
    rng = np.random.default_rng(seed)
    for p in module.parameters():
        p.data = (rng.standard_normal(p.shape) * scale).astype(p.dtype)
    return module


def gradcheck_module(module, forward, inputs=()):
    """Gradcheck `forward(*inputs)` w.r.t. every parameter of `module` (made float64) and the inputs.

    The parameters are passed to gradcheck as inputs: they are the very Tensors the module uses, so
    gradcheck's in-place perturbation of their data perturbs the module.
    """
    module.double()
    named = list(module.named_parameters())
    params = [p for _, p in named]
    names = [name for name, _ in named] + [f"input {i}" for i in range(len(inputs))]
    return gradcheck(lambda *tensors: forward(*tensors[len(params):]), params + list(inputs), names=names)


def padding_mask():
    """(B=2, S=4): the second sequence has its last two positions padded."""
    return np.array([[False, False, False, False], [False, False, True, True]])


# ---------------------------------------------------------------------------------------------
# Gradchecks of every layer (float64, tiny sizes)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("lead", [(3,), (2, 3)])
def test_linear_gradcheck(bias, lead):
    layer = randomize(nn.Linear(3, 2, bias=bias))
    x = random_leaf(lead + (3,), seed=1)
    assert gradcheck_module(layer, layer, [x])
    assert [name for name, _ in layer.named_parameters()] == (["weight", "bias"] if bias else ["weight"])


def test_embedding_gradcheck_with_repeated_ids():
    layer = nn.Embedding(5, 3)
    ids = np.array([[0, 2, 2], [4, 0, 1]])
    assert gradcheck_module(layer, lambda: layer(ids))
    np.testing.assert_array_equal(layer(ids).data, layer.weight.data[ids])


@pytest.mark.parametrize("eps", [1e-5, 1e-12])
def test_layer_norm_gradcheck(eps):
    layer = randomize(nn.LayerNorm(5, eps=eps))
    assert gradcheck_module(layer, layer, [random_leaf((2, 3, 5), seed=2)])
    plain = nn.LayerNorm(5, eps=eps, elementwise_affine=False)
    assert plain.parameters() == []
    assert gradcheck(plain, [random_leaf((3, 5), seed=3)])


def test_layer_norm_normalizes_and_starts_as_identity_affine():
    layer = nn.LayerNorm(6)
    np.testing.assert_array_equal(layer.weight.data, np.ones(6))
    np.testing.assert_array_equal(layer.bias.data, np.zeros(6))
    x = np.random.default_rng(0).standard_normal((3, 6)) * 5 + 2
    y = layer.double()(leaf(x)).data
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1.0, rtol=1e-5)  # var / (var + eps) with eps=1e-5


@pytest.mark.parametrize("eps", [None, 1e-6])
def test_rms_norm_gradcheck_and_starts_as_identity_gain(eps):
    layer = nn.RMSNorm(5, eps=eps)
    np.testing.assert_array_equal(layer.weight.data, np.ones(5))
    assert [name for name, _ in layer.named_parameters()] == ["weight"] and layer.gains() == [layer.weight]
    x = np.random.default_rng(0).standard_normal((3, 5)) * 5 + 2
    y = layer.double()(leaf(x)).data
    np.testing.assert_allclose((y ** 2).mean(axis=-1), 1.0, rtol=1e-5)  # unit root mean square
    randomize(layer)
    assert gradcheck_module(layer, layer, [random_leaf((2, 3, 5), seed=2)])
    plain = nn.RMSNorm(5, eps=eps, elementwise_affine=False)
    assert plain.parameters() == [] and plain.gains() == []
    assert gradcheck(plain, [random_leaf((3, 5), seed=3)])
    assert repr(nn.RMSNorm(4)) == "RMSNorm((4,), eps=None)"


@pytest.mark.parametrize("cross_attention", [False, True])
def test_transformer_block_with_rms_norm(cross_attention):
    block = randomize(nn.TransformerBlock(D_MODEL, N_HEADS, D_FF, cross_attention=cross_attention, norm="rmsnorm"),
                      seed=14)
    norms = [block.ln_attn, block.ln_mlp] + ([block.ln_cross] if cross_attention else [])
    assert all(isinstance(norm, nn.RMSNorm) for norm in norms)
    assert not any(name.startswith("ln") and name.endswith("bias") for name, _ in block.named_parameters())
    inputs = [random_leaf((2, 4, D_MODEL), seed=15)] + ([random_leaf((2, 3, D_MODEL), seed=16)] if cross_attention else [])
    assert gradcheck_module(block, lambda x, memory=None: block(x, memory, is_causal=True), inputs)
    with pytest.raises(ValueError, match="unknown norm 'groupnorm'; choose one of 'layernorm', 'rmsnorm'"):
        nn.TransformerBlock(D_MODEL, N_HEADS, D_FF, norm="groupnorm")


def test_dropout_gradcheck_seeded_and_identity_in_eval():
    layer = nn.Dropout(0.5)
    x = random_leaf((3, 4), seed=4)

    def seeded(t):
        mt.manual_seed(7)  # the same keep-mask at every evaluation
        return layer(t)

    assert gradcheck(seeded, [x])
    mt.manual_seed(7)
    dropped = layer(x).data
    assert np.any(dropped == 0) and np.any(dropped != 0)
    layer.eval()
    assert layer(x) is x


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_module_gradcheck(approximate):
    x = random_leaf((2, 5), seed=5)
    assert gradcheck(nn.GELU(approximate), [x])
    np.testing.assert_array_equal(nn.GELU(approximate)(x).data, mt.functional.gelu(x, approximate).data)


@pytest.mark.parametrize("activation", ["gelu", "gelu_tanh", "relu"])
def test_feed_forward_gradcheck(activation):
    ffn = randomize(nn.FeedForward(D_MODEL, D_FF, activation=activation), seed=6)
    assert gradcheck_module(ffn, ffn, [random_leaf((2, 3, D_MODEL), seed=7)])


def test_feed_forward_activations_differ_and_bad_activation_is_named():
    x = random_leaf((2, D_MODEL), seed=8)
    outputs = []
    for activation in ("gelu", "gelu_tanh", "relu"):
        mt.manual_seed(0)  # same weights for all three
        outputs.append(nn.FeedForward(D_MODEL, D_FF, activation=activation).double()(x).data)
    assert not np.allclose(outputs[0], outputs[1]) and not np.allclose(outputs[0], outputs[2])
    with pytest.raises(ValueError, match="'swish'"):
        nn.FeedForward(D_MODEL, D_FF, activation="swish")


ATTENTION_MASKS = {
    "none": lambda: {},
    "causal": lambda: {"is_causal": True},
    "key_padding": lambda: {"key_padding_mask": padding_mask()},
    "attn_mask": lambda: {"attn_mask": np.array([[True, False, True, True], [True, True, False, False],
                                                 [False, True, True, False], [True, True, True, True]])},
    "causal_and_padding": lambda: {"is_causal": True, "key_padding_mask": padding_mask()},
}


@pytest.mark.parametrize("mask_kind", sorted(ATTENTION_MASKS))
def test_self_attention_gradcheck(mask_kind):
    attn = randomize(nn.MultiHeadAttention(D_MODEL, N_HEADS), seed=9)
    x = random_leaf((2, 4, D_MODEL), seed=10)
    kwargs = ATTENTION_MASKS[mask_kind]()
    assert gradcheck_module(attn, lambda t: attn(t, **kwargs), [x])


@pytest.mark.parametrize("with_padding", [False, True])
def test_cross_attention_gradcheck_with_longer_memory(with_padding):
    attn = randomize(nn.MultiHeadAttention(D_MODEL, N_HEADS), seed=11)
    x, memory = random_leaf((2, 3, D_MODEL), seed=12), random_leaf((2, 5, D_MODEL), seed=13)
    mask = np.array([[False] * 5, [False, False, False, True, True]]) if with_padding else None
    out = attn(x, memory, key_padding_mask=mask)
    assert out.shape == (2, 3, D_MODEL)
    assert gradcheck_module(attn, lambda t, m: attn(t, m, key_padding_mask=mask), [x, memory])


@pytest.mark.parametrize("pre_norm", [True, False])
@pytest.mark.parametrize("cross_attention", [False, True])
def test_transformer_block_gradcheck(pre_norm, cross_attention):
    block = randomize(nn.TransformerBlock(D_MODEL, N_HEADS, D_FF, pre_norm=pre_norm,
                                          cross_attention=cross_attention), seed=14)
    x = random_leaf((2, 4, D_MODEL), seed=15)
    inputs = [x]
    if cross_attention:
        inputs.append(random_leaf((2, 3, D_MODEL), seed=16))
    mask = padding_mask()

    def forward(x, memory=None):
        return block(x, memory, is_causal=True, key_padding_mask=mask)

    assert gradcheck_module(block, forward, inputs)


def test_pre_norm_and_post_norm_differ_in_where_the_norm_goes():
    x = random_leaf((1, 3, D_MODEL), seed=17)
    mt.manual_seed(1)
    post = nn.TransformerBlock(D_MODEL, N_HEADS, D_FF, pre_norm=False).double()
    out = post(x).data
    # post-norm ends with a LayerNorm (w=1, b=0 at init): every output vector is normalized
    np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-12)
    mt.manual_seed(1)
    pre = nn.TransformerBlock(D_MODEL, N_HEADS, D_FF, pre_norm=True).double()
    assert not np.allclose(pre(x).data.mean(axis=-1), 0.0)


# ---------------------------------------------------------------------------------------------
# Forward values against plain NumPy written from the equations (gradchecks only test the backward)
# ---------------------------------------------------------------------------------------------

erf = np.vectorize(math.erf)
# F.gelu's erf has relative error < 1.2e-7 (see ops/special.py); everything else agrees to rounding
FORWARD_TOLERANCE = dict(rtol=1e-6, atol=1e-7)


def np_linear(x, layer):
    out = x @ layer.weight.data.T
    return out if layer.bias is None else out + layer.bias.data


def np_layer_norm(x, layer):
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + layer.eps) * layer.weight.data + layer.bias.data


def np_feed_forward(x, ffn):
    h = np_linear(x, ffn.fc1)
    if ffn.activation == "relu":
        h = np.maximum(h, 0.0)
    elif ffn.activation == "gelu_tanh":
        h = 0.5 * h * (1 + np.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h ** 3)))
    else:
        h = h * 0.5 * (1 + erf(h / math.sqrt(2)))
    return np_linear(h, ffn.fc2)


def np_attention(attn, x, memory=None, allowed=None):
    """One head at a time: softmax(q_h k_h^T / sqrt(head_size), masked) v_h; heads concatenated.

    allowed: boolean, broadcastable to (B, T, S), True where a query may look at a key.
    """
    source = x if memory is None else memory
    q, k, v = np_linear(x, attn.q_proj), np_linear(source, attn.k_proj), np_linear(source, attn.v_proj)
    size = attn.head_size
    heads = []
    for h in range(attn.n_heads):
        cols = slice(h * size, (h + 1) * size)
        scores = q[..., cols] @ k[..., cols].transpose(0, 2, 1) / math.sqrt(size)
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        heads.append(weights / weights.sum(axis=-1, keepdims=True) @ v[..., cols])
    return np_linear(np.concatenate(heads, axis=-1), attn.out_proj)


def np_block(block, x, memory=None, allowed=None):
    """Pre-norm: x + f(LN(x)); post-norm: LN(x + f(x)); for attention, cross-attention, MLP in turn."""
    def residual(x, norm, sublayer):
        if block.pre_norm:
            return x + sublayer(np_layer_norm(x, norm))
        return np_layer_norm(x + sublayer(x), norm)

    x = residual(x, block.ln_attn, lambda h: np_attention(block.attn, h, allowed=allowed))
    if block.cross_attn is not None:
        x = residual(x, block.ln_cross, lambda h: np_attention(block.cross_attn, h, memory))
    return residual(x, block.ln_mlp, lambda h: np_feed_forward(h, block.mlp))


def allowed_from(kwargs, T, S):
    """The (B, T, S)-broadcastable boolean mask that MultiHeadAttention's keyword arguments describe."""
    allowed = np.ones((1, T, S), dtype=bool)
    if kwargs.get("is_causal"):
        allowed = allowed & np.tril(np.ones((T, S), dtype=bool))
    if "key_padding_mask" in kwargs:
        allowed = allowed & ~kwargs["key_padding_mask"][:, None, :]
    if "attn_mask" in kwargs:
        allowed = allowed & kwargs["attn_mask"]
    return allowed


@pytest.mark.parametrize("activation", ["gelu", "gelu_tanh", "relu"])
def test_feed_forward_forward_matches_numpy(activation):
    ffn = randomize(nn.FeedForward(D_MODEL, D_FF, activation=activation), seed=40).double()
    x = random_leaf((2, 3, D_MODEL), seed=41)
    np.testing.assert_allclose(ffn(x).data, np_feed_forward(x.data, ffn), **FORWARD_TOLERANCE)


def test_linear_embedding_layer_norm_forward_match_numpy():
    x = random_leaf((2, 3, 5), seed=42)
    for bias in (True, False):
        layer = randomize(nn.Linear(5, 2, bias=bias), seed=43).double()
        np.testing.assert_allclose(layer(x).data, np_linear(x.data, layer), rtol=1e-12)
    norm = randomize(nn.LayerNorm(5, eps=1e-3), seed=44).double()
    np.testing.assert_allclose(norm(x).data, np_layer_norm(x.data, norm), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mask_kind", sorted(ATTENTION_MASKS))
def test_self_attention_forward_matches_numpy(mask_kind):
    attn = randomize(nn.MultiHeadAttention(D_MODEL, N_HEADS), seed=45).double()
    x = random_leaf((2, 4, D_MODEL), seed=46)
    kwargs = ATTENTION_MASKS[mask_kind]()
    expected = np_attention(attn, x.data, allowed=allowed_from(kwargs, 4, 4))
    np.testing.assert_allclose(attn(x, **kwargs).data, expected, rtol=1e-10, atol=1e-12)


def test_cross_attention_forward_matches_numpy():
    attn = randomize(nn.MultiHeadAttention(D_MODEL, N_HEADS), seed=47).double()
    x, memory = random_leaf((2, 3, D_MODEL), seed=48), random_leaf((2, 5, D_MODEL), seed=49)
    np.testing.assert_allclose(attn(x, memory).data, np_attention(attn, x.data, memory.data), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("pre_norm", [True, False])
@pytest.mark.parametrize("cross_attention", [False, True])
def test_transformer_block_forward_matches_numpy(pre_norm, cross_attention):
    block = randomize(nn.TransformerBlock(D_MODEL, N_HEADS, D_FF, pre_norm=pre_norm,
                                          cross_attention=cross_attention), seed=50).double()
    x = random_leaf((2, 4, D_MODEL), seed=51)
    memory = random_leaf((2, 3, D_MODEL), seed=52) if cross_attention else None
    mask = padding_mask()
    out = block(x, memory, is_causal=True, key_padding_mask=mask).data
    expected = np_block(block, x.data, None if memory is None else memory.data,
                        allowed=allowed_from({"is_causal": True, "key_padding_mask": mask}, 4, 4))
    np.testing.assert_allclose(out, expected, **FORWARD_TOLERANCE)


# ---------------------------------------------------------------------------------------------
# What the masks promise
# ---------------------------------------------------------------------------------------------


def test_causal_attention_outputs_do_not_depend_on_future_tokens():
    attn = randomize(nn.MultiHeadAttention(D_MODEL, N_HEADS), seed=18).double()
    x = random_leaf((2, 5, D_MODEL), seed=19)
    changed = x.data.copy()
    changed[:, 3:] = 50.0  # rewrite positions 3 and 4
    before, after = attn(x, is_causal=True).data, attn(leaf(changed), is_causal=True).data
    np.testing.assert_allclose(before[:, :3], after[:, :3], rtol=0, atol=1e-12)
    assert not np.allclose(before[:, 3:], after[:, 3:])
    # without the mask the earlier positions do see the change
    assert not np.allclose(attn(x).data[:, :3], attn(leaf(changed)).data[:, :3])


@pytest.mark.parametrize("is_causal", [False, True])
def test_padded_keys_do_not_affect_other_positions(is_causal):
    attn = randomize(nn.MultiHeadAttention(D_MODEL, N_HEADS), seed=20).double()
    x = random_leaf((2, 4, D_MODEL), seed=21)
    mask = padding_mask()
    changed = x.data.copy()
    changed[mask] = -30.0  # rewrite the padded positions of the second sequence
    before = attn(x, key_padding_mask=mask, is_causal=is_causal).data
    after = attn(leaf(changed), key_padding_mask=mask, is_causal=is_causal).data
    np.testing.assert_allclose(before[~mask], after[~mask], rtol=0, atol=1e-12)
    assert not np.allclose(attn(x).data[~mask], attn(leaf(changed)).data[~mask])


def test_attention_mask_hides_exactly_the_masked_keys():
    attn = randomize(nn.MultiHeadAttention(D_MODEL, N_HEADS), seed=22).double()
    x = random_leaf((1, 3, D_MODEL), seed=23)
    allowed = np.array([[True, False, True], [True, True, True], [False, False, True]])
    changed = x.data.copy()
    changed[0, 1] = 9.0  # position 1 is a key only row 1 may see
    before, after = attn(x, attn_mask=allowed).data, attn(leaf(changed), attn_mask=allowed).data
    np.testing.assert_allclose(before[0, [0, 2]], after[0, [0, 2]], rtol=0, atol=1e-12)
    assert not np.allclose(before[0, 1], after[0, 1])


def test_masks_must_be_boolean_so_their_meaning_is_unambiguous():
    attn = nn.MultiHeadAttention(D_MODEL, N_HEADS)
    x = Tensor(np.zeros((2, 4, D_MODEL), np.float32))
    # an additive float mask (0 = attend, -inf = hide) would flip meaning if cast to bool
    with pytest.raises(TypeError, match="attn_mask.*bool"):
        attn(x, attn_mask=np.zeros((4, 4), np.float32))
    # a Hugging Face attention_mask (1 = real token) is the opposite of key_padding_mask
    with pytest.raises(TypeError, match="key_padding_mask.*bool"):
        attn(x, key_padding_mask=np.ones((2, 4), np.int64))


def test_attention_errors_name_the_shapes():
    with pytest.raises(ValueError, match="d_model=6 is not divisible by n_heads=4"):
        nn.MultiHeadAttention(6, 4)
    attn = nn.MultiHeadAttention(D_MODEL, N_HEADS)
    with pytest.raises(ValueError, match=r"\(batch, time, 4\).*\(2, 4\)"):
        attn(Tensor(np.zeros((2, 4), np.float32)))
    x = Tensor(np.zeros((2, 3, D_MODEL), np.float32))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 5\)"):
        attn(x, key_padding_mask=np.zeros((2, 5), bool))
    with pytest.raises(ValueError, match="batch sizes differ"):
        attn(x, Tensor(np.zeros((1, 3, D_MODEL), np.float32)))
    block = nn.TransformerBlock(D_MODEL, N_HEADS, D_FF, cross_attention=True)
    with pytest.raises(ValueError, match="memory="):
        block(x)


# ---------------------------------------------------------------------------------------------
# KV cache: token by token equals the full causal pass
# ---------------------------------------------------------------------------------------------


def run_with_cache(layer, x, chunks, **kwargs):
    """Feed x (B, T, d) through `layer` in consecutive chunks of the given sizes, with a KV cache."""
    cache, outputs, start = nn.KVCache(), [], 0
    for size in chunks:
        outputs.append(layer(x[:, start:start + size], is_causal=True, cache=cache, **kwargs).data)
        start += size
    assert cache.length == x.shape[1]
    return np.concatenate(outputs, axis=1)


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("chunks", [(1, 1, 1, 1, 1), (3, 1, 1)])
def test_attention_with_kv_cache_equals_full_causal_pass(dtype, tolerance, chunks):
    mt.manual_seed(24)
    attn = nn.MultiHeadAttention(D_MODEL, N_HEADS).to(dtype)
    x = Tensor(np.random.default_rng(25).standard_normal((2, 5, D_MODEL)).astype(dtype))
    full = attn(x, is_causal=True).data
    np.testing.assert_allclose(run_with_cache(attn, x, chunks), full, rtol=0, atol=tolerance)


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("pre_norm", [True, False])
def test_transformer_block_with_kv_cache_equals_full_causal_pass(dtype, tolerance, pre_norm):
    mt.manual_seed(26)
    block = nn.TransformerBlock(D_MODEL, N_HEADS, D_FF, pre_norm=pre_norm).to(dtype)
    x = Tensor(np.random.default_rng(27).standard_normal((2, 5, D_MODEL)).astype(dtype))
    full = block(x, is_causal=True).data
    np.testing.assert_allclose(run_with_cache(block, x, (1,) * 5), full, rtol=0, atol=tolerance)


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_decoder_block_with_self_and_cross_caches_equals_full_pass(dtype, tolerance):
    mt.manual_seed(28)
    block = nn.TransformerBlock(D_MODEL, N_HEADS, D_FF, cross_attention=True).to(dtype)
    rng = np.random.default_rng(29)
    x = Tensor(rng.standard_normal((2, 4, D_MODEL)).astype(dtype))
    memory = Tensor(rng.standard_normal((2, 3, D_MODEL)).astype(dtype))
    full = block(x, memory, is_causal=True).data
    cache, cross_cache = nn.KVCache(), nn.KVCache()
    steps = [block(x[:, t:t + 1], memory, is_causal=True, cache=cache, cross_cache=cross_cache).data
             for t in range(4)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, rtol=0, atol=tolerance)
    assert cache.length == 4 and cross_cache.length == 3  # the memory's keys are computed once


@settings(deadline=None, max_examples=25)
@given(chunks=st.lists(st.integers(1, 3), min_size=1, max_size=4), seed=seeds)
def test_any_chunking_of_the_sequence_gives_the_full_pass(chunks, seed):
    mt.manual_seed(seed)
    attn = nn.MultiHeadAttention(D_MODEL, N_HEADS).double()
    x = random_leaf((2, sum(chunks), D_MODEL), seed=seed)
    full = attn(x, is_causal=True).data
    np.testing.assert_allclose(run_with_cache(attn, x, chunks), full, rtol=0, atol=1e-12)


def test_kv_cache_without_causal_flag_is_what_a_cache_is_for():
    """Sanity check that the cached comparison can fail: a non-causal full pass differs."""
    mt.manual_seed(30)
    attn = nn.MultiHeadAttention(D_MODEL, N_HEADS).double()
    x = random_leaf((1, 4, D_MODEL), seed=31)
    assert not np.allclose(run_with_cache(attn, x, (1,) * 4), attn(x).data)


# ---------------------------------------------------------------------------------------------
# Module bookkeeping
# ---------------------------------------------------------------------------------------------


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(3, np.float32))
        self.first = nn.Linear(3, 4)
        self.stack = nn.ModuleList([nn.Linear(4, 4), nn.LayerNorm(4)])
        self.head = nn.Sequential(nn.GELU(), nn.Linear(4, 2, bias=False))
        self.not_a_weight = Tensor(np.ones(2, np.float32))  # plain tensors are not registered
        self.size = 3

    def forward(self, x):
        h = self.first(x * self.scale)
        for layer in self.stack:
            h = layer(h)
        return self.head(h)


def test_registration_and_dotted_names():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "first.weight", "first.bias", "stack.0.weight", "stack.0.bias",
                     "stack.1.weight", "stack.1.bias", "head.1.weight"]
    assert [name for name, _ in model.named_children()] == ["first", "stack", "head"]
    assert [name for name, _ in model.named_modules()] == [
        "", "first", "stack", "stack.0", "stack.1", "head", "head.0", "head.1"]
    assert model.parameters()[1] is model.first.weight
    assert len(model.stack) == 2 and isinstance(model.stack[1], nn.LayerNorm)
    assert isinstance(model.head[-1], nn.Linear)
    assert model(Tensor(np.ones((5, 3), np.float32))).shape == (5, 2)


def test_reassigning_an_attribute_updates_registration():
    layer = nn.Linear(3, 2)
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    layer.weight = nn.Parameter(np.zeros((2, 3), np.float32))
    assert layer.parameters()[0] is layer.weight and layer.num_parameters() == 6
    model = TwoLayer()
    model.first = "gone"
    assert not any(name.startswith("first") for name, _ in model.named_parameters())
    assert "first" not in dict(model.named_children())


def test_transformer_block_parameter_names():
    names = {name for name, _ in nn.TransformerBlock(D_MODEL, N_HEADS, D_FF, cross_attention=True).named_parameters()}
    expected = set()
    for attn in ("attn", "cross_attn"):
        expected |= {f"{attn}.{proj}.{kind}" for proj in ("q_proj", "k_proj", "v_proj", "out_proj")
                     for kind in ("weight", "bias")}
    expected |= {f"{ln}.{kind}" for ln in ("ln_attn", "ln_cross", "ln_mlp") for kind in ("weight", "bias")}
    expected |= {f"mlp.{fc}.{kind}" for fc in ("fc1", "fc2") for kind in ("weight", "bias")}
    assert names == expected


def test_forgetting_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_shared_parameters_are_counted_once():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    model[1].weight = model[0].weight  # tie the weights, as GPT-2 ties its embedding and output layer
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.bias"]
    assert model.num_parameters() == 9 + 3 + 3
    assert len({id(p) for p in model.parameters()}) == len(model.parameters())
    # the gradient of a tied weight is the sum over both uses
    model.double()
    x = random_leaf((2, 3), seed=32)
    assert gradcheck_module(model, model, [x])
    shared_module = nn.Linear(2, 2)
    twice = nn.ModuleList([shared_module, shared_module])
    assert twice.num_parameters() == 6


def test_num_parameters_matches_the_layer_formulas():
    assert nn.Linear(3, 4).num_parameters() == 3 * 4 + 4
    assert nn.Linear(3, 4, bias=False).num_parameters() == 12
    assert nn.Embedding(10, 4).num_parameters() == 40
    assert nn.LayerNorm(4).num_parameters() == 8
    d, f = D_MODEL, D_FF
    attention = 4 * (d * d + d)
    mlp = d * f + f + f * d + d
    assert nn.TransformerBlock(d, N_HEADS, f).num_parameters() == attention + mlp + 2 * 2 * d
    assert nn.TransformerBlock(d, N_HEADS, f, cross_attention=True).num_parameters() == 2 * attention + mlp + 3 * 2 * d


def test_train_and_eval_reach_every_submodule():
    model = nn.Sequential(nn.TransformerBlock(D_MODEL, N_HEADS, D_FF, dropout=0.5), nn.Dropout(0.5))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert len(model.modules()) > 5 and not any(m.training for m in model.modules())
    x = Tensor(np.random.default_rng(33).standard_normal((1, 3, D_MODEL)).astype(np.float32))
    np.testing.assert_array_equal(model(x).data, model(x).data)  # no dropout in eval
    model.train()
    assert all(m.training for m in model.modules())
    mt.manual_seed(0)
    first = model(x).data
    assert not np.array_equal(first, model(x).data)  # dropout draws a new mask each call


def test_zero_grad_clears_every_gradient():
    model = TwoLayer()
    model(Tensor(np.ones((2, 3), np.float32))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_state_dict_round_trip_is_exact_and_copies():
    mt.manual_seed(1)
    source = TwoLayer()
    state = source.state_dict()
    assert list(state) == [name for name, _ in source.named_parameters()]
    state["first.weight"][0, 0] = 123.0  # a copy: the model is not changed
    assert source.first.weight.data[0, 0] != 123.0
    state = source.state_dict()
    mt.manual_seed(2)
    target = TwoLayer()
    assert not np.array_equal(target.first.weight.data, source.first.weight.data)
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (name, a), (_, b) in zip(source.named_parameters(), target.named_parameters()):
        assert a.dtype == b.dtype and np.array_equal(a.data, b.data), name
    state["stack.1.bias"][0] = 7.0  # the model holds its own copy of what it loaded
    assert target.stack[1].bias.data[0] != 7.0
    x = Tensor(np.random.default_rng(34).standard_normal((2, 3)).astype(np.float32))
    np.testing.assert_array_equal(source(x).data, target(x).data)


def test_load_state_dict_missing_and_unexpected_keys():
    model = TwoLayer()
    state = model.state_dict()
    del state["first.bias"]
    state["extra.weight"] = np.zeros(3, np.float32)
    expected = r"missing keys \['first.bias'\].*unexpected keys \['extra.weight'\].*strict=False"
    with pytest.raises(KeyError, match=expected):
        model.load_state_dict(state)
    state["scale"] = np.full(3, 5.0, np.float32)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["first.bias"] and result.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(model.scale.data, 5.0)  # the matching part was loaded


def test_load_state_dict_shape_mismatch_names_key_and_both_shapes():
    model = TwoLayer()
    before = {name: value.copy() for name, value in model.state_dict().items()}
    state = model.state_dict()
    for name in state:
        state[name] = state[name] + 1.0
    state["stack.0.weight"] = np.zeros((4, 5), np.float32)
    for strict in (True, False):
        with pytest.raises(ValueError, match=r"'stack.0.weight'.*\(4, 5\).*\(4, 4\)"):
            model.load_state_dict(state, strict=strict)
    # a failed load changes nothing (not even the keys before the bad one)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_repr_shows_the_tree():
    model = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.ModuleList([nn.LayerNorm(4), nn.Dropout(0.1)]))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): GELU(approximate='none')\n"
        "  (2): ModuleList(\n"
        "    (0): LayerNorm((4,), eps=1e-05)\n"
        "    (1): Dropout(p=0.1)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.MultiHeadAttention(4, 2)).startswith("MultiHeadAttention(d_model=4, n_heads=2\n  (q_proj): Linear(")


def test_parameter_dtype_defaults_to_float32():
    for data in ([1.0, 2.0], 3.0, np.zeros(2, np.float32), np.arange(3), Tensor([1.0, 2.0]),
                 np.zeros(2, np.float16)):
        p = nn.Parameter(data)
        assert p.dtype == np.float32 and p.requires_grad, data
    assert nn.Parameter(np.zeros(2)).dtype == np.float64  # an explicit float64 array is kept (gradchecks)
    assert nn.Parameter([1.0], dtype=np.float64).dtype == np.float64
    for layer in (nn.Linear(2, 3), nn.Embedding(4, 2), nn.LayerNorm(3), nn.TransformerBlock(4, 2, 6)):
        assert all(p.dtype == np.float32 for p in layer.parameters())


def test_double_and_float_convert_every_parameter():
    block = nn.TransformerBlock(D_MODEL, N_HEADS, D_FF)
    assert block.double() is block
    assert all(p.dtype == np.float64 for p in block.parameters())
    block.float()
    assert all(p.dtype == np.float32 for p in block.parameters())


# ---------------------------------------------------------------------------------------------
# What PyTorch code reaches for: containers, buffers, apply, init, tied weights (issue 17)
# ---------------------------------------------------------------------------------------------


class WithBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(2, 2)
        self.register_buffer("mask", mt.tril(mt.ones(2, 2)))
        self.register_buffer("scratch", mt.zeros(2), persistent=False)

    def forward(self, x):
        return self.proj(x) * self.mask[0]


def test_buffers_are_saved_and_moved_but_not_parameters():
    model = WithBuffer()
    assert [name for name, _ in model.named_parameters()] == ["proj.weight", "proj.bias"]
    assert [name for name, _ in model.named_buffers()] == ["mask", "scratch"]
    assert list(model.state_dict()) == ["mask", "proj.weight", "proj.bias"]  # own buffers, then children
    model.double()
    assert model.mask.dtype == np.float64 and model.scratch.dtype == np.float64
    state = model.state_dict()
    state["mask"] = np.full((2, 2), 7.0)
    model.load_state_dict(state)
    assert model.mask.data.tolist() == [[7.0, 7.0], [7.0, 7.0]] and model.mask.dtype == np.float64
    model.mask = mt.ones(2, 2).double()  # assigning a tensor keeps it a buffer
    assert "mask" in dict(model.named_buffers()) and "mask" not in dict(model.named_parameters())
    with pytest.raises(KeyError, match="already has an attribute 'proj'"):
        model.register_buffer("proj", mt.zeros(1))
    with pytest.raises(TypeError, match="must be a Tensor"):
        model.register_buffer("w", np.zeros(1))


def test_tied_weights_are_one_parameter_saved_under_both_names_as_torch():
    model = nn.ModuleDict(dict(wte=nn.Embedding(5, 3), head=nn.Linear(3, 5, bias=False)))
    model.wte.weight = model.head.weight
    assert [name for name, _ in model.named_parameters()] == ["wte.weight"]
    assert list(model.state_dict()) == ["wte.weight", "head.weight"]
    state = {name: np.full(v.shape, 2.0, np.float32) for name, v in model.state_dict().items()}
    assert model.load_state_dict(state).missing_keys == []
    assert model["head"].weight is model.wte.weight and model.wte.weight.data[0, 0] == 2.0


def test_module_dict_and_parameter_list():
    blocks = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.ReLU()})
    blocks["c"] = nn.SiLU()
    assert list(blocks) == ["a", "b", "c"] and len(blocks) == 3 and "b" in blocks and blocks["a"] is blocks.a
    assert [k for k, _ in blocks.items()] == blocks.keys() and [name for name, _ in blocks.named_parameters()] == [
        "a.weight", "a.bias"]
    with pytest.raises(KeyError, match="no key 'z'"):
        blocks["z"]
    with pytest.raises(KeyError, match="hide the method"):
        blocks["train"] = nn.ReLU()
    params = nn.ParameterList([mt.ones(2), nn.Parameter(np.zeros(3, np.float32))])
    assert [name for name, _ in params.named_parameters()] == ["0", "1"] and all(p.requires_grad for p in params)
    x = Tensor(np.array([-1.0, 2.0]))
    assert nn.ReLU()(x).tolist() == [0.0, 2.0] and nn.SiLU()(x).data[1] == pytest.approx(2 / (1 + np.exp(-2)))


def test_apply_init_and_zero_grad_set_to_none():
    model = nn.Sequential(nn.Linear(50, 40), nn.GELU(), nn.Linear(40, 3))
    seen = []

    def init(module):
        seen.append(type(module).__name__)
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            nn.init.zeros_(module.bias)

    mt.manual_seed(0)
    assert model.apply(init) is model and seen == ["Linear", "GELU", "Linear", "Sequential"]
    assert abs(float(model[0].weight.data.std()) - 0.02) < 0.002 and not model[0].bias.data.any()
    nn.init.ones_(model[2].bias)
    nn.init.xavier_uniform_(model[0].weight)
    bound = np.sqrt(6 / (50 + 40))
    assert np.abs(model[0].weight.data).max() <= bound and np.abs(model[0].weight.data).max() > 0.9 * bound
    assert model[2].bias.tolist() == [1.0, 1.0, 1.0] and model[0].weight.dtype == np.float32
    model(Tensor(np.ones((2, 50), np.float32))).sum().backward()
    grad = model[0].weight.grad
    model.zero_grad(set_to_none=False)
    assert model[0].weight.grad is grad and not grad.data.any()
    model.zero_grad()
    assert model[0].weight.grad is None
    with pytest.raises(ValueError, match="at least 2 dims"):
        nn.init.xavier_uniform_(model[0].bias)


def test_nn_functional_is_the_functional_module():
    import minitransformer.nn.functional as NF

    assert NF.gelu is F_module().gelu and NF.cross_entropy is F_module().cross_entropy
    assert NF.causal_mask is F_module().causal_mask  # names outside __all__ too


def F_module():
    from minitransformer import functional

    return functional
