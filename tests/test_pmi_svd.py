"""Stages 4-5: PMI by hand and by brute force; SVD against a dense SVD."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from reference import brute_pmi

from pmiembed.cooccur import count_cooccurrences
from pmiembed.corpus import read_corpus
from pmiembed.errors import ParameterError
from pmiembed.pmi import pmi_matrix
from pmiembed.svd import truncated_svd, word_vectors
from pmiembed.vocab import Vocabulary


def test_pmi_hand_example():
    # counts #(w, c) for 2 words x 2 contexts
    #        c0  c1
    #  w0     2   1
    #  w1     0   3
    counts = sp.csr_matrix(np.array([[2.0, 1.0], [0.0, 3.0]]))
    # no smoothing: D = 6, #w0 = 3, #w1 = 3, #c0 = 2, #c1 = 4
    # PMI(w0,c0) = log(2*6/(3*2)) = log 2; PMI(w0,c1) = log(1*6/(3*4)) = log 0.5 < 0
    # PMI(w1,c1) = log(3*6/(3*4)) = log 1.5
    p = pmi_matrix(counts, cds=1.0, positive=False, dtype=np.float64).toarray()
    np.testing.assert_allclose(p, [[math.log(2), math.log(0.5)], [0, math.log(1.5)]])
    pp = pmi_matrix(counts, cds=1.0, dtype=np.float64)
    assert pp.nnz == 2
    np.testing.assert_allclose(pp.toarray(), [[math.log(2), 0], [0, math.log(1.5)]])
    # cds 0.5: P_a(c0) = sqrt2/(sqrt2+2), P_a(c1) = 2/(sqrt2+2)
    pa0, pa1 = math.sqrt(2) / (math.sqrt(2) + 2), 2 / (math.sqrt(2) + 2)
    p = pmi_matrix(counts, cds=0.5, positive=False, dtype=np.float64).toarray()
    np.testing.assert_allclose(p, [[math.log((2 / 6) / (0.5 * pa0)), math.log((1 / 6) / (0.5 * pa1))],
                                   [0, math.log((3 / 6) / (0.5 * pa1))]])
    # shift log 2: SPPMI keeps only PMI > log 2
    sp2 = pmi_matrix(counts, cds=1.0, neg=2, dtype=np.float64)
    assert sp2.nnz == 0 or np.all(sp2.data > 0)
    np.testing.assert_allclose(sp2.toarray(), [[0, 0], [0, 0]], atol=1e-12)


@pytest.mark.parametrize("cds,neg,positive", [(0.75, 1, True), (1.0, 5, True), (0.75, 1, False)])
def test_pmi_equals_brute_force_on_real_counts(lee_docs, cds, neg, positive):
    c = read_corpus(lee_docs[:100])
    v = Vocabulary.from_counts(c.types, c.counts, min_count=2)
    co = count_cooccurrences(c, v, window=2, weighting="dynamic", subsample=None, subsample_mode="dirty")
    m = co.matrix()
    ref = brute_pmi({(int(a), int(b)): float(x) for a, b, x in zip(*sp.find(m))}, len(v), cds, neg, positive)
    got = pmi_matrix(m, cds=cds, neg=neg, positive=positive, dtype=np.float64)
    got_d = {(int(a), int(b)): float(x) for a, b, x in zip(*sp.find(got))}
    assert got_d.keys() == {k for k, x in ref.items() if x != 0}
    for k, x in got_d.items():
        assert x == pytest.approx(ref[k], rel=1e-9, abs=1e-12)
    if positive:
        # symmetric counts give a symmetric PMI only without smoothing
        if cds == 1.0:
            assert abs(got - got.T).max() < 1e-12


def test_pmi_parameters_validated():
    m = sp.csr_matrix(np.eye(3))
    for kw, name in [({"cds": 0}, "cds=0"), ({"cds": 1.5}, "cds=1.5"), ({"neg": 0.5}, "neg=0.5")]:
        with pytest.raises(ParameterError, match=name):
            pmi_matrix(m, **kw)


@pytest.mark.parametrize("backend", ["randomized", "sklearn", "arpack"])
def test_svd_matches_dense(backend):
    rng = np.random.default_rng(0)
    # a low-rank-plus-noise sparse matrix with a clear spectral gap
    a = rng.standard_normal((200, 8)) @ np.diag([50, 40, 30, 20, 15, 12, 10, 9]) @ rng.standard_normal((8, 150))
    a += 0.1 * rng.standard_normal((200, 150))
    m = sp.csr_matrix(a)
    u, s, vt = truncated_svd(m, 8, backend=backend, n_iter=7, seed=1, n_oversamples=20)
    U, S, VT = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(s, S[:8], rtol=1e-6)
    # same subspaces, same vectors up to sign
    for i in range(8):
        assert abs(abs(u[:, i] @ U[:, i]) - 1) < 1e-6
        assert abs(abs(vt[i] @ VT[i]) - 1) < 1e-6
    # deterministic
    u2, s2, vt2 = truncated_svd(m, 8, backend=backend, n_iter=7, seed=1, n_oversamples=20)
    assert np.array_equal(u, u2) and np.array_equal(s, s2)


def test_eigenvalue_weighting_and_wc():
    rng = np.random.default_rng(1)
    u, _ = np.linalg.qr(rng.standard_normal((30, 4)))
    v, _ = np.linalg.qr(rng.standard_normal((30, 4)))
    s = np.array([4.0, 3.0, 2.0, 1.0])
    np.testing.assert_allclose(word_vectors(u, s, v.T, eig=0.5, abtt=None), u * np.sqrt(s), rtol=1e-6)
    np.testing.assert_allclose(word_vectors(u, s, v.T, eig=0, abtt=None), u, rtol=1e-6)
    wc = word_vectors(u, s, v.T, eig=1, wc=True, abtt=None)
    w = u * s
    c = v * s
    ref = w / np.linalg.norm(w, axis=1, keepdims=True) + c / np.linalg.norm(c, axis=1, keepdims=True)
    np.testing.assert_allclose(wc, ref, rtol=1e-5)
    with pytest.raises(ParameterError, match="eig=2"):
        word_vectors(u, s, v.T, eig=2, abtt=None)


def test_dim_must_be_below_vocabulary():
    with pytest.raises(ParameterError, match="dim=10 must be smaller than the vocabulary size"):
        truncated_svd(sp.csr_matrix(np.eye(10)), 10, n_iter=5, n_oversamples=20)


def test_symmetric_ppmi_uses_chebyshev_route_accurately(lee_docs):
    """Default PPMI (cds = 1) of real counts is bitwise symmetric, so the SVD takes the
    symmetric (Chebyshev-filtered) route; its singular values match a dense SVD and the
    result does not depend on the number of threads."""
    from pmiembed.svd import is_symmetric

    c = read_corpus(lee_docs)
    v = Vocabulary.from_counts(c.types, c.counts, min_count=3)
    co = count_cooccurrences(c, v, window=5, weighting="harmonic", subsample=None, subsample_mode="dirty")
    p = pmi_matrix(co.counts, cds=1.0)
    assert is_symmetric(p)
    assert not is_symmetric(pmi_matrix(co.counts, cds=0.75))
    dense_s = np.linalg.svd(p.toarray().astype(np.float64), compute_uv=False)
    u, s, vt = truncated_svd(p, 40, n_iter=5, seed=0, workers=2, n_oversamples=20)
    np.testing.assert_allclose(s[:10], dense_s[:10], rtol=1e-4)
    assert np.all(np.abs(s - dense_s[:40]) / dense_s[:40] < 0.02)
    np.testing.assert_allclose(u.T @ u, np.eye(40), atol=1e-4)
    u1, s1, vt1 = truncated_svd(p, 40, n_iter=5, seed=0, workers=1, n_oversamples=20)
    assert np.array_equal(u, u1) and np.array_equal(s, s1) and np.array_equal(vt, vt1)


def test_is_symmetric_agrees_with_the_transpose(lee_docs):
    """The mirror-lookup kernel against ``a == a.T`` on real PPMI and on changes that
    keep every row and column count (so the cheap count test cannot decide): one value
    changed, one entry moved to a column whose mirror is missing."""
    from pmiembed.svd import is_symmetric

    def reference(m):
        return (abs(m - m.T) > 0).nnz == 0

    c = read_corpus(lee_docs)
    v = Vocabulary.from_counts(c.types, c.counts, min_count=3)
    p = pmi_matrix(count_cooccurrences(c, v, window=5, weighting="harmonic", subsample=None,
                                       subsample_mode="dirty").counts, cds=1.0).tocsr()
    assert is_symmetric(p) and reference(p)
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = p.copy()
        k = int(rng.integers(q.nnz))
        q.data[k] = np.nextafter(q.data[k], np.float32(np.inf))
        assert not is_symmetric(q) and not reference(q)
    # swap the columns of two entries in different rows: counts per row/column unchanged
    d = p.toarray()
    i, j = np.argwhere(np.triu(d, 1) > 0)[0]
    k, m = [x for x in np.argwhere(np.triu(d, 1) > 0)
            if x[0] != i and x[1] != j and d[i, x[1]] == 0 and d[x[0], j] == 0][0]
    for a, b in ((i, j), (k, m)):
        d[a, b] = d[b, a] = 0
    d[i, m] = d[m, i] = d[k, j] = d[j, k] = 1.0
    d[i, m] = 2.0  # (i, m) and (m, i) now differ, counts unchanged
    q = sp.csr_matrix(d)
    assert not is_symmetric(q) and not reference(q)
    assert not is_symmetric(sp.csr_matrix(np.triu(np.ones((4, 4)))))


def test_oversampling_converges_the_last_dimensions(lee_docs):
    """The lever the model exposes as ``oversamples``: with the same number of products,
    a wider block gets the trailing singular values of real PPMI closer to the exact
    ones (they converge at the rate of s_dim / s_(dim + oversamples))."""
    c = read_corpus(lee_docs)
    v = Vocabulary.from_counts(c.types, c.counts, min_count=3)
    p = pmi_matrix(count_cooccurrences(c, v, window=5, weighting="harmonic", subsample=None,
                                       subsample_mode="dirty").counts, cds=1.0)
    exact = np.linalg.svd(p.toarray().astype(np.float64), compute_uv=False)[:50]
    errors = []
    for over in (0, 20, 100):
        _, s, _ = truncated_svd(p, 50, n_iter=1, n_oversamples=over, seed=0)
        errors.append(np.abs(s[40:50] / exact[40:50] - 1).max())
    assert errors[0] > errors[1] > errors[2]


def test_oversamples_parameter_is_validated_and_used():
    from pmiembed.model import PMIEmbedding

    with pytest.raises(ParameterError, match="oversamples=-1 must be an integer >= 0"):
        PMIEmbedding(oversamples=-1)._validate()
    assert PMIEmbedding(oversamples=140).get_params()["oversamples"] == 140


def _lee_ppmi(lee_docs, min_count=3):
    c = read_corpus(lee_docs)
    v = Vocabulary.from_counts(c.types, c.counts, min_count=min_count)
    return pmi_matrix(count_cooccurrences(c, v, window=5, weighting="harmonic", subsample=None,
                                          subsample_mode="dirty").counts, cds=1.0), v


@pytest.mark.parametrize("copy", [True, False])
def test_blocked_product_matches_scipy_on_real_ppmi(lee_docs, copy):
    """The SVD's sparse product kernel (column blocks, eight nonzeros at a time, the rest
    one by one) against scipy on real PPMI, whose rows have from one to hundreds of
    entries; ``alpha``/``beta`` as the Chebyshev recurrence uses them; same bits on 1
    and 2 numba threads."""
    import numba

    from pmiembed.svd import _BlockedCSR

    p, _ = _lee_ppmi(lee_docs, min_count=2)
    lengths = np.diff(p.indptr)
    assert lengths.min() < 8 and (lengths % 8 != 0).any() and lengths.max() > 100
    rng = np.random.default_rng(0)
    x = rng.standard_normal((p.shape[1], 37)).astype(np.float32)
    y0 = rng.standard_normal((p.shape[0], 37)).astype(np.float32)
    op = _BlockedCSR(p, 37, cache_bytes=4096, copy=copy)  # small cache: many column blocks
    assert len(op.bounds) > 3
    ref = (p.astype(np.float64) @ x.astype(np.float64))
    np.testing.assert_allclose(op.matmul(x), ref, rtol=1e-4, atol=1e-4)
    outs = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        try:
            out = y0.copy()
            outs.append(op.matmul(x, out=out, alpha=0.5, beta=-1.0))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_allclose(outs[0], 0.5 * ref - y0, rtol=1e-4, atol=1e-4)
    assert np.array_equal(outs[0], outs[1])


@pytest.mark.parametrize("copy", [True, False])
def test_core_block_is_read_in_place(lee_docs, copy):
    """``core=k`` factorises the leading k x k block read inside the full matrix: the
    blocked operator multiplies like the sliced block, and the SVD gives the same bits as
    the SVD of a sliced copy."""
    from pmiembed.svd import _BlockedCSR

    p, _ = _lee_ppmi(lee_docs)
    k = p.shape[0] // 3
    block = p[:k, :k].tocsr()
    x = np.random.default_rng(0).standard_normal((k, 24)).astype(np.float32)
    op = _BlockedCSR(p, 24, cache_bytes=4096, copy=copy, core=k)
    assert op.shape == (k, k) and len(op.bounds) > 3
    np.testing.assert_allclose(op.matmul(x), block.astype(np.float64) @ x, rtol=1e-4, atol=1e-4)
    a = truncated_svd(p, 30, n_iter=3, seed=2, copy=copy, core=k, n_oversamples=20)
    b = truncated_svd(block, 30, n_iter=3, seed=2, copy=copy, n_oversamples=20)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_fold_in_recovers_a_low_rank_matrix_exactly(lee_docs):
    """Folding in is exact when the core carries the whole rank: a rank-20 matrix built
    from real PPMI (its top 20 eigenpairs) is reproduced in all four blocks (core,
    rare rows, rare columns and rare x rare, which fold-in never reads) from the SVD of
    its frequent-word core alone; with the real (full-rank) PPMI the folded-in rows
    are the least-squares coordinates ``a V S^-1``."""
    from pmiembed.svd import fold_in

    p, _ = _lee_ppmi(lee_docs)
    dense = p.toarray().astype(np.float64)
    lam, vec = np.linalg.eigh(dense)
    top = np.argsort(-np.abs(lam))[:20]
    low = (vec[:, top] * lam[top]) @ vec[:, top].T
    k = p.shape[0] // 4
    u, s, vt = truncated_svd(sp.csr_matrix(low), 20, backend="arpack", core=k)
    U, S, Vt = fold_in(sp.csr_matrix(low), u, s, vt)
    assert U.shape == (p.shape[0], 20) and Vt.shape == (20, p.shape[1])
    rebuilt = (U * S) @ Vt
    assert np.abs(rebuilt - low).max() < 1e-8 * np.abs(low).max() * p.shape[0]
    # real PPMI: rows beyond the core are a V S^-1
    u, s, vt = truncated_svd(p, 20, n_iter=4, seed=0, core=k, n_oversamples=20)
    U, S, Vt = fold_in(p, u, s, vt)
    assert np.array_equal(U[:k], u) and np.array_equal(Vt[:, :k], vt)
    np.testing.assert_allclose(U[k:], dense[k:, :k] @ vt.T / s, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(Vt[:, k:].T, dense[:k, k:].T @ u / s, rtol=1e-5, atol=1e-6)
    # a symmetric matrix reuses its further rows as its further columns: same bits, and
    # the threaded products give the same bits for one and two threads
    from pmiembed.resources import limit_threads

    with limit_threads(1):
        one = fold_in(p, u, s, vt)
    with limit_threads(2):
        two = fold_in(p, u, s, vt, symmetric=True)
    assert all(np.array_equal(x, y) for x, y in zip((U, S, Vt), one))
    assert all(np.array_equal(x, y) for x, y in zip((U, S, Vt), two))
    # a core of k rows and 2k columns folds in the same way: exact for the rank-20 matrix
    u, s, vt = truncated_svd(sp.csr_matrix(low[:k, :2 * k]), 20, backend="arpack")
    U, S, Vt = fold_in(sp.csr_matrix(low), u, s, vt)
    assert U.shape == (p.shape[0], 20) and Vt.shape == (20, p.shape[1])
    assert np.abs((U * S) @ Vt - low).max() < 1e-8 * np.abs(low).max() * p.shape[0]


def test_core_size_rules():
    from pmiembed.svd import core_size

    counts = np.array([50, 40, 30, 20, 12, 10, 9, 7, 5, 5])
    assert core_size(counts, 10, 2) == 6
    assert core_size(counts, 10, 4) is None  # 6 words < 2 * dim: factorise everything
    assert core_size(counts, 5, 2) is None  # every word qualifies
    assert core_size(counts, None, 2) is None
    # the cap keeps the most frequent of the qualifying words
    assert core_size(counts, 10, 2, max_words=4) == 4
    assert core_size(counts, 10, 2, max_words=6) == 6
    assert core_size(counts, 10, 2, max_words=100) == 6
    assert core_size(counts, 5, 2, max_words=8) == 8  # every word qualifies, the cap makes a core
    assert core_size(counts, 10, 3, max_words=2) == 6  # the cap never cuts the core below 2 * dim
    with pytest.raises(ValueError, match="descending"):
        core_size(counts[::-1], 10, 2)


@pytest.mark.parametrize("weighting,mode", [("harmonic2", "clean"), ("dynamic", "dirty"), ("uniform", "clean")])
def test_model_ppmi_is_symmetric_as_the_model_promises_the_svd(lee_path, weighting, mode):
    """With cds = 1 the model tells the SVD the PPMI is symmetric instead of checking
    (:func:`pmiembed.svd.is_symmetric`): true for every weighting and subsampling mode
    on real counts, and the SVD told so gives the bits the detecting SVD gives."""
    from pmiembed.model import PMIEmbedding
    from pmiembed.svd import folded_svd, is_symmetric

    m = PMIEmbedding(dim=20, min_count=2, weighting=weighting, subsample=1e-3, subsample_mode=mode, cds=1.0,
                     core_min_count=3, n_iter=2).fit(lee_path)
    assert is_symmetric(m.pmi_)
    told = folded_svd(m.pmi_, 20, core=m.n_core_, n_iter=2, symmetric=True, n_oversamples=20)
    detected = folded_svd(m.pmi_, 20, core=m.n_core_, n_iter=2, n_oversamples=20)
    assert m.n_core_ is not None
    assert all(np.array_equal(x, y) for x, y in zip(told, detected))
    assert not is_symmetric(PMIEmbedding(dim=20, min_count=2, weighting=weighting, cds=0.75,
                                         n_iter=1).fit(lee_path).pmi_)


def test_empty_rows_against_dense_for_any_block_size(lee_path):
    """Rows without an entry in the first n columns, on a real PPMI matrix, for block
    sizes that cut it anywhere (one entry, a few rows, all of it)."""
    from pmiembed.model import PMIEmbedding
    from pmiembed.pmi import empty_rows

    pmi = PMIEmbedding(dim=10, min_count=2, neg=5, n_iter=1).fit(lee_path).pmi_
    for n_cols in (5, 50, 500, pmi.shape[1]):
        expected = np.asarray((pmi[:, :n_cols] != 0).sum(axis=1)).ravel() == 0
        assert expected.any() or n_cols > 50  # narrow cores leave rows empty
        for block in (1, 97, 1 << 22):
            assert np.array_equal(empty_rows(pmi, n_cols, block_nnz=block), expected)
