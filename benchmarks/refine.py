"""Weighted least squares refinement of the defaults' SVD on the SVD's core (a lever of
docs/ablation.md, "Quality at scale"; not part of the default recipe).

    PMIEMBED_DATA=../shared/data python benchmarks/refine.py --cache COUNTS.npz [--sweeps 3] [--steps 3]

``COUNTS.npz``: the defaults' counts saved by ``benchmarks/levers.py --cache``.  On the
core block (the words the SVD factorises) it minimises LexVec's objective in expectation,

    sum_{w,c} (g(n_wc) + k n_w P_n(c)) (w . c - PPMI_wc)^2 + lam (|w|^2 + |c|^2),

``g(n) = n^gpow`` on the observed cells (``--observed ppmi``: PPMI's nonzeros; ``counts``:
every counted pair, target 0 where PMI < 0), ``P_n(c) ~ n_c^alpha``; unobserved cells have
target 0 and the weight ``k n_w P_n(c)``, which factors, so the row systems are

    (k n_w G + sum_obs g_wc c c^T + lam I) w = sum_obs (g_wc + k n_w P_n(c)) PPMI_wc c,
    G = sum_c P_n(c) c c^T,

solved for every row at once by ``--steps`` conjugate-gradient steps from the current
vectors (the sparse term by a numba kernel over the column-blocked matrix), W then C,
``--sweeps`` times, starting from ``W = U S^1/2``, ``C = V S^1/2``.  The refined pair is
brought back to an SVD (``W C^T = U' S' V'^T`` from two QR factorisations), the rest of
the vocabulary folded in, and eig 0.5 / all-but-the-top 1 applied as in the defaults.
Prints the loss after every half-sweep, seconds, and the eight benchmarks for the
row-normalised average ``(1 - mix) default + mix refined`` (refined aligned to the
default by orthogonal Procrustes) for every ``--mix``.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numba import njit, prange

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from levers import scores, symmetric_svd

from pmiembed import svd as S
from pmiembed.cooccur import Cooccurrence
from pmiembed.defaults import DEFAULTS
from pmiembed.pmi import pmi_matrix
from pmiembed.resources import cpu_count, limit_threads


@njit(parallel=True, fastmath=True, cache=True)
def gram_apply(starts, ends, indices, g, c, x, out, n_chunks):
    """out_i = sum_j g_ij (c_j . x_i) c_j  (blocked over columns j)."""
    n_blocks = starts.shape[0]
    n = starts.shape[1]
    k = x.shape[1]
    for i in prange(n):
        for j in range(k):
            out[i, j] = 0
    for b in range(n_blocks):
        for t in prange(n_chunks):
            acc = np.empty(k, dtype=out.dtype)
            xi = np.empty(k, dtype=out.dtype)
            for i in range(t, n, n_chunks):
                p0 = starts[b, i]
                p1 = ends[b, i]
                if p0 == p1:
                    continue
                for j in range(k):
                    acc[j] = out[i, j]
                    xi[j] = x[i, j]
                for p in range(p0, p1):
                    col = indices[p]
                    s = np.float32(0.0)
                    for j in range(k):
                        s += c[col, j] * xi[j]
                    s *= g[p]
                    for j in range(k):
                        acc[j] += s * c[col, j]
                for j in range(k):
                    out[i, j] = acc[j]


class Op:
    def __init__(self, a, width):
        self.b = S._BlockedCSR(a, width)

    def apply(self, c, x):
        out = np.empty_like(x)
        gram_apply(self.b.starts, self.b.ends, self.b.indices, self.b.data, c, x, out, 16)
        return out


def solve_side(x, c, gop, tmat, roww, colw, k, lam, steps):
    """Rows of x: argmin sum_c (g_wc + k roww_w colw_c)(x_w . c_c - m_wc)^2 + lam |x_w|^2 by CG from x."""
    G = (c.T.astype(np.float64) * colw) @ c.astype(np.float64)
    G = (k * G).astype(np.float32)
    rw = roww.astype(np.float32)[:, None]

    def A(p):
        return rw * (p @ G) + gop.apply(c, p) + lam * p

    b = tmat @ c  # T_wc = (g + k roww colw) m
    r = b - A(x)
    p = r.copy()
    rs = np.einsum("ij,ij->i", r, r)
    for _ in range(steps):
        ap = A(p)
        den = np.einsum("ij,ij->i", p, ap)
        alpha = np.where(den > 0, rs / np.where(den > 0, den, 1), 0).astype(np.float32)
        x = x + alpha[:, None] * p
        r = r - alpha[:, None] * ap
        rs2 = np.einsum("ij,ij->i", r, r)
        beta = np.where(rs > 0, rs2 / np.where(rs > 0, rs, 1), 0).astype(np.float32)
        p = r + beta[:, None] * p
        rs = rs2
    return x


@njit(parallel=True, fastmath=True)
def _obs_terms(indptr, indices, g, mval, q, w, c, out):
    n = len(indptr) - 1
    for i in prange(n):
        a = 0.0
        b = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            col = indices[p]
            s = 0.0
            for j in range(w.shape[1]):
                s += w[i, j] * c[col, j]
            a += g[p] * (s - mval[p]) ** 2
            b += q[col] * (mval[p] ** 2 - 2 * mval[p] * s)
        out[i, 0] = a
        out[i, 1] = b


def loss(w, c, cnt, g, mm, roww, colw, k):
    out = np.zeros((len(roww), 2))
    _obs_terms(cnt.indptr, cnt.indices, g, mm.data.astype(np.float64), colw, w, c, out)
    G = (c.T.astype(np.float64) * colw) @ c.astype(np.float64)
    quad = np.einsum("ij,jk,ik->i", w.astype(np.float64), G, w.astype(np.float64))
    return out[:, 0].sum() + k * (roww * (quad + out[:, 1])).sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", required=True, help="counts saved by benchmarks/levers.py --cache")
    ap.add_argument("--sweeps", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--k", type=float, default=5.0)
    ap.add_argument("--lam", type=float, default=0.1)
    ap.add_argument("--gpow", type=float, default=0.5)
    ap.add_argument("--alpha", type=float, default=0.75)
    ap.add_argument("--observed", choices=("ppmi", "counts"), default="ppmi")
    ap.add_argument("--mix", default="0,0.5,1", help="weights of the refined vectors in the row-normalised average")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--json", default=None, help="append the result as one JSON line to this file")
    args = ap.parse_args()
    cooc = Cooccurrence.load(args.cache)
    vocab = cooc.vocab
    with limit_threads(cpu_count()):
        pmi = pmi_matrix(cooc.counts, cds=1.0, keep=cooc.keep)
        core = S.core_size(vocab.counts, DEFAULTS["core_min_count"], args.dim, DEFAULTS["core_max_words"])
        n = core or pmi.shape[0]
        t0 = time.perf_counter()
        u, s, vt = symmetric_svd(pmi[:n][:, :n].tocsr(), args.dim, None)
        t1 = time.perf_counter()
        print(f"svd {t1 - t0:.1f}s", flush=True)
        # weights on the core block
        cnt = cooc.counts[:n][:, :n].tocsr().astype(np.float64)
        if cooc.keep is not None:
            kp = cooc.keep[:n]
            cnt = sp.diags(kp) @ cnt @ sp.diags(kp)
        cnt = cnt.tocsr()
        m = pmi[:n][:, :n].tocsr()
        if args.observed == "ppmi":
            pat = m.copy()
            pat.data[:] = 1
            cnt = cnt.multiply(pat).tocsr()
        # align m to cnt pattern
        cnt.sort_indices()
        if args.observed == "ppmi":
            mm = m
        else:
            mm = pmi_matrix(cooc.counts, cds=1.0, keep=cooc.keep, positive=False)[:n][:, :n].tocsr()
            np.maximum(mm.data, 0, out=mm.data)
        mm.sort_indices()
        assert np.array_equal(mm.indptr, cnt.indptr) and np.array_equal(mm.indices, cnt.indices)
        nw = np.asarray(cnt.sum(axis=1)).ravel()  # core row sums (weighted)
        q = nw ** args.alpha
        q /= q.sum()
        g = cnt.data ** args.gpow
        gmat = sp.csr_matrix((g.astype(np.float32), cnt.indices, cnt.indptr), shape=cnt.shape)
        rowi = np.repeat(np.arange(n), np.diff(cnt.indptr))
        tvals = (g + args.k * nw[rowi] * q[cnt.indices]) * mm.data
        tmat = sp.csr_matrix((tvals.astype(np.float32), cnt.indices, cnt.indptr), shape=cnt.shape)
        gop = Op(gmat, args.dim)
        # T's transpose for the context side: its weights k n_w P_n(c) are not symmetric
        tb, tbt = S._BlockedCSR(tmat, args.dim), S._BlockedCSR(tmat.T.tocsr(), args.dim)
        print(f"prep {time.perf_counter() - t1:.1f}s nnz {gmat.nnz:,}", flush=True)
        w = (u * np.sqrt(s)).astype(np.float32)
        c = (vt.T * np.sqrt(s)).astype(np.float32)

        def L():
            return f"{loss(w, c, cnt, g, mm, nw, q, args.k):.5g}"

        print("loss", L(), flush=True)
        for sw in range(args.sweeps):
            t2 = time.perf_counter()
            w = solve_side(w, c, gop, tb, nw, q, args.k, args.lam, args.steps)
            print("loss W", L(), flush=True)
            c = solve_side(c, w, gop, tbt, q, nw, args.k, args.lam, args.steps)
            print("loss C", L(), flush=True)
            print(f"sweep {sw + 1}: {time.perf_counter() - t2:.1f}s", flush=True)
        t3 = time.perf_counter()
        # gauge: SVD of W C^T
        qw, rw_ = np.linalg.qr(w.astype(np.float64))
        qc, rc_ = np.linalg.qr(c.astype(np.float64))
        x, sig, yt = np.linalg.svd(rw_ @ rc_.T)
        U = (qw @ x).astype(np.float32)
        V = (qc @ yt.T).astype(np.float32)
        print(f"gauge {time.perf_counter() - t3:.1f}s; s1 {s[0]:.1f}->{sig[0]:.1f} s300 {s[-1]:.1f}->{sig[-1]:.1f}",
              flush=True)
    # fold in + vectors for refined
    res = {}
    full = pmi.tocsr()
    u2, s2, vt2 = S.fold_in(full, U, sig.astype(np.float32), np.ascontiguousarray(V.T), symmetric=True)
    wr = S.word_vectors(u2, s2, vt2, eig=0.5, abtt=1)
    u1, s1, vt1 = S.fold_in(full, u, s, vt, symmetric=True)
    wd = S.word_vectors(u1, s1, vt1, eig=0.5, abtt=1)
    def nr(a):
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)

    # align refined to default by orthogonal procrustes for averaging
    mat = wr.T.astype(np.float64) @ wd.astype(np.float64)
    a_, _, b_ = np.linalg.svd(mat)
    wr_al = (wr @ (a_ @ b_)).astype(np.float32)
    for mix in [float(t) for t in args.mix.split(",")]:
        v = (1 - mix) * nr(wd) + mix * nr(wr_al)
        sc = scores(vocab.words, v.astype(np.float32))
        res[mix] = sc
        print(f"mix {mix}: " + " | ".join(f"{k} {v}" for k, v in sc.items()), flush=True)
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps({"args": vars(args), "scores": res}) + "\n")


if __name__ == "__main__":
    main()
