"""Stage 5: PMI matrix -> word vectors by truncated SVD.

``M ~ U_d S_d V_d^T`` keeps the ``d`` largest singular triplets.  Word vectors are
``W = U_d S_d^p`` (eigenvalue weighting; Levy, Goldberg & Dagan 2015 found ``p = 0.5``
or 0 better than the "correct" ``p = 1``) and context vectors ``C = V_d S_d^p``.  With
``wc`` ("w+c") the vectors are ``W/|W| + C/|C|`` (rows normalised to unit length).

Backends, all seeded, returning singular values in descending order with a
deterministic sign for every vector (the largest entry of each ``u`` positive):

``randomized`` (default)
    Randomized subspace iteration (Halko, Martinsson & Tropp 2011, Alg. 4.4) written for
    this job: the sparse products run on every core (a numba kernel whose rows are summed
    in a fixed order, so any number of threads gives the same bits), the range is
    re-orthonormalised by Cholesky-QR in float64, and the small final SVD goes through the
    eigendecomposition of an ``l x l`` Gram matrix.
``sklearn``
    scikit-learn's ``randomized_svd`` (the same algorithm, single-threaded products).
``arpack``
    ``scipy.sparse.linalg.svds`` (ARPACK Lanczos): exact to tolerance, slow; the
    reference the fast backends are checked against.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .errors import ParameterError

SVD_BACKENDS = ("krylov", "randomized", "sklearn", "arpack")
#: power iterations of the randomized backends when not given
DEFAULT_N_ITER = 5


def check_svd_params(dim, eig, n_words: int | None = None) -> None:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ParameterError(f"dim={dim!r} must be a positive integer (typical: 100-500)")
    if n_words is not None and dim >= n_words:
        raise ParameterError(
            f"dim={dim} must be smaller than the vocabulary size ({n_words} words); "
            "lower --dim, lower --min-count or give a larger corpus"
        )
    if isinstance(eig, bool) or not isinstance(eig, (int, float)) or not (0 <= eig <= 1):
        raise ParameterError(f"eig={eig!r} must be in [0, 1] (0.5 is the usual value; 1 is plain U*S)")


def truncated_svd(matrix: sp.spmatrix, dim: int, *, backend: str = "randomized", n_iter: int | None = None,
                  n_oversamples: int = 20, seed: int = 0, workers: int | None = None, progress: bool = False):
    """The ``dim`` largest singular triplets of ``matrix``: ``(U, S, Vt)``, S descending.

    ``n_iter``: power iterations of the randomized backends (default
    ``DEFAULT_N_ITER``); ``n_oversamples``: extra columns of the random range finder.
    """
    check_svd_params(dim, 0.5, min(matrix.shape))
    if backend not in SVD_BACKENDS:
        raise ParameterError(f"svd backend {backend!r} is not one of {', '.join(SVD_BACKENDS)}")
    if backend == "krylov":
        return block_krylov_svd(matrix, dim, n_iter=6 if n_iter is None else n_iter, seed=seed,
                                workers=workers, progress=progress)
    n_iter = DEFAULT_N_ITER if n_iter is None else n_iter
    if backend == "randomized":
        return randomized_svd(matrix, dim, n_iter=n_iter, n_oversamples=n_oversamples, seed=seed,
                              workers=workers, progress=progress)
    from sklearn.utils.extmath import svd_flip

    if backend == "sklearn":
        from sklearn.utils.extmath import randomized_svd as sk_randomized_svd

        u, s, vt = sk_randomized_svd(matrix, dim, n_oversamples=n_oversamples, n_iter=n_iter,
                                     random_state=seed, flip_sign=False)
    else:
        from scipy.sparse.linalg import svds

        rng = np.random.default_rng(seed)
        v0 = rng.standard_normal(min(matrix.shape)).astype(matrix.dtype)
        u, s, vt = svds(matrix, k=dim, solver="arpack", v0=v0)
        order = np.argsort(-s, kind="stable")
        u, s, vt = u[:, order], s[order], vt[order]
    u, vt = svd_flip(u, vt)
    return np.ascontiguousarray(u), s, np.ascontiguousarray(vt)


class _BlockedCSR:
    """A sparse matrix prepared for fast parallel products with tall dense matrices:
    its columns are cut into blocks whose rows of the dense operand fit in the CPU cache
    (about 4 MB each), see :func:`pmiembed._kernels.csr_matmul_blocked`.  On the
    80k x 80k, 20M-nonzero PPMI matrix of wiki17m a product with 320 columns takes about
    a third of the time of the plain row-parallel product."""

    def __init__(self, a: sp.csr_matrix, width: int, cache_bytes: int = 4 << 20):
        from ._kernels import split_columns

        a = sp.csr_matrix(a)
        if not a.has_sorted_indices:
            a = a.sorted_indices()
        self.shape = a.shape
        self.dtype = a.dtype
        n_rows, n_cols = a.shape
        row_bytes = width * a.dtype.itemsize
        n_blocks = int(max(1, min(256, -(-n_cols * row_bytes // cache_bytes))))
        self.bounds = np.linspace(0, n_cols, n_blocks + 1).astype(np.int64)
        self.indptr2d = np.zeros((n_blocks, n_rows + 1), dtype=np.int64)
        self.indices = np.empty(a.nnz, dtype=np.int32)
        self.data = np.empty(a.nnz, dtype=a.dtype)
        split_columns(a.indptr.astype(np.int64), a.indices, a.data, self.bounds, self.indptr2d, self.indices,
                      self.data)

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        from ._kernels import csr_matmul_blocked

        out = np.empty((self.shape[0], x.shape[1]), dtype=self.dtype)
        csr_matmul_blocked(self.indptr2d, self.indices, self.data, np.ascontiguousarray(x, dtype=self.dtype), out, 64)
        return out


def _spmm(a: "_BlockedCSR", x: np.ndarray) -> np.ndarray:
    return a @ x


def _orthonormalize(y: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the columns of ``y`` (same shape): Cholesky-QR twice, with
    the Gram matrices in float64; Householder QR if ``y`` is too ill-conditioned."""
    from scipy.linalg import LinAlgError, cholesky, solve_triangular

    q = y
    try:
        for _ in range(2):
            g = q.T.astype(np.float64) @ q.astype(np.float64)
            r = cholesky(g, lower=False, check_finite=False)
            q = solve_triangular(r, q.T.astype(np.float64), trans="T", lower=False, check_finite=False).T
            q = np.ascontiguousarray(q, dtype=y.dtype)
        return q
    except LinAlgError:
        q, _ = np.linalg.qr(y.astype(np.float64))
        return np.ascontiguousarray(q, dtype=y.dtype)


