"""Compiled inner loops (numba).

Only the loops that pure numpy cannot express without creating one Python object per
token live here (measurements: docs/implementation-notes.md).
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel, numba, prange

# FNV-1a 64-bit
_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@kernel(nogil=True)
def tokenize_bytes(buf, keys, vals, pool, pool_used, type_off, type_len, n_types,
                   out_ids, out_breaks, newline):
    """Split ``buf`` at ASCII whitespace and control bytes (``<= 0x20``) and map every token to a type id.

    The type table is an open-addressing hash table (``keys`` = FNV-1a hashes,
    ``vals`` = type ids, -1 for empty; size a power of two) whose entries point into a
    byte ``pool`` that holds each type's bytes, so a lookup compares the actual bytes
    and the mapping is exact, never a hash guess.  New types are appended.

    ``out_ids[k]`` receives the id of the k-th token; ``out_breaks[k]`` is 1 when a
    newline (a document boundary) lies between token k-1 and token k.

    ``newline`` says whether a newline was seen since the last token of the previous
    buffer.  Returns ``(n_tokens, n_types, pool_used, pos, newline)``.  The kernel stops early, with
    ``pos < len(buf)``, when the table would pass half full or the pool or type arrays
    could overflow; the caller grows them and calls again from ``pos``.
    """
    n = buf.shape[0]
    mask = np.uint64(keys.shape[0] - 1)
    max_types = min(type_off.shape[0], (keys.shape[0] >> 1))
    i = 0
    nt = 0
    while i < n:
        # skip whitespace, remembering newlines
        while i < n and buf[i] <= 32:
            if buf[i] == 10:
                newline = True
            i += 1
        if i >= n:
            break
        s = i
        h = _FNV_OFFSET
        while i < n and buf[i] > 32:
            h = (h ^ np.uint64(buf[i])) * _FNV_PRIME
            i += 1
        length = i - s
        slot = h & mask
        tid = -1
        while True:
            t = vals[slot]
            if t < 0:
                break
            if keys[slot] == h and type_len[t] == length:
                o = type_off[t]
                same = True
                for k in range(length):
                    if pool[o + k] != buf[s + k]:
                        same = False
                        break
                if same:
                    tid = t
                    break
            slot = (slot + np.uint64(1)) & mask
        if tid < 0:
            if n_types + 1 > max_types or pool_used + length > pool.shape[0]:
                # out of room: report the token start so the caller resumes there
                return nt, n_types, pool_used, s, newline
            tid = n_types
            n_types += 1
            vals[slot] = tid
            keys[slot] = h
            type_off[tid] = pool_used
            type_len[tid] = length
            for k in range(length):
                pool[pool_used + k] = buf[s + k]
            pool_used += length
        out_ids[nt] = tid
        out_breaks[nt] = 1 if newline else 0
        newline = False
        nt += 1
    return nt, n_types, pool_used, n, newline


@kernel(nogil=True)
def rehash(keys, vals, new_keys, new_vals):
    """Insert every entry of one hash table into a larger, empty one."""
    mask = np.uint64(new_keys.shape[0] - 1)
    for j in range(keys.shape[0]):
        t = vals[j]
        if t >= 0:
            slot = keys[j] & mask
            while new_vals[slot] >= 0:
                slot = (slot + np.uint64(1)) & mask
            new_vals[slot] = t
            new_keys[slot] = keys[j]


@kernel(nogil=True)
def position_uniform(seed_add, position):
    """The subsampling draw of corpus ``position``: splitmix64 of ``seed_add + position``
    (``seed_add = seed * golden mod 2**64``) as a uniform number in [0, 1)."""
    z = np.uint64(position) + seed_add + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)  # 2**-53


@kernel(nogil=True)
def position_uniforms(seed_add, start, out):
    """``out[i] = position_uniform(seed_add, start + i)``."""
    for i in range(out.shape[0]):
        out[i] = position_uniform(seed_add, start + i)


@kernel(nogil=True)
def filter_chunk(ids, remap, keep_p, use_p, seed_add, start, dirty, doc_rel, gap, out, at):
    """One pass of :func:`pmiembed.cooccur.filter_tokens` over ``ids`` (corpus positions
    ``start ..``): map to vocabulary rows, drop out-of-vocabulary tokens, subsample
    (dirty: drop; clean: -1) with :func:`position_uniform`, and put ``gap`` -1
    separators before every document start ``doc_rel`` (relative, ascending); ``at[k]``
    receives where document ``k`` starts in ``out``.  Returns the number of entries
    written."""
    j = 0
    d = 0
    nd = doc_rel.shape[0]
    for i in range(ids.shape[0]):
        while d < nd and doc_rel[d] == i:
            for _ in range(gap):
                out[j] = -1
                j += 1
            at[d] = j
            d += 1
        r = remap[ids[i]]
        if r < 0:
            continue
        if use_p:
            if position_uniform(seed_add, start + i) >= keep_p[r]:
                if dirty:
                    continue
                r = -1
        out[j] = r
        j += 1
    return j


@kernel(nogil=True)
def fill_positions(x, indptr, positions):
    """Counting sort of corpus positions by word id (``x[p] < 0`` skipped): writes the
    positions of word ``w`` to ``positions[indptr[w]:indptr[w+1]]``, ascending."""
    fill = indptr[:-1].copy()
    for p in range(x.shape[0]):
        w = x[p]
        if w >= 0:
            positions[fill[w]] = p
            fill[w] += 1


@kernel(inline="always")
def _add_context(c, wt, acc, touched, nt):
    """Add weight ``wt`` (> 0) for context ``c`` (skipped if -1: gap or separator) to the
    row's accumulator, recording ``c`` the first time the row sees it (its
    accumulator is still 0: every accumulator is put back to 0 when its row is
    written, so no separate "seen" mark, and one random memory access a context
    instead of two); returns the new number of touched columns.  Inlined into
    :func:`window_count_rows` (and :func:`pmiembed._update_kernels.merge_rows`) at
    compile time: it is the hot loop, and a plain call costs there."""
    if c >= 0:
        if acc[c] == 0:
            touched[nt] = c
            nt += 1
        acc[c] += wt
    return nt


@kernel(inline="always")
def _write_row(acc, touched, nt, o, out_indices, out_data):
    """Write a row's ``nt`` touched columns of the accumulator ``acc``, ascending, with
    their values to ``out_*[o:]`` and put their accumulators back to 0 (Gustavson
    rows: :func:`window_count_rows` and :func:`pmiembed._update_kernels.merge_rows`)."""
    if nt * 8 > acc.shape[0]:
        # a row touching much of the vocabulary (a frequent word): one pass over the
        # accumulator yields its columns in order, cheaper than sorting them
        j = 0
        for c in range(acc.shape[0]):
            if acc[c] != 0:
                out_indices[o + j] = c
                out_data[o + j] = acc[c]
                acc[c] = 0
                j += 1
    else:
        cols = np.sort(touched[:nt])
        for j in range(nt):
            c = cols[j]
            out_indices[o + j] = c
            out_data[o + j] = acc[c]
            acc[c] = 0


@kernel(parallel=True)
def window_count_rows(x, lo, hi, weights, indptr_w, positions, words, offsets, scratch_acc,
                      scratch_touched, out_indices, out_data, out_nnz):
    """Symmetric windowed counts of the centres ``lo <= p < hi`` for the rows ``words``,
    Gustavson style: for word ``w``, a dense per-thread accumulator (all zeros between
    rows) adds ``weights[d-1]`` (positive integers) for every context at distance d on
    either side that is not a gap or document separator (-1); the touched columns are
    sorted and written to ``out_*[offsets[i]:]`` (room reserved by the caller), their
    number to ``out_nnz[i]``, and their accumulators reset to 0.  A row's result does
    not depend on the thread that computed it.  Rows are dealt to 64 interleaved
    groups: ``words`` run from frequent to rare, and the contiguous ranges numba gives
    each thread would leave one thread nearly all the work.
    """
    window = weights.shape[0]
    n = x.shape[0]
    n_groups = 64
    for g in prange(n_groups):
        for i in range(g, words.shape[0], n_groups):
            t = numba.get_thread_id()
            acc = scratch_acc[t]
            touched = scratch_touched[t]
            w = words[i]
            nt = 0
            a = indptr_w[w]
            z = indptr_w[w + 1]
            k0 = a + np.searchsorted(positions[a:z], lo)
            k1 = a + np.searchsorted(positions[a:z], hi)
            for k in range(k0, k1):
                p = positions[k]
                for d in range(1, window + 1):
                    wt = weights[d - 1]
                    if p - d >= 0:
                        nt = _add_context(x[p - d], wt, acc, touched, nt)
                    if p + d < n:
                        nt = _add_context(x[p + d], wt, acc, touched, nt)
            _write_row(acc, touched, nt, offsets[i], out_indices, out_data)
            out_nnz[i] = nt


@kernel(parallel=True)
def compact_rows(offsets, nnz, src_indices, src_data, dst_indptr, dst_indices, dst_data):
    """Copy row ``i``'s ``nnz[i]`` entries at ``src_*[offsets[i]:]`` to
    ``dst_*[dst_indptr[i]:]`` (rows dealt to interleaved groups, see
    :func:`window_count_rows`)."""
    n_groups = 64
    for g in prange(n_groups):
        for i in range(g, offsets.shape[0], n_groups):
            o = offsets[i]
            d = dst_indptr[i]
            for j in range(nnz[i]):
                dst_indices[d + j] = src_indices[o + j]
                dst_data[d + j] = src_data[o + j]


@kernel(parallel=True, fastmath={"contract"})
def csr_matmul_blocked(starts, ends, indices, data, x, out, alpha, beta, n_chunks):
    """``out = alpha * (A @ x) + beta * out`` with A's columns cut into blocks: the
    entries of row ``i`` in column block ``b`` are ``starts[b, i]:ends[b, i]`` of
    ``indices``/``data`` (global column ids; see :func:`split_columns` for a reordered
    copy and :func:`segment_pointers` for pointers into a CSR matrix as it is).

    Each pass over one column block gathers only the rows of ``x`` for that block's
    columns, which stay in the CPU cache, instead of rows from all of ``x`` (100 MB for
    80k words x 320 columns): the product is bound by the cache instead of memory
    latency.  Rows are dealt to ``n_chunks`` interleaved groups (rows ``t, t + n_chunks,
    ...``) run in parallel: numba hands each thread one contiguous range of groups, and
    contiguous row ranges would give the thread with the frequent words (the first
    rows, most of the nonzeros) nearly all the work.  Each row is summed in a
    fixed order (block by block, then eight nonzeros at a time, then the rest one by
    one), so any number of threads gives the same bits.

    Eight nonzeros per pass over the row's accumulator: one load and one store of
    ``acc`` per eight gathered rows of ``x`` instead of per row, which is what bounds
    the plain loop.
    """
    n_blocks = starts.shape[0]
    n = starts.shape[1]
    k = x.shape[1]
    for i in prange(n):
        for j in range(k):
            out[i, j] = 0 if beta == 0 else beta * out[i, j]
    for b in range(n_blocks):
        for t in prange(n_chunks):
            acc = np.empty(k, dtype=out.dtype)
            for i in range(t, n, n_chunks):
                p0 = starts[b, i]
                p1 = ends[b, i]
                if p0 == p1:
                    continue
                for j in range(k):
                    acc[j] = out[i, j]
                p = p0
                while p + 7 < p1:
                    c0, c1, c2, c3 = indices[p], indices[p + 1], indices[p + 2], indices[p + 3]
                    c4, c5, c6, c7 = indices[p + 4], indices[p + 5], indices[p + 6], indices[p + 7]
                    v0, v1, v2, v3 = alpha * data[p], alpha * data[p + 1], alpha * data[p + 2], alpha * data[p + 3]
                    v4, v5, v6, v7 = alpha * data[p + 4], alpha * data[p + 5], alpha * data[p + 6], alpha * data[p + 7]
                    for j in range(k):
                        acc[j] += (((v0 * x[c0, j] + v1 * x[c1, j]) + (v2 * x[c2, j] + v3 * x[c3, j]))
                                   + ((v4 * x[c4, j] + v5 * x[c5, j]) + (v6 * x[c6, j] + v7 * x[c7, j])))
                    p += 8
                while p < p1:
                    c = indices[p]
                    v = alpha * data[p]
                    for j in range(k):
                        acc[j] += v * x[c, j]
                    p += 1
                for j in range(k):
                    out[i, j] = acc[j]


@kernel(parallel=True)
def segment_pointers(indptr, indices, bounds, seg):
    """``seg[b, i]``: where row ``i`` of a CSR matrix with sorted indices reaches column
    ``bounds[b]`` (``seg[0] = indptr[:-1]``), so the entries of row ``i`` in column block
    ``b`` are ``seg[b, i]:seg[b + 1, i]``.  Columns from ``bounds[-1]`` on are left out
    (``seg[-1] = indptr[1:]`` when ``bounds[-1]`` is the number of columns): with the
    rows cut too, the pointers describe a leading block of the matrix without copying
    it."""
    nb = bounds.shape[0] - 1
    n = indptr.shape[0] - 1
    for i in prange(n):
        p = indptr[i]
        end = indptr[i + 1]
        seg[0, i] = p
        for b in range(1, nb + 1):
            while p < end and indices[p] < bounds[b]:
                p += 1
            seg[b, i] = p


@kernel()
def split_columns(indptr, indices, data, bounds, indptr2d, out_indices, out_data):
    """Reorder a CSR matrix (sorted indices) into column blocks ``bounds`` for
    :func:`csr_matmul_blocked`: block by block, row by row, column order kept.  Entries
    in columns from ``bounds[-1]`` on are left out (a leading block of the matrix)."""
    n = indptr.shape[0] - 1
    nb = bounds.shape[0] - 1
    last = bounds[nb]
    # counts per (block, row)
    for i in range(n):
        b = 0
        for p in range(indptr[i], indptr[i + 1]):
            c = indices[p]
            if c >= last:
                break
            while c >= bounds[b + 1]:
                b += 1
            indptr2d[b, i + 1] += 1
    total = 0
    for b in range(nb):
        indptr2d[b, 0] = total
        for i in range(n):
            total += indptr2d[b, i + 1]
            indptr2d[b, i + 1] = total
    fill = indptr2d[:, :n].copy()
    for i in range(n):
        b = 0
        for p in range(indptr[i], indptr[i + 1]):
            c = indices[p]
            if c >= last:
                break
            while c >= bounds[b + 1]:
                b += 1
            q = fill[b, i]
            out_indices[q] = c
            out_data[q] = data[p]
            fill[b, i] = q + 1


@kernel(inline="always")
def _pmi_value(count, log_row_r, log_col_c, constant):
    """``log #(w,c) - (log #(w) + alpha log #(c)) + constant`` in float64; the two
    marginal logs are added first, so with alpha = 1 the values of (w, c) and (c, w)
    are the same bits."""
    return np.log(np.float64(count)) - (log_row_r + log_col_c) + constant


@kernel(parallel=True)
def pmi_rows(indptr, r0, cols, counts, log_row, log_col, constant, positive, out_count):
    """First pass of :func:`pmi_fill`: how many entries of each row ``r0 + i`` are kept
    (``out_count[i]``): all nonzero counts, or with ``positive`` those whose PMI is
    above 0.  ``indptr`` is the rows' offsets into ``cols``/``counts`` (length
    ``n_rows + 1``).  Rows dealt to interleaved groups (frequent rows first hold most
    entries)."""
    n_rows = indptr.shape[0] - 1
    n_groups = 64
    for g in prange(n_groups):
        for i in range(g, n_rows, n_groups):
            lr = log_row[r0 + i]
            k = 0
            for j in range(indptr[i], indptr[i + 1]):
                if positive:
                    if _pmi_value(counts[j], lr, log_col[cols[j]], constant) > 0:
                        k += 1
                elif counts[j] != 0:
                    k += 1
            out_count[i] = k


@kernel(parallel=True)
def pmi_fill(indptr, r0, cols, counts, log_row, log_col, constant, positive, out_start, out_indices, out_data):
    """Second pass: write row ``r0 + i``'s kept entries (column and PMI, in the order
    they come) to ``out_*[out_start[i]:]``.  Each row is computed by one thread in a
    fixed order: the same bits for any number of threads."""
    n_rows = indptr.shape[0] - 1
    n_groups = 64
    for g in prange(n_groups):
        for i in range(g, n_rows, n_groups):
            lr = log_row[r0 + i]
            o = out_start[i]
            for j in range(indptr[i], indptr[i + 1]):
                v = _pmi_value(counts[j], lr, log_col[cols[j]], constant)
                if (v > 0) if positive else (counts[j] != 0):
                    out_indices[o] = cols[j]
                    out_data[o] = v
                    o += 1


@kernel(parallel=True)
def weighted_row_sums(indptr, rows, cols, counts, keep, out):
    """``out[i] = sum_j counts[j] * (keep[rows[i]] * keep[cols[j]])`` over row ``rows[i]``'s
    entries ``indptr[i]:indptr[i+1]``, summed in order in float64: the row sums of
    the expected counts ``keep_w keep_c #(w, c)``.  The weight of an entry is the same
    product for (w, c) and (c, w), so a symmetric matrix has the same bits as row and
    column sums."""
    n_rows = indptr.shape[0] - 1
    n_groups = 64
    for g in prange(n_groups):
        for i in range(g, n_rows, n_groups):
            pw = keep[rows[i]]
            total = 0.0
            for j in range(indptr[i], indptr[i + 1]):
                total += np.float64(counts[j]) * (pw * keep[cols[j]])
            out[i] = total
