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
Every model is trained in a fresh ``python`` child process, so its wall time and memory
are its own.  Peak memory is the child's ``VmHWM`` (the high-water mark of its own
address space, from ``/proc/self/status``), read right after training.  Not
``ru_maxrss``: Linux carries ``ru_maxrss`` over ``exec`` from the process that forked
the child, so a child of a parent that once used 500 MB reports at least 500 MB.  Where
``/proc`` does not exist, ``ru_maxrss`` is the fallback.  The child's resident memory
just before training (interpreter and libraries) is recorded too, as
``rss_before_training_bytes``.  Train time is the wall clock of ``fit``/``train``
(reading the corpus included, writing the vectors excluded).

The word2vec baseline uses word2vec's own defaults (:data:`WORD2VEC_DEFAULTS`: skip-gram,
window 5, 5 negative samples, sub-sampling 1e-4, 5 epochs) with the same dimensions,
min_count and corpus (and lowercasing) as the PMI model, on all cores with a fixed seed.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from . import __version__
from .errors import CorpusError, ParameterError, PMIEmbedError, VectorsError

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

REPORT_FORMAT = "pmiembed-compare"
REPORT_VERSION = 1
REPORT_JSON = "report.json"
REPORT_MD = "report.md"
SCORES_PNG = "scores.png"
TRAINING_PNG = "training.png"
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

_KIND_NAMES = {"pmi": "PPMI+SVD, pmiembed", "word2vec": "skip-gram, gensim word2vec", "vectors": "existing vectors"}


# --------------------------------------------------------------------------- memory


def _proc_status_bytes(field_name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def own_peak_rss_bytes() -> int:
    """Peak resident memory of this process's own address space (``VmHWM``).

    Unlike ``ru_maxrss``, it does not include what the parent used before ``exec``
    (Linux keeps the larger of the two in ``ru_maxrss``).  Falls back to ``ru_maxrss``
    where ``/proc`` is not available.
    """
    from .resources import peak_rss_bytes

    return peak_rss_bytes()


def _current_rss_bytes() -> int | None:
    return _proc_status_bytes("VmRSS")


# --------------------------------------------------------------------------- child processes


class _Lowercased:
    """Restartable iterable: the sentences of ``corpus`` with every token lowercased."""

    def __init__(self, corpus: Iterable[list[str]]):
        self.corpus = corpus

    def __iter__(self) -> Iterator[list[str]]:
        for sentence in self.corpus:
            yield [w.lower() for w in sentence]


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, default=_json_default)
        f.write("\n")
    os.replace(tmp, path)


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.floating):
            return float(obj)
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, Path):
        return str(obj)
    return repr(obj)


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
    rss_before = _current_rss_bytes()
    start = time.perf_counter()
    model.fit(corpus if len(corpus) > 1 else corpus[0])
    seconds = time.perf_counter() - start
    peak = own_peak_rss_bytes()
    model.save(spec["out"])
    params["workers"] = model.n_workers_
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
    sentences: Any = ChunkedSentences(spec["corpus"])
    if spec.get("lowercase"):
        sentences = _Lowercased(sentences)
    rss_before = _current_rss_bytes()
    start = time.perf_counter()
    kv, info = train_word2vec(sentences, progress=not quiet, **spec["params"])
    seconds = time.perf_counter() - start
    peak = own_peak_rss_bytes()
    # imported only now, so that pmiembed's own modules do not count in word2vec's memory
    from .model import write_vectors_folder

    out = Path(spec["out"])
    out.mkdir()
    info = dict(info)
    info["corpus"] = [str(p) for p in spec["corpus"]]
    info["lowercase"] = bool(spec.get("lowercase"))
    info["peak_rss_bytes"] = peak
    params = dict(info["params"])
    params["lowercase"] = bool(spec.get("lowercase"))
    # laid out like a pmiembed model folder (vectors.bin, vocab.tsv, params.json), so the
    # same tools and checks read both; info.json keeps gensim's own account of the run
    counts = [kv.get_vecattr(w, "count") for w in kv.index_to_key]
    write_vectors_folder(out, kv.index_to_key, kv.vectors, counts, info["corpus_tokens"], {
        "method": info["method"], "gensim": info["gensim_version"], "params": params,
        "corpus": {"sources": info["corpus"], "tokens": info["corpus_tokens"], "sentences": info["corpus_sentences"]},
        "timings": {"vocab": info["vocab_seconds"], "train": info["train_seconds"], "total": info["total_seconds"]},
        "peak_rss_bytes": peak})
    _write_json(out / "info.json", info)
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


