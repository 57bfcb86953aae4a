"""Optimizers against their papers' update equations (written out in NumPy here), parameter groups,
gradient clipping, learning-rate schedules and the optimizer's state_dict."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitransformer as mt
from minitransformer import nn, optim
from minitransformer.cache_blocking import block_elements

STEPS = 3
TOLERANCE = dict(rtol=1e-12, atol=1e-15)


def gradient_at(p: np.ndarray) -> np.ndarray:
    """The gradient of a fixed non-quadratic loss, sum((p - 0.3)^2 + 0.1 p^4 / 4): it depends on where p is,
    so an update rule that goes wrong at step 1 is also caught by the gradients of steps 2 and 3."""
    return 2 * (p - 0.3) + 0.1 * p ** 3


def start_point(shape=(2, 3), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def run_optimizer(make_optimizer, start, steps=STEPS):
    """Float64 parameter from `start`; the position after each of `steps` optimizer steps."""
    p = nn.Parameter(start.copy())
    optimizer = make_optimizer([p])
    trajectory = []
    for _ in range(steps):
        p.grad = gradient_at(p.data)
        optimizer.step()
        trajectory.append(p.data.copy())
    return trajectory


def assert_trajectories_equal(actual, expected):
    for step, (a, e) in enumerate(zip(actual, expected, strict=True), start=1):
        np.testing.assert_allclose(a, e, **TOLERANCE, err_msg=f"after step {step}")


# ---------------------------------------------------------------------------------------------
# SGD (with momentum in the form of Sutskever et al. 2013, as PyTorch implements it)
# ---------------------------------------------------------------------------------------------


def sgd_by_hand(start, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    """g_t = grad + wd p;  b_1 = g_1, b_t = mu b_(t-1) + g_t;
    p <- p - lr * b_t (heavy ball)  or  p - lr * (g_t + mu b_t) (Nesterov);  p <- p - lr g_t without momentum."""
    p, buffer, trajectory = start.copy(), None, []
    for _ in range(STEPS):
        g = gradient_at(p) + weight_decay * p
        if momentum:
            buffer = g.copy() if buffer is None else momentum * buffer + g
            direction = g + momentum * buffer if nesterov else buffer
        else:
            direction = g
        p = p - lr * direction
        trajectory.append(p)
    return trajectory


SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.1, momentum=0.9),
    "nesterov": dict(lr=0.1, momentum=0.9, nesterov=True),
    "nesterov_and_weight_decay": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.2),
    "weight_decay": dict(lr=0.1, weight_decay=0.05),
    "momentum_and_weight_decay": dict(lr=0.05, momentum=0.8, weight_decay=0.1),
}


@pytest.mark.parametrize("case", sorted(SGD_CASES))
def test_sgd_matches_the_update_equations(case):
    kwargs = SGD_CASES[case]
    start = start_point()
    actual = run_optimizer(lambda ps: optim.SGD(ps, **kwargs), start)
    assert_trajectories_equal(actual, sgd_by_hand(start, **kwargs))


def test_sgd_variants_really_differ():
    """The cases above are distinguishable: each rule gives a different third step."""
    start = start_point()
    finals = [sgd_by_hand(start, **kwargs)[-1] for kwargs in SGD_CASES.values()]
    for i in range(len(finals)):
        for j in range(i):
            assert not np.allclose(finals[i], finals[j])


# ---------------------------------------------------------------------------------------------
# Adam (Kingma & Ba 2015, Algorithm 1) and AdamW (Loshchilov & Hutter 2019, Algorithm 2)
# ---------------------------------------------------------------------------------------------


def adam_by_hand(start, lr, betas, eps, l2=0.0, decoupled=0.0, steps=STEPS):
    """The papers' steps (optim.adam_reference_step: g = grad + l2 p;  m = b1 m + (1-b1) g;
    v = b2 v + (1-b2) g^2;  m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t);
    p <- p - lr * (m_hat / (sqrt(v_hat) + eps) + decoupled * p)), from `start`."""
    p, trajectory = start.copy(), []
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t in range(1, steps + 1):
        p, m, v = optim.adam_reference_step(p, gradient_at(p), m, v, t, lr, betas, eps,
                                            weight_decay=decoupled or l2, decoupled=bool(decoupled))
        trajectory.append(p)
    return trajectory


# eps=0.5 is comparable to sqrt(v_hat), so adding eps in the wrong place would show
@pytest.mark.parametrize("eps", [1e-8, 0.5])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_with_bias_correction_and_l2_weight_decay(eps, weight_decay):
    start = start_point(seed=1)
    kwargs = dict(lr=0.01, betas=(0.8, 0.95), eps=eps)
    actual = run_optimizer(lambda ps: optim.Adam(ps, weight_decay=weight_decay, **kwargs), start)
    assert_trajectories_equal(actual, adam_by_hand(start, l2=weight_decay, **kwargs))


@pytest.mark.parametrize("eps", [1e-8, 0.5])
def test_adamw_decouples_weight_decay(eps):
    start = start_point(seed=2)
    kwargs = dict(lr=0.01, betas=(0.8, 0.95), eps=eps)
    actual = run_optimizer(lambda ps: optim.AdamW(ps, weight_decay=0.2, **kwargs), start)
    assert_trajectories_equal(actual, adam_by_hand(start, decoupled=0.2, **kwargs))
    # and the decoupled decay is really different from Adam's L2 decay
    assert not np.allclose(adam_by_hand(start, l2=0.2, **kwargs)[-1], actual[-1])


@given(shape=st.sampled_from([(1,), (2, 3), (7, 5), (3, 2, 4)]), seed=st.integers(0, 2**16),
       lr=st.sampled_from([1e-3, 0.05]), betas=st.sampled_from([(0.9, 0.999), (0.8, 0.95)]),
       eps=st.sampled_from([1e-8, 0.5]), weight_decay=st.sampled_from([0.0, 0.1]), decoupled=st.booleans(),
       block=st.sampled_from([4, 1 << 16]))
@settings(max_examples=30, deadline=None)
def test_blocked_update_equals_the_reference_step(shape, seed, lr, betas, eps, weight_decay, decoupled, block):
    """The rearranged, cache-blocked update (run in tiny blocks too) against adam_reference_step."""
    start = start_point(shape, seed)
    make = optim.AdamW if decoupled else optim.Adam
    with block_elements(block):
        actual = run_optimizer(lambda ps: make(ps, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay), start)
    expected = adam_by_hand(start, lr, betas, eps, **{"decoupled" if decoupled else "l2": weight_decay})
    assert_trajectories_equal(actual, expected)


def test_default_hyperparameters_are_pytorchs():
    p = [nn.Parameter(np.zeros(2, np.float32))]
    assert optim.Adam(p).param_groups[0] | {"params": None} == dict(
        lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, params=None)
    assert optim.AdamW(p).param_groups[0]["weight_decay"] == 1e-2
    assert optim.SGD(p).param_groups[0] | {"params": None} == dict(
        lr=1e-3, momentum=0.0, nesterov=False, weight_decay=0.0, params=None)


def test_first_adam_step_moves_every_element_by_about_lr():
    """With bias correction, step 1 is lr * g / (|g| + eps): about lr whatever the gradient's scale."""
    p = nn.Parameter(np.array([1e-4, -3.0, 2.0], np.float32))  # small values: float32 resolves a 0.01 step
    before = p.data.copy()
    optimizer = optim.Adam([p], lr=0.01)
    p.grad = np.array([1e-3, -5.0, 1e3], np.float32)
    optimizer.step()
    np.testing.assert_allclose(before - p.data, [0.01, -0.01, 0.01], rtol=1e-4)
    assert p.dtype == np.float32 and optimizer.state[id(p)]["exp_avg"].dtype == np.float32


