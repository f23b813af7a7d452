"""``pmiembed demo``: PPMI+SVD against word2vec skip-gram on a real corpus, in one command.

The corpus is text8 (17M tokens of Wikipedia, 100 MB), fetched and cached by gensim's own
downloader (``gensim.downloader.load('text8', return_path=True)``, cached in
``~/gensim-data``).  Before downloading, a connection test to the downloader's hosts
(at most :data:`NETWORK_TIMEOUT` seconds, DNS included) tells whether the network is
there; without it, with ``--offline``, or when the download fails, the demo uses the
bundled sample (the first 1.17M tokens of text8) and says so in one line.  ``--corpus``
uses the user's own text.

Both models see the same text with matched settings (same dimensions and min_count,
word2vec's defaults for skip-gram); the report goes to ``pmiembed-demo/`` (or a fresh
name beside it if that exists, unless ``--out``/``--force`` say otherwise).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .cli_compare import (add_evaluation_arguments, add_word2vec_arguments, command_line, pmi_params_from_args,
                          word2vec_params_from_args)
from .cli import add_model_arguments
from .compare import compare, format_table
from .errors import PMIEmbedError

#: Seconds the connection test may take before the demo decides it is offline.
NETWORK_TIMEOUT = 3.0
#: Socket timeout while downloading: a stalled connection fails instead of hanging.
DOWNLOAD_TIMEOUT = 60.0
#: The gensim-data name of the corpus.
TEXT8 = "text8"
#: Words whose neighbours the demo shows (the first four present in both models).
DEMO_WORDS = ("king", "france", "computer", "three", "music", "paris", "war", "science")
#: ``a - b + c`` queries with their expected answer.
DEMO_ANALOGIES = (("king", "man", "woman", "queen"),)
DEFAULT_OUT = "pmiembed-demo"
#: Tokens of the full text8: about what king - man + woman needs to reach queen.
TEXT8_TOKENS = 17_005_207
SAMPLE_DESCRIPTION = "the bundled sample (the first 1.17M tokens of text8)"


@dataclass
class DemoCorpus:
    paths: list[str]
    name: str
    message: str
    sample: bool = False


def download_hosts() -> list[tuple[str, int]]:
    """(host, port) of every server gensim's downloader talks to."""
    import gensim.downloader as api

    hosts = []
    for url in (api.DATA_LIST_URL, api.DOWNLOAD_BASE_URL):
        u = urlparse(url)
        hp = (u.hostname, u.port or (443 if u.scheme == "https" else 80))
        if hp not in hosts:
            hosts.append(hp)
    return hosts


def network_available(hosts: list[tuple[str, int]] | None = None, timeout: float | None = None) -> tuple[bool, str]:
    """Can we open a TCP connection to every host within ``timeout`` seconds (all hosts
    in parallel, name lookup included)?  ``(True, '')`` or ``(False, why)``."""
    hosts = download_hosts() if hosts is None else list(hosts)
    timeout = NETWORK_TIMEOUT if timeout is None else timeout
    outcome: dict[tuple[str, int], str | None] = {}

    def probe(hp: tuple[str, int]) -> None:
        try:
            with socket.create_connection(hp, timeout=timeout):
                outcome[hp] = None
        except OSError as exc:
            outcome[hp] = str(exc) or type(exc).__name__

    threads = [threading.Thread(target=probe, args=(hp,), daemon=True, name=f"probe {hp[0]}") for hp in hosts]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:  # daemon threads: a lookup that hangs is abandoned, never waited for
        t.join(max(0.0, deadline - time.monotonic()))
    for hp in hosts:
        if hp not in outcome:
            return False, f"no answer from {hp[0]} within {timeout:g} s"
        if outcome[hp] is not None:
            return False, f"cannot reach {hp[0]}: {outcome[hp]}"
    return True, ""


def cached_text8() -> Path | None:
    """The text8 file in gensim's download cache, if it is there."""
    import gensim.downloader as api

    folder = Path(api.BASE_DIR) / TEXT8
    for name in ("text8.gz", "text8"):
        p = folder / name
        if p.is_file():
            return p
    return None


def fetch_text8(quiet: bool = False) -> Path:
    """Download text8 with gensim's downloader (returns the cached file's path).  Its
    progress goes to stderr (nothing with ``quiet``), sockets time out after
    :data:`DOWNLOAD_TIMEOUT` seconds of silence."""
    import gensim.downloader as api

    previous = socket.getdefaulttimeout()
    logger = logging.getLogger("gensim.downloader")
    level = logger.level
    sink = io.StringIO() if quiet else sys.stderr
    try:
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
        logger.setLevel(logging.CRITICAL)  # failures are reported by us, in one line
        with contextlib.redirect_stdout(sink):
            path = api.load(TEXT8, return_path=True)
    finally:
        socket.setdefaulttimeout(previous)
        logger.setLevel(level)
    return Path(path)


