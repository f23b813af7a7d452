"""The ``Examples`` sections of the main entry points run as written (on gensim's test
data: offline, a few seconds)."""

from __future__ import annotations

import doctest

import pytest

from pmiembed.evaluate import evaluate
from pmiembed.model import PMIEmbedding
from pmiembed.pmi import pmi_matrix


@pytest.mark.parametrize("obj", [PMIEmbedding, pmi_matrix, evaluate], ids=lambda o: o.__name__)
def test_examples_run(obj):
    tests = doctest.DocTestFinder(recurse=False).find(obj, obj.__name__, globs={})
    assert tests and tests[0].examples, f"{obj.__name__} has no Examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0 and result.attempted >= 3
