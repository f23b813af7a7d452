"""Why two words are similar: the contexts behind the count model's vectors.

Every dimension of a PPMI+SVD vector is a mix of observable contexts, and the PPMI
matrix ``P`` that was factorised says which.  With ``p_w`` the PPMI row of word ``w``
(its contexts ``c`` and their ``PPMI(w, c)``):

* **contexts** of ``w``: the entries of ``p_w`` by decreasing PPMI, each with its
  (weighted) co-occurrence count ``#(w, c)`` and its PMI.
* **explain** ``w1, w2``: the cosine of the two PPMI rows splits over the contexts,

      cos(p1, p2) = sum_c  p1[c] p2[c] / (|p1| |p2|),

  so each shared context ``c`` contributes ``p1[c] p2[c] / (|p1| |p2|)``; its *share*
  is that term over the cosine.  Set beside the cosine of the two word vectors, it
  shows how much of the similarity the SVD kept.  The strongest contexts of one word
  that the other never has (``p2[c] = 0``) say where they differ.
* **analogy** ``a - b + c -> d``: with unit rows ``q_w = p_w / |p_w|``, the offsets
  ``q_d - q_c`` and ``q_a - q_b`` are aligned by ``sum_x (q_d[x] - q_c[x]) (q_a[x] - q_b[x])``;
  the contexts ``x`` with the largest terms are the ones that most support ``d``
  (e.g. for king - man + woman -> queen: contexts that queen has more than woman
  just as king has more than man, or less just as king has less).

The counts come back from the PPMI entries and the marginals kept with them
(:class:`pmiembed.pmi.PMIMarginals`): with ``log #'(w)`` and ``alpha log #'(c)`` the logs of the
(subsampling-weighted) row and smoothed column sums as in :mod:`pmiembed.pmi`, and
``C = log sum_c #'(c)^alpha - log k``,

    #(w, c) = exp(SPPMI(w, c) + log #'(w) + alpha log #'(c) - C) / scale

(exact up to float32 rounding of the PPMI value; ``scale`` is the integer scaling of
the window weights, :class:`pmiembed.cooccur.Cooccurrence`).  Entries whose shifted PMI
is not positive were dropped by PPMI and are not stored: they are never a word's top
contexts and contribute nothing to the cosines above.

A model folder keeps all of it in ``ppmi.npz`` (CSR arrays and marginals).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ._validation import Integral, Interval, Param, check_param
from .errors import VectorsError, WordError
from .pmi import PPMI_FILE, PMIMarginals, load_ppmi, save_ppmi  # noqa: F401 (PPMI_FILE, save_ppmi: re-exported)

#: what the explanations' parameters accept (see :mod:`pmiembed._validation`)
CONSTRAINTS = {
    "min_count": Param((Interval(Integral, 1, None), None), "a positive integer (1 lists every context) or None"),
    "n": Param((Interval(Integral, 1, None), None), "a positive integer"),
}
#: why a word has the zero vector (it then has no neighbours): the SVD places a word by its
#: PPMI entries in the columns of the words it factorises (the core), and this word has none
#: there, though it may have contexts among the rarer words (which ``contexts`` lists)
NO_VECTOR = ("has no vector: its PPMI row has no entry among the words the SVD factorised, though it may have "
             "rarer contexts")
#: Without ``min_count``, listed contexts are words seen at least once per this many
#: tokens of the corpus (86 times in 17.3M tokens): the largest PPMI values belong to
#: rare contexts met a few times (``log #(w, c) D / (#(w) #(c))`` is largest for small
#: ``#(c)``), names and typos that tell a reader little; they still count in every sum.
AUTO_MIN_COUNT_TOKENS = 200_000


class PPMI:
    """The PPMI rows of a vocabulary, with what recovers their counts.

    ``matrix``: CSR (S)PPMI matrix, rows and columns in vocabulary order; ``marginals``:
    :class:`PMIMarginals`; ``vocab``: the :class:`pmiembed.vocab.Vocabulary`."""

    def __init__(self, matrix: sp.csr_matrix, marginals: PMIMarginals, vocab):
        self.matrix = matrix.tocsr()
        if not self.matrix.has_sorted_indices:
            self.matrix.sort_indices()
        self.marginals = marginals
        self.vocab = vocab
        self.words = list(vocab.words)
        self.frequency = np.asarray(vocab.counts)
        if self.matrix.shape != (len(self.words), len(self.words)):
            raise VectorsError(f"PPMI matrix of shape {self.matrix.shape} does not match the {len(self.words):,} "
                               "words of the vocabulary; re-train the model")
        self.index = {w: i for i, w in enumerate(self.words)}
        sq = np.asarray(self.matrix.multiply(self.matrix).sum(axis=1, dtype=np.float64)).ravel()
        self.norms = np.sqrt(sq)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> "PPMI":
        """Read ``ppmi.npz`` and ``vocab.tsv`` of a model folder, checked against its
        manifest first (:func:`pmiembed.vectors.read_manifest`: a folder without one, or
        with an edited or damaged file, is refused)."""
        from .vectors import MODEL_FORMAT, VOCAB_FILE, read_manifest
        from .vocab import Vocabulary

        folder = Path(folder)
        if not os.path.lexists(folder):
            raise VectorsError(f"{folder}: no such model folder; check the `vectors` path")
        if not folder.is_dir():
            raise VectorsError(f"{folder}: explanations need a model folder written by 'pmiembed train' "
                               "(a vectors file has no PPMI matrix); give that folder as `vectors`")
        path = folder / PPMI_FILE
        meta = read_manifest(folder, files=(PPMI_FILE, VOCAB_FILE))
        if meta.get("format") != MODEL_FORMAT:
            raise VectorsError(f"{folder}: holds word vectors only (no PPMI matrix); contexts and explanations need "
                               "a model folder written by 'pmiembed train'")
        if not path.is_file():
            raise VectorsError(f"{folder}: no {PPMI_FILE} (the PPMI matrix explanations read); re-train and "
                               "save with `save_pmi=True`")
        matrix, marginals = load_ppmi(path)
        return cls(matrix, marginals, Vocabulary.load(folder / "vocab.tsv"))

    def __len__(self) -> int:
        return len(self.words)

    def row_of(self, word: str) -> int:
        i = self.index.get(word)
        if i is None:
            hint = ""
            if word.lower() != word and word.lower() in self.index:
                hint = f" (did you mean {word.lower()!r}?)"
            raise WordError(f"word {word!r} is not in the vocabulary of {len(self):,} words{hint}; try another word")
        return i

    def min_count(self, min_count: int | None) -> int:
        """The smallest corpus count of a context that is listed: ``min_count``, or
        without it one per :data:`AUTO_MIN_COUNT_TOKENS` tokens of the corpus (at least 1)."""
        if min_count is None:
            return max(1, round(self.vocab.total / AUTO_MIN_COUNT_TOKENS))
        check_param("min_count", min_count, CONSTRAINTS["min_count"])
        return int(min_count)

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Columns and (S)PPMI values of row ``i`` (columns ascending)."""
        a, b = self.matrix.indptr[i], self.matrix.indptr[i + 1]
        return self.matrix.indices[a:b], self.matrix.data[a:b].astype(np.float64)

    def context(self, row: int, cols: np.ndarray, values: np.ndarray) -> list["Context"]:
        counts = self.marginals.counts(row, cols, values)
        shift = math.log(self.marginals.neg)
        return [Context(self.words[c], float(v), float(v) + shift, float(n)) for c, v, n in zip(cols, values, counts)]


