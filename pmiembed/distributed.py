"""The pipeline on a Dask cluster (``pip install ".[dask]"`` in pmiembed's clone): for corpora that
outgrow one machine.

``PMIEmbedding(...).fit(corpus, client=client)`` and ``pmiembed train CORPUS --scheduler
ADDRESS`` (or ``--scheduler-file FILE``, or ``local:N``) run the stages of the
single-process route on the workers of a ``dask.distributed`` cluster, calling the same
stage functions and kernels on shards of the corpus and on row blocks of the matrices,
so the recipe (weights, subsampling, PMI, SVD, fold-in, post-processing) is the one of
:mod:`pmiembed.model`:

1. **Shards.**  Every file is cut into byte ranges of about ``shard_bytes`` (of the
   decompressed text), each cut placed just after a whitespace byte, so no token is cut
   and the shards partition the text exactly (a 100 MB single line splits too).  A
   compressed file is read from its start by each of its shards (gzip cannot seek):
   many files, or plain text, spread better.  Paths may be fsspec URLs
   (``s3://...``); local paths must be readable by every worker.
2. **Vocabulary.**  Each worker tokenises its shards (:func:`pmiembed.corpus.read_corpus`)
   and returns their type counts; the client sums them and builds the
   :class:`~pmiembed.vocab.Vocabulary`, which is broadcast.
3. **Counts.**  Each shard is mapped to vocabulary rows
   (:func:`pmiembed.cooccur.filter_tokens`, with the shard's corpus position so the
   subsampling draws are the whole corpus'), extended by the ``L`` positions of its
   neighbours on either side (fetched from their first and last ``L`` entries), and its
   window centres are counted (:func:`pmiembed.cooccur.count_chunk`) into row blocks.
   The row blocks of all shards are summed by a tree reduction and stay on the
   workers.  Every pair is counted at its centre exactly once and integer sums do not
   depend on their order: the counts are the single-process counts, bit for bit.
4. **PMI** of each row block with the global marginals: the row sums of every block are
   gathered (for symmetric counts they are the column sums), then each block's PMI is
   computed by the single-process writer (:class:`pmiembed.pmi._PMIWriter`), so the
   matrix is the single-process one, bit for bit.
5. **SVD** of the core (the words seen at least ``core_min_count`` times) by the
   single-process randomized subspace iteration (:func:`pmiembed.svd._chebyshev_range`
   for the symmetric PPMI of cds = 1, power iteration otherwise) over distributed
   tall matrices: a product ``A Q`` is one task per row block, which receives ``Q``'s
   row blocks as they are (never concatenated) and multiplies them with its column
   blocks (:class:`pmiembed.svd._BlockedCSR`); Gram matrices are summed from the blocks
   and the small dense steps (Cholesky-QR factors, the eigendecomposition of the Ritz
   step) run on the client.  The random start of each block is seeded by
   ``(seed, block)``, so the result does not depend on where tasks ran (it differs from
   the single-process start, hence the singular values agree to a tolerance, not bits).
6. **Fold-in** of the rarer words per row block, then eigenvalue weighting, w+c and
   all-but-the-top on the client, which gathers only ``U`` and ``V``
   (:meth:`PMIEmbedding._set_vectors`).

A lost worker's results are recomputed by Dask, at any stage: every piece of data a
task uses is computed by a task from the files or travels inside the task that holds it
(:func:`_held`), never scattered (Dask keeps one copy of scattered data, which a lost
worker takes with it).  What Dask cannot recover (a task whose workers keep dying, a
lost scheduler) stops the run with one line naming the stage (:func:`_cluster_failures`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import logging
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .cooccur import (
    Cooccurrence,
    RowBlocks,
    _add_csr,
    count_chunk,
    filter_tokens,
    positions_by_word,
    subsample_keep,
    window_weights,
)
from .corpus import _compression, open_text_bytes, read_corpus, resolve_paths
from .defaults import DEFAULTS, SCHEDULER_TIMEOUT
from .errors import CorpusError, ParameterError, PMIEmbedError, literal
from .pmi import _PMIWriter, check_pmi_params
from .progress import StageTimer, progress_bar
from .resources import limit_threads, peak_rss_bytes
from .svd import _BlockedCSR, _iterate_and_ritz, _Rows, _sparse_times_dense, check_svd_params, core_size
from .vocab import Vocabulary

#: decompressed bytes a shard holds at most (fewer when the corpus is small: about two
#: shards a worker; more shards mean more partial counts to sum)
SHARD_BYTES = 256 << 20
MIN_SHARD_BYTES = 1 << 20
#: a compressed file's text is estimated as this many times its size when it is cut
#: into shards (the last shard reads to the end whatever the true size)
COMPRESSION_GUESS = 3.5


# ---------------------------------------------------------------- the client


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise ParameterError("running on a Dask cluster needs Dask: pip install \".[dask]\" in pmiembed's clone "
                             "(or pip install \"dask[array]\" distributed)") from None
    return distributed


#: ``local:N`` starts at most this many single-threaded workers a core: more only share
#: the cores (two overlap one worker's computing with another's fetching blocks)
LOCAL_WORKERS_PER_CORE = 2
#: the least memory a worker of ``local:N`` is given: the interpreter, numpy, scipy,
#: numba and pmiembed hold about 0.35 GB before any work
LOCAL_WORKER_MIN_GB = 0.5
#: the schemes of Dask's transports (``distributed.comm``); a bare HOST:PORT is tcp
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


@contextlib.contextmanager
def connect(scheduler: str | None = None, scheduler_file: str | None = None, *,
            scheduler_timeout: float = SCHEDULER_TIMEOUT, memory: float | None = None):
    """A ``distributed.Client`` for ``--scheduler ADDRESS`` (``tcp://host:8786``, or
    ``local:N`` for a LocalCluster of N single-threaded worker processes on this
    machine) or ``--scheduler-file FILE`` (what ``dask scheduler --scheduler-file``
    writes); closed (and a local cluster shut down) at the end.

    A scheduler must answer as one within ``scheduler_timeout`` seconds and have a
    worker by then; anything else (nothing listening, another service, a worker's
    address, a file that names no scheduler) is a :class:`PMIEmbedError` naming the
    address or file and what is wrong.  ``local:N`` is bounded by this machine
    (:data:`LOCAL_WORKERS_PER_CORE` workers a core, and the memory available);
    ``memory`` (GB) is the memory limit of each of its workers, and does not apply to a
    running cluster, whose workers have the limit they were started with."""
    distributed = _import_distributed()
    if (scheduler is None) == (scheduler_file is None):
        raise ParameterError("give one of `scheduler` (an address) and `scheduler_file` (a file)")
    if (isinstance(scheduler_timeout, bool) or not isinstance(scheduler_timeout, (int, float))
            or not 0 < scheduler_timeout < float("inf")):
        raise ParameterError(f"`scheduler_timeout={scheduler_timeout}` must be a positive number of seconds",
                             param="scheduler_timeout")
    if scheduler is not None and not str(scheduler).strip():
        raise ParameterError("`scheduler` is empty; give the scheduler's tcp://HOST:PORT, or local:N for workers on "
                             "this machine", param="scheduler")
    if scheduler_file is not None and not str(scheduler_file).strip():
        raise ParameterError("`scheduler_file` is empty; give the file that 'dask scheduler --scheduler-file FILE' "
                             "writes", param="scheduler_file")
    local = scheduler is not None and scheduler.startswith("local:")
    if memory is not None and not local:
        raise ParameterError(f"`memory={memory:g}` is the memory limit of each worker that `scheduler` local:N "
                             "starts; the workers of a running cluster keep the limit they were started with "
                             "(dask worker --memory-limit 6GB): leave `memory` out", param="memory")
    with contextlib.ExitStack() as stack:
        if local:
            n, limit = _local_workers(scheduler, memory)
            # ":0": any free port (8787 may be another cluster's on a shared machine); a
            # task's error reaches the user once, as pmiembed's one line, not also
            # as the workers' log of it
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=0, threads_per_worker=1, processes=True, dashboard_address=":0",
                silence_logs=logging.CRITICAL, memory_limit=limit, preload=[__name__]))
            _start_ignoring_interrupts(cluster, n)
            client = stack.enter_context(distributed.Client(cluster))
        else:
            if scheduler is not None:
                setting, address = f"`scheduler={literal(scheduler)}`", scheduler
            else:
                setting = f"`scheduler_file={literal(scheduler_file)}`"
                address = _scheduler_file_address(scheduler_file, setting)
                setting += f" (scheduler {address})"
            param = "scheduler" if scheduler is not None else "scheduler_file"
            address = _check_scheduler(address, setting, scheduler_timeout, param)
            try:
                client = stack.enter_context(distributed.Client(address, timeout=scheduler_timeout))
            except (OSError, TimeoutError, ValueError) as exc:
                raise PMIEmbedError(f"{setting}: cannot connect ({exc}); is the scheduler running?",
                                    param=param) from None
            try:
                client.wait_for_workers(1, timeout=scheduler_timeout)
            except (TimeoutError, OSError):
                raise PMIEmbedError(f"{setting}: the scheduler has no workers (waited {scheduler_timeout:g} s); "
                                    f"start some (dask worker {address}) or raise `scheduler_timeout`",
                                    param=param) from None
        if not local:  # pmiembed reports what goes wrong in one line; the client's log would repeat it
            from distributed.utils import silence_logging_cmgr

            stack.enter_context(silence_logging_cmgr(logging.CRITICAL))
        try:
            yield client
        except BaseException:
            # the client's own waits, cancelled when it closes, are not news for the user
            with contextlib.suppress(Exception):
                client.loop.asyncio_loop.set_exception_handler(lambda loop, context: None)
            raise


def dask_setup(worker) -> None:
    """Dask's preload hook, run in every worker process that ``local:N`` starts (also one
    Dask restarts): Ctrl-C in the terminal is for pmiembed, which closes the workers."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


