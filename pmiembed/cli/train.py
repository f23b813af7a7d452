"""``pmiembed train``: word vectors from a corpus, written to a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..defaults import SCHEDULER_TIMEOUT
from ..errors import ParameterError
from .common import _float, add_model_arguments, model_from_args
from .phrases import PHRASE_DEFAULTS, TRAIN_PHRASE_THRESHOLD


def register(sub) -> None:
    p = sub.add_parser("train", help="train PPMI+SVD vectors on a corpus",
                       description="Train word vectors on CORPUS (text files, .gz/.bz2/.xz, folders) and write "
                                   "OUT/vectors.bin (word2vec binary; --format text: OUT/vectors.vec), OUT/vocab.tsv, "
                                   "OUT/params.json and OUT/ppmi.npz.")
    p.add_argument("corpus", nargs="+", metavar="CORPUS",
                   help="text file(s) or folder(s); several are read as one corpus")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (must not exist unless --force)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--save-counts", action="store_true",
                   help="also write the co-occurrence counts (counts.npz) for reuse and the token ids (tokens.npz) "
                        "for 'pmiembed update'")
    p.add_argument("--save-pmi", action=argparse.BooleanOptionalAction, default=True,
                   help="write the PPMI matrix (ppmi.npz, about 2x vectors.bin) that 'pmiembed contexts', "
                        "'explain' and 'analogy --explain' read [on]")
    p.add_argument("--format", choices=("binary", "text", "both"), default="binary",
                   help="how to write the vectors: binary (vectors.bin), text (vectors.vec, the word2vec text "
                        "format: gensim's load_word2vec_format(binary=False)) or both [binary]")
    p.add_argument("--quiet", action="store_true", help="no progress bars or stage summaries")
    add_model_arguments(p)
    _add_phrase_arguments(p)
    cluster = p.add_argument_group("cluster (needs Dask: pip install \".[dask]\" in pmiembed's clone; see "
                                   "docs/cluster.md)")
    g = cluster.add_mutually_exclusive_group()
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786), or on a local "
                        "cluster of N single-threaded worker processes (local:N, at most 2 a core; --memory GB is "
                        "then each worker's memory limit); every worker must be able to read CORPUS [off: one "
                        "process]")
    g.add_argument("--scheduler-file", metavar="FILE",
                   help="run on the Dask cluster described by FILE (written by 'dask scheduler --scheduler-file')")
    cluster.add_argument("--scheduler-timeout", type=_float, default=None, metavar="SECONDS",
                         help="how long the scheduler has to answer, and to have a worker, before the run stops "
                              f"[{SCHEDULER_TIMEOUT:g}]")
    p.set_defaults(func=cmd_train)


def _add_phrase_arguments(p) -> None:
    """train --phrases (and its --phrase-* settings, see :mod:`pmiembed.cli.phrases`)."""
    from .phrases import add_phrase_arguments

    g = p.add_argument_group("phrases (gensim's Phrases with NPMI scoring, before counting)")
    g.add_argument("--phrases", action="store_true", help="join phrases (new york -> new_york) before training")
    add_phrase_arguments(g)
    # unset unless given: a --phrase-* setting without --phrases would be ignored (refused instead)
    p.set_defaults(**{name: None for name in PHRASE_SETTINGS})


#: train's --phrase-* settings and their values when not given
PHRASE_SETTINGS = {"phrase_threshold": TRAIN_PHRASE_THRESHOLD, "phrase_passes": PHRASE_DEFAULTS["passes"],
                   "phrase_min_count": PHRASE_DEFAULTS["min_count"]}


def _phrase_settings(args) -> None:
    """Refuse --phrase-* settings without --phrases (they would change nothing); give
    the settings not given their defaults."""
    given = [name for name in PHRASE_SETTINGS if getattr(args, name, None) is not None]
    if given and not getattr(args, "phrases", False):
        flags = " and ".join("--" + name.replace("_", "-") for name in given)
        raise ParameterError(f"{flags} only {'apply' if len(given) > 1 else 'applies'} with --phrases; add "
                             f"--phrases to join phrases before training, or leave {flags} out")
    for name, default in PHRASE_SETTINGS.items():
        if getattr(args, name, None) is None:
            setattr(args, name, default)


def cmd_train(args) -> int:
    _phrase_settings(args)
    model = model_from_args(args, progress=not args.quiet, verbose=not args.quiet, keep_counts=args.save_counts,
                            keep_tokens=args.save_counts)
    # refuse an existing output folder before spending minutes on training
    from ..io import check_output_dir

    out = Path(args.out)
    check_output_dir(out, args.force, inputs=args.corpus)
    corpus = args.corpus if len(args.corpus) > 1 else args.corpus[0]
    # an empty --scheduler '' is a wrong address, not "no cluster"
    on_cluster = getattr(args, "scheduler", None) is not None or getattr(args, "scheduler_file", None) is not None
    if args.scheduler_timeout is not None and not on_cluster:
        raise ParameterError("`scheduler_timeout` is for a cluster: give `scheduler` or `scheduler_file` too, or leave "
                             "it out", param="scheduler_timeout")
    if getattr(args, "phrases", False):
        if on_cluster:
            raise ParameterError("--phrases joins phrases in this process and cannot run with --scheduler: write "
                                 "the joined corpus with 'pmiembed phrases' and train on that file")
        from .phrases import phrase_corpus, summary

        tokens, corpus, phrases, seconds = phrase_corpus(
            corpus, min_count=args.phrase_min_count, threshold=args.phrase_threshold, passes=args.phrase_passes,
            lowercase=args.lowercase, tokenize=args.tokenize,
            workers=model.n_workers_, progress=not args.quiet, cli_prefix="phrase_")
        if not args.quiet:
            print(summary(tokens, corpus, phrases, seconds), file=sys.stderr)
        del tokens
    if on_cluster:
        from ..distributed import connect, fit_distributed

        # --memory is the memory limit of each worker local:N starts (refused for a running
        # cluster's workers), not a budget of this process: the model runs without one
        model.memory = None
        timeout = SCHEDULER_TIMEOUT if args.scheduler_timeout is None else args.scheduler_timeout
        with connect(args.scheduler, args.scheduler_file, scheduler_timeout=timeout, memory=args.memory) as client:
            # the PPMI matrix is gathered from the workers only for the folder
            fit_distributed(model, corpus, client, keep_pmi=args.save_pmi)
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
        n_words, dim = model.vectors_.shape
        print(f"{'write':>8}: {time.perf_counter() - t:6.1f} s  (vectors {n_words:,} x {dim})", file=sys.stderr)
        total = sum(v for k, v in model.timings_.items() if k != "total") + (time.perf_counter() - t)
        print(f"wrote {out}/ ({model.vectors_.shape[0]:,} words x {model.vectors_.shape[1]} dims) in {total:.1f} s, "
              f"peak memory {model.peak_rss_bytes_ / 2**30:.2f} GB"
              + ("" if on_cluster  # the workers compile or load their own kernels
                 else f"; {len(model.compiled_kernels_)} numba kernel{'s' * (len(model.compiled_kernels_) > 1)} "
                 f"compiled in {model.timings_['compile']:.1f} s of "
                 f"that (first run; later runs load them from the cache)" if model.compiled_kernels_
                 else "; kernels loaded from the cache"), file=sys.stderr)
    return 0
