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
    in a fixed order, so any number of threads gives the same bits), the dense steps run
    on fixed row chunks in parallel, the range is re-orthonormalised by Cholesky-QR with
    float64 Gram matrices, and the small final SVD goes through the eigendecomposition of
    an ``l x l`` Gram matrix.  A symmetric matrix (PPMI with cds = 1, the default) is
    used as its own transpose and its products drive a Chebyshev filter instead of plain
    powers (:func:`_chebyshev_range`): same cost, a much better converged tail.
``krylov``
    Randomized block Krylov (Musco & Musco 2015) with the same products.
``sklearn``
    scikit-learn's ``randomized_svd`` (the same algorithm, single-threaded products).
``arpack``
    ``scipy.sparse.linalg.svds`` (ARPACK Lanczos): exact to tolerance, slow; the
    reference the fast backends are checked against.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.sparse as sp

from ._validation import Integral, Interval, Param, Real, StrOptions, check_param, validate_params
from .defaults import DEFAULTS, UPDATE_N_ITER
from .errors import ParameterError

SVD_BACKENDS = ("krylov", "randomized", "sklearn", "arpack")
#: what the SVD parameters accept (see :mod:`pmiembed._validation`)
CONSTRAINTS = {
    "dim": Param((Interval(Integral, 1, None),), "a positive integer (typical: 100-500)"),
    "eig": Param((Interval(Real, 0, 1),), "in [0, 1] (0.5 is the usual value; 1 is plain U*S)"),
    "backend": [StrOptions(SVD_BACKENDS)],
    "core": [Interval(Integral, 1, None), None],
}
#: singular values below this share of the largest, in units of the machine epsilon of
#: the factors' dtype, are rounding noise (float32: 1.2e-4): a matrix with fewer than
#: ``dim`` above it is numerically of lower rank than asked
NOISE_EPS = 1000


def noise_level(s: np.ndarray, dtype) -> float:
    """Singular values at or below this are rounding noise (see :data:`NOISE_EPS`)."""
    top = float(np.max(s)) if len(s) else 0.0
    return top * NOISE_EPS * float(np.finfo(np.dtype(dtype)).eps)


def check_rank(s: np.ndarray, dim: int, dtype) -> None:
    """Refuse a factorisation with fewer than ``dim`` singular values above noise: the
    directions below it are arbitrary, and folding in divides by them (``u = a V
    S^-1``), which gives rare words huge, nearly parallel vectors."""
    s = np.asarray(s, dtype=np.float64)
    if not np.all(np.isfinite(s)):
        raise ParameterError(f"`dim={dim}`: the SVD did not converge (non-finite singular values); the PPMI matrix is "
                             "numerically degenerate: lower `dim` or give a corpus with more varied contexts")
    rank = int(np.count_nonzero(s > noise_level(s, dtype))) if len(s) and s.max() > 0 else 0
    if rank < dim:
        raise ParameterError(
            f"`dim={dim}`: the PPMI matrix has only {rank} dimension{'s' if rank != 1 else ''} above rounding noise "
            f"(singular values above {NOISE_EPS} eps x the largest), fewer than `dim`; "
            + (f"lower `dim` to at most {rank} or " if rank else "")
            + "give a corpus with more varied contexts (it looks templated or repetitive)")


def check_svd_params(dim, eig, n_words: int | None = None) -> None:
    check_param("dim", dim, CONSTRAINTS["dim"])
    if n_words is not None and dim >= n_words:
        raise ParameterError(
            f"`dim={dim}` must be smaller than the vocabulary size ({n_words} words); "
            "lower `dim`, lower `min_count` or give a larger corpus", param="dim"
        )
    check_param("eig", eig, CONSTRAINTS["eig"])


def truncated_svd(matrix: sp.spmatrix, dim: int, *, backend: str = DEFAULTS["svd"],
                  n_iter: int | None = DEFAULTS["n_iter"], n_oversamples: int = DEFAULTS["oversamples"],
                  seed: int = 0, workers: int | None = None, progress: bool = False,
                  copy: bool = True, core: int | None = None, symmetric: bool | None = None, rank_one=None):
    """The ``dim`` largest singular triplets of ``matrix``: ``(U, S, Vt)``, S descending.

    ``n_iter``: power iterations of the randomized backends (None: the default,
    ``DEFAULTS["n_iter"]``); ``n_oversamples``: extra columns of the random range finder;
    ``copy``: the randomized backends reorder the matrix into a cache-blocked copy
    (fastest); False reads it in place (saves the matrix's size in memory, products a
    little slower; a model with a ``memory`` budget uses it).  ``core``: factorise only
    the leading ``core x core`` block (the randomized backends read it inside ``matrix``
    without a copy); :func:`fold_in` extends the result to all rows and columns.
    ``symmetric``: whether ``matrix`` equals its transpose; None detects it
    (:func:`is_symmetric`, a transposed copy for a moment); True is a promise by a
    caller that knows (PPMI with cds = 1 of the model's own symmetric counts) and is not
    checked.  ``rank_one``: ``(c, r)``, factorise ``matrix + c r r^T`` (its core block)
    without forming it (:class:`RankOne`; the bounded negative PMI).
    """
    validate_params(CONSTRAINTS, {"core": core, "backend": backend})
    if core is not None:
        core = int(core)
        if core >= min(matrix.shape):
            core = None
    check_svd_params(dim, 0.5, min(matrix.shape) if core is None else core)
    if backend == "krylov":
        u, s, vt = block_krylov_svd(matrix, dim, n_iter=DEFAULTS["n_iter"] if n_iter is None else n_iter, seed=seed,
                                    workers=workers, progress=progress, copy=copy, core=core, symmetric=symmetric,
                                    rank_one=rank_one)
    elif backend == "randomized":
        u, s, vt = randomized_svd(matrix, dim, n_iter=DEFAULTS["n_iter"] if n_iter is None else n_iter,
                                  n_oversamples=n_oversamples, seed=seed, workers=workers, progress=progress,
                                  copy=copy, core=core, symmetric=symmetric, rank_one=rank_one)
    else:
        u, s, vt = _library_svd(matrix, dim, backend, DEFAULTS["n_iter"] if n_iter is None else n_iter, n_oversamples,
                                seed, core, rank_one)
    check_rank(s, dim, u.dtype)
    return u, s, vt


