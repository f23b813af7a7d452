"""Corpus assets shipped with pmiembed (installed as ``pmiembed.corpora``)."""

from pathlib import Path

#: the first 1,171,946 tokens of Matt Mahoney's text8 (see README.md here)
SAMPLE = Path(__file__).resolve().parent / "text8-head.txt.gz"


def sample_path() -> Path:
    """Path of the bundled text8 sample (works after a plain ``pip install .``)."""
    return SAMPLE
