"""GPT, BERT and T5: full-model gradients, masking invariances, cached generation, overfitting."""

import numpy as np
import pytest

import minitransformer as mt
from minitransformer import optim
from minitransformer.models import BERT, GPT, T5, bert_config, build_model, choose_next_token, gpt_config, t5_config
from minitransformer.models.bert import to_hf_name

V = 11


def tiny(kind, **overrides):
    configs = {"gpt": gpt_config, "bert": bert_config, "t5": t5_config}
    sizes = dict(vocab_size=V, context_length=8, n_layers=2, n_heads=2, d_model=8, d_ff=12)
    sizes.update(overrides)
    if kind == "bert":
        sizes.setdefault("dropout", 0.0)
    return {"gpt": GPT, "bert": BERT, "t5": T5}[kind](configs[kind]("micro", **sizes))


def randomize(model, seed=0, scale=0.5):
    """Replace the small N(0, 0.02) init by O(1) weights, so gradients are large enough to check."""
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        base = 1.0 if ("ln" in name and name.endswith("weight")) else 0.0
        p.data = base + rng.standard_normal(p.shape) * scale
    return model


def ids(shape, seed=0, low=1):
    return np.random.default_rng(seed).integers(low, V, shape)


def check_every_parameter(model, loss_fn):
    report = mt.gradcheck_module(model, loss_fn, samples_per_parameter=3, atol=1e-7, rtol=1e-4)
    assert report.passed, "\n" + report.table()
    names = [name for name, *_ in report]
    assert names == [name for name, _ in model.named_parameters()]
    return report


# ---------------------------------------------------------------------------------------------
# full-model gradients, every parameter
# ---------------------------------------------------------------------------------------------


def test_gpt_loss_gradcheck_every_parameter():
    model = randomize(tiny("gpt")).double()
    x = ids((2, 6))
    check_every_parameter(model, lambda: model(x, ids((2, 6), 1))[1])


@pytest.mark.parametrize("positions", ["absolute", "relative"])  # relative: the tiny preset's (T5's bias)
def test_bert_mlm_and_classifier_gradcheck_every_parameter(positions):
    model = randomize(tiny("bert", num_labels=3, positions=positions, relative_buckets=8,
                           relative_max_distance=16)).double()
    assert any("position_bias" in name for name, _ in model.named_parameters()) == (positions == "relative")
    assert any("position_embeddings" in name for name, _ in model.named_parameters()) == (positions == "absolute")
    x = ids((2, 6))
    labels = np.where(np.random.default_rng(3).random((2, 6)) < 0.5, ids((2, 6), 2), -100)
    labels[0, 0] = 4
    attention = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    segments = np.array([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0]])

    def loss():
        _, mlm = model.mlm(x, labels, token_type_ids=segments, attention_mask=attention)
        _, cls = model.classify(x, np.array([2, 0]), token_type_ids=segments, attention_mask=attention)
        return mlm + cls

    check_every_parameter(model, loss)


@pytest.mark.parametrize("positions", ["absolute", "relative"])  # relative: T5's bias (nn/relative_position.py)
def test_t5_loss_gradcheck_every_parameter(positions):
    model = randomize(tiny("t5", positions=positions, relative_buckets=8, relative_max_distance=16)).double()
    assert any("position_bias" in name for name, _ in model.named_parameters()) == (positions == "relative")
    source = ids((2, 7))
    source[1, 5:] = 0  # padding in the encoder input
    targets = ids((2, 5), 1)
    targets[1, 4] = -100
    check_every_parameter(model, lambda: model(source, targets)[1])


def test_module_gradcheck_flags_a_broken_op_at_the_right_parameters(monkeypatch):
    from minitransformer import functional as F

    model = randomize(tiny("gpt")).double()
    x = ids((2, 6))
    original = F.LayerNorm.backward

    def wrong_gain_gradient(ctx, g):
        gx, gw, gb = original(ctx, g)
        return gx, (None if gw is None else gw * 1.5), gb

    monkeypatch.setattr(F.LayerNorm, "backward", staticmethod(wrong_gain_gradient))
    report = mt.gradcheck_module(model, lambda: model(x, ids((2, 6), 1))[1], samples_per_parameter=3,
                                 atol=1e-7, rtol=1e-4)
    failed = report.failures()
    assert failed and all(name.endswith("ln_attn.weight") or name.endswith("ln_mlp.weight")
                          or name == "ln_final.weight" for name in failed)
    assert "NO" in report.table()