def test_parameters_without_gradient_are_left_alone():
    a, b = nn.Parameter(np.ones(2, np.float32)), nn.Parameter(np.ones(2, np.float32))
    optimizer = optim.AdamW([a, b], lr=0.1, weight_decay=0.5)
    a.grad = np.ones(2, np.float32)
    optimizer.step()
    assert not np.array_equal(a.data, [1, 1])
    np.testing.assert_array_equal(b.data, [1, 1])
    assert id(b) not in optimizer.state
    optimizer.zero_grad()
    assert a.grad is None


def test_step_records_no_graph():
    p = nn.Parameter(np.ones(2, np.float32))
    optimizer = optim.SGD([p], lr=0.1)
    p.grad = np.ones(2, np.float32)
    optimizer.step()
    assert p.is_leaf and p.requires_grad and mt.is_grad_enabled()


# ---------------------------------------------------------------------------------------------
# Parameter groups
# ---------------------------------------------------------------------------------------------


def test_groups_have_their_own_hyperparameters():
    start_a, start_b = start_point(seed=3), start_point((4,), seed=4)
    a, b = nn.Parameter(start_a.copy()), nn.Parameter(start_b.copy())
    optimizer = optim.SGD([{"params": [a], "lr": 0.2, "weight_decay": 0.1}, {"params": [b]}],
                          lr=0.05, momentum=0.9)
    assert optimizer.param_groups[1]["lr"] == 0.05 and optimizer.param_groups[1]["weight_decay"] == 0.0
    trajectory_a, trajectory_b = [], []
    for _ in range(STEPS):
        a.grad, b.grad = gradient_at(a.data), gradient_at(b.data)
        optimizer.step()
        trajectory_a.append(a.data.copy())
        trajectory_b.append(b.data.copy())
    assert_trajectories_equal(trajectory_a, sgd_by_hand(start_a, lr=0.2, momentum=0.9, weight_decay=0.1))
    assert_trajectories_equal(trajectory_b, sgd_by_hand(start_b, lr=0.05, momentum=0.9))


