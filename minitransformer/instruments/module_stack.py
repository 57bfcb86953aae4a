"""Which module is running right now, and what is it called?

When a forward pass is being watched, every `module(...)` call is reported to the active observers
(`nn.module._forward_observers`).  A `ModuleStack` keeps the modules whose forward has started and
not yet finished, outermost first: the last one is the *innermost* module, the one an operation
created at this moment belongs to.

Modules get the dotted names of `model.named_modules()` (`blocks.0.attn.q_proj`).  Which model?
The outermost module called, the first one entered while nothing else runs; it is shown by its
class name (`GPT`).  A module that is not part of it is shown by its class name too.
"""

from __future__ import annotations

from ..nn import module as nn_module


class ModuleStack:
    """Observer of module calls; use as a context manager.  Subclasses add what they record."""

    def __init__(self):
        self.running = []  # [(module, name)], outermost first
        self.roots = []  # the outermost modules called, each once
        self._names = {}  # id(module) -> dotted name

    # ---- being an observer of nn.Module.__call__ ----
    def enter(self, module, args, kwargs) -> None:
        if not self.running and all(module is not root for root in self.roots):
            self.roots.append(module)
            for name, sub in module.named_modules():
                self._names.setdefault(id(sub), name or type(module).__name__)
        self.running.append((module, self.name_of(module)))

    def exit(self, module, output, raised: bool) -> None:
        self.running.pop()

    # ---- names ----
    def name_of(self, module) -> str:
        return self._names.get(id(module), type(module).__name__)

    @property
    def innermost(self) -> str | None:
        """The dotted name of the module running now (None between module calls)."""
        return self.running[-1][1] if self.running else None

    # ---- switching on and off ----
    def __enter__(self):
        nn_module._forward_observers.append(self)
        return self

    def __exit__(self, *exc):
        nn_module._forward_observers.remove(self)
        self.running.clear()  # an exception may have left calls unfinished
        return False
