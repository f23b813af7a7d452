"""``pmiembed compare`` and ``pmiembed evaluate``: real training on Lee's corpus (small
dimensions, one word2vec epoch), real evaluation, real files; nothing is mocked."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re

import numpy as np
import pytest

from pmiembed.cli.main import main
from pmiembed.compare import parse_vectors_spec, train_in_child
from pmiembed.corpus import read_corpus
from pmiembed.datasets import data_dir
from pmiembed.defaults import DEFAULTS
from pmiembed.evaluate import BENCHMARKS, available_benchmarks, evaluate
from pmiembed.vectors import load_vectors

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL = ["--dim", "20", "--min-count", "3", "--w2v-epochs", "1"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("pmiembed: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def compared(tmp_path_factory, lee_path):
    """One real comparison on Lee's corpus: (report folder, stdout)."""
    out = tmp_path_factory.mktemp("compare") / "report"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["compare", str(lee_path), "--out", str(out), *SMALL, "--quiet", "--words", "government", "police"])
    assert code == 0
    return out, buf.getvalue()


@pytest.fixture(scope="module")
def report(compared):
    return json.loads((compared[0] / "report.json").read_text(encoding="utf-8"))


def test_report_json_has_both_models_every_benchmark_and_both_analogy_methods(report, lee_path):
    names = [b["name"] for b in report["benchmarks"]]
    assert names == available_benchmarks()
    if data_dir() is not None and (data_dir() / "benchmarks").is_dir():
        assert names == list(BENCHMARKS)  # all eight with the data directory
    else:
        assert names == ["ws353", "simlex999", "google"]  # gensim's copies
    assert report["format"] == "pmiembed-compare" and report["version"] == 1
    assert [(m["label"], m["kind"]) for m in report["models"]] == [("pmi", "pmi"), ("word2vec", "word2vec")]
    for m in report["models"]:
        assert m["train_seconds"] > 0
        assert 20 * 2**20 < m["peak_memory_bytes"] < 8 * 2**30
        assert m["dim"] == 20 and m["vocabulary_size"] > 1000
        assert set(m["benchmarks"]) == set(names)
        for name, b in m["benchmarks"].items():
            assert 0 <= b["coverage"] <= 1
            if b["kind"] == "similarity":
                assert "score" in b
            else:
                assert {"3cosadd", "3cosmul", "3cosadd_known", "3cosmul_known"} <= set(b)
                if name == "google":
                    assert {"semantic", "syntactic", "family"} <= set(b["sections"])
                    assert {"3cosadd", "3cosmul"} <= set(b["sections"]["family"])
    pmi, w2v = report["models"]
    assert pmi["parameters"]["dim"] == 20 and pmi["parameters"]["window"] == DEFAULTS["window"]
    assert pmi["parameters"]["min_count"] == 3
    p = w2v["parameters"]
    got = (p["sg"], p["window"], p["negative"], p["sample"], p["epochs"], p["min_count"], p["dim"])
    assert got == (1, 5, 5, 1e-4, 1, 3, 20)
    assert p["workers"] == report["machine"]["cores"] and p["seed"] == 1
    # both models saw the same text
    assert report["corpus"]["tokens"] == read_corpus(lee_path).n_tokens  # the tokens the default reads
    assert pmi["vocabulary_size"] == w2v["vocabulary_size"]
    machine = report["machine"]
    assert machine["cores"] >= 1 and machine["python"].count(".") == 2 and machine["gensim"]
    assert report["command"].startswith("pmiembed compare ") and "--w2v-epochs 1" in report["command"]
    ex = pmi["examples"]["neighbours"]["government"]
    assert len(ex) == 8 and all(isinstance(w, str) for w, _ in ex)


def test_saved_vectors_load_and_give_the_reported_scores(compared, report):
    out, _ = compared
    for m, where in zip(report["models"], (out / "pmi", out / "word2vec" / "vectors.bin")):
        kv = load_vectors(where)
        assert len(kv) == m["vocabulary_size"] and kv.vector_size == 20
        again = evaluate(kv, ["ws353"])["ws353"]
        assert math.isclose(again.score, m["benchmarks"]["ws353"]["score"], rel_tol=1e-6)
    assert (out / "pmi" / "params.json").is_file()
    info = json.loads((out / "word2vec" / "info.json").read_text())
    assert info["params"]["sg"] == 1
    # built in a temporary folder and renamed: nothing else is left beside or inside it
    assert sorted(p.name for p in out.parent.iterdir()) == ["report"]
    assert sorted(p.name for p in out.iterdir()) == ["pmi", "report.html", "report.json", "report.md", "scores.png",
                                                     "training.png", "word2vec"]


