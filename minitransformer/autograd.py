"""The contract of the autograd engine: what a differentiable operation is, and when it is recorded.

Reverse-mode automatic differentiation in one idea: every operation records a *node*, which
`Function` made the output, from which inputs, and what it saved for later.  `loss.backward()`
(tensor.py; the walk itself is `walk_backward`, at the end of this file) visits the nodes from the
loss back to the leaves; at each one it applies the chain rule

    dL/d(input) = dL/d(output) * d(output)/d(input)

through that Function's `backward`, and adds the result into the input's gradient (a tensor used
twice receives the sum of both paths).

A `Function` is written like PyTorch's `torch.autograd.Function`: `forward(ctx, *arrays)` computes on
plain NumPy arrays and saves what the gradient needs with `ctx.save_for_backward`; `backward(ctx,
grad_output)` returns one gradient per input.  The primitives in `ops/` and the fused kernels in
`functional/` are all Functions, and so is any op a learner writes.

Conventions, as in PyTorch:
- gradients broadcast back: an input of shape (1, C) used against (B, C) gets its gradient summed
  over B (`sum_to_shape`), so a backward may return the broadcast shape;
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
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]  # unwrap(), inlined: every op runs this
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
# The walk back: what loss.backward() runs
# --------------------------------------------------------------------------------------------


def topological_order(root) -> list:
    """Every tensor `root` depends on, each after all its inputs (iterative DFS, no recursion)."""
    order, visited = [], set()
    stack = [(root, False)]
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


def walk_backward(root, grad: np.ndarray, retain_graph: bool):
    """Visit the nodes in reverse topological order (each after every node that used it), so a
    node's gradient is complete, summed over all its uses, before it is passed further down.
    Yields (node, dL/d(node), what was sent to each input) after each node's backward; leaves get
    their .grad, a Tensor wrapping the summed array, as the walk reaches them."""
    grads = {id(root): grad}
    for node in reversed(topological_order(root)):
        g = grads.pop(id(node), None)
        if node._ctx is None:  # a leaf
            if node.requires_grad and g is not None:
                g = sum_to_shape(g, node.shape).astype(node.dtype, copy=False)
                node._grad = Tensor._wrap(g.copy() if node._grad is None else node._grad.data + g)
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


# Last, as tensor.py explains: Function.apply builds Tensors, and tensor.py imports this file.
from .tensor import Tensor  # noqa: E402
