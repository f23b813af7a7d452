"""``pmiembed update``: add text to a model trained with ``--save-counts`` (see :mod:`pmiembed.update`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..defaults import TOKENIZERS
from .common import _float, _int, _positive_int


def register(sub) -> None:
    p = sub.add_parser(
        "update", help="add text to a model trained with --save-counts, without starting over",
        description="Add CORPUS to the model in --vectors (trained with 'pmiembed train --save-counts', which keeps "
                    "its text as token ids): the new text is read and appended to the old text's token ids, and "
                    "the vocabulary, counts and PMI are made as training on both texts makes them (equal to "
                    "them); only the SVD differs, restarting from the previous vectors with fewer iterations "
                    "(--n-iter). Writes the updated model, with the token ids of both texts (so that it can be "
                    "updated again), to --out. A folder from an older pmiembed with counts but no token ids is "
                    "updated on its counts, which is close to, not equal to, training on both (a note says so).")
    p.add_argument("corpus", nargs="+", metavar="CORPUS", help="the new text: file(s) or folder(s)")
    p.add_argument("--vectors", required=True, metavar="DIR",
                   help="model folder written by 'pmiembed train --save-counts' (or by an earlier update)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (must not exist unless --force)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--n-iter", type=_positive_int, default=None,
                   help="power iterations of the warm-started SVD [4; training from scratch uses 6]")
    p.add_argument("--save-counts", action="store_true",
                   help="also write the co-occurrence counts (counts.npz), as 'train --save-counts' does")
    p.add_argument("--workers", type=_int, default=None, help="threads for the numeric stages [all cores]")
    p.add_argument("--memory", type=_float, default=None, metavar="GB",
                   help="memory budget in GB, as for 'train': counting spills beyond it, and an update whose later "
                        "stages cannot fit in it is refused [no budget]")
    p.add_argument("--quiet", action="store_true", help="no progress bars or stage summaries")
    p.add_argument("--tokenize", choices=TOKENIZERS, default=None,
                   help="must be the model's: the new text is read as the model's was [the model's, "
                        "from params.json]")
    p.set_defaults(func=cmd_update)


def cmd_update(args) -> int:
    from ..io import check_output_dir
    from ..update import load_for_update
    from ..vectors import folder_format

    out = Path(args.out)
    if out.resolve() == Path(args.vectors).resolve():
        from ..errors import PMIEmbedError

        raise PMIEmbedError(f"{out}: --out is the --vectors folder; write the update to a new folder")
    check_output_dir(out, args.force, inputs=[*args.corpus, args.vectors])
    t0 = time.perf_counter()
    model = load_for_update(args.vectors, workers=args.workers, memory=args.memory, progress=not args.quiet,
                            verbose=not args.quiet, keep_counts=args.save_counts)
    t_load = time.perf_counter() - t0
    if args.tokenize is not None and args.tokenize != model.tokenize:
        from ..errors import ParameterError

        raise ParameterError(f"`--tokenize={args.tokenize}` but the model in {args.vectors} was read with "
                             f"`tokenize={model.tokenize}`; the new text is read the same way: drop --tokenize")
    if not args.quiet:
        held = (f"tokens {model.tokens_.n_tokens:,}" if model.tokens_ is not None
                else f"nonzeros {model.cooccurrence_.nnz:,}")
        print(f"{'load':>8}: {t_load:6.1f} s  (words {len(model.vocabulary_):,}, {held})", file=sys.stderr)
    import warnings

    from ..errors import ApproximateUpdateWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ApproximateUpdateWarning)
        model.update(args.corpus if len(args.corpus) > 1 else args.corpus[0], n_iter=args.n_iter)
    for w in caught:
        if issubclass(w.category, ApproximateUpdateWarning):
            print(f"pmiembed: note: {args.vectors} holds counts but no token ids (saved by an older pmiembed): "
                  "updated on its counts, which is close to, not equal to, training on both texts; retrain with "
                  "--save-counts for exact updates", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    t = time.perf_counter()
    # a model saved before token ids were kept is updated on its counts, and needs them again;
    # the vectors are written in the files the updated model had
    model.save(out, force=args.force, save_counts=args.save_counts or model.tokens_ is None,
               format=folder_format(args.vectors))
    t_write = time.perf_counter() - t
    s = model.update_summary_
    if not args.quiet:
        print(f"{'write':>8}: {t_write:6.1f} s", file=sys.stderr)
    print(f"updated {args.vectors} -> {out}/: {s['new_words']:,} new words ({s['words']:,} in all"
          + (f", {s['dropped_words']:,} dropped by max_vocab" if s["dropped_words"] else "")
          + f"), {s['new_tokens']:,} new tokens ({s['tokens']:,} in all), SVD restarted from the previous "
          f"vectors with {s['n_iter']} iterations; {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0
