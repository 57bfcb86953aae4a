"""Instruments: backward trace, per-parameter gradcheck, shape trace, tape memory, Adam stats, MFU."""

import io
import math

import numpy as np
import pytest

import minitransformer as mt
from minitransformer import functional as F
from minitransformer import info, optim
from minitransformer import tensor as tensor_module
from minitransformer.instruments import (adam_stats, dimension_names, local_rule, print_backward_trace, shape_trace,
                                         tape_memory, trace_backward)
from minitransformer.models import GPT, gpt_config
from minitransformer.nn import module as nn_module
from minitransformer.train import CausalLM, TrainConfig, train
from helpers import Cube

V = 11


def tiny_gpt(**overrides):
    sizes = dict(vocab_size=V, context_length=8, n_layers=2, n_heads=2, d_model=8, d_ff=12)
    sizes.update(overrides)
    mt.manual_seed(0)
    return GPT(gpt_config("micro", **sizes))


def randomize(model, seed=0, scale=0.5):
    """O(1) weights instead of N(0, 0.02), so gradients are large enough to check."""
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        base = 1.0 if ("ln" in name and name.endswith("weight")) else 0.0
        p.data = (base + rng.standard_normal(p.shape) * scale).astype(p.dtype)
    return model


def ids(shape, seed=0, vocab=V):
    return np.random.default_rng(seed).integers(0, vocab, shape)


def mlp_loss(x, w1, b1, w2):
    """A small MLP, with x used twice and a broadcast bias, so gradients are summed and reduced."""
    h = (x @ w1.T + b1).relu() * x.sum(dim=1, keepdim=True)
    return F.cross_entropy(h @ w2.T, np.array([0, 2, 1, 2]))


def mlp_leaves(seed=0):
    rng = np.random.default_rng(seed)
    return [mt.Tensor(rng.standard_normal(shape), requires_grad=True) for shape in [(4, 3), (5, 3), (5,), (3, 5)]]


def grads_by_backward(make_loss, leaves):
    for t in leaves:
        t.grad = None
    make_loss().backward()
    grads = [t.grad.clone() for t in leaves]
    for t in leaves:
        t.grad = None
    return grads


# ---------------------------------------------------------------------------------------------
# trace_backward
# ---------------------------------------------------------------------------------------------


def check_trace_is_the_backward_pass(steps, loss, leaves):
    """Every node once, each after all its consumers; what arrives is the sum of what was sent."""
    position = {id(step.output): step.index for step in steps}
    assert len(position) == len(steps) and steps[0].output is loss
    assert [s.index for s in steps] == list(range(1, len(steps) + 1))
    arrived = {id(loss): np.ones_like(loss.data)}
    for step in steps:
        np.testing.assert_array_equal(step.grad_output, arrived.pop(id(step.output)))
        assert step.grad_norm == pytest.approx(np.linalg.norm(step.grad_output))
        for i in step.inputs:
            if i.grad is None:
                continue
            assert i.grad.shape == i.shape == i.tensor.shape
            if not i.tensor.is_leaf:
                assert position[id(i.tensor)] > step.index, "a node was visited before one of its consumers"
            previous = arrived.get(id(i.tensor))
            arrived[id(i.tensor)] = i.grad if previous is None else previous + i.grad
    for leaf in leaves:  # what reached each leaf is exactly its .grad
        np.testing.assert_array_equal(arrived.pop(id(leaf)), leaf.grad)
    assert not arrived


def test_trace_of_an_mlp_gives_backwards_gradients_in_reverse_topological_order():
    leaves = mlp_leaves()
    expected = grads_by_backward(lambda: mlp_loss(*leaves), leaves)
    loss = mlp_loss(*leaves)
    steps = list(trace_backward(loss, names={"x": leaves[0], "w1": leaves[1], "b1": leaves[2], "w2": leaves[3]}))
    for leaf, grad in zip(leaves, expected):
        np.testing.assert_array_equal(leaf.grad, grad)
    check_trace_is_the_backward_pass(steps, loss, leaves)
    assert steps[0].op == "CrossEntropy" and steps[0].grad_norm == 1.0
    bias_add = next(s for s in steps if any(i.source == "b1" for i in s.inputs))
    assert bias_add.op == "Add" and [i.shape for i in bias_add.inputs] == [(4, 5), (5,)]  # summed over the batch
    sources = {i.source for s in steps for i in s.inputs}
    assert {"x", "w1", "b1", "w2", "MatMul", "Relu"} <= sources


