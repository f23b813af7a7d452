"""Time pmiembed's analogy evaluation against gensim's ``evaluate_word_analogies`` on the
same vectors and questions (3CosAdd, answers among the ``--restrict-vocab`` most frequent
words), and check that both count the same correct answers.

    python benchmarks/analogy_speed.py                      # Google's 19,544 questions, 30,000 x 300 vectors
    python benchmarks/analogy_speed.py --vectors OUT/       # a `pmiembed train` folder or word2vec file

Without ``--vectors`` the vectors are seeded Gaussian rows for every word of the
questions plus fillers up to 30,000 (every question is then known and answered by both;
the work does not depend on the values).  The questions are gensim's copy of Google's
set unless ``--benchmark`` names another file.  Prints one line per evaluator (wall and
CPU seconds: on a shared machine the wall time swings with the load) and the ratio;
``--json`` writes them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vectors", default=None, help="a `pmiembed train` folder or word2vec file [random 30,000 x 300]")
    ap.add_argument("--benchmark", default="google", help="analogy benchmark name or file [google]")
    ap.add_argument("--restrict-vocab", type=int, default=30000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    import numpy as np
    from gensim.models import KeyedVectors

    from pmiembed.evaluate import describe_benchmarks, evaluate_analogy, load_benchmark
    from pmiembed.vectors import load_vectors

    data = load_benchmark(args.benchmark)
    print(describe_benchmarks([f"{data.name} ({data.path}, {len(data):,} questions)"]), flush=True)
    if args.vectors:
        kv = load_vectors(args.vectors)
    else:
        words = sorted({w for q in data.questions for w in q})
        keys = words + [f"filler{i}" for i in range(max(0, args.restrict_vocab - len(words)))]
        rng = np.random.default_rng(args.seed)
        rng.shuffle(keys)
        kv = KeyedVectors(300)
        kv.add_vectors(keys, rng.standard_normal((len(keys), 300)).astype(np.float32))
    t, c = time.perf_counter(), time.process_time()
    ours = evaluate_analogy(kv, data, restrict_vocab=args.restrict_vocab)
    ours_s, ours_cpu = time.perf_counter() - t, time.process_time() - c
    logging.disable(logging.WARNING)  # gensim logs every section
    t, c = time.perf_counter(), time.process_time()
    _, sections = kv.evaluate_word_analogies(str(data.path), restrict_vocab=args.restrict_vocab,
                                             case_insensitive=True, dummy4unknown=False)
    theirs_s, theirs_cpu = time.perf_counter() - t, time.process_time() - c
    total = next(s for s in sections if s["section"] == "Total accuracy")
    theirs_correct = len(total["correct"])
    result = {"questions": len(data), "known": ours.n_known, "restrict_vocab": args.restrict_vocab,
              "pmiembed_seconds": ours_s, "gensim_seconds": theirs_s, "ratio": theirs_s / ours_s,
              "pmiembed_cpu_seconds": ours_cpu, "gensim_cpu_seconds": theirs_cpu,
              "pmiembed_correct_3cosadd": ours.correct_add, "gensim_correct": theirs_correct,
              "gensim_answered": theirs_correct + len(total["incorrect"])}
    print(f"pmiembed evaluate_analogy: {ours_s:.1f} s wall, {ours_cpu:.1f} s CPU ({ours.n_known:,} questions known, "
          f"{ours.correct_add:,} correct by 3CosAdd, 3CosMul too)")
    print(f"gensim evaluate_word_analogies: {theirs_s:.1f} s wall, {theirs_cpu:.1f} s CPU "
          f"({result['gensim_answered']:,} answered, {theirs_correct:,} correct)")
    print(f"gensim / pmiembed: {result['ratio']:.0f}x wall (CPU time: both threads of pmiembed's products count)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if ours.correct_add != theirs_correct:
        print("analogy_speed.py: error: the two evaluators disagree on the correct answers", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
