"""``pmiembed similar``: the nearest neighbours of words."""

from __future__ import annotations

from .common import VECTORS_HELP, _check_words, _load, _positive_int


def register(sub) -> None:
    p = sub.add_parser("similar", help="nearest neighbours of a word (or of several, minus others)",
                       description="Print the N words closest (cosine) to WORD, or to the mean of several WORDs "
                                   "minus the --negative words (gensim's most_similar(positive, negative)).")
    p.add_argument("--vectors", required=True, metavar="PATH", help=VECTORS_HELP)
    p.add_argument("words", nargs="+", metavar="WORD", help="one or more words")
    p.add_argument("--negative", nargs="+", default=[], metavar="WORD",
                   help="words whose vectors are subtracted (give them after the WORDs)")
    p.add_argument("-n", type=_positive_int, default=10, help="how many neighbours [10]")
    p.add_argument("--restrict-vocab", type=_positive_int, default=None, metavar="N",
                   help="only the N most frequent words are candidates [every word]")
    p.set_defaults(func=cmd_similar)


def cmd_similar(args) -> int:
    kv = _load(args.vectors)
    _check_words(kv, list(args.words) + list(args.negative))
    for word, score in kv.most_similar(positive=list(args.words), negative=list(args.negative), topn=args.n,
                                       restrict_vocab=args.restrict_vocab):
        print(f"{word}\t{score:.4f}")
    return 0