_WATCHER = ("import signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_DFL); "
            "sys.stdout.write('r'); sys.stdout.flush(); time.sleep(3600)")


def _start_ignoring_interrupts(cluster, n: int, timeout: float = 60.0) -> None:
    """Start ``cluster``'s ``n`` worker processes so that they ignore SIGINT.

    Ctrl-C in a terminal reaches every process of the command; the workers must leave it
    to pmiembed, which closes them.  A process inherits an ignored SIGINT, so this one
    ignores it while its workers are spawned (a worker Dask restarts later ignores it
    from the preload hook :func:`dask_setup`).  A Ctrl-C in that short while is not lost:
    a watcher process, started before, dies of it, and its death is this process'
    KeyboardInterrupt once the handler is back.  From another thread than the main one
    (the handler cannot be changed there) only the hook acts."""
    import signal
    import subprocess
    import sys
    import threading

    import psutil  # a dependency of distributed

    def processes() -> set:
        """This process' descendants but multiprocessing's helpers (whatever its start
        method: a spawned worker runs spawn_main, a forked one this command line)."""
        found = set()
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if not any("resource_tracker" in part or "forkserver" in part for part in child.cmdline()):
                    found.add(child.pid)
        return found

    main = threading.current_thread() is threading.main_thread()
    before = processes()
    if main:
        # the watcher takes SIGINT's default action (death at once, decided when the
        # signal is sent), and says so before this process starts ignoring SIGINT
        watcher = subprocess.Popen([sys.executable, "-S", "-c", _WATCHER], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        before.add(watcher.pid)
        try:
            watcher.stdout.read(1)
        except BaseException:
            watcher.kill()
            watcher.wait()
            raise
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        cluster.scale(n)
        deadline = time.monotonic() + timeout
        while len(processes() - before) < n and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        if main:
            signal.signal(signal.SIGINT, handler)
            # a SIGINT sent before this SIGKILL has already decided the watcher's death,
            # so its exit status says whether Ctrl-C came while SIGINT was ignored here
            watcher.kill()
            watcher.wait()
            watcher.stdout.close()
            interrupted = watcher.returncode == -signal.SIGINT
    if main and interrupted:
        raise KeyboardInterrupt
    cluster.wait_for_workers(n)


def _local_workers(scheduler: str, memory: float | None) -> tuple[int, int | str]:
    """``local:N``'s number of workers and each one's memory limit (bytes, or Dask's
    "auto": the machine's memory shared out), bounded by this machine."""
    from .resources import available_bytes, cpu_count, format_bytes

    text = scheduler[len("local:"):]
    try:
        n = int(text)
    except ValueError:
        raise ParameterError(f"`scheduler={literal(scheduler)}`: local:N needs a whole number of workers, e.g. local:2",
                             param="scheduler") from None
    if n < 1:
        raise ParameterError(f"`scheduler={literal(scheduler)}`: local:N needs at least one worker, e.g. local:2",
                             param="scheduler")
    if memory is not None and (isinstance(memory, bool) or not isinstance(memory, (int, float))
                               or not LOCAL_WORKER_MIN_GB <= memory < float("inf")):
        raise ParameterError(f"`memory={memory}` is the memory limit of each worker of local:N, and a worker "
                             f"process needs at least {LOCAL_WORKER_MIN_GB:g} GB; raise `memory` or leave it out",
                             param="memory")
    per_worker = int((LOCAL_WORKER_MIN_GB if memory is None else memory) * 2**30)
    cores, avail = cpu_count(), available_bytes()
    more = "or start workers on more machines (docs/cluster.md)"
    by_cores = LOCAL_WORKERS_PER_CORE * cores
    if n > by_cores:
        raise ParameterError(f"`scheduler={literal(scheduler)}`: at most {by_cores} workers on this machine ({cores} "
                             f"core{'s' * (cores > 1)}, {LOCAL_WORKERS_PER_CORE} single-threaded workers a core); "
                             f"give local:{by_cores} or fewer, {more}", param="scheduler")
    if avail is not None and n * per_worker > avail:
        if memory is None:
            raise ParameterError(f"`scheduler={literal(scheduler)}`: at most {avail // per_worker} workers fit in the "
                                 f"{format_bytes(avail)} of memory available ({format_bytes(per_worker)} a worker "
                                 f"at least); give local:{max(1, avail // per_worker)} or fewer, {more}",
                                 param="scheduler")
        raise ParameterError(f"`scheduler={literal(scheduler)}` with `memory={memory:g}`: {n} workers of "
                             f"{format_bytes(per_worker)} need {format_bytes(n * per_worker)}, and "
                             f"{format_bytes(avail)} is available; lower `memory` or the number of workers",
                             param="memory")
    return n, ("auto" if memory is None else per_worker)


def _scheduler_file_address(path, setting: str) -> str:
    """The scheduler address in a scheduler file (the JSON object ``dask scheduler
    --scheduler-file`` writes), or a :class:`ParameterError` saying what the file is."""
    import json

    p = Path(path)
    started = "'dask scheduler --scheduler-file FILE' writes it when the scheduler starts"
    if not p.exists():
        raise ParameterError(f"{setting}: no such file; {started}", param="scheduler_file")
    if p.is_dir():
        raise ParameterError(f"{setting}: a folder, not a scheduler file; {started}", param="scheduler_file")
    try:
        text = p.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ParameterError(f"{setting}: cannot read it ({exc.strerror or exc})", param="scheduler_file") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{setting}: not a scheduler file (not text); {started}",
                             param="scheduler_file") from None
    if not text.strip():
        raise ParameterError(f"{setting}: the file is empty; {started}", param="scheduler_file")
    try:
        info = json.loads(text)
    except ValueError as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ParameterError(f"{setting}: not a scheduler file (invalid JSON{where}); {started}",
                             param="scheduler_file") from None
    if not isinstance(info, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(info), "a number")
        raise ParameterError(f"{setting}: not a scheduler file (it holds {kind}, not the JSON object with the "
                             "scheduler's \"address\" that 'dask scheduler --scheduler-file FILE' writes)",
                             param="scheduler_file")
    address = info.get("address")
    if not isinstance(address, str) or not address.strip():
        raise ParameterError(f"{setting}: not a scheduler file (no \"address\" string in it); {started}",
                             param="scheduler_file")
    return address


