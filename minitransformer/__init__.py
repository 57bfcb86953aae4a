"""minitransformer: how transformers are pretrained and fine-tuned, in NumPy you can read.

Start with `tensor.py` (the autograd engine), then `functional.py` (the fused kernels), `nn/`
(layers), `optim/` (optimizers), `tokenizers/`, `models/`, `objectives.py` and `train.py`.
"""

from . import functional, instruments, nn, optim
from .checkpoint import Checkpoint, load, save
from .gradcheck import GradcheckError, gradcheck, gradcheck_module
from .safetensors import CheckpointError
from .seed import get_rng, manual_seed
from .tensor import Function, Tensor, is_grad_enabled, no_grad

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "no_grad", "is_grad_enabled", "gradcheck", "gradcheck_module", "GradcheckError",
    "manual_seed", "get_rng", "functional", "nn", "optim", "save", "load", "Checkpoint", "CheckpointError",
    "instruments",
]
