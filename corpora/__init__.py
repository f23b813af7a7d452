"""Corpus assets shipped with pmiembed (installed as ``pmiembed.corpora``); found through
:func:`pmiembed.datasets.sample_path`."""

from pathlib import Path

#: the first 1,171,946 tokens of Matt Mahoney's text8 (see README.md here)
SAMPLE = Path(__file__).resolve().parent / "text8-head.txt.gz"
