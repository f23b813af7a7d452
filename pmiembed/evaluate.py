"""Intrinsic evaluation of word vectors: word similarity and word analogies.

Benchmarks
----------
Eight standard benchmarks are known by name (:data:`BENCHMARKS`); their files are looked
up in ``$PMIEMBED_DATA/benchmarks/{similarity,analogy}/<name>.txt`` (see
:mod:`pmiembed.datasets`).  Without a data directory, gensim's bundled copies still provide
``ws353``, ``simlex999`` and ``google``.  Any file path works too; its kind is detected
from its first data line (``: section`` header or four words -> analogy, three fields ->
similarity).

File formats (read strictly: a malformed line raises :class:`~pmiembed.errors.BenchmarkError`
``"file:line: what is wrong"``, it is never skipped):

* similarity: ``word1 word2 score`` separated by tabs or spaces; ``#`` comment lines and
  blank lines are ignored, CRLF line endings are fine, and a first data line whose score
  is not a number is taken as a header row and skipped.
* analogy: ``a b c d`` (``a`` is to ``b`` as ``c`` is to ``d``), tabs or spaces;
  ``: name`` lines start a section (Google); questions before any header (MSR) form one
  section named after the benchmark.

Words are lowercased by default (``case_insensitive=True``), and the vocabulary is matched
case-insensitively like gensim does: a folded word maps to its most frequent spelling.

Maths
-----
All vectors are L2-normalised (float32), so ``cos(x, y) = x . y``.

*Similarity*: Spearman's rho between ``cos(w1, w2)`` and the human scores over the pairs
whose two words are both in the vocabulary (the whole vocabulary, not restricted);
``coverage = n_known / n``.

*Analogy* ``a : b :: c : ?`` with answer ``d``.  The candidates ``x`` are the
``restrict_vocab`` most frequent words (the first rows of the KeyedVectors, which gensim
and pmiembed keep in descending frequency), minus ``a``, ``b`` and ``c`` themselves:

* 3CosAdd (Mikolov et al. 2013): ``argmax_x cos(x, b) - cos(x, a) + cos(x, c)``
  (equivalently the nearest word to ``b - a + c``; identical to gensim's
  ``most_similar(positive=[b, c], negative=[a])``);
* 3CosMul (Levy & Goldberg 2014): with cosines shifted to ``[0, 1]`` by
  ``cos'(x, y) = (cos(x, y) + 1) / 2`` and ``eps = 0.001``,
  ``argmax_x cos'(x, b) * cos'(x, c) / (cos'(x, a) + eps)``.

A question is *known* only if all four words are within the ``restrict_vocab`` most
frequent words (gensim's ``evaluate_word_analogies`` rule).  ``accuracy_add`` and
``accuracy_mul`` are over ALL questions (unknown ones count as wrong); ``coverage =
n_known / n`` goes next to them, and ``accuracy_*_known`` are over known questions only
(the number gensim reports).  Both methods come out of one pass over the same
cosines: one float32 matrix product of the distinct question words against the
candidate matrix (for all questions at once when it fits in 256 MB, else per batch of
questions), then cheap row combinations, masking and an argmax per batch.

Public API
----------
``evaluate(kv, benchmarks=None, restrict_vocab=30000)`` -> ``{name: result}``;
``results_to_dict(results)`` -> JSON-ready dict; ``format_results(results)`` -> text table;
``available_benchmarks()``, ``load_benchmark(name_or_path)``, ``read_similarity(path)``,
``read_analogy(path)``, ``evaluate_similarity(kv, data)``, ``evaluate_analogy(kv, data)``.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence, Union

import numpy as np

from pmiembed._validation import Integral, Interval, validate_params
from pmiembed.datasets import data_dir, gensim_test_data
from pmiembed.errors import BenchmarkError

__all__ = [
    "BENCHMARKS",
    "GOOGLE_SEMANTIC_SECTIONS",
    "SimilarityData",
    "AnalogyData",
    "SimilarityResult",
    "AnalogyResult",
    "available_benchmarks",
    "resolve_benchmark",
    "load_benchmark",
    "read_similarity",
    "read_analogy",
    "evaluate_similarity",
    "evaluate_analogy",
    "evaluate",
    "results_to_dict",
    "format_results",
]

#: Benchmark names, in the fixed reporting order.
BENCHMARKS: tuple[str, ...] = (
    "ws353",
    "ws353_similarity",
    "ws353_relatedness",
    "simlex999",
    "men",
    "rw",
    "google",
    "msr",
)

_KIND = {name: "similarity" for name in BENCHMARKS[:6]} | {"google": "analogy", "msr": "analogy"}

#: Files that ship with gensim (``gensim/test/test_data``): the fallback without a data dir.
_GENSIM_FILES = {"ws353": "wordsim353.tsv", "simlex999": "simlex999.txt", "google": "questions-words.txt"}

#: The semantic sections of the Google analogy set (the other nine, ``gram*``, are syntactic).
GOOGLE_SEMANTIC_SECTIONS: tuple[str, ...] = (
    "capital-common-countries",
    "capital-world",
    "currency",
    "city-in-state",
    "family",
)

#: 3CosMul's epsilon (Levy & Goldberg 2014).
COSMUL_EPSILON = 0.001
#: what the analogy search's parameters accept (see :mod:`pmiembed._validation`)
CONSTRAINTS = {
    "restrict_vocab": [Interval(Integral, 1, None), None],
    "batch_size": [Interval(Integral, 1, None)],
}

PathLike = Union[str, "os.PathLike[str]"]


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SimilarityData:
    """A word-similarity benchmark: ``pairs[i]`` was rated ``scores[i]`` by humans."""

    name: str
    path: str
    pairs: list[tuple[str, str]]
    scores: np.ndarray  # float64, one per pair

    kind = "similarity"

    def __len__(self) -> int:
        return len(self.pairs)


@dataclass(frozen=True)
class AnalogyData:
    """An analogy benchmark: ``sections[name]`` lists questions ``(a, b, c, d)`` in file order."""

    name: str
    path: str
    sections: dict[str, list[tuple[str, str, str, str]]]

    kind = "analogy"

    @property
    def questions(self) -> list[tuple[str, str, str, str]]:
        """All questions, section after section."""
        return [q for qs in self.sections.values() for q in qs]

    def __len__(self) -> int:
        return sum(len(qs) for qs in self.sections.values())


Benchmark = Union[SimilarityData, AnalogyData]


# --------------------------------------------------------------------------- results


@dataclass
class SimilarityResult:
    """Spearman correlation of model cosines with human scores on one benchmark.

    ``score`` is Spearman's rho over the ``n_known`` pairs with both words in the
    vocabulary (NaN if fewer than two); ``coverage = n_known / n``.
    """

    name: str
    path: str
    n: int
    n_known: int
    score: float
    pearson: float = math.nan

    kind = "similarity"

    @property
    def coverage(self) -> float:
        return self.n_known / self.n if self.n else 0.0


@dataclass
class AnalogyResult:
    """3CosAdd and 3CosMul results on one analogy benchmark (or one section of it).

    ``correct_add``/``correct_mul`` count correctly answered questions; ``accuracy_add`` and
    ``accuracy_mul`` divide by ALL ``n`` questions, ``accuracy_*_known`` by the ``n_known``
    questions whose four words lie in the ``restrict_vocab`` most frequent words.
    ``sections`` (top level only) maps each file section to its own result;
    ``groups`` holds the Google ``semantic``/``syntactic`` aggregates when present.
    ``answers_add``/``answers_mul`` (only with ``keep_answers=True``) give the predicted
    word for every question in ``AnalogyData.questions`` order, ``None`` if unknown.
    """

    name: str
    path: str
    n: int
    n_known: int
    correct_add: int
    correct_mul: int
    restrict_vocab: int
    sections: dict[str, "AnalogyResult"] = field(default_factory=dict)
    groups: dict[str, "AnalogyResult"] = field(default_factory=dict)
    answers_add: list[str | None] | None = None
    answers_mul: list[str | None] | None = None

    kind = "analogy"

    @property
    def coverage(self) -> float:
        return self.n_known / self.n if self.n else 0.0

    @property
    def accuracy_add(self) -> float:
        return self.correct_add / self.n if self.n else 0.0

    @property
    def accuracy_mul(self) -> float:
        return self.correct_mul / self.n if self.n else 0.0

    @property
    def accuracy_add_known(self) -> float:
        return self.correct_add / self.n_known if self.n_known else math.nan

    @property
    def accuracy_mul_known(self) -> float:
        return self.correct_mul / self.n_known if self.n_known else math.nan


Result = Union[SimilarityResult, AnalogyResult]


# --------------------------------------------------------------------------- finding files


def _named_path(name: str) -> tuple[Path | None, list[Path]]:
    """The file for benchmark ``name`` if it exists, and the places that were tried."""
    tried: list[Path] = []
    root = data_dir()
    if root is not None:
        candidate = root / "benchmarks" / _KIND[name] / f"{name}.txt"
        tried.append(candidate)
        if candidate.is_file():
            return candidate, tried
    if name in _GENSIM_FILES:
        candidate = gensim_test_data() / _GENSIM_FILES[name]
        tried.append(candidate)
        if candidate.is_file():
            return candidate, tried
    return None, tried


def available_benchmarks() -> list[str]:
    """Names of the benchmarks whose files can be found now, in :data:`BENCHMARKS` order.

    With ``$PMIEMBED_DATA`` set to a full data directory this is all eight; without it,
    gensim's copies give ``["ws353", "simlex999", "google"]``.
    """
    return [name for name in BENCHMARKS if _named_path(name)[0] is not None]


def describe_benchmarks(benchmarks: Iterable[PathLike] | None = None) -> str:
    """One line saying which benchmarks an evaluation uses and where they were found:
    ``None`` (every available one) also names the missing ones and how to get them, so a
    table from gensim's three fallback sets is never mistaken for the eight-set table."""
    if benchmarks is not None:
        return "benchmarks: " + ", ".join(str(b) for b in benchmarks)
    found = {name: _named_path(name)[0] for name in BENCHMARKS}
    root = data_dir()
    where = f"$PMIEMBED_DATA={root}" if root is not None else "gensim's test data (PMIEMBED_DATA not set)"
    names = [n + (" (gensim's copy)" if root is not None and root not in p.parents else "")
             for n, p in found.items() if p is not None]
    line = f"benchmarks found ({where}): " + (", ".join(names) or "none")
    missing = [n for n, p in found.items() if p is None]
    if missing:
        fix = ("set PMIEMBED_DATA to a directory with benchmarks/" if root is None
               else f"not in {root / 'benchmarks'}")
        line += f"; missing: {', '.join(missing)} ({fix})"
    return line