def test_trace_of_a_gpt_fills_grads_exactly_as_backward_does():
    model = tiny_gpt()
    x, y = ids((2, 6)), ids((2, 6), 1)
    params = model.parameters()
    expected = grads_by_backward(lambda: model(x, y)[1], params)
    loss = model(x, y)[1]
    steps = list(trace_backward(loss, names=model))
    for (name, p), grad in zip(model.named_parameters(), expected):
        np.testing.assert_array_equal(p.grad, grad, err_msg=name)
    check_trace_is_the_backward_pass(steps, loss, params)
    reached = {i.source for s in steps for i in s.inputs}
    assert {name for name, _ in model.named_parameters()} <= reached
    ops = [s.op for s in steps]
    assert ops[:3] == ["CrossEntropy", "Reshape", "Linear"] and ops.count("Attention") == 2
    assert ops[-3:] == ["Add", "Embedding", "Embedding"]  # token + position embeddings, reached last


def test_rules_come_from_the_functions_docstrings_including_your_own():
    class Undocumented(Cube):
        pass

    x = mt.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    steps = list(trace_backward(Undocumented.apply(Cube.apply(x)).sum()))
    assert [s.op for s in steps] == ["Sum", "Undocumented", "Cube"]
    assert steps[2].rule == "y = x^3;  dy/dx = 3 x^2."
    assert "Undocumented has no docstring" in steps[1].rule
    np.testing.assert_allclose(steps[2].inputs[0].grad, 3 * x.data ** 2 * 3 * (x.data ** 3) ** 2)
    assert "Backward" in local_rule(F.LayerNorm) and "dL/dx" in local_rule(F.Linear)
    assert local_rule(tensor_module.Mul) == "z = a * b;  dz/da = b, dz/db = a."


def test_stepping_through_backward_one_node_at_a_time():
    leaves = mlp_leaves()
    steps = trace_backward(mlp_loss(*leaves))
    first = next(steps)
    assert first.op == "CrossEntropy" and all(t.grad is None for t in leaves)  # leaves come last
    rest = list(steps)
    assert rest and all(t.grad is not None for t in leaves)


def test_trace_frees_the_graph_unless_retained_and_checks_its_arguments_at_once():
    leaves = mlp_leaves()
    loss = mlp_loss(*leaves)
    list(trace_backward(loss, retain_graph=True))
    first = leaves[1].grad.clone()
    list(trace_backward(loss))  # the graph was kept; this time it is freed
    np.testing.assert_allclose(leaves[1].grad, 2 * first)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    out = leaves[0] * 2.0
    with pytest.raises(RuntimeError, match="scalar output"):
        trace_backward(out)  # raised here, not at the first next()


def test_print_backward_trace_shows_each_node_its_rule_and_parameter_names():
    model = tiny_gpt(n_layers=1)
    buffer = io.StringIO()
    steps = print_backward_trace(model(ids((2, 4)), ids((2, 4), 1))[1], names=model, file=buffer)
    text = buffer.getvalue()
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["step", "op", "output", "|dL/dout|"]
    assert sum(1 for line in lines if line[:4].strip().isdigit()) == len(steps)
    assert "token_embedding.weight [11, 8]" in text and "blocks.0.attn.q_proj.bias [8]" in text
    assert "| Backward, with dO the incoming gradient" in text


# ---------------------------------------------------------------------------------------------
# gradcheck_module points at the parameters a broken op breaks
# ---------------------------------------------------------------------------------------------


def linear_parameters(model, kind):
    """Names of the weights or biases of every Linear module (GPT's tied output layer is not one)."""
    return {f"{name}.{kind}" for name, m in model.named_modules() if isinstance(m, mt.nn.Linear)}