def _die_with_parent(parent_pid: int | None) -> None:
    """Linux: have the kernel stop this child if the comparing process dies (SIGKILL,
    crash), instead of training on for nobody."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent_pid and os.getppid() != parent_pid:  # the parent died before prctl took effect
        sys.exit(1)


def _child_entry(spec_path: str) -> int:
    """Entry point of a training child process: read the spec, train, save the vectors,
    write the result (or the error) as JSON.  Returns the exit code."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    _die_with_parent(spec.get("parent_pid"))
    result_path = Path(spec["result"])
    try:
        trainer = {"pmi": _train_pmi, "word2vec": _train_word2vec}[spec["kind"]]
        result = trainer(spec)
    except KeyboardInterrupt:
        return 130
    except PMIEmbedError as exc:
        result = {"error": str(exc), "error_type": type(exc).__name__}
    except MemoryError:
        result = {"error": "out of memory while training; lower --dim or --max-vocab, or raise --min-count",
                  "error_type": "PMIEmbedError"}
    except Exception:
        result = {"error": traceback.format_exc(), "error_type": None}
    _write_json(result_path, result)
    return 0


def _stderr_fd() -> int | None:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def train_in_child(kind: str, corpus: Sequence[str | os.PathLike], params: Mapping[str, Any], out: Path,
                   scratch: Path, quiet: bool = False, lowercase: bool = False) -> dict:
    """Train one model (``kind`` 'pmi' or 'word2vec') in a fresh Python process.

    The child saves its vectors to ``out`` and reports train time, its own peak memory and
    more through a JSON file in ``scratch``, which is returned as a dict.  A user error in
    the child is raised here as the same :class:`PMIEmbedError` subclass; Ctrl-C stops
    the child too.
    """
    from . import errors

    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    spec_path = scratch / f"{kind}.spec.json"
    result_path = scratch / f"{kind}.result.json"
    log_path = scratch / f"{kind}.log"
    spec = {"kind": kind, "corpus": [str(p) for p in corpus], "params": dict(params), "out": str(out),
            "result": str(result_path), "quiet": bool(quiet), "lowercase": bool(lowercase), "parent_pid": os.getpid()}
    _write_json(spec_path, spec)
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONHASHSEED", "0")  # gensim hashes words with Python's hash
    code = "import sys; from pmiembed.compare import _child_entry; sys.exit(_child_entry(sys.argv[1]))"
    log = None
    if quiet:
        log = open(log_path, "wb")
        stdout = stderr = log
    else:
        fd = _stderr_fd()
        stdout, stderr = (fd if fd is not None else subprocess.DEVNULL), None
    try:
        proc = subprocess.Popen([sys.executable, "-c", code, str(spec_path)], env=env, stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=stderr)
        try:
            returncode = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    finally:
        if log is not None:
            log.close()
    if returncode == 130:
        raise KeyboardInterrupt
    if not result_path.is_file():
        tail = ""
        if log_path.is_file():
            lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            tail = f" (last message: {lines[-1][:200]})" if lines else ""
        raise PMIEmbedError(
            f"training {kind} stopped with exit code {returncode} before finishing{tail}; "
            "if it was killed, memory may have run out: lower --dim or --max-vocab"
        )
    result = json.loads(result_path.read_text(encoding="utf-8"))
    if "error" in result:
        cls = getattr(errors, result.get("error_type") or "", None)
        if isinstance(cls, type) and issubclass(cls, PMIEmbedError):
            raise cls(f"{kind}: {result['error']}")
        raise RuntimeError(f"training {kind} failed in its child process:\n{result['error']}")
    return result


# --------------------------------------------------------------------------- models


@dataclass
class ModelEntry:
    """One model of a comparison: its label, kind ('pmi', 'word2vec' or 'vectors'),
    vectors (gensim KeyedVectors, not serialised) and what is known about its training."""

    label: str
    kind: str
    kv: Any = None
    parameters: dict = field(default_factory=dict)
    train_seconds: float | None = None
    peak_memory_bytes: int | None = None
    vectors: str | None = None
    info: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)


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
            raise ParameterError(f"--vectors {text!r}: empty label after '='; write PATH=LABEL or just PATH")
        if not path:
            raise ParameterError(f"--vectors {text!r}: empty path before '='; write PATH=LABEL")
        return path, label.strip()
    return text, default_label(text)


# --------------------------------------------------------------------------- evaluation


def _load_benchmarks(benchmarks: Iterable[str | os.PathLike] | None) -> list:
    from .evaluate import available_benchmarks, load_benchmark

    specs = list(available_benchmarks()) if benchmarks is None else list(benchmarks)
    if not specs:
        raise ParameterError("no benchmarks to evaluate on; name some with --benchmarks or set PMIEMBED_DATA")
    return [load_benchmark(s) for s in specs]


