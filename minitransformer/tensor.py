"""The Tensor: an array that remembers how it was made, and backward() that walks that record back.

A Tensor holds a NumPy array (`data`), its gradient (`grad`, a Tensor filled by `backward()`), and,
if an operation made it, that operation's node (`_ctx`, see autograd.py).  `backward()` sorts the
nodes so each comes after every node that used it, then sweeps them once from the output, applying
each node's Function.backward (the chain rule) and summing the gradients of tensors used twice
(that walk is autograd.walk_backward).

This file holds what a tensor *is*: its data and gradient, its facts (shape, size(), numel()),
conversions, in-place writes, the operators (`a + b`, `a @ b`, `x[i]`) and backward().  Its other
methods (`x.sum()`, `x.exp()`, `x.view(...)`, ...) are in tensor_methods.py; every one is a line
handing the work to an op in `ops/`, where each op keeps its backward beside its forward.

Conventions, as in PyTorch:
- new tensors are float32 unless given a NumPy float64 array (float64 is kept: gradchecks use it);
  an operation never silently upcasts float32 to float64;
- comparisons give boolean tensors, which have no gradient;
- everything runs on the CPU, so the only device is "cpu" (accepted wherever torch takes a device).
"""

from __future__ import annotations

import numpy as np

from .tensor_methods import TensorMethods


def unwrap(x):
    """The NumPy array inside a Tensor; anything else is returned as it is."""
    return x.data if isinstance(x, Tensor) else x


def as_tensor(x) -> "Tensor":
    """x itself if it is a Tensor, else a new (constant) Tensor holding it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _as_array(data, dtype=None) -> np.ndarray:
    """NumPy array for `data`; Python floats and lists of floats become float32, as in PyTorch."""
    data = unwrap(data)
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    array = np.asarray(data)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    return array


def check_device(device) -> None:
    """Accept PyTorch's device arguments that mean the CPU (None, "cpu"); refuse the others clearly."""
    if device is not None and str(device) != "cpu":
        raise ValueError(f"device {device!r}: minitransformer computes with NumPy on the CPU; use device='cpu'")


