"""The model end to end on real text: API, persistence, determinism."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from gensim.models import KeyedVectors

from pmiembed.errors import CorpusError, ParameterError, VectorsError
from pmiembed.model import PMIEmbedding
from pmiembed.vectors import load_vectors


@pytest.fixture(scope="module")
def lee_model(lee_path):
    return PMIEmbedding(dim=40, min_count=3, seed=3).fit(lee_path)


def test_fit_returns_fitted_estimator(lee_model, lee_docs):
    m = lee_model
    assert isinstance(m.wv, KeyedVectors)
    assert m.wv.index_to_key == m.vocabulary_.words
    assert m.wv.vectors.shape == (len(m.vocabulary_), 40)
    assert m.wv.vectors.dtype == np.float32
    assert m.singular_values_.shape == (40,) and np.all(np.diff(m.singular_values_) <= 0)
    assert m.pmi_.shape == (len(m.vocabulary_),) * 2 and m.pmi_.data.min() > 0
    # the default tokenisation (words): each whitespace token's runs of letters and digits
    # (inner ' and - kept), so "U.S." is two tokens and "--" none
    words = [w for doc in lee_docs for tok in doc for w in re.findall(r"\w+(?:['’-]\w+)*", tok)]
    assert m.corpus_stats_["tokens"] == len(words)
    assert m.corpus_stats_["documents"] == len(lee_docs)
    assert m.wv.get_vecattr("the", "count") == m.vocabulary_.counts[0]
    # gensim's query API works
    assert len(m.wv.most_similar("government", topn=5)) == 5
    assert len(m.wv.most_similar_cosmul(positive=["police", "fire"], negative=["man"], topn=3)) == 3


def test_params_api(lee_model):
    from pmiembed.defaults import DEFAULTS

    m = PMIEmbedding()
    p = m.get_params()
    assert {k: p[k] for k in DEFAULTS} == DEFAULTS
    assert p["dim"] == 300 and p["min_count"] == 5 and p["neg"] == 1.0
    m.set_params(dim=10, window=3)
    assert m.dim == 10 and m.window == 3
    from sklearn.base import clone

    assert clone(lee_model).get_params() == lee_model.get_params()
    assert repr(m) == "PMIEmbedding(dim=10, window=3)" and repr(PMIEmbedding()) == "PMIEmbedding()"
    with pytest.raises(ParameterError, match="'windw' is not a parameter of PMIEmbedding; valid parameters: .*window"):
        m.set_params(windw=5)


def test_word2vec_writer_matches_gensim(lee_model, tmp_path):
    from pmiembed.vectors import write_word2vec_binary

    kv = lee_model.wv
    kv.save_word2vec_format(str(tmp_path / "gensim.bin"), binary=True, write_header=True, sort_attr=None)
    write_word2vec_binary(kv.index_to_key, kv.vectors, tmp_path / "ours.bin")
    assert (tmp_path / "ours.bin").read_bytes() == (tmp_path / "gensim.bin").read_bytes()
    assert kv.vectors is lee_model.vectors_


def test_fit_and_save_do_not_import_gensim(tmp_path):
    # gensim is imported when .wv is first used, not by 'pmiembed train' (fit + save)
    import subprocess
    import sys

    from gensim.test.utils import datapath

    code = ("import sys; from pmiembed.model import PMIEmbedding; "
            f"m = PMIEmbedding(dim=8, min_count=2).fit({datapath('lee_background.cor')!r}); "
            f"m.save({str(tmp_path / 'o')!r}); "
            "print('gensim' in sys.modules, len(m.wv), 'gensim' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", str(len(PMIEmbedding.load(tmp_path / "o").wv)), "True"]


def test_import_does_not_load_sklearn():
    # the CLI needs the model class before it starts reading; scikit-learn costs ~1.5 s
    import subprocess
    import sys

    code = "import sys, pmiembed.model, pmiembed.cli.main; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("kwargs,name", [
    ({"dim": 0}, "dim=0"), ({"window": 0}, "window=0"), ({"min_count": 0}, "min_count=0"),
    ({"cds": 0}, "cds=0"), ({"cds": 2}, "cds=2"), ({"neg": 0.5}, "neg=0.5"), ({"eig": -1}, "eig=-1"),
    ({"weighting": "gauss"}, "weighting='gauss'"), ({"svd": "magic"}, "svd='magic'"),
    ({"subsample": 2.0}, "subsample=2.0"), ({"subsample_mode": "tidy"}, "subsample_mode='tidy'"),
    ({"workers": 0}, "workers=0"), ({"memory": -1}, "memory=-1"),
])
def test_bad_parameters_named(lee_path, kwargs, name):
    with pytest.raises(ParameterError, match=name.replace("(", r"\(")):
        PMIEmbedding(**kwargs).fit(lee_path)


def test_dim_at_or_above_vocabulary(lee_path):
    with pytest.raises(ParameterError, match="dim=5000 must be smaller than the vocabulary size"):
        PMIEmbedding(dim=5000, min_count=3).fit(lee_path)


def test_empty_vocabulary(lee_path):
    with pytest.raises(CorpusError, match="vocabulary is empty after min_count=100000"):
        PMIEmbedding(min_count=100000).fit(lee_path)


def test_save_load_roundtrip(tmp_path, lee_model):
    out = lee_model.save(tmp_path / "m")
    names = sorted(p.name for p in out.iterdir())
    # the token ids too: a fitted model keeps them (keep_tokens=True), so the folder can be updated exactly
    assert names == ["params.json", "ppmi.npz", "singular_values.npy", "tokens.npz", "vectors.bin", "vocab.tsv"]
    kv = KeyedVectors.load_word2vec_format(str(out / "vectors.bin"), binary=True)
    assert kv.index_to_key == lee_model.wv.index_to_key
    assert np.array_equal(kv.vectors, lee_model.wv.vectors)
    back = PMIEmbedding.load(out)
    assert back.get_params() == lee_model.get_params()
    assert np.array_equal(back.wv.vectors, lee_model.wv.vectors)
    assert back.vocabulary_.words == lee_model.vocabulary_.words
    meta = json.loads((out / "params.json").read_text())
    assert meta["params"]["dim"] == 40 and meta["counting"]["window"] == lee_model.window
    # an existing folder is refused unless forced
    with pytest.raises(Exception, match="exists"):
        lee_model.save(tmp_path / "m")
    lee_model.save(tmp_path / "m", force=True)
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary folders left


def test_damaged_vectors_detected(tmp_path, lee_model):
    out = lee_model.save(tmp_path / "m")
    raw = bytearray((out / "vectors.bin").read_bytes())
    raw[-100] ^= 0x55
    (out / "vectors.bin").write_bytes(bytes(raw))
    with pytest.raises(VectorsError, match="vectors.bin: checksum mismatch"):
        load_vectors(out)
    # a truncated plain vectors file (no manifest to check against)
    (tmp_path / "t.bin").write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(VectorsError, match="t.bin: truncated or damaged"):
        load_vectors(tmp_path / "t.bin")
    (tmp_path / "n.txt").write_text("hello world\n")
    with pytest.raises(VectorsError, match="n.txt: not a word2vec vectors file"):
        load_vectors(tmp_path / "n.txt")


def test_same_seed_same_bits_any_workers(lee_path, lee_model):
    a = PMIEmbedding(dim=40, min_count=3, seed=3, workers=1).fit(lee_path)
    b = PMIEmbedding(dim=40, min_count=3, seed=3, workers=2).fit(lee_path)
    assert np.array_equal(a.wv.vectors, lee_model.wv.vectors)
    assert np.array_equal(b.wv.vectors, lee_model.wv.vectors)


def test_all_backends_agree(lee_path):
    vecs = {}
    for backend in ("randomized", "sklearn", "arpack"):
        # Levy et al.'s recipe (PPMI): its spectrum on this small corpus has clear gaps at rank 20
        m = PMIEmbedding(dim=20, min_count=3, window=2, weighting="dynamic", subsample=None, cds=0.75, abtt=None,
                         matrix="ppmi", svd=backend, n_iter=10).fit(lee_path)
        vecs[backend] = m
    s0 = vecs["arpack"].singular_values_
    for backend in ("randomized", "sklearn"):
        np.testing.assert_allclose(vecs[backend].singular_values_, s0, rtol=2e-3)
        # same similarities for frequent words
        for w in ("government", "police", "said"):
            a = vecs[backend].wv.most_similar(w, topn=3)
            b = vecs["arpack"].wv.most_similar(w, topn=3)
            assert [x for x, _ in a][:1] == [x for x, _ in b][:1]


def test_fit_counts_reuses_counts(lee_model):
    m = PMIEmbedding(dim=40, min_count=3, seed=3).fit_counts(lee_model.cooccurrence_)
    assert np.array_equal(m.wv.vectors, lee_model.wv.vectors)
    m2 = PMIEmbedding(dim=30, eig=0.0, seed=3).fit_counts(lee_model.cooccurrence_)
    assert m2.wv.vector_size == 30


def test_text8_sample_learns_something(text8_head):
    """On 1.2M tokens of real text8, related words are closer than unrelated ones."""
    m = PMIEmbedding(dim=100).fit(text8_head)
    wv = m.wv
    assert wv.similarity("france", "germany") > wv.similarity("france", "music") + 0.2
    neighbours = {w for w, _ in wv.most_similar("france", topn=10)}
    places = {"spain", "germany", "italy", "portugal", "england", "russia", "paris", "belgium", "netherlands",
              "norway", "provence", "bordeaux", "austria", "switzerland", "britain", "europe", "french", "lyon"}
    assert len(neighbours & places) >= 4
    numbers = {w for w, _ in wv.most_similar("three", topn=5)}
    assert len(numbers & {"two", "four", "five", "six", "seven", "eight"}) >= 4


def test_text_format_vectors_load(tmp_path, lee_model):
    lee_model.wv.save_word2vec_format(str(tmp_path / "v.txt"), binary=False)
    kv = load_vectors(tmp_path / "v.txt")
    assert kv.index_to_key == lee_model.wv.index_to_key
    np.testing.assert_allclose(kv.vectors, lee_model.wv.vectors, rtol=1e-5, atol=1e-6)


def test_same_bits_across_chunk_sizes(lee_path, lee_model):
    from pmiembed.corpus import read_corpus

    small_chunks = read_corpus(lee_path, chunk_bytes=7)
    m = PMIEmbedding(dim=40, min_count=3, seed=3).fit(small_chunks)
    assert np.array_equal(m.wv.vectors, lee_model.wv.vectors)


def test_keep_counts_false_frees_counts_but_saves(lee_docs, tmp_path):
    m = PMIEmbedding(dim=20, min_count=3, keep_counts=False).fit(lee_docs)
    assert m.cooccurrence_ is None and m.cooccurrence_nnz_ > 0
    with pytest.raises(ParameterError, match="keep_counts"):
        m.save(tmp_path / "a", save_counts=True)
    assert not (tmp_path / "a").exists()
    m.save(tmp_path / "b")
    meta = json.loads((tmp_path / "b" / "params.json").read_text())
    assert meta["counting"]["window"] == m.window
    assert PMIEmbedding.load(tmp_path / "b").counting_params_ == meta["counting"]


def test_core_and_fold_in_give_every_word_a_vector(lee_path):
    """The default factorises the words seen >= 10 times and folds in the rest: every
    vocabulary word has a finite, nonzero vector and context vector, and
    ``core_min_count=None`` factorises every word (other vectors).  (Whether the
    folded-in vectors are good is measured on Wikipedia, docs/ablation.md; the fold-in
    maths is tested in test_pmi_svd.)"""
    m = PMIEmbedding(dim=30, min_count=3, seed=1).fit(lee_path)
    counts = m.vocabulary_.counts
    assert m.n_core_ == int((counts >= 10).sum()) and 60 <= m.n_core_ < len(counts)
    assert m.vectors_.shape == (len(counts), 30) and np.isfinite(m.vectors_).all()
    assert (np.linalg.norm(m.vectors_[m.n_core_:], axis=1) > 0).all()
    full = PMIEmbedding(dim=30, min_count=3, seed=1, core_min_count=None).fit_counts(m.cooccurrence_)
    assert full.n_core_ is None and full.vectors_.shape == m.vectors_.shape
    assert not np.allclose(full.vectors_, m.vectors_)
    assert m.context_vectors_.shape == (len(counts), 30) and np.isfinite(m.context_vectors_).all()
    with pytest.raises(ParameterError, match="core_min_count=0"):
        PMIEmbedding(core_min_count=0).fit(lee_path)


def test_core_max_words_caps_the_core(lee_path):
    """``core_max_words`` keeps the core to the most frequent words (the rest folded in):
    the SVD of the capped core equals the fold-in route run by hand on the same PPMI,
    a cap below 2 * dim keeps 2 * dim words, and a bad cap is refused naming the parameter."""
    from pmiembed.svd import folded_svd, word_vectors

    m = PMIEmbedding(dim=30, min_count=3, seed=1).fit(lee_path)
    capped = PMIEmbedding(dim=30, min_count=3, seed=1, core_max_words=80).fit_counts(m.cooccurrence_)
    assert m.n_core_ > 80 and capped.n_core_ == 80
    # the default bounded matrix: its observed cells, the rank-one term of its unobserved
    # ones, and the frequency weights taken off after the SVD
    from pmiembed.pmi import empty_rows, frequency_weights
    from pmiembed.svd import unweighted_factors

    weights = frequency_weights(capped.vocabulary_.counts, capped.freq_weight)
    u, s, vt = folded_svd(capped.nneg_, 30, core=80, seed=1, n_iter=capped.n_iter,
                          n_oversamples=capped.oversamples, rank_one=(-capped.bound, weights))
    u, vt = unweighted_factors(u, vt, weights)
    expected = word_vectors(u, s, vt, eig=capped.eig, abtt=capped.abtt)
    # words with no observed pair in the core's 80 columns get the zero vector (test_robustness)
    expected[empty_rows(capped.nneg_, 80)] = 0.0
    assert np.array_equal(capped.vectors_, expected)
    assert not np.allclose(capped.vectors_, m.vectors_)
    uncapped = PMIEmbedding(dim=30, min_count=3, seed=1, core_max_words=None).fit_counts(m.cooccurrence_)
    assert uncapped.n_core_ == m.n_core_ and np.array_equal(uncapped.vectors_, m.vectors_)
    small = PMIEmbedding(dim=30, min_count=3, seed=1, core_max_words=10).fit_counts(m.cooccurrence_)
    assert small.n_core_ == 60
    with pytest.raises(ParameterError, match="core_max_words=0 must be an integer >= 1 or None"):
        PMIEmbedding(dim=30, core_max_words=0).fit(lee_path)
