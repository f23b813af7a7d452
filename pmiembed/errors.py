"""Errors that are the user's to fix.

Every problem caused by input (a missing file, a parameter out of range, an unknown
word, a damaged vectors file) is raised as :class:`PMIEmbedError` with a one-line
message that names the file, word or parameter and says what to do.  The command
line prints that line and exits non-zero without a traceback (``--debug`` shows it).

Messages name Python parameters, never command-line flags.  Where a message names a
setting, the setting is written between backticks in the raw message (``"lower `dim`
to at most 2"``): ``str()`` of the error shows it without them ("lower dim to at most
2"), and the command line shows its flag instead ("lower --dim to at most 2",
:meth:`PMIEmbedError.render`).  ```name=value``` is a setting with its value (``--dim
0`` on the command line for ```dim=0```, ``--force`` for ```force=True```);
```name:words``` reads as ``words`` outside the command line (```out:another output
folder```), and ```name=value:words``` is a setting with its value that reads as
``words`` outside it (```phrase_threshold=5.0:threshold=5.0```: the command line
knows the parameter by another name).  ```name|none:None``` is the None a parameter
accepts: "None" in Python, on the command line what its flag takes instead ("none",
or "omitted" for a flag that has no such value).  ``param``, when given, is the
parameter the error is about, so that the command line can name its flag when the
flag is spelt differently (``subsample`` is ``--sub``).
"""

from __future__ import annotations

import re
from typing import Callable

#: a setting named in a message: `name`, `name=value`, `name:words`, `name=value:words`
#: or `name|none:words` (see the module docstring)
_SETTING = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)(=[^`:]*|\|none)?(?::([^`]*))?`")

#: what stands for a colon inside a value (:func:`literal`) until the message is shown
_COLON = "\ue000"


def literal(value) -> str:
    """``value`` as it goes into `name=value` when it may hold colons (an address, a
    path): a colon there would otherwise start the words of the markup."""
    return str(value).replace(":", _COLON)


class PMIEmbedError(Exception):
    """A user-fixable problem: the message is one line naming the culprit and the fix."""

    def __init__(self, *args, param: str | None = None):
        super().__init__(*args)
        self.param = param

    @property
    def template(self) -> str:
        """The raw message, settings between backticks (what crosses a process boundary)."""
        return str(self.args[0]) if self.args else ""

    def render(self, setting: Callable[[str], str | None] | None = None) -> str:
        """The message with each setting shown as ``setting(text)``, ``text`` being
        ``name``, ``name=value`` or ``name|none`` (e.g. its flag; None keeps the Python
        spelling)."""
        def show(m: re.Match) -> str:
            name, value, words = m.group(1), m.group(2) or "", m.group(3)
            shown = setting(name + value) if setting is not None else None
            if shown is not None:
                return shown
            return words if words is not None else name + value

        return _SETTING.sub(show, self.template).replace(_COLON, ":")

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self):  # pickling (Dask, multiprocessing) keeps ``param``
        return (_rebuild, (type(self), self.args, self.param))


def _rebuild(cls, args, param):
    exc = cls(*args)
    exc.param = param
    return exc


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
        return self.render()


class ApproximateUpdateWarning(UserWarning):
    """An update made on counts alone (no token ids): close to, not equal to, training
    on both texts (:mod:`pmiembed.update` says what differs)."""
