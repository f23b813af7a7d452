"""Stage 3: tokens + vocabulary -> word-context co-occurrence counts (``scipy.sparse``).

For a symmetric window of size L, every pair of in-vocabulary tokens at distance
``d = 1..L`` inside one document adds ``w(d)`` to ``#(w, c)`` and to ``#(c, w)``:

=========  ==================  ====================================================
weighting  w(d)                 where from
=========  ==================  ====================================================
dynamic    (L - d + 1) / L      word2vec's dynamic window, as its exact expectation:
                                word2vec samples a window b ~ U{1..L}; a context at
                                distance d is seen when b >= d, P = (L - d + 1) / L
uniform    1                    a plain window
harmonic   1 / d                GloVe's distance weighting
harmonic2  1 / d^2              steeper: near contexts dominate, so a wider window
                                adds topical context without drowning the near ones
=========  ==================  ====================================================

Words below ``min_count`` are removed before windowing (as word2vec does).  Frequent
words can be subsampled with word2vec's formula (see
:meth:`Vocabulary.keep_probability`): ``dirty`` removes the dropped tokens before
windowing, so windows reach further (word2vec's behaviour); ``clean`` keeps their
positions.  The random draw for the token at corpus position ``i`` is a hash of
``(seed, i)``, so it does not depend on chunking or on the number of workers.
``expected`` draws nothing: every in-vocabulary token is counted and the PMI stage
weights each pair by ``k_w k_c`` (:func:`subsample_keep`), the average of what
``clean`` counts over all draws (a pair survives when both its tokens do), without
the sampling noise that otherwise decides the few contexts of a rare word.

Counts are kept exactly: weights are scaled to integers (``L`` for dynamic,
``lcm(1..L)`` for harmonic, its square for harmonic2) and summed as int64, so counting
in any chunk size or order gives bitwise-identical matrices, and counts of two corpora over one vocabulary add up
to the counts of their concatenation.

Counting works row by row (Gustavson style, :func:`row_batches`): the positions of
each word are listed once (a counting sort), and a compiled kernel adds the weighted
contexts of all of a word's occurrences into a dense per-thread accumulator, then writes
the row's columns in order.  Rows are computed a batch at a time, and each batch holds
final rows, so nothing is ever summed.  Documents are kept apart by ``L`` separator
positions between them (:func:`filter_tokens`).  With a memory budget, finished row
blocks beyond half of it are written to temporary files (sorted, CSR) and read back into
the result one at a time.  With explicit ``chunk_tokens`` the corpus is counted a chunk
of window centres at a time instead; chunk matrices are summed pairwise (a binary
counter, so each count is merged O(log chunks) times) and, beyond the budget, written to
temporary files and merged at the end in row blocks, as GloVe's ``cooccur`` does, with a
bounded number of files open at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ._validation import Integral, Interval, Param, Real, StrOptions, validate_params
from .corpus import TokenizedCorpus
from .defaults import DEFAULTS
from .errors import ParameterError, PMIEmbedError, VectorsError
from .io import atomic_path, temporary_dir
from .progress import progress_bar
from .vocab import Vocabulary

WEIGHTINGS = ("dynamic", "uniform", "harmonic", "harmonic2")
SUBSAMPLE_MODES = ("dirty", "clean", "expected")
COUNTS_FORMAT = "pmiembed-cooccurrence"
COUNTS_VERSION = 1
#: the largest window for harmonic weighting (lcm(1..20) keeps int64 counts exact)
MAX_HARMONIC_WINDOW = 20
#: the largest window for harmonic2 weighting (scale lcm(1..12)^2 = 7.7e8: a pair may
#: occur 1e10 times before int64 counts overflow)
MAX_HARMONIC2_WINDOW = 12
MAX_WINDOW = 100
#: what the counting parameters accept (see :mod:`pmiembed._validation`)
CONSTRAINTS = {
    "weighting": [StrOptions(WEIGHTINGS)],
    "window": [Interval(Integral, 1, MAX_WINDOW)],
    "subsample": Param((Interval(Real, 0, 1, "neither"), None), "in (0, 1), e.g. 1e-5, or None"),
    "subsample_mode": [StrOptions(SUBSAMPLE_MODES)],
    "chunk_tokens": [Interval(Integral, 1, None), None],
}


def window_weights(window: int, weighting: str) -> tuple[np.ndarray, int]:
    """Integer weights ``W[d-1] = w(d) * scale`` for d = 1..window, and ``scale``."""
    check_window(window, weighting)
    d = np.arange(1, window + 1, dtype=np.int64)
    if weighting == "uniform":
        return np.ones(window, dtype=np.int64), 1
    if weighting == "dynamic":
        return window - d + 1, window
    scale = math.lcm(*range(1, window + 1))
    if weighting == "harmonic2":
        return scale * scale // (d * d), scale * scale
    return scale // d, scale


def check_window(window, weighting) -> None:
    validate_params(CONSTRAINTS, {"weighting": weighting, "window": window})
    limit = {"harmonic": MAX_HARMONIC_WINDOW, "harmonic2": MAX_HARMONIC2_WINDOW}.get(weighting)
    if limit is not None and window > limit:
        raise ParameterError(
            f"`window={window}` is too large for {weighting} weighting (at most {limit}); "
            "lower `window` or use `weighting=dynamic`", param="window"
        )


def position_uniforms(seed: int, start: int, n: int) -> np.ndarray:
    """Uniform [0, 1) numbers for corpus positions ``start .. start+n-1``: splitmix64 of
    ``seed * golden + position`` (:func:`pmiembed._kernels.position_uniform`, the draw
    counting uses), so the draw of a position never depends on chunking."""
    from . import _kernels

    out = np.empty(n, dtype=np.float64)
    _kernels.position_uniforms(_seed_add(seed), start, out)
    return out


def _seed_add(seed: int) -> np.uint64:
    return np.uint64((int(seed) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)


def filter_tokens(corpus: TokenizedCorpus, vocab: Vocabulary, *, subsample: float | None = None,
                  subsample_mode: str = "dirty", seed: int = 0, gap: int = 0, chunk_tokens: int = 1 << 22,
                  offset: int = 0):
    """Map the corpus to vocabulary rows and drop what does not take part in windows.

    Returns ``(x, doc_starts)``: ``x`` int32 rows (``-1`` marks a position kept as a
    gap by clean subsampling, or a separator), ``doc_starts`` the positions in ``x``
    where documents start.  Out-of-vocabulary tokens are always removed; subsampled
    tokens are removed (dirty) or turned into gaps (clean).  ``gap`` separators (-1)
    are put before every document but the first: with ``gap`` >= the window, no
    window reaches across a document boundary, and no per-token document ids are
    needed.  ``offset``: the corpus position of the first token when ``corpus`` is a
    shard of a larger corpus (:mod:`pmiembed.distributed`), so that the subsampling
    draws are the whole corpus' draws.
    """
    validate_params(CONSTRAINTS, {"subsample_mode": subsample_mode})
    if subsample_mode == "expected":
        subsample = None  # nothing drawn: the PMI stage weights the pairs (subsample_keep)
    from ._kernels import filter_chunk

    remap = vocab.id_map(corpus.types).astype(np.int32)
    keep_p = vocab.keep_probability(subsample) if subsample else np.ones(1)
    seed_add = _seed_add(seed)
    ids = corpus.ids
    n = len(ids)
    doc_starts = corpus.doc_starts
    parts, starts = [], []
    out_pos = 0
    for s in range(0, n, chunk_tokens):
        e = min(n, s + chunk_tokens)
        lo, hi = np.searchsorted(doc_starts, [s, e])
        doc_rel = (doc_starts[lo:hi] - s).astype(np.int64)
        out = np.empty(e - s + gap * len(doc_rel), dtype=np.int32)
        at = np.empty(len(doc_rel), dtype=np.int64)
        written = filter_chunk(ids[s:e], remap, keep_p, bool(subsample), seed_add, offset + s,
                               subsample_mode == "dirty", doc_rel, gap, out, at)
        starts.append(out_pos + at)
        parts.append(out[:written].copy())  # not the chunk-sized buffer
        out_pos += written
    x = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    starts = np.unique(np.concatenate(starts)) if starts else np.zeros(0, np.int64)
    starts = starts[(starts > 0) & (starts < len(x))]
    return x, starts


def positions_by_word(x: np.ndarray, n_words: int):
    """``(indptr, positions)``: the corpus positions of each word, ascending (a counting
    sort; 4 bytes a token)."""
    from ._kernels import fill_positions

    counts = np.bincount(x[x >= 0], minlength=n_words)
    indptr = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    positions = np.empty(int(indptr[-1]), dtype=np.int32 if len(x) < 2**31 else np.int64)
    fill_positions(x, indptr, positions)
    return indptr, positions


def count_chunk(x: np.ndarray, index, lo: int, hi: int, weights: np.ndarray,
                n_words: int, batch_entries: int = 1 << 23) -> sp.csr_matrix:
    """Symmetric counts of the pairs whose centre ``p`` is in ``lo <= p < hi`` (each
    pair at distance d <= L in both directions, no gap or separator between documents
    (see :func:`filter_tokens`)): a CSR matrix with int64 data (see
    :func:`pmiembed._kernels.window_count_rows` and :func:`row_batches`)."""
    rows = RowBlocks(n_words)
    for batch in row_batches(x, index, lo, hi, weights, n_words, batch_entries):
        rows.add(*batch)
    return rows.total()


def row_batches(x: np.ndarray, index, lo: int, hi: int, weights: np.ndarray, n_words: int,
                batch_entries: int = 1 << 23):
    """Yield ``(words, nnz, indices, data)`` for consecutive batches of rows, ascending:
    the final counts of those rows over the centres ``lo <= p < hi`` (``nnz[i]`` entries
    of row ``words[i]``, concatenated, columns ascending).  A batch's room (at most
    ``min(V, 2L * occurrences)`` entries a row) stays under ``batch_entries``.
    ``index`` is ``positions_by_word(x)``."""
    from . import _kernels
    from ._jit import numba

    indptr_w, positions = index
    window = len(weights)
    if lo == 0 and hi >= len(x):
        occurrences = np.diff(indptr_w)
    else:
        centres = x[lo:hi]
        occurrences = np.bincount(centres[centres >= 0], minlength=n_words)
    words = np.flatnonzero(occurrences).astype(np.int64)
    occurrences = occurrences[words]
    room = np.minimum(n_words, 2 * window * occurrences)
    threads = numba.get_num_threads()
    acc = np.zeros((threads, n_words), dtype=np.int64)  # all zeros between rows
    touched = np.empty((threads, n_words), dtype=np.int32)
    start = 0
    cum = np.cumsum(room)
    while start < len(words):
        base = cum[start - 1] if start else 0
        stop = int(np.searchsorted(cum, base + batch_entries, side="right"))
        stop = max(stop, start + 1)
        batch = words[start:stop]
        offsets = np.zeros(len(batch), dtype=np.int64)
        np.cumsum(room[start:stop - 1], out=offsets[1:]) if len(batch) > 1 else None
        total = int(offsets[-1] + room[stop - 1])
        out_i = np.empty(total, dtype=np.int32)
        out_d = np.empty(total, dtype=np.int64)
        nnz = np.zeros(len(batch), dtype=np.int64)
        _kernels.window_count_rows(x, lo, hi, weights, indptr_w, positions, batch, offsets,
                                   acc, touched, out_i, out_d, nnz)
        dst_ptr = np.zeros(len(batch) + 1, dtype=np.int64)
        np.cumsum(nnz, out=dst_ptr[1:])
        part_i = np.empty(int(dst_ptr[-1]), dtype=np.int32)
        part_d = np.empty(int(dst_ptr[-1]), dtype=np.int64)
        _kernels.compact_rows(offsets, nnz, out_i, out_d, dst_ptr, part_i, part_d)
        del out_i, out_d
        yield batch, nnz, part_i, part_d
        start = stop


def weighted_row_sums(indptr, indices, data, keep, rows=None) -> np.ndarray:
    """Row sums of the expected counts ``keep_w keep_c #(w, c)`` of CSR rows (``rows``:
    their row ids, default 0, 1, ...; see :func:`pmiembed._kernels.weighted_row_sums`)."""
    from . import _kernels

    indptr = np.asarray(indptr)
    local = (indptr - indptr[0]).astype(np.int64)
    rows = np.arange(len(indptr) - 1) if rows is None else np.asarray(rows, dtype=np.int64)
    out = np.empty(len(indptr) - 1, dtype=np.float64)
    _kernels.weighted_row_sums(local, rows, indices, data, np.asarray(keep, dtype=np.float64), out)
    return out


class RowBlocks:
    """Final rows of a symmetric count matrix arriving in ascending batches (see
    :func:`row_batches`), held in memory or, beyond half of ``budget_bytes``, written
    to ``spill_dir`` as sorted partial counts (disjoint row ranges).  ``total`` reads
    the files back one at a time into arrays of the final size (the peak is the result
    plus half the budget, never the result twice); ``parts`` hands them out one at a
    time instead, with the row sums kept while counting, so PMI can be computed without
    the whole count matrix (:func:`pmiembed.pmi.pmi_from_rows`).  With ``keep``
    (expected subsampling, :func:`subsample_keep`) the row sums of the weighted counts
    ``keep_w keep_c #(w, c)`` are kept too (``weighted_row_sum``).  A spilled part that
    cannot be read back raises :class:`PMIEmbedError` naming the spill folder."""

    def __init__(self, n_rows: int, budget_bytes: int | None = None, spill_dir: Path | None = None,
                 keep: np.ndarray | None = None):
        self.n_rows = n_rows
        self.row_nnz = np.zeros(n_rows, dtype=np.int64)
        self.row_sum = np.zeros(n_rows, dtype=np.float64)
        self.keep = None if keep is None else np.asarray(keep, dtype=np.float64)
        self.weighted_row_sum = None if keep is None else np.zeros(n_rows, dtype=np.float64)
        self.held: list[tuple[np.ndarray, np.ndarray]] = []
        self.held_bytes = 0
        self.files: list[tuple[Path, int]] = []
        self.budget = budget_bytes
        self.spill_dir = spill_dir

    def add(self, words, nnz, indices, data) -> None:
        self.row_nnz[words] = nnz
        indptr = np.concatenate(([0], np.cumsum(nnz)))
        nonempty = nnz > 0
        if nonempty.any():
            self.row_sum[words[nonempty]] = np.add.reduceat(data.astype(np.float64), indptr[:-1][nonempty])
        if self.keep is not None:
            self.weighted_row_sum[words] = weighted_row_sums(indptr, indices, data, self.keep, rows=words)
        self.held.append((indices, data))
        self.held_bytes += indices.nbytes + data.nbytes
        if self.budget is not None and self.held_bytes > self.budget // 2:
            self._spill()

    def _spill(self) -> None:
        path = self.spill_dir / f"part{len(self.files)}"
        path.mkdir()
        indices = np.concatenate([i for i, _ in self.held])
        np.save(path / "indices.npy", indices)
        np.save(path / "data.npy", np.concatenate([d for _, d in self.held]))
        self.files.append((path, len(indices)))
        self.held, self.held_bytes = [], 0

    @property
    def nnz(self) -> int:
        return int(self.row_nnz.sum())

    def indptr(self) -> np.ndarray:
        indptr = np.zeros(self.n_rows + 1, dtype=np.int64)
        np.cumsum(self.row_nnz, out=indptr[1:])
        return indptr

    def parts(self):
        """Yield ``(start, indices, data)`` in row order (``start``: offset of the part's
        first entry in the whole matrix); spilled parts are read (and deleted) one at a
        time."""
        pos = 0
        for path, length in self.files:
            got = []
            for name in ("indices", "data"):
                try:
                    reader = _NpyReader(path / f"{name}.npy")
                    try:
                        got.append(reader.read(0, length))
                    finally:
                        reader.close()
                except OSError as exc:
                    raise _spill_error(self.spill_dir, exc) from None
            shutil.rmtree(path, ignore_errors=True)
            yield pos, got[0], got[1]
            pos += length
            del got
        self.files = []
        while self.held:
            indices, data = self.held.pop(0)
            yield pos, indices, data
            pos += len(indices)

    def total(self) -> sp.csr_matrix:
        indptr = self.indptr()
        nnz = int(indptr[-1])
        if not self.files and len(self.held) == 1:
            indices, data = self.held.pop()
        else:
            indices = np.empty(nnz, dtype=np.int32)
            data = np.empty(nnz, dtype=np.int64)
            for start, i, d in self.parts():
                indices[start:start + len(i)] = i
                data[start:start + len(d)] = d
        if nnz < 2**31 - 1:
            indptr = indptr.astype(np.int32)
        return sp.csr_matrix((data, indices, indptr), shape=(self.n_rows, self.n_rows))


class _PartialSums:
    """A binary counter of CSR matrices with an optional spill to disk.

    ``add`` pushes a matrix; equal-sized neighbours are summed, so every entry is
    merged O(log n) times.  When the matrices held exceed half of ``budget_bytes`` they
    are summed and written to ``spill_dir`` as sorted CSR arrays; ``total`` merges the
    spilled files in row blocks, at most ``fan_in`` open at once.
    """

    def __init__(self, shape, budget_bytes: int | None, spill_dir: Path | None, fan_in: int = 16):
        self.shape = shape
        self.stack: list[tuple[int, sp.csr_matrix]] = []
        self.budget = budget_bytes
        self.spill_dir = spill_dir
        self.spilled: list[Path] = []
        self.fan_in = fan_in

    @staticmethod
    def _bytes(m) -> int:
        return m.nnz * (m.data.itemsize + m.indices.itemsize) + m.indptr.nbytes

    def held_bytes(self) -> int:
        return sum(self._bytes(m) for _, m in self.stack)

    def add(self, m: sp.csr_matrix) -> None:
        level = 0
        while self.stack and self.stack[-1][0] == level:
            _, top = self.stack.pop()
            m = _add_csr(top, m)
            level += 1
        self.stack.append((level, m))
        # spill at half the budget: the held matrices and their sum are alive at once
        if self.budget is not None and self.held_bytes() > self.budget // 2:
            self._spill()

    def _collapse(self) -> sp.csr_matrix:
        m = None
        while self.stack:
            _, top = self.stack.pop()
            m = top if m is None else _add_csr(top, m)
        return m if m is not None else sp.csr_matrix(self.shape, dtype=np.int64)

    def _spill(self) -> None:
        m = self._collapse()
        self.spilled.append(_write_csr(self.spill_dir, len(self.spilled), m))

    def total(self) -> sp.csr_matrix:
        if not self.spilled:
            return self._collapse()
        if self.stack:
            self._spill()
        files = self.spilled
        level = 0
        while len(files) > self.fan_in:
            merged = []
            for g in range(0, len(files), self.fan_in):
                group = files[g: g + self.fan_in]
                if len(group) == 1:
                    merged.append(group[0])
                    continue
                m = _merge_files(group, self.shape, self.budget)
                merged.append(_write_csr(self.spill_dir, f"m{level}_{g}", m))
                del m
                for f in group:
                    shutil.rmtree(f, ignore_errors=True)
            files = merged
            level += 1
        return _merge_files(files, self.shape, self.budget)  # the last merge stays in memory


def _add_csr(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    m = a + b
    m.sort_indices()
    return m


def _write_csr(folder: Path, name, m: sp.csr_matrix) -> Path:
    path = folder / f"part{name}"
    path.mkdir()
    np.save(path / "indptr.npy", m.indptr.astype(np.int64))
    np.save(path / "indices.npy", m.indices.astype(np.int32))
    np.save(path / "data.npy", m.data)
    return path


class _NpyReader:
    """Slices of a 1-D ``.npy`` file read with plain file reads: unlike a memory map, the
    pages read never count towards the process's resident memory."""

    def __init__(self, path: Path):
        self.file = open(path, "rb")
        fmt = np.lib.format
        version = fmt.read_magic(self.file)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, self.dtype = read_header(self.file)
        self.length = shape[0]
        self.offset = self.file.tell()

    def read(self, a: int, b: int) -> np.ndarray:
        self.file.seek(self.offset + a * self.dtype.itemsize)
        out = np.fromfile(self.file, dtype=self.dtype, count=b - a)
        if len(out) != b - a:
            raise OSError(f"{self.file.name}: truncated temporary counts")
        return out

    def close(self) -> None:
        self.file.close()


