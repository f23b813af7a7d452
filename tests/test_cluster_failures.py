"""The cluster route fails cleanly (pmiembed.distributed's connection and failure
handling): a worker killed at any stage is recomputed to the same bits, or the run stops
in one line; an address or scheduler file that is not a scheduler's is said so in one
line within the timeout; Ctrl-C stops a local cluster quietly; ``local:N`` is bounded by
the machine; ``--memory`` is applied or refused, never ignored."""

from __future__ import annotations

import contextlib
import http.server
import json
import logging
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from distributed.diagnostics.plugin import SchedulerPlugin  # noqa: E402

from pmiembed import PMIEmbedding  # noqa: E402
from pmiembed.cli.main import main  # noqa: E402
from pmiembed.distributed import LOCAL_WORKERS_PER_CORE, connect, fit_distributed  # noqa: E402
from pmiembed.errors import ParameterError, PMIEmbedError  # noqa: E402
from pmiembed.resources import cpu_count  # noqa: E402

#: small enough to run in seconds, with fold-in (core_min_count) so that every stage runs
FIT = dict(dim=20, min_count=2, core_min_count=4, window=5, n_iter=2, oversamples=10)
#: fixed shards and row blocks: the result does not depend on how many workers are up
SPLIT = dict(shard_bytes=60_000, row_blocks=3)


@pytest.fixture(scope="module")
def process_cluster():
    """Two single-threaded worker processes; a killed one is restarted by its nanny (the
    cluster would give a worker up if it died again within the lost-worker timeout of its
    previous death, as tests one after the other may kill it)."""
    import dask

    with dask.config.set({"distributed.deploy.lost-worker-timeout": "1h"}), distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=logging.CRITICAL) as cluster, distributed.Client(cluster) as client:
        yield cluster, client


@pytest.fixture
def cluster(process_cluster):
    cluster, client = process_cluster
    client.wait_for_workers(2, timeout=120)  # a worker killed by the previous test is back
    return cluster, client


@pytest.fixture(scope="module")
def reference(process_cluster, lee_path):
    _, client = process_cluster
    return fit_distributed(PMIEmbedding(**FIT), str(lee_path), client, **SPLIT)


class KillOnce(SchedulerPlugin):
    """Kills (SIGKILL) the worker process of the first task whose key starts with
    ``prefix`` when the task reaches ``when``: "memory" (its result, and all else that
    worker holds, is lost) or "processing" (the task dies with its worker)."""

    def __init__(self, scheduler, prefix: str, when: str = "memory"):
        self.scheduler, self.prefix, self.when = scheduler, prefix, when
        self.killed = None

    def transition(self, key, start, finish, *args, **kwargs):
        if self.killed is not None or finish != self.when or not str(key).startswith(self.prefix):
            return
        ts = self.scheduler.tasks.get(key)
        ws = ts.processing_on if finish == "processing" else next(iter(ts.who_has), None)
        if ws is not None:
            self.killed = ws.address
            os.kill(ws.pid, signal.SIGKILL)


@contextlib.contextmanager
def killing(cluster, prefix: str, when: str = "memory"):
    plugin = KillOnce(cluster.scheduler, prefix, when)
    cluster.scheduler.add_plugin(plugin, name="pmiembed-test-kill")
    try:
        yield plugin
    finally:
        cluster.scheduler.remove_plugin(name="pmiembed-test-kill")


# --------------------------------------------------------------- a lost worker


@pytest.mark.parametrize("stage,prefix", [
    ("read", "pmiembed-shard-"),     # a tokenised shard
    ("vocab", "_same-"),              # the vocabulary, held for the workers
    ("count", "pmiembed-count-"),    # a shard's partial counts
    ("pmi", "_nneg_block-"),         # a row block of the (default, bounded) PMI matrix
    ("svd", "_block_matmul-"),       # a block of a product of the SVD
    ("fold-in", "_fold_rows-"),      # folded-in rows
])
def test_a_worker_killed_at_any_stage_is_recomputed_to_the_same_bits(cluster, reference, lee_path, stage, prefix):
    cluster, client = cluster
    with killing(cluster, prefix) as plugin:
        got = fit_distributed(PMIEmbedding(**FIT), str(lee_path), client, **SPLIT)
    assert plugin.killed is not None, f"no {prefix} task ran"
    assert plugin.killed not in client.scheduler_info()["workers"]  # it really died
    assert np.array_equal(got.cooccurrence_.counts.data, reference.cooccurrence_.counts.data)
    assert np.array_equal(got.cooccurrence_.counts.indices, reference.cooccurrence_.counts.indices)
    assert np.array_equal(got.vectors_, reference.vectors_)
    assert got.n_core_ is not None and got.n_core_ < len(got.vocabulary_)  # fold-in ran


