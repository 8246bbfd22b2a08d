from __future__ import annotations

import pytest

from tbplateau.reader import _scan_py, scan

IMPLS = ["python"] + (["c"] if scan.IMPLEMENTATION == "c" else [])


@pytest.fixture(params=IMPLS)
def impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with each record scanner: the compiled one (when built) and the reference."""
    if request.param == "python":
        monkeypatch.setattr(scan, "_BACKEND", _scan_py)
    return str(request.param)
