"""The Tensor: an array that remembers how it was made, and backward() that walks that record back.

A Tensor holds a NumPy array (`data`), its gradient (`grad`, filled by `backward()`), and, if an
operation made it, that operation's node (`_ctx`, see autograd.py).  `backward()` sorts the nodes
so each comes after every node that used it, then sweeps them once from the output, applying each
node's Function.backward (the chain rule) and summing the gradients of tensors used twice.

The operators and methods (`a + b`, `a @ b`, `x.sum()`, `x.exp()`, ...) are one line each: they hand
the work to an op in `ops/`, where each op keeps its backward beside its forward.

Conventions, as in PyTorch:
- new tensors are float32 unless given a NumPy float64 array (float64 is kept: gradchecks use it);
  an operation never silently upcasts float32 to float64;
- comparisons give boolean tensors, which have no gradient.
"""

from __future__ import annotations

import numpy as np


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


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    `data` is the NumPy array; `grad` is filled by `backward()` for leaves with `requires_grad`.
    """

    __array_priority__ = 1000  # make `ndarray + Tensor` call Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _as_array(data, dtype)
        self.grad = None
        self._ctx = None  # the Context of the op that produced this tensor (None for leaves)
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, requires_grad=False):
        """Fast constructor for op outputs (no dtype conversion)."""
        t = cls.__new__(cls)
        t.data = array if isinstance(array, np.ndarray) else np.asarray(array)
        t.grad = None
        t._ctx = None
        t.requires_grad = requires_grad
        return t

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
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._ctx is None)

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

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.item()

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

    def to(self, dtype) -> "Tensor":
        """Differentiable cast to another float dtype."""
        return ops.Cast.apply(self, dtype=np.dtype(dtype))

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
        return self._walk_backward(grad, retain_graph)

    def _walk_backward(self, grad, retain_graph):
        """Visit nodes in reverse topological order (each after every node that used it), so a
        node's gradient is complete, summed over all its uses, before it is passed further down."""
        order = self._topological_order()
        grads = {id(self): grad}
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if node._ctx is None:  # a leaf
                if node.requires_grad and g is not None:
                    g = sum_to_shape(g, node.shape).astype(node.dtype, copy=False)
                    node.grad = g.copy() if node.grad is None else node.grad + g
                continue
            ctx = node._ctx
            if g is None:  # this node does not lead to the output
                continue
            input_grads = ctx.function.backward(ctx, g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            sent = []
            for inp, needs, ig in zip(ctx.inputs, ctx.needs_input_grad, input_grads):
                if not needs or ig is None:
                    sent.append(None)
                    continue
                ig = sum_to_shape(np.asarray(ig), inp.shape)
                if ig.dtype != inp.dtype:
                    ig = ig.astype(inp.dtype)
                sent.append(ig)
                previous = grads.get(id(inp))
                grads[id(inp)] = ig if previous is None else previous + ig
            if not retain_graph:
                ctx.release()
            yield node, g, tuple(sent)

    def _topological_order(self) -> list:
        """Every tensor this one depends on, each after all its inputs (iterative DFS, no recursion)."""
        order, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            if node._ctx is not None:
                for inp in node._ctx.inputs:
                    if isinstance(inp, Tensor) and inp.requires_grad and id(inp) not in visited:
                        stack.append((inp, False))
        return order

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

    __hash__ = object.__hash__  # tensors are identified by object, as in PyTorch

    # ---- reductions: ops/reductions.py ----
    def sum(self, dim=None, keepdim=False):
        return ops.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        return ops.Mean.apply(self, dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        return ops.Max.apply(self, dim=dim, keepdim=keepdim)

    def var(self, dim=None, keepdim=False, correction=1):
        """Variance with Bessel's correction by default (divide by N - 1), as torch.var."""
        return ops.Var.apply(self, dim=dim, keepdim=keepdim, correction=correction)

    # ---- shape: ops/shape.py; indexing: ops/indexing.py ----
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.Reshape.apply(self, shape=shape)

    view = reshape

    def transpose(self, dim0, dim1):
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return ops.Permute.apply(self, axes=tuple(axes))

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return ops.Permute.apply(self, axes=tuple(d % self.ndim for d in dims))

    @property
    def T(self):
        return ops.Permute.apply(self, axes=tuple(reversed(range(self.ndim))))

    def __getitem__(self, index):
        return ops.GetItem.apply(self, index=index)

    def masked_fill(self, mask, value):
        """Put `value` where `mask` is True (mask broadcasts); no gradient flows to filled places."""
        return ops.masked_fill(self, mask, value)

    # ---- elementwise functions: ops/pointwise.py, ops/special.py ----
    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def sqrt(self):
        return ops.Sqrt.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self)

    def sigmoid(self):
        return ops.Sigmoid.apply(self)

    def relu(self):
        return ops.Relu.apply(self)

    def erf(self):
        return ops.Erf.apply(self)


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
    if isinstance(other, (int, float, bool)):
        return other  # Python scalars are 'weak': they take the tensor's dtype
    array = np.asarray(other)
    if np.issubdtype(array.dtype, np.floating) and np.issubdtype(tensor.dtype, np.floating):
        array = array.astype(tensor.dtype, copy=False)
    return array


# Why these imports come last: Tensor's methods call the ops, and Function.apply (autograd.py) builds
# Tensors, so the files need each other.  tensor.py and autograd.py each import the other at their
# end, once their own names exist, and the methods look `ops.Add` up only when they run; so whichever
# file Python loads first, every name is there by the time anything is called.
from . import autograd, ops  # noqa: E402
from .autograd import Context, Function, is_grad_enabled, no_grad, sum_to_shape  # noqa: E402,F401


def __getattr__(name):
    """Names that lived in this file before ops/ and autograd.py existed (`from minitransformer.tensor
    import Mul`, `tensor._tape_recorders`) are looked up where they live now."""
    for home in (ops, autograd):
        if hasattr(home, name):
            return getattr(home, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
