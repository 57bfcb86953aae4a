"""Shared test settings: bounded hypothesis runs so the suite stays fast and deterministic in CI."""

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "minitransformer",
    deadline=None,
    max_examples=25,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("minitransformer")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