def test_report_md_table_marks_the_best_per_row(compared, report):
    md = (compared[0] / "report.md").read_text(encoding="utf-8")
    assert "60,005 tokens" in md and "tokenize=words (lowercased)" in md and "`pmiembed compare " in md
    lines = md.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| |"))
    assert "pmi" in lines[header] and "word2vec" in lines[header]
    rows = {}
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    expected = []
    for b in report["benchmarks"]:
        if b["kind"] == "similarity":
            expected.append(f"{b['name']} (Spearman ρ)")
        else:
            expected += [f"{b['name']} 3CosAdd", f"{b['name']} 3CosMul"]
    assert [r for r in rows if r not in ("vocabulary", "dimensions", "train time", "peak memory",
                                         "kernel compile (first run)")] == expected
    for label, cells in rows.items():
        assert len(cells) == 2
        numeric = [c for c in cells if re.match(r"^(\*\*)?-?\d", c)]
        if label in ("vocabulary", "dimensions"):
            continue
        if len(numeric) == 2:
            assert any(c.startswith("**") for c in cells), (label, cells)  # a winner is marked
        if label not in ("train time", "peak memory"):
            assert all(re.search(r"\(\d+%\)$", c) for c in cells if c != "n/a")  # coverage shown
    assert rows["train time"][0].endswith(" s") or rows["train time"][0].endswith(" s**")
    assert "MB" in rows["peak memory"][1] or "GB" in rows["peak memory"][1]


def test_plots_are_png_images(compared):
    import matplotlib.image

    for name in ("scores.png", "training.png"):
        path = compared[0] / name
        assert path.read_bytes()[:8] == PNG_MAGIC
        img = matplotlib.image.imread(str(path))
        assert img.ndim == 3 and img.shape[0] > 300 and img.shape[1] > 600
        assert img[..., :3].std() > 0.05  # not blank


def test_terminal_table(compared, report):
    """Every score cell of the terminal table is the report's value (3 decimals), its
    coverage and its best-mark: a table printing the wrong model's, metric's or
    benchmark's number fails here, not only a missing row name."""
    out = compared[1]
    lines = out.splitlines()
    assert lines[0].split() == ["benchmark", "pmi", "word2vec"]
    pmi, w2v = report["models"]
    expected_rows = 0
    for b in report["benchmarks"]:
        name = b["name"]
        metrics = [("score", f"{name} (Spearman rho)")] if b["kind"] == "similarity" else [
            ("3cosadd", f"{name} 3CosAdd"), ("3cosmul", f"{name} 3CosMul")]
        for key, label in metrics:
            line = next(line for line in lines if line.startswith(label + " "))
            cells = re.findall(r"(-?\d\.\d{3})(\*?) \((\d+)%\)", line[len(label):])
            values = [m["benchmarks"][name][key] for m in (pmi, w2v)]
            shown = [round(v, 3) for v in values]
            best = [i for i, v in enumerate(shown) if v == max(shown)]  # ties as shown are all marked
            want = [(f"{v:.3f}", "*" if i in best else "", f"{100 * m['benchmarks'][name]['coverage']:.0f}")
                    for i, (v, m) in enumerate(zip(values, (pmi, w2v)))]
            assert cells == want, (label, line)
            expected_rows += 1
    assert expected_rows == len([line for line in lines if "(Spearman rho)" in line or "3Cos" in line])
    vocab = next(line for line in lines if line.startswith("vocabulary "))
    assert vocab.split()[1:] == [f"{pmi['vocabulary_size']:,}", f"{w2v['vocabulary_size']:,}"]
    train = next(line for line in lines if line.startswith("train time "))
    assert re.findall(r"(\d+\.\d) s", train) == [f"{m['train_seconds']:.1f}" for m in (pmi, w2v)]


