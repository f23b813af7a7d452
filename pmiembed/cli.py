"""The ``pmiembed`` command.

User errors print one line ``pmiembed: error: ...`` on stderr and exit 2 (no
traceback; ``--debug`` shows it).  Ctrl-C exits 130 with one line.  Outputs are written
to a temporary folder and renamed at the end, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from . import __version__
from .defaults import DEFAULTS
from .errors import ParameterError, PMIEmbedError

EXIT_USER_ERROR = 2
#: ``--help`` of every ``--vectors`` that reads vectors only
VECTORS_HELP = ("output folder of 'pmiembed train', a word2vec file (.bin, .vec, .txt) or a gensim model or "
                "KeyedVectors file (.model, .kv, written by save())")
EXIT_INTERRUPTED = 130


# ---------------------------------------------------------------- arguments


def _int(text: str) -> int:
    """An integer; ranges are checked by the model, whose messages name the parameter."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive integer")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):  # nan, inf: no option means them
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _optional_int(text: str):
    if text.lower() in ("none", "off"):
        return None
    return _int(text)


def _optional_float(text: str):
    if text.lower() in ("none", "off", "0"):
        return None
    return _float(text)


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """Every hyperparameter of PMIEmbedding as a flag (shared by train, compare, demo)."""
    d = DEFAULTS
    g = p.add_argument_group("model (defaults: the recipe measured best on Wikipedia, see docs/ablation.md)")
    g.add_argument("--dim", type=_int, default=d["dim"], help=f"dimensions of the vectors (SVD rank) [{d['dim']}]")
    g.add_argument("--window", type=_int, default=d["window"], help=f"symmetric window size L [{d['window']}]")
    g.add_argument("--weighting", choices=("dynamic", "uniform", "harmonic", "harmonic2"), default=d["weighting"],
                   help="weight of a context at distance d: dynamic (L-d+1)/L as word2vec's sampled window, "
                        f"uniform 1, harmonic 1/d as GloVe, harmonic2 1/d^2 [{d['weighting']}]")
    g.add_argument("--min-count", type=_int, default=d["min_count"], help=f"ignore words seen fewer times [{d['min_count']}]")
    g.add_argument("--max-vocab", type=_int, default=d["max_vocab"], help="keep at most this many most frequent words [all]")
    g.add_argument("--sub", type=_optional_float, default=d["subsample"], metavar="T",
                   help=f"word2vec subsampling of frequent words with threshold T; 'none' to switch off [{d['subsample']}]")
    g.add_argument("--sub-mode", choices=("dirty", "clean", "expected"), default=d["subsample_mode"],
                   help="dirty: drop subsampled tokens before windowing (word2vec); clean: keep their positions; "
                        "expected: drop nothing, weight each pair by both words' keep probabilities (clean's "
                        f"average, no sampling noise) [{d['subsample_mode']}]")
    g.add_argument("--cds", type=_float, default=d["cds"],
                   help=f"context distribution smoothing exponent in (0, 1]; 1 = none, 0.75 = Levy et al. [{d['cds']}]")
    g.add_argument("--neg", type=_float, default=d["neg"],
                   help=f"shift the PMI by log(NEG) (skip-gram's negative samples); 1 = no shift [{d['neg']:g}]")
    g.add_argument("--eig", type=_float, default=d["eig"], help=f"eigenvalue weighting p: vectors = U * S^p, in [0, 1] [{d['eig']}]")
    g.add_argument("--wc", action=argparse.BooleanOptionalAction, default=d["wc"],
                   help="add the normalised context vectors to the word vectors (w+c) [off]")
    g.add_argument("--abtt", type=_optional_int, default=d["abtt"], metavar="D",
                   help="post-process: subtract the mean vector and remove the top D principal directions "
                        f"('all-but-the-top'); 'none' to switch off [{d['abtt']}]")
    g.add_argument("--core-min-count", type=_optional_int, default=d["core_min_count"], metavar="N",
                   help="the SVD factorises the words seen at least N times and folds the rarer ones in "
                        f"from their PPMI rows; 'none' to factorise every word [{d['core_min_count']}]")
    g.add_argument("--core-max-words", type=_optional_int, default=d["core_max_words"], metavar="N",
                   help="at most N words (the most frequent) form the core the SVD factorises; the rest "
                        f"are folded in; 'none' for no cap [{d['core_max_words']}]")
    g.add_argument("--svd", choices=("krylov", "randomized", "sklearn", "arpack"), default=d["svd"],
                   help="SVD backend: randomized (multi-threaded randomized subspace iteration), krylov (randomized "
                        "block Krylov), sklearn (scikit-learn's randomized_svd) or arpack (scipy svds, exact, "
                        "slow) [randomized]")
    g.add_argument("--n-iter", type=_int, default=d["n_iter"], help=f"power iterations of the randomized SVD [{d['n_iter']}]")
    g.add_argument("--oversamples", type=_int, default=d["oversamples"],
                   help="extra columns the randomized SVD iterates beyond --dim; more converge the last "
                        f"dimensions faster, each costs time [{d['oversamples']}]")
    g.add_argument("--lowercase", action="store_true", help="lowercase all tokens")
    g.add_argument("--seed", type=_int, default=0, help="random seed (subsampling, SVD); same seed, same bits [0]")
    g.add_argument("--workers", type=_int, default=None, help="threads for the numeric stages [all cores]")
    g.add_argument("--memory", type=_float, default=None, metavar="GB",
                   help="memory budget in GB: counting spills to temporary files beyond it, and the later "
                        "stages are checked to fit; the SVD reads the PMI matrix in place instead of a "
                        "faster blocked copy [no budget]")


