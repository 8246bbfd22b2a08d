"""Imports of optional dependencies, each failing with the extra to install."""

from __future__ import annotations

from types import ModuleType

from tbplateau.errors import MissingExtraError


def import_pandas() -> ModuleType:
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(
            "pandas is needed for to_pandas(): pip install 'tbplateau[pandas]'"
        ) from exc
    return pandas


def import_pyplot() -> ModuleType:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(
            "matplotlib is needed for plot(): pip install 'tbplateau[plot]'"
        ) from exc
    return plt


def import_fsspec() -> ModuleType:
    try:
        import fsspec
    except ImportError as exc:
        raise MissingExtraError(
            "remote logdirs need fsspec: pip install 'tbplateau[remote]'"
        ) from exc
    return fsspec  # type: ignore[no-any-return]
