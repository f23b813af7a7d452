"""Faults: SIGKILL, Ctrl-C and a full disk leave nothing behind and say one clear line."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time

from pmiembed.datasets import sample_path


def start(args, tmp_path, fsize=None, **kw):
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"), PYTHONUNBUFFERED="1")
    (tmp_path / "tmp").mkdir(exist_ok=True)

    def limit():
        # a terminal user's Ctrl-C: a test run started as a background job of a
        # non-interactive shell (`bash .ci/run &`) inherits SIGINT ignored, and Python
        # then installs no KeyboardInterrupt handler, so the child would never see it
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.Popen([sys.executable, "-m", "pmiembed", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, preexec_fn=limit, **kw)


def leftovers(tmp_path) -> list[str]:
    """Everything in the work folder and TMPDIR except the TMPDIR folder itself."""
    found = [p.name for p in tmp_path.iterdir() if p.name != "tmp"]
    found += [f"tmp/{p.name}" for p in (tmp_path / "tmp").iterdir()]
    return sorted(found)


def wait_gone(tmp_path, timeout=10.0) -> list[str]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not leftovers(tmp_path):
            return []
        time.sleep(0.1)
    return leftovers(tmp_path)


def wait_for(predicate, proc, timeout=120.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_sigkill_while_writing_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    proc = start(["train", sample_path(), "--out", out, "--dim", "50", "--quiet"], tmp_path)
    # kill the moment the temporary output folder appears (the write stage)
    seen = wait_for(lambda: any(p.name.startswith(".out.") for p in tmp_path.iterdir()), proc)
    proc.kill()
    proc.wait()
    assert seen, "the run finished before its output folder could be caught"
    assert wait_gone(tmp_path) == []


def test_sigkill_while_spilling_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    proc = start(["train", sample_path(), "--out", out, "--dim", "10", "--window", "5", "--memory", "0.03",
                  "--quiet"], tmp_path)
    seen = wait_for(lambda: any((tmp_path / "tmp").glob("pmiembed-spill-*/part*")), proc)
    proc.kill()
    proc.wait()
    assert seen, "no spill file appeared"
    assert wait_gone(tmp_path) == []


def test_ctrl_c_exits_promptly_with_one_line(tmp_path):
    out = tmp_path / "out"
    # --n-iter 300 keeps the run going after counting, so a late spill file cannot let
    # the run finish before the signal lands
    proc = start(["train", sample_path(), "--out", out, "--dim", "10", "--window", "5", "--memory", "0.03",
                  "--n-iter", "300", "--quiet"], tmp_path)
    assert wait_for(lambda: any((tmp_path / "tmp").glob("pmiembed-spill-*/part*")), proc)
    t = time.time()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert time.time() - t < 10 and proc.returncode == 130, (time.time() - t, proc.returncode, err[-2000:])
    assert err.strip().splitlines() == ["pmiembed: interrupted; nothing was written"]
    assert wait_gone(tmp_path) == []


def test_full_disk_while_writing_vectors(tmp_path):
    # 2 MB is enough for the reads and the numba cache but not for 21k x 300 vectors
    proc = start(["train", sample_path(), "--out", tmp_path / "out", "--dim", "300", "--quiet"], tmp_path,
                 fsize=2_000_000)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "disk full or file too large" in lines[0] and "out" in lines[0]
    assert "Traceback" not in err
    assert wait_gone(tmp_path) == []


def test_full_disk_while_spilling(tmp_path):
    proc = start(["train", sample_path(), "--out", tmp_path / "out", "--dim", "10", "--window", "5",
                  "--memory", "0.03", "--quiet"], tmp_path, fsize=300_000)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "cannot write temporary counts" in lines[0], err
    assert wait_gone(tmp_path) == []


def test_unwritable_output_location(tmp_path):
    (tmp_path / "afile").write_text("x")
    proc = start(["train", sample_path(), "--out", tmp_path / "afile" / "out", "--quiet"], tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.strip().splitlines() == [f"pmiembed: error: {tmp_path / 'afile'}: is a file, not a folder; "
                                        "choose an --out inside a folder"]
