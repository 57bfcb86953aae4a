"""The autograd engine: a Tensor that remembers how it was made, and backward() that walks it back.

Reverse-mode automatic differentiation in one idea: every operation records a *node* — which
`Function` made the output, from which inputs, and what it saved for later.  `loss.backward()`
visits the nodes from the loss back to the leaves; at each one it applies the chain rule

    dL/d(input) = dL/d(output) * d(output)/d(input)

through that Function's `backward`, and adds the result into the input's gradient (a tensor used
twice receives the sum of both paths).

A `Function` is written like PyTorch's `torch.autograd.Function`: `forward(ctx, *arrays)` computes on
plain NumPy arrays and saves what the gradient needs with `ctx.save_for_backward`; `backward(ctx,
grad_output)` returns one gradient per input.  Each primitive below keeps its backward right beside
its forward, so the rule can be read next to the computation it differentiates.

Conventions, as in PyTorch:
- new tensors are float32 unless given a NumPy float64 array (float64 is kept: gradchecks use it);
  an operation never silently upcasts float32 to float64;
- gradients broadcast back: an input of shape (1, C) used against (B, C) gets its gradient summed
  over B (`sum_to_shape`);
- `backward()` frees what the graph saved unless `retain_graph=True`;
- inside `with no_grad():` nothing is recorded.
"""

from __future__ import annotations

import functools

import numpy as np

# --------------------------------------------------------------------------------------------
# Recording on and off
# --------------------------------------------------------------------------------------------

_grad_enabled = True

# Callbacks record(ctx, output) run for every node added to the graph.  Empty unless an instrument
# (minitransformer.instruments.tape_memory) is active, so recording costs one `if` per op when off.
_tape_recorders = []


def is_grad_enabled() -> bool:
    return _grad_enabled


class no_grad:
    """Context manager and decorator: operations inside record no graph (inference, updates)."""

    def __enter__(self):
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper


# --------------------------------------------------------------------------------------------
# Function: the base of every differentiable operation
# --------------------------------------------------------------------------------------------


class Context:
    """What a Function's forward leaves for its backward: saved arrays plus any attributes."""

    def __init__(self, function, inputs):
        self.function = function  # the Function subclass that made the output
        self.inputs = inputs  # the forward's positional arguments (Tensors and constants)
        self.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in inputs)
        self._saved = ()
        self.freed = False

    def save_for_backward(self, *arrays):
        self._saved = arrays

    @property
    def saved_tensors(self):
        if self.freed:
            raise RuntimeError(
                f"Trying to backward through {self.function.__name__} a second time: its saved arrays "
                "were freed by the first backward(). Call backward(retain_graph=True) the first time "
                "if you need to backward through the same graph twice."
            )
        return self._saved

    def saved_nbytes(self) -> int:
        """Bytes this node holds for backward (the tape memory it costs)."""
        return sum(a.nbytes for a in self._saved if isinstance(a, np.ndarray))

    def release(self):
        self._saved = ()
        self.freed = True


