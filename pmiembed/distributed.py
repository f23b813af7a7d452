"""The pipeline on a Dask cluster (``pip install ".[dask]"`` in pmiembed's clone): for corpora that
outgrow one machine.

``PMIEmbedding(...).fit(corpus, client=client)`` and ``pmiembed train CORPUS --scheduler
ADDRESS`` (or ``--scheduler-file FILE``, or ``local:N``) run the stages of the
single-process route on the workers of a ``dask.distributed`` cluster, calling the same
stage functions and kernels on shards of the corpus and on row blocks of the matrices,
so the recipe (weights, subsampling, PMI, SVD, fold-in, post-processing) is the one of
:mod:`pmiembed.model`:

1. **Shards.**  Every file is cut into byte ranges of about ``shard_bytes`` (of the
   decompressed text), each cut placed just after a whitespace byte, so no token is cut
   and the shards partition the text exactly (a 100 MB single line splits too).  A
   compressed file is read from its start by each of its shards (gzip cannot seek):
   many files, or plain text, spread better.  Paths may be fsspec URLs
   (``s3://...``); local paths must be readable by every worker.
2. **Vocabulary.**  Each worker tokenises its shards (:func:`pmiembed.corpus.read_corpus`)
   and returns their type counts; the client sums them and builds the
   :class:`~pmiembed.vocab.Vocabulary`, which is broadcast.
3. **Counts.**  Each shard is mapped to vocabulary rows
   (:func:`pmiembed.cooccur.filter_tokens`, with the shard's corpus position so the
   subsampling draws are the whole corpus'), extended by the ``L`` positions of its
   neighbours on either side (fetched from their first and last ``L`` entries), and its
   window centres are counted (:func:`pmiembed.cooccur.count_chunk`) into row blocks.
   The row blocks of all shards are summed by a tree reduction and stay on the
   workers.  Every pair is counted at its centre exactly once and integer sums do not
   depend on their order: the counts are the single-process counts, bit for bit.
4. **PMI** of each row block with the global marginals: the row sums of every block are
   gathered (for symmetric counts they are the column sums), then each block's PMI is
   computed by the single-process writer (:class:`pmiembed.pmi._PMIWriter`), so the
   matrix is the single-process one, bit for bit.  The client gathers the blocks (and
   their marginals) one at a time: the model folder keeps the matrix, as every route's
   (:class:`pmiembed.state.ModelState`).
5. **SVD** of the core (the words seen at least ``core_min_count`` times,
   :mod:`pmiembed.cluster_svd`) by the single-process randomized subspace iteration
   (:func:`pmiembed.svd._chebyshev_range` for the symmetric PPMI of cds = 1, power iteration otherwise) over distributed
   tall matrices: a product ``A Q`` is one task per row block, which receives ``Q``'s
   row blocks as they are (never concatenated) and multiplies them with its column
   blocks (:class:`pmiembed.svd._BlockedCSR`); Gram matrices are summed from the blocks
   and the small dense steps (Cholesky-QR factors, the eigendecomposition of the Ritz
   step) run on the client.  The random start of each block is seeded by
   ``(seed, block)``, so the result does not depend on where tasks ran (it differs from
   the single-process start, hence the singular values agree to a tolerance, not bits).
6. **Fold-in** of the rarer words per row block, then eigenvalue weighting, w+c and
   all-but-the-top on the client, which gathers only ``U`` and ``V``
   (:meth:`PMIEmbedding._set_vectors`).

A lost worker's results are recomputed by Dask, at any stage: every piece of data a
task uses is computed by a task from the files or travels inside the task that holds it
(:func:`pmiembed.cluster._held`), never scattered (Dask keeps one copy of scattered data, which a lost
worker takes with it).  What Dask cannot recover (a task whose workers keep dying, a
lost scheduler) stops the run with one line naming the stage
(:func:`pmiembed.cluster._cluster_failures`; :mod:`pmiembed.cluster` connects to the
cluster and checks it).
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .cluster import (  # noqa: F401 (connect, LOCAL_WORKERS_PER_CORE, dask_setup: importable from here too)
    LOCAL_WORKERS_PER_CORE,
    _cluster_failures,
    _held,
    _import_distributed,
    _note_peak,
    _Stages,
    _submit,
    _wait,
    connect,
    dask_setup,
    worker_peaks,
)
from .cluster_svd import _fold_columns, _fold_rows, distributed_svd
from .cooccur import (
    Cooccurrence,
    RowBlocks,
    _add_csr,
    count_chunk,
    filter_tokens,
    positions_by_word,
    subsample_keep,
    window_weights,
)
from .corpus import _compression, open_text_bytes, read_corpus, resolve_paths
from .defaults import DEFAULTS, TOKENIZE
from .errors import CorpusError, ParameterError, PMIEmbedError
from .pmi import (
    PMIMarginals,
    check_matrix_params,
    check_not_empty,
    check_pmi_params,
    empty_rows,
    frequency_weights,
    nneg_row_block,
    pmi_row_block,
)
from .progress import StageTimer
from .resources import limit_threads
from .svd import check_svd_params, core_size, rank_one_rows, unweighted_factors
from .vocab import Vocabulary

#: decompressed bytes a shard holds at most (fewer when the corpus is small: about two
#: shards a worker; more shards mean more partial counts to sum)
SHARD_BYTES = 256 << 20
MIN_SHARD_BYTES = 1 << 20


#: a compressed file's text is estimated as this many times its size when it is cut
#: into shards (the last shard reads to the end whatever the true size)
COMPRESSION_GUESS = 3.5


def _version() -> str:
    from ._version import __version__

    return __version__


def check_cluster(client) -> None:
    """Refuse, in one line, a cluster that cannot run pmiembed's tasks: the scheduler
    (which unpickles the tasks) and every worker must import this version of pmiembed."""
    from ._version import __version__

    distributed = _import_distributed()
    if not isinstance(client, distributed.Client):
        raise ParameterError(f"`client` must be a dask.distributed Client (Client(\"tcp://host:8786\")), not "
                             f"{type(client).__name__} {client!r:.60}", param="client")

    def why(exc: BaseException) -> str:
        return f"cannot load pmiembed's tasks ({type(exc).__name__}: {(str(exc).splitlines() or [''])[0]})"

    install = "install this pmiembed (with its dask extra) where the scheduler and every worker run (docs/cluster.md)"
    try:
        theirs = client.run_on_scheduler(_version)
    except Exception as exc:  # what the scheduler says: pmiembed cannot be imported there
        raise PMIEmbedError(f"the Dask scheduler {why(exc)}; {install}") from None
    if theirs != __version__:
        raise PMIEmbedError(f"the Dask scheduler has pmiembed {theirs} and this process {__version__}; {install}")
    for worker, theirs in sorted(client.run(_version, on_error="return").items()):
        if theirs != __version__:
            what = f"has pmiembed {theirs}" if isinstance(theirs, str) else why(theirs)
            raise PMIEmbedError(f"the Dask worker {worker} {what} (this process: pmiembed {__version__}); {install}")


# -------------------------------------------------------------------- shards


@dataclass(frozen=True)
class Shard:
    """Decompressed bytes ``[start, end)`` of ``path`` (``end`` None: to the end), each
    bound moved to just after the next whitespace byte; ``first``: the file's first
    shard (a file starts a document)."""

    path: str
    start: int
    end: int | None
    first: bool


def _is_url(path) -> bool:
    return isinstance(path, str) and "://" in path


def _url_files(url: str) -> list[tuple[str, int, bool]]:
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url)
        paths = sorted(p for p in fs.find(root) if not Path(p).name.startswith(".")) if fs.isdir(root) else [root]
        out = []
        for p in paths:
            with fs.open(p, "rb") as f:
                magic = f.read(6)
            compressed = any(magic.startswith(m) for m in (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"))
            out.append((fs.unstrip_protocol(p), int(fs.size(p)), compressed))
        return out
    except (ImportError, ValueError) as exc:
        raise CorpusError(f"{url}: cannot open this URL ({exc}); install the fsspec backend for it "
                          "(e.g. s3fs for s3://)") from None
    except (OSError, FileNotFoundError) as exc:
        raise CorpusError(f"{url}: cannot read it ({exc}); check the URL") from None


def plan_shards(corpus, shard_bytes: int | None = None, n_workers: int = 1) -> list[Shard]:
    """Cut ``corpus`` (a path, folder, URL or a list of them) into shards of about
    ``shard_bytes`` decompressed bytes (default: about two shards a worker, at most
    :data:`SHARD_BYTES`)."""
    sources = [corpus] if isinstance(corpus, (str, os.PathLike)) else list(corpus)
    if not sources or not all(isinstance(s, (str, os.PathLike)) for s in sources):
        raise ParameterError("with a Dask client the corpus must be file paths, folders or URLs that every "
                             "worker can read (not an in-memory iterable)")
    files: list[tuple[str, int, bool]] = []
    for s in sources:
        if _is_url(s):
            files.extend(_url_files(s))
        else:
            for p in resolve_paths(s):
                files.append((str(p.resolve()), p.stat().st_size, _compression(p) is not None))
    sizes = [int(size * COMPRESSION_GUESS) if compressed else size for _, size, compressed in files]
    if shard_bytes is None:
        shard_bytes = min(SHARD_BYTES, max(MIN_SHARD_BYTES, -(-sum(sizes) // (2 * max(1, n_workers)))))
    if isinstance(shard_bytes, bool) or not isinstance(shard_bytes, (int, np.integer)) or shard_bytes < 1:
        raise ParameterError(f"shard_bytes={shard_bytes!r} must be a positive integer")
    shards = []
    for (path, _, _), size in zip(files, sizes):
        n = max(1, -(-size // shard_bytes))
        for k in range(n):
            shards.append(Shard(path, k * shard_bytes, None if k == n - 1 else (k + 1) * shard_bytes, k == 0))
    return shards


def _open(path: str):
    """Decompressed bytes of a local path or an fsspec URL; a path a worker cannot read
    raises a :class:`CorpusError` that says every worker must see it."""
    try:
        if _is_url(path):
            import fsspec

            raw = fsspec.open(path, "rb").open()
            magic = raw.read(6)
            raw.seek(0)
            import bz2
            import gzip
            import lzma

            if magic.startswith(b"\x1f\x8b"):
                return gzip.GzipFile(fileobj=raw, mode="rb")
            if magic.startswith(b"BZh"):
                return bz2.BZ2File(raw, mode="rb")
            if magic.startswith(b"\xfd7zXZ\x00"):
                return lzma.LZMAFile(raw, mode="rb")
            return raw
        if _compression(Path(path)) is None:
            return open(path, "rb")
        return open_text_bytes(Path(path))
    except OSError as exc:
        raise CorpusError(f"{path}: a worker cannot read it ({exc.strerror or exc}); every worker must see the "
                          "corpus at this path (a shared file system, or a URL such as s3://...)") from None


def _first_space(block: bytes) -> int:
    hits = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) <= 32)
    return int(hits[0]) if len(hits) else -1


def _skip(f, n: int, piece: int) -> None:
    """Move ``f`` to decompressed byte ``n`` (a compressed file: by reading it)."""
    if isinstance(f, io.BufferedReader) and f.seekable():
        f.seek(n)
        return
    while n > 0:
        got = len(f.read(min(n, 16 * piece)))
        if not got:
            return
        n -= got


def read_shard_bytes(shard: Shard, piece: int = 1 << 20) -> bytes:
    """The bytes of ``shard``: from just after the first whitespace byte at or after
    ``start - 1`` (the file's start for ``start = 0``) to the same point for ``end``,
    so consecutive shards partition the text and no token is cut."""
    f = _open(shard.path)
    try:
        pos, rest = 0, b""
        if shard.start > 0:
            _skip(f, shard.start - 1, piece)
            before = f.read(1)
            if not before:
                return b""
            pos = shard.start
            if before[0] > 32:  # inside a token: the shard starts after its end
                while True:
                    block = f.read(piece)
                    if not block:
                        return b""
                    i = _first_space(block)
                    if i >= 0:
                        pos += i + 1
                        rest = block[i + 1:]
                        break
                    pos += len(block)
        if shard.end is None:
            return rest + f.read()
        if pos >= shard.end:
            return b""
        need = shard.end - pos
        data = rest if len(rest) >= need else rest + f.read(need - len(rest))
        if len(data) < need or data[need - 1] <= 32:
            return data[:need]
        tail = [data]
        i = _first_space(data[need:])
        if i >= 0:
            return data[:need + i + 1]
        while True:
            block = f.read(piece)
            if not block:
                break
            i = _first_space(block)
            if i >= 0:
                tail.append(block[:i + 1])
                break
            tail.append(block)
        return b"".join(tail)
    except CorpusError:
        raise
    except (OSError, EOFError, ValueError) as exc:
        raise CorpusError(f"{shard.path}: cannot read it on a worker ({exc}); the file is truncated or corrupt, "
                          "or not the same file on every worker") from None
    finally:
        f.close()


@dataclass
class _ShardText:
    """A tokenised shard and where its newlines are: ``lead_nl``, a newline before its
    first token; ``trail_nl``, one after its last token (an empty shard: ``trail_nl``
    says whether it holds one)."""

    corpus: object  # TokenizedCorpus or None (no tokens)
    lead_nl: bool
    trail_nl: bool
    n_bytes: int


def _tokenize_shard(shard: Shard, lowercase: bool | None, tokenizer, tokenize: str = TOKENIZE) -> _ShardText:
    import tempfile

    data = read_shard_bytes(shard)
    a = np.frombuffer(data, dtype=np.uint8)
    tok = np.flatnonzero(a > 32)
    if not len(tok):
        return _ShardText(None, False, bool(np.any(a == 10)), len(data))
    lead_nl = bool(np.any(a[:tok[0]] == 10))
    trail_nl = bool(np.any(a[tok[-1] + 1:] == 10))
    # read_corpus reads files: the shard goes through a temporary file, so that the
    # tokeniser, the decoding and the binary check are the single-process ones
    fd, tmp = tempfile.mkstemp(prefix="pmiembed-shard-", suffix=".txt")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        del data
        try:
            corpus = read_corpus(tmp, lowercase=lowercase, tokenizer=tokenizer, tokenize=tokenize,
                                 check_binary=shard.first)
        except CorpusError as exc:
            raise CorpusError(str(exc).replace(tmp, shard.path)) from None
    finally:
        os.unlink(tmp)
    corpus.sources = [shard.path]
    if corpus.n_tokens == 0:
        return _ShardText(None, False, lead_nl or trail_nl, len(a))
    return _ShardText(corpus, lead_nl, trail_nl, len(a))


def _shard_summary(text: _ShardText) -> dict:
    c = text.corpus
    if c is None:
        return {"tokens": 0, "types": [], "counts": np.zeros(0, np.int64), "docs": 0, "bytes": text.n_bytes,
                "replaced": 0, "lead_nl": text.lead_nl, "trail_nl": text.trail_nl}
    return {"tokens": c.n_tokens, "types": c.types, "counts": c.counts, "docs": len(c.doc_starts),
            "bytes": text.n_bytes, "replaced": c.n_replaced, "lead_nl": text.lead_nl, "trail_nl": text.trail_nl}


def _shard_ids(text: _ShardText) -> tuple:
    """The shard's token ids, document starts (> 0, in the shard) and types: what
    :func:`_gather_tokens` joins into the corpus' token ids."""
    c = text.corpus
    if c is None:
        return np.zeros(0, np.int32), np.zeros(0, np.int64), []
    return c.ids, c.doc_starts, c.types


def _filter_shard(text: _ShardText, vocab: Vocabulary, offset: int, params: dict) -> np.ndarray:
    if text.corpus is None:
        return np.zeros(0, dtype=np.int32)
    x, _ = filter_tokens(text.corpus, vocab, subsample=params["subsample"], subsample_mode=params["subsample_mode"],
                         seed=params["seed"], gap=params["window"], offset=offset)
    return x


def _ends(x: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    return x[:window].copy(), x[-window:].copy()


def _count_shard(x: np.ndarray, left: np.ndarray, right: np.ndarray, weights: np.ndarray, n_words: int,
                 bounds: np.ndarray) -> list:
    """The counts of the shard's window centres, cut into the row blocks ``bounds``."""
    ext = np.concatenate([left, x, right]).astype(np.int32)
    with limit_threads(1):
        counts = count_chunk(ext, positions_by_word(ext, n_words), len(left), len(left) + len(x), weights, n_words)
    counts.sort_indices()
    return [counts[int(r0):int(r1)] for r0, r1 in zip(bounds[:-1], bounds[1:])]


def _pick(items, i):
    return items[i]


def _add_blocks(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    return _add_csr(a, b)


def _block_row_sums(block: sp.csr_matrix, r0: int, n_words: int, keep) -> tuple[np.ndarray, np.ndarray | None]:
    """The row sums the single-process counter keeps (:class:`RowBlocks`), same bits."""
    rows = RowBlocks(n_words, keep=keep)
    with limit_threads(1):
        rows.add(np.arange(r0, r0 + block.shape[0], dtype=np.int64), np.diff(block.indptr).astype(np.int64),
                 block.indices, block.data)
    r1 = r0 + block.shape[0]
    weighted = None if rows.weighted_row_sum is None else rows.weighted_row_sum[r0:r1]
    return rows.row_sum[r0:r1], weighted


# -------------------------------------------------------------- the counts


@dataclass
class DistributedCounts:
    """Co-occurrence counts held on the workers as row blocks (futures): rows
    ``bounds[i] .. bounds[i+1]-1`` are ``blocks[i]``."""

    client: object
    vocab: Vocabulary
    blocks: list
    bounds: np.ndarray
    scale: int
    params: dict
    stats: dict
    tokens: object = None  # the corpus as token ids (TokenizedCorpus), with keep_tokens

    @property
    def nnz(self) -> int:
        return int(sum(self.client.gather(self.client.map(lambda b: b.nnz, self.blocks, pure=False))))

    def gather(self) -> Cooccurrence:
        """All counts on the client, as the single-process :class:`Cooccurrence`."""
        blocks = self.client.gather(self.blocks)
        n = len(self.vocab)
        nnz = sum(b.nnz for b in blocks)
        index_dtype = np.int32 if nnz < 2**31 - 1 else np.int64
        indptr = np.zeros(n + 1, dtype=np.int64)
        pos, r = 0, 0
        for b in blocks:
            indptr[r + 1:r + 1 + b.shape[0]] = b.indptr[1:] + pos
            pos += b.nnz
            r += b.shape[0]
        indices = np.concatenate([b.indices for b in blocks]).astype(np.int32)
        data = np.concatenate([b.data for b in blocks]).astype(np.int64)
        counts = sp.csr_matrix((data, indices, indptr.astype(index_dtype)), shape=(n, n))
        counts.has_sorted_indices = True
        return Cooccurrence(counts, self.scale, self.vocab, dict(self.params))


def _row_bounds(vocab: Vocabulary, window: int, n_core: int | None, n_blocks: int) -> np.ndarray:
    """Row blocks of about equal work (a row's entries grow with its word's count, up to
    the vocabulary), ``n_core`` one of the bounds so that the core is whole blocks."""
    n = len(vocab)
    room = np.minimum(n, 2 * window * np.asarray(vocab.counts, dtype=np.int64)).astype(np.float64)

    def split(lo, hi, k):
        if hi <= lo:
            return [lo]
        cum = np.cumsum(room[lo:hi])
        targets = cum[-1] * np.arange(1, k) / k
        cuts = lo + 1 + np.searchsorted(cum, targets)
        return [lo] + sorted(set(int(c) for c in cuts if lo < c < hi))

    if n_core is None or n_core >= n:
        bounds = split(0, n, n_blocks) + [n]
    else:
        core_share = room[:n_core].sum() / max(room.sum(), 1.0)
        k_core = max(1, round(n_blocks * core_share))
        bounds = split(0, n_core, k_core) + split(n_core, n, max(1, n_blocks - k_core)) + [n]
    return np.array(sorted(set(bounds)), dtype=np.int64)


def _tree_sum(client, parts: list, name: str):
    """Pairwise sums until one is left (each entry is added O(log shards) times)."""
    if not parts:
        return None
    level = 0
    while len(parts) > 1:
        nxt = [client.submit(_add_blocks, a, b, key=f"{name}-sum{level}-{i}-{client.id}-{time.monotonic_ns()}")
               for i, (a, b) in enumerate(zip(parts[0::2], parts[1::2]))]
        if len(parts) % 2:
            nxt.append(parts[-1])
        parts = nxt
        level += 1
    return parts[0]


@_cluster_failures
def count_distributed(client, corpus, *, min_count: int = DEFAULTS["min_count"],
                      max_vocab: int | None = DEFAULTS["max_vocab"], window: int = DEFAULTS["window"],
                      weighting: str = DEFAULTS["weighting"], subsample: float | None = DEFAULTS["subsample"],
                      subsample_mode: str = DEFAULTS["subsample_mode"],
                      seed: int = 0, lowercase: bool | None = None, tokenizer=None, tokenize: str = TOKENIZE,
                      shard_bytes: int | None = None,
                      row_blocks: int | None = None, n_core_min_count: int | None = None, dim: int | None = None,
                      core_max_words: int | None = None, keep_tokens: bool = False,
                      progress: bool = False, timer: StageTimer | None = None) -> DistributedCounts:
    """Read, build the vocabulary and count ``corpus`` on the cluster of ``client``;
    returns the counts as row blocks on the workers (bit for bit the single-process
    counts, see the module docstring).  ``row_blocks``: how many row blocks (default:
    one a worker: every block of a product fetches the others' share of the tall
    operand, so fewer blocks move less); with ``n_core_min_count``, ``dim`` (and ``core_max_words``) the core of the SVD
    (:func:`pmiembed.svd.core_size`) is made of whole blocks.  ``keep_tokens``: also
    gather the corpus as token ids (``tokens``, what the single-process reading gives but
    for the numbering of the types), shard by shard."""
    timer = timer or _Stages(False)
    weights, scale = window_weights(window, weighting)
    if subsample is not None and not (0 < subsample < 1):
        raise ParameterError(f"subsample={subsample!r} must be in (0, 1), e.g. 1e-5; or None for no subsampling")
    check_cluster(client)
    n_workers = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()))
    shards = plan_shards(corpus, shard_bytes, n_workers)
    tag = f"{client.id}-{time.monotonic_ns()}"
    with timer.stage("read") as info:
        texts = [client.submit(_tokenize_shard, s, lowercase, tokenizer, tokenize, key=f"pmiembed-shard-{i}-{tag}")
                 for i, s in enumerate(shards)]
        summaries = [client.submit(_shard_summary, t, key=f"pmiembed-summary-{i}-{tag}") for i, t in enumerate(texts)]
        _wait(client, summaries, "read", progress, unit="shard")
        summaries = client.gather(summaries)
        n_tokens = sum(s["tokens"] for s in summaries)
        if n_tokens == 0:
            raise CorpusError(f"{shards[0].path}: no tokens found; the corpus is empty")
        info["shards"] = str(len(shards))
        info["tokens"] = f"{n_tokens:,}"
    with timer.stage("vocab") as info:
        totals: dict[str, int] = {}
        for s in summaries:
            for t, c in zip(s["types"], s["counts"].tolist()):
                totals[t] = totals.get(t, 0) + c
        types = list(totals)
        vocab = Vocabulary.from_counts(types, np.fromiter(totals.values(), dtype=np.int64, count=len(types)),
                                       min_count=min_count, max_vocab=max_vocab, total=n_tokens)
        del totals
        info["words"] = f"{len(vocab):,}"
    # where every shard starts: its corpus position, and whether a document starts there
    offsets, new_doc, pending, n_docs = [], [], True, 0
    pos = 0
    for shard, s in zip(shards, summaries):
        if shard.first:
            pending = True
        offsets.append(pos)
        pos += s["tokens"]
        if s["tokens"]:
            starts = pending or s["lead_nl"]
            new_doc.append(starts)
            n_docs += s["docs"] + int(starts)
            pending = s["trail_nl"]
        else:
            new_doc.append(False)
            pending = pending or s["trail_nl"]
    stats = {"tokens": n_tokens, "types": len(types), "documents": n_docs,
             "bytes": sum(s["bytes"] for s in summaries), "replaced_bytes": sum(s["replaced"] for s in summaries),
             "sources": sorted({s.path for s in shards}), "shards": len(shards)}
    del summaries
    tokens = _gather_tokens(client, texts, types, offsets, new_doc, stats) if keep_tokens else None
    del types
    params = {"window": int(window), "weighting": weighting,
              "subsample": None if subsample is None else float(subsample),
              "subsample_mode": subsample_mode, "seed": int(seed), "n_tokens": int(n_tokens)}
    n_words = len(vocab)
    n_core = None if dim is None else core_size(vocab.counts, n_core_min_count, dim, core_max_words)
    bounds = _row_bounds(vocab, window, n_core, row_blocks or n_workers)
    with timer.stage("count") as info:
        [vocab_f] = _held(client, [vocab])
        xs = [client.submit(_filter_shard, t, vocab_f, off, params, key=f"pmiembed-filter-{i}-{tag}")
              for i, (t, off) in enumerate(zip(texts, offsets))]
        del texts
        ends = client.gather([client.submit(_ends, x, window, key=f"pmiembed-ends-{i}-{tag}")
                              for i, x in enumerate(xs)])
        lefts, rights = _contexts(ends, new_doc, window)
        parts = [client.submit(_count_shard, x, lefts[i], rights[i], weights, n_words, bounds,
                               key=f"pmiembed-count-{i}-{tag}") for i, x in enumerate(xs)]
        _wait(client, parts, "count", progress, unit="shard")
        del xs
        blocks = []
        for r in range(len(bounds) - 1):
            picked = [client.submit(_pick, p, r, key=f"pmiembed-pick-{i}-{r}-{tag}") for i, p in enumerate(parts)]
            blocks.append(_tree_sum(client, picked, f"pmiembed-counts-{r}"))
        _wait(client, blocks, "sum", progress, unit="block")
        del parts
        info["shards"] = str(len(shards))
        info["row blocks"] = str(len(blocks))
        _note_peak(client, info)
    return DistributedCounts(client, vocab, blocks, bounds, scale, params, stats, tokens)


def _gather_tokens(client, texts: list, types: list, offsets: list, new_doc: list, stats: dict):
    """The corpus as one :class:`~pmiembed.corpus.TokenizedCorpus` on the client, from
    the tokenised shards (``texts``): each shard's ids renumbered to ``types`` (the type
    table of the whole corpus) and written into one preallocated array as it arrives,
    its document starts moved to its corpus position (``offsets``; ``new_doc``: whether
    a document starts with the shard)."""
    from .corpus import TokenizedCorpus

    index = {t: i for i, t in enumerate(types)}
    n_tokens = int(stats["tokens"])
    ids = np.empty(n_tokens, dtype=np.int32)
    starts = []
    for i, (text, offset) in enumerate(zip(texts, offsets)):
        shard_ids, doc_starts, shard_types = client.gather(_submit(client, _shard_ids, text))
        if not len(shard_ids):
            continue
        remap = np.fromiter((index[t] for t in shard_types), dtype=np.int32, count=len(shard_types))
        ids[offset:offset + len(shard_ids)] = remap[shard_ids]
        if new_doc[i] and offset > 0:
            starts.append(np.array([offset], dtype=np.int64))
        starts.append(np.asarray(doc_starts, dtype=np.int64) + offset)
    counts = np.bincount(ids, minlength=len(types)).astype(np.int64)
    doc_starts = np.concatenate(starts) if starts else np.zeros(0, np.int64)
    return TokenizedCorpus(ids, doc_starts, list(types), counts, int(stats["replaced_bytes"]), int(stats["bytes"]),
                           list(stats["sources"]), "files")


def _gather_rows(client, blocks: list, n_cols: int) -> sp.csr_matrix:
    """The row blocks (futures of CSR matrices, in row order) as one CSR matrix on the
    client, each block copied into preallocated arrays as it arrives (never all the
    blocks and the matrix at once)."""
    nnz = [int(x) for x in client.gather([_submit(client, _nnz, b) for b in blocks])]
    total = sum(nnz)
    index_dtype = np.int32 if total < 2**31 - 1 else np.int64
    indices = data = None
    indptr = [np.zeros(1, dtype=np.int64)]
    pos = 0
    for b, n in zip(blocks, nnz):
        block = client.gather(b)
        if data is None:
            indices = np.empty(total, dtype=np.int32)
            data = np.empty(total, dtype=block.dtype)
        indices[pos:pos + n] = block.indices
        data[pos:pos + n] = block.data
        indptr.append(np.asarray(block.indptr[1:], dtype=np.int64) + pos)
        pos += n
    indptr = np.concatenate(indptr).astype(index_dtype)
    m = sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, n_cols), copy=False)
    m.has_sorted_indices = True
    return m