def _looks_like_path(spec: PathLike) -> bool:
    if not isinstance(spec, str):
        return True
    return os.sep in spec or "/" in spec or Path(spec).suffix != "" or Path(spec).exists()


def resolve_benchmark(spec: PathLike) -> tuple[str, Path]:
    """``(name, path)`` for a benchmark name from :data:`BENCHMARKS` or a file path.

    A path's name is its file stem.  Raises :class:`BenchmarkError` for an unknown name,
    a missing file, or a known benchmark whose file is not available.
    """
    if isinstance(spec, str) and spec in _KIND:
        path, tried = _named_path(spec)
        if path is None:
            wanted = f"benchmarks/{_KIND[spec]}/{spec}.txt"
            if not tried:  # no data directory, and gensim ships no copy of this one
                value = os.environ.get("PMIEMBED_DATA")
                data = (f"PMIEMBED_DATA={value} is not a directory" if value else "PMIEMBED_DATA is not set")
                raise BenchmarkError(
                    f"benchmark '{spec}' not found: {data} and gensim's test data has only "
                    f"{', '.join(_GENSIM_FILES)}; set PMIEMBED_DATA to a directory holding {wanted}, or give the "
                    "benchmark file's path instead of its name")
            where = ", ".join(str(p) for p in tried)
            hint = (
                f"set PMIEMBED_DATA to a directory holding {wanted}"
                if data_dir() is None
                else "put the file there or pass its path instead of the name"
            )
            raise BenchmarkError(f"benchmark '{spec}' not found (looked for {where}): {hint}")
        return spec, path
    if not _looks_like_path(spec):
        raise BenchmarkError(
            f"unknown benchmark '{spec}': use one of {', '.join(BENCHMARKS)} or a file path"
        )
    path = Path(spec).expanduser()
    if path.exists() and not path.is_file():
        raise BenchmarkError(f"{path}: not a regular file (a folder, pipe or device); give a benchmark text file")
    if not path.is_file():
        raise BenchmarkError(f"{path}: benchmark file not found; check the path")
    return path.stem, path


