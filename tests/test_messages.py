"""Library errors name Python parameters; the command line shows its flags instead."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import pmiembed
from pmiembed.cli.main import main
from pmiembed.errors import ParameterError, PMIEmbedError
from pmiembed.model import PMIEmbedding

FLAG = re.compile(r"(?<![\w-])--[a-z]")
#: another tool's command line quoted in a message (Dask's: dask worker --memory-limit 6GB):
#: its options are that tool's, not pmiembed's flags
OTHER_TOOL = re.compile(r"\bdask (?:worker|scheduler)\b[^;)]*")


def _library_modules() -> list[Path]:
    package = Path(pmiembed.__file__).parent
    return [p for p in package.rglob("*.py") if "cli" not in p.relative_to(package).parts[0]]


def _raised_text(node: ast.Raise) -> str:
    """The literal text of the exception a ``raise`` builds (f-string parts included)."""
    parts = []
    for sub in ast.walk(node.exc) if node.exc is not None else ():
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            parts.append(sub.value)
    return OTHER_TOOL.sub("", "".join(parts))


def test_library_errors_never_name_a_flag():
    found = []
    for path in _library_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {n.targets[0].id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Constant)
                     and isinstance(n.value.value, str)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and FLAG.search(_raised_text(node)):
                found.append(f"{path.name}:{node.lineno}")
        found += [f"{path.name}: {name}" for name, value in constants.items()
                  if name.endswith(("_HINT", "_MESSAGE")) and FLAG.search(value)]
    assert not found, f"library errors naming command-line flags: {found}"


def test_settings_render_as_flags_on_the_command_line():
    exc = ParameterError("dim=50: lower `dim` or `neg`, or pass `force=True`; choose an `out:output folder`",
                         param="dim")
    assert str(exc) == "dim=50: lower dim or neg, or pass force=True; choose an output folder"
    flags = {"dim": "--dim", "neg": "--neg", "force=True": "--force", "out": "--out"}
    assert exc.render(flags.get) == "dim=50: lower --dim or --neg, or pass --force; choose an --out"


def test_model_errors_name_the_parameter(lee_path):
    with pytest.raises(ParameterError) as info:
        PMIEmbedding(subsample=2.0).fit(lee_path)
    assert str(info.value).startswith("subsample=2.0 must be in (0, 1)") and "--" not in str(info.value)
    assert info.value.param == "subsample"


@pytest.mark.parametrize("argv,line", [
    (["--sub", "2"], "pmiembed: error: --sub 2.0 must be in (0, 1), e.g. 1e-5, or none"),
    (["--n-iter", "5000"], "pmiembed: error: --n-iter 5000 must be at most 1000: each iteration is two passes over "
                           "the PMI matrix (the default is 6); for accuracy raise --oversamples instead"),
    (["--window", "20"], "pmiembed: error: --window 20 is too large for harmonic2 weighting (at most 12); lower "
                         "--window or use --weighting dynamic"),
])
def test_cli_shows_flags(tmp_path, lee_path, capsys, argv, line):
    code = main(["train", str(lee_path), "--out", str(tmp_path / "o"), "--quiet", *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == line
    assert not (tmp_path / "o").exists()


def test_errors_cross_processes_with_their_settings():
    """A child's error (compare trains in child processes) keeps its marked settings."""
    import pickle

    exc = pickle.loads(pickle.dumps(ParameterError("lower `dim`", param="dim")))
    assert isinstance(exc, PMIEmbedError) and exc.template == "lower `dim`" and exc.param == "dim"


def test_constraint_tables():
    """The table checks: integers are never booleans, numbers are finite, None only where
    listed, and the message says what is accepted."""
    from pmiembed._validation import Integral, Interval, Param, Real, StrOptions, validate_params

    table = {"n": [Interval(Integral, 1, None)], "x": [Interval(Real, 0, 1, "right"), None],
             "mode": [StrOptions(("a", "b"))], "k": Param((Interval(Integral, 0, 9),), "a digit")}
    validate_params(table, {"n": 3, "x": None, "mode": "b", "k": 0, "unlisted": object()})
    for values, message in [({"n": True}, "n=True must be an integer >= 1"),
                            ({"n": 2.0}, "n=2.0 must be an integer >= 1"),
                            ({"x": 0}, "x=0 must be a number in (0, 1] or None"),
                            ({"x": float("nan")}, "x=nan must be a number in (0, 1] or None"),
                            ({"mode": "c"}, "mode='c' must be one of a, b"),
                            ({"k": 10}, "k=10 must be a digit")]:
        with pytest.raises(ParameterError) as info:
            validate_params(table, values)
        assert str(info.value) == message and info.value.param == next(iter(values))
    with pytest.raises(ParameterError, match="^word2vec n=0 must be an integer >= 1$") as info:
        validate_params(table, {"n": 0}, owner="word2vec ", cli_prefix="w2v_")
    assert info.value.param == "w2v_n"
