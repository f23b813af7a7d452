"""Compiled loop of the bounded negative PMI matrix (:func:`pmiembed.pmi.nneg_matrix`)."""

from __future__ import annotations

import numpy as np

from ._jit import kernel, prange


@kernel(parallel=True)
def nneg_fill(indptr, r0, cols, counts, log_row, log_col, constant, log_keep, log_total, bound, weight,
              out_start, out_indices, out_data):
    """Write row ``r0 + i``'s entries (every nonzero count, in the order they come) to
    ``out_*[out_start[i]:]``: ``(v + bound) * weight[w] * weight[c]`` with ``v`` the PMI
    of the pair, divided by ``-log p(w, c)`` where it is negative (so in [-1, 0)),
    ``p(w, c) = keep_w keep_c #(w, c) / log_total`` the pair's share of the (expected)
    counts.  ``log_row``/``log_col``/``constant`` are those of the PMI writer
    (:class:`pmiembed.pmi._PMIWriter`).  Each row is computed by one thread in a fixed
    order: the same bits for any number of threads, and (w, c) and (c, w) alike."""
    n_rows = indptr.shape[0] - 1
    n_groups = 64
    for g in prange(n_groups):
        for i in range(g, n_rows, n_groups):
            w = r0 + i
            lr = log_row[w]
            o = out_start[i]
            for j in range(indptr[i], indptr[i + 1]):
                if counts[j] == 0:
                    continue
                c = cols[j]
                log_count = np.log(np.float64(counts[j]))
                v = log_count - (lr + log_col[c]) + constant
                if v < 0:
                    v = v / (log_total - (log_count + (log_keep[w] + log_keep[c])))
                out_indices[o] = c
                out_data[o] = (v + bound) * (weight[w] * weight[c])
                o += 1


@kernel(parallel=True)
def rank_one_project(r, x, out):
    """``out[j] = sum_i r[i] x[i, j]`` in float64 (each column summed in order by one
    thread: the same bits for any number of threads), without a float64 copy of ``x``."""
    n, k = x.shape
    n_groups = 64
    acc = np.zeros((n_groups, k), dtype=np.float64)
    chunk = (n + n_groups - 1) // n_groups
    for g in prange(n_groups):
        for i in range(g * chunk, min(n, (g + 1) * chunk)):
            ri = r[i]
            for j in range(k):
                acc[g, j] += ri * x[i, j]
    for j in range(k):
        total = 0.0
        for g in range(n_groups):
            total += acc[g, j]
        out[j] = total


@kernel(parallel=True)
def rank_one_add(out, scale, r, proj):
    """``out[i, j] += scale r[i] proj[j]`` in place, row by row."""
    n, k = out.shape
    for i in prange(n):
        ri = scale * r[i]
        for j in range(k):
            out[i, j] += ri * proj[j]
