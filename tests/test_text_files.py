"""One opener for text: the corpus reader, the word2vec baseline and the benchmark reader
read a file's bytes alike (compression told by content, undecodable bytes replaced)."""

from __future__ import annotations

import bz2
import gzip
import lzma

import pytest

from pmiembed.corpus import read_corpus
from pmiembed.evaluate import load_benchmark
from pmiembed.word2vec import ChunkedSentences, TokenizedSentences


@pytest.fixture()
def bad_utf8_corpus(tmp_path, lee_path):
    """Lee's corpus with Latin-1 bytes, a stray continuation byte and a cut sequence in
    some lines."""
    lines = lee_path.read_bytes().splitlines()[:60]
    damaged = [line + b" caf\xe9 na\xefve \x80 \xe2\x82" if i % 7 == 0 else line for i, line in enumerate(lines)]
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\n".join(damaged) + b"\n")
    return path


@pytest.mark.parametrize("compress,suffix", [(None, ".txt"), (gzip.compress, ".gz"), (bz2.compress, ".bz2"),
                                             (lzma.compress, ".xz"), (lzma.compress, ".txt")])
@pytest.mark.parametrize("tokenize", ["whitespace", "words", "nltk"])
def test_both_models_read_the_same_tokens(tmp_path, bad_utf8_corpus, compress, suffix, tokenize):
    """What compare's two models see of a corpus with bad UTF-8, compressed any way and
    named any way (an xz file named .txt too), under each tokenisation: the same tokens,
    the bad bytes replaced."""
    data = bad_utf8_corpus.read_bytes()
    path = tmp_path / f"corpus{suffix}"
    path.write_bytes(compress(data) if compress else data)
    ours = [tok for doc in read_corpus(path, tokenize=tokenize).documents() for tok in doc]
    theirs = [tok for sentence in TokenizedSentences(ChunkedSentences(path, chunk_size=777), tokenize)
              for tok in sentence]
    assert ours == theirs
    if tokenize == "whitespace":
        assert "caf\ufffd" in ours and "na\ufffdve" in ours and "\ufffd" in ours
    else:  # the replacement character is not a letter: it ends a word
        assert "caf" in ours and "the" in ours and "The" not in ours
    assert read_corpus(path, tokenize=tokenize).n_replaced == 4 * len(range(0, 60, 7))


def test_xz_benchmark_file(tmp_path):
    """A benchmark file compressed with xz (any name) reads as the plain file does."""
    text = "# a similarity benchmark\ntiger\tcat\t7.35\nbook\tpaper\t7.46\ncomputer\tkeyboard\t7.62\n"
    plain = tmp_path / "sim.txt"
    plain.write_text(text, encoding="utf-8")
    for name in ("sim.txt.xz", "sim-xz.txt"):
        (tmp_path / name).write_bytes(lzma.compress(text.encode("utf-8")))
        got, want = load_benchmark(tmp_path / name), load_benchmark(plain)
        assert (got.pairs, list(got.scores)) == (want.pairs, list(want.scores))
        assert got.pairs == [("tiger", "cat"), ("book", "paper"), ("computer", "keyboard")]
