"""The report of a comparison (:func:`pmiembed.compare.compare`): the models evaluated on the
same benchmarks, the JSON-ready report, the terminal table and the markdown."""

from __future__ import annotations

import datetime
import math
import os
import platform
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ._version import __version__
from .errors import ParameterError

REPORT_FORMAT = "pmiembed-compare"
REPORT_VERSION = 1

_KIND_NAMES = {"pmi": "PPMI+SVD, pmiembed", "word2vec": "skip-gram, gensim word2vec", "vectors": "existing vectors"}


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


def _load_benchmarks(benchmarks: Iterable[str | os.PathLike] | None) -> list:
    from .evaluate import available_benchmarks, load_benchmark

    specs = list(available_benchmarks()) if benchmarks is None else list(benchmarks)
    if not specs:
        raise ParameterError("no benchmarks to evaluate on; name some with `benchmarks` or set PMIEMBED_DATA")
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
    from .datasets import data_dir, gensim_test_data

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
            entry["3cosadd"] = [[x, round(float(s), 4)]
                                for x, s in kv.most_similar(positive=[a, c], negative=[b], topn=5)]
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
    report["best"] = {row["label"]: [models[i]["label"] for i in row["best"]]
                      for row in score_rows(report) + cost_rows(report) if row["best"]}
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
            methods = [("3cosadd", f"{name} 3CosAdd", f"{short}\n3CosAdd"),
                       ("3cosmul", f"{name} 3CosMul", f"{short}\n3CosMul")]
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
        rows.append({"label": label, "metric": key, "values": values,
                     "best": _best(shown, higher=False, ndigits=1 if key == "train_seconds" else 0)})
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
    labels = [display_text(m["label"]) for m in report["models"]]
    body: list[list[str]] = []
    for row in score_rows(report):
        cells = []
        for i, (v, c) in enumerate(zip(row["values"], row["coverage"])):
            cells.append(_fmt_score(v) + ("*" if i in row["best"] else "") + _fmt_coverage(c))
        body.append([display_text(row["label"])] + cells)
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
        _fmt_seconds(m["compile_seconds"]) if m.get("compiled_kernels")
        else ("0 s" if "compile_seconds" in m else "n/a") for m in models]


def display_text(text) -> str:
    """``text`` with every lone surrogate (how Python keeps the undecodable bytes of a
    file name or an argument) shown as U+FFFD, so that it can be written as UTF-8 and
    drawn: a name in a report, never a path to open."""
    return re.sub("[\ud800-\udfff]", "\ufffd", str(text))


#: characters that can start markdown or HTML inside a line (emphasis, code, links, HTML,
#: entities, table cells, strikethrough, math, a heading's closing #s): escaped with a
#: backslash, which CommonMark allows before any ASCII punctuation; ``_`` only where it
#: is not between two letters or digits (there it cannot start or end emphasis)
_MD_SPECIAL = re.compile(r"([\\`*{}\[\]<>|~&$#!])|(?<![^\W_])_|_(?![^\W_])")


def _one_line(text) -> str:
    """``text`` on one line: line breaks and tabs become spaces, NUL the replacement
    character (as CommonMark reads it)."""
    return re.sub(r"[\r\n\t\v\f\u2028\u2029\x85]", " ", display_text(text)).replace("\0", "\ufffd")


def md_text(text) -> str:
    """``text`` (a model label, a benchmark's name, a note) as markdown that shows it as
    it is: no character of it starts emphasis, code, a link, HTML or an entity, or ends
    a table cell."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), _one_line(text))


def md_code(text, table: bool = False) -> str:
    """``text`` (a word, a file name, a command) as a markdown code span, whatever
    backticks it holds: the fence is one backtick longer than its longest run of them,
    with a space inside where it starts or ends with a backtick or a space (CommonMark
    strips one space from each side).  ``table``: inside a table cell, where GFM reads
    ``|`` as the cell's end even in a code span and ``\\|`` as a ``|``."""
    s = _one_line(text)
    if not s.strip(" "):
        return md_text(s)  # an empty or all-space code span does not show as one
    if table:
        s = s.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", s)), default=0) + 1)
    pad = " " if s[0] in "` " or s[-1] in "` " else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def _md_words(words, table: bool = False) -> str:
    return ", ".join(md_code(w, table) for w in words)


