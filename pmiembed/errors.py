"""Errors that are the user's to fix.

Every problem caused by input (a missing file, a parameter out of range, an unknown
word, a damaged vectors file) is raised as :class:`PMIEmbedError` with a one-line
message that names the file, word or parameter and says what to do.  The command
line prints that line and exits non-zero without a traceback (``--debug`` shows it).
"""

from __future__ import annotations


class PMIEmbedError(Exception):
    """A user-fixable problem: the message is one line naming the culprit and the fix."""


class CorpusError(PMIEmbedError, ValueError):
    """The corpus cannot be read: missing, empty, binary, corrupt."""


class ParameterError(PMIEmbedError, ValueError):
    """A hyperparameter or option is out of range."""


class VectorsError(PMIEmbedError, ValueError):
    """A vectors/model/counts file is missing, damaged or not what it claims to be."""


class BenchmarkError(PMIEmbedError, ValueError):
    """A benchmark file is missing or has a malformed line."""


class WordError(PMIEmbedError, KeyError):
    """A query word is unknown or repeated."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