# ---------------------------------------------------------------------------------------------
# what each model may and may not see
# ---------------------------------------------------------------------------------------------


def test_gpt_future_tokens_never_change_past_logits():
    model = randomize(tiny("gpt"))
    a = ids((1, 8))
    b = a.copy()
    b[0, 5:] = (b[0, 5:] + 3) % V
    la, lb = model(a)[0].data, model(b)[0].data
    np.testing.assert_allclose(la[0, :5], lb[0, :5], atol=1e-6)
    assert not np.allclose(la[0, 5:], lb[0, 5:])


def test_t5_decoder_is_causal_and_encoder_sees_everything():
    model = randomize(tiny("t5"))
    source, dec = ids((1, 6)), ids((1, 6), 1)
    dec2 = dec.copy()
    dec2[0, 4:] = (dec2[0, 4:] + 2) % V
    l1 = model(source, decoder_input_ids=dec)[0].data
    l2 = model(source, decoder_input_ids=dec2)[0].data
    np.testing.assert_allclose(l1[0, :4], l2[0, :4], atol=1e-6)
    source2 = source.copy()
    source2[0, -1] = (source2[0, -1] + 1) % (V - 1) + 1
    l3 = model(source2, decoder_input_ids=dec)[0].data
    assert not np.allclose(l1[0, 0], l3[0, 0])  # the first output already depends on the last input


def test_bert_padding_never_changes_real_positions():
    model = randomize(tiny("bert"))
    a = ids((2, 8))
    mask = np.ones_like(a)
    mask[1, 5:] = 0
    b = a.copy()
    b[1, 5:] = (b[1, 5:] + 4) % V
    ha, hb = model(a, attention_mask=mask).data, model(b, attention_mask=mask).data
    np.testing.assert_allclose(ha[1, :5], hb[1, :5], atol=1e-6)
    np.testing.assert_allclose(ha[0], hb[0], atol=1e-6)


def test_bert_is_bidirectional_and_cannot_generate():
    model = randomize(tiny("bert"))
    a = ids((1, 6))
    b = a.copy()
    b[0, -1] = (b[0, -1] + 1) % V
    assert not np.allclose(model(a).data[0, 0], model(b).data[0, 0])
    with pytest.raises(TypeError, match="cannot generate"):
        model.generate(a, 5)


# ---------------------------------------------------------------------------------------------
# generation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sampling", [dict(temperature=0), dict(temperature=0.9, seed=3),
                                      dict(temperature=1.2, top_k=4, seed=5), dict(temperature=1.0, top_p=0.8, seed=7)])
def test_gpt_cached_generation_equals_uncached(sampling):
    model = randomize(tiny("gpt")).double()
    prompt = ids((2, 3))
    with_cache = model.generate(prompt, 12, **sampling)  # 15 > context 8: the window slides
    without = model.generate(prompt, 12, use_cache=False, **sampling)
    np.testing.assert_array_equal(with_cache, without)
    assert with_cache.shape == (2, 15)
    np.testing.assert_array_equal(with_cache[:, :3], prompt)


@pytest.mark.parametrize("positions", ["absolute", "relative"])  # relative: the cached query's bias row
@pytest.mark.parametrize("sampling", [dict(temperature=0), dict(temperature=0.8, top_k=5, seed=2)])
def test_t5_cached_generation_equals_uncached(sampling, positions):
    model = randomize(tiny("t5", positions=positions, relative_buckets=8, relative_max_distance=16)).double()
    source = ids((2, 6))
    np.testing.assert_array_equal(model.generate(source, 6, **sampling),
                                  model.generate(source, 6, use_cache=False, **sampling))


