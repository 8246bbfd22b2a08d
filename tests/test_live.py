"""LiveAnalysis: the report of a growing logdir, re-analysing only what changed."""

from __future__ import annotations

from pathlib import Path

from tbplateau.analysis import analyze
from tbplateau.live import LiveAnalysis
from tests.helpers import curve, frame, write_events


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


def test_only_grown_groups_are_analysed_again(tmp_path: Path) -> None:
    a = write_events(tmp_path / "a" / "events.out.tfevents.1", curve("loss", range(50)))
    write_events(tmp_path / "k" / "train" / "events.out.tfevents.1", curve("epoch_loss", range(40)))
    write_events(
        tmp_path / "k" / "validation" / "events.out.tfevents.1",
        curve("epoch_loss", range(40), seed=1),
    )
    write_events(tmp_path / "b" / "events.out.tfevents.1", curve("loss", range(50), seed=2))
    live = LiveAnalysis(tmp_path)
    first = live.refresh()
    assert first.changed == ("a", "b", "k/train", "k/validation")
    assert live.refresh().changed == ()

    _append(a, frame(curve("loss", range(50, 80), seed=3)))
    update = live.refresh()
    assert update.changed == ("a",)
    assert update.report.to_dict() == analyze(tmp_path).to_dict()

    # a validation run that grows takes its training sibling with it
    _append(
        tmp_path / "k" / "validation" / "events.out.tfevents.1",
        frame(curve("epoch_loss", range(40, 60), seed=4)),
    )
    assert live.refresh().changed == ("k/train", "k/validation")
