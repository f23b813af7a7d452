"""The quickstart notebook runs top to bottom (nbclient, python3 kernel) on the bundled
sample and produces its outputs: neighbours, analogies, the side-by-side table, a plot."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _tagged(nb, tag):
    cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"one cell tagged {tag!r} expected"
    return cells[0]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    workdir = tmp_path_factory.mktemp("notebook")
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()  # raises CellExecutionError on any error
    return nb, workdir


def test_runs_without_errors(executed):
    nb, workdir = executed
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.get("execution_count") is not None
            assert not [o for o in cell.outputs if o.get("output_type") == "error"]
    assert list(workdir.iterdir()) == []  # the notebook writes no files


def test_neighbours_and_analogies_are_printed(executed):
    nb, _ = executed
    text = _text(_tagged(nb, "neighbours"))
    lines = [line for line in text.splitlines() if ":" in line]
    assert [line.split(":")[0].strip() for line in lines] == ["king", "france", "computer", "three"]
    for line in lines:
        assert len(line.split(":", 1)[1].split(",")) == 8
    assert "four" in text or "two" in text  # three's neighbours are numbers
    analogies = _text(_tagged(nb, "analogies"))
    assert "king - man + woman:  3CosAdd" in analogies and "3CosMul" in analogies
    w2v = _text(_tagged(nb, "word2vec"))
    assert "epochs" in w2v and "king - man + woman" in w2v


def test_side_by_side_table_and_plot(executed):
    nb, _ = executed
    table = _text(_tagged(nb, "table"))
    assert table.splitlines()[0].split() == ["benchmark", "pmi", "word2vec"]
    assert "google 3CosMul" in table and "train time" in table
    plot = _tagged(nb, "plot")
    images = [o["data"]["image/png"] for o in plot.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1
    assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"


def test_explanations_are_shown(executed):
    nb, _ = executed
    text = _text(_tagged(nb, "explain"))
    assert "contexts of 'king' by PPMI" in text and text.count("\n") > 20
    assert "'king' and 'queen': PPMI cosine" in text and "shared contexts" in text and "that 'queen' lacks" in text
    analogy = _text(_tagged(nb, "explain_analogy"))
    assert analogy.startswith("paris - france + germany -> ") and "contexts among context words" in analogy
    report = [c for c in nb.cells if c.cell_type == "markdown" and "report.html" in c.source and c.get("attachments")]
    assert len(report) == 1
    png = report[0]["attachments"]["report-explorer.png"]["image/png"]
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_line_reads_the_saved_model(executed):
    nb, _ = executed
    text = _text(_tagged(nb, "cli"))
    similar, analogy = text.split("$ pmiembed analogy")
    assert similar.startswith("$ pmiembed similar --vectors model paris berlin --negative france -n 5")
    assert len([line for line in similar.splitlines() if "\t" in line]) == 5
    assert len([line for line in analogy.splitlines() if "\t" in line]) == 3


def test_saved_with_outputs_and_no_local_paths():
    """The notebook in the repository shows its outputs on a code host (every code cell was
    executed and kept its output), and they name no path of the machine that ran them."""
    import json
    import sys

    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") and c.get("outputs") for c in code)
    assert not any(o.get("output_type") == "error" for c in code for o in c["outputs"])
    text = json.dumps([c["outputs"] for c in code])
    for local in {str(NOTEBOOK.parents[1]), sys.prefix, str(Path.home()), "site-packages"}:
        assert local not in text, local
    source = "\n".join("".join(c["source"]) for c in code)
    assert "compare." not in source and "build_report" not in source  # the public API only
