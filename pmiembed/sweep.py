"""Hyperparameter sweeps that count once and reuse everything they can.

A grid such as ``window=2,5 cds=0.75,1 eig=0,0.5 wc=0,1`` expands to every
combination.  Work is shared along the pipeline:

* the corpus is read once;
* counts are made once per *counting* setting (``window``, ``weighting``,
  ``subsample``, ``subsample_mode``, ``min_count``, ``max_vocab``, ``tokenize``,
  ``lowercase``) and cached on disk;
* the PMI matrix and its SVD are made once per *factorisation* setting (``cds``,
  ``neg``, ``matrix``, ``bound``, ``freq_weight``, ``dim``, ``core_min_count``,
  ``core_max_words``, ``svd``, ``n_iter``, ``oversamples``, ``seed``);
* the cheap *vector* settings (``eig``, ``wc``, ``abtt``) reuse that SVD.

Each step is the model's own stage (:meth:`PMIEmbedding.count`, :meth:`~PMIEmbedding.factorise`,
:meth:`~PMIEmbedding.vectors`), so a sweep's row is what ``PMIEmbedding(**params).fit``
would give.

Every configuration is evaluated on every available benchmark; results go to
``DIR/results.jsonl`` one line per configuration as soon as it is done, so an
interrupted sweep resumes where it stopped (finished configurations are skipped).
At the end ``DIR/results.json``, ``DIR/results.md`` and ``DIR/results.png`` summarise.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from .cooccur import Cooccurrence
from .corpus import read_corpus
from .defaults import DEFAULTS
from .errors import ParameterError
from .evaluate import describe_benchmarks, evaluate, results_to_dict
from .io import atomic_path, check_not_input, check_output_path
from .model import PMIEmbedding
from .vectors import make_keyed_vectors

COUNT_KEYS = ("min_count", "max_vocab", "window", "weighting", "subsample", "subsample_mode", "tokenize", "lowercase")
FACTOR_KEYS = ("cds", "neg", "matrix", "bound", "freq_weight", "dim", "core_min_count", "core_max_words", "svd",
               "n_iter", "oversamples", "seed")
VECTOR_KEYS = ("eig", "wc", "abtt")
ALIASES = {"sub": "subsample", "sub_mode": "subsample_mode", "min-count": "min_count", "sub-mode": "subsample_mode",
           "max-vocab": "max_vocab", "n-iter": "n_iter", "freq-weight": "freq_weight"}


def _parse_value(text: str):
    low = text.lower()
    if low in ("none", "off"):
        return None
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _parse_bool(name: str, text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ParameterError(f"grid value {name}={text!r} is not a yes/no value; use {name}=0,1 (or true/false)")


def parse_grid(items: list[str]) -> dict[str, list]:
    """``["window=2,5", "eig=0,0.5"]`` -> ``{"window": [2, 5], "eig": [0, 0.5]}``."""
    grid: dict[str, list] = {}
    known = set(PMIEmbedding._get_param_names())
    for item in items:
        if "=" not in item:
            raise ParameterError(f"grid item {item!r} must look like name=value1,value2")
        name, values = item.split("=", 1)
        name = ALIASES.get(name, name).replace("-", "_")
        if name not in known or name in ("tokenizer", "progress", "verbose", "workers", "memory", "lowercase"):
            raise ParameterError(f"grid parameter {name!r} is not a sweepable PMIEmbedding parameter")
        parsed = [_parse_value(v) for v in values.split(",") if v != ""]
        if name == "wc":
            parsed = [_parse_bool(name, v) for v in values.split(",") if v != ""]
        if not parsed:
            raise ParameterError(f"grid item {item!r} has no values")
        grid[name] = parsed
    return grid


def expand(grid: dict[str, list], base: dict) -> list[dict]:
    """Every combination of the grid over the base parameters, validated."""
    names = list(grid)
    configs = []
    for values in itertools.product(*(grid[n] for n in names)):
        params = dict(base)
        params.update(zip(names, values))
        PMIEmbedding(**params)._validate()
        configs.append(params)
    return configs


def config_key(params: dict) -> str:
    keys = COUNT_KEYS + FACTOR_KEYS + VECTOR_KEYS
    return json.dumps({k: params.get(k) for k in keys}, sort_keys=True)


def _short(params: dict, varying: list[str]) -> str:
    return " ".join(f"{k}={params[k]}" for k in varying) or "default"


def _scores(kv) -> dict:
    out = {}
    for name, r in results_to_dict(evaluate(kv)).items():
        if "score" in r:
            out[name] = {"score": r["score"], "coverage": r["coverage"]}
        else:
            out[name] = {"score": max(r["3cosadd"], r["3cosmul"]), "3cosadd": r["3cosadd"],
                         "3cosmul": r["3cosmul"], "coverage": r["coverage"]}
    return out


def run_sweep(corpus, grid: dict[str, list], out: str | os.PathLike, *, base: dict | None = None,
              workers: int | None = None, log=None) -> list[dict]:
    """Run (or resume) a sweep; returns every result row (see the module docstring)."""
    log = sys.stderr if log is None else log
    base = {k: v for k, v in PMIEmbedding().get_params().items()
            if k not in ("tokenizer", "progress", "verbose", "workers", "memory")} | (base or {})
    configs = expand(grid, base)
    varying = [k for k in grid if len(grid[k]) > 1]
    out = Path(out)
    paths = [corpus] if isinstance(corpus, (str, os.PathLike)) else (
        list(corpus) if isinstance(corpus, (list, tuple)) else [])
    check_not_input(out, paths)
    # a sweep resumes in its folder: absent, or a folder pmiembed wrote (never a link, device or
    # another folder, and nothing inside it that pmiembed does not write)
    check_output_path(out, folder=True, force=False, resume=True)
    tokens = None
    identity = corpus_identity(corpus)
    if identity is None:  # an in-memory corpus: identified by its tokens
        tokens = read_corpus(corpus, progress=False)
        identity = {"tokens_sha256": _tokens_digest(tokens)}
    _check_identity(out, identity)
    (out / "counts").mkdir(parents=True, exist_ok=True)
    _write_identity(out, identity)
    log_path = out / "results.jsonl"
    done = {}
    if log_path.exists():
        for line in log_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # a line cut by an interruption: redo that configuration
                done[row["key"]] = row
    todo = [c for c in configs if config_key(c) not in done]
    print(f"sweep: {len(configs)} configurations, {len(configs) - len(todo)} already done", file=log)
    print(describe_benchmarks(), file=log)

    def by(keys):
        return lambda c: json.dumps({k: c.get(k) for k in keys}, sort_keys=True)

    for count_key, group in itertools.groupby(sorted(todo, key=by(COUNT_KEYS)), key=by(COUNT_KEYS)):
        group = list(group)
        # one model walks the group through the stages: count once, factorise once per
        # factor setting, make vectors per vector setting
        model = PMIEmbedding(**group[0], workers=workers)
        cache = out / "counts" / (hashlib.sha1(count_key.encode()).hexdigest()[:16] + ".npz")
        t = time.perf_counter()
        if cache.exists():
            cooc = Cooccurrence.load(cache)
        else:
            if tokens is None:
                tokens = read_corpus(corpus, progress=False)
            cooc = model.count(tokens)
            cooc.save(cache)
        count_seconds = time.perf_counter() - t
        for factor_key, sub in itertools.groupby(sorted(group, key=by(FACTOR_KEYS)), key=by(FACTOR_KEYS)):
            sub = list(sub)
            model.set_params(**json.loads(factor_key))
            t = time.perf_counter()
            factors = model.factorise(cooc)
            factor_seconds = time.perf_counter() - t
            for params in sub:
                t = time.perf_counter()
                model.set_params(**{k: params[k] for k in VECTOR_KEYS})
                kv = make_keyed_vectors(cooc.vocab.words, model.vectors(factors))
                row = {"key": config_key(params), "label": _short(params, varying),
                       "params": {k: params.get(k) for k in COUNT_KEYS + FACTOR_KEYS + VECTOR_KEYS},
                       # what "the default" meant when this row was measured (ablation.py labels by it)
                       "defaults": dict(DEFAULTS),
                       "scores": _scores(kv), "seconds": {"count": count_seconds, "factorise": factor_seconds,
                                                          "evaluate": time.perf_counter() - t}}
                with open(log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(row) + "\n")
                done[row["key"]] = row
                sim, ana = group_means(row["scores"])
                print(f"  {row['label']:<60} {_means_text(sim, ana)}", file=log)
    rows = [done[config_key(c)] for c in configs]
    for row in rows:  # labels relative to this grid
        row["label"] = _short(dict(row["params"], **{k: row["params"].get(k) for k in varying}), varying)
    write_summary(rows, out)
    return rows


IDENTITY_FILE = "sweep.json"
IDENTITY_FORMAT = "pmiembed-sweep"


def corpus_identity(corpus) -> dict | None:
    """What a sweep folder's cached counts and results were computed from: every file
    of a path corpus with its size and modification time (None for an in-memory
    corpus, identified by its tokens instead)."""
    from .corpus import _is_path_source, resolve_paths

    if not _is_path_source(corpus):
        return None
    files = resolve_paths(corpus)
    entries = []
    for f in files:
        st = f.stat()
        entries.append({"path": str(f.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns})
    return {"files": entries}


def _tokens_digest(tokens) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(tokens.ids).tobytes())
    h.update(np.ascontiguousarray(tokens.doc_starts).tobytes())
    h.update("\n".join(tokens.types).encode("utf-8", errors="surrogatepass"))
    return h.hexdigest()


def _check_identity(out: Path, identity: dict) -> None:
    """Refuse to resume a sweep folder computed from another corpus (or that does not
    say what it was computed from): its cached counts and results would be reused."""
    path = out / IDENTITY_FILE
    has_work = (out / "results.jsonl").exists() or any((out / "counts").glob("*.npz"))
    if not path.exists():
        if has_work:
            raise ParameterError(f"{out}: holds sweep results that do not record their corpus ({IDENTITY_FILE} "
                                 "missing); choose a new `out:output folder` (or delete this folder to start over)")
        return
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        raise ParameterError(f"{path}: damaged (not JSON); choose a new `out:output folder` or delete the "
                             "folder") from None
    recorded = meta.get("corpus") if isinstance(meta, dict) and meta.get("format") == IDENTITY_FORMAT else None
    if recorded != identity:
        what = "another corpus" if recorded is None or recorded.keys() != identity.keys() else None
        if what is None and "files" in identity:
            old = {e["path"]: e for e in recorded.get("files", [])}
            new = {e["path"]: e for e in identity["files"]}
            if set(old) != set(new):
                first = sorted(old)[0] if old else "nothing"
                what = f"another corpus ({first}{f' and {len(old) - 1} more files' if len(old) > 1 else ''})"
            else:
                what = f"another corpus ({sorted(p for p in new if old[p] != new[p])[0]} changed)"
        raise ParameterError(f"{out}: this sweep folder was computed from {what or 'another corpus'}; its cached "
                             "counts would be reused: choose a new `out:output folder` (or delete the folder to "
                             "start over)")


def _write_identity(out: Path, identity: dict) -> None:
    path = out / IDENTITY_FILE
    if path.exists():
        return
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"format": IDENTITY_FORMAT, "version": 1, "corpus": identity}, indent=1) + "\n",
                       encoding="utf-8")


def group_means(scores: dict) -> tuple[float | None, float | None]:
    """The mean Spearman rho over the similarity benchmarks and the mean accuracy over
    the analogy ones (``None`` where a row has none): a correlation and an accuracy are
    on different scales, so they are never averaged together."""
    sim = [v["score"] for v in scores.values() if "3cosadd" not in v]
    ana = [v["score"] for v in scores.values() if "3cosadd" in v]
    return (float(np.mean(sim)) if sim else None), (float(np.mean(ana)) if ana else None)


def _means_text(sim, ana) -> str:
    parts = ([f"mean similarity rho {sim:.3f}"] if sim is not None else []) + (
        [f"mean analogy accuracy {ana:.3f}"] if ana is not None else [])
    return ", ".join(parts)


def _order(rows: list[dict]) -> list[dict]:
    """Best first: by mean similarity rho, then mean analogy accuracy."""
    def key(r):
        sim, ana = group_means(r["scores"])
        return (-(sim if sim is not None else -np.inf), -(ana if ana is not None else -np.inf))

    return sorted(rows, key=key)


def summary_table(rows: list[dict], reference: dict | None = None) -> str:
    """Markdown table, best first (mean similarity rho, then mean analogy accuracy); the
    best score per benchmark in bold.  An analogy cell is the better of 3CosAdd and
    3CosMul accuracy."""
    names = list(rows[0]["scores"]) if rows else []
    ordered = _order(rows)
    best = {n: max(r["scores"][n]["score"] for r in rows) for n in names}
    lines = ["| configuration | " + " | ".join(names) + " | mean similarity (rho) | mean analogy (accuracy) |",
             "|---|" + "---|" * (len(names) + 2)]
    if reference:
        lines.append("| " + reference.get("label", "reference") + " | "
                     + " | ".join(f"{reference['scores'].get(n, float('nan')):.3f}" for n in names) + " | | |")

    def cell(v):
        return "" if v is None else f"{v:.3f}"

    for r in ordered:
        cells = []
        for n in names:
            v = r["scores"][n]["score"]
            cells.append(f"**{v:.3f}**" if v == best[n] else f"{v:.3f}")
        sim, ana = group_means(r["scores"])
        lines.append(f"| {r['label']} | " + " | ".join(cells) + f" | {cell(sim)} | {cell(ana)} |")
    return "\n".join(lines)


def write_summary(rows: list[dict], out: Path) -> None:
    with atomic_path(out / "results.json") as tmp:
        tmp.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    with atomic_path(out / "results.md") as tmp:
        tmp.write_text(summary_table(rows) + "\n\nSimilarity: Spearman rho; analogy: accuracy over all questions, "
                       "the better of 3CosAdd and 3CosMul.\n", encoding="utf-8")
    if rows:
        plot_sweep(rows, out / "results.png")


def plot_sweep(rows: list[dict], path: Path) -> None:
    """A heatmap: configurations (best mean first) x benchmarks, scores annotated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(rows[0]["scores"])
    ordered = _order(rows)[:40]
    data = np.array([[r["scores"][n]["score"] for n in names] for r in ordered])
    fig, ax = plt.subplots(figsize=(1.1 * len(names) + 4, 0.35 * len(ordered) + 1.5))
    im = ax.imshow(data, aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(ordered)), [r["label"] for r in ordered], fontsize=8)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            ax.text(j, i, f"{data[i, j]:.3f}", ha="center", va="center", fontsize=7,
                    color="white" if data[i, j] < data.mean() else "black")
    ax.set_title("Sweep: benchmark scores per configuration (best mean similarity rho first)")
    fig.colorbar(im, ax=ax, label="Spearman rho / analogy accuracy")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
