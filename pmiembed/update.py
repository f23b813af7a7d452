"""Adding text to a trained model without starting over.

A model trained with ``pmiembed train --save-counts`` (Python: ``keep_tokens=True``)
keeps its corpus as token ids (``tokens.npz``, 4 bytes a token: what is left of the text
after reading and tokenizing it).  The update then

1. reads and tokenizes only the new text and appends its ids to the old ones
   (:func:`pmiembed.corpus.concat_corpora`): the token ids of training on both, up to the numbering of
   the types;
2. builds the vocabulary, counts, and computes PMI exactly as training on both does
   (so the counts and the PMI matrix equal the from-scratch ones entry for entry, for
   every subsampling mode: the subsampling draws depend on the corpus position, and the
   positions are those of both texts read in order);
3. runs the SVD from the previous subspace (:func:`pmiembed.svd.warm_svd`) instead of from
   random, with fewer products; rarer words are folded in as from scratch.

What it saves against training on both is reading the old text and part of the SVD;
the counting of the old text is repeated (over the new vocabulary: a word that joins
changes the windows around its old occurrences, so counts over the old vocabulary could
not simply be added to).

Models saved before the token ids were kept (``counts.npz`` and ``rare_pairs.npz``
only) are updated as follows; the counts are then close to, not equal to, the
from-scratch ones.  Counts are exact and additive (:mod:`pmiembed.cooccur`), so:

1. the new text's word counts are added to the vocabulary's; words that now reach
   ``min_count`` join it (their counts in the old text were not kept, so only their
   new occurrences count), and the vocabulary is re-ordered by the summed counts;
2. the new text is counted over the new vocabulary with the model's counting settings,
   and the old counts, re-indexed to the new order, are added:
   ``#(w, c) = #_old(w, c) + #_new(w, c)``;
3. PMI is recomputed from the summed counts (its marginals, and with expected
   subsampling the keep probabilities, come from the summed counts too);
4. the SVD (the randomized backend, whatever the model's ``svd``) restarts from the
   previous subspace: the range finder's start block is
   ``[W_old, Omega]``, the previous word vectors of the core's words (zero rows for new
   words) beside ``n_oversamples`` Gaussian columns, instead of ``dim + n_oversamples``
   Gaussian columns; the Chebyshev-filtered subspace iteration
   (:func:`pmiembed.svd.randomized_svd`) then needs fewer products, since the start
   already spans most of the top singular subspace.  Rarer words are folded in as
   :func:`pmiembed.svd.fold_in` does.

What differs from counting everything from scratch (this path): a word that joins the vocabulary
was invisible in the old text (its old pairs are missing, and windows there reached
across it), and words that were below ``min_count`` in the old text and in the new
text separately but reach it together are not added.
"""

from __future__ import annotations

import numpy as np

# the pieces live in the stages they belong to (the token ids with the corpus, the merged
# vocabulary with the vocabulary, the merged counts with the counts, the warm start with
# the SVD) and the sequence in the model (PMIEmbedding.update); they are importable from
# here under their old names
from .cooccur import Cooccurrence, count_rare_pairs, reindexed_sum  # noqa: F401
from .corpus import TOKENS_FILE, TOKENS_FORMAT, TOKENS_VERSION, concat_corpora, load_tokens, save_tokens  # noqa: F401
from .defaults import UPDATE_N_ITER as DEFAULT_UPDATE_N_ITER  # noqa: F401
from .errors import ApproximateUpdateWarning, ParameterError, VectorsError  # noqa: F401
from .model import APPROXIMATE_HINT, NO_COUNTS_HINT, UPDATE_MEMORY_FIX, PMIEmbedding  # noqa: F401
from .svd import warm_svd  # noqa: F401
from .vocab import Vocabulary, merged_vocabulary  # noqa: F401


def update_model(model: PMIEmbedding, corpus, n_iter: int | None = None) -> dict:
    """Add ``corpus`` to a fitted ``model`` that holds its token ids or its counts (see
    the module docstring; :meth:`PMIEmbedding.update`); the model is changed in place.
    Returns a summary: ``new_words``, ``dropped_words``, ``new_tokens``, ``tokens``,
    ``words``, ``n_iter``, ``exact`` (False on counts alone, which also warns:
    :class:`~pmiembed.errors.ApproximateUpdateWarning`), ``seconds``."""
    model.update_summary_ = model._update(corpus, n_iter, stacklevel=4)
    return model.update_summary_


def load_for_update(path, **overrides):
    """A :class:`~pmiembed.model.PMIEmbedding` from a model folder with what
    :func:`update_model` needs (token ids or, from folders saved before, counts;
    vocabulary, vectors), read without gensim and checking only those files'
    checksums.  ``overrides`` set parameters that do not change the counts (workers,
    memory, progress, verbose)."""
    from pathlib import Path

    from .vectors import (
        RARE_PAIRS_FILE,
        VECTORS_FILE,
        VECTORS_TEXT_FILE,
        VOCAB_FILE,
        folder_format,
        read_manifest,
        read_word2vec_binary,
        read_word2vec_text,
    )

    path = Path(path)
    # the folder and its manifest first: a missing path or a folder without params.json is
    # said to be that, not a model "saved without its token ids"
    read_manifest(path, files=())
    has_tokens = (path / TOKENS_FILE).is_file()
    if not has_tokens and not (path / "counts.npz").is_file():
        raise ParameterError(f"{path}: {NO_COUNTS_HINT}")
    # saved with format="text": vectors.vec stands for vectors.bin
    text_only = folder_format(path) == "text"
    needed = (VECTORS_TEXT_FILE if text_only else VECTORS_FILE, VOCAB_FILE, "singular_values.npy")
    needed += (TOKENS_FILE,) if has_tokens else ("counts.npz", RARE_PAIRS_FILE)
    meta = read_manifest(path, files=needed)
    model = PMIEmbedding._from_manifest(meta, path, **overrides)
    if text_only:
        words, vectors = read_word2vec_text(path / VECTORS_TEXT_FILE)
    else:
        words, vectors = read_word2vec_binary(path / VECTORS_FILE)
    if has_tokens:
        model.tokens_ = load_tokens(path / TOKENS_FILE)
        model.cooccurrence_ = None
        model.vocabulary_ = Vocabulary.load(path / VOCAB_FILE)
    else:
        model.tokens_ = None
        model.cooccurrence_ = Cooccurrence.load(path / "counts.npz")
        model.vocabulary_ = model.cooccurrence_.vocab
        if (path / RARE_PAIRS_FILE).is_file():
            model.rare_pairs_ = Cooccurrence.load(path / RARE_PAIRS_FILE)
    if words != model.vocabulary_.words:
        raise VectorsError(f"{path}: its vectors and vocabulary list different words; re-train")
    model.vectors_ = vectors
    model.singular_values_ = np.load(path / "singular_values.npy")
    model.counting_params_ = meta.get("counting")
    model.corpus_stats_ = meta.get("corpus")
    model.factorisation_ = meta.get("factorisation")
    return model
