"""What gensim users expect of the command line: text vectors (``train --format``),
``similar`` with several words and ``--negative``, ``--restrict-vocab`` on ``similar`` and
``analogy``, and ``--vectors`` reading a full gensim ``Word2Vec`` model, plain word2vec
files and GloVe's headerless text, with one line for a file that is none of them.

Every answer is checked against gensim's own ``most_similar`` on the same vectors; the
models are trained on Lee's corpus (gensim's test data)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from pmiembed.cli.main import main
from pmiembed.datasets import gensim_test_data
from pmiembed.io import sha256_file
from pmiembed.model import PMIEmbedding
from pmiembed.vectors import load_vectors

SMALL = dict(dim=20, min_count=3)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def answers(out: str) -> list[tuple[str, float]]:
    return [(w, float(s)) for w, s in (line.split("\t") for line in out.strip().splitlines())]


def same_answers(out: str, gensim_result) -> bool:
    got = answers(out)
    return [w for w, _ in got] == [w for w, _ in gensim_result] and all(
        abs(s - round(g, 4)) < 1e-4 for (_, s), (_, g) in zip(got, gensim_result))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, lee_path):
    """``pmiembed train --format both`` on Lee's corpus, and the default (binary) beside it."""
    root = tmp_path_factory.mktemp("formats")
    for name, fmt in (("both", ["--format", "both"]), ("binary", []), ("text", ["--format", "text"])):
        assert main(["train", str(lee_path), "--out", str(root / name), "--dim", "20", "--min-count", "3",
                     "--quiet", *fmt]) == 0
    return root


@pytest.fixture(scope="module")
def w2v_model(tmp_path_factory, lee_docs):
    """A full gensim Word2Vec model saved with ``Word2Vec.save`` (one thread: deterministic)."""
    from gensim.models import Word2Vec

    model = Word2Vec(lee_docs, vector_size=20, min_count=3, workers=1, seed=1, epochs=2)
    path = tmp_path_factory.mktemp("w2v") / "lee.model"
    model.save(str(path))
    return path, model


# ------------------------------------------------------------------ train --format


def test_train_format_text_is_gensims_text_format_with_the_binarys_exact_values(trained):
    from gensim.models import KeyedVectors

    both = trained / "both"
    assert {p.name for p in both.iterdir()} >= {"vectors.bin", "vectors.vec", "vocab.tsv", "params.json"}
    text = KeyedVectors.load_word2vec_format(str(both / "vectors.vec"), binary=False)
    binary = KeyedVectors.load_word2vec_format(str(both / "vectors.bin"), binary=True)
    assert text.index_to_key == binary.index_to_key and len(text) > 1000
    assert np.array_equal(text.vectors, binary.vectors)  # 9 digits: every float32 reads back bit for bit
    meta = json.loads((both / "params.json").read_text())
    assert meta["sha256"]["vectors.vec"] == sha256_file(both / "vectors.vec")
    assert meta["sha256"]["vectors.bin"] == sha256_file(both / "vectors.bin")
    # the default stays binary only, and its vectors.bin is the same file
    assert not (trained / "binary" / "vectors.vec").exists()
    assert sha256_file(trained / "binary" / "vectors.bin") == sha256_file(both / "vectors.bin")


def test_a_text_only_folder_loads_everywhere_and_is_checked(trained, capsys):
    folder = trained / "text"
    assert not (folder / "vectors.bin").exists() and (folder / "vectors.vec").is_file()
    kv = load_vectors(folder)
    assert np.array_equal(kv.vectors, load_vectors(trained / "binary").vectors)
    assert np.array_equal(PMIEmbedding.load(folder).wv.vectors, kv.vectors)
    code, out, _ = run(capsys, "similar", "--vectors", folder, "government", "-n", "3")
    assert code == 0 and same_answers(out, kv.most_similar("government", topn=3))
    # a changed vectors.vec is caught by its checksum
    damaged = trained / "text-damaged"
    damaged.mkdir()
    for f in folder.iterdir():
        (damaged / f.name).write_bytes(f.read_bytes())
    (damaged / "vectors.vec").write_bytes((folder / "vectors.vec").read_bytes().replace(b" 0.", b" 1.", 1))
    code, _, err = run(capsys, "similar", "--vectors", damaged, "government")
    assert code == 2 and "vectors.vec: checksum mismatch" in err and len(err.strip().splitlines()) == 1


