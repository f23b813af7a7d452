"""Measure quality levers that the default recipe does not (yet) use, one at a time,
on the default pipeline's counts: the numbers of docs/ablation.md, "Quality at scale".

    PMIEMBED_DATA=../shared/data python benchmarks/levers.py CORPUS... [--cache counts.npz] [lever flags]

Every run counts like the defaults (window 8 weighted 1/d^2, expected subsampling 1e-4,
min_count 5), factorises the core of words seen >= 10 times with the randomized SVD (6
iterations, 140 extra columns, Chebyshev filter), folds the rest in, and applies eig 0.5
and all-but-the-top 1 unless a flag says otherwise; with no lever flag it reproduces the
vectors of ``--matrix ppmi`` (the defaults before 2026-12-05, which the levers were measured
against; ``--matrix nneg --unobserved 0.75 --freq-weight 0.05`` is today's default recipe).
``--cache FILE`` keeps the counts (``Cooccurrence.save``) so
that further levers on the same corpus skip reading and counting.

Levers (see docs/ablation.md for what each measured):

``--matrix nneg``
    Bounded negative PMI (Salle & Villavicencio 2019): positive PMI as it is, negative
    PMI of an observed pair divided by ``-log p(w, c)`` (so in [-1, 0)), unobserved pairs
    ``-1``.  Kept sparse: the matrix is ``S - 1 1^T`` with ``S`` holding observed cells
    plus 1, and the SVD's products add the rank-one term.
``--freq-weight b``
    Closed-form frequency weighting (Srebro & Jaakkola 2003): the SVD of ``D M D`` with
    ``D = diag(#w^b)`` (geometric mean 1) minimises ``sum #w^2b #c^2b (M - X)^2`` over
    rank-d ``X``; word vectors ``D^-1 U S^eig`` (``--no-unscale``: ``U S^eig``).
``--negative-weight f``
    Multiply the directions of negative eigenvalues (``u . v < 0``; they carry most
    syntactic analogies) by ``f`` before eigenvalue weighting.
``--positional P``
    Contexts at offsets -P..-1 and +1..+P as separate columns (Salle et al. 2016), the
    farther offsets of the window pooled: a words x (2P+1) words matrix, factorised by
    the general (non-symmetric) randomized SVD.
``--window``, ``--weighting``, ``--sub-mode``
    Count differently (as ``pmiembed train``'s flags; give the run its own ``--cache``).
``--concat FILE [--concat-weight L]``
    Append the vectors of ``FILE`` (another run's ``--save``) to the lever's, both
    row-normalised, the appended block scaled by ``L``: cosines become
    ``(cos_a + L^2 cos_b) / (1 + L^2)``.
``--context-words N``
    The core's rows against the ``N`` most frequent words as contexts (``all``: every
    word) instead of the symmetric core x core block, by the general randomized SVD.
``--dim``, ``--eig``, ``--abtt``, ``--core-max-words``: as in ``pmiembed train``.
``--save FILE`` writes the vectors (word2vec binary) for ``pmiembed evaluate --vectors FILE``.

Prints the eight benchmarks (3CosAdd / 3CosMul for analogies), the rank of ``queen`` in
``king - man + woman`` (3CosAdd, whole vocabulary), seconds of the PMI and SVD steps,
and one JSON line (``--json`` appends it to a file).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pmiembed import svd as S  # noqa: E402
from pmiembed.cooccur import Cooccurrence, filter_tokens, window_weights  # noqa: E402
from pmiembed.defaults import DEFAULTS  # noqa: E402
from pmiembed.pmi import pmi_matrix  # noqa: E402
from pmiembed.resources import cpu_count, limit_threads  # noqa: E402


class _PlusRankOne:
    """``A x`` for ``A = S + c r r^T`` (``S`` a prepared sparse operator, ``r`` a vector):
    the products of :func:`pmiembed.svd._chebyshev_range` without a dense matrix."""

    def __init__(self, s_op, c: float, r: np.ndarray):
        self.s, self.c = s_op, float(c)
        self.r = np.asarray(r[:s_op.shape[0]], dtype=np.float64)
        self.shape, self.dtype = s_op.shape, s_op.dtype

    def matmul(self, x, out=None, alpha=1.0, beta=0.0):
        if out is None:
            out = np.empty((self.shape[0], x.shape[1]), dtype=self.dtype)
            beta = 0.0
        proj = self.r @ x.astype(np.float64)  # before out is written: out may alias nothing of x
        self.s.matmul(x, out=out, alpha=alpha, beta=beta)
        out += (alpha * self.c * self.r[:, None] * proj[None, :]).astype(self.dtype)
        return out


def symmetric_svd(a: sp.csr_matrix, dim: int, core: int | None, c: float = 0.0, r=None, seed: int = 0):
    """The defaults' SVD of the symmetric ``a + c r r^T`` (its core block), rare rows
    folded in (``u_a = (a_a + c r_a r_core^T) V S^-1``)."""
    width = dim + DEFAULTS["oversamples"]
    m = core or a.shape[0]
    a_op = S._BlockedCSR(a, width, core=core)
    if c:
        a_op = _PlusRankOne(a_op, c, r)
    rows = S._Rows(cpu_count())
    try:
        with limit_threads(cpu_count(), blas=1):
            z = np.empty((m, width), dtype=np.float32)
            np.random.default_rng(seed).standard_normal(out=z, dtype=np.float32)
            y = a_op.matmul(z)
            q, bt = S._chebyshev_range(a_op, y, z, dim, 2 * DEFAULTS["n_iter"], rows, lambda: None)
            u, s, vt = S._ritz(q, bt, dim, rows)
    finally:
        rows.close()
    if core is None or core >= a.shape[0]:
        return u, s, vt
    inv = (1.0 / np.where(s > 0, s, 1.0)).astype(np.float32)
    rest = S._sparse_times_dense(a[core:, :core], np.ascontiguousarray(vt.T))
    if c:
        rest += (c * r[core:, None] * (vt @ r[:core])[None, :]).astype(np.float32)
    return np.vstack([u, rest * inv]), s, vt


def context_columns_svd(a: sp.csr_matrix, dim: int, core: int | None, n: int):
    """The general randomized SVD of the core's rows against the ``n`` most frequent
    words as contexts (``n < 0``: every word), rare rows folded in over the same columns."""
    m = core or a.shape[0]
    n = a.shape[1] if n < 0 else n
    with limit_threads(cpu_count()):
        u, s, vt = S.randomized_svd(a[:m, :n].tocsr(), dim, n_iter=DEFAULTS["n_iter"],
                                    n_oversamples=DEFAULTS["oversamples"], symmetric=False)
        return S.fold_in(a[:, :n], u, s, vt)


def nneg_matrix(cooc: Cooccurrence, unobserved: float = 1.0, negative: bool = True) -> sp.csr_matrix:
    """Observed cells of bounded negative PMI, plus ``unobserved`` (see the module
    docstring); ``negative=False`` clips the observed cells' negative PMI to 0."""
    pmi = pmi_matrix(cooc.counts, cds=1.0, keep=cooc.keep, positive=False).tocoo()
    cnt = cooc.counts.tocoo()
    assert np.array_equal(pmi.row, cnt.row) and np.array_equal(pmi.col, cnt.col)
    weighted = cnt.data.astype(np.float64)
    keep = cooc.keep
    if keep is not None:
        weighted *= keep[cnt.row] * keep[cnt.col]
    val = pmi.data.astype(np.float64)
    neg = val < 0
    val[neg] = val[neg] / -np.log(weighted[neg] / weighted.sum()) if negative else 0.0
    return sp.csr_matrix(((val + unobserved).astype(np.float32), (pmi.row, pmi.col)), shape=pmi.shape)


