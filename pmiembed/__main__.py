"""``python -m pmiembed`` runs the command line."""

from .cli import entry

entry()
