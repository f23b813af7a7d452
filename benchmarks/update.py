"""``pmiembed update`` against training from scratch: time and the eight benchmarks.

    python benchmarks/update.py ../shared/data/corpora/wiki17m.txt.gz \\
        ../shared/data/corpora/wiki69m-rest.txt.gz --tokens 17e6 --slice /tmp/slice17m.txt.gz

Cuts the first ``--tokens`` tokens of the second corpus to ``--slice`` (kept if it
exists), then runs, each as its own ``pmiembed`` process: ``train BASE --save-counts``,
``update SLICE`` on that model (once per ``--n-iter`` value), and ``train BASE SLICE``
from scratch; prints the wall times (process start to exit) and the scores of the
updated and the from-scratch vectors with their largest difference.
"""

from __future__ import annotations

import argparse
import os
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
    ap.add_argument("--work", default=None, help="folder for the models [temporary]")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="pmiembed-update-"))
    work.mkdir(parents=True, exist_ok=True)
    sl = Path(args.slice) if args.slice else work / "slice.txt.gz"
    if not sl.exists():
        n = write_prefix(Path(args.more), int(args.tokens), sl)
        print(f"slice: first {n:,} tokens of {args.more} -> {sl}", flush=True)
    base = work / "base"
    t_base = pmiembed("train", args.base, "--out", base, "--save-counts", "--force")
    rows = []
    for it in args.n_iter.split(","):
        out = work / f"updated-{it}"
        t = pmiembed("update", sl, "--vectors", base, "--out", out, "--n-iter", it, "--force")
        rows.append((f"update (--n-iter {it})", t, out))
    scratch = work / "scratch"
    t_scratch = pmiembed("train", args.base, sl, "--out", scratch, "--force")
    print(f"\ntrain base --save-counts: {t_base:.1f} s")
    print(f"train base + slice from scratch: {t_scratch:.1f} s")
    ref = scores(scratch)
    names = list(ref)
    print("\n| model | wall s | x scratch | " + " | ".join(names) + " | max diff |")
    print("|---" * (len(names) + 4) + "|")
    print(f"| from scratch | {t_scratch:.1f} | 1.00 | " + " | ".join(f"{ref[k]:.4f}" for k in names) + " | |")
    for label, t, out in rows:
        s = scores(out)
        diff = max(abs(s[k] - ref[k]) for k in names)
        print(f"| {label} | {t:.1f} | {t / t_scratch:.2f} | " + " | ".join(f"{s[k]:.4f}" for k in names)
              + f" | {diff:.4f} |")
    print(f"\nmodels in {work}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
