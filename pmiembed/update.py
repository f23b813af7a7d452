"""Adding text to a trained model without starting over.

A model trained with ``pmiembed train --save-counts`` (Python: ``keep_tokens=True``)
keeps its corpus as token ids (``tokens.npz``, 4 bytes a token: what is left of the text
after reading and tokenizing it).  The update then

1. reads and tokenizes only the new text and appends its ids to the old ones
   (:func:`concat_corpora`): the token ids of training on both, up to the numbering of
   the types;
2. builds the vocabulary, counts, and computes PMI exactly as training on both does
   (so the counts and the PMI matrix equal the from-scratch ones entry for entry, for
   every subsampling mode: the subsampling draws depend on the corpus position, and the
   positions are those of both texts read in order);
3. runs the SVD from the previous subspace (:func:`warm_svd`, below) instead of from
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

import contextlib
import json
import time

import numpy as np
import scipy.sparse as sp

from ._validation import Integral, Interval, check_param
from .cooccur import Cooccurrence, counting
from .corpus import TokenizedCorpus
from .defaults import DEFAULTS
from .errors import ParameterError, VectorsError
from .progress import StageTimer
from .resources import limit_threads, peak_rss_bytes
from .svd import check_svd_params
from .vocab import Vocabulary

#: power iterations of the warm-started SVD when not given (from scratch: 6); on wiki17m + 17M
#: tokens the fewest within .005 of training on both on the eight benchmarks (docs/phrases-update.md)
DEFAULT_UPDATE_N_ITER = 4

#: what to do when an update does not fit: its dimensions are the model's
UPDATE_MEMORY_FIX = ("an update keeps the model's dimensions: give a larger `memory` budget or free memory, or train "
                     "the model again with a lower `dim`")
NO_COUNTS_HINT = ("the model was saved without its token ids and co-occurrence counts, which an update needs; "
                  "retrain it with `save_counts:PMIEmbedding(keep_tokens=True).fit(...) and save(path)`, then "
                  "update that")

class ApproximateUpdateWarning(UserWarning):
    """An update made on counts alone (no token ids): close to, not equal to, training
    on both texts (the module docstring says what differs)."""


APPROXIMATE_HINT = ("update on counts alone (the model kept no token ids): words that join the vocabulary miss "
                    "their occurrences in the old text, so the result is close to, not equal to, training on both "
                    "texts; fit with keep_tokens=True (the default) for an exact update")

#: the corpus as token ids, kept for updates (see :func:`save_tokens`)
TOKENS_FILE = "tokens.npz"
TOKENS_FORMAT = "pmiembed-tokens"
TOKENS_VERSION = 1


def concat_corpora(a: TokenizedCorpus, b: TokenizedCorpus) -> TokenizedCorpus:
    """``a``'s tokens then ``b``'s as one :class:`~pmiembed.corpus.TokenizedCorpus`
    (``b`` starts a document; ``b``'s types that ``a`` lacks are appended to its types):
    what reading both sources in one call gives, but for the numbering of the types,
    which no later stage depends on (the vocabulary is ordered by count, then word)."""
    index = {t: i for i, t in enumerate(a.types)}
    types = list(a.types)
    remap = np.empty(len(b.types), dtype=np.int32)
    for j, t in enumerate(b.types):
        i = index.get(t)
        if i is None:
            i = index[t] = len(types)
            types.append(t)
        remap[j] = i
    counts = np.zeros(len(types), dtype=np.int64)
    counts[:len(a.types)] = a.counts
    np.add.at(counts, remap, np.asarray(b.counts, dtype=np.int64))
    n_a = a.n_tokens
    ids = np.empty(n_a + b.n_tokens, dtype=np.int32)
    ids[:n_a] = a.ids
    ids[n_a:] = remap[b.ids]
    starts = [np.asarray(a.doc_starts, dtype=np.int64)]
    if n_a and b.n_tokens:
        starts.append(np.array([n_a], dtype=np.int64))
    starts.append(np.asarray(b.doc_starts, dtype=np.int64) + n_a)
    return TokenizedCorpus(ids, np.concatenate(starts), types, counts, a.n_replaced + b.n_replaced,
                           a.n_bytes + b.n_bytes, list(a.sources) + list(b.sources),
                           a.input_kind if a.input_kind == b.input_kind else "documents")


def save_tokens(tokens: TokenizedCorpus, path) -> None:
    """Write ``tokens`` to one uncompressed ``.npz`` (token ids int32, document starts,
    type counts, the types one a line, and a small JSON header), atomically.  Its
    checksum is the model manifest's (:meth:`pmiembed.model.PMIEmbedding.save`)."""
    from pathlib import Path

    from .io import atomic_path

    if any("\n" in t for t in tokens.types):
        raise ParameterError("a token contains a newline; the token ids cannot be saved for updates (the types are "
                             "stored one a line): split such tokens in the tokenizer")
    meta = {"format": TOKENS_FORMAT, "version": TOKENS_VERSION, "n_replaced": int(tokens.n_replaced),
            "n_bytes": int(tokens.n_bytes), "sources": list(tokens.sources), "input_kind": tokens.input_kind}
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), types=np.array("\n".join(tokens.types)),
                     ids=np.ascontiguousarray(tokens.ids, dtype=np.int32),
                     doc_starts=np.asarray(tokens.doc_starts, dtype=np.int64),
                     counts=np.asarray(tokens.counts, dtype=np.int64))


