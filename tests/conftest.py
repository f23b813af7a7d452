"""Shared fixtures: real corpora that ship with gensim, the optional data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmiembed.datasets import data_dir, gensim_test_data


@pytest.fixture(scope="session")
def lee_path() -> Path:
    """Lee's news corpus (gensim test data): 300 documents, 60k tokens, one per line."""
    return gensim_test_data() / "lee_background.cor"


@pytest.fixture(scope="session")
def lee_docs(lee_path) -> list[list[str]]:
    with open(lee_path, encoding="utf-8") as f:
        return [line.split() for line in f if line.split()]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    d = data_dir()
    if d is None:
        pytest.skip("needs the data directory: set PMIEMBED_DATA to a folder holding corpora/ "
                    "(wiki17m.txt.gz, text8-head.txt.gz) and benchmarks/ (similarity/, analogy/)")
    return d


@pytest.fixture(scope="session")
def text8_head() -> Path:
    """The bundled text8 sample (corpora/, 1.17M tokens): always there, no data directory."""
    return Path(__file__).resolve().parents[1] / "corpora" / "text8-head.txt.gz"