def row_weighted_svd(pmi: sp.csr_matrix, counts, b: float, dim: int, core: int | None):
    """The closed form of the word-side weight ``#w^2b`` alone (no column weight): the
    rank-``dim`` minimiser of ``sum_w #w^2b |m_w - x_w|^2`` is ``D^-1 SVD_dim(D M)`` with
    ``D = diag(#w^b)`` (geometric mean 1).  Not symmetric, so the general randomized SVD
    of the core block; further rows folded in through the core's right singular vectors
    (which do not depend on ``D`` beyond the core); ``U`` returned unscaled."""
    dr = np.asarray(counts, dtype=np.float64) ** b
    dr /= np.exp(np.mean(np.log(dr)))
    m = core or pmi.shape[0]
    a = (sp.diags(dr[:m].astype(np.float32)) @ pmi[:m, :m]).tocsr()
    with limit_threads(cpu_count()):
        u, s, vt = S.randomized_svd(a, dim, n_iter=DEFAULTS["n_iter"], n_oversamples=DEFAULTS["oversamples"],
                                    symmetric=False)
    u = (u / dr[:m, None]).astype(np.float32)
    if m < pmi.shape[0]:
        inv = (1.0 / np.where(s > 0, s, 1.0)).astype(np.float32)
        rest = S._sparse_times_dense(pmi[m:, :m].tocsr(), np.ascontiguousarray(vt.T)) * inv
        u = np.vstack([u, rest])
    return u, s, vt