def _nnz(block) -> int:
    return block.nnz


def _contexts(ends, new_doc, window: int):
    """For every shard, the ``window`` positions of the whole filtered corpus before and
    after its own (separators included), from the first and last ``window`` entries of
    every shard (a shard shorter than the window is whole in both)."""
    sep = np.full(window, -1, dtype=np.int32)
    pieces_first, pieces_last = [], []
    for k, ((head, tail), nd) in enumerate(zip(ends, new_doc)):
        # a document start adds its separators even when none of its tokens is kept
        gap = sep if (nd and k > 0) else np.zeros(0, np.int32)
        pieces_first.append(np.concatenate([gap, head])[:window])
        pieces_last.append(np.concatenate([gap, tail])[-window:] if window else np.zeros(0, np.int32))
    lefts, rights = [], []
    for k in range(len(ends)):
        # the shard's own separators come first when it starts a document
        left, j = ([sep], -1) if (new_doc[k] and k > 0) else ([], k - 1)
        have = window if left else 0
        while j >= 0 and have < window:
            left.insert(0, pieces_last[j])
            have += len(pieces_last[j])
            j -= 1
        left = np.concatenate(left)[-window:] if left else np.zeros(0, np.int32)
        right, j, have = [], k + 1, 0
        while j < len(ends) and have < window:
            right.append(pieces_first[j])
            have += len(pieces_first[j])
            j += 1
        right = np.concatenate(right)[:window] if right else np.zeros(0, np.int32)
        lefts.append(left.astype(np.int32))
        rights.append(right.astype(np.int32))
    return lefts, rights


