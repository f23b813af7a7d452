"""Compiled loop of :func:`pmiembed.cooccur.reindexed_sum` (updates): old counts re-indexed, plus new counts."""

from __future__ import annotations

from ._jit import kernel, numba, prange
from ._kernels import _add_context, _write_row


@kernel(parallel=True)
def merge_rows(row_old, col_map, o_ptr, o_idx, o_dat, row_x, xcol_map, x_ptr, x_idx, x_dat, n_ptr, n_idx, n_dat,
               offsets, scratch_acc, scratch_touched, out_idx, out_dat, out_nnz):
    """Row ``j`` of the result is old row ``row_old[j]`` (none when -1) with its columns
    renamed by ``col_map`` (dropped when -1), plus row ``row_x[j]`` of a second old
    matrix with columns renamed by ``xcol_map``, plus new row ``j``, written with columns
    ascending to ``out_*[offsets[j]:]``, its length to ``out_nnz[j]``.  Gustavson style
    as :func:`pmiembed._kernels.window_count_rows`: a dense per-thread accumulator (all
    zeros between rows), its touched columns sorted (or, for a row touching much of the
    vocabulary, the accumulator scanned); rows dealt to 64 interleaved groups."""
    n_groups = 64
    n_rows = row_old.shape[0]
    for g in prange(n_groups):
        for j in range(g, n_rows, n_groups):
            t = numba.get_thread_id()
            acc = scratch_acc[t]
            touched = scratch_touched[t]
            nt = 0
            i = row_old[j]
            if i >= 0:
                for k in range(o_ptr[i], o_ptr[i + 1]):
                    nt = _add_context(col_map[o_idx[k]], o_dat[k], acc, touched, nt)
            i = row_x[j]
            if i >= 0:
                for k in range(x_ptr[i], x_ptr[i + 1]):
                    nt = _add_context(xcol_map[x_idx[k]], x_dat[k], acc, touched, nt)
            for k in range(n_ptr[j], n_ptr[j + 1]):
                nt = _add_context(n_idx[k], n_dat[k], acc, touched, nt)
            _write_row(acc, touched, nt, offsets[j], out_idx, out_dat)
            out_nnz[j] = nt