def test_generation_stops_at_the_stop_token():
    model = randomize(tiny("gpt"))
    prompt = ids((1, 2))
    free = model.generate(prompt, 6, temperature=0)
    stop = int(free[0, 3])
    stopped = model.generate(prompt, 6, temperature=0, stop_token=stop)
    assert stopped[0, -1] == stop and stopped.shape[1] <= free.shape[1]
    assert stop not in stopped[0, 2:-1]


def test_choose_next_token_rules():
    logits = np.log(np.array([[0.1, 0.6, 0.3]]))
    assert choose_next_token(logits, temperature=0)[0] == 1
    rng = np.random.default_rng(0)
    assert all(choose_next_token(logits, top_k=1, rng=rng)[0] == 1 for _ in range(20))
    assert all(choose_next_token(logits, top_p=0.5, rng=rng)[0] == 1 for _ in range(20))
    draws = [choose_next_token(logits, top_p=0.85, rng=rng)[0] for _ in range(2000)]
    assert 0 not in draws  # 0.6 + 0.3 already covers 0.85
    draws = np.array([choose_next_token(logits, rng=rng)[0] for _ in range(6000)])
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 6000, [0.1, 0.6, 0.3], atol=0.02)
    with pytest.raises(ValueError, match="temperature"):
        choose_next_token(logits, temperature=-1)


# ---------------------------------------------------------------------------------------------
# each model can learn: overfit one tiny batch
# ---------------------------------------------------------------------------------------------


def overfit(model, loss_fn, steps=150, lr=2e-2):
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    first = None
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    return first, loss_fn().item()


def test_each_model_overfits_one_batch():
    mt.manual_seed(0)
    gpt = tiny("gpt", d_model=16, d_ff=32)
    x = ids((2, 8))
    first, last = overfit(gpt, lambda: gpt(x[:, :-1], x[:, 1:])[1])
    assert first > 2.0 and last < 0.05

    bert = tiny("bert", d_model=16, d_ff=32)
    labels = np.full((2, 8), -100)
    labels[:, [1, 4, 6]] = x[:, [1, 4, 6]]
    masked = x.copy()
    masked[:, [1, 4, 6]] = 0
    first, last = overfit(bert, lambda: bert.mlm(masked, labels)[1])
    assert first > 2.0 and last < 0.05

    t5 = tiny("t5", d_model=16, d_ff=32)
    first, last = overfit(t5, lambda: t5(x, x[:, :5])[1])
    assert first > 2.0 and last < 0.05


# ---------------------------------------------------------------------------------------------
# bad input and configuration
# ---------------------------------------------------------------------------------------------


def test_bad_inputs_are_clear_errors():
    gpt, t5 = tiny("gpt"), tiny("t5")
    with pytest.raises(IndexError, match="token id 11 is out of range for a vocabulary of 11"):
        gpt(np.array([[1, 11]]))
    with pytest.raises(ValueError, match="length 9 is longer than the model's context of 8"):
        gpt(ids((1, 9)))
    with pytest.raises(ValueError, match=r"ids\[None, :\]"):
        gpt(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="batch sizes differ"):
        t5(ids((2, 5)), decoder_input_ids=ids((3, 4)))
    with pytest.raises(ValueError, match="unknown gpt preset 'huge'"):
        build_model("gpt", "huge")
    with pytest.raises(ValueError, match="no classifier"):
        tiny("bert").classify(ids((1, 4)), np.array([0]))


def test_presets_match_the_lecture():
    gpt1 = gpt_config("gpt1")
    assert (gpt1.n_layers, gpt1.d_model, gpt1.n_heads, gpt1.d_ff, gpt1.context_length) == (12, 768, 12, 3072, 512)
    tied = GPT(gpt_config("micro"))
    # the output layer reuses the token embedding: no separate (V, d) matrix
    assert not any("head" in name for name, _ in tied.named_parameters())


