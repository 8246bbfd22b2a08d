"""The public API: a deliberate, sorted ``__all__`` and the exception tree."""

from __future__ import annotations

import tbplateau
import tbplateau.reader
from tbplateau import errors


def test_all_is_sorted_and_importable() -> None:
    for module in (tbplateau, tbplateau.reader, errors):
        names = list(module.__all__)
        assert names == sorted(names), module.__name__
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
