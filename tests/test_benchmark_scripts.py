"""The benchmark scripts that produce the published numbers, run for real on small
corpora (gensim's Lee corpus, the bundled text8 sample): speed.py end to end (cold and
warm runs, skip-gram beside, the fairness checks), slice.py, ablation.py against the
docs it regenerates, svd_accuracy.py's recipe flags, and ``pmiembed train`` saying when
it compiled."""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def _env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PMIEMBED_DATA", None)  # gensim's three benchmarks: what the scripts must then say
    env.update(extra)
    return env


def _run(args, **extra):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, env=_env(**extra), capture_output=True,
                          text=True, timeout=600)


# ----------------------------------------------------------------------------- speed.py


@pytest.fixture(scope="module")
def speed_run(tmp_path_factory, lee_path):
    """One real ``speed.py --with-word2vec`` on Lee's corpus: a cold run on a fresh
    NUMBA_CACHE_DIR, one warm run, skip-gram, evaluation."""
    out = tmp_path_factory.mktemp("speed") / "speed.json"
    r = _run([ROOT / "benchmarks" / "speed.py", lee_path, "--with-word2vec", "--dim", "30", "--workers", "2",
              "--json", out])
    assert r.returncode == 0, r.stderr
    return r.stdout, json.loads(out.read_text())


def test_speed_cold_run_compiles_and_warm_run_does_not(speed_run):
    stdout, report = speed_run
    cold, warm = report["pmiembed_runs"]
    assert (cold["run"], warm["run"]) == ("cold", "warm 1")
    assert cold["numba_cache_dir"] == warm["numba_cache_dir"] and "pmiembed-numba-cold-" in cold["numba_cache_dir"]
    assert len(cold["compiled_kernels"]) >= 5 and cold["timings"]["compile"] > 0.5
    assert warm["compiled_kernels"] == [] and "compile" not in warm["timings"]
    # compilation is timed apart: the stages are their work, the compile row the rest of
    # the run's time (not counted twice), and far more than counting Lee's corpus takes
    t = cold["timings"]
    stages = sum(v for k, v in t.items() if k not in ("compile", "total"))
    assert stages + t["compile"] == pytest.approx(t["total"], abs=1.0)
    assert t["count"] < 0.5 * t["compile"]
    assert report["pmiembed"]["run"] == "warm 1"
    assert report["speedup"] == pytest.approx(report["word2vec"]["wall"] / warm["wall"])
    assert report["speedup_cold"] == pytest.approx(report["word2vec"]["wall"] / cold["wall"])
    assert "| stage | cold | warm 1 |" in stdout and "x warm, " in stdout and "x cold" in stdout


def test_speed_models_share_threads_vocabulary_and_say_which_benchmarks(speed_run, lee_path):
    stdout, report = speed_run
    from pmiembed.corpus import read_corpus
    from pmiembed.vocab import Vocabulary

    c = read_corpus(lee_path)
    n_words = len(Vocabulary.from_counts(c.types, c.counts, min_count=5, total=c.n_tokens))
    assert report["pmiembed"]["workers"] == report["word2vec"]["workers"] == 2
    assert report["pmiembed"]["vocabulary"] == report["word2vec"]["vocabulary"] == n_words
    assert f"same {n_words:,}-word vocabulary" in stdout
    first = stdout.splitlines()[0]
    assert first == report["benchmarks"]
    assert first.startswith("benchmarks found (gensim's test data (PMIEMBED_DATA not set)): ws353, simlex999, google")
    assert "missing: ws353_similarity, ws353_relatedness, men, rw, msr" in first
    assert set(report["scores"]["pmiembed"]) == set(report["scores"]["word2vec"]) == {"ws353", "simlex999", "google"}


def test_speed_refuses_unequal_threads_or_vocabularies():
    from speed import check_same_setup

    a = {"workers": 2, "words": ["the", "of", "cat"]}
    check_same_setup(a, dict(a))
    with pytest.raises(SystemExit, match="pmiembed used 2 worker threads and word2vec 4"):
        check_same_setup(a, {"workers": 4, "words": a["words"]})
    with pytest.raises(SystemExit,
                       match=r"vocabularies differ: 1 words only in pmiembed \(cat\), 1 only in word2vec \(dog\)"):
        check_same_setup(a, {"workers": 2, "words": ["the", "of", "dog"]})


