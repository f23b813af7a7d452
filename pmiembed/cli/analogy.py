"""``pmiembed analogy``: a : b :: c : ?, with the contexts behind the answer."""

from __future__ import annotations

import argparse

from .common import VECTORS_HELP, _check_words, _load, _positive_int


def register(sub) -> None:
    p = sub.add_parser("analogy", help="solve a : b :: c : ? (king man woman -> king - man + woman)",
                       usage="%(prog)s [-h] --vectors PATH [--cosmul] [-n N] [--restrict-vocab N] [--explain] A B C",
                       description="Print the words closest to A - B + C: 'king man woman' asks for "
                                   "king - man + woman (man is to king as woman is to ?).")
    p.add_argument("--vectors", required=True, metavar="PATH", help=VECTORS_HELP)
    # nargs="+" checked by the action, so that two or four words get a message that says what is wanted
    # (a tuple metavar would break --help of a positional on 3.11)
    p.add_argument("words", nargs="+", metavar="WORD", action=_ThreeWords,
                   help="three words A B C: 'king man woman' means king - man + woman")
    p.required_message = f"{THREE_WORDS}; none given"
    p.add_argument("--cosmul", action="store_true", help="use 3CosMul (Levy & Goldberg 2014) instead of 3CosAdd")
    p.add_argument("-n", type=_positive_int, default=5, help="how many answers [5]")
    p.add_argument("--restrict-vocab", type=_positive_int, default=None, metavar="N",
                   help="only the N most frequent words are candidates [every word]")
    p.add_argument("--explain", action="store_true",
                   help="also show the contexts (from the model folder's PPMI matrix) that most support the first "
                        "answer")
    p.set_defaults(func=cmd_analogy)


THREE_WORDS = "analogy takes three words A B C ('king man woman' asks for king - man + woman)"


class _ThreeWords(argparse.Action):
    """Exactly three words, or a usage error that says so."""

    def __call__(self, parser, namespace, values, option_string=None):
        if len(values) != 3:
            parser.error(f"{THREE_WORDS}; {len(values)} given: {' '.join(values)}")
        setattr(namespace, self.dest, values)


def cmd_analogy(args) -> int:
    kv = _load(args.vectors)
    a, b, c = args.words
    _check_words(kv, [a, b, c])
    fn = (lambda **kw: _most_similar_cosmul(kv, **kw)) if args.cosmul else kv.most_similar
    ppmi = None
    if args.explain:  # before answering: a folder without ppmi.npz fails with nothing printed
        from .explain import _ppmi

        ppmi = _ppmi(args.vectors)
    answers = fn(positive=[a, c], negative=[b], topn=args.n, restrict_vocab=args.restrict_vocab)
    for word, score in answers:
        print(f"{word}\t{score:.4f}")
    if ppmi is not None:
        from ..explain import explain_analogy

        print()
        print(explain_analogy(ppmi, a, b, c, answers[0][0], n=10))
    return 0


def _most_similar_cosmul(kv, positive, negative, topn, restrict_vocab=None):
    """gensim's ``most_similar_cosmul``, with ``restrict_vocab`` honoured as in
    ``most_similar`` (gensim's cosmul accepts it but searches every word): only the
    ``restrict_vocab`` most frequent words are candidates."""
    if restrict_vocab is None:
        return kv.most_similar_cosmul(positive=positive, negative=negative, topn=topn)
    import numpy as np

    scores = np.asarray(kv.most_similar_cosmul(positive=positive, negative=negative, topn=None))[:restrict_vocab]
    given = {kv.key_to_index[w] for w in list(positive) + list(negative)}
    order = [i for i in np.argsort(-scores, kind="stable")[:topn + len(given)] if i not in given]
    return [(kv.index_to_key[i], float(scores[i])) for i in order[:topn]]
