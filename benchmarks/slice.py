"""Cut the first N tokens of a corpus into a gzip file: the "second slice" of the README
and docs/ablation.md is the first 17.0M tokens of wiki69m-rest,

    python benchmarks/slice.py ../shared/data/corpora/wiki69m-rest.txt.gz --tokens 17e6 --out slice2.txt.gz

(line breaks kept, tokens as whitespace splits them, the same cutter ``scaling.py`` uses
for its prefixes).  Prints the number of tokens written; refuses an existing ``--out``
unless ``--force``, and writes through a temporary file so a failed cut leaves nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scaling import write_prefix  # noqa: E402  (one cutter for both scripts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help="text file (.gz/.bz2/.xz or plain)")
    ap.add_argument("--tokens", required=True, help="how many tokens from the start (e.g. 17e6)")
    ap.add_argument("--out", required=True, help="gzip file to write")
    ap.add_argument("--force", action="store_true", help="replace an existing --out")
    args = ap.parse_args(argv)
    src, out = Path(args.corpus), Path(args.out)
    try:
        n = int(float(args.tokens))
    except ValueError:
        n = 0
    if n < 1:
        print(f"slice.py: error: --tokens {args.tokens!r}: give a positive number of tokens, e.g. 17e6",
              file=sys.stderr)
        return 2
    if not src.is_file():
        print(f"slice.py: error: {src}: no such file; check the path", file=sys.stderr)
        return 2
    from pmiembed.errors import PMIEmbedError
    from pmiembed.io import atomic_path, check_output_file

    try:  # pmiembed's guard: --force replaces only a regular file, never a device, pipe or link
        check_output_file(out, args.force, inputs=[src])
        with atomic_path(out) as tmp:
            written = write_prefix(src, n, tmp)
    except PMIEmbedError as exc:
        print(f"slice.py: error: {exc.render({'out': '--out', 'force=True': '--force'}.get)}", file=sys.stderr)
        return 2
    print(f"{out}: the first {written:,} tokens of {src}" + ("" if written == n else " (the whole file: it has fewer "
                                                                                     f"than {n:,})"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