def _sample(reason: str) -> DemoCorpus:
    from .sample import sample_path

    return DemoCorpus([str(sample_path())], "text8 sample (bundled)",
                      f"{reason}: using {SAMPLE_DESCRIPTION} instead of the full text8 (17M tokens)", sample=True)


def choose_corpus(offline: bool = False, corpus=None, quiet: bool = False) -> DemoCorpus:
    """``--corpus`` if given; else the bundled sample with ``offline``; else text8 from
    gensim's cache, or downloaded by gensim's downloader when the network answers; else
    the bundled sample."""
    if corpus:
        paths = [str(Path(c).expanduser()) for c in corpus]
        for p in paths:
            if not Path(p).exists():
                raise PMIEmbedError(f"{p}: no such corpus file or folder; check --corpus")
        name = ", ".join(Path(p).name for p in paths)
        return DemoCorpus(paths, name, f"corpus: your text ({name})")
    if offline:
        return _sample("offline (--offline)")
    cached = cached_text8()
    if cached is not None:
        return DemoCorpus([str(cached)], "text8 (17M tokens)", f"corpus: text8 (17M tokens), cached by gensim's downloader at {cached}")
    ok, why = network_available()
    if not ok:
        return _sample(f"no network ({why})")
    if not quiet:
        print("downloading text8 (31 MB) with gensim's downloader ...", file=sys.stderr, flush=True)
    try:
        path = fetch_text8(quiet=quiet)
    except Exception as exc:  # network errors, checksum mismatch, ...: the demo goes on with the sample
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return _sample(f"could not download text8 ({msg[:120]})")
    return DemoCorpus([str(path)], "text8 (17M tokens)", f"corpus: text8 (17M tokens), downloaded by gensim's downloader to {path}")


def _fresh_out(name: str) -> tuple[Path, str]:
    base = Path(name)
    if not base.exists():
        return base, ""
    i = 2
    while Path(f"{name}-{i}").exists():
        i += 1
    return Path(f"{name}-{i}"), f"{name}/ exists; writing {name}-{i}/ instead (use --out DIR or --force to choose)"


def register(sub) -> None:
    p = sub.add_parser(
        "demo", help="train PPMI+SVD and word2vec on text8 and compare them (neighbours, king - man + woman, benchmarks)",
        description="The mission in one command: train pmiembed's PPMI+SVD vectors and gensim's word2vec skip-gram "
                    "on the same real corpus (text8, 17M tokens, fetched and cached with gensim's downloader; "
                    "offline, the bundled 1.17M-token sample), show nearest neighbours and king - man + woman for "
                    "both, the benchmark table with training times, and write the report.")
    p.add_argument("--offline", action="store_true", help="do not download text8; use the bundled sample")
    p.add_argument("--corpus", nargs="+", default=None, metavar="PATH", help="your own text instead of text8")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"report folder [{DEFAULT_OUT}, or a fresh {DEFAULT_OUT}-N if it exists]")
    p.add_argument("--force", action="store_true", help="replace an existing report folder")
    p.add_argument("--words", nargs="+", default=None, metavar="WORD",
                   help="show the neighbours of these words [four of: " + ", ".join(DEMO_WORDS) + "]")
    add_evaluation_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    add_model_arguments(p)
    add_word2vec_arguments(p)
    p.set_defaults(func=cmd_demo, _parser=p)


def _names(pairs) -> str:
    return ", ".join(w for w, _ in pairs)


def cmd_demo(args) -> int:
    notes = []
    if args.out is not None:
        out = Path(args.out)
        if out.exists() and not args.force:
            raise PMIEmbedError(f"{out}: output folder exists; choose another --out or pass --force to replace it")
    elif args.force:
        out = Path(DEFAULT_OUT)
    else:
        out, moved = _fresh_out(DEFAULT_OUT)
        if moved and not args.quiet:
            print(moved, file=sys.stderr)
    from .io import check_output_dir

    check_output_dir(out, force=True, inputs=args.corpus or ())  # existence was decided above; parent checks here

    chosen = choose_corpus(offline=args.offline, corpus=args.corpus, quiet=args.quiet)
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
            honest = (f"Note: {tokens:,} tokens is too small for {query['query']} to reach {expected} (that needs "
                      f"about 17M tokens, the full text8{'; run pmiembed demo with network access' if chosen.sample else ''}); "
                      "the comparison is still fair because both models see the same text.")
        elif expected:
            honest = (f"{expected} is the top answer for {', '.join(reached)}." if reached else
                      f"Neither model puts {expected} first here; the comparison is fair: both models see the same text.")
        print(honest)
    print()
    print(format_table(report))
    print()
    files = ", ".join(["report.html", "report.md", "report.json"] + report["plots"])
    print(f"report written to {result.path}/ ({files}; vectors in {result.path}/pmi/ and {result.path}/word2vec/)")
    print(f"query them: pmiembed similar --vectors {result.path}/pmi king   |   "
          f"pmiembed analogy --vectors {result.path}/word2vec king man woman")
    return 0
