"""``report.html``: the comparison report as one self-contained page with an explorer.

The page opens from disk with no server and loads nothing from the network: its CSS and
JavaScript are inline, the plots are inline PNG (``data:`` URLs) and the explorer's data
sit in a ``<script type="application/json">`` block (:func:`script_json`: no word can end
it or change how the page parses):

* the ``n_words`` most frequent words present in every model (the first model's order),
  and each model's vectors of those words at reduced precision: each vector is scaled
  to unit length, then to ``[-31, 31]`` by its largest coordinate and rounded, 6 bits a
  coordinate, four coordinates packed in three bytes (base64).  The page measures what
  this costs: the share of the 10 nearest neighbours (cosine, among the page's words) of
  sampled words that the packed vectors keep, written on the page;
* for a pmiembed model whose folder has ``ppmi.npz``: each page word's ``n_contexts``
  strongest contexts by PPMI (among contexts seen at least ``min_count`` times, see
  :func:`pmiembed.explain.contexts`), PPMI rounded to 8 bits, and each word's exact PPMI
  row norm, so the page can show a word's contexts and the contexts behind an analogy's
  answer (:func:`pmiembed.explain.explain_analogy`, computed from those truncated rows).

The explorer answers a word with every model's nearest neighbours side by side, and
``king - man + woman`` with every model's 3CosAdd answers (the three query words
excluded, as gensim does) and, for pmiembed, the contexts behind its first answer.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

REPORT_HTML = "report.html"
#: Words embedded in the page (the most frequent present in every model).
HTML_WORDS = 10_000
#: Contexts embedded per word for the pmiembed explanations.
HTML_CONTEXTS = 48
#: Most models in the explorer.
HTML_MODELS = 4
BITS = 6
_LEVELS = 2 ** (BITS - 1) - 1  # 31


# --------------------------------------------------------------------- packing


def pack_vectors(vectors: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Unit-length rows rounded to 6-bit integers in ``[-31, 31]`` (scaled by each
    row's largest coordinate), stored as ``q + 31`` four to three bytes (little-endian
    24-bit groups; rows padded to a multiple of 4 coordinates with 0).  Returns the
    bytes and the rounded integers (what the page decodes)."""
    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    v = v / np.where(norms > 0, norms, 1.0)
    peak = np.abs(v).max(axis=1, keepdims=True)
    q = np.rint(v * (_LEVELS / np.where(peak > 0, peak, 1.0))).astype(np.int64)
    pad = (-q.shape[1]) % 4
    u = np.pad(q, ((0, 0), (0, pad))) + _LEVELS
    g = u.reshape(len(u), -1, 4)
    x = g[..., 0] | (g[..., 1] << 6) | (g[..., 2] << 12) | (g[..., 3] << 18)
    out = np.stack([x & 255, (x >> 8) & 255, (x >> 16) & 255], axis=-1).astype(np.uint8)
    return out.tobytes(), q


def unpack_vectors(data: bytes, n: int, dim: int) -> np.ndarray:
    """The integers :func:`pack_vectors` stored (n x dim)."""
    b = np.frombuffer(data, dtype=np.uint8).reshape(n, -1, 3).astype(np.int64)
    x = b[..., 0] | (b[..., 1] << 8) | (b[..., 2] << 16)
    u = np.stack([(x >> s) & 63 for s in (0, 6, 12, 18)], axis=-1).reshape(n, -1)
    return u[:, :dim] - _LEVELS


def neighbour_fidelity(full: np.ndarray, packed: np.ndarray, n_queries: int = 200, k: int = 10) -> float:
    """Share of the ``k`` nearest neighbours (cosine, among the rows) of ``n_queries``
    evenly spaced rows that the packed rows keep.  The same number for the same rows
    in any process: the products run on one BLAS thread (a fixed summation order) and
    ties, common among packed rows, go to the lower row."""
    def unit(a):
        a = np.asarray(a, dtype=np.float64)
        n = np.linalg.norm(a, axis=1, keepdims=True)
        return a / np.where(n > 0, n, 1.0)

    full, packed = unit(full), unit(packed)
    n = len(full)
    if n <= k:
        return 1.0
    rows = np.unique(np.linspace(0, n - 1, min(n_queries, n)).astype(int))
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        sa, sb = full[rows] @ full.T, packed[rows] @ packed.T
    sa[np.arange(len(rows)), rows] = -np.inf
    sb[np.arange(len(rows)), rows] = -np.inf
    ta = np.argsort(-sa, axis=1, kind="stable")[:, :k]
    tb = np.argsort(-sb, axis=1, kind="stable")[:, :k]
    kept = sum(len(set(x) & set(y)) for x, y in zip(ta, tb))
    return kept / (len(rows) * k)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ----------------------------------------------------------------------- data


