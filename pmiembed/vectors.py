"""Word vectors on disk: the word2vec formats, gensim's files, and the manifest beside them.

A folder written by :meth:`pmiembed.model.PMIEmbedding.save` (or by
:func:`write_vectors_folder`, for vectors that are not a pmiembed model) holds the
vectors (``vectors.bin``, word2vec binary, and/or ``vectors.vec``, word2vec text),
``vocab.tsv`` (words and counts) and ``params.json``, the manifest: format and version,
what made the vectors, and the SHA-256 of every file and of the manifest itself, so that
a damaged or edited folder is refused (:func:`read_manifest`).  :func:`load_vectors`
reads such a folder or any word2vec, GloVe or gensim file as gensim ``KeyedVectors``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._validation import Param, StrOptions, check_param
from ._version import __version__
from .errors import VectorsError
from .io import atomic_path, check_input_file, sha256_file, stable_read
from .vocab import Vocabulary

if TYPE_CHECKING:  # gensim is imported where it is used: it is slow to import
    from gensim.models import KeyedVectors

MODEL_FORMAT = "pmiembed-model"
MODEL_VERSION = 1
VECTORS_FILE = "vectors.bin"
#: the word2vec text format, written by ``save(format="text"|"both")``
VECTORS_TEXT_FILE = "vectors.vec"
#: what ``save`` can write the vectors as: vectors.bin, vectors.vec or both
VECTOR_FORMATS = ("binary", "text", "both")
FORMAT_CONSTRAINT = Param((StrOptions(VECTOR_FORMATS),), "one of " + ", ".join(map(repr, VECTOR_FORMATS)))
#: the manifest format of a folder of vectors that are not a PMIEmbedding model (the
#: word2vec baseline of ``compare``): vectors, vocab.tsv and params.json only
VECTORS_FOLDER_FORMAT = "pmiembed-vectors"
VOCAB_FILE = "vocab.tsv"
PARAMS_FILE = "params.json"
#: the rarer words' counts and pairs, saved with the counts for PMIEmbedding.update
RARE_PAIRS_FILE = "rare_pairs.npz"
#: the files a model folder must hold, each with a checksum in the manifest
REQUIRED_FILES = (VECTORS_FILE, VOCAB_FILE, "singular_values.npy")
#: what pmiembed writes into a model folder (besides the manifest): a folder holding any
#: of them is a model folder, which is read only with its manifest
MODEL_FILES = (VECTORS_FILE, VECTORS_TEXT_FILE, VOCAB_FILE, "singular_values.npy", "ppmi.npz", "counts.npz",
               "tokens.npz", RARE_PAIRS_FILE)


def make_keyed_vectors(words, vectors: np.ndarray, counts=None) -> "KeyedVectors":
    """A gensim ``KeyedVectors`` with ``words`` in order (and a ``count`` attribute)."""
    from gensim.models import KeyedVectors

    words = list(words)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(words) != len(vectors):
        raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
    kv.index_to_key = words
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    if len(kv.key_to_index) != len(words):
        raise ValueError("duplicate words")
    kv.vectors = vectors  # no copy (add_vectors would stack a second one)
    if counts is not None:
        kv.allocate_vecattrs(["count"], [np.int64])
        kv.expandos["count"][:] = np.asarray(counts, dtype=np.int64)
    return kv


def write_vectors_files(words, vectors: np.ndarray, folder: Path, format: str = "binary") -> list[str]:
    """Write ``folder/vectors.bin`` (``format="binary"``), ``folder/vectors.vec``
    (``"text"``) or both (``"both"``); returns the file names written."""
    check_param("format", format, FORMAT_CONSTRAINT)
    files = []
    if format in ("binary", "both"):
        write_word2vec_binary(words, vectors, folder / VECTORS_FILE)
        files.append(VECTORS_FILE)
    if format in ("text", "both"):
        write_word2vec_text(words, vectors, folder / VECTORS_TEXT_FILE)
        files.append(VECTORS_TEXT_FILE)
    return files


def write_vectors_folder(folder: Path, words, vectors: np.ndarray, counts, total: int, meta: dict) -> None:
    """A folder of vectors that are not a PMIEmbedding model (the word2vec baseline),
    laid out like a model folder so that the same tools read it: ``vectors.bin``,
    ``vocab.tsv`` (words and counts) and ``params.json`` (``meta`` plus the format, the
    SHA-256 of every file and of the manifest itself)."""
    folder = Path(folder)
    write_word2vec_binary(words, vectors, folder / VECTORS_FILE)
    Vocabulary(list(words), np.asarray(counts, dtype=np.int64), int(total)).save(folder / VOCAB_FILE)
    body = dict(meta)
    body.update({"format": VECTORS_FOLDER_FORMAT, "vocabulary_size": len(words)})
    write_manifest(folder, body, [VECTORS_FILE, VOCAB_FILE])


def write_manifest(folder: Path, meta: dict, files) -> None:
    """``folder/params.json``: ``meta`` with the version, the SHA-256 of each of
    ``files`` (in ``folder``) and of the manifest itself (:func:`manifest_digest`), what
    :func:`read_manifest` checks."""
    body = dict(meta)
    body.update({"version": MODEL_VERSION, "pmiembed": __version__,
                 "sha256": {f: sha256_file(Path(folder) / f) for f in files}})
    body["manifest_sha256"] = manifest_digest(body)
    with atomic_path(Path(folder) / PARAMS_FILE) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(body, f, indent=2, sort_keys=True)
            f.write("\n")


def save_keyed_vectors(kv: "KeyedVectors", path: Path) -> None:
    """word2vec binary format, in index order (not re-sorted)."""
    write_word2vec_binary(kv.index_to_key, kv.vectors, path)


def write_word2vec_binary(words, vectors: np.ndarray, path: Path, batch: int = 4096) -> None:
    """The word2vec binary format: a ``"count dim"`` line, then per word its UTF-8 bytes,
    a space and ``dim`` little-endian float32 values: byte for byte what gensim's
    ``save_word2vec_format(binary=True, sort_attr=None)`` writes (tested), without
    importing gensim."""
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    if len(words) != len(vectors):
        raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
    with open(path, "wb") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n".encode("utf-8"))
        for i in range(0, len(words), batch):
            f.write(b"".join(f"{w} ".encode("utf-8") + row.tobytes()
                             for w, row in zip(words[i:i + batch], vectors[i:i + batch])))


def write_word2vec_text(words, vectors: np.ndarray, path: Path, batch: int = 4096) -> None:
    """The word2vec text format: a ``"count dim"`` line, then per word the word and its
    ``dim`` values separated by spaces, as gensim's
    ``KeyedVectors.load_word2vec_format(..., binary=False)`` reads it.  Values are written
    with 9 significant digits, enough for every float32 to read back bit for bit."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(words) != len(vectors):
        raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
    row_format = " ".join(["%.9g"] * vectors.shape[1])
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n")
        for i in range(0, len(words), batch):
            f.write("".join(f"{w} {row_format % tuple(row)}\n"
                            for w, row in zip(words[i:i + batch], vectors[i:i + batch].tolist())))


