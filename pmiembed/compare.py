"""Side by side: pmiembed's PPMI+SVD vectors against gensim's word2vec skip-gram.

:func:`compare` trains the models on the same corpus (each in its own child process),
adds any existing vectors, evaluates everything on the same benchmarks and writes a
report folder atomically (built in a temporary folder beside the target, renamed at the
end)::

    DIR/report.json     every number: parameters, train time, peak memory, vocabulary,
                        every benchmark (3CosAdd and 3CosMul, Google sections), corpus,
                        machine
    DIR/report.md       one table with the models side by side, the best per row in bold
    DIR/scores.png      grouped bar chart of the benchmark scores
    DIR/training.png    training time and peak memory of the trained models
    DIR/report.html     all of it in one self-contained page, with an explorer over the
                        models (neighbours, analogies, pmiembed's contexts; see
                        :mod:`pmiembed.report_html`)
    DIR/pmi/            the PPMI+SVD model as written by PMIEmbedding.save
    DIR/word2vec/       vectors.bin, vocab.tsv and params.json (as a model folder) and info.json of the baseline

Honest cost numbers
-------------------
Every model is trained in a fresh ``python`` child process (:mod:`pmiembed._child`), so
its wall time and memory are its own: peak memory is the child's own high-water mark,
read right after training.  The child's resident memory just before training
(interpreter and libraries) is recorded too, as ``rss_before_training_bytes``.  Train
time is the wall clock of ``fit``/``train`` (reading the corpus included, writing the
vectors excluded).

This module is the driver; the report (evaluation, JSON, table, markdown) is built by
:mod:`pmiembed._report`, the plots drawn by :mod:`pmiembed._plots`.

The word2vec baseline uses word2vec's own defaults (:data:`WORD2VEC_DEFAULTS`: skip-gram,
window 5, 5 negative samples, sub-sampling 1e-4, 5 epochs) with the same dimensions,
min_count and corpus (and lowercasing) as the PMI model, on all cores with a fixed seed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from ._child import own_peak_rss_bytes, write_json
from ._plots import draw_scores, draw_training, save_plots
from ._report import (
    _KIND_NAMES,
    REPORT_FORMAT,
    REPORT_VERSION,
    ModelEntry,
    _examples,
    _fmt_bytes,
    _fmt_seconds,
    _load_benchmarks,
    build_report,
    choose_words,
    cost_rows,
    evaluate_entries,
    format_table,
    machine_info,
    render_markdown,
    score_rows,
)
from ._training import train_in_child
from ._validation import Integral, Interval, validate_params
from .corpus import default_lowercase
from .defaults import TOKENIZE
from .errors import CorpusError, ParameterError, VectorsError

__all__ = [
    "REPORT_FORMAT",
    "REPORT_VERSION",
    "WORD2VEC_DEFAULTS",
    "ModelEntry",
    "Comparison",
    "compare",
    "train_in_child",
    "parse_vectors_spec",
    "default_label",
    "own_peak_rss_bytes",
    "evaluate_entries",
    "build_report",
    "score_rows",
    "cost_rows",
    "format_table",
    "render_markdown",
    "draw_scores",
    "draw_training",
    "save_plots",
    "choose_words",
    "machine_info",
]

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
PMI_DIR = "pmi"
W2V_DIR = "word2vec"

#: Settings of the gensim skip-gram baseline that do not come from the PMI model (its
#: ``dim`` and ``min_count`` do); ``workers=None`` means all cores.
WORD2VEC_DEFAULTS: dict[str, Any] = {
    "window": 5,
    "negative": 5,
    "sample": 1e-4,
    "epochs": 5,
    "alpha": 0.025,
    "min_alpha": 0.0001,
    "workers": None,
    "seed": 1,
}

#: PMIEmbedding parameters that are not hyperparameters of the vectors.
_PMI_NOT_PARAMS = ("tokenizer", "progress", "verbose")
#: what :func:`compare`'s own parameters accept (the models' are checked by theirs)
CONSTRAINTS = {"restrict_vocab": [Interval(Integral, 1, None), None]}


# --------------------------------------------------------------------------- child processes


# --------------------------------------------------------------------------- models


@dataclass
class Comparison:
    """What :func:`compare` returns: the report folder, the report dict and the models."""

    path: Path
    report: dict
    models: list[ModelEntry]


def default_label(path: str | os.PathLike) -> str:
    """A label for existing vectors: the folder name, or the file name without its
    suffix (the folder name for a generic ``vectors.bin``)."""
    p = Path(path)
    if p.is_dir() or not p.suffix:
        return p.name or str(p)
    stem = p.name.split(".")[0]
    if stem in ("vectors", "model", "wv", "") and p.parent.name:
        return p.parent.name
    return stem


def parse_vectors_spec(text: str) -> tuple[str, str]:
    """``'PATH=LABEL'`` or ``'PATH'`` -> ``(path, label)``; a path that itself exists wins
    over splitting at '='."""
    if "=" in text and not Path(text).exists():
        path, label = text.rsplit("=", 1)
        if not label.strip():
            raise ParameterError(f"`vectors:vectors entry` {text!r}: empty label after '='; write PATH=LABEL or just "
                                 "PATH")
        if not path:
            raise ParameterError(f"`vectors:vectors entry` {text!r}: empty path before '='; write PATH=LABEL")
        return path, label.strip()
    return text, default_label(text)


# --------------------------------------------------------------------------- evaluation


# --------------------------------------------------------------------------- report


# --------------------------------------------------------------------------- plots


# --------------------------------------------------------------------------- the whole run


def _check_out(out: Path, force: bool, inputs=()) -> None:
    """Refuse an existing output folder (or a missing parent) before any work; the same
    checks as :func:`pmiembed.io.atomic_dir`, which repeats them when writing."""
    from .io import check_output_dir

    check_output_dir(out, force, inputs)


def _check_corpus(corpus: Sequence[str | os.PathLike]) -> list[str]:
    paths = []
    for c in corpus:
        p = Path(c).expanduser()
        if not p.exists():
            raise CorpusError(f"{p}: no such corpus file or folder; check CORPUS")
        paths.append(str(p))
    return paths


def compare(
    corpus: Sequence[str | os.PathLike] | str | os.PathLike | None = None,
    out: str | os.PathLike = "compare-out",
    *,
    pmi: Mapping[str, Any] | None = None,
    word2vec: Mapping[str, Any] | None = None,
    vectors: Sequence[tuple[str | os.PathLike, str]] = (),
    benchmarks: Iterable[str | os.PathLike] | None = None,
    restrict_vocab: int | None = 30000,
    words: Sequence[str] = (),
    n_words: int | None = None,
    analogies: Sequence[Sequence[str]] = (),
    lowercase: bool | None = None,
    force: bool = False,
    quiet: bool = False,
    command: str | None = None,
    corpus_name: str | None = None,
    notes: Sequence[str] = (),
    log: Callable[[str], None] | None = None,
) -> Comparison:
    """Train, evaluate and report side by side; returns a :class:`Comparison`.

    ``pmi``: PMIEmbedding parameters (``{}`` for the defaults) or ``None`` to skip it;
    ``word2vec``: :func:`pmiembed.word2vec.train_word2vec` parameters overriding
    :data:`WORD2VEC_DEFAULTS` (``dim`` and ``min_count`` default to the PMI model's) or
    ``None`` to skip it; ``vectors``: ``(path, label)`` pairs of existing vectors.
    ``words``: words whose nearest neighbours go into the report (with ``n_words``, the
    first ``n_words`` of them present in every model, see :func:`choose_words`);
    ``analogies``: ``(a, b, c[, expected])`` queries ``a - b + c``.  ``lowercase``
    (default: the PMI model's setting) lowercases the corpus for both models.
    ``out`` is written atomically; an existing folder is refused unless ``force``.
    ``log`` receives progress lines (default: stderr unless ``quiet``).
    """
    from .io import atomic_dir

    if log is None:
        def log(msg: str) -> None:
            if not quiet:
                print(msg, file=sys.stderr, flush=True)

    if corpus is None:
        corpus = []
    elif isinstance(corpus, (str, os.PathLike)):
        corpus = [corpus]
    corpus = list(corpus)
    validate_params(CONSTRAINTS, {"restrict_vocab": restrict_vocab})
    train_pmi, train_w2v = pmi is not None, word2vec is not None
    if (train_pmi or train_w2v) and not corpus:
        raise CorpusError("no `corpus` given to train on; give text files, or compare existing `vectors` "
                          "with `pmi=None` and `word2vec=None`")
    if not (train_pmi or train_w2v or vectors):
        raise ParameterError("nothing to compare: both `pmi=None` and `word2vec=None` were given and no `vectors`")
    corpus_paths = _check_corpus(corpus) if (train_pmi or train_w2v) else []

    # settings, checked here so that mistakes show before minutes of training
    pmi_params: dict[str, Any] | None = None
    if train_pmi:
        from .model import PMIEmbedding

        # the compared model is not updated afterwards: it keeps no token ids unless asked
        model = PMIEmbedding(**{"keep_tokens": False, **dict(pmi)})
        model._validate()
        pmi_params = {k: v for k, v in model.get_params().items() if k not in _PMI_NOT_PARAMS}
        if model.tokenizer is not None:
            raise ParameterError("pmi: a custom tokenizer cannot be sent to the training process; pre-tokenise the "
                                 "corpus")
    # both models read the corpus the same way: the PMI model's tokenisation, else the default
    tokenize = pmi_params.get("tokenize", TOKENIZE) if pmi_params else TOKENIZE
    if lowercase is None:
        if pmi_params and pmi_params.get("lowercase") is not None:
            lowercase = bool(pmi_params["lowercase"])
        else:
            lowercase = default_lowercase(tokenize)
    if pmi_params is not None:
        pmi_params["lowercase"] = bool(lowercase)
    w2v_params: dict[str, Any] | None = None
    if train_w2v:
        w2v_params = dict(WORD2VEC_DEFAULTS)
        w2v_params["dim"] = pmi_params["dim"] if pmi_params else 300
        w2v_params["min_count"] = pmi_params["min_count"] if pmi_params else 5
        unknown = set(word2vec) - set(w2v_params)
        if unknown:
            raise ParameterError(f"word2vec: unknown setting(s) {', '.join(sorted(unknown))}; "
                                 f"use {', '.join(sorted(w2v_params))}")
        w2v_params.update({k: v for k, v in word2vec.items() if v is not None or k == "workers"})
        _check_word2vec_params(w2v_params)

    seen = {kind for kind, on in (("pmi", train_pmi), ("word2vec", train_w2v)) if on}
    for path, label in vectors:
        if not Path(path).exists():
            raise VectorsError(f"{path}: no such vectors file or folder; check the `vectors` path")
        if Path(path).is_dir():  # a model folder's manifest, before anything is printed (its files: when loaded)
            from .vectors import read_manifest

            read_manifest(Path(path), files=())
        if not str(label).strip():
            raise ParameterError(f"`vectors:vectors entry` {path}: empty label; give one with {path}=LABEL")
        if label in seen:
            raise ParameterError(f"`vectors:vectors entry` {path}: label {label!r} is already used; give another "
                                 f"with {path}=LABEL")
        seen.add(label)

    _check_out(Path(out), force, list(corpus) + [path for path, _ in vectors])
    notes = list(notes)
    if pmi_params and w2v_params and pmi_params.get("max_vocab"):
        notes.append(f"max_vocab={pmi_params['max_vocab']} limits the PMI model only; word2vec keeps every word "
                     f"seen at least {w2v_params['min_count']} times.")
    datas = _load_benchmarks(benchmarks)
    entries: list[ModelEntry] = []
    from .vectors import PARAMS_FILE, load_vectors

    for path, label in vectors:
        log(f"loading {label} from {path} ...")
        kv = load_vectors(path)
        info: dict[str, Any] = {"source": str(path)}
        params: dict[str, Any] = {}
        manifest = Path(path) / PARAMS_FILE
        if manifest.is_file():
            meta = json.loads(manifest.read_text(encoding="utf-8"))
            params = meta.get("params") or {}
            info["recorded"] = {k: meta.get(k) for k in ("timings", "peak_rss_bytes", "corpus")
                                if meta.get(k) is not None}
        entries.append(ModelEntry(label=label, kind="vectors", kv=kv, parameters=params, vectors=str(path), info=info))

    with atomic_dir(Path(out), force=force, inputs=list(corpus) + [path for path, _ in vectors]) as tmp:
        scratch = tmp / ".work"
        trained: list[ModelEntry] = []
        corpus_info: dict[str, Any] | None = None
        if corpus_paths:
            corpus_info = {"paths": corpus_paths, "name": corpus_name, "lowercase": bool(lowercase),
                           "tokenize": tokenize}
        steps = [k for k, on in (("pmi", train_pmi), ("word2vec", train_w2v)) if on]
        for i, kind in enumerate(steps, start=1):
            params = pmi_params if kind == "pmi" else w2v_params
            folder = PMI_DIR if kind == "pmi" else W2V_DIR
            what = _KIND_NAMES[kind]
            epochs = f", {params['epochs']} epoch{'s' if params['epochs'] != 1 else ''}" if kind == "word2vec" else ""
            log(f"[{i}/{len(steps)}] training {kind}: {what}, dim {params['dim']}{epochs} (in its own process) ...")
            result = train_in_child(kind, corpus_paths, params, tmp / folder, scratch, quiet=quiet, lowercase=lowercase,
                                    tokenize=tokenize)
            compiled = (f" (+ {_fmt_seconds(result['compile_seconds'])} compiling {result['compiled_kernels']} numba "
                        "kernels, first run only)") if result.get("compiled_kernels") else ""
            log(f"{kind}: trained in {_fmt_seconds(result['train_seconds'])}{compiled}, peak memory "
                f"{_fmt_bytes(result['peak_memory_bytes'])}, {result['vocabulary_size']:,} words x {result['dim']}")
            kv = load_vectors(tmp / folder)
            info = {k: result[k] for k in ("rss_before_training_bytes", "timings", "gensim_version", "compile_seconds",
                                           "compiled_kernels") if k in result}
            entry = ModelEntry(label=kind, kind=kind, kv=kv, parameters=result["parameters"],
                               train_seconds=result["train_seconds"], peak_memory_bytes=result["peak_memory_bytes"],
                               vectors=f"{folder}/" if kind == "pmi" else f"{folder}/vectors.bin", info=info)
            trained.append(entry)
            if corpus_info is not None:
                stats = result.get("corpus") or {}
                for key in ("tokens", "types", "documents", "bytes", "sentences"):
                    if stats.get(key) is not None and key not in corpus_info:
                        corpus_info[key] = stats[key]
        entries = trained + entries

        log(f"evaluating {len(entries)} model(s) on {len(datas)} benchmark(s): {', '.join(d.name for d in datas)} ...")
        t = time.perf_counter()
        described = evaluate_entries(entries, restrict_vocab=restrict_vocab, datas=datas)
        log(f"evaluated in {time.perf_counter() - t:.1f} s")
        kvs = [e.kv for e in entries]
        chosen = choose_words(kvs, words, n_words) if n_words else list(words)
        examples = None
        if chosen or analogies:
            examples = {e.label: _examples(e.kv, chosen, analogies) for e in entries}
        report = build_report(entries, described, restrict_vocab, corpus=corpus_info, command=command,
                              examples=examples, notes=notes)
        plots = save_plots(report, tmp)
        report["plots"] = plots
        report["files"] = {e.label: e.vectors for e in trained}
        report["html"] = _write_html(tmp, report, entries, plots, log)
        write_json(tmp / REPORT_JSON, report)
        (tmp / REPORT_MD).write_text(render_markdown(report, plots), encoding="utf-8")
        shutil.rmtree(scratch, ignore_errors=True)
    return Comparison(path=Path(out), report=report, models=entries)


def _write_html(folder: Path, report: dict, entries: Sequence[ModelEntry], plots: Sequence[str],
                log: Callable[[str], None]) -> dict:
    """``report.html`` (:mod:`pmiembed.report_html`), with the contexts of the first
    pmiembed model whose folder holds its PPMI matrix."""
    from .explain import PPMI, PPMI_FILE
    from .report_html import REPORT_HTML, write_report_html

    t = time.perf_counter()
    source = None
    for e in entries:
        where = folder / PMI_DIR if e.kind == "pmi" else Path(e.vectors or "")
        if e.kind in ("pmi", "vectors") and (where / PPMI_FILE).is_file():
            source = (e.label, PPMI.load(where))
            break
    models = [(e.label, _KIND_NAMES.get(e.kind, e.kind), e.kv) for e in entries if e.kv is not None]
    info = write_report_html(folder / REPORT_HTML, report, models, source, [folder / p for p in plots])
    log(f"wrote {REPORT_HTML} ({info['bytes'] / 2**20:.1f} MB, explorer over {info['words']:,} words) "
        f"in {time.perf_counter() - t:.1f} s")
    return info


def _check_word2vec_params(p: Mapping[str, Any]) -> None:
    from .word2vec import check_params

    check_params(dict(p), owner="word2vec ", cli_prefix="w2v_")