def test_train_summary_says_when_it_compiled(tmp_path, lee_path):
    """``pmiembed train`` on an empty kernel cache names the compilation and its time,
    kept apart from the stages; the next run on that cache loads the kernels."""
    cache = tmp_path / "numba-cache"
    args = ["-m", "pmiembed", "train", lee_path, "--dim", "20", "--min-count", "3"]
    cold = _run(args + ["--out", tmp_path / "a"], NUMBA_CACHE_DIR=str(cache))
    assert cold.returncode == 0, cold.stderr
    summary = cold.stderr.strip().splitlines()[-1]
    assert summary.startswith(f"wrote {tmp_path / 'a'}/")
    assert " numba kernels compiled in " in summary and "(first run; later runs load them from the cache)" in summary
    assert "(not included)" in cold.stderr  # the stage lines name their compilation
    warm = _run(args + ["--out", tmp_path / "b"], NUMBA_CACHE_DIR=str(cache))
    assert warm.returncode == 0, warm.stderr
    assert warm.stderr.strip().splitlines()[-1].endswith("; kernels loaded from the cache")
    assert "compiled" not in warm.stderr
    assert (tmp_path / "a" / "vectors.bin").read_bytes() == (tmp_path / "b" / "vectors.bin").read_bytes()
    # every evaluation says first which benchmarks it found and which it did not
    ev = _run(["-m", "pmiembed", "evaluate", "--vectors", tmp_path / "b"], NUMBA_CACHE_DIR=str(cache))
    assert ev.returncode == 0, ev.stderr
    assert ev.stderr.splitlines()[0].endswith(
        "benchmarks found (gensim's test data (PMIEMBED_DATA not set)): ws353, simlex999, google; missing: "
        "ws353_similarity, ws353_relatedness, men, rw, msr (set PMIEMBED_DATA to a directory with benchmarks/)")
    assert [line.split()[0] for line in ev.stdout.splitlines()[1:]] == ["ws353", "simlex999", "google"]


# ----------------------------------------------------------------------------- slice.py


def test_slice_writes_the_first_tokens(tmp_path, text8_head):
    out = tmp_path / "s.txt.gz"
    r = _run([ROOT / "benchmarks" / "slice.py", text8_head, "--tokens", "2.5e4", "--out", out])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{out}: the first 25,000 tokens of {text8_head}"
    with gzip.open(text8_head) as f:
        want = f.read().split()[:25_000]
    with gzip.open(out) as f:
        assert f.read().split() == want
    r = _run([ROOT / "benchmarks" / "slice.py", text8_head, "--tokens", "10", "--out", out])
    assert r.returncode == 2
    assert r.stderr.strip() == f"slice.py: error: {out}: output file exists; choose another --out or pass --force to " \
                               "replace it"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = _run([ROOT / "benchmarks" / "slice.py", text8_head, "--tokens", "10", "--out", fifo, "--force"])
    assert r.returncode == 2 and r.stderr.strip() == (f"slice.py: error: {fifo}: is a named pipe (FIFO), not a "
                                                      "regular file; pmiembed never replaces one: choose another --out")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    fifo.unlink()
    r = _run([ROOT / "benchmarks" / "slice.py", tmp_path / "nope.gz", "--tokens", "10", "--out", tmp_path / "t.gz"])
    assert r.returncode == 2 and "nope.gz: no such file" in r.stderr and not (tmp_path / "t.gz").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.txt.gz"]  # no temporary file left


# ----------------------------------------------------------------------------- ablation.py


