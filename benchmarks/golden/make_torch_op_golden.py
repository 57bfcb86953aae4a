"""Regenerate tests/data/torch_op_golden.npz (+ .json): PyTorch's answer to every case of
tests/torch_op_cases.py, in float64 on the CPU.

Each case is an op at one of its edges (var with correction >= N, pow at base 0, reductions of
0-d tensors, max with NaN, PyTorch's mixed advanced indexing, ...) or an op PyTorch users reach
for (topk, gather, logsumexp, F.pad, F.nll_loss, ...).  For each, the npz holds `<case>/out/<i>`,
every output, and, for a differentiable case, `<case>/grad/<i>`, the gradient of sum(out * w) for
the case's fixed w with respect to each input.  tests/test_torch_parity.py runs the same cases
with minitransformer and compares; minitransformer is not imported here.

Run it with PyTorch (2.13.0 made the stored file), in the scratch environment that
make_pytorch_style_gpt_golden.py describes: /tmp/ref_venv/bin/python benchmarks/golden/make_torch_op_golden.py
"""

from __future__ import annotations

import json
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests"))
import torch_op_cases as cases  # noqa: E402  (the cases the test runs too)

NPZ_PATH = REPO_ROOT / "tests" / "data" / "torch_op_golden.npz"
JSON_PATH = REPO_ROOT / "tests" / "data" / "torch_op_golden.json"


def main() -> None:
    arrays = {}
    warnings.simplefilter("ignore")  # torch warns about var's degrees of freedom <= 0: those cases are on purpose
    for name in cases.CASES:
        for key, value in cases.run_case(torch, F, name).items():
            arrays[f"{name}/{key}"] = value
    NPZ_PATH.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(NPZ_PATH, **arrays)
    JSON_PATH.write_text(json.dumps({
        "made_by": "benchmarks/golden/make_torch_op_golden.py", "cases_file": "tests/torch_op_cases.py",
        "cases": list(cases.CASES), "dtype": "float64",
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()},
    }, indent=2) + "\n")
    print(f"{len(cases.CASES)} cases, {len(arrays)} arrays: wrote {NPZ_PATH.name}")


if __name__ == "__main__":
    main()
