"""How much accuracy does a fast SVD give away?  Benchmark scores of the default recipe
with the randomized SVD at several power iterations / oversamplings / seeds, against a
converged reference (ARPACK, or the randomized SVD with many iterations in float64).

    python benchmarks/svd_accuracy.py ../shared/data/corpora/wiki17m.txt.gz --reference arpack
    python benchmarks/svd_accuracy.py CORPUS --reference arpack --spectrum 100 --variants 5:20:0,6:140:0

``--spectrum N`` also prints the reference's singular values around the cut: where they
are flat (wiki17m: s_300 / s_321 = 1.0095) the randomized SVD needs many extra columns
(``n_iter:oversamples:seed`` variants) to match the reference's scores.

The recipe is the default one unless flags say otherwise (the flags of ``pmiembed
train``): ``--window --weighting --min-count --sub --sub-mode`` for counting, ``--cds
--neg`` for PMI, ``--eig --abtt --wc`` for the vectors, ``--core-min-count`` for the SVD's
core.  Levy, Goldberg & Dagan's recipe with an exact SVD, as docs/ablation.md quotes it:

    python benchmarks/svd_accuracy.py ../shared/data/corpora/wiki17m.txt.gz --reference arpack \
        --window 2 --weighting dynamic --sub none --cds 0.75 --abtt none --core-min-count none --variants 5:20:0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from pmiembed.cooccur import Cooccurrence
from pmiembed.defaults import DEFAULTS
from pmiembed.evaluate import describe_benchmarks, evaluate, results_to_dict
from pmiembed.model import PMIEmbedding
from pmiembed.svd import core_size
from pmiembed.vectors import make_keyed_vectors


def scores(kv) -> dict:
    out = {}
    for name, r in results_to_dict(evaluate(kv)).items():
        out[name] = r["score"] if "score" in r else max(r["3cosadd"], r["3cosmul"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("corpus", nargs="+")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--counts", default=None, help="cache the counts here (.npz)")
    ap.add_argument("--reference", choices=["arpack", "randomized64"], default="randomized64")
    ap.add_argument("--variants", default="3:20:0,5:20:0,5:20:1,5:20:2,6:20:0,8:20:0",
                    help="n_iter:oversamples:seed,...")
    ap.add_argument("--spectrum", type=int, default=0, metavar="N",
                    help="ARPACK reference only: compute N singular values beyond --dim and print the "
                         "spectrum at the cut (how flat it is decides how fast the tail converges)")
    ap.add_argument("--core-min-count", type=lambda v: None if v.lower() == "none" else int(v),
                    default=DEFAULTS["core_min_count"],
                    help="factorise the words seen this often, fold in the rest, as the model does "
                         "('none': every word) [%(default)s]")
    ap.add_argument("--core-max-words", type=lambda v: None if v.lower() == "none" else int(v),
                    default=DEFAULTS["core_max_words"],
                    help="at most this many of them, the most frequent, as the model does ('none': no cap) "
                         "[%(default)s]")
    def none_or(cast):
        return lambda v: None if v.lower() == "none" else cast(v)

    ap.add_argument("--window", type=int, default=DEFAULTS["window"], help="[%(default)s]")
    ap.add_argument("--weighting", default=DEFAULTS["weighting"], help="[%(default)s]")
    ap.add_argument("--min-count", type=int, default=DEFAULTS["min_count"], help="[%(default)s]")
    ap.add_argument("--sub", type=none_or(float), default=DEFAULTS["subsample"],
                    help="subsampling threshold or 'none' [%(default)s]")
    ap.add_argument("--sub-mode", default=DEFAULTS["subsample_mode"], help="[%(default)s]")
    ap.add_argument("--cds", type=float, default=DEFAULTS["cds"], help="context distribution smoothing [%(default)s]")
    ap.add_argument("--neg", type=float, default=DEFAULTS["neg"], help="PMI shift [%(default)s]")
    ap.add_argument("--eig", type=float, default=DEFAULTS["eig"], help="eigenvalue weighting [%(default)s]")
    ap.add_argument("--abtt", type=none_or(int), default=DEFAULTS["abtt"],
                    help="directions removed or 'none' [%(default)s]")
    ap.add_argument("--wc", action="store_true", help="add the context vectors (w+c)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    counting = {"window": args.window, "weighting": args.weighting, "min_count": args.min_count,
                "subsample": args.sub, "subsample_mode": args.sub_mode}
    print(f"recipe: {counting}, cds={args.cds}, neg={args.neg}, eig={args.eig}, abtt={args.abtt}, wc={args.wc}, "
          f"core_min_count={args.core_min_count}, core_max_words={args.core_max_words}", flush=True)
    print(describe_benchmarks(), flush=True)
    model = PMIEmbedding(**counting, dim=args.dim, cds=args.cds, neg=args.neg, eig=args.eig, abtt=args.abtt,
                         wc=args.wc, core_min_count=args.core_min_count, core_max_words=args.core_max_words)
    if args.counts and Path(args.counts).exists():
        cooc = Cooccurrence.load(args.counts)
        theirs = {k: cooc.params.get(k) for k in ("window", "weighting", "subsample", "subsample_mode")}
        if theirs != {k: counting[k] for k in theirs} or min(cooc.vocab.counts) < args.min_count:
            raise SystemExit(f"svd_accuracy.py: error: {args.counts}: counted with {theirs}, not this recipe's "
                             f"{counting}; give another --counts file")
    else:
        cooc = model.count(args.corpus if len(args.corpus) > 1 else args.corpus[0])
        if args.counts:
            cooc.save(args.counts)
    core = core_size(cooc.vocab.counts, args.core_min_count, args.dim, args.core_max_words)
    which = "every word" if core is None else f"the {core:,} most frequent words seen >= {args.core_min_count} times"
    print(f"SVD of {which} ({len(cooc.vocab):,} words)", flush=True)

    def vectors(factors):
        return make_keyed_vectors(cooc.vocab.words, model.vectors(factors))

    # every SVD below is the model's own factorise stage (the core, the rest folded in)
    # on one PPMI matrix per dtype; only the SVD settings change
    rows = {}
    model.pmi(cooc, dtype=np.float64)  # the reference's PPMI matrix, made before its clock starts
    t = time.perf_counter()
    if args.reference == "arpack":
        k = args.dim + max(0, args.spectrum)
        model.set_params(svd="arpack", dim=k)
        f = model.factorise(cooc, dtype=np.float64)
        s = f.s
        if args.spectrum > 0:
            marks = sorted({args.dim - 20, args.dim - 1, args.dim + 19, args.dim + args.spectrum // 2, k - 1} - {-1})
            print("spectrum at the cut: " + ", ".join(f"s_{i + 1} {s[i]:.2f}" for i in marks if 0 <= i < k)
                  + f"; s_{args.dim} / s_{args.dim + 21} = {s[args.dim - 1] / s[min(k - 1, args.dim + 20)]:.4f}",
                  flush=True)
        f = f._replace(u=f.u[:, :args.dim], s=f.s[:args.dim], vt=f.vt[:args.dim])
        model.set_params(dim=args.dim)
    else:
        model.set_params(svd="randomized", n_iter=25, oversamples=100)
        f = model.factorise(cooc, dtype=np.float64)
    ref_s = f.s
    model.pmi(cooc)  # the variants' float32 PPMI matrix, made before their clocks start
    rows["reference"] = {"seconds": time.perf_counter() - t, **scores(vectors(f))}
    print(json.dumps({"reference": rows["reference"]}), flush=True)
    for spec in args.variants.split(","):
        it, over, seed = (int(x) for x in (spec + ":0").split(":")[:3])
        model.set_params(svd="randomized", n_iter=it, oversamples=over, seed=seed)
        t = time.perf_counter()
        f = model.factorise(cooc)
        secs = time.perf_counter() - t
        s = f.s
        row = {"seconds": secs, "sv_rel_err_last": float(abs(s[-1] - ref_s[-1]) / ref_s[-1]),
               **scores(vectors(f))}
        rows[f"n_iter={it} oversample={over} seed={seed}"] = row
        print(json.dumps({spec: row}), flush=True)
    names = [k for k in rows["reference"] if k != "seconds"]
    print("\n| SVD | seconds | " + " | ".join(names) + " | max |diff| |")
    print("|---|---|" + "---|" * (len(names) + 1))
    for label, row in rows.items():
        diff = max(abs(row[n] - rows["reference"][n]) for n in names)
        print(f"| {label} | {row['seconds']:.1f} | " + " | ".join(f"{row[n]:.3f}" for n in names) + f" | {diff:.4f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"recipe": {**counting, "cds": args.cds, "neg": args.neg,
                                                          "eig": args.eig, "abtt": args.abtt, "wc": args.wc,
                                                          "core_min_count": args.core_min_count,
                                                          "core_max_words": args.core_max_words},
                                               "rows": rows}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
