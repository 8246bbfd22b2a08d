"""The report as GitHub-flavoured Markdown, for pull requests and issue comments.

Per run a table (the curve as a Unicode sparkline in a code span, with the marker
row under it) and the advice as a list. No HTML, no colour.
"""

from __future__ import annotations

from tbplateau.explain.advice import ReportView, RunView, SeriesView, fmt, fmt_best, restart_note
from tbplateau.render.sparkline import Sparkline

__all__ = ["SPARKLINE_WIDTH", "render_markdown"]

SPARKLINE_WIDTH = 24


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    tick = "``" if "`" in text else "`"
    return f"{tick}{text}{tick}"


def _row(s: SeriesView) -> str:
    summary = s.summary
    best = fmt_best(summary)
    curve = ""
    if s.curve is not None and len(s.curve):
        line = Sparkline.of(s.curve.steps, s.curve.values, s.findings, width=SPARKLINE_WIDTH)
        curve = _code(line.chars())
        if line.marks:
            curve += "<br>" + _code(line.markers().replace(" ", "\u00a0"))
    verdict = "; ".join(p for _, p in s.verdict)
    cells = [
        _code(summary.tag),
        summary.goal or "-",
        f"{summary.points:,}",
        best,
        fmt(summary.last_value),
        curve,
        _cell(verdict),
    ]
    return "| " + " | ".join(cells) + " |"


def _run(run: RunView) -> list[str]:
    out = [f"### run {_code(run.run)}", ""]
    for issue in run.read_issues:
        out.append(f"- **{issue.problem.value}**: {_cell(issue.message)}")
    if run.read_issues:
        out.append("")
    if not run.series:
        return [*out, "_no scalar series_", ""]
    out.append("| tag | goal | points | best (step) | last | curve | verdict |")
    out.append("|---|---|--:|--:|--:|---|---|")
    out.extend(_row(s) for s in run.series)
    out.append("")
    note = restart_note(run)
    if note:
        out.extend([note, ""])
    for a in run.advice:
        conf = "" if a.confidence is None else f" (confidence {a.confidence:.0%})"
        out.append(f"- **{_cell(a.tag)}: {a.title}**{conf}")
        for fact in a.facts:
            out.append(f"  {fact}")
        if a.tries:
            out.append(f"  *Try:* {'; '.join(a.tries)}.")
    if run.advice:
        out.append("")
    return out


def render_markdown(view: ReportView) -> str:
    """The whole report as Markdown text (ends with a newline)."""
    kinds = ", ".join(f"{n} {k}" for k, n in view.kinds)
    counts = (
        f"{len(view.runs):,} run{'' if len(view.runs) == 1 else 's'}, {view.series:,} series, "
        f"{view.read_issues:,} read issue{'' if view.read_issues == 1 else 's'}; "
        f"{view.findings:,} finding{'' if view.findings == 1 else 's'}"
        + (f": {kinds}" if kinds else "")
    )
    out = [f"## tbplateau report: {_code(view.logdir)}", "", counts, ""]
    if view.has_curves:
        out.append(
            "Marks under a curve: P plateau, F flat line, D divergence, N non-finite, "
            "O overfitting, S oscillation."
        )
        out.append("")
    for run in view.runs:
        out.extend(_run(run))
    return "\n".join(out).rstrip("\n") + "\n"
