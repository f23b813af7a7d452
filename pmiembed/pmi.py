"""Stage 4: co-occurrence counts -> (shifted, positive) PMI matrix.

With weighted counts ``#(w, c)``, row sums ``#(w) = sum_c #(w, c)`` and column sums
``#(c) = sum_w #(w, c)``, context distribution smoothing (cds) with exponent ``alpha``
(Levy, Goldberg & Dagan 2015) replaces the context distribution by

    P_alpha(c) = #(c)^alpha / sum_c' #(c')^alpha

and the PMI of an observed pair is

    PMI(w, c) = log( P(w, c) / (P(w) * P_alpha(c)) )
              = log #(w, c) - log #(w) - alpha * log #(c) + log sum_c' #(c')^alpha

(``P(w, c) = #(w, c) / D`` and ``P(w) = #(w) / D``; the total ``D`` cancels).
Skip-gram with ``k`` negative samples implicitly factorises ``PMI - log k`` (Levy &
Goldberg 2014); the explicit counterparts are

    SPPMI_k(w, c) = max(PMI(w, c) - log k, 0)      (PPMI for k = 1).

With ``keep`` (per-word probabilities ``k_w``; "expected subsampling"), the counts
are first replaced by ``k_w k_c #(w, c)``: what word2vec's subsampling, which keeps
each token of ``w`` with probability ``k_w`` (positions kept), leaves of the pair
counts on average, without the sampling noise.  The marginals are those of the
weighted counts.

Everything is computed on the stored (observed) entries only: the result has at most
the nonzeros of the counts, never a dense vocabulary-squared array.  Unobserved pairs
stay 0, which for PPMI is exact and for plain PMI is the usual ``PMI_0`` convention.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._validation import Interval, Param, Real, StrOptions, validate_params
from .cooccur import weighted_row_sums
from .defaults import DEFAULTS
from .errors import ParameterError, PMIEmbedError, VectorsError
from .resources import limit_threads

#: the PPMI matrix and its marginals in a model folder (:func:`save_ppmi`)
PPMI_FILE = "ppmi.npz"

#: the matrices the SVD can factorise: "nneg" bounded negative PMI (unobserved pairs at
#: ``-bound``, :func:`nneg_matrix`), "ppmi" positive PMI
MATRICES = ("nneg", "ppmi")

#: what the PMI parameters accept (see :mod:`pmiembed._validation`)
CONSTRAINTS = {
    "cds": Param((Interval(Real, 0, 1, "right"),), "in (0, 1]: 1 means no smoothing, 0.75 is the usual value"),
    "neg": Param((Interval(Real, 1, None),), "a number >= 1 (the shift is log(neg); 1 means no shift)"),
    "matrix": [StrOptions(MATRICES)],
    "bound": Param((Interval(Real, 0, None),), "a number >= 0 (unobserved pairs get -bound; typical: 0.5-1)"),
    "freq_weight": Param((Interval(Real, 0, 1),), "in [0, 1] (each word weighted by its count ** freq_weight; "
                                                  "0 means no weight, typical: 0.03-0.08)"),
}


def check_pmi_params(cds, neg) -> None:
    validate_params(CONSTRAINTS, {"cds": cds, "neg": neg})


def pmi_matrix(counts: sp.spmatrix, *, cds: float = DEFAULTS["cds"], neg: float = DEFAULTS["neg"],
               positive: bool = True, dtype=np.float32, block_nnz: int = 1 << 22,
               keep: np.ndarray | None = None) -> sp.csr_matrix:
    """(Shifted, positive) PMI of a co-occurrence count matrix (see module docstring).

    Parameters
    ----------
    counts : sparse matrix of weighted counts ``#(w, c)`` (rows words, columns contexts);
        any non-negative dtype (the integer-scaled counts of a ``Cooccurrence`` work
        as they are: PMI does not change when all counts are multiplied by a constant).
    cds : context distribution smoothing exponent alpha in (0, 1]; 1 = none.
    neg : the shift ``k``: ``log k`` is subtracted (k = 1: no shift).
    positive : clip at 0 and drop the entries that become 0 (PPMI / SPPMI).
    dtype : dtype of the result.
    keep : per-word keep probabilities (rows and columns index the same words): PMI of
        the expected counts ``keep_w keep_c #(w, c)`` (module docstring).

    Memory: the input is not copied; marginals and the result are computed a block of
    rows (about ``block_nnz`` entries) at a time, so the peak is the input plus the
    output plus one block.

    Examples
    --------
    Two words seen 4 times together and each once with a third: ``D = 12``, the row
    sums are 5, 5 and 2, so the pair's PMI is ``log(4 * 12 / (5 * 5)) = 0.652`` and
    each word's with the third ``log(1 * 12 / (5 * 2)) = 0.182``; a shift of
    ``log 1.5 = 0.405`` leaves only the pair:

    >>> import numpy as np, scipy.sparse as sp
    >>> from pmiembed.pmi import pmi_matrix
    >>> counts = sp.csr_matrix(np.array([[0, 4, 1], [4, 0, 1], [1, 1, 0]]))
    >>> pmi_matrix(counts).toarray().round(3)
    array([[0.   , 0.652, 0.182],
           [0.652, 0.   , 0.182],
           [0.182, 0.182, 0.   ]], dtype=float32)
    >>> pmi_matrix(counts, neg=1.5).toarray().round(3)
    array([[0.   , 0.247, 0.   ],
           [0.247, 0.   , 0.   ],
           [0.   , 0.   , 0.   ]], dtype=float32)

    The counts of Lee's corpus (gensim's test data) with the default recipe:

    >>> from gensim.test.utils import datapath
    >>> from pmiembed.corpus import read_corpus
    >>> from pmiembed.vocab import Vocabulary
    >>> from pmiembed.cooccur import count_cooccurrences
    >>> tokens = read_corpus(datapath("lee_background.cor"))
    >>> vocab = Vocabulary.from_counts(tokens.types, tokens.counts, min_count=3)
    >>> cooc = count_cooccurrences(tokens, vocab)
    >>> ppmi = pmi_matrix(cooc.counts, keep=cooc.keep)
    >>> ppmi.shape, ppmi.nnz
    ((2859, 2859), 216588)
    >>> round(float(ppmi[vocab.index["police"], vocab.index["officers"]]), 2)
    4.07
    """
    check_pmi_params(cds, neg)
    m = counts if sp.isspmatrix_csr(counts) or isinstance(counts, sp.csr_array) else sp.csr_matrix(counts)
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()
    if m.nnz == 0 or not np.any(m.data):
        raise ParameterError("the co-occurrence matrix is empty; the corpus has no pairs inside a window")
    if m.data.min() < 0:
        raise ParameterError("co-occurrence counts must be non-negative")
    n_rows = m.shape[0]
    bounds = _row_blocks(m.indptr, block_nnz)
    if keep is not None:
        keep = _check_keep(keep, m.shape)
        row_sum = weighted_row_sums(m.indptr, m.indices, m.data, keep)
        # column sums as the row sums of the transpose: the same bits as the row sums
        # when the counts are symmetric, so their PMI stays exactly symmetric
        t = m.T.tocsr()
        t.sort_indices()
        col_sum = weighted_row_sums(t.indptr, t.indices, t.data, keep)
        del t
    else:
        # marginals block by block: no nnz-sized float64 copy of integer counts
        row_sum = np.zeros(n_rows, dtype=np.float64)
        col_sum = np.zeros(m.shape[1], dtype=np.float64)
        for r0, r1 in zip(bounds[:-1], bounds[1:]):
            a, b = m.indptr[r0], m.indptr[r1]
            data = m.data[a:b].astype(np.float64)
            nonempty = np.flatnonzero(np.diff(m.indptr[r0:r1 + 1]))
            if len(nonempty):
                row_sum[r0 + nonempty] = np.add.reduceat(data, m.indptr[r0 + nonempty] - a)
            col_sum += np.bincount(m.indices[a:b], weights=data, minlength=m.shape[1])
    out = _PMIWriter(m.indptr, row_sum, col_sum, cds, neg, positive, dtype, keep)
    for r0, r1 in zip(bounds[:-1], bounds[1:]):
        a, b = m.indptr[r0], m.indptr[r1]
        out.add(r0, r1, m.indices[a:b], m.data[a:b])
    result = out.matrix(m.shape)
    result.has_sorted_indices = m.has_sorted_indices
    return result


def pmi_from_rows(rows, *, cds: float = DEFAULTS["cds"], neg: float = DEFAULTS["neg"], positive: bool = True,
                  dtype=np.float32, block_nnz: int = 1 << 22, keep: np.ndarray | None = None) -> sp.csr_matrix:
    """:func:`pmi_matrix` of symmetric counts that arrive as finished row blocks
    (:class:`pmiembed.cooccur.RowBlocks`, whose row sums were kept while counting; for
    symmetric counts the column sums are the same numbers), without ever holding the
    whole count matrix: the peak is the result plus one block of counts.  Gives the same
    bits as ``pmi_matrix(rows.total())``.  With ``keep``, the rows must have been
    counted with the same weights (``RowBlocks(keep=...)`` sums the weighted rows as
    they arrive)."""
    check_pmi_params(cds, neg)
    indptr, row_sum, keep = _rows_marginals(rows, keep, "pmi_from_rows")
    out = _PMIWriter(indptr, row_sum, row_sum, cds, neg, positive, dtype, keep)
    _feed_rows(rows, indptr, (out,), block_nnz)
    result = out.matrix((rows.n_rows, rows.n_rows))
    result.has_sorted_indices = True
    return result


def _rows_marginals(rows, keep, caller: str):
    """``(indptr, row_sum, keep)`` of finished row blocks, checked: not empty, and
    counted with the same ``keep`` weights when given (then the weighted row sums)."""
    indptr = rows.indptr()
    if indptr[-1] == 0 or not np.any(rows.row_sum):
        raise ParameterError("the co-occurrence matrix is empty; the corpus has no pairs inside a window")
    row_sum = rows.row_sum
    if keep is not None:
        keep = _check_keep(keep, (rows.n_rows, rows.n_rows))
        if rows.keep is None or not np.array_equal(rows.keep, keep):
            raise ValueError(f"{caller}(keep=...) needs rows counted with the same keep weights")
        row_sum = rows.weighted_row_sum
    return indptr, row_sum, keep


def _feed_rows(rows, indptr: np.ndarray, writers, block_nnz: int) -> None:
    """Every row part of ``rows`` (spilled parts read once), cut into blocks of about
    ``block_nnz`` entries, given to each writer in turn."""
    for start, indices, data in rows.parts():
        stop = start + len(indices)
        r0 = int(np.searchsorted(indptr, start, side="right")) - 1
        r1 = int(np.searchsorted(indptr, stop, side="left"))
        local = np.clip(indptr[r0:r1 + 1], start, stop) - start
        bounds = _row_blocks(local, block_nnz)
        for b0, b1 in zip(bounds[:-1], bounds[1:]):
            a, b = local[b0], local[b1]
            for out in writers:
                out.add(r0 + b0, r0 + b1, indices[a:b], data[a:b])


def pmi_row_block(block: sp.csr_matrix, r0: int, n_words: int, marginal: np.ndarray, cds: float, neg: float,
                  keep) -> sp.csr_matrix:
    """The (S)PPMI of one row block of symmetric counts: rows ``r0 ..`` of the counts
    (``block``, all columns) with the whole matrix's marginals (``marginal``: its row
    sums, weighted by ``keep`` when given, which are also its column sums), by the writer
    :func:`pmi_from_rows` uses, one thread (each row is computed alone, so the rows are
    those of the whole matrix, bit for bit).  What the cluster route runs per row block."""
    return _row_block(block, r0, n_words, lambda indptr: _PMIWriter(indptr, marginal, marginal, cds, neg, True,
                                                                    np.float32, keep))


def nneg_row_block(block: sp.csr_matrix, r0: int, n_words: int, marginal: np.ndarray, cds: float, neg: float,
                   keep, bound: float, weights: np.ndarray) -> sp.csr_matrix:
    """:func:`pmi_row_block` for the observed part of the bounded negative PMI
    (:func:`nneg_matrix`), by the single-process writer."""
    return _row_block(block, r0, n_words, lambda indptr: _NNEGWriter(indptr, marginal, marginal, cds, neg,
                                                                     np.float32, keep, bound, weights))


def _row_block(block: sp.csr_matrix, r0: int, n_words: int, writer) -> sp.csr_matrix:
    """Rows ``r0 ..`` of the matrix ``writer(indptr)`` makes of one row block of counts
    (the whole matrix's indptr with only this block's rows filled), one thread."""
    r1 = r0 + block.shape[0]
    indptr = np.zeros(n_words + 1, dtype=np.int64)
    indptr[r0 + 1:r1 + 1] = block.indptr[1:]
    indptr[r1 + 1:] = block.indptr[-1]
    out = writer(indptr)
    with limit_threads(1):
        if block.nnz:
            out.add(r0, r1, block.indices, block.data)
    m = out.matrix((n_words, n_words))[r0:r1]
    m.has_sorted_indices = True
    return sp.csr_matrix(m)


def check_not_empty(result: sp.csr_matrix, neg: float) -> None:
    """A shift above every PMI of the corpus leaves nothing to factorise: all vectors
    would be zero."""
    if result.nnz == 0:
        raise ParameterError(f"`neg={neg:g}`: the shifted PPMI matrix is empty, no word pair has a PMI above "
                             f"log(neg) = {np.log(neg):.2f}; lower `neg` (1 = no shift, skip-gram uses 5-15)")


def empty_rows(matrix: sp.csr_matrix, n_cols: int | None = None, block_nnz: int = 1 << 22) -> np.ndarray:
    """Boolean mask of the rows of a CSR ``matrix`` without a stored nonzero in their
    first ``n_cols`` columns (all columns when None): words whose (S)PPMI row is empty
    have nothing to be placed by and get no vector.  Reads the column indices in place,
    about ``block_nnz`` at a time (frequency-sorted rows put most entries in the first
    rows, so blocks of a fixed number of rows would copy most of the matrix)."""
    a = matrix if sp.isspmatrix_csr(matrix) or isinstance(matrix, sp.csr_array) else sp.csr_matrix(matrix)
    if n_cols is None or n_cols >= a.shape[1]:
        return np.diff(a.indptr) == 0
    counts = np.zeros(a.shape[0], dtype=np.int64)
    bounds = _row_blocks(a.indptr, block_nnz)
    for r0, r1 in zip(bounds[:-1], bounds[1:]):
        start, stop = int(a.indptr[r0]), int(a.indptr[r1])
        c = np.zeros(stop - start + 1, dtype=np.int64)
        np.cumsum(a.indices[start:stop] < n_cols, out=c[1:])
        local = a.indptr[r0:r1 + 1] - start
        counts[r0:r1] = c[local[1:]] - c[local[:-1]]
    return counts == 0


class _PMIWriter:
    """Computes the (S)PPMI of consecutive row blocks of counts and packs the kept
    entries into arrays sized for all entries (only the pages written become
    resident)."""

    def __init__(self, indptr, row_sum, col_sum, cds, neg, positive, dtype, keep=None):
        with np.errstate(divide="ignore"):
            self.log_row = np.log(row_sum)
            self.log_col = cds * np.log(col_sum)
            if keep is not None:
                # log(k_w k_c #(w,c)) - log #'(w) - alpha log #'(c): the weights of the
                # pair go into the marginal terms, the kernels read the plain counts
                log_keep = np.log(keep)
                self.log_row = self.log_row - log_keep
                self.log_col = self.log_col - log_keep
        nz_col = col_sum > 0
        self.constant = np.log(np.sum(col_sum[nz_col] ** cds)) - np.log(neg)
        self.indptr = indptr
        self.positive = positive
        nnz = int(indptr[-1])
        n_rows = len(indptr) - 1
        self.dtype = np.dtype(dtype)
        self.index_dtype = np.dtype(np.int32 if nnz < 2**31 - 1 else np.int64)
        self.data = np.empty(nnz, dtype=self.dtype)
        self.indices = np.empty(nnz, dtype=self.index_dtype)
        self.out_indptr = np.zeros(n_rows + 1, dtype=self.index_dtype)
        self.pos = 0
        self.done = 0  # rows finished

    def add(self, r0: int, r1: int, cols: np.ndarray, counts: np.ndarray) -> None:
        """Rows ``r0 .. r1-1`` (they follow the rows added before) with their entries:
        two passes of a parallel kernel (count the kept entries of every row, then
        write them, :meth:`_fill`), each row computed by one thread, so the bits do not
        depend on the number of threads."""
        from . import _kernels

        pos = self.pos
        self.out_indptr[self.done + 1:r0 + 1] = pos  # rows without entries in between
        local = self.indptr[r0:r1 + 1] - self.indptr[r0]
        kept = np.empty(r1 - r0, dtype=np.int64)
        _kernels.pmi_rows(local, r0, cols, counts, self.log_row, self.log_col, self.constant, self.positive, kept)
        ends = pos + np.cumsum(kept)
        self._fill(local, r0, cols, counts, ends - kept, int(ends[-1]) if len(ends) else pos)
        self.out_indptr[r0 + 1:r1 + 1] = ends
        self.pos = int(ends[-1]) if len(ends) else pos
        self.done = r1

    def _fill(self, local, r0: int, cols, counts, starts: np.ndarray, end: int) -> None:
        """Write the kept entries of the rows at ``starts`` (entries ``self.pos .. end``)."""
        from . import _kernels

        _kernels.pmi_fill(local, r0, cols, counts, self.log_row, self.log_col, self.constant, self.positive,
                          starts, self.indices, self.data)

    def matrix(self, shape) -> sp.csr_matrix:
        self.out_indptr[self.done + 1:] = self.pos
        return sp.csr_matrix((self.data[:self.pos], self.indices[:self.pos], self.out_indptr), shape=shape, copy=False)


def _check_keep(keep, shape) -> np.ndarray:
    keep = np.asarray(keep, dtype=np.float64)
    if shape[0] != shape[1] or keep.shape != (shape[0],):
        raise ParameterError(f"keep must hold one probability per word ({shape[0]}) of a square count matrix, "
                             f"got {keep.shape} for {shape}")
    if not np.all((keep > 0) & (keep <= 1)):
        raise ParameterError("keep probabilities must be in (0, 1]")
    return keep


def _row_blocks(indptr: np.ndarray, block_nnz: int) -> np.ndarray:
    """Row bounds ``[0, ..., n_rows]`` of consecutive blocks of about ``block_nnz``
    entries (a block holds at least one row): the first rows of a frequency-sorted
    vocabulary hold most of the entries, so blocks of a fixed number of rows would not
    bound the temporaries."""
    n_rows = len(indptr) - 1
    targets = np.arange(block_nnz, int(indptr[-1]), block_nnz)
    return np.unique(np.concatenate(([0], np.searchsorted(indptr, targets, side="left"), [n_rows])))


# ------------------------------------------------------------ the marginals


@dataclass
class PMIMarginals:
    """What turns a stored (S)PPMI entry back into its co-occurrence count
    (:mod:`pmiembed.explain`): ``log_row[w] = log #'(w) - log k_w``, ``log_col[c] =
    alpha log #'(c) - log k_c`` (``k`` the expected-subsampling keep probabilities, 1
    without), the constant ``C = log sum_c #'(c)^alpha - log neg`` and the integer
    ``scale`` of the counts, so that ``#(w, c) = exp(SPPMI(w, c) + log_row[w] +
    log_col[c] - C) / scale``."""

    log_row: np.ndarray
    log_col: np.ndarray
    constant: float
    scale: float
    neg: float

    @classmethod
    def from_sums(cls, row_sum, col_sum, keep, scale, cds, neg) -> "PMIMarginals":
        row_sum = np.asarray(row_sum, dtype=np.float64)
        col_sum = np.asarray(col_sum, dtype=np.float64)
        with np.errstate(divide="ignore"):
            log_row = np.log(row_sum)
            log_col = cds * np.log(col_sum)
        if keep is not None:
            log_keep = np.log(np.asarray(keep, dtype=np.float64))
            log_row = log_row - log_keep
            log_col = log_col - log_keep
        constant = float(np.log(np.sum(col_sum[col_sum > 0] ** cds)) - np.log(neg))
        return cls(log_row, log_col, constant, float(scale), float(neg))

    @classmethod
    def from_rows(cls, rows, scale, cds, neg) -> "PMIMarginals":
        """From :class:`pmiembed.cooccur.RowBlocks` (symmetric counts: the column sums
        are the row sums), as :func:`pmi_from_rows` uses them."""
        row_sum = rows.row_sum if rows.keep is None else rows.weighted_row_sum
        return cls.from_sums(row_sum, row_sum, rows.keep, scale, cds, neg)

    @classmethod
    def from_counts(cls, cooc, cds, neg) -> "PMIMarginals":
        """From a :class:`pmiembed.cooccur.Cooccurrence`, as :func:`pmi_matrix` uses it."""
        m = cooc.counts.tocsr()
        keep = cooc.keep
        if keep is not None:
            row_sum = weighted_row_sums(m.indptr, m.indices, m.data, keep)
            t = m.T.tocsr()
            col_sum = weighted_row_sums(t.indptr, t.indices, t.data, keep)
        else:
            row_sum = np.asarray(m.sum(axis=1, dtype=np.float64)).ravel()
            col_sum = np.asarray(m.sum(axis=0, dtype=np.float64)).ravel()
        return cls.from_sums(row_sum, col_sum, keep, cooc.scale, cds, neg)

    def counts(self, row: int, cols: np.ndarray, sppmi: np.ndarray) -> np.ndarray:
        """The weighted co-occurrence counts ``#(row, c)`` of stored entries."""
        log = np.asarray(sppmi, dtype=np.float64) + self.log_row[row] + self.log_col[cols] - self.constant
        return np.exp(log) / self.scale


