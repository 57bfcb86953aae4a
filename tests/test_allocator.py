"""allocator.keep_freed_memory: big temporaries reuse freed memory instead of faulting in new pages."""

import resource
import sys

import numpy as np
import pytest

from minitransformer.allocator import keep_freed_memory


def churn():
    """Several big temporaries alive at once, then freed: the pattern of a training step."""
    arrays = [np.ones(n) for n in (400_000, 200_000, 800_000, 60_000, 300_000)]  # 0.5 to 6 MiB
    return sum(a.sum() for a in arrays)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc is tuned on Linux only")
def test_freed_big_blocks_are_reused_without_page_faults():
    assert keep_freed_memory() is True
    churn()  # warm up: the heap grows once
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        churn()  # untuned glibc: ~48,000 page faults for these 20 rounds (fresh mmap pages each time)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 500, f"{faults} page faults for 20 rounds of reused blocks"


def test_can_be_switched_off(monkeypatch):
    import minitransformer.allocator as allocator

    monkeypatch.setattr(allocator, "_done", False)
    monkeypatch.setenv("MINITRANSFORMER_DEFAULT_MALLOC", "1")
    assert keep_freed_memory() is False