def test_bert_parameter_names_map_to_hugging_face():
    model = tiny("bert", num_labels=2)
    hf = [to_hf_name(name) for name, _ in model.named_parameters()]
    assert len(set(hf)) == len(hf)
    assert "encoder.layer.1.attention.self.query.weight" in hf
    assert "embeddings.LayerNorm.weight" in hf and "cls.predictions.bias" in hf


def test_bias_free_gpt_has_no_biases_and_gradchecks():
    model = randomize(tiny("gpt", bias=False)).double()
    assert not any(name.endswith("bias") for name, _ in model.named_parameters())
    assert model.blocks[0].ln_attn.weight is not None  # LayerNorm keeps its scale
    x = ids((2, 6))
    check_every_parameter(model, lambda: model(x, ids((2, 6), 1))[1])


def test_generation_window_past_the_context_jumps_by_half_a_context():
    model = tiny("gpt")  # context 8
    starts = [model.window_start(n) for n in range(1, 20)]
    assert starts[:8] == [0] * 8  # everything fits
    for length, start in zip(range(1, 20), starts):
        assert 4 <= length - start <= 8 or length <= 8  # at least half a context, never more than one
    assert sorted(set(starts)) == [0, 4, 8, 12]  # the cache is rebuilt only when the window moves


def test_generate_tokens_pads_finished_rows_with_the_stop_token_and_stops_when_all_are_done():
    from minitransformer.models.generation import generate_tokens

    picks = [[1, 2], [3, 0], [2, 1]]  # the greedy choice of each step for two rows; 2 is the stop token
    calls = []

    def next_logits(ids):
        calls.append(ids.shape[1])
        return np.eye(4)[picks[len(calls) - 1]]

    out = generate_tokens(np.array([[0], [0]]), next_logits, 10, temperature=0, stop_token=2)
    assert out.tolist() == [[0, 1, 3, 2], [0, 2, 2, 2]]  # row 1 keeps writing its stop token
    assert calls == [1, 2, 3]  # each step sees the tokens so far; no step after both rows stopped


def test_each_model_knows_its_layers_and_its_type_name():
    from minitransformer.models import model_type_of

    assert tiny("gpt", n_layers=3).n_transformer_layers == 3
    assert tiny("bert", n_layers=2).n_transformer_layers == 2
    assert tiny("t5", n_layers=2).n_transformer_layers == 4  # encoder + decoder
    assert [model_type_of(tiny(kind)) for kind in ("gpt", "bert", "t5")] == ["gpt", "bert", "t5"]
    assert model_type_of(T5) == "t5"
    with pytest.raises(ValueError, match="none of the model types"):
        model_type_of(mt.nn.Linear(2, 2))


# ---------------------------------------------------------------------------------------------
# the norm (and activation) is a config choice
# ---------------------------------------------------------------------------------------------


def rms_model(kind, **overrides):
    mt.manual_seed(0)
    return tiny(kind, norm="rmsnorm", **overrides)


def norm_layers(model):
    return [(name, m) for name, m in model.named_modules() if isinstance(m, (mt.nn.LayerNorm, mt.nn.RMSNorm))]


@pytest.mark.parametrize("kind", ["gpt", "bert", "t5"])
def test_layernorm_stays_the_default_with_unchanged_parameter_names(kind):
    model = tiny(kind)
    assert model.config.norm == "layernorm" and norm_layers(model)
    assert all(isinstance(m, mt.nn.LayerNorm) for _, m in norm_layers(model))
    names = {name for name, _ in model.named_parameters()}
    assert {f"{name}.bias" for name, _ in norm_layers(model)} <= names  # LayerNorm keeps its shift


