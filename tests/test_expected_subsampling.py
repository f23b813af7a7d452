"""Expected subsampling (``subsample_mode="expected"``, the default): count every token and
weight each pair (w, c) by k_w k_c at the PMI stage, the average of clean subsampling."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from pmiembed.cooccur import count_cooccurrences, counting, subsample_keep
from pmiembed.corpus import read_corpus
from pmiembed.pmi import pmi_from_rows, pmi_matrix
from pmiembed.svd import is_symmetric
from pmiembed.vocab import Vocabulary

T = 1e-3  # Lee's corpus has 60k tokens: most words are subsampled at this threshold


@pytest.fixture(scope="module")
def lee(lee_path):
    c = read_corpus(lee_path)
    return c, Vocabulary.from_counts(c.types, c.counts, min_count=3, total=c.n_tokens)


def test_expected_counts_are_the_average_of_clean_subsampling(lee):
    """Clean subsampling keeps a pair when both tokens survive (probability k_w k_c), so
    its counts averaged over many seeds approach k_w k_c #(w, c) of all tokens; expected
    mode counts all tokens, whatever the seed."""
    c, v = lee
    full = count_cooccurrences(c, v, window=3, weighting="uniform", subsample=T, subsample_mode="expected")
    assert full.params["subsample_mode"] == "expected"
    none = count_cooccurrences(c, v, window=3, weighting="uniform", subsample=None, subsample_mode="dirty")
    assert (full.counts != none.counts).nnz == 0  # nothing drawn
    k = subsample_keep(v, full.params)
    assert k is not None and k.min() < 0.2 and k.max() == 1.0
    assert np.array_equal(full.keep, k) and none.keep is None
    expected = (sp.diags(k) @ full.counts.astype(np.float64) @ sp.diags(k)).tocsr()
    seeds = 40
    mean = sum(count_cooccurrences(c, v, window=3, weighting="uniform", subsample=T, subsample_mode="clean",
                                   seed=s).counts.astype(np.float64) for s in range(seeds)) / seeds
    assert abs(mean.sum() / expected.sum() - 1) < 0.01
    big = expected.toarray() > 5  # pairs whose average is well estimated by 40 draws
    got, want = mean.toarray()[big], expected.toarray()[big]
    # measured: median relative difference .016 over 1,557 pairs; weighting by k_w
    # alone (forgetting that the context must survive too) would be .10
    assert big.sum() > 1000 and np.median(np.abs(got / want - 1)) < 0.03
    assert subsample_keep(v, none.params) is None


def test_expected_pmi_is_pmi_of_the_weighted_counts_and_symmetric(lee):
    """PMI with ``keep`` equals the PMI of k_w k_c #(w, c) computed directly, streams
    from row blocks with the same bits as from the assembled matrix, and stays exactly
    symmetric (the SVD relies on it)."""
    c, v = lee
    with counting(c, v, window=5, weighting="harmonic2", subsample=T, subsample_mode="expected") as counted:
        k = subsample_keep(v, counted.params)
        assert np.array_equal(counted.rows.keep, k)
        streamed = pmi_from_rows(counted.rows, cds=1.0, keep=k)
    cooc = count_cooccurrences(c, v, window=5, weighting="harmonic2", subsample=T, subsample_mode="expected")
    whole = pmi_matrix(cooc.counts, cds=1.0, keep=k)
    assert all(np.array_equal(getattr(streamed, a), getattr(whole, a)) for a in ("indptr", "indices", "data"))
    assert is_symmetric(whole)
    direct = pmi_matrix((sp.diags(k) @ cooc.counts.astype(np.float64) @ sp.diags(k)).tocsr(), cds=1.0,
                        dtype=np.float64)
    assert (direct != 0).nnz == whole.nnz
    np.testing.assert_allclose(whole.toarray(), direct.toarray(), rtol=1e-5, atol=1e-5)
    # cds 0.75 too (marginals of the weighted counts, smoothed)
    direct = pmi_matrix((sp.diags(k) @ cooc.counts.astype(np.float64) @ sp.diags(k)).tocsr(), cds=0.75,
                        dtype=np.float64)
    np.testing.assert_allclose(pmi_matrix(cooc.counts, cds=0.75, keep=k).toarray(), direct.toarray(),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="same keep weights"):
        with counting(c, v, window=5, weighting="harmonic2", subsample=None, subsample_mode="dirty") as plain:
            pmi_from_rows(plain.rows, cds=1.0, keep=k)


def test_model_counts_do_not_depend_on_the_seed_in_expected_mode(lee_path):
    from pmiembed.model import PMIEmbedding

    a = PMIEmbedding(dim=20, min_count=3, subsample=T, n_iter=1).fit(lee_path)
    b = PMIEmbedding(dim=20, min_count=3, subsample=T, n_iter=1, seed=7).fit(lee_path)
    assert a.subsample_mode == "expected"
    assert all(np.array_equal(getattr(a.pmi_, x), getattr(b.pmi_, x)) for x in ("indptr", "indices", "data"))
    clean = [PMIEmbedding(dim=20, min_count=3, subsample=T, subsample_mode="clean", n_iter=1, seed=s).fit(lee_path)
             for s in (0, 7)]
    assert clean[0].pmi_.nnz != clean[1].pmi_.nnz or not np.array_equal(clean[0].pmi_.data, clean[1].pmi_.data)
