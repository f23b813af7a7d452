"""Compiled loops of :mod:`pmiembed.phrases` (numba): bigram keys and phrase joining."""

from __future__ import annotations

import numpy as np

from ._jit import kernel


@kernel(nogil=True)
def pair_keys(ids, rows, doc_start, n_rows):
    """``rows[a] * n_rows + rows[b]`` for every adjacent ``a b`` inside one document
    whose words both have a row (``rows`` is -1 for the others), in corpus order."""
    n = ids.shape[0]
    m = 0
    for i in range(n - 1):
        if not doc_start[i + 1] and rows[ids[i]] >= 0 and rows[ids[i + 1]] >= 0:
            m += 1
    out = np.empty(m, dtype=np.int64)
    k = 0
    for i in range(n - 1):
        if not doc_start[i + 1]:
            a = rows[ids[i]]
            b = rows[ids[i + 1]]
            if a >= 0 and b >= 0:
                out[k] = a * n_rows + b
                k += 1
    return out


@kernel(nogil=True)
def run_lengths(sorted_keys):
    """Distinct values of a sorted array and how often each occurs."""
    n = sorted_keys.shape[0]
    m = 0
    for i in range(n):
        if i == 0 or sorted_keys[i] != sorted_keys[i - 1]:
            m += 1
    uniq = np.empty(m, dtype=np.int64)
    cnt = np.zeros(m, dtype=np.int64)
    k = -1
    for i in range(n):
        if i == 0 or sorted_keys[i] != sorted_keys[i - 1]:
            k += 1
            uniq[k] = sorted_keys[i]
        cnt[k] += 1
    return uniq, cnt


@kernel(nogil=True)
def _find(sorted_keys, key):
    lo, hi = 0, sorted_keys.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    if lo < sorted_keys.shape[0] and sorted_keys[lo] == key:
        return lo
    return -1


@kernel(nogil=True)
def join_pairs(ids, doc_start, sorted_keys, new_ids, n_types):
    """Greedy left-to-right joining: where ``ids[i], ids[i+1]`` (same document) is a
    phrase (``ids[i] * n_types + ids[i+1]`` in ``sorted_keys``) emit its new id
    and skip both, else emit ``ids[i]``.  Returns the new ids and their document-start
    flags."""
    n = ids.shape[0]
    out = np.empty(n, dtype=np.int32)
    flags = np.zeros(n, dtype=np.bool_)
    k = 0
    i = 0
    while i < n:
        if sorted_keys.shape[0] and i + 1 < n and not doc_start[i + 1]:
            j = _find(sorted_keys, np.int64(ids[i]) * n_types + ids[i + 1])
            if j >= 0:
                out[k] = new_ids[j]
                flags[k] = doc_start[i]
                k += 1
                i += 2
                continue
        out[k] = ids[i]
        flags[k] = doc_start[i]
        k += 1
        i += 1
    return out[:k].copy(), flags[:k].copy()
