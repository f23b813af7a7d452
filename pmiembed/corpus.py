"""Stage 1: text -> tokens (as integer ids over the corpus' own type table).

A corpus is any of

* a path to a text file, plain or compressed (``.gz``, ``.bz2``, ``.xz``: detected by
  the file's magic bytes, not its name);
* a folder (read recursively, files in sorted order, hidden files skipped);
* a list of such paths (read one after the other, as one corpus);
* a Python iterable of documents, each a list of tokens (what gensim's ``LineSentence``
  or ``Text8Corpus`` yield) or a string.

Files are read in chunks of ``chunk_bytes`` and split at the last whitespace, so a
100 MB single-line file (text8 style) streams in bounded memory: no Python string per
line, and no Python object per token.  Lines (and files, and the items of an iterable)
are *documents*: windows never cross them.  Chunk boundaries are not boundaries.

Tokenisation: by default tokens are the maximal runs of bytes above 0x20 (split at ASCII
whitespace and control bytes), decoded as UTF-8 with undecodable bytes replaced by
U+FFFD (counted, never fatal).  ``lowercase=True`` lowercases (Unicode-aware).
``tokenize`` picks the tokenisation (:data:`TOKENIZERS`): ``"whitespace"`` is the above;
``"words"`` (the default) splits every whitespace token further into words by
:func:`split_words` (letters, digits and combining marks of any script; inner ``'``,
``’``, ``-`` and ``_`` kept; everything else dropped); ``"nltk"`` runs nltk's Treebank word
tokenizer line by line and cuts the punctuation left at either end of its tokens
(``said.`` mid-line, the clitic ``'s``: Treebank expects one sentence a line), dropping
the tokens that are only punctuation.
An iterable whose documents are token lists is taken as tokenised: its tokens are kept
(``tokenize`` applies to text: files and string documents; ``lowercase=True`` still
lowercases).  ``tokenizer`` takes any callable ``str -> list[str]`` (for example
``nltk.tokenize.wordpunct_tokenize``); it is called once per line (a line longer than a
chunk is handed over in whitespace-delimited pieces).

The result, :class:`TokenizedCorpus`, stores one ``int32`` id per token (4 bytes a token,
less than the text itself) plus the document boundaries; vocabulary and counting work
on that array with numpy.
"""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import json
import lzma
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _kernels
from ._validation import Integral, Interval, Param, validate_params
from .defaults import TOKENIZE, TOKENIZERS
from .errors import CorpusError, ParameterError, VectorsError, literal
from .io import atomic_path
from .progress import progress_bar

#: bytes read from a file at a time (decompressed)
DEFAULT_CHUNK_BYTES = 1 << 24
#: what the reader's parameters accept (see :mod:`pmiembed._validation`)
CONSTRAINTS = {
    "chunk_bytes": [Interval(Integral, 1, None)],
    "tokenizer": Param((callable, None), "a callable str -> list of str"),
    "tokenize": Param(TOKENIZERS, "one of whitespace, words, nltk"),
}


def default_lowercase(tokenize: str) -> bool:
    """What ``lowercase=None`` means for a tokenisation: lowercase, except ``whitespace``
    (which keeps the text's tokens as they are)."""
    return tokenize != "whitespace"


_WORD_RE = None


def _word_re():
    r"""A word: a letter or digit of any script (``[^\W_]``) followed by letters, digits
    and combining marks (so Devanagari vowel signs stay inside their word), in groups
    joined by a single ``'``, ``’``, ``-`` or ``_`` (a joined phrase, ``new_york``) with a
    word character on both sides."""
    global _WORD_RE
    if _WORD_RE is None:
        import re
        import sys
        import unicodedata
        ranges, start, prev = [], None, None
        for cp in range(sys.maxunicode + 1):
            if unicodedata.category(chr(cp)).startswith("M"):
                if start is None:
                    start = cp
                prev = cp
            elif start is not None:
                ranges.append(f"\\U{start:08x}-\\U{prev:08x}")
                start = None
        marks = "".join(ranges)
        part = f"[^\\W_](?:[^\\W_]|[{marks}])*"
        _WORD_RE = re.compile(f"{part}(?:['\u2019_-]{part})*")
    return _WORD_RE