def test_a_task_whose_worker_keeps_dying_stops_the_cli_in_one_line(cluster, lee_path, tmp_path, capsys):
    cluster, client = cluster
    out = tmp_path / "out"
    allowed = cluster.scheduler.allowed_failures
    cluster.scheduler.allowed_failures = 0  # Dask gives up on the first death
    try:
        with killing(cluster, "_block_matmul-", when="processing") as plugin:
            code = main(["train", str(lee_path), "--out", str(out), "--dim", "20", "--min-count", "2",
                         "--scheduler", cluster.scheduler.address, "--quiet"])
    finally:
        cluster.scheduler.allowed_failures = allowed
    err = capsys.readouterr().err
    assert plugin.killed is not None
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "Dask gave up on a task of the svd stage (block_matmul): the worker running it died 1 time " in err
    assert "--memory" in err and "memory-limit" in err
    assert not out.exists()


def test_the_cluster_must_run_this_pmiembed(cluster):
    import pmiembed
    from pmiembed.distributed import check_cluster

    cluster, client = cluster
    check_cluster(client)
    with pytest.raises(ParameterError, match=r"client must be a dask.distributed Client .*not str 'tcp://"):
        PMIEmbedding(**FIT).fit("corpus.txt", client=cluster.scheduler.address)
    version = pmiembed.__version__
    client.run(lambda: setattr(sys.modules["pmiembed"], "__version__", "0.0.1"))
    try:
        with pytest.raises(PMIEmbedError, match=r"the Dask worker tcp://\S+ has pmiembed 0\.0\.1 \(this process: "
                                                r"pmiembed .*\); install this pmiembed .* where the scheduler and "
                                                r"every worker run"):
            check_cluster(client)
    finally:
        client.run(lambda: setattr(sys.modules["pmiembed"], "__version__", version))
    # a worker that cannot import pmiembed (installed on the client only)
    client.run(lambda: sys.modules.update({"pmiembed-test-hidden": sys.modules["pmiembed.distributed"],
                                           "pmiembed.distributed": None}))
    try:
        with pytest.raises(PMIEmbedError, match=r"the Dask worker tcp://\S+ cannot load pmiembed's tasks "
                                                r"\(.*pmiembed\.distributed"):
            check_cluster(client)
    finally:
        client.run(lambda: sys.modules.update({"pmiembed.distributed": sys.modules.pop("pmiembed-test-hidden")}),
                   on_error="ignore")
    check_cluster(client)


# ------------------------------------------------------- what is not a scheduler


@contextlib.contextmanager
def server(kind: str):
    """A TCP port with something that is not a Dask scheduler behind it."""
    if kind == "closed":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        yield f"tcp://127.0.0.1:{port}"
        return
    if kind == "http":
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    else:
        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                with contextlib.suppress(OSError):  # the client hangs up: fine
                    if kind == "banner":  # an SSH server speaks first
                        self.request.sendall(b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n")
                    self.request.recv(1 << 16)  # silent: reads and never answers
                    time.sleep(30)

        srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def run_cli(argv, limit: float = 60.0):
    """``main(argv)`` in a thread that must end within ``limit`` seconds (a hang fails)."""
    result = {}

    def run():
        try:
            result["code"] = main(argv)
        except SystemExit as exc:  # argparse's own errors
            result["code"] = exc.code

    thread = threading.Thread(target=run, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still running after {limit:g} s: {argv}"
    return result["code"], time.monotonic() - start


def assert_one_line(capsys, code, needle, *more):
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for n in (needle, *more):
        assert n in err, err
    return err


@pytest.mark.parametrize("kind,needle", [
    ("silent", "no Dask scheduler answered within 1 s"),
    ("http", "something"),  # it answers 400 (or waits for a request line): either way, not a scheduler
    ("banner", "something else listens there (it answered, not in Dask's protocol)"),
    ("closed", "nothing listens there (connection refused)"),
])
def test_an_address_that_is_not_a_scheduler(lee_path, tmp_path, capsys, kind, needle):
    out = tmp_path / "out"
    with server(kind) as address:
        code, seconds = run_cli(["train", str(lee_path), "--out", str(out), "--scheduler", address,
                                 "--scheduler-timeout", "1", "--quiet"])
    assert_one_line(capsys, code, f"--scheduler {address}: ", needle)
    assert seconds < 15 and not out.exists()


def test_without_the_flag_the_wait_is_the_default_timeout(lee_path, tmp_path, capsys, monkeypatch):
    import pmiembed.cli.train
    from pmiembed.defaults import SCHEDULER_TIMEOUT

    assert 0 < SCHEDULER_TIMEOUT <= 60 and pmiembed.cli.train.SCHEDULER_TIMEOUT == SCHEDULER_TIMEOUT
    monkeypatch.setattr(pmiembed.cli.train, "SCHEDULER_TIMEOUT", 2.0)  # the default, made short for the test
    with server("silent") as address:
        code, seconds = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler", address,
                                 "--quiet"])
    assert_one_line(capsys, code, "no Dask scheduler answered within 2 s", "raise --scheduler-timeout")
    assert 2 <= seconds < 20