@pytest.mark.parametrize("kind", ["gpt", "bert", "t5"])
def test_rmsnorm_models_start_with_unit_gains_and_train_a_step(kind):
    model = rms_model(kind)
    norms = norm_layers(model)
    assert norms and all(isinstance(m, mt.nn.RMSNorm) for _, m in norms)
    for name, m in norms:  # found by role (Module.gains), so N(0, 0.02) never reaches them
        np.testing.assert_array_equal(m.weight.data, 1.0, err_msg=name)
        assert not hasattr(m, "bias")
    x = ids((2, 6))
    losses = {"gpt": lambda: model(x, ids((2, 6), 1))[1], "bert": lambda: model.mlm(x, ids((2, 6), 1))[1],
              "t5": lambda: model(x, ids((2, 5), 1))[1]}
    opt = optim.AdamW(model.parameters(), lr=1e-2)
    before = model.state_dict()
    loss = losses[kind]()
    loss.backward()
    opt.step()
    assert np.isfinite(loss.item()) and all(np.all(np.isfinite(p.data)) for p in model.parameters())
    changed = [name for name, p in model.named_parameters() if not np.array_equal(p.data, before[name])]
    assert any(name.endswith("ln_mlp.weight") for name in changed)  # the gains learn too
    assert losses[kind]().item() < loss.item()


def test_rmsnorm_models_gradcheck_every_parameter():
    x = ids((2, 6))
    gpt = randomize(rms_model("gpt")).double()
    check_every_parameter(gpt, lambda: gpt(x, ids((2, 6), 1))[1])
    bert = randomize(rms_model("bert")).double()
    check_every_parameter(bert, lambda: bert.mlm(x, ids((2, 6), 2))[1])
    t5 = randomize(rms_model("t5")).double()
    check_every_parameter(t5, lambda: t5(x, ids((2, 5), 1))[1])


def test_every_norm_the_factory_builds_declares_its_gain():
    for name in mt.nn.NORMS:
        norm = mt.nn.make_norm(name, 4)
        assert [id(p) for p in norm.gains()] == [id(norm.weight)], name
    with pytest.raises(ValueError, match=r"unknown norm 'batchnorm'; choose one of 'layernorm', 'rmsnorm'"):
        tiny("gpt", norm="batchnorm")


@pytest.mark.parametrize("kind", ["bert", "t5"])
def test_bert_and_t5_take_the_activation_from_their_config(kind):
    model = tiny(kind, activation="relu")
    assert all(block.mlp.activation == "relu" for block in model.modules()
               if isinstance(block, mt.nn.TransformerBlock))
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        tiny(kind, activation="swish")


def test_t5_fills_answer_each_sentinel_of_the_input_once_in_order():
    """span_structure: whatever the decoder prefers, the target reads <s0> span <s1> span </s>."""
    from minitransformer.models.demos import span_structure

    every_sentinel, eos, vocab = [3, 4, 5, 6], 2, 10
    constrain = span_structure([3, 4], every_sentinel, eos)
    rng = np.random.default_rng(0)
    for trial in range(20):
        ids = np.zeros((1, 1), dtype=np.int64)  # the start token
        for _ in range(12):
            logits = rng.normal(size=(1, vocab))
            logits[0, rng.choice(every_sentinel)] += 5.0  # a decoder that loves to open new spans
            logits = constrain(ids, logits)
            next_id = int(np.argmax(logits[0]))
            ids = np.concatenate([ids, [[next_id]]], axis=1)
            if next_id == eos:
                break
        written = ids[0, 1:].tolist()
        assert written[0] == 3 and written[-1] == eos, written
        sentinels = [t for t in written if t in every_sentinel]
        assert sentinels == [3, 4], written  # each of the input's sentinels once, in order, none invented
        assert written.index(4) >= 2 and len(written) - written.index(4) >= 3  # no empty span


def test_a_span_starts_with_a_token_its_gap_allows():
    """first_tokens: the span of sentinel 4 may only start with 7 or 8 (say, the tokens that begin
    with a space); sentinel 3's span is free.  fill_spans_t5 asks it for a gap written after a space."""
    from minitransformer.models.demos import span_structure

    every_sentinel, eos, vocab = [3, 4, 5, 6], 2, 10
    allowed = np.isin(np.arange(vocab), [7, 8])
    constrain = span_structure([3, 4], every_sentinel, eos, first_tokens={4: allowed})
    rng = np.random.default_rng(1)
    firsts = {3: set(), 4: set()}
    for trial in range(30):
        ids = np.zeros((1, 1), dtype=np.int64)
        for _ in range(12):
            next_id = int(np.argmax(constrain(ids, rng.normal(size=(1, vocab)))[0]))
            if ids[0, -1] in firsts:
                firsts[int(ids[0, -1])].add(next_id)
            ids = np.concatenate([ids, [[next_id]]], axis=1)
            if next_id == eos:
                break
    assert firsts[4] and firsts[4] <= {7, 8}, firsts
    assert firsts[3] - {7, 8}, firsts  # unconstrained: other tokens too