def load_tokens(path) -> TokenizedCorpus:
    """Read a file written by :func:`save_tokens`."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            types = str(z["types"])
            ids, doc_starts, counts = z["ids"], z["doc_starts"], z["counts"]
    except Exception as exc:  # zipfile/npy errors of every kind
        raise VectorsError(f"{path}: not a readable pmiembed token file ({type(exc).__name__}); re-train") from None
    if not isinstance(meta, dict) or meta.get("format") != TOKENS_FORMAT or meta.get("version") != TOKENS_VERSION:
        raise VectorsError(f"{path}: not a pmiembed token file of version {TOKENS_VERSION}; re-train")
    types = types.split("\n") if types else []
    if len(types) != len(counts) or (len(ids) and int(ids.max()) >= len(types)):
        raise VectorsError(f"{path}: token ids and types do not match; re-train")
    return TokenizedCorpus(ids, doc_starts, types, counts, meta["n_replaced"], meta["n_bytes"], meta["sources"],
                           meta["input_kind"])


def merged_vocabulary(old: Vocabulary, rare: Vocabulary | None, types, counts, n_tokens: int, min_count: int,
                      max_vocab) -> tuple[Vocabulary, Vocabulary]:
    """The old words with the new text's counts added, plus the words (of the old
    text's rare words, ``rare``, and the new text) whose summed count reaches
    ``min_count``, ordered by count descending, then word; and the words left out
    with their summed counts (the next update's ``rare``)."""
    summed: dict[str, int] = dict(zip(old.words, old.counts.tolist()))
    n_old = len(summed)
    if rare is not None:
        for w, c in zip(rare.words, rare.counts.tolist()):
            summed[w] = summed.get(w, 0) + c
    for t, c in zip(types, np.asarray(counts).tolist()):
        summed[t] = summed.get(t, 0) + c
    words = list(summed)
    all_counts = np.fromiter(summed.values(), dtype=np.int64, count=len(words))
    # old words stay (their counts only grow) unless max_vocab cuts them
    eligible = all_counts >= min_count
    eligible[:n_old] = True
    total = int(old.total) + int(n_tokens)
    kept_idx = np.flatnonzero(eligible)
    vocab = Vocabulary.from_counts([words[i] for i in kept_idx], all_counts[kept_idx], min_count=1,
                                   max_vocab=max_vocab, total=total)
    index = vocab.index
    left = [i for i, w in enumerate(words) if w not in index]
    return vocab, Vocabulary([words[i] for i in left], all_counts[left], total)


def count_rare_pairs(tokens, vocab: Vocabulary, *, window: int, weighting: str, subsample, subsample_mode: str,
                     seed: int = 0) -> Cooccurrence | None:
    """The rows of the words that ``vocab`` leaves out, counted as
    :func:`pmiembed.cooccur.counting` counts with them in the vocabulary: what an update
    needs when such a word reaches ``min_count`` with more text.  A
    :class:`~pmiembed.cooccur.Cooccurrence` over every word of the corpus (``vocab``
    first, in its order) whose rows for ``vocab``'s words are empty; None when no word
    is left out."""
    from .cooccur import RowBlocks, filter_tokens, positions_by_word, row_batches, window_weights

    counts = np.asarray(tokens.counts)
    ext = Vocabulary.from_counts(tokens.types, counts, min_count=1, total=tokens.n_tokens)
    n_old = len(vocab)
    if len(ext) <= n_old or ext.words[:n_old] != vocab.words:
        return None
    weights, scale = window_weights(window, weighting)
    x, _ = filter_tokens(tokens, ext, subsample=subsample, subsample_mode=subsample_mode, seed=seed, gap=window)
    indptr, positions = positions_by_word(x, len(ext))
    # only the left-out words' positions: their rows alone are counted
    first = indptr[n_old]
    index = (np.maximum(indptr - first, 0), positions[first:])
    rows = RowBlocks(len(ext))
    for batch in row_batches(x, index, 0, len(x), weights, len(ext)):
        rows.add(*batch)
    m = rows.total()
    m.sort_indices()
    params = {"window": int(window), "weighting": weighting,
              "subsample": None if subsample is None else float(subsample), "subsample_mode": subsample_mode,
              "seed": int(seed), "n_tokens": int(tokens.n_tokens)}
    return Cooccurrence(m, scale, ext, params)


def _rare_both_ways(rare: Cooccurrence, n_old: int) -> sp.csr_matrix:
    """The left-out words' rows plus, as the rows of the old words, their transposes
    (entries between old words are not in these counts)."""
    r = rare.counts
    t = sp.csr_matrix(r[:, :n_old].T)
    t = sp.csr_matrix((t.data, t.indices, np.concatenate([t.indptr, np.full(r.shape[0] - n_old, t.indptr[-1])])),
                      shape=r.shape)
    out = (r + t).tocsr()
    out.sort_indices()
    return out


def reindexed_sum(old: Cooccurrence, new: Cooccurrence, rare: Cooccurrence | None = None) -> Cooccurrence:
    """``old``'s counts re-indexed to ``new``'s vocabulary plus ``new``'s (words of
    ``old`` missing from ``new.vocab`` are dropped); with ``rare``
    (:func:`count_rare_pairs` of the old text), the old pairs of the words that joined."""
    from . import _update_kernels
    from ._kernels import compact_rows

    mine = {k: v for k, v in old.params.items() if k != "n_tokens"}
    theirs = {k: v for k, v in new.params.items() if k != "n_tokens"}
    if mine != theirs or old.scale != new.scale:
        raise ParameterError(f"cannot add counts made with different parameters: {mine} vs {theirs}")
    n_new = len(new.vocab)

    def maps(words):
        col = new.vocab.id_map(words).astype(np.int64)  # source row -> new row
        row = np.full(n_new, -1, dtype=np.int64)
        kept = col >= 0
        row[col[kept]] = np.flatnonzero(kept)
        return row, col

    row_old, col_map = maps(old.vocab.words)
    o, n = old.counts, new.counts
    room = np.diff(n.indptr).astype(np.int64)
    room[row_old >= 0] += np.diff(o.indptr)[row_old[row_old >= 0]]
    if rare is not None:
        x = _rare_both_ways(rare, len(old.vocab))
        row_x, xcol_map = maps(rare.vocab.words)
        room[row_x >= 0] += np.diff(x.indptr)[row_x[row_x >= 0]]
    else:
        x = sp.csr_matrix((1, 1), dtype=np.int64)
        row_x, xcol_map = np.full(n_new, -1, dtype=np.int64), np.full(1, -1, dtype=np.int64)
    room = np.minimum(room, n_new)
    offsets = np.zeros(len(room), dtype=np.int64)
    np.cumsum(room[:-1], out=offsets[1:])
    total = int(room.sum())
    out_i = np.empty(total, dtype=np.int32)
    out_d = np.empty(total, dtype=np.int64)
    nnz = np.zeros(len(room), dtype=np.int64)
    from ._jit import numba

    threads = numba.get_num_threads()
    acc = np.zeros((threads, n_new), dtype=np.int64)  # counts are positive: 0 means untouched
    touched = np.empty((threads, n_new), dtype=np.int32)
    def i64(a):  # no copy of what already is int64 (the counts' data: 300 MB on wiki17m)
        return a.astype(np.int64, copy=False)

    _update_kernels.merge_rows(row_old, col_map, i64(o.indptr), o.indices, i64(o.data),
                               row_x, xcol_map, i64(x.indptr), x.indices, i64(x.data),
                               i64(n.indptr), n.indices, i64(n.data), offsets,
                               acc, touched, out_i, out_d, nnz)
    del acc, touched
    ptr = np.zeros(len(room) + 1, dtype=np.int64)
    np.cumsum(nnz, out=ptr[1:])
    if ptr[-1] == total:
        idx, dat = out_i, out_d
    else:
        idx = np.empty(int(ptr[-1]), dtype=np.int32)
        dat = np.empty(int(ptr[-1]), dtype=np.int64)
        compact_rows(offsets, nnz, out_i, out_d, ptr, idx, dat)
    del out_i, out_d
    counts = sp.csr_matrix((dat, idx, ptr), shape=(n_new, n_new))
    params = dict(new.params)
    params["n_tokens"] = int(old.params.get("n_tokens", 0)) + int(new.params.get("n_tokens", 0))
    return Cooccurrence(counts, new.scale, new.vocab, params)


def warm_svd(matrix: sp.spmatrix, dim: int, start: np.ndarray, *, n_iter: int = DEFAULT_UPDATE_N_ITER,
             n_oversamples: int = DEFAULTS["oversamples"], seed: int = 0, workers: int | None = None,
             progress: bool = False,
             copy: bool = True, core: int | None = None, symmetric: bool | None = None, rank_one=None):
    """:func:`pmiembed.svd.randomized_svd` of the leading ``core x core`` block of
    ``matrix`` with the start block's first columns taken from ``start`` (rows: the
    block's columns; typically the previous word vectors) instead of Gaussian ones.
    ``rank_one``: see :func:`pmiembed.svd.truncated_svd`.  Returns ``(U, S, Vt)`` of the block."""
    from .svd import randomized_svd

    return randomized_svd(matrix, dim, n_iter=n_iter, n_oversamples=n_oversamples, seed=seed, workers=workers,
                          progress=progress, copy=copy, core=core, symmetric=symmetric, start=start,
                          rank_one=rank_one)


def update_model(model, corpus, n_iter: int | None = None) -> dict:
    """Add ``corpus`` to a fitted ``model`` that holds its token ids or its counts (see
    the module docstring); the model is changed in place.  Returns a summary:
    ``new_words``, ``dropped_words``, ``new_tokens``, ``tokens``, ``words``, ``n_iter``,
    ``exact`` (False on counts alone, which also warns: :class:`ApproximateUpdateWarning`),
    ``seconds``."""
    cooc = getattr(model, "cooccurrence_", None)
    kept = model.__dict__.get("tokens_")
    if cooc is None and kept is None:
        raise ParameterError(NO_COUNTS_HINT)
    if getattr(model, "vectors_", None) is None:
        raise ParameterError("the model is not fitted; call fit(corpus) first")
    if (getattr(model, "corpus_stats_", None) or {}).get("phrases"):
        raise ParameterError("the model was trained with `phrases:joined phrases`, whose phrase set is not saved; an "
                             "update would count the new text without it: retrain on all the text with "
                             "`phrases:joined phrases` instead")
    n_iter = DEFAULT_UPDATE_N_ITER if n_iter is None else n_iter
    check_param("n_iter", n_iter, [Interval(Integral, 1, None)])
    model._validate()
    timer = StageTimer(model.verbose)
    start = time.perf_counter()
    tokens = model._read(corpus, timer, record=False)
    new_tokens = tokens.n_tokens
    sources = list(tokens.sources)
    if kept is not None:
        # the only references to both id arrays go in: they are freed once joined
        parts = [kept, tokens]
        del kept, tokens
        new_words, dropped, vocab = _update_from_tokens(model, parts, n_iter, timer)
        n_all = model.tokens_.n_tokens
        return _finish(model, start, new_tokens, n_all, sources, new_words, dropped, vocab, n_iter, timer, exact=True)
    import warnings

    warnings.warn(APPROXIMATE_HINT, ApproximateUpdateWarning, stacklevel=3)
    p = cooc.params
    old_vocab = cooc.vocab
    with timer.stage("vocab") as info:
        rare = getattr(model, "rare_pairs_", None)
        if rare is not None and rare.vocab.words[:len(old_vocab)] != old_vocab.words:
            rare = None  # not the pairs of these counts (an earlier update's)
        rare_words = None if rare is None else Vocabulary(rare.vocab.words[len(old_vocab):],
                                                          rare.vocab.counts[len(old_vocab):], rare.vocab.total)
        vocab, _ = merged_vocabulary(old_vocab, rare_words, tokens.types, tokens.counts, tokens.n_tokens,
                                     model.min_count, model.max_vocab)
        old_index = old_vocab.index
        new_words = sum(1 for w in vocab.words if w not in old_index)
        dropped = len(old_vocab) - (len(vocab) - new_words)
        info["words"] = f"{len(vocab):,} ({new_words:,} new" + (f", {dropped:,} dropped)" if dropped else ")")
    model._check_memory(vocab, fix=UPDATE_MEMORY_FIX)  # the budget train refuses, refused here too
    memory_bytes = None if model.memory is None else int(model.memory * 2**30)
    with timer.stage("count") as info, limit_threads(model.n_workers_):
        box = [tokens]
        del tokens
        with counting(box.pop(), vocab, window=p["window"], weighting=p["weighting"], subsample=p["subsample"],
                      subsample_mode=p["subsample_mode"], seed=p["seed"],
                      memory_bytes=memory_bytes // 2 if memory_bytes else None, progress=model.progress) as counted:
            added = counted.cooccurrence(vocab)
        info["nonzeros"] = f"{added.nnz:,}"
    with timer.stage("merge") as info, limit_threads(model.n_workers_):
        summed = reindexed_sum(cooc, added, rare)
        # the left-out words' pairs belong to the old vocabulary; the next update has none
        model.rare_pairs_ = None
        del added
        info["nonzeros"] = f"{summed.nnz:,}"
    previous = _previous_vectors(model, vocab, old_vocab)
    # the model's own PMI and SVD stages, the SVD started from the previous vectors
    model._pmi_from_counts(summed, timer)
    model._set_vectors(*model._svd(timer, warm=(previous, n_iter)))
    del previous
    return _finish(model, start, new_tokens, int(summed.params["n_tokens"]), sources, new_words, dropped, vocab,
                   n_iter, timer, exact=False)


def _finish(model, start, new_tokens, n_all, sources, new_words, dropped, vocab, n_iter, timer, exact) -> dict:
    stats = dict(getattr(model, "corpus_stats_", None) or {})
    stats["tokens"] = int(n_all)
    stats["updates"] = list(stats.get("updates", [])) + [{"tokens": int(new_tokens), "sources": sources,
                                                          "new_words": int(new_words), "n_iter": int(n_iter),
                                                          "exact": bool(exact)}]
    model.corpus_stats_ = stats
    model.timings_ = dict(timer.times)
    model.timings_["total"] = time.perf_counter() - start
    model.peak_rss_bytes_ = peak_rss_bytes()
    return {"new_words": int(new_words), "dropped_words": int(dropped), "new_tokens": int(new_tokens),
            "tokens": int(n_all), "words": len(vocab), "n_iter": int(n_iter), "exact": bool(exact),
            "seconds": model.timings_["total"]}


def _previous_vectors(model, vocab: Vocabulary, old_vocab: Vocabulary) -> np.ndarray:
    """The previous vectors in the rows of ``vocab``'s words (zero rows for new words):
    the warm start of the SVD."""
    previous = np.zeros((len(vocab), model.vectors_.shape[1]), dtype=np.float32)
    rows_old = old_vocab.id_map(vocab.words)
    known = rows_old >= 0
    previous[known] = np.asarray(model.vectors_)[rows_old[known]]
    return previous


def _update_from_tokens(model, parts: list, n_iter: int, timer):
    """The update of a model that kept its token ids (module docstring, first list):
    vocabulary, counts and PMI of both texts (``parts``: the kept and the new
    :class:`~pmiembed.corpus.TokenizedCorpus`, emptied) as :meth:`PMIEmbedding.fit`
    makes them, the SVD warm-started.  Returns ``(new words, dropped words,
    vocabulary)``."""
    old_vocab = model.vocabulary_
    with timer.stage("vocab") as info:
        model.tokens_ = None
        both = concat_corpora(*parts)
        parts.clear()
        vocab = Vocabulary.from_counts(both.types, both.counts, min_count=model.min_count, max_vocab=model.max_vocab,
                                       total=both.n_tokens)
        old_index = old_vocab.index
        new_words = sum(1 for w in vocab.words if w not in old_index)
        dropped = len(old_vocab) - (len(vocab) - new_words)
        info["words"] = f"{len(vocab):,} ({new_words:,} new" + (f", {dropped:,} dropped)" if dropped else ")")
    check_svd_params(model.dim, model.eig, len(vocab))
    model._check_memory(vocab, fix=UPDATE_MEMORY_FIX)  # the budget train refuses, refused here too
    memory_bytes = None if model.memory is None else int(model.memory * 2**30)
    # the update keeps the ids (the next update needs them), so counting cannot free them
    model.tokens_ = both
    model.rare_pairs_ = None
    # the model's own count and PMI stages, as fit runs them
    with contextlib.ExitStack() as stack:
        with timer.stage("count") as info, limit_threads(model.n_workers_):
            counted = stack.enter_context(counting(
                both, vocab, **model._counting_params(),
                memory_bytes=memory_bytes // 2 if memory_bytes else None, progress=model.progress))
            info["nonzeros"] = f"{counted.rows.nnz:,}"
        if model.keep_counts:
            model._pmi_from_counts(counted.cooccurrence(vocab), timer)
        else:
            model._pmi_from_rows(counted, vocab, timer)
    previous = _previous_vectors(model, vocab, old_vocab)
    # the model's own SVD stage, started from the previous vectors
    model._set_vectors(*model._svd(timer, warm=(previous, n_iter)))
    return new_words, dropped, vocab


def load_for_update(path, **overrides):
    """A :class:`~pmiembed.model.PMIEmbedding` from a model folder with what
    :func:`update_model` needs (token ids or, from folders saved before, counts;
    vocabulary, vectors), read without gensim and checking only those files'
    checksums.  ``overrides`` set parameters that do not change the counts (workers,
    memory, progress, verbose)."""
    from pathlib import Path

    from .model import PMIEmbedding
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