def _evaluate_loaded(kv: Any, datas: Sequence[Any], restrict_vocab: int | None) -> dict:
    from .evaluate import SimilarityData, evaluate_analogy, evaluate_similarity

    results: dict = {}
    for data in datas:
        key = data.name if data.name not in results else str(data.path)
        if isinstance(data, SimilarityData):
            results[key] = evaluate_similarity(kv, data)
        else:
            results[key] = evaluate_analogy(kv, data, restrict_vocab=restrict_vocab)
    return results


def evaluate_entries(entries: Sequence[ModelEntry], benchmarks=None, restrict_vocab: int | None = 30000,
                     datas: Sequence[Any] | None = None) -> list[dict]:
    """Evaluate every entry's vectors on the same benchmarks (names/paths, ``None`` for
    all available); fills ``entry.results`` and returns the benchmark descriptions."""
    if datas is None:
        datas = _load_benchmarks(benchmarks)
    for entry in entries:
        entry.results = _evaluate_loaded(entry.kv, datas, restrict_vocab)
    described = []
    keys = list(entries[0].results) if entries else [d.name for d in datas]
    for key, data in zip(keys, datas):
        described.append({"name": key, "kind": data.kind, "path": portable_path(data.path), "n": len(data)})
    return described


def portable_path(path: str | os.PathLike) -> str:
    """How a report names a benchmark file, meaningful on another machine: a file of
    gensim's test data as ``gensim X.Y.Z: test/test_data/NAME``, one of the data
    directory as ``$PMIEMBED_DATA/...``, any other as given."""
    from .datadir import data_dir, gensim_test_data

    resolved = Path(os.path.abspath(path)).resolve()
    gensim_data = gensim_test_data()
    if gensim_data in resolved.parents:
        import gensim

        return f"gensim {gensim.__version__}: test/test_data/{resolved.relative_to(gensim_data).as_posix()}"
    root = data_dir()
    if root is not None and root.resolve() in resolved.parents:
        return f"$PMIEMBED_DATA/{resolved.relative_to(root.resolve()).as_posix()}"
    return str(path)


def choose_words(kvs: Sequence[Any], candidates: Sequence[str], n: int = 4) -> list[str]:
    """Up to ``n`` of ``candidates`` present in every one of ``kvs``; when too few are,
    filled up with frequent words (ranks 300+ of the first model) present in all."""
    def known(w: str) -> bool:
        return all(w in kv.key_to_index for kv in kvs)

    chosen = [w for w in candidates if known(w)][:n]
    if len(chosen) < n and kvs:
        for w in kvs[0].index_to_key[300:3000]:
            if len(chosen) >= n:
                break
            if w.isalpha() and len(w) > 3 and w not in chosen and known(w):
                chosen.append(w)
    return chosen


def _examples(kv: Any, words: Sequence[str], analogies: Sequence[Sequence[str]], topn: int = 8) -> dict:
    import numpy as np

    neighbours: dict[str, Any] = {}
    for w in words:
        if w in kv.key_to_index:
            neighbours[w] = [[x, round(float(s), 4)] for x, s in kv.most_similar(w, topn=topn)]
        else:
            neighbours[w] = None
    solved = []
    for query in analogies:
        a, b, c = query[:3]
        expected = query[3] if len(query) > 3 else None
        entry: dict[str, Any] = {"query": f"{a} - {b} + {c}", "words": [a, b, c], "expected": expected}
        if all(w in kv.key_to_index for w in (a, b, c)):
            entry["3cosadd"] = [[x, round(float(s), 4)] for x, s in kv.most_similar(positive=[a, c], negative=[b], topn=5)]
            with warnings.catch_warnings():  # gensim's most_similar_cosmul calls its own deprecated init_sims
                warnings.simplefilter("ignore", DeprecationWarning)
                cosmul = kv.most_similar_cosmul(positive=[a, c], negative=[b], topn=5)
            entry["3cosmul"] = [[x, round(float(s), 4)] for x, s in cosmul]
            if expected is not None and expected in kv.key_to_index:
                sims = np.asarray(kv.most_similar(positive=[a, c], negative=[b], topn=None), dtype=np.float64)
                for w in (a, b, c):
                    sims[kv.key_to_index[w]] = -np.inf
                entry["expected_rank"] = int((sims > sims[kv.key_to_index[expected]]).sum()) + 1
        else:
            entry["missing"] = [w for w in (a, b, c) if w not in kv.key_to_index]
        solved.append(entry)
    return {"neighbours": neighbours, "analogies": solved}


# --------------------------------------------------------------------------- report


