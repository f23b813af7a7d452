"""Skip-gram's own objective solved on the counts (docs/ablation.md, "Skip-gram's objective
on the counts"): a research script, not part of the default recipe.

    PMIEMBED_DATA=../shared/data python benchmarks/sgns.py --cache COUNTS.npz --solver adam --passes 8

``COUNTS.npz``: the defaults' counts saved by ``benchmarks/levers.py --cache``.  On the
core of the ``--core`` most frequent words (rows and contexts) it minimises skip-gram
with negative sampling's loss in expectation (Levy & Goldberg 2014),

    L(W, C) = - sum_{w,c} n_wc log s(w . c) + k n_w P_n(c) log s(-w . c),

``n_wc`` the defaults' window-weighted, expected-subsampled counts divided by their total,
``n_w`` their row sums, ``P_n(c) ~ n_c^cds``.  The negative weights ``k n_w P_n(c)`` are
never stored: a row block of ``X = W C^T`` is formed densely, turned into the gradient
``dL/dX = (n + k n_w P_n) s(X) - n`` by one compiled pass, and multiplied by ``C`` (or
``W``).  Start: ``W = U S^1/2``, ``C = V S^1/2`` from the defaults' randomized SVD of the
core block of the shifted PPMI ``max(PMI_cds - log k, 0)`` (``--start ppmi``: of the
defaults' PPMI).  Solvers (``--solver``):

``adam``
    full-batch Adam on ``W`` and ``C`` together (3 dense products a pass).
``newton``
    alternating truncated Newton: every row of ``W`` (then of ``C``) takes ``--cg``
    conjugate-gradient steps on its exact Newton system
    ``(C^T diag(h_w) C) d = -g_w``, ``h_wc = (n_wc + k n_w P_n(c)) s (1 - s)``, the
    Hessian products done densely a row block at a time (``3 + 2 cg`` products a side).
``rosgns``
    RO-SGNS's projector-splitting step (Fonarev et al. 2017) on ``X = U S V^T``:
    ``U' = qr(X V - lr G V)``, ``V' S'^T = qr(X^T U' - lr G^T U')``, ``G = dL/dX``;
    ``lr`` in units of ``4 / max(n + k n_w P_n)`` (the step that cannot overshoot any
    single entry).

Rows outside the core are folded in from their shifted-PPMI rows against the core's
contexts (least squares, ``m_w C (C^T C)^-1``).  Vectors evaluated after passes 0, 1, 2,
4, 8, ...: ``W``; ``W + C``; and ``eig``: ``W C^T = U S V^T`` re-factored, ``U S^1/2``
with the mean and top direction removed (the defaults' post-processing).  Prints the
loss (per unit of count mass) and seconds of every pass and one JSON line a checkpoint.
Deterministic: no randomness but the start's SVD (seed 0).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from levers import scores, symmetric_svd  # noqa: E402

from pmiembed import svd as S  # noqa: E402
from pmiembed._jit import kernel  # noqa: E402
from pmiembed.cooccur import Cooccurrence  # noqa: E402
from pmiembed.pmi import pmi_matrix  # noqa: E402


@kernel(fastmath=True)
def _grad_block(x, r0, a, b, k, indptr, indices, data):
    """In place: ``x`` (a row block of ``W C^T``, rows ``r0...``) becomes ``dL/dX``; the
    negative weight of cell (i, j) is ``k a[r0 + i] b[j]``, the positive ``data`` of the
    CSR rows ``r0...``.  Returns the block's loss."""
    nb, n = x.shape
    loss = 0.0
    corr = np.zeros(n, dtype=np.float32)
    for i in range(nb):
        ka = k * a[r0 + i]
        p0, p1 = indptr[r0 + i], indptr[r0 + i + 1]
        for p in range(p0, p1):  # positive terms, read before x is overwritten
            j = indices[p]
            v = x[i, j]
            s = 1.0 / (1.0 + np.exp(-v))
            loss += data[p] * (max(-v, 0.0) + np.log1p(np.exp(-abs(v))))
            corr[j] = data[p] * (s - 1.0)
        acc = 0.0
        for j in range(n):
            v = x[i, j]
            e = np.exp(-abs(v))
            s = 1.0 / (1.0 + e) if v >= 0 else e / (1.0 + e)
            wn = ka * b[j]
            acc += wn * (max(v, 0.0) + np.log1p(e))
            x[i, j] = wn * s
        loss += acc
        for p in range(p0, p1):
            j = indices[p]
            x[i, j] += corr[j]
    return loss


