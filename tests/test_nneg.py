"""The bounded negative PMI (``matrix="nneg"``, the default): the kernel's matrix, the
"sparse minus rank one" operator and fold-in against dense numpy references built on
Lee's corpus, the model's parameters on disk, and the old recipe one flag away."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from pmiembed import PMIEmbedding
from pmiembed.cli.main import main
from pmiembed.cooccur import count_cooccurrences
from pmiembed.corpus import read_corpus
from pmiembed.errors import ParameterError
from pmiembed.pmi import empty_rows, frequency_weights, nneg_matrix, pmi_matrix
from pmiembed.svd import RankOne, _BlockedCSR, fold_in, folded_svd, word_vectors
from pmiembed.vectors import manifest_digest
from pmiembed.vocab import Vocabulary


@pytest.fixture(scope="module")
def lee_counts(lee_path):
    tokens = read_corpus(lee_path)
    vocab = Vocabulary.from_counts(tokens.types, tokens.counts, min_count=3)
    return count_cooccurrences(tokens, vocab)  # the defaults: expected subsampling (keep weights)


def dense_nneg(cooc, bound, weights):
    """The whole bounded matrix in float64 numpy, from its definition: PMI of the
    expected counts, negative PMI divided by -log p(w, c), unobserved pairs -bound,
    each cell times d_w d_c."""
    n = cooc.counts.toarray().astype(np.float64) * np.outer(cooc.keep, cooc.keep)
    total = n.sum()
    observed = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(n * total / np.outer(n.sum(axis=1), n.sum(axis=0)))
        bounded = np.where(pmi < 0, pmi / -np.log(n / total), pmi)
    m = np.where(observed, bounded, -bound)
    return m * np.outer(weights, weights), observed


def test_kernel_matrix_equals_the_dense_definition(lee_counts):
    weights = frequency_weights(lee_counts.vocab.counts, 0.05)
    assert np.isclose(np.exp(np.mean(np.log(weights))), 1.0)  # geometric mean 1
    assert np.all(np.diff(weights) <= 0)  # frequent words weigh more
    s = nneg_matrix(lee_counts.counts, weights, bound=0.75, keep=lee_counts.keep)
    ref, observed = dense_nneg(lee_counts, 0.75, weights)
    # the observed pairs are exactly the stored entries (unobserved ones are the rank-one term)
    assert s.nnz == lee_counts.counts.nnz == int(observed.sum())
    got = s.toarray().astype(np.float64) - 0.75 * np.outer(weights, weights)
    np.testing.assert_allclose(got, ref, rtol=2e-6, atol=2e-6)
    # negative PMI is bounded: every unweighted value lies in [-1, max PMI]
    unweighted = ref / np.outer(weights, weights)
    assert unweighted[observed].min() >= -1.0 and (unweighted[observed] < 0).any()
    # symmetric counts without smoothing: exactly symmetric
    assert (s != s.T).nnz == 0
    # its positive cells are the PPMI's
    ppmi = pmi_matrix(lee_counts.counts, keep=lee_counts.keep).toarray()
    pos = ppmi > 0
    np.testing.assert_allclose(unweighted[pos], ppmi[pos], rtol=1e-5)


def test_operator_products_and_fold_in_equal_the_dense_matrix(lee_counts):
    weights = frequency_weights(lee_counts.vocab.counts, 0.05)
    s = nneg_matrix(lee_counts.counts, weights, bound=0.75, keep=lee_counts.keep)
    ref, _ = dense_nneg(lee_counts, 0.75, weights)
    core = 1000
    x = np.random.default_rng(0).standard_normal((core, 8)).astype(np.float32)
    op = RankOne(_BlockedCSR(s, 8, core=core), -0.75, weights)
    np.testing.assert_allclose(op.matmul(x), ref[:core, :core] @ x, rtol=1e-4, atol=1e-3)
    old = np.ones((core, 8), dtype=np.float32)
    np.testing.assert_allclose(op.matmul(x, out=old.copy(), alpha=2.0, beta=-1.0),
                               2 * ref[:core, :core] @ x - old, rtol=1e-4, atol=1e-3)
    # the SVD of the core and the folded-in rows and columns of the whole matrix
    u, sv, vt = folded_svd(s, 20, core=core, rank_one=(-0.75, weights), symmetric=True, n_iter=8)
    exact = np.linalg.svd(ref[:core, :core], compute_uv=False)[:20]
    np.testing.assert_allclose(sv, exact, rtol=2e-3)
    fu, _, fvt = fold_in(s, u[:core], sv, vt[:, :core], symmetric=True, rank_one=(-0.75, weights))
    np.testing.assert_allclose(fu[core:], ref[core:, :core] @ vt[:, :core].T / sv, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(fvt[:, core:].T, ref[:core, core:].T @ u[:core] / sv, rtol=1e-3, atol=1e-4)


def test_library_backends_factorise_the_same_operator(lee_counts):
    weights = frequency_weights(lee_counts.vocab.counts, 0.05)
    s = nneg_matrix(lee_counts.counts, weights, bound=0.75, keep=lee_counts.keep)
    ref, _ = dense_nneg(lee_counts, 0.75, weights)
    exact = np.linalg.svd(ref[:800, :800], compute_uv=False)[:10]
    for backend in ("arpack", "krylov"):
        sv = folded_svd(s, 10, core=800, rank_one=(-0.75, weights), backend=backend, symmetric=True)[1]
        np.testing.assert_allclose(sv, exact, rtol=2e-3, err_msg=backend)


def test_default_is_nneg_and_params_round_trip(lee_path, tmp_path):
    model = PMIEmbedding(dim=30, min_count=3)
    assert (model.matrix, model.bound, model.freq_weight) == ("nneg", 0.75, 0.05)
    model.fit(lee_path).save(tmp_path / "m")
    params = json.loads((tmp_path / "m" / "params.json").read_text())["params"]
    assert (params["matrix"], params["bound"], params["freq_weight"]) == ("nneg", 0.75, 0.05)
    other = PMIEmbedding(dim=30, min_count=3, bound=0.5, freq_weight=0.0).fit(lee_path)
    other.save(tmp_path / "o")
    loaded = PMIEmbedding.load(tmp_path / "o")
    assert (loaded.matrix, loaded.bound, loaded.freq_weight) == ("nneg", 0.5, 0.0)
    assert not np.array_equal(other.vectors_, model.vectors_)
    # the folder keeps the PPMI matrix (what contexts and explain read), not the bounded one
    assert (loaded.pmi_ != model.pmi_).nnz == 0 and loaded.pmi_.data.min() > 0
    assert loaded.contexts("police", n=3)


def test_a_folder_without_the_key_loads_as_ppmi(lee_path, tmp_path):
    PMIEmbedding(dim=20, min_count=3, matrix="ppmi").fit(lee_path).save(tmp_path / "old")
    manifest = tmp_path / "old" / "params.json"
    meta = json.loads(manifest.read_text())
    for key in ("matrix", "bound", "freq_weight"):
        del meta["params"][key]
    meta["manifest_sha256"] = manifest_digest(meta)  # as a folder written before the keys existed
    manifest.write_text(json.dumps(meta))
    assert PMIEmbedding.load(tmp_path / "old").matrix == "ppmi"


def test_ppmi_is_the_previous_recipe(lee_path):
    """``matrix="ppmi"``: the SVD of the PPMI matrix, as the stage functions give it."""
    model = PMIEmbedding(dim=30, min_count=3, matrix="ppmi").fit(lee_path)
    assert model.nneg_ is None
    u, s, vt = folded_svd(model.pmi_, 30, core=model.n_core_, symmetric=True)
    ref = word_vectors(u, s, vt, eig=0.5, abtt=1).astype(np.float32)
    ref[empty_rows(model.pmi_, model.n_core_)] = 0
    assert np.array_equal(model.vectors_, ref)


@pytest.mark.parametrize("kw", [dict(matrix="dense"), dict(bound=-1), dict(freq_weight=2), dict(bound=float("nan")),
                                dict(svd="sklearn")])
def test_bad_settings_are_refused_in_one_line(lee_path, kw):
    with pytest.raises(ParameterError) as err:
        PMIEmbedding(dim=10, **kw).fit(lee_path)
    assert next(iter(kw)) in str(err.value) and "\n" not in str(err.value)


def test_memory_route_and_command_line_give_the_same_vectors(lee_path, tmp_path, capsys):
    kw = dict(dim=30, min_count=3)
    ref = PMIEmbedding(**kw).fit(lee_path)
    lean = PMIEmbedding(**kw, keep_counts=False, memory=1).fit(lee_path)
    assert np.array_equal(lean.vectors_, ref.vectors_)
    assert main(["train", str(lee_path), "--out", str(tmp_path / "c"), "--dim", "30", "--min-count", "3",
                 "--quiet"]) == 0
    assert main(["train", str(lee_path), "--out", str(tmp_path / "p"), "--dim", "30", "--min-count", "3",
                 "--matrix", "ppmi", "--quiet"]) == 0
    capsys.readouterr()
    assert PMIEmbedding.load(tmp_path / "c").matrix == "nneg"
    assert np.array_equal(PMIEmbedding.load(tmp_path / "c").vectors_, ref.vectors_)
    ppmi = PMIEmbedding(**kw, matrix="ppmi").fit(lee_path)
    assert np.array_equal(PMIEmbedding.load(tmp_path / "p").vectors_, ppmi.vectors_)


def test_update_of_the_bounded_matrix_equals_training_on_both(lee_docs):
    old, new = lee_docs[:150], lee_docs[150:]
    kw = dict(dim=20, min_count=3, keep_counts=True, keep_tokens=True)
    model = PMIEmbedding(**kw).fit(old).update(new)
    scratch = PMIEmbedding(**kw).fit(old + new)
    assert sp.issparse(model.nneg_) and (model.nneg_ != scratch.nneg_).nnz == 0


def mapped(array) -> bool:
    """Whether ``array`` is a view of a file mapping (np.memmap, mmap)."""
    import mmap

    while array is not None:
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = getattr(array, "base", None)
    return False


def test_fold_in_reads_the_rare_rows_in_place_with_the_bits_of_the_sliced_block(lee_counts):
    """fold_in points into the matrix instead of slicing ``a[k:, :k]`` out of it and adds
    the rank-one term a chunk of rows at a time: the result is the sliced reference's,
    bit for bit (chunks of 7 rows, and a matrix whose indices are not sorted, too)."""
    from pmiembed.svd import _sparse_times_dense, rank_one_rows, truncated_svd

    weights = frequency_weights(lee_counts.vocab.counts, 0.05)
    s = nneg_matrix(lee_counts.counts, weights, bound=0.75, keep=lee_counts.keep)
    k, rank_one = 700, (-0.75, weights)
    u, sv, vt = truncated_svd(s, 20, core=k, rank_one=rank_one, symmetric=True, seed=3)
    inv = (1.0 / sv.astype(np.float64)).astype(np.float32)
    ones = np.ones_like(inv)

    def sliced(ro, symmetric):
        rows = s[k:, :k]
        ref_u = _sparse_times_dense(rows, vt.T)
        ref_v = _sparse_times_dense(rows if symmetric else s[:k, k:].T.tocsr(), u)
        if ro is not None:
            ref_u += rank_one_rows(ro, slice(k, s.shape[0]), np.ascontiguousarray(vt.T), ones)
            ref_v += rank_one_rows(ro, slice(k, s.shape[0]), u, ones)
        return ref_u * inv, (ref_v * inv).T

    shuffled = s.copy()
    rng = np.random.default_rng(0)
    for i in range(shuffled.shape[0]):  # the same matrix, each row's entries in another order
        a, b = shuffled.indptr[i], shuffled.indptr[i + 1]
        order = a + rng.permutation(b - a)
        shuffled.indices[a:b], shuffled.data[a:b] = shuffled.indices[order], shuffled.data[order]
    shuffled.has_sorted_indices = False
    for ro in (rank_one, None):
        for symmetric in (True, False):
            ref_u, ref_vt = sliced(ro, symmetric)
            for matrix, chunk in ((s, 8192), (s, 7), (shuffled, 50)):
                fu, fs, fvt = fold_in(matrix, u, sv, vt, symmetric=symmetric, rank_one=ro, chunk=chunk)
                assert np.array_equal(fu[:k], u) and np.array_equal(fvt[:, :k], vt) and fs is sv
                assert np.array_equal(fu[k:], ref_u), (ro is not None, symmetric, chunk)
                assert np.array_equal(fvt[:, k:], ref_vt), (ro is not None, symmetric, chunk)


def test_memory_route_parks_both_matrices_with_the_same_bits(lee_path, tmp_path, monkeypatch):
    """Under a memory budget small enough to spill the counts, the PPMI is written to disk
    as its blocks are made and the bounded matrix once the SVD's products are done: both
    come back mapped read-only, equal to the plain route's bit for bit, and so do the
    vectors and the saved folder; the temporary folders are gone."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    kw = dict(dim=30, min_count=3)
    ref = PMIEmbedding(**kw).fit(lee_path)
    lean = PMIEmbedding(**kw, keep_counts=False, keep_tokens=False, memory=0.005).fit(lee_path)
    assert ref.n_core_ is not None  # the rare words are folded in
    for name in ("pmi_", "nneg_"):
        parked, plain = getattr(lean, name), getattr(ref, name)
        assert mapped(parked.data) and mapped(parked.indices) and not parked.data.flags.writeable, name
        assert np.array_equal(parked.indptr, plain.indptr) and np.array_equal(parked.indices, plain.indices), name
        assert np.array_equal(parked.data, plain.data), name
    assert not mapped(ref.nneg_.data)  # without a budget the bounded matrix stays in memory
    assert np.array_equal(lean.vectors_, ref.vectors_)
    lean.save(tmp_path / "lean")
    ref.save(tmp_path / "ref")
    for name in ("vectors.bin", "ppmi.npz"):
        assert (tmp_path / "lean" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name
    assert not list(tmp_path.glob("pmiembed-*"))


def test_the_ppmi_written_as_it_is_made_equals_the_one_held(lee_path, tmp_path, monkeypatch):
    """pmi_and_nneg_from_rows(park=True) over spilled row blocks: the same bits as
    park=False; a folder that cannot be written is one line naming it."""
    import tempfile

    from pmiembed.cooccur import counting
    from pmiembed.errors import PMIEmbedError
    from pmiembed.pmi import pmi_and_nneg_from_rows

    tokens = read_corpus(lee_path)
    vocab = Vocabulary.from_counts(tokens.types, tokens.counts, min_count=3)
    weights = frequency_weights(vocab.counts, 0.05)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    got = {}
    for park in (False, True):
        with counting(tokens, vocab, memory_bytes=1 << 20) as counted:
            assert counted.rows.files  # spilled
            got[park] = pmi_and_nneg_from_rows(counted.rows, weights, keep=counted.rows.keep, block_nnz=5000,
                                               park=park)
    (ppmi, nneg), (parked, nneg2) = got[False], got[True]
    assert mapped(parked.data) and parked.has_sorted_indices and not mapped(ppmi.data)
    assert (parked != ppmi).nnz == 0 and np.array_equal(parked.indptr, ppmi.indptr)
    assert np.array_equal(parked.data, ppmi.data) and (nneg2 != nneg).nnz == 0
    assert not list(tmp_path.glob("pmiembed-ppmi-*"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with counting(tokens, vocab) as counted:
        with pytest.raises(PMIEmbedError) as err:
            pmi_and_nneg_from_rows(counted.rows, weights, keep=counted.rows.keep, park=True)
    assert str(tmp_path / "missing") in str(err.value) and "\n" not in str(err.value)