def test_t5_fills_a_gap_written_after_a_space_with_text_that_starts_with_one():
    from minitransformer.models.demos import fill_spans_t5
    from minitransformer.pretrain import make_tokenizer
    from minitransformer.objectives import SpanCorruption

    tokenizer = make_tokenizer("the return statement returns a value; values are returned. " * 30, 300,
                               SpanCorruption.tokenizer_special_tokens(16))
    for seed in range(5):
        mt.manual_seed(seed)
        model = build_model("t5", "micro", vocab_size=tokenizer.vocab_size, pad_id=tokenizer.token_to_id("[PAD]"))
        filled = fill_spans_t5(model, tokenizer, "the<extra_id_0> statement returns a <extra_id_1> value")
        assert filled.startswith("<extra_id_0>"), filled
        second = filled.split("<extra_id_1>")[1]
        assert second[:1] == " ", filled  # untrained, the model's favourite may be anything; the space is the text's


def test_a_space_before_a_gap_belongs_to_the_hidden_token():
    """'The [MASK] statement' reads as 'The' [MASK] 'Ġstatement', the way pretraining masks ' return',
    not 'The' 'Ġ' [MASK]; a character tokenizer, whose space is a token of its own, keeps it."""
    from minitransformer.models.demos import encode_with_gaps
    from minitransformer.tokenizers import BPETokenizer, CharTokenizer

    bpe = BPETokenizer(kind="byte")
    bpe.train("the return statement returns a value " * 20, vocab_size=280,
              special_tokens=["[MASK]", "<extra_id_0>", "<extra_id_1>"])
    mask, s0, s1 = (bpe.token_to_id(t) for t in ("[MASK]", "<extra_id_0>", "<extra_id_1>"))
    assert encode_with_gaps(bpe, "the [MASK] statement") == bpe.encode("the") + [mask] + bpe.encode(" statement")
    assert encode_with_gaps(bpe, "the [MASK]") == bpe.encode("the") + [mask]
    assert encode_with_gaps(bpe, "a <extra_id_0> b <extra_id_1>") == bpe.encode("a") + [s0] + bpe.encode(" b") + [s1]
    assert encode_with_gaps(bpe, "the  [MASK]") == bpe.encode("the ") + [mask]  # only the one space next to it
    chars = CharTokenizer.from_text("the statement a", special_tokens=["[MASK]"])
    assert encode_with_gaps(chars, "the [MASK]") == chars.encode("the ") + [chars.token_to_id("[MASK]")]


@pytest.mark.parametrize("kind", ["gpt", "bert", "t5"])
def test_preset_parameters_counts_a_model_exactly_without_building_it(kind):
    from minitransformer.models import MODEL_TYPES
    from minitransformer.models.size import preset_parameters

    model_class, _, presets = MODEL_TYPES[kind]
    config = presets["tiny"]
    assert preset_parameters(model_class, config) == build_model(kind, "tiny").num_parameters()


def test_the_t5_small_preset_has_t5_smalls_parameters():
    """60,506,624: Hugging Face's count, from
    sum(p.numel() for p in T5ForConditionalGeneration(T5Config(vocab_size=32128, d_model=512, d_ff=2048,
    num_layers=6, num_heads=8)).parameters())  (transformers 5.24).  Biases would add 67,584."""
    from minitransformer.models.size import preset_parameters

    assert preset_parameters(T5, t5_config("t5-small")) == 60_506_624
    assert preset_parameters(T5, t5_config("t5-small", bias=True)) == 60_506_624 + 67_584
