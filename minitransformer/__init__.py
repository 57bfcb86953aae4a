"""minitransformer: how transformers are pretrained and fine-tuned, in NumPy you can read.

Start with `autograd.py` and `tensor.py` (the engine) and `ops/` (its primitive ops), then
`functional/` (each kernel's plain reference beside the fused one), `nn/` (layers), `optim/`
(optimizers), `tokenizers/`, `models/`, `objectives/` and `train.py`; `commands/` is the CLI.
"""

from . import functional, instruments, nn, optim
from .checkpoint import Checkpoint, load, save
from .creation import (arange, double, empty, float16, float32, float64, full, full_like, half, int32, int64,
                       long, multinomial, ones, ones_like, rand, rand_like, randint, randn, randn_like, zeros,
                       zeros_like)  # and mt.tensor(data): the module tensor.py is callable (creation.py)
from .creation import bool_ as bool  # noqa: A001  (torch.bool, as PyTorch code spells it: mt.bool)
from .creation import float32 as float  # noqa: A001  (torch.float is float32)
from .functions import *  # noqa: F401,F403  (mt.exp, mt.cat, mt.tril, mt.topk, ...: the torch.* functions)
from .functions import __all__ as _functions
from .gradcheck import GradcheckError, gradcheck, gradcheck_module
from .safetensors import CheckpointError
from .seed import get_rng, manual_seed
from .tensor import Function, Tensor, is_grad_enabled, no_grad

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "no_grad", "is_grad_enabled", "gradcheck", "gradcheck_module", "GradcheckError",
    "manual_seed", "get_rng", "functional", "nn", "optim", "save", "load", "Checkpoint", "CheckpointError",
    "instruments",
    # making tensors, and dtypes, as torch.*
    "tensor", "zeros", "ones", "empty", "full", "arange", "randn", "rand", "randint", "zeros_like", "ones_like",
    "full_like", "randn_like", "rand_like", "multinomial", "float16", "float32", "float64", "double", "half",
    "int32", "int64", "long",
    # the torch.* forms of Tensor's methods, but not those that would hide Python's builtins on `import *`
    *[name for name in _functions if name not in ("sum", "max", "min", "abs", "pow", "all", "any")],
]
