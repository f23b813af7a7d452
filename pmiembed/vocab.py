"""Stage 2: tokens -> vocabulary.

A :class:`Vocabulary` is the list of kept words with their corpus counts, in a
deterministic order: count descending, ties broken by the word (code point order).
Index ``i`` is the word's row and column in every later matrix, and "the N most
frequent words" is simply the first N.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._validation import Integral, Interval, Param, Real, check_param, validate_params
from .defaults import DEFAULTS
from .errors import CorpusError, VectorsError
from .io import atomic_path

VOCAB_FORMAT = "pmiembed-vocab 1"

#: what the vocabulary's parameters accept (see :mod:`pmiembed._validation`)
CONSTRAINTS = {
    "min_count": [Interval(Integral, 1, None)],
    "max_vocab": [Interval(Integral, 1, None), None],
}


@dataclass(frozen=True)
class Vocabulary:
    """Words and their counts, most frequent first.

    Attributes
    ----------
    words : list of str
    counts : int64 array, same length
    total : int, tokens in the corpus the counts came from (including dropped words)
    """

    words: list
    counts: np.ndarray
    total: int

    def __post_init__(self) -> None:
        if len(self.words) != len(self.counts):
            raise ValueError("words and counts differ in length")

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    @property
    def index(self) -> dict[str, int]:
        """word -> row (built once, cached)."""
        cached = self.__dict__.get("_index")
        if cached is None:
            cached = {w: i for i, w in enumerate(self.words)}
            object.__setattr__(self, "_index", cached)
        return cached

    @classmethod
    def from_counts(cls, types, counts, *, min_count: int = DEFAULTS["min_count"],
                    max_vocab: int | None = DEFAULTS["max_vocab"],
                    total: int | None = None) -> "Vocabulary":
        """Keep the types with ``count >= min_count`` (and at most the ``max_vocab`` most
        frequent), ordered by count descending, then by word."""
        validate_params(CONSTRAINTS, {"min_count": min_count, "max_vocab": max_vocab})
        counts = np.asarray(counts, dtype=np.int64)
        total = int(counts.sum()) if total is None else int(total)
        keep = np.flatnonzero(counts >= min_count)
        if len(keep) == 0:
            most = int(counts.max()) if len(counts) else 0
            raise CorpusError(
                f"vocabulary is empty after `min_count={min_count}` (the most frequent word occurs "
                f"{most} times); lower `min_count` or give a larger corpus"
            )
        words = [types[i] for i in keep]
        # count descending, then word ascending: sort by word first, then stable by count
        by_word = np.argsort(np.array(words, dtype=object), kind="stable")
        order = by_word[np.argsort(-counts[keep][by_word], kind="stable")]
        if max_vocab is not None:
            order = order[:max_vocab]
        return cls([words[i] for i in order], counts[keep][order], total)

    def id_map(self, types) -> np.ndarray:
        """int32 array mapping each entry of ``types`` to its row here, or -1."""
        index = self.index
        return np.fromiter((index.get(t, -1) for t in types), dtype=np.int32, count=len(types))

    def keep_probability(self, sample: float) -> np.ndarray:
        """word2vec's subsampling: a token of word w is kept with probability
        ``min(1, (sqrt(f/t) + 1) * t/f)`` where ``f = count(w) / N`` (N = tokens of
        in-vocabulary words) and ``t = sample`` (Mikolov et al. 2013; the formula of the
        word2vec C code and gensim)."""
        check_param("subsample", sample, Param((Interval(Real, 0, None, "neither"),), "> 0 (typical: 1e-5 to 1e-3)"))
        f = self.counts / float(self.counts.sum())
        ratio = sample / f
        return np.minimum(1.0, np.sqrt(ratio) + ratio)

    # -------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike) -> None:
        """Write ``word<TAB>count`` lines after a header line with the format and total."""
        with atomic_path(path) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="\n") as f:
                f.write(f"# {VOCAB_FORMAT} total={self.total}\n")
                for w, c in zip(self.words, self.counts.tolist()):
                    f.write(f"{w}\t{c}\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Vocabulary":
        path = Path(path)
        if not path.is_file():
            raise VectorsError(f"{path}: no such vocabulary file")
        words, counts = [], []
        with open(path, encoding="utf-8") as f:
            header = f.readline().rstrip("\n")
            if not header.startswith(f"# {VOCAB_FORMAT}"):
                raise VectorsError(f"{path}: not a pmiembed vocabulary file (bad header); re-create it")
            try:
                total = int(header.split("total=")[1])
                for lineno, line in enumerate(f, start=2):
                    w, c = line.rstrip("\n").rsplit("\t", 1)
                    words.append(w)
                    counts.append(int(c))
            except (ValueError, IndexError):
                raise VectorsError(f"{path}: malformed vocabulary file near line {lineno}; re-create it") from None
        return cls(words, np.array(counts, dtype=np.int64), total)


def merged_vocabulary(old: Vocabulary, rare: Vocabulary | None, types, counts, n_tokens: int, min_count: int,
                      max_vocab) -> tuple[Vocabulary, Vocabulary]:
    """The old words with the new text's counts added, plus the words (of the old
    text's rare words, ``rare``, and the new text) whose summed count reaches
    ``min_count``, ordered by count descending, then word; and the words left out
    with their summed counts (the next update's ``rare``)."""
    summed: dict[str, int] = dict(zip(old.words, old.counts.tolist()))
    n_old = len(summed)
    if rare is not None:
        for w, c in zip(rare.words, rare.counts.tolist()):
            summed[w] = summed.get(w, 0) + c
    for t, c in zip(types, np.asarray(counts).tolist()):
        summed[t] = summed.get(t, 0) + c
    words = list(summed)
    all_counts = np.fromiter(summed.values(), dtype=np.int64, count=len(words))
    # old words stay (their counts only grow) unless max_vocab cuts them
    eligible = all_counts >= min_count
    eligible[:n_old] = True
    total = int(old.total) + int(n_tokens)
    kept_idx = np.flatnonzero(eligible)
    vocab = Vocabulary.from_counts([words[i] for i in kept_idx], all_counts[kept_idx], min_count=1,
                                   max_vocab=max_vocab, total=total)
    index = vocab.index
    left = [i for i, w in enumerate(words) if w not in index]
    return vocab, Vocabulary([words[i] for i in left], all_counts[left], total)