def _normalize_columns_fast(y: np.ndarray) -> np.ndarray:
    """A well-conditioned basis of the columns of ``y`` for the power iterations: one
    Cholesky-QR pass with the Gram matrix and the triangular solve in ``y``'s dtype
    (BLAS, a fraction of :func:`_orthonormalize`'s float64 cost); exact
    orthonormality is only needed for the final basis."""
    from scipy.linalg import LinAlgError, cholesky, solve_triangular

    try:
        g = (y.T @ y).astype(np.float64)
        r = cholesky(g, lower=False, check_finite=False)
        r_inv = solve_triangular(r, np.eye(r.shape[0]), lower=False, check_finite=False).astype(y.dtype)
        q = y @ r_inv
        if not np.isfinite(q).all():
            raise LinAlgError("not finite")
        return q
    except (LinAlgError, ValueError):
        return _orthonormalize(y)


def randomized_svd(matrix: sp.spmatrix, dim: int, *, n_iter: int = DEFAULT_N_ITER, n_oversamples: int = 20,
                   seed: int = 0, workers: int | None = None, progress: bool = False):
    """Randomized SVD by subspace iteration with parallel sparse products.

    With ``l = dim + n_oversamples`` and a seeded Gaussian ``Omega`` (n x l):
    ``Y = A Omega``; ``n_iter`` times ``Y = A (A^T orth(Y))`` (re-orthonormalising
    between products); ``Q = orth(Y)``; ``B^T = A^T Q`` (n x l); the eigendecomposition
    of ``B B^T = V_B S^2 V_B^T`` gives ``U = Q V_B``, ``V = B^T V_B / S``.
    """
    import numba

    from .progress import progress_bar
    from .resources import cpu_count

    a = sp.csr_matrix(matrix)
    dtype = np.float32 if a.dtype == np.float32 else np.float64
    m, n = a.shape
    l = min(dim + n_oversamples, min(m, n))
    a = a.astype(dtype, copy=False)
    at = _BlockedCSR(a.T.tocsr(), l)
    a = _BlockedCSR(a, l)
    from threadpoolctl import threadpool_limits

    previous = numba.get_num_threads()
    numba.set_num_threads(min(workers or cpu_count(), numba.config.NUMBA_NUM_THREADS))
    # dense BLAS steps single-threaded: OpenBLAS splits some products differently for
    # different thread counts, and the result must not depend on --workers (they are a
    # few percent of the time; the sparse products use every core)
    try:
        with progress_bar(total=2 * n_iter + 2, desc="svd", unit="product", enable=progress) as bar, \
                threadpool_limits(limits=1):
            def tick():
                if bar is not None:
                    bar.update(1)

            omega = np.random.default_rng(seed).standard_normal((n, l), dtype=np.float64).astype(dtype)
            y = _spmm(a, omega)
            tick()
            del omega
            for _ in range(n_iter):
                z = _spmm(at, _normalize_columns_fast(y))
                tick()
                y = _spmm(a, _normalize_columns_fast(z))
                tick()
            q = _orthonormalize(y)
            bt = _spmm(at, q)
            tick()
    finally:
        numba.set_num_threads(previous)
    with threadpool_limits(limits=1):
        return _ritz(q, bt, dim, dtype)