def save_ppmi(path: str | os.PathLike, pmi: sp.csr_matrix, marginals: PMIMarginals) -> None:
    """Write the PPMI matrix and its marginals to ``path`` (an uncompressed ``.npz``:
    compressing float32 PPMI values saves little and costs seconds)."""
    m = pmi.tocsr()
    with open(path, "wb") as f:  # a file object: numpy would append '.npz' to a name
        np.savez(f, data=m.data, indices=m.indices, indptr=m.indptr, shape=np.asarray(m.shape, dtype=np.int64),
                 log_row=marginals.log_row, log_col=marginals.log_col,
                 constants=np.asarray([marginals.constant, marginals.scale, marginals.neg], dtype=np.float64))


def load_ppmi(path: str | os.PathLike) -> tuple[sp.csr_matrix, PMIMarginals]:
    """Read a file written by :func:`save_ppmi`: the matrix and its marginals."""
    try:
        with np.load(path, allow_pickle=False) as z:
            shape = tuple(int(x) for x in z["shape"])
            matrix = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=shape)
            constant, scale, neg = (float(x) for x in z["constants"])
            marginals = PMIMarginals(z["log_row"], z["log_col"], constant, scale, neg)
    except (OSError, ValueError, KeyError, EOFError):
        raise VectorsError(f"{path}: damaged (not a PPMI archive); re-train or restore the folder") from None
    return matrix, marginals


