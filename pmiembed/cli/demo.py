"""``pmiembed demo``: PPMI+SVD against word2vec skip-gram on a real corpus, in one command.

The corpus is text8 (17M tokens of Wikipedia, 100 MB), fetched and cached by gensim's own
downloader (``gensim.downloader.load('text8', return_path=True)``, cached in
``~/gensim-data``).  Before downloading, a connection test to the downloader's hosts
(at most :data:`pmiembed.datasets.NETWORK_TIMEOUT` seconds) tells whether the network is
there; without it, with ``--offline``, or when the download fails, the demo uses the
bundled sample (the first 1.17M tokens of text8) and says so in one line.  ``--corpus``
uses the user's own text.

Both models see the same text with matched settings (same dimensions and min_count,
word2vec's defaults for skip-gram); the report goes to ``pmiembed-demo/`` (or a fresh
name beside it if that exists, unless ``--out``/``--force`` say otherwise).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..compare import compare, format_table
from ..datasets import TEXT8_TOKENS, choose_corpus
from .common import add_model_arguments
from .compare import (
    add_evaluation_arguments,
    add_word2vec_arguments,
    command_line,
    pmi_params_from_args,
    word2vec_params_from_args,
)

#: Words whose neighbours the demo shows (the first four present in both models).
DEMO_WORDS = ("king", "france", "computer", "three", "music", "paris", "war", "science")
#: ``a - b + c`` queries with their expected answer.
DEMO_ANALOGIES = (("king", "man", "woman", "queen"),)
DEFAULT_OUT = "pmiembed-demo"


def _fresh_out(name: str) -> tuple[Path, str]:
    base = Path(name)
    if not os.path.lexists(base):  # a link named so is taken too (and refused, never replaced)
        return base, ""
    i = 2
    while os.path.lexists(f"{name}-{i}"):
        i += 1
    return Path(f"{name}-{i}"), f"{name}/ exists; writing {name}-{i}/ instead (use --out DIR or --force to choose)"


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="train PPMI+SVD and word2vec on text8 and compare them (neighbours, king - man + woman, benchmarks)",
        description="The mission in one command: train pmiembed's PPMI+SVD vectors and gensim's word2vec skip-gram "
                    "on the same real corpus (text8, 17M tokens, fetched and cached with gensim's downloader; "
                    "offline, the bundled 1.17M-token sample), show nearest neighbours and king - man + woman for "
                    "both, the benchmark table with training times, and write the report.")
    p.add_argument("--offline", action="store_true", help="do not download text8; use the bundled sample")
    p.add_argument("--corpus", nargs="+", default=None, metavar="PATH", help="your own text instead of text8")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"report folder [{DEFAULT_OUT}/ in the working directory (a clone's .gitignore lists it), "
                        f"or a fresh {DEFAULT_OUT}-N/ if it exists]")
    p.add_argument("--force", action="store_true", help="replace an existing report folder")
    p.add_argument("--words", nargs="+", default=None, metavar="WORD",
                   help="show the neighbours of these words [four of: " + ", ".join(DEMO_WORDS) + "]")
    add_evaluation_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    add_model_arguments(p)
    add_word2vec_arguments(p)
    p.set_defaults(func=cmd_demo, _parser=p)


def _names(pairs) -> str:
    return ", ".join(w for w, _ in pairs)


def cmd_demo(args) -> int:
    notes = []
    if args.out is not None or args.force:
        out = Path(args.out if args.out is not None else DEFAULT_OUT)
    else:
        out, moved = _fresh_out(DEFAULT_OUT)
        if moved and not args.quiet:
            print(moved, file=sys.stderr)
    from ..io import check_output_dir

    check_output_dir(out, force=args.force, inputs=args.corpus or ())

    chosen = choose_corpus(offline=args.offline, corpus=args.corpus, quiet=args.quiet,
                           offline_reason="offline (--offline)")
    print(chosen.message, flush=True)
    notes.append(chosen.message[0].upper() + chosen.message[1:] + ".")
    if chosen.sample:
        notes.append("The sample is too small for king - man + woman to reach queen (about 17M tokens are needed, "
                     "the full text8); the comparison is still fair because both models see the same text.")
    pmi = pmi_params_from_args(args)
    w2v = word2vec_params_from_args(args)
    if not args.quiet:
        print(f"training both models on the same text: PPMI+SVD (dim {pmi['dim']}, window {pmi['window']}) and "
              f"word2vec skip-gram (dim {w2v['dim']}, window {w2v['window']}, {w2v['epochs']} epochs), "
              f"min_count {pmi['min_count']}", file=sys.stderr, flush=True)
    result = compare(
        chosen.paths, out, pmi=pmi, word2vec=w2v, benchmarks=args.benchmarks, restrict_vocab=args.restrict_vocab,
        words=args.words or DEMO_WORDS, n_words=None if args.words else 4, analogies=DEMO_ANALOGIES,
        force=args.force, quiet=args.quiet, command=command_line(args._parser, args, "demo"),
        corpus_name=chosen.name, notes=notes,
    )
    report = result.report
    models = report["models"]
    tokens = (report.get("corpus") or {}).get("tokens") or 0
    width = max(len(m["label"]) for m in models)

    print()
    print("Nearest neighbours (cosine similarity); both models saw the same text:")
    words = list(models[0].get("examples", {}).get("neighbours", {}))
    for w in words:
        print(f"  {w}")
        for m in models:
            nn = m["examples"]["neighbours"].get(w)
            print(f"    {m['label']:<{width}}  " + ("(not in the vocabulary)" if nn is None else _names(nn)))
    honest = ""
    for query in models[0].get("examples", {}).get("analogies", []):
        expected = query.get("expected")
        print()
        print(f"{query['query']} = ?" + (f"   (hoping for {expected}; 3CosAdd, top 5)" if expected else ""))
        reached = []
        for m in models:
            a = next(x for x in m["examples"]["analogies"] if x["query"] == query["query"])
            if "3cosadd" not in a:
                print(f"    {m['label']:<{width}}  (not in the vocabulary: {', '.join(a['missing'])})")
                continue
            rank = a.get("expected_rank")
            where = f"   [{expected} ranks #{rank:,}]" if rank else ""
            print(f"    {m['label']:<{width}}  {_names(a['3cosadd'])}{where}")
            if rank == 1:
                reached.append(m["label"])
        if expected and tokens < TEXT8_TOKENS * 0.9:
            offline_hint = "; run pmiembed demo with network access" if chosen.sample else ""
            honest = (f"Note: {tokens:,} tokens is too small for {query['query']} to reach {expected} (that needs "
                      f"about 17M tokens, the full text8{offline_hint}); "
                      "the comparison is still fair because both models see the same text.")
        elif expected:
            honest = (f"{expected} is the top answer for {', '.join(reached)}." if reached else
                      f"Neither model puts {expected} first here; the comparison is fair: both models see the "
                      "same text.")
        print(honest)
    print()
    print(format_table(report))
    print()
    files = ", ".join(["report.html", "report.md", "report.json"] + report["plots"])
    print(f"report written to {result.path}/ ({files}; vectors in {result.path}/pmi/ and {result.path}/word2vec/)")
    print(f"query them: pmiembed similar --vectors {result.path}/pmi king   |   "
          f"pmiembed analogy --vectors {result.path}/word2vec king man woman")
    return 0
