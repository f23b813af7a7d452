"""The benchmark scripts' own logic (their measurements are run by hand, not here)."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.fixture
def sample() -> Path:
    """The bundled offline sample (1.17M tokens of text8)."""
    return ROOT / "corpora" / "text8-head.txt.gz"


@pytest.mark.parametrize("n,block", [(1, 64), (12_345, 1000), (200_000, 1 << 16)])
def test_scaling_prefix_is_the_first_tokens(tmp_path, sample, n, block):
    """``scaling.py`` cuts its smaller corpora as the first N tokens of a real file,
    whatever the block size (tokens cut by a block boundary are carried over)."""
    from scaling import write_prefix

    out = tmp_path / "p.txt.gz"
    assert write_prefix(Path(sample), n, out, block_bytes=block) == n
    with gzip.open(sample) as f:
        want = f.read().split()[:n]
    with gzip.open(out) as f:
        assert f.read().split() == want


def test_scaling_prefix_of_a_short_file_is_the_whole_file(tmp_path, sample):
    from scaling import write_prefix

    with gzip.open(sample) as f:
        tokens = f.read().split()
    out = tmp_path / "p.txt.gz"
    assert write_prefix(Path(sample), len(tokens) + 10, out, block_bytes=1 << 20) == len(tokens)
    with gzip.open(out) as f:
        assert f.read().split() == tokens
