"""The SVD and the fold-in on a cluster (:mod:`pmiembed.distributed`): the steps of
:func:`pmiembed.svd.randomized_svd` and :func:`pmiembed.svd.fold_in` over matrices held
as row blocks by the workers (tall dense matrices, :class:`DistTall`; the PMI matrix's
blocks, :class:`DistOperator`), each block's work done by the single-process code
(:class:`pmiembed.svd._BlockedCSR`, :class:`pmiembed.svd._Rows`); the small dense steps
run on the client."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .cluster import _submit
from .progress import progress_bar
from .resources import limit_threads
from .svd import RankOne, _BlockedCSR, _iterate_and_ritz, _Rows, _sparse_times_dense


class _AllFinite:
    def __init__(self, tall: "DistTall"):
        self.tall = tall

    def all(self) -> bool:
        c = self.tall.client
        return bool(all(c.gather([_submit(c, _block_all_finite, b) for b in self.tall.blocks])))


def _block_all_finite(b):
    return bool(np.isfinite(b).all())


class DistTall:
    """A tall dense matrix held as row blocks (futures of numpy arrays) on the workers,
    with the few array operations the single-process SVD helpers use on their
    ``n x l`` blocks (:func:`pmiembed.svd._chebyshev_range`, :func:`_orthonormalize`,
    :func:`_ritz`): in-place scaling, ``np.isfinite(y).all()``, column slices and
    ``np.asarray`` (gathers).  "In place" replaces the blocks, so aliases see the new
    values as they would with numpy."""

    def __init__(self, client, blocks: list, bounds: np.ndarray, ncols: int, dtype):
        self.client = client
        self.blocks = list(blocks)
        self.bounds = np.asarray(bounds, dtype=np.int64)
        self.ncols = int(ncols)
        self.dtype = np.dtype(dtype)

    @property
    def shape(self):
        return (int(self.bounds[-1]), self.ncols)

    def __imul__(self, scalar):
        self.blocks = [_submit(self.client, np.multiply, b, scalar) for b in self.blocks]
        return self

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.isfinite and method == "__call__" and len(inputs) == 1 and not kwargs:
            return _AllFinite(self)
        return NotImplemented

    def __getitem__(self, key):
        if (isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None) and isinstance(key[1], slice)
                and key[1].start in (None, 0) and key[1].step in (None, 1)):
            stop = self.ncols if key[1].stop is None else min(self.ncols, key[1].stop)
            if stop == self.ncols:
                return self
            return DistTall(self.client, [_submit(self.client, _columns, b, stop) for b in self.blocks],
                            self.bounds, stop, self.dtype)
        raise TypeError(f"DistTall does not support indexing with {key!r}")

    def __setitem__(self, key, value):
        if key is not Ellipsis:
            raise TypeError(f"DistTall does not support assignment to {key!r}")
        value = np.asarray(value)
        self.blocks = [_submit(self.client, _copy_as, value[r0:r1], self.dtype)
                       for r0, r1 in zip(self.bounds[:-1], self.bounds[1:])]
        self.ncols = value.shape[1]

    def astype(self, dtype):
        return np.asarray(self).astype(dtype)

    def project(self, r: np.ndarray) -> np.ndarray:
        """``r^T self`` in float64, summed block by block in order (for
        :class:`pmiembed.svd.RankOne`)."""
        parts = self.client.gather([_submit(self.client, _block_project, b, r[r0:r1])
                                    for b, r0, r1 in zip(self.blocks, self.bounds[:-1], self.bounds[1:])])
        total = np.zeros(self.ncols, dtype=np.float64)
        for p in parts:
            total += p
        return total

    def add_outer(self, scale: float, r: np.ndarray, proj: np.ndarray) -> None:
        """``self += scale r proj^T`` (the blocks replaced)."""
        self.blocks = [_submit(self.client, _block_add_outer, b, scale * r[r0:r1], proj)
                       for b, r0, r1 in zip(self.blocks, self.bounds[:-1], self.bounds[1:])]

    def __array__(self, dtype=None, copy=None):
        a = np.concatenate(self.client.gather(self.blocks)) if self.blocks else np.zeros((0, self.ncols), self.dtype)
        return a if dtype is None else a.astype(dtype)


def _block_project(b, r):
    return r @ b.astype(np.float64)


def _block_add_outer(b, r, proj):
    return b + (r[:, None] * proj[None, :]).astype(b.dtype)


def _columns(b, stop):
    return np.ascontiguousarray(b[:, :stop])


def _copy_as(v, dtype):
    return np.ascontiguousarray(v, dtype=dtype)


class DistRows:
    """The distributed counterpart of :class:`pmiembed.svd._Rows`: Gram matrices summed
    from every block's (computed by ``_Rows``, one thread, float64 sums) in block order
    on the client, and right products ``y @ r`` per block."""

    def __init__(self, client):
        self.client = client

    def gram(self, y: DistTall, precise: bool = True) -> np.ndarray:
        parts = self.client.gather([_submit(self.client, _block_gram, b, precise) for b in y.blocks])
        total = np.zeros((y.ncols, y.ncols), dtype=np.float64)
        for g in parts:
            total += g
        return total

    def right_multiply(self, y: DistTall, r: np.ndarray, out: DistTall | None = None) -> DistTall:
        r = np.ascontiguousarray(r, dtype=y.dtype)
        target = y if out is None else out
        target.blocks = [_submit(self.client, _block_right_multiply, b, r) for b in y.blocks]
        target.ncols = r.shape[1]
        return target


def _block_gram(b, precise):
    with limit_threads(1):
        return _Rows(1).gram(b, precise=precise)


def _block_right_multiply(b, r):
    out = np.empty((b.shape[0], r.shape[1]), dtype=b.dtype)
    with limit_threads(1):
        return _Rows(1).right_multiply(b, r, out=out)


class DistOperator:
    """A sparse ``m x n`` matrix as row blocks on the workers, each split into the column
    blocks that match the row blocks of the tall operand (:class:`_BlockedCSR` each), for
    ``out = alpha A x + beta out`` as :meth:`pmiembed.svd._BlockedCSR.matmul`."""

    def __init__(self, client, ops: list, row_bounds: np.ndarray, ncols: int, dtype, tick=None):
        self.client = client
        self.ops = ops
        self.row_bounds = np.asarray(row_bounds, dtype=np.int64)
        self.shape = (int(self.row_bounds[-1]), int(ncols))
        self.dtype = np.dtype(dtype)

    def matmul(self, x: DistTall, out: DistTall | None = None, alpha: float = 1.0, beta: float = 0.0) -> DistTall:
        if out is None:
            out = DistTall(self.client, [], self.row_bounds, x.ncols, self.dtype)
            beta = 0.0
        olds = out.blocks if beta != 0.0 and out.blocks else [None] * len(self.ops)
        out.blocks = [_submit(self.client, _block_matmul, op, x.blocks, old, alpha, beta)
                      for op, old in zip(self.ops, olds)]
        out.ncols = x.ncols
        return out


def _block_matmul(ops, xs, old, alpha, beta):
    """One row block of ``alpha A x + beta old``: the sum over the column blocks of
    ``A_ij x_j`` (``x``'s row blocks, never concatenated); ``old`` is not changed."""
    out = np.empty((ops[0].shape[0], xs[0].shape[1]), dtype=ops[0].dtype) if old is None else old.copy()
    with limit_threads(1):
        for j, (op, x) in enumerate(zip(ops, xs)):
            op.matmul(x, out=out, alpha=alpha, beta=(beta if old is not None else 0.0) if j == 0 else 1.0)
    return out


def _column_slice(block: sp.csr_matrix, c0: int, c1: int, transpose: bool, dtype) -> sp.csr_matrix:
    m = block[:, c0:c1]
    if transpose:
        m = m.T
    m = sp.csr_matrix(m, dtype=dtype)
    m.sort_indices()
    return m


def _blocked_ops(pieces: list, width: int) -> list:
    return [_BlockedCSR(p, width, copy=True) for p in pieces]


def _random_block(seed: int, block: int, rows: int, cols: int, dtype) -> np.ndarray:
    z = np.empty((rows, cols), dtype=dtype)
    np.random.default_rng([int(seed), int(block)]).standard_normal(out=z, dtype=dtype)
    return z


def _fold_rows(block: sp.csr_matrix, core_bounds: np.ndarray, factors: list, inv: np.ndarray) -> np.ndarray:
    """``a F S^-1`` for the rows ``a`` of ``block`` over the core's columns, ``F`` in the
    core's row blocks (:func:`pmiembed.svd.fold_in`'s products, block by block)."""
    out = np.zeros((block.shape[0], factors[0].shape[1]), dtype=factors[0].dtype)
    with limit_threads(1):
        for (c0, c1), f in zip(zip(core_bounds[:-1], core_bounds[1:]), factors):
            piece = sp.csr_matrix(block[:, int(c0):int(c1)])
            out += _sparse_times_dense(piece, f)
    out *= inv
    return out


def _fold_columns(core_blocks: list, c0: int, c1: int, factors: list, inv: np.ndarray) -> np.ndarray:
    """``c^T F S^-1`` for the columns ``c0 .. c1-1`` (their entries in the core's rows)."""
    out = np.zeros((c1 - c0, factors[0].shape[1]), dtype=factors[0].dtype)
    with limit_threads(1):
        for block, f in zip(core_blocks, factors):
            piece = sp.csr_matrix(block[:, c0:c1].T)
            out += _sparse_times_dense(piece, f)
    out *= inv
    return out


def distributed_svd(client, pmi_blocks: list, bounds: np.ndarray, n_core: int, dim: int, *, n_iter: int,
                    n_oversamples: int, seed: int, symmetric: bool, progress: bool = False, rank_one=None):
    """The randomized SVD of :func:`pmiembed.svd.randomized_svd` of the leading
    ``n_core x n_core`` block of the row-blocked matrix (plus ``rank_one``'s ``c r r^T``,
    see :func:`pmiembed.svd.truncated_svd`), on the cluster.  Returns ``U``
    and ``V^T`` of the core gathered on the client, and ``S``."""
    core_bounds = bounds[bounds <= n_core]
    k = len(core_bounds) - 1
    width = min(dim + n_oversamples, n_core)
    dtype = np.float32
    pieces = [[_submit(client, _column_slice, pmi_blocks[i], int(c0), int(c1), False, dtype)
               for c0, c1 in zip(core_bounds[:-1], core_bounds[1:])] for i in range(k)]
    ops = [_submit(client, _blocked_ops, row, width) for row in pieces]
    a_op = DistOperator(client, ops, core_bounds, n_core, dtype)
    if symmetric:
        at_op = a_op
    else:
        t_pieces = [[_submit(client, _column_slice, pmi_blocks[i], int(core_bounds[j]), int(core_bounds[j + 1]),
                             True, dtype) for i in range(k)] for j in range(k)]
        at_op = DistOperator(client, [_submit(client, _blocked_ops, row, width) for row in t_pieces], core_bounds,
                             n_core, dtype)
    if rank_one is not None:
        a_op = RankOne(a_op, *rank_one)
        at_op = a_op if symmetric else RankOne(at_op, *rank_one)
    rows = DistRows(client)
    with progress_bar(total=2 * n_iter + 2, desc="svd", unit="product", enable=progress) as bar:
        def tick():
            if bar is not None:
                bar.update(1)

        z = DistTall(client, [_submit(client, _random_block, seed, i, int(r1 - r0), width, dtype)
                              for i, (r0, r1) in enumerate(zip(core_bounds[:-1], core_bounds[1:]))],
                     core_bounds, width, dtype)
        y = a_op.matmul(z)
        tick()
        # the steps of pmiembed.svd.randomized_svd, on distributed blocks
        u, s, vt = _iterate_and_ritz(a_op, at_op, y, z, dim, n_iter, rows, tick, symmetric=symmetric)
    return u, s, vt
