"""pmiembed sweep: grid expansion, reuse of counts, resumability, outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pmiembed.cli import main
from pmiembed.errors import ParameterError
from pmiembed.model import PMIEmbedding
from pmiembed.evaluate import evaluate, results_to_dict
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