def model_from_args(args, **extra):
    from .model import PMIEmbedding

    return PMIEmbedding(
        dim=args.dim, window=args.window, weighting=args.weighting, min_count=args.min_count,
        max_vocab=args.max_vocab, subsample=args.sub, subsample_mode=args.sub_mode, cds=args.cds,
        neg=args.neg, eig=args.eig, wc=args.wc, abtt=args.abtt, core_min_count=args.core_min_count,
        core_max_words=args.core_max_words, svd=args.svd, n_iter=args.n_iter, oversamples=args.oversamples,
        lowercase=args.lowercase, seed=args.seed, workers=args.workers, memory=args.memory, **extra,
    )


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``pmiembed: error: ... (see 'pmiembed X --help')``."""

    def error(self, message):  # noqa: D102 - argparse API
        self.exit(EXIT_USER_ERROR, f"pmiembed: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pmiembed",
        description="Word embeddings from counts: co-occurrence counting, (shifted) PPMI and truncated SVD.",
    )
    parser.add_argument("--version", action="version", version=f"pmiembed {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("train", help="train PPMI+SVD vectors on a corpus",
                       description="Train word vectors on CORPUS (text files, .gz/.bz2/.xz, folders) and write "
                                   "OUT/vectors.bin (word2vec binary; --format text: OUT/vectors.vec), OUT/vocab.tsv, "
                                   "OUT/params.json and OUT/ppmi.npz.")
    p.add_argument("corpus", nargs="+", metavar="CORPUS", help="text file(s) or folder(s); several are read as one corpus")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (must not exist unless --force)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--save-counts", action="store_true", help="also write the co-occurrence counts (counts.npz) for reuse")
    p.add_argument("--save-pmi", action=argparse.BooleanOptionalAction, default=True,
                   help="write the PPMI matrix (ppmi.npz, about 2x vectors.bin) that 'pmiembed contexts', "
                        "'explain' and 'analogy --explain' read [on]")
    p.add_argument("--format", choices=("binary", "text", "both"), default="binary",
                   help="how to write the vectors: binary (vectors.bin), text (vectors.vec, the word2vec text "
                        "format: gensim's load_word2vec_format(binary=False)) or both [binary]")
    p.add_argument("--quiet", action="store_true", help="no progress bars or stage summaries")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    add_model_arguments(p)
    _add_phrase_arguments(p)
    g = p.add_argument_group("cluster (Dask: pip install \"pmiembed[dask]\"; see docs/cluster.md)")
    g = g.add_mutually_exclusive_group()
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786), or on a local "
                        "cluster of N single-threaded worker processes (local:N); every worker must be able "
                        "to read CORPUS [off: one process]")
    g.add_argument("--scheduler-file", metavar="FILE",
                   help="run on the Dask cluster described by FILE (written by 'dask scheduler --scheduler-file')")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("similar", help="nearest neighbours of a word (or of several, minus others)",
                       description="Print the N words closest (cosine) to WORD, or to the mean of several WORDs "
                                   "minus the --negative words (gensim's most_similar(positive, negative)).")
    p.add_argument("--vectors", required=True, metavar="PATH", help=VECTORS_HELP)
    p.add_argument("words", nargs="+", metavar="WORD", help="one or more words")
    p.add_argument("--negative", nargs="+", default=[], metavar="WORD",
                   help="words whose vectors are subtracted (give them after the WORDs)")
    p.add_argument("-n", type=_positive_int, default=10, help="how many neighbours [10]")
    p.add_argument("--restrict-vocab", type=_positive_int, default=None, metavar="N",
                   help="only the N most frequent words are candidates [every word]")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("analogy", help="solve a : b :: c : ? (king man woman -> king - man + woman)",
                       description="Print the words closest to A - B + C: 'king man woman' asks for "
                                   "king - man + woman (man is to king as woman is to ?).")
    p.add_argument("--vectors", required=True, metavar="PATH", help=VECTORS_HELP)
    p.add_argument("words", nargs=3, metavar="WORD",  # a tuple metavar breaks --help of a positional (3.11)
                   help="three words A B C: 'king man woman' means king - man + woman")
    p.add_argument("--cosmul", action="store_true", help="use 3CosMul (Levy & Goldberg 2014) instead of 3CosAdd")
    p.add_argument("-n", type=_positive_int, default=5, help="how many answers [5]")
    p.add_argument("--restrict-vocab", type=_positive_int, default=None, metavar="N",
                   help="only the N most frequent words are candidates [every word]")
    p.add_argument("--explain", action="store_true",
                   help="also show the contexts (from the model folder's PPMI matrix) that most support the first answer")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_analogy)

    _add_optional_commands(sub)
    return parser


def _add_optional_commands(sub) -> None:
    """Subcommands whose modules register themselves (evaluate, compare, demo, sweep)."""
    import importlib

    for name in ("evaluate", "compare", "demo", "sweep", "explain", "phrases", "update"):
        try:
            mod = importlib.import_module(f".cli_{name}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(f"cli_{name}"):
                continue
            raise
        mod.register(sub)


def _add_phrase_arguments(p) -> None:
    """train --phrases (and its --phrase-* settings, see cli_phrases)."""
    from .cli_phrases import add_phrase_arguments

    g = p.add_argument_group("phrases (gensim's Phrases with NPMI scoring, before counting)")
    g.add_argument("--phrases", action="store_true", help="join phrases (new york -> new_york) before training")
    add_phrase_arguments(g)


# ----------------------------------------------------------------- commands


def cmd_train(args) -> int:
    model = model_from_args(args, progress=not args.quiet, verbose=not args.quiet, keep_counts=args.save_counts,
                            keep_rare_pairs=args.save_counts)
    # refuse an existing output folder before spending minutes on training
    from .io import check_output_dir

    out = Path(args.out)
    check_output_dir(out, args.force, inputs=args.corpus)
    corpus = args.corpus if len(args.corpus) > 1 else args.corpus[0]
    on_cluster = bool(getattr(args, "scheduler", None) or getattr(args, "scheduler_file", None))
    if getattr(args, "phrases", False):
        if on_cluster:
            raise ParameterError("--phrases joins phrases in this process and cannot run with --scheduler: write "
                                 "the joined corpus with 'pmiembed phrases' and train on that file")
        from .cli_phrases import phrase_corpus, summary

        tokens, corpus, phrases, seconds = phrase_corpus(
            corpus, min_count=args.phrase_min_count, threshold=args.phrase_threshold, passes=args.phrase_passes,
            lowercase=args.lowercase, workers=model.n_workers_, progress=not args.quiet)
        if not args.quiet:
            print(summary(tokens, corpus, phrases, seconds), file=sys.stderr)
        del tokens
    if on_cluster:
        from .distributed import connect

        with connect(args.scheduler, args.scheduler_file) as client:
            model.fit(corpus, client=client)
    else:
        model.fit(corpus)
    if getattr(args, "phrases", False):
        model.corpus_stats_["phrases"] = {"min_count": args.phrase_min_count, "threshold": args.phrase_threshold,
                                          "passes": args.phrase_passes,
                                          "found": [len(p) for p in phrases.phrases_]}
    import time

    t = time.perf_counter()
    model.save(out, force=args.force, save_counts=args.save_counts, save_pmi=args.save_pmi, format=args.format)
    if not args.quiet:
        print(f"{'write':>8}: {time.perf_counter() - t:6.1f} s  (vectors {model.vectors_.shape[0]:,} x {model.vectors_.shape[1]})",
              file=sys.stderr)
        total = sum(v for k, v in model.timings_.items() if k != "total") + (time.perf_counter() - t)
        print(f"wrote {out}/ ({model.vectors_.shape[0]:,} words x {model.vectors_.shape[1]} dims) in {total:.1f} s, "
              f"peak memory {model.peak_rss_bytes_ / 2**30:.2f} GB"
              + ("" if on_cluster  # the workers compile or load their own kernels
                 else f"; {len(model.compiled_kernels_)} numba kernel{'s' * (len(model.compiled_kernels_) > 1)} "
                 f"compiled in {model.timings_['compile']:.1f} s of "
                 f"that (first run; later runs load them from the cache)" if model.compiled_kernels_
                 else "; kernels loaded from the cache"), file=sys.stderr)
    return 0


def _load(path):
    from .model import load_vectors

    return load_vectors(path)


def _check_words(kv, words) -> None:
    from .errors import WordError

    seen = set()
    for w in words:
        if w in seen:
            raise WordError(f"word {w!r} is given twice; give distinct words")
        seen.add(w)
        if w not in kv.key_to_index:
            hint = ""
            lower = w.lower()
            if lower != w and lower in kv.key_to_index:
                hint = f" (did you mean {lower!r}?)"
            raise WordError(f"word {w!r} is not in the vocabulary of {len(kv):,} words{hint}; try another word")
        if not kv.vectors[kv.key_to_index[w]].any():
            raise WordError(f"word {w!r} has no vector (its PPMI row was empty: no context above the shift); "
                            "try another word or train with a lower --neg")


def cmd_similar(args) -> int:
    kv = _load(args.vectors)
    _check_words(kv, list(args.words) + list(args.negative))
    for word, score in kv.most_similar(positive=list(args.words), negative=list(args.negative), topn=args.n,
                                       restrict_vocab=args.restrict_vocab):
        print(f"{word}\t{score:.4f}")
    return 0


def cmd_analogy(args) -> int:
    kv = _load(args.vectors)
    a, b, c = args.words
    _check_words(kv, [a, b, c])
    fn = (lambda **kw: _most_similar_cosmul(kv, **kw)) if args.cosmul else kv.most_similar
    ppmi = None
    if args.explain:  # before answering: a folder without ppmi.npz fails with nothing printed
        from .cli_explain import _ppmi

        ppmi = _ppmi(args.vectors)
    answers = fn(positive=[a, c], negative=[b], topn=args.n, restrict_vocab=args.restrict_vocab)
    for word, score in answers:
        print(f"{word}\t{score:.4f}")
    if ppmi is not None:
        from .explain import explain_analogy

        print()
        print(explain_analogy(ppmi, a, b, c, answers[0][0], n=10))
    return 0


def _most_similar_cosmul(kv, positive, negative, topn, restrict_vocab=None):
    """gensim's ``most_similar_cosmul``, with ``restrict_vocab`` honoured as in
    ``most_similar`` (gensim's cosmul accepts it but searches every word): only the
    ``restrict_vocab`` most frequent words are candidates."""
    if restrict_vocab is None:
        return kv.most_similar_cosmul(positive=positive, negative=negative, topn=topn)
    import numpy as np

    scores = np.asarray(kv.most_similar_cosmul(positive=positive, negative=negative, topn=None))[:restrict_vocab]
    given = {kv.key_to_index[w] for w in list(positive) + list(negative)}
    order = [i for i in np.argsort(-scores, kind="stable")[:topn + len(given)] if i not in given]
    return [(kv.index_to_key[i], float(scores[i])) for i in order[:topn]]


# --------------------------------------------------------------------- main


def caused_by_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is a KeyboardInterrupt or was raised because of one: Ctrl-C while
    modules import can surface as an ImportError ("numba._devicearray failed to import")
    or a RuntimeError (``__set_name__`` of a class being built), with the interrupt as
    its cause or context."""
    seen = set()
    while isinstance(exc, BaseException) and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _interrupted() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while cleaning up: no traceback
    print("pmiembed: interrupted; nothing was written", file=sys.stderr)
    return EXIT_INTERRUPTED


def _pass_interrupts_on(unraisable) -> None:
    """``sys.unraisablehook`` of the command: Ctrl-C inside a C callback (llvmlite's
    object cache while numba compiles) cannot propagate, and Python would print it as an
    ignored exception with a traceback and carry on.  The command stops there instead,
    as it does for any interrupt (the janitor process removes what was being written).
    Anything else goes to the default hook."""
    if unraisable.exc_value is not None and caused_by_interrupt(unraisable.exc_value) or (
            unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt)):
        import os

        _interrupted()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    sys.__unraisablehook__(unraisable)


def main(argv=None) -> int:
    sys.unraisablehook = _pass_interrupts_on
    try:
        parser = build_parser()  # imports the subcommands' modules: Ctrl-C may come here
        args = parser.parse_args(argv)
    except BaseException as exc:
        if not caused_by_interrupt(exc):
            raise
        return _interrupted()
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USER_ERROR
    debug = bool(getattr(args, "debug", False))
    # a second Ctrl-C while cleaning up should not print a traceback either
    try:
        return int(args.func(args) or 0)
    except PMIEmbedError as exc:
        if debug:
            raise
        print(f"pmiembed: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        if debug:
            raise
        return _interrupted()
    except MemoryError:
        if debug:
            raise
        print("pmiembed: error: out of memory; lower --dim or --max-vocab, raise --min-count, or set --memory",
              file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if debug or not caused_by_interrupt(exc):
            raise
        return _interrupted()


def entry() -> None:  # pragma: no cover - exits the process
    """The ``pmiembed`` console command: :func:`main`, then exit without the
    interpreter's teardown of every loaded module (numba's LLVM, scipy, gensim), which
    takes 0.5-0.9 s after a ``pmiembed train`` that is otherwise done.  Exit handlers
    still run and the standard streams are flushed first."""
    import atexit
    import os

    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
