"""Pointwise functions: exp, log, sqrt, rsqrt, sin, cos, tanh, sigmoid, relu, abs, clamp, each
applied to every element alone.

An element's output depends only on that element, so each backward is the incoming gradient
times the function's derivative at that element.  Where the derivative is easiest in terms of the
output (exp, sqrt, rsqrt, tanh, sigmoid), the output is what gets saved.  At a kink (relu and abs
at 0, clamp at its bounds) the derivative chosen is PyTorch's, noted in each docstring.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function


class Exp(Function):
    """z = e^a;  dz/da = z."""

    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    """z = log(a);  dz/da = 1/a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a


class Sqrt(Function):
    """z = sqrt(a);  dz/da = 1 / (2 z)."""

    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class Tanh(Function):
    """z = tanh(a);  dz/da = 1 - z^2."""

    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)


def stable_sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a) in two branches, so that it neither overflows nor loses the tail:
    1 / (1 + e^-a) for a >= 0, and e^a / (1 + e^a) for a < 0, where the e^a of a very negative a is
    tiny but exact relative to itself (float32 sigmoid(-19.75) = 2.65e-9, as in PyTorch; written
    as 0.5 (1 + tanh(a/2)) it came out 10x off, and 0 below -17)."""
    e = np.exp(-np.abs(a))  # e^-|a| <= 1: never overflows
    return (np.where(a >= 0, 1.0, e) / (1.0 + e)).astype(a.dtype, copy=False)


class Sigmoid(Function):
    """z = 1 / (1 + e^-a);  dz/da = z (1 - z).  (The two-branch forward: stable_sigmoid.)"""

    @staticmethod
    def forward(ctx, a):
        out = stable_sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out * (1 - out)


class Relu(Function):
    """z = max(a, 0);  dz/da = 1 where a > 0, else 0."""

    @staticmethod
    def forward(ctx, a):
        positive = a > 0
        ctx.save_for_backward(positive)
        return a * positive

    @staticmethod
    def backward(ctx, g):
        (positive,) = ctx.saved_tensors
        return g * positive


class Abs(Function):
    """z = |a|;  dz/da = sign(a), which is 0 at a = 0 (PyTorch's choice at the kink)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * np.sign(a)


class Clamp(Function):
    """z = min(max(a, low), high);  dz/da = 1 where low <= a <= high (bounds included, as PyTorch), else 0.

    low or high may be None (no bound on that side).
    """

    @staticmethod
    def forward(ctx, a, low, high):
        inside = np.ones(a.shape, dtype=bool)
        if low is not None:
            inside &= a >= low
        if high is not None:
            inside &= a <= high
        ctx.save_for_backward(inside)
        return np.clip(a, low, high).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (inside,) = ctx.saved_tensors
        return g * inside


class Rsqrt(Function):
    """z = 1 / sqrt(a);  dz/da = -z^3 / 2."""

    @staticmethod
    def forward(ctx, a):
        with np.errstate(divide="ignore"):
            out = 1.0 / np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (-0.5 * out * out * out)


class Sin(Function):
    """z = sin(a);  dz/da = cos(a)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * np.cos(a)


class Cos(Function):
    """z = cos(a);  dz/da = -sin(a)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -g * np.sin(a)
