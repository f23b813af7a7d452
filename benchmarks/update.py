"""``pmiembed update`` against training from scratch: time and the eight benchmarks.

    python benchmarks/update.py ../shared/data/corpora/wiki17m.txt.gz \\
        ../shared/data/corpora/wiki69m-rest.txt.gz --tokens 17e6 --slice /tmp/slice17m.txt.gz \\
        --n-iter 2,3 --repeat 3

Cuts the first ``--tokens`` tokens of the second corpus to ``--slice`` (kept if it
exists), then runs, each as its own ``pmiembed`` process: ``train BASE --save-counts``
(once), then ``--repeat`` rounds of ``update SLICE`` on that model (once per
``--n-iter`` value) and ``train BASE SLICE`` from scratch, alternated so that a change
in the machine's speed falls on both; prints the median wall times (process start to
exit), their ratio and the median of the per-round ratios, the scores of the updated
and the from-scratch vectors with their largest difference, and, for reference, the
scores of training from scratch with ``--seed 1`` (the SVD's own seed-to-seed spread).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scaling import write_prefix  # noqa: E402
from speed import scores  # noqa: E402


def pmiembed(*argv) -> float:
    """Run ``python -m pmiembed ARGV`` (stderr shown); returns the wall time."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pmiembed", *map(str, argv)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", help="the corpus the first model is trained on")
    ap.add_argument("more", help="the corpus whose first --tokens tokens are added")
    ap.add_argument("--tokens", type=float, default=17e6)
    ap.add_argument("--slice", default=None, help="where to write the slice (kept if it exists) [temporary]")
    ap.add_argument("--n-iter", default="2", help="update's --n-iter values, comma-separated [2]")
    ap.add_argument("--repeat", type=int, default=1, help="alternated rounds of the timed runs [1]")
    ap.add_argument("--no-seed-spread", action="store_true", help="skip the --seed 1 run from scratch")
    ap.add_argument("--work", default=None, help="folder for the models [temporary]")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="pmiembed-update-"))
    work.mkdir(parents=True, exist_ok=True)
    sl = Path(args.slice) if args.slice else work / "slice.txt.gz"
    if not sl.exists():
        n = write_prefix(Path(args.more), int(args.tokens), sl)
        print(f"slice: first {n:,} tokens of {args.more} -> {sl}", flush=True)
    base = work / "base"
    t_base = pmiembed("train", args.base, "--out", base, "--save-counts", "--force", "--quiet")
    iters = args.n_iter.split(",")
    times: dict[str, list[float]] = {it: [] for it in iters}
    t_scratch: list[float] = []
    scratch = work / "scratch"
    for _ in range(args.repeat):
        for it in iters:
            times[it].append(pmiembed("update", sl, "--vectors", base, "--out", work / f"updated-{it}", "--n-iter", it,
                                      "--force", "--quiet"))
        t_scratch.append(pmiembed("train", args.base, sl, "--out", scratch, "--force", "--quiet"))
    med = statistics.median(t_scratch)
    print(f"\ntrain base --save-counts: {t_base:.1f} s")
    print("train base + slice from scratch: " + ", ".join(f"{t:.1f}" for t in t_scratch) + f" s (median {med:.1f})")
    for it in iters:
        print(f"update --n-iter {it}: " + ", ".join(f"{t:.1f}" for t in times[it])
              + f" s (median {statistics.median(times[it]):.1f})")
    ref = scores(scratch)
    names = list(ref)
    print("\n| model | wall s (median) | x scratch | x scratch, median of rounds | " + " | ".join(names)
          + " | max diff |")
    print("|---" * (len(names) + 5) + "|")
    print(f"| from scratch | {med:.1f} | 1.00 | 1.00 | " + " | ".join(f"{ref[k]:.4f}" for k in names) + " | |")
    if not args.no_seed_spread:
        seed1 = work / "scratch-seed1"
        pmiembed("train", args.base, sl, "--out", seed1, "--seed", "1", "--force", "--quiet")
        s = scores(seed1)
        print("| from scratch, --seed 1 | | | | " + " | ".join(f"{s[k]:.4f}" for k in names)
              + f" | {max(abs(s[k] - ref[k]) for k in names):.4f} |")
    for it in iters:
        s = scores(work / f"updated-{it}")
        m = statistics.median(times[it])
        rounds = statistics.median(a / b for a, b in zip(times[it], t_scratch))
        print(f"| update --n-iter {it} | {m:.1f} | {m / med:.2f} | {rounds:.2f} | "
              + " | ".join(f"{s[k]:.4f}" for k in names) + f" | {max(abs(s[k] - ref[k]) for k in names):.4f} |")
    print(f"\nmodels in {work}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