def discounted(pmi: sp.csr_matrix, cooc: Cooccurrence, d: float) -> sp.csr_matrix:
    """PPMI shrunk where its count is small (Pantel & Lin 2002's discount, on the count
    side only): ``PPMI_wc * n_wc / (n_wc + d)``; ``n_wc`` the window-weighted count before
    subsampling (an adjacent pair counts 1)."""
    pmi = pmi.tocsr()
    pmi.sort_indices()
    cnt = cooc.counts.tocsr().astype(np.float64)
    cnt /= cooc.scale  # one adjacent co-occurrence = 1
    pat = pmi.copy()
    pat.data = np.ones_like(pat.data)
    cnt = cnt.multiply(pat).tocsr()
    cnt.sort_indices()
    assert np.array_equal(cnt.indptr, pmi.indptr) and np.array_equal(cnt.indices, pmi.indices)
    out = pmi.copy()
    out.data = (pmi.data * (cnt.data / (cnt.data + d))).astype(pmi.dtype)
    return out


def cca_matrix(cooc: Cooccurrence, power: float) -> sp.csr_matrix:
    """Stratos, Collins & Hsu (2015): counts (window-weighted, subsampled) raised to
    ``power``, then scaled as CCA, ``t(n_wc) / sqrt(t(n_w) t(n_c))`` with ``t(x) = x^power``
    and the marginals summed after the transform."""
    m = cooc.counts.tocsr().astype(np.float64)
    keep = cooc.keep
    if keep is not None:
        m = (sp.diags(keep) @ m @ sp.diags(keep)).tocsr()
    m.data **= power
    rows = np.asarray(m.sum(axis=1)).ravel()
    cols = np.asarray(m.sum(axis=0)).ravel()
    coo = m.tocoo()
    coo.data /= np.sqrt(rows[coo.row] * cols[coo.col])
    return coo.tocsr().astype(np.float32)


