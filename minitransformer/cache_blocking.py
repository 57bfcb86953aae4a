"""Cache blocking: run a row-wise kernel on one cache-sized block of rows at a time.

Each line of NumPy arithmetic, such as `local *= x`, is one pass over its arrays.  A fused kernel
like GELU's backward is a dozen such lines, so it walks its arrays a dozen times.  When the arrays
are larger than the CPU's L2 cache (a few MB; one 4096 x 768 float32 activation is already 12.6 MB),
every walk streams them from slower memory.  When they fit, all the walks after the first run
from cache.

Kernels whose rows are independent (GELU, layer and RMS norm, the softmax inside attention, the
AdamW update) therefore loop over blocks of about `BLOCK_ELEMENTS` numbers and run all their lines
on one block before moving to the next.  The arithmetic per element is unchanged, so the results
are the same; only the order in which memory is visited differs (tests/test_cache_blocking.py runs
every blocked kernel in tiny blocks and in one block, and compares).  GELU's backward on a
4096 x 768 activation, for example, went from 14.7 to 8.1 ms (`benchmarks/README.md` has the
figures of a whole training step).

    for rows in row_blocks(n_rows, row_size):
        out[rows] = kernel(x[rows])          # the whole kernel, on a block that fits in cache
"""

from __future__ import annotations

import contextlib

# 64k float32 numbers = 256 KB per array: the four or five arrays a kernel touches at once fit in
# a 1-2 MB L2 cache with room to spare, and a block is still large enough that NumPy's per-call
# overhead (about a microsecond) stays small next to the arithmetic.
BLOCK_ELEMENTS = 1 << 16


def row_blocks(n_rows: int, row_size: int):
    """Slices that cover rows 0..n_rows-1 in blocks of about BLOCK_ELEMENTS numbers (at least one row)."""
    step = max(1, BLOCK_ELEMENTS // max(1, row_size))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


@contextlib.contextmanager
def block_elements(n: int):
    """Temporarily use blocks of n numbers; tests use tiny blocks so that every kernel's
    multi-block path runs on small inputs."""
    global BLOCK_ELEMENTS
    previous, BLOCK_ELEMENTS = BLOCK_ELEMENTS, n
    try:
        yield
    finally:
        BLOCK_ELEMENTS = previous