class Tensor(TensorMethods):
    """An n-dimensional array that can record the operations applied to it.

    `data` is the NumPy array; `grad` is a Tensor filled by `backward()` for leaves with `requires_grad`.
    """

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _as_array(data, dtype)
        self._grad = None
        self._ctx = None  # the Context of the op that produced this tensor (None for leaves)
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, requires_grad=False):
        """Fast constructor for op outputs (no dtype conversion)."""
        t = cls.__new__(cls)
        t.data = array if isinstance(array, np.ndarray) else np.asarray(array)
        t._grad = None
        t._ctx = None
        t.requires_grad = requires_grad
        return t

    @property
    def grad(self):
        """dL/d(this tensor), a Tensor of the same shape, once backward() has reached it (else None)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        """Set or clear (None) the gradient; a NumPy array is wrapped in a Tensor."""
        if value is not None:
            value = value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value))
            if value.shape != self.shape or value.dtype != self.dtype:
                raise ValueError(f"assigned grad has shape {value.shape} and dtype {value.dtype}, but the tensor "
                                 f"has shape {self.shape} and dtype {self.dtype}; a gradient must match both")
        self._grad = value

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and not np.issubdtype(self.data.dtype, np.floating):
            raise TypeError(
                f"Only floating-point tensors can require gradients, got dtype {self.data.dtype}. "
                "Convert first, e.g. Tensor(x, dtype=np.float32), or leave requires_grad=False for ids."
            )
        self.requires_grad = flag
        return self

    # ---- array-like facts ----
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    device = property(lambda self: "cpu")
    is_leaf = property(lambda self: self._ctx is None)

    def size(self, dim=None):
        """The shape (a tuple), or the length of one dim: B, T, C = x.size(); x.size(-1)."""
        if dim is None:
            return self.data.shape
        if not self.ndim:
            raise IndexError(f"size({dim}) of a 0-d tensor: it has no dims (x.size() is ())")
        return self.data.shape[ops.normalize_dim(dim, self.ndim)]

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    def dim(self) -> int:
        """The number of dims (x.ndim)."""
        return self.data.ndim

    @property
    def grad_fn(self):
        """Name of the op that made this tensor (None for a leaf), as PyTorch shows it."""
        return None if self._ctx is None else self._ctx.function.__name__

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(self.data, precision=4, separator=", ", threshold=20, prefix="Tensor(")
        extra = ", dtype=float64" if self.data.dtype == np.float64 else ""
        if self._ctx is not None:
            extra += f", grad_fn={self.grad_fn}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"

    # ---- conversions ----
    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements (shape {self.shape}) "
                               "is ambiguous; use .any() or .all()")
        return bool(self.data.item())

    def __format__(self, spec):
        """f"{loss:.4f}" formats a 0-d tensor as its number (as PyTorch)."""
        return format(self.item(), spec) if self.ndim == 0 else super().__format__(spec)

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t), np.testing.assert_allclose(t, ...): NumPy sees the data (np.array(t): a copy)."""
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return array.copy() if copy and array is self.data else array

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        """What NumPy does when a Tensor meets an array in one of its functions (a ufunc):
        - `array + tensor` (and - * / ** @ and comparisons) is the Tensor op, in the graph;
        - `p.data -= lr * p.grad` (an array updated in place) updates the array with the data;
        - anything else (np.exp(t), ...) computes on the data and gives an array, as for any array-like.
        """
        reflected = _REFLECTED.get(ufunc)
        if out is None and method == "__call__" and reflected and len(inputs) == 2 and inputs[1] is self:
            return getattr(self, reflected)(inputs[0])
        if out is not None:
            kwargs["out"] = tuple(unwrap(o) for o in out)
        return getattr(ufunc, method)(*(unwrap(i) for i in inputs), **kwargs)

    def numpy(self) -> np.ndarray:
        return self.data

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """The same data, cut from the graph: gradients do not flow back through it."""
        return Tensor._wrap(self.data)

    def float(self) -> "Tensor":
        return self.to(np.float32)

    def double(self) -> "Tensor":
        return self.to(np.float64)

    def long(self) -> "Tensor":
        return self.to(np.int64)

    def to(self, *args, dtype=None, device=None) -> "Tensor":
        """x.to(dtype), x.to("cpu"), x.to(other): a differentiable cast between float dtypes; a cast to
        an integer or bool dtype gives a tensor without gradient."""
        for arg in args:
            if isinstance(arg, str):
                device = arg
            else:
                dtype = arg.dtype if isinstance(arg, Tensor) else arg
        check_device(device)
        if dtype is None or np.dtype(dtype) == self.dtype:
            return self
        if not np.issubdtype(np.dtype(dtype), np.floating):
            return Tensor._wrap(self.data.astype(dtype))
        return ops.Cast.apply(self, dtype=np.dtype(dtype))

    # ---- writing in place (refused where the graph would not see it) ----
    def _check_in_place(self, what: str, value=None) -> None:
        if autograd.is_grad_enabled() and (self.requires_grad or getattr(value, "requires_grad", False)):
            raise RuntimeError(
                f"{what} on a tensor that requires grad would change values the graph has recorded or "
                "will record; do it under `with mt.no_grad():` (as optimizers and inits do) or on x.detach()")

    def __setitem__(self, index, value):
        """x[index] = value, in place (e.g. logits[logits < v[:, [-1]]] = -inf), with PyTorch's indexing."""
        self._check_in_place("x[index] = value", value)
        ops.set_item(self, index, value)

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def fill_(self, value) -> "Tensor":
        self._check_in_place("fill_")
        self.data[...] = unwrap(value)
        return self

    def copy_(self, source) -> "Tensor":
        """Copy source's values (broadcast to this shape) into this tensor."""
        self._check_in_place("copy_", source)
        self.data[...] = unwrap(source)
        return self

    # ---- backpropagation ----
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Fill `.grad` of every leaf that requires grad with d(self)/d(leaf), by the chain rule.

        It is `backward_steps()` run to the end: the same walk, without looking at the steps.
        """
        for _ in self.backward_steps(grad, retain_graph):
            pass

    def backward_steps(self, grad=None, retain_graph: bool = False):
        """backward(), one node at a time: an iterator of (node, grad_output, input_grads).

        Each item comes right after that node's Function.backward ran: grad_output is dL/d(node),
        input_grads holds what was sent to each of node._ctx.inputs (None where nothing was), already
        summed back to the input's shape.  Leaves get their .grad as the walk reaches them, so only
        a walk run to the end has done all of backward().  The arguments are checked at once.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad: no input it depends on "
                "has requires_grad=True (or it was computed under no_grad())."
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar output, got shape {self.shape}. "
                    "Reduce it first (e.g. loss = out.sum()) or pass grad= of the same shape."
                )
            grad = np.ones_like(self.data)
        else:
            grad = _as_array(grad, self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"grad has shape {grad.shape} but the tensor has shape {self.shape}")
        return autograd.walk_backward(self, grad, retain_graph)

    def _topological_order(self) -> list:
        """Every tensor this one depends on, each after all its inputs (autograd.topological_order)."""
        return autograd.topological_order(self)

    # ---- arithmetic (both operand orders): ops/arithmetic.py ----
    def __add__(self, other):
        return ops.Add.apply(self, _operand(self, other))

    def __radd__(self, other):
        return ops.Add.apply(_operand(self, other), self)

    def __sub__(self, other):
        return ops.Sub.apply(self, _operand(self, other))

    def __rsub__(self, other):
        return ops.Sub.apply(_operand(self, other), self)

    def __mul__(self, other):
        return ops.Mul.apply(self, _operand(self, other))

    def __rmul__(self, other):
        return ops.Mul.apply(_operand(self, other), self)

    def __truediv__(self, other):
        return ops.Div.apply(self, _operand(self, other))

    def __rtruediv__(self, other):
        return ops.Div.apply(_operand(self, other), self)

    def __pow__(self, other):
        return ops.Pow.apply(self, _operand(self, other))

    def __rpow__(self, other):
        return ops.Pow.apply(_operand(self, other), self)

    def __matmul__(self, other):
        return ops.MatMul.apply(self, _operand(self, other))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(_operand(self, other), self)

    def __neg__(self):
        return ops.Neg.apply(self)

    # comparisons give plain boolean tensors: they have no gradient
    def __lt__(self, other):
        return Tensor._wrap(self.data < unwrap(other))

    def __le__(self, other):
        return Tensor._wrap(self.data <= unwrap(other))

    def __gt__(self, other):
        return Tensor._wrap(self.data > unwrap(other))

    def __ge__(self, other):
        return Tensor._wrap(self.data >= unwrap(other))

    def __eq__(self, other):
        return Tensor._wrap(self.data == unwrap(other))

    def __ne__(self, other):
        return Tensor._wrap(self.data != unwrap(other))

    def __invert__(self):
        return Tensor._wrap(~self.data)

    __hash__ = object.__hash__  # tensors are identified by object, as in PyTorch

    # ---- indexing: ops/indexing.py ----
    def __getitem__(self, index):
        return ops.GetItem.apply(self, index=index)


