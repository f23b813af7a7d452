"""``pmiembed contexts`` and ``pmiembed explain``: the PPMI contexts behind a word and
behind the similarity of two words (see :mod:`pmiembed.explain`)."""

from __future__ import annotations

from .common import _check_words, _load, _positive_int


def register(sub) -> None:
    p = sub.add_parser("contexts", help="a word's strongest contexts by PPMI, with counts",
                       description="Print the N contexts of WORD with the largest PPMI in the model folder's PPMI "
                                   "matrix, with their PMI and weighted co-occurrence counts.")
    p.add_argument("--vectors", required=True, metavar="DIR", help="output folder of 'pmiembed train'")
    p.add_argument("word", metavar="WORD")
    p.add_argument("-n", type=_positive_int, default=20, help="how many contexts [20]")
    p.add_argument("--min-count", type=_positive_int, default=None, metavar="N",
                   help="list only contexts seen at least N times in the corpus; 1 lists every context "
                        "[one per 200,000 corpus tokens: rarer contexts have the largest PPMI and say little]")
    p.set_defaults(func=cmd_contexts)

    p = sub.add_parser("explain", help="why two words are similar: their shared contexts",
                       description="Print the contexts WORD1 and WORD2 share, ranked by their contribution to the "
                                   "cosine of the two PPMI rows (p1[c] p2[c] / (|p1| |p2|)), the PPMI cosine beside "
                                   "the vectors' cosine, and the strongest contexts of each word that the other lacks.")
    p.add_argument("--vectors", required=True, metavar="DIR", help="output folder of 'pmiembed train'")
    # two positionals, not nargs=2 with a tuple metavar (argparse's help crashes on that)
    p.add_argument("word1", metavar="WORD1")
    p.add_argument("word2", metavar="WORD2")
    p.add_argument("-n", type=_positive_int, default=15, help="how many contexts per list [15]")
    p.add_argument("--min-count", type=_positive_int, default=None, metavar="N",
                   help="list only contexts seen at least N times in the corpus (the cosines and shares count "
                        "every context); 1 lists every context [one per 200,000 corpus tokens]")
    p.set_defaults(func=cmd_explain)


def _ppmi(path):
    """The PPMI matrix of a model folder, checked against its manifest (PPMI.load)."""
    from ..explain import PPMI

    return PPMI.load(path)


def cmd_contexts(args) -> int:
    from ..explain import contexts

    print(contexts(_ppmi(args.vectors), args.word, args.n, min_count=args.min_count))
    return 0


def cmd_explain(args) -> int:
    from ..errors import WordError
    from ..explain import explain

    w1, w2 = args.word1, args.word2
    if w1 == w2:
        raise WordError(f"word {w1!r} is given twice; give two distinct words")
    ppmi = _ppmi(args.vectors)
    kv = _load(args.vectors)
    _check_words(kv, [w1, w2], need_vectors=False)  # a word without a vector still has its PPMI row
    print(explain(ppmi, w1, w2, args.n, vectors=kv, min_count=args.min_count))
    return 0
