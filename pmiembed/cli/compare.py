"""``pmiembed compare``: PPMI+SVD and word2vec skip-gram trained on the same corpus,
evaluated side by side (see :mod:`pmiembed.compare`)."""

from __future__ import annotations

import argparse
import shlex
import sys

from ..compare import WORD2VEC_DEFAULTS, compare, format_table, parse_vectors_spec
from .common import MODEL_GROUP, _float, _positive_int, add_model_arguments, model_from_args, refuse_ignored

#: the title (its start) of the group of the word2vec baseline's flags
W2V_GROUP = "word2vec baseline"


def add_word2vec_arguments(p: argparse.ArgumentParser) -> None:
    """The settings of the gensim skip-gram baseline (word2vec's defaults)."""
    d = WORD2VEC_DEFAULTS
    g = p.add_argument_group(W2V_GROUP + " (gensim skip-gram with negative sampling; word2vec's defaults, "
                             "same corpus, dimensions and min_count as the PMI model)")
    g.add_argument("--w2v-dim", type=_positive_int, default=None, metavar="N", help="dimensions [same as --dim]")
    g.add_argument("--w2v-min-count", type=_positive_int, default=None, metavar="N", help="[same as --min-count]")
    g.add_argument("--w2v-window", type=_positive_int, default=d["window"], metavar="N",
                   help=f"maximum window (sampled uniformly in 1..N) [{d['window']}]")
    g.add_argument("--w2v-negative", type=_positive_int, default=d["negative"], metavar="N",
                   help=f"negative samples per positive pair [{d['negative']}]")
    g.add_argument("--w2v-sample", type=_float, default=d["sample"], metavar="T",
                   help=f"sub-sampling threshold of frequent words, 0 = off [{d['sample']:g}]")
    g.add_argument("--w2v-epochs", type=_positive_int, default=d["epochs"], metavar="N",
                   help=f"passes over the corpus [{d['epochs']}]")
    g.add_argument("--w2v-alpha", type=_float, default=d["alpha"], metavar="A",
                   help=f"initial learning rate [{d['alpha']}]")
    g.add_argument("--w2v-min-alpha", type=_float, default=d["min_alpha"], metavar="A",
                   help=f"final learning rate [{d['min_alpha']}]")
    g.add_argument("--w2v-workers", type=_positive_int, default=None, metavar="N", help="training threads [all cores]")
    g.add_argument("--w2v-seed", type=_positive_int, default=d["seed"], metavar="N", help=f"random seed [{d['seed']}]")


def add_evaluation_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--benchmarks", nargs="+", default=None, metavar="NAME_OR_PATH",
                   help="benchmark names (ws353, ws353_similarity, ws353_relatedness, simlex999, men, rw, google, msr) "
                        "or files [every available one]")
    p.add_argument("--restrict-vocab", type=_positive_int, default=30000, metavar="N",
                   help="analogy answers are searched among the N most frequent words [30000]")


def pmi_params_from_args(args) -> dict:
    """PMIEmbedding parameters from the model flags (through cli.model_from_args)."""
    model = model_from_args(args)
    return {k: v for k, v in model.get_params().items() if k not in ("tokenizer", "progress", "verbose")}


def word2vec_params_from_args(args) -> dict:
    return {
        "dim": args.w2v_dim if args.w2v_dim is not None else args.dim,
        "min_count": args.w2v_min_count if args.w2v_min_count is not None else args.min_count,
        "window": args.w2v_window,
        "negative": args.w2v_negative,
        "sample": args.w2v_sample,
        "epochs": args.w2v_epochs,
        "alpha": args.w2v_alpha,
        "min_alpha": args.w2v_min_alpha,
        "workers": args.w2v_workers,
        "seed": args.w2v_seed,
    }


