"""Turn sweep results (``pmiembed sweep ... --out DIR``, DIR/results.jsonl) into the
ablation table of docs/ablation.md: every measured configuration with its score on every
benchmark, each row naming the parameters in which it differs from the defaults *it was
compared against* (stored in the row), and two means: Spearman rho over the similarity
benchmarks, accuracy over the analogy ones (a correlation and an accuracy are not averaged
together); best mean similarity first, then best mean analogy.

    python benchmarks/ablation.py docs/ablation-results.jsonl
    python benchmarks/ablation.py sweep1/results.jsonl ... --word2vec speed.json

Every row stores its full parameters (``params``) and the default recipe of the code that
measured it (``defaults``; ``pmiembed sweep`` writes both), so the labels do not change
when today's defaults do; rows measured against different defaults get separate tables.
``--word2vec FILE`` adds a skip-gram row: FILE is the ``--json`` output of
``benchmarks/speed.py --with-word2vec`` (its ``scores.word2vec``) or a ``pmiembed
compare`` report.json (its model labelled word2vec); without it no skip-gram row is
printed.
"""

from __future__ import annotations

import argparse
import json
import sys

NAMES = ["ws353", "ws353_similarity", "ws353_relatedness", "simlex999", "men", "rw", "google", "msr"]
SHORT = ["WS353", "WS-sim", "WS-rel", "SimLex", "MEN", "RW", "Google", "MSR"]
ANALOGY = ["google", "msr"]
#: the parameters a row is labelled by (those of its defaults it differs in)
KEYS = ["window", "weighting", "min_count", "subsample", "subsample_mode", "cds", "neg", "eig", "wc", "abtt",
        "core_min_count", "svd", "n_iter", "oversamples", "dim"]


def _same(v, d) -> bool:
    if isinstance(v, bool) or isinstance(d, bool):
        return v == d
    if isinstance(v, (int, float)) and isinstance(d, (int, float)):
        return float(v) == float(d)
    return v == d


def diff(params: dict, defaults: dict) -> str:
    out = [f"{k}={params.get(k)}" for k in KEYS if k in defaults and not _same(params.get(k), defaults[k])]
    return ", ".join(out) or "**default recipe**"


def read_rows(paths) -> list[dict]:
    rows, seen = [], set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                r = json.loads(line)
                if "defaults" not in r:
                    raise SystemExit(f"ablation.py: error: {path}:{lineno}: row has no 'defaults' (the recipe it was "
                                     "compared against); rows from a sweep before they were stored need them added")
                key = json.dumps({k: r["params"].get(k) for k in KEYS}, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    rows.append(r)
    return rows


def word2vec_scores(path) -> dict:
    scores = _word2vec_scores(path)
    missing = [n for n in NAMES if n not in scores]
    if missing:
        raise SystemExit(f"ablation.py: error: {path}: no skip-gram score for {', '.join(missing)}; "
                         "measure with PMIEMBED_DATA set so that all eight benchmarks are found")
    return scores


def _word2vec_scores(path) -> dict:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if "scores" in data and "word2vec" in data["scores"]:  # speed.py --json
        return dict(data["scores"]["word2vec"])
    for m in data.get("models", []):  # pmiembed compare's report.json
        if m.get("kind") == "word2vec":
            return {n: b["score"] if "score" in b else max(b["3cosadd"], b["3cosmul"])
                    for n, b in m["benchmarks"].items()}
    raise SystemExit(f"ablation.py: error: {path}: no word2vec scores (use speed.py --with-word2vec --json FILE "
                     "or a pmiembed compare report.json)")


def means(scores: dict) -> tuple[float, float]:
    """(mean Spearman rho over the similarity benchmarks, mean analogy accuracy)."""
    sim = [scores[n] for n in NAMES if n not in ANALOGY]
    ana = [scores[n] for n in ANALOGY]
    return sum(sim) / len(sim), sum(ana) / len(ana)


def tables(rows: list[dict], skipgram: dict | None = None) -> str:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(json.dumps(r["defaults"], sort_keys=True), []).append(r)
    out = []
    for key, group in groups.items():
        defaults = json.loads(key)
        if len(groups) > 1 or out:
            out.append("")
        if len(groups) > 1:
            out.append("Compared against: " + ", ".join(f"{k}={defaults[k]}" for k in KEYS if k in defaults))
            out.append("")
        out.append("| differs from the default in | " + " | ".join(SHORT) + " | mean similarity | mean analogy |")
        out.append("|---|" + "---|" * (len(SHORT) + 2))
        if skipgram is not None:
            vals = {n: skipgram[n] for n in NAMES}
            out.append("| skip-gram (gensim) | " + " | ".join(f"{vals[n]:.3f}" for n in NAMES)
                       + " | {:.3f} | {:.3f} |".format(*means(vals)))
        for r in sorted(group, key=lambda r: tuple(-m for m in means({n: r["scores"][n]["score"] for n in NAMES}))):
            vals = {n: r["scores"][n]["score"] for n in NAMES}
            out.append(f"| {diff(r['params'], defaults)} | " + " | ".join(f"{vals[n]:.3f}" for n in NAMES)
                       + " | {:.3f} | {:.3f} |".format(*means(vals)))
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", help="results.jsonl files of pmiembed sweep")
    ap.add_argument("--word2vec", default=None, metavar="FILE", help="add a skip-gram row from this JSON file")
    args = ap.parse_args(argv)
    rows = read_rows(args.results)
    print(tables(rows, word2vec_scores(args.word2vec) if args.word2vec else None))
    if len({json.dumps(r["defaults"], sort_keys=True) for r in rows}) == 1:
        d = rows[0]["defaults"]
        print("\nDefault recipe of these rows: " + ", ".join(f"{k}={d[k]}" for k in KEYS if k in d)
              + (f" (code {rows[0]['code']})" if rows[0].get("code") else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
