"""Tests for pmiembed.evaluate: strict readers, benchmark lookup, and cross-checks of the
similarity and analogy scores against gensim and a brute-force reference on real data
(a small word2vec model trained on gensim's bundled Lee corpus)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from pmiembed import evaluate as ev
from pmiembed.datasets import data_dir, gensim_test_data
from pmiembed.errors import BenchmarkError, PMIEmbedError

GENSIM_WS353 = gensim_test_data() / "wordsim353.tsv"
GENSIM_SIMLEX = gensim_test_data() / "simlex999.txt"
GENSIM_GOOGLE = gensim_test_data() / "questions-words.txt"

needs_data = pytest.mark.skipif(data_dir() is None, reason="needs the benchmarks: set PMIEMBED_DATA to "
                                "a folder holding benchmarks/similarity/*.txt and benchmarks/analogy/*.txt")


# --------------------------------------------------------------------------- fixtures


class _LowercasedLee:
    """Lee background corpus, one sentence per line, tokens lowercased (restartable)."""

    def __iter__(self):
        from gensim.models.word2vec import LineSentence
        from gensim.test.utils import datapath

        for sentence in LineSentence(datapath("lee_background.cor")):
            yield [w.lower() for w in sentence]


@pytest.fixture(scope="module")
def lee_kv():
    from gensim.models import Word2Vec

    model = Word2Vec(
        _LowercasedLee(), vector_size=50, window=5, min_count=2, sg=1, negative=5, epochs=5, workers=1, seed=1
    )
    return model.wv


def _write(path, text: str, newline: str = "\n"):
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


# --------------------------------------------------------------------------- readers


def test_read_similarity_handles_crlf_tabs_spaces_comments_header_and_case(tmp_path):
    text = (
        "# a comment line\n"
        "word1 word2 score\n"  # header row: score is not a number
        "\n"
        "Tiger\tcat\t7.35\n"
        "book  paper 7.46\n"
        "   \n"
        "# another comment\n"
        "Jerusalem\tIsrael 8.46\n"
    )
    path = _write(tmp_path / "pairs.txt", text, newline="\r\n")
    data = ev.read_similarity(path)
    assert data.name == "pairs"
    assert data.pairs == [("tiger", "cat"), ("book", "paper"), ("jerusalem", "israel")]
    np.testing.assert_array_equal(data.scores, [7.35, 7.46, 8.46])
    kept = ev.read_similarity(path, lowercase=False)
    assert kept.pairs[0] == ("Tiger", "cat") and kept.pairs[2] == ("Jerusalem", "Israel")


@pytest.mark.parametrize(
    "bad_line, message",
    [("tiger cat", "expected 3 fields"), ("tiger cat 7 8", "expected 3 fields"), ("tiger cat high", "not a finite")],
)
def test_read_similarity_malformed_line_names_file_and_line(tmp_path, bad_line, message):
    path = _write(tmp_path / "broken_sim.txt", f"# header comment\nlove sex 6.77\n\n{bad_line}\nbook paper 7.46\n")
    with pytest.raises(BenchmarkError, match=message) as info:
        ev.read_similarity(path)
    assert "broken_sim.txt:4:" in str(info.value)
    assert "\n" not in str(info.value)


def test_read_analogy_sections_crlf_case_and_unsectioned_lines(tmp_path):
    text = (
        ": capital-common-countries\n"
        "Athens Greece Baghdad Iraq\n"
        "Athens\tGreece\tBangkok\tThailand\n"
        "\n"
        ": gram1-adjective-to-adverb\n"
        "amazing amazingly apparent apparently\n"
    )
    data = ev.read_analogy(_write(tmp_path / "g.txt", text, newline="\r\n"))
    assert list(data.sections) == ["capital-common-countries", "gram1-adjective-to-adverb"]
    assert data.sections["capital-common-countries"] == [
        ("athens", "greece", "baghdad", "iraq"),
        ("athens", "greece", "bangkok", "thailand"),
    ]
    assert len(data) == 3 and data.questions[-1] == ("amazing", "amazingly", "apparent", "apparently")
    kept = ev.read_analogy(tmp_path / "g.txt", lowercase=False)
    assert kept.questions[0] == ("Athens", "Greece", "Baghdad", "Iraq")

    msr = ev.read_analogy(_write(tmp_path / "m.txt", "good\tbetter\trough\trougher\nbetter good rougher rough\n"),
                          name="msr")
    assert list(msr.sections) == ["msr"] and len(msr) == 2


@pytest.mark.parametrize("bad_line", ["a b c", "a b c d e", ":"])
def test_read_analogy_malformed_line_names_file_and_line(tmp_path, bad_line):
    path = _write(tmp_path / "broken_an.txt", f": family\nboy girl brother sister\n{bad_line}\n")
    with pytest.raises(BenchmarkError) as info:
        ev.read_analogy(path)
    assert "broken_an.txt:3:" in str(info.value)


def test_missing_file_unknown_name_and_undetectable_kind(tmp_path):
    missing = tmp_path / "nope.txt"
    for call in (lambda: ev.read_similarity(missing), lambda: ev.load_benchmark(missing),
                 lambda: ev.evaluate(None, [missing])):
        with pytest.raises(BenchmarkError, match="nope.txt"):
            call()
    with pytest.raises(BenchmarkError) as info:
        ev.load_benchmark("wordsim")
    for name in ev.BENCHMARKS:
        assert name in str(info.value)
    with pytest.raises(BenchmarkError, match="odd.txt:2:"):
        ev.load_benchmark(_write(tmp_path / "odd.txt", "# c\na b c d e\n"))
    with pytest.raises(BenchmarkError, match="empty.txt"):
        ev.read_similarity(_write(tmp_path / "empty.txt", "# only a comment\n\n"))
    assert issubclass(BenchmarkError, PMIEmbedError)


def test_kind_detection_for_paths(tmp_path):
    sim = ev.load_benchmark(_write(tmp_path / "mysim.txt", "a b 1\nc d 2\n"))
    ana = ev.load_benchmark(_write(tmp_path / "myana.txt", "a b c d\n"))
    sec = ev.load_benchmark(_write(tmp_path / "mysec.txt", ": s\na b c d\n"))
    assert (sim.kind, sim.name, len(sim)) == ("similarity", "mysim", 2)
    assert (ana.kind, ana.name, len(ana)) == ("analogy", "myana", 1)
    assert sec.kind == "analogy" and list(sec.sections) == ["s"]
    # gensim's copies: '#' comment lines at the top, tab separated
    ws = ev.load_benchmark(GENSIM_WS353)
    assert ws.kind == "similarity" and len(ws) == 353


def test_gensim_fallback_without_data_dir(monkeypatch):
    monkeypatch.delenv("PMIEMBED_DATA", raising=False)
    assert ev.available_benchmarks() == ["ws353", "simlex999", "google"]
    assert len(ev.load_benchmark("ws353")) == 353
    assert len(ev.load_benchmark("simlex999")) == 999
    google = ev.load_benchmark("google")
    assert len(google) == 19544 and len(google.sections) == 14
    with pytest.raises(BenchmarkError, match="PMIEMBED_DATA"):
        ev.load_benchmark("men")


def test_data_dir_takes_precedence_and_gensim_fills_gaps(monkeypatch, tmp_path):
    (tmp_path / "benchmarks" / "similarity").mkdir(parents=True)
    _write(tmp_path / "benchmarks" / "similarity" / "men.txt", "sun sunlight 50.0\nriver water 49.0\n")
    _write(tmp_path / "benchmarks" / "similarity" / "ws353.txt", "tiger cat 7.35\n")
    monkeypatch.setenv("PMIEMBED_DATA", str(tmp_path))
    assert ev.available_benchmarks() == ["ws353", "simlex999", "men", "google"]
    assert len(ev.load_benchmark("men")) == 2
    assert len(ev.load_benchmark("ws353")) == 1  # the data directory's copy wins
    assert len(ev.load_benchmark("simlex999")) == 999  # gensim's copy fills the gap
    with pytest.raises(BenchmarkError, match="msr"):
        ev.load_benchmark("msr")


@needs_data
def test_all_eight_benchmarks_load_with_their_sizes():
    expected = {
        "ws353": 353,
        "ws353_similarity": 203,
        "ws353_relatedness": 252,
        "simlex999": 999,
        "men": 3000,
        "rw": 2034,
        "google": 19544,
        "msr": 8000,
    }
    assert ev.available_benchmarks() == list(ev.BENCHMARKS)
    for name, size in expected.items():
        data = ev.load_benchmark(name)
        assert len(data) == size, name
        assert data.kind == ("analogy" if name in ("google", "msr") else "similarity")
        assert str(data_dir()) in data.path
    google = ev.load_benchmark("google")
    assert list(google.sections)[:5] == list(ev.GOOGLE_SEMANTIC_SECTIONS)
    assert len(google.sections) == 14 and all(s.startswith("gram") for s in list(google.sections)[5:])
    assert list(ev.load_benchmark("msr").sections) == ["msr"]
    # the data directory's copies agree with gensim's (which are read with comment lines)
    assert ev.load_benchmark("ws353").pairs == ev.read_similarity(GENSIM_WS353).pairs
    assert ev.load_benchmark("google").questions == ev.read_analogy(GENSIM_GOOGLE).questions
    for name in ("rw", "men", "ws353_relatedness"):  # every word lowercased, no stray '\r'
        assert all(w == w.lower().strip() for pair in ev.load_benchmark(name).pairs for w in pair)


# --------------------------------------------------------------------------- similarity


@pytest.mark.parametrize("path", [GENSIM_WS353, GENSIM_SIMLEX], ids=["ws353", "simlex999"])
def test_similarity_equals_gensim_evaluate_word_pairs(lee_kv, path):
    pearson, spearman, oov_percent = lee_kv.evaluate_word_pairs(str(path))
    result = ev.evaluate_similarity(lee_kv, ev.read_similarity(path))
    assert result.n_known >= 50  # enough known pairs for the comparison to mean something
    assert result.n_known == round(result.n * (1 - oov_percent / 100))
    assert result.score == pytest.approx(spearman.statistic, abs=1e-9)
    assert result.pearson == pytest.approx(pearson.statistic, abs=1e-5)
    assert result.coverage == pytest.approx(1 - oov_percent / 100)


def test_similarity_with_no_known_pair_is_nan(lee_kv, tmp_path):
    data = ev.read_similarity(_write(tmp_path / "oov.txt", "qwzx vbnm 1\nzzzq xxxq 2\n"))
    result = ev.evaluate_similarity(lee_kv, data)
    assert result.n_known == 0 and math.isnan(result.score) and result.coverage == 0.0


# --------------------------------------------------------------------------- analogy


@pytest.mark.parametrize("restrict_vocab", [1000, None])
def test_google_3cosadd_equals_gensim_evaluate_word_analogies(lee_kv, restrict_vocab):
    gensim_rv = restrict_vocab or len(lee_kv)
    score, sections = lee_kv.evaluate_word_analogies(str(GENSIM_GOOGLE), restrict_vocab=gensim_rv)
    ours = ev.evaluate_analogy(lee_kv, ev.read_analogy(GENSIM_GOOGLE), restrict_vocab=restrict_vocab)
    total = sections[-1]
    assert ours.n == 19544
    assert ours.n_known == len(total["correct"]) + len(total["incorrect"]) > 0
    assert ours.correct_add == len(total["correct"])
    assert ours.accuracy_add_known == pytest.approx(score)
    assert ours.accuracy_add == pytest.approx(len(total["correct"]) / 19544)
    assert ours.coverage == pytest.approx(ours.n_known / 19544)
    for section in sections[:-1]:  # gensim lists only sections with at least one question
        mine = ours.sections[section["section"]]
        assert mine.n_known == len(section["correct"]) + len(section["incorrect"]), section["section"]
        assert mine.correct_add == len(section["correct"]), section["section"]
    assert sum(s.n for s in ours.sections.values()) == 19544
    semantic, syntactic = ours.groups["semantic"], ours.groups["syntactic"]
    assert semantic.n + syntactic.n == 19544 and semantic.n == 8869
    assert semantic.correct_add + syntactic.correct_add == ours.correct_add


def _brute_force_answers(kv, questions, restrict_vocab):
    """Per-question 3CosAdd (via gensim's most_similar) and 3CosMul (plain numpy loop in
    float64, Levy & Goldberg's formula as written) answers over the top words."""
    W = kv.vectors[:restrict_vocab].astype(np.float64)
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    add, mul = [], []
    for a, b, c, _ in questions:
        add.append(kv.most_similar(positive=[b, c], negative=[a], topn=1, restrict_vocab=restrict_vocab)[0][0])
        ia, ib, ic = (kv.key_to_index[w] for w in (a, b, c))
        shifted = [(W @ W[i] + 1.0) / 2.0 for i in (ia, ib, ic)]
        score = shifted[1] * shifted[2] / (shifted[0] + 0.001)
        score[[ia, ib, ic]] = -np.inf
        mul.append(kv.index_to_key[int(np.argmax(score))])
    return add, mul


def test_analogy_answers_equal_gensim_and_brute_force_cosmul(lee_kv, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    restrict = 800
    triples = [tuple(rng.choice(restrict, size=3, replace=False)) for _ in range(300)]
    questions = [tuple(lee_kv.index_to_key[i] for i in t) + ("?",) for t in triples]
    want_add, want_mul = _brute_force_answers(lee_kv, questions, restrict)
    assert 0 < sum(x != y for x, y in zip(want_add, want_mul)) < len(questions)  # the methods differ
    # Expected answer: the 3CosAdd answer for even questions, the 3CosMul one for odd ones.
    lines = [f"{a} {b} {c} {want_add[i] if i % 2 == 0 else want_mul[i]}" for i, (a, b, c, _) in enumerate(questions)]
    data = ev.read_analogy(_write(tmp_path / "own.txt", "\n".join(lines) + "\n"))
    expected_add = sum(line.split()[3] == w for line, w in zip(lines, want_add))
    expected_mul = sum(line.split()[3] == w for line, w in zip(lines, want_mul))
    assert 150 <= expected_add < 300 and 150 <= expected_mul < 300

    # cosines for all questions at once / per batch of 7 questions (small memory budget)
    for batch_size, budget in [(512, ev._SIMS_BUDGET), (7, 100_000)]:
        monkeypatch.setattr(ev, "_SIMS_BUDGET", budget)
        ours = ev.evaluate_analogy(lee_kv, data, restrict_vocab=restrict, batch_size=batch_size, keep_answers=True)
        assert ours.answers_add == want_add
        assert ours.answers_mul == want_mul
        assert (ours.n_known, ours.correct_add, ours.correct_mul) == (300, expected_add, expected_mul)


def test_cosmul_epsilon_is_levy_goldberg_0_001(tmp_path):
    """In 3 dimensions candidates nearly opposite to ``a`` are common, so the epsilon
    decides many answers: ours must follow eps = 0.001 on the [0, 1]-shifted cosines."""
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(0)
    kv = KeyedVectors(3)
    kv.add_vectors([f"v{i}" for i in range(3000)], rng.standard_normal((3000, 3)).astype(np.float32))
    W = kv.get_normed_vectors().astype(np.float64)
    lines, differs = [], 0
    for _ in range(300):
        a, b, c = rng.choice(3000, size=3, replace=False)
        shifted = [(W @ W[i] + 1) / 2 for i in (a, b, c)]
        answers = []
        for eps in (0.001, 1e-6):
            score = shifted[1] * shifted[2] / (shifted[0] + eps)
            score[[a, b, c]] = -np.inf
            answers.append(int(np.argmax(score)))
        differs += answers[0] != answers[1]
        lines.append(f"v{a} v{b} v{c} v{answers[0]}")
    assert differs >= 5
    data = ev.read_analogy(_write(tmp_path / "eps.txt", "\n".join(lines) + "\n"))
    assert ev.evaluate_analogy(kv, data, restrict_vocab=None).correct_mul == 300


def test_question_known_only_if_all_four_words_in_restricted_vocab(lee_kv, tmp_path):
    top = lee_kv.index_to_key
    rare = top[1500]
    text = (f"{top[1]} {top[2]} {top[3]} {top[4]}\n{top[1]} {top[2]} {top[3]} {rare}\n"
            f"{rare} {top[2]} {top[3]} {top[4]}\nqqqx {top[2]} {top[3]} {top[4]}\n")
    data = ev.read_analogy(_write(tmp_path / "k.txt", text))
    assert ev.evaluate_analogy(lee_kv, data, restrict_vocab=1000).n_known == 1
    assert ev.evaluate_analogy(lee_kv, data, restrict_vocab=2000).n_known == 3
    result = ev.evaluate_analogy(lee_kv, data, restrict_vocab=1000, keep_answers=True)
    assert result.answers_add[1:] == [None, None, None] and result.answers_add[0] in top[:1000]
    assert result.accuracy_add == result.correct_add / 4


def test_case_insensitive_matching_excludes_every_spelling_like_gensim(tmp_path):
    """Mixed-case vocabulary with near-duplicate capitalised variants: the variant of a
    question word would win unless all spellings of a, b, c are excluded (gensim's rule)."""
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(3)
    base = [f"w{i}" for i in range(40)]
    vectors = rng.standard_normal((40, 8)).astype(np.float32)
    variants = [w.upper() for w in base[:20]]  # less frequent rows after the bases
    kv = KeyedVectors(8)
    kv.add_vectors(base + variants, np.vstack([vectors, vectors[:20] + 0.01]).astype(np.float32))
    W = kv.get_normed_vectors().astype(np.float64)
    fold = np.array([kv.key_to_index[k.lower()] for k in kv.index_to_key])
    lines, naive_differs = [], 0
    for _ in range(60):
        a, b, c = rng.choice(20, size=3, replace=False)
        score = W @ (W[b] - W[a] + W[c])
        naive = score.copy()
        naive[[a, b, c]] = -np.inf
        score[np.isin(fold, [a, b, c])] = -np.inf
        naive_differs += fold[np.argmax(naive)] != fold[np.argmax(score)]
        d = kv.index_to_key[fold[np.argmax(score)]]
        lines.append(f"{base[a].upper()} {base[b]} {base[c]} {d.upper()}")  # mixed case in the file
    assert naive_differs > 10  # excluding only a, b, c themselves would change many answers
    path = _write(tmp_path / "case.txt", ": mixed\n" + "\n".join(lines) + "\n")
    ours = ev.evaluate_analogy(kv, ev.read_analogy(path), restrict_vocab=None)
    gensim_score, _ = kv.evaluate_word_analogies(str(path))
    assert ours.n_known == 60 and ours.correct_add == 60 and gensim_score == 1.0
    # Case-sensitive: "W3" is its own (variant) row, and "W25" does not exist at all.
    strict = ev.evaluate_analogy(kv, ev.read_analogy(path, lowercase=False), case_insensitive=False)
    assert strict.n_known == sum(line.split()[3] in kv.key_to_index for line in lines) < 60


# --------------------------------------------------------------------------- entry point


def test_evaluate_all_and_results_to_dict_is_json(lee_kv, monkeypatch):
    monkeypatch.delenv("PMIEMBED_DATA", raising=False)
    results = ev.evaluate(lee_kv)
    assert list(results) == ["ws353", "simlex999", "google"]
    flat = ev.results_to_dict(results)
    text = json.dumps(flat, allow_nan=False)
    assert json.loads(text) == flat
    assert set(flat["ws353"]) >= {"score", "coverage", "n", "n_known"}
    google = flat["google"]
    assert set(google) >= {"3cosadd", "3cosmul", "coverage", "3cosadd_known", "3cosmul_known", "restrict_vocab"}
    assert list(google["sections"])[:2] == ["semantic", "syntactic"] and len(google["sections"]) == 16
    assert google["3cosadd"] == pytest.approx(results["google"].correct_add / 19544)
    table = ev.format_results(results, sections=True)
    assert "google" in table and "capital-world" in table and "ws353" in table


def test_evaluate_named_and_path_benchmarks_in_given_order(lee_kv, tmp_path):
    """A path benchmark of eight pairs (one unknown) whose human scores are a fixed
    permutation: its rho is the textbook Spearman of the cosines, computed here from the
    raw vectors (ranks by argsort, Pearson of the ranks), not +-1 as any two pairs give."""
    words = lee_kv.index_to_key
    pairs = [(words[i], words[j]) for i, j in [(5, 6), (7, 8), (10, 30), (11, 40), (12, 50), (60, 61), (70, 90)]]
    human = np.array([3.0, 1.0, 6.0, 2.0, 7.0, 4.0, 5.0])
    lines = [f"{a} {b} {h}" for (a, b), h in zip(pairs, human)] + ["zzunknownzz the 9.0"]
    path = _write(tmp_path / "tiny.txt", "\n".join(lines) + "\n")
    results = ev.evaluate(lee_kv, [path, "simlex999"], restrict_vocab=500)
    assert list(results) == ["tiny", "simlex999"]
    tiny = results["tiny"]
    assert tiny.n == 8 and tiny.n_known == 7 and tiny.coverage == pytest.approx(7 / 8)
    cos = np.array([lee_kv[a] @ lee_kv[b] / np.linalg.norm(lee_kv[a]) / np.linalg.norm(lee_kv[b]) for a, b in pairs])
    ranks = [np.argsort(np.argsort(x)).astype(float) for x in (cos, human)]  # no ties in either
    want = float(np.corrcoef(*ranks)[0, 1])
    assert abs(want) < 0.95  # the check below could not pass by sign alone
    assert tiny.score == pytest.approx(want, abs=1e-9)
    with pytest.raises(BenchmarkError, match="valid|use one of"):
        ev.evaluate(lee_kv, ["no_such_benchmark"])


def test_google_speed_on_30k_by_300(monkeypatch):
    """All 19,544 Google questions known in a 30,000 x 300 matrix: a few seconds."""
    import time

    from gensim.models import KeyedVectors

    monkeypatch.delenv("PMIEMBED_DATA", raising=False)
    google = ev.load_benchmark("google")
    words = sorted({w for q in google.questions for w in q})
    rng = np.random.default_rng(0)
    keys = words + [f"filler{i}" for i in range(30000 - len(words))]
    rng.shuffle(keys)
    kv = KeyedVectors(300)
    kv.add_vectors(keys, rng.standard_normal((30000, 300)).astype(np.float32))
    start = time.perf_counter()
    result = ev.evaluate_analogy(kv, google, restrict_vocab=30000)
    elapsed = time.perf_counter() - start
    assert result.n_known == 19544
    assert elapsed < 20, f"{elapsed:.1f} s"