def _merge_files(paths: list[Path], shape, budget: int | None) -> sp.csr_matrix:
    """Sum spilled CSR files, reading them in row blocks well inside the budget and writing
    each summed block straight into the output arrays (allocated for the sum of the
    parts' nonzeros, of which only the pages actually written become resident), so
    the peak is the result plus one block."""
    with contextlib.ExitStack() as stack:
        parts = []
        for path in paths:
            readers = [_NpyReader(path / f"{name}.npy") for name in ("indices", "data")]
            for r in readers:
                stack.callback(r.close)
            parts.append((np.load(path / "indptr.npy"), *readers))
        n_rows = shape[0]
        total_nnz = sum(int(p[0][-1]) for p in parts)
        # blocks of an eighth of the budget: a block's parts, their running sum and its
        # canonical form are alive at once
        n_blocks = max(1, int(np.ceil(total_nnz * 12 / max((budget or 1 << 31) // 8, 1 << 20))))
        bounds = np.linspace(0, n_rows, n_blocks + 1).astype(np.int64)
        index_dtype = np.int32 if total_nnz < 2**31 else np.int64
        data_dtype = np.result_type(*[p[2].dtype for p in parts])
        out_indptr = np.zeros(n_rows + 1, dtype=index_dtype)
        out_indices = np.empty(total_nnz, dtype=index_dtype)
        out_data = np.empty(total_nnz, dtype=data_dtype)
        pos = 0
        for r0, r1 in zip(bounds[:-1], bounds[1:]):
            acc = None
            for indptr, indices, data in parts:
                a, b = int(indptr[r0]), int(indptr[r1])
                blk = sp.csr_matrix((data.read(a, b), indices.read(a, b), indptr[r0: r1 + 1] - a),
                                    shape=(int(r1 - r0), shape[1]))
                acc = blk if acc is None else acc + blk
            acc.sum_duplicates()
            acc.sort_indices()
            out_indices[pos:pos + acc.nnz] = acc.indices
            out_data[pos:pos + acc.nnz] = acc.data
            out_indptr[r0 + 1:r1 + 1] = acc.indptr[1:] + pos
            pos += acc.nnz
            del acc
    m = sp.csr_matrix((out_data[:pos], out_indices[:pos], out_indptr), shape=shape, copy=False)
    m.has_sorted_indices = True
    return m


@dataclass
class Cooccurrence:
    """Weighted co-occurrence counts over a vocabulary.

    ``counts`` is a symmetric CSR matrix of int64 *scaled* counts; the weighted counts
    are ``counts / scale`` (:meth:`matrix`).  ``params`` records how they were counted.
    Two ``Cooccurrence`` objects over the same vocabulary and parameters add up.
    """

    counts: sp.csr_matrix
    scale: int
    vocab: Vocabulary
    params: dict = field(default_factory=dict)

    @property
    def shape(self):
        return self.counts.shape

    @property
    def nnz(self) -> int:
        return self.counts.nnz

    @property
    def keep(self) -> np.ndarray | None:
        """The per-word weights PMI applies to these counts (expected subsampling, see
        :func:`subsample_keep`), or None: pass as ``pmi_matrix(counts, keep=...)``."""
        return subsample_keep(self.vocab, self.params)

    def matrix(self, dtype=np.float64) -> sp.csr_matrix:
        """Weighted counts #(w, c) as a CSR matrix of ``dtype``."""
        m = self.counts.astype(dtype)
        m.data /= self.scale
        return m

    def __add__(self, other: "Cooccurrence") -> "Cooccurrence":
        if not isinstance(other, Cooccurrence):
            return NotImplemented
        if self.vocab.words != other.vocab.words:
            raise ParameterError("cannot add co-occurrence counts over different vocabularies; count with one "
                                 "Vocabulary")
        mine = {k: v for k, v in self.params.items() if k != "n_tokens"}
        theirs = {k: v for k, v in other.params.items() if k != "n_tokens"}
        if mine != theirs or self.scale != other.scale:
            raise ParameterError(f"cannot add counts made with different parameters: {mine} vs {theirs}")
        params = dict(self.params)
        params["n_tokens"] = self.params.get("n_tokens", 0) + other.params.get("n_tokens", 0)
        vocab = Vocabulary(self.vocab.words, self.vocab.counts + other.vocab.counts,
                           self.vocab.total + other.vocab.total)
        return Cooccurrence(_add_csr(self.counts, other.counts), self.scale, vocab, params)

    # ------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike) -> None:
        """Save to one ``.npz`` file with a format version and a SHA-256 of the arrays."""
        c = self.counts
        arrays = {
            "indptr": c.indptr.astype(np.int64),
            "indices": c.indices.astype(np.int32),
            "data": c.data.astype(np.int64),
            "word_counts": self.vocab.counts.astype(np.int64),
        }
        words = "\n".join(self.vocab.words)
        meta = {
            "format": COUNTS_FORMAT, "version": COUNTS_VERSION, "scale": int(self.scale),
            "shape": list(c.shape), "total": int(self.vocab.total), "params": self.params,
            "sha256": _digest(arrays, words),
        }
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, meta=np.array(json.dumps(meta)), words=np.array(words), **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Cooccurrence":
        path = Path(path)
        if not path.is_file():
            raise VectorsError(f"{path}: no such counts file; check the path")
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                words = str(z["words"])
                arrays = {k: z[k] for k in ("indptr", "indices", "data", "word_counts")}
        except Exception as exc:  # zipfile/npy errors of every kind
            raise VectorsError(f"{path}: not a readable pmiembed counts file ({type(exc).__name__}); "
                               "re-create it") from None
        if not isinstance(meta, dict) or meta.get("format") != COUNTS_FORMAT:
            raise VectorsError(f"{path}: not a pmiembed counts file; re-create it with pmiembed")
        if type(meta.get("version")) is not int or meta.get("version") != COUNTS_VERSION:
            raise VectorsError(f"{path}: counts format version {meta.get('version')!r} is not supported (this pmiembed "
                               f"reads version {COUNTS_VERSION}, an integer); re-create it")
        if _digest(arrays, words) != meta.get("sha256"):
            raise VectorsError(f"{path}: checksum mismatch, the file is damaged; re-create it")
        shape = tuple(meta["shape"])
        counts = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
        vocab = Vocabulary(words.split("\n") if words else [], arrays["word_counts"], meta["total"])
        return cls(counts, meta["scale"], vocab, meta["params"])


def _digest(arrays: dict, words: str) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode())
        h.update(a.tobytes())
    h.update(words.encode("utf-8"))
    return h.hexdigest()


def count_cooccurrences(
    corpus: TokenizedCorpus,
    vocab: Vocabulary,
    *,
    window: int = DEFAULTS["window"],
    weighting: str = DEFAULTS["weighting"],
    subsample: float | None = DEFAULTS["subsample"],
    subsample_mode: str = DEFAULTS["subsample_mode"],
    seed: int = 0,
    chunk_tokens: int | None = None,
    memory_bytes: int | None = None,
    tmp_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> Cooccurrence:
    """Count weighted co-occurrences of ``corpus`` over ``vocab`` (see the module
    docstring for the weights, subsampling and exactness).

    By default all window centres are counted at once, a batch of rows at a time; each
    batch holds final rows.  ``chunk_tokens`` instead counts that many centres at a time
    and sums the chunks' partial counts; it changes speed and memory, never the result.
    With ``memory_bytes``, partial counts (finished row blocks, or partial sums with
    ``chunk_tokens``) beyond half that budget spill to temporary files in ``tmp_dir``
    (default: the system temp folder), removed afterwards even on errors.
    """
    box = [corpus]
    del corpus  # counting() gets the only reference the caller gave us (see there)
    with counting(box.pop(), vocab, window=window, weighting=weighting, subsample=subsample,
                  subsample_mode=subsample_mode, seed=seed, chunk_tokens=chunk_tokens, memory_bytes=memory_bytes,
                  tmp_dir=tmp_dir, progress=progress) as counted:
        return counted.cooccurrence(vocab)


def subsample_keep(vocab: Vocabulary, params: dict) -> np.ndarray | None:
    """The per-word weights the PMI stage applies to counts made with
    ``subsample_mode="expected"`` (word2vec's keep probabilities, see
    :meth:`Vocabulary.keep_probability`), or None for counts that need none."""
    if params.get("subsample_mode") == "expected" and params.get("subsample"):
        return vocab.keep_probability(params["subsample"])
    return None


@dataclass
class Counted:
    """What :func:`counting` yields: the finished rows (``rows``, a :class:`RowBlocks`)
    or, with ``chunk_tokens``, the summed ``counts``; the integer ``scale`` of the
    weights and the counting ``params``."""

    rows: RowBlocks | None
    counts: sp.csr_matrix | None
    scale: int
    params: dict

    def cooccurrence(self, vocab: Vocabulary) -> "Cooccurrence":
        """The counts as a :class:`Cooccurrence` (reads the rows, once)."""
        counts = self.rows.total() if self.rows is not None else self.counts
        counts.sort_indices()
        return Cooccurrence(counts, self.scale, vocab, self.params)


def _spill_error(spill_dir, exc: OSError) -> PMIEmbedError:
    return PMIEmbedError(
        f"{spill_dir}: cannot write temporary counts ({exc.strerror or exc}); free disk space, "
        "set TMPDIR to a larger disk, or raise `memory`"
    )


@contextlib.contextmanager
def counting(corpus: TokenizedCorpus, vocab: Vocabulary, *, window: int = DEFAULTS["window"],
             weighting: str = DEFAULTS["weighting"], subsample: float | None = DEFAULTS["subsample"],
             subsample_mode: str = DEFAULTS["subsample_mode"], seed: int = 0,
             chunk_tokens: int | None = None, memory_bytes: int | None = None,
             tmp_dir: str | os.PathLike | None = None, progress: bool = False):
    """Count as :func:`count_cooccurrences` does and yield a :class:`Counted` whose spill
    files live until the ``with`` block ends: the rows can then be read once, to build
    the count matrix or straight into PMI (:func:`pmiembed.pmi.pmi_from_rows`) without
    ever holding the whole count matrix.  When the caller passes the only reference to
    ``corpus``, its token ids are freed as soon as they are mapped to rows."""
    weights, scale = window_weights(window, weighting)
    validate_params(CONSTRAINTS, {"subsample": subsample, "subsample_mode": subsample_mode,
                                  "chunk_tokens": chunk_tokens})
    n_tokens = corpus.n_tokens
    x, _ = filter_tokens(corpus, vocab, subsample=subsample, subsample_mode=subsample_mode, seed=seed, gap=window)
    del corpus  # frees the token ids when the caller passed the only reference (as fit does)
    params = {
        "window": int(window), "weighting": weighting,
        "subsample": None if subsample is None else float(subsample),
        "subsample_mode": subsample_mode, "seed": int(seed), "n_tokens": int(n_tokens),
    }
    n_words = len(vocab)
    with contextlib.ExitStack() as stack:
        spill_dir = None
        if memory_bytes is not None:
            spill_dir = stack.enter_context(temporary_dir(prefix="pmiembed-spill-", dir=tmp_dir))
        n = len(x)
        index = positions_by_word(x, n_words)
        rows = counts = None
        try:
            with progress_bar(total=n, desc="count", unit="tok", unit_scale=True, enable=progress) as bar:
                if chunk_tokens is None:
                    # all centres at once, a batch of rows at a time: every batch holds
                    # final rows, so nothing is ever summed; beyond half the budget the
                    # finished rows go to disk
                    rows = RowBlocks(n_words, memory_bytes, spill_dir, keep=subsample_keep(vocab, params))
                    occurrences = np.diff(index[0])
                    done = 0
                    for batch in row_batches(x, index, 0, n, weights, n_words):
                        rows.add(*batch)
                        if bar is not None:
                            step = int(occurrences[batch[0]].sum())
                            bar.update(step)
                            done += step
                        del batch
                    if bar is not None:
                        bar.update(n - done)
                    del index, x  # not needed to read the rows
                else:
                    # chunks of centres: partial sums of every row, summed (and, beyond
                    # the budget, spilled and merged at the end as GloVe's cooccur does)
                    sums = _PartialSums((n_words, n_words), memory_bytes, spill_dir)
                    for lo in range(0, n, chunk_tokens):
                        hi = min(n, lo + chunk_tokens)
                        sums.add(count_chunk(x, index, lo, hi, weights, n_words))
                        if bar is not None:
                            bar.update(hi - lo)
                    del index, x  # not needed by the merge
                    counts = sums.total()
        except OSError as exc:
            raise _spill_error(spill_dir, exc) from None
        yield Counted(rows, counts, scale, params)


# ------------------------------------------------ counts grown by more text (updates)


def count_rare_pairs(tokens, vocab: Vocabulary, *, window: int, weighting: str, subsample, subsample_mode: str,
                     seed: int = 0) -> Cooccurrence | None:
    """The rows of the words that ``vocab`` leaves out, counted as
    :func:`pmiembed.cooccur.counting` counts with them in the vocabulary: what an update
    needs when such a word reaches ``min_count`` with more text.  A
    :class:`~pmiembed.cooccur.Cooccurrence` over every word of the corpus (``vocab``
    first, in its order) whose rows for ``vocab``'s words are empty; None when no word
    is left out."""
    counts = np.asarray(tokens.counts)
    ext = Vocabulary.from_counts(tokens.types, counts, min_count=1, total=tokens.n_tokens)
    n_old = len(vocab)
    if len(ext) <= n_old or ext.words[:n_old] != vocab.words:
        return None
    weights, scale = window_weights(window, weighting)
    x, _ = filter_tokens(tokens, ext, subsample=subsample, subsample_mode=subsample_mode, seed=seed, gap=window)
    indptr, positions = positions_by_word(x, len(ext))
    # only the left-out words' positions: their rows alone are counted
    first = indptr[n_old]
    index = (np.maximum(indptr - first, 0), positions[first:])
    rows = RowBlocks(len(ext))
    for batch in row_batches(x, index, 0, len(x), weights, len(ext)):
        rows.add(*batch)
    m = rows.total()
    m.sort_indices()
    params = {"window": int(window), "weighting": weighting,
              "subsample": None if subsample is None else float(subsample), "subsample_mode": subsample_mode,
              "seed": int(seed), "n_tokens": int(tokens.n_tokens)}
    return Cooccurrence(m, scale, ext, params)


def _rare_both_ways(rare: Cooccurrence, n_old: int) -> sp.csr_matrix:
    """The left-out words' rows plus, as the rows of the old words, their transposes
    (entries between old words are not in these counts)."""
    r = rare.counts
    t = sp.csr_matrix(r[:, :n_old].T)
    t = sp.csr_matrix((t.data, t.indices, np.concatenate([t.indptr, np.full(r.shape[0] - n_old, t.indptr[-1])])),
                      shape=r.shape)
    out = (r + t).tocsr()
    out.sort_indices()
    return out


def reindexed_sum(old: Cooccurrence, new: Cooccurrence, rare: Cooccurrence | None = None) -> Cooccurrence:
    """``old``'s counts re-indexed to ``new``'s vocabulary plus ``new``'s (words of
    ``old`` missing from ``new.vocab`` are dropped); with ``rare``
    (:func:`count_rare_pairs` of the old text), the old pairs of the words that joined."""
    from . import _update_kernels
    from ._kernels import compact_rows

    mine = {k: v for k, v in old.params.items() if k != "n_tokens"}
    theirs = {k: v for k, v in new.params.items() if k != "n_tokens"}
    if mine != theirs or old.scale != new.scale:
        raise ParameterError(f"cannot add counts made with different parameters: {mine} vs {theirs}")
    n_new = len(new.vocab)

    def maps(words):
        col = new.vocab.id_map(words).astype(np.int64)  # source row -> new row
        row = np.full(n_new, -1, dtype=np.int64)
        kept = col >= 0
        row[col[kept]] = np.flatnonzero(kept)
        return row, col

    row_old, col_map = maps(old.vocab.words)
    o, n = old.counts, new.counts
    room = np.diff(n.indptr).astype(np.int64)
    room[row_old >= 0] += np.diff(o.indptr)[row_old[row_old >= 0]]
    if rare is not None:
        x = _rare_both_ways(rare, len(old.vocab))
        row_x, xcol_map = maps(rare.vocab.words)
        room[row_x >= 0] += np.diff(x.indptr)[row_x[row_x >= 0]]
    else:
        x = sp.csr_matrix((1, 1), dtype=np.int64)
        row_x, xcol_map = np.full(n_new, -1, dtype=np.int64), np.full(1, -1, dtype=np.int64)
    room = np.minimum(room, n_new)
    offsets = np.zeros(len(room), dtype=np.int64)
    np.cumsum(room[:-1], out=offsets[1:])
    total = int(room.sum())
    out_i = np.empty(total, dtype=np.int32)
    out_d = np.empty(total, dtype=np.int64)
    nnz = np.zeros(len(room), dtype=np.int64)
    from ._jit import numba

    threads = numba.get_num_threads()
    acc = np.zeros((threads, n_new), dtype=np.int64)  # counts are positive: 0 means untouched
    touched = np.empty((threads, n_new), dtype=np.int32)
    def i64(a):  # no copy of what already is int64 (the counts' data: 300 MB on wiki17m)
        return a.astype(np.int64, copy=False)

    _update_kernels.merge_rows(row_old, col_map, i64(o.indptr), o.indices, i64(o.data),
                               row_x, xcol_map, i64(x.indptr), x.indices, i64(x.data),
                               i64(n.indptr), n.indices, i64(n.data), offsets,
                               acc, touched, out_i, out_d, nnz)
    del acc, touched
    ptr = np.zeros(len(room) + 1, dtype=np.int64)
    np.cumsum(nnz, out=ptr[1:])
    if ptr[-1] == total:
        idx, dat = out_i, out_d
    else:
        idx = np.empty(int(ptr[-1]), dtype=np.int32)
        dat = np.empty(int(ptr[-1]), dtype=np.int64)
        compact_rows(offsets, nnz, out_i, out_d, ptr, idx, dat)
    del out_i, out_d
    counts = sp.csr_matrix((dat, idx, ptr), shape=(n_new, n_new))
    params = dict(new.params)
    params["n_tokens"] = int(old.params.get("n_tokens", 0)) + int(new.params.get("n_tokens", 0))
    return Cooccurrence(counts, new.scale, new.vocab, params)
