"""Tests for pmiembed.word2vec: the chunked corpus reader and the gensim skip-gram wrapper
(trained for real on gensim's bundled Lee corpus, a few tenths of a second)."""

from __future__ import annotations

import bz2
import gzip
from collections import Counter

import numpy as np
import pytest

from pmiembed.errors import CorpusError, ParameterError
from pmiembed.word2vec import ChunkedSentences, peak_rss_bytes, train_word2vec

# the wrapper against gensim on LineSentence: whitespace tokens as they are
LEE_PARAMS = dict(dim=50, epochs=2, workers=1, seed=1, tokenize="whitespace")


def _lee_path() -> str:
    from gensim.test.utils import datapath

    return datapath("lee_background.cor")


@pytest.fixture(scope="module")
def lee():
    return train_word2vec(_lee_path(), progress=False, **LEE_PARAMS)


# --------------------------------------------------------------------------- reader


def _words(rng: np.random.Generator, n: int) -> list[str]:
    """Real-looking tokens of varied length, some multi-byte UTF-8."""
    vocab = ["the", "of", "anarchism", "a", "x", "café", "naïve", "日本語", "zürich", "ab" * 40, "one", "nine"]
    return [vocab[i] for i in rng.integers(0, len(vocab), size=n)]


@pytest.fixture(scope="module")
def text8_gz(tmp_path_factory):
    """A text8-style gzipped file: ONE line, no trailing newline, single spaces."""
    rng = np.random.default_rng(0)
    tokens = _words(rng, 25_000)
    path = tmp_path_factory.mktemp("corpus") / "tiny8.txt.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(" ".join(tokens).encode("utf-8"))
    return path, tokens


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 7, 64, 4096, 1 << 20])
def test_chunked_reader_yields_exactly_the_tokens_of_a_one_line_gz_file(text8_gz, chunk_size):
    path, tokens = text8_gz
    plain = gzip.open(path, "rb").read().decode("utf-8").split()
    assert plain == tokens
    sentences = list(ChunkedSentences(path, chunk_size=chunk_size))
    assert [len(s) for s in sentences] == [10_000, 10_000, 5_000]
    assert [w for s in sentences for w in s] == plain


@pytest.mark.parametrize("chunk_size", [1, 3, 8, 1 << 20])
@pytest.mark.parametrize("max_len", [3, 10_000])
def test_chunked_reader_keeps_line_sentence_semantics(tmp_path, chunk_size, max_len):
    from gensim.models.word2vec import LineSentence

    rng = np.random.default_rng(1)
    lines = []
    for i in range(60):
        words = _words(rng, int(rng.integers(0, 12)))
        sep = ["  ", "\t", " "][i % 3]
        lines.append(sep.join(words) + (" " if i % 4 == 0 else ""))
    text = "\r\n".join(lines[:30]) + "\n" + "\n".join(lines[30:]) + "\n\n"  # CRLF, blank lines
    plain = tmp_path / "lines.txt"
    plain.write_bytes(text.encode("utf-8"))
    bz = tmp_path / "lines.txt.bz2"
    bz.write_bytes(bz2.compress(text.encode("utf-8")))
    expected = list(LineSentence(str(plain), max_sentence_length=max_len))
    assert any(len(s) == max_len for s in expected) or max_len > 12
    for path in (plain, bz):
        got = list(ChunkedSentences(path, max_sentence_length=max_len, chunk_size=chunk_size))
        assert got == expected


