"""Tape memory: what a forward pass keeps for its backward, by op and by module.

Training holds more than the weights.  Every node of the graph saves the arrays its backward will
need (`ctx.save_for_backward`): a linear layer its input, a softmax its output, attention its
probabilities, (B, H, T, T) of them.  All of it stays alive from the forward pass until backward()
frees it, and for a transformer it is usually many times the size of the parameters, growing with
batch size and, through attention, with the square of the context length.

    with tape_memory() as tape:
        loss = model(ids, targets)[1]
    print(tape.table())

counts, for every node created inside the block, `ctx.saved_nbytes()`, grouped by the op
(Function) that made the node and by the innermost module running when it was made.  Under
no_grad() no node is created, so nothing is saved: that is why inference needs so much less memory.

Two nodes may save the same array (q_proj, k_proj and v_proj all save the same input), and a
linear layer saves its weight, which costs nothing extra.  The table's totals count every node's
saves; the line "held once" counts each array once and says how much of it is parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import tensor as tensor_module
from .module_stack import ModuleStack

OUTSIDE = "(no module)"


def memory_key(array: np.ndarray) -> tuple:
    """Identifies the memory an array shows: two views of the same bytes (e.g. x and
    x.reshape(-1, C) saved by two ops) are one array held once."""
    return (array.__array_interface__["data"][0], array.shape, array.strides, array.dtype.str)


@dataclass
class TapeNode:
    """One node created during the recorded forward pass."""

    op: str  # the Function's name
    module: str  # the innermost module running when the node was made, or OUTSIDE
    nbytes: int  # ctx.saved_nbytes() right after the forward


def format_bytes(n: float) -> str:
    """1536 -> '1.5 KiB': binary units, as memory is allocated."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


class TapeMemory(ModuleStack):
    """The records of a `tape_memory()` block.  Read after the block ends."""

    def __init__(self):
        super().__init__()
        self.nodes = []
        self._saved = {}  # id(array) -> array, each saved array once (kept alive so ids stay unique)
        self._parameters = {}  # id(parameter) -> parameter, of every outermost module called
        self._call_order = {}  # module name -> when it was first called
        self.distinct_bytes = 0  # each saved array counted once
        self.saved_parameter_bytes = 0  # the part of distinct_bytes that is parameters themselves

    # ---- recording ----
    def enter(self, module, args, kwargs) -> None:
        if not self.running:
            self._parameters.update((id(p), p) for p in module.parameters())
        super().enter(module, args, kwargs)
        self._call_order.setdefault(self.innermost, len(self._call_order))

    def _record(self, ctx, output) -> None:
        self.nodes.append(TapeNode(ctx.function.__name__, self.innermost or OUTSIDE, ctx.saved_nbytes()))
        for array in ctx.saved_tensors:
            if isinstance(array, np.ndarray):
                self._saved.setdefault(memory_key(array), array)

    def __enter__(self):
        super().__enter__()
        tensor_module._tape_recorders.append(self._record)
        return self

    def __exit__(self, *exc):
        tensor_module._tape_recorders.remove(self._record)
        parameter_arrays = {memory_key(p.data) for p in self._parameters.values()}
        self.distinct_bytes = sum(a.nbytes for a in self._saved.values())
        self.saved_parameter_bytes = sum(a.nbytes for key, a in self._saved.items() if key in parameter_arrays)
        self._saved = {}  # let the arrays go with the graph
        return super().__exit__(*exc)

    # ---- reading ----
    @property
    def total_bytes(self) -> int:
        """Sum of ctx.saved_nbytes() over every node made in the block."""
        return sum(node.nbytes for node in self.nodes)

    @property
    def parameter_bytes(self) -> int:
        """Bytes of the parameters of the model(s) called in the block, for comparison."""
        return sum(p.data.nbytes for p in self._parameters.values())

    @property
    def activation_bytes(self) -> int:
        """What the tape really adds to memory: saved arrays counted once, parameters left out."""
        return self.distinct_bytes - self.saved_parameter_bytes

    def _group(self, key, order) -> dict:
        groups = {}  # name -> [nodes, bytes]
        for node in self.nodes:
            entry = groups.setdefault(key(node), [0, 0])
            entry[0] += 1
            entry[1] += node.nbytes
        return {name: tuple(entry) for name, entry in sorted(groups.items(), key=order)}

    def by_op(self) -> dict:
        """{Function name: (nodes, bytes saved)}, largest first."""
        return self._group(lambda n: n.op, order=lambda kv: -kv[1][1])

    def by_module(self) -> dict:
        """{innermost module: (nodes, bytes saved)}, in the order the modules were called (OUTSIDE last)."""
        return self._group(lambda n: n.module, order=lambda kv: self._call_order.get(kv[0], len(self._call_order)))

    def table(self) -> str:
        total = self.total_bytes
        lines = [f"tape memory of the forward pass: {len(self.nodes)} nodes saved {format_bytes(total)} for backward"]
        for title, groups in (("op", self.by_op()), ("innermost module", self.by_module())):
            width = max([len(title)] + [len(name) for name in groups]) + 2
            lines.append("")
            lines.append(f"{title:<{width}}{'nodes':>6}{'saved':>12}{'share':>8}")
            for name, (count, nbytes) in groups.items():
                share = f"{nbytes / total:.1%}" if total else "-"
                lines.append(f"{name:<{width}}{count:>6}{format_bytes(nbytes):>12}{share:>8}")
        lines.append("")
        lines.append(f"held once: {format_bytes(self.distinct_bytes)} (each saved array counted once), of which "
                     f"{format_bytes(self.saved_parameter_bytes)} are the parameters themselves")
        ratio = ""
        if self.parameter_bytes:
            ratio = f" = {self.activation_bytes / self.parameter_bytes:.1f} x the parameters"
        lines.append(f"activations kept for backward: {format_bytes(self.activation_bytes)}{ratio} "
                     f"({format_bytes(self.parameter_bytes)})")
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def tape_memory() -> TapeMemory:
    """Record what every node made inside `with tape_memory() as tape:` saves for backward."""
    return TapeMemory()