@pytest.mark.parametrize("broken", ["bias", "weight"])
def test_module_gradcheck_table_points_at_what_a_broken_linear_backward_breaks(monkeypatch, broken):
    model = randomize(tiny_gpt()).double()
    x, y = ids((2, 6)), ids((2, 6), 1)
    loss_fn = lambda: model(x, y)[1]  # noqa: E731
    assert mt.gradcheck_module(model, loss_fn, samples_per_parameter=3, atol=1e-7, rtol=1e-4).passed

    original = F.Linear.backward

    def wrong(ctx, g):
        gx, gw, gb = original(ctx, g)
        if broken == "bias":
            return gx, gw, (None if gb is None else gb * 1.5)
        return gx, (None if gw is None else gw * 1.5), gb

    monkeypatch.setattr(F.Linear, "backward", staticmethod(wrong))
    report = mt.gradcheck_module(model, loss_fn, samples_per_parameter=3, atol=1e-7, rtol=1e-4)
    expected = linear_parameters(model, broken)
    if broken == "weight":
        expected.add("token_embedding.weight")  # the output layer is F.linear with the tied embedding
    else:  # k_proj's bias adds q.b to every score of a row, which softmax ignores: its gradient is 0, 1.5 x 0 = 0
        expected -= {name for name in expected if "k_proj" in name}
    assert set(report.failures()) == expected
    rows = {row[0]: row for row in report}
    assert all(rows[name][3] > 0.1 for name in expected)  # relative error ~ 1/3 where the gradient is 1.5x
    assert report.table().count(" NO") == len(expected)


# ---------------------------------------------------------------------------------------------
# shape_trace
# ---------------------------------------------------------------------------------------------


def test_shape_trace_of_gpt_is_a_tree_in_letters():
    model = tiny_gpt(vocab_size=50, context_length=16, n_layers=2, d_model=16, d_ff=64)  # B3 T5 C16 V50 H2 D8 F=4C
    with shape_trace() as trace:
        model(ids((3, 5), vocab=50))
    lines = trace.render().splitlines()
    assert lines[0] == "shapes: B=3, T=5, C=16, V=50, H=2, D=8, 4C=64"
    assert lines[1].split() == ["GPT", "[B,", "T]", "->", "([B,", "T,", "V],", "None)"]
    fc1 = next(line for line in lines if "fc1 (Linear)" in line)
    assert fc1.startswith("      fc1") and fc1.endswith("[B, T, C] -> [B, T, 4C]")
    assert any(line.startswith("  position_embedding (Embedding)") and line.endswith("[T] -> [T, C]") for line in lines)
    assert any(line.startswith("    attn (MultiHeadAttention)") for line in lines)
    assert sum(line.lstrip().startswith("blocks.") for line in lines) == 2
    per_block = 13  # block, 2 norms, attn + 4 projections, dropout, mlp + fc1, fc2, dropout
    assert len(trace.calls) == 4 + 2 * per_block + 1
    assert [(c.depth, c.name, c.kind) for c in trace.calls[:2]] == [(0, "GPT", "GPT"),
                                                                   (1, "token_embedding", "Embedding")]


def test_shape_trace_shows_ambiguous_sizes_as_numbers_and_stops_recording_after():
    names, ambiguous = dimension_names(gpt_config("micro"), (2, 16))  # T = C = 16, B = H = 2, V = F = 32
    assert ambiguous == [2, 16, 32] and names == {8: "D"}
    model = tiny_gpt(vocab_size=32, context_length=16, d_model=16, d_ff=32, n_layers=1)
    with shape_trace() as trace:
        model(ids((2, 16), vocab=32))
    text = trace.render()
    assert "shown as numbers, as more than one letter has the size: 2, 16, 32" in text
    assert "[2, 16] -> ([2, 16, 32], None)" in text
    count = len(trace.calls)
    model(ids((2, 4), vocab=32))
    assert len(trace.calls) == count and nn_module._forward_observers == []