@kernel(fastmath=True)
def _curvature(x, r0, a, b, k, indptr, indices, data, h):
    """``h = (pos + k a_i b_j) s(x) (1 - s(x))`` for a row block ``x`` of ``W C^T``."""
    nb, n = x.shape
    for i in range(nb):
        ka = k * a[r0 + i]
        for j in range(n):
            e = np.exp(-abs(x[i, j]))
            h[i, j] = ka * b[j] * e / ((1.0 + e) * (1.0 + e))
        for p in range(indptr[r0 + i], indptr[r0 + i + 1]):
            j = indices[p]
            e = np.exp(-abs(x[i, j]))
            h[i, j] += data[p] * e / ((1.0 + e) * (1.0 + e))


class Problem:
    """The core's counts (CSR, both orientations) and the rank-one negative weights."""

    def __init__(self, n: np.ndarray | sp.csr_matrix, k: float, cds: float, block: int):
        n = sp.csr_matrix(n, dtype=np.float64)
        n = n / n.sum()
        self.n = n.astype(np.float32).tocsr()
        self.nt = self.n.T.tocsr()
        for m in (self.n, self.nt):
            m.sort_indices()
        self.nw = np.asarray(n.sum(axis=1)).ravel()
        nc = np.asarray(n.sum(axis=0)).ravel()
        self.pn = nc ** cds / (nc ** cds).sum()
        self.k, self.block = float(k), block
        self.size = n.shape[0]

    def side(self, transpose: bool):
        """(a, b, csr): weights ``k a_i b_j`` and positives of ``X`` (or ``X^T``)."""
        return (self.pn, self.nw, self.nt) if transpose else (self.nw, self.pn, self.n)

    def blocks(self):
        for r0 in range(0, self.size, self.block):
            yield r0, min(r0 + self.block, self.size)

    def grad_block(self, wb, c, r0, transpose=False):
        """``(G_b, loss_b)`` for rows ``r0...`` of ``X = W C^T`` (``transpose``: of ``C W^T``)."""
        a, b, m = self.side(transpose)
        x = wb @ c.T
        loss = _grad_block(x, r0, a, b, self.k, m.indptr, m.indices, m.data)
        return x, loss

    def curvature(self, wb, c, r0, transpose=False):
        a, b, m = self.side(transpose)
        x = wb @ c.T
        h = np.empty_like(x)
        _curvature(x, r0, a, b, self.k, m.indptr, m.indices, m.data, h)
        return h

    def loss(self, w, c) -> float:
        return float(sum(self.grad_block(w[r0:r1], c, r0)[1] for r0, r1 in self.blocks()))

    def gradients(self, w, c):
        gw, gc, loss = np.empty_like(w), np.zeros_like(c), 0.0
        for r0, r1 in self.blocks():
            g, lb = self.grad_block(w[r0:r1], c, r0)
            loss += lb
            gw[r0:r1] = g @ c
            gc += g.T @ w[r0:r1]
        return gw, gc, loss


def adam(p: Problem, w, c, state, lr):
    gw, gc, loss = p.gradients(w, c)
    t = state.setdefault("t", 0) + 1
    state["t"] = t
    b1, b2, eps = 0.9, 0.999, 1e-8
    out = []
    for name, x, g in (("w", w, gw), ("c", c, gc)):
        m = state.setdefault("m" + name, np.zeros_like(x))
        v = state.setdefault("v" + name, np.zeros_like(x))
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        step = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        out.append((x - lr * step).astype(np.float32))
    return out[0], out[1], loss


def newton_side(p: Problem, w, c, cg: int, transpose: bool):
    """Every row of ``w`` (``C`` when ``transpose``): ``cg`` CG steps on its Newton system."""
    out = np.empty_like(w)
    loss = 0.0
    for r0, r1 in p.blocks():
        wb = w[r0:r1]
        g, lb = p.grad_block(wb, c, r0, transpose)
        loss += lb
        grad = g @ c
        del g
        h = p.curvature(wb, c, r0, transpose)
        d = np.zeros_like(wb)
        r = -grad
        q = r.copy()
        rs = np.einsum("ij,ij->i", r, r)
        for _ in range(cg):
            hq = ((q @ c.T) * h) @ c
            den = np.einsum("ij,ij->i", q, hq)
            alpha = np.where(den > 0, rs / np.where(den > 0, den, 1), 0).astype(np.float32)
            d += alpha[:, None] * q
            r -= alpha[:, None] * hq
            rs2 = np.einsum("ij,ij->i", r, r)
            beta = np.where(rs > 0, rs2 / np.where(rs > 0, rs, 1), 0).astype(np.float32)
            q = r + beta[:, None] * q
            rs = rs2
        out[r0:r1] = wb + d
    return out, loss


def factor(w, c):
    """``W C^T = U diag(s) V^T`` (thin QRs and a small SVD)."""
    qw, rw = np.linalg.qr(w.astype(np.float64))
    qc, rc = np.linalg.qr(c.astype(np.float64))
    a, s, bt = np.linalg.svd(rw @ rc.T)
    return qw @ a, s, qc @ bt.T


