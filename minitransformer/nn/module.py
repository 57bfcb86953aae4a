"""Module and Parameter: how a network keeps track of its weights, as torch.nn.Module does.

A `Parameter` is a Tensor that is a weight (it always requires grad).  A `Module` is a piece of a
network: assigning a Parameter or another Module as an attribute registers it, so
`model.parameters()` can find every weight, `model.state_dict()` can name them with dotted paths
(`blocks.0.attn.q_proj.weight`), and `model.train()` / `model.eval()` reach every sub-module.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..tensor import Tensor, unwrap

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

# Objects told when any module's forward starts and ends: enter(module, args, kwargs) and
# exit(module, output, raised).  Empty unless an instrument (minitransformer.instruments.shape_trace,
# tape_memory) is active, so a module call costs one `if` more when off.
_forward_observers = []


def _observed_call(module, args, kwargs):
    """module.forward(*args, **kwargs), with every observer told before and after (even on error)."""
    observers = list(_forward_observers)
    for observer in observers:
        observer.enter(module, args, kwargs)
    output, raised = None, True
    try:
        output = module.forward(*args, **kwargs)
        raised = False
        return output
    finally:
        for observer in reversed(observers):
            observer.exit(module, output, raised)


class Parameter(Tensor):
    """A weight: a float tensor that always requires grad (float32 unless given a float64 array)."""

    def __init__(self, data, dtype=None):
        array = np.asarray(unwrap(data))
        # Python floats and lists become float64 in NumPy; only an explicit float64 array stays float64.
        given_float64 = isinstance(data, (np.ndarray, Tensor)) and array.dtype == np.float64
        if dtype is None and not given_float64:
            dtype = np.float32
        super().__init__(array, requires_grad=True, dtype=dtype)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model.  Subclasses set attributes in __init__ and define forward."""

    def __init__(self):
        object.__setattr__(self, "_parameter_names", [])
        object.__setattr__(self, "_module_names", [])
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameter_names" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() before setting attributes")
        for names in (self._parameter_names, self._module_names):
            if name in names:
                names.remove(name)
        if isinstance(value, Parameter):
            self._parameter_names.append(name)
        elif isinstance(value, Module):
            self._module_names.append(name)
        object.__setattr__(self, name, value)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def gains(self) -> list:
        """This module's own parameters that multiply its output and so start at 1: a norm's gain.

        Most modules have none.  Model initialization (models/init.py) asks every module, so a new
        kind of norm only has to list its gain here to be initialized right.
        """
        return []

    def __call__(self, *args, **kwargs):
        if _forward_observers:
            return _observed_call(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # ---- walking the tree ----
    def named_children(self):
        for name in self._module_names:
            yield name, getattr(self, name)

    def children(self):
        return [module for _, module in self.named_children()]

    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return [module for _, module in self.named_modules()]

    def named_parameters(self, prefix: str = ""):
        """(dotted name, Parameter) for every weight; a weight shared by two modules appears once."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name in module._parameter_names:
                parameter = getattr(module, name)
                if id(parameter) in seen:
                    continue
                seen.add(id(parameter))
                yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # ---- modes and gradients ----
    def train(self, mode: bool = True) -> "Module":
        """Training mode: dropout is active.  Returns self so calls can chain."""
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def to(self, dtype) -> "Module":
        """Convert every parameter in place (float64 for gradchecks, float32 for speed)."""
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        return self

    def double(self) -> "Module":
        return self.to(np.float64)

    def float(self) -> "Module":
        return self.to(np.float32)

    # ---- saving and loading weights ----
    def state_dict(self) -> dict:
        """{dotted name: a copy of the weight array}, in registration order."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the parameters of the same names.

        Returns the missing and unexpected keys; with strict=True any of them is an error.
        A shape mismatch is always an error that names the key and both shapes.  Everything is
        checked before anything is copied, so a failed load leaves the model as it was.
        """
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(
                f"load_state_dict for {type(self).__name__}: missing keys {missing[:10]}"
                f"{' ...' if len(missing) > 10 else ''}, unexpected keys {unexpected[:10]}"
                f"{' ...' if len(unexpected) > 10 else ''}. Pass strict=False to load the matching part.")
        values = {name: np.asarray(state[name]) for name in own if name in state}
        for name, value in values.items():
            if value.shape != own[name].shape:
                raise ValueError(f"load_state_dict: '{name}' has shape {value.shape} in the state dict but "
                                 f"{own[name].shape} in the model; was it saved from a different config?")
        for name, value in values.items():
            own[name].data = value.astype(own[name].dtype, copy=True)
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ----
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        children = list(self.named_children())
        if not children:
            return lines[0] + ")"
        for name, child in children:
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {text}")
        return "\n".join(lines) + "\n)"


class ModuleList(Module):
    """A list of modules, registered under the names 0, 1, 2, ..."""

    def __init__(self, modules=()):
        super().__init__()
        self._items = []
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> "ModuleList":
        setattr(self, str(len(self._items)), module)
        self._items.append(module)
        return self

    def __getitem__(self, index):
        return self._items[index]

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)


class Sequential(ModuleList):
    """Modules applied one after another: Sequential(a, b)(x) == b(a(x))."""

    def __init__(self, *modules):
        super().__init__(modules)

    def forward(self, x):
        for module in self._items:
            x = module(x)
        return x