def _ritz(q, bt, dim, dtype):
    """Top ``dim`` Ritz triplets from ``q`` and ``B^T = A^T q``: the eigendecomposition
    ``B B^T = V_B S^2 V_B^T`` gives ``U = q V_B`` and ``V = B^T V_B / S``; signs fixed so
    that the largest entry of each ``u`` is positive."""
    bt64 = bt.astype(np.float64)
    gram = bt64.T @ bt64
    evals, evecs = np.linalg.eigh(gram)
    order = np.argsort(-evals, kind="stable")[:dim]
    s = np.sqrt(np.maximum(evals[order], 0.0))
    vb = evecs[:, order]
    u = q.astype(np.float64) @ vb
    safe = np.where(s > 0, s, 1.0)
    v = (bt64 @ vb) / safe
    # deterministic signs: the largest-magnitude entry of each u column is positive
    idx = np.argmax(np.abs(u), axis=0)
    signs = np.sign(u[idx, np.arange(u.shape[1])])
    signs[signs == 0] = 1.0
    u *= signs
    v *= signs
    return np.ascontiguousarray(u, dtype=dtype), s.astype(dtype), np.ascontiguousarray(v.T, dtype=dtype)


def _finish(a_t, q, dim: int, dtype, tick):
    """Rayleigh-Ritz on an orthonormal range basis ``q`` (m x l): ``B^T = A^T q``, then
    :func:`_ritz`."""
    from threadpoolctl import threadpool_limits

    bt = _spmm(a_t, q)
    tick()
    with threadpool_limits(limits=1):
        return _ritz(q, bt, dim, dtype)


def _project_out(y: np.ndarray, basis: list[np.ndarray]) -> np.ndarray:
    """``y`` minus its projection on the orthonormal blocks of ``basis`` (twice, for
    orthogonality to working precision: classical block Gram-Schmidt with
    re-orthogonalisation)."""
    for _ in range(2):
        for q in basis:
            y -= q @ (q.T @ y)
    return y


