"""PyTorch-style code runs unchanged: the nanoGPT-style GPT of pytorch_style_gpt.py, given
(minitransformer, minitransformer.nn, minitransformer.nn.functional) as (torch, nn, F), matches
what PyTorch computed from the same weights (tests/data/pytorch_style_gpt_golden.npz, made by
benchmarks/golden/make_pytorch_style_gpt_golden.py; torch is not imported here)."""

import json
from pathlib import Path

import numpy as np
import pytest

import minitransformer as mt
import minitransformer.nn as nn
import minitransformer.nn.functional as F
import pytorch_style_gpt as gpt

DATA = Path(__file__).resolve().parent / "data"
GOLDEN = np.load(DATA / "pytorch_style_gpt_golden.npz")
INFO = json.loads((DATA / "pytorch_style_gpt_golden.json").read_text())
LIB = gpt.define(mt, nn, F)
TOLERANCE = 1e-9


def golden(prefix: str) -> dict:
    return {key[len(prefix) + 1:]: GOLDEN[key] for key in GOLDEN.files if key.startswith(prefix + "/")}


def torch_weights(flash: bool = True):
    """The model built by minitransformer (float64), holding the weights PyTorch initialized."""
    mt.manual_seed(0)
    model = LIB.GPT(gpt.GPTConfig(**{**INFO["config"], "flash": flash})).double()
    result = model.load_state_dict(golden("state"))  # strict: every key, buffers and both tied names
    assert result.missing_keys == [] and result.unexpected_keys == []
    return model


def test_state_dict_has_pytorchs_keys_in_pytorchs_order():
    model = torch_weights()
    assert list(model.state_dict()) == list(golden("state"))  # includes attn.bias buffers, lm_head.weight
    assert model.lm_head.weight is model.transformer.wte.weight
    assert "transformer.h.0.attn.bias" not in dict(model.named_parameters())  # a buffer, not a weight
    assert model.get_num_params() == sum(v.size for k, v in golden("grad").items()) - 8 * 16


@pytest.mark.parametrize("flash", [True, False])
def test_same_loss_and_gradients_as_pytorch_in_float64(flash):
    model = torch_weights(flash)
    X, Y = mt.tensor(GOLDEN["X"]), mt.tensor(GOLDEN["Y"])
    logits, loss = model(X, Y)
    assert logits.shape == (*GOLDEN["X"].shape, INFO["config"]["vocab_size"]) and loss.dtype == np.float64
    assert abs(loss.item() - float(GOLDEN["loss"])) < TOLERANCE
    loss.backward()
    grads = golden("grad")
    assert [name for name, _ in model.named_parameters()] == list(grads)
    for name, p in model.named_parameters():
        assert isinstance(p.grad, mt.Tensor)
        np.testing.assert_allclose(p.grad.numpy(), grads[name], rtol=0, atol=TOLERANCE, err_msg=name)


def test_same_losses_and_weights_after_three_adamw_steps_with_groups_and_clipping():
    model = torch_weights()
    train = {k: tuple(v) if isinstance(v, list) else v for k, v in INFO["train"].items() if k != "steps"}
    losses = LIB.train_steps(model, mt.tensor(GOLDEN["X"]), mt.tensor(GOLDEN["Y"]), INFO["train"]["steps"], **train)
    np.testing.assert_allclose(losses, GOLDEN["losses"], rtol=0, atol=TOLERANCE)
    assert losses[-1] < losses[0] - 0.3  # it learned, so the comparison is of a real trajectory
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.data, golden("final")[name], rtol=0, atol=TOLERANCE, err_msg=name)


def test_generation_runs_and_greedy_tokens_are_pytorchs():
    model = torch_weights()
    greedy = model.generate(mt.tensor(GOLDEN["prompt"]), 6, top_k=1)
    np.testing.assert_array_equal(greedy.numpy(), GOLDEN["greedy"])
    mt.manual_seed(1)
    sampled = model.generate(mt.tensor(GOLDEN["prompt"]), 10, temperature=0.8, top_k=5)  # past block_size: cropped
    assert sampled.shape == (1, 13) and sampled.dtype == np.int64
    assert ((sampled.numpy() >= 0) & (sampled.numpy() < INFO["config"]["vocab_size"])).all()
    assert mt.is_grad_enabled()  # generate ran under @no_grad(), which is undone after it


def test_float32_model_gives_pytorchs_float64_loss_to_float32_precision():
    mt.manual_seed(0)
    model = LIB.GPT(gpt.GPTConfig(**INFO["config"]))  # float32: loading casts the float64 arrays
    model.load_state_dict(golden("state"))
    loss = model(mt.tensor(GOLDEN["X"]), mt.tensor(GOLDEN["Y"]))[1]
    assert loss.dtype == np.float32 and abs(loss.item() - float(GOLDEN["loss"])) < 1e-5
