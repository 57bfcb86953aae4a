"""torch.exp(x), torch.sum(x, 1), torch.tril(m): the top-level forms of Tensor's methods.

In PyTorch most tensor methods are also functions of the `torch` module, with the tensor as the
first argument.  Here each such function is that method, called on `mt.tensor`-like input: so
mt.exp(x) is x.exp() and mt.max(x, 1) is x.max(1).  The ones that are functions first (cat, stack,
where, split, chunk, topk, gather, repeat_interleave) come from ops/ directly.
"""

from __future__ import annotations

from .ops import cat, chunk, gather, repeat_interleave, split, stack, topk, where  # noqa: F401
from .tensor import as_tensor

METHODS = (
    "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "erf", "clamp", "clip",
    "maximum", "minimum", "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
    "logsumexp", "cumsum", "norm", "all", "any", "softmax", "log_softmax", "matmul", "add", "sub", "mul", "div",
    "pow", "reshape", "transpose", "permute", "flatten", "unflatten", "squeeze", "unsqueeze", "tril", "triu",
    "masked_fill",
)


def _method_as_function(name: str):
    def function(input, *args, **kwargs):
        return getattr(as_tensor(input), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"mt.{name}(x, ...) is x.{name}(...): see Tensor.{name}."
    return function


for _name in METHODS:
    globals()[_name] = _method_as_function(_name)

__all__ = list(METHODS) + ["cat", "chunk", "gather", "repeat_interleave", "split", "stack", "topk", "where"]
