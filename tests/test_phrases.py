"""Collocations and phrases against brute-force references and gensim's Phrases."""

from __future__ import annotations

import gzip
import math
from collections import Counter
from pathlib import Path

import pytest

from pmiembed.cli.main import main
from pmiembed.corpus import read_corpus
from pmiembed.errors import ParameterError
from pmiembed.phrases import Phrases, collocations, count_bigrams

ROOT = Path(__file__).resolve().parents[1]
TEXT8_HEAD = ROOT / "corpora" / "text8-head.txt.gz"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def brute_bigrams(docs):
    unigrams = Counter(w for d in docs for w in d)
    bigrams = Counter((a, b) for d in docs for a, b in zip(d, d[1:]))
    return unigrams, bigrams, sum(len(d) for d in docs)


def brute_scores(ca, cb, cab, n):
    pmi = math.log((cab / n) / ((ca / n) * (cb / n)))
    npmi = pmi / -math.log(cab / n)
    table = [[cab, ca - cab], [cb - cab, n - ca - cb + cab]]
    rows = [sum(r) for r in table]
    cols = [table[0][j] + table[1][j] for j in range(2)]
    llr = 2 * sum(table[i][j] * math.log(table[i][j] / (rows[i] * cols[j] / n))
                  for i in range(2) for j in range(2) if table[i][j] > 0)
    return pmi, npmi, llr


