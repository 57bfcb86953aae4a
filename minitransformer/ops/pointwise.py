"""Pointwise functions: exp, log, sqrt, tanh, sigmoid, relu, each applied to every element alone.

An element's output depends only on that element, so each backward is the incoming gradient
times the function's derivative at that element.  Where the derivative is easiest in terms of the
output (exp, sqrt, tanh, sigmoid), the output is what gets saved.
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


class Sigmoid(Function):
    """z = 1 / (1 + e^-a);  dz/da = z (1 - z).  Written with tanh so large |a| cannot overflow."""

    @staticmethod
    def forward(ctx, a):
        out = 0.5 * (np.tanh(0.5 * a) + 1)
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
