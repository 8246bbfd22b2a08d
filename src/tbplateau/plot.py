"""A curve with its findings shaded, drawn with matplotlib (the ``plot`` extra).

>>> import tbplateau  # doctest: +SKIP
>>> report = tbplateau.analyze("fixtures/sample")  # doctest: +SKIP
>>> ax = report.plot("torch_lr_too_high", "Loss/train")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tbplateau._optional import import_pyplot
from tbplateau.curves import Curves, curves_for
from tbplateau.errors import InvalidParameterError
from tbplateau.findings import FindingKind, finding_label
from tbplateau.render.sparkline import SVG_COLOUR

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from tbplateau.findings import Finding
    from tbplateau.reader.model import Logdir
    from tbplateau.report import Report

__all__ = ["findings_of", "plot_series"]


def findings_of(report: Report, run: str, tag: str) -> list[Finding]:
    """The findings drawn on ``run``/``tag``: its own, and the overfitting findings
    whose validation series it is."""
    for r in report.runs:
        if r.run != run:
            continue
        for s in r.series:
            if s.tag == tag:
                own = list(s.findings)
                own += [
                    f
                    for f in r.findings
                    if f.tags[0] == tag and f.detail.get("validation_run", run) == run
                ]
                return sorted(own, key=lambda f: f.sort_key)
        raise InvalidParameterError(f"run {run!r} of the report has no series {tag!r}")
    raise InvalidParameterError(f"the report has no run {run!r}")


def _training_curve(ax: Any, findings: Sequence[Finding], curves: Curves, run: str) -> None:
    """Draw, dashed, the training curve the first overfitting finding is judged against."""
    for f in findings:
        if f.kind is not FindingKind.OVERFITTING or len(f.tags) < 2:
            continue
        trun = str(f.detail.get("training_run", run))
        train = curves.get((trun, f.tags[-1]))
        if train is not None:
            ok = np.isfinite(train.values)
            label = f.tags[-1] if trun == run else f"{trun} · {f.tags[-1]}"
            ax.plot(
                train.steps[ok],
                train.values[ok],
                color="#ff7f0e",
                linewidth=1.0,
                linestyle="--",
                label=f"{label} (training)",
                gid=f"training:{f.tags[-1]}",
            )
            return


def plot_series(
    report: Report, run: str, tag: str, *, ax: Any = None, logdir: Logdir | None = None
) -> Any:
    """Draw ``run``/``tag`` with one shaded span per finding; return the matplotlib Axes.

    Non-finite points are ticks along the top, the best value a dot; for an
    overfitting finding the training curve it is judged against is drawn too (dashed).
    The y axis is logarithmic when the values are positive and span more than two
    orders of magnitude. ``logdir`` gives the points when the report's path cannot be
    re-read.
    """
    findings = findings_of(report, run, tag)
    curves = curves_for(report, logdir)
    series = curves.get((run, tag))
    if series is None:
        raise InvalidParameterError(
            f"the points of {run!r}/{tag!r} are not available: pass logdir= "
            "(the Logdir the report was analysed from)"
        )
    plt: Any = import_pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    steps = series.steps
    values = series.values
    finite = np.isfinite(values)
    ax.plot(steps[finite], values[finite], color="#1f77b4", linewidth=1.2, label=tag)
    _training_curve(ax, findings, curves, run)
    last = float(steps[-1]) if len(steps) else 0.0
    for f in findings:
        end = last if f.end_step is None else float(f.end_step)
        ax.axvspan(
            f.start_step,
            max(end, f.start_step + 1e-9),
            color=SVG_COLOUR[f.kind],
            alpha=0.2,
            label=f"{finding_label(f)} from {f.start_step:,}",
            gid=f"finding:{f.kind.value}:{f.start_step}",
        )
    if (~finite).any():
        ax.plot(
            steps[~finite],
            np.full(int((~finite).sum()), 1.0),
            "|",
            color="#7f0000",
            transform=ax.get_xaxis_transform(),
            label="non-finite",
        )
    pos = values[finite]
    if pos.size and float(pos.min()) > 0 and float(pos.max()) / float(pos.min()) > 100:
        ax.set_yscale("log")
    summary = next(s for r in report.runs if r.run == run for s in r.series if s.tag == tag)
    if summary.best_step is not None and summary.best_value is not None:
        ax.plot([summary.best_step], [summary.best_value], "o", color="#2ca02c", label="best")
    ax.set_title(f"{run} · {tag}")
    ax.set_xlabel("epoch" if tag.lower().startswith("epoch") else "step")
    ax.legend(loc="best", fontsize="small")
    return ax