def test_restrict_vocab_takes_effect(compared, report, tmp_path, capsys):
    """``--restrict-vocab N`` (compare and evaluate) bounds the analogy search to the N
    most frequent words: questions with a word beyond them become unknown, so Google's
    known questions fall from the default 30,000's count to the library's count for N."""
    from pmiembed.evaluate import evaluate_analogy, load_benchmark

    src = compared[0]
    kv = load_vectors(src / "pmi")
    google = load_benchmark("google")
    full, small = (evaluate_analogy(kv, google, restrict_vocab=n) for n in (30000, 300))
    assert full.n_known == report["models"][0]["benchmarks"]["google"]["n_known"]
    assert full.n_known > 2 * max(small.n_known, 1)  # the bound matters on these vectors
    code, out, err = run(capsys, "compare", "--vectors", src / "pmi", "--out", tmp_path / "r", "--quiet",
                         "--restrict-vocab", "300")
    assert code == 0
    again = json.loads((tmp_path / "r" / "report.json").read_text())
    assert again["restrict_vocab"] == 300
    g = again["models"][0]["benchmarks"]["google"]
    assert (g["n_known"], g["3cosadd"], g["3cosmul"]) == (small.n_known, small.accuracy_add, small.accuracy_mul)
    code, out, err = run(capsys, "evaluate", "--vectors", src / "pmi", "--benchmarks", "google",
                         "--restrict-vocab", "300", "--json", tmp_path / "e.json", "--quiet")
    assert code == 0
    e = json.loads((tmp_path / "e.json").read_text())["benchmarks"]["google"]
    assert (e["n_known"], e["restrict_vocab"]) == (small.n_known, 300)


def test_compare_existing_vectors_without_training(compared, report, tmp_path, capsys):
    src = compared[0]
    out = tmp_path / "again"
    code, stdout, err = run(capsys, "compare", "--vectors", src / "pmi", f"{src / 'word2vec' / 'vectors.bin'}=sgns",
                            "--out", out, "--quiet")
    assert code == 0 and err == ""
    again = json.loads((out / "report.json").read_text())
    assert [(m["label"], m["kind"], m["train_seconds"]) for m in again["models"]] == [("pmi", "vectors", None),
                                                                                     ("sgns", "vectors", None)]
    assert again["corpus"] is None and again["plots"] == ["scores.png"]  # nothing trained: no cost plot
    for old, new in zip(report["models"], again["models"]):  # same vectors, same scores
        assert old["benchmarks"]["google"]["3cosmul"] == new["benchmarks"]["google"]["3cosmul"]
    md = (out / "report.md").read_text()
    assert "| train time | n/a | n/a |" in md
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md", "scores.png"]
    assert "sgns" in stdout.splitlines()[0]


def test_vectors_labels():
    assert parse_vectors_spec("runs/a=mine") == ("runs/a", "mine")
    assert parse_vectors_spec("runs/a") == ("runs/a", "a")
    assert parse_vectors_spec("x/word2vec/vectors.bin") == ("x/word2vec/vectors.bin", "word2vec")
    assert parse_vectors_spec("GoogleNews-vectors-negative300.bin") == ("GoogleNews-vectors-negative300.bin",
                                                                        "GoogleNews-vectors-negative300")


@pytest.mark.parametrize("argv,needle", [
    (["{lee}", "--out", "{report}"], "report: output folder exists; choose another --out or pass --force"),
    (["--vectors", "{tmp}/missing", "--out", "{tmp}/o"], "missing: no such vectors file or folder"),
    (["--vectors", "{report}/pmi", "{report}/pmi", "--out", "{tmp}/o"], "label 'pmi' is already used"),
    (["{lee}", "--vectors", "{report}/pmi", "--out", "{tmp}/o"], "label 'pmi' is already used"),
    (["{tmp}/nothing.txt", "--out", "{tmp}/o"], "nothing.txt: no such corpus file or folder"),
    (["--out", "{tmp}/o"], "no CORPUS given"),
    (["{lee}", "--out", "{tmp}/o", "--no-pmi", "--no-word2vec"], "nothing to compare"),
    (["{lee}", "--out", "{tmp}/o", "--dim", "0"], "--dim 0 must be a positive integer"),
    (["{lee}", "--out", "{tmp}/o", "--w2v-sample", "2"], "--w2v-sample"),
    (["{lee}", "--out", "{tmp}/o", "--benchmarks", "nosuch"], "unknown benchmark 'nosuch'"),
    (["{lee}", "--out", "{tmp}/missing/o"], "parent folder of --out does not exist"),
])
def test_user_errors_exit_2_with_one_line_before_any_training(compared, tmp_path, lee_path, capsys, argv, needle):
    argv = [a.format(lee=lee_path, tmp=tmp_path, report=compared[0]) for a in argv]
    code, out, err = run(capsys, "compare", *argv)
    assert code == 2 and out == ""
    assert needle in one_error_line(err)
    assert not (tmp_path / "o").exists()


