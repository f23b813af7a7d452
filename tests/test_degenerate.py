"""Issue 15, item 1: text whose co-occurrences are nearly low-rank.

Templated lines, a word that co-occurs with everything (star), repeated boilerplate
and tiny vocabularies make the PPMI matrix rank-deficient.  Every backend must then
either give finite vectors that are not collapsed onto one direction, or refuse in
one line naming the rank it found and ``dim``: never divide by singular values at
rounding noise (the fold-in's ``u = a V S^-1``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pmiembed import PMIEmbedding
from pmiembed.errors import ParameterError, PMIEmbedError
from pmiembed.svd import SVD_BACKENDS, check_rank, fold_in, noise_level


def star_lines(lee_docs, n_words):
    """Every token of real text paired with one hub word: rank 2."""
    words = [w for doc in lee_docs for w in doc][:n_words]
    return [["x", w] for w in words]


def test_star_corpus_is_refused_naming_rank_and_dim(lee_docs):
    """The issue's reproduction (``awk '{print "x " $i}'`` over Lee): every backend,
    with and without a core, in place or blocked, says rank 2 < dim 50 (of the PPMI
    matrix; scikit-learn's backend takes no other)."""
    docs = star_lines(lee_docs, 10**9)
    for svd in SVD_BACKENDS:
        for core in (5, None):
            for memory in (None, 1):
                with pytest.raises(ParameterError) as exc:
                    PMIEmbedding(dim=50, svd=svd, core_min_count=core, memory=memory, matrix="ppmi").fit(docs)
                msg = str(exc.value)
                assert "\n" not in msg
                assert msg.startswith("dim=50: the PPMI matrix has only 2 dimensions above rounding noise"), msg
                assert "lower dim to at most 2" in msg


def test_star_corpus_within_its_rank_gives_finite_unit_scale_vectors(lee_docs):
    m = PMIEmbedding(dim=2, abtt=None, matrix="ppmi").fit(star_lines(lee_docs, 10**9))
    v = m.vectors_
    assert np.isfinite(v).all()
    # every leaf has the same PPMI row (log 2 at the hub), so the same vector, whether
    # it is in the core or folded in (not scaled by 1/noise)
    assert m.vocabulary_.words[0] == "x" and m.n_core_ is not None and m.n_core_ < len(v)
    assert np.allclose(v[1:], v[1], rtol=1e-3, atol=1e-6)


def test_fold_in_never_divides_by_noise():
    rng = np.random.default_rng(0)
    import scipy.sparse as sp

    a = sp.random(60, 60, density=0.3, random_state=1, dtype=np.float32).tocsr()
    u = rng.standard_normal((30, 3)).astype(np.float32)
    vt = rng.standard_normal((3, 30)).astype(np.float32)
    s = np.array([5.0, 1.0, 1e-9], dtype=np.float32)
    u2, _, vt2 = fold_in(a, u, s, vt)
    assert np.isfinite(u2).all() and np.abs(u2[30:, 2]).max() == 0 and np.abs(vt2[2, 30:]).max() == 0
    assert 1e-9 < noise_level(s, np.float32) < 1.0
    with pytest.raises(ParameterError, match="only 2 dimensions"):
        check_rank(s, 3, np.float32)


# ---------------------------------------------------------------- the property


@st.composite
def degenerate_corpora(draw):
    kind = draw(st.sampled_from(["template", "star", "repeated", "tiny", "template+text"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_fill = draw(st.integers(3, 60))
    fillers = [f"w{i}" for i in range(n_fill)]
    lines: list[list[str]] = []
    if kind in ("template", "template+text"):
        templates = [["the", "_", "sat", "on", "the", "mat"], ["a", "_", "ran", "to", "_"], ["_", "is", "here"]]
        k = draw(st.integers(1, len(templates)))
        for _ in range(draw(st.integers(50, 400))):
            t = templates[int(rng.integers(k))]
            lines.append([str(rng.choice(fillers)) if w == "_" else w for w in t])
        if kind == "template+text":
            lines += [[str(w) for w in rng.choice(fillers + ["and", "of"], size=int(rng.integers(3, 12)))]
                      for _ in range(30)]
    elif kind == "star":
        hub = draw(st.integers(1, 3))
        for _ in range(draw(st.integers(50, 400))):
            lines.append([f"hub{int(rng.integers(hub))}", str(rng.choice(fillers))])
    elif kind == "repeated":
        base = [str(w) for w in rng.choice(fillers, size=int(rng.integers(3, 15)))]
        lines = [base] * draw(st.integers(5, 300))
        lines += [[str(w) for w in rng.choice(fillers, size=4)] for _ in range(draw(st.integers(0, 5)))]
    else:  # tiny vocabulary, random order
        vocab = fillers[: draw(st.integers(3, 8))]
        lines = [[str(w) for w in rng.choice(vocab, size=int(rng.integers(2, 10)))]
                 for _ in range(draw(st.integers(20, 300)))]
    return kind, lines


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(corpus=degenerate_corpora(), dim=st.integers(2, 30), svd=st.sampled_from(SVD_BACKENDS),
       core=st.sampled_from([None, 2, 5]), window=st.integers(1, 5), neg=st.sampled_from([1.0, 5.0]))
def test_degenerate_corpora_give_sound_vectors_or_a_clean_refusal(corpus, dim, svd, core, window, neg):
    _, lines = corpus
    model = PMIEmbedding(dim=dim, svd=svd, core_min_count=core, min_count=1, window=window, neg=neg,
                         subsample=None, abtt=None, seed=0)
    try:
        model.fit(lines)
    except PMIEmbedError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg
        event(f"{corpus[0]}: refused ({type(exc).__name__})")
        return
    event(f"{corpus[0]}: vectors")
    v = model.vectors_
    assert np.isfinite(v).all()
    s = model.singular_values_
    assert np.all(s > noise_level(s, np.float32)), s  # no direction at noise level was kept
    live = np.flatnonzero(v.any(axis=1))
    # rare words are not blown up by 1/s: no vector is far longer than the core's
    norms = np.linalg.norm(v[live], axis=1)
    core_rows = live[live < (model.n_core_ or len(v))]
    assert norms.max() <= 50 * np.linalg.norm(v[core_rows], axis=1).max() + 1e-6
    # random pairs of words with different PPMI rows are not collapsed onto one direction
    pmi = model.pmi_.toarray()
    rows = pmi / np.maximum(np.linalg.norm(pmi, axis=1, keepdims=True), 1e-30)
    unit = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-30)
    rng = np.random.default_rng(0)
    pairs = rng.choice(live, size=(200, 2)) if len(live) > 1 else np.zeros((0, 2), int)
    distinct = [(i, j) for i, j in pairs if i != j and rows[i] @ rows[j] < 0.99]
    if len(distinct) >= 10 and dim >= 3:  # in 1 or 2 dimensions directions coincide by necessity
        cos = np.array([unit[i] @ unit[j] for i, j in distinct])
        assert np.median(cos) < 0.999, np.median(cos)


@pytest.mark.parametrize("command", [["train"], ["compare", "--no-word2vec"]])
def test_star_corpus_through_the_command_line(tmp_path, lee_path, capsys, command):
    from pmiembed.cli.main import main

    corpus = tmp_path / "xw.txt"  # awk '{for(i=1;i<=NF;i++) print "x " $i}' lee_background.cor
    with open(lee_path, encoding="utf-8") as f, open(corpus, "w", encoding="utf-8") as out:
        for line in f:
            out.writelines(f"x {w}\n" for w in line.split())
    code = main([command[0], str(corpus), *command[1:], "--out", str(tmp_path / "o"), "--dim", "50", "--quiet",
                 "--tokenize", "whitespace"])  # the star is made of whitespace tokens
    _, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "has only 2 dimensions above rounding noise" in lines[0], err
    assert "lower --dim to at most 2" in lines[0]
    assert not (tmp_path / "o").exists()
