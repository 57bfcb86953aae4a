"""Op-by-op parity cases with PyTorch, written once against the handles (torch, F) of either library.

Each case is a function of the library handles and float64 leaf tensors, with the inputs it
runs on.  `run_case` runs one with any library that has PyTorch's API: the output(s) and, for a
differentiable case, the gradient of sum(output * w) (w fixed per case) with respect to every
input.  benchmarks/golden/make_torch_op_golden.py runs every case with PyTorch and saves the
numbers in tests/data/torch_op_golden.npz; tests/test_torch_parity.py runs them with
minitransformer and compares.  The cases are the edges where the two used to differ (the
bugs of issue 17), the semantics made PyTorch's, and every op added for it.
"""

import zlib
from typing import Callable, NamedTuple

import numpy as np


class Case(NamedTuple):
    fn: Callable  # fn(torch, F, *leaves) -> a tensor, or a tuple whose first item is differentiated
    inputs: tuple  # a shape (normal samples), ("pos", shape) (uniform in [0.5, 2]), or values (lists, numbers)
    grad: bool = True


NAN, INF = float("nan"), float("inf")

CASES = {
    # ---- the bugs ----
    "var_one_element": Case(lambda t, F, x: x.var(), ((1,),)),
    "var_over_size_one_dim": Case(lambda t, F, x: x.var(1), ((3, 1),)),
    "var_correction_equals_n": Case(lambda t, F, x: x.var(correction=2), ((2,),), grad=False),
    "var_correction_above_n_dim": Case(lambda t, F, x: x.var(1, correction=4), ((2, 3),), grad=False),
    "pow_zero_base": Case(lambda t, F, a, b: a ** b, ([0.0, 0.0, 2.0, 0.5, 0.0], [0.0, 2.0, 0.0, 3.0, 1.0])),
    "pow_zero_base_negative_exponent": Case(lambda t, F, a, b: a ** b, ([0.0, 0.0], [-1.0, 0.5])),
    "pow_scalar_zero_exponent": Case(lambda t, F, x: x ** 0.0, ([0.0, 1.5],)),
    "rpow_zero_base": Case(lambda t, F, x: 0.0 ** x, ([0.5, 0.0, 2.0],)),
    "sum_0d_dim0": Case(lambda t, F, x: x.sum(0), (1.5,)),  # a number: a 0-d input
    "sum_0d_dim_minus1_keepdim": Case(lambda t, F, x: x.sum(-1, keepdim=True), (1.5,)),
    "mean_0d": Case(lambda t, F, x: x.mean(0), (2.5,)),
    "max_0d_dim": Case(lambda t, F, x: x.max(0), (2.5,)),
    "amax_0d": Case(lambda t, F, x: x.amax(-1), (2.5,)),
    "var_0d_dim": Case(lambda t, F, x: x.var(0), (2.5,)),
    "cumsum_0d": Case(lambda t, F, x: x.cumsum(0), (2.5,)),
    "softmax_empty_dim": Case(lambda t, F, x: F.softmax(x, dim=-1), ((2, 0),)),
    "log_softmax_empty_rows": Case(lambda t, F, x: F.log_softmax(x, dim=0), ((0, 3),)),
    "max_with_nan": Case(lambda t, F, x: x.max(), ([1.0, NAN, 3.0, NAN],)),
    "max_dim_with_nan": Case(lambda t, F, x: x.max(1), ([[1.0, NAN, 3.0], [2.0, 5.0, 5.0]],)),
    "sigmoid_tails": Case(lambda t, F, x: x.sigmoid(), ([-745.0, -40.0, -19.75, 0.0, 19.75, 40.0, 800.0],)),
    "log_sigmoid_far_left": Case(lambda t, F, x: x.sigmoid().log(), ([-700.0, -50.0, -19.75, 5.0],)),
    # ---- semantics ----
    "index_int_slice_list": Case(lambda t, F, x: x[1, :, [1, 3]], ((3, 4, 5),)),
    "index_none_int_slice_list": Case(lambda t, F, x: x[None, 1, :, [1, 3]], ((3, 4, 5),)),
    "index_list_slice_int": Case(lambda t, F, x: x[[0, 2], :, 1], ((3, 4, 5),)),
    "index_ellipsis_int_list": Case(lambda t, F, x: x[..., 1, [0, 2, 2]], ((3, 4, 5),)),
    "index_int_slice_mask": Case(lambda t, F, x: x[1, :, t.tensor([True, False, True, False, True])], ((3, 4, 5),)),
    "index_last_position_list": Case(lambda t, F, x: x[:, [-1], :], ((2, 3, 4),)),
    "max_dim_values_indices": Case(lambda t, F, x: x.max(dim=1), ((3, 4),)),
    "min_dim_keepdim": Case(lambda t, F, x: x.min(dim=0, keepdim=True), ((3, 4),)),
    "max_dim_ties_go_to_the_first": Case(lambda t, F, x: x.max(1), ([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0]],)),
    "max_all_ties_are_shared": Case(lambda t, F, x: x.max(), ([1.0, 3.0, 3.0],)),
    # ---- ops added ----
    "min_all": Case(lambda t, F, x: x.min(), ((3, 4),)),
    "amax_two_dims_ties": Case(lambda t, F, x: x.amax(dim=(0, 1)), ([[1.0, 4.0], [4.0, 2.0]],)),
    "amin_keepdim": Case(lambda t, F, x: x.amin(1, keepdim=True), ((3, 4),)),
    "std": Case(lambda t, F, x: x.std(0), ((4, 3),)),
    "std_unbiased_false": Case(lambda t, F, x: x.std(1, correction=0), ((2, 5),)),
    "abs_through_zero": Case(lambda t, F, x: x.abs(), ([-2.0, 0.0, 0.5],)),
    "clamp_bounds_inclusive": Case(lambda t, F, x: x.clamp(0.0, 1.0), ([-1.0, 0.0, 0.5, 1.0, 2.0],)),
    "clamp_min_only": Case(lambda t, F, x: x.clamp(min=0.2), ((6,),)),
    "clamp_tensor_bounds": Case(lambda t, F, x, lo: x.clamp(min=lo), ((3, 4), (4,))),
    "maximum_ties": Case(lambda t, F, a, b: t.maximum(a, b), ([1.0, 2.0, 2.0, 3.0], [2.0, 2.0, 1.0, 5.0])),
    "minimum_broadcast": Case(lambda t, F, a, b: t.minimum(a, b), ((2, 3), (3,))),
    "rsqrt": Case(lambda t, F, x: x.rsqrt(), (("pos", (3, 2)),)),
    "sin": Case(lambda t, F, x: x.sin(), ((5,),)),
    "cos": Case(lambda t, F, x: t.cos(x), ((5,),)),
    "erf_float64": Case(lambda t, F, x: x.erf(), ([-6.0, -2.5, -1.999, -0.3, -1e-9, 0.0, 1e-12, 0.7, 2.0, 3.3, 9.0],)),
    "gelu_exact_float64": Case(lambda t, F, x: F.gelu(x), ([-8.0, -3.0, -0.5, 0.0, 0.4, 1.7, 6.0],)),
    "gelu_tanh": Case(lambda t, F, x: F.gelu(x, approximate="tanh"), ((7,),)),
    "silu": Case(lambda t, F, x: F.silu(x), ([-30.0, -2.0, 0.0, 1.5, 30.0],)),
    "argmax_flat": Case(lambda t, F, x: t.argmax(x), ([[1.0, 3.0], [4.0, 4.0]],), grad=False),
    "argmin_dim": Case(lambda t, F, x: x.argmin(dim=1), ([[1.0, 0.0, 0.0], [2.0, 5.0, 1.0]],), grad=False),
    "logsumexp": Case(lambda t, F, x: x.logsumexp(1), ((3, 4),)),
    "logsumexp_minus_inf_rows": Case(lambda t, F, x: t.logsumexp(x, 1), ([[-INF, -INF], [-INF, 1.0]],), grad=False),
    "cumsum": Case(lambda t, F, x: x.cumsum(1), ((2, 5),)),
    "cumsum_first_dim": Case(lambda t, F, x: t.cumsum(x, dim=0), ((4, 2),)),
    "topk": Case(lambda t, F, x: t.topk(x, 2), ((3, 5),)),
    "topk_smallest_dim0": Case(lambda t, F, x: x.topk(2, dim=0, largest=False), ((4, 3),)),
    "topk_ties_lower_index_first": Case(lambda t, F, x: t.topk(x, 2), ([1.0, 3.0, 3.0, 2.0],)),
    "gather": Case(lambda t, F, x: x.gather(1, t.tensor([[0, 0, 2], [1, 2, 1]])), ((2, 4),)),
    "gather_smaller_index": Case(lambda t, F, x: t.gather(x, 0, t.tensor([[2, 0], [1, 1]])), ((3, 3),)),
    "expand": Case(lambda t, F, x: x.expand(2, 3, 4), ((3, 1),)),
    "expand_minus_one": Case(lambda t, F, x: x.expand(-1, 5), ((3, 1),)),
    "squeeze_all": Case(lambda t, F, x: x.squeeze(), ((2, 1, 3, 1),)),
    "squeeze_dim_not_one_is_kept": Case(lambda t, F, x: x.squeeze(0), ((2, 1, 3),)),
    "unsqueeze": Case(lambda t, F, x: x.unsqueeze(-1), ((2, 3),)),
    "flatten": Case(lambda t, F, x: x.flatten(1), ((2, 3, 4),)),
    "unflatten": Case(lambda t, F, x: x.unflatten(1, (2, -1)), ((3, 6),)),
    "repeat": Case(lambda t, F, x: x.repeat(2, 1, 3), ((2, 3),)),
    "repeat_interleave_int": Case(lambda t, F, x: x.repeat_interleave(2, dim=1), ((2, 3),)),
    "repeat_interleave_flat": Case(lambda t, F, x: x.repeat_interleave(3), ((2, 2),)),
    "repeat_interleave_counts": Case(lambda t, F, x: x.repeat_interleave(t.tensor([1, 0, 3]), dim=0), ((3, 2),)),
    "chunk_uneven": Case(lambda t, F, x: t.cat([c * (i + 1) for i, c in enumerate(x.chunk(3))]), ((5, 2),)),
    "chunk_fewer_pieces": Case(lambda t, F, x: t.stack([c.sum() for c in x.chunk(4, dim=1)]), ((2, 6),)),
    "split_sizes": Case(lambda t, F, x: x.split([1, 3], dim=1)[1], ((2, 4),)),
    "tril": Case(lambda t, F, x: t.tril(x), ((3, 4),)),
    "triu_diagonal": Case(lambda t, F, x: x.triu(diagonal=1), ((2, 3, 3),)),
    "tril_negative_diagonal": Case(lambda t, F, x: x.tril(-1), ((4, 4),)),
    "softmax_method": Case(lambda t, F, x: x.softmax(-1), ((3, 4),)),
    "log_softmax_method": Case(lambda t, F, x: x.log_softmax(0), ((3, 4),)),
    "method_forms": Case(lambda t, F, a, b: a.matmul(b).add(a.sum(1, keepdim=True), alpha=2).mul(0.5).pow(2)
                         .sub(1).div(3), ((2, 3), (3, 2))),
    "norm": Case(lambda t, F, x: x.norm(), ((3, 4),)),
    "norm_dim_with_zero_row": Case(lambda t, F, x: (x * t.tensor([[0.0], [1.0]], dtype=t.float64)).norm(dim=1),
                                   ((2, 3),)),
    "pad": Case(lambda t, F, x: F.pad(x, (1, 2)), ((2, 3),)),
    "pad_two_dims_value": Case(lambda t, F, x: F.pad(x, (0, 1, 2, 0), value=-1.5), ((2, 3),)),
    "pad_negative_crops": Case(lambda t, F, x: F.pad(x, (-1, 1, 0, -1)), ((3, 4),)),
    "one_hot": Case(lambda t, F, x: F.one_hot(t.tensor([0, 3, 1]), 5), ((1,),), grad=False),
    "one_hot_inferred_classes": Case(lambda t, F, x: F.one_hot(t.tensor([[0, 2], [1, 0]])), ((1,),), grad=False),
    "nll_loss": Case(lambda t, F, x: F.nll_loss(F.log_softmax(x, 1), t.tensor([0, 2, -100, 1])), ((4, 3),)),
    "nll_loss_sum_3d": Case(lambda t, F, x: F.nll_loss(x, t.tensor([[0, 1], [2, 2]]), reduction="sum"),
                            ((2, 3, 2),)),
    "nll_loss_none": Case(lambda t, F, x: F.nll_loss(x, t.tensor([1, 0, 1]), reduction="none"), ((3, 2),)),
    "cross_entropy_probabilities": Case(lambda t, F, x, q: F.cross_entropy(x, q.softmax(1)), ((3, 4), (3, 4))),
    "cross_entropy_probabilities_smoothing": Case(
        lambda t, F, x, q: F.cross_entropy(x, q.softmax(1), label_smoothing=0.2, reduction="sum"), ((3, 4), (3, 4))),
    "cross_entropy_ncd": Case(lambda t, F, x: F.cross_entropy(x, t.tensor([[0, 1, 2], [2, -100, 0]])), ((2, 3, 3),)),
    "cross_entropy_ncd_none": Case(lambda t, F, x: F.cross_entropy(x, t.tensor([[[0, 1]], [[2, 2]]]), reduction="none"),
                                   ((2, 3, 1, 2),)),
    "cross_entropy_class_vector": Case(lambda t, F, x: F.cross_entropy(x, t.tensor(2)), ((4,),)),
    "cross_entropy_smoothing_ignore": Case(
        lambda t, F, x: F.cross_entropy(x, t.tensor([1, -1, 0]), ignore_index=-1, label_smoothing=0.1), ((3, 5),)),
    "sdpa_gqa_causal": Case(lambda t, F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                                 enable_gqa=True),
                            ((1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2))),
    "sdpa_bool_mask": Case(lambda t, F, q, k, v: F.scaled_dot_product_attention(
        q, k, v, attn_mask=t.tensor([[True, False, True], [True, True, False]])), ((2, 2, 4), (2, 3, 4), (2, 3, 4))),
    "masked_fill_tensor_mask": Case(lambda t, F, x: x.masked_fill(x > 0, -1.0), ((3, 3),)),
    "where": Case(lambda t, F, x, y: t.where(x > y, x, y), ((2, 3), (2, 3))),
    "layer_norm": Case(lambda t, F, x, w, b: F.layer_norm(x, (4,), w, b, 1e-5), ((2, 3, 4), (4,), (4,))),
    "linear": Case(lambda t, F, x, w, b: F.linear(x, w, b), ((2, 3), (4, 3), (4,))),
    "embedding": Case(lambda t, F, w: F.embedding(t.tensor([[0, 2, 2], [1, 0, 3]]), w), ((4, 3),)),
}