def machine_info() -> dict:
    """Cores, CPU, memory and library versions of this machine."""
    import gensim
    import numpy
    import scipy

    from .resources import cpu_count

    cpu = platform.processor() or None
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = None
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "cores": cpu_count(),
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "memory_bytes": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gensim": gensim.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pmiembed": __version__,
    }


def build_report(entries: Sequence[ModelEntry], benchmarks: Sequence[dict], restrict_vocab: int | None,
                 corpus: dict | None = None, command: str | None = None, examples: dict | None = None,
                 notes: Sequence[str] = ()) -> dict:
    """The JSON-ready report of evaluated ``entries`` (see the module docstring)."""
    from .evaluate import results_to_dict

    models = []
    for e in entries:
        m = {
            "label": e.label,
            "kind": e.kind,
            "description": _KIND_NAMES.get(e.kind, e.kind),
            "parameters": e.parameters,
            "train_seconds": e.train_seconds,
            "peak_memory_bytes": e.peak_memory_bytes,
            "vocabulary_size": len(e.kv) if e.kv is not None else e.info.get("vocabulary_size"),
            "dim": int(e.kv.vector_size) if e.kv is not None else e.info.get("dim"),
            "vectors": e.vectors,
            "benchmarks": results_to_dict(e.results),
        }
        m.update({k: v for k, v in e.info.items() if k not in m})
        if examples and e.label in examples:
            m["examples"] = examples[e.label]
        models.append(m)
    report = {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "corpus": corpus,
        "machine": machine_info(),
        "restrict_vocab": restrict_vocab,
        "benchmarks": list(benchmarks),
        "models": models,
        "notes": list(notes),
    }
    report["best"] = {row["label"]: [models[i]["label"] for i in row["best"]] for row in score_rows(report) + cost_rows(report)
                      if row["best"]}
    return report


