"""Containers: modules that hold other modules (or parameters) and register each, as torch.nn's do.

ModuleList     a list, registered under the names 0, 1, 2, ...   (blocks = ModuleList([Block() ...]))
Sequential     a ModuleList whose forward runs the modules one after another
ModuleDict     a dict, registered under its keys                (nanoGPT's transformer = ModuleDict(dict(wte=...)))
ParameterList  a list of Parameters, registered under 0, 1, 2, ...

Registering is what lets parameters(), state_dict() and train() reach what a container holds; a
plain Python list or dict of modules would hide them.
"""

from __future__ import annotations

from .module import Module, Parameter


class _RegisteredList(Module):
    """A list whose items are registered as attributes 0, 1, 2, ... (what ModuleList and ParameterList share)."""

    def __init__(self, items=()):
        super().__init__()
        self._items = []
        self.extend(items)

    def _accept(self, item):  # pragma: no cover - each list says what it holds
        raise NotImplementedError

    def append(self, item):
        item = self._accept(item)
        setattr(self, str(len(self._items)), item)
        self._items.append(item)
        return self

    def extend(self, items):
        for item in items:
            self.append(item)
        return self

    def __getitem__(self, index):
        return self._items[index]

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)


class ModuleList(_RegisteredList):
    """A list of modules, registered under the names 0, 1, 2, ..."""

    def _accept(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__} holds modules, got {type(module).__name__}")
        return module


class Sequential(ModuleList):
    """Modules applied one after another: Sequential(a, b)(x) == b(a(x))."""

    def __init__(self, *modules):
        super().__init__(modules)

    def forward(self, x):
        for module in self._items:
            x = module(x)
        return x


class ModuleDict(Module):
    """A dict of modules, each registered under its key, so d["wte"] and d.wte are the same module."""

    def __init__(self, modules=None):
        super().__init__()
        self.update(modules or {})

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict holds modules, got {type(module).__name__} for key {key!r}")
        if hasattr(type(self), key):
            raise KeyError(f"ModuleDict key {key!r} would hide the method ModuleDict.{key}; choose another name")
        setattr(self, key, module)

    def __getitem__(self, key: str) -> Module:
        if key not in self._module_names:
            raise KeyError(f"ModuleDict has no key {key!r}; it has {list(self._module_names)}")
        return getattr(self, key)

    def update(self, modules) -> None:
        for key, module in dict(modules).items():
            self[key] = module

    def __contains__(self, key) -> bool:
        return key in self._module_names

    def __len__(self):
        return len(self._module_names)

    def __iter__(self):
        return iter(list(self._module_names))

    def keys(self):
        return list(self._module_names)

    def values(self):
        return [getattr(self, key) for key in self._module_names]

    def items(self):
        return [(key, getattr(self, key)) for key in self._module_names]


class ParameterList(_RegisteredList):
    """A list of Parameters, registered under the names 0, 1, 2, ... (a Tensor is made a Parameter)."""

    def _accept(self, parameter):
        return parameter if isinstance(parameter, Parameter) else Parameter(parameter)
