"""Issue 15, item 5: replacing an output folder is crash-safe.

A writer process is SIGKILLed at every step of the replacement protocol of
:func:`pmiembed.io.replace_dir` (``PMIEMBED_TEST_KILL_AT``), both with the atomic
exchange (renameat2) and with the two-rename fallback (``PMIEMBED_TEST_NO_EXCHANGE``):
afterwards the folder is always complete (the old one before the swap, the new one
after) and nothing is left beside it.  Concurrent writers and a reader during
replacements are tested on real model folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from pmiembed.io import atomic_dir

    out, tag, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    for _ in range(n):
        with atomic_dir(out, force=True) as tmp:
            for i in range(3):
                (tmp / f"part{i}").write_text(tag * 20000)
            (tmp / "params.json").write_text("{}")  # a folder pmiembed writes, which force may replace
""")


def env(**extra):
    e = dict(os.environ, PYTHONPATH=str(REPO))
    e.pop("PMIEMBED_TEST_KILL_AT", None)
    e.pop("PMIEMBED_TEST_NO_EXCHANGE", None)
    e.update(extra)
    return e


def write(out: Path, tag: str, n: int = 1, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WRITER, str(out), tag, str(n)], capture_output=True, text=True,
                          env=env(**extra), timeout=120)


def content(out: Path) -> str:
    """The tag every file of the folder holds (one tag: never a mix of two writes)."""
    tags = {(out / f"part{i}").read_text()[:1] for i in range(3)}
    sizes = {len((out / f"part{i}").read_text()) for i in range(3)}
    assert len(tags) == 1 and sizes == {20000}, (tags, sizes)
    return tags.pop()


def beside(out: Path, timeout: float = 10.0) -> list[str]:
    """What is in the parent besides ``out``, once the janitor is done."""
    deadline = time.time() + timeout
    while True:
        found = sorted(p.name for p in out.parent.iterdir() if p.name != out.name)
        if not found or time.time() > deadline:
            return found
        time.sleep(0.05)


STEPS = [
    # (mode, step, what the folder holds afterwards)
    ("exchange", "written", "a"),
    ("exchange", "locked", "a"),
    ("exchange", "exchanged", "b"),
    ("rename", "written", "a"),
    ("rename", "locked", "a"),
    ("rename", "moved-old", "a"),
    ("rename", "renamed", "b"),
]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_the_exchange_really_swaps_here(tmp_path):
    """So the 'exchange' cases below test the one-step swap, not the fallback."""
    from pmiembed.io import _exchange

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "in-a").touch()
    (tmp_path / "b").mkdir()
    assert _exchange(tmp_path / "a", tmp_path / "b")
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["in-a"] and not any((tmp_path / "a").iterdir())


@pytest.mark.parametrize("mode,step,expected", STEPS)
def test_sigkill_at_every_step_of_a_replace(tmp_path, mode, step, expected):
    out = tmp_path / "out"
    assert write(out, "a").returncode == 0
    extra = {"PMIEMBED_TEST_KILL_AT": step}
    if mode == "rename":
        extra["PMIEMBED_TEST_NO_EXCHANGE"] = "1"
    proc = write(out, "b", **extra)
    assert proc.returncode == -9, proc.stderr  # killed at that step
    assert beside(out) == []
    assert content(out) == expected
    # and the next replace works as usual
    assert write(out, "c").returncode == 0
    assert content(out) == "c" and beside(out) == []


def test_first_write_killed_after_rename_keeps_the_new_folder(tmp_path):
    out = tmp_path / "out"
    proc = write(out, "a", PMIEMBED_TEST_KILL_AT="renamed")
    assert proc.returncode == -9
    assert content(out) == "a" and beside(out) == []


def test_old_folder_stranded_by_a_dead_janitor_is_recovered(tmp_path):
    """Power loss between the two renames (process and janitor gone): the next run
    finds ``.out.xxxx.old`` without ``out``, puts it back, then replaces it."""
    out = tmp_path / "out"
    assert write(out, "a").returncode == 0
    stranded = tmp_path / ".out.0123456789.old"
    os.rename(out, stranded)
    assert write(out, "b").returncode == 0
    assert content(out) == "b" and beside(out) == []
    # a stale old folder beside a present one is removed
    assert write(out, "a").returncode == 0
    (tmp_path / ".out.abcdefabcd.old").mkdir()
    assert write(out, "c").returncode == 0
    assert content(out) == "c" and beside(out) == []


@pytest.mark.parametrize("mode", ["exchange", "rename"])
def test_concurrent_replaces_all_succeed_and_leave_nothing(tmp_path, mode):
    out = tmp_path / "out"
    assert write(out, "a").returncode == 0
    extra = {"PMIEMBED_TEST_NO_EXCHANGE": "1"} if mode == "rename" else {}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(out), tag, "25"], stderr=subprocess.PIPE, text=True,
                              env=env(**extra)) for tag in "xyz"]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert content(out) in "xyz" and beside(out) == []


def test_a_reader_during_replaces_always_gets_a_whole_model(tmp_path, lee_docs):
    """load_vectors while another process replaces the folder again and again: every
    load succeeds and gives one of the two models, never a mix or a missing file."""
    import numpy as np

    from pmiembed import PMIEmbedding
    from pmiembed.vectors import load_vectors

    a, b = tmp_path / "a", tmp_path / "b"
    PMIEmbedding(dim=10, seed=0).fit(lee_docs).save(a)
    PMIEmbedding(dim=12, seed=1).fit(lee_docs).save(b)
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        import os, shutil
        from pmiembed.io import atomic_dir
        for i in range(60):
            src = {str(a)!r} if i % 2 else {str(b)!r}
            with atomic_dir({str(out)!r}, force=True) as tmp:
                for name in sorted(os.listdir(src)):  # every file the manifest lists
                    shutil.copyfile(src + "/" + name, tmp / name)
    """)
    PMIEmbedding(dim=10, seed=0).fit(lee_docs).save(out)
    writer = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True, env=env())
    dims = set()
    loads = 0
    while writer.poll() is None or loads < 5:
        kv = load_vectors(out)
        assert kv.vector_size in (10, 12) and np.isfinite(kv.vectors).all()
        dims.add(kv.vector_size)
        loads += 1
    _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert beside(out) == ["a", "b"]