def test_adamw_groups_have_their_own_lr_and_weight_decay():
    start_a, start_b = start_point(seed=7), start_point((4,), seed=8)
    a, b = nn.Parameter(start_a.copy()), nn.Parameter(start_b.copy())
    optimizer = optim.AdamW([{"params": [a], "weight_decay": 0.3}, {"params": [b], "lr": 0.05, "weight_decay": 0.0}],
                            lr=0.01, betas=(0.8, 0.95))
    trajectory_a, trajectory_b = [], []
    for _ in range(STEPS):
        a.grad, b.grad = gradient_at(a.data), gradient_at(b.data)
        optimizer.step()
        trajectory_a.append(a.data.copy())
        trajectory_b.append(b.data.copy())
    assert_trajectories_equal(trajectory_a, adam_by_hand(start_a, lr=0.01, betas=(0.8, 0.95), eps=1e-8, decoupled=0.3))
    assert_trajectories_equal(trajectory_b, adam_by_hand(start_b, lr=0.05, betas=(0.8, 0.95), eps=1e-8))


def test_weight_decay_groups_decay_matrices_only():
    model = nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    groups = optim.weight_decay_groups(model, 0.1)
    decayed = {id(p) for p in groups[0]["params"]}
    assert decayed == {id(model[0].weight), id(model[1].weight), id(model[3].weight)}
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in model.parameters()} - decayed
    assert groups[0]["weight_decay"] == 0.1 and groups[1]["weight_decay"] == 0.0

    optimizer = optim.AdamW(groups, lr=0.5)
    before = model.state_dict()
    for p in model.parameters():
        p.grad = np.zeros_like(p.data)  # zero gradient: Adam's step is 0, only the decay moves weights
    optimizer.step()
    for name, p in model.named_parameters():
        expected = before[name] * np.float32(1 - 0.5 * 0.1) if p.ndim >= 2 else before[name]
        np.testing.assert_allclose(p.data, expected, rtol=1e-6, err_msg=name)
        assert (p.ndim >= 2) != np.array_equal(p.data, before[name]), name


def test_constructor_errors_are_clear():
    p = nn.Parameter(np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than one group"):
        optim.SGD([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError, match=r"unknown hyperparameter.*'momentom'"):
        optim.SGD([{"params": [p], "momentom": 0.9}])
    with pytest.raises(ValueError, match="learning rate must be >= 0, got -0.1"):
        optim.Adam([p], lr=-0.1)
    with pytest.raises(ValueError, match=r"betas.*\(0.9, 1.0\)"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum needs momentum > 0"):
        optim.SGD([p], nesterov=True)
    frozen = mt.Tensor(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"shape \(3,\) does not require grad"):
        optim.SGD([frozen])


# ---------------------------------------------------------------------------------------------
# Gradient clipping
# ---------------------------------------------------------------------------------------------


def params_with_grads(*grads):
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros(np.shape(g), np.float32))
        p.grad = None if g is None else np.array(g, np.float32)
        params.append(p)
    return params


def test_clip_grad_norm_scales_to_the_global_norm():
    # norms 3 and 4 are each under 4.5; the global norm sqrt(3^2 + 4^2) = 5 is not
    params = params_with_grads([3.0, 0.0], [[4.0]])
    params.append(nn.Parameter(np.zeros(2, np.float32)))  # no gradient: ignored
    total = optim.clip_grad_norm_(params, max_norm=1.0)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(params[0].grad, [3 / 5, 0.0], rtol=1e-6)
    np.testing.assert_allclose(params[1].grad, [[4 / 5]], rtol=1e-6)
    new_norm = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params[:2]))
    assert new_norm == pytest.approx(1.0, rel=1e-6) and new_norm <= 1.0
    assert params[2].grad is None


