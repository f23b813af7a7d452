"""Issue 27, class 3: a model folder is read only with its manifest.

``params.json`` vouches for every file of a model folder (their SHA-256); without it an
edited ``ppmi.npz`` or a flipped bit in ``vectors.bin`` would be trusted.  Every reader
of a folder (similar, analogy and ``analogy --explain``, contexts, explain, evaluate,
update, compare ``--vectors``, ``PMIEmbedding.load``, ``load_vectors``, ``PPMI.load``)
refuses such a folder in one line; a bare vectors file given by its own path stays
readable as what it is.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from cli_run import one_error_line, run

from pmiembed.cli.main import main


@pytest.fixture(scope="module")
def model(tmp_path_factory, lee_path):
    out = tmp_path_factory.mktemp("manifest") / "m"
    assert main(["train", str(lee_path), "--out", str(out), "--dim", "10", "--min-count", "3", "--save-counts",
                 "--quiet"]) == 0
    return out


def _flip_a_vector_bit(folder):
    raw = bytearray((folder / "vectors.bin").read_bytes())
    raw[-7] ^= 0x40
    (folder / "vectors.bin").write_bytes(bytes(raw))


def _edit_ppmi(folder):
    """Double every PPMI value: a consistent archive that explains other numbers."""
    with np.load(folder / "ppmi.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["data"] = arrays["data"] * 2
    with open(folder / "ppmi.npz", "wb") as f:
        np.savez(f, **arrays)


EDITS = {"untouched": lambda folder: None, "flipped-vector-bit": _flip_a_vector_bit, "edited-ppmi": _edit_ppmi}


def _readers(folder, lee_path, tmp_path):
    return [
        ["similar", "--vectors", folder, "government"],
        ["analogy", "--vectors", folder, "government", "minister", "police"],
        ["analogy", "--vectors", folder, "government", "minister", "police", "--explain"],
        ["contexts", "--vectors", folder, "government"],
        ["explain", "--vectors", folder, "government", "minister"],
        ["evaluate", "--vectors", folder, "--quiet"],
        ["update", lee_path, "--vectors", folder, "--out", tmp_path / "updated", "--quiet"],
        ["compare", "--vectors", folder, "--out", tmp_path / "report"],
    ]


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_every_reader_refuses_a_model_folder_without_its_manifest(model, tmp_path, capsys, lee_path, edit):
    folder = tmp_path / "m"
    shutil.copytree(model, folder)
    (folder / "params.json").unlink()
    EDITS[edit](folder)
    want = (f"{folder}: holds pmiembed's files (vectors.bin, vocab.tsv, singular_values.npy, ...) but not their "
            "manifest params.json, without which they cannot be checked; restore params.json or re-train (a "
            "word2vec or gensim vectors file can be given by its own path)")
    for argv in _readers(folder, lee_path, tmp_path):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "", (argv, out)
        assert one_error_line(err) == want, argv
    assert not (tmp_path / "updated").exists() and not (tmp_path / "report").exists()

    from pmiembed import PMIEmbedding
    from pmiembed.errors import VectorsError
    from pmiembed.explain import PPMI
    from pmiembed.vectors import load_vectors

    for load in (PMIEmbedding.load, load_vectors, PPMI.load):
        with pytest.raises(VectorsError) as info:
            load(folder)
        assert str(info.value) == want


def test_a_folder_with_no_pmiembed_files_is_said_not_to_be_a_model_folder(tmp_path, capsys):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x\n")
    code, _, err = run(capsys, "similar", "--vectors", tmp_path / "notes", "the")
    assert code == 2 and one_error_line(err) == (f"{tmp_path / 'notes'}: not a pmiembed model folder (no "
                                                 "params.json); give the folder written by 'pmiembed train' or a "
                                                 "vectors file as --vectors")


def test_a_ppmi_matrix_the_manifest_does_not_list_is_refused(tmp_path, capsys, lee_path, model):
    """A folder saved without ppmi.npz, with one put in afterwards: the manifest does not
    vouch for it, so contexts refuse it instead of explaining with it."""
    folder = tmp_path / "nopmi"
    assert main(["train", str(lee_path), "--out", str(folder), "--dim", "10", "--min-count", "3", "--no-save-pmi",
                 "--quiet"]) == 0
    shutil.copy(model / "ppmi.npz", folder / "ppmi.npz")
    code, _, err = run(capsys, "contexts", "--vectors", folder, "government")
    assert code == 2 and one_error_line(err) == (f"{folder / 'ppmi.npz'}: no checksum in params.json; re-train or "
                                                 "restore the folder")


def test_a_bare_vectors_file_stays_readable_as_such(model, tmp_path, capsys):
    """The vectors file of a manifest-less folder, given by its own path, is read as any
    word2vec file is (no manifest to check it against), as are the other formats."""
    folder = tmp_path / "m"
    shutil.copytree(model, folder)
    (folder / "params.json").unlink()
    code, out, _ = run(capsys, "similar", "--vectors", folder / "vectors.bin", "government", "-n", "3")
    assert code == 0 and len(out.splitlines()) == 3
    from pmiembed.vectors import load_vectors

    kv = load_vectors(folder / "vectors.bin")
    kv.save_word2vec_format(str(tmp_path / "v.vec"), binary=False)
    kv.save(str(tmp_path / "v.kv"))
    lines = (tmp_path / "v.vec").read_text(encoding="utf-8").splitlines()[1:]
    (tmp_path / "glove.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in ("v.vec", "v.kv", "glove.txt"):
        code, out, _ = run(capsys, "similar", "--vectors", tmp_path / name, "government", "-n", "3")
        assert code == 0 and len(out.splitlines()) == 3, name
