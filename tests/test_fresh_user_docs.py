"""Issue 27, class 7: what a fresh user follows literally works from a clone.

pmiembed is installed from its repository, not from a package index: every install
command in the docs, ``--help`` and messages is one that works in the clone
(``pip install ".[dask]"``), and every extra it names exists.  ``pmiembed demo`` run in
the clone writes where ``git status`` does not show it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pmiembed.cli import demo as cli_demo
from pmiembed.cli.main import main

REPO = Path(__file__).resolve().parent.parent
TEXT_SUFFIXES = {".md", ".py", ".ipynb", ".toml", ".txt", ".cfg", ".js", ".html"}


def _project_files() -> list[Path]:
    """The repository's text files (git's list when this is a clone, else a walk)."""
    if shutil.which("git") and (REPO / ".git").exists():
        listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "--cached", "--others", "--exclude-standard"],
                                capture_output=True, text=True)
        if listed.returncode == 0:
            return [REPO / line for line in listed.stdout.splitlines() if Path(line).suffix in TEXT_SUFFIXES]
    skip = {".git", "build", "dist", ".pytest_cache", ".hypothesis", "__pycache__"}
    return [p for p in REPO.rglob("*") if p.suffix in TEXT_SUFFIXES and not skip & set(p.parts)
            and ".egg-info" not in str(p)]


#: installing pmiembed by name, which no package index serves
BY_NAME = re.compile(r"pip install\s+[\"']?pmiembed\b")
#: installing the clone with extras: pip install ".[dask]"
FROM_CLONE = re.compile(r"pip install\s+\\?[\"']\.\[([a-z0-9_,-]+)\]\\?[\"']")


def _extras() -> set[str]:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return set(re.findall(r"^([a-z0-9_-]+)\s*=", section, re.M))


def test_no_install_command_names_a_package_index_release():
    found = []
    for path in _project_files():
        if path.resolve() == Path(__file__).resolve():
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if BY_NAME.search(line):
                found.append(f"{path.relative_to(REPO)}:{i}: {line.strip()}")
    assert not found, found


def test_every_extra_an_install_command_names_exists():
    extras = _extras()
    assert {"dask", "test"} <= extras
    named = {}
    for path in _project_files():
        for match in FROM_CLONE.finditer(path.read_text(encoding="utf-8", errors="replace")):
            for extra in match.group(1).split(","):
                named.setdefault(extra, str(path.relative_to(REPO)))
    assert "dask" in named  # the cluster route says how to install it
    assert not {e: f for e, f in named.items() if e not in extras}


def test_train_help_and_the_missing_dask_message_say_what_works(capsys, monkeypatch):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert 'pip install ".[dask]" in pmiembed\'s clone' in capsys.readouterr().out
    import builtins

    from pmiembed.distributed import _import_distributed
    from pmiembed.errors import ParameterError

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(ParameterError) as info:
        _import_distributed()
    assert 'pip install ".[dask]" in pmiembed\'s clone' in str(info.value)
    assert not BY_NAME.search(str(info.value))


@pytest.mark.parametrize("taken,name", [(0, cli_demo.DEFAULT_OUT), (1, f"{cli_demo.DEFAULT_OUT}-2"),
                                        (16, f"{cli_demo.DEFAULT_OUT}-17")])
def test_the_demo_output_is_ignored_in_the_clone(taken, name, tmp_path, monkeypatch):
    """The folders the demo chooses in the working directory (its default and the fresh
    names beside it) are ignored by the clone's .gitignore, so a demo run in the clone
    leaves `git status` clean."""
    monkeypatch.chdir(tmp_path)
    for i in range(taken):
        (tmp_path / (cli_demo.DEFAULT_OUT if i == 0 else f"{cli_demo.DEFAULT_OUT}-{i + 1}")).mkdir()
    assert cli_demo._fresh_out(cli_demo.DEFAULT_OUT)[0].name == name
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    probe = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", "--no-index", f"{name}/report.html"],
                           capture_output=True, text=True)
    assert probe.returncode == 0, f"{name}/ is not ignored by {REPO / '.gitignore'}"
    probe = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", "--no-index", "pmiembed/report.js"],
                           capture_output=True, text=True)
    assert probe.returncode == 1  # the rule is not so broad that it ignores the package
