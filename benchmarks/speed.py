"""Time every stage of ``pmiembed train`` and its peak memory; optionally train the
gensim skip-gram baseline in the same run and compare speed and scores.

    python benchmarks/speed.py ../shared/data/corpora/wiki17m.txt.gz --with-word2vec
    python benchmarks/speed.py ../shared/data/corpora/wiki17m.txt.gz ../shared/data/corpora/wiki69m-rest.txt.gz --memory 1
    python benchmarks/speed.py CORPUS --reference      # scores against ARPACK's SVD

Each model is trained in its own child process, so the peak resident memory reported
for it (``ru_maxrss`` of that child) is its own.  pmiembed's child runs exactly what
``pmiembed train`` runs (``PMIEmbedding.fit`` then ``save``) and times each stage.
Prints a table and writes JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def _pmi_child(corpus, params, out, queue):
    from pmiembed.model import PMIEmbedding
    from pmiembed.resources import peak_rss_bytes

    start = time.perf_counter()
    model = PMIEmbedding(**params, keep_counts=False).fit(corpus)  # as `pmiembed train`
    t = time.perf_counter()
    model.save(out, force=True)
    timings = {k: v for k, v in model.timings_.items() if k != "total"}
    timings["write"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    queue.put({"timings": timings, "peak_rss_bytes": peak_rss_bytes(), "tokens": model.corpus_stats_["tokens"],
               "vocabulary": len(model.vocabulary_), "cooccurrence_nnz": int(model.cooccurrence_nnz_),
               "pmi_nnz": int(model.pmi_.nnz)})


def _w2v_child(corpus, params, out, queue):
    from pmiembed.word2vec import train_word2vec

    start = time.perf_counter()
    kv, info = train_word2vec(corpus, progress=False, **params)
    kv.save_word2vec_format(str(Path(out) / "vectors.bin"), binary=True)
    queue.put({"timings": {"total": time.perf_counter() - start, "train": info.get("train_seconds")},
               "peak_rss_bytes": info["peak_rss_bytes"], "vocabulary": len(kv)})


def run_child(target, *args):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    t = time.perf_counter()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    import queue as queue_module

    while True:  # a child that dies (an error, out of memory) must not hang the benchmark
        try:
            result = queue.get(timeout=1.0)
            break
        except queue_module.Empty:
            if not proc.is_alive():
                raise SystemExit(f"child {target.__name__} failed with exit code {proc.exitcode}")
    proc.join()
    result["wall"] = time.perf_counter() - t  # includes interpreter start and imports
    if proc.exitcode != 0:
        raise SystemExit(f"child {target.__name__} failed with exit code {proc.exitcode}")
    return result


def scores(vectors_path) -> dict:
    from pmiembed.evaluate import evaluate, results_to_dict
    from pmiembed.model import load_vectors

    out = {}
    for name, r in results_to_dict(evaluate(load_vectors(vectors_path))).items():
        out[name] = r["score"] if "score" in r else max(r["3cosadd"], r["3cosmul"])
    return out


def reference_scores(corpus, params) -> dict:
    """The same recipe the slow, straightforward way: exact counts (pmiembed's counts are
    exact) and ARPACK's SVD of the float64 PPMI matrix (scipy ``svds``; about 4-5 min
    on wiki17m)."""
    import numpy as np

    from pmiembed.model import PMIEmbedding, make_keyed_vectors
    from pmiembed.svd import folded_svd, word_vectors
    from pmiembed.evaluate import evaluate, results_to_dict

    p = dict(params)
    model = PMIEmbedding(**{**p, "dim": p.get("dim", 300), "n_iter": 0}).fit(corpus)
    pmi = model.pmi_.astype(np.float64)
    # the model's own route: SVD of the frequent-word core (model.n_core_), the rest folded in
    u, s, vt = folded_svd(pmi, model.dim, core=model.n_core_, backend="arpack", seed=model.seed)
    kv = make_keyed_vectors(model.vocabulary_.words, word_vectors(u, s, vt, eig=model.eig, wc=model.wc,
                                                                   abtt=model.abtt))
    return {name: (r["score"] if "score" in r else max(r["3cosadd"], r["3cosmul"]))
            for name, r in results_to_dict(evaluate(kv)).items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="+")
    ap.add_argument("--with-word2vec", action="store_true", help="also train gensim skip-gram (matched settings)")
    ap.add_argument("--reference", action="store_true", help="also score the recipe with a high-precision SVD")
    ap.add_argument("--evaluate", action="store_true", help="evaluate on every available benchmark")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--memory", type=float, default=None, help="pmiembed's --memory budget in GB")
    ap.add_argument("--json", default=None, help="write the figures here")
    ap.add_argument("--keep", default=None, help="keep the trained vectors in this folder")
    args = ap.parse_args()
    corpus = args.corpus if len(args.corpus) > 1 else args.corpus[0]
    params = {"dim": args.dim, "workers": args.workers, "memory": args.memory}
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="pmiembed-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    report = {"corpus": [str(c) for c in args.corpus], "params": params, "machine": {
        "cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}}

    pmi = run_child(_pmi_child, corpus, {k: v for k, v in params.items() if v is not None}, str(work / "pmi"))
    report["pmiembed"] = pmi
    if args.with_word2vec:
        (work / "word2vec").mkdir(exist_ok=True)
        w2v_params = {"dim": args.dim, "workers": args.workers}
        report["word2vec"] = run_child(_w2v_child, corpus, {k: v for k, v in w2v_params.items() if v is not None},
                                       str(work / "word2vec"))
        report["speedup"] = report["word2vec"]["wall"] / pmi["wall"]
    if args.evaluate or args.with_word2vec or args.reference:
        report["scores"] = {"pmiembed": scores(work / "pmi")}
        if args.with_word2vec:
            report["scores"]["word2vec"] = scores(work / "word2vec" / "vectors.bin")
    if args.reference:
        report["scores"]["reference"] = reference_scores(corpus, {k: v for k, v in params.items() if v is not None})
        report["max_abs_diff_to_reference"] = max(
            abs(report["scores"]["pmiembed"][k] - report["scores"]["reference"][k]) for k in report["scores"]["reference"])

    gb = 2 ** 30
    lines = [f"corpus: {', '.join(report['corpus'])} ({pmi['tokens']:,} tokens, {pmi['vocabulary']:,} words, "
             f"{pmi['cooccurrence_nnz']:,} co-occurrence nonzeros)", "",
             "| stage | seconds |", "|---|---|"]
    for stage, secs in pmi["timings"].items():
        lines.append(f"| {stage} | {secs:.1f} |")
    lines.append(f"| wall (process start to exit) | {pmi['wall']:.1f} |")
    lines.append(f"| peak RSS | {pmi['peak_rss_bytes'] / gb:.2f} GB |")
    if args.with_word2vec:
        w = report["word2vec"]
        lines += ["", f"word2vec skip-gram: {w['wall']:.1f} s wall, peak RSS {w['peak_rss_bytes'] / gb:.2f} GB",
                  f"speed-up of pmiembed over skip-gram: {report['speedup']:.1f}x"]
    if "scores" in report:
        models = list(report["scores"])
        names = list(report["scores"][models[0]])
        lines += ["", "| benchmark | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
        for n in names:
            lines.append(f"| {n} | " + " | ".join(f"{report['scores'][m][n]:.3f}" for m in models) + " |")
    if args.reference:
        lines.append(f"\nlargest score difference to the ARPACK SVD: {report['max_abs_diff_to_reference']:.4f}")
    text = "\n".join(lines)
    print(text)
    report["table"] = text
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
