"""Progress bars (tqdm, on stderr) and per-stage summaries that ``--quiet`` silences."""

from __future__ import annotations

import contextlib
import sys
import time

from tqdm.auto import tqdm


@contextlib.contextmanager
def progress_bar(total=None, desc: str = "", unit: str = "it", unit_scale: bool = False, enable: bool = True):
    """A tqdm bar on stderr, or ``None`` when disabled (callers guard ``bar.update``)."""
    if not enable:
        yield None
        return
    bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, file=sys.stderr,
               leave=False, dynamic_ncols=True, mininterval=0.5)
    try:
        yield bar
    finally:
        bar.close()


class StageTimer:
    """Records wall time per stage and prints a one-line summary per stage to stderr.

    numba compiling kernels during a stage (a first run, an empty cache) is timed apart:
    the stage gets its own work, ``times["compile"]`` the compilation and
    ``compiled_kernels`` their names (both empty on a warm cache)."""

    def __init__(self, verbose: bool = True) -> None:
        self.verbose = verbose
        self.times: dict[str, float] = {}
        self.compiled_kernels: list[str] = []

    @contextlib.contextmanager
    def stage(self, name: str):
        from .jitwatch import CompileWatch

        start = time.perf_counter()
        info: dict[str, str] = {}
        watch = CompileWatch()
        with watch.watching():
            yield info
        elapsed = time.perf_counter() - start - watch.seconds
        self.times[name] = self.times.get(name, 0.0) + elapsed
        if watch.kernels:
            self.times["compile"] = self.times.get("compile", 0.0) + watch.seconds
            self.compiled_kernels += watch.kernels
            n = len(watch.kernels)
            info["compiled"] = f"{n} numba kernel{'s' * (n > 1)} in {watch.seconds:.1f} s (not included)"
        if self.verbose:
            detail = ", ".join(f"{k} {v}" for k, v in info.items())
            print(f"{name:>8}: {elapsed:6.1f} s" + (f"  ({detail})" if detail else ""), file=sys.stderr)