def test_clip_grad_norm_does_nothing_under_the_max():
    params = params_with_grads([3.0, 0.0], [[4.0]])
    before = [p.grad.clone() for p in params]
    for max_norm in (5.1, 100.0):
        assert optim.clip_grad_norm_(params, max_norm=max_norm) == pytest.approx(5.0)
        for p, g in zip(params, before):
            np.testing.assert_array_equal(p.grad, g)


# ---------------------------------------------------------------------------------------------
# Learning-rate schedules
# ---------------------------------------------------------------------------------------------


def test_warmup_cosine_values():
    schedule = optim.WarmupCosine(max_lr=1.0, total=110, warmup=10, min_lr=0.1)
    assert schedule(0) == pytest.approx(0.1)  # warmup start: max_lr * 1 / warmup
    assert schedule(4) == pytest.approx(0.5)
    assert schedule(9) == pytest.approx(1.0)  # warmup end
    assert schedule(10) == pytest.approx(1.0)  # decay starts at the top
    assert schedule(35) == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 4)) / 2)  # a quarter through
    assert schedule(60) == pytest.approx(0.55)  # midpoint of the decay: halfway between max and min
    assert schedule(110) == pytest.approx(0.1) and schedule(500) == pytest.approx(0.1)
    decay = [schedule(t) for t in range(10, 111)]
    assert all(a >= b for a, b in zip(decay, decay[1:]))


def test_warmup_linear_values():
    schedule = optim.WarmupLinear(max_lr=2.0, total=110, warmup=10, min_lr=0.2)
    assert schedule(0) == pytest.approx(0.2)  # warmup start: max_lr * 1 / warmup
    assert schedule(9) == pytest.approx(2.0)  # warmup end
    assert schedule(10) == pytest.approx(2.0)
    assert schedule(35) == pytest.approx(0.2 + 1.8 * 0.75)  # a quarter of the decay done
    assert schedule(60) == pytest.approx(1.1)  # midpoint: halfway between max and min
    assert schedule(110) == pytest.approx(0.2) and schedule(111) == pytest.approx(0.2)
    no_warmup = optim.WarmupLinear(max_lr=1.0, total=4)
    assert [no_warmup(t) for t in range(5)] == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0])


@pytest.mark.parametrize("schedule", [optim.WarmupCosine, optim.WarmupLinear])
def test_schedule_argument_errors(schedule):
    with pytest.raises(ValueError, match="total=0"):
        schedule(1.0, total=0)
    with pytest.raises(ValueError, match="warmup=-1"):
        schedule(1.0, total=10, warmup=-1)
    with pytest.raises(ValueError, match="warmup=11, total=10"):
        schedule(1.0, total=10, warmup=11)
    with pytest.raises(ValueError, match="max_lr=-1.0"):
        schedule(-1.0, total=10)
    with pytest.raises(ValueError, match="min_lr=2.0.*max_lr=1.0"):
        schedule(1.0, total=10, min_lr=2.0)


def test_constant_and_set_lr():
    assert optim.Constant(0.3)(0) == optim.Constant(0.3)(10 ** 6) == 0.3
    a, b = nn.Parameter(np.zeros(1, np.float32)), nn.Parameter(np.zeros(1, np.float32))
    optimizer = optim.SGD([{"params": [a], "lr": 1.0}, {"params": [b]}], lr=0.1)
    optim.set_lr(optimizer, 0.25)
    assert [g["lr"] for g in optimizer.param_groups] == [0.25, 0.25]


# ---------------------------------------------------------------------------------------------
# Optimizer state_dict
# ---------------------------------------------------------------------------------------------


