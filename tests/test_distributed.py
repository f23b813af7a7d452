"""The pipeline on Dask (pmiembed.distributed) against the single-process route, on real
corpora: gensim's Lee corpus (300 lines) and the bundled text8 sample (one 6.9 MB line,
so shards cut inside a document)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from pmiembed import PMIEmbedding  # noqa: E402
from pmiembed.cli.main import main  # noqa: E402
from pmiembed.cooccur import count_cooccurrences  # noqa: E402
from pmiembed.corpus import read_corpus  # noqa: E402
from pmiembed.datasets import sample_path  # noqa: E402
from pmiembed.distributed import count_distributed, plan_shards, read_shard_bytes  # noqa: E402
from pmiembed.vectors import load_vectors  # noqa: E402
from pmiembed.vocab import Vocabulary  # noqa: E402


@pytest.fixture(scope="module")
def clusters():
    """In-process clusters of 1, 2 and 3 single-threaded workers, started on first use."""
    made = {}

    def get(n):
        if n not in made:
            cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=False,
                                               dashboard_address=":0", silence_logs=logging.CRITICAL)
            made[n] = (cluster, distributed.Client(cluster))
        return made[n][1]

    yield get
    for cluster, client in made.values():
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def text8():
    return sample_path()


def single_process_counts(path, **kw):
    tokens = read_corpus(path)
    vocab = Vocabulary.from_counts(tokens.types, tokens.counts, min_count=kw.pop("min_count"), total=tokens.n_tokens)
    return count_cooccurrences(tokens, vocab, **kw)


def assert_same_counts(got, ref):
    assert got.vocab.words == ref.vocab.words
    assert np.array_equal(got.vocab.counts, ref.vocab.counts)
    assert got.scale == ref.scale and got.params == ref.params
    a, b = got.counts, ref.counts
    assert a.shape == b.shape and a.nnz == b.nnz > 0
    assert a.data.dtype == b.data.dtype == np.int64
    assert np.array_equal(a.indptr, b.indptr)
    assert np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)


def test_shards_partition_the_text_at_whitespace(lee_path, text8):
    data = lee_path.read_bytes()
    for size in (997, 4096, 10**9):
        parts = [read_shard_bytes(s) for s in plan_shards(str(lee_path), size)]
        assert b"".join(parts) == data
        assert all(p[-1] <= 32 for p in parts[:-1] if p)  # each ends at whitespace: no token is cut
    # a compressed single-line file: shards inside the line, the last one reads to the end
    import gzip

    text = gzip.decompress(text8.read_bytes())
    shards = plan_shards(str(text8), 1 << 20)
    assert len(shards) > 6 and shards[-1].end is None
    assert b"".join(read_shard_bytes(s) for s in shards) == text


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("shard_bytes", [3000, 50_000, None])
def test_counts_bitwise_identical_on_lee(clusters, lee_path, workers, shard_bytes):
    kw = dict(min_count=2, window=5, weighting="harmonic", subsample=1e-3, subsample_mode="dirty", seed=3)
    ref = single_process_counts(lee_path, **kw)
    got = count_distributed(clusters(workers), str(lee_path), shard_bytes=shard_bytes, **kw).gather()
    assert_same_counts(got, ref)


@pytest.mark.parametrize("workers,shard_bytes,mode", [(2, 1 << 20, "expected"), (3, 700_001, "clean"),
                                                      (1, None, "dirty")])
def test_counts_bitwise_identical_on_a_single_line_corpus(clusters, text8, workers, shard_bytes, mode):
    kw = dict(min_count=5, window=8, weighting="harmonic2", subsample=1e-4, subsample_mode=mode, seed=0)
    ref = single_process_counts(text8, **kw)
    dist = count_distributed(clusters(workers), str(text8), shard_bytes=shard_bytes, row_blocks=workers + 2, **kw)
    assert dist.stats["shards"] > (1 if shard_bytes else 0)
    assert_same_counts(dist.gather(), ref)


def test_several_files_and_a_folder(clusters, lee_path, text8, tmp_path):
    # files are documents: a window never joins the end of one file to the start of the next
    (tmp_path / "b.txt").write_bytes(lee_path.read_bytes()[:20_000])
    (tmp_path / "a.txt").write_bytes(b"the end of one file\n\n  ")
    (tmp_path / "c.txt").write_bytes(b"\n\n   \n")  # no tokens at all
    kw = dict(min_count=1, window=4, weighting="uniform", subsample=None, subsample_mode="dirty", seed=0)
    ref = single_process_counts([str(tmp_path), str(lee_path)], **kw)
    got = count_distributed(clusters(2), [str(tmp_path), str(lee_path)], shard_bytes=2500, **kw)
    assert_same_counts(got.gather(), ref)
    assert got.stats["documents"] == read_corpus([str(tmp_path), str(lee_path)]).n_docs


def test_fit_on_the_cluster_matches_the_single_process_svd(clusters, text8):
    kw = dict(dim=60, min_count=5, core_min_count=10)
    ref = PMIEmbedding(**kw).fit(text8)
    got = PMIEmbedding(**kw).fit(str(text8), client=clusters(2))
    assert ref.n_core_ is not None and got.n_core_ == ref.n_core_  # fold-in on both routes
    assert_same_counts(got.cooccurrence_, ref.cooccurrence_)
    np.testing.assert_allclose(got.singular_values_, ref.singular_values_, rtol=2e-3)
    assert got.vectors_.shape == ref.vectors_.shape
    # the same directions: each word's vector matches its single-process vector up to the
    # sign of each dimension (both routes fix signs the same way) in the leading dimensions
    cos = np.sum(got.vectors_[:, :20] * ref.vectors_[:, :20], axis=1) / (
        np.linalg.norm(got.vectors_[:, :20], axis=1) * np.linalg.norm(ref.vectors_[:, :20], axis=1) + 1e-12)
    assert np.median(cos) > 0.99
    for word in ("king", "france", "three"):
        mine = {w for w, _ in got.wv.most_similar(word, topn=10)}
        theirs = {w for w, _ in ref.wv.most_similar(word, topn=10)}
        assert len(mine & theirs) >= 7, (word, mine, theirs)
    assert got.worker_peak_bytes_ and all(v > 0 for v in got.worker_peak_bytes_.values())
    # deterministic: the same cluster and seed give the same bits
    again = PMIEmbedding(**kw, keep_counts=False).fit(str(text8), client=clusters(2))
    assert np.array_equal(again.vectors_, got.vectors_)
    assert again.cooccurrence_ is None


def test_unsymmetric_pmi_and_no_core(clusters, lee_path):
    # context distribution smoothing makes the PMI unsymmetric: products with A^T too
    for kw in (dict(dim=30, min_count=2, cds=0.75, core_min_count=3), dict(dim=30, min_count=2, core_min_count=None)):
        ref = PMIEmbedding(**kw).fit(lee_path)
        got = PMIEmbedding(**kw).fit(str(lee_path), client=clusters(3))
        np.testing.assert_allclose(got.singular_values_, ref.singular_values_, rtol=5e-3)
        assert got.vectors_.shape == ref.vectors_.shape


def test_in_memory_corpus_is_refused(clusters, lee_docs):
    from pmiembed.errors import ParameterError

    with pytest.raises(ParameterError, match="file paths"):
        PMIEmbedding(dim=10).fit(lee_docs, client=clusters(1))


def test_cli_flags_end_to_end(clusters, lee_path, tmp_path, capsys):
    # local:N starts worker processes; its vectors are those of the same number of
    # workers in one process, bit for bit
    out = tmp_path / "local"
    assert main(["train", str(lee_path), "--out", str(out), "--dim", "24", "--min-count", "2",
                 "--scheduler", "local:2"]) == 0
    err = capsys.readouterr().err
    assert "worker peak" in err and "fold-in" in err and "wrote" in err
    model = PMIEmbedding(dim=24, min_count=2).fit(str(lee_path), client=clusters(2))
    kv = load_vectors(out)
    assert kv.index_to_key == model.vocabulary_.words
    np.testing.assert_array_equal(kv.vectors, model.vectors_)
    params = json.loads((out / "params.json").read_text())
    assert params["corpus"]["tokens"] == 60005  # Lee read as words (the default), as in one process

    # a running scheduler, by address and by scheduler file
    client = clusters(3)
    address = client.scheduler.address
    assert main(["train", str(lee_path), "--out", str(tmp_path / "addr"), "--dim", "24", "--min-count", "2",
                 "--scheduler", address, "--quiet"]) == 0
    sched_file = tmp_path / "scheduler.json"
    sched_file.write_text(json.dumps({"address": address}))
    assert main(["train", str(lee_path), "--out", str(tmp_path / "file"), "--dim", "24", "--min-count", "2",
                 "--scheduler-file", str(sched_file), "--quiet"]) == 0
    a, b = load_vectors(tmp_path / "addr"), load_vectors(tmp_path / "file")
    np.testing.assert_array_equal(a.vectors, b.vectors)
    capsys.readouterr()

    # user errors: one line, exit 2, nothing written
    for argv, needle in [
        (["--scheduler", "local:0"], "local:N needs at least one worker"),
        (["--scheduler-file", str(tmp_path / "missing.json")], "no such file"),
        (["--scheduler", "local:1", "--svd", "arpack"], "randomized"),
    ]:
        target = tmp_path / "bad"
        assert main(["train", str(lee_path), "--out", str(target), "--dim", "24", *argv]) == 2
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert not target.exists()
    with pytest.raises(SystemExit) as exc:
        main(["train", str(lee_path), "--out", str(tmp_path / "x"), "--scheduler", "local:1",
              "--scheduler-file", str(sched_file)])
    assert exc.value.code == 2


def test_a_worker_cannot_read_the_corpus(clusters, tmp_path):
    from pmiembed.distributed import Shard, _tokenize_shard
    from pmiembed.errors import CorpusError

    shard = Shard(str(tmp_path / "gone.txt"), 0, None, True)
    with pytest.raises(CorpusError, match="every worker must see the corpus"):
        _tokenize_shard(shard, False, None)


def test_fsspec_urls(clusters, lee_path, text8):
    # a URL goes through fsspec (file:// is always there; s3:// etc. need their backend)
    kw = dict(min_count=3, window=5, weighting="harmonic2", subsample=1e-3, subsample_mode="expected", seed=0)
    ref = single_process_counts([str(lee_path), str(text8)], **kw)
    urls = [lee_path.as_uri(), text8.as_uri()]
    got = count_distributed(clusters(2), urls, shard_bytes=400_000, **kw)
    assert got.stats["shards"] > 3
    assert_same_counts(got.gather(), ref)


def test_the_cluster_factorises_the_same_matrix_kind(clusters, lee_path, tmp_path):
    """The bounded matrix (the default) and PPMI alike: the cluster's singular values are
    the single process's of the same matrix, and not the other's; params.json says which."""
    kw = dict(dim=30, min_count=3, core_min_count=5)
    refs = {m: PMIEmbedding(**kw, matrix=m).fit(lee_path) for m in ("nneg", "ppmi")}
    for m, ref in refs.items():
        got = PMIEmbedding(**kw, matrix=m).fit(str(lee_path), client=clusters(2))
        assert got.n_core_ == ref.n_core_ < len(ref.vocabulary_)
        np.testing.assert_allclose(got.singular_values_, ref.singular_values_, rtol=2e-3)
        other = refs["ppmi" if m == "nneg" else "nneg"]
        assert np.abs(got.singular_values_ / other.singular_values_ - 1).max() > 0.05
        # the same directions in the leading dimensions (the last ones of a small corpus's flat
        # spectrum are not converged by either route)
        a, b = got.vectors_[:, :15], ref.vectors_[:, :15]
        cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)
        assert np.median(cos) > 0.99, m
        got.save(tmp_path / m)
        assert PMIEmbedding.load(tmp_path / m).matrix == m