def _library_svd(matrix, dim, backend, n_iter, n_oversamples, seed, core, rank_one=None):
    """scikit-learn's randomized_svd or ARPACK, with BLAS on one thread: OpenBLAS splits
    products differently for different thread counts (up to 1.3e-3 apart in the
    vectors), and the result must not depend on the number of workers."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _library_svd_1(matrix, dim, backend, n_iter, n_oversamples, seed, core, rank_one)


def _library_svd_1(matrix, dim, backend, n_iter, n_oversamples, seed, core, rank_one=None):
    from sklearn.utils.extmath import svd_flip

    if core is not None:
        matrix = sp.csr_matrix(matrix)[:core, :core]
    if rank_one is not None:
        matrix = _rank_one_operator(sp.csr_matrix(matrix), *rank_one)
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


def _rank_one_operator(a: sp.csr_matrix, c: float, r: np.ndarray):
    """``a + c r r^T`` as a scipy LinearOperator (for ARPACK and scikit-learn)."""
    from scipy.sparse.linalg import LinearOperator

    r = np.asarray(r[:a.shape[0]], dtype=np.float64)
    at = a.T.tocsr()

    def mv(x, m=a):
        x = np.asarray(x)
        return (m @ x + c * np.multiply.outer(r, r @ x)).astype(a.dtype)

    return LinearOperator(a.shape, matvec=mv, matmat=mv, rmatvec=lambda x: mv(x, at), rmatmat=lambda x: mv(x, at),
                          dtype=a.dtype)


def _block_shape(shape: tuple[int, int], core: int | None) -> tuple[int, int]:
    """Shape of the leading ``core x core`` block of a matrix of ``shape`` (the whole
    matrix when ``core`` is None)."""
    return shape if core is None else (min(core, shape[0]), min(core, shape[1]))


class _BlockedCSR:
    """A sparse matrix prepared for fast parallel products with tall dense matrices:
    its columns are cut into blocks whose rows of the dense operand stay in the CPU's
    shared cache (``cache_bytes`` each), see :func:`pmiembed._kernels.csr_matmul_blocked`.
    Smaller blocks would make every row load and store its accumulator once more per
    further block; larger ones fall out of the cache.

    ``copy=True`` reorders the entries block by block into a copy (the matrix's size
    again); ``copy=False`` keeps pointers to each row's block segments in ``a`` as it is
    (``a`` must stay alive and unchanged), which saves the copy and makes products a
    little slower: segments scattered over the matrix are read less efficiently than one
    contiguous pass per block (measurements: docs/implementation-notes.md)."""

    def __init__(self, a: sp.csr_matrix, width: int, cache_bytes: int = 8 << 20, copy: bool = True,
                 core: int | None = None):
        from ._kernels import segment_pointers, split_columns

        a = sp.csr_matrix(a)
        if not a.has_sorted_indices:
            a = a.sorted_indices()
        # ``core``: the operator is the leading core x core block of ``a`` (no copy of it
        # is made beyond the blocked copy itself)
        n_rows, n_cols = _block_shape(a.shape, core)
        self.shape = (n_rows, n_cols)
        self.dtype = a.dtype
        row_bytes = width * a.dtype.itemsize
        n_blocks = int(max(1, min(256, -(-n_cols * row_bytes // cache_bytes))))
        self.bounds = np.linspace(0, n_cols, n_blocks + 1).astype(np.int64)
        indptr = a.indptr[:n_rows + 1].astype(np.int64)
        if copy:
            indptr2d = np.zeros((n_blocks, n_rows + 1), dtype=np.int64)
            nnz = int(indptr[-1]) if n_cols == a.shape[1] else int(np.count_nonzero(a.indices[:indptr[-1]] < n_cols))
            self.indices = np.empty(nnz, dtype=np.int32)
            self.data = np.empty(nnz, dtype=a.dtype)
            split_columns(indptr, a.indices, a.data, self.bounds, indptr2d, self.indices, self.data)
            self.starts, self.ends = indptr2d[:, :-1], indptr2d[:, 1:]
        else:
            seg = np.empty((n_blocks + 1, n_rows), dtype=np.int64)
            segment_pointers(indptr, a.indices, self.bounds, seg)
            self.indices, self.data = a.indices, a.data
            self.starts, self.ends = seg[:-1], seg[1:]

    def matmul(self, x: np.ndarray, out: np.ndarray | None = None, alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
        """``out = alpha * A @ x + beta * out`` (``out`` allocated when None; it must not
        be ``x``)."""
        from ._kernels import csr_matmul_blocked

        if out is None:
            out = np.empty((self.shape[0], x.shape[1]), dtype=self.dtype)
            beta = 0.0
        t = self.dtype.type
        csr_matmul_blocked(self.starts, self.ends, self.indices, self.data, np.ascontiguousarray(x, dtype=self.dtype),
                           out, t(alpha), t(beta), 16)
        return out

    __matmul__ = matmul


class RankOne:
    """``A + c r r^T`` as an operator for the SVD's products, ``A`` a prepared sparse
    operator (:class:`_BlockedCSR`, or a distributed one) and ``r`` a vector (its first
    ``A.shape[0]`` entries are used: the core's): the bounded negative PMI is
    "sparse minus rank one" (:func:`pmiembed.pmi.nneg_matrix`, ``c = -bound``), so its
    products never need the dense matrix.  ``A x`` then ``+ c r (r^T x)``: one more
    vector-sized array, no copy of ``A``."""

    def __init__(self, op, c: float, r: np.ndarray):
        self.op, self.c = op, float(c)
        self.r = np.asarray(r[:op.shape[0]], dtype=np.float64)
        self.shape, self.dtype = op.shape, op.dtype

    def matmul(self, x, out=None, alpha: float = 1.0, beta: float = 0.0):
        """``out = alpha * (A + c r r^T) x + beta * out`` (``out`` must not be ``x``)."""
        proj = _rank_one_projection(self.r, x)  # before out is written
        out = self.op.matmul(x, out=out, alpha=alpha, beta=beta)
        _add_outer(out, alpha * self.c, self.r, proj)
        return out

    __matmul__ = matmul


def _rank_one_projection(r: np.ndarray, x) -> np.ndarray:
    """``r^T x`` in float64 (``x`` a numpy array or a distributed tall block)."""
    if isinstance(x, np.ndarray):
        from ._nneg_kernels import rank_one_project

        out = np.empty(x.shape[1], dtype=np.float64)
        rank_one_project(r, np.ascontiguousarray(x), out)
        return out
    return x.project(r)


def _add_outer(out, scale: float, r: np.ndarray, proj: np.ndarray) -> None:
    """``out += scale * r proj^T`` in ``out``'s dtype."""
    if isinstance(out, np.ndarray) and out.flags.c_contiguous:
        from ._nneg_kernels import rank_one_add

        rank_one_add(out, float(scale), r, proj)
    elif isinstance(out, np.ndarray):
        out += (scale * r[:, None] * proj[None, :]).astype(out.dtype)
    else:
        out.add_outer(scale, r, proj)


def rank_one_rows(rank_one, rows: slice, basis: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """The rank-one term's share of folded-in rows: ``c r_rows (r_core^T basis) S^-1``
    (``basis``: ``V`` for rows, ``U`` for columns, over the core)."""
    c, r, coef = _rank_one_coefficients(rank_one, basis, inv)
    return (c * r[rows, None] * coef[None, :]).astype(basis.dtype)


def _rank_one_coefficients(rank_one, basis: np.ndarray, inv: np.ndarray):
    """``(c, r, (r_core^T basis) S^-1)`` in float64: what :func:`rank_one_rows` multiplies
    each folded-in row's ``c r_w`` by."""
    c, r = rank_one
    r = np.asarray(r, dtype=np.float64)
    proj = r[:basis.shape[0]] @ basis.astype(np.float64)
    return c, r, proj * inv.astype(np.float64)


def _add_rank_one_rows(out: np.ndarray, coefficients, start: int, chunk: int = 16384) -> None:
    """``out += rank_one_rows(rank_one, slice(start, start + len(out)), basis, 1)`` (the
    same bits; ``coefficients``: :func:`_rank_one_coefficients` of ``rank_one``, ``basis``
    and ones) a chunk of rows at a time: no rows x dim float64 temporary."""
    c, r, coef = coefficients
    for lo in range(0, len(out), chunk):
        hi = min(len(out), lo + chunk)
        out[lo:hi] += (c * r[start + lo:start + hi, None] * coef[None, :]).astype(out.dtype)


def is_symmetric(a: sp.spmatrix) -> bool:
    """Whether ``a`` equals its transpose exactly.  PPMI without context distribution
    smoothing (cds = 1) of symmetric-window counts is symmetric: then ``A^T = A``, the
    SVD needs neither a transposed copy nor products with it, and the symmetric
    solver applies.  Costs a transposed copy for a moment, after a free test of the row
    and column counts."""
    if a.shape[0] != a.shape[1]:
        return False
    a = sp.csr_matrix(a)
    if not a.has_canonical_format:
        a = a.copy()
        a.sum_duplicates()
    if not np.array_equal(np.diff(a.indptr), np.bincount(a.indices, minlength=a.shape[1])):
        return False
    t = a.T.tocsr()
    t.sort_indices()
    return bool(np.array_equal(t.indices, a.indices) and np.array_equal(t.data, a.data))


class _Rows:
    """Dense operations on tall ``n x l`` matrices, one fixed chunk of rows at a time,
    run on ``workers`` threads (each BLAS call single-threaded).  Chunk boundaries and
    the order in which chunk results are summed do not depend on ``workers``, so the
    results are the same bits for any number of threads, and no operation needs more
    than one chunk of extra memory per thread."""

    CHUNK = 4096

    def __init__(self, workers: int, chunk: int = CHUNK):
        from concurrent.futures import ThreadPoolExecutor

        self.chunk = int(chunk)
        self.workers = max(1, int(workers))
        self.pool = ThreadPoolExecutor(self.workers) if self.workers > 1 else None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def _map(self, fn, n_rows: int) -> list:
        spans = [(i, min(n_rows, i + self.chunk)) for i in range(0, n_rows, self.chunk)]
        if self.pool is None:
            return [fn(lo, hi) for lo, hi in spans]
        return list(self.pool.map(lambda span: fn(*span), spans))

    def gram(self, y: np.ndarray, precise: bool = True) -> np.ndarray:
        """``y^T y`` in float64 (chunk products in float64 when ``precise``, else in
        ``y``'s dtype; the chunk results are summed in float64)."""
        def part(lo, hi):
            c = y[lo:hi].astype(np.float64) if precise else y[lo:hi]
            return (c.T @ c).astype(np.float64, copy=False)

        total = np.zeros((y.shape[1], y.shape[1]), dtype=np.float64)
        for g in self._map(part, y.shape[0]):
            total += g
        return total

    def right_multiply(self, y: np.ndarray, r: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``out[:, :k] = y @ r`` chunk by chunk (``r`` is ``l x k``, ``k <= l``); with
        ``out = y`` it works in place.  The products run in ``y``'s dtype."""
        out = y if out is None else out
        r = np.ascontiguousarray(r, dtype=y.dtype)

        def part(lo, hi):
            out[lo:hi, :r.shape[1]] = y[lo:hi] @ r

        self._map(part, y.shape[0])
        return out


def _cholqr_factor(y: np.ndarray, rows: _Rows, precise: bool) -> np.ndarray:
    """``R^{-1}`` (float64) of the Cholesky factor ``R^T R = y^T y`` (Gram matrix from
    :meth:`_Rows.gram`), so that ``y R^{-1}`` has orthonormal columns; raises
    ``LinAlgError`` when ``y`` is too ill-conditioned."""
    from scipy.linalg import LinAlgError, cholesky, solve_triangular

    r = cholesky(rows.gram(y, precise=precise), lower=False, check_finite=False)
    r_inv = solve_triangular(r, np.eye(r.shape[0]), lower=False, check_finite=False)
    if not np.isfinite(r_inv).all():
        raise LinAlgError("not finite")
    return r_inv


def _normalize_columns_fast(y: np.ndarray, rows: _Rows, fallback: bool = True) -> np.ndarray:
    """Turn the columns of ``y`` (in place) into a well-conditioned basis of their span for
    the power iterations: one Cholesky-QR pass whose Gram matrix and product run in
    ``y``'s dtype (float64 sums); exact orthonormality is only needed for the final
    basis (:func:`_orthonormalize`)."""
    from scipy.linalg import LinAlgError

    try:
        r_inv = _cholqr_factor(y, rows, precise=False)
    except (LinAlgError, ValueError):
        if not fallback:
            raise
        return _orthonormalize(y, rows)
    return rows.right_multiply(y, r_inv)


def _orthonormalize(y: np.ndarray, rows: _Rows, passes: int = 2) -> np.ndarray:
    """Replace the columns of ``y`` (in place) by an orthonormal basis of their span by
    Cholesky-QR with float64 Gram matrices (Fukaya et al. 2014).  With ``passes=2`` the
    first pass runs in ``y``'s dtype (:func:`_normalize_columns_fast`) and only makes the
    columns well conditioned; one float64 pass is enough when ``y`` is already
    (condition number below ~1e4: the error is about ``eps64 * cond^2``).  Householder
    QR if ``y`` is too ill-conditioned for Cholesky."""
    from scipy.linalg import LinAlgError

    try:
        if passes > 1:
            _normalize_columns_fast(y, rows, fallback=False)
        rows.right_multiply(y, _cholqr_factor(y, rows, precise=True))
        if not np.isfinite(y).all():
            raise LinAlgError("not finite")
    except (LinAlgError, ValueError):
        q, _ = np.linalg.qr(y.astype(np.float64))
        y[...] = q
    return y


@contextlib.contextmanager
def _svd_workspace(matrix: sp.spmatrix, width: int, n_products: int, workers: int | None, progress: bool,
                   copy: bool = True, core: int | None = None, symmetric: bool | None = None, rank_one=None):
    """What both randomized backends run in: ``A`` in float32/float64 prepared for
    products of ``width`` columns, ``A^T`` (the same object when ``A`` is symmetric), the
    row-chunk pool for dense steps, and a progress ``tick`` per product.  Dense BLAS
    calls are single-threaded and run on the pool's threads: OpenBLAS splits some
    products differently for different thread counts, and the result must not depend on
    the number of workers.  With ``core``, the operators are the leading ``core x core`` block
    (of ``A`` and of ``A^T``; a symmetric ``A`` has a symmetric block).  Yields
    ``(a_op, at_op, rows, tick)``.  ``symmetric``, ``rank_one``: see :func:`truncated_svd`."""
    from .progress import progress_bar
    from .resources import cpu_count, limit_threads

    a = sp.csr_matrix(matrix)
    a = a.astype(np.float32 if a.dtype == np.float32 else np.float64, copy=False)
    a_op = _BlockedCSR(a, width, copy=copy, core=core)
    if symmetric is None:
        symmetric = is_symmetric(a)
    at_op = a_op if symmetric else _BlockedCSR(a.T.tocsr(), width, copy=copy, core=core)
    del a
    if rank_one is not None:
        a_op, at_op = RankOne(a_op, *rank_one), (None if symmetric else RankOne(at_op, *rank_one))
        at_op = at_op or a_op
    n_workers = workers or cpu_count()
    rows = _Rows(n_workers)
    try:
        with progress_bar(total=n_products, desc="svd", unit="product", enable=progress) as bar, \
                limit_threads(n_workers, blas=1):
            def tick():
                if bar is not None:
                    bar.update(1)

            yield a_op, at_op, rows, tick
    finally:
        rows.close()


def randomized_svd(matrix: sp.spmatrix, dim: int, *, n_iter: int = DEFAULTS["n_iter"],
                   n_oversamples: int = DEFAULTS["oversamples"],
                   seed: int = 0, workers: int | None = None, progress: bool = False, copy: bool = True,
                   core: int | None = None, symmetric: bool | None = None, start: np.ndarray | None = None,
                   rank_one=None):
    """Randomized SVD by subspace iteration with parallel sparse products.

    With ``l = dim + n_oversamples`` and a seeded Gaussian ``Omega`` (n x l), the range
    basis ``Q`` comes from ``2 n_iter + 1`` products:

    - general ``A``: ``Y = A Omega``; ``n_iter`` times ``Y = A (A^T orth(Y))``
      (re-orthonormalising between products); ``Q = orth(Y)`` (Halko, Martinsson &
      Tropp 2011, Alg. 4.4);
    - symmetric ``A`` (PPMI with cds = 1; detected): the same products drive a
      Chebyshev-filtered subspace iteration (:func:`_chebyshev_range`), which separates
      the top singular values from the rest far faster than plain powers.

    The top ``dim`` directions converge at the rate of ``s_dim / s_(l+1)``: where the
    spectrum is flat at the cut, as PPMI's is, a wider ``l`` converges them far faster
    than more iterations (docs/implementation-notes.md).

    Then ``B^T = A^T Q`` (n x l) and the eigendecomposition of ``B B^T = V_B S^2 V_B^T``
    give ``U = Q V_B``, ``V = B^T V_B / S``.  Memory: the matrix is not copied; besides
    it, two dense ``n x l`` blocks in ``A``'s dtype and one chunk of rows per thread.
    ``core``: the SVD of the leading ``core x core`` block.  ``start`` (rows: the
    block's columns; e.g. the previous word vectors of an update) replaces the first
    columns of ``Omega``, scaled to the Gaussian columns' norm: a warm start.
    """
    m, n = _block_shape(matrix.shape, core)
    width = min(dim + n_oversamples, min(m, n))
    with _svd_workspace(matrix, width, 2 * n_iter + 2, workers, progress, copy, core, symmetric,
                        rank_one) as (a_op, at_op, rows, tick):
        z = np.empty((n, width), dtype=a_op.dtype)
        np.random.default_rng(seed).standard_normal(out=z, dtype=a_op.dtype)
        if start is not None:
            k = min(start.shape[1], width)
            block = np.asarray(start[:n, :k], dtype=np.float64)
            norms = np.linalg.norm(block, axis=0)
            norms[norms == 0] = 1.0
            # the given directions at the Gaussian columns' scale (norm about sqrt(n))
            z[:, :k] = block * (np.sqrt(n) / norms)
        y = a_op.matmul(z)
        tick()
        return _iterate_and_ritz(a_op, at_op, y, z, dim, n_iter, rows, tick, symmetric=at_op is a_op)


def _iterate_and_ritz(a_op, at_op, y, z, dim: int, n_iter: int, rows, tick, symmetric: bool):
    """The rest of :func:`randomized_svd` from its first product ``y = A Omega`` (``z``
    a second buffer of the same shape): ``2 n_iter`` more products (the Chebyshev filter
    for a symmetric ``A``, power iteration with ``A^T`` otherwise), then the top ``dim``
    Ritz triplets.  The operators and ``rows`` may be distributed (pmiembed.distributed)
    and the start may be warm (pmiembed.update): the steps are the same."""
    if symmetric:
        q, bt = _chebyshev_range(a_op, y, z, dim, 2 * n_iter, rows, tick)
    else:
        for _ in range(n_iter):
            at_op.matmul(_normalize_columns_fast(y, rows), out=z)
            tick()
            a_op.matmul(_normalize_columns_fast(z, rows), out=y)
            tick()
        q = _orthonormalize(y, rows)
        bt = at_op.matmul(q, out=z)
        tick()
    return _ritz(q, bt, dim, rows)


def _chebyshev_range(a_op: "_BlockedCSR", y: np.ndarray, z: np.ndarray, dim: int, n_products: int,
                     rows: "_Rows", tick, degree: int = 4, n_power: int = 1):
    """Range basis ``Q`` of a symmetric ``A`` and ``W = A Q`` from ``n_products`` more
    products, starting from ``y = A Omega`` (``z`` is a second buffer).

    Chebyshev-filtered subspace iteration (Zhou & Saad 2007, adapted to singular
    values): after ``n_power`` plain power steps, with ``c = s_dim``, the ``dim``-th
    singular value of ``W = A Q`` (a lower bound of the true one), the degree-``d``
    Chebyshev polynomial ``T_d(A / c)`` is applied by the three-term recurrence
    ``Y_{k+1} = (2/c) A Y_k - Y_{k-1}`` (``Y_0 = Q``, ``Y_1 = W / c``).  ``|T_d|`` is at
    most 1 on ``[-c, c]`` and grows like ``exp(d * arccosh(|x| / c))`` outside, so
    eigenvalues of either sign above ``c`` in magnitude are separated from the rest far
    faster than by ``A^d`` (growth ``(|x| / c)^d``): for ``|x| = 1.05 c``, ``1.37^d``
    against ``1.05^d``.  Every second step ``Y_k`` and ``Y_{k+1}`` are re-conditioned by
    the same right factor, which keeps the recurrence exact; every ``degree`` products
    the basis is re-conditioned, ``W = A Q`` formed and ``c`` re-estimated.  Only the
    last basis must be orthonormal to working precision (it becomes ``U``); the ones
    in between only bound the filter, so one Cholesky-QR pass in float32 does for them
    (full float64 passes would cost two Gram matrices and two products more per block
    for the same scores).  One power step before the filter (``n_power``) first
    estimates ``c``; a second one spends a product the filter uses better
    (docs/implementation-notes.md).
    """
    from scipy.linalg import LinAlgError

    n_power = min(n_power, max(0, n_products - 1))
    for _ in range(n_power):
        a_op.matmul(_normalize_columns_fast(y, rows), out=z)
        tick()
        y, z = z, y
    q = _orthonormalize(y, rows, passes=1)
    w = a_op.matmul(q, out=z)
    tick()
    remaining = n_products - n_power - 1
    while remaining > 0:
        d = min(degree, remaining)
        # the filter bound only needs a few digits: a float32 Gram matrix (float64 sums)
        c = 0.0
        if d > 1:
            s = np.sqrt(np.maximum(np.linalg.eigvalsh(rows.gram(w, precise=False))[::-1], 0.0))
            c = float(s[dim - 1])
        # a single step left, or rank-deficient: plain power steps
        if not (np.isfinite(c) and c > noise_level(s, w.dtype)):
            for _ in range(remaining):
                y0 = _orthonormalize(w, rows)
                w = a_op.matmul(y0, out=q)
                q = y0
                tick()
            break
        remaining -= d
        y0, y1 = q, w
        y1 *= y1.dtype.type(1.0 / c)
        for k in range(d - 1):
            a_op.matmul(y1, out=y0, alpha=2.0 / c, beta=-1.0)
            tick()
            y0, y1 = y1, y0
            if k % 2 == 1 or k == d - 2:
                continue  # the last step is conditioned by the orthonormalisation below
            try:
                r_inv = _cholqr_factor(y1, rows, precise=False).astype(y0.dtype)
                rows.right_multiply(y1, r_inv)
                rows.right_multiply(y0, r_inv)
            except (LinAlgError, ValueError):
                pass  # the final orthonormalisation copes
        q = _orthonormalize(y1, rows) if remaining == 0 else _normalize_columns_fast(y1, rows)
        w = a_op.matmul(q, out=y0)
        tick()
    return q, w


def _ritz(q, bt, dim, rows: _Rows):
    """Top ``dim`` Ritz triplets from ``q`` and ``B^T = A^T q`` (both overwritten): the
    eigendecomposition ``B B^T = V_B S^2 V_B^T`` gives ``U = q V_B`` and
    ``V = B^T V_B / S``; signs fixed so that the largest entry of each ``u`` is
    positive.  Returns ``U`` (m x dim), ``S`` and ``V^T`` (dim x n), copied out of the
    ``l``-column work blocks so that those are freed when the caller returns (they are
    vocabulary-sized, and fold-in and the word vectors come next)."""
    gram = rows.gram(bt)
    if not np.all(np.isfinite(gram)):
        raise ParameterError(f"`dim={dim}`: the SVD did not converge (non-finite values); the PPMI matrix is "
                             "numerically degenerate: lower `dim` or give a corpus with more varied contexts")
    evals, evecs = np.linalg.eigh(gram)
    order = np.argsort(-evals, kind="stable")[:dim]
    s = np.sqrt(np.maximum(evals[order], 0.0))
    vb = evecs[:, order]
    u = np.ascontiguousarray(rows.right_multiply(q, vb)[:, :dim])
    # directions at rounding noise get v = 0 rather than B^T v_B / s (check_rank
    # refuses them when they are among the top dim)
    safe = np.where(s > noise_level(s, np.float64 if q.dtype == np.float64 else np.float32), s, np.inf)
    v = np.ascontiguousarray(rows.right_multiply(bt, vb / safe)[:, :dim])
    # deterministic signs: the largest-magnitude entry of each u column is positive
    idx = _argmax_abs_columns(u)
    signs = np.sign(u[idx, np.arange(dim)]).astype(u.dtype)
    signs[signs == 0] = 1
    u *= signs
    v *= signs
    return u, s.astype(u.dtype), v.T


def _argmax_abs_columns(u: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """``np.argmax(np.abs(u), axis=0)`` (first occurrence) without an ``abs`` copy of
    all of ``u``: one chunk of rows at a time."""
    best = np.full(u.shape[1], -1.0)
    idx = np.zeros(u.shape[1], dtype=np.int64)
    cols = np.arange(u.shape[1])
    for r0 in range(0, u.shape[0], chunk):
        blk = np.abs(u[r0:r0 + chunk])
        i = np.argmax(blk, axis=0)
        val = blk[i, cols]
        better = val > best
        idx[better] = r0 + i[better]
        best[better] = val[better]
    return idx


def _project_out(y: np.ndarray, basis: list[np.ndarray]) -> np.ndarray:
    """``y`` minus its projection on the orthonormal blocks of ``basis`` (twice, for
    orthogonality to working precision: classical block Gram-Schmidt with
    re-orthogonalisation)."""
    for _ in range(2):
        for q in basis:
            y -= q @ (q.T @ y)
    return y


def block_krylov_svd(matrix: sp.spmatrix, dim: int, *, block: int | None = None,
                     n_iter: int = DEFAULTS["n_iter"],
                     seed: int = 0, workers: int | None = None, progress: bool = False, copy: bool = True,
                     core: int | None = None, symmetric: bool | None = None, rank_one=None):
    """Randomized block Krylov SVD (Musco & Musco 2015) with parallel sparse products.

    With a seeded Gaussian ``Omega`` (n x b), the basis ``Q`` spans the block Krylov
    space ``[A Omega, (A A^T) A Omega, ..., (A A^T)^q A Omega]`` (``q = n_iter``; each
    new block orthogonalised against the earlier ones), and the top ``dim`` Ritz
    triplets of ``A`` on it are returned.  Unlike subspace iteration, nothing computed
    is thrown away: ``2q + 1`` thin products of width ``b`` build a ``(q+1) b``-dim
    space whose polynomial filter has degree ``2q + 1``.  Default ``b``: the smallest
    block with ``(q+1) b >= 2 dim`` rounded up to a multiple of 16.  Memory: the whole
    ``m x (q+1) b`` basis.
    """
    m, n = _block_shape(matrix.shape, core)
    if block is None:
        block = -(-2 * dim // (n_iter + 1))
        block = -(-block // 16) * 16
    block = max(1, min(block, min(m, n)))
    with _svd_workspace(matrix, block, 2 * n_iter + 2, workers, progress, copy, core, symmetric,
                        rank_one) as (a_op, at_op, rows, tick):
        omega = np.random.default_rng(seed).standard_normal((n, block), dtype=np.float64).astype(a_op.dtype)
        q = _orthonormalize(a_op.matmul(omega), rows)
        tick()
        del omega
        basis = [q]
        for _ in range(n_iter):
            z = at_op.matmul(q)
            tick()
            y = a_op.matmul(z)
            tick()
            q = _orthonormalize(_project_out(y, basis), rows)
            basis.append(q)
            if sum(b.shape[1] for b in basis) >= min(m, n):
                break
        q = np.ascontiguousarray(np.hstack(basis))
        del basis
        bt = at_op.matmul(q)
        tick()
        return _ritz(q, bt, dim, rows)


def core_size(counts: np.ndarray, core_min_count: int | None, dim: int,
              max_words: int | None = None) -> int | None:
    """How many of the most frequent words (``counts`` descending, as a
    :class:`~pmiembed.vocab.Vocabulary` keeps them) form the core the SVD factorises:
    those seen at least ``core_min_count`` times, at most ``max(max_words, 2 * dim)`` of
    them (the most frequent; None: no cap).  The cap keeps the rank spent on the words
    whose rows are best estimated when a larger corpus lifts more words over the count.  None
    (factorise every word) when ``core_min_count`` is None, when every word qualifies,
    or when fewer than ``2 * dim`` words do (a core hardly larger than the rank gives a
    poor basis for the rest: small corpora factorise everything)."""
    if core_min_count is None:
        return None
    counts = np.asarray(counts)
    if len(counts) > 1 and np.any(np.diff(counts) > 0):
        raise ValueError("counts must be in descending order (most frequent word first)")
    n_core = int(np.count_nonzero(counts >= core_min_count))
    if max_words is not None:
        n_core = min(n_core, max(int(max_words), 2 * dim))
    if n_core >= len(counts) or n_core < 2 * dim:
        return None
    return n_core


def fold_in(matrix: sp.spmatrix, u: np.ndarray, s: np.ndarray, vt: np.ndarray, symmetric: bool = False,
            rank_one=None, chunk: int = 16384):
    """Extend an SVD of the leading ``k x kc`` block of ``matrix`` (``k = len(u)``, ``kc``
    the columns of ``vt``; the core is usually square) to all its rows and columns
    ("folding in", Deerwester et al. 1990; Berry, Dumais & O'Brien 1995).

    With the core ``A_cc ~ U S V^T``, a further row ``a`` (its entries in the core's
    columns) gets the coordinates that reproduce it best in the core's right singular
    basis, ``u_a = a V S^-1``, and a further column ``c`` (its entries in the core's
    rows) ``v_c = c^T U S^-1``; rows and columns already in the core keep theirs.  So
    ``U S^p`` of every word is built from the same directions, and rare words, whose
    few noisy counts would otherwise claim part of the rank, are placed by their
    contexts among the frequent words.  Entries of further rows in further columns
    are not used.  ``symmetric`` (``matrix`` equals its transpose, not checked): the
    further columns are the further rows, so the same entries place both.
    ``rank_one``: ``(c, r)``, fold in the rows and columns of ``matrix + c r r^T``
    (:func:`truncated_svd`).  Returns ``(U, S, Vt)`` for the whole matrix (new arrays; S as given).  The
    products run on numba's threads, each row summed in a fixed order: the same bits
    for any number of threads.

    Memory: besides the result, the further rows are read where they are in ``matrix``
    (no copy of its entries; a matrix without sorted indices is sorted into a copy
    first), and the columns and the rank-one term are added ``chunk`` rows at a time;
    only a non-symmetric ``matrix`` needs a transposed copy of its further columns."""
    # the rows and columns to fold in are read inside ``matrix`` (pointers to their
    # entries in the core's columns), never sliced out of it
    a = matrix if isinstance(matrix, (sp.csr_matrix, sp.csr_array)) else sp.csr_matrix(matrix)
    if not a.has_sorted_indices:
        a = a.sorted_indices()
    k, kc = u.shape[0], vt.shape[1]  # the core's rows and columns
    m, n = a.shape
    # never divide by a singular value at rounding noise: that direction gets 0
    inv = np.zeros(len(s), dtype=np.float64)
    big = np.asarray(s, dtype=np.float64) > noise_level(s, u.dtype)
    inv[big] = 1.0 / np.asarray(s, dtype=np.float64)[big]
    inv = inv.astype(u.dtype)
    ones = np.ones(len(s))  # the rank-one share is divided by S with the rest
    out_u = np.empty((m, u.shape[1]), dtype=u.dtype)
    out_u[:k] = u
    rows = _leading_segments(a, k, m, kc) if m > k else None
    if m > k:
        basis = np.ascontiguousarray(vt.T)
        _segments_times_dense(rows, a, basis, out_u[k:])
        if rank_one is not None:
            _add_rank_one_rows(out_u[k:], _rank_one_coefficients(rank_one, basis, ones), k, chunk)
        out_u[k:] *= inv
    out_vt = np.empty((vt.shape[0], n), dtype=vt.dtype)
    out_vt[:, :kc] = vt
    coefficients = None if rank_one is None or n <= kc else _rank_one_coefficients(rank_one, u, ones)
    if n > kc and symmetric and k == kc and rows is not None:
        # the further columns are the further rows: folded a chunk of them at a time,
        # straight into out_vt (no columns x dim temporary)
        for lo in range(0, n - kc, chunk):
            hi = min(n - kc, lo + chunk)
            v = _segments_times_dense(rows[:, lo:hi], a, u)
            if coefficients is not None:
                _add_rank_one_rows(v, coefficients, kc + lo, chunk)
            v *= inv
            out_vt[:, kc + lo:kc + hi] = v.T
    elif n > kc:
        v = _sparse_times_dense(a[:k, kc:].T.tocsr(), u)
        if coefficients is not None:
            _add_rank_one_rows(v, coefficients, kc, chunk)
        v *= inv
        out_vt[:, kc:] = v.T
    return out_u, s, out_vt


def _leading_segments(a: sp.csr_matrix, r0: int, r1: int, n_cols: int) -> np.ndarray:
    """Where the entries of rows ``r0 .. r1-1`` of ``a`` (sorted indices) in its first
    ``n_cols`` columns start and end in ``a.indices``/``a.data``: a ``2 x (r1 - r0)``
    array, the block ``a[r0:r1, :n_cols]`` without a copy of its entries."""
    from ._kernels import segment_pointers

    seg = np.empty((2, r1 - r0), dtype=np.int64)
    segment_pointers(a.indptr[r0:r1 + 1].astype(np.int64), a.indices, np.array([0, n_cols], dtype=np.int64), seg)
    return seg


def _segments_times_dense(seg: np.ndarray, a: sp.csr_matrix, x: np.ndarray,
                          out: np.ndarray | None = None) -> np.ndarray:
    """:func:`_sparse_times_dense` of the rows :func:`_leading_segments` points to (the
    same entries in the same order, so the same bits as the product with the sliced
    block)."""
    from ._kernels import csr_matmul_blocked

    x = np.ascontiguousarray(x)
    if out is None:
        out = np.empty((seg.shape[1], x.shape[1]), dtype=x.dtype)
    data = a.data.astype(x.dtype, copy=False)
    csr_matmul_blocked(np.ascontiguousarray(seg[:1]), np.ascontiguousarray(seg[1:]), a.indices, data, x, out,
                       x.dtype.type(1.0), x.dtype.type(0.0), 16)
    return out


def _sparse_times_dense(a: sp.csr_matrix, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ x`` in ``x``'s dtype on numba's threads (same bits for any thread count)."""
    from ._kernels import csr_matmul_blocked

    a = sp.csr_matrix(a)
    x = np.ascontiguousarray(x)
    if out is None:
        out = np.empty((a.shape[0], x.shape[1]), dtype=x.dtype)
    indptr = a.indptr.astype(np.int64)
    data = a.data.astype(x.dtype, copy=False)
    csr_matmul_blocked(indptr[None, :-1], indptr[None, 1:], a.indices, data, x, out, x.dtype.type(1.0),
                       x.dtype.type(0.0), 16)
    return out


def folded_svd(matrix: sp.spmatrix, dim: int, *, core: int | None = None, **svd_args):
    """:func:`truncated_svd` of the leading ``core x core`` block of ``matrix`` extended to
    all its rows and columns by :func:`fold_in` (``core=None``: the SVD of all of it).
    ``svd_args`` go to :func:`truncated_svd` (``symmetric=True`` also to
    :func:`fold_in`).  What the model, the sweep and the benchmarks' references
    factorise."""
    u, s, vt = truncated_svd(matrix, dim, core=core, **svd_args)
    if core is not None and core < min(matrix.shape):
        u, s, vt = fold_in(matrix, u, s, vt, symmetric=bool(svd_args.get("symmetric")),
                           rank_one=svd_args.get("rank_one"))
    return u, s, vt


def warm_svd(matrix: sp.spmatrix, dim: int, start: np.ndarray, *, n_iter: int = UPDATE_N_ITER,
             n_oversamples: int = DEFAULTS["oversamples"], seed: int = 0, workers: int | None = None,
             progress: bool = False, copy: bool = True, core: int | None = None, symmetric: bool | None = None,
             rank_one=None):
    """:func:`randomized_svd` of the leading ``core x core`` block of ``matrix`` with
    the start block's first columns taken from ``start`` (rows: the block's columns;
    typically the previous word vectors, the warm start of an update,
    :mod:`pmiembed.update`) instead of Gaussian ones; ``rank_one``: see
    :func:`truncated_svd`.  Returns ``(U, S, Vt)`` of the block."""
    return randomized_svd(matrix, dim, n_iter=n_iter, n_oversamples=n_oversamples, seed=seed, workers=workers,
                          progress=progress, copy=copy, core=core, symmetric=symmetric, start=start,
                          rank_one=rank_one)


def unweighted_factors(u: np.ndarray, vt: np.ndarray, weights: np.ndarray):
    """The factors of ``D M D`` (``D = diag(weights)``, :func:`pmiembed.pmi.nneg_matrix`)
    turned into those of ``M``'s rows and columns: ``D^-1 U`` and ``V^T D^-1`` (in place
    when the dtypes allow)."""
    inv = (1.0 / np.asarray(weights, dtype=np.float64)).astype(u.dtype)
    u = np.asarray(u)
    u *= inv[:u.shape[0], None]
    vt = np.asarray(vt)
    vt *= inv[:vt.shape[1]].astype(vt.dtype)[None, :]
    return u, vt


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def word_vectors(u: np.ndarray, s: np.ndarray, vt: np.ndarray, *, eig: float = DEFAULTS["eig"],
                 wc: bool = DEFAULTS["wc"], abtt: int | None = DEFAULTS["abtt"], dtype=np.float32) -> np.ndarray:
    """Word vectors from an SVD.

    ``W = U S^eig``; with ``wc``, ``unit(U S^eig) + unit(V S^eig)`` (rows normalised).
    With ``abtt = D`` ("all-but-the-top", Mu & Viswanath 2018) the mean vector is
    subtracted and the projections on the top ``D`` principal directions of the centred
    vectors are removed: ``W' = Wc - Wc E E^T`` with ``E`` the top-D eigenvectors of
    ``Wc^T Wc`` (``abtt=0`` only centres), in place on the new ``W``.
    """
    check_svd_params(len(s), eig)
    weight = s ** eig
    w = u * weight
    if wc:
        w = _unit_rows(w) + _unit_rows(vt.T * weight)
    if abtt is not None:
        check_param("abtt", abtt, abtt_constraint(w.shape[1]))
        w = remove_top_directions(w, int(abtt), copy=False)
    return np.ascontiguousarray(w, dtype=dtype)


def abtt_constraint(dim: int) -> Param:
    """What ``abtt`` accepts for vectors of ``dim`` dimensions."""
    top = dim - 1 if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool) else None
    upper = f"{top} (`dim` minus 1)" if top is not None else "`dim` minus 1"
    return Param((Interval(Integral, 0, top), None), f"an integer from 0 to {upper}: the directions removed; or None")


def remove_top_directions(w: np.ndarray, d: int, copy: bool = True) -> np.ndarray:
    """Centre the rows of ``w`` and remove their top ``d`` principal directions:
    ``Wc - Wc E E^T`` with ``E`` the top-``d`` eigenvectors of ``Wc^T Wc`` (float64
    mean and Gram matrix, summed over fixed row chunks in a fixed order, so the result
    does not depend on thread counts; one extra copy of ``w`` in its own dtype, none
    with ``copy=False`` for a float array, which is then changed in place)."""
    from threadpoolctl import threadpool_limits

    x = np.asarray(w)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    elif copy:
        x = x.copy()
    x -= x.mean(axis=0, dtype=np.float64).astype(x.dtype)
    if d:
        chunk = 8192
        with threadpool_limits(limits=1):  # same bits whatever the thread count
            evals, evecs = np.linalg.eigh(_Rows(1, chunk).gram(x))
            top = np.ascontiguousarray(evecs[:, np.argsort(-evals, kind="stable")[:d]], dtype=x.dtype)
            for lo in range(0, len(x), chunk):
                c = x[lo:lo + chunk]
                c -= (c @ top) @ top.T
    return x
