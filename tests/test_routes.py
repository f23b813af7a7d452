"""Every route writes the same model folder: one process, a memory budget, a Dask cluster
(local:2) and an update of half the text by the other half give the same files and
manifest keys for the same flags, and the folder works with contexts, explain and
analogy --explain (on gensim's Lee corpus)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pmiembed.cli.main import main
from pmiembed.corpus import load_tokens
from pmiembed.explain import PPMI

FLAGS = ["--dim", "24", "--min-count", "3", "--quiet"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def halves(lee_path, tmp_path_factory):
    lines = lee_path.read_text(encoding="utf-8").splitlines(keepends=True)
    folder = tmp_path_factory.mktemp("halves")
    first, second = folder / "first.txt", folder / "second.txt"
    first.write_text("".join(lines[:150]), encoding="utf-8")
    second.write_text("".join(lines[150:]), encoding="utf-8")
    return first, second


def train_by_every_route(capsys, lee_path, halves, tmp_path, *flags, update=True) -> dict:
    """Folders of the same text and flags, one per route."""
    out = {}
    routes = {"single process": [], "memory budget": ["--memory", "0.25"]}
    try:
        import distributed  # noqa: F401

        routes["cluster"] = ["--scheduler", "local:2"]
    except ImportError:
        pass
    for name, extra in routes.items():
        out[name] = tmp_path / name.replace(" ", "-")
        run(capsys, "train", lee_path, "--out", out[name], *FLAGS, *flags, *extra)
    if update:
        first, second = halves
        run(capsys, "train", first, "--out", tmp_path / "first", *FLAGS, *flags)
        out["update"] = tmp_path / "update"
        run(capsys, "update", second, "--vectors", tmp_path / "first", "--out", out["update"], "--quiet",
            *[f for f in flags if f == "--save-counts"])
    return out


def files_of(folder) -> set:
    return {p.name for p in folder.iterdir()}


def manifest_of(folder) -> dict:
    return json.loads((folder / "params.json").read_text())


def test_every_route_writes_the_same_folder(capsys, lee_path, halves, tmp_path):
    pytest.importorskip("distributed")
    folders = train_by_every_route(capsys, lee_path, halves, tmp_path, "--save-counts")
    expected = {"vectors.bin", "vocab.tsv", "singular_values.npy", "ppmi.npz", "counts.npz", "tokens.npz",
                "params.json"}
    for name, folder in folders.items():
        assert files_of(folder) == expected, name
        manifest = manifest_of(folder)
        assert set(manifest["sha256"]) == expected - {"params.json"}, name
    keys = {name: set(manifest_of(f)) for name, f in folders.items()}
    assert len({frozenset(k) for k in keys.values()}) == 1, keys
    params = {name: set(manifest_of(f)["params"]) for name, f in folders.items()}
    assert len({frozenset(k) for k in params.values()}) == 1, params

    # the same text gives the same PPMI matrix and token ids by every route (the update
    # with the token ids is exact: its counts are those of training on both halves)
    ref = PPMI.load(folders["single process"])
    ref_docs = list(load_tokens(folders["single process"] / "tokens.npz").documents())
    assert len(ref_docs) == 300
    for name, folder in folders.items():
        ppmi = PPMI.load(folder)
        assert ppmi.words == ref.words, name
        assert (ppmi.matrix != ref.matrix).nnz == 0, name
        np.testing.assert_allclose(ppmi.marginals.log_row, ref.marginals.log_row, rtol=1e-12, err_msg=name)
        assert list(load_tokens(folder / "tokens.npz").documents()) == ref_docs, name

    # the folder serves the explanations and takes an exact update
    for name, folder in folders.items():
        out = run(capsys, "contexts", "--vectors", folder, "police", "-n", "3")
        assert "police" in out, name
        out = run(capsys, "explain", "--vectors", folder, "police", "officers", "-n", "3")
        assert "officers" in out, name
        run(capsys, "analogy", "--vectors", folder, "police", "officers", "man", "--explain")
    code = main(["update", str(halves[1]), "--vectors", str(folders["cluster"]), "--out", str(tmp_path / "again"),
                 "--quiet"])
    _, err = capsys.readouterr()
    assert code == 0 and "close to, not equal" not in err, err
    assert manifest_of(tmp_path / "again")["corpus"]["updates"][0]["exact"] is True


@pytest.mark.parametrize("flags", [[], ["--no-save-pmi"], ["--no-save-pmi", "--save-counts"]])
def test_the_flags_decide_the_files_whatever_the_route(capsys, lee_path, halves, tmp_path, flags):
    pytest.importorskip("distributed")
    folders = train_by_every_route(capsys, lee_path, halves, tmp_path, *flags, update=False)
    sets = {name: files_of(folder) for name, folder in folders.items()}
    expected = {"vectors.bin", "vocab.tsv", "singular_values.npy", "params.json"}
    if "--no-save-pmi" not in flags:
        expected.add("ppmi.npz")
    if "--save-counts" in flags:
        expected |= {"counts.npz", "tokens.npz"}
    assert all(s == expected for s in sets.values()), sets
    keys = {name: frozenset(manifest_of(f)) for name, f in folders.items()}
    assert len(set(keys.values())) == 1, keys