def test_the_timeout_is_for_a_cluster(lee_path, tmp_path, capsys):
    code, _ = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler-timeout", "5"])
    assert_one_line(capsys, code, "--scheduler-timeout is for a cluster: give --scheduler or --scheduler-file too")
    for value, needle in [("0", "--scheduler-timeout 0.0 must be a positive number of seconds"),
                          ("-1", "--scheduler-timeout -1.0 must be a positive number of seconds"),
                          ("soon", "'soon' is not a number")]:
        code, _ = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:1",
                           "--scheduler-timeout", value])
        assert_one_line(capsys, code, needle)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("address,needle", [
    ("http://127.0.0.1:8787/status", "a web address (the dashboard's?)"),
    ("tcp://127.0.0.1", "not a scheduler address (no port)"),
    ("127.0.0.1", "not a scheduler address (no port)"),
    ("gopher://127.0.0.1:70", "unknown protocol 'gopher'"),
    ("tcp://no-such-host.invalid:8786", "unknown host 'no-such-host.invalid'"),
    ("", "--scheduler is empty"),
    ("tcp://127.0.0.1:70000", "not a scheduler address (no host and port)"),
])
def test_malformed_addresses(lee_path, tmp_path, capsys, address, needle):
    code, _ = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler", address, "--quiet"])
    assert_one_line(capsys, code, needle)


def test_a_worker_address_and_a_scheduler_without_workers(cluster, lee_path, tmp_path, capsys):
    cluster, client = cluster
    worker = next(iter(client.scheduler_info()["workers"]))
    code, _ = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler", worker, "--quiet"])
    assert_one_line(capsys, code, "a Dask worker, not the scheduler")
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp", dashboard_address=":0",
                                  silence_logs=logging.CRITICAL) as empty:
        code, seconds = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler",
                                 empty.scheduler.address, "--scheduler-timeout", "1", "--quiet"])
    assert_one_line(capsys, code, "the scheduler has no workers (waited 1 s)", "dask worker tcp://")


@pytest.mark.parametrize("content,needle", [
    (b"", "the file is empty"),
    (b"  \n", "the file is empty"),
    (b"{bad", "not a scheduler file (invalid JSON at line 1 column 2)"),
    (b"[]", "it holds an array"),
    (b"\"tcp://127.0.0.1:8786\"", "it holds a string"),
    (b"42", "it holds a number"),
    (b"null", "it holds null"),
    (b"{}", "no \"address\" string in it"),
    (b"{\"address\": 8786}", "no \"address\" string in it"),
    (b"{\"address\": \"\"}", "no \"address\" string in it"),
    (b"\xff\xfe{\x00", "not a scheduler file (not text)"),
    (b"{\"address\": \"tcp://127.0.0.1\"}", "(scheduler tcp://127.0.0.1): not a scheduler address (no port)"),
    (None, "no such file"),
    ("folder", "a folder, not a scheduler file"),
])
def test_scheduler_files_that_name_no_scheduler(lee_path, tmp_path, capsys, content, needle):
    path = tmp_path / "scheduler.json"
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    code, _ = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler-file", str(path),
                       "--quiet"])
    assert_one_line(capsys, code, f"--scheduler-file {path}", needle)
    assert not (tmp_path / "o").exists()


def test_a_scheduler_file_naming_something_else(lee_path, tmp_path, capsys):
    path = tmp_path / "scheduler.json"
    with server("silent") as address:
        path.write_text(json.dumps({"type": "Scheduler", "address": address}))
        code, _ = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler-file", str(path),
                           "--scheduler-timeout", "1", "--quiet"])
    assert_one_line(capsys, code, f"--scheduler-file {path} (scheduler {address}): something listens there")


# ------------------------------------------------------------------ local:N


def test_local_n_is_bounded_by_the_machine(lee_path, tmp_path, capsys):
    bound = LOCAL_WORKERS_PER_CORE * cpu_count()
    for n, needle in [(bound + 1, f"at most {bound} workers on this machine ({cpu_count()} core"),
                      (115, f"give local:{bound} or fewer"),
                      (0, "local:N needs at least one worker"), (-2, "local:N needs at least one worker")]:
        code, _ = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler", f"local:{n}"])
        assert_one_line(capsys, code, f"--scheduler local:{n}: ", needle)
    for text in ("local:", "local:two", "local:1.5", "local:2x"):
        code, _ = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler", text])
        assert_one_line(capsys, code, f"--scheduler {text}: local:N needs a whole number of workers")
    assert not (tmp_path / "o").exists()


