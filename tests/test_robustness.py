"""Issue 15: degenerate input, inputs that must never be touched, the last tracebacks.

Every case runs the real command line (or the real API) on real text and checks the
one line it prints, the exit code, and that nothing was deleted or half-written.
"""

from __future__ import annotations

import argparse
import ctypes
import gzip
import json
import lzma
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pmiembed.cli.main import build_parser, main
from pmiembed.datasets import sample_path

REPO = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("pmiembed: error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def lee_model(tmp_path_factory, lee_path):
    out = tmp_path_factory.mktemp("rob") / "m"
    assert main(["train", str(lee_path), "--out", str(out), "--dim", "20", "--min-count", "3", "--quiet"]) == 0
    return out


# ------------------------------------------------------------- 2. empty PPMI


def test_all_empty_ppmi_is_an_error_naming_neg(tmp_path, lee_path, capsys):
    code, _, err = run(capsys, "train", lee_path, "--out", tmp_path / "o", "--dim", "20", "--neg", "1000000", "--quiet")
    assert code == 2
    line = one_error_line(err)
    assert "--neg 1e+06" in line and "empty" in line and "neg=" not in line
    assert not (tmp_path / "o").exists()


def test_ppmi_with_too_few_rows_left_names_neg(tmp_path, lee_path, capsys):
    # the shift empties PPMI rows (the bounded matrix keeps every observed pair)
    code, _, err = run(capsys, "train", lee_path, "--out", tmp_path / "o", "--dim", "20", "--neg", "1000",
                       "--matrix", "ppmi", "--quiet")
    assert code == 2
    line = one_error_line(err)
    assert "lower --neg" in line and "--dim 20" in line and "dim=" not in line


@pytest.mark.parametrize("neg,abtt", [("100", "1"), ("15", "none")])
def test_words_with_empty_ppmi_rows_are_counted_zero_and_never_nan(tmp_path, lee_path, capsys, neg, abtt):
    from pmiembed.pmi import empty_rows
    from pmiembed.vectors import load_vectors

    out = tmp_path / "o"
    code, _, err = run(capsys, "train", lee_path, "--out", out, "--dim", "20", "--neg", neg, "--abtt", abtt,
                       "--matrix", "ppmi")
    assert code == 0, err
    label = "words without a vector (no PPMI entry among the factorised words)"
    assert label in err
    kv = load_vectors(out)
    zero = ~kv.vectors.any(axis=1)
    assert zero.sum() >= 1
    reported = int(err.split(label + " ")[1].split(";")[0].replace(",", ""))
    assert reported == zero.sum()
    # every word without a vector is rejected as a query in one line, every other
    # word's neighbours are finite
    word = kv.index_to_key[int(np.flatnonzero(zero)[0])]
    code, _, err = run(capsys, "similar", "--vectors", out, word)
    assert code == 2 and "has no vector" in one_error_line(err)
    for w in kv.index_to_key[:40]:
        if kv.vectors[kv.key_to_index[w]].any():
            code, o, err = run(capsys, "similar", "--vectors", out, w, "-n", "50")
            assert code == 0, err
            scores = [float(line.split("\t")[1]) for line in o.splitlines()]
            assert len(scores) == 50 and np.all(np.isfinite(scores)), o
    # the API agrees: the zero rows are exactly the words without a PPMI entry
    from pmiembed import PMIEmbedding

    m = PMIEmbedding(dim=20, neg=float(neg), abtt=None if abtt == "none" else int(abtt), matrix="ppmi").fit(lee_path)
    assert m.n_empty_rows_ == zero.sum()
    assert np.array_equal(empty_rows(m.pmi_, m.n_core_), zero)
    assert np.isfinite(m.wv.most_similar(word, topn=5)[0][1])


# ------------------------------------------------------- 3. sweep across corpora


def test_sweep_refuses_a_folder_made_from_another_corpus(tmp_path, lee_path, capsys):
    out = tmp_path / "sw"
    code, _, err = run(capsys, "sweep", lee_path, "--grid", "dim=20,30", "--out", out)
    assert code == 0, err
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["corpus"]["files"][0]["path"] == str(Path(lee_path).resolve())
    before = sorted(p.name for p in (out / "counts").iterdir())
    code, _, err = run(capsys, "sweep", sample_path(), "--grid", "dim=20,40", "--out", out)
    assert code == 2
    line = one_error_line(err)
    assert "computed from another corpus" in line and "new --out" in line
    assert sorted(p.name for p in (out / "counts").iterdir()) == before
    # the same corpus resumes
    code, _, err = run(capsys, "sweep", lee_path, "--grid", "dim=20,30", "--out", out)
    assert code == 0 and "2 already done" in err


def test_sweep_refuses_a_changed_corpus_file(tmp_path, lee_path, capsys):
    corpus = tmp_path / "c.txt"
    shutil.copy(lee_path, corpus)
    out = tmp_path / "sw"
    assert run(capsys, "sweep", corpus, "--grid", "dim=20", "--out", out)[0] == 0
    with open(corpus, "a", encoding="utf-8") as f:
        f.write("one more line of text\n")
    code, _, err = run(capsys, "sweep", corpus, "--grid", "dim=20", "--out", out)
    assert code == 2 and f"{corpus.resolve()} changed" in one_error_line(err)


def test_sweep_in_memory_corpora_are_told_apart_by_their_tokens(tmp_path, lee_docs):
    from pmiembed.errors import ParameterError
    from pmiembed.sweep import run_sweep

    log = open(os.devnull, "w")
    run_sweep(lee_docs[:200], {"dim": [10]}, tmp_path / "sw", log=log)
    run_sweep(lee_docs[:200], {"dim": [10]}, tmp_path / "sw", log=log)  # same tokens: resumes
    with pytest.raises(ParameterError, match="another corpus"):
        run_sweep(lee_docs[100:], {"dim": [10]}, tmp_path / "sw", log=log)


@pytest.mark.parametrize("value", ["maybe", "2", "yess"])
def test_sweep_boolean_values_are_strict(value):
    from pmiembed.errors import ParameterError
    from pmiembed.sweep import parse_grid

    with pytest.raises(ParameterError, match=f"wc='{value}' is not a yes/no value"):
        parse_grid([f"wc=0,{value}"])
    assert parse_grid(["wc=0,1,yes,false"])["wc"] == [False, True, True, False]


# -------------------------------------------------------------- 4. --force data loss


def _corpus_folder(tmp_path, lee_path) -> Path:
    corp = tmp_path / "data" / "corp"
    corp.mkdir(parents=True)
    shutil.copy(lee_path, corp / "lee.txt")
    return corp


@pytest.mark.parametrize("where", ["is", "contains-file", "contains-folder", "inside", "cwd", "cwd-parent"])
def test_out_overlapping_an_input_or_the_working_directory_is_refused(tmp_path, lee_path, capsys, monkeypatch,
                                                                      where):
    corp = _corpus_folder(tmp_path, lee_path)
    corpus_arg = corp
    if where == "is":
        out = corp
    elif where == "contains-file":
        corpus_arg, out = corp / "lee.txt", corp
    elif where == "contains-folder":
        out = corp.parent
    elif where == "inside":
        out = corp / "model"
    else:
        work = tmp_path / "work"
        work.mkdir()
        monkeypatch.chdir(work)
        out = Path(".") if where == "cwd" else Path("..")
        corpus_arg = corp / "lee.txt"
    for argv in (["train", corpus_arg, "--force", "--dim", "10", "--quiet"],
                 ["compare", corpus_arg, "--no-word2vec", "--force", "--dim", "10", "--quiet"],
                 ["sweep", corpus_arg, "--grid", "dim=5"],
                 ["update", corpus_arg, "--vectors", tmp_path / "model", "--force", "--quiet"],
                 ["phrases", corpus_arg, "--force", "--quiet"]):
        code, _, err = run(capsys, *argv, "--out", out)
        assert code == 2, (argv, err)
        line = one_error_line(err)
        assert ("the input" in line or "working directory" in line) and "--out" in line, line
    assert (corp / "lee.txt").read_bytes() == Path(lee_path).read_bytes()
    assert sorted(p.name for p in corp.iterdir()) == ["lee.txt"]


def test_api_save_refuses_to_replace_the_folder_it_read(tmp_path, lee_path):
    from pmiembed import PMIEmbedding
    from pmiembed.errors import PMIEmbedError

    corp = _corpus_folder(tmp_path, lee_path)
    m = PMIEmbedding(dim=10).fit(corp)
    with pytest.raises(PMIEmbedError, match="contains the input"):
        m.save(corp, force=True)
    assert (corp / "lee.txt").exists()


# ------------------------------------------------------------- 6. --help everywhere


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices)


