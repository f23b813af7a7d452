"""``pmiembed demo``: the real pipeline on the bundled sample (small dimensions for speed).

No test touches the network: an autouse guard makes any outside connection or
download attempt fail the test; the online path is exercised against a local TCP server
with only gensim's downloader call replaced.
"""

from __future__ import annotations

import json
import shutil
import socket
import time

import gensim.downloader
import pytest

from pmiembed import datasets
from pmiembed.cli import demo as cli_demo
from pmiembed.cli.main import main
from pmiembed.datasets import data_dir, sample_path
from pmiembed.evaluate import BENCHMARKS, available_benchmarks

FAST = ["--dim", "20", "--w2v-epochs", "1", "--quiet"]

_real_create_connection = socket.create_connection


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Only loopback connections; no downloads; an empty gensim-data cache."""
    def local_only(address, *args, **kwargs):
        if address[0] not in ("127.0.0.1", "localhost", "::1"):
            pytest.fail(f"test tried to connect to {address}")
        return _real_create_connection(address, *args, **kwargs)

    def no_download(*args, **kwargs):
        pytest.fail("test tried to download with gensim's downloader")

    monkeypatch.setattr(socket, "create_connection", local_only)
    monkeypatch.setattr(gensim.downloader, "load", no_download)
    monkeypatch.setattr(gensim.downloader, "BASE_DIR", str(tmp_path / "gensim-data"))


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def local_server():
    """A listening TCP socket on loopback: the connection test succeeds without network."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    yield ("127.0.0.1", srv.getsockname()[1])
    srv.close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_offline_demo_on_the_bundled_sample(tmp_path, capsys):
    out = tmp_path / "demo"
    code, stdout, err = run(capsys, "demo", "--offline", "--out", out, *FAST)
    assert code == 0 and err == ""
    lines = stdout.splitlines()
    assert lines[0].startswith("offline (--offline): using the bundled sample")
    # neighbours of the demo words, for both models
    assert "Nearest neighbours" in stdout
    for word in ("king", "france", "computer", "three"):
        assert f"\n  {word}\n    pmi " in stdout
    assert sum(1 for line in lines if line.startswith("    word2vec  ")) >= 5
    assert "king - man + woman = ?" in stdout
    assert "too small for king - man + woman to reach queen" in stdout and "17M tokens" in stdout
    assert "both models see the same text" in stdout
    assert "train time" in stdout and "peak memory" in stdout
    assert f"report written to {out}/" in stdout
    report = json.loads((out / "report.json").read_text())
    assert report["corpus"]["tokens"] == 1_171_946 and report["corpus"]["paths"] == [str(sample_path())]
    assert [m["label"] for m in report["models"]] == ["pmi", "word2vec"]
    names = [b["name"] for b in report["benchmarks"]]
    assert names == available_benchmarks()
    if data_dir() is not None and (data_dir() / "benchmarks").is_dir():
        assert names == list(BENCHMARKS)
    else:
        assert names == ["ws353", "simlex999", "google"]
    ana = report["models"][0]["examples"]["analogies"][0]
    assert ana["query"] == "king - man + woman" and len(ana["3cosadd"]) == 5 and len(ana["3cosmul"]) == 5
    assert ana["expected_rank"] >= 1
    md = (out / "report.md").read_text()
    assert "too small for king - man + woman to reach queen" in md and "| `king` |" in md
    for png in ("scores.png", "training.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "pmi" / "vectors.bin").is_file() and (out / "word2vec" / "vectors.bin").is_file()


def test_online_path_downloads_text8_with_gensims_downloader(monkeypatch, tmp_path, capsys, lee_path, local_server):
    calls = []
    shutil.copy(lee_path, tmp_path / "text8")  # stands in for the downloaded file

    def fake_load(name, return_path=False):
        calls.append((name, return_path, socket.getdefaulttimeout()))
        return str(tmp_path / "text8")

    monkeypatch.setattr(datasets, "download_hosts", lambda: [local_server])
    monkeypatch.setattr(gensim.downloader, "load", fake_load)
    before = socket.getdefaulttimeout()
    out = tmp_path / "demo"
    code, stdout, err = run(capsys, "demo", "--out", out, *FAST, "--min-count", "3")
    assert code == 0, err
    assert calls == [("text8", True, datasets.DOWNLOAD_TIMEOUT)]  # with a timeout against stalls
    assert socket.getdefaulttimeout() == before
    first = stdout.splitlines()[0]
    assert first == f"corpus: text8 (17M tokens), downloaded by gensim's downloader to {tmp_path / 'text8'}"
    report = json.loads((out / "report.json").read_text())
    assert report["corpus"]["paths"] == [str(tmp_path / "text8")]


def test_unreachable_host_falls_back_to_the_sample(monkeypatch):
    monkeypatch.setattr(datasets, "download_hosts", lambda: [("127.0.0.1", closed_port())])
    start = time.monotonic()
    chosen = datasets.choose_corpus()
    assert time.monotonic() - start < 3
    assert chosen.sample and chosen.paths == [str(sample_path())]
    assert chosen.message.startswith("no network (cannot reach 127.0.0.1")
    assert "using the bundled sample" in chosen.message and "\n" not in chosen.message


def test_a_hanging_connection_is_abandoned_within_the_timeout(monkeypatch):
    def hang(*args, **kwargs):
        time.sleep(5)
        raise OSError("too late")

    monkeypatch.setattr(socket, "create_connection", hang)
    monkeypatch.setattr(datasets, "NETWORK_TIMEOUT", 0.3)
    start = time.monotonic()
    chosen = datasets.choose_corpus()
    assert time.monotonic() - start < 1.5
    assert chosen.sample and "no answer from" in chosen.message


def test_failed_download_falls_back_to_the_sample(monkeypatch, local_server):
    def broken(*args, **kwargs):
        raise OSError("timed out")

    monkeypatch.setattr(datasets, "download_hosts", lambda: [local_server])
    monkeypatch.setattr(gensim.downloader, "load", broken)
    chosen = datasets.choose_corpus(quiet=True)
    assert chosen.sample and chosen.message.startswith("could not download text8 (timed out)")


def test_cached_text8_is_used_without_network(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "network_available", lambda *a, **k: pytest.fail("checked the network"))
    cached = tmp_path / "gensim-data" / "text8" / "text8.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")
    chosen = datasets.choose_corpus()
    assert chosen.paths == [str(cached)] and not chosen.sample and "cached" in chosen.message
    # --offline and --corpus win over the cache
    assert datasets.choose_corpus(offline=True).sample
    assert datasets.choose_corpus(corpus=[str(sample_path())]).paths == [str(sample_path())]


def test_output_folder_rules(monkeypatch, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    code, out, err = run(capsys, "demo", "--offline", "--out", tmp_path / "taken", *FAST)
    assert code == 2 and out == "" and err.startswith("pmiembed: error: ") and len(err.splitlines()) == 1
    assert "taken: output folder exists" in err
    code, out, err = run(capsys, "demo", "--corpus", tmp_path / "missing.txt", "--out", tmp_path / "o", *FAST)
    assert code == 2 and "missing.txt: no such corpus file or folder" in err and len(err.splitlines()) == 1
    # without --out, an existing pmiembed-demo/ is kept and a fresh name is chosen
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pmiembed-demo").mkdir()
    (tmp_path / "pmiembed-demo-2").mkdir()
    assert cli_demo._fresh_out("pmiembed-demo")[0].name == "pmiembed-demo-3"
