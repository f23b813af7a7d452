"""Time every stage of ``pmiembed train`` and its peak memory; optionally train the
gensim skip-gram baseline in the same run and compare speed and scores.

    python benchmarks/speed.py ../shared/data/corpora/wiki17m.txt.gz --with-word2vec
    python benchmarks/speed.py ../shared/data/corpora/wiki17m.txt.gz \
        ../shared/data/corpora/wiki69m-rest.txt.gz --memory 1
    python benchmarks/speed.py CORPUS --reference      # scores against ARPACK's SVD

Each model is trained in its own child process (pmiembed's child harness,
:mod:`pmiembed._child`, the one ``pmiembed compare`` uses), so the peak resident memory
reported for it (the child's own high-water mark) is its own.  pmiembed's child runs exactly what
``pmiembed train`` runs (``PMIEmbedding.fit`` then ``save``) and times each stage.
Prints a table and writes JSON (``--json``).

Cold and warm: pmiembed's kernels are compiled by numba on first use and cached.  The
first pmiembed run uses a fresh, empty ``NUMBA_CACHE_DIR`` (a first run after install:
its ``compile`` row is the compilation), then ``--warm N`` runs (default 1) load the
kernels from that cache; the speed-up over skip-gram is given for both.  ``--no-cold``
skips the cold run (the warm runs then use the usual cache).

Fair comparison, checked: both models get the same number of worker threads
(``--workers``, default the cores this process may use) and must end with the same
vocabulary, or the script stops with an error.  The benchmarks found (and missing) are
printed first: without ``PMIEMBED_DATA`` only gensim's three copies are used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path


def _pmi_child(spec: dict) -> dict:
    """In the child process: what ``pmiembed train`` runs, each stage timed."""
    from pmiembed.model import PMIEmbedding
    from pmiembed.resources import peak_rss_bytes

    start = time.perf_counter()
    # as `pmiembed train` does: neither the counts nor the token ids are kept
    model = PMIEmbedding(**spec["params"], keep_counts=False, keep_tokens=False).fit(spec["corpus"])
    t = time.perf_counter()
    model.save(spec["out"], force=True)
    timings = {k: v for k, v in model.timings_.items() if k != "total"}
    timings["write"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    return {"timings": timings, "peak_rss_bytes": peak_rss_bytes(), "tokens": model.corpus_stats_["tokens"],
            "vocabulary": len(model.vocabulary_), "cooccurrence_nnz": int(model.cooccurrence_nnz_),
            "pmi_nnz": int(model.pmi_.nnz), "compiled_kernels": model.compiled_kernels_,
            "workers": model.n_workers_, "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR"),
            "words": list(model.vocabulary_.words)}


def _w2v_child(spec: dict) -> dict:
    """In the child process: gensim's skip-gram with matched settings."""
    from pmiembed.word2vec import ChunkedSentences, train_word2vec

    start = time.perf_counter()
    # text files are read as pmiembed's default reads them (tokenize="words", lowercased)
    kv, info = train_word2vec(ChunkedSentences(spec["corpus"]), progress=False, **spec["params"])
    kv.save_word2vec_format(str(Path(spec["out"]) / "vectors.bin"), binary=True)
    return {"timings": {"total": time.perf_counter() - start, "train": info.get("train_seconds")},
            "peak_rss_bytes": info["peak_rss_bytes"], "vocabulary": len(kv),
            "workers": info["params"]["workers"], "words": list(kv.index_to_key)}


def run_child(target, corpus, params, out, scratch: Path, env: dict | None = None) -> dict:
    """``target`` (a function of this file) in a fresh interpreter through pmiembed's
    child harness (the one ``pmiembed compare`` uses); ``env`` is added to its
    environment (``NUMBA_CACHE_DIR`` must be set before numba is imported).  The
    result's ``wall`` includes interpreter start and imports."""
    from pmiembed._child import run_in_child

    try:
        return run_in_child(f"{Path(__file__).resolve()}:{target.__name__}",
                            {"corpus": corpus, "params": params, "out": out}, scratch, target.__name__, env=env)
    except Exception as exc:  # a child that fails (an error, out of memory) stops the benchmark
        raise SystemExit(f"speed.py: error: child {target.__name__} failed: {exc}") from None