# ------------------------------------------------------------------ the model


@_cluster_failures
def fit_distributed(model, corpus, client, *, shard_bytes: int | None = None, row_blocks: int | None = None,
                    keep_pmi: bool = True):
    """:meth:`PMIEmbedding.fit` on the cluster of ``client`` (see the module docstring).
    The client gathers what the model folder keeps, as the single-process route leaves
    it (:class:`pmiembed.state.ModelState`): the PPMI matrix (``pmi_``, unless
    ``keep_pmi`` is False: ``save(save_pmi=False)`` then, as ``train --no-save-pmi``
    does) and its marginals, with ``keep_counts`` the counts (``cooccurrence_``), with
    ``keep_tokens`` the corpus as token ids (``tokens_``), each block by block.
    ``worker_peak_bytes_``: the peak resident memory of every worker process.
    ``workers`` is one process' setting and is not used here: a worker's threads are
    Dask's (``dask worker --nthreads``); each task runs single-threaded.  ``memory``,
    one process' budget, is refused rather than ignored: a worker's memory limit is set
    where it starts (``dask worker --memory-limit``, ``LocalCluster(memory_limit=...)``,
    :func:`connect`'s ``memory`` for ``local:N``)."""
    _import_distributed()
    model._validate()
    if model.memory is not None:
        raise ParameterError(f"`memory={model.memory:g}` is the budget of one process and is not applied on a Dask "
                             "cluster: set each worker's memory limit where it starts (dask worker --memory-limit, "
                             "LocalCluster(memory_limit=...)) and leave `memory` at None", param="memory")
    if model.svd != "randomized":
        raise ParameterError(f"svd={model.svd!r}: on a Dask cluster the SVD is the randomized one; "
                             "use svd='randomized' (the default)")
    check_pmi_params(model.cds, model.neg)
    check_matrix_params(model.matrix, model.bound, model.freq_weight)
    timer = _Stages(model.verbose)
    start = time.perf_counter()
    counts = count_distributed(
        client, corpus, min_count=model.min_count, max_vocab=model.max_vocab, window=model.window,
        weighting=model.weighting, subsample=model.subsample, subsample_mode=model.subsample_mode, seed=model.seed,
        lowercase=model.lowercase, tokenizer=model.tokenizer, tokenize=model.tokenize,
        shard_bytes=shard_bytes, row_blocks=row_blocks,
        n_core_min_count=model.core_min_count, dim=model.dim, core_max_words=model.core_max_words,
        keep_tokens=model.keep_tokens, progress=model.progress, timer=timer)
    vocab = counts.vocab
    n_words = len(vocab)
    check_svd_params(model.dim, model.eig, n_words)
    model.corpus_stats_ = counts.stats
    model.tokens_ = counts.tokens
    cooccurrence = counts.gather() if model.keep_counts else None
    bounds = counts.bounds
    keep = subsample_keep(vocab, counts.params)
    with timer.stage("pmi") as info:
        sums = client.gather([_submit(client, _block_row_sums, b, int(r0), n_words, keep)
                              for b, r0 in zip(counts.blocks, bounds[:-1])])
        row_sum = np.concatenate([s[0] for s in sums])
        marginal = row_sum if keep is None else np.concatenate([s[1] for s in sums])
        nnz = counts.nnz
        if nnz == 0 or not np.any(row_sum):
            raise ParameterError("the co-occurrence matrix is empty; the corpus has no pairs inside a window")
        [marginal_f] = _held(client, [marginal])
        ppmi = [_submit(client, pmi_row_block, b, int(r0), n_words, marginal_f, model.cds, model.neg, keep)
                for b, r0 in zip(counts.blocks, bounds[:-1])]
        # what the SVD factorises: the PPMI, or the observed part of the bounded matrix
        # ("sparse minus rank one"); the PPMI is what the folder and explanations keep
        pmi, rank_one, weights = ppmi, None, None
        if model.matrix == "nneg":
            weights = frequency_weights(vocab.counts, model.freq_weight)
            rank_one = (-float(model.bound), weights)
            [weights_f] = _held(client, [weights])
            pmi = [_submit(client, nneg_row_block, b, int(r0), n_words, marginal_f, model.cds, model.neg, keep,
                           float(model.bound), weights_f) for b, r0 in zip(counts.blocks, bounds[:-1])]
        _wait(client, ppmi if pmi is ppmi else ppmi + pmi, "pmi", model.progress, unit="block")
        # the single-process PMI stage's result: the matrix (gathered block by block, what
        # the model folder keeps), its marginals, the counting parameters and the counts
        pmi_nnz = sum(client.gather([_submit(client, _nnz, p) for p in ppmi]))
        if pmi_nnz == 0:  # what the blocks make up: nothing
            check_not_empty(sp.csr_matrix((n_words, n_words), dtype=np.float32), model.neg)
        model._set_pmi(vocab, counts.params, nnz, _gather_rows(client, ppmi, n_words) if keep_pmi else None,
                       PMIMarginals.from_sums(marginal, marginal, keep, counts.scale, model.cds, model.neg),
                       cooccurrence)
        del counts, cooccurrence
        info["nonzeros"] = f"{pmi_nnz:,}"
        _note_peak(client, info)
    # the single-process SVD stage's plan: the core, the words without a PPMI entry among
    # its columns (found block by block; they get the zero vector), refused when fewer
    # than dim are left
    n_core = core_size(vocab.counts, model.core_min_count, model.dim, model.core_max_words)
    empty = np.concatenate(client.gather([_submit(client, empty_rows, p, n_core) for p in pmi]))
    empty, symmetric = model._svd_plan(empty)
    symmetric = bool(symmetric)
    n_core = n_words if model.n_core_ is None else model.n_core_
    with timer.stage("svd") as info:
        u, s, vt = distributed_svd(client, pmi, bounds, n_core, model.dim, n_iter=model.n_iter,
                                   n_oversamples=model.oversamples, seed=model.seed, symmetric=symmetric,
                                   progress=model.progress, rank_one=rank_one)
        info["dim"] = str(model.dim)
        info["core"] = "all words" if model.n_core_ is None else f"{model.n_core_:,} words"
        info["row blocks"] = str(int(np.sum(bounds[1:] <= n_core)))
        _note_peak(client, info)
    if n_core < n_words:
        with timer.stage("fold-in") as info:
            core_bounds = bounds[bounds <= n_core]
            inv = (1.0 / np.where(s > 0, s, 1.0)).astype(u.dtype)
            v_chunks = _held(client, [np.ascontiguousarray(vt[:, c0:c1].T) for c0, c1 in
                                      zip(core_bounds[:-1], core_bounds[1:])])
            u_chunks = _held(client, [np.ascontiguousarray(u[c0:c1]) for c0, c1 in
                                      zip(core_bounds[:-1], core_bounds[1:])])
            extra = [i for i, r0 in enumerate(bounds[:-1]) if r0 >= n_core]
            u_extra = [_submit(client, _fold_rows, pmi[i], core_bounds, v_chunks, inv) for i in extra]
            if symmetric:
                v_extra = [_submit(client, _fold_rows, pmi[i], core_bounds, u_chunks, inv) for i in extra]
            else:
                core_blocks = pmi[:len(core_bounds) - 1]
                v_extra = [_submit(client, _fold_columns, core_blocks, int(bounds[i]), int(bounds[i + 1]), u_chunks,
                                   inv) for i in extra]
            _wait(client, u_extra + v_extra, "fold-in", model.progress, unit="block")
            out_u = np.concatenate([u] + client.gather(u_extra))
            out_v = np.concatenate([vt.T] + client.gather(v_extra))
            if rank_one is not None:
                # the rank-one term's share of the folded-in rows and columns (svd.fold_in)
                out_u[n_core:] += rank_one_rows(rank_one, slice(n_core, n_words), np.ascontiguousarray(vt.T), inv)
                out_v[n_core:] += rank_one_rows(rank_one, slice(n_core, n_words), u, inv)
            u, vt = out_u, np.ascontiguousarray(out_v.T)
            info["words"] = f"{n_words - n_core:,}"
            _note_peak(client, info)
    del pmi, ppmi
    if weights is not None:
        u, vt = unweighted_factors(u, vt, weights)
    model.worker_peak_bytes_ = worker_peaks(client)
    with timer.stage("vectors") as info:
        model.factorisation_ = model._factorisation()
        model._set_vectors(u, s, vt, empty if model.n_empty_rows_ else None)
        peak = max(model.worker_peak_bytes_.values()) if model.worker_peak_bytes_ else 0
        info["largest worker peak"] = f"{peak / 2**30:.2f} GB"
        info["workers"] = str(len(model.worker_peak_bytes_))
    model._finish(timer, start)  # the kernels this process compiled; workers compile their own
    return model