@pytest.mark.parametrize("command", _subcommands())
def test_help_of_every_subcommand(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    out, err = capsys.readouterr()
    assert exc.value.code == 0 and f"usage: pmiembed {command}" in out and err == ""


def test_analogy_with_two_words_is_a_usage_error(lee_model, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["analogy", "--vectors", str(lee_model), "king", "man"])
    _, err = capsys.readouterr()
    assert exc.value.code == 2
    line = one_error_line(err)
    assert line == ("pmiembed: error: analogy takes three words A B C ('king man woman' asks for king - man + "
                    "woman); 2 given: king man (see 'pmiembed analogy --help')")


# ------------------------------------------------------ 7. unreadable inputs (no root)


def _drop_dac_capabilities():
    """Child process: root without the capabilities that bypass file permissions
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so permission bits apply as for any user;
    Python and the repository stay readable (they are root's own files)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if os.getuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone after exec
                os._exit(97)


def run_unprivileged(args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "pmiembed", *map(str, args)], capture_output=True, text=True,
                          env=env, preexec_fn=_drop_dac_capabilities, timeout=300, cwd=cwd)
    assert proc.returncode != 97, "could not drop the permission-bypassing capabilities"
    return proc


def test_permissions_really_apply_in_the_test_child(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    secret.chmod(0)
    proc = subprocess.run([sys.executable, "-c", f"open({str(secret)!r}).read()"], capture_output=True,
                          text=True, preexec_fn=_drop_dac_capabilities)
    assert proc.returncode == 1 and "PermissionError" in proc.stderr


@pytest.mark.parametrize("kind", ["file", "gz-file", "folder", "subfolder"])
def test_unreadable_corpus_is_one_line(tmp_path, lee_path, kind):
    corp = tmp_path / "corp"
    corp.mkdir()
    if kind == "gz-file":
        target = corp / "lee.txt.gz"
        target.write_bytes(gzip.compress(Path(lee_path).read_bytes()))
    else:
        target = corp / "lee.txt"
        shutil.copy(lee_path, target)
    if kind == "subfolder":
        sub = corp / "sub"
        sub.mkdir()
        shutil.copy(lee_path, sub / "more.txt")
        target = sub
    if kind == "folder":
        target = corp
    arg = target if kind in ("file", "gz-file") else corp
    try:
        target.chmod(0)
        proc = run_unprivileged(["train", arg, "--out", tmp_path / "o", "--dim", "10", "--quiet"])
    finally:
        target.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    line = one_error_line(proc.stderr)
    assert str(target) in line and "Permission denied" in line
    assert ("check its permissions" in line) and "empty" not in line
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_input_output_error_while_reading_is_one_line(tmp_path, capsys):
    """/proc/self/mem is a regular file whose first page is unmapped: reading it fails
    with EIO, as a failing disk does."""
    code, _, err = run(capsys, "train", "/proc/self/mem", "--out", tmp_path / "o", "--quiet")
    assert code == 2
    assert one_error_line(err) == ("pmiembed: error: /proc/self/mem: read error (Input/output error); the file or "
                                   "its disk is damaged, copy or restore the file")


def test_unwritable_out_parent_is_refused_before_training(tmp_path, lee_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    try:
        parent.chmod(0o555)
        t = time.perf_counter()
        proc = run_unprivileged(["train", sample_path(), "--out", parent / "o", "--dim", "10"])
        seconds = time.perf_counter() - t
    finally:
        parent.chmod(0o755)
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    assert line == f"pmiembed: error: {parent}: cannot write here (Permission denied); choose a writable location"
    assert "read:" not in proc.stderr and seconds < 60  # refused before reading the corpus
    assert list(parent.iterdir()) == []


# -------------------------------------------------------- 8. the remaining tracebacks


@pytest.mark.parametrize("argv,needle", [
    (["--memory", "inf"], "'inf' is not a finite number"),
    (["--memory", "nan"], "'nan' is not a finite number"),
    (["--neg", "inf"], "'inf' is not a finite number"),
    (["--svd", "sklearn", "--seed", "4294967296"], "--seed 4294967296 must be an integer from 0 to 4294967295"),
    (["--seed", "99999999999999999999"], "--seed 99999999999999999999 must be an integer from 0 to 4294967295"),
    (["--n-iter", "100000"], "--n-iter 100000 must be at most 1000"),
])
def test_out_of_range_options_are_one_line(tmp_path, lee_path, capsys, argv, needle):
    code, _, err = run(capsys, "train", lee_path, "--out", tmp_path / "o", "--dim", "10", "--quiet", *argv)
    assert code == 2 and needle in one_error_line(err)


def test_memory_inf_through_the_api_is_a_parameter_error(lee_docs):
    from pmiembed import PMIEmbedding
    from pmiembed.errors import ParameterError

    with pytest.raises(ParameterError, match="memory=inf must be a positive number"):
        PMIEmbedding(dim=10, memory=float("inf")).fit(lee_docs)


def _edit_manifest(folder: Path, edit, rehash: bool = True) -> None:
    from pmiembed.vectors import manifest_digest

    path = folder / "params.json"
    meta = json.loads(path.read_text())
    meta = edit(meta)
    if rehash and isinstance(meta, dict):
        meta["manifest_sha256"] = manifest_digest(meta)
    path.write_text(json.dumps(meta))


@pytest.mark.parametrize("edit,needle", [
    (lambda m: dict(m, sha256=None), "'sha256' is not a table of file checksums"),
    (lambda m: [m], "not a pmiembed model manifest"),
    (lambda m: dict(m, version="1"), "model format version '1' is not supported (this pmiembed reads version 1"),
    (lambda m: dict(m, version=2), "model format version 2 is not supported"),
    (lambda m: dict(m, sha256={k: v for k, v in m["sha256"].items() if k != "vectors.bin"}),
     "vectors.bin: no checksum in params.json"),
    (lambda m: dict(m, sha256={}), "no checksum in params.json"),
])
def test_bad_manifests_are_one_line(lee_model, tmp_path, capsys, edit, needle):
    folder = tmp_path / "m"
    shutil.copytree(lee_model, folder)
    _edit_manifest(folder, edit)
    code, _, err = run(capsys, "similar", "--vectors", folder, "government")
    assert code == 2 and needle in one_error_line(err)


def test_fifo_as_vectors_or_benchmark_does_not_hang(tmp_path, lee_model):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for argv in (["similar", "--vectors", fifo, "the"], ["evaluate", "--vectors", lee_model, "--benchmarks", fifo]):
        proc = subprocess.run([sys.executable, "-m", "pmiembed", *map(str, argv)], capture_output=True, text=True,
                              env=env, timeout=120)
        assert proc.returncode == 2
        assert "not a regular file" in one_error_line(proc.stderr)


def test_fit_counts_without_counts_is_one_line(lee_model, tmp_path):
    from pmiembed import PMIEmbedding
    from pmiembed.errors import ParameterError

    m = PMIEmbedding.load(lee_model)
    assert m.cooccurrence_ is None
    with pytest.raises(ParameterError, match="saved without counts has none; save with save_counts=True"):
        PMIEmbedding(dim=10).fit_counts(m.cooccurrence_)
    with pytest.raises(ParameterError, match="needs a Cooccurrence"):
        PMIEmbedding(dim=10).fit_counts("counts.npz")


def test_ctrl_c_during_startup_never_prints_a_traceback(tmp_path):
    """SIGINT at many moments of the first second (while modules import, the parser is
    built, the corpus is opened): one line or a silent death by the signal, never a
    traceback."""
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")

    def reset():
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    # what the installed console script does once the interpreter is up (Python's own
    # start-up, before any pmiembed code runs, is not ours to handle)
    script = ("import runpy, sys; "
              f"sys.argv = ['pmiembed', 'train', {str(sample_path())!r}, '--out', {str(tmp_path / 'o')!r}, '--quiet']; "
              "sys.stderr.write('ready\\n'); sys.stderr.flush(); runpy.run_module('pmiembed', run_name='__main__')")
    for delay in np.linspace(0.01, 0.8, 15):
        proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True, env=env,
                                preexec_fn=reset)
        assert proc.stderr.readline() == "ready\n"
        time.sleep(float(delay))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert "Traceback" not in err, (delay, err)
        assert proc.returncode == 130, (delay, proc.returncode, err)
        assert err.strip() == "pmiembed: interrupted; nothing was written"
        assert not (tmp_path / "o").exists()


# ------------------------------------------------------- 9. API input detection


def test_list_of_long_document_strings_is_read_as_text(lee_path):
    from pmiembed import PMIEmbedding

    docs = Path(lee_path).read_text(encoding="utf-8").splitlines()
    long_docs = [" ".join(docs[i:i + 20]) for i in range(0, len(docs), 20)]
    assert max(len(d) for d in long_docs) > 4096
    m = PMIEmbedding(dim=10, verbose=True).fit(long_docs)
    assert m.corpus_stats_["input"] == "documents" and m.corpus_stats_["sources"] == []
    # the text's tokens, as the file gives them (not one token per document)
    from pmiembed.corpus import read_corpus

    assert m.corpus_stats_["tokens"] == read_corpus(lee_path).n_tokens > 50 * len(long_docs)
    assert read_corpus(long_docs, tokenize="whitespace").n_tokens == sum(len(d.split()) for d in long_docs)


def test_read_as_is_said_in_the_summary(lee_path, capsys):
    from pmiembed import PMIEmbedding

    PMIEmbedding(dim=10, verbose=True).fit([str(lee_path)])
    assert "read as 1 file" in capsys.readouterr().err
    PMIEmbedding(dim=10, verbose=True).fit(Path(lee_path).read_text(encoding="utf-8").splitlines())
    assert "read as in-memory documents" in capsys.readouterr().err


def test_list_of_paths_with_a_missing_first_entry_names_it(lee_path, tmp_path):
    from pmiembed import PMIEmbedding
    from pmiembed.errors import CorpusError

    missing = tmp_path / "missing.txt"
    with pytest.raises(CorpusError, match=f"{missing}: no such file or folder"):
        PMIEmbedding(dim=10).fit([str(missing), str(lee_path)])
    with pytest.raises(CorpusError, match="no such file or folder"):
        PMIEmbedding(dim=10).fit([str(missing)])


def test_single_text_string_is_refused_with_the_fix(lee_path):
    from pmiembed import PMIEmbedding
    from pmiembed.errors import CorpusError

    text = Path(lee_path).read_text(encoding="utf-8")
    with pytest.raises(CorpusError, match=r"looks like text.*fit\(\[text\]\)"):
        PMIEmbedding(dim=10).fit(text)


# ----------------------------------------------------------- 10. benchmark files


@pytest.fixture
def ws353_text():
    from pmiembed.datasets import gensim_test_data

    return (gensim_test_data() / "wordsim353.tsv").read_text(encoding="utf-8")


@pytest.mark.parametrize("packing", ["xz", "gz-unsuffixed", "bz2-as-txt"])
def test_compressed_benchmarks_are_detected_by_content(tmp_path, ws353_text, packing):
    import bz2

    from pmiembed.evaluate import load_benchmark

    raw = ws353_text.encode("utf-8")
    path = {"xz": tmp_path / "ws.txt.xz", "gz-unsuffixed": tmp_path / "ws", "bz2-as-txt": tmp_path / "ws.txt"}[packing]
    path.write_bytes({"xz": lzma.compress, "gz-unsuffixed": gzip.compress, "bz2-as-txt": bz2.compress}[packing](raw))
    bench = load_benchmark(str(path))
    assert bench.kind == "similarity" and len(bench) == 353


def test_real_ws353_header_row_and_csv(tmp_path, ws353_text):
    from pmiembed.evaluate import load_benchmark

    rows = [ln.split("\t") for ln in ws353_text.splitlines() if ln.strip() and not ln.startswith("#")]
    rows = [r for r in rows if len(r) == 3]
    tsv = tmp_path / "combined.tab"
    tsv.write_text("Word 1\tWord 2\tHuman (mean)\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    csv = tmp_path / "combined.csv"
    csv.write_text("Word 1,Word 2,Human (mean)\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    for path in (tsv, csv):
        bench = load_benchmark(str(path))
        assert bench.kind == "similarity" and len(bench) == len(rows) == 353
        assert bench.pairs[0] == (rows[0][0].lower(), rows[0][1].lower())


# ------------------------------------------------------------ 11. manifest integrity


def test_manifest_edits_without_the_checksum_are_caught(lee_model, tmp_path, capsys):
    folder = tmp_path / "m"
    shutil.copytree(lee_model, folder)
    # damage vectors.bin and remove its checksums: the manifest's own checksum catches it
    data = bytearray((folder / "vectors.bin").read_bytes())
    data[-7] ^= 0x40
    (folder / "vectors.bin").write_bytes(bytes(data))
    _edit_manifest(folder, lambda m: dict(m, sha256={k: v for k, v in m["sha256"].items() if k != "vectors.bin"}),
                   rehash=False)
    code, _, err = run(capsys, "similar", "--vectors", folder, "government")
    assert code == 2 and "params.json: checksum mismatch, the manifest is damaged or was edited" in one_error_line(err)
    # a manifest without its own checksum
    _edit_manifest(folder, lambda m: {k: v for k, v in m.items() if k != "manifest_sha256"}, rehash=False)
    code, _, err = run(capsys, "similar", "--vectors", folder, "government")
    assert code == 2 and "params.json: has no checksum of itself" in one_error_line(err)
    # a changed parameter
    shutil.rmtree(folder)
    shutil.copytree(lee_model, folder)
    _edit_manifest(folder, lambda m: dict(m, params=dict(m["params"], dim=99)), rehash=False)
    from pmiembed import PMIEmbedding
    from pmiembed.errors import VectorsError

    with pytest.raises(VectorsError, match="checksum mismatch, the manifest"):
        PMIEmbedding.load(folder)


# ----------------------------------------------------------- 12. sklearn determinism


def test_sklearn_backend_gives_the_same_bits_for_any_worker_count(lee_path):
    from pmiembed import PMIEmbedding

    # scikit-learn factorises matrices it can hold: the PPMI (the bounded matrix is refused, test_nneg)
    a = PMIEmbedding(dim=40, svd="sklearn", matrix="ppmi", workers=1).fit(lee_path).vectors_
    b = PMIEmbedding(dim=40, svd="sklearn", matrix="ppmi", workers=2).fit(lee_path).vectors_
    assert a.tobytes() == b.tobytes()


def test_an_import_broken_by_ctrl_c_counts_as_an_interrupt(capsys, monkeypatch):
    """Ctrl-C while a compiled module initialises reaches Python as an ImportError whose
    context is the KeyboardInterrupt (numba: "numba._devicearray failed to import"): the
    command prints the interrupt line; a real ImportError still raises."""
    from pmiembed.cli import main as cli
    from pmiembed.cli import train as cli_train

    def broken_by_ctrl_c():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ImportError("numba._devicearray failed to import")

    assert cli.caused_by_interrupt(KeyboardInterrupt())
    try:
        broken_by_ctrl_c()
    except ImportError as exc:
        assert cli.caused_by_interrupt(exc)
    assert not cli.caused_by_interrupt(ImportError("no module named x"))

    def train_then_ctrl_c(args):
        broken_by_ctrl_c()

    monkeypatch.setattr(cli_train, "cmd_train", train_then_ctrl_c)
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["train"].set_defaults(func=train_then_ctrl_c)
    handler = signal.getsignal(signal.SIGINT)
    try:
        assert cli.main(["train", "x", "--out", "y"]) == 130
    finally:
        signal.signal(signal.SIGINT, handler)  # main ignores a second Ctrl-C from then on
    assert capsys.readouterr().err.strip() == "pmiembed: interrupted; nothing was written"
    parser._subparsers._group_actions[0].choices["train"].set_defaults(
        func=lambda args: (_ for _ in ()).throw(ImportError("no module named x")))
    with pytest.raises(ImportError):
        cli.main(["train", "x", "--out", "y"])
