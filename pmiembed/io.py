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
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .errors import PMIEmbedError

_JANITOR_CODE = r"""
import os, shutil, sys
paths = set()
restore = {}
for line in sys.stdin:
    op, path = line[0], line[1:].rstrip("\n")
    if op == "+":
        paths.add(path)
    elif op == "r":
        old, target = path.split("\0", 1)
        restore[old] = target
    else:
        paths.discard(path)
        restore.pop(path, None)
for old, target in restore.items():
    # a replace cut between its two renames: the old folder goes back in place
    if os.path.lexists(old) and not os.path.lexists(target):
        try:
            os.rename(old, target)
        except OSError:
            pass
    paths.add(old)
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

    def register_restore(self, old, target) -> None:
        """If this process dies, put ``old`` back at ``target`` when ``target`` is
        missing, else remove ``old``."""
        self._send("r" + os.path.abspath(old) + "\0" + os.path.abspath(target))

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
        return PMIEmbedError(f"{path}: disk full or file too large while writing ({exc.strerror}); free space or "
                             "write elsewhere")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PMIEmbedError(f"{path}: cannot write here ({exc.strerror}); choose a writable location")
    return PMIEmbedError(f"{path}: cannot write ({exc.strerror or exc}); check the path and free space")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, option: str = "out"):
    """Yield a temporary file name beside ``path``; rename it to ``path`` on success,
    delete it on any failure (including KeyboardInterrupt).  An existing ``path`` is
    replaced only if it is a regular file (:func:`check_output_path`, checked before and
    again at the rename): never a device, pipe, socket, link or folder."""
    path = Path(path)
    check_output_path(path, folder=False, force=True, option=option)
    tmp = _new_name(path.parent if str(path.parent) else Path("."), f".{path.name}.", ".tmp")
    janitor.register(tmp)
    try:
        tmp.touch(exist_ok=False)
    except OSError as exc:
        janitor.unregister(tmp)
        raise _write_error(path, exc) from None
    try:
        yield Path(tmp)
        check_output_path(path, folder=False, force=True, option=option)
        os.replace(tmp, path)
    except OSError as exc:
        _silent_unlink(tmp)
        raise _write_error(path, exc) from None
    except BaseException:
        _silent_unlink(tmp)
        raise
    finally:
        janitor.unregister(tmp)


#: names pmiembed writes at the top of its output folders: a model or vectors folder
#: (train, update, the baseline of compare), a report folder (compare, demo), a sweep
#: folder.  A folder holding one of them (or nothing) is one pmiembed could have written.
OWN_FOLDER_MARKERS = ("params.json", "report.json", "sweep.json", "results.jsonl")


def _kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, for a message."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a regular file"),
                       (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "a special file"


def _link_kind(path: Path) -> str:
    try:
        return f"a symbolic link to {_kind(os.stat(path).st_mode)}"
    except OSError:
        return "a symbolic link that leads nowhere"


def _foreign_content(path: Path) -> str | None:
    """Why the folder ``path`` is not one pmiembed could have written (None if it could
    be): a mount point, a folder with none of :data:`OWN_FOLDER_MARKERS` at its top
    (empty folders excepted), or one holding anything but regular files and folders on
    the same file system (pmiembed never writes links, devices, pipes or sockets, and
    removing a mounted file system's files would reach beyond the folder)."""
    if os.path.ismount(path):
        return "is a mount point"
    try:
        top = os.listdir(path)
        device = os.lstat(path).st_dev
    except FileNotFoundError:
        return None  # replaced meanwhile by another run: nothing left to judge
    except OSError as exc:
        return f"cannot be listed ({exc.strerror or exc})"
    if top and not any(name in top for name in OWN_FOLDER_MARKERS):
        return f"holds files pmiembed did not write (none of {', '.join(OWN_FOLDER_MARKERS)})"
    stack = [path]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue  # gone meanwhile (a concurrent replace)
        except OSError as exc:
            return f"holds {folder}, which cannot be listed ({exc.strerror or exc})"
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # gone meanwhile
            if stat.S_ISDIR(st.st_mode) and st.st_dev == device:
                stack.append(Path(entry.path))
            elif not stat.S_ISREG(st.st_mode) or st.st_dev != device:
                what = _kind(st.st_mode) if st.st_dev == device else "a mount point"
                return f"holds {entry.path}, {what}, which pmiembed never writes"
    return None


def check_output_path(path: str | os.PathLike, *, folder: bool, force: bool, option: str = "out",
                      resume: bool = False) -> bool:
    """The one guard of every output path: refuse, in one line, what an output may not
    replace; returns whether ``path`` exists (and may be replaced).

    A file output (``folder=False``) may replace a regular file; an output folder
    (``folder=True``) a folder that pmiembed could have written
    (:func:`_foreign_content`).  Either only with ``force``.  Devices, named pipes,
    sockets, symbolic links (to anything: the link is what would be replaced) and a
    file where a folder is wanted, or a folder where a file is, are refused whatever
    ``force`` says.  ``option``: the parameter that gave the path (messages name it).
    ``resume``: an output folder that is written into, not replaced (a sweep's), may
    exist if pmiembed could have written it."""
    path = Path(path)
    what = "output folder" if folder else "output file"
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        return False  # a parent is a file: the parent checks say so
    except OSError as exc:
        raise PMIEmbedError(f"{path}: cannot check it ({exc.strerror or exc}); choose another "
                            f"`{option}:{what}`") from None
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        raise PMIEmbedError(f"{path}: is {_link_kind(path)}; pmiembed never replaces a link (nor what it leads "
                            f"to): choose another `{option}:{what}`")
    if folder and stat.S_ISREG(mode):
        raise PMIEmbedError(f"{path}: is a file, not a folder; choose another `{option}:output folder` (a folder "
                            "name)")
    if not folder and stat.S_ISDIR(mode):
        raise PMIEmbedError(f"{path}: is a folder, not a file; give a file name as `{option}:output file`")
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise PMIEmbedError(f"{path}: is {_kind(mode)}, not {'a folder' if folder else 'a regular file'}; pmiembed "
                            f"never replaces one: choose another `{option}:{what}`")
    if resume and folder:
        why = _foreign_content(path)
        if why is not None:
            raise PMIEmbedError(f"{path}: {why}; pmiembed adds to a folder only if it wrote it: choose another "
                                f"`{option}:output folder`")
        return True
    if not force:
        raise PMIEmbedError(f"{path}: {what} exists; choose another `{option}:{what}` or pass `force=True` to "
                            "replace it")
    if folder:
        why = _foreign_content(path)
        if why is not None:
            raise PMIEmbedError(f"{path}: {why}; `force=True` replaces only a folder pmiembed wrote: choose "
                                f"another `{option}:output folder` (or empty this one yourself)")
    return True


def check_output_dir(path: Path, force: bool = False, inputs=()) -> Path:
    """Refuse an output folder that exists (unless ``force``, and then unless pmiembed
    could have written it: :func:`check_output_path`), has no parent folder, cannot be
    written, or overlaps an input, before any work is done; returns the parent folder.

    ``inputs``: paths the run reads (corpus files or folders, vectors): an ``--out``
    that is one of them, contains one or lies inside one is refused, and so is the
    working directory or a folder that contains it (``--force`` would delete them)."""
    return _check_output(Path(path), True, force, inputs, "out")


def check_output_file(path: str | os.PathLike, force: bool = False, inputs=(), option: str = "out") -> Path:
    """:func:`check_output_dir` for an output file (``phrases --out``, ``evaluate
    --json``): refused unless it is new or a regular file replaced with ``force``, its
    folder exists and is writable, and it overlaps none of ``inputs``; returns the path."""
    path = Path(path)
    _check_output(path, False, force, inputs, option)
    return path


def _check_output(path: Path, folder: bool, force: bool, inputs, option: str) -> Path:
    """The checks of :func:`check_output_dir` and :func:`check_output_file`; returns the
    parent folder."""
    what = "output folder" if folder else "output file"
    check_not_input(path, inputs, option, what)
    check_output_path(path, folder=folder, force=force, option=option)
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise PMIEmbedError(f"{parent}: is a file, not a folder; choose an `{option}:{what}` inside a folder")
    if not parent.is_dir():
        raise PMIEmbedError(f"{parent}: parent folder of `{option}:the {what}` does not exist; create it first")
    _check_writable(parent, path)
    return parent


def _check_writable(parent: Path, path: Path) -> None:
    """Create a probe in ``parent``: permissions, read-only mounts and ACLs are all
    answered by the file system itself (``os.access`` says yes to root).  The probe is
    an unnamed file (``O_TMPFILE``), so a run killed at this moment leaves nothing; where
    the file system has none, a probe folder the janitor removes if the run dies."""
    tmpfile = getattr(os, "O_TMPFILE", None)
    if tmpfile is not None:
        try:
            os.close(os.open(parent, tmpfile | os.O_WRONLY, 0o600))
            return
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise _write_error(parent, exc) from None
    probe = _new_name(parent, f".{path.name}.", ".probe")
    janitor.register(probe)
    try:
        probe.mkdir()
    except OSError as exc:
        raise _write_error(parent, exc) from None
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()
        janitor.unregister(probe)


def _overlaps(a: Path, b: Path) -> bool:
    """Whether ``a`` is ``b``, inside it or contains it (resolved paths)."""
    return a == b or a in b.parents or b in a.parents


def check_not_input(out: str | os.PathLike, inputs=(), option: str = "out", what: str = "output folder") -> None:
    """Refuse an output location that is, contains or lies inside one of ``inputs``, or
    that is or contains the working directory: replacing it (``--force``) would delete
    what the run reads, and writing inside a corpus folder changes the corpus.
    ``option``: the parameter that gave ``out`` (messages name it)."""
    out_r = Path(os.path.abspath(out)).resolve()
    cwd = Path.cwd().resolve()
    if out_r == cwd or out_r in cwd.parents:
        raise PMIEmbedError(f"{out}: is the working directory or contains it; choose a new folder for "
                            f"`{option}:the output`")
    for item in inputs:
        if item is None or not isinstance(item, (str, os.PathLike)):
            continue
        in_r = Path(os.path.abspath(item)).resolve()
        if _overlaps(out_r, in_r):
            how = "is" if out_r == in_r else ("lies inside" if in_r in out_r.parents else "contains")
            raise PMIEmbedError(f"{out}: {how} the input {item}; choose an `{option}:{what}` apart from the inputs")


# ------------------------------------------------------------ replacing a folder
#
# A folder ``path`` is replaced by a complete new folder ``tmp`` (written beside it)
# under an exclusive lock on the parent folder (flock: released by the kernel when
# the holder dies, so it never goes stale), so concurrent writers take turns:
#
# 1. with renameat2(RENAME_EXCHANGE) (Linux >= 3.15 on most file systems) ``tmp`` and
#    ``path`` swap names in one step: ``path`` is the old or the new folder at every
#    instant; ``tmp`` (now the old folder) is removed, by the janitor if killed;
# 2. otherwise two renames: ``path -> .NAME.xxxx.old`` (the janitor is told first to
#    move it back if the process dies before step 3), ``tmp -> path``, then the old
#    folder is removed;
# 3. a ``.NAME.xxxx.old`` found under the lock belongs to a run that died with its
#    janitor (power loss): it is moved back when ``path`` is missing, else removed.
#
# Readers of a folder (``stable_read``) check that it was not swapped while they read.

_RENAME_EXCHANGE = 2
_renameat2 = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` atomically; False where the system cannot."""
    global _renameat2
    if os.environ.get("PMIEMBED_TEST_NO_EXCHANGE") or not sys.platform.startswith("linux"):
        return False
    if _renameat2 is None:
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fn = libc.renameat2
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            fn.restype = ctypes.c_int
            _renameat2 = fn
        except (OSError, AttributeError):
            _renameat2 = False
    if not _renameat2:
        return False
    import ctypes

    at_fdcwd = -100
    if _renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fault_point(step: str) -> None:
    """Tests kill the process here (``PMIEMBED_TEST_KILL_AT=step``) to check that every
    step of a replace leaves the old or the new folder."""
    if os.environ.get("PMIEMBED_TEST_KILL_AT") == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def _folder_lock(parent: Path, shared: bool = False):
    """An exclusive flock on ``parent`` (a folder: no lock file is left behind); with
    ``shared``, a shared one for readers, taken only where the folder can be opened (a
    reader of a folder it may not open relies on :func:`stable_read`'s retries)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    try:
        fd = os.open(parent, os.O_RDONLY)
    except OSError:
        if not shared:
            raise
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _recover_stale(parent: Path, name: str, target: Path) -> None:
    """Under the lock: old folders of ``name`` left by a run that died mid-replace."""
    for old in sorted(parent.glob(f".{glob_escape(name)}.*.old")):
        if not os.path.lexists(target):
            with contextlib.suppress(OSError):
                os.rename(old, target)
                continue
        shutil.rmtree(old, ignore_errors=True)


def glob_escape(text: str) -> str:
    import glob

    return glob.escape(text)


def replace_dir(tmp: Path, path: Path, force: bool) -> None:
    """Move the complete folder ``tmp`` to ``path`` (replacing it when ``force``), by the
    protocol above; ``tmp`` must be registered with the janitor by the caller."""
    parent = path.parent if str(path.parent) else Path(".")
    with _folder_lock(parent):
        _recover_stale(parent, path.name, path)
        _fault_point("locked")
        if not os.path.lexists(path):
            os.rename(tmp, path)
            _fault_point("renamed")
            return
        # what is there now (it may have changed while the new folder was written)
        check_output_path(path, folder=True, force=force)
        if _exchange(tmp, path):
            _fault_point("exchanged")
            shutil.rmtree(tmp, ignore_errors=True)  # now the old folder
            return
        old = _new_name(parent, f".{path.name}.", ".old")
        janitor.register_restore(old, path)
        try:
            os.rename(path, old)
            _fault_point("moved-old")
            try:
                os.rename(tmp, path)
            except OSError:
                os.rename(old, path)
                raise
            _fault_point("renamed")
            shutil.rmtree(old, ignore_errors=True)
        finally:
            janitor.unregister(old)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, force: bool = False, inputs=()):
    """Yield a temporary folder beside ``path``; on success it replaces ``path``.

    An existing ``path`` is refused unless ``force`` (then it is replaced only after the
    new folder is complete, crash-safely: see :func:`replace_dir`).  On failure the
    temporary folder is removed.  ``inputs``: see :func:`check_output_dir`.
    """
    path = Path(path)
    parent = check_output_dir(path, force, inputs)
    tmp = _new_name(parent, f".{path.name}.", ".tmp")
    janitor.register(tmp)
    try:
        tmp.mkdir()
    except OSError as exc:
        janitor.unregister(tmp)
        raise _write_error(path, exc) from None
    try:
        yield tmp
        _fault_point("written")
        replace_dir(tmp, path, force)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_error(path, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        janitor.unregister(tmp)


def stable_read(path: str | os.PathLike, read, attempts: int = 5):
    """``read()`` of the folder ``path`` under a shared lock on its parent, which writers
    (:func:`replace_dir`) take exclusively to swap folders, so a read sees one whole
    folder; repeated when the folder was replaced while it ran anyway (its inode
    changed, or a file vanished under it: the lock is advisory, and a reader that may
    not open the parent reads without it): a reader never mixes files of the old and
    the new folder, nor fails because a replace removed the old one."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    for attempt in range(attempts):
        with _folder_lock(parent, shared=True):
            try:
                before = os.stat(path).st_ino
            except OSError:
                before = None
            try:
                result = read()
            except (PMIEmbedError, OSError):
                if attempt + 1 < attempts and _inode(path) != before:
                    continue
                raise
            if _inode(path) == before:
                return result
    return result


def _inode(path: Path):
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


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


def check_input_file(path: str | os.PathLike, what: str = "file", option: str | None = None) -> Path:
    """Refuse, with one line, an input that is missing, a folder, or not a regular file
    (a FIFO, socket or device would block or never end); returns it as a Path.
    ``option``: the parameter that gave the path (the message names it)."""
    path = Path(path)
    where = f"; check the `{option}` path" if option else "; check the path"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise PMIEmbedError(f"{path}: no such {what}{where}") from None
    except OSError as exc:
        raise PMIEmbedError(f"{path}: cannot read ({exc.strerror or exc}){where}") from None
    if stat.S_ISDIR(st.st_mode):
        raise PMIEmbedError(f"{path}: is a folder, not a {what}{where}")
    if not stat.S_ISREG(st.st_mode):
        raise PMIEmbedError(f"{path}: not a regular file (a pipe, socket or device); give a {what}{where}")
    return path


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