def explorer_data(models: Sequence[tuple[str, str, Any]], ppmi_source: tuple[str, Any] | None = None,
                  n_words: int = HTML_WORDS, n_contexts: int = HTML_CONTEXTS) -> dict:
    """The explorer's JSON: ``models`` are ``(label, description, KeyedVectors)``;
    ``ppmi_source`` ``(label, PPMI)`` of the pmiembed model with its PPMI matrix."""
    kvs = [kv for _, _, kv in models]
    words = []
    for w in kvs[0].index_to_key:
        if all(w in kv.key_to_index for kv in kvs[1:]):
            words.append(w)
            if len(words) >= n_words:
                break
    out: dict[str, Any] = {"words": words, "bits": BITS, "models": []}
    for label, description, kv in models:
        full = kv.vectors[[kv.key_to_index[w] for w in words]]
        data, q = pack_vectors(full)
        out["models"].append({"label": label, "description": description, "dim": int(full.shape[1]),
                              "vectors": _b64(data), "fidelity": round(neighbour_fidelity(full, q), 4)})
    if ppmi_source is not None:
        label, ppmi = ppmi_source
        out["pmi"] = _context_data(label, ppmi, words, n_contexts)
    return out


def _context_data(label: str, ppmi, words: Sequence[str], k: int) -> dict:
    """Each word's ``k`` strongest contexts (indices into ``ctxWords``, PPMI in 8-bit
    steps) and its exact PPMI row norm."""
    from .explain import contexts

    floor = ppmi.min_count(None)
    rows = [ppmi.row_of(w) for w in words]
    listed = [contexts(ppmi, w, k, min_count=floor) for w in words]
    names = list(dict.fromkeys(c.word for cs in listed for c in cs))
    where = {w: i for i, w in enumerate(names)}
    peak = max((c.ppmi for cs in listed for c in cs), default=1.0) or 1.0
    step = peak / 255
    index = np.zeros((len(words), k), dtype=np.uint32)
    value = np.zeros((len(words), k), dtype=np.uint8)
    for r, cs in enumerate(listed):
        for j, c in enumerate(cs):
            index[r, j] = where[c.word]
            value[r, j] = max(1, int(round(c.ppmi / step)))  # 0 marks an empty slot
    wide = len(names) > 65535
    return {
        "model": label, "k": k, "minCount": floor, "step": step, "ctxWords": names,
        "index": _b64(index.astype("<u4" if wide else "<u2").tobytes()), "indexBytes": 4 if wide else 2,
        "values": _b64(value.tobytes()),
        "norms": [round(float(ppmi.norms[r]), 5) for r in rows],
        "nContexts": [int(ppmi.matrix.indptr[r + 1] - ppmi.matrix.indptr[r]) for r in rows],
    }


# ----------------------------------------------------------------------- page


def _esc(x) -> str:
    from ._report import display_text

    return html.escape(display_text(x), quote=True)