def test_shape_trace_of_a_bare_layer_names_only_what_it_knows():
    layer = mt.nn.Linear(3, 5)
    with shape_trace(N=4) as trace:
        layer(mt.Tensor(np.ones((4, 3))))  # a 2-D float batch: not (B, T), so no B or T
    assert trace.render().splitlines() == ["shapes: N=4", "Linear  [N, 3] -> [N, 5]"]


def test_shape_trace_survives_an_exception_inside_a_module():
    model = tiny_gpt()
    bad = np.full((1, 3), V)  # out of the vocabulary
    with pytest.raises(IndexError):
        with shape_trace() as trace:
            model(bad)
    assert nn_module._forward_observers == []
    assert trace.calls[0].output == "(raised an exception)"
    with shape_trace() as trace:
        model(ids((1, 3)))
    assert trace.calls[0].depth == 0 and trace.calls[1].depth == 1


# ---------------------------------------------------------------------------------------------
# tape_memory
# ---------------------------------------------------------------------------------------------


def saved_in_graph(loss):
    """Walk the graph from the loss: every context once, with the arrays it saved."""
    contexts, stack, seen = [], [loss], set()
    while stack:
        t = stack.pop()
        if t._ctx is None or id(t._ctx) in seen:
            continue
        seen.add(id(t._ctx))
        contexts.append(t._ctx)
        stack.extend(i for i in t._ctx.inputs if isinstance(i, mt.Tensor))
    arrays = [a for ctx in contexts for a in ctx.saved_tensors if isinstance(a, np.ndarray)]
    return contexts, arrays


def test_tape_memory_totals_equal_what_the_graph_holds():
    model = tiny_gpt(n_layers=2)
    with tape_memory() as tape:
        loss = model(ids((3, 7)), ids((3, 7), 1))[1]
    contexts, arrays = saved_in_graph(loss)
    assert len(tape.nodes) == len(contexts)
    assert tape.total_bytes == sum(a.nbytes for a in arrays) > 0
    from minitransformer.instruments.memory import memory_key
    distinct = {memory_key(a): a for a in arrays}
    assert tape.distinct_bytes == sum(a.nbytes for a in distinct.values()) < tape.total_bytes  # q, k, v share x
    parameter_ids = {memory_key(p.data) for p in model.parameters()}
    assert tape.saved_parameter_bytes == sum(a.nbytes for k, a in distinct.items() if k in parameter_ids) > 0
    assert tape.parameter_bytes == sum(p.data.nbytes for p in model.parameters())
    for groups in (tape.by_op(), tape.by_module()):
        assert sum(nbytes for _, nbytes in groups.values()) == tape.total_bytes
        assert sum(count for count, _ in groups.values()) == len(tape.nodes)
    assert tape.by_op()["Linear"][0] == 6 * 2 + 1  # 6 per block, plus the tied output layer
    modules = tape.by_module()
    assert modules["blocks.1.attn"][1] >= 3 * 2 * 7 * 7 * 4  # at least the (B, H, T, T) probabilities
    assert modules["blocks.0.attn.q_proj"][1] == 3 * 7 * 8 * 4 + 8 * 8 * 4  # input and weight, float32
    text = tape.table()
    assert "blocks.0.mlp.fc1" in text and f"{len(tape.nodes)} nodes" in text and "x the parameters" in text
    assert tensor_module._tape_recorders == [] and nn_module._forward_observers == []


def test_under_no_grad_nothing_is_saved():
    model = tiny_gpt()
    with mt.no_grad(), tape_memory() as tape:
        model(ids((2, 5)), ids((2, 5), 1))
    assert tape.nodes == [] and tape.total_bytes == tape.distinct_bytes == 0
    assert tape.parameter_bytes > 0


def test_tape_memory_without_modules_counts_ops_outside_any_module():
    leaves = mlp_leaves()
    with tape_memory() as tape:
        loss = mlp_loss(*leaves)
    _, arrays = saved_in_graph(loss)
    assert set(tape.by_module()) == {"(no module)"} and tape.total_bytes == sum(a.nbytes for a in arrays)


