"""Running the command line in this process, and reading its one-line errors."""

from __future__ import annotations

from pmiembed.cli.main import main


def run(capsys, *argv):
    """``pmiembed ARGV`` in this process: ``(exit code, stdout, stderr)``."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    """The message of the one ``pmiembed: error: ...`` line ``err`` must be."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("pmiembed: error: "), err
    return lines[0][len("pmiembed: error: "):]
