"""Stage 2-3: vocabulary and counting against brute force, exactness, additivity, I/O."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import brute_cooccurrence

from pmiembed.cooccur import Cooccurrence, count_cooccurrences, filter_tokens, position_uniforms, window_weights
from pmiembed.corpus import read_corpus
from pmiembed.errors import CorpusError, ParameterError, VectorsError
from pmiembed.vocab import Vocabulary


def as_dict(m: sp.csr_matrix) -> dict:
    m = m.tocoo()
    return {(int(r), int(c)): float(v) for r, c, v in zip(m.row, m.col, m.data)}


def assert_same(m, ref):
    got = as_dict(m)
    assert got.keys() == ref.keys()
    for k, v in ref.items():
        assert got[k] == pytest.approx(v, rel=1e-12), k


def vocab_for(corpus, min_count=1, max_vocab=None):
    return Vocabulary.from_counts(corpus.types, corpus.counts, min_count=min_count, max_vocab=max_vocab,
                                  total=corpus.n_tokens)


def test_vocabulary_order_min_count_max_vocab(lee_path):
    c = read_corpus(lee_path)
    v = vocab_for(c, min_count=5)
    assert all(n >= 5 for n in v.counts)
    # count descending, ties by word
    pairs = list(zip((-v.counts).tolist(), v.words))
    assert pairs == sorted(pairs)
    assert v.words[:3] == ["the", "to", "of"]
    v10 = vocab_for(c, min_count=5, max_vocab=10)
    assert v10.words == v.words[:10]
    with pytest.raises(CorpusError, match="min_count=100000"):
        vocab_for(c, min_count=100000)


def test_vocabulary_save_load(tmp_path, lee_path):
    v = vocab_for(read_corpus(lee_path), min_count=3)
    v.save(tmp_path / "v.tsv")
    w = Vocabulary.load(tmp_path / "v.tsv")
    assert w.words == v.words and np.array_equal(w.counts, v.counts) and w.total == v.total
    (tmp_path / "bad.tsv").write_text("hello\t3\n")
    with pytest.raises(VectorsError, match="bad.tsv: not a pmiembed vocabulary"):
        Vocabulary.load(tmp_path / "bad.tsv")


def test_keep_probability_is_word2vecs():
    v = Vocabulary(["a", "b"], np.array([900, 100]), 1000)
    t = 1e-3
    f = np.array([0.9, 0.1])
    np.testing.assert_allclose(v.keep_probability(t), np.minimum(1, (np.sqrt(f / t) + 1) * t / f))


@pytest.mark.parametrize("weighting", ["dynamic", "uniform", "harmonic", "harmonic2"])
@pytest.mark.parametrize("window", [1, 2, 5])
def test_counts_equal_brute_force_on_real_text(lee_docs, weighting, window):
    docs = lee_docs[:60]
    c = read_corpus(docs)
    v = vocab_for(c, min_count=3)  # some words are dropped before windowing
    co = count_cooccurrences(c, v, window=window, weighting=weighting, chunk_tokens=997, subsample=None,
                             subsample_mode="dirty")
    assert_same(co.matrix(), brute_cooccurrence(docs, v.words, window, weighting))
    assert (co.counts != co.counts.T).nnz == 0


@pytest.mark.parametrize("mode", ["dirty", "clean"])
def test_subsampling_equals_brute_force(lee_docs, mode):
    docs = lee_docs[:80]
    c = read_corpus(docs)
    v = vocab_for(c, min_count=2)
    t, seed = 1e-3, 7
    keep_p = v.keep_probability(t)
    fate = {False: "drop" if mode == "dirty" else "gap", True: "keep"}

    def keep(pos, row):
        return fate[bool(position_uniforms(seed, pos, 1)[0] < keep_p[row])]

    co = count_cooccurrences(c, v, window=3, subsample=t, subsample_mode=mode, seed=seed, chunk_tokens=501,
                             weighting="dynamic")
    assert_same(co.matrix(), brute_cooccurrence(docs, v.words, 3, "dynamic", keep))
    # subsampling really removed something
    full = count_cooccurrences(c, v, window=3, weighting="dynamic", subsample=None, subsample_mode="dirty")
    assert co.matrix().sum() < 0.9 * full.matrix().sum()


def test_subsampling_depends_on_seed(lee_docs):
    c = read_corpus(lee_docs[:50])
    v = vocab_for(c)
    a = count_cooccurrences(c, v, subsample=1e-3, seed=1, window=2, weighting="dynamic", subsample_mode="dirty").counts
    b = count_cooccurrences(c, v, subsample=1e-3, seed=2, window=2, weighting="dynamic", subsample_mode="dirty").counts
    assert (a != b).nnz > 0


@pytest.mark.parametrize("n_docs,chunks", [(40, (1, 2, 13)), (300, (977, 4096, 30011))])
def test_chunk_sizes_give_identical_bits(lee_docs, n_docs, chunks):
    c = read_corpus(lee_docs[:n_docs])
    v = vocab_for(c, min_count=2)
    ref = count_cooccurrences(c, v, window=4, weighting="harmonic", subsample=1e-4, seed=3, subsample_mode="dirty")
    for chunk in chunks:
        other = count_cooccurrences(c, v, window=4, weighting="harmonic", subsample=1e-4, seed=3, chunk_tokens=chunk,
                                    subsample_mode="dirty")
        assert other.counts.dtype == np.int64
        assert (other.counts != ref.counts).nnz == 0
        assert np.array_equal(other.counts.indptr, ref.counts.indptr)


@pytest.mark.parametrize("mode", ["dirty", "clean"])
def test_document_separators_do_not_depend_on_chunks(lee_docs, mode):
    # documents are kept apart by `gap` -1 separators (no per-token document ids)
    docs = lee_docs[:120] + [[]] + lee_docs[120:140]
    c = read_corpus(docs)
    v = vocab_for(c, min_count=2)
    ref, ref_starts = filter_tokens(c, v, subsample=1e-3, subsample_mode=mode, seed=1, gap=5)
    for chunk in (1, 7, 1000):
        x, starts = filter_tokens(c, v, subsample=1e-3, subsample_mode=mode, seed=1, gap=5, chunk_tokens=chunk)
        assert np.array_equal(x, ref) and np.array_equal(starts, ref_starts)
    plain, plain_starts = filter_tokens(c, v, subsample=1e-3, subsample_mode=mode, seed=1)
    assert len(c.doc_starts) == 139 and len(ref) == len(plain) + 5 * 139  # the empty document has no start
    assert all((ref[s - 5:s] == -1).all() for s in ref_starts)
    assert np.array_equal(ref[ref >= 0], plain[plain >= 0])


def test_counts_are_additive(lee_docs):
    a_docs, b_docs = lee_docs[:150], lee_docs[150:]
    whole = read_corpus(lee_docs)
    v = vocab_for(whole, min_count=3)
    total = count_cooccurrences(whole, v, window=5, weighting="dynamic", subsample=None, subsample_mode="dirty")
    old = dict(window=5, weighting="dynamic", subsample=None, subsample_mode="dirty")  # the stages' former defaults
    parts = count_cooccurrences(read_corpus(a_docs), v, **old) + count_cooccurrences(read_corpus(b_docs), v, **old)
    assert (parts.counts != total.counts).nnz == 0
    assert parts.params["n_tokens"] == total.params["n_tokens"]
    with pytest.raises(ParameterError, match="different parameters"):
        count_cooccurrences(whole, v, **old) + count_cooccurrences(whole, v, **dict(old, window=2))


def test_spill_to_disk_gives_identical_counts(lee_path, tmp_path):
    c = read_corpus(lee_path)
    v = vocab_for(c, min_count=2)
    ref = count_cooccurrences(c, v, window=5, weighting="dynamic", subsample=None, subsample_mode="dirty")
    spilled = count_cooccurrences(c, v, window=5, chunk_tokens=2000, memory_bytes=200_000, tmp_dir=tmp_path,
                                  weighting="dynamic", subsample=None, subsample_mode="dirty")
    assert (spilled.counts != ref.counts).nnz == 0
    assert list(tmp_path.iterdir()) == []  # spill files cleaned up


@pytest.mark.parametrize("budget", [150_000, 2_000_000])
def test_row_blocks_spilled_to_disk_give_identical_counts(lee_path, tmp_path, monkeypatch, budget):
    # the default budgeted path: all centres at once, finished row blocks spilled
    import pmiembed.cooccur as cooccur

    c = read_corpus(lee_path)
    v = vocab_for(c, min_count=2)
    ref = count_cooccurrences(c, v, window=5, weighting="harmonic", subsample=1e-3, seed=4, subsample_mode="dirty")
    spills = []
    real_spill = cooccur.RowBlocks._spill
    monkeypatch.setattr(cooccur.RowBlocks, "_spill", lambda self: (spills.append(1), real_spill(self)))
    original = cooccur.row_batches
    monkeypatch.setattr(cooccur, "row_batches", lambda *a, **k: original(*a, **{**k, "batch_entries": 5000}))
    got = count_cooccurrences(c, v, window=5, weighting="harmonic", subsample=1e-3, seed=4,
                              memory_bytes=budget, tmp_dir=tmp_path, subsample_mode="dirty")
    assert len(spills) > (5 if budget < 1_000_000 else 0)
    assert np.array_equal(got.counts.indptr, ref.counts.indptr)
    assert np.array_equal(got.counts.indices, ref.counts.indices) and np.array_equal(got.counts.data, ref.counts.data)
    assert list(tmp_path.iterdir()) == []  # spill files cleaned up


def test_pmi_from_spilled_rows_equals_pmi_of_the_matrix(lee_path, tmp_path, monkeypatch):
    # fit(keep_counts=False) computes PMI from the row blocks without the count matrix
    import pmiembed.cooccur as cooccur
    from pmiembed.cooccur import counting
    from pmiembed.pmi import pmi_from_rows, pmi_matrix

    c = read_corpus(lee_path)
    v = vocab_for(c, min_count=3)
    ref = count_cooccurrences(c, v, window=4, weighting="harmonic2", subsample=1e-3, subsample_mode="dirty")
    original = cooccur.row_batches
    monkeypatch.setattr(cooccur, "row_batches", lambda *a, **k: original(*a, **{**k, "batch_entries": 3000}))
    for cds, neg in [(1.0, 1.0), (0.75, 5.0)]:
        with counting(c, v, window=4, weighting="harmonic2", subsample=1e-3, memory_bytes=300_000,
                      tmp_dir=tmp_path, subsample_mode="dirty") as counted:
            assert len(counted.rows.files) > 3
            got = pmi_from_rows(counted.rows, cds=cds, neg=neg)
        want = pmi_matrix(ref.counts, cds=cds, neg=neg)
        assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
        assert np.array_equal(got.data, want.data)
    assert list(tmp_path.iterdir()) == []


def test_save_load_roundtrip_and_damage(tmp_path, lee_path):
    c = read_corpus(lee_path)
    co = count_cooccurrences(c, vocab_for(c, min_count=3), window=3, weighting="dynamic", subsample=None,
                             subsample_mode="dirty")
    co.save(tmp_path / "c.npz")
    back = Cooccurrence.load(tmp_path / "c.npz")
    assert (back.counts != co.counts).nnz == 0 and back.vocab.words == co.vocab.words
    assert back.params == co.params and back.scale == co.scale
    raw = bytearray((tmp_path / "c.npz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "d.npz").write_bytes(bytes(raw))
    with pytest.raises(VectorsError, match="d.npz"):
        Cooccurrence.load(tmp_path / "d.npz")
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    with pytest.raises(VectorsError, match="x.npz: not a readable"):
        Cooccurrence.load(tmp_path / "x.npz")


def test_window_weights_are_exact_integers():
    w, s = window_weights(4, "harmonic")
    assert s == 12 and w.tolist() == [12, 6, 4, 3]
    w, s = window_weights(3, "dynamic")
    assert s == 3 and w.tolist() == [3, 2, 1]
    w, s = window_weights(4, "harmonic2")
    assert s == 144 and w.tolist() == [144, 36, 16, 9]
    with pytest.raises(ParameterError, match="window=13 is too large for harmonic2 weighting"):
        window_weights(13, "harmonic2")
    with pytest.raises(ParameterError, match="window=0"):
        window_weights(0, "uniform")
    with pytest.raises(ParameterError, match="weighting='gauss'"):
        window_weights(2, "gauss")


@settings(max_examples=40, deadline=None)
@given(
    docs=st.lists(st.lists(st.sampled_from("abcdefg"), max_size=12), min_size=1, max_size=8),
    window=st.integers(1, 6),
    weighting=st.sampled_from(["dynamic", "uniform", "harmonic", "harmonic2"]),
    chunk=st.integers(1, 30),
)
def test_random_corpora_equal_brute_force(docs, window, weighting, chunk):
    if not any(docs):
        return
    c = read_corpus(docs)
    v = vocab_for(c)
    co = count_cooccurrences(c, v, window=window, weighting=weighting, chunk_tokens=chunk, subsample=None,
                             subsample_mode="dirty")
    assert_same(co.matrix(), brute_cooccurrence(docs, v.words, window, weighting))


def _fates(mode, v, t, seed):
    """brute_cooccurrence's ``keep`` for a subsampling mode: the same per-position draw
    as the counter, a dropped token removed (dirty) or leaving a gap (clean)."""
    if mode in ("none", "expected"):
        return None  # expected mode counts every token; the weights come at the PMI stage
    keep_p = v.keep_probability(t)
    gone = "drop" if mode == "dirty" else "gap"
    return lambda pos, row: "keep" if position_uniforms(seed, pos, 1)[0] < keep_p[row] else gone


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(st.lists(st.sampled_from("abcdefghij"), max_size=14), min_size=1, max_size=8),
    window=st.integers(1, 6),
    weighting=st.sampled_from(["dynamic", "uniform", "harmonic", "harmonic2"]),
    min_count=st.integers(1, 4),
    mode=st.sampled_from(["none", "dirty", "clean", "expected"]),
    t=st.sampled_from([1e-3, 0.05, 0.2]),
    seed=st.integers(0, 3),
    chunk=st.integers(1, 30),
)
def test_random_corpora_with_min_count_and_subsampling_equal_brute_force(docs, window, weighting, min_count, mode,
                                                                          t, seed, chunk):
    """Words below ``min_count`` are removed before windowing (their neighbours become
    adjacent); subsampling draws per corpus position (every token counts, known or not);
    "expected" counts every token and weights each pair by k_w k_c at the PMI stage, so
    its PMI is the textbook PMI of the weighted brute-force counts."""
    from hypothesis import assume
    from reference import brute_pmi

    from pmiembed.pmi import pmi_matrix

    c = read_corpus(docs) if any(docs) else None
    assume(c is not None and int((c.counts >= min_count).sum()) > 0)
    v = vocab_for(c, min_count=min_count)
    sub = None if mode == "none" else t
    co = count_cooccurrences(c, v, window=window, weighting=weighting, subsample=sub,
                             subsample_mode="dirty" if mode == "none" else mode, seed=seed, chunk_tokens=chunk)
    ref = brute_cooccurrence(docs, v.words, window, weighting, _fates(mode, v, t, seed))
    assert_same(co.matrix(), ref)
    if mode != "expected":
        assert co.keep is None
        return
    k = v.keep_probability(t)
    assert np.array_equal(co.keep, k)
    if not ref:  # no pair inside a window: nothing to weight, and PMI says so
        with pytest.raises(ParameterError, match="co-occurrence matrix is empty"):
            pmi_matrix(co.counts, cds=1.0, keep=co.keep, dtype=np.float64)
        return
    weighted = {(a, b): x * k[a] * k[b] for (a, b), x in ref.items()}
    want = brute_pmi(weighted, None, cds=1.0)
    got = as_dict(pmi_matrix(co.counts, cds=1.0, keep=co.keep, dtype=np.float64))
    # a PMI of exactly 0 can come out as +-1 ulp in either computation (kept by one
    # positive part, dropped by the other): such a pair must be 0 within the values' tolerance
    for key in got.keys() ^ want.keys():
        assert abs(got.get(key, 0.0)) <= 1e-9 and abs(want.get(key, 0.0)) <= 1e-9, key
    for key, x in want.items():
        assert got.get(key, 0.0) == pytest.approx(x, rel=1e-9, abs=1e-9), key


@settings(max_examples=40, deadline=None)
@given(
    docs=st.lists(st.lists(st.sampled_from("abcdefg"), max_size=12), min_size=2, max_size=10),
    cut=st.integers(1, 9),
    window=st.integers(1, 5),
    weighting=st.sampled_from(["dynamic", "uniform", "harmonic", "harmonic2"]),
    min_count=st.integers(1, 3),
    mode=st.sampled_from(["none", "expected"]),
)
def test_counts_of_two_parts_add_up_to_the_whole(docs, cut, window, weighting, min_count, mode):
    """Additivity: counts of two halves of a corpus (documents split anywhere, one
    vocabulary) sum to the counts of the whole, bit for bit.  Only modes without a
    per-position draw are additive (the draw depends on the corpus position)."""
    from hypothesis import assume

    cut = min(cut, len(docs) - 1)
    a_docs, b_docs = docs[:cut], docs[cut:]
    assume(any(a_docs) and any(b_docs))
    whole = read_corpus(docs)
    assume(int((whole.counts >= min_count).sum()) > 0)
    v = vocab_for(whole, min_count=min_count)
    kw = dict(window=window, weighting=weighting, subsample=None if mode == "none" else 0.05,
              subsample_mode="dirty" if mode == "none" else mode)
    total = count_cooccurrences(whole, v, **kw)
    parts = count_cooccurrences(read_corpus(a_docs), v, **kw) + count_cooccurrences(read_corpus(b_docs), v, **kw)
    assert (parts.counts != total.counts).nnz == 0
    assert parts.params["n_tokens"] == total.params["n_tokens"] == sum(len(d) for d in docs)
