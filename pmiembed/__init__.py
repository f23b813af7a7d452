"""pmiembed: word embeddings from counts (PPMI + truncated SVD), compared with word2vec."""

__version__ = "0.1.0"
