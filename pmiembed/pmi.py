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

Everything is computed on the stored (observed) entries only: the result has at most
the nonzeros of the counts, never a dense vocabulary-squared array.  Unobserved pairs
stay 0, which for PPMI is exact and for plain PMI is the usual ``PMI_0`` convention.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .errors import ParameterError


def check_pmi_params(cds, neg) -> None:
    if isinstance(cds, bool) or not isinstance(cds, (int, float)) or not (0 < cds <= 1):
        raise ParameterError(f"cds={cds!r} must be in (0, 1]: 1 means no smoothing, 0.75 is the usual value")
    if isinstance(neg, bool) or not isinstance(neg, (int, float)) or not (neg >= 1) or not np.isfinite(neg):
        raise ParameterError(f"neg={neg!r} must be a number >= 1 (the shift is log(neg); 1 means no shift)")


def pmi_matrix(counts: sp.spmatrix, *, cds: float = 0.75, neg: float = 1.0, positive: bool = True,
               dtype=np.float32, block_nnz: int = 1 << 22) -> sp.csr_matrix:
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

    Memory: the input is not copied; marginals and the result are computed a block of
    rows (about ``block_nnz`` entries) at a time, so the peak is the input plus the
    output plus one block.
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
    with np.errstate(divide="ignore"):
        log_row = np.log(row_sum)
        log_col = cds * np.log(col_sum)
    nz_col = col_sum > 0
    constant = np.log(np.sum(col_sum[nz_col] ** cds)) - np.log(neg)
    # entries are compacted block by block into arrays sized for all of them; only the
    # pages written (the kept entries) become resident
    index_dtype = np.int32 if m.nnz < 2**31 - 1 else np.int64
    out_data = np.empty(m.nnz, dtype=dtype)
    out_indices = np.empty(m.nnz, dtype=index_dtype)
    out_indptr = np.zeros(n_rows + 1, dtype=index_dtype)
    pos = 0
    for r0, r1 in zip(bounds[:-1], bounds[1:]):
        a, b = m.indptr[r0], m.indptr[r1]
        if a == b:
            out_indptr[r0 + 1:r1 + 1] = pos
            continue
        rows = np.repeat(np.arange(r0, r1), np.diff(m.indptr[r0:r1 + 1]))
        cols = m.indices[a:b]
        with np.errstate(divide="ignore"):
            block = np.log(m.data[a:b].astype(np.float64))
        # log #(w) + alpha log #(c) added first: with alpha = 1 the value of (w, c)
        # and (c, w) is computed identically, so symmetric counts give a symmetric matrix
        block -= log_row[rows] + log_col[cols]
        block += constant
        keep = block > 0 if positive else m.data[a:b] != 0
        kept = np.concatenate(([0], np.cumsum(keep)))
        n_kept = int(kept[-1])
        out_data[pos:pos + n_kept] = block[keep]
        out_indices[pos:pos + n_kept] = cols[keep]
        out_indptr[r0 + 1:r1 + 1] = pos + kept[m.indptr[r0 + 1:r1 + 1] - a]
        pos += n_kept
    result = sp.csr_matrix((out_data[:pos], out_indices[:pos], out_indptr), shape=m.shape, copy=False)
    result.has_sorted_indices = m.has_sorted_indices
    return result


def _row_blocks(indptr: np.ndarray, block_nnz: int) -> np.ndarray:
    """Row bounds ``[0, ..., n_rows]`` of consecutive blocks of about ``block_nnz``
    entries (a block holds at least one row): the first rows of a frequency-sorted
    vocabulary hold most of the entries, so blocks of a fixed number of rows would not
    bound the temporaries."""
    n_rows = len(indptr) - 1
    targets = np.arange(block_nnz, int(indptr[-1]), block_nnz)
    bounds = np.unique(np.concatenate(([0], np.searchsorted(indptr, targets, side="left"), [n_rows])))
    return bounds[(bounds >= 0) & (bounds <= n_rows)]
