"""Stage 1: readers and tokenisation, on real text and against plain Python splitting."""

from __future__ import annotations

import bz2
import gzip
import lzma

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmiembed.corpus import read_corpus as _read_corpus
from pmiembed.corpus import resolve_paths
from pmiembed.errors import CorpusError


def read_corpus(source, **kwargs):
    """The reader with ``tokenize="whitespace"``: this file tests reading (files, chunks,
    compression, decoding); the ``words`` and ``nltk`` tokenisations: test_tokenize.py."""
    return _read_corpus(source, **{"tokenize": "whitespace", **kwargs})


def docs_of(corpus):
    return list(corpus.documents())


def test_lee_matches_line_split(lee_path, lee_docs):
    c = read_corpus(lee_path)
    assert docs_of(c) == lee_docs
    assert c.n_tokens == sum(map(len, lee_docs))
    assert c.counts.sum() == c.n_tokens
    # counts agree with a Counter
    from collections import Counter

    ref = Counter(t for d in lee_docs for t in d)
    assert {t: int(n) for t, n in zip(c.types, c.counts)} == dict(ref)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1 << 20])
def test_chunk_size_does_not_change_tokens(lee_path, lee_docs, chunk):
    c = read_corpus(lee_path, chunk_bytes=chunk)
    assert docs_of(c) == lee_docs


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz"), (open, ".txt")])
def test_compressed_formats(tmp_path, lee_path, lee_docs, opener, suffix):
    data = lee_path.read_bytes()
    p = tmp_path / f"c{suffix}"
    with opener(p, "wb") as f:
        f.write(data)
    assert docs_of(read_corpus(p, chunk_bytes=1000)) == lee_docs
    # detection is by magic bytes, not by name
    q = tmp_path / "noext"
    q.write_bytes(p.read_bytes())
    assert docs_of(read_corpus(q)) == lee_docs


def test_single_line_text8_style_streams(tmp_path, lee_docs):
    words = [t for d in lee_docs for t in d]
    p = tmp_path / "one.gz"
    with gzip.open(p, "wb") as f:
        f.write(" ".join(words).encode())
    c = read_corpus(p, chunk_bytes=4096)
    assert c.n_docs == 1
    assert docs_of(c) == [words]


def test_folder_sorted_recursive_and_several_paths(tmp_path, lee_docs):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("gamma delta\n")
    (tmp_path / "a.txt").write_text("alpha beta\n")
    (tmp_path / ".hidden").write_text("secret\n")
    assert [p.name for p in resolve_paths(tmp_path)] == ["a.txt", "2.txt"]
    assert docs_of(read_corpus(tmp_path)) == [["alpha", "beta"], ["gamma", "delta"]]
    # several paths: one corpus, each file its own document(s)
    c = read_corpus([tmp_path / "a.txt", tmp_path / "b" / "2.txt"])
    assert docs_of(c) == [["alpha", "beta"], ["gamma", "delta"]]


def test_file_boundaries_are_document_boundaries(tmp_path):
    (tmp_path / "1.txt").write_text("a b")  # no trailing newline
    (tmp_path / "2.txt").write_text("c d")
    assert docs_of(read_corpus(tmp_path)) == [["a", "b"], ["c", "d"]]


def test_iterables_of_token_lists_and_strings(lee_docs):
    assert docs_of(read_corpus(lee_docs)) == lee_docs
    assert docs_of(read_corpus(" ".join(d) for d in lee_docs)) == lee_docs


def test_gensim_text8corpus_iterable(tmp_path, lee_docs):
    from gensim.models.word2vec import Text8Corpus

    words = [t for d in lee_docs for t in d]
    p = tmp_path / "t8"
    p.write_text(" ".join(words))
    c = read_corpus(Text8Corpus(str(p)))
    assert [t for d in docs_of(c) for t in d] == words


def test_lowercase_merges_types():
    c = read_corpus([["The", "cat"], ["the", "CAT", "Ünïcode", "ünïcode"]], lowercase=True)
    assert docs_of(c) == [["the", "cat"], ["the", "cat", "ünïcode", "ünïcode"]]
    assert sorted(zip(c.types, c.counts.tolist())) == [("cat", 2), ("the", 2), ("ünïcode", 2)]


def test_pluggable_tokenizer(tmp_path):
    from nltk.tokenize import wordpunct_tokenize

    p = tmp_path / "t.txt"
    p.write_text("Hello, world! It's here.\nSecond line.\n")
    c = read_corpus(p, tokenizer=wordpunct_tokenize)
    assert docs_of(c) == [["Hello", ",", "world", "!", "It", "'", "s", "here", "."], ["Second", "line", "."]]


def test_invalid_utf8_is_replaced_and_counted(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"caf\xe9 ok \xff\xfe ok\n")
    c = read_corpus(p)
    assert docs_of(c) == [["caf\ufffd", "ok", "\ufffd\ufffd", "ok"]]
    assert c.n_replaced == 3