# ------------------------------------------------------------ bounded negative PMI


def check_matrix_params(matrix, bound, freq_weight) -> None:
    validate_params(CONSTRAINTS, {"matrix": matrix, "bound": bound, "freq_weight": freq_weight})


def frequency_weights(word_counts: np.ndarray, freq_weight: float) -> np.ndarray:
    """``#w ** freq_weight`` for every word, scaled to geometric mean 1 (float64): the
    diagonal ``D`` of :func:`nneg_matrix` (all ones for ``freq_weight=0``)."""
    counts = np.asarray(word_counts, dtype=np.float64)
    if freq_weight == 0 or len(counts) == 0:
        return np.ones(len(counts), dtype=np.float64)
    log_d = freq_weight * np.log(np.maximum(counts, 1.0))
    return np.exp(log_d - np.mean(log_d))


class _NNEGWriter(_PMIWriter):
    """:class:`_PMIWriter` for the bounded negative PMI: every observed pair is kept
    (:func:`pmiembed._nneg_kernels.nneg_fill`)."""

    def __init__(self, indptr, row_sum, col_sum, cds, neg, dtype, keep, bound, weights):
        super().__init__(indptr, row_sum, col_sum, cds, neg, False, dtype, keep)
        n = len(indptr) - 1
        self.log_keep = np.zeros(n, dtype=np.float64) if keep is None else np.log(keep)
        self.log_total = float(np.log(np.sum(row_sum)))
        self.bound = float(bound)
        self.weights = np.asarray(weights, dtype=np.float64)

    def _fill(self, local, r0: int, cols, counts, starts: np.ndarray, end: int) -> None:
        from ._nneg_kernels import nneg_fill

        nneg_fill(local, r0, cols, counts, self.log_row, self.log_col, self.constant, self.log_keep, self.log_total,
                  self.bound, self.weights, starts, self.indices, self.data)


