"""How time and memory of ``pmiembed train`` grow with the corpus: the default recipe on
prefixes of a corpus and on growing sets of whole files, each run in its own process
(as ``benchmarks/speed.py`` runs it), with a table, JSON and a log-log plot.

    python benchmarks/scaling.py ../shared/data/corpora/wiki17m.txt.gz \\
        ../shared/data/corpora/wiki69m-rest.txt.gz --tokens 1e6,4e6 --memory 1 \\
        --plot docs/scaling.png --json scaling.json

``--tokens``: sizes cut from the start of the first file (written gzip-compressed to a
temporary folder, as the originals are, so reading costs the same per token); then the
first file alone, the first two together, and so on.  ``--memory`` is passed to every
run (the same budget for every size keeps the runs comparable).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tempfile
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import _pmi_child, run_child  # noqa: E402  (the same child as speed.py)


def write_prefix(path: Path, n_tokens: int, out: Path, block_bytes: int = 1 << 23) -> int:
    """The first ``n_tokens`` whitespace-separated tokens of ``path`` (line breaks kept)
    into the gzip file ``out``; returns how many were written (fewer if the file is
    shorter)."""
    from pmiembed.corpus import open_text_bytes

    need = n_tokens
    with open_text_bytes(path) as src, gzip.open(out, "wb", compresslevel=6) as dst:
        carry = b""
        while need > 0:
            block = src.read(block_bytes)
            data = carry + block
            if block:  # keep a token cut by the block boundary for the next round
                cut = max(data.rfind(b" "), data.rfind(b"\n"), data.rfind(b"\t"))
                data, carry = (data[:cut + 1], data[cut + 1:]) if cut >= 0 else (b"", data)
            n = len(data.split())
            if n <= need:
                dst.write(data)
                need -= n
            else:
                last = list(islice(re.finditer(rb"\S+", data), need))[-1]
                dst.write(data[:last.end()] + b"\n")
                need = 0
            if not block:
                break
    return n_tokens - need


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="+", help="corpus files; prefixes come from the first")
    ap.add_argument("--tokens", default="1e6,4e6", help="prefix sizes in tokens, comma-separated ('' for none)")
    ap.add_argument("--memory", type=float, default=None, help="pmiembed's --memory budget in GB, every run")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--plot", default=None, help="write a log-log plot of time and memory here (PNG)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    files = [Path(c) for c in args.corpus]
    for f in files:
        if not f.is_file():
            raise SystemExit(f"scaling.py: error: {f}: no such file")
    params = {k: v for k, v in {"memory": args.memory, "workers": args.workers}.items() if v is not None}
    work = Path(tempfile.mkdtemp(prefix="pmiembed-scaling-"))
    runs = []
    sizes = [int(float(x)) for x in args.tokens.split(",") if x.strip()]
    sources = []
    for n in sizes:
        prefix = work / f"prefix-{n}.txt.gz"
        written = write_prefix(files[0], n, prefix)
        sources.append((f"first {written:,} tokens of {files[0].name}", [prefix]))
    for i in range(len(files)):
        sources.append((" + ".join(f.name for f in files[:i + 1]), files[:i + 1]))
    for label, paths in sources:
        corpus = [str(p) for p in paths] if len(paths) > 1 else str(paths[0])
        r = run_child(_pmi_child, corpus, params, str(work / "out"))
        r.pop("words")  # the vocabulary itself is for speed.py's check
        r["label"] = label
        runs.append(r)
        print(f"{label}: {r['tokens']:,} tokens, {r['wall']:.1f} s, {r['peak_rss_bytes'] / 2**30:.2f} GB",
              file=sys.stderr, flush=True)
    gb = 2 ** 30
    base = next((r for r in runs if r["label"] == files[0].name), runs[0])
    lines = ["| tokens | words | PPMI nonzeros | read | count | PPMI | SVD | wall | time vs "
             f"{base['tokens'] / 1e6:.1f}M | peak RSS |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        t = r["timings"]
        lines.append(f"| {r['tokens'] / 1e6:.1f}M | {r['vocabulary']:,} | {r['pmi_nnz'] / 1e6:.1f}M | "
                     f"{t['read']:.1f} | {t['count']:.1f} | {t['pmi']:.1f} | {t['svd']:.1f} | {r['wall']:.1f} s | "
                     f"{r['wall'] / base['wall']:.2f}x | {r['peak_rss_bytes'] / gb:.2f} GB |")
    text = "\n".join(lines)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"params": params, "runs": runs, "table": text}, indent=2) + "\n")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        tokens = [r["tokens"] / 1e6 for r in runs]
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
        ax1.loglog(tokens, [r["wall"] for r in runs], "o-", label="wall")
        ax1.loglog(tokens, [r["timings"]["svd"] for r in runs], "s--", label="SVD")
        ax1.loglog(tokens, [r["timings"]["read"] + r["timings"]["count"] for r in runs], "^--", label="read + count")
        ax1.set_xlabel("corpus tokens (millions)")
        ax1.set_ylabel("seconds")
        ax1.set_title("pmiembed train: time")
        ax1.legend()
        ax2.semilogx(tokens, [r["peak_rss_bytes"] / gb for r in runs], "o-", color="C3")
        ax2.set_ylim(bottom=0)
        ax2.set_xlabel("corpus tokens (millions)")
        ax2.set_ylabel("peak RSS (GB)")
        ax2.set_title("memory" + (f" (--memory {args.memory:g})" if args.memory else ""))
        for ax in (ax1, ax2):
            ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        tmp = Path(args.plot).with_suffix(".tmp.png")
        fig.savefig(tmp, dpi=110)
        tmp.replace(args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