def _check_scheduler(address: str, setting: str, timeout: float, param: str) -> str:
    """``address`` with its scheme, once a Dask scheduler answered there within
    ``timeout`` seconds; otherwise a :class:`PMIEmbedError` that says what is there."""
    scheme, sep, location = address.partition("://")
    if not sep:
        scheme, location = "tcp", address
    scheme = scheme.lower()
    hint = "give the scheduler's tcp://HOST:PORT (port 8786 unless it was started with another)"
    if scheme in ("http", "https"):
        raise ParameterError(f"{setting}: a web address (the dashboard's?), not a scheduler's; {hint}", param=param)
    if scheme not in _SCHEMES:
        raise ParameterError(f"{setting}: not a scheduler address (unknown protocol {scheme!r}); {hint}",
                             param=param)
    address = f"{scheme}://{location}"
    if scheme in ("inproc", "ucx"):
        return address  # no TCP port to try first; the client's own timeout applies
    from distributed.comm.addressing import parse_host_port

    try:
        host, port = parse_host_port(location)
        port = int(port)
        if not (host and 0 < port < 65536):
            raise ValueError
    except (ValueError, TypeError) as exc:
        missing = "no port" if "missing port" in str(exc) else "no host and port"
        raise ParameterError(f"{setting}: not a scheduler address ({missing}); {hint}", param=param) from None
    import socket

    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except socket.gaierror:
        raise PMIEmbedError(f"{setting}: unknown host {host!r}; check the name, or {hint}", param=param) from None
    except ConnectionRefusedError:
        raise PMIEmbedError(f"{setting}: nothing listens there (connection refused); start the scheduler "
                            "(dask scheduler) or check the port", param=param) from None
    except TimeoutError:
        raise PMIEmbedError(f"{setting}: no answer within {timeout:g} s (a firewall, or the wrong host?); check the "
                            "address, or raise `scheduler_timeout` for a slow network", param=param) from None
    except OSError as exc:
        raise PMIEmbedError(f"{setting}: cannot connect ({exc.strerror or exc})", param=param) from None
    answered, answer = _identity(address, timeout)
    kind = answer.get("type") if isinstance(answer, dict) else None
    if kind == "Scheduler":
        return address
    if kind in ("Worker", "Nanny"):
        raise PMIEmbedError(f"{setting}: a Dask {kind.lower()}, not the scheduler; {hint}", param=param)
    if answered:
        raise PMIEmbedError(f"{setting}: something else listens there (it answered, not in Dask's protocol); {hint}",
                            param=param)
    raise PMIEmbedError(f"{setting}: something listens there, but no Dask scheduler answered within {timeout:g} s "
                        "(another service on that port? a busy scheduler: raise `scheduler_timeout`); " + hint,
                        param=param)


def _identity(address: str, timeout: float) -> tuple[bool, object]:
    """``(answered, identity)``: whether the server at ``address`` answered within
    ``timeout`` seconds, and what a Dask server says it is (its ``identity``; None from
    a server that is not Dask's).  In a thread of its own: the caller may be inside an
    event loop."""
    import asyncio
    import threading

    from distributed.comm import connect as comm_connect
    from distributed.security import Security

    answer, failed = [], []

    async def ask():
        comm = await comm_connect(address, timeout=timeout,
                                  **Security().get_connection_args("client"))
        try:
            await comm.write({"op": "identity", "reply": True})
            answer.append(await comm.read())
        finally:
            comm.abort()

    def run():
        # whatever a server that is not Dask's sends back (a banner or an HTTP reply read
        # as frame lengths: a huge allocation, a closed connection) means "not a scheduler"
        try:
            asyncio.run(asyncio.wait_for(ask(), timeout))
        except (asyncio.TimeoutError, TimeoutError):
            pass
        except BaseException:
            failed.append(True)

    thread = threading.Thread(target=run, name="pmiembed-scheduler-probe", daemon=True)
    thread.start()
    thread.join(timeout + 5)
    return bool(answer or failed), (answer[0] if answer else None)


def _version() -> str:
    from . import __version__

    return __version__


def check_cluster(client) -> None:
    """Refuse, in one line, a cluster that cannot run pmiembed's tasks: the scheduler
    (which unpickles the tasks) and every worker must import this version of pmiembed."""
    from . import __version__

    distributed = _import_distributed()
    if not isinstance(client, distributed.Client):
        raise ParameterError(f"`client` must be a dask.distributed Client (Client(\"tcp://host:8786\")), not "
                             f"{type(client).__name__} {client!r:.60}", param="client")

    def why(exc: BaseException) -> str:
        return f"cannot load pmiembed's tasks ({type(exc).__name__}: {(str(exc).splitlines() or [''])[0]})"

    install = "install this pmiembed (with its dask extra) where the scheduler and every worker run (docs/cluster.md)"
    try:
        theirs = client.run_on_scheduler(_version)
    except Exception as exc:  # what the scheduler says: pmiembed cannot be imported there
        raise PMIEmbedError(f"the Dask scheduler {why(exc)}; {install}") from None
    if theirs != __version__:
        raise PMIEmbedError(f"the Dask scheduler has pmiembed {theirs} and this process {__version__}; {install}")
    for worker, theirs in sorted(client.run(_version, on_error="return").items()):
        if theirs != __version__:
            what = f"has pmiembed {theirs}" if isinstance(theirs, str) else why(theirs)
            raise PMIEmbedError(f"the Dask worker {worker} {what} (this process: pmiembed {__version__}); {install}")


def worker_peaks(client) -> dict:
    """Peak resident memory (bytes) of every worker process, by address (a worker that
    is being replaced, having died, is left out)."""
    return {w: v for w, v in client.run(peak_rss_bytes, on_error="return").items() if isinstance(v, int)}


def _note_peak(client, info: dict) -> None:
    """The stage summary's per-worker peak memory (the largest and the smallest)."""
    peaks = sorted(worker_peaks(client).values())
    if peaks:
        info["worker peak"] = (f"{peaks[-1] / 2**30:.2f} GB" if len(peaks) == 1 else
                               f"{peaks[-1] / 2**30:.2f} GB (smallest {peaks[0] / 2**30:.2f})")


# -------------------------------------------------------------------- shards


@dataclass(frozen=True)
class Shard:
    """Decompressed bytes ``[start, end)`` of ``path`` (``end`` None: to the end), each
    bound moved to just after the next whitespace byte; ``first``: the file's first
    shard (a file starts a document)."""

    path: str
    start: int
    end: int | None
    first: bool


def _is_url(path) -> bool:
    return isinstance(path, str) and "://" in path


