"""Arithmetic: + - * / **, elementwise maximum and minimum, and matrix products.

Each is a Function whose backward sits right under its forward, with the derivative in its
docstring.  Operands may broadcast against each other; the engine sums each gradient back to its
input's shape (autograd.sum_to_shape), so the backwards here return the broadcast shape.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * b if ctx.needs_input_grad[0] else None
        gb = g * a if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -g * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    """z = a ** b;  dz/da = b * a^(b-1), dz/db = a^b * log(a).

    At a = 0 both formulas meet 0 * inf; the limits are taken there, as PyTorch does:
    dz/da = 0 where b = 0 (z = a^0 = 1 is constant), and dz/db = 0 where a = 0 and b >= 0.
    """

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore"):  # 0 ** -1 = inf, as in PyTorch, without a warning
            out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                ga = np.where(b == 0, 0.0, g * b * np.power(a, b - 1)).astype(g.dtype, copy=False)
            if ctx.needs_input_grad[1]:
                gb = np.where((a == 0) & (b >= 0), 0.0, g * out * np.log(a)).astype(g.dtype, copy=False)
        return ga, gb


class Neg(Function):
    """z = -a;  dz/da = -1."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


class Maximum(Function):
    """z = max(a, b) elementwise;  the gradient goes to the larger side, split in half on a tie (as PyTorch).
    Minimum is the same with min."""

    pick, wins = staticmethod(np.maximum), staticmethod(np.greater)

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.function.pick(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _split_between(g, ctx.function.wins(a, b), a == b)


class Minimum(Maximum):
    """z = min(a, b) elementwise;  the gradient goes to the smaller side, split in half on a tie (as PyTorch)."""

    pick, wins = staticmethod(np.minimum), staticmethod(np.less)


def _split_between(g, a_wins, tie):
    """(gradient for a, gradient for b) when a gets it where a_wins, b elsewhere, and each half on a tie."""
    share_a = np.where(tie, 0.5, a_wins).astype(g.dtype, copy=False)
    return g * share_a, g * (1 - share_a)


class MatMul(Function):
    """Z = A @ B (batched, leading dims broadcast);  dL/dA = G @ B^T,  dL/dB = A^T @ G.

    A 1-D operand is treated as a row (left) or column (right) vector, as np.matmul does.
    """

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs operands with at least one dimension; use * for scalars")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"matmul shape mismatch: {a.shape} @ {b.shape} (the inner dimensions "
                f"{a.shape[-1]} and {b.shape[-2 if b.ndim > 1 else 0]} must agree)"
            )
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g @ np.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                ga = ga[..., 0, :]
        if ctx.needs_input_grad[1]:
            if b2.ndim == 2 and a2.ndim > 2:  # shared weight: one big matmul instead of a batch
                gb = a2.reshape(-1, a2.shape[-1]).T @ g.reshape(-1, g.shape[-1])
            else:
                gb = np.swapaxes(a2, -1, -2) @ g
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb
