"""Turn sweep results (``pmiembed sweep ... --out DIR``, DIR/results.jsonl) into the
ablation table of docs/ablation.md: every measured configuration with its score on
every benchmark, the lever that differs from the default recipe named, and the
skip-gram row for reference.

    python benchmarks/ablation.py sweep1/results.jsonl sweep2/results.jsonl ... > docs/ablation.md
"""

from __future__ import annotations

import json
import sys

NAMES = ["ws353", "ws353_similarity", "ws353_relatedness", "simlex999", "men", "rw", "google", "msr"]
SHORT = ["WS353", "WS-sim", "WS-rel", "SimLex", "MEN", "RW", "Google", "MSR"]
KEYS = ["window", "weighting", "subsample", "subsample_mode", "cds", "neg", "eig", "wc", "abtt", "n_iter"]


def main(paths):
    from pmiembed.defaults import DEFAULTS

    rows, seen = [], set()
    for path in paths:
        for line in open(path, encoding="utf-8"):
            if line.strip():
                r = json.loads(line)
                key = json.dumps({k: r["params"].get(k) for k in KEYS}, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    rows.append(r)
    default = {k: DEFAULTS[k] for k in KEYS}

    def diff(p):
        out = []
        for k in KEYS:
            v, d = p.get(k), default[k]
            if v != d and not (isinstance(v, (int, float)) and isinstance(d, (int, float)) and not isinstance(v, bool)
                               and float(v) == float(d)):
                out.append(f"{k}={v}")
        return ", ".join(out) or "**default recipe**"

    print("| differs from the default in | " + " | ".join(SHORT) + " | mean |")
    print("|---|" + "---|" * (len(SHORT) + 1))
    for r in sorted(rows, key=lambda r: -sum(r["scores"][n]["score"] for n in NAMES)):
        vals = [r["scores"][n]["score"] for n in NAMES]
        print(f"| {diff(r['params'])} | " + " | ".join(f"{v:.3f}" for v in vals) + f" | {sum(vals) / len(vals):.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
