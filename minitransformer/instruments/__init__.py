"""Instruments: look inside the engine while it runs.

trace.py            trace_backward / print_backward_trace: the backward pass node by node, with the
                    gradient each node receives, its local rule, and what it sends to each input
shapes.py           shape_trace: each module's input and output shapes as a tree, in letters (B, T, C)
memory.py           tape_memory: the bytes each op and each module saves for backward
optimizer_stats.py  adam_stats: Adam's step size and update/weight ratio for every parameter
module_stack.py     which module is running now, and its dotted name (used by shapes and memory)

Switched off, they cost nothing but one `if` per op and per module call: the engine checks a list
of active recorders (tensor._tape_recorders, nn.module._forward_observers) that is empty.
Related tools elsewhere: gradcheck.gradcheck_module (finite differences, per parameter) and the
trainer's final line (achieved FLOP/s against this machine's matmul rate).
"""

from .memory import TapeMemory, tape_memory
from .optimizer_stats import AdamStats, adam_stats
from .shapes import ShapeTrace, dimension_names, shape_trace
from .trace import BackwardStep, format_backward_trace, local_rule, print_backward_trace, trace_backward

__all__ = [
    "trace_backward", "print_backward_trace", "format_backward_trace", "BackwardStep", "local_rule",
    "shape_trace", "ShapeTrace", "dimension_names", "tape_memory", "TapeMemory", "adam_stats", "AdamStats",
]
