"""`import minitransformer.nn.functional as F` works as `import torch.nn.functional as F` does.

The functions live in `minitransformer.functional`; this module is the same names under the path
PyTorch code imports them from.
"""

from .. import functional as _functional
from ..functional import *  # noqa: F401,F403
from ..functional import __all__  # noqa: F401


def __getattr__(name):
    """Any other name of minitransformer.functional (F.causal_mask, the kernels, ...) as well."""
    return getattr(_functional, name)
