"""The committed evaluation set passes ``train_reference.check``: its labels are derived again
from the event files by the documented rules (no detector involved) and each labelled phenomenon
passes its own simple test."""

from __future__ import annotations

from pathlib import Path

import pytest

from train_reference import check

EVALSET = Path(__file__).resolve().parents[2] / "evalset" / "real"


@pytest.mark.slow
@pytest.mark.skipif(not EVALSET.is_dir(), reason="evalset/real not generated")
def test_every_evalset_label_holds() -> None:
    assert check.main([str(EVALSET)]) == 0