def command_line(parser: argparse.ArgumentParser, args, name: str) -> str:
    """``pmiembed NAME ...`` with the positionals and every option that differs from its
    default (a canonical form of what was typed)."""
    parts = ["pmiembed", name]
    options = []
    for action in parser._actions:
        if action.dest in ("help", "debug", "func", "_parser") or action.dest == argparse.SUPPRESS:
            continue
        value = getattr(args, action.dest, None)
        if not action.option_strings:
            parts.extend(str(v) for v in (value if isinstance(value, list) else [value]) if v is not None)
            continue
        if value == action.default:
            continue
        flag = action.option_strings[-1] if action.option_strings[-1].startswith("--") else action.option_strings[0]
        if action.nargs == 0:
            options.append(flag)
        elif isinstance(value, list):
            options.append(flag)
            options.extend(str(v) for v in value)
        else:
            options.extend([flag, str(value)])
    return " ".join(shlex.quote(p) for p in parts + options)


def register(sub) -> None:
    p = sub.add_parser(
        "compare", help="train PPMI+SVD and word2vec skip-gram on the same corpus and compare them side by side",
        description="Train pmiembed's PPMI+SVD vectors and gensim's skip-gram (word2vec's defaults, same dimensions "
                    "and min_count) on the same CORPUS, each in its own process (honest time and peak memory), "
                    "add any existing --vectors, evaluate all on every available benchmark and write DIR/: "
                    "report.html (one self-contained page with an explorer), report.md, report.json, scores.png, "
                    "training.png and the trained vectors (pmi/, word2vec/).")
    p.add_argument("corpus", nargs="*", metavar="CORPUS", help="text file(s) or folder(s) to train both models on")
    p.add_argument("--out", required=True, metavar="DIR", help="report folder (must not exist unless --force)")
    p.add_argument("--force", action="store_true", help="replace an existing report folder")
    p.add_argument("--vectors", action="extend", nargs="+", default=[], metavar="PATH[=LABEL]",
                   help="existing vectors to compare too (a 'pmiembed train' folder, a word2vec file or a gensim "
                        ".model/.kv file), labelled LABEL [folder or file name]")
    p.add_argument("--no-pmi", action="store_true", help="do not train the PPMI+SVD model")
    p.add_argument("--no-word2vec", action="store_true", help="do not train the word2vec baseline")
    p.add_argument("--words", nargs="+", default=None, metavar="WORD",
                   help="also list the nearest neighbours of these words in the report")
    add_evaluation_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr (the table still prints)")
    add_model_arguments(p)
    add_word2vec_arguments(p)
    p.set_defaults(func=cmd_compare, _parser=p)


def cmd_compare(args) -> int:
    vectors = [parse_vectors_spec(v) for v in args.vectors]
    # with only --vectors (no CORPUS), there is nothing to train
    train = bool(args.corpus) or not vectors
    # settings of a model that is not trained would be ignored: refused instead
    if not train:
        refuse_ignored(args, args._parser, (MODEL_GROUP, W2V_GROUP), "to the models trained on CORPUS (with "
                       "--vectors alone nothing is trained)", "give CORPUS")
    elif args.no_word2vec:
        refuse_ignored(args, args._parser, (W2V_GROUP,), "to the word2vec baseline, which --no-word2vec leaves out",
                       "drop --no-word2vec")
    result = compare(
        args.corpus,
        args.out,
        pmi=pmi_params_from_args(args) if train and not args.no_pmi else None,
        word2vec=word2vec_params_from_args(args) if train and not args.no_word2vec else None,
        vectors=vectors,
        benchmarks=args.benchmarks,
        restrict_vocab=args.restrict_vocab,
        words=args.words or (),
        force=args.force,
        quiet=args.quiet,
        command=command_line(args._parser, args, "compare"),
    )
    if not args.quiet:  # after compare(): a user error stays the only line on stderr
        from ..evaluate import describe_benchmarks

        print(describe_benchmarks(args.benchmarks), file=sys.stderr)
    print(format_table(result.report))
    if not args.quiet:
        files = ", ".join(["report.html", "report.md", "report.json"] + result.report["plots"]
                          + [v for v in result.report["files"].values()])
        print(f"wrote {result.path}/ ({files})", file=sys.stderr)
    return 0
