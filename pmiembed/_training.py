"""Training the models of a comparison, each in its own child process
(:mod:`pmiembed._child`): what the child runs for pmiembed and for the word2vec baseline,
and :func:`train_in_child`, which starts it."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from ._child import current_rss_bytes, own_peak_rss_bytes, run_in_child, write_json


def _quiet_logging() -> None:
    import logging

    for name in ("gensim", "smart_open", "numba"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _train_pmi(spec: dict) -> dict:
    from .model import PMIEmbedding

    quiet = spec["quiet"]
    if quiet:
        _quiet_logging()
    params = dict(spec["params"])
    model = PMIEmbedding(**params, progress=not quiet, verbose=not quiet)
    corpus = spec["corpus"]
    rss_before = current_rss_bytes()
    start = time.perf_counter()
    model.fit(corpus if len(corpus) > 1 else corpus[0])
    seconds = time.perf_counter() - start
    peak = own_peak_rss_bytes()
    model.save(spec["out"])
    from .resources import thread_count

    params["workers"] = thread_count(model.n_workers_)  # the threads that ran, as params.json records them
    # numba compiles its kernels on a machine's first run only (later runs load them from
    # the cache): that time is reported apart, not as training
    compile_seconds = float((model.timings_ or {}).get("compile", 0.0))
    return {
        "train_seconds": seconds - compile_seconds,
        "compile_seconds": compile_seconds,
        "compiled_kernels": len(model.compiled_kernels_),
        "peak_memory_bytes": peak,
        "rss_before_training_bytes": rss_before,
        "vocabulary_size": len(model.wv),
        "dim": int(model.wv.vector_size),
        "parameters": params,
        "timings": model.timings_,
        "corpus": model.corpus_stats_,
    }


def _train_word2vec(spec: dict) -> dict:
    from .word2vec import ChunkedSentences, train_word2vec

    quiet = spec["quiet"]
    if quiet:
        _quiet_logging()
    sentences = ChunkedSentences(spec["corpus"])
    rss_before = current_rss_bytes()
    start = time.perf_counter()
    kv, info = train_word2vec(sentences, progress=not quiet, tokenize=spec.get("tokenize", "whitespace"),
                              lowercase=bool(spec.get("lowercase")), **spec["params"])
    seconds = time.perf_counter() - start
    peak = own_peak_rss_bytes()
    # imported only now, so that pmiembed's own modules do not count in word2vec's memory
    from .vectors import write_vectors_folder

    out = Path(spec["out"])
    out.mkdir()
    info = dict(info)
    info["corpus"] = [str(p) for p in spec["corpus"]]
    info["lowercase"] = info["params"]["lowercase"]
    info["tokenize"] = info["params"]["tokenize"]
    info["peak_rss_bytes"] = peak
    params = dict(info["params"])
    # laid out like a pmiembed model folder (vectors.bin, vocab.tsv, params.json), so the
    # same tools and checks read both; info.json keeps gensim's own account of the run
    counts = [kv.get_vecattr(w, "count") for w in kv.index_to_key]
    write_vectors_folder(out, kv.index_to_key, kv.vectors, counts, info["corpus_tokens"], {
        "method": info["method"], "gensim": info["gensim_version"], "params": params,
        "corpus": {"sources": info["corpus"], "tokens": info["corpus_tokens"], "sentences": info["corpus_sentences"]},
        "timings": {"vocab": info["vocab_seconds"], "train": info["train_seconds"], "total": info["total_seconds"]},
        "peak_rss_bytes": peak})
    write_json(out / "info.json", info)
    return {
        "train_seconds": seconds,
        "peak_memory_bytes": peak,
        "rss_before_training_bytes": rss_before,
        "vocabulary_size": len(kv),
        "dim": int(kv.vector_size),
        "parameters": params,
        "compile_seconds": 0.0,  # gensim's kernels are compiled when it is installed
        "compiled_kernels": 0,
        "timings": {"vocab": info["vocab_seconds"], "train": info["train_seconds"], "total": info["total_seconds"]},
        "corpus": {"tokens": info["corpus_tokens"], "sentences": info["corpus_sentences"],
                   "effective_words": info["effective_words"]},
        "gensim_version": info["gensim_version"],
    }


def train_in_child(kind: str, corpus: Sequence[str | os.PathLike], params: Mapping[str, Any], out: Path,
                   scratch: Path, quiet: bool = False, lowercase: bool = False,
                   tokenize: str = "whitespace") -> dict:
    """Train one model (``kind`` 'pmi' or 'word2vec') in a fresh Python process
    (:func:`pmiembed._child.run_in_child`).

    The child saves its vectors to ``out`` and reports train time, its own peak memory and
    more, returned as a dict.  A user error in the child is raised here as the same
    :class:`PMIEmbedError` subclass; Ctrl-C stops the child too.
    """
    spec = {"corpus": [str(p) for p in corpus], "params": dict(params), "out": str(out), "quiet": bool(quiet),
            "lowercase": bool(lowercase), "tokenize": tokenize}
    result = run_in_child(f"pmiembed._training:_train_{kind}", spec, scratch, kind, quiet=quiet,
                          what=f"training {kind}",
                          memory_error="out of memory while training; lower `dim` or `max_vocab`, or raise `min_count`")
    del result["wall"]  # train time is measured inside the child
    return result
