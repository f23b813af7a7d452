"""Explanations (contexts, explain, analogy) against brute force on a dense PPMI matrix
recomputed from the counts of a real corpus; the PPMI file of a model folder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pmiembed.cli.main import main
from pmiembed.errors import VectorsError, WordError
from pmiembed.explain import PPMI, contexts, explain, explain_analogy
from pmiembed.model import PMIEmbedding

SETTINGS = [
    # the defaults (expected subsampling: keep weights in the marginals), and smoothing with a shift
    dict(dim=40, min_count=3, seed=3),
    dict(dim=30, min_count=3, seed=1, subsample=None, cds=0.75, neg=2.0, window=3, weighting="dynamic"),
]


@pytest.fixture(scope="module", params=range(len(SETTINGS)), ids=["defaults", "cds-neg"])
def fitted(request, lee_path):
    model = PMIEmbedding(**SETTINGS[request.param]).fit(lee_path)
    return model, dense_ppmi(model)


def dense_ppmi(model):
    """(S)PPMI and weighted counts as dense arrays, by the textbook formula from the counts."""
    cooc = model.cooccurrence_
    counts = cooc.matrix().toarray()
    keep = cooc.keep
    k = np.ones(len(counts)) if keep is None else keep
    weighted = counts * k[:, None] * k[None, :]
    row, col = weighted.sum(axis=1), weighted.sum(axis=0)
    p_c = col ** model.cds / np.sum(col ** model.cds)
    with np.errstate(divide="ignore"):
        pmi = np.log(weighted / weighted.sum()) - np.log(row / weighted.sum())[:, None] - np.log(p_c)[None, :]
    ppmi = np.maximum(pmi - np.log(model.neg), 0.0)
    ppmi[~np.isfinite(ppmi)] = 0.0
    return ppmi, counts


def test_dense_reference_is_the_models_ppmi(fitted):
    model, (ppmi, _) = fitted
    assert np.allclose(model.pmi_.toarray(), ppmi, atol=2e-5)


@pytest.mark.parametrize("word", ["police", "government", "the", "australia"])
def test_contexts_match_brute_force(fitted, word):
    model, (ppmi, counts) = fitted
    words = model.vocabulary_.words
    i = words.index(word)
    got = model.contexts(word, n=12)
    assert got.word == word and got.n_contexts == int((ppmi[i] > 0).sum())
    expected = sorted(np.flatnonzero(ppmi[i]), key=lambda c: (-ppmi[i, c], c))[:12]
    # the same values in the same order (the names may swap only within float32 ties)
    assert np.allclose([c.ppmi for c in got], ppmi[i, expected], atol=2e-5)
    for c in got:
        j = words.index(c.word)
        assert c.ppmi == pytest.approx(ppmi[i, j], abs=2e-5)
        assert c.pmi == pytest.approx(ppmi[i, j] + np.log(model.neg), abs=2e-5)
        assert c.count == pytest.approx(counts[i, j], rel=1e-4)
    everything = model.contexts(word, n=None)
    assert len(everything) == got.n_contexts
    assert {c.word for c in everything} == {words[j] for j in np.flatnonzero(ppmi[i])}


@pytest.mark.parametrize("pair", [("police", "officers"), ("government", "minister"), ("fire", "fires")])
def test_explain_matches_brute_force(fitted, pair):
    model, (ppmi, counts) = fitted
    words = model.vocabulary_.words
    w1, w2 = pair
    i, j = words.index(w1), words.index(w2)
    p1, p2 = ppmi[i], ppmi[j]
    terms = p1 * p2 / (np.linalg.norm(p1) * np.linalg.norm(p2))
    got = model.explain(w1, w2, n=8)
    assert got.ppmi_cosine == pytest.approx(terms.sum(), abs=1e-6)
    assert got.vector_cosine == pytest.approx(float(model.wv.similarity(w1, w2)), abs=1e-5)
    assert got.n_shared == int(((p1 > 0) & (p2 > 0)).sum())
    top = np.sort(terms)[::-1][:len(got.shared)]
    assert np.allclose([s.contribution for s in got.shared], top, atol=1e-7)
    for s in got.shared:
        c = words.index(s.word)
        assert (s.ppmi1, s.ppmi2) == (pytest.approx(p1[c], abs=2e-5), pytest.approx(p2[c], abs=2e-5))
        assert s.share == pytest.approx(terms[c] / terms.sum(), rel=1e-5)
    for only, mine, other, row in ((got.only1, p1, p2, i), (got.only2, p2, p1, j)):
        lacking = np.flatnonzero((mine > 0) & (other == 0))
        assert np.allclose([c.ppmi for c in only], np.sort(mine[lacking])[::-1][:8], atol=2e-5)
        for c in only:
            assert other[words.index(c.word)] == 0
            assert c.count == pytest.approx(counts[row, words.index(c.word)], rel=1e-4)
    text = str(got)
    assert f"'{w1}' and '{w2}': PPMI cosine {terms.sum():.4f}" in text and got.shared[0].word in text


@pytest.mark.parametrize("query", [("police", "officers", "fire", "firefighters"),
                                   ("australia", "australian", "afghanistan", "taliban")])
def test_analogy_support_matches_brute_force(fitted, query):
    model, (ppmi, _) = fitted
    words = model.vocabulary_.words
    q = {w: ppmi[words.index(w)] / np.linalg.norm(ppmi[words.index(w)]) for w in query}
    a, b, c, d = query
    support = (q[d] - q[c]) * (q[a] - q[b])
    got = model.explain_analogy(a, b, c, d, n=10)
    alignment = support.sum() / (np.linalg.norm(q[d] - q[c]) * np.linalg.norm(q[a] - q[b]))
    assert got.alignment == pytest.approx(alignment, abs=1e-6)
    positive = np.sort(support[support > 0])[::-1]
    assert np.allclose([x.support for x in got.contexts], positive[:10], rtol=1e-5)
    assert np.allclose([x.share for x in got.contexts], positive[:10] / positive.sum(), rtol=1e-5)
    for x in got.contexts:
        col = words.index(x.word)
        assert [x.ppmi_a, x.ppmi_b, x.ppmi_c, x.ppmi_d] == pytest.approx([ppmi[words.index(w), col] for w in query],
                                                                          abs=2e-5)
    # d defaults to the vectors' 3CosAdd answer
    answer = model.wv.most_similar(positive=[a, c], negative=[b], topn=1)[0][0]
    assert model.explain_analogy(a, b, c).d == answer


def test_streamed_fit_and_saved_folder_explain_alike(fitted, lee_path, tmp_path):
    """keep_counts=False (what the command line does) keeps the same marginals, and a
    saved and loaded model answers from ppmi.npz, checksummed in the manifest."""
    model, _ = fitted
    params = {k: v for k, v in model.get_params().items() if k != "keep_counts"}
    streamed = PMIEmbedding(**params, keep_counts=False).fit(lee_path)
    model.save(tmp_path / "m")
    loaded = PMIEmbedding.load(tmp_path / "m")
    reference = model.explain("police", "officers", n=None)
    for other in (streamed, loaded):
        got = other.explain("police", "officers", n=None)
        assert got.ppmi_cosine == pytest.approx(reference.ppmi_cosine, abs=1e-7)
        assert [(s.word, s.contribution) for s in got.shared] == \
               [(s.word, pytest.approx(s.contribution, abs=1e-9)) for s in reference.shared]
        assert [(c.word, c.count) for c in other.contexts("police", 20)] == \
               [(c.word, pytest.approx(c.count, rel=1e-6)) for c in model.contexts("police", 20)]
    meta = json.loads((tmp_path / "m" / "params.json").read_text())
    assert "ppmi.npz" in meta["sha256"]


def test_library_errors(fitted, tmp_path):
    model, _ = fitted
    with pytest.raises(WordError, match="word 'policewomen' is not in the vocabulary"):
        model.contexts("policewomen")
    with pytest.raises(WordError, match="given twice"):
        model.explain("police", "police")
    model.save(tmp_path / "bare", save_pmi=False)
    assert not (tmp_path / "bare" / "ppmi.npz").exists()
    with pytest.raises(VectorsError, match=r"no ppmi\.npz .* re-train and save with save_pmi=True"):
        PMIEmbedding.load(tmp_path / "bare").contexts("police")


@pytest.fixture(scope="module")
def lee_folder(lee_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("explain") / "lee"
    assert main(["train", str(lee_path), "--out", str(out), "--quiet", "--dim", "40", "--min-count", "3"]) == 0
    return out


def test_cli_contexts_explain_analogy(lee_folder, capsys):
    ppmi = PPMI.load(lee_folder)
    assert main(["contexts", "--vectors", str(lee_folder), "police", "-n", "5", "--min-count", "5"]) == 0
    out = capsys.readouterr().out
    assert out == str(contexts(ppmi, "police", 5, min_count=5)) + "\n"
    assert out.splitlines()[1].split() == ["context", "PPMI", "PMI", "count"] and len(out.splitlines()) == 7
    assert main(["explain", "--vectors", str(lee_folder), "police", "officers", "-n", "4"]) == 0
    out = capsys.readouterr().out
    from pmiembed.vectors import load_vectors

    assert out == str(explain(ppmi, "police", "officers", 4, vectors=load_vectors(lee_folder))) + "\n"
    assert main(["analogy", "--vectors", str(lee_folder), "police", "officers", "fire", "--explain"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0].split("\t")[0]
    assert str(explain_analogy(ppmi, "police", "officers", "fire", first, 10)) in out


def test_cli_errors(lee_folder, lee_path, tmp_path, capsys):
    bare = tmp_path / "bare"
    assert main(["train", str(lee_path), "--out", str(bare), "--quiet", "--dim", "20", "--no-save-pmi"]) == 0
    capsys.readouterr()
    for argv in (["contexts", "--vectors", str(bare), "police"],
                 ["explain", "--vectors", str(bare), "police", "fire"],
                 ["analogy", "--vectors", str(bare), "police", "officers", "fire", "--explain"]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        err = captured.err.strip()
        assert "\n" not in err and "no ppmi.npz" in err and "--save-pmi" in err
    assert main(["contexts", "--vectors", str(lee_folder / "vectors.bin"), "police"]) == 2
    assert "need a model folder" in capsys.readouterr().err
    assert main(["contexts", "--vectors", str(lee_folder), "policewomen"]) == 2
    assert "word 'policewomen' is not in the vocabulary" in capsys.readouterr().err
    assert main(["explain", "--vectors", str(lee_folder), "police", "police"]) == 2
    assert "given twice" in capsys.readouterr().err
    # a changed ppmi.npz is caught by the manifest's checksum
    damaged = tmp_path / "damaged"
    import shutil

    shutil.copytree(lee_folder, damaged)
    with open(damaged / "ppmi.npz", "r+b") as f:
        f.seek(-100, 2)
        f.write(b"\0" * 8)
    assert main(["contexts", "--vectors", str(damaged), "police"]) == 2
    assert "ppmi.npz: checksum mismatch" in capsys.readouterr().err


def test_min_count_lists_only_frequent_contexts_and_keeps_the_sums(fitted):
    model, (ppmi, _) = fitted
    words, freq = model.vocabulary_.words, model.vocabulary_.counts
    i = words.index("police")
    got = model.contexts("police", n=None, min_count=20)
    frequent = [c for c in np.flatnonzero(ppmi[i]) if freq[c] >= 20]
    assert got.min_count == 20 and got.n_contexts == int((ppmi[i] > 0).sum())
    assert sorted(c.word for c in got) == sorted(words[c] for c in frequent)
    assert [c.ppmi for c in got] == sorted((c.ppmi for c in got), reverse=True)
    assert "among context words seen at least 20 times" in str(got)
    full = model.explain("police", "officers", n=None, min_count=1)
    some = model.explain("police", "officers", n=None, min_count=20)
    assert some.ppmi_cosine == full.ppmi_cosine and some.n_shared == full.n_shared
    assert [s.word for s in some.shared] == [s.word for s in full.shared if freq[words.index(s.word)] >= 20]
    assert all(freq[words.index(c.word)] >= 20 for c in some.only1 + some.only2)
    # the default: one per 200,000 tokens of the corpus (lee: 60k tokens, so every context)
    assert model.contexts("police").min_count == max(1, round(model.vocabulary_.total / 200_000)) == 1
    with pytest.raises(Exception, match="min_count=0 must be a positive integer"):
        model.contexts("police", min_count=0)
