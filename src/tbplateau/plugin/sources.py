"""Where the tab's data comes from.

:class:`LogdirSource` reads the logdir with tbplateau's own incremental reader and
re-analyses only the runs that changed (:class:`~tbplateau.live.LiveAnalysis`): every
point, so the tab says what ``tbplateau report`` says. TensorBoard's own loaders keep a
random sample of each series (1,000 scalars by default), which would make the tab
disagree with the command line.

:class:`ProviderSource` is the fallback when there is no logdir to read
(``--logdir_spec``, a remote data server): it asks TensorBoard's data provider for the
scalars, which are a sample, and the page says so.

Both give :class:`~tbplateau.live.Update` values and report progress through a
callback ``progress(phase, done, total)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from tbplateau.analysis import analyze
from tbplateau.live import LiveAnalysis, Update
from tbplateau.reader import LogdirReader
from tbplateau.reader.model import Logdir, Run
from tbplateau.series import Series

__all__ = ["LogdirSource", "Progress", "ProviderSource", "Source", "readable_logdir"]

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: ``phase`` is ``"reading"`` or ``"analysing"``."""


class Source(Protocol):
    kind: str
    """``"logdir"`` or ``"data_provider"``."""
    sampled: bool
    """Whether the series are a sample of what was logged."""

    def refresh(self, progress: Progress) -> Update: ...


def readable_logdir(logdir: str | None) -> str | None:
    """``logdir`` if tbplateau's reader can read it (a local directory or a URL), else ``None``."""
    if not logdir:
        return None
    if "://" in logdir:
        return logdir
    path = os.path.expanduser(logdir)
    return path if os.path.isdir(path) else None


class _ProgressReader(LogdirReader):
    """A reader that reports its progress to whoever refreshes (LiveAnalysis polls it)."""

    progress: Progress | None = None

    def poll(
        self, *, collect: bool = True, progress: Callable[[int, int], None] | None = None
    ) -> tuple[Series, ...]:
        report = self.progress

        def reading(done: int, total: int) -> None:
            if progress is not None:
                progress(done, total)
            if report is not None:
                report("reading", done, total)

        found = super().poll(collect=collect, progress=reading)
        if report is not None:
            report("analysing", 0, 0)
        return found


class LogdirSource:
    """The logdir, read by tbplateau's reader; only what grew is read and analysed again."""

    kind = "logdir"
    sampled = False

    def __init__(self, logdir: str, *, goals: Sequence[str] = ()) -> None:
        self.logdir = logdir
        self.goals = tuple(goals)
        self._live: LiveAnalysis | None = None
        self._reader: _ProgressReader | None = None

    def refresh(self, progress: Progress) -> Update:
        if self._live is None:  # made here: the logdir may not exist yet
            self._reader = _ProgressReader(self.logdir)
            self._live = LiveAnalysis(self.logdir, goals=self.goals, reader=self._reader)
        assert self._reader is not None
        self._reader.progress = progress
        try:
            return self._live.refresh()
        finally:
            self._reader.progress = None


def _series(run: str, tag: str, data: Any) -> Series:
    steps = np.fromiter((d.step for d in data), dtype=np.int64, count=len(data))
    values = np.fromiter((d.value for d in data), dtype=np.float64, count=len(data))
    walls = np.fromiter((d.wall_time for d in data), dtype=np.float64, count=len(data))
    order = np.argsort(steps, kind="stable")
    steps, values, walls = steps[order], values[order], walls[order]
    last = np.ones(steps.shape[0], dtype=bool)  # the last datum of a step wins
    last[:-1] = steps[1:] != steps[:-1]
    return Series(run, tag, steps=steps[last], values=values[last], wall_times=walls[last])


class ProviderSource:
    """TensorBoard's data provider: a sample of each series (the fallback)."""

    kind = "data_provider"
    sampled = True

    def __init__(
        self,
        provider: Any,
        *,
        label: str,
        goals: Sequence[str] = (),
        downsample: int = 1_000_000,
    ) -> None:
        self.provider = provider
        self.label = label
        self.goals = tuple(goals)
        self.downsample = downsample
        self._signature: Mapping[str, object] = {}
        self._last: Update | None = None

    def refresh(self, progress: Progress) -> Update:
        from tensorboard.context import RequestContext

        ctx = RequestContext()
        listing = self.provider.list_scalars(ctx, experiment_id="", plugin_name="scalars")
        signature = {
            run: tuple(sorted((tag, ts.max_step, ts.max_wall_time) for tag, ts in tags.items()))
            for run, tags in listing.items()
        }
        removed = tuple(sorted(set(self._signature) - set(signature)))
        changed = any(self._signature.get(r) != sig for r, sig in signature.items())
        if self._last is not None and not changed and not removed:
            return Update(self._last.report, self._last.logdir, (), ())
        progress("reading", 0, len(signature))
        data = self.provider.read_scalars(
            ctx, experiment_id="", plugin_name="scalars", downsample=self.downsample
        )
        runs = tuple(
            Run(name, (), tuple(_series(name, tag, data[name][tag]) for tag in sorted(data[name])))
            for name in sorted(data)
        )
        logdir = Logdir(self.label, runs)
        progress("analysing", 0, len(runs))
        report = analyze(logdir, goals=self.goals)
        self._signature = signature
        self._last = Update(report, logdir, tuple(r.name for r in runs), removed)
        return self._last
