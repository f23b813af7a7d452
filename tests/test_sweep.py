"""pmiembed sweep: grid expansion, reuse of counts, resumability, outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pmiembed.cli.main import main
from pmiembed.errors import ParameterError
from pmiembed.evaluate import evaluate, results_to_dict
from pmiembed.model import PMIEmbedding
from pmiembed.sweep import parse_grid


def test_parse_grid():
    g = parse_grid(["window=2,5", "sub=none,1e-5", "wc=0,1", "weighting=harmonic"])
    assert g == {"window": [2, 5], "subsample": [None, 1e-5], "wc": [False, True], "weighting": ["harmonic"]}
    assert parse_grid(["core-min-count=none,10"]) == {"core_min_count": [None, 10]}
    with pytest.raises(ParameterError, match="'colour'"):
        parse_grid(["colour=1"])
    with pytest.raises(ParameterError, match="name=value1,value2"):
        parse_grid(["window"])


def test_sweep_runs_resumes_and_matches_the_model(tmp_path, lee_path, capsys):
    out = tmp_path / "sw"
    argv = ["sweep", str(lee_path), "--grid", "window=2,3", "eig=0,0.5", "dim=20", "min_count=3",
            "--out", str(out)]
    assert main(argv) == 0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4
    assert len(list((out / "counts").glob("*.npz"))) == 2  # counted once per window
    table = capsys.readouterr().out
    assert table.count("\n") >= 5 and "window=2 eig=0" in table
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(json.loads((out / "results.json").read_text())) == 4
    # a sweep row scores exactly what the model with the same parameters scores
    row = next(r for r in rows if r["params"]["window"] == 3 and r["params"]["eig"] == 0)
    model = PMIEmbedding(window=3, eig=0, dim=20, min_count=3).fit(lee_path)
    for name, r in results_to_dict(evaluate(model.wv)).items():
        got = row["scores"][name]["score"]
        want = r["score"] if "score" in r else max(r["3cosadd"], r["3cosmul"])
        assert got == pytest.approx(want, abs=1e-9) or (np.isnan(got) and np.isnan(want))
    # resuming: nothing is recomputed, one more value adds only its configurations
    assert main(argv) == 0
    assert "4 already done" in capsys.readouterr().err
    assert main(argv[:4] + ["eig=0,0.5,1"] + argv[5:]) == 0
    assert "4 already done" in capsys.readouterr().err
    assert len((out / "results.jsonl").read_text().splitlines()) == 6


def test_sweep_reports_similarity_and_analogy_means_apart(tmp_path, lee_path, capsys):
    """A correlation and an accuracy are never averaged together: results.md has one
    mean per kind, each the mean of that kind's columns, rows ordered by them; an --out
    with a trailing slash prints one slash."""
    from pmiembed.sweep import group_means

    out = tmp_path / "sw"
    assert main(["sweep", str(lee_path), "--grid", "eig=0,1", "dim=20", "min_count=3", "--out", f"{out}/"]) == 0
    err = capsys.readouterr().err
    assert f"wrote {out}/results.md, results.json" in err and "//" not in err
    rows = json.loads((out / "results.json").read_text())
    md = (out / "results.md").read_text().splitlines()
    header = [c.strip() for c in md[0].strip("|").split("|")]
    names = list(rows[0]["scores"])
    assert header == ["configuration", *names, "mean similarity (rho)", "mean analogy (accuracy)"]
    analogies = [n for n in names if "3cosadd" in rows[0]["scores"][n]]
    assert analogies in (["google"], ["google", "msr"]) and len(names) > len(analogies)  # msr with PMIEMBED_DATA
    shown = []
    for line in md[2:2 + len(rows)]:
        cells = [c.strip().strip("*") for c in line.strip("|").split("|")]
        row = next(r for r in rows if r["label"] == cells[0])
        sim = np.mean([row["scores"][n]["score"] for n in names if n not in analogies])
        ana = np.mean([row["scores"][n]["score"] for n in analogies])
        assert (float(cells[-2]), float(cells[-1])) == (round(sim, 3), round(ana, 3))
        assert group_means(row["scores"]) == pytest.approx((sim, ana))
        shown.append((sim, ana))
    assert shown == sorted(shown, key=lambda m: (-m[0], -m[1]))  # best mean similarity first
    assert "the better of 3CosAdd and 3CosMul" in (out / "results.md").read_text()


def test_the_help_names_every_grid_parameter(capsys):
    """``pmiembed sweep --help`` lists every parameter a grid takes, in both its lists
    (a parameter added to the sweep and left out of its help was invisible)."""
    from pmiembed.sweep import COUNT_KEYS, FACTOR_KEYS, VECTOR_KEYS

    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    grid_help = text[text.index("...] parameters (as PMIEmbedding names"):text.index("--out DIR results folder")]
    description = text[:text.index("positional arguments")]
    for key in COUNT_KEYS + FACTOR_KEYS + VECTOR_KEYS:
        if key not in ("tokenize", "lowercase"):  # flags of their own, not grid values
            assert key in grid_help, key
        assert key in description, key
