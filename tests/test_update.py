"""model.update / pmiembed update: counts against brute force, the warm-started SVD, the command,
the saved token ids, and models saved before them (counts and rare pairs)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from reference import brute_cooccurrence

from pmiembed.cli.main import main
from pmiembed.corpus import read_corpus
from pmiembed.errors import ParameterError, VectorsError
from pmiembed.model import PMIEmbedding
from pmiembed.svd import truncated_svd
from pmiembed.update import (
    ApproximateUpdateWarning,
    concat_corpora,
    count_rare_pairs,
    load_tokens,
    save_tokens,
    warm_svd,
)
from pmiembed.vocab import Vocabulary

COUNTING = dict(window=3, weighting="harmonic", subsample=None)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def halves(lee_docs):
    return lee_docs[:150], lee_docs[150:]


def _model(**kw):
    args = dict(dim=20, min_count=3, keep_counts=True, keep_tokens=True, **COUNTING)
    args.update(kw)
    return PMIEmbedding(**args)


def _type_counts(docs):
    both = read_corpus(docs)
    return both.types, both.counts


def _legacy_model(old, **kw):
    """A model as ``fit`` left it before the token ids were kept: its counts and the
    left-out words' pairs (``rare_pairs_``), what folders with ``rare_pairs.npz`` hold."""
    model = _model(keep_tokens=False, **kw).fit(old)
    model.rare_pairs_ = count_rare_pairs(read_corpus(old), model.vocabulary_, window=3, weighting="harmonic",
                                         subsample=None, subsample_mode="dirty")
    return model


@pytest.mark.parametrize("sub", [dict(subsample=None), dict(subsample=1e-3, subsample_mode="clean"),
                                 dict(subsample=1e-3, subsample_mode="dirty"),
                                 dict(subsample=1e-3, subsample_mode="expected")])
def test_updated_counts_and_pmi_equal_training_on_both(halves, sub):
    """With the token ids kept, the update counts both texts over the vocabulary of
    both: counts, PMI and vocabulary are those of training on both, entry for entry,
    for every subsampling mode (the draws follow the corpus positions); without
    subsampling, the counts are a brute-force count of both texts."""
    old, new = halves
    model = _model(**sub).fit(old)
    assert model.tokens_.n_tokens == sum(map(len, old))
    model.update(new)
    scratch = _model(**sub).fit(old + new)
    assert model.vocabulary_.words == scratch.vocabulary_.words
    assert model.vocabulary_.counts.tolist() == scratch.vocabulary_.counts.tolist()
    assert model.update_summary_["new_words"] > 0
    a, b = model.cooccurrence_.counts, scratch.cooccurrence_.counts
    assert a.nnz == b.nnz and (a != b).nnz == 0
    assert (model.pmi_ != scratch.pmi_).nnz == 0
    assert (model.nneg_ != scratch.nneg_).nnz == 0  # and the bounded matrix the SVD factorises
    if sub["subsample"] is None:
        words = model.vocabulary_.words
        expected = np.zeros((len(words), len(words)))
        for (i, j), w in brute_cooccurrence(old + new, words, 3, "harmonic").items():
            expected[i, j] = w
        np.testing.assert_allclose(model.cooccurrence_.matrix().toarray(), expected, rtol=1e-12, atol=1e-9)
    assert model.tokens_.n_tokens == sum(map(len, old + new))