def test_ablation_table_in_the_docs_is_the_scripts_output():
    """docs/ablation.md's "Every measured configuration" table is regenerated from
    docs/ablation-results.jsonl, labelled against the defaults stored in the rows."""
    from ablation import read_rows, tables

    rows = read_rows([ROOT / "docs" / "ablation-results.jsonl"])
    assert len(rows) == 71 and all(r["code"] == "8ed0069" for r in rows)
    assert all({"core_min_count", "oversamples", "window", "n_iter"} <= set(r["params"]) for r in rows)
    table = tables(rows)
    assert table in (ROOT / "docs" / "ablation.md").read_text(encoding="utf-8")
    lines = table.splitlines()
    # best mean similarity first; labelled against the stored defaults (not window=5, weighting=harmonic, ...)
    assert lines[2].startswith("| weighting=dynamic, subsample_mode=dirty, cds=0.75, eig=0, wc=True, abtt=None | "
                               "0.714 |")
    assert sum("**default recipe**" in line for line in lines) == 1


def test_ablation_labels_follow_the_stored_defaults_and_prints_skipgram(tmp_path):
    from ablation import NAMES, main

    scores = {n: {"score": 0.1 * (i + 1)} for i, n in enumerate(NAMES)}
    old = {"window": 5, "weighting": "harmonic", "cds": 1.0, "n_iter": 5}
    new = {"window": 8, "weighting": "harmonic2", "cds": 1.0, "n_iter": 6}
    rows = [{"params": dict(old), "defaults": old, "scores": scores},
            {"params": dict(old, cds=0.75), "defaults": new, "scores": scores}]
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    w2v = tmp_path / "speed.json"
    w2v.write_text(json.dumps({"scores": {"word2vec": {n: 0.5 for n in NAMES}}}))
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main([str(path), "--word2vec", str(w2v)])
    out = buf.getvalue()
    assert "| **default recipe** | 0.100 |" in out
    assert "| window=5, weighting=harmonic, cds=0.75, n_iter=5 | 0.100 |" in out
    assert out.count("| skip-gram (gensim) | 0.500 | 0.500 |") == 2 and out.count("Compared against: ") == 2
    # similarity rho and analogy accuracy are averaged apart: .1-.6 and .7, .8
    assert out.count(" | 0.700 | 0.800 | 0.350 | 0.750 |") == 2 and out.count("| 0.500 | 0.500 | 0.500 |\n") == 2
    assert "| mean similarity | mean analogy |" in out
    path.write_text(json.dumps({"params": old, "scores": scores}) + "\n")
    with pytest.raises(SystemExit, match="r.jsonl:1: row has no 'defaults'"):
        main([str(path)])
    path.write_text(json.dumps(rows[0]) + "\n")
    w2v.write_text(json.dumps({"scores": {"word2vec": {"ws353": 0.5}}}))
    with pytest.raises(SystemExit, match="no skip-gram score for ws353_similarity"):
        main([str(path), "--word2vec", str(w2v)])


# ----------------------------------------------------------------------------- svd_accuracy.py


def test_svd_accuracy_runs_the_recipe_its_flags_name(tmp_path, lee_path):
    """Levy et al.'s recipe through svd_accuracy.py's flags: its ARPACK reference scores
    are those of a model trained with that recipe and an exact SVD."""
    from pmiembed.evaluate import evaluate, results_to_dict
    from pmiembed.model import PMIEmbedding

    out = tmp_path / "acc.json"
    levy = ["--window", "2", "--weighting", "dynamic", "--sub", "none", "--cds", "0.75", "--abtt", "none",
            "--core-min-count", "none"]
    r = _run([ROOT / "benchmarks" / "svd_accuracy.py", lee_path, "--dim", "30", "--min-count", "3", "--reference",
              "arpack", "--variants", "1:20:0", "--json", out, *levy])
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["recipe"] == {"window": 2, "weighting": "dynamic", "min_count": 3, "subsample": None,
                              "subsample_mode": "expected", "cds": 0.75, "neg": 1.0, "eig": 0.5, "abtt": None,
                              "wc": False, "core_min_count": None, "core_max_words": 50000}
    assert "benchmarks found" in r.stdout.splitlines()[1]
    model = PMIEmbedding(dim=30, min_count=3, window=2, weighting="dynamic", subsample=None, cds=0.75, abtt=None,
                         core_min_count=None, svd="arpack").fit(lee_path)
    want = results_to_dict(evaluate(model.wv))
    ref = data["rows"]["reference"]
    assert ref["ws353"] == pytest.approx(want["ws353"]["score"], abs=2e-3)
    assert ref["simlex999"] == pytest.approx(want["simlex999"]["score"], abs=2e-3)
    default = PMIEmbedding(dim=30, min_count=3, svd="arpack").fit(lee_path)
    assert abs(results_to_dict(evaluate(default.wv))["ws353"]["score"] - ref["ws353"]) > 0.01  # the flags matter


