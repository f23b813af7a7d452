"""Parameter checks as tables, checked in one place.

Every public entry point (:class:`~pmiembed.model.PMIEmbedding`,
:func:`~pmiembed.word2vec.train_word2vec`, :func:`~pmiembed.compare.compare` and the
stage functions) declares what each parameter accepts, in the style of
scikit-learn's ``_parameter_constraints``::

    CONSTRAINTS = {
        "dim": [Interval(Integral, 1, None)],
        "max_vocab": [Interval(Integral, 2, None), None],
        "weighting": [StrOptions({"dynamic", "uniform", "harmonic", "harmonic2"})],
    }
    validate_params(CONSTRAINTS, {"dim": dim, ...})

and :func:`validate_params` raises :class:`~pmiembed.errors.ParameterError` for the
first parameter whose value meets none of its constraints, with one line naming the
Python parameter: ``dim=0 must be an integer >= 1``.  A table entry may be a
:class:`Param` instead of a bare list, to word the requirement itself (``"a positive
integer (typical: 100-500)"``), or a list of such rules that must all hold.  The command
line shows the flag of a parameter whose flag is spelt differently (``subsample`` is
``--sub``) beside the message, from the ``param`` attribute of the error (see
:mod:`pmiembed.errors`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Iterable, Mapping

import numpy as np

from .errors import ParameterError

__all__ = ["Interval", "StrOptions", "Param", "validate_params", "check_param", "Integral", "Real"]


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
            and math.isfinite(float(value)))


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (``Integral``: integers, never booleans; ``Real``: finite
    ints or floats) between ``left`` and ``right`` (None: unbounded), the bounds
    included or not as ``closed`` says: ``"both"``, ``"left"``, ``"right"``,
    ``"neither"``."""

    kind: type
    left: float | None
    right: float | None
    closed: str = "both"

    def __contains__(self, value) -> bool:
        if not (_is_int(value) if self.kind is Integral else _is_real(value)):
            return False
        if self.left is not None and (value < self.left
                                      or (value == self.left and self.closed in ("right", "neither"))):
            return False
        if self.right is not None and (value > self.right
                                       or (value == self.right and self.closed in ("left", "neither"))):
            return False
        return True

    def __str__(self) -> str:
        def num(x) -> str:
            return str(int(x)) if float(x).is_integer() else f"{x:g}"

        noun = "an integer" if self.kind is Integral else "a number"
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.left is not None and self.right is not None:
            if self.kind is Integral and lo_in and hi_in:
                return f"{noun} from {num(self.left)} to {num(self.right)}"
            return f"{noun} in {'[' if lo_in else '('}{num(self.left)}, {num(self.right)}{']' if hi_in else ')'}"
        if self.left is not None:
            if self.left == 0 and not lo_in:
                return "a positive integer" if self.kind is Integral else "a positive number"
            return f"{noun} {'>=' if lo_in else '>'} {num(self.left)}"
        if self.right is not None:
            return f"{noun} {'<=' if hi_in else '<'} {num(self.right)}"
        return noun


class StrOptions:
    """One of the given strings (in the order given, which the message keeps)."""

    def __init__(self, options: Iterable[str]):
        self.options = tuple(options)

    def __contains__(self, value) -> bool:
        return isinstance(value, str) and value in self.options

    def __str__(self) -> str:
        return f"one of {', '.join(self.options)}"


@dataclass(frozen=True)
class Param:
    """A table entry that words its own requirement: ``constraints`` as in a bare list
    (``None`` among them accepts None), ``text`` what the message says the value must
    be."""

    constraints: tuple
    text: str


def _accepts(constraint, value) -> bool:
    if constraint is None:
        return value is None
    if hasattr(constraint, "__contains__"):
        return value in constraint
    return bool(constraint(value))


def _describe(constraints) -> str:
    text = " or ".join(str(c) for c in constraints if hasattr(c, "__contains__"))
    return text + (" or None" if any(c is None for c in constraints) else "")


def check_param(name: str, value: Any, entry, *, owner: str = "", param: str | None = None) -> None:
    """Check one value against its table ``entry`` (a list of constraints, a
    :class:`Param`, or a list of :class:`Param` rules that must all hold, checked in
    order); raise :class:`ParameterError` naming ``name`` (after ``owner``, e.g.
    ``"word2vec "``) otherwise.  ``param``: the name the command line knows the
    parameter by, when it differs from ``name`` (see :mod:`pmiembed.errors`)."""
    if isinstance(entry, (list, tuple)) and entry and all(isinstance(e, Param) for e in entry):
        for rule in entry:
            check_param(name, value, rule, owner=owner, param=param)
        return
    constraints = entry.constraints if isinstance(entry, Param) else tuple(entry)
    if any(_accepts(c, value) for c in constraints):
        return
    text = entry.text if isinstance(entry, Param) else _describe(constraints)
    # the setting and the None it accepts are marked (pmiembed.errors), so that the command
    # line shows them as it spells them: "--abtt 500 must be ... or none", "--workers 0 ...
    # or omitted"; Python reads "abtt=500 ... or None"
    shown = param or name
    given = f"{name}={value!r}"
    if "`" not in given and ":" not in given:
        given = f"`{shown}={value!r}:{given}`"
    text = re.sub(r"\bNone\b", f"`{shown}|none:None`", text)
    raise ParameterError(f"{owner}{given} must be {text}", param=shown)


def validate_params(table: Mapping[str, Any], values: Mapping[str, Any], *, owner: str = "",
                    cli_prefix: str = "") -> None:
    """Check every parameter of ``values`` that ``table`` lists, in the table's order
    (parameters the table does not list are not checked).  ``owner`` prefixes the
    parameter in messages (``"word2vec "``); ``cli_prefix`` prefixes the name the command
    line maps to a flag (``"w2v_"``: ``--w2v-dim``)."""
    for name, entry in table.items():
        if name in values:
            check_param(name, values[name], entry, owner=owner,
                        param=f"{cli_prefix}{name}" if cli_prefix else None)