class _ParkedPMIWriter(_PMIWriter):
    """:class:`_PMIWriter` (the same bits) whose kept entries are appended to two files
    in a temporary folder as each block is made, instead of arrays sized for all
    entries; :meth:`matrix` maps the files back read-only: the finished matrix is the
    one :func:`park_on_disk` would give, and it never sits in memory whole (one block
    of entries at a time does).  ``folder`` must exist and is removed by
    :meth:`matrix` (or :meth:`close`)."""

    def __init__(self, indptr, row_sum, col_sum, cds, neg, dtype, keep, folder: str):
        super().__init__(indptr, row_sum, col_sum, cds, neg, True, dtype, keep)
        self.data = self.indices = None
        self.folder = folder
        self.files = {}
        try:
            for name in ("indices", "data"):
                self.files[name] = open(os.path.join(folder, name), "wb")
        except OSError as exc:
            self.close()
            raise _park_error(folder, exc) from None

    def _fill(self, local, r0: int, cols, counts, starts: np.ndarray, end: int) -> None:
        from . import _kernels

        indices = np.empty(end - self.pos, dtype=self.index_dtype)
        data = np.empty(end - self.pos, dtype=self.dtype)
        _kernels.pmi_fill(local, r0, cols, counts, self.log_row, self.log_col, self.constant, self.positive,
                          starts - self.pos, indices, data)
        try:
            indices.tofile(self.files["indices"])
            data.tofile(self.files["data"])
        except OSError as exc:
            self.close()
            raise _park_error(self.folder, exc) from None

    def close(self) -> None:
        """Close the files and remove the folder (mappings of it stay valid where the
        system allows it, else until the process exits)."""
        import shutil

        for f in self.files.values():
            f.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def matrix(self, shape) -> sp.csr_matrix:
        self.out_indptr[self.done + 1:] = self.pos
        try:
            for f in self.files.values():
                f.flush()
            arrays = {}
            for name, dtype in (("indices", self.index_dtype), ("data", self.dtype)):
                arrays[name] = (np.memmap(os.path.join(self.folder, name), dtype=dtype, mode="r", shape=(self.pos,))
                                if self.pos else np.empty(0, dtype=dtype))
        except OSError as exc:
            raise _park_error(self.folder, exc) from None
        finally:
            self.close()
        return sp.csr_matrix((arrays["data"], arrays["indices"], self.out_indptr), shape=shape, copy=False)