class Function:
    """Subclass with `forward(ctx, *args)` and `backward(ctx, grad)`; call with `.apply(*args)`.

    `forward` receives NumPy arrays in place of Tensors (other arguments pass unchanged) and returns
    one array.  `backward` receives dL/d(output) and returns dL/d(input) for each positional input
    (a tuple, or one array when there is one input); use None for inputs without a gradient.
    Gradients may have the broadcast shape: the engine sums them back to each input's shape.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = Context(cls, args)
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        out = cls.forward(ctx, *arrays, **kwargs)
        track = _grad_enabled and any(ctx.needs_input_grad)
        result = Tensor._wrap(out, requires_grad=track)
        if track:
            result._ctx = ctx
            if _tape_recorders:  # an instrument is watching (minitransformer.instruments); empty: no cost
                for record in _tape_recorders:
                    record(ctx, result)
        return result


def sum_to_shape(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Undo broadcasting: sum `grad` over the axes along which an input of `shape` was stretched."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    grad = grad.sum(axis=axes, keepdims=True) if axes else grad
    return grad.reshape(shape)


# --------------------------------------------------------------------------------------------
# The Tensor
# --------------------------------------------------------------------------------------------


def _as_array(data, dtype=None) -> np.ndarray:
    """NumPy array for `data`; Python floats and lists of floats become float32, as in PyTorch."""
    if isinstance(data, Tensor):
        data = data.data
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
        return Cast.apply(self, dtype=np.dtype(dtype))

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

    # ---- arithmetic (both operand orders) ----
    def __add__(self, other):
        return Add.apply(self, _operand(self, other))

    def __radd__(self, other):
        return Add.apply(_operand(self, other), self)

    def __sub__(self, other):
        return Sub.apply(self, _operand(self, other))

    def __rsub__(self, other):
        return Sub.apply(_operand(self, other), self)

    def __mul__(self, other):
        return Mul.apply(self, _operand(self, other))

    def __rmul__(self, other):
        return Mul.apply(_operand(self, other), self)

    def __truediv__(self, other):
        return Div.apply(self, _operand(self, other))

    def __rtruediv__(self, other):
        return Div.apply(_operand(self, other), self)

    def __pow__(self, other):
        return Pow.apply(self, _operand(self, other))

    def __rpow__(self, other):
        return Pow.apply(_operand(self, other), self)

    def __matmul__(self, other):
        return MatMul.apply(self, _operand(self, other))

    def __rmatmul__(self, other):
        return MatMul.apply(_operand(self, other), self)

    def __neg__(self):
        return Neg.apply(self)

    # comparisons give plain boolean tensors: they have no gradient
    def __lt__(self, other):
        return Tensor._wrap(self.data < _raw(other))

    def __le__(self, other):
        return Tensor._wrap(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor._wrap(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor._wrap(self.data >= _raw(other))

    def __eq__(self, other):
        return Tensor._wrap(self.data == _raw(other))

    def __ne__(self, other):
        return Tensor._wrap(self.data != _raw(other))

    __hash__ = object.__hash__  # tensors are identified by object, as in PyTorch

    def __getitem__(self, index):
        return GetItem.apply(self, index=_raw_index(index))

    # ---- reductions ----
    def sum(self, dim=None, keepdim=False):
        return Sum.apply(self, dim=_normalize_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        return Mean.apply(self, dim=_normalize_dims(dim, self.ndim), keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        return Max.apply(self, dim=_normalize_dims(dim, self.ndim), keepdim=keepdim)

    def var(self, dim=None, keepdim=False, correction=1):
        """Variance with Bessel's correction by default (divide by N - 1), as torch.var."""
        return Var.apply(self, dim=_normalize_dims(dim, self.ndim), keepdim=keepdim, correction=correction)

    # ---- shape ----
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Reshape.apply(self, shape=shape)

    view = reshape

    def transpose(self, dim0, dim1):
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return Permute.apply(self, axes=tuple(axes))

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return Permute.apply(self, axes=tuple(d % self.ndim for d in dims))

    @property
    def T(self):
        return Permute.apply(self, axes=tuple(reversed(range(self.ndim))))

    # ---- elementwise functions ----
    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def sqrt(self):
        return Sqrt.apply(self)

    def tanh(self):
        return Tanh.apply(self)

    def sigmoid(self):
        return Sigmoid.apply(self)

    def relu(self):
        return Relu.apply(self)

    def masked_fill(self, mask, value):
        """Put `value` where `mask` is True (mask broadcasts); no gradient flows to filled places."""
        return MaskedFill.apply(self, np.asarray(_raw(mask), dtype=bool), value=value)


# --------------------------------------------------------------------------------------------
# Helpers for operands
# --------------------------------------------------------------------------------------------


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _raw_index(index):
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


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


def _normalize_dims(dim, ndim):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    for d in dims:
        if not -ndim <= d < max(ndim, 1):
            raise IndexError(f"dim {d} is out of range for a tensor with {ndim} dimensions")
    normalized = tuple(sorted(d % max(ndim, 1) for d in dims))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"dim {dim} names the same axis twice for a tensor with {ndim} dimensions")
    return normalized


