"""The ``pmiembed`` command line, apart from the library: :mod:`pmiembed.cli.main`
builds the parser and runs a command (errors as one line, flags for the library's
parameter names), and each command is a module here with ``register(subparsers)``
(:data:`pmiembed.cli.main.COMMANDS`); :mod:`pmiembed.cli.common` holds what several
share."""