def _park_error(folder, exc: OSError) -> PMIEmbedError:
    return PMIEmbedError(f"{folder}: cannot write the PPMI matrix to disk ({exc.strerror or exc}); free disk space, "
                         "set TMPDIR to a larger disk, or leave out `memory`")


def nneg_matrix(counts: sp.spmatrix, weights: np.ndarray, *, bound: float = DEFAULTS["bound"],
                cds: float = DEFAULTS["cds"], neg: float = DEFAULTS["neg"], dtype=np.float32,
                block_nnz: int = 1 << 22, keep: np.ndarray | None = None) -> sp.csr_matrix:
    """The observed part ``S`` of the bounded negative PMI matrix (NNEGPMI, Salle &
    Villavicencio 2019) with frequency weights (Srebro & Jaakkola 2003):

        M = D (N + bound) D - bound d d^T,   D = diag(d),  d = ``weights``

    where ``N(w, c)`` is the PMI of an observed pair (with ``cds``, ``neg`` and ``keep``
    as :func:`pmi_matrix`), divided by ``-log p(w, c)`` where it is negative (so in
    [-1, 0)), and 0 for an unobserved one: unobserved pairs are at ``-bound`` before
    the weights.  Returns ``S = D (N + bound) D`` on the observed pairs (the counts'
    sparsity; the same rows, columns and order), so that ``M = S - bound d d^T`` is
    "sparse minus rank one" and never dense (:class:`pmiembed.svd.RankOne`).  ``weights``:
    :func:`frequency_weights` of the words' counts.  Symmetric counts with ``cds=1``
    give an exactly symmetric ``S``.

    >>> import numpy as np, scipy.sparse as sp
    >>> counts = sp.csr_matrix(np.array([[0, 4, 1], [4, 0, 1], [1, 1, 0]]))
    >>> s = nneg_matrix(counts, np.ones(3), bound=0.75)
    >>> (s.toarray() - 0.75).round(3)
    array([[-0.75 ,  0.652,  0.182],
           [ 0.652, -0.75 ,  0.182],
           [ 0.182,  0.182, -0.75 ]], dtype=float32)
    """
    check_pmi_params(cds, neg)
    m = counts if sp.isspmatrix_csr(counts) or isinstance(counts, sp.csr_array) else sp.csr_matrix(counts)
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()
    if m.nnz == 0 or not np.any(m.data):
        raise ParameterError("the co-occurrence matrix is empty; the corpus has no pairs inside a window")
    if keep is not None:
        keep = _check_keep(keep, m.shape)
        row_sum = weighted_row_sums(m.indptr, m.indices, m.data, keep)
        t = m.T.tocsr()
        t.sort_indices()
        col_sum = weighted_row_sums(t.indptr, t.indices, t.data, keep)
        del t
    else:
        row_sum = np.asarray(m.sum(axis=1), dtype=np.float64).ravel()
        col_sum = np.asarray(m.sum(axis=0), dtype=np.float64).ravel()
        if np.array_equal(row_sum, col_sum):
            col_sum = row_sum
    out = _NNEGWriter(m.indptr, row_sum, col_sum, cds, neg, dtype, keep, bound, weights)
    bounds = _row_blocks(m.indptr, block_nnz)
    for r0, r1 in zip(bounds[:-1], bounds[1:]):
        a, b = m.indptr[r0], m.indptr[r1]
        out.add(r0, r1, m.indices[a:b], m.data[a:b])
    result = out.matrix(m.shape)
    result.has_sorted_indices = m.has_sorted_indices
    return result


