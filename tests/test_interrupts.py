"""Ctrl-C at any moment of a run that uses compiled kernels: exit 130, one line, nothing
written, never a crash (see :mod:`pmiembed._jit` for why a kernel's result must not be
interrupted while numba turns it into Python objects)."""

from __future__ import annotations

import ast
import gzip
import importlib
import os
import pkgutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import pmiembed
from pmiembed._jit import Kernel, sigint_deferred

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "corpora" / "text8-head.txt.gz"
INTERRUPTED = "pmiembed: interrupted; nothing was written"


def _dfl():
    # a terminal user's Ctrl-C (a test run started in the background inherits SIGINT ignored)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# ------------------------------------------------------------------ every kernel


def _package_modules():
    for info in pkgutil.walk_packages(pmiembed.__path__, "pmiembed."):
        if info.name == "pmiembed.__main__":  # runs the command line
            continue
        try:
            yield importlib.import_module(info.name)
        except ImportError as exc:  # an optional extra that is not installed (dask)
            if "dask" not in str(exc) and "distributed" not in str(exc):
                raise


def test_every_numba_function_is_an_interrupt_safe_kernel():
    from pmiembed._jit import numba

    found = {}
    for module in _package_modules():
        for name, obj in vars(module).items():
            if isinstance(obj, numba.core.dispatcher.Dispatcher) and obj.py_func.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = obj
    assert {"pmiembed._phrase_kernels.join_pairs", "pmiembed._kernels.tokenize_bytes",
            "pmiembed._kernels.window_count_rows", "pmiembed._update_kernels.merge_rows"} <= set(found)
    assert [name for name, obj in found.items() if not isinstance(obj, Kernel)] == []


def test_numba_is_imported_only_through_jit():
    """numba's first import must be the one with Ctrl-C held back (pmiembed._jit)."""
    offenders = []
    for path in sorted((REPO / "pmiembed").rglob("*.py")):
        if path.name == "_jit.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{path.relative_to(REPO)}:{node.lineno}" for n in names if n.split(".")[0] == "numba"]
    assert offenders == []


# ------------------------------------------------------------ the deferral itself


def test_sigint_is_held_back_until_the_block_ends():
    before = signal.getsignal(signal.SIGINT)
    reached_end = False
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            for _ in range(1000):  # Python code runs the (deferring) handler here
                pass
            reached_end = True
    assert reached_end and signal.getsignal(signal.SIGINT) is before


def test_sigint_is_delivered_at_once_when_urgent():
    reached_end = False
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred(urgent=lambda: True):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            for _ in range(1000):
                pass
            reached_end = True
    assert not reached_end


CHILD = textwrap.dedent("""
    import os, signal, sys, threading, time
    import numpy as np
    from pmiembed import _phrase_kernels as K

    n = int(sys.argv[1])
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 1000, n).astype(np.int32)
    doc = np.zeros(n, dtype=np.bool_)
    doc[0] = True
    rows = np.arange(1000, dtype=np.int64)
    keys = np.unique(rng.integers(0, 1000 * 1000, 2000)).astype(np.int64)
    new = (1000 + np.arange(len(keys))).astype(np.int32)
    calls = {"pair_keys": lambda: K.pair_keys(ids, rows, doc, 1000),  # returns an array
             "join_pairs": lambda: K.join_pairs(ids, doc, keys, new, 1000)}  # returns a tuple of arrays
    for name, call in calls.items():
        call()  # compiled or loaded from the cache before the measured calls
        t = time.perf_counter()
        call()
        took = time.perf_counter() - t
        for attempt in range(5):  # until the signal lands while the kernel runs
            sent = []
            timer = threading.Timer(took / 3, lambda: (sent.append(time.perf_counter()), os.kill(os.getpid(), 2)))
            ended = None
            try:
                timer.start()
                t = time.perf_counter()
                result = call()
                ended = time.perf_counter()
                timer.join()
                for _ in range(1000):
                    pass
                outcome = "not interrupted"
            except KeyboardInterrupt:
                outcome = "interrupted"
            timer.join()
            if ended is None or sent[0] < ended:
                break
        print(name, outcome, "inside" if ended is None or sent[0] < ended else "after",
              f"{(sent[0] - t) / took:.2f}", flush=True)
""")


