"""Run a function in a fresh Python process and measure it: the child-process harness of
:func:`pmiembed.compare.compare` and ``benchmarks/speed.py``.

Honest cost numbers
-------------------
A model trained in a fresh ``python`` child has its own wall time and memory, not the
parent's.  Peak memory is the child's ``VmHWM`` (the high-water mark of its own address
space, from ``/proc/self/status``; :func:`own_peak_rss_bytes`).  Not ``ru_maxrss``:
Linux carries ``ru_maxrss`` over ``exec`` from the process that forked the child, so a
child of a parent that once used 500 MB reports at least 500 MB.  Where ``/proc`` does
not exist, ``ru_maxrss`` is the fallback.

The protocol: :func:`run_in_child` writes a JSON spec, starts ``python -c`` on
:func:`_child_main`, which imports the task (``"module:function"``, or
``"/path/to/file.py:function"`` for a script), calls it with the spec and writes its
JSON-ready result (or the error) to a file the parent reads back.  A user error in the
child (:class:`~pmiembed.errors.PMIEmbedError`) is raised in the parent as the same
class, with its message and the parameter it names; Ctrl-C stops the child too; a
child that dies (killed, out of memory) is reported in one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Mapping

from .errors import PMIEmbedError

# --------------------------------------------------------------------------- memory


def _proc_status_bytes(field_name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def own_peak_rss_bytes() -> int:
    """Peak resident memory of this process's own address space (``VmHWM``).

    Unlike ``ru_maxrss``, it does not include what the parent used before ``exec``
    (Linux keeps the larger of the two in ``ru_maxrss``).  Falls back to ``ru_maxrss``
    where ``/proc`` is not available.
    """
    from .resources import peak_rss_bytes

    return peak_rss_bytes()


def current_rss_bytes() -> int | None:
    """This process's resident memory now (``VmRSS``), or None without ``/proc``."""
    return _proc_status_bytes("VmRSS")


# --------------------------------------------------------------------------- files


def write_json(path: Path, data: Any) -> None:
    """``data`` as JSON at ``path``, written to a temporary name and renamed."""
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, default=json_default)
        f.write("\n")
    os.replace(tmp, path)


def json_default(obj: Any) -> Any:
    """JSON for numpy numbers and arrays and for paths; ``repr`` for anything else."""
    try:
        import numpy as np

        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.floating):
            return float(obj)
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, Path):
        return str(obj)
    return repr(obj)


# --------------------------------------------------------------------------- the child


def _die_with_parent(parent_pid: int | None) -> None:
    """Linux: have the kernel stop this child if the parent dies (SIGKILL, crash),
    instead of working on for nobody."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent_pid and os.getppid() != parent_pid:  # the parent died before prctl took effect
        sys.exit(1)


def _load_task(task: str):
    """The function named ``"module:function"`` or ``"/path/file.py:function"``."""
    where, _, name = task.rpartition(":")
    if where.endswith(".py"):
        import importlib.util

        spec = importlib.util.spec_from_file_location("_pmiembed_child_task", where)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    else:
        import importlib

        module = importlib.import_module(where)
    return getattr(module, name)


def _child_main(spec_path: str) -> int:
    """Entry point of a child process: read the spec, run the task, write the result
    (or the error) as JSON.  Returns the exit code."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    _die_with_parent(spec.get("parent_pid"))
    result_path = Path(spec["result"])
    try:
        result = _load_task(spec["task"])(spec["args"])
    except KeyboardInterrupt:
        return 130
    except PMIEmbedError as exc:
        result = {"error": exc.template, "error_type": type(exc).__name__, "param": exc.param}
    except MemoryError:
        result = {"error": spec.get("memory_error") or "out of memory", "error_type": "PMIEmbedError"}
    except Exception:
        result = {"error": traceback.format_exc(), "error_type": None}
    write_json(result_path, result)
    return 0


def _stderr_fd() -> int | None:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def run_in_child(task: str, args: Mapping[str, Any], scratch: Path, name: str, quiet: bool = False,
                 env: Mapping[str, str] | None = None, memory_error: str | None = None,
                 what: str | None = None) -> dict:
    """Run ``task(args)`` in a fresh Python process and return its result (a
    JSON-ready dict) with ``"wall"``: seconds from starting the process to its exit,
    interpreter start and imports included.

    ``scratch``: a folder for the spec, the result and (``quiet``) the child's output
    log, files named after ``name``; without ``quiet`` the child writes to this
    process's stderr.  ``env`` is added to the child's environment (e.g.
    ``NUMBA_CACHE_DIR``).  ``memory_error``: the message of a MemoryError in the child;
    ``what``: what the child does, for the message of one that dies (``"training
    pmi"``).  A user error in the child is raised here as the same
    :class:`PMIEmbedError` class, its message prefixed by ``name``.
    """
    what = what or name
    from . import errors

    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    spec_path = scratch / f"{name}.spec.json"
    result_path = scratch / f"{name}.result.json"
    log_path = scratch / f"{name}.log"
    write_json(spec_path, {"task": task, "args": dict(args), "result": str(result_path), "parent_pid": os.getpid(),
                           "memory_error": memory_error})
    child_env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parent.parent)
    child_env["PYTHONPATH"] = package_root + (os.pathsep + child_env["PYTHONPATH"]
                                              if child_env.get("PYTHONPATH") else "")
    child_env.setdefault("PYTHONHASHSEED", "0")  # gensim hashes words with Python's hash
    child_env.update(env or {})
    code = "import sys; from pmiembed._child import _child_main; sys.exit(_child_main(sys.argv[1]))"
    log = None
    if quiet:
        log = open(log_path, "wb")
        stdout = stderr = log
    else:
        fd = _stderr_fd()
        stdout, stderr = (fd if fd is not None else subprocess.DEVNULL), None
    start = time.perf_counter()
    try:
        proc = subprocess.Popen([sys.executable, "-c", code, str(spec_path)], env=child_env,
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        try:
            returncode = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    finally:
        if log is not None:
            log.close()
    wall = time.perf_counter() - start
    if returncode == 130:
        raise KeyboardInterrupt
    if not result_path.is_file():
        tail = ""
        if log_path.is_file():
            lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            tail = f" (last message: {lines[-1][:200]})" if lines else ""
        raise PMIEmbedError(
            f"{what} stopped with exit code {returncode} before finishing{tail}; "
            "if it was killed, memory may have run out: lower `dim` or `max_vocab`"
        )
    result = json.loads(result_path.read_text(encoding="utf-8"))
    if "error" in result:
        cls = getattr(errors, result.get("error_type") or "", None)
        if isinstance(cls, type) and issubclass(cls, PMIEmbedError):
            raise cls(f"{name}: {result['error']}", param=result.get("param"))
        raise RuntimeError(f"{what} failed in its child process:\n{result['error']}")
    result["wall"] = wall
    return result
