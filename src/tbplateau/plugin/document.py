"""The tab's report document: the one place the view model is serialised for the page.

The document is the ``tbplateau.report/1`` document of the logdir (``report``, exactly
what ``tbplateau report --format json`` prints for the same data) beside one entry per
run (``runs``, in the same order) that carries what the page shows in words: per
series a row (the verdict, the findings drawn on it, the numbers formatted as the
terminal formats them) and the advice on each finding (title, facts quoting the run's
own numbers, what to try). All of it comes from :func:`tbplateau.explain.report_view`;
when the view model changes, this module is the one to adapt.

Building the advice costs far more than the analysis (the forecasts fit curves), so a
run's entry comes in two stages: :func:`quick_run` (rows with verdicts, no advice,
``"advised": false``), made as soon as the run is analysed, then :func:`advised_runs`
(rows and advice from the view). :func:`tab_document` assembles whatever is ready.

>>> from tbplateau.findings import Finding, FindingKind
>>> from tbplateau.report import Report, RunReport, SeriesReport
>>> f = Finding(FindingKind.PLATEAU, 80, None, ("loss",), 0.9)
>>> s = SeriesReport("loss", "min", 200, 0, 0, 199, 150, 0.0183, 0.0185, (f,))
>>> run = RunReport("train", (), (s,), ())
>>> row = quick_run(run)["rows"][0]
>>> row["verdict"], [g["label"] for g in row["findings"]]
([{'kind': 'plateau', 'text': 'plateaued since step 80'}], ['plateau'])
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from tbplateau.explain import Advice, RunView, SeriesView, fmt, report_view, verdict
from tbplateau.explain.facts import RANK
from tbplateau.explain.text import fmt_best, unit_of
from tbplateau.findings import Finding, FindingKind, finding_label
from tbplateau.reader.model import Logdir
from tbplateau.render.sparkline import SVG_COLOUR
from tbplateau.report import Report, RunReport, SeriesReport

__all__ = [
    "TAB_SCHEMA",
    "advised_runs",
    "drawn_findings",
    "legend",
    "quick_run",
    "tab_document",
]

TAB_SCHEMA = "tbplateau.tab/1"
"""Name and version of the document :func:`tab_document` builds (private to the tab's page)."""

_LABELS = (
    ("non-finite", FindingKind.NONFINITE),
    ("divergence", FindingKind.DIVERGENCE),
    ("overfitting", FindingKind.OVERFITTING),
    ("oscillation", FindingKind.OSCILLATION),
    ("plateau", FindingKind.PLATEAU),
    ("flat line", FindingKind.PLATEAU),
)


def legend() -> list[dict[str, Any]]:
    """Every finding label with its kind, severity rank (0 is worst) and colour."""
    return [
        {"label": label, "kind": kind.value, "rank": RANK[kind], "colour": SVG_COLOUR[kind]}
        for label, kind in _LABELS
    ]


def drawn_findings(run: RunReport) -> dict[str, tuple[Finding, ...]]:
    """The findings drawn on each series of ``run``: its own, and the overfitting
    findings whose validation series it is (the rule of ``explain.build_view``, used
    before the view is ready; a test checks that both agree)."""
    by_tag: dict[str, list[Finding]] = {s.tag: list(s.findings) for s in run.series}
    for f in run.findings:
        if f.detail.get("validation_run", run.run) == run.run and f.tags and f.tags[0] in by_tag:
            by_tag[f.tags[0]].append(f)
    return {tag: tuple(sorted(found, key=lambda f: f.sort_key)) for tag, found in by_tag.items()}


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "kind": f.kind.value,
        "label": finding_label(f),
        "start_step": f.start_step,
        "end_step": f.end_step,
        "confidence": round(f.confidence, 4),
    }


def _verdict(phrases: Sequence[tuple[FindingKind | None, str]]) -> list[dict[str, Any]]:
    return [{"kind": None if k is None else k.value, "text": t} for k, t in phrases]


