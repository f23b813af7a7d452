"""``python -m pmiembed`` runs the command line."""

try:
    from .cli.main import entry
except BaseException as exc:  # Ctrl-C while the first modules load: one line, no traceback
    import os
    import sys

    context, seen = exc, set()
    while context is not None and not isinstance(context, KeyboardInterrupt) and id(context) not in seen:
        seen.add(id(context))
        context = context.__cause__ or context.__context__
    if context is None or id(context) in seen:
        raise  # a real import error

    print("pmiembed: interrupted; nothing was written", file=sys.stderr)
    sys.stderr.flush()
    os._exit(130)

entry()
