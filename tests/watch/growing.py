"""A logdir that tests grow chunk by chunk, with the clock of its writer.

The watcher's clock is the wall time of the last record written (the helpers write
``wall_time = 1000 + step``), so "now" moves with the data and nothing sleeps:
``later(seconds)`` moves it on without writing, which is how a run stops growing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event

from tbplateau.analysis import analyze
from tbplateau.watch import AlertState, Watcher
from tbplateau.watch.events import Event as WatchEvent
from tests.helpers import file_version, frame, scalar


class Growing:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.now = 0.0
        root.mkdir(parents=True, exist_ok=True)

    def clock(self) -> float:
        return self.now

    def append(
        self, run: str, events: Sequence[Event], name: str = "events.out.tfevents.1"
    ) -> Path:
        path = self.root / run / name
        path.parent.mkdir(parents=True, exist_ok=True)
        head = [] if path.exists() else [file_version()]
        with path.open("ab") as fh:
            fh.write(frame([*head, *events]))
        if events:
            self.now = max(self.now, max(e.wall_time for e in events))
        return path

    def scalars(self, run: str, tag: str, values: Iterable[float], start: int) -> Path:
        return self.append(run, [scalar(tag, start + i, float(v)) for i, v in enumerate(values)])

    def later(self, seconds: float) -> None:
        self.now += seconds

    def watcher(self, **kwargs: object) -> Watcher:
        return Watcher(self.root, clock=self.clock, **kwargs)  # type: ignore[arg-type]


def grow(
    log: Growing,
    watcher: Watcher,
    run: str,
    tag: str,
    values: Sequence[float] | np.ndarray,
    chunks: Iterable[int],
) -> list[tuple[int, WatchEvent]]:
    """Append ``values[previous:end]`` for each ``end`` of ``chunks``, poll after each;
    then let the run stop growing and poll once more (chunk ``-1``)."""
    out: list[tuple[int, WatchEvent]] = []
    done = 0
    for end in chunks:
        log.scalars(run, tag, values[done:end], done)
        done = end
        out.extend((end, e) for e in watcher.poll())
    log.later(1e5)
    out.extend((-1, e) for e in watcher.poll())
    return out


def alert_keys(watcher: Watcher) -> list[tuple[object, ...]]:
    """The open and resolved alerts, as comparable tuples."""
    return sorted(
        (a.run, a.tags, a.kind.value, a.start_step, a.end_step)
        for a in watcher.alerts
        if a.state in (AlertState.OPEN, AlertState.RESOLVED)
    )


def report_keys(root: Path) -> list[tuple[object, ...]]:
    """``tbplateau report``'s findings on ``root``, as the same tuples."""
    report = analyze(root)
    return sorted(
        (run.run, f.tags, f.kind.value, f.start_step, f.end_step)
        for run in report.runs
        for f in [*(g for s in run.series for g in s.findings), *run.findings]
    )
