"""``pmiembed evaluate``: score word vectors on similarity and analogy benchmarks."""

from __future__ import annotations

import json
import sys

from ..errors import ParameterError
from .common import VECTORS_HELP, _positive_int


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="score vectors on word similarity and analogy benchmarks",
        description="Evaluate VECTORS (a 'pmiembed train' folder or any word2vec file) on every available "
                    "benchmark, or on the named ones / files: Spearman rho for similarity, 3CosAdd and 3CosMul "
                    "accuracy for analogies (over all questions; coverage beside). Without PMIEMBED_DATA, "
                    "gensim's copies of ws353, simlex999 and google are used.")
    p.add_argument("--vectors", required=True, metavar="PATH", help=VECTORS_HELP)
    p.add_argument("--benchmarks", nargs="+", default=None, metavar="NAME_OR_PATH",
                   help="benchmark names (ws353, ws353_similarity, ws353_relatedness, simlex999, men, rw, google, msr) "
                        "or benchmark files [every available one]")
    p.add_argument("--restrict-vocab", type=_positive_int, default=30000, metavar="N",
                   help="analogy answers are searched among the N most frequent words [30000]")
    p.add_argument("--sections", action="store_true", help="also show the analogy groups and sections (Google)")
    p.add_argument("--json", metavar="FILE", default=None, help="also write the results as JSON to FILE")
    p.add_argument("--force", action="store_true", help="replace an existing --json file")
    p.add_argument("--quiet", action="store_true", help="no summary on stderr (the table still prints)")
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args) -> int:
    from ..evaluate import (
        available_benchmarks,
        describe_benchmarks,
        evaluate,
        format_results,
        load_benchmark,
        results_to_dict,
    )
    from ..vectors import load_vectors

    if args.restrict_vocab < 1:
        raise ParameterError(f"--restrict-vocab {args.restrict_vocab}: must be a positive integer")
    if args.force and not args.json:
        raise ParameterError("--force only applies with --json (it replaces an existing --json file); give --json "
                             "FILE, or leave --force out")
    json_path = None
    if args.json:
        from ..io import check_output_file

        json_path = check_output_file(args.json, args.force, inputs=[args.vectors], option="json")
    specs = args.benchmarks if args.benchmarks else available_benchmarks()
    for spec in specs:  # malformed or missing benchmark files fail before the vectors are loaded
        load_benchmark(spec)
    kv = load_vectors(args.vectors)
    if not args.quiet:
        print(f"vectors: {args.vectors} ({len(kv):,} words x {kv.vector_size} dims); "
              f"{describe_benchmarks(args.benchmarks)}", file=sys.stderr)
    results = evaluate(kv, specs, restrict_vocab=args.restrict_vocab)
    print(format_results(results, sections=args.sections))
    if json_path is not None:
        from ..io import atomic_path

        data = {
            "vectors": str(args.vectors),
            "vocabulary_size": len(kv),
            "dim": int(kv.vector_size),
            "restrict_vocab": args.restrict_vocab,
            "benchmarks": results_to_dict(results),
        }
        with atomic_path(json_path, option="json") as tmp:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2)
                f.write("\n")
        if not args.quiet:
            print(f"wrote {json_path}", file=sys.stderr)
    return 0
