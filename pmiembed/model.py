"""The high-level model: ``PMIEmbedding().fit(corpus).wv``.

A thin scikit-learn-style estimator over the stages::

    read_corpus -> Vocabulary.from_counts -> count_cooccurrences -> pmi_matrix
                -> folded_svd (truncated_svd + fold_in) -> word_vectors -> gensim KeyedVectors

:meth:`PMIEmbedding.fit` runs them in one go; :meth:`~PMIEmbedding.count`,
:meth:`~PMIEmbedding.factorise` and :meth:`~PMIEmbedding.vectors` run them one at a time
(what the sweep and the benchmarks reuse).  Hyperparameters live in ``__init__``
(``get_params``/``set_params`` follow scikit-learn's estimator protocol, so
``sklearn.base.clone`` and parameter grids work), are checked against one table
(:meth:`PMIEmbedding._constraints`, :mod:`pmiembed._validation`) with messages that name
the parameter, and fitted state sits in trailing-underscore attributes.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ._validation import Integral, Interval, Param, Real, StrOptions, check_param, validate_params
from .cooccur import CONSTRAINTS as COUNTING_CONSTRAINTS
from .cooccur import Cooccurrence, check_window, counting, reindexed_sum
from .corpus import TOKENS_FILE, concat_corpora, load_tokens, read_corpus
from .defaults import DEFAULTS, TOKENIZE, UPDATE_N_ITER
from .errors import ApproximateUpdateWarning, ParameterError, VectorsError
from .io import stable_read
from .pmi import CONSTRAINTS as PMI_CONSTRAINTS
from .pmi import (
    PPMI_FILE,
    PMIMarginals,
    check_not_empty,
    empty_rows,
    frequency_weights,
    nneg_matrix,
    park_on_disk,
    pmi_and_nneg_from_rows,
    pmi_from_rows,
    pmi_matrix,
)
from .progress import StageTimer
from .resources import check_fits, cpu_count, estimate_fit_bytes, limit_threads, peak_rss_bytes, thread_count
from .state import COUNTS_FILE, SINGULAR_VALUES_FILE, ModelState, write_model
from .svd import CONSTRAINTS as SVD_CONSTRAINTS
from .svd import (
    SVD_BACKENDS,
    abtt_constraint,
    check_svd_params,
    core_size,
    fold_in,
    truncated_svd,
    unweighted_factors,
    warm_svd,
    word_vectors,
)
from .vectors import (
    FORMAT_CONSTRAINT,
    MODEL_FORMAT,
    PARAMS_FILE,
    RARE_PAIRS_FILE,
    VOCAB_FILE,
    _guard_zero_vectors,
    _load_vectors_dir,
    make_keyed_vectors,
    read_manifest,
)
from .vocab import CONSTRAINTS as VOCABULARY_CONSTRAINTS
from .vocab import Vocabulary, merged_vocabulary

if TYPE_CHECKING:  # gensim is imported where it is used: it is slow to import
    from gensim.models import KeyedVectors

#: each power iteration costs two passes over the PMI matrix; the bound catches a typo
#: (100000) before hours of work
MAX_N_ITER = 1000
#: seeds are 32-bit: scikit-learn's and numpy's legacy generators take no more
MAX_SEED = 2**32 - 1

#: what to do when an update does not fit: its dimensions are the model's
UPDATE_MEMORY_FIX = ("an update keeps the model's dimensions: give a larger `memory` budget or free memory, or train "
                     "the model again with a lower `dim`")
NO_COUNTS_HINT = ("the model was saved without its token ids and co-occurrence counts, which an update needs; "
                  "retrain it with `save_counts:PMIEmbedding(keep_tokens=True).fit(...) and save(path)`, then "
                  "update that")
APPROXIMATE_HINT = ("update on counts alone (the model kept no token ids): words that join the vocabulary miss "
                    "their occurrences in the old text, so the result is close to, not equal to, training on both "
                    "texts; fit with keep_tokens=True (the default) for an exact update")


class Factors(NamedTuple):
    """The SVD of every word (:meth:`PMIEmbedding.factorise`): ``u`` (words x dim),
    ``s`` (dim, descending), ``vt`` (dim x words), and ``empty``, the words whose PPMI
    row is empty (they get the zero vector), or None."""

    u: np.ndarray
    s: np.ndarray
    vt: np.ndarray
    empty: np.ndarray | None


class _Params:
    """scikit-learn's estimator protocol (``get_params``, ``set_params``, a repr of the
    non-default parameters) for a class whose ``__init__`` only stores its keyword
    arguments.  Written out instead of inheriting ``sklearn.base.BaseEstimator``
    because importing scikit-learn is slow (it loads scipy.stats) and the command line
    needs the class before it can start reading."""

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


#: what fit sets (the trailing-underscore attributes of the class docstring)
_FITTED = ("vocabulary_", "cooccurrence_", "pmi_", "singular_values_", "context_vectors_", "vectors_", "timings_",
           "compiled_kernels_", "corpus_stats_", "tokens_", "factorisation_", "peak_rss_bytes_")


class PMIEmbedding(_Params):
    """Word vectors from a (shifted) positive PMI matrix factorised by truncated SVD.

    The defaults (:data:`pmiembed.defaults.DEFAULTS`, chosen by measurement, see
    docs/ablation.md): 300 dimensions, min_count 5, window 8 weighted 1/d^2, word2vec
    subsampling 1e-4 in its expectation ("expected"), no context distribution
    smoothing, no shift, the randomized SVD of the words seen at least 10 times (at most
    50,000) with the rarer ones folded in, eigenvalue weighting 0.5, the mean and the
    top principal direction removed.  ``PMIEmbedding(window=2, weighting="dynamic",
    subsample=None, cds=0.75, abtt=None, core_min_count=None)`` is the recipe Levy,
    Goldberg & Dagan (2015) recommend.

    :meth:`fit` runs the stages in one go; :meth:`count`, :meth:`factorise` and
    :meth:`vectors` run them one at a time, to reuse counts and factors across settings.

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
    matrix : {'nneg', 'ppmi'}, what the SVD factorises: bounded negative PMI (the
        default; observed pairs' PMI, divided by ``-log p(w, c)`` where negative,
        unobserved pairs at ``-bound``, cells weighted by ``(#w #c) ** freq_weight``; see
        :func:`pmiembed.pmi.nneg_matrix`) or positive PMI (the recipe before 2026-12-05).
    bound : float >= 0, ``matrix='nneg'``: the value ``-bound`` of unobserved pairs.
    freq_weight : float in [0, 1], ``matrix='nneg'``: the frequency weight exponent
        (word vectors are unweighted again after the SVD).
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
    svd : {'randomized', 'krylov', 'sklearn', 'arpack'}, SVD backend (see :mod:`pmiembed.svd`).
    n_iter : int or None, power iterations of the randomized SVDs (None: the default).
    oversamples : int, extra columns the randomized SVD iterates beyond ``dim``: the top
        ``dim`` directions converge at the rate of ``s_dim / s_(dim + oversamples)``, so a
        flat spectrum needs many (see :mod:`pmiembed.svd`).
    lowercase : bool or None, lowercase tokens (None: yes, unless ``tokenize="whitespace"``).
    tokenize : ``"words"`` (default), ``"whitespace"`` or ``"nltk"``: see :mod:`pmiembed.corpus`.
    tokenizer : callable str -> list of str, or None for whitespace splitting.
    seed : int, seeds subsampling and the SVD; the same seed gives the same bits.
    workers : int or None, threads for the numeric stages (None: all cores).
    memory : float or None, memory budget in GB for counting (spills to disk beyond it)
        and a check that the later stages fit; with a budget the SVD also reads the
        PMI matrix in place instead of a cache-blocked copy (a little slower), and with
        ``matrix='nneg'`` the bounded matrix joins the PPMI on disk once the SVD's
        products are done (both in temporary files mapped back read-only: ``pmi_``,
        ``nneg_``; with ``keep_counts=False`` the PPMI is written there as it is made).
    keep_counts : bool, keep the co-occurrence counts after ``fit`` (``cooccurrence_``,
        needed by ``save(save_counts=True)``); False never assembles the count matrix:
        PMI is computed from the counted row blocks as they are read back, which saves
        the count matrix's memory (the command line does so unless asked to save the
        counts).
    keep_tokens : bool, keep the corpus as token ids after ``fit`` (``tokens_``,
        4 bytes a token, saved by ``save`` as ``tokens.npz``), which :meth:`update` needs
        to count the old text again over a grown vocabulary, words the old text left out
        included: its counts then equal training on both texts, so ``fit(a).update(b)``
        is exact by default.  False saves that memory and file, and an update is then
        refused (or, on counts alone, close to but not equal to training on both, with a
        warning).  The command line keeps them only when it saves the counts
        (``--save-counts``).
    progress : bool, show progress bars on stderr.
    verbose : bool, print a one-line summary per stage on stderr.

    Attributes
    ----------
    vocabulary_ : Vocabulary
    cooccurrence_ : Cooccurrence, weighted counts (scipy.sparse inside); None after
        ``fit`` with ``keep_counts=False``
    pmi_ : scipy.sparse.csr_matrix, the (S)PPMI matrix (what ``matrix='ppmi'``
        factorises, and what :meth:`contexts` and :meth:`explain` read; of a loaded
        model: read from the folder's ppmi.npz on first use)
    singular_values_ : ndarray of shape (dim,)
    context_vectors_ : ndarray, V * S**eig
    wv : gensim KeyedVectors with the word vectors (index order = vocabulary order),
        built on first access
    vectors_ : float32 array (words x dim), the word vectors (shared with ``wv``)
    timings_ : dict, seconds per stage; ``"compile"``: numba compiling kernels (a first
        run or an empty cache), not included in the stages
    compiled_kernels_ : list of str, the kernels compiled during ``fit`` (empty on a warm cache)
    corpus_stats_ : dict, tokens, types, documents, bytes, replaced bytes
    factorisation_ : dict, what the SVD that made the vectors ran: backend, power
        iterations, extra columns, core words, and whether it was an update's warm start

    Examples
    --------
    Lee's corpus of news text (gensim's test data, 60k tokens):

    >>> from gensim.test.utils import datapath
    >>> from pmiembed import PMIEmbedding
    >>> model = PMIEmbedding(dim=50, min_count=3).fit(datapath("lee_background.cor"))
    >>> model.wv.vectors.shape
    (2859, 50)
    >>> [word for word, _ in model.wv.most_similar("police", topn=2)]
    ['illawarra', 'officers']
    >>> PMIEmbedding(dim=50, window=2)
    PMIEmbedding(dim=50, window=2)
    """

    def __init__(self, dim=DEFAULTS["dim"], window=DEFAULTS["window"], weighting=DEFAULTS["weighting"],
                 min_count=DEFAULTS["min_count"], max_vocab=DEFAULTS["max_vocab"], subsample=DEFAULTS["subsample"],
                 subsample_mode=DEFAULTS["subsample_mode"], cds=DEFAULTS["cds"], neg=DEFAULTS["neg"],
                 matrix=DEFAULTS["matrix"], bound=DEFAULTS["bound"], freq_weight=DEFAULTS["freq_weight"],
                 eig=DEFAULTS["eig"], wc=DEFAULTS["wc"], abtt=DEFAULTS["abtt"],
                 core_min_count=DEFAULTS["core_min_count"], core_max_words=DEFAULTS["core_max_words"],
                 svd=DEFAULTS["svd"],
                 n_iter=DEFAULTS["n_iter"], oversamples=DEFAULTS["oversamples"], lowercase=None, tokenizer=None,
                 tokenize=TOKENIZE,
                 seed=0, workers=None, memory=None,
                 keep_counts=True, keep_tokens=True, progress=False, verbose=False):
        self.dim = dim
        self.window = window
        self.weighting = weighting
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.subsample = subsample
        self.subsample_mode = subsample_mode
        self.cds = cds
        self.neg = neg
        self.matrix = matrix
        self.bound = bound
        self.freq_weight = freq_weight
        self.eig = eig
        self.wc = wc
        self.abtt = abtt
        self.core_min_count = core_min_count
        self.core_max_words = core_max_words
        self.svd = svd
        self.n_iter = n_iter
        self.oversamples = oversamples
        self.lowercase = lowercase
        self.tokenize = tokenize
        self.tokenizer = tokenizer
        self.seed = seed
        self.workers = workers
        self.memory = memory
        self.keep_counts = keep_counts
        self.keep_tokens = keep_tokens
        self.progress = progress
        self.verbose = verbose

    # ------------------------------------------------------------ validation

    def _constraints(self) -> dict:
        """What each parameter accepts (:mod:`pmiembed._validation`): the stages' own
        tables, then the model's; checked in this order."""
        return {
            "dim": SVD_CONSTRAINTS["dim"], "eig": SVD_CONSTRAINTS["eig"],
            "weighting": COUNTING_CONSTRAINTS["weighting"], "window": COUNTING_CONSTRAINTS["window"],
            **PMI_CONSTRAINTS,
            "min_count": VOCABULARY_CONSTRAINTS["min_count"],
            "max_vocab": [Interval(Integral, 2, None), None],
            "subsample": COUNTING_CONSTRAINTS["subsample"],
            "subsample_mode": COUNTING_CONSTRAINTS["subsample_mode"],
            "abtt": abtt_constraint(self.dim),
            "core_min_count": Param((Interval(Integral, 1, None), None),
                                    "an integer >= 1 or None (None: factorise every word)"),
            "core_max_words": Param((Interval(Integral, 1, None), None),
                                    "an integer >= 1 or None (None: no cap on the core)"),
            "svd": [StrOptions(SVD_BACKENDS)],
            "n_iter": [Param((Interval(Integral, 0, None), None), "an integer >= 0 or None"),
                       Param((Interval(Integral, 0, MAX_N_ITER), None),
                             f"at most {MAX_N_ITER}: each iteration is two passes over the PMI matrix (the default "
                             f"is {DEFAULTS['n_iter']}); for accuracy raise `oversamples` instead")],
            "oversamples": [Interval(Integral, 0, None)],
            "workers": Param((Interval(Integral, 1, None), None), "an integer >= 1 or None (all cores)"),
            "memory": Param((Interval(Real, 0, None, "neither"), None), "a positive number of GB or None"),
            "seed": [Interval(Integral, 0, MAX_SEED)],
        }

    def _validate(self) -> None:
        validate_params(self._constraints(), self.get_params())
        check_window(self.window, self.weighting)  # the window's bound for its weighting
        if self.matrix == "nneg" and self.svd == "sklearn":
            # scikit-learn's randomized_svd takes a matrix it can hold, and the bounded one is
            # dense (its unobserved pairs): the other backends factorise it as an operator
            raise ParameterError("`svd=sklearn` cannot factorise `matrix=nneg` (dense: its unobserved pairs are "
                                 "-bound); use `svd=randomized`, `krylov` or `arpack`, or `matrix=ppmi`", param="svd")

    @property
    def n_workers_(self) -> int:
        return cpu_count() if self.workers is None else int(self.workers)

    # ------------------------------------------------------------------ fit

    def fit(self, corpus, y=None, client=None) -> "PMIEmbedding":
        """Read ``corpus`` (paths, folders or an iterable of token lists/strings; see
        :mod:`pmiembed.corpus`), count, weight and factorise.  Returns ``self``.

        ``client``: a ``dask.distributed.Client``; the same pipeline then runs on its
        cluster (:mod:`pmiembed.distributed`, ``pip install ".[dask]"`` in pmiembed's clone), reading
        ``corpus`` (paths or fsspec URLs every worker can read) in shards."""
        if client is not None:
            from .distributed import fit_distributed

            return fit_distributed(self, corpus, client)
        self._validate()
        timer = StageTimer(self.verbose)
        start = time.perf_counter()
        tokens = self._read(corpus, timer)
        vocab = self._vocabulary(tokens, timer)
        # update() counts the old text again over its grown vocabulary: it needs the ids
        # (then not freed by counting)
        self.tokens_ = tokens if self.keep_tokens else None
        check_svd_params(self.dim, self.eig, len(vocab))
        memory_bytes = None if self.memory is None else int(self.memory * 2**30)
        self._check_memory(vocab)
        with contextlib.ExitStack() as stack:
            with timer.stage("count") as info, limit_threads(self.n_workers_):
                # the counter gets the only reference to the tokens: it frees their ids as
                # soon as they are mapped to vocabulary rows
                box = [tokens]
                del tokens
                counted = stack.enter_context(counting(
                    box.pop(), vocab, **self._counting_params(),
                    memory_bytes=memory_bytes // 2 if memory_bytes else None, progress=self.progress,
                ))
                info["nonzeros"] = f"{counted.rows.nnz:,}"
            if self.keep_counts:
                cooc = counted.cooccurrence(vocab)
                stack.close()
                self._fit_from_counts(cooc, timer)
            else:
                self._pmi_from_rows(counted, vocab, timer)
                stack.close()
                self._set_vectors(*self._svd(timer))
        self._finish(timer, start)
        return self

    def _check_memory(self, vocab: Vocabulary, **fix) -> None:
        """Refuse, before counting, a ``memory`` budget (or the memory available) that the
        PMI and SVD stages of ``vocab``'s words cannot fit in; :meth:`fit` and
        :meth:`update` check the same way (``fix``: the advice, see
        :func:`~pmiembed.resources.check_fits`)."""
        memory_bytes = None if self.memory is None else int(self.memory * 2**30)
        n_core = core_size(vocab.counts, self.core_min_count, self.dim, self.core_max_words)
        check_fits(estimate_fit_bytes(len(vocab), self.dim, self.oversamples, n_core), memory_bytes,
                   what="the PMI and SVD stages", **fix)

    def fit_counts(self, cooccurrence: Cooccurrence) -> "PMIEmbedding":
        """Fit from existing co-occurrence counts (skip reading and counting): the PMI
        and SVD settings of ``self`` apply; the counting settings are those of the
        counts."""
        if cooccurrence is None:
            raise ParameterError("fit_counts needs co-occurrence counts, got `cooccurrence=None:None`: a model loaded "
                                 "from a folder saved without counts has none; save with `save_counts=True`")
        if not isinstance(cooccurrence, Cooccurrence):
            raise ParameterError(f"fit_counts needs a Cooccurrence (e.g. Cooccurrence.load('counts.npz')), "
                                 f"not a {type(cooccurrence).__name__}")
        self._validate()
        timer = StageTimer(self.verbose)
        start = time.perf_counter()
        check_svd_params(self.dim, self.eig, len(cooccurrence.vocab))
        self._fit_from_counts(cooccurrence, timer)
        self._finish(timer, start)
        return self

    def update(self, corpus, n_iter: int | None = None) -> "PMIEmbedding":
        """Add ``corpus`` to the fitted model without starting over (see
        :mod:`pmiembed.update`): with the token ids kept (``keep_tokens=True``, the
        default, or loaded from a folder with ``tokens.npz``) the vocabulary, counts and
        PMI become those of training on both texts.  Without them, on counts alone
        (``cooccurrence_`` of a model fitted with ``keep_tokens=False``, or of a folder
        saved with counts but no token ids), the new counts are added to the old and
        words that now reach ``min_count`` join the vocabulary, which is close to but not
        equal to training on both: an :class:`~pmiembed.errors.ApproximateUpdateWarning`
        says so.  The SVD restarts from the previous vectors with ``n_iter`` power
        iterations (default 4).  ``update_summary_`` says what changed (``"exact"``:
        whether the counts equal training on both).  Returns ``self``."""
        self.update_summary_ = self._update(corpus, n_iter, stacklevel=3)
        return self

    def _update(self, corpus, n_iter: int | None, stacklevel: int) -> dict:
        """The update (:meth:`update`, :mod:`pmiembed.update` says how it works): the
        stages of :meth:`fit` on the kept token ids and the new text, or on the counts,
        the SVD warm-started.  Returns the summary."""
        cooc = self.__dict__.get("cooccurrence_")
        kept = self.__dict__.get("tokens_")
        if cooc is None and kept is None:
            raise ParameterError(NO_COUNTS_HINT)
        if self.__dict__.get("vectors_") is None:
            raise ParameterError("the model is not fitted; call fit(corpus) first")
        if (self.__dict__.get("corpus_stats_") or {}).get("phrases"):
            raise ParameterError("the model was trained with `phrases:joined phrases`, whose phrase set is not saved; "
                                 "an update would count the new text without it: retrain on all the text with "
                                 "`phrases:joined phrases` instead")
        n_iter = UPDATE_N_ITER if n_iter is None else n_iter
        check_param("n_iter", n_iter, [Interval(Integral, 1, None)])
        self._validate()
        timer = StageTimer(self.verbose)
        start = time.perf_counter()
        tokens = self._read(corpus, timer, record=False)
        new_tokens = tokens.n_tokens
        sources = list(tokens.sources)
        old_vocab = self.vocabulary_
        if kept is not None:
            # the only references to both id arrays go in: they are freed once joined
            parts = [kept, tokens]
            del kept, tokens
            vocab = self._update_from_tokens(parts, n_iter, timer)
            n_all, exact = self.tokens_.n_tokens, True
        else:
            import warnings

            warnings.warn(APPROXIMATE_HINT, ApproximateUpdateWarning, stacklevel=stacklevel)
            box = [tokens]
            del tokens
            vocab = self._update_from_counts(cooc, box, n_iter, timer)
            n_all, exact = int(self.cooccurrence_.params["n_tokens"]), False
        old_index = old_vocab.index
        new_words = sum(1 for w in vocab.words if w not in old_index)
        dropped = len(old_vocab) - (len(vocab) - new_words)
        stats = dict(self.__dict__.get("corpus_stats_") or {})
        stats["tokens"] = int(n_all)
        stats["updates"] = list(stats.get("updates", [])) + [{"tokens": int(new_tokens), "sources": sources,
                                                              "new_words": int(new_words), "n_iter": int(n_iter),
                                                              "exact": bool(exact)}]
        self.corpus_stats_ = stats
        self._finish(timer, start)
        return {"new_words": int(new_words), "dropped_words": int(dropped), "new_tokens": int(new_tokens),
                "tokens": int(n_all), "words": len(vocab), "n_iter": int(n_iter), "exact": bool(exact),
                "seconds": self.timings_["total"]}

    @staticmethod
    def _vocabulary_change(info: dict, vocab: Vocabulary, old_vocab: Vocabulary) -> None:
        old_index = old_vocab.index
        new_words = sum(1 for w in vocab.words if w not in old_index)
        dropped = len(old_vocab) - (len(vocab) - new_words)
        info["words"] = f"{len(vocab):,} ({new_words:,} new" + (f", {dropped:,} dropped)" if dropped else ")")

    def _update_from_tokens(self, parts: list, n_iter: int, timer: StageTimer) -> Vocabulary:
        """The update of a model that kept its token ids: vocabulary, counts and PMI of
        both texts (``parts``: the kept and the new
        :class:`~pmiembed.corpus.TokenizedCorpus`, emptied) as :meth:`fit` makes them,
        the SVD warm-started from the previous vectors.  Returns the vocabulary."""
        old_vocab = self.vocabulary_
        with timer.stage("vocab") as info:
            self.tokens_ = None
            both = concat_corpora(*parts)
            parts.clear()
            vocab = Vocabulary.from_counts(both.types, both.counts, min_count=self.min_count,
                                           max_vocab=self.max_vocab, total=both.n_tokens)
            self._vocabulary_change(info, vocab, old_vocab)
        check_svd_params(self.dim, self.eig, len(vocab))
        self._check_memory(vocab, fix=UPDATE_MEMORY_FIX)  # the budget fit refuses, refused here too
        memory_bytes = None if self.memory is None else int(self.memory * 2**30)
        # the update keeps the ids (the next update needs them), so counting cannot free them
        self.tokens_ = both
        self.rare_pairs_ = None
        # fit's count and PMI stages
        with contextlib.ExitStack() as stack:
            with timer.stage("count") as info, limit_threads(self.n_workers_):
                counted = stack.enter_context(counting(
                    both, vocab, **self._counting_params(),
                    memory_bytes=memory_bytes // 2 if memory_bytes else None, progress=self.progress))
                info["nonzeros"] = f"{counted.rows.nnz:,}"
            if self.keep_counts:
                self._pmi_from_counts(counted.cooccurrence(vocab), timer)
            else:
                self._pmi_from_rows(counted, vocab, timer)
        previous = self._previous_vectors(vocab, old_vocab)
        # fit's SVD stage, started from the previous vectors
        self._set_vectors(*self._svd(timer, warm=(previous, n_iter)))
        return vocab

    def _update_from_counts(self, cooc: Cooccurrence, box: list, n_iter: int, timer: StageTimer) -> Vocabulary:
        """The update of a model that kept counts but no token ids (``box``: the new
        text's :class:`~pmiembed.corpus.TokenizedCorpus`, emptied): the new text counted
        over the merged vocabulary and added to the old counts, then fit's PMI stage and
        the warm-started SVD.  Returns the vocabulary."""
        p = cooc.params
        old_vocab = cooc.vocab
        tokens = box.pop()
        with timer.stage("vocab") as info:
            rare = self.__dict__.get("rare_pairs_")
            if rare is not None and rare.vocab.words[:len(old_vocab)] != old_vocab.words:
                rare = None  # not the pairs of these counts (an earlier update's)
            rare_words = None if rare is None else Vocabulary(rare.vocab.words[len(old_vocab):],
                                                              rare.vocab.counts[len(old_vocab):], rare.vocab.total)
            vocab, _ = merged_vocabulary(old_vocab, rare_words, tokens.types, tokens.counts, tokens.n_tokens,
                                         self.min_count, self.max_vocab)
            self._vocabulary_change(info, vocab, old_vocab)
        self._check_memory(vocab, fix=UPDATE_MEMORY_FIX)  # the budget fit refuses, refused here too
        memory_bytes = None if self.memory is None else int(self.memory * 2**30)
        with timer.stage("count") as info, limit_threads(self.n_workers_):
            box = [tokens]
            del tokens
            with counting(box.pop(), vocab, window=p["window"], weighting=p["weighting"], subsample=p["subsample"],
                          subsample_mode=p["subsample_mode"], seed=p["seed"],
                          memory_bytes=memory_bytes // 2 if memory_bytes else None,
                          progress=self.progress) as counted:
                added = counted.cooccurrence(vocab)
            info["nonzeros"] = f"{added.nnz:,}"
        with timer.stage("merge") as info, limit_threads(self.n_workers_):
            summed = reindexed_sum(cooc, added, rare)
            # the left-out words' pairs belong to the old vocabulary; the next update has none
            self.rare_pairs_ = None
            del added
            info["nonzeros"] = f"{summed.nnz:,}"
        previous = self._previous_vectors(vocab, old_vocab)
        # fit's PMI and SVD stages, the SVD started from the previous vectors
        self._pmi_from_counts(summed, timer)
        self._set_vectors(*self._svd(timer, warm=(previous, n_iter)))
        return vocab

    def _previous_vectors(self, vocab: Vocabulary, old_vocab: Vocabulary) -> np.ndarray:
        """The previous vectors in the rows of ``vocab``'s words (zero rows for new
        words): the warm start of an update's SVD."""
        previous = np.zeros((len(vocab), self.vectors_.shape[1]), dtype=np.float32)
        rows_old = old_vocab.id_map(vocab.words)
        known = rows_old >= 0
        previous[known] = np.asarray(self.vectors_)[rows_old[known]]
        return previous

    # ------------------------------------------------------------ stages
    # fit runs read -> vocabulary -> count -> PMI -> SVD -> vectors; the public stage
    # methods below run the same steps one at a time, so that the sweep and the
    # benchmarks can reuse counts and factors across settings without writing the
    # sequence again.

    def _counting_params(self) -> dict:
        return {"window": self.window, "weighting": self.weighting, "subsample": self.subsample,
                "subsample_mode": self.subsample_mode, "seed": self.seed}

    def _read(self, corpus, timer: StageTimer, record: bool = True):
        """The read stage: ``corpus`` as token ids (:func:`pmiembed.corpus.read_corpus`
        with this model's ``lowercase``, ``tokenizer``, ``progress`` and ``workers``),
        recorded in ``corpus_stats_`` unless ``record`` is False (an update's new text)."""
        with timer.stage("read") as info:
            tokens = read_corpus(corpus, lowercase=self.lowercase, tokenizer=self.tokenizer, tokenize=self.tokenize,
                                 progress=self.progress,
                                 workers=self.n_workers_)
            info["tokens"] = f"{tokens.n_tokens:,}"
            info["types"] = f"{len(tokens.types):,}"
            info["MB"] = f"{tokens.n_bytes / 1e6:,.1f}"
            info["read as"] = (f"{len(tokens.sources):,} file{'s' if len(tokens.sources) != 1 else ''}"
                               if tokens.input_kind == "files" else "in-memory documents")
            if tokens.n_replaced:
                info["undecodable bytes replaced"] = f"{tokens.n_replaced:,}"
        if not record:
            return tokens
        self.corpus_stats_ = {
            "tokens": tokens.n_tokens, "types": len(tokens.types), "documents": tokens.n_docs,
            "bytes": tokens.n_bytes, "replaced_bytes": tokens.n_replaced, "sources": tokens.sources,
            "input": tokens.input_kind,
        }
        return tokens

    def _vocabulary(self, tokens, timer: StageTimer) -> Vocabulary:
        with timer.stage("vocab") as info:
            vocab = Vocabulary.from_counts(tokens.types, tokens.counts, min_count=self.min_count,
                                           max_vocab=self.max_vocab, total=tokens.n_tokens)
            info["words"] = f"{len(vocab):,}"
        return vocab

    def count(self, corpus) -> Cooccurrence:
        """Read ``corpus`` (as :meth:`fit` does; a
        :class:`~pmiembed.corpus.TokenizedCorpus` is used as it is, so one reading can
        be counted several ways), keep the words seen ``min_count`` times and count
        their co-occurrences with this model's ``window``, ``weighting``,
        ``subsample``, ``subsample_mode`` and ``seed``.  Returns the counts;
        :meth:`factorise` takes them on."""
        self._validate()
        timer = StageTimer(self.verbose)
        tokens = self._read(corpus, timer)
        vocab = self._vocabulary(tokens, timer)
        memory_bytes = None if self.memory is None else int(self.memory * 2**30)
        with timer.stage("count") as info, limit_threads(self.n_workers_):
            box = [tokens]
            del tokens  # the counter frees the ids once mapped, unless the caller holds them
            with counting(box.pop(), vocab, **self._counting_params(),
                          memory_bytes=memory_bytes // 2 if memory_bytes else None,
                          progress=self.progress) as counted:
                cooc = counted.cooccurrence(vocab)
            info["nonzeros"] = f"{cooc.nnz:,}"
        return cooc

    def pmi(self, cooccurrence: Cooccurrence, dtype=np.float32):
        """The (shifted) PPMI matrix of the counts with this model's ``cds`` and ``neg``
        (``pmi_``), in ``dtype`` (float64 for a reference SVD).  Kept while the counts,
        ``cds``, ``neg`` and ``dtype`` stay the same, so that several SVD settings
        (:meth:`factorise`) cost one PMI."""
        self._validate()
        key = (id(cooccurrence), self.cds, self.neg, self.matrix, self.bound, self.freq_weight, np.dtype(dtype))
        if self.__dict__.get("_pmi_key") != key or self.__dict__.get("cooccurrence_") is not cooccurrence:
            self._pmi_from_counts(cooccurrence, StageTimer(self.verbose), dtype)
            self._pmi_key = key
        return self.pmi_

    def factorise(self, cooccurrence: Cooccurrence, dtype=np.float32) -> Factors:
        """The PMI of the counts (:meth:`pmi`) and its truncated SVD with this model's
        ``svd``, ``dim``, ``n_iter``, ``oversamples`` and ``seed``: the core of
        ``core_min_count`` / ``core_max_words`` is factorised, the other words folded in.
        Returns the :class:`Factors` that :meth:`vectors` turns into vectors."""
        self.pmi(cooccurrence, dtype)
        check_svd_params(self.dim, self.eig, len(cooccurrence.vocab))
        return self._svd(StageTimer(self.verbose))

    def vectors(self, factors: Factors) -> np.ndarray:
        """Word vectors (float32, one row per vocabulary word) from :meth:`factorise`'s
        factors with this model's ``eig``, ``wc`` and ``abtt``; the words without a PPMI
        entry get the zero vector."""
        check_svd_params(len(factors.s), self.eig)
        vectors = np.ascontiguousarray(word_vectors(factors.u, factors.s, factors.vt, eig=self.eig, wc=self.wc,
                                                    abtt=self.abtt), dtype=np.float32)
        if factors.empty is not None:
            vectors[factors.empty] = 0.0
        return vectors

    def _fit_from_counts(self, cooc: Cooccurrence, timer: StageTimer) -> None:
        self._pmi_from_counts(cooc, timer)
        self._set_vectors(*self._svd(timer))

    def _pmi_from_counts(self, cooc: Cooccurrence, timer: StageTimer, dtype=np.float32) -> None:
        """The PMI stage from counts: ``pmi_`` and what turns it back into counts."""
        with limit_threads(self.n_workers_):
            with timer.stage("pmi") as info:
                pmi = pmi_matrix(cooc.counts, cds=self.cds, neg=self.neg, keep=cooc.keep, dtype=dtype)
                check_not_empty(pmi, self.neg)
                info["nonzeros"] = f"{pmi.nnz:,}"
                nneg = None
                if self.matrix == "nneg":
                    nneg = nneg_matrix(cooc.counts, self._weights(cooc.vocab), bound=self.bound, cds=self.cds,
                                       neg=self.neg, keep=cooc.keep, dtype=dtype)
                    info["bounded"] = f"{nneg.nnz:,} observed pairs, unobserved at -{self.bound:g}"
        self._set_pmi(cooc.vocab, cooc.params, cooc.nnz, pmi, PMIMarginals.from_counts(cooc, self.cds, self.neg),
                      cooc)
        self.nneg_ = nneg

    def _pmi_from_rows(self, counted, vocab: Vocabulary, timer: StageTimer) -> None:
        """The PMI stage straight from the counter's finished row blocks (a
        :class:`~pmiembed.cooccur.Counted`): the whole count matrix is never held beside
        the PMI matrix."""
        with timer.stage("pmi") as info, limit_threads(self.n_workers_):
            nneg = None
            if self.matrix == "nneg":
                # under a memory budget the PPMI goes to disk as it is made (the SVD reads
                # only the bounded matrix): the two are never held together
                pmi, nneg = pmi_and_nneg_from_rows(counted.rows, self._weights(vocab), bound=self.bound,
                                                   cds=self.cds, neg=self.neg, keep=counted.rows.keep,
                                                   park=self.memory is not None)
                info["bounded"] = f"{nneg.nnz:,} observed pairs, unobserved at -{self.bound:g}"
            else:
                pmi = pmi_from_rows(counted.rows, cds=self.cds, neg=self.neg, keep=counted.rows.keep)
            check_not_empty(pmi, self.neg)
            info["nonzeros"] = f"{pmi.nnz:,}"
        # what turns a PPMI entry back into its count (pmiembed.explain), kept before the
        # row blocks are freed: a few vocabulary-sized arrays
        self._set_pmi(vocab, counted.params, counted.rows.nnz, pmi,
                      PMIMarginals.from_rows(counted.rows, counted.scale, self.cds, self.neg), None)
        self.nneg_ = nneg

    def _svd_plan(self, empty: np.ndarray | None = None) -> tuple[np.ndarray, bool | None]:
        """What the SVD stage needs to know of ``pmi_`` before it runs, on every route:
        the core (``n_core_``), the words without a PPMI entry among the core's columns
        (returned; ``n_empty_rows_``; ``empty``: found already, by the cluster's row
        blocks), refused when fewer than ``dim`` core words are left, and whether the
        matrix is symmetric (True; None: not known)."""
        self.n_core_ = core_size(self.vocabulary_.counts, self.core_min_count, self.dim,
                                 self.core_max_words)
        # a word whose PPMI row is empty (over the core's columns, which place it) has no
        # direction of its own: its U row is 0, and centring (abtt) would give every such
        # word the same vector; it gets the zero vector, which neighbour queries skip
        # (score 0, never nan)
        if empty is None:
            empty = empty_rows(self._svd_target()[0], self.n_core_)
        self.n_empty_rows_ = int(np.count_nonzero(empty))
        n_core = len(empty) if self.n_core_ is None else self.n_core_
        n_left = n_core - int(np.count_nonzero(empty[:n_core]))
        if n_left < self.dim:
            raise ParameterError(
                f"only {n_left:,} of the {n_core:,} words the SVD factorises have a PPMI entry left"
                + (f" above the shift log(neg) = {np.log(self.neg):.2f}" if self.neg > 1 else "")
                + f", fewer than `dim={self.dim}`; "
                + (f"lower `neg` (now {self.neg:g}) or `dim`" if self.neg > 1 else "lower `dim`"), param="dim")
        # windowed counts are symmetric, and without smoothing (cds = 1) so is their PMI
        # (pmi_matrix and pmi_from_rows compute (w, c) and (c, w) alike): the SVD need
        # not check it
        return empty, (True if self.cds == 1.0 else None)

    def _finish(self, timer: StageTimer, start: float) -> None:
        """The last step of every route: the stages' timings, the kernels compiled, the
        peak memory."""
        self.timings_ = dict(timer.times)
        self.timings_["total"] = time.perf_counter() - start
        self.compiled_kernels_ = list(timer.compiled_kernels)
        self.peak_rss_bytes_ = peak_rss_bytes()

    def _set_pmi(self, vocab: Vocabulary, counting_params: dict, nnz: int, pmi, marginals: PMIMarginals,
                 cooccurrence: Cooccurrence | None) -> None:
        """The PMI stage's result, on every route: the vocabulary, the counting
        parameters, the PMI matrix with its marginals, the counts when kept."""
        self.vocabulary_ = vocab
        self.cooccurrence_ = cooccurrence
        self.counting_params_ = dict(counting_params)
        self.cooccurrence_nnz_ = int(nnz)
        self.pmi_ = pmi
        self.pmi_marginals_ = marginals

    def _svd_target(self):
        """What the SVD factorises: ``(matrix, rank_one, weights)``, the PPMI (``None,
        None``) or the observed part of the bounded matrix with its rank-one term
        ``(-bound, weights)`` and the frequency weights (:func:`pmiembed.pmi.nneg_matrix`)."""
        nneg = self.__dict__.get("nneg_") if self.matrix == "nneg" else None
        if self.matrix == "nneg" and nneg is None:
            raise ParameterError("`matrix=nneg` needs the bounded matrix of the counts: run the PMI stage again "
                                 "(fit, or pmi(counts)) after changing `matrix`", param="matrix")
        if nneg is None:
            return self.pmi_, None, None
        weights = self._weights(self.vocabulary_)
        return nneg, (-float(self.bound), weights), weights

    def _svd(self, timer: StageTimer, warm: tuple[np.ndarray, int] | None = None) -> Factors:
        """SVD of ``pmi_`` (its core, the rest folded in): the factors of every word.
        ``warm``: ``(previous vectors in the rows of the vocabulary, power iterations)``,
        the warm-started SVD of an update (:func:`pmiembed.svd.warm_svd`)."""
        target, rank_one, weights = self._svd_target()
        empty, symmetric = self._svd_plan()
        if rank_one is not None:
            # the SVD reads the bounded matrix only: the PPMI (for explanations and ppmi.npz)
            # waits on disk, mapped, instead of in memory beside it
            self.pmi_ = park_on_disk(self.pmi_)
        with limit_threads(self.n_workers_):
            with timer.stage("svd") as info:
                # under a memory budget the SVD reads the matrix in place (no blocked copy)
                if warm is None:
                    u, s, vt = truncated_svd(target, self.dim, core=self.n_core_, backend=self.svd,
                                             n_iter=self.n_iter, n_oversamples=self.oversamples, seed=self.seed,
                                             workers=self.n_workers_, progress=self.progress,
                                             copy=self.memory is None, symmetric=symmetric, rank_one=rank_one)
                    info["backend"] = self.svd
                    self.factorisation_ = self._factorisation()
                else:
                    start, n_iter = warm
                    u, s, vt = warm_svd(target, self.dim, start if self.n_core_ is None else start[:self.n_core_],
                                        n_iter=n_iter, n_oversamples=self.oversamples, seed=self.seed,
                                        workers=self.n_workers_, progress=self.progress, copy=self.memory is None,
                                        core=self.n_core_, symmetric=symmetric, rank_one=rank_one)
                    info["warm start"] = f"{n_iter} iterations"
                    self.factorisation_ = self._factorisation(warm_n_iter=n_iter)
                if rank_one is not None and self.memory is not None:
                    # the products are done: under a memory budget the bounded matrix waits
                    # on disk too, and the fold-in reads back only the pages of the rows it
                    # folds in (the vectors come next)
                    target = self.nneg_ = park_on_disk(self.nneg_)
                if self.n_core_ is not None:
                    u, s, vt = fold_in(target, u, s, vt, symmetric=bool(symmetric), rank_one=rank_one)
                if weights is not None:
                    u, vt = unweighted_factors(u, vt, weights)
                info["dim"] = str(self.dim)
                info["core"] = "all words" if self.n_core_ is None else f"{self.n_core_:,} words"
                if self.n_empty_rows_:
                    shift = f"; a smaller shift than neg {self.neg:g} keeps them" if self.neg > 1 else ""
                    info["words without a vector (no PPMI entry among the factorised words)"] = (
                        f"{self.n_empty_rows_:,}{shift}")
        return Factors(u, s, vt, empty if self.n_empty_rows_ else None)

    def _weights(self, vocab: Vocabulary) -> np.ndarray:
        """The frequency weights of the bounded matrix (:func:`pmiembed.pmi.frequency_weights`)."""
        return frequency_weights(vocab.counts, self.freq_weight)

    def _factorisation(self, warm_n_iter: int | None = None) -> dict:
        """What the SVD that made the vectors ran (``factorisation_``, the manifest's
        ``factorisation``): the backend and its power iterations as resolved (None where
        the backend has none), the extra columns, the core, and whether it restarted from
        the previous vectors (an update: always the randomized backend)."""
        warm = warm_n_iter is not None
        backend = "randomized" if warm else self.svd
        iterative = backend != "arpack"
        n_iter = warm_n_iter if warm else (DEFAULTS["n_iter"] if self.n_iter is None else self.n_iter)
        return {"backend": backend, "n_iter": int(n_iter) if iterative else None,
                "oversamples": int(self.oversamples) if iterative else None,
                "core_words": None if self.__dict__.get("n_core_") is None else int(self.n_core_),
                "warm_start": warm}

    def _set_vectors(self, u: np.ndarray, s: np.ndarray, vt: np.ndarray, empty: np.ndarray | None = None) -> None:
        """The SVD of every word -> ``singular_values_``, ``vectors_`` (eigenvalue
        weighting, w+c, all-but-the-top; the words marked ``empty`` get the zero vector)
        and ``context_vectors_`` (also the last step of
        :func:`pmiembed.distributed.fit_distributed` and of :meth:`update`)."""
        self.singular_values_ = s
        self.vectors_ = self.vectors(Factors(u, s, vt, empty))
        del u
        # V S^eig in place on the SVD's own V^T (no second vocabulary-sized array)
        vt = np.asarray(vt, dtype=np.float32)
        vt *= (s ** self.eig).astype(np.float32)[:, None]
        self.context_vectors_ = vt.T
        self._wv = None  # built from vectors_ on first use

    #: fitted attributes a model folder does not keep (PMIEmbedding.load)
    _NOT_SAVED = ("context_vectors_", "compiled_kernels_", "peak_rss_bytes_", "pmi_marginals_", "nneg_")

    def __getattr__(self, name: str):
        """Fitted attributes a loaded model lacks: ``pmi_`` is read from the folder's
        ``ppmi.npz`` (checked against its manifest); the others, and any of them on an
        unfitted model, raise an AttributeError that says why."""
        prop = type(self).__dict__.get(name)
        if isinstance(prop, property):  # a property that raised AttributeError: its own message
            return prop.fget(self)
        if name.startswith("_") or not name.endswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        path = self.__dict__.get("path_")
        if name == "pmi_" and path is not None:
            if not (Path(path) / PPMI_FILE).is_file():
                raise AttributeError(f"pmi_: {path} was saved without its PPMI matrix ({PPMI_FILE}, "
                                     "save(save_pmi=False)); fit again to get it")
            matrix = self.ppmi().matrix
            self.__dict__["pmi_"] = matrix
            return matrix
        if path is not None and name in self._NOT_SAVED:
            raise AttributeError(f"{name}: not kept in a model folder (this model was loaded from {path}); fit "
                                 "again to get it")
        if self.__dict__.get("vectors_") is None and name in _FITTED:
            raise AttributeError(f"{name}: the model is not fitted; call fit(corpus) first")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def wv(self) -> "KeyedVectors":
        """The word vectors as a gensim ``KeyedVectors`` (sharing ``vectors_``), built on
        first use: importing gensim is slow, and ``fit`` and ``save`` (and so
        ``pmiembed train``) do not need it."""
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
        check_param("format", format, FORMAT_CONSTRAINT)
        return write_model(path, self.state(), force=force, save_counts=save_counts, save_pmi=save_pmi,
                           format=format)

    def state(self) -> ModelState:
        """The fitted (or loaded) model's :class:`~pmiembed.state.ModelState`, what
        :meth:`save` writes: the PPMI matrix with its marginals (of a loaded model: its
        folder's ``ppmi.npz``, None without one), the counts and token ids when kept."""
        if self.__dict__.get("vectors_") is None:
            raise ParameterError("the model is not fitted; call fit(corpus) first")
        d = self.__dict__
        pmi, marginals = d.get("pmi_"), d.get("pmi_marginals_")
        if marginals is None and d.get("path_") is not None and (Path(d["path_"]) / PPMI_FILE).is_file():
            ppmi = self.ppmi()
            pmi, marginals = ppmi.matrix, ppmi.marginals
        params = {k: v for k, v in self.get_params().items() if k != "tokenizer"}
        params["tokenizer"] = None if self.tokenizer is None else repr(self.tokenizer)
        # the threads that ran (workers=None: all cores, as a number; never more than numba's pool)
        params["workers"] = thread_count(self.n_workers_)
        words, vectors = self._words_and_vectors()
        return ModelState(
            params=params, workers_requested=self.workers, vocabulary=self.vocabulary_,
            counting=d.get("counting_params_"), words=words, vectors=vectors,
            singular_values=self.singular_values_, factorisation=d.get("factorisation_") or self._factorisation(),
            pmi=pmi if marginals is not None else None, pmi_marginals=marginals,
            cooccurrence=d.get("cooccurrence_"), rare_pairs=d.get("rare_pairs_"), tokens=d.get("tokens_"),
            corpus=d.get("corpus_stats_"), timings=d.get("timings_"), peak_rss_bytes=d.get("peak_rss_bytes_"))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "PMIEmbedding":
        """Load a folder written by :meth:`save`, checking format and checksums."""
        return stable_read(path, lambda: cls._load(Path(path)))

    @classmethod
    def _from_manifest(cls, meta: dict, path: Path, **overrides) -> "PMIEmbedding":
        """An unfitted model with the parameters a model folder's manifest records (the
        workers as given, not as resolved; no tokenizer), ``overrides`` set on top."""
        params = meta.get("params")
        if not isinstance(params, dict):
            raise VectorsError(f"{path / PARAMS_FILE}: no 'params' object; re-train or restore the folder")
        params = dict(params)
        if "workers_requested" in meta:
            params["workers"] = meta["workers_requested"]
        params["tokenizer"] = None
        params.setdefault("tokenize", "whitespace")  # models saved before tokenize= tokenised so
        params = {k: v for k, v in params.items() if k in cls._get_param_names()}
        # folders written before the bounded matrix was the default factorised PPMI
        params.setdefault("matrix", "ppmi")
        params.update(overrides)
        return cls(**params)

    @classmethod
    def _load(cls, path: Path) -> "PMIEmbedding":
        meta = read_manifest(path)
        if meta.get("format") != MODEL_FORMAT:
            raise VectorsError(f"{path}: holds vectors only ({meta.get('format')}), not a PMIEmbedding model; "
                               "load them with pmiembed.vectors.load_vectors")
        model = cls._from_manifest(meta, path)
        model.wv = _load_vectors_dir(path, checked=True)  # read_manifest above checked every file
        model.vocabulary_ = Vocabulary.load(path / VOCAB_FILE)
        model.singular_values_ = np.load(path / SINGULAR_VALUES_FILE)
        model.cooccurrence_ = None
        if (path / COUNTS_FILE).exists():
            model.cooccurrence_ = Cooccurrence.load(path / COUNTS_FILE)
        if (path / RARE_PAIRS_FILE).exists():
            model.rare_pairs_ = Cooccurrence.load(path / RARE_PAIRS_FILE)
        model.tokens_ = load_tokens(path / TOKENS_FILE) if (path / TOKENS_FILE).exists() else None
        model.counting_params_ = meta.get("counting")
        model.factorisation_ = meta.get("factorisation")
        model.path_ = path  # where contexts() and explain() find ppmi.npz
        model.corpus_stats_ = meta.get("corpus")
        model.timings_ = meta.get("timings")
        return model
