"""The high-level model: ``PMIEmbedding().fit(corpus).wv``.

A thin scikit-learn-style estimator over the stages::

    read_corpus -> Vocabulary.from_counts -> count_cooccurrences -> pmi_matrix
                -> folded_svd (truncated_svd + fold_in) -> word_vectors -> gensim KeyedVectors

Hyperparameters live in ``__init__`` (``get_params``/``set_params`` follow
scikit-learn's estimator protocol, so ``sklearn.base.clone`` and parameter grids work),
are validated in ``fit`` with messages that name the parameter, and fitted state sits in
trailing-underscore attributes.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import __version__
from .defaults import DEFAULTS
from .cooccur import Cooccurrence, SUBSAMPLE_MODES, check_window, counting
from .corpus import read_corpus
from .errors import ParameterError, VectorsError
from .io import atomic_dir, atomic_path, check_input_file, sha256_file, stable_read
from .explain import PMIMarginals, PPMI_FILE, save_ppmi  # noqa: F401 (save uses the last two)
from .pmi import check_not_empty, check_pmi_params, empty_rows, pmi_from_rows, pmi_matrix
from .progress import StageTimer
from .resources import check_fits, cpu_count, estimate_fit_bytes, limit_threads, peak_rss_bytes
from .svd import SVD_BACKENDS, check_svd_params, core_size, folded_svd, word_vectors
from .vocab import Vocabulary

if TYPE_CHECKING:  # gensim is imported where it is used (about 1.4 s)
    from gensim.models import KeyedVectors

MODEL_FORMAT = "pmiembed-model"
MODEL_VERSION = 1
VECTORS_FILE = "vectors.bin"
#: the word2vec text format, written by ``save(format="text"|"both")``
VECTORS_TEXT_FILE = "vectors.vec"
#: what ``save`` can write the vectors as: vectors.bin, vectors.vec or both
VECTOR_FORMATS = ("binary", "text", "both")
#: the manifest format of a folder of vectors that are not a PMIEmbedding model (the
#: word2vec baseline of ``compare``): vectors, vocab.tsv and params.json only
VECTORS_FOLDER_FORMAT = "pmiembed-vectors"
VOCAB_FILE = "vocab.tsv"
PARAMS_FILE = "params.json"
#: the rarer words' counts and pairs, saved with the counts for PMIEmbedding.update
RARE_PAIRS_FILE = "rare_pairs.npz"
#: the files a model folder must hold, each with a checksum in the manifest
REQUIRED_FILES = (VECTORS_FILE, VOCAB_FILE, "singular_values.npy")
#: each power iteration costs two passes over the PMI matrix; the bound catches a typo
#: (100000) before hours of work
MAX_N_ITER = 1000
#: seeds are 32-bit: scikit-learn's and numpy's legacy generators take no more
MAX_SEED = 2**32 - 1


class _Params:
    """scikit-learn's estimator protocol (``get_params``, ``set_params``, a repr of the
    non-default parameters) for a class whose ``__init__`` only stores its keyword
    arguments.  Written out instead of inheriting ``sklearn.base.BaseEstimator``
    because importing scikit-learn takes about 1.5 s (it loads scipy.stats), 6% of a
    whole ``pmiembed train`` on wiki17m, and the CLI needs the class before it can
    start reading."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        return sorted(name for name, p in inspect.signature(cls.__init__).parameters.items()
                      if name != "self" and p.kind is not p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters and their current values."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set parameters by name; returns ``self``."""
        names = self._get_param_names()
        for name, value in params.items():
            if name not in names:
                raise ParameterError(f"{name!r} is not a parameter of {type(self).__name__}; "
                                     f"valid parameters: {', '.join(names)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()}
        changed = [f"{name}={value!r}" for name, value in self.get_params().items()
                   if not (value is defaults.get(name) or (type(value) is type(defaults.get(name))
                                                           and value == defaults.get(name)))]
        return f"{type(self).__name__}({', '.join(changed)})"


class PMIEmbedding(_Params):
    """Word vectors from a (shifted) positive PMI matrix factorised by truncated SVD.

    The defaults (:data:`pmiembed.defaults.DEFAULTS`) were chosen by measurement on
    17M tokens of Wikipedia (docs/ablation.md): window 8 weighted 1/d^2, word2vec
    subsampling 1e-4 keeping positions ("clean"), no context distribution smoothing, no
    shift, eigenvalue weighting 0.5, the mean and top principal direction removed, 300
    dimensions, min_count 5.  ``PMIEmbedding(window=2, weighting="dynamic",
    subsample=None, cds=0.75, abtt=None)`` is the recipe Levy, Goldberg & Dagan (2015)
    recommend.

    Parameters
    ----------
    dim : int, dimensions of the vectors (SVD rank).
    window : int, symmetric window size L.
    weighting : {'dynamic', 'uniform', 'harmonic', 'harmonic2'}, weight of a context at distance d:
        (L-d+1)/L, 1, 1/d or 1/d^2.
    min_count : int, drop words seen fewer times (before windowing).
    max_vocab : int or None, keep at most this many most frequent words.
    subsample : float or None, word2vec subsampling threshold t (e.g. 1e-5).
    subsample_mode : {'dirty', 'clean', 'expected'}, remove subsampled tokens before
        windowing (dirty, as word2vec), keep their positions (clean), or draw nothing
        and weight every pair (w, c) by k_w k_c, the keep probabilities (expected: the
        average of clean over all draws, without its noise; the default).
    cds : float in (0, 1], context distribution smoothing exponent.
    neg : float >= 1, shift: PMI - log(neg).
    eig : float in [0, 1], eigenvalue weighting p: vectors U * S**p.
    wc : bool, add the (normalised) context vectors: W + C.
    abtt : int or None, post-processing "all-but-the-top": subtract the mean vector and
        remove this many top principal directions (None: no post-processing).
    core_min_count : int or None, the SVD factorises the block of words seen at least
        this many times (the core); rarer vocabulary words are folded in from their PPMI
        rows and columns over the core (``u = a V S^-1``, see
        :func:`pmiembed.svd.fold_in`), so every word of the vocabulary gets a vector.
        None, or fewer than ``2 * dim`` words in the core: every word is factorised.
    core_max_words : int or None, at most this many words (the most frequent of those
        seen ``core_min_count`` times; never fewer than ``2 * dim``) form the core; a larger
        corpus then spends the SVD's rank on the same best-estimated rows instead of more
        rare ones (None: no cap).
    svd : {'randomized', 'sklearn', 'arpack'}, SVD backend (see :mod:`pmiembed.svd`).
    n_iter : int or None, power iterations of the randomized SVD.
    oversamples : int, extra columns the randomized SVD iterates beyond ``dim``: the top
        ``dim`` directions converge at the rate of ``s_dim / s_(dim + oversamples)``, so a
        flat spectrum needs many (see :mod:`pmiembed.svd`).
    lowercase : bool, lowercase tokens.
    tokenizer : callable str -> list of str, or None for whitespace splitting.
    seed : int, seeds subsampling and the SVD; the same seed gives the same bits.
    workers : int or None, threads for the numeric stages (None: all cores).
    memory : float or None, memory budget in GB for counting (spills to disk beyond it)
        and a check that the later stages fit; with a budget the SVD also reads the
        PMI matrix in place instead of a cache-blocked copy (a little slower).
    keep_counts : bool, keep the co-occurrence counts after ``fit`` (``cooccurrence_``,
        needed by ``save(save_counts=True)``); False never assembles the count matrix:
        PMI is computed from the counted row blocks as they are read back (the command
        line does so unless ``--save-counts``: 400 MB on wiki17m, 1.2 GB on 68.8M tokens).
    keep_rare_pairs : bool, with ``keep_counts``, also count the pairs of the words left
        out of the vocabulary (``rare_pairs_``, saved by ``save(save_counts=True)``): an
        :meth:`update` whose new text lifts such words over ``min_count`` then gives them
        their old contexts too (without them those words start from the new text's pairs
        alone).  Costs one more counting pass; ``pmiembed train --save-counts`` sets it.
    progress : bool, show progress bars on stderr.
    verbose : bool, print a one-line summary per stage on stderr.

    Attributes
    ----------
    vocabulary_ : Vocabulary
    cooccurrence_ : Cooccurrence, weighted counts (scipy.sparse inside); None after
        ``fit`` with ``keep_counts=False``
    pmi_ : scipy.sparse.csr_matrix, the (S)PPMI matrix that was factorised
    singular_values_ : ndarray of shape (dim,)
    context_vectors_ : ndarray, V * S**eig
    wv : gensim KeyedVectors with the word vectors (index order = vocabulary order),
        built on first access
    vectors_ : float32 array (words x dim), the word vectors (shared with ``wv``)
    timings_ : dict, seconds per stage; ``"compile"``: numba compiling kernels (a first
        run or an empty cache), not included in the stages
    compiled_kernels_ : list of str, the kernels compiled during ``fit`` (empty on a warm cache)
    corpus_stats_ : dict, tokens, types, documents, bytes, replaced bytes
    """

    def __init__(self, dim=DEFAULTS["dim"], window=DEFAULTS["window"], weighting=DEFAULTS["weighting"],
                 min_count=DEFAULTS["min_count"], max_vocab=DEFAULTS["max_vocab"], subsample=DEFAULTS["subsample"],
                 subsample_mode=DEFAULTS["subsample_mode"], cds=DEFAULTS["cds"], neg=DEFAULTS["neg"],
                 eig=DEFAULTS["eig"], wc=DEFAULTS["wc"], abtt=DEFAULTS["abtt"],
                 core_min_count=DEFAULTS["core_min_count"], core_max_words=DEFAULTS["core_max_words"],
                 svd=DEFAULTS["svd"],
                 n_iter=DEFAULTS["n_iter"], oversamples=DEFAULTS["oversamples"], lowercase=False, tokenizer=None,
                 seed=0, workers=None, memory=None,
                 keep_counts=True, keep_rare_pairs=False, progress=False, verbose=False):
        self.dim = dim
        self.window = window
        self.weighting = weighting
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.subsample = subsample
        self.subsample_mode = subsample_mode
        self.cds = cds
        self.neg = neg
        self.eig = eig
        self.wc = wc
        self.abtt = abtt
        self.core_min_count = core_min_count
        self.core_max_words = core_max_words
        self.svd = svd
        self.n_iter = n_iter
        self.oversamples = oversamples
        self.lowercase = lowercase
        self.tokenizer = tokenizer
        self.seed = seed
        self.workers = workers
        self.memory = memory
        self.keep_counts = keep_counts
        self.keep_rare_pairs = keep_rare_pairs
        self.progress = progress
        self.verbose = verbose

    # ------------------------------------------------------------ validation

    def _validate(self) -> None:
        check_svd_params(self.dim, self.eig)
        check_window(self.window, self.weighting)
        check_pmi_params(self.cds, self.neg)
        for name in ("min_count",):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ParameterError(f"{name}={v!r} must be an integer >= 1")
        if self.max_vocab is not None and (isinstance(self.max_vocab, bool) or not isinstance(self.max_vocab, (int, np.integer)) or self.max_vocab < 2):
            raise ParameterError(f"max_vocab={self.max_vocab!r} must be an integer >= 2 or None")
        if self.subsample is not None and (not isinstance(self.subsample, (int, float)) or isinstance(self.subsample, bool) or not 0 < self.subsample < 1):
            raise ParameterError(f"subsample={self.subsample!r} must be in (0, 1), e.g. 1e-5, or None")
        if self.subsample_mode not in SUBSAMPLE_MODES:
            raise ParameterError(f"subsample_mode={self.subsample_mode!r} is not one of {', '.join(SUBSAMPLE_MODES)}")
        if self.abtt is not None and (isinstance(self.abtt, bool) or not isinstance(self.abtt, (int, np.integer))
                                      or not 0 <= self.abtt < self.dim):
            raise ParameterError(f"abtt={self.abtt!r} must be an integer from 0 to dim-1, or None")
        if self.core_min_count is not None and (isinstance(self.core_min_count, bool)
                                                or not isinstance(self.core_min_count, (int, np.integer))
                                                or self.core_min_count < 1):
            raise ParameterError(f"core_min_count={self.core_min_count!r} must be an integer >= 1 or None "
                                 "(None: factorise every word)")
        if self.core_max_words is not None and (isinstance(self.core_max_words, bool)
                                                or not isinstance(self.core_max_words, (int, np.integer))
                                                or self.core_max_words < 1):
            raise ParameterError(f"core_max_words={self.core_max_words!r} must be an integer >= 1 or None "
                                 "(None: no cap on the core)")
        if self.svd not in SVD_BACKENDS:
            raise ParameterError(f"svd={self.svd!r} is not one of {', '.join(SVD_BACKENDS)}")
        if self.n_iter is not None and (isinstance(self.n_iter, bool) or not isinstance(self.n_iter, (int, np.integer)) or self.n_iter < 0):
            raise ParameterError(f"n_iter={self.n_iter!r} must be an integer >= 0 or None")
        if self.n_iter is not None and self.n_iter > MAX_N_ITER:
            raise ParameterError(f"n_iter={self.n_iter!r} must be at most {MAX_N_ITER}: each iteration is two passes "
                                 "over the PMI matrix (the default is 6); for accuracy raise --oversamples instead")
        if isinstance(self.oversamples, bool) or not isinstance(self.oversamples, (int, np.integer)) or self.oversamples < 0:
            raise ParameterError(f"oversamples={self.oversamples!r} must be an integer >= 0")
        if self.workers is not None and (isinstance(self.workers, bool) or not isinstance(self.workers, (int, np.integer)) or self.workers < 1):
            raise ParameterError(f"workers={self.workers!r} must be an integer >= 1 or None (all cores)")
        if self.memory is not None and (isinstance(self.memory, bool) or not isinstance(self.memory, (int, float))
                                        or not self.memory > 0 or not np.isfinite(self.memory)):
            raise ParameterError(f"memory={self.memory!r} must be a positive number of GB or None")
        if not isinstance(self.seed, (int, np.integer)) or isinstance(self.seed, bool) or not 0 <= self.seed <= MAX_SEED:
            raise ParameterError(f"seed={self.seed!r} must be an integer from 0 to {MAX_SEED}")

    @property
    def n_workers_(self) -> int:
        return cpu_count() if self.workers is None else int(self.workers)

    # ------------------------------------------------------------------ fit

    def fit(self, corpus, y=None, client=None) -> "PMIEmbedding":
        """Read ``corpus`` (paths, folders or an iterable of token lists/strings; see
        :mod:`pmiembed.corpus`), count, weight and factorise.  Returns ``self``.

        ``client``: a ``dask.distributed.Client``; the same pipeline then runs on its
        cluster (:mod:`pmiembed.distributed`, ``pip install "pmiembed[dask]"``), reading
        ``corpus`` (paths or fsspec URLs every worker can read) in shards."""
        if client is not None:
            from .distributed import fit_distributed

            return fit_distributed(self, corpus, client)
        self._validate()
        timer = StageTimer(self.verbose)
        start = time.perf_counter()
        with timer.stage("read") as info:
            tokens = read_corpus(corpus, lowercase=self.lowercase, tokenizer=self.tokenizer, progress=self.progress,
                                 workers=self.n_workers_)
            info["tokens"] = f"{tokens.n_tokens:,}"
            info["types"] = f"{len(tokens.types):,}"
            info["MB"] = f"{tokens.n_bytes / 1e6:,.1f}"
            info["read as"] = (f"{len(tokens.sources):,} file{'s' if len(tokens.sources) != 1 else ''}"
                               if tokens.input_kind == "files" else "in-memory documents")
            if tokens.n_replaced:
                info["undecodable bytes replaced"] = f"{tokens.n_replaced:,}"
        self.corpus_stats_ = {
            "tokens": tokens.n_tokens, "types": len(tokens.types), "documents": tokens.n_docs,
            "bytes": tokens.n_bytes, "replaced_bytes": tokens.n_replaced, "sources": tokens.sources,
            "input": tokens.input_kind,
        }
        with timer.stage("vocab") as info:
            vocab = Vocabulary.from_counts(tokens.types, tokens.counts, min_count=self.min_count,
                                           max_vocab=self.max_vocab, total=tokens.n_tokens)
            info["words"] = f"{len(vocab):,}"
        if self.keep_counts and self.keep_rare_pairs:
            # the pairs of the words left out, for update(): with more text they may join
            from .update import count_rare_pairs

            with timer.stage("rare") as info, limit_threads(self.n_workers_):
                self.rare_pairs_ = count_rare_pairs(
                    tokens, vocab, window=self.window, weighting=self.weighting, subsample=self.subsample,
                    subsample_mode=self.subsample_mode, seed=self.seed)
                if self.rare_pairs_ is not None:
                    info["words left out"] = f"{len(self.rare_pairs_.vocab) - len(vocab):,}"
                    info["nonzeros"] = f"{self.rare_pairs_.nnz:,}"
        check_svd_params(self.dim, self.eig, len(vocab))
        memory_bytes = None if self.memory is None else int(self.memory * 2**30)
        check_fits(estimate_fit_bytes(len(vocab), self.dim, self.oversamples,
                                      core_size(vocab.counts, self.core_min_count, self.dim, self.core_max_words)), memory_bytes,
                   what="the PMI and SVD stages")
        with contextlib.ExitStack() as stack:
            with timer.stage("count") as info, limit_threads(self.n_workers_):
                # the counter gets the only reference to the tokens: it frees their ids as
                # soon as they are mapped to vocabulary rows (275 MB for 69M tokens)
                box = [tokens]
                del tokens
                counted = stack.enter_context(counting(
                    box.pop(), vocab, window=self.window, weighting=self.weighting, subsample=self.subsample,
                    subsample_mode=self.subsample_mode, seed=self.seed,
                    memory_bytes=memory_bytes // 2 if memory_bytes else None, progress=self.progress,
                ))
                info["nonzeros"] = f"{counted.rows.nnz:,}"
            if self.keep_counts:
                cooc = counted.cooccurrence(vocab)
                stack.close()
                self._fit_from_counts(cooc, timer)
            else:
                # PMI straight from the finished row blocks: the whole count matrix is
                # never held (on 68.8M tokens it would be 1.2 GB beside the PMI matrix)
                self.vocabulary_ = vocab
                self.cooccurrence_ = None
                self.counting_params_ = dict(counted.params)
                self.cooccurrence_nnz_ = counted.rows.nnz
                with timer.stage("pmi") as info, limit_threads(self.n_workers_):
                    self.pmi_ = pmi_from_rows(counted.rows, cds=self.cds, neg=self.neg, keep=counted.rows.keep)
                    check_not_empty(self.pmi_, self.neg)
                    info["nonzeros"] = f"{self.pmi_.nnz:,}"
                # what turns a PPMI entry back into its count (pmiembed.explain), kept
                # before the row blocks are freed: a few vocabulary-sized arrays
                self.pmi_marginals_ = PMIMarginals.from_rows(counted.rows, counted.scale, self.cds, self.neg)
                stack.close()
                # windowed counts are symmetric, and without smoothing (cds = 1) so is
                # their PMI (pmi_from_rows computes (w, c) and (c, w) alike): the SVD
                # need not check it (0.5 s on wiki17m)
                self._factorise(timer, symmetric=True if self.cds == 1.0 else None)
        self.timings_ = dict(timer.times)
        self.timings_["total"] = time.perf_counter() - start
        self.compiled_kernels_ = list(timer.compiled_kernels)
        self.peak_rss_bytes_ = peak_rss_bytes()
        return self

    def fit_counts(self, cooccurrence: Cooccurrence) -> "PMIEmbedding":
        """Fit from existing co-occurrence counts (skip reading and counting): the PMI
        and SVD settings of ``self`` apply; the counting settings are those of the
        counts."""
        if cooccurrence is None:
            raise ParameterError("fit_counts needs co-occurrence counts, got None: a model loaded from a folder "
                                 "saved without counts has none; save with save_counts=True (--save-counts)")
        if not isinstance(cooccurrence, Cooccurrence):
            raise ParameterError(f"fit_counts needs a Cooccurrence (e.g. Cooccurrence.load('counts.npz')), "
                                 f"not a {type(cooccurrence).__name__}")
        self._validate()
        timer = StageTimer(self.verbose)
        start = time.perf_counter()
        check_svd_params(self.dim, self.eig, len(cooccurrence.vocab))
        self._fit_from_counts(cooccurrence, timer)
        self.timings_ = dict(timer.times)
        self.timings_["total"] = time.perf_counter() - start
        self.compiled_kernels_ = list(timer.compiled_kernels)
        self.peak_rss_bytes_ = peak_rss_bytes()
        return self

    def update(self, corpus, n_iter: int | None = None) -> "PMIEmbedding":
        """Add ``corpus`` to the fitted model without starting over (see
        :mod:`pmiembed.update`): its counts are added to ``cooccurrence_`` (so the model
        must hold its counts: fitted with ``keep_counts=True`` or loaded from a folder
        saved with ``save_counts=True``), words that now reach ``min_count`` join the
        vocabulary, PMI is recomputed and the SVD restarts from the previous vectors
        with ``n_iter`` power iterations (default 2).  ``update_summary_`` says what
        changed.  Returns ``self``."""
        from .update import update_model

        self.update_summary_ = update_model(self, corpus, n_iter=n_iter)
        return self

    def _fit_from_counts(self, cooc: Cooccurrence, timer: StageTimer) -> None:
        self.vocabulary_ = cooc.vocab
        self.cooccurrence_ = cooc
        self.counting_params_ = dict(cooc.params)
        self.cooccurrence_nnz_ = int(cooc.nnz)
        with limit_threads(self.n_workers_):
            with timer.stage("pmi") as info:
                self.pmi_ = pmi_matrix(cooc.counts, cds=self.cds, neg=self.neg, keep=cooc.keep)
                check_not_empty(self.pmi_, self.neg)
                info["nonzeros"] = f"{self.pmi_.nnz:,}"
        self.pmi_marginals_ = PMIMarginals.from_counts(cooc, self.cds, self.neg)
        self._factorise(timer)

    def _factorise(self, timer: StageTimer, symmetric: bool | None = None) -> None:
        """SVD of ``pmi_`` (its core, the rest folded in) -> ``vectors_``,
        ``context_vectors_``, ``singular_values_``."""
        self.n_core_ = core_size(self.vocabulary_.counts, self.core_min_count, self.dim,
                                 self.core_max_words)
        # a word whose PPMI row is empty (over the core's columns, which place it) has no
        # direction of its own: its U row is 0, and centring (abtt) would give every such
        # word the same vector; it gets the zero vector, which neighbour queries skip
        # (score 0, never nan)
        empty = empty_rows(self.pmi_, self.n_core_)
        self.n_empty_rows_ = int(np.count_nonzero(empty))
        n_core = len(empty) if self.n_core_ is None else self.n_core_
        n_left = n_core - int(np.count_nonzero(empty[:n_core]))
        if n_left < self.dim:
            raise ParameterError(
                f"only {n_left:,} of the {n_core:,} words the SVD factorises have a PPMI entry left"
                + (f" above the shift log(neg) = {np.log(self.neg):.2f}" if self.neg > 1 else "")
                + f", fewer than dim={self.dim}; "
                + (f"lower neg (--neg, now {self.neg:g}) or dim (--dim)" if self.neg > 1 else "lower dim (--dim)"))
        with limit_threads(self.n_workers_):
            with timer.stage("svd") as info:
                # under a memory budget the SVD reads the matrix in place (no blocked copy)
                u, s, vt = folded_svd(self.pmi_, self.dim, core=self.n_core_, backend=self.svd, n_iter=self.n_iter,
                                      n_oversamples=self.oversamples, seed=self.seed, workers=self.n_workers_,
                                      progress=self.progress, copy=self.memory is None, symmetric=symmetric)
                info["dim"] = str(self.dim)
                info["backend"] = self.svd
                info["core"] = "all words" if self.n_core_ is None else f"{self.n_core_:,} words"
                if self.n_empty_rows_:
                    info["words without a vector (empty PPMI row)"] = (
                        f"{self.n_empty_rows_:,}" + (f"; lower neg={self.neg:g} to keep them" if self.neg > 1 else ""))
        self._set_vectors(u, s, vt, empty if self.n_empty_rows_ else None)

    def _set_vectors(self, u: np.ndarray, s: np.ndarray, vt: np.ndarray, empty: np.ndarray | None = None) -> None:
        """The SVD of every word -> ``singular_values_``, ``vectors_`` (eigenvalue
        weighting, w+c, all-but-the-top; the words marked ``empty`` get the zero vector)
        and ``context_vectors_`` (also the last step of
        :func:`pmiembed.distributed.fit_distributed`)."""
        self.singular_values_ = s
        self.vectors_ = np.ascontiguousarray(word_vectors(u, s, vt, eig=self.eig, wc=self.wc, abtt=self.abtt),
                                             dtype=np.float32)
        if empty is not None:
            self.vectors_[empty] = 0.0
        del u
        # V S^eig in place on the SVD's own V^T (no second vocabulary-sized array)
        vt = np.asarray(vt, dtype=np.float32)
        vt *= (s ** self.eig).astype(np.float32)[:, None]
        self.context_vectors_ = vt.T
        self._wv = None  # built from vectors_ on first use

    @property
    def wv(self) -> "KeyedVectors":
        """The word vectors as a gensim ``KeyedVectors`` (sharing ``vectors_``), built on
        first use: importing gensim takes about 1.4 s of Python, which ``fit`` and
        ``save`` (and so ``pmiembed train``) do not need."""
        kv = self.__dict__.get("_wv")
        if kv is None:
            if self.__dict__.get("vectors_") is None:
                raise AttributeError("wv: the model is not fitted; call fit(corpus) first")
            kv = self._wv = _guard_zero_vectors(make_keyed_vectors(self.vocabulary_.words, self.vectors_,
                                                                    self.vocabulary_.counts))
        return kv

    @wv.setter
    def wv(self, kv: "KeyedVectors") -> None:
        self._wv = kv
        self.vectors_ = kv.vectors

    # ------------------------------------------------------------ explanation

    def ppmi(self):
        """The PPMI matrix with its counts (:class:`pmiembed.explain.PPMI`): the fitted
        ``pmi_``, or ``ppmi.npz`` of the folder the model was loaded from."""
        cached = self.__dict__.get("_ppmi")
        if cached is None:
            from .explain import PPMI

            if self.__dict__.get("pmi_marginals_") is not None:
                cached = PPMI(self.pmi_, self.pmi_marginals_, self.vocabulary_)
            elif self.__dict__.get("path_") is not None:
                cached = PPMI.load(self.path_)
            else:
                raise ParameterError("the model is not fitted; call fit(corpus) or PMIEmbedding.load(folder) first")
            self._ppmi = cached
        return cached

    def contexts(self, word: str, n: int | None = 10, min_count: int | None = None):
        """The ``n`` contexts of ``word`` with the largest PPMI, with their counts and
        PMI, among contexts seen at least ``min_count`` times (default: one per 200,000
        corpus tokens; :func:`pmiembed.explain.contexts`)."""
        from .explain import contexts

        return contexts(self.ppmi(), word, n, min_count)

    def explain(self, word1: str, word2: str, n: int | None = 10, min_count: int | None = None):
        """Why ``word1`` and ``word2`` are similar: their shared contexts by contribution
        to the PPMI cosine, beside the vectors' cosine (:func:`pmiembed.explain.explain`)."""
        from .explain import explain

        return explain(self.ppmi(), word1, word2, n, vectors=self.wv, min_count=min_count)

    def explain_analogy(self, a: str, b: str, c: str, d: str | None = None, n: int | None = 10,
                        min_count: int | None = None):
        """The contexts behind ``a - b + c -> d`` (``d``: the vectors' 3CosAdd answer
        unless given; :func:`pmiembed.explain.explain_analogy`)."""
        from .explain import explain_analogy

        ppmi = self.ppmi()
        for w in (a, b, c):
            ppmi.row_of(w)
        if d is None:
            d = self.wv.most_similar(positive=[a, c], negative=[b], topn=1)[0][0]
        return explain_analogy(ppmi, a, b, c, d, n, min_count)

    def _words_and_vectors(self) -> tuple[list, np.ndarray]:
        kv = self.__dict__.get("_wv")
        if kv is not None:
            return kv.index_to_key, kv.vectors
        return self.vocabulary_.words, self.vectors_

    # ----------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike, force: bool = False, save_counts: bool = False,
             save_pmi: bool = True, format: str = "binary") -> Path:
        """Write ``path/`` atomically: ``vectors.bin`` (word2vec binary, loadable with
        gensim's ``KeyedVectors.load_word2vec_format(..., binary=True)``; with
        ``format="text"`` ``vectors.vec`` in the word2vec text format instead, loadable
        with ``binary=False``, and with ``format="both"`` both files), ``vocab.tsv``
        (words and counts), ``params.json`` (parameters, stats, timings, format version
        and SHA-256 of every file), with ``save_pmi`` ``ppmi.npz`` (the PPMI matrix and
        its marginals, what :meth:`contexts` and :meth:`explain` read) and, with
        ``save_counts``, ``counts.npz``."""
        if self.__dict__.get("vectors_") is None:
            raise ParameterError("the model is not fitted; call fit(corpus) before save")
        if format not in VECTOR_FORMATS:
            raise ParameterError(f"format={format!r} must be one of {', '.join(map(repr, VECTOR_FORMATS))}")
        path = Path(path)
        inputs = list((getattr(self, "corpus_stats_", None) or {}).get("sources") or [])
        with atomic_dir(path, force=force, inputs=inputs) as tmp:
            files = write_vectors_files(*self._words_and_vectors(), tmp, format)
            self.vocabulary_.save(tmp / VOCAB_FILE)
            np.save(tmp / "singular_values.npy", np.asarray(self.singular_values_))
            files += [VOCAB_FILE, "singular_values.npy"]
            if save_pmi and self.__dict__.get("pmi_marginals_") is not None:
                save_ppmi(tmp / PPMI_FILE, self.pmi_, self.pmi_marginals_)
                files.append(PPMI_FILE)
            if save_counts:
                if getattr(self, "cooccurrence_", None) is None:
                    raise ParameterError("save_counts needs the counts: fit with keep_counts=True")
                self.cooccurrence_.save(tmp / "counts.npz")
                files.append("counts.npz")
                if getattr(self, "rare_pairs_", None) is not None:
                    self.rare_pairs_.save(tmp / RARE_PAIRS_FILE)
                    files.append(RARE_PAIRS_FILE)
            params = {k: v for k, v in self.get_params().items() if k != "tokenizer"}
            params["tokenizer"] = None if self.tokenizer is None else repr(self.tokenizer)
            params["workers"] = self.n_workers_  # the threads used (workers=None: all cores, as a number)
            meta = {
                "format": MODEL_FORMAT, "version": MODEL_VERSION, "pmiembed": __version__,
                "params": params, "counting": getattr(self, "counting_params_", None),
                "vocabulary_size": len(self.vocabulary_),
                "corpus": getattr(self, "corpus_stats_", None),
                "timings": getattr(self, "timings_", None),
                "peak_rss_bytes": getattr(self, "peak_rss_bytes_", None),
                "workers_requested": self.workers,  # the parameter as given, restored by load
                "sha256": {f: sha256_file(tmp / f) for f in files},
            }
            meta["manifest_sha256"] = manifest_digest(meta)
            with open(tmp / PARAMS_FILE, "w", encoding="utf-8") as f:
                json.dump(meta, f, indent=2, sort_keys=True)
                f.write("\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "PMIEmbedding":
        """Load a folder written by :meth:`save`, checking format and checksums."""
        return stable_read(path, lambda: cls._load(Path(path)))

    @classmethod
    def _load(cls, path: Path) -> "PMIEmbedding":
        meta = read_manifest(path)
        if meta.get("format") != MODEL_FORMAT:
            raise VectorsError(f"{path}: holds vectors only ({meta.get('format')}), not a PMIEmbedding model; "
                               "load them with pmiembed.model.load_vectors")
        params = meta.get("params")
        if not isinstance(params, dict):
            raise VectorsError(f"{path / PARAMS_FILE}: no 'params' object; re-train or restore the folder")
        params = dict(params)
        if "workers_requested" in meta:
            params["workers"] = meta["workers_requested"]
        params["tokenizer"] = None
        model = cls(**{k: v for k, v in params.items() if k in cls._get_param_names()})
        model.wv = _load_vectors_dir(path)
        model.vocabulary_ = Vocabulary.load(path / VOCAB_FILE)
        model.singular_values_ = np.load(path / "singular_values.npy")
        model.cooccurrence_ = None
        if (path / "counts.npz").exists():
            model.cooccurrence_ = Cooccurrence.load(path / "counts.npz")
        if (path / RARE_PAIRS_FILE).exists():
            model.rare_pairs_ = Cooccurrence.load(path / RARE_PAIRS_FILE)
        model.counting_params_ = meta.get("counting")
        model.path_ = path  # where contexts() and explain() find ppmi.npz
        model.corpus_stats_ = meta.get("corpus")
        model.timings_ = meta.get("timings")
        return model


# -------------------------------------------------------------- vectors I/O


def make_keyed_vectors(words, vectors: np.ndarray, counts=None) -> "KeyedVectors":
    """A gensim ``KeyedVectors`` with ``words`` in order (and a ``count`` attribute)."""
    from gensim.models import KeyedVectors

    words = list(words)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(words) != len(vectors):
        raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
    kv.index_to_key = words
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    if len(kv.key_to_index) != len(words):
        raise ValueError("duplicate words")
    kv.vectors = vectors  # no copy (add_vectors would stack a second one)
    if counts is not None:
        kv.allocate_vecattrs(["count"], [np.int64])
        kv.expandos["count"][:] = np.asarray(counts, dtype=np.int64)
    return kv


def write_vectors_files(words, vectors: np.ndarray, folder: Path, format: str = "binary") -> list[str]:
    """Write ``folder/vectors.bin`` (``format="binary"``), ``folder/vectors.vec``
    (``"text"``) or both (``"both"``); returns the file names written."""
    files = []
    if format in ("binary", "both"):
        write_word2vec_binary(words, vectors, folder / VECTORS_FILE)
        files.append(VECTORS_FILE)
    if format in ("text", "both"):
        write_word2vec_text(words, vectors, folder / VECTORS_TEXT_FILE)
        files.append(VECTORS_TEXT_FILE)
    return files


def write_vectors_folder(folder: Path, words, vectors: np.ndarray, counts, total: int, meta: dict) -> None:
    """A folder of vectors that are not a PMIEmbedding model (the word2vec baseline),
    laid out like a model folder so that the same tools read it: ``vectors.bin``,
    ``vocab.tsv`` (words and counts) and ``params.json`` (``meta`` plus the format, the
    SHA-256 of every file and of the manifest itself)."""
    folder = Path(folder)
    write_word2vec_binary(words, vectors, folder / VECTORS_FILE)
    Vocabulary(list(words), np.asarray(counts, dtype=np.int64), int(total)).save(folder / VOCAB_FILE)
    body = dict(meta)
    body.update({"format": VECTORS_FOLDER_FORMAT, "version": MODEL_VERSION, "pmiembed": __version__,
                 "vocabulary_size": len(words),
                 "sha256": {f: sha256_file(folder / f) for f in (VECTORS_FILE, VOCAB_FILE)}})
    body["manifest_sha256"] = manifest_digest(body)
    with atomic_path(folder / PARAMS_FILE) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(body, f, indent=2, sort_keys=True)
            f.write("\n")


def save_keyed_vectors(kv: "KeyedVectors", path: Path) -> None:
    """word2vec binary format, in index order (not re-sorted)."""
    write_word2vec_binary(kv.index_to_key, kv.vectors, path)


def write_word2vec_binary(words, vectors: np.ndarray, path: Path, batch: int = 4096) -> None:
    """The word2vec binary format: a ``"count dim"`` line, then per word its UTF-8 bytes,
    a space and ``dim`` little-endian float32 values: byte for byte what gensim's
    ``save_word2vec_format(binary=True, sort_attr=None)`` writes (tested), without
    importing gensim."""
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    if len(words) != len(vectors):
        raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
    with open(path, "wb") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n".encode("utf-8"))
        for i in range(0, len(words), batch):
            f.write(b"".join(f"{w} ".encode("utf-8") + row.tobytes()
                             for w, row in zip(words[i:i + batch], vectors[i:i + batch])))


def write_word2vec_text(words, vectors: np.ndarray, path: Path, batch: int = 4096) -> None:
    """The word2vec text format: a ``"count dim"`` line, then per word the word and its
    ``dim`` values separated by spaces, as gensim's
    ``KeyedVectors.load_word2vec_format(..., binary=False)`` reads it.  Values are written
    with 9 significant digits, enough for every float32 to read back bit for bit."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(words) != len(vectors):
        raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
    row_format = " ".join(["%.9g"] * vectors.shape[1])
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n")
        for i in range(0, len(words), batch):
            f.write("".join(f"{w} {row_format % tuple(row)}\n"
                            for w, row in zip(words[i:i + batch], vectors[i:i + batch].tolist())))


def read_manifest(path: Path) -> dict:
    """Read and check ``params.json`` of a model folder (format, version, checksums)."""
    manifest = path / PARAMS_FILE
    if not path.is_dir():
        raise VectorsError(f"{path}: no such model folder; check --vectors")
    if not manifest.is_file():
        raise VectorsError(f"{path}: no {PARAMS_FILE}; not a pmiembed model folder (give its vectors file instead)")
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise VectorsError(f"{manifest}: damaged (not JSON); re-train or restore the folder") from None
    if not isinstance(meta, dict) or meta.get("format") not in (MODEL_FORMAT, VECTORS_FOLDER_FORMAT):
        raise VectorsError(f"{manifest}: not a pmiembed model manifest (no \"format\": \"{MODEL_FORMAT}\" object)")
    version = meta.get("version")
    if type(version) is not int or version != MODEL_VERSION:
        raise VectorsError(f"{manifest}: model format version {version!r} is not supported (this pmiembed reads "
                           f"version {MODEL_VERSION}, an integer); re-train the model")
    if meta.get("manifest_sha256") != manifest_digest(meta):
        what = "has no checksum of itself" if "manifest_sha256" not in meta else "checksum mismatch"
        raise VectorsError(f"{manifest}: {what}, the manifest is damaged or was edited; re-train or restore the folder")
    digests = meta.get("sha256")
    if not isinstance(digests, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in digests.items()):
        raise VectorsError(f"{manifest}: 'sha256' is not a table of file checksums; re-train or restore the folder")
    required = REQUIRED_FILES if meta["format"] == MODEL_FORMAT else (VECTORS_FILE, VOCAB_FILE)
    if VECTORS_TEXT_FILE in digests:  # saved with format="text": vectors.vec stands for vectors.bin
        required = tuple(n for n in required if n != VECTORS_FILE)
    for name in required + ("counts.npz", VECTORS_FILE, VECTORS_TEXT_FILE):
        if name not in digests and (name in required or (path / name).exists()):
            raise VectorsError(f"{path / name}: no checksum in {PARAMS_FILE}; re-train or restore the folder")
    for name, digest in digests.items():
        f = path / name
        if Path(name).name != name or not f.is_file():
            raise VectorsError(f"{f}: missing from the model folder; re-train or restore it")
        if sha256_file(f) != digest:
            raise VectorsError(f"{f}: checksum mismatch, the file is damaged or was changed; re-train or restore it")
    return meta


def manifest_digest(meta: dict) -> str:
    """SHA-256 of the manifest without its own checksum (canonical JSON), so that an
    edited or damaged ``params.json`` (checksums removed, parameters changed) is caught."""
    import hashlib

    body = {k: v for k, v in meta.items() if k != "manifest_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: what ``--vectors`` accepts, for the message about a file that is none of them
VECTORS_KINDS = ("a pmiembed model folder, a word2vec file (.bin/.vec/.txt with a 'count dim' first line) "
                 "or a gensim model or KeyedVectors file (.model/.kv, written by save())")


def load_vectors(path: str | os.PathLike) -> "KeyedVectors":
    """Load vectors from a pmiembed output folder (checked against its manifest), a
    word2vec file (binary or text, detected by content, whatever its name), or a file
    written by gensim's ``save()``: a full ``Word2Vec`` / ``FastText`` model (its ``wv``)
    or ``KeyedVectors`` (told apart by content: gensim saves a pickle)."""
    path = Path(path)
    if path.is_dir():
        return stable_read(path, lambda: _guard_zero_vectors(_load_vectors_dir(path)))
    check_input_file(path, "vectors file or folder", "--vectors")
    with open(path, "rb") as f:
        start = f.read(2)
    if start[:1] == b"\x80" and start[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):  # a pickle: gensim's save()
        return _guard_zero_vectors(_load_gensim(path))
    return _guard_zero_vectors(_load_word2vec(path))


def _load_gensim(path: Path) -> "KeyedVectors":
    """The word vectors of a file written by gensim's ``save()``: ``KeyedVectors`` as
    they are, a model (``Word2Vec``, ``FastText``, ...) by its ``wv``.  Like any gensim
    model file it is a pickle: load only files you trust."""
    from gensim.models import KeyedVectors
    from gensim.utils import SaveLoad

    try:
        obj = SaveLoad.load(str(path))
    except Exception as exc:
        raise VectorsError(f"{path}: cannot load this gensim file ({type(exc).__name__}: {exc}); "
                           "re-save it with this gensim version") from None
    kv = obj if isinstance(obj, KeyedVectors) else getattr(obj, "wv", None)
    if not isinstance(kv, KeyedVectors):
        raise VectorsError(f"{path}: a gensim {type(obj).__name__}, which has no word vectors; give "
                           + VECTORS_KINDS)
    if len(kv) == 0 or kv.vectors.ndim != 2 or not np.isfinite(kv.vectors).all():
        raise VectorsError(f"{path}: the gensim {type(obj).__name__} holds no usable vectors (empty or not finite); "
                           "train it before saving")
    return kv


def _guard_zero_vectors(kv: "KeyedVectors") -> "KeyedVectors":
    """Words without a vector (all zeros: their PPMI row was empty) get an infinite norm
    in gensim's norm cache, so their cosine with anything is 0 instead of nan (gensim
    divides by the norm) and they never top a neighbour list."""
    kv.fill_norms()
    zero = kv.norms == 0
    if zero.any():
        kv.norms = kv.norms.astype(np.float64, copy=True)
        kv.norms[zero] = np.inf
    return kv


def _load_vectors_dir(path: Path) -> "KeyedVectors":
    """A pmiembed output folder (checked against its manifest) or a folder with a vectors.bin."""
    meta_ok = (path / PARAMS_FILE).exists()
    if meta_ok:
        read_manifest(path)
    vec = path / VECTORS_FILE
    if not vec.is_file() and (path / VECTORS_TEXT_FILE).is_file():
        vec = path / VECTORS_TEXT_FILE
    if not vec.is_file():
        raise VectorsError(f"{path}: no {VECTORS_FILE} in this folder; give the folder written by 'pmiembed train'")
    kv = _load_word2vec(vec)
    if meta_ok and (path / VOCAB_FILE).is_file():
        vocab = Vocabulary.load(path / VOCAB_FILE)
        if vocab.words == kv.index_to_key:
            kv.allocate_vecattrs(["count"], [np.int64])
            kv.expandos["count"][:] = vocab.counts
    return kv


def _load_word2vec(path: Path) -> "KeyedVectors":
    """Load a word2vec file, binary or text (told apart by its first record), checking
    that it holds as many finite vectors as its header says."""
    from gensim.models import KeyedVectors

    with open(path, "rb") as f:
        header = f.readline(200)
        first = f.readline(1 << 16)
    try:
        n, dim = (int(x) for x in header.split())
        if n < 1 or dim < 1:
            raise ValueError
    except ValueError:
        if _is_vector_line(header):  # GloVe's text format: the word2vec text format without its header
            return _load_headerless(path)
        raise VectorsError(f"{path}: not a word2vec vectors file (no 'count dim' header line) nor a gensim file; "
                           "give " + VECTORS_KINDS) from None
    binary = True
    try:
        fields = first.decode("utf-8").split()
        if len(fields) == dim + 1:
            [float(x) for x in fields[1:]]
            binary = False
    except (UnicodeDecodeError, ValueError):
        pass
    try:
        kv = KeyedVectors.load_word2vec_format(str(path), binary=binary, unicode_errors="replace")
    except Exception:
        kv = None
    if kv is None or len(kv) != n or kv.vector_size != dim or not np.isfinite(kv.vectors).all():
        raise VectorsError(
            f"{path}: truncated or damaged vectors file (header says {n} x {dim}); re-train or re-download it"
        )
    return kv


def _is_vector_line(line: bytes) -> bool:
    """Whether ``line`` reads as ``word x1 x2 ...`` (at least two numbers)."""
    try:
        fields = line.decode("utf-8").split()
        [float(x) for x in fields[1:]]
    except (UnicodeDecodeError, ValueError):
        return False
    return len(fields) >= 3


def _load_headerless(path: Path) -> "KeyedVectors":
    """A text vectors file without the ``count dim`` line (GloVe's format), checked for
    rows of one length and finite values."""
    from gensim.models import KeyedVectors

    try:
        kv = KeyedVectors.load_word2vec_format(str(path), binary=False, no_header=True, unicode_errors="replace")
    except Exception:
        kv = None
    if kv is None or len(kv) == 0 or not np.isfinite(kv.vectors).all():
        raise VectorsError(f"{path}: damaged text vectors file (GloVe-like, without a 'count dim' line: rows of "
                           "unequal length or values that are not numbers); re-train or re-download it")
    return kv