def test_memory_with_local_n_is_each_workers_limit(lee_path, tmp_path, capsys):
    from pmiembed.resources import available_bytes

    # a limit that is applied: test_local_workers_ignore_sigint_even_when_restarted
    code, _ = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler", "local:1",
                       "--memory", "0.1"])
    assert_one_line(capsys, code, "--memory 0.1 is the memory limit of each worker of local:N",
                    "needs at least 0.5 GB")
    huge = available_bytes() / 2**30 + 1
    code, _ = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler", "local:1",
                       "--memory", f"{huge:.0f}"])
    assert_one_line(capsys, code, f"--scheduler local:1 with --memory {huge:.0f}: 1 workers of", "is available")
    assert not (tmp_path / "o").exists()


def test_memory_is_refused_where_it_cannot_apply(cluster, lee_path, tmp_path, capsys):
    cluster, client = cluster
    code, _ = run_cli(["train", str(lee_path), "--out", str(tmp_path / "o"), "--scheduler",
                       cluster.scheduler.address, "--memory", "2"])
    assert_one_line(capsys, code, "--memory 2 is the memory limit of each worker that --scheduler local:N starts",
                    "dask worker --memory-limit")
    with pytest.raises(ParameterError, match=r"memory=2 is the budget of one process and is not applied on a Dask "
                                             r"cluster"):
        PMIEmbedding(memory=2, **FIT).fit(str(lee_path), client=client)


def test_update_refuses_the_budget_train_refuses(lee_path, tmp_path, capsys):
    model = tmp_path / "model"
    assert main(["train", str(lee_path), "--out", str(model), "--dim", "20", "--min-count", "2", "--save-counts",
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["train", str(lee_path), "--out", str(tmp_path / "t"), "--dim", "20", "--min-count", "2",
                 "--memory", "0.0001", "--quiet"]) == 2
    trained = capsys.readouterr().err
    assert main(["update", str(lee_path), "--vectors", str(model), "--out", str(tmp_path / "u"),
                 "--memory", "0.0001", "--quiet"]) == 2
    updated = assert_one_line(capsys, 2, "the PMI and SVD stages need about", "but the --memory budget is 105 kB",
                              "give a larger --memory budget")
    assert trained.split(";")[0].split("about")[0] == updated.split(";")[0].split("about")[0]
    assert not (tmp_path / "t").exists() and not (tmp_path / "u").exists()


# ---------------------------------------------------------------------- Ctrl-C


def test_local_workers_ignore_sigint_even_when_restarted():
    def ignores_sigint(pid):
        with open(f"/proc/{pid}/status") as f:
            mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigIgn:"))
        return bool(mask & (1 << (signal.SIGINT - 1)))

    with connect("local:1", memory=0.75) as client:
        [info] = client.scheduler_info()["workers"].values()
        assert info["memory_limit"] == int(0.75 * 2**30)  # --memory with local:N: each worker's limit
        [pid] = client.run(os.getpid).values()
        assert ignores_sigint(pid)
        assert not ignores_sigint(os.getpid())  # this process still takes Ctrl-C
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                pids = list(client.run(os.getpid).values())
                if pids and pids[0] != pid:
                    break
            time.sleep(0.2)
        [again] = client.run(os.getpid).values()
        assert again != pid and ignores_sigint(again)  # Dask restarted it; the preload hook ran


def _spawned_workers(pid):
    import psutil

    found = []
    for child in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any("spawn_main" in part for part in child.cmdline()):
                found.append(child.pid)
    return found


@pytest.mark.parametrize("when", ["workers starting", "count"])
def test_ctrl_c_on_a_local_cluster(text8_head, tmp_path, when):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "pmiembed.cli.main", "train", str(text8_head), "--out", str(out),
                             "--dim", "30", "--scheduler", "local:2"], stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as a terminal's foreground job
    lines = []
    try:
        if when == "workers starting":
            deadline = time.monotonic() + 120
            while not _spawned_workers(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.005)
        else:
            for line in proc.stderr:  # the vocabulary's summary: counting runs
                lines.append(line)
                if line.strip().startswith("vocab:"):
                    break
        workers = _spawned_workers(proc.pid)
        assert workers and proc.poll() is None
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        rest = proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    err = "".join(lines) + rest
    assert proc.returncode == 130, err
    assert rest.strip().splitlines()[-1] == "pmiembed: interrupted; nothing was written", err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "Error" not in err, err
    assert not out.exists() and not list(tmp_path.glob(".*"))
    time.sleep(0.5)
    import psutil

    assert not [p for p in workers if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
