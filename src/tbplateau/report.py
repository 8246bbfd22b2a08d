"""The report model: what :func:`tbplateau.analyze` found, as plain frozen values.

This module sits below every view. :class:`Report` holds, per run, its read issues,
one :class:`SeriesReport` per scalar series (summary and findings) and the findings
that involve two series (overfitting). :func:`report_document` builds the
``tbplateau.report/1`` JSON document, the public contract read by scripts and CI, and
:meth:`Report.from_dict` reads it back, so the views can render a merged or stored
result.

The display methods (``__rich__``, ``_repr_html_``, ``to_pandas``, ``plot``) are
notebook conveniences: each imports its view when called (as ``pandas.DataFrame.plot``
does), so nothing in this module depends on a view at import time.

>>> from tbplateau.findings import Finding, FindingKind
>>> f = Finding(FindingKind.PLATEAU, 80, None, ("loss",), 0.9)
>>> s = SeriesReport("loss", "min", 200, 0, 0, 199, 150, 0.0183, 0.0185, (f,))
>>> report = Report("logs", (RunReport(".", (), (s,), ()),))
>>> Report.from_dict(report.to_dict()) == report
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tbplateau import stats
from tbplateau.findings import Finding, FindingKind, Goal, check_goal, finding_label, json_safe
from tbplateau.reader.model import Problem, ReadIssue

if TYPE_CHECKING:  # pragma: no cover
    from tbplateau.reader.model import Logdir

__all__ = [
    "KIND_ORDER",
    "REPORT_SCHEMA",
    "Report",
    "RunReport",
    "SeriesReport",
    "dumps_indented",
    "report_document",
    "report_summary",
    "run_severity",
]

REPORT_SCHEMA = "tbplateau.report/1"
"""Name and version of the JSON document :meth:`Report.to_dict` builds."""


_ALL_KINDS = frozenset(FindingKind)
_NONFINITE_ONLY = frozenset({FindingKind.NONFINITE})


@dataclass(frozen=True)
class SeriesReport:
    """One series' summary and findings.

    ``judged`` holds the kinds of finding that were looked for (``None``: every kind
    for a series with a goal, non-finite values only without one) and ``note`` why,
    when not every kind was (see :func:`tbplateau.goals.judge_plan`).
    ``duplicate_points`` counts the replaced points that were duplicates (the same
    step and value logged twice in a row), not restarts. ``text`` holds the verdict
    and advice of a document read back with :meth:`Report.from_dict` (they are
    recomputed from the curves otherwise); it takes no part in equality.
    """

    tag: str
    goal: Goal
    points: int
    replaced_points: int
    first_step: int | None
    last_step: int | None
    best_step: int | None
    best_value: float | None
    last_value: float | None
    findings: tuple[Finding, ...]
    duplicate_points: int = 0
    judged: frozenset[FindingKind] | None = None
    note: str | None = None
    text: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.judged is not None:  # the default is stored as None, so equality holds
            judged = frozenset(self.judged)
            default = _ALL_KINDS if self.goal is not None else _NONFINITE_ONLY
            object.__setattr__(self, "judged", None if judged == default else judged)

    @property
    def judged_kinds(self) -> frozenset[FindingKind]:
        """The kinds of finding looked for on this series."""
        if self.judged is not None:
            return self.judged
        return _ALL_KINDS if self.goal is not None else _NONFINITE_ONLY

    @property
    def fully_judged(self) -> bool:
        """Whether every kind of finding was looked for (a metric with a goal)."""
        return self.goal is not None and self.judged_kinds == _ALL_KINDS

    @property
    def restarted_points(self) -> int:
        """Points replaced by a restart (replaced points that were not duplicates)."""
        return self.replaced_points - self.duplicate_points


_Frozen = TypeVar("_Frozen", Finding, SeriesReport)


def _copy_with(obj: _Frozen, name: str, value: object) -> _Frozen:
    """``dataclasses.replace(obj, **{name: value})`` of a finding (``name`` its ``run``) or
    a series report (``name`` its ``findings``): the other fields as they are, since
    ``__post_init__`` would only check and normalise them into the same values again
    (a finding's read-only ``detail`` is shared, not copied); without the rebuild."""
    copy = object.__new__(type(obj))
    copy.__dict__.update(obj.__dict__)
    object.__setattr__(copy, name, value)
    return copy


@dataclass(frozen=True)
class RunReport:
    """One run: its read issues, its series and the findings involving two series.

    Every finding it holds knows its run (:attr:`Finding.run` is set on construction).
    """

    run: str
    read_issues: tuple[ReadIssue, ...]
    series: tuple[SeriesReport, ...]
    findings: tuple[Finding, ...]

    def __post_init__(self) -> None:
        name = self.run

        def own(found: tuple[Finding, ...]) -> tuple[Finding, ...]:
            if all(f.run == name for f in found):
                return found
            return tuple(f if f.run == name else _copy_with(f, "run", name) for f in found)

        series = tuple(
            s
            if all(f.run == name for f in s.findings)
            else _copy_with(s, "findings", own(s.findings))
            for s in self.series
        )
        object.__setattr__(self, "series", series)
        object.__setattr__(self, "findings", own(tuple(self.findings)))

    def all_findings(self) -> Iterator[Finding]:
        """The run's findings: series findings, then run-level ones."""
        for s in self.series:
            yield from s.findings
        yield from self.findings


@dataclass(frozen=True)
class Report:
    """Everything :func:`analyze` found in a logdir; :meth:`to_dict` is the JSON document."""

    logdir: str
    runs: tuple[RunReport, ...]
    schema: str = field(default=REPORT_SCHEMA, init=False)

    def findings(self) -> Iterator[Finding]:
        """Every finding, run by run (series findings, then run-level ones)."""
        for run in self.runs:
            yield from run.all_findings()

    def summary(self) -> dict[str, Any]:
        """The ``summary`` object of the document (see :func:`report_summary`)."""
        return report_summary(self)

    def __repr__(self) -> str:
        s = report_summary(self)
        kinds = ", ".join(f"{n} {k}" for k, n in s["findings_by_label"].items())
        return (
            f"Report({self.logdir!r}: {_plural(s['runs'], 'run')}, "
            f"{s['series']:,} series ({s['judged_series']:,} judged), "
            f"{_plural(s['findings'], 'finding')}{': ' + kinds if kinds else ''}"
            f"{', ' + _plural(s['read_issues'], 'read issue') if s['read_issues'] else ''})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``tbplateau.report/1`` document (see :func:`report_document`)."""
        return report_document(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        """``json.dumps(self.to_dict(), indent=indent, allow_nan=False)``, byte for byte."""
        doc = self.to_dict()
        if indent is None:
            return json.dumps(doc, allow_nan=False)
        return dumps_indented(doc, indent)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Report:
        """Read a ``tbplateau.report/1`` document back (the curves are not in it).

        Numbers that the document holds as ``null`` (non-finite) come back as NaN.
        Keys added by later versions are ignored.
        """
        if doc.get("schema") != REPORT_SCHEMA:
            raise ValueError(f"not a {REPORT_SCHEMA} document (schema {doc.get('schema')!r})")
        return cls(str(doc["logdir"]), tuple(_run_from_dict(r) for r in doc["runs"]))

    def __rich__(self) -> Any:
        """The terminal report (see :mod:`tbplateau.render.terminal`)."""
        from tbplateau.render import report_renderable  # a view: imported on use only

        return report_renderable(self)

    def _repr_html_(self) -> str:
        """The report for Jupyter: the same tables with inline SVG sparklines."""
        from tbplateau.render import report_html

        return report_html(self)

    def to_pandas(self) -> Any:
        """``(series, findings)`` DataFrames (see :class:`tbplateau.render.frames.ReportFrames`)."""
        from tbplateau.render.frames import report_frames

        return report_frames(self)

    def plot(
        self,
        run: str | Finding,
        tag: str | None = None,
        *,
        ax: Any = None,
        logdir: Logdir | None = None,
    ) -> Any:
        """Draw ``run``/``tag`` (or the series of a finding of this report) with each
        finding shaded, and the training curve of an overfitting finding; return the
        matplotlib Axes."""
        from tbplateau.plot import plot_series

        if isinstance(run, Finding):
            finding = run
            if finding.run is None:
                raise ValueError("this finding does not know its run: pass run and tag")
            run, tag = finding.run, finding.tags[0]
        if tag is None:
            raise ValueError("plot(run, tag): the tag is missing")
        return plot_series(self, run, tag, ax=ax, logdir=logdir)


KIND_ORDER = ("non-finite", "divergence", "overfitting", "oscillation", "plateau", "flat line")
"""Finding labels (:func:`~tbplateau.findings.finding_label`), worst first."""


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def run_severity(run: RunReport) -> tuple[int, int]:
    """How bad a run looks: (rank of its worst finding label, number of findings).

    The rank is ``len(KIND_ORDER)`` for a run without findings; smaller is worse.
    """
    worst = len(KIND_ORDER)
    n = 0
    for f in run.all_findings():
        n += 1
        worst = min(worst, KIND_ORDER.index(finding_label(f)))
    return worst, n


def report_summary(report: Report) -> dict[str, Any]:
    """Counts over the whole report, the ``summary`` object of the document.

    ``judged_series`` counts the series looked at for every kind of finding,
    ``partly_judged_series`` those looked at for some kinds only (batch running
    means, regularisation losses), ``not_judged_series`` the rest (counters,
    schedules, sentinel-only series, and series without a goal, which are checked for
    non-finite values only). ``findings_by_label`` counts findings by the label the
    screen shows, worst first; ``worst_runs`` lists up to ten runs with findings,
    worst first.
    """
    n_series = judged = partly = issues = 0
    by_label: dict[str, int] = {}
    ranked: list[tuple[tuple[int, int], str]] = []
    for run in report.runs:
        issues += len(run.read_issues)
        for s in run.series:
            n_series += 1
            if s.fully_judged:
                judged += 1
            elif s.goal is not None and len(s.judged_kinds) > 1:
                partly += 1
        for f in run.all_findings():
            label = finding_label(f)
            by_label[label] = by_label.get(label, 0) + 1
        worst, n = run_severity(run)
        if n:
            ranked.append(((worst, -n), run.run))
    ranked.sort()
    return {
        "runs": len(report.runs),
        "runs_with_findings": len(ranked),
        "series": n_series,
        "judged_series": judged,
        "partly_judged_series": partly,
        "not_judged_series": n_series - judged - partly,
        "findings": sum(by_label.values()),
        "findings_by_label": {k: by_label[k] for k in KIND_ORDER if k in by_label},
        "read_issues": issues,
        "worst_runs": [name for _, name in ranked[:10]],
    }


def dumps_indented(doc: Any, indent: int) -> str:
    """``json.dumps(doc, indent=indent, allow_nan=False)``, the same bytes, faster.

    Python's indenting encoder is pure Python, a chain of generators yielding every
    token; this one appends them to one list. The same rules: strings (and keys) as
    ``json.encoder.encode_basestring_ascii``, numbers as ``int.__repr__`` and
    ``float.__repr__`` (``ValueError`` for a non-finite float), ``true``, ``false``,
    ``null``, tuples as lists, keys in insertion order. Anything else, including keys
    other than strings, goes to ``json.dumps`` itself (the same text or error).
    """
    kernels = stats.KERNELS
    if kernels is not None:  # the same text in one compiled pass, or None: the rest below
        text = kernels.dumps_indented(doc, " " * indent, _JSON_STR)
        if text is not None:
            return text
    out: list[str] = []
    try:
        _put_json(doc, "\n", " " * indent, out)
    except (_NotPlainJsonError, RecursionError):
        return json.dumps(doc, indent=indent, allow_nan=False)
    return "".join(out)


class _NotPlainJsonError(Exception):
    """A value :func:`dumps_indented` leaves to ``json.dumps``."""


_JSON_STR = json.encoder.encode_basestring_ascii


def _put_json(o: Any, nl: str, step: str, out: list[str]) -> None:
    if isinstance(o, str):
        out.append(_JSON_STR(o))
    elif o is None:
        out.append("null")
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif isinstance(o, int):
        out.append(int.__repr__(o))
    elif isinstance(o, float):
        if not math.isfinite(o):
            raise _NotPlainJsonError
        out.append(float.__repr__(o))
    elif isinstance(o, (list, tuple)):
        if not o:
            out.append("[]")
            return
        inner = nl + step
        sep = "[" + inner
        for v in o:
            out.append(sep)
            _put_json(v, inner, step, out)
            sep = "," + inner
        out.append(nl + "]")
    elif isinstance(o, dict):
        if not o:
            out.append("{}")
            return
        inner = nl + step
        sep = "{" + inner
        for k, v in o.items():
            if not isinstance(k, str):
                raise _NotPlainJsonError
            out.append(sep + _JSON_STR(k) + ": ")
            _put_json(v, inner, step, out)
            sep = "," + inner
        out.append(nl + "}")
    else:
        raise _NotPlainJsonError


def _nonfinite_text(value: float | None) -> str | None:
    if value is None or math.isfinite(value):
        return None
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _series_texts(report: Report) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The verdict and advice of every series: stored ones, else from the view."""
    texts: dict[tuple[str, str], Mapping[str, Any]] = {}
    missing = False
    for r in report.runs:
        for s in r.series:
            if s.text is None:
                missing = True
            else:
                texts[(r.run, s.tag)] = s.text
    if missing:
        from tbplateau.render.document import series_texts  # a view, imported on use only

        computed = series_texts(report)
        for key, text in computed.items():
            texts.setdefault(key, text)
    return texts


def _series_document(s: SeriesReport, text: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "tag": s.tag,
        "goal": s.goal,
        "points": s.points,
        "replaced_points": s.replaced_points,
        "first_step": s.first_step,
        "last_step": s.last_step,
        "best_step": s.best_step,
        "best_value": json_safe(s.best_value),
        "last_value": json_safe(s.last_value),
        "findings": [f.to_dict() for f in s.findings],
        "duplicate_points": s.duplicate_points,
        "last_value_nonfinite": _nonfinite_text(s.last_value),
        "judged": sorted(k.value for k in s.judged_kinds),
        "judging_note": s.note,
        "verdict": str(text.get("verdict", "")),
        "advice": json_safe(text.get("advice")),
    }


def report_document(report: Report) -> dict[str, Any]:
    """Build the ``tbplateau.report/1`` JSON document; non-finite numbers become ``null``.

    This is the only place the document's shape is decided; it never depends on a flag.
    The words (each series' ``verdict`` and ``advice``) come from the view model
    (:mod:`tbplateau.explain`), the same words every other face shows.
    """
    texts = _series_texts(report)
    return {
        "schema": REPORT_SCHEMA,
        "logdir": report.logdir,
        "runs": [
            {
                "run": r.run,
                "read_issues": [i.to_dict() for i in r.read_issues],
                "series": [_series_document(s, texts.get((r.run, s.tag), {})) for s in r.series],
                "findings": [f.to_dict() for f in r.findings],
            }
            for r in report.runs
        ],
        "summary": report_summary(report),
    }


def _float(value: Any) -> float | None:
    return math.nan if value is None else float(value)


def _last_value(d: Mapping[str, Any]) -> float | None:
    if int(d["points"]) == 0:
        return None
    special = d.get("last_value_nonfinite")
    if d["last_value"] is None and special in ("nan", "inf", "-inf"):
        return float(special)
    return _float(d["last_value"])


def _finding_from_dict(d: Mapping[str, Any]) -> Finding:
    return Finding(
        d["kind"],
        d["start_step"],
        d["end_step"],
        tuple(d["tags"]),
        d["confidence"],
        d.get("detail", {}),
    )


def _series_from_dict(d: Mapping[str, Any]) -> SeriesReport:
    judged = d.get("judged")
    text = None
    if "verdict" in d:
        text = {"verdict": d["verdict"], "advice": d.get("advice")}
    return SeriesReport(
        tag=str(d["tag"]),
        goal=check_goal(d["goal"]),
        points=int(d["points"]),
        replaced_points=int(d["replaced_points"]),
        first_step=d["first_step"],
        last_step=d["last_step"],
        best_step=d["best_step"],
        best_value=None if d["best_step"] is None else _float(d["best_value"]),
        last_value=_last_value(d),
        findings=tuple(_finding_from_dict(f) for f in d["findings"]),
        duplicate_points=int(d.get("duplicate_points", 0)),
        judged=None if judged is None else frozenset(FindingKind(k) for k in judged),
        note=d.get("judging_note"),
        text=text,
    )


def _run_from_dict(d: Mapping[str, Any]) -> RunReport:
    issues = tuple(
        ReadIssue(i["file"], int(i["offset"]), Problem(i["problem"]), i["message"])
        for i in d["read_issues"]
    )
    return RunReport(
        str(d["run"]),
        issues,
        tuple(_series_from_dict(s) for s in d["series"]),
        tuple(_finding_from_dict(f) for f in d["findings"]),
    )
