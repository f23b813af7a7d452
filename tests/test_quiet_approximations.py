"""Issue 27, class 6: no quiet approximations, no wrong words.

Each test is one item of the class: the update in Python is exact by default (and says
so when it cannot be), messages say what is true (a missing ``--vectors``, a word
without a vector, a benchmark not found, two words for an analogy), a byte order mark is
not part of a word, params.json records what ran (the SVD of an update, the threads),
``phrases --out`` compresses as its name says, settings that would be ignored or
results that are empty are not silent, ``pmi_`` of a loaded model answers, the command
line names its own flags (never ``threshold=``, ``abtt=... or None``), and ``--debug``
keeps the exit code of the error.
"""

from __future__ import annotations

import ast
import bz2
import gzip
import json
import lzma
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_run import one_error_line, run

import pmiembed
from pmiembed import PMIEmbedding
from pmiembed.cli.main import build_parser, flag_names, main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def halves(lee_docs):
    return lee_docs[:150], lee_docs[150:]


# ------------------------------------------------------------ the update in Python


def test_fit_then_update_is_exact_by_default(halves):
    old, new = halves
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the exact path warns about nothing
        updated = PMIEmbedding(dim=20, min_count=3).fit(old).update(new)
    both = PMIEmbedding(dim=20, min_count=3).fit(old + new)
    assert updated.update_summary_["exact"] is True
    assert updated.vocabulary_.words == both.vocabulary_.words
    assert (updated.cooccurrence_.counts != both.cooccurrence_.counts).nnz == 0


def test_an_update_on_counts_alone_warns_how_to_make_it_exact(halves, tmp_path, capsys):
    from pmiembed.update import ApproximateUpdateWarning

    old, new = halves
    with pytest.warns(ApproximateUpdateWarning, match=r"close to, not equal to, training on both texts; fit with "
                                                      r"keep_tokens=True \(the default\) for an exact update"):
        approx = PMIEmbedding(dim=20, min_count=3, keep_tokens=False).fit(old).update(new)
    assert approx.update_summary_["exact"] is False
    assert len(approx.vocabulary_) < len(PMIEmbedding(dim=20, min_count=3).fit(old + new).vocabulary_)
    # a folder saved with counts but no token ids (as older versions saved them): the command says so
    PMIEmbedding(dim=20, min_count=3, keep_tokens=False).fit(old).save(tmp_path / "counts-only", save_counts=True)
    (tmp_path / "new.txt").write_text("".join(" ".join(d) + "\n" for d in new), encoding="utf-8")
    code, _, err = run(capsys, "update", tmp_path / "new.txt", "--vectors", tmp_path / "counts-only", "--out",
                       tmp_path / "up", "--quiet")
    assert code == 0
    note = [ln for ln in err.splitlines() if ln.startswith("pmiembed: note: ")]
    assert note == [f"pmiembed: note: {tmp_path / 'counts-only'} holds counts but no token ids (saved by an older "
                    "pmiembed): updated on its counts, which is close to, not equal to, training on both texts; "
                    "retrain with --save-counts for exact updates"]
    exact = json.loads((tmp_path / "up" / "params.json").read_text())["corpus"]["updates"][-1]["exact"]
    assert exact is False


def test_update_of_a_missing_folder_says_it_does_not_exist(tmp_path, lee_path, capsys):
    code, _, err = run(capsys, "update", lee_path, "--vectors", tmp_path / "nosuch", "--out", tmp_path / "o")
    assert code == 2
    assert one_error_line(err) == f"{tmp_path / 'nosuch'}: no such model folder; check the --vectors path"