def read_manifest(path: Path, files=None) -> dict:
    """Read and check ``params.json`` of a model folder (format, version, checksums;
    ``files``: only these files' checksums, the others need only be there)."""
    manifest = path / PARAMS_FILE
    if not path.is_dir():
        if not os.path.lexists(path):
            raise VectorsError(f"{path}: no such model folder; check the `vectors` path")
        raise VectorsError(f"{path}: not a folder; give a model folder written by 'pmiembed train' as `vectors`")
    if not manifest.is_file():
        raise VectorsError(_no_manifest(path))
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise VectorsError(f"{manifest}: damaged (not JSON); re-train or restore the folder") from None
    if not isinstance(meta, dict) or meta.get("format") not in (MODEL_FORMAT, VECTORS_FOLDER_FORMAT):
        raise VectorsError(f"{manifest}: not a pmiembed model manifest (no \"format\": \"{MODEL_FORMAT}\" object)")
    version = meta.get("version")
    if type(version) is not int or version != MODEL_VERSION:
        raise VectorsError(f"{manifest}: model format version {version!r} is not supported (this pmiembed reads "
                           f"version {MODEL_VERSION}, an integer); re-train the model")
    if meta.get("manifest_sha256") != manifest_digest(meta):
        what = "has no checksum of itself" if "manifest_sha256" not in meta else "checksum mismatch"
        raise VectorsError(f"{manifest}: {what}, the manifest is damaged or was edited; re-train or restore the folder")
    digests = meta.get("sha256")
    if not isinstance(digests, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in digests.items()):
        raise VectorsError(f"{manifest}: 'sha256' is not a table of file checksums; re-train or restore the folder")
    required = REQUIRED_FILES if meta["format"] == MODEL_FORMAT else (VECTORS_FILE, VOCAB_FILE)
    if VECTORS_TEXT_FILE in digests:  # saved with format="text": vectors.vec stands for vectors.bin
        required = tuple(n for n in required if n != VECTORS_FILE)
    for name in required + MODEL_FILES:  # every file of pmiembed's in the folder must be vouched for
        if name not in digests and (name in required or (path / name).exists()):
            raise VectorsError(f"{path / name}: no checksum in {PARAMS_FILE}; re-train or restore the folder")
    for name, digest in digests.items():
        f = path / name
        if Path(name).name != name or not f.is_file():
            raise VectorsError(f"{f}: missing from the model folder; re-train or restore it")
        if (files is None or name in files) and sha256_file(f) != digest:
            raise VectorsError(f"{f}: checksum mismatch, the file is damaged or was changed; re-train or restore it")
    return meta


