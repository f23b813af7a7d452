"""``pmiembed collocations`` and ``pmiembed phrases``: adjacent word pairs by PMI, NPMI
or log-likelihood, and the corpus rewritten with its phrases joined (see
:mod:`pmiembed.phrases`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..defaults import TOKENIZE
from .common import _float, _positive_int, add_tokenize_args

PHRASE_DEFAULTS = {"min_count": 5, "threshold": 0.5, "passes": 1}
#: train --phrases joins fewer pairs than the phrases command: at 0.5 the joined
#: words crowd the analogy sets' answer list (measured in docs/phrases-update.md)
TRAIN_PHRASE_THRESHOLD = 0.7


def register(sub) -> None:
    p = sub.add_parser(
        "collocations", help="the top adjacent word pairs by NPMI, PMI or log-likelihood",
        description="Count the adjacent word pairs of CORPUS (one counting pass; not across lines) and print the "
                    "N best by --measure with their count, PMI (natural log), NPMI (Bouma 2009) and "
                    "log-likelihood ratio (Dunning 1993), tab-separated.")
    p.add_argument("corpus", nargs="+", metavar="CORPUS",
                   help="text file(s) or folder(s); several are read as one corpus")
    p.add_argument("-n", type=_positive_int, default=50, help="how many pairs [50]")
    p.add_argument("--min-count", type=_positive_int, default=20,
                   help="ignore pairs seen fewer times (rare pairs of rare words reach NPMI 1) [20]")
    p.add_argument("--measure", choices=("npmi", "pmi", "llr"), default="npmi", help="rank by this measure [npmi]")
    add_tokenize_args(p)
    p.set_defaults(func=cmd_collocations)

    p = sub.add_parser(
        "phrases", help="write the corpus with its phrases joined (new york -> new_york)",
        description="Find phrases in CORPUS as gensim's Phrases(scoring='npmi') does (pairs seen at least "
                    "--min-count times with NPMI above --threshold) and write the corpus, one document a line, "
                    "with each phrase joined by '_'. --passes K repeats this on the joined text for longer phrases.")
    p.add_argument("corpus", nargs="+", metavar="CORPUS",
                   help="text file(s) or folder(s); several are read as one corpus")
    p.add_argument("--out", required=True, metavar="FILE", help="output text file; .gz, .bz2, .xz: compressed that way")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    add_phrase_arguments(p, prefix="", threshold=PHRASE_DEFAULTS["threshold"])
    add_tokenize_args(p)
    p.add_argument("--quiet", action="store_true", help="no summary on stderr")
    p.set_defaults(func=cmd_phrases)


def add_phrase_arguments(p, prefix: str = "phrase-", threshold: float = TRAIN_PHRASE_THRESHOLD) -> None:
    """--threshold, --passes, --min-count (``--phrase-...`` for train, where --min-count is taken)."""
    d = PHRASE_DEFAULTS
    p.add_argument(f"--{prefix}threshold", type=_float, default=threshold, metavar="T",
                   help=f"NPMI above which a pair is a phrase, in [-1, 1] [{threshold}]")
    p.add_argument(f"--{prefix}passes", type=_positive_int, default=d["passes"], metavar="K",
                   help=f"joining passes; 2 also joins phrases with words or phrases (new_york_times) [{d['passes']}]")
    p.add_argument(f"--{prefix}min-count", type=_positive_int, default=d["min_count"], metavar="M",
                   help=f"a phrase must be seen at least M times [{d['min_count']}]")


def phrase_corpus(corpus, *, min_count, threshold, passes, lowercase=None, tokenize=TOKENIZE, workers=1, progress=False,
                  cli_prefix=""):
    """Read ``corpus`` and join its phrases; returns ``(joined corpus, Phrases, seconds)``.
    ``cli_prefix``: the prefix of the flags that gave the settings (``phrase_`` for train)."""
    from ..corpus import read_corpus
    from ..phrases import Phrases, check_phrase_params

    check_phrase_params(min_count, threshold, passes, cli_prefix=cli_prefix)
    t = time.perf_counter()
    tokens = read_corpus(corpus, lowercase=lowercase, tokenize=tokenize, progress=progress, workers=workers)
    phrases = Phrases(min_count=min_count, threshold=threshold, passes=passes)
    joined = phrases.fit_transform(tokens)
    return tokens, joined, phrases, time.perf_counter() - t


def cmd_collocations(args) -> int:
    from ..corpus import read_corpus
    from ..errors import PMIEmbedError
    from ..phrases import count_bigrams

    tokens = read_corpus(args.corpus if len(args.corpus) > 1 else args.corpus[0], lowercase=args.lowercase,
                         tokenize=args.tokenize)
    top = count_bigrams(tokens, args.min_count).top(args.n, args.measure)
    if not top:  # an empty table would look like an answer: say why there is none, and fail
        raise PMIEmbedError(f"no adjacent pair of words is seen {args.min_count:,} times or more in the "
                            f"{tokens.n_tokens:,} tokens of CORPUS (pairs never span a line); lower --min-count")
    print("pair\tcount\tpmi\tnpmi\tllr")
    for a, b, count, pmi, npmi, llr in top:
        print(f"{a} {b}\t{count}\t{pmi:.3f}\t{npmi:.4f}\t{llr:.1f}")
    return 0


#: suffixes of compressed formats pmiembed cannot write (nor read): refused, never written as plain text
UNWRITABLE_SUFFIXES = (".zst", ".zstd", ".zip", ".lz4", ".lz", ".lzma", ".7z", ".br", ".z", ".tgz", ".tbz2",
                       ".txz", ".tar", ".sz", ".snappy")


def check_corpus_suffix(path: Path) -> None:
    """Refuse an output name whose suffix promises a compression pmiembed does not write."""
    from ..errors import ParameterError

    suffix = path.suffix.lower()
    if suffix in UNWRITABLE_SUFFIXES:
        raise ParameterError(f"{path}: pmiembed writes plain text, or text compressed as .gz, .bz2 or .xz, not "
                             f"{path.suffix}; end `out:the output file's name` with one of those, or with no "
                             "compression suffix")


def _open_for_writing(path: Path, tmp: Path):
    """``tmp`` opened for binary writing, compressed as ``path``'s suffix says."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        import gzip

        return gzip.open(tmp, "wb", compresslevel=6)
    if suffix == ".bz2":
        import bz2

        return bz2.open(tmp, "wb", compresslevel=9)
    if suffix == ".xz":
        import lzma

        return lzma.open(tmp, "wb", format=lzma.FORMAT_XZ, preset=6)
    return open(tmp, "wb")


