"""One pipeline: the model's stage methods, the stage functions' defaults, the direction
of the stages' imports."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import pmiembed
from pmiembed import cooccur, pmi, svd, vocab
from pmiembed.corpus import read_corpus
from pmiembed.defaults import DEFAULTS
from pmiembed.model import PMIEmbedding

#: the library's stages in the order data flows through them
STAGES = ["corpus", "vocab", "cooccur", "pmi", "svd", "model"]


@pytest.mark.parametrize("keep_counts", [True, False])
@pytest.mark.parametrize("cds", [1.0, 0.75])
def test_stage_methods_give_fits_bits(lee_path, keep_counts, cds):
    """count -> factorise -> vectors, called one at a time, is what fit computes."""
    params = dict(dim=30, min_count=3, seed=2, cds=cds, core_min_count=8)
    fitted = PMIEmbedding(**params, keep_counts=keep_counts).fit(lee_path)
    model = PMIEmbedding(**params)
    cooc = model.count(lee_path)
    factors = model.factorise(cooc)
    assert cooc.vocab.words == fitted.vocabulary_.words
    assert np.array_equal(factors.s, fitted.singular_values_)
    assert np.array_equal(model.vectors(factors), fitted.vectors_)
    assert model.n_core_ == fitted.n_core_ and model.n_core_ is not None


def test_factorise_reuses_the_pmi_across_svd_settings(lee_path):
    model = PMIEmbedding(dim=20, min_count=3)
    cooc = model.count(read_corpus(lee_path))
    first = model.factorise(cooc)
    matrix = model.pmi_
    model.set_params(seed=5, n_iter=3)
    second = model.factorise(cooc)
    assert model.pmi_ is matrix and not np.array_equal(first.u, second.u)
    model.set_params(cds=0.75)
    model.factorise(cooc)
    assert model.pmi_ is not matrix  # another PMI setting: computed again
    # the vectors of each setting are those of a model fitted with it
    model.set_params(eig=0.0, abtt=None)
    fitted = PMIEmbedding(dim=20, min_count=3, seed=5, n_iter=3, cds=0.75, eig=0.0, abtt=None).fit(lee_path)
    assert np.array_equal(model.vectors(model.factorise(cooc)), fitted.vectors_)


def test_stage_functions_default_to_the_model_recipe():
    """A user calling a stage gets the recipe PMIEmbedding() runs."""
    model = PMIEmbedding()
    checks = [
        (cooccur.count_cooccurrences, {"window", "weighting", "subsample", "subsample_mode"}),
        (cooccur.counting, {"window", "weighting", "subsample", "subsample_mode"}),
        (pmi.pmi_matrix, {"cds", "neg"}),
        (pmi.pmi_from_rows, {"cds", "neg"}),
        (svd.word_vectors, {"eig", "wc", "abtt"}),
        (vocab.Vocabulary.from_counts, {"min_count", "max_vocab"}),
    ]
    for fn, names in checks:
        defaults = {k: p.default for k, p in inspect.signature(fn).parameters.items() if k in names}
        assert defaults == {k: getattr(model, k) for k in names} == {k: DEFAULTS[k] for k in names}, fn.__name__
    for fn in (svd.truncated_svd, svd.randomized_svd):
        params = inspect.signature(fn).parameters
        assert params["n_iter"].default == model.n_iter == DEFAULTS["n_iter"]
        assert params["n_oversamples"].default == model.oversamples == DEFAULTS["oversamples"]


def _imported_modules(path: Path) -> set[str]:
    """pmiembed modules a file imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(a.name for a in node.names)
            elif node.module and node.module.startswith("pmiembed."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("pmiembed."))
    return found


@pytest.mark.parametrize("stage", STAGES[:-1])
def test_no_stage_imports_a_later_one(stage):
    """Data flows one way: text -> ids -> counts -> PMI -> SVD -> vectors."""
    package = Path(pmiembed.__file__).parent
    later = set(STAGES[STAGES.index(stage) + 1:]) | {"model", "evaluate", "word2vec", "compare", "sweep", "update",
                                                    "distributed", "explain"}
    assert not _imported_modules(package / f"{stage}.py") & later