def check_same_setup(pmi: dict, w2v: dict) -> None:
    """Stop unless both models used the same number of worker threads and ended with the
    same vocabulary (a speed-up or score difference would otherwise compare unequal
    tasks)."""
    if pmi["workers"] != w2v["workers"]:
        raise SystemExit(f"speed.py: error: pmiembed used {pmi['workers']} worker threads and word2vec "
                         f"{w2v['workers']}; pass --workers N to give both the same")
    a, b = set(pmi["words"]), set(w2v["words"])
    if a != b:
        only_p, only_w = sorted(a - b), sorted(b - a)
        raise SystemExit(f"speed.py: error: the vocabularies differ: {len(only_p)} words only in pmiembed "
                         f"({', '.join(only_p[:5])}), {len(only_w)} only in word2vec ({', '.join(only_w[:5])}); "
                         "both must read the same tokens with the same min_count")


def scores(vectors_path) -> dict:
    from pmiembed.evaluate import evaluate, results_to_dict
    from pmiembed.vectors import load_vectors

    out = {}
    for name, r in results_to_dict(evaluate(load_vectors(vectors_path))).items():
        out[name] = r["score"] if "score" in r else max(r["3cosadd"], r["3cosmul"])
    return out


def reference_scores(corpus, params) -> dict:
    """The same recipe the slow, straightforward way: exact counts (pmiembed's counts are
    exact) and ARPACK's SVD of the float64 PPMI matrix (scipy ``svds``; about 4-5 min
    on wiki17m)."""
    import numpy as np

    from pmiembed.evaluate import evaluate, results_to_dict
    from pmiembed.model import PMIEmbedding

    # the model's own stages, with ARPACK on the float64 PPMI matrix as the SVD
    from pmiembed.vectors import make_keyed_vectors
    model = PMIEmbedding(**{**params, "svd": "arpack"})
    cooc = model.count(corpus)
    kv = make_keyed_vectors(cooc.vocab.words, model.vectors(model.factorise(cooc, dtype=np.float64)))
    return {name: (r["score"] if "score" in r else max(r["3cosadd"], r["3cosmul"]))
            for name, r in results_to_dict(evaluate(kv)).items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="+")
    ap.add_argument("--with-word2vec", action="store_true", help="also train gensim skip-gram (matched settings)")
    ap.add_argument("--reference", action="store_true", help="also score the recipe with a high-precision SVD")
    ap.add_argument("--evaluate", action="store_true", help="evaluate on every available benchmark")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--min-count", type=int, default=None, help="both models' min_count [5]")
    ap.add_argument("--workers", type=int, default=None,
                    help="worker threads of both models [the cores this process may use]")
    ap.add_argument("--memory", type=float, default=None, help="pmiembed's --memory budget in GB")
    ap.add_argument("--warm", type=int, default=1, metavar="N", help="pmiembed runs on a warm kernel cache [1]")
    ap.add_argument("--no-cold", action="store_true",
                    help="skip the first run on an empty NUMBA_CACHE_DIR (compilation included)")
    ap.add_argument("--json", default=None, help="write the figures here")
    ap.add_argument("--keep", default=None, help="keep the trained vectors in this folder")
    args = ap.parse_args(argv)
    if args.warm < 0 or (args.warm == 0 and args.no_cold):
        ap.error("--warm must be >= 0, and >= 1 with --no-cold")
    from pmiembed.evaluate import describe_benchmarks
    from pmiembed.resources import cpu_count

    corpus = args.corpus if len(args.corpus) > 1 else args.corpus[0]
    workers = args.workers or cpu_count()  # word2vec would take os.cpu_count(), pmiembed the affinity mask
    params = {"dim": args.dim, "workers": workers, "memory": args.memory, "min_count": args.min_count}
    params = {k: v for k, v in params.items() if v is not None}
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="pmiembed-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    report = {"corpus": [str(c) for c in args.corpus], "params": params, "machine": {
        "cores": os.cpu_count(), "usable_cores": cpu_count(), "python": platform.python_version(),
        "platform": platform.platform()}}
    scored = args.evaluate or args.with_word2vec or args.reference
    if scored:
        report["benchmarks"] = describe_benchmarks()
        print(report["benchmarks"], flush=True)

    runs = []
    if not args.no_cold:
        cache = tempfile.mkdtemp(prefix="pmiembed-numba-cold-")
        runs.append(dict(run_child(_pmi_child, corpus, params, str(work / "pmi"), work / ".children",
                                   env={"NUMBA_CACHE_DIR": cache}), run="cold"))
        if not runs[-1]["compiled_kernels"]:
            raise SystemExit("speed.py: error: the cold run compiled no kernels; is NUMBA_DISABLE_JIT set?")
        env = {"NUMBA_CACHE_DIR": cache}  # the warm runs load what the cold run compiled
    else:
        env = None
    for i in range(args.warm):
        runs.append(dict(run_child(_pmi_child, corpus, params, str(work / "pmi"), work / ".children", env=env),
                         run=f"warm {i + 1}"))
    warm = [r for r in runs if r["run"] != "cold"]
    pmi = min(warm, key=lambda r: r["wall"]) if warm else runs[0]  # the stage table's run: the fastest warm one
    cold = runs[0] if not args.no_cold else None
    report["pmiembed_runs"] = [{k: v for k, v in r.items() if k != "words"} for r in runs]
    report["pmiembed"] = {k: v for k, v in pmi.items() if k != "words"}
    if args.with_word2vec:
        (work / "word2vec").mkdir(exist_ok=True)
        w2v_params = {k: v for k, v in {"dim": args.dim, "workers": workers, "min_count": args.min_count}.items()
                      if v is not None}
        w2v = run_child(_w2v_child, corpus, w2v_params, str(work / "word2vec"), work / ".children")
        check_same_setup(pmi, w2v)
        report["word2vec"] = {k: v for k, v in w2v.items() if k != "words"}
        if warm:
            report["speedup"] = w2v["wall"] / pmi["wall"]
        if cold is not None:
            report["speedup_cold"] = w2v["wall"] / cold["wall"]
    if scored:
        report["scores"] = {"pmiembed": scores(work / "pmi")}
        if args.with_word2vec:
            report["scores"]["word2vec"] = scores(work / "word2vec" / "vectors.bin")
    if args.reference:
        report["scores"]["reference"] = reference_scores(corpus, {k: v for k, v in params.items() if k != "workers"})
        ours, reference = report["scores"]["pmiembed"], report["scores"]["reference"]
        report["max_abs_diff_to_reference"] = max(abs(ours[k] - reference[k]) for k in reference)

    gb = 2 ** 30
    lines = [f"corpus: {', '.join(report['corpus'])} ({pmi['tokens']:,} tokens, {pmi['vocabulary']:,} words, "
             f"{pmi['cooccurrence_nnz']:,} co-occurrence nonzeros; {workers} worker threads)", "",
             "| stage | " + " | ".join(r["run"] for r in runs) + " |", "|---|" + "---|" * len(runs)]
    stages = list(dict.fromkeys(k for r in runs for k in r["timings"] if k not in ("total", "compile")))
    stages.append("compile")  # numba compiling kernels, apart from the stages
    for stage in stages:
        lines.append(f"| {stage} | " + " | ".join(f"{r['timings'].get(stage, 0.0):.1f}" for r in runs) + " |")
    lines.append("| wall (process start to exit) | " + " | ".join(f"{r['wall']:.1f}" for r in runs) + " |")
    lines.append("| peak RSS (GB) | " + " | ".join(f"{r['peak_rss_bytes'] / gb:.2f}" for r in runs) + " |")
    if cold is not None:
        lines.append(f"\ncold run: {len(cold['compiled_kernels'])} numba kernels compiled in "
                     f"{cold['timings'].get('compile', 0.0):.1f} s (fresh NUMBA_CACHE_DIR); warm runs compiled "
                     f"{sum(len(r['compiled_kernels']) for r in warm)}")
    if args.with_word2vec:
        w = report["word2vec"]
        lines += ["", f"word2vec skip-gram: {w['wall']:.1f} s wall, peak RSS {w['peak_rss_bytes'] / gb:.2f} GB, "
                      f"{w['workers']} worker threads, same {w['vocabulary']:,}-word vocabulary",
                  "speed-up of pmiembed over skip-gram: "
                  + ", ".join(([f"{report['speedup']:.1f}x warm"] if warm else [])
                              + ([f"{report['speedup_cold']:.1f}x cold"] if cold is not None else []))]
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
    if not args.no_cold:
        shutil.rmtree(cache, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
