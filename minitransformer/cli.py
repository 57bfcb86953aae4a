"""The command line. For now: a small demo that fits a tiny network and gradchecks it."""

import numpy as np

from . import functional as F
from .gradcheck import gradcheck
from .seed import manual_seed
from .tensor import Tensor


def main(argv=None) -> int:
    manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR-like quadrants
    w1 = Tensor(rng.standard_normal((16, 2)).astype(np.float32) * 0.5, requires_grad=True)
    w2 = Tensor(rng.standard_normal((2, 16)).astype(np.float32) * 0.5, requires_grad=True)
    for step in range(301):
        loss = F.cross_entropy(F.linear(F.gelu(F.linear(x, w1)), w2), y)
        w1.grad = w2.grad = None
        loss.backward()
        for w in (w1, w2):
            w.data -= 0.5 * w.grad
        if step % 100 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    check = [Tensor(w.data.astype(np.float64), requires_grad=True) for w in (w1, w2)]
    gradcheck(lambda a, b: F.cross_entropy(F.linear(F.gelu(F.linear(x[:4].astype(np.float64), a)), b), y[:4]), check)
    print("gradcheck passed")
    return 0
