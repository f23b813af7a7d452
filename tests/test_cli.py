"""The command line through its entry point: train, similar, analogy, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from gensim.models import KeyedVectors

from pmiembed.cli.main import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory, lee_path):
    out = tmp_path_factory.mktemp("cli") / "vec"
    code = main(["train", str(lee_path), "--out", str(out), "--dim", "30", "--min-count", "3", "--quiet"])
    assert code == 0
    return out


def test_train_writes_loadable_outputs(trained):
    assert sorted(p.name for p in trained.iterdir()) == ["params.json", "ppmi.npz", "singular_values.npy",
                                                         "vectors.bin", "vocab.tsv"]
    kv = KeyedVectors.load_word2vec_format(str(trained / "vectors.bin"), binary=True)
    assert kv.vector_size == 30 and "government" in kv.key_to_index
    meta = json.loads((trained / "params.json").read_text())
    assert meta["params"]["dim"] == 30 and meta["params"]["min_count"] == 3
    vocab_lines = (trained / "vocab.tsv").read_text().splitlines()
    assert vocab_lines[1].split("\t")[0] == "the" and len(vocab_lines) == len(kv) + 1


def test_train_shows_stage_summaries_unless_quiet(tmp_path, lee_path, capsys):
    code, out, err = run(capsys, "train", lee_path, "--out", tmp_path / "o", "--dim", "10")
    assert code == 0
    for stage in ("read", "vocab", "count", "pmi", "svd", "write"):
        assert f"{stage}:" in err
    assert "wrote" in err
    code, out, err = run(capsys, "train", lee_path, "--out", tmp_path / "q", "--dim", "10", "--quiet")
    assert code == 0 and err == "" and out == ""


def test_similar_and_analogy(trained, capsys):
    code, out, err = run(capsys, "similar", "--vectors", trained, "government", "-n", "4")
    assert code == 0 and len(out.splitlines()) == 4
    word, score = out.splitlines()[0].split("\t")
    assert word != "government" and -1 <= float(score) <= 1
    code, out, err = run(capsys, "analogy", "--vectors", trained / "vectors.bin", "police", "man", "fire")
    assert code == 0 and len(out.splitlines()) == 5
    code, out2, err = run(capsys, "analogy", "--vectors", trained, "police", "man", "fire", "--cosmul", "-n", "3")
    assert code == 0 and len(out2.splitlines()) == 3
    # the answer to a - b + c is what gensim says
    kv = KeyedVectors.load_word2vec_format(str(trained / "vectors.bin"), binary=True)
    assert out.splitlines()[0].split("\t")[0] == kv.most_similar(positive=["police", "fire"], negative=["man"])[0][0]


@pytest.mark.parametrize("argv,needle", [
    (["similar", "--vectors", "{v}", "zzzqqq"], "word 'zzzqqq' is not in the vocabulary"),
    (["similar", "--vectors", "{v}", "GoVeRnMeNt"], "did you mean 'government'"),
    (["analogy", "--vectors", "{v}", "police", "police", "fire"], "word 'police' is given twice"),
    (["similar", "--vectors", "{tmp}/nothing", "the"], "nothing: no such vectors file or folder"),
    (["train", "{tmp}/missing.txt", "--out", "{tmp}/o"], "missing.txt: no such file or folder"),
    (["train", "{lee}", "--out", "{v}"], "output folder exists"),
    (["train", "{lee}", "--out", "{tmp}/o", "--dim", "0"], "--dim 0 must be a positive integer"),
    (["train", "{lee}", "--out", "{tmp}/o", "--cds", "3"], "--cds 3.0 must be in (0, 1]"),
    (["train", "{lee}", "--out", "{tmp}/o", "--dim", "100000"], "--dim 100000 must be smaller than the vocabulary"),
    (["train", "{lee}", "--out", "{tmp}/o", "--min-count", "1000000"], "vocabulary is empty after --min-count 1000000"),
])
def test_user_errors_one_line_no_traceback(trained, tmp_path, lee_path, capsys, argv, needle):
    argv = [a.format(v=trained, tmp=tmp_path, lee=lee_path) for a in argv]
    code, out, err = run(capsys, *argv)
    # without --quiet, progress lines may come first: the error is the last line
    assert code == 2 and err.rstrip("\n").splitlines()[-1].startswith("pmiembed: error: ")
    assert "Traceback" not in err
    if argv[0] == "train":
        code, out, err = run(capsys, *argv, "--quiet")
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1 and err.startswith("pmiembed: error: ")
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_debug_shows_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pmiembed", "--debug", "train", str(tmp_path / "x"),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_entry_point_subprocess(trained):
    proc = subprocess.run([sys.executable, "-m", "pmiembed", "similar", "--vectors", str(trained), "police", "-n", "2"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 2
    proc = subprocess.run([sys.executable, "-m", "pmiembed", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for cmd in ("train", "similar", "analogy"):
        assert cmd in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "pmiembed", "train", "--help"], capture_output=True, text=True)
    for flag in ("--dim", "--window", "--min-count", "--weighting", "--sub", "--cds", "--neg", "--eig", "--wc",
                 "--seed",
                 "--workers", "--memory", "--quiet", "--force", "--core-min-count", "--oversamples"):
        assert flag in proc.stdout


def test_core_min_count_flag(tmp_path, lee_path, capsys):
    """``--core-min-count none`` factorises every word (other vectors than the default
    fold-in); a bad value is a one-line error naming the flag."""
    for name, extra in (("fold", []), ("all", ["--core-min-count", "none"])):
        assert main(["train", str(lee_path), "--out", str(tmp_path / name), "--dim", "20", "--min-count", "3",
                     "--quiet", *extra]) == 0
    assert (tmp_path / "fold" / "vectors.bin").read_bytes() != (tmp_path / "all" / "vectors.bin").read_bytes()
    params = json.loads((tmp_path / "all" / "params.json").read_text())
    assert params["params"]["core_min_count"] is None
    code, out, err = run(capsys, "train", lee_path, "--out", tmp_path / "bad", "--core-min-count", "0", "--quiet")
    assert code == 2 and "--core-min-count 0 must be an integer >= 1 or none" in err and err.count("\n") == 1
    assert main(["train", str(lee_path), "--out", str(tmp_path / "cap"), "--dim", "20", "--min-count", "3",
                 "--quiet", "--core-max-words", "60"]) == 0
    assert json.loads((tmp_path / "cap" / "params.json").read_text())["params"]["core_max_words"] == 60
    assert (tmp_path / "cap" / "vectors.bin").read_bytes() != (tmp_path / "fold" / "vectors.bin").read_bytes()
    code, out, err = run(capsys, "train", lee_path, "--out", tmp_path / "bad", "--core-max-words", "0", "--quiet")
    assert code == 2 and "--core-max-words 0 must be an integer >= 1 or none" in err and err.count("\n") == 1


def test_same_bits_every_run(tmp_path, lee_path):
    for name in ("a", "b"):
        assert main(["train", str(lee_path), "--out", str(tmp_path / name), "--dim", "20", "--min-count", "2",
                     "--sub", "1e-3", "--quiet", "--workers", "1" if name == "a" else "2"]) == 0
    assert (tmp_path / "a" / "vectors.bin").read_bytes() == (tmp_path / "b" / "vectors.bin").read_bytes()


def test_sizes_that_cannot_fit_are_refused_before_allocating(tmp_path, lee_path, capsys):
    code, out, err = run(capsys, "train", lee_path, "--out", tmp_path / "o", "--dim", "100", "--min-count", "2",
                         "--memory", "0.001", "--quiet")
    assert code == 2
    assert err.startswith("pmiembed: error: the PMI and SVD stages need about") and "--memory budget" in err
    assert "lower --dim, --oversamples or --max-vocab" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_invalid_utf8_is_replaced_and_reported(tmp_path, lee_path, capsys):
    text = lee_path.read_bytes()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(text[:20000] + b" caf\xe9 \xff\xfe " + text[20000:])
    code, out, err = run(capsys, "train", bad, "--out", tmp_path / "o", "--dim", "10", "--min-count", "2")
    assert code == 0
    assert "undecodable bytes replaced 3" in err  # \xe9, \xff, \xfe


def test_memory_check_counts_the_oversampled_columns(tmp_path, lee_path, capsys):
    """The SVD's dense blocks are ``dim + oversamples`` wide: a budget that fits the
    default oversampling is refused, before counting, for a very wide one."""
    args = ["train", lee_path, "--out", tmp_path / "o", "--dim", "20", "--min-count", "2", "--memory", "0.008",
            "--quiet"]
    code, _, err = run(capsys, *args)
    assert code == 0, err
    code, _, err = run(capsys, *args[:3], tmp_path / "o2", *args[4:], "--oversamples", "2000")
    assert code == 2
    assert err.startswith("pmiembed: error: the PMI and SVD stages need about") and "--memory budget" in err
    assert not (tmp_path / "o2").exists()
