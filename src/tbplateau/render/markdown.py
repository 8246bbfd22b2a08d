"""The report as GitHub-flavoured Markdown, for pull requests, issue comments and CI
job summaries.

The summary first (and, for a sweep, a table of runs x kinds), then per run a table
(the curve as a Unicode sparkline in a code span, with the marker row under it), the
line naming what was not judged, and the advice as a list. Lines inside a list item
end with a backslash, a hard line break that GitHub (and its job summaries) keep; no
HTML but ``<br>`` in table cells, no colour. Names from the logs go through
:func:`tbplateau.escape.markdown`, so a name is always one literal cell or phrase.
"""

from __future__ import annotations

from tbplateau import escape
from tbplateau.explain import Advice, ReportView, RunView, SeriesView, fmt, fmt_best
from tbplateau.explain.text import join_words, plural
from tbplateau.render.sparkline import Sparkline
from tbplateau.report import KIND_ORDER

__all__ = ["SPARKLINE_WIDTH", "SWEEP_ROWS", "render_markdown"]

SPARKLINE_WIDTH = 24
SWEEP_ROWS = 20
_LONG = 1_000_000


def md(text: str, width: int | None = None) -> str:
    """``text`` (a name, or a sentence holding names) as literal Markdown."""
    if width is not None:
        text = escape.shorten(escape.terminal(text), width)
    return escape.markdown(text, limit=_LONG)


def _code(text: str) -> str:
    """A code span of our own text (sparklines): never a name from the logs."""
    return f"`{text}`"


def _row(s: SeriesView) -> str:
    summary = s.summary
    curve = ""
    if s.curve is not None and len(s.curve):
        line = Sparkline.of(s.curve.steps, s.curve.values, s.findings, width=SPARKLINE_WIDTH)
        curve = _code(line.chars())
        if line.marks:
            curve += "<br>" + _code(line.markers().replace(" ", "\u00a0"))
    tag = md(s.tag, 60)
    if s.twins:
        tag += "<br>= " + md(s.twins[0], 60)
    cells = [
        tag,
        summary.goal or "-",
        f"{summary.points:,}",
        fmt_best(summary),
        fmt(summary.last_value),
        curve,
        md(s.verdict_text),
    ]
    return "| " + " | ".join(cells) + " |"


def _lines(lines: list[str], indent: str = "  ") -> list[str]:
    """Lines of one list item joined by hard line breaks (a trailing backslash)."""
    out = []
    for i, line in enumerate(lines):
        out.append(indent + line + ("\\" if i < len(lines) - 1 else ""))
    return out


def _advice(a: Advice, skip_tries: bool) -> list[str]:
    conf = "" if a.shown_confidence is None else f" (confidence {a.shown_confidence:.0%})"
    head = f"- **{md(a.tag, 200)}: {md(a.title)}**{conf}"
    body = []
    lines = a.lines()
    if skip_tries and a.tries:
        lines = lines[:-1]
    for text in lines:
        if text.startswith("Try: "):
            body.append("*Try:* " + md(text[5:]))
        else:
            body.append(md(text))
    if not body:
        return [head]
    return [head + "\\", *_lines(body)]


def _run(run: RunView, show_all: bool) -> list[str]:
    title = f"### run {md(run.run, 200)}"
    if run.framework:
        title += f" ({md(run.framework)})"
    out = [title, ""]
    for issue in run.read_issues:
        out.append(f"- **{issue.problem.value}**: {md(issue.message)}")
    if run.read_issues:
        out.append("")
    if not run.series:
        return [*out, "_no scalar series_", ""]
    shown = [r for r in run.series if show_all or r.judged]
    if shown:
        out.append("| tag | goal | points | best (step) | last | curve | verdict |")
        out.append("|---|---|--:|--:|--:|---|---|")
        out.extend(_row(s) for s in shown)
        out.append("")
    extra = ([run.not_judged] if run.not_judged and not show_all else []) + list(run.notes)
    if extra:
        out.extend([*(f"{md(t)}\\" for t in extra[:-1]), md(extra[-1]), ""])
    previous: tuple[str, ...] = ()
    for a in run.advice:
        out.extend(_advice(a, a.tries == previous))
        previous = a.tries or previous
    if run.advice:
        out.append("")
    return out


def _sweep(view: ReportView) -> list[str]:
    labels = [k for k in KIND_ORDER if any(k == label for label, _ in view.kinds)]
    worst = [r for r in view.runs if r.findings]
    if not labels or not worst:
        return []
    out = ["| run | " + " | ".join(labels) + " |", "|---|" + "--:|" * len(labels)]
    for r in worst[:SWEEP_ROWS]:
        counts: dict[str, int] = {}
        for row in r.series:
            if row.advice is not None and row.advice.kind is not None:
                counts[row.advice.label] = counts.get(row.advice.label, 0) + 1
        out.append(
            f"| {md(r.run, 80)} | "
            + " | ".join(str(counts.get(k, 0) or "·") for k in labels)
            + " |"
        )
    rest = len(worst) - min(len(worst), SWEEP_ROWS)
    clean = len(view.runs) - len(worst)
    tail = []
    if rest:
        tail.append(f"{rest:,} more runs with findings")
    if clean:
        tail.append(f"{plural(clean, 'run')} without findings")
    out.append("")
    if tail:
        out.extend([join_words(tail) + " below.", ""])
    return out


def render_markdown(view: ReportView, *, show_all: bool = False) -> str:
    """The whole report as Markdown text (ends with a newline)."""
    s = view.summary
    kinds = ", ".join(f"{n:,} {k}" for k, n in view.kinds)
    counts = (
        f"**{plural(len(view.runs), 'run')}**, {view.series:,} series "
        f"({s.get('judged_series', view.series):,} judged), "
        f"**{plural(view.findings, 'finding')}**"
        + (f": {kinds}" if kinds else "")
        + f"; {plural(view.read_issues, 'read issue')}"
    )
    out = [f"## tbplateau report: {md(view.logdir, 300)}", "", counts + "\\"]
    if view.states:
        states = ", ".join(f"{n:,} {words}" for words, n in view.states)
        out.append(f"Series states: {md(states)}\\")
    worst = [r for r in view.runs if r.findings][:3]
    if worst and len(view.runs) > 1:
        out.append("Worst first: " + ", ".join(md(r.run, 80) for r in worst) + "\\")
    if view.has_curves:
        out.append(
            "Marks under a curve: P plateau, F flat line, D divergence, N non-finite, "
            "O overfitting, S oscillation."
        )
    else:
        out[-1] = out[-1].removesuffix("\\")
    out.append("")
    if view.sweep:
        out.extend(_sweep(view))
    for run in view.runs:
        out.extend(_run(run, show_all))
    return "\n".join(out).rstrip("\n") + "\n"
