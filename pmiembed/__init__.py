"""pmiembed: word embeddings from counts (PPMI + truncated SVD), compared with word2vec.

``PMIEmbedding().fit(corpus).wv`` is the short way; every stage is its own module
(corpus, vocab, cooccur, pmi, svd, evaluate, word2vec, compare, sweep).
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
