"""Every case of torch_op_cases.py, run with minitransformer, against PyTorch's numbers
(tests/data/torch_op_golden.npz, made by benchmarks/golden/make_torch_op_golden.py; torch is not
imported here): outputs and input gradients in float64, NaN and inf where PyTorch has them."""

import json
from pathlib import Path

import numpy as np
import pytest

import minitransformer as mt
import minitransformer.nn.functional as F
import torch_op_cases as cases

DATA = Path(__file__).resolve().parent / "data"
GOLDEN = np.load(DATA / "torch_op_golden.npz")


def test_the_golden_file_has_every_case():
    assert json.loads((DATA / "torch_op_golden.json").read_text())["cases"] == list(cases.CASES)


@pytest.mark.parametrize("name", list(cases.CASES))
def test_same_outputs_and_gradients_as_pytorch(name):
    expected = {key[len(name) + 1:]: GOLDEN[key] for key in GOLDEN.files if key.startswith(name + "/")}
    with np.errstate(all="ignore"):
        actual = cases.run_case(mt, F, name)
    assert sorted(actual) == sorted(expected)
    for key, value in expected.items():
        assert actual[key].shape == value.shape, f"{key}: shape {actual[key].shape}, PyTorch {value.shape}"
        assert actual[key].dtype.kind == value.dtype.kind, f"{key}: dtype {actual[key].dtype}, PyTorch {value.dtype}"
        np.testing.assert_allclose(actual[key], value, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=key)
