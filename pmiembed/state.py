"""What a trained model is, and the one writer of its folder.

Every route that trains or grows a model (:meth:`PMIEmbedding.fit
<pmiembed.model.PMIEmbedding.fit>` in one process, with a ``memory`` budget or on a
Dask cluster, :meth:`~pmiembed.model.PMIEmbedding.update`, the saved models of the sweep
and of ``compare``) ends with the same :class:`ModelState`: the vocabulary, the counting
parameters, the PPMI matrix with its marginals, the counts and the token ids when kept,
the singular values, the vectors and what made them.  :func:`write_model` writes that
state, and nothing else, into a model folder::

    vectors.bin / vectors.vec   the vectors (format "binary", "text" or "both")
    vocab.tsv                   the words and their counts
    singular_values.npy
    ppmi.npz                    the PPMI matrix and its marginals (save_pmi)
    counts.npz, rare_pairs.npz  the co-occurrence counts (save_counts)
    tokens.npz                  the corpus as token ids (when kept: what an exact update needs)
    params.json                 the manifest: parameters, statistics, SHA-256 of every file

so the same flags give the same files whichever route trained the model.  The folder is
built under a temporary name and renamed into place (:func:`pmiembed.io.atomic_dir`,
which also refuses an existing folder without ``force`` and an input inside the output).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .cooccur import Cooccurrence
from .corpus import TOKENS_FILE, TokenizedCorpus, save_tokens
from .errors import ParameterError
from .io import atomic_dir
from .pmi import PPMI_FILE, PMIMarginals, save_ppmi
from .vectors import MODEL_FORMAT, RARE_PAIRS_FILE, VOCAB_FILE, write_manifest, write_vectors_files
from .vocab import Vocabulary

COUNTS_FILE = "counts.npz"
SINGULAR_VALUES_FILE = "singular_values.npy"

#: the keys of a model folder's manifest (params.json) besides those
#: :func:`pmiembed.vectors.write_manifest` adds (version, checksums)
MANIFEST_KEYS = ("format", "params", "counting", "factorisation", "vocabulary_size", "corpus", "timings",
                 "peak_rss_bytes", "workers_requested")


@dataclass
class ModelState:
    """A trained model's state, as every route leaves it and a folder keeps it.

    ``params``: the estimator's parameters as saved (the tokenizer as its repr, the
    workers as resolved); ``workers_requested``: the ``workers`` parameter as given;
    ``words`` and ``vectors``: the word vectors (index order); ``factorisation``: what
    the SVD that made them ran; ``pmi`` and ``pmi_marginals``: the (S)PPMI matrix and
    what turns its entries back into counts (None only for a loaded model whose folder
    has no ``ppmi.npz``); ``cooccurrence`` and ``rare_pairs``: the counts, when kept;
    ``tokens``: the corpus as token ids, when kept; ``corpus``, ``timings``,
    ``peak_rss_bytes``: statistics for the manifest."""

    params: dict
    workers_requested: object
    vocabulary: Vocabulary
    counting: dict | None
    words: list
    vectors: np.ndarray
    singular_values: np.ndarray
    factorisation: dict
    pmi: sp.csr_matrix | None = None
    pmi_marginals: PMIMarginals | None = None
    cooccurrence: Cooccurrence | None = None
    rare_pairs: Cooccurrence | None = None
    tokens: TokenizedCorpus | None = None
    corpus: dict | None = None
    timings: dict | None = None
    peak_rss_bytes: int | None = None

    def manifest(self) -> dict:
        """The manifest's content (:data:`MANIFEST_KEYS`)."""
        return {
            "format": MODEL_FORMAT, "params": self.params, "counting": self.counting,
            # what made these vectors: after an update, the warm-started randomized SVD and its
            # iterations, whatever `params` says a fit from scratch would use
            "factorisation": self.factorisation,
            "vocabulary_size": len(self.vocabulary), "corpus": self.corpus, "timings": self.timings,
            "peak_rss_bytes": self.peak_rss_bytes,
            "workers_requested": self.workers_requested,  # the parameter as given, restored by load
        }


def write_model(path: str | os.PathLike, state: ModelState, *, force: bool = False, save_counts: bool = False,
                save_pmi: bool = True, format: str = "binary") -> Path:
    """Write ``state`` to the model folder ``path`` (module docstring), atomically:
    ``ppmi.npz`` unless ``save_pmi`` is False, ``counts.npz`` (and ``rare_pairs.npz``
    when kept) with ``save_counts``, ``tokens.npz`` when the state holds token ids.  A
    state that lacks what the flags ask for is refused before anything is written."""
    if save_pmi and (state.pmi is None or state.pmi_marginals is None):
        raise ParameterError("`save_pmi=True` needs the PPMI matrix, and this model has none (it was loaded from a "
                             "folder saved without ppmi.npz): save with `save_pmi=False`, or fit again")
    if save_counts and state.cooccurrence is None:
        raise ParameterError("`save_counts=True` needs the counts: fit with `keep_counts=True`")
    path = Path(path)
    inputs = list((state.corpus or {}).get("sources") or [])
    with atomic_dir(path, force=force, inputs=inputs) as tmp:
        files = write_vectors_files(state.words, state.vectors, tmp, format)
        state.vocabulary.save(tmp / VOCAB_FILE)
        np.save(tmp / SINGULAR_VALUES_FILE, np.asarray(state.singular_values))
        files += [VOCAB_FILE, SINGULAR_VALUES_FILE]
        if save_pmi:
            save_ppmi(tmp / PPMI_FILE, state.pmi, state.pmi_marginals)
            files.append(PPMI_FILE)
        if save_counts:
            state.cooccurrence.save(tmp / COUNTS_FILE)
            files.append(COUNTS_FILE)
            if state.rare_pairs is not None:
                state.rare_pairs.save(tmp / RARE_PAIRS_FILE)
                files.append(RARE_PAIRS_FILE)
        if state.tokens is not None:
            save_tokens(state.tokens, tmp / TOKENS_FILE)
            files.append(TOKENS_FILE)
        write_manifest(tmp, state.manifest(), files)
    return path