# ----------------------------------------------------------------------------- levers.py


def test_levers_without_a_lever_are_the_defaults_and_concat_mixes_cosines(tmp_path, text8_head):
    """levers.py's rows in docs/ablation.md compare with its no-lever row, which must be
    the PPMI recipe's vectors themselves (``matrix="ppmi"``, the defaults those rows were
    measured against); ``--concat`` appends a row-normalised block."""
    import numpy as np

    from pmiembed import PMIEmbedding
    from pmiembed.vectors import read_word2vec_binary

    base, cat = tmp_path / "base.bin", tmp_path / "cat.bin"
    r = _run([ROOT / "benchmarks" / "levers.py", text8_head, "--cache", tmp_path / "c.npz", "--save", base])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "c.npz").exists()
    words, w = read_word2vec_binary(base)
    kv = PMIEmbedding(matrix="ppmi").fit(text8_head).wv
    assert words == list(kv.index_to_key)
    np.testing.assert_array_equal(w, kv.vectors)
    printed = json.loads(r.stdout.strip().splitlines()[-1])
    assert printed["scores"]["ws353"] > 0.4  # the sample's vectors, scored like the docs' rows

    r = _run([ROOT / "benchmarks" / "levers.py", text8_head, "--cache", tmp_path / "c.npz", "--matrix", "nneg",
              "--concat", base, "--concat-weight", "0.5", "--save", cat])
    assert r.returncode == 0, r.stderr
    words2, c = read_word2vec_binary(cat)
    assert words2 == words and c.shape == (len(words), 2 * w.shape[1])
    unit = w / np.linalg.norm(w, axis=1, keepdims=True)
    np.testing.assert_allclose(c[:, w.shape[1]:], 0.5 * unit, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), np.sqrt(1.25), rtol=1e-5)
    assert not np.allclose(c[:, :w.shape[1]], unit, atol=1e-3)  # the nneg block is not the defaults'

    r = _run([ROOT / "benchmarks" / "levers.py", text8_head, "--cache", tmp_path / "c.npz", "--context-words", "all",
              "--save", cat])
    assert r.returncode == 0, r.stderr
    words3, v = read_word2vec_binary(cat)
    assert words3 == words and v.shape == w.shape and np.isfinite(v).all()


def test_sgns_solvers_lower_skipgrams_loss_from_the_svd_start(tmp_path, text8_head):
    """sgns.py's three solvers, one pass each on the sample's core: the loss after the
    pass is below the start's, the start is the same for all, and the pass is scored."""
    r = _run([ROOT / "benchmarks" / "levers.py", text8_head, "--cache", tmp_path / "c.npz"])
    assert r.returncode == 0, r.stderr
    start = set()
    for solver in ("adam", "newton", "rosgns"):
        out = tmp_path / f"{solver}.jsonl"
        r = _run([ROOT / "benchmarks" / "sgns.py", "--cache", tmp_path / "c.npz", "--core", "800", "--dim", "20",
                  "--solver", solver, "--passes", "1", "--checkpoints", "1", "--kinds", "eig", "--json", out])
        assert r.returncode == 0, r.stderr
        losses = [float(line.split("loss ")[1].split()[0]) for line in r.stdout.splitlines()
                  if line.startswith("pass ")]
        assert len(losses) == 2 and losses[1] < losses[0]
        start.add(losses[0])
        (row,) = [json.loads(line) for line in out.read_text().splitlines()]
        assert row["passes"] == 1 and abs(row["loss"] - losses[1]) < 1e-5 and row["scores"]["eig"]["ws353"] > 0.1
    assert len(start) == 1