def test_save_refuses_an_unknown_format(lee_path, tmp_path):
    from pmiembed.errors import ParameterError

    model = PMIEmbedding(**SMALL).fit(lee_path)
    with pytest.raises(ParameterError, match="format='vec' must be one of 'binary', 'text', 'both'"):
        model.save(tmp_path / "m", format="vec")
    assert not (tmp_path / "m").exists()


# -------------------------------------------------- similar, --negative, --restrict-vocab


def test_similar_with_several_words_and_negative_is_gensims_most_similar(trained, capsys):
    kv = load_vectors(trained / "binary")
    code, out, _ = run(capsys, "similar", "--vectors", trained / "binary", "government", "police",
                       "--negative", "australia", "-n", "7")
    assert code == 0
    want = kv.most_similar(positive=["government", "police"], negative=["australia"], topn=7)
    assert same_answers(out, want)
    assert [w for w, _ in answers(out)] != [w for w, _ in kv.most_similar(positive=["government", "police"], topn=7)]
    code, _, err = run(capsys, "similar", "--vectors", trained / "binary", "government", "--negative", "nosuchword")
    assert code == 2 and "'nosuchword' is not in the vocabulary" in err


def test_restrict_vocab_keeps_answers_among_the_most_frequent_words(trained, capsys):
    """Checked against gensim on vectors holding only the N most frequent words (what
    restrict_vocab means), for similar, analogy 3CosAdd and 3CosMul (whose gensim
    method takes restrict_vocab but ignores it)."""
    from pmiembed.vectors import make_keyed_vectors

    kv = load_vectors(trained / "binary")
    top = make_keyed_vectors(kv.index_to_key[:300], kv.vectors[:300])
    assert all(kv.key_to_index[w] < 300 for w in ("government", "australia", "police"))
    code, out, _ = run(capsys, "similar", "--vectors", trained / "binary", "government", "--restrict-vocab", "300")
    assert code == 0 and same_answers(out, top.most_similar("government", topn=10))
    assert any(kv.key_to_index[w] >= 300 for w, _ in kv.most_similar("government", topn=10))  # it restricts
    for extra, fn in (([], top.most_similar), (["--cosmul"], top.most_similar_cosmul)):
        code, out, _ = run(capsys, "analogy", "--vectors", trained / "binary", "government", "australia", "police",
                           "--restrict-vocab", "300", "-n", "4", *extra)
        assert code == 0
        assert same_answers(out, fn(positive=["government", "police"], negative=["australia"], topn=4)), extra


# -------------------------------------------------------------- what --vectors reads