def test_concatenated_token_ids_are_those_of_reading_both(halves, tmp_path):
    old, new = halves
    (tmp_path / "old.txt").write_text("\n".join(" ".join(d) for d in old) + "\n")
    (tmp_path / "new.txt").write_text("\n".join(" ".join(d) for d in new) + "\n")
    ws = {"tokenize": "whitespace"}  # the files hold the token lists as they are
    both = concat_corpora(read_corpus(tmp_path / "old.txt", **ws), read_corpus(tmp_path / "new.txt", **ws))
    ref = read_corpus([tmp_path / "old.txt", tmp_path / "new.txt"], **ws)
    assert list(both.documents()) == list(ref.documents()) == old + new
    assert both.doc_starts.tolist() == ref.doc_starts.tolist()
    assert dict(zip(both.types, both.counts.tolist())) == dict(zip(ref.types, ref.counts.tolist()))
    save_tokens(both, tmp_path / "t.npz")
    back = load_tokens(tmp_path / "t.npz")
    assert back.types == both.types and (back.ids == both.ids).all() and (back.counts == both.counts).all()
    assert back.doc_starts.tolist() == both.doc_starts.tolist() and back.sources == both.sources
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    with pytest.raises(VectorsError, match="bad.npz"):
        load_tokens(tmp_path / "bad.npz")


def test_updated_counts_equal_brute_force(halves):
    """A model saved before the token ids were kept (counts and rare pairs): old pairs
    of old words (windows without the words the old text left out), old pairs of words
    that joined (windows with every word), new pairs over the new vocabulary: the
    update's counts are exactly their sum."""
    old, new = halves
    model = _legacy_model(old)
    v_old = list(model.vocabulary_.words)
    with pytest.warns(ApproximateUpdateWarning):  # on counts alone: said to be close to, not equal to, both
        model.update(new)
    vocab = model.vocabulary_
    # the vocabulary is the one of both texts counted together
    both = read_corpus(old + new)
    assert vocab.words == Vocabulary.from_counts(both.types, both.counts, min_count=3).words
    assert vocab.counts.tolist() == Vocabulary.from_counts(both.types, both.counts, min_count=3).counts.tolist()
    joined = set(vocab.words) - set(v_old)
    assert joined and model.update_summary_["new_words"] == len(joined)
    all_old_words = sorted({w for d in old for w in d})
    a = brute_cooccurrence(old, v_old, 3, "harmonic")
    b = brute_cooccurrence(old, all_old_words, 3, "harmonic")
    c = brute_cooccurrence(new, vocab.words, 3, "harmonic")
    index = vocab.index
    expected = np.zeros((len(vocab), len(vocab)))
    for (i, j), w in a.items():
        expected[index[v_old[i]], index[v_old[j]]] += w
    for (i, j), w in b.items():
        wi, wj = all_old_words[i], all_old_words[j]
        if wi in index and wj in index and (wi in joined or wj in joined):
            expected[index[wi], index[wj]] += w
    for (i, j), w in c.items():
        expected[i, j] += w
    got = model.cooccurrence_.matrix().toarray()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)
    assert model.cooccurrence_.params["n_tokens"] == sum(map(len, old + new))


def test_with_every_word_kept_an_update_counts_what_training_on_both_counts(halves):
    old, new = halves
    model = _model(min_count=1).fit(old).update(new)
    scratch = _model(min_count=1).fit(old + new)
    assert model.vocabulary_.words == scratch.vocabulary_.words
    a, b = model.cooccurrence_.counts, scratch.cooccurrence_.counts
    assert (a != b).nnz == 0 and a.nnz == b.nnz
    assert model.update_summary_["new_tokens"] == sum(map(len, new))


def test_warm_svd_from_the_previous_vectors_converges_faster(halves):
    """Started from the old text's vectors, the SVD of the updated PPMI matrix is
    closer to ARPACK's singular values than one started from random with as many
    products, and with enough iterations it reaches them."""
    old, new = halves
    # the PPMI matrix is what pmi_ holds and what ARPACK below factorises
    model = _model(dim=30, core_min_count=None, matrix="ppmi").fit(old)
    before, v_old = model.vectors_.copy(), model.vocabulary_
    model.update(new, n_iter=6)
    exact = truncated_svd(model.pmi_, 30, backend="arpack")[1]
    np.testing.assert_allclose(model.singular_values_, exact, rtol=1e-3)
    rows = v_old.id_map(model.vocabulary_.words)
    start = np.zeros((len(model.vocabulary_), 30), dtype=np.float32)
    start[rows >= 0] = before[rows[rows >= 0]]
    for n_iter in (1, 2):
        cold = truncated_svd(model.pmi_, 30, backend="randomized", n_iter=n_iter, n_oversamples=20)[1]
        warm = warm_svd(model.pmi_, 30, start, n_iter=n_iter, n_oversamples=20, symmetric=True)[1]
        assert np.abs(warm / exact - 1).max() < 0.7 * np.abs(cold / exact - 1).max()


