"""How long numba spent compiling kernels, so that a first run's compilation is reported
apart from the work.

Every kernel is ``@njit(cache=True)``: the first run after installing (or with an empty
``NUMBA_CACHE_DIR``) compiles them, later runs load them from the cache.  numba announces
each real compilation (not a cache load) with a ``numba:compile`` event; a kernel that
calls other kernels compiles them inside its own event, so only the outermost events are
timed (no second counting of nested ones).
"""

from __future__ import annotations

import contextlib
import time


class CompileWatch:
    """Seconds and kernel names of the outermost numba compilations seen while active."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.kernels: list[str] = []
        self._depth = 0
        self._start = 0.0

    def _notify(self, event) -> None:
        if event.is_start:
            if self._depth == 0:
                self._start = time.perf_counter()
            self._depth += 1
        elif event.is_end:
            self._depth -= 1
            if self._depth == 0:
                self.seconds += time.perf_counter() - self._start
                dispatcher = (event.data or {}).get("dispatcher")
                self.kernels.append(getattr(getattr(dispatcher, "py_func", None), "__name__", "?"))

    @contextlib.contextmanager
    def watching(self):
        from ._jit import numba

        event = numba.core.event

        class _Listener(event.Listener):  # numba is imported only when watched
            def on_start(_, ev):
                self._notify(ev)

            def on_end(_, ev):
                self._notify(ev)

        listener = _Listener()
        event.register("numba:compile", listener)
        try:
            yield self
        finally:
            event.unregister("numba:compile", listener)
