"""Every command's ``--help`` works: the commands are discovered from the parser."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from pmiembed.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[str]:
    parser = build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(subs) == 1
    return sorted(subs[0].choices)


def test_the_parser_has_the_commands():
    assert {"train", "similar", "analogy", "evaluate", "compare"} <= set(_commands())


@pytest.mark.parametrize("command", _commands())
def test_help_of_every_command(command):
    """``pmiembed COMMAND --help`` as a user runs it (``python -m pmiembed``): exit 0,
    the usage on stdout, nothing on stderr."""
    r = subprocess.run([sys.executable, "-m", "pmiembed", command, "--help"], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: pmiembed {command}") and len(r.stdout.splitlines()) > 3
    assert r.stderr == ""
