"""Phrase detection speed: pmiembed's ``Phrases`` against gensim's ``Phrases(scoring="npmi")``
on the same corpus and settings, and whether they find the same phrases.

    python benchmarks/phrases.py ../shared/data/corpora/wiki17m.txt.gz --min-count 5 --threshold 0.5

Both read the (gzip) file themselves, one line a document; times are wall seconds for
finding the phrases (reading and counting included; gensim's ``export_phrases`` not
included), each in its own process so neither inherits the other's memory.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import run_child  # noqa: E402


def _mine(corpus, min_count, threshold, queue):
    from pmiembed.phrases import Phrases
    from pmiembed.resources import peak_rss_bytes

    t = time.perf_counter()
    p = Phrases(corpus, min_count=min_count, threshold=threshold)
    seconds = time.perf_counter() - t
    queue.put({"seconds": seconds, "phrases": sorted(p.export_phrases()), "rss": peak_rss_bytes()})


def _gensim(corpus, min_count, threshold, queue):
    from gensim.models.phrases import Phrases

    from pmiembed.corpus import open_text_bytes
    from pmiembed.resources import peak_rss_bytes

    def lines():
        with open_text_bytes(Path(corpus)) as f:
            for line in f:
                words = line.decode("utf-8", errors="replace").split()
                if words:
                    yield words

    t = time.perf_counter()
    p = Phrases(lines(), min_count=min_count, threshold=threshold, scoring="npmi")
    seconds = time.perf_counter() - t
    queue.put({"seconds": seconds, "phrases": sorted(p.export_phrases()), "rss": peak_rss_bytes()})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--threshold", type=float, default=0.5)
    args = ap.parse_args()
    mine = run_child(_mine, args.corpus, args.min_count, args.threshold)
    theirs = run_child(_gensim, args.corpus, args.min_count, args.threshold)
    a, b = set(mine["phrases"]), set(theirs["phrases"])
    print(f"pmiembed Phrases: {mine['seconds']:.1f} s ({mine['wall']:.1f} s wall with start-up), "
          f"{len(a):,} phrases, peak {mine['rss'] / 2**30:.2f} GB")
    print(f"gensim Phrases:   {theirs['seconds']:.1f} s ({theirs['wall']:.1f} s wall with start-up), "
          f"{len(b):,} phrases, peak {theirs['rss'] / 2**30:.2f} GB")
    print(f"speed-up {theirs['seconds'] / mine['seconds']:.1f}x; same phrases: {a == b} "
          f"(only pmiembed {len(a - b)}, only gensim {len(b - a)}; e.g. {sorted(a ^ b)[:5]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