@pytest.mark.parametrize("min_count", [1, 3])
def test_bigram_counts_and_scores_equal_brute_force(lee_docs, min_count):
    docs = lee_docs
    uni, bi, n = brute_bigrams(docs)
    b = count_bigrams(read_corpus(docs), min_count)
    got = {(b.types[a], b.types[c]): int(k) for a, c, k in zip(b.first, b.second, b.count)}
    assert got == {k: v for k, v in bi.items() if v >= min_count}
    assert b.n_tokens == n
    s = b.scores()
    for i in range(0, len(b), max(1, len(b) // 500)):
        a, c = b.types[b.first[i]], b.types[b.second[i]]
        pmi, npmi, llr = brute_scores(uni[a], uni[c], bi[(a, c)], n)
        assert s["pmi"][i] == pytest.approx(pmi, rel=1e-12)
        assert s["npmi"][i] == pytest.approx(npmi, rel=1e-9, abs=1e-12)
        assert s["llr"][i] == pytest.approx(llr, rel=1e-9)


def test_no_pairs_across_documents():
    docs = [["new", "york"], ["york", "new"], ["new", "york"]]
    b = count_bigrams(read_corpus(docs), 1)
    got = {(b.types[a], b.types[c]): int(k) for a, c, k in zip(b.first, b.second, b.count)}
    assert got == {("new", "york"): 2, ("york", "new"): 1}


@pytest.mark.parametrize("measure", ["npmi", "pmi", "llr"])
def test_collocations_rank_as_brute_force(lee_docs, measure):
    uni, bi, n = brute_bigrams(lee_docs)
    col = {"pmi": 0, "npmi": 1, "llr": 2}[measure]
    ranked = sorted(((k, v) for k, v in bi.items() if v >= 5),
                    key=lambda kv: (-brute_scores(uni[kv[0][0]], uni[kv[0][1]], kv[1], n)[col], -kv[1], kv[0]))
    top = collocations(lee_docs, n=15, min_count=5, measure=measure)
    assert [(a, b) for a, b, *_ in top] == [k for k, _ in ranked[:15]]
    assert all(c >= 5 for _, _, c, *_ in top)


def _gensim_phrases(docs, min_count, threshold):
    from gensim.models.phrases import Phrases as GensimPhrases

    return GensimPhrases(docs, min_count=min_count, threshold=threshold, scoring="npmi")


@pytest.mark.parametrize("min_count,threshold", [(5, 0.5), (3, 0.3), (10, 0.7)])
def test_phrase_set_equals_gensim_on_lee(lee_docs, min_count, threshold):
    mine = Phrases(lee_docs, min_count=min_count, threshold=threshold).export_phrases()
    theirs = _gensim_phrases(lee_docs, min_count, threshold).export_phrases()
    assert mine.keys() == theirs.keys() and len(mine) > 10
    assert all(mine[k] == pytest.approx(theirs[k], rel=1e-12) for k in mine)


def test_phrase_set_equals_gensim_on_text8_head():
    """The bundled 1.17M tokens of text8 (one line, one document), default settings."""
    tokens = read_corpus(TEXT8_HEAD)
    docs = list(tokens.documents())
    mine = Phrases(tokens, min_count=5, threshold=0.5)
    theirs = _gensim_phrases(docs, 5, 0.5).export_phrases()
    assert mine.export_phrases().keys() == theirs.keys()
    assert len(theirs) > 1000 and "prime_minister" in theirs


def test_two_passes_join_as_gensim_trained_on_its_own_output(lee_docs):
    bigram = _gensim_phrases(lee_docs, 3, 0.3)
    joined = [bigram[d] for d in lee_docs]
    trigram = _gensim_phrases(joined, 3, 0.3)
    expected = [trigram[d] for d in joined]
    p = Phrases(lee_docs, min_count=3, threshold=0.3, passes=2)
    assert len(p.phrases_) == 2 and len(p.phrases_[1]) > 0
    assert list(p.transform(lee_docs).documents()) == expected  # on token ids
    assert [p[d] for d in lee_docs] == expected  # on token lists
    assert list(p[lee_docs]) == expected
    assert any(w.count("_") >= 2 for d in expected for w in d)  # longer phrases appear


def test_phrases_bad_parameters():
    with pytest.raises(ParameterError, match="threshold"):
        Phrases([["a", "b"]], threshold=2.0)
    with pytest.raises(ParameterError, match="passes"):
        Phrases([["a", "b"]], passes=0)
    with pytest.raises(ParameterError, match="token"):
        Phrases([["a", "b"]], min_count=1)["a b"]


def lee_words(lee_path):
    """Lee's documents as the commands read the file by default (tokenize words,
    lowercased), as token lists (which the library takes as they are)."""
    return list(read_corpus(lee_path).documents())


def test_collocations_command(lee_path, capsys):
    code, out, err = run(capsys, "collocations", lee_path, "-n", "7", "--min-count", "5")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "pair\tcount\tpmi\tnpmi\tllr" and len(lines) == 8
    top = collocations(lee_words(lee_path), n=7, min_count=5)
    for line, (a, b, c, pmi, npmi, llr) in zip(lines[1:], top):
        pair, count, p, q, g = line.split("\t")
        assert pair == f"{a} {b}" and int(count) == c and float(q) == pytest.approx(npmi, abs=1e-4)


def test_phrases_command_writes_what_transform_gives(lee_path, tmp_path, capsys):
    out = tmp_path / "phrased.txt.gz"
    code, _, err = run(capsys, "phrases", lee_path, "--out", out, "--threshold", "0.3", "--min-count", "3",
                       "--passes", "2", "--quiet")
    assert code == 0 and err == ""
    with gzip.open(out, "rt", encoding="utf-8") as f:
        written = [line.split() for line in f]
    docs = lee_words(lee_path)
    expected = list(Phrases(docs, min_count=3, threshold=0.3, passes=2).transform(docs).documents())
    assert written == expected
    # an existing output is refused, one line, exit 2, file untouched
    before = out.read_bytes()
    code, _, err = run(capsys, "phrases", lee_path, "--out", out)
    assert code == 2 and "exists" in err and len(err.strip().splitlines()) == 1 and out.read_bytes() == before


@pytest.mark.parametrize("argv,needle", [
    (["phrases", "{lee}", "--out", "{tmp}/x.txt", "--threshold", "1.5"], "threshold"),
    (["collocations", "{tmp}/missing.txt"], "missing.txt"),
    (["collocations", "{lee}", "--measure", "dice"], "measure"),
])
def test_phrase_commands_user_errors(argv, needle, lee_path, tmp_path, capsys):
    argv = [a.format(lee=lee_path, tmp=tmp_path) for a in argv]
    try:
        code, out, err = run(capsys, *argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
        out, err = capsys.readouterr()
    assert code == 2 and needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.txt").exists()


def test_train_with_phrases_gives_phrase_vectors(lee_path, tmp_path, capsys):
    from gensim.models import KeyedVectors

    code, out, err = run(capsys, "train", lee_path, "--out", tmp_path / "v", "--dim", "20", "--min-count", "3",
                         "--phrases", "--phrase-threshold", "0.3", "--phrase-min-count", "3")
    assert code == 0 and "phrases:" in err
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "v" / "vectors.bin"), binary=True)
    docs = lee_words(lee_path)
    p = Phrases(docs, min_count=3, threshold=0.3)
    joined = Counter(w for d in p.transform(docs).documents() for w in d)
    expected = {w for w, c in joined.items() if c >= 3}
    assert set(kv.key_to_index) == expected
    assert any("_" in w for w in kv.key_to_index)
