"""Data: the optional data directory, the bundled sample corpus and text8's download.

- The data directory (corpora, benchmarks) is found through the ``PMIEMBED_DATA``
  environment variable (:func:`data_dir`); without it, callers fall back to gensim's
  test data (:func:`gensim_test_data`) or the bundled sample.
- The bundled sample (:func:`sample_path`): the first 1.17M tokens of text8, in the
  repository's ``corpora/`` folder, installed as the subpackage ``pmiembed.corpora``.
- text8 (17M tokens of Wikipedia, 100 MB) is fetched and cached by gensim's own
  downloader (:func:`fetch_text8`, cached in ``~/gensim-data``).  Before downloading, a
  connection test to the downloader's hosts (at most :data:`NETWORK_TIMEOUT` seconds,
  DNS included) tells whether the network is there; without it, offline, or when the
  download fails, :func:`choose_corpus` falls back to the bundled sample and says so.

The project never downloads at test time.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .errors import CorpusError, PMIEmbedError


def data_dir() -> Path | None:
    """The directory named by ``$PMIEMBED_DATA`` if it exists, else ``None``."""
    value = os.environ.get("PMIEMBED_DATA")
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_dir() else None


def gensim_test_data() -> Path:
    """gensim's bundled ``test/test_data`` folder (small real corpora and benchmarks)."""
    import gensim

    return Path(gensim.__file__).resolve().parent / "test" / "test_data"


# --------------------------------------------------------------- the bundled sample

SAMPLE_NAME = "text8-head.txt.gz"


def sample_path() -> Path:
    """Path of the bundled text8 sample."""
    try:
        from pmiembed.corpora import SAMPLE  # installed: corpora/ is pmiembed.corpora

        if SAMPLE.is_file():
            return SAMPLE
    except ImportError:
        pass
    path = Path(__file__).resolve().parent.parent / "corpora" / SAMPLE_NAME
    if not path.is_file():  # pragma: no cover - a broken install
        raise CorpusError(f"{path}: the bundled sample corpus is missing; reinstall pmiembed")
    return path


# --------------------------------------------------------------- text8

#: Seconds the connection test may take before the demo decides it is offline.
NETWORK_TIMEOUT = 3.0
#: Socket timeout while downloading: a stalled connection fails instead of hanging.
DOWNLOAD_TIMEOUT = 60.0
#: The gensim-data name of the corpus.
TEXT8 = "text8"
#: Tokens of the full text8: about what king - man + woman needs to reach queen.
TEXT8_TOKENS = 17_005_207
SAMPLE_DESCRIPTION = "the bundled sample (the first 1.17M tokens of text8)"


@dataclass
class DemoCorpus:
    """The corpus :func:`choose_corpus` chose: its ``paths``, a short ``name``, the
    ``message`` that says where it came from, and whether it is the bundled ``sample``."""

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
    return DemoCorpus([str(sample_path())], "text8 sample (bundled)",
                      f"{reason}: using {SAMPLE_DESCRIPTION} instead of the full text8 (17M tokens)", sample=True)


def choose_corpus(offline: bool = False, corpus=None, quiet: bool = False,
                  offline_reason: str = "offline") -> DemoCorpus:
    """``corpus`` (paths) if given; else the bundled sample with ``offline`` (its message
    starts with ``offline_reason``); else text8 from gensim's cache, or downloaded by
    gensim's downloader when the network answers; else the bundled sample."""
    if corpus:
        paths = [str(Path(c).expanduser()) for c in corpus]
        for p in paths:
            if not Path(p).exists():
                raise PMIEmbedError(f"{p}: no such corpus file or folder; check the `corpus` path")
        name = ", ".join(Path(p).name for p in paths)
        return DemoCorpus(paths, name, f"corpus: your text ({name})")
    if offline:
        return _sample(offline_reason)
    cached = cached_text8()
    if cached is not None:
        return DemoCorpus([str(cached)], "text8 (17M tokens)",
                          f"corpus: text8 (17M tokens), cached by gensim's downloader at {cached}")
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
    return DemoCorpus([str(path)], "text8 (17M tokens)",
                      f"corpus: text8 (17M tokens), downloaded by gensim's downloader to {path}")
