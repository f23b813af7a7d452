"""The bundled offline sample corpus (the first 1.17M tokens of text8).

The file lives in the repository's ``corpora/`` folder, which is installed as the
subpackage ``pmiembed.corpora``; from a source checkout it is found beside the package.
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_NAME = "text8-head.txt.gz"


def sample_path() -> Path:
    """Path of the bundled text8 sample."""
    try:
        from pmiembed.corpora import SAMPLE  # installed: corpora/ is pmiembed.corpora

        if SAMPLE.is_file():
            return SAMPLE
    except ImportError:
        pass
    path = Path(__file__).resolve().parent.parent / "corpora" / SAMPLE_NAME
    if not path.is_file():  # pragma: no cover - a broken install
        from .errors import CorpusError

        raise CorpusError(f"{path}: the bundled sample corpus is missing; reinstall pmiembed")
    return path