def rosgns(p: Problem, w, c, lr):
    """One projector-splitting step of RO-SGNS on ``X = W C^T``, ``X - lr G``."""
    u, s, v = factor(w, c)
    u, v = u.astype(np.float32), v.astype(np.float32)
    g_all = np.empty((p.size, p.size), dtype=np.float32) if p.size <= 25000 else None
    gv = np.empty_like(u)
    loss = 0.0
    for r0, r1 in p.blocks():
        g, lb = p.grad_block(w[r0:r1], c, r0)
        loss += lb
        gv[r0:r1] = g @ v
        if g_all is not None:
            g_all[r0:r1] = g
    k_ = u * s.astype(np.float32) - lr * gv
    u2, _ = np.linalg.qr(k_.astype(np.float64))
    u2 = u2.astype(np.float32)
    gtu = np.zeros_like(v)
    for r0, r1 in p.blocks():
        g = g_all[r0:r1] if g_all is not None else p.grad_block(w[r0:r1], c, r0)[0]
        gtu += g.T @ u2[r0:r1]
    del g_all
    # X^T U' = V S U^T U'
    l_ = (v * s.astype(np.float32)) @ (u.T @ u2) - lr * gtu
    v2, r2 = np.linalg.qr(l_.astype(np.float64))  # X' = U' R2^T V'^T
    a, s2, bt = np.linalg.svd(r2.T)
    root = np.sqrt(s2)
    w2 = (u2 @ a * root).astype(np.float32)
    c2 = (v2 @ bt.T * root).astype(np.float32)
    return w2, c2, loss


def fold_rest(rest: sp.csr_matrix, c: np.ndarray) -> np.ndarray:
    """Least-squares rows for words outside the core: ``m C (C^T C)^-1``."""
    c64 = c.astype(np.float64)
    proj = c64 @ np.linalg.inv(c64.T @ c64)
    return S._sparse_times_dense(rest, np.ascontiguousarray(proj.astype(np.float32)))


def vector_sets(w, c, rest, kinds):
    out = {}
    if "W" in kinds:
        out["W"] = np.vstack([w, fold_rest(rest, c)])
    if "W+C" in kinds:
        out["W+C"] = np.vstack([w + c, fold_rest(rest, c) + fold_rest(rest, w)])
    if "eig" in kinds:
        u, s, v = factor(w, c)
        u_rest = S._sparse_times_dense(rest, np.ascontiguousarray((v / s).astype(np.float32)))
        u_all = np.vstack([u.astype(np.float32), u_rest])
        out["eig"] = S.word_vectors(u_all, s.astype(np.float32), v.T.astype(np.float32), eig=0.5, abtt=1)
    return out


