"""``pmiembed train --scheduler local:N`` for several N: wall time per stage and the
largest worker's peak memory (the point of a cluster: each worker holds a share).

    python benchmarks/scaleout.py ../shared/data/corpora/wiki17m.txt.gz \\
        ../shared/data/corpora/wiki69m-rest.txt.gz --workers 1,2,4 --single --json scaleout.json

Each run is a child process (as ``benchmarks/speed.py`` runs pmiembed) that starts a
LocalCluster of N single-threaded worker processes, runs ``PMIEmbedding.fit(corpus,
client=client)`` and ``save`` (what ``pmiembed train --scheduler local:N`` runs), and
reports the stage times, every worker's peak resident memory (``VmHWM``) and the
client's.  ``--single`` adds the single-process route (``pmiembed train``) in the same
run.  The wall time excludes starting the cluster (reported apart) and includes
everything from reading to the written vectors.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import _pmi_child, run_child  # noqa: E402  (the same child as speed.py)


def _cluster_child(corpus, n_workers, out, queue):
    from pmiembed.distributed import connect
    from pmiembed.model import PMIEmbedding
    from pmiembed.resources import peak_rss_bytes

    t0 = time.perf_counter()
    with connect(f"local:{n_workers}") as client:
        client.wait_for_workers(n_workers)
        started = time.perf_counter() - t0
        start = time.perf_counter()
        model = PMIEmbedding(keep_counts=False).fit(corpus, client=client)  # as `pmiembed train --scheduler`
        t = time.perf_counter()
        model.save(out, force=True)
        timings = {k: v for k, v in model.timings_.items() if k != "total"}
        timings["write"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - start
        peaks = sorted(model.worker_peak_bytes_.values())
    queue.put({"timings": timings, "cluster_start": started, "worker_peaks": peaks,
               "client_peak": peak_rss_bytes(), "tokens": model.corpus_stats_["tokens"],
               "shards": model.corpus_stats_["shards"], "vocabulary": len(model.vocabulary_),
               "cooccurrence_nnz": int(model.cooccurrence_nnz_)})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="+")
    ap.add_argument("--workers", default="1,2,4", help="comma-separated numbers of workers [1,2,4]")
    ap.add_argument("--single", action="store_true", help="also run the single-process route")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    corpus = args.corpus if len(args.corpus) > 1 else args.corpus[0]
    sizes = [int(x) for x in args.workers.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="pmiembed-scaleout-") as tmp:
        if args.single:
            r = run_child(_pmi_child, corpus, {}, str(Path(tmp) / "single"))
            rows.append({"route": "single process", **r})
            print(f"single process: {r['timings']['total']:.1f} s, peak {r['peak_rss_bytes'] / 2**30:.2f} GB",
                  flush=True)
        for n in sizes:
            r = run_child(_cluster_child, corpus, n, str(Path(tmp) / f"local{n}"))
            rows.append({"route": f"local:{n}", "n_workers": n, **r})
            print(f"local:{n}: {r['timings']['total']:.1f} s, largest worker peak "
                  f"{r['worker_peaks'][-1] / 2**30:.2f} GB", flush=True)
    stages = ["read", "vocab", "count", "pmi", "svd", "fold-in", "vectors", "write"]
    print(f"\n{rows[0]['tokens']:,} tokens")
    print("| route | " + " | ".join(stages) + " | wall (s) | largest worker peak (GB) | all workers (GB) | client "
                                              "peak (GB) |")
    print("|---" * (len(stages) + 5) + "|")
    for r in rows:
        t = r["timings"]
        cells = [f"{t[s]:.1f}" if s in t else "" for s in stages]
        if "worker_peaks" in r:
            peak, total, client = (f"{r['worker_peaks'][-1] / 2**30:.2f}", f"{sum(r['worker_peaks']) / 2**30:.2f}",
                                   f"{r['client_peak'] / 2**30:.2f}")
        else:
            peak, total, client = f"{r['peak_rss_bytes'] / 2**30:.2f} (one process)", "", ""
        print(f"| {r['route']} | " + " | ".join(cells) + f" | {t['total']:.1f} | {peak} | {total} | {client} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
