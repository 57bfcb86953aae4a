"""Module and Parameter: how a network keeps track of its weights, as torch.nn.Module does.

A `Parameter` is a Tensor that is a weight (it always requires grad).  A `Module` is a piece of a
network: assigning a Parameter or another Module as an attribute registers it, so
`model.parameters()` can find every weight, `model.state_dict()` can name them with dotted paths
(`blocks.0.attn.q_proj.weight`), and `model.train()` / `model.eval()` reach every sub-module.
A *buffer* (`register_buffer`) is a tensor the module keeps and saves that is not a weight: a
causal mask, running statistics.  The containers (ModuleList, ModuleDict, ...) are in containers.py.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..tensor import Tensor, check_device, unwrap

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
        object.__setattr__(self, "_buffer_names", [])
        object.__setattr__(self, "_not_saved", set())  # buffers registered with persistent=False
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameter_names" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() before setting attributes")
        if name in self._buffer_names and (value is None or isinstance(value, Tensor)) \
                and not isinstance(value, Parameter):
            object.__setattr__(self, name, value)  # a new value for a buffer: it stays a buffer
            return
        for names in (self._parameter_names, self._module_names, self._buffer_names):
            if name in names:
                names.remove(name)
        if isinstance(value, Parameter):
            self._parameter_names.append(name)  # a Parameter assigned twice (weight tying) is one weight
        elif isinstance(value, Module):
            self._module_names.append(name)
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Keep `tensor` as self.<name>: moved by .to()/.double(), saved in state_dict (unless
        persistent=False), but not a parameter, so no optimizer updates it (e.g. a causal mask)."""
        if not isinstance(name, str) or "." in name or not name:
            raise KeyError(f"register_buffer: {name!r} is not a valid attribute name")
        if hasattr(self, name) and name not in self._buffer_names:
            raise KeyError(f"register_buffer: {type(self).__name__} already has an attribute {name!r}")
        if tensor is not None and (not isinstance(tensor, Tensor) or isinstance(tensor, Parameter)):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor (not a Parameter) or None, "
                            f"got {type(tensor).__name__}")
        if name not in self._buffer_names:
            self._buffer_names.append(name)
        (self._not_saved.add if not persistent else self._not_saved.discard)(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, parameter) -> None:
        setattr(self, name, parameter)

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

    def named_buffers(self, prefix: str = ""):
        """(dotted name, buffer) for every buffer that is set (not None)."""
        for module_name, module in self.named_modules(prefix):
            for name in module._buffer_names:
                if getattr(module, name) is not None:
                    yield (f"{module_name}.{name}" if module_name else name), getattr(module, name)

    def buffers(self):
        return [b for _, b in self.named_buffers()]

    def apply(self, fn) -> "Module":
        """fn(module) for every sub-module, children first, then this one (e.g. an init); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ---- modes and gradients ----
    def train(self, mode: bool = True) -> "Module":
        """Training mode: dropout is active.  Returns self so calls can chain."""
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every gradient (None), or with set_to_none=False zero them in place."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (False) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, dtype) -> "Module":
        """Convert every parameter and float buffer in place (float64 for gradchecks, float32 for speed).
        A device argument can only be "cpu", which changes nothing."""
        if isinstance(dtype, str):
            check_device(dtype)
            return self
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        for b in self.buffers():
            if np.issubdtype(b.dtype, np.floating):
                b.data = b.data.astype(dtype)
        return self

    def double(self) -> "Module":
        return self.to(np.float64)

    def float(self) -> "Module":
        return self.to(np.float32)

    # ---- saving and loading weights ----
    def _saved_tensors(self, prefix: str = ""):
        """(dotted name, tensor) for everything state_dict holds, in PyTorch's order: each module's
        parameters, then its persistent buffers, then its children.  A weight tied under two names
        (lm_head.weight is wte.weight) is listed under both, as PyTorch does."""
        for name in self._parameter_names:
            yield prefix + name, getattr(self, name)
        for name in self._buffer_names:
            if name not in self._not_saved and getattr(self, name) is not None:
                yield prefix + name, getattr(self, name)
        for name, child in self.named_children():
            yield from child._saved_tensors(f"{prefix}{name}.")

    def state_dict(self) -> dict:
        """{dotted name: a copy of the array}, parameters and persistent buffers, in registration order."""
        return {name: t.data.copy() for name, t in self._saved_tensors()}

    def load_state_dict(self, state: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or Tensors) into the parameters and buffers of the same names.

        Returns the missing and unexpected keys; with strict=True any of them is an error.
        A shape mismatch is always an error that names the key and both shapes.  Everything is
        checked before anything is copied, so a failed load leaves the model as it was.
        """
        own = dict(self._saved_tensors())
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


from .containers import ModuleDict, ModuleList, ParameterList, Sequential  # noqa: E402,F401  (their old home)