def _top(values: np.ndarray, cols: np.ndarray, n: int | None) -> np.ndarray:
    """Positions of the ``n`` largest ``values`` (ties: the lower column, i.e. the more
    frequent context, first)."""
    order = np.lexsort((cols, -values))
    return order if n is None else order[:n]


def _check_n(n) -> int | None:
    if n is None:
        return None
    check_param("n", n, CONSTRAINTS["n"])
    return int(n)


# ------------------------------------------------------------------ results


def _table(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def fmt(cells):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align)).rstrip()

    return [fmt(header)] + [fmt(r) for r in rows]


def _seen(min_count: int) -> str:
    return "" if min_count <= 1 else f" among context words seen at least {min_count:,} times (min_count)"


def _count(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


@dataclass(repr=False)
class Context:
    """One context of a word: its (shifted) PPMI, its PMI and the weighted
    co-occurrence count ``#(w, c)`` (window weights applied)."""

    word: str
    ppmi: float
    pmi: float
    count: float

    def __repr__(self) -> str:
        return f"Context({self.word!r}, ppmi={self.ppmi:.3f}, pmi={self.pmi:.3f}, count={self.count:.4g})"


@dataclass(repr=False)
class Contexts:
    """A word's strongest contexts by PPMI (``n_contexts``: how many it has in all)."""

    word: str
    n_contexts: int
    contexts: list[Context] = field(default_factory=list)
    min_count: int = 1

    def __iter__(self):
        return iter(self.contexts)

    def __len__(self) -> int:
        return len(self.contexts)

    def __str__(self) -> str:
        lines = [f"top {len(self.contexts)} of the {self.n_contexts:,} contexts of {self.word!r} by PPMI"
                 + _seen(self.min_count) + " (count: weighted co-occurrences)"]
        lines += _table(["context", "PPMI", "PMI", "count"],
                        [[c.word, f"{c.ppmi:.3f}", f"{c.pmi:.3f}", _count(c.count)] for c in self.contexts], "lrrr")
        return "\n".join(lines)

    __repr__ = __str__


@dataclass(repr=False)
class SharedContext:
    """A context both words have: their PPMI values, its term ``p1 p2 / (|p1| |p2|)`` of
    the PPMI cosine and its share of that cosine."""

    word: str
    ppmi1: float
    ppmi2: float
    contribution: float
    share: float

    def __repr__(self) -> str:
        return (f"SharedContext({self.word!r}, ppmi1={self.ppmi1:.3f}, ppmi2={self.ppmi2:.3f}, "
                f"contribution={self.contribution:.4f}, share={self.share:.1%})")


@dataclass(repr=False)
class Explanation:
    """Why ``word1`` and ``word2`` are similar (module docstring): the cosine of their
    PPMI rows, the cosine of their vectors (None without vectors), the shared contexts
    by contribution, and each word's strongest contexts the other lacks."""

    word1: str
    word2: str
    ppmi_cosine: float
    vector_cosine: float | None
    n_shared: int
    shared: list[SharedContext]
    only1: list[Context]
    only2: list[Context]
    min_count: int = 1
    #: the words without a vector (all zeros), for which the vectors' cosine is undefined
    no_vector: tuple = ()

    def __str__(self) -> str:
        vec = "n/a" if self.vector_cosine is None else f"{self.vector_cosine:.4f}"
        if self.no_vector:
            vec += f" ({' and '.join(map(repr, self.no_vector))} {NO_VECTOR})"
        lines = [f"{self.word1!r} and {self.word2!r}: PPMI cosine {self.ppmi_cosine:.4f}, vector cosine {vec}, "
                 f"{self.n_shared:,} shared contexts"]
        shown = sum(s.share for s in self.shared)
        lines.append(f"shared contexts{_seen(self.min_count)} by contribution to the PPMI cosine "
                     f"(these {len(self.shared)}: {shown:.1%} of it)")
        lines += ["  " + x for x in _table(
            ["context", f"PPMI {self.word1}", f"PPMI {self.word2}", "contribution", "share"],
            [[s.word, f"{s.ppmi1:.3f}", f"{s.ppmi2:.3f}", f"{s.contribution:.4f}", f"{s.share:.1%}"]
             for s in self.shared], "lrrrr")]
        for word, other, only in ((self.word1, self.word2, self.only1), (self.word2, self.word1, self.only2)):
            lines.append(f"strongest contexts{_seen(self.min_count)} of {word!r} that {other!r} lacks")
            lines += ["  " + x for x in _table(["context", "PPMI", "count"],
                                               [[c.word, f"{c.ppmi:.3f}", _count(c.count)] for c in only], "lrr")]
        return "\n".join(lines)

    __repr__ = __str__


@dataclass(repr=False)
class AnalogyContext:
    """A context's PPMI in ``a``, ``b``, ``c``, ``d`` and its term
    ``(q_d - q_c)(q_a - q_b)`` of the offsets' alignment (``q``: unit PPMI rows), with
    its share of the sum of the positive terms."""

    word: str
    ppmi_a: float
    ppmi_b: float
    ppmi_c: float
    ppmi_d: float
    support: float
    share: float

    def __repr__(self) -> str:
        return (f"AnalogyContext({self.word!r}, a={self.ppmi_a:.3f}, b={self.ppmi_b:.3f}, c={self.ppmi_c:.3f}, "
                f"d={self.ppmi_d:.3f}, support={self.support:.5f}, share={self.share:.1%})")


@dataclass(repr=False)
class AnalogyExplanation:
    """The contexts behind ``a - b + c -> d``: ``alignment`` is the cosine of the PPMI
    offsets ``q_d - q_c`` and ``q_a - q_b``; ``contexts`` the strongest supports."""

    a: str
    b: str
    c: str
    d: str
    alignment: float
    contexts: list[AnalogyContext]
    min_count: int = 1

    def __str__(self) -> str:
        lines = [f"{self.a} - {self.b} + {self.c} -> {self.d}: cosine of the PPMI offsets ({self.d} - {self.c}) and "
                 f"({self.a} - {self.b}) {self.alignment:.4f}",
                 f"contexts{_seen(self.min_count)} that most support {self.d!r} (+: {self.d} has it more than "
                 f"{self.c} as {self.a} more "
                 f"than {self.b}; -: less, as {self.a} less than {self.b})"]
        lines += ["  " + x for x in _table(
            ["context", "", f"PPMI {self.a}", f"PPMI {self.b}", f"PPMI {self.c}", f"PPMI {self.d}", "share"],
            [[x.word, "+" if x.ppmi_a > x.ppmi_b else "-", f"{x.ppmi_a:.2f}", f"{x.ppmi_b:.2f}", f"{x.ppmi_c:.2f}",
              f"{x.ppmi_d:.2f}", f"{x.share:.1%}"] for x in self.contexts], "llrrrrr")]
        return "\n".join(lines)

    __repr__ = __str__


# ------------------------------------------------------------------ queries


def contexts(ppmi: PPMI, word: str, n: int | None = 10, min_count: int | None = None) -> Contexts:
    """The ``n`` contexts of ``word`` with the largest PPMI (all with ``n=None``) among
    the contexts seen at least ``min_count`` times in the corpus (see
    :data:`AUTO_MIN_COUNT_TOKENS` for the default; 1: every context)."""
    n = _check_n(n)
    floor = ppmi.min_count(min_count)
    i = ppmi.row_of(word)
    cols, vals = ppmi.row(i)
    listed = ppmi.frequency[cols] >= floor
    top = _top(vals[listed], cols[listed], n)
    return Contexts(word, len(cols), ppmi.context(i, cols[listed][top], vals[listed][top]), floor)


def _vector_cosine(vectors, w1: str, w2: str) -> float | None:
    """The cosine of the two words' vectors; None without vectors, or when either word
    has the zero vector (no direction: the cosine is undefined)."""
    if vectors is None or w1 not in vectors.key_to_index or w2 not in vectors.key_to_index:
        return None
    u, v = vectors[w1].astype(np.float64), vectors[w2].astype(np.float64)
    denom = np.linalg.norm(u) * np.linalg.norm(v)
    return float(u @ v / denom) if denom > 0 else None


def _without_vector(vectors, words) -> tuple:
    if vectors is None:
        return ()
    return tuple(w for w in words if w in vectors.key_to_index and not vectors[w].any())


def explain(ppmi: PPMI, word1: str, word2: str, n: int | None = 10, vectors=None,
            min_count: int | None = None) -> Explanation:
    """Why ``word1`` and ``word2`` are similar (module docstring); ``vectors``
    (gensim KeyedVectors) adds the vectors' cosine.  The cosine and shares are over
    every context; the lists show those seen at least ``min_count`` times (as in
    :func:`contexts`)."""
    n = _check_n(n)
    floor = ppmi.min_count(min_count)
    if word1 == word2:
        raise WordError(f"word {word1!r} is given twice; give two distinct words")
    i, j = ppmi.row_of(word1), ppmi.row_of(word2)
    c1, v1 = ppmi.row(i)
    c2, v2 = ppmi.row(j)
    shared, k1, k2 = np.intersect1d(c1, c2, assume_unique=True, return_indices=True)
    denom = ppmi.norms[i] * ppmi.norms[j]
    terms = v1[k1] * v2[k2] / denom if denom > 0 else np.zeros(len(shared))
    cosine = float(terms.sum())
    listed = np.flatnonzero(ppmi.frequency[shared] >= floor)
    top = listed[_top(terms[listed], shared[listed], n)]
    items = [SharedContext(ppmi.words[shared[t]], float(v1[k1[t]]), float(v2[k2[t]]), float(terms[t]),
                           float(terms[t] / cosine) if cosine > 0 else 0.0) for t in top]

    def only(cols, vals, row, other_cols):
        mask = ~np.isin(cols, other_cols, assume_unique=True) & (ppmi.frequency[cols] >= floor)
        cols, vals = cols[mask], vals[mask]
        t = _top(vals, cols, n)
        return ppmi.context(row, cols[t], vals[t])

    return Explanation(word1, word2, cosine, _vector_cosine(vectors, word1, word2), len(shared), items,
                       only(c1, v1, i, c2), only(c2, v2, j, c1), floor, _without_vector(vectors, (word1, word2)))


def explain_analogy(ppmi: PPMI, a: str, b: str, c: str, d: str, n: int | None = 10,
                    min_count: int | None = None) -> AnalogyExplanation:
    """The contexts that most support ``d`` as the answer to ``a - b + c`` (module
    docstring), among those seen at least ``min_count`` times (as in :func:`contexts`);
    shares are of the positive terms over every context."""
    n = _check_n(n)
    floor = ppmi.min_count(min_count)
    words = [a, b, c, d]
    for k, w in enumerate(words):
        if w in words[:k]:
            raise WordError(f"word {w!r} is given twice; give distinct words")
    rows = [ppmi.row_of(w) for w in words]
    parts = [ppmi.row(r) for r in rows]
    cols = np.unique(np.concatenate([p[0] for p in parts]))
    dense = np.zeros((4, len(cols)))
    for k, (pc, pv) in enumerate(parts):
        dense[k, np.searchsorted(cols, pc)] = pv
    norms = ppmi.norms[rows]
    unit = dense / np.where(norms > 0, norms, 1.0)[:, None]
    left, right = unit[3] - unit[2], unit[0] - unit[1]
    support = left * right
    norm = np.linalg.norm(left) * np.linalg.norm(right)
    alignment = float(support.sum() / norm) if norm > 0 else 0.0
    positive = support[support > 0].sum()
    listed = np.flatnonzero((support > 0) & (ppmi.frequency[cols] >= floor))
    top = listed[_top(support[listed], cols[listed], n)]
    items = [AnalogyContext(ppmi.words[cols[t]], *(float(x) for x in dense[:, t]), float(support[t]),
                            float(support[t] / positive)) for t in top]
    return AnalogyExplanation(a, b, c, d, alignment, items, floor)
