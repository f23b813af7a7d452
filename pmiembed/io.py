"""Atomic outputs, temporary files that never outlive the run, checked files.

Everything pmiembed writes goes to a temporary name beside the target and is renamed
into place only when complete, so a failed, killed or interrupted run leaves either
the old target or nothing: never a half-written file or folder.

Temporary paths (output folders being built, spill files) are also registered with a
tiny *janitor* process that watches this one through a pipe: if this process dies
without removing them, even by SIGKILL, the pipe closes and the janitor removes them.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .errors import PMIEmbedError


_JANITOR_CODE = r"""
import os, shutil, sys
paths = set()
for line in sys.stdin:
    op, path = line[0], line[1:].rstrip("\n")
    if op == "+":
        paths.add(path)
    else:
        paths.discard(path)
for path in paths:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass
"""


class _Janitor:
    """Removes registered paths when this process ends without removing them itself."""

    def __init__(self) -> None:
        self._proc = None
        self._pid = None
        self._lock = threading.Lock()

    def _send(self, line: str) -> None:
        with self._lock:
            if self._proc is None or self._pid != os.getpid():
                try:
                    self._proc = subprocess.Popen(
                        [sys.executable, "-c", _JANITOR_CODE], stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                        text=True, encoding="utf-8", errors="surrogateescape",
                    )
                    self._pid = os.getpid()
                    atexit.register(self.close)
                except OSError:
                    self._proc = None
                    return
            try:
                self._proc.stdin.write(line + "\n")
                self._proc.stdin.flush()
            except (OSError, ValueError):
                pass

    def register(self, path) -> None:
        self._send("+" + os.path.abspath(path))

    def unregister(self, path) -> None:
        if self._proc is not None and self._pid == os.getpid():
            self._send("-" + os.path.abspath(path))

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and self._pid == os.getpid():
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.close()
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)


janitor = _Janitor()


@contextlib.contextmanager
def temporary_dir(prefix: str = "pmiembed-", dir=None):
    """A temporary folder removed at the end, on errors, and (by the janitor) even when
    the process is killed."""
    path = _new_name(Path(dir or tempfile.gettempdir()), prefix, "")
    janitor.register(path)  # before it exists: a kill at any moment leaves nothing
    try:
        path.mkdir()
    except OSError as exc:
        janitor.unregister(path)
        raise _write_error(path.parent, exc) from None
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        janitor.unregister(path)


def _write_error(path: Path, exc: OSError) -> PMIEmbedError:
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return PMIEmbedError(f"{path}: disk full or file too large while writing ({exc.strerror}); free space or write elsewhere")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PMIEmbedError(f"{path}: cannot write here ({exc.strerror}); choose a writable location")
    return PMIEmbedError(f"{path}: cannot write ({exc.strerror or exc}); check the path and free space")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary file name beside ``path``; rename it to ``path`` on success,
    delete it on any failure (including KeyboardInterrupt)."""
    path = Path(path)
    tmp = _new_name(path.parent if str(path.parent) else Path("."), f".{path.name}.", ".tmp")
    janitor.register(tmp)
    try:
        tmp.touch(exist_ok=False)
    except OSError as exc:
        janitor.unregister(tmp)
        raise _write_error(path, exc) from None
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _silent_unlink(tmp)
        raise _write_error(path, exc) from None
    except BaseException:
        _silent_unlink(tmp)
        raise
    finally:
        janitor.unregister(tmp)


def check_output_dir(path: Path, force: bool = False) -> Path:
    """Refuse an output folder that exists (unless ``force``), is not a folder, or has no
    parent folder, before any work is done; returns the parent folder."""
    path = Path(path)
    if path.exists() and not force:
        raise PMIEmbedError(f"{path}: output folder exists; choose another --out or pass --force to replace it")
    if path.exists() and not path.is_dir():
        raise PMIEmbedError(f"{path}: exists and is not a folder; choose another --out")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise PMIEmbedError(f"{parent}: is a file, not a folder; choose an --out inside a folder")
    if not parent.is_dir():
        raise PMIEmbedError(f"{parent}: parent folder of --out does not exist; create it first")
    return parent


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, force: bool = False):
    """Yield a temporary folder beside ``path``; on success it replaces ``path``.

    An existing ``path`` is refused unless ``force`` (then it is replaced only after the
    new folder is complete).  On failure the temporary folder is removed.
    """
    path = Path(path)
    parent = check_output_dir(path, force)
    tmp = _new_name(parent, f".{path.name}.", ".tmp")
    janitor.register(tmp)
    try:
        tmp.mkdir()
    except OSError as exc:
        janitor.unregister(tmp)
        raise _write_error(path, exc) from None
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_error(path, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        janitor.unregister(tmp)


def _new_name(folder: Path, prefix: str, suffix: str) -> Path:
    """A fresh, unused name in ``folder`` (not created)."""
    import secrets

    while True:
        candidate = folder / f"{prefix}{secrets.token_hex(5)}{suffix}"
        if not os.path.lexists(candidate):
            return candidate


def _silent_unlink(p) -> None:
    with contextlib.suppress(OSError):
        os.unlink(p)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()
