"""The primitive ops of the engine, one file per family, each op's backward beside its forward.

arithmetic.py   + - * / ** -x and @ (Add, Sub, Mul, Div, Pow, Neg, MatMul)
reductions.py   sum, mean, max, var over some axes
shape.py        reshape, permute/transpose, cast; cat, stack, split
indexing.py     x[index], where, masked_fill
pointwise.py    exp, log, sqrt, tanh, sigmoid, relu
special.py      erf (and the array functions erf, erfc, normal_cdf, which NumPy lacks)

A new op goes in its family's file as a Function (forward, backward, the derivative in its
docstring), plus, when it is a Tensor method, one line in tensor.py calling it.  Composite
functions built from these (softmax, layer norm, attention, ...) live in `functional/`.
"""

from .arithmetic import Add, Div, MatMul, Mul, Neg, Pow, Sub
from .indexing import GetItem, MaskedFill, Where, masked_fill, where
from .pointwise import Exp, Log, Relu, Sigmoid, Sqrt, Tanh
from .reductions import Max, Mean, Sum, Var
from .shape import Cast, Cat, Permute, Reshape, cat, split, stack
from .special import Erf, erf, erfc, normal_cdf

__all__ = [
    "Add", "Sub", "Mul", "Div", "Pow", "Neg", "MatMul", "Sum", "Mean", "Max", "Var", "Reshape", "Permute",
    "Cast", "Cat", "cat", "stack", "split", "GetItem", "MaskedFill", "masked_fill", "Where", "where",
    "Exp", "Log", "Sqrt", "Tanh", "Sigmoid", "Relu", "Erf", "erf", "erfc", "normal_cdf",
]
