"""Brute-force pure-Python references the vectorised code is tested against."""

from __future__ import annotations

import math
from collections import defaultdict


def weight(d: int, window: int, weighting: str) -> float:
    if weighting == "uniform":
        return 1.0
    if weighting == "dynamic":
        return (window - d + 1) / window
    if weighting == "harmonic2":
        return 1.0 / (d * d)
    return 1.0 / d


def brute_cooccurrence(docs, words, window, weighting, keep=None):
    """Symmetric windowed counts as a dict {(row, col): weight}.

    ``docs``: list of token lists.  Tokens not in ``words`` are removed before
    windowing.  ``keep(pos, row)`` -> 'keep' | 'drop' | 'gap' decides subsampling of the
    token at global corpus position ``pos`` (positions count every token, known or not).
    """
    index = {w: i for i, w in enumerate(words)}
    counts = defaultdict(float)
    pos = 0
    for doc in docs:
        seq = []
        for tok in doc:
            row = index.get(tok)
            if row is not None:
                fate = keep(pos, row) if keep else "keep"
                if fate == "keep":
                    seq.append(row)
                elif fate == "gap":
                    seq.append(None)
            pos += 1
        for i in range(len(seq)):
            for d in range(1, window + 1):
                j = i + d
                if j >= len(seq):
                    break
                a, b = seq[i], seq[j]
                if a is None or b is None:
                    continue
                w = weight(d, window, weighting)
                counts[(a, b)] += w
                counts[(b, a)] += w
    return dict(counts)


def brute_pmi(counts: dict, n, cds=0.75, neg=1.0, positive=True):
    """PMI of a dict of counts by the textbook formula, entry by entry."""
    row = defaultdict(float)
    col = defaultdict(float)
    for (a, b), v in counts.items():
        row[a] += v
        col[b] += v
    total = sum(counts.values())
    col_alpha_total = sum(v ** cds for v in col.values())
    out = {}
    for (a, b), v in counts.items():
        p_wc = v / total
        p_w = row[a] / total
        p_c = col[b] ** cds / col_alpha_total
        value = math.log(p_wc / (p_w * p_c)) - math.log(neg)
        if positive:
            value = max(value, 0.0)
            if value == 0.0:
                continue
        out[(a, b)] = value
    return out
