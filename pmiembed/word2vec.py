"""The word2vec baseline: gensim skip-gram with negative sampling, matched defaults.

:func:`train_word2vec` trains gensim's ``Word2Vec`` (``sg=1``, ``hs=0``) on a corpus
stream and returns its :class:`~gensim.models.KeyedVectors` (rows in descending corpus
frequency, gensim's order, which :func:`pmiembed.evaluate.evaluate` relies on for
``restrict_vocab``) together with a dict of run information (wall times, peak memory,
parameters, gensim version, corpus size).

Corpus files are read by :class:`ChunkedSentences`.  gensim's own readers do not fit
text8-style files (one ~100 MB line, no newlines): ``LineSentence``/``PathLineSentences``
read a whole line at once, so they would hold the entire corpus as one string and one
huge token list; ``Text8Corpus`` does stream in 8 KB chunks but it ignores line breaks,
so files with one sentence per line lose their sentence boundaries.  ``ChunkedSentences``
streams bytes in chunks and keeps ``LineSentence`` semantics: a line is a sentence,
tokens are split at whitespace, and long lines are cut into sentences of at most 10,000
tokens (gensim's ``MAX_WORDS_IN_BATCH``; gensim would silently truncate longer ones).
Files are opened by pmiembed's own reader (:func:`pmiembed.corpus.open_text_bytes`:
gzip, bzip2 or xz told by content, undecodable bytes replaced), so that the two models
of a comparison read the same bytes the same way.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence, Union

from pmiembed._validation import Integral, Interval, Param, Real, StrOptions, check_param, validate_params
from pmiembed.defaults import TOKENIZE, TOKENIZERS
from pmiembed.errors import CorpusError, ParameterError

__all__ = ["ChunkedSentences", "train_word2vec", "peak_rss_bytes", "MAX_SENTENCE_LENGTH"]

#: gensim's longest sentence (``gensim.models.word2vec.MAX_WORDS_IN_BATCH``).
MAX_SENTENCE_LENGTH = 10000

#: Longest run of non-whitespace bytes accepted in a corpus file (a "word" longer than this
#: means the file is not tokenised text).
MAX_TOKEN_BYTES = 1 << 20

_WHITESPACE = (b" ", b"\n", b"\t", b"\r", b"\x0b", b"\x0c")

#: what :class:`ChunkedSentences` accepts (see :mod:`pmiembed._validation`)
SENTENCE_CONSTRAINTS = {"max_sentence_length": [Interval(Integral, 1, None)],
                        "chunk_size": [Interval(Integral, 1, None)]}

PathLike = Union[str, "os.PathLike[str]"]


class ChunkedSentences:
    """Restartable iterable of sentences (lists of str) read from text files in chunks.

    ``paths``: one path or a sequence of paths (a directory stands for its non-hidden
    files in name order); plain text or gzip, bzip2 or xz compressed (told by content,
    as :func:`pmiembed.corpus.open_text_bytes` does).  Every line is a sentence; tokens are separated by whitespace; a
    line longer than ``max_sentence_length`` tokens is cut into consecutive sentences of
    exactly that length (the last one shorter), like gensim's ``LineSentence``.  The files
    are read ``chunk_size`` bytes at a time and split only at ASCII whitespace, so a
    text8-style file (one 100 MB line) is never held in memory as a whole.  Text is
    UTF-8; undecodable bytes are replaced by U+FFFD (as pmiembed's reader does).
    """

    def __init__(
        self,
        paths: PathLike | Sequence[PathLike],
        max_sentence_length: int = MAX_SENTENCE_LENGTH,
        chunk_size: int = 1 << 20,
    ):
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        validate_params(SENTENCE_CONSTRAINTS, {"max_sentence_length": max_sentence_length, "chunk_size": chunk_size})
        files: list[Path] = []
        for p in paths:
            path = Path(p).expanduser()
            if path.is_dir():
                inside = sorted(f for f in path.iterdir() if f.is_file() and not f.name.startswith("."))
                if not inside:
                    raise CorpusError(f"{path}: corpus directory has no files")
                files.extend(inside)
            elif path.is_file():
                files.append(path)
            else:
                raise CorpusError(f"{path}: corpus file not found; check the path")
        if not files:
            raise CorpusError("no corpus files given")
        self.paths = files
        self.max_sentence_length = int(max_sentence_length)
        self.chunk_size = int(chunk_size)

    def __repr__(self) -> str:
        names = ", ".join(str(p) for p in self.paths)
        return f"ChunkedSentences([{names}])"

    def __iter__(self) -> Iterator[list[str]]:
        for path in self.paths:
            yield from self._sentences(path)

    def _sentences(self, path: Path) -> Iterator[list[str]]:
        from .corpus import COMPRESSION_ERRORS, open_text_bytes, read_error

        maxlen = self.max_sentence_length
        sentence: list[str] = []
        rest = b""
        offset = 0  # bytes of the (decompressed) file consumed before `rest`
        try:
            fin = open_text_bytes(path)
        except OSError as exc:
            raise read_error(path, exc) from None
        with fin:
            while True:
                try:
                    chunk = fin.read(self.chunk_size)
                except COMPRESSION_ERRORS as exc:
                    raise read_error(path, exc) from None
                eof = not chunk
                buf = rest + chunk if rest else chunk
                cut = len(buf) if eof else max(buf.rfind(ws) for ws in _WHITESPACE) + 1
                if cut == 0 and len(buf) > MAX_TOKEN_BYTES:
                    raise CorpusError(
                        f"{path}: no whitespace in {len(buf):,} bytes after byte {offset:,}; "
                        "a corpus must be whitespace-separated text"
                    )
                complete, rest = buf[:cut], buf[cut:]
                if complete:
                    # undecodable bytes become U+FFFD, as pmiembed's reader makes them
                    text = complete.decode("utf-8", errors="replace")
                    offset += len(complete)
                    lines = text.split("\n")
                    last = len(lines) - 1
                    for i, line in enumerate(lines):
                        sentence.extend(line.split())
                        if len(sentence) >= maxlen:
                            full = len(sentence) - len(sentence) % maxlen
                            for j in range(0, full, maxlen):
                                yield sentence[j : j + maxlen]
                            sentence = sentence[full:]
                        if i < last and sentence:  # a newline ends the sentence
                            yield sentence
                            sentence = []
                if eof:
                    break
        if sentence:
            yield sentence


from .resources import peak_rss_bytes  # noqa: E402  (one definition, re-exported)


class _Progress:
    """Restartable wrapper that counts tokens into a tqdm bar while gensim iterates."""

    def __init__(self, corpus: Iterable[list[str]], bar: Any):
        self.corpus = corpus
        self.bar = bar

    def __iter__(self) -> Iterator[list[str]]:
        pending = 0
        for sentence in self.corpus:
            pending += len(sentence)
            if pending >= 100_000:
                self.bar.update(pending)
                pending = 0
            yield sentence
        if pending:
            self.bar.update(pending)


class TokenizedSentences:
    """Restartable iterable: the sentences of text files (a :class:`ChunkedSentences`)
    tokenised as :func:`pmiembed.corpus.read_corpus` tokenises them for pmiembed, so that
    both models of a comparison see the same tokens: ``tokenize`` ``"words"`` splits
    every whitespace token into its words (each distinct token split once), ``"nltk"``
    runs nltk's Treebank tokenizer on each sentence, ``"whitespace"`` keeps the tokens;
    ``lowercase`` (None: yes, unless ``"whitespace"``) lowercases them.  A sentence that
    splitting makes longer than :data:`MAX_SENTENCE_LENGTH` is cut into pieces of at most
    that many tokens (gensim would drop the rest)."""

    def __init__(self, sentences: "ChunkedSentences", tokenize: str = TOKENIZE, lowercase: bool | None = None):
        from .corpus import default_lowercase

        check_param("tokenize", tokenize, [StrOptions(set(TOKENIZERS))])
        self.sentences = sentences
        self.paths = sentences.paths
        self.tokenize = tokenize
        self.lowercase = default_lowercase(tokenize) if lowercase is None else bool(lowercase)

    def __iter__(self) -> Iterator[list[str]]:
        from .corpus import _treebank, split_words

        nltk_words = _treebank() if self.tokenize == "nltk" else None
        memo: dict[str, list[str]] = {}
        lower = self.lowercase
        for sentence in self.sentences:
            if self.tokenize == "words":
                out: list[str] = []
                for w in sentence:
                    words = memo.get(w)
                    if words is None:
                        words = memo[w] = [t.lower() for t in split_words(w)] if lower else split_words(w)
                    out.extend(words)
            elif nltk_words is not None:
                out = nltk_words(" ".join(sentence))
                if lower:
                    out = [w.lower() for w in out]
            else:
                out = [w.lower() for w in sentence] if lower else sentence
            for i in range(0, len(out), MAX_SENTENCE_LENGTH):
                yield out[i:i + MAX_SENTENCE_LENGTH]


def _as_corpus(corpus: Any) -> tuple[Iterable[list[str]], str]:
    """A restartable iterable of token lists, and a short description for ``info``."""
    if isinstance(corpus, (str, os.PathLike)):
        sentences = ChunkedSentences(corpus)
        return sentences, ", ".join(map(str, sentences.paths))
    if isinstance(corpus, (ChunkedSentences, TokenizedSentences)):
        return corpus, ", ".join(map(str, corpus.paths))
    if isinstance(corpus, (list, tuple)) and corpus and all(isinstance(p, (str, os.PathLike)) for p in corpus):
        sentences = ChunkedSentences(corpus)
        return sentences, ", ".join(map(str, sentences.paths))
    try:
        iterator = iter(corpus)
    except TypeError:
        raise ParameterError(
            f"corpus of type {type(corpus).__name__}: pass file paths or an iterable of token lists"
        ) from None
    if iterator is corpus:
        raise ParameterError(
            "corpus is a one-shot iterator (e.g. a generator); gensim reads the corpus epochs+1 times: "
            "pass a list or a restartable iterable"
        )
    return corpus, f"<{type(corpus).__name__}>"


#: what :func:`train_word2vec`'s parameters accept (see :mod:`pmiembed._validation`);
#: ``min_alpha`` is also checked against ``alpha``
CONSTRAINTS = {
    "dim": [Interval(Integral, 1, None)],
    "window": [Interval(Integral, 1, None)],
    "negative": [Interval(Integral, 1, None)],
    "epochs": [Interval(Integral, 1, None)],
    "min_count": [Interval(Integral, 1, None)],
    "workers": [Interval(Integral, 1, None), None],
    "seed": [Interval(Integral, 0, None)],
    "sample": Param((Interval(Real, 0, 1, "left"),), "a number in [0, 1) (0 disables sub-sampling)"),
    "alpha": [Interval(Real, 0, None, "neither")],
    "min_alpha": [Interval(Real, 0, None)],
}


def check_params(params: dict[str, Any], owner: str = "", cli_prefix: str = "") -> None:
    """Check :func:`train_word2vec`'s parameters (those ``params`` holds) against
    :data:`CONSTRAINTS` (``owner``, ``cli_prefix``: see
    :func:`pmiembed._validation.validate_params`)."""
    validate_params(CONSTRAINTS, params, owner=owner, cli_prefix=cli_prefix)
    alpha, min_alpha = params.get("alpha"), params.get("min_alpha")
    if alpha is not None and min_alpha is not None and min_alpha > alpha:
        check_param("min_alpha", min_alpha, Param((Interval(Real, 0, alpha),), "a number in [0, alpha]"),
                    owner=owner, param=f"{cli_prefix}min_alpha" if cli_prefix else None)


def train_word2vec(
    corpus: Any,
    dim: int = 300,
    window: int = 5,
    negative: int = 5,
    sample: float = 1e-4,
    epochs: int = 5,
    min_count: int = 5,
    workers: int | None = None,
    seed: int = 1,
    alpha: float = 0.025,
    min_alpha: float = 0.0001,
    progress: bool = True,
    tokenize: str = TOKENIZE,
    lowercase: bool | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Train gensim skip-gram word2vec with negative sampling; ``(KeyedVectors, info)``.

    ``corpus``: a path or a list of paths to text files (``.txt``/``.gz``/``.bz2``, one
    sentence per line or text8-style one-line files; read by :class:`ChunkedSentences`),
    a directory of such files, or any *restartable* iterable of token lists (gensim reads
    it ``epochs + 1`` times: once to count the vocabulary, then once per epoch; a
    generator is refused).  Text files are tokenised as pmiembed tokenises them
    (:class:`TokenizedSentences`: ``tokenize`` and ``lowercase`` as in
    :class:`pmiembed.PMIEmbedding`, recorded in ``info["params"]``); token lists are
    taken as they are.

    Parameters as in word2vec/gensim: ``dim`` vector size, ``window`` maximum context
    distance (gensim samples the effective window uniformly in ``1..window``), ``negative``
    noise words per positive pair (unigram^0.75 noise), ``sample`` sub-sampling threshold
    of frequent words, ``epochs``, ``min_count`` (rarer words are dropped before
    training), ``alpha`` decaying linearly to ``min_alpha``, ``workers`` training threads
    (``None``: ``os.cpu_count()``), ``seed``.  ``progress`` shows tqdm bars on stderr.

    Returns gensim ``KeyedVectors`` whose rows are in descending corpus frequency, and
    ``info`` with: ``method``, ``gensim_version``, ``params`` (everything above, with the
    actual worker count), ``corpus`` (description), ``corpus_tokens`` (raw tokens, before
    ``min_count``/sub-sampling), ``corpus_sentences``, ``vocab_size``,
    ``effective_words`` (tokens trained on over all epochs, after sub-sampling),
    ``vocab_seconds``, ``train_seconds`` and ``total_seconds`` (wall clock), and
    ``peak_rss_bytes`` (the process's resident-memory high-water mark so far, so it
    includes anything the process did before; process-wide, not per call).

    Determinism: gensim is deterministic only with ``workers=1`` (with several threads
    the order in which they update the shared weights varies) and a fixed
    ``PYTHONHASHSEED`` (gensim's documented requirement; its ``hashfxn`` defaults to
    Python's salted ``hash``).  In gensim 4.4 the initial vectors come from
    ``numpy.random.default_rng(seed)``, and runs with ``workers=1`` have matched across
    different ``PYTHONHASHSEED`` values, but fix it anyway when reproducibility matters.
    """
    import gensim
    from gensim.models import Word2Vec

    if workers is None:
        workers = os.cpu_count() or 1
    check_params({"dim": dim, "window": window, "negative": negative, "epochs": epochs, "min_count": min_count,
                  "workers": workers, "seed": seed, "sample": sample, "alpha": alpha, "min_alpha": min_alpha})

    sentences, description = _as_corpus(corpus)
    if isinstance(sentences, ChunkedSentences):
        sentences = TokenizedSentences(sentences, tokenize, lowercase)
    tokens = ({"tokenize": sentences.tokenize, "lowercase": sentences.lowercase}
              if isinstance(sentences, TokenizedSentences) else {"tokenize": None, "lowercase": None})
    params = {
        "dim": dim,
        "window": window,
        "negative": negative,
        "sample": sample,
        "epochs": epochs,
        "min_count": min_count,
        "workers": workers,
        "seed": seed,
        "alpha": alpha,
        "min_alpha": min_alpha,
        "sg": 1,
        "hs": 0,
        "ns_exponent": 0.75,
        "max_sentence_length": MAX_SENTENCE_LENGTH,
        **tokens,
    }
    model = Word2Vec(
        vector_size=dim,
        window=window,
        min_count=min_count,
        sg=1,
        hs=0,
        negative=negative,
        ns_exponent=0.75,
        sample=sample,
        epochs=epochs,
        workers=workers,
        seed=seed,
        alpha=alpha,
        min_alpha=min_alpha,
    )

    from tqdm.auto import tqdm

    start = time.perf_counter()
    with tqdm(desc="word2vec vocabulary", unit=" tokens", unit_scale=True, disable=not progress) as bar:
        model.build_vocab(corpus_iterable=_Progress(sentences, bar), progress_per=10**9)
    vocab_seconds = time.perf_counter() - start
    if model.corpus_total_words == 0:
        raise CorpusError(f"corpus {description} has no tokens")
    if len(model.wv) == 0:
        raise CorpusError(
            f"no word occurs at least `w2v_min_count={min_count}:min_count={min_count}` times in corpus "
            f"{description}; lower `w2v_min_count:min_count` or use a larger corpus"
        )

    start = time.perf_counter()
    total = model.corpus_total_words * epochs
    with tqdm(desc="word2vec training", total=total, unit=" tokens", unit_scale=True, disable=not progress) as bar:
        trained, _raw = model.train(
            corpus_iterable=_Progress(sentences, bar),
            total_examples=model.corpus_count,
            epochs=epochs,
            report_delay=10**9,
        )
    train_seconds = time.perf_counter() - start

    info = {
        "method": "word2vec-sgns (gensim)",
        "gensim_version": gensim.__version__,
        "params": params,
        "corpus": description,
        "corpus_tokens": int(model.corpus_total_words),
        "corpus_sentences": int(model.corpus_count),
        "vocab_size": len(model.wv),
        "effective_words": int(trained),
        "vocab_seconds": vocab_seconds,
        "train_seconds": train_seconds,
        "total_seconds": vocab_seconds + train_seconds,
        "peak_rss_bytes": peak_rss_bytes(),
        "python_hash_seed": os.environ.get("PYTHONHASHSEED"),
    }
    return model.wv, info