def test_update_vectors_close_to_training_on_both(halves):
    """Neighbours of frequent words after an update agree with training on both texts."""
    old, new = halves
    updated = _model(dim=30).fit(old).update(new)
    scratch = _model(dim=30).fit(old + new)
    assert updated.vocabulary_.words == scratch.vocabulary_.words
    agree = []
    for w in scratch.vocabulary_.words[50:90]:
        a = {x for x, _ in updated.wv.most_similar(w, topn=10)}
        b = {x for x, _ in scratch.wv.most_similar(w, topn=10)}
        agree.append(len(a & b) / 10)
    assert np.mean(agree) > 0.5


def test_model_without_counts_says_how_to_retrain(halves, tmp_path, lee_path, capsys):
    old, new = halves
    with pytest.raises(ParameterError, match=r"keep_tokens=True\)\.fit"):
        PMIEmbedding(dim=10, min_count=3, keep_counts=False, keep_tokens=False).fit(old).update(new)
    assert main(["train", str(lee_path), "--out", str(tmp_path / "plain"), "--dim", "10", "--quiet"]) == 0
    code, out, err = run(capsys, "update", lee_path, "--vectors", tmp_path / "plain", "--out", tmp_path / "up")
    assert code == 2 and "--save-counts" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "up").exists()


def test_update_command_and_python_agree_and_chain(halves, tmp_path, capsys):
    old, new = halves
    (tmp_path / "old.txt").write_text("\n".join(" ".join(d) for d in old) + "\n")
    (tmp_path / "new.txt").write_text("\n".join(" ".join(d) for d in new) + "\n")
    flags = ["--dim", "20", "--min-count", "3", "--window", "3", "--weighting", "harmonic", "--sub", "none",
             "--tokenize", "whitespace"]  # the files hold the token lists as they are
    assert main(["train", str(tmp_path / "old.txt"), "--out", str(tmp_path / "a"), "--save-counts", "--quiet",
                 *flags]) == 0
    assert (tmp_path / "a" / "tokens.npz").is_file() and not (tmp_path / "a" / "rare_pairs.npz").exists()
    code, out, err = run(capsys, "update", tmp_path / "new.txt", "--vectors", tmp_path / "a", "--out", tmp_path / "b")
    assert code == 0
    python = _model().fit(old).update(new)
    s = python.update_summary_
    assert f"{s['new_words']:,} new words" in err and f"{s['new_tokens']:,} new tokens" in err
    assert "4 iterations" in err
    loaded = PMIEmbedding.load(tmp_path / "b")
    assert loaded.vocabulary_.words == python.vocabulary_.words
    np.testing.assert_allclose(loaded.vectors_, python.vectors_, atol=1e-5)
    recorded = json.loads((tmp_path / "b" / "params.json").read_text())["corpus"]["updates"][0]
    assert recorded["new_words"] == s["new_words"]
    # an updated model can be updated again (token ids saved), and refuses to overwrite its input
    assert (tmp_path / "b" / "tokens.npz").is_file() and not (tmp_path / "b" / "counts.npz").exists()
    assert load_tokens(tmp_path / "b" / "tokens.npz").n_tokens == sum(map(len, old + new))
    code, out, err = run(capsys, "update", tmp_path / "new.txt", "--vectors", tmp_path / "b", "--out", tmp_path / "c",
                         "--n-iter", "1", "--quiet")
    again = python.update(new, n_iter=1).update_summary_
    assert code == 0 and f"{again['new_words']:,} new words ({again['words']:,} in all)" in err
    # the old text's words seen twice now reach min_count: what training on old, new, new gives
    assert again["words"] == len(Vocabulary.from_counts(*_type_counts(old + new + new), min_count=3))
    code, out, err = run(capsys, "update", tmp_path / "new.txt", "--vectors", tmp_path / "b", "--out", tmp_path / "b",
                         "--force")
    assert code == 2 and "new folder" in err
    # --save-counts: the counts of training on all three texts, as train --save-counts writes them
    code, out, err = run(capsys, "update", tmp_path / "new.txt", "--vectors", tmp_path / "b", "--out", tmp_path / "d",
                         "--save-counts", "--quiet")
    assert code == 0
    scratch = _model(keep_tokens=False).fit(old + new + new)
    saved = PMIEmbedding.load(tmp_path / "d").cooccurrence_.counts
    assert saved.nnz == scratch.cooccurrence_.nnz and (saved != scratch.cooccurrence_.counts).nnz == 0


