"""A shape trace: every module's input and output shapes during a forward pass, as a tree.

Most bugs in a transformer are shape bugs, and most of understanding one is knowing the shape of
what flows where.  Inside `with shape_trace() as trace:` every module call is recorded; then
`print(trace.render())` shows the call tree with shapes written in the usual letters:

    B batch   T sequence length   C d_model   V vocabulary   H heads   D head size (C / H)
    F d_ff    (written 4C when d_ff = 4 d_model, as in GPT)

B and T come from the first input of the outermost module called, when it is (B, T) token ids or
(B, T, ...) activations; the rest from its `config` (GPT, BERT and T5 all have one).  A size that
two letters share (say C = T = 16) could mean either, so it is shown as a number, and so is 1,
which any axis can be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tensor import Tensor
from .module_stack import ModuleStack


def dimension_names(config=None, batch_shape=None, **extra) -> tuple:
    """({size: letter} for sizes with exactly one name, sorted ambiguous sizes), for labelling shapes.

    config: an object with d_model, vocab_size, n_heads, d_ff (any missing is skipped).
    batch_shape: the shape of the model's input, whose first two axes are B and T.
    extra: more letters, e.g. S=12 for an encoder's source length.
    """
    sizes = {}
    if batch_shape is not None and len(batch_shape) >= 2:
        sizes["B"], sizes["T"] = batch_shape[0], batch_shape[1]
    d_model = getattr(config, "d_model", None)
    for letter, attribute in (("C", "d_model"), ("V", "vocab_size"), ("H", "n_heads")):
        if getattr(config, attribute, None):
            sizes[letter] = getattr(config, attribute)
    if d_model and getattr(config, "n_heads", None):
        sizes["D"] = d_model // config.n_heads
    d_ff = getattr(config, "d_ff", None)
    if d_ff:
        sizes["4C" if d_ff == 4 * (d_model or 0) else "F"] = d_ff
    sizes.update(extra)
    letters_of = {}
    for letter, size in sizes.items():
        if size != 1:
            letters_of.setdefault(int(size), []).append(letter)
    names = {size: letters[0] for size, letters in letters_of.items() if len(letters) == 1}
    return names, sorted(size for size, letters in letters_of.items() if len(letters) > 1)


def describe(value, names: dict) -> str | None:
    """A value's shape in letters ("[B, T, C]"), a tuple of them, "None", or None if not an array."""
    if isinstance(value, (Tensor, np.ndarray)):
        if value.ndim == 0:
            return "scalar"
        return "[" + ", ".join(names.get(n, str(n)) for n in value.shape) + "]"
    if isinstance(value, (tuple, list)):
        parts = [describe(v, names) for v in value]
        return "(" + ", ".join(p if p is not None else "-" for p in parts) + ")"
    return "None" if value is None else None


def _batch_shape(args):
    """The shape of the first input if it is (B, T) token ids or (B, T, ...) activations, else None."""
    first = next((a for a in args if isinstance(a, (Tensor, np.ndarray))), None)
    if first is None:
        return None
    ids = first.ndim == 2 and np.issubdtype(first.dtype, np.integer)
    return first.shape if ids or first.ndim >= 3 else None


@dataclass
class ShapeRecord:
    """One module call: where it sits in the call tree and the shapes that went in and came out."""

    depth: int
    name: str  # relative to the calling module: "attn" inside "blocks.0"
    kind: str  # the module's class name
    inputs: str
    output: str = "(still running)"
    legend: str | None = None  # for an outermost call: which letter means which size


class ShapeTrace(ModuleStack):
    """The records of a `shape_trace()` block: `calls` (in call order), `render()`."""

    def __init__(self, **dims):
        super().__init__()
        self.calls = []
        self._dims = dims
        self._letters = {}  # {size: letter} of the tree being recorded
        self._open = []  # records of the calls still running, innermost last

    def enter(self, module, args, kwargs) -> None:
        parent = self.running[-1][1] if self.running else None
        super().enter(module, args, kwargs)
        legend = None
        if parent is None:  # an outermost call: its config and input say what the letters mean
            self._letters, ambiguous = dimension_names(getattr(module, "config", None), _batch_shape(args),
                                                       **self._dims)
            legend = _legend(self._letters, ambiguous)
        shown = [describe(a, self._letters) for a in args]
        shown += [f"{k}={describe(v, self._letters)}" for k, v in kwargs.items()
                  if isinstance(v, (Tensor, np.ndarray))]
        name = self.running[-1][1]
        if parent and name.startswith(parent + "."):
            name = name[len(parent) + 1:]
        record = ShapeRecord(len(self.running) - 1, name, type(module).__name__,
                             ", ".join(s for s in shown if s is not None), legend=legend)
        self.calls.append(record)
        self._open.append(record)

    def exit(self, module, output, raised: bool) -> None:
        record = self._open.pop()
        record.output = "(raised an exception)" if raised else (describe(output, self._letters) or "-")
        super().exit(module, output, raised)

    def render(self) -> str:
        """The call tree, one line per module call: name (Class)   inputs -> output."""
        if not self.calls:
            return "shape trace: no module was called"
        labels = ["  " * r.depth + (r.name if r.depth == 0 else f"{r.name} ({r.kind})") for r in self.calls]
        width = max(map(len, labels)) + 2
        lines = []
        for record, label in zip(self.calls, labels):
            if record.legend:
                lines.append(record.legend)
            lines.append(f"{label:<{width}}{record.inputs} -> {record.output}")
        return "\n".join(lines)

    def __str__(self):
        return self.render()


def _legend(names: dict, ambiguous: list) -> str:
    letters = ", ".join(f"{letter}={size}" for size, letter in names.items())
    text = f"shapes: {letters}" if letters else "shapes: (no sizes named)"
    if ambiguous:
        text += f"; shown as numbers, as more than one letter has the size: {', '.join(map(str, ambiguous))}"
    return text


def shape_trace(**dims) -> ShapeTrace:
    """Record every module call inside `with shape_trace() as trace:`; then print(trace.render()).

    dims: extra letters for sizes the config does not know, e.g. shape_trace(S=12).
    """
    return ShapeTrace(**dims)