# ---------------------------------------------------------------------------------------------
# adam_stats
# ---------------------------------------------------------------------------------------------


def test_adam_stats_match_the_step_the_optimizer_took():
    model = randomize(tiny_gpt(), scale=0.3).double()
    lr, wd = 1e-2, 0.1
    optimizer = optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    x, y = ids((2, 6)), ids((2, 6), 1)
    for step in range(3):
        before = {name: p.data.copy() for name, p in model.named_parameters()}
        optimizer.zero_grad()
        model(x, ids((2, 6), step))[1].backward()
        optimizer.step()
    stats = adam_stats(optimizer, model)
    assert [row.name for row in stats] == [name for name, _ in model.named_parameters()]
    assert all(row.step == 3 and math.isfinite(row.update_ratio) and row.mean_step > 0 for row in stats)
    for row in stats:  # AdamW: w <- w (1 - lr wd) - update, so the update is what decay does not explain
        p = dict(model.named_parameters())[row.name]
        update = before[row.name] * (1 - lr * wd) - p.data
        assert row.update_ratio == pytest.approx(np.linalg.norm(update) / np.linalg.norm(p.data), rel=1e-9)
        assert row.mean_step == pytest.approx(np.abs(update).mean(), rel=1e-9)
    assert all(row.mean_step <= lr * (1 + 1e-9) for row in stats)  # Adam moves each element by at most ~lr
    text = stats.table()
    assert "blocks.1.mlp.fc2.weight" in text and "update/weight" in text


def test_adam_stats_refuses_other_optimizers_and_unstepped_ones():
    model = tiny_gpt()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="after optimizer.step"):
        adam_stats(optimizer, model)
    model(ids((2, 4)), ids((2, 4), 1))[1].backward()
    optimizer.step()
    with pytest.raises(TypeError, match="momentum_buffer"):
        adam_stats(optimizer, model)


# ---------------------------------------------------------------------------------------------
# the trainer's achieved FLOP/s against the matmul probe
# ---------------------------------------------------------------------------------------------


def test_trainer_reports_achieved_flops_against_the_matmul_probe(tmp_path):
    model = tiny_gpt(context_length=8)
    tokens = np.random.default_rng(0).integers(0, V, 400)
    config = TrainConfig(steps=3, batch_size=2, log_every=3, eval_every=3, eval_batches=1, checkpoint_every=3)
    lines = []
    summary = train(model, CausalLM(context=8), tokens, tokens, config, tmp_path, {"model_type": "gpt"},
                    log=lines.append)
    tokens_trained = 3 * 2 * 8
    assert 0 < summary["train_seconds"] <= summary["seconds"]
    assert summary["flops_per_second"] == pytest.approx(
        info.training_flops_per_token(model) * tokens_trained / summary["train_seconds"], rel=1e-12)
    assert summary["mfu"] == pytest.approx(summary["flops_per_second"] / summary["matmul_flops_per_second"])
    assert 0 < summary["mfu"] and summary["matmul_flops_per_second"] > 0
    assert "GFLOP/s" in lines[-1] and "matmul rate" in lines[-1] and "best of" in lines[-1]
    with pytest.raises(ValueError, match="seconds > 0"):
        info.training_efficiency(model, tokens=10, seconds=0.0)


def test_the_matmul_probe_times_many_products_and_says_how_noisy_it_was():
    from minitransformer.flops import describe_matmul_rate, matmul_rate_samples
    samples = matmul_rate_samples(size=64, seconds=0.05)
    assert len(samples) >= 5 and (samples > 0).all()
    quiet = describe_matmul_rate(np.array([100e9, 98e9, 99e9, 97e9, 100e9]))
    assert quiet == "100.0 GFLOP/s (best of 5 products; median 99.0)"
    busy = describe_matmul_rate(np.array([200e9, 10e9, 8e9, 7e9, 9e9]))
    assert busy.startswith("200.0 GFLOP/s (best of 5 products; median 9.0)") and "busy" in busy
