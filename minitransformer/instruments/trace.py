"""Step through a backward pass: what each node receives, which rule it applies, what it sends on.

`loss.backward()` visits the graph's nodes from the loss back to the leaves.  At each node it
applies the chain rule,

    dL/d(input) = dL/d(output) * d(output)/d(input),

where dL/d(output) is the gradient arriving from above and d(output)/d(input) is the op's *local
rule*, written in its Function's docstring.  `trace_backward(loss)` runs that same walk
(`Tensor.backward_steps`, the code backward() itself runs) and yields one `BackwardStep` per node,
in the order backpropagation visits them, so you can watch the gradient flow down:

    for step in trace_backward(loss, names=model):
        print(step.op, step.output_shape, step.grad_norm)

It really is the backward pass: run to the end, it leaves every leaf's .grad exactly as
`loss.backward()` would, and it frees the graph unless retain_graph=True.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass

import numpy as np

from ..tensor import Tensor


@dataclass
class InputGradient:
    """What one input of a node received: dL/d(input) through this node only."""

    position: int  # which argument of the op's forward
    source: str  # the parameter's name, "leaf", or the op that made this input
    shape: tuple
    grad: np.ndarray | None  # None: this input needs no gradient
    tensor: Tensor


@dataclass
class BackwardStep:
    """One node of the backward pass.  `rule` is the op's derivative, from its docstring."""

    index: int  # 1 for the first node visited (the loss)
    op: str
    output_shape: tuple
    grad_output: np.ndarray  # dL/d(output): the gradient arriving from above, summed over all uses
    rule: str
    inputs: list  # [InputGradient] for each Tensor argument of the op
    output: Tensor  # the node itself

    @property
    def grad_norm(self) -> float:
        """||dL/d(output)||, the size of the gradient arriving here."""
        return float(np.linalg.norm(self.grad_output))


def local_rule(function) -> str:
    """The derivative a Function states in its docstring: the first paragraph, plus the paragraph
    starting with "Backward" where the formula has one of its own (the fused kernels)."""
    doc = function.__doc__  # a class's own docstring: not inherited from Function
    if not doc:
        return f"({function.__name__} has no docstring: write its derivative there)"
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n".join([paragraphs[0]] + [p for p in paragraphs[1:] if p.startswith("Backward")])


def _names_by_id(names) -> dict:
    """{id(tensor): name} from a Module (its named_parameters) or a {name: tensor} dict."""
    if names is None:
        return {}
    pairs = names.named_parameters() if hasattr(names, "named_parameters") else names.items()
    return {id(tensor): name for name, tensor in pairs}


def _source(tensor: Tensor, names: dict) -> str:
    if id(tensor) in names:
        return names[id(tensor)]
    return "leaf" if tensor.is_leaf else tensor.grad_fn


def trace_backward(loss: Tensor, grad=None, retain_graph: bool = False, names=None):
    """Run loss.backward() one node at a time, yielding a BackwardStep after each node's backward.

    names: a Module or a {name: tensor} dict, so gradients sent to parameters show their names.
    Stop early and the backward pass stops there too: leaves get their .grad only once the walk
    has reached them.  Arguments are checked at once, as backward() checks them.
    """
    steps = loss.backward_steps(grad, retain_graph)  # the walk backward() runs, not a copy of it
    return _describe_steps(steps, _names_by_id(names))


def _describe_steps(steps, names: dict):
    for index, (node, grad_output, sent) in enumerate(steps, start=1):
        ctx = node._ctx
        inputs = [InputGradient(position, _source(inp, names), inp.shape, grad, inp)
                  for position, (inp, grad) in enumerate(zip(ctx.inputs, sent)) if isinstance(inp, Tensor)]
        yield BackwardStep(index, ctx.function.__name__, node.shape, grad_output, local_rule(ctx.function),
                           inputs, node)


def _shape(shape: tuple) -> str:
    return "scalar" if shape == () else "[" + ", ".join(map(str, shape)) + "]"


def format_backward_trace(steps, rules: bool = True) -> str:
    """A table: one row per node (what arrived, where it went), with the op's rule beneath it."""
    lines = [f"{'step':>4}  {'op':<14}{'output':<16}{'|dL/dout|':>10}   sends dL/d(input) to: source shape |grad|"]
    for step in steps:
        sent = "; ".join(f"{i.source} {_shape(i.shape)} {np.linalg.norm(i.grad):.2e}"
                         for i in step.inputs if i.grad is not None)
        lines.append(f"{step.index:>4}  {step.op:<14}{_shape(step.output_shape):<16}{step.grad_norm:>10.2e}   "
                     f"{sent or '(nothing: no input needs a gradient)'}")
        if rules:
            lines.extend(f"{'':6}| {line}" for line in step.rule.splitlines())
    return "\n".join(lines)


def print_backward_trace(loss: Tensor, grad=None, retain_graph: bool = False, names=None, rules: bool = True,
                         file=None) -> list:
    """Run the backward pass, print it as a table (format_backward_trace) and return its steps."""
    steps = list(trace_backward(loss, grad, retain_graph, names))
    print(format_backward_trace(steps, rules), file=file or sys.stdout)
    return steps