def split_words(text: str) -> list[str]:
    """The ``words`` tokens of ``text`` (not lowercased): see :func:`_word_re`."""
    return _word_re().findall(text)


def _words_of_types(types: list[str]) -> list[list[str]]:
    """``split_words`` of every type; the ASCII types go through the compiled kernel
    (:mod:`pmiembed._words`), which gives the same tokens."""
    from ._words import ascii_split
    out: list[list[str] | None] = [None] * len(types)
    ascii_idx = [i for i, t in enumerate(types) if t.isascii()]
    if ascii_idx:
        for i, words in zip(ascii_idx, ascii_split([types[i] for i in ascii_idx])):
            out[i] = words
    for i, t in enumerate(types):
        if out[i] is None:
            out[i] = split_words(t)
    return out  # type: ignore[return-value]


_EDGE_PUNCT = __import__("re").compile(r"^[\W_]+|[\W_]+$")


def _treebank():
    from nltk.tokenize import TreebankWordTokenizer
    tok = TreebankWordTokenizer().tokenize

    def nltk_words(line: str) -> list[str]:
        # Treebank splits only a line's final period (it expects one sentence a line) and
        # keeps clitics as ``'s``/``n't``: punctuation left at either end of a token is cut
        out = []
        for t in tok(line):
            t = _EDGE_PUNCT.sub("", t)
            if t:
                out.append(t)
        return out
    return nltk_words

_MAGIC = {
    b"\x1f\x8b": "gz",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
}

#: what a damaged compressed file raises while it is read
COMPRESSION_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)


# --------------------------------------------------------------------------- paths


