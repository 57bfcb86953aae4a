"""The primitive ops of the engine, one file per family, each op's backward beside its forward.

arithmetic.py   + - * / ** -x, maximum, minimum and @
reductions.py   sum, mean, amax/amin, var, logsumexp, norm over some axes; cumsum; argmax/argmin
shape.py        reshape, permute/transpose, cast, expand, repeat, pad, clone; cat, stack, split, chunk
indexing.py     x[index] (PyTorch's rules), gather, topk, tril/triu, repeat_interleave, where, masked_fill
pointwise.py    exp, log, sqrt, rsqrt, sin, cos, tanh, sigmoid, relu, abs, clamp
special.py      erf (and the array functions erf, erfc, normal_cdf, which NumPy lacks)

A new op goes in its family's file as a Function (forward, backward, the derivative in its
docstring), plus, when it is a Tensor method, one line in tensor_methods.py calling it.  Composite
functions built from these (softmax, layer norm, attention, ...) live in `functional/`.
"""

from .arithmetic import Add, Div, MatMul, Maximum, Minimum, Mul, Neg, Pow, Sub
from .indexing import (Gather, GetItem, MaskedFill, Tril, Triu, ValuesIndices, Where, extreme_along, gather,
                       masked_fill, repeat_interleave, set_item, topk, torch_index_steps, where)
from .pointwise import Abs, Clamp, Cos, Exp, Log, Relu, Rsqrt, Sigmoid, Sin, Sqrt, Tanh
from .reductions import (Amax, Amin, Cumsum, LogSumExp, Max, Mean, Norm, Sum, Var, argmax, dim_out_of_range,
                         normalize_dim)
from .shape import (Cast, Cat, Clone, Expand, Pad, Permute, Repeat, Reshape, cat, chunk, expand_shape,
                    flatten_shape, pad, split, squeeze_shape, stack, unflatten_shape, unsqueeze_shape)
from .special import Erf, erf, erfc, normal_cdf

__all__ = [
    "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Maximum", "Minimum", "MatMul", "Sum", "Mean", "Max", "Amax",
    "Amin", "Var", "LogSumExp", "Norm", "Cumsum", "argmax", "Reshape", "Permute", "Cast", "Cat", "Expand",
    "Repeat", "Pad", "Clone", "cat", "stack", "split", "chunk", "pad", "GetItem", "Gather", "gather", "topk",
    "Tril", "Triu", "extreme_along", "repeat_interleave", "MaskedFill", "masked_fill", "Where", "where",
    "ValuesIndices",
    "Exp", "Log", "Sqrt", "Rsqrt", "Sin", "Cos", "Tanh", "Sigmoid", "Relu", "Abs", "Clamp", "Erf", "erf",
    "erfc", "normal_cdf",
]