def _expand_reduced(grad, shape, dim, keepdim):
    """Broadcast the gradient of a reduction back over the reduced axes."""
    if dim is not None and not keepdim:
        grad = np.expand_dims(grad, dim)
    return np.broadcast_to(grad, shape)


# --------------------------------------------------------------------------------------------
# Primitive operations, each with its backward beside its forward
# --------------------------------------------------------------------------------------------


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
    """z = a ** b;  dz/da = b * a^(b-1), dz/db = a^b * log(a)."""

    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        ga = g * b * np.power(a, b - 1) if ctx.needs_input_grad[0] else None
        gb = g * out * np.log(a) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """z = -a;  dz/da = -1."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


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


class Sum(Function):
    """z = sum(a);  each element's gradient is dL/dz."""

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        ctx.shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        return np.asarray(a.sum(axis=dim, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        return _expand_reduced(g, ctx.shape, ctx.dim, ctx.keepdim)


class Mean(Function):
    """z = sum(a) / N;  each element's gradient is dL/dz / N."""

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        ctx.shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        ctx.count = a.size if dim is None else int(np.prod([a.shape[d] for d in dim]))
        return np.asarray(a.mean(axis=dim, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        return _expand_reduced(g / ctx.count, ctx.shape, ctx.dim, ctx.keepdim)


class Max(Function):
    """z = max(a);  the gradient goes to the maximal elements, split evenly between ties."""

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        out = np.asarray(a.max(axis=dim, keepdims=True))
        winners = a == out
        ctx.save_for_backward(winners / winners.sum(axis=dim, keepdims=True).astype(a.dtype))
        ctx.dim, ctx.keepdim = dim, keepdim
        return out if keepdim else np.asarray(out.squeeze(axis=dim) if dim is not None else out.reshape(()))

    @staticmethod
    def backward(ctx, g):
        (share,) = ctx.saved_tensors
        return _expand_reduced(g, share.shape, ctx.dim, ctx.keepdim) * share


class Var(Function):
    """z = sum((a - mean)^2) / (N - correction);  dz/da = 2 (a - mean) / (N - correction)."""

    @staticmethod
    def forward(ctx, a, dim, keepdim, correction):
        count = a.size if dim is None else int(np.prod([a.shape[d] for d in dim]))
        centered = a - a.mean(axis=dim, keepdims=True)
        ctx.save_for_backward(centered)
        ctx.dim, ctx.keepdim, ctx.denominator = dim, keepdim, count - correction
        return np.asarray((centered * centered).sum(axis=dim, keepdims=keepdim) / ctx.denominator)

    @staticmethod
    def backward(ctx, g):
        (centered,) = ctx.saved_tensors
        g = _expand_reduced(g, centered.shape, ctx.dim, ctx.keepdim)
        return g * centered * (2.0 / ctx.denominator)


class Reshape(Function):
    """Same elements, new shape;  the gradient is reshaped back."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {a.shape} ({a.size} elements) into {shape}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Permute(Function):
    """Reorder axes;  the gradient is permuted by the inverse order."""

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(np.argsort(ctx.axes))


def _is_basic_index(index) -> bool:
    """True for slices/ints/None/Ellipsis only: such an index never selects an element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice, type(None), type(Ellipsis))) for p in parts)


class GetItem(Function):
    """z = a[index];  the gradient is scattered back, added where an element was picked twice."""

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        return np.asarray(a[index])

    @staticmethod
    def backward(ctx, g):
        grad = np.zeros(ctx.shape, dtype=ctx.dtype)
        if _is_basic_index(ctx.index):
            grad[ctx.index] = g
        else:
            np.add.at(grad, ctx.index, g)
        return grad


class Cast(Function):
    """Change float precision;  the gradient is cast back."""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype)


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


class MaskedFill(Function):
    """z = value where mask else a;  the gradient passes only where the mask is False."""

    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.save_for_backward(mask)
        return np.where(mask, np.asarray(value, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return np.where(mask, 0, g).astype(g.dtype, copy=False), None