def test_ctrl_c_inside_kernels_that_return_arrays():
    """SIGINT while a kernel runs whose result is one array or a tuple of arrays: a
    clean KeyboardInterrupt once the call has returned (before the fix: SIGSEGV or
    SystemError, as in 5 of 10 Ctrl-C's of ``pmiembed phrases`` on a 50 MB line)."""
    proc = subprocess.run([sys.executable, "-c", CHILD, "3000000"], capture_output=True, text=True, timeout=300,
                          preexec_fn=_dfl, env=dict(os.environ, PYTHONFAULTHANDLER="1"))
    assert proc.returncode == 0 and proc.stderr == "", (proc.returncode, proc.stderr[-3000:])
    assert [line.split()[:3] for line in proc.stdout.splitlines()] == [
        ["pair_keys", "interrupted", "inside"], ["join_pairs", "interrupted", "inside"]], proc.stdout


# ------------------------------------------------------------ whole commands


@pytest.fixture(scope="module")
def one_line_corpus(tmp_path_factory):
    """The bundled text8 sample repeated into one 12 MB line (a long single-document
    corpus, like the issue's 50 MB file)."""
    text = gzip.open(BUNDLED, "rb").read().replace(b"\n", b" ")
    path = tmp_path_factory.mktemp("big") / "one-line.txt"
    with open(path, "wb") as f:
        for _ in range(12_000_000 // len(text) + 1):
            f.write(text)
        f.write(b"\n")
    return path


def _run(args, cwd, tmpdir):
    env = dict(os.environ, TMPDIR=str(tmpdir), PYTHONFAULTHANDLER="1")
    return subprocess.Popen([sys.executable, "-m", "pmiembed", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_dfl)


def _interrupt_at_offsets(args, out: Path, work: Path, fractions) -> list:
    """Time one whole run of ``args`` (after a first one that fills numba's cache), then
    send SIGINT at ``fractions`` of that time; each interrupted run must exit 130 with
    one line and leave nothing.  Returns ``(fraction, outcome)``."""
    tmpdir = work / "tmp"
    tmpdir.mkdir()
    took = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        proc = _run(args, work, tmpdir)
        _, err = proc.communicate(timeout=600)
        took = min(took, time.perf_counter() - t)
        assert proc.returncode == 0, err
        assert out.exists()
        subprocess.run(["rm", "-rf", str(out)], check=True)
    outcomes = []
    for f in fractions:
        proc = _run(args, work, tmpdir)
        time.sleep(f * took)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        left = sorted(p.name for p in work.iterdir() if p.name != "tmp") + sorted(p.name for p in tmpdir.iterdir())
        if proc.returncode == 0:  # finished before the signal: complete output, nothing else
            assert out.exists() and err == "" and left == [out.name], (f, err, left)
            subprocess.run(["rm", "-rf", str(out)], check=True)
            outcomes.append((f, "finished"))
            continue
        assert proc.returncode == 130, (f, proc.returncode, err[-3000:])
        assert err.strip().splitlines() == [INTERRUPTED], (f, err[-3000:])
        assert left == [], (f, left)
        outcomes.append((f, "interrupted"))
    assert sum(o == "interrupted" for _, o in outcomes) >= len(fractions) - 1, outcomes
    return outcomes


def test_ctrl_c_during_phrases(one_line_corpus, tmp_path):
    out = tmp_path / "joined.txt"
    outcomes = _interrupt_at_offsets(["phrases", one_line_corpus, "--out", out, "--quiet"], out, tmp_path,
                                     (0.2, 0.35, 0.5, 0.65, 0.8))
    print(outcomes)


def test_ctrl_c_during_train_with_phrases(one_line_corpus, tmp_path):
    out = tmp_path / "model"
    outcomes = _interrupt_at_offsets(["train", one_line_corpus, "--phrases", "--out", out, "--dim", "10",
                                      "--min-count", "20", "--quiet"], out, tmp_path,
                                     (0.1, 0.2, 0.35, 0.6))
    print(outcomes)