def _best(values: Sequence[float | None], higher: bool, ndigits: int = 3) -> list[int]:
    """Indices of the best values compared as shown (rounded to ``ndigits``), all of them
    on a tie; none with fewer than two values."""
    present = [(i, round(v, ndigits)) for i, v in enumerate(values)
               if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if len(present) < 2:
        return []
    target = max(v for _, v in present) if higher else min(v for _, v in present)
    return [i for i, v in present if math.isclose(v, target, rel_tol=1e-9, abs_tol=1e-12)]


def score_rows(report: Mapping) -> list[dict]:
    """Rows of the comparison table: one per similarity benchmark (Spearman rho), two per
    analogy benchmark (3CosAdd and 3CosMul accuracy); each with per-model ``values``,
    ``coverage`` and ``best`` (indices of the winning models)."""
    rows = []
    models = report["models"]
    for b in report["benchmarks"]:
        name = b["name"]
        entries = [m["benchmarks"].get(name) for m in models]
        if b["kind"] == "similarity":
            methods = [("score", f"{name} (Spearman rho)", name.replace("_", "\n") + " (ρ)")]
        else:
            short = name.replace("_", "\n")
            methods = [("3cosadd", f"{name} 3CosAdd", f"{short}\n3CosAdd"), ("3cosmul", f"{name} 3CosMul", f"{short}\n3CosMul")]
        for key, label, short in methods:
            values = [None if e is None else e.get(key) for e in entries]
            rows.append({
                "label": label,
                "short": short,
                "benchmark": name,
                "kind": b["kind"],
                "metric": "spearman" if key == "score" else key,
                "values": values,
                "coverage": [None if e is None else e.get("coverage") for e in entries],
                "best": _best(values, higher=True),
            })
    return rows


def cost_rows(report: Mapping) -> list[dict]:
    """Train time and peak memory rows (lower is better; only trained models have them)."""
    models = report["models"]
    rows = []
    for key, label in (("train_seconds", "train time"), ("peak_memory_bytes", "peak memory")):
        values = [m.get(key) for m in models]
        shown = [None if v is None else (v if key == "train_seconds" else v / 2**20) for v in values]
        rows.append({"label": label, "metric": key, "values": values, "best": _best(shown, higher=False, ndigits=1 if key == "train_seconds" else 0)})
    return rows


def _fmt_score(v: float | None) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def _fmt_seconds(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:.1f} s" if v < 600 else f"{v / 60:.1f} min"


def _fmt_bytes(v: int | None) -> str:
    from .resources import format_bytes

    return "n/a" if v is None else format_bytes(v)


def _fmt_cost(metric: str, v) -> str:
    return _fmt_seconds(v) if metric == "train_seconds" else _fmt_bytes(v)


def _fmt_coverage(c: float | None) -> str:
    return "" if c is None else f" ({100 * c:.0f}%)"


def format_table(report: Mapping) -> str:
    """Plain-text side-by-side table for the terminal; ``*`` marks the best per row."""
    labels = [m["label"] for m in report["models"]]
    body: list[list[str]] = []
    for row in score_rows(report):
        cells = []
        for i, (v, c) in enumerate(zip(row["values"], row["coverage"])):
            cells.append(_fmt_score(v) + ("*" if i in row["best"] else "") + _fmt_coverage(c))
        body.append([row["label"]] + cells)
    body.append(["vocabulary"] + [f"{m['vocabulary_size']:,}" if m.get("vocabulary_size") is not None else "n/a"
                                  for m in report["models"]])
    for row in cost_rows(report):
        body.append([row["label"]] + [_fmt_cost(row["metric"], v) + ("*" if i in row["best"] else "")
                                      for i, v in enumerate(row["values"])])
    compile_row = _compile_row(report)
    if compile_row:
        body.append(compile_row)
    header = ["benchmark"] + labels
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in body:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    lines.append("* best in the row; (n%) coverage: share of pairs/questions the model's vocabulary covers"
                 + ("; train time excludes compiling numba kernels (first run only)" if compile_row else ""))
    return "\n".join(lines)


def _compile_row(report: Mapping) -> list[str] | None:
    """The ``kernel compile`` row (seconds numba spent compiling, a first run's cost, not
    training), or None when no model compiled anything."""
    models = report["models"]
    if not any(m.get("compiled_kernels") for m in models):
        return None
    return ["kernel compile (first run)"] + [
        _fmt_seconds(m["compile_seconds"]) if m.get("compiled_kernels") else ("0 s" if "compile_seconds" in m else "n/a")
        for m in models]


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def render_markdown(report: Mapping, plots: Sequence[str] = ()) -> str:
    """``report.md``: a header (corpus, tokens, command, machine) and one table with the
    models side by side, the best per row in bold, coverage in parentheses."""
    models = report["models"]
    corpus = report.get("corpus") or {}
    machine = report["machine"]
    labels = [m["label"] for m in models]
    out = [f"# Word vectors side by side: {' vs '.join(labels)}", ""]
    if corpus:
        name = corpus.get("name") or ", ".join(Path(p).name for p in corpus.get("paths", []))
        tokens = corpus.get("tokens")
        out.append(f"- **Corpus**: {_md_escape(name)}" + (f", {tokens:,} tokens" if tokens else "")
                   + (f", {corpus['types']:,} distinct words" if corpus.get("types") else "")
                   + (" (lowercased)" if corpus.get("lowercase") else ""))
        if corpus.get("paths"):
            out.append("- **Files**: " + ", ".join(f"`{p}`" for p in corpus["paths"]))
    if report.get("command"):
        out.append(f"- **Command**: `{report['command']}`")
    out.append(f"- **Machine**: {machine['cores']} cores" + (f" ({machine['cpu']})" if machine.get("cpu") else "")
               + f", Python {machine['python']}, gensim {machine['gensim']}, pmiembed {machine['pmiembed']}")
    out.append(f"- **Date**: {report['created']}")
    for note in report.get("notes", []):
        out.append(f"- {note}")
    out.append("")
    out.append("| | " + " | ".join(f"{_md_escape(m['label'])} ({_md_escape(m['description'])})" for m in models) + " |")
    out.append("|---|" + "---:|" * len(models))
    for row in score_rows(report):
        cells = []
        for i, (v, c) in enumerate(zip(row["values"], row["coverage"])):
            s = _fmt_score(v)
            cells.append((f"**{s}**" if i in row["best"] else s) + _fmt_coverage(c))
        label = row["label"].replace("Spearman rho", "Spearman ρ")
        out.append(f"| {_md_escape(label)} | " + " | ".join(cells) + " |")
    out.append("| vocabulary | " + " | ".join(f"{m['vocabulary_size']:,}" if m.get("vocabulary_size") is not None else "n/a"
                                             for m in models) + " |")
    out.append("| dimensions | " + " | ".join(str(m.get("dim", "n/a")) for m in models) + " |")
    for row in cost_rows(report):
        cells = []
        for i, v in enumerate(row["values"]):
            s = _fmt_cost(row["metric"], v)
            cells.append(f"**{s}**" if i in row["best"] else s)
        out.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    compile_row = _compile_row(report)
    if compile_row:
        out.append("| " + " | ".join(compile_row) + " |")
    out.append("")
    rv = report.get("restrict_vocab")
    out.append(
        "Similarity: Spearman ρ between cosine similarity and human ratings, over the pairs whose words are both "
        "in the vocabulary. Analogy: accuracy over *all* questions (a question with a word outside the "
        + (f"{rv:,} most frequent words" if rv else "vocabulary")
        + " counts as wrong); 3CosAdd is `b - a + c`, 3CosMul is Levy & Goldberg's multiplicative objective. "
        "(n%) is the coverage: the share of pairs or questions the model's vocabulary covers. "
        "**Bold** marks the best in each row (higher score; lower time and memory). "
        "Train time is the wall clock of training (reading the corpus included; numba's compiling of "
        "pmiembed's kernels on a machine's first run excluded, shown apart when it happened), peak memory the training "
        "process's own peak resident memory (each model is trained in its own process); n/a for vectors that "
        "were not trained here."
    )
    groups = []
    for b in report["benchmarks"]:
        if b["kind"] != "analogy":
            continue
        sections = [m["benchmarks"].get(b["name"], {}).get("sections") or {} for m in models]
        names = list(dict.fromkeys(n for s in sections for n in s))
        if names:
            groups.append((b["name"], names, sections))
    for name, names, sections in groups:
        out.append("")
        out.append(f"### {_md_escape(name)}: sections (3CosAdd / 3CosMul, coverage)")
        out.append("")
        out.append("| section | " + " | ".join(_md_escape(label) for label in labels) + " |")
        out.append("|---|" + "---:|" * len(models))
        for sec in names:
            cells = []
            for s in sections:
                r = s.get(sec)
                cells.append("n/a" if r is None else f"{_fmt_score(r['3cosadd'])} / {_fmt_score(r['3cosmul'])}"
                             + _fmt_coverage(r["coverage"]))
            out.append(f"| {_md_escape(sec)} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("## Models")
    out.append("")
    for m in models:
        params = ", ".join(f"{k}={v}" for k, v in sorted((m.get("parameters") or {}).items()))
        where = f" Vectors: `{m['vectors']}`." if m.get("vectors") else ""
        out.append(f"- **{_md_escape(m['label'])}** ({_md_escape(m['description'])}): {params or 'parameters unknown'}.{where}")
    with_examples = [m for m in models if m.get("examples")]
    if with_examples:
        out.append("")
        out.append("## Nearest neighbours and analogies")
        words = list(dict.fromkeys(w for m in with_examples for w in m["examples"]["neighbours"]))
        if words:
            out.append("")
            out.append("| word | " + " | ".join(_md_escape(m["label"]) for m in with_examples) + " |")
            out.append("|---|" + "---|" * len(with_examples))
            for w in words:
                cells = []
                for m in with_examples:
                    nn = m["examples"]["neighbours"].get(w)
                    cells.append("not in vocabulary" if nn is None else ", ".join(x for x, _ in nn))
                out.append(f"| {_md_escape(w)} | " + " | ".join(_md_escape(c) for c in cells) + " |")
        queries = list(dict.fromkeys(a["query"] for m in with_examples for a in m["examples"]["analogies"]))
        for q in queries:
            out.append("")
            out.append(f"**{_md_escape(q)}**")
            out.append("")
            for m in with_examples:
                a = next((x for x in m["examples"]["analogies"] if x["query"] == q), None)
                if a is None:
                    continue
                if "3cosadd" not in a:
                    out.append(f"- {_md_escape(m['label'])}: not in the vocabulary: {', '.join(a.get('missing', []))}")
                    continue
                rank = f"; {a['expected']} ranks #{a['expected_rank']}" if a.get("expected_rank") else ""
                out.append(f"- {_md_escape(m['label'])}: 3CosAdd {', '.join(x for x, _ in a['3cosadd'])}; "
                           f"3CosMul {', '.join(x for x, _ in a['3cosmul'])}{rank}")
    if plots:
        out.append("")
        out.append("## Plots")
        out.append("")
        for p in plots:
            out.append(f"![{Path(p).stem}]({p})")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- plots


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _corpus_title(report: Mapping) -> str:
    corpus = report.get("corpus") or {}
    if not corpus:
        return ""
    name = corpus.get("name") or ", ".join(Path(p).name for p in corpus.get("paths", []))
    tokens = corpus.get("tokens")
    return f"{name}" + (f", {tokens / 1e6:.2f}M tokens" if tokens else "")


def draw_scores(ax, report: Mapping) -> None:
    """Grouped bar chart on ``ax``: one group per benchmark row, one bar per model."""
    import numpy as np

    rows = score_rows(report)
    models = report["models"]
    n = max(1, len(models))
    width = 0.8 / n
    x = np.arange(len(rows))
    colors = _colors(len(models))
    top = 0.0
    for j, m in enumerate(models):
        vals = [row["values"][j] for row in rows]
        heights = [0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in vals]
        pos = x - 0.4 + width * (j + 0.5)
        bars = ax.bar(pos, heights, width, label=f"{m['label']} ({m['description']})", color=colors[j],
                      edgecolor="black", linewidth=0.4)
        for bar, v, row in zip(bars, vals, rows):
            text = "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{3 if n <= 3 else 2}f}"
            weight = "bold" if j in row["best"] else "normal"
            h = bar.get_height()
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, max(h, 0)), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=7 if n > 2 else 8,
                        fontweight=weight, rotation=90 if n > 3 else 0)
        top = max([top] + heights)
    bottom = min([0.0] + [v for row in rows for v in row["values"] if v is not None and not math.isnan(v)])
    ax.set_ylim(min(bottom * 1.15, 0), max(0.1, top * 1.18 + 0.02))
    ax.set_xticks(x)
    ax.set_xticklabels([row["short"] for row in rows], fontsize=9)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("score (similarity: Spearman ρ; analogy: accuracy)")
    ax.set_xlabel("benchmark")
    title = "Word similarity and analogy scores"
    sub = _corpus_title(report)
    ax.set_title(title + (f"\ntrained on {sub}" if sub else ""), fontsize=11)
    ax.legend(loc="best", fontsize=8, frameon=True)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def draw_training(axes, report: Mapping) -> bool:
    """Training time (``axes[0]``) and peak memory (``axes[1]``) bars of the trained
    models; returns False (and draws nothing) if no model was trained here."""
    models = [m for m in report["models"] if m.get("train_seconds") is not None]
    if not models:
        return False
    all_models = report["models"]
    colors = _colors(len(all_models))
    color_of = {m["label"]: colors[i] for i, m in enumerate(all_models)}
    labels = [m["label"] for m in models]
    seconds = [m["train_seconds"] for m in models]
    memory = [(m.get("peak_memory_bytes") or 0) / 2**20 for m in models]
    unit, scale = ("GB", 1024.0) if max(memory) >= 2048 else ("MB", 1.0)
    specs = ((axes[0], seconds, "seconds", "Training time (wall clock)", lambda v: f"{v:.1f} s"),
             (axes[1], [v / scale for v in memory], unit, "Peak memory (resident)",
              lambda v: f"{v:.2f} {unit}" if unit == "GB" else f"{v:.0f} {unit}"))
    for ax, values, ylabel, title, fmt in specs:
        bars = ax.bar(labels, values, color=[color_of[label] for label in labels], edgecolor="black", linewidth=0.4,
                      width=0.6)
        for bar, v in zip(bars, values):
            ax.annotate(fmt(v), (bar.get_x() + bar.get_width() / 2, v), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=9)
        ax.set_ylim(0, max(values + [1e-9]) * 1.2)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("model")
        ax.set_title(title, fontsize=11)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    return True