def test_chunked_reader_is_restartable_and_takes_several_files_or_a_directory(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b.txt").write_text("three four\n")
    with gzip.open(tmp_path / "d" / "a.txt.gz", "wt") as fh:
        fh.write("one two")
    (tmp_path / "d" / ".hidden").write_text("not me\n")
    corpus = ChunkedSentences(tmp_path / "d")
    assert list(corpus) == [["one", "two"], ["three", "four"]]
    assert list(corpus) == list(corpus)  # a second pass gives the same sentences
    both = ChunkedSentences([tmp_path / "d" / "b.txt", tmp_path / "d" / "a.txt.gz"])
    assert list(both) == [["three", "four"], ["one", "two"]]


def test_chunked_reader_errors_name_the_file(tmp_path):
    with pytest.raises(CorpusError, match="missing.txt"):
        ChunkedSentences(tmp_path / "missing.txt")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("ok words here caf\xe9 more".encode("latin-1"))
    # undecodable bytes are replaced, as pmiembed's reader replaces them (test_text_files)
    assert list(ChunkedSentences(bad, chunk_size=4)) == [["ok", "words", "here", "caf\ufffd", "more"]]
    truncated = tmp_path / "cut.txt.gz"
    truncated.write_bytes(gzip.compress(b"some words " * 1000)[:-20])
    with pytest.raises(CorpusError, match="cut.txt.gz"):
        list(ChunkedSentences(truncated))
    with pytest.raises(ParameterError):
        ChunkedSentences(bad, chunk_size=0)


# --------------------------------------------------------------------------- training


def test_vocabulary_shapes_and_order_match_the_corpus(lee):
    from gensim.models.word2vec import LineSentence

    kv, info = lee
    counts = Counter(w for s in LineSentence(_lee_path()) for w in s)
    frequent = {w for w, n in counts.items() if n >= 5}
    assert set(kv.index_to_key) == frequent and len(kv) == info["vocab_size"] == len(frequent)
    assert kv.vectors.shape == (len(frequent), 50) and kv.vectors.dtype == np.float32
    assert np.isfinite(kv.vectors).all()
    stored = [kv.get_vecattr(w, "count") for w in kv.index_to_key]
    assert stored == [counts[w] for w in kv.index_to_key]
    assert all(x >= y for x, y in zip(stored, stored[1:]))  # descending frequency
    assert kv.index_to_key[0] == "the"


@pytest.mark.parametrize("tokenize", ["words", "nltk"])
def test_text_files_are_read_as_pmiembed_reads_them(tokenize):
    """By default both models of a comparison see the same tokens of a text file: the
    baseline's vocabulary and counts are pmiembed's (``tokenize`` words by default,
    lowercased), not the raw whitespace tokens (``The``, ``said.``)."""
    from pmiembed.corpus import read_corpus
    from pmiembed.vocab import Vocabulary

    kw = {} if tokenize == "words" else {"tokenize": tokenize}
    kv, info = train_word2vec(_lee_path(), dim=8, epochs=1, workers=1, progress=False, **kw)
    c = read_corpus(_lee_path(), **kw)
    v = Vocabulary.from_counts(c.types, c.counts, min_count=5, total=c.n_tokens)
    # the same words with the same counts (words of equal count may come in another order)
    assert {w: kv.get_vecattr(w, "count") for w in kv.index_to_key} == dict(zip(v.words, v.counts.tolist()))
    assert info["corpus_tokens"] == c.n_tokens
    assert (info["params"]["tokenize"], info["params"]["lowercase"]) == (tokenize, True)
    assert "The" not in kv.key_to_index and "said." not in kv.key_to_index and "said" in kv.key_to_index


def test_info_fields(lee):
    import gensim

    kv, info = lee
    assert info["gensim_version"] == gensim.__version__
    assert info["corpus_sentences"] == 300
    assert info["corpus"] == _lee_path()
    params = info["params"]
    names = ("dim", "window", "negative", "sample", "epochs", "min_count", "workers", "seed")
    assert {k: params[k] for k in names} == {
        "dim": 50, "window": 5, "negative": 5, "sample": 1e-4, "epochs": 2, "min_count": 5, "workers": 1, "seed": 1
    }
    assert params["sg"] == 1 and params["hs"] == 0
    assert (params["tokenize"], params["lowercase"]) == ("whitespace", False)
    # sub-sampling with sample=1e-4 keeps each token of word w with word2vec's probability
    # k_w: over the epochs, effective_words is epochs * sum_w count_w k_w (the draw's spread
    # on 2 x 60k tokens is a fraction of a percent); without sub-sampling it would be 2.4x that
    from pmiembed.corpus import read_corpus
    from pmiembed.vocab import Vocabulary

    c = read_corpus(_lee_path(), tokenize="whitespace")
    assert info["corpus_tokens"] == c.n_tokens
    v = Vocabulary.from_counts(c.types, c.counts, min_count=5, total=c.n_tokens)
    assert sorted(v.words) == sorted(kv.index_to_key)
    expected = 2 * float((v.counts * v.keep_probability(1e-4)).sum())
    assert info["effective_words"] == pytest.approx(expected, rel=0.02)
    assert expected < 0.5 * 2 * v.counts.sum()  # so the check above tells sub-sampling from none
    for key in ("vocab_seconds", "train_seconds", "total_seconds"):
        assert 0 < info[key] < 120
    assert info["total_seconds"] == pytest.approx(info["vocab_seconds"] + info["train_seconds"])
    assert 20 * 2**20 < info["peak_rss_bytes"] <= peak_rss_bytes()


def test_same_vectors_as_gensim_word2vec_called_directly(lee):
    """workers=1 is deterministic: our wrapper (chunked reader, progress wrapper) trains
    exactly what gensim trains on LineSentence with the same parameters."""
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    kv, _ = lee
    direct = Word2Vec(
        LineSentence(_lee_path()), vector_size=50, window=5, negative=5, sample=1e-4, epochs=2,
        min_count=5, workers=1, seed=1, sg=1, hs=0,
    ).wv
    assert direct.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(direct.vectors, kv.vectors)


def test_default_workers_is_cpu_count(monkeypatch):
    import os

    sentences = [["a", "b", "c"]] * 20
    _, info = train_word2vec(sentences, dim=4, epochs=1, min_count=1, workers=None, progress=False)
    assert info["params"]["workers"] == (os.cpu_count() or 1)
    assert info["corpus"] == "<list>"


def test_neighbours_follow_topics():
    """A robust neighbour relation: words that only ever co-occur within their own topic
    have their nearest neighbours in that topic."""
    rng = np.random.default_rng(0)
    topics = [[f"{t}{i}" for i in range(12)] for t in ("sea", "sky")]
    corpus = [list(rng.choice(topics[k % 2], size=10)) for k in range(2000)]
    kv, info = train_word2vec(corpus, dim=20, epochs=5, min_count=1, sample=0, workers=1, progress=False)
    assert info["corpus_tokens"] == 20_000 and len(kv) == 24
    for topic in topics:
        for word in topic:
            neighbours = [w for w, _ in kv.most_similar(word, topn=5)]
            assert all(n in topic for n in neighbours), (word, neighbours)


def test_bad_corpus_and_parameters():
    with pytest.raises(ParameterError, match="one-shot"):
        train_word2vec((["a", "b"] for _ in range(3)), progress=False)
    with pytest.raises(ParameterError, match="dim"):
        train_word2vec([["a"]], dim=0, progress=False)
    with pytest.raises(ParameterError, match="sample"):
        train_word2vec([["a"]], sample=2.0, progress=False)
    with pytest.raises(ParameterError, match="workers"):
        train_word2vec([["a"]], workers=0, progress=False)
    with pytest.raises(CorpusError, match="min_count=5"):
        train_word2vec([["a", "b"]] * 2, progress=False)
    with pytest.raises(CorpusError, match="no tokens"):
        train_word2vec([[]], progress=False)
    with pytest.raises(CorpusError, match="nope.txt"):
        train_word2vec("/nonexistent/nope.txt", progress=False)
