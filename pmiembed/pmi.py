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
               dtype=np.float32) -> sp.csr_matrix:
    """(Shifted, positive) PMI of a co-occurrence count matrix (see module docstring).

    Parameters
    ----------
    counts : sparse matrix of weighted counts ``#(w, c)`` (rows words, columns contexts).
    cds : context distribution smoothing exponent alpha in (0, 1]; 1 = none.
    neg : the shift ``k``: ``log k`` is subtracted (k = 1: no shift).
    positive : clip at 0 and drop the entries that become 0 (PPMI / SPPMI).
    dtype : dtype of the result.
    """
    check_pmi_params(cds, neg)
    m = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    m.sum_duplicates()
    m.eliminate_zeros()
    if m.nnz == 0:
        raise ParameterError("the co-occurrence matrix is empty; the corpus has no pairs inside a window")
    if m.data.min() < 0:
        raise ParameterError("co-occurrence counts must be non-negative")
    row_sum = np.asarray(m.sum(axis=1)).ravel()
    col_sum = np.asarray(m.sum(axis=0)).ravel()
    with np.errstate(divide="ignore"):
        log_row = np.log(row_sum)
        log_col = cds * np.log(col_sum)
    nz_col = col_sum > 0
    log_norm = np.log(np.sum(col_sum[nz_col] ** cds))
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int32), np.diff(m.indptr))
    data = np.log(m.data)
    data -= log_row[rows]
    data -= log_col[m.indices]
    data += log_norm - np.log(neg)
    m.data = data
    if positive:
        np.maximum(m.data, 0.0, out=m.data)
        m.eliminate_zeros()
    return m.astype(dtype)
