"""How many threads NumPy's BLAS (OpenBLAS) runs a matmul on, changed while the program runs.

OpenBLAS reads OPENBLAS_NUM_THREADS once, when NumPy is imported; afterwards only its own
`openblas_set_num_threads` changes the count (what threadpoolctl calls, which we do not depend
on).  NumPy's wheels ship OpenBLAS with prefixed names (scipy_openblas_set_num_threads64_), so
the library is found among the ones this process has loaded (/proc/self/maps, Linux) and each
known spelling is tried.  Elsewhere, or with another BLAS, `set_blas_threads` returns False and
changes nothing: there the environment variable, set before Python starts, is the way.

Why a training process wants one thread: on a machine where another job also runs, two BLAS
threads per matmul wait for each other at every one of the ~100 matmuls of a step (issue 18
measured 920 ms instead of 46; here, beside a matmul job on both cores, the small step took
336 ms with two threads and 211 with one, benchmarks/README.md).  Data-parallel workers
(distributed/) keep all cores busy with one thread each.
"""

from __future__ import annotations

import ctypes
import sys

_NAMES = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads")
_GET_NAMES = ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads")


def _openblas():
    """The loaded OpenBLAS library, or None."""
    if not sys.platform.startswith("linux"):
        return None
    import numpy  # noqa: F401  (loads the BLAS this looks for)

    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        if any(hasattr(library, name) for name in _NAMES):
            return library
    return None


def _function(names):
    library = _openblas()
    for name in names:
        if library is not None and hasattr(library, name):
            return getattr(library, name)
    return None


def get_blas_threads() -> int | None:
    """OpenBLAS's current thread count, or None where it cannot be read."""
    get = _function(_GET_NAMES)
    return None if get is None else int(get())


def set_blas_threads(count: int) -> bool:
    """Run NumPy's matmuls on `count` threads from now on; False where that cannot be changed."""
    set_threads = _function(_NAMES)
    if set_threads is None:
        return False
    set_threads(ctypes.c_int(int(count)))
    return True