# array (op) tensor, for NumPy's functions behind the operators: the Tensor method that does it
_REFLECTED = {np.add: "__radd__", np.subtract: "__rsub__", np.multiply: "__rmul__", np.true_divide: "__rtruediv__",
              np.power: "__rpow__", np.matmul: "__rmatmul__", np.less: "__gt__", np.less_equal: "__ge__",
              np.greater: "__lt__", np.greater_equal: "__le__", np.equal: "__eq__", np.not_equal: "__ne__"}


def _operand(tensor: Tensor, other):
    """The other operand of a binary op: a Tensor, or a constant in the tensor's dtype."""
    if isinstance(other, Tensor):
        a, b = tensor.dtype, other.dtype
        if a != b and np.issubdtype(a, np.floating) and np.issubdtype(b, np.floating):
            raise TypeError(
                f"Mixing dtypes {a} and {b} in one operation would silently change precision. "
                "Convert one side first with .float() or .double()."
            )
        return other
    if isinstance(other, (int, float, bool)) and not isinstance(other, np.generic):
        return other  # Python scalars are 'weak': they take the tensor's dtype
    array = np.asarray(other)
    if np.issubdtype(tensor.dtype, np.floating) and array.dtype.kind in "biuf":  # numbers take a float tensor's dtype
        array = array.astype(tensor.dtype, copy=False)
    return array


# Why these imports come last: Tensor's methods call the ops, and Function.apply (autograd.py) builds
# Tensors, so the files need each other.  tensor.py and autograd.py each import the other at their
# end, once their own names exist, and the methods look `ops.Add` up only when they run; so whichever
# file Python loads first, every name is there by the time anything is called.  tensor_methods.py is
# imported first (Tensor is built from it), so it cannot import the ops itself: it is handed them here.
from . import autograd, ops, tensor_methods  # noqa: E402
from .autograd import Context, Function, is_grad_enabled, no_grad, sum_to_shape  # noqa: E402,F401

tensor_methods.ops, tensor_methods.Tensor = ops, Tensor


def __getattr__(name):
    """Names that lived in this file before ops/ and autograd.py existed (`from minitransformer.tensor
    import Mul`, `tensor._tape_recorders`) are looked up where they live now."""
    for home in (ops, autograd):
        if hasattr(home, name):
            return getattr(home, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
