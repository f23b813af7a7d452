"""Issue 27, class 1: ``--force`` replaces only what pmiembed could have written.

Every output path of every command (``--out`` of train, update, compare, demo, sweep and
phrases, ``evaluate --json``, the Python ``save``) goes through one guard
(:func:`pmiembed.io.check_output_path`): a regular file (file outputs) or a folder
pmiembed could have written (folder outputs) may be replaced with ``--force``; a named
pipe, a socket, a symbolic link (here to a FIFO, and to the system's /dev/null, which is
only looked at), a file where a folder is wanted and a folder of someone else's files
are refused in one line with exit 2, and are still there, untouched, afterwards.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import one_error_line, run

from pmiembed.cli.main import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model(tmp_path_factory, lee_path):
    out = tmp_path_factory.mktemp("guard") / "m"
    assert main(["train", str(lee_path), "--out", str(out), "--dim", "10", "--min-count", "3", "--save-counts",
                 "--quiet"]) == 0
    return out


def _fifo(where: Path) -> Path:
    os.mkfifo(where)
    return where


def _socket(where: Path):
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(where))
    return s


def _link_to_fifo(where: Path) -> Path:
    target = _fifo(where.with_name(where.name + "-target"))
    where.symlink_to(target)
    return where


def _link_to_dev_null(where: Path) -> Path:
    where.symlink_to("/dev/null")  # only ever lstat'ed and stat'ed: never written
    return where


NODES = {
    "fifo": (_fifo, "is a named pipe (FIFO), not {what}; pmiembed never replaces one"),
    "socket": (_socket, "is a socket, not {what}; pmiembed never replaces one"),
    "link-to-fifo": (_link_to_fifo, "is a symbolic link to a named pipe (FIFO); pmiembed never replaces a link"),
    "link-to-dev-null": (_link_to_dev_null, "is a symbolic link to a character device; pmiembed never replaces a "
                                            "link"),
}


def _commands(lee_path, model):
    """(name, argv before --out/--json, the option, whether it writes a folder)."""
    return [
        ("train", ["train", lee_path, "--dim", "10", "--quiet", "--force"], "--out", True),
        ("update", ["update", lee_path, "--vectors", model, "--quiet", "--force"], "--out", True),
        ("compare", ["compare", lee_path, "--no-word2vec", "--dim", "10", "--quiet", "--force"], "--out", True),
        ("demo", ["demo", "--offline", "--dim", "10", "--quiet", "--force"], "--out", True),
        ("sweep", ["sweep", lee_path, "--grid", "dim=5"], "--out", True),
        ("phrases", ["phrases", lee_path, "--quiet", "--force"], "--out", False),
        ("evaluate", ["evaluate", "--vectors", model, "--quiet", "--force"], "--json", False),
    ]


COMMANDS = ["train", "update", "compare", "demo", "sweep", "phrases", "evaluate"]


def _snapshot(path: Path):
    st = os.lstat(path)
    return st.st_ino, stat.S_IFMT(st.st_mode), os.readlink(path) if stat.S_ISLNK(st.st_mode) else None


@pytest.mark.parametrize("node", sorted(NODES))
@pytest.mark.parametrize("command", COMMANDS)
def test_force_never_replaces_a_special_file(tmp_path, capsys, lee_path, model, command, node):
    name, argv, option, folder = next(c for c in _commands(lee_path, model) if c[0] == command)
    make, message = NODES[node]
    where = tmp_path / "target"
    held = make(where)
    before = _snapshot(where)
    dev_null = os.stat("/dev/null")
    code, out, err = run(capsys, *argv, option, where)
    assert code == 2, err
    line = one_error_line(err)
    assert line.startswith(f"{where}: " + message.format(what="a folder" if folder else "a regular file")), line
    assert f"choose another {option}" in line
    assert _snapshot(where) == before  # the very same node, never replaced
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == dev_null.st_ino
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left
    if isinstance(held, socket.socket):
        held.close()


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in ("phrases", "evaluate")])
def test_a_file_where_a_folder_is_wanted_is_said_to_be_a_file(tmp_path, capsys, lee_path, model, command):
    _, argv, option, _ = next(c for c in _commands(lee_path, model) if c[0] == command)
    target = tmp_path / "afile"
    target.write_text("mine\n")
    for extra in ([], [] if command == "sweep" else ["--force"]):
        argv_ = [a for a in argv if a != "--force"] + extra
        code, _, err = run(capsys, *argv_, option, target)
        assert code == 2
        assert one_error_line(err) == f"{target}: is a file, not a folder; choose another --out (a folder name)"
        assert target.read_text() == "mine\n"


@pytest.mark.parametrize("command", ["phrases", "evaluate"])
def test_a_folder_where_a_file_is_wanted(tmp_path, capsys, lee_path, model, command):
    _, argv, option, _ = next(c for c in _commands(lee_path, model) if c[0] == command)
    (tmp_path / "d").mkdir()
    code, _, err = run(capsys, *argv, option, tmp_path / "d")
    assert code == 2
    assert one_error_line(err) == f"{tmp_path / 'd'}: is a folder, not a file; give a file name as {option}"


def test_force_replaces_a_regular_file_and_pmiembeds_own_folders(tmp_path, capsys, lee_path, model):
    joined = tmp_path / "joined.txt"
    joined.write_text("old\n")
    code, _, err = run(capsys, "phrases", lee_path, "--out", joined, "--quiet")
    assert code == 2 and one_error_line(err) == (f"{joined}: output file exists; choose another --out or pass "
                                                 "--force to replace it")
    code, _, err = run(capsys, "phrases", lee_path, "--out", joined, "--quiet", "--force")
    assert code == 0 and joined.read_text() != "old\n"
    out = tmp_path / "m"
    assert run(capsys, "train", lee_path, "--out", out, "--dim", "10", "--quiet")[0] == 0
    first = os.lstat(out).st_ino
    assert run(capsys, "train", lee_path, "--out", out, "--dim", "12", "--quiet", "--force")[0] == 0
    assert os.lstat(out).st_ino != first and (out / "params.json").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(capsys, "train", lee_path, "--out", empty, "--dim", "10", "--quiet", "--force")[0] == 0
    assert (empty / "vectors.bin").is_file()


@pytest.mark.parametrize("inside", ["own-files", "fifo", "link", "nested-fifo"])
def test_force_refuses_a_folder_pmiembed_did_not_write(tmp_path, capsys, lee_path, model, inside):
    """A folder of someone else's files, or a model folder that holds a node pmiembed
    never writes (rmtree would remove it), is not replaced; everything stays."""
    out = tmp_path / "out"
    if inside == "own-files":
        out.mkdir()
        (out / "thesis.tex").write_text("years of work\n")
        why = "holds files pmiembed did not write (none of params.json, report.json, sweep.json, results.jsonl)"
    else:
        assert run(capsys, "train", lee_path, "--out", out, "--dim", "10", "--quiet")[0] == 0
        if inside == "fifo":
            os.mkfifo(out / "pipe")
            why = f"holds {out / 'pipe'}, a named pipe (FIFO), which pmiembed never writes"
        elif inside == "link":
            (out / "elsewhere").symlink_to(tmp_path)
            why = f"holds {out / 'elsewhere'}, a symbolic link, which pmiembed never writes"
        else:
            (out / "sub").mkdir()
            os.mkfifo(out / "sub" / "pipe")
            why = f"holds {out / 'sub' / 'pipe'}, a named pipe (FIFO), which pmiembed never writes"
    before = sorted(p.name for p in out.rglob("*"))
    for argv in (["train", lee_path, "--dim", "10", "--quiet", "--force"],
                 ["compare", lee_path, "--no-word2vec", "--dim", "10", "--quiet", "--force"],
                 ["update", lee_path, "--vectors", model, "--quiet", "--force"]):
        code, _, err = run(capsys, *argv, "--out", out)
        assert code == 2
        assert one_error_line(err) == (f"{out}: {why}; --force replaces only a folder pmiembed wrote: choose "
                                       "another --out (or empty this one yourself)")
    assert sorted(p.name for p in out.rglob("*")) == before


def test_python_save_and_atomic_writers_use_the_same_guard(tmp_path, lee_docs):
    from pmiembed import PMIEmbedding
    from pmiembed.errors import PMIEmbedError
    from pmiembed.io import atomic_path

    fifo = _fifo(tmp_path / "fifo")
    m = PMIEmbedding(dim=10, min_count=3).fit(lee_docs[:100])
    with pytest.raises(PMIEmbedError, match=r"fifo: is a named pipe \(FIFO\), not a folder; pmiembed never "
                                            r"replaces one: choose another output folder$"):
        m.save(fifo, force=True)
    with pytest.raises(PMIEmbedError, match="not a regular file; pmiembed never replaces one"):
        with atomic_path(fifo) as tmp:
            tmp.write_text("x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    # the guard runs again when the new folder is swapped in: a folder that became a link meanwhile stays
    out = tmp_path / "m"
    m.save(out)
    from pmiembed.io import atomic_dir

    with pytest.raises(PMIEmbedError, match="is a symbolic link to a folder; pmiembed never replaces a link"):
        with atomic_dir(out, force=True) as tmp:
            (tmp / "params.json").write_text("{}")
            os.rename(out, tmp_path / "moved")
            out.symlink_to(tmp_path / "moved")
    assert out.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "m", "moved"]


def test_a_sweep_resumes_only_in_a_folder_pmiembed_wrote(tmp_path, lee_path):
    """A FIFO planted where the sweep appends its results would block the run forever;
    it is refused before any work (subprocess: a hang fails the test instead of it)."""
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "sweep.json").write_text("{}")
    os.mkfifo(out / "results.jsonl")
    proc = subprocess.run([sys.executable, "-m", "pmiembed", "sweep", str(lee_path), "--grid", "dim=5", "--out",
                           str(out)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 2
    assert one_error_line(proc.stderr) == (f"{out}: holds {out / 'results.jsonl'}, a named pipe (FIFO), which "
                                           "pmiembed never writes; pmiembed adds to a folder only if it wrote it: "
                                           "choose another --out")
    assert stat.S_ISFIFO(os.lstat(out / "results.jsonl").st_mode)