def _url_files(url: str) -> list[tuple[str, int, bool]]:
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url)
        paths = sorted(p for p in fs.find(root) if not Path(p).name.startswith(".")) if fs.isdir(root) else [root]
        out = []
        for p in paths:
            with fs.open(p, "rb") as f:
                magic = f.read(6)
            compressed = any(magic.startswith(m) for m in (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"))
            out.append((fs.unstrip_protocol(p), int(fs.size(p)), compressed))
        return out
    except (ImportError, ValueError) as exc:
        raise CorpusError(f"{url}: cannot open this URL ({exc}); install the fsspec backend for it "
                          "(e.g. s3fs for s3://)") from None
    except (OSError, FileNotFoundError) as exc:
        raise CorpusError(f"{url}: cannot read it ({exc}); check the URL") from None


def plan_shards(corpus, shard_bytes: int | None = None, n_workers: int = 1) -> list[Shard]:
    """Cut ``corpus`` (a path, folder, URL or a list of them) into shards of about
    ``shard_bytes`` decompressed bytes (default: about two shards a worker, at most
    :data:`SHARD_BYTES`)."""
    sources = [corpus] if isinstance(corpus, (str, os.PathLike)) else list(corpus)
    if not sources or not all(isinstance(s, (str, os.PathLike)) for s in sources):
        raise ParameterError("with a Dask client the corpus must be file paths, folders or URLs that every "
                             "worker can read (not an in-memory iterable)")
    files: list[tuple[str, int, bool]] = []
    for s in sources:
        if _is_url(s):
            files.extend(_url_files(s))
        else:
            for p in resolve_paths(s):
                files.append((str(p.resolve()), p.stat().st_size, _compression(p) is not None))
    sizes = [int(size * COMPRESSION_GUESS) if compressed else size for _, size, compressed in files]
    if shard_bytes is None:
        shard_bytes = min(SHARD_BYTES, max(MIN_SHARD_BYTES, -(-sum(sizes) // (2 * max(1, n_workers)))))
    if isinstance(shard_bytes, bool) or not isinstance(shard_bytes, (int, np.integer)) or shard_bytes < 1:
        raise ParameterError(f"shard_bytes={shard_bytes!r} must be a positive integer")
    shards = []
    for (path, _, _), size in zip(files, sizes):
        n = max(1, -(-size // shard_bytes))
        for k in range(n):
            shards.append(Shard(path, k * shard_bytes, None if k == n - 1 else (k + 1) * shard_bytes, k == 0))
    return shards


def _open(path: str):
    """Decompressed bytes of a local path or an fsspec URL; a path a worker cannot read
    raises a :class:`CorpusError` that says every worker must see it."""
    try:
        if _is_url(path):
            import fsspec

            raw = fsspec.open(path, "rb").open()
            magic = raw.read(6)
            raw.seek(0)
            import bz2
            import gzip
            import lzma

            if magic.startswith(b"\x1f\x8b"):
                return gzip.GzipFile(fileobj=raw, mode="rb")
            if magic.startswith(b"BZh"):
                return bz2.BZ2File(raw, mode="rb")
            if magic.startswith(b"\xfd7zXZ\x00"):
                return lzma.LZMAFile(raw, mode="rb")
            return raw
        if _compression(Path(path)) is None:
            return open(path, "rb")
        return open_text_bytes(Path(path))
    except OSError as exc:
        raise CorpusError(f"{path}: a worker cannot read it ({exc.strerror or exc}); every worker must see the "
                          "corpus at this path (a shared file system, or a URL such as s3://...)") from None


def _first_space(block: bytes) -> int:
    hits = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) <= 32)
    return int(hits[0]) if len(hits) else -1


def _skip(f, n: int, piece: int) -> None:
    """Move ``f`` to decompressed byte ``n`` (a compressed file: by reading it)."""
    if isinstance(f, io.BufferedReader) and f.seekable():
        f.seek(n)
        return
    while n > 0:
        got = len(f.read(min(n, 16 * piece)))
        if not got:
            return
        n -= got


def read_shard_bytes(shard: Shard, piece: int = 1 << 20) -> bytes:
    """The bytes of ``shard``: from just after the first whitespace byte at or after
    ``start - 1`` (the file's start for ``start = 0``) to the same point for ``end``,
    so consecutive shards partition the text and no token is cut."""
    f = _open(shard.path)
    try:
        pos, rest = 0, b""
        if shard.start > 0:
            _skip(f, shard.start - 1, piece)
            before = f.read(1)
            if not before:
                return b""
            pos = shard.start
            if before[0] > 32:  # inside a token: the shard starts after its end
                while True:
                    block = f.read(piece)
                    if not block:
                        return b""
                    i = _first_space(block)
                    if i >= 0:
                        pos += i + 1
                        rest = block[i + 1:]
                        break
                    pos += len(block)
        if shard.end is None:
            return rest + f.read()
        if pos >= shard.end:
            return b""
        need = shard.end - pos
        data = rest if len(rest) >= need else rest + f.read(need - len(rest))
        if len(data) < need or data[need - 1] <= 32:
            return data[:need]
        tail = [data]
        i = _first_space(data[need:])
        if i >= 0:
            return data[:need + i + 1]
        while True:
            block = f.read(piece)
            if not block:
                break
            i = _first_space(block)
            if i >= 0:
                tail.append(block[:i + 1])
                break
            tail.append(block)
        return b"".join(tail)
    except CorpusError:
        raise
    except (OSError, EOFError, ValueError) as exc:
        raise CorpusError(f"{shard.path}: cannot read it on a worker ({exc}); the file is truncated or corrupt, "
                          "or not the same file on every worker") from None
    finally:
        f.close()


@dataclass
class _ShardText:
    """A tokenised shard and where its newlines are: ``lead_nl``, a newline before its
    first token; ``trail_nl``, one after its last token (an empty shard: ``trail_nl``
    says whether it holds one)."""

    corpus: object  # TokenizedCorpus or None (no tokens)
    lead_nl: bool
    trail_nl: bool
    n_bytes: int


def _tokenize_shard(shard: Shard, lowercase: bool | None, tokenizer, tokenize: str = "words") -> _ShardText:
    import tempfile

    data = read_shard_bytes(shard)
    a = np.frombuffer(data, dtype=np.uint8)
    tok = np.flatnonzero(a > 32)
    if not len(tok):
        return _ShardText(None, False, bool(np.any(a == 10)), len(data))
    lead_nl = bool(np.any(a[:tok[0]] == 10))
    trail_nl = bool(np.any(a[tok[-1] + 1:] == 10))
    # read_corpus reads files: the shard goes through a temporary file, so that the
    # tokeniser, the decoding and the binary check are the single-process ones
    fd, tmp = tempfile.mkstemp(prefix="pmiembed-shard-", suffix=".txt")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        del data
        try:
            corpus = read_corpus(tmp, lowercase=lowercase, tokenizer=tokenizer, tokenize=tokenize,
                                 check_binary=shard.first)
        except CorpusError as exc:
            raise CorpusError(str(exc).replace(tmp, shard.path)) from None
    finally:
        os.unlink(tmp)
    corpus.sources = [shard.path]
    if corpus.n_tokens == 0:
        return _ShardText(None, False, lead_nl or trail_nl, len(a))
    return _ShardText(corpus, lead_nl, trail_nl, len(a))


def _shard_summary(text: _ShardText) -> dict:
    c = text.corpus
    if c is None:
        return {"tokens": 0, "types": [], "counts": np.zeros(0, np.int64), "docs": 0, "bytes": text.n_bytes,
                "replaced": 0, "lead_nl": text.lead_nl, "trail_nl": text.trail_nl}
    return {"tokens": c.n_tokens, "types": c.types, "counts": c.counts, "docs": len(c.doc_starts),
            "bytes": text.n_bytes, "replaced": c.n_replaced, "lead_nl": text.lead_nl, "trail_nl": text.trail_nl}


def _filter_shard(text: _ShardText, vocab: Vocabulary, offset: int, params: dict) -> np.ndarray:
    if text.corpus is None:
        return np.zeros(0, dtype=np.int32)
    x, _ = filter_tokens(text.corpus, vocab, subsample=params["subsample"], subsample_mode=params["subsample_mode"],
                         seed=params["seed"], gap=params["window"], offset=offset)
    return x


def _ends(x: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    return x[:window].copy(), x[-window:].copy()


def _count_shard(x: np.ndarray, left: np.ndarray, right: np.ndarray, weights: np.ndarray, n_words: int,
                 bounds: np.ndarray) -> list:
    """The counts of the shard's window centres, cut into the row blocks ``bounds``."""
    ext = np.concatenate([left, x, right]).astype(np.int32)
    with limit_threads(1):
        counts = count_chunk(ext, positions_by_word(ext, n_words), len(left), len(left) + len(x), weights, n_words)
    counts.sort_indices()
    return [counts[int(r0):int(r1)] for r0, r1 in zip(bounds[:-1], bounds[1:])]


def _pick(items, i):
    return items[i]


def _add_blocks(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    return _add_csr(a, b)


def _block_row_sums(block: sp.csr_matrix, r0: int, n_words: int, keep) -> tuple[np.ndarray, np.ndarray | None]:
    """The row sums the single-process counter keeps (:class:`RowBlocks`), same bits."""
    rows = RowBlocks(n_words, keep=keep)
    with limit_threads(1):
        rows.add(np.arange(r0, r0 + block.shape[0], dtype=np.int64), np.diff(block.indptr).astype(np.int64),
                 block.indices, block.data)
    r1 = r0 + block.shape[0]
    weighted = None if rows.weighted_row_sum is None else rows.weighted_row_sum[r0:r1]
    return rows.row_sum[r0:r1], weighted


def _pmi_block(block: sp.csr_matrix, r0: int, n_words: int, marginal: np.ndarray, cds: float, neg: float,
               keep) -> sp.csr_matrix:
    """PMI of the rows ``r0 ..`` of symmetric counts with the global marginals, by the
    single-process writer (each row computed alone: the single-process bits)."""
    r1 = r0 + block.shape[0]
    indptr = np.zeros(n_words + 1, dtype=np.int64)
    indptr[r0 + 1:r1 + 1] = block.indptr[1:]
    indptr[r1 + 1:] = block.indptr[-1]
    out = _PMIWriter(indptr, marginal, marginal, cds, neg, True, np.float32, keep)
    with limit_threads(1):
        if block.nnz:
            out.add(r0, r1, block.indices, block.data)
    m = out.matrix((n_words, n_words))[r0:r1]
    m.has_sorted_indices = True
    return sp.csr_matrix(m)


# -------------------------------------------------------------- the counts


@dataclass
class DistributedCounts:
    """Co-occurrence counts held on the workers as row blocks (futures): rows
    ``bounds[i] .. bounds[i+1]-1`` are ``blocks[i]``."""

    client: object
    vocab: Vocabulary
    blocks: list
    bounds: np.ndarray
    scale: int
    params: dict
    stats: dict

    @property
    def nnz(self) -> int:
        return int(sum(self.client.gather(self.client.map(lambda b: b.nnz, self.blocks, pure=False))))

    def gather(self) -> Cooccurrence:
        """All counts on the client, as the single-process :class:`Cooccurrence`."""
        blocks = self.client.gather(self.blocks)
        n = len(self.vocab)
        nnz = sum(b.nnz for b in blocks)
        index_dtype = np.int32 if nnz < 2**31 - 1 else np.int64
        indptr = np.zeros(n + 1, dtype=np.int64)
        pos, r = 0, 0
        for b in blocks:
            indptr[r + 1:r + 1 + b.shape[0]] = b.indptr[1:] + pos
            pos += b.nnz
            r += b.shape[0]
        indices = np.concatenate([b.indices for b in blocks]).astype(np.int32)
        data = np.concatenate([b.data for b in blocks]).astype(np.int64)
        counts = sp.csr_matrix((data, indices, indptr.astype(index_dtype)), shape=(n, n))
        counts.has_sorted_indices = True
        return Cooccurrence(counts, self.scale, self.vocab, dict(self.params))


def _row_bounds(vocab: Vocabulary, window: int, n_core: int | None, n_blocks: int) -> np.ndarray:
    """Row blocks of about equal work (a row's entries grow with its word's count, up to
    the vocabulary), ``n_core`` one of the bounds so that the core is whole blocks."""
    n = len(vocab)
    room = np.minimum(n, 2 * window * np.asarray(vocab.counts, dtype=np.int64)).astype(np.float64)

    def split(lo, hi, k):
        if hi <= lo:
            return [lo]
        cum = np.cumsum(room[lo:hi])
        targets = cum[-1] * np.arange(1, k) / k
        cuts = lo + 1 + np.searchsorted(cum, targets)
        return [lo] + sorted(set(int(c) for c in cuts if lo < c < hi))

    if n_core is None or n_core >= n:
        bounds = split(0, n, n_blocks) + [n]
    else:
        core_share = room[:n_core].sum() / max(room.sum(), 1.0)
        k_core = max(1, round(n_blocks * core_share))
        bounds = split(0, n_core, k_core) + split(n_core, n, max(1, n_blocks - k_core)) + [n]
    return np.array(sorted(set(bounds)), dtype=np.int64)


def _tree_sum(client, parts: list, name: str):
    """Pairwise sums until one is left (each entry is added O(log shards) times)."""
    if not parts:
        return None
    level = 0
    while len(parts) > 1:
        nxt = [client.submit(_add_blocks, a, b, key=f"{name}-sum{level}-{i}-{client.id}-{time.monotonic_ns()}")
               for i, (a, b) in enumerate(zip(parts[0::2], parts[1::2]))]
        if len(parts) % 2:
            nxt.append(parts[-1])
        parts = nxt
        level += 1
    return parts[0]


def _wait(client, futures, desc: str, progress: bool, unit: str = "task") -> None:
    """Wait for ``futures`` with a progress bar fed from their completions; raise the
    first task error."""
    from distributed import as_completed

    with progress_bar(total=len(futures), desc=desc, unit=unit, enable=progress) as bar:
        for fut in as_completed(futures):
            if fut.status == "error":
                fut.result()
            if bar is not None:
                bar.update(1)


#: the stage that runs (named when the cluster fails)
_STAGE: contextvars.ContextVar[str] = contextvars.ContextVar("pmiembed_stage", default="read")


class _Stages(StageTimer):
    """The stage timer, remembering which stage runs (:func:`_cluster_failures`)."""

    @contextlib.contextmanager
    def stage(self, name: str):
        _STAGE.set(name)
        with super().stage(name) as info:
            yield info


def _cluster_failures(fn):
    """``fn`` (a route through the cluster) with the failures Dask does not recover from
    as one line that names the stage: a task whose workers kept dying (Dask gives up
    after ``distributed.scheduler.allowed-failures`` deaths), work the scheduler
    cancelled (another client restarted the cluster), a lost connection to the
    scheduler.  A lost worker's results are recomputed and need nothing here; errors of
    the tasks themselves (a corpus a worker cannot read) are pmiembed's own already."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        distributed = _import_distributed()
        from dask.utils import key_split

        token = _STAGE.set("read")
        try:
            return fn(*args, **kwargs)
        except distributed.KilledWorker as exc:
            worker = getattr(exc.last_worker, "address", exc.last_worker)
            deaths = exc.allowed_failures + 1
            raise PMIEmbedError(
                f"Dask gave up on a task of the {_STAGE.get()} stage ({key_split(exc.task)}): the worker running it "
                f"died {deaths} time{'s' * (deaths > 1)} (the last: {worker}); give the workers more memory (dask "
                "worker --memory-limit, or `memory` with local:N) or see their logs for why they die") from None
        except distributed.client.FutureCancelledError as exc:
            raise PMIEmbedError(
                f"the cluster cancelled the {_STAGE.get()} stage's work ({exc.reason}): the scheduler restarted or "
                "another client cancelled it; run again") from None
        except distributed.comm.CommClosedError as exc:
            raise PMIEmbedError(
                f"lost the connection to the Dask scheduler in the {_STAGE.get()} stage ({exc}); is it still "
                "running? run again") from None
        finally:
            _STAGE.reset(token)

    return run


@_cluster_failures
def count_distributed(client, corpus, *, min_count: int = DEFAULTS["min_count"],
                      max_vocab: int | None = DEFAULTS["max_vocab"], window: int = DEFAULTS["window"],
                      weighting: str = DEFAULTS["weighting"], subsample: float | None = DEFAULTS["subsample"],
                      subsample_mode: str = DEFAULTS["subsample_mode"],
                      seed: int = 0, lowercase: bool | None = None, tokenizer=None, tokenize: str = "words",
                      shard_bytes: int | None = None,
                      row_blocks: int | None = None, n_core_min_count: int | None = None, dim: int | None = None,
                      core_max_words: int | None = None,
                      progress: bool = False, timer: StageTimer | None = None) -> DistributedCounts:
    """Read, build the vocabulary and count ``corpus`` on the cluster of ``client``;
    returns the counts as row blocks on the workers (bit for bit the single-process
    counts, see the module docstring).  ``row_blocks``: how many row blocks (default:
    one a worker: every block of a product fetches the others' share of the tall
    operand, so fewer blocks move less); with ``n_core_min_count``, ``dim`` (and ``core_max_words``) the core of the SVD
    (:func:`pmiembed.svd.core_size`) is made of whole blocks."""
    timer = timer or _Stages(False)
    weights, scale = window_weights(window, weighting)
    if subsample is not None and not (0 < subsample < 1):
        raise ParameterError(f"subsample={subsample!r} must be in (0, 1), e.g. 1e-5; or None for no subsampling")
    check_cluster(client)
    n_workers = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()))
    shards = plan_shards(corpus, shard_bytes, n_workers)
    tag = f"{client.id}-{time.monotonic_ns()}"
    with timer.stage("read") as info:
        texts = [client.submit(_tokenize_shard, s, lowercase, tokenizer, tokenize, key=f"pmiembed-shard-{i}-{tag}")
                 for i, s in enumerate(shards)]
        summaries = [client.submit(_shard_summary, t, key=f"pmiembed-summary-{i}-{tag}") for i, t in enumerate(texts)]
        _wait(client, summaries, "read", progress, unit="shard")
        summaries = client.gather(summaries)
        n_tokens = sum(s["tokens"] for s in summaries)
        if n_tokens == 0:
            raise CorpusError(f"{shards[0].path}: no tokens found; the corpus is empty")
        info["shards"] = str(len(shards))
        info["tokens"] = f"{n_tokens:,}"
    with timer.stage("vocab") as info:
        totals: dict[str, int] = {}
        for s in summaries:
            for t, c in zip(s["types"], s["counts"].tolist()):
                totals[t] = totals.get(t, 0) + c
        types = list(totals)
        vocab = Vocabulary.from_counts(types, np.fromiter(totals.values(), dtype=np.int64, count=len(types)),
                                       min_count=min_count, max_vocab=max_vocab, total=n_tokens)
        del totals
        info["words"] = f"{len(vocab):,}"
    # where every shard starts: its corpus position, and whether a document starts there
    offsets, new_doc, pending, n_docs = [], [], True, 0
    pos = 0
    for shard, s in zip(shards, summaries):
        if shard.first:
            pending = True
        offsets.append(pos)
        pos += s["tokens"]
        if s["tokens"]:
            starts = pending or s["lead_nl"]
            new_doc.append(starts)
            n_docs += s["docs"] + int(starts)
            pending = s["trail_nl"]
        else:
            new_doc.append(False)
            pending = pending or s["trail_nl"]
    stats = {"tokens": n_tokens, "types": len(types), "documents": n_docs,
             "bytes": sum(s["bytes"] for s in summaries), "replaced_bytes": sum(s["replaced"] for s in summaries),
             "sources": sorted({s.path for s in shards}), "shards": len(shards)}
    del summaries, types
    params = {"window": int(window), "weighting": weighting,
              "subsample": None if subsample is None else float(subsample),
              "subsample_mode": subsample_mode, "seed": int(seed), "n_tokens": int(n_tokens)}
    n_words = len(vocab)
    n_core = None if dim is None else core_size(vocab.counts, n_core_min_count, dim, core_max_words)
    bounds = _row_bounds(vocab, window, n_core, row_blocks or n_workers)
    with timer.stage("count") as info:
        [vocab_f] = _held(client, [vocab])
        xs = [client.submit(_filter_shard, t, vocab_f, off, params, key=f"pmiembed-filter-{i}-{tag}")
              for i, (t, off) in enumerate(zip(texts, offsets))]
        del texts
        ends = client.gather([client.submit(_ends, x, window, key=f"pmiembed-ends-{i}-{tag}")
                              for i, x in enumerate(xs)])
        lefts, rights = _contexts(ends, new_doc, window)
        parts = [client.submit(_count_shard, x, lefts[i], rights[i], weights, n_words, bounds,
                               key=f"pmiembed-count-{i}-{tag}") for i, x in enumerate(xs)]
        _wait(client, parts, "count", progress, unit="shard")
        del xs
        blocks = []
        for r in range(len(bounds) - 1):
            picked = [client.submit(_pick, p, r, key=f"pmiembed-pick-{i}-{r}-{tag}") for i, p in enumerate(parts)]
            blocks.append(_tree_sum(client, picked, f"pmiembed-counts-{r}"))
        _wait(client, blocks, "sum", progress, unit="block")
        del parts
        info["shards"] = str(len(shards))
        info["row blocks"] = str(len(blocks))
        _note_peak(client, info)
    return DistributedCounts(client, vocab, blocks, bounds, scale, params, stats)


def _contexts(ends, new_doc, window: int):
    """For every shard, the ``window`` positions of the whole filtered corpus before and
    after its own (separators included), from the first and last ``window`` entries of
    every shard (a shard shorter than the window is whole in both)."""
    sep = np.full(window, -1, dtype=np.int32)
    pieces_first, pieces_last = [], []
    for k, ((head, tail), nd) in enumerate(zip(ends, new_doc)):
        # a document start adds its separators even when none of its tokens is kept
        gap = sep if (nd and k > 0) else np.zeros(0, np.int32)
        pieces_first.append(np.concatenate([gap, head])[:window])
        pieces_last.append(np.concatenate([gap, tail])[-window:] if window else np.zeros(0, np.int32))
    lefts, rights = [], []
    for k in range(len(ends)):
        # the shard's own separators come first when it starts a document
        left, j = ([sep], -1) if (new_doc[k] and k > 0) else ([], k - 1)
        have = window if left else 0
        while j >= 0 and have < window:
            left.insert(0, pieces_last[j])
            have += len(pieces_last[j])
            j -= 1
        left = np.concatenate(left)[-window:] if left else np.zeros(0, np.int32)
        right, j, have = [], k + 1, 0
        while j < len(ends) and have < window:
            right.append(pieces_first[j])
            have += len(pieces_first[j])
            j += 1
        right = np.concatenate(right)[:window] if right else np.zeros(0, np.int32)
        lefts.append(left.astype(np.int32))
        rights.append(right.astype(np.int32))
    return lefts, rights


# ----------------------------------------------------- distributed tall matrices


def _same(x):
    return x


def _held(client, items: list) -> list:
    """Futures of ``items`` (objects on the client) that Dask can make again: each
    travels inside a task that returns it, which the scheduler keeps, instead of being
    scattered (of scattered data Dask keeps one copy, which a lost worker takes with it:
    its dependents are then cancelled)."""
    return [_submit(client, _same, x) for x in items]


def _submit(client, fn, *args, **kwargs):
    with warnings.catch_warnings():
        # the small l x l factors travel inside the tasks (so a lost worker's tasks can be
        # recomputed); distributed warns about arguments of more than a few hundred kB
        warnings.simplefilter("ignore", UserWarning)
        return client.submit(fn, *args, pure=False, **kwargs)


class _AllFinite:
    def __init__(self, tall: "DistTall"):
        self.tall = tall

    def all(self) -> bool:
        c = self.tall.client
        return bool(all(c.gather([_submit(c, _block_all_finite, b) for b in self.tall.blocks])))


def _block_all_finite(b):
    return bool(np.isfinite(b).all())


class DistTall:
    """A tall dense matrix held as row blocks (futures of numpy arrays) on the workers,
    with the few array operations the single-process SVD helpers use on their
    ``n x l`` blocks (:func:`pmiembed.svd._chebyshev_range`, :func:`_orthonormalize`,
    :func:`_ritz`): in-place scaling, ``np.isfinite(y).all()``, column slices and
    ``np.asarray`` (gathers).  "In place" replaces the blocks, so aliases see the new
    values as they would with numpy."""

    def __init__(self, client, blocks: list, bounds: np.ndarray, ncols: int, dtype):
        self.client = client
        self.blocks = list(blocks)
        self.bounds = np.asarray(bounds, dtype=np.int64)
        self.ncols = int(ncols)
        self.dtype = np.dtype(dtype)

    @property
    def shape(self):
        return (int(self.bounds[-1]), self.ncols)

    def __imul__(self, scalar):
        self.blocks = [_submit(self.client, np.multiply, b, scalar) for b in self.blocks]
        return self

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.isfinite and method == "__call__" and len(inputs) == 1 and not kwargs:
            return _AllFinite(self)
        return NotImplemented

    def __getitem__(self, key):
        if (isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None) and isinstance(key[1], slice)
                and key[1].start in (None, 0) and key[1].step in (None, 1)):
            stop = self.ncols if key[1].stop is None else min(self.ncols, key[1].stop)
            if stop == self.ncols:
                return self
            return DistTall(self.client, [_submit(self.client, _columns, b, stop) for b in self.blocks],
                            self.bounds, stop, self.dtype)
        raise TypeError(f"DistTall does not support indexing with {key!r}")

    def __setitem__(self, key, value):
        if key is not Ellipsis:
            raise TypeError(f"DistTall does not support assignment to {key!r}")
        value = np.asarray(value)
        self.blocks = [_submit(self.client, _copy_as, value[r0:r1], self.dtype)
                       for r0, r1 in zip(self.bounds[:-1], self.bounds[1:])]
        self.ncols = value.shape[1]

    def astype(self, dtype):
        return np.asarray(self).astype(dtype)

    def __array__(self, dtype=None, copy=None):
        a = np.concatenate(self.client.gather(self.blocks)) if self.blocks else np.zeros((0, self.ncols), self.dtype)
        return a if dtype is None else a.astype(dtype)


def _columns(b, stop):
    return np.ascontiguousarray(b[:, :stop])


def _copy_as(v, dtype):
    return np.ascontiguousarray(v, dtype=dtype)


class DistRows:
    """The distributed counterpart of :class:`pmiembed.svd._Rows`: Gram matrices summed
    from every block's (computed by ``_Rows``, one thread, float64 sums) in block order
    on the client, and right products ``y @ r`` per block."""

    def __init__(self, client):
        self.client = client

    def gram(self, y: DistTall, precise: bool = True) -> np.ndarray:
        parts = self.client.gather([_submit(self.client, _block_gram, b, precise) for b in y.blocks])
        total = np.zeros((y.ncols, y.ncols), dtype=np.float64)
        for g in parts:
            total += g
        return total

    def right_multiply(self, y: DistTall, r: np.ndarray, out: DistTall | None = None) -> DistTall:
        r = np.ascontiguousarray(r, dtype=y.dtype)
        target = y if out is None else out
        target.blocks = [_submit(self.client, _block_right_multiply, b, r) for b in y.blocks]
        target.ncols = r.shape[1]
        return target


def _block_gram(b, precise):
    with limit_threads(1):
        return _Rows(1).gram(b, precise=precise)


def _block_right_multiply(b, r):
    out = np.empty((b.shape[0], r.shape[1]), dtype=b.dtype)
    with limit_threads(1):
        return _Rows(1).right_multiply(b, r, out=out)


class DistOperator:
    """A sparse ``m x n`` matrix as row blocks on the workers, each split into the column
    blocks that match the row blocks of the tall operand (:class:`_BlockedCSR` each), for
    ``out = alpha A x + beta out`` as :meth:`pmiembed.svd._BlockedCSR.matmul`."""

    def __init__(self, client, ops: list, row_bounds: np.ndarray, ncols: int, dtype, tick=None):
        self.client = client
        self.ops = ops
        self.row_bounds = np.asarray(row_bounds, dtype=np.int64)
        self.shape = (int(self.row_bounds[-1]), int(ncols))
        self.dtype = np.dtype(dtype)

    def matmul(self, x: DistTall, out: DistTall | None = None, alpha: float = 1.0, beta: float = 0.0) -> DistTall:
        if out is None:
            out = DistTall(self.client, [], self.row_bounds, x.ncols, self.dtype)
            beta = 0.0
        olds = out.blocks if beta != 0.0 and out.blocks else [None] * len(self.ops)
        out.blocks = [_submit(self.client, _block_matmul, op, x.blocks, old, alpha, beta)
                      for op, old in zip(self.ops, olds)]
        out.ncols = x.ncols
        return out


def _block_matmul(ops, xs, old, alpha, beta):
    """One row block of ``alpha A x + beta old``: the sum over the column blocks of
    ``A_ij x_j`` (``x``'s row blocks, never concatenated); ``old`` is not changed."""
    out = np.empty((ops[0].shape[0], xs[0].shape[1]), dtype=ops[0].dtype) if old is None else old.copy()
    with limit_threads(1):
        for j, (op, x) in enumerate(zip(ops, xs)):
            op.matmul(x, out=out, alpha=alpha, beta=(beta if old is not None else 0.0) if j == 0 else 1.0)
    return out


def _column_slice(block: sp.csr_matrix, c0: int, c1: int, transpose: bool, dtype) -> sp.csr_matrix:
    m = block[:, c0:c1]
    if transpose:
        m = m.T
    m = sp.csr_matrix(m, dtype=dtype)
    m.sort_indices()
    return m


def _blocked_ops(pieces: list, width: int) -> list:
    return [_BlockedCSR(p, width, copy=True) for p in pieces]


def _random_block(seed: int, block: int, rows: int, cols: int, dtype) -> np.ndarray:
    z = np.empty((rows, cols), dtype=dtype)
    np.random.default_rng([int(seed), int(block)]).standard_normal(out=z, dtype=dtype)
    return z


def _fold_rows(block: sp.csr_matrix, core_bounds: np.ndarray, factors: list, inv: np.ndarray) -> np.ndarray:
    """``a F S^-1`` for the rows ``a`` of ``block`` over the core's columns, ``F`` in the
    core's row blocks (:func:`pmiembed.svd.fold_in`'s products, block by block)."""
    out = np.zeros((block.shape[0], factors[0].shape[1]), dtype=factors[0].dtype)
    with limit_threads(1):
        for (c0, c1), f in zip(zip(core_bounds[:-1], core_bounds[1:]), factors):
            piece = sp.csr_matrix(block[:, int(c0):int(c1)])
            out += _sparse_times_dense(piece, f)
    out *= inv
    return out


def _fold_columns(core_blocks: list, c0: int, c1: int, factors: list, inv: np.ndarray) -> np.ndarray:
    """``c^T F S^-1`` for the columns ``c0 .. c1-1`` (their entries in the core's rows)."""
    out = np.zeros((c1 - c0, factors[0].shape[1]), dtype=factors[0].dtype)
    with limit_threads(1):
        for block, f in zip(core_blocks, factors):
            piece = sp.csr_matrix(block[:, c0:c1].T)
            out += _sparse_times_dense(piece, f)
    out *= inv
    return out


# ------------------------------------------------------------------ the model


def distributed_svd(client, pmi_blocks: list, bounds: np.ndarray, n_core: int, dim: int, *, n_iter: int,
                    n_oversamples: int, seed: int, symmetric: bool, progress: bool = False):
    """The randomized SVD of :func:`pmiembed.svd.randomized_svd` of the leading
    ``n_core x n_core`` block of the row-blocked matrix, on the cluster.  Returns ``U``
    and ``V^T`` of the core gathered on the client, and ``S``."""
    core_bounds = bounds[bounds <= n_core]
    k = len(core_bounds) - 1
    width = min(dim + n_oversamples, n_core)
    dtype = np.float32
    pieces = [[_submit(client, _column_slice, pmi_blocks[i], int(c0), int(c1), False, dtype)
               for c0, c1 in zip(core_bounds[:-1], core_bounds[1:])] for i in range(k)]
    ops = [_submit(client, _blocked_ops, row, width) for row in pieces]
    a_op = DistOperator(client, ops, core_bounds, n_core, dtype)
    if symmetric:
        at_op = a_op
    else:
        t_pieces = [[_submit(client, _column_slice, pmi_blocks[i], int(core_bounds[j]), int(core_bounds[j + 1]),
                             True, dtype) for i in range(k)] for j in range(k)]
        at_op = DistOperator(client, [_submit(client, _blocked_ops, row, width) for row in t_pieces], core_bounds,
                             n_core, dtype)
    rows = DistRows(client)
    with progress_bar(total=2 * n_iter + 2, desc="svd", unit="product", enable=progress) as bar:
        def tick():
            if bar is not None:
                bar.update(1)

        z = DistTall(client, [_submit(client, _random_block, seed, i, int(r1 - r0), width, dtype)
                              for i, (r0, r1) in enumerate(zip(core_bounds[:-1], core_bounds[1:]))],
                     core_bounds, width, dtype)
        y = a_op.matmul(z)
        tick()
        # the steps of pmiembed.svd.randomized_svd, on distributed blocks
        u, s, vt = _iterate_and_ritz(a_op, at_op, y, z, dim, n_iter, rows, tick, symmetric=symmetric)
    return u, s, vt


@_cluster_failures
def fit_distributed(model, corpus, client, *, shard_bytes: int | None = None, row_blocks: int | None = None):
    """:meth:`PMIEmbedding.fit` on the cluster of ``client`` (see the module docstring).
    With ``keep_counts`` the counts are gathered to the client (``cooccurrence_``);
    ``pmi_`` stays on the workers (None).  ``worker_peak_bytes_``: the peak resident
    memory of every worker process.  ``workers`` is one process' setting and is not
    used here: a worker's threads are Dask's (``dask worker --nthreads``); each task runs
    single-threaded.  ``memory``, one process' budget, is refused rather than ignored: a
    worker's memory limit is set where it starts (``dask worker --memory-limit``,
    ``LocalCluster(memory_limit=...)``, :func:`connect`'s ``memory`` for ``local:N``)."""
    _import_distributed()
    model._validate()
    if model.memory is not None:
        raise ParameterError(f"`memory={model.memory:g}` is the budget of one process and is not applied on a Dask "
                             "cluster: set each worker's memory limit where it starts (dask worker --memory-limit, "
                             "LocalCluster(memory_limit=...)) and leave `memory` at None", param="memory")
    if model.svd != "randomized":
        raise ParameterError(f"svd={model.svd!r}: on a Dask cluster the SVD is the randomized one; "
                             "use svd='randomized' (the default)")
    check_pmi_params(model.cds, model.neg)
    timer = _Stages(model.verbose)
    start = time.perf_counter()
    counts = count_distributed(
        client, corpus, min_count=model.min_count, max_vocab=model.max_vocab, window=model.window,
        weighting=model.weighting, subsample=model.subsample, subsample_mode=model.subsample_mode, seed=model.seed,
        lowercase=model.lowercase, tokenizer=model.tokenizer, tokenize=model.tokenize,
        shard_bytes=shard_bytes, row_blocks=row_blocks,
        n_core_min_count=model.core_min_count, dim=model.dim, core_max_words=model.core_max_words,
        progress=model.progress, timer=timer)
    vocab = counts.vocab
    n_words = len(vocab)
    check_svd_params(model.dim, model.eig, n_words)
    model.corpus_stats_ = counts.stats
    model.vocabulary_ = vocab
    model.counting_params_ = dict(counts.params)
    model.cooccurrence_ = counts.gather() if model.keep_counts else None
    bounds = counts.bounds
    keep = subsample_keep(vocab, counts.params)
    with timer.stage("pmi") as info:
        sums = client.gather([_submit(client, _block_row_sums, b, int(r0), n_words, keep)
                              for b, r0 in zip(counts.blocks, bounds[:-1])])
        row_sum = np.concatenate([s[0] for s in sums])
        marginal = row_sum if keep is None else np.concatenate([s[1] for s in sums])
        nnz = counts.nnz
        model.cooccurrence_nnz_ = nnz
        if nnz == 0 or not np.any(row_sum):
            raise ParameterError("the co-occurrence matrix is empty; the corpus has no pairs inside a window")
        [marginal_f] = _held(client, [marginal])
        pmi = [_submit(client, _pmi_block, b, int(r0), n_words, marginal_f, model.cds, model.neg, keep)
               for b, r0 in zip(counts.blocks, bounds[:-1])]
        _wait(client, pmi, "pmi", model.progress, unit="block")
        del counts
        info["nonzeros"] = f"{sum(client.gather([_submit(client, lambda m: m.nnz, p) for p in pmi])):,}"
        _note_peak(client, info)
    model.pmi_ = None
    model.n_core_ = core_size(vocab.counts, model.core_min_count, model.dim, model.core_max_words)
    n_core = n_words if model.n_core_ is None else model.n_core_
    symmetric = model.cds == 1.0
    with timer.stage("svd") as info:
        u, s, vt = distributed_svd(client, pmi, bounds, n_core, model.dim, n_iter=model.n_iter,
                                   n_oversamples=model.oversamples, seed=model.seed, symmetric=symmetric,
                                   progress=model.progress)
        info["dim"] = str(model.dim)
        info["core"] = "all words" if model.n_core_ is None else f"{model.n_core_:,} words"
        info["row blocks"] = str(int(np.sum(bounds[1:] <= n_core)))
        _note_peak(client, info)
    if n_core < n_words:
        with timer.stage("fold-in") as info:
            core_bounds = bounds[bounds <= n_core]
            inv = (1.0 / np.where(s > 0, s, 1.0)).astype(u.dtype)
            v_chunks = _held(client, [np.ascontiguousarray(vt[:, c0:c1].T) for c0, c1 in
                                      zip(core_bounds[:-1], core_bounds[1:])])
            u_chunks = _held(client, [np.ascontiguousarray(u[c0:c1]) for c0, c1 in
                                      zip(core_bounds[:-1], core_bounds[1:])])
            extra = [i for i, r0 in enumerate(bounds[:-1]) if r0 >= n_core]
            u_extra = [_submit(client, _fold_rows, pmi[i], core_bounds, v_chunks, inv) for i in extra]
            if symmetric:
                v_extra = [_submit(client, _fold_rows, pmi[i], core_bounds, u_chunks, inv) for i in extra]
            else:
                core_blocks = pmi[:len(core_bounds) - 1]
                v_extra = [_submit(client, _fold_columns, core_blocks, int(bounds[i]), int(bounds[i + 1]), u_chunks,
                                   inv) for i in extra]
            _wait(client, u_extra + v_extra, "fold-in", model.progress, unit="block")
            out_u = np.concatenate([u] + client.gather(u_extra))
            out_v = np.concatenate([vt.T] + client.gather(v_extra))
            u, vt = out_u, np.ascontiguousarray(out_v.T)
            info["words"] = f"{n_words - n_core:,}"
            _note_peak(client, info)
    del pmi
    model.worker_peak_bytes_ = worker_peaks(client)
    with timer.stage("vectors") as info:
        model._set_vectors(u, s, vt)
        peak = max(model.worker_peak_bytes_.values()) if model.worker_peak_bytes_ else 0
        info["largest worker peak"] = f"{peak / 2**30:.2f} GB"
        info["workers"] = str(len(model.worker_peak_bytes_))
    model.timings_ = dict(timer.times)
    model.timings_["total"] = time.perf_counter() - start
    model.compiled_kernels_ = list(timer.compiled_kernels)  # this process's; workers compile their own
    model.peak_rss_bytes_ = peak_rss_bytes()
    return model
