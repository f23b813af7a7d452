"""The package's door to numba: numba imported with Ctrl-C held back until it is loaded,
and :func:`kernel`, ``numba.njit`` with the on-disk cache whose calls from Python take
Ctrl-C only between kernels.  Every module of the package gets numba from here
(``tests/test_interrupts.py`` checks it).

Why a kernel must not be interrupted from inside
------------------------------------------------
Python runs a signal's handler (for SIGINT: raise ``KeyboardInterrupt``) at the next
Python bytecode after the signal arrives.  While a kernel runs there is none; the next
one runs as numba *boxes the kernel's result*: to return a new array it unpickles the
array's Python type with a small Python function.  A ``KeyboardInterrupt`` raised there
makes that step return NULL, which numba does not check when it builds a tuple: a
kernel returning a tuple of arrays (``join_pairs``, ``run_lengths``) hands back a tuple
holding a NULL (Python crashes with a segmentation fault reading it) or the call ends in
a ``SystemError``.  So that no kernel's result is at risk, every kernel's call from
Python defers SIGINT: a handler that only records the signal is installed for the
duration of the call, and the handler that was there before gets the signal once the
kernel has returned and its result is a complete Python object.

Two exceptions, where deferring would do harm or nothing:

* while numba compiles or loads a kernel from its cache (it holds its compiler lock in
  this thread), Ctrl-C is delivered at once, as anywhere in Python code: compiling can
  take seconds and is ordinary Python code that unwinds cleanly;
* in a thread other than the main thread the kernel is called directly: Python runs
  signal handlers only in the main thread, so no ``KeyboardInterrupt`` can be raised
  inside another thread's call.

A kernel called from another kernel is an ordinary numba call (no Python in between).

Why numba's import is not interrupted either
--------------------------------------------
A ``KeyboardInterrupt`` while numba's C extensions initialise is printed with a
traceback by numba itself and replaced by ``ImportError: numba._devicearray failed to
import``, or turned into an ``ImportError`` that an optional import swallows (numba's
``import yaml``), so the run goes on as if Ctrl-C had not been pressed.  Importing numba
takes a fraction of a second; the interrupt is delivered when it is done.
"""

from __future__ import annotations

import contextlib
import signal
import threading


def _deliver(handler, frame) -> None:
    """What SIGINT would have done under ``handler`` (a Python callable, ``SIG_DFL``
    or ``SIG_IGN``), done now."""
    if callable(handler):
        handler(signal.SIGINT, frame)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signal.SIGINT)


@contextlib.contextmanager
def sigint_deferred(urgent=None):
    """Hold SIGINT back while the block runs, then give it to the handler that was
    installed before; ``urgent()`` (called when the signal arrives) says to deliver it
    at once instead.  Only in the main thread, and only over a handler set from Python
    that does something (``signal.getsignal`` is not None or ``SIG_IGN``); else a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None or previous == signal.SIG_IGN:
        yield
        return
    caught = []

    def defer(signum, frame):
        if urgent is not None and urgent():
            _deliver(previous, frame)
        else:
            caught.append(frame)

    signal.signal(signal.SIGINT, defer)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            _deliver(previous, caught[0])


with sigint_deferred():
    import numba
    from numba import prange
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.registry import CPUDispatcher

__all__ = ["Kernel", "kernel", "numba", "prange", "sigint_deferred"]


class Kernel(CPUDispatcher):
    """A numba dispatcher whose calls from Python take Ctrl-C only after the kernel has
    returned, or at once while numba compiles it (see the module docstring); other
    kernels call it natively."""

    def __call__(self, *args, **kwargs):
        with sigint_deferred(urgent=global_compiler_lock.is_locked):
            return super().__call__(*args, **kwargs)


def kernel(**options):
    """``@kernel(nogil=True)``: the function compiled by ``numba.njit(cache=True,
    **options)`` as a :class:`Kernel`.  Every numba function of the package is made
    here."""
    def wrap(function):
        dispatcher = numba.njit(cache=True, **options)(function)
        # numba builds its own dispatcher class; this one only adds ``__call__`` and has
        # the same layout, so the object becomes one in place
        dispatcher.__class__ = Kernel
        return dispatcher

    return wrap