def _no_manifest(path: Path) -> str:
    """The message for a folder without ``params.json``: a model folder that lost its
    manifest (its files cannot be checked: an edited or damaged one would give wrong
    answers), or no model folder at all."""
    held = [name for name in MODEL_FILES if (path / name).exists()]
    if held:
        return (f"{path}: holds pmiembed's files ({', '.join(held[:3])}{', ...' if len(held) > 3 else ''}) but not "
                f"their manifest {PARAMS_FILE}, without which they cannot be checked; restore {PARAMS_FILE} or "
                "re-train (a word2vec or gensim vectors file can be given by its own path)")
    return (f"{path}: not a pmiembed model folder (no {PARAMS_FILE}); give the folder written by 'pmiembed train' "
            "or a vectors file as `vectors`")


def manifest_digest(meta: dict) -> str:
    """SHA-256 of the manifest without its own checksum (canonical JSON), so that an
    edited or damaged ``params.json`` (checksums removed, parameters changed) is caught."""
    import hashlib

    body = {k: v for k, v in meta.items() if k != "manifest_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: what ``--vectors`` accepts, for the message about a file that is none of them
VECTORS_KINDS = ("a pmiembed model folder, a word2vec file (.bin/.vec/.txt with a 'count dim' first line) "
                 "or a gensim model or KeyedVectors file (.model/.kv, written by save())")


def load_vectors(path: str | os.PathLike) -> "KeyedVectors":
    """Load vectors from a pmiembed output folder (checked against its manifest, which
    it must have), a word2vec file (binary or text, detected by content, whatever its
    name), GloVe's headerless text, or a file
    written by gensim's ``save()``: a full ``Word2Vec`` / ``FastText`` model (its ``wv``)
    or ``KeyedVectors`` (told apart by content: gensim saves a pickle)."""
    path = Path(path)
    if path.is_dir():
        return stable_read(path, lambda: _guard_zero_vectors(_load_vectors_dir(path)))
    check_input_file(path, "vectors file or folder", "vectors")
    with open(path, "rb") as f:
        start = f.read(2)
    if start[:1] == b"\x80" and start[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):  # a pickle: gensim's save()
        return _guard_zero_vectors(_load_gensim(path))
    return _guard_zero_vectors(_load_word2vec(path))


def _load_gensim(path: Path) -> "KeyedVectors":
    """The word vectors of a file written by gensim's ``save()``: ``KeyedVectors`` as
    they are, a model (``Word2Vec``, ``FastText``, ...) by its ``wv``.  Like any gensim
    model file it is a pickle: load only files you trust."""
    from gensim.models import KeyedVectors
    from gensim.utils import SaveLoad

    try:
        obj = SaveLoad.load(str(path))
    except Exception as exc:
        raise VectorsError(f"{path}: cannot load this gensim file ({type(exc).__name__}: {exc}); "
                           "re-save it with this gensim version") from None
    kv = obj if isinstance(obj, KeyedVectors) else getattr(obj, "wv", None)
    if not isinstance(kv, KeyedVectors):
        raise VectorsError(f"{path}: a gensim {type(obj).__name__}, which has no word vectors; give "
                           + VECTORS_KINDS)
    if len(kv) == 0 or kv.vectors.ndim != 2 or not np.isfinite(kv.vectors).all():
        raise VectorsError(f"{path}: the gensim {type(obj).__name__} holds no usable vectors (empty or not finite); "
                           "train it before saving")
    return kv


def _guard_zero_vectors(kv: "KeyedVectors") -> "KeyedVectors":
    """Words without a vector (all zeros: no PPMI entry among the factorised words) get
    an infinite norm in gensim's norm cache, so their cosine with anything is 0 instead
    of nan (gensim divides by the norm) and they never top a neighbour list."""
    kv.fill_norms()
    zero = kv.norms == 0
    if zero.any():
        kv.norms = kv.norms.astype(np.float64, copy=True)
        kv.norms[zero] = np.inf
    return kv


def folder_format(path: Path) -> str:
    """Which vector files a model folder holds, as ``save(format=...)`` names it:
    ``"both"``, ``"text"`` (``vectors.vec`` only) or ``"binary"`` (otherwise)."""
    path = Path(path)
    text, binary = (path / VECTORS_TEXT_FILE).is_file(), (path / VECTORS_FILE).is_file()
    return "both" if text and binary else "text" if text else "binary"


def _load_vectors_dir(path: Path, checked: bool = False) -> "KeyedVectors":
    """A pmiembed output folder, checked against its manifest (which it must have:
    :func:`read_manifest`) unless the caller just did (``checked``)."""
    if not checked:
        read_manifest(path)
    vec = path / (VECTORS_TEXT_FILE if folder_format(path) == "text" else VECTORS_FILE)
    if not vec.is_file():
        raise VectorsError(f"{path}: no {VECTORS_FILE} in this folder; give the folder written by 'pmiembed train'")
    kv = _load_word2vec(vec)
    if (path / VOCAB_FILE).is_file():
        vocab = Vocabulary.load(path / VOCAB_FILE)
        if vocab.words == kv.index_to_key:
            kv.allocate_vecattrs(["count"], [np.int64])
            kv.expandos["count"][:] = vocab.counts
    return kv


def _load_word2vec(path: Path) -> "KeyedVectors":
    """Load a word2vec file, binary or text (told apart by its first record), checking
    that it holds as many finite vectors as its header says."""
    from gensim.models import KeyedVectors

    with open(path, "rb") as f:
        header = f.readline(200)
        first = f.readline(1 << 16)
    try:
        n, dim = (int(x) for x in header.split())
        if n < 1 or dim < 1:
            raise ValueError
    except ValueError:
        if _is_vector_line(header):  # GloVe's text format: the word2vec text format without its header
            return _load_headerless(path)
        raise VectorsError(f"{path}: not a word2vec vectors file (no 'count dim' header line) nor a gensim file; "
                           "give " + VECTORS_KINDS) from None
    binary = True
    try:
        fields = first.decode("utf-8").split()
        if len(fields) == dim + 1:
            [float(x) for x in fields[1:]]
            binary = False
    except (UnicodeDecodeError, ValueError):
        pass
    try:
        kv = KeyedVectors.load_word2vec_format(str(path), binary=binary, unicode_errors="replace")
    except Exception:
        kv = None
    if kv is None or len(kv) != n or kv.vector_size != dim or not np.isfinite(kv.vectors).all():
        raise VectorsError(
            f"{path}: truncated or damaged vectors file (header says {n} x {dim}); re-train or re-download it"
        )
    return kv


def _is_vector_line(line: bytes) -> bool:
    """Whether ``line`` reads as ``word x1 x2 ...`` (at least two numbers)."""
    try:
        fields = line.decode("utf-8").split()
        [float(x) for x in fields[1:]]
    except (UnicodeDecodeError, ValueError):
        return False
    return len(fields) >= 3


def _load_headerless(path: Path) -> "KeyedVectors":
    """A text vectors file without the ``count dim`` line (GloVe's format), checked for
    rows of one length and finite values."""
    from gensim.models import KeyedVectors

    try:
        kv = KeyedVectors.load_word2vec_format(str(path), binary=False, no_header=True, unicode_errors="replace")
    except Exception:
        kv = None
    if kv is None or len(kv) == 0 or not np.isfinite(kv.vectors).all():
        raise VectorsError(f"{path}: damaged text vectors file (GloVe-like, without a 'count dim' line: rows of "
                           "unequal length or values that are not numbers); re-train or re-download it")
    return kv


def read_word2vec_binary(path) -> tuple[list, np.ndarray]:
    """Words and vectors of a word2vec binary file written by pmiembed
    (:func:`write_word2vec_binary`), without gensim."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        end = data.index(b"\n")
        n, dim = (int(x) for x in data[:end].split())
        words, vectors = [], np.empty((n, dim), dtype=np.float32)
        pos, width = end + 1, 4 * dim
        for i in range(n):
            sp_at = data.index(b" ", pos)
            words.append(data[pos:sp_at].lstrip(b"\n").decode("utf-8"))
            vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=sp_at + 1)
            pos = sp_at + 1 + width
    except ValueError:
        raise VectorsError(f"{path}: truncated or damaged vectors file; re-train") from None
    return words, vectors


def read_word2vec_text(path) -> tuple[list, np.ndarray]:
    """Words and vectors of a word2vec text file written by pmiembed
    (:func:`write_word2vec_text`), without gensim."""
    try:
        with open(path, encoding="utf-8") as f:
            n, dim = (int(x) for x in f.readline().split())
            words, vectors = [], np.empty((n, dim), dtype=np.float32)
            for i in range(n):
                word, rest = f.readline().rstrip("\n").split(" ", 1)
                words.append(word)
                vectors[i] = np.array(rest.split(" "), dtype=np.float32)
    except (ValueError, UnicodeDecodeError):
        raise VectorsError(f"{path}: truncated or damaged vectors file; re-train") from None
    return words, vectors
