"""A Dask cluster for the cluster route (:mod:`pmiembed.distributed`): connecting to a
running scheduler or starting ``local:N`` workers, checking them, their peak memory, and
the failures Dask does not recover from as one line naming the stage; the helpers that
submit work so that a lost worker's results can be made again (:func:`_held`)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import time
import warnings
from pathlib import Path

from .defaults import SCHEDULER_TIMEOUT
from .errors import ParameterError, PMIEmbedError, literal
from .progress import StageTimer, progress_bar
from .resources import peak_rss_bytes


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