def test_error_inside_the_training_process_is_one_line_and_leaves_nothing(tmp_path, lee_path, capsys):
    code, out, err = run(capsys, "compare", lee_path, "--out", tmp_path / "o", "--dim", "100000", "--no-word2vec",
                         "--quiet")
    assert code == 2
    assert "pmi: --dim 100000 must be smaller than the vocabulary" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_peak_memory_is_the_training_process_own(tmp_path, lee_path):
    """ru_maxrss of an exec'd child starts at the parent's peak on Linux; the child must
    report its own high-water mark instead."""
    ballast = np.ones(400 * 2**20 // 8)  # 400 MB resident in this (parent) process
    ballast[::512] = 2.0
    result = train_in_child("word2vec", [lee_path], {"dim": 10, "epochs": 1, "min_count": 3, "workers": 1},
                            tmp_path / "w2v", tmp_path / "work", quiet=True)
    del ballast
    assert 20 * 2**20 < result["peak_memory_bytes"] < 350 * 2**20
    assert result["rss_before_training_bytes"] <= result["peak_memory_bytes"]
    assert result["vocabulary_size"] == len(load_vectors(tmp_path / "w2v"))


# ------------------------------------------------------------------------- evaluate


def test_evaluate_prints_the_table_and_writes_json(compared, tmp_path, capsys):
    vec = compared[0] / "pmi"
    code, out, err = run(capsys, "evaluate", "--vectors", vec, "--json", tmp_path / "r.json", "--sections")
    assert code == 0
    for name in available_benchmarks():
        assert re.search(rf"^{name}\s", out, re.M)
    assert "semantic" in out and "gram1-adjective-to-adverb" in out  # --sections
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["restrict_vocab"] == 30000 and set(data["benchmarks"]) == set(available_benchmarks())
    assert {"3cosadd", "3cosmul"} <= set(data["benchmarks"]["google"])
    assert "wrote" in err
    # refuses to overwrite the JSON without --force
    code, out, err = run(capsys, "evaluate", "--vectors", vec, "--json", tmp_path / "r.json")
    assert code == 2 and "r.json: output file exists; choose another --json or pass --force" in one_error_line(err)
    code, out, err = run(capsys, "evaluate", "--vectors", vec, "--json", tmp_path / "r.json", "--force", "--quiet",
                         "--benchmarks", "ws353")
    assert code == 0 and err == "" and list(json.loads((tmp_path / "r.json").read_text())["benchmarks"]) == ["ws353"]


def test_evaluate_on_a_word2vec_file_and_benchmark_files(compared, tmp_path, capsys):
    sim = tmp_path / "mysim.txt"
    sim.write_text("# my pairs\ngovernment minister 8.0\npolice officers 7.5\nthe of 1.0\nfire police 3.0\n")
    code, out, err = run(capsys, "evaluate", "--vectors", compared[0] / "word2vec" / "vectors.bin",
                         "--benchmarks", sim, "google", "--restrict-vocab", "1000", "--quiet")
    assert code == 0 and err == ""
    assert re.search(r"^mysim\s", out, re.M) and re.search(r"^google\s", out, re.M)


def test_evaluate_malformed_benchmark_names_file_and_line(compared, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("king queen 5.0\nman woman 4.0\nthis line is broken\n")
    code, out, err = run(capsys, "evaluate", "--vectors", compared[0] / "pmi", "--benchmarks", bad)
    assert code == 2 and out == ""
    assert f"{bad}:3:" in one_error_line(err)
    bad.write_text(": capital\nathens greece baghdad iraq\nparis france rome\n")
    code, out, err = run(capsys, "evaluate", "--vectors", compared[0] / "pmi", "--benchmarks", bad)
    assert code == 2 and f"{bad}:3: expected 4 words" in one_error_line(err)


def test_evaluate_missing_vectors(tmp_path, capsys):
    code, out, err = run(capsys, "evaluate", "--vectors", tmp_path / "nope")
    assert code == 2 and "nope: no such vectors file or folder" in one_error_line(err)


# ------------------------------------------------------- what the outputs say to a user


def test_word2vec_folder_is_laid_out_like_a_model_folder(compared, capsys):
    """vectors.bin, vocab.tsv (gensim's own counts) and a checked params.json; tools that
    need pmiembed's PPMI matrix say in one line that this folder has none."""
    from pmiembed.io import sha256_file
    from pmiembed.vocab import Vocabulary

    folder = compared[0] / "word2vec"
    assert {"vectors.bin", "vocab.tsv", "params.json", "info.json"} <= {p.name for p in folder.iterdir()}
    meta = json.loads((folder / "params.json").read_text(encoding="utf-8"))
    info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
    assert meta["format"] == "pmiembed-vectors" and meta["params"]["sg"] == 1
    assert meta["gensim"] == info["gensim_version"]
    assert meta["sha256"] == {f: sha256_file(folder / f) for f in ("vectors.bin", "vocab.tsv")}
    vocab = Vocabulary.load(folder / "vocab.tsv")
    kv = load_vectors(folder)
    assert vocab.words == kv.index_to_key and vocab.total == info["corpus_tokens"]
    assert [int(c) for c in vocab.counts[:3]] == [kv.get_vecattr(w, "count") for w in kv.index_to_key[:3]]
    assert vocab.counts[0] >= vocab.counts[-1] >= 3  # min_count 3, most frequent first
    code, out, err = run(capsys, "contexts", "--vectors", folder, "government")
    assert code == 2 and "holds word vectors only (no PPMI matrix)" in one_error_line(err)
    from pmiembed.errors import VectorsError
    from pmiembed.model import PMIEmbedding

    with pytest.raises(VectorsError, match="not a PMIEmbedding model"):
        PMIEmbedding.load(folder)
    # a changed vocab.tsv is caught like a model folder's
    damaged = compared[0].parent / "w2v-damaged"
    damaged.mkdir()
    for f in folder.iterdir():
        (damaged / f.name).write_bytes(f.read_bytes())
    with open(damaged / "vocab.tsv", "a", encoding="utf-8") as f:
        f.write("extra\t1\n")
    code, _, err = run(capsys, "similar", "--vectors", damaged, "government")
    assert code == 2 and "vocab.tsv: checksum mismatch" in one_error_line(err)


def test_params_json_records_the_threads_used_as_the_report_does(compared, report):
    from pmiembed.resources import cpu_count

    meta = json.loads((compared[0] / "pmi" / "params.json").read_text(encoding="utf-8"))
    pmi = report["models"][0]
    assert meta["params"]["workers"] == pmi["parameters"]["workers"] == cpu_count()  # compare ran without --workers


def test_report_names_benchmark_files_portably(report):
    import gensim

    for b in report["benchmarks"]:
        assert "site-packages" not in b["path"] and not b["path"].startswith("/"), b["path"]
        assert b["path"].startswith((f"gensim {gensim.__version__}: test/test_data/", "$PMIEMBED_DATA/benchmarks/"))


def test_first_run_compilation_is_reported_apart_from_training(tmp_path, lee_path, monkeypatch):
    """On a fresh numba cache the training process compiles pmiembed's kernels: the
    report says how long, apart from the train time, in the terminal table and report.md;
    on the warm cache the row is gone."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba-cache"))
    tables = []
    for name in ("cold", "warm"):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["compare", str(lee_path), "--out", str(tmp_path / name), "--no-word2vec",
                         "--dim", "20", "--min-count", "3", "--quiet"]) == 0
        tables.append(buf.getvalue())
    cold = json.loads((tmp_path / "cold" / "report.json").read_text())["models"][0]
    warm = json.loads((tmp_path / "warm" / "report.json").read_text())["models"][0]
    assert cold["compiled_kernels"] > 5 and cold["compile_seconds"] > 0.5
    assert warm["compiled_kernels"] == 0 and warm["compile_seconds"] == 0
    recorded = json.loads((tmp_path / "cold" / "pmi" / "params.json").read_text())["timings"]
    assert cold["compile_seconds"] == pytest.approx(recorded["compile"])
    # train time is the stages' work, the compilation is not in it
    stages = sum(v for k, v in recorded.items() if k not in ("compile", "total"))
    assert stages - 0.5 < cold["train_seconds"] < stages + 5
    row = next(line for line in tables[0].splitlines() if line.startswith("kernel compile (first run)"))
    assert row.split()[-2:] == [f"{cold['compile_seconds']:.1f}", "s"]
    assert "train time excludes compiling numba kernels" in tables[0]
    assert "kernel compile" not in tables[1]
    md = (tmp_path / "cold" / "report.md").read_text(encoding="utf-8")
    assert f"| kernel compile (first run) | {cold['compile_seconds']:.1f} s |" in md
    html = (tmp_path / "cold" / "report.html").read_text(encoding="utf-8")
    assert f"<tr><th>kernel compile (first run)</th><td>{cold['compile_seconds']:.1f} s</td></tr>" in html
    assert "kernel compile" not in (tmp_path / "warm" / "report.html").read_text(encoding="utf-8")