def script_json(data) -> str:
    """``data`` as JSON to place inside a ``<script>`` element, meaning the same whatever
    its strings hold.  Inside a script the HTML parser looks for ``</script``, and after
    ``<!--`` and ``<script`` it stops taking even that as the end (so a vocabulary holding
    them swallows the rest of the page); it never decodes ``&...;``.  Here the text holds
    no ``<``, ``>`` or ``&`` at all (written as the JSON escapes ``\\u003c``, ``\\u003e``,
    ``\\u0026``), and every character outside printable ASCII is a JSON escape too
    (control characters, NUL, U+2028/U+2029, lone surrogates), so the parser sees one
    run of plain text and ``JSON.parse`` gets back the exact strings."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _tables(report: Mapping) -> str:
    from ._report import _compile_row, _fmt_cost, _fmt_coverage, _fmt_score, cost_rows, score_rows

    models = report["models"]
    head = "".join(f"<th>{_esc(m['label'])}<br><small>{_esc(m['description'])}</small></th>" for m in models)
    rows = []
    for row in score_rows(report):
        cells = []
        for i, (v, c) in enumerate(zip(row["values"], row["coverage"])):
            s = _esc(_fmt_score(v))
            cells.append(f"<td>{'<b>' + s + '</b>' if i in row['best'] else s}{_esc(_fmt_coverage(c))}</td>")
        rows.append(f"<tr><th>{_esc(row['label'].replace('Spearman rho', 'Spearman ρ'))}</th>{''.join(cells)}</tr>")
    rows.append("<tr><th>vocabulary</th>" + "".join(
        f"<td>{m['vocabulary_size']:,}</td>" if m.get("vocabulary_size") is not None else "<td>n/a</td>"
        for m in models) + "</tr>")
    rows.append("<tr><th>dimensions</th>" + "".join(f"<td>{_esc(m.get('dim', 'n/a'))}</td>" for m in models) + "</tr>")
    for row in cost_rows(report):
        cells = []
        for i, v in enumerate(row["values"]):
            s = _esc(_fmt_cost(row["metric"], v))
            cells.append(f"<td>{'<b>' + s + '</b>' if i in row['best'] else s}</td>")
        rows.append(f"<tr><th>{_esc(row['label'])}</th>{''.join(cells)}</tr>")
    compile_row = _compile_row(report)
    if compile_row:
        rows.append(f"<tr><th>{_esc(compile_row[0])}</th>" + "".join(f"<td>{_esc(c)}</td>" for c in compile_row[1:])
                    + "</tr>")
    return (f'<table id="scores"><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            "<p class=note>Similarity: Spearman ρ between cosine similarity and human ratings. Analogy: accuracy "
            "over all questions (3CosAdd, and Levy &amp; Goldberg's 3CosMul). (n%): the share of pairs or questions "
            "the model's vocabulary covers. <b>Bold</b>: the best in the row. Train time is the wall clock of "
            "training (numba compiling pmiembed's kernels on a machine's first run not included: shown apart when "
            "it happened), peak memory the training process's own.</p>")


def _header(report: Mapping) -> str:
    corpus = report.get("corpus") or {}
    machine = report["machine"]
    items = []
    if corpus:
        name = corpus.get("name") or ", ".join(Path(p).name for p in corpus.get("paths", []))
        tokens = f", {corpus['tokens']:,} tokens" if corpus.get("tokens") else ""
        items.append(f"<b>Corpus</b>: {_esc(name)}{tokens}")
    if report.get("command"):
        items.append(f"<b>Command</b>: <code>{_esc(report['command'])}</code>")
    items.append(f"<b>Machine</b>: {machine['cores']} cores, Python {_esc(machine['python'])}, gensim "
                 f"{_esc(machine['gensim'])}, pmiembed {_esc(machine['pmiembed'])}")
    items.append(f"<b>Date</b>: {_esc(report['created'])}")
    items += [_esc(n) for n in report.get("notes", [])]
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def render_html(report: Mapping, data: dict, plots: Mapping[str, bytes]) -> str:
    """The page: header, table, plots (inline PNG), explorer (inline data and script)."""
    labels = " vs ".join(m["label"] for m in report["models"])
    imgs = "".join(f'<figure><img alt="{_esc(name)}" src="data:image/png;base64,{_b64(png)}"></figure>'
                   for name, png in plots.items())
    n = len(data["words"])
    fidelity = ", ".join(f"{_esc(m['label'])} {100 * m['fidelity']:.1f}%" for m in data["models"])
    pmi = data.get("pmi")
    pmi_note = ""
    if pmi:
        pmi_note = (f" The contexts of {_esc(pmi['model'])} come from its PPMI matrix: each word's {pmi['k']} "
                    "strongest "
                    f"contexts among words seen at least {pmi['minCount']:,} times, PPMI rounded to 8 bits; an "
                    "analogy's supporting contexts are computed from those truncated rows (the full ones: "
                    "<code>pmiembed analogy --explain</code>).")
    precision = (f"<p class=note id=precision>The explorer holds the {n:,} most frequent words present in every model, "
                 f"vectors at reduced precision ({data['bits']} bits a coordinate): neighbours and answers are "
                 "searched "
                 f"among these {n:,} words only. Kept of the 10 nearest neighbours of 200 sampled words at this "
                 f"precision: {fidelity}.{pmi_note}</p>")
    payload = script_json(data)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pmiembed report: {_esc(labels)}</title>
<style>{_CSS}</style></head>
<body>
<h1>Word vectors side by side: {_esc(labels)}</h1>
{_header(report)}
<h2>Explorer</h2>
<form id="ask" autocomplete="off"><input id="query" type="text" spellcheck="false"
 placeholder="a word, or an analogy: king - man + woman"><button id="go" type="submit">Show</button></form>
<div id="status" class="note">loading the vectors…</div>
<div id="results"></div>
<div id="contexts"></div>
{precision}
<h2>Benchmarks</h2>
{_tables(report)}
{('<h2>Plots</h2>' + imgs) if imgs else ''}
<script type="application/json" id="data">{payload}</script>
<script>{_JS}</script>
</body></html>
"""


def write_report_html(path: Path, report: Mapping, models: Sequence[tuple[str, str, Any]],
                      ppmi_source: tuple[str, Any] | None, plot_files: Sequence[Path],
                      n_words: int = HTML_WORDS, n_contexts: int = HTML_CONTEXTS) -> dict:
    """Write ``report.html`` (see the module docstring); returns a summary for
    report.json (size, words, fidelity)."""
    data = explorer_data(models[:HTML_MODELS], ppmi_source, n_words=n_words, n_contexts=n_contexts)
    plots = {Path(p).stem: Path(p).read_bytes() for p in plot_files}
    text = render_html(report, data, plots)
    Path(path).write_text(text, encoding="utf-8")
    return {"file": Path(path).name, "bytes": len(text.encode("utf-8")), "words": len(data["words"]),
            "bits": BITS, "fidelity": {m["label"]: m["fidelity"] for m in data["models"]},
            "contexts": None if "pmi" not in data else data["pmi"]["model"]}


# the page's style and script, kept as files beside this module (package data)
_CSS = (Path(__file__).parent / "report.css").read_text(encoding="utf-8")
_JS = (Path(__file__).parent / "report.js").read_text(encoding="utf-8")