def test_a_full_gensim_word2vec_model_file_is_read_wherever_vectors_are(w2v_model, capsys, tmp_path):
    path, model = w2v_model
    kv = load_vectors(path)
    assert kv.index_to_key == model.wv.index_to_key and np.array_equal(kv.vectors, model.wv.vectors)
    code, out, _ = run(capsys, "similar", "--vectors", path, "government", "-n", "5")
    assert code == 0 and same_answers(out, model.wv.most_similar("government", topn=5))
    code, out, _ = run(capsys, "analogy", "--vectors", path, "government", "Australia", "police", "-n", "3")
    assert code == 0 and same_answers(out, model.wv.most_similar(positive=["government", "police"],
                                                                 negative=["Australia"], topn=3))
    code, out, _ = run(capsys, "evaluate", "--vectors", path, "--benchmarks", "ws353", "--quiet")
    assert code == 0 and "ws353" in out
    # its KeyedVectors saved alone (.kv) read the same
    model.wv.save(str(tmp_path / "lee.kv"))
    assert np.array_equal(load_vectors(tmp_path / "lee.kv").vectors, model.wv.vectors)
    # explanations need pmiembed's PPMI matrix: one line says so
    for argv in (["contexts", "--vectors", path, "government"], ["explain", "--vectors", path, "government", "police"],
                 ["analogy", "--vectors", path, "government", "Australia", "police", "--explain"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
        assert "need a model folder written by 'pmiembed train'" in err


def test_plain_word2vec_and_glove_files_from_gensims_test_data(capsys):
    from gensim.models import KeyedVectors

    data = gensim_test_data()
    for name, kwargs in (("euclidean_vectors.bin", dict(binary=True)), ("crime-and-punishment.vec", dict(binary=False)),
                         ("test_glove.txt", dict(binary=False, no_header=True))):
        want = KeyedVectors.load_word2vec_format(str(data / name), **kwargs)
        kv = load_vectors(data / name)
        assert kv.index_to_key == want.index_to_key and np.array_equal(kv.vectors, want.vectors), name
        word = want.index_to_key[0]
        code, out, _ = run(capsys, "similar", "--vectors", data / name, word, "-n", "3")
        assert code == 0 and same_answers(out, want.most_similar(word, topn=3)), name


def test_a_file_that_is_not_vectors_gets_one_line(tmp_path, capsys, lee_path):
    from gensim.corpora import Dictionary

    dictionary = tmp_path / "lee.dict"
    Dictionary([["a", "b"], ["b", "c"]]).save(str(dictionary))  # a gensim file without word vectors
    other_pickle = tmp_path / "other.pkl"
    other_pickle.write_bytes(pickle.dumps({"not": "gensim"}, protocol=4))
    cases = [(lee_path, "not a word2vec vectors file"), (dictionary, "a gensim Dictionary, which has no word vectors"),
             (other_pickle, "cannot load this gensim file")]
    for path, message in cases:
        code, out, err = run(capsys, "similar", "--vectors", path, "government")
        assert code == 2 and out == "", path
        assert len(err.strip().splitlines()) == 1 and message in err and str(path) in err, err


# ------------------------------------------------------------- what the outputs say


def test_evaluate_table_names_each_number(trained, tmp_path, capsys):
    """Similarity lines say Spearman rho; the analogy line says 3CosAdd / 3CosMul and
    prints them in that order (checked against the JSON)."""
    code, out, _ = run(capsys, "evaluate", "--vectors", trained / "binary", "--json", tmp_path / "r.json", "--quiet")
    assert code == 0
    data = json.loads((tmp_path / "r.json").read_text())["benchmarks"]
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert out.splitlines()[0].split()[:3] == ["benchmark", "metric", "score"]
    assert "Spearman rho" in lines["ws353"] and f"{data['ws353']['score']:.3f}" in lines["ws353"]
    add, mul = data["google"]["3cosadd"], data["google"]["3cosmul"]
    assert lines["google"].split()[1:7] == ["3CosAdd", "/", "3CosMul", f"{add:.3f}", "/", f"{mul:.3f}"]


def test_params_json_records_the_threads_used(trained):
    from pmiembed.resources import cpu_count

    meta = json.loads((trained / "binary" / "params.json").read_text())
    assert meta["params"]["workers"] == cpu_count()  # trained without --workers: all cores, recorded as a number


def test_update_of_a_text_only_model_keeps_the_text_format_and_the_same_vectors(tmp_path, lee_docs):
    """``pmiembed update`` warm-starts from vectors.vec as it does from vectors.bin: the
    two updated models hold the same vectors, each in its model's format."""
    half = len(lee_docs) // 2
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("".join(" ".join(d) + "\n" for d in lee_docs[:half]), encoding="utf-8")
    second.write_text("".join(" ".join(d) + "\n" for d in lee_docs[half:]), encoding="utf-8")
    for fmt in ("binary", "text"):
        assert main(["train", str(first), "--out", str(tmp_path / fmt), "--dim", "20", "--min-count", "3",
                     "--save-counts", "--format", fmt, "--quiet"]) == 0
        assert main(["update", str(second), "--vectors", str(tmp_path / fmt), "--out", str(tmp_path / f"{fmt}-up"),
                     "--quiet"]) == 0
    assert not (tmp_path / "text-up" / "vectors.bin").exists() and (tmp_path / "text-up" / "vectors.vec").is_file()
    assert not (tmp_path / "binary-up" / "vectors.vec").exists()
    text, binary = load_vectors(tmp_path / "text-up"), load_vectors(tmp_path / "binary-up")
    assert text.index_to_key == binary.index_to_key and len(text) > len(load_vectors(tmp_path / "text"))
    assert np.array_equal(text.vectors, binary.vectors)