def _row(
    summary: SeriesReport,
    findings: Sequence[Finding],
    phrases: Sequence[tuple[FindingKind | None, str]],
    unit: str,
) -> dict[str, Any]:
    return {  # goal, points, steps: in the report's series, beside it
        "tag": summary.tag,
        "unit": unit,
        "best": fmt_best(summary),
        "last": fmt(summary.last_value),
        "verdict": _verdict(phrases),
        "findings": [_finding(f) for f in findings],
    }


def quick_run(run: RunReport) -> dict[str, Any]:
    """A run's entry before its advice is ready: rows with verdicts, no advice."""
    drawn = drawn_findings(run)
    rows = [_row(s, drawn[s.tag], verdict(s, drawn[s.tag]), unit_of(s.tag)) for s in run.series]
    return {"run": run.run, "advised": False, "rows": rows, "advice": []}


def _advice(a: Advice) -> dict[str, Any]:
    return {
        "tag": a.tag,
        "kind": None if a.kind is None else a.kind.value,
        "label": a.label,
        "title": a.title,
        "facts": list(a.facts),
        "context": [*a.context, *([a.also_text] if a.also_text else [])],
        "tries": list(a.tries),
        "confidence": a.confidence,
        "start_step": a.start_step,
    }


def _view_row(s: SeriesView) -> dict[str, Any]:
    # twins (the same values under two tags, Keras' evaluation_*_vs_iterations) are
    # one row: the page hides the row that is folded into another and names it there
    return {**_row(s.summary, s.findings, s.verdict, s.unit), "twins": list(s.twins)} | (
        {"twin_of": s.twin_of} if s.twin_of is not None else {}
    )


def _view_run(view: RunView) -> dict[str, Any]:
    return {
        "run": view.run,
        "advised": True,
        "rows": [_view_row(s) for s in view.series],
        "advice": [_advice(a) for a in view.advice],
    }


def _hoist_tries(
    entries: Sequence[dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """What to try, once per label for the whole document.

    The terminal says what to try once per label and run; each row of the tab is read
    on its own, so the page shows it with every advice. The view gives it on the first
    advice of each label in a run (and nothing on the others); the document holds it
    once per label in ``tries``, and an advice keeps its own list only when it says
    something else. The entries given are not changed.
    """
    tries: dict[str, list[str]] = {}
    for e in entries:
        for a in e["advice"]:
            if a["tries"]:
                tries.setdefault(a["label"], a["tries"])
    out = [
        {
            **e,
            "advice": [
                {**a, "tries": None} if a["tries"] in ([], tries.get(a["label"])) else a
                for a in e["advice"]
            ],
        }
        if e["advice"]
        else e
        for e in entries
    ]
    return out, tries


def advised_runs(
    report: Report, logdir: Logdir, names: Collection[str]
) -> dict[str, dict[str, Any]]:
    """The entries of the runs ``names`` of ``report``, with their advice.

    The curves of the whole ``logdir`` are available to the view (an overfitting
    finding quotes the training run's curve).
    """
    wanted = set(names)
    sub = Report(report.logdir, tuple(r for r in report.runs if r.run in wanted))
    view = report_view(sub, logdir)
    return {r.run: _view_run(r) for r in view.runs}


def tab_document(
    report: Report,
    runs: Mapping[str, dict[str, Any]],
    *,
    version: int,
    source: str,
    sampled: bool,
) -> dict[str, Any]:
    """The document the tab's page reads, at ``version`` (it grows with every change).

    ``runs`` holds the entries made so far (:func:`quick_run` or :func:`advised_runs`);
    a run of ``report`` without one gets its :func:`quick_run` entry. What to try is
    held once per label in ``tries``; an advice whose ``tries`` is ``null`` uses it.
    ``source`` says where the data came from (``logdir`` or ``data_provider``),
    ``sampled`` whether the series are a sample (the page then says so).
    """
    entries, tries = _hoist_tries([runs.get(r.run) or quick_run(r) for r in report.runs])
    return {
        "schema": TAB_SCHEMA,
        "version": version,
        "source": source,
        "sampled": sampled,
        "legend": legend(),
        "tries": tries,
        "advice_pending": sum(1 for e in entries if not e["advised"]),
        "report": report.to_dict(),
        "runs": entries,
    }