def write_corpus(tokens, path: Path) -> None:
    """Write ``tokens`` one document a line, atomically; ``.gz``, ``.bz2`` and ``.xz``
    names are written compressed that way (what the corpus reader reads back), other
    compressed suffixes refused (:func:`check_corpus_suffix`)."""
    import numpy as np

    from ..io import atomic_path

    check_corpus_suffix(path)
    words = np.array([t.encode("utf-8") for t in tokens.types], dtype=object)
    bounds = np.concatenate(([0], tokens.doc_starts, [tokens.n_tokens])).astype(np.int64)
    with atomic_path(path) as tmp:
        with _open_for_writing(path, tmp) as f:
            for a, b in zip(bounds[:-1], bounds[1:]):
                # long single-line documents (text8) are written in pieces
                for s in range(a, b, 1 << 20):
                    e = min(b, s + (1 << 20))
                    f.write(b" ".join(words[tokens.ids[s:e]]))
                    if e < b:
                        f.write(b" ")
                f.write(b"\n")


def cmd_phrases(args) -> int:
    from ..io import check_output_file

    # --force must never replace the text being read, nor anything but a regular file
    out = check_output_file(args.out, args.force, inputs=args.corpus)
    check_corpus_suffix(out)  # before the work, not after it
    tokens, joined, phrases, seconds = phrase_corpus(
        args.corpus if len(args.corpus) > 1 else args.corpus[0], min_count=args.min_count,
        threshold=args.threshold, passes=args.passes, lowercase=args.lowercase, tokenize=args.tokenize,
        progress=not args.quiet)
    t = time.perf_counter()
    write_corpus(joined, out)
    if not args.quiet:
        print(summary(tokens, joined, phrases, seconds) + f"; wrote {out} in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)
    return 0


def summary(tokens, joined, phrases, seconds) -> str:
    per_pass = " + ".join(f"{len(p):,}" for p in phrases.phrases_)
    return (f"phrases: {per_pass} phrases found in {len(phrases.phrases_)} pass(es), "
            f"{tokens.n_tokens:,} -> {joined.n_tokens:,} tokens, {seconds:.1f} s")
