"""Where the optional data directory (corpora, benchmarks) lives.

The project never downloads at test time.  A data directory is found through the
``PMIEMBED_DATA`` environment variable; without it, functions return ``None`` and
callers fall back to what ships with gensim or the package.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path | None:
    """The directory named by ``$PMIEMBED_DATA`` if it exists, else ``None``."""
    value = os.environ.get("PMIEMBED_DATA")
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_dir() else None


def gensim_test_data() -> Path:
    """gensim's bundled ``test/test_data`` folder (small real corpora and benchmarks)."""
    import gensim

    return Path(gensim.__file__).resolve().parent / "test" / "test_data"
