"""Collocations and phrases: adjacent word pairs scored by PMI, NPMI and log-likelihood.

A bigram ``(a, b)`` is a token ``a`` directly followed by ``b`` inside one document (a
window of 1 with direction).  With ``N`` the corpus tokens (every token, known or not),
``c(a)``, ``c(b)`` the word counts and ``c(ab)`` the bigram count::

    PMI(a, b)  = log( p(ab) / (p(a) p(b)) ),   p(x) = c(x) / N          (natural log)
    NPMI(a, b) = PMI(a, b) / -log p(ab)                       in [-1, 1] (Bouma 2009)
    LLR(a, b)  = 2 sum_ij O_ij log(O_ij / E_ij)                          (Dunning 1993)

where the LLR's 2 x 2 table is ``O_11 = c(ab)``, ``O_12 = c(a) - c(ab)``,
``O_21 = c(b) - c(ab)``, ``O_22 = N - c(a) - c(b) + c(ab)`` and ``E_ij`` its row
total times its column total over ``N``.  NPMI is 1 for words that only occur together
and 0 for independent ones.  These are the probabilities gensim's ``Phrases`` scores
with (``scoring="npmi"``: every probability over the corpus's tokens), so the phrases
found here are gensim's at the same ``min_count`` and ``threshold``.

Phrases (Mikolov et al. 2013's phrase step, as gensim's ``Phrases``): a bigram seen at
least ``min_count`` times whose NPMI is above ``threshold`` is a phrase.  A document is
rewritten left to right: when the current token and the next form a phrase they become
one token ``a_b`` and the scan continues after them, else the current token stays.
``passes`` repeats counting and joining on the joined text, so the second pass can join
``new_york`` and ``times`` (gensim: ``Phrases`` trained on the output of another).

Counting is exact and runs on the integer token ids of :mod:`pmiembed.corpus`: the
bigrams of words seen at least ``min_count`` times (a rarer word cannot be part of a
bigram seen ``min_count`` times) are packed into one int64 key each and counted by a
sort; joining is one compiled left-to-right pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import Integral, Interval, Param, Real, StrOptions, validate_params
from .corpus import TokenizedCorpus, _merge_equal_types, read_corpus
from .defaults import TOKENIZE
from .errors import ParameterError

MEASURES = ("npmi", "pmi", "llr")
DEFAULT_DELIMITER = "_"


#: what the phrase finder's parameters accept (see :mod:`pmiembed._validation`)
CONSTRAINTS = {
    "min_count": [Interval(Integral, 1, None)],
    "threshold": Param((Interval(Real, -1, 1), None), "an NPMI value in [-1, 1] (e.g. 0.5)"),
    "passes": [Interval(Integral, 1, None)],
    "measure": [StrOptions(MEASURES)],
    "n": [Interval(Integral, 1, None)],
}


def check_phrase_params(min_count, threshold=None, passes=1, measure="npmi", cli_prefix: str = "") -> None:
    """Check the phrase settings against :data:`CONSTRAINTS`; ``cli_prefix``: how the
    command line prefixes their names (``phrase_``: ``train --phrase-threshold``)."""
    validate_params(CONSTRAINTS, {"min_count": min_count, "threshold": threshold, "passes": passes,
                                  "measure": measure}, cli_prefix=cli_prefix)


@dataclass
class Bigrams:
    """Counted bigrams of a corpus: pair ``i`` is ``types[first[i]]`` followed by
    ``types[second[i]]``, seen ``count[i]`` times; ``type_counts`` are the corpus's
    word counts and ``n_tokens`` its tokens.  Only bigrams seen at least ``min_count``
    times are kept."""

    types: list
    type_counts: np.ndarray
    n_tokens: int
    first: np.ndarray
    second: np.ndarray
    count: np.ndarray
    min_count: int

    def __len__(self) -> int:
        return len(self.count)

    def scores(self) -> dict:
        """``{"count", "pmi", "npmi", "llr"}``: arrays over the bigrams (formulas in the
        module docstring)."""
        n = float(self.n_tokens)
        ca = self.type_counts[self.first].astype(np.float64)
        cb = self.type_counts[self.second].astype(np.float64)
        cab = self.count.astype(np.float64)
        # the same operations in the same order as gensim's npmi_scorer (same floats,
        # so the same pairs fall on either side of a threshold)
        pa, pb, pab = ca / n, cb / n, cab / n
        pmi = np.log(pab / (pa * pb))
        with np.errstate(divide="ignore", invalid="ignore"):
            npmi = pmi / -np.log(pab)
        npmi = np.where(pab >= 1.0, 1.0, npmi)  # a corpus of one repeated bigram
        return {"count": self.count, "pmi": pmi, "npmi": npmi, "llr": _llr(cab, ca, cb, n)}

    def top(self, n: int, measure: str = "npmi") -> list[tuple]:
        """The ``n`` best bigrams by ``measure``: ``(a, b, count, pmi, npmi, llr)``,
        ties broken by count (descending), then by the words."""
        check_phrase_params(self.min_count, measure=measure)
        if len(self) == 0:
            return []
        s = self.scores()
        words_a = np.array(self.types, dtype=object)[self.first]
        words_b = np.array(self.types, dtype=object)[self.second]
        key = s[measure]
        cand = np.arange(len(key))
        if n < len(key):
            # only the pairs at or above the n-th best value need the full ordering
            kth = -np.partition(-key, n - 1)[n - 1]
            cand = np.flatnonzero(key >= kth)
        order = sorted(cand.tolist(), key=lambda i: (-key[i], -int(s["count"][i]), words_a[i], words_b[i]))
        return [(words_a[i], words_b[i], int(s["count"][i]), float(s["pmi"][i]), float(s["npmi"][i]),
                 float(s["llr"][i])) for i in order[:n]]


def _llr(cab, ca, cb, n):
    """Dunning's G^2 of the 2 x 2 table (module docstring); ``0 log 0 = 0``."""
    from scipy.special import xlogy

    o11, o12, o21 = cab, ca - cab, cb - cab
    o22 = np.maximum(n - ca - cb + cab, 0.0)
    r1, r2 = o11 + o12, o21 + o22
    k1, k2 = o11 + o21, o12 + o22
    g = np.zeros_like(cab)
    for o, r, k in ((o11, r1, k1), (o12, r1, k2), (o21, r2, k1), (o22, r2, k2)):
        with np.errstate(divide="ignore", invalid="ignore"):
            e = r * k / n
            g += np.where(o > 0, xlogy(o, o / np.where(e > 0, e, 1.0)), 0.0)
    return 2.0 * g


