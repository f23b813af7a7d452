"""What several commands share: argument types, the model's flags, reading vectors and
checking query words."""

from __future__ import annotations

import argparse

from ..defaults import DEFAULTS, TOKENIZE, TOKENIZERS

#: ``--help`` of every ``--vectors`` that reads vectors only
VECTORS_HELP = ("output folder of 'pmiembed train', a word2vec file (.bin, .vec, .txt) or a gensim model or "
                "KeyedVectors file (.model, .kv, written by save())")


#: the title (its start) of the group of the model's flags
MODEL_GROUP = "model"


def _int(text: str) -> int:
    """An integer; ranges are checked by the model, whose messages name the parameter."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive integer")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):  # nan, inf: no option means them
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _optional_int(text: str):
    if text.lower() in ("none", "off"):
        return None
    return _int(text)


def _optional_float(text: str):
    if text.lower() in ("none", "off", "0"):
        return None
    return _float(text)


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """Every hyperparameter of PMIEmbedding as a flag (shared by train, compare, demo)."""
    d = DEFAULTS
    g = p.add_argument_group(MODEL_GROUP + " (defaults: the recipe measured best on Wikipedia, see docs/ablation.md)")
    g.add_argument("--dim", type=_int, default=d["dim"], help=f"dimensions of the vectors (SVD rank) [{d['dim']}]")
    g.add_argument("--window", type=_int, default=d["window"], help=f"symmetric window size L [{d['window']}]")
    g.add_argument("--weighting", choices=("dynamic", "uniform", "harmonic", "harmonic2"), default=d["weighting"],
                   help="weight of a context at distance d: dynamic (L-d+1)/L as word2vec's sampled window, "
                        f"uniform 1, harmonic 1/d as GloVe, harmonic2 1/d^2 [{d['weighting']}]")
    g.add_argument("--min-count", type=_int, default=d["min_count"],
                   help=f"ignore words seen fewer times [{d['min_count']}]")
    g.add_argument("--max-vocab", type=_int, default=d["max_vocab"],
                   help="keep at most this many most frequent words [all]")
    g.add_argument("--sub", type=_optional_float, default=d["subsample"], metavar="T",
                   help="word2vec subsampling of frequent words with threshold T; 'none' to switch off "
                        f"[{d['subsample']}]")
    g.add_argument("--sub-mode", choices=("dirty", "clean", "expected"), default=d["subsample_mode"],
                   help="dirty: drop subsampled tokens before windowing (word2vec); clean: keep their positions; "
                        "expected: drop nothing, weight each pair by both words' keep probabilities (clean's "
                        f"average, no sampling noise) [{d['subsample_mode']}]")
    g.add_argument("--cds", type=_float, default=d["cds"],
                   help=f"context distribution smoothing exponent in (0, 1]; 1 = none, 0.75 = Levy et al. [{d['cds']}]")
    g.add_argument("--neg", type=_float, default=d["neg"],
                   help=f"shift the PMI by log(NEG) (skip-gram's negative samples); 1 = no shift [{d['neg']:g}]")
    g.add_argument("--matrix", choices=("nneg", "ppmi"), default=d["matrix"],
                   help="what the SVD factorises: nneg (bounded negative PMI: observed pairs' PMI, negative values "
                        "divided by -log p(w,c), unobserved pairs at -BOUND, frequency-weighted) or ppmi (positive "
                        f"PMI, the recipe before 2026-12-05) [{d['matrix']}]")
    g.add_argument("--bound", type=_float, default=d["bound"],
                   help=f"--matrix nneg: unobserved pairs are at -BOUND [{d['bound']}]")
    g.add_argument("--freq-weight", type=_float, default=d["freq_weight"],
                   help="--matrix nneg: each cell weighted by (#w #c)^FREQ_WEIGHT in the SVD; 0 = none "
                        f"[{d['freq_weight']}]")
    g.add_argument("--eig", type=_float, default=d["eig"],
                   help=f"eigenvalue weighting p: vectors = U * S^p, in [0, 1] [{d['eig']}]")
    g.add_argument("--wc", action=argparse.BooleanOptionalAction, default=d["wc"],
                   help="add the normalised context vectors to the word vectors (w+c) [off]")
    g.add_argument("--abtt", type=_optional_int, default=d["abtt"], metavar="D",
                   help="post-process: subtract the mean vector and remove the top D principal directions "
                        f"('all-but-the-top'); 'none' to switch off [{d['abtt']}]")
    g.add_argument("--core-min-count", type=_optional_int, default=d["core_min_count"], metavar="N",
                   help="the SVD factorises the words seen at least N times and folds the rarer ones in "
                        f"from their PPMI rows; 'none' to factorise every word [{d['core_min_count']}]")
    g.add_argument("--core-max-words", type=_optional_int, default=d["core_max_words"], metavar="N",
                   help="at most N words (the most frequent) form the core the SVD factorises; the rest "
                        f"are folded in; 'none' for no cap [{d['core_max_words']}]")
    g.add_argument("--svd", choices=("krylov", "randomized", "sklearn", "arpack"), default=d["svd"],
                   help="SVD backend: randomized (multi-threaded randomized subspace iteration), krylov (randomized "
                        "block Krylov), sklearn (scikit-learn's randomized_svd) or arpack (scipy svds, exact, "
                        "slow) [randomized]")
    g.add_argument("--n-iter", type=_int, default=d["n_iter"],
                   help=f"power iterations of the randomized SVD [{d['n_iter']}]")
    g.add_argument("--oversamples", type=_int, default=d["oversamples"],
                   help="extra columns the randomized SVD iterates beyond --dim; more converge the last "
                        f"dimensions faster, each costs time [{d['oversamples']}]")
    add_tokenize_args(g)
    g.add_argument("--seed", type=_int, default=0, help="random seed (subsampling, SVD); same seed, same bits [0]")
    g.add_argument("--workers", type=_int, default=None, help="threads for the numeric stages [all cores]")
    g.add_argument("--memory", type=_float, default=None, metavar="GB",
                   help="memory budget in GB: counting spills to temporary files beyond it, and the later "
                        "stages are checked to fit; the SVD reads the PMI matrix in place instead of a "
                        "faster blocked copy [no budget]")


def refuse_ignored(args, parser: argparse.ArgumentParser, group_titles, when: str, fix: str) -> None:
    """Refuse the flags of the argument groups whose titles start with one of
    ``group_titles`` that were set (to other than their default) although they would
    change nothing: a setting silently ignored looks as if it had been applied.  The
    message: "FLAGS only apply WHEN; FIX, or leave FLAGS out"."""
    from ..errors import ParameterError

    given = [next(s for s in action.option_strings if s.startswith("--"))
             for group in parser._action_groups if group.title and group.title.startswith(tuple(group_titles))
             for action in group._group_actions
             if action.option_strings and getattr(args, action.dest, None) != parser.get_default(action.dest)]
    if given:
        flags = " and ".join(given) if len(given) < 3 else ", ".join(given[:-1]) + " and " + given[-1]
        raise ParameterError(f"{flags} only {'apply' if len(given) > 1 else 'applies'} {when}; {fix}, or leave "
                             f"{'them' if len(given) > 1 else 'it'} out")


def model_from_args(args, **extra):
    """The model the flags describe; the command line keeps the token ids (for updates)
    only when a command asks (``train --save-counts``)."""
    from ..model import PMIEmbedding

    extra.setdefault("keep_tokens", False)

    return PMIEmbedding(
        dim=args.dim, window=args.window, weighting=args.weighting, min_count=args.min_count,
        max_vocab=args.max_vocab, subsample=args.sub, subsample_mode=args.sub_mode, cds=args.cds,
        neg=args.neg, matrix=args.matrix, bound=args.bound, freq_weight=args.freq_weight, eig=args.eig, wc=args.wc,
        abtt=args.abtt, core_min_count=args.core_min_count,
        core_max_words=args.core_max_words, svd=args.svd, n_iter=args.n_iter, oversamples=args.oversamples,
        lowercase=args.lowercase, tokenize=args.tokenize,
        seed=args.seed, workers=args.workers, memory=args.memory, **extra,
    )


def _load(path):
    from ..vectors import load_vectors

    return load_vectors(path)


def _check_words(kv, words, need_vectors: bool = True) -> None:
    """Refuse repeated and unknown words and, with ``need_vectors``, words without a
    vector (explanations read the PPMI rows, which such a word may still have)."""
    from ..errors import WordError
    from ..explain import NO_VECTOR

    seen = set()
    for w in words:
        if w in seen:
            raise WordError(f"word {w!r} is given twice; give distinct words")
        seen.add(w)
        if w not in kv.key_to_index:
            hint = ""
            lower = w.lower()
            if lower != w and lower in kv.key_to_index:
                hint = f" (did you mean {lower!r}?)"
            raise WordError(f"word {w!r} is not in the vocabulary of {len(kv):,} words{hint}; try another word")
        if need_vectors and not kv.vectors[kv.key_to_index[w]].any():
            raise WordError(f"word {w!r} {NO_VECTOR} ('pmiembed contexts' lists them); try another word, or train "
                            "with a lower --neg")


def add_tokenize_args(g) -> None:
    """``--tokenize`` and ``--lowercase``/``--no-lowercase`` (default: lowercase unless
    ``--tokenize whitespace``)."""
    g.add_argument("--tokenize", choices=TOKENIZERS, default=TOKENIZE,
                   help="whitespace: tokens as the text splits at spaces; words: Unicode letters/digits "
                        "with inner ' and - kept, punctuation dropped; nltk: nltk's Treebank tokenizer [words]")
    g.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=None,
                   help="lowercase all tokens [yes, except with --tokenize whitespace]")
