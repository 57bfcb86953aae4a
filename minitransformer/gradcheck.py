"""Check a backward pass against finite differences, the ground truth of every gradient here.

For each input element x_i, the central difference

    (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

approximates df/dx_i with error O(eps^2).  If the analytic gradient from backward() disagrees by
more than atol + rtol * |numeric|, the backward is wrong, and the error names where.  A non-scalar
output f is reduced to sum(f * r) with a fixed random r, so one backward checks every output.
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the finite-difference estimate."""


def _project(output: Tensor, weights: np.ndarray) -> float:
    return float(np.sum(output.data * weights))


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, names=None) -> bool:
    """Compare backward() of `fn(*inputs)` with central differences; True, or a GradcheckError.

    inputs: float64 Tensors (those with requires_grad=True are checked; others are constants).
    names: optional names for the inputs, used in the error message.
    """
    inputs = list(inputs)
    names = list(names) if names is not None else [f"input {i}" for i in range(len(inputs))]
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: {names[i]} has dtype {inputs[i].dtype}; finite differences need float64 "
                "(float32 rounding swamps eps). Pass x.double() or Tensor(array.astype(np.float64)).")
        inputs[i].grad = None

    output = fn(*inputs)
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(output).__name__}")
    weights = np.random.default_rng(0).standard_normal(output.shape)
    (output * weights).sum().backward()

    for i in checked:
        tensor = inputs[i]
        analytic = tensor.grad.data if tensor.grad is not None else np.zeros_like(tensor.data)
        flat = tensor.data.reshape(-1)  # a view: perturbing it perturbs the input
        if not np.shares_memory(flat, tensor.data):
            raise ValueError(f"gradcheck: {names[i]} is not contiguous; pass a contiguous copy")
        for j in range(flat.size):
            original = flat[j]
            with no_grad():
                flat[j] = original + eps
                plus = _project(fn(*inputs), weights)
                flat[j] = original - eps
                minus = _project(fn(*inputs), weights)
            flat[j] = original
            numeric = (plus - minus) / (2 * eps)
            value = analytic.reshape(-1)[j]
            if not abs(value - numeric) <= atol + rtol * abs(numeric):
                where = np.unravel_index(j, tensor.shape)
                raise GradcheckError(
                    f"gradcheck failed for {names[i]} (shape {tensor.shape}) at element "
                    f"{tuple(int(w) for w in where)}: backward() gives {value:.8g} but finite differences "
                    f"give {numeric:.8g} (difference {value - numeric:.3g}, tolerance "
                    f"{atol + rtol * abs(numeric):.3g}). The backward of an op this input flows through "
                    "is wrong.")
    return True


class ModuleGradcheckReport(list):
    """Rows of (name, shape, max_abs_error, max_rel_error, passed), one per parameter."""

    @property
    def passed(self) -> bool:
        return all(row[-1] for row in self)

    def failures(self) -> list:
        return [row[0] for row in self if not row[-1]]

    def table(self) -> str:
        lines = [f"{'parameter':<44}{'shape':<16}{'max abs err':>12}{'max rel err':>12}  ok"]
        for name, shape, abs_err, rel_err, ok in self:
            lines.append(f"{name:<44}{str(shape):<16}{abs_err:>12.2e}{rel_err:>12.2e}  {'yes' if ok else 'NO'}")
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def gradcheck_module(model, loss_fn, samples_per_parameter: int = 4, eps: float = 1e-6, atol: float = 1e-5,
                     rtol: float = 1e-3, seed: int = 0) -> ModuleGradcheckReport:
    """Finite-difference check of d loss / d parameter for every parameter of a float64 model.

    loss_fn() runs the model and returns a scalar Tensor (close over the batch; it must be
    deterministic, so disable dropout or reseed inside).  For each parameter, a few random elements
    are perturbed; the report says, per parameter, the worst error and whether it passed, so a
    wrong backward shows up at the parameters it breaks.
    """
    named = list(model.named_parameters())
    for name, p in named:
        if p.dtype != np.float64:
            raise TypeError(f"gradcheck_module: parameter {name} is {p.dtype}; call model.double() first")
    model.zero_grad()
    loss = loss_fn()
    if loss.numel() != 1:
        raise ValueError(f"gradcheck_module: loss_fn must return a scalar, got shape {loss.shape}")
    loss.backward()
    rng = np.random.default_rng(seed)
    report = ModuleGradcheckReport()
    for name, p in named:
        analytic = p.grad.data if p.grad is not None else np.zeros_like(p.data)
        flat = p.data.reshape(-1)
        picks = rng.choice(flat.size, size=min(samples_per_parameter, flat.size), replace=False)
        worst_abs = worst_rel = 0.0
        ok = True
        for j in picks:
            original = flat[j]
            with no_grad():
                flat[j] = original + eps
                plus = float(loss_fn().data)
                flat[j] = original - eps
                minus = float(loss_fn().data)
            flat[j] = original
            numeric = (plus - minus) / (2 * eps)
            value = float(analytic.reshape(-1)[j])
            error = abs(value - numeric)
            worst_abs = max(worst_abs, error)
            worst_rel = max(worst_rel, error / max(abs(numeric), 1e-12))
            ok &= error <= atol + rtol * abs(numeric)
        report.append((name, p.shape, worst_abs, worst_rel, bool(ok)))
    return report