def trained(make_optimizer, steps):
    a = nn.Parameter(start_point(seed=5).astype(np.float32))
    b = nn.Parameter(start_point((3,), seed=6).astype(np.float32))
    optimizer = make_optimizer([{"params": [a]}, {"params": [b], "lr": 0.02}])
    for _ in range(steps):
        a.grad, b.grad = gradient_at(a.data), gradient_at(b.data)
        optimizer.step()
    return (a, b), optimizer


def assert_state_dicts_equal(x, y):
    assert x["param_groups"] == y["param_groups"]
    assert x["state"].keys() == y["state"].keys()
    for index in x["state"]:
        assert x["state"][index].keys() == y["state"][index].keys()
        for name, value in x["state"][index].items():
            other = y["state"][index][name]
            if isinstance(value, np.ndarray):
                assert value.dtype == other.dtype and np.array_equal(value, other), (index, name)
            else:
                assert value == other, (index, name)


OPTIMIZERS = {
    "sgd_momentum": lambda groups: optim.SGD(groups, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda groups: optim.Adam(groups, lr=0.01, weight_decay=0.1),
    "adamw": lambda groups: optim.AdamW(groups, lr=0.01, betas=(0.8, 0.9)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_is_exact_and_resumes_identically(name):
    make = OPTIMIZERS[name]
    (a, b), optimizer = trained(make, steps=2)
    saved = optimizer.state_dict()
    assert sorted(saved["state"]) == [0, 1] and [g["params"] for g in saved["param_groups"]] == [[0], [1]]
    assert saved["param_groups"][1]["lr"] == 0.02
    saved_copy = optimizer.state_dict()
    for entries in saved_copy["state"].values():  # the dict holds copies, not the live buffers
        for value in entries.values():
            if isinstance(value, np.ndarray):
                value += 1.0
    assert_state_dicts_equal(optimizer.state_dict(), saved)

    (a2, b2), fresh = trained(make, steps=0)
    a2.data, b2.data = a.data.copy(), b.data.copy()
    fresh.load_state_dict(saved)
    assert_state_dicts_equal(fresh.state_dict(), saved)
    for params, opt in (((a, b), optimizer), ((a2, b2), fresh)):
        for _ in range(2):
            for p in params:
                p.grad = gradient_at(p.data)
            opt.step()
    np.testing.assert_array_equal(a.data, a2.data)
    np.testing.assert_array_equal(b.data, b2.data)


def test_load_state_dict_errors_are_clear():
    (a, b), optimizer = trained(OPTIMIZERS["adam"], steps=1)
    saved = optimizer.state_dict()
    one_group = optim.Adam([a, b])
    with pytest.raises(ValueError, match=r"parameter groups.*saved sizes \[1, 1\].*here \[2\]"):
        one_group.load_state_dict(saved)
    shapes_swapped = optim.Adam([{"params": [b]}, {"params": [a]}])
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(2, 3\).*shape \(3,\)"):
        shapes_swapped.load_state_dict(saved)
    other_kind = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match=r"hyperparameters.*betas.*momentum"):
        other_kind.load_state_dict(saved)


def test_optimizers_read_tensor_grads_zero_them_in_place_and_clip_through_nn_utils():
    a, b = nn.Parameter(np.ones(2, np.float32)), nn.Parameter(np.ones(3, np.float32))
    optimizer = optim.SGD([a, b], lr=0.5)
    ((a * 3.0).sum() + (b * 4.0).sum()).backward()
    assert isinstance(a.grad, mt.Tensor) and a.grad.tolist() == [3.0, 3.0]
    total = nn.utils.clip_grad_norm_((p for p in (a, b)), 1.0)  # a generator, as model.parameters() is in torch
    assert total == pytest.approx(math.sqrt(2 * 9 + 3 * 16))
    np.testing.assert_allclose(math.sqrt(float((a.grad ** 2).sum() + (b.grad ** 2).sum())), 1.0, rtol=1e-5)
    assert nn.utils.clip_grad_norm_ is optim.clip_grad_norm_
    kept = a.grad
    optimizer.step()
    np.testing.assert_allclose(a.data, 1 - 0.5 * kept.data, rtol=1e-6)
    optimizer.zero_grad(set_to_none=False)
    assert a.grad is kept and a.grad.tolist() == [0.0, 0.0]
    optimizer.zero_grad()
    assert a.grad is None and b.grad is None
