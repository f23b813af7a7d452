"""``pmiembed sweep CORPUS --grid window=2,5 eig=0,0.5 ... --out DIR``."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser(
        "sweep", help="evaluate a grid of hyperparameters, counting once per counting setting",
        description="Train and evaluate every combination of a grid. Counts are made once per counting setting "
                    "(window, weighting, subsample, subsample_mode, min_count, max_vocab, tokenize, lowercase) "
                    "and cached in DIR/counts; the PMI and SVD once per (cds, neg, matrix, bound, freq_weight, "
                    "dim, core_min_count, core_max_words, svd, n_iter, oversamples, seed); eig, wc and abtt "
                    "reuse the SVD. "
                    "Results are appended to DIR/results.jsonl as they finish, so a sweep resumes where it "
                    "stopped; DIR/results.md, .json and .png summarise.")
    p.add_argument("corpus", nargs="+", metavar="CORPUS")
    p.add_argument("--grid", nargs="+", required=True, metavar="NAME=V1,V2",
                   help="parameters (as PMIEmbedding names: window, weighting, subsample (or sub), "
                        "subsample_mode, min_count, max_vocab, cds, neg, matrix, bound, freq_weight, dim, "
                        "core_min_count, core_max_words, svd, n_iter, oversamples, seed, eig, wc, abtt) and their "
                        "values; 'none' for None")
    p.add_argument("--out", required=True, metavar="DIR", help="results folder (reused to resume)")
    p.add_argument("--workers", type=int, default=None, help="threads [all cores]")
    from .common import add_tokenize_args
    add_tokenize_args(p)
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args) -> int:
    from ..sweep import parse_grid, run_sweep, summary_table

    grid = parse_grid(args.grid)
    corpus = args.corpus if len(args.corpus) > 1 else args.corpus[0]
    rows = run_sweep(corpus, grid, args.out, workers=args.workers,
                     base={"tokenize": args.tokenize, "lowercase": args.lowercase})
    print(summary_table(rows))
    from pathlib import Path

    out = Path(args.out)  # a trailing slash in --out must not print as "DIR//results.md"
    print(f"\nwrote {out / 'results.md'}, results.json, results.png", file=sys.stderr)
    return 0