def render_markdown(report: Mapping, plots: Sequence[str] = ()) -> str:
    """``report.md``: a header (corpus, tokens, command, machine) and one table with the
    models side by side, the best per row in bold, coverage in parentheses.  Labels,
    names and notes are escaped (:func:`md_text`); words, file names and the command are
    code spans (:func:`md_code`)."""
    models = report["models"]
    corpus = report.get("corpus") or {}
    machine = report["machine"]
    labels = [m["label"] for m in models]
    out = [f"# Word vectors side by side: {' vs '.join(md_text(label) for label in labels)}", ""]
    if corpus:
        name = corpus.get("name") or ", ".join(Path(p).name for p in corpus.get("paths", []))
        tokens = corpus.get("tokens")
        out.append(f"- **Corpus**: {md_text(name)}" + (f", {tokens:,} tokens" if tokens else "")
                   + (f", {corpus['types']:,} distinct words" if corpus.get("types") else "")
                   + (f", tokenize={corpus['tokenize']}" if corpus.get("tokenize") else "")
                   + (" (lowercased)" if corpus.get("lowercase") else ""))
        if corpus.get("paths"):
            out.append("- **Files**: " + ", ".join(md_code(p) for p in corpus["paths"]))
    if report.get("command"):
        out.append(f"- **Command**: {md_code(report['command'])}")
    cpu = f" ({md_text(machine['cpu'])})" if machine.get("cpu") else ""
    out.append(f"- **Machine**: {machine['cores']} cores{cpu}"
               + f", Python {md_text(machine['python'])}, gensim {md_text(machine['gensim'])}, "
               f"pmiembed {md_text(machine['pmiembed'])}")
    out.append(f"- **Date**: {md_text(report['created'])}")
    for note in report.get("notes", []):
        out.append(f"- {md_text(note)}")
    out.append("")
    out.append("| | " + " | ".join(f"{md_text(m['label'])} ({md_text(m['description'])})" for m in models) + " |")
    out.append("|---|" + "---:|" * len(models))
    for row in score_rows(report):
        cells = []
        for i, (v, c) in enumerate(zip(row["values"], row["coverage"])):
            s = _fmt_score(v)
            cells.append((f"**{s}**" if i in row["best"] else s) + _fmt_coverage(c))
        label = row["label"].replace("Spearman rho", "Spearman ρ")
        out.append(f"| {md_text(label)} | " + " | ".join(cells) + " |")
    out.append("| vocabulary | " + " | ".join(f"{m['vocabulary_size']:,}" if m.get("vocabulary_size") is not None
                                             else "n/a" for m in models) + " |")
    out.append("| dimensions | " + " | ".join(md_text(m.get("dim", "n/a")) for m in models) + " |")
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
        out.append(f"### {md_text(name)}: sections (3CosAdd / 3CosMul, coverage)")
        out.append("")
        out.append("| section | " + " | ".join(md_text(label) for label in labels) + " |")
        out.append("|---|" + "---:|" * len(models))
        for sec in names:
            cells = []
            for s in sections:
                r = s.get(sec)
                cells.append("n/a" if r is None else f"{_fmt_score(r['3cosadd'])} / {_fmt_score(r['3cosmul'])}"
                             + _fmt_coverage(r["coverage"]))
            out.append(f"| {md_text(sec)} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("## Models")
    out.append("")
    for m in models:
        params = ", ".join(f"{k}={v}" for k, v in sorted((m.get("parameters") or {}).items()))
        where = f" Vectors: {md_code(m['vectors'])}." if m.get("vectors") else ""
        out.append(f"- **{md_text(m['label'])}** ({md_text(m['description'])}): "
                   f"{md_code(params) if params else 'parameters unknown'}.{where}")
    with_examples = [m for m in models if m.get("examples")]
    if with_examples:
        out.append("")
        out.append("## Nearest neighbours and analogies")
        words = list(dict.fromkeys(w for m in with_examples for w in m["examples"]["neighbours"]))
        if words:
            out.append("")
            out.append("| word | " + " | ".join(md_text(m["label"]) for m in with_examples) + " |")
            out.append("|---|" + "---|" * len(with_examples))
            for w in words:
                cells = []
                for m in with_examples:
                    nn = m["examples"]["neighbours"].get(w)
                    cells.append("not in vocabulary" if nn is None else _md_words((x for x, _ in nn), table=True))
                out.append(f"| {md_code(w, table=True)} | " + " | ".join(cells) + " |")
        queries = list(dict.fromkeys(a["query"] for m in with_examples for a in m["examples"]["analogies"]))
        for q in queries:
            shown = next(a["words"] for m in with_examples for a in m["examples"]["analogies"] if a["query"] == q)
            out.append("")
            out.append(f"**{md_code(shown[0])} - {md_code(shown[1])} + {md_code(shown[2])}**")
            out.append("")
            for m in with_examples:
                a = next((x for x in m["examples"]["analogies"] if x["query"] == q), None)
                if a is None:
                    continue
                if "3cosadd" not in a:
                    out.append(f"- {md_text(m['label'])}: not in the vocabulary: {_md_words(a.get('missing', []))}")
                    continue
                rank = f"; {md_code(a['expected'])} ranks #{a['expected_rank']}" if a.get("expected_rank") else ""
                out.append(f"- {md_text(m['label'])}: 3CosAdd {_md_words(x for x, _ in a['3cosadd'])}; "
                           f"3CosMul {_md_words(x for x, _ in a['3cosmul'])}{rank}")
    if plots:
        out.append("")
        out.append("## Plots")
        out.append("")
        for p in plots:
            out.append(f"![{Path(p).stem}]({p})")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
