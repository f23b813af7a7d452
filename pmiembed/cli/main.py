"""The ``pmiembed`` command.

User errors print one line ``pmiembed: error: ...`` on stderr and exit 2 (no
traceback; ``--debug`` shows it above the line, with the same exit code); the library's
messages name Python parameters, which :func:`error_message` shows as this command
line's flags.  Ctrl-C exits 130 with one line.  Outputs are written to a temporary
folder and renamed at the end, so a failed run leaves nothing behind.  Each command is
a module of this package (:data:`COMMANDS`).
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from .._version import __version__
from ..errors import PMIEmbedError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
#: the commands, in the order ``pmiembed --help`` lists them: each is a module of this
#: package with ``register(subparsers)``
COMMANDS = ("train", "similar", "analogy", "evaluate", "compare", "demo", "sweep", "explain", "phrases", "update")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``pmiembed: error: ... (see 'pmiembed X --help')``."""

    #: what to say instead of argparse's "the following arguments are required: ..." (a command sets it)
    required_message: str | None = None

    def error(self, message):  # noqa: D102 - argparse API
        if self.required_message and message.startswith("the following arguments are required"):
            message = self.required_message
        self.exit(EXIT_USER_ERROR, f"pmiembed: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pmiembed",
        description="Word embeddings from counts: co-occurrence counting, (shifted) PPMI and truncated SVD.",
    )
    parser.add_argument("--version", action="version", version=f"pmiembed {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for name in COMMANDS:
        importlib.import_module(f".{name}", __package__).register(sub)
    # every command also takes --debug after its name; hidden there, and left unset unless given,
    # so that `pmiembed --debug COMMAND` is not overwritten by the command's default
    for command in sub.choices.values():
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


# --------------------------------------------------------------------- main

#: Python parameters whose flag's destination has another name
_PARAM_DESTS = {"subsample": "sub", "subsample_mode": "sub_mode", "pmi=None": "no_pmi=True",
                "word2vec=None": "no_word2vec=True"}


#: commands whose settings are typed as Python names (``sweep --grid dim=5,10``): their
#: messages keep the Python spelling of the model's parameters
_PYTHON_SPELLING = ("sweep",)


def _takes_none(action: argparse.Action) -> bool:
    """Whether the flag can be given the value None (``--abtt none``)."""
    try:
        return callable(action.type) and action.type("none") is None
    except (argparse.ArgumentTypeError, TypeError, ValueError):
        return False


def flag_names(parser: argparse.ArgumentParser, command: str | None = None) -> dict[str, str]:
    """Parameter name (an option's destination) -> its flag, for every option of every
    command (``command``'s own first, and its positionals by their metavar);
    ``name=True`` -> the flag of a switch; ``name|none`` -> how the flag says None
    ("none", or "omitted" where it cannot)."""
    parsers = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            subs = action.choices
            others = [] if command in _PYTHON_SPELLING else list(subs.values())
            parsers = ([subs[command]] if command in subs else []) + others + parsers
    names: dict[str, str] = {}
    for p in parsers:
        for action in p._actions:
            if not action.option_strings and p is parsers[0] and isinstance(action.metavar, str):
                names.setdefault(action.dest, action.metavar)  # a positional of the command: CORPUS
            flags = [s for s in action.option_strings if s.startswith("--")]
            if not flags or action.dest in (argparse.SUPPRESS, "help"):
                continue
            names.setdefault(action.dest, flags[0])
            names.setdefault(f"{action.dest}|none", "none" if _takes_none(action) else "omitted")
            if action.nargs == 0:  # a switch: store_true or --x/--no-x
                names.setdefault(f"{action.dest}=True", flags[0])
    for param, dest in _PARAM_DESTS.items():
        if dest in names:
            names[param] = names[dest]
        if f"{dest}|none" in names:
            names[f"{param}|none"] = names[f"{dest}|none"]
    if command in _PYTHON_SPELLING:  # --grid abtt=none
        from ..model import PMIEmbedding

        for param in PMIEmbedding._get_param_names():
            names.setdefault(f"{param}|none", "none")
    return names


def error_message(exc: PMIEmbedError, names: dict[str, str]) -> str:
    """The one line a user error prints: the library's message with every setting it
    names shown as its flag (``lower --dim``), and the flag of the parameter it is about
    when that flag is spelt otherwise (``subsample=2.0 must be ... (--sub)``)."""
    def flag(text: str) -> str | None:
        if text in names:
            return names[text]
        name, eq, value = text.partition("=")
        if not eq or name not in names:
            return None
        if value == "None":
            value = "none"
        elif len(value) > 1 and value[0] == value[-1] and value[0] in "'\"" and " " not in value:
            value = value[1:-1]  # --weighting cosine, not 'cosine'
        return f"{names[name]} {value}"

    line = exc.render(flag)
    param = getattr(exc, "param", None)
    shown = names.get(param) if param else None
    if shown and shown not in line and f"{shown.lstrip('-').replace('-', '_')}=" not in line:
        line += f" ({shown})"
    return line



def caused_by_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is a KeyboardInterrupt or was raised because of one: Ctrl-C while
    modules import can surface as an ImportError ("numba._devicearray failed to import")
    or a RuntimeError (``__set_name__`` of a class being built), with the interrupt as
    its cause or context."""
    seen = set()
    while isinstance(exc, BaseException) and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _interrupted() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while cleaning up: no traceback
    print("pmiembed: interrupted; nothing was written", file=sys.stderr)
    return EXIT_INTERRUPTED


def _pass_interrupts_on(unraisable) -> None:
    """``sys.unraisablehook`` of the command: Ctrl-C inside a C callback (llvmlite's
    object cache while numba compiles) cannot propagate, and Python would print it as an
    ignored exception with a traceback and carry on.  The command stops there instead,
    as it does for any interrupt (the janitor process removes what was being written).
    Anything else goes to the default hook."""
    if unraisable.exc_value is not None and caused_by_interrupt(unraisable.exc_value) or (
            unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt)):
        import os

        _interrupted()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    sys.__unraisablehook__(unraisable)


def _traceback(debug: bool) -> None:
    """With ``--debug``, the traceback of the exception being handled, on stderr."""
    if debug:
        import traceback

        traceback.print_exc()
        sys.stderr.flush()


def main(argv=None) -> int:
    sys.unraisablehook = _pass_interrupts_on
    try:
        parser = build_parser()  # imports the subcommands' modules: Ctrl-C may come here
        args = parser.parse_args(argv)
    except BaseException as exc:
        if not caused_by_interrupt(exc):
            raise
        return _interrupted()
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USER_ERROR
    debug = bool(getattr(args, "debug", False))
    # a second Ctrl-C while cleaning up should not print a traceback either
    # --debug adds the traceback to what a user error prints; the exit code stays the error's
    try:
        return int(args.func(args) or 0)
    except PMIEmbedError as exc:
        _traceback(debug)
        print(f"pmiembed: error: {error_message(exc, flag_names(parser, args.command))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        _traceback(debug)
        return _interrupted()
    except MemoryError:
        _traceback(debug)
        print("pmiembed: error: out of memory; lower --dim or --max-vocab, raise --min-count, or set --memory",
              file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if debug or not caused_by_interrupt(exc):
            raise
        return _interrupted()


def entry() -> None:  # pragma: no cover - exits the process
    """The ``pmiembed`` console command: :func:`main`, then exit without the
    interpreter's teardown of every loaded module (numba's LLVM, scipy, gensim), which
    takes a noticeable part of a second after a ``pmiembed train`` that is otherwise done.  Exit handlers
    still run and the standard streams are flushed first."""
    import atexit
    import os

    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