@pytest.mark.parametrize("content", [b"", b"  \n\t \n"])
def test_empty_or_whitespace_file_is_an_error(tmp_path, content):
    p = tmp_path / "e.txt"
    p.write_bytes(content)
    with pytest.raises(CorpusError, match="e.txt.*no tokens"):
        read_corpus(p)


def test_missing_and_empty_folder(tmp_path):
    with pytest.raises(CorpusError, match="nope.txt: no such file"):
        read_corpus(tmp_path / "nope.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="empty: folder is empty"):
        read_corpus(tmp_path / "empty")


def test_binary_data_is_refused(tmp_path):
    p = tmp_path / "random.bin"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(CorpusError, match="random.bin: looks like binary"):
        read_corpus(p)


def test_truncated_gzip_is_an_error(tmp_path, lee_path):
    p = tmp_path / "t.gz"
    p.write_bytes(gzip.compress(lee_path.read_bytes())[:5000])
    with pytest.raises(CorpusError, match="t.gz: cannot read the gz file"):
        read_corpus(p)


@settings(max_examples=60, deadline=None)
@given(
    text=st.lists(st.sampled_from(["a", "bb", "ccc", "é", " ", "  ", "\n", "\t", "\r\n", "x\x00y"]), max_size=60),
    chunk=st.integers(1, 40),
)
def test_random_text_matches_python_split(tmp_path_factory, text, chunk):
    raw = "".join(text).encode("utf-8")
    p = tmp_path_factory.mktemp("r") / "t.txt"
    p.write_bytes(raw)
    ws = bytes(range(33))
    lines = [line.translate(None, b"") for line in raw.split(b"\n")]
    expected = []
    for line in lines:
        toks = [t.decode() for t in _split_ascii_ws(line, ws) if t]
        if toks:
            expected.append(toks)
    if not expected:
        with pytest.raises(CorpusError):
            read_corpus(p, chunk_bytes=chunk, check_binary=False)
        return
    assert docs_of(read_corpus(p, chunk_bytes=chunk, check_binary=False)) == expected


def _split_ascii_ws(line: bytes, ws: bytes):
    out, cur = [], bytearray()
    for b in line:
        if b in ws:
            out.append(bytes(cur))
            cur = bytearray()
        else:
            cur.append(b)
    out.append(bytes(cur))
    return out


@settings(max_examples=40, deadline=None)
@given(data=st.binary(min_size=0, max_size=3000))
def test_random_bytes_clear_error_or_tokens(tmp_path_factory, data):
    """Arbitrary bytes: either tokens (text-like) or one CorpusError, never a crash or hang."""
    p = tmp_path_factory.mktemp("b") / "r.bin"
    p.write_bytes(data)
    try:
        c = read_corpus(p)
    except CorpusError as exc:
        assert str(p) in str(exc) and "\n" not in str(exc)
    else:
        assert c.n_tokens == sum(len(line.split()) for line in data.split(b"\n"))


@pytest.mark.parametrize("opener", [gzip.open, bz2.open, lzma.open])
@settings(max_examples=15, deadline=None)
@given(cut=st.floats(0.0, 0.999), flip=st.integers(0, 10_000))
def test_truncated_or_corrupt_archives(tmp_path_factory, lee_path, opener, cut, flip):
    """Random truncations and bit flips of compressed files give a clear error or the
    right tokens (a flip inside stored data may go unnoticed by bz2/xz CRCs only when it
    does not change the text)."""
    folder = tmp_path_factory.mktemp("z")
    good = folder / "g"
    with opener(good, "wb") as f:
        f.write(lee_path.read_bytes()[:20000])
    raw = bytearray(good.read_bytes())
    bad = folder / "b"
    if flip % 2:
        raw[flip % len(raw)] ^= 0x41
        bad.write_bytes(bytes(raw))
    else:
        bad.write_bytes(bytes(raw[: int(len(raw) * cut)]))
    expected = read_corpus(good)
    try:
        got = read_corpus(bad)
    except CorpusError as exc:
        assert str(bad) in str(exc)
    else:
        assert list(got.documents()) == list(expected.documents())


def test_prefetching_reader_gives_the_same_corpus(lee_path, tmp_path):
    a = read_corpus(lee_path, chunk_bytes=1000)
    b = read_corpus(lee_path, chunk_bytes=1000, workers=2)
    assert np.array_equal(a.ids, b.ids) and a.types == b.types and np.array_equal(a.doc_starts, b.doc_starts)
    bad = tmp_path / "t.gz"
    bad.write_bytes(gzip.compress(lee_path.read_bytes())[:5000])
    with pytest.raises(CorpusError, match="t.gz: cannot read"):
        read_corpus(bad, workers=2, chunk_bytes=1000)