def test_update_help_describes_the_update_as_it_is(capsys):
    with pytest.raises(SystemExit):
        main(["update", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "its counts are added to the saved ones" not in text
    assert "appended to the old text's token ids" in text
    assert "counts and PMI are made as training on both texts makes them" in text
    assert "updated on its counts, which is close to, not equal to, training on both" in text


# ------------------------------------------------------------ words without a vector


def _model_with_a_vectorless_word(tmp_path, lee_path):
    """A model in which a word has the zero vector but PPMI entries (among the rarer
    words: the shift leaves it nothing among the words the SVD factorises)."""
    from pmiembed.explain import PPMI
    from pmiembed.vectors import load_vectors

    for neg in ("8", "15", "30"):
        out = tmp_path / f"neg{neg}"
        # the shift empties PPMI rows (the bounded matrix keeps every observed pair)
        assert main(["train", str(lee_path), "--out", str(out), "--dim", "20", "--min-count", "2", "--neg", neg,
                     "--matrix", "ppmi", "--quiet"]) == 0
        kv, ppmi = load_vectors(out), PPMI.load(out)
        for w in kv.index_to_key:
            i = ppmi.index[w]
            if not kv[w].any() and ppmi.matrix.indptr[i + 1] > ppmi.matrix.indptr[i]:
                return out, w, kv
    pytest.fail("no word without a vector but with PPMI entries at any shift tried")


def test_explain_and_contexts_agree_on_a_word_without_a_vector(tmp_path, lee_path, capsys):
    from pmiembed.explain import NO_VECTOR

    out, word, kv = _model_with_a_vectorless_word(tmp_path, lee_path)
    other = next(w for w in kv.index_to_key if w != word and kv[w].any())
    code, listed, _ = run(capsys, "contexts", "--vectors", out, word, "--min-count", "1")
    assert code == 0 and int(listed.split(" of the ")[1].split(" contexts")[0].replace(",", "")) > 0
    code, explained, err = run(capsys, "explain", "--vectors", out, word, other, "--min-count", "1")
    assert code == 0, err
    assert f"vector cosine n/a ({word!r} {NO_VECTOR})" in explained.splitlines()[0]
    assert "PPMI row was empty" not in explained
    code, _, err = run(capsys, "similar", "--vectors", out, word)
    assert code == 2 and one_error_line(err) == (f"word {word!r} {NO_VECTOR} ('pmiembed contexts' lists them); try "
                                                 "another word, or train with a lower --neg")


# ------------------------------------------------------------ byte order mark


@pytest.mark.parametrize("packing", ["plain", "gz", "bz2", "xz"])
def test_a_byte_order_mark_is_not_part_of_the_first_word(tmp_path, packing):
    from pmiembed.corpus import read_corpus
    from pmiembed.word2vec import ChunkedSentences

    text = "Industrial output rose\nIndustrial output fell\n".encode("utf-8")
    opener = {"plain": open, "gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}[packing]
    paths = {}
    for name, data in (("bom", b"\xef\xbb\xbf" + text), ("plain", text)):
        paths[name] = tmp_path / f"{name}.txt{'' if packing == 'plain' else '.' + packing}"
        with opener(paths[name], "wb") as f:
            f.write(data)
    with_bom, without = read_corpus(paths["bom"]), read_corpus(paths["plain"])
    assert with_bom.types == without.types == ["industrial", "output", "rose", "fell"]
    assert read_corpus(paths["bom"], tokenize="whitespace").types == ["Industrial", "output", "rose", "fell"]
    assert np.array_equal(with_bom.ids, without.ids)
    assert list(ChunkedSentences([paths["bom"]]))[0][0] == "Industrial"  # skip-gram's reader too


def test_a_byte_order_mark_in_a_benchmark_file(tmp_path):
    from pmiembed.evaluate import load_benchmark

    (tmp_path / "sim.txt").write_bytes(b"\xef\xbb\xbfking queen 8.5\nman woman 8.3\n")
    pairs = load_benchmark(tmp_path / "sim.txt")
    assert "king" in repr(pairs) and "\ufeff" not in repr(pairs)


# ------------------------------------------------------------ params.json says what ran


@pytest.mark.parametrize("svd", ["krylov", "arpack"])
def test_params_json_names_the_svd_that_made_the_vectors(tmp_path, lee_path, halves, capsys, svd):
    old, new = halves
    (tmp_path / "new.txt").write_text("".join(" ".join(d) + "\n" for d in new), encoding="utf-8")
    code, _, err = run(capsys, "train", lee_path, "--out", tmp_path / "a", "--dim", "20", "--min-count", "3",
                       "--svd", svd, "--save-counts", "--quiet")
    assert code == 0, err
    trained = json.loads((tmp_path / "a" / "params.json").read_text())
    want = {"backend": svd, "n_iter": 6 if svd == "krylov" else None, "warm_start": False}
    assert {k: trained["factorisation"][k] for k in want} == want
    code, _, err = run(capsys, "update", tmp_path / "new.txt", "--vectors", tmp_path / "a", "--out", tmp_path / "b",
                       "--n-iter", "3", "--quiet")
    assert code == 0, err
    updated = json.loads((tmp_path / "b" / "params.json").read_text())
    assert {k: updated["factorisation"][k] for k in want} == {"backend": "randomized", "n_iter": 3,
                                                              "warm_start": True}
    assert updated["params"]["svd"] == svd  # what a fit from scratch would use, as before
    assert PMIEmbedding.load(tmp_path / "b").factorisation_ == updated["factorisation"]


def test_params_json_records_the_threads_that_ran(tmp_path, lee_docs):
    import numba

    from pmiembed.resources import thread_count

    out = PMIEmbedding(dim=10, min_count=3, workers=1000).fit(lee_docs[:100]).save(tmp_path / "m")
    meta = json.loads((out / "params.json").read_text())
    assert meta["params"]["workers"] == thread_count(1000) == numba.config.NUMBA_NUM_THREADS < 1000
    assert meta["workers_requested"] == 1000


# ------------------------------------------------------------ phrases --out compresses


@pytest.mark.parametrize("suffix,magic", [(".gz", b"\x1f\x8b"), (".bz2", b"BZh"), (".xz", b"\xfd7zXZ\x00"),
                                          (".txt", None)])
def test_phrases_out_compresses_as_its_name_says(tmp_path, lee_path, capsys, suffix, magic):
    from pmiembed.corpus import read_corpus

    out = tmp_path / f"joined{suffix}"
    assert run(capsys, "phrases", lee_path, "--out", out, "--quiet")[0] == 0
    head = out.read_bytes()[:6]
    if magic is None:
        assert head.isascii()
    else:
        assert head.startswith(magic)
    assert run(capsys, "phrases", lee_path, "--out", tmp_path / "plain.txt", "--quiet")[0] == 0
    assert read_corpus(out).types == read_corpus(tmp_path / "plain.txt").types


@pytest.mark.parametrize("suffix", [".zst", ".zip", ".lz4", ".7z"])
def test_phrases_out_refuses_a_compression_it_cannot_write(tmp_path, lee_path, capsys, suffix):
    out = tmp_path / f"joined.txt{suffix}"
    code, _, err = run(capsys, "phrases", lee_path, "--out", out, "--quiet")
    assert code == 2 and one_error_line(err) == (f"{out}: pmiembed writes plain text, or text compressed as .gz, "
                                                 f".bz2 or .xz, not {suffix}; end --out with one of those, or with "
                                                 "no compression suffix")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ nothing is silent


def test_phrase_settings_without_phrases_are_refused(tmp_path, lee_path, capsys):
    code, _, err = run(capsys, "train", lee_path, "--out", tmp_path / "o", "--phrase-threshold", "0.3", "--quiet")
    assert code == 2 and one_error_line(err) == ("--phrase-threshold only applies with --phrases; add --phrases to "
                                                 "join phrases before training, or leave --phrase-threshold out")
    code, _, err = run(capsys, "train", lee_path, "--out", tmp_path / "o", "--phrase-passes", "2",
                       "--phrase-min-count", "3", "--quiet")
    assert code == 2 and one_error_line(err).startswith("--phrase-passes and --phrase-min-count only apply with "
                                                        "--phrases")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv,line", [
    (["compare", "{lee}", "--out", "{tmp}/o", "--no-word2vec", "--w2v-epochs", "2"],
     "--w2v-epochs only applies to the word2vec baseline, which --no-word2vec leaves out; drop --no-word2vec, or "
     "leave it out"),
    (["compare", "--vectors", "{model}", "--out", "{tmp}/o", "--dim", "50", "--w2v-window", "3"],
     "--dim and --w2v-window only apply to the models trained on CORPUS (with --vectors alone nothing is trained); "
     "give CORPUS, or leave them out"),
    (["evaluate", "--vectors", "{model}", "--force"],
     "--force only applies with --json (it replaces an existing --json file); give --json FILE, or leave --force "
     "out"),
])
def test_other_settings_that_would_change_nothing_are_refused(tmp_path, lee_path, capsys, argv, line):
    model = tmp_path / "m"
    PMIEmbedding(dim=10, min_count=3).fit(lee_path).save(model)
    code, out, err = run(capsys, *[a.format(lee=lee_path, tmp=tmp_path, model=model) for a in argv])
    assert code == 2 and out == "" and one_error_line(err) == line
    assert not (tmp_path / "o").exists()


def test_collocations_finding_nothing_is_an_error(lee_path, capsys):
    code, out, err = run(capsys, "collocations", lee_path, "--min-count", "100000")
    assert code == 2 and out == ""
    assert one_error_line(err) == ("no adjacent pair of words is seen 100,000 times or more in the 60,005 tokens of "
                                   "CORPUS (pairs never span a line); lower --min-count")


# ------------------------------------------------------------ pmi_ of a loaded model


def test_pmi_of_a_loaded_model(tmp_path, lee_docs):
    fitted = PMIEmbedding(dim=10, min_count=3).fit(lee_docs[:200])
    fitted.save(tmp_path / "m")
    loaded = PMIEmbedding.load(tmp_path / "m")
    assert loaded.cooccurrence_ is None
    assert (loaded.pmi_ != fitted.pmi_).nnz == 0 and loaded.pmi_.shape == fitted.pmi_.shape
    fitted.save(tmp_path / "nopmi", save_pmi=False)
    with pytest.raises(AttributeError, match=r"^pmi_: .*nopmi was saved without its PPMI matrix \(ppmi.npz, "
                                             r"save\(save_pmi=False\)\); fit again to get it$"):
        PMIEmbedding.load(tmp_path / "nopmi").pmi_
    with pytest.raises(AttributeError, match=r"^context_vectors_: not kept in a model folder"):
        loaded.context_vectors_
    with pytest.raises(AttributeError, match=r"^pmi_: the model is not fitted; call fit\(corpus\) first$"):
        PMIEmbedding().pmi_
    with pytest.raises(AttributeError, match=r"^wv: the model is not fitted"):
        PMIEmbedding().wv
    assert getattr(PMIEmbedding(), "cooccurrence_", "absent") == "absent"


# ------------------------------------------------------------ the command line's own words


@pytest.mark.parametrize("argv,line", [
    (["train", "{lee}", "--out", "{tmp}/o", "--dim", "20", "--abtt", "500"],
     "--abtt 500 must be an integer from 0 to 19 (--dim minus 1): the directions removed; or none"),
    (["train", "{lee}", "--out", "{tmp}/o", "--workers", "0"], "--workers 0 must be an integer >= 1 or omitted "
                                                               "(all cores)"),
    (["train", "{lee}", "--out", "{tmp}/o", "--memory", "-1"], "--memory -1.0 must be a positive number of GB or "
                                                               "omitted"),
    (["train", "{lee}", "--out", "{tmp}/o", "--max-vocab", "1"], "--max-vocab 1 must be an integer >= 2 or omitted"),
    (["train", "{lee}", "--out", "{tmp}/o", "--weighting", "harmonic", "--window", "40"],
     "--window 40 is too large for harmonic weighting (at most 20); lower --window or use --weighting dynamic"),
    (["train", "{lee}", "--out", "{tmp}/o", "--phrases", "--phrase-threshold", "5"],
     "--phrase-threshold 5.0 must be an NPMI value in [-1, 1] (e.g. 0.5)"),
    (["phrases", "{lee}", "--out", "{tmp}/o.txt", "--threshold", "5"],
     "--threshold 5.0 must be an NPMI value in [-1, 1] (e.g. 0.5)"),
    (["compare", "{lee}", "--out", "{tmp}/o", "--w2v-epochs", "1", "--no-pmi", "--min-count", "100000", "--quiet"],
     "word2vec: no word occurs at least --w2v-min-count 100000 times in corpus"),
    # the sweep's grid is written in Python's names: its messages keep them
    (["sweep", "{lee}", "--out", "{tmp}/o", "--grid", "abtt=500"],
     "abtt=500 must be an integer from 0 to 299 (dim minus 1): the directions removed; or none"),
])
def test_messages_name_the_flags_the_command_line_takes(tmp_path, lee_path, capsys, argv, line):
    argv = [a.format(lee=lee_path, tmp=tmp_path) for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert one_error_line(err).startswith(line), one_error_line(err)


def test_python_keeps_its_own_spelling():
    from pmiembed.errors import ParameterError

    for params, text in (({"abtt": 500, "dim": 20}, "abtt=500 must be an integer from 0 to 19 (dim minus 1): the "
                                                    "directions removed; or None"),
                         ({"workers": 0}, "workers=0 must be an integer >= 1 or None (all cores)")):
        with pytest.raises(ParameterError) as info:
            PMIEmbedding(**params)._validate()
        assert str(info.value) == text


def _raised_texts():
    """(place, literal text outside the marked settings) of every error the library raises."""
    package = Path(pmiembed.__file__).parent
    errors = {"ParameterError", "PMIEmbedError", "VectorsError", "CorpusError", "BenchmarkError", "WordError"}
    for path in sorted(package.rglob("*.py")):
        # the cluster route's messages are i27c's (issue 27, class 5), rewritten there
        if "cli" in path.relative_to(package).parts[:1] or path.name == "distributed.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in errors:
                parts = []
                for arg in node.args:
                    for sub in ast.walk(arg):
                        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                            parts.append(sub.value)
                        elif isinstance(sub, ast.FormattedValue):
                            parts.append("{}")
                yield f"{path.name}:{node.lineno}", re.sub(r"`[^`]*`", "", "".join(parts))


def test_library_errors_mark_every_setting_they_name():
    """A library message that names a parameter the command line has a flag for (with
    its value, or a Python None/True/False) marks it, so that the command line can show
    the flag; unmarked, the user would read `threshold=` or `or None`."""
    names = flag_names(build_parser())
    settings = sorted((k for k in names if k.isidentifier()), key=len, reverse=True)
    named = re.compile(r"(?<![\w.])(%s)=" % "|".join(settings))
    underscored = re.compile(r"(?<![\w.])(%s)\b" % "|".join(s for s in settings if "_" in s))
    python_words = re.compile(r"\b(None|True|False)\b")
    found = [f"{where}: {text[:80]}" for where, text in _raised_texts()
             if named.search(text) or underscored.search(text) or python_words.search(text)]
    assert not found, found


def test_a_named_benchmark_that_is_nowhere_says_where_to_put_it(lee_path, tmp_path, capsys, monkeypatch):
    from pmiembed.errors import BenchmarkError
    from pmiembed.evaluate import load_benchmark

    monkeypatch.delenv("PMIEMBED_DATA", raising=False)
    with pytest.raises(BenchmarkError) as info:
        load_benchmark("men")
    assert str(info.value) == ("benchmark 'men' not found: PMIEMBED_DATA is not set and gensim's test data has only "
                               "ws353, simlex999, google; set PMIEMBED_DATA to a directory holding "
                               "benchmarks/similarity/men.txt, or give the benchmark file's path instead of its name")
    monkeypatch.setenv("PMIEMBED_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(BenchmarkError, match=r"PMIEMBED_DATA=.*nowhere is not a directory"):
        load_benchmark("msr")
    assert "nowhere)" not in str(info.value)


@pytest.mark.parametrize("words,given", [(["king", "man"], "2 given: king man"), (["king"], "1 given: king"),
                                         (["king", "man", "woman", "queen"], "4 given: king man woman queen"),
                                         ([], "none given")])
def test_an_analogy_needs_three_words_and_says_so(tmp_path, capsys, words, given):
    code, _, err = run(capsys, "analogy", "--vectors", tmp_path, *words)
    assert code == 2
    assert one_error_line(err) == (f"analogy takes three words A B C ('king man woman' asks for king - man + woman); "
                                   f"{given} (see 'pmiembed analogy --help')")


def test_debug_keeps_the_exit_code_and_adds_the_traceback(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for argv in (["--debug", "similar", "--vectors", str(tmp_path / "nosuch"), "the"],
                 ["similar", "--debug", "--vectors", str(tmp_path / "nosuch"), "the"]):
        proc = subprocess.run([sys.executable, "-m", "pmiembed", *argv], capture_output=True, text=True, env=env,
                              timeout=120)
        assert proc.returncode == 2
        assert proc.stderr.startswith("Traceback (most recent call last):")
        assert proc.stderr.rstrip().splitlines()[-1] == (f"pmiembed: error: {tmp_path / 'nosuch'}: no such vectors "
                                                         "file or folder; check the --vectors path")
