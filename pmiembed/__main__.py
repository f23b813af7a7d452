"""``python -m pmiembed`` runs the command line."""

try:
    from .cli import entry
except KeyboardInterrupt:  # Ctrl-C while the first modules load: one line, no traceback
    import os
    import sys

    print("pmiembed: interrupted; nothing was written", file=sys.stderr)
    sys.stderr.flush()
    os._exit(130)

entry()
