"""pmiembed: word embeddings from counts (PPMI + truncated SVD), compared with word2vec.

``PMIEmbedding().fit(corpus).wv`` is the short way.  The package in layers, each
importing only from the layers above it (``tests/test_imports.py`` checks it)::

    corpus -> vocab -> cooccur -> pmi -> svd      the stages, in the order the data flows
    state                                         ModelState and write_model: what every route
                                                  leaves, and the one writer of a model folder
    model                                         PMIEmbedding: runs the stages (fit, update)
    update, distributed (cluster, cluster_svd)    the routes beside fit
    sweep, compare, cli/                          the apps

beside them ``vectors`` (vector files, manifests), ``explain`` (a PPMI matrix's
contexts), ``evaluate`` and ``word2vec`` (the baseline).
"""

from ._version import __version__

__all__ = ["PMIEmbedding", "load_vectors", "__version__"]


def __getattr__(name):  # lazy: `import pmiembed` stays cheap for the CLI
    if name == "PMIEmbedding":
        from .model import PMIEmbedding

        return PMIEmbedding
    if name == "load_vectors":
        from .vectors import load_vectors

        return load_vectors
    raise AttributeError(f"module 'pmiembed' has no attribute {name!r}")