def inputs_of(name: str) -> list:
    """The float64 input arrays of a case (normal samples from a generator seeded by the case's name)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays = []
    for spec in CASES[name].inputs:
        if isinstance(spec, tuple) and spec and spec[0] == "pos":
            arrays.append(rng.uniform(0.5, 2.0, spec[1]))
        elif isinstance(spec, tuple):
            arrays.append(rng.standard_normal(spec))
        else:
            arrays.append(np.array(spec, dtype=np.float64))
    return arrays


def run_case(torch, F, name: str) -> dict:
    """{"out/i": each output, "grad/i": d sum(out0 * w) / d input i} for one case, with library `torch`."""
    case, arrays = CASES[name], inputs_of(name)
    leaves = [torch.tensor(a, requires_grad=case.grad) for a in arrays]
    result = case.fn(torch, F, *leaves)
    outputs = tuple(result) if isinstance(result, tuple) else (result,)
    numbers = {f"out/{i}": np.asarray(o.detach().numpy()) for i, o in enumerate(outputs)}
    if case.grad:
        weights = np.random.default_rng(zlib.crc32(name.encode()) + 1).standard_normal(tuple(outputs[0].shape))
        (outputs[0] * torch.tensor(weights)).sum().backward()
        for i, (leaf, array) in enumerate(zip(leaves, arrays)):
            numbers[f"grad/{i}"] = np.zeros_like(array) if leaf.grad is None else np.asarray(leaf.grad.numpy())
    return numbers