def test_phrase_model_refuses_update(lee_path, tmp_path, capsys):
    assert main(["train", str(lee_path), "--out", str(tmp_path / "p"), "--dim", "10", "--min-count", "3",
                 "--phrases", "--save-counts", "--quiet"]) == 0
    code, out, err = run(capsys, "update", lee_path, "--vectors", tmp_path / "p", "--out", tmp_path / "q")
    assert code == 2 and "--phrases" in err and not (tmp_path / "q").exists()


def test_token_ids_are_kept_unless_declined(halves):
    """A fit keeps the token ids by default; with ``keep_tokens=False`` its update adds
    to its counts (and warns): words the old text left out can only join on the new
    text's counts (a smaller vocabulary than with the ids kept, which is the from-scratch
    one)."""
    old, new = halves
    plain = _model(keep_tokens=False).fit(old)
    assert plain.tokens_ is None and getattr(plain, "rare_pairs_", None) is None
    asked = _model().fit(old)
    assert asked.tokens_ is not None and (asked.tokens_.ids.size == sum(map(len, old)))
    with pytest.warns(ApproximateUpdateWarning):
        plain.update(new)
    asked.update(new)
    assert set(plain.vocabulary_.words) < set(asked.vocabulary_.words)
    assert np.isfinite(plain.vectors_).all() and len(plain.vectors_) == len(plain.vocabulary_)


def test_the_update_keeps_the_models_core_cap(halves):
    """The warm-started SVD factorises the same core a model trained on both texts would:
    at most ``core_max_words`` words."""
    from pmiembed.svd import core_size

    old, new = halves
    model = _model(core_max_words=100).fit(old).update(new)
    counts = model.vocabulary_.counts
    assert core_size(counts, model.core_min_count, model.dim) > 100
    assert model.n_core_ == 100 == core_size(counts, model.core_min_count, model.dim, 100)


def test_a_folder_saved_before_token_ids_is_still_updated(halves, tmp_path, capsys):
    """counts.npz + rare_pairs.npz (the earlier format): the command updates from the
    counts, as the Python legacy path does, and saves counts again for the next update."""
    old, new = halves
    (tmp_path / "new.txt").write_text("\n".join(" ".join(d) for d in new) + "\n")
    _legacy_model(old).save(tmp_path / "a", save_counts=True)
    assert (tmp_path / "a" / "rare_pairs.npz").is_file() and not (tmp_path / "a" / "tokens.npz").exists()
    code, out, err = run(capsys, "update", tmp_path / "new.txt", "--vectors", tmp_path / "a", "--out", tmp_path / "b")
    assert code == 0, err
    with pytest.warns(ApproximateUpdateWarning):
        python = _legacy_model(old).update(tmp_path / "new.txt")  # read as the command reads it
    loaded = PMIEmbedding.load(tmp_path / "b")
    assert loaded.vocabulary_.words == python.vocabulary_.words
    np.testing.assert_allclose(loaded.vectors_, python.vectors_, atol=1e-5)
    assert (loaded.cooccurrence_.counts != python.cooccurrence_.counts).nnz == 0
