"""Tokenisation (``tokenize=``): ``words`` on real raw text and other scripts, its
compiled ASCII path against the Unicode regex, ``nltk``, and the stages that must read
text as the model did (update, the Dask route's shards, phrases)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmiembed import PMIEmbedding
from pmiembed._words import ascii_split
from pmiembed.corpus import read_corpus, split_words
from pmiembed.phrases import Phrases


def _top(corpus, n):
    order = np.argsort(-corpus.counts, kind="stable")[:n]
    return [corpus.types[i] for i in order]


def _clean_edges(w):
    return w[0].isalnum() and w[-1].isalnum()


def test_words_on_lee_has_no_glued_punctuation_nor_capitals(lee_path):
    raw = read_corpus(lee_path, tokenize="whitespace")
    assert "said." in raw.types and "The" in raw.types  # the raw text does have them
    words = read_corpus(lee_path)  # the default
    top = _top(words, 3000)
    assert len(top) == 3000
    assert all(_clean_edges(w) for w in top), [w for w in top if not _clean_edges(w)][:10]
    assert all(w == w.lower() for w in top)
    said = words.counts[words.types.index("said")]
    assert said > raw.counts[raw.types.index("said")]  # said. and said, merged into said
    for kept in ("don't", "south-west"):
        assert kept in split_words(f"we {kept}, then")


def test_nltk_on_lee_has_no_glued_punctuation(lee_path):
    top = _top(read_corpus(lee_path, tokenize="nltk"), 3000)
    assert len(top) == 3000
    assert all(_clean_edges(w) for w in top), [w for w in top if not _clean_edges(w)][:10]


@pytest.mark.parametrize("name", ["para2para_text1.txt", "para2para_text2.txt", "lee.cor", "crime-and-punishment.txt"])
def test_other_real_prose_has_no_glued_punctuation(name):
    """Other raw prose in gensim's test data (Wikipedia paragraphs, news, a Russian
    novel's opening in Cyrillic): every ``words`` token has a letter or digit at both
    ends and no capital, every ``nltk`` token has none glued, and both keep most of the
    text (they drop punctuation, not words)."""
    from gensim.test.utils import datapath

    path = datapath(name)
    raw = read_corpus(path, tokenize="whitespace")
    glued = [t for t in raw.types if not _clean_edges(t)]
    assert len(glued) > 10  # the raw text does have them
    words = read_corpus(path)
    assert all(_clean_edges(w) and w == w.lower() for w in words.types), [w for w in words.types
                                                                           if not _clean_edges(w)][:10]
    treebank = read_corpus(path, tokenize="nltk")
    bad = [w for w in treebank.types if not _clean_edges(w) and any(c.isalnum() for c in w)]
    assert not bad, bad[:10]
    for corpus in (words, treebank):
        assert 0.9 * raw.n_tokens < corpus.n_tokens < 1.2 * raw.n_tokens


def test_a_tokenizer_never_sees_a_word_cut_between_chunks(lee_path, tmp_path):
    """nltk and any ``tokenizer=`` read the text in pieces that end at a newline, or at a
    space inside a line longer than a piece: small chunks, and the whole of Lee's corpus
    on one line with Latin-1 bytes in it, give the tokens (and the count of replaced
    bytes) of one read."""
    one_line = tmp_path / "one-line.txt"
    text = lee_path.read_bytes().replace(b"\n", b" ")
    one_line.write_bytes(text[:20000] + b" caf\xe9 na\xefve " + text[20000:])
    for path in (lee_path, one_line):
        for kw in ({"tokenize": "nltk"}, {"tokenizer": str.split}):
            whole = read_corpus(path, **kw)
            small = read_corpus(path, chunk_bytes=997, **kw)
            assert [t for d in small.documents() for t in d] == [t for d in whole.documents() for t in d]
            assert small.n_replaced == whole.n_replaced == (2 if path == one_line else 0)
    assert read_corpus(one_line, tokenizer=str.split, chunk_bytes=997).n_tokens == len(text.split()) + 2


def test_lowercase_false_keeps_case(lee_path):
    kept = read_corpus(lee_path, tokenize="words", lowercase=False)
    assert "The" in kept.types and "the" in kept.types
    assert not any(t.endswith(".") for t in kept.types)


MULTI = {
    "Москва — столица России, не так ли?": ["москва", "столица", "россии", "не", "так", "ли"],
    "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.": ["η", "αθήνα", "είναι", "η", "πρωτεύουσα", "της", "ελλάδας"],
    "القاهرة هي عاصمة مصر.": ["القاهرة", "هي", "عاصمة", "مصر"],
    "नई दिल्ली भारत की राजधानी है।": ["नई", "दिल्ली", "भारत", "की", "राजधानी", "है"],
    "It’s the north-east's «best» café, (2024)!": ["it’s", "the", "north-east's", "best", "café", "2024"],
}


def test_other_scripts_tokenise_by_words():
    docs = list(MULTI)
    corpus = read_corpus(docs)
    assert list(corpus.documents()) == list(MULTI.values())


_ALPHABET = st.sampled_from(list("aZ9 -'’_.,!?\"()\t") + ["é", "ж", "Ω", "\u0301", "ि", "中", "٣"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=_ALPHABET, max_size=30), min_size=1, max_size=8))
def test_compiled_ascii_path_equals_unicode_path(texts):
    texts = [t.replace("\n", " ") for t in texts]
    ascii_texts = [t for t in texts if t.isascii()]
    assert ascii_split(ascii_texts) == [split_words(t) for t in ascii_texts]
    # the reader (kernel for ASCII tokens, regex for the rest) gives the Unicode path's tokens
    expected = [[w.lower() for w in split_words(t)] for t in texts]
    # string documents (token lists would be kept as given), as an iterator: a list of
    # strings such as ["."] would be read as paths
    got = list(read_corpus(iter(texts + ["end here"])).documents())
    assert got == [e for e in expected if e] + [["end", "here"]]


def test_words_keeps_text8_tokens(text8_head):
    a = read_corpus(text8_head, tokenize="whitespace")
    b = read_corpus(text8_head)
    assert a.types == b.types
    assert np.array_equal(a.ids, b.ids) and np.array_equal(a.counts, b.counts)
    assert np.array_equal(a.doc_starts, b.doc_starts)


def test_update_reads_new_text_as_the_model_did(lee_path, tmp_path):
    lines = lee_path.read_text(encoding="utf-8").splitlines()
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("\n".join(lines[:150]) + "\n", encoding="utf-8")
    second.write_text("\n".join(lines[150:]) + "\n", encoding="utf-8")
    for tokenize in ("words", "whitespace"):
        model = PMIEmbedding(dim=10, min_count=2, tokenize=tokenize, keep_tokens=True).fit(first)
        model.save(tmp_path / tokenize)
        loaded = PMIEmbedding.load(tmp_path / tokenize)
        assert loaded.tokenize == tokenize
        loaded.update(second)
        vocab = loaded.wv.index_to_key
        glued = [w for w in vocab if not _clean_edges(w)]
        assert (not glued) if tokenize == "words" else ("said." in vocab)


def test_dask_shards_use_the_model_tokenisation(lee_path):
    from pmiembed.distributed import _tokenize_shard, plan_shards

    shards = plan_shards(lee_path, 50_000, 1)
    assert len(shards) > 1
    for tokenize, clean in (("words", True), ("whitespace", False)):
        types = set()
        for s in shards:
            text = _tokenize_shard(s, None, None, tokenize)
            if text.corpus is not None:
                types.update(text.corpus.types)
        assert all(_clean_edges(w) for w in types) is clean


def test_phrases_join_clean_tokens(lee_path, tmp_path):
    phrases = Phrases(min_count=5, threshold=0.5)
    joined = phrases.fit_transform(lee_path)
    found = [t for t, c in zip(joined.types, joined.counts) if "_" in t and c > 0]
    assert found and all(all(_clean_edges(p) and p == p.lower() for p in t.split("_")) for t in found)
    # the joined corpus written out reads back with its phrases whole
    out = tmp_path / "joined.txt"
    out.write_text("\n".join(" ".join(d) for d in joined.documents()) + "\n", encoding="utf-8")
    assert set(found) <= set(read_corpus(out).types)