def prepare(cache: Path, core: int, k: float, cds: float, dim: int, start: str, out: Path):
    """The core's counts, the shifted PPMI of the rest against the core, and the start:
    the SVD of the core block of the shifted PPMI (``sppmi``) or of the defaults' PPMI
    (``ppmi``: no shift, no smoothing)."""
    cooc = Cooccurrence.load(cache)
    words = np.array(cooc.vocab.words, dtype=object)
    cnt = cooc.counts.tocsr()
    sppmi = pmi_matrix(cnt, cds=cds, neg=k, keep=cooc.keep)
    cnt = cnt[:core][:, :core].astype(np.float64)
    if cooc.keep is not None:
        kp = cooc.keep[:core]
        cnt = (sp.diags(kp) @ cnt @ sp.diags(kp)).tocsr()
    rest = sppmi[core:, :core].tocsr()
    t0 = time.perf_counter()
    m = sppmi if start == "sppmi" else pmi_matrix(cooc.counts, cds=1.0, keep=cooc.keep)
    u, s, vt = symmetric_svd(m[:core][:, :core].tocsr(), dim, None)
    svd_s = time.perf_counter() - t0
    np.savez(out, words=words.astype(str), cnt_data=cnt.data.astype(np.float32), cnt_indices=cnt.indices,
             cnt_indptr=cnt.indptr, rest_data=rest.data, rest_indices=rest.indices, rest_indptr=rest.indptr,
             rest_shape=np.array(rest.shape), u=u, s=s, vt=vt, svd_seconds=svd_s)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True, help="counts saved by benchmarks/levers.py --cache")
    ap.add_argument("--core-file", default=None, help="the prepared core (.npz): written if missing, read if present")
    ap.add_argument("--solver", choices=("adam", "newton", "rosgns"), default="adam")
    ap.add_argument("--passes", type=int, default=8)
    ap.add_argument("--core", type=int, default=20000, help="words (and contexts) optimised [20000]")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--start", choices=("sppmi", "ppmi"), default="sppmi",
                    help="the SVD started from: of the shifted PPMI (cds, k) or of the defaults' PPMI [sppmi]")
    ap.add_argument("--k", type=float, default=5.0, help="negative samples [5]")
    ap.add_argument("--cds", type=float, default=0.75, help="P_n(c) ~ n_c^cds [0.75]")
    ap.add_argument("--lr", type=float, default=None, help="adam: step [0.01]; rosgns: in units of the safe step [1]")
    ap.add_argument("--cg", type=int, default=3, help="newton: CG steps a row a side [3]")
    ap.add_argument("--block", type=int, default=2000, help="rows of X held densely at a time [2000]")
    ap.add_argument("--kinds", default="W,W+C,eig", help="vectors evaluated [W,W+C,eig]")
    ap.add_argument("--checkpoints", default=None,
                    help="passes after which to evaluate [0, 1, 2, 4, 8, ... and the last]")
    ap.add_argument("--json", default=None, help="append every checkpoint as one JSON line to this file")
    args = ap.parse_args()
    tag = "" if args.start == "sppmi" else f".{args.start}"
    core_file = Path(args.core_file or f"{args.cache}.core{args.core}{tag}.npz")
    if not core_file.exists():
        t0 = time.perf_counter()
        prepare(Path(args.cache), args.core, args.k, args.cds, args.dim, args.start, core_file)
        print(f"prepared {core_file} in {time.perf_counter() - t0:.1f} s", flush=True)
    z = np.load(core_file, allow_pickle=False)
    n = args.core
    cnt = sp.csr_matrix((z["cnt_data"], z["cnt_indices"], z["cnt_indptr"]), shape=(n, n))
    rest = sp.csr_matrix((z["rest_data"], z["rest_indices"], z["rest_indptr"]), shape=tuple(z["rest_shape"]))
    words = [str(x) for x in z["words"]]
    u, s, vt = z["u"], z["s"], z["vt"]
    root = np.sqrt(s).astype(np.float32)
    w = np.ascontiguousarray(u * root, dtype=np.float32)
    c = np.ascontiguousarray(vt.T * root, dtype=np.float32)
    p = Problem(cnt, args.k, args.cds, args.block)
    kinds = args.kinds.split(",")
    lr = args.lr if args.lr is not None else (0.01 if args.solver == "adam" else 1.0)
    if args.solver == "rosgns":
        top = max(float((p.n.data + args.k * p.nw[np.repeat(np.arange(n), np.diff(p.n.indptr))]
                          * p.pn[p.n.indices]).max()), args.k * p.nw.max() * p.pn.max())
        lr = lr * 4.0 / top
    print(f"core {n} words, {cnt.nnz:,} nonzero counts; solver {args.solver}, lr {lr:.4g}; "
          f"start SVD {float(z['svd_seconds']):.1f} s", flush=True)
    state: dict = {}
    total = 0.0
    record = {"solver": args.solver, "start": args.start, "core": n, "k": args.k, "cds": args.cds, "lr": lr,
              "cg": args.cg, "block": args.block}

    def checkpoint(done, loss):
        t0 = time.perf_counter()
        res = {}
        for name, vec in vector_sets(w, c, rest, kinds).items():
            res[name] = scores(words + [], vec)
            sc = res[name]
            print(f"  pass {done} {name}: " + " | ".join(
                f"{key} {val[0]:.3f}/{val[1]:.3f}" if isinstance(val, list) else f"{key} {val}"
                for key, val in sc.items() if key != "king-man+woman"), flush=True)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        line = dict(record, passes=done, loss=loss, seconds=round(total, 1), peak_gb=round(rss, 2), scores=res)
        print(json.dumps(line), flush=True)
        print(f"  (evaluation {time.perf_counter() - t0:.1f} s)", flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(line) + "\n")

    t0 = time.perf_counter()
    loss = p.loss(w, c)
    print(f"pass 0: loss {loss:.6f} ({time.perf_counter() - t0:.1f} s for the loss alone)", flush=True)
    marks = ({0} | {2 ** i for i in range(20)} | {args.passes} if args.checkpoints is None
             else {int(x) for x in args.checkpoints.split(",")})
    if 0 in marks:
        checkpoint(0, loss)
    for done in range(1, args.passes + 1):
        t0 = time.perf_counter()
        if args.solver == "adam":
            w, c, before = adam(p, w, c, state, lr)
        elif args.solver == "newton":
            w, before = newton_side(p, w, c, args.cg, False)
            c, _ = newton_side(p, c, w, args.cg, True)
        else:
            w, c, before = rosgns(p, w, c, lr)
        dt = time.perf_counter() - t0
        total += dt
        loss = p.loss(w, c)
        print(f"pass {done}: loss {loss:.6f} (before {before:.6f}), {dt:.1f} s, total {total:.1f} s", flush=True)
        if not np.isfinite(loss):
            print("loss is not finite: stopped", flush=True)
            return 1
        if done in marks:
            checkpoint(done, loss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
