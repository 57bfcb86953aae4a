"""Neural-network functions, with the signatures of `torch.nn.functional` (import as F).

Most of a transformer's time and memory goes through a handful of functions: linear, softmax,
layer norm, GELU, cross-entropy and attention.  Written as a chain of primitives (exp, sum,
divide, ...) each would save several intermediate arrays and walk memory many times.  Here each
is **fused**: one Function with one forward and one hand-derived backward, whose formula is in its
docstring.  Beside every fused kernel, in the same file, sits its **reference**: the equation
written with Tensor primitives, a few lines the engine differentiates by itself.  Read the
reference to see what is computed; read the kernel to see how it is made fast.  The tests check
each kernel against its reference (outputs and gradients) and against finite differences.

The kernels are written as short in-place NumPy lines (`out *= x`: no temporary arrays), and those
that work row by row run one cache-sized block of rows at a time (see `cache_blocking.py`): NumPy
runs each line as a separate pass over memory, and passes over a block that fits in the cache
cost a fraction of passes over the whole array.

linear.py         linear                          (reference: linear_reference)
softmax.py        softmax, log_softmax            (softmax_reference, log_softmax_reference)
activations.py    gelu (exact and tanh), silu, relu, tanh, sigmoid     (gelu_reference)
normalization.py  layer_norm, rms_norm            (layer_norm_reference, rms_norm_reference)
losses.py         cross_entropy, nll_loss         (cross_entropy_reference)
attention.py      scaled_dot_product_attention, causal_mask      (attention_reference)
embedding.py      embedding, one_hot, check_ids   (embedding_reference)
dropout.py        dropout
and, from the engine's ops (tensor ops, as in PyTorch): pad, cat, stack, where, split, erf, erfc, normal_cdf.
`import minitransformer.nn.functional as F` gives these same functions, under PyTorch's path.
"""

from ..ops import Cat, Where, cat, erf, erfc, normal_cdf, pad, split, stack, where  # tensor ops, as torch.cat
from .activations import Gelu, Silu, gelu, gelu_reference, relu, sigmoid, silu, tanh
from .attention import Attention, attention_reference, causal_mask, mask_to_bias, scaled_dot_product_attention
from .dropout import Dropout, dropout
from .embedding import Embedding, check_ids, embedding, embedding_reference, one_hot
from .linear import Linear, linear, linear_reference
from .losses import CrossEntropy, cross_entropy, cross_entropy_reference, nll_loss
from .normalization import LayerNorm, RMSNorm, layer_norm, layer_norm_reference, rms_norm, rms_norm_reference
from .softmax import LogSoftmax, Softmax, log_softmax, log_softmax_reference, softmax, softmax_reference

__all__ = [
    "linear", "softmax", "log_softmax", "gelu", "silu", "erf", "erfc", "normal_cdf", "relu", "tanh", "sigmoid",
    "layer_norm", "rms_norm", "cross_entropy", "nll_loss", "scaled_dot_product_attention", "embedding", "one_hot",
    "dropout", "pad", "cat", "stack", "where", "split",
    # the plain references the fused kernels equal
    "linear_reference", "softmax_reference", "log_softmax_reference", "gelu_reference", "layer_norm_reference",
    "rms_norm_reference", "cross_entropy_reference", "attention_reference", "embedding_reference",
]
