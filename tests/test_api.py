"""The public API: a deliberate, sorted ``__all__`` and the exception tree."""

from __future__ import annotations

import subprocess
import sys

import tbplateau
import tbplateau.reader
from tbplateau import errors


def _isort_key(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions (ruff's RUF022 order)."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[0].isupper() else (2, name)


def test_all_is_sorted_and_importable() -> None:
    for module in (tbplateau, tbplateau.reader, errors):
        names = list(module.__all__)
        assert names == sorted(names, key=_isort_key), module.__name__
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_exception_tree() -> None:
    for exc in (
        errors.LogdirNotFoundError,
        errors.NoEventFilesError,
        errors.MissingExtraError,
        errors.InvalidParameterError,
    ):
        assert issubclass(exc, errors.TbplateauError)
    assert issubclass(errors.LogdirNotFoundError, FileNotFoundError)
    assert issubclass(errors.MissingExtraError, ImportError)
    assert issubclass(errors.InvalidParameterError, ValueError)


def test_every_public_name_has_a_home() -> None:
    assert set(tbplateau._HOME) == set(tbplateau.__all__) - {"__version__"}


def test_importing_the_package_imports_no_numeric_stack() -> None:
    # TensorBoard imports the tab's entry point, and so this package, without error
    # handling: a broken numpy must not break `tensorboard` for everyone
    code = (
        "import sys, tbplateau, tbplateau.errors; "
        "bad = [m for m in ('numpy', 'scipy', 'rich', 'tbplateau.analysis') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