def positional_pmi(corpus, P: int):
    """PPMI of positional counts (offsets within P separate, the rest pooled) with the
    defaults' weights and expected subsampling; returns ``(matrix, vocab, blocks)``."""
    from pmiembed.corpus import read_corpus
    from pmiembed.vocab import Vocabulary

    tokens = read_corpus(corpus, workers=cpu_count())
    vocab = Vocabulary.from_counts(tokens.types, tokens.counts, min_count=DEFAULTS["min_count"], total=tokens.n_tokens)
    x, _ = filter_tokens(tokens, vocab, gap=DEFAULTS["window"])  # gaps: no pair across documents
    del tokens
    n = len(vocab)
    weights, scale = window_weights(DEFAULTS["window"], DEFAULTS["weighting"])
    weights = weights / scale

    def at_offset(d):  # word at i, context at i + d
        a, b = x[:-d].astype(np.int64), x[d:].astype(np.int64)
        ok = (a >= 0) & (b >= 0)
        key, count = np.unique(a[ok] * n + b[ok], return_counts=True)
        return sp.csr_matrix((count.astype(np.float64), (key // n, key % n)), shape=(n, n))

    blocks, pooled = [], sp.csr_matrix((n, n))
    for d in range(1, DEFAULTS["window"] + 1):
        c = at_offset(d) * weights[d - 1]
        if d <= P:
            blocks += [c.T.tocsr(), c]
        else:
            pooled = pooled + c + c.T
    blocks.append(pooled.tocsr())
    m = sp.hstack(blocks, format="coo")
    keep = vocab.keep_probability(DEFAULTS["subsample"])
    m.data *= keep[m.row] * np.tile(keep, len(blocks))[m.col]
    m = m.tocsr()
    row = np.asarray(m.sum(axis=1)).ravel()
    col = np.asarray(m.sum(axis=0)).ravel()
    coo = m.tocoo()
    val = np.log(coo.data) - np.log(row[coo.row]) - np.log(col[coo.col]) + np.log(m.data.sum())
    ok = val > 0
    return sp.csr_matrix((val[ok].astype(np.float32), (coo.row[ok], coo.col[ok])), shape=m.shape), vocab, len(blocks)


def concatenated(words, w: np.ndarray, path: Path, weight: float) -> np.ndarray:
    """``[w / |w| ; weight * b / |b|]`` row by row, ``b`` the vectors of ``path`` for the same
    words (zero where ``path`` lacks a word): cosines are then a weighted mix of both."""
    from pmiembed.vectors import read_word2vec_binary

    b_words, b = read_word2vec_binary(path)
    at = {x: i for i, x in enumerate(b_words)}
    rows = np.array([at.get(x, -1) for x in words])
    other = np.zeros((len(words), b.shape[1]), np.float32)
    other[rows >= 0] = b[rows[rows >= 0]]
    return np.hstack([S._unit_rows(w), weight * S._unit_rows(other)]).astype(np.float32)


def scores(words, vectors) -> dict:
    from pmiembed.evaluate import evaluate, results_to_dict
    from pmiembed.vectors import make_keyed_vectors

    kv = make_keyed_vectors(words, vectors)
    out = {}
    for name, r in results_to_dict(evaluate(kv)).items():
        out[name] = round(r["score"], 3) if "score" in r else [round(r["3cosadd"], 3), round(r["3cosmul"], 3)]
    if all(w in kv.key_to_index for w in ("king", "man", "woman")):
        answers = [w for w, _ in kv.most_similar(positive=["king", "woman"], negative=["man"], topn=20)]
        out["queen_rank"] = answers.index("queen") + 1 if "queen" in answers else None
        out["king-man+woman"] = answers[:3]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="+")
    ap.add_argument("--cache", default=None, help="counts file: written if missing, read if present")
    ap.add_argument("--matrix", choices=("ppmi", "nneg", "ppmi-unobserved", "cca"), default="ppmi")
    ap.add_argument("--discount", type=float, default=0.0, metavar="D",
                    help="multiply PPMI_wc by n_wc / (n_wc + D), n_wc the weighted, subsampled count [0: off]")
    ap.add_argument("--row-weight", type=float, default=0.0, metavar="B",
                    help="weight the word side only: SVD of diag(#w^B) M, word vectors unscaled [0: off]")
    ap.add_argument("--fold-ppmi", action="store_true",
                    help="fold the words outside the core in from their PPMI rows (not the lever's matrix)")
    ap.add_argument("--power", type=float, default=0.5, metavar="A",
                    help="cca: counts raised to A before the CCA scaling n_wc / sqrt(n_w n_c) [0.5]")
    ap.add_argument("--unobserved", type=float, default=1.0, metavar="C",
                    help="nneg / ppmi-unobserved: the value -C of unobserved pairs [1]")
    ap.add_argument("--positional", type=int, default=0, metavar="P")
    ap.add_argument("--freq-weight", type=float, default=0.0, metavar="B")
    ap.add_argument("--no-unscale", action="store_true")
    ap.add_argument("--negative-weight", type=float, default=1.0, metavar="F")
    ap.add_argument("--window", type=int, default=DEFAULTS["window"], help="counting (needs its own --cache)")
    ap.add_argument("--weighting", default=DEFAULTS["weighting"], help="counting (needs its own --cache)")
    ap.add_argument("--sub-mode", default=DEFAULTS["subsample_mode"], help="counting (needs its own --cache)")
    ap.add_argument("--context-words", default=None, metavar="N",
                    type=lambda t: None if t.lower() == "core" else (-1 if t.lower() == "all" else int(t)),
                    help="the core's rows against the N most frequent words as contexts ('all': every word) by the "
                         "general randomized SVD, rare rows folded in over the same columns [core: the symmetric "
                         "core x core block]")
    ap.add_argument("--dim", type=int, default=DEFAULTS["dim"])
    ap.add_argument("--eig", type=float, default=DEFAULTS["eig"])
    ap.add_argument("--abtt", type=int, default=DEFAULTS["abtt"])
    ap.add_argument("--core-max-words", type=lambda t: None if t.lower() == "none" else int(t),
                    default=DEFAULTS["core_max_words"], help="cap on the SVD's core ('none': every word seen >= "
                    f"{DEFAULTS['core_min_count']} times) [{DEFAULTS['core_max_words']}]")
    ap.add_argument("--json", default=None, help="append the result as one JSON line to this file")
    ap.add_argument("--concat", default=None, metavar="FILE",
                    help="append the vectors of FILE (word2vec binary, e.g. another run's --save) to the lever's, "
                         "both row-normalised")
    ap.add_argument("--concat-weight", type=float, default=1.0, metavar="L",
                    help="scale of the appended block (its rows have norm L, the lever's 1) [1]")
    ap.add_argument("--save", default=None, metavar="FILE",
                    help="also write the vectors to FILE (word2vec binary; `pmiembed evaluate --vectors FILE`)")
    args = ap.parse_args()
    corpus = args.corpus if len(args.corpus) > 1 else args.corpus[0]
    t0 = time.perf_counter()
    if args.positional:
        with limit_threads(cpu_count()):
            pmi, vocab, n_blocks = positional_pmi(corpus, args.positional)
        t1 = time.perf_counter()
        core = S.core_size(vocab.counts, DEFAULTS["core_min_count"], args.dim, args.core_max_words)
        cols = np.concatenate([np.arange(core) + b * len(vocab) for b in range(n_blocks)])
        with limit_threads(cpu_count()):
            u, s, vt = S.randomized_svd(pmi[:core][:, cols].tocsr(), args.dim, n_iter=DEFAULTS["n_iter"],
                                        n_oversamples=DEFAULTS["oversamples"], symmetric=False)
            rest = S._sparse_times_dense(pmi[core:][:, cols].tocsr(), np.ascontiguousarray(vt.T))
        u = np.vstack([u, rest * (1.0 / s).astype(np.float32)])
        sign = np.ones(args.dim)
    else:
        cache = Path(args.cache) if args.cache else None
        if cache is not None and cache.exists():
            cooc = Cooccurrence.load(cache)
        else:
            from pmiembed.model import PMIEmbedding

            cooc = PMIEmbedding(n_iter=0, oversamples=0, dim=2, window=args.window, weighting=args.weighting,
                                subsample_mode=args.sub_mode).fit(corpus).cooccurrence_
            if cache is not None:
                cooc.save(cache)
        vocab = cooc.vocab
        t0 = time.perf_counter()
        with limit_threads(cpu_count()):
            c = 0.0
            if args.matrix == "cca":
                pmi = cca_matrix(cooc, args.power)
            elif args.matrix in ("nneg", "ppmi-unobserved"):
                pmi, c = nneg_matrix(cooc, args.unobserved, args.matrix == "nneg"), -args.unobserved
            else:
                pmi = pmi_matrix(cooc.counts, cds=1.0, keep=cooc.keep)
                if args.discount:
                    pmi = discounted(pmi, cooc, args.discount)
            cooc_counts, cooc_keep = (cooc.counts, cooc.keep) if args.fold_ppmi else (None, None)
            del cooc
            d = np.ones(pmi.shape[0])
            if args.freq_weight:
                d = vocab.counts.astype(np.float64) ** args.freq_weight
                d /= np.exp(np.mean(np.log(d)))
                coo = pmi.tocoo()
                pmi = sp.csr_matrix(((coo.data * d[coo.row] * d[coo.col]).astype(np.float32), (coo.row, coo.col)),
                                    shape=pmi.shape)
            t1 = time.perf_counter()
            core = S.core_size(vocab.counts, DEFAULTS["core_min_count"], args.dim, args.core_max_words)
            if args.row_weight:
                u, s, vt = row_weighted_svd(pmi, vocab.counts, args.row_weight, args.dim, core)
            elif args.context_words is not None:
                u, s, vt = context_columns_svd(pmi, args.dim, core, args.context_words)
            else:
                u, s, vt = symmetric_svd(pmi, args.dim, core, c=c, r=d)
            if args.fold_ppmi and core is not None and core < pmi.shape[0]:
                ppmi = pmi_matrix(cooc_counts, cds=1.0, keep=cooc_keep)
                inv = (1.0 / np.where(s > 0, s, 1.0)).astype(np.float32)
                u[core:] = S._sparse_times_dense(ppmi[core:, :core], np.ascontiguousarray(vt.T)) * inv
                del ppmi
        if args.freq_weight and not args.no_unscale:
            u = (u / d[:, None]).astype(np.float32)
        k = min(core or vt.shape[1], vt.shape[1])
        sign = np.sign(np.einsum("ij,ji->j", u[:k].astype(np.float64), vt[:, :k].astype(np.float64)))
    if args.negative_weight != 1.0:
        u = u * np.where(sign < 0, args.negative_weight, 1.0).astype(u.dtype)[None, :]
    t2 = time.perf_counter()
    w = S.word_vectors(u, s, vt, eig=args.eig, abtt=None if args.abtt < 0 else args.abtt)
    if args.concat:
        w = concatenated(vocab.words, w, Path(args.concat), args.concat_weight)
    if args.save:
        from pmiembed.vectors import write_word2vec_binary

        write_word2vec_binary(vocab.words, w, Path(args.save))
    result = {"corpus": [str(c) for c in args.corpus], "lever": {k: v for k, v in vars(args).items()
                                                                 if k not in ("corpus", "cache", "json", "save")},
              "negative_directions": int(np.sum(sign < 0)), "pmi_seconds": round(t1 - t0, 1),
              "svd_seconds": round(t2 - t1, 1), "scores": scores(vocab.words, w)}
    sc = result["scores"]
    names = [n for n in sc if n not in ("queen_rank", "king-man+woman")]
    print(" | ".join(f"{n} {sc[n][0]:.3f}/{sc[n][1]:.3f}" if isinstance(sc[n], list) else f"{n} {sc[n]:.3f}"
                     for n in names))
    print(f"king - man + woman: {', '.join(sc.get('king-man+woman', []))} (queen rank {sc.get('queen_rank')}); "
          f"PMI {result['pmi_seconds']} s, SVD {result['svd_seconds']} s; "
          f"{result['negative_directions']} negative-eigenvalue directions")
    print(json.dumps(result))
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
