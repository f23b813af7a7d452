"""The plots of a comparison's report: benchmark scores, training time and memory."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

from ._report import display_text, score_rows

SCORES_PNG = "scores.png"
TRAINING_PNG = "training.png"


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _plain(text) -> str:
    """A label, name or word as matplotlib draws it literally: ``$`` would start its
    mathtext (and an unknown symbol there fails the whole plot)."""
    return display_text(text).replace("$", r"\$")


def _corpus_title(report: Mapping) -> str:
    corpus = report.get("corpus") or {}
    if not corpus:
        return ""
    name = corpus.get("name") or ", ".join(Path(p).name for p in corpus.get("paths", []))
    tokens = corpus.get("tokens")
    return _plain(name) + (f", {tokens / 1e6:.2f}M tokens" if tokens else "")


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
        bars = ax.bar(pos, heights, width, label=_plain(f"{m['label']} ({m['description']})"), color=colors[j],
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
    ax.set_xticklabels([_plain(row["short"]) for row in rows], fontsize=9)
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
        bars = ax.bar(range(len(labels)), values, color=[color_of[label] for label in labels], edgecolor="black",
                      linewidth=0.4, width=0.6, tick_label=[_plain(label) for label in labels])
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