def save_plots(report: Mapping, folder: Path) -> list[str]:
    """Write ``scores.png`` (and ``training.png`` if a model was trained) into
    ``folder`` with matplotlib's Agg canvas (no display, no change to pyplot's
    backend); returns the file names written."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    written = []
    n_rows = len(score_rows(report))
    width = min(14.0, max(7.0, 0.8 * n_rows + 0.25 * n_rows * len(report["models"])))
    fig = Figure(figsize=(width, 5.5), dpi=110)
    FigureCanvasAgg(fig)
    draw_scores(fig.add_subplot(1, 1, 1), report)
    fig.tight_layout()
    fig.savefig(folder / SCORES_PNG)
    written.append(SCORES_PNG)

    fig = Figure(figsize=(9.0, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    if draw_training(axes, report):
        sub = _corpus_title(report)
        fig.suptitle(f"Training cost on {report['machine']['cores']} cores" + (f" ({sub})" if sub else ""), fontsize=12)
        fig.tight_layout()
        fig.savefig(folder / TRAINING_PNG)
        written.append(TRAINING_PNG)
    return written


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
    if restrict_vocab is not None and (isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, int)
                                       or restrict_vocab < 1):
        raise ParameterError(f"--restrict-vocab {restrict_vocab!r}: must be a positive integer")
    train_pmi, train_w2v = pmi is not None, word2vec is not None
    if (train_pmi or train_w2v) and not corpus:
        raise CorpusError("no CORPUS given to train on; give text files, or compare existing vectors with --vectors "
                          "and --no-pmi --no-word2vec")
    if not (train_pmi or train_w2v or vectors):
        raise ParameterError("nothing to compare: both --no-pmi and --no-word2vec were given and no --vectors")
    corpus_paths = _check_corpus(corpus) if (train_pmi or train_w2v) else []

    # settings, checked here so that mistakes show before minutes of training
    pmi_params: dict[str, Any] | None = None
    if train_pmi:
        from .model import PMIEmbedding

        model = PMIEmbedding(**dict(pmi))
        model._validate()
        pmi_params = {k: v for k, v in model.get_params().items() if k not in _PMI_NOT_PARAMS}
        if model.tokenizer is not None:
            raise ParameterError("pmi: a custom tokenizer cannot be sent to the training process; pre-tokenise the corpus")
    if lowercase is None:
        lowercase = bool(pmi_params["lowercase"]) if pmi_params else False
    elif pmi_params is not None:
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
            raise VectorsError(f"{path}: no such vectors file or folder; check --vectors")
        if not str(label).strip():
            raise ParameterError(f"--vectors {path}: empty label; give one with {path}=LABEL")
        if label in seen:
            raise ParameterError(f"--vectors {path}: label {label!r} is already used; give another with {path}=LABEL")
        seen.add(label)

    _check_out(Path(out), force, list(corpus) + [path for path, _ in vectors])
    notes = list(notes)
    if pmi_params and w2v_params and pmi_params.get("max_vocab"):
        notes.append(f"max_vocab={pmi_params['max_vocab']} limits the PMI model only; word2vec keeps every word "
                     f"seen at least {w2v_params['min_count']} times.")
    datas = _load_benchmarks(benchmarks)
    entries: list[ModelEntry] = []
    from .model import PARAMS_FILE, load_vectors

    for path, label in vectors:
        log(f"loading {label} from {path} ...")
        kv = load_vectors(path)
        info: dict[str, Any] = {"source": str(path)}
        params: dict[str, Any] = {}
        manifest = Path(path) / PARAMS_FILE
        if manifest.is_file():
            meta = json.loads(manifest.read_text(encoding="utf-8"))
            params = meta.get("params") or {}
            info["recorded"] = {k: meta.get(k) for k in ("timings", "peak_rss_bytes", "corpus") if meta.get(k) is not None}
        entries.append(ModelEntry(label=label, kind="vectors", kv=kv, parameters=params, vectors=str(path), info=info))

    with atomic_dir(Path(out), force=force, inputs=list(corpus) + [path for path, _ in vectors]) as tmp:
        scratch = tmp / ".work"
        trained: list[ModelEntry] = []
        corpus_info: dict[str, Any] | None = None
        if corpus_paths:
            corpus_info = {"paths": corpus_paths, "name": corpus_name, "lowercase": bool(lowercase)}
        steps = [k for k, on in (("pmi", train_pmi), ("word2vec", train_w2v)) if on]
        for i, kind in enumerate(steps, start=1):
            params = pmi_params if kind == "pmi" else w2v_params
            folder = PMI_DIR if kind == "pmi" else W2V_DIR
            what = _KIND_NAMES[kind]
            log(f"[{i}/{len(steps)}] training {kind}: {what}, dim {params['dim']}"
                + (f", {params['epochs']} epoch{'s' if params['epochs'] != 1 else ''}" if kind == "word2vec" else "") + " (in its own process) ...")
            result = train_in_child(kind, corpus_paths, params, tmp / folder, scratch, quiet=quiet, lowercase=lowercase)
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
        _write_json(tmp / REPORT_JSON, report)
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
    for name in ("dim", "window", "negative", "epochs", "min_count"):
        v = p[name]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ParameterError(f"word2vec {name}={v!r}: must be an integer >= 1 (--w2v-{name.replace('_', '-')})")
    if p["workers"] is not None and (isinstance(p["workers"], bool) or not isinstance(p["workers"], int) or p["workers"] < 1):
        raise ParameterError(f"word2vec workers={p['workers']!r}: must be an integer >= 1 (--w2v-workers)")
    if isinstance(p["seed"], bool) or not isinstance(p["seed"], int) or p["seed"] < 0:
        raise ParameterError(f"word2vec seed={p['seed']!r}: must be an integer >= 0 (--w2v-seed)")
    if not isinstance(p["sample"], (int, float)) or not 0 <= p["sample"] < 1:
        raise ParameterError(f"word2vec sample={p['sample']!r}: must be in [0, 1), 0 disables it (--w2v-sample)")
    if not isinstance(p["alpha"], (int, float)) or not p["alpha"] > 0:
        raise ParameterError(f"word2vec alpha={p['alpha']!r}: must be positive (--w2v-alpha)")
    if not isinstance(p["min_alpha"], (int, float)) or not 0 <= p["min_alpha"] <= p["alpha"]:
        raise ParameterError(f"word2vec min_alpha={p['min_alpha']!r}: must be in [0, alpha] (--w2v-min-alpha)")
