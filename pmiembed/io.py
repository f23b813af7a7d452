"""Atomic outputs and checked files.

Everything pmiembed writes goes to a temporary name beside the target and is renamed
into place only when complete, so a failed, killed or interrupted run leaves either
the old target or nothing: never a half-written file or folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from .errors import PMIEmbedError


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
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    except OSError as exc:
        raise _write_error(path, exc) from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _silent_unlink(tmp)
        raise _write_error(path, exc) from None
    except BaseException:
        _silent_unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, force: bool = False):
    """Yield a temporary folder beside ``path``; on success it replaces ``path``.

    An existing ``path`` is refused unless ``force`` (then it is replaced only after the
    new folder is complete).  On failure the temporary folder is removed.
    """
    path = Path(path)
    if path.exists() and not force:
        raise PMIEmbedError(f"{path}: output folder exists; choose another --out or pass --force to replace it")
    if path.exists() and not path.is_dir():
        raise PMIEmbedError(f"{path}: exists and is not a folder; choose another --out")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise PMIEmbedError(f"{parent}: parent folder of the output does not exist; create it first")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
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