def count_bigrams(corpus: TokenizedCorpus, min_count: int = 5) -> Bigrams:
    """Count the adjacent pairs of ``corpus`` (not across documents) seen at least
    ``min_count`` times (exact; see the module docstring)."""
    check_phrase_params(min_count)
    counts = np.asarray(corpus.counts)
    frequent = np.flatnonzero(counts >= min_count)
    rows = np.full(len(counts), -1, dtype=np.int64)
    rows[frequent] = np.arange(len(frequent))
    ids = corpus.ids
    empty = np.zeros(0, np.int64)
    if len(ids) < 2 or len(frequent) == 0:
        return Bigrams(corpus.types, counts, corpus.n_tokens, empty, empty, empty, min_count)
    from . import _phrase_kernels

    keys = _phrase_kernels.pair_keys(ids, rows, _doc_flags(corpus), len(frequent))
    keys.sort()
    uniq, cnt = _phrase_kernels.run_lengths(keys)
    keep = cnt >= min_count
    uniq, cnt = uniq[keep], cnt[keep]
    v = len(frequent)
    return Bigrams(corpus.types, counts, corpus.n_tokens, frequent[uniq // v], frequent[uniq % v], cnt, min_count)


def _doc_flags(corpus: TokenizedCorpus) -> np.ndarray:
    """``flags[i]`` is True where token ``i`` starts a document (no pair ends there)."""
    flags = np.zeros(corpus.n_tokens, dtype=np.bool_)
    starts = np.asarray(corpus.doc_starts, dtype=np.int64)
    flags[starts[(starts > 0) & (starts < corpus.n_tokens)]] = True
    if corpus.n_tokens:
        flags[0] = True
    return flags


def find_phrases(bigrams: Bigrams, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bigrams that are phrases (NPMI above ``threshold``): ``(first, second, npmi)``."""
    check_phrase_params(bigrams.min_count, threshold)
    npmi = bigrams.scores()["npmi"]
    hit = npmi > threshold
    return bigrams.first[hit], bigrams.second[hit], npmi[hit]


def join_phrases(corpus: TokenizedCorpus, first: np.ndarray, second: np.ndarray,
                 delimiter: str = DEFAULT_DELIMITER) -> TokenizedCorpus:
    """Rewrite ``corpus`` with the pairs ``(first[i], second[i])`` (type ids) joined into
    one token ``a<delimiter>b``, greedily left to right (module docstring).  Returns a new
    corpus; the joined tokens are new types (merged with an equal existing type)."""
    from . import _phrase_kernels

    n_types = len(corpus.types)
    first = np.asarray(first, dtype=np.int64)
    second = np.asarray(second, dtype=np.int64)
    pair_key = first * n_types + second
    order = np.argsort(pair_key, kind="stable")
    sorted_keys = pair_key[order]
    new_ids = (n_types + order).astype(np.int32)  # phrase i becomes type n_types + i
    if n_types + len(first) >= 2**31:
        raise ParameterError("too many types and phrases for int32 ids")
    flags = _doc_flags(corpus)
    out, out_flags = _phrase_kernels.join_pairs(corpus.ids, flags, sorted_keys, new_ids, n_types)
    types = list(corpus.types) + [f"{corpus.types[a]}{delimiter}{corpus.types[b]}" for a, b in zip(first, second)]
    counts = np.bincount(out, minlength=len(types)).astype(np.int64)
    out, types, counts = _merge_equal_types(out, types, counts)
    doc_starts = np.flatnonzero(out_flags).astype(np.int64)
    doc_starts = doc_starts[doc_starts > 0]
    return TokenizedCorpus(out, doc_starts, types, counts, corpus.n_replaced, corpus.n_bytes, list(corpus.sources))


class Phrases:
    """Phrase detection by NPMI, in the manner of gensim's ``Phrases(scoring="npmi")``.

    ``Phrases(corpus, min_count=5, threshold=0.5, passes=1)`` counts the corpus (paths,
    folders, token lists or a :class:`~pmiembed.corpus.TokenizedCorpus`) and finds the
    phrases of every pass.  ``phrases[tokens]`` joins the phrases of one token list
    (lowercased when the corpus' tokens were),
    ``phrases[documents]`` of an iterable of them (a generator, like gensim);
    :meth:`transform` joins a whole corpus on its integer ids and returns the joined
    :class:`~pmiembed.corpus.TokenizedCorpus` (what ``pmiembed train --phrases``
    trains on).  :meth:`export_phrases` gives ``{phrase: npmi}`` of the first pass,
    as gensim's ``export_phrases``; :attr:`phrases_` those of every pass.

    Attributes
    ----------
    phrases_ : list of dict, per pass ``{(a, b): npmi}`` (``a`` and ``b`` may be phrases
        of earlier passes)
    corpus_ : TokenizedCorpus, the joined corpus (with ``keep_corpus=True``)
    """

    def __init__(self, corpus=None, min_count: int = 5, threshold: float = 0.5, passes: int = 1,
                 delimiter: str = DEFAULT_DELIMITER, lowercase: bool | None = None, keep_corpus: bool = False,
                 tokenize: str = TOKENIZE):
        check_phrase_params(min_count, threshold, passes)
        if not isinstance(delimiter, str) or not delimiter or any(ch.isspace() for ch in delimiter):
            raise ParameterError(f"delimiter={delimiter!r} must be a non-empty string without whitespace")
        self.min_count = int(min_count)
        self.threshold = float(threshold)
        self.passes = int(passes)
        self.delimiter = delimiter
        self.lowercase = lowercase
        self.tokenize = tokenize
        self.phrases_: list[dict] = []
        self.corpus_ = None
        if corpus is not None:
            joined = self.fit_transform(corpus)
            if keep_corpus:
                self.corpus_ = joined

    def fit_transform(self, corpus) -> TokenizedCorpus:
        """Find the phrases of every pass on ``corpus`` and return it joined."""
        tokens = read_corpus(corpus, lowercase=self.lowercase, tokenize=self.tokenize)
        # what phrases[tokens] does to a token list: as the corpus' tokens were read
        self.lowercased_ = tokens.lowercased
        self.phrases_ = []
        for _ in range(self.passes):
            bigrams = count_bigrams(tokens, self.min_count)
            first, second, npmi = find_phrases(bigrams, self.threshold)
            types = tokens.types
            self.phrases_.append({(types[a], types[b]): float(s) for a, b, s in zip(first, second, npmi)})
            if len(first) == 0:
                break
            tokens = join_phrases(tokens, first, second, self.delimiter)
        return tokens

    def transform(self, corpus) -> TokenizedCorpus:
        """Join the learned phrases in ``corpus`` (any corpus :func:`read_corpus` reads)."""
        tokens = read_corpus(corpus, lowercase=self.lowercase, tokenize=self.tokenize)
        for found in self.phrases_:
            if not found:
                break
            index = {w: i for i, w in enumerate(tokens.types)}
            pairs = [(index[a], index[b]) for a, b in found if a in index and b in index]
            if pairs:
                first, second = (np.array(x, dtype=np.int64) for x in zip(*pairs))
                tokens = join_phrases(tokens, first, second, self.delimiter)
        return tokens

    def export_phrases(self) -> dict:
        """``{"a_b": npmi}`` of the first pass (gensim's ``export_phrases``)."""
        if not self.phrases_:
            return {}
        return {f"{a}{self.delimiter}{b}": s for (a, b), s in self.phrases_[0].items()}

    def _join(self, sentence: list) -> list:
        for found in self.phrases_:
            out, i, n = [], 0, len(sentence)
            while i < n:
                if i + 1 < n and (sentence[i], sentence[i + 1]) in found:
                    out.append(f"{sentence[i]}{self.delimiter}{sentence[i + 1]}")
                    i += 2
                else:
                    out.append(sentence[i])
                    i += 1
            sentence = out
        return sentence

    def __getitem__(self, sentence):
        """Joined tokens of one token list, or a generator over an iterable of them."""
        if isinstance(sentence, str):
            raise ParameterError("give a list of tokens (e.g. text.split()), not a string")
        if isinstance(sentence, (list, tuple)) and (not sentence or isinstance(sentence[0], str)):
            # token lists are tokens already: lowercased only as the corpus the phrases
            # came from was (read_corpus keeps the tokens of token lists as they are)
            lower = getattr(self, "lowercased_", None)
            if lower is None:
                lower = bool(self.lowercase)
            words = [w.lower() for w in sentence] if lower else list(sentence)
            return self._join(words)
        return (self[s] for s in sentence)

    def __len__(self) -> int:
        return sum(len(p) for p in self.phrases_)

    def __repr__(self) -> str:
        return (f"Phrases(min_count={self.min_count}, threshold={self.threshold}, passes={self.passes}, "
                f"phrases={[len(p) for p in self.phrases_]})")


def collocations(corpus, n: int = 50, min_count: int = 5, measure: str = "npmi", lowercase: bool | None = None,
                 tokenize: str = TOKENIZE):
    """The ``n`` best adjacent pairs of ``corpus`` by ``measure`` (see :meth:`Bigrams.top`)."""
    check_phrase_params(min_count, measure=measure)
    validate_params(CONSTRAINTS, {"n": n})
    tokens = read_corpus(corpus, lowercase=lowercase, tokenize=tokenize)
    return count_bigrams(tokens, min_count).top(n, measure)


def npmi(count_a: int, count_b: int, count_ab: int, n_tokens: int) -> float:
    """NPMI of one bigram (the module docstring's formula, for checking by hand)."""
    pa, pb, pab = count_a / n_tokens, count_b / n_tokens, count_ab / n_tokens
    return math.log(pab / (pa * pb)) / -math.log(pab)