def _compression(path: Path) -> str | None:
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def resolve_paths(source: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """The files a path source names: files as given, folders expanded recursively in
    sorted order (hidden files and folders skipped).  Raises :class:`CorpusError` for a
    missing path or a folder without files."""
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = _list_folder(path)
            if not found:
                raise CorpusError(f"{path}: folder is empty; point to a folder that contains text files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise CorpusError(f"{path}: not a regular file or folder; give a text file or a folder of them")
        else:
            raise CorpusError(f"{path}: no such file or folder; check the path")
    if not files:
        raise CorpusError("no corpus given; name at least one text file or folder")
    return files


def _list_folder(path: Path) -> list[Path]:
    """The files under ``path`` (recursively, hidden files and folders skipped), sorted;
    a folder that cannot be listed is an error, not an empty folder."""
    found: list[Path] = []

    def fail(exc: OSError) -> None:
        raise exc

    try:
        for root, dirs, files in os.walk(path, onerror=fail):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                p = Path(root) / name
                if not name.startswith(".") and p.is_file():
                    found.append(p)
    except OSError as exc:
        where = exc.filename or path
        raise CorpusError(f"{where}: cannot list this folder ({exc.strerror or exc}); check its permissions") from None
    return sorted(found)


def read_error(path: Path, exc: BaseException) -> CorpusError:
    """One line for an error while reading ``path``: the system's (permissions, I/O
    errors) or the decompressor's (truncated or corrupt data)."""
    import errno

    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno in (errno.EACCES, errno.EPERM):
            return CorpusError(f"{path}: cannot read ({exc.strerror}); check its permissions or run as its owner")
        return CorpusError(f"{path}: read error ({exc.strerror or exc}); the file or its disk is damaged, "
                           "copy or restore the file")
    try:
        kind = _compression(path) or "text"
    except OSError:
        kind = "compressed"
    return CorpusError(f"{path}: cannot read the {kind} file ({exc}); the file is truncated or corrupt, "
                       "re-download or re-compress it")


class _CountingReader(io.RawIOBase):
    """A raw file that reports how many (compressed) bytes were read to a progress bar."""

    def __init__(self, raw, bar):
        self._raw = raw
        self._bar = bar

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self._raw.readinto(b)
        if n and self._bar is not None:
            self._bar.update(n)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_text_bytes(path: Path, bar=None):
    """Open ``path`` for reading decompressed bytes (gzip, bzip2, xz or plain, told by
    the file's first bytes, not its name).  The one opener of text files: the corpus
    reader, the word2vec baseline's sentences and the benchmark reader use it, so that
    every part of pmiembed reads a file's bytes alike."""
    kind = _compression(path)
    raw = _CountingReader(open(path, "rb", buffering=0), bar)
    buffered = io.BufferedReader(raw, buffer_size=1 << 20)
    if kind == "gz":
        return _skip_bom(gzip.GzipFile(fileobj=buffered, mode="rb"))
    if kind == "bz2":
        return _skip_bom(bz2.BZ2File(buffered, mode="rb"))
    if kind == "xz":
        return _skip_bom(lzma.LZMAFile(buffered, mode="rb"))
    return _skip_bom(buffered)


def _skip_bom(f):
    """``f`` past a UTF-8 byte order mark that opens the text (Windows editors write
    one): it is no part of the first token."""
    bom = b"\xef\xbb\xbf"
    try:
        if f.peek(len(bom))[:len(bom)] == bom:
            f.read(len(bom))
    except COMPRESSION_ERRORS:
        pass  # a damaged file: the reader says so when it reads
    return f


def iter_file_chunks(path: Path, chunk_bytes: int = DEFAULT_CHUNK_BYTES, bar=None) -> Iterator[bytes]:
    """Yield the decompressed bytes of ``path`` in pieces of about ``chunk_bytes``, each
    ending at a whitespace byte (so no token is cut), the last one possibly not.

    Raises :class:`CorpusError` for a truncated or corrupt compressed file.
    """
    rest = b""
    try:
        with open_text_bytes(path, bar) as f:
            while True:
                block = f.read(chunk_bytes)
                if not block:
                    break
                block = rest + block if rest else block
                cut = _last_space(block)
                if cut < 0:  # a single token longer than a chunk: keep reading
                    rest = block
                    continue
                rest = block[cut + 1:]
                yield block[: cut + 1]
    except COMPRESSION_ERRORS as exc:
        raise read_error(path, exc) from None
    if rest:
        yield rest


def _last_space(block: bytes) -> int:
    """Index of the last byte <= 0x20 in ``block`` (-1 if none)."""
    tail = np.frombuffer(block, dtype=np.uint8)
    # look back in growing windows: almost always within the last few bytes
    n = len(tail)
    step = 64
    while True:
        lo = max(0, n - step)
        hits = np.flatnonzero(tail[lo:n] <= 32)
        if len(hits):
            return lo + int(hits[-1])
        if lo == 0:
            return -1
        n = lo
        step *= 4


def looks_binary(sample: bytes) -> str | None:
    """Why ``sample`` (the start of a file) is not text, or ``None`` if it looks like text.

    Text has almost no control bytes besides tab, newline, carriage return, vertical
    tab and form feed, and decodes as UTF-8 with few replacements (Latin-1 text still
    passes: its accented letters are a small share).  Random or binary data fails one
    of the two: about 10% of random bytes are control bytes.
    """
    if not sample:
        return None
    a = np.frombuffer(sample, dtype=np.uint8)
    control = (a < 32) & ~np.isin(a, (9, 10, 11, 12, 13))
    share_control = float(control.mean())
    if share_control > 0.01:
        return f"{share_control:.0%} of its first bytes are control characters"
    text = sample.decode("utf-8", errors="replace")
    share_bad = text.count("\ufffd") / max(1, len(text))
    if len(sample) >= 512 and share_bad > 0.2:
        return f"{share_bad:.0%} of its first characters are not valid UTF-8"
    return None


# --------------------------------------------------------------------- the result


@dataclass
class TokenizedCorpus:
    """A corpus as integer ids.

    Attributes
    ----------
    ids : int32 array, one entry per token, indexing ``types``.
    doc_starts : int64 array, sorted token positions (> 0) where a new document starts.
    types : list of str, the distinct tokens (after decoding, and lowercasing if asked).
    counts : int64 array, occurrences of each type.
    n_replaced : int, undecodable byte sequences replaced by U+FFFD.
    n_bytes : int, decompressed bytes read.
    sources : list of str, the files read (empty for an in-memory iterable).
    input_kind : str, how the source was read: "files" or "documents" (an iterable).
    lowercased : bool or None, whether :func:`read_corpus` lowercased the tokens (None:
        not made by it, e.g. joined phrases or a merge).
    """

    ids: np.ndarray
    doc_starts: np.ndarray
    types: list[str]
    counts: np.ndarray
    n_replaced: int = 0
    n_bytes: int = 0
    sources: list[str] = field(default_factory=list)
    input_kind: str = "files"
    lowercased: bool | None = None

    @property
    def n_tokens(self) -> int:
        return int(self.ids.shape[0])

    @property
    def n_docs(self) -> int:
        return int(self.doc_starts.shape[0]) + (1 if self.n_tokens else 0)

    def documents(self) -> Iterator[list[str]]:
        """Yield the documents as lists of token strings (for inspection and tests)."""
        bounds = np.concatenate(([0], self.doc_starts, [self.n_tokens]))
        types = self.types
        for a, b in zip(bounds[:-1], bounds[1:]):
            yield [types[i] for i in self.ids[a:b]]


class _TypeTable:
    """Growing hash table from token bytes to type ids, driving the numba kernel."""

    def __init__(self) -> None:
        self.keys = np.zeros(1 << 16, dtype=np.uint64)
        self.vals = np.full(1 << 16, -1, dtype=np.int32)
        self.pool = np.zeros(1 << 20, dtype=np.uint8)
        self.type_off = np.zeros(1 << 15, dtype=np.int64)
        self.type_len = np.zeros(1 << 15, dtype=np.int32)
        self.n_types = 0
        self.pool_used = 0
        self.newline = True  # the first token starts a document

    def _grow(self, need_pool: int) -> None:
        if self.n_types + 1 > min(self.type_off.shape[0], self.keys.shape[0] >> 1):
            if self.n_types + 1 > self.keys.shape[0] >> 1:
                size = self.keys.shape[0] * 2
                keys = np.zeros(size, dtype=np.uint64)
                vals = np.full(size, -1, dtype=np.int32)
                _kernels.rehash(self.keys, self.vals, keys, vals)
                self.keys, self.vals = keys, vals
            if self.n_types + 1 > self.type_off.shape[0]:
                size = self.type_off.shape[0] * 2
                self.type_off = np.resize(self.type_off, size)
                self.type_len = np.resize(self.type_len, size)
        if self.pool_used + need_pool > self.pool.shape[0]:
            size = max(self.pool.shape[0] * 2, self.pool_used + need_pool)
            pool = np.zeros(size, dtype=np.uint8)
            pool[: self.pool_used] = self.pool[: self.pool_used]
            self.pool = pool

    def feed(self, data: bytes, new_document: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Tokenise ``data``; returns (ids, document-break flags) of its tokens."""
        buf = np.frombuffer(data, dtype=np.uint8)
        if new_document:
            self.newline = True
        ids_parts, brk_parts = [], []
        pos = 0
        while pos < len(buf):
            rest = buf[pos:]
            out_ids = np.empty(len(rest) // 2 + 1, dtype=np.int32)
            out_brk = np.empty(len(rest) // 2 + 1, dtype=np.uint8)
            nt, self.n_types, self.pool_used, stop, self.newline = _kernels.tokenize_bytes(
                rest, self.keys, self.vals, self.pool, self.pool_used, self.type_off,
                self.type_len, self.n_types, out_ids, out_brk, self.newline,
            )
            ids_parts.append(out_ids[:nt])
            brk_parts.append(out_brk[:nt])
            pos += stop
            if pos < len(buf):
                self._grow(need_pool=len(buf) - pos)
        if len(ids_parts) == 1:
            return ids_parts[0].copy(), brk_parts[0].copy()
        return np.concatenate(ids_parts), np.concatenate(brk_parts)

    def type_bytes(self) -> list[bytes]:
        pool = self.pool.tobytes()
        return [
            pool[o: o + n]
            for o, n in zip(self.type_off[: self.n_types].tolist(), self.type_len[: self.n_types].tolist())
        ]


# ----------------------------------------------------------------------- reading


def _exists(text: str) -> bool:
    """``Path(text).exists()`` that says no for strings no path can be (too long, NUL)."""
    try:
        return os.path.lexists(text)
    except (OSError, ValueError):
        return False


def _looks_like_path(text: str) -> bool:
    """One whitespace-free word with a folder separator or a file suffix (``a/b``,
    ``corpus.txt``): what a path looks like and a document rarely does."""
    if not text or any(c.isspace() for c in text) or len(text) > 4096:
        return False
    return os.sep in text or "/" in text or bool(Path(text).suffix)


def _is_path_source(source) -> bool:
    """Whether ``source`` names files (True) or is an iterable of documents, decided by
    type and content: a str or PathLike is a path; a list of strings is a list of paths
    when any of them exists, or when all of them look like paths (then the missing
    ones are reported); otherwise its strings are documents."""
    if isinstance(source, os.PathLike):
        return True
    if isinstance(source, str):
        if not _exists(source) and ("\n" in source or len(source) > 4096
                                    or (any(c.isspace() for c in source.strip()) and not _looks_like_path(source))):
            raise CorpusError(
                f"corpus string {source[:40]!r}{'...' if len(source) > 40 else ''} ({len(source):,} characters) is "
                "not an existing path and looks like text; a single string is read as a path, so give text as a "
                "list of documents, e.g. fit([text])")
        return True
    if isinstance(source, (list, tuple)) and source and all(isinstance(s, (str, os.PathLike)) for s in source):
        if any(isinstance(s, os.PathLike) for s in source):
            return True
        if any(_exists(s) for s in source):
            return True
        return all(_looks_like_path(s) for s in source)
    return False


def _iter_documents_as_bytes(documents: Iterable) -> Iterator[bytes]:
    """Encode an iterable of documents (token lists or strings) as newline-separated
    UTF-8, in blocks of a few MB."""
    parts: list[str] = []
    size = 0
    for doc in documents:
        if isinstance(doc, bytes):
            doc = doc.decode("utf-8", errors="replace")
        if isinstance(doc, str):
            text = doc.replace("\n", " ")
        else:
            try:
                text = " ".join(doc)
            except TypeError:
                raise CorpusError(
                    f"corpus iterable yielded a {type(doc).__name__}; each document must be "
                    "a list of token strings or a string"
                ) from None
        parts.append(text)
        size += len(text) + 1
        if size > (1 << 22):
            yield ("\n".join(parts) + "\n").encode("utf-8", errors="replace")
            parts, size = [], 0
    if parts:
        yield ("\n".join(parts) + "\n").encode("utf-8", errors="replace")


#: bytes a user tokenizer's input may grow to when a chunk holds no whitespace to cut at
_MAX_TOKENIZER_PIECE = 1 << 26


def _tokenize_with(tokenizer: Callable[[str], list[str]], chunks: Iterable[bytes],
                   replaced: list[int]) -> Iterator[bytes]:
    """Run a tokenizer line by line over byte chunks; re-encode the tokens as
    space-separated lines for the id kernel.  Each piece handed on ends at a newline, or
    (a line longer than a chunk) at a space or tab, so that no word and no UTF-8 sequence
    is cut between chunks; ``replaced[0]`` counts the undecodable byte sequences."""
    carry = b""
    for chunk in chunks:
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n") + 1 or max(data.rfind(b" "), data.rfind(b"\t")) + 1
        if not cut:
            if len(data) < _MAX_TOKENIZER_PIECE:
                carry = data
                continue
            cut = len(data)
        carry = data[cut:]
        yield _tokenized_piece(tokenizer, data[:cut], replaced)
    if carry:
        yield _tokenized_piece(tokenizer, carry, replaced)


def _tokenized_piece(tokenizer: Callable[[str], list[str]], data: bytes, replaced: list[int]) -> bytes:
    text = data.decode("utf-8", errors="replace")
    replaced[0] += text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    ends_line = text.endswith("\n")
    lines = text.split("\n")
    if ends_line:
        lines.pop()
    out = []
    for line in lines:
        tokens = tokenizer(line)
        if not isinstance(tokens, (list, tuple)):
            tokens = list(tokens)
        out.append(" ".join(t.replace(" ", "_") for t in tokens if t and not t.isspace()))
    # a piece cut inside a line continues that line in the next piece
    return ("\n".join(out) + ("\n" if ends_line else " ")).encode("utf-8")


def read_corpus(
    source,
    *,
    lowercase: bool | None = None,
    tokenizer: Callable[[str], list[str]] | None = None,
    tokenize: str = TOKENIZE,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: bool = False,
    check_binary: bool = True,
    workers: int = 1,
) -> TokenizedCorpus:
    """Read a corpus into a :class:`TokenizedCorpus` (see the module docstring for what a
    corpus can be).

    With ``workers > 1`` a second thread decompresses the next chunk while the current
    one is tokenised (both release the GIL); the result is the same.

    Raises :class:`CorpusError` for a missing path, an empty file or folder, binary
    data, a corrupt compressed file, or a corpus without a single token.
    """
    validate_params(CONSTRAINTS, {"chunk_bytes": chunk_bytes, "tokenizer": tokenizer, "tokenize": tokenize})
    if isinstance(source, TokenizedCorpus):
        return source
    lowercase_given = lowercase
    if lowercase is None:
        lowercase = default_lowercase(tokenize) if tokenizer is None else False
    if tokenizer is None and tokenize == "nltk":
        tokenizer = _treebank()
    table = _TypeTable()
    ids_parts: list[np.ndarray] = []
    starts_parts: list[np.ndarray] = []
    n_tokens = 0
    n_bytes = 0
    sources: list[str] = []
    # a tokenizer sees decoded text: the sequences it was given replaced are counted there
    replaced_by_tokenizer = [0]

    def consume(chunks: Iterable[bytes], name: str | None) -> int:
        nonlocal n_tokens, n_bytes
        before = n_tokens
        first = True
        if tokenizer is not None:
            chunks = _tokenize_with(tokenizer, chunks, replaced_by_tokenizer)
        for chunk in chunks:
            ids, brk = table.feed(chunk, new_document=first)
            first = False
            n_bytes += len(chunk)
            if len(ids):
                starts = np.flatnonzero(brk).astype(np.int64) + n_tokens
                ids_parts.append(ids)
                starts_parts.append(starts)
                n_tokens += len(ids)
        return n_tokens - before

    if _is_path_source(source):
        files = resolve_paths(source)
        explicit = {Path(s) for s in ([source] if isinstance(source, (str, os.PathLike)) else source)}
        total = sum(f.stat().st_size for f in files)
        with progress_bar(total=total, unit="B", unit_scale=True, desc="read", enable=progress) as bar:
            for path in files:
                if check_binary:
                    _check_not_binary(path)
                chunks = iter_file_chunks(path, chunk_bytes, bar)
                if workers > 1:
                    chunks = _prefetch(chunks)
                got = consume(chunks, str(path))
                if got == 0 and path in explicit:
                    raise CorpusError(f"{path}: file has no tokens (empty or only whitespace); give a file with text")
                sources.append(str(path))
        if n_tokens == 0:
            raise CorpusError(f"{', '.join(map(str, files[:3]))}: no tokens found; the corpus is empty")
    else:
        try:
            documents = iter(source)
        except TypeError:
            raise CorpusError(
                f"corpus of type {type(source).__name__} is not readable; give a path, a folder, "
                "a list of paths or an iterable of token lists"
            ) from None
        first_doc = next(documents, None)
        if first_doc is not None and not isinstance(first_doc, (str, bytes)) and tokenizer is None:
            # documents given as token lists are already tokenised: their tokens are kept
            tokenize = "whitespace"
            if lowercase_given is None:
                lowercase = False
        if first_doc is not None:
            documents = itertools.chain([first_doc], documents)
        consume(_iter_documents_as_bytes(documents), None)
        if n_tokens == 0:
            raise CorpusError("the corpus iterable yielded no tokens; it is empty")

    ids = np.concatenate(ids_parts) if len(ids_parts) != 1 else ids_parts[0]
    doc_starts = np.concatenate(starts_parts) if starts_parts else np.zeros(0, np.int64)
    doc_starts = doc_starts[doc_starts > 0]
    raw_types = table.type_bytes()
    counts = np.bincount(ids, minlength=len(raw_types)).astype(np.int64)
    types = [t.decode("utf-8", errors="replace") for t in raw_types]
    bad = np.array(
        [t.count("\ufffd") - r.count(b"\xef\xbf\xbd") for t, r in zip(types, raw_types)], dtype=np.int64
    )
    n_replaced = (int(bad @ counts) if len(bad) else 0) + replaced_by_tokenizer[0]
    if tokenizer is None and tokenize == "words":
        ids, doc_starts, types, counts = _split_types(ids, doc_starts, types, counts, lowercase)
        if not len(ids):
            where = ", ".join(literal(s) for s in sources[:3]) or "the corpus iterable"
            raise CorpusError(f"{where}: no words found (`tokenize=words` keeps letters and digits); give text, "
                              "or use `tokenize=whitespace`")
    elif lowercase:
        types = [t.lower() for t in types]
    ids, types, counts = _merge_equal_types(ids, types, counts)
    return TokenizedCorpus(ids, doc_starts, types, counts, n_replaced, n_bytes, sources,
                           "files" if sources else "documents", bool(lowercase))


def _prefetch(chunks: Iterator[bytes], depth: int = 2) -> Iterator[bytes]:
    """Iterate ``chunks`` in a background thread, ``depth`` items ahead; exceptions are
    re-raised in the consumer, and the thread stops when the consumer stops."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce():
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        q.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def _check_not_binary(path: Path, sample_bytes: int = 1 << 16) -> None:
    sample = b""
    try:
        with open_text_bytes(path) as f:
            sample = f.read(sample_bytes)
    except COMPRESSION_ERRORS:
        return  # reported with context by the reader
    why = looks_binary(sample)
    if why:
        raise CorpusError(f"{path}: looks like binary data, not text ({why}); give a text file")


def _split_types(ids: np.ndarray, doc_starts: np.ndarray, types: list[str], counts: np.ndarray,
                 lowercase: bool):
    """Replace every whitespace token by its ``words`` tokens.  Words never hold
    whitespace, so splitting each distinct type once gives the tokens of splitting the
    text.  When every type is one word (text8-style text) only the ids are renamed."""
    words = _words_of_types(types)
    index: dict[str, int] = {}
    if all(len(w) == 1 for w in words):
        remap = np.fromiter((index.setdefault(w[0].lower() if lowercase else w[0], len(index)) for w in words),
                            dtype=np.int32, count=len(words))
        new_ids = remap[ids]
        merged = np.zeros(len(index), dtype=np.int64)
        np.add.at(merged, remap, counts)
        return new_ids, doc_starts, list(index), merged
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    flat = np.fromiter((index.setdefault(x.lower() if lowercase else x, len(index)) for w in words for x in w),
                       dtype=np.int32, count=int(lengths.sum()))
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    per_token = lengths[ids]
    ends = np.cumsum(per_token)
    total = int(ends[-1]) if len(ends) else 0
    begins = ends - per_token
    within = np.arange(total, dtype=np.int64) - np.repeat(begins, per_token)
    new_ids = flat[np.repeat(offsets[ids], per_token) + within]
    starts = np.unique(begins[doc_starts]) if len(doc_starts) else doc_starts
    starts = starts[(starts > 0) & (starts < total)]
    new_counts = np.bincount(new_ids, minlength=len(index)).astype(np.int64)
    return new_ids, starts.astype(np.int64), list(index), new_counts


def _merge_equal_types(ids: np.ndarray, types: list[str], counts: np.ndarray):
    """Types that became equal after decoding or lowercasing become one type."""
    index: dict[str, int] = {}
    remap = np.fromiter((index.setdefault(t, len(index)) for t in types), dtype=np.int32, count=len(types))
    if len(index) == len(types):
        return ids, types, counts
    merged = np.zeros(len(index), dtype=np.int64)
    np.add.at(merged, remap, counts)
    return remap[ids], list(index), merged


# ------------------------------------------------ the token ids kept for updates

#: the corpus as token ids in a model folder, kept for updates (see :func:`save_tokens`)
TOKENS_FILE = "tokens.npz"
TOKENS_FORMAT = "pmiembed-tokens"
TOKENS_VERSION = 1


def concat_corpora(a: TokenizedCorpus, b: TokenizedCorpus) -> TokenizedCorpus:
    """``a``'s tokens then ``b``'s as one :class:`~pmiembed.corpus.TokenizedCorpus`
    (``b`` starts a document; ``b``'s types that ``a`` lacks are appended to its types):
    what reading both sources in one call gives, but for the numbering of the types,
    which no later stage depends on (the vocabulary is ordered by count, then word)."""
    index = {t: i for i, t in enumerate(a.types)}
    types = list(a.types)
    remap = np.empty(len(b.types), dtype=np.int32)
    for j, t in enumerate(b.types):
        i = index.get(t)
        if i is None:
            i = index[t] = len(types)
            types.append(t)
        remap[j] = i
    counts = np.zeros(len(types), dtype=np.int64)
    counts[:len(a.types)] = a.counts
    np.add.at(counts, remap, np.asarray(b.counts, dtype=np.int64))
    n_a = a.n_tokens
    ids = np.empty(n_a + b.n_tokens, dtype=np.int32)
    ids[:n_a] = a.ids
    ids[n_a:] = remap[b.ids]
    starts = [np.asarray(a.doc_starts, dtype=np.int64)]
    if n_a and b.n_tokens:
        starts.append(np.array([n_a], dtype=np.int64))
    starts.append(np.asarray(b.doc_starts, dtype=np.int64) + n_a)
    return TokenizedCorpus(ids, np.concatenate(starts), types, counts, a.n_replaced + b.n_replaced,
                           a.n_bytes + b.n_bytes, list(a.sources) + list(b.sources),
                           a.input_kind if a.input_kind == b.input_kind else "documents")


def save_tokens(tokens: TokenizedCorpus, path) -> None:
    """Write ``tokens`` to one uncompressed ``.npz`` (token ids int32, document starts,
    type counts, the types one a line, and a small JSON header), atomically.  Its
    checksum is the model manifest's (:func:`pmiembed.state.write_model`)."""
    if any("\n" in t for t in tokens.types):
        raise ParameterError("a token contains a newline; the token ids cannot be saved for updates (the types are "
                             "stored one a line): split such tokens in the tokenizer")
    meta = {"format": TOKENS_FORMAT, "version": TOKENS_VERSION, "n_replaced": int(tokens.n_replaced),
            "n_bytes": int(tokens.n_bytes), "sources": list(tokens.sources), "input_kind": tokens.input_kind}
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), types=np.array("\n".join(tokens.types)),
                     ids=np.ascontiguousarray(tokens.ids, dtype=np.int32),
                     doc_starts=np.asarray(tokens.doc_starts, dtype=np.int64),
                     counts=np.asarray(tokens.counts, dtype=np.int64))


def load_tokens(path) -> TokenizedCorpus:
    """Read a file written by :func:`save_tokens`."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            types = str(z["types"])
            ids, doc_starts, counts = z["ids"], z["doc_starts"], z["counts"]
    except Exception as exc:  # zipfile/npy errors of every kind
        raise VectorsError(f"{path}: not a readable pmiembed token file ({type(exc).__name__}); re-train") from None
    if not isinstance(meta, dict) or meta.get("format") != TOKENS_FORMAT or meta.get("version") != TOKENS_VERSION:
        raise VectorsError(f"{path}: not a pmiembed token file of version {TOKENS_VERSION}; re-train")
    types = types.split("\n") if types else []
    if len(types) != len(counts) or (len(ids) and int(ids.max()) >= len(types)):
        raise VectorsError(f"{path}: token ids and types do not match; re-train")
    return TokenizedCorpus(ids, doc_starts, types, counts, meta["n_replaced"], meta["n_bytes"], meta["sources"],
                           meta["input_kind"])