def pmi_and_nneg_from_rows(rows, weights: np.ndarray, *, bound: float = DEFAULTS["bound"],
                           cds: float = DEFAULTS["cds"], neg: float = DEFAULTS["neg"], dtype=np.float32,
                           block_nnz: int = 1 << 22, keep: np.ndarray | None = None, park: bool = False):
    """:func:`pmi_from_rows` and :func:`nneg_matrix` of the same row blocks, in the one
    pass the blocks allow (spilled blocks are read once): ``(ppmi, nneg)``, the same
    bits as each function alone.  ``park``: the PPMI is written to a temporary file as
    its blocks are made and returned mapped read-only (what :func:`park_on_disk` gives),
    so that it is never held in memory beside the bounded matrix (a model with a
    ``memory`` budget: the SVD reads only the bounded one)."""
    check_pmi_params(cds, neg)
    indptr, row_sum, keep = _rows_marginals(rows, keep, "pmi_and_nneg_from_rows")
    if park:
        import tempfile

        try:
            folder = tempfile.mkdtemp(prefix="pmiembed-ppmi-")
        except OSError as exc:
            raise _park_error(tempfile.gettempdir(), exc) from None
        ppmi = _ParkedPMIWriter(indptr, row_sum, row_sum, cds, neg, dtype, keep, folder)
    else:
        ppmi = _PMIWriter(indptr, row_sum, row_sum, cds, neg, True, dtype, keep)
    writers = (ppmi, _NNEGWriter(indptr, row_sum, row_sum, cds, neg, dtype, keep, bound, weights))
    try:
        _feed_rows(rows, indptr, writers, block_nnz)
    except BaseException:
        if park:
            ppmi.close()
        raise
    result = []
    for out in writers:
        m = out.matrix((rows.n_rows, rows.n_rows))
        m.has_sorted_indices = True
        result.append(m)
    return tuple(result)


def park_on_disk(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The same CSR matrix with its arrays written to a temporary folder and mapped back
    read-only (``np.load(mmap_mode="r")``): its pages leave the process's memory until
    they are read again.  The folder is removed at once (the mappings stay valid where
    the system allows it, else when the process exits)."""
    import shutil
    import tempfile

    if not isinstance(matrix, (sp.csr_matrix, sp.csr_array)) or not matrix.data.flags.writeable:
        return matrix
    folder = tempfile.mkdtemp(prefix="pmiembed-ppmi-")
    try:
        arrays = []
        for name in ("data", "indices", "indptr"):
            path = f"{folder}/{name}.npy"
            np.save(path, getattr(matrix, name))
            arrays.append(np.load(path, mmap_mode="r"))
        parked = sp.csr_matrix(tuple(arrays), shape=matrix.shape, copy=False)
        parked.has_sorted_indices = matrix.has_sorted_indices
        return parked
    except OSError:
        return matrix  # no room on disk: keep it in memory
    finally:
        shutil.rmtree(folder, ignore_errors=True)
