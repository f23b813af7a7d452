"""Cores, threads and memory: how many, how much is used, what will fit."""

from __future__ import annotations

import contextlib
import os
import resource
import sys

from .errors import ParameterError


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def thread_count(n: int) -> int:
    """The threads :func:`limit_threads` runs with when asked for ``n``: at most the
    size of numba's thread pool (``NUMBA_NUM_THREADS``, the cores by default), what a
    model folder records as its ``workers``."""
    from ._jit import numba

    return max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))


@contextlib.contextmanager
def limit_threads(n: int, blas: int | None = None):
    """Run numba's parallel kernels with ``n`` threads (at most numba's pool:
    :func:`thread_count`) and BLAS/OpenMP libraries (threadpoolctl) with ``blas``
    threads (default: the same).  Results do not depend on ``n``: every parallel kernel
    computes each output row in a fixed order."""
    from threadpoolctl import threadpool_limits

    from ._jit import numba

    previous = numba.get_num_threads()
    threads = thread_count(n)
    numba.set_num_threads(threads)
    try:
        with threadpool_limits(limits=int(threads if blas is None else blas)):
            yield
    finally:
        numba.set_num_threads(previous)


def peak_rss_bytes() -> int:
    """High-water mark of this process' resident memory, in bytes.

    Linux's ``VmHWM`` (``/proc/self/status``) first: unlike ``ru_maxrss`` it does not
    inherit the parent's peak across ``exec`` (a process started from a large Jupyter
    kernel or pytest would otherwise report the parent's memory).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def available_bytes() -> int | None:
    """Memory available to new allocations (``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def estimate_fit_bytes(n_words: int, dim: int, oversample: int, n_core: int | None = None) -> int:
    """Rough peak of the PMI + SVD stages beyond the PMI matrix for a vocabulary of
    ``n_words`` of which ``n_core`` (default: all) are factorised: the randomized SVD
    holds two dense float32 ``n_core x (dim + oversample)`` blocks, whose leading
    columns are its result while folding in writes two ``n_words x dim`` arrays, and
    turning the result into word and context vectors needs four ``n_words x dim``
    arrays at most."""
    k = dim + oversample
    n_core = n_words if n_core is None else n_core
    return int(4 * max(2 * n_core * k + 2 * n_words * dim, 4 * n_words * dim))


def check_fits(need: int, budget: int | None, what: str,
               fix: str = "lower `dim`, `oversamples` or `max_vocab` (or raise `min_count`)") -> None:
    """Raise a clear error before allocating when ``need`` bytes cannot fit (``fix``:
    what the message tells the user to do)."""
    avail = available_bytes()
    limit = min(x for x in (budget, avail) if x is not None) if (budget or avail) else None
    if limit is not None and need > limit:
        source = "`memory` budget" if budget is not None and (avail is None or budget <= avail) else "available memory"
        raise ParameterError(f"{what} need about {format_bytes(need)} but the {source} is {format_bytes(limit)}; {fix}",
                             param="memory")


def format_bytes(n: float) -> str:
    """1.5 GB, 230 MB, 12 kB."""
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}" if n < 10 * size else f"{n / size:.0f} {unit}"
    return f"{int(n)} B"
