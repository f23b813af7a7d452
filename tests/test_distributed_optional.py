"""Dask is optional: the single-process route never imports it (runs without it installed)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_normal_path_never_imports_dask(tmp_path, lee_path):
    code = textwrap.dedent(f"""
        import sys
        from pmiembed import PMIEmbedding
        from pmiembed.cli.main import main
        model = PMIEmbedding(dim=20, min_count=3).fit({str(lee_path)!r})
        assert model.vectors_.shape[1] == 20
        assert main(["train", {str(lee_path)!r}, "--out", {str(tmp_path / "out")!r}, "--dim", "20", "--quiet"]) == 0
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
        print(loaded)
        assert not loaded, loaded
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"
    assert (tmp_path / "out" / "vectors.bin").is_file()