# --------------------------------------------------------------------------- readers


def _read_lines(path: Path) -> list[str]:
    """Lines of a UTF-8 text file, plain or compressed (gzip, bzip2, xz: told by the
    file's first bytes, as the corpus reader does, not by its name), without line
    terminators."""
    import lzma
    import zlib

    from pmiembed.corpus import open_text_bytes

    if path.exists() and not path.is_file():
        raise BenchmarkError(f"{path}: not a regular file; give a benchmark text file")
    try:
        with open_text_bytes(path) as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise BenchmarkError(f"{path}: benchmark file not found; check the path") from None
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise BenchmarkError(f"{path}: cannot read benchmark file ({exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BenchmarkError(f"{path}:{line}: not UTF-8 text; re-encode the file as UTF-8") from None
    return [line.rstrip("\r") for line in text.split("\n")]


def _separator(lines: list[str]) -> str | None:
    """``","`` when the file is CSV (its first data line without a tab splits into 3 or 4
    fields at commas: ``word1,word2,score``), else None; see :func:`_fields`."""
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith(":"):
            continue
        if "\t" not in stripped and "," in stripped and len(stripped.split(",")) in (3, 4):
            return ","
        return None
    return None


def _fields(stripped: str, sep: str | None) -> list[str]:
    """The fields of a line: at commas in a CSV file, else at runs of whitespace, or at
    tabs when only they give 3 or 4 fields (fields holding spaces, as the header
    ``Word 1<TAB>Word 2<TAB>Human (mean)`` of WS353)."""
    if sep == "," and "," in stripped and "\t" not in stripped:
        return [f.strip() for f in stripped.split(",") if f.strip()]
    fields = stripped.split()
    if len(fields) not in (3, 4) and "\t" in stripped:
        tabbed = [f.strip() for f in stripped.split("\t") if f.strip()]
        if len(tabbed) in (3, 4):
            return tabbed
    return fields


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def read_similarity(path: PathLike, name: str | None = None, lowercase: bool = True) -> SimilarityData:
    """Read ``word1 word2 score`` lines (tabs or spaces, CRLF ok, ``#`` comments, blanks).

    A first data line whose score is not a number is a header row and is skipped; any
    later line without exactly three fields or with a non-numeric score raises
    :class:`BenchmarkError` ``"path:line: ..."``.
    """
    path = Path(path)
    pairs: list[tuple[str, str]] = []
    scores: list[float] = []
    first = True
    lines = _read_lines(path)
    sep = _separator(lines)
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = _fields(stripped, sep)
        if first and not _is_number(fields[-1]):
            first = False
            continue  # header row such as "word1 word2 score"
        first = False
        if len(fields) != 3:
            raise BenchmarkError(
                f"{path}:{lineno}: expected 3 fields 'word1 word2 score', found {len(fields)}: {stripped[:60]!r}"
            )
        if not _is_number(fields[2]):
            raise BenchmarkError(f"{path}:{lineno}: score {fields[2]!r} is not a finite number")
        w1, w2 = (fields[0].lower(), fields[1].lower()) if lowercase else (fields[0], fields[1])
        pairs.append((w1, w2))
        scores.append(float(fields[2]))
    if not pairs:
        raise BenchmarkError(f"{path}: no 'word1 word2 score' lines found; is this a similarity benchmark?")
    return SimilarityData(name or path.stem, str(path), pairs, np.asarray(scores, dtype=np.float64))


def read_analogy(path: PathLike, name: str | None = None, lowercase: bool = True) -> AnalogyData:
    """Read ``a b c d`` lines grouped by ``: section`` headers (tabs or spaces, CRLF ok).

    Questions before the first header go to a section called ``name`` (the file stem by
    default).  ``#`` comment lines and blank lines are ignored; a line that is not four
    words, or an empty section name, raises :class:`BenchmarkError` ``"path:line: ..."``.
    """
    path = Path(path)
    name = name or path.stem
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    current = name
    lines = _read_lines(path)
    sep = _separator(lines)
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith(":"):
            current = stripped[1:].strip()
            if not current:
                raise BenchmarkError(f"{path}:{lineno}: section header ':' without a name")
            sections.setdefault(current, [])
            continue
        fields = _fields(stripped, sep)
        if len(fields) != 4:
            raise BenchmarkError(
                f"{path}:{lineno}: expected 4 words 'a b c d', found {len(fields)}: {stripped[:60]!r}"
            )
        if lowercase:
            fields = [w.lower() for w in fields]
        sections.setdefault(current, []).append((fields[0], fields[1], fields[2], fields[3]))
    sections = {k: v for k, v in sections.items() if v}
    if not sections:
        raise BenchmarkError(f"{path}: no 'a b c d' lines found; is this an analogy benchmark?")
    return AnalogyData(name, str(path), sections)


def _detect_kind(path: Path) -> str:
    """Similarity (``word1 word2 number``) or analogy (``: section`` or four words), from
    the first data line, or the second when the first is a header row."""
    lines = _read_lines(path)
    sep = _separator(lines)
    seen = 0
    first_bad = None
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith(":"):
            return "analogy"
        fields = _fields(stripped, sep)
        n = len(fields)
        if n == 3 and _is_number(fields[2]):
            return "similarity"
        if n == 4 and not any(_is_number(f) for f in fields):
            return "analogy"
        seen += 1
        if seen == 1:
            first_bad = (lineno, n)
            continue  # a header row such as "Word 1<TAB>Word 2<TAB>Human (mean)"
        break
    if first_bad is None:
        raise BenchmarkError(f"{path}: benchmark file has no data lines")
    lineno, n = first_bad if seen == 1 else (lineno, n)
    raise BenchmarkError(
        f"{path}:{lineno}: cannot tell the benchmark kind: expected 3 fields (word1 word2 score) "
        f"or 4 words (a b c d), found {n}"
    )


def load_benchmark(spec: PathLike, lowercase: bool = True) -> Benchmark:
    """Load a benchmark by name (see :data:`BENCHMARKS`) or path (kind auto-detected)."""
    name, path = resolve_benchmark(spec)
    kind = _KIND.get(name) if isinstance(spec, str) and spec in _KIND else _detect_kind(path)
    reader = read_similarity if kind == "similarity" else read_analogy
    return reader(path, name=name, lowercase=lowercase)


# --------------------------------------------------------------------------- vectors


def _keys_and_vectors(kv: Any) -> tuple[list[str], np.ndarray]:
    """``(index_to_key, vectors)`` of gensim KeyedVectors, a Word2Vec model (``.wv``) or
    any object with ``index_to_key`` and ``vectors`` (rows in descending frequency)."""
    if not hasattr(kv, "index_to_key") and hasattr(kv, "wv"):
        kv = kv.wv
    try:
        keys, vectors = kv.index_to_key, kv.vectors
    except AttributeError:
        raise TypeError(
            f"expected gensim KeyedVectors (or an object with index_to_key and vectors), got {type(kv).__name__}"
        ) from None
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(keys):
        raise TypeError(f"vectors of shape {vectors.shape} do not match {len(keys)} keys")
    return list(keys), vectors


def _normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, float32 (all-zero rows stay zero)."""
    out = np.array(vectors, dtype=np.float32, copy=True)
    norms = np.linalg.norm(out, axis=1)
    norms[norms == 0] = 1.0
    out /= norms[:, None]
    return out


def _lookup(keys: Sequence[str], case_insensitive: bool) -> dict[str, int]:
    """Word -> row; case-insensitively the lowercased word maps to its most frequent spelling."""
    if not case_insensitive:
        return {k: i for i, k in enumerate(keys)}
    table: dict[str, int] = {}
    for i, k in enumerate(keys):
        table.setdefault(k.lower(), i)
    return table


def _fold(word: str, case_insensitive: bool) -> str:
    return word.lower() if case_insensitive else word


# --------------------------------------------------------------------------- similarity


def evaluate_similarity(kv: Any, data: SimilarityData, case_insensitive: bool = True) -> SimilarityResult:
    """Spearman rho of ``cos(w1, w2)`` against the human scores, over known pairs.

    Both words of a pair must be in the (whole) vocabulary; ``coverage`` reports how many
    pairs were.  Matches gensim's ``KeyedVectors.evaluate_word_pairs`` on the same file.
    """
    from scipy import stats

    keys, vectors = _keys_and_vectors(kv)
    table = _lookup(keys, case_insensitive)
    rows1, rows2, gold = [], [], []
    for (w1, w2), score in zip(data.pairs, data.scores):
        i, j = table.get(_fold(w1, case_insensitive)), table.get(_fold(w2, case_insensitive))
        if i is not None and j is not None:
            rows1.append(i)
            rows2.append(j)
            gold.append(score)
    n_known = len(gold)
    rho = pearson = math.nan
    if n_known >= 2:
        u = _normalise(vectors[rows1])
        v = _normalise(vectors[rows2])
        cos = np.einsum("ij,ij->i", u, v).astype(np.float64)
        gold_arr = np.asarray(gold, dtype=np.float64)
        if np.ptp(cos) > 0 and np.ptp(gold_arr) > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rho = float(stats.spearmanr(gold_arr, cos)[0])
                pearson = float(stats.pearsonr(gold_arr, cos)[0])
    return SimilarityResult(data.name, data.path, len(data.pairs), n_known, rho, pearson)


# --------------------------------------------------------------------------- analogy


def _variant_groups(keys: Sequence[str], table: Mapping[str, int], case_insensitive: bool):
    """For every row r: ``rep[r]`` = row its folded spelling maps to; plus CSR lists of the
    rows sharing each representative (so that all spellings of a question word can be
    excluded from the answers, as gensim does)."""
    n = len(keys)
    if not case_insensitive:
        rep = np.arange(n)
    else:
        rep = np.fromiter((table[k.lower()] for k in keys), dtype=np.int64, count=n)
    order = np.argsort(rep, kind="stable")
    counts = np.bincount(rep, minlength=n)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return rep, order, counts, starts


def _expand(reps: np.ndarray, order: np.ndarray, counts: np.ndarray, starts: np.ndarray):
    """(question row, vocabulary row) pairs covering every spelling of each ``reps[i]``."""
    cnt = counts[reps]
    rows = np.repeat(np.arange(len(reps)), cnt)
    offsets = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    cols = order[starts[reps][rows] + offsets]
    return rows, cols


#: Memory allowed for the (distinct question words x candidates) cosine matrix.
_SIMS_BUDGET = 256 * 2**20


def _shifted_cosines(W: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``cos(W[r], W[x]) + 1`` for every r in ``rows`` and every candidate x (float32)."""
    S1 = W[rows] @ W.T
    S1 += np.float32(1.0)
    return S1


def evaluate_analogy(
    kv: Any,
    data: AnalogyData,
    restrict_vocab: int | None = 30000,
    case_insensitive: bool = True,
    batch_size: int = 512,
    keep_answers: bool = False,
) -> AnalogyResult:
    """3CosAdd and 3CosMul on ``a : b :: c : ?`` over the ``restrict_vocab`` top words.

    See the module docstring for the formulas.  Questions with a word outside the
    ``restrict_vocab`` most frequent words are unknown and count as wrong in
    ``accuracy_add``/``accuracy_mul``; ``accuracy_*_known`` exclude them.  The answer
    search excludes ``a``, ``b`` and ``c`` (all their spellings when case-insensitive).
    ``keep_answers=True`` also records the predicted word of every question.
    Work is batched: ``batch_size`` questions at a time, each batch needing two float32
    ``batch_size x restrict_vocab`` buffers.
    """
    validate_params(CONSTRAINTS, {"restrict_vocab": restrict_vocab, "batch_size": batch_size})
    keys, vectors = _keys_and_vectors(kv)
    limit = len(keys) if restrict_vocab is None else min(int(restrict_vocab), len(keys))
    keys = keys[:limit]
    table = _lookup(keys, case_insensitive)

    # Question words -> rows (representatives) of the restricted vocabulary, -1 if unknown.
    names = list(data.sections)
    quads, section_of = [], []
    for s, name in enumerate(names):
        for q in data.sections[name]:
            quads.append([table.get(_fold(w, case_insensitive), -1) for w in q])
            section_of.append(s)
    idx = np.asarray(quads, dtype=np.int64).reshape(-1, 4)
    section_of = np.asarray(section_of, dtype=np.int64)
    known = (idx >= 0).all(axis=1)
    ok_add = np.zeros(len(idx), dtype=bool)
    ok_mul = np.zeros(len(idx), dtype=bool)
    pred_add = np.full(len(idx), -1, dtype=np.int64)
    pred_mul = np.full(len(idx), -1, dtype=np.int64)

    known_rows = np.flatnonzero(known)
    if len(known_rows):
        W = _normalise(vectors[:limit])
        rep, order, counts, starts = _variant_groups(keys, table, case_insensitive)
        # Rows of cos(question word, candidate) + 1 for the distinct question words: for all
        # questions at once if that fits in _SIMS_BUDGET bytes, else batch by batch.
        words = np.unique(idx[known_rows, :3])
        shifted = None
        if len(words) * limit * 4 <= _SIMS_BUDGET:
            shifted = _shifted_cosines(W, words)
        # two (batch x candidates) float32 buffers, kept within the same memory budget
        bs = int(min(batch_size, len(known_rows), max(1, _SIMS_BUDGET // (8 * limit))))
        add = np.empty((bs, limit), dtype=np.float32)
        mul = np.empty((bs, limit), dtype=np.float32)
        tmp = np.empty(limit, dtype=np.float32)
        eps2 = np.float32(2 * COSMUL_EPSILON)
        for start in range(0, len(known_rows), bs):
            rows = known_rows[start : start + bs]
            m = len(rows)
            a, b, c, d = (idx[rows, k] for k in range(4))
            if shifted is not None:
                S1 = shifted
                ia, ib, ic = (np.searchsorted(words, x) for x in (a, b, c))
            else:
                batch_words, inv = np.unique(np.concatenate([a, b, c]), return_inverse=True)
                S1 = _shifted_cosines(W, batch_words)
                ia, ib, ic = inv[:m], inv[m : 2 * m], inv[2 * m :]
            # With s = cos + 1 (argmax is unchanged by the shift or by positive scaling):
            #   3CosAdd  cos_b - cos_a + cos_c              ~  s_b + s_c - s_a
            #   3CosMul  cos'_b cos'_c / (cos'_a + eps)     ~  s_b s_c / (s_a + 2 eps)
            # (cos' = s / 2).  Row by row: each row stays in cache, no big temporaries.
            for i in range(m):
                sa, sb, sc = S1[ia[i]], S1[ib[i]], S1[ic[i]]
                row_add, row_mul = add[i], mul[i]
                np.add(sb, sc, out=row_add)
                row_add -= sa
                np.multiply(sb, sc, out=row_mul)
                np.add(sa, eps2, out=tmp)
                row_mul /= tmp
            A, M = add[:m], mul[:m]
            for word in (a, b, c):
                qr, vc = _expand(word, order, counts, starts)
                A[qr, vc] = -np.inf
                M[qr, vc] = -np.inf
            pred_add[rows] = np.argmax(A, axis=1)
            pred_mul[rows] = np.argmax(M, axis=1)
            ok_add[rows] = rep[pred_add[rows]] == d
            ok_mul[rows] = rep[pred_mul[rows]] == d

    def summary(name: str, mask: np.ndarray) -> AnalogyResult:
        return AnalogyResult(
            name=name,
            path=data.path,
            n=int(mask.sum()),
            n_known=int((known & mask).sum()),
            correct_add=int((ok_add & mask).sum()),
            correct_mul=int((ok_mul & mask).sum()),
            restrict_vocab=limit,
        )

    result = summary(data.name, np.ones(len(idx), dtype=bool))
    if len(names) > 1:
        result.sections = {name: summary(name, section_of == s) for s, name in enumerate(names)}
    if any(name.startswith("gram") for name in names):
        syntactic = np.isin(section_of, [s for s, name in enumerate(names) if name.startswith("gram")])
        result.groups = {"semantic": summary("semantic", ~syntactic), "syntactic": summary("syntactic", syntactic)}
    if keep_answers:
        result.answers_add = [keys[i] if i >= 0 else None for i in pred_add.tolist()]
        result.answers_mul = [keys[i] if i >= 0 else None for i in pred_mul.tolist()]
    return result


# --------------------------------------------------------------------------- entry point


def evaluate(
    kv: Any,
    benchmarks: Iterable[PathLike] | PathLike | None = None,
    restrict_vocab: int | None = 30000,
    case_insensitive: bool = True,
    batch_size: int = 512,
) -> dict[str, Result]:
    """Evaluate word vectors on benchmarks; ``{name: SimilarityResult | AnalogyResult}``.

    ``kv``: gensim KeyedVectors (rows in descending frequency) or a Word2Vec model.
    ``benchmarks``: names from :data:`BENCHMARKS` and/or file paths; ``None`` means all of
    :func:`available_benchmarks`.  ``restrict_vocab`` bounds the analogy answer search
    (similarity uses the whole vocabulary).  Results keep the order given; a path is keyed
    by its file stem (by its full path if that stem is already taken).

    Examples
    --------
    Vectors of Lee's small news corpus on gensim's copies of WordSim-353 and the Google
    analogies (few of whose words it has):

    >>> from gensim.test.utils import datapath
    >>> from pmiembed import PMIEmbedding
    >>> from pmiembed.evaluate import evaluate
    >>> kv = PMIEmbedding(dim=50, min_count=3).fit(datapath("lee_background.cor")).wv
    >>> results = evaluate(kv, [datapath("wordsim353.tsv"), datapath("questions-words.txt")])
    >>> list(results)
    ['wordsim353', 'questions-words']
    >>> ws = results["wordsim353"]
    >>> ws.n, ws.n_known, round(ws.score, 2)  # Spearman's rho on the pairs it knows
    (353, 102, 0.24)
    >>> google = results["questions-words"]
    >>> google.n_known, google.correct_add, google.correct_mul  # 3CosAdd, 3CosMul
    (395, 7, 4)
    """
    if benchmarks is None:
        specs: list[PathLike] = list(available_benchmarks())
    elif isinstance(benchmarks, (str, os.PathLike)):
        specs = [benchmarks]
    else:
        specs = list(benchmarks)
    results: dict[str, Result] = {}
    for spec in specs:
        data = load_benchmark(spec, lowercase=case_insensitive)
        key = data.name if data.name not in results else str(data.path)
        if isinstance(data, SimilarityData):
            results[key] = evaluate_similarity(kv, data, case_insensitive=case_insensitive)
        else:
            results[key] = evaluate_analogy(
                kv, data, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive, batch_size=batch_size
            )
    return results


def _num(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _analogy_dict(r: AnalogyResult) -> dict[str, Any]:
    return {
        "kind": "analogy",
        "3cosadd": r.accuracy_add,
        "3cosmul": r.accuracy_mul,
        "coverage": r.coverage,
        "3cosadd_known": _num(r.accuracy_add_known),
        "3cosmul_known": _num(r.accuracy_mul_known),
        "n": r.n,
        "n_known": r.n_known,
        "correct_3cosadd": r.correct_add,
        "correct_3cosmul": r.correct_mul,
    }


def results_to_dict(results: Mapping[str, Result]) -> dict[str, dict[str, Any]]:
    """Plain JSON-ready dict (NaN becomes ``None``)::

        {"ws353": {"kind": "similarity", "score": rho, "coverage": .., "n": .., "n_known": .., "pearson": ..},
         "google": {"kind": "analogy", "3cosadd": .., "3cosmul": .., "coverage": ..,
                    "3cosadd_known": .., "3cosmul_known": .., "n": .., "n_known": ..,
                    "correct_3cosadd": .., "correct_3cosmul": .., "restrict_vocab": ..,
                    "sections": {"semantic": {...}, "syntactic": {...}, "capital-common-countries": {...}, ...}}}

    Accuracies are over all questions; ``*_known`` over known ones.  ``sections`` (only
    for files with several sections) lists the groups first, then the file's sections.
    """
    out: dict[str, dict[str, Any]] = {}
    for key, r in results.items():
        if isinstance(r, SimilarityResult):
            out[key] = {
                "kind": "similarity",
                "score": _num(r.score),
                "coverage": r.coverage,
                "n": r.n,
                "n_known": r.n_known,
                "pearson": _num(r.pearson),
            }
        else:
            entry = _analogy_dict(r)
            entry["restrict_vocab"] = r.restrict_vocab
            if r.sections or r.groups:
                entry["sections"] = {
                    name: _analogy_dict(s) for name, s in list(r.groups.items()) + list(r.sections.items())
                }
            out[key] = entry
    return out


def format_results(results: Mapping[str, Result], sections: bool = False) -> str:
    """A plain-text table: one line per benchmark with its metric (Spearman rho, or
    3CosAdd / 3CosMul accuracy over all questions, in that order), score, coverage and
    size; ``sections=True`` adds the analogy groups and sections."""
    width = max([26] + [len(k) for k in results]
                + [len(s) + 2 for r in results.values() if sections
                   for s in list(getattr(r, "groups", {})) + list(getattr(r, "sections", {}))])
    lines = [f"{'benchmark':<{width}} {'metric':<17} {'score':>15} {'coverage':>9} {'n':>7}"]

    def fmt(x: float) -> str:
        return "   nan" if x is None or math.isnan(x) else f"{x:6.3f}"

    for key, r in results.items():
        if isinstance(r, SimilarityResult):
            lines.append(f"{key:<{width}} {'Spearman rho':<17} {fmt(r.score):>15} {r.coverage:9.3f} {r.n:7d}")
        else:
            both = fmt(r.accuracy_add) + " / " + fmt(r.accuracy_mul)
            lines.append(f"{key:<{width}} {'3CosAdd / 3CosMul':<17} {both:>15} {r.coverage:9.3f} {r.n:7d}")
            if sections:
                for name, s in list(r.groups.items()) + list(r.sections.items()):
                    both = fmt(s.accuracy_add) + " / " + fmt(s.accuracy_mul)
                    lines.append(f"  {name:<{width - 2}} {'3CosAdd / 3CosMul':<17} {both:>15} {s.coverage:9.3f} "
                                 f"{s.n:7d}")
    return "\n".join(lines)