def block_krylov_svd(matrix: sp.spmatrix, dim: int, *, block: int | None = None, n_iter: int = 6,
                     seed: int = 0, workers: int | None = None, progress: bool = False):
    """Randomized block Krylov SVD (Musco & Musco 2015) with parallel sparse products.

    With a seeded Gaussian ``Omega`` (n x b), the basis ``Q`` spans the block Krylov
    space ``[A Omega, (A A^T) A Omega, ..., (A A^T)^q A Omega]`` (``q = n_iter``; each
    new block orthogonalised against the earlier ones), and the top ``dim`` Ritz
    triplets of ``A`` on it are returned.  Unlike subspace iteration, nothing computed
    is thrown away: ``2q + 1`` thin products of width ``b`` build a ``(q+1) b``-dim
    space whose polynomial filter has degree ``2q + 1``.  Default ``b``: the smallest
    block with ``(q+1) b >= 2 dim`` rounded up to a multiple of 16.
    """
    import numba

    from .progress import progress_bar
    from .resources import cpu_count

    a = sp.csr_matrix(matrix)
    dtype = np.float32 if a.dtype == np.float32 else np.float64
    a = a.astype(dtype, copy=False)
    m, n = a.shape
    if block is None:
        block = -(-2 * dim // (n_iter + 1))
        block = -(-block // 16) * 16
    block = max(1, min(block, min(m, n)))
    at = _BlockedCSR(a.T.tocsr(), block)
    a = _BlockedCSR(a, block)
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(workers or cpu_count(), numba.config.NUMBA_NUM_THREADS)))
    try:
        with progress_bar(total=2 * n_iter + 2, desc="svd", unit="product", enable=progress) as bar:
            def tick():
                if bar is not None:
                    bar.update(1)

            omega = np.random.default_rng(seed).standard_normal((n, block), dtype=np.float64).astype(dtype)
            q = _orthonormalize(_spmm(a, omega))
            tick()
            del omega
            basis = [q]
            for _ in range(n_iter):
                z = _spmm(at, q)
                tick()
                y = _spmm(a, z)
                tick()
                q = _orthonormalize(_project_out(y, basis))
                basis.append(q)
                if sum(b.shape[1] for b in basis) >= min(m, n):
                    break
            q = np.ascontiguousarray(np.hstack(basis))
            del basis
            return _finish(at, q, dim, dtype, tick)
    finally:
        numba.set_num_threads(previous)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def word_vectors(u: np.ndarray, s: np.ndarray, vt: np.ndarray, *, eig: float = 0.5, wc: bool = False,
                 abtt: int | None = None, dtype=np.float32) -> np.ndarray:
    """Word vectors from an SVD.

    ``W = U S^eig``; with ``wc``, ``unit(U S^eig) + unit(V S^eig)`` (rows normalised).
    With ``abtt = D`` ("all-but-the-top", Mu & Viswanath 2018) the mean vector is
    subtracted and the projections on the top ``D`` principal directions of the centred
    vectors are removed: ``W' = Wc - Wc E E^T`` with ``E`` the top-D eigenvectors of
    ``Wc^T Wc`` (``abtt=0`` only centres).
    """
    check_svd_params(len(s), eig)
    weight = s ** eig
    w = u * weight
    if wc:
        w = _unit_rows(w) + _unit_rows(vt.T * weight)
    if abtt is not None:
        if isinstance(abtt, bool) or not isinstance(abtt, (int, np.integer)) or not 0 <= abtt < w.shape[1]:
            raise ParameterError(f"abtt={abtt!r} must be an integer from 0 to dim-1 (directions removed), or None")
        w = remove_top_directions(w, int(abtt))
    return np.ascontiguousarray(w, dtype=dtype)


def remove_top_directions(w: np.ndarray, d: int) -> np.ndarray:
    """Centre the rows of ``w`` and remove their top ``d`` principal directions."""
    from threadpoolctl import threadpool_limits

    x = np.asarray(w, dtype=np.float64)
    x = x - x.mean(axis=0)
    if d:
        with threadpool_limits(limits=1):  # same bits whatever the thread count
            evals, evecs = np.linalg.eigh(x.T @ x)
            top = evecs[:, np.argsort(-evals, kind="stable")[:d]]
            x = x - (x @ top) @ top.T
    return x
